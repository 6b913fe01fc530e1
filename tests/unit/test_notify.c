/* tests/unit/test_notify.c - Notify: the stored permit, notify_one's FIFO, notify_waiters'
 * registration rule, enable, and what a dropped notified() does with its notification.
 *
 * The first cases poll notified futures by hand with a counting waker, outside any runtime:
 * that pins down exactly which future is woken by which call, with no scheduling in between.
 * The last cases run real tasks on both runtime flavours (the multi-thread ones are also in
 * the tsan suite) and end with weft_runtime_shutdown, so ASan/LSan check nothing leaked.
 */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>
#include <weft/weft.h>

/* ---------------------------------------------------------------- a counting waker
 *
 * Each probe is one "task": its waker counts wakes and live clones, so a test can ask "was
 * this one woken?" and, at the end, "did the primitive give back every clone it took?". */
typedef struct probe {
    _Atomic int wakes;
    _Atomic int clones; /* clones alive: must be 0 once nothing waits */
} probe;

static const weft_waker_vtable probe_vt;

static weft_waker probe_clone(const void *d)
{
    atomic_fetch_add(&((probe *)d)->clones, 1);
    return (weft_waker){&probe_vt, d};
}

static void probe_wake(const void *d)
{
    atomic_fetch_add(&((probe *)d)->wakes, 1);
    atomic_fetch_sub(&((probe *)d)->clones, 1);
}

static void probe_wake_by_ref(const void *d)
{
    atomic_fetch_add(&((probe *)d)->wakes, 1);
}

static void probe_drop(const void *d)
{
    atomic_fetch_sub(&((probe *)d)->clones, 1);
}

static const weft_waker_vtable probe_vt = {probe_clone, probe_wake, probe_wake_by_ref,
                                           probe_drop};

static weft_poll poll_with(weft_future *f, probe *p)
{
    weft_waker w = {&probe_vt, p};
    weft_context cx = {&w, NULL};
    return weft_future_poll(f, &cx);
}

/* ---------------------------------------------------------------- a re-entrant waker
 *
 * Its wake (by value) polls, or drops and frees, another waiting future: run from inside the
 * releasing call, this puts that future's poll or drop exactly in the window where the
 * releaser has dropped its lock between two batches of wakes and has not reached it yet. */
typedef struct hook {
    _Atomic int wakes;
    _Atomic int clones;
    weft_future *target; /* polled (or dropped and freed) at the first wake */
    probe *target_probe;
    bool drop_and_free;
    weft_poll result;
} hook;

static const weft_waker_vtable hook_vt;

static weft_waker hook_clone(const void *d)
{
    atomic_fetch_add(&((hook *)d)->clones, 1);
    return (weft_waker){&hook_vt, d};
}

static void hook_fire(hook *h)
{
    weft_future *t = h->target;
    h->target = NULL;
    if (!t)
        return;
    if (h->drop_and_free) {
        weft_future_drop(t);
        free(t);
    } else {
        h->result = poll_with(t, h->target_probe);
    }
}

static void hook_wake(const void *d)
{
    hook *h = (hook *)d;
    atomic_fetch_add(&h->wakes, 1);
    atomic_fetch_sub(&h->clones, 1);
    hook_fire(h);
}

static void hook_wake_by_ref(const void *d)
{
    hook *h = (hook *)d;
    atomic_fetch_add(&h->wakes, 1);
    hook_fire(h);
}

static void hook_drop(const void *d)
{
    atomic_fetch_sub(&((hook *)d)->clones, 1);
}

static const weft_waker_vtable hook_vt = {hook_clone, hook_wake, hook_wake_by_ref, hook_drop};

static weft_poll poll_with_hook(weft_future *f, hook *h)
{
    weft_waker w = {&hook_vt, h};
    weft_context cx = {&w, NULL};
    return weft_future_poll(f, &cx);
}

/* ---------------------------------------------------------------- the permit */

static void test_notify_stored_permit_consumed_by_next_notified(void **state)
{
    (void)state;
    weft_notify n;
    weft_notify_init(&n, "permit");
    probe pa = {0}, pb = {0};
    weft_notified a, b;

    weft_notify_notify_one(&n); /* nobody waits: stored */
    weft_notify_notified_init(&a, &n);
    assert_int_equal(poll_with(&a.base, &pa), WEFT_READY);
    assert_int_equal(a.status, 0);

    /* The permit was consumed: the next one waits. */
    weft_notify_notified_init(&b, &n);
    assert_int_equal(poll_with(&b.base, &pb), WEFT_PENDING);
    weft_future_drop(&b.base);
    assert_int_equal(atomic_load(&pb.clones), 0);
    assert_int_equal(weft_notify_destroy(&n), 0);
}

