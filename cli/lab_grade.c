/* cli/lab_grade.c - the grader: `weft lab check NN` and the grading part of `weft lab run NN`.
 *
 * Each test of grade.spec is explored with weft_explore_program, the same exploration as
 * `weft explore`: one forked child per batch of schedules, the failing schedule shrunk and
 * saved under BUILD/labs/results/NN/PROGRAM/TEST with the command that replays it. The report
 * is a score per test and Score X/Y (or the same as JSON); the program's own output goes to
 * each test's run.log, not to the learner's screen.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <weft/error.h>
#include <weft/sched.h>

#include "cli.h"
#include "lab_int.h"
#include "lab_spec.h"

typedef struct test_result {
    bool ran;                   /* exploration ran (else `error` says why) */
    bool passed;
    weft_explore_result res;
    char replay[2 * PATH_MAX + 512];
    char error[512];
} test_result;

/* Explore one test. Output of the program and of the explorer goes to the test's run.log. */
static void grade_test(const lab_paths *lp, const lab_ref *lab, const char *program,
                       const lab_test *t, test_result *out)
{
    memset(out, 0, sizeof *out);
    /* results/NN/PROGRAM/TEST: the starter's and the solution's gradings may run at once. */
    const char *base = strrchr(program, '/') ? strrchr(program, '/') + 1 : program;
    char dir[PATH_MAX + 600], log[PATH_MAX + 620];
    if (!lab_fmt_path(dir, sizeof dir, "%s/%s/%s", lab->results, base, t->name) ||
        !lab_fmt_path(log, sizeof log, "%s/run.log", dir) || lab_make_dirs(dir) != 0) {
        snprintf(out->error, sizeof out->error, "cannot create %.400s: %s", dir,
                 strerror(errno));
        return;
    }

    /* argv: PROGRAM --quiet [--checks LIST] [-- ARGS...] */
    char *argv[8 + LAB_MAX_ARGS];
    int k = 0;
    argv[k++] = (char *)program;
    argv[k++] = "--quiet";
    if (t->checks[0]) {
        argv[k++] = "--checks";
        argv[k++] = (char *)t->checks;
    }
    if (t->nargs) {
        argv[k++] = "--";
        for (int i = 0; i < t->nargs; i++)
            argv[k++] = (char *)t->args[i];
    }
    argv[k] = NULL;

    /* The replay command shows the story: the same argv without --quiet. */
    snprintf(out->replay, sizeof out->replay, "%s replay %%s -- %s", lp->weft, lab_shown(program));
    for (int i = 2; i < k; i++) {
        size_t len = strlen(out->replay);
        snprintf(out->replay + len, sizeof out->replay - len, " %s", argv[i]);
    }

    weft_explore_opts o = {0};
    o.program = NULL;
    o.strategy = t->strategy;
    o.seed = t->seed_first;
    o.iterations = t->runs;
    o.out_dir = dir;
    o.max_vtime = t->vtime;
    o.max_steps = t->steps;
    o.starvation = t->starvation;
    o.allow_alive = t->allow_alive;
    o.no_shrink = t->no_shrink;
    o.run_timeout_s = t->timeout_s;
    o.replay_command = out->replay;
    o.progress = NULL;

    /* The program's and the explorer's own output go to the log, not the learner's screen. */
    fflush(stdout);
    fflush(stderr);
    int saved_out = dup(1), saved_err = dup(2);
    int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
        dup2(fd, 1);
        dup2(fd, 2);
        close(fd);
    }
    int rc = weft_explore_program(&o, argv, &out->res);
    fflush(stdout);
    fflush(stderr);
    if (saved_out >= 0) {
        dup2(saved_out, 1);
        close(saved_out);
    }
    if (saved_err >= 0) {
        dup2(saved_err, 2);
        close(saved_err);
    }
    if (rc != 0) {
        snprintf(out->error, sizeof out->error, "%s",
                 out->res.summary[0] ? out->res.summary : weft_strerror(rc));
        return;
    }
    out->ran = true;
    out->passed = !out->res.failed;
    /* The replay command names the shrunk schedule. */
    if (out->res.failed) {
        char fmt[sizeof out->replay];
        snprintf(fmt, sizeof fmt, "%s", out->replay);
        const char *sched = out->res.shrunk_path[0] ? out->res.shrunk_path
                                                    : out->res.failing_path;
        char *pct = strstr(fmt, "%s");
        if (pct) {
            *pct = '\0';
            snprintf(out->replay, sizeof out->replay, "%s%s%s", fmt, lab_shown(sched), pct + 2);
        }
    }
}

