/* instrument/profile/report_text.c - the profiler's model as plain text (`weft report`).
 *
 * Four tables, each answering one question:
 *
 *   Tasks          which tasks used the workers (busy), waited for one (scheduled) or waited
 *                  for something else (idle); how their polls are distributed
 *   Slowest polls  which single polls held a worker longest, and at which await they gave it
 *                  back (or that they finished)
 *   Resources      what tasks waited on, for how long in total and at worst, and which tasks
 *                  held it longest
 *   Workers        how busy each worker was
 *
 * Columns are separated by two spaces and never contain spaces themselves (names and
 * locations are cut at the first one), so `awk` can read the tables; --ns prints durations as
 * integer nanoseconds for scripts.
 */
#include <string.h>

#include "profile.h"

#define DUR(buf, ns) prof_dur((buf), sizeof (buf), (ns), o->raw_ns)

/* A field without spaces, cut to `width` characters ("-" when empty). */
static const char *word(char *buf, size_t len, const char *s, size_t width)
{
    if (!s || !*s)
        s = "-";
    size_t n = 0;
    while (s[n] && n + 1 < len && n < width) {
        buf[n] = (s[n] == ' ' || s[n] == '\t') ? '_' : s[n];
        n++;
    }
    buf[n] = '\0';
    return buf;
}

static const char *task_name(const prof_model *m, uint64_t id, char *buf, size_t len)
{
    const prof_task *t = prof_find_task(m, id);
    return word(buf, len, t ? t->name : NULL, 24);
}

static void tasks_table(const prof_model *m, const prof_text_opts *o, FILE *out)
{
    size_t n = o->top && o->top < m->ntasks ? o->top : m->ntasks;
    fprintf(out, "\nTasks by busy time (%zu of %zu)\n", n, m->ntasks);
    fprintf(out, "  %-6s  %-24s  %-28s  %6s  %10s  %10s  %10s  %10s  %10s  %10s  %10s  %s\n",
            "task", "name", "spawned_at", "polls", "busy", "scheduled", "idle", "p50", "p90",
            "p99", "max", "outcome");
    for (size_t i = 0; i < n; i++) {
        const prof_task *t = &m->tasks[i];
        char nm[32], at[40], b[24], s[24], id[24], p50[24], p90[24], p99[24], mx[24];
        fprintf(out, "  %-6llu  %-24s  %-28s  %6llu  %10s  %10s  %10s  %10s  %10s  %10s  %10s  %s\n",
                (unsigned long long)t->id, word(nm, sizeof nm, t->name, 24),
                word(at, sizeof at, t->spawned_at, 28), (unsigned long long)t->polls,
                DUR(b, t->busy_ns), DUR(s, t->scheduled_ns), DUR(id, t->idle_ns),
                DUR(p50, t->p50_ns), DUR(p90, t->p90_ns), DUR(p99, t->p99_ns),
                DUR(mx, t->max_ns), t->outcome);
    }
}

static void slowest_table(const prof_model *m, const prof_text_opts *o, FILE *out)
{
    fprintf(out, "\nSlowest polls (%zu)\n", m->nslowest);
    fprintf(out, "  %-3s  %10s  %-6s  %-24s  %6s  %-9s  %-28s  %s\n", "#", "duration", "task",
            "name", "worker", "at_ms", "ended_at", "spawned_at");
    for (size_t i = 0; i < m->nslowest; i++) {
        const prof_poll *p = &m->slowest[i];
        char d[24], nm[32], end[40], at[40];
        const char *ended = p->suspended_at ? p->suspended_at : p->ready ? "(finished)" : "(pending)";
        fprintf(out, "  %-3zu  %10s  %-6llu  %-24s  %6lld  %9.3f  %-28s  %s\n", i + 1,
                DUR(d, p->duration_ns), (unsigned long long)p->task,
                word(nm, sizeof nm, p->t ? p->t->name : NULL, 24), (long long)p->worker,
                (double)(p->begin_ts - m->start_ts) / 1e6, word(end, sizeof end, ended, 28),
                word(at, sizeof at, p->t ? p->t->spawned_at : NULL, 40));
    }
}

