/* instrument/recorder.c - decoded events into a trace database (schema: recorder.h and
 * docs/book/trace-database.md): the public calls, transactions and the reorder window.
 *
 * Who calls it: `weft record` (cli/cmd_record.c) from its writer thread, and tests. It knows
 * nothing of where events come from: anything a weft_reader returns can be recorded.
 *
 * The path of one event:
 *
 *   weft_recorder_add ──┬─ string_def / location_def ──> strings / locations, at once (the
 *                       │                                definitions must precede their uses)
 *                       └─ any other ──> reorder window (sorted on ts, then arrival)
 *                                           │ oldest first, once WINDOW_NS older than the
 *                                           ▼ newest, or when the window is full or flushed
 *                                        weft__rec_write_event (recorder_rows.c): the events
 *                                        row and the derived tables' rows
 *
 * Transactions: one is opened by the first write after a commit and committed after
 * WEFT_RECORDER_BATCH writes, after WEFT_RECORDER_BATCH_MS, or by flush / finish. A commit
 * also writes the threads' last timestamps, which change with every event and would cost
 * an UPDATE each if written as they go.
 */
#define _GNU_SOURCE
#include "recorder.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include <weft/error.h>
#include <weft/resource.h>
#include <weft/runtime.h>

#include "recorder_int.h"

/* ---------------------------------------------------------------- reorder window */

static int window_push(window *w, const weft_event *ev)
{
    if (w->len == w->cap) {
        size_t ncap = w->cap ? w->cap * 2 : 1024;
        weft_event *nv = malloc(ncap * sizeof *nv);
        if (!nv)
            return WEFT_ENOMEM;
        for (size_t i = 0; i < w->len; i++)
            nv[i] = w->v[(w->head + i) & (w->cap - 1)];
        free(w->v);
        w->v = nv;
        w->cap = ncap;
        w->head = 0;
    }
    size_t mask = w->cap - 1, i = w->len;
    /* ev->seq holds the arrival number: equal timestamps keep their arrival order. */
    while (i > 0 && w->v[(w->head + i - 1) & mask].ts > ev->ts) {
        w->v[(w->head + i) & mask] = w->v[(w->head + i - 1) & mask];
        i--;
    }
    w->v[(w->head + i) & mask] = *ev;
    w->len++;
    return 0;
}

static const weft_event *window_front(const window *w)
{
    return &w->v[w->head];
}

static void window_pop(window *w)
{
    w->head = (w->head + 1) & (w->cap - 1);
    w->len--;
}

