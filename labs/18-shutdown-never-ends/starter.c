/* Lab 18 - The shutdown that never ends (follows docs/book/graceful-shutdown.md).
 *
 * A job server runs four kinds of tasks:
 *
 *   worker    drains the `jobs` channel until every sender is gone, then exits
 *   clients   three of them, each queues five jobs and drops its sender
 *   watcher   handles cluster events (one a millisecond, 2 ms each) until shutdown
 *   flusher   flushes the server's counters to disk every 10 ms
 *
 * At 100 ms the server is told to stop (the "signal"). main cancels the shutdown token, drops
 * its sender so that the channel closes once the worker has drained it, and waits for the
 * tasks to finish. The operators say the server never exits after the signal: it has to be
 * killed, and the last counters are never flushed. Run it: `weft lab run 18`, then `weft lab
 * check 18`.
 *
 * Your job: after the signal, every queued job is still done, main returns within 20 ms of
 * the signal, and no task is left running when the runtime shuts down.
 */
#include <string.h>

#include <lab.h>

#define CLIENTS 3
#define JOBS_PER_CLIENT 5
#define SIGNAL_AT weft_ms(100)
#define SHUTDOWN_LIMIT weft_ms(20)

static weft_duration signal_at; /* when the signal came */
static weft_mpsc_receiver the_worker_jobs; /* for the operator's report only */

/* ---------------------------------------------------------------- worker */

typedef struct worker {
    weft_async co;
    weft_mpsc_receiver jobs;
    int job;
    weft_mpsc_recv recv;
    weft_sleep work;
} worker;

static weft_poll worker_poll(weft_future *f, weft_context *cx)
{
    worker *w = (worker *)f;
    WEFT_ASYNC_BEGIN(&w->co);
    for (;;) {
        weft_mpsc_recv_init(&w->recv, &w->jobs, &w->job);
        WEFT_AWAIT(&w->co, cx, &w->recv);
        if (w->recv.status != 0)
            break; /* closed and drained: every sender is gone */
        weft_sleep_init(&w->work, weft_ms(1));
        WEFT_AWAIT(&w->co, cx, &w->work);
        lab_count("jobs-done", 1);
    }
    lab_say("worker: channel closed, exiting");
    weft_mpsc_receiver_drop(&w->jobs);
    WEFT_ASYNC_END(&w->co);
}

static void worker_drop(weft_future *f)
{
    worker *w = (worker *)f;
    weft_async_drop(f);
    weft_mpsc_receiver_drop(&w->jobs);
}

static const weft_future_vtable worker_vt = {worker_poll, worker_drop, "worker"};

/* ---------------------------------------------------------------- clients */

typedef struct client {
    weft_async co;
    weft_mpsc_sender jobs;
    int i, job;
    weft_sleep gap;
    weft_mpsc_send send;
} client;

static weft_poll client_poll(weft_future *f, weft_context *cx)
{
    client *c = (client *)f;
    WEFT_ASYNC_BEGIN(&c->co);
    for (c->i = 0; c->i < JOBS_PER_CLIENT; c->i++) {
        weft_sleep_init(&c->gap, weft_ms(weft_rand_below(10)));
        WEFT_AWAIT(&c->co, cx, &c->gap);
        c->job = c->i;
        weft_mpsc_send_init(&c->send, &c->jobs, &c->job);
        WEFT_AWAIT(&c->co, cx, &c->send);
        lab_count("jobs-queued", 1);
    }
    weft_mpsc_sender_drop(&c->jobs);
    WEFT_ASYNC_END(&c->co);
}

static void client_drop(weft_future *f)
{
    client *c = (client *)f;
    weft_async_drop(f);
    weft_mpsc_sender_drop(&c->jobs);
}

static const weft_future_vtable client_vt = {client_poll, client_drop, "client"};

/* ---------------------------------------------------------------- watcher */

typedef struct watcher {
    weft_async co;
    weft_cancel_token *token;   /* a handle of its own */
    weft_interval events;       /* the cluster's event stream: one event a millisecond */
    weft_interval_tick event;
    weft_cancelled stop;
    weft_future *branches[2];
    weft_select sel;
    weft_sleep handle;
} watcher;

