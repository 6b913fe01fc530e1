/* instrument/trace_db.c - the trace-database side of the reader interface:
 * weft_reader_open_trace(path) and the backend that reads the events table back.
 *
 * A trace database (recorder.h, docs/book/trace-database.md) keeps every event as one row of
 * `events` (seq, ts, thread, type, f0..f9: the payload fields in table order), thread
 * identities in `threads` and interned names in `strings` and `locations`. Opening preloads
 * the names into the reader's tables (weft__reader_learn) and the thread identities into an
 * array; reading steps one prepared SELECT in seq order, which is timestamp order.
 *
 * The file is untrusted: it may be truncated, garbage, another program's database, or crafted.
 *   - it is opened read-only, with SQLite's defensive mode, no memory mapping, no trusted
 *     schema and a cap on the length of any value (nothing we read needs more than a
 *     few kilobytes);
 *   - the tables we read must be real tables (a view named `events` could run any query);
 *   - every statement runs under a progress budget, so a crafted file cannot make a call spin
 *     for long (WEFT_EFORMAT "too much work");
 *   - a row is decoded only when its type is in the event table and each value fits its
 *     field's type, and handed out only if its seq is above the last one (a damaged b-tree
 *     can return rows out of key order); a row that fails is skipped and counted in
 *     info.bad_records;
 *   - SQLite's own corruption errors become WEFT_EFORMAT with SQLite's message.
 * tests/fuzz/fuzz_trace_db.c feeds it arbitrary bytes through weft__trace_db_open_mem.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include <weft/error.h>

#include "reader_int.h"
#include "recorder.h"
#include "trace_db.h"

/* Work one call may do, in SQLite progress callbacks (each about PROGRESS_OPS VM steps):
 * generous for a real file (a next() is a few hundred steps), a wall against crafted ones. */
#define PROGRESS_OPS 1000
#define WORK_LIMIT_NEXT 100000u     /* ~1e8 steps for one next(): skips many bad rows */
#define WORK_LIMIT_OPEN 2000000u    /* ~2e9 steps to open: loads every name */
#define MAX_VALUE_BYTES 65536       /* SQLITE_LIMIT_LENGTH */
#define MAX_THREADS 65535u          /* weft_event.thread is 16 bits; 0 is unused */

typedef struct thread_ident {
    uint32_t runtime, worker, tid;
    uint8_t kind;
    bool known;
} thread_ident;

typedef struct trace_reader {
    weft_reader base;
    sqlite3 *db;
    sqlite3_stmt *next;    /* SELECT ... FROM events WHERE seq >= ?1 ORDER BY seq */
    thread_ident *threads; /* by database thread number, [0, nthreads) */
    uint32_t nthreads;
    unsigned work;         /* progress callbacks in the current call */
    unsigned work_limit;
    bool done;             /* the SELECT reached its end (until seek) */
    uint64_t next_min;     /* the smallest seq the next event may have: seq only grows */
    char program[512];
} trace_reader;

static int progress(void *arg)
{
    trace_reader *t = arg;
    return ++t->work > t->work_limit; /* non-zero interrupts the statement */
}

static void budget(trace_reader *t, unsigned limit)
{
    t->work = 0;
    t->work_limit = limit;
}

/* SQLite's result code as a weft error, with its message. */
static int db_fail(trace_reader *t, int rc, const char *what)
{
    int err = WEFT_EFORMAT;
    const char *msg = sqlite3_errmsg(t->db);
    if (rc == SQLITE_INTERRUPT)
        msg = "too much work for one step: the file looks crafted or badly damaged";
    else if (rc == SQLITE_NOMEM)
        err = WEFT_ENOMEM;
    else if ((rc & 0xff) == SQLITE_IOERR && rc != SQLITE_IOERR_SHORT_READ)
        err = WEFT_EIO;
    return weft__reader_fail(&t->base, err, "%s: %s", what, msg);
}

/* ---------------------------------------------------------------- reading events */

