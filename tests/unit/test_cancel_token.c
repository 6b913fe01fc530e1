/* tests/unit/test_cancel_token.c - CancellationToken: the latch, the tree (parents cancel
 * children, never the reverse), handles and their reference counts, cancelled() futures, and
 * cancellation from other threads.
 *
 * By-hand cases poll cancelled() futures with a counting waker outside any runtime. The
 * runtime cases (also in the tsan suite) wake tasks from a plain thread and hammer one tree
 * from several threads; ASan/LSan check that every token, tree and waker clone is freed.
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

/* ---------------------------------------------------------------- the latch */

static void test_cancel_token_cancel_is_seen_by_every_handle(void **state)
{
    (void)state;
    weft_cancel_token *t = NULL;
    assert_int_equal(weft_cancel_token_new(&t, "job"), 0);
    weft_cancel_token *c = weft_cancel_token_clone(t);
    assert_ptr_equal(c, t);
    assert_false(weft_cancel_token_is_cancelled(t));
    weft_cancel_token_cancel(c); /* through the clone */
    assert_true(weft_cancel_token_is_cancelled(t));
    weft_cancel_token_cancel(t); /* again: nothing changes */
    assert_true(weft_cancel_token_is_cancelled(c));
    weft_cancel_token_drop(c);
    assert_true(weft_cancel_token_is_cancelled(t)); /* t is still a live handle */
    weft_cancel_token_drop(t);
}

static void test_cancel_token_cancelled_is_ready_at_once_when_already_cancelled(void **state)
{
    (void)state;
    weft_cancel_token *t = NULL;
    assert_int_equal(weft_cancel_token_new(&t, "done"), 0);
    weft_cancel_token_cancel(t);
    probe p = {0};
    weft_cancelled f;
    weft_cancel_token_cancelled_init(&f, t);
    assert_int_equal(poll_with(&f.base, &p), WEFT_READY);
    assert_int_equal(f.status, 0);
    assert_int_equal(atomic_load(&p.clones), 0); /* it never registered */
    weft_cancel_token_drop(t);
}

static void test_cancel_token_cancel_wakes_waiting_futures(void **state)
{
    (void)state;
    weft_cancel_token *t = NULL;
    assert_int_equal(weft_cancel_token_new(&t, "wake"), 0);
    probe p[3] = {{0}};
    weft_cancelled f[3];
    for (int i = 0; i < 3; i++) {
        weft_cancel_token_cancelled_init(&f[i], t);
        assert_int_equal(poll_with(&f[i].base, &p[i]), WEFT_PENDING);
        assert_int_equal(poll_with(&f[i].base, &p[i]), WEFT_PENDING); /* re-poll: same waker */
    }
    weft_cancel_token_cancel(t);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(atomic_load(&p[i].wakes), 1);
        assert_int_equal(poll_with(&f[i].base, &p[i]), WEFT_READY);
        assert_int_equal(atomic_load(&p[i].clones), 0);
    }
    weft_cancel_token_drop(t);
}

/* More waiters than one batch of wakes (cancel drops the lock between batches): a waiter it
 * has not reached yet may be polled or dropped meanwhile. Polled, it is READY; dropped and
 * freed, cancel never touches it again. The waiters sit on a child, reached through the
 * tree walk. */
#define MANY 40

static void check_cancel_window(bool drop_and_free)
{
    weft_cancel_token *root, *child;
    assert_int_equal(weft_cancel_token_new(&root, "many"), 0);
    assert_int_equal(weft_cancel_token_child_token(root, &child), 0);
    probe p[MANY];
    hook h = {0};
    weft_cancelled *w[MANY];
    for (int i = 0; i < MANY; i++) {
        p[i] = (probe){0};
        w[i] = malloc(sizeof *w[i]);
        weft_cancel_token_cancelled_init(w[i], i % 2 ? child : root);
    }
    h.target = &w[MANY - 1]->base; /* on the child, queued after the root's: second batch */
    h.target_probe = &p[MANY - 1];
    h.drop_and_free = drop_and_free;
    assert_int_equal(poll_with_hook(&w[0]->base, &h), WEFT_PENDING);
    for (int i = 1; i < MANY; i++)
        assert_int_equal(poll_with(&w[i]->base, &p[i]), WEFT_PENDING);
    weft_cancel_token_drop(child); /* the waiters on it hold it now */
    weft_cancel_token_cancel(root);
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
    weft_cancel_token_drop(root);
}

