/* runtime/sync/semaphore.c - the fair batch semaphore (see weft/semaphore.h), and the base of
 * weft_mutex and weft_rwlock (mutex.c, rwlock.c, through sync_int.h).
 *
 * Who calls it: programs (acquire futures, try_acquire, permits), the locks built on it, and
 * the scheduler, which polls and drops acquire futures.
 *
 * The count and the queue
 *
 *   permits (atomic)   available << 1 | CLOSED
 *   lock               guards the queue, each queued waiter's remaining/waker/state, and every
 *                      *increase* of the count
 *   waiters            FIFO of acquire futures, oldest first
 *
 * Invariant (holds whenever `lock` is free): if the queue is not empty, the available count is
 * 0, and only the head waiter may have been assigned some of its permits (n - remaining > 0).
 * It holds because
 *   - an acquirer that cannot be served at once takes every available permit (partial
 *     assignment) under the lock before it joins the queue, so the count is 0 when it does;
 *   - returned permits (give) are handed to the head waiter first, under the lock, and only
 *     what is left when the queue is empty is added to the count;
 *   - decreases without the lock (the fast path, forget) cannot make the count positive.
 * Fairness follows from it: a newcomer finds 0 available while anyone waits, so it queues
 * behind them (and try_acquire fails), and a large request at the head collects returned
 * permits until it has all it needs while smaller requests behind it keep waiting.
 *
 * Life of an acquire future (state, owned by the future until it is queued, then written
 * under the lock by whoever dequeues it):
 *
 *     IDLE --first poll, enough available-----------------------------------------> DONE
 *      |                                                                             ^
 *      +--first poll, not enough--> QUEUED --given all it lacks--> ASSIGNED --poll--+
 *                                     |                                              |
 *                                     +--close--> CLOSED --poll (gives back its      |
 *                                                          partial permits)----------+
 *   drop in QUEUED / ASSIGNED / CLOSED: leaves the queue and gives back what it holds.
 *
 * Whoever dequeues a waiter (give, close) moves its waker out under the lock and wakes it
 * after unlocking; after the unlock it never touches the waiter again, since the waiter's
 * memory belongs to its task, which may already have completed.
 *
 * Wakers are collected in a fixed-size batch; when a batch fills up the lock is released, the
 * batch woken, and the lock taken again, so a release that serves many waiters never runs a
 * task's wake path under the lock nor needs memory. Permits still to be handed out meanwhile
 * are held by the releaser: the count stays 0, so nobody barges in during the gap.
 */
#include <string.h>

#include "../util/futex_mutex.h"
#include "sync_int.h"

#define CLOSED_BIT ((size_t)1)
#define PERMIT_SHIFT 1
#define WAKE_BATCH 32

enum acquire_state {
    ST_IDLE = 0, /* not polled yet (or dropped before its first poll) */
    ST_QUEUED,   /* in sem->waiters, missing `remaining` permits */
    ST_ASSIGNED, /* dequeued with all n permits; the next poll returns them */
    ST_CLOSED,   /* dequeued by close; holds n - remaining permits to give back */
    ST_DONE,     /* READY was returned, or the future was dropped */
};

static weft_poll acquire_poll(weft_future *f, weft_context *cx);
static void acquire_drop(weft_future *f);

static const weft_future_vtable acquire_vt = {
    .poll = acquire_poll,
    .drop = acquire_drop,
    .name = "semaphore_acquire",
};

/* ---------------------------------------------------------------- helpers */

typedef struct wake_list {
    weft_waker w[WAKE_BATCH];
    unsigned n;
} wake_list;

static void wake_list_run(wake_list *wl)
{
    for (unsigned i = 0; i < wl->n; i++)
        weft_waker_wake(&wl->w[i]);
    wl->n = 0;
}

static size_t available_of(size_t word)
{
    return word >> PERMIT_SHIFT;
}

static bool is_plain_semaphore(const weft_semaphore *s)
{
    return s->res.kind == WEFT_RESOURCE_SEMAPHORE;
}

/* Event helpers: parameters are only read by the hooks (compiled out until instrumentation). */
static void report_acquire(weft_semaphore *s, size_t n, size_t available)
{
    if (is_plain_semaphore(s))
        weft__resource_event(permit_acquire, &s->res, weft__resource_current_task(), n,
                             available);
}

/* The same, reading the permits left only when a sink is on (the hook's arguments are not
 * evaluated otherwise): the acquire fast path has no count at hand. */
