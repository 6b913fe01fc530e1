/* instrument/trace_int.h - what the files of the ring sink share (trace.c, intern.c, emit.c,
 * snapshot.c) and the tests may reach.
 *
 * The sink is process-wide: one segment (ring_format.h) shared by every runtime of the
 * process, created by the first runtime built with WEFT_TRACE=1 and kept until the process
 * exits (or weft__trace_stop, for tests). Each thread that emits gets a ring of its own the
 * first time it emits, and gives it back when it exits.
 *
 * The write path (weft__ring_put, inline below) runs on the emitting thread only, touches
 * its own ring and never blocks or allocates: when the ring is full it drops the record and
 * counts it, both in the ring (for readers) and locally (an events_lost record is written
 * before the next record that fits, so that readers see where the gap is).
 */
#ifndef WEFT_INSTRUMENT_TRACE_INT_H
#define WEFT_INSTRUMENT_TRACE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <time.h>

#include "hooks.h"
#include "ring_format.h"

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define WEFT__HAVE_TSC 1
#else
#define WEFT__HAVE_TSC 0
#endif

/* ---------------------------------------------------------------- configuration */
typedef struct weft__trace_config {
    unsigned nrings;     /* rings in the segment */
    uint64_t ring_size;  /* bytes per ring, a power of two >= WEFT_SEG_MIN_RING_SIZE */
    int clock_kind;      /* WEFT_CLOCK_*, or -1: choose (TSC when invariant) */
    const char *name;    /* shm name; NULL: "/weft-<pid>" */
    bool tracer_thread;  /* run the thread that answers snapshot requests */
} weft__trace_config;

/* Defaults; WEFT_TRACE_RINGS and WEFT_TRACE_RING_KB override the sizes. */
#define WEFT__TRACE_DEFAULT_RINGS 64u
#define WEFT__TRACE_DEFAULT_RING_SIZE (UINT64_C(1) << 20)

/* Start the ring sink with `cfg` (NULL: defaults and environment): creates the segment and
 * turns the hooks on. 0, or a negative WEFT_E* (the sink then stays off). Idempotent while
 * started. */
int weft__trace_start(const weft__trace_config *cfg);

/* Stop it: hooks off, tracer thread joined, segment marked dead, unmapped and unlinked.
 * Only when no thread can be emitting (tests, after every runtime shut down). */
void weft__trace_stop(void);

/* Turn the ring sink's hooks off and on again without touching the segment (the overhead
 * benchmark alternates the two within one process). No effect while stopped. */
void weft__trace_ring_pause(bool paused);

/* The segment while started (tests read it directly), else NULL. */
weft__seg_header *weft__trace_segment(void);

/* Give the calling thread's ring back (thread_stop record, ring RETIRED). Done by a
 * pthread key destructor when the thread exits; tests may call it. */
void weft__trace_release_ring(void);

/* Answer a pending snapshot request now, on the calling thread (the tracer thread does it
 * by itself; tests without it call this). Returns true if there was one. */
bool weft__trace_snapshot_poll(void);

/* ---------------------------------------------------------------- clock */
/* WEFT_CLOCK_* in use; set when the sink starts. */
extern unsigned weft__trace_clock_kind;

static inline uint64_t weft__mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Set when the process runs under the deterministic scheduler (WEFT_SCHED in the
 * environment when the sink starts): timestamps are then its virtual nanoseconds, in the
 * MONOTONIC clock kind, so that a recording of a lab shows the 120 ms poll it charged rather
 * than the microseconds the simulation took. weft__trace_virtual_now() is in trace.c. */
extern bool weft__trace_virtual;
uint64_t weft__trace_virtual_now(void);

static inline uint64_t weft__trace_now(void)
{
    if (__builtin_expect(weft__trace_virtual, 0))
        return weft__trace_virtual_now();
#if WEFT__HAVE_TSC
    if (__builtin_expect(weft__trace_clock_kind == WEFT_CLOCK_TSC, 1))
        return __rdtsc();
#endif
    return weft__mono_ns();
}

/* Whether this machine's TSC is invariant (constant_tsc and nonstop_tsc in /proc/cpuinfo). */
bool weft__tsc_invariant(void);

/* ---------------------------------------------------------------- the writer
 *
 * One per thread (TLS). `data` is NULL until the thread has a ring; every field is private
 * to the thread, so nothing the reader writes into the segment can make the writer write
 * outside its ring: the index is masked with the writer's own copy of the size. */
