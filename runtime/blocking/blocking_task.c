/* runtime/blocking/blocking_task.c - spawn_blocking: a blocking function as a task.
 *
 * A blocking task is an ordinary weft_task of kind WEFT__TASK_BLOCKING whose scheduler is the
 * blocking pool (pool.c). Its future is tiny: polled once, on a pool thread, it calls the user's
 * function to the end and completes with the function's return code as the task's status and
 * what it stored in *value as the task's value. It never returns PENDING, so it never needs its
 * waker and is never queued twice.
 *
 * Reusing the task machinery is what gives spawn_blocking the same join handle, abort and
 * shutdown semantics as weft_spawn without a second implementation: abort before the function
 * started cancels the task (weft__task_run sees CANCELLED and drops the future without polling
 * it), abort after it started changes nothing, because the function cannot be interrupted.
 *
 * Callers: user code through weft_spawn_blocking / weft__spawn_blocking.
 */
#include "blocking_int.h"

typedef struct blocking_future {
    weft_future base;
    weft_blocking_fn fn; /* the user's function; run exactly once, or never if cancelled */
    void *arg;           /* borrowed from the spawner, handed to fn */
} blocking_future;

static weft_poll blocking_poll(weft_future *self, weft_context *cx)
{
    blocking_future *f = (blocking_future *)self;
    intptr_t value = 0;
    int rc = f->fn(f->arg, &value);
    if (rc == 0)
        weft_task_return(cx, value);
    else
        weft_task_fail(cx, rc);
    return WEFT_READY;
}

static const weft_future_vtable blocking_vt = {
    .poll = blocking_poll,
    .drop = NULL, /* a function that never started holds nothing; `arg` is the caller's */
    .name = "spawn_blocking",
};

weft_join_handle weft__spawn_blocking(weft_runtime *rt, weft_blocking_fn fn, void *arg,
                                      const char *name, weft_location where)
{
    rt = weft__runtime_or_current(rt);
    if (!rt)
        return weft__join_handle_for(NULL, WEFT_ENORUNTIME);
    if (!fn)
        return weft__join_handle_for(NULL, WEFT_EINVAL);
    blocking_future f = {.base = {&blocking_vt}, .fn = fn, .arg = arg};
    int err = 0;
    weft_task *t = weft__task_spawn(rt, weft__blocking_pool_sched(rt->blocking), &f.base,
                                    sizeof f, name, where, WEFT__TASK_BLOCKING, &err);
    return weft__join_handle_for(t, err);
}
