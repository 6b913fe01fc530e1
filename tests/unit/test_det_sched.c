/* tests/unit/test_det_sched.c - the deterministic scheduler as a backend: virtual time,
 * seeded randomness, blocking work in virtual time, selection by WEFT_SCHED, the limits, and
 * the stall verdicts (lost wakeup, join cycle, tasks alive at shutdown).
 *
 * Programs are small async functions run by weft_explore (in-process) or directly under
 * WEFT_SCHED. Every runtime is shut down, so ASan/LSan check that the scheduler's references
 * to tasks are all given back, including after a failure stopped a run half-way.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <weft/sched.h>
#include <weft/weft.h>

/* ---------------------------------------------------------------- helpers */

static weft_runtime *det_rt(bool multi)
{
    weft_builder b = multi ? weft_builder_new_multi_thread() : weft_builder_new_current_thread();
    b.worker_threads = 4;
    weft_runtime *rt = NULL;
    assert_int_equal(weft_runtime_new(&b, &rt), 0);
    return rt;
}

static double wall_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static weft_explore_opts opts(const char *program, const char *strategy, uint64_t iterations)
{
    weft_explore_opts o = {0};
    o.program = program;
    o.strategy = strategy;
    o.iterations = iterations;
    o.seed = 1;
    return o;
}

/* ---------------------------------------------------------------- a sleeper */

typedef struct sleeper {
    weft_async co;
    weft_duration d;
    weft_sleep nap;
    weft_instant start, end;
} sleeper;

static weft_poll sleeper_poll(weft_future *f, weft_context *cx)
{
    sleeper *s = (sleeper *)f;
    WEFT_ASYNC_BEGIN(&s->co);
    s->start = weft_instant_now();
    weft_sleep_init(&s->nap, s->d);
    WEFT_AWAIT(&s->co, cx, &s->nap);
    s->end = weft_instant_now();
    WEFT_ASYNC_END(&s->co);
}

static const weft_future_vtable sleeper_vt = {sleeper_poll, weft_async_drop, "sleeper"};

static sleeper sleeper_new(weft_duration d)
{
    sleeper s = {.d = d};
    weft_async_init(&s.co, &sleeper_vt);
    return s;
}

static int one_hour_body(void *arg)
{
    sleeper *out = arg;
    weft_runtime *rt = det_rt(false);
    *out = sleeper_new(weft_secs(3600));
    int rc = weft_block_on(rt, &out->co.base);
    weft_runtime_shutdown(rt);
    return rc;
}

static void test_det_sched_virtual_time_jumps_to_the_next_timer(void **state)
{
    (void)state;
    sleeper s;
    weft_explore_opts o = opts("one_hour", "fifo", 1);
    weft_explore_result res;
    double t0 = wall_s();
    assert_int_equal(weft_explore(&o, one_hour_body, &s, &res), 0);
    assert_false(res.failed);
    assert_true(wall_s() - t0 < 5.0);
    assert_int_equal(s.end - s.start, weft_secs(3600));
}

/* ---------------------------------------------------------------- WEFT_SCHED */

typedef struct probe {
    weft_future base;
    bool det;
    uint64_t r[4];
} probe;

static weft_poll probe_poll(weft_future *f, weft_context *cx)
{
    (void)cx;
    probe *p = (probe *)f;
    p->det = weft_sched_is_deterministic();
    for (int i = 0; i < 4; i++)
        p->r[i] = weft_rand();
    return WEFT_READY;
}

static const weft_future_vtable probe_vt = {probe_poll, NULL, "probe"};

static void run_probe(bool multi, probe *p)
{
    weft_runtime *rt = det_rt(multi);
    *p = (probe){.base = {&probe_vt}};
    assert_int_equal(weft_block_on(rt, &p->base), 0);
    weft_runtime_shutdown(rt);
}

static void test_det_sched_selected_by_the_environment_for_both_flavours(void **state)
{
    (void)state;
    probe a, b, c, plain;
    setenv("WEFT_SCHED", "random:7", 1);
    run_probe(true, &a);
    run_probe(false, &b);
    setenv("WEFT_SCHED", "random:8", 1);
    run_probe(false, &c);
    unsetenv("WEFT_SCHED");
    run_probe(false, &plain);
    assert_true(a.det);
    assert_true(b.det);
    assert_false(plain.det);
    /* weft_rand follows the seed: same seed, same numbers, whatever the flavour. */
    assert_memory_equal(a.r, b.r, sizeof a.r);
    assert_memory_not_equal(a.r, c.r, sizeof a.r);
}

