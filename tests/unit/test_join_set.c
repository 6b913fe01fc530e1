/* tests/unit/test_join_set.c - JoinSet: completion order, len, abort_all, free, empty sets.
 *
 * Tasks in the set wait on gates that the root future opens in a chosen order, so completion
 * order differs from spawn order by construction. Where a test needs a task to have completed
 * before it goes on, it awaits a helper task that yields until the runtime's count of live
 * tasks drops (a task leaves that count only after its join waker ran), under a generous
 * real-time deadline.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <weft/weft.h>

#define DEADLINE_MS 10000u
#define NGATES 8

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

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---------------------------------------------------------------- gates */

typedef struct gate {
    pthread_mutex_t m;
    bool open;
    weft_waker waker; /* of the task waiting at the gate */
} gate;

static gate gates[NGATES];

static void gates_reset(void)
{
    for (int i = 0; i < NGATES; i++) {
        pthread_mutex_init(&gates[i].m, NULL);
        gates[i].open = false;
        gates[i].waker = WEFT_WAKER_NONE;
    }
}

static void gate_open(int i)
{
    pthread_mutex_lock(&gates[i].m);
    gates[i].open = true;
    weft_waker w = gates[i].waker;
    gates[i].waker = WEFT_WAKER_NONE;
    pthread_mutex_unlock(&gates[i].m);
    weft_waker_wake(&w);
}

/* A task that completes with value `i` once gate i is open. */
typedef struct gated {
    weft_future base;
    int i;
} gated;

static weft_poll gated_poll(weft_future *f, weft_context *cx)
{
    gated *g = (gated *)f;
    gate *gt = &gates[g->i];
    pthread_mutex_lock(&gt->m);
    bool open = gt->open;
    if (!open)
        weft_waker_register(&gt->waker, cx);
    pthread_mutex_unlock(&gt->m);
    if (!open)
        return WEFT_PENDING;
    weft_task_return(cx, g->i);
    return WEFT_READY;
}

static void gated_drop(weft_future *f)
{
    gate *gt = &gates[((gated *)f)->i];
    pthread_mutex_lock(&gt->m);
    weft_waker_drop(&gt->waker);
    pthread_mutex_unlock(&gt->m);
}

static const weft_future_vtable gated_vt = {gated_poll, gated_drop, "gated"};

static gated make_gated(int i)
{
    return (gated){{&gated_vt}, i};
}

/* A task that never completes and counts its drops. */
static _Atomic int forever_drops;

typedef struct forever_fut {
    weft_future base;
} forever_fut;

static weft_poll forever_poll(weft_future *f, weft_context *cx)
{
    (void)f;
    (void)cx;
    return WEFT_PENDING;
}

static void forever_drop(weft_future *f)
{
    (void)f;
    atomic_fetch_add(&forever_drops, 1);
}

static const weft_future_vtable forever_vt = {forever_poll, forever_drop, "forever"};

/* ---------------------------------------------------------------- waiting for the runtime
 *
 * A task that yields until the runtime has at most `alive` other live tasks and forever_drops
 * reached `drops`; its join reports value 1 if it gave up at the deadline instead. It is a task
 * rather than a loop in the root future so that, on either scheduler, the tasks it waits for
 * run in between its polls. */
typedef struct settle {
    weft_future base;
    size_t alive;     /* wait until live tasks <= this (counting the settle task itself) */
    int drops;        /* and forever_drops >= this */
    uint64_t until;   /* real-time deadline, ms */
} settle;

static weft_poll settle_poll(weft_future *f, weft_context *cx)
{
    settle *s = (settle *)f;
    bool done = weft_runtime_alive_tasks(weft_runtime_current()) <= s->alive &&
                atomic_load(&forever_drops) >= s->drops;
    if (!done && now_ms() <= s->until) {
        weft_waker_wake_by_ref(cx->waker); /* like yield_now: to the back of the queue */
        return WEFT_PENDING;
    }
    weft_task_return(cx, !done);
    return WEFT_READY;
}

static const weft_future_vtable settle_vt = {settle_poll, NULL, "settle"};

static weft_join_handle spawn_settle(size_t alive, int drops)
{
    settle s = {{&settle_vt}, alive + 1, drops, now_ms() + DEADLINE_MS};
    return weft_spawn(&s);
}

/* ---------------------------------------------------------------- completion order */

