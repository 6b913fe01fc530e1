/* console/app.c - a frame of the console: pulling events, the analyses, the header, the view
 * tabs, the status line, and what each key does (app.h).
 *
 * Keys (also listed by the help view, `?`):
 *   views        t tasks, r resources, w workers, m timeline, d deadlocks, x warnings, ? help
 *                (1..6 too); Enter opens the selected row in detail, Esc or Backspace goes back
 *   lists        j/k or arrows move, PgUp/PgDn, Home/End; h/l or Left/Right choose the sort
 *                column, i inverts it; / filters by name or location, c clears the filters,
 *                a shows or hides finished tasks
 *   live         space or p pauses (events wait in the program's rings meanwhile)
 *   recording    . and , step one event; ] and [ one schedule decision; } and { 100 events;
 *                T jumps to a time; ! to the first warning; D to the moment a deadlock formed;
 *                B to the beginning; E to the end
 *   timeline     + and - zoom
 *   q quits.
 */
#include <ctype.h>
#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"

int tasks_sort_columns(void);
const char *tasks_column_title(int c);
int resources_sort_columns(void);

static const struct {
    const char *name;
    const char *title;
    char key;
} views[VIEW_COUNT] = {
    [VIEW_TASKS] = {"tasks", "Tasks", 't'},
    [VIEW_TASK] = {"task", "Task", 0},
    [VIEW_RESOURCES] = {"resources", "Resources", 'r'},
    [VIEW_RESOURCE] = {"resource", "Resource", 0},
    [VIEW_WORKERS] = {"workers", "Workers", 'w'},
    [VIEW_TIMELINE] = {"timeline", "Timeline", 'm'},
    [VIEW_DEADLOCKS] = {"deadlocks", "Deadlocks", 'd'},
    [VIEW_WARNINGS] = {"warnings", "Warnings", 'x'},
    [VIEW_HELP] = {"help", "Help", '?'},
};

int view_by_name(const char *name)
{
    for (int v = 0; v < VIEW_COUNT; v++)
        if (strcmp(views[v].name, name) == 0)
            return v;
    return -1;
}

const char *view_name(view_id v)
{
    return v < VIEW_COUNT ? views[v].name : "?";
}

void app_init(app *a, bool ascii)
{
    memset(a, 0, sizeof *a);
    model_init(&a->m, NULL);
    a->ascii = ascii;
    a->lint_filter = -1;
    a->task_sort = 0; /* ID */
    a->task_sort_asc = true;
    a->res_sort_asc = true;
    a->timeline_ns = 2000000000ull;
}

void app_free(app *a)
{
    source_close(&a->src);
    model_free(&a->m);
    lints_free(&a->lints);
}

#define WARNING_SCAN_MAX 200000u /* events one press of ! looks through */

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void app_analyse(app *a)
{
    lints_compute(&a->m, a->now, &a->lints);
    a->ncycles = waitgraph_cycles(&a->m, a->cycles, APP_MAX_CYCLES);
}

void app_update(app *a, int budget_ms)
{
    if (a->src.kind == SOURCE_LIVE) {
        if (!a->paused) {
            source_pump(&a->src, &a->m, budget_ms);
            /* Live, time goes on between events: idle tasks grow idler. */
            uint64_t t = a->src.ended ? a->m.now : mono_ns();
            a->now = t > a->m.now ? t : a->m.now;
            model_gc(&a->m, a->now);
        }
    } else {
        a->now = a->m.now;
    }
    app_analyse(a);
}

/* ---------------------------------------------------------------- recording cursor */

static void seek_to(app *a, size_t cursor)
{
    source_seek(&a->src, &a->m, cursor);
    a->now = a->m.now;
    app_analyse(a);
}

static void seek_time(app *a, double ms)
{
    source *s = &a->src;
    if (!s->nev)
        return;
    uint64_t t0 = s->evs[0].ts;
    uint64_t target = t0 + (ms > 0 ? (uint64_t)(ms * 1e6) : 0);
    size_t lo = 0, hi = s->nev;
    while (lo < hi) { /* first event after target */
        size_t mid = (lo + hi) / 2;
        if (s->evs[mid].ts <= target)
            lo = mid + 1;
        else
            hi = mid;
    }
    seek_to(a, lo);
}

