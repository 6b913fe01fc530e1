/* console/view_workers.c - the workers view (per runtime thread: busy %, polls, steals, parks,
 * what it runs now; the runnable queue; the blocking pool) and the timeline (one lane per
 * thread, its polls drawn as spans over the last seconds, long polls standing out).
 *
 * The event stream says which thread polled what and when, and when workers park and steal.
 * Queue depths are samples (worker_queues, sent every few dozen ticks by a busy worker): the
 * local queue of each worker as last reported ("-" if never), and the injection queue as the
 * latest sample of its runtime saw it. The rest is derived: tasks runnable but not yet polled
 * (in total), and blocking tasks waiting for a pool thread.
 */
#include <stdio.h>
#include <string.h>

#include <weft/resource.h>

#include "app.h"

static void worker_label(const model_worker *w, char *buf, size_t size)
{
    switch (w->kind) {
    case WEFT_THREAD_WORKER: snprintf(buf, size, "rt%u worker %u", w->runtime, w->index); break;
    case WEFT_THREAD_BLOCK_ON: snprintf(buf, size, "rt%u block_on", w->runtime); break;
    case WEFT_THREAD_BLOCKING: snprintf(buf, size, "rt%u blocking %u", w->runtime, w->index); break;
    default: snprintf(buf, size, "rt%u thread %u", w->runtime, w->index); break;
    }
}

void view_workers(app *a, canvas *cv, int top, int rows)
{
    const model *m = &a->m;
    int y = top, last = top + rows - 1;
    canvas_printf(cv, y, 0, AT_HEAD, "%-18s %6s %9s %7s %7s %7s %5s  %s", "Thread", "Busy",
                  "Polls", "Steals", "Parks", "Stolen", "Queue", "Now");
    canvas_row_attr(cv, y++, 0, AT_HEAD);
    uint64_t span = a->now > m->first_ts ? a->now - m->first_ts : 0;
    unsigned pool_busy = 0, pool_idle = 0;
    for (size_t i = 0; i < m->nworkers; i++) {
        const model_worker *w = m->workers[i];
        if (w->kind == WEFT_THREAD_BLOCKING) {
            if (w->polling)
                pool_busy++;
            else
                pool_idle++;
        }
        if (y > last - 3)
            continue;
        char label[48], now[260] = "";
        worker_label(w, label, sizeof label);
        uint64_t busy = w->busy_ns + (w->polling && a->now > w->poll_start ? a->now - w->poll_start : 0);
        double pct = span ? 100.0 * (double)busy / (double)span : 0;
        if (w->polling) {
            char who[160], d[32];
            fmt_task(m, w->poll_task, who, sizeof who);
            fmt_dur(d, sizeof d, a->now > w->poll_start ? a->now - w->poll_start : 0, cv->ascii);
            snprintf(now, sizeof now, "polling %s for %s", who, d);
        } else {
            snprintf(now, sizeof now, "%s", w->parked ? "parked" : "idle");
        }
        bool long_poll = w->polling && a->now > w->poll_start &&
                         a->now - w->poll_start > m->limits.long_poll_ns;
        char localq[24] = "-";
        if (w->local_queue >= 0)
            snprintf(localq, sizeof localq, "%lld", (long long)w->local_queue);
        canvas_printf(cv, y, 0, AT_NORMAL, "%-18s %5.1f%% %9llu %7llu %7llu %7llu %5s  ", label,
                      pct, (unsigned long long)w->polls, (unsigned long long)w->steals,
                      (unsigned long long)w->parks, (unsigned long long)w->stolen_tasks, localq);
        canvas_text(cv, y, 68, long_poll ? AT_WARN : w->polling ? AT_GOOD : AT_DIM, -1, now);
        if (a->sel_row == (int)i)
            canvas_row_attr(cv, y, 0, AT_SELECTED);
        y++;
    }
    if (m->nworkers == 0)
        canvas_text(cv, y++, 1, AT_DIM, -1, "no runtime thread has polled a task yet");
    size_t runnable = 0, blocking_queued = 0;
    for (size_t i = 0; i < m->ntasks; i++) {
        const model_task *t = m->tasks[i];
        if (t->state != TASK_SCHEDULED)
            continue;
        if (t->kind == WEFT_TASK_BLOCKING)
            blocking_queued++;
        else
            runnable++;
    }
    y++;
    if (y <= last)
        canvas_printf(cv, y++, 0, AT_NORMAL,
                      "Runnable tasks waiting for a worker: %zu   (%u workers declared by %u runtime%s)",
                      runnable, m->nworkers_declared, m->runtimes, m->runtimes == 1 ? "" : "s");
    /* The injection queue: the most recent sample of each runtime. */
    for (size_t i = 0; i < m->nworkers && y <= last; i++) {
        const model_worker *w = m->workers[i], *latest = NULL;
        if (w->queues_ts == 0)
            continue;
        bool seen = false;
        for (size_t k = 0; k < m->nworkers; k++) {
            const model_worker *o = m->workers[k];
            if (o->runtime != w->runtime || o->queues_ts == 0)
                continue;
            if (k < i)
                seen = true; /* this runtime was printed already */
            if (!latest || o->queues_ts > latest->queues_ts)
                latest = o;
        }
        if (seen)
            continue;
        char ago[32];
        fmt_dur(ago, sizeof ago, a->now > latest->queues_ts ? a->now - latest->queues_ts : 0,
                cv->ascii);
        canvas_printf(cv, y++, 0, AT_NORMAL, "rt%u injection queue: %lld tasks (sampled %s ago "
                      "by worker %u)", latest->runtime, (long long)latest->inject_queue, ago,
                      latest->index);
    }
    if (y <= last)
        canvas_printf(cv, y++, 0, AT_NORMAL,
                      "Blocking pool: %u threads busy, %u idle, %zu tasks queued", pool_busy,
                      pool_idle, blocking_queued);
}