static void test_cancel_token_waiter_polled_while_cancel_is_in_progress(void **state)
{
    (void)state;
    check_cancel_window(false);
}

static void test_cancel_token_waiter_dropped_while_cancel_is_in_progress(void **state)
{
    (void)state;
    check_cancel_window(true);
}

/* A dropped cancelled() leaves the waiters: the cancel does not wake it (or touch it). */
static void test_cancel_token_dropped_cancelled_future_is_forgotten(void **state)
{
    (void)state;
    weft_cancel_token *t = NULL;
    assert_int_equal(weft_cancel_token_new(&t, "drop"), 0);
    probe p = {0};
    weft_cancelled *f = malloc(sizeof *f); /* freed before the cancel: ASan sees any touch */
    weft_cancel_token_cancelled_init(f, t);
    assert_int_equal(poll_with(&f->base, &p), WEFT_PENDING);
    weft_future_drop(&f->base);
    free(f);
    assert_int_equal(atomic_load(&p.clones), 0);
    weft_cancel_token_cancel(t);
    assert_int_equal(atomic_load(&p.wakes), 0);
    weft_cancel_token_drop(t);
}

/* ---------------------------------------------------------------- the tree */

static void test_cancel_token_parent_cancels_children_never_the_reverse(void **state)
{
    (void)state;
    weft_cancel_token *root, *a, *b, *a1;
    assert_int_equal(weft_cancel_token_new(&root, "root"), 0);
    assert_int_equal(weft_cancel_token_child_token(root, &a), 0);
    assert_int_equal(weft_cancel_token_child_token(root, &b), 0);
    assert_int_equal(weft_cancel_token_child_token(a, &a1), 0);

    /* A child's cancel reaches its own descendants only. */
    weft_cancel_token_cancel(a);
    assert_true(weft_cancel_token_is_cancelled(a));
    assert_true(weft_cancel_token_is_cancelled(a1));
    assert_false(weft_cancel_token_is_cancelled(root));
    assert_false(weft_cancel_token_is_cancelled(b));

    /* The parent's reaches everything below it. */
    weft_cancel_token_cancel(root);
    assert_true(weft_cancel_token_is_cancelled(root));
    assert_true(weft_cancel_token_is_cancelled(b));

    weft_cancel_token_drop(a1);
    weft_cancel_token_drop(root); /* parents may go before their children */
    weft_cancel_token_drop(a);
    weft_cancel_token_drop(b);
}

static void test_cancel_token_child_of_cancelled_parent_starts_cancelled(void **state)
{
    (void)state;
    weft_cancel_token *root, *c, *cc;
    assert_int_equal(weft_cancel_token_new(&root, "root"), 0);
    weft_cancel_token_cancel(root);
    assert_int_equal(weft_cancel_token_child_token(root, &c), 0);
    assert_true(weft_cancel_token_is_cancelled(c));
    assert_int_equal(weft_cancel_token_child_token(c, &cc), 0);
    assert_true(weft_cancel_token_is_cancelled(cc));
    weft_cancel_token_drop(cc);
    weft_cancel_token_drop(c);
    weft_cancel_token_drop(root);
}

/* Dropping a middle token does not cut its descendants off from the ancestors, and a
 * waiting cancelled() keeps its token alive after the caller dropped its handle. */
