/* tests/unit/test_watch.c - watch channels: borrow, borrow_and_update and the "seen" version,
 * changed() (which must not fire again for a version already seen), the closing rules of both
 * sides, send_modify / send_if_modified, on both runtime flavours, and a multi-thread stress
 * (suite 'tsan' too) in which every watcher must end up seeing the final value.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <weft/watch.h>
#include <weft/weft.h>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SANITIZED 1
#else
#define SANITIZED 0
#endif

static void run_on(weft_flavor flavor, weft_future *root)
{
    weft_builder b = flavor == WEFT_CURRENT_THREAD ? weft_builder_new_current_thread()
                                                   : weft_builder_new_multi_thread();
    b.worker_threads = 2;
    weft_runtime *rt = NULL;
    assert_int_equal(weft_runtime_new(&b, &rt), 0);
    assert_int_equal(weft_block_on(rt, root), 0);
    weft_runtime_shutdown(rt);
}

/* ---------------------------------------------------------------- a counting waker
 *
 * Each waiter gets its own, so the test can check that every waiter was woken exactly once
 * and that every clone the channel took was given back (woken or dropped): no waker leaks. */
typedef struct counting_waker {
    int clones, wakes, drops;
} counting_waker;

static const weft_waker_vtable counting_vt;

static weft_waker cw_clone(const void *d)
{
    ((counting_waker *)d)->clones++;
    return (weft_waker){&counting_vt, d};
}

static void cw_wake(const void *d)
{
    ((counting_waker *)d)->wakes++;
}

static void cw_wake_by_ref(const void *d)
{
    ((counting_waker *)d)->wakes++;
    ((counting_waker *)d)->clones++; /* by reference: the handle stays, count it as kept */
}

static void cw_drop(const void *d)
{
    ((counting_waker *)d)->drops++;
}

static const weft_waker_vtable counting_vt = {cw_clone, cw_wake, cw_wake_by_ref, cw_drop};

/* Poll `f` as the task that `cw` wakes. */
static weft_poll poll_with(weft_future *f, counting_waker *cw)
{
    weft_waker w = {&counting_vt, cw};
    weft_context cx = {&w, NULL};
    return weft_future_poll(f, &cx);
}

static void assert_woken_once_nothing_leaked(const counting_waker *cw)
{
    assert_int_equal(cw->wakes, 1);
    assert_int_equal(cw->clones, cw->wakes + cw->drops);
}

/* ---------------------------------------------------------------- seen versions, by hand */

typedef struct seen_case {
    weft_async co;
    weft_watch_sender tx;
    weft_watch_receiver rx;
    weft_watch_changed changed;
    int out;
} seen_case;

