/* weft/broadcast.h - multi-producer, multi-consumer broadcast channels (Tokio's
 * sync::broadcast): every receiver sees every value sent after it subscribed.
 *
 * Tokio names: broadcast::channel -> weft_broadcast_channel, Sender::send ->
 * weft_broadcast_send, Sender::subscribe -> weft_broadcast_subscribe, receiver_count,
 * Sender::clone -> weft_broadcast_sender_clone, Receiver::recv -> weft_broadcast_recv_init,
 * try_recv, resubscribe, len, RecvError::Lagged(n) -> WEFT_ELAGGED with `lagged` = n.
 *
 * VALUES. Fixed-size items (size given at creation, any size), copied into a ring of
 * `capacity` slots by send, and copied out by each receiver. Sending never waits: when the
 * ring is full the oldest value is overwritten. A value stays in the ring until it is
 * overwritten, whether or not every receiver has read it.
 *
 * LAG. A receiver that falls more than `capacity` values behind has missed some. Its next
 * receive reports WEFT_ELAGGED with `lagged` set to the EXACT number of values it skipped, and
 * moves it to the oldest value still kept; the receive after that returns that value. (Unlike
 * Tokio, the capacity is used as given, not rounded up to a power of two, so lag counts follow
 * the capacity you chose.)
 *
 * CLOSING. When every sender is gone, a receiver still gets every value it has not read yet
 * (that is still kept), then WEFT_ECLOSED. send fails with WEFT_ECLOSED while there is no
 * receiver (the value is not stored); subscribing again makes it succeed again.
 *
 * HANDLES. Senders are cloned (weft_broadcast_sender_clone); receivers are made by
 * weft_broadcast_subscribe (from a sender) or weft_broadcast_receiver_resubscribe (from a
 * receiver); both start at the next value to be sent. Handles are small structs passed by
 * address; moving one with `=` is fine if the original is not used afterwards. Drop each once
 * (dropping a dropped handle is harmless). The channel is freed with its last handle.
 *
 * CANCEL SAFETY. A dropped recv loses nothing: the receiver's position only moves when recv
 * returns READY.
 *
 * THREADS. Senders may be used from any thread concurrently. A receiver is used by one task at
 * a time with at most one recv in flight; different receivers are independent.
 *
 * EXAMPLE.
 *
 *     weft_broadcast_sender tx;
 *     weft_broadcast_receiver rx1, rx2;
 *     weft_broadcast_channel(&tx, &rx1, 16, sizeof(event), "events");
 *     weft_broadcast_subscribe(&tx, &rx2);
 *     weft_broadcast_send(&tx, &ev);                   // both receivers will see ev
 *
 *     // in a receiving task:
 *     weft_broadcast_recv_init(&s->recv, &s->rx, &s->ev);
 *     WEFT_AWAIT(&s->co, cx, &s->recv);
 *     if (s->recv.status == WEFT_ELAGGED) ...  // s->recv.lagged values were missed
 *     else if (s->recv.status == WEFT_ECLOSED) ... // no sender left, all read
 *
 * INSTRUMENTATION (resource kind "broadcast"; events of instrument/events.h, reported
 * through weft__resource_event):
 *   resource_create reports the capacity
 *   channel_send(r, len)                    a value was stored; len = values kept after
 *   channel_recv(r, len)                    a receiver read a value; len = its unread after
 *   resource_state(r, n, WEFT_ATTR_LAGGED)  a receiver skipped n values
 *   channel_close(r, side)                  the last sender went (SENDERS)
 *   channel_refs(r, senders, receivers)     after every clone, subscribe and drop
 *   on a snapshot request: channel_refs, and channel_send(len) with the values kept
 * and resource_wait / resource_wait_done with WEFT_OP_RECV.
 */
#ifndef WEFT_BROADCAST_H
#define WEFT_BROADCAST_H

#include <stddef.h>

#include <weft/future.h>
#include <weft/resource.h> /* weft_resource, and weft__list for the wait queues */

typedef struct weft__broadcast_chan weft__broadcast_chan;

/* Handles. `chan` is NULL once the handle was dropped (or creation failed). */
typedef struct weft_broadcast_sender {
    weft__broadcast_chan *chan;
} weft_broadcast_sender;

typedef struct weft_broadcast_receiver {
    weft__broadcast_chan *chan;
    uint64_t next; /* [owner, read and moved under the channel lock] next position to read */
} weft_broadcast_receiver;

