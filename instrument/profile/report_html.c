/* instrument/profile/report_html.c - the profiler's model as one self-contained HTML page.
 *
 * One file a user can mail or attach to a bug: inline CSS, charts drawn as inline SVG, no
 * script and no link to anything outside the page (tests/profile checks both). Charts:
 *
 *   timeline     one row per worker, time left to right, each column shaded by how much of
 *                that slice of time the worker spent polling
 *   histograms   poll durations in power-of-two buckets, for all polls and for the busiest
 *                tasks
 *   contention   total wait per resource, the most waited-on first
 *
 * followed by the same tables as the text report. Every string from the trace is escaped.
 */
#include <math.h>
#include <string.h>

#include "profile.h"

#define W 900 /* chart width, px */

/* Charts carry their own presentation attributes (no CSS classes for text), so that the same
 * SVG is right inside the page and alone in a file (prof_chart_svg, `weft report --svg`). */
#define SVG_NS "xmlns=\"http://www.w3.org/2000/svg\"" /* standalone files only: inside the
                                                          page it would read as a link */
#define LBL "font-family=\"sans-serif\" font-size=\"12\" fill=\"#1f2328\""
#define TICK "font-family=\"sans-serif\" font-size=\"9\" fill=\"#57606a\""

static void esc(FILE *out, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '&': fputs("&amp;", out); break;
        case '"': fputs("&quot;", out); break;
        case '\'': fputs("&#39;", out); break;
        default: fputc(*s, out);
        }
    }
}

static const char *dur(char *buf, size_t len, uint64_t ns)
{
    return prof_dur(buf, len, ns, false);
}

static const char *ns(bool alone)
{
    return alone ? SVG_NS : "";
}

static void timeline_svg(const prof_model *m, bool alone, FILE *out)
{
    const int row = 22, label = 110, plot = W - label;
    size_t rows = 0;
    for (size_t i = 0; i < m->nworkers; i++)
        rows += m->workers[i].polls > 0;
    int h = (int)rows * row + 24;
    char span[24];
    dur(span, sizeof span, m->end_ts - m->start_ts);
    fprintf(out, "<svg %s class=\"chart\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
                 "role=\"img\" aria-label=\"timeline per worker\">\n", ns(alone), W, h, W, h);
    double bw = (double)plot / PROF_TIMELINE_BINS;
    size_t r = 0;
    for (size_t i = 0; i < m->nworkers; i++) {
        const prof_worker *w = &m->workers[i];
        if (!w->polls)
            continue; /* e.g. the block_on thread of a multi-thread runtime */
        int y = (int)r++ * row;
        fprintf(out, "<text x=\"0\" y=\"%d\" " LBL ">%s %lld</text>\n", y + 15, w->kind,
                (long long)w->worker);
        fprintf(out, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"#f6f8fa\"/>\n",
                label, y + 2, plot, row - 4);
        /* Runs of bins with the same shade become one rectangle: smaller, and no seams. */
        for (int b = 0; b < PROF_TIMELINE_BINS;) {
            int shade = (int)(fminf(w->timeline[b], 1.0f) * 20 + 0.5f); /* 5 % steps */
            int e = b + 1;
            while (e < PROF_TIMELINE_BINS &&
                   (int)(fminf(w->timeline[e], 1.0f) * 20 + 0.5f) == shade)
                e++;
            if (shade > 0)
                fprintf(out, "<rect x=\"%.2f\" y=\"%d\" width=\"%.2f\" height=\"%d\" "
                             "fill=\"#1f6feb\" fill-opacity=\"%.2f\"/>\n",
                        label + b * bw, y + 2, (e - b) * bw, row - 4, 0.15 + 0.85 * shade / 20.0);
            b = e;
        }
    }
    int y = (int)rows * row + 16;
    fprintf(out, "<text x=\"%d\" y=\"%d\" " LBL ">0</text>\n", label, y);
    fprintf(out, "<text x=\"%d\" y=\"%d\" " LBL " text-anchor=\"end\">%s</text>\n", W, y,
            span);
    fputs("</svg>\n", out);
}

