/* weft/task.h - tasks, join handles, JoinSet, yield_now, cooperative budget, spawn_blocking.
 *
 * Tokio's names map one to one: tokio::spawn -> weft_spawn, JoinHandle -> weft_join_handle,
 * JoinHandle::abort -> weft_join_handle_abort, task::JoinSet -> weft_join_set,
 * task::yield_now -> weft_yield_now, task::spawn_blocking -> weft_spawn_blocking.
 */
#ifndef WEFT_TASK_H
#define WEFT_TASK_H

#include <weft/future.h>

typedef struct weft_runtime weft_runtime;

/* A task's id: unique within the process, never reused, never 0. */
typedef uint64_t weft_task_id;

/* ---------------------------------------------------------------- join handles
 *
 * weft_spawn returns a join handle by value. The handle is a future: awaiting it waits for the
 * task and then holds its outcome in `status` and `value`:
 *   status == 0               the task finished; `value` is what it passed to weft_task_return
 *   status == WEFT_ECANCELLED the task was aborted or the runtime shut down first
 *   status == other WEFT_E*   the task ended with weft_task_fail(cx, status), or spawning failed
 *
 * Dropping a handle (weft_join_handle_detach, or cancelling the future that embeds it) detaches
 * the task: it keeps running and its outcome is discarded, as in Tokio. A handle is one owner;
 * do not copy it after spawn returned it to you.
 */
typedef struct weft_join_handle {
    weft_future base;
    weft_task *task; /* NULL once the outcome was read, or after detach */
    weft_task_id id; /* the task's id, kept after the outcome was read */
    int status;      /* valid once the handle was polled to READY */
    intptr_t value;
} weft_join_handle;

/* Spawn a future as a new task on the current runtime (the runtime of the calling task, or
 * the one whose block_on is running on this thread). The future is copied (sizeof *fut bytes)
 * into the task's single allocation, so it must not have been polled yet. The task is named
 * after the future's type unless weft_spawn_named gives it a name; the name is borrowed and
 * must outlive the task (a string literal is the usual choice). */
#define weft_spawn(fut) weft__spawn(NULL, (weft_future *)(fut), sizeof *(fut), NULL, WEFT_HERE)
#define weft_spawn_named(name, fut) \
    weft__spawn(NULL, (weft_future *)(fut), sizeof *(fut), (name), WEFT_HERE)
/* Spawn onto a given runtime, from any thread. */
#define weft_runtime_spawn(rt, fut) \
    weft__spawn((rt), (weft_future *)(fut), sizeof *(fut), NULL, WEFT_HERE)
#define weft_runtime_spawn_named(rt, name, fut) \
    weft__spawn((rt), (weft_future *)(fut), sizeof *(fut), (name), WEFT_HERE)

weft_join_handle weft__spawn(weft_runtime *rt, const weft_future *fut, size_t size,
                             const char *name, weft_location where);

/* Request cancellation. The task's future is dropped at its next suspension point (at once if
 * it is idle) and the join reports WEFT_ECANCELLED, unless the task finished first. */
void weft_join_handle_abort(weft_join_handle *h);

/* Give up interest in the outcome; the task runs on. Safe on an already-detached handle. */
void weft_join_handle_detach(weft_join_handle *h);

/* True once the task has completed (finished, failed or cancelled). */
bool weft_join_handle_is_finished(const weft_join_handle *h);

/* ---------------------------------------------------------------- inside a task */

/* Set the value the task's join reports (status 0). Call from the task being polled, usually
 * just before its root future returns READY. */
void weft_task_return(weft_context *cx, intptr_t value);

/* End the task with an error: its join reports `err` (a negative WEFT_E* or user code). The
 * root future should return READY right after. */
void weft_task_fail(weft_context *cx, int err);

/* The id of the task being polled on this thread, or 0 outside a task. */
weft_task_id weft_task_id_current(void);