const char *const weft__rec_stmt_sql[S_COUNT_] = {
    [S_STRING] = "INSERT OR REPLACE INTO strings VALUES (?,?)",
    [S_LOCATION] = "INSERT OR REPLACE INTO locations VALUES (?,?,?,?,?,?)",
    [S_META] = "INSERT OR REPLACE INTO meta VALUES (?,?)",
    [S_THREAD] = "INSERT INTO threads VALUES (?,?,?,?,?,?,?,?)",
    [S_THREAD_LAST] = "UPDATE threads SET last_ts = ? WHERE thread = ?",
    [S_RUNTIME] = "INSERT OR REPLACE INTO runtimes VALUES (?,?,?,?,NULL)",
    [S_RUNTIME_STOP] = "UPDATE runtimes SET stop_ts = ? WHERE runtime = ?",
    [S_TASK] = "INSERT OR REPLACE INTO tasks VALUES "
               "(?,?,?,?,?,?,?,?,?,?,?,?,NULL,NULL,NULL,NULL,NULL)",
    [S_TASK_SNAPSHOT] = "INSERT OR IGNORE INTO tasks VALUES "
                        "(?,?,?,?,?,?,?,?,?,?,?,?,NULL,NULL,NULL,NULL,NULL)",
    [S_TASK_END] = "UPDATE tasks SET end_ts = ?, outcome = ?, status = ? WHERE task = ?",
    [S_TASK_ABORT] = "UPDATE tasks SET aborted_ts = ?, aborted_by = ? "
                     "WHERE task = ? AND aborted_ts IS NULL",
    [S_POLL] = "INSERT INTO polls VALUES (?,?,?,?,?,?,?,?,?)",
    [S_PARK] = "INSERT INTO parks VALUES (?,?,?,NULL,NULL)",
    [S_PARK_END] = "UPDATE parks SET end_ts = ?1, duration_ns = ?1 - begin_ts WHERE rowid = ?2",
    [S_RESOURCE] = "INSERT OR REPLACE INTO resources VALUES (?,?,?,?,?,?,?,?,?,?,NULL)",
    [S_RESOURCE_SNAPSHOT] = "INSERT OR IGNORE INTO resources VALUES (?,?,?,?,?,?,?,?,?,?,NULL)",
    [S_RESOURCE_DROP] = "UPDATE resources SET dropped_ts = ? WHERE resource = ?",
    [S_RESOURCE_OP] = "INSERT INTO resource_ops VALUES (?,?,?,?,?,?,?,?)",
    [S_WAIT] = "INSERT INTO waits VALUES (?,?,?,?,?,?,?,?,NULL,NULL,?,NULL)",
    [S_WAIT_END] = "UPDATE waits SET end_ts = ?1, duration_ns = ?1 - begin_ts, end_seq = ?2 "
                   "WHERE rowid = ?3",
    [S_HOLD] = "INSERT INTO lock_holds VALUES (?,?,?,?,NULL,NULL,?,NULL)",
    [S_HOLD_END] = "UPDATE lock_holds SET release_ts = ?1, duration_ns = ?1 - acquire_ts, "
                   "release_seq = ?2 WHERE rowid = ?3",
    [S_TIMER] = "INSERT INTO timers VALUES (?,?,?,?,NULL,?)",
    [S_TIMER_FIRE] = "UPDATE timers SET fired_ts = ? WHERE rowid = ?",
    [S_SCHEDULE] = "INSERT INTO schedule VALUES (?,?,?,?,?)",
};

/* The schema. Kept in step with docs/book/trace-database.md, which a test runs queries from;
 * bump WEFT_TRACE_SCHEMA_VERSION when a table changes meaning. */
static const char schema_sql[] =
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value);\n"
    "CREATE TABLE event_types(type INTEGER PRIMARY KEY, name TEXT NOT NULL, flags INTEGER,\n"
    "  fields TEXT, doc TEXT);\n"
    "CREATE TABLE events(seq INTEGER PRIMARY KEY, ts INTEGER NOT NULL,\n"
    "  thread INTEGER NOT NULL, type INTEGER NOT NULL,\n"
    "  f0 INTEGER, f1 INTEGER, f2 INTEGER, f3 INTEGER, f4 INTEGER,\n"
    "  f5 INTEGER, f6 INTEGER, f7 INTEGER, f8 INTEGER, f9 INTEGER);\n"
    "CREATE TABLE strings(id INTEGER PRIMARY KEY, text TEXT NOT NULL);\n"
    "CREATE TABLE locations(id INTEGER PRIMARY KEY, file_id INTEGER, func_id INTEGER,\n"
    "  line INTEGER, file TEXT, func TEXT);\n"
    "CREATE TABLE threads(thread INTEGER PRIMARY KEY, ring INTEGER, runtime INTEGER,\n"
    "  kind TEXT, worker INTEGER, tid INTEGER, first_ts INTEGER, last_ts INTEGER);\n"
    "CREATE VIEW workers AS SELECT * FROM threads WHERE kind IN ('worker', 'block_on');\n"
    "CREATE TABLE runtimes(runtime INTEGER PRIMARY KEY, flavor TEXT, workers INTEGER,\n"
    "  start_ts INTEGER, stop_ts INTEGER);\n"
    "CREATE TABLE tasks(task INTEGER PRIMARY KEY, parent INTEGER, runtime INTEGER,\n"
    "  kind TEXT, name TEXT, name_id INTEGER, file TEXT, func TEXT, line INTEGER,\n"
    "  location_id INTEGER, spawn_ts INTEGER, spawn_thread INTEGER, end_ts INTEGER,\n"
    "  outcome TEXT, status INTEGER, aborted_ts INTEGER, aborted_by INTEGER);\n"
    "CREATE TABLE polls(task INTEGER, thread INTEGER, worker INTEGER, begin_ts INTEGER,\n"
    "  end_ts INTEGER, duration_ns INTEGER, ready INTEGER, begin_seq INTEGER,\n"
    "  end_seq INTEGER);\n"

    "CREATE TABLE parks(thread INTEGER, worker INTEGER, begin_ts INTEGER, end_ts INTEGER,\n"
    "  duration_ns INTEGER);\n"
    "CREATE TABLE resources(resource INTEGER PRIMARY KEY, kind TEXT, name TEXT,\n"
    "  name_id INTEGER, file TEXT, func TEXT, line INTEGER, location_id INTEGER,\n"
    "  capacity INTEGER, created_ts INTEGER, dropped_ts INTEGER);\n"
    "CREATE TABLE resource_ops(seq INTEGER PRIMARY KEY, ts INTEGER, thread INTEGER,\n"
    "  resource INTEGER, event TEXT, task INTEGER, op TEXT, args TEXT);\n"
    "CREATE TABLE waits(task INTEGER, resource INTEGER, op TEXT, file TEXT, func TEXT,\n"
    "  line INTEGER, location_id INTEGER, begin_ts INTEGER, end_ts INTEGER,\n"
    "  duration_ns INTEGER, begin_seq INTEGER, end_seq INTEGER);\n"
    "CREATE TABLE lock_holds(resource INTEGER, task INTEGER, op TEXT, acquire_ts INTEGER,\n"
    "  release_ts INTEGER, duration_ns INTEGER, acquire_seq INTEGER,\n"
    "  release_seq INTEGER);\n"
    "CREATE TABLE timers(timer INTEGER, task INTEGER, deadline INTEGER, armed_ts INTEGER,\n"
    "  fired_ts INTEGER, armed_seq INTEGER);\n"
    "CREATE TABLE schedule(step INTEGER, seq INTEGER, ts INTEGER, task INTEGER,\n"
    "  runnable INTEGER);\n";

