/* weft/cancel.h - CancellationToken: ask a group of tasks to stop, as a tree.
 *
 * Tokio names (tokio_util::sync): CancellationToken -> weft_cancel_token, new ->
 * weft_cancel_token_new, child_token -> weft_cancel_token_child_token, cancel ->
 * weft_cancel_token_cancel, is_cancelled -> weft_cancel_token_is_cancelled, cancelled() ->
 * weft_cancel_token_cancelled_init, Clone -> weft_cancel_token_clone, Drop ->
 * weft_cancel_token_drop.
 *
 * A token is a shared handle: every copy handed around is a *handle* to one shared token, and
 * each handle is released with weft_cancel_token_drop. new, child_token and clone each return
 * one handle (clone returns the same pointer with one more handle counted); the token is
 * freed when its last handle is dropped. Cancelling through any handle cancels the token for
 * every holder.
 *
 * Tokens form a tree. child_token(parent) makes a new token that is cancelled when the parent
 * is (and so when any ancestor is), never the reverse: cancelling a child leaves its parent
 * and siblings alone. A child made from an already-cancelled parent starts cancelled.
 * Dropping a token's last handle does not cut its descendants off: they become children of
 * the dropped token's parent, so cancelling an ancestor still reaches them.
 *
 * Cancellation is a one-way latch: once cancelled a token stays cancelled, and cancel() on it
 * again does nothing.
 *
 * Threads: everything here is thread-safe; tokens may be cancelled, cloned and dropped from
 * any thread, inside or outside tasks.
 *
 * Instrumentation (resource kind "cancellation_token", one resource per token; events through
 * weft__resource_event):
 *   cancel_token_child(r, parent_r, cancelled)   a child token was made
 *   cancel_token_cancel(r, tokens, woken)        cancel() reached `tokens` tokens (the one
 *                                                cancelled and its live descendants) and woke
 *                                                `woken` cancelled() futures
 *   cancel_token_handles(r, handles)             handle count after a clone or a drop
 * and resource_wait / resource_wait_done with operation WEFT_OP_CANCELLED.
 */
#ifndef WEFT_CANCEL_H
#define WEFT_CANCEL_H

#include <weft/future.h>
#include <weft/resource.h> /* also the wait-queue node, weft__list */

/* Opaque: always used through a pointer, which is a handle. */
typedef struct weft_cancel_token weft_cancel_token;

/* A new, uncancelled root token. *out receives one handle. Returns 0, WEFT_ENOMEM, or
 * WEFT_EINVAL for a NULL out. `name` is borrowed (a string literal as a rule); NULL names it
 * "cancellation_token". */
#define weft_cancel_token_new(out, name) weft__cancel_token_new((out), (name), WEFT_HERE)
int weft__cancel_token_new(weft_cancel_token **out, const char *name, weft_location where);

/* A new child of `parent` (borrowed), named like it. *out receives one handle. Returns 0,
 * WEFT_ENOMEM, or WEFT_EINVAL for a NULL argument. */
#define weft_cancel_token_child_token(parent, out) \
    weft__cancel_token_child_token((parent), (out), WEFT_HERE)
int weft__cancel_token_child_token(weft_cancel_token *parent, weft_cancel_token **out,
                                   weft_location where);

/* One more handle to the same token; returns `t` (NULL for NULL). */
weft_cancel_token *weft_cancel_token_clone(weft_cancel_token *t);

/* Release one handle; the last one frees the token. NULL is ignored. Dropping never cancels
 * (Tokio's drop_guard behaviour is weft_cancel_token_cancel followed by this). */
void weft_cancel_token_drop(weft_cancel_token *t);

/* Cancel the token and all its descendants, waking every cancelled() future waiting on any
 * of them. Idempotent. NULL is ignored. */
void weft_cancel_token_cancel(weft_cancel_token *t);

/* True once the token, or one of its ancestors, was cancelled. False for NULL. */
bool weft_cancel_token_is_cancelled(const weft_cancel_token *t);

/* ---------------------------------------------------------------- cancelled()
 *
 * READY once the token is cancelled; READY at its first poll if it already is. status is 0,
 * or WEFT_EINVAL when created with a NULL token (then it is READY at once).
 *
 * The token is borrowed until the future's first poll; from then on the future holds a
 * handle of its own until it completes or is dropped, so the caller may drop its handle while
 * the future waits (Tokio's cancelled_owned).
 *
 * Cancel safety: a dropped cancelled() loses nothing (cancellation is a latched state, and
 * the drop only gives up its place among the waiters and its handle).
 */
typedef struct weft_cancelled {
    weft_future base;
    weft_cancel_token *token; /* [owner] borrowed until the first poll, then one handle held
                                 while WAITING */
    weft__list node;          /* [token's tree lock] link among the token's waiters */
    weft_waker waker;         /* [token's tree lock] taken and woken by cancel() */
    weft_location where;      /* [owner] where it is awaited (the init call), for the console */
    unsigned char state;      /* [owner] INIT / WAITING / DONE (see cancel_token.c) */
    int status;               /* result: 0, or WEFT_EINVAL */
} weft_cancelled;

#define weft_cancel_token_cancelled_init(f, t) \
    weft__cancel_token_cancelled_init((f), (t), WEFT_HERE)
void weft__cancel_token_cancelled_init(weft_cancelled *f, weft_cancel_token *t,
                                       weft_location where);

#endif
