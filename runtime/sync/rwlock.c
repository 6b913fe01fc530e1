/* runtime/sync/rwlock.c - the async reader-writer lock (see weft/rwlock.h), a weft_semaphore
 * with max_readers permits.
 *
 * Who calls it: programs (read/write futures, try_*, guards); the scheduler polls and drops
 * the futures.
 *
 * A reader takes one permit, a writer takes max_readers. Write preference comes for free from
 * the semaphore's FIFO with partial assignment: a queued writer at the head collects every
 * permit a departing reader returns, so the count stays 0 and readers that arrive later find
 * nothing available and queue behind it (semaphore.c, "Invariant").
 *
 * Invariants:
 *   - held permits = readers + (writer holds ? max_readers : 0), and the two never coexist;
 *   - `writer` is set by the task that just got every permit and cleared before they are
 *     given back; `readers` is incremented after a read permit is taken and decremented
 *     before it is given back, so neither ever counts a holder that has not got the lock;
 *   - a release may never leave more free permits than max_readers (the semaphore checks,
 *     counting what the head waiter has collected), so a stray guard released on a free lock
 *     is refused rather than inflating it. One released while other guards are held cannot
 *     be told from a real one and is taken: guards are one owner each.
 *
 * A lock whose init was refused (bad max_readers) is a closed semaphore; its acquires report
 * WEFT_ECLOSED, which the futures here turn into WEFT_EINVAL.
 */
#include "sync_int.h"

#include <weft/rwlock.h>

static weft_poll read_poll(weft_future *f, weft_context *cx);
static void read_drop(weft_future *f);
static weft_poll write_poll(weft_future *f, weft_context *cx);
static void write_drop(weft_future *f);

static const weft_future_vtable read_vt = {
    .poll = read_poll,
    .drop = read_drop,
    .name = "rwlock_read",
};

static const weft_future_vtable write_vt = {
    .poll = write_poll,
    .drop = write_drop,
    .name = "rwlock_write",
};

/* ---------------------------------------------------------------- bookkeeping */

static void read_acquired(weft_rwlock *rw)
{
    atomic_fetch_add_explicit(&rw->readers, 1, memory_order_relaxed);
    weft__resource_event(lock_acquire, &rw->sem.res, weft__resource_current_task(),
                         WEFT_OP_READ);
}

static void write_acquired(weft_rwlock *rw)
{
    weft_task_id me = weft__resource_current_task();
    atomic_store_explicit(&rw->writer, me, memory_order_relaxed);
    weft__resource_event(lock_acquire, &rw->sem.res, me, WEFT_OP_WRITE);
}

static void read_release(weft_rwlock *rw)
{
    /* Never below zero, even if a bogus guard is released: the semaphore refuses that
     * release, and the count is only decremented if there was a reader to remove. */
    size_t cur = atomic_load_explicit(&rw->readers, memory_order_relaxed);
    while (cur > 0 && !atomic_compare_exchange_weak_explicit(&rw->readers, &cur, cur - 1,
                                                             memory_order_relaxed,
                                                             memory_order_relaxed))
        ;
    if (cur == 0)
        return;
    if (weft__semaphore_give(&rw->sem, 1, rw->max_readers, NULL) == 0)
        weft__resource_event(lock_release, &rw->sem.res, weft__resource_current_task(),
                             WEFT_OP_READ);
}

static void write_release(weft_rwlock *rw)
{
    weft_task_id was = atomic_exchange_explicit(&rw->writer, 0, memory_order_relaxed);
    if (weft__semaphore_give(&rw->sem, rw->max_readers, rw->max_readers, NULL) == 0)
        weft__resource_event(lock_release, &rw->sem.res, was, WEFT_OP_WRITE);
    (void)was; /* read only by the hook, which compiles to nothing without instrumentation */
}

/* ---------------------------------------------------------------- the lock */

