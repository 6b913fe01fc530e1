/* runtime/channel/mpsc.c - bounded and unbounded multi-producer, single-consumer channels.
 *
 * Who calls it: programs, through weft/mpsc.h (handles, the send / reserve / closed / recv
 * futures, and the synchronous try_ functions), from tasks or plain threads.
 *
 * One heap object per channel, guarded by one lock (channel_int.h). The item ring follows
 * the header in the same allocation for a bounded channel, and is a separate, growing
 * allocation for an unbounded one:
 *
 *   +------------- weft__mpsc_chan -------------+------ ring (bounded only) ------------+
 *   | lock | head len reserved | waiters | ...  | item 0 | item 1 | ... | item cap - 1 |
 *   +-------------------------------------------+---------------------------------------+
 *
 * Invariants (all under the lock):
 *   - Room: len + reserved <= bound for a bounded channel. `reserved` counts permits handed
 *     out (try_reserve, reserve) plus room granted to a queued send or reserve that has not
 *     been polled since. For an unbounded channel, slots >= len + reserved, so a permit's room
 *     is always there when it is used.
 *   - Fairness: a waiter is queued only when there was no room or others were queued, and
 *     room that appears is granted to the oldest waiter at once (by whoever made it: a recv, a
 *     released permit, a dropped granted waiter). Hence "send_waiters not empty" implies "no
 *     room", and a newcomer can never overtake a waiting sender.
 *   - Closed and drained, the condition for recv's WEFT_ECLOSED: (senders == 0 || rx_closed)
 *     && len == 0 && reserved == 0.
 *   - Lifetime: refs = live handles + live permits; the object is freed by whoever drops refs
 *     to 0, after unlocking (nobody else can reach it then). Futures borrow handles, so they
 *     hold no reference.
 *
 * Waiter states (weft_mpsc_waiter.state, changed under the lock; see channel_int.h for why the
 * waker is moved out before anyone wakes it):
 *
 *     IDLE --first poll, no room--> QUEUED --room appeared (granter)--> GRANTED --poll--> DONE
 *       |                             |  +--receiver closed (closer)---> CLOSED --poll---> DONE
 *       +--first poll: room or closed-+---------------drop----------------------------> DONE
 *
 * A future that completed sets its `chan` to NULL; polling it again is READY with the same
 * status, and dropping it does nothing.
 */
#include <stdlib.h>

#include <weft/mpsc.h>

#include "channel_int.h"

enum { W_IDLE = 0, W_QUEUED, W_GRANTED, W_CLOSED, W_DONE };

/* First ring size of an unbounded channel, in items. */
#define UNBOUNDED_FIRST_SLOTS 32

struct weft__mpsc_chan {
    weft__chan_mutex lock;      /* guards every field marked [lock] */
    unsigned char *buf;         /* [lock] the ring: `slots` items of item_size bytes */
    size_t slots;               /* [lock] ring size in items (bounded: == bound; grows if not) */
    size_t head;                /* [lock] index of the oldest buffered item */
    size_t len;                 /* [lock] items buffered */
    size_t reserved;            /* [lock] room held by permits and by granted waiters */
    size_t senders;             /* [lock] live sender handles */
    size_t refs;                /* [lock] live handles + live permits */
    bool rx_closed;             /* [lock] receiver closed or dropped: sends fail */
    bool rx_dropped;            /* [lock] receiver dropped: items sent through permits vanish */
    weft_waker rx_waker;        /* [lock] the pending recv's waker; taken by whoever wakes it */
    weft__list send_waiters;    /* [lock] queued send / reserve futures, oldest first */
    weft__list closed_waiters;  /* [lock] queued closed() futures */
    size_t bound;               /* fixed: capacity, 0 for an unbounded channel */
    size_t item_size;           /* fixed */
    weft_resource res;          /* fixed: identity for the tools */
    alignas(max_align_t) unsigned char storage[]; /* bounded: the ring */
};

/* ---------------------------------------------------------------- the ring (under the lock) */

