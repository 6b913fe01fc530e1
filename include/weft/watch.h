/* weft/watch.h - a single value that changes, watched by many receivers (Tokio's
 * sync::watch): receivers see the latest value and can wait for the next change, but not
 * every intermediate one.
 *
 * Tokio names: watch::channel -> weft_watch_channel, Sender::send / send_replace /
 * send_modify / send_if_modified / borrow / subscribe / receiver_count / closed / is_closed,
 * Receiver::borrow / borrow_and_update / has_changed / changed -> weft_watch_changed_init,
 * Receiver::clone -> weft_watch_receiver_clone.
 *
 * VALUES. The channel holds one value of a fixed size given at creation (any size). Sends
 * copy a new value in; borrow copies the current value out, under the channel's lock, so a
 * reader never sees a half-written value. Each stored value gets a new version.
 *
 * SEEN. Each receiver remembers the version it has seen. borrow_and_update, and changed()
 * when it completes, mark the current version seen; borrow does not. changed() waits for a
 * version newer than the one seen, so after borrow_and_update it does not fire again for the
 * same value. A new receiver (subscribe) has seen the current value; a clone has seen what the
 * receiver it was cloned from had seen.
 *
 * CLOSING. When the sender is dropped: changed() still reports a change that was not seen yet,
 * and after that WEFT_ECLOSED; has_changed() reports WEFT_ECLOSED at once (as Tokio's does);
 * borrow keeps working and shows the last value. When every receiver is gone, send fails with
 * WEFT_ECLOSED (the value is not stored), the sender's closed() completes, while send_replace,
 * send_modify and send_if_modified still update the value (a later subscriber sees it).
 *
 * HANDLES. One sender; receivers are cloned (weft_watch_receiver_clone) or subscribed from the
 * sender (weft_watch_subscribe). Small structs passed by address; moving one with `=` is fine
 * if the original is not used afterwards. Drop each once (dropping a dropped handle is
 * harmless). The channel is freed with its last handle.
 *
 * CANCEL SAFETY. A dropped changed() loses nothing: it marks nothing seen unless it returned
 * READY. A dropped closed() loses nothing.
 *
 * THREADS. The sender and each receiver are used by one task (or thread) at a time; different
 * handles are independent. At most one changed() in flight per receiver.
 *
 * EXAMPLE.
 *
 *     weft_watch_sender tx;
 *     weft_watch_receiver rx;
 *     config initial = {...};
 *     weft_watch_channel(&tx, &rx, sizeof(config), &initial, "config");
 *     ...
 *     weft_watch_send(&tx, &updated);        // WEFT_ECLOSED if nobody watches
 *
 *     // a watching task:
 *     for (;;) {
 *         weft_watch_changed_init(&s->changed, &s->rx);
 *         WEFT_AWAIT(&s->co, cx, &s->changed);
 *         if (s->changed.status == WEFT_ECLOSED)
 *             break;                         // the sender is gone
 *         weft_watch_borrow_and_update(&s->rx, &s->cfg);
 *         apply(&s->cfg);
 *     }
 *
 * INSTRUMENTATION (resource kind "watch"; events of instrument/events.h, reported through
 * weft__resource_event):
 *   resource_state(r, version, WEFT_ATTR_VERSION)   a value was stored; its version
 *   channel_close(r, side)                          the sender went (SENDERS), or the last
 *                                                   receiver went (RECEIVER)
 *   channel_refs(r, senders, receivers)             after every clone, subscribe and drop
 *   on a snapshot request: channel_refs, and resource_state(version)
 * and resource_wait / resource_wait_done with WEFT_OP_CHANGED (changed) and WEFT_OP_CLOSED
 * (the sender's closed).
 */
#ifndef WEFT_WATCH_H
#define WEFT_WATCH_H

#include <stddef.h>

#include <weft/future.h>
#include <weft/resource.h> /* weft_resource, and weft__list for the wait queues */

typedef struct weft__watch_chan weft__watch_chan;

/* Handles. `chan` is NULL once the handle was dropped (or creation failed). */
typedef struct weft_watch_sender {
    weft__watch_chan *chan;
} weft_watch_sender;

typedef struct weft_watch_receiver {
    weft__watch_chan *chan;
    uint64_t seen; /* [owner, read and moved under the channel lock] version last seen */
} weft_watch_receiver;

/* A channel holding `item_size` bytes, initialised from `initial` (copied; NULL means all
 * zero), with one sender and one receiver that has seen the initial value. `name` is borrowed
 * (a string literal as a rule); NULL names it "watch". Returns 0, WEFT_EINVAL (NULL handles,
 * absurd size) or WEFT_ENOMEM; on failure both handles are NULL. */
#define weft_watch_channel(tx, rx, item_size, initial, name) \
    weft__watch_channel((tx), (rx), (item_size), (initial), (name), WEFT_HERE)
int weft__watch_channel(weft_watch_sender *tx, weft_watch_receiver *rx, size_t item_size,
                        const void *initial, const char *name, weft_location where);

/* ---------------------------------------------------------------- the sender */

/* Store a new value and wake every changed(): 0, WEFT_ECLOSED when no receiver is left
 * (nothing stored), WEFT_EINVAL (dropped handle, NULL item with a non-zero size). */
int weft_watch_send(const weft_watch_sender *tx, const void *item);

/* Store a new value whether or not anyone watches, copying the previous one to `old` (NULL:
 * not wanted): 0 or WEFT_EINVAL. */
