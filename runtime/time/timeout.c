/* runtime/time/timeout.c - weft_timeout: a future with a deadline (Tokio's time::timeout).
 *
 * Who calls it: programs that bound how long they wait for something.
 *
 * The inner future is borrowed and polled first, so an inner future that is ready wins even
 * when the deadline has passed (as in Tokio). When the embedded sleep completes first, the
 * inner future is dropped at once, which is what cancels it, and status becomes
 * WEFT_EELAPSED. `inner` is set to NULL as soon as the inner future has finished or been
 * dropped, so the timeout never polls or drops it again; the caller keeps its own pointer to
 * read the result. A timeout that returns READY has also disarmed its sleep, because a
 * completed future is never dropped and the sleep must not be left in the wheel.
 *
 * Budget: if polling the inner future used up the task's cooperative budget, the sleep is
 * polled without a budget for this one poll. Otherwise an inner future that is always ready
 * enough to spend the budget would starve its own timeout forever, which is the one thing a
 * timeout exists to prevent. (Tokio's Timeout makes the same exception.)
 */
#include "time_int.h"

static weft_poll timeout_poll(weft_future *f, weft_context *cx);
static void timeout_drop(weft_future *f);

static const weft_future_vtable timeout_vt = {
    .poll = timeout_poll,
    .drop = timeout_drop,
    .name = "timeout",
};

void weft_timeout_at_init(weft_timeout *t, weft_instant deadline, weft_future *inner)
{
    t->base.vt = &timeout_vt;
    t->inner = inner;
    weft_sleep_until_init(&t->sleep, deadline);
    t->status = 0;
}

void weft_timeout_init(weft_timeout *t, weft_duration d, weft_future *inner)
{
    weft_instant now = weft_instant_now();
    weft_timeout_at_init(t, d > UINT64_MAX - now ? UINT64_MAX : now + d, inner);
}

static weft_poll timeout_poll(weft_future *f, weft_context *cx)
{
    weft_timeout *t = (weft_timeout *)f;
    bool budget_spent_by_inner = false;

    if (t->inner) {
        int before = weft_coop_remaining();
        if (weft_future_poll(t->inner, cx) == WEFT_READY) {
            t->inner = NULL;
            weft_future_drop(&t->sleep.base);
            t->status = 0;
            return WEFT_READY;
        }
        budget_spent_by_inner = before > 0 && weft_coop_remaining() == 0;
    }

    weft_poll r;
    if (budget_spent_by_inner) {
        int saved = weft__tls.budget;
        weft__tls.budget = -1;
        r = weft_future_poll(&t->sleep.base, cx);
        weft__tls.budget = saved;
    } else {
        r = weft_future_poll(&t->sleep.base, cx);
    }
    if (r == WEFT_PENDING)
        return WEFT_PENDING;

    if (t->inner) {
        weft_future *inner = t->inner;
        t->inner = NULL;
        weft_future_drop(inner);
    }
    t->status = t->sleep.status ? t->sleep.status : WEFT_EELAPSED;
    return WEFT_READY;
}

static void timeout_drop(weft_future *f)
{
    weft_timeout *t = (weft_timeout *)f;
    if (t->inner) {
        weft_future *inner = t->inner;
        t->inner = NULL;
        weft_future_drop(inner);
    }
    weft_future_drop(&t->sleep.base);
}