static int grow(weft__mpsc_chan *c)
{
    if (c->item_size == 0) {
        c->slots = SIZE_MAX; /* signals only: nothing to store */
        return 0;
    }
    size_t slots = c->slots ? c->slots * 2 : UNBOUNDED_FIRST_SLOTS;
    size_t bytes;
    if (slots < c->slots || !weft__size_mul(slots, c->item_size, &bytes))
        return WEFT_ENOMEM;
    unsigned char *buf = malloc(bytes);
    if (!buf)
        return WEFT_ENOMEM;
    /* Unwrap the old ring into the new one, oldest first. */
    size_t first = c->slots - c->head < c->len ? c->slots - c->head : c->len;
    if (c->len) {
        memcpy(buf, c->buf + c->head * c->item_size, first * c->item_size);
        memcpy(buf + first * c->item_size, c->buf, (c->len - first) * c->item_size);
    }
    free(c->buf);
    c->buf = buf;
    c->slots = slots;
    c->head = 0;
    return 0;
}

/* Is there room for one more item (buffered or reserved)? Grows an unbounded ring if needed:
 * 0, WEFT_EFULL (bounded) or WEFT_ENOMEM (unbounded). */
static inline int make_room(weft__mpsc_chan *c)
{
    if (c->bound)
        return c->len + c->reserved < c->bound ? 0 : WEFT_EFULL;
    if (c->len + c->reserved < c->slots)
        return 0;
    return grow(c);
}

/* Append an item; the caller made sure there is room. */
static inline void push(weft__mpsc_chan *c, const void *item)
{
    size_t tail = c->head + c->len;
    if (tail >= c->slots)
        tail -= c->slots;
    weft__item_copy(c->buf + tail * c->item_size, item, c->item_size);
    c->len++;
}

static inline void pop(weft__mpsc_chan *c, void *out)
{
    weft__item_copy_out(out, c->buf + c->head * c->item_size, c->item_size);
    if (++c->head == c->slots)
        c->head = 0;
    c->len--;
}

static inline bool closed_and_drained(const weft__mpsc_chan *c)
{
    return (c->senders == 0 || c->rx_closed) && c->len == 0 && c->reserved == 0;
}

static inline size_t available(const weft__mpsc_chan *c)
{
    return c->bound ? c->bound - c->len - c->reserved : SIZE_MAX;
}

/* Room was just freed: hand it to the oldest waiting sender, if any. At most one slot is
 * freed per call site, so at most one waiter is granted; its waker goes to *wake. */
static inline void grant_one(weft__mpsc_chan *c, weft_waker *wake)
{
    if (!c->bound || c->len + c->reserved >= c->bound)
        return;
    weft__list *n = weft__list_pop_front(&c->send_waiters);
    if (!n)
        return;
    weft_mpsc_waiter *w = weft__container_of(n, weft_mpsc_waiter, node);
    w->state = W_GRANTED;
    c->reserved++;
    *wake = w->waker;
    w->waker = WEFT_WAKER_NONE;
    weft__resource_event(permit_acquire, &c->res, (uint64_t)0, 1, available(c));
}

/* Take the receiver's waker if it waits (nobody is woken when nobody waits). */
static inline void take_rx_waker(weft__mpsc_chan *c, weft_waker *wake)
{
    *wake = c->rx_waker;
    c->rx_waker = WEFT_WAKER_NONE;
}

static void destroy(weft__mpsc_chan *c)
{
    weft__resource_drop(&c->res);
    if (!c->bound)
        free(c->buf);
    free(c);
}

/* Drop one reference with the lock held; unlocks. Frees the channel if it was the last. */
static void unref_unlock(weft__mpsc_chan *c)
{
    bool last = --c->refs == 0;
    weft__chan_unlock(&c->lock);
    if (last)
        destroy(c);
}

/* ---------------------------------------------------------------- creating */

/* For a reader that attaches late: the handle counts, and the length as the channel_send it
 * would have seen last (a re-report, not a send). */
