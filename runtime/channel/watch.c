/* runtime/channel/watch.c - watch channels: one value, a version number, and receivers that
 * wait for a version newer than the one they have seen.
 *
 * Who calls it: programs through weft/watch.h, from tasks or plain threads.
 *
 * One allocation: the shared state followed by the value. The value, `version`, `closed`,
 * the counts, both waiter lists and each receiver's `seen` are guarded by the channel lock;
 * borrowing copies the value out under it, so readers never see a torn value.
 *
 * Versions: the initial value is version 0 and every stored value increments it. A receiver
 * has "seen" version `seen`; it has a change to see when seen != version. (Versions are
 * compared for equality only, so mark_changed can make a receiver's `seen` differ from the
 * current version by setting it one below.)
 *
 *   changed() READY 0          version != rx->seen   (then rx->seen = version)
 *   changed() READY ECLOSED    version == rx->seen and the sender is gone
 *   otherwise                  queued in changed_waiters until a send or the sender's drop
 *   closed()  READY            receivers == 0, else queued in closed_waiters
 *
 * Every wake-all goes through weft__chan_wake_all_unlock (wake.c): nothing is woken under the
 * lock. Lifetime: refs counts live handles; whoever drops it to 0 frees the channel after
 * unlocking.
 */
#include <stdlib.h>

#include <weft/watch.h>

#include "channel_int.h"

struct weft__watch_chan {
    weft__chan_mutex lock;      /* guards every field marked [lock] */
    uint64_t version;           /* [lock] version of the stored value */
    bool closed;                /* [lock] the sender was dropped */
    size_t receivers;           /* [lock] live receiver handles */
    size_t refs;                /* [lock] live handles (sender + receivers) */
    weft__list changed_waiters; /* [lock] pending changed() futures (weft_watch_waiter) */
    weft__list closed_waiters;  /* [lock] pending closed() futures of the sender */
    size_t item_size;           /* fixed */
    weft_resource res;          /* fixed: identity for the tools */
    alignas(max_align_t) unsigned char value[]; /* [lock] the current value */
};

#define WAITER_WAKER WEFT__WAKER_OFFSET(weft_watch_waiter, node, waker)

static void unref_unlock(weft__watch_chan *c)
{
    bool last = --c->refs == 0;
    weft__chan_unlock(&c->lock);
    if (last) {
        weft__resource_drop(&c->res);
        free(c);
    }
}

static void waiter_init(weft_watch_waiter *w)
{
    weft__list_init(&w->node);
    w->waker = WEFT_WAKER_NONE;
}

/* Leave the channel's list (if still in it) and release the waker, lock held. The waker is
 * moved to *old so that it is dropped after the unlock. */
static void waiter_leave(weft_watch_waiter *w, weft_waker *old)
{
    weft__list_remove(&w->node);
    *old = w->waker;
    w->waker = WEFT_WAKER_NONE;
}

/* Queue (if not queued yet) and register cx's waker, lock held. */
static void waiter_wait(weft_watch_waiter *w, weft__list *list, weft_context *cx)
{
    if (!weft__list_linked(&w->node))
        weft__list_push_back(list, &w->node);
    weft_waker_register(&w->waker, cx);
}

/* For a reader that attaches late: the handle counts and the current version. */
static void snapshot(const weft_resource *r)
{
    weft__watch_chan *c = weft__container_of(r, weft__watch_chan, res);
    weft__chan_lock(&c->lock);
    weft__resource_event(channel_refs, &c->res, c->closed ? 0 : 1, c->receivers);
    weft__resource_event(resource_state, &c->res, c->version, WEFT_ATTR_VERSION);
    weft__chan_unlock(&c->lock);
    (void)c; /* read only by the hooks, which compile to nothing without instrumentation */
}

