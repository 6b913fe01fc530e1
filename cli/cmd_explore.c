/* cli/cmd_explore.c - `weft explore`: run a program under many schedules until one fails.
 *
 *     weft explore [--strategy S] [--iterations N | --time T] [--seed N] [--out DIR]
 *                  [--check-determinism] [--no-shrink] [--allow-alive] [--limits L]
 *                  [--timeout SECS] -- PROGRAM [ARGS...]
 *
 * The work is in libweft (weft_explore_program, replay/): this file parses the options,
 * builds the replay command that is printed with a failure, and maps the result to an exit
 * code: 0 no failure (or the space was exhausted), 1 a failure was found, 2 usage or the
 * program could not be explored.
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

static bool parse_u64(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (!*s || *end || errno || s[0] == '-')
        return false;
    *out = v;
    return true;
}

/* "30", "30s", "500ms", "2m", "1h" as seconds. */
static bool parse_seconds(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno || v < 0)
        return false;
    if (!*end || strcmp(end, "s") == 0)
        *out = v;
    else if (strcmp(end, "ms") == 0)
        *out = v / 1000.0;
    else if (strcmp(end, "m") == 0)
        *out = v * 60.0;
    else if (strcmp(end, "h") == 0)
        *out = v * 3600.0;
    else
        return false;
    return true;
}

/* "steps=N,vtime=DUR,starvation=N" into the options (DUR: 10s, 500ms, 2m, 1h, or ms). */
static bool parse_limits(const char *text, weft_explore_opts *o)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", text);
    for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
        char *eq = strchr(tok, '=');
        if (!eq)
            return false;
        *eq = '\0';
        const char *v = eq + 1;
        if (strcmp(tok, "steps") == 0) {
            if (!parse_u64(v, &o->max_steps))
                return false;
        } else if (strcmp(tok, "starvation") == 0) {
            if (!parse_u64(v, &o->starvation))
                return false;
        } else if (strcmp(tok, "vtime") == 0) {
            double s;
            uint64_t ms;
            if (parse_u64(v, &ms))
                s = (double)ms / 1000.0;
            else if (!parse_seconds(v, &s))
                return false;
            o->max_vtime = (uint64_t)(s * 1e9);
        } else {
            return false;
        }
    }
    return true;
}

/* Append `s` to buf, quoted for a POSIX shell when needed, and with '%' doubled (the result is
 * a printf format). */
static void append_quoted(char *buf, size_t size, const char *s)
{
    size_t len = strlen(buf);
    bool plain = *s != '\0';
    for (const char *p = s; *p; p++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./=:,+@", *p))
            plain = false;
    if (len + 2 >= size)
        return;
    buf[len++] = ' ';
    if (!plain)
        buf[len++] = '\'';
    for (const char *p = s; *p && len + 6 < size; p++) {
        if (*p == '\'') {
            memcpy(buf + len, "'\\''", 4);
            len += 4;
        } else if (*p == '%') {
            buf[len++] = '%';
            buf[len++] = '%';
        } else {
            buf[len++] = *p;
        }
    }
    if (!plain && len + 1 < size)
        buf[len++] = '\'';
    buf[len] = '\0';
}

/* Record the shrunk schedule's run into a trace database beside it, for `weft console`: the
 * program replays the schedule (WEFT_SCHED=replay:...) under `weft record`. */
static void record_trace(const char *schedule, char *const *prog)
{
    char self[PATH_MAX], abs_sched[PATH_MAX], db[PATH_MAX + 16];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0 || !realpath(schedule, abs_sched))
        return;
    self[n] = '\0';
    size_t len = strlen(schedule);
    const char *suffix = ".schedule";
    size_t sl = strlen(suffix);
    if (len > sl && strcmp(schedule + len - sl, suffix) == 0)
        len -= sl;
    snprintf(db, sizeof db, "%.*s.trace.db", (int)len, schedule);
    pid_t pid = fork();
    if (pid < 0)
        return;
    if (pid == 0) {
        char spec[PATH_MAX + 16];
        snprintf(spec, sizeof spec, "replay:%s", abs_sched);
        setenv("WEFT_SCHED", spec, 1);
        int argc = 0;
        while (prog[argc])
            argc++;
        char **args = calloc((size_t)argc + 7, sizeof *args);
        if (!args)
            _exit(127);
        int k = 0;
        args[k++] = self;
        args[k++] = "record";
        args[k++] = "-q";
        args[k++] = "-o";
        args[k++] = db;
        args[k++] = "--";
        for (int i = 0; i < argc; i++)
            args[k++] = prog[i];
        /* The replay's own report went out with the exploration already. */
        freopen("/dev/null", "w", stdout);
        freopen("/dev/null", "w", stderr);
        execv(self, args);
        _exit(127);
    }
    int ws = 0;
    while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
        ;
    if (access(db, R_OK) == 0)
        printf("trace database:   %s (the replayed failing run, for weft console)\n", db);
}

