/* runtime/task/task.c - a task's life: spawn, poll, wake, cancel, complete, free.
 *
 * A task is one allocation: the weft_task header followed by a copy of the spawned future.
 *
 *   ┌────────────── weft_task ──────────────┬──────── future storage ────────┐
 *   │ state │ sched │ links │ join_waker │ …│ (copied from the spawner,      │
 *   │                                       │  polled in place from now on)  │
 *   └───────────────────────────────────────┴────────────────────────────────┘
 *
 * Schedulers call weft__task_run() for every queue entry they pop; wakers call back into this
 * file; join handles use join_handle.c. Every state change goes through state.c, whose
 * transitions say who owns the future at each moment: only the thread that set RUNNING touches
 * the future, and the outcome (status, value) is written before COMPLETE is published.
 */
#include <stdlib.h>
#include <string.h>

#include "../rt_int.h"
#include "state.h"

static _Atomic uint64_t next_task_id = 1;

/* ---------------------------------------------------------------- freeing */

static void task_dealloc(weft_task *t)
{
    /* COMPLETE was set, so the future is gone; a join waker the handle left behind is ours. */
    weft_waker_drop(&t->join_waker);
    weft__task_free(t, sizeof *t + t->future_size);
}

static void task_drop_ref(weft_task *t)
{
    if (weft__state_ref_dec(&t->state))
        task_dealloc(t);
}

/* ---------------------------------------------------------------- wakers
 *
 * A task's waker is (task_waker_vt, task). Each clone holds a reference. During a poll the
 * context carries a borrowed waker with the same vtable that holds none: it is valid until the
 * poll returns, and clone() turns it into an owned one.
 */
static void schedule(weft_task *t, bool is_yield)
{
    t->sched->ops->schedule(t->sched, t, is_yield);
}

static weft_waker waker_clone(const void *data)
{
    weft_task *t = (weft_task *)data;
    weft__state_ref_inc(&t->state);
    WEFT_HOOK(waker_clone, t);
    return (weft_waker){&weft__task_waker_vt, t};
}

static void waker_wake_by_ref(const void *data)
{
    weft_task *t = (weft_task *)data;
    WEFT_HOOK(task_wake, t, false);
    if (t == weft__tls.task) {
        /* The task wakes itself while this thread polls it (a yield, a spent budget): it is
         * RUNNING here, so setting NOTIFIED would only make it run again, which to_idle can
         * decide in the CAS it does anyway. One atomic per yield fewer. */
        weft__tls.self_woken = true;
        return;
    }
    if (weft__state_to_notified_by_ref(&t->state) == WEFT__WAKE_SUBMIT)
        schedule(t, false);
}

static void waker_wake(const void *data)
{
    weft_task *t = (weft_task *)data;
    WEFT_HOOK(task_wake, t, true);
    switch (weft__state_to_notified_by_val(&t->state)) {
    case WEFT__WAKE_SUBMIT:
        schedule(t, false);
        task_drop_ref(t); /* the waker's own reference */
        break;
    case WEFT__WAKE_DEALLOC:
        task_dealloc(t);
        break;
    case WEFT__WAKE_NOTHING:
        break;
    }
}

static void waker_drop(const void *data)
{
    weft_task *t = (weft_task *)data;
    WEFT_HOOK(waker_drop, t);
    task_drop_ref(t);
}

const weft_waker_vtable weft__task_waker_vt = {
    .clone = waker_clone,
    .wake = waker_wake,
    .wake_by_ref = waker_wake_by_ref,
    .drop = waker_drop,
};

/* ---------------------------------------------------------------- spawning */