static void test_notify_only_one_permit_is_stored(void **state)
{
    (void)state;
    weft_notify n;
    weft_notify_init(&n, "one_permit");
    probe p = {0};
    weft_notified a, b;

    weft_notify_notify_one(&n);
    weft_notify_notify_one(&n);
    weft_notify_notify_one(&n);
    weft_notify_notified_init(&a, &n);
    weft_notify_notified_init(&b, &n);
    assert_int_equal(poll_with(&a.base, &p), WEFT_READY);
    assert_int_equal(poll_with(&b.base, &p), WEFT_PENDING);
    weft_future_drop(&b.base);
    assert_int_equal(atomic_load(&p.clones), 0);
    assert_int_equal(weft_notify_destroy(&n), 0);
}

static void test_notify_waiters_does_not_store_a_permit(void **state)
{
    (void)state;
    weft_notify n;
    weft_notify_init(&n, "no_store");
    probe p = {0};
    weft_notified a;

    weft_notify_notify_waiters(&n); /* nobody waits, nothing is kept */
    weft_notify_notified_init(&a, &n);
    assert_int_equal(poll_with(&a.base, &p), WEFT_PENDING);
    weft_future_drop(&a.base);
    assert_int_equal(atomic_load(&p.clones), 0);
    assert_int_equal(weft_notify_destroy(&n), 0);
}

/* notify_waiters reaches every waiter and every future created before it (polled or not),
 * and nothing created after it. */
static void test_notify_waiters_reaches_futures_created_before_it(void **state)
{
    (void)state;
    weft_notify n;
    weft_notify_init(&n, "waiters");
    probe p[3] = {{0}}, pd = {0}, pe = {0};
    weft_notified w[3], d, e;

    for (int i = 0; i < 3; i++) {
        weft_notify_notified_init(&w[i], &n);
        assert_int_equal(poll_with(&w[i].base, &p[i]), WEFT_PENDING);
    }
    weft_notify_notified_init(&d, &n); /* created, never polled */
    weft_notify_notify_waiters(&n);
    weft_notify_notified_init(&e, &n); /* created after the call */

    for (int i = 0; i < 3; i++) {
        assert_int_equal(atomic_load(&p[i].wakes), 1);
        assert_int_equal(poll_with(&w[i].base, &p[i]), WEFT_READY);
        assert_int_equal(atomic_load(&p[i].clones), 0);
    }
    assert_int_equal(poll_with(&d.base, &pd), WEFT_READY);
    assert_int_equal(poll_with(&e.base, &pe), WEFT_PENDING);
    weft_future_drop(&e.base);
    assert_int_equal(atomic_load(&pe.clones), 0);
    assert_int_equal(weft_notify_destroy(&n), 0);
}

/* More waiters than one batch of wakes (notify_waiters drops its lock between batches): a
 * waiter it has not reached yet may be polled or dropped meanwhile. Polled, it is READY (the
 * call is already made); dropped and freed, notify_waiters never touches it again. */
#define MANY 40

static void check_waiters_window(bool drop_and_free)
{
    weft_notify n;
    weft_notify_init(&n, "many");
    probe p[MANY];
    hook h = {0};
    weft_notified *w[MANY];
    for (int i = 0; i < MANY; i++) {
        p[i] = (probe){0};
        w[i] = malloc(sizeof *w[i]);
        weft_notify_notified_init(w[i], &n);
    }
    h.target = &w[MANY - 1]->base; /* the last queued: in the second batch */
    h.target_probe = &p[MANY - 1];
    h.drop_and_free = drop_and_free;
    assert_int_equal(poll_with_hook(&w[0]->base, &h), WEFT_PENDING);
    for (int i = 1; i < MANY; i++)
        assert_int_equal(poll_with(&w[i]->base, &p[i]), WEFT_PENDING);
    weft_notify_notify_waiters(&n);
    assert_null(h.target); /* the hook ran */
    if (drop_and_free) {
        w[MANY - 1] = NULL;
    } else {
        assert_int_equal(h.result, WEFT_READY);
        assert_int_equal(atomic_load(&p[MANY - 1].wakes), 0);
    }
    for (int i = 0; i < MANY; i++) {
        if (!w[i])
            continue;
        assert_int_equal(poll_with(&w[i]->base, &p[i]), WEFT_READY);
        assert_int_equal(atomic_load(&p[i].clones), 0);
        free(w[i]);
    }
    assert_int_equal(atomic_load(&h.clones), 0);
    assert_int_equal(weft_notify_destroy(&n), 0);
}

