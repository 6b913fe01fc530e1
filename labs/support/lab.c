/* labs/support/lab.c - the lab programs' main, story lines, recordings and named checks.
 *
 * State is a set of file-level tables reset by lab_begin, because a lab's `run` function runs
 * many times in one process (persistent exploration, weft_sched_main). Nothing is allocated:
 * the tables have fixed capacities (lab.h), and a full table drops what does not fit and says
 * so once, which a check then sees as missing marks rather than as a crash.
 *
 * Time: under the deterministic scheduler lab_now is the scheduler's virtual time since the
 * runtime started (weft_sched_stats_get), so it is exact and repeatable; elsewhere it is the
 * runtime clock since lab_begin.
 */
#include "lab.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LAB_MAX_ARGS 16
#define LAB_MAX_JUDGED 16

typedef struct series {
    const char *name; /* NULL: free slot */
    size_t n;         /* marks recorded (<= LAB_MAX_MARKS) */
    bool overflowed;  /* a mark was dropped */
    weft_duration at[LAB_MAX_MARKS];
} series;

typedef struct counter {
    const char *name;
    int64_t value;
    int64_t peak;
} counter;

/* Options, set once by lab_main. */
static bool quiet;
static bool judge_all = true;
static char judged_buf[512];
static const char *judged[LAB_MAX_JUDGED];
static unsigned njudged;
static const char *args[LAB_MAX_ARGS];
static int nargs;

/* Per-run state, reset by lab_begin. */
static series all_series[LAB_MAX_SERIES];
static counter counters[LAB_MAX_COUNTERS];
static weft_instant real_base;
static unsigned failed_checks;
static bool checked_deterministically; /* a check ran inside a deterministic runtime */

/* weft_assert aborts outside the deterministic scheduler: a check hands it a failure only
 * inside a deterministic runtime, and otherwise just prints and counts it. */
static bool in_det_run(void)
{
    return weft_sched_is_deterministic();
}

void lab_begin(void)
{
    memset(all_series, 0, sizeof all_series);
    memset(counters, 0, sizeof counters);
    failed_checks = 0;
    checked_deterministically = false;
    real_base = 0;
}

const char *lab_arg(int i)
{
    return i >= 0 && i < nargs ? args[i] : NULL;
}

weft_duration lab_now(void)
{
    if (weft_sched_is_deterministic()) {
        weft_sched_stats st;
        weft_sched_stats_get(&st);
        return st.vtime;
    }
    if (!weft_runtime_current())
        return 0;
    weft_instant now = weft_instant_now();
    if (real_base == 0)
        real_base = now;
    return now - real_base;
}

void lab_say(const char *fmt, ...)
{
    if (quiet)
        return;
    weft_duration t = lab_now();
    printf("[%4llu.%03llu s] ", (unsigned long long)(t / 1000000000u),
           (unsigned long long)(t / 1000000u % 1000u));
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
}

/* ---------------------------------------------------------------- recording */

static series *find_series(const char *name, bool create)
{
    for (int i = 0; i < LAB_MAX_SERIES; i++) {
        series *s = &all_series[i];
        if (s->name && strcmp(s->name, name) == 0)
            return s;
        if (!s->name && create) {
            s->name = name;
            return s;
        }
    }
    return NULL;
}

void lab_mark(const char *name)
{
    series *s = find_series(name, true);
    if (!s)
        return;
    if (s->n == LAB_MAX_MARKS) {
        s->overflowed = true;
        return;
    }
    s->at[s->n++] = lab_now();
}

size_t lab_marks(const char *name, const weft_duration **out)
{
    series *s = find_series(name, false);
    *out = s ? s->at : NULL;
    return s ? s->n : 0;
}

weft_duration lab_max_gap(const char *name, weft_duration *ended_at)
{
    const weft_duration *at;
    size_t n = lab_marks(name, &at);
    weft_duration best = 0, when = 0;
    for (size_t i = 1; i < n; i++) {
        if (at[i] - at[i - 1] > best) {
            best = at[i] - at[i - 1];
            when = at[i];
        }
    }
    if (ended_at)
        *ended_at = when;
    return best;
}