int weft__watch_channel(weft_watch_sender *tx, weft_watch_receiver *rx, size_t item_size,
                        const void *initial, const char *name, weft_location where)
{
    if (tx)
        tx->chan = NULL;
    if (rx) {
        rx->chan = NULL;
        rx->seen = 0;
    }
    if (!tx || !rx || item_size > SIZE_MAX - sizeof(weft__watch_chan))
        return WEFT_EINVAL;
    weft__watch_chan *c = malloc(sizeof *c + item_size);
    if (!c)
        return WEFT_ENOMEM;
    weft__chan_lock_init(&c->lock);
    c->version = 0;
    c->closed = false;
    c->receivers = 1;
    c->refs = 2;
    weft__list_init(&c->changed_waiters);
    weft__list_init(&c->closed_waiters);
    c->item_size = item_size;
    if (initial)
        weft__item_copy(c->value, initial, item_size);
    else
        memset(c->value, 0, item_size);
    weft__resource_init(&c->res, WEFT_RESOURCE_WATCH, name, where);
    c->res.snapshot = snapshot;
    tx->chan = c;
    rx->chan = c;
    rx->seen = 0;
    return 0;
}

/* ---------------------------------------------------------------- the sender */

/* A new value is in place, lock held: bump the version and wake every changed(); unlocks. */
static void publish_unlock(weft__watch_chan *c)
{
    c->version++;
    weft__resource_event(resource_state, &c->res, c->version, WEFT_ATTR_VERSION);
    weft__chan_wake_all_unlock(&c->lock, &c->changed_waiters, WAITER_WAKER);
}

int weft_watch_send(const weft_watch_sender *tx, const void *item)
{
    weft__watch_chan *c = tx ? tx->chan : NULL;
    if (!c || (!item && c->item_size))
        return WEFT_EINVAL;
    weft__chan_lock(&c->lock);
    if (c->receivers == 0) {
        weft__chan_unlock(&c->lock);
        return WEFT_ECLOSED;
    }
    weft__item_copy(c->value, item, c->item_size);
    publish_unlock(c);
    return 0;
}

int weft_watch_send_replace(const weft_watch_sender *tx, const void *item, void *old)
{
    weft__watch_chan *c = tx ? tx->chan : NULL;
    if (!c || (!item && c->item_size))
        return WEFT_EINVAL;
    weft__chan_lock(&c->lock);
    weft__item_copy_out(old, c->value, c->item_size);
    weft__item_copy(c->value, item, c->item_size);
    publish_unlock(c);
    return 0;
}

int weft_watch_send_modify(const weft_watch_sender *tx, void (*modify)(void *value, void *arg),
                           void *arg)
{
    weft__watch_chan *c = tx ? tx->chan : NULL;
    if (!c || !modify)
        return WEFT_EINVAL;
    weft__chan_lock(&c->lock);
    modify(c->value, arg);
    publish_unlock(c);
    return 0;
}

int weft_watch_send_if_modified(const weft_watch_sender *tx,
                                bool (*modify)(void *value, void *arg), void *arg)
{
    weft__watch_chan *c = tx ? tx->chan : NULL;
    if (!c || !modify)
        return WEFT_EINVAL;
    weft__chan_lock(&c->lock);
    if (!modify(c->value, arg)) {
        weft__chan_unlock(&c->lock);
        return 0;
    }
    publish_unlock(c);
    return 1;
}

int weft_watch_sender_borrow(const weft_watch_sender *tx, void *out)
{
    weft__watch_chan *c = tx ? tx->chan : NULL;
    if (!c)
        return WEFT_EINVAL;
    weft__chan_lock(&c->lock);
    weft__item_copy_out(out, c->value, c->item_size);
    weft__chan_unlock(&c->lock);
    return 0;
}

/* Add a receiver that has seen `seen`, lock not held. */
static int add_receiver(weft__watch_chan *c, weft_watch_receiver *out, bool current,
                        uint64_t seen)
{
    weft__chan_lock(&c->lock);
    c->receivers++;
    c->refs++;
    out->seen = current ? c->version : seen;
    weft__resource_event(channel_refs, &c->res, c->closed ? 0 : 1, c->receivers);
    weft__chan_unlock(&c->lock);
    out->chan = c;
    return 0;
}

int weft_watch_subscribe(const weft_watch_sender *tx, weft_watch_receiver *out)
{
    weft__watch_chan *c = tx ? tx->chan : NULL;
    if (out) {
        out->chan = NULL;
        out->seen = 0;
    }
    if (!c || !out)
        return WEFT_EINVAL;
    return add_receiver(c, out, true, 0);
}

