/* instrument/profile/load.c - a trace database read into the profiler's model (profile.h).
 *
 * The database is first opened with the trace reader (reader.h), which is what decides
 * whether a file is a weft trace at all and says why not; then the derived tables the
 * recorder keeps for exactly this purpose (polls, wakes, waits, lock_holds, parks, workers;
 * docs/book/trace-database.md) are read with plain SQL, read-only.
 *
 * Scheduled and idle time of a task come from merging its polls with its wakes, both in time
 * order:
 *
 *     spawn ──sched──▶ poll ──idle──▶ wake ──sched──▶ poll ──idle──▶ wake ──sched──▶ poll
 *
 * A task is *scheduled* from its spawn, or from the first wake after its previous poll ended,
 * until its next poll begins; *idle* from the end of a poll until that wake. A wake that
 * arrived during a poll (a yield, a self-wake) makes the task scheduled from the poll's end.
 * A task that ended without a last poll (cancelled while idle) was idle until its end.
 */
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>
#include <weft/error.h>

#include "../reader.h"
#include "profile.h"

/* ---------------------------------------------------------------- small helpers */

static char *dupstr(const unsigned char *s)
{
    return strdup(s ? (const char *)s : "");
}

static char *location(sqlite3_stmt *st, int file_col, int line_col)
{
    const unsigned char *f = sqlite3_column_text(st, file_col);
    if (!f || !*f)
        return NULL;
    /* The file's last component: what a reader looks for, and short enough for a table. */
    const char *base = strrchr((const char *)f, '/');
    char buf[512];
    snprintf(buf, sizeof buf, "%s:%lld", base ? base + 1 : (const char *)f,
             (long long)sqlite3_column_int64(st, line_col));
    return strdup(buf);
}

unsigned prof_bucket(uint64_t ns)
{
    unsigned b = ns ? 63u - (unsigned)__builtin_clzll(ns) : 0;
    return b < PROF_HIST_BUCKETS ? b : PROF_HIST_BUCKETS - 1;
}

uint64_t prof_bucket_low(unsigned b)
{
    return b ? (uint64_t)1 << b : 0;
}

const char *prof_dur(char *buf, size_t len, uint64_t ns, bool raw)
{
    if (raw)
        snprintf(buf, len, "%llu", (unsigned long long)ns);
    else if (ns < 1000)
        snprintf(buf, len, "%llu ns", (unsigned long long)ns);
    else if (ns < 1000000)
        snprintf(buf, len, "%.1f us", ns / 1e3);
    else if (ns < 1000000000)
        snprintf(buf, len, "%.2f ms", ns / 1e6);
    else
        snprintf(buf, len, "%.3f s", ns / 1e9);
    return buf;
}

typedef struct loader {
    sqlite3 *db;
    char *err;
    prof_model *m;
} loader;

static int sql_fail(loader *L, const char *what)
{
    snprintf(L->err, PROF_ERR_LEN, "%s: %s: %s", L->m->path, what, sqlite3_errmsg(L->db));
    return WEFT_EFORMAT;
}

static int prepare(loader *L, const char *sql, sqlite3_stmt **st)
{
    if (sqlite3_prepare_v2(L->db, sql, -1, st, NULL) != SQLITE_OK)
        return sql_fail(L, "query");
    return 0;
}

