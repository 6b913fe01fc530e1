/* cli/cmd_replay.c - `weft replay`: run a program under a recorded schedule.
 *
 *     weft replay [--tolerant[=fifo|random]] [--step] [--out FILE] SCHEDULE -- PROGRAM [ARGS]
 *
 * The schedule is checked first (format, version, truncation) so that a bad file is refused
 * here with the parser's message. Then PROGRAM runs with WEFT_SCHED=replay:SCHEDULE: its
 * deterministic scheduler follows the schedule step by step and stops at the first divergence
 * (or, --tolerant, goes on with another strategy), recording what really happened into a new
 * schedule. Comparing the two files gives the verdict: reproduced exactly (byte-identical),
 * or where the run went another way.
 *
 * Exit status: 0 reproduced exactly (or, tolerant, ran to the end), 1 diverged or ended
 * differently, 2 bad usage or a refused schedule.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <weft/error.h>
#include <weft/sched.h>

#include "cli.h"

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap + 1);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (n < cap)
            break;
        cap *= 2;
        char *nb = realloc(buf, cap + 1);
        if (!nb) {
            free(buf);
            buf = NULL;
        }
        buf = nb;
    }
    fclose(f);
    if (buf)
        buf[n] = '\0';
    *len = n;
    return buf;
}

/* The first line where two texts differ (1-based), 0 if they are equal. Comment lines are
 * part of the file and compared too: they hold the outcome's explanation. */
static size_t first_different_line(const char *a, const char *b)
{
    size_t line = 1;
    for (;;) {
        const char *ea = strchr(a, '\n'), *eb = strchr(b, '\n');
        size_t la = ea ? (size_t)(ea - a) : strlen(a), lb = eb ? (size_t)(eb - b) : strlen(b);
        if (la != lb || memcmp(a, b, la) != 0)
            return line;
        if (!ea || !eb)
            return ea == eb ? 0 : line + 1;
        a = ea + 1;
        b = eb + 1;
        line++;
    }
}

