/* instrument/profile/export_chrome.c - a trace database as Chrome trace-event JSON, the
 * format Perfetto (ui.perfetto.dev) and chrome://tracing open.
 *
 * Layout of the output (the JSON object form, {"traceEvents": [...]}):
 *
 *   pid 1 "workers"   one track (tid) per runtime thread of the database, named after its
 *                     kind and worker index: every poll is a complete slice ("X", cat "poll")
 *                     named after its task; every park a slice named "parked" (cat "park")
 *   pid 2 "tasks"     one track per task (tid = task id): the same polls again, so that a
 *                     task's life reads left to right on one line
 *   flows             each wake that was followed by a poll of the woken task is an arrow
 *                     ("s" on the waking thread at the wake, "f" binding to the next slice of
 *                     the thread that ran the poll; cat "wake")
 *   pid 3 "resources" counters ("C"): a channel's queued values after each send and recv, a
 *                     semaphore's available permits, a lock's current holders
 *
 * Timestamps are microseconds since the first event, with nanosecond decimals. Counts of each
 * kind come back in prof_export_stats, which tests/profile compares with SQL over the same
 * database.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>
#include <weft/error.h>

#include "../reader.h"
#include "profile.h"

#define PID_WORKERS 1
#define PID_TASKS 2
#define PID_RESOURCES 3

typedef struct exporter {
    sqlite3 *db;
    FILE *out;
    char *err;
    const char *path;
    uint64_t start;
    bool first;   /* no event written yet (comma placement) */
    prof_export_stats *st;
} exporter;

static void json_str(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(out, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(out, "\\u%04x", *p);
        else
            fputc(*p, out);
    }
    fputc('"', out);
}

/* Opens one event object: {"ph":..,"pid":..,"tid":..,"ts":..  (the caller adds the rest and
 * the closing brace). */
static void ev_open(exporter *x, char ph, int pid, uint64_t tid, uint64_t ts)
{
    uint64_t rel = ts > x->start ? ts - x->start : 0;
    fprintf(x->out, "%s\n{\"ph\":\"%c\",\"pid\":%d,\"tid\":%" PRIu64 ",\"ts\":%" PRIu64
                    ".%03u",
            x->first ? "" : ",", ph, pid, tid, rel / 1000, (unsigned)(rel % 1000));
    x->first = false;
}

static void dur_field(exporter *x, uint64_t ns)
{
    fprintf(x->out, ",\"dur\":%" PRIu64 ".%03u", ns / 1000, (unsigned)(ns % 1000));
}

static int fail(exporter *x, const char *what)
{
    snprintf(x->err, PROF_ERR_LEN, "%s: %s: %s", x->path, what, sqlite3_errmsg(x->db));
    return WEFT_EFORMAT;
}

static void meta_name(exporter *x, const char *what, int pid, uint64_t tid, const char *name)
{
    fprintf(x->out, "%s\n{\"ph\":\"M\",\"name\":\"%s\",\"pid\":%d,\"tid\":%" PRIu64
                    ",\"args\":{\"name\":",
            x->first ? "" : ",", what, pid, tid);
    json_str(x->out, name);
    fputs("}}", x->out);
    x->first = false;
}

static int tracks(exporter *x)
{
    meta_name(x, "process_name", PID_WORKERS, 0, "workers");
    meta_name(x, "process_name", PID_TASKS, 0, "tasks");
    meta_name(x, "process_name", PID_RESOURCES, 0, "resources");
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(x->db,
                           "SELECT thread, coalesce(kind, 'other'), coalesce(worker, 0),"
                           " coalesce(tid, 0) FROM threads ORDER BY thread",
                           -1, &st, NULL) != SQLITE_OK)
        return fail(x, "threads");
    while (sqlite3_step(st) == SQLITE_ROW) {
        char name[96];
        snprintf(name, sizeof name, "%s %lld (tid %lld)", (const char *)sqlite3_column_text(st, 1),
                 (long long)sqlite3_column_int64(st, 2), (long long)sqlite3_column_int64(st, 3));
        meta_name(x, "thread_name", PID_WORKERS, (uint64_t)sqlite3_column_int64(st, 0), name);
    }
    sqlite3_finalize(st);
    if (sqlite3_prepare_v2(x->db, "SELECT task, coalesce(name, '') FROM tasks ORDER BY task", -1,
                           &st, NULL) != SQLITE_OK)
        return fail(x, "tasks");
    while (sqlite3_step(st) == SQLITE_ROW) {
        char name[160];
        snprintf(name, sizeof name, "task %lld %s", (long long)sqlite3_column_int64(st, 0),
                 (const char *)sqlite3_column_text(st, 1));
        meta_name(x, "thread_name", PID_TASKS, (uint64_t)sqlite3_column_int64(st, 0), name);
    }
    sqlite3_finalize(st);
    return 0;
}