size_t weft_watch_receiver_count(const weft_watch_sender *tx)
{
    weft__watch_chan *c = tx ? tx->chan : NULL;
    if (!c)
        return 0;
    weft__chan_lock(&c->lock);
    size_t n = c->receivers;
    weft__chan_unlock(&c->lock);
    return n;
}

bool weft_watch_sender_is_closed(const weft_watch_sender *tx)
{
    return weft_watch_receiver_count(tx) == 0;
}

void weft_watch_sender_drop(weft_watch_sender *tx)
{
    weft__watch_chan *c = tx ? tx->chan : NULL;
    if (!c)
        return;
    tx->chan = NULL;
    weft__chan_lock(&c->lock);
    c->closed = true;
    weft__resource_event(channel_close, &c->res, WEFT_CLOSE_SENDERS);
    weft__resource_event(channel_refs, &c->res, 0, c->receivers);
    /* Waiting changed() futures now see CLOSED. Our reference keeps the channel alive while
     * the wake loop drops and retakes the lock. */
    weft__chan_wake_all_unlock(&c->lock, &c->changed_waiters, WAITER_WAKER);
    weft__chan_lock(&c->lock);
    unref_unlock(c);
}

static weft_poll closed_poll(weft_future *fut, weft_context *cx)
{
    weft_watch_closed *f = (weft_watch_closed *)fut;
    weft__watch_chan *c = f->chan;
    if (!c)
        return WEFT_READY;
    if (!weft_coop_proceed(cx))
        return WEFT_PENDING;
    weft_waker old = WEFT_WAKER_NONE;
    weft__chan_lock(&c->lock);
    if (c->receivers > 0) {
        waiter_wait(&f->wait, &c->closed_waiters, cx);
        weft__chan_unlock(&c->lock);
        if (!f->waiting) {
            f->waiting = true;
            weft__resource_wait(&c->res, WEFT_OP_CLOSED, f->where);
        }
        return WEFT_PENDING;
    }
    waiter_leave(&f->wait, &old);
    weft__chan_unlock(&c->lock);
    weft_waker_drop(&old);
    if (f->waiting)
        weft__resource_wait_done(&c->res, WEFT_OP_CLOSED);
    f->waiting = false;
    f->status = 0;
    f->chan = NULL;
    return WEFT_READY;
}

