/* console/app.h - the console's state between frames, shared by the views and the front ends.
 *
 * An app is: a model fed by a source (source.h), the analyses of the current frame (lints,
 * deadlock cycles), and what the person is looking at (view, selection, sort, filter, pause).
 * A frame is app_update (pull events, recompute analyses) then app_render into a canvas; the
 * TUI (tui.c) adds keys (app_key) and the screen, snapshot mode prints one canvas.
 *
 * Selections are kept by id (task id, resource id), not by row, so that the selected task stays
 * selected while rows move as the program runs.
 */
#ifndef WEFT_CONSOLE_APP_H
#define WEFT_CONSOLE_APP_H

#include <stdbool.h>
#include <stdint.h>

#include "canvas.h"
#include "lints.h"
#include "model.h"
#include "source.h"
#include "waitgraph.h"

typedef enum view_id {
    VIEW_TASKS,
    VIEW_TASK,      /* detail of sel_task */
    VIEW_RESOURCES,
    VIEW_RESOURCE,  /* detail of sel_res */
    VIEW_WORKERS,
    VIEW_TIMELINE,
    VIEW_DEADLOCKS,
    VIEW_WARNINGS,
    VIEW_HELP,
    VIEW_COUNT
} view_id;

/* Parse a view name ("tasks", "task", "resources", ...); -1 if unknown. */
int view_by_name(const char *name);
const char *view_name(view_id v);

#define APP_MAX_CYCLES 32

typedef struct app {
    model m;
    source src;
    lint_result lints;
    wait_cycle cycles[APP_MAX_CYCLES];
    size_t ncycles;      /* found, may exceed APP_MAX_CYCLES */
    uint64_t now;        /* the frame's time (ns, the traced program's monotonic clock) */

    view_id view, back;  /* back: where Esc returns from a detail view */
    bool ascii;
    bool paused;         /* live: stop taking events (they wait in the program's rings) */
    /* tasks view */
    int task_sort;       /* column index (view_tasks.c) */
    bool task_sort_asc;
    bool hide_done;
    char filter[64];     /* substring of name or location; "" none */
    int lint_filter;     /* -1, or a lint_kind: tasks view shows only tasks with it */
    uint64_t sel_task;
    int task_scroll;
    /* resources view */
    int res_sort;
    bool res_sort_asc;
    uint64_t sel_res;
    int res_scroll;
    /* other views */
    int sel_row;         /* workers, deadlocks, warnings: the selected row */
    uint64_t timeline_ns;/* width of the timeline window */
    /* input prompts ("/" filter, "g" go to time) */
    int prompt;          /* 0 none, '/' or 'g' */
    char input[64];
    char message[160];   /* a transient line for the status bar */
    int rows_visible;    /* body rows of the last render, for page up/down */
} app;

void app_init(app *a, bool ascii);
void app_free(app *a);

/* Pull what the source has (live: at most budget_ms of work; trace: nothing new), then
 * recompute the analyses at the current time. */
void app_update(app *a, int budget_ms);
/* Recompute lints and cycles only (after the model changed by a seek). */
void app_analyse(app *a);

/* Draw the whole frame (header, view, status line) into cv. */
void app_render(app *a, canvas *cv);

/* Handle a key (ncurses key code or character); false when the user asked to quit. */
bool app_key(app *a, int key);

/* ---------------------------------------------------------------- views (view_*.c) */
void view_tasks(app *a, canvas *cv, int top, int rows);
void view_task(app *a, canvas *cv, int top, int rows);
void view_resources(app *a, canvas *cv, int top, int rows);
void view_resource(app *a, canvas *cv, int top, int rows);
void view_workers(app *a, canvas *cv, int top, int rows);
void view_timeline(app *a, canvas *cv, int top, int rows);
void view_deadlocks(app *a, canvas *cv, int top, int rows);
void view_warnings(app *a, canvas *cv, int top, int rows);
void view_help(app *a, canvas *cv, int top, int rows);

/* Keys the list views share: move the selection among `n` ids (sorted as shown). */
uint64_t pick_move(const uint64_t *ids, size_t n, uint64_t sel, int delta);

/* Rows of the tasks and resources views as shown (filtered and sorted): ids into *out
 * (caller frees). */
size_t tasks_rows(app *a, uint64_t **out);
size_t resources_rows(app *a, uint64_t **out);

/* ---------------------------------------------------------------- formatting (text.c) */
/* "1.23s", "45.1ms", "12.0us", "800ns" (µ unless ascii) */
void fmt_dur(char *buf, size_t size, uint64_t ns, bool ascii);
/* "T7 'name'" or "T7" when unnamed */
void fmt_task(const model *m, uint64_t id, char *buf, size_t size);
/* "mutex 'account_b'" */
void fmt_res(const model *m, uint64_t id, char *buf, size_t size);
/* "waits to lock mutex 'account_b' at file.c:42" for a chain link */
void fmt_wait(const model *m, const chain_link *l, char *buf, size_t size);
/* What follows a link's wait before the next task: "held by", "whose receiver is", or "" for a
 * join (fmt_wait already named the task it awaits). */
const char *fmt_wait_tail(const chain_link *l);
/* A task's lints as short names, comma separated ("" if none). */
void fmt_lints(uint32_t mask, char *buf, size_t size);

#endif
