/* console/view_problems.c - the deadlocks view (every wait-for cycle, drawn as a loop with
 * names and source lines) and the warnings view (each lint with its count; Enter lists the
 * tasks concerned in the tasks view).
 */
#include <stdio.h>
#include <string.h>

#include "app.h"

void view_deadlocks(app *a, canvas *cv, int top, int rows)
{
    const model *m = &a->m;
    int y = top, last = top + rows - 1;
    size_t n = a->ncycles < APP_MAX_CYCLES ? a->ncycles : APP_MAX_CYCLES;
    if (n == 0) {
        canvas_text(cv, y++, 1, AT_GOOD, -1, "No deadlock: no wait-for cycle among idle tasks.");
        canvas_text(cv, y++, 1, AT_DIM, -1,
                    "(cycles through locks, permits, full channels and joins are detected; "
                    "waits to receive and on notifies have no known holder)");
        return;
    }
    canvas_printf(cv, y++, 1, AT_ERROR, "%zu deadlock%s: tasks waiting on each other in a cycle; "
                  "none of them can make progress", a->ncycles, a->ncycles == 1 ? "" : "s");
    const char *top_l = canvas_glyph(cv, "\xe2\x94\x8c\xe2\x94\x80> ", "+-> ");
    const char *mid = canvas_glyph(cv, "\xe2\x94\x82     ", "|     ");
    const char *mid2 = canvas_glyph(cv, "\xe2\x94\x82   ", "|   ");
    const char *bot = canvas_glyph(cv, "\xe2\x94\x94\xe2\x94\x80\xe2\x94\x80 ", "+-- ");
    for (size_t i = 0; i < n && y <= last; i++) {
        const wait_cycle *c = &a->cycles[i];
        char when[32];
        fmt_dur(when, sizeof when, c->formed > m->first_ts ? c->formed - m->first_ts : 0,
                cv->ascii);
        y++;
        if (y > last)
            break;
        canvas_printf(cv, y++, 1, AT_HEAD, "Deadlock %zu: %u task%s, formed at +%s", i + 1, c->n,
                      c->n == 1 ? " (waiting on itself)" : "s", when);
        for (unsigned k = 0; k < c->n && y + 1 <= last; k++) {
            char who[160], loc[128], what[300];
            fmt_task(m, c->links[k].task, who, sizeof who);
            const model_task *t = model_task_get(m, c->links[k].task);
            model_location(m, t ? t->location : 0, loc, sizeof loc);
            int x = 2 + canvas_text(cv, y, 2, AT_ERROR, -1, k == 0 ? top_l : mid2);
            canvas_printf(cv, y++, x, AT_ERROR, "%s%s%s%s", who, *loc ? " (spawned at " : "",
                          loc, *loc ? ")" : "");
            fmt_wait(m, &c->links[k], what, sizeof what);
            x = 2 + canvas_text(cv, y, 2, AT_ERROR, -1, mid);
            const char *tail = fmt_wait_tail(&c->links[k]);
            canvas_printf(cv, y++, x, AT_NORMAL, "%s%s%s", what, *tail ? ", " : "", tail);
        }
        if (y <= last) {
            char who[160];
            fmt_task(m, c->links[0].task, who, sizeof who);
            int x = 2 + canvas_text(cv, y, 2, AT_ERROR, -1, bot);
            canvas_printf(cv, y++, x, AT_ERROR, "%s", who);
        }
    }
}

void view_warnings(app *a, canvas *cv, int top, int rows)
{
    int y = top, last = top + rows - 1;
    canvas_printf(cv, y, 0, AT_HEAD, "%-28s %7s  %s", "Warning", "Count", "Meaning");
    canvas_row_attr(cv, y++, 0, AT_HEAD);
    for (unsigned k = 0; k < LINT_COUNT && y <= last; k++) {
        uint64_t n = a->lints.count[k];
        int attr = n ? (lint_is_warning(k) ? AT_WARN : AT_NORMAL) : AT_DIM;
        canvas_printf(cv, y, 0, attr, "%-28s %7llu  %s%s", lint_name(k), (unsigned long long)n,
                      lint_about(k), lint_is_warning(k) ? "" : " (informational)");
        if (a->sel_row == (int)k)
            canvas_row_attr(cv, y, 0, AT_SELECTED);
        y++;
    }
    y++;
    if (y <= last)
        canvas_text(cv, y++, 0, AT_DIM, -1,
                    "Enter: the tasks (or resources) concerned.  Thresholds are flags of "
                    "weft console (see weft help console).");
}
