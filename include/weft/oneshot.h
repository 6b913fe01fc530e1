/* weft/oneshot.h - a channel for exactly one value (Tokio's sync::oneshot).
 *
 * Tokio names: oneshot::channel -> weft_oneshot_channel, Sender::send -> weft_oneshot_send,
 * Sender::closed -> weft_oneshot_closed_init, Sender::is_closed, Receiver (awaited) ->
 * weft_oneshot_recv_init, Receiver::try_recv, Receiver::close.
 *
 * The usual use: a request carries a oneshot sender, and the requester awaits the receiver
 * for the reply.
 *
 * VALUES. As for every weft channel, the value is a fixed-size item whose size is given at
 * creation, copied in by send and out by recv; any size is allowed (the channel allocates room
 * for one value when it is created). Size 0 makes a pure "done" signal.
 *
 * HANDLES. One sender and one receiver, small structs passed by address (moving one with `=`
 * is fine if the original is not used afterwards). Each is dropped once: sending consumes the
 * sender, and weft_oneshot_sender_drop / weft_oneshot_receiver_drop drop the handles that
 * remain; dropping a dropped handle is harmless. The channel is freed when both are gone.
 *
 * THE RULES.
 *   - send fails with WEFT_ECLOSED when the receiver was dropped or closed; the value then
 *     stays with the caller (it was only read through the pointer). Whether it succeeds or
 *     not, send consumes the sender.
 *   - recv completes with the value (status 0), or with WEFT_ECLOSED when the sender was
 *     dropped without sending (or the receiver closed before a value arrived).
 *   - try_recv: 0, WEFT_EEMPTY (nothing yet, the sender is still there) or WEFT_ECLOSED
 *     (the sender is gone without sending, or the value was already taken).
 *   - closed() lets the sender wait until the receiver is no longer interested (dropped or
 *     closed), e.g. to abandon computing the reply.
 *   - receiver_close: no value can be sent from now on, but one sent before is still
 *     received.
 *
 * CANCEL SAFETY. A dropped recv loses nothing: the value stays in the channel for the next
 * recv or try_recv. A dropped closed() loses nothing.
 *
 * THREADS. Each handle is used by one task (or thread) at a time; the two handles may be used
 * from different threads concurrently. At most one recv (and one closed) in flight.
 *
 * EXAMPLE.
 *
 *     weft_oneshot_sender tx;
 *     weft_oneshot_receiver rx;
 *     weft_oneshot_channel(&tx, &rx, sizeof(int), "reply");
 *     ...hand tx to a worker task, which calls
 *         int answer = 42;
 *         weft_oneshot_send(&w->tx, &answer);   // 0, or WEFT_ECLOSED if nobody listens
 *     ...and await the answer:
 *         weft_oneshot_recv_init(&s->recv, &s->rx, &s->answer);
 *         WEFT_AWAIT(&s->co, cx, &s->recv);
 *         if (s->recv.status == WEFT_ECLOSED) ...   // the worker dropped tx without replying
 *         weft_oneshot_receiver_drop(&s->rx);
 *
 * INSTRUMENTATION (resource kind "oneshot"; events of instrument/events.h, reported through
 * weft__resource_event):
 *   channel_send(r, len)                  the value was stored (len 1)
 *   channel_recv(r, len)                  the value was taken (len 0)
 *   channel_close(r, side)                the sender went without sending (SENDERS), or the
 *                                         receiver closed or was dropped (RECEIVER)
 *   channel_refs(r, senders, receivers)   after a handle is dropped or consumed
 *   on a snapshot request: channel_refs, and channel_send(1) if a value waits
 * and resource_wait / resource_wait_done with WEFT_OP_RECV (recv) and WEFT_OP_CLOSED (closed).
 */
#ifndef WEFT_ONESHOT_H
#define WEFT_ONESHOT_H

#include <stddef.h>

#include <weft/future.h>
#include <weft/resource.h>

typedef struct weft__oneshot_chan weft__oneshot_chan;

/* Handles. `chan` is NULL once the handle was dropped or consumed (or creation failed). */
typedef struct weft_oneshot_sender {
    weft__oneshot_chan *chan;
} weft_oneshot_sender;

typedef struct weft_oneshot_receiver {
    weft__oneshot_chan *chan;
} weft_oneshot_receiver;