static void test_det_sched_refuses_a_malformed_environment(void **state)
{
    (void)state;
    weft_builder b = weft_builder_new_current_thread();
    weft_runtime *rt = NULL;
    setenv("WEFT_SCHED", "randm:7", 1);
    assert_int_equal(weft_runtime_new(&b, &rt), WEFT_EINVAL);
    setenv("WEFT_SCHED", "pct:1:0", 1);
    assert_int_equal(weft_runtime_new(&b, &rt), WEFT_EINVAL);
    setenv("WEFT_SCHED", "replay:/nonexistent/schedule", 1);
    assert_int_equal(weft_runtime_new(&b, &rt), WEFT_EIO);
    unsetenv("WEFT_SCHED");
    assert_null(rt);
}

/* ---------------------------------------------------------------- blocking work */

/* A heartbeat every 10 ms records the largest gap between beats, while `work` is done either
 * inline (burning the worker) or on the blocking pool. */
typedef struct heart {
    weft_async co;
    int i;
    weft_sleep nap;
    weft_instant last;
    weft_duration *max_gap; /* the task's copy of the future writes here */
} heart;

static weft_poll heart_poll(weft_future *f, weft_context *cx)
{
    heart *h = (heart *)f;
    WEFT_ASYNC_BEGIN(&h->co);
    h->last = weft_instant_now();
    for (h->i = 0; h->i < 30; h->i++) {
        weft_sleep_init(&h->nap, weft_ms(10));
        WEFT_AWAIT(&h->co, cx, &h->nap);
        weft_instant now = weft_instant_now();
        if (now - h->last > *h->max_gap)
            *h->max_gap = now - h->last;
        h->last = now;
    }
    WEFT_ASYNC_END(&h->co);
}

static const weft_future_vtable heart_vt = {heart_poll, weft_async_drop, "heart"};

static int crunch(void *arg, intptr_t *value)
{
    (void)arg;
    weft_sched_burn(weft_ms(150));
    *value = 42;
    return 0;
}

typedef struct worker_main {
    weft_async co;
    bool use_pool;
    heart *hb;
    weft_join_handle beat, job;
    weft_sleep nap;
    weft_instant started, joined;
} worker_main;

static weft_poll worker_poll(weft_future *f, weft_context *cx)
{
    worker_main *m = (worker_main *)f;
    WEFT_ASYNC_BEGIN(&m->co);
    m->beat = weft_spawn(m->hb);
    weft_sleep_init(&m->nap, weft_ms(25));
    WEFT_AWAIT(&m->co, cx, &m->nap);
    m->started = weft_instant_now();
    if (m->use_pool) {
        m->job = weft_spawn_blocking(crunch, NULL);
        WEFT_AWAIT(&m->co, cx, &m->job);
        assert_int_equal(m->job.value, 42);
    } else {
        weft_sched_burn(weft_ms(150)); /* inline: the worker is blocked */
    }
    m->joined = weft_instant_now();
    WEFT_AWAIT(&m->co, cx, &m->beat);
    WEFT_ASYNC_END(&m->co);
}

static const weft_future_vtable worker_vt = {worker_poll, weft_async_drop, "worker_main"};

typedef struct worker_result {
    bool use_pool;
    weft_duration max_gap, took;
} worker_result;

static int worker_body(void *arg)
{
    worker_result *r = arg;
    heart hb = {.max_gap = &r->max_gap};
    weft_async_init(&hb.co, &heart_vt);
    worker_main m = {.use_pool = r->use_pool, .hb = &hb};
    weft_async_init(&m.co, &worker_vt);
    weft_runtime *rt = det_rt(false);
    int rc = weft_block_on(rt, &m.co.base);
    weft_runtime_shutdown(rt);
    r->took = m.joined - m.started;
    return rc;
}

static void test_det_sched_blocking_work_is_charged_to_a_blocking_thread(void **state)
{
    (void)state;
    worker_result inline_r = {.use_pool = false}, pool_r = {.use_pool = true};
    weft_explore_opts o = opts("heartbeat", "fifo", 1);
    weft_explore_result res;
    assert_int_equal(weft_explore(&o, worker_body, &inline_r, &res), 0);
    assert_false(res.failed);
    assert_int_equal(weft_explore(&o, worker_body, &pool_r, &res), 0);
    assert_false(res.failed);
    /* Both take 150 ms of virtual time from the caller's point of view... */
    assert_int_equal(inline_r.took, weft_ms(150));
    assert_int_equal(pool_r.took, weft_ms(150));
    /* ...but only inline work stalls the heartbeat. */
    assert_true(inline_r.max_gap >= weft_ms(150));
    assert_int_equal(pool_r.max_gap, weft_ms(10));
}

/* ---------------------------------------------------------------- limits */

