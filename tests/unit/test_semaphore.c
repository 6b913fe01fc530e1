/* tests/unit/test_semaphore.c - the fair batch semaphore: permits, FIFO order, partial
 * assignment, cancellation, close, and permits moved between tasks.
 *
 * Two kinds of cases:
 *   - hand-polled: acquire futures are polled directly with a counting waker, outside any
 *     runtime, so that the order of events is fixed by the test and every wake-up is counted
 *     (and every waker clone is checked to have been consumed);
 *   - on a runtime, both flavours: tasks that wait, get woken and release, including the
 *     multi-thread stress test (suite 'tsan' as well) that checks the permit bound with
 *     atomics. Each runtime case ends with weft_runtime_shutdown, which under ASan also proves
 *     nothing leaked.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>
#include <weft/weft.h>

#include "util/futex_mutex.h" /* queued(): peeks at the waiter count under the lock */

/* ---------------------------------------------------------------- helpers */

static weft_runtime *new_rt(weft_flavor flavor)
{
    weft_builder b = flavor == WEFT_CURRENT_THREAD ? weft_builder_new_current_thread()
                                                   : weft_builder_new_multi_thread();
    b.worker_threads = 2;
    weft_runtime *rt = NULL;
    assert_int_equal(weft_runtime_new(&b, &rt), 0);
    assert_non_null(rt);
    return rt;
}

static void run(weft_flavor flavor, weft_future *root)
{
    weft_runtime *rt = new_rt(flavor);
    assert_int_equal(weft_block_on(rt, root), 0);
    weft_runtime_shutdown(rt);
}

/* A waker that counts: wakes (by value or by ref), and clones minus consumed handles, which
 * must be back at 0 once every future is finished or dropped (no waker leaked). */
typedef struct counting_waker {
    _Atomic int wakes;
    _Atomic int live; /* clones not yet woken by value or dropped */
} counting_waker;

static const weft_waker_vtable counting_vt;

static weft_waker cw_clone(const void *d)
{
    atomic_fetch_add(&((counting_waker *)d)->live, 1);
    return (weft_waker){&counting_vt, d};
}

static void cw_wake(const void *d)
{
    atomic_fetch_add(&((counting_waker *)d)->wakes, 1);
    atomic_fetch_sub(&((counting_waker *)d)->live, 1);
}

static void cw_wake_by_ref(const void *d)
{
    atomic_fetch_add(&((counting_waker *)d)->wakes, 1);
}

static void cw_drop(const void *d)
{
    atomic_fetch_sub(&((counting_waker *)d)->live, 1);
}

static const weft_waker_vtable counting_vt = {cw_clone, cw_wake, cw_wake_by_ref, cw_drop};

typedef struct hand {
    counting_waker cw;
    weft_waker w;
    weft_context cx;
} hand;

static void hand_init(hand *h)
{
    atomic_init(&h->cw.wakes, 0);
    atomic_init(&h->cw.live, 0);
    h->w = (weft_waker){&counting_vt, &h->cw};
    h->cx = (weft_context){&h->w, NULL};
}

static weft_poll hpoll(hand *h, void *fut)
{
    return weft_future_poll((weft_future *)fut, &h->cx);
}

static size_t queued(weft_semaphore *s)
{
    weft__futex_lock(&s->lock);
    size_t n = s->nwaiters;
    weft__futex_unlock(&s->lock);
    return n;
}

/* ---------------------------------------------------------------- basics */

static void test_semaphore_try_acquire_takes_and_release_gives_back(void **state)
{
    (void)state;
    weft_semaphore s;
    assert_int_equal(weft_semaphore_init(&s, 3, "pool"), 0);
    assert_string_equal(s.res.name, "pool");
    assert_int_equal(s.res.kind, WEFT_RESOURCE_SEMAPHORE);

    weft_semaphore_permit p, q;
    assert_int_equal(weft_semaphore_try_acquire_many(&s, 2, &p), 0);
    assert_ptr_equal(p.sem, &s);
    assert_int_equal(p.n, 2);
    assert_int_equal(weft_semaphore_available_permits(&s), 1);
    assert_int_equal(weft_semaphore_try_acquire_many(&s, 2, &q), WEFT_EAGAIN);
    assert_int_equal(weft_semaphore_try_acquire(&s, &q), 0);
    assert_int_equal(weft_semaphore_available_permits(&s), 0);
    assert_int_equal(weft_semaphore_try_acquire(&s, &q), WEFT_EAGAIN);

    weft_semaphore_permit_release(&p);
    assert_int_equal(p.n, 0);
    assert_null(p.sem);
    assert_int_equal(weft_semaphore_available_permits(&s), 2);
    weft_semaphore_permit_release(&p); /* releasing an emptied permit again does nothing */
    assert_int_equal(weft_semaphore_available_permits(&s), 2);
    weft_semaphore_permit_release(&q);
    assert_int_equal(weft_semaphore_available_permits(&s), 3);
    assert_int_equal(weft_semaphore_destroy(&s), 0);
}