static weft_poll seen_case_poll(weft_future *f, weft_context *cx)
{
    seen_case *t = (seen_case *)f;
    WEFT_ASYNC_BEGIN(&t->co);
    {
        int initial = 10;
        assert_int_equal(weft_watch_channel(&t->tx, &t->rx, sizeof(int), &initial, "seen"), 0);
    }
    /* The initial value counts as seen. */
    assert_int_equal(weft_watch_borrow(&t->rx, &t->out), 0);
    assert_int_equal(t->out, 10);
    assert_int_equal(weft_watch_has_changed(&t->rx), 0);
    weft_watch_changed_init(&t->changed, &t->rx);
    assert_int_equal(weft_future_poll(&t->changed.base, cx), WEFT_PENDING);
    weft_future_drop(&t->changed.base); /* a dropped changed() marks nothing */

    {
        int v = 11;
        assert_int_equal(weft_watch_send(&t->tx, &v), 0);
    }
    /* borrow does not mark it seen ... */
    assert_int_equal(weft_watch_borrow(&t->rx, &t->out), 1);
    assert_int_equal(t->out, 11);
    assert_int_equal(weft_watch_has_changed(&t->rx), 1);
    /* ... borrow_and_update does, and then changed() does not fire for the same version. */
    assert_int_equal(weft_watch_borrow_and_update(&t->rx, &t->out), 1);
    assert_int_equal(t->out, 11);
    assert_int_equal(weft_watch_borrow_and_update(&t->rx, &t->out), 0);
    weft_watch_changed_init(&t->changed, &t->rx);
    assert_int_equal(weft_future_poll(&t->changed.base, cx), WEFT_PENDING);
    assert_int_equal(weft_future_poll(&t->changed.base, cx), WEFT_PENDING);

    /* Several sends before the watcher looks: one change, showing the latest value. */
    for (int v = 12; v <= 14; v++)
        assert_int_equal(weft_watch_send(&t->tx, &v), 0);
    WEFT_AWAIT(&t->co, cx, &t->changed);
    assert_int_equal(t->changed.status, 0);
    assert_int_equal(weft_watch_borrow(&t->rx, &t->out), 0); /* changed() marked it seen */
    assert_int_equal(t->out, 14);
    weft_watch_changed_init(&t->changed, &t->rx);
    assert_int_equal(weft_future_poll(&t->changed.base, cx), WEFT_PENDING);

    /* mark_changed / mark_unchanged. */
    weft_watch_mark_changed(&t->rx);
    assert_int_equal(weft_watch_has_changed(&t->rx), 1);
    WEFT_AWAIT(&t->co, cx, &t->changed);
    assert_int_equal(t->changed.status, 0);
    {
        int v = 15;
        weft_watch_send(&t->tx, &v);
    }
    weft_watch_mark_unchanged(&t->rx);
    assert_int_equal(weft_watch_has_changed(&t->rx), 0);

    weft_watch_sender_drop(&t->tx);
    weft_watch_receiver_drop(&t->rx);
    WEFT_ASYNC_END(&t->co);
}

static const weft_future_vtable seen_case_vt = {seen_case_poll, weft_async_drop, "seen"};

static void test_watch_changed_does_not_fire_for_a_seen_version(void **state)
{
    (void)state;
    seen_case t = {0};
    weft_async_init(&t.co, &seen_case_vt);
    run_on(WEFT_CURRENT_THREAD, &t.co.base);
}

/* More waiters than one wake batch: a send wakes every changed(), the sender's drop a second
 * round, and the last receiver's drop every closed() of the sender, each exactly once. */
#define MANY 100

static void test_watch_wakes_every_waiter(void **state)
{
    (void)state;
    weft_watch_sender tx;
    weft_watch_receiver *rx = calloc(MANY, sizeof *rx);
    weft_watch_changed *f = calloc(MANY, sizeof *f);
    weft_watch_closed *cl = calloc(MANY, sizeof *cl);
    counting_waker *w = calloc(MANY, sizeof *w), *wc = calloc(MANY, sizeof *wc);
    assert_true(rx && f && cl && w && wc);
    assert_int_equal(weft_watch_channel(&tx, &rx[0], sizeof(int), NULL, "many"), 0);
    for (int i = 1; i < MANY; i++)
        assert_int_equal(weft_watch_subscribe(&tx, &rx[i]), 0);
    for (int i = 0; i < MANY; i++) {
        weft_watch_changed_init(&f[i], &rx[i]);
        assert_int_equal(poll_with(&f[i].base, &w[i]), WEFT_PENDING);
        weft_watch_closed_init(&cl[i], &tx);
        assert_int_equal(poll_with(&cl[i].base, &wc[i]), WEFT_PENDING);
    }
    int v = 1;
    assert_int_equal(weft_watch_send(&tx, &v), 0);
    for (int i = 0; i < MANY; i++) {
        assert_woken_once_nothing_leaked(&w[i]);
        assert_int_equal(poll_with(&f[i].base, &w[i]), WEFT_READY);
        assert_int_equal(f[i].status, 0);
        assert_int_equal(wc[i].wakes, 0); /* closed() still waits */
    }
    /* Receivers go one by one; only the last one completes the closed() futures. */
    for (int i = 0; i < MANY; i++) {
        assert_int_equal(wc[i].wakes, 0);
        weft_watch_receiver_drop(&rx[i]);
    }
    for (int i = 0; i < MANY; i++) {
        assert_woken_once_nothing_leaked(&wc[i]);
        assert_int_equal(poll_with(&cl[i].base, &wc[i]), WEFT_READY);
        assert_int_equal(cl[i].status, 0);
    }
    assert_true(weft_watch_sender_is_closed(&tx));
    weft_watch_sender_drop(&tx);

    /* The sender's drop wakes every waiting changed() with CLOSED. */
    memset(w, 0, MANY * sizeof *w);
    assert_int_equal(weft_watch_channel(&tx, &rx[0], sizeof(int), NULL, "many"), 0);
    for (int i = 1; i < MANY; i++)
        assert_int_equal(weft_watch_subscribe(&tx, &rx[i]), 0);
    for (int i = 0; i < MANY; i++) {
        weft_watch_changed_init(&f[i], &rx[i]);
        assert_int_equal(poll_with(&f[i].base, &w[i]), WEFT_PENDING);
    }
    weft_watch_sender_drop(&tx);
    for (int i = 0; i < MANY; i++) {
        assert_woken_once_nothing_leaked(&w[i]);
        assert_int_equal(poll_with(&f[i].base, &w[i]), WEFT_READY);
        assert_int_equal(f[i].status, WEFT_ECLOSED);
        weft_watch_receiver_drop(&rx[i]);
    }
    free(rx);
    free(f);
    free(cl);
    free(w);
    free(wc);
}

