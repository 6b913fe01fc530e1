/* runtime/future.c - small helpers every future uses: waker registration, dropping a suspended
 * async function, and the always-ready / never-ready futures. */
#include <weft/future.h>

void weft_waker_register(weft_waker *slot, const weft_context *cx)
{
    if (weft_waker_is_set(slot) && weft_waker_will_wake(slot, cx->waker))
        return;
    weft_waker_drop(slot);
    *slot = weft_waker_clone(cx->waker);
}

void weft_async_drop(weft_future *self)
{
    weft_async *co = (weft_async *)self;
    if (co->resume != WEFT_ASYNC_DONE && co->awaiting) {
        weft_future *sub = co->awaiting;
        co->awaiting = NULL;
        weft_future_drop(sub);
    }
    co->resume = WEFT_ASYNC_DONE;
}

static weft_poll ready_poll(weft_future *f, weft_context *cx)
{
    (void)f;
    (void)cx;
    return WEFT_READY;
}

static const weft_future_vtable ready_vt = {.poll = ready_poll, .drop = NULL, .name = "ready"};

void weft_ready_init(weft_ready_future *f)
{
    f->base.vt = &ready_vt;
}

static weft_poll pending_poll(weft_future *f, weft_context *cx)
{
    (void)f;
    (void)cx;
    return WEFT_PENDING;
}

static const weft_future_vtable pending_vt = {
    .poll = pending_poll, .drop = NULL, .name = "pending"};

void weft_pending_init(weft_pending_future *f)
{
    f->base.vt = &pending_vt;
}