typedef struct weft__writer {
    uint8_t *data;          /* the ring's data, or NULL */
    weft__ring_ctl *ctl;    /* the ring's control block */
    uint64_t mask;          /* ring size - 1 */
    uint64_t head;          /* bytes written (private copy of ctl->head) */
    uint64_t limit;         /* tail + size as last read: room is known up to here; 0 while
                               the thread has no ring or has lost records to report */
    uint64_t last_sync;     /* timestamp of the last clock_sync written */
    uint64_t lost;          /* records dropped since the last one written */
    uint64_t gen;           /* sink generation the ring belongs to */
    bool no_ring;           /* no ring was free at the last try (retried at each gen) */
    /* The poll in progress (ring_format.h, "Polls are compressed"). While its begin is
     * pending, limit is 0 (saved in saved_limit), so that any other record takes the slow
     * path, which writes the pending begin first. */
    bool poll_pending;      /* task_poll_begin of poll_task not written yet */
    uint32_t poll_wakes;    /* self-wakes folded into the pending poll */
    uint64_t poll_task;     /* the task being polled (valid while poll_pending) */
    uint64_t poll_begin;    /* its begin timestamp */
    uint64_t saved_limit;
    /* The end of the last poll, which the next poll's begin may reuse instead of reading the
     * clock again: valid only while this thread has written nothing since and done nothing
     * long (ct's root future clears it through the clock_stale hook; parks and timers are
     * records). Only for worker and block_on threads. */
    uint64_t ts_cache;
    bool ts_cache_valid;
} weft__writer;

extern _Thread_local weft__writer weft__w __attribute__((tls_model("initial-exec")));
extern _Atomic uint64_t weft__trace_gen; /* changes at every start and stop */

/* Slow path of weft__ring_put: claim a ring, sync the clock, report losses, wait for room
 * (only `may_wait` callers, i.e. the tracer thread). */
bool weft__ring_put_slow(weft__writer *w, const void *rec, unsigned bytes, uint64_t ts,
                         bool may_wait);

#define WEFT__RING_PREFETCH 512u /* bytes ahead of the head */

/* Append one record stamped `ts` (its first 8 bytes are overwritten with the header).
 * `bytes` is a multiple of 8, at most WEFT_REC_MAX_BYTES. False if it was dropped. */
static inline bool weft__ring_put_ts(unsigned type, void *rec, unsigned bytes, uint64_t ts)
{
    weft__writer *w = &weft__w;
    uint64_t *hdr = (uint64_t *)rec;
    *hdr = weft__rec_header(type, bytes / WEFT_REC_ALIGN, ts);
    /* One compare covers "no ring yet" and "records were lost" too: both keep limit at 0. */
    if (__builtin_expect(w->head + bytes > w->limit ||
                             ts - w->last_sync + WEFT_TS_SYNC_SPAN > 2 * WEFT_TS_SYNC_SPAN ||
                             w->gen != atomic_load_explicit(&weft__trace_gen,
                                                            memory_order_relaxed),
                         0))
        return weft__ring_put_slow(w, rec, bytes, ts, false);
    uint64_t idx = w->head & w->mask;
    /* Ask for the line a few records ahead now, so that its miss overlaps with the work
     * between events instead of stalling the write that reaches it. */
    __builtin_prefetch(w->data + ((idx + WEFT__RING_PREFETCH) & w->mask), 1, 3);
    if (__builtin_expect(idx + bytes <= w->mask + 1, 1)) {
        memcpy(w->data + idx, rec, bytes);
    } else {
        size_t first = (size_t)(w->mask + 1 - idx);
        memcpy(w->data + idx, rec, first);
        memcpy(w->data, (const uint8_t *)rec + first, bytes - first);
    }
    w->head += bytes;
    w->ts_cache_valid = false;
    atomic_store_explicit(&w->ctl->head, w->head, memory_order_release);
    return true;
}

/* The same, stamped now. */
static inline bool weft__ring_put(unsigned type, void *rec, unsigned bytes)
{
    return weft__ring_put_ts(type, rec, bytes, weft__trace_now());
}

/* ---------------------------------------------------------------- polls
 *
 * The ring's side of task_poll_begin / task_poll_end / task_wake: a poll is kept pending in
 * the writer and written as one task_poll record when it ends, unless something else is
 * reported meanwhile (then its begin is written first, by the slow path). ring_self_wake
 * folds a wake_by_ref of the polled task by itself into the pending poll: true if it did
 * (nothing to write). Inline: they are most of what a traced program emits. */
