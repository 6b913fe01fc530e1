/* bench/bench_chain.c - chained_spawn: each task spawns the next, 100 000 deep.
 *
 * Same work as the anchor's (e): chain(n, done) sends on `done` when n is 0 and otherwise
 * spawns a task that calls chain(n - 1, done), dropping (detaching) its join handle. The body
 * calls chain(100 000, done) and awaits the completion. Only one task is alive at a time, so
 * this measures spawn + schedule + run + free in a tight sequence, with the LIFO slot (mt2)
 * or the local FIFO (ct) handing each new task to the same thread.
 *
 * The completion: Tokio uses a oneshot channel. Until weft's oneshot lands this file uses an
 * equivalent one-shot signal (a flag and a waker under a mutex), sent once per repetition.
 */
#include <pthread.h>
#include <stdbool.h>

#include "bench.h"

#define CHAIN_N 100000

/* ---------------------------------------------------------------- the completion signal */
typedef struct done_signal {
    pthread_mutex_t lock;
    bool sent;        /* guarded by lock */
    weft_waker waker; /* guarded by lock: the receiver's, while it waits */
} done_signal;

static void signal_send(done_signal *d)
{
    pthread_mutex_lock(&d->lock);
    d->sent = true;
    weft_waker w = d->waker;
    d->waker = WEFT_WAKER_NONE;
    pthread_mutex_unlock(&d->lock);
    weft_waker_wake(&w);
}

typedef struct signal_recv {
    weft_future base;
    done_signal *d;
} signal_recv;

static weft_poll signal_recv_poll(weft_future *f, weft_context *cx)
{
    done_signal *d = ((signal_recv *)f)->d;
    pthread_mutex_lock(&d->lock);
    bool sent = d->sent;
    if (!sent)
        weft_waker_register(&d->waker, cx);
    pthread_mutex_unlock(&d->lock);
    return sent ? WEFT_READY : WEFT_PENDING;
}

static void signal_recv_drop(weft_future *f)
{
    done_signal *d = ((signal_recv *)f)->d;
    pthread_mutex_lock(&d->lock);
    weft_waker_drop(&d->waker);
    pthread_mutex_unlock(&d->lock);
}

static const weft_future_vtable signal_recv_vt = {signal_recv_poll, signal_recv_drop, "done"};

/* ---------------------------------------------------------------- the chain */
typedef struct chain_task {
    weft_future base;
    size_t n;
    done_signal *done;
} chain_task;

static void chain(size_t n, done_signal *done);

static weft_poll chain_task_poll(weft_future *f, weft_context *cx)
{
    (void)cx;
    chain_task *t = (chain_task *)f;
    chain(t->n, t->done);
    return WEFT_READY;
}

static const weft_future_vtable chain_task_vt = {chain_task_poll, NULL, "chain"};

static void chain(size_t n, done_signal *done)
{
    if (n == 0) {
        signal_send(done);
    } else {
        chain_task t = {{&chain_task_vt}, n - 1, done};
        weft_join_handle h = weft_spawn(&t);
        if (h.status)
            bench_die("chained_spawn: spawn", h.status);
        weft_join_handle_detach(&h);
    }
}

typedef struct chain_body {
    weft_async co;
    uint64_t start;
    done_signal done;
    signal_recv rx;
} chain_body;

static weft_poll chain_body_poll(weft_future *f, weft_context *cx)
{
    chain_body *b = (chain_body *)f;
    WEFT_ASYNC_BEGIN(&b->co);
    b->start = bench_now();
    /* The signal lives in this (already pinned) state; the chain's tasks borrow it, and the
     * last of them sends before this body can finish. */
    pthread_mutex_init(&b->done.lock, NULL);
    b->done.sent = false;
    b->done.waker = WEFT_WAKER_NONE;
    b->rx = (signal_recv){{&signal_recv_vt}, &b->done};
    chain(CHAIN_N, &b->done);
    WEFT_AWAIT(&b->co, cx, &b->rx);
    pthread_mutex_destroy(&b->done.lock);
    weft_task_return(cx, (intptr_t)(bench_now() - b->start));
    WEFT_ASYNC_END(&b->co);
}

static const weft_future_vtable chain_body_vt = {chain_body_poll, weft_async_drop,
                                                 "chained_spawn"};

static double chained_spawn_sample(const bench_env *env)
{
    chain_body b = {0};
    weft_async_init(&b.co, &chain_body_vt);
    return (double)bench_inside(env, &b.co.base, sizeof b) / CHAIN_N;
}

void bench_chained_spawn(const bench_env *env)
{
    double s[BENCH_REPS];
    bench_repeat(env, chained_spawn_sample, s);
    bench_emit("chained_spawn", env, "ns/spawn", s);
}
