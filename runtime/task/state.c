/* runtime/task/state.c - transitions of the task state word (see state.h for the layout).
 *
 * Each transition is a compare-and-swap loop over the whole word, so flags and the reference
 * count always change together and no thread ever sees a half-done transition. Orderings:
 * transitions that hand the future from one thread to another (to_running, to_idle,
 * to_complete) use acq_rel so that everything the previous owner wrote to the future or the
 * outcome is visible to the next. Reference increments are relaxed (the incrementing thread
 * already holds a reference); the decrement that may be the last is acq_rel, so the freeing
 * thread sees every other thread's last writes.
 *
 * Callers: task.c (poll harness, wakers, abort, shutdown) and join_handle.c.
 */
#include "state.h"

#include <assert.h>
#include <stdlib.h>

/* The CAS loop all transitions share: `step` computes the next word from the current one (and
 * an action); returning false means "no change needed", and the loop stops without writing. */
#define CAS_LOOP(st, cur, next, body)                                                        \
    uint64_t cur = atomic_load_explicit((st), memory_order_acquire);                         \
    for (;;) {                                                                               \
        uint64_t next = cur;                                                                 \
        body;                                                                                \
        if (atomic_compare_exchange_weak_explicit((st), &cur, next, memory_order_acq_rel,    \
                                                  memory_order_acquire))                     \
            break;                                                                           \
    }

static void ref_underflow(void)
{
    /* A reference dropped twice is a bug in the runtime, never in user code; continuing would
     * free memory that is still used. */
    abort();
}

weft__to_running weft__state_to_running(weft__state *st)
{
    weft__to_running action;
    CAS_LOOP(st, cur, next, {
        assert(cur & WEFT__ST_NOTIFIED);
        if (cur & (WEFT__ST_RUNNING | WEFT__ST_COMPLETE)) {
            /* Someone else runs it, or it is finished: this queue entry is stale. */
            if (weft__state_refs(cur) == 0)
                ref_underflow();
            next = cur - WEFT__ST_REF_ONE;
            action = weft__state_refs(next) == 0 ? WEFT__TO_RUNNING_DEALLOC
                                                 : WEFT__TO_RUNNING_FAILED;
        } else {
            next = (cur & ~WEFT__ST_NOTIFIED) | WEFT__ST_RUNNING;
            action = (cur & WEFT__ST_CANCELLED) ? WEFT__TO_RUNNING_CANCELLED
                                                : WEFT__TO_RUNNING_OK;
        }
    });
    return action;
}

weft__to_idle weft__state_to_idle(weft__state *st, bool self_woken)
{
    weft__to_idle action;
    uint64_t cur = atomic_load_explicit(st, memory_order_acquire);
    for (;;) {
        assert(cur & WEFT__ST_RUNNING);
        if (cur & WEFT__ST_CANCELLED)
            return WEFT__TO_IDLE_CANCELLED; /* stays RUNNING: the caller cancels */
        uint64_t next = cur & ~WEFT__ST_RUNNING;
        if (self_woken)
            next |= WEFT__ST_NOTIFIED;
        if (!(next & WEFT__ST_NOTIFIED)) {
            /* Polling consumed the notified reference that got us here. */
            next -= WEFT__ST_REF_ONE;
            action = weft__state_refs(next) == 0 ? WEFT__TO_IDLE_DEALLOC : WEFT__TO_IDLE_OK;
        } else {
            /* Woken while running: it must run again. The reference that got us here passes
             * to the new queue entry (one atomic per yield fewer than taking a new one and
             * dropping ours); the caller queues the task and does not touch it afterwards. */
            action = WEFT__TO_IDLE_OK_NOTIFY;
        }
        if (atomic_compare_exchange_weak_explicit(st, &cur, next, memory_order_acq_rel,
                                                  memory_order_acquire))
            return action;
    }
}

uint64_t weft__state_to_complete(weft__state *st)
{
    /* RUNNING and COMPLETE both flip: xor is exact because RUNNING is set, COMPLETE clear. */
    uint64_t prev = atomic_fetch_xor_explicit(st, WEFT__ST_RUNNING | WEFT__ST_COMPLETE,
                                              memory_order_acq_rel);
    assert(prev & WEFT__ST_RUNNING);
    assert(!(prev & WEFT__ST_COMPLETE));
    return prev ^ (WEFT__ST_RUNNING | WEFT__ST_COMPLETE);
}

bool weft__state_to_terminal(weft__state *st, uint64_t count)
{
    uint64_t prev = atomic_fetch_sub_explicit(st, count * WEFT__ST_REF_ONE,
                                              memory_order_acq_rel);
    if (weft__state_refs(prev) < count)
        ref_underflow();
    return weft__state_refs(prev) == count;
}

weft__wake weft__state_to_notified_by_val(weft__state *st)
{
    weft__wake action;
    CAS_LOOP(st, cur, next, {
        if (cur & WEFT__ST_RUNNING) {
            /* The runner will see NOTIFIED in to_idle and requeue; our ref is not needed. */
            next = (cur | WEFT__ST_NOTIFIED) - WEFT__ST_REF_ONE;
            assert(weft__state_refs(next) > 0); /* the runner holds one */
            action = WEFT__WAKE_NOTHING;
        } else if (cur & (WEFT__ST_COMPLETE | WEFT__ST_NOTIFIED)) {
            next = cur - WEFT__ST_REF_ONE;
            action = weft__state_refs(next) == 0 ? WEFT__WAKE_DEALLOC : WEFT__WAKE_NOTHING;
        } else {
            /* Idle: queue it. The queue entry gets a fresh reference; the caller still holds
             * the waker's and drops it after scheduling. */
            next = (cur | WEFT__ST_NOTIFIED) + WEFT__ST_REF_ONE;
            action = WEFT__WAKE_SUBMIT;
        }
    });
    return action;
}

