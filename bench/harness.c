/* bench/harness.c - repetitions, output and Tokio's inside() for weft-bench.
 *
 * Everything here is outside the timed regions: the bodies read the clock themselves, from
 * inside the runtime, exactly where the Tokio anchor's bodies call Instant::now().
 */
#include <stdio.h>
#include <stdlib.h>

#include "bench.h"

void bench_die(const char *what, int err)
{
    fprintf(stderr, "weft-bench: %s: %s\n", what, err ? weft_strerror(err) : "failed");
    exit(1);
}

void bench_repeat(const bench_env *env, bench_sample_fn sample, double *out)
{
    (void)sample(env); /* warm-up: first-touch page faults, the timer wheel, the queues */
    for (int i = 0; i < BENCH_REPS; i++)
        out[i] = sample(env);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

void bench_emit(const char *bench, const bench_env *env, const char *unit,
                const double *samples)
{
    for (int i = 0; i < BENCH_REPS; i++)
        printf("RESULT weft %s %s %s %.3f\n", bench, env->variant, unit, samples[i]);
    fflush(stdout);
    double v[BENCH_REPS];
    for (int i = 0; i < BENCH_REPS; i++)
        v[i] = samples[i];
    qsort(v, BENCH_REPS, sizeof v[0], cmp_double);
    fprintf(stderr, "weft  %-20s %-3s median %14.3f min %14.3f max %14.3f %s\n", bench,
            env->variant, v[BENCH_REPS / 2], v[0], v[BENCH_REPS - 1], unit);
}

/* ---------------------------------------------------------------- inside()
 *
 *     rt.block_on(async move { tokio::spawn(fut).await.unwrap() })
 */
typedef struct inside_root {
    weft_async co;
    const weft_future *body; /* copied into the task at spawn */
    size_t size;
    weft_join_handle h;
} inside_root;

static weft_poll inside_root_poll(weft_future *f, weft_context *cx)
{
    inside_root *r = (inside_root *)f;
    WEFT_ASYNC_BEGIN(&r->co);
    r->h = weft__spawn(NULL, r->body, r->size, "bench_body", WEFT_HERE);
    WEFT_AWAIT(&r->co, cx, &r->h);
    WEFT_ASYNC_END(&r->co);
}

static const weft_future_vtable inside_root_vt = {inside_root_poll, weft_async_drop, "inside"};

intptr_t bench_inside(const bench_env *env, const weft_future *body, size_t size)
{
    inside_root r = {.body = body, .size = size};
    weft_async_init(&r.co, &inside_root_vt);
    int err = weft_block_on(env->rt, &r.co.base);
    if (err)
        bench_die("block_on", err);
    if (r.h.status)
        bench_die("the benchmark's body task", r.h.status);
    return r.h.value;
}

void bench_block_on(const bench_env *env, weft_future *fut)
{
    int err = weft_block_on(env->rt, fut);
    if (err)
        bench_die("block_on", err);
}