/* A bar chart of a log2 histogram. */
static void hist_svg(FILE *out, bool alone, const uint32_t *hist, int width, int height,
                     const char *what)
{
    uint32_t max = 0;
    unsigned lo = PROF_HIST_BUCKETS, hi = 0;
    for (unsigned b = 0; b < PROF_HIST_BUCKETS; b++)
        if (hist[b]) {
            if (hist[b] > max)
                max = hist[b];
            if (b < lo)
                lo = b;
            hi = b;
        }
    fprintf(out, "<svg %s class=\"chart\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
                 "role=\"img\" aria-label=\"",
            ns(alone), width, height, width, height);
    esc(out, what);
    fputs("\">\n", out);
    if (!max) {
        fputs("<text x=\"4\" y=\"16\" " LBL ">no polls</text></svg>\n", out);
        return;
    }
    int nb = (int)(hi - lo + 1), base = height - 18;
    double bw = (double)width / nb;
    for (unsigned b = lo; b <= hi; b++) {
        int x = (int)((b - lo) * bw);
        double bh = hist[b] ? 2 + (double)hist[b] / max * (base - 16) : 0;
        char from[24];
        fprintf(out, "<rect x=\"%d\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#2da44e\">"
                     "<title>&gt;= %s: %u polls</title></rect>\n",
                x + 1, base - bh, bw - 2, bh, dur(from, sizeof from, prof_bucket_low(b)),
                hist[b]);
        if (hist[b] && bw >= 14)
            fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" " TICK " text-anchor=\"middle\">"
                         "%u</text>\n",
                    x + bw / 2, base - bh - 3, hist[b]);
        /* A label every ~60 px so that they never overlap. */
        unsigned every = (unsigned)(60 / bw) + 1;
        if ((b - lo) % every == 0)
            fprintf(out, "<text x=\"%d\" y=\"%d\" " TICK ">%s</text>\n", x + 1,
                    height - 4, from);
    }
    fputs("</svg>\n", out);
}

/* Resources with waits among the first `top` (0: 10), and the longest total wait. */
static size_t contended(const prof_model *m, unsigned top, uint64_t *max)
{
    size_t n = 0;
    *max = 0;
    for (size_t i = 0; i < m->nresources && n < (top ? top : 10); i++)
        if (m->resources[i].waits) {
            n++;
            if (m->resources[i].wait_ns > *max)
                *max = m->resources[i].wait_ns;
        }
    return n;
}

static void contention_svg(const prof_model *m, unsigned top, bool alone, FILE *out)
{
    uint64_t max;
    size_t n = contended(m, top, &max);
    if (!n) {
        fprintf(out, "<svg %s width=\"%d\" height=\"24\" viewBox=\"0 0 %d 24\"><text x=\"0\" "
                     "y=\"16\" %s>no task waited on a resource</text></svg>\n",
                ns(alone), W, W, LBL);
        return;
    }
    const int row = 22, label = 260, plot = W - label - 120;
    fprintf(out, "<svg %s class=\"chart\" width=\"%d\" height=\"%zu\" viewBox=\"0 0 %d %zu\" "
                 "role=\"img\" aria-label=\"wait time per resource\">\n",
            ns(alone), W, n * row + 4, W, n * row + 4);
    for (size_t i = 0, k = 0; i < m->nresources && k < n; i++) {
        const prof_resource *r = &m->resources[i];
        if (!r->waits)
            continue;
        int y = (int)k++ * row;
        double bw = max ? (double)r->wait_ns / max * plot : 0;
        char d[24];
        fprintf(out, "<text x=\"0\" y=\"%d\" " LBL ">", y + 15);
        esc(out, r->kind);
        fputc(' ', out);
        esc(out, r->name[0] ? r->name : "(unnamed)");
        fprintf(out, "</text>\n<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%d\" "
                     "fill=\"#cf222e\"/>\n<text x=\"%.1f\" y=\"%d\" " LBL ">%s, %llu waits"
                     "</text>\n",
                label, y + 3, bw < 1 ? 1 : bw, row - 6, label + (bw < 1 ? 1 : bw) + 6, y + 15,
                dur(d, sizeof d, r->wait_ns), (unsigned long long)r->waits);
    }
    fputs("</svg>\n", out);
}

static void td_dur(FILE *out, uint64_t ns)
{
    char d[24];
    fprintf(out, "<td class=\"n\">%s</td>", dur(d, sizeof d, ns));
}

static void td_text(FILE *out, const char *s)
{
    fputs("<td>", out);
    esc(out, s && *s ? s : "-");
    fputs("</td>", out);
}