/* Decode the current row into *ev: true if it is a well-formed event. */
static bool decode_row(trace_reader *t, sqlite3_stmt *st, weft_event *ev)
{
    memset(ev, 0, sizeof *ev);
    for (int c = 0; c < 4; c++)
        if (sqlite3_column_type(st, c) != SQLITE_INTEGER)
            return false;
    int64_t seq = sqlite3_column_int64(st, 0);
    int64_t ts = sqlite3_column_int64(st, 1);
    int64_t thread = sqlite3_column_int64(st, 2);
    int64_t type = sqlite3_column_int64(st, 3);
    if (seq <= 0 || type <= 0 || type >= WEFT_EV_ID_LIMIT || thread < 0 ||
        thread > (int64_t)MAX_THREADS)
        return false;
    const weft_event_desc *d = weft_event_desc_of((unsigned)type);
    /* Names live in their own tables: a definition here would come without its text. */
    if (!d || type == WEFT_EV_string_def || type == WEFT_EV_location_def)
        return false;
    ev->seq = (uint64_t)seq;
    ev->ts = (uint64_t)ts;
    ev->type = (uint16_t)type;
    ev->thread = (uint16_t)thread;
    if ((uint64_t)thread < t->nthreads && t->threads[thread].known) {
        const thread_ident *id = &t->threads[thread];
        ev->runtime = id->runtime;
        ev->worker = id->worker;
        ev->tid = id->tid;
        ev->thread_kind = id->kind;
    } else {
        ev->thread_kind = WEFT_THREAD_OTHER;
    }

    unsigned char *p = (unsigned char *)&ev->u;
    for (unsigned i = 0; i < d->nfields; i++) {
        const weft_ev_field *f = &d->fields[i];
        if (f->offset + f->size > sizeof ev->u)
            return false;
        if (sqlite3_column_type(st, 4 + (int)i) != SQLITE_INTEGER)
            return false;
        int64_t v = sqlite3_column_int64(st, 4 + (int)i);
        switch (f->type) {
        case WEFT_FT_U64:
        case WEFT_FT_RES: {
            uint64_t u = (uint64_t)v; /* stored wrapped above INT64_MAX */
            memcpy(p + f->offset, &u, 8);
            break;
        }
        case WEFT_FT_I32: {
            if (v < INT32_MIN || v > INT32_MAX)
                return false;
            int32_t s = (int32_t)v;
            memcpy(p + f->offset, &s, 4);
            break;
        }
        case WEFT_FT_U32:
        case WEFT_FT_STR:
        case WEFT_FT_LOC: {
            if (v < 0 || v > (int64_t)UINT32_MAX)
                return false;
            uint32_t u = (uint32_t)v;
            memcpy(p + f->offset, &u, 4);
            break;
        }
        case WEFT_FT_U8:
            if (v < 0 || v > 255)
                return false;
            p[f->offset] = (unsigned char)v;
            break;
        default:
            return false;
        }
    }
    return true;
}

static int trace_next(weft_reader *r, weft_event *ev)
{
    trace_reader *t = (trace_reader *)r;
    if (t->done)
        return 0;
    budget(t, WORK_LIMIT_NEXT);
    for (;;) {
        int rc = sqlite3_step(t->next);
        if (rc == SQLITE_DONE) {
            t->done = true;
            return 0;
        }
        if (rc != SQLITE_ROW) {
            t->done = true;
            return db_fail(t, rc, "reading events");
        }
        /* A damaged b-tree can hand rows out of key order; the stream stays in seq order. */
        if (decode_row(t, t->next, ev) && ev->seq >= t->next_min) {
            t->next_min = ev->seq + 1;
            return 1;
        }
        r->info.bad_records++;
    }
}

static int trace_seek(weft_reader *r, uint64_t seq)
{
    trace_reader *t = (trace_reader *)r;
    sqlite3_reset(t->next);
    sqlite3_bind_int64(t->next, 1, seq > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)seq);
    t->next_min = seq;
    t->done = false;
    return 0;
}

static void trace_close(weft_reader *r)
{
    trace_reader *t = (trace_reader *)r;
    sqlite3_finalize(t->next);
    sqlite3_close(t->db);
    free(t->threads);
    free(t);
}

static const weft__reader_ops trace_ops = {
    .next = trace_next,
    .seek = trace_seek,
    .close = trace_close,
};

/* ---------------------------------------------------------------- opening */

/* `name` exists and is a table (not a view, whose query could be anything). */
static int require_table(trace_reader *t, const char *name)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(t->db, "SELECT type FROM sqlite_schema WHERE name = ?1", -1,
                                &st, NULL);
    if (rc != SQLITE_OK)
        return db_fail(t, rc, "reading the schema");
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    bool is_table = rc == SQLITE_ROW && sqlite3_column_type(st, 0) == SQLITE_TEXT &&
                    strcmp((const char *)sqlite3_column_text(st, 0), "table") == 0;
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return db_fail(t, rc, "reading the schema");
    if (!is_table)
        return weft__reader_fail(&t->base, WEFT_EFORMAT,
                                 "not a weft trace: it has no table '%s'", name);
    return 0;
}

/* One meta value as text into buf ("" when absent); 0 or an error. */
static int meta_text(trace_reader *t, const char *key, char *buf, size_t size)
{
    buf[0] = '\0';
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(t->db, "SELECT value FROM meta WHERE key = ?1", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return db_fail(t, rc, "reading meta");
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const unsigned char *v = sqlite3_column_text(st, 0);
        if (v)
            snprintf(buf, size, "%s", (const char *)v);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return db_fail(t, rc, "reading meta");
    return 0;
}

static uint64_t parse_u64(const char *s)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    return *s && !*end ? (uint64_t)v : 0;
}

