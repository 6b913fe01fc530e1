/* tests/unit/test_mutex.c - the async mutex: exclusion, FIFO hand-off, cancellation of
 * waiters, holder tracking, guards moved between tasks, and misuse.
 *
 * Hand-polled cases drive lock futures directly with a counting waker, so the order of events
 * is fixed; runtime cases run on both flavours and end with weft_runtime_shutdown (which under
 * ASan also proves nothing leaked). The counter stress test runs on the multi-thread runtime
 * and is in suite 'tsan', where a missing happens-before edge in the hand-off would show up as
 * a data race on the plain counter.
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

typedef struct counting_waker {
    _Atomic int wakes;
    _Atomic int live; /* clones not yet consumed: 0 when no waker leaked */
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

static size_t queued(weft_mutex *m)
{
    weft__futex_lock(&m->sem.lock);
    size_t n = m->sem.nwaiters;
    weft__futex_unlock(&m->sem.lock);
    return n;
}

/* ---------------------------------------------------------------- hand-polled */

static void test_mutex_lock_try_lock_and_unlock(void **state)
{
    (void)state;
    weft_mutex m;
    weft_mutex_init(&m, "account");
    assert_string_equal(m.sem.res.name, "account");
    assert_int_equal(m.sem.res.kind, WEFT_RESOURCE_MUTEX);
    assert_false(weft_mutex_is_locked(&m));

    hand h;
    hand_init(&h);
    weft_mutex_lock lk;
    weft_mutex_lock_init(&lk, &m);
    assert_int_equal(hpoll(&h, &lk), WEFT_READY);
    assert_int_equal(lk.status, 0);
    assert_ptr_equal(lk.guard.m, &m);
    assert_true(weft_mutex_is_locked(&m));
    assert_int_equal(weft_mutex_holder(&m), 0); /* locked outside any task */
    assert_int_equal(weft_mutex_try_lock(&m, NULL), WEFT_EBUSY);

    weft_mutex_guard_release(&lk.guard);
    assert_null(lk.guard.m);
    assert_false(weft_mutex_is_locked(&m));
    weft_mutex_guard_release(&lk.guard); /* a released guard releases nothing */
    assert_false(weft_mutex_is_locked(&m));

    weft_mutex_guard g;
    assert_int_equal(weft_mutex_try_lock(&m, &g), 0);
    assert_ptr_equal(g.m, &m);
    assert_int_equal(weft_mutex_destroy(&m), WEFT_EBUSY); /* held */
    assert_int_equal(weft_mutex_unlock(&m), 0);
    assert_int_equal(weft_mutex_destroy(&m), 0);
    assert_int_equal(atomic_load(&h.cw.live), 0);
}

static void test_mutex_unlock_of_an_unlocked_mutex_is_refused(void **state)
{
    (void)state;
    weft_mutex m;
    weft_mutex_init(&m, NULL);
    assert_int_equal(weft_mutex_unlock(&m), WEFT_EINVAL);
    /* Still a mutex, not a two-permit semaphore: one try_lock wins, the next fails. */
    assert_int_equal(weft_mutex_try_lock(&m, NULL), 0);
    assert_int_equal(weft_mutex_try_lock(&m, NULL), WEFT_EBUSY);
    assert_int_equal(weft_mutex_unlock(&m), 0);
    assert_int_equal(weft_mutex_unlock(&m), WEFT_EINVAL);

    /* NULL everywhere gets an error, not a crash. */
    assert_int_equal(weft_mutex_unlock(NULL), WEFT_EINVAL);
    assert_int_equal(weft_mutex_try_lock(NULL, NULL), WEFT_EINVAL);
    assert_int_equal(weft_mutex_destroy(NULL), WEFT_EINVAL);
    assert_false(weft_mutex_is_locked(NULL));
    weft_mutex_guard_release(NULL);
    hand h;
    hand_init(&h);
    weft_mutex_lock lk;
    weft_mutex_lock_init(&lk, NULL);
    assert_int_equal(hpoll(&h, &lk), WEFT_READY);
    assert_int_equal(lk.status, WEFT_EINVAL);
    assert_null(lk.guard.m);
    weft_future_drop(&lk.base);
    assert_int_equal(weft_mutex_destroy(&m), 0);
}

