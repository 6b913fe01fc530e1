/* tests/unit/test_multi_thread.c - the multi-thread work-stealing scheduler, end to end.
 *
 * Every test builds a runtime with weft_builder_new_multi_thread() (2 workers unless a test
 * needs another count), drives it through the public API (spawn, join handles, block_on,
 * shutdown) and ends with weft_runtime_shutdown, so that ASan/LSan see every task freed. No
 * test sleeps and hopes: threads meet through atomics and join handles, and every wait has a
 * generous real-time bound so that a broken scheduler fails the test instead of hanging it.
 */
#define _GNU_SOURCE /* pthread_getname_np */
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
#include <weft/weft.h>

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer) || __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif

#define BOUND_NS (20ull * 1000000000ull) /* every wait in this file gives up after 20 s */

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static weft_runtime *new_rt(unsigned workers)
{
    weft_builder b = weft_builder_new_multi_thread();
    b.worker_threads = workers;
    weft_runtime *rt = NULL;
    assert_int_equal(weft_runtime_new(&b, &rt), 0);
    assert_non_null(rt);
    assert_int_equal(weft_runtime_flavor(rt), WEFT_MULTI_THREAD);
    assert_int_equal(weft_runtime_workers(rt), workers);
    return rt;
}

/* Spin (politely) until *v >= want or the bound passes; true if reached. */
static bool wait_at_least(_Atomic size_t *v, size_t want)
{
    uint64_t end = now_ns() + BOUND_NS;
    while (atomic_load(v) < want) {
        if (now_ns() > end)
            return false;
        sched_yield();
    }
    return true;
}

/* ---------------------------------------------------------------- join one handle
 *
 * A root future for block_on: await a join handle it was given. */
typedef struct join_one {
    weft_async co;
    weft_join_handle *h;
} join_one;

static weft_poll join_one_poll(weft_future *f, weft_context *cx)
{
    join_one *j = (join_one *)f;
    WEFT_ASYNC_BEGIN(&j->co);
    WEFT_AWAIT(&j->co, cx, j->h);
    WEFT_ASYNC_END(&j->co);
}

static const weft_future_vtable join_one_vt = {join_one_poll, weft_async_drop, "join_one"};

/* block_on(join h): the status of the joined task; its value in *value. */
static int join_blocking(weft_runtime *rt, weft_join_handle *h, intptr_t *value)
{
    join_one j = {.h = h};
    weft_async_init(&j.co, &join_one_vt);
    assert_int_equal(weft_block_on(rt, &j.co.base), 0);
    if (value)
        *value = h->value;
    return h->status;
}

/* ---------------------------------------------------------------- a wake from a plain pthread */

typedef struct flag_fut {
    weft_future base;
} flag_fut;

static pthread_mutex_t flag_lock = PTHREAD_MUTEX_INITIALIZER;
static bool flag_set;
static weft_waker flag_waker;
static _Atomic size_t flag_registered;
static _Atomic size_t flag_polls;

static weft_poll flag_poll(weft_future *f, weft_context *cx)
{
    (void)f;
    atomic_fetch_add(&flag_polls, 1);
    pthread_mutex_lock(&flag_lock);
    bool set = flag_set;
    if (!set)
        weft_waker_register(&flag_waker, cx);
    pthread_mutex_unlock(&flag_lock);
    if (set) {
        weft_task_return(cx, 42);
        return WEFT_READY;
    }
    atomic_store(&flag_registered, 1);
    return WEFT_PENDING;
}

static void flag_drop(weft_future *f)
{
    (void)f;
    pthread_mutex_lock(&flag_lock);
    weft_waker_drop(&flag_waker);
    pthread_mutex_unlock(&flag_lock);
}

static const weft_future_vtable flag_vt = {flag_poll, flag_drop, "flag"};

