/* console/view_tasks.c - the tasks view: one row per task, sortable by any column, filtered
 * by name or location (`/`), by lint (from the warnings view), or hiding finished tasks.
 *
 * Columns have a priority: on a narrow terminal the least useful ones are left out (the
 * header says which sort column is active even if hidden), and the free width goes to the
 * text columns, "Waiting on" first, since that is the question the console is opened for.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "app.h"

enum { C_ID, C_NAME, C_STATE, C_TOTAL, C_BUSY, C_SCHED, C_IDLE, C_POLLS, C_WAKES, C_WAITING,
       C_LOCATION, C_WARN, C_COUNT };

static const struct {
    const char *title;
    int width;      /* minimum */
    int max;        /* flexible columns grow up to this */
    bool right;     /* right-aligned (numbers) */
    int priority;   /* lower is kept first */
} cols[C_COUNT] = {
    [C_ID] = {"ID", 5, 5, true, 0},
    [C_NAME] = {"Name", 12, 24, false, 1},
    [C_STATE] = {"State", 9, 9, false, 2},
    [C_TOTAL] = {"Total", 8, 8, true, 9},
    [C_BUSY] = {"Busy", 8, 8, true, 5},
    [C_SCHED] = {"Sched", 8, 8, true, 11},
    [C_IDLE] = {"Idle", 8, 8, true, 8},
    [C_POLLS] = {"Polls", 6, 6, true, 6},
    [C_WAKES] = {"Wakes", 6, 6, true, 10},
    [C_WAITING] = {"Waiting on", 36, 80, false, 3},
    [C_LOCATION] = {"Location", 18, 30, false, 7},
    [C_WARN] = {"Warnings", 14, 40, false, 4},
};

int tasks_sort_columns(void);
const char *tasks_column_title(int c);

int tasks_sort_columns(void)
{
    return C_COUNT;
}

const char *tasks_column_title(int c)
{
    return c >= 0 && c < C_COUNT ? cols[c].title : "?";
}

/* ---------------------------------------------------------------- rows */

static bool matches(app *a, const model_task *t, uint32_t lints)
{
    if (a->hide_done && t->state == TASK_DONE)
        return false;
    if (a->lint_filter >= 0 && !(lints >> a->lint_filter & 1))
        return false;
    if (!a->filter[0])
        return true;
    char loc[128];
    model_location(&a->m, t->location, loc, sizeof loc);
    return strcasestr(model_string(&a->m, t->name), a->filter) ||
           strcasestr(loc, a->filter);
}

static int cmp_u64(uint64_t x, uint64_t y)
{
    return x < y ? -1 : x > y;
}

/* A row with its sort key computed once: sorting 10,000 tasks ten times a second must not
 * look each task up and recompute its times at every comparison. */
typedef struct row {
    const model_task *t;
    uint64_t key;
    const char *text; /* key of the text columns (name, location); NULL otherwise */
    char loc[48];
} row;

typedef struct sort_ctx {
    bool asc;
} sort_ctx;

static int cmp_row(const void *pa, const void *pb, void *arg)
{
    const sort_ctx *c = arg;
    const row *x = pa, *y = pb;
    int r = x->text ? strcmp(x->text, y->text) : cmp_u64(x->key, y->key);
    if (!c->asc)
        r = -r;
    return r ? r : cmp_u64(x->t->id, y->t->id);
}

static void row_key(app *a, row *r, uint32_t lints)
{
    const model *m = &a->m;
    const model_task *t = r->t;
    uint64_t busy, sched, idle;
    r->text = NULL;
    switch (a->task_sort) {
    case C_NAME: r->text = model_string(m, t->name); return;
    case C_LOCATION:
        model_location(m, t->location, r->loc, sizeof r->loc);
        r->text = r->loc;
        return;
    case C_STATE: r->key = t->state; return;
    case C_POLLS: r->key = t->polls; return;
    case C_WAKES: r->key = t->wakes; return;
    case C_WAITING: r->key = model_task_waits(t); return;
    case C_WARN: r->key = (uint64_t)__builtin_popcount(lints); return;
    case C_TOTAL: case C_BUSY: case C_SCHED: case C_IDLE:
        model_task_times(t, a->now, &busy, &sched, &idle);
        r->key = a->task_sort == C_TOTAL ? busy + sched + idle
                 : a->task_sort == C_BUSY ? busy
                 : a->task_sort == C_SCHED ? sched
                                           : idle;
        return;
    default: r->key = t->id; return;
    }
}