static void test_mutex_waiters_get_it_in_arrival_order(void **state)
{
    (void)state;
    enum { N = 4 };
    weft_mutex m;
    weft_mutex_init(&m, NULL);
    assert_int_equal(weft_mutex_try_lock(&m, NULL), 0);
    hand h[N];
    weft_mutex_lock lk[N];
    const int arrival[N] = {2, 0, 3, 1};
    for (int i = 0; i < N; i++) {
        hand_init(&h[i]);
        weft_mutex_lock_init(&lk[i], &m);
    }
    for (int k = 0; k < N; k++)
        assert_int_equal(hpoll(&h[arrival[k]], &lk[arrival[k]]), WEFT_PENDING);
    assert_int_equal(queued(&m), N);

    assert_int_equal(weft_mutex_unlock(&m), 0);
    for (int k = 0; k < N; k++) {
        int who = arrival[k];
        assert_int_equal(atomic_load(&h[who].cw.wakes), 1);
        /* The mutex was handed to `who`: nobody can barge in, not even try_lock. */
        assert_true(weft_mutex_is_locked(&m));
        assert_int_equal(weft_mutex_try_lock(&m, NULL), WEFT_EBUSY);
        for (int j = k + 1; j < N; j++) {
            assert_int_equal(atomic_load(&h[arrival[j]].cw.wakes), 0);
            assert_int_equal(hpoll(&h[arrival[j]], &lk[arrival[j]]), WEFT_PENDING);
        }
        assert_int_equal(hpoll(&h[who], &lk[who]), WEFT_READY);
        weft_mutex_guard_release(&lk[who].guard);
    }
    assert_false(weft_mutex_is_locked(&m));
    for (int i = 0; i < N; i++)
        assert_int_equal(atomic_load(&h[i].cw.live), 0);
    assert_int_equal(weft_mutex_destroy(&m), 0);
}

static void test_mutex_dropped_lock_gives_up_its_place(void **state)
{
    (void)state;
    weft_mutex m;
    weft_mutex_init(&m, NULL);
    weft_mutex_guard g;
    assert_int_equal(weft_mutex_try_lock(&m, &g), 0);
    hand hb, hc;
    hand_init(&hb);
    hand_init(&hc);
    weft_mutex_lock b, c;
    weft_mutex_lock_init(&b, &m);
    weft_mutex_lock_init(&c, &m);
    assert_int_equal(hpoll(&hb, &b), WEFT_PENDING);
    assert_int_equal(hpoll(&hc, &c), WEFT_PENDING);
    assert_int_equal(weft_mutex_destroy(&m), WEFT_EBUSY);

    weft_future_drop(&b.base); /* b gives up while it waits */
    assert_int_equal(queued(&m), 1);
    weft_mutex_guard_release(&g);
    assert_int_equal(atomic_load(&hb.cw.wakes), 0);
    assert_int_equal(atomic_load(&hc.cw.wakes), 1);
    assert_int_equal(hpoll(&hc, &c), WEFT_READY);
    weft_mutex_guard_release(&c.guard);
    assert_int_equal(atomic_load(&hb.cw.live), 0);
    assert_int_equal(atomic_load(&hc.cw.live), 0);
    assert_int_equal(weft_mutex_destroy(&m), 0);
}

static void test_mutex_handed_to_a_cancelled_waiter_passes_on(void **state)
{
    (void)state;
    weft_mutex m;
    weft_mutex_init(&m, NULL);
    weft_mutex_guard g;
    assert_int_equal(weft_mutex_try_lock(&m, &g), 0);
    hand hb, hc;
    hand_init(&hb);
    hand_init(&hc);
    weft_mutex_lock b, c;
    weft_mutex_lock_init(&b, &m);
    weft_mutex_lock_init(&c, &m);
    assert_int_equal(hpoll(&hb, &b), WEFT_PENDING);
    assert_int_equal(hpoll(&hc, &c), WEFT_PENDING);
    weft_mutex_guard_release(&g);               /* handed to b ... */
    assert_int_equal(atomic_load(&hb.cw.wakes), 1);
    weft_future_drop(&b.base);                  /* ... which is cancelled before its poll */
    assert_int_equal(atomic_load(&hc.cw.wakes), 1);
    assert_int_equal(hpoll(&hc, &c), WEFT_READY);
    weft_mutex_guard_release(&c.guard);
    assert_false(weft_mutex_is_locked(&m));

    /* And with nobody behind it, a cancelled owner-to-be leaves the mutex unlocked. */
    assert_int_equal(weft_mutex_try_lock(&m, &g), 0);
    weft_mutex_lock_init(&b, &m);
    assert_int_equal(hpoll(&hb, &b), WEFT_PENDING);
    weft_mutex_guard_release(&g);
    weft_future_drop(&b.base);
    assert_false(weft_mutex_is_locked(&m));
    assert_int_equal(weft_mutex_destroy(&m), 0);
}

