/* runtime/blocking/blocking_int.h - what the blocking pool shares with spawn_blocking and with
 * whoever reports on it (tests, and later the console's workers view and the metrics).
 *
 * The pool's life cycle (new, shutdown, free) is declared in rt_int.h because runtime.c drives
 * it; this header adds what only the blocking files and observers need.
 */
#ifndef WEFT_BLOCKING_INT_H
#define WEFT_BLOCKING_INT_H

#include "../rt_int.h"

/* The scheduler that blocking tasks are spawned onto: schedule() queues the task for a pool
 * thread, starting one if none is idle and the pool is below max_blocking_threads. */
weft__sched *weft__blocking_pool_sched(weft__blocking_pool *p);

/* A consistent snapshot of the pool, taken under its lock. */
typedef struct weft__blocking_stats {
    unsigned threads;   /* pool threads started and not yet exited (busy + idle) */
    unsigned idle;      /* threads waiting for work that no wake-up has claimed yet */
    size_t queued;      /* tasks waiting for a thread */
    uint64_t spawned;   /* threads started since the pool was created */
    uint64_t retired;   /* threads that exited because they stayed idle for keep_alive */
    bool shutdown;      /* weft__blocking_pool_shutdown has begun */
} weft__blocking_stats;

void weft__blocking_pool_stats(weft__blocking_pool *p, weft__blocking_stats *out);

#endif
