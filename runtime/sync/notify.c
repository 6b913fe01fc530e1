/* runtime/sync/notify.c - weft_notify: one stored permit, a FIFO of waiters, notify_waiters.
 *
 * Who calls it: programs (weft/notify.h); the runtime itself does not.
 *
 * State. One mutex guards the permit and the queue of registered notified futures. The count
 * of notify_waiters calls is also written under the mutex but read without it when a notified
 * future is created: that snapshot is how a future learns, at its first poll, that a
 * notify_waiters happened after it was created (Tokio's rule, see the header).
 *
 * A notified future's life (state is touched only by the future's owner; `received` by
 * whoever dequeues it, under the lock):
 *
 *            first poll / enable: no permit, no notify_waiters since creation
 *     INIT ──────────────────────────────────────────────────────────────────▶ WAITING
 *      │                                                                          │
 *      │ first poll / enable: permit taken, or notify_waiters since creation      │ poll sees
 *      ▼                                                                          │ received,
 *     DONE ◀──────────────────────────────────────────────────────────────────────┘ or a newer
 *      ▲                                                                            waiters call
 *      └── drop (from WAITING: unlink, or pass a notify_one on)
 *
 * Invariants:
 *   - A WAITING future is either linked (in notify->waiters, or in the private list of a
 *     notify_waiters call that is still waking), or unlinked with `received` set. Only the
 *     lock holder moves it between those.
 *   - Whoever unlinks a future with `received` set has taken its waker; a future that unlinks
 *     itself drops its own waker.
 *   - The permit is set only when a notify_one found the queue empty, so a set permit implies
 *     an empty queue (a future never registers while a permit is there: it takes it).
 *
 * Waking: wakers are taken under the lock and woken after it is released, so a woken task
 * that runs at once on another worker never meets our lock held. notify_waiters moves the
 * whole queue to a list on its stack in one step (so waiters that register later are not
 * part of this call) and wakes it in batches of WAKE_BATCH, dropping the lock between
 * batches; a future in that private list that is polled or dropped meanwhile unlinks itself
 * under the lock, which is safe because the list head stays alive until the call returns.
 */
#include <weft/error.h>
#include <weft/notify.h>

#include "../util/list.h"
#include "resource.h"

enum { ST_INIT, ST_WAITING, ST_DONE };

/* f->received: who dequeued the future. */
enum { RECV_NONE, RECV_ONE, RECV_LAST, RECV_ALL };

/* How a future completed, for the notify_received event. */
enum { HOW_NOT_YET, HOW_PERMIT, HOW_ONE, HOW_ALL };

#define WAKE_BATCH 32

static weft_poll notified_poll(weft_future *f, weft_context *cx);
static void notified_drop(weft_future *f);

static const weft_future_vtable notified_vt = {
    .poll = notified_poll,
    .drop = notified_drop,
    .name = "notified",
};

/* ---------------------------------------------------------------- the notify */

void weft__notify_init(weft_notify *n, const char *name, weft_location where)
{
    if (!n)
        return;
    pthread_mutex_init(&n->lock, NULL);
    weft__list_init(&n->waiters);
    n->permit = false;
    atomic_init(&n->waiters_calls, 0);
    weft__resource_init(&n->res, WEFT_RESOURCE_NOTIFY, name, where);
}

int weft_notify_destroy(weft_notify *n)
{
    if (!n)
        return WEFT_EINVAL;
    pthread_mutex_lock(&n->lock);
    bool busy = !weft__list_empty(&n->waiters);
    pthread_mutex_unlock(&n->lock);
    if (busy)
        return WEFT_EBUSY;
    weft__resource_drop(&n->res);
    pthread_mutex_destroy(&n->lock);
    return 0;
}

/* Under the lock: take the oldest (or newest) waiter out of the queue, mark how it was
 * notified and move its waker to *waker. False when nobody waits. */