static void test_notify_waiter_polled_while_notify_waiters_is_in_progress(void **state)
{
    (void)state;
    check_waiters_window(false);
}

static void test_notify_waiter_dropped_while_notify_waiters_is_in_progress(void **state)
{
    (void)state;
    check_waiters_window(true);
}

/* ---------------------------------------------------------------- notify_one order */

static void test_notify_one_wakes_waiters_in_fifo_order(void **state)
{
    (void)state;
    weft_notify n;
    weft_notify_init(&n, "fifo");
    probe p[3] = {{0}};
    weft_notified w[3];

    for (int i = 0; i < 3; i++) {
        weft_notify_notified_init(&w[i], &n);
        assert_int_equal(poll_with(&w[i].base, &p[i]), WEFT_PENDING);
    }
    for (int round = 0; round < 3; round++) {
        weft_notify_notify_one(&n);
        for (int i = 0; i < 3; i++)
            assert_int_equal(atomic_load(&p[i].wakes), i <= round ? 1 : 0);
        assert_int_equal(poll_with(&w[round].base, &p[round]), WEFT_READY);
        for (int i = round + 1; i < 3; i++)
            assert_int_equal(poll_with(&w[i].base, &p[i]), WEFT_PENDING);
    }
    for (int i = 0; i < 3; i++)
        assert_int_equal(atomic_load(&p[i].clones), 0);
    assert_int_equal(weft_notify_destroy(&n), 0);
}

static void test_notify_last_wakes_the_newest_waiter(void **state)
{
    (void)state;
    weft_notify n;
    weft_notify_init(&n, "lifo");
    probe p[3] = {{0}};
    weft_notified w[3];

    for (int i = 0; i < 3; i++) {
        weft_notify_notified_init(&w[i], &n);
        assert_int_equal(poll_with(&w[i].base, &p[i]), WEFT_PENDING);
    }
    weft_notify_notify_last(&n);
    assert_int_equal(atomic_load(&p[2].wakes), 1);
    assert_int_equal(atomic_load(&p[0].wakes) + atomic_load(&p[1].wakes), 0);
    assert_int_equal(poll_with(&w[2].base, &p[2]), WEFT_READY);
    weft_future_drop(&w[0].base);
    weft_future_drop(&w[1].base);
    for (int i = 0; i < 3; i++)
        assert_int_equal(atomic_load(&p[i].clones), 0);
    assert_int_equal(weft_notify_destroy(&n), 0);
}

/* enable() registers a future for notify_one before its first poll, at its place in line. */
static void test_notify_enable_registers_before_first_poll(void **state)
{
    (void)state;
    weft_notify n;
    weft_notify_init(&n, "enable");
    probe pa = {0}, pb = {0};
    weft_notified a, b, c;

    weft_notify_notified_init(&a, &n);
    weft_notify_notified_init(&b, &n);
    assert_false(weft_notified_enable(&b));     /* b is first in line */
    assert_int_equal(poll_with(&a.base, &pa), WEFT_PENDING); /* a second */
    weft_notify_notify_one(&n);
    assert_int_equal(poll_with(&b.base, &pb), WEFT_READY);
    assert_int_equal(poll_with(&a.base, &pa), WEFT_PENDING);
    assert_int_equal(atomic_load(&pa.wakes), 0);

    /* enable takes a stored permit, and says so. */
    weft_future_drop(&a.base);
    weft_notify_notify_one(&n);
    weft_notify_notified_init(&c, &n);
    assert_true(weft_notified_enable(&c));
    assert_int_equal(poll_with(&c.base, &pa), WEFT_READY);
    assert_int_equal(atomic_load(&pa.clones) + atomic_load(&pb.clones), 0);
    assert_int_equal(weft_notify_destroy(&n), 0);
}

/* ---------------------------------------------------------------- cancellation */

