/* bench/bench_spawn.c - spawn_many and spawn_many_remote: the cost of spawning, running and
 * joining a task that does nothing.
 *
 * Same work as the anchor's (a): 100 000 spawns of `async {}` whose join handles go into an
 * array sized up front (Tokio's Vec::with_capacity), then every handle awaited in order. The
 * clock is read inside the body, around both loops and the array's allocation.
 *
 *   spawn_many         the body is a task on the runtime (Tokio's inside()): on mt2 the
 *                      spawns come from a worker, so they land in its local queue;
 *   spawn_many_remote  mt2 only: the body is block_on's own future, on a thread that is not a
 *                      worker, so every spawn goes through the injection queue and every join
 *                      wakes a thread outside the runtime.
 */
#include <stdlib.h>

#include "bench.h"

#define SPAWN_N 100000

/* `async {}`: ready at its first poll. */
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
    weft_join_handle *hs; /* SPAWN_N handles, allocated inside the timed region */
    uint64_t elapsed;     /* result: nanoseconds, also passed to weft_task_return */
} spawn_body;

static weft_poll spawn_body_poll(weft_future *f, weft_context *cx)
{
    spawn_body *b = (spawn_body *)f;
    WEFT_ASYNC_BEGIN(&b->co);
    b->start = bench_now();
    b->hs = malloc(SPAWN_N * sizeof *b->hs);
    if (!b->hs)
        bench_die("spawn_many: handles", WEFT_ENOMEM);
    for (b->i = 0; b->i < SPAWN_N; b->i++) {
        empty_fut e = {{&empty_vt}};
        b->hs[b->i] = weft_spawn(&e);
    }
    for (b->i = 0; b->i < SPAWN_N; b->i++) {
        WEFT_AWAIT(&b->co, cx, &b->hs[b->i]);
        if (b->hs[b->i].status)
            bench_die("spawn_many: join", b->hs[b->i].status);
    }
    free(b->hs);
    b->hs = NULL;
    b->elapsed = bench_now() - b->start;
    weft_task_return(cx, (intptr_t)b->elapsed);
    WEFT_ASYNC_END(&b->co);
}

static const weft_future_vtable spawn_body_vt = {spawn_body_poll, weft_async_drop, "spawn_many"};

static spawn_body make_body(void)
{
    spawn_body b = {0};
    weft_async_init(&b.co, &spawn_body_vt);
    return b;
}

static double spawn_many_sample(const bench_env *env)
{
    spawn_body b = make_body();
    return (double)bench_inside(env, &b.co.base, sizeof b) / SPAWN_N;
}

static double spawn_many_remote_sample(const bench_env *env)
{
    spawn_body b = make_body();
    bench_block_on(env, &b.co.base);
    return (double)b.elapsed / SPAWN_N;
}

void bench_spawn_many(const bench_env *env)
{
    double s[BENCH_REPS];
    bench_repeat(env, spawn_many_sample, s);
    bench_emit("spawn_many", env, "ns/task", s);
    if (env->flavor == WEFT_MULTI_THREAD) {
        bench_repeat(env, spawn_many_remote_sample, s);
        bench_emit("spawn_many_remote", env, "ns/task", s);
    }
}