static counter *find_counter(const char *name)
{
    for (int i = 0; i < LAB_MAX_COUNTERS; i++) {
        counter *c = &counters[i];
        if (c->name && strcmp(c->name, name) == 0)
            return c;
        if (!c->name) {
            c->name = name;
            return c;
        }
    }
    return NULL;
}

void lab_count(const char *name, int64_t delta)
{
    counter *c = find_counter(name);
    if (!c)
        return;
    c->value += delta;
    if (c->value > c->peak)
        c->peak = c->value;
}

int64_t lab_counter(const char *name)
{
    counter *c = find_counter(name);
    return c ? c->value : 0;
}

int64_t lab_counter_peak(const char *name)
{
    counter *c = find_counter(name);
    return c ? c->peak : 0;
}

void lab_cpu_work(weft_duration d)
{
    weft_sched_burn(d);
    lab_count("cpu-us", (int64_t)(d / 1000u));
}

/* ---------------------------------------------------------------- checks */

bool lab_judged(const char *name)
{
    if (judge_all)
        return true;
    for (unsigned i = 0; i < njudged; i++)
        if (strcmp(judged[i], name) == 0)
            return true;
    return false;
}

unsigned lab_failed_checks(void)
{
    return failed_checks;
}

bool lab__check(const char *name, bool ok, weft_location where, const char *fmt, ...)
{
    char why[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    bool judge = lab_judged(name);
    if (in_det_run())
        checked_deterministically = true;
    if (!quiet)
        printf("  %-4s %s: %s%s\n", ok ? "ok" : "FAIL", name, why, judge ? "" : " (not judged)");
    if (ok)
        return true;
    failed_checks++;
    if (judge && in_det_run()) {
        char msg[700];
        snprintf(msg, sizeof msg, "check %s: %s", name, why);
        weft__assert(false, msg, where);
    }
    return false;
}

void lab_judge_only(const char *csv)
{
    judge_all = csv == NULL;
    njudged = 0;
    if (!csv)
        return;
    snprintf(judged_buf, sizeof judged_buf, "%s", csv);
    for (char *tok = strtok(judged_buf, ","); tok && njudged < LAB_MAX_JUDGED;
         tok = strtok(NULL, ","))
        judged[njudged++] = tok;
}

/* ---------------------------------------------------------------- main */

void lab_set_quiet(bool q)
{
    quiet = q;
}

static int usage(const char *prog)
{
    fprintf(stderr, "usage: %s [--checks NAME,NAME...] [--quiet] [-- LAB ARGS]\n", prog);
    return 2;
}

/* weft_sched_main wants a body; ours adds the exit status for runs outside the grader. */
static int (*lab_run_fn)(void *);

static int run_and_judge(void *arg)
{
    int rc = lab_run_fn(arg);
    /* Under the deterministic scheduler a failed check already failed the run (with its
     * schedule); elsewhere the exit status is the only way to say so. */
    if (rc == 0 && lab_failed_checks() > 0 && !checked_deterministically)
        rc = 1;
    return rc;
}

int lab_main(int argc, char **argv, int (*run)(void *arg))
{
    int i = 1;
    for (; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) {
            i++;
            break;
        }
        if (strcmp(argv[i], "--quiet") == 0) {
            quiet = true;
        } else if (strcmp(argv[i], "--checks") == 0 && i + 1 < argc) {
            lab_judge_only(argv[++i]);
        } else {
            return usage(argv[0]);
        }
    }
    for (; i < argc && nargs < LAB_MAX_ARGS; i++)
        args[nargs++] = argv[i];
    setvbuf(stdout, NULL, _IOLBF, 0); /* story lines in order with the scheduler's output */
    lab_run_fn = run;
    return weft_sched_main(run_and_judge, NULL);
}
