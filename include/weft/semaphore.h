/* weft/semaphore.h - a fair, batch-acquiring async semaphore (Tokio's sync::Semaphore).
 *
 * Tokio names: Semaphore::new -> weft_semaphore_init, acquire / acquire_many ->
 * weft_semaphore_acquire_init / weft_semaphore_acquire_many_init, try_acquire / try_acquire_many
 * -> weft_semaphore_try_acquire(_many), add_permits, available_permits, close, is_closed,
 * forget_permits -> weft_semaphore_* of the same name; SemaphorePermit -> weft_semaphore_permit
 * with release (its drop), forget, split and merge.
 *
 * A semaphore holds a number of permits. acquire(n) completes once n permits have been taken
 * from it; releasing a permit value gives them back. The semaphore is also the base of
 * weft_mutex (one permit) and weft_rwlock (one permit per reader, all of them for a writer),
 * as in Tokio.
 *
 * Fairness. Waiters are served strictly first come, first served. Permits that come back go to
 * the oldest waiter first, even if it asked for more than came back: it keeps them (partial
 * assignment) and goes on waiting for the rest, and nobody behind it is served meanwhile. So a
 * large acquire at the head of the queue is never overtaken by later small ones, and
 * try_acquire never succeeds while anyone waits (there is nothing available: every returned
 * permit went to the head waiter). The price is the usual one of FIFO: a waiter that asks for
 * more permits than will ever be free blocks everyone behind it.
 *
 * Cancel safety. Dropping a pending acquire gives up its place in the queue, and any permits
 * that had already been assigned to it go to the next waiters (or back to the semaphore), so
 * nothing leaks and nobody is left waiting behind a waiter that is gone. Dropping an acquire
 * that has *not yet been polled* does nothing. An acquire that returned READY owns its permit
 * value, which is released only by weft_semaphore_permit_release (or forgotten).
 *
 * Closing. weft_semaphore_close wakes every waiting acquire with WEFT_ECLOSED, and every later
 * acquire and try_acquire fails with WEFT_ECLOSED. Permits already held stay valid and may
 * still be released; add_permits still works (the permits just sit there).
 *
 * Threads. Every function may be called from any thread, inside a task or not. An acquire
 * future is polled and dropped by one task at a time, like every future. Wakers are woken
 * after the semaphore's lock is released.
 *
 * Lifetime. The semaphore is borrowed by its futures and permits: it must outlive every
 * acquire future created on it and every permit taken from it.
 *
 * Instrumentation (resource kind "semaphore"; reported through weft__resource_event):
 *   permit_acquire(r, task, n, available)  n permits were taken (available = after)
 *   permit_release(r, task, n, available)  n permits came back (available = after; permits
 *                                          handed straight to waiters are not available)
 *   permit_add(r, n, available)            add_permits
 *   permit_forget(r, n, available)         forget_permits, or a permit value forgotten
 *   semaphore_close(r, woken)              close, and how many waiters it failed
 * and resource_wait / resource_wait_done with operation WEFT_OP_ACQUIRE. resource_create
 * reports the initial permits as the capacity; a snapshot for a late reader re-reports the
 * available count as permit_add with n = 0. A mutex or rwlock built on a semaphore reports
 * lock_* events instead (see their headers).
 */
#ifndef WEFT_SEMAPHORE_H
#define WEFT_SEMAPHORE_H

#include <stdatomic.h>
#include <stdint.h>

#include <weft/future.h>
#include <weft/resource.h>
#include <weft/task.h>

/* The most permits a semaphore can hold (Tokio's Semaphore::MAX_PERMITS, SIZE_MAX >> 3).
 * Larger counts are refused with WEFT_EINVAL. */
#define WEFT_SEMAPHORE_MAX_PERMITS (SIZE_MAX >> 3)

typedef struct weft_semaphore {
    /* Available permits shifted left by one, with bit 0 set once the semaphore is closed.
     * Decreased without the lock by acquirers that find enough permits; increased only under
     * `lock`, so that returned permits go to the waiters first. While `waiters` is not empty
     * the count is 0. */
    _Atomic size_t permits;
    /* guards `waiters` and the [sem lock] fields of queued acquires: a one-word futex mutex,
     * internal (its inline lock path made an uncontended weft_mutex a fifth cheaper than a
     * pthread mutex did) */
    _Atomic uint32_t lock;
    weft__list waiters;    /* [lock] queued weft_semaphore_acquire, oldest first */
    size_t nwaiters;       /* [lock] length of `waiters` (for the console and destroy) */
    weft_resource res;     /* identity for the tools; fixed after init */
} weft_semaphore;

/* Initialise with `permits` permits. `name` is borrowed (a string literal as a rule); NULL
 * names it "semaphore". Returns 0, or WEFT_EINVAL when permits > WEFT_SEMAPHORE_MAX_PERMITS
 * (or s is NULL): the semaphore is then initialised closed with no permits, so that a caller
 * who ignores the error gets WEFT_ECLOSED from every acquire instead of a crash. */
#define weft_semaphore_init(s, permits, name) \
    weft__semaphore_init((s), (permits), (name), WEFT_HERE)
int weft__semaphore_init(weft_semaphore *s, size_t permits, const char *name,
                         weft_location where);

/* Release the semaphore's resources (every initialised semaphore must be destroyed, even one
 * whose init returned an error: the tools keep a list of live resources). Returns 0, or
 * WEFT_EBUSY (and does nothing) while acquires are queued on it: drop or finish them first.
 * Permits still held must not be released after this. WEFT_EINVAL for NULL. */
int weft_semaphore_destroy(weft_semaphore *s);