/* A waiter chosen by notify_one and dropped before it saw it passes it on to the next. */
static void test_notify_dropped_waiter_passes_notification_on(void **state)
{
    (void)state;
    weft_notify n;
    weft_notify_init(&n, "forward");
    probe pa = {0}, pb = {0}, pc = {0}, pd = {0};
    weft_notified a, b, c, d;

    weft_notify_notified_init(&a, &n);
    weft_notify_notified_init(&b, &n);
    assert_int_equal(poll_with(&a.base, &pa), WEFT_PENDING);
    assert_int_equal(poll_with(&b.base, &pb), WEFT_PENDING);
    weft_notify_notify_one(&n);
    assert_int_equal(atomic_load(&pa.wakes), 1);
    weft_future_drop(&a.base); /* woken, never observed it */
    assert_int_equal(atomic_load(&pb.wakes), 1);
    assert_int_equal(poll_with(&b.base, &pb), WEFT_READY);

    /* With nobody left to take it, it becomes the stored permit. */
    weft_notify_notified_init(&c, &n);
    assert_int_equal(poll_with(&c.base, &pc), WEFT_PENDING);
    weft_notify_notify_one(&n);
    weft_future_drop(&c.base);
    weft_notify_notified_init(&d, &n);
    assert_int_equal(poll_with(&d.base, &pd), WEFT_READY);

    assert_int_equal(atomic_load(&pa.clones) + atomic_load(&pb.clones) +
                         atomic_load(&pc.clones) + atomic_load(&pd.clones),
                     0);
    assert_int_equal(weft_notify_destroy(&n), 0);
}

/* A waiter dropped before anything reached it just leaves the line. */
static void test_notify_dropped_waiter_leaves_the_queue(void **state)
{
    (void)state;
    weft_notify n;
    weft_notify_init(&n, "leave");
    probe pa = {0}, pb = {0};
    weft_notified a, b;

    weft_notify_notified_init(&a, &n);
    weft_notify_notified_init(&b, &n);
    assert_int_equal(poll_with(&a.base, &pa), WEFT_PENDING);
    assert_int_equal(poll_with(&b.base, &pb), WEFT_PENDING);
    assert_int_equal(weft_notify_destroy(&n), WEFT_EBUSY); /* still registered */
    weft_future_drop(&a.base);
    weft_notify_notify_one(&n);
    assert_int_equal(atomic_load(&pa.wakes), 0);
    assert_int_equal(atomic_load(&pb.wakes), 1);
    assert_int_equal(poll_with(&b.base, &pb), WEFT_READY);
    /* No permit was stored by that notify_one: it went to b. */
    weft_notify_notified_init(&a, &n);
    assert_int_equal(poll_with(&a.base, &pa), WEFT_PENDING);
    weft_future_drop(&a.base);
    assert_int_equal(atomic_load(&pa.clones) + atomic_load(&pb.clones), 0);
    assert_int_equal(weft_notify_destroy(&n), 0);
}

static void test_notify_null_arguments_are_harmless(void **state)
{
    (void)state;
    probe p = {0};
    weft_notified f;
    weft_notify_notify_one(NULL);
    weft_notify_notify_last(NULL);
    weft_notify_notify_waiters(NULL);
    assert_int_equal(weft_notify_destroy(NULL), WEFT_EINVAL);
    weft_notify_notified_init(&f, NULL);
    assert_int_equal(poll_with(&f.base, &p), WEFT_READY);
    assert_int_equal(f.status, WEFT_EINVAL);
    assert_false(weft_notified_enable(NULL));
    weft_future_drop(&f.base);
}

/* ---------------------------------------------------------------- on a runtime */

static weft_runtime *new_rt(weft_flavor flavor)
{
    weft_builder b = flavor == WEFT_CURRENT_THREAD ? weft_builder_new_current_thread()
                                                   : weft_builder_new_multi_thread();
    b.worker_threads = 2;
    weft_runtime *rt = NULL;
    assert_int_equal(weft_runtime_new(&b, &rt), 0);
    return rt;
}

#define ROUNDS 2000

/* Two tasks hand a turn back and forth: each notify_one is either stored or wakes the other,
 * and each side must see exactly ROUNDS turns. */
typedef struct pinger {
    weft_async co;
    weft_notify *mine, *theirs;
    bool serves; /* notify first, then wait */
    int i;
    int turns;
    weft_notified wait;
} pinger;

static weft_poll pinger_poll(weft_future *f, weft_context *cx)
{
    pinger *p = (pinger *)f;
    WEFT_ASYNC_BEGIN(&p->co);
    for (p->i = 0; p->i < ROUNDS; p->i++) {
        if (p->serves)
            weft_notify_notify_one(p->theirs);
        weft_notify_notified_init(&p->wait, p->mine);
        WEFT_AWAIT(&p->co, cx, &p->wait);
        p->turns++;
        if (!p->serves)
            weft_notify_notify_one(p->theirs);
    }
    weft_task_return(cx, p->turns);
    WEFT_ASYNC_END(&p->co);
}