static void test_semaphore_split_merge_and_forget_permits(void **state)
{
    (void)state;
    weft_semaphore s, other;
    weft_semaphore_init(&s, 5, NULL);
    weft_semaphore_init(&other, 1, NULL);
    assert_string_equal(s.res.name, "semaphore");

    weft_semaphore_permit p, part, o;
    assert_int_equal(weft_semaphore_try_acquire_many(&s, 4, &p), 0);
    assert_int_equal(weft_semaphore_permit_split(&p, 5, &part), WEFT_EINVAL);
    assert_int_equal(p.n, 4);
    assert_int_equal(weft_semaphore_permit_split(&p, 1, &part), 0);
    assert_int_equal(p.n, 3);
    assert_int_equal(part.n, 1);
    assert_ptr_equal(part.sem, &s);

    weft_semaphore_permit_release(&part); /* a split-off part is released on its own */
    assert_int_equal(weft_semaphore_available_permits(&s), 2);

    assert_int_equal(weft_semaphore_try_acquire(&other, &o), 0);
    assert_int_equal(weft_semaphore_permit_merge(&p, &o), WEFT_EINVAL); /* different sems */
    assert_int_equal(weft_semaphore_try_acquire(&s, &part), 0);
    assert_int_equal(weft_semaphore_permit_merge(&p, &part), 0);
    assert_int_equal(p.n, 4);
    assert_int_equal(part.n, 0);

    /* A forgotten permit never comes back. */
    weft_semaphore_permit_forget(&p);
    assert_int_equal(p.n, 0);
    assert_int_equal(weft_semaphore_available_permits(&s), 1);
    weft_semaphore_permit_release(&p);
    assert_int_equal(weft_semaphore_available_permits(&s), 1);

    /* forget_permits only takes what is available. */
    assert_int_equal(weft_semaphore_add_permits(&s, 2), 0);
    assert_int_equal(weft_semaphore_forget_permits(&s, 10), 3);
    assert_int_equal(weft_semaphore_available_permits(&s), 0);
    assert_int_equal(weft_semaphore_forget_permits(&s, 1), 0);

    weft_semaphore_permit_release(&o);
    assert_int_equal(weft_semaphore_destroy(&s), 0);
    assert_int_equal(weft_semaphore_destroy(&other), 0);
}

static void test_semaphore_bad_input_gets_errors_not_crashes(void **state)
{
    (void)state;
    weft_semaphore s;
    /* Too many permits: refused, and the semaphore is usable only to fail. */
    assert_int_equal(weft_semaphore_init(&s, WEFT_SEMAPHORE_MAX_PERMITS + 1, "big"),
                     WEFT_EINVAL);
    assert_true(weft_semaphore_is_closed(&s));
    weft_semaphore_permit p = WEFT_SEMAPHORE_PERMIT_EMPTY;
    assert_int_equal(weft_semaphore_try_acquire(&s, &p), WEFT_ECLOSED);
    assert_int_equal(weft_semaphore_destroy(&s), 0);

    assert_int_equal(weft_semaphore_init(NULL, 1, NULL), WEFT_EINVAL);
    assert_int_equal(weft_semaphore_destroy(NULL), WEFT_EINVAL);
    assert_int_equal(weft_semaphore_add_permits(NULL, 1), WEFT_EINVAL);
    assert_int_equal(weft_semaphore_try_acquire(NULL, &p), WEFT_EINVAL);
    assert_int_equal(weft_semaphore_available_permits(NULL), 0);
    assert_int_equal(weft_semaphore_forget_permits(NULL, 1), 0);
    weft_semaphore_close(NULL);
    weft_semaphore_permit_release(NULL);
    weft_semaphore_permit_forget(NULL);

    weft_semaphore_init(&s, 1, NULL);
    assert_int_equal(weft_semaphore_try_acquire(&s, NULL), WEFT_EINVAL);
    assert_int_equal(weft_semaphore_try_acquire_many(&s, WEFT_SEMAPHORE_MAX_PERMITS + 1, &p),
                     WEFT_EINVAL);
    /* add_permits past the maximum is refused whole. */
    assert_int_equal(weft_semaphore_add_permits(&s, WEFT_SEMAPHORE_MAX_PERMITS), WEFT_EINVAL);
    assert_int_equal(weft_semaphore_available_permits(&s), 1);

    hand h;
    hand_init(&h);
    weft_semaphore_acquire a, nul;
    weft_semaphore_acquire_many_init(&a, &s, WEFT_SEMAPHORE_MAX_PERMITS + 1);
    assert_int_equal(hpoll(&h, &a), WEFT_READY);
    assert_int_equal(a.status, WEFT_EINVAL);
    weft_semaphore_acquire_init(&nul, NULL);
    assert_int_equal(hpoll(&h, &nul), WEFT_READY);
    assert_int_equal(nul.status, WEFT_EINVAL);
    weft_future_drop(&nul.base); /* dropping a finished future does nothing */

    /* destroy refuses while someone waits. */
    weft_semaphore_acquire w;
    weft_semaphore_acquire_many_init(&w, &s, 2);
    assert_int_equal(hpoll(&h, &w), WEFT_PENDING);
    assert_int_equal(weft_semaphore_destroy(&s), WEFT_EBUSY);
    weft_future_drop(&w.base);
    assert_int_equal(weft_semaphore_available_permits(&s), 1); /* its partial permit is back */
    assert_int_equal(weft_semaphore_destroy(&s), 0);
    assert_int_equal(atomic_load(&h.cw.live), 0);
}