static void seek_first_warning(app *a)
{
    source *s = &a->src;
    lint_result r = {0};
    /* Each step evaluates every lint over every task: bound one key press's work. */
    size_t limit = s->cursor + WARNING_SCAN_MAX;
    for (size_t c = s->cursor + 1; c <= s->nev; c++) {
        if (c > limit) {
            lints_free(&r);
            seek_to(a, c - 1);
            snprintf(a->message, sizeof a->message,
                     "no warning in the next %u events: ! looks further", WARNING_SCAN_MAX);
            return;
        }
        source_seek(s, &a->m, c);
        lints_compute(&a->m, a->m.now, &r);
        if (r.total) {
            lints_free(&r);
            seek_to(a, c);
            snprintf(a->message, sizeof a->message, "first warning after this point: event %zu", c);
            return;
        }
    }
    lints_free(&r);
    snprintf(a->message, sizeof a->message, "no warning from here to the end");
    seek_to(a, s->nev);
}

static void seek_deadlock(app *a)
{
    size_t at = source_first_deadlock(&a->src, &a->m);
    if (at == (size_t)-1) {
        snprintf(a->message, sizeof a->message, "no deadlock forms in this recording");
        seek_to(a, a->src.cursor);
        return;
    }
    seek_to(a, at);
    a->view = VIEW_DEADLOCKS;
    snprintf(a->message, sizeof a->message, "the deadlock formed at event %zu", at);
}

/* ---------------------------------------------------------------- rendering */

static void render_header(app *a, canvas *cv)
{
    const model *m = &a->m;
    size_t running = 0, idle = 0, done = 0;
    for (size_t i = 0; i < m->ntasks; i++) {
        task_state s = m->tasks[i]->state;
        running += s == TASK_RUNNING || s == TASK_SCHEDULED;
        idle += s == TASK_IDLE;
        done += s == TASK_DONE;
    }
    char src[420];
    if (a->src.kind == SOURCE_TRACE) {
        const char *base = strrchr(a->src.label, '/');
        snprintf(src, sizeof src, "recording %s", base ? base + 1 : a->src.label);
    }
    else if (a->src.kind == SOURCE_LIVE)
        snprintf(src, sizeof src, "live %s", a->src.label);
    else
        snprintf(src, sizeof src, "no source");
    const char *sep = canvas_glyph(cv, " \xe2\x94\x82 ", " | ");
    canvas_row_attr(cv, 0, 0, AT_TITLE);
    int x = canvas_text(cv, 0, 0, AT_TITLE, -1, " weft console ");
    /* The alarms come first, so that a narrow terminal still shows them. */
    if (a->ncycles) {
        char d[48];
        snprintf(d, sizeof d, " DEADLOCK x%zu ", a->ncycles);
        x += canvas_text(cv, 0, x, AT_ERROR, -1, d);
    }
    if (m->dropped) {
        char d[48];
        snprintf(d, sizeof d, " %llu events dropped ", (unsigned long long)m->dropped);
        x += canvas_text(cv, 0, x, AT_WARN, -1, d);
    }
    char line[700];
    snprintf(line, sizeof line, "%s%zu tasks (%zu active, %zu idle, %zu done)%s%zu resources%s%s",
             sep + 1, m->ntasks, running, idle, done, sep, m->nres, sep, src);
    canvas_text(cv, 0, x, AT_TITLE, -1, line);
    /* Tabs. */
    x = 0;
    for (int v = 0; v < VIEW_COUNT; v++) {
        if (!views[v].key)
            continue;
        bool cur = a->view == (view_id)v || (a->view == VIEW_TASK && v == VIEW_TASKS) ||
                   (a->view == VIEW_RESOURCE && v == VIEW_RESOURCES);
        char tab[48];
        if (v == VIEW_DEADLOCKS && a->ncycles)
            snprintf(tab, sizeof tab, " %c %s(%zu) ", views[v].key, views[v].title, a->ncycles);
        else if (v == VIEW_WARNINGS && a->lints.total)
            snprintf(tab, sizeof tab, " %c %s(%llu) ", views[v].key, views[v].title,
                     (unsigned long long)a->lints.total);
        else
            snprintf(tab, sizeof tab, " %c %s ", views[v].key, views[v].title);
        int attr = cur ? AT_SELECTED
                   : (v == VIEW_DEADLOCKS && a->ncycles) ? AT_ERROR
                                                         : AT_NORMAL;
        x += canvas_text(cv, 1, x, attr, -1, tab);
    }
    if (a->filter[0] || a->lint_filter >= 0) {
        char f[120];
        snprintf(f, sizeof f, "  filter: %s%s%s", a->filter,
                 a->filter[0] && a->lint_filter >= 0 ? " + " : "",
                 a->lint_filter >= 0 ? lint_name(a->lint_filter) : "");
        canvas_text(cv, 1, x, AT_ACCENT, -1, f);
    }
}