/* ---------------------------------------------------------------- synchronous rules */

static void test_watch_send_fails_without_receivers(void **state)
{
    (void)state;
    weft_watch_sender tx;
    weft_watch_receiver rx, late;
    assert_int_equal(weft_watch_channel(&tx, &rx, sizeof(int), NULL, NULL), 0);
    int out = -1, v = 1, old = -1;
    assert_int_equal(weft_watch_sender_borrow(&tx, &out), 0);
    assert_int_equal(out, 0); /* NULL initial: zeroed */
    assert_int_equal(weft_watch_receiver_count(&tx), 1);
    assert_false(weft_watch_sender_is_closed(&tx));
    weft_watch_receiver_drop(&rx);
    assert_true(weft_watch_sender_is_closed(&tx));
    assert_int_equal(weft_watch_send(&tx, &v), WEFT_ECLOSED);
    assert_int_equal(weft_watch_sender_borrow(&tx, &out), 0);
    assert_int_equal(out, 0); /* not stored */
    /* send_replace stores anyway and hands back the old value. */
    v = 2;
    assert_int_equal(weft_watch_send_replace(&tx, &v, &old), 0);
    assert_int_equal(old, 0);
    /* A new subscriber has seen the current value. */
    assert_int_equal(weft_watch_subscribe(&tx, &late), 0);
    assert_int_equal(weft_watch_has_changed(&late), 0);
    assert_int_equal(weft_watch_borrow(&late, &out), 0);
    assert_int_equal(out, 2);
    v = 3;
    assert_int_equal(weft_watch_send(&tx, &v), 0);
    assert_int_equal(weft_watch_has_changed(&late), 1);
    weft_watch_receiver_drop(&late);
    weft_watch_sender_drop(&tx);
}

static void add_arg(void *value, void *arg)
{
    *(int *)value += *(int *)arg;
}

static bool set_if_bigger(void *value, void *arg)
{
    if (*(int *)arg <= *(int *)value)
        return false;
    *(int *)value = *(int *)arg;
    return true;
}

static void test_watch_send_modify_and_if_modified(void **state)
{
    (void)state;
    weft_watch_sender tx;
    weft_watch_receiver rx;
    int initial = 5, out, n = 3;
    assert_int_equal(weft_watch_channel(&tx, &rx, sizeof(int), &initial, "mod"), 0);
    assert_int_equal(weft_watch_send_modify(&tx, add_arg, &n), 0);
    assert_int_equal(weft_watch_borrow_and_update(&rx, &out), 1);
    assert_int_equal(out, 8);
    n = 4; /* not bigger: no change reported */
    assert_int_equal(weft_watch_send_if_modified(&tx, set_if_bigger, &n), 0);
    assert_int_equal(weft_watch_has_changed(&rx), 0);
    n = 20;
    assert_int_equal(weft_watch_send_if_modified(&tx, set_if_bigger, &n), 1);
    assert_int_equal(weft_watch_borrow_and_update(&rx, &out), 1);
    assert_int_equal(out, 20);
    /* send_modify reports a change even with no receiver (it always stores). */
    weft_watch_receiver_drop(&rx);
    assert_int_equal(weft_watch_send_modify(&tx, add_arg, &n), 0);
    assert_int_equal(weft_watch_sender_borrow(&tx, &out), 0);
    assert_int_equal(out, 40);
    weft_watch_sender_drop(&tx);
}

