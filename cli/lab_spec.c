/* cli/lab_spec.c - the parser of a lab's grade.spec (the syntax is in labs/FORMAT.md; the
 * types are in lab_spec.h).
 *
 * Strict on purpose: every error names the file and line and unknown keys are errors, so that
 * a typo in a spec never silently changes a grade.
 */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <weft/time.h>

#include "lab_spec.h"

void lab_spec_free(lab_spec *s)
{
    free(s->tests);
    s->tests = NULL;
    s->ntests = 0;
}

static bool spec_u64(const char *v, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long x = strtoull(v, &end, 10);
    if (!isdigit((unsigned char)*v) || *end || errno)
        return false;
    *out = x;
    return true;
}

/* "30s", "500ms", "2m", "1.5s" */
static bool spec_duration(const char *v, double *seconds)
{
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    if (end == v || errno || x < 0)
        return false;
    if (strcmp(end, "s") == 0)
        *seconds = x;
    else if (strcmp(end, "ms") == 0)
        *seconds = x / 1e3;
    else if (strcmp(end, "m") == 0)
        *seconds = x * 60;
    else
        return false;
    return true;
}

static bool spec_strategy_ok(const char *v)
{
    uint64_t n;
    if (strcmp(v, "fifo") == 0 || strcmp(v, "random") == 0 || strcmp(v, "pct") == 0 ||
        strcmp(v, "dfs") == 0)
        return true;
    if (strncmp(v, "pct:", 4) == 0)
        return spec_u64(v + 4, &n) && n >= 1;
    if (strncmp(v, "dfs:", 4) == 0)
        return spec_u64(v + 4, &n);
    return false;
}

static bool spec_name_ok(const char *v)
{
    if (!*v || strlen(v) >= 64)
        return false;
    for (const char *p = v; *p; p++)
        if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) && *p != '-')
            return false;
    return true;
}

/* The defaults; fifo without seeds is one run (its schedule is always the same). */
static void test_defaults(lab_test *t)
{
    memset(t, 0, sizeof *t);
    snprintf(t->strategy, sizeof t->strategy, "random");
    t->seed_first = 1;
    t->runs = 20;
    t->vtime = weft_secs(60);
    t->steps = 100000;
    t->timeout_s = 10;
}

/* Load `path`: 0, or -1 with "FILE:LINE: reason" in err. The caller frees with
 * lab_spec_free. */
int lab_spec_load(const char *path, lab_spec *s, char *err, size_t errsize)
{
    memset(s, 0, sizeof *s);
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errsize, "cannot read %.400s: %s", path, strerror(errno));
        return -1;
    }
    s->tests = calloc(LAB_MAX_TESTS, sizeof *s->tests);
    if (!s->tests) {
        fclose(f);
        snprintf(err, errsize, "out of memory");
        return -1;
    }
    char line[1024];
    int lineno = 0;
    lab_test *t = NULL;
    bool seeds_given = false, runs_given = false;