/* ---------------------------------------------------------------- counter stress */

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define STRESS_INCREMENTS 5000
#else
#define STRESS_INCREMENTS 100000
#endif
enum { STRESS_TASKS = 8 };

typedef struct counter_shared {
    weft_mutex m;
    long counter; /* guarded by m: plain, so that TSan sees any missing ordering */
    int inside;   /* guarded by m: holders right now, must stay 0 or 1 */
    int violations;
} counter_shared;

typedef struct incr_task {
    weft_async co;
    counter_shared *sh;
    long i;
    weft_mutex_lock lk;
    weft_yield_now y;
} incr_task;

static weft_poll incr_task_poll(weft_future *f, weft_context *cx)
{
    incr_task *t = (incr_task *)f;
    WEFT_ASYNC_BEGIN(&t->co);
    for (t->i = 0; t->i < STRESS_INCREMENTS; t->i++) {
        weft_mutex_lock_init(&t->lk, &t->sh->m);
        WEFT_AWAIT(&t->co, cx, &t->lk);
        if (t->sh->inside++ != 0)
            t->sh->violations++;
        t->sh->counter++;
        if (t->i % 512 == 0) {
            /* Now and then hold it across an await, so that others queue up. */
            weft_yield_now_init(&t->y);
            WEFT_AWAIT(&t->co, cx, &t->y);
        }
        t->sh->inside--;
        weft_mutex_guard_release(&t->lk.guard);
    }
    WEFT_ASYNC_END(&t->co);
}

static const weft_future_vtable incr_task_vt = {incr_task_poll, weft_async_drop, "incr"};

typedef struct counter_case {
    weft_async co;
    counter_shared *sh;
    int i;
    weft_join_handle h[STRESS_TASKS];
} counter_case;

static weft_poll counter_case_poll(weft_future *f, weft_context *cx)
{
    counter_case *c = (counter_case *)f;
    WEFT_ASYNC_BEGIN(&c->co);
    for (c->i = 0; c->i < STRESS_TASKS; c->i++) {
        incr_task t = {.sh = c->sh};
        weft_async_init(&t.co, &incr_task_vt);
        c->h[c->i] = weft_spawn(&t);
    }
    for (c->i = 0; c->i < STRESS_TASKS; c->i++)
        WEFT_AWAIT(&c->co, cx, &c->h[c->i]);
    WEFT_ASYNC_END(&c->co);
}

static const weft_future_vtable counter_case_vt = {counter_case_poll, weft_async_drop, "count"};

static void check_counter_exact(weft_flavor flavor)
{
    counter_shared *sh = calloc(1, sizeof *sh);
    weft_mutex_init(&sh->m, "counter");
    counter_case c = {.sh = sh};
    weft_async_init(&c.co, &counter_case_vt);
    run(flavor, &c.co.base);
    for (int i = 0; i < STRESS_TASKS; i++)
        assert_int_equal(c.h[i].status, 0);
    assert_int_equal(sh->counter, (long)STRESS_TASKS * STRESS_INCREMENTS);
    assert_int_equal(sh->violations, 0);
    assert_false(weft_mutex_is_locked(&sh->m));
    assert_int_equal(weft_mutex_destroy(&sh->m), 0);
    free(sh);
}

static void test_mutex_counter_exact_under_stress_ct(void **state)
{
    (void)state;
    check_counter_exact(WEFT_CURRENT_THREAD);
}

static void test_mutex_counter_exact_under_stress_mt(void **state)
{
    (void)state;
    check_counter_exact(WEFT_MULTI_THREAD);
}

/* ---------------------------------------------------------------- FIFO on a runtime */

