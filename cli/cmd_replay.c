/* cli/cmd_replay.c - `weft replay`: run a program under a recorded schedule.
 *
 *     weft replay [--tolerant[=fifo|random]] [--step] [--out FILE] SCHEDULE -- PROGRAM [ARGS]
 *     weft replay --trace TRACE.db [--out FILE] -- PROGRAM [ARGS]
 *
 * The schedule is checked first (format, version, truncation) so that a bad file is refused
 * here with the parser's message. Then PROGRAM runs with WEFT_SCHED=replay:SCHEDULE: its
 * deterministic scheduler follows the schedule step by step and stops at the first divergence
 * (or, --tolerant, goes on with another strategy), recording what really happened into a new
 * schedule. Comparing the two files gives the verdict: reproduced exactly (byte-identical),
 * or where the run went another way.
 *
 * With --trace, the schedule comes from a trace database that `weft record` wrote of a run
 * on any scheduler (a multi-threaded one, typically): the polls it recorded, ordered by the
 * time they began, become a linearised schedule (tasks named by spawn location and ordinal,
 * as in every schedule), and the program runs with WEFT_SCHED=guide:FILE, which follows that
 * order wherever the tasks are runnable. The verdict says whether the whole order could be
 * followed, or at which poll the run had to leave it.
 *
 * Exit status: 0 reproduced exactly (or, tolerant, ran to the end; with --trace: followed
 * every poll), 1 diverged or ended differently, 2 bad usage or a refused schedule.
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

#include "../instrument/reader.h"
#include "cli.h"

/* ---------------------------------------------------------------- a trace as a schedule */

typedef struct trace_task {
    uint64_t id;
    uint32_t alias;
    char *name, *file, *func;
    uint32_t line, ordinal;
    uint8_t kind;
    uint64_t parent;
} trace_task;

typedef struct trace_poll {
    uint64_t ts;
    uint64_t task;
} trace_poll;

static int cmp_poll(const void *a, const void *b)
{
    const trace_poll *x = a, *y = b;
    return x->ts < y->ts ? -1 : x->ts > y->ts;
}

/* The schedule format's escaping (replay/schedule_file.c). */
static void put_esc(FILE *f, const char *s)
{
    if (!s || !*s) {
        fputc('-', f);
        return;
    }
    if (strcmp(s, "-") == 0) {
        fputs("%2D", f);
        return;
    }
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p > ' ' && *p < 127 && *p != '%' && *p != ',' && *p != '=')
            fputc(*p, f);
        else
            fprintf(f, "%%%02X", *p);
    }
}

