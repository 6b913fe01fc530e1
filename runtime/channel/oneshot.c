/* runtime/channel/oneshot.c - a channel for exactly one value.
 *
 * Who calls it: programs through weft/oneshot.h (request/reply patterns, "done" signals),
 * from tasks or plain threads.
 *
 * One allocation per channel: the shared state followed by room for the value. Everything is
 * guarded by the channel lock (channel_int.h); the value bytes are written once by send under
 * the lock and read once by the receive under the lock.
 *
 * State bits, each set once and never cleared:
 *
 *     VALUE      a value was stored by send
 *     TAKEN      the receiver copied it out (recv or try_recv)
 *     TX_DONE    the sender is gone: it sent, or it was dropped
 *     RX_CLOSED  the receiver closed or was dropped: send fails from now on
 *
 *   recv is READY with the value when VALUE && !TAKEN; with WEFT_ECLOSED when TX_DONE or
 *   RX_CLOSED (and no untaken value); otherwise it registers rx_waker. The sender's closed()
 *   is READY when RX_CLOSED; otherwise it registers tx_waker. Each waker is taken (moved out)
 *   by the side that makes the other ready, and woken after the unlock.
 *
 * Lifetime: refs counts the live handles (2, then 1, then 0); whoever drops it to 0 frees the
 * channel after unlocking.
 */
#include <stdlib.h>

#include <weft/oneshot.h>

#include "channel_int.h"

enum {
    ST_VALUE = 1u << 0,
    ST_TAKEN = 1u << 1,
    ST_TX_DONE = 1u << 2,
    ST_RX_CLOSED = 1u << 3,
};

struct weft__oneshot_chan {
    weft__chan_mutex lock;  /* guards every field marked [lock] */
    unsigned state;         /* [lock] ST_* bits */
    unsigned refs;          /* [lock] live handles */
    weft_waker rx_waker;    /* [lock] the pending recv's waker; taken by send or sender drop */
    weft_waker tx_waker;    /* [lock] the pending closed()'s waker; taken by close/drop of rx */
    size_t item_size;       /* fixed */
    weft_resource res;      /* fixed: identity for the tools */
    alignas(max_align_t) unsigned char value[]; /* [lock] written once by send */
};

static void take(weft_waker *from, weft_waker *to)
{
    *to = *from;
    *from = WEFT_WAKER_NONE;
}

/* Drop one handle's reference with the lock held; unlocks, and frees on the last. */
static void unref_unlock(weft__oneshot_chan *c)
{
    bool last = --c->refs == 0;
    weft__chan_unlock(&c->lock);
    if (last) {
        weft__resource_drop(&c->res);
        free(c);
    }
}

/* For a reader that attaches late: the handle counts, and a stored value as the channel_send
 * it would have seen (a re-report, not a send). */
static void snapshot(const weft_resource *r)
{
    weft__oneshot_chan *c = weft__container_of(r, weft__oneshot_chan, res);
    weft__chan_lock(&c->lock);
    weft__resource_event(channel_refs, &c->res, (c->state & ST_TX_DONE) ? 0 : 1,
                         (c->state & ST_RX_CLOSED) ? 0 : 1);
    if ((c->state & (ST_VALUE | ST_TAKEN)) == ST_VALUE)
        weft__resource_event(channel_send, &c->res, 1);
    weft__chan_unlock(&c->lock);
    (void)c; /* read only by the hooks, which compile to nothing without instrumentation */
}

int weft__oneshot_channel(weft_oneshot_sender *tx, weft_oneshot_receiver *rx,
                          size_t item_size, const char *name, weft_location where)
{
    if (tx)
        tx->chan = NULL;
    if (rx)
        rx->chan = NULL;
    if (!tx || !rx || item_size > SIZE_MAX - sizeof(weft__oneshot_chan))
        return WEFT_EINVAL;
    weft__oneshot_chan *c = malloc(sizeof *c + item_size);
    if (!c)
        return WEFT_ENOMEM;
    weft__chan_lock_init(&c->lock);
    c->state = 0;
    c->refs = 2;
    c->rx_waker = WEFT_WAKER_NONE;
    c->tx_waker = WEFT_WAKER_NONE;
    c->item_size = item_size;
    weft__resource_init_cap(&c->res, WEFT_RESOURCE_ONESHOT, name, where, 1);
    c->res.snapshot = snapshot;
    tx->chan = c;
    rx->chan = c;
    return 0;
}

