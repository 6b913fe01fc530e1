/* runtime/sync/barrier.c - weft_barrier: generations of n arrivals, one leader each.
 *
 * Who calls it: programs (weft/barrier.h); the runtime itself does not.
 *
 * State. One mutex guards the arrival count, the generation number and the queue of waiting
 * wait() futures. A wait() arrives at its first poll:
 *
 *     INIT ──first poll, not the n-th──▶ WAITING ──poll after release──▶ DONE
 *       │                                   │
 *       └──first poll, the n-th (leader)────┴──drop (arrival stays counted)──▶ DONE
 *
 * The n-th arrival is the leader: under the lock it resets `arrived`, bumps `generation`,
 * moves the queue to a list on its own stack, then marks and wakes those waiters in batches,
 * dropping the lock between batches (wakers are never woken under the lock). A waiter that
 * the leader has not reached yet but that is polled or dropped meanwhile sees the newer
 * generation (or just unlinks itself) under the lock; the leader's private list head stays
 * alive until the leader's poll returns, so that unlinking is safe.
 *
 * Invariants: between two calls, arrived < n and `waiters` holds exactly the WAITING futures
 * of the current generation that have not been dropped; a future with `released` set is
 * unlinked and its waker has been taken by the leader.
 */
#include <weft/barrier.h>
#include <weft/error.h>

#include "../util/list.h"
#include "resource.h"

enum { ST_INIT, ST_WAITING, ST_DONE };

#define WAKE_BATCH 32

static weft_poll wait_poll(weft_future *f, weft_context *cx);
static void wait_drop(weft_future *f);

static const weft_future_vtable wait_vt = {
    .poll = wait_poll,
    .drop = wait_drop,
    .name = "barrier_wait",
};

void weft__barrier_init(weft_barrier *b, size_t n, const char *name, weft_location where)
{
    if (!b)
        return;
    pthread_mutex_init(&b->lock, NULL);
    weft__list_init(&b->waiters);
    b->n = n ? n : 1;
    b->arrived = 0;
    b->generation = 0;
    weft__resource_init(&b->res, WEFT_RESOURCE_BARRIER, name, where);
}

int weft_barrier_destroy(weft_barrier *b)
{
    if (!b)
        return WEFT_EINVAL;
    pthread_mutex_lock(&b->lock);
    bool busy = !weft__list_empty(&b->waiters);
    pthread_mutex_unlock(&b->lock);
    if (busy)
        return WEFT_EBUSY;
    weft__resource_drop(&b->res);
    pthread_mutex_destroy(&b->lock);
    return 0;
}

void weft__barrier_wait_init(weft_barrier_wait *f, weft_barrier *b, weft_location where)
{
    if (!f)
        return;
    f->base.vt = &wait_vt;
    f->barrier = b;
    /* Set when the future queues; until then it may be copied, so it points nowhere. */
    f->node.next = f->node.prev = NULL;
    f->waker = WEFT_WAKER_NONE;
    f->generation = 0;
    f->where = where;
    f->state = b ? ST_INIT : ST_DONE;
    f->released = false;
    f->is_leader = false;
    f->status = b ? 0 : WEFT_EINVAL;
}

/* The leader's part, entered with the lock held and returning with it released: start the
 * next generation and wake every waiter of the one just completed. */
static void release_generation_unlock(weft_barrier *b)
{
    weft__list pending;
    weft__list_init(&pending);
    b->arrived = 0;
    b->generation++;
    if (!weft__list_empty(&b->waiters)) {
        pending.next = b->waiters.next;
        pending.prev = b->waiters.prev;
        pending.next->prev = &pending;
        pending.prev->next = &pending;
        weft__list_init(&b->waiters);
    }
    weft__resource_event(barrier_release, &b->res, b->generation, weft__resource_current_task());
    weft_waker batch[WAKE_BATCH];
    for (;;) {
        unsigned k = 0;
        weft__list *node;
        while (k < WAKE_BATCH && (node = weft__list_pop_front(&pending)) != NULL) {
            weft_barrier_wait *w = weft__container_of(node, weft_barrier_wait, node);
            w->released = true;
            batch[k++] = w->waker;
            w->waker = WEFT_WAKER_NONE;
        }
        bool more = !weft__list_empty(&pending);
        pthread_mutex_unlock(&b->lock);
        for (unsigned i = 0; i < k; i++)
            weft_waker_wake(&batch[i]);
        if (!more)
            return;
        pthread_mutex_lock(&b->lock);
    }
}

static weft_poll wait_poll(weft_future *fut, weft_context *cx)
{
    weft_barrier_wait *f = (weft_barrier_wait *)fut;
    if (f->state == ST_DONE)
        return WEFT_READY;
    if (!weft_coop_proceed(cx))
        return WEFT_PENDING;
    weft_barrier *b = f->barrier;

    pthread_mutex_lock(&b->lock);
    if (f->state == ST_INIT) {
        f->generation = b->generation;
        b->arrived++;
        weft__resource_event(barrier_arrive, &b->res, weft__resource_current_task(), b->arrived,
                             b->n);
        if (b->arrived == b->n) {
            release_generation_unlock(b);
            f->is_leader = true;
            f->state = ST_DONE;
            return WEFT_READY;
        }
        weft__list_push_back(&b->waiters, &f->node);
        f->state = ST_WAITING;
    } else if (f->released || b->generation != f->generation) {
        /* Released: by the leader's hand, or the leader has yet to reach us in its list. */
        if (weft__list_linked(&f->node))
            weft__list_remove(&f->node);
        weft_waker leftover = f->waker;
        f->waker = WEFT_WAKER_NONE;
        pthread_mutex_unlock(&b->lock);
        weft_waker_drop(&leftover);
        f->state = ST_DONE;
        weft__resource_wait_done(&b->res, WEFT_OP_WAIT);
        return WEFT_READY;
    }
    weft_waker_register(&f->waker, cx);
    pthread_mutex_unlock(&b->lock);
    weft__resource_wait(&b->res, WEFT_OP_WAIT, f->where);
    return WEFT_PENDING;
}

static void wait_drop(weft_future *fut)
{
    weft_barrier_wait *f = (weft_barrier_wait *)fut;
    if (f->state != ST_WAITING) {
        f->state = ST_DONE;
        return;
    }
    weft_barrier *b = f->barrier;
    pthread_mutex_lock(&b->lock);
    if (weft__list_linked(&f->node))
        weft__list_remove(&f->node);
    weft_waker mine = f->waker;
    f->waker = WEFT_WAKER_NONE;
    pthread_mutex_unlock(&b->lock);
    weft_waker_drop(&mine);
    f->state = ST_DONE;
    weft__resource_wait_done(&b->res, WEFT_OP_WAIT);
}
