/* tests/unit/test_blocking.c - spawn_blocking and the blocking pool.
 *
 * The blocking functions here park on a gate (a mutex and condition variable) that the test
 * opens, and count how many of them run at once, so that "the pool grows to N and no further"
 * and "shutdown waits for running work" are checked by construction rather than by sleeping and
 * hoping. Where the test must wait for the pool itself (a thread going idle or retiring), it
 * polls the pool's statistics under a generous deadline.
 */
#define _GNU_SOURCE /* pthread_getname_np */
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

#include "blocking/blocking_int.h"

#define DEADLINE_S 10 /* how long any wait may take before the test fails */

static weft_runtime *new_rt_with(weft_flavor flavor, unsigned max_blocking,
                                 uint64_t keep_alive_ms)
{
    weft_builder b = flavor == WEFT_CURRENT_THREAD ? weft_builder_new_current_thread()
                                                   : weft_builder_new_multi_thread();
    b.worker_threads = 2;
    b.max_blocking_threads = max_blocking;
    b.thread_keep_alive_ms = keep_alive_ms;
    weft_runtime *rt = NULL;
    assert_int_equal(weft_runtime_new(&b, &rt), 0);
    assert_non_null(rt);
    return rt;
}

static weft_runtime *new_rt(weft_flavor flavor)
{
    return new_rt_with(flavor, 512, 10000);
}

static weft__blocking_stats stats_of(weft_runtime *rt)
{
    weft__blocking_stats st;
    weft__blocking_pool_stats(rt->blocking, &st);
    return st;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Poll the pool until `field` of its statistics equals `want`, or fail after DEADLINE_S. */
#define WAIT_STATS(rt, field, want)                                                     \
    do {                                                                                \
        uint64_t until_ = now_ms() + DEADLINE_S * 1000u;                                \
        while (stats_of(rt).field != (want)) {                                          \
            assert_true(now_ms() < until_);                                             \
            sleep_ms(1);                                                                \
        }                                                                               \
    } while (0)

/* ---------------------------------------------------------------- the gate */

typedef struct gate {
    pthread_mutex_t m;
    pthread_cond_t cv;   /* broadcast on every change below */
    int running;         /* held_fn calls inside the gate now */
    int max_running;     /* the most that were ever inside at once */
    int started, finished;
    bool open;
} gate;

static gate G = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0, 0, false};

static void gate_reset(void)
{
    pthread_mutex_lock(&G.m);
    G.running = G.max_running = G.started = G.finished = 0;
    G.open = false;
    pthread_mutex_unlock(&G.m);
}

static void gate_open(void)
{
    pthread_mutex_lock(&G.m);
    G.open = true;
    pthread_cond_broadcast(&G.cv);
    pthread_mutex_unlock(&G.m);
}

/* Wait until *field >= want (a field of G); false after DEADLINE_S. */
static bool gate_wait_for(const int *field, int want)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += DEADLINE_S;
    bool ok = true;
    pthread_mutex_lock(&G.m);
    while (*field < want && ok)
        ok = pthread_cond_timedwait(&G.cv, &G.m, &until) == 0 || *field >= want;
    pthread_mutex_unlock(&G.m);
    return ok;
}

static int gate_get(const int *field)
{
    pthread_mutex_lock(&G.m);
    int v = *field;
    pthread_mutex_unlock(&G.m);
    return v;
}

/* A blocking function that waits at the gate, then returns its argument as value. */
static int held_fn(void *arg, intptr_t *value)
{
    pthread_mutex_lock(&G.m);
    G.started++;
    G.running++;
    if (G.running > G.max_running)
        G.max_running = G.running;
    pthread_cond_broadcast(&G.cv);
    while (!G.open)
        pthread_cond_wait(&G.cv, &G.m);
    G.running--;
    G.finished++;
    pthread_cond_broadcast(&G.cv);
    pthread_mutex_unlock(&G.m);
    *value = (intptr_t)arg;
    return 0;
}

static int value_fn(void *arg, intptr_t *value)
{
    *value = (intptr_t)arg;
    return 0;
}

static int failing_fn(void *arg, intptr_t *value)
{
    (void)arg;
    *value = 99; /* ignored: a failed task reports no value */
    return -42;
}

static weft_join_handle spawn_held(weft_runtime *rt, intptr_t v)
{
    return weft__spawn_blocking(rt, held_fn, (void *)v, "held_fn", WEFT_HERE);
}