static void render_status(app *a, canvas *cv, int y, bool snapshot)
{
    char line[1000];
    int attr = AT_TITLE;
    if (a->prompt == '/') {
        snprintf(line, sizeof line, " filter (name or location): %s_   Enter to apply, Esc to cancel",
                 a->input);
    } else if (a->prompt == 'T') {
        snprintf(line, sizeof line, " go to time, ms from the start: %s_   Enter, Esc to cancel",
                 a->input);
    } else if (a->src.kind == SOURCE_TRACE) {
        const source *s = &a->src;
        char t[32];
        uint64_t t0 = s->nev ? s->evs[0].ts : 0;
        fmt_dur(t, sizeof t, a->m.now > t0 ? a->m.now - t0 : 0, cv->ascii);
        snprintf(line, sizeof line,
                 " event %zu/%zu  step %llu  +%s%s  %s", s->cursor, s->nev,
                 (unsigned long long)a->m.steps, t, s->truncated ? " (recording truncated)" : "",
                 a->message[0] ? a->message
                 : snapshot    ? ""
                               : ". , event  ] [ decision  T time  ! warning  D deadlock  E end  ? help");
    } else if (a->src.kind == SOURCE_LIVE && a->src.ended) {
        attr = AT_ERROR;
        snprintf(line, sizeof line, " program %s %s; showing its last state%s%s%s",
                 a->src.label, a->src.end_reason, snapshot ? "" : ". q quits",
                 a->src.log_path[0] ? ". Its output: " : "", a->src.log_path);
    } else if (a->paused) {
        attr = AT_WARN;
        snprintf(line, sizeof line,
                 " PAUSED: events wait in the program's rings (space resumes)%s%s",
                 a->message[0] ? "  " : "", a->message);
    } else {
        snprintf(line, sizeof line, " live  %llu events  %s", (unsigned long long)a->m.events,
                 a->message[0] ? a->message
                 : snapshot    ? ""
                               : "space pause  / filter  Enter detail  ? help  q quit");
    }
    canvas_text(cv, y, 0, attr, -1, line);
    canvas_row_attr(cv, y, 0, attr);
}

void view_help(app *a, canvas *cv, int top, int rows)
{
    (void)a;
    static const char *lines[] = {
        "Views        t tasks   r resources   w workers   m timeline   d deadlocks   x warnings",
        "             (or 1..6)   Enter: the selected row in detail   Esc/Backspace: back   ? help",
        "Lists        j/k or Up/Down move, PgUp/PgDn, Home/End",
        "             h/l or Left/Right: sort column, i: invert the sort",
        "             /: filter by name or location (resources: kind too), c: clear filters",
        "             a: show or hide finished tasks",
        "Live         space or p: pause (events wait in the program's rings meanwhile)",
        "Recording    . and , : one event forward and back",
        "             ] and [ : one schedule decision forward and back",
        "             } and { : 100 events forward and back",
        "             T: go to a time   !: first warning   D: where a deadlock formed",
        "             B: beginning      E: end",
        "Timeline     + and -: zoom in and out",
        "             q: quit",
        "",
        "Task states: running (being polled), scheduled (woken, waiting for a worker),",
        "idle (waiting to be woken), done. Wait chains and deadlocks follow lock and permit",
        "holders and, for a send on a full channel, its receiver; waits to receive, on",
        "notifies and on joins have no known holder.",
    };
    for (size_t i = 0; i < sizeof lines / sizeof lines[0] && (int)i < rows; i++)
        canvas_text(cv, top + (int)i, 1, i < 14 ? AT_NORMAL : AT_DIM, -1, lines[i]);
}

