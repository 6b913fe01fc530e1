/* cli/lab_run.c - `weft lab run NN`: a lab's first contact.
 *
 * It tells the lab's story, builds the starter and runs it once under the fifo schedule (what a
 * current-thread runtime would do), grades it until the first failing test, and shows that
 * failure: the run is recorded into a trace database with `weft record` and opened in the
 * console, so the learner sees what each task did, or waits on, before reading the code.
 */
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "lab_int.h"
#include "lab_spec.h"

/* Record the replay of the finding's schedule into a trace database (weft record, with the
 * program under WEFT_SCHED=replay:...). Show it: the interactive console when stdout is a
 * terminal, else one snapshot frame; the console opens a recording where a deadlock formed,
 * or where the failing run stopped. (The recorder stamps a deterministic run's events with
 * its virtual time, so a poll charged 120 ms shows as 120 ms busy.) */
static void show_in_console(const lab_paths *lp, const lab_ref *lab, const char *program,
                            const lab_finding *fd)
{
    char self[PATH_MAX + 16], db[PATH_MAX + 32], log[PATH_MAX + 32], abs_sched[PATH_MAX];
    char spec[PATH_MAX + 16];
    if (!lab_fmt_path(self, sizeof self, "%s/cli/weft", lp->build) ||
        !lab_fmt_path(db, sizeof db, "%s/run.trace.db", lab->results) ||
        !lab_fmt_path(log, sizeof log, "%s/record.log", lab->results) ||
        !realpath(fd->schedule, abs_sched) ||
        !lab_fmt_path(spec, sizeof spec, "replay:%s", abs_sched))
        return;
    unlink(db);
    /* weft record -q -o DB -- PROGRAM --quiet [--checks C] [-- ARGS...] */
    char argbuf[256];
    snprintf(argbuf, sizeof argbuf, "%s", fd->args);
    char *argv[12 + LAB_MAX_ARGS];
    int k = 0;
    argv[k++] = self;
    argv[k++] = "record";
    argv[k++] = "-q";
    argv[k++] = "-o";
    argv[k++] = db;
    argv[k++] = "--";
    argv[k++] = (char *)program;
    argv[k++] = "--quiet";
    if (fd->checks[0]) {
        argv[k++] = "--checks";
        argv[k++] = (char *)fd->checks;
    }
    if (argbuf[0]) {
        argv[k++] = "--";
        for (char *tok = strtok(argbuf, " "); tok && k < 11 + LAB_MAX_ARGS;
             tok = strtok(NULL, " "))
            argv[k++] = tok;
    }
    argv[k] = NULL;
    lab_run_logged(argv, log, "WEFT_SCHED", spec);
    if (access(db, R_OK) != 0) {
        printf("\n(the failing run could not be recorded for the console: see %s)\n",
               lab_shown(log));
        return;
    }
    /* Every failure is worth a look: a stall shows what each task waits on; a check that
     * failed (a long poll, a starved timer) shows each task's busy time and polls, in the
     * run's virtual time, with the console's warnings. */
    if (isatty(STDOUT_FILENO)) {
        printf("\n== the failing run in the console (q quits) ==\n");
        char *cargv[] = {self, "console", db, NULL};
        lab_run_logged(cargv, NULL, NULL, NULL);
    } else {
        printf("\n== the failing run, as the console shows it ==\n\n");
        /* A deadlock is best seen as its cycle; other stalls in the tasks view. */
        const char *view = strcmp(fd->kind, "deadlock") == 0 ? "deadlocks" : "tasks";
        char *cargv[] = {self, "console", "--snapshot", "--view", (char *)view, "--width", "100",
                         db, NULL};
        lab_run_logged(cargv, NULL, NULL, NULL);
    }
    printf("\nThe recording of the failing run: %s console %s\n", lp->weft, lab_shown(db));
}

/* `run`: build, run the starter once (fifo: what a current-thread runtime would do) so the
 * learner sees its story and its checks, grade until the first failing test, and show that
 * failure in the console. */
int lab_verb_run(const lab_paths *lp, const lab_ref *lab)
{
    char *readme = lab_load_readme(lab);
    char title[200];
    lab_handout_title(readme, title, sizeof title);
    printf("lab %s: %s\n", lab->num, title);
    if (readme) {
        /* The story: the first paragraph after the title. */
        const char *p = strstr(readme, "\n\n");
        while (p && (p[2] == '#' || p[2] == '>' || p[2] == '\n'))
            p = strstr(p + 2, "\n\n");
        if (p) {
            const char *end = strstr(p + 2, "\n\n");
            printf("\n%.*s\n", (int)(end ? end - p - 2 : (long)strlen(p + 2)), p + 2);
        }
        free(readme);
    }
    if (lab_make_dirs(lab->results) != 0 || !lab_build_program(lp, lab, "starter"))
        return CLI_USAGE;

    char program[PATH_MAX + 64];
    snprintf(program, sizeof program, "%s/labs/lab%s-starter", lp->build, lab->num);
    printf("\n== one run of labs/%s/starter.c (deterministic scheduler, fifo) ==\n\n",
           lab->folder);
    char *argv[] = {program, NULL};
    int rc = lab_run_logged(argv, NULL, "WEFT_SCHED", "fifo");
    if (rc < 0 || rc >= 128)
        printf("\n(the program %s)\n", rc < 0 ? "could not be started" : "crashed");

    printf("\n== the grader, across many schedules ==\n\n");
    lab_finding finding = {0};
    check_opts co = {.no_build = true, .stop_at_first = true, .finding = &finding};
    int grc = lab_grade(lp, lab, &co);
    if (finding.found)
        show_in_console(lp, lab, program, &finding);
    printf("\nNext: read the handout (%s lab show %s), fix %s/starter.c,\n"
           "      and grade it (%s lab check %s). Stuck? %s lab hint %s\n",
           lp->weft, lab->num, lab_shown(lab->dir), lp->weft, lab->num, lp->weft, lab->num);
    return grc == CLI_USAGE ? CLI_USAGE : CLI_OK;
}
