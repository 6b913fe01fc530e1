/* runtime/time/sleep.c - weft_sleep: a future that completes at a deadline (Tokio's Sleep).
 *
 * Who calls it: programs (directly or through WEFT_AWAIT), interval.c and timeout.c, which
 * embed a sleep; the time driver fires its entry.
 *
 * Life cycle of the embedded timer entry, seen from the sleep's owner (the one thread at a
 * time that polls, resets or drops it):
 *
 *              first poll, deadline ahead            the driver fires it
 *      IDLE ------------------------------> ARMED ----------------------> FIRED
 *       | ^                                 | ^   reset (re-armed in place) |
 *       | |                                 | +----------------------------+
 *       | +----- drop (ARMED or FIRED) -----+                              | poll
 *       |  first poll, deadline passed                                     v
 *       +--------------------------------------------------------------> DONE
 *
 *   IDLE   entry.driver == NULL, not in any wheel (after init, or after a drop)
 *   ARMED  entry.driver != NULL, in the wheel, fired == 0
 *   FIRED  entry.driver != NULL, out of the wheel, fired == 1, waker taken by the driver
 *   DONE   entry.driver == NULL, poll returned READY; reset makes it IDLE again
 *
 * Invariant that makes dropping safe: whenever a sleep's memory may go away (after READY, or
 * after drop) the entry is not in any wheel, and the driver never touches an entry it has
 * already fired (see driver.c), so a sleep can be freed right after either.
 *
 * The fired flag is the only thing read without the driver's lock (acquire, pairing with the
 * driver's release store). Re-polls of an armed sleep replace the waker under the lock when
 * the task changed; a timer that fires concurrently then either still wakes the new waker or
 * has already set `fired`, which the poll re-reads before returning PENDING.
 *
 * Ready paths spend one unit of the task's cooperative budget first (weft_coop_proceed): a
 * loop of already-expired sleeps must still yield to its neighbours.
 */
#include "time_int.h"

static weft_poll sleep_poll(weft_future *f, weft_context *cx);
static void sleep_drop(weft_future *f);

static const weft_future_vtable sleep_vt = {
    .poll = sleep_poll,
    .drop = sleep_drop,
    .name = "sleep",
};

static bool entry_fired(const weft_timer_entry *e)
{
    return atomic_load_explicit(&((weft_timer_entry *)e)->fired, memory_order_acquire) != 0;
}

/* Finish: READY with `status`, unless the cooperative budget says yield first. */
static weft_poll complete(weft_sleep *s, weft_context *cx, int status)
{
    if (!weft_coop_proceed(cx))
        return WEFT_PENDING; /* the task was woken again by the budget; poll once more later */
    /* A fired entry is out of the wheel; forget the driver so that reset re-arms afresh. */
    s->entry.driver = NULL;
    s->status = status;
    return WEFT_READY;
}

static weft_poll sleep_poll(weft_future *f, weft_context *cx)
{
    weft_sleep *s = (weft_sleep *)f;

    if (s->entry.driver) {
        if (entry_fired(&s->entry))
            return complete(s, cx, 0);
        /* Armed: keep the waker current, then look again in case it fired meanwhile. */
        weft__timer_update_waker(&s->entry, cx->waker);
        if (entry_fired(&s->entry))
            return complete(s, cx, 0);
        return WEFT_PENDING;
    }

    weft_runtime *rt = weft__tls.rt;
    if (!rt || !rt->time)
        return complete(s, cx, WEFT_ENOSYS);
    if (weft_instant_now() >= s->deadline)
        return complete(s, cx, 0);
    weft__timer_arm(rt->time, &s->entry, s->deadline, cx->waker);
    return WEFT_PENDING;
}

static void sleep_drop(weft_future *f)
{
    weft_sleep *s = (weft_sleep *)f;
    weft__timer_disarm(&s->entry);
}

void weft_sleep_until_init(weft_sleep *s, weft_instant deadline)
{
    *s = (weft_sleep){0};
    s->base.vt = &sleep_vt;
    s->deadline = deadline;
    atomic_init(&s->entry.fired, 0);
}

void weft_sleep_init(weft_sleep *s, weft_duration d)
{
    weft_instant now = weft_instant_now();
    weft_sleep_until_init(s, d > UINT64_MAX - now ? UINT64_MAX : now + d);
}

void weft_sleep_reset(weft_sleep *s, weft_instant deadline)
{
    s->deadline = deadline;
    s->status = 0;
    if (s->entry.driver) {
        /* Armed or fired-but-not-yet-seen: move it in place, keeping the registered waker,
         * so that a task waiting on it elsewhere (a select) is woken at the new deadline, as
         * Tokio's Sleep::reset does. Arming clears `fired`. */
        weft__timer_arm(s->entry.driver, &s->entry, deadline, NULL);
    } else {
        atomic_store_explicit(&s->entry.fired, 0, memory_order_relaxed);
    }
}

bool weft_sleep_is_elapsed(const weft_sleep *s)
{
    if (s->entry.driver && entry_fired(&s->entry))
        return true;
    return weft_instant_now() >= s->deadline;
}