static weft_poll watcher_poll(weft_future *f, weft_context *cx)
{
    watcher *w = (watcher *)f;
    WEFT_ASYNC_BEGIN(&w->co);
    weft_interval_init(&w->events, weft_ms(1));
    for (;;) {
        /* Events first: they are urgent. */
        weft_interval_tick_init(&w->event, &w->events);
        weft_cancel_token_cancelled_init(&w->stop, w->token);
        w->branches[0] = &w->event.base;
        w->branches[1] = &w->stop.base;
        weft_select_biased_init(&w->sel, w->branches, 2);
        WEFT_AWAIT(&w->co, cx, &w->sel);
        if (w->sel.winner == 1)
            break;
        weft_sleep_init(&w->handle, weft_ms(2)); /* handle the event */
        WEFT_AWAIT(&w->co, cx, &w->handle);
    }
    lab_say("watcher: stopping");
    weft_cancel_token_drop(w->token);
    w->token = NULL;
    WEFT_ASYNC_END(&w->co);
}

static void watcher_drop(weft_future *f)
{
    watcher *w = (watcher *)f;
    weft_async_drop(f);
    weft_cancel_token_drop(w->token);
    w->token = NULL;
}

static const weft_future_vtable watcher_vt = {watcher_poll, watcher_drop, "watcher"};

/* ---------------------------------------------------------------- flusher */

typedef struct flusher {
    weft_async co;
    weft_sleep every;
} flusher;

static weft_poll flusher_poll(weft_future *f, weft_context *cx)
{
    flusher *l = (flusher *)f;
    WEFT_ASYNC_BEGIN(&l->co);
    for (;;) {
        weft_sleep_init(&l->every, weft_ms(10));
        WEFT_AWAIT(&l->co, cx, &l->every);
        lab_count("flushes", 1); /* write the counters to disk */
    }
    WEFT_ASYNC_END(&l->co);
}

static const weft_future_vtable flusher_vt = {flusher_poll, weft_async_drop, "flusher"};

/* ---------------------------------------------------------------- the operator's patience
 *
 * Not part of the server: it watches the shutdown from outside, the way an operator (or
 * systemd) waits a while after the signal before killing the process, and says what was
 * still running when patience ran out. main aborts it once it has returned. */
typedef struct server server;
static server *the_server;
static const char *still_running(char *buf, size_t size);

typedef struct operator_watch {
    weft_async co;
    weft_sleep patience;
} operator_watch;

static weft_poll operator_watch_poll(weft_future *f, weft_context *cx)
{
    operator_watch *o = (operator_watch *)f;
    WEFT_ASYNC_BEGIN(&o->co);
    weft_sleep_init(&o->patience, SIGNAL_AT + 10 * SHUTDOWN_LIMIT);
    WEFT_AWAIT(&o->co, cx, &o->patience);
    {
        char buf[300];
        lab_check("prompt-shutdown", false,
                  "%llu ms after the signal main is still waiting; still running: %s",
                  (unsigned long long)(10 * SHUTDOWN_LIMIT / 1000000u),
                  still_running(buf, sizeof buf));
    }
    WEFT_ASYNC_END(&o->co);
}

static const weft_future_vtable operator_watch_vt = {operator_watch_poll, weft_async_drop,
                                                     "operator_watch"};

/* ---------------------------------------------------------------- main */

static void judge(void)
{
    weft_duration took = lab_now() - signal_at;
    lab_check("all-jobs", lab_counter("jobs-done") == CLIENTS * JOBS_PER_CLIENT,
              "%lld of %d jobs done", (long long)lab_counter("jobs-done"),
              CLIENTS * JOBS_PER_CLIENT);
    lab_check("prompt-shutdown", took <= SHUTDOWN_LIMIT,
              "main returned %llu ms after the signal (limit %llu ms)",
              (unsigned long long)(took / 1000000u),
              (unsigned long long)(SHUTDOWN_LIMIT / 1000000u));
}

struct server {
    weft_async co;
    weft_join_handle operator_watch;
    weft_cancel_token *token;
    weft_mpsc_sender jobs;
    weft_mpsc_sender retry;      /* to re-queue a job that failed */
    weft_join_handle worker, watcher, clients[CLIENTS];
    int i;
    weft_sleep signal;
};

