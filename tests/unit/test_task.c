/* tests/unit/test_task.c - tasks, join handles, abort, yield, async functions and shutdown,
 * on both runtime flavours.
 *
 * Each case builds a runtime, runs a root future with weft_block_on, and shuts the runtime down;
 * under ASan/LSan that last step also proves nothing leaked.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>

#include <cmocka.h>
#include <weft/weft.h>

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

/* ---------------------------------------------------------------- helper futures */

/* Returns `value` (or fails with `err`) after yielding `yields` times. */
typedef struct worker_fut {
    weft_async co;
    int yields;
    int i;
    intptr_t value;
    int err;
    weft_yield_now y;
} worker_fut;

static weft_poll worker_poll(weft_future *f, weft_context *cx)
{
    worker_fut *w = (worker_fut *)f;
    WEFT_ASYNC_BEGIN(&w->co);
    for (w->i = 0; w->i < w->yields; w->i++) {
        weft_yield_now_init(&w->y);
        WEFT_AWAIT(&w->co, cx, &w->y);
    }
    if (w->err)
        weft_task_fail(cx, w->err);
    else
        weft_task_return(cx, w->value);
    WEFT_ASYNC_END(&w->co);
}

static const weft_future_vtable worker_vt = {worker_poll, weft_async_drop, "worker"};

static worker_fut make_worker(int yields, intptr_t value, int err)
{
    worker_fut w = {.yields = yields, .value = value, .err = err};
    weft_async_init(&w.co, &worker_vt);
    return w;
}

/* Never completes; counts how often it is dropped. */
static _Atomic int forever_drops;

typedef struct forever_fut {
    weft_future base;
    _Atomic int *drops;
} forever_fut;

static weft_poll forever_poll(weft_future *f, weft_context *cx)
{
    (void)f;
    (void)cx;
    return WEFT_PENDING;
}

static void forever_drop(weft_future *f)
{
    atomic_fetch_add(((forever_fut *)f)->drops, 1);
}

static const weft_future_vtable forever_vt = {forever_poll, forever_drop, "forever"};

static forever_fut make_forever(void)
{
    return (forever_fut){{&forever_vt}, &forever_drops};
}

/* ---------------------------------------------------------------- spawn and join */

typedef struct spawn_join {
    weft_async co;
    int n;
    int i;
    weft_join_handle h[8];
    int status[8];
    intptr_t value[8];
} spawn_join;

static weft_poll spawn_join_poll(weft_future *f, weft_context *cx)
{
    spawn_join *s = (spawn_join *)f;
    WEFT_ASYNC_BEGIN(&s->co);
    for (s->i = 0; s->i < s->n; s->i++) {
        worker_fut w = make_worker(s->i, 100 + s->i, s->i == 3 ? -42 : 0);
        s->h[s->i] = weft_spawn(&w);
    }
    for (s->i = 0; s->i < s->n; s->i++) {
        WEFT_AWAIT(&s->co, cx, &s->h[s->i]);
        s->status[s->i] = s->h[s->i].status;
        s->value[s->i] = s->h[s->i].value;
    }
    WEFT_ASYNC_END(&s->co);
}

static const weft_future_vtable spawn_join_vt = {spawn_join_poll, weft_async_drop, "spawn_join"};

static void check_join_reports_value_and_error(weft_flavor flavor)
{
    weft_runtime *rt = new_rt(flavor);
    spawn_join s = {.n = 6};
    weft_async_init(&s.co, &spawn_join_vt);
    assert_int_equal(weft_block_on(rt, &s.co.base), 0);
    for (int i = 0; i < 6; i++) {
        if (i == 3) {
            assert_int_equal(s.status[i], -42);
        } else {
            assert_int_equal(s.status[i], 0);
            assert_int_equal(s.value[i], 100 + i);
        }
    }
    weft_runtime_shutdown(rt);
}

static void test_task_join_reports_value_and_error_ct(void **state)
{
    (void)state;
    check_join_reports_value_and_error(WEFT_CURRENT_THREAD);
}

static void test_task_join_reports_value_and_error_mt(void **state)
{
    (void)state;
    check_join_reports_value_and_error(WEFT_MULTI_THREAD);
}

/* ---------------------------------------------------------------- abort */