void app_render(app *a, canvas *cv)
{
    canvas_clear(cv);
    bool snapshot = cv->h > 500; /* snapshot canvases are tall: the status follows the body */
    if (!snapshot && (cv->w < 80 || cv->h < 24)) {
        canvas_printf(cv, 0, 0, AT_WARN, "terminal too small: %dx%d", cv->w, cv->h);
        canvas_text(cv, 1, 0, AT_WARN, -1, "weft console needs 80x24");
        return;
    }
    render_header(a, cv);
    int top = 2, rows = cv->h - 3;
    switch (a->view) {
    case VIEW_TASKS: view_tasks(a, cv, top, rows); break;
    case VIEW_TASK: view_task(a, cv, top, rows); break;
    case VIEW_RESOURCES: view_resources(a, cv, top, rows); break;
    case VIEW_RESOURCE: view_resource(a, cv, top, rows); break;
    case VIEW_WORKERS: view_workers(a, cv, top, rows); break;
    case VIEW_TIMELINE: view_timeline(a, cv, top, rows); break;
    case VIEW_DEADLOCKS: view_deadlocks(a, cv, top, rows); break;
    case VIEW_WARNINGS: view_warnings(a, cv, top, rows); break;
    case VIEW_HELP: view_help(a, cv, top, rows); break;
    default: break;
    }
    render_status(a, cv, snapshot ? cv->rows_used : cv->h - 1, snapshot);
}

/* ---------------------------------------------------------------- keys */

static void move_selection(app *a, int delta)
{
    uint64_t *ids = NULL;
    size_t n;
    switch (a->view) {
    case VIEW_TASKS:
        n = tasks_rows(a, &ids);
        a->sel_task = pick_move(ids, n, a->sel_task, delta);
        break;
    case VIEW_RESOURCES:
        n = resources_rows(a, &ids);
        a->sel_res = pick_move(ids, n, a->sel_res, delta);
        break;
    case VIEW_WORKERS:
    case VIEW_WARNINGS:
    case VIEW_DEADLOCKS: {
        int max = a->view == VIEW_WORKERS     ? (int)a->m.nworkers
                  : a->view == VIEW_WARNINGS ? LINT_COUNT
                                             : (int)(a->ncycles < APP_MAX_CYCLES ? a->ncycles : APP_MAX_CYCLES);
        long r = (long)a->sel_row + delta;
        if (r >= max)
            r = max - 1;
        if (r < 0)
            r = 0;
        a->sel_row = (int)r;
        break;
    }
    default:
        break;
    }
    free(ids);
}

static void enter(app *a)
{
    switch (a->view) {
    case VIEW_TASKS:
        if (a->sel_task) {
            a->back = VIEW_TASKS;
            a->view = VIEW_TASK;
        }
        break;
    case VIEW_RESOURCES:
        if (a->sel_res) {
            a->back = VIEW_RESOURCES;
            a->view = VIEW_RESOURCE;
        }
        break;
    case VIEW_DEADLOCKS:
        if ((size_t)a->sel_row < a->ncycles && a->sel_row < APP_MAX_CYCLES) {
            a->sel_task = a->cycles[a->sel_row].links[0].task;
            a->back = VIEW_DEADLOCKS;
            a->view = VIEW_TASK;
        }
        break;
    case VIEW_WARNINGS:
        if (lint_on_resource((lint_kind)a->sel_row)) {
            a->view = VIEW_RESOURCES;
        } else {
            a->lint_filter = a->sel_row;
            a->view = VIEW_TASKS;
        }
        break;
    default:
        break;
    }
}

static void sort_column(app *a, int delta)
{
    if (a->view == VIEW_TASKS) {
        int n = tasks_sort_columns();
        a->task_sort = (a->task_sort + delta + n) % n;
    } else if (a->view == VIEW_RESOURCES) {
        int n = resources_sort_columns();
        a->res_sort = (a->res_sort + delta + n) % n;
    }
}

static bool prompt_key(app *a, int key)
{
    size_t len = strlen(a->input);
    if (key == 27) {
        a->prompt = 0;
        return true;
    }
    if (key == '\n' || key == '\r' || key == KEY_ENTER) {
        if (a->prompt == '/') {
            snprintf(a->filter, sizeof a->filter, "%s", a->input);
            a->task_scroll = a->res_scroll = 0;
        } else if (a->prompt == 'T') {
            char *end;
            double ms = strtod(a->input, &end);
            if (end == a->input || *end)
                snprintf(a->message, sizeof a->message, "not a time: '%s' (milliseconds)", a->input);
            else
                seek_time(a, ms);
        }
        a->prompt = 0;
        return true;
    }
    if (key == KEY_BACKSPACE || key == 127 || key == 8) {
        if (len)
            a->input[len - 1] = '\0';
        return true;
    }
    if (key >= 32 && key < 127 && len + 1 < sizeof a->input) {
        a->input[len] = (char)key;
        a->input[len + 1] = '\0';
    }
    return true;
}