static void snapshot(const weft_resource *r)
{
    weft__mpsc_chan *c = weft__container_of(r, weft__mpsc_chan, res);
    weft__chan_lock(&c->lock);
    weft__resource_event(channel_refs, &c->res, c->senders, c->rx_dropped ? 0 : 1);
    weft__resource_event(channel_send, &c->res, c->len);
    weft__chan_unlock(&c->lock);
    (void)c; /* read only by the hooks, which compile to nothing without instrumentation */
}

int weft__mpsc_channel(weft_mpsc_sender *tx, weft_mpsc_receiver *rx, size_t capacity,
                       size_t item_size, bool unbounded, const char *name,
                       weft_location where)
{
    if (tx)
        tx->chan = NULL;
    if (rx)
        rx->chan = NULL;
    if (!tx || !rx || item_size > WEFT_MPSC_ITEM_MAX || (!unbounded && capacity == 0))
        return WEFT_EINVAL;
    size_t ring = 0, total;
    if (!unbounded && !weft__size_mul(capacity, item_size, &ring))
        return WEFT_EINVAL;
    if (ring > SIZE_MAX - sizeof(weft__mpsc_chan))
        return WEFT_EINVAL;
    total = sizeof(weft__mpsc_chan) + ring;
    weft__mpsc_chan *c = malloc(total);
    if (!c)
        return WEFT_ENOMEM;
    weft__chan_lock_init(&c->lock);
    c->bound = unbounded ? 0 : capacity;
    c->item_size = item_size;
    c->buf = unbounded ? NULL : c->storage;
    c->slots = unbounded ? 0 : capacity;
    c->head = c->len = c->reserved = 0;
    c->senders = 1;
    c->refs = 2;
    c->rx_closed = c->rx_dropped = false;
    c->rx_waker = WEFT_WAKER_NONE;
    weft__list_init(&c->send_waiters);
    weft__list_init(&c->closed_waiters);
    weft__resource_init_cap(&c->res, WEFT_RESOURCE_MPSC, name, where, c->bound);
    c->res.snapshot = snapshot;
    tx->chan = c;
    rx->chan = c;
    return 0;
}

/* ---------------------------------------------------------------- senders */

int weft_mpsc_sender_clone(const weft_mpsc_sender *tx, weft_mpsc_sender *out)
{
    weft__mpsc_chan *c = tx ? tx->chan : NULL;
    if (out)
        out->chan = NULL;
    if (!c || !out)
        return WEFT_EINVAL;
    weft__chan_lock(&c->lock);
    c->senders++;
    c->refs++;
    weft__resource_event(channel_refs, &c->res, c->senders, c->rx_dropped ? 0 : 1);
    weft__chan_unlock(&c->lock);
    out->chan = c;
    return 0;
}

void weft_mpsc_sender_drop(weft_mpsc_sender *tx)
{
    weft__mpsc_chan *c = tx ? tx->chan : NULL;
    if (!c)
        return;
    tx->chan = NULL;
    weft_waker wake = WEFT_WAKER_NONE;
    weft__chan_lock(&c->lock);
    c->senders--;
    weft__resource_event(channel_refs, &c->res, c->senders, c->rx_dropped ? 0 : 1);
    if (c->senders == 0) {
        weft__resource_event(channel_close, &c->res, WEFT_CLOSE_SENDERS);
        take_rx_waker(c, &wake); /* it may now be closed and drained */
    }
    unref_unlock(c);
    weft_waker_wake(&wake);
}

int weft_mpsc_try_send(const weft_mpsc_sender *tx, const void *item)
{
    weft__mpsc_chan *c = tx ? tx->chan : NULL;
    if (!c || (!item && c->item_size))
        return WEFT_EINVAL;
    weft_waker wake = WEFT_WAKER_NONE;
    weft__chan_lock(&c->lock);
    int rc = WEFT_ECLOSED;
    if (!c->rx_closed) {
        rc = weft__list_empty(&c->send_waiters) ? make_room(c) : WEFT_EFULL;
        if (rc == 0) {
            push(c, item);
            weft__resource_event(channel_send, &c->res, c->len);
            take_rx_waker(c, &wake);
        }
    }
    weft__chan_unlock(&c->lock);
    weft_waker_wake(&wake);
    return rc;
}