typedef struct abort_case {
    weft_async co;
    weft_join_handle h;
    weft_yield_now y;
    bool finished_before;
    bool finished_after;
} abort_case;

static weft_poll abort_case_poll(weft_future *f, weft_context *cx)
{
    abort_case *a = (abort_case *)f;
    WEFT_ASYNC_BEGIN(&a->co);
    {
        forever_fut fv = make_forever();
        a->h = weft_spawn(&fv);
    }
    /* Let it be polled once, so that it is idle (pending) when the abort arrives. */
    weft_yield_now_init(&a->y);
    WEFT_AWAIT(&a->co, cx, &a->y);
    a->finished_before = weft_join_handle_is_finished(&a->h);
    weft_join_handle_abort(&a->h);
    WEFT_AWAIT(&a->co, cx, &a->h);
    a->finished_after = weft_join_handle_is_finished(&a->h);
    WEFT_ASYNC_END(&a->co);
}

static const weft_future_vtable abort_case_vt = {abort_case_poll, weft_async_drop, "abort"};

static void check_abort_runs_drop_and_join_says_cancelled(weft_flavor flavor)
{
    weft_runtime *rt = new_rt(flavor);
    atomic_store(&forever_drops, 0);
    abort_case a = {0};
    weft_async_init(&a.co, &abort_case_vt);
    assert_int_equal(weft_block_on(rt, &a.co.base), 0);
    assert_false(a.finished_before);
    assert_true(a.finished_after);
    assert_int_equal(a.h.status, WEFT_ECANCELLED);
    assert_int_equal(atomic_load(&forever_drops), 1);
    weft_runtime_shutdown(rt);
    assert_int_equal(atomic_load(&forever_drops), 1); /* not dropped twice */
}

static void test_task_abort_runs_drop_and_join_says_cancelled_ct(void **state)
{
    (void)state;
    check_abort_runs_drop_and_join_says_cancelled(WEFT_CURRENT_THREAD);
}

static void test_task_abort_runs_drop_and_join_says_cancelled_mt(void **state)
{
    (void)state;
    check_abort_runs_drop_and_join_says_cancelled(WEFT_MULTI_THREAD);
}

/* ---------------------------------------------------------------- detach */

static _Atomic int detached_ran;

typedef struct mark_fut {
    weft_future base;
} mark_fut;

static weft_poll mark_poll(weft_future *f, weft_context *cx)
{
    (void)f;
    (void)cx;
    atomic_fetch_add(&detached_ran, 1);
    return WEFT_READY;
}

static const weft_future_vtable mark_vt = {mark_poll, NULL, "mark"};

typedef struct detach_case {
    weft_async co;
    weft_join_handle marker;
} detach_case;

static weft_poll detach_case_poll(weft_future *f, weft_context *cx)
{
    detach_case *d = (detach_case *)f;
    WEFT_ASYNC_BEGIN(&d->co);
    {
        mark_fut m = {{&mark_vt}};
        weft_join_handle h = weft_spawn(&m);
        weft_join_handle_detach(&h);
        weft_join_handle_detach(&h); /* a second detach is harmless */
        /* A second task we do wait for: on the current-thread runtime it runs after the
         * detached one (FIFO), so both have run once it is joined. */
        mark_fut m2 = {{&mark_vt}};
        d->marker = weft_spawn(&m2);
    }
    WEFT_AWAIT(&d->co, cx, &d->marker);
    WEFT_ASYNC_END(&d->co);
}

static const weft_future_vtable detach_case_vt = {detach_case_poll, weft_async_drop, "detach"};

static void test_task_detached_task_still_runs(void **state)
{
    (void)state;
    weft_runtime *rt = new_rt(WEFT_CURRENT_THREAD);
    atomic_store(&detached_ran, 0);
    detach_case d = {0};
    weft_async_init(&d.co, &detach_case_vt);
    assert_int_equal(weft_block_on(rt, &d.co.base), 0);
    assert_int_equal(atomic_load(&detached_ran), 2);
    weft_runtime_shutdown(rt);
}

/* ---------------------------------------------------------------- yield_now fairness */

static _Atomic int order_log[16];
static _Atomic int order_len;

typedef struct logger {
    weft_async co;
    int id;
    weft_yield_now y;
} logger;