#define SPEC_FAIL(...)                                                        \
    do {                                                                      \
        int n_ = snprintf(err, errsize, "%.400s:%d: ", path, lineno);             \
        if (n_ >= 0 && (size_t)n_ < errsize)                                  \
            snprintf(err + n_, errsize - (size_t)n_, __VA_ARGS__);            \
        fclose(f);                                                            \
        lab_spec_free(s);                                                     \
        return -1;                                                            \
    } while (0)
    while (fgets(line, sizeof line, f)) {
        lineno++;
        if (!strchr(line, '\n') && !feof(f))
            SPEC_FAIL("line too long");
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        char *key = line;
        while (isspace((unsigned char)*key))
            key++;
        char *end = key + strlen(key);
        while (end > key && isspace((unsigned char)end[-1]))
            *--end = '\0';
        if (!*key)
            continue;
        char *val = key;
        while (*val && !isspace((unsigned char)*val))
            val++;
        if (*val)
            *val++ = '\0';
        while (isspace((unsigned char)*val))
            val++;

        if (strcmp(key, "test") == 0) {
            if (t && t->points == 0)
                SPEC_FAIL("test '%s' has no points", t->name);
            if (s->ntests == LAB_MAX_TESTS)
                SPEC_FAIL("more than %d tests", LAB_MAX_TESTS);
            if (!spec_name_ok(val))
                SPEC_FAIL("a test name is lower-case letters, digits and '-', not '%s'", val);
            for (int i = 0; i < s->ntests; i++)
                if (strcmp(s->tests[i].name, val) == 0)
                    SPEC_FAIL("a second test named '%s'", val);
            t = &s->tests[s->ntests++];
            test_defaults(t);
            snprintf(t->name, sizeof t->name, "%s", val);
            seeds_given = runs_given = false;
            continue;
        }
        if (!*val)
            SPEC_FAIL("'%s' wants a value", key);
        if (!t) {
            if (strcmp(key, "title") == 0)
                snprintf(s->title, sizeof s->title, "%s", val);
            else if (strcmp(key, "chapter") == 0)
                snprintf(s->chapter, sizeof s->chapter, "%s", val);
            else
                SPEC_FAIL("unknown key '%s' before the first test (title, chapter, test)", key);
            continue;
        }
        uint64_t n;
        double secs;
        if (strcmp(key, "points") == 0) {
            if (!spec_u64(val, &n) || n == 0 || n > 1000)
                SPEC_FAIL("points is a number from 1 to 1000, not '%s'", val);
            t->points = (int)n;
        } else if (strcmp(key, "about") == 0) {
            snprintf(t->about, sizeof t->about, "%s", val);
        } else if (strcmp(key, "strategy") == 0) {
            if (!spec_strategy_ok(val))
                SPEC_FAIL("strategy is fifo, random, pct[:DEPTH] or dfs[:BOUND], not '%s'", val);
            snprintf(t->strategy, sizeof t->strategy, "%s", val);
            if (strcmp(val, "fifo") == 0 && !seeds_given && !runs_given)
                t->runs = 1;
        } else if (strcmp(key, "seeds") == 0) {
            char *dots = strstr(val, "..");
            uint64_t a, b;
            if (!dots)
                SPEC_FAIL("seeds is FIRST..LAST, such as 1..50, not '%s'", val);
            *dots = '\0';
            if (!spec_u64(val, &a) || !spec_u64(dots + 2, &b) || b < a || b - a >= 1000000)
                SPEC_FAIL("seeds is FIRST..LAST with FIRST <= LAST (at most a million)");
            t->seed_first = a;
            t->runs = b - a + 1;
            seeds_given = true;
        } else if (strcmp(key, "runs") == 0) {
            if (!spec_u64(val, &n) || n == 0 || n > 1000000)
                SPEC_FAIL("runs is a number from 1 to 1000000, not '%s'", val);
            t->runs = n;
            runs_given = true;
        } else if (strcmp(key, "checks") == 0) {
            if (strcmp(val, "all") != 0)
                snprintf(t->checks, sizeof t->checks, "%s", val);
        } else if (strcmp(key, "vtime") == 0) {
            if (!spec_duration(val, &secs) || secs <= 0)
                SPEC_FAIL("vtime is a duration such as 10s or 500ms, not '%s'", val);
            t->vtime = (weft_duration)(secs * 1e9);
        } else if (strcmp(key, "steps") == 0) {
            if (!spec_u64(val, &n) || n == 0)
                SPEC_FAIL("steps is a positive number, not '%s'", val);
            t->steps = n;
        } else if (strcmp(key, "starvation") == 0) {
            if (!spec_u64(val, &n) || n == 0)
                SPEC_FAIL("starvation is a positive number of steps, not '%s'", val);
            t->starvation = n;
        } else if (strcmp(key, "allow-alive") == 0) {
            if (strcmp(val, "yes") != 0 && strcmp(val, "no") != 0)
                SPEC_FAIL("allow-alive is yes or no, not '%s'", val);
            t->allow_alive = strcmp(val, "yes") == 0;
        } else if (strcmp(key, "shrink") == 0) {
            if (strcmp(val, "yes") != 0 && strcmp(val, "no") != 0)
                SPEC_FAIL("shrink is yes or no, not '%s'", val);
            t->no_shrink = strcmp(val, "no") == 0;
        } else if (strcmp(key, "timeout") == 0) {
            if (!spec_duration(val, &secs) || secs <= 0)
                SPEC_FAIL("timeout is a duration such as 10s, not '%s'", val);
            t->timeout_s = secs;
        } else if (strcmp(key, "args") == 0) {
            snprintf(t->argbuf, sizeof t->argbuf, "%s", val);
            t->nargs = 0;
            for (char *tok = strtok(t->argbuf, " \t"); tok; tok = strtok(NULL, " \t")) {
                if (t->nargs == LAB_MAX_ARGS)
                    SPEC_FAIL("more than %d args", LAB_MAX_ARGS);
                t->args[t->nargs++] = tok;
            }
        } else {
            SPEC_FAIL("unknown key '%s' (points, about, strategy, seeds, runs, checks, vtime, "
                      "steps, starvation, allow-alive, shrink, timeout, args)",
                      key);
        }
        if (seeds_given && strncmp(t->strategy, "dfs", 3) == 0)
            SPEC_FAIL("seeds are for random, pct and fifo; dfs takes runs");
        if (runs_given && seeds_given)
            SPEC_FAIL("give seeds or runs, not both");
    }
    fclose(f);
#undef SPEC_FAIL
    if (t && t->points == 0) {
        snprintf(err, errsize, "%.400s: test '%s' has no points", path, t->name);
        lab_spec_free(s);
        return -1;
    }
    if (s->ntests == 0) {
        snprintf(err, errsize, "%.400s: no tests", path);
        lab_spec_free(s);
        return -1;
    }
    if (!s->title[0])
        snprintf(s->title, sizeof s->title, "(untitled)");
    return 0;
}
