/* weft/blocking_mutex.h - an instrumented blocking mutex (the counterpart of Rust's
 * std::sync::Mutex used inside async code).
 *
 * Locking it blocks the *thread*, not just the task: every other task of that worker waits
 * too. That is fine for short critical sections that never await, and it is often faster than
 * the async weft_mutex. It is wrong to hold one across an await: the task returns PENDING with
 * the lock held, and any task that then tries to lock it blocks its worker until the holder is
 * polled again - which, on the current-thread runtime or when every worker ends up blocked,
 * is never. This type exists so that this bug can be written, watched in the console (a worker
 * blocked in a lock whose holder is an idle task) and caught by the deterministic scheduler.
 *
 * Semantics, chosen to match std::sync::Mutex where C allows:
 *   - lock() blocks the calling thread until the mutex is free. Locking it again from the
 *     thread that holds it (two tasks on one worker, or one task twice) does not return: it
 *     deadlocks, as std's lock() is allowed to and as the lab expects. The wait is reported
 *     (resource_wait, WEFT_OP_LOCK) *before* the thread blocks, which is where tools see it.
 *   - unlock() may come from any thread: a task that locked it on one worker may be resumed
 *     and unlock it on another (itself a sign of the bug above, but well defined here).
 *     Unlocking a mutex nobody holds returns WEFT_EINVAL and changes nothing.
 *   - no fairness is promised, no poisoning (C has no panics).
 *
 * Seeing the bug. The runtime can ask, right after a task's poll returned PENDING, whether the
 * thread that ran the poll still holds blocking mutexes: weft__blocking_mutex_held_by_current_
 * thread() counts the mutexes locked on the calling thread and not yet unlocked (wherever the
 * unlock happens, it is charged back to the thread that locked). A count that is higher after
 * a PENDING poll than before it means the task awaited with a blocking lock held: the
 * "blocking lock held across an await" warning.
 *
 * Threads: every function may be called from any thread, in a task or not.
 *
 * Instrumentation (resource kind "blocking_mutex"; reported through weft__resource_event):
 *   lock_acquire(r, task, mode)   mode = WEFT_OP_LOCK; task = the new holder (0 outside tasks)
 *   lock_release(r, task, mode)   task = the holder that released it
 * and resource_wait / resource_wait_done with operation WEFT_OP_LOCK around a lock() that had
 * to block. resource_create reports capacity 1; a snapshot for a late reader re-reports the
 * current holder as a lock_acquire.
 */
#ifndef WEFT_BLOCKING_MUTEX_H
#define WEFT_BLOCKING_MUTEX_H

#include <pthread.h>
#include <stdatomic.h>

#include <weft/future.h>
#include <weft/resource.h>
#include <weft/task.h>

typedef struct weft_blocking_mutex {
    /* The lock state is a flag guarded by a short-lived pthread mutex, with a condition
     * variable for the waiters, rather than a bare pthread mutex: that is what makes unlock()
     * from another thread and a refused bogus unlock well defined. */
    pthread_mutex_t lock;      /* guards the [lock] fields; held only for a few instructions */
    pthread_cond_t released;   /* signalled when `locked` goes false */
    bool locked;               /* [lock] someone holds the mutex */
    unsigned waiting;          /* [lock] threads blocked in lock() */
    int holder_slot;           /* [lock] per-thread counter charged for the hold (see .c) */
    /* Task that holds it (0 when unlocked or held outside any task). Written under `lock`,
     * read by the tools from any thread. */
    _Atomic weft_task_id holder;
    weft_resource res;         /* identity for the tools; fixed after init */
} weft_blocking_mutex;

/* Initialise unlocked. `name` is borrowed; NULL names it "blocking_mutex". */
#define weft_blocking_mutex_init(m, name) weft__blocking_mutex_init((m), (name), WEFT_HERE)
void weft__blocking_mutex_init(weft_blocking_mutex *m, const char *name, weft_location where);

/* Release its resources (every initialised mutex must be destroyed: the tools keep a list of
 * live resources). Returns 0, or WEFT_EBUSY (and does nothing) while it is held or threads
 * wait on it. WEFT_EINVAL for NULL. */
int weft_blocking_mutex_destroy(weft_blocking_mutex *m);

/* Lock, blocking the calling thread as long as it takes (see above). The macro records the
 * call site for the console. Returns 0, or WEFT_EINVAL for NULL. Under the deterministic
 * scheduler, which runs every task on one thread, a lock of a mutex locked earlier on that
 * thread could never return: it is recorded as the run's deadlock (naming the holder) and the
 * call returns WEFT_EBUSY at once, without the lock, so that the run can stop. */
#define weft_blocking_mutex_lock(m) weft__blocking_mutex_lock((m), WEFT_HERE)
int weft__blocking_mutex_lock(weft_blocking_mutex *m, weft_location where);

/* Lock if free: 0, WEFT_EBUSY when held (by anyone, this thread included), WEFT_EINVAL for
 * NULL. Never blocks. */
int weft_blocking_mutex_try_lock(weft_blocking_mutex *m);

/* Unlock: 0, or WEFT_EINVAL when it was not locked (or m is NULL). Any thread may unlock. */
int weft_blocking_mutex_unlock(weft_blocking_mutex *m);

/* Snapshots. */
bool weft_blocking_mutex_is_locked(const weft_blocking_mutex *m);
weft_task_id weft_blocking_mutex_holder(const weft_blocking_mutex *m);

/* For the runtime and the tools: how many blocking mutexes the calling thread has locked and
 * not yet unlocked (see "Seeing the bug" above). Cheap: one thread-local read and one atomic
 * load. */
int weft__blocking_mutex_held_by_current_thread(void);

#endif
