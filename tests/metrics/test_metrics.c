/* tests/metrics/test_metrics.c - the runtime and task metrics of weft/metrics.h.
 *
 * Each case runs a program whose work is known exactly (N tasks, K yields each, a task that
 * spends its whole budget, a poll that spins past the slow threshold...) and checks that the
 * counters say so: exact where the scheduler's choices cannot change the count (polls,
 * spawns, a monitor's tasks and polls), bounds where they can (parks, steals).
 */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <weft/metrics.h>
#include <weft/net.h>
#include <weft/weft.h>

#define TASKS 20
#define YIELDS 50

/* ---------------------------------------------------------------- helpers */
static weft_runtime *new_rt(weft_flavor flavor, unsigned workers)
{
    weft_builder b = flavor == WEFT_CURRENT_THREAD ? weft_builder_new_current_thread()
                                                    : weft_builder_new_multi_thread();
    b.worker_threads = workers;
    b.enable_time = true;
    weft_runtime *rt = NULL;
    assert_int_equal(weft_runtime_new(&b, &rt), 0);
    return rt;
}

/* A task that yields YIELDS times: YIELDS + 1 polls. */
typedef struct yielder {
    weft_async co;
    int i;
    weft_yield_now y;
} yielder;

static weft_poll yielder_poll(weft_future *f, weft_context *cx)
{
    yielder *t = (yielder *)f;
    WEFT_ASYNC_BEGIN(&t->co);
    for (t->i = 0; t->i < YIELDS; t->i++) {
        weft_yield_now_init(&t->y);
        WEFT_AWAIT(&t->co, cx, &t->y);
    }
    WEFT_ASYNC_END(&t->co);
}

static const weft_future_vtable yielder_vt = {yielder_poll, weft_async_drop, "yielder"};

/* The root: spawn TASKS yielders (through `mon` when set) and join them. */
typedef struct spawner {
    weft_async co;
    weft_task_monitor *mon;
    int i;
    weft_join_handle hs[TASKS];
} spawner;

static weft_poll spawner_poll(weft_future *f, weft_context *cx)
{
    spawner *s = (spawner *)f;
    WEFT_ASYNC_BEGIN(&s->co);
    for (s->i = 0; s->i < TASKS; s->i++) {
        yielder y;
        weft_async_init(&y.co, &yielder_vt);
        s->hs[s->i] = s->mon ? weft_task_monitor_spawn(s->mon, &y) : weft_spawn(&y);
    }
    for (s->i = 0; s->i < TASKS; s->i++) {
        WEFT_AWAIT(&s->co, cx, &s->hs[s->i]);
        assert_int_equal(s->hs[s->i].status, 0);
    }
    WEFT_ASYNC_END(&s->co);
}

static const weft_future_vtable spawner_vt = {spawner_poll, weft_async_drop, "spawner"};

static void run_spawner(weft_runtime *rt, weft_task_monitor *mon)
{
    spawner s;
    memset(&s, 0, sizeof s);
    weft_async_init(&s.co, &spawner_vt);
    s.mon = mon;
    assert_int_equal(weft_block_on(rt, &s.co.base), 0);
}

/* ---------------------------------------------------------------- runtime metrics */

static void test_metrics_current_thread_counts_every_poll_and_spawn(void **state)
{
    (void)state;
    weft_runtime *rt = new_rt(WEFT_CURRENT_THREAD, 1);
    weft_runtime_metrics before, after, d;
    assert_int_equal(weft_runtime_metrics_get(rt, &before), 0);
    assert_int_equal(before.workers, 1);
    assert_int_equal(before.polls, 0);
    run_spawner(rt, NULL);
    assert_int_equal(weft_runtime_metrics_get(rt, &after), 0);
    weft_runtime_metrics_diff(&before, &after, &d);
    assert_int_equal(d.spawned_tasks, TASKS);
    assert_int_equal(d.polls, TASKS * (YIELDS + 1));
    /* Every spawn and every yield was scheduled from the block_on thread itself. */
    assert_int_equal(d.local_schedules, TASKS * (YIELDS + 1));
    assert_int_equal(d.remote_schedules, 0);
    assert_int_equal(after.alive_tasks, 0);
    assert_int_equal(after.global_queue_depth, 0);
    assert_int_equal(after.local_queue_depth, 0);
    assert_true(d.now_ns > 0);
    assert_true(d.busy_ns > 0 && d.busy_ns <= d.now_ns);
    weft_worker_metrics w;
    assert_int_equal(weft_runtime_worker_metrics_get(rt, 0, &w), 0);
    assert_int_equal(w.polls, after.polls);
    weft_runtime_shutdown(rt);
}