static void test_semaphore_acquire_zero_is_ready_at_once(void **state)
{
    (void)state;
    weft_semaphore s;
    weft_semaphore_init(&s, 0, NULL);
    hand h;
    hand_init(&h);
    weft_semaphore_acquire a;
    weft_semaphore_acquire_many_init(&a, &s, 0);
    assert_int_equal(hpoll(&h, &a), WEFT_READY);
    assert_int_equal(a.status, 0);
    assert_int_equal(a.permit.n, 0);
    weft_semaphore_permit_release(&a.permit);
    assert_int_equal(weft_semaphore_available_permits(&s), 0);
    weft_semaphore_destroy(&s);
}

/* ---------------------------------------------------------------- fairness, hand-polled */

static void test_semaphore_large_acquire_at_head_is_not_overtaken(void **state)
{
    (void)state;
    weft_semaphore s;
    weft_semaphore_init(&s, 0, "fair");
    hand ha, hb;
    hand_init(&ha);
    hand_init(&hb);
    weft_semaphore_acquire big, small;
    weft_semaphore_acquire_many_init(&big, &s, 3);
    weft_semaphore_acquire_init(&small, &s);
    assert_int_equal(hpoll(&ha, &big), WEFT_PENDING);
    assert_int_equal(hpoll(&hb, &small), WEFT_PENDING);

    /* One permit comes back: it goes to the head (partially), not to the small acquire that
     * could have used it at once, and nothing becomes available. */
    assert_int_equal(weft_semaphore_add_permits(&s, 1), 0);
    assert_int_equal(atomic_load(&ha.cw.wakes), 0);
    assert_int_equal(atomic_load(&hb.cw.wakes), 0);
    assert_int_equal(hpoll(&hb, &small), WEFT_PENDING);
    assert_int_equal(weft_semaphore_available_permits(&s), 0);
    weft_semaphore_permit p;
    assert_int_equal(weft_semaphore_try_acquire(&s, &p), WEFT_EAGAIN);

    /* Two more complete the head's three; the small one still waits. */
    assert_int_equal(weft_semaphore_add_permits(&s, 2), 0);
    assert_int_equal(atomic_load(&ha.cw.wakes), 1);
    assert_int_equal(atomic_load(&hb.cw.wakes), 0);
    assert_int_equal(hpoll(&ha, &big), WEFT_READY);
    assert_int_equal(big.status, 0);
    assert_int_equal(big.permit.n, 3);
    assert_int_equal(hpoll(&hb, &small), WEFT_PENDING);

    /* The big holder releases: the small one is served, the rest becomes available. */
    weft_semaphore_permit_release(&big.permit);
    assert_int_equal(atomic_load(&hb.cw.wakes), 1);
    assert_int_equal(hpoll(&hb, &small), WEFT_READY);
    assert_int_equal(small.permit.n, 1);
    assert_int_equal(weft_semaphore_available_permits(&s), 2);
    weft_semaphore_permit_release(&small.permit);
    assert_int_equal(weft_semaphore_available_permits(&s), 3);
    assert_int_equal(atomic_load(&ha.cw.live), 0);
    assert_int_equal(atomic_load(&hb.cw.live), 0);
    assert_int_equal(weft_semaphore_destroy(&s), 0);
}

static void test_semaphore_waiters_are_served_in_arrival_order(void **state)
{
    (void)state;
    enum { N = 5 };
    weft_semaphore s;
    weft_semaphore_init(&s, 0, NULL);
    hand h[N];
    weft_semaphore_acquire a[N];
    /* They arrive in the order 3, 0, 4, 1, 2. */
    const int arrival[N] = {3, 0, 4, 1, 2};
    for (int i = 0; i < N; i++) {
        hand_init(&h[i]);
        weft_semaphore_acquire_init(&a[i], &s);
    }
    for (int k = 0; k < N; k++)
        assert_int_equal(hpoll(&h[arrival[k]], &a[arrival[k]]), WEFT_PENDING);
    for (int k = 0; k < N; k++) {
        assert_int_equal(weft_semaphore_add_permits(&s, 1), 0);
        for (int i = 0; i < N; i++) {
            bool should = false;
            for (int j = 0; j <= k; j++)
                should |= arrival[j] == i;
            assert_int_equal(atomic_load(&h[i].cw.wakes), should ? 1 : 0);
        }
        assert_int_equal(hpoll(&h[arrival[k]], &a[arrival[k]]), WEFT_READY);
    }
    for (int i = 0; i < N; i++) {
        weft_semaphore_permit_release(&a[i].permit);
        assert_int_equal(atomic_load(&h[i].cw.live), 0);
    }
    assert_int_equal(weft_semaphore_available_permits(&s), N);
    weft_semaphore_destroy(&s);
}

/* ---------------------------------------------------------------- cancellation, hand-polled */

static void test_semaphore_dropped_acquire_returns_partial_permits(void **state)
{
    (void)state;
    weft_semaphore s;
    weft_semaphore_init(&s, 0, NULL);
    hand ha, hb;
    hand_init(&ha);
    hand_init(&hb);
    weft_semaphore_acquire a, b;
    weft_semaphore_acquire_many_init(&a, &s, 3);
    weft_semaphore_acquire_many_init(&b, &s, 2);
    assert_int_equal(hpoll(&ha, &a), WEFT_PENDING);
    assert_int_equal(hpoll(&hb, &b), WEFT_PENDING);
    assert_int_equal(weft_semaphore_add_permits(&s, 2), 0); /* both go to a, partially */
    assert_int_equal(a.remaining, 1);
    assert_int_equal(atomic_load(&hb.cw.wakes), 0);

    /* a gives up: its two permits go to b, which is woken and completes. */
    weft_future_drop(&a.base);
    assert_int_equal(queued(&s), 0);
    assert_int_equal(atomic_load(&hb.cw.wakes), 1);
    assert_int_equal(hpoll(&hb, &b), WEFT_READY);
    assert_int_equal(b.status, 0);
    assert_int_equal(b.permit.n, 2);
    assert_int_equal(weft_semaphore_available_permits(&s), 0);
    weft_semaphore_permit_release(&b.permit);
    assert_int_equal(weft_semaphore_available_permits(&s), 2); /* nothing lost, nothing made */
    assert_int_equal(atomic_load(&ha.cw.live), 0);
    assert_int_equal(atomic_load(&hb.cw.live), 0);
    weft_semaphore_destroy(&s);
}