void view_timeline(app *a, canvas *cv, int top, int rows)
{
    const model *m = &a->m;
    int label_w = 17;
    int lane_w = cv->w - label_w - 1;
    if (lane_w < 10) {
        canvas_text(cv, top, 0, AT_DIM, -1, "too narrow for the timeline");
        return;
    }
    uint64_t win = a->timeline_ns ? a->timeline_ns : 2000000000ull;
    uint64_t end = a->now, start = end > win ? end - win : 0;
    char w1[32], w2[32];
    fmt_dur(w1, sizeof w1, win, cv->ascii);
    fmt_dur(w2, sizeof w2, win / (uint64_t)lane_w, cv->ascii);
    canvas_printf(cv, top, 0, AT_HEAD, "Polls over the last %s, one column = %s (+/- to zoom); "
                  "long polls (> %.0f ms) stand out", w1, w2, (double)m->limits.long_poll_ns / 1e6);
    canvas_row_attr(cv, top, 0, AT_HEAD);
    int y = top + 1;
    const char *full = canvas_glyph(cv, "\xe2\x96\x88", "#");
    const char *part = canvas_glyph(cv, "\xe2\x96\x8c", "|");
    for (size_t i = 0; i < m->nworkers && y < top + rows - 1; i++) {
        const model_worker *w = m->workers[i];
        char label[48];
        worker_label(w, label, sizeof label);
        canvas_text(cv, y, 0, AT_NORMAL, label_w, label);
        /* Each column shows the busiest poll that overlaps it: long polls win. */
        unsigned char marks[512] = {0};
        int cols = lane_w < 512 ? lane_w : 512;
        uint64_t have = w->nspans < MODEL_SPANS ? w->nspans : MODEL_SPANS;
        poll_span cur = {w->poll_task, w->poll_start, a->now};
        for (uint64_t k = 0; k <= have; k++) {
            const poll_span *s;
            if (k == have) {
                if (!w->polling)
                    break;
                s = &cur;
            } else {
                s = &w->spans[(w->nspans - 1 - k) % MODEL_SPANS];
            }
            if (s->end < start || s->start > end)
                continue;
            uint64_t s0 = s->start < start ? start : s->start;
            uint64_t s1 = s->end > end ? end : s->end;
            int c0 = (int)((s0 - start) * (uint64_t)cols / (win ? win : 1));
            int c1 = (int)((s1 - start) * (uint64_t)cols / (win ? win : 1));
            bool lng = s->end - s->start > m->limits.long_poll_ns;
            for (int c = c0; c <= c1 && c < cols; c++) {
                unsigned char v = lng ? 3 : (c1 > c0 ? 2 : 1);
                if (v > marks[c])
                    marks[c] = v;
            }
        }
        for (int c = 0; c < cols; c++) {
            if (!marks[c]) {
                canvas_text(cv, y, label_w + 1 + c, AT_DIM, 1, canvas_glyph(cv, "\xc2\xb7", "."));
                continue;
            }
            canvas_text(cv, y, label_w + 1 + c, marks[c] == 3 ? AT_WARN : AT_GOOD, 1,
                        marks[c] == 1 ? part : full);
        }
        y++;
    }
    if (m->nworkers == 0)
        canvas_text(cv, y++, 1, AT_DIM, -1, "no polls yet");
    char t0[32];
    fmt_dur(t0, sizeof t0, win, cv->ascii);
    canvas_printf(cv, y, label_w + 1, AT_DIM, "-%s", t0);
    canvas_text(cv, y, cv->w - 4, AT_DIM, -1, "now");
}