static void test_metrics_multi_thread_sums_workers(void **state)
{
    (void)state;
    weft_runtime *rt = new_rt(WEFT_MULTI_THREAD, 2);
    run_spawner(rt, NULL);
    weft_runtime_metrics m;
    assert_int_equal(weft_runtime_metrics_get(rt, &m), 0);
    assert_int_equal(m.workers, 2);
    /* block_on's future runs on the calling thread, not a worker: only the yielders are
     * tasks, and their spawns are remote schedules. */
    assert_int_equal(m.spawned_tasks, TASKS);
    assert_int_equal(m.polls, TASKS * (YIELDS + 1));
    assert_true(m.remote_schedules >= TASKS);
    uint64_t polls = 0, steals = 0, ops = 0;
    for (unsigned i = 0; i < 2; i++) {
        weft_worker_metrics w;
        assert_int_equal(weft_runtime_worker_metrics_get(rt, i, &w), 0);
        polls += w.polls;
        steals += w.steals;
        ops += w.steal_operations;
        assert_true(w.steals >= w.steal_operations);
    }
    assert_int_equal(polls, m.polls);
    assert_int_equal(steals, m.steals);
    assert_int_equal(ops, m.steal_operations);
    weft_worker_metrics w;
    assert_int_equal(weft_runtime_worker_metrics_get(rt, 2, &w), WEFT_EINVAL);
    weft_runtime_shutdown(rt);
}

/* A task that sleeps: its worker has nothing else to do, so it parks. */
typedef struct sleeper {
    weft_async co;
    weft_sleep nap;
} sleeper;

static weft_poll sleeper_poll(weft_future *f, weft_context *cx)
{
    sleeper *s = (sleeper *)f;
    WEFT_ASYNC_BEGIN(&s->co);
    weft_sleep_init(&s->nap, weft_ms(20));
    WEFT_AWAIT(&s->co, cx, &s->nap);
    WEFT_ASYNC_END(&s->co);
}

static const weft_future_vtable sleeper_vt = {sleeper_poll, weft_async_drop, "sleeper"};

static void test_metrics_idle_worker_parks_and_is_not_busy(void **state)
{
    (void)state;
    weft_runtime *rt = new_rt(WEFT_CURRENT_THREAD, 1);
    weft_runtime_metrics before, after, d;
    weft_runtime_metrics_get(rt, &before);
    sleeper s;
    weft_async_init(&s.co, &sleeper_vt);
    assert_int_equal(weft_block_on(rt, &s.co.base), 0);
    weft_runtime_metrics_get(rt, &after);
    weft_runtime_metrics_diff(&before, &after, &d);
    assert_true(d.parks >= 1);
    assert_true(d.now_ns >= 20000000u);
    /* The thread slept through the 20 ms: far less than half of it was busy. */
    assert_true(weft_runtime_metrics_busy_ratio(&d) < 0.5);
    weft_runtime_shutdown(rt);
}

/* A task whose leaf operations are always ready: it spends its budget and is made to yield. */
typedef struct greedy {
    weft_future base;
    int done;
} greedy;

static weft_poll greedy_poll(weft_future *f, weft_context *cx)
{
    greedy *g = (greedy *)f;
    while (g->done < 3 * WEFT_COOP_BUDGET - 1) {
        if (!weft_coop_proceed(cx))
            return WEFT_PENDING;
        g->done++;
    }
    return WEFT_READY;
}

static const weft_future_vtable greedy_vt = {greedy_poll, NULL, "greedy"};

typedef struct greedy_root {
    weft_async co;
    weft_join_handle h;
} greedy_root;

static weft_poll greedy_root_poll(weft_future *f, weft_context *cx)
{
    greedy_root *r = (greedy_root *)f;
    WEFT_ASYNC_BEGIN(&r->co);
    greedy g = {{&greedy_vt}, 0};
    r->h = weft_spawn(&g);
    WEFT_AWAIT(&r->co, cx, &r->h);
    WEFT_ASYNC_END(&r->co);
}

