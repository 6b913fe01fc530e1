/* instrument/recorder_int.h - what recorder.c (transactions, window, public calls) and
 * recorder_rows.c (one event into its rows) share.
 *
 *   recorder.c        create, meta, add -> reorder window -> write (rows), flush/commit,
 *                     finish, close; the schema and the statements' SQL
 *   recorder_rows.c   weft__rec_write_event: the events row, the thread, the derived tables;
 *                     interned names; the maps of rows still open
 */
#ifndef WEFT_INSTRUMENT_RECORDER_INT_H
#define WEFT_INSTRUMENT_RECORDER_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <sqlite3.h>

#include "reader_int.h"
#include "recorder.h"

#define NFIELD_COLS WEFT_EV_MAX_FIELDS /* f0 .. f9 in the events table */
#define MAX_SYM_ID WEFT__READER_MAX_SYMS
#define MAX_RINGS 65536u              /* weft_event.thread is a uint16_t */

/* ---------------------------------------------------------------- small hash map
 *
 * Open addressing with linear probing and backward-shift deletion; a key is three integers
 * (task, resource, op for a wait). Values: the row id of the open row and its start. */
typedef struct okey {
    uint64_t a, b, c;
} okey;

typedef struct oslot {
    okey key;
    int64_t rowid; /* 0: empty slot (SQLite row ids start at 1) */
    uint64_t ts;
} oslot;

typedef struct omap {
    oslot *slots;
    size_t cap; /* power of two, or 0 */
    size_t len;
} omap;

oslot *weft__omap_find(omap *m, okey k);
int weft__omap_put(omap *m, okey k, int64_t rowid, uint64_t ts);
void weft__omap_del(omap *m, oslot *s);

/* ---------------------------------------------------------------- reorder window
 *
 * The events not written yet, sorted by timestamp (then arrival), in a circular buffer: an
 * event goes in from the back, moving back past the few newer ones it is older than, and
 * events leave from the front. Input is nearly sorted (each thread's events come in order),
 * so an insertion costs a comparison or two. */
typedef struct window {
    weft_event *v; /* cap slots; the sorted events are v[head], v[head+1 & mask], ... */
    size_t head, len, cap; /* cap a power of two, or 0 */
} window;

/* ---------------------------------------------------------------- the recorder */
/* Statements, one per kind of write. The SQL is in stmt_sql[] in the same order. */
enum {
    S_STRING,
    S_LOCATION,
    S_META,
    S_THREAD,
    S_THREAD_LAST,
    S_RUNTIME,
    S_RUNTIME_STOP,
    S_TASK,
    S_TASK_SNAPSHOT,
    S_TASK_END,
    S_TASK_ABORT,
    S_POLL,
    S_PARK,
    S_PARK_END,
    S_RESOURCE,
    S_RESOURCE_SNAPSHOT,
    S_RESOURCE_DROP,
    S_RESOURCE_OP,
    S_WAIT,
    S_WAIT_END,
    S_HOLD,
    S_HOLD_END,
    S_TIMER,
    S_TIMER_FIRE,
    S_SCHEDULE,
    S_COUNT_
};


/* Their SQL, by index (recorder.c). */
extern const char *const weft__rec_stmt_sql[S_COUNT_];

/* The state of one ring as the recorder follows it. */
typedef struct ring_state {
    int64_t thread;      /* current database thread number, 0 before the first event */
    uint32_t runtime, worker, tid;
    uint8_t kind;
    uint64_t last_ts;
    bool dirty;          /* last_ts changed since it was last written */
    /* The poll this thread has begun and not ended (task 0: none). */
    uint64_t poll_task, poll_ts, poll_seq;
    /* The park this thread is in (rowid 0: none). */
    int64_t park_row;
} ring_state;

typedef struct sym {
    char *text;          /* string: owned */
    uint32_t file, func; /* location: string ids */
    uint32_t line;
    bool is_loc;
} sym;

struct weft_recorder {
    sqlite3 *db;
    sqlite3_stmt *st[S_COUNT_];
    sqlite3_stmt *ev_st[WEFT_EV_ID_LIMIT]; /* INSERT INTO events for each type, naming only
                                               its fields' columns (prepared on first use) */
    char err[256];
    bool broken;         /* a write failed: only close is allowed */
    bool in_tx;
    unsigned batch;      /* writes in the open transaction */
    uint64_t batch_start_ms;
    window window;
    uint64_t arrival;    /* arrival counter (ties between equal timestamps) */
    uint64_t max_ts;     /* newest ts added */
    uint64_t last_written_ts;
    int64_t next_seq;    /* seq of the next events row */
    int64_t next_thread; /* next database thread number */
    ring_state *rings;   /* indexed by weft_event.thread */
    size_t nrings;
    sym *syms;           /* interned ids, by id */
    size_t nsyms;
    omap waits, holds, timers;
    weft_recorder_stats stats;
};

/* ---------------------------------------------------------------- shared by both files */

/* Mark the recorder broken with SQLite's message about `what`; returns WEFT_EIO. */
int weft__rec_fail(weft_recorder *r, const char *what);
/* Open a transaction if none is; 0 or WEFT_EIO. */
int weft__rec_begin(weft_recorder *r);
/* Count one write in the batch, committing when it is full or old. */
int weft__rec_wrote(weft_recorder *r);
/* Step statement `which` (parameters bound), reset it; 0 or WEFT_EIO. */
int weft__rec_run(weft_recorder *r, int which);

/* recorder_rows.c: one event out of the window, and the two kinds of definitions. */
int weft__rec_write_event(weft_recorder *r, const weft_event *ev);
int weft__rec_learn_string(weft_recorder *r, const weft_event *ev);
int weft__rec_learn_location(weft_recorder *r, const weft_event *ev);

/* ---------------------------------------------------------------- binding helpers */

static inline void bind_i64(weft_recorder *r, int which, int col, int64_t v)
{
    sqlite3_bind_int64(r->st[which], col, v);
}

static inline void bind_text(weft_recorder *r, int which, int col, const char *s)
{
    if (s)
        sqlite3_bind_text(r->st[which], col, s, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(r->st[which], col);
}

/* 0 binds NULL: interned id 0 means "none". */
static inline void bind_id(weft_recorder *r, int which, int col, uint64_t id)
{
    if (id)
        sqlite3_bind_int64(r->st[which], col, (int64_t)id);
    else
        sqlite3_bind_null(r->st[which], col);
}


#endif