static void test_watch_receiver_clone_keeps_what_was_seen(void **state)
{
    (void)state;
    weft_watch_sender tx;
    weft_watch_receiver rx, c1, c2;
    assert_int_equal(weft_watch_channel(&tx, &rx, sizeof(int), NULL, NULL), 0);
    int v = 1;
    weft_watch_send(&tx, &v);
    assert_int_equal(weft_watch_receiver_clone(&rx, &c1), 0); /* has not seen 1 either */
    assert_int_equal(weft_watch_has_changed(&c1), 1);
    weft_watch_borrow_and_update(&rx, NULL);
    assert_int_equal(weft_watch_receiver_clone(&rx, &c2), 0);
    assert_int_equal(weft_watch_has_changed(&c2), 0);
    assert_int_equal(weft_watch_receiver_count(&tx), 3);
    weft_watch_receiver_drop(&c1);
    weft_watch_receiver_drop(&c2);
    weft_watch_receiver_drop(&c2); /* harmless */
    weft_watch_sender_drop(&tx);
    /* The receiver outlives the sender: the last value stays readable. */
    int out = 0;
    assert_int_equal(weft_watch_has_changed(&rx), WEFT_ECLOSED);
    assert_int_equal(weft_watch_borrow(&rx, &out), 0);
    assert_int_equal(out, 1);
    weft_watch_receiver_drop(&rx);
}

static void test_watch_bad_input_is_refused(void **state)
{
    (void)state;
    weft_watch_sender tx, dead = {NULL};
    weft_watch_receiver rx, dead_rx = {NULL, 0};
    assert_int_equal(weft_watch_channel(NULL, &rx, 4, NULL, NULL), WEFT_EINVAL);
    assert_null(rx.chan);
    assert_int_equal(weft_watch_channel(&tx, &rx, SIZE_MAX, NULL, NULL), WEFT_EINVAL);
    int v = 0;
    assert_int_equal(weft_watch_send(&dead, &v), WEFT_EINVAL);
    assert_int_equal(weft_watch_send_replace(&dead, &v, NULL), WEFT_EINVAL);
    assert_int_equal(weft_watch_send_modify(&dead, add_arg, &v), WEFT_EINVAL);
    assert_int_equal(weft_watch_send_if_modified(&dead, set_if_bigger, &v), WEFT_EINVAL);
    assert_int_equal(weft_watch_sender_borrow(&dead, &v), WEFT_EINVAL);
    assert_int_equal(weft_watch_borrow(&dead_rx, &v), WEFT_EINVAL);
    assert_int_equal(weft_watch_borrow_and_update(&dead_rx, &v), WEFT_EINVAL);
    assert_int_equal(weft_watch_has_changed(&dead_rx), WEFT_EINVAL);
    assert_int_equal(weft_watch_has_changed(NULL), WEFT_EINVAL);
    weft_watch_receiver r2;
    assert_int_equal(weft_watch_subscribe(&dead, &r2), WEFT_EINVAL);
    assert_int_equal(weft_watch_receiver_clone(&dead_rx, &r2), WEFT_EINVAL);
    weft_watch_mark_changed(&dead_rx);
    weft_watch_mark_unchanged(NULL);
    weft_watch_sender_drop(&dead);
    weft_watch_receiver_drop(&dead_rx);

    weft_context cx = {&(weft_waker){0}, NULL};
    weft_watch_changed ch;
    weft_watch_changed_init(&ch, &dead_rx);
    assert_int_equal(weft_future_poll(&ch.base, &cx), WEFT_READY);
    assert_int_equal(ch.status, WEFT_EINVAL);
    weft_watch_closed cl;
    weft_watch_closed_init(&cl, &dead);
    assert_int_equal(weft_future_poll(&cl.base, &cx), WEFT_READY);
    assert_int_equal(cl.status, WEFT_EINVAL);

    assert_int_equal(weft_watch_channel(&tx, &rx, sizeof(int), NULL, NULL), 0);
    assert_int_equal(weft_watch_send(&tx, NULL), WEFT_EINVAL);
    assert_int_equal(weft_watch_send_modify(&tx, NULL, NULL), WEFT_EINVAL);
    weft_watch_receiver_drop(&rx);
    weft_watch_sender_drop(&tx);
}