static const weft_future_vtable greedy_root_vt = {greedy_root_poll, weft_async_drop, "root"};

static void test_metrics_counts_budget_forced_yields(void **state)
{
    (void)state;
    weft_runtime *rt = new_rt(WEFT_CURRENT_THREAD, 1);
    greedy_root r;
    weft_async_init(&r.co, &greedy_root_vt);
    assert_int_equal(weft_block_on(rt, &r.co.base), 0);
    weft_runtime_metrics m;
    weft_runtime_metrics_get(rt, &m);
    /* Just under 3 budgets' worth of operations: two polls run out, the third finishes with
     * one unit to spare. */
    assert_int_equal(m.polls, 3);
    assert_int_equal(m.budget_forced_yields, 2);
    weft_runtime_shutdown(rt);
}

/* A worker that has not parked since it began shows its busy time: busy_ns is brought up to
 * date after each batch of polls, not only when the worker parks. A task spins until the
 * monotonic clock has moved 20 ms (no sleep, no luck: the bound is what the spin guarantees);
 * the root, woken by its join, reads the metrics without the worker having parked. */
#define SPIN_NS 20000000ull

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static weft_poll busy_spinner_poll(weft_future *f, weft_context *cx)
{
    (void)f;
    (void)cx;
    uint64_t start = mono_ns();
    while (mono_ns() - start < SPIN_NS) {
    }
    return WEFT_READY;
}

static const weft_future_vtable busy_spinner_vt = {busy_spinner_poll, NULL, "busy_spinner"};

typedef struct busy_root {
    weft_async co;
    weft_runtime *rt;
    weft_join_handle h;
    uint64_t busy_seen, parks_seen;
} busy_root;

static weft_poll busy_root_poll(weft_future *f, weft_context *cx)
{
    busy_root *r = (busy_root *)f;
    WEFT_ASYNC_BEGIN(&r->co);
    {
        weft_future spin = {&busy_spinner_vt};
        r->h = weft_spawn(&spin);
    }
    WEFT_AWAIT(&r->co, cx, &r->h);
    weft_runtime_metrics m;
    weft_runtime_metrics_get(r->rt, &m);
    r->busy_seen = m.busy_ns;
    r->parks_seen = m.parks;
    WEFT_ASYNC_END(&r->co);
}

static const weft_future_vtable busy_root_vt = {busy_root_poll, weft_async_drop, "busy_root"};

static void test_metrics_busy_time_is_current_without_a_park(void **state)
{
    (void)state;
    weft_runtime *rt = new_rt(WEFT_CURRENT_THREAD, 1);
    busy_root r = {.rt = rt};
    weft_async_init(&r.co, &busy_root_vt);
    assert_int_equal(weft_block_on(rt, &r.co.base), 0);
    assert_int_equal(r.parks_seen, 0);
    assert_true(r.busy_seen >= SPIN_NS);
    weft_runtime_shutdown(rt);
}

/* Tasks queued and not yet run are visible as queue depth. */
typedef struct depth_root {
    weft_async co;
    weft_runtime *rt;
    uint64_t depth_seen;
    int i;
    weft_join_handle hs[5];
} depth_root;

static weft_poll depth_root_poll(weft_future *f, weft_context *cx)
{
    depth_root *r = (depth_root *)f;
    WEFT_ASYNC_BEGIN(&r->co);
    for (r->i = 0; r->i < 5; r->i++) {
        yielder y;
        weft_async_init(&y.co, &yielder_vt);
        r->hs[r->i] = weft_spawn(&y);
    }
    {
        weft_runtime_metrics m;
        weft_runtime_metrics_get(r->rt, &m);
        r->depth_seen = m.local_queue_depth;
        assert_int_equal(m.alive_tasks, 5);
    }
    for (r->i = 0; r->i < 5; r->i++) {
        WEFT_AWAIT(&r->co, cx, &r->hs[r->i]);
    }
    WEFT_ASYNC_END(&r->co);
}

static const weft_future_vtable depth_root_vt = {depth_root_poll, weft_async_drop, "root"};

static void test_metrics_queue_depth_counts_queued_tasks(void **state)
{
    (void)state;
    weft_runtime *rt = new_rt(WEFT_CURRENT_THREAD, 1);
    depth_root r;
    memset(&r, 0, sizeof r);
    weft_async_init(&r.co, &depth_root_vt);
    r.rt = rt;
    assert_int_equal(weft_block_on(rt, &r.co.base), 0);
    assert_int_equal(r.depth_seen, 5);
    weft_runtime_shutdown(rt);
}