static void *flag_setter(void *arg)
{
    (void)arg;
    if (!wait_at_least(&flag_registered, 1))
        return NULL;
    pthread_mutex_lock(&flag_lock);
    flag_set = true;
    weft_waker w = flag_waker;
    flag_waker = WEFT_WAKER_NONE;
    pthread_mutex_unlock(&flag_lock);
    weft_waker_wake(&w);
    return NULL;
}

static void test_multi_thread_wake_from_foreign_thread(void **state)
{
    (void)state;
    weft_runtime *rt = new_rt(2);
    flag_set = false;
    flag_waker = WEFT_WAKER_NONE;
    atomic_store(&flag_registered, 0);
    atomic_store(&flag_polls, 0);

    flag_fut f = {{&flag_vt}};
    weft_join_handle h = weft_runtime_spawn(rt, &f);
    assert_non_null(h.task);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, flag_setter, NULL), 0);
    intptr_t value = 0;
    assert_int_equal(join_blocking(rt, &h, &value), 0);
    assert_int_equal(value, 42);
    pthread_join(th, NULL);
    /* Polled once before the flag was set (it registered), and again after the wake. */
    assert_int_equal(atomic_load(&flag_registered), 1);
    assert_true(atomic_load(&flag_polls) >= 2);
    weft_runtime_shutdown(rt);
}

/* ---------------------------------------------------------------- no lost wake-up
 *
 * One task at a time from outside, the next spawned the moment the previous one completes
 * (the test thread spins on weft_join_handle_is_finished rather than sleeping in block_on, so
 * it reacts within nanoseconds): every spawn lands while the worker that ran the previous task
 * is searching for more or falling asleep, the window in which a wake-up can be lost (idle.c).
 * A lost one leaves the task queued with every worker asleep and the bounded spin fails. */
#ifdef SANITIZED
#define PING_ROUNDS 5000u
#else
#define PING_ROUNDS 100000u
#endif

typedef struct nop {
    weft_future base;
} nop;

static weft_poll nop_poll(weft_future *f, weft_context *cx)
{
    (void)f;
    weft_task_return(cx, 7);
    return WEFT_READY;
}

static const weft_future_vtable nop_vt = {nop_poll, NULL, "nop"};

static void test_multi_thread_remote_ping_loses_no_wakeup(void **state)
{
    (void)state;
    weft_runtime *rt = new_rt(2);
    for (unsigned i = 0; i < PING_ROUNDS; i++) {
        nop n = {{&nop_vt}};
        weft_join_handle h = weft_runtime_spawn(rt, &n);
        uint64_t end = now_ns() + BOUND_NS;
        while (!weft_join_handle_is_finished(&h))
            if (now_ns() > end)
                fail_msg("round %u: the task never ran", i);
        intptr_t v = 0;
        assert_int_equal(join_blocking(rt, &h, &v), 0);
        assert_int_equal(v, 7);
    }
    weft_runtime_shutdown(rt);
}

/* ---------------------------------------------------------------- spawning many tasks
 *
 * `spawner` spawns `total` counting tasks in batches, awaiting each batch's handles before the
 * next, and checks each handle's value. Run as a task it spawns from a worker (LIFO slot,
 * local queue, overflow); run as block_on's root it spawns from outside (injection queue). */
static _Atomic size_t counted;

typedef struct count_task {
    weft_future base;
    intptr_t v;
} count_task;

static weft_poll count_poll(weft_future *f, weft_context *cx)
{
    atomic_fetch_add_explicit(&counted, 1, memory_order_relaxed);
    weft_task_return(cx, ((count_task *)f)->v);
    return WEFT_READY;
}

static const weft_future_vtable count_vt = {count_poll, NULL, "count"};

#define SPAWN_BATCH 10000

typedef struct spawner {
    weft_async co;
    size_t total, done, n, i;
    size_t bad;                /* handles with a wrong status or value */
    weft_join_handle *hs;      /* SPAWN_BATCH handles */
} spawner;