weft_task *weft__task_spawn(weft_runtime *rt, weft__sched *sched, const weft_future *fut,
                            size_t size, const char *name, weft_location where, int kind,
                            int *err)
{
    if (!rt) {
        *err = WEFT_ENORUNTIME;
        return NULL;
    }
    if (size < sizeof(weft_future) || !fut || !fut->vt || !fut->vt->poll) {
        *err = WEFT_EINVAL;
        return NULL;
    }
    weft_task *t = weft__task_alloc(sizeof *t + size);
    if (!t) {
        *err = WEFT_ENOMEM;
        return NULL;
    }
    atomic_init(&t->state, WEFT__ST_INITIAL);
    t->sched = sched;
    t->rt = rt;
    t->queue_next = NULL;
    t->owned_next = t->owned_prev = NULL;
    t->join_waker = WEFT_WAKER_NONE;
    t->status = 0;
    t->value = 0;
    t->id = atomic_fetch_add_explicit(&next_task_id, 1, memory_order_relaxed);
    t->parent = weft__tls.task ? weft__tls.task->id : 0;
    t->name = name ? name : (fut->vt->name ? fut->vt->name : "task");
    t->spawned_at = where;
    t->kind = (unsigned char)kind;
    t->future_done = false;
#if WEFT_INSTRUMENT
    atomic_init(&t->trace_wait_res, 0);
    atomic_init(&t->trace_wait_loc, 0);
    atomic_init(&t->trace_wait_op, 0); /* not waiting */
#endif
    t->future_size = size;
    memcpy(t->future, fut, size);

    if (!weft__owned_insert(&rt->owned, t)) {
        /* The runtime is shutting down: the task is cancelled before it ever runs, as Tokio
         * does. It still gets a valid join handle that reports the cancellation. */
        t->future_done = true;
        t->status = WEFT_ECANCELLED;
        atomic_store_explicit(&t->state,
                              WEFT__ST_REF_ONE | WEFT__ST_JOIN_INTEREST | WEFT__ST_COMPLETE |
                                  WEFT__ST_CANCELLED,
                              memory_order_release);
        /* The spawned-but-never-run future is dropped: it owns what it was given. */
        weft_future_drop(weft__task_future(t));
        return t;
    }
    WEFT_HOOK(task_spawn, t);
    schedule(t, false);
    return t;
}

/* ---------------------------------------------------------------- completing */

/* The runner owns the task (RUNNING) and the future is finished or dropped. Publish the
 * outcome, hand it to the join handle, leave the owned list, and drop the references that the
 * run and the list held. */
static void complete(weft_task *t)
{
    t->future_done = true;
    uint64_t snap = weft__state_to_complete(&t->state);
    WEFT_HOOK(task_complete, t, t->status);
    if ((snap & WEFT__ST_JOIN_INTEREST) && (snap & WEFT__ST_JOIN_WAKER)) {
        weft_waker_wake_by_ref(&t->join_waker);
        /* Give the waker back rather than keep it until the task is freed: a waker holds a
         * reference on the task it wakes, so two finished tasks that awaited each other's
         * joins would otherwise keep each other alive forever. */
        if (!(weft__state_unset_waker_after_complete(&t->state) & WEFT__ST_JOIN_INTEREST)) {
            weft_waker_drop(&t->join_waker);
            t->join_waker = WEFT_WAKER_NONE;
        }
    }
    /* The run's reference (the consumed notified one, or the owned list's at shutdown). */
    uint64_t release = 1;
    if (weft__owned_remove(&t->rt->owned, t))
        release++;
    if (weft__state_to_terminal(&t->state, release))
        task_dealloc(t);
}

static void cancel_future(weft_task *t)
{
    if (!t->future_done) {
        weft_future_drop(weft__task_future(t));
        t->future_done = true;
    }
    t->status = WEFT_ECANCELLED;
    t->value = 0;
}

/* ---------------------------------------------------------------- running */

void weft__task_run(weft_task *t)
{
    switch (weft__state_to_running(&t->state)) {
    case WEFT__TO_RUNNING_FAILED:
        return;
    case WEFT__TO_RUNNING_DEALLOC:
        task_dealloc(t);
        return;
    case WEFT__TO_RUNNING_CANCELLED:
        cancel_future(t);
        complete(t);
        return;
    case WEFT__TO_RUNNING_OK:
        break;
    }

    weft_waker waker = {&weft__task_waker_vt, t}; /* borrowed: holds no reference */
    weft_context cx = {&waker, t};
    weft_task *outer = weft__tls.task;
    bool outer_self_woken = weft__tls.self_woken;
    weft__tls.task = t;
    weft__tls.self_woken = false;
    WEFT_HOOK(task_poll_begin, t);
    weft_poll r = weft_future_poll(weft__task_future(t), &cx);
    WEFT_HOOK(task_poll_end, t, r == WEFT_READY);
    bool self_woken = weft__tls.self_woken;
    weft__tls.task = outer;
    weft__tls.self_woken = outer_self_woken;

    if (r == WEFT_READY) {
        complete(t);
        return;
    }
    switch (weft__state_to_idle(&t->state, self_woken)) {
    case WEFT__TO_IDLE_OK:
        break;
    case WEFT__TO_IDLE_DEALLOC:
        task_dealloc(t);
        break;
    case WEFT__TO_IDLE_OK_NOTIFY:
        /* Woken while it ran (a yield, an exhausted budget, or a real wake): back of the
         * queue, so that it cannot monopolise the LIFO slot. Our reference goes with it
         * (state.h): t may run and be freed elsewhere as soon as it is queued. */
        schedule(t, true);
        break;
    case WEFT__TO_IDLE_CANCELLED:
        cancel_future(t);
        complete(t);
        break;
    }
}