enum { FIFO_TASKS = 5 };
static int fifo_log[FIFO_TASKS];
static int fifo_len;

typedef struct fifo_task {
    weft_async co;
    weft_mutex *m;
    int id, delay, i;
    weft_yield_now y;
    weft_mutex_lock lk;
} fifo_task;

static weft_poll fifo_task_poll(weft_future *f, weft_context *cx)
{
    fifo_task *t = (fifo_task *)f;
    WEFT_ASYNC_BEGIN(&t->co);
    for (t->i = 0; t->i < t->delay; t->i++) {
        weft_yield_now_init(&t->y);
        WEFT_AWAIT(&t->co, cx, &t->y);
    }
    weft_mutex_lock_init(&t->lk, t->m);
    WEFT_AWAIT(&t->co, cx, &t->lk);
    fifo_log[fifo_len++] = t->id;
    weft_mutex_guard_release(&t->lk.guard);
    WEFT_ASYNC_END(&t->co);
}

static const weft_future_vtable fifo_task_vt = {fifo_task_poll, weft_async_drop, "fifo"};

typedef struct fifo_case {
    weft_async co;
    weft_mutex m;
    weft_mutex_guard g;
    int i;
    weft_join_handle h[FIFO_TASKS];
    weft_yield_now y;
} fifo_case;

static const int fifo_delay[FIFO_TASKS] = {2, 4, 0, 3, 1};

static weft_poll fifo_case_poll(weft_future *f, weft_context *cx)
{
    fifo_case *c = (fifo_case *)f;
    WEFT_ASYNC_BEGIN(&c->co);
    weft_mutex_try_lock(&c->m, &c->g);
    for (c->i = 0; c->i < FIFO_TASKS; c->i++) {
        fifo_task t = {.m = &c->m, .id = c->i, .delay = fifo_delay[c->i]};
        weft_async_init(&t.co, &fifo_task_vt);
        c->h[c->i] = weft_spawn(&t);
    }
    while (queued(&c->m) < FIFO_TASKS) {
        weft_yield_now_init(&c->y);
        WEFT_AWAIT(&c->co, cx, &c->y);
    }
    weft_mutex_guard_release(&c->g);
    for (c->i = 0; c->i < FIFO_TASKS; c->i++)
        WEFT_AWAIT(&c->co, cx, &c->h[c->i]);
    WEFT_ASYNC_END(&c->co);
}

static const weft_future_vtable fifo_case_vt = {fifo_case_poll, weft_async_drop, "fifo_case"};

/* One thread: the yields fix the arrival order (2, 4, 0, 3, 1), and the mutex must be handed
 * out in exactly that order. */
static void test_mutex_tasks_get_it_in_arrival_order_ct(void **state)
{
    (void)state;
    fifo_len = 0;
    fifo_case *c = calloc(1, sizeof *c);
    weft_mutex_init(&c->m, NULL);
    weft_async_init(&c->co, &fifo_case_vt);
    run(WEFT_CURRENT_THREAD, &c->co.base);
    const int expect[FIFO_TASKS] = {2, 4, 0, 3, 1};
    assert_int_equal(fifo_len, FIFO_TASKS);
    for (int i = 0; i < FIFO_TASKS; i++)
        assert_int_equal(fifo_log[i], expect[i]);
    assert_int_equal(weft_mutex_destroy(&c->m), 0);
    free(c);
}

/* ---------------------------------------------------------------- holder */

typedef struct holder_task {
    weft_async co;
    weft_mutex *m;
    _Atomic bool *locked, *may_release;
    weft_mutex_lock lk;
    weft_yield_now y;
} holder_task;

static weft_poll holder_task_poll(weft_future *f, weft_context *cx)
{
    holder_task *t = (holder_task *)f;
    WEFT_ASYNC_BEGIN(&t->co);
    weft_mutex_lock_init(&t->lk, t->m);
    WEFT_AWAIT(&t->co, cx, &t->lk);
    atomic_store(t->locked, true);
    while (!atomic_load(t->may_release)) {
        weft_yield_now_init(&t->y);
        WEFT_AWAIT(&t->co, cx, &t->y);
    }
    weft_mutex_guard_release(&t->lk.guard);
    WEFT_ASYNC_END(&t->co);
}

static const weft_future_vtable holder_task_vt = {holder_task_poll, weft_async_drop, "holder"};