int weft_mpsc_unbounded_send(const weft_mpsc_sender *tx, const void *item)
{
    return weft_mpsc_try_send(tx, item);
}

int weft_mpsc_try_reserve(const weft_mpsc_sender *tx, weft_mpsc_permit *out)
{
    weft__mpsc_chan *c = tx ? tx->chan : NULL;
    if (out)
        out->chan = NULL;
    if (!c || !out)
        return WEFT_EINVAL;
    weft__chan_lock(&c->lock);
    int rc = WEFT_ECLOSED;
    if (!c->rx_closed) {
        rc = weft__list_empty(&c->send_waiters) ? make_room(c) : WEFT_EFULL;
        if (rc == 0) {
            c->reserved++;
            c->refs++;
            weft__resource_event(permit_acquire, &c->res, weft__resource_current_task(), 1,
                                 available(c));
            out->chan = c;
        }
    }
    weft__chan_unlock(&c->lock);
    return rc;
}

/* Give back one reserved slot with the lock held: pass it on, and wake a receiver that may now
 * see the channel closed and drained. */
static void unreserve(weft__mpsc_chan *c, weft_waker *grant, weft_waker *rx)
{
    c->reserved--;
    weft__resource_event(permit_release, &c->res, weft__resource_current_task(), 1, available(c));
    grant_one(c, grant);
    if (closed_and_drained(c))
        take_rx_waker(c, rx);
}

void weft_mpsc_permit_send(weft_mpsc_permit *p, const void *item)
{
    weft__mpsc_chan *c = p ? p->chan : NULL;
    if (!c)
        return;
    if (!item && c->item_size) {
        weft_mpsc_permit_release(p); /* nothing to send: give the room back */
        return;
    }
    p->chan = NULL;
    weft_waker wake = WEFT_WAKER_NONE;
    weft__chan_lock(&c->lock);
    c->reserved--;
    if (!c->rx_dropped) {
        push(c, item); /* the reservation guarantees the room */
        weft__resource_event(channel_send, &c->res, c->len);
        take_rx_waker(c, &wake);
    }
    unref_unlock(c);
    weft_waker_wake(&wake);
}

void weft_mpsc_permit_release(weft_mpsc_permit *p)
{
    weft__mpsc_chan *c = p ? p->chan : NULL;
    if (!c)
        return;
    p->chan = NULL;
    weft_waker grant = WEFT_WAKER_NONE, rx = WEFT_WAKER_NONE;
    weft__chan_lock(&c->lock);
    unreserve(c, &grant, &rx);
    unref_unlock(c);
    weft_waker_wake(&grant);
    weft_waker_wake(&rx);
}

bool weft_mpsc_sender_is_closed(const weft_mpsc_sender *tx)
{
    weft__mpsc_chan *c = tx ? tx->chan : NULL;
    if (!c)
        return true;
    weft__chan_lock(&c->lock);
    bool closed = c->rx_closed;
    weft__chan_unlock(&c->lock);
    return closed;
}

size_t weft_mpsc_sender_capacity(const weft_mpsc_sender *tx)
{
    weft__mpsc_chan *c = tx ? tx->chan : NULL;
    if (!c)
        return 0;
    weft__chan_lock(&c->lock);
    size_t n = available(c);
    weft__chan_unlock(&c->lock);
    return n;
}

size_t weft_mpsc_sender_max_capacity(const weft_mpsc_sender *tx)
{
    weft__mpsc_chan *c = tx ? tx->chan : NULL;
    if (!c)
        return 0;
    return c->bound ? c->bound : SIZE_MAX; /* fixed at creation */
}

static size_t sender_count(weft__mpsc_chan *c)
{
    if (!c)
        return 0;
    weft__chan_lock(&c->lock);
    size_t n = c->senders;
    weft__chan_unlock(&c->lock);
    return n;
}