/* ---------------------------------------------------------------- awaiting handles */

typedef struct join_all {
    weft_async co;
    int n, i;
    weft_join_handle h[8];
} join_all;

static weft_poll join_all_poll(weft_future *f, weft_context *cx)
{
    join_all *j = (join_all *)f;
    WEFT_ASYNC_BEGIN(&j->co);
    for (j->i = 0; j->i < j->n; j->i++)
        WEFT_AWAIT(&j->co, cx, &j->h[j->i]);
    WEFT_ASYNC_END(&j->co);
}

static const weft_future_vtable join_all_vt = {join_all_poll, weft_async_drop, "join_all"};

static void join_all_init(join_all *j)
{
    memset(j, 0, sizeof *j);
    weft_async_init(&j->co, &join_all_vt);
}

/* Poll a handle whose task is known to be complete, from outside any runtime. */
static void read_finished_handle(weft_join_handle *h)
{
    weft_waker none = WEFT_WAKER_NONE;
    weft_context cx = {&none, NULL};
    assert_true(weft_join_handle_is_finished(h));
    assert_int_equal(weft_future_poll(&h->base, &cx), WEFT_READY);
}

/* ---------------------------------------------------------------- value and error */

/* Spawns from inside the runtime, with the macro users write. */
typedef struct spawn_two {
    weft_async co;
    weft_join_handle ok, bad;
} spawn_two;

static weft_poll spawn_two_poll(weft_future *f, weft_context *cx)
{
    spawn_two *s = (spawn_two *)f;
    WEFT_ASYNC_BEGIN(&s->co);
    s->ok = weft_spawn_blocking(value_fn, (void *)77);
    s->bad = weft_spawn_blocking(failing_fn, NULL);
    WEFT_AWAIT(&s->co, cx, &s->ok);
    WEFT_AWAIT(&s->co, cx, &s->bad);
    WEFT_ASYNC_END(&s->co);
}

static const weft_future_vtable spawn_two_vt = {spawn_two_poll, weft_async_drop, "spawn_two"};

static void check_returns_value_and_error(weft_flavor flavor)
{
    weft_runtime *rt = new_rt(flavor);
    spawn_two s = {0};
    weft_async_init(&s.co, &spawn_two_vt);
    assert_int_equal(weft_block_on(rt, &s.co.base), 0);
    assert_int_equal(s.ok.status, 0);
    assert_int_equal(s.ok.value, 77);
    assert_int_equal(s.bad.status, -42);
    assert_int_equal(s.bad.value, 0);
    weft_runtime_shutdown(rt);
}

static void test_blocking_returns_value_and_error_ct(void **state)
{
    (void)state;
    check_returns_value_and_error(WEFT_CURRENT_THREAD);
}

static void test_blocking_returns_value_and_error_mt(void **state)
{
    (void)state;
    check_returns_value_and_error(WEFT_MULTI_THREAD);
}

static void test_blocking_spawn_without_runtime_fails(void **state)
{
    (void)state;
    weft_join_handle h = weft_spawn_blocking(value_fn, NULL);
    assert_null(h.task);
    assert_int_equal(h.status, WEFT_ENORUNTIME);
    weft_join_handle_detach(&h);
}

/* ---------------------------------------------------------------- threads and hooks */

static _Atomic int hook_starts, hook_stops;
static char seen_name[16];

static void on_start(void *arg)
{
    (void)arg;
    atomic_fetch_add(&hook_starts, 1);
}

static void on_stop(void *arg)
{
    (void)arg;
    atomic_fetch_add(&hook_stops, 1);
}

static int name_fn(void *arg, intptr_t *value)
{
    (void)arg;
    pthread_getname_np(pthread_self(), seen_name, sizeof seen_name);
    *value = weft_runtime_current() != NULL; /* blocking code runs inside the runtime */
    return 0;
}