typedef struct holder_case {
    weft_async co;
    weft_mutex m;
    _Atomic bool locked, may_release;
    weft_join_handle h;
    weft_yield_now y;
    weft_task_id holder_seen, holder_after;
    int try_while_held;
} holder_case;

static weft_poll holder_case_poll(weft_future *f, weft_context *cx)
{
    holder_case *c = (holder_case *)f;
    WEFT_ASYNC_BEGIN(&c->co);
    {
        holder_task t = {.m = &c->m, .locked = &c->locked, .may_release = &c->may_release};
        weft_async_init(&t.co, &holder_task_vt);
        c->h = weft_spawn(&t);
    }
    while (!atomic_load(&c->locked)) {
        weft_yield_now_init(&c->y);
        WEFT_AWAIT(&c->co, cx, &c->y);
    }
    c->holder_seen = weft_mutex_holder(&c->m);
    c->try_while_held = weft_mutex_try_lock(&c->m, NULL);
    atomic_store(&c->may_release, true);
    WEFT_AWAIT(&c->co, cx, &c->h);
    c->holder_after = weft_mutex_holder(&c->m);
    WEFT_ASYNC_END(&c->co);
}

static const weft_future_vtable holder_case_vt = {holder_case_poll, weft_async_drop, "hcase"};

static void check_holder_is_the_locking_task(weft_flavor flavor)
{
    holder_case *c = calloc(1, sizeof *c);
    weft_mutex_init(&c->m, NULL);
    weft_async_init(&c->co, &holder_case_vt);
    run(flavor, &c->co.base);
    assert_int_equal(c->h.status, 0);
    assert_int_not_equal(c->h.id, 0);
    assert_int_equal(c->holder_seen, c->h.id);
    assert_int_equal(c->try_while_held, WEFT_EBUSY);
    assert_int_equal(c->holder_after, 0);
    assert_int_equal(weft_mutex_destroy(&c->m), 0);
    free(c);
}

static void test_mutex_holder_is_the_locking_task_ct(void **state)
{
    (void)state;
    check_holder_is_the_locking_task(WEFT_CURRENT_THREAD);
}

static void test_mutex_holder_is_the_locking_task_mt(void **state)
{
    (void)state;
    check_holder_is_the_locking_task(WEFT_MULTI_THREAD);
}

/* ---------------------------------------------------------------- guard moved to a task */

typedef struct guard_owner {
    weft_async co;
    weft_mutex_guard g;
    weft_yield_now y;
} guard_owner;

static weft_poll guard_owner_poll(weft_future *f, weft_context *cx)
{
    guard_owner *t = (guard_owner *)f;
    WEFT_ASYNC_BEGIN(&t->co);
    weft_yield_now_init(&t->y);
    WEFT_AWAIT(&t->co, cx, &t->y);
    weft_mutex_guard_release(&t->g);
    WEFT_ASYNC_END(&t->co);
}

static void guard_owner_drop(weft_future *f)
{
    weft_async_drop(f);
    weft_mutex_guard_release(&((guard_owner *)f)->g);
}

static const weft_future_vtable guard_owner_vt = {guard_owner_poll, guard_owner_drop, "owner"};

typedef struct move_case {
    weft_async co;
    weft_mutex m;
    weft_mutex_lock first, again;
    weft_join_handle h;
} move_case;

static weft_poll move_case_poll(weft_future *f, weft_context *cx)
{
    move_case *c = (move_case *)f;
    WEFT_ASYNC_BEGIN(&c->co);
    weft_mutex_lock_init(&c->first, &c->m);
    WEFT_AWAIT(&c->co, cx, &c->first);
    {
        guard_owner t = {.g = c->first.guard};
        c->first.guard.m = NULL; /* moved */
        weft_async_init(&t.co, &guard_owner_vt);
        c->h = weft_spawn(&t);
    }
    /* Completes only once the other task released the guard it was given. */
    weft_mutex_lock_init(&c->again, &c->m);
    WEFT_AWAIT(&c->co, cx, &c->again);
    weft_mutex_guard_release(&c->again.guard);
    WEFT_AWAIT(&c->co, cx, &c->h);
    WEFT_ASYNC_END(&c->co);
}

static const weft_future_vtable move_case_vt = {move_case_poll, weft_async_drop, "move"};