static void test_semaphore_dropped_acquire_that_was_served_passes_permits_on(void **state)
{
    (void)state;
    weft_semaphore s;
    weft_semaphore_init(&s, 0, NULL);
    hand ha, hb;
    hand_init(&ha);
    hand_init(&hb);
    weft_semaphore_acquire a, b;
    weft_semaphore_acquire_init(&a, &s);
    weft_semaphore_acquire_init(&b, &s);
    assert_int_equal(hpoll(&ha, &a), WEFT_PENDING);
    assert_int_equal(hpoll(&hb, &b), WEFT_PENDING);
    weft_semaphore_add_permits(&s, 1);
    assert_int_equal(atomic_load(&ha.cw.wakes), 1); /* a was served... */
    weft_future_drop(&a.base);                       /* ...but cancelled before its poll */
    assert_int_equal(atomic_load(&hb.cw.wakes), 1);
    assert_int_equal(hpoll(&hb, &b), WEFT_READY);
    weft_semaphore_permit_release(&b.permit);
    assert_int_equal(weft_semaphore_available_permits(&s), 1);
    weft_semaphore_destroy(&s);
}

static void test_semaphore_drop_before_first_poll_changes_nothing(void **state)
{
    (void)state;
    weft_semaphore s;
    weft_semaphore_init(&s, 1, NULL);
    weft_semaphore_acquire a, copy;
    weft_semaphore_acquire_init(&a, &s);
    copy = a; /* may be copied until its first poll */
    weft_future_drop(&a.base);
    assert_int_equal(weft_semaphore_available_permits(&s), 1);
    hand h;
    hand_init(&h);
    assert_int_equal(hpoll(&h, &copy), WEFT_READY);
    assert_int_equal(weft_semaphore_available_permits(&s), 0);
    weft_semaphore_permit_release(&copy.permit);
    weft_semaphore_destroy(&s);
}

/* ---------------------------------------------------------------- close, hand-polled */

static void test_semaphore_close_fails_every_waiting_acquire(void **state)
{
    (void)state;
    enum { N = 40 }; /* more than one wake batch */
    weft_semaphore s;
    weft_semaphore_init(&s, 1, NULL);
    weft_semaphore_permit held;
    assert_int_equal(weft_semaphore_try_acquire(&s, &held), 0);
    hand h;
    hand_init(&h);
    static weft_semaphore_acquire a[N];
    for (int i = 0; i < N; i++) {
        weft_semaphore_acquire_many_init(&a[i], &s, i == 0 ? 2 : 1);
        assert_int_equal(hpoll(&h, &a[i]), WEFT_PENDING);
    }
    weft_semaphore_permit_release(&held); /* a[0] now holds 1 of its 2, partially */
    assert_int_equal(a[0].remaining, 1);

    weft_semaphore_close(&s);
    assert_true(weft_semaphore_is_closed(&s));
    assert_int_equal(atomic_load(&h.cw.wakes), N);
    for (int i = 0; i < N; i++) {
        assert_int_equal(hpoll(&h, &a[i]), WEFT_READY);
        assert_int_equal(a[i].status, WEFT_ECLOSED);
        assert_int_equal(a[i].permit.n, 0);
    }
    /* a[0]'s partial permit came back; later acquires fail at once. */
    assert_int_equal(weft_semaphore_available_permits(&s), 1);
    weft_semaphore_permit p;
    assert_int_equal(weft_semaphore_try_acquire(&s, &p), WEFT_ECLOSED);
    weft_semaphore_acquire late;
    weft_semaphore_acquire_init(&late, &s);
    assert_int_equal(hpoll(&h, &late), WEFT_READY);
    assert_int_equal(late.status, WEFT_ECLOSED);
    weft_semaphore_close(&s); /* twice is harmless */
    assert_int_equal(atomic_load(&h.cw.live), 0);
    assert_int_equal(weft_semaphore_destroy(&s), 0);
}

/* ---------------------------------------------------------------- on a runtime: close */

typedef struct waiter_task {
    weft_async co;
    weft_semaphore *s;
    weft_semaphore_acquire acq;
} waiter_task;

static weft_poll waiter_task_poll(weft_future *f, weft_context *cx)
{
    waiter_task *w = (waiter_task *)f;
    WEFT_ASYNC_BEGIN(&w->co);
    weft_semaphore_acquire_init(&w->acq, w->s);
    WEFT_AWAIT(&w->co, cx, &w->acq);
    if (w->acq.status == 0)
        weft_semaphore_permit_release(&w->acq.permit);
    weft_task_return(cx, w->acq.status);
    WEFT_ASYNC_END(&w->co);
}

static const weft_future_vtable waiter_task_vt = {waiter_task_poll, weft_async_drop, "waiter"};