static const char *base_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* Read TRACE.db into a guide schedule at `out` for `program`. 0, or -1 with err. */
static int trace_to_guide(const char *db, const char *program, const char *out, size_t *npolls,
                          char *err, size_t err_size)
{
    weft_reader *r;
    if (weft_reader_open_trace(db, &r) < 0) {
        snprintf(err, err_size, "%s", weft_reader_open_error()); /* it names the file */
        return -1;
    }
    trace_task *tasks = NULL;
    size_t ntasks = 0, cap_tasks = 0;
    trace_poll *polls = NULL;
    size_t npoll = 0, cap_polls = 0;
    int rc = 0;
    weft_event ev;
    int got;
    while ((got = weft_reader_next(r, &ev)) == 1) {
        if (ev.type == WEFT_EV_task_spawn) {
            if (ntasks == cap_tasks) {
                cap_tasks = cap_tasks ? cap_tasks * 2 : 64;
                trace_task *t = realloc(tasks, cap_tasks * sizeof *t);
                if (!t) {
                    rc = -1;
                    break;
                }
                tasks = t;
            }
            const weft_ev_task_spawn *e = &ev.u.task_spawn;
            weft_reader_loc loc = {"", "", 0};
            weft_reader_location(r, e->location, &loc);
            const char *name = weft_reader_string(r, e->name);
            trace_task *t = &tasks[ntasks];
            t->id = e->task;
            t->alias = (uint32_t)ntasks;
            t->name = strdup(name ? name : "task");
            t->file = strdup(base_of(loc.file ? loc.file : ""));
            t->func = strdup(loc.func ? loc.func : "");
            t->line = loc.line;
            t->kind = e->kind;
            t->parent = e->parent;
            t->ordinal = 1;
            for (size_t k = 0; k < ntasks; k++)
                if (strcmp(tasks[k].name, t->name) == 0 && strcmp(tasks[k].file, t->file) == 0 &&
                    strcmp(tasks[k].func, t->func) == 0)
                    t->ordinal++;
            ntasks++;
        } else if (ev.type == WEFT_EV_task_poll_begin || ev.type == WEFT_EV_task_poll) {
            if (npoll == cap_polls) {
                cap_polls = cap_polls ? cap_polls * 2 : 1024;
                trace_poll *p = realloc(polls, cap_polls * sizeof *p);
                if (!p) {
                    rc = -1;
                    break;
                }
                polls = p;
            }
            if (ev.type == WEFT_EV_task_poll_begin)
                polls[npoll++] = (trace_poll){ev.ts, ev.u.task_poll_begin.task};
            else
                polls[npoll++] = (trace_poll){ev.ts - ev.u.task_poll.begin_delta,
                                              ev.u.task_poll.task};
        }
    }
    if (got < 0 && rc == 0) {
        snprintf(err, err_size, "%s: %s", db, weft_reader_last_error(r));
        rc = -1;
    }
    weft_reader_close(r);
    FILE *f = rc == 0 ? fopen(out, "w") : NULL;
    if (rc == 0 && !f) {
        snprintf(err, err_size, "%s: %s", out, strerror(errno));
        rc = -1;
    }
    if (f) {
        qsort(polls, npoll, sizeof *polls, cmp_poll);
        /* Keep the polls of tasks whose spawn the trace saw. */
        size_t kept = 0;
        for (size_t i = 0; i < npoll; i++) {
            for (size_t k = 0; k < ntasks; k++) {
                if (tasks[k].id == polls[i].task) {
                    polls[kept++] = (trace_poll){polls[i].ts, k};
                    break;
                }
            }
        }
        fprintf(f, "# weft schedule: the polls of %s in the order they began (a linearised\n"
                   "# trace), followed by WEFT_SCHED=guide:THIS_FILE.\n",
                db);
        fprintf(f, "weft-schedule 1\nprogram ");
        put_esc(f, program);
        fprintf(f, "\nstrategy trace\nseed 0\nlimits steps=0 vtime=0 starvation=0\n"
                   "outcome ok step=0 preemptions=0 vtime=0 exit=0\nmessage -\nsignature -\n");
        fprintf(f, "tasks %zu\n", ntasks);
        for (size_t k = 0; k < ntasks; k++) {
            trace_task *t = &tasks[k];
            fprintf(f, "task T%zu name=", k);
            put_esc(f, t->name);
            fprintf(f, " file=");
            put_esc(f, t->file);
            fprintf(f, " func=");
            put_esc(f, t->func);
            fprintf(f, " line=%u ordinal=%u kind=%s parent=", t->line, t->ordinal,
                    t->kind == 1 ? "blocking" : "async");
            size_t p = 0;
            while (p < k && tasks[p].id != t->parent)
                p++;
            if (p < k)
                fprintf(f, "T%zu\n", p);
            else
                fprintf(f, "-\n");
        }
        fprintf(f, "steps %zu\n", kept);
        for (size_t i = 0; i < kept; i++)
            fprintf(f, "step %zu t=0 run=T%llu of=T%llu op=pending res=- at=-\n", i,
                    (unsigned long long)polls[i].task, (unsigned long long)polls[i].task);
        fprintf(f, "end\n");
        if (fclose(f) != 0) {
            snprintf(err, err_size, "%s: %s", out, strerror(errno));
            rc = -1;
        }
        *npolls = kept;
    }
    for (size_t k = 0; k < ntasks; k++) {
        free(tasks[k].name);
        free(tasks[k].file);
        free(tasks[k].func);
    }
    free(tasks);
    free(polls);
    if (rc && !err[0])
        snprintf(err, err_size, "out of memory reading %s", db);
    return rc;
}

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

/* Run the program and wait; 127 when it could not be started. */
static int run_with(char *const *prog, const char *spec, const char *record_to)
{
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        setenv("WEFT_SCHED", spec, 1);
        setenv("WEFT_SCHEDULE_OUT", record_to, 1);
        unsetenv("WEFT_SCHED_TOLERANT");
        unsetenv("WEFT_SCHED_STEP");
        execvp(prog[0], prog);
        fprintf(stderr, "weft replay: cannot run %s: %s\n", prog[0], strerror(errno));
        _exit(127);
    }
    int ws = 0;
    while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
        ;
    return ws;
}