int weft_watch_send_replace(const weft_watch_sender *tx, const void *item, void *old);

/* Change the value in place: `modify(value, arg)` runs under the channel's lock with a pointer
 * to the stored value, then receivers are told it changed (always, as in Tokio). The callback
 * must be short and must not call into this channel (it would deadlock). 0 or WEFT_EINVAL. */
int weft_watch_send_modify(const weft_watch_sender *tx, void (*modify)(void *value, void *arg),
                           void *arg);

/* As send_modify, but receivers are told only if `modify` returns true. Returns 1 if it did,
 * 0 if not, WEFT_EINVAL. */
int weft_watch_send_if_modified(const weft_watch_sender *tx,
                                bool (*modify)(void *value, void *arg), void *arg);

/* Copy the current value out. 0 or WEFT_EINVAL. */
int weft_watch_sender_borrow(const weft_watch_sender *tx, void *out);

/* Make *out a new receiver that has seen the current value: 0 or WEFT_EINVAL. */
int weft_watch_subscribe(const weft_watch_sender *tx, weft_watch_receiver *out);

/* Live receivers (0 for a dropped handle). */
size_t weft_watch_receiver_count(const weft_watch_sender *tx);

/* True when no receiver is left (send would fail). */
bool weft_watch_sender_is_closed(const weft_watch_sender *tx);

/* Drop the sender: changed() reports WEFT_ECLOSED once the last change was seen. */
void weft_watch_sender_drop(weft_watch_sender *tx);

/* A queued changed() or closed(): private to the runtime, guarded by the channel's lock. */
typedef struct weft_watch_waiter {
    weft__list node;  /* [lock] link in the channel's list of waiters */
    weft_waker waker; /* [lock] taken by whoever wakes it */
} weft_watch_waiter;

/* closed: READY (status 0) once every receiver is gone. status WEFT_EINVAL for a dropped
 * handle. Borrows the sender. */
typedef struct weft_watch_closed {
    weft_future base;
    weft__watch_chan *chan; /* [owner] borrowed from the sender handle */
    weft_watch_waiter wait; /* place in the channel's list of closed() waiters */
    weft_location where;    /* [owner] the init call, for the console */
    int status;             /* result */
    bool waiting;           /* [owner] returned PENDING and has not completed since */
} weft_watch_closed;

#define weft_watch_closed_init(f, tx) weft__watch_closed_init((f), (tx), WEFT_HERE)
/* The *_init functions behind the init macros are inline, so that the call site's location
 * is stored straight into the future: passing the 24-byte location by value to an out-of-line
 * function made the compiler build it on the stack and copy it again, a store-forwarding stall
 * on every message. The rest of the set-up is out of line (*_setup). */
void weft__watch_closed_setup(weft_watch_closed *f, const weft_watch_sender *tx);
static inline void weft__watch_closed_init(weft_watch_closed *f, const weft_watch_sender *tx,
                                           weft_location where)
{
    f->where = where;
    weft__watch_closed_setup(f, tx);
}

/* ---------------------------------------------------------------- receivers */

/* Copy the current value out without marking it seen. Returns 1 if it is a version this
 * receiver has not seen, 0 if it has, WEFT_EINVAL for a dropped handle. */
int weft_watch_borrow(const weft_watch_receiver *rx, void *out);

/* Copy the current value out and mark it seen. Returns 1 if it had not been seen, 0 if it
 * had, WEFT_EINVAL. */
int weft_watch_borrow_and_update(weft_watch_receiver *rx, void *out);

/* 1 if a version not seen yet is there, 0 if not, WEFT_ECLOSED once the sender is gone,
 * WEFT_EINVAL for a dropped handle. */
int weft_watch_has_changed(const weft_watch_receiver *rx);

/* Mark the current version seen (changed() then waits for the next one). */
void weft_watch_mark_unchanged(weft_watch_receiver *rx);

/* Mark the current version unseen (changed() then completes at once). */
void weft_watch_mark_changed(weft_watch_receiver *rx);

/* changed: READY with status 0 once there is a version this receiver has not seen (and marks
 * it seen), WEFT_ECLOSED once the sender is gone and everything was seen, WEFT_EINVAL for a
 * dropped handle. The receiver is borrowed mutably: one changed() at a time per receiver. */
typedef struct weft_watch_changed {
    weft_future base;
    weft_watch_receiver *rx; /* [owner] borrowed */
    weft_watch_waiter wait;  /* place in the channel's list of changed() waiters */
    weft_location where;     /* [owner] the init call, for the console */
    int status;              /* result */
    bool waiting;            /* [owner] returned PENDING and has not completed since */
} weft_watch_changed;

#define weft_watch_changed_init(f, rx) weft__watch_changed_init((f), (rx), WEFT_HERE)
void weft__watch_changed_setup(weft_watch_changed *f, weft_watch_receiver *rx);
static inline void weft__watch_changed_init(weft_watch_changed *f, weft_watch_receiver *rx,
                                            weft_location where)
{
    f->where = where;
    weft__watch_changed_setup(f, rx);
}

/* Make *out a receiver of the same channel that has seen what rx has seen: 0 or
 * WEFT_EINVAL. */
int weft_watch_receiver_clone(const weft_watch_receiver *rx, weft_watch_receiver *out);

/* Drop a receiver. When the last goes, sends fail and the sender's closed() completes. */
void weft_watch_receiver_drop(weft_watch_receiver *rx);

#endif