static void resources_table(const prof_model *m, const prof_text_opts *o, FILE *out)
{
    size_t n = o->top && o->top < m->nresources ? o->top : m->nresources;
    fprintf(out, "\nResources by total wait (%zu of %zu)\n", n, m->nresources);
    fprintf(out, "  %-8s  %-14s  %-16s  %-28s  %6s  %10s  %10s  %10s  %6s  %s\n", "resource",
            "kind", "name", "created_at", "waits", "waited", "p90", "max", "holds",
            "longest_holders(task:name:total)");
    for (size_t i = 0; i < n; i++) {
        const prof_resource *r = &m->resources[i];
        char k[20], nm[24], at[40], w[24], p90[24], mx[24];
        fprintf(out, "  %-8llu  %-14s  %-16s  %-28s  %6llu  %10s  %10s  %10s  %6llu  ",
                (unsigned long long)r->id, word(k, sizeof k, r->kind, 14),
                word(nm, sizeof nm, r->name, 16), word(at, sizeof at, r->created_at, 28),
                (unsigned long long)r->waits, DUR(w, r->wait_ns), DUR(p90, r->p90_wait_ns),
                DUR(mx, r->max_wait_ns), (unsigned long long)r->holds);
        if (r->nholders == 0)
            fputs("-", out);
        for (unsigned h = 0; h < r->nholders; h++) {
            char tn[32], held[24];
            fprintf(out, "%s%llu:%s:%s", h ? "," : "", (unsigned long long)r->holders[h].task,
                    task_name(m, r->holders[h].task, tn, sizeof tn),
                    DUR(held, r->holders[h].held_ns));
        }
        fputc('\n', out);
    }
}

static void workers_table(const prof_model *m, const prof_text_opts *o, FILE *out)
{
    fprintf(out, "\nWorkers (%zu)\n", m->nworkers);
    fprintf(out, "  %-6s  %-8s  %6s  %8s  %10s  %6s  %10s  %10s  %6s\n", "thread", "kind",
            "worker", "polls", "busy", "parks", "parked", "alive", "busy%");
    for (size_t i = 0; i < m->nworkers; i++) {
        const prof_worker *w = &m->workers[i];
        uint64_t alive = w->last_ts > w->first_ts ? w->last_ts - w->first_ts : 0;
        char b[24], pk[24], al[24];
        fprintf(out, "  %-6lld  %-8s  %6lld  %8llu  %10s  %6llu  %10s  %10s  %6.1f\n",
                (long long)w->thread, w->kind, (long long)w->worker,
                (unsigned long long)w->polls, DUR(b, w->busy_ns), (unsigned long long)w->parks,
                DUR(pk, w->parked_ns), DUR(al, alive),
                alive ? 100.0 * (double)w->busy_ns / (double)alive : 0.0);
    }
}

static void histogram(const prof_model *m, FILE *out)
{
    uint32_t max = 0;
    unsigned lo = PROF_HIST_BUCKETS, hi = 0;
    for (unsigned b = 0; b < PROF_HIST_BUCKETS; b++)
        if (m->hist[b]) {
            if (m->hist[b] > max)
                max = m->hist[b];
            if (b < lo)
                lo = b;
            hi = b;
        }
    fprintf(out, "\nPoll durations (%llu polls)\n", (unsigned long long)m->total_polls);
    if (!max)
        return;
    /* Empty buckets between the first and the last are left out: the labels say where the
     * gaps are, and a profile's outliers sit orders of magnitude above the rest. */
    for (unsigned b = lo; b <= hi; b++) {
        if (!m->hist[b])
            continue;
        char from[24];
        int bar = (int)((double)m->hist[b] / max * 50 + 0.5);
        fprintf(out, "  >= %10s  %8u  ", prof_dur(from, sizeof from, prof_bucket_low(b), false),
                m->hist[b]);
        for (int i = 0; i < bar; i++)
            fputc('#', out);
        fputc('\n', out);
    }
}

int prof_report_text(const prof_model *m, const prof_text_opts *o, FILE *out)
{
    char span[24];
    fprintf(out, "weft report: %s\n", m->path);
    fprintf(out, "program %s (pid %lld), %s recorded, %llu events%s%s\n",
            m->program && *m->program ? m->program : "?", (long long)m->pid,
            prof_dur(span, sizeof span, m->end_ts - m->start_ts, o->raw_ns),
            (unsigned long long)m->events, m->complete ? "" : ", recording incomplete",
            m->dropped ? ", some events dropped" : "");
    tasks_table(m, o, out);
    slowest_table(m, o, out);
    resources_table(m, o, out);
    workers_table(m, o, out);
    histogram(m, out);
    return ferror(out) ? -1 : 0;
}