static int replay_trace(const char *trace, const char *out, char *const *prog)
{
    char program[PATH_MAX], err[1024] = "";
    const char *name = base_of(prog[0]);
    if (strchr(prog[0], '/') && realpath(prog[0], program))
        name = base_of(program);
    if (strncmp(name, "lt-", 3) == 0)
        name += 3;
    char guide[] = "/tmp/weft-trace-guide-XXXXXX", rec[] = "/tmp/weft-trace-run-XXXXXX";
    int fd1 = mkstemp(guide), fd2 = mkstemp(rec);
    if (fd1 < 0 || fd2 < 0) {
        fprintf(stderr, "weft replay: cannot create a temporary file: %s\n", strerror(errno));
        return CLI_USAGE;
    }
    close(fd1);
    close(fd2);
    const char *record_to = out ? out : rec;
    size_t npolls = 0;
    int rc = CLI_USAGE;
    if (trace_to_guide(trace, name, guide, &npolls, err, sizeof err) != 0) {
        fprintf(stderr, "weft replay: refused: %s\n", err);
        goto out;
    }
    fprintf(stderr, "weft replay: %s: %zu polls, linearised by the time they began -- %s\n",
            trace, npolls, prog[0]);
    char spec[PATH_MAX + 16];
    snprintf(spec, sizeof spec, "guide:%s", guide);
    remove(record_to);
    int ws = run_with(prog, spec, record_to);
    if (ws < 0 || (WIFEXITED(ws) && WEXITSTATUS(ws) == 127))
        goto out;
    weft_schedule_info now;
    if (weft_schedule_read_info(record_to, NULL, &now, err, sizeof err) != 0) {
        fprintf(stderr, "weft replay: the program did not record a schedule: did it build a "
                        "weft runtime and shut it down?\n");
        rc = CLI_FAILED;
    } else if (strcmp(now.outcome, "divergence") == 0) {
        fprintf(stderr, "weft replay: %s\n", now.message);
        rc = CLI_FAILED;
    } else {
        fprintf(stderr, "weft replay: matched: the deterministic run followed all %zu polls of "
                        "the trace in order (%llu steps, outcome %s)\n",
                npolls, (unsigned long long)now.steps, now.outcome);
        rc = CLI_OK;
    }
out:
    remove(guide);
    remove(rec);
    return rc;
}

static int replay_run(int argc, char **argv)
{
    const cli_cmd *me = &cli_cmd_replay;
    const char *tolerant = NULL, *out = NULL, *schedule = NULL, *trace = NULL;
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
        } else if (strcmp(a, "--trace") == 0) {
            if (i + 1 >= argc)
                return cli_usage_error(me, "--trace needs a trace database");
            trace = argv[++i];
        } else if (a[0] == '-') {
            return cli_usage_error(me, "unknown option '%s'", a);
        } else if (!schedule) {
            schedule = a;
        } else {
            return cli_usage_error(me, "put '--' before the program: weft replay SCHEDULE -- "
                                       "PROGRAM ARGS");
        }
    }
    if (i >= argc)
        return cli_usage_error(me, "which program? weft replay SCHEDULE -- PROGRAM ARGS");
    if (trace)
        return replay_trace(trace, out, argv + i);
    if (!schedule)
        return cli_usage_error(me, "which schedule? weft replay SCHEDULE -- PROGRAM ARGS");

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
    .args = "[--tolerant[=fifo|random]] [--step] [--out FILE] SCHEDULE | --trace TRACE.db "
            "-- PROGRAM [ARGS...]",
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
        "  --trace TRACE.db          instead of a schedule, the polls of a run recorded by\n"
        "                            weft record (on any scheduler), in the order they began:\n"
        "                            follow that order and say whether it could be followed\n"
        "                            to the end, or where the run had to leave it\n"
        "\n"
        "A malformed, truncated or version-mismatched schedule, or one recorded for another\n"
        "program, is refused. Exit status: 0 reproduced exactly, 1 diverged or ended\n"
        "differently, 2 bad usage or a refused schedule.\n",
    .run = replay_run,
};
