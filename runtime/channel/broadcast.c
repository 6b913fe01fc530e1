/* runtime/channel/broadcast.c - broadcast channels: a ring of the last `cap` values, read
 * independently by every receiver.
 *
 * Who calls it: programs through weft/broadcast.h, from tasks or plain threads.
 *
 * Positions. Values are numbered from 0 in the order they were sent; `tail` is the number
 * sent so far (the position of the next one). Value p lives in slot p % cap until value
 * p + cap overwrites it, so the values kept are the positions [oldest, tail) with
 * oldest = tail - cap once tail >= cap (0 before). Each receiver handle keeps `next`, the
 * position it reads next:
 *
 *        oldest                         tail
 *          v                             v
 *   ... |  p  | p+1 | ...          | t-1 |       (cap slots, positions mod cap)
 *             ^ next of a receiver
 *
 *   next <  oldest    it lagged: report WEFT_ELAGGED(oldest - next) and set next = oldest
 *   next <  tail      copy slot next % cap out, next++
 *   next == tail      nothing new: CLOSED if no sender is left, else wait
 *
 * Everything (ring, tail, counts, waiter list and each receiver's `next`) is guarded by the
 * channel lock. A send wakes every waiting recv with weft__chan_wake_all_unlock (wake.c),
 * which never wakes under the lock.
 *
 * Lifetime: refs counts live handles; whoever drops it to 0 frees the channel after unlocking.
 */
#include <stdlib.h>

#include <weft/broadcast.h>

#include "channel_int.h"

struct weft__broadcast_chan {
    weft__chan_mutex lock;  /* guards every field marked [lock] */
    uint64_t tail;          /* [lock] values sent so far */
    size_t senders;         /* [lock] live sender handles */
    size_t receivers;       /* [lock] live receiver handles */
    size_t refs;            /* [lock] senders + receivers */
    weft__list waiters;     /* [lock] pending weft_broadcast_recv, linked by `node` */
    size_t cap;             /* fixed: slots in the ring */
    size_t item_size;       /* fixed */
    weft_resource res;      /* fixed: identity for the tools */
    alignas(max_align_t) unsigned char ring[]; /* [lock] cap slots of item_size bytes */
};

static void unref_unlock(weft__broadcast_chan *c)
{
    bool last = --c->refs == 0;
    weft__chan_unlock(&c->lock);
    if (last) {
        weft__resource_drop(&c->res);
        free(c);
    }
}

/* Wake every waiting recv, lock held; returns with it released (see wake.c). */
static void wake_waiters_unlock(weft__broadcast_chan *c)
{
    weft__chan_wake_all_unlock(&c->lock, &c->waiters,
                               WEFT__WAKER_OFFSET(weft_broadcast_recv, node, waker));
}

/* For a reader that attaches late: the handle counts, and the number of values kept as the
 * channel_send it would have seen last (a re-report, not a send). */
static void snapshot(const weft_resource *r)
{
    weft__broadcast_chan *c = weft__container_of(r, weft__broadcast_chan, res);
    weft__chan_lock(&c->lock);
    weft__resource_event(channel_refs, &c->res, c->senders, c->receivers);
    weft__resource_event(channel_send, &c->res, c->tail < c->cap ? c->tail : c->cap);
    weft__chan_unlock(&c->lock);
    (void)c; /* read only by the hooks, which compile to nothing without instrumentation */
}

int weft__broadcast_channel(weft_broadcast_sender *tx, weft_broadcast_receiver *rx,
                            size_t capacity, size_t item_size, const char *name,
                            weft_location where)
{
    if (tx)
        tx->chan = NULL;
    if (rx) {
        rx->chan = NULL;
        rx->next = 0;
    }
    size_t ring;
    if (!tx || !rx || capacity == 0 || !weft__size_mul(capacity, item_size, &ring) ||
        ring > SIZE_MAX - sizeof(weft__broadcast_chan))
        return WEFT_EINVAL;
    weft__broadcast_chan *c = malloc(sizeof *c + ring);
    if (!c)
        return WEFT_ENOMEM;
    weft__chan_lock_init(&c->lock);
    c->tail = 0;
    c->senders = 1;
    c->receivers = 1;
    c->refs = 2;
    weft__list_init(&c->waiters);
    c->cap = capacity;
    c->item_size = item_size;
    weft__resource_init_cap(&c->res, WEFT_RESOURCE_BROADCAST, name, where, capacity);
    c->res.snapshot = snapshot;
    tx->chan = c;
    rx->chan = c;
    rx->next = 0;
    return 0;
}