static weft_poll logger_poll(weft_future *f, weft_context *cx)
{
    logger *l = (logger *)f;
    WEFT_ASYNC_BEGIN(&l->co);
    order_log[atomic_fetch_add(&order_len, 1)] = l->id;
    weft_yield_now_init(&l->y);
    WEFT_AWAIT(&l->co, cx, &l->y);
    order_log[atomic_fetch_add(&order_len, 1)] = l->id + 10;
    WEFT_ASYNC_END(&l->co);
}

static const weft_future_vtable logger_vt = {logger_poll, weft_async_drop, "logger"};

typedef struct two_loggers {
    weft_async co;
    weft_join_handle a, b;
} two_loggers;

static weft_poll two_loggers_poll(weft_future *f, weft_context *cx)
{
    two_loggers *t = (two_loggers *)f;
    WEFT_ASYNC_BEGIN(&t->co);
    for (int i = 1; i <= 2; i++) {
        logger l = {.id = i};
        weft_async_init(&l.co, &logger_vt);
        *(i == 1 ? &t->a : &t->b) = weft_spawn(&l);
    }
    WEFT_AWAIT(&t->co, cx, &t->a);
    WEFT_AWAIT(&t->co, cx, &t->b);
    WEFT_ASYNC_END(&t->co);
}

static const weft_future_vtable two_loggers_vt = {two_loggers_poll, weft_async_drop, "two"};

static void test_task_yield_now_lets_others_run_first_ct(void **state)
{
    (void)state;
    weft_runtime *rt = new_rt(WEFT_CURRENT_THREAD);
    atomic_store(&order_len, 0);
    two_loggers t = {0};
    weft_async_init(&t.co, &two_loggers_vt);
    assert_int_equal(weft_block_on(rt, &t.co.base), 0);
    assert_int_equal(atomic_load(&order_len), 4);
    /* Both first halves run before either second half: the yield went to the back. */
    assert_int_equal(order_log[0], 1);
    assert_int_equal(order_log[1], 2);
    assert_int_equal(order_log[2], 11);
    assert_int_equal(order_log[3], 12);
    weft_runtime_shutdown(rt);
}

/* ---------------------------------------------------------------- cancellation of nested awaits */

static _Atomic int inner_drops;

typedef struct inner_fut {
    weft_future base;
} inner_fut;

static weft_poll inner_poll(weft_future *f, weft_context *cx)
{
    (void)f;
    (void)cx;
    return WEFT_PENDING;
}

static void inner_drop(weft_future *f)
{
    (void)f;
    atomic_fetch_add(&inner_drops, 1);
}

static const weft_future_vtable inner_vt = {inner_poll, inner_drop, "inner"};

typedef struct outer_fut {
    weft_async co;
    inner_fut inner;
} outer_fut;

static weft_poll outer_poll(weft_future *f, weft_context *cx)
{
    outer_fut *o = (outer_fut *)f;
    WEFT_ASYNC_BEGIN(&o->co);
    o->inner.base.vt = &inner_vt;
    WEFT_AWAIT(&o->co, cx, &o->inner);
    WEFT_ASYNC_END(&o->co);
}

static const weft_future_vtable outer_vt = {outer_poll, weft_async_drop, "outer"};

static void test_task_async_drop_cancels_awaited_subfuture(void **state)
{
    (void)state;
    atomic_store(&inner_drops, 0);
    outer_fut o = {0};
    weft_async_init(&o.co, &outer_vt);
    weft_waker none = WEFT_WAKER_NONE;
    weft_context cx = {&none, NULL};
    assert_int_equal(weft_future_poll(&o.co.base, &cx), WEFT_PENDING);
    assert_ptr_equal(o.co.awaiting, &o.inner.base);
    weft_future_drop(&o.co.base);
    assert_int_equal(atomic_load(&inner_drops), 1);
    weft_future_drop(&o.co.base); /* dropping a finished/dropped future again does nothing */
    assert_int_equal(atomic_load(&inner_drops), 1);
}

/* ---------------------------------------------------------------- wake from another thread */

typedef struct flag_fut {
    weft_future base;
    pthread_mutex_t lock;
    bool set;
    weft_waker waker;
} flag_fut;

