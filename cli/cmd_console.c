/* cli/cmd_console.c - `weft console`: watch a weft program's tasks and resources, live or
 * recorded (console/).
 *
 *   weft console -- PROGRAM ARGS    launch it with tracing on and attach
 *   weft console PID                attach to a running weft program (WEFT_TRACE=1)
 *   weft console TRACE.db           open a recording (weft record, weft explore)
 *   weft console                    list the weft programs that can be attached
 *
 * On a terminal it runs the TUI (console/tui.c). With --snapshot, or when stdout is not a
 * terminal, it prints one frame as plain text and exits: for scripts, tests, `weft lab run`
 * and the book. A recording opens where it matters: at the moment a deadlock formed if one
 * did, else at its end.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <locale.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <weft/error.h>

#include "../console/app.h"
#include "../console/tui.h"
#include "../instrument/reader.h"
#include "cli.h"

#define DEFAULT_SNAPSHOT_WIDTH 120
#define DEFAULT_WATCH_MS 1000

typedef struct opts {
    bool snapshot;
    bool ascii;
    int view;          /* -1: default */
    const char *at;    /* recording: "end", "deadlock", "start", "event:N", or ms */
    long watch_ms;     /* live snapshot: how long to watch before printing */
    int width;
    unsigned long long task, resource;
    const char *filter;
    const char *sort;
    bool hide_done;
    bool takeover;
} opts;

static bool parse_num(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end || errno || v < 0)
        return false;
    *out = v;
    return true;
}

/* A lint threshold flag: --long-poll MS and the like. 1 if it was one, 0 if not, -1 bad. */
static int limit_flag(const char *a, const char *v, model_limits *l)
{
    static const struct {
        const char *flag;
        size_t off;
        double scale; /* to ns */
    } flags[] = {
        {"--long-poll", offsetof(model_limits, long_poll_ns), 1e6},
        {"--never-yielded", offsetof(model_limits, never_yield_ns), 1e6},
        {"--lost-waker", offsetof(model_limits, lost_waker_ns), 1e6},
        {"--starved", offsetof(model_limits, starved_ns), 1e6},
        {"--long-await", offsetof(model_limits, long_await_ns), 1e6},
        {"--grow-window", offsetof(model_limits, grow_window_ns), 1e6},
        {"--retain", offsetof(model_limits, retain_ns), 1e9},
        {"--grow-min", offsetof(model_limits, grow_min_len), 1},
    };
    double x;
    if (strcmp(a, "--self-wakes") == 0) {
        if (!v || !parse_num(v, &x) || x > 100)
            return -1;
        l->self_wake_ratio = x / 100.0;
        return 1;
    }
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
        if (strcmp(a, flags[i].flag) != 0)
            continue;
        if (!v || !parse_num(v, &x))
            return -1;
        *(uint64_t *)((char *)l + flags[i].off) = (uint64_t)(x * flags[i].scale);
        return 1;
    }
    return 0;
}

