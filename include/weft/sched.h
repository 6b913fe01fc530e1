/* weft/sched.h - the deterministic scheduler: assertions, virtual time, exploration.
 *
 * weft has a third scheduler besides current_thread and multi_thread: the *deterministic* one.
 * It runs every task on one thread, and each time more than one task could run next it asks a
 * *strategy* which one. Time is virtual: it stands still while tasks run and jumps to the next
 * timer when nothing can run, so a program that sleeps an hour finishes at once. weft_rand is
 * seeded from the run's seed. A run is therefore a pure function of (program, strategy, seed),
 * and the sequence of decisions it took, its *schedule*, can be written to a file and replayed
 * exactly.
 *
 * Programs are not changed to use it. Setting the environment variable
 *
 *     WEFT_SCHED=fifo | random:SEED | pct:SEED:DEPTH | dfs:BOUND | replay:FILE
 *
 * turns every runtime the program builds (either builder flavour) into a deterministic one.
 * The `weft explore` and `weft replay` commands set it for you, and weft_explore() below does
 * the same for a function in the calling process (tests, benchmarks, lab graders).
 *
 * What the scheduler reports as a failure: a deadlock (every task waits, nothing can wake them:
 * a wait-for cycle, a lost wakeup, a join on a task that cannot finish, timers that never fire),
 * a weft_assert that failed, the virtual-time or step limit, starvation (a task runnable for
 * too many steps without being polled), and tasks still alive when the runtime shuts down.
 */
#ifndef WEFT_SCHED_H
#define WEFT_SCHED_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <weft/future.h>
#include <weft/time.h>

/* ---------------------------------------------------------------- assertions
 *
 * weft_assert(cond): an invariant of the program. Under the deterministic scheduler a failure
 * is recorded as the run's failure (with the expression, the source line and the task), the
 * scheduler stops at the next scheduling point, and weft_block_on returns WEFT_ESHUTDOWN; the
 * macro evaluates to false so the code can leave the path that relied on the condition. On the
 * other schedulers (and outside any runtime, unless a deterministic run is in progress in this
 * process) it prints the same message and aborts, like assert(3), but is never compiled out.
 */
#define weft_assert(cond) weft__assert((cond) ? true : false, #cond, WEFT_HERE)

bool weft__assert(bool ok, const char *expr, weft_location where);

/* True when the current thread runs a deterministic runtime (inside its block_on). */
bool weft_sched_is_deterministic(void);

/* ---------------------------------------------------------------- time that work takes
 *
 * Virtual time does not pass while code runs, so work has to say how long it would take.
 * Both helpers behave the same on every scheduler, in the units the program sees:
 *
 *   weft_sched_burn(d)   CPU work of duration d. Real schedulers spin for d; the deterministic
 *                        one advances virtual time by d on the spot. Called inside a task's
 *                        poll it blocks the worker for d: every other task and timer waits,
 *                        exactly as a long computation would, and the poll is d long.
 *   weft_sched_block(d)  a blocking call (file read, sleep(3), a C library that waits) of
 *                        duration d: real schedulers nanosleep, the deterministic one charges d
 *                        like burn.
 *
 * Inside a blocking function (spawn_blocking) the deterministic scheduler charges the time to
 * that blocking thread instead: the function runs at once, but its completion (and every task
 * it wakes) is delivered d later in virtual time, while the async tasks keep running. That is
 * what makes "move the CPU work to spawn_blocking" measurably fix a stalled heartbeat. */
void weft_sched_burn(weft_duration d);
void weft_sched_block(weft_duration d);

/* Statistics of the deterministic run on this thread, for lab invariants. All zero elsewhere. */
typedef struct weft_sched_stats {
    uint64_t steps;           /* scheduling decisions taken so far */
    uint64_t polls;           /* task polls (including block_on's root future) */
    weft_duration vtime;      /* virtual time elapsed since the runtime started */
    weft_duration max_poll;   /* the longest single poll, in virtual time */
    uint64_t max_poll_task;   /* the task id of that poll (0: the root future) */
    uint64_t preemptions;     /* decisions that did not run the oldest runnable task */
} weft_sched_stats;

void weft_sched_stats_get(weft_sched_stats *out);

/* ---------------------------------------------------------------- exploration in-process
 *
 * weft_explore runs `body` many times, each under a different schedule, until one fails or the
 * budget is spent. The body builds its runtime (either flavour), block_on's, shuts down, and
 * returns 0, or anything else to say that the run failed (a check after block_on). It must be
 * re-runnable: keep its state in locals or reset its globals at the top. Under `weft explore`
 * the same happens to a whole program, one forked process per schedule.
 *
 * On a failure it writes (when out_dir is set) OUT_DIR/NAME.failing.schedule and, after
 * shrinking, OUT_DIR/NAME.shrunk.schedule, and fills the result. */
