/* bench/bench_metrics.c - what the metrics of weft/metrics.h cost.
 *
 * The runtime metrics are always on (per-worker counters bumped with plain adds); their cost
 * is what yield_many and spawn_many pay with them, compared with a build from before they
 * existed (bench/README.md keeps the before/after table). This group measures the rest:
 *
 *   metrics_sample               ns/call   one weft_runtime_metrics_get while the runtime
 *                                          runs (every worker's counters, the queues, the
 *                                          blocking pool)
 *   metrics_yield_many_plain     ns/yield  yield_many (200 tasks x 1 000 yields)
 *   metrics_yield_many_monitored ns/yield  the same tasks spawned through a weft_task_monitor
 *   metrics_spawn_many_plain     ns/task   spawn_many (100 000 empty tasks, joined)
 *   metrics_spawn_many_monitored ns/task   the same through a weft_task_monitor
 *
 * Plain and monitored alternate sample by sample so that drift on a shared machine hits both
 * alike; the stderr summary gives the monitor's overhead per yield and per task.
 */
#include <stdio.h>
#include <stdlib.h>

#include <weft/metrics.h>

#include "bench.h"

#define YIELD_TASKS 200
#define YIELD_PER_TASK 1000
#define SPAWN_N 100000
#define SAMPLE_CALLS 100000

/* NULL: spawn plainly; else through this monitor. Set between samples only. */
static weft_task_monitor *monitor;

static weft_join_handle spawn_maybe_monitored(weft_future *f, size_t size)
{
    if (monitor)
        return weft__task_monitor_spawn(monitor, NULL, f, size, NULL, WEFT_HERE);
    return weft__spawn(NULL, f, size, NULL, WEFT_HERE);
}

/* ---------------------------------------------------------------- yield_many */
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
    weft_join_handle *hs;
} yield_body;

static weft_poll yield_body_poll(weft_future *f, weft_context *cx)
{
    yield_body *b = (yield_body *)f;
    WEFT_ASYNC_BEGIN(&b->co);
    b->start = bench_now();
    b->hs = malloc(YIELD_TASKS * sizeof *b->hs);
    if (!b->hs)
        bench_die("metrics yield_many: handles", WEFT_ENOMEM);
    for (b->i = 0; b->i < YIELD_TASKS; b->i++) {
        yielder y = {0};
        weft_async_init(&y.co, &yielder_vt);
        b->hs[b->i] = spawn_maybe_monitored(&y.co.base, sizeof y);
    }
    for (b->i = 0; b->i < YIELD_TASKS; b->i++) {
        WEFT_AWAIT(&b->co, cx, &b->hs[b->i]);
        if (b->hs[b->i].status)
            bench_die("metrics yield_many: join", b->hs[b->i].status);
    }
    free(b->hs);
    b->hs = NULL;
    weft_task_return(cx, (intptr_t)(bench_now() - b->start));
    WEFT_ASYNC_END(&b->co);
}

static const weft_future_vtable yield_body_vt = {yield_body_poll, weft_async_drop,
                                                 "metrics_yield_many"};

static double yield_sample(const bench_env *env)
{
    yield_body b = {0};
    weft_async_init(&b.co, &yield_body_vt);
    return (double)bench_inside(env, &b.co.base, sizeof b) / (YIELD_TASKS * YIELD_PER_TASK);
}

/* ---------------------------------------------------------------- spawn_many */
typedef struct empty_fut {
    weft_future base;
} empty_fut;

static weft_poll empty_poll(weft_future *f, weft_context *cx)
{
    (void)f;
    (void)cx;
    return WEFT_READY;
}

static const weft_future_vtable empty_vt = {empty_poll, NULL, "empty"};

typedef struct spawn_body {
    weft_async co;
    uint64_t start;
    size_t i;
    weft_join_handle *hs;
} spawn_body;