static int list_programs(void)
{
    int pids[256];
    int n = weft_reader_list_live(pids, 256);
    if (n < 0) {
        fprintf(stderr, "weft console: cannot list /dev/shm: %s\n", weft_strerror(n));
        return CLI_FAILED;
    }
    int shown = 0;
    for (int i = 0; i < n && i < 256; i++) {
        if (kill(pids[i], 0) != 0 && errno == ESRCH)
            continue; /* a segment left by a program that died */
        char path[64], cmd[256] = "";
        snprintf(path, sizeof path, "/proc/%d/cmdline", pids[i]);
        FILE *f = fopen(path, "r");
        if (f) {
            size_t len = fread(cmd, 1, sizeof cmd - 1, f);
            fclose(f);
            for (size_t k = 0; k + 1 < len; k++)
                if (cmd[k] == '\0')
                    cmd[k] = ' ';
            cmd[len] = '\0';
        }
        if (!shown)
            printf("%-8s %s\n", "PID", "COMMAND");
        printf("%-8d %s\n", pids[i], cmd);
        shown++;
    }
    if (!shown) {
        printf("no weft program to attach to: start one with WEFT_TRACE=1, or run "
               "weft console -- PROGRAM ARGS\n");
        return CLI_OK;
    }
    printf("\nattach with: weft console PID\n");
    return CLI_OK;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Put a recording's cursor where --at says (default: the deadlock, else the end). */
static int place_cursor(app *a, const char *at)
{
    source *s = &a->src;
    if (!at || strcmp(at, "deadlock") == 0) {
        size_t d = source_first_deadlock(s, &a->m);
        if (d != (size_t)-1) {
            source_seek(s, &a->m, d);
            snprintf(a->message, sizeof a->message, "opened where the deadlock formed (event %zu); E: end", d);
        } else {
            /* A failing run of the deterministic scheduler is torn down after it failed: open
             * at the failure, before its tasks were cancelled. */
            size_t f = source_failure_point(s);
            if (f != (size_t)-1 && f < s->nev) {
                source_seek(s, &a->m, f);
                snprintf(a->message, sizeof a->message,
                         "opened where the run stopped, before its teardown (event %zu); E: end", f);
            } else {
                source_seek(s, &a->m, s->nev);
                if (at)
                    snprintf(a->message, sizeof a->message, "no deadlock forms in this recording");
            }
        }
        return 0;
    }
    double ms;
    if (strcmp(at, "end") == 0) {
        source_seek(s, &a->m, s->nev);
    } else if (strcmp(at, "start") == 0) {
        source_seek(s, &a->m, 0);
    } else if (strncmp(at, "event:", 6) == 0 && parse_num(at + 6, &ms)) {
        source_seek(s, &a->m, (size_t)ms);
    } else if (parse_num(at, &ms)) {
        uint64_t t0 = s->nev ? s->evs[0].ts : 0, target = t0 + (uint64_t)(ms * 1e6);
        size_t c = 0;
        while (c < s->nev && s->evs[c].ts <= target)
            c++;
        source_seek(s, &a->m, c);
    } else {
        return -1;
    }
    return 0;
}

/* The task a detail snapshot shows when none is named: the first deadlocked one, else the
 * first with a warning, else the first. */
static uint64_t default_task(app *a)
{
    if (a->ncycles)
        return a->cycles[0].links[0].task;
    uint64_t best = 0;
    for (size_t i = 0; i < a->m.ntasks; i++) {
        uint64_t id = a->m.tasks[i]->id;
        bool warn = i < a->lints.ntasks && a->lints.task_mask[i];
        if (warn && (!best || id < best))
            best = id;
    }
    if (best)
        return best;
    for (size_t i = 0; i < a->m.ntasks; i++)
        if (!best || a->m.tasks[i]->id < best)
            best = a->m.tasks[i]->id;
    return best;
}

static int snapshot(app *a, const opts *o)
{
    canvas cv;
    if (!canvas_init(&cv, o->width, 2000, o->ascii)) {
        fprintf(stderr, "weft console: out of memory\n");
        return CLI_FAILED;
    }
    app_render(a, &cv);
    canvas_print(&cv, stdout);
    canvas_free(&cv);
    return CLI_OK;
}

static int console_run(int argc, char **argv)
{
    const cli_cmd *me = &cli_cmd_console;
    opts o = {.view = -1, .watch_ms = DEFAULT_WATCH_MS, .width = 0};
    model_limits limits;
    model_limits_default(&limits);
    int i = 1;
    char **prog = NULL;
    const char *target = NULL;
    for (; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        double x;
        if (strcmp(a, "--") == 0) {
            prog = &argv[i + 1];
            if (!*prog)
                return cli_usage_error(me, "'--' needs a program to run");
            break;
        }
        if (strcmp(a, "--snapshot") == 0) {
            o.snapshot = true;
        } else if (strcmp(a, "--ascii") == 0) {
            o.ascii = true;
        } else if (strcmp(a, "--takeover") == 0) {
            o.takeover = true;
        } else if (strcmp(a, "--hide-done") == 0) {
            o.hide_done = true;
        } else if (strcmp(a, "--view") == 0) {
            if (!v || (o.view = view_by_name(v)) < 0)
                return cli_usage_error(me, "--view takes tasks, task, resources, resource, "
                                           "workers, timeline, deadlocks, warnings or help");
            i++;
        } else if (strcmp(a, "--at") == 0) {
            if (!v)
                return cli_usage_error(me, "--at needs a value");
            o.at = v;
            i++;
        } else if (strcmp(a, "--watch") == 0) {
            if (!v || !parse_num(v, &x))
                return cli_usage_error(me, "--watch takes milliseconds");
            o.watch_ms = (long)x;
            i++;
        } else if (strcmp(a, "--width") == 0) {
            if (!v || !parse_num(v, &x) || x < 40 || x > 1000)
                return cli_usage_error(me, "--width takes a number of columns (40..1000)");
            o.width = (int)x;
            i++;
        } else if (strcmp(a, "--task") == 0 || strcmp(a, "--resource") == 0) {
            if (!v || !parse_num(v, &x) || x < 1)
                return cli_usage_error(me, "%s takes an id", a);
            if (a[2] == 't')
                o.task = (unsigned long long)x;
            else
                o.resource = (unsigned long long)x;
            i++;
        } else if (strcmp(a, "--filter") == 0) {
            if (!v)
                return cli_usage_error(me, "--filter needs text");
            o.filter = v;
            i++;
        } else if (strcmp(a, "--sort") == 0) {
            if (!v)
                return cli_usage_error(me, "--sort needs a column");
            o.sort = v;
            i++;
        } else {
            int r = limit_flag(a, v, &limits);
            if (r < 0)
                return cli_usage_error(me, "%s takes a number", a);
            if (r > 0) {
                i++;
                continue;
            }
            if (a[0] == '-')
                return cli_usage_error(me, "unknown option %s", a);
            if (target)
                return cli_usage_error(me, "one target only: PID, TRACE.db or -- PROGRAM");
            target = a;
        }
    }
    if (!target && !prog)
        return list_programs();
    if (!isatty(STDOUT_FILENO))
        o.snapshot = true;
    if (!o.width) {
        const char *cols = getenv("COLUMNS");
        double x;
        o.width = cols && parse_num(cols, &x) && x >= 40 && x <= 1000 ? (int)x
                                                                      : DEFAULT_SNAPSHOT_WIDTH;
    }
    setlocale(LC_ALL, "");

    app *a = calloc(1, sizeof *a);
    if (!a)
        return CLI_FAILED;
    app_init(a, o.ascii);
    a->m.limits = limits;
    a->hide_done = o.hide_done;
    if (o.filter)
        snprintf(a->filter, sizeof a->filter, "%s", o.filter);
    if (o.sort) {
        extern int tasks_sort_columns(void);
        extern const char *tasks_column_title(int c);
        int found = -1;
        for (int c = 0; c < tasks_sort_columns(); c++)
            if (strcasecmp(tasks_column_title(c), o.sort) == 0 ||
                (strcasecmp(o.sort, "waiting") == 0 && c == 9))
                found = c;
        if (found < 0) {
            app_free(a);
            free(a);
            return cli_usage_error(me, "--sort takes a tasks column: id, name, state, total, "
                                       "busy, sched, idle, polls, wakes, waiting, location, "
                                       "warnings");
        }
        a->task_sort = found;
        a->task_sort_asc = found == 0 || found == 1 || found == 10;
    }

    int err;
    char *endp = NULL;
    long pid = target ? strtol(target, &endp, 10) : 0;
    bool is_pid = target && endp && *endp == '\0' && pid > 0;
    if (prog)
        err = source_launch(&a->src, prog);
    else if (is_pid)
        err = source_attach(&a->src, (int)pid, o.takeover);
    else
        err = source_open_trace(&a->src, target);
    if (err < 0) {
        fprintf(stderr, "weft console: %s\n", a->src.error);
        app_free(a);
        free(a);
        return CLI_FAILED;
    }
    a->m.names = a->src.r;
    if (a->src.kind == SOURCE_TRACE) {
        if (place_cursor(a, o.at) < 0) {
            app_free(a);
            free(a);
            return cli_usage_error(me, "--at takes deadlock, start, end, event:N or "
                                       "milliseconds from the start");
        }
        a->now = a->m.now;
        /* The timeline spans the whole recording at first (+ and - zoom). */
        if (a->src.nev > 1 && a->src.evs[a->src.nev - 1].ts > a->src.evs[0].ts)
            a->timeline_ns = a->src.evs[a->src.nev - 1].ts - a->src.evs[0].ts;
        app_analyse(a);
        if (a->ncycles && o.view < 0 && !o.snapshot)
            a->view = VIEW_DEADLOCKS;
    } else if (o.snapshot) {
        /* Watch for a while (or until the program ends), then print. */
        uint64_t deadline = mono_ms() + (uint64_t)o.watch_ms;
        while (!a->src.ended && mono_ms() < deadline) {
            app_update(a, 50);
            weft_reader_wait(a->src.r, 20);
            if (!a->m.events)
                sleep_ms(1);
        }
        app_update(a, 50);
    }
    if (o.view >= 0)
        a->view = (view_id)o.view;
    if (o.task)
        a->sel_task = o.task;
    if (o.resource)
        a->sel_res = o.resource;

    int rc;
    if (o.snapshot) {
        if (a->view == VIEW_TASK && !o.task)
            a->sel_task = default_task(a);
        if (a->view == VIEW_RESOURCE && !o.resource && a->m.nres)
            a->sel_res = a->m.res[0]->id;
        rc = snapshot(a, &o);
    } else {
        rc = tui_run(a) == 0 ? CLI_OK : CLI_FAILED;
    }
    app_free(a);
    free(a);
    return rc;
}

const cli_cmd cli_cmd_console = {
    .name = "console",
    .args = "[OPTIONS] [-- PROGRAM ARGS | PID | TRACE.db]",
    .summary = "watch a weft program's tasks and resources, live or recorded",
    .help =
        "Targets:\n"
        "  -- PROGRAM ARGS     run PROGRAM with tracing on and attach to it (its output goes\n"
        "                      to /tmp/weft-console-<pid>.log)\n"
        "  PID                 attach to a running weft program started with WEFT_TRACE=1\n"
        "  TRACE.db            open a recording (weft record, weft explore); it opens where a\n"
        "                      deadlock formed, if one did, else where a failing run of the\n"
        "                      deterministic scheduler stopped, else at its end\n"
        "  (none)              list the weft programs that can be attached\n"
        "  --takeover          attach even if another reader (a console, weft record) is\n"
        "                      attached; it stops receiving events\n"
        "\n"
        "Snapshot mode (one frame as plain text, then exit; the default when stdout is not a\n"
        "terminal):\n"
        "  --snapshot          print one frame instead of running the interactive console\n"
        "  --view V            tasks (default), task, resources, resource, workers, timeline,\n"
        "                      deadlocks, warnings or help\n"
        "  --task ID           the task of --view task (default: the first deadlocked task,\n"
        "                      else the first with a warning)\n"
        "  --resource ID       the resource of --view resource\n"
        "  --at WHEN           recording: deadlock (default), start, end, event:N, or\n"
        "                      milliseconds from the start\n"
        "  --watch MS          live: watch this long before printing (default 1000), or until\n"
        "                      the program ends\n"
        "  --width N           columns (default $COLUMNS, else 120)\n"
        "  --filter TEXT       only tasks whose name or location contains TEXT\n"
        "  --sort COLUMN       sort tasks by id, name, state, total, busy, sched, idle, polls,\n"
        "                      wakes, waiting, location or warnings\n"
        "  --hide-done         leave finished tasks out\n"
        "\n"
        "Display:\n"
        "  --ascii             ASCII only (terminals without Unicode)\n"
        "\n"
        "Warning thresholds (defaults in brackets):\n"
        "  --long-poll MS      a poll longer than this blocks its worker [10]\n"
        "  --never-yielded MS  busy this long in its first poll [1000]\n"
        "  --lost-waker MS     idle with no waker this long before it is reported [1000]\n"
        "  --starved MS        scheduled but not polled this long [100]\n"
        "  --long-await MS     idle this long holding an async lock [1000]\n"
        "  --self-wakes PCT    self-wakes above this share of wakes [50]\n"
        "  --grow-min N        a channel holding at least N values, never empty for\n"
        "  --grow-window MS    this long, only grows [64, 1000]\n"
        "  --retain S          finished tasks stay listed this long [6]\n"
        "\n"
        "Keys: ? in the console lists them (t tasks, r resources, w workers, m timeline,\n"
        "d deadlocks, x warnings, Enter detail, / filter, space pause, q quit; recordings:\n"
        ". , step an event, ] [ a schedule decision, T time, ! warning, D deadlock, E end).\n"
        "\n"
        "Exit status: 0, 1 when the target cannot be opened (not a weft program, no such\n"
        "file), 2 bad usage.\n",
    .run = console_run,
};