/* A blocking function that says it runs, then waits until the test has sampled the pool. */
static _Atomic int blocking_started, release_blocking;

static void nap_1ms(void)
{
    struct timespec ts = {0, 1000000};
    nanosleep(&ts, NULL);
}

static int wait_for_release(void *arg, intptr_t *value)
{
    (void)arg;
    (void)value;
    atomic_store(&blocking_started, 1);
    while (!atomic_load(&release_blocking))
        nap_1ms();
    return 0;
}

typedef struct blocking_root {
    weft_async co;
    weft_runtime *rt;
    weft_runtime_metrics seen;
    weft_join_handle h;
} blocking_root;

static weft_poll blocking_root_poll(weft_future *f, weft_context *cx)
{
    blocking_root *r = (blocking_root *)f;
    WEFT_ASYNC_BEGIN(&r->co);
    r->h = weft_spawn_blocking(wait_for_release, NULL);
    /* Blocking this root future's thread on purpose: the function runs on a pool thread. */
    while (!atomic_load(&blocking_started))
        nap_1ms();
    weft_runtime_metrics_get(r->rt, &r->seen);
    atomic_store(&release_blocking, 1);
    WEFT_AWAIT(&r->co, cx, &r->h);
    WEFT_ASYNC_END(&r->co);
}

static const weft_future_vtable blocking_root_vt = {blocking_root_poll, weft_async_drop, "root"};

static void test_metrics_blocking_pool_threads(void **state)
{
    (void)state;
    weft_runtime *rt = new_rt(WEFT_CURRENT_THREAD, 1);
    blocking_root r;
    memset(&r, 0, sizeof r);
    weft_async_init(&r.co, &blocking_root_vt);
    r.rt = rt;
    atomic_store(&blocking_started, 0);
    atomic_store(&release_blocking, 0);
    assert_int_equal(weft_block_on(rt, &r.co.base), 0);
    /* Sampled while the function ran: one thread, busy, nothing queued. */
    assert_int_equal(r.seen.blocking_threads, 1);
    assert_int_equal(r.seen.blocking_idle_threads, 0);
    assert_int_equal(r.seen.blocking_queue_depth, 0);
    assert_int_equal(r.seen.spawned_tasks, 1);
    weft_runtime_shutdown(rt);
}

/* A datagram from one UDP socket to another: the receiver's readiness is an I/O event. */
typedef struct udp_root {
    weft_async co;
    weft_udp_socket *a, *b;
    char buf[16];
    weft_sleep nap;
    weft_udp_recv recv;
    weft_udp_send send;
    weft_join_handle h;
} udp_root;

typedef struct udp_sender {
    weft_async co;
    weft_udp_socket *b;
    weft_sleep nap;
    weft_udp_send send;
} udp_sender;

static weft_poll udp_sender_poll(weft_future *f, weft_context *cx)
{
    udp_sender *s = (udp_sender *)f;
    WEFT_ASYNC_BEGIN(&s->co);
    /* Let the receiver register and sleep in the reactor first. */
    weft_sleep_init(&s->nap, weft_ms(5));
    WEFT_AWAIT(&s->co, cx, &s->nap);
    weft_udp_send_init(&s->send, s->b, "ping", 4);
    WEFT_AWAIT(&s->co, cx, &s->send);
    assert_int_equal(s->send.status, 0);
    WEFT_ASYNC_END(&s->co);
}

static const weft_future_vtable udp_sender_vt = {udp_sender_poll, weft_async_drop, "sender"};