static void test_cancel_token_dropping_a_middle_token_keeps_descendants_reachable(void **state)
{
    (void)state;
    weft_cancel_token *root, *mid, *leaf;
    assert_int_equal(weft_cancel_token_new(&root, "root"), 0);
    assert_int_equal(weft_cancel_token_child_token(root, &mid), 0);
    assert_int_equal(weft_cancel_token_child_token(mid, &leaf), 0);

    probe p = {0};
    weft_cancelled f;
    weft_cancel_token_cancelled_init(&f, leaf);
    assert_int_equal(poll_with(&f.base, &p), WEFT_PENDING);
    weft_cancel_token_drop(leaf); /* the future holds its own handle now */
    weft_cancel_token_drop(mid);  /* leaf moves up to root */

    weft_cancel_token_cancel(root);
    assert_int_equal(atomic_load(&p.wakes), 1);
    assert_int_equal(poll_with(&f.base, &p), WEFT_READY); /* frees leaf (last handle) */
    assert_int_equal(atomic_load(&p.clones), 0);
    weft_cancel_token_drop(root);
}

static void test_cancel_token_null_arguments_are_harmless(void **state)
{
    (void)state;
    weft_cancel_token *t = (weft_cancel_token *)&t; /* garbage that must be overwritten */
    assert_int_equal(weft_cancel_token_new(NULL, "x"), WEFT_EINVAL);
    assert_int_equal(weft_cancel_token_child_token(NULL, &t), WEFT_EINVAL);
    assert_null(t);
    assert_null(weft_cancel_token_clone(NULL));
    assert_false(weft_cancel_token_is_cancelled(NULL));
    weft_cancel_token_cancel(NULL);
    weft_cancel_token_drop(NULL);
    probe p = {0};
    weft_cancelled f;
    weft_cancel_token_cancelled_init(&f, NULL);
    assert_int_equal(poll_with(&f.base, &p), WEFT_READY);
    assert_int_equal(f.status, WEFT_EINVAL);
}

/* ---------------------------------------------------------------- across threads */

static weft_runtime *new_rt(weft_flavor flavor)
{
    weft_builder b = flavor == WEFT_CURRENT_THREAD ? weft_builder_new_current_thread()
                                                   : weft_builder_new_multi_thread();
    b.worker_threads = 2;
    weft_runtime *rt = NULL;
    assert_int_equal(weft_runtime_new(&b, &rt), 0);
    return rt;
}

/* Wraps a cancelled() future and counts, once, that it is registered (its first poll
 * returned PENDING): the signal the cancelling thread waits for. */
typedef struct counted_wait {
    weft_future base;
    weft_cancelled inner;
    _Atomic int *registered;
    bool counted;
} counted_wait;

static weft_poll counted_wait_poll(weft_future *f, weft_context *cx)
{
    counted_wait *w = (counted_wait *)f;
    if (weft_future_poll(&w->inner.base, cx) == WEFT_READY)
        return WEFT_READY;
    if (!w->counted) {
        w->counted = true;
        atomic_fetch_add(w->registered, 1);
    }
    return WEFT_PENDING;
}

static void counted_wait_drop(weft_future *f)
{
    weft_future_drop(&((counted_wait *)f)->inner.base);
}

static const weft_future_vtable counted_wait_vt = {counted_wait_poll, counted_wait_drop,
                                                   "counted_wait"};

#define WAITERS 8

typedef struct canceller_arg {
    weft_cancel_token *root;
    _Atomic int *registered;
} canceller_arg;

/* Waits (spinning, no sleep) until every task is registered, then cancels from outside any
 * runtime thread. */
static void *canceller_main(void *arg)
{
    canceller_arg *a = arg;
    while (atomic_load(a->registered) < WAITERS)
        sched_yield();
    weft_cancel_token_cancel(a->root);
    return NULL;
}