static void check_guard_released_in_another_task(weft_flavor flavor)
{
    move_case *c = calloc(1, sizeof *c);
    weft_mutex_init(&c->m, NULL);
    weft_async_init(&c->co, &move_case_vt);
    run(flavor, &c->co.base);
    assert_int_equal(c->again.status, 0);
    assert_int_equal(c->h.status, 0);
    assert_false(weft_mutex_is_locked(&c->m));
    assert_int_equal(weft_mutex_destroy(&c->m), 0);
    free(c);
}

static void test_mutex_guard_moved_into_another_task_is_released_there_ct(void **state)
{
    (void)state;
    check_guard_released_in_another_task(WEFT_CURRENT_THREAD);
}

static void test_mutex_guard_moved_into_another_task_is_released_there_mt(void **state)
{
    (void)state;
    check_guard_released_in_another_task(WEFT_MULTI_THREAD);
}

/* ---------------------------------------------------------------- shutdown with waiters */

/* A task waiting for a mutex when the runtime shuts down is dropped: it must leave the queue,
 * so that the mutex can be destroyed afterwards (and ASan sees no use after free). */
typedef struct stuck_case {
    weft_async co;
    weft_mutex *m;
    _Atomic bool locked, may_release; /* never set: the task never gets the mutex */
    weft_join_handle h;
    weft_yield_now y;
} stuck_case;

static weft_poll stuck_case_poll(weft_future *f, weft_context *cx)
{
    stuck_case *c = (stuck_case *)f;
    WEFT_ASYNC_BEGIN(&c->co);
    weft_mutex_try_lock(c->m, NULL);
    {
        holder_task t = {.m = c->m, .locked = &c->locked, .may_release = &c->may_release};
        weft_async_init(&t.co, &holder_task_vt);
        c->h = weft_spawn(&t);
        weft_join_handle_detach(&c->h);
    }
    while (queued(c->m) < 1) {
        weft_yield_now_init(&c->y);
        WEFT_AWAIT(&c->co, cx, &c->y);
    }
    WEFT_ASYNC_END(&c->co);
}

static const weft_future_vtable stuck_case_vt = {stuck_case_poll, weft_async_drop, "stuck"};

static void check_shutdown_drops_waiters(weft_flavor flavor)
{
    weft_mutex m;
    weft_mutex_init(&m, NULL);
    stuck_case c = {.m = &m};
    weft_async_init(&c.co, &stuck_case_vt);
    run(flavor, &c.co.base);
    assert_int_equal(queued(&m), 0);
    assert_int_equal(weft_mutex_unlock(&m), 0);
    assert_int_equal(weft_mutex_destroy(&m), 0);
}

static void test_mutex_shutdown_drops_waiting_tasks_ct(void **state)
{
    (void)state;
    check_shutdown_drops_waiters(WEFT_CURRENT_THREAD);
}

static void test_mutex_shutdown_drops_waiting_tasks_mt(void **state)
{
    (void)state;
    check_shutdown_drops_waiters(WEFT_MULTI_THREAD);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mutex_lock_try_lock_and_unlock),
        cmocka_unit_test(test_mutex_unlock_of_an_unlocked_mutex_is_refused),
        cmocka_unit_test(test_mutex_waiters_get_it_in_arrival_order),
        cmocka_unit_test(test_mutex_dropped_lock_gives_up_its_place),
        cmocka_unit_test(test_mutex_handed_to_a_cancelled_waiter_passes_on),
        cmocka_unit_test(test_mutex_counter_exact_under_stress_ct),
        cmocka_unit_test(test_mutex_counter_exact_under_stress_mt),
        cmocka_unit_test(test_mutex_tasks_get_it_in_arrival_order_ct),
        cmocka_unit_test(test_mutex_holder_is_the_locking_task_ct),
        cmocka_unit_test(test_mutex_holder_is_the_locking_task_mt),
        cmocka_unit_test(test_mutex_guard_moved_into_another_task_is_released_there_ct),
        cmocka_unit_test(test_mutex_guard_moved_into_another_task_is_released_there_mt),
        cmocka_unit_test(test_mutex_shutdown_drops_waiting_tasks_ct),
        cmocka_unit_test(test_mutex_shutdown_drops_waiting_tasks_mt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