size_t weft_mpsc_sender_count(const weft_mpsc_sender *tx)
{
    return sender_count(tx ? tx->chan : NULL);
}

bool weft_mpsc_sender_same_channel(const weft_mpsc_sender *a, const weft_mpsc_sender *b)
{
    return a && b && a->chan && a->chan == b->chan;
}

/* ---------------------------------------------------------------- send and reserve futures
 *
 * Both wait in the same queue; they differ only in what they do with the room they obtain:
 * send fills it with its item, reserve hands it to the caller as a permit. */

typedef enum { WANT_SEND, WANT_PERMIT } want_kind;

/* Use room obtained for a send or reserve, lock held: reserve keeps it as a permit, send
 * fills it. `granted` says the room is already counted in `reserved`. */
static void use_room(weft__mpsc_chan *c, want_kind kind, bool granted, const void *item,
                     weft_mpsc_permit *permit, weft_waker *wake)
{
    if (kind == WANT_PERMIT) {
        if (!granted) {
            c->reserved++;
            weft__resource_event(permit_acquire, &c->res, weft__resource_current_task(), 1,
                                 available(c));
        }
        c->refs++;
        permit->chan = c;
        return;
    }
    if (granted)
        c->reserved--;
    if (c->rx_dropped)
        return; /* granted before the receiver went away: the item has nowhere to go */
    push(c, item);
    weft__resource_event(channel_send, &c->res, c->len);
    take_rx_waker(c, wake);
}

/* The poll shared by send and reserve. On READY sets *status (and the permit). `where` is
 * passed by address: it is only read when tracing. */
static weft_poll sender_poll(weft__mpsc_chan *c, weft_mpsc_waiter *w, const weft_location *where,
                             want_kind kind, const void *item, weft_mpsc_permit *permit,
                             int *status, weft_context *cx)
{
    if (!weft_coop_proceed(cx))
        return WEFT_PENDING; /* the budget woke the task; the state is untouched */
    weft_waker wake = WEFT_WAKER_NONE;
    weft__chan_lock(&c->lock);
    bool waited = w->state != W_IDLE;
    switch (w->state) {
    case W_IDLE:
        if (c->rx_closed) {
            *status = WEFT_ECLOSED;
            break;
        }
        *status = weft__list_empty(&c->send_waiters) ? make_room(c) : WEFT_EFULL;
        if (*status == 0) {
            use_room(c, kind, false, item, permit, &wake);
            break;
        }
        if (*status != WEFT_EFULL)
            break; /* WEFT_ENOMEM from an unbounded ring */
        weft__list_push_back(&c->send_waiters, &w->node);
        w->waker = weft_waker_clone(cx->waker);
        w->state = W_QUEUED;
        weft__chan_unlock(&c->lock);
        weft__resource_wait(&c->res, WEFT_OP_SEND, *where);
        return WEFT_PENDING;
    case W_QUEUED:
        weft_waker_register(&w->waker, cx);
        weft__chan_unlock(&c->lock);
        return WEFT_PENDING;
    case W_GRANTED:
        use_room(c, kind, true, item, permit, &wake);
        *status = 0;
        break;
    case W_CLOSED:
    default:
        *status = WEFT_ECLOSED;
        break;
    }
    w->state = W_DONE;
    weft__chan_unlock(&c->lock);
    if (waited)
        weft__resource_wait_done(&c->res, WEFT_OP_SEND);
    weft_waker_wake(&wake);
    return WEFT_READY;
}

/* Cancellation shared by send and reserve: leave the queue, or pass granted room on. */
static void sender_drop(weft__mpsc_chan *c, weft_mpsc_waiter *w)
{
    weft_waker old = WEFT_WAKER_NONE, grant = WEFT_WAKER_NONE, rx = WEFT_WAKER_NONE;
    weft__chan_lock(&c->lock);
    unsigned char state = w->state;
    if (state == W_QUEUED) {
        weft__list_remove(&w->node);
        old = w->waker;
        w->waker = WEFT_WAKER_NONE;
    } else if (state == W_GRANTED) {
        unreserve(c, &grant, &rx);
    }
    w->state = W_DONE;
    weft__chan_unlock(&c->lock);
    if (state != W_IDLE)
        weft__resource_wait_done(&c->res, WEFT_OP_SEND);
    weft_waker_drop(&old);
    weft_waker_wake(&grant);
    weft_waker_wake(&rx);
}

