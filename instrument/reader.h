/* instrument/reader.h - the one way to read weft events back.
 *
 * The console, the recorder, replay, the report and the exporters all read events through
 * this interface, whatever the source:
 *
 *   weft_reader_open_live(pid)     the shared-memory rings of a running weft program
 *                                  (ring.c / reader_live.c)
 *   weft_reader_open_trace(path)   a trace database written by `weft record`
 *                                  (implemented with the recorder, instrument/recorder*)
 *
 * and then, for either source:
 *
 *     weft_reader *r;
 *     int err = weft_reader_open_live(pid, WEFT_READER_SNAPSHOT, &r);
 *     if (err < 0) { fprintf(stderr, "%s\n", weft_strerror(err)); ... }
 *     weft_event ev;
 *     for (;;) {
 *         int n = weft_reader_next(r, &ev);
 *         if (n == 1)                { handle(&ev); continue; }
 *         if (n == WEFT_EAGAIN)      { weft_reader_wait(r, 100); continue; }  // live, idle
 *         break;                     // 0: the end; < 0: an error
 *     }
 *     weft_reader_close(r);
 *
 * Events come out decoded (a tagged struct: `type` says which member of `u` is valid) with
 * their timestamp in nanoseconds and the identity of the thread that emitted them. Interned
 * strings and source locations are kept by the reader as their definitions go by (the
 * string_def / location_def events, which are also handed to the caller) and resolved with
 * weft_reader_string() / weft_reader_location().
 *
 * Order: events of one thread come out in the order that thread emitted them. A live reader
 * merges the threads by timestamp among the events it has buffered (it drains every ring, then
 * hands out the oldest first), so two events of different threads emitted within one drain
 * interval of each other are ordered by time, and otherwise in drain order. A trace reader
 * returns events in timestamp order.
 *
 * Errors are negative WEFT_E* codes (weft/error.h): WEFT_EINVAL bad argument, WEFT_ENOMEM,
 * WEFT_EIO the source could not be opened (errno-level detail in weft_reader_last_error),
 * WEFT_EFORMAT the source is not a weft trace or is corrupt (wrong magic, version or sizes,
 * offsets outside the segment, owned by another user), WEFT_EBUSY another reader holds the
 * rings, WEFT_ENOSYS this build cannot read that source. Bad input never crashes or hangs a
 * reader: everything read from a segment or a file is validated after it was copied.
 *
 * Threads: a reader is used by one thread at a time.
 */
#ifndef WEFT_INSTRUMENT_READER_H
#define WEFT_INSTRUMENT_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "events.h"

typedef struct weft_reader weft_reader;

/* ---------------------------------------------------------------- decoded events */
typedef struct weft_event {
    uint64_t ts;         /* nanoseconds on the traced machine's CLOCK_MONOTONIC */
    uint64_t seq;        /* position in the source: per-thread record index (live), row id
                            (trace); with `thread`, identifies the event */
    uint16_t type;       /* weft_ev_type: which member of `u` is valid */
    uint16_t thread;     /* the emitting thread's stream: ring index (live), thread number
                            (trace); stable while the thread lives */
    uint8_t thread_kind; /* weft_ev_thread_kind of the emitting thread */
    uint32_t runtime;    /* runtime of the emitting thread, 0 if none/unknown */
    uint32_t worker;     /* worker index of the emitting thread (0 if not a worker) */
    uint32_t tid;        /* OS thread id of the emitting thread, 0 if unknown */
    union {
#define WEFT__READER_UMEMBER(name, id, flags, doc, fields) weft_ev_##name name;
        WEFT_EVENTS(WEFT__READER_UMEMBER, WEFT__EV_NOFIELD)
#undef WEFT__READER_UMEMBER
    } u;
    /* string_def only: the text, NUL-terminated (u.string_def.len bytes before the NUL).
     * Borrowed from the reader: valid until the next call on it. NULL otherwise. */
    const char *text;
} weft_event;

/* A source location resolved from its id. Strings borrowed from the reader: valid until it
 * is closed. */
typedef struct weft_reader_location {
    const char *file; /* "" if its string is unknown */
    const char *func; /* "" if its string is unknown */
    uint32_t line;
} weft_reader_loc;

/* ---------------------------------------------------------------- opening */

/* Flags of weft_reader_open_live. */
#define WEFT_READER_SNAPSHOT 0x1u /* ask the program for a snapshot of every live runtime,
                                      task and resource right after attaching */
