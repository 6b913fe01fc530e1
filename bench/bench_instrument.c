/* bench/bench_instrument.c - what the instrumentation costs: yield_many and spawn_many (the
 * anchor's work, as in bench_yield.c and bench_spawn.c) with the sinks in each state.
 *
 * Rows (RESULT lines as the other groups print them):
 *   instr_yield_many_off    ns/yield   hooks compiled in, every sink off (the usual run)
 *   instr_yield_many_ring   ns/yield   the shared-memory ring sink on, nobody reading
 *   instr_spawn_many_off    ns/task
 *   instr_spawn_many_ring   ns/task
 * In a build with -Dinstrument=false the hooks are gone: the same group prints only the
 * `_none` rows (instr_yield_many_none, instr_spawn_many_none), the baseline of the two above.
 *
 * The two states alternate sample by sample in one process (INSTR_REPS of each, after a
 * warm-up of each) so that drift on a shared machine hits both alike; the summary on stderr
 * gives the medians and the ring's overhead over `off`. Each ring (INSTR_RING_MB per thread)
 * holds a whole sample, and after each sample the bench marks what the rings hold as consumed,
 * as a reader that keeps up would: so the `ring` rows measure writing every event into memory
 * that was touched before (no drops, no page faults), and nobody reads during the sample.
 * The last sample of each row is kept and read back, to report the events it wrote, the
 * average bytes per event and the drops.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

#if WEFT_INSTRUMENT
#include "../instrument/reader.h"
#include "../instrument/trace_int.h"
#endif

#define INSTR_REPS 11
#define INSTR_RING_MB 64
#define YIELD_TASKS 200
#define YIELD_PER_TASK 1000
#define SPAWN_N 100000

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
        bench_die("instr yield_many: handles", WEFT_ENOMEM);
    for (b->i = 0; b->i < YIELD_TASKS; b->i++) {
        yielder y = {0};
        weft_async_init(&y.co, &yielder_vt);
        b->hs[b->i] = weft_spawn(&y);
    }
    for (b->i = 0; b->i < YIELD_TASKS; b->i++) {
        WEFT_AWAIT(&b->co, cx, &b->hs[b->i]);
        if (b->hs[b->i].status)
            bench_die("instr yield_many: join", b->hs[b->i].status);
    }
    free(b->hs);
    b->hs = NULL;
    weft_task_return(cx, (intptr_t)(bench_now() - b->start));
    WEFT_ASYNC_END(&b->co);
}

static const weft_future_vtable yield_body_vt = {yield_body_poll, weft_async_drop, "yield_many"};

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
        bench_die("instr spawn_many: handles", WEFT_ENOMEM);
    for (b->i = 0; b->i < SPAWN_N; b->i++) {
        empty_fut e = {{&empty_vt}};
        b->hs[b->i] = weft_spawn(&e);
    }
    for (b->i = 0; b->i < SPAWN_N; b->i++) {
        WEFT_AWAIT(&b->co, cx, &b->hs[b->i]);
        if (b->hs[b->i].status)
            bench_die("instr spawn_many: join", b->hs[b->i].status);
    }
    free(b->hs);
    b->hs = NULL;
    weft_task_return(cx, (intptr_t)(bench_now() - b->start));
    WEFT_ASYNC_END(&b->co);
}

static const weft_future_vtable spawn_body_vt = {spawn_body_poll, weft_async_drop, "spawn_many"};

static double spawn_sample(const bench_env *env)
{
    spawn_body b = {0};
    weft_async_init(&b.co, &spawn_body_vt);
    return (double)bench_inside(env, &b.co.base, sizeof b) / SPAWN_N;
}

/* ---------------------------------------------------------------- rows */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(const double *s, int n)
{
    double v[INSTR_REPS];
    memcpy(v, s, (size_t)n * sizeof *v);
    qsort(v, (size_t)n, sizeof v[0], cmp_double);
    return v[n / 2];
}

static void emit(const char *row, const bench_env *env, const char *unit, const double *s)
{
    for (int i = 0; i < INSTR_REPS; i++)
        printf("RESULT weft %s %s %s %.3f\n", row, env->variant, unit, s[i]);
    fflush(stdout);
}

#if WEFT_INSTRUMENT

static bool ring_started;

/* Mark everything the rings hold as read (what a reader that keeps up does). */
static void consume_all(void)
{
    weft__seg_header *h = weft__trace_segment();
    weft__ring_ctl *rings = (weft__ring_ctl *)((uint8_t *)h + h->ring_table_off);
    for (unsigned i = 0; i < h->nrings; i++)
        atomic_store(&rings[i].tail, atomic_load(&rings[i].head));
}