/* For a reader that attaches late: the writer, as the lock_acquire it missed. Readers are
 * only counted, not known by task, so they cannot be re-reported. */
static void rwlock_snapshot(const weft_resource *r)
{
    weft_rwlock *rw = weft__container_of(r, weft_rwlock, sem.res);
    if (weft_semaphore_available_permits(&rw->sem) == 0 && weft_rwlock_readers(rw) == 0)
        weft__resource_event(lock_acquire, &rw->sem.res, weft_rwlock_writer(rw), WEFT_OP_WRITE);
}

int weft__rwlock_init(weft_rwlock *rw, size_t max_readers, const char *name,
                      weft_location where)
{
    if (!rw)
        return WEFT_EINVAL;
    bool ok = max_readers > 0 && max_readers <= WEFT_RWLOCK_MAX_READERS;
    rw->max_readers = ok ? max_readers : 1;
    atomic_init(&rw->writer, 0);
    atomic_init(&rw->readers, 0);
    weft__semaphore_init_kind(&rw->sem, ok ? max_readers : 0, WEFT_RESOURCE_RWLOCK, name, where);
    rw->sem.res.snapshot = rwlock_snapshot;
    if (!ok) {
        weft_semaphore_close(&rw->sem);
        return WEFT_EINVAL;
    }
    return 0;
}

int weft_rwlock_destroy(weft_rwlock *rw)
{
    if (!rw)
        return WEFT_EINVAL;
    if (!weft_semaphore_is_closed(&rw->sem) &&
        weft_semaphore_available_permits(&rw->sem) != rw->max_readers)
        return WEFT_EBUSY;
    return weft_semaphore_destroy(&rw->sem);
}

void weft_rwlock_read_guard_release(weft_rwlock_read_guard *g)
{
    if (!g || !g->rw)
        return;
    weft_rwlock *rw = g->rw;
    g->rw = NULL;
    read_release(rw);
}

void weft_rwlock_write_guard_release(weft_rwlock_write_guard *g)
{
    if (!g || !g->rw)
        return;
    weft_rwlock *rw = g->rw;
    g->rw = NULL;
    write_release(rw);
}

int weft_rwlock_write_guard_downgrade(weft_rwlock_write_guard *w, weft_rwlock_read_guard *out)
{
    if (!w || !w->rw || !out)
        return WEFT_EINVAL;
    weft_rwlock *rw = w->rw;
    w->rw = NULL;
    weft_task_id was = atomic_exchange_explicit(&rw->writer, 0, memory_order_relaxed);
    atomic_fetch_add_explicit(&rw->readers, 1, memory_order_relaxed);
    /* Keep one permit (ours, now as a reader) and give the rest to whoever is queued. */
    if (rw->max_readers > 1)
        (void)weft__semaphore_give(&rw->sem, rw->max_readers - 1, rw->max_readers, NULL);
    /* Reported as the two events it amounts to (same instant, same task). */
    weft__resource_event(lock_release, &rw->sem.res, was, WEFT_OP_WRITE);
    weft__resource_event(lock_acquire, &rw->sem.res, weft__resource_current_task(),
                         WEFT_OP_READ);
    (void)was;
    out->rw = rw;
    return 0;
}

int weft_rwlock_try_read(weft_rwlock *rw, weft_rwlock_read_guard *out)
{
    if (!rw || !out)
        return WEFT_EINVAL;
    int rc = weft__semaphore_try_take(&rw->sem, 1);
    if (rc == WEFT_ECLOSED)
        return WEFT_EINVAL;
    if (rc != 0)
        return WEFT_EBUSY;
    read_acquired(rw);
    out->rw = rw;
    return 0;
}

int weft_rwlock_try_write(weft_rwlock *rw, weft_rwlock_write_guard *out)
{
    if (!rw || !out)
        return WEFT_EINVAL;
    int rc = weft__semaphore_try_take(&rw->sem, rw->max_readers);
    if (rc == WEFT_ECLOSED)
        return WEFT_EINVAL;
    if (rc != 0)
        return WEFT_EBUSY;
    write_acquired(rw);
    out->rw = rw;
    return 0;
}