/* ---------------------------------------------------------------- the sender */

int weft_oneshot_send(weft_oneshot_sender *tx, const void *item)
{
    weft__oneshot_chan *c = tx ? tx->chan : NULL;
    if (!c || (!item && c->item_size))
        return WEFT_EINVAL;
    tx->chan = NULL;
    weft_waker wake = WEFT_WAKER_NONE, closed = WEFT_WAKER_NONE;
    int rc = WEFT_ECLOSED;
    weft__chan_lock(&c->lock);
    if (!(c->state & ST_RX_CLOSED)) {
        weft__item_copy(c->value, item, c->item_size);
        c->state |= ST_VALUE;
        weft__resource_event(channel_send, &c->res, 1);
        rc = 0;
    }
    c->state |= ST_TX_DONE;
    weft__resource_event(channel_refs, &c->res, 0, (c->state & ST_RX_CLOSED) ? 0 : 1);
    take(&c->rx_waker, &wake);
    take(&c->tx_waker, &closed); /* a closed() left behind by a misuse: release it */
    unref_unlock(c);
    weft_waker_wake(&wake);
    weft_waker_drop(&closed);
    return rc;
}

void weft_oneshot_sender_drop(weft_oneshot_sender *tx)
{
    weft__oneshot_chan *c = tx ? tx->chan : NULL;
    if (!c)
        return;
    tx->chan = NULL;
    weft_waker wake = WEFT_WAKER_NONE, closed = WEFT_WAKER_NONE;
    weft__chan_lock(&c->lock);
    c->state |= ST_TX_DONE;
    weft__resource_event(channel_close, &c->res, WEFT_CLOSE_SENDERS);
    weft__resource_event(channel_refs, &c->res, 0, (c->state & ST_RX_CLOSED) ? 0 : 1);
    take(&c->rx_waker, &wake);
    take(&c->tx_waker, &closed);
    unref_unlock(c);
    weft_waker_wake(&wake);
    weft_waker_drop(&closed);
}

bool weft_oneshot_sender_is_closed(const weft_oneshot_sender *tx)
{
    weft__oneshot_chan *c = tx ? tx->chan : NULL;
    if (!c)
        return true;
    weft__chan_lock(&c->lock);
    bool closed = (c->state & ST_RX_CLOSED) != 0;
    weft__chan_unlock(&c->lock);
    return closed;
}

static weft_poll closed_poll(weft_future *fut, weft_context *cx)
{
    weft_oneshot_closed *f = (weft_oneshot_closed *)fut;
    weft__oneshot_chan *c = f->chan;
    if (!c)
        return WEFT_READY;
    if (!weft_coop_proceed(cx))
        return WEFT_PENDING;
    weft__chan_lock(&c->lock);
    if (!(c->state & ST_RX_CLOSED)) {
        weft_waker_register(&c->tx_waker, cx);
        weft__chan_unlock(&c->lock);
        if (!f->waiting) {
            f->waiting = true;
            weft__resource_wait(&c->res, WEFT_OP_CLOSED, f->where);
        }
        return WEFT_PENDING;
    }
    weft__chan_unlock(&c->lock);
    if (f->waiting)
        weft__resource_wait_done(&c->res, WEFT_OP_CLOSED);
    f->waiting = false;
    f->status = 0;
    f->chan = NULL;
    return WEFT_READY;
}

static void closed_drop(weft_future *fut)
{
    weft_oneshot_closed *f = (weft_oneshot_closed *)fut;
    weft__oneshot_chan *c = f->chan;
    if (c && f->waiting) {
        weft_waker old;
        weft__chan_lock(&c->lock);
        take(&c->tx_waker, &old);
        weft__chan_unlock(&c->lock);
        weft_waker_drop(&old);
        weft__resource_wait_done(&c->res, WEFT_OP_CLOSED);
    }
    f->waiting = false;
    f->chan = NULL;
}

static const weft_future_vtable closed_vt = {
    .poll = closed_poll,
    .drop = closed_drop,
    .name = "oneshot_closed",
};

void weft__oneshot_closed_setup(weft_oneshot_closed *f, const weft_oneshot_sender *tx)
{
    f->base.vt = &closed_vt;
    f->chan = tx ? tx->chan : NULL;
    f->status = f->chan ? 0 : WEFT_EINVAL;
    f->waiting = false;
}

/* ---------------------------------------------------------------- the receiver */