typedef struct spinner {
    weft_async co;
    weft_yield_now y;
} spinner;

static weft_poll spinner_poll(weft_future *f, weft_context *cx)
{
    spinner *s = (spinner *)f;
    WEFT_ASYNC_BEGIN(&s->co);
    for (;;) {
        weft_yield_now_init(&s->y);
        WEFT_AWAIT(&s->co, cx, &s->y);
    }
    WEFT_ASYNC_END(&s->co);
}

static const weft_future_vtable spinner_vt = {spinner_poll, weft_async_drop, "spinner"};

static int spinner_body(void *arg)
{
    (void)arg;
    spinner s;
    weft_async_init(&s.co, &spinner_vt);
    weft_runtime *rt = det_rt(false);
    int rc = weft_block_on(rt, &s.co.base);
    if (rc != 0)
        weft_future_drop(&s.co.base); /* block_on gave up on it: cancel it */
    weft_runtime_shutdown(rt);
    return rc == WEFT_ESHUTDOWN ? 0 : 1;
}

static void test_det_sched_step_limit(void **state)
{
    (void)state;
    weft_explore_opts o = opts("spinner", "fifo", 1);
    o.max_steps = 500;
    weft_explore_result res;
    assert_int_equal(weft_explore(&o, spinner_body, NULL, &res), 0);
    assert_true(res.failed);
    assert_string_equal(res.kind, "step-limit");
}

typedef struct ticker {
    weft_async co;
    weft_sleep nap;
} ticker;

static weft_poll ticker_poll(weft_future *f, weft_context *cx)
{
    ticker *t = (ticker *)f;
    WEFT_ASYNC_BEGIN(&t->co);
    for (;;) {
        weft_sleep_init(&t->nap, weft_secs(1));
        WEFT_AWAIT(&t->co, cx, &t->nap);
    }
    WEFT_ASYNC_END(&t->co);
}

static const weft_future_vtable ticker_vt = {ticker_poll, weft_async_drop, "ticker"};

static int ticker_body(void *arg)
{
    (void)arg;
    ticker t;
    weft_async_init(&t.co, &ticker_vt);
    weft_runtime *rt = det_rt(false);
    int rc = weft_block_on(rt, &t.co.base);
    if (rc != 0)
        weft_future_drop(&t.co.base); /* block_on gave up on it: cancel it */
    weft_runtime_shutdown(rt);
    return rc == WEFT_ESHUTDOWN ? 0 : 1;
}

static void test_det_sched_virtual_time_limit(void **state)
{
    (void)state;
    weft_explore_opts o = opts("ticker", "fifo", 1);
    o.max_vtime = weft_secs(10);
    weft_explore_result res;
    assert_int_equal(weft_explore(&o, ticker_body, NULL, &res), 0);
    assert_true(res.failed);
    assert_string_equal(res.kind, "vtime-limit");
    assert_non_null(strstr(res.summary, "10000 ms"));
}

/* ---------------------------------------------------------------- stalls */

/* A future that returns PENDING without registering its waker. */
typedef struct forgetful {
    weft_future base;
} forgetful;

static weft_poll forgetful_poll(weft_future *f, weft_context *cx)
{
    (void)f;
    (void)cx;
    return WEFT_PENDING;
}

static const weft_future_vtable forgetful_vt = {forgetful_poll, NULL, "forgetful"};

typedef struct awaits_forgetful {
    weft_async co;
    forgetful child;
    weft_join_handle h;
} awaits_forgetful;

static weft_poll awaits_forgetful_poll(weft_future *f, weft_context *cx)
{
    awaits_forgetful *a = (awaits_forgetful *)f;
    WEFT_ASYNC_BEGIN(&a->co);
    a->child.base.vt = &forgetful_vt;
    a->h = weft_spawn_named("forgetful_task", &a->child);
    WEFT_AWAIT(&a->co, cx, &a->h);
    WEFT_ASYNC_END(&a->co);
}

static const weft_future_vtable awaits_forgetful_vt = {awaits_forgetful_poll, weft_async_drop,
                                                       "main"};

static int lost_body(void *arg)
{
    (void)arg;
    awaits_forgetful a;
    weft_async_init(&a.co, &awaits_forgetful_vt);
    weft_runtime *rt = det_rt(false);
    int rc = weft_block_on(rt, &a.co.base);
    if (rc != 0)
        weft_future_drop(&a.co.base); /* block_on gave up on it: cancel it */
    weft_runtime_shutdown(rt);
    return rc == WEFT_ESHUTDOWN ? 0 : 1;
}