size_t weft_rwlock_readers(const weft_rwlock *rw)
{
    return rw ? atomic_load_explicit(&((weft_rwlock *)rw)->readers, memory_order_relaxed) : 0;
}

weft_task_id weft_rwlock_writer(const weft_rwlock *rw)
{
    return rw ? atomic_load_explicit(&((weft_rwlock *)rw)->writer, memory_order_relaxed) : 0;
}

/* ---------------------------------------------------------------- read() and write() */

/* Shared by both futures: poll the embedded acquire; returns PENDING, or READY with *status
 * set (0 when the permits were taken). */
static weft_poll poll_acquire(weft_semaphore_acquire *acq, weft_context *cx, int *status)
{
    if (weft__semaphore_acquire_poll(&acq->base, cx) == WEFT_PENDING)
        return WEFT_PENDING;
    *status = acq->status == 0 ? 0 : WEFT_EINVAL;
    acq->permit = WEFT_SEMAPHORE_PERMIT_EMPTY; /* the guard stands for the permits */
    return WEFT_READY;
}

static weft_poll read_poll(weft_future *fut, weft_context *cx)
{
    weft_rwlock_read *f = (weft_rwlock_read *)fut;
    if (f->done)
        return WEFT_READY;
    if (!f->rw) {
        f->done = true;
        f->status = WEFT_EINVAL;
        return WEFT_READY;
    }
    if (poll_acquire(&f->acq, cx, &f->status) == WEFT_PENDING)
        return WEFT_PENDING;
    f->done = true;
    if (f->status == 0) {
        read_acquired(f->rw);
        f->guard.rw = f->rw;
    }
    return WEFT_READY;
}

static void read_drop(weft_future *fut)
{
    weft_rwlock_read *f = (weft_rwlock_read *)fut;
    if (f->rw && !f->done)
        weft__semaphore_acquire_drop(&f->acq.base);
    f->done = true;
}

static weft_poll write_poll(weft_future *fut, weft_context *cx)
{
    weft_rwlock_write *f = (weft_rwlock_write *)fut;
    if (f->done)
        return WEFT_READY;
    if (!f->rw) {
        f->done = true;
        f->status = WEFT_EINVAL;
        return WEFT_READY;
    }
    if (poll_acquire(&f->acq, cx, &f->status) == WEFT_PENDING)
        return WEFT_PENDING;
    f->done = true;
    if (f->status == 0) {
        write_acquired(f->rw);
        f->guard.rw = f->rw;
    }
    return WEFT_READY;
}

static void write_drop(weft_future *fut)
{
    weft_rwlock_write *f = (weft_rwlock_write *)fut;
    if (f->rw && !f->done)
        weft__semaphore_acquire_drop(&f->acq.base);
    f->done = true;
}

void weft__rwlock_read_init(weft_rwlock_read *f, weft_rwlock *rw, weft_location where)
{
    if (!f)
        return;
    f->base.vt = &read_vt;
    f->rw = rw;
    f->done = false;
    f->status = 0;
    f->guard.rw = NULL;
    weft__semaphore_acquire_setup(&f->acq, rw ? &rw->sem : NULL, 1, WEFT_OP_READ, where);
}

void weft__rwlock_write_init(weft_rwlock_write *f, weft_rwlock *rw, weft_location where)
{
    if (!f)
        return;
    f->base.vt = &write_vt;
    f->rw = rw;
    f->done = false;
    f->status = 0;
    f->guard.rw = NULL;
    weft__semaphore_acquire_setup(&f->acq, rw ? &rw->sem : NULL, rw ? rw->max_readers : 1,
                                  WEFT_OP_WRITE, where);
}
