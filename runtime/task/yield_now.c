/* runtime/task/yield_now.c - weft_yield_now: give the other tasks a turn.
 *
 * The first poll wakes its own task by reference and returns PENDING. The task is RUNNING, so
 * the wake only sets NOTIFIED; when the poll returns, the runner sees it and requeues the task
 * at the back of the queue (never in the LIFO slot). The second poll is READY.
 */
#include "../rt_int.h"

static weft_poll yield_poll(weft_future *f, weft_context *cx)
{
    weft_yield_now *y = (weft_yield_now *)f;
    if (y->yielded)
        return WEFT_READY;
    y->yielded = true;
    weft_waker_wake_by_ref(cx->waker);
    return WEFT_PENDING;
}

static const weft_future_vtable yield_vt = {
    .poll = yield_poll,
    .drop = NULL,
    .name = "yield_now",
};

void weft_yield_now_init(weft_yield_now *y)
{
    y->base.vt = &yield_vt;
    y->yielded = false;
}
