/* weft/mpsc.h - multi-producer, single-consumer channels (Tokio's sync::mpsc).
 *
 * Tokio names: mpsc::channel -> weft_mpsc_channel, unbounded_channel ->
 * weft_mpsc_unbounded_channel, Sender::send -> weft_mpsc_send_init (a future), try_send,
 * reserve -> weft_mpsc_reserve_init, try_reserve, Permit::send -> weft_mpsc_permit_send,
 * Sender::closed -> weft_mpsc_closed_init, UnboundedSender::send -> weft_mpsc_unbounded_send,
 * Receiver::recv -> weft_mpsc_recv_init, try_recv, close, len, is_closed.
 *
 * VALUES. C has no generics, so a channel carries items of one fixed size, given when it is
 * created (usually sizeof of the item type) and at most WEFT_MPSC_ITEM_MAX bytes. Items are
 * copied in by the send and copied out by the receive: an int, a struct or a pointer travels
 * with no allocation per message. To send something bigger, or something that owns memory,
 * send a pointer; ownership of the pointee travels with it (and items still buffered when the
 * channel dies are discarded without any destructor, so drain with try_recv first if they
 * own anything). An item size of 0 is allowed: the channel then carries bare signals.
 *
 * HANDLES. The channel is one shared, reference-counted object; what you hold are handles,
 * small structs passed by address. A second sender is made with weft_mpsc_sender_clone, not
 * with `=`; copying a handle only *moves* it (into a spawned future's state, say), after which
 * the original must not be used. The receiver is unique. Each handle is dropped exactly once
 * (dropping a dropped handle is harmless: it is reset to NULL); the channel is freed when its
 * last handle and last permit are gone. A future borrows the handle it was created from:
 * keep the handle alive until the future completed or was dropped.
 *
 * BOUNDED AND UNBOUNDED. One pair of handle types serves both flavours; the flavour is a
 * property of the channel. A bounded channel holds at most `capacity` items, buffered plus
 * reserved: a send waits for room, in a FIFO queue of waiting senders (the first to wait is the
 * first served, and a new sender never overtakes a waiting one). Its ring of
 * capacity x item_size bytes is allocated when the channel is created. An unbounded channel's
 * ring grows (doubling) as needed and never makes a sender wait; its sends fail only when the
 * receiver is gone (or memory is exhausted).
 *
 * ORDER. Items from one sender are received in the order they were sent. Between senders the
 * order is the order in which their sends took effect.
 *
 * CLOSING. recv reports WEFT_ECLOSED only once the channel is closed AND drained: closed means
 * every sender was dropped or the receiver called weft_mpsc_receiver_close; drained means no
 * item is buffered and no permit is outstanding. After weft_mpsc_receiver_close, sends fail
 * with WEFT_ECLOSED, waiting senders are woken with WEFT_ECLOSED, permits already handed out
 * can still send, and everything buffered can still be received. Dropping the receiver
 * closes the channel and discards what is buffered.
 *
 * CANCEL SAFETY (what dropping a pending future does).
 *   - send:    the item is NOT sent, and the sender gives up its place in the queue. (The
 *              future still holds its copy of the item in `item`.) A send that had already
 *              been granted room passes that room on to the next waiting sender.
 *   - reserve: gives up its place in the queue; room already granted is passed on.
 *   - recv:    loses nothing. An item is only taken out of the channel when recv returns
 *              READY, so a recv in a select that loses may be dropped and recreated freely.
 *   - closed:  loses nothing.
 *
 * THREADS. Senders may be used from any thread and any task, concurrently (each operation
 * takes the channel's lock for a few instructions). The receiver, like Tokio's &mut Receiver,
 * is used by one task at a time, with at most one recv in flight. The synchronous functions
 * (try_send, try_recv, ...) may be called outside any runtime.
 *
 * EXAMPLE.
 *
 *     typedef struct consumer {
 *         weft_async co;
 *         weft_mpsc_receiver rx;
 *         weft_mpsc_recv recv;
 *         uint64_t v, sum;
 *     } consumer;
 *
 *     static weft_poll consumer_poll(weft_future *f, weft_context *cx) {
 *         consumer *c = (consumer *)f;
 *         WEFT_ASYNC_BEGIN(&c->co);
 *         for (;;) {
 *             weft_mpsc_recv_init(&c->recv, &c->rx, &c->v);
 *             WEFT_AWAIT(&c->co, cx, &c->recv);
 *             if (c->recv.status == WEFT_ECLOSED)
 *                 break;                  // every sender is gone and all was received
 *             c->sum += c->v;
 *         }
 *         weft_mpsc_receiver_drop(&c->rx);
 *         WEFT_ASYNC_END(&c->co);
 *     }
 *
 *     // creating: 1024 items of 8 bytes
 *     weft_mpsc_sender tx;
 *     weft_mpsc_receiver rx;
 *     if (weft_mpsc_channel(&tx, &rx, 1024, sizeof(uint64_t), "jobs") < 0) ...
 *
 *     // in a producer's poll: the item is copied at init, so a C local is fine
 *     uint64_t v = p->i;
 *     weft_mpsc_send_init(&p->send, &p->tx, &v);
 *     WEFT_AWAIT(&p->co, cx, &p->send);
 *     if (p->send.status == WEFT_ECLOSED) ...   // the receiver is gone; p->send.item holds v
 *
 * INSTRUMENTATION (resource kind "mpsc"; events of instrument/events.h, reported through
 * weft__resource_event):
 *   resource_create reports the capacity at creation (0: unbounded)
 *   channel_send(r, len)                     an item entered the buffer; len after
 *   channel_recv(r, len)                     an item left the buffer; len after
 *   channel_close(r, side)                   the receiver closed or was dropped (side
 *                                            RECEIVER), or the last sender went (SENDERS)
 *   channel_refs(r, senders, receivers)      after every clone and drop of a handle
 *   permit_acquire(r, task, n, available)    room reserved (n = 1), by a permit or granted to
 *                                            a waiting sender (task 0: granted on its behalf);
 *                                            available after (bounded channels)
 *   permit_release(r, task, n, available)    reserved room given back unused
 *   on a snapshot request: channel_refs, and channel_send(len) with the current length
 * and resource_wait / resource_wait_done with operation WEFT_OP_SEND (send, reserve),
 * WEFT_OP_RECV (recv) and WEFT_OP_CLOSED (closed), at the line of the future's init.
 */
