/* instrument/ring_format.h - the layout of the shared-memory segment and of its records.
 *
 * Shared by the writer (trace.c, in the traced program) and the readers (reader_live.c,
 * decode.c, in another process). Bump WEFT_SEG_VERSION on any change to what is below.
 *
 * One segment per process, the POSIX shared-memory object "/weft-<pid>", mode 0600:
 *
 *   offset 0   ┌─────────────────────────────────────────┐
 *              │ weft__seg_header                        │ magic, version, sizes, clock
 *              │                                         │ calibration, snapshot request
 *              ├─────────────────────────────────────────┤ ring_table_off
 *              │ weft__ring_ctl [nrings]                 │ per ring: owner state, head,
 *              │                                         │ drops (writer) / tail (reader)
 *              ├─────────────────────────────────────────┤ ring_ctl[i].data_off
 *              │ ring 0 data (ring_size bytes, 2^k)      │
 *              │ ring 1 data ...                         │
 *              └─────────────────────────────────────────┘ segment_size
 *
 * Each ring has a single producer, the thread that owns it, and at most one consumer, the
 * attached reader. Positions are byte counts that only grow (head: written so far, tail:
 * consumed so far); a record starts at (pos mod ring_size). The writer never writes past
 * tail + ring_size, so it never overwrites what the reader has not consumed; when a record
 * does not fit it is dropped and counted.
 *
 * A record is 8-byte aligned and made of an 8-byte header and the event's payload
 * (weft_ev_<name> of events.h), padded to a multiple of 8; string_def records carry their
 * text after the payload. A record may wrap around the end of the ring data.
 *
 * Polls are compressed: a poll during which the thread reports nothing but the task waking
 * itself (yield_now, an exhausted budget) is one task_poll record, 24 bytes for what readers
 * expand into task_poll_begin, the self-wakes and task_poll_end. When anything else is
 * reported during the poll, the writer first writes the pending task_poll_begin, and ends
 * with a task_poll_end, so that order is kept.
 *
 *    byte  0       1        2 ........................ 7
 *        ┌───────┬────────┬──────────────────────────────┐
 *        │ type  │ length │ timestamp, low 48 bits       │ then payload (length*8 - 8 bytes)
 *        └───────┴────────┴──────────────────────────────┘
 *   type: the event id; length: the record's size in 8-byte units (2..WEFT_REC_MAX_UNITS).
 *
 * Timestamps are in the segment's clock (clock_kind: TSC ticks or CLOCK_MONOTONIC ns). A
 * record holds the low 48 bits; the reader restores the rest from the previous record of the
 * same ring, choosing the value closest to it. That is exact because the writer emits a
 * clock_sync record (full 64 bits) whenever its clock has moved 2^46 or more from its last
 * clock_sync (about 8 hours at 2.4 GHz), so consecutive records are always less than 2^47
 * apart. A ring's first record is a clock_sync; a reader that starts mid-ring uses the
 * ring's tail_ts (the full timestamp of the last record consumed, kept by the previous
 * reader) or, failing that, its own clock.
 *
 * Nothing in the segment is trusted by a reader: it checks the header against the object's
 * size and owner, bounds-checks every offset, copies records out before it decodes them and
 * treats a malformed record as the end of what it can read from that ring.
 */
#ifndef WEFT_INSTRUMENT_RING_FORMAT_H
#define WEFT_INSTRUMENT_RING_FORMAT_H

#include <stdatomic.h>
#include <stdint.h>

#include "events.h"

#define WEFT_SEG_MAGIC "WEFTSEG1"   /* 8 bytes, no NUL */
#define WEFT_SEG_VERSION 1u
#define WEFT_SEG_NAME_FMT "/weft-%d" /* shm_open name from the pid */

#define WEFT_REC_ALIGN 8u
#define WEFT_REC_HEADER 8u
#define WEFT_REC_MAX_UNITS 40u       /* 320 bytes: a string_def with WEFT_EV_MAX_TEXT of text */
#define WEFT_REC_MAX_BYTES (WEFT_REC_MAX_UNITS * WEFT_REC_ALIGN)
#define WEFT_TS_BITS 48u
#define WEFT_TS_MASK ((UINT64_C(1) << WEFT_TS_BITS) - 1)
#define WEFT_TS_SYNC_SPAN (UINT64_C(1) << 46) /* writer re-syncs after this much */

/* Limits a reader accepts (a segment outside them is refused as malformed). */
#define WEFT_SEG_MAX_RINGS 1024u
#define WEFT_SEG_MIN_RING_SIZE 1024u
#define WEFT_SEG_MAX_RING_SIZE (UINT64_C(1) << 30)

/* Clock kinds. */
#define WEFT_CLOCK_MONOTONIC 0u /* timestamps are CLOCK_MONOTONIC nanoseconds */
#define WEFT_CLOCK_TSC 1u       /* timestamps are TSC ticks; see the calibration fields */