typedef struct order_case {
    weft_async co;
    weft_join_set *set;
    int n, k;
    int order[NGATES];    /* the order in which gates are opened */
    bool buffered;        /* open every gate first, then collect */
    int64_t ids[NGATES];  /* by spawn index */
    weft_task_id got[NGATES];
    int status[NGATES];
    intptr_t value[NGATES];
    size_t len_after[NGATES];
    int empty_status;
    bool timed_out;
    weft_join_handle st;
    weft_join_next jn;
} order_case;

static weft_poll order_case_poll(weft_future *f, weft_context *cx)
{
    order_case *c = (order_case *)f;
    WEFT_ASYNC_BEGIN(&c->co);
    for (c->k = 0; c->k < c->n; c->k++) {
        gated g = make_gated(c->k);
        c->ids[c->k] = weft_join_set_spawn(c->set, &g);
    }
    if (c->buffered) {
        /* Every task completes before join_next is first called: the set must have kept the
         * order in which they completed. */
        for (c->k = 0; c->k < c->n; c->k++) {
            gate_open(c->order[c->k]);
            c->st = spawn_settle((size_t)(c->n - c->k - 1), 0);
            WEFT_AWAIT(&c->co, cx, &c->st);
            c->timed_out |= c->st.value != 0;
        }
    }
    for (c->k = 0; c->k < c->n; c->k++) {
        if (!c->buffered)
            gate_open(c->order[c->k]); /* only this task can complete now */
        weft_join_set_join_next_init(&c->jn, c->set);
        WEFT_AWAIT(&c->co, cx, &c->jn);
        c->got[c->k] = c->jn.id;
        c->status[c->k] = c->jn.status;
        c->value[c->k] = c->jn.value;
        c->len_after[c->k] = weft_join_set_len(c->set);
    }
    weft_join_set_join_next_init(&c->jn, c->set);
    WEFT_AWAIT(&c->co, cx, &c->jn);
    c->empty_status = c->jn.status;
    WEFT_ASYNC_END(&c->co);
}

static const weft_future_vtable order_case_vt = {order_case_poll, weft_async_drop, "order"};

static void check_completion_order(weft_flavor flavor, bool buffered)
{
    static const int order[] = {2, 0, 4, 1, 3};
    gates_reset();
    weft_runtime *rt = new_rt(flavor);
    order_case c = {.n = 5, .buffered = buffered};
    memcpy(c.order, order, sizeof order);
    assert_int_equal(weft_join_set_new(&c.set), 0);
    weft_async_init(&c.co, &order_case_vt);
    assert_int_equal(weft_block_on(rt, &c.co.base), 0);
    assert_false(c.timed_out);
    for (int k = 0; k < c.n; k++) {
        assert_true(c.ids[k] > 0);
        assert_int_equal(c.got[k], c.ids[order[k]]);
        assert_int_equal(c.status[k], 0);
        assert_int_equal(c.value[k], order[k]);
        assert_int_equal(c.len_after[k], (size_t)(c.n - k - 1));
    }
    assert_int_equal(c.empty_status, WEFT_EEMPTY);
    assert_int_equal(weft_join_set_len(c.set), 0);
    weft_join_set_free(c.set);
    weft_runtime_shutdown(rt);
}

static void test_join_set_join_next_follows_completion_order_ct(void **state)
{
    (void)state;
    check_completion_order(WEFT_CURRENT_THREAD, false);
}

static void test_join_set_join_next_follows_completion_order_mt(void **state)
{
    (void)state;
    check_completion_order(WEFT_MULTI_THREAD, false);
}

static void test_join_set_keeps_completion_order_of_buffered_outcomes_ct(void **state)
{
    (void)state;
    check_completion_order(WEFT_CURRENT_THREAD, true);
}

static void test_join_set_keeps_completion_order_of_buffered_outcomes_mt(void **state)
{
    (void)state;
    check_completion_order(WEFT_MULTI_THREAD, true);
}

/* ---------------------------------------------------------------- empty set and len */

static void test_join_set_join_next_on_empty_set_is_eempty(void **state)
{
    (void)state;
    weft_join_set *set = NULL;
    assert_int_equal(weft_join_set_new(&set), 0);
    assert_int_equal(weft_join_set_len(set), 0);
    weft_join_next jn;
    weft_join_set_join_next_init(&jn, set);
    weft_waker none = WEFT_WAKER_NONE;
    weft_context cx = {&none, NULL};
    assert_int_equal(weft_future_poll(&jn.base, &cx), WEFT_READY);
    assert_int_equal(jn.status, WEFT_EEMPTY);
    weft_join_set_free(set);
}