/* Permits available right now (a snapshot). 0 while anyone waits. */
size_t weft_semaphore_available_permits(const weft_semaphore *s);

/* Add n permits: they go to the waiters first, oldest first, the rest become available.
 * Returns 0, or WEFT_EINVAL (nothing added) if the total would pass
 * WEFT_SEMAPHORE_MAX_PERMITS. */
int weft_semaphore_add_permits(weft_semaphore *s, size_t n);

/* Remove up to n *available* permits for good; returns how many were removed. Permits held
 * or assigned to waiters are not touched. */
size_t weft_semaphore_forget_permits(weft_semaphore *s, size_t n);

/* Close: every queued acquire completes with WEFT_ECLOSED, every later one fails. Closing
 * twice is harmless. */
void weft_semaphore_close(weft_semaphore *s);
bool weft_semaphore_is_closed(const weft_semaphore *s);

/* ---------------------------------------------------------------- permits
 *
 * A permit value: n permits taken from sem. It is plain data, so it may be moved into another
 * task (copy it, then stop using the original; weft_semaphore_permit_take does both) and
 * released there. One owner at a time: releasing two copies of one permit returns its permits
 * twice. An empty permit (n == 0 or sem == NULL) is valid and releasing it does nothing.
 */
typedef struct weft_semaphore_permit {
    weft_semaphore *sem; /* borrowed; NULL for an empty permit */
    size_t n;            /* permits held */
} weft_semaphore_permit;

#define WEFT_SEMAPHORE_PERMIT_EMPTY ((weft_semaphore_permit){NULL, 0})

/* Give the permits back (Tokio's drop of a SemaphorePermit); *p becomes empty. Safe on an
 * empty permit, so releasing twice through the same variable is harmless. */
void weft_semaphore_permit_release(weft_semaphore_permit *p);

/* Keep the permits out of the semaphore for good (SemaphorePermit::forget); *p becomes
 * empty. */
void weft_semaphore_permit_forget(weft_semaphore_permit *p);

/* Move: return *p and leave it empty. */
weft_semaphore_permit weft_semaphore_permit_take(weft_semaphore_permit *p);

/* Move n of p's permits into *out (which must be empty or is overwritten). Returns 0, or
 * WEFT_EINVAL (nothing moved) when p holds fewer than n. */
int weft_semaphore_permit_split(weft_semaphore_permit *p, size_t n,
                                weft_semaphore_permit *out);

/* Move every permit of *other into *p; *other becomes empty. WEFT_EINVAL when both hold
 * permits of different semaphores. */
int weft_semaphore_permit_merge(weft_semaphore_permit *p, weft_semaphore_permit *other);

/* ---------------------------------------------------------------- try_acquire
 *
 * Take n permits now or not at all. Returns 0 and fills *out; WEFT_EAGAIN when fewer than n
 * are available (which includes whenever anyone waits: fairness); WEFT_ECLOSED once closed;
 * WEFT_EINVAL for a NULL argument or n > WEFT_SEMAPHORE_MAX_PERMITS. n == 0 succeeds with an
 * empty permit unless closed. */
int weft_semaphore_try_acquire(weft_semaphore *s, weft_semaphore_permit *out);
int weft_semaphore_try_acquire_many(weft_semaphore *s, size_t n, weft_semaphore_permit *out);

/* ---------------------------------------------------------------- acquire()
 *
 * A future that completes once n permits are taken. Results, valid after READY:
 *   status == 0            `permit` holds the n permits; the caller now owns them
 *   status == WEFT_ECLOSED the semaphore was closed before all n could be taken (any partly
 *                          assigned permits were given back)
 *   status == WEFT_EINVAL  NULL semaphore, or n > WEFT_SEMAPHORE_MAX_PERMITS (READY at once)
 * Cancel safety: see the top of this file. The future may be copied until its first poll,
 * never after (it may be in the semaphore's queue). Re-initialising it for another await (the
 * usual loop) is fine once it returned READY or was dropped, never while it is pending.
 *
 * The init macros record their call site as the await location the console shows: call them
 * right next to the WEFT_AWAIT.
 */
typedef struct weft_semaphore_acquire {
    weft_future base;
    weft_semaphore *sem;    /* [owner] borrowed */
    size_t n;               /* [owner] permits asked for */
    /* Permits still missing while queued; n - remaining have been assigned to it. Written by
     * whoever holds the semaphore's lock while the future is queued. */
    size_t remaining;
    weft__list node;        /* [sem lock] link in sem->waiters while queued */
    weft_waker waker;       /* [sem lock] taken and woken by whoever dequeues the future */
    weft_task_id task;      /* [sem lock] the waiting task (0 outside tasks): wait-for graph */
    weft_location where;    /* [owner] where it is awaited (the init call) */
    unsigned char state;    /* [sem lock once queued] IDLE / QUEUED / ASSIGNED / CLOSED /
                               DONE; see semaphore.c */
    unsigned char op;       /* [owner] weft_resource_op reported while waiting */
    int status;             /* result: 0, WEFT_ECLOSED or WEFT_EINVAL */
    weft_semaphore_permit permit; /* result when status == 0 */
} weft_semaphore_acquire;

#define weft_semaphore_acquire_init(f, s) \
    weft__semaphore_acquire_init((f), (s), 1, WEFT_HERE)
#define weft_semaphore_acquire_many_init(f, s, n) \
    weft__semaphore_acquire_init((f), (s), (n), WEFT_HERE)
void weft__semaphore_acquire_init(weft_semaphore_acquire *f, weft_semaphore *s, size_t n,
                                  weft_location where);

#endif