static weft_poll flag_poll(weft_future *f, weft_context *cx)
{
    flag_fut *fl = (flag_fut *)f;
    pthread_mutex_lock(&fl->lock);
    bool set = fl->set;
    if (!set)
        weft_waker_register(&fl->waker, cx);
    pthread_mutex_unlock(&fl->lock);
    return set ? WEFT_READY : WEFT_PENDING;
}

static void flag_drop(weft_future *f)
{
    flag_fut *fl = (flag_fut *)f;
    pthread_mutex_lock(&fl->lock);
    weft_waker_drop(&fl->waker);
    pthread_mutex_unlock(&fl->lock);
}

static const weft_future_vtable flag_vt = {flag_poll, flag_drop, "flag"};

/* The flag lives outside the task (the task holds a pointer), so the pthread can set it. */
typedef struct await_flag {
    weft_future base;
    flag_fut *flag;
} await_flag;

static weft_poll await_flag_poll(weft_future *f, weft_context *cx)
{
    return flag_poll(&((await_flag *)f)->flag->base, cx);
}

static void await_flag_drop(weft_future *f)
{
    flag_drop(&((await_flag *)f)->flag->base);
}

static const weft_future_vtable await_flag_vt = {await_flag_poll, await_flag_drop, "await_flag"};

static bool flag_has_waiter(flag_fut *fl)
{
    pthread_mutex_lock(&fl->lock);
    bool set = weft_waker_is_set(&fl->waker);
    pthread_mutex_unlock(&fl->lock);
    return set;
}

static void *set_flag_thread(void *arg)
{
    flag_fut *fl = arg;
    pthread_mutex_lock(&fl->lock);
    fl->set = true;
    weft_waker w = fl->waker;
    fl->waker = WEFT_WAKER_NONE;
    pthread_mutex_unlock(&fl->lock);
    weft_waker_wake(&w);
    return NULL;
}

typedef struct remote_wake_case {
    weft_async co;
    weft_join_handle h;
    weft_yield_now y;
    flag_fut *flag;
    pthread_t th;
} remote_wake_case;

static weft_poll remote_wake_poll(weft_future *f, weft_context *cx)
{
    remote_wake_case *r = (remote_wake_case *)f;
    WEFT_ASYNC_BEGIN(&r->co);
    {
        await_flag a = {{&await_flag_vt}, r->flag};
        r->h = weft_spawn(&a);
    }
    /* Make sure the task has registered its waker before the thread sets the flag: either
     * order must work, but this is the order that needs the cross-thread wake. */
    while (!flag_has_waiter(r->flag)) {
        weft_yield_now_init(&r->y);
        WEFT_AWAIT(&r->co, cx, &r->y);
    }
    pthread_create(&r->th, NULL, set_flag_thread, r->flag);
    WEFT_AWAIT(&r->co, cx, &r->h);
    pthread_join(r->th, NULL);
    WEFT_ASYNC_END(&r->co);
}

static const weft_future_vtable remote_wake_vt = {remote_wake_poll, weft_async_drop, "remote"};

static void check_wake_from_other_thread_runs_task(weft_flavor flavor)
{
    weft_runtime *rt = new_rt(flavor);
    flag_fut flag = {{&flag_vt}, PTHREAD_MUTEX_INITIALIZER, false, WEFT_WAKER_NONE};
    remote_wake_case r = {.flag = &flag};
    weft_async_init(&r.co, &remote_wake_vt);
    assert_int_equal(weft_block_on(rt, &r.co.base), 0);
    assert_int_equal(r.h.status, 0);
    assert_true(flag.set);
    weft_runtime_shutdown(rt);
}

static void test_task_wake_from_other_thread_runs_task_ct(void **state)
{
    (void)state;
    check_wake_from_other_thread_runs_task(WEFT_CURRENT_THREAD);
}

static void test_task_wake_from_other_thread_runs_task_mt(void **state)
{
    (void)state;
    check_wake_from_other_thread_runs_task(WEFT_MULTI_THREAD);
}

/* ---------------------------------------------------------------- shutdown */

#define PENDING_TASKS 10000

typedef struct spawn_forever {
    weft_async co;
    weft_yield_now y;
} spawn_forever;

