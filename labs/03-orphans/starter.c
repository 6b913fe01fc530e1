/* Lab 03 - orphans.  (Edit this file; `weft lab check 03` grades it.)
 *
 * A price service answers each request by asking three backends at once and replying with
 * the first answer (a "hedged" request): fast replies even when one backend is slow.
 *
 *   handler    takes 12 requests, one after another. For each, it spawns three `query`
 *              tasks, waits for the first answer on a channel, replies, and goes on.
 *   query      waits for its backend (10 to 200 ms, weft_rand), writes the backend's answer
 *              into the shared quote cache, and sends it on the request's channel.
 *
 * In production the service's task count creeps up under load, and the quote cache holds
 * answers to requests that were answered long ago, sometimes overwriting newer ones. Find the
 * tasks that outlive their request, and make each request clean up after itself.
 *
 * Checks (printed at the end of every run):
 *   no-orphans       when a request is answered and cleaned up, none of its queries is alive
 *   no-late-writes   no query writes to the cache after its request was answered
 *   answers          every request is answered, by its fastest backend
 */
#include <string.h>

#include <lab.h>

#define REQUESTS 12
#define BACKENDS 3

/* ---------------------------------------------------------------- shared state */

static bool answered[REQUESTS];          /* the handler replied to request r */
static weft_duration latency[REQUESTS][BACKENDS]; /* drawn per run, from weft_rand */
static int reply[REQUESTS];              /* which backend's answer went out, -1 none */
static int late_writes;                  /* cache writes for requests already answered */
static int first_late_request = -1;
static int quote_cache[REQUESTS];        /* the backend whose answer was written last */

/* The quote cache: the last answer written for each request. */
static void cache_write(int request, int backend)
{
    quote_cache[request] = backend;
    if (answered[request]) {
        late_writes++;
        if (first_late_request < 0)
            first_late_request = request;
    }
}

/* ---------------------------------------------------------------- query */

typedef struct query {
    weft_async co;
    int request, backend;
    weft_mpsc_sender answers; /* the request's channel (a clone for this query) */
    bool alive;               /* counted in "queries-alive" */
    weft_sleep backend_call;
} query;

static weft_poll query_poll(weft_future *f, weft_context *cx)
{
    query *q = (query *)f;
    WEFT_ASYNC_BEGIN(&q->co);
    q->alive = true;
    lab_count("queries-alive", 1);
    weft_sleep_init(&q->backend_call, latency[q->request][q->backend]);
    WEFT_AWAIT(&q->co, cx, &q->backend_call);
    cache_write(q->request, q->backend);
    weft_mpsc_try_send(&q->answers, &q->backend); /* fails harmlessly if nobody listens */
    weft_mpsc_sender_drop(&q->answers);
    q->alive = false;
    lab_count("queries-alive", -1);
    WEFT_ASYNC_END(&q->co);
}

/* Cancellation (abort, or the runtime shutting down): the query stops where it waits. */
static void query_drop(weft_future *f)
{
    query *q = (query *)f;
    weft_async_drop(f);
    weft_mpsc_sender_drop(&q->answers);
    if (q->alive) {
        q->alive = false;
        lab_count("queries-alive", -1);
    }
}

static const weft_future_vtable query_vt = {query_poll, query_drop, "query"};

/* ---------------------------------------------------------------- handler */

typedef struct handler {
    weft_async co;
    int r;
    int worst_leftover, worst_request; /* most queries alive after a request was done */
    weft_mpsc_sender tx;
    weft_mpsc_receiver rx;
    weft_join_handle h[BACKENDS];
    int first; /* the backend that answered first */
    weft_mpsc_recv recv;
    weft_sleep pause;
} handler;