/* ---------------------------------------------------------------- closing, with tasks */

/* A watcher task: follows the value until the sender is gone; returns the last value seen
 * (and counts values that went backwards, which must never happen). */
typedef struct watcher {
    weft_async co;
    weft_watch_receiver rx;
    weft_watch_changed changed;
    uint64_t last, backwards, changes;
} watcher;

static weft_poll watcher_poll(weft_future *f, weft_context *cx)
{
    watcher *w = (watcher *)f;
    WEFT_ASYNC_BEGIN(&w->co);
    for (;;) {
        weft_watch_changed_init(&w->changed, &w->rx);
        WEFT_AWAIT(&w->co, cx, &w->changed);
        if (w->changed.status != 0)
            break;
        {
            uint64_t v;
            weft_watch_borrow_and_update(&w->rx, &v);
            if (v < w->last)
                w->backwards++;
            w->last = v;
            w->changes++;
        }
    }
    weft_watch_receiver_drop(&w->rx);
    weft_task_return(cx, (intptr_t)(w->backwards ? -1 : (intptr_t)w->last));
    WEFT_ASYNC_END(&w->co);
}

static void watcher_drop(weft_future *f)
{
    weft_async_drop(f);
    weft_watch_receiver_drop(&((watcher *)f)->rx);
}

static const weft_future_vtable watcher_vt = {watcher_poll, watcher_drop, "watcher"};

/* Sends 1..n, yielding every `every` values, then drops its sender. */
typedef struct publisher {
    weft_async co;
    weft_watch_sender tx;
    uint64_t i, n, every;
    weft_yield_now y;
} publisher;

static weft_poll publisher_poll(weft_future *f, weft_context *cx)
{
    publisher *p = (publisher *)f;
    WEFT_ASYNC_BEGIN(&p->co);
    for (p->i = 1; p->i <= p->n; p->i++) {
        assert_int_equal(weft_watch_send(&p->tx, &p->i), 0);
        if (p->every && p->i % p->every == 0) {
            weft_yield_now_init(&p->y);
            WEFT_AWAIT(&p->co, cx, &p->y);
        }
    }
    weft_watch_sender_drop(&p->tx);
    WEFT_ASYNC_END(&p->co);
}

static void publisher_drop(weft_future *f)
{
    weft_async_drop(f);
    weft_watch_sender_drop(&((publisher *)f)->tx);
}

static const weft_future_vtable publisher_vt = {publisher_poll, publisher_drop, "publisher"};

#define WATCHERS 4

typedef struct follow_case {
    weft_async co;
    uint64_t n, every;
    weft_join_handle w[WATCHERS], p;
    intptr_t last[WATCHERS];
    int i;
} follow_case;

static weft_poll follow_case_poll(weft_future *f, weft_context *cx)
{
    follow_case *t = (follow_case *)f;
    WEFT_ASYNC_BEGIN(&t->co);
    {
        weft_watch_sender tx;
        weft_watch_receiver rx;
        uint64_t zero = 0;
        assert_int_equal(weft_watch_channel(&tx, &rx, sizeof(uint64_t), &zero, "follow"), 0);
        for (int i = 0; i < WATCHERS; i++) {
            watcher w = {0};
            weft_async_init(&w.co, &watcher_vt);
            if (i == 0)
                w.rx = rx;
            else
                assert_int_equal(weft_watch_subscribe(&tx, &w.rx), 0);
            t->w[i] = weft_spawn(&w);
        }
        publisher p = {.tx = tx, .n = t->n, .every = t->every};
        weft_async_init(&p.co, &publisher_vt);
        t->p = weft_spawn(&p);
    }
    WEFT_AWAIT(&t->co, cx, &t->p);
    for (t->i = 0; t->i < WATCHERS; t->i++) {
        WEFT_AWAIT(&t->co, cx, &t->w[t->i]);
        assert_int_equal(t->w[t->i].status, 0);
        t->last[t->i] = t->w[t->i].value;
    }
    WEFT_ASYNC_END(&t->co);
}