static void tasks_table(const prof_model *m, unsigned top, FILE *out)
{
    size_t n = top && top < m->ntasks ? top : m->ntasks;
    fprintf(out, "<h2>Tasks</h2>\n<p>%zu of %zu tasks, the busiest first. <i>Busy</i>: in "
                 "polls; <i>scheduled</i>: woken and waiting for a worker; <i>idle</i>: waiting "
                 "to be woken.</p>\n<table>\n<tr><th>task</th><th>name</th><th>spawned at</th>"
                 "<th>polls</th><th>busy</th><th>scheduled</th><th>idle</th><th>p50</th>"
                 "<th>p90</th><th>p99</th><th>max</th><th>outcome</th></tr>\n",
            n, m->ntasks);
    for (size_t i = 0; i < n; i++) {
        const prof_task *t = &m->tasks[i];
        fprintf(out, "<tr><td class=\"n\">%llu</td>", (unsigned long long)t->id);
        td_text(out, t->name);
        td_text(out, t->spawned_at);
        fprintf(out, "<td class=\"n\">%llu</td>", (unsigned long long)t->polls);
        td_dur(out, t->busy_ns);
        td_dur(out, t->scheduled_ns);
        td_dur(out, t->idle_ns);
        td_dur(out, t->p50_ns);
        td_dur(out, t->p90_ns);
        td_dur(out, t->p99_ns);
        td_dur(out, t->max_ns);
        td_text(out, t->outcome);
        fputs("</tr>\n", out);
    }
    fputs("</table>\n", out);
}

static void slowest_table(const prof_model *m, FILE *out)
{
    fputs("<h2>Slowest polls</h2>\n<p>A poll holds its worker until it returns: nothing else "
          "runs there meanwhile. <i>Ended at</i> is the await where the task went to sleep.</p>\n"
          "<table>\n<tr><th>#</th><th>duration</th><th>task</th><th>name</th><th>worker</th>"
          "<th>at</th><th>ended at</th><th>spawned at</th></tr>\n", out);
    for (size_t i = 0; i < m->nslowest; i++) {
        const prof_poll *p = &m->slowest[i];
        char at[24];
        fprintf(out, "<tr><td class=\"n\">%zu</td>", i + 1);
        td_dur(out, p->duration_ns);
        fprintf(out, "<td class=\"n\">%llu</td>", (unsigned long long)p->task);
        td_text(out, p->t ? p->t->name : NULL);
        fprintf(out, "<td class=\"n\">%lld</td><td class=\"n\">+%s</td>", (long long)p->worker,
                dur(at, sizeof at, p->begin_ts - m->start_ts));
        td_text(out, p->suspended_at ? p->suspended_at : p->ready ? "(finished)" : "(pending)");
        td_text(out, p->t ? p->t->spawned_at : NULL);
        fputs("</tr>\n", out);
    }
    fputs("</table>\n", out);
}

static void resources_table(const prof_model *m, unsigned top, FILE *out)
{
    size_t n = top && top < m->nresources ? top : m->nresources;
    fputs("<h2>Resources</h2>\n<table>\n<tr><th>resource</th><th>kind</th><th>name</th>"
          "<th>created at</th><th>waits</th><th>waited</th><th>p90</th><th>max</th>"
          "<th>holds</th><th>held longest by</th></tr>\n", out);
    for (size_t i = 0; i < n; i++) {
        const prof_resource *r = &m->resources[i];
        fprintf(out, "<tr><td class=\"n\">%llu</td>", (unsigned long long)r->id);
        td_text(out, r->kind);
        td_text(out, r->name);
        td_text(out, r->created_at);
        fprintf(out, "<td class=\"n\">%llu</td>", (unsigned long long)r->waits);
        td_dur(out, r->wait_ns);
        td_dur(out, r->p90_wait_ns);
        td_dur(out, r->max_wait_ns);
        fprintf(out, "<td class=\"n\">%llu</td><td>", (unsigned long long)r->holds);
        for (unsigned h = 0; h < r->nholders; h++) {
            const prof_task *t = prof_find_task(m, r->holders[h].task);
            char d[24];
            fprintf(out, "%s%llu ", h ? "<br>" : "", (unsigned long long)r->holders[h].task);
            esc(out, t ? t->name : "?");
            fprintf(out, " (%s)", dur(d, sizeof d, r->holders[h].held_ns));
        }
        fputs(r->nholders ? "</td></tr>\n" : "-</td></tr>\n", out);
    }
    fputs("</table>\n", out);
}