static void waiter_init(weft_mpsc_waiter *w)
{
    weft__list_init(&w->node);
    w->waker = WEFT_WAKER_NONE;
    w->state = W_IDLE;
}

static weft_poll send_poll(weft_future *fut, weft_context *cx)
{
    weft_mpsc_send *f = (weft_mpsc_send *)fut;
    if (!f->chan)
        return WEFT_READY; /* completed before, or made from a dropped handle */
    weft_poll r = sender_poll(f->chan, &f->wait, &f->where, WANT_SEND, f->item, NULL,
                              &f->status, cx);
    if (r == WEFT_READY)
        f->chan = NULL;
    return r;
}

static void send_drop(weft_future *fut)
{
    weft_mpsc_send *f = (weft_mpsc_send *)fut;
    if (f->chan)
        sender_drop(f->chan, &f->wait);
    f->chan = NULL;
}

static const weft_future_vtable send_vt = {
    .poll = send_poll,
    .drop = send_drop,
    .name = "mpsc_send",
};

void weft__mpsc_send_setup(weft_mpsc_send *f, const weft_mpsc_sender *tx, const void *item)
{
    f->base.vt = &send_vt;
    f->chan = tx ? tx->chan : NULL;
    waiter_init(&f->wait);
    f->status = f->chan ? 0 : WEFT_EINVAL;
    if (f->chan && !item && f->chan->item_size) {
        f->chan = NULL;
        f->status = WEFT_EINVAL;
    }
    if (f->chan)
        weft__item_copy(f->item, item, f->chan->item_size);
}

static weft_poll reserve_poll(weft_future *fut, weft_context *cx)
{
    weft_mpsc_reserve *f = (weft_mpsc_reserve *)fut;
    if (!f->chan)
        return WEFT_READY;
    weft_poll r = sender_poll(f->chan, &f->wait, &f->where, WANT_PERMIT, NULL, &f->permit,
                              &f->status, cx);
    if (r == WEFT_READY)
        f->chan = NULL;
    return r;
}

static void reserve_drop(weft_future *fut)
{
    weft_mpsc_reserve *f = (weft_mpsc_reserve *)fut;
    if (f->chan)
        sender_drop(f->chan, &f->wait);
    f->chan = NULL;
}

static const weft_future_vtable reserve_vt = {
    .poll = reserve_poll,
    .drop = reserve_drop,
    .name = "mpsc_reserve",
};

void weft__mpsc_reserve_setup(weft_mpsc_reserve *f, const weft_mpsc_sender *tx)
{
    f->base.vt = &reserve_vt;
    f->chan = tx ? tx->chan : NULL;
    waiter_init(&f->wait);
    f->status = f->chan ? 0 : WEFT_EINVAL;
    f->permit.chan = NULL;
}

/* ---------------------------------------------------------------- closed() */

static weft_poll closed_poll(weft_future *fut, weft_context *cx)
{
    weft_mpsc_closed *f = (weft_mpsc_closed *)fut;
    weft__mpsc_chan *c = f->chan;
    if (!c)
        return WEFT_READY;
    if (!weft_coop_proceed(cx))
        return WEFT_PENDING;
    weft__chan_lock(&c->lock);
    unsigned char state = f->wait.state;
    if (!c->rx_closed) {
        if (state == W_IDLE) {
            weft__list_push_back(&c->closed_waiters, &f->wait.node);
            f->wait.waker = weft_waker_clone(cx->waker);
            f->wait.state = W_QUEUED;
        } else {
            weft_waker_register(&f->wait.waker, cx);
        }
        weft__chan_unlock(&c->lock);
        if (state == W_IDLE)
            weft__resource_wait(&c->res, WEFT_OP_CLOSED, f->where);
        return WEFT_PENDING;
    }
    /* Closed: the closer unlinked us (and took the waker) if we were queued. */
    f->wait.state = W_DONE;
    weft__chan_unlock(&c->lock);
    if (state != W_IDLE)
        weft__resource_wait_done(&c->res, WEFT_OP_CLOSED);
    f->status = 0;
    f->chan = NULL;
    return WEFT_READY;
}