/* The current-thread runtime starts no workers, so every hook call is a pool thread's. */
static void test_blocking_threads_are_named_and_run_hooks(void **state)
{
    (void)state;
    atomic_store(&hook_starts, 0);
    atomic_store(&hook_stops, 0);
    weft_builder b = weft_builder_new_current_thread();
    b.thread_name = "wt";
    b.on_thread_start = on_start;
    b.on_thread_stop = on_stop;
    weft_runtime *rt = NULL;
    assert_int_equal(weft_runtime_new(&b, &rt), 0);

    join_all j;
    join_all_init(&j);
    j.n = 1;
    j.h[0] = weft__spawn_blocking(rt, name_fn, NULL, "name_fn", WEFT_HERE);
    assert_int_equal(weft_block_on(rt, &j.co.base), 0);
    assert_int_equal(j.h[0].status, 0);
    assert_int_equal(j.h[0].value, 1);
    assert_string_equal(seen_name, "wt-blocking");
    assert_int_equal(atomic_load(&hook_starts), 1);
    weft_runtime_shutdown(rt);
    /* Shutdown joined the thread, so its stop hook has run. */
    assert_int_equal(atomic_load(&hook_stops), 1);
}

/* ---------------------------------------------------------------- growth */

static void check_pool_grows_to_max_and_no_further(weft_flavor flavor)
{
    gate_reset();
    weft_runtime *rt = new_rt_with(flavor, 3, 10000);
    join_all j;
    join_all_init(&j);
    j.n = 6;
    for (int i = 0; i < j.n; i++)
        j.h[i] = spawn_held(rt, 10 + i);

    /* Threads are started by spawn itself, so the count is final once spawning returned. */
    weft__blocking_stats st = stats_of(rt);
    assert_int_equal(st.threads, 3);
    assert_true(gate_wait_for(&G.running, 3));
    st = stats_of(rt);
    assert_int_equal(st.threads, 3);
    assert_int_equal(st.queued, 3);
    assert_int_equal(st.idle, 0);
    assert_int_equal(gate_get(&G.started), 3);

    gate_open();
    assert_int_equal(weft_block_on(rt, &j.co.base), 0);
    for (int i = 0; i < j.n; i++) {
        assert_int_equal(j.h[i].status, 0);
        assert_int_equal(j.h[i].value, 10 + i);
    }
    assert_int_equal(gate_get(&G.finished), 6);
    assert_int_equal(gate_get(&G.max_running), 3);
    st = stats_of(rt);
    assert_int_equal(st.spawned, 3);
    assert_int_equal(st.queued, 0);
    weft_runtime_shutdown(rt);
}

static void test_blocking_pool_grows_to_max_and_no_further_ct(void **state)
{
    (void)state;
    check_pool_grows_to_max_and_no_further(WEFT_CURRENT_THREAD);
}

static void test_blocking_pool_grows_to_max_and_no_further_mt(void **state)
{
    (void)state;
    check_pool_grows_to_max_and_no_further(WEFT_MULTI_THREAD);
}

/* ---------------------------------------------------------------- idle threads */

static void test_blocking_idle_thread_is_reused(void **state)
{
    (void)state;
    weft_runtime *rt = new_rt(WEFT_MULTI_THREAD);
    for (int round = 0; round < 3; round++) {
        join_all j;
        join_all_init(&j);
        j.n = 1;
        j.h[0] = weft__spawn_blocking(rt, value_fn, (void *)(intptr_t)round, "v", WEFT_HERE);
        assert_int_equal(weft_block_on(rt, &j.co.base), 0);
        assert_int_equal(j.h[0].value, round);
        /* The thread goes idle just after the task completes; wait for that so that the next
         * round has an idle thread to hand its work to. */
        WAIT_STATS(rt, idle, 1u);
    }
    weft__blocking_stats st = stats_of(rt);
    assert_int_equal(st.spawned, 1);
    assert_int_equal(st.threads, 1);
    weft_runtime_shutdown(rt);
}

static void test_blocking_idle_threads_retire_after_keep_alive(void **state)
{
    (void)state;
    gate_reset();
    weft_runtime *rt = new_rt_with(WEFT_MULTI_THREAD, 8, 20);
    join_all j;
    join_all_init(&j);
    j.n = 2;
    j.h[0] = spawn_held(rt, 1);
    j.h[1] = spawn_held(rt, 2);
    assert_true(gate_wait_for(&G.running, 2)); /* two threads, both busy */
    assert_int_equal(stats_of(rt).threads, 2);
    gate_open();
    assert_int_equal(weft_block_on(rt, &j.co.base), 0);

    WAIT_STATS(rt, threads, 0u);
    weft__blocking_stats st = stats_of(rt);
    assert_int_equal(st.retired, 2);
    assert_int_equal(st.idle, 0);

    /* A retired pool starts a thread again when work arrives. */
    join_all_init(&j);
    j.n = 1;
    j.h[0] = weft__spawn_blocking(rt, value_fn, (void *)5, "v", WEFT_HERE);
    assert_int_equal(weft_block_on(rt, &j.co.base), 0);
    assert_int_equal(j.h[0].value, 5);
    assert_int_equal(stats_of(rt).spawned, 3);
    weft_runtime_shutdown(rt);
}