static weft_poll spawn_forever_poll(weft_future *f, weft_context *cx)
{
    spawn_forever *s = (spawn_forever *)f;
    WEFT_ASYNC_BEGIN(&s->co);
    for (int i = 0; i < PENDING_TASKS; i++) {
        forever_fut fv = make_forever();
        weft_join_handle h = weft_spawn(&fv);
        weft_join_handle_detach(&h);
    }
    /* Let some of them be polled (idle at shutdown), others stay queued. */
    weft_yield_now_init(&s->y);
    WEFT_AWAIT(&s->co, cx, &s->y);
    WEFT_ASYNC_END(&s->co);
}

static const weft_future_vtable spawn_forever_vt = {spawn_forever_poll, weft_async_drop, "sf"};

static void check_shutdown_runs_every_drop(weft_flavor flavor)
{
    weft_runtime *rt = new_rt(flavor);
    atomic_store(&forever_drops, 0);
    spawn_forever s = {0};
    weft_async_init(&s.co, &spawn_forever_vt);
    assert_int_equal(weft_block_on(rt, &s.co.base), 0);
    assert_int_equal(weft_runtime_alive_tasks(rt), PENDING_TASKS);
    assert_int_equal(weft_runtime_shutdown_timeout(rt, 60000), 0);
    assert_int_equal(atomic_load(&forever_drops), PENDING_TASKS);
}

static void test_task_shutdown_with_10000_pending_runs_every_drop_ct(void **state)
{
    (void)state;
    check_shutdown_runs_every_drop(WEFT_CURRENT_THREAD);
}

static void test_task_shutdown_with_10000_pending_runs_every_drop_mt(void **state)
{
    (void)state;
    check_shutdown_runs_every_drop(WEFT_MULTI_THREAD);
}

/* Two tasks that await each other's join handles: a deadlock that shutdown must still clean
 * up. Each finished task hands its join waker back instead of keeping it until it is freed;
 * otherwise each task's waker would hold a reference on the other and neither would ever be
 * freed (LeakSanitizer, in the asan CI stage, reports that leak). */
typedef struct mutual_pair {
    weft_join_handle for_a, for_b; /* a's handle for b to await, b's for a */
    _Atomic bool ready;
    _Atomic int awaiting; /* tasks that took their peer's handle and await it */
    _Atomic int drops;
} mutual_pair;

typedef struct mutual_fut {
    weft_async co;
    mutual_pair *pair;
    bool is_a;
    weft_join_handle peer;
    weft_yield_now y;
} mutual_fut;

static void mutual_drop(weft_future *f)
{
    mutual_fut *m = (mutual_fut *)f;
    atomic_fetch_add(&m->pair->drops, 1);
    weft_async_drop(f); /* drops the awaited join handle, if any */
}

static weft_poll mutual_poll(weft_future *f, weft_context *cx)
{
    mutual_fut *m = (mutual_fut *)f;
    WEFT_ASYNC_BEGIN(&m->co);
    while (!atomic_load(&m->pair->ready)) {
        weft_yield_now_init(&m->y);
        WEFT_AWAIT(&m->co, cx, &m->y);
    }
    m->peer = m->is_a ? m->pair->for_b : m->pair->for_a;
    atomic_fetch_add(&m->pair->awaiting, 1);
    WEFT_AWAIT(&m->co, cx, &m->peer); /* never completes: the peer awaits us */
    WEFT_ASYNC_END(&m->co);
}

static const weft_future_vtable mutual_vt = {mutual_poll, mutual_drop, "mutual"};

typedef struct spawn_mutual {
    weft_async co;
    mutual_pair *pair;
    weft_yield_now y;
} spawn_mutual;

static weft_poll spawn_mutual_poll(weft_future *f, weft_context *cx)
{
    spawn_mutual *s = (spawn_mutual *)f;
    WEFT_ASYNC_BEGIN(&s->co);
    {
        mutual_fut a = {.pair = s->pair, .is_a = true}, b = {.pair = s->pair, .is_a = false};
        weft_async_init(&a.co, &mutual_vt);
        weft_async_init(&b.co, &mutual_vt);
        s->pair->for_b = weft_spawn(&a);
        s->pair->for_a = weft_spawn(&b);
        atomic_store(&s->pair->ready, true);
    }
    while (atomic_load(&s->pair->awaiting) < 2) { /* until both hold their peer's handle */
        weft_yield_now_init(&s->y);
        WEFT_AWAIT(&s->co, cx, &s->y);
    }
    WEFT_ASYNC_END(&s->co);
}

