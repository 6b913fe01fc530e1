/* bench/bench_yield.c - yield_many: the cost of one trip through the run queue.
 *
 * Same work as the anchor's (b): 200 tasks, each awaiting yield_now 1 000 times, all spawned
 * by the body (inside the runtime) and then joined in order. The sample is the body's elapsed
 * time divided by the 200 000 yields.
 */
#include <stdlib.h>

#include "bench.h"

#define YIELD_TASKS 200
#define YIELD_PER_TASK 1000

typedef struct yielder {
    weft_async co;
    int i;
    weft_yield_now y;
} yielder;

static weft_poll yielder_poll(weft_future *f, weft_context *cx)
{
    yielder *t = (yielder *)f;
    WEFT_ASYNC_BEGIN(&t->co);
    for (t->i = 0; t->i < YIELD_PER_TASK; t->i++) {
        weft_yield_now_init(&t->y);
        WEFT_AWAIT(&t->co, cx, &t->y);
    }
    WEFT_ASYNC_END(&t->co);
}

static const weft_future_vtable yielder_vt = {yielder_poll, weft_async_drop, "yielder"};

typedef struct yield_body {
    weft_async co;
    uint64_t start;
    int i;
    weft_join_handle *hs; /* YIELD_TASKS handles (Tokio collects them into a Vec) */
} yield_body;

static weft_poll yield_body_poll(weft_future *f, weft_context *cx)
{
    yield_body *b = (yield_body *)f;
    WEFT_ASYNC_BEGIN(&b->co);
    b->start = bench_now();
    b->hs = malloc(YIELD_TASKS * sizeof *b->hs);
    if (!b->hs)
        bench_die("yield_many: handles", WEFT_ENOMEM);
    for (b->i = 0; b->i < YIELD_TASKS; b->i++) {
        yielder y = {0};
        weft_async_init(&y.co, &yielder_vt);
        b->hs[b->i] = weft_spawn(&y);
    }
    for (b->i = 0; b->i < YIELD_TASKS; b->i++) {
        WEFT_AWAIT(&b->co, cx, &b->hs[b->i]);
        if (b->hs[b->i].status)
            bench_die("yield_many: join", b->hs[b->i].status);
    }
    free(b->hs);
    b->hs = NULL;
    weft_task_return(cx, (intptr_t)(bench_now() - b->start));
    WEFT_ASYNC_END(&b->co);
}

static const weft_future_vtable yield_body_vt = {yield_body_poll, weft_async_drop, "yield_many"};

static double yield_many_sample(const bench_env *env)
{
    yield_body b = {0};
    weft_async_init(&b.co, &yield_body_vt);
    return (double)bench_inside(env, &b.co.base, sizeof b) / (YIELD_TASKS * YIELD_PER_TASK);
}

void bench_yield_many(const bench_env *env)
{
    double s[BENCH_REPS];
    bench_repeat(env, yield_many_sample, s);
    bench_emit("yield_many", env, "ns/yield", s);
}
