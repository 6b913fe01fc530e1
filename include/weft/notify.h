/* weft/notify.h - Notify: wake one task, or every waiting task, without sending data.
 *
 * Tokio names: sync::Notify -> weft_notify, Notify::notified -> weft_notify_notified_init,
 * Notified::enable -> weft_notified_enable, notify_one / notify_last / notify_waiters ->
 * weft_notify_notify_one / _notify_last / _notify_waiters.
 *
 * A Notify holds at most one *permit*. Think of it as a semaphore that starts with no permit
 * and never holds more than one:
 *
 *   - notify_one() wakes the waiter that has waited longest (FIFO). When nobody waits it stores
 *     the permit instead, and the next notified() completes at once by consuming it. Several
 *     notify_one() calls with nobody waiting still store a single permit.
 *   - notify_last() is notify_one() that picks the most recent waiter (LIFO).
 *   - notify_waiters() wakes every current waiter and stores nothing: a notified() that starts
 *     waiting after the call does not see it.
 *
 * Registration, as in Tokio. A notified future is *created* by weft_notify_notified_init and
 * *registered* (put in the FIFO queue of waiters) by its first poll or by
 * weft_notified_enable, whichever comes first:
 *
 *   - notify_waiters() reaches every notified future created before the call, registered or
 *     not: one that is polled for the first time after the call completes at once.
 *   - notify_one() reaches only registered futures (oldest registration first); if none is
 *     registered it stores the permit, which the next future to be polled or enabled takes.
 *
 * So the race-free pattern "create, check the condition, then wait" works with both: create
 * (and enable, if you rely on notify_one) the future *before* checking the shared condition,
 * and a notification sent in between is not lost.
 *
 * Cancel safety. Dropping a notified future gives up its place in the queue. If notify_one had
 * already chosen it (it was woken but not yet polled to READY), the notification is not lost:
 * the drop passes it on to the next waiter, or stores the permit when nobody waits. A
 * notification from notify_waiters is not passed on (there is nobody it was meant for that has
 * not received it already).
 *
 * Threads: notify_* may be called from any thread, tasks or not. A notified future is polled
 * and dropped by one task at a time, like every future.
 *
 * Instrumentation (resource kind "notify"; events reported through weft__resource_event):
 *   notify_one(r, woke, stored)      woke: a waiter was dequeued; stored: the permit was set
 *   notify_waiters(r, woken)         how many waiters were dequeued
 *   notify_received(r, task, how)    a notified future completed: how = 1 permit, 2 notify_one,
 *                                    3 notify_waiters
 *   notify_forward(r, woke, stored)  a dropped future passed its notify_one on
 * and resource_wait / resource_wait_done with operation WEFT_OP_NOTIFIED.
 */
#ifndef WEFT_NOTIFY_H
#define WEFT_NOTIFY_H

#include <pthread.h>
#include <stdatomic.h>

#include <weft/future.h>
#include <weft/resource.h> /* also the wait-queue node, weft__list */

typedef struct weft_notify {
    pthread_mutex_t lock;          /* guards every field marked [lock] */
    weft__list waiters;            /* [lock] registered weft_notified, oldest first */
    bool permit;                   /* [lock] a notify_one found nobody waiting */
    _Atomic uint64_t waiters_calls; /* notify_waiters calls so far: written under the lock,
                                      read without it when a notified future is created */
    weft_resource res;             /* identity for the tools; fixed after init */
} weft_notify;

/* Initialise with no permit. `name` is borrowed (a string literal as a rule); NULL names it
 * "notify". The location of the call is recorded for the console. */
#define weft_notify_init(n, name) weft__notify_init((n), (name), WEFT_HERE)
void weft__notify_init(weft_notify *n, const char *name, weft_location where);

/* Release the notify. Every notified future created on it must have finished or been dropped
 * first; as a safety net, while some are still registered this returns WEFT_EBUSY and does
 * nothing. 0 on success, WEFT_EINVAL for NULL. */
int weft_notify_destroy(weft_notify *n);

/* Wake the oldest registered waiter, or store the permit if none. NULL is ignored. */
void weft_notify_notify_one(weft_notify *n);

/* Wake the newest registered waiter, or store the permit if none. NULL is ignored. */
void weft_notify_notify_last(weft_notify *n);

/* Wake every registered waiter and every notified future created before this call; store no
 * permit. NULL is ignored. */
void weft_notify_notify_waiters(weft_notify *n);

/* ---------------------------------------------------------------- notified()
 *
 * READY once a notification reached it (see above); status is 0, or WEFT_EINVAL when it was
 * created with a NULL notify (then it is READY at once). The notify is borrowed and must
 * outlive the future. Like every future it may be copied until its first poll *or enable*,
 * never after. Dropping it is always safe; see "Cancel safety" above.
 */
typedef struct weft_notified {
    weft_future base;
    weft_notify *notify;      /* [owner] borrowed */
    weft__list node;          /* [notify->lock] link in notify->waiters while registered */
    weft_waker waker;         /* [notify->lock] taken and woken by the notifier that dequeues it */
    uint64_t waiters_calls;   /* [owner] notify->waiters_calls when the future was created */
    weft_location where;      /* [owner] where it is awaited (the init call), for the console */
    unsigned char state;      /* [owner] INIT / WAITING / DONE (see notify.c) */
    unsigned char received;   /* [notify->lock] set by whoever dequeued it: NONE, ONE (by
                                 notify_one), LAST (by notify_last) or ALL (notify_waiters) */
    int status;               /* result: 0, or WEFT_EINVAL */
} weft_notified;

#define weft_notify_notified_init(f, n) weft__notify_notified_init((f), (n), WEFT_HERE)
void weft__notify_notified_init(weft_notified *f, weft_notify *n, weft_location where);

/* Register the future for notify_one before its first poll (Tokio's Notified::enable). Takes
 * the stored permit if there is one. Returns true when the future has already received a
 * notification, so its next poll is READY. The future must not be moved afterwards. */
bool weft_notified_enable(weft_notified *f);

#endif