static int polls_and_parks(exporter *x)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(x->db,
                           "SELECT p.task, p.thread, p.begin_ts, p.duration_ns, p.ready,"
                           " coalesce(t.name, ''), coalesce(p.worker, 0) FROM polls p"
                           " LEFT JOIN tasks t USING (task) WHERE p.duration_ns IS NOT NULL"
                           " ORDER BY p.begin_ts",
                           -1, &st, NULL) != SQLITE_OK)
        return fail(x, "polls");
    while (sqlite3_step(st) == SQLITE_ROW) {
        uint64_t task = (uint64_t)sqlite3_column_int64(st, 0);
        uint64_t thread = (uint64_t)sqlite3_column_int64(st, 1);
        uint64_t ts = (uint64_t)sqlite3_column_int64(st, 2);
        uint64_t d = (uint64_t)sqlite3_column_int64(st, 3);
        int ready = sqlite3_column_int(st, 4);
        const char *name = (const char *)sqlite3_column_text(st, 5);
        for (int pass = 0; pass < 2; pass++) {
            ev_open(x, 'X', pass ? PID_TASKS : PID_WORKERS, pass ? task : thread, ts);
            dur_field(x, d);
            fputs(",\"cat\":\"poll\",\"name\":", x->out);
            json_str(x->out, *name ? name : "task");
            fprintf(x->out, ",\"args\":{\"task\":%" PRIu64 ",\"worker\":%lld,\"ready\":%d}}",
                    task, (long long)sqlite3_column_int64(st, 6), ready);
        }
        x->st->slices++;
    }
    sqlite3_finalize(st);
    if (sqlite3_prepare_v2(x->db,
                           "SELECT thread, begin_ts, duration_ns FROM parks"
                           " WHERE duration_ns IS NOT NULL ORDER BY begin_ts",
                           -1, &st, NULL) != SQLITE_OK)
        return fail(x, "parks");
    while (sqlite3_step(st) == SQLITE_ROW) {
        ev_open(x, 'X', PID_WORKERS, (uint64_t)sqlite3_column_int64(st, 0),
                (uint64_t)sqlite3_column_int64(st, 1));
        dur_field(x, (uint64_t)sqlite3_column_int64(st, 2));
        fputs(",\"cat\":\"park\",\"name\":\"parked\"}", x->out);
        x->st->parks++;
    }
    sqlite3_finalize(st);
    return 0;
}

/* Wakes merged with the polls that followed them, both sorted by task then time. */
static int flows(exporter *x)
{
    sqlite3_stmt *ws, *ps;
    if (sqlite3_prepare_v2(x->db,
                           "SELECT task, ts, thread, coalesce(waker, 0) FROM wakes"
                           " ORDER BY task, ts",
                           -1, &ws, NULL) != SQLITE_OK)
        return fail(x, "wakes");
    if (sqlite3_prepare_v2(x->db, "SELECT task, begin_ts, thread FROM polls ORDER BY task, begin_ts",
                           -1, &ps, NULL) != SQLITE_OK) {
        sqlite3_finalize(ws);
        return fail(x, "polls");
    }
    bool poll_ok = sqlite3_step(ps) == SQLITE_ROW;
    uint64_t id = 0;
    while (sqlite3_step(ws) == SQLITE_ROW) {
        uint64_t task = (uint64_t)sqlite3_column_int64(ws, 0);
        uint64_t ts = (uint64_t)sqlite3_column_int64(ws, 1);
        /* Skip polls of earlier tasks, or of this task that began before the wake. */
        while (poll_ok && ((uint64_t)sqlite3_column_int64(ps, 0) < task ||
                           ((uint64_t)sqlite3_column_int64(ps, 0) == task &&
                            (uint64_t)sqlite3_column_int64(ps, 1) < ts)))
            poll_ok = sqlite3_step(ps) == SQLITE_ROW;
        if (!poll_ok || (uint64_t)sqlite3_column_int64(ps, 0) != task)
            continue;
        id++;
        ev_open(x, 's', PID_WORKERS, (uint64_t)sqlite3_column_int64(ws, 2), ts);
        fprintf(x->out, ",\"cat\":\"wake\",\"name\":\"wake\",\"id\":%" PRIu64
                        ",\"args\":{\"task\":%" PRIu64 ",\"waker\":%lld}}",
                id, task, (long long)sqlite3_column_int64(ws, 3));
        ev_open(x, 'f', PID_WORKERS, (uint64_t)sqlite3_column_int64(ps, 2),
                (uint64_t)sqlite3_column_int64(ps, 1));
        fprintf(x->out, ",\"cat\":\"wake\",\"name\":\"wake\",\"id\":%" PRIu64 ",\"bp\":\"e\"}",
                id);
        x->st->flows++;
    }
    sqlite3_finalize(ws);
    sqlite3_finalize(ps);
    return 0;
}