/* ---------------------------------------------------------------- abort */

static void check_abort_before_start_cancels(weft_flavor flavor)
{
    gate_reset();
    weft_runtime *rt = new_rt_with(flavor, 1, 10000);
    join_all j;
    join_all_init(&j);
    j.n = 2;
    j.h[0] = spawn_held(rt, 1);
    j.h[1] = spawn_held(rt, 2); /* queued behind the first: the pool has one thread */
    assert_true(gate_wait_for(&G.running, 1));
    weft_join_handle_abort(&j.h[1]);
    weft_join_handle_abort(&j.h[0]); /* already running: cannot be interrupted */
    gate_open();
    assert_int_equal(weft_block_on(rt, &j.co.base), 0);
    assert_int_equal(j.h[0].status, 0);
    assert_int_equal(j.h[0].value, 1);
    assert_int_equal(j.h[1].status, WEFT_ECANCELLED);
    assert_int_equal(gate_get(&G.started), 1);
    weft_runtime_shutdown(rt);
}

static void test_blocking_abort_before_start_cancels_ct(void **state)
{
    (void)state;
    check_abort_before_start_cancels(WEFT_CURRENT_THREAD);
}

static void test_blocking_abort_before_start_cancels_mt(void **state)
{
    (void)state;
    check_abort_before_start_cancels(WEFT_MULTI_THREAD);
}

/* ---------------------------------------------------------------- shutdown */

/* Opens the gate once the pool's shutdown has begun, so that shutdown provably waits. */
static void *open_when_shutting_down(void *arg)
{
    weft_runtime *rt = arg;
    uint64_t until = now_ms() + DEADLINE_S * 1000u;
    while (!stats_of(rt).shutdown && now_ms() < until)
        sleep_ms(1);
    gate_open();
    return NULL;
}

static void check_shutdown_waits_for_running_work(weft_flavor flavor)
{
    gate_reset();
    atomic_store(&hook_starts, 0);
    atomic_store(&hook_stops, 0);
    weft_builder b = flavor == WEFT_CURRENT_THREAD ? weft_builder_new_current_thread()
                                                   : weft_builder_new_multi_thread();
    b.worker_threads = 2;
    b.on_thread_start = on_start;
    b.on_thread_stop = on_stop;
    weft_runtime *rt = NULL;
    assert_int_equal(weft_runtime_new(&b, &rt), 0);

    weft_join_handle h = spawn_held(rt, 1);
    weft_join_handle_detach(&h); /* nobody waits for it but shutdown */
    assert_true(gate_wait_for(&G.running, 1));
    pthread_t opener;
    assert_int_equal(pthread_create(&opener, NULL, open_when_shutting_down, rt), 0);
    weft_runtime_shutdown(rt);
    assert_int_equal(gate_get(&G.finished), 1);
    /* Every runtime thread, the pool thread included, had stopped when shutdown returned. */
    assert_int_equal(atomic_load(&hook_stops), atomic_load(&hook_starts));
    pthread_join(opener, NULL);
}

static void test_blocking_shutdown_waits_for_running_work_ct(void **state)
{
    (void)state;
    check_shutdown_waits_for_running_work(WEFT_CURRENT_THREAD);
}

static void test_blocking_shutdown_waits_for_running_work_mt(void **state)
{
    (void)state;
    check_shutdown_waits_for_running_work(WEFT_MULTI_THREAD);
}