void weft__task_drop_notified(weft_task *t)
{
    task_drop_ref(t);
}

void weft__task_shutdown(weft_task *t)
{
    if (weft__state_to_shutdown(&t->state)) {
        /* It was idle: we own it now. The list's reference was given to us by the caller, and
         * complete() finds the task no longer listed, so it releases exactly that one. */
        cancel_future(t);
        complete(t);
    } else {
        /* Running elsewhere (it will see CANCELLED at its next suspension) or complete. */
        task_drop_ref(t);
    }
}

void weft__task_abort(weft_task *t)
{
    WEFT_HOOK(task_abort, t);
    if (weft__state_to_notified_and_cancel(&t->state))
        schedule(t, false);
}

bool weft__task_is_complete(const weft_task *t)
{
    return (weft__state_load(&t->state) & WEFT__ST_COMPLETE) != 0;
}

/* ---------------------------------------------------------------- join plumbing */

static void take_outcome(weft_task *t, int *status, intptr_t *value)
{
    *status = t->status;
    *value = t->value;
}

/* The task a join waker belongs to, for the join-wait events: a task's own waker names it; any
 * other waker (a JoinSet entry's, block_on's) is not a task awaiting this join, so 0. */
static uint64_t join_waiter(const weft_waker *w)
{
    return w->vt == &weft__task_waker_vt ? ((const weft_task *)w->data)->id : 0;
}

/* The events say which task awaits which join, so that the console can follow a join in a
 * wait chain: task_join_wait when a task's waker is installed (the handle returns PENDING),
 * task_join_wait_done when the handle lets go (weft__task_drop_join: outcome read, detach, or
 * the awaiting future dropped) or another task's waker replaces it. Re-polls that keep the
 * same waker report nothing: the wait goes on. */
weft_poll weft__task_poll_join(weft_task *t, const weft_waker *waker, int *status,
                               intptr_t *value)
{
    uint64_t s = weft__state_load(&t->state);
    if (s & WEFT__ST_COMPLETE) {
        take_outcome(t, status, value);
        return WEFT_READY;
    }
    if (s & WEFT__ST_JOIN_WAKER) {
        /* A waker is installed; keep it if it wakes the same task. */
        if (weft_waker_will_wake(&t->join_waker, waker))
            return WEFT_PENDING;
        if (!weft__state_unset_join_waker(&t->state)) {
            take_outcome(t, status, value);
            return WEFT_READY;
        }
        /* JOIN_WAKER is clear: the waker is ours again to replace. */
    }
    if (WEFT__TRACING()) {
        uint64_t before = join_waiter(&t->join_waker);
        if (before && before != join_waiter(waker))
            WEFT_HOOK(task_join_wait_done, before, t);
    }
    weft_waker_drop(&t->join_waker);
    t->join_waker = weft_waker_clone(waker);
    if (!weft__state_set_join_waker(&t->state)) {
        /* Completed before we could publish the waker: nobody will wake it, so drop it. */
        weft_waker_drop(&t->join_waker);
        take_outcome(t, status, value);
        return WEFT_READY;
    }
    if (WEFT__TRACING()) {
        uint64_t waiter = join_waiter(waker);
        if (waiter)
            WEFT_HOOK(task_join_wait, waiter, t);
    }
    return WEFT_PENDING;
}

void weft__task_drop_join(weft_task *t)
{
    /* The outcome is a pair of integers, nothing to free; the waker is ours to drop unless
     * the runner still holds it (it then drops it itself, see complete()). The waker's task
     * is read before JOIN_INTEREST goes: until then the runner never drops it. */
    if (WEFT__TRACING()) {
        uint64_t waiter = join_waiter(&t->join_waker);
        if (waiter)
            WEFT_HOOK(task_join_wait_done, waiter, t);
    }
    if (!(weft__state_drop_join_handle(&t->state) & WEFT__ST_JOIN_WAKER)) {
        weft_waker_drop(&t->join_waker);
        t->join_waker = WEFT_WAKER_NONE;
    }
    task_drop_ref(t);
}

/* ---------------------------------------------------------------- inside a task */

void weft_task_return(weft_context *cx, intptr_t value)
{
    weft_task *t = cx ? cx->task : weft__tls.task;
    if (t) {
        t->status = 0;
        t->value = value;
    }
}

void weft_task_fail(weft_context *cx, int err)
{
    weft_task *t = cx ? cx->task : weft__tls.task;
    if (t) {
        t->status = err;
        t->value = 0;
    }
}

weft_task_id weft_task_id_current(void)
{
    return weft__tls.task ? weft__tls.task->id : 0;
}