static weft_poll spawner_poll(weft_future *f, weft_context *cx)
{
    spawner *s = (spawner *)f;
    WEFT_ASYNC_BEGIN(&s->co);
    for (s->done = 0; s->done < s->total; s->done += s->n) {
        s->n = s->total - s->done < SPAWN_BATCH ? s->total - s->done : SPAWN_BATCH;
        for (s->i = 0; s->i < s->n; s->i++) {
            count_task c = {{&count_vt}, (intptr_t)(s->done + s->i)};
            s->hs[s->i] = weft_spawn(&c);
        }
        for (s->i = 0; s->i < s->n; s->i++) {
            WEFT_AWAIT(&s->co, cx, &s->hs[s->i]);
            if (s->hs[s->i].status != 0 || s->hs[s->i].value != (intptr_t)(s->done + s->i))
                s->bad++;
        }
    }
    weft_task_return(cx, (intptr_t)s->bad);
    WEFT_ASYNC_END(&s->co);
}

static const weft_future_vtable spawner_vt = {spawner_poll, weft_async_drop, "spawner"};

static spawner make_spawner(size_t total)
{
    spawner s = {.total = total, .hs = calloc(SPAWN_BATCH, sizeof(weft_join_handle))};
    assert_non_null(s.hs);
    weft_async_init(&s.co, &spawner_vt);
    return s;
}

#ifdef SANITIZED
#define MANY_TASKS 100000u
#else
#define MANY_TASKS 1000000u
#endif

static void test_multi_thread_million_tasks_from_a_worker(void **state)
{
    (void)state;
    weft_runtime *rt = new_rt(2);
    atomic_store(&counted, 0);
    spawner s = make_spawner(MANY_TASKS);
    weft_join_handle *hs = s.hs;
    weft_join_handle h = weft_runtime_spawn(rt, &s); /* the copy in the task does the work */
    intptr_t bad = -1;
    assert_int_equal(join_blocking(rt, &h, &bad), 0);
    assert_int_equal(bad, 0);
    assert_int_equal(atomic_load(&counted), MANY_TASKS);
    weft_runtime_shutdown(rt);
    free(hs);
}

static void test_multi_thread_spawn_many_from_block_on(void **state)
{
    (void)state;
    weft_runtime *rt = new_rt(2);
    atomic_store(&counted, 0);
    spawner s = make_spawner(MANY_TASKS / 10);
    assert_int_equal(weft_block_on(rt, &s.co.base), 0);
    assert_int_equal(s.bad, 0);
    assert_int_equal(atomic_load(&counted), MANY_TASKS / 10);
    weft_runtime_shutdown(rt);
    free(s.hs);
}

/* ---------------------------------------------------------------- exactly once under contention
 *
 * Leaf tasks yield a few times (so they travel through local queues, get stolen, and cross
 * workers) and then count their run in their own slot. They are spawned at the same time by
 * producer tasks on the workers and by several plain pthreads, each inside its own concurrent
 * block_on. Every slot must end at exactly 1 and every join must report the leaf's index. */
#define LEAF_YIELDS 3
#ifdef SANITIZED
#define PER_PRODUCER 2000u
#else
#define PER_PRODUCER 20000u
#endif
#define WORKER_PRODUCERS 4u
#define THREAD_PRODUCERS 3u
#define NPRODUCERS (WORKER_PRODUCERS + THREAD_PRODUCERS)

static _Atomic uint32_t *leaf_runs;

typedef struct leaf {
    weft_async co;
    size_t idx;
    int k;
    weft_yield_now y;
} leaf;

static weft_poll leaf_poll(weft_future *f, weft_context *cx)
{
    leaf *l = (leaf *)f;
    WEFT_ASYNC_BEGIN(&l->co);
    for (l->k = 0; l->k < LEAF_YIELDS; l->k++) {
        weft_yield_now_init(&l->y);
        WEFT_AWAIT(&l->co, cx, &l->y);
    }
    atomic_fetch_add_explicit(&leaf_runs[l->idx], 1, memory_order_relaxed);
    weft_task_return(cx, (intptr_t)l->idx);
    WEFT_ASYNC_END(&l->co);
}