/* Try to take the value, lock held: 0, WEFT_EEMPTY or WEFT_ECLOSED. */
static int try_take(weft__oneshot_chan *c, void *out)
{
    if ((c->state & (ST_VALUE | ST_TAKEN)) == ST_VALUE) {
        weft__item_copy_out(out, c->value, c->item_size);
        c->state |= ST_TAKEN;
        weft__resource_event(channel_recv, &c->res, 0);
        return 0;
    }
    if (c->state & (ST_TX_DONE | ST_RX_CLOSED))
        return WEFT_ECLOSED;
    return WEFT_EEMPTY;
}

static weft_poll recv_poll(weft_future *fut, weft_context *cx)
{
    weft_oneshot_recv *f = (weft_oneshot_recv *)fut;
    weft__oneshot_chan *c = f->chan;
    if (!c)
        return WEFT_READY;
    if (!weft_coop_proceed(cx))
        return WEFT_PENDING;
    weft__chan_lock(&c->lock);
    int rc = try_take(c, f->out);
    if (rc == WEFT_EEMPTY) {
        weft_waker_register(&c->rx_waker, cx);
        weft__chan_unlock(&c->lock);
        if (!f->waiting) {
            f->waiting = true;
            weft__resource_wait(&c->res, WEFT_OP_RECV, f->where);
        }
        return WEFT_PENDING;
    }
    weft__chan_unlock(&c->lock);
    if (f->waiting)
        weft__resource_wait_done(&c->res, WEFT_OP_RECV);
    f->waiting = false;
    f->status = rc;
    f->chan = NULL;
    return WEFT_READY;
}

static void recv_drop(weft_future *fut)
{
    weft_oneshot_recv *f = (weft_oneshot_recv *)fut;
    weft__oneshot_chan *c = f->chan;
    if (c && f->waiting) {
        weft_waker old;
        weft__chan_lock(&c->lock);
        take(&c->rx_waker, &old);
        weft__chan_unlock(&c->lock);
        weft_waker_drop(&old);
        weft__resource_wait_done(&c->res, WEFT_OP_RECV);
    }
    f->waiting = false;
    f->chan = NULL;
}

static const weft_future_vtable recv_vt = {
    .poll = recv_poll,
    .drop = recv_drop,
    .name = "oneshot_recv",
};

void weft__oneshot_recv_setup(weft_oneshot_recv *f, const weft_oneshot_receiver *rx, void *out)
{
    f->base.vt = &recv_vt;
    f->chan = rx ? rx->chan : NULL;
    f->out = out;
    f->status = f->chan ? 0 : WEFT_EINVAL;
    f->waiting = false;
}

int weft_oneshot_try_recv(const weft_oneshot_receiver *rx, void *out)
{
    weft__oneshot_chan *c = rx ? rx->chan : NULL;
    if (!c)
        return WEFT_EINVAL;
    weft__chan_lock(&c->lock);
    int rc = try_take(c, out);
    weft__chan_unlock(&c->lock);
    return rc;
}

/* Set RX_CLOSED with the lock held and take the sender's closed() waker. */
static void close_locked(weft__oneshot_chan *c, weft_waker *closed)
{
    if (!(c->state & ST_RX_CLOSED)) {
        c->state |= ST_RX_CLOSED;
        weft__resource_event(channel_close, &c->res, WEFT_CLOSE_RECEIVER);
    }
    take(&c->tx_waker, closed);
}

void weft_oneshot_receiver_close(const weft_oneshot_receiver *rx)
{
    weft__oneshot_chan *c = rx ? rx->chan : NULL;
    if (!c)
        return;
    weft_waker closed;
    weft__chan_lock(&c->lock);
    close_locked(c, &closed);
    weft__chan_unlock(&c->lock);
    weft_waker_wake(&closed);
}

void weft_oneshot_receiver_drop(weft_oneshot_receiver *rx)
{
    weft__oneshot_chan *c = rx ? rx->chan : NULL;
    if (!c)
        return;
    rx->chan = NULL;
    weft_waker closed, old;
    weft__chan_lock(&c->lock);
    close_locked(c, &closed);
    weft__resource_event(channel_refs, &c->res, (c->state & ST_TX_DONE) ? 0 : 1, 0);
    take(&c->rx_waker, &old); /* a recv left behind by a misuse: release it */
    unref_unlock(c);
    weft_waker_wake(&closed);
    weft_waker_drop(&old);
}