static void report_acquire_now(weft_semaphore *s, size_t n)
{
    if (is_plain_semaphore(s))
        weft__resource_event(permit_acquire, &s->res, weft__resource_current_task(), n,
                             weft_semaphore_available_permits(s));
}

static void report_release(weft_semaphore *s, size_t n, size_t available)
{
    if (is_plain_semaphore(s))
        weft__resource_event(permit_release, &s->res, weft__resource_current_task(), n,
                             available);
}

/* Take n permits without the lock if they are available. 0, WEFT_EAGAIN or WEFT_ECLOSED;
 * *after receives the available count after taking them. */
static int take_now(weft_semaphore *s, size_t n, size_t *after)
{
    size_t cur = atomic_load_explicit(&s->permits, memory_order_acquire);
    for (;;) {
        if (cur & CLOSED_BIT)
            return WEFT_ECLOSED;
        if (available_of(cur) < n)
            return WEFT_EAGAIN;
        size_t next = cur - (n << PERMIT_SHIFT);
        if (atomic_compare_exchange_weak_explicit(&s->permits, &cur, next, memory_order_acq_rel,
                                                  memory_order_acquire)) {
            *after = available_of(next);
            return 0;
        }
    }
}

/* Take up to n available permits (lock held, so that nobody adds meanwhile); returns how
 * many were taken, or sets *closed and takes none. */
static size_t take_some_locked(weft_semaphore *s, size_t n, bool *closed)
{
    size_t cur = atomic_load_explicit(&s->permits, memory_order_acquire);
    for (;;) {
        if (cur & CLOSED_BIT) {
            *closed = true;
            return 0;
        }
        size_t take = available_of(cur) < n ? available_of(cur) : n;
        if (take == 0)
            return 0;
        size_t next = cur - (take << PERMIT_SHIFT);
        if (atomic_compare_exchange_weak_explicit(&s->permits, &cur, next, memory_order_acq_rel,
                                                  memory_order_acquire))
            return take;
    }
}

/* Permits that exist but are held by nobody: the available ones plus what the head waiter
 * has been assigned so far (lock held). */
static size_t unheld_locked(const weft_semaphore *s)
{
    size_t n = available_of(atomic_load_explicit(&s->permits, memory_order_acquire));
    weft__list *h = weft__list_front(&s->waiters);
    if (h) {
        const weft_semaphore_acquire *w = weft__container_of(h, weft_semaphore_acquire, node);
        n += w->n - w->remaining;
    }
    return n;
}

/* Hand n permits out, head waiter first, then add what is left to the count. Called and
 * returns with the lock held, but may release and retake it to wake a full batch (see the top
 * of the file). Returns the available count after. */
static size_t give_locked(weft_semaphore *s, size_t n, wake_list *wl)
{
    for (;;) {
        weft__list *h;
        while (n > 0 && wl->n < WAKE_BATCH && (h = weft__list_front(&s->waiters)) != NULL) {
            weft_semaphore_acquire *w = weft__container_of(h, weft_semaphore_acquire, node);
            size_t take = w->remaining < n ? w->remaining : n;
            w->remaining -= take;
            n -= take;
            if (w->remaining == 0) {
                weft__list_remove(h);
                s->nwaiters--;
                w->state = ST_ASSIGNED;
                wl->w[wl->n++] = w->waker;
                w->waker = WEFT_WAKER_NONE;
            }
        }
        if (n == 0 || weft__list_empty(&s->waiters))
            break;
        /* The batch is full and permits and waiters remain: wake this batch first. */
        weft__futex_unlock(&s->lock);
        wake_list_run(wl);
        weft__futex_lock(&s->lock);
    }
    size_t after = atomic_fetch_add_explicit(&s->permits, n << PERMIT_SHIFT,
                                             memory_order_acq_rel);
    return available_of(after) + n;
}

/* ---------------------------------------------------------------- shared with the locks */

/* For a reader that attaches late: the available count, as a zero-permit add. Mutexes and
 * rwlocks install their own callback (their holders matter more than a count). */
static void semaphore_snapshot(const weft_resource *r)
{
    weft_semaphore *s = weft__container_of(r, weft_semaphore, res);
    weft__resource_event(permit_add, &s->res, (size_t)0, weft_semaphore_available_permits(s));
}

void weft__semaphore_init_kind(weft_semaphore *s, size_t permits, weft_resource_kind kind,
                               const char *name, weft_location where)
{
    atomic_init(&s->permits, permits << PERMIT_SHIFT);
    weft__futex_mutex_init(&s->lock);
    weft__list_init(&s->waiters);
    s->nwaiters = 0;
    weft__resource_init_cap(&s->res, kind, name, where, permits);
    if (kind == WEFT_RESOURCE_SEMAPHORE)
        s->res.snapshot = semaphore_snapshot;
}

