/* Lab 07 - Guard across await: the reference solution.
 *
 * The fix: the handler held the blocking `stats` guard across the audit write's await. When
 * the audit write returned PENDING, the worker thread went on to the next handler, whose
 * weft_blocking_mutex_lock blocked the thread itself: the only thread that could ever resume
 * the holder. Now the handler takes its request number under the lock, unlocks, awaits the
 * audit write with no lock held, and locks again (briefly, without awaiting) to count the
 * record. The number travels in the handler's own state, so each record still carries the
 * number its request was counted as. (Switching `stats_lock` to the async weft_mutex also
 * passes; it is the right tool when the guard really must live across an await.)
 * (Everything below the line is starter.c with that change.)
 * ------------------------------------------------------------------------------------------
 *
 * A small web service counts its requests in a shared `stats` struct. The critical section is
 * a few instructions, so the author chose a *blocking* mutex (weft_blocking_mutex, the
 * counterpart of Rust's std::sync::Mutex) rather than the async weft_mutex: it is cheaper,
 * and the book says that is fine "for short critical sections that never await".
 *
 * Then a compliance requirement arrived: every request must be written to the audit log, and
 * the audit record must carry the request number taken from `stats`. The audit log is
 * asynchronous (it awaits the log device). Run it: `weft lab run 07`, then `weft lab check 07`.
 *
 * Your job: make every request get served and audited, on a runtime with ONE worker thread,
 * whatever order the requests arrive in. Keep the audit write asynchronous and keep one audit
 * record per request, numbered in the order the requests were counted.
 */
#include <string.h>

#include <lab.h>

#define REQUESTS 10

/* ---------------------------------------------------------------- shared state */

typedef struct stats {
    int requests;     /* requests counted so far */
    int audited;      /* audit records written */
} stats;

static weft_blocking_mutex stats_lock; /* guards `app_stats` */
static stats app_stats;
static int audit_seen[REQUESTS + 1];   /* records written per request number */

/* ---------------------------------------------------------------- the audit log
 *
 * audit_append: an async function that writes one record. The log device takes `cost` of
 * virtual time per record (given by the caller: it depends on the record). */
typedef struct audit_append {
    weft_async co;
    int seq;              /* the request number the record carries */
    weft_duration cost;
    weft_sleep device;    /* the device write */
} audit_append;

static weft_poll audit_append_poll(weft_future *f, weft_context *cx)
{
    audit_append *a = (audit_append *)f;
    WEFT_ASYNC_BEGIN(&a->co);
    weft_sleep_init(&a->device, a->cost);
    WEFT_AWAIT(&a->co, cx, &a->device);
    lab_count("audit-records", 1);
    if (a->seq >= 1 && a->seq <= REQUESTS)
        audit_seen[a->seq]++;
    WEFT_ASYNC_END(&a->co);
}

static const weft_future_vtable audit_append_vt = {audit_append_poll, weft_async_drop,
                                                   "audit_append"};

static void audit_append_init(audit_append *a, int seq, weft_duration cost)
{
    weft_async_init(&a->co, &audit_append_vt);
    a->seq = seq;
    a->cost = cost;
}

/* ---------------------------------------------------------------- a request handler */

typedef struct handler {
    weft_async co;
    int client;
    weft_duration arrives;   /* when the request comes in */
    weft_duration log_cost;  /* how long its audit record takes to write */
    weft_sleep wait;
    audit_append audit;
    int seq;                 /* our request number, taken under the lock */
    bool locked;             /* we hold stats_lock (for the drop): never across an await */
} handler;