static weft_poll spawn_body_poll(weft_future *f, weft_context *cx)
{
    spawn_body *b = (spawn_body *)f;
    WEFT_ASYNC_BEGIN(&b->co);
    b->start = bench_now();
    b->hs = malloc(SPAWN_N * sizeof *b->hs);
    if (!b->hs)
        bench_die("metrics spawn_many: handles", WEFT_ENOMEM);
    for (b->i = 0; b->i < SPAWN_N; b->i++) {
        empty_fut e = {{&empty_vt}};
        b->hs[b->i] = spawn_maybe_monitored(&e.base, sizeof e);
    }
    for (b->i = 0; b->i < SPAWN_N; b->i++) {
        WEFT_AWAIT(&b->co, cx, &b->hs[b->i]);
        if (b->hs[b->i].status)
            bench_die("metrics spawn_many: join", b->hs[b->i].status);
    }
    free(b->hs);
    b->hs = NULL;
    weft_task_return(cx, (intptr_t)(bench_now() - b->start));
    WEFT_ASYNC_END(&b->co);
}

static const weft_future_vtable spawn_body_vt = {spawn_body_poll, weft_async_drop,
                                                 "metrics_spawn_many"};

static double spawn_sample(const bench_env *env)
{
    spawn_body b = {0};
    weft_async_init(&b.co, &spawn_body_vt);
    return (double)bench_inside(env, &b.co.base, sizeof b) / SPAWN_N;
}

/* ---------------------------------------------------------------- sampling */
static double sample_sample(const bench_env *env)
{
    weft_runtime_metrics m;
    uint64_t start = bench_now(), sink = 0;
    for (int i = 0; i < SAMPLE_CALLS; i++) {
        weft_runtime_metrics_get(env->rt, &m);
        sink += m.polls;
    }
    uint64_t took = bench_now() - start;
    if (sink == UINT64_MAX)
        puts(""); /* keeps the loop from being optimised away */
    return (double)took / SAMPLE_CALLS;
}

/* ---------------------------------------------------------------- the group */
static double median(double *v)
{
    for (int i = 1; i < BENCH_REPS; i++)
        for (int j = i; j > 0 && v[j] < v[j - 1]; j--) {
            double t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    return v[BENCH_REPS / 2];
}

/* Plain and monitored samples of `fn`, alternating, after one warm-up of each. */
static void paired(const bench_env *env, bench_sample_fn fn, const char *plain_row,
                   const char *monitored_row, const char *unit)
{
    weft_task_monitor mon;
    weft_task_monitor_init(&mon, WEFT_SLOW_POLL_NS_DEFAULT, WEFT_LONG_DELAY_NS_DEFAULT);
    double plain[BENCH_REPS], mond[BENCH_REPS];
    monitor = NULL;
    (void)fn(env);
    monitor = &mon;
    (void)fn(env);
    for (int i = 0; i < BENCH_REPS; i++) {
        monitor = NULL;
        plain[i] = fn(env);
        monitor = &mon;
        mond[i] = fn(env);
    }
    monitor = NULL;
    bench_emit(plain_row, env, unit, plain);
    bench_emit(monitored_row, env, unit, mond);
    weft_task_metrics tm;
    weft_task_monitor_get(&mon, &tm);
    double p = median(plain), m = median(mond);
    fprintf(stderr, "      monitor overhead %+.1f %s (%+.0f%%); it saw %llu tasks, %llu polls, "
                    "mean poll %.0f ns\n",
            m - p, unit, p > 0 ? (m - p) / p * 100 : 0, (unsigned long long)tm.instrumented_count,
            (unsigned long long)tm.total_poll_count, weft_task_metrics_mean_poll_ns(&tm));
}

void bench_metrics(const bench_env *env)
{
    double s[BENCH_REPS];
    bench_repeat(env, sample_sample, s);
    bench_emit("metrics_sample", env, "ns/call", s);
    paired(env, yield_sample, "metrics_yield_many_plain", "metrics_yield_many_monitored",
           "ns/yield");
    paired(env, spawn_sample, "metrics_spawn_many_plain", "metrics_spawn_many_monitored",
           "ns/task");
}