#define WEFT_READER_SKIP_BACKLOG 0x2u /* discard what the rings hold already (events from
                                          before the attach); usually with SNAPSHOT */
#define WEFT_READER_TAKEOVER 0x4u /* attach even if another live reader holds the rings
                                      (it then stops receiving events) */

/* Attach to the rings of weft program `pid` (the segment /weft-<pid>). Errors: WEFT_EIO no
 * such segment (not a weft program, or tracing off: it must run with WEFT_TRACE=1 or under
 * the `weft` command); WEFT_EFORMAT a malformed segment or one owned by another user;
 * WEFT_EBUSY another reader is attached (see WEFT_READER_TAKEOVER). */
int weft_reader_open_live(int pid, unsigned flags, weft_reader **out);

/* Same, naming the POSIX shared-memory object ("/weft-1234"). */
int weft_reader_open_shm(const char *name, unsigned flags, weft_reader **out);

/* Open a trace database written by `weft record`. Errors: WEFT_EIO cannot open it,
 * WEFT_EFORMAT not a weft trace or truncated, WEFT_ENOSYS built without SQLite. */
int weft_reader_open_trace(const char *path, weft_reader **out);

/* Close and free; `r` may be NULL. A live reader detaches from the rings (a later reader can
 * attach) and unmaps the segment. */
void weft_reader_close(weft_reader *r);

/* ---------------------------------------------------------------- reading */

/* The next event into *ev: 1 when an event was read; 0 at the end (a trace read to its end,
 * or a live program that has exited and whose rings are drained); WEFT_EAGAIN when a live
 * program has nothing new right now; another negative WEFT_E* on error. */
int weft_reader_next(weft_reader *r, weft_event *ev);

/* Live: sleep until events may be available, at most timeout_ms (returns at once if some are
 * buffered). Trace: returns at once. 0 or a negative WEFT_E*. */
int weft_reader_wait(weft_reader *r, int timeout_ms);

/* Live: ask the program for a snapshot (snapshot_begin ... snapshot_end follow in the stream,
 * answering request number *seq_out if not NULL). Trace: WEFT_ENOSYS. */
int weft_reader_request_snapshot(weft_reader *r, uint64_t *seq_out);

/* Trace: continue reading at the first event whose seq is >= `seq` (0: the start); the
 * string and location tables are kept. Live: WEFT_ENOSYS. */
int weft_reader_seek(weft_reader *r, uint64_t seq);

/* ---------------------------------------------------------------- interned strings */

/* Text of interned string `id`, or NULL if no definition has been read (yet). Borrowed:
 * valid until the reader is closed. */
const char *weft_reader_string(const weft_reader *r, uint32_t id);

/* Location `id` into *out: true if its definition has been read. */
bool weft_reader_location(const weft_reader *r, uint32_t id, weft_reader_loc *out);

/* ---------------------------------------------------------------- about the source */
typedef struct weft_reader_info {
    bool live;              /* rings of a running program (else a trace database) */
    int pid;                /* the traced process */
    bool alive;             /* live: the process still exists (checked at each drain) */
    const char *program;    /* path of the executable, "" if unknown; borrowed */
    uint64_t start_ns;      /* CLOCK_MONOTONIC when tracing started in the program */
    uint32_t rings;         /* live: rings in the segment */
    uint32_t rings_in_use;  /* live: rings a thread owns now */
    uint64_t dropped;       /* events the program could not write (rings full, or no ring
                               free), summed over all rings, as the program counted them */
    uint64_t events;        /* events handed out by this reader so far */
    uint64_t bad_records;   /* records this reader refused as malformed (skipped) */
    uint64_t snapshot_seq;  /* live: last snapshot request answered by the program */
} weft_reader_info;

void weft_reader_info_get(weft_reader *r, weft_reader_info *out);

/* A sentence about the last error (which file, what was wrong), for messages: "segment
 * /weft-42 is owned by uid 1000, not 0". Never NULL; "" when there was none. */
const char *weft_reader_last_error(const weft_reader *r);

/* The message of an open that failed (no reader to ask), naming the file or segment it was
 * about, so a caller prints it as it is: valid until the next open on this thread. */
const char *weft_reader_open_error(void);

/* ---------------------------------------------------------------- discovery */

/* Pids of the processes that have a weft segment (/dev/shm/weft-*), alive or not: up to `max`
 * into pids; returns how many exist (may exceed max) or a negative WEFT_E*. */
int weft_reader_list_live(int *pids, size_t max);

#endif