static weft_poll handler_poll(weft_future *f, weft_context *cx)
{
    handler *hd = (handler *)f;
    WEFT_ASYNC_BEGIN(&hd->co);
    for (hd->r = 0; hd->r < REQUESTS; hd->r++) {
        if (weft_mpsc_channel(&hd->tx, &hd->rx, BACKENDS, sizeof(int), "answers") != 0)
            break;
        for (int b = 0; b < BACKENDS; b++) {
            query q = {.request = hd->r, .backend = b};
            weft_async_init(&q.co, &query_vt);
            weft_mpsc_sender_clone(&hd->tx, &q.answers);
            hd->h[b] = weft_spawn_named("query", &q);
        }
        weft_mpsc_sender_drop(&hd->tx);

        weft_mpsc_recv_init(&hd->recv, &hd->rx, &hd->first);
        WEFT_AWAIT(&hd->co, cx, &hd->recv);
        answered[hd->r] = true;
        reply[hd->r] = hd->recv.status == 0 ? hd->first : -1;
        weft_mpsc_receiver_drop(&hd->rx);
        for (int b = 0; b < BACKENDS; b++)
            weft_join_handle_detach(&hd->h[b]);

        /* The request is done: none of its queries should be running any more. */
        lab_say("request %2d answered by backend %d; %lld queries running", hd->r,
                reply[hd->r], (long long)lab_counter("queries-alive"));
        if (lab_counter("queries-alive") > hd->worst_leftover) {
            hd->worst_leftover = (int)lab_counter("queries-alive");
            hd->worst_request = hd->r;
        }

        weft_sleep_init(&hd->pause, weft_ms(30)); /* the next request arrives */
        WEFT_AWAIT(&hd->co, cx, &hd->pause);
    }
    WEFT_ASYNC_END(&hd->co);
}

static void handler_drop(weft_future *f)
{
    handler *hd = (handler *)f;
    weft_async_drop(f);
    weft_mpsc_sender_drop(&hd->tx);
    weft_mpsc_receiver_drop(&hd->rx);
    for (int b = 0; b < BACKENDS; b++)
        weft_join_handle_detach(&hd->h[b]);
}

static const weft_future_vtable handler_vt = {handler_poll, handler_drop, "handler"};

/* ---------------------------------------------------------------- the checks */

static void judge(const handler *hd)
{
    lab_check("no-orphans", hd->worst_leftover == 0,
              "%d queries still running after request %d was done (peak of %lld alive at once)",
              hd->worst_leftover, hd->worst_request,
              (long long)lab_counter_peak("queries-alive"));
    lab_check("no-late-writes", late_writes == 0,
              "%d cache writes after their request was answered (the first for request %d)",
              late_writes, first_late_request);
    int right = 0, wrong_request = -1;
    for (int r = 0; r < REQUESTS; r++) {
        weft_duration best = latency[r][0];
        for (int b = 1; b < BACKENDS; b++)
            if (latency[r][b] < best)
                best = latency[r][b];
        if (answered[r] && reply[r] >= 0 && latency[r][reply[r]] == best)
            right++;
        else if (wrong_request < 0)
            wrong_request = r;
    }
    lab_check("answers", right == REQUESTS,
              "%d of %d requests answered by their fastest backend (first wrong: %d)", right,
              REQUESTS, wrong_request);
}

typedef struct service {
    weft_async co;
    handler state; /* the handler runs inside block_on's future, not as a task */
    weft_sleep linger;
} service;

static weft_poll service_poll(weft_future *f, weft_context *cx)
{
    service *s = (service *)f;
    WEFT_ASYNC_BEGIN(&s->co);
    WEFT_AWAIT(&s->co, cx, &s->state);
    /* The service stays up a little longer than any backend call takes, so that every task
     * has ended by itself when the runtime shuts down. */
    weft_sleep_init(&s->linger, weft_ms(250));
    WEFT_AWAIT(&s->co, cx, &s->linger);
    judge(&s->state);
    WEFT_ASYNC_END(&s->co);
}

/* weft_async_drop drops what the service awaits: the handler, whose drop cleans up. */
static const weft_future_vtable service_vt = {service_poll, weft_async_drop, "service"};

static int run(void *arg)
{
    (void)arg;
    lab_begin();
    weft_builder b = weft_builder_new_current_thread();
    b.enable_time = true;
    weft_runtime *rt;
    if (weft_runtime_new(&b, &rt) != 0)
        return 2;
    memset(answered, 0, sizeof answered);
    late_writes = 0;
    first_late_request = -1;
    for (int r = 0; r < REQUESTS; r++) {
        reply[r] = -1;
        for (int k = 0; k < BACKENDS; k++)
            latency[r][k] = weft_ms(10 + weft_rand_below(191));
    }
    service s;
    memset(&s, 0, sizeof s);
    weft_async_init(&s.co, &service_vt);
    weft_async_init(&s.state.co, &handler_vt);
    if (weft_block_on(rt, &s.co.base) != 0)
        weft_future_drop(&s.co.base); /* the run was stopped: cancel what main still holds */
    weft_runtime_shutdown(rt);
    return 0;
}

int main(int argc, char **argv)
{
    return lab_main(argc, argv, run);
}