static _Thread_local char open_error[256];

static uint64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int weft__rec_fail(weft_recorder *r, const char *what)
{
    snprintf(r->err, sizeof r->err, "%s: %s", what, r->db ? sqlite3_errmsg(r->db) : "no database");
    r->broken = true;
    return WEFT_EIO;
}

const char *weft_recorder_open_error(void)
{
    return open_error;
}

const char *weft_recorder_error(const weft_recorder *r)
{
    return r->err;
}

/* ---------------------------------------------------------------- transactions */

int weft__rec_begin(weft_recorder *r)
{
    if (r->broken)
        return WEFT_EIO;
    if (r->in_tx)
        return 0;
    if (sqlite3_exec(r->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
        return weft__rec_fail(r, "begin a transaction");
    r->in_tx = true;
    r->batch = 0;
    r->batch_start_ms = wall_ms();
    return 0;
}

static int write_thread_last(weft_recorder *r)
{
    for (size_t i = 0; i < r->nrings; i++) {
        ring_state *s = &r->rings[i];
        if (!s->dirty || !s->thread)
            continue;
        sqlite3_stmt *st = r->st[S_THREAD_LAST];
        sqlite3_bind_int64(st, 1, (int64_t)s->last_ts);
        sqlite3_bind_int64(st, 2, s->thread);
        int rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc != SQLITE_DONE)
            return weft__rec_fail(r, "update threads");
        s->dirty = false;
    }
    return 0;
}

static int commit(weft_recorder *r)
{
    if (r->broken)
        return WEFT_EIO;
    if (!r->in_tx)
        return 0;
    int err = write_thread_last(r);
    if (err)
        return err;
    if (sqlite3_exec(r->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        return weft__rec_fail(r, "commit");
    r->in_tx = false;
    r->stats.commits++;
    return 0;
}

/* Count a write; commit when the batch is full (or old, checked every 1024 writes). */
int weft__rec_wrote(weft_recorder *r)
{
    r->batch++;
    if (r->batch >= WEFT_RECORDER_BATCH ||
        ((r->batch & 1023) == 0 && wall_ms() - r->batch_start_ms >= WEFT_RECORDER_BATCH_MS))
        return commit(r);
    return 0;
}

/* Run a prepared statement whose parameters are bound; reset it. */
int weft__rec_run(weft_recorder *r, int which)
{
    sqlite3_stmt *st = r->st[which];
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        char what[64];
        snprintf(what, sizeof what, "write (statement %d)", which);
        return weft__rec_fail(r, what);
    }
    return 0;
}

/* Write out what the window no longer needs to hold (all of it when `all`). */
static int drain_window(weft_recorder *r, bool all)
{
    while (r->window.len > 0) {
        const weft_event *oldest = window_front(&r->window);
        bool due = all || r->window.len > WEFT_RECORDER_WINDOW_MAX ||
                   oldest->ts + WEFT_RECORDER_WINDOW_NS <= r->max_ts;
        if (!due)
            break;
        int err = weft__rec_write_event(r, oldest);
        window_pop(&r->window);
        if (err)
            return err;
    }
    return 0;
}

/* ---------------------------------------------------------------- public */

int weft_recorder_add(weft_recorder *r, const weft_event *ev)
{
    if (r->broken)
        return WEFT_EIO;
    if (ev->type == WEFT_EV_string_def)
        return weft__rec_learn_string(r, ev);
    if (ev->type == WEFT_EV_location_def)
        return weft__rec_learn_location(r, ev);
    if (ev->type == WEFT_EV_clock_sync)
        return 0; /* the ring's own bookkeeping: timestamps are already restored */
    weft_event copy = *ev;
    copy.seq = r->arrival++;
    copy.text = NULL;
    int err = window_push(&r->window, &copy);
    if (err)
        return err;
    if (ev->ts > r->max_ts)
        r->max_ts = ev->ts;
    return drain_window(r, false);
}

int weft_recorder_flush(weft_recorder *r)
{
    int err = drain_window(r, true);
    return err ? err : commit(r);
}

int weft_recorder_tick(weft_recorder *r)
{
    if (r->broken)
        return WEFT_EIO;
    if (r->in_tx && wall_ms() - r->batch_start_ms >= WEFT_RECORDER_BATCH_MS)
        return commit(r);
    return 0;
}

static int exec(weft_recorder *r, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(r->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(r->err, sizeof r->err, "%.80s...: %s", sql, msg ? msg : "?");
        sqlite3_free(msg);
        r->broken = true;
        return WEFT_EIO;
    }
    return 0;
}

int weft_recorder_meta_text(weft_recorder *r, const char *key, const char *value)
{
    int err = weft__rec_begin(r);
    if (err)
        return err;
    bind_text(r, S_META, 1, key);
    bind_text(r, S_META, 2, value);
    return weft__rec_run(r, S_META);
}

int weft_recorder_meta_int(weft_recorder *r, const char *key, int64_t value)
{
    int err = weft__rec_begin(r);
    if (err)
        return err;
    bind_text(r, S_META, 1, key);
    bind_i64(r, S_META, 2, value);
    return weft__rec_run(r, S_META);
}

int weft_recorder_finish(weft_recorder *r)
{
    int err = drain_window(r, true);
    if (!err)
        err = weft__rec_begin(r);
    if (err)
        return err;
    /* Polls still open: the program stopped (or was killed) inside them. */
    for (size_t i = 0; i < r->nrings && !err; i++) {
        ring_state *s = &r->rings[i];
        if (!s->poll_task)
            continue;
        bind_i64(r, S_POLL, 1, (int64_t)s->poll_task);
        bind_i64(r, S_POLL, 2, s->thread);
        bind_i64(r, S_POLL, 3, s->worker);
        bind_i64(r, S_POLL, 4, (int64_t)s->poll_ts);
        sqlite3_bind_null(r->st[S_POLL], 5);
        sqlite3_bind_null(r->st[S_POLL], 6);
        sqlite3_bind_null(r->st[S_POLL], 7);
        bind_i64(r, S_POLL, 8, (int64_t)s->poll_seq);
        sqlite3_bind_null(r->st[S_POLL], 9);
        s->poll_task = 0;
        err = weft__rec_run(r, S_POLL);
    }
    /* Names whose definitions arrived after their first use. */
    static const char resolve_sql[] =
        "UPDATE locations SET file = (SELECT text FROM strings WHERE id = file_id)"
        "  WHERE file IS NULL AND file_id IS NOT NULL;"
        "UPDATE locations SET func = (SELECT text FROM strings WHERE id = func_id)"
        "  WHERE func IS NULL AND func_id IS NOT NULL;"
        "UPDATE tasks SET name = (SELECT text FROM strings WHERE id = name_id)"
        "  WHERE name IS NULL AND name_id IS NOT NULL;"
        "UPDATE resources SET name = (SELECT text FROM strings WHERE id = name_id)"
        "  WHERE name IS NULL AND name_id IS NOT NULL;"
        "UPDATE tasks SET (file, func, line) = (SELECT file, func, line FROM locations"
        "  WHERE id = location_id) WHERE file IS NULL AND location_id IS NOT NULL;"
        "UPDATE resources SET (file, func, line) = (SELECT file, func, line FROM locations"
        "  WHERE id = location_id) WHERE file IS NULL AND location_id IS NOT NULL;"
        "UPDATE waits SET (file, func, line) = (SELECT file, func, line FROM locations"
        "  WHERE id = location_id) WHERE file IS NULL AND location_id IS NOT NULL;"
        "CREATE INDEX events_type ON events(type);"
        "CREATE INDEX polls_task ON polls(task);"

        "CREATE INDEX waits_resource ON waits(resource);"
        "CREATE INDEX waits_task ON waits(task);"
        "CREATE INDEX lock_holds_resource ON lock_holds(resource);"
        "CREATE INDEX resource_ops_resource ON resource_ops(resource);";
    if (!err)
        err = exec(r, resolve_sql);
    if (!err)
        err = weft_recorder_meta_int(r, "events", (int64_t)r->stats.events);
    if (!err)
        err = weft_recorder_meta_int(r, "lost_reported", (int64_t)r->stats.lost);
    if (!err)
        err = weft_recorder_meta_int(r, "late_events", (int64_t)r->stats.late);
    if (!err)
        err = weft_recorder_meta_int(r, "unknown_events", (int64_t)r->stats.unknown);
    if (!err)
        err = weft_recorder_meta_int(r, "complete", 1);
    if (!err)
        err = commit(r);
    /* One self-contained file, on the disk: fold the WAL in, stop using it, sync. */
    if (!err)
        err = exec(r, "PRAGMA synchronous=FULL; PRAGMA journal_mode=DELETE");
    return err;
}

void weft_recorder_stats_get(const weft_recorder *r, weft_recorder_stats *out)
{
    *out = r->stats;
}

void weft_recorder_close(weft_recorder *r)
{
    if (!r)
        return;
    if (!r->broken && r->db) {
        drain_window(r, true);
        commit(r);
    }
    for (int i = 0; i < S_COUNT_; i++)
        sqlite3_finalize(r->st[i]);
    for (int i = 0; i < WEFT_EV_ID_LIMIT; i++)
        sqlite3_finalize(r->ev_st[i]);
    sqlite3_close(r->db);
    for (size_t i = 0; i < r->nsyms; i++)
        free(r->syms[i].text);
    free(r->syms);
    free(r->rings);
    free(r->window.v);
    free(r->waits.slots);
    free(r->holds.slots);
    free(r->timers.slots);
    free(r);
}

/* The event_types table and one view per event, ev_<name>, naming the f columns. */
static int write_event_types(weft_recorder *r)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(r->db, "INSERT INTO event_types VALUES (?,?,?,?,?)", -1, &st,
                           NULL) != SQLITE_OK)
        return weft__rec_fail(r, "prepare event_types");
    static const char *const tnames[] = {"u64", "u32", "i32", "u8", "str", "loc", "res"};
    int err = 0;
    for (unsigned i = 0; i < weft_event_count && !err; i++) {
        const weft_event_desc *d = &weft_event_descs[i];
        char fields[512] = "", view[1024];
        size_t fn = 0;
        int vn = snprintf(view, sizeof view,
                          "CREATE VIEW ev_%s AS SELECT seq, ts, thread", d->name);
        for (unsigned f = 0; f < d->nfields; f++) {
            const weft_ev_field *fd = &d->fields[f];
            int w = snprintf(fields + fn, sizeof fields - fn, "%s%s %s", f ? ", " : "",
                             tnames[fd->type], fd->name);
            if (w > 0 && (size_t)w < sizeof fields - fn)
                fn += (size_t)w;
            /* A u64 above INT64_MAX is stored wrapped; the views show it as most tools
             * would not: leave it, such values are ids and compare equal either way. */
            w = snprintf(view + vn, sizeof view - (size_t)vn, ", f%u AS \"%s\"", f, fd->name);
            if (w > 0 && (size_t)w < sizeof view - (size_t)vn)
                vn += w;
        }
        snprintf(view + vn, sizeof view - (size_t)vn, " FROM events WHERE type = %u", d->id);
        sqlite3_bind_int(st, 1, d->id);
        sqlite3_bind_text(st, 2, d->name, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 3, d->flags);
        sqlite3_bind_text(st, 4, fields, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 5, d->doc, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE)
            err = weft__rec_fail(r, "insert event_types");
        sqlite3_reset(st);
        if (!err)
            err = exec(r, view);
    }
    sqlite3_finalize(st);
    return err;
}

