/* console/view_task.c - one task in detail: identity, times, wakers, what it waits on and the
 * whole wait chain behind it, its warnings, poll and scheduled-time percentiles with a
 * histogram, its parent and children.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"

/* A histogram as one line of bars (eighths of a cell), over the buckets from the first to the
 * last non-empty one, merged to fit `width` columns. */
static void draw_hist(canvas *cv, int y, int x, int width, const hist *h)
{
    static const char *bars[] = {" ", "\xe2\x96\x81", "\xe2\x96\x82", "\xe2\x96\x83",
                                 "\xe2\x96\x84", "\xe2\x96\x85", "\xe2\x96\x86", "\xe2\x96\x87",
                                 "\xe2\x96\x88"};
    static const char *ascii_bars[] = {" ", ".", ".", ":", ":", "+", "+", "#", "#"};
    if (!h->b || h->count == 0 || width < 4)
        return;
    int lo = -1, hi = -1;
    for (int i = 0; i < HIST_BUCKETS; i++)
        if (h->b[i]) {
            if (lo < 0)
                lo = i;
            hi = i;
        }
    int nb = hi - lo + 1;
    int per = (nb + width - 1) / width;
    int cells = (nb + per - 1) / per;
    uint64_t peak = 0;
    uint64_t sums[256];
    for (int c = 0; c < cells && c < 256; c++) {
        sums[c] = 0;
        for (int k = 0; k < per && lo + c * per + k <= hi; k++)
            sums[c] += h->b[lo + c * per + k];
        if (sums[c] > peak)
            peak = sums[c];
    }
    for (int c = 0; c < cells && c < 256; c++) {
        int level = sums[c] ? (int)(1 + sums[c] * 7 / peak) : 0;
        canvas_text(cv, y, x + c, AT_ACCENT, 1, cv->ascii ? ascii_bars[level] : bars[level]);
    }
    char a[32], b[32];
    /* The first bucket also holds everything below its nominal low edge (zero durations
     * under virtual time, for one). */
    uint64_t low = lo == 0 ? 0 : hist_bucket_low((unsigned)lo);
    fmt_dur(a, sizeof a, low, cv->ascii);
    fmt_dur(b, sizeof b, h->max, cv->ascii);
    canvas_printf(cv, y + 1, x, AT_DIM, "%s .. %s, %d bucket%s per column", a, b, per,
                  per == 1 ? "" : "s");
}

static int draw_percentiles(canvas *cv, int y, const char *what, const hist *h)
{
    char p[4][32];
    double q[4] = {0.5, 0.9, 0.99, 1.0};
    for (int i = 0; i < 4; i++)
        fmt_dur(p[i], sizeof p[i], hist_quantile(h, q[i]), cv->ascii);
    canvas_printf(cv, y, 1, AT_HEAD, "%s", what);
    if (h->count == 0) {
        canvas_text(cv, y, 18, AT_DIM, -1, "none yet");
        return 1;
    }
    canvas_printf(cv, y, 18, AT_NORMAL, "p50 %s  p90 %s  p99 %s  max %s  (%llu)", p[0], p[1],
                  p[2], p[3], (unsigned long long)h->count);
    draw_hist(cv, y + 1, 18, cv->w - 20 < 64 ? cv->w - 20 : 64, h);
    return 3;
}

/* The wait chain, one task per line: T waits on R at L, held by H; H waits... */
static int draw_chain(app *a, canvas *cv, int y, int last, uint64_t task)
{
    const model *m = &a->m;
    wait_chain ch;
    wait_chain_of(m, task, &ch);
    canvas_text(cv, y++, 1, AT_HEAD, -1, "Wait chain");
    if (ch.n == 0 || (ch.n == 1 && ch.end == CHAIN_NOT_WAITING)) {
        canvas_text(cv, y++, 3, AT_DIM, -1, "not waiting on a resource or a join");
        return y;
    }
    const char *down = canvas_glyph(cv, "\xe2\x94\x94\xe2\x94\x80 ", "`- ");
    for (unsigned i = 0; i < ch.n && y <= last; i++) {
        const chain_link *l = &ch.links[i];
        char who[160], what[300];
        fmt_task(m, l->task, who, sizeof who);
        const model_task *t = model_task_get(m, l->task);
        int indent = 3 + 2 * (int)(i < 8 ? i : 8);
        int x = indent;
        if (i > 0)
            x += canvas_text(cv, y, x, AT_DIM, -1, down);
        bool cyc = ch.end == CHAIN_CYCLE && i >= ch.cycle_from;
        x += canvas_text(cv, y, x, cyc ? AT_ERROR : AT_NORMAL, -1, who);
        if (!l->resource && !l->via_join) {
            canvas_printf(cv, y++, x + 1, AT_DIM, "is %s",
                          t ? task_state_name(t->state) : "not known (finished?)");
            break;
        }
        fmt_wait(m, l, what, sizeof what);
        char since[48] = "";
        if (t && t->wait.since && a->now > t->wait.since) {
            char d[32];
            fmt_dur(d, sizeof d, a->now - t->wait.since, cv->ascii);
            snprintf(since, sizeof since, " for %s", d);
        }
        const char *tail = fmt_wait_tail(l);
        canvas_printf(cv, y++, x + 1, AT_NORMAL, "%s%s%s%s", what, since,
                      !l->holder ? ", which nobody holds" : *tail ? ", " : "", l->holder ? tail : "");
    }
    if (ch.end == CHAIN_CYCLE && y <= last) {
        char who[160];
        fmt_task(m, ch.links[ch.cycle_from].task, who, sizeof who);
        int x = 3 + 2 * (int)(ch.n < 8 ? ch.n : 8);
        x += canvas_text(cv, y, x, AT_DIM, -1, down);
        canvas_printf(cv, y++, x, AT_ERROR, "%s again: a wait-for cycle, DEADLOCK", who);
    } else if (ch.end == CHAIN_TOO_LONG && y <= last) {
        canvas_text(cv, y++, 3, AT_DIM, -1, "... (chain longer than shown)");
    }
    return y;
}