static bool recording_key(app *a, int key)
{
    source *s = &a->src;
    size_t at;
    switch (key) {
    case '.': seek_to(a, s->cursor + 1); return true;
    case ',': seek_to(a, s->cursor ? s->cursor - 1 : 0); return true;
    case '}': seek_to(a, s->cursor + 100); return true;
    case '{': seek_to(a, s->cursor > 100 ? s->cursor - 100 : 0); return true;
    case ']':
        at = source_find(s, s->cursor, 1, WEFT_EV_schedule_decision);
        if (at == (size_t)-1)
            snprintf(a->message, sizeof a->message, "no schedule decision after this point");
        else
            seek_to(a, at + 1);
        return true;
    case '[':
        /* The decision before the one the cursor is just past. */
        at = s->cursor >= 1 ? source_find(s, s->cursor - 1, -1, WEFT_EV_schedule_decision)
                            : (size_t)-1;
        if (at == (size_t)-1)
            seek_to(a, 0);
        else
            seek_to(a, at + 1);
        return true;
    case 'B': seek_to(a, 0); return true;
    case 'E': seek_to(a, s->nev); return true;
    case '!': seek_first_warning(a); return true;
    case 'D': seek_deadlock(a); return true;
    case 'T':
        a->prompt = 'T';
        a->input[0] = '\0';
        return true;
    default: return false;
    }
}

bool app_key(app *a, int key)
{
    if (a->prompt)
        return prompt_key(a, key);
    a->message[0] = '\0';
    if (a->src.kind == SOURCE_TRACE && recording_key(a, key))
        return true;
    for (int v = 0; v < VIEW_COUNT; v++)
        if (views[v].key && key == views[v].key) {
            a->view = (view_id)v;
            a->sel_row = 0;
            return true;
        }
    if (key >= '1' && key <= '6') {
        static const view_id by_num[] = {VIEW_TASKS, VIEW_RESOURCES, VIEW_WORKERS, VIEW_TIMELINE,
                                         VIEW_DEADLOCKS, VIEW_WARNINGS};
        a->view = by_num[key - '1'];
        a->sel_row = 0;
        return true;
    }
    switch (key) {
    case 'q':
    case 'Q':
        return false;
    case 'j': case KEY_DOWN: move_selection(a, 1); break;
    case 'k': case KEY_UP: move_selection(a, -1); break;
    case KEY_NPAGE: move_selection(a, a->rows_visible > 1 ? a->rows_visible - 1 : 10); break;
    case KEY_PPAGE: move_selection(a, -(a->rows_visible > 1 ? a->rows_visible - 1 : 10)); break;
    case KEY_HOME: move_selection(a, -1000000); break;
    case KEY_END: move_selection(a, 1000000); break;
    case 'h': case KEY_LEFT: case '<': sort_column(a, -1); break;
    case 'l': case KEY_RIGHT: case '>': sort_column(a, 1); break;
    case 'i':
        if (a->view == VIEW_RESOURCES)
            a->res_sort_asc = !a->res_sort_asc;
        else
            a->task_sort_asc = !a->task_sort_asc;
        break;
    case '\n': case '\r': case KEY_ENTER: enter(a); break;
    case 27: case KEY_BACKSPACE: case 127:
        if (a->view == VIEW_TASK || a->view == VIEW_RESOURCE)
            a->view = a->back;
        else if (a->view == VIEW_HELP)
            a->view = VIEW_TASKS;
        else if (a->lint_filter >= 0 || a->filter[0])
            a->lint_filter = -1, a->filter[0] = '\0';
        break;
    case '/':
        a->prompt = '/';
        snprintf(a->input, sizeof a->input, "%s", a->filter);
        break;
    case 'c':
        a->filter[0] = '\0';
        a->lint_filter = -1;
        break;
    case 'a':
        a->hide_done = !a->hide_done;
        snprintf(a->message, sizeof a->message, "%s", a->hide_done ? "finished tasks hidden"
                                                                   : "finished tasks shown");
        break;
    case ' ': case 'p':
        if (a->src.kind == SOURCE_LIVE)
            a->paused = !a->paused;
        break;
    case '+': case '=':
        if (a->timeline_ns > 1000ull)
            a->timeline_ns /= 2;
        break;
    case '-':
        if (a->timeline_ns < 600000000000ull)
            a->timeline_ns *= 2;
        break;
    default:
        break;
    }
    return true;
}