static bool dequeue_locked(weft_notify *n, bool newest, unsigned char how, weft_waker *waker)
{
    if (weft__list_empty(&n->waiters))
        return false;
    weft__list *node = newest ? n->waiters.prev : n->waiters.next;
    weft__list_remove(node);
    weft_notified *f = weft__container_of(node, weft_notified, node);
    f->received = how;
    *waker = f->waker;
    f->waker = WEFT_WAKER_NONE;
    return true;
}

static void notify_one_or_last(weft_notify *n, bool newest)
{
    if (!n)
        return;
    weft_waker w = WEFT_WAKER_NONE;
    pthread_mutex_lock(&n->lock);
    bool woke = dequeue_locked(n, newest, newest ? RECV_LAST : RECV_ONE, &w);
    if (!woke)
        n->permit = true;
    pthread_mutex_unlock(&n->lock);
    weft__resource_event(notify_one, &n->res, woke, !woke);
    weft_waker_wake(&w);
}

void weft_notify_notify_one(weft_notify *n)
{
    notify_one_or_last(n, false);
}

void weft_notify_notify_last(weft_notify *n)
{
    notify_one_or_last(n, true);
}

void weft_notify_notify_waiters(weft_notify *n)
{
    if (!n)
        return;
    weft__list pending;
    weft__list_init(&pending);
    weft_waker batch[WAKE_BATCH];
    size_t woken = 0;

    pthread_mutex_lock(&n->lock);
    atomic_fetch_add_explicit(&n->waiters_calls, 1, memory_order_release);
    if (!weft__list_empty(&n->waiters)) {
        /* Splice the whole queue onto `pending`: O(1), and later registrations stay out. */
        pending.next = n->waiters.next;
        pending.prev = n->waiters.prev;
        pending.next->prev = &pending;
        pending.prev->next = &pending;
        weft__list_init(&n->waiters);
    }
    for (;;) {
        unsigned k = 0;
        weft__list *node;
        while (k < WAKE_BATCH && (node = weft__list_pop_front(&pending)) != NULL) {
            weft_notified *f = weft__container_of(node, weft_notified, node);
            f->received = RECV_ALL;
            batch[k++] = f->waker;
            f->waker = WEFT_WAKER_NONE;
        }
        bool more = !weft__list_empty(&pending);
        pthread_mutex_unlock(&n->lock);
        for (unsigned i = 0; i < k; i++)
            weft_waker_wake(&batch[i]);
        woken += k;
        if (!more)
            break;
        pthread_mutex_lock(&n->lock);
    }
    weft__resource_event(notify_waiters, &n->res, woken);
    (void)woken;
}

/* ---------------------------------------------------------------- notified() */

void weft__notify_notified_init(weft_notified *f, weft_notify *n, weft_location where)
{
    if (!f)
        return;
    f->base.vt = &notified_vt;
    f->notify = n;
    /* Set when the future registers; until then it may be copied, so it points nowhere. */
    f->node.next = f->node.prev = NULL;
    f->waker = WEFT_WAKER_NONE;
    f->waiters_calls = n ? atomic_load_explicit(&n->waiters_calls, memory_order_acquire) : 0;
    f->where = where;
    f->received = RECV_NONE;
    f->state = n ? ST_INIT : ST_DONE;
    f->status = n ? 0 : WEFT_EINVAL;
}

/* Under the lock: has `f` been notified? If not, make sure it is registered, with cx's waker
 * when there is a cx (enable has none). Returns HOW_NOT_YET or how it was notified; in the
 * latter case `f` is no longer linked anywhere. */
static int check_locked(weft_notified *f, weft_notify *n, const weft_context *cx)
{
    uint64_t calls = atomic_load_explicit(&n->waiters_calls, memory_order_relaxed);
    if (f->state == ST_INIT) {
        if (calls != f->waiters_calls)
            return HOW_ALL;
        if (n->permit) {
            n->permit = false;
            return HOW_PERMIT;
        }
        weft__list_push_back(&n->waiters, &f->node);
        f->state = ST_WAITING;
    } else {
        switch (f->received) {
        case RECV_ONE:
        case RECV_LAST:
            return HOW_ONE;
        case RECV_ALL:
            return HOW_ALL;
        default:
            break;
        }
        if (calls != f->waiters_calls) {
            /* A notify_waiters moved us to its private list and has not reached us yet. */
            weft__list_remove(&f->node);
            return HOW_ALL;
        }
    }
    if (cx)
        weft_waker_register(&f->waker, cx);
    return HOW_NOT_YET;
}

