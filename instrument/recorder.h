/* instrument/recorder.h - writing a trace database (the SQLite file of `weft record`).
 *
 * A recorder takes decoded events (reader.h's weft_event, from any reader) and writes them
 * into a SQLite database whose schema docs/book/trace-database.md documents:
 *
 *   events            every event, in timestamp order, one row each (the raw log that
 *                     weft_reader_open_trace reads back; views ev_<name> name its columns)
 *   tasks, polls, wakes, runtimes, threads (+ view workers), parks, resources,
 *   resource_ops, waits, lock_holds, timers, schedule
 *                     the same events paired and joined for people and reports: a poll is
 *                     one row with its begin, end and duration, a task one row with its
 *                     spawn and its outcome
 *   strings, locations  interned names and source locations
 *   event_types       the event table (events.h) itself: id, name, fields, description
 *   meta              the program's identity and the recording's counters (key, value)
 *
 * Durability: the database is in WAL mode and events are committed in batches (at most
 * WEFT_RECORDER_BATCH events or WEFT_RECORDER_BATCH_MS of wall time per transaction, and at
 * every weft_recorder_flush). Whatever was committed survives the recorder being killed: the
 * file then opens with every committed batch and meta.complete = 0.
 *
 * Order: events may arrive slightly out of timestamp order (a live reader merges threads by
 * time only among what it drained together). The recorder holds the newest events in a
 * reorder window (WEFT_RECORDER_WINDOW_NS of trace time, at most WEFT_RECORDER_WINDOW_MAX
 * events) and writes them in timestamp order; `seq` is the position in that order.
 * weft_recorder_flush writes the whole window out.
 *
 * Threads: a recorder is used by one thread at a time.
 */
#ifndef WEFT_INSTRUMENT_RECORDER_H
#define WEFT_INSTRUMENT_RECORDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "reader.h"

/* The schema this code writes (meta.schema_version); readers accept it and older ones. */
#define WEFT_TRACE_SCHEMA_VERSION 1
/* meta.format of every trace database. */
#define WEFT_TRACE_FORMAT "weft-trace"

#ifndef WEFT_RECORDER_BATCH
#define WEFT_RECORDER_BATCH 50000 /* events per transaction, at most */
#endif
#ifndef WEFT_RECORDER_BATCH_MS
#define WEFT_RECORDER_BATCH_MS 200 /* wall-clock milliseconds per transaction, at most */
#endif
#ifndef WEFT_RECORDER_WINDOW_NS
#define WEFT_RECORDER_WINDOW_NS 20000000u /* 20 ms of trace time held for reordering */
#endif
#ifndef WEFT_RECORDER_WINDOW_MAX
#define WEFT_RECORDER_WINDOW_MAX 65536u /* events held for reordering, at most */
#endif

typedef struct weft_recorder weft_recorder;

typedef struct weft_recorder_stats {
    uint64_t events;      /* events written to the events table */
    uint64_t late;        /* events that arrived after a newer one had been written (kept,
                             written with the next seq: out of timestamp order) */
    uint64_t unknown;     /* events with a type the table does not know (not written) */
    uint64_t lost;        /* events the program reported lost (events_lost records) */
    uint64_t commits;     /* transactions committed */
} weft_recorder_stats;

/* Create the database at `path`, replacing any file there (and its -wal and -shm), with the
 * schema, the event_types table and meta.format / schema_version / weft_version /
 * complete = 0. 0, or WEFT_EIO (cannot create or write it; see weft_recorder_open_error),
 * WEFT_ENOMEM. The caller closes *out with weft_recorder_close. */
int weft_recorder_create(const char *path, weft_recorder **out);

/* Why the last weft_recorder_create on this thread failed. */
const char *weft_recorder_open_error(void);

/* A sentence about the recorder's last error; "" if none. */
const char *weft_recorder_error(const weft_recorder *r);

/* Set a meta row (replacing it). Text and integer flavours; committed with the next batch.
 * 0 or WEFT_EIO. */
int weft_recorder_meta_text(weft_recorder *r, const char *key, const char *value);
int weft_recorder_meta_int(weft_recorder *r, const char *key, int64_t value);

/* Add one event. `ev->text` (string_def) is copied. 0, or WEFT_EIO when the database refused
 * a write (disk full...): the recorder is then unusable except for close. */
int weft_recorder_add(weft_recorder *r, const weft_event *ev);

/* Write out the reorder window and commit. Call it when the source is idle, and regularly. */
int weft_recorder_flush(weft_recorder *r);

/* Commit if the current batch is older than WEFT_RECORDER_BATCH_MS (cheap when it is not). */
int weft_recorder_tick(weft_recorder *r);

/* End the recording: write the window, close what is still open (polls, waits, holds and parks
 * that never ended keep a NULL end), fill in names resolved late, create the indexes, set
 * meta.complete = 1 and the counters, commit, and turn the file into a single self-contained
 * database (journal_mode DELETE). 0 or WEFT_EIO. */
int weft_recorder_finish(weft_recorder *r);

void weft_recorder_stats_get(const weft_recorder *r, weft_recorder_stats *out);

/* Close (committing what was added, without finishing); NULL is fine. */
void weft_recorder_close(weft_recorder *r);

#endif