weft__wake weft__state_to_notified_by_ref(weft__state *st)
{
    weft__wake action;
    uint64_t cur = atomic_load_explicit(st, memory_order_acquire);
    for (;;) {
        uint64_t next;
        if (cur & (WEFT__ST_COMPLETE | WEFT__ST_NOTIFIED))
            return WEFT__WAKE_NOTHING;
        if (cur & WEFT__ST_RUNNING) {
            next = cur | WEFT__ST_NOTIFIED;
            action = WEFT__WAKE_NOTHING;
        } else {
            next = (cur | WEFT__ST_NOTIFIED) + WEFT__ST_REF_ONE;
            action = WEFT__WAKE_SUBMIT;
        }
        if (atomic_compare_exchange_weak_explicit(st, &cur, next, memory_order_acq_rel,
                                                  memory_order_acquire))
            return action;
    }
}

bool weft__state_to_notified_and_cancel(weft__state *st)
{
    uint64_t cur = atomic_load_explicit(st, memory_order_acquire);
    for (;;) {
        uint64_t next;
        bool submit = false;
        if (cur & (WEFT__ST_CANCELLED | WEFT__ST_COMPLETE))
            return false;
        if (cur & WEFT__ST_RUNNING) {
            /* The runner sees CANCELLED in to_idle and cancels there. */
            next = cur | WEFT__ST_NOTIFIED | WEFT__ST_CANCELLED;
        } else if (cur & WEFT__ST_NOTIFIED) {
            /* Already queued: to_running will report CANCELLED. */
            next = cur | WEFT__ST_CANCELLED;
        } else {
            next = (cur | WEFT__ST_NOTIFIED | WEFT__ST_CANCELLED) + WEFT__ST_REF_ONE;
            submit = true;
        }
        if (atomic_compare_exchange_weak_explicit(st, &cur, next, memory_order_acq_rel,
                                                  memory_order_acquire))
            return submit;
    }
}

bool weft__state_to_shutdown(weft__state *st)
{
    bool owned;
    CAS_LOOP(st, cur, next, {
        owned = !(cur & (WEFT__ST_RUNNING | WEFT__ST_COMPLETE));
        next = cur | WEFT__ST_CANCELLED;
        if (owned)
            next |= WEFT__ST_RUNNING;
    });
    return owned;
}

bool weft__state_set_join_waker(weft__state *st)
{
    uint64_t cur = atomic_load_explicit(st, memory_order_acquire);
    for (;;) {
        assert(cur & WEFT__ST_JOIN_INTEREST);
        assert(!(cur & WEFT__ST_JOIN_WAKER));
        if (cur & WEFT__ST_COMPLETE)
            return false;
        uint64_t next = cur | WEFT__ST_JOIN_WAKER;
        /* release: the runner that sees JOIN_WAKER must see the waker we wrote. */
        if (atomic_compare_exchange_weak_explicit(st, &cur, next, memory_order_acq_rel,
                                                  memory_order_acquire))
            return true;
    }
}

bool weft__state_unset_join_waker(weft__state *st)
{
    uint64_t cur = atomic_load_explicit(st, memory_order_acquire);
    for (;;) {
        assert(cur & WEFT__ST_JOIN_INTEREST);
        assert(cur & WEFT__ST_JOIN_WAKER);
        if (cur & WEFT__ST_COMPLETE)
            return false;
        uint64_t next = cur & ~WEFT__ST_JOIN_WAKER;
        if (atomic_compare_exchange_weak_explicit(st, &cur, next, memory_order_acq_rel,
                                                  memory_order_acquire))
            return true;
    }
}

uint64_t weft__state_unset_waker_after_complete(weft__state *st)
{
    uint64_t prev = atomic_fetch_and_explicit(st, ~WEFT__ST_JOIN_WAKER, memory_order_acq_rel);
    assert(prev & WEFT__ST_COMPLETE);
    assert(prev & WEFT__ST_JOIN_WAKER);
    return prev;
}

uint64_t weft__state_drop_join_handle(weft__state *st)
{
    uint64_t cur = atomic_load_explicit(st, memory_order_acquire);
    for (;;) {
        assert(cur & WEFT__ST_JOIN_INTEREST);
        uint64_t next = cur & ~WEFT__ST_JOIN_INTEREST;
        if (!(cur & WEFT__ST_COMPLETE))
            next &= ~WEFT__ST_JOIN_WAKER;
        if (atomic_compare_exchange_weak_explicit(st, &cur, next, memory_order_acq_rel,
                                                  memory_order_acquire))
            return next;
    }
}

void weft__state_ref_inc(weft__state *st)
{
    atomic_fetch_add_explicit(st, WEFT__ST_REF_ONE, memory_order_relaxed);
}

bool weft__state_ref_dec(weft__state *st)
{
    uint64_t prev = atomic_fetch_sub_explicit(st, WEFT__ST_REF_ONE, memory_order_acq_rel);
    if (weft__state_refs(prev) == 0)
        ref_underflow();
    return weft__state_refs(prev) == 1;
}