static const weft_future_vtable spawn_mutual_vt = {spawn_mutual_poll, weft_async_drop, "sm"};

static void check_mutual_joins_freed_at_shutdown(weft_flavor flavor)
{
    weft_runtime *rt = new_rt(flavor);
    mutual_pair pair = {0};
    spawn_mutual s = {.pair = &pair};
    weft_async_init(&s.co, &spawn_mutual_vt);
    assert_int_equal(weft_block_on(rt, &s.co.base), 0);
    assert_int_equal(weft_runtime_alive_tasks(rt), 2);
    assert_int_equal(weft_runtime_shutdown_timeout(rt, 60000), 0);
    assert_int_equal(atomic_load(&pair.drops), 2);
}

static void test_task_mutual_join_deadlock_freed_at_shutdown_ct(void **state)
{
    (void)state;
    check_mutual_joins_freed_at_shutdown(WEFT_CURRENT_THREAD);
}

static void test_task_mutual_join_deadlock_freed_at_shutdown_mt(void **state)
{
    (void)state;
    check_mutual_joins_freed_at_shutdown(WEFT_MULTI_THREAD);
}

/* ---------------------------------------------------------------- cooperative budget */

/* A leaf that is always ready but plays by the rules: it asks the budget first. */
typedef struct ready_leaf {
    weft_future base;
} ready_leaf;

static weft_poll ready_leaf_poll(weft_future *f, weft_context *cx)
{
    (void)f;
    return weft_coop_proceed(cx) ? WEFT_READY : WEFT_PENDING;
}

static const weft_future_vtable ready_leaf_vt = {ready_leaf_poll, NULL, "ready_leaf"};

static _Atomic bool timer_fired;

/* Spins on ready leaves until the timer task says it fired. */
typedef struct spinner {
    weft_async co;
    ready_leaf leaf;
    long spins;
} spinner;

static weft_poll spinner_poll(weft_future *f, weft_context *cx)
{
    spinner *s = (spinner *)f;
    WEFT_ASYNC_BEGIN(&s->co);
    while (!atomic_load(&timer_fired)) {
        s->leaf.base.vt = &ready_leaf_vt;
        WEFT_AWAIT(&s->co, cx, &s->leaf);
        s->spins++;
    }
    weft_task_return(cx, s->spins);
    WEFT_ASYNC_END(&s->co);
}

static const weft_future_vtable spinner_vt = {spinner_poll, weft_async_drop, "spinner"};

typedef struct timer_task {
    weft_async co;
    weft_sleep nap;
} timer_task;

static weft_poll timer_task_poll(weft_future *f, weft_context *cx)
{
    timer_task *t = (timer_task *)f;
    WEFT_ASYNC_BEGIN(&t->co);
    weft_sleep_init(&t->nap, weft_ms(5));
    WEFT_AWAIT(&t->co, cx, &t->nap);
    atomic_store(&timer_fired, true);
    WEFT_ASYNC_END(&t->co);
}

static const weft_future_vtable timer_task_vt = {timer_task_poll, weft_async_drop, "timer"};

typedef struct budget_case {
    weft_async co;
    weft_join_handle spin, timer;
} budget_case;

static weft_poll budget_case_poll(weft_future *f, weft_context *cx)
{
    budget_case *b = (budget_case *)f;
    WEFT_ASYNC_BEGIN(&b->co);
    {
        timer_task t = {0};
        weft_async_init(&t.co, &timer_task_vt);
        b->timer = weft_spawn(&t);
        spinner s = {0};
        weft_async_init(&s.co, &spinner_vt);
        b->spin = weft_spawn(&s);
    }
    WEFT_AWAIT(&b->co, cx, &b->spin);
    WEFT_AWAIT(&b->co, cx, &b->timer);
    WEFT_ASYNC_END(&b->co);
}

static const weft_future_vtable budget_case_vt = {budget_case_poll, weft_async_drop, "budget"};