static void json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", f);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

/* Print a multi-line explanation indented under its test. */
static void print_indented(const char *text, const char *indent)
{
    const char *p = text;
    while (*p) {
        const char *nl = strchr(p, '\n');
        int len = (int)(nl ? nl - p : (long)strlen(p));
        printf("%s%.*s\n", indent, len, p);
        if (!nl)
            break;
        p = nl + 1;
    }
}

/* Grade lab `lab`; prints the report; returns the exit status. */
int lab_grade(const lab_paths *lp, const lab_ref *lab, const check_opts *co)
{
    char spec_path[PATH_MAX + 16], err[512];
    if (co->spec)
        snprintf(spec_path, sizeof spec_path, "%s", co->spec);
    else
        snprintf(spec_path, sizeof spec_path, "%s/grade.spec", lab->dir);
    lab_spec spec;
    if (lab_spec_load(spec_path, &spec, err, sizeof err) != 0) {
        fprintf(stderr, "weft lab: %s\n", err);
        return CLI_USAGE;
    }
    if (lab_make_dirs(lab->results) != 0) {
        fprintf(stderr, "weft lab: cannot create %s: %s\n", lab->results, strerror(errno));
        return CLI_USAGE;
    }
    const char *which = co->solution ? "solution" : "starter";
    char program[PATH_MAX + 64];
    if (co->program)
        snprintf(program, sizeof program, "%s", co->program);
    else
        snprintf(program, sizeof program, "%s/labs/lab%s-%s", lp->build, lab->num, which);
    if (!co->no_build && !co->program && !lab_build_program(lp, lab, which)) {
        /* A program that does not build earns nothing: say so as a score, too. */
        int max = 0;
        for (int i = 0; i < spec.ntests; i++)
            max += spec.tests[i].points;
        if (co->json) {
            char log[PATH_MAX + 16];
            snprintf(log, sizeof log, "%s/build.log", lab->results);
            char *text = lab_read_text(log);
            printf("{\"lab\": \"%s\", \"title\": ", lab->num);
            json_string(stdout, spec.title);
            printf(", \"built\": false, \"score\": 0, \"max\": %d, \"build_log\": ", max);
            json_string(stdout, text ? text : "");
            printf(", \"tests\": []}\n");
            free(text);
        } else {
            printf("\nScore 0/%d (labs/%s/%s does not build)\n", max, lab->folder,
                   co->solution ? "solution/solution.c" : "starter.c");
        }
        lab_spec_free(&spec);
        return co->expect < 0 ? CLI_OK : CLI_FAILED;
    }
    if (access(program, X_OK) != 0) {
        fprintf(stderr, "weft lab: %s is not there (build it: ninja -C %s labs/lab%s-%s)\n",
                program, lab_shown(lp->build), lab->num, which);
        return CLI_USAGE;
    }

    test_result *results = calloc((size_t)spec.ntests, sizeof *results);
    if (!results) {
        fprintf(stderr, "weft lab: out of memory\n");
        return CLI_USAGE;
    }
    if (!co->json)
        printf("lab %s: %s — grading %s\n\n", lab->num, spec.title, lab_shown(program));
    int score = 0, max = 0, errors = 0, ntests_run = 0;
    for (int i = 0; i < spec.ntests; i++) {
        const lab_test *t = &spec.tests[i];
        test_result *r = &results[i];
        max += t->points;
        if (co->stop_at_first && i > 0 && !results[i - 1].passed)
            continue;
        grade_test(lp, lab, program, t, r);
        ntests_run++;
        if (co->finding && !co->finding->found && r->ran && r->res.failed) {
            lab_finding *fd = co->finding;
            fd->found = lab_fmt_path(fd->schedule, sizeof fd->schedule, "%s",
                                     r->res.shrunk_path[0] ? r->res.shrunk_path
                                                           : r->res.failing_path);
            snprintf(fd->checks, sizeof fd->checks, "%s", t->checks);
            snprintf(fd->kind, sizeof fd->kind, "%s", r->res.kind);
            fd->args[0] = '\0';
            for (int a = 0; a < t->nargs; a++) {
                size_t len = strlen(fd->args);
                snprintf(fd->args + len, sizeof fd->args - len, "%s%s", a ? " " : "", t->args[a]);
            }
        }
        if (!r->ran)
            errors++;
        if (r->passed)
            score += t->points;
        if (co->json)
            continue;
        char runs[64];
        if (strncmp(t->strategy, "dfs", 3) == 0 || t->runs == 1)
            snprintf(runs, sizeof runs, "%s", t->strategy);
        else
            snprintf(runs, sizeof runs, "%s seeds %llu..%llu", t->strategy,
                     (unsigned long long)t->seed_first,
                     (unsigned long long)(t->seed_first + t->runs - 1));
        printf("  %-28s %-24s %s %3d/%-3d\n", t->name, runs,
               !r->ran ? "ERROR" : r->passed ? "  ok " : " FAIL", r->passed ? t->points : 0,
               t->points);
        if (!r->ran) {
            printf("      could not run: %s\n", r->error);
        } else if (!r->passed) {
            if (t->about[0])
                printf("      the test: %s\n", t->about);
            printf("      failed after %llu schedule%s: %s\n",
                   (unsigned long long)r->res.schedules, r->res.schedules == 1 ? "" : "s",
                   r->res.kind);
            print_indented(r->res.summary, "        ");
            printf("      replay it:  %s\n", r->replay);
        }
    }
    if (co->json) {
        printf("{\"lab\": \"%s\", \"folder\": ", lab->num);
        json_string(stdout, lab->folder);
        printf(", \"title\": ");
        json_string(stdout, spec.title);
        printf(", \"program\": ");
        json_string(stdout, program);
        printf(", \"score\": %d, \"max\": %d, \"tests\": [", score, max);
        for (int i = 0; i < spec.ntests; i++) {
            const lab_test *t = &spec.tests[i];
            const test_result *r = &results[i];
            printf("%s\n  {\"name\": ", i ? "," : "");
            json_string(stdout, t->name);
            printf(", \"points\": %d, \"earned\": %d, \"ran\": %s, \"passed\": %s, "
                   "\"strategy\": ",
                   t->points, r->passed ? t->points : 0, r->ran ? "true" : "false",
                   r->passed ? "true" : "false");
            json_string(stdout, t->strategy);
            printf(", \"schedules\": %llu", (unsigned long long)r->res.schedules);
            if (!r->ran) {
                printf(", \"error\": ");
                json_string(stdout, r->error);
            } else if (!r->passed) {
                printf(", \"kind\": ");
                json_string(stdout, r->res.kind);
                printf(", \"explanation\": ");
                json_string(stdout, r->res.summary);
                printf(", \"schedule\": ");
                json_string(stdout, r->res.shrunk_path[0] ? r->res.shrunk_path
                                                          : r->res.failing_path);
                printf(", \"replay\": ");
                json_string(stdout, r->replay);
            }
            printf("}");
        }
        printf("\n]}\n");
    } else if (co->stop_at_first && ntests_run < spec.ntests) {
        printf("\n  (stopped at the first failing test; all %d tests: %s lab check %s)\n",
               spec.ntests, lp->weft, lab->num);
    } else {
        printf("\nScore %d/%d\n", score, max);
    }
    if (!co->program && !co->stop_at_first) {
        char path[PATH_MAX + 32];
        snprintf(path, sizeof path, "%s/last-score-%s", lab->results, which);
        lab_write_text_file(path, "%d/%d\n", score, max);
    }
    free(results);
    lab_spec_free(&spec);
    if (errors)
        return CLI_USAGE;
    bool full = score == max;
    if (co->expect)
        return (co->expect > 0) == full ? CLI_OK : CLI_FAILED;
    return full ? CLI_OK : CLI_FAILED;
}