static uint64_t ring_bytes(void)
{
    weft__seg_header *h = weft__trace_segment();
    weft__ring_ctl *rings = (weft__ring_ctl *)((uint8_t *)h + h->ring_table_off);
    uint64_t bytes = 0;
    for (unsigned i = 0; i < h->nrings; i++)
        bytes += atomic_load(&rings[i].head) - atomic_load(&rings[i].tail);
    return bytes;
}

static void ring_report(const bench_env *env, const char *name);

/* Off and ring, alternating; both emitted, the overhead summarised. */
static void measure(const bench_env *env, const char *name, const char *unit,
                    bench_sample_fn sample)
{
    double off[INSTR_REPS], ring[INSTR_REPS];
    weft__trace_ring_pause(true);
    (void)sample(env);
    weft__trace_ring_pause(false);
    (void)sample(env);
    (void)sample(env); /* every page of the rings touched once */
    for (int i = 0; i < INSTR_REPS; i++) {
        weft__trace_ring_pause(true);
        off[i] = sample(env);
        consume_all();
        weft__trace_ring_pause(false);
        ring[i] = sample(env);
    }
    weft__trace_ring_pause(true);
    char row[64];
    snprintf(row, sizeof row, "instr_%s_off", name);
    emit(row, env, unit, off);
    snprintf(row, sizeof row, "instr_%s_ring", name);
    emit(row, env, unit, ring);
    double mo = median(off, INSTR_REPS), mr = median(ring, INSTR_REPS);
    fprintf(stderr, "weft  instr %-11s %-3s off %9.2f  ring %9.2f %-8s ring/off %+6.1f%%\n",
            name, env->variant, mo, mr, unit, 100.0 * (mr - mo) / mo);
    ring_report(env, name);
}

/* Read the last sample back: events, bytes per event, drops. */
static void ring_report(const bench_env *env, const char *row)
{
    uint64_t bytes = ring_bytes();
    char name[64];
    snprintf(name, sizeof name, "/weft-bench-instr-%d", (int)getpid());
    weft_reader *r;
    if (weft_reader_open_shm(name, 0, &r) != 0) {
        fprintf(stderr, "weft-bench: %s\n", weft_reader_open_error());
        return;
    }
    uint64_t events = 0;
    weft_event ev;
    while (weft_reader_next(r, &ev) == 1)
        events++;
    weft_reader_info info;
    weft_reader_info_get(r, &info);
    weft_reader_close(r);
    fprintf(stderr,
            "weft  instr %-11s %-3s one sample: %llu events, %.1f bytes/event, %llu dropped\n",
            row, env->variant, (unsigned long long)events,
            events ? (double)bytes / events : 0.0, (unsigned long long)info.dropped);
    printf("RESULT weft instr_%s_bytes_per_event %s bytes %.3f\n", row, env->variant,
           events ? (double)bytes / events : 0.0);
    printf("RESULT weft instr_%s_dropped %s events %llu\n", row, env->variant,
           (unsigned long long)info.dropped);
}

void bench_instrument(const bench_env *env)
{
    if (!ring_started) {
        char name[64];
        snprintf(name, sizeof name, "/weft-bench-instr-%d", (int)getpid());
        weft__trace_config cfg = {8, (uint64_t)INSTR_RING_MB << 20, -1, name, false};
        int err = weft__trace_start(&cfg);
        if (err)
            bench_die("instr: starting the ring sink", err);
        ring_started = true;
    }
    measure(env, "yield_many", "ns/yield", yield_sample);
    measure(env, "spawn_many", "ns/task", spawn_sample);
}

#else /* -Dinstrument=false: the baseline */

static void measure_none(const bench_env *env, const char *name, const char *unit,
                         bench_sample_fn sample)
{
    double s[INSTR_REPS];
    (void)sample(env);
    (void)sample(env);
    for (int i = 0; i < INSTR_REPS; i++)
        s[i] = sample(env);
    char row[64];
    snprintf(row, sizeof row, "instr_%s_none", name);
    emit(row, env, unit, s);
    fprintf(stderr, "weft  instr %-11s %-3s none %9.2f %s\n", name, env->variant,
            median(s, INSTR_REPS), unit);
}

void bench_instrument(const bench_env *env)
{
    measure_none(env, "yield_many", "ns/yield", yield_sample);
    measure_none(env, "spawn_many", "ns/task", spawn_sample);
}

#endif