/* Current holders of each lock, by resource id: a small open-addressing map. */
typedef struct held_map {
    uint64_t *keys;
    int64_t *vals;
    size_t cap;
} held_map;

static int64_t *held_slot(held_map *m, uint64_t key)
{
    if (!m->cap) {
        m->cap = 256;
        m->keys = calloc(m->cap, sizeof *m->keys);
        m->vals = calloc(m->cap, sizeof *m->vals);
        if (!m->keys || !m->vals)
            return NULL;
    }
    size_t i = (size_t)(key * 0x9e3779b97f4a7c15ull) & (m->cap - 1), used = 0;
    while (m->keys[i] && m->keys[i] != key) {
        i = (i + 1) & (m->cap - 1);
        if (++used == m->cap)
            return NULL; /* full: more locks than we track; they get no counter */
    }
    m->keys[i] = key;
    return &m->vals[i];
}

static int counters(exporter *x)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(x->db,
                           "SELECT o.ts, o.resource, o.event, coalesce(r.kind, ''),"
                           " coalesce(r.name, ''), json_extract(o.args, '$.len'),"
                           " json_extract(o.args, '$.available')"
                           " FROM resource_ops o LEFT JOIN resources r USING (resource)"
                           " WHERE o.event IN ('channel_send', 'channel_recv', 'permit_acquire',"
                           "  'permit_release', 'permit_add', 'permit_forget', 'lock_acquire',"
                           "  'lock_release') ORDER BY o.seq",
                           -1, &st, NULL) != SQLITE_OK)
        return fail(x, "resource_ops");
    held_map held = {0};
    while (sqlite3_step(st) == SQLITE_ROW) {
        uint64_t res = (uint64_t)sqlite3_column_int64(st, 1);
        const char *ev = (const char *)sqlite3_column_text(st, 2);
        const char *key;
        int64_t v;
        if (strncmp(ev, "channel_", 8) == 0) {
            key = "len";
            v = sqlite3_column_int64(st, 5);
        } else if (strncmp(ev, "permit_", 7) == 0) {
            key = "available";
            v = sqlite3_column_int64(st, 6);
        } else {
            int64_t *h = held_slot(&held, res);
            if (!h)
                continue;
            *h += strcmp(ev, "lock_acquire") == 0 ? 1 : -1;
            if (*h < 0)
                *h = 0; /* the recording began while it was held */
            key = "holders";
            v = *h;
        }
        char name[160];
        const char *rname = (const char *)sqlite3_column_text(st, 4);
        snprintf(name, sizeof name, "%s %s#%" PRIu64, (const char *)sqlite3_column_text(st, 3),
                 *rname ? rname : "", res);
        ev_open(x, 'C', PID_RESOURCES, 0, (uint64_t)sqlite3_column_int64(st, 0));
        fputs(",\"name\":", x->out);
        json_str(x->out, name);
        fprintf(x->out, ",\"args\":{\"%s\":%lld}}", key, (long long)v);
        x->st->counters++;
    }
    free(held.keys);
    free(held.vals);
    sqlite3_finalize(st);
    return 0;
}

int prof_export_chrome(const char *path, FILE *out, prof_export_stats *st, char *err)
{
    prof_export_stats local;
    if (!st)
        st = &local;
    memset(st, 0, sizeof *st);
    err[0] = '\0';
    weft_reader *r;
    int rc = weft_reader_open_trace(path, &r);
    if (rc < 0) {
        snprintf(err, PROF_ERR_LEN, "%s", weft_reader_open_error()); /* it names the file */
        return rc;
    }
    weft_reader_close(r);
    exporter x = {NULL, out, err, path, 0, true, st};
    if (sqlite3_open_v2(path, &x.db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        snprintf(err, PROF_ERR_LEN, "%s: cannot open: %s", path,
                 x.db ? sqlite3_errmsg(x.db) : "out of memory");
        sqlite3_close(x.db);
        return WEFT_EIO;
    }
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(x.db, "SELECT coalesce(min(ts), 0) FROM events", -1, &q, NULL) ==
        SQLITE_OK) {
        if (sqlite3_step(q) == SQLITE_ROW)
            x.start = (uint64_t)sqlite3_column_int64(q, 0);
        sqlite3_finalize(q);
    }
    fputs("{\"displayTimeUnit\":\"ns\",\"otherData\":{\"source\":", out);
    json_str(out, path);
    fputs(",\"exporter\":\"weft export --chrome\"},\"traceEvents\":[", out);
    rc = tracks(&x);
    if (!rc)
        rc = polls_and_parks(&x);
    if (!rc)
        rc = flows(&x);
    if (!rc)
        rc = counters(&x);
    fputs("\n]}\n", out);
    sqlite3_close(x.db);
    if (!rc && ferror(out)) {
        snprintf(err, PROF_ERR_LEN, "writing the JSON failed");
        rc = WEFT_EIO;
    }
    return rc;
}