static void closed_drop(weft_future *fut)
{
    weft_mpsc_closed *f = (weft_mpsc_closed *)fut;
    weft__mpsc_chan *c = f->chan;
    if (!c)
        return;
    weft_waker old = WEFT_WAKER_NONE;
    weft__chan_lock(&c->lock);
    unsigned char state = f->wait.state;
    if (state == W_QUEUED) {
        weft__list_remove(&f->wait.node);
        old = f->wait.waker;
        f->wait.waker = WEFT_WAKER_NONE;
    }
    f->wait.state = W_DONE;
    weft__chan_unlock(&c->lock);
    if (state != W_IDLE)
        weft__resource_wait_done(&c->res, WEFT_OP_CLOSED);
    weft_waker_drop(&old);
    f->chan = NULL;
}

static const weft_future_vtable closed_vt = {
    .poll = closed_poll,
    .drop = closed_drop,
    .name = "mpsc_closed",
};

void weft__mpsc_closed_setup(weft_mpsc_closed *f, const weft_mpsc_sender *tx)
{
    f->base.vt = &closed_vt;
    f->chan = tx ? tx->chan : NULL;
    waiter_init(&f->wait);
    f->status = f->chan ? 0 : WEFT_EINVAL;
}

/* ---------------------------------------------------------------- the receiver */

static weft_poll recv_poll(weft_future *fut, weft_context *cx)
{
    weft_mpsc_recv *f = (weft_mpsc_recv *)fut;
    weft__mpsc_chan *c = f->chan;
    if (!c)
        return WEFT_READY;
    if (!weft_coop_proceed(cx))
        return WEFT_PENDING;
    weft_waker wake = WEFT_WAKER_NONE;
    weft__chan_lock(&c->lock);
    if (c->len) {
        pop(c, f->out);
        weft__resource_event(channel_recv, &c->res, c->len);
        grant_one(c, &wake);
        f->status = 0;
    } else if (closed_and_drained(c)) {
        f->status = WEFT_ECLOSED;
    } else {
        weft_waker_register(&c->rx_waker, cx);
        weft__chan_unlock(&c->lock);
        if (!f->waiting) {
            f->waiting = true;
            weft__resource_wait(&c->res, WEFT_OP_RECV, f->where);
        }
        return WEFT_PENDING;
    }
    weft__chan_unlock(&c->lock);
    weft_waker_wake(&wake);
    if (f->waiting)
        weft__resource_wait_done(&c->res, WEFT_OP_RECV);
    f->waiting = false;
    f->chan = NULL;
    return WEFT_READY;
}

static void recv_drop(weft_future *fut)
{
    weft_mpsc_recv *f = (weft_mpsc_recv *)fut;
    weft__mpsc_chan *c = f->chan;
    if (!c)
        return;
    if (f->waiting) {
        /* Unregister, so that no sender wakes a task that no longer waits here. */
        weft_waker old;
        weft__chan_lock(&c->lock);
        take_rx_waker(c, &old);
        weft__chan_unlock(&c->lock);
        weft_waker_drop(&old);
        weft__resource_wait_done(&c->res, WEFT_OP_RECV);
        f->waiting = false;
    }
    f->chan = NULL;
}

static const weft_future_vtable recv_vt = {
    .poll = recv_poll,
    .drop = recv_drop,
    .name = "mpsc_recv",
};

void weft__mpsc_recv_setup(weft_mpsc_recv *f, const weft_mpsc_receiver *rx, void *out)
{
    f->base.vt = &recv_vt;
    f->chan = rx ? rx->chan : NULL;
    f->out = out;
    f->status = f->chan ? 0 : WEFT_EINVAL;
    f->waiting = false;
}