size_t tasks_rows(app *a, uint64_t **out)
{
    const model *m = &a->m;
    row *rows = malloc((m->ntasks + 1) * sizeof *rows);
    uint64_t *ids = malloc((m->ntasks + 1) * sizeof *ids);
    size_t n = 0;
    if (!ids || !rows) {
        free(rows);
        free(ids);
        *out = NULL;
        return 0;
    }
    for (size_t i = 0; i < m->ntasks; i++) {
        uint32_t l = i < a->lints.ntasks ? a->lints.task_mask[i] : 0;
        if (!matches(a, m->tasks[i], l))
            continue;
        rows[n].t = m->tasks[i];
        row_key(a, &rows[n], l);
        n++;
    }
    sort_ctx c = {a->task_sort_asc};
    qsort_r(rows, n, sizeof *rows, cmp_row, &c);
    for (size_t i = 0; i < n; i++)
        ids[i] = rows[i].t->id;
    free(rows);
    *out = ids;
    return n;
}

uint64_t pick_move(const uint64_t *ids, size_t n, uint64_t sel, int delta)
{
    if (n == 0)
        return 0;
    long at = -1;
    for (size_t i = 0; i < n; i++)
        if (ids[i] == sel)
            at = (long)i;
    if (at < 0)
        return ids[delta < 0 ? n - 1 : 0];
    long to = at + delta;
    if (to < 0)
        to = 0;
    if (to >= (long)n)
        to = (long)n - 1;
    return ids[to];
}

/* ---------------------------------------------------------------- layout */

typedef struct layout {
    bool shown[C_COUNT];
    int width[C_COUNT];
    int x[C_COUNT];
} layout;

static void lay_out(int w, layout *L)
{
    int order[C_COUNT];
    for (int c = 0; c < C_COUNT; c++)
        order[cols[c].priority] = c;
    int used = 0;
    memset(L, 0, sizeof *L);
    for (int i = 0; i < C_COUNT; i++) {
        int c = order[i];
        int min = cols[c].width;
        /* On a wide screen "Waiting on" gets room for a whole wait (what, where, held by
         * whom) before the less useful columns are let in. */
        if (c == C_WAITING && w >= 110)
            min = 56;
        int need = min + (used ? 1 : 0);
        if (used + need > w)
            continue;
        L->shown[c] = true;
        L->width[c] = min;
        used += need;
    }
    /* Spare width to the text columns, most useful first. */
    static const int grow[] = {C_WAITING, C_NAME, C_LOCATION, C_WARN};
    for (size_t g = 0; g < sizeof grow / sizeof grow[0]; g++) {
        int c = grow[g];
        if (!L->shown[c])
            continue;
        int add = cols[c].max - L->width[c];
        if (add > w - used)
            add = w - used;
        if (add > 0) {
            L->width[c] += add;
            used += add;
        }
    }
    int x = 0;
    for (int c = 0; c < C_COUNT; c++) {
        if (!L->shown[c])
            continue;
        L->x[c] = x;
        x += L->width[c] + 1;
    }
}

static void cell_text(canvas *cv, int y, const layout *L, int c, int attr, const char *s)
{
    if (!L->shown[c])
        return;
    int x = L->x[c];
    if (cols[c].right) {
        int tw = text_width(s);
        if (tw < L->width[c])
            x += L->width[c] - tw;
    }
    canvas_text(cv, y, x, attr, L->width[c], s);
}

static bool in_cycle(const app *a, uint64_t task)
{
    size_t n = a->ncycles < APP_MAX_CYCLES ? a->ncycles : APP_MAX_CYCLES;
    for (size_t i = 0; i < n; i++)
        for (unsigned k = 0; k < a->cycles[i].n; k++)
            if (a->cycles[i].links[k].task == task)
                return true;
    return false;
}