static void test_join_set_spawn_outside_runtime_fails(void **state)
{
    (void)state;
    weft_join_set *set = NULL;
    assert_int_equal(weft_join_set_new(&set), 0);
    gated g = make_gated(0);
    assert_int_equal(weft_join_set_spawn(set, &g), WEFT_ENORUNTIME);
    assert_int_equal(weft_join_set_len(set), 0);
    weft_join_set_free(set);
}

/* ---------------------------------------------------------------- abort_all */

typedef struct abort_case {
    weft_async co;
    weft_join_set *set;
    int k;
    int64_t done_id;
    size_t len_before;
    int status[4];
    intptr_t value[4];
    weft_task_id got[4];
    int empty_status;
    bool timed_out;
    weft_join_handle st;
    weft_join_next jn;
} abort_case;

static weft_poll abort_case_poll(weft_future *f, weft_context *cx)
{
    abort_case *a = (abort_case *)f;
    WEFT_ASYNC_BEGIN(&a->co);
    {
        gate_open(0);
        gated g = make_gated(0);
        a->done_id = weft_join_set_spawn(a->set, &g);
    }
    a->st = spawn_settle(0, 0); /* the finished one has completed */
    WEFT_AWAIT(&a->co, cx, &a->st);
    a->timed_out |= a->st.value != 0;
    for (a->k = 0; a->k < 3; a->k++) {
        forever_fut fv = {{&forever_vt}};
        weft_join_set_spawn(a->set, &fv);
    }
    weft_join_set_abort_all(a->set);
    a->len_before = weft_join_set_len(a->set); /* aborted tasks stay until collected */
    for (a->k = 0; a->k < 4; a->k++) {
        weft_join_set_join_next_init(&a->jn, a->set);
        WEFT_AWAIT(&a->co, cx, &a->jn);
        a->got[a->k] = a->jn.id;
        a->status[a->k] = a->jn.status;
        a->value[a->k] = a->jn.value;
    }
    weft_join_set_join_next_init(&a->jn, a->set);
    WEFT_AWAIT(&a->co, cx, &a->jn);
    a->empty_status = a->jn.status;
    WEFT_ASYNC_END(&a->co);
}

static const weft_future_vtable abort_case_vt = {abort_case_poll, weft_async_drop, "abort"};

static void check_abort_all(weft_flavor flavor)
{
    gates_reset();
    atomic_store(&forever_drops, 0);
    weft_runtime *rt = new_rt(flavor);
    abort_case a = {0};
    assert_int_equal(weft_join_set_new(&a.set), 0);
    weft_async_init(&a.co, &abort_case_vt);
    assert_int_equal(weft_block_on(rt, &a.co.base), 0);
    assert_false(a.timed_out);
    assert_int_equal(a.len_before, 4);
    /* The task that had finished before abort_all keeps its outcome and comes out first. */
    assert_int_equal(a.got[0], a.done_id);
    assert_int_equal(a.status[0], 0);
    assert_int_equal(a.value[0], 0);
    for (int k = 1; k < 4; k++) {
        assert_int_not_equal(a.got[k], a.done_id);
        assert_int_equal(a.status[k], WEFT_ECANCELLED);
    }
    assert_int_equal(a.empty_status, WEFT_EEMPTY);
    assert_int_equal(atomic_load(&forever_drops), 3);
    weft_join_set_free(a.set);
    weft_runtime_shutdown(rt);
    assert_int_equal(atomic_load(&forever_drops), 3);
}

static void test_join_set_abort_all_cancels_every_task_ct(void **state)
{
    (void)state;
    check_abort_all(WEFT_CURRENT_THREAD);
}

static void test_join_set_abort_all_cancels_every_task_mt(void **state)
{
    (void)state;
    check_abort_all(WEFT_MULTI_THREAD);
}

/* ---------------------------------------------------------------- free */

typedef struct free_case {
    weft_async co;
    int k;
    bool timed_out;
    weft_join_handle st;
} free_case;