typedef struct weft_explore_opts {
    const char *program;      /* name written into schedules; replays check it (required) */
    const char *strategy;     /* "fifo", "random", "pct:DEPTH", "dfs:BOUND" (default "random") */
    uint64_t seed;            /* first seed; run i uses seed + i (random, pct) */
    uint64_t iterations;      /* schedules to try; 0 = 1000, or until time_limit when set */
    double time_limit_s;      /* stop after this many seconds (0 = no limit) */
    const char *out_dir;      /* where to write schedules; NULL = write nothing */
    bool no_shrink;           /* skip shrinking */
    bool check_determinism;   /* run every schedule twice and compare the event streams */
    bool allow_alive;         /* tasks alive at shutdown are not a failure */
    uint64_t max_steps;       /* per run; 0 = 1,000,000 */
    weft_duration max_vtime;  /* per run; 0 = one virtual hour */
    uint64_t starvation;      /* steps a task may stay runnable unpolled; 0 = 100,000 */
    FILE *progress;           /* a progress line and the story go here; NULL = silent */
    /* weft_explore_program only: */
    double run_timeout_s;     /* wall-clock limit of one run before it is killed; 0 = 10 s */
    const char *replay_command; /* printed after a failure, "%s" standing for the shrunk
                                 * schedule's path (a printf format: write %% for %) */
} weft_explore_opts;

typedef struct weft_explore_result {
    bool failed;              /* a failing schedule was found */
    bool exhausted;           /* dfs covered every schedule within its bound */
    uint64_t schedules;       /* schedules run (not counting shrinking and replays) */
    double seconds;           /* wall-clock time to the failure, or in all */
    char kind[32];            /* failure kind: "deadlock", "assertion", "lost-wakeup", ... */
    char summary[512];        /* one paragraph saying what went wrong */
    uint64_t failing_steps;   /* decisions in the failing schedule */
    uint64_t failing_preemptions;
    uint64_t shrunk_steps;    /* after shrinking (equal to the above with no_shrink) */
    uint64_t shrunk_preemptions;
    char failing_path[512];   /* files written, "" when out_dir was NULL */
    char shrunk_path[512];
} weft_explore_result;

/* 0 when the exploration ran (look at res->failed), or a negative WEFT_E* for bad options. */
int weft_explore(const weft_explore_opts *opts, int (*body)(void *arg), void *arg,
                 weft_explore_result *res);

/* Explore a whole program, argv[0] ARGS... (found through PATH), as `weft explore` does: the
 * program is started once under WEFT_FORKSERVER, and the first runtime it builds turns it
 * into a fork server that forks one child per schedule (no exec per schedule). The schedules
 * are named after the program's executable. 0, or WEFT_EIO when the program could not be
 * started or never built a weft runtime (res->summary says why). */
int weft_explore_program(const weft_explore_opts *opts, char *const *argv,
                         weft_explore_result *res);

/* The main of a program whose work is a re-runnable function (the contract of weft_explore's
 * body): returns body(arg). Under `weft explore` it serves in *persistent mode* instead: each
 * forked child runs the function for up to a thousand schedules in a row, so exploring the
 * whole program runs at close to in-process speed rather than at the machine's fork rate.
 *     int main(int argc, char **argv) { ...parse...; return weft_sched_main(run, &args); } */
int weft_sched_main(int (*body)(void *arg), void *arg);

/* What a schedule file says about itself, read and checked by the same strict parser that
 * replays use. `program` (may be NULL) must match the file's. 0, or WEFT_EFORMAT,
 * WEFT_EINVAL (another program's schedule) or WEFT_EIO, with a one-line reason in err. */
typedef struct weft_schedule_info {
    char program[256];
    char strategy[64];
    uint64_t seed;
    uint64_t steps;
    uint64_t preemptions;
    uint64_t vtime;           /* virtual time at the end, ns */
    char outcome[32];         /* "ok", "deadlock", ... */
    char message[1024];
} weft_schedule_info;

int weft_schedule_read_info(const char *path, const char *program, weft_schedule_info *out,
                            char *err, size_t err_size);

/* Run `body` once under the schedule in `path` (a replay), strictly unless `tolerant`. Fills
 * res like weft_explore (failed: the replayed run failed, or it diverged from the schedule,
 * kind "divergence"). 0, or a negative WEFT_E* when the file is refused (the message in
 * res->summary). */
int weft_replay_file(const char *path, const char *program, bool tolerant,
                     int (*body)(void *arg), void *arg, weft_explore_result *res);

#endif