static void test_det_sched_lost_wakeup_is_named(void **state)
{
    (void)state;
    weft_explore_opts o = opts("lost", "fifo", 1);
    weft_explore_result res;
    assert_int_equal(weft_explore(&o, lost_body, NULL, &res), 0);
    assert_true(res.failed);
    assert_string_equal(res.kind, "lost-wakeup");
    assert_non_null(strstr(res.summary, "forgetful_task"));
    /* main awaits it: listed with the join. */
    assert_non_null(strstr(res.summary, "awaits the join handle of T1"));
}

/* A chain: main sleeps while T0 awaits T1's join handle and T1 awaits a future that forgot
 * its waker. When main returns, both are alive; the report says what each waits on. (A cycle
 * of joins would be reported the same way, but the runtime keeps a completed task's join waker
 * until the task is freed, so a join cycle leaks both tasks: not something a test can do.) */
static weft_join_handle chain_handle;

typedef struct chain_top {
    weft_async co;
    weft_yield_now y;
} chain_top;

static weft_poll chain_top_poll(weft_future *f, weft_context *cx)
{
    chain_top *c = (chain_top *)f;
    WEFT_ASYNC_BEGIN(&c->co);
    weft_yield_now_init(&c->y); /* let main store the handle */
    WEFT_AWAIT(&c->co, cx, &c->y);
    WEFT_AWAIT(&c->co, cx, &chain_handle);
    WEFT_ASYNC_END(&c->co);
}

static const weft_future_vtable chain_top_vt = {chain_top_poll, weft_async_drop, "joiner"};

static int join_chain_body(void *arg)
{
    (void)arg;
    chain_top top;
    weft_async_init(&top.co, &chain_top_vt);
    forgetful bottom = {.base = {&forgetful_vt}};
    weft_runtime *rt = det_rt(false);
    weft_join_handle h = weft_runtime_spawn(rt, &top);
    chain_handle = weft_runtime_spawn_named(rt, "forgetful_task", &bottom);
    sleeper s = sleeper_new(weft_secs(1));
    int rc = weft_block_on(rt, &s.co.base);
    weft_runtime_shutdown(rt);
    weft_join_handle_detach(&h);
    weft_join_handle_detach(&chain_handle);
    return rc == 0 ? 0 : 1;
}

static void test_det_sched_alive_tasks_say_what_they_wait_for(void **state)
{
    (void)state;
    weft_explore_opts o = opts("join_chain", "fifo", 1);
    weft_explore_result res;
    assert_int_equal(weft_explore(&o, join_chain_body, NULL, &res), 0);
    assert_true(res.failed);
    assert_string_equal(res.kind, "tasks-alive");
    /* Spawned before block_on, the tasks are T0 and T1. */
    assert_non_null(strstr(res.summary, "T0 joiner"));
    assert_non_null(strstr(res.summary, "awaits the join handle of T1"));
    assert_non_null(strstr(res.summary, "no waker of it exists anywhere"));
}

static int alive_body(void *arg)
{
    (void)arg;
    weft_runtime *rt = det_rt(false);
    weft_pending_future never;
    weft_pending_init(&never);
    weft_join_handle h = weft_runtime_spawn_named(rt, "orphan", &never);
    weft_join_handle_detach(&h);
    sleeper s = sleeper_new(weft_ms(5));
    int rc = weft_block_on(rt, &s.co.base);
    weft_runtime_shutdown(rt);
    return rc;
}

static void test_det_sched_tasks_alive_at_shutdown(void **state)
{
    (void)state;
    weft_explore_opts o = opts("alive", "fifo", 1);
    weft_explore_result res;
    assert_int_equal(weft_explore(&o, alive_body, NULL, &res), 0);
    assert_true(res.failed);
    assert_string_equal(res.kind, "tasks-alive");
    assert_non_null(strstr(res.summary, "orphan"));
    o.allow_alive = true;
    assert_int_equal(weft_explore(&o, alive_body, NULL, &res), 0);
    assert_false(res.failed);
}

int main(void)
{
    unsetenv("WEFT_SCHED");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_det_sched_virtual_time_jumps_to_the_next_timer),
        cmocka_unit_test(test_det_sched_selected_by_the_environment_for_both_flavours),
        cmocka_unit_test(test_det_sched_refuses_a_malformed_environment),
        cmocka_unit_test(test_det_sched_blocking_work_is_charged_to_a_blocking_thread),
        cmocka_unit_test(test_det_sched_step_limit),
        cmocka_unit_test(test_det_sched_virtual_time_limit),
        cmocka_unit_test(test_det_sched_lost_wakeup_is_named),
        cmocka_unit_test(test_det_sched_alive_tasks_say_what_they_wait_for),
        cmocka_unit_test(test_det_sched_tasks_alive_at_shutdown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