#ifndef WEFT_MPSC_H
#define WEFT_MPSC_H

#include <stdalign.h>
#include <stddef.h>

#include <weft/future.h>
#include <weft/resource.h> /* weft_resource, and weft__list for the wait queues */

/* Largest item an mpsc channel carries: a send future holds its item inline. */
#define WEFT_MPSC_ITEM_MAX 64

typedef struct weft__mpsc_chan weft__mpsc_chan;

/* Handles. `chan` is NULL once the handle was dropped (or if creation failed). */
typedef struct weft_mpsc_sender {
    weft__mpsc_chan *chan;
} weft_mpsc_sender;

typedef struct weft_mpsc_receiver {
    weft__mpsc_chan *chan;
} weft_mpsc_receiver;

/* Room for one item, reserved in a bounded channel (always granted on an unbounded one). It
 * keeps the channel alive. Use it exactly once: weft_mpsc_permit_send or
 * weft_mpsc_permit_release; a permit that is never used keeps its slot forever (the console's
 * "permit leak"). It may be copied out of the reserve future that produced it. */
typedef struct weft_mpsc_permit {
    weft__mpsc_chan *chan; /* NULL once used */
} weft_mpsc_permit;

/* ---------------------------------------------------------------- creating */

/* A bounded channel of `capacity` (>= 1) items of `item_size` (<= WEFT_MPSC_ITEM_MAX) bytes.
 * `name` is borrowed (a string literal as a rule); NULL names it "mpsc". Returns 0, or
 * WEFT_EINVAL (NULL handles, capacity 0, item too big, capacity x item_size overflows) or
 * WEFT_ENOMEM; on failure both handles are set to NULL. */
#define weft_mpsc_channel(tx, rx, capacity, item_size, name) \
    weft__mpsc_channel((tx), (rx), (capacity), (item_size), false, (name), WEFT_HERE)
/* An unbounded channel: sends never wait. Same errors, without the capacity rules. */
#define weft_mpsc_unbounded_channel(tx, rx, item_size, name) \
    weft__mpsc_channel((tx), (rx), 0, (item_size), true, (name), WEFT_HERE)

int weft__mpsc_channel(weft_mpsc_sender *tx, weft_mpsc_receiver *rx, size_t capacity,
                       size_t item_size, bool unbounded, const char *name,
                       weft_location where);

/* ---------------------------------------------------------------- senders */

/* Make *out a new sender of tx's channel. 0, or WEFT_EINVAL if tx was dropped (then *out is
 * NULL). Cloning works even after the receiver is gone (sends then fail). */