static const weft_future_vtable leaf_vt = {leaf_poll, weft_async_drop, "leaf"};

typedef struct producer {
    weft_async co;
    size_t base, i;
    size_t bad;
    weft_join_handle *hs; /* PER_PRODUCER */
} producer;

static weft_poll producer_poll(weft_future *f, weft_context *cx)
{
    producer *p = (producer *)f;
    WEFT_ASYNC_BEGIN(&p->co);
    for (p->i = 0; p->i < PER_PRODUCER; p->i++) {
        leaf l = {.idx = p->base + p->i};
        weft_async_init(&l.co, &leaf_vt);
        p->hs[p->i] = weft_spawn(&l);
    }
    for (p->i = 0; p->i < PER_PRODUCER; p->i++) {
        WEFT_AWAIT(&p->co, cx, &p->hs[p->i]);
        if (p->hs[p->i].status != 0 || p->hs[p->i].value != (intptr_t)(p->base + p->i))
            p->bad++;
    }
    weft_task_return(cx, (intptr_t)p->bad);
    WEFT_ASYNC_END(&p->co);
}

static const weft_future_vtable producer_vt = {producer_poll, weft_async_drop, "producer"};

static producer make_producer(size_t base)
{
    producer p = {.base = base, .hs = calloc(PER_PRODUCER, sizeof(weft_join_handle))};
    assert_non_null(p.hs);
    weft_async_init(&p.co, &producer_vt);
    return p;
}

typedef struct thread_producer {
    weft_runtime *rt;
    producer p;
    int rc;
} thread_producer;

static void *thread_producer_main(void *arg)
{
    thread_producer *tp = arg;
    tp->rc = weft_block_on(tp->rt, &tp->p.co.base);
    return NULL;
}

static void test_multi_thread_every_task_runs_once(void **state)
{
    (void)state;
    weft_runtime *rt = new_rt(2);
    size_t total = (size_t)NPRODUCERS * PER_PRODUCER;
    leaf_runs = calloc(total, sizeof *leaf_runs);
    assert_non_null(leaf_runs);

    weft_join_handle hs[WORKER_PRODUCERS];
    weft_join_handle *arrays[WORKER_PRODUCERS];
    for (unsigned i = 0; i < WORKER_PRODUCERS; i++) {
        producer p = make_producer((size_t)i * PER_PRODUCER);
        arrays[i] = p.hs;
        hs[i] = weft_runtime_spawn(rt, &p);
    }
    thread_producer tps[THREAD_PRODUCERS];
    pthread_t th[THREAD_PRODUCERS];
    for (unsigned i = 0; i < THREAD_PRODUCERS; i++) {
        tps[i] = (thread_producer){rt, make_producer((size_t)(WORKER_PRODUCERS + i) *
                                                     PER_PRODUCER), -1};
        assert_int_equal(pthread_create(&th[i], NULL, thread_producer_main, &tps[i]), 0);
    }
    for (unsigned i = 0; i < WORKER_PRODUCERS; i++) {
        intptr_t bad = -1;
        assert_int_equal(join_blocking(rt, &hs[i], &bad), 0);
        assert_int_equal(bad, 0);
        free(arrays[i]);
    }
    for (unsigned i = 0; i < THREAD_PRODUCERS; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(tps[i].rc, 0);
        assert_int_equal(tps[i].p.bad, 0);
        free(tps[i].p.hs);
    }
    for (size_t i = 0; i < total; i++)
        if (atomic_load(&leaf_runs[i]) != 1)
            fail_msg("leaf %zu ran %u times", i, atomic_load(&leaf_runs[i]));
    weft_runtime_shutdown(rt);
    free((void *)leaf_runs);
}