void view_tasks(app *a, canvas *cv, int top, int rows)
{
    const model *m = &a->m;
    layout L;
    lay_out(cv->w, &L);
    const char *arrow = a->task_sort_asc ? canvas_glyph(cv, "\xe2\x96\xb2", "^")
                                         : canvas_glyph(cv, "\xe2\x96\xbc", "v");
    for (int c = 0; c < C_COUNT; c++) {
        char title[32];
        snprintf(title, sizeof title, "%s%s", cols[c].title, c == a->task_sort ? arrow : "");
        cell_text(cv, top, &L, c, AT_HEAD, title);
    }
    canvas_row_attr(cv, top, 0, AT_HEAD);
    uint64_t *ids;
    size_t n = tasks_rows(a, &ids);
    int body = rows - 1;
    a->rows_visible = body;
    if (n == 0) {
        canvas_text(cv, top + 1, 1, AT_DIM, -1,
                    a->filter[0] || a->lint_filter >= 0 ? "no task matches the filter"
                                                        : "no tasks (yet)");
        free(ids);
        return;
    }
    long sel = -1;
    for (size_t i = 0; i < n; i++)
        if (ids[i] == a->sel_task)
            sel = (long)i;
    if (sel < 0) {
        sel = 0;
        a->sel_task = ids[0];
    }
    if (sel < a->task_scroll)
        a->task_scroll = (int)sel;
    if (sel >= a->task_scroll + body)
        a->task_scroll = (int)sel - body + 1;
    if (a->task_scroll > (int)n - body)
        a->task_scroll = (int)n - body > 0 ? (int)n - body : 0;
    for (int r = 0; r < body && (size_t)(a->task_scroll + r) < n; r++) {
        int y = top + 1 + r;
        const model_task *t = model_task_get(m, ids[a->task_scroll + r]);
        uint64_t busy, sched, idle;
        model_task_times(t, a->now, &busy, &sched, &idle);
        bool stuck = in_cycle(a, t->id);
        int attr = t->state == TASK_DONE ? AT_DIM : stuck ? AT_ERROR : AT_NORMAL;
        char buf[512], b2[600];
        snprintf(buf, sizeof buf, "%llu", (unsigned long long)t->id);
        cell_text(cv, y, &L, C_ID, attr, buf);
        cell_text(cv, y, &L, C_NAME, attr, model_string(m, t->name));
        cell_text(cv, y, &L, C_STATE, t->state == TASK_RUNNING ? AT_GOOD : attr,
                  task_state_name(t->state));
        fmt_dur(buf, sizeof buf, busy + sched + idle, cv->ascii);
        cell_text(cv, y, &L, C_TOTAL, attr, buf);
        fmt_dur(buf, sizeof buf, busy, cv->ascii);
        cell_text(cv, y, &L, C_BUSY, attr, buf);
        fmt_dur(buf, sizeof buf, sched, cv->ascii);
        cell_text(cv, y, &L, C_SCHED, attr, buf);
        fmt_dur(buf, sizeof buf, idle, cv->ascii);
        cell_text(cv, y, &L, C_IDLE, attr, buf);
        snprintf(buf, sizeof buf, "%llu", (unsigned long long)t->polls);
        cell_text(cv, y, &L, C_POLLS, attr, buf);
        snprintf(buf, sizeof buf, "%llu", (unsigned long long)t->wakes);
        cell_text(cv, y, &L, C_WAKES, attr, buf);
        if (t->wait.join && t->state != TASK_DONE) {
            char who[160];
            fmt_task(m, t->wait.join, who, sizeof who);
            snprintf(buf, sizeof buf, "join %s", who);
            cell_text(cv, y, &L, C_WAITING, stuck ? AT_ERROR : attr, buf);
        } else if (t->wait.resource && t->state != TASK_DONE) {
            char res[128], loc[96];
            fmt_res(m, t->wait.resource, res, sizeof res);
            model_location(m, t->wait.location, loc, sizeof loc);
            bool rx;
            uint64_t h = waitgraph_holder(m, model_res_get(m, t->wait.resource), t->wait.op,
                                          t->id, &rx);
            char held[40] = "";
            if (h)
                snprintf(held, sizeof held, " %s T%llu", rx ? "read by" : "held by",
                         (unsigned long long)h);
            snprintf(buf, sizeof buf, "%s %s%s%s%s", model_op_name(t->wait.op), res,
                     *loc ? " at " : "", loc, held);
            cell_text(cv, y, &L, C_WAITING, stuck ? AT_ERROR : attr, buf);
        }
        model_location(m, t->location, buf, sizeof buf);
        cell_text(cv, y, &L, C_LOCATION, attr, buf);
        uint32_t lints = lints_of_task(m, &a->lints, t->id);
        if (lints) {
            fmt_lints(lints, buf, sizeof buf);
            snprintf(b2, sizeof b2, "%s%s", canvas_glyph(cv, "\xe2\x9a\xa0 ", "! "), buf);
            cell_text(cv, y, &L, C_WARN, AT_WARN, b2);
        }
        if (t->id == a->sel_task)
            canvas_row_attr(cv, y, 0, AT_SELECTED);
    }
    free(ids);
}