static const weft_future_vtable pinger_vt = {pinger_poll, weft_async_drop, "pinger"};

typedef struct ping_pong {
    weft_async co;
    weft_notify ping, pong;
    weft_join_handle h[2];
    int i;
    intptr_t turns[2];
} ping_pong;

static weft_poll ping_pong_poll(weft_future *f, weft_context *cx)
{
    ping_pong *s = (ping_pong *)f;
    WEFT_ASYNC_BEGIN(&s->co);
    {
        pinger a = {.mine = &s->pong, .theirs = &s->ping, .serves = true};
        pinger b = {.mine = &s->ping, .theirs = &s->pong, .serves = false};
        weft_async_init(&a.co, &pinger_vt);
        weft_async_init(&b.co, &pinger_vt);
        s->h[0] = weft_spawn(&a);
        s->h[1] = weft_spawn(&b);
    }
    for (s->i = 0; s->i < 2; s->i++) {
        WEFT_AWAIT(&s->co, cx, &s->h[s->i]);
        assert_int_equal(s->h[s->i].status, 0);
        s->turns[s->i] = s->h[s->i].value;
    }
    WEFT_ASYNC_END(&s->co);
}

static const weft_future_vtable ping_pong_vt = {ping_pong_poll, weft_async_drop, "ping_pong"};

static void check_ping_pong(weft_flavor flavor)
{
    weft_runtime *rt = new_rt(flavor);
    ping_pong *s = calloc(1, sizeof *s);
    weft_async_init(&s->co, &ping_pong_vt);
    weft_notify_init(&s->ping, "ping");
    weft_notify_init(&s->pong, "pong");
    assert_int_equal(weft_block_on(rt, &s->co.base), 0);
    assert_int_equal(s->turns[0], ROUNDS);
    assert_int_equal(s->turns[1], ROUNDS);
    weft_runtime_shutdown(rt);
    assert_int_equal(weft_notify_destroy(&s->ping), 0);
    assert_int_equal(weft_notify_destroy(&s->pong), 0);
    free(s);
}

static void test_notify_ping_pong_ct(void **state)
{
    (void)state;
    check_ping_pong(WEFT_CURRENT_THREAD);
}

static void test_notify_ping_pong_mt(void **state)
{
    (void)state;
    check_ping_pong(WEFT_MULTI_THREAD);
}

/* notify_waiters releases every task that registered before it, on any worker. Each task
 * enables its future and then says so; the root waits (yielding, no sleeps) until all have,
 * then calls notify_waiters once. */
#define WAITER_TASKS 16

typedef struct waiter_task {
    weft_async co;
    weft_notify *n;
    _Atomic int *registered;
    _Atomic int *early; /* enable() said "already notified" before any notify: a bug */
    weft_notified wait;
} waiter_task;

static weft_poll waiter_task_poll(weft_future *f, weft_context *cx)
{
    waiter_task *w = (waiter_task *)f;
    WEFT_ASYNC_BEGIN(&w->co);
    weft_notify_notified_init(&w->wait, w->n);
    if (weft_notified_enable(&w->wait))
        atomic_fetch_add(w->early, 1);
    atomic_fetch_add(w->registered, 1);
    WEFT_AWAIT(&w->co, cx, &w->wait);
    WEFT_ASYNC_END(&w->co);
}

static const weft_future_vtable waiter_task_vt = {waiter_task_poll, weft_async_drop, "waiter"};

typedef struct waiters_case {
    weft_async co;
    weft_notify n;
    _Atomic int registered;
    _Atomic int early;
    weft_join_handle h[WAITER_TASKS];
    weft_yield_now y;
    int i;
} waiters_case;

static weft_poll waiters_case_poll(weft_future *f, weft_context *cx)
{
    waiters_case *s = (waiters_case *)f;
    WEFT_ASYNC_BEGIN(&s->co);
    for (s->i = 0; s->i < WAITER_TASKS; s->i++) {
        waiter_task w = {.n = &s->n, .registered = &s->registered, .early = &s->early};
        weft_async_init(&w.co, &waiter_task_vt);
        s->h[s->i] = weft_spawn(&w);
    }
    while (atomic_load(&s->registered) < WAITER_TASKS) {
        weft_yield_now_init(&s->y);
        WEFT_AWAIT(&s->co, cx, &s->y);
    }
    weft_notify_notify_waiters(&s->n);
    for (s->i = 0; s->i < WAITER_TASKS; s->i++) {
        WEFT_AWAIT(&s->co, cx, &s->h[s->i]);
        assert_int_equal(s->h[s->i].status, 0);
    }
    WEFT_ASYNC_END(&s->co);
}