int weft_recorder_create(const char *path, weft_recorder **out)
{
    *out = NULL;
    open_error[0] = '\0';
    /* SQLite's memory statistics take a global mutex at every allocation; the recorder does
     * not read them. Only possible before SQLite initialises (later calls fail harmlessly). */
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    weft_recorder *r = calloc(1, sizeof *r);
    if (!r) {
        snprintf(open_error, sizeof open_error, "out of memory");
        return WEFT_ENOMEM;
    }
    r->next_seq = 1;
    r->next_thread = 1;

    /* A fresh file: an old trace (and its WAL, which would be replayed into the new one)
     * must not survive. */
    char side[4096];
    if (unlink(path) != 0 && errno != ENOENT) {
        snprintf(open_error, sizeof open_error, "cannot replace %s: %s", path, strerror(errno));
        free(r);
        return WEFT_EIO;
    }
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-journal", path);
    unlink(side);

    int rc = sqlite3_open_v2(path, &r->db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                             NULL);
    if (rc != SQLITE_OK) {
        snprintf(open_error, sizeof open_error, "cannot create %s: %s", path,
                 r->db ? sqlite3_errmsg(r->db) : sqlite3_errstr(rc));
        sqlite3_close(r->db);
        free(r);
        return WEFT_EIO;
    }
    /* WAL: a reader (the console, sqlite3) can look while we write, and a commit is one
     * append. synchronous=OFF: SQLite never waits for the disk while recording; what a
     * commit wrote is in the kernel's page cache, so a killed recorder or program loses
     * nothing committed, and only a machine that loses power mid-recording may lose the
     * trace (finish syncs it). Checkpoints every 64 MiB of WAL rather than every 4 MiB: each
     * copies pages back into the database, which is write volume a recording does not need
     * to pay often. */
    int err = exec(r, "PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF;"
                      "PRAGMA wal_autocheckpoint=16384;"
                      "PRAGMA cache_size=-65536; PRAGMA temp_store=MEMORY;");
    if (!err)
        err = weft__rec_begin(r);
    if (!err)
        err = exec(r, schema_sql);
    for (int i = 0; i < S_COUNT_ && !err; i++)
        if (sqlite3_prepare_v3(r->db, weft__rec_stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &r->st[i],
                               NULL) != SQLITE_OK)
            err = weft__rec_fail(r, weft__rec_stmt_sql[i]);
    if (!err)
        err = write_event_types(r);
    /* Wakes need no pairing: a view over the log rather than a second copy of each row. */
    if (!err)
        err = exec(r, "CREATE VIEW wakes AS SELECT seq, ts, thread, task,"
                      " nullif(waker, 0) AS waker, by_value FROM ev_task_wake");
    if (!err)
        err = weft_recorder_meta_text(r, "format", WEFT_TRACE_FORMAT);
    if (!err)
        err = weft_recorder_meta_int(r, "schema_version", WEFT_TRACE_SCHEMA_VERSION);
    if (!err)
        err = weft_recorder_meta_text(r, "weft_version", weft_version());
    if (!err)
        err = weft_recorder_meta_int(r, "complete", 0);
    if (!err)
        err = commit(r);
    if (err) {
        snprintf(open_error, sizeof open_error, "cannot create %.90s: %.140s", path, r->err);
        weft_recorder_close(r);
        return WEFT_EIO;
    }
    *out = r;
    return 0;
}

