/* bench/bench_timers.c - timers_1ms_total and timers_1ms_over: many short sleeps at once.
 *
 * Same work as the anchor's (f): the body spawns 100 000 tasks that each sleep 1 ms, then
 * joins them in order. One set of repetitions gives two figures: the total time in ms, and the
 * time beyond the one millisecond every sleep must take, per timer, in ns. That second figure
 * is what the timer wheel, the spawns and the wake-ups cost.
 */
#include <stdlib.h>

#include "bench.h"

#define TIMER_N 100000

typedef struct sleeper {
    weft_async co;
    weft_sleep nap;
} sleeper;

static weft_poll sleeper_poll(weft_future *f, weft_context *cx)
{
    sleeper *t = (sleeper *)f;
    WEFT_ASYNC_BEGIN(&t->co);
    weft_sleep_init(&t->nap, weft_ms(1));
    WEFT_AWAIT(&t->co, cx, &t->nap);
    if (t->nap.status)
        weft_task_fail(cx, t->nap.status);
    WEFT_ASYNC_END(&t->co);
}

static const weft_future_vtable sleeper_vt = {sleeper_poll, weft_async_drop, "sleeper"};

typedef struct timers_body {
    weft_async co;
    uint64_t start;
    size_t i;
    weft_join_handle *hs;
} timers_body;

static weft_poll timers_body_poll(weft_future *f, weft_context *cx)
{
    timers_body *b = (timers_body *)f;
    WEFT_ASYNC_BEGIN(&b->co);
    b->start = bench_now();
    b->hs = malloc(TIMER_N * sizeof *b->hs);
    if (!b->hs)
        bench_die("timers_1ms: handles", WEFT_ENOMEM);
    for (b->i = 0; b->i < TIMER_N; b->i++) {
        sleeper s = {0};
        weft_async_init(&s.co, &sleeper_vt);
        b->hs[b->i] = weft_spawn(&s);
    }
    for (b->i = 0; b->i < TIMER_N; b->i++) {
        WEFT_AWAIT(&b->co, cx, &b->hs[b->i]);
        if (b->hs[b->i].status)
            bench_die("timers_1ms: join", b->hs[b->i].status);
    }
    free(b->hs);
    b->hs = NULL;
    weft_task_return(cx, (intptr_t)(bench_now() - b->start));
    WEFT_ASYNC_END(&b->co);
}

static const weft_future_vtable timers_body_vt = {timers_body_poll, weft_async_drop, "timers"};

static double timers_sample(const bench_env *env)
{
    timers_body b = {0};
    weft_async_init(&b.co, &timers_body_vt);
    return (double)bench_inside(env, &b.co.base, sizeof b);
}

void bench_timers_1ms(const bench_env *env)
{
    double ns[BENCH_REPS], total[BENCH_REPS], over[BENCH_REPS];
    bench_repeat(env, timers_sample, ns);
    for (int i = 0; i < BENCH_REPS; i++) {
        total[i] = ns[i] / 1e6;
        over[i] = (ns[i] - 1e6) / TIMER_N;
    }
    bench_emit("timers_1ms_total", env, "ms", total);
    bench_emit("timers_1ms_over", env, "ns/timer", over);
}