static uint8_t thread_kind_of(const char *s)
{
    static const char *const names[] = {"worker", "block_on", "blocking", "other", "tracer"};
    for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++)
        if (s && strcmp(s, names[i]) == 0)
            return (uint8_t)i;
    return WEFT_THREAD_OTHER;
}

static int load_threads(trace_reader *t)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(t->db,
                                "SELECT thread, runtime, kind, worker, tid FROM threads "
                                "WHERE thread BETWEEN 1 AND 65535",
                                -1, &st, NULL);
    if (rc != SQLITE_OK)
        return db_fail(t, rc, "reading threads");
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t n = sqlite3_column_int64(st, 0);
        if (n < 1 || n > (int64_t)MAX_THREADS)
            continue;
        if ((uint32_t)n >= t->nthreads) {
            uint32_t cap = t->nthreads ? t->nthreads : 16;
            while (cap <= (uint32_t)n)
                cap *= 2;
            thread_ident *p = realloc(t->threads, (size_t)cap * sizeof *p);
            if (!p) {
                sqlite3_finalize(st);
                return weft__reader_fail(&t->base, WEFT_ENOMEM, "out of memory");
            }
            memset(p + t->nthreads, 0, (size_t)(cap - t->nthreads) * sizeof *p);
            t->threads = p;
            t->nthreads = cap;
        }
        thread_ident *id = &t->threads[n];
        id->runtime = (uint32_t)sqlite3_column_int64(st, 1);
        id->kind = thread_kind_of((const char *)sqlite3_column_text(st, 2));
        id->worker = (uint32_t)sqlite3_column_int64(st, 3);
        id->tid = (uint32_t)sqlite3_column_int64(st, 4);
        id->known = true;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return db_fail(t, rc, "reading threads");
    return 0;
}

/* Feed the strings and locations tables to the reader's symbol table, as the definitions
 * would have gone by in a live stream. */
static int load_names(trace_reader *t)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(t->db, "SELECT id, text FROM strings", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return db_fail(t, rc, "reading strings");
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0);
        const char *text = (const char *)sqlite3_column_text(st, 1);
        if (id <= 0 || id > UINT32_MAX || !text)
            continue;
        weft_event ev = {.type = WEFT_EV_string_def, .text = text};
        ev.u.string_def.id = (uint32_t)id;
        ev.u.string_def.len = (uint32_t)strnlen(text, WEFT_EV_MAX_TEXT);
        weft__reader_learn(&t->base, &ev);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return db_fail(t, rc, "reading strings");

    rc = sqlite3_prepare_v2(t->db, "SELECT id, file_id, func_id, line FROM locations", -1, &st,
                            NULL);
    if (rc != SQLITE_OK)
        return db_fail(t, rc, "reading locations");
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t v[4];
        for (int c = 0; c < 4; c++)
            v[c] = sqlite3_column_int64(st, c);
        if (v[0] <= 0 || v[0] > UINT32_MAX)
            continue;
        weft_event ev = {.type = WEFT_EV_location_def};
        ev.u.location_def.id = (uint32_t)v[0];
        ev.u.location_def.file = v[1] > 0 && v[1] <= UINT32_MAX ? (uint32_t)v[1] : 0;
        ev.u.location_def.func = v[2] > 0 && v[2] <= UINT32_MAX ? (uint32_t)v[2] : 0;
        ev.u.location_def.line = v[3] > 0 && v[3] <= UINT32_MAX ? (uint32_t)v[3] : 0;
        weft__reader_learn(&t->base, &ev);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return db_fail(t, rc, "reading locations");
    return 0;
}