static const char *still_running(char *buf, size_t size)
{
    server *s = the_server;
    size_t n = 0;
    buf[0] = '\0';
    if (!weft_join_handle_is_finished(&s->worker))
        n += (size_t)snprintf(buf + n, size - n, "worker (the jobs channel has %zu senders) ",
                              weft_mpsc_receiver_sender_count(&the_worker_jobs));
    if (n < size && !weft_join_handle_is_finished(&s->watcher))
        n += (size_t)snprintf(buf + n, size - n, "watcher ");
    for (int i = 0; i < CLIENTS && n < size; i++)
        if (!weft_join_handle_is_finished(&s->clients[i]))
            n += (size_t)snprintf(buf + n, size - n, "client%d ", i + 1);
    return buf[0] ? buf : "nothing (main itself)";
}

static weft_poll server_poll(weft_future *f, weft_context *cx)
{
    server *s = (server *)f;
    WEFT_ASYNC_BEGIN(&s->co);
    weft_sleep_init(&s->signal, SIGNAL_AT);
    WEFT_AWAIT(&s->co, cx, &s->signal);
    signal_at = lab_now();
    lab_say("signal: shutting down");

    weft_cancel_token_cancel(s->token);
    weft_mpsc_sender_drop(&s->jobs); /* the channel closes once the clients are done too */
    for (s->i = 0; s->i < CLIENTS; s->i++)
        WEFT_AWAIT(&s->co, cx, &s->clients[s->i]);
    WEFT_AWAIT(&s->co, cx, &s->worker);
    WEFT_AWAIT(&s->co, cx, &s->watcher);
    lab_say("all tasks done");
    judge();
    weft_join_handle_abort(&s->operator_watch); /* not needed any more: stop it, see it end */
    WEFT_AWAIT(&s->co, cx, &s->operator_watch);
    weft_mpsc_sender_drop(&s->retry);
    WEFT_ASYNC_END(&s->co);
}

static void server_drop(weft_future *f)
{
    server *s = (server *)f;
    weft_async_drop(f);
    weft_mpsc_sender_drop(&s->jobs);
    weft_mpsc_sender_drop(&s->retry);
    weft_join_handle_abort(&s->operator_watch);
    weft_join_handle_detach(&s->operator_watch);
    weft_join_handle_detach(&s->worker);
    weft_join_handle_detach(&s->watcher);
    for (int i = 0; i < CLIENTS; i++)
        weft_join_handle_detach(&s->clients[i]);
}

static const weft_future_vtable server_vt = {server_poll, server_drop, "server"};

static int run(void *arg)
{
    (void)arg;
    lab_begin();
    signal_at = 0;
    weft_builder b = weft_builder_new_multi_thread();
    weft_runtime *rt;
    if (weft_runtime_new(&b, &rt) != 0)
        return 1;
    server s = {0};
    weft_async_init(&s.co, &server_vt);
    worker w = {0};
    weft_async_init(&w.co, &worker_vt);
    if (weft_cancel_token_new(&s.token, "shutdown") != 0 ||
        weft_mpsc_channel(&s.jobs, &w.jobs, 8, sizeof(int), "jobs") != 0 ||
        weft_mpsc_sender_clone(&s.jobs, &s.retry) != 0) {
        weft_runtime_shutdown(rt);
        return 1;
    }
    the_server = &s;
    the_worker_jobs = w.jobs; /* a copy of the handle, only to count its senders */
    s.worker = weft_runtime_spawn_named(rt, "worker", &w);
    for (int i = 0; i < CLIENTS; i++) {
        client c = {0};
        weft_async_init(&c.co, &client_vt);
        weft_mpsc_sender_clone(&s.jobs, &c.jobs);
        s.clients[i] = weft_runtime_spawn_named(rt, "client", &c);
    }
    watcher wa = {.token = weft_cancel_token_clone(s.token)};
    weft_async_init(&wa.co, &watcher_vt);
    s.watcher = weft_runtime_spawn_named(rt, "watcher", &wa);
    operator_watch ow;
    weft_async_init(&ow.co, &operator_watch_vt);
    s.operator_watch = weft_runtime_spawn_named(rt, "operator_watch", &ow);
    flusher fl;
    weft_async_init(&fl.co, &flusher_vt);
    weft_join_handle h = weft_runtime_spawn_named(rt, "flusher", &fl);
    weft_join_handle_detach(&h); /* it runs for as long as the server does */

    if (weft_block_on(rt, &s.co.base) != 0)
        weft_future_drop(&s.co.base);
    weft_runtime_shutdown(rt);
    weft_cancel_token_drop(s.token);
    return 0;
}

int main(int argc, char **argv)
{
    return lab_main(argc, argv, run);
}
