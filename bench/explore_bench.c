/* bench/explore_bench.c - how fast the deterministic scheduler explores, and how many
 * schedules each strategy needs to find the classic bugs.
 *
 *     explore_bench [speed | find | all] [--seeds N]
 *
 *   speed  schedules per second on a small two-task program (det_prog_two_tasks: two tasks
 *          yielding three times each, joined by main), two ways:
 *            in-process   weft_explore calling the program's function once per schedule;
 *            fork server  weft_explore_program on this very binary (re-run as
 *                         `explore_bench --serve-plain two_tasks`), one forked child per
 *                         schedule: what `weft explore -- PROGRAM` does for any program;
 *            persistent   the same, the binary handing its function to weft_sched_main
 *                         (`--serve two_tasks`): each child runs up to 1000 schedules.
 *   find   for each classic-bug program (tests/unit/test_det_programs.c) and each strategy,
 *          the number of schedules up to and including the first failing one, over N seeds
 *          (default 100): median and 90th percentile. DFS does not depend on the seed: one
 *          figure. Capped at 20000 schedules per search ("-" in the table when not found).
 *
 * Output: a table for people on stdout, and one line per figure in the form of weft-bench,
 *     RESULT explore <bench> <variant> <unit> <value>
 * for scripts. Timings are wall-clock and vary with the machine; the counts in `find` do not.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <weft/sched.h>
#include <weft/weft.h>

#include "../tests/unit/test_det_programs.h"

#define FIND_CAP 20000

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

typedef struct program {
    const char *name;
    int (*run)(void *);
} program;

static const program programs[] = {
    {"race", det_prog_race},
    {"two_lock", det_prog_two_lock},
    {"lost_wakeup", det_prog_lost_wakeup},
    {"bounded_buffer", det_prog_bounded_buffer},
    {"reentrant_read", det_prog_reentrant_read},
    {"select_frame", det_prog_select_frame},
    {"two_tasks", det_prog_two_tasks},
};

#define NPROG (sizeof programs / sizeof programs[0])

static const program *find_program(const char *name)
{
    for (size_t i = 0; i < NPROG; i++)
        if (strcmp(programs[i].name, name) == 0)
            return &programs[i];
    return NULL;
}

/* ---------------------------------------------------------------- speed */

static void speed(const char *self)
{
    int variant = 0;
    const uint64_t n = 20000;

    weft_explore_opts o = {0};
    o.program = "two_tasks";
    o.strategy = "random";
    o.iterations = n;
    weft_explore_result res;
    /* Warm up, then measure. */
    o.iterations = 1000;
    weft_explore(&o, det_prog_two_tasks, &variant, &res);
    o.iterations = n;
    double t0 = now_s();
    weft_explore(&o, det_prog_two_tasks, &variant, &res);
    double dt = now_s() - t0;
    double inproc = (double)res.schedules / dt;
    printf("schedules per second, two-task program (random strategy):\n");
    printf("  in-process   %8.0f /s   (%llu schedules in %.2f s)\n", inproc,
           (unsigned long long)res.schedules, dt);
    printf("RESULT explore speed in_process schedules_per_s %.0f\n", inproc);

    static const struct {
        const char *flag, *label, *variant;
        uint64_t n;
    } ways[] = {
        {"--serve-plain", "fork server", "fork_server", 5000},
        {"--serve", "persistent", "persistent", 50000},
    };
    for (size_t w = 0; w < 2; w++) {
        char *argv[] = {(char *)self, (char *)ways[w].flag, "two_tasks", NULL};
        o.program = NULL;
        o.iterations = ways[w].n;
        t0 = now_s();
        int rc = weft_explore_program(&o, argv, &res);
        dt = now_s() - t0;
        if (rc) {
            printf("  %-11s  failed: %s\n", ways[w].label, res.summary);
            continue;
        }
        double rate = (double)res.schedules / dt;
        printf("  %-11s  %8.0f /s   (%llu schedules in %.2f s, including start-up)\n",
               ways[w].label, rate, (unsigned long long)res.schedules, dt);
        printf("RESULT explore speed %s schedules_per_s %.0f\n", ways[w].variant, rate);
    }
}

