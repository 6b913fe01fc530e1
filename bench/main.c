/* bench/main.c - weft-bench: weft's side of the Tokio anchor (see bench/README.md).
 *
 *     weft-bench [FILTER]
 *
 * Runs every group whose key contains FILTER (all of them without one), first on a
 * multi-thread runtime with 2 workers ("mt2"), then on a current-thread runtime ("ct"), both
 * with timers enabled and each reused by every group of its flavour, in the anchor's order
 * and with the anchor's keys, so that the same filter selects the same rows on both sides.
 *
 * WEFT_BENCH_VARIANT=mt2 (or ct) in the environment runs one flavour only: for profiling one
 * row with perf or strace, not for compare.sh, which expects both.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

/* key: what the filter is matched against (the anchor's `want(...)` argument). */
static const struct {
    const char *key;
    bench_fn run;
} groups[] = {
    {"spawn_many", bench_spawn_many}, /* spawn_many, and spawn_many_remote on mt2 */
    {"yield_many", bench_yield_many},
    {"ping_pong", bench_ping_pong},
    {"mpsc_1p1c", bench_mpsc_1p1c},
    {"mpsc_4p1c", bench_mpsc_4p1c},
    {"chained_spawn", bench_chained_spawn},
    {"timers_1ms", bench_timers_1ms}, /* timers_1ms_total and timers_1ms_over */
    {"mutex", bench_mutex_8x100k},
    {"tcp_echo", bench_tcp_echo}, /* tcp_echo_50x2000: bench_net.c */
    {"metrics", bench_metrics}, /* the runtime metrics' cost: bench_metrics.c */
    {"instrument", bench_instrument}, /* instr_*: the instrumentation's overhead */
};

static weft_runtime *make_runtime(weft_flavor flavor)
{
    weft_builder b = flavor == WEFT_MULTI_THREAD ? weft_builder_new_multi_thread()
                                                 : weft_builder_new_current_thread();
    if (flavor == WEFT_MULTI_THREAD)
        b.worker_threads = 2;
    b.enable_time = true; /* Tokio's enable_all(): parked workers wait in epoll, as Tokio's do */
    b.enable_io = true;
    weft_runtime *rt;
    int err = weft_runtime_new(&b, &rt);
    if (err)
        bench_die("runtime_new", err);
    return rt;
}

int main(int argc, char **argv)
{
    const char *filter = argc > 1 ? argv[1] : "";
    const char *only = getenv("WEFT_BENCH_VARIANT");
    static const struct {
        weft_flavor flavor;
        const char *name;
    } flavors[] = {{WEFT_MULTI_THREAD, "mt2"}, {WEFT_CURRENT_THREAD, "ct"}};

    for (size_t f = 0; f < sizeof flavors / sizeof flavors[0]; f++) {
        if (only && *only && strcmp(only, flavors[f].name) != 0)
            continue;
        bench_env env = {make_runtime(flavors[f].flavor), flavors[f].flavor, flavors[f].name};
        for (size_t g = 0; g < sizeof groups / sizeof groups[0]; g++)
            if (strstr(groups[g].key, filter))
                groups[g].run(&env);
        weft_runtime_shutdown(env.rt);
    }
    return 0;
}