int weft__semaphore_try_take(weft_semaphore *s, size_t n)
{
    size_t after;
    return take_now(s, n, &after);
}

int weft__semaphore_give(weft_semaphore *s, size_t n, size_t limit, size_t *available_after)
{
    wake_list wl;
    wl.n = 0; /* not "= {0}": that would zero all WAKE_BATCH wakers on every call */
    weft__futex_lock(&s->lock);
    size_t unheld = unheld_locked(s);
    if (n > limit || unheld > limit - n) {
        weft__futex_unlock(&s->lock);
        return WEFT_EINVAL;
    }
    size_t after = n ? give_locked(s, n, &wl)
                     : available_of(atomic_load_explicit(&s->permits, memory_order_acquire));
    weft__futex_unlock(&s->lock);
    wake_list_run(&wl);
    if (available_after)
        *available_after = after;
    return 0;
}

void weft__semaphore_acquire_setup(weft_semaphore_acquire *f, weft_semaphore *s, size_t n,
                                   weft_resource_op op, weft_location where)
{
    memset(f, 0, sizeof *f);
    f->base.vt = &acquire_vt;
    f->sem = s;
    f->n = n;
    f->remaining = n;
    f->where = where;
    f->state = ST_IDLE;
    f->op = (unsigned char)op;
    f->permit = WEFT_SEMAPHORE_PERMIT_EMPTY;
}

/* ---------------------------------------------------------------- the acquire future */

/* The cooperative budget, spent only on polls that complete: a poll that can complete asks
 * first (a spent budget wakes the task and makes us return PENDING with nothing changed), then
 * pays one unit once it really completes. */
static bool budget_allows(weft_context *cx)
{
    return weft_coop_remaining() != 0 || weft_coop_proceed(cx);
}

static weft_poll finish(weft_semaphore_acquire *f, weft_context *cx, int status)
{
    bool waited = f->state != ST_IDLE;
    (void)weft_coop_proceed(cx); /* budget_allows said yes: this only spends the unit */
    f->state = ST_DONE;
    f->status = status;
    if (status == 0) {
        f->permit = (weft_semaphore_permit){f->sem, f->n};
        report_acquire_now(f->sem, f->n);
    }
    if (waited)
        weft__resource_wait_done(&f->sem->res, f->op);
    return WEFT_READY;
}

static weft_poll first_poll(weft_semaphore_acquire *f, weft_context *cx)
{
    weft_semaphore *s = f->sem;
    if (!s || f->n > WEFT_SEMAPHORE_MAX_PERMITS)
        return finish(f, cx, WEFT_EINVAL);

    size_t after;
    int rc = take_now(s, f->n, &after);
    if (rc != WEFT_EAGAIN)
        return finish(f, cx, rc);

    /* Not enough: under the lock, take what there is and queue for the rest. */
    weft__futex_lock(&s->lock);
    bool closed = false;
    size_t got = take_some_locked(s, f->n, &closed);
    if (closed || got == f->n) {
        weft__futex_unlock(&s->lock);
        return finish(f, cx, closed ? WEFT_ECLOSED : 0);
    }
    f->remaining = f->n - got;
    f->state = ST_QUEUED;
    f->task = weft__resource_current_task();
    f->waker = weft_waker_clone(cx->waker);
    weft__list_init(&f->node); /* here, not at init: the future may have been copied since */
    weft__list_push_back(&s->waiters, &f->node);
    s->nwaiters++;
    weft__futex_unlock(&s->lock);
    weft__resource_wait(&s->res, f->op, f->where);
    return WEFT_PENDING;
}

weft_poll weft__semaphore_acquire_poll(weft_future *fut, weft_context *cx)
{
    weft_semaphore_acquire *f = (weft_semaphore_acquire *)fut;

    if (f->state == ST_DONE)
        return WEFT_READY; /* polled again after READY: the result stands */
    if (f->state == ST_IDLE) {
        if (!budget_allows(cx))
            return WEFT_PENDING;
        return first_poll(f, cx);
    }

    weft_semaphore *s = f->sem;
    weft__futex_lock(&s->lock);
    if (f->state == ST_QUEUED) {
        weft_waker_register(&f->waker, cx);
        weft__futex_unlock(&s->lock);
        return WEFT_PENDING;
    }
    /* Dequeued: only this future's owner touches it from now on. */
    weft__futex_unlock(&s->lock);
    if (!budget_allows(cx))
        return WEFT_PENDING; /* ASSIGNED or CLOSED is kept for the next poll */
    if (f->state == ST_ASSIGNED)
        return finish(f, cx, 0);

    /* CLOSED: give back what had been assigned before the close. */
    size_t held = f->n - f->remaining;
    if (held)
        (void)weft__semaphore_give(s, held, WEFT_SEMAPHORE_MAX_PERMITS, NULL);
    return finish(f, cx, WEFT_ECLOSED);
}