/* ---------------------------------------------------------------- yield_now
 *
 * Awaiting it returns PENDING once and puts the task at the back of the run queue, so that
 * other tasks get a turn (Tokio's task::yield_now). */
typedef struct weft_yield_now {
    weft_future base;
    bool yielded;
} weft_yield_now;

void weft_yield_now_init(weft_yield_now *y);

/* ---------------------------------------------------------------- cooperative budget
 *
 * Each poll of a task gets a budget of WEFT_COOP_BUDGET ready leaf operations. A leaf future
 * that could complete at once first calls weft_coop_proceed(): when it returns false the budget
 * is spent, the task has been woken again, and the leaf must return PENDING. This is what keeps
 * a task that only ever sees ready operations from starving its neighbours and the timers. A
 * hand-written leaf future that skips the call is the "greedy consumer" bug of lab 02.
 */
#define WEFT_COOP_BUDGET 128

bool weft_coop_proceed(weft_context *cx);

/* Remaining budget of the current poll; -1 when no budget applies (outside a task poll). */
int weft_coop_remaining(void);

/* ---------------------------------------------------------------- JoinSet
 *
 * A set of tasks whose outcomes are collected in completion order. Destroying the set aborts
 * every task still in it. Not thread-safe: use a set from one task at a time (as in Tokio,
 * where it needs &mut).
 */
typedef struct weft_join_set weft_join_set;

/* Allocate an empty set: 0 or WEFT_ENOMEM. */
int weft_join_set_new(weft_join_set **out);

/* Abort every task still in the set, then free it. The tasks' futures are dropped by the
 * runtime; their outcomes are discarded. */
void weft_join_set_free(weft_join_set *set);

#define weft_join_set_spawn(set, fut) \
    weft__join_set_spawn((set), NULL, (weft_future *)(fut), sizeof *(fut), NULL, WEFT_HERE)
#define weft_join_set_spawn_named(set, name, fut) \
    weft__join_set_spawn((set), NULL, (weft_future *)(fut), sizeof *(fut), (name), WEFT_HERE)

/* Returns the new task's id, or a negative WEFT_E* if it could not be spawned. */
int64_t weft__join_set_spawn(weft_join_set *set, weft_runtime *rt, const weft_future *fut,
                             size_t size, const char *name, weft_location where);

/* Tasks in the set whose outcome has not been collected yet. */
size_t weft_join_set_len(const weft_join_set *set);

/* Abort every task in the set; they stay in it until join_next collects their outcome. */
void weft_join_set_abort_all(weft_join_set *set);

/* join_next: READY with the outcome of the next task to complete. When the set is empty it is
 * READY at once with status WEFT_EEMPTY (Tokio's None). Dropping it loses nothing: an outcome
 * is only taken out of the set when this future returns READY. */
typedef struct weft_join_next {
    weft_future base;
    weft_join_set *set;
    weft_task_id id; /* the task that completed */
    int status;      /* 0, WEFT_ECANCELLED, the task's error, or WEFT_EEMPTY */
    intptr_t value;
} weft_join_next;

void weft_join_set_join_next_init(weft_join_next *f, weft_join_set *set);

/* ---------------------------------------------------------------- spawn_blocking
 *
 * Run a blocking function on the runtime's blocking pool, a separate set of threads that grows
 * up to max_blocking_threads and shrinks after thread_keep_alive. The join handle reports the
 * function's return code (0 or a negative error) as status and *value as value. A blocking
 * function cannot be interrupted: abort only prevents it from starting.
 */
typedef int (*weft_blocking_fn)(void *arg, intptr_t *value);

#define weft_spawn_blocking(fn, arg) weft__spawn_blocking(NULL, (fn), (arg), #fn, WEFT_HERE)

weft_join_handle weft__spawn_blocking(weft_runtime *rt, weft_blocking_fn fn, void *arg,
                                      const char *name, weft_location where);

#endif