static waiter_task make_waiter(weft_semaphore *s)
{
    waiter_task w = {.s = s};
    weft_async_init(&w.co, &waiter_task_vt);
    return w;
}

enum { CLOSE_TASKS = 10 };

typedef struct close_case {
    weft_async co;
    weft_semaphore s;
    int i;
    weft_join_handle h[CLOSE_TASKS];
    weft_yield_now y;
    intptr_t result[CLOSE_TASKS];
} close_case;

static weft_poll close_case_poll(weft_future *f, weft_context *cx)
{
    close_case *c = (close_case *)f;
    WEFT_ASYNC_BEGIN(&c->co);
    for (c->i = 0; c->i < CLOSE_TASKS; c->i++) {
        waiter_task w = make_waiter(&c->s);
        c->h[c->i] = weft_spawn(&w);
    }
    while (queued(&c->s) < CLOSE_TASKS) {
        weft_yield_now_init(&c->y);
        WEFT_AWAIT(&c->co, cx, &c->y);
    }
    weft_semaphore_close(&c->s);
    for (c->i = 0; c->i < CLOSE_TASKS; c->i++) {
        WEFT_AWAIT(&c->co, cx, &c->h[c->i]);
        c->result[c->i] = c->h[c->i].status == 0 ? c->h[c->i].value : c->h[c->i].status;
    }
    WEFT_ASYNC_END(&c->co);
}

static const weft_future_vtable close_case_vt = {close_case_poll, weft_async_drop, "close"};

static void check_close_wakes_waiting_tasks(weft_flavor flavor)
{
    close_case *c = calloc(1, sizeof *c);
    weft_semaphore_init(&c->s, 0, "closing");
    weft_async_init(&c->co, &close_case_vt);
    run(flavor, &c->co.base);
    for (int i = 0; i < CLOSE_TASKS; i++)
        assert_int_equal(c->result[i], WEFT_ECLOSED);
    assert_int_equal(weft_semaphore_destroy(&c->s), 0);
    free(c);
}

static void test_semaphore_close_wakes_waiting_tasks_ct(void **state)
{
    (void)state;
    check_close_wakes_waiting_tasks(WEFT_CURRENT_THREAD);
}

static void test_semaphore_close_wakes_waiting_tasks_mt(void **state)
{
    (void)state;
    check_close_wakes_waiting_tasks(WEFT_MULTI_THREAD);
}

/* ---------------------------------------------------------------- on a runtime: FIFO */

enum { FIFO_TASKS = 5 };
static int fifo_log[FIFO_TASKS];
static int fifo_len;

/* Yields `delay` times (so that arrival order differs from spawn order), then acquires,
 * logs its id, yields while holding, and releases. */
typedef struct fifo_task {
    weft_async co;
    weft_semaphore *s;
    int id, delay, i;
    weft_yield_now y;
    weft_semaphore_acquire acq;
} fifo_task;

static weft_poll fifo_task_poll(weft_future *f, weft_context *cx)
{
    fifo_task *t = (fifo_task *)f;
    WEFT_ASYNC_BEGIN(&t->co);
    for (t->i = 0; t->i < t->delay; t->i++) {
        weft_yield_now_init(&t->y);
        WEFT_AWAIT(&t->co, cx, &t->y);
    }
    weft_semaphore_acquire_init(&t->acq, t->s);
    WEFT_AWAIT(&t->co, cx, &t->acq);
    fifo_log[fifo_len++] = t->id;
    weft_yield_now_init(&t->y);
    WEFT_AWAIT(&t->co, cx, &t->y);
    weft_semaphore_permit_release(&t->acq.permit);
    WEFT_ASYNC_END(&t->co);
}

static const weft_future_vtable fifo_task_vt = {fifo_task_poll, weft_async_drop, "fifo"};

typedef struct fifo_case {
    weft_async co;
    weft_semaphore s;
    int i;
    weft_join_handle h[FIFO_TASKS];
    weft_yield_now y;
} fifo_case;

static const int fifo_delay[FIFO_TASKS] = {3, 0, 4, 1, 2};

static weft_poll fifo_case_poll(weft_future *f, weft_context *cx)
{
    fifo_case *c = (fifo_case *)f;
    WEFT_ASYNC_BEGIN(&c->co);
    for (c->i = 0; c->i < FIFO_TASKS; c->i++) {
        fifo_task t = {.s = &c->s, .id = c->i, .delay = fifo_delay[c->i]};
        weft_async_init(&t.co, &fifo_task_vt);
        c->h[c->i] = weft_spawn(&t);
    }
    while (queued(&c->s) < FIFO_TASKS) {
        weft_yield_now_init(&c->y);
        WEFT_AWAIT(&c->co, cx, &c->y);
    }
    weft_semaphore_add_permits(&c->s, 1);
    for (c->i = 0; c->i < FIFO_TASKS; c->i++)
        WEFT_AWAIT(&c->co, cx, &c->h[c->i]);
    WEFT_ASYNC_END(&c->co);
}

static const weft_future_vtable fifo_case_vt = {fifo_case_poll, weft_async_drop, "fifo_case"};

/* On the current-thread runtime the order of arrival is fixed by the yields, so the order of
 * service must be exactly the order of arrival: 1 (no yield), 3, 4, 0, 2. */