void weft__ring_poll_end_slow(weft__writer *w, uint64_t task, uint8_t ready, uint64_t ts);

static inline bool weft__ring_current(const weft__writer *w)
{
    return w->data &&
           w->gen == atomic_load_explicit(&weft__trace_gen, memory_order_relaxed);
}

static inline void weft__ring_poll_begin(uint64_t task)
{
    weft__writer *w = &weft__w;
    /* A poll inside a poll (write the outer one's begin), or no ring yet (take one now, so
     * that the poll in progress shows in the ring's control block). */
    if (__builtin_expect(w->poll_pending || !weft__ring_current(w), 0))
        weft__ring_put_slow(w, NULL, 0, weft__trace_now(), false);
    uint64_t ts = w->ts_cache_valid ? w->ts_cache : weft__trace_now();
    w->ts_cache_valid = false;
    w->poll_task = task;
    w->poll_begin = ts;
    w->poll_wakes = 0;
    w->poll_pending = true;
    w->saved_limit = w->limit;
    w->limit = 0;
    if (__builtin_expect(weft__ring_current(w), 1)) {
        atomic_store_explicit(&w->ctl->cur_begin, ts, memory_order_relaxed);
        atomic_store_explicit(&w->ctl->cur_task, task, memory_order_release);
    }
}

static inline void weft__ring_poll_end(uint64_t task, uint8_t ready)
{
    weft__writer *w = &weft__w;
    uint64_t ts = weft__trace_now();
    if (__builtin_expect(w->poll_pending && w->poll_task == task &&
                             ts - w->poll_begin <= UINT32_MAX && weft__ring_current(w),
                         1)) {
        /* Nothing else happened during the poll: one record for all of it. */
        atomic_store_explicit(&w->ctl->cur_task, 0, memory_order_relaxed);
        w->poll_pending = false;
        w->limit = w->saved_limit;
        struct {
            uint64_t h;
            weft_ev_task_poll p;
        } r;
        r.p.task = task;
        r.p.begin_delta = (uint32_t)(ts - w->poll_begin);
        r.p.ready = ready;
        r.p.self_wakes = (uint8_t)w->poll_wakes;
        memset((uint8_t *)&r.p + 14, 0, sizeof r.p - 14); /* padding */
        weft__ring_put_ts(WEFT_EV_task_poll, &r, sizeof r, ts);
    } else {
        weft__ring_poll_end_slow(w, task, ready, ts);
    }
    if (weft__trace_me.kind <= WEFT_THREAD_BLOCK_ON) {
        w->ts_cache = ts;
        w->ts_cache_valid = true;
    }
}

static inline bool weft__ring_self_wake(uint64_t task, uint64_t waker, uint8_t by_value)
{
    weft__writer *w = &weft__w;
    if (w->poll_pending && task == w->poll_task && waker == task && !by_value &&
        w->poll_wakes < 255) {
        w->poll_wakes++;
        return true;
    }
    return false;
}

/* ---------------------------------------------------------------- interning (intern.c)
 *
 * Ids for strings and source locations, so that records carry 4 bytes instead of text. A
 * string is keyed by its address (names are string literals as a rule: see weft/task.h),
 * a location by (file, func, line). The table is fixed-size and lock-free; when it is full,
 * or the key is being inserted by another thread at that moment, the answer is 0 ("none")
 * or a second id for the same key, both harmless. The definition record is written to the
 * calling thread's ring the first time an id is used in each sink generation, and again
 * until one write succeeds. */
#define WEFT__INTERN_CAP 8192u /* a power of two */

uint32_t weft__intern_str(const char *s);
uint32_t weft__intern_loc(weft_location where);
/* Write the definition of every interned id (snapshots). `may_wait`: see ring_put_slow. */
void weft__intern_dump(bool may_wait);

/* Write a record built by the caller, waiting for room if `may_wait` (tracer thread). */
bool weft__ring_put_wait(unsigned type, void *rec, unsigned bytes, bool may_wait);

/* ---------------------------------------------------------------- snapshots (snapshot.c) */

/* Emit a whole snapshot answering request `seq` on the calling thread's ring. */
void weft__snapshot_emit(uint64_t seq);

/* Runtimes alive (trace.c keeps the list for snapshots). Calls fn for each under the list
 * lock; a runtime is removed (by runtime_stop) before it is freed. */
void weft__trace_for_each_runtime(void (*fn)(struct weft_runtime *rt, void *arg), void *arg);

#endif
