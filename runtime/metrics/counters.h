/* runtime/metrics/counters.h - the per-worker counters the schedulers keep for weft/metrics.h.
 *
 * Who uses it: the schedulers (sched/multi_thread/worker.c, sched/current_thread.c) embed one
 * weft__worker_counters per worker and bump it on their own thread; metrics.c reads them from
 * any thread through the scheduler's `worker_counters` op (rt_int.h).
 *
 * Why this shape: a counter is written by one thread only (its worker), so an increment needs
 * no read-modify-write instruction: a relaxed load, an add and a relaxed store compile to the
 * same plain instructions as `x++` on a uint64_t, and the reader's relaxed load sees some
 * recent value without a data race. A worker's counters live in its own cache lines, so
 * bumping them never bounces a line between workers. A counter written by several threads
 * (remote schedules) uses a relaxed fetch-add instead, next to a lock it already takes.
 */
#ifndef WEFT_METRICS_COUNTERS_H
#define WEFT_METRICS_COUNTERS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct weft__worker_counters {
    /* Written by the worker's thread only; read by anyone (relaxed). */
    _Atomic uint64_t polls;
    _Atomic uint64_t parks;
    _Atomic uint64_t steals;
    _Atomic uint64_t steal_operations;
    _Atomic uint64_t local_schedules;
    _Atomic uint64_t overflows;
    _Atomic uint64_t budget_forced_yields;
    _Atomic uint64_t busy_ns;
    /* The worker thread's own: when the busy time not yet added to busy_ns began (runtime
     * clock). busy_ns is brought up to date at every park and every maintenance tick (about
     * every 61 polls), so a worker that never parks under load is at most one batch behind,
     * and busy_ns only ever grows for the threads that sample it. */
    uint64_t busy_since;
} weft__worker_counters;

/* Add `n` to a counter only the calling thread writes. */
static inline void weft__counter_add(_Atomic uint64_t *c, uint64_t n)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
                          memory_order_relaxed);
}

static inline void weft__counter_inc(_Atomic uint64_t *c)
{
    weft__counter_add(c, 1);
}

static inline uint64_t weft__counter_read(const _Atomic uint64_t *c)
{
    return atomic_load_explicit((_Atomic uint64_t *)c, memory_order_relaxed);
}

/* A poll begins. Counted before it runs, so that whoever sees a task's effects (its join
 * completing) also sees its polls counted. */
static inline void weft__counters_poll_begin(weft__worker_counters *c)
{
    weft__counter_inc(&c->polls);
}

/* A poll ended; `budget_forced`: a leaf asked for more than the poll's coop budget, was
 * refused, and the task was re-queued behind the others (set by weft_coop_proceed). */
static inline void weft__counters_poll_end(weft__worker_counters *c, bool budget_forced)
{
    if (__builtin_expect(budget_forced, 0))
        weft__counter_inc(&c->budget_forced_yields);
}

/* The worker goes to sleep at `now` / wakes up at `now`: close and open its busy span. */
/* Add the busy time since the last checkpoint, up to `now`, and start counting from `now`. */
static inline void weft__counters_checkpoint(weft__worker_counters *c, uint64_t now)
{
    if (now > c->busy_since)
        weft__counter_add(&c->busy_ns, now - c->busy_since);
    c->busy_since = now;
}

/* The worker goes to sleep at `now` / wakes up at `now`: close and open its busy span. */
static inline void weft__counters_park(weft__worker_counters *c, uint64_t now)
{
    weft__counter_inc(&c->parks);
    weft__counters_checkpoint(c, now);
}

static inline void weft__counters_unpark(weft__worker_counters *c, uint64_t now)
{
    c->busy_since = now;
}

#endif