/* ---------------------------------------------------------------- senders */

int weft_broadcast_send(const weft_broadcast_sender *tx, const void *item)
{
    weft__broadcast_chan *c = tx ? tx->chan : NULL;
    if (!c || (!item && c->item_size))
        return WEFT_EINVAL;
    weft__chan_lock(&c->lock);
    if (c->receivers == 0) {
        weft__chan_unlock(&c->lock);
        return WEFT_ECLOSED;
    }
    weft__item_copy(c->ring + (size_t)(c->tail % c->cap) * c->item_size, item, c->item_size);
    c->tail++;
    size_t n = c->receivers;
    weft__resource_event(channel_send, &c->res, c->tail < c->cap ? c->tail : c->cap);
    wake_waiters_unlock(c);
    return n > INT32_MAX ? INT32_MAX : (int)n;
}

int weft_broadcast_sender_clone(const weft_broadcast_sender *tx, weft_broadcast_sender *out)
{
    weft__broadcast_chan *c = tx ? tx->chan : NULL;
    if (out)
        out->chan = NULL;
    if (!c || !out)
        return WEFT_EINVAL;
    weft__chan_lock(&c->lock);
    c->senders++;
    c->refs++;
    weft__resource_event(channel_refs, &c->res, c->senders, c->receivers);
    weft__chan_unlock(&c->lock);
    out->chan = c;
    return 0;
}

void weft_broadcast_sender_drop(weft_broadcast_sender *tx)
{
    weft__broadcast_chan *c = tx ? tx->chan : NULL;
    if (!c)
        return;
    tx->chan = NULL;
    weft__chan_lock(&c->lock);
    c->senders--;
    weft__resource_event(channel_refs, &c->res, c->senders, c->receivers);
    if (c->senders == 0) {
        weft__resource_event(channel_close, &c->res, WEFT_CLOSE_SENDERS);
        /* Waiting receivers may now see CLOSED. Our reference keeps the channel alive while
         * the wake loop drops and retakes the lock. */
        wake_waiters_unlock(c);
        weft__chan_lock(&c->lock);
    }
    unref_unlock(c);
}

/* Attach a new receiver at the current tail, lock not held. */
static int subscribe(weft__broadcast_chan *c, weft_broadcast_receiver *out)
{
    weft__chan_lock(&c->lock);
    c->receivers++;
    c->refs++;
    out->next = c->tail;
    weft__resource_event(channel_refs, &c->res, c->senders, c->receivers);
    weft__chan_unlock(&c->lock);
    out->chan = c;
    return 0;
}

int weft_broadcast_subscribe(const weft_broadcast_sender *tx, weft_broadcast_receiver *out)
{
    weft__broadcast_chan *c = tx ? tx->chan : NULL;
    if (out)
        out->chan = NULL;
    if (!c || !out)
        return WEFT_EINVAL;
    return subscribe(c, out);
}

size_t weft_broadcast_receiver_count(const weft_broadcast_sender *tx)
{
    weft__broadcast_chan *c = tx ? tx->chan : NULL;
    if (!c)
        return 0;
    weft__chan_lock(&c->lock);
    size_t n = c->receivers;
    weft__chan_unlock(&c->lock);
    return n;
}

/* ---------------------------------------------------------------- receivers */

static uint64_t oldest(const weft__broadcast_chan *c)
{
    return c->tail > c->cap ? c->tail - c->cap : 0;
}

/* One receive attempt, lock held: 0, WEFT_ELAGGED (*lagged set), WEFT_ECLOSED or
 * WEFT_EEMPTY. */
static int try_recv_locked(weft__broadcast_chan *c, weft_broadcast_receiver *rx, void *out,
                           uint64_t *lagged)
{
    uint64_t first = oldest(c);
    if (rx->next < first) {
        *lagged = first - rx->next;
        rx->next = first;
        weft__resource_event(resource_state, &c->res, *lagged, WEFT_ATTR_LAGGED);
        return WEFT_ELAGGED;
    }
    if (rx->next < c->tail) {
        weft__item_copy_out(out, c->ring + (size_t)(rx->next % c->cap) * c->item_size,
                            c->item_size);
        rx->next++;
        weft__resource_event(channel_recv, &c->res, c->tail - rx->next);
        return 0;
    }
    return c->senders == 0 ? WEFT_ECLOSED : WEFT_EEMPTY;
}