static void test_blocking_shutdown_cancels_queued_work(void **state)
{
    (void)state;
    gate_reset();
    weft_runtime *rt = new_rt_with(WEFT_MULTI_THREAD, 1, 10000);
    weft_join_handle running = spawn_held(rt, 1);
    weft_join_handle queued = spawn_held(rt, 2);
    assert_true(gate_wait_for(&G.running, 1));
    pthread_t opener;
    assert_int_equal(pthread_create(&opener, NULL, open_when_shutting_down, rt), 0);
    weft_runtime_shutdown(rt);
    pthread_join(opener, NULL);
    assert_int_equal(gate_get(&G.started), 1);
    /* The tasks outlive the runtime for as long as their handles hold them. */
    read_finished_handle(&running);
    assert_int_equal(running.status, 0);
    assert_int_equal(running.value, 1);
    read_finished_handle(&queued);
    assert_int_equal(queued.status, WEFT_ECANCELLED);
}

/* White-box: the pool's own shutdown, before the runtime's, cancels what is queued and what is
 * spawned afterwards, while the runtime can still be used to await the handles. */
static void test_blocking_pool_shutdown_cancels_queued_and_later_work(void **state)
{
    (void)state;
    gate_reset();
    weft_runtime *rt = new_rt_with(WEFT_CURRENT_THREAD, 1, 10000);
    join_all j;
    join_all_init(&j);
    j.n = 3;
    j.h[0] = spawn_held(rt, 1);
    j.h[1] = spawn_held(rt, 2);
    assert_true(gate_wait_for(&G.running, 1));
    pthread_t opener;
    assert_int_equal(pthread_create(&opener, NULL, open_when_shutting_down, rt), 0);
    assert_int_equal(weft__blocking_pool_shutdown(rt->blocking, UINT64_MAX), 0);
    pthread_join(opener, NULL);
    assert_int_equal(stats_of(rt).threads, 0);
    j.h[2] = spawn_held(rt, 3);
    assert_int_equal(weft_block_on(rt, &j.co.base), 0);
    assert_int_equal(j.h[0].status, 0);
    assert_int_equal(j.h[1].status, WEFT_ECANCELLED);
    assert_int_equal(j.h[2].status, WEFT_ECANCELLED);
    assert_int_equal(gate_get(&G.started), 1);
    weft_runtime_shutdown(rt);
}

/* On a timed-out shutdown the runtime is deliberately left allocated for the thread that is
 * still running (runtime.h); keeping it reachable tells LeakSanitizer that this is on purpose. */
static weft_runtime *leaked_rt;

static void test_blocking_shutdown_timeout_when_work_is_stuck(void **state)
{
    (void)state;
    gate_reset();
    weft_runtime *rt = new_rt(WEFT_CURRENT_THREAD);
    weft_join_handle h = spawn_held(rt, 1);
    weft_join_handle_detach(&h);
    assert_true(gate_wait_for(&G.running, 1));
    leaked_rt = rt;
    uint64_t t0 = now_ms();
    assert_int_equal(weft_runtime_shutdown_timeout(rt, 50), WEFT_ETIMEDOUT);
    assert_true(now_ms() - t0 >= 40); /* it did wait (ms rounding aside) */
    assert_int_equal(gate_get(&G.finished), 0);

    /* The abandoned thread finishes its function and leaves; the pool it uses is still there. */
    gate_open();
    assert_true(gate_wait_for(&G.finished, 1));
    WAIT_STATS(leaked_rt, threads, 0u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_blocking_returns_value_and_error_ct),
        cmocka_unit_test(test_blocking_returns_value_and_error_mt),
        cmocka_unit_test(test_blocking_spawn_without_runtime_fails),
        cmocka_unit_test(test_blocking_threads_are_named_and_run_hooks),
        cmocka_unit_test(test_blocking_pool_grows_to_max_and_no_further_ct),
        cmocka_unit_test(test_blocking_pool_grows_to_max_and_no_further_mt),
        cmocka_unit_test(test_blocking_idle_thread_is_reused),
        cmocka_unit_test(test_blocking_idle_threads_retire_after_keep_alive),
        cmocka_unit_test(test_blocking_abort_before_start_cancels_ct),
        cmocka_unit_test(test_blocking_abort_before_start_cancels_mt),
        cmocka_unit_test(test_blocking_shutdown_waits_for_running_work_ct),
        cmocka_unit_test(test_blocking_shutdown_waits_for_running_work_mt),
        cmocka_unit_test(test_blocking_shutdown_cancels_queued_work),
        cmocka_unit_test(test_blocking_pool_shutdown_cancels_queued_and_later_work),
        cmocka_unit_test(test_blocking_shutdown_timeout_when_work_is_stuck),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