static void workers_table(const prof_model *m, FILE *out)
{
    fputs("<h2>Workers</h2>\n<table>\n<tr><th>thread</th><th>kind</th><th>worker</th>"
          "<th>polls</th><th>busy</th><th>parks</th><th>parked</th><th>busy %</th></tr>\n", out);
    for (size_t i = 0; i < m->nworkers; i++) {
        const prof_worker *w = &m->workers[i];
        uint64_t alive = w->last_ts > w->first_ts ? w->last_ts - w->first_ts : 0;
        fprintf(out, "<tr><td class=\"n\">%lld</td><td>%s</td><td class=\"n\">%lld</td>"
                     "<td class=\"n\">%llu</td>",
                (long long)w->thread, w->kind, (long long)w->worker,
                (unsigned long long)w->polls);
        td_dur(out, w->busy_ns);
        fprintf(out, "<td class=\"n\">%llu</td>", (unsigned long long)w->parks);
        td_dur(out, w->parked_ns);
        fprintf(out, "<td class=\"n\">%.1f</td></tr>\n",
                alive ? 100.0 * (double)w->busy_ns / (double)alive : 0.0);
    }
    fputs("</table>\n", out);
}

int prof_report_html(const prof_model *m, unsigned top, FILE *out)
{
    char span[24], busy[24];
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>weft "
          "report: ", out);
    esc(out, m->program && *m->program ? m->program : m->path);
    fputs("</title>\n<style>\n"
          "body{font:14px/1.4 system-ui,sans-serif;margin:2em auto;max-width:960px;color:#1f2328}\n"
          "h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #d0d7de}\n"
          "table{border-collapse:collapse;font-size:12px}td,th{padding:2px 8px;"
          "border-bottom:1px solid #eaeef2;text-align:left}td.n{text-align:right;"
          "font-variant-numeric:tabular-nums}\n"
          ".chart{display:block;margin:.5em 0}.lbl{font-size:12px;fill:#1f2328}"
          ".tick{font-size:9px;fill:#57606a}.bg{fill:#f6f8fa}\n"
          ".hists{display:flex;flex-wrap:wrap;gap:1em}.hists div{font-size:12px}\n"
          "</style>\n</head>\n<body>\n<h1>weft report</h1>\n<p>", out);
    esc(out, m->program && *m->program ? m->program : "?");
    fprintf(out, " (pid %lld): %s recorded, %llu events, %zu tasks, %llu polls taking %s.%s%s</p>\n",
            (long long)m->pid, dur(span, sizeof span, m->end_ts - m->start_ts),
            (unsigned long long)m->events, m->ntasks, (unsigned long long)m->total_polls,
            dur(busy, sizeof busy, m->total_busy_ns),
            m->complete ? "" : " The recording is incomplete.",
            m->dropped ? " Some events were dropped." : "");
    {
        fprintf(out, "<h2>Workers over time</h2>\n<p>Each row is a worker; darker means busier "
                     "(the share of that slice of time it spent polling tasks). %s in all.</p>\n",
                dur(span, sizeof span, m->end_ts - m->start_ts));
        timeline_svg(m, false, out);
    }
    fputs("<h2>Poll durations</h2>\n<p>All polls, in power-of-two buckets.</p>\n", out);
    hist_svg(out, false, m->hist, W, 160, "poll durations, all tasks");
    fputs("<div class=\"hists\">\n", out);
    for (size_t i = 0; i < m->ntasks && i < 6; i++) {
        const prof_task *t = &m->tasks[i];
        if (!t->polls)
            continue;
        fprintf(out, "<div><b>%llu ", (unsigned long long)t->id);
        esc(out, t->name);
        fprintf(out, "</b> (%llu polls)\n", (unsigned long long)t->polls);
        hist_svg(out, false, t->hist, 280, 100, t->name);
        fputs("</div>\n", out);
    }
    fputs("</div>\n", out);
    fputs("<h2>Contention</h2>\n", out);
    uint64_t max;
    if (contended(m, top, &max)) {
        fputs("<p>Total time tasks spent waiting on each resource.</p>\n", out);
        contention_svg(m, top, false, out);
    } else {
        fputs("<p>No task ever waited on a resource.</p>\n", out);
    }
    tasks_table(m, top, out);
    slowest_table(m, out);
    resources_table(m, top, out);
    workers_table(m, out);
    fputs("</body>\n</html>\n", out);
    return ferror(out) ? -1 : 0;
}

int prof_chart_svg(const prof_model *m, prof_chart which, FILE *out)
{
    fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", out);
    switch (which) {
    case PROF_CHART_TIMELINE:
        timeline_svg(m, true, out);
        break;
    case PROF_CHART_POLL_HISTOGRAM:
        hist_svg(out, true, m->hist, W, 160, "poll durations, all tasks");
        break;
    case PROF_CHART_CONTENTION:
        contention_svg(m, 0, true, out);
        break;
    }
    return ferror(out) ? -1 : 0;
}
