/* runtime/task/join_handle.c - weft_spawn and the JoinHandle future.
 *
 * A join handle holds one reference to its task and the JOIN_INTEREST flag. Polling it installs
 * the polling task's waker as the task's join waker (the JOIN_WAKER protocol of state.h) and
 * reads the outcome once COMPLETE is set. Dropping it, by detach or by cancelling the future
 * that embeds it, gives up interest and the reference: the task itself runs on.
 */
#include "../rt_int.h"

static weft_poll join_handle_poll(weft_future *f, weft_context *cx)
{
    weft_join_handle *h = (weft_join_handle *)f;
    if (!h->task)
        return WEFT_READY; /* spawn failed, or the outcome was already read: status holds it */
    if (weft__task_poll_join(h->task, cx->waker, &h->status, &h->value) == WEFT_PENDING)
        return WEFT_PENDING;
    weft__task_drop_join(h->task);
    h->task = NULL;
    return WEFT_READY;
}

static void join_handle_drop(weft_future *f)
{
    weft_join_handle_detach((weft_join_handle *)f);
}

static const weft_future_vtable join_handle_vt = {
    .poll = join_handle_poll,
    .drop = join_handle_drop,
    .name = "join_handle",
};

static weft_join_handle handle_for(weft_task *t, int err)
{
    return (weft_join_handle){
        .base = {&join_handle_vt},
        .task = t,
        .id = t ? t->id : 0,
        .status = t ? 0 : err,
        .value = 0,
    };
}

weft_join_handle weft__spawn(weft_runtime *rt, const weft_future *fut, size_t size,
                             const char *name, weft_location where)
{
    rt = weft__runtime_or_current(rt);
    int err = 0;
    weft_task *t = weft__task_spawn(rt, rt ? rt->sched : NULL, fut, size, name, where,
                                    WEFT__TASK_ASYNC, &err);
    return handle_for(t, err);
}

/* Exposed to blocking/pool.c and join_set.c so that every handle is built the same way. */
weft_join_handle weft__join_handle_for(weft_task *t, int err)
{
    return handle_for(t, err);
}

void weft_join_handle_abort(weft_join_handle *h)
{
    if (h->task)
        weft__task_abort(h->task);
}

void weft_join_handle_detach(weft_join_handle *h)
{
    if (h->task) {
        weft__task_drop_join(h->task);
        h->task = NULL;
    }
}

bool weft_join_handle_is_finished(const weft_join_handle *h)
{
    return !h->task || weft__task_is_complete(h->task);
}