/* ---------------------------------------------------------------- the cooperative budget
 *
 * Greedy tasks, one per worker, loop on a leaf operation that is always ready but honours the
 * budget (weft_coop_proceed), until a flag is set. The flag is set by another task spawned
 * after both greedy tasks are running, and only after a 1 ms sleep: so it needs a worker to
 * take it from the injection queue and the timer to fire while every worker is busy. Without
 * the budget, or without the scheduler's periodic look at the injection queue and the timers,
 * the greedy tasks spin until their bound and report failure. */
typedef struct ready_op {
    weft_future base;
} ready_op;

static weft_poll ready_op_poll(weft_future *f, weft_context *cx)
{
    (void)f;
    return weft_coop_proceed(cx) ? WEFT_READY : WEFT_PENDING;
}

static const weft_future_vtable ready_op_vt = {ready_op_poll, NULL, "ready_op"};

static _Atomic size_t greedy_running;
static _Atomic bool greedy_stop;

typedef struct greedy {
    weft_async co;
    uint64_t deadline;
    size_t ops;
    ready_op op;
} greedy;

static weft_poll greedy_poll(weft_future *f, weft_context *cx)
{
    greedy *g = (greedy *)f;
    WEFT_ASYNC_BEGIN(&g->co);
    g->deadline = now_ns() + BOUND_NS;
    atomic_fetch_add(&greedy_running, 1);
    while (!atomic_load(&greedy_stop)) {
        if (now_ns() > g->deadline) {
            weft_task_fail(cx, WEFT_ETIMEDOUT);
            WEFT_ASYNC_RETURN(&g->co);
        }
        g->op.base.vt = &ready_op_vt;
        WEFT_AWAIT(&g->co, cx, &g->op);
        g->ops++;
    }
    weft_task_return(cx, (intptr_t)g->ops);
    WEFT_ASYNC_END(&g->co);
}

static const weft_future_vtable greedy_vt = {greedy_poll, weft_async_drop, "greedy"};

typedef struct stopper {
    weft_async co;
    weft_sleep nap;
} stopper;

static weft_poll stopper_poll(weft_future *f, weft_context *cx)
{
    stopper *s = (stopper *)f;
    WEFT_ASYNC_BEGIN(&s->co);
    weft_sleep_init(&s->nap, weft_ms(1));
    WEFT_AWAIT(&s->co, cx, &s->nap);
    atomic_store(&greedy_stop, true);
    WEFT_ASYNC_END(&s->co);
}

static const weft_future_vtable stopper_vt = {stopper_poll, weft_async_drop, "stopper"};

static void test_multi_thread_budget_lets_others_run(void **state)
{
    (void)state;
    weft_runtime *rt = new_rt(2);
    atomic_store(&greedy_running, 0);
    atomic_store(&greedy_stop, false);

    weft_join_handle g[2];
    for (int i = 0; i < 2; i++) {
        greedy gr = {0};
        weft_async_init(&gr.co, &greedy_vt);
        g[i] = weft_runtime_spawn(rt, &gr);
    }
    /* Both workers are now inside a greedy task. */
    assert_true(wait_at_least(&greedy_running, 2));
    stopper st = {0};
    weft_async_init(&st.co, &stopper_vt);
    weft_join_handle sh = weft_runtime_spawn(rt, &st);

    assert_int_equal(join_blocking(rt, &sh, NULL), 0);
    for (int i = 0; i < 2; i++) {
        intptr_t ops = 0;
        assert_int_equal(join_blocking(rt, &g[i], &ops), 0);
        /* It really spun across many budgets before it was stopped. */
        assert_true(ops > WEFT_COOP_BUDGET);
    }
    weft_runtime_shutdown(rt);
}

/* ---------------------------------------------------------------- parallelism
 *
 * Two tasks that each refuse to return until the other has started: they can only both
 * finish if two workers run them at the same time. */
static _Atomic size_t rendezvous;

typedef struct meet {
    weft_future base;
} meet;