static const weft_future_vtable waiters_case_vt = {waiters_case_poll, weft_async_drop,
                                                   "waiters_case"};

static void check_notify_waiters_releases_all(weft_flavor flavor)
{
    weft_runtime *rt = new_rt(flavor);
    waiters_case *s = calloc(1, sizeof *s);
    weft_async_init(&s->co, &waiters_case_vt);
    weft_notify_init(&s->n, "gate");
    assert_int_equal(weft_block_on(rt, &s->co.base), 0);
    assert_int_equal(atomic_load(&s->early), 0);
    weft_runtime_shutdown(rt);
    assert_int_equal(weft_notify_destroy(&s->n), 0);
    free(s);
}

static void test_notify_waiters_releases_every_task_ct(void **state)
{
    (void)state;
    check_notify_waiters_releases_all(WEFT_CURRENT_THREAD);
}

static void test_notify_waiters_releases_every_task_mt(void **state)
{
    (void)state;
    check_notify_waiters_releases_all(WEFT_MULTI_THREAD);
}

/* A plain thread (not a runtime thread) notifies a task: whether the notify lands before the
 * task registers (stored permit) or after (wake), the task completes. Repeated to cover both
 * orders. */
static void *notify_thread(void *arg)
{
    weft_notify_notify_one(arg);
    return NULL;
}

typedef struct wait_once {
    weft_async co;
    weft_notify *n;
    weft_notified wait;
} wait_once;

static weft_poll wait_once_poll(weft_future *f, weft_context *cx)
{
    wait_once *w = (wait_once *)f;
    WEFT_ASYNC_BEGIN(&w->co);
    weft_notify_notified_init(&w->wait, w->n);
    WEFT_AWAIT(&w->co, cx, &w->wait);
    WEFT_ASYNC_END(&w->co);
}

static const weft_future_vtable wait_once_vt = {wait_once_poll, weft_async_drop, "wait_once"};

static void test_notify_from_a_plain_thread_wakes_a_task_mt(void **state)
{
    (void)state;
    weft_runtime *rt = new_rt(WEFT_MULTI_THREAD);
    for (int round = 0; round < 200; round++) {
        weft_notify n;
        weft_notify_init(&n, "cross_thread");
        wait_once w = {.n = &n};
        weft_async_init(&w.co, &wait_once_vt);
        weft_join_handle h = weft_runtime_spawn(rt, &w);
        pthread_t th;
        assert_int_equal(pthread_create(&th, NULL, notify_thread, &n), 0);
        assert_int_equal(weft_block_on(rt, &h.base), 0);
        assert_int_equal(h.status, 0);
        pthread_join(th, NULL);
        assert_int_equal(weft_notify_destroy(&n), 0);
    }
    weft_runtime_shutdown(rt);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_notify_stored_permit_consumed_by_next_notified),
        cmocka_unit_test(test_notify_only_one_permit_is_stored),
        cmocka_unit_test(test_notify_waiters_does_not_store_a_permit),
        cmocka_unit_test(test_notify_waiters_reaches_futures_created_before_it),
        cmocka_unit_test(test_notify_waiter_polled_while_notify_waiters_is_in_progress),
        cmocka_unit_test(test_notify_waiter_dropped_while_notify_waiters_is_in_progress),
        cmocka_unit_test(test_notify_one_wakes_waiters_in_fifo_order),
        cmocka_unit_test(test_notify_last_wakes_the_newest_waiter),
        cmocka_unit_test(test_notify_enable_registers_before_first_poll),
        cmocka_unit_test(test_notify_dropped_waiter_passes_notification_on),
        cmocka_unit_test(test_notify_dropped_waiter_leaves_the_queue),
        cmocka_unit_test(test_notify_null_arguments_are_harmless),
        cmocka_unit_test(test_notify_ping_pong_ct),
        cmocka_unit_test(test_notify_ping_pong_mt),
        cmocka_unit_test(test_notify_waiters_releases_every_task_ct),
        cmocka_unit_test(test_notify_waiters_releases_every_task_mt),
        cmocka_unit_test(test_notify_from_a_plain_thread_wakes_a_task_mt),
    };
    return cmocka_run_group_tests(tests, 0, NULL);
}