static weft_poll free_case_poll(weft_future *f, weft_context *cx)
{
    free_case *c = (free_case *)f;
    WEFT_ASYNC_BEGIN(&c->co);
    {
        weft_join_set *set = NULL;
        assert_int_equal(weft_join_set_new(&set), 0);
        for (int i = 0; i < 3; i++) {
            forever_fut fv = {{&forever_vt}};
            assert_true(weft_join_set_spawn(set, &fv) > 0);
        }
        gate_open(0);
        gated g = make_gated(0); /* finishes; its outcome is simply discarded */
        assert_true(weft_join_set_spawn(set, &g) > 0);
        weft_join_set_free(set);
    }
    /* The set is gone; the runtime drops the aborted tasks' futures. */
    c->st = spawn_settle(0, 3);
    WEFT_AWAIT(&c->co, cx, &c->st);
    c->timed_out = c->st.value != 0;
    WEFT_ASYNC_END(&c->co);
}

static const weft_future_vtable free_case_vt = {free_case_poll, weft_async_drop, "free"};

static void check_free_aborts_tasks(weft_flavor flavor)
{
    gates_reset();
    atomic_store(&forever_drops, 0);
    weft_runtime *rt = new_rt(flavor);
    free_case c = {0};
    weft_async_init(&c.co, &free_case_vt);
    assert_int_equal(weft_block_on(rt, &c.co.base), 0);
    assert_false(c.timed_out);
    assert_int_equal(atomic_load(&forever_drops), 3);
    weft_runtime_shutdown(rt);
    assert_int_equal(atomic_load(&forever_drops), 3);
}

static void test_join_set_free_aborts_its_tasks_ct(void **state)
{
    (void)state;
    check_free_aborts_tasks(WEFT_CURRENT_THREAD);
}

static void test_join_set_free_aborts_its_tasks_mt(void **state)
{
    (void)state;
    check_free_aborts_tasks(WEFT_MULTI_THREAD);
}

/* ---------------------------------------------------------------- a dropped join_next */

typedef struct drop_case {
    weft_async co;
    weft_join_set *set;
    int64_t id;
    weft_poll first;
    bool timed_out;
    weft_join_handle st;
    weft_join_next jn;
} drop_case;

static weft_poll drop_case_poll(weft_future *f, weft_context *cx)
{
    drop_case *d = (drop_case *)f;
    WEFT_ASYNC_BEGIN(&d->co);
    {
        gated g = make_gated(0);
        d->id = weft_join_set_spawn(d->set, &g);
        /* A join_next that is polled once, then abandoned (as a losing select branch is). */
        weft_join_next lost;
        weft_join_set_join_next_init(&lost, d->set);
        d->first = weft_future_poll(&lost.base, cx);
        weft_future_drop(&lost.base);
        gate_open(0);
    }
    d->st = spawn_settle(0, 0);
    WEFT_AWAIT(&d->co, cx, &d->st);
    d->timed_out = d->st.value != 0;
    weft_join_set_join_next_init(&d->jn, d->set);
    WEFT_AWAIT(&d->co, cx, &d->jn);
    WEFT_ASYNC_END(&d->co);
}

static const weft_future_vtable drop_case_vt = {drop_case_poll, weft_async_drop, "drop"};

static void check_dropped_join_next_loses_nothing(weft_flavor flavor)
{
    gates_reset();
    weft_runtime *rt = new_rt(flavor);
    drop_case d = {0};
    assert_int_equal(weft_join_set_new(&d.set), 0);
    weft_async_init(&d.co, &drop_case_vt);
    assert_int_equal(weft_block_on(rt, &d.co.base), 0);
    assert_int_equal(d.first, WEFT_PENDING);
    assert_false(d.timed_out);
    assert_int_equal(d.jn.id, d.id);
    assert_int_equal(d.jn.status, 0);
    assert_int_equal(weft_join_set_len(d.set), 0);
    weft_join_set_free(d.set);
    weft_runtime_shutdown(rt);
}

static void test_join_set_dropped_join_next_loses_nothing_ct(void **state)
{
    (void)state;
    check_dropped_join_next_loses_nothing(WEFT_CURRENT_THREAD);
}

static void test_join_set_dropped_join_next_loses_nothing_mt(void **state)
{
    (void)state;
    check_dropped_join_next_loses_nothing(WEFT_MULTI_THREAD);
}

/* ---------------------------------------------------------------- stress (multi-thread)
 *
 * Many short tasks completing on both workers while join_next collects them; and, each round, a
 * second set freed while its tasks are still running and holding its wakers. Run under TSan. */
#define STRESS_TASKS 200
#define STRESS_ROUNDS 20

typedef struct yielder {
    weft_async co;
    int i, n;
    weft_yield_now y;
} yielder;