/* ---------------------------------------------------------------- schedules to failure */

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Schedules up to the first failure for one seed, or 0 when none within the cap. */
static uint64_t to_failure(const program *p, const char *strategy, uint64_t seed)
{
    int variant = 0;
    weft_explore_opts o = {0};
    o.program = p->name;
    o.strategy = strategy;
    o.seed = seed;
    o.iterations = FIND_CAP;
    o.no_shrink = true;
    weft_explore_result res;
    if (weft_explore(&o, p->run, &variant, &res) != 0 || !res.failed)
        return 0;
    return res.schedules;
}

static void find(unsigned seeds)
{
    static const char *const strategies[] = {"random", "pct:1", "pct:2", "pct:3", "dfs:1",
                                             "dfs:2"};
    const size_t nstrat = sizeof strategies / sizeof strategies[0];
    uint64_t *v = malloc(seeds * sizeof *v);
    if (!v)
        return;
    printf("\nschedules to the first failure (median / 90th percentile over %u seeds; dfs: "
           "one figure, it does not use the seed):\n",
           seeds);
    printf("  %-16s", "program");
    for (size_t s = 0; s < nstrat; s++)
        printf(" %13s", strategies[s]);
    printf("\n");
    for (size_t i = 0; i < NPROG; i++) {
        const program *p = &programs[i];
        if (strcmp(p->name, "two_tasks") == 0)
            continue;
        printf("  %-16s", p->name);
        fflush(stdout);
        for (size_t s = 0; s < nstrat; s++) {
            bool dfs = strncmp(strategies[s], "dfs", 3) == 0;
            unsigned n = dfs ? 1 : seeds;
            unsigned found = 0;
            for (unsigned k = 0; k < n; k++) {
                uint64_t c = to_failure(p, strategies[s], (uint64_t)k * 1000003u);
                v[k] = c ? c : UINT64_MAX;
                found += c != 0;
            }
            qsort(v, n, sizeof *v, cmp_u64);
            uint64_t med = v[(n - 1) / 2], p90 = v[(n * 9 + 9) / 10 - 1];
            char cell[64];
            if (dfs)
                snprintf(cell, sizeof cell, "%s", med == UINT64_MAX ? "-" : "");
            if (dfs && med != UINT64_MAX)
                snprintf(cell, sizeof cell, "%llu", (unsigned long long)med);
            else if (!dfs && med == UINT64_MAX)
                snprintf(cell, sizeof cell, "-");
            else if (!dfs)
                snprintf(cell, sizeof cell, "%llu/%s%llu", (unsigned long long)med,
                         p90 == UINT64_MAX ? ">" : "",
                         (unsigned long long)(p90 == UINT64_MAX ? FIND_CAP : p90));
            printf(" %13s", cell);
            fflush(stdout);
            /* Machine-readable: found fraction too, when some seeds found nothing. */
            if (found)
                fprintf(stderr, "RESULT explore find_%s %s median_schedules %llu\n", p->name,
                        strategies[s], (unsigned long long)med);
        }
        printf("\n");
    }
    free(v);
}

int main(int argc, char **argv)
{
    if (argc == 3 && (strcmp(argv[1], "--serve") == 0 || strcmp(argv[1], "--serve-plain") == 0)) {
        /* The target of the fork-server measurements: just the program. */
        const program *p = find_program(argv[2]);
        static int variant = 0;
        if (!p)
            return 2;
        return strcmp(argv[1], "--serve") == 0 ? weft_sched_main(p->run, &variant)
                                               : p->run(&variant);
    }
    const char *what = argc > 1 ? argv[1] : "all";
    unsigned seeds = 100;
    for (int i = 2; i + 1 < argc; i += 2)
        if (strcmp(argv[i], "--seeds") == 0)
            seeds = (unsigned)atoi(argv[i + 1]);
    if (seeds == 0)
        seeds = 100;
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return 2;
    self[n] = '\0';
    if (strcmp(what, "speed") == 0 || strcmp(what, "all") == 0)
        speed(self);
    if (strcmp(what, "find") == 0 || strcmp(what, "all") == 0)
        find(seeds);
    return 0;
}
