/* tests/unit/test_barrier.c - Barrier: release on the n-th arrival, one leader per generation,
 * reuse across generations, and what a dropped wait() counts for.
 *
 * The first cases poll wait() futures by hand with a counting waker, outside any runtime; the
 * last ones run 10 tasks through 5 generations on both runtime flavours (the multi-thread one
 * is in the tsan suite too) and shut the runtime down, so ASan/LSan check for leaks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>
#include <weft/weft.h>

/* ---------------------------------------------------------------- a counting waker */
typedef struct probe {
    _Atomic int wakes;
    _Atomic int clones;
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

/* ---------------------------------------------------------------- by hand */

static void test_barrier_releases_all_on_the_nth_arrival(void **state)
{
    (void)state;
    weft_barrier b;
    weft_barrier_init(&b, 3, "three");
    probe p[3] = {{0}};
    weft_barrier_wait w[3];

    for (int gen = 0; gen < 2; gen++) {
        for (int i = 0; i < 3; i++) {
            atomic_store(&p[i].wakes, 0);
            weft_barrier_wait_init(&w[i], &b);
        }
        assert_int_equal(poll_with(&w[0].base, &p[0]), WEFT_PENDING);
        assert_int_equal(poll_with(&w[1].base, &p[1]), WEFT_PENDING);
        assert_int_equal(poll_with(&w[0].base, &p[0]), WEFT_PENDING); /* re-poll: no arrival */
        assert_int_equal(atomic_load(&p[0].wakes) + atomic_load(&p[1].wakes), 0);

        /* The third arrival completes at once, as the leader, and wakes the other two. */
        assert_int_equal(poll_with(&w[2].base, &p[2]), WEFT_READY);
        assert_true(w[2].is_leader);
        assert_int_equal(atomic_load(&p[0].wakes), 1);
        assert_int_equal(atomic_load(&p[1].wakes), 1);
        for (int i = 0; i < 2; i++) {
            assert_int_equal(poll_with(&w[i].base, &p[i]), WEFT_READY);
            assert_false(w[i].is_leader);
            assert_int_equal(w[i].status, 0);
        }
    }
    for (int i = 0; i < 3; i++)
        assert_int_equal(atomic_load(&p[i].clones), 0);
    assert_int_equal(weft_barrier_destroy(&b), 0);
}

static void test_barrier_of_zero_or_one_party_always_leads(void **state)
{
    (void)state;
    for (size_t n = 0; n <= 1; n++) {
        weft_barrier b;
        weft_barrier_init(&b, n, "solo");
        probe p = {0};
        for (int i = 0; i < 3; i++) {
            weft_barrier_wait w;
            weft_barrier_wait_init(&w, &b);
            assert_int_equal(poll_with(&w.base, &p), WEFT_READY);
            assert_true(w.is_leader);
        }
        assert_int_equal(atomic_load(&p.clones), 0);
        assert_int_equal(weft_barrier_destroy(&b), 0);
    }
}

/* As in Tokio: an arrival is counted at the first poll and dropping the wait() afterwards
 * does not take it back. A wait() dropped before its first poll never arrived. */
static void test_barrier_dropped_wait_still_counts_as_arrived(void **state)
{
    (void)state;
    weft_barrier b;
    weft_barrier_init(&b, 3, "drop");
    probe p[4] = {{0}};
    weft_barrier_wait a, never, c, d;

    weft_barrier_wait_init(&a, &b);
    assert_int_equal(poll_with(&a.base, &p[0]), WEFT_PENDING);
    assert_int_equal(weft_barrier_destroy(&b), WEFT_EBUSY);
    weft_future_drop(&a.base); /* arrived, then gave up */
    assert_int_equal(atomic_load(&p[0].clones), 0);

    weft_barrier_wait_init(&never, &b);
    weft_future_drop(&never.base); /* never polled: no arrival */

    weft_barrier_wait_init(&c, &b);
    assert_int_equal(poll_with(&c.base, &p[2]), WEFT_PENDING);
    weft_barrier_wait_init(&d, &b);
    assert_int_equal(poll_with(&d.base, &p[3]), WEFT_READY); /* a + c + d */
    assert_true(d.is_leader);
    assert_int_equal(atomic_load(&p[0].wakes), 0); /* the dropped one is not woken */
    assert_int_equal(poll_with(&c.base, &p[2]), WEFT_READY);
    assert_false(c.is_leader);
    assert_int_equal(atomic_load(&p[2].clones) + atomic_load(&p[3].clones), 0);
    assert_int_equal(weft_barrier_destroy(&b), 0);
}

/* More waiters than one batch of wakes (the leader drops its lock between batches): a waiter
 * the leader has not reached yet may be polled or dropped meanwhile. Polled, it is released
 * (it sees the new generation); dropped and freed, the leader never touches it again. */
#define MANY 40

static void check_release_window(bool drop_and_free)
{
    weft_barrier b;
    weft_barrier_init(&b, MANY, "many");
    probe p[MANY];
    hook h = {0};
    weft_barrier_wait *w[MANY];
    for (int i = 0; i < MANY; i++) {
        p[i] = (probe){0};
        w[i] = malloc(sizeof *w[i]);
        weft_barrier_wait_init(w[i], &b);
    }
    /* w[0] is woken first; its waker reaches for w[MANY-2], which is in the second batch. */
    h.target = &w[MANY - 2]->base;
    h.target_probe = &p[MANY - 2];
    h.drop_and_free = drop_and_free;
    assert_int_equal(poll_with_hook(&w[0]->base, &h), WEFT_PENDING);
    for (int i = 1; i < MANY - 1; i++)
        assert_int_equal(poll_with(&w[i]->base, &p[i]), WEFT_PENDING);
    assert_int_equal(poll_with(&w[MANY - 1]->base, &p[MANY - 1]), WEFT_READY);
    assert_true(w[MANY - 1]->is_leader);
    assert_null(h.target); /* the hook ran */
    if (drop_and_free) {
        w[MANY - 2] = NULL; /* freed by the hook */
    } else {
        assert_int_equal(h.result, WEFT_READY);
        assert_false(w[MANY - 2]->is_leader);
        assert_int_equal(atomic_load(&p[MANY - 2].wakes), 0); /* nobody woke it after */
    }
    for (int i = 0; i < MANY; i++) {
        if (!w[i])
            continue;
        assert_int_equal(poll_with(&w[i]->base, &p[i]), WEFT_READY);
        assert_int_equal(atomic_load(&p[i].clones), 0);
        free(w[i]);
    }
    assert_int_equal(atomic_load(&h.clones), 0);
    assert_int_equal(weft_barrier_destroy(&b), 0);
}

static void test_barrier_waiter_polled_while_release_is_in_progress(void **state)
{
    (void)state;
    check_release_window(false);
}

static void test_barrier_waiter_dropped_while_release_is_in_progress(void **state)
{
    (void)state;
    check_release_window(true);
}

static void test_barrier_null_arguments_are_harmless(void **state)
{
    (void)state;
    probe p = {0};
    weft_barrier_wait w;
    assert_int_equal(weft_barrier_destroy(NULL), WEFT_EINVAL);
    weft_barrier_init(NULL, 3, "x");
    weft_barrier_wait_init(&w, NULL);
    assert_int_equal(poll_with(&w.base, &p), WEFT_READY);
    assert_int_equal(w.status, WEFT_EINVAL);
    assert_false(w.is_leader);
    weft_future_drop(&w.base);
}

/* ---------------------------------------------------------------- on a runtime */

#define PARTIES 10
#define GENERATIONS 5

typedef struct shared {
    weft_barrier barrier;
    _Atomic int leaders[GENERATIONS]; /* leaders seen per generation */
    _Atomic int passed[GENERATIONS];  /* tasks through each generation */
    _Atomic int early;                /* a task passed generation g before all arrived at g */
    _Atomic int arrived[GENERATIONS];
} shared;

typedef struct party {
    weft_async co;
    shared *sh;
    int gen;
    weft_barrier_wait wait;
    weft_yield_now y;
} party;

static weft_poll party_poll(weft_future *f, weft_context *cx)
{
    party *p = (party *)f;
    WEFT_ASYNC_BEGIN(&p->co);
    for (p->gen = 0; p->gen < GENERATIONS; p->gen++) {
        /* Some work between meetings, so arrival orders differ from generation to
         * generation. */
        if (weft_rand_below(2)) {
            weft_yield_now_init(&p->y);
            WEFT_AWAIT(&p->co, cx, &p->y);
        }
        atomic_fetch_add(&p->sh->arrived[p->gen], 1);
        weft_barrier_wait_init(&p->wait, &p->sh->barrier);
        WEFT_AWAIT(&p->co, cx, &p->wait);
        /* Nobody leaves a generation before every party has arrived at it. */
        if (atomic_load(&p->sh->arrived[p->gen]) != PARTIES)
            atomic_fetch_add(&p->sh->early, 1);
        if (p->wait.is_leader)
            atomic_fetch_add(&p->sh->leaders[p->gen], 1);
        atomic_fetch_add(&p->sh->passed[p->gen], 1);
    }
    WEFT_ASYNC_END(&p->co);
}

static const weft_future_vtable party_vt = {party_poll, weft_async_drop, "party"};

typedef struct meeting {
    weft_async co;
    shared *sh;
    weft_join_handle h[PARTIES];
    int i;
} meeting;

static weft_poll meeting_poll(weft_future *f, weft_context *cx)
{
    meeting *m = (meeting *)f;
    WEFT_ASYNC_BEGIN(&m->co);
    for (m->i = 0; m->i < PARTIES; m->i++) {
        party p = {.sh = m->sh};
        weft_async_init(&p.co, &party_vt);
        m->h[m->i] = weft_spawn(&p);
    }
    for (m->i = 0; m->i < PARTIES; m->i++)
        WEFT_AWAIT(&m->co, cx, &m->h[m->i]);
    WEFT_ASYNC_END(&m->co);
}

static const weft_future_vtable meeting_vt = {meeting_poll, weft_async_drop, "meeting"};

static void check_one_leader_per_generation(weft_flavor flavor)
{
    weft_builder bld = flavor == WEFT_CURRENT_THREAD ? weft_builder_new_current_thread()
                                                     : weft_builder_new_multi_thread();
    bld.worker_threads = 2;
    weft_runtime *rt = NULL;
    assert_int_equal(weft_runtime_new(&bld, &rt), 0);

    for (int round = 0; round < 20; round++) {
        shared *sh = calloc(1, sizeof *sh);
        weft_barrier_init(&sh->barrier, PARTIES, "meeting");
        meeting m = {.sh = sh};
        weft_async_init(&m.co, &meeting_vt);
        assert_int_equal(weft_block_on(rt, &m.co.base), 0);
        for (int g = 0; g < GENERATIONS; g++) {
            assert_int_equal(atomic_load(&sh->leaders[g]), 1);
            assert_int_equal(atomic_load(&sh->passed[g]), PARTIES);
        }
        assert_int_equal(atomic_load(&sh->early), 0);
        for (int i = 0; i < PARTIES; i++)
            assert_int_equal(m.h[i].status, 0);
        assert_int_equal(weft_barrier_destroy(&sh->barrier), 0);
        free(sh);
    }
    weft_runtime_shutdown(rt);
}

static void test_barrier_one_leader_per_generation_ct(void **state)
{
    (void)state;
    check_one_leader_per_generation(WEFT_CURRENT_THREAD);
}

static void test_barrier_one_leader_per_generation_mt(void **state)
{
    (void)state;
    check_one_leader_per_generation(WEFT_MULTI_THREAD);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_barrier_releases_all_on_the_nth_arrival),
        cmocka_unit_test(test_barrier_of_zero_or_one_party_always_leads),
        cmocka_unit_test(test_barrier_dropped_wait_still_counts_as_arrived),
        cmocka_unit_test(test_barrier_waiter_polled_while_release_is_in_progress),
        cmocka_unit_test(test_barrier_waiter_dropped_while_release_is_in_progress),
        cmocka_unit_test(test_barrier_null_arguments_are_harmless),
        cmocka_unit_test(test_barrier_one_leader_per_generation_ct),
        cmocka_unit_test(test_barrier_one_leader_per_generation_mt),
    };
    return cmocka_run_group_tests(tests, 0, NULL);
}
