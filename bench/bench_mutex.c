/* bench/bench_mutex.c - mutex_8x100k: an async mutex under contention.
 *
 * Same work as the anchor's (g): 8 tasks each lock the mutex 100 000 times and increment the
 * counter it guards. Timed from before the spawns until all 8 are joined; the counter is then
 * checked under the lock, outside the timed region. The figure is ns per lock. The mutex is
 * fair (FIFO hand-off to the oldest waiter), as Tokio's is, so on mt2 most locks are handed
 * from one worker's task to a task on the other worker.
 */
#include <stdio.h>
#include <stdlib.h>
#include <weft/mutex.h>

#include "bench.h"

#define MUTEX_TASKS 8
#define MUTEX_ITERS 100000

/* Tokio's Arc<Mutex<u64>>: lives in the body's state, which outlives the tasks. */
typedef struct counter {
    weft_mutex m;
    uint64_t value; /* guarded by m */
} counter;

typedef struct locker {
    weft_async co;
    counter *c;
    uint64_t i;
    weft_mutex_lock lk;
} locker;

static weft_poll locker_poll(weft_future *f, weft_context *cx)
{
    locker *t = (locker *)f;
    WEFT_ASYNC_BEGIN(&t->co);
    for (t->i = 0; t->i < MUTEX_ITERS; t->i++) {
        weft_mutex_lock_init(&t->lk, &t->c->m);
        WEFT_AWAIT(&t->co, cx, &t->lk);
        t->c->value++;
        weft_mutex_guard_release(&t->lk.guard);
    }
    WEFT_ASYNC_END(&t->co);
}

static const weft_future_vtable locker_vt = {locker_poll, weft_async_drop, "locker"};

typedef struct mutex_body {
    weft_async co;
    counter c;
    uint64_t start, elapsed;
    int k;
    weft_join_handle hs[MUTEX_TASKS];
    weft_mutex_lock check;
} mutex_body;

static weft_poll mutex_body_poll(weft_future *f, weft_context *cx)
{
    mutex_body *b = (mutex_body *)f;
    WEFT_ASYNC_BEGIN(&b->co);
    weft_mutex_init(&b->c.m, "counter");
    b->c.value = 0;
    b->start = bench_now();
    for (b->k = 0; b->k < MUTEX_TASKS; b->k++) {
        locker l = {.c = &b->c};
        weft_async_init(&l.co, &locker_vt);
        b->hs[b->k] = weft_spawn(&l);
    }
    for (b->k = 0; b->k < MUTEX_TASKS; b->k++) {
        WEFT_AWAIT(&b->co, cx, &b->hs[b->k]);
        if (b->hs[b->k].status)
            bench_die("mutex: join", b->hs[b->k].status);
    }
    b->elapsed = bench_now() - b->start;
    weft_mutex_lock_init(&b->check, &b->c.m);
    WEFT_AWAIT(&b->co, cx, &b->check);
    if (b->c.value != (uint64_t)MUTEX_TASKS * MUTEX_ITERS) {
        fprintf(stderr, "weft-bench: mutex: counter is %llu\n", (unsigned long long)b->c.value);
        exit(1);
    }
    weft_mutex_guard_release(&b->check.guard);
    if (weft_mutex_destroy(&b->c.m))
        bench_die("mutex: destroy", WEFT_EBUSY);
    weft_task_return(cx, (intptr_t)b->elapsed);
    WEFT_ASYNC_END(&b->co);
}

static const weft_future_vtable mutex_body_vt = {mutex_body_poll, weft_async_drop, "mutex"};

static double mutex_sample(const bench_env *env)
{
    mutex_body b = {0};
    weft_async_init(&b.co, &mutex_body_vt);
    return (double)bench_inside(env, &b.co.base, sizeof b) / (MUTEX_TASKS * MUTEX_ITERS);
}

void bench_mutex_8x100k(const bench_env *env)
{
    double s[BENCH_REPS];
    bench_repeat(env, mutex_sample, s);
    bench_emit("mutex_8x100k", env, "ns/lock", s);
}