static void test_semaphore_tasks_are_served_in_arrival_order_ct(void **state)
{
    (void)state;
    fifo_len = 0;
    fifo_case *c = calloc(1, sizeof *c);
    weft_semaphore_init(&c->s, 0, NULL);
    weft_async_init(&c->co, &fifo_case_vt);
    run(WEFT_CURRENT_THREAD, &c->co.base);
    const int expect[FIFO_TASKS] = {1, 3, 4, 0, 2};
    assert_int_equal(fifo_len, FIFO_TASKS);
    for (int i = 0; i < FIFO_TASKS; i++)
        assert_int_equal(fifo_log[i], expect[i]);
    assert_int_equal(weft_semaphore_available_permits(&c->s), 1);
    assert_int_equal(weft_semaphore_destroy(&c->s), 0);
    free(c);
}

/* ---------------------------------------------------------------- on a runtime: the bound */

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define BOUND_ROUNDS 10
#else
#define BOUND_ROUNDS 100
#endif
enum { BOUND_TASKS = 50, BOUND_PERMITS = 3 };

typedef struct bound_shared {
    weft_semaphore s;
    _Atomic int inside;   /* tasks holding a permit right now */
    _Atomic int max_seen; /* the most ever inside at once */
    _Atomic int entries;  /* completed critical sections */
} bound_shared;

typedef struct bound_task {
    weft_async co;
    bound_shared *sh;
    int round;
    weft_semaphore_acquire acq;
    weft_yield_now y;
} bound_task;

static weft_poll bound_task_poll(weft_future *f, weft_context *cx)
{
    bound_task *t = (bound_task *)f;
    WEFT_ASYNC_BEGIN(&t->co);
    for (t->round = 0; t->round < BOUND_ROUNDS; t->round++) {
        weft_semaphore_acquire_init(&t->acq, &t->sh->s);
        WEFT_AWAIT(&t->co, cx, &t->acq);
        {
            int now = atomic_fetch_add(&t->sh->inside, 1) + 1;
            int seen = atomic_load(&t->sh->max_seen);
            while (now > seen && !atomic_compare_exchange_weak(&t->sh->max_seen, &seen, now))
                ;
        }
        /* Hold the permit across an await, so that holders overlap. */
        weft_yield_now_init(&t->y);
        WEFT_AWAIT(&t->co, cx, &t->y);
        atomic_fetch_sub(&t->sh->inside, 1);
        atomic_fetch_add(&t->sh->entries, 1);
        weft_semaphore_permit_release(&t->acq.permit);
    }
    WEFT_ASYNC_END(&t->co);
}

static const weft_future_vtable bound_task_vt = {bound_task_poll, weft_async_drop, "bound"};

typedef struct bound_case {
    weft_async co;
    bound_shared *sh;
    int i;
    weft_join_handle h[BOUND_TASKS];
} bound_case;

static weft_poll bound_case_poll(weft_future *f, weft_context *cx)
{
    bound_case *c = (bound_case *)f;
    WEFT_ASYNC_BEGIN(&c->co);
    for (c->i = 0; c->i < BOUND_TASKS; c->i++) {
        bound_task t = {.sh = c->sh};
        weft_async_init(&t.co, &bound_task_vt);
        c->h[c->i] = weft_spawn(&t);
    }
    for (c->i = 0; c->i < BOUND_TASKS; c->i++)
        WEFT_AWAIT(&c->co, cx, &c->h[c->i]);
    WEFT_ASYNC_END(&c->co);
}

static const weft_future_vtable bound_case_vt = {bound_case_poll, weft_async_drop, "bound_case"};

static void check_three_permits_never_admit_a_fourth(weft_flavor flavor)
{
    bound_shared *sh = calloc(1, sizeof *sh);
    weft_semaphore_init(&sh->s, BOUND_PERMITS, "three");
    bound_case c = {.sh = sh};
    weft_async_init(&c.co, &bound_case_vt);
    run(flavor, &c.co.base);
    for (int i = 0; i < BOUND_TASKS; i++)
        assert_int_equal(c.h[i].status, 0);
    assert_int_equal(atomic_load(&sh->entries), BOUND_TASKS * BOUND_ROUNDS);
    assert_true(atomic_load(&sh->max_seen) <= BOUND_PERMITS);
    if (flavor == WEFT_CURRENT_THREAD) /* one thread: the interleaving is fixed */
        assert_int_equal(atomic_load(&sh->max_seen), BOUND_PERMITS);
    assert_int_equal(weft_semaphore_available_permits(&sh->s), BOUND_PERMITS);
    assert_int_equal(weft_semaphore_destroy(&sh->s), 0);
    free(sh);
}

static void test_semaphore_three_permits_never_admit_a_fourth_ct(void **state)
{
    (void)state;
    check_three_permits_never_admit_a_fourth(WEFT_CURRENT_THREAD);
}

static void test_semaphore_three_permits_never_admit_a_fourth_mt(void **state)
{
    (void)state;
    check_three_permits_never_admit_a_fourth(WEFT_MULTI_THREAD);
}

/* ---------------------------------------------------------------- on a runtime: cancellation */

/* Acquires `n` permits, returns them, reports status. */
typedef struct many_task {
    weft_async co;
    weft_semaphore *s;
    size_t n;
    weft_semaphore_acquire acq;
} many_task;

static weft_poll many_task_poll(weft_future *f, weft_context *cx)
{
    many_task *t = (many_task *)f;
    WEFT_ASYNC_BEGIN(&t->co);
    weft_semaphore_acquire_many_init(&t->acq, t->s, t->n);
    WEFT_AWAIT(&t->co, cx, &t->acq);
    if (t->acq.status == 0)
        weft_semaphore_permit_release(&t->acq.permit);
    weft_task_return(cx, t->acq.status);
    WEFT_ASYNC_END(&t->co);
}