/* Create a channel for one item of `item_size` bytes. `name` is borrowed (a string literal
 * as a rule); NULL names it "oneshot". Returns 0, WEFT_EINVAL (NULL handles, absurd size) or
 * WEFT_ENOMEM; on failure both handles are NULL. */
#define weft_oneshot_channel(tx, rx, item_size, name) \
    weft__oneshot_channel((tx), (rx), (item_size), (name), WEFT_HERE)
int weft__oneshot_channel(weft_oneshot_sender *tx, weft_oneshot_receiver *rx,
                          size_t item_size, const char *name, weft_location where);

/* ---------------------------------------------------------------- the sender */

/* Send the item (copied) and consume the sender: 0, WEFT_ECLOSED (the receiver is gone or
 * closed: nothing was stored, the item stays with the caller), or WEFT_EINVAL (dropped
 * handle, or NULL item with a non-zero size; the sender is then left untouched). */
int weft_oneshot_send(weft_oneshot_sender *tx, const void *item);

/* Drop the sender without sending: the receiver then sees WEFT_ECLOSED. */
void weft_oneshot_sender_drop(weft_oneshot_sender *tx);

/* True once the receiver was dropped or closed (a send would fail). */
bool weft_oneshot_sender_is_closed(const weft_oneshot_sender *tx);

/* closed: READY (status 0) once the receiver was dropped or closed. status WEFT_EINVAL for a
 * dropped handle. Borrows the sender: do not send or drop it while the future is pending. */
typedef struct weft_oneshot_closed {
    weft_future base;
    weft__oneshot_chan *chan; /* [owner] borrowed from the sender handle */
    weft_location where;      /* [owner] the init call, for the console */
    int status;               /* result */
    bool waiting;             /* [owner] its waker is registered in the channel */
} weft_oneshot_closed;

#define weft_oneshot_closed_init(f, tx) weft__oneshot_closed_init((f), (tx), WEFT_HERE)
/* The *_init functions behind the init macros are inline, so that the call site's location
 * is stored straight into the future: passing the 24-byte location by value to an out-of-line
 * function made the compiler build it on the stack and copy it again, a store-forwarding stall
 * on every message. The rest of the set-up is out of line (*_setup). */
void weft__oneshot_closed_setup(weft_oneshot_closed *f, const weft_oneshot_sender *tx);
static inline void weft__oneshot_closed_init(weft_oneshot_closed *f, const weft_oneshot_sender *tx,
                                             weft_location where)
{
    f->where = where;
    weft__oneshot_closed_setup(f, tx);
}

/* ---------------------------------------------------------------- the receiver */

/* recv: READY with status 0 and the item copied to `out` (borrowed; NULL discards it), or
 * WEFT_ECLOSED (no value will ever come, or it was already taken), or WEFT_EINVAL for a
 * dropped handle. */
typedef struct weft_oneshot_recv {
    weft_future base;
    weft__oneshot_chan *chan; /* [owner] borrowed from the receiver handle */
    void *out;                /* [owner] where the item goes */
    weft_location where;      /* [owner] the init call, for the console */
    int status;               /* result */
    bool waiting;             /* [owner] its waker is registered in the channel */
} weft_oneshot_recv;

#define weft_oneshot_recv_init(f, rx, out) weft__oneshot_recv_init((f), (rx), (out), WEFT_HERE)
void weft__oneshot_recv_setup(weft_oneshot_recv *f, const weft_oneshot_receiver *rx, void *out);
static inline void weft__oneshot_recv_init(weft_oneshot_recv *f, const weft_oneshot_receiver *rx,
                                           void *out, weft_location where)
{
    f->where = where;
    weft__oneshot_recv_setup(f, rx, out);
}

/* Take the value if it is there: 0, WEFT_EEMPTY, WEFT_ECLOSED, WEFT_EINVAL (see THE RULES). */
int weft_oneshot_try_recv(const weft_oneshot_receiver *rx, void *out);

/* Refuse any value not yet sent; the sender's closed() completes. Idempotent. */
void weft_oneshot_receiver_close(const weft_oneshot_receiver *rx);

/* Close and drop the receiver (a value sent but not received is discarded). */
void weft_oneshot_receiver_drop(weft_oneshot_receiver *rx);

#endif