/* Everything after sqlite3_open: checks, names, threads, the statement. */
static int open_common(trace_reader *t, const char *what)
{
    sqlite3_limit(t->db, SQLITE_LIMIT_LENGTH, MAX_VALUE_BYTES);
    sqlite3_limit(t->db, SQLITE_LIMIT_SQL_LENGTH, 4096);
    sqlite3_db_config(t->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
    sqlite3_db_config(t->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
    sqlite3_db_config(t->db, SQLITE_DBCONFIG_ENABLE_TRIGGER, 0, NULL);
    sqlite3_db_config(t->db, SQLITE_DBCONFIG_ENABLE_VIEW, 0, NULL);
    sqlite3_progress_handler(t->db, PROGRESS_OPS, progress, t);
    budget(t, WORK_LIMIT_OPEN);
    sqlite3_exec(t->db, "PRAGMA mmap_size=0; PRAGMA cell_size_check=ON", NULL, NULL, NULL);

    /* The first read of the file: a non-database fails here. */
    static const char *const tables[] = {"meta", "events", "threads", "strings", "locations"};
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
        int err = require_table(t, tables[i]);
        if (err)
            return err;
    }
    char buf[512];
    int err = meta_text(t, "format", buf, sizeof buf);
    if (err)
        return err;
    if (strcmp(buf, WEFT_TRACE_FORMAT) != 0)
        return weft__reader_fail(&t->base, WEFT_EFORMAT,
                                 "%s is not a weft trace (meta.format is '%.40s')", what, buf);
    if ((err = meta_text(t, "schema_version", buf, sizeof buf)))
        return err;
    uint64_t version = parse_u64(buf);
    if (version < 1 || version > WEFT_TRACE_SCHEMA_VERSION)
        return weft__reader_fail(&t->base, WEFT_EFORMAT,
                                 "%s has trace schema version '%.20s'; this weft reads 1 to %d",
                                 what, buf, WEFT_TRACE_SCHEMA_VERSION);
    if ((err = meta_text(t, "program_path", t->program, sizeof t->program)))
        return err;
    t->base.info.program = t->program;
    if ((err = meta_text(t, "pid", buf, sizeof buf)))
        return err;
    t->base.info.pid = (int)(parse_u64(buf) & INT_MAX);
    if ((err = meta_text(t, "start_mono_ns", buf, sizeof buf)))
        return err;
    t->base.info.start_ns = parse_u64(buf);
    if ((err = meta_text(t, "dropped_events", buf, sizeof buf)))
        return err;
    t->base.info.dropped = parse_u64(buf);

    if ((err = load_threads(t)) || (err = load_names(t)))
        return err;
    int rc = sqlite3_prepare_v2(t->db,
                                "SELECT seq, ts, thread, type, f0, f1, f2, f3, f4, f5, f6, f7, "
                                "f8, f9 FROM events WHERE seq >= ?1 ORDER BY seq",
                                -1, &t->next, NULL);
    if (rc != SQLITE_OK)
        return db_fail(t, rc, "reading events");
    sqlite3_bind_int64(t->next, 1, 0);
    return 0;
}

static trace_reader *trace_new(void)
{
    trace_reader *t = calloc(1, sizeof *t);
    if (t)
        weft__reader_init(&t->base, &trace_ops);
    return t;
}

/* Fail an open: move the message to the thread's open error and free everything. */
static int open_failed(trace_reader *t, int err)
{
    weft__reader_open_fail(err, "%s", t->base.error);
    weft_reader_close(&t->base);
    return err;
}

int weft_reader_open_trace(const char *path, weft_reader **out)
{
    if (!out)
        return WEFT_EINVAL;
    *out = NULL;
    if (!path || !*path)
        return weft__reader_open_fail(WEFT_EINVAL, "no trace database named");
    trace_reader *t = trace_new();
    if (!t)
        return weft__reader_open_fail(WEFT_ENOMEM, "%.200s: out of memory", path);
    /* Read-only, and not created: a missing file is an error, not a new empty database. */
    int rc = sqlite3_open_v2(path, &t->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        weft__reader_fail(&t->base, WEFT_EIO, "cannot open %s: %s", path,
                          t->db ? sqlite3_errmsg(t->db) : sqlite3_errstr(rc));
        return open_failed(t, WEFT_EIO);
    }
    int err = open_common(t, path);
    if (err) {
        /* Name the file in the message if SQLite's text did not. */
        if (!strstr(t->base.error, path)) {
            weft__reader_open_fail(err, "%.200s: %.250s", path, t->base.error);
            weft_reader_close(&t->base);
            return err;
        }
        return open_failed(t, err);
    }
    *out = &t->base;
    return 0;
}

int weft__trace_db_open_mem(const void *data, size_t size, weft_reader **out)
{
    *out = NULL;
    trace_reader *t = trace_new();
    if (!t)
        return weft__reader_open_fail(WEFT_ENOMEM, "out of memory");
    int rc = sqlite3_open_v2(":memory:", &t->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
                             NULL);
    unsigned char *copy = size ? sqlite3_malloc64(size) : NULL;
    if (rc != SQLITE_OK || (size && !copy)) {
        sqlite3_free(copy);
        weft__reader_fail(&t->base, WEFT_ENOMEM, "cannot open an in-memory database");
        return open_failed(t, WEFT_ENOMEM);
    }
    if (size)
        memcpy(copy, data, size);
    rc = sqlite3_deserialize(t->db, "main", copy, (sqlite3_int64)size, (sqlite3_int64)size,
                             SQLITE_DESERIALIZE_FREEONCLOSE | SQLITE_DESERIALIZE_READONLY);
    if (rc != SQLITE_OK) {
        db_fail(t, rc, "loading the image");
        return open_failed(t, WEFT_EFORMAT);
    }
    int err = open_common(t, "the image");
    if (err)
        return open_failed(t, err);
    *out = &t->base;
    return 0;
}