int weft_mpsc_sender_clone(const weft_mpsc_sender *tx, weft_mpsc_sender *out);

/* Drop a sender. When the last one goes, the receiver sees WEFT_ECLOSED once it has drained
 * the buffer. Safe on a dropped handle and on NULL. */
void weft_mpsc_sender_drop(weft_mpsc_sender *tx);

/* Send without waiting: 0, WEFT_EFULL (bounded channel with no room, or senders are already
 * waiting for room: try_send never overtakes them), WEFT_ECLOSED (the receiver closed or was
 * dropped; nothing was sent), WEFT_ENOMEM (unbounded ring could not grow), WEFT_EINVAL
 * (dropped handle, or NULL item with a non-zero item size). The item is copied. */
int weft_mpsc_try_send(const weft_mpsc_sender *tx, const void *item);

/* The send of unbounded channels (Tokio's UnboundedSender::send): never waits. On a bounded
 * channel it behaves as weft_mpsc_try_send. */
int weft_mpsc_unbounded_send(const weft_mpsc_sender *tx, const void *item);

/* Reserve room without waiting: 0 and *out is a permit, or WEFT_EFULL / WEFT_ECLOSED /
 * WEFT_EINVAL as try_send (then *out is NULL). */
int weft_mpsc_try_reserve(const weft_mpsc_sender *tx, weft_mpsc_permit *out);

/* Send through a permit: cannot fail and never waits (the room was reserved). If the
 * receiver was dropped meanwhile the item is discarded, as Tokio does. Consumes the permit;
 * a used or NULL permit is ignored. */
void weft_mpsc_permit_send(weft_mpsc_permit *p, const void *item);

/* Give the reserved room back unused (to the next waiting sender, if any). Consumes it. */
void weft_mpsc_permit_release(weft_mpsc_permit *p);

/* True once the receiver closed or was dropped (sends fail from then on). */
bool weft_mpsc_sender_is_closed(const weft_mpsc_sender *tx);

/* Room available now (capacity minus buffered and reserved); SIZE_MAX if unbounded. */
size_t weft_mpsc_sender_capacity(const weft_mpsc_sender *tx);

/* The capacity given at creation; SIZE_MAX if unbounded. */
size_t weft_mpsc_sender_max_capacity(const weft_mpsc_sender *tx);

/* Live sender handles of the channel (Tokio's strong_count). 0 for a dropped handle. */
size_t weft_mpsc_sender_count(const weft_mpsc_sender *tx);

/* True when both handles are senders of the same channel. */
bool weft_mpsc_sender_same_channel(const weft_mpsc_sender *a, const weft_mpsc_sender *b);

/* ---------------------------------------------------------------- waiting senders
 *
 * A waiting send or reserve sits in the channel's FIFO queue through this node. All fields
 * are private to the runtime and guarded by the channel's lock once the future is queued. */
typedef struct weft_mpsc_waiter {
    weft__list node;     /* [lock] link in the channel's queue of waiting senders */
    weft_waker waker;    /* [lock] taken by whoever grants room or closes the channel */
    unsigned char state; /* [lock] IDLE / QUEUED / GRANTED / CLOSED / DONE (see mpsc.c) */
} weft_mpsc_waiter;

/* send: READY when the item is in the channel (status 0) or the receiver is gone (status
 * WEFT_ECLOSED: not sent; `item` still holds it). Also WEFT_EINVAL for a dropped handle or a
 * NULL item, and WEFT_ENOMEM when an unbounded ring could not grow. The item is copied into
 * the future at init. */
typedef struct weft_mpsc_send {
    weft_future base;
    weft__mpsc_chan *chan;  /* [owner] borrowed from the sender handle */
    weft_mpsc_waiter wait;  /* place in the queue while waiting for room */
    weft_location where;    /* [owner] the init call, for the console */
    int status;             /* result */
    alignas(max_align_t) unsigned char item[WEFT_MPSC_ITEM_MAX]; /* [owner] the item */
} weft_mpsc_send;

#define weft_mpsc_send_init(f, tx, item) weft__mpsc_send_init((f), (tx), (item), WEFT_HERE)
/* The *_init functions behind the init macros are inline, so that the call site's location
 * is stored straight into the future: passing the 24-byte location by value to an out-of-line
 * function made the compiler build it on the stack and copy it again, a store-forwarding stall
 * on every message. The rest of the set-up is out of line (*_setup). */
void weft__mpsc_send_setup(weft_mpsc_send *f, const weft_mpsc_sender *tx, const void *item);
static inline void weft__mpsc_send_init(weft_mpsc_send *f, const weft_mpsc_sender *tx,
                                        const void *item, weft_location where)
{
    f->where = where;
    weft__mpsc_send_setup(f, tx, item);
}