static void check_cancelled_wakes_on_cancel_from_another_thread(weft_flavor flavor)
{
    weft_runtime *rt = new_rt(flavor);
    for (int round = 0; round < 20; round++) {
        weft_cancel_token *root, *child[WAITERS];
        _Atomic int registered = 0;
        assert_int_equal(weft_cancel_token_new(&root, "shutdown"), 0);
        weft_join_handle h[WAITERS];
        for (int i = 0; i < WAITERS; i++) {
            assert_int_equal(weft_cancel_token_child_token(root, &child[i]), 0);
            counted_wait w = {.base = {&counted_wait_vt}, .registered = &registered};
            weft_cancel_token_cancelled_init(&w.inner, child[i]);
            h[i] = weft_runtime_spawn(rt, &w);
        }
        canceller_arg a = {root, &registered};
        pthread_t th;
        assert_int_equal(pthread_create(&th, NULL, canceller_main, &a), 0);
        for (int i = 0; i < WAITERS; i++) {
            assert_int_equal(weft_block_on(rt, &h[i].base), 0);
            assert_int_equal(h[i].status, 0);
        }
        pthread_join(th, NULL);
        /* The futures borrowed their tokens until their first poll: drop only now. */
        for (int i = 0; i < WAITERS; i++)
            weft_cancel_token_drop(child[i]);
        weft_cancel_token_drop(root);
    }
    weft_runtime_shutdown(rt);
}

static void test_cancel_token_cancelled_wakes_on_cancel_from_another_thread_ct(void **state)
{
    (void)state;
    check_cancelled_wakes_on_cancel_from_another_thread(WEFT_CURRENT_THREAD);
}

static void test_cancel_token_cancelled_wakes_on_cancel_from_another_thread_mt(void **state)
{
    (void)state;
    check_cancelled_wakes_on_cancel_from_another_thread(WEFT_MULTI_THREAD);
}

/* Several threads grow, wait on and prune one tree while another cancels its root. Whatever
 * the interleaving: a future that completed did so because its token was cancelled, every
 * future still pending when the root was cancelled is woken, and everything is freed. */
#define STRESS_THREADS 3
#define STRESS_ITERS 400

typedef struct stress_arg {
    weft_cancel_token *root;
    _Atomic bool *go;
    _Atomic bool *cancel_returned; /* the root's cancel() has returned: all wakes are done */
    _Atomic int *progress;         /* iterations done by all threads (when to cancel) */
    int wrong_ready; /* READY while the token was not cancelled */
    int not_woken;   /* pending when the root was cancelled, yet never woken */
} stress_arg;

static void *stress_main(void *arg)
{
    stress_arg *a = arg;
    weft_cancel_token *kept[STRESS_ITERS];
    weft_cancelled *fut[STRESS_ITERS];
    probe *pr = calloc(STRESS_ITERS, sizeof *pr);
    bool pending[STRESS_ITERS];
    int nkept = 0;
    while (!atomic_load(a->go))
        sched_yield();
    for (int i = 0; i < STRESS_ITERS; i++) {
        weft_cancel_token *parent = nkept && (i & 1) ? kept[nkept - 1] : a->root;
        weft_cancel_token *c;
        if (weft_cancel_token_child_token(parent, &c) != 0)
            continue;
        weft_cancel_token *extra = weft_cancel_token_clone(c);
        weft_cancel_token_drop(extra);
        fut[nkept] = malloc(sizeof *fut[nkept]);
        weft_cancel_token_cancelled_init(fut[nkept], c);
        pending[nkept] = poll_with(&fut[nkept]->base, &pr[nkept]) == WEFT_PENDING;
        if (!pending[nkept] && !weft_cancel_token_is_cancelled(c))
            a->wrong_ready++;
        kept[nkept++] = c;
        /* Now and then drop a middle token and its future (which holds a handle too), so
         * that it is freed and its children move up to its parent. */
        if (i % 7 == 3 && nkept > 2) {
            weft_future_drop(&fut[nkept - 2]->base);
            free(fut[nkept - 2]);
            fut[nkept - 2] = NULL;
            weft_cancel_token_drop(kept[nkept - 2]);
            kept[nkept - 2] = NULL;
        }
        atomic_fetch_add(a->progress, 1);
    }
    /* Once the root's cancel() has returned, every future that was waiting has been woken
     * and is READY. */
    while (!atomic_load(a->cancel_returned))
        sched_yield();
    for (int i = 0; i < nkept; i++) {
        if (!fut[i])
            continue;
        if (pending[i] && atomic_load(&pr[i].wakes) == 0)
            a->not_woken++;
        if (poll_with(&fut[i]->base, &pr[i]) != WEFT_READY)
            a->not_woken++;
        weft_future_drop(&fut[i]->base);
        free(fut[i]);
    }
    for (int i = 0; i < nkept; i++)
        if (kept[i])
            weft_cancel_token_drop(kept[i]);
    for (int i = 0; i < nkept; i++)
        if (atomic_load(&pr[i].clones) != 0)
            a->not_woken++;
    free(pr);
    return NULL;
}