void weft__semaphore_acquire_drop(weft_future *fut)
{
    weft_semaphore_acquire *f = (weft_semaphore_acquire *)fut;
    if (f->state == ST_IDLE || f->state == ST_DONE) {
        f->state = ST_DONE;
        return;
    }

    weft_semaphore *s = f->sem;
    wake_list wl;
    wl.n = 0; /* not "= {0}": that would zero all WAKE_BATCH wakers on every call */
    weft_waker mine = WEFT_WAKER_NONE;
    weft__futex_lock(&s->lock);
    size_t held;
    if (f->state == ST_QUEUED) {
        weft__list_remove(&f->node);
        s->nwaiters--;
        mine = f->waker;
        f->waker = WEFT_WAKER_NONE;
        held = f->n - f->remaining;
    } else if (f->state == ST_ASSIGNED) {
        held = f->n;
    } else {
        held = f->n - f->remaining;
    }
    f->state = ST_DONE;
    /* What it had been given goes to the next waiters, as if it had been released. A waiter
     * that leaves the head with nothing assigned changes nothing: the count is 0 anyway. */
    if (held)
        give_locked(s, held, &wl);
    weft__futex_unlock(&s->lock);
    wake_list_run(&wl);
    weft_waker_drop(&mine);
    weft__resource_wait_done(&s->res, f->op);
}

static weft_poll acquire_poll(weft_future *f, weft_context *cx)
{
    return weft__semaphore_acquire_poll(f, cx);
}

static void acquire_drop(weft_future *f)
{
    weft__semaphore_acquire_drop(f);
}

void weft__semaphore_acquire_init(weft_semaphore_acquire *f, weft_semaphore *s, size_t n,
                                  weft_location where)
{
    weft__semaphore_acquire_setup(f, s, n, WEFT_OP_ACQUIRE, where);
}

/* ---------------------------------------------------------------- the semaphore */

int weft__semaphore_init(weft_semaphore *s, size_t permits, const char *name,
                         weft_location where)
{
    if (!s)
        return WEFT_EINVAL;
    if (permits > WEFT_SEMAPHORE_MAX_PERMITS) {
        weft__semaphore_init_kind(s, 0, WEFT_RESOURCE_SEMAPHORE, name, where);
        atomic_store_explicit(&s->permits, CLOSED_BIT, memory_order_relaxed);
        return WEFT_EINVAL;
    }
    weft__semaphore_init_kind(s, permits, WEFT_RESOURCE_SEMAPHORE, name, where);
    return 0;
}

int weft_semaphore_destroy(weft_semaphore *s)
{
    if (!s)
        return WEFT_EINVAL;
    weft__futex_lock(&s->lock);
    size_t queued = s->nwaiters;
    weft__futex_unlock(&s->lock);
    if (queued)
        return WEFT_EBUSY;
    weft__resource_drop(&s->res);
    return 0;
}

size_t weft_semaphore_available_permits(const weft_semaphore *s)
{
    if (!s)
        return 0;
    return available_of(atomic_load_explicit(&((weft_semaphore *)s)->permits,
                                             memory_order_acquire));
}

int weft_semaphore_add_permits(weft_semaphore *s, size_t n)
{
    if (!s)
        return WEFT_EINVAL;
    size_t after;
    int rc = weft__semaphore_give(s, n, WEFT_SEMAPHORE_MAX_PERMITS, &after);
    if (rc == 0)
        weft__resource_event(permit_add, &s->res, n, after);
    return rc;
}

size_t weft_semaphore_forget_permits(weft_semaphore *s, size_t n)
{
    if (!s)
        return 0;
    size_t cur = atomic_load_explicit(&s->permits, memory_order_acquire);
    for (;;) {
        size_t take = available_of(cur) < n ? available_of(cur) : n;
        if (take == 0)
            return 0;
        size_t next = cur - (take << PERMIT_SHIFT);
        if (atomic_compare_exchange_weak_explicit(&s->permits, &cur, next, memory_order_acq_rel,
                                                  memory_order_acquire)) {
            weft__resource_event(permit_forget, &s->res, take, available_of(next));
            return take;
        }
    }
}