static const weft_future_vtable many_task_vt = {many_task_poll, weft_async_drop, "many"};

static many_task make_many(weft_semaphore *s, size_t n)
{
    many_task t = {.s = s, .n = n};
    weft_async_init(&t.co, &many_task_vt);
    return t;
}

/* A waits for 3 permits, B for 2 behind it; the root gives 2 (they go to A) and then aborts A:
 * A's two permits must reach B. */
typedef struct partial_case {
    weft_async co;
    weft_semaphore s;
    weft_join_handle a, b;
    weft_yield_now y;
    bool b_done_before_abort;
} partial_case;

static weft_poll partial_case_poll(weft_future *f, weft_context *cx)
{
    partial_case *c = (partial_case *)f;
    WEFT_ASYNC_BEGIN(&c->co);
    {
        many_task a = make_many(&c->s, 3);
        c->a = weft_spawn(&a);
    }
    while (queued(&c->s) < 1) {
        weft_yield_now_init(&c->y);
        WEFT_AWAIT(&c->co, cx, &c->y);
    }
    {
        many_task b = make_many(&c->s, 2);
        c->b = weft_spawn(&b);
    }
    while (queued(&c->s) < 2) {
        weft_yield_now_init(&c->y);
        WEFT_AWAIT(&c->co, cx, &c->y);
    }
    weft_semaphore_add_permits(&c->s, 2); /* both to A, partially */
    c->b_done_before_abort = weft_join_handle_is_finished(&c->b);
    weft_join_handle_abort(&c->a);
    WEFT_AWAIT(&c->co, cx, &c->a);
    WEFT_AWAIT(&c->co, cx, &c->b);
    WEFT_ASYNC_END(&c->co);
}

static const weft_future_vtable partial_case_vt = {partial_case_poll, weft_async_drop, "partial"};

static void check_aborted_waiter_passes_partial_permits_on(weft_flavor flavor)
{
    partial_case *c = calloc(1, sizeof *c);
    weft_semaphore_init(&c->s, 0, NULL);
    weft_async_init(&c->co, &partial_case_vt);
    run(flavor, &c->co.base);
    assert_false(c->b_done_before_abort);
    assert_int_equal(c->a.status, WEFT_ECANCELLED);
    assert_int_equal(c->b.status, 0);
    assert_int_equal(c->b.value, 0); /* B got its two permits (and gave them back) */
    assert_int_equal(weft_semaphore_available_permits(&c->s), 2);
    assert_int_equal(weft_semaphore_destroy(&c->s), 0);
    free(c);
}

static void test_semaphore_aborted_waiter_passes_partial_permits_on_ct(void **state)
{
    (void)state;
    check_aborted_waiter_passes_partial_permits_on(WEFT_CURRENT_THREAD);
}

static void test_semaphore_aborted_waiter_passes_partial_permits_on_mt(void **state)
{
    (void)state;
    check_aborted_waiter_passes_partial_permits_on(WEFT_MULTI_THREAD);
}

/* ---------------------------------------------------------------- permits moved between tasks */

/* Owns a permit it was given at spawn; releases it after a yield. */
typedef struct owner_task {
    weft_async co;
    weft_semaphore_permit permit;
    weft_yield_now y;
} owner_task;

static weft_poll owner_task_poll(weft_future *f, weft_context *cx)
{
    owner_task *t = (owner_task *)f;
    WEFT_ASYNC_BEGIN(&t->co);
    weft_yield_now_init(&t->y);
    WEFT_AWAIT(&t->co, cx, &t->y);
    weft_task_return(cx, (intptr_t)t->permit.n);
    weft_semaphore_permit_release(&t->permit);
    WEFT_ASYNC_END(&t->co);
}

static void owner_task_drop(weft_future *f)
{
    /* Cancelled: the permits it owns are still given back (what Rust's drop would do). */
    weft_async_drop(f);
    weft_semaphore_permit_release(&((owner_task *)f)->permit);
}

static const weft_future_vtable owner_task_vt = {owner_task_poll, owner_task_drop, "owner"};

typedef struct move_case {
    weft_async co;
    weft_semaphore s;
    weft_semaphore_acquire mine, all;
    weft_join_handle h;
    size_t left_after_move;
} move_case;

static weft_poll move_case_poll(weft_future *f, weft_context *cx)
{
    move_case *c = (move_case *)f;
    WEFT_ASYNC_BEGIN(&c->co);
    weft_semaphore_acquire_many_init(&c->mine, &c->s, 2);
    WEFT_AWAIT(&c->co, cx, &c->mine);
    {
        owner_task t = {.permit = weft_semaphore_permit_take(&c->mine.permit)};
        weft_async_init(&t.co, &owner_task_vt);
        c->h = weft_spawn(&t);
    }
    c->left_after_move = c->mine.permit.n;
    /* All three permits are only available again once the other task released its two. */
    weft_semaphore_acquire_many_init(&c->all, &c->s, 3);
    WEFT_AWAIT(&c->co, cx, &c->all);
    weft_semaphore_permit_release(&c->all.permit);
    WEFT_AWAIT(&c->co, cx, &c->h);
    WEFT_ASYNC_END(&c->co);
}

