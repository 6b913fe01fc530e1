/* weft/barrier.h - Barrier: n tasks meet, then all go on together.
 *
 * Tokio names: sync::Barrier -> weft_barrier, Barrier::wait -> weft_barrier_wait_init,
 * BarrierWaitResult::is_leader -> weft_barrier_wait.is_leader.
 *
 * A barrier for n parties keeps n-1 wait() futures pending; the n-th wait() releases them all
 * at once. That makes a *generation*. Exactly one wait() of each generation reports
 * is_leader == true (the n-th arrival, which completes without waiting); the others report
 * false. The barrier is then ready for the next generation, and can be reused forever. A
 * barrier built for 0 parties behaves as one for 1 (as Tokio's): every wait() completes at
 * once, as the leader.
 *
 * A wait() *arrives* at its first poll. Cancel safety: a wait() dropped after it arrived stays
 * counted in its generation (as in Tokio): the generation then completes with one fewer
 * party actually waiting, and a wait() started again by the same task arrives a second time.
 * If a party may give up (a timeout around wait()), do not count on n arrivals meaning n
 * distinct tasks. A wait() dropped before its first poll has not arrived and changes nothing.
 *
 * Threads: wait() futures may be polled on any runtime and any worker; the barrier is
 * thread-safe.
 *
 * Instrumentation (resource kind "barrier"; events through weft__resource_event):
 *   barrier_arrive(r, task, arrived, n)      arrived: parties of this generation so far
 *   barrier_release(r, generation, task)     the leader completed generation `generation`
 * and resource_wait / resource_wait_done with operation WEFT_OP_WAIT.
 */
#ifndef WEFT_BARRIER_H
#define WEFT_BARRIER_H

#include <pthread.h>

#include <weft/future.h>
#include <weft/resource.h> /* also the wait-queue node, weft__list */

typedef struct weft_barrier {
    pthread_mutex_t lock;  /* guards every field marked [lock] */
    weft__list waiters;    /* [lock] wait() futures of the current generation, in arrival order */
    size_t n;              /* parties per generation (>= 1); fixed after init */
    size_t arrived;        /* [lock] arrivals in the current generation, < n between calls */
    uint64_t generation;   /* [lock] generations completed so far */
    weft_resource res;     /* identity for the tools; fixed after init */
} weft_barrier;

/* Initialise for n parties (0 counts as 1). `name` is borrowed; NULL names it "barrier". */
#define weft_barrier_init(b, n, name) weft__barrier_init((b), (n), (name), WEFT_HERE)
void weft__barrier_init(weft_barrier *b, size_t n, const char *name, weft_location where);

/* Release the barrier. Every wait() future on it must have finished or been dropped; as a
 * safety net this returns WEFT_EBUSY and does nothing while some still wait. 0 on success,
 * WEFT_EINVAL for NULL. */
int weft_barrier_destroy(weft_barrier *b);

/* ---------------------------------------------------------------- wait()
 *
 * READY once its generation is complete, with is_leader set for exactly one future of the
 * generation. status is 0, or WEFT_EINVAL when created with a NULL barrier (then it is READY
 * at once and is not the leader). The barrier is borrowed and must outlive the future.
 */
typedef struct weft_barrier_wait {
    weft_future base;
    weft_barrier *barrier;  /* [owner] borrowed */
    weft__list node;        /* [barrier->lock] link in barrier->waiters while waiting */
    weft_waker waker;       /* [barrier->lock] taken and woken by the leader */
    uint64_t generation;    /* [owner] the generation it arrived in */
    weft_location where;    /* [owner] where it is awaited (the init call), for the console */
    unsigned char state;    /* [owner] INIT / WAITING / DONE (see barrier.c) */
    bool released;          /* [barrier->lock] set by the leader that dequeued it */
    bool is_leader;         /* result: this future completed the generation */
    int status;             /* result: 0, or WEFT_EINVAL */
} weft_barrier_wait;

#define weft_barrier_wait_init(f, b) weft__barrier_wait_init((f), (b), WEFT_HERE)
void weft__barrier_wait_init(weft_barrier_wait *f, weft_barrier *b, weft_location where);

#endif