/* On one thread, a task that never sees PENDING from its leaves would hold the thread forever
 * and the timer could never fire: the test would hang. The budget makes the spinner yield
 * every WEFT_COOP_BUDGET leaves, so the driver runs and the timer task completes. */
static void test_task_budget_lets_timer_fire_beside_spinner_ct(void **state)
{
    (void)state;
    weft_runtime *rt = new_rt(WEFT_CURRENT_THREAD);
    atomic_store(&timer_fired, false);
    budget_case b = {0};
    weft_async_init(&b.co, &budget_case_vt);
    assert_int_equal(weft_block_on(rt, &b.co.base), 0);
    assert_int_equal(b.spin.status, 0);
    assert_int_equal(b.timer.status, 0);
    assert_true(b.spin.value > WEFT_COOP_BUDGET); /* it did spin through several budgets */
    weft_runtime_shutdown(rt);
}

/* ---------------------------------------------------------------- misuse */

static void test_task_spawn_outside_runtime_fails_cleanly(void **state)
{
    (void)state;
    mark_fut m = {{&mark_vt}};
    weft_join_handle h = weft_spawn(&m);
    assert_null(h.task);
    assert_int_equal(h.status, WEFT_ENORUNTIME);
    assert_true(weft_join_handle_is_finished(&h));
    weft_join_handle_detach(&h);
}

typedef struct nested_block_on {
    weft_future base;
    weft_runtime *rt;
    int rc;
} nested_block_on;

static weft_poll nested_poll(weft_future *f, weft_context *cx)
{
    (void)cx;
    nested_block_on *n = (nested_block_on *)f;
    weft_ready_future r;
    weft_ready_init(&r);
    n->rc = weft_block_on(n->rt, &r.base);
    return WEFT_READY;
}

static const weft_future_vtable nested_vt = {nested_poll, NULL, "nested"};

static void test_task_block_on_inside_runtime_is_refused(void **state)
{
    (void)state;
    weft_runtime *rt = new_rt(WEFT_CURRENT_THREAD);
    nested_block_on n = {{&nested_vt}, rt, 0};
    assert_int_equal(weft_block_on(rt, &n.base), 0);
    assert_int_equal(n.rc, WEFT_EBUSY);
    weft_runtime_shutdown(rt);
}

static void test_task_builder_rejects_bad_settings(void **state)
{
    (void)state;
    weft_builder b = weft_builder_new_multi_thread();
    b.max_blocking_threads = 0;
    weft_runtime *rt = NULL;
    assert_int_equal(weft_runtime_new(&b, &rt), WEFT_EINVAL);
    assert_null(rt);
    b = weft_builder_new_current_thread();
    b.flavor = (weft_flavor)7;
    assert_int_equal(weft_runtime_new(&b, &rt), WEFT_EINVAL);
    assert_int_equal(weft_runtime_new(NULL, &rt), WEFT_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_task_join_reports_value_and_error_ct),
        cmocka_unit_test(test_task_join_reports_value_and_error_mt),
        cmocka_unit_test(test_task_abort_runs_drop_and_join_says_cancelled_ct),
        cmocka_unit_test(test_task_abort_runs_drop_and_join_says_cancelled_mt),
        cmocka_unit_test(test_task_detached_task_still_runs),
        cmocka_unit_test(test_task_yield_now_lets_others_run_first_ct),
        cmocka_unit_test(test_task_async_drop_cancels_awaited_subfuture),
        cmocka_unit_test(test_task_wake_from_other_thread_runs_task_ct),
        cmocka_unit_test(test_task_wake_from_other_thread_runs_task_mt),
        cmocka_unit_test(test_task_shutdown_with_10000_pending_runs_every_drop_ct),
        cmocka_unit_test(test_task_shutdown_with_10000_pending_runs_every_drop_mt),
        cmocka_unit_test(test_task_mutual_join_deadlock_freed_at_shutdown_ct),
        cmocka_unit_test(test_task_mutual_join_deadlock_freed_at_shutdown_mt),
        cmocka_unit_test(test_task_budget_lets_timer_fire_beside_spinner_ct),
        cmocka_unit_test(test_task_spawn_outside_runtime_fails_cleanly),
        cmocka_unit_test(test_task_block_on_inside_runtime_is_refused),
        cmocka_unit_test(test_task_builder_rejects_bad_settings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