static void closed_drop(weft_future *fut)
{
    weft_watch_closed *f = (weft_watch_closed *)fut;
    weft__watch_chan *c = f->chan;
    if (c && f->waiting) {
        weft_waker old;
        weft__chan_lock(&c->lock);
        waiter_leave(&f->wait, &old);
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
    .name = "watch_closed",
};

void weft__watch_closed_setup(weft_watch_closed *f, const weft_watch_sender *tx)
{
    f->base.vt = &closed_vt;
    f->chan = tx ? tx->chan : NULL;
    waiter_init(&f->wait);
    f->status = f->chan ? 0 : WEFT_EINVAL;
    f->waiting = false;
}

/* ---------------------------------------------------------------- receivers */

int weft_watch_borrow(const weft_watch_receiver *rx, void *out)
{
    weft__watch_chan *c = rx ? rx->chan : NULL;
    if (!c)
        return WEFT_EINVAL;
    weft__chan_lock(&c->lock);
    weft__item_copy_out(out, c->value, c->item_size);
    int changed = c->version != rx->seen;
    weft__chan_unlock(&c->lock);
    return changed;
}

int weft_watch_borrow_and_update(weft_watch_receiver *rx, void *out)
{
    weft__watch_chan *c = rx ? rx->chan : NULL;
    if (!c)
        return WEFT_EINVAL;
    weft__chan_lock(&c->lock);
    weft__item_copy_out(out, c->value, c->item_size);
    int changed = c->version != rx->seen;
    rx->seen = c->version;
    weft__chan_unlock(&c->lock);
    return changed;
}

int weft_watch_has_changed(const weft_watch_receiver *rx)
{
    weft__watch_chan *c = rx ? rx->chan : NULL;
    if (!c)
        return WEFT_EINVAL;
    weft__chan_lock(&c->lock);
    int rc = c->closed ? WEFT_ECLOSED : c->version != rx->seen;
    weft__chan_unlock(&c->lock);
    return rc;
}

void weft_watch_mark_unchanged(weft_watch_receiver *rx)
{
    weft__watch_chan *c = rx ? rx->chan : NULL;
    if (!c)
        return;
    weft__chan_lock(&c->lock);
    rx->seen = c->version;
    weft__chan_unlock(&c->lock);
}

void weft_watch_mark_changed(weft_watch_receiver *rx)
{
    weft__watch_chan *c = rx ? rx->chan : NULL;
    if (!c)
        return;
    weft__chan_lock(&c->lock);
    rx->seen = c->version - 1; /* any value but the current version */
    weft__chan_unlock(&c->lock);
}

static weft_poll changed_poll(weft_future *fut, weft_context *cx)
{
    weft_watch_changed *f = (weft_watch_changed *)fut;
    weft__watch_chan *c = f->rx ? f->rx->chan : NULL;
    if (!c)
        return WEFT_READY; /* completed before, or made from a dropped handle */
    if (!weft_coop_proceed(cx))
        return WEFT_PENDING;
    weft_waker old = WEFT_WAKER_NONE;
    int status;
    weft__chan_lock(&c->lock);
    if (c->version != f->rx->seen) {
        f->rx->seen = c->version;
        status = 0;
    } else if (c->closed) {
        status = WEFT_ECLOSED;
    } else {
        waiter_wait(&f->wait, &c->changed_waiters, cx);
        weft__chan_unlock(&c->lock);
        if (!f->waiting) {
            f->waiting = true;
            weft__resource_wait(&c->res, WEFT_OP_CHANGED, f->where);
        }
        return WEFT_PENDING;
    }
    waiter_leave(&f->wait, &old);
    weft__chan_unlock(&c->lock);
    weft_waker_drop(&old);
    if (f->waiting)
        weft__resource_wait_done(&c->res, WEFT_OP_CHANGED);
    f->waiting = false;
    f->status = status;
    f->rx = NULL;
    return WEFT_READY;
}

static void changed_drop(weft_future *fut)
{
    weft_watch_changed *f = (weft_watch_changed *)fut;
    weft__watch_chan *c = f->rx ? f->rx->chan : NULL;
    if (c && f->waiting) {
        weft_waker old;
        weft__chan_lock(&c->lock);
        waiter_leave(&f->wait, &old);
        weft__chan_unlock(&c->lock);
        weft_waker_drop(&old);
        weft__resource_wait_done(&c->res, WEFT_OP_CHANGED);
    }
    f->waiting = false;
    f->rx = NULL;
}

static const weft_future_vtable changed_vt = {
    .poll = changed_poll,
    .drop = changed_drop,
    .name = "watch_changed",
};

void weft__watch_changed_setup(weft_watch_changed *f, weft_watch_receiver *rx)
{
    f->base.vt = &changed_vt;
    f->rx = rx && rx->chan ? rx : NULL;
    waiter_init(&f->wait);
    f->status = f->rx ? 0 : WEFT_EINVAL;
    f->waiting = false;
}

int weft_watch_receiver_clone(const weft_watch_receiver *rx, weft_watch_receiver *out)
{
    weft__watch_chan *c = rx ? rx->chan : NULL;
    if (out) {
        out->chan = NULL;
        out->seen = 0;
    }
    if (!c || !out)
        return WEFT_EINVAL;
    return add_receiver(c, out, false, rx->seen); /* rx is ours: its `seen` cannot move */
}

void weft_watch_receiver_drop(weft_watch_receiver *rx)
{
    weft__watch_chan *c = rx ? rx->chan : NULL;
    if (!c)
        return;
    rx->chan = NULL;
    weft__chan_lock(&c->lock);
    c->receivers--;
    weft__resource_event(channel_refs, &c->res, c->closed ? 0 : 1, c->receivers);
    if (c->receivers == 0) {
        weft__resource_event(channel_close, &c->res, WEFT_CLOSE_RECEIVER);
        /* The sender's closed() futures complete. Our reference keeps the channel alive
         * while the wake loop drops and retakes the lock. */
        weft__chan_wake_all_unlock(&c->lock, &c->closed_waiters, WAITER_WAKER);
        weft__chan_lock(&c->lock);
    }
    unref_unlock(c);
}