static weft_poll udp_root_poll(weft_future *f, weft_context *cx)
{
    udp_root *r = (udp_root *)f;
    WEFT_ASYNC_BEGIN(&r->co);
    {
        /* Sockets need a current runtime: they are made here, inside block_on. */
        weft_sockaddr any, a_addr;
        assert_int_equal(weft_sockaddr_parse(&any, "127.0.0.1:0"), 0);
        assert_int_equal(weft_udp_bind(&r->a, &any), 0);
        assert_int_equal(weft_udp_bind(&r->b, &any), 0);
        assert_int_equal(weft_udp_local_addr(r->a, &a_addr), 0);
        assert_int_equal(weft_udp_connect(r->b, &a_addr), 0);
        udp_sender s;
        memset(&s, 0, sizeof s);
        weft_async_init(&s.co, &udp_sender_vt);
        s.b = r->b;
        r->h = weft_spawn(&s);
    }
    weft_udp_recv_init(&r->recv, r->a, r->buf, sizeof r->buf);
    WEFT_AWAIT(&r->co, cx, &r->recv);
    assert_int_equal(r->recv.status, 0);
    assert_int_equal(r->recv.n, 4);
    WEFT_AWAIT(&r->co, cx, &r->h);
    weft_udp_close(r->a);
    weft_udp_close(r->b);
    WEFT_ASYNC_END(&r->co);
}

static const weft_future_vtable udp_root_vt = {udp_root_poll, weft_async_drop, "root"};

static void test_metrics_counts_io_readiness_events(void **state)
{
    (void)state;
    weft_builder b = weft_builder_new_current_thread();
    b.enable_time = true;
    b.enable_io = true;
    weft_runtime *rt;
    assert_int_equal(weft_runtime_new(&b, &rt), 0);
    weft_runtime_metrics before, after;
    weft_runtime_metrics_get(rt, &before);
    assert_int_equal(before.io_ready_events, 0);
    udp_root r;
    memset(&r, 0, sizeof r);
    weft_async_init(&r.co, &udp_root_vt);
    assert_int_equal(weft_block_on(rt, &r.co.base), 0);
    weft_runtime_metrics_get(rt, &after);
    /* At least the receiver becoming readable after it had found nothing to read. */
    assert_true(after.io_ready_events >= 1);
    weft_runtime_shutdown(rt);
}

/* Another thread samples while the workers run: every counter only grows (and, under TSan,
 * the reads race with no write). */
typedef struct sampler {
    weft_runtime *rt;
    weft_task_monitor *mon;
    _Atomic bool stop;
    bool monotonic;
    const char *shrank; /* the first counter seen going down */
    _Atomic unsigned samples;
} sampler;

static void *sample_loop(void *arg)
{
    sampler *s = arg;
    weft_runtime_metrics prev = {0}, cur;
    weft_task_metrics tprev = {0}, tcur;
    s->monotonic = true;
    while (!atomic_load(&s->stop)) {
        weft_runtime_metrics_get(s->rt, &cur);
        weft_task_monitor_get(s->mon, &tcur);
        const char *shrank = cur.polls < prev.polls                         ? "polls"
                             : cur.spawned_tasks < prev.spawned_tasks       ? "spawned_tasks"
                             : cur.busy_ns < prev.busy_ns                   ? "busy_ns"
                             : cur.local_schedules < prev.local_schedules   ? "local_schedules"
                             : tcur.total_poll_count < tprev.total_poll_count ? "total_poll_count"
                             : tcur.instrumented_count < tprev.instrumented_count
                                 ? "instrumented_count"
                                 : NULL;
        if (shrank && s->monotonic) {
            s->monotonic = false;
            s->shrank = shrank;
        }
        for (unsigned w = 0; w < cur.workers; w++) {
            weft_worker_metrics wm;
            weft_runtime_worker_metrics_get(s->rt, w, &wm);
        }
        prev = cur;
        tprev = tcur;
        atomic_fetch_add(&s->samples, 1);
    }
    return NULL;
}

static void test_metrics_sampling_while_workers_run(void **state)
{
    (void)state;
    weft_runtime *rt = new_rt(WEFT_MULTI_THREAD, 2);
    weft_task_monitor mon;
    weft_task_monitor_init(&mon, WEFT_SLOW_POLL_NS_DEFAULT, WEFT_LONG_DELAY_NS_DEFAULT);
    sampler s = {.rt = rt, .mon = &mon};
    atomic_init(&s.stop, false);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, sample_loop, &s), 0);
    /* Samples before, during and after the work, however the threads are scheduled. */
    while (atomic_load(&s.samples) == 0)
        sched_yield();
    for (int i = 0; i < 5; i++)
        run_spawner(rt, &mon);
    unsigned taken = atomic_load(&s.samples);
    while (atomic_load(&s.samples) < taken + 2)
        sched_yield();
    atomic_store(&s.stop, true);
    pthread_join(th, NULL);
    if (!s.monotonic)
        fail_msg("%s went down between two samples", s.shrank);
    weft_task_metrics t;
    weft_task_monitor_get(&mon, &t);
    assert_int_equal(t.total_poll_count, 5 * TASKS * (YIELDS + 1));
    weft_runtime_shutdown(rt);
}