static weft_poll recv_poll(weft_future *fut, weft_context *cx)
{
    weft_broadcast_recv *f = (weft_broadcast_recv *)fut;
    weft__broadcast_chan *c = f->rx ? f->rx->chan : NULL;
    if (!c)
        return WEFT_READY; /* completed before, or made from a dropped handle */
    if (!weft_coop_proceed(cx))
        return WEFT_PENDING;
    weft_waker old = WEFT_WAKER_NONE;
    weft__chan_lock(&c->lock);
    int rc = try_recv_locked(c, f->rx, f->out, &f->lagged);
    if (rc == WEFT_EEMPTY) {
        if (!weft__list_linked(&f->node))
            weft__list_push_back(&c->waiters, &f->node);
        weft_waker_register(&f->waker, cx);
        weft__chan_unlock(&c->lock);
        if (!f->waiting) {
            f->waiting = true;
            weft__resource_wait(&c->res, WEFT_OP_RECV, f->where);
        }
        return WEFT_PENDING;
    }
    /* Done: leave the waiter list if still in it (polled for another reason than a send). */
    weft__list_remove(&f->node);
    old = f->waker;
    f->waker = WEFT_WAKER_NONE;
    weft__chan_unlock(&c->lock);
    weft_waker_drop(&old);
    if (f->waiting)
        weft__resource_wait_done(&c->res, WEFT_OP_RECV);
    f->waiting = false;
    f->status = rc;
    f->rx = NULL;
    return WEFT_READY;
}

static void recv_drop(weft_future *fut)
{
    weft_broadcast_recv *f = (weft_broadcast_recv *)fut;
    weft__broadcast_chan *c = f->rx ? f->rx->chan : NULL;
    if (c && f->waiting) {
        weft__chan_lock(&c->lock);
        weft__list_remove(&f->node);
        weft_waker old = f->waker;
        f->waker = WEFT_WAKER_NONE;
        weft__chan_unlock(&c->lock);
        weft_waker_drop(&old);
        weft__resource_wait_done(&c->res, WEFT_OP_RECV);
    }
    f->waiting = false;
    f->rx = NULL;
}

static const weft_future_vtable recv_vt = {
    .poll = recv_poll,
    .drop = recv_drop,
    .name = "broadcast_recv",
};

void weft__broadcast_recv_setup(weft_broadcast_recv *f, weft_broadcast_receiver *rx, void *out)
{
    f->base.vt = &recv_vt;
    f->rx = rx && rx->chan ? rx : NULL;
    f->out = out;
    weft__list_init(&f->node);
    f->waker = WEFT_WAKER_NONE;
    f->lagged = 0;
    f->status = f->rx ? 0 : WEFT_EINVAL;
    f->waiting = false;
}

int weft_broadcast_try_recv(weft_broadcast_receiver *rx, void *out, uint64_t *lagged)
{
    weft__broadcast_chan *c = rx ? rx->chan : NULL;
    if (!c)
        return WEFT_EINVAL;
    uint64_t n = 0;
    weft__chan_lock(&c->lock);
    int rc = try_recv_locked(c, rx, out, &n);
    weft__chan_unlock(&c->lock);
    if (lagged)
        *lagged = n;
    return rc;
}

int weft_broadcast_receiver_resubscribe(const weft_broadcast_receiver *rx,
                                        weft_broadcast_receiver *out)
{
    weft__broadcast_chan *c = rx ? rx->chan : NULL;
    if (out) {
        out->chan = NULL;
        out->next = 0;
    }
    if (!c || !out)
        return WEFT_EINVAL;
    return subscribe(c, out);
}

size_t weft_broadcast_receiver_len(const weft_broadcast_receiver *rx)
{
    weft__broadcast_chan *c = rx ? rx->chan : NULL;
    if (!c)
        return 0;
    weft__chan_lock(&c->lock);
    uint64_t from = rx->next > oldest(c) ? rx->next : oldest(c);
    size_t n = (size_t)(c->tail - from);
    weft__chan_unlock(&c->lock);
    return n;
}

void weft_broadcast_receiver_drop(weft_broadcast_receiver *rx)
{
    weft__broadcast_chan *c = rx ? rx->chan : NULL;
    if (!c)
        return;
    rx->chan = NULL;
    weft__chan_lock(&c->lock);
    c->receivers--;
    weft__resource_event(channel_refs, &c->res, c->senders, c->receivers);
    unref_unlock(c);
}