void view_task(app *a, canvas *cv, int top, int rows)
{
    const model *m = &a->m;
    const model_task *t = model_task_get(m, a->sel_task);
    int y = top, last = top + rows - 1;
    if (!t) {
        canvas_text(cv, y, 1, AT_DIM, -1, "no task selected (it may have been forgotten)");
        return;
    }
    char who[160], loc[128], b1[32], b2[32], b3[32], b4[32];
    fmt_task(m, t->id, who, sizeof who);
    model_location(m, t->location, loc, sizeof loc);
    uint64_t busy, sched, idle;
    model_task_times(t, a->now, &busy, &sched, &idle);
    fmt_dur(b1, sizeof b1, a->now > t->state_since ? a->now - t->state_since : 0, cv->ascii);
    canvas_printf(cv, y++, 1, AT_HEAD, "Task %s  spawned at %s  %s for %s%s", who,
                  *loc ? loc : "?", task_state_name(t->state), b1,
                  t->from_snapshot ? "  (known since attach)" : "");
    if (t->state == TASK_DONE)
        canvas_printf(cv, y++, 1, AT_DIM, "finished: %s, status %d",
                      t->outcome == 0 ? "ok" : t->outcome == 1 ? "cancelled" : "failed",
                      t->status);
    fmt_dur(b1, sizeof b1, busy + sched + idle, cv->ascii);
    fmt_dur(b2, sizeof b2, busy, cv->ascii);
    fmt_dur(b3, sizeof b3, sched, cv->ascii);
    fmt_dur(b4, sizeof b4, idle, cv->ascii);
    canvas_printf(cv, y++, 1, AT_NORMAL, "Total %s   Busy %s   Scheduled %s   Idle %s   Polls %llu",
                  b1, b2, b3, b4, (unsigned long long)t->polls);
    char waker[256] = "";
    if (t->wakes) {
        char ago[32];
        fmt_dur(ago, sizeof ago, a->now > t->last_wake ? a->now - t->last_wake : 0, cv->ascii);
        if (t->last_waker)
            fmt_task(m, t->last_waker, who, sizeof who);
        snprintf(waker, sizeof waker, ", last woken %s ago by %s", ago,
                 t->last_waker ? who : "the runtime (not a task)");
    }
    canvas_printf(cv, y++, 1, AT_NORMAL,
                  "Wakers: %lld live%s, %llu clones, %llu drops; %llu wakes, %llu self-wakes%s",
                  (long long)t->wakers, t->wakers_exact ? "" : " (since attach)",
                  (unsigned long long)t->waker_clones, (unsigned long long)t->waker_drops,
                  (unsigned long long)t->wakes, (unsigned long long)t->self_wakes, waker);
    uint32_t lints = lints_of_task(m, &a->lints, t->id);
    for (unsigned k = 0; k < LINT_COUNT && y <= last; k++)
        if (lints >> k & 1)
            canvas_printf(cv, y++, 1, AT_WARN, "%s%s: %s", canvas_glyph(cv, "\xe2\x9a\xa0 ", "! "),
                          lint_name(k), lint_about(k));
    y++;
    if (y <= last)
        y = draw_chain(a, cv, y, last, t->id);
    y++;
    if (y + 2 <= last)
        y += draw_percentiles(cv, y, "Poll times", &t->poll_hist);
    if (y + 2 <= last)
        y += draw_percentiles(cv, y, "Scheduled times", &t->sched_hist);
    if (y > last)
        return;
    /* Family. */
    if (t->parent) {
        fmt_task(m, t->parent, who, sizeof who);
        const model_task *p = model_task_get(m, t->parent);
        canvas_printf(cv, y++, 1, AT_NORMAL, "Parent: %s (%s)", who,
                      p ? task_state_name(p->state) : "finished");
    } else {
        canvas_text(cv, y++, 1, AT_NORMAL, -1, "Parent: none (spawned from outside a task)");
    }
    if (y > last)
        return;
    int x = canvas_text(cv, y, 1, AT_NORMAL, -1, "Children:");
    size_t nchild = 0;
    for (size_t i = 0; i < m->ntasks; i++) {
        const model_task *c = m->tasks[i];
        if (c->parent != t->id)
            continue;
        nchild++;
        char s[48];
        snprintf(s, sizeof s, " T%llu%s", (unsigned long long)c->id,
                 c->state == TASK_DONE ? "(done)" : "");
        if (x + (int)strlen(s) + 6 < cv->w)
            x += canvas_text(cv, y, 1 + x, c->state == TASK_DONE ? AT_DIM : AT_NORMAL, -1, s);
    }
    if (!nchild)
        canvas_text(cv, y, 1 + x, AT_DIM, -1, " none");
}