/* Ring owner states (weft__ring_ctl.state). */
#define WEFT_RING_FREE 0u    /* never used: a thread may claim it */
#define WEFT_RING_OWNED 1u   /* a thread writes it */
#define WEFT_RING_RETIRED 2u /* its thread ended; reusable once the reader has drained it */
#define WEFT_RING_CLAIMING 3u /* a thread is taking it (transient) */

typedef struct weft__ring_ctl {
    /* Written by the owning thread (and by whoever claims the ring). */
    _Atomic uint64_t head;    /* bytes written; release-stored after the records */
    _Atomic uint64_t dropped; /* records this ring could not take, ever */
    _Atomic uint32_t state;   /* WEFT_RING_* */
    _Atomic uint32_t owner_tid; /* OS thread id of the owner (0 when free) */
    _Atomic uint64_t generation; /* incremented by every claim */
    /* Fixed by the segment's creator. */
    uint64_t data_off;        /* where this ring's data starts in the segment */
    uint64_t data_size;       /* bytes, a power of two (= header.ring_size) */
    /* The poll in progress on the owning thread: its task (0: none) and begin timestamp,
     * stored at poll begin, cleared at poll end. Its records reach the ring only when the
     * poll ends (task_poll), so this is how a reader sees a poll that takes long. */
    _Atomic uint64_t cur_task;
    _Atomic uint64_t cur_begin;
    /* Written by the attached reader. */
    _Atomic uint64_t tail;    /* bytes consumed; the writer may reuse space up to tail */
    _Atomic uint64_t tail_ts; /* full timestamp of the last record consumed, 0 if none */
    uint8_t pad1[64 - 16];
} weft__ring_ctl;

typedef struct weft__seg_header {
    /* Fixed at creation. */
    char magic[8];            /* WEFT_SEG_MAGIC */
    uint32_t version;         /* WEFT_SEG_VERSION */
    uint32_t header_size;     /* sizeof(weft__seg_header) */
    uint64_t segment_size;    /* bytes, = size of the shm object */
    uint32_t nrings;
    uint32_t ring_ctl_size;   /* sizeof(weft__ring_ctl) */
    uint64_t ring_table_off;  /* offset of weft__ring_ctl[nrings] */
    uint64_t ring_size;       /* bytes of data per ring, a power of two */
    uint32_t clock_kind;      /* WEFT_CLOCK_* */
    int32_t pid;              /* the traced process */
    uint64_t start_ns;        /* CLOCK_MONOTONIC at creation */
    char program[256];        /* /proc/self/exe at creation, NUL-terminated, may be cut */
    /* Clock calibration (WEFT_CLOCK_TSC): ns = ns0 + (ts - tsc0) * (ns1 - ns0) / (tsc1 -
     * tsc0). The tracer thread refines (tsc1, ns1) over time under the seqlock calib_seq (odd
     * while it writes). */
    _Atomic uint32_t calib_seq;
    uint32_t pad0;
    _Atomic uint64_t tsc0, ns0, tsc1, ns1;
    uint8_t pad1[64];
    /* Live state. */
    _Atomic uint64_t snapshot_req;  /* a reader increments it to ask for a snapshot */
    _Atomic uint64_t snapshot_done; /* the tracer stores the request it answered */
    _Atomic int32_t reader_pid;     /* the attached reader, 0 when none */
    _Atomic uint32_t alive;         /* 1 while the program traces; 0 once it has stopped */
    _Atomic uint64_t dropped_noring; /* events of threads that found no free ring */
    _Atomic uint64_t rings_claimed;  /* claims so far (threads that took a ring) */
} weft__seg_header;

/* The encoded record header. */
static inline uint64_t weft__rec_header(unsigned type, unsigned units, uint64_t ts)
{
    return (uint64_t)type | ((uint64_t)units << 8) | ((ts & WEFT_TS_MASK) << 16);
}

static inline unsigned weft__rec_type(uint64_t h)
{
    return (unsigned)(h & 0xff);
}

static inline unsigned weft__rec_units(uint64_t h)
{
    return (unsigned)((h >> 8) & 0xff);
}

static inline uint64_t weft__rec_ts48(uint64_t h)
{
    return h >> 16;
}

/* The full timestamp of a 48-bit one, taking the value closest to `ref`. */
static inline uint64_t weft__ts_unwrap(uint64_t ref, uint64_t low48)
{
    uint64_t t = (ref & ~WEFT_TS_MASK) | low48;
    if (t + (UINT64_C(1) << 47) < ref && t < UINT64_MAX - WEFT_TS_MASK)
        t += UINT64_C(1) << WEFT_TS_BITS;
    else if (t > ref + (UINT64_C(1) << 47) && t >= (UINT64_C(1) << WEFT_TS_BITS))
        t -= UINT64_C(1) << WEFT_TS_BITS;
    return t;
}

/* Bytes of a record whose payload is `payload` bytes (plus `text` bytes of text). */
static inline unsigned weft__rec_bytes(unsigned payload, unsigned text)
{
    return WEFT_REC_HEADER + ((payload + text + WEFT_REC_ALIGN - 1) & ~(WEFT_REC_ALIGN - 1));
}

#endif