static weft_poll handler_poll(weft_future *f, weft_context *cx)
{
    handler *h = (handler *)f;
    WEFT_ASYNC_BEGIN(&h->co);
    weft_sleep_init(&h->wait, h->arrives);
    WEFT_AWAIT(&h->co, cx, &h->wait);
    lab_say("client %d: request arrives", h->client);

    /* Take the number under the lock and let go of it before awaiting: a blocking guard
     * must never live across an await. */
    weft_blocking_mutex_lock(&stats_lock);
    app_stats.requests++;
    h->seq = app_stats.requests;
    weft_blocking_mutex_unlock(&stats_lock);

    audit_append_init(&h->audit, h->seq, h->log_cost);
    WEFT_AWAIT(&h->co, cx, &h->audit);

    weft_blocking_mutex_lock(&stats_lock);
    app_stats.audited++;
    weft_blocking_mutex_unlock(&stats_lock);
    lab_count("served", 1);
    lab_say("client %d: served", h->client);
    WEFT_ASYNC_END(&h->co);
}

static void handler_drop(weft_future *f)
{
    handler *h = (handler *)f;
    weft_async_drop(f);
    if (h->locked)
        weft_blocking_mutex_unlock(&stats_lock);
    h->locked = false;
}

static const weft_future_vtable handler_vt = {handler_poll, handler_drop, "handler"};

/* The verdict, judged inside the runtime once every handler is done. */
static void judge(void)
{
    lab_check("all-served", lab_counter("served") == REQUESTS, "%lld of %d requests served",
              (long long)lab_counter("served"), REQUESTS);
    lab_check("all-audited",
              lab_counter("audit-records") == REQUESTS && app_stats.audited == REQUESTS,
              "%lld audit records written, %d counted, for %d requests",
              (long long)lab_counter("audit-records"), app_stats.audited, REQUESTS);
    int numbered = 0;
    for (int i = 1; i <= REQUESTS; i++)
        numbered += audit_seen[i] == 1;
    lab_check("audit-numbers", numbered == REQUESTS,
              "%d of request numbers 1..%d have exactly one audit record", numbered, REQUESTS);
}

/* ---------------------------------------------------------------- main: the server */

typedef struct server {
    weft_async co;
    weft_join_set *set;
    weft_join_next next;
} server;

static weft_poll server_poll(weft_future *f, weft_context *cx)
{
    server *s = (server *)f;
    WEFT_ASYNC_BEGIN(&s->co);
    for (int i = 0; i < REQUESTS; i++) {
        handler h = {.client = i + 1,
                     .arrives = weft_ms(weft_rand_below(30)),
                     .log_cost = weft_ms(1 + weft_rand_below(3))};
        weft_async_init(&h.co, &handler_vt);
        weft_join_set_spawn_named(s->set, "handler", &h);
    }
    for (;;) {
        weft_join_set_join_next_init(&s->next, s->set);
        WEFT_AWAIT(&s->co, cx, &s->next);
        if (s->next.status == WEFT_EEMPTY)
            break;
    }
    judge();
    WEFT_ASYNC_END(&s->co);
}

static const weft_future_vtable server_vt = {server_poll, weft_async_drop, "server"};

static int run(void *arg)
{
    (void)arg;
    lab_begin();
    memset(&app_stats, 0, sizeof app_stats);
    memset(audit_seen, 0, sizeof audit_seen);
    weft_blocking_mutex_init(&stats_lock, "stats");

    weft_builder b = weft_builder_new_multi_thread();
    b.worker_threads = 1; /* a small container: one core */
    weft_runtime *rt;
    if (weft_runtime_new(&b, &rt) != 0)
        return 1;
    server s;
    weft_async_init(&s.co, &server_vt);
    if (weft_join_set_new(&s.set) != 0) {
        weft_runtime_shutdown(rt);
        return 1;
    }
    int rc = weft_block_on(rt, &s.co.base);
    if (rc != 0)
        weft_future_drop(&s.co.base);
    weft_join_set_free(s.set); /* aborts handlers still running */
    weft_runtime_shutdown(rt);
    while (weft_blocking_mutex_is_locked(&stats_lock))
        weft_blocking_mutex_unlock(&stats_lock);
    weft_blocking_mutex_destroy(&stats_lock);

    return 0;
}

int main(int argc, char **argv)
{
    return lab_main(argc, argv, run);
}
