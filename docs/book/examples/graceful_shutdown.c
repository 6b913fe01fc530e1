/* docs/book/examples/graceful_shutdown.c - the sample of graceful-shutdown.md.
 * The page shows the lines between the sample markers; tests/book/test_book_sample.sh checks
 * page and file agree, then runs it (under WEFT_SCHED=fifo, see the page) and compares its
 * output with the page's. */
/* [begin sample] */
#include <stdio.h>
#include <weft/weft.h>

static weft_instant start;

static unsigned long ms_now(void)
{
    return (unsigned long)((weft_instant_now() - start) / weft_ms(1));
}

/* The acceptor: a new job every 10 ms until the token is cancelled; then it drops its
 * sender, which closes the queue once the worker has drained it. */
typedef struct acceptor {
    weft_async co;
    weft_cancel_token *token; /* one handle, dropped at the end */
    weft_mpsc_sender tx;
    int next_job;
    weft_cancelled stop;      /* branch 0 */
    weft_sleep pause;         /* branch 1 */
    weft_future *branches[2];
    weft_select sel;
} acceptor;

static weft_poll acceptor_poll(weft_future *f, weft_context *cx)
{
    acceptor *a = (acceptor *)f;
    WEFT_ASYNC_BEGIN(&a->co);
    for (a->next_job = 1;; a->next_job++) {
        weft_cancel_token_cancelled_init(&a->stop, a->token);
        weft_sleep_init(&a->pause, weft_ms(10));
        a->branches[0] = &a->stop.base;
        a->branches[1] = &a->pause.base;
        weft_select_biased_init(&a->sel, a->branches, 2); /* shutdown first */
        WEFT_AWAIT(&a->co, cx, &a->sel);
        if (a->sel.winner == 0)
            break;
        if (weft_mpsc_try_send(&a->tx, &a->next_job) == 0)
            printf("+%3lu ms  accepted job %d\n", ms_now(), a->next_job);
    }
    printf("+%3lu ms  acceptor: no new jobs\n", ms_now());
    weft_mpsc_sender_drop(&a->tx);
    weft_cancel_token_drop(a->token);
    WEFT_ASYNC_END(&a->co);
}

/* The worker: 25 ms per job, slower than jobs arrive; it finishes the queue, then reports. */
typedef struct worker {
    weft_async co;
    weft_mpsc_receiver rx;
    weft_oneshot_sender done;
    int job;
    weft_mpsc_recv recv;
    weft_sleep work;
} worker;

static weft_poll worker_poll(weft_future *f, weft_context *cx)
{
    worker *w = (worker *)f;
    WEFT_ASYNC_BEGIN(&w->co);
    for (;;) {
        weft_mpsc_recv_init(&w->recv, &w->rx, &w->job);
        WEFT_AWAIT(&w->co, cx, &w->recv);
        if (w->recv.status == WEFT_ECLOSED)
            break;
        weft_sleep_init(&w->work, weft_ms(25));
        WEFT_AWAIT(&w->co, cx, &w->work);
        printf("+%3lu ms  finished job %d\n", ms_now(), w->job);
    }
    printf("+%3lu ms  worker: queue drained\n", ms_now());
    weft_mpsc_receiver_drop(&w->rx);
    weft_oneshot_send(&w->done, NULL);
    WEFT_ASYNC_END(&w->co);
}

static void worker_drop(weft_future *f)
{
    worker *w = (worker *)f;
    printf("+%3lu ms  worker: aborted with job %d unfinished\n", ms_now(), w->job);
    weft_mpsc_receiver_drop(&w->rx);
    weft_oneshot_sender_drop(&w->done);
    weft_async_drop(f);
}

static const weft_future_vtable acceptor_vt = {acceptor_poll, weft_async_drop, "acceptor"};
static const weft_future_vtable worker_vt = {worker_poll, worker_drop, "worker"};

typedef struct root {
    weft_async co;
    weft_duration grace;      /* how long the drain may take */
    weft_cancel_token *token;
    weft_join_handle acceptor, worker;
    weft_oneshot_receiver done;
    weft_oneshot_recv done_recv;
    weft_sleep uptime;
    weft_timeout drain;
} root;

static weft_poll root_poll(weft_future *f, weft_context *cx)
{
    root *r = (root *)f;
    WEFT_ASYNC_BEGIN(&r->co);
    start = weft_instant_now();
    {
        acceptor a = {.token = weft_cancel_token_clone(r->token)};
        worker w = {0};
        if (weft_mpsc_channel(&a.tx, &w.rx, 8, sizeof(int), "jobs") < 0 ||
            weft_oneshot_channel(&w.done, &r->done, 0, "drained") < 0)
            WEFT_ASYNC_RETURN(&r->co);
        weft_async_init(&a.co, &acceptor_vt);
        weft_async_init(&w.co, &worker_vt);
        r->acceptor = weft_spawn(&a);
        r->worker = weft_spawn(&w);
    }
    weft_sleep_init(&r->uptime, weft_ms(33)); /* the service runs; then a SIGTERM, say */
    WEFT_AWAIT(&r->co, cx, &r->uptime);

    printf("+%3lu ms  shutdown: stop accepting, drain for at most %lu ms\n", ms_now(),
           (unsigned long)(r->grace / weft_ms(1)));
    weft_cancel_token_cancel(r->token);
    WEFT_AWAIT(&r->co, cx, &r->acceptor);
    /* Wait for the "drained" signal, not for the handle: on a timeout only the receive is
     * dropped, and the handle is still ours to abort the worker with. */
    weft_oneshot_recv_init(&r->done_recv, &r->done, NULL);
    weft_timeout_init(&r->drain, r->grace, &r->done_recv.base);
    WEFT_AWAIT(&r->co, cx, &r->drain);
    if (r->drain.status == WEFT_EELAPSED)
        weft_join_handle_abort(&r->worker);
    WEFT_AWAIT(&r->co, cx, &r->worker);
    printf("+%3lu ms  shutdown complete: worker %s\n", ms_now(),
           r->worker.status == WEFT_ECANCELLED ? "aborted" : "finished");
    weft_oneshot_receiver_drop(&r->done);
    WEFT_ASYNC_END(&r->co);
}

static const weft_future_vtable root_vt = {root_poll, weft_async_drop, "root"};

static int run(weft_runtime *rt, weft_duration grace)
{
    root r = {.grace = grace};
    if (weft_cancel_token_new(&r.token, "shutdown") < 0)
        return 1;
    weft_async_init(&r.co, &root_vt);
    int err = weft_block_on(rt, &r.co.base);
    weft_cancel_token_drop(r.token);
    return err < 0;
}

int main(void)
{
    weft_builder b = weft_builder_new_current_thread();
    b.enable_time = true;
    weft_runtime *rt;
    if (weft_runtime_new(&b, &rt) < 0)
        return 1;
    printf("-- a generous grace period\n");
    int failed = run(rt, weft_ms(200));
    printf("-- a grace period too short for the queue\n");
    failed = failed || run(rt, weft_ms(30));
    weft_runtime_shutdown(rt);
    return failed;
}
/* [end sample] */