/* A channel keeping the last `capacity` (>= 1) values of `item_size` bytes, with one sender
 * and one receiver. `name` is borrowed (a string literal as a rule); NULL names it
 * "broadcast". Returns 0, WEFT_EINVAL (NULL handles, capacity 0, size overflow) or
 * WEFT_ENOMEM; on failure both handles are NULL. */
#define weft_broadcast_channel(tx, rx, capacity, item_size, name) \
    weft__broadcast_channel((tx), (rx), (capacity), (item_size), (name), WEFT_HERE)
int weft__broadcast_channel(weft_broadcast_sender *tx, weft_broadcast_receiver *rx,
                            size_t capacity, size_t item_size, const char *name,
                            weft_location where);

/* ---------------------------------------------------------------- senders */

/* Store a value (copied) for every current receiver; never waits. Returns the number of
 * receivers that will see it (>= 1), WEFT_ECLOSED when there is no receiver (nothing is
 * stored), or WEFT_EINVAL (dropped handle, NULL item with a non-zero size). */
int weft_broadcast_send(const weft_broadcast_sender *tx, const void *item);

/* Make *out a new sender: 0, or WEFT_EINVAL if tx was dropped (then *out is NULL). */
int weft_broadcast_sender_clone(const weft_broadcast_sender *tx, weft_broadcast_sender *out);

/* Drop a sender; when the last goes, receivers drain and then see WEFT_ECLOSED. */
void weft_broadcast_sender_drop(weft_broadcast_sender *tx);

/* Make *out a new receiver that sees every value sent from now on: 0 or WEFT_EINVAL. */
int weft_broadcast_subscribe(const weft_broadcast_sender *tx, weft_broadcast_receiver *out);

/* Live receivers of the channel (0 for a dropped handle). */
size_t weft_broadcast_receiver_count(const weft_broadcast_sender *tx);

/* ---------------------------------------------------------------- receivers */

/* recv: READY with status 0 and the value copied to `out` (borrowed; NULL discards it),
 * WEFT_ELAGGED with `lagged` = values skipped (nothing copied; the receiver now points at the
 * oldest value kept), WEFT_ECLOSED (no sender left and nothing unread), or WEFT_EINVAL
 * (dropped handle). The receiver is borrowed mutably: one recv at a time per receiver. */
typedef struct weft_broadcast_recv {
    weft_future base;
    weft_broadcast_receiver *rx; /* [owner] borrowed */
    void *out;                   /* [owner] where the value goes */
    weft__list node;             /* [lock] link in the channel's waiting receivers */
    weft_waker waker;            /* [lock] taken by the send that wakes it */
    weft_location where;         /* [owner] the init call, for the console */
    uint64_t lagged;             /* result when status == WEFT_ELAGGED */
    int status;                  /* result */
    bool waiting;                /* [owner] returned PENDING and has not completed since */
} weft_broadcast_recv;

#define weft_broadcast_recv_init(f, rx, out) \
    weft__broadcast_recv_init((f), (rx), (out), WEFT_HERE)
/* The *_init functions behind the init macros are inline, so that the call site's location
 * is stored straight into the future: passing the 24-byte location by value to an out-of-line
 * function made the compiler build it on the stack and copy it again, a store-forwarding stall
 * on every message. The rest of the set-up is out of line (*_setup). */
void weft__broadcast_recv_setup(weft_broadcast_recv *f, weft_broadcast_receiver *rx, void *out);
static inline void weft__broadcast_recv_init(weft_broadcast_recv *f, weft_broadcast_receiver *rx,
                                             void *out, weft_location where)
{
    f->where = where;
    weft__broadcast_recv_setup(f, rx, out);
}

/* Receive without waiting: 0, WEFT_EEMPTY, WEFT_ELAGGED (with *lagged set, if not NULL),
 * WEFT_ECLOSED or WEFT_EINVAL, with the meanings of recv. */
int weft_broadcast_try_recv(weft_broadcast_receiver *rx, void *out, uint64_t *lagged);

/* Make *out a new receiver of rx's channel starting at the next value to be sent (Tokio's
 * resubscribe): 0 or WEFT_EINVAL. */
int weft_broadcast_receiver_resubscribe(const weft_broadcast_receiver *rx,
                                        weft_broadcast_receiver *out);

/* Values this receiver has not read that are still kept (at most the capacity). */
size_t weft_broadcast_receiver_len(const weft_broadcast_receiver *rx);

/* Drop a receiver. Safe on a dropped handle. */
void weft_broadcast_receiver_drop(weft_broadcast_receiver *rx);

#endif
