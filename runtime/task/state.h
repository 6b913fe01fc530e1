/* runtime/task/state.h - the task state word and its named transitions.
 *
 * One atomic 64-bit word per task holds six flags and a reference count:
 *
 *    63                                   6   5          4         3       2        1       0
 *   ┌───────────────────────────────────────┬──────────┬─────────┬───────┬────────┬────────┬───────┐
 *   │ reference count (units of REF_ONE)    │CANCELLED │JOIN_WAKR│JOIN_IN│NOTIFIED│COMPLETE│RUNNING│
 *   └───────────────────────────────────────┴──────────┴─────────┴───────┴────────┴────────┴───────┘
 *
 *   RUNNING        a thread is polling the future (or cancelling it); it alone touches the future
 *   COMPLETE       the future is gone and the outcome (status, value) is published
 *   NOTIFIED       the task is, or is about to be, in a run queue; that queue entry holds a ref
 *   JOIN_INTEREST  a join handle exists and wants the outcome
 *   JOIN_WAKER     join_waker is set and belongs to the task's runner (the handle may not touch it)
 *   CANCELLED      abort or shutdown asked for the future to be dropped at its next suspension
 *
 * References are held by: the owned-task list (until the task completes), each queue entry
 * (the "notified" reference), the join handle, and each waker clone. The task is freed when the
 * count reaches zero. A freshly spawned task starts with three: list, queue, handle.
 *
 * Every change to the word goes through a function below. This file and state.c are where the
 * scheduler's correctness is argued; each transition's comment says what the caller may assume
 * afterwards. Lifecycle of a poll:
 *
 *      idle+NOTIFIED ──to_running──▶ RUNNING ──poll──┬─PENDING─▶ to_idle ──▶ idle (NOTIFIED again
 *                                                    │                        if woken meanwhile)
 *                                                    └─READY──▶ to_complete ──▶ COMPLETE
 */
#ifndef WEFT_TASK_STATE_H
#define WEFT_TASK_STATE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define WEFT__ST_RUNNING ((uint64_t)1 << 0)
#define WEFT__ST_COMPLETE ((uint64_t)1 << 1)
#define WEFT__ST_NOTIFIED ((uint64_t)1 << 2)
#define WEFT__ST_JOIN_INTEREST ((uint64_t)1 << 3)
#define WEFT__ST_JOIN_WAKER ((uint64_t)1 << 4)
#define WEFT__ST_CANCELLED ((uint64_t)1 << 5)
#define WEFT__ST_REF_ONE ((uint64_t)1 << 6)
#define WEFT__ST_FLAGS (WEFT__ST_REF_ONE - 1)

/* Three references (owned list, run queue, join handle), the join interest, and NOTIFIED
 * because the spawner queues it at once. */
#define WEFT__ST_INITIAL ((WEFT__ST_REF_ONE * 3) | WEFT__ST_JOIN_INTEREST | WEFT__ST_NOTIFIED)

typedef _Atomic uint64_t weft__state;

static inline uint64_t weft__state_refs(uint64_t s)
{
    return s / WEFT__ST_REF_ONE;
}

static inline uint64_t weft__state_load(const weft__state *st)
{
    return atomic_load_explicit((weft__state *)st, memory_order_acquire);
}

/* ---- polling */
typedef enum {
    WEFT__TO_RUNNING_OK,        /* caller now owns the future: poll it */
    WEFT__TO_RUNNING_CANCELLED, /* caller owns it but must cancel (drop) it instead */
    WEFT__TO_RUNNING_FAILED,    /* running elsewhere or complete; notified ref dropped */
    WEFT__TO_RUNNING_DEALLOC,   /* as FAILED, and that was the last ref: free the task */
} weft__to_running;
weft__to_running weft__state_to_running(weft__state *st);

typedef enum {
    WEFT__TO_IDLE_OK,        /* idle; the notified ref was consumed */
    WEFT__TO_IDLE_OK_NOTIFY, /* woken during the poll: schedule it again; the run's notified
                                ref passes to the new queue entry (do not touch the task after
                                queueing it) */
    WEFT__TO_IDLE_DEALLOC,   /* idle and no refs left */
    WEFT__TO_IDLE_CANCELLED, /* abort arrived during the poll: still RUNNING, cancel now */
} weft__to_idle;
/* `self_woken`: the task woke itself by reference during the poll, which the runner kept
 * out of the state word (task.c): treated exactly as NOTIFIED. */
weft__to_idle weft__state_to_idle(weft__state *st, bool self_woken);

/* RUNNING -> COMPLETE. Returns the new snapshot (read JOIN_INTEREST / JOIN_WAKER from it). */
uint64_t weft__state_to_complete(weft__state *st);

/* Drop `count` references after completing; true when they were the last. */
bool weft__state_to_terminal(weft__state *st, uint64_t count);

/* ---- waking */
typedef enum {
    WEFT__WAKE_NOTHING, /* already notified, running (now marked to re-run) or complete */
    WEFT__WAKE_SUBMIT,  /* caller must schedule the task with a new notified reference */
    WEFT__WAKE_DEALLOC, /* by-value only: the waker's ref was the last; free the task */
} weft__wake;
/* wake by value: consumes the caller's reference (except on SUBMIT, where the caller still
 * holds it and drops it after scheduling). */
weft__wake weft__state_to_notified_by_val(weft__state *st);
/* wake by reference: the caller's reference is untouched. Never DEALLOC. */
weft__wake weft__state_to_notified_by_ref(weft__state *st);

/* Abort: set CANCELLED (and NOTIFIED when idle). True when the caller must schedule the task
 * (a notified reference was taken for it). */
bool weft__state_to_notified_and_cancel(weft__state *st);

/* Shutdown: set CANCELLED; true if the task was idle and the caller now owns it (RUNNING set)
 * and must cancel its future. */
bool weft__state_to_shutdown(weft__state *st);

/* ---- join handle */
/* Set JOIN_WAKER after writing join_waker. False if the task completed first (read the
 * outcome instead). Requires JOIN_INTEREST, !JOIN_WAKER. */
bool weft__state_set_join_waker(weft__state *st);
/* Clear JOIN_WAKER to replace the waker. False if the task completed (the waker is the
 * runner's to drop, and the outcome is ready). */
bool weft__state_unset_join_waker(weft__state *st);
/* The runner, after completing and waking the join waker: clear JOIN_WAKER, handing the
 * waker back to the handle side. Returns the snapshot before. If JOIN_INTEREST is clear in it
 * the handle is gone and the runner must drop the waker itself. */
uint64_t weft__state_unset_waker_after_complete(weft__state *st);
/* The handle is dropped: clear JOIN_INTEREST, and JOIN_WAKER too when the task is not
 * complete (the runner will not touch a waker nobody wants). Returns the snapshot after: when
 * JOIN_WAKER is clear in it the handle owns the waker and drops it; when it is still set the
 * task completed and its runner is about to wake it, and will drop it (see above). */
uint64_t weft__state_drop_join_handle(weft__state *st);

/* ---- references */
void weft__state_ref_inc(weft__state *st);
/* True when the reference dropped was the last. */
bool weft__state_ref_dec(weft__state *st);

#endif