static weft_poll meet_poll(weft_future *f, weft_context *cx)
{
    (void)f;
    atomic_fetch_add(&rendezvous, 1);
    bool met = wait_at_least(&rendezvous, 2);
    weft_task_return(cx, met ? (intptr_t)pthread_self() : 0);
    return WEFT_READY;
}

static const weft_future_vtable meet_vt = {meet_poll, NULL, "meet"};

static void test_multi_thread_runs_on_several_workers(void **state)
{
    (void)state;
    weft_runtime *rt = new_rt(2);
    atomic_store(&rendezvous, 0);
    meet m = {{&meet_vt}};
    weft_join_handle a = weft_runtime_spawn(rt, &m);
    weft_join_handle b = weft_runtime_spawn(rt, &m);
    intptr_t ta = 0, tb = 0;
    assert_int_equal(join_blocking(rt, &a, &ta), 0);
    assert_int_equal(join_blocking(rt, &b, &tb), 0);
    assert_true(ta != 0 && tb != 0);
    assert_true(ta != tb);
    assert_true(ta != (intptr_t)pthread_self());
    weft_runtime_shutdown(rt);
}

/* ---------------------------------------------------------------- thread hooks */
static _Atomic size_t hook_starts, hook_stops, hook_bad_arg;
static pthread_mutex_t names_lock = PTHREAD_MUTEX_INITIALIZER;
static char names[8][16];

static void on_start(void *arg)
{
    if (arg != &hook_starts)
        atomic_fetch_add(&hook_bad_arg, 1); /* no cmocka asserts off the test's thread */
    size_t i = atomic_fetch_add(&hook_starts, 1);
    pthread_mutex_lock(&names_lock);
    if (i < 8)
        pthread_getname_np(pthread_self(), names[i], sizeof names[i]);
    pthread_mutex_unlock(&names_lock);
}

static void on_stop(void *arg)
{
    (void)arg;
    atomic_fetch_add(&hook_stops, 1);
}

static void test_multi_thread_thread_hooks_once_per_worker(void **state)
{
    (void)state;
    atomic_store(&hook_starts, 0);
    atomic_store(&hook_stops, 0);
    atomic_store(&hook_bad_arg, 0);
    memset(names, 0, sizeof names);
    weft_builder b = weft_builder_new_multi_thread();
    b.worker_threads = 3;
    b.thread_name = "mtw";
    b.on_thread_start = on_start;
    b.on_thread_stop = on_stop;
    b.hook_arg = &hook_starts;
    weft_runtime *rt = NULL;
    assert_int_equal(weft_runtime_new(&b, &rt), 0);
    /* Give every worker something to do. */
    atomic_store(&counted, 0);
    spawner s = make_spawner(1000);
    assert_int_equal(weft_block_on(rt, &s.co.base), 0);
    free(s.hs);
    weft_runtime_shutdown(rt);

    assert_int_equal(atomic_load(&hook_starts), 3);
    assert_int_equal(atomic_load(&hook_stops), 3);
    assert_int_equal(atomic_load(&hook_bad_arg), 0);
    /* Each worker is named after the builder's thread_name and its index, once. */
    bool seen[3] = {false, false, false};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(strncmp(names[i], "mtw-", 4), 0);
        int k = names[i][4] - '0';
        assert_true(k >= 0 && k < 3 && names[i][5] == '\0');
        assert_false(seen[k]);
        seen[k] = true;
    }
}

/* ---------------------------------------------------------------- shutdown with pending tasks
 *
 * Tasks that will never complete: most wait on a future that is never woken, some yield
 * forever (so that they sit in run queues and LIFO slots when shutdown comes). Each counts
 * the drop of its future. Shutdown must drop every one and free every task (LSan checks). */
#define PENDING_TASKS 10000u
#define YIELDING_TASKS 64u

static _Atomic size_t pending_drops, pending_polls;

typedef struct never {
    weft_future base;
    bool yields;
} never;