static void test_cancel_token_concurrent_tree_changes_and_cancel(void **state)
{
    (void)state;
    for (int round = 0; round < 10; round++) {
        weft_cancel_token *root;
        assert_int_equal(weft_cancel_token_new(&root, "stress"), 0);
        _Atomic bool go = false, cancel_returned = false;
        _Atomic int progress = 0;
        stress_arg a[STRESS_THREADS];
        pthread_t th[STRESS_THREADS];
        for (int i = 0; i < STRESS_THREADS; i++) {
            a[i] = (stress_arg){.root = root, .go = &go, .cancel_returned = &cancel_returned,
                                .progress = &progress};
            assert_int_equal(pthread_create(&th[i], NULL, stress_main, &a[i]), 0);
        }
        atomic_store(&go, true);
        /* Cancel at a different point of the threads' work each round (a progress count,
         * not a delay): from early on, when most tokens are made from a cancelled root, to
         * late, when most are waiting and must be woken. */
        int target = (round + 1) * STRESS_THREADS * STRESS_ITERS / 11;
        while (atomic_load(&progress) < target)
            sched_yield();
        weft_cancel_token_cancel(root);
        atomic_store(&cancel_returned, true);
        for (int i = 0; i < STRESS_THREADS; i++) {
            pthread_join(th[i], NULL);
            assert_int_equal(a[i].wrong_ready, 0);
            assert_int_equal(a[i].not_woken, 0);
        }
        weft_cancel_token_drop(root);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cancel_token_cancel_is_seen_by_every_handle),
        cmocka_unit_test(test_cancel_token_cancelled_is_ready_at_once_when_already_cancelled),
        cmocka_unit_test(test_cancel_token_cancel_wakes_waiting_futures),
        cmocka_unit_test(test_cancel_token_waiter_polled_while_cancel_is_in_progress),
        cmocka_unit_test(test_cancel_token_waiter_dropped_while_cancel_is_in_progress),
        cmocka_unit_test(test_cancel_token_dropped_cancelled_future_is_forgotten),
        cmocka_unit_test(test_cancel_token_parent_cancels_children_never_the_reverse),
        cmocka_unit_test(test_cancel_token_child_of_cancelled_parent_starts_cancelled),
        cmocka_unit_test(test_cancel_token_dropping_a_middle_token_keeps_descendants_reachable),
        cmocka_unit_test(test_cancel_token_null_arguments_are_harmless),
        cmocka_unit_test(test_cancel_token_cancelled_wakes_on_cancel_from_another_thread_ct),
        cmocka_unit_test(test_cancel_token_cancelled_wakes_on_cancel_from_another_thread_mt),
        cmocka_unit_test(test_cancel_token_concurrent_tree_changes_and_cancel),
    };
    return cmocka_run_group_tests(tests, 0, NULL);
}