static void test_metrics_rejects_null(void **state)
{
    (void)state;
    weft_runtime_metrics m;
    weft_worker_metrics w;
    assert_int_equal(weft_runtime_metrics_get(NULL, &m), WEFT_EINVAL);
    assert_int_equal(weft_runtime_worker_metrics_get(NULL, 0, &w), WEFT_EINVAL);
    weft_runtime *rt = new_rt(WEFT_CURRENT_THREAD, 1);
    assert_int_equal(weft_runtime_metrics_get(rt, NULL), WEFT_EINVAL);
    assert_int_equal(weft_runtime_worker_metrics_get(rt, 1, &w), WEFT_EINVAL);
    weft_runtime_shutdown(rt);
}

/* ---------------------------------------------------------------- task metrics */

static void check_monitor_after_spawner(const weft_task_metrics *t)
{
    assert_int_equal(t->instrumented_count, TASKS);
    assert_int_equal(t->dropped_count, TASKS);
    assert_int_equal(t->first_poll_count, TASKS);
    assert_int_equal(t->total_poll_count, TASKS * (YIELDS + 1));
    assert_int_equal(t->total_fast_poll_count + t->total_slow_poll_count, t->total_poll_count);
    /* Each yield woke its task once, and each wake was followed by a poll. */
    assert_int_equal(t->total_idled_count, TASKS * YIELDS);
    assert_int_equal(t->total_scheduled_count, TASKS * YIELDS);
    assert_int_equal(t->total_short_delay_count + t->total_long_delay_count,
                     t->total_scheduled_count);
    assert_int_equal(t->total_fast_poll_ns + t->total_slow_poll_ns, t->total_poll_ns);
}

static void test_metrics_monitor_counts_its_tasks_current_thread(void **state)
{
    (void)state;
    weft_runtime *rt = new_rt(WEFT_CURRENT_THREAD, 1);
    weft_task_monitor mon;
    weft_task_monitor_init(&mon, WEFT_SLOW_POLL_NS_DEFAULT, WEFT_LONG_DELAY_NS_DEFAULT);
    run_spawner(rt, &mon);
    weft_task_metrics t;
    weft_task_monitor_get(&mon, &t);
    check_monitor_after_spawner(&t);
    assert_int_equal(t.slow_poll_ns, WEFT_SLOW_POLL_NS_DEFAULT);
    weft_runtime_shutdown(rt);
}

static void test_metrics_monitor_counts_its_tasks_multi_thread(void **state)
{
    (void)state;
    weft_runtime *rt = new_rt(WEFT_MULTI_THREAD, 2);
    weft_task_monitor mon;
    weft_task_monitor_init(&mon, WEFT_SLOW_POLL_NS_DEFAULT, WEFT_LONG_DELAY_NS_DEFAULT);
    run_spawner(rt, &mon);
    weft_task_metrics t;
    weft_task_monitor_get(&mon, &t);
    check_monitor_after_spawner(&t);
    weft_runtime_shutdown(rt);
}

/* One poll that spins 2 ms, then sleeps 5 ms: one slow poll, one idle period >= 5 ms. */
typedef struct spinner {
    weft_async co;
    weft_sleep nap;
} spinner;

static weft_poll spinner_poll(weft_future *f, weft_context *cx)
{
    spinner *s = (spinner *)f;
    WEFT_ASYNC_BEGIN(&s->co);
    {
        weft_instant until = weft_instant_now() + weft_ms(2);
        while (weft_instant_now() < until)
            ;
    }
    weft_sleep_init(&s->nap, weft_ms(5));
    WEFT_AWAIT(&s->co, cx, &s->nap);
    WEFT_ASYNC_END(&s->co);
}

static const weft_future_vtable spinner_vt = {spinner_poll, weft_async_drop, "spinner"};

typedef struct spin_root {
    weft_async co;
    weft_task_monitor *mon;
    weft_join_handle h;
} spin_root;