static const weft_future_vtable follow_case_vt = {follow_case_poll, weft_async_drop, "follow"};

/* Every watcher sees the values in order and, before CLOSED, the final one: the sender's drop
 * may not hide the last change, and no wake-up may be lost. */
static void check_follow(weft_flavor flavor, uint64_t n, uint64_t every)
{
    follow_case t = {.n = n, .every = every};
    weft_async_init(&t.co, &follow_case_vt);
    run_on(flavor, &t.co.base);
    for (int i = 0; i < WATCHERS; i++)
        assert_int_equal(t.last[i], (intptr_t)n);
}

static void test_watch_watchers_see_the_final_value_ct(void **state)
{
    (void)state;
    check_follow(WEFT_CURRENT_THREAD, 1000, 1);
    check_follow(WEFT_CURRENT_THREAD, 1000, 0); /* one change, then CLOSED */
}

static void test_watch_watchers_see_the_final_value_mt(void **state)
{
    (void)state;
    check_follow(WEFT_MULTI_THREAD, 1000, 1);
    check_follow(WEFT_MULTI_THREAD, 1000, 0);
}

static void test_watch_stress_no_lost_change_mt(void **state)
{
    (void)state;
    uint64_t n = SANITIZED ? 20000 : 300000;
    check_follow(WEFT_MULTI_THREAD, n, 5);
    check_follow(WEFT_MULTI_THREAD, n, 0);
}

/* changed() reports a change not yet seen before CLOSED; a waiting changed() is woken with
 * CLOSED by the sender's drop. */
typedef struct close_case {
    weft_async co;
    weft_watch_sender tx;
    weft_watch_receiver rx;
    weft_watch_changed changed;
} close_case;

static weft_poll close_case_poll(weft_future *f, weft_context *cx)
{
    close_case *t = (close_case *)f;
    WEFT_ASYNC_BEGIN(&t->co);
    assert_int_equal(weft_watch_channel(&t->tx, &t->rx, sizeof(int), NULL, "close"), 0);
    {
        int v = 1;
        weft_watch_send(&t->tx, &v);
    }
    weft_watch_sender_drop(&t->tx);
    assert_int_equal(weft_watch_has_changed(&t->rx), WEFT_ECLOSED); /* closed wins here */
    weft_watch_changed_init(&t->changed, &t->rx);
    WEFT_AWAIT(&t->co, cx, &t->changed);
    assert_int_equal(t->changed.status, 0); /* ... but changed() reports the change first */
    weft_watch_changed_init(&t->changed, &t->rx);
    WEFT_AWAIT(&t->co, cx, &t->changed);
    assert_int_equal(t->changed.status, WEFT_ECLOSED);
    weft_watch_receiver_drop(&t->rx);

    /* A waiting changed() woken by the drop. */
    assert_int_equal(weft_watch_channel(&t->tx, &t->rx, sizeof(int), NULL, "close"), 0);
    weft_watch_changed_init(&t->changed, &t->rx);
    assert_int_equal(weft_future_poll(&t->changed.base, cx), WEFT_PENDING);
    weft_watch_sender_drop(&t->tx);
    WEFT_AWAIT(&t->co, cx, &t->changed);
    assert_int_equal(t->changed.status, WEFT_ECLOSED);
    weft_watch_receiver_drop(&t->rx);
    WEFT_ASYNC_END(&t->co);
}

static const weft_future_vtable close_case_vt = {close_case_poll, weft_async_drop, "close"};