static weft_poll never_poll(weft_future *f, weft_context *cx)
{
    atomic_fetch_add(&pending_polls, 1);
    if (((never *)f)->yields)
        weft_waker_wake_by_ref(cx->waker);
    return WEFT_PENDING;
}

static void never_drop(weft_future *f)
{
    (void)f;
    atomic_fetch_add(&pending_drops, 1);
}

static const weft_future_vtable never_vt = {never_poll, never_drop, "never"};

/* Spawns its share of never-tasks from a worker (LIFO slot, local queue, overflow). */
typedef struct never_spawner {
    weft_future base;
    unsigned n;
} never_spawner;

static weft_poll never_spawner_poll(weft_future *f, weft_context *cx)
{
    (void)cx;
    never_spawner *s = (never_spawner *)f;
    for (unsigned i = 0; i < s->n; i++) {
        never nv = {{&never_vt}, i % (PENDING_TASKS / YIELDING_TASKS) == 0};
        weft_join_handle h = weft_spawn(&nv);
        weft_join_handle_detach(&h);
    }
    return WEFT_READY;
}

static const weft_future_vtable never_spawner_vt = {never_spawner_poll, NULL, "never_spawner"};

static void test_multi_thread_shutdown_drops_pending_tasks(void **state)
{
    (void)state;
    weft_runtime *rt = new_rt(2);
    atomic_store(&pending_drops, 0);
    atomic_store(&pending_polls, 0);

    /* Half from outside (injection queue), half from a task on a worker. */
    for (unsigned i = 0; i < PENDING_TASKS / 2; i++) {
        never nv = {{&never_vt}, i % (PENDING_TASKS / YIELDING_TASKS) == 1};
        weft_join_handle h = weft_runtime_spawn(rt, &nv);
        assert_non_null(h.task);
        weft_join_handle_detach(&h);
    }
    never_spawner ns = {{&never_spawner_vt}, PENDING_TASKS / 2};
    weft_join_handle h = weft_runtime_spawn(rt, &ns);
    assert_int_equal(join_blocking(rt, &h, NULL), 0);
    /* Let the workers get going; some tasks will still be queued, others parked. */
    assert_true(wait_at_least(&pending_polls, PENDING_TASKS / 4));
    assert_true(weft_runtime_alive_tasks(rt) >= PENDING_TASKS);

    weft_runtime_shutdown(rt);
    assert_int_equal(atomic_load(&pending_drops), PENDING_TASKS);
}

/* ---------------------------------------------------------------- a worker stuck in a poll
 *
 * Shutdown cannot interrupt a poll: with a deadline it reports WEFT_ETIMEDOUT and leaves the
 * runtime allocated for the stuck worker (kept reachable here, so LSan does not count it). */
static _Atomic size_t stuck_started, stuck_done;
static _Atomic bool stuck_release;
static weft_runtime *volatile left_behind; /* volatile: a write-only static would be optimised away */

typedef struct stuck {
    weft_future base;
} stuck;

static weft_poll stuck_poll(weft_future *f, weft_context *cx)
{
    (void)f;
    (void)cx;
    atomic_store(&stuck_started, 1);
    uint64_t end = now_ns() + BOUND_NS;
    while (!atomic_load(&stuck_release) && now_ns() < end)
        sched_yield();
    atomic_store(&stuck_done, 1);
    return WEFT_READY;
}

static const weft_future_vtable stuck_vt = {stuck_poll, NULL, "stuck"};

static void test_multi_thread_shutdown_times_out_on_stuck_worker(void **state)
{
    (void)state;
    weft_runtime *rt = new_rt(2);
    atomic_store(&stuck_started, 0);
    atomic_store(&stuck_done, 0);
    atomic_store(&stuck_release, false);
    stuck st = {{&stuck_vt}};
    weft_join_handle h = weft_runtime_spawn(rt, &st);
    weft_join_handle_detach(&h);
    assert_true(wait_at_least(&stuck_started, 1));

    uint64_t t0 = now_ns();
    assert_int_equal(weft_runtime_shutdown_timeout(rt, 50), WEFT_ETIMEDOUT);
    assert_true(now_ns() - t0 < BOUND_NS / 2);
    left_behind = rt;
    atomic_store(&stuck_release, true);
    assert_true(wait_at_least(&stuck_done, 1));
}