static uint64_t query_u64(loader *L, const char *sql)
{
    sqlite3_stmt *st;
    uint64_t v = 0;
    if (sqlite3_prepare_v2(L->db, sql, -1, &st, NULL) != SQLITE_OK)
        return 0;
    if (sqlite3_step(st) == SQLITE_ROW)
        v = (uint64_t)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static char *query_text(loader *L, const char *sql)
{
    sqlite3_stmt *st;
    char *v = NULL;
    if (sqlite3_prepare_v2(L->db, sql, -1, &st, NULL) != SQLITE_OK)
        return strdup("");
    if (sqlite3_step(st) == SQLITE_ROW)
        v = dupstr(sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return v ? v : strdup("");
}

/* Nearest-rank percentile of sorted v[0..n). */
static uint64_t pct(const uint64_t *v, size_t n, unsigned p)
{
    if (n == 0)
        return 0;
    size_t rank = (n * p + 99) / 100;
    return v[rank ? rank - 1 : 0];
}

static int cmp_task_id(const void *a, const void *b)
{
    uint64_t x = ((const prof_task *)a)->id, y = ((const prof_task *)b)->id;
    return x < y ? -1 : x > y;
}

static prof_task *task_by_id(prof_model *m, uint64_t id)
{
    prof_task key = {.id = id};
    return bsearch(&key, m->tasks, m->ntasks, sizeof *m->tasks, cmp_task_id);
}

static int cmp_ptr_id(const void *key, const void *elem)
{
    uint64_t x = *(const uint64_t *)key, y = (*(const prof_task *const *)elem)->id;
    return x < y ? -1 : x > y;
}

const prof_task *prof_find_task(const prof_model *m, uint64_t id)
{
    prof_task *const *t = bsearch(&id, m->by_id, m->ntasks, sizeof *m->by_id, cmp_ptr_id);
    return t ? *t : NULL;
}

/* ---------------------------------------------------------------- the parts */

static int load_meta(loader *L)
{
    prof_model *m = L->m;
    m->program = query_text(L, "SELECT value FROM meta WHERE key = 'program'");
    m->pid = (int64_t)query_u64(L, "SELECT value FROM meta WHERE key = 'pid'");
    m->complete = query_u64(L, "SELECT value FROM meta WHERE key = 'complete'") == 1;
    m->dropped = query_u64(L, "SELECT value FROM meta WHERE key = 'dropped_events'");
    m->events = query_u64(L, "SELECT count(*) FROM events");
    m->start_ts = query_u64(L, "SELECT min(ts) FROM events");
    m->end_ts = query_u64(L, "SELECT max(ts) FROM events");
    if (m->end_ts < m->start_ts)
        m->end_ts = m->start_ts;
    return 0;
}

static int load_tasks(loader *L)
{
    prof_model *m = L->m;
    size_t n = (size_t)query_u64(L, "SELECT count(*) FROM tasks");
    m->tasks = calloc(n ? n : 1, sizeof *m->tasks);
    if (!m->tasks)
        return WEFT_ENOMEM;
    sqlite3_stmt *st;
    int err = prepare(L,
                      "SELECT task, coalesce(parent, 0), coalesce(kind, ''), coalesce(name, ''),"
                      " file, line, coalesce(spawn_ts, 0), coalesce(end_ts, 0),"
                      " coalesce(outcome, 'running') FROM tasks ORDER BY task",
                      &st);
    if (err)
        return err;
    while (m->ntasks < n && sqlite3_step(st) == SQLITE_ROW) {
        prof_task *t = &m->tasks[m->ntasks++];
        t->id = (uint64_t)sqlite3_column_int64(st, 0);
        t->parent = (uint64_t)sqlite3_column_int64(st, 1);
        snprintf(t->kind, sizeof t->kind, "%s", (const char *)sqlite3_column_text(st, 2));
        t->name = dupstr(sqlite3_column_text(st, 3));
        t->spawned_at = location(st, 4, 5);
        t->spawn_ts = (uint64_t)sqlite3_column_int64(st, 6);
        t->end_ts = (uint64_t)sqlite3_column_int64(st, 7);
        snprintf(t->outcome, sizeof t->outcome, "%s", (const char *)sqlite3_column_text(st, 8));
    }
    sqlite3_finalize(st);
    return 0;
}

/* Poll counts, busy time, percentiles and histograms: one pass over the polls sorted by task
 * and duration. */
static int load_poll_stats(loader *L)
{
    prof_model *m = L->m;
    sqlite3_stmt *st;
    int err = prepare(L,
                      "SELECT task, duration_ns FROM polls WHERE duration_ns IS NOT NULL"
                      " ORDER BY task, duration_ns",
                      &st);
    if (err)
        return err;
    uint64_t *v = NULL;
    size_t n = 0, cap = 0;
    uint64_t cur = 0;
    bool have = false;
    for (;;) {
        int rc = sqlite3_step(st);
        uint64_t task = rc == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(st, 0) : 0;
        if (have && (rc != SQLITE_ROW || task != cur)) {
            prof_task *t = task_by_id(m, cur);
            if (t) {
                t->p50_ns = pct(v, n, 50);
                t->p90_ns = pct(v, n, 90);
                t->p99_ns = pct(v, n, 99);
                t->max_ns = v[n - 1];
            }
            n = 0;
        }
        if (rc != SQLITE_ROW)
            break;
        uint64_t d = (uint64_t)sqlite3_column_int64(st, 1);
        cur = task;
        have = true;
        if (n == cap) {
            cap = cap ? cap * 2 : 1024;
            uint64_t *nv = realloc(v, cap * sizeof *v);
            if (!nv) {
                free(v);
                sqlite3_finalize(st);
                return WEFT_ENOMEM;
            }
            v = nv;
        }
        v[n++] = d;
        unsigned b = prof_bucket(d);
        m->hist[b]++;
        m->total_polls++;
        m->total_busy_ns += d;
        prof_task *t = task_by_id(m, task);
        if (t) {
            t->polls++;
            t->busy_ns += d;
            t->hist[b]++;
        }
    }
    free(v);
    sqlite3_finalize(st);
    return 0;
}

/* Scheduled and idle time: the merge described at the top of the file. */
static int load_sched_idle(loader *L)
{
    prof_model *m = L->m;
    sqlite3_stmt *ps, *ws;
    int err = prepare(L,
                      "SELECT task, begin_ts, coalesce(end_ts, 0) FROM polls"
                      " ORDER BY task, begin_ts",
                      &ps);
    if (err)
        return err;
    if ((err = prepare(L, "SELECT task, ts FROM wakes ORDER BY task, ts", &ws))) {
        sqlite3_finalize(ps);
        return err;
    }
    bool wake_ok = sqlite3_step(ws) == SQLITE_ROW;
    uint64_t cur = 0, last_end = 0;
    prof_task *t = NULL;
    bool open_end = false; /* the task's last poll has not ended */
    for (;;) {
        int rc = sqlite3_step(ps);
        uint64_t task = rc == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(ps, 0) : 0;
        if (t && (rc != SQLITE_ROW || task != cur)) {
            /* Ended while idle (cancelled, or still waiting at the end of the recording). */
            uint64_t end = t->end_ts ? t->end_ts : m->end_ts;
            if (!open_end && strcmp(t->outcome, "ok") != 0 && end > last_end)
                t->idle_ns += end - last_end;
            t = NULL;
        }
        if (rc != SQLITE_ROW)
            break;
        uint64_t begin = (uint64_t)sqlite3_column_int64(ps, 1);
        uint64_t end = (uint64_t)sqlite3_column_int64(ps, 2);
        if (task != cur || !t) {
            cur = task;
            t = task_by_id(m, task);
            if (!t)
                continue;
            last_end = t->spawn_ts;
            if (begin >= last_end)
                t->scheduled_ns += begin - last_end;
        } else {
            /* The first wake of this task at or after the previous poll's end. */
            while (wake_ok && ((uint64_t)sqlite3_column_int64(ws, 0) < task ||
                               ((uint64_t)sqlite3_column_int64(ws, 0) == task &&
                                (uint64_t)sqlite3_column_int64(ws, 1) < last_end)))
                wake_ok = sqlite3_step(ws) == SQLITE_ROW;
            uint64_t woke = last_end; /* woken during the previous poll */
            if (wake_ok && (uint64_t)sqlite3_column_int64(ws, 0) == task) {
                uint64_t w = (uint64_t)sqlite3_column_int64(ws, 1);
                if (w <= begin)
                    woke = w;
            }
            t->idle_ns += woke - last_end;
            if (begin >= woke)
                t->scheduled_ns += begin - woke;
        }
        open_end = end == 0;
        last_end = end ? end : begin;
    }
    sqlite3_finalize(ps);
    sqlite3_finalize(ws);
    return 0;
}

static int cmp_task_ptr_id(const void *a, const void *b)
{
    uint64_t x = (*(const prof_task *const *)a)->id, y = (*(const prof_task *const *)b)->id;
    return x < y ? -1 : x > y;
}

static int cmp_busy_desc(const void *a, const void *b)
{
    const prof_task *x = a, *y = b;
    if (x->busy_ns != y->busy_ns)
        return x->busy_ns < y->busy_ns ? 1 : -1;
    return x->id < y->id ? -1 : x->id > y->id;
}

static int load_slowest(loader *L, unsigned top)
{
    prof_model *m = L->m;
    m->slowest = calloc(top ? top : 1, sizeof *m->slowest);
    if (!m->slowest)
        return WEFT_ENOMEM;
    sqlite3_stmt *st;
    int err = prepare(L,
                      "SELECT p.task, p.thread, p.worker, p.begin_ts, p.duration_ns, p.ready,"
                      " (SELECT w.file FROM waits w WHERE w.task = p.task"
                      "   AND w.begin_ts BETWEEN p.begin_ts AND p.end_ts"
                      "   ORDER BY w.begin_ts DESC LIMIT 1),"
                      " (SELECT w.line FROM waits w WHERE w.task = p.task"
                      "   AND w.begin_ts BETWEEN p.begin_ts AND p.end_ts"
                      "   ORDER BY w.begin_ts DESC LIMIT 1)"
                      " FROM polls p WHERE p.duration_ns IS NOT NULL"
                      " ORDER BY p.duration_ns DESC, p.begin_ts LIMIT ?",
                      &st);
    if (err)
        return err;
    sqlite3_bind_int64(st, 1, top);
    while (m->nslowest < top && sqlite3_step(st) == SQLITE_ROW) {
        prof_poll *p = &m->slowest[m->nslowest++];
        p->task = (uint64_t)sqlite3_column_int64(st, 0);
        p->thread = sqlite3_column_int64(st, 1);
        p->worker = sqlite3_column_int64(st, 2);
        p->begin_ts = (uint64_t)sqlite3_column_int64(st, 3);
        p->duration_ns = (uint64_t)sqlite3_column_int64(st, 4);
        p->ready = sqlite3_column_int(st, 5) != 0;
        p->suspended_at = location(st, 6, 7);
    }
    sqlite3_finalize(st);
    return 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int load_resources(loader *L)
{
    prof_model *m = L->m;
    size_t n = (size_t)query_u64(L, "SELECT count(*) FROM resources");
    m->resources = calloc(n ? n : 1, sizeof *m->resources);
    if (!m->resources)
        return WEFT_ENOMEM;
    sqlite3_stmt *st, *hs, *ws;
    int err = prepare(L,
                      "SELECT r.resource, coalesce(r.kind, ''), coalesce(r.name, ''), r.file,"
                      " r.line, count(w.task), coalesce(sum(w.duration_ns), 0),"
                      " coalesce(max(w.duration_ns), 0),"
                      " (SELECT count(*) FROM lock_holds h WHERE h.resource = r.resource)"
                      " FROM resources r LEFT JOIN waits w ON w.resource = r.resource"
                      " GROUP BY r.resource"
                      " ORDER BY 7 DESC, 6 DESC, r.resource",
                      &st);
    if (err)
        return err;
    if ((err = prepare(L,
                       "SELECT task, count(*), coalesce(sum(duration_ns), 0),"
                       " coalesce(max(duration_ns), 0) FROM lock_holds WHERE resource = ?"
                       " GROUP BY task ORDER BY 3 DESC, task LIMIT " /* PROF_HOLDERS */ "3",
                       &hs))) {
        sqlite3_finalize(st);
        return err;
    }
    if ((err = prepare(L,
                       "SELECT duration_ns FROM waits WHERE resource = ?"
                       " AND duration_ns IS NOT NULL ORDER BY duration_ns",
                       &ws))) {
        sqlite3_finalize(st);
        sqlite3_finalize(hs);
        return err;
    }
    while (m->nresources < n && sqlite3_step(st) == SQLITE_ROW) {
        prof_resource *r = &m->resources[m->nresources++];
        r->id = (uint64_t)sqlite3_column_int64(st, 0);
        r->kind = dupstr(sqlite3_column_text(st, 1));
        r->name = dupstr(sqlite3_column_text(st, 2));
        r->created_at = location(st, 3, 4);
        r->waits = (uint64_t)sqlite3_column_int64(st, 5);
        r->wait_ns = (uint64_t)sqlite3_column_int64(st, 6);
        r->max_wait_ns = (uint64_t)sqlite3_column_int64(st, 7);
        r->holds = (uint64_t)sqlite3_column_int64(st, 8);
        sqlite3_bind_int64(hs, 1, (int64_t)r->id);
        while (r->nholders < PROF_HOLDERS && sqlite3_step(hs) == SQLITE_ROW) {
            prof_holder *h = &r->holders[r->nholders++];
            h->task = (uint64_t)sqlite3_column_int64(hs, 0);
            h->holds = (uint64_t)sqlite3_column_int64(hs, 1);
            h->held_ns = (uint64_t)sqlite3_column_int64(hs, 2);
            h->max_ns = (uint64_t)sqlite3_column_int64(hs, 3);
        }
        sqlite3_reset(hs);
        if (r->waits) {
            uint64_t *v = malloc(r->waits * sizeof *v);
            size_t k = 0;
            sqlite3_bind_int64(ws, 1, (int64_t)r->id);
            while (v && k < r->waits && sqlite3_step(ws) == SQLITE_ROW)
                v[k++] = (uint64_t)sqlite3_column_int64(ws, 0);
            sqlite3_reset(ws);
            if (v) {
                qsort(v, k, sizeof *v, cmp_u64);
                r->p90_wait_ns = pct(v, k, 90);
            }
            free(v);
        }
    }
    sqlite3_finalize(st);
    sqlite3_finalize(hs);
    sqlite3_finalize(ws);
    return 0;
}

/* Spread [b, e) over the timeline bins of [start, end). Bins are real intervals of `span`
 * nanoseconds, so that a fully busy stretch fills each bin to exactly 1 whatever the ratio of
 * the trace's length to the bin count. */
static void timeline_add(prof_worker *w, uint64_t start, uint64_t end, uint64_t b, uint64_t e)
{
    if (end <= start || e <= b)
        return;
    double span = (double)(end - start) / PROF_TIMELINE_BINS;
    double pos = b < start ? 0 : (double)(b - start);
    double stop = (double)((e > end ? end : e) - start);
    while (pos < stop) {
        size_t bin = (size_t)(pos / span);
        if (bin >= PROF_TIMELINE_BINS)
            bin = PROF_TIMELINE_BINS - 1;
        double bin_end = bin == PROF_TIMELINE_BINS - 1 ? stop : (double)(bin + 1) * span;
        double upto = bin_end < stop ? bin_end : stop;
        if (upto <= pos) /* rounding put pos on the boundary: it belongs to the next bin */
            upto = pos + span < stop ? pos + span : stop;
        w->timeline[bin] += (float)((upto - pos) / span);
        pos = upto;
    }
}

static int load_workers(loader *L)
{
    prof_model *m = L->m;
    size_t n = (size_t)query_u64(L, "SELECT count(*) FROM workers");
    m->workers = calloc(n ? n : 1, sizeof *m->workers);
    if (!m->workers)
        return WEFT_ENOMEM;
    sqlite3_stmt *st, *ps;
    int err = prepare(L,
                      "SELECT w.thread, w.kind, coalesce(w.worker, 0), w.first_ts, w.last_ts,"
                      " (SELECT count(*) FROM polls p WHERE p.thread = w.thread),"
                      " (SELECT coalesce(sum(duration_ns), 0) FROM polls p"
                      "   WHERE p.thread = w.thread),"
                      " (SELECT count(*) FROM parks k WHERE k.thread = w.thread),"
                      " (SELECT coalesce(sum(duration_ns), 0) FROM parks k"
                      "   WHERE k.thread = w.thread)"
                      " FROM workers w ORDER BY w.thread",
                      &st);
    if (err)
        return err;
    if ((err = prepare(L,
                       "SELECT begin_ts, coalesce(end_ts, ?) FROM polls WHERE thread = ?",
                       &ps))) {
        sqlite3_finalize(st);
        return err;
    }
    while (m->nworkers < n && sqlite3_step(st) == SQLITE_ROW) {
        prof_worker *w = &m->workers[m->nworkers++];
        w->thread = sqlite3_column_int64(st, 0);
        snprintf(w->kind, sizeof w->kind, "%s", (const char *)sqlite3_column_text(st, 1));
        w->worker = sqlite3_column_int64(st, 2);
        w->first_ts = (uint64_t)sqlite3_column_int64(st, 3);
        w->last_ts = (uint64_t)sqlite3_column_int64(st, 4);
        w->polls = (uint64_t)sqlite3_column_int64(st, 5);
        w->busy_ns = (uint64_t)sqlite3_column_int64(st, 6);
        w->parks = (uint64_t)sqlite3_column_int64(st, 7);
        w->parked_ns = (uint64_t)sqlite3_column_int64(st, 8);
        sqlite3_bind_int64(ps, 1, (int64_t)m->end_ts);
        sqlite3_bind_int64(ps, 2, w->thread);
        while (sqlite3_step(ps) == SQLITE_ROW)
            timeline_add(w, m->start_ts, m->end_ts, (uint64_t)sqlite3_column_int64(ps, 0),
                         (uint64_t)sqlite3_column_int64(ps, 1));
        sqlite3_reset(ps);
    }
    sqlite3_finalize(st);
    sqlite3_finalize(ps);
    return 0;
}

/* ---------------------------------------------------------------- load / free */

int prof_load(const char *path, unsigned top, prof_model **out, char *err)
{
    *out = NULL;
    err[0] = '\0';
    /* The reader decides what is a weft trace, and says why not. */
    weft_reader *r;
    int rc = weft_reader_open_trace(path, &r);
    if (rc < 0) {
        snprintf(err, PROF_ERR_LEN, "%s", weft_reader_open_error()); /* it names the file */
        return rc;
    }
    weft_reader_close(r);

    prof_model *m = calloc(1, sizeof *m);
    if (!m)
        return WEFT_ENOMEM;
    m->path = strdup(path);
    loader L = {NULL, err, m};
    if (sqlite3_open_v2(path, &L.db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        snprintf(err, PROF_ERR_LEN, "%s: cannot open: %s", path,
                 L.db ? sqlite3_errmsg(L.db) : "out of memory");
        sqlite3_close(L.db);
        prof_free(m);
        return WEFT_EIO;
    }
    sqlite3_busy_timeout(L.db, 2000);
    rc = load_meta(&L);
    if (!rc)
        rc = load_tasks(&L);
    if (!rc)
        rc = load_poll_stats(&L);
    if (!rc)
        rc = load_sched_idle(&L);
    if (!rc)
        rc = load_slowest(&L, top);
    if (!rc)
        rc = load_resources(&L);
    if (!rc)
        rc = load_workers(&L);
    sqlite3_close(L.db);
    if (rc) {
        if (rc == WEFT_ENOMEM && !err[0])
            snprintf(err, PROF_ERR_LEN, "%s: out of memory", path);
        prof_free(m);
        return rc;
    }
    /* The tasks are sorted for the report, with an index by id for lookups. */
    qsort(m->tasks, m->ntasks, sizeof *m->tasks, cmp_busy_desc);
    m->by_id = malloc((m->ntasks ? m->ntasks : 1) * sizeof *m->by_id);
    if (!m->by_id) {
        snprintf(err, PROF_ERR_LEN, "%s: out of memory", path);
        prof_free(m);
        return WEFT_ENOMEM;
    }
    for (size_t i = 0; i < m->ntasks; i++)
        m->by_id[i] = &m->tasks[i];
    qsort(m->by_id, m->ntasks, sizeof *m->by_id, cmp_task_ptr_id);
    for (size_t i = 0; i < m->nslowest; i++)
        m->slowest[i].t = prof_find_task(m, m->slowest[i].task);
    *out = m;
    return 0;
}

void prof_free(prof_model *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->ntasks; i++) {
        free(m->tasks[i].name);
        free(m->tasks[i].spawned_at);
    }
    for (size_t i = 0; i < m->nslowest; i++)
        free(m->slowest[i].suspended_at);
    for (size_t i = 0; i < m->nresources; i++) {
        free(m->resources[i].kind);
        free(m->resources[i].name);
        free(m->resources[i].created_at);
    }
    free(m->tasks);
    free(m->by_id);
    free(m->slowest);
    free(m->resources);
    free(m->workers);
    free(m->path);
    free(m->program);
    free(m);
}