int weft_mpsc_try_recv(const weft_mpsc_receiver *rx, void *out)
{
    weft__mpsc_chan *c = rx ? rx->chan : NULL;
    if (!c)
        return WEFT_EINVAL;
    weft_waker wake = WEFT_WAKER_NONE;
    int rc;
    weft__chan_lock(&c->lock);
    if (c->len) {
        pop(c, out);
        weft__resource_event(channel_recv, &c->res, c->len);
        grant_one(c, &wake);
        rc = 0;
    } else {
        rc = closed_and_drained(c) ? WEFT_ECLOSED : WEFT_EEMPTY;
    }
    weft__chan_unlock(&c->lock);
    weft_waker_wake(&wake);
    return rc;
}

/* Close from the receiving side, lock held; returns with it released. Every queued sender
 * and closed() future is unlinked and woken, in batches so that nothing is woken under the
 * lock. Nobody queues once rx_closed is set, so the loop ends. */
static void close_unlock(weft__mpsc_chan *c)
{
    if (!c->rx_closed) {
        c->rx_closed = true;
        weft__resource_event(channel_close, &c->res, WEFT_CLOSE_RECEIVER);
    }
    for (;;) {
        weft__wake_list wl;
        weft__wake_list_init(&wl);
        weft__list *lists[2] = {&c->send_waiters, &c->closed_waiters};
        for (int i = 0; i < 2; i++) {
            weft__list *n;
            while (!weft__wake_list_full(&wl) && (n = weft__list_pop_front(lists[i]))) {
                weft_mpsc_waiter *w = weft__container_of(n, weft_mpsc_waiter, node);
                w->state = W_CLOSED;
                weft__wake_list_take(&wl, &w->waker);
            }
        }
        bool more = !weft__list_empty(&c->send_waiters) || !weft__list_empty(&c->closed_waiters);
        weft__chan_unlock(&c->lock);
        weft__wake_list_wake_all(&wl);
        if (!more)
            return;
        weft__chan_lock(&c->lock);
    }
}

void weft_mpsc_receiver_close(const weft_mpsc_receiver *rx)
{
    weft__mpsc_chan *c = rx ? rx->chan : NULL;
    if (!c)
        return;
    weft__chan_lock(&c->lock);
    close_unlock(c);
}

void weft_mpsc_receiver_drop(weft_mpsc_receiver *rx)
{
    weft__mpsc_chan *c = rx ? rx->chan : NULL;
    if (!c)
        return;
    rx->chan = NULL;
    weft__chan_lock(&c->lock);
    close_unlock(c);
    weft_waker old;
    weft__chan_lock(&c->lock);
    c->rx_dropped = true;
    weft__resource_event(channel_refs, &c->res, c->senders, 0);
    c->len = 0; /* buffered items are discarded */
    c->head = 0;
    if (!c->bound) {
        /* Nothing is pushed once the receiver is gone: give a grown ring back now rather
         * than when the last sender goes. */
        free(c->buf);
        c->buf = NULL;
        c->slots = 0;
    }
    take_rx_waker(c, &old);
    unref_unlock(c);
    weft_waker_drop(&old);
}

size_t weft_mpsc_receiver_len(const weft_mpsc_receiver *rx)
{
    weft__mpsc_chan *c = rx ? rx->chan : NULL;
    if (!c)
        return 0;
    weft__chan_lock(&c->lock);
    size_t n = c->len;
    weft__chan_unlock(&c->lock);
    return n;
}

bool weft_mpsc_receiver_is_closed(const weft_mpsc_receiver *rx)
{
    weft__mpsc_chan *c = rx ? rx->chan : NULL;
    if (!c)
        return true;
    weft__chan_lock(&c->lock);
    bool closed = c->rx_closed || c->senders == 0;
    weft__chan_unlock(&c->lock);
    return closed;
}

size_t weft_mpsc_receiver_sender_count(const weft_mpsc_receiver *rx)
{
    return sender_count(rx ? rx->chan : NULL);
}