static int replay_run(int argc, char **argv)
{
    const cli_cmd *me = &cli_cmd_replay;
    const char *tolerant = NULL, *out = NULL, *schedule = NULL;
    bool step = false;
    int i = 1;
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            i++;
            break;
        }
        if (strcmp(a, "--tolerant") == 0 || strcmp(a, "--tolerant=fifo") == 0) {
            tolerant = "1";
        } else if (strcmp(a, "--tolerant=random") == 0) {
            tolerant = "random";
        } else if (strcmp(a, "--step") == 0) {
            step = true;
        } else if (strcmp(a, "--out") == 0) {
            if (i + 1 >= argc)
                return cli_usage_error(me, "--out needs a file");
            out = argv[++i];
        } else if (a[0] == '-') {
            return cli_usage_error(me, "unknown option '%s'", a);
        } else if (!schedule) {
            schedule = a;
        } else {
            return cli_usage_error(me, "put '--' before the program: weft replay SCHEDULE -- "
                                       "PROGRAM ARGS");
        }
    }
    if (!schedule)
        return cli_usage_error(me, "which schedule? weft replay SCHEDULE -- PROGRAM ARGS");
    if (i >= argc)
        return cli_usage_error(me, "which program? weft replay SCHEDULE -- PROGRAM ARGS");

    weft_schedule_info info;
    char err[1024];
    if (weft_schedule_read_info(schedule, NULL, &info, err, sizeof err) != 0) {
        fprintf(stderr, "weft replay: refused: %s\n", err);
        return CLI_USAGE;
    }
    char abs_schedule[PATH_MAX];
    if (!realpath(schedule, abs_schedule)) {
        fprintf(stderr, "weft replay: %s: %s\n", schedule, strerror(errno));
        return CLI_USAGE;
    }
    /* When the program is given by path, check that it is the one the schedule is for. */
    char prog_path[PATH_MAX];
    if (strchr(argv[i], '/') && realpath(argv[i], prog_path)) {
        const char *base = strrchr(prog_path, '/') + 1;
        if (strncmp(base, "lt-", 3) == 0)
            base += 3;
        if (strcmp(base, info.program) != 0) {
            fprintf(stderr, "weft replay: refused: %s was recorded for program '%s', not '%s'\n",
                    schedule, info.program, base);
            return CLI_USAGE;
        }
    }

    char tmp[] = "/tmp/weft-replay-XXXXXX";
    int fd = mkstemp(tmp);
    if (fd < 0) {
        fprintf(stderr, "weft replay: cannot create a temporary file: %s\n", strerror(errno));
        return CLI_USAGE;
    }
    close(fd);
    const char *record_to = out ? out : tmp;
    remove(record_to);

    fprintf(stderr, "weft replay: %s (%s, seed %llu, %llu steps, %s) -- %s\n", schedule,
            info.strategy, (unsigned long long)info.seed, (unsigned long long)info.steps,
            info.outcome, argv[i]);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "weft replay: fork: %s\n", strerror(errno));
        remove(tmp);
        return CLI_USAGE;
    }
    if (pid == 0) {
        char spec[PATH_MAX + 16];
        snprintf(spec, sizeof spec, "replay:%s", abs_schedule);
        setenv("WEFT_SCHED", spec, 1);
        setenv("WEFT_SCHEDULE_OUT", record_to, 1);
        if (tolerant)
            setenv("WEFT_SCHED_TOLERANT", tolerant, 1);
        else
            unsetenv("WEFT_SCHED_TOLERANT");
        if (step)
            setenv("WEFT_SCHED_STEP", "1", 1);
        execvp(argv[i], argv + i);
        fprintf(stderr, "weft replay: cannot run %s: %s\n", argv[i], strerror(errno));
        _exit(127);
    }
    int ws = 0;
    while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
        ;
    if (WIFEXITED(ws) && WEXITSTATUS(ws) == 127) {
        remove(tmp);
        return CLI_USAGE;
    }

    int rc = CLI_FAILED;
    weft_schedule_info now;
    if (weft_schedule_read_info(record_to, NULL, &now, err, sizeof err) != 0) {
        fprintf(stderr, "weft replay: the program did not record a schedule (%s): did it "
                        "build a weft runtime and shut it down?\n",
                WIFSIGNALED(ws) ? "it was killed by a signal" : "none was written");
    } else if (strcmp(now.outcome, "divergence") == 0) {
        fprintf(stderr, "weft replay: diverged after %llu of %llu steps (see above)\n",
                (unsigned long long)now.steps, (unsigned long long)info.steps);
    } else {
        size_t la = 0, lb = 0;
        char *a = read_file(abs_schedule, &la), *b = read_file(record_to, &lb);
        size_t line = a && b ? first_different_line(a, b) : 1;
        if (line == 0) {
            fprintf(stderr, "weft replay: reproduced exactly: %llu steps, %llu ms of virtual "
                            "time, outcome %s (the recorded schedule and the replay's are "
                            "byte-identical)\n",
                    (unsigned long long)now.steps, (unsigned long long)(now.vtime / 1000000u),
                    now.outcome);
            rc = CLI_OK;
        } else if (tolerant) {
            fprintf(stderr, "weft replay: --tolerant: ran %llu steps (the schedule had %llu), "
                            "outcome %s (recorded: %s)\n",
                    (unsigned long long)now.steps, (unsigned long long)info.steps, now.outcome,
                    info.outcome);
            rc = CLI_OK;
        } else {
            fprintf(stderr, "weft replay: the run followed every step but ended differently: "
                            "%s instead of %s (first difference at line %zu of the schedule)\n",
                    now.outcome, info.outcome, line);
        }
        free(a);
        free(b);
    }
    if (out)
        fprintf(stderr, "weft replay: the replay's schedule is in %s\n", out);
    remove(tmp);
    return rc;
}

const cli_cmd cli_cmd_replay = {
    .name = "replay",
    .args = "[--tolerant[=fifo|random]] [--step] [--out FILE] SCHEDULE -- PROGRAM [ARGS...]",
    .summary = "rerun a program under a recorded schedule, checking every step",
    .help =
        "Run PROGRAM under the deterministic scheduler following SCHEDULE (written by weft\n"
        "explore, or by a run with WEFT_SCHEDULE_OUT). Every decision is checked: the runnable\n"
        "tasks must be the recorded ones and each task must do what it did then. On the first\n"
        "difference the run stops and says at which step, which task was expected to do what,\n"
        "what was runnable instead, and the source lines.\n"
        "\n"
        "  --tolerant[=fifo|random]  replay the longest matching prefix, then go on with FIFO\n"
        "                            (default) or random decisions: for a program you edited\n"
        "  --step                    stop before each decision (Enter: next, c: continue,\n"
        "                            q: quit)\n"
        "  --out FILE                keep the replay's own schedule in FILE\n"
        "\n"
        "A malformed, truncated or version-mismatched schedule, or one recorded for another\n"
        "program, is refused. Exit status: 0 reproduced exactly, 1 diverged or ended\n"
        "differently, 2 bad usage or a refused schedule.\n",
    .run = replay_run,
};