static weft_poll yielder_poll(weft_future *f, weft_context *cx)
{
    yielder *y = (yielder *)f;
    WEFT_ASYNC_BEGIN(&y->co);
    for (y->n = y->i % 5; y->n > 0; y->n--) {
        weft_yield_now_init(&y->y);
        WEFT_AWAIT(&y->co, cx, &y->y);
    }
    weft_task_return(cx, y->i);
    WEFT_ASYNC_END(&y->co);
}

static const weft_future_vtable yielder_vt = {yielder_poll, weft_async_drop, "yielder"};

typedef struct stress_case {
    weft_async co;
    weft_join_set *set;
    int k;
    int64_t ids[STRESS_TASKS];
    int seen[STRESS_TASKS]; /* by value: how often each task's outcome came out */
    int bad;                /* outcomes with a wrong id or status */
    int empty_status;
    weft_join_next jn;
} stress_case;

static weft_poll stress_case_poll(weft_future *f, weft_context *cx)
{
    stress_case *s = (stress_case *)f;
    WEFT_ASYNC_BEGIN(&s->co);
    {
        weft_join_set *doomed = NULL;
        assert_int_equal(weft_join_set_new(&doomed), 0);
        for (int i = 0; i < STRESS_TASKS; i++) {
            yielder y = {.i = i};
            weft_async_init(&y.co, &yielder_vt);
            s->ids[i] = weft_join_set_spawn(s->set, &y);
            yielder z = {.i = i};
            weft_async_init(&z.co, &yielder_vt);
            weft_join_set_spawn(doomed, &z);
        }
        weft_join_set_free(doomed);
    }
    for (s->k = 0; s->k < STRESS_TASKS; s->k++) {
        weft_join_set_join_next_init(&s->jn, s->set);
        WEFT_AWAIT(&s->co, cx, &s->jn);
        if (s->jn.status != 0 || s->jn.value < 0 || s->jn.value >= STRESS_TASKS ||
            (int64_t)s->jn.id != s->ids[s->jn.value])
            s->bad++;
        else
            s->seen[s->jn.value]++;
    }
    weft_join_set_join_next_init(&s->jn, s->set);
    WEFT_AWAIT(&s->co, cx, &s->jn);
    s->empty_status = s->jn.status;
    WEFT_ASYNC_END(&s->co);
}

static const weft_future_vtable stress_case_vt = {stress_case_poll, weft_async_drop, "stress"};

static void test_join_set_stress_on_two_workers_mt(void **state)
{
    (void)state;
    weft_runtime *rt = new_rt(WEFT_MULTI_THREAD);
    stress_case *s = malloc(sizeof *s);
    assert_non_null(s);
    for (int round = 0; round < STRESS_ROUNDS; round++) {
        memset(s, 0, sizeof *s);
        assert_int_equal(weft_join_set_new(&s->set), 0);
        weft_async_init(&s->co, &stress_case_vt);
        assert_int_equal(weft_block_on(rt, &s->co.base), 0);
        assert_int_equal(s->bad, 0);
        for (int i = 0; i < STRESS_TASKS; i++)
            assert_int_equal(s->seen[i], 1);
        assert_int_equal(s->empty_status, WEFT_EEMPTY);
        weft_join_set_free(s->set);
    }
    free(s);
    weft_runtime_shutdown(rt);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_join_set_join_next_follows_completion_order_ct),
        cmocka_unit_test(test_join_set_join_next_follows_completion_order_mt),
        cmocka_unit_test(test_join_set_keeps_completion_order_of_buffered_outcomes_ct),
        cmocka_unit_test(test_join_set_keeps_completion_order_of_buffered_outcomes_mt),
        cmocka_unit_test(test_join_set_join_next_on_empty_set_is_eempty),
        cmocka_unit_test(test_join_set_spawn_outside_runtime_fails),
        cmocka_unit_test(test_join_set_abort_all_cancels_every_task_ct),
        cmocka_unit_test(test_join_set_abort_all_cancels_every_task_mt),
        cmocka_unit_test(test_join_set_free_aborts_its_tasks_ct),
        cmocka_unit_test(test_join_set_free_aborts_its_tasks_mt),
        cmocka_unit_test(test_join_set_dropped_join_next_loses_nothing_ct),
        cmocka_unit_test(test_join_set_dropped_join_next_loses_nothing_mt),
        cmocka_unit_test(test_join_set_stress_on_two_workers_mt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