static void test_watch_changed_reports_closed_after_the_last_change(void **state)
{
    (void)state;
    close_case t = {0};
    weft_async_init(&t.co, &close_case_vt);
    run_on(WEFT_CURRENT_THREAD, &t.co.base);
}

/* The sender's closed() completes when the last receiver (held by a task) goes. */
typedef struct holder {
    weft_async co;
    weft_watch_receiver rx;
    weft_yield_now y;
    int i;
} holder;

static weft_poll holder_poll(weft_future *f, weft_context *cx)
{
    holder *h = (holder *)f;
    WEFT_ASYNC_BEGIN(&h->co);
    for (h->i = 0; h->i < 3; h->i++) {
        weft_yield_now_init(&h->y);
        WEFT_AWAIT(&h->co, cx, &h->y);
    }
    weft_watch_receiver_drop(&h->rx);
    WEFT_ASYNC_END(&h->co);
}

static void holder_drop(weft_future *f)
{
    weft_async_drop(f);
    weft_watch_receiver_drop(&((holder *)f)->rx);
}

static const weft_future_vtable holder_vt = {holder_poll, holder_drop, "holder"};

typedef struct sender_closed_case {
    weft_async co;
    weft_watch_sender tx;
    weft_watch_closed closed;
    weft_join_handle h[2];
} sender_closed_case;

static weft_poll sender_closed_poll(weft_future *f, weft_context *cx)
{
    sender_closed_case *t = (sender_closed_case *)f;
    WEFT_ASYNC_BEGIN(&t->co);
    {
        weft_watch_receiver rx, rx2;
        assert_int_equal(weft_watch_channel(&t->tx, &rx, sizeof(int), NULL, "closed"), 0);
        assert_int_equal(weft_watch_receiver_clone(&rx, &rx2), 0);
        holder h = {.rx = rx};
        weft_async_init(&h.co, &holder_vt);
        t->h[0] = weft_spawn(&h);
        holder h2 = {.rx = rx2};
        weft_async_init(&h2.co, &holder_vt);
        t->h[1] = weft_spawn(&h2);
    }
    weft_watch_closed_init(&t->closed, &t->tx);
    WEFT_AWAIT(&t->co, cx, &t->closed);
    assert_int_equal(t->closed.status, 0);
    assert_int_equal(weft_watch_receiver_count(&t->tx), 0);
    {
        int v = 1;
        assert_int_equal(weft_watch_send(&t->tx, &v), WEFT_ECLOSED);
    }
    WEFT_AWAIT(&t->co, cx, &t->h[0]);
    WEFT_AWAIT(&t->co, cx, &t->h[1]);
    weft_watch_sender_drop(&t->tx);
    WEFT_ASYNC_END(&t->co);
}

static const weft_future_vtable sender_closed_vt = {sender_closed_poll, weft_async_drop,
                                                    "sender_closed"};

static void test_watch_sender_closed_when_receivers_gone(void **state)
{
    (void)state;
    sender_closed_case t = {0};
    weft_async_init(&t.co, &sender_closed_vt);
    run_on(WEFT_CURRENT_THREAD, &t.co.base);
    weft_async_init(&t.co, &sender_closed_vt);
    run_on(WEFT_MULTI_THREAD, &t.co.base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_watch_changed_does_not_fire_for_a_seen_version),
        cmocka_unit_test(test_watch_send_fails_without_receivers),
        cmocka_unit_test(test_watch_send_modify_and_if_modified),
        cmocka_unit_test(test_watch_receiver_clone_keeps_what_was_seen),
        cmocka_unit_test(test_watch_bad_input_is_refused),
        cmocka_unit_test(test_watch_wakes_every_waiter),
        cmocka_unit_test(test_watch_changed_reports_closed_after_the_last_change),
        cmocka_unit_test(test_watch_sender_closed_when_receivers_gone),
        cmocka_unit_test(test_watch_watchers_see_the_final_value_ct),
        cmocka_unit_test(test_watch_watchers_see_the_final_value_mt),
        cmocka_unit_test(test_watch_stress_no_lost_change_mt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