static int explore_run(int argc, char **argv)
{
    const cli_cmd *me = &cli_cmd_explore;
    weft_explore_opts o = {0};
    o.strategy = "random";
    o.out_dir = "weft-explore";
    o.progress = stdout;
    bool have_iters = false, have_time = false;
    int i = 1;
    for (; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--") == 0) {
            i++;
            break;
        }
        if (strcmp(a, "--check-determinism") == 0) {
            o.check_determinism = true;
            continue;
        }
        if (strcmp(a, "--no-shrink") == 0) {
            o.no_shrink = true;
            continue;
        }
        if (strcmp(a, "--allow-alive") == 0) {
            o.allow_alive = true;
            continue;
        }
        if (a[0] != '-')
            return cli_usage_error(me, "put '--' before the program: weft explore [options] -- "
                                       "PROGRAM ARGS");
        if (!v)
            return cli_usage_error(me, "option '%s' needs a value", a);
        i++;
        if (strcmp(a, "--strategy") == 0) {
            o.strategy = v;
        } else if (strcmp(a, "--iterations") == 0) {
            if (!parse_u64(v, &o.iterations) || o.iterations == 0)
                return cli_usage_error(me, "--iterations wants a positive number, not '%s'", v);
            have_iters = true;
        } else if (strcmp(a, "--time") == 0) {
            if (!parse_seconds(v, &o.time_limit_s) || o.time_limit_s <= 0)
                return cli_usage_error(me, "--time wants a duration such as 30s or 2m, not '%s'",
                                       v);
            have_time = true;
        } else if (strcmp(a, "--seed") == 0) {
            if (!parse_u64(v, &o.seed))
                return cli_usage_error(me, "--seed wants a number, not '%s'", v);
        } else if (strcmp(a, "--out") == 0) {
            o.out_dir = v;
        } else if (strcmp(a, "--limits") == 0) {
            if (!parse_limits(v, &o))
                return cli_usage_error(me, "--limits wants steps=N,vtime=DURATION,starvation=N, "
                                           "not '%s'",
                                       v);
        } else if (strcmp(a, "--timeout") == 0) {
            if (!parse_seconds(v, &o.run_timeout_s) || o.run_timeout_s <= 0)
                return cli_usage_error(me, "--timeout wants a duration, not '%s'", v);
        } else {
            return cli_usage_error(me, "unknown option '%s'", a);
        }
    }
    if (have_iters && have_time)
        return cli_usage_error(me, "give --iterations or --time, not both");
    if (i >= argc)
        return cli_usage_error(me, "which program? weft explore [options] -- PROGRAM ARGS");
    if (!have_iters && !have_time)
        o.iterations = 10000;

    static char replay[4096];
    snprintf(replay, sizeof replay, "weft replay %%s --");
    for (int k = i; k < argc; k++)
        append_quoted(replay, sizeof replay, argv[k]);
    o.replay_command = replay;

    weft_explore_result res;
    int rc = weft_explore_program(&o, argv + i, &res);
    if (rc == WEFT_EINVAL)
        return cli_usage_error(me, "%s", res.summary);
    if (rc) {
        fprintf(stderr, "weft explore: %s\n", res.summary[0] ? res.summary : weft_strerror(rc));
        return CLI_USAGE;
    }
    if (res.failed && res.shrunk_path[0]) {
        fflush(stdout);
        record_trace(res.shrunk_path, argv + i);
    }
    return res.failed ? CLI_FAILED : CLI_OK;
}

const cli_cmd cli_cmd_explore = {
    .name = "explore",
    .args = "[--strategy S] [--iterations N | --time T] [--seed N] [--out DIR] "
            "[--check-determinism] [--no-shrink] [--allow-alive] [--limits L] [--timeout T] "
            "-- PROGRAM [ARGS...]",
    .summary = "run a program under many schedules until one fails; shrink and replay it",
    .help =
        "Run PROGRAM (a weft program) under the deterministic scheduler, one schedule after\n"
        "another, until a run fails: a deadlock, a lost wakeup, a stall, a weft_assert, the\n"
        "virtual-time or step limit, starvation, tasks alive at shutdown, a crash or a non-zero\n"
        "exit. The program is started once; each schedule runs in a forked child.\n"
        "\n"
        "On a failure it writes DIR/NAME.failing.schedule and a shrunk DIR/NAME.shrunk.schedule\n"
        "(fewest preemptions, then fewest steps), checks that the shrunk one replays to the\n"
        "same schedule byte for byte, tells its story, prints the command that replays it, and\n"
        "records the replayed failing run into DIR/NAME.shrunk.trace.db (weft record).\n"
        "\n"
        "  --strategy S          random (default), pct[:DEPTH] (default depth 3), fifo, or\n"
        "                        dfs[:BOUND] (every schedule with at most BOUND preemptions;\n"
        "                        says \"exhausted: N schedules\" when it has run them all)\n"
        "  --iterations N        schedules to try (default 10000)\n"
        "  --time T              or explore for this long (30s, 5m)\n"
        "  --seed N              first seed; run i uses seed + i (default 0)\n"
        "  --out DIR             where schedules go (default ./weft-explore)\n"
        "  --check-determinism   run every schedule twice and compare the two runs step by step\n"
        "  --no-shrink           keep the failing schedule as found\n"
        "  --allow-alive         tasks alive at shutdown are not a failure\n"
        "  --limits L            steps=N,vtime=DURATION,starvation=N per run\n"
        "  --timeout T           real time one run may take before it is killed (default 10s)\n"
        "\n"
        "Exit status: 0 nothing failed, 1 a failure was found, 2 bad usage or the program could\n"
        "not be explored.\n",
    .run = explore_run,
};