static weft_poll spin_root_poll(weft_future *f, weft_context *cx)
{
    spin_root *r = (spin_root *)f;
    WEFT_ASYNC_BEGIN(&r->co);
    spinner s;
    weft_async_init(&s.co, &spinner_vt);
    r->h = weft_task_monitor_spawn(r->mon, &s);
    WEFT_AWAIT(&r->co, cx, &r->h);
    WEFT_ASYNC_END(&r->co);
}

static const weft_future_vtable spin_root_vt = {spin_root_poll, weft_async_drop, "root"};

static void test_metrics_monitor_times_slow_polls_and_idle(void **state)
{
    (void)state;
    weft_runtime *rt = new_rt(WEFT_CURRENT_THREAD, 1);
    weft_task_monitor mon;
    weft_task_monitor_init(&mon, weft_ms(1), weft_ms(1));
    spin_root r;
    weft_async_init(&r.co, &spin_root_vt);
    r.mon = &mon;
    assert_int_equal(weft_block_on(rt, &r.co.base), 0);
    weft_task_metrics t;
    weft_task_monitor_get(&mon, &t);
    assert_int_equal(t.total_poll_count, 2);
    assert_int_equal(t.total_slow_poll_count, 1);
    assert_true(t.total_slow_poll_ns >= weft_ms(2));
    assert_int_equal(t.total_idled_count, 1);
    assert_true(t.total_idle_ns >= weft_ms(4)); /* the timer may fire a tick early */
    assert_true(weft_task_metrics_slow_poll_ratio(&t) == 0.5);
    weft_runtime_shutdown(rt);
}

/* Aborted before it ever ran: dropped, never polled. */
static void test_metrics_monitor_counts_cancelled_tasks(void **state)
{
    (void)state;
    weft_runtime *rt = new_rt(WEFT_CURRENT_THREAD, 1);
    weft_task_monitor mon;
    weft_task_monitor_init(&mon, WEFT_SLOW_POLL_NS_DEFAULT, WEFT_LONG_DELAY_NS_DEFAULT);
    sleeper s;
    weft_async_init(&s.co, &sleeper_vt);
    weft_join_handle h = weft_task_monitor_spawn_on(&mon, rt, &s);
    assert_non_null(h.task);
    weft_join_handle_abort(&h);
    assert_int_equal(weft_block_on(rt, &h.base), 0);
    assert_int_equal(h.status, WEFT_ECANCELLED);
    weft_task_metrics t;
    weft_task_monitor_get(&mon, &t);
    assert_int_equal(t.instrumented_count, 1);
    assert_int_equal(t.dropped_count, 1);
    assert_int_equal(t.first_poll_count, 0);
    weft_runtime_shutdown(rt);
}

static void test_metrics_monitor_spawn_without_runtime_fails(void **state)
{
    (void)state;
    weft_task_monitor mon;
    weft_task_monitor_init(&mon, 1, 1);
    sleeper s;
    weft_async_init(&s.co, &sleeper_vt);
    weft_join_handle h = weft_task_monitor_spawn(&mon, &s);
    assert_null(h.task);
    assert_int_equal(h.status, WEFT_ENORUNTIME);
    weft_task_metrics t;
    weft_task_monitor_get(&mon, &t);
    assert_int_equal(t.instrumented_count, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_metrics_current_thread_counts_every_poll_and_spawn),
        cmocka_unit_test(test_metrics_multi_thread_sums_workers),
        cmocka_unit_test(test_metrics_idle_worker_parks_and_is_not_busy),
        cmocka_unit_test(test_metrics_counts_budget_forced_yields),
        cmocka_unit_test(test_metrics_busy_time_is_current_without_a_park),
        cmocka_unit_test(test_metrics_queue_depth_counts_queued_tasks),
        cmocka_unit_test(test_metrics_blocking_pool_threads),
        cmocka_unit_test(test_metrics_counts_io_readiness_events),
        cmocka_unit_test(test_metrics_sampling_while_workers_run),
        cmocka_unit_test(test_metrics_rejects_null),
        cmocka_unit_test(test_metrics_monitor_counts_its_tasks_current_thread),
        cmocka_unit_test(test_metrics_monitor_counts_its_tasks_multi_thread),
        cmocka_unit_test(test_metrics_monitor_times_slow_polls_and_idle),
        cmocka_unit_test(test_metrics_monitor_counts_cancelled_tasks),
        cmocka_unit_test(test_metrics_monitor_spawn_without_runtime_fails),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