static const weft_future_vtable move_case_vt = {move_case_poll, weft_async_drop, "move"};

static void check_permit_released_in_another_task(weft_flavor flavor)
{
    move_case *c = calloc(1, sizeof *c);
    weft_semaphore_init(&c->s, 3, NULL);
    weft_async_init(&c->co, &move_case_vt);
    run(flavor, &c->co.base);
    assert_int_equal(c->left_after_move, 0);
    assert_int_equal(c->all.status, 0);
    assert_int_equal(c->h.status, 0);
    assert_int_equal(c->h.value, 2);
    assert_int_equal(weft_semaphore_available_permits(&c->s), 3);
    assert_int_equal(weft_semaphore_destroy(&c->s), 0);
    free(c);
}

static void test_semaphore_permit_moved_into_another_task_is_released_there_ct(void **state)
{
    (void)state;
    check_permit_released_in_another_task(WEFT_CURRENT_THREAD);
}

static void test_semaphore_permit_moved_into_another_task_is_released_there_mt(void **state)
{
    (void)state;
    check_permit_released_in_another_task(WEFT_MULTI_THREAD);
}

/* ---------------------------------------------------------------- cooperative budget */

/* A task that acquires and releases a free permit in a loop would never yield without the
 * budget; it counts how many ready acquires its first poll allowed. */
typedef struct greedy {
    weft_async co;
    weft_semaphore *s;
    weft_semaphore_acquire acq;
    int polls;
    int ready_in_first_poll;
} greedy;

static weft_poll greedy_poll(weft_future *f, weft_context *cx)
{
    greedy *g = (greedy *)f;
    g->polls++;
    WEFT_ASYNC_BEGIN(&g->co);
    for (;;) {
        weft_semaphore_acquire_init(&g->acq, g->s);
        WEFT_AWAIT(&g->co, cx, &g->acq);
        weft_semaphore_permit_release(&g->acq.permit);
        if (g->polls > 1)
            break;
        g->ready_in_first_poll++;
    }
    weft_task_return(cx, g->ready_in_first_poll);
    WEFT_ASYNC_END(&g->co);
}

static const weft_future_vtable greedy_vt = {greedy_poll, weft_async_drop, "greedy"};

typedef struct greedy_case {
    weft_async co;
    weft_semaphore s;
    weft_join_handle h;
} greedy_case;

static weft_poll greedy_case_poll(weft_future *f, weft_context *cx)
{
    greedy_case *c = (greedy_case *)f;
    WEFT_ASYNC_BEGIN(&c->co);
    {
        greedy g = {.s = &c->s};
        weft_async_init(&g.co, &greedy_vt);
        c->h = weft_spawn(&g);
    }
    WEFT_AWAIT(&c->co, cx, &c->h);
    WEFT_ASYNC_END(&c->co);
}

static const weft_future_vtable greedy_case_vt = {greedy_case_poll, weft_async_drop, "greedy_c"};

static void test_semaphore_ready_acquires_spend_the_coop_budget_ct(void **state)
{
    (void)state;
    greedy_case *c = calloc(1, sizeof *c);
    weft_semaphore_init(&c->s, 1, NULL);
    weft_async_init(&c->co, &greedy_case_vt);
    run(WEFT_CURRENT_THREAD, &c->co.base);
    assert_int_equal(c->h.status, 0);
    /* Each ready acquire spent one unit; the one after the last unit suspended the task. */
    assert_int_equal(c->h.value, WEFT_COOP_BUDGET);
    assert_int_equal(weft_semaphore_available_permits(&c->s), 1);
    weft_semaphore_destroy(&c->s);
    free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_semaphore_try_acquire_takes_and_release_gives_back),
        cmocka_unit_test(test_semaphore_split_merge_and_forget_permits),
        cmocka_unit_test(test_semaphore_bad_input_gets_errors_not_crashes),
        cmocka_unit_test(test_semaphore_acquire_zero_is_ready_at_once),
        cmocka_unit_test(test_semaphore_large_acquire_at_head_is_not_overtaken),
        cmocka_unit_test(test_semaphore_waiters_are_served_in_arrival_order),
        cmocka_unit_test(test_semaphore_dropped_acquire_returns_partial_permits),
        cmocka_unit_test(test_semaphore_dropped_acquire_that_was_served_passes_permits_on),
        cmocka_unit_test(test_semaphore_drop_before_first_poll_changes_nothing),
        cmocka_unit_test(test_semaphore_close_fails_every_waiting_acquire),
        cmocka_unit_test(test_semaphore_close_wakes_waiting_tasks_ct),
        cmocka_unit_test(test_semaphore_close_wakes_waiting_tasks_mt),
        cmocka_unit_test(test_semaphore_tasks_are_served_in_arrival_order_ct),
        cmocka_unit_test(test_semaphore_three_permits_never_admit_a_fourth_ct),
        cmocka_unit_test(test_semaphore_three_permits_never_admit_a_fourth_mt),
        cmocka_unit_test(test_semaphore_aborted_waiter_passes_partial_permits_on_ct),
        cmocka_unit_test(test_semaphore_aborted_waiter_passes_partial_permits_on_mt),
        cmocka_unit_test(test_semaphore_permit_moved_into_another_task_is_released_there_ct),
        cmocka_unit_test(test_semaphore_permit_moved_into_another_task_is_released_there_mt),
        cmocka_unit_test(test_semaphore_ready_acquires_spend_the_coop_budget_ct),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
