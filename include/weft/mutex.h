/* weft/mutex.h - an async, fair mutex (Tokio's sync::Mutex).
 *
 * Tokio names: Mutex::new -> weft_mutex_init, lock -> weft_mutex_lock_init + WEFT_AWAIT,
 * try_lock -> weft_mutex_try_lock, MutexGuard -> weft_mutex_guard, dropping the guard ->
 * weft_mutex_guard_release (or weft_mutex_unlock).
 *
 * The mutex guards data the caller keeps next to it; C cannot tie the data to the lock, so
 * "holding the mutex" is the rule the program follows before touching that data:
 *
 *     typedef struct { weft_async co; weft_mutex_lock lk; ... } transfer;
 *     ...
 *     weft_mutex_lock_init(&t->lk, &account->mutex);
 *     WEFT_AWAIT(&t->co, cx, &t->lk);           // READY: we hold it
 *     account->balance -= amount;
 *     weft_mutex_guard_release(&t->lk.guard);
 *
 * Unlike a pthread mutex, waiting for it does not block the thread: the task returns PENDING
 * and the worker runs other tasks. Holding it across an await is therefore allowed (that is
 * what it is for), though a long hold makes everyone queued behind wait as long.
 *
 * Fairness. Waiters get the mutex in the order they started waiting (FIFO); an unlock hands it
 * straight to the oldest waiter, so a task that unlocks and locks again at once queues behind
 * the others instead of barging in. (It is a weft_semaphore with one permit inside, as Tokio's
 * is.)
 *
 * Cancel safety. A dropped lock() gives up its place in the queue; if the mutex had already
 * been handed to it, the drop passes it on to the next waiter (or unlocks it), so cancelling a
 * waiter never leaves the mutex locked. A lock() that returned READY has handed ownership to
 * its guard: dropping the future after that changes nothing, only releasing the guard unlocks.
 *
 * Guards. A guard is plain data ({mutex}) and may be moved into another task and released
 * there; the holder recorded for the tools stays the task that locked it until then.
 *
 * Threads: every function may be called from any thread; lock futures are polled by one task
 * at a time. The mutex must outlive its lock futures and guards.
 *
 * Instrumentation (resource kind "mutex"; reported through weft__resource_event):
 *   lock_acquire(r, task, mode)   mode = WEFT_OP_LOCK; task = the new holder
 *   lock_release(r, task, mode)   task = the holder that released it
 * and resource_wait / resource_wait_done with operation WEFT_OP_LOCK. The holder's task id is
 * kept in the mutex (weft_mutex_holder) and each waiter's in its lock future, which is what
 * the wait-for graph needs. resource_create reports capacity 1; a snapshot for a late reader
 * re-reports the current holder as a lock_acquire.
 */
#ifndef WEFT_MUTEX_H
#define WEFT_MUTEX_H

#include <weft/semaphore.h>

typedef struct weft_mutex {
    weft_semaphore sem; /* one permit; its resource (kind "mutex") is the mutex's identity */
    /* Task that holds it: set by the locker after it got the permit, cleared by the unlocker
     * before it gives the permit back. 0 when unlocked or held outside any task (block_on's
     * root future, a plain thread). Read by the tools from any thread. */
    _Atomic weft_task_id holder;
} weft_mutex;

/* Initialise unlocked. `name` is borrowed (a string literal as a rule); NULL names it "mutex".
 * The location of the call is recorded for the console. */
#define weft_mutex_init(m, name) weft__mutex_init((m), (name), WEFT_HERE)
void weft__mutex_init(weft_mutex *m, const char *name, weft_location where);

/* Release the mutex's resources (every initialised mutex must be destroyed: the tools keep a
 * list of live resources). Returns 0, or WEFT_EBUSY (and does nothing) while it is locked or
 * lock futures wait on it. WEFT_EINVAL for NULL. */
int weft_mutex_destroy(weft_mutex *m);

typedef struct weft_mutex_guard {
    weft_mutex *m; /* the locked mutex, or NULL once released */
} weft_mutex_guard;

/* Unlock through the guard: the oldest waiter gets the mutex. *g becomes empty, so releasing
 * it twice is harmless. */
void weft_mutex_guard_release(weft_mutex_guard *g);

/* Unlock without a guard (for code that locked with try_lock(m, NULL) or keeps no guard).
 * Returns 0, or WEFT_EINVAL when the mutex was not locked (nothing changes). Do not also
 * release a guard of the same lock. */
int weft_mutex_unlock(weft_mutex *m);

/* Lock now if nobody holds it and nobody waits (fairness: a queued waiter goes first).
 * Returns 0 and fills *out (which may be NULL); WEFT_EBUSY otherwise; WEFT_EINVAL for NULL m. */
int weft_mutex_try_lock(weft_mutex *m, weft_mutex_guard *out);

/* True while someone holds it (a snapshot). */
bool weft_mutex_is_locked(const weft_mutex *m);

/* The holder's task id (see weft_mutex.holder), a snapshot. */
weft_task_id weft_mutex_holder(const weft_mutex *m);

/* ---------------------------------------------------------------- lock()
 *
 * READY means "you hold the mutex": status == 0 and `guard` holds it. status == WEFT_EINVAL
 * (READY at once, guard empty) for a NULL mutex. The init macro records the await location;
 * call it next to the WEFT_AWAIT. May be copied until its first poll, never after; may be
 * re-initialised once READY or dropped, never while pending. */
typedef struct weft_mutex_lock {
    weft_future base;
    weft_mutex *m;              /* [owner] borrowed */
    weft_semaphore_acquire acq; /* [owner] the one-permit acquire doing the waiting */
    bool done;                  /* [owner] READY was returned */
    int status;                 /* result: 0 or WEFT_EINVAL */
    weft_mutex_guard guard;     /* result when status == 0 */
} weft_mutex_lock;

#define weft_mutex_lock_init(f, m) weft__mutex_lock_init((f), (m), WEFT_HERE)
void weft__mutex_lock_init(weft_mutex_lock *f, weft_mutex *m, weft_location where);

#endif
