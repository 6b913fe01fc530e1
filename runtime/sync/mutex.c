/* runtime/sync/mutex.c - the async mutex (see weft/mutex.h): a one-permit weft_semaphore.
 *
 * Who calls it: programs (lock futures, try_lock, guards); the scheduler polls and drops lock
 * futures.
 *
 * Everything about waiting, fairness and cancellation is the semaphore's (semaphore.c): a
 * lock future is an acquire of one permit plus the bookkeeping the tools need, the holder's
 * task id. Invariants:
 *   - the permit count is 1 when unlocked, 0 when locked (a waiter has nothing assigned while
 *     it waits: with one permit, assignment is all or nothing);
 *   - `holder` is written only by the task that just got the permit (set) and by whoever
 *     gives it back (cleared first), so it never names a task that does not hold the mutex
 *     except for the instant between the permit changing hands and the store;
 *   - unlocking an unlocked mutex is refused (the release is limited to one permit), so a
 *     double unlock cannot turn the mutex into a two-permit semaphore.
 */
#include "sync_int.h"

#include <weft/mutex.h>

static weft_poll lock_poll(weft_future *f, weft_context *cx);
static void lock_drop(weft_future *f);

static const weft_future_vtable lock_vt = {
    .poll = lock_poll,
    .drop = lock_drop,
    .name = "mutex_lock",
};

static void acquired(weft_mutex *m)
{
    weft_task_id me = weft__resource_current_task();
    atomic_store_explicit(&m->holder, me, memory_order_relaxed);
    weft__resource_event(lock_acquire, &m->sem.res, me, WEFT_OP_LOCK);
}

/* Give the permit back; WEFT_EINVAL if the mutex was not locked. */
static int release(weft_mutex *m)
{
    /* A load and a store, not an exchange: only the holder releases (a stray second unlock is
     * refused by the semaphore below), and `holder` is for the tools, so it needs no atomic
     * read-modify-write on every unlock. */
    weft_task_id was = atomic_load_explicit(&m->holder, memory_order_relaxed);
    atomic_store_explicit(&m->holder, 0, memory_order_relaxed);
    int rc = weft__semaphore_give(&m->sem, 1, 1, NULL);
    if (rc == 0)
        weft__resource_event(lock_release, &m->sem.res, was, WEFT_OP_LOCK);
    (void)was; /* read only by the hook, which compiles to nothing without instrumentation */
    return rc;
}

/* For a reader that attaches late: who holds it, as the lock_acquire it missed. */
static void mutex_snapshot(const weft_resource *r)
{
    weft_mutex *m = weft__container_of(r, weft_mutex, sem.res);
    if (weft_mutex_is_locked(m))
        weft__resource_event(lock_acquire, &m->sem.res, weft_mutex_holder(m), WEFT_OP_LOCK);
}

void weft__mutex_init(weft_mutex *m, const char *name, weft_location where)
{
    if (!m)
        return;
    atomic_init(&m->holder, 0);
    weft__semaphore_init_kind(&m->sem, 1, WEFT_RESOURCE_MUTEX, name, where);
    m->sem.res.snapshot = mutex_snapshot;
}

int weft_mutex_destroy(weft_mutex *m)
{
    if (!m)
        return WEFT_EINVAL;
    if (weft_semaphore_available_permits(&m->sem) != 1)
        return WEFT_EBUSY;
    return weft_semaphore_destroy(&m->sem);
}

void weft_mutex_guard_release(weft_mutex_guard *g)
{
    if (!g || !g->m)
        return;
    weft_mutex *m = g->m;
    g->m = NULL;
    (void)release(m);
}

int weft_mutex_unlock(weft_mutex *m)
{
    if (!m)
        return WEFT_EINVAL;
    return release(m);
}

int weft_mutex_try_lock(weft_mutex *m, weft_mutex_guard *out)
{
    if (!m)
        return WEFT_EINVAL;
    if (weft__semaphore_try_take(&m->sem, 1) != 0)
        return WEFT_EBUSY;
    acquired(m);
    if (out)
        out->m = m;
    return 0;
}

bool weft_mutex_is_locked(const weft_mutex *m)
{
    return m && weft_semaphore_available_permits(&m->sem) == 0;
}

weft_task_id weft_mutex_holder(const weft_mutex *m)
{
    return m ? atomic_load_explicit(&((weft_mutex *)m)->holder, memory_order_relaxed) : 0;
}

/* ---------------------------------------------------------------- lock() */

static weft_poll lock_poll(weft_future *fut, weft_context *cx)
{
    weft_mutex_lock *f = (weft_mutex_lock *)fut;
    if (f->done)
        return WEFT_READY;
    if (!f->m) {
        f->done = true;
        f->status = WEFT_EINVAL;
        return WEFT_READY;
    }
    if (weft__semaphore_acquire_poll(&f->acq.base, cx) == WEFT_PENDING)
        return WEFT_PENDING;
    f->done = true;
    f->status = f->acq.status;
    if (f->status == 0) {
        /* The acquire's permit value is not kept: the guard stands for it. */
        f->acq.permit = WEFT_SEMAPHORE_PERMIT_EMPTY;
        acquired(f->m);
        f->guard.m = f->m;
    }
    return WEFT_READY;
}

static void lock_drop(weft_future *fut)
{
    weft_mutex_lock *f = (weft_mutex_lock *)fut;
    if (f->m && !f->done)
        weft__semaphore_acquire_drop(&f->acq.base);
    f->done = true;
}

void weft__mutex_lock_init(weft_mutex_lock *f, weft_mutex *m, weft_location where)
{
    if (!f)
        return;
    f->base.vt = &lock_vt;
    f->m = m;
    f->done = false;
    f->status = 0;
    f->guard.m = NULL;
    weft__semaphore_acquire_setup(&f->acq, m ? &m->sem : NULL, 1, WEFT_OP_LOCK, where);
}