/* `f` has been notified (check_locked said how); finish it. Called without the lock. */
static void finish(weft_notified *f, bool was_waiting, weft_waker *leftover, int how)
{
    f->state = ST_DONE;
    f->status = 0;
    weft_waker_drop(leftover);
    if (was_waiting)
        weft__resource_wait_done(&f->notify->res, WEFT_OP_NOTIFIED);
    weft__resource_event(notify_received, &f->notify->res, weft__resource_current_task(), how);
    (void)how;
}

static weft_poll notified_poll(weft_future *fut, weft_context *cx)
{
    weft_notified *f = (weft_notified *)fut;
    if (f->state == ST_DONE)
        return WEFT_READY;
    if (!weft_coop_proceed(cx))
        return WEFT_PENDING;
    weft_notify *n = f->notify;
    bool was_waiting = f->state == ST_WAITING;
    weft_waker leftover = WEFT_WAKER_NONE;

    pthread_mutex_lock(&n->lock);
    int how = check_locked(f, n, cx);
    if (how != HOW_NOT_YET) {
        leftover = f->waker;
        f->waker = WEFT_WAKER_NONE;
    }
    pthread_mutex_unlock(&n->lock);

    if (how == HOW_NOT_YET) {
        weft__resource_wait(&n->res, WEFT_OP_NOTIFIED, f->where);
        return WEFT_PENDING;
    }
    finish(f, was_waiting, &leftover, how);
    return WEFT_READY;
}

bool weft_notified_enable(weft_notified *f)
{
    if (!f)
        return false;
    if (f->state == ST_DONE)
        return true;
    weft_notify *n = f->notify;
    bool was_waiting = f->state == ST_WAITING;
    weft_waker leftover = WEFT_WAKER_NONE;

    pthread_mutex_lock(&n->lock);
    int how = check_locked(f, n, NULL);
    if (how != HOW_NOT_YET) {
        leftover = f->waker;
        f->waker = WEFT_WAKER_NONE;
    }
    pthread_mutex_unlock(&n->lock);

    if (how == HOW_NOT_YET)
        return false;
    finish(f, was_waiting, &leftover, how);
    return true;
}

static void notified_drop(weft_future *fut)
{
    weft_notified *f = (weft_notified *)fut;
    if (f->state != ST_WAITING) {
        f->state = ST_DONE;
        return;
    }
    weft_notify *n = f->notify;
    weft_waker mine, next = WEFT_WAKER_NONE;
    bool forwarded = false, woke = false;

    pthread_mutex_lock(&n->lock);
    if (weft__list_linked(&f->node)) {
        weft__list_remove(&f->node);
    } else if (f->received == RECV_ONE || f->received == RECV_LAST) {
        /* notify_one chose us but we will never observe it: hand it to the next waiter in
         * the same order it was sent, or keep it as the permit. */
        forwarded = true;
        bool newest = f->received == RECV_LAST;
        woke = dequeue_locked(n, newest, newest ? RECV_LAST : RECV_ONE, &next);
        if (!woke)
            n->permit = true;
    }
    mine = f->waker;
    f->waker = WEFT_WAKER_NONE;
    pthread_mutex_unlock(&n->lock);

    f->state = ST_DONE;
    weft_waker_drop(&mine);
    weft_waker_wake(&next);
    weft__resource_wait_done(&n->res, WEFT_OP_NOTIFIED);
    if (forwarded)
        weft__resource_event(notify_forward, &n->res, woke, !woke);
}
