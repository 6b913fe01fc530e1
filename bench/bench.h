/* bench/bench.h - what the files of weft-bench share.
 *
 * weft-bench does the same work as the Tokio anchor (tokio_bench/src/main.rs in the shared
 * anchors): every benchmark runs once untimed (warm-up), then BENCH_REPS times, each
 * repetition producing one sample. Samples are printed one per line on stdout as
 *
 *     RESULT weft <bench> <variant> <unit> <value>
 *
 * which is what compare.sh reads, and summarised (median, min, max) on stderr for a person.
 *
 * A bench group lives in its own file (bench_spawn.c, bench_yield.c, ...) and exposes one
 * function per row group with the signature bench_fn; main.c holds the table that names them.
 */
#ifndef WEFT_BENCH_H
#define WEFT_BENCH_H

#include <stddef.h>
#include <stdint.h>
#include <weft/weft.h>

#define BENCH_REPS 5

/* The runtime one group of rows runs on, and the name compare.sh knows it by. */
typedef struct bench_env {
    weft_runtime *rt;
    weft_flavor flavor;
    const char *variant; /* "mt2" or "ct" */
} bench_env;

/* One group of rows: runs its repetitions on env->rt and emits its samples. */
typedef void (*bench_fn)(const bench_env *env);

/* One sample of a benchmark. */
typedef double (*bench_sample_fn)(const bench_env *env);

/* Run `sample` once untimed, then BENCH_REPS times into out[0..BENCH_REPS). */
void bench_repeat(const bench_env *env, bench_sample_fn sample, double *out);

/* Print the RESULT lines and the stderr summary of BENCH_REPS samples. */
void bench_emit(const char *bench, const bench_env *env, const char *unit,
                const double *samples);

/* Tokio's inside(): block_on a root future that spawns `body` as a task and awaits it, so that
 * on the multi-thread runtime the body runs on a worker, not on the block_on thread. `body` is
 * copied into the task (`size` bytes), as weft_spawn does. Returns the value the body passed
 * to weft_task_return. Exits the program if anything fails: a benchmark has no way to go on. */
intptr_t bench_inside(const bench_env *env, const weft_future *body, size_t size);

/* block_on `fut` on the calling thread (spawn_many_remote's way); exits on failure. */
void bench_block_on(const bench_env *env, weft_future *fut);

/* Nanoseconds on the runtime's clock (monotonic): what the bodies time themselves with, as
 * Tokio's bodies use Instant::now(). */
static inline uint64_t bench_now(void)
{
    return weft_instant_now();
}

/* Exit with a message: allocation failed or a join reported an error. */
void bench_die(const char *what, int err) __attribute__((noreturn));

/* The groups (one file each). */
void bench_spawn_many(const bench_env *env);
void bench_yield_many(const bench_env *env);
void bench_ping_pong(const bench_env *env);
void bench_mpsc_1p1c(const bench_env *env);
void bench_mpsc_4p1c(const bench_env *env);
void bench_chained_spawn(const bench_env *env);
void bench_timers_1ms(const bench_env *env);
void bench_instrument(const bench_env *env); /* bench_instrument.c: hooks and sinks */
void bench_mutex_8x100k(const bench_env *env);
void bench_tcp_echo(const bench_env *env); /* bench_net.c, with the I/O issue */
void bench_metrics(const bench_env *env);  /* bench_metrics.c, with the profiling issue */

#endif