/* reserve: READY with status 0 and `permit` holding the reserved room, or status
 * WEFT_ECLOSED / WEFT_EINVAL (then `permit` is NULL). Take the permit out of the future
 * (copy it) and use it once. */
typedef struct weft_mpsc_reserve {
    weft_future base;
    weft__mpsc_chan *chan;   /* [owner] borrowed from the sender handle */
    weft_mpsc_waiter wait;   /* place in the queue while waiting for room */
    weft_location where;     /* [owner] the init call, for the console */
    int status;              /* result */
    weft_mpsc_permit permit; /* result when status == 0 */
} weft_mpsc_reserve;

#define weft_mpsc_reserve_init(f, tx) weft__mpsc_reserve_init((f), (tx), WEFT_HERE)
void weft__mpsc_reserve_setup(weft_mpsc_reserve *f, const weft_mpsc_sender *tx);
static inline void weft__mpsc_reserve_init(weft_mpsc_reserve *f, const weft_mpsc_sender *tx,
                                           weft_location where)
{
    f->where = where;
    weft__mpsc_reserve_setup(f, tx);
}

/* closed: READY (status 0) once the receiver closed or was dropped, so that a producer can
 * stop producing (Tokio's Sender::closed). status WEFT_EINVAL for a dropped handle. */
typedef struct weft_mpsc_closed {
    weft_future base;
    weft__mpsc_chan *chan;  /* [owner] borrowed from the sender handle */
    weft_mpsc_waiter wait;  /* place in the channel's list of closed() waiters */
    weft_location where;    /* [owner] the init call, for the console */
    int status;             /* result */
} weft_mpsc_closed;

#define weft_mpsc_closed_init(f, tx) weft__mpsc_closed_init((f), (tx), WEFT_HERE)
void weft__mpsc_closed_setup(weft_mpsc_closed *f, const weft_mpsc_sender *tx);
static inline void weft__mpsc_closed_init(weft_mpsc_closed *f, const weft_mpsc_sender *tx,
                                          weft_location where)
{
    f->where = where;
    weft__mpsc_closed_setup(f, tx);
}

/* ---------------------------------------------------------------- the receiver */

/* recv: READY with status 0 and the item copied to `out` (borrowed, must be valid when the
 * future completes; NULL discards the item), or WEFT_ECLOSED once the channel is closed and
 * drained, or WEFT_EINVAL for a dropped handle. */
typedef struct weft_mpsc_recv {
    weft_future base;
    weft__mpsc_chan *chan; /* [owner] borrowed from the receiver handle */
    void *out;             /* [owner] where the item goes */
    weft_location where;   /* [owner] the init call, for the console */
    int status;            /* result */
    bool waiting;          /* [owner] returned PENDING and has not completed since */
} weft_mpsc_recv;

#define weft_mpsc_recv_init(f, rx, out) weft__mpsc_recv_init((f), (rx), (out), WEFT_HERE)
void weft__mpsc_recv_setup(weft_mpsc_recv *f, const weft_mpsc_receiver *rx, void *out);
static inline void weft__mpsc_recv_init(weft_mpsc_recv *f, const weft_mpsc_receiver *rx, void *out,
                                        weft_location where)
{
    f->where = where;
    weft__mpsc_recv_setup(f, rx, out);
}

/* Receive without waiting: 0 (item copied to out, which may be NULL), WEFT_EEMPTY (nothing
 * buffered but senders remain), WEFT_ECLOSED (closed and drained), WEFT_EINVAL. */
int weft_mpsc_try_recv(const weft_mpsc_receiver *rx, void *out);

/* Close the channel from the receiving side without dropping the receiver (see CLOSING).
 * Idempotent. */
void weft_mpsc_receiver_close(const weft_mpsc_receiver *rx);

/* Close and drop the receiver; buffered items are discarded. Safe on a dropped handle. */
void weft_mpsc_receiver_drop(weft_mpsc_receiver *rx);

/* Items buffered now. */
size_t weft_mpsc_receiver_len(const weft_mpsc_receiver *rx);

/* True once the channel is closed (receiver closed, or no sender left), buffered items or
 * not. */
bool weft_mpsc_receiver_is_closed(const weft_mpsc_receiver *rx);

/* Live sender handles of the receiver's channel. */
size_t weft_mpsc_receiver_sender_count(const weft_mpsc_receiver *rx);

#endif
