/* labs/support/lab.h - what every lab program calls: its main, its story, its checks.
 *
 * A lab program is an ordinary weft program with one re-runnable function, `run`, that builds
 * a runtime and block_on's a main future that ends by judging what happened with lab_check. It does
 * not know about the grader: `weft lab check` runs it under the deterministic scheduler (one
 * forked child per batch of schedules, see weft_sched_main) and a failed check is a failed
 * weft_assert, so the explorer finds it, shrinks its schedule and prints the replay command.
 *
 *     int main(int argc, char **argv) { return lab_main(argc, argv, run); }
 *
 * Options lab_main understands (the grader passes them; a learner may too):
 *     --checks a,b,c   judge only these checks (the others are still evaluated and printed);
 *                      default: all of them
 *     --quiet          no story, no check lines (the grader's runs)
 *     -- ARGS          anything after '--' is the lab's own, read with lab_arg()
 *
 * Everything here is for one thread (the deterministic scheduler's, or a current-thread
 * runtime's): a lab that runs on a multi-thread runtime records from async tasks only under
 * the deterministic scheduler, where all tasks share one thread.
 */
#ifndef WEFT_LAB_H
#define WEFT_LAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <weft/sched.h>
#include <weft/weft.h>

/* Parse the options above, then run `run` (through weft_sched_main, so that exploration is
 * fast). Returns its exit status: 0, 1 when a check failed outside the grader, 2 bad usage. */
int lab_main(int argc, char **argv, int (*run)(void *arg));

/* No story lines and no check lines (as --quiet). */
void lab_set_quiet(bool quiet);

/* Reset everything recorded: call first thing in `run` (it runs many times per process). */
void lab_begin(void);

/* The lab's own argument i (after '--'), or NULL. */
const char *lab_arg(int i);

/* The virtual (or real) time since lab_begin, from the runtime's clock; 0 outside a runtime. */
weft_duration lab_now(void);

/* Say what the program is doing, prefixed with the time: "[  0.300 s] report 2 ready".
 * Nothing is printed with --quiet. */
void lab_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---------------------------------------------------------------- recording
 *
 * A *series* is a named list of timestamps (heartbeats, deliveries); a *counter* is a named
 * integer (tasks alive, writes applied). Names are string literals; a lab uses a handful. */
#define LAB_MAX_SERIES 8
#define LAB_MAX_MARKS 4096
#define LAB_MAX_COUNTERS 16

/* Append lab_now() to `series`. */
void lab_mark(const char *series);
/* Marks of `series` so far; *out borrows storage valid until the next lab_begin. */
size_t lab_marks(const char *series, const weft_duration **out);
/* The largest gap between consecutive marks of `series` (0 with fewer than two), and the
 * time of the mark that ended it. */
weft_duration lab_max_gap(const char *series, weft_duration *ended_at);

void lab_count(const char *counter, int64_t delta);
int64_t lab_counter(const char *counter);
/* The largest value `counter` ever had since lab_begin. */
int64_t lab_counter_peak(const char *counter);

/* CPU work of duration d: weft_sched_burn, also added (in microseconds) to the counter
 * "cpu-us", so that a check can tell the work was done rather than deleted. */
void lab_cpu_work(weft_duration d);

/* ---------------------------------------------------------------- checks
 *
 * lab_check(name, ok, fmt, ...): an invariant of the lab, named as in grade.spec. When the
 * check is judged (--checks) and `ok` is false, it fails the run like weft_assert, with the
 * message "check NAME: <explanation>". Either way it prints "  ok  NAME" or "  FAIL NAME:
 * <explanation>" (unless --quiet). Returns ok.
 *
 * Call it from inside the runtime, usually as the last step of the main future: under the
 * deterministic scheduler a failed judged check then fails the run at the next scheduling
 * point, with its schedule (weft_assert's contract). Outside the deterministic scheduler a
 * failed check is printed and counted, and lab_main exits 1. */
#define lab_check(name, ok, ...) lab__check((name), (ok), WEFT_HERE, __VA_ARGS__)

bool lab__check(const char *name, bool ok, weft_location where, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Judge only the checks of `csv` ("a,b"; NULL: all of them), as --checks does. */
void lab_judge_only(const char *csv);

/* True when `name` is judged in this run. */
bool lab_judged(const char *name);

/* Checks that failed in this run, judged or not (lab_main's exit status uses it). */
unsigned lab_failed_checks(void);

#endif
