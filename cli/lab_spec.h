/* cli/lab_spec.h - the parser of a lab's grade.spec (the syntax is in labs/FORMAT.md).
 *
 * The parser is lab_spec.c; the grader (lab_grade.c) loads a spec and the run verb
 * (lab_run.c) uses LAB_MAX_ARGS.
 *
 * A spec is line-based: `key value` lines, '#' starts a comment, blank lines are ignored.
 * Lines before the first `test NAME` describe the lab (title, chapter); each `test NAME`
 * starts a test and the key lines after it set that test's fields. Every error names the
 * file and line; unknown keys are errors, so that a typo never silently changes a grade.
 */
#ifndef WEFT_CLI_LAB_SPEC_H
#define WEFT_CLI_LAB_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <weft/time.h>

#define LAB_MAX_TESTS 32
#define LAB_MAX_ARGS 16

typedef struct lab_test {
    char name[64];          /* [a-z0-9-], unique in the spec */
    char about[256];        /* what the test asks, in one sentence (printed on failure) */
    int points;             /* > 0 */
    char strategy[32];      /* fifo, random, pct[:D], dfs[:B] */
    uint64_t seed_first;    /* first seed; run i uses seed_first + i (not dfs) */
    uint64_t runs;          /* schedules to try (the seed count, or for dfs a cap) */
    char checks[256];       /* judged checks, comma-separated; "" = every check */
    weft_duration vtime;    /* virtual-time limit of one run */
    uint64_t steps;         /* scheduling-decision limit of one run */
    uint64_t starvation;    /* steps a task may stay runnable unpolled (0: the default) */
    bool allow_alive;       /* tasks alive at shutdown are not a failure */
    bool no_shrink;         /* keep the failing schedule as found (long runs shrink slowly) */
    double timeout_s;       /* wall-clock limit of one run before it is killed */
    char argbuf[256];       /* storage of args */
    const char *args[LAB_MAX_ARGS]; /* the lab's own arguments (after '--') */
    int nargs;
} lab_test;

typedef struct lab_spec {
    char title[128];
    char chapter[128];      /* docs/book/<chapter>.md */
    lab_test *tests;
    int ntests;
} lab_spec;

/* Load `path`: 0, or -1 with "FILE:LINE: reason" in err. The caller frees with
 * lab_spec_free. */
int lab_spec_load(const char *path, lab_spec *s, char *err, size_t errsize);
void lab_spec_free(lab_spec *s);

#endif