void weft_semaphore_close(weft_semaphore *s)
{
    if (!s)
        return;
    wake_list wl;
    wl.n = 0; /* not "= {0}": that would zero all WAKE_BATCH wakers on every call */
    size_t woken = 0;
    weft__futex_lock(&s->lock);
    atomic_fetch_or_explicit(&s->permits, CLOSED_BIT, memory_order_acq_rel);
    /* Nobody can join the queue any more (first_poll checks CLOSED under the lock), so this
     * loop ends even though it drops the lock between batches. */
    weft__list *h;
    while ((h = weft__list_pop_front(&s->waiters)) != NULL) {
        weft_semaphore_acquire *w = weft__container_of(h, weft_semaphore_acquire, node);
        s->nwaiters--;
        w->state = ST_CLOSED;
        wl.w[wl.n++] = w->waker;
        w->waker = WEFT_WAKER_NONE;
        woken++;
        if (wl.n == WAKE_BATCH) {
            weft__futex_unlock(&s->lock);
            wake_list_run(&wl);
            weft__futex_lock(&s->lock);
        }
    }
    weft__futex_unlock(&s->lock);
    wake_list_run(&wl);
    weft__resource_event(semaphore_close, &s->res, woken);
}

bool weft_semaphore_is_closed(const weft_semaphore *s)
{
    return !s || (atomic_load_explicit(&((weft_semaphore *)s)->permits, memory_order_acquire) &
                  CLOSED_BIT) != 0;
}

/* ---------------------------------------------------------------- try_acquire */

int weft_semaphore_try_acquire_many(weft_semaphore *s, size_t n, weft_semaphore_permit *out)
{
    if (!s || !out || n > WEFT_SEMAPHORE_MAX_PERMITS)
        return WEFT_EINVAL;
    size_t after;
    int rc = take_now(s, n, &after);
    if (rc < 0)
        return rc;
    *out = (weft_semaphore_permit){s, n};
    report_acquire(s, n, after);
    return 0;
}

int weft_semaphore_try_acquire(weft_semaphore *s, weft_semaphore_permit *out)
{
    return weft_semaphore_try_acquire_many(s, 1, out);
}

/* ---------------------------------------------------------------- permits */

void weft_semaphore_permit_release(weft_semaphore_permit *p)
{
    if (!p)
        return;
    weft_semaphore_permit mine = weft_semaphore_permit_take(p);
    if (!mine.sem || mine.n == 0)
        return;
    size_t after;
    if (weft__semaphore_give(mine.sem, mine.n, WEFT_SEMAPHORE_MAX_PERMITS, &after) == 0) {
        report_release(mine.sem, mine.n, after);
    } else {
        /* Only reachable when add_permits pushed the count to the maximum meanwhile: the
         * permits that would not fit are dropped rather than wrapping the count. */
        weft__resource_event(permit_forget, &mine.sem->res, mine.n,
                             weft_semaphore_available_permits(mine.sem));
    }
}

void weft_semaphore_permit_forget(weft_semaphore_permit *p)
{
    if (!p)
        return;
    weft_semaphore_permit mine = weft_semaphore_permit_take(p);
    if (mine.sem && mine.n)
        weft__resource_event(permit_forget, &mine.sem->res, mine.n,
                             weft_semaphore_available_permits(mine.sem));
}

weft_semaphore_permit weft_semaphore_permit_take(weft_semaphore_permit *p)
{
    if (!p)
        return WEFT_SEMAPHORE_PERMIT_EMPTY;
    weft_semaphore_permit v = *p;
    *p = WEFT_SEMAPHORE_PERMIT_EMPTY;
    return v;
}

int weft_semaphore_permit_split(weft_semaphore_permit *p, size_t n, weft_semaphore_permit *out)
{
    if (!p || !out || n > p->n)
        return WEFT_EINVAL;
    *out = (weft_semaphore_permit){n ? p->sem : NULL, n};
    p->n -= n;
    if (p->n == 0)
        p->sem = NULL;
    return 0;
}

int weft_semaphore_permit_merge(weft_semaphore_permit *p, weft_semaphore_permit *other)
{
    if (!p || !other)
        return WEFT_EINVAL;
    if (other->n == 0 || !other->sem) {
        *other = WEFT_SEMAPHORE_PERMIT_EMPTY;
        return 0;
    }
    if (p->n && p->sem && p->sem != other->sem)
        return WEFT_EINVAL;
    p->sem = other->sem;
    p->n += other->n;
    *other = WEFT_SEMAPHORE_PERMIT_EMPTY;
    return 0;
}