/* ---------------------------------------------------------------- block_on refusals */
typedef struct nested {
    weft_future base;
    weft_runtime *rt;
} nested;

static weft_poll nested_poll(weft_future *f, weft_context *cx)
{
    nested *n = (nested *)f;
    weft_ready_future r;
    weft_ready_init(&r);
    weft_task_return(cx, weft_block_on(n->rt, &r.base));
    return WEFT_READY;
}

static const weft_future_vtable nested_vt = {nested_poll, NULL, "nested"};

static void test_multi_thread_block_on_from_worker_is_busy(void **state)
{
    (void)state;
    weft_runtime *rt = new_rt(2);
    nested n = {{&nested_vt}, rt};
    weft_join_handle h = weft_runtime_spawn(rt, &n);
    intptr_t rc = 0;
    assert_int_equal(join_blocking(rt, &h, &rc), 0);
    assert_int_equal(rc, WEFT_EBUSY);
    weft_runtime_shutdown(rt);
}

/* ---------------------------------------------------------------- timers on the workers
 *
 * block_on's root sleeps: the timer lives in the wheel, and only a worker (parked in the
 * driver) can fire it. */
typedef struct napper {
    weft_async co;
    weft_sleep nap;
    int i;
} napper;

static weft_poll napper_poll(weft_future *f, weft_context *cx)
{
    napper *n = (napper *)f;
    WEFT_ASYNC_BEGIN(&n->co);
    for (n->i = 0; n->i < 5; n->i++) {
        weft_sleep_init(&n->nap, weft_ms(2));
        WEFT_AWAIT(&n->co, cx, &n->nap);
        if (n->nap.status != 0)
            weft_task_fail(cx, n->nap.status);
    }
    WEFT_ASYNC_END(&n->co);
}

static const weft_future_vtable napper_vt = {napper_poll, weft_async_drop, "napper"};

static void test_multi_thread_sleep_in_block_on_and_tasks(void **state)
{
    (void)state;
    weft_runtime *rt = new_rt(2);
    napper tasks[4];
    weft_join_handle hs[4];
    for (int i = 0; i < 4; i++) {
        weft_async_init(&tasks[i].co, &napper_vt);
        hs[i] = weft_runtime_spawn(rt, &tasks[i]);
    }
    napper root;
    weft_async_init(&root.co, &napper_vt);
    uint64_t t0 = now_ns();
    assert_int_equal(weft_block_on(rt, &root.co.base), 0);
    assert_true(now_ns() - t0 >= 10u * 1000000u);
    for (int i = 0; i < 4; i++)
        assert_int_equal(join_blocking(rt, &hs[i], NULL), 0);
    weft_runtime_shutdown(rt);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_multi_thread_wake_from_foreign_thread),
        cmocka_unit_test(test_multi_thread_remote_ping_loses_no_wakeup),
        cmocka_unit_test(test_multi_thread_million_tasks_from_a_worker),
        cmocka_unit_test(test_multi_thread_spawn_many_from_block_on),
        cmocka_unit_test(test_multi_thread_every_task_runs_once),
        cmocka_unit_test(test_multi_thread_budget_lets_others_run),
        cmocka_unit_test(test_multi_thread_runs_on_several_workers),
        cmocka_unit_test(test_multi_thread_thread_hooks_once_per_worker),
        cmocka_unit_test(test_multi_thread_shutdown_drops_pending_tasks),
        cmocka_unit_test(test_multi_thread_shutdown_times_out_on_stuck_worker),
        cmocka_unit_test(test_multi_thread_block_on_from_worker_is_busy),
        cmocka_unit_test(test_multi_thread_sleep_in_block_on_and_tasks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
