/* tests/unit/test_broadcast.c - broadcast channels: every receiver sees every value sent after
 * it subscribed; lag is reported with the exact count and reading resumes at the oldest value
 * kept; CLOSED after the senders are gone and the receiver drained; on both runtime flavours,
 * plus a multi-thread stress (suite 'tsan' too) in which every receiver must account for every
 * value exactly once, as received or as lagged.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <weft/broadcast.h>
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

/* ---------------------------------------------------------------- synchronous rules */

static void test_broadcast_every_receiver_sees_values_sent_after_subscribing(void **state)
{
    (void)state;
    weft_broadcast_sender tx;
    weft_broadcast_receiver a, b, late;
    assert_int_equal(weft_broadcast_channel(&tx, &a, 8, sizeof(int), "bc"), 0);
    assert_int_equal(weft_broadcast_subscribe(&tx, &b), 0);
    assert_int_equal(weft_broadcast_receiver_count(&tx), 2);
    int v, out;
    for (v = 0; v < 3; v++)
        assert_int_equal(weft_broadcast_send(&tx, &v), 2); /* two receivers will see it */
    assert_int_equal(weft_broadcast_subscribe(&tx, &late), 0);
    for (v = 3; v < 5; v++)
        assert_int_equal(weft_broadcast_send(&tx, &v), 3);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(weft_broadcast_try_recv(&a, &out, NULL), 0);
        assert_int_equal(out, i);
        assert_int_equal(weft_broadcast_try_recv(&b, &out, NULL), 0);
        assert_int_equal(out, i);
    }
    assert_int_equal(weft_broadcast_receiver_len(&late), 2);
    for (int i = 3; i < 5; i++) {
        assert_int_equal(weft_broadcast_try_recv(&late, &out, NULL), 0);
        assert_int_equal(out, i);
    }
    assert_int_equal(weft_broadcast_try_recv(&a, &out, NULL), WEFT_EEMPTY);
    assert_int_equal(weft_broadcast_try_recv(&late, &out, NULL), WEFT_EEMPTY);
    weft_broadcast_receiver_drop(&a);
    weft_broadcast_receiver_drop(&b);
    weft_broadcast_receiver_drop(&late);
    weft_broadcast_sender_drop(&tx);
}

static void check_lag(size_t capacity, int sent)
{
    weft_broadcast_sender tx;
    weft_broadcast_receiver rx;
    assert_int_equal(weft_broadcast_channel(&tx, &rx, capacity, sizeof(int), "lag"), 0);
    for (int v = 0; v < sent; v++)
        assert_int_equal(weft_broadcast_send(&tx, &v), 1);
    int out = -1;
    uint64_t lagged = 0;
    int skipped = sent - (int)capacity;
    assert_int_equal(weft_broadcast_receiver_len(&rx), capacity);
    assert_int_equal(weft_broadcast_try_recv(&rx, &out, &lagged), WEFT_ELAGGED);
    assert_int_equal(lagged, (uint64_t)skipped); /* exactly the values overwritten */
    assert_int_equal(out, -1);                   /* nothing copied on a lag */
    /* Then the oldest value kept, and on in order. */
    for (int v = skipped; v < sent; v++) {
        assert_int_equal(weft_broadcast_try_recv(&rx, &out, &lagged), 0);
        assert_int_equal(out, v);
    }
    assert_int_equal(weft_broadcast_try_recv(&rx, &out, &lagged), WEFT_EEMPTY);
    weft_broadcast_receiver_drop(&rx);
    weft_broadcast_sender_drop(&tx);
}

static void test_broadcast_lagged_counts_exactly(void **state)
{
    (void)state;
    check_lag(4, 10);
    check_lag(3, 10); /* a capacity that is not a power of two is used as given */
    check_lag(1, 2);
    check_lag(5, 6);
}

static void test_broadcast_closed_after_senders_gone_and_drained(void **state)
{
    (void)state;
    weft_broadcast_sender tx, tx2;
    weft_broadcast_receiver rx;
    assert_int_equal(weft_broadcast_channel(&tx, &rx, 4, sizeof(int), NULL), 0);
    assert_int_equal(weft_broadcast_sender_clone(&tx, &tx2), 0);
    int v = 1, out;
    assert_int_equal(weft_broadcast_send(&tx, &v), 1);
    v = 2;
    assert_int_equal(weft_broadcast_send(&tx2, &v), 1);
    weft_broadcast_sender_drop(&tx);
    assert_int_equal(weft_broadcast_try_recv(&rx, &out, NULL), 0);
    assert_int_equal(out, 1);
    assert_int_equal(weft_broadcast_try_recv(&rx, &out, NULL), 0);
    assert_int_equal(out, 2);
    assert_int_equal(weft_broadcast_try_recv(&rx, &out, NULL), WEFT_EEMPTY); /* tx2 lives */
    weft_broadcast_sender_drop(&tx2);
    weft_broadcast_sender_drop(&tx2); /* harmless */
    assert_int_equal(weft_broadcast_try_recv(&rx, &out, NULL), WEFT_ECLOSED);
    weft_broadcast_receiver_drop(&rx);
}

static void test_broadcast_lag_reported_before_closed(void **state)
{
    (void)state;
    weft_broadcast_sender tx;
    weft_broadcast_receiver rx;
    assert_int_equal(weft_broadcast_channel(&tx, &rx, 2, sizeof(int), NULL), 0);
    for (int v = 0; v < 5; v++)
        weft_broadcast_send(&tx, &v);
    weft_broadcast_sender_drop(&tx);
    int out;
    uint64_t lagged;
    assert_int_equal(weft_broadcast_try_recv(&rx, &out, &lagged), WEFT_ELAGGED);
    assert_int_equal(lagged, 3);
    assert_int_equal(weft_broadcast_try_recv(&rx, &out, &lagged), 0);
    assert_int_equal(out, 3);
    assert_int_equal(weft_broadcast_try_recv(&rx, &out, &lagged), 0);
    assert_int_equal(out, 4);
    assert_int_equal(weft_broadcast_try_recv(&rx, &out, &lagged), WEFT_ECLOSED);
    weft_broadcast_receiver_drop(&rx);
}

static void test_broadcast_send_without_receivers_fails(void **state)
{
    (void)state;
    weft_broadcast_sender tx;
    weft_broadcast_receiver rx, again;
    assert_int_equal(weft_broadcast_channel(&tx, &rx, 4, sizeof(int), NULL), 0);
    weft_broadcast_receiver_drop(&rx);
    assert_int_equal(weft_broadcast_receiver_count(&tx), 0);
    int v = 1, out;
    assert_int_equal(weft_broadcast_send(&tx, &v), WEFT_ECLOSED);
    /* Subscribing again revives it; the refused value was never stored. */
    assert_int_equal(weft_broadcast_subscribe(&tx, &again), 0);
    assert_int_equal(weft_broadcast_try_recv(&again, &out, NULL), WEFT_EEMPTY);
    v = 2;
    assert_int_equal(weft_broadcast_send(&tx, &v), 1);
    assert_int_equal(weft_broadcast_try_recv(&again, &out, NULL), 0);
    assert_int_equal(out, 2);
    weft_broadcast_receiver_drop(&again);
    weft_broadcast_sender_drop(&tx);
}

static void test_broadcast_resubscribe_starts_at_the_tail(void **state)
{
    (void)state;
    weft_broadcast_sender tx;
    weft_broadcast_receiver rx, re;
    assert_int_equal(weft_broadcast_channel(&tx, &rx, 4, sizeof(int), NULL), 0);
    int v = 1, out;
    weft_broadcast_send(&tx, &v);
    assert_int_equal(weft_broadcast_receiver_resubscribe(&rx, &re), 0);
    assert_int_equal(weft_broadcast_receiver_len(&rx), 1);
    assert_int_equal(weft_broadcast_receiver_len(&re), 0);
    v = 2;
    assert_int_equal(weft_broadcast_send(&tx, &v), 2);
    assert_int_equal(weft_broadcast_try_recv(&re, &out, NULL), 0);
    assert_int_equal(out, 2);
    weft_broadcast_receiver_drop(&rx);
    weft_broadcast_sender_drop(&tx);
    /* The receiver outlives every sender: the channel lives until it is dropped. */
    assert_int_equal(weft_broadcast_try_recv(&re, &out, NULL), WEFT_ECLOSED);
    weft_broadcast_receiver_drop(&re);
}

static void test_broadcast_bad_input_is_refused(void **state)
{
    (void)state;
    weft_broadcast_sender tx, dead = {NULL};
    weft_broadcast_receiver rx, dead_rx = {NULL, 0};
    assert_int_equal(weft_broadcast_channel(&tx, &rx, 0, 4, NULL), WEFT_EINVAL);
    assert_null(tx.chan);
    assert_null(rx.chan);
    assert_int_equal(weft_broadcast_channel(&tx, &rx, SIZE_MAX / 2, 8, NULL), WEFT_EINVAL);
    assert_int_equal(weft_broadcast_channel(NULL, &rx, 4, 4, NULL), WEFT_EINVAL);
    int v = 0;
    assert_int_equal(weft_broadcast_send(&dead, &v), WEFT_EINVAL);
    assert_int_equal(weft_broadcast_try_recv(&dead_rx, &v, NULL), WEFT_EINVAL);
    assert_int_equal(weft_broadcast_try_recv(NULL, &v, NULL), WEFT_EINVAL);
    weft_broadcast_sender s2;
    weft_broadcast_receiver r2;
    assert_int_equal(weft_broadcast_sender_clone(&dead, &s2), WEFT_EINVAL);
    assert_int_equal(weft_broadcast_subscribe(&dead, &r2), WEFT_EINVAL);
    assert_int_equal(weft_broadcast_receiver_resubscribe(&dead_rx, &r2), WEFT_EINVAL);
    assert_int_equal(weft_broadcast_receiver_count(&dead), 0);
    weft_broadcast_sender_drop(&dead);
    weft_broadcast_receiver_drop(&dead_rx);
    weft_broadcast_receiver_drop(NULL);

    weft_context cx = {&(weft_waker){0}, NULL};
    weft_broadcast_recv r;
    weft_broadcast_recv_init(&r, &dead_rx, &v);
    assert_int_equal(weft_future_poll(&r.base, &cx), WEFT_READY);
    assert_int_equal(r.status, WEFT_EINVAL);

    assert_int_equal(weft_broadcast_channel(&tx, &rx, 2, sizeof(int), NULL), 0);
    assert_int_equal(weft_broadcast_send(&tx, NULL), WEFT_EINVAL);
    weft_broadcast_receiver_drop(&rx);
    weft_broadcast_sender_drop(&tx);
}

/* More waiting receivers than one wake batch: a send reaches them all, each exactly once;
 * then the last sender's drop reaches a second round of them. */
#define MANY 100

static void test_broadcast_send_wakes_every_waiting_receiver(void **state)
{
    (void)state;
    weft_broadcast_sender tx;
    weft_broadcast_receiver *rx = calloc(MANY, sizeof *rx);
    weft_broadcast_recv *f = calloc(MANY, sizeof *f);
    counting_waker *w = calloc(MANY, sizeof *w);
    int *out = calloc(MANY, sizeof *out);
    assert_true(rx && f && w && out);
    assert_int_equal(weft_broadcast_channel(&tx, &rx[0], 4, sizeof(int), "many"), 0);
    for (int i = 1; i < MANY; i++)
        assert_int_equal(weft_broadcast_subscribe(&tx, &rx[i]), 0);
    for (int i = 0; i < MANY; i++) {
        weft_broadcast_recv_init(&f[i], &rx[i], &out[i]);
        assert_int_equal(poll_with(&f[i].base, &w[i]), WEFT_PENDING);
    }
    int v = 7;
    assert_int_equal(weft_broadcast_send(&tx, &v), MANY);
    for (int i = 0; i < MANY; i++) {
        assert_woken_once_nothing_leaked(&w[i]);
        assert_int_equal(poll_with(&f[i].base, &w[i]), WEFT_READY);
        assert_int_equal(f[i].status, 0);
        assert_int_equal(out[i], 7);
    }
    memset(w, 0, MANY * sizeof *w);
    for (int i = 0; i < MANY; i++) {
        weft_broadcast_recv_init(&f[i], &rx[i], &out[i]);
        assert_int_equal(poll_with(&f[i].base, &w[i]), WEFT_PENDING);
    }
    weft_broadcast_sender_drop(&tx);
    for (int i = 0; i < MANY; i++) {
        assert_woken_once_nothing_leaked(&w[i]);
        assert_int_equal(poll_with(&f[i].base, &w[i]), WEFT_READY);
        assert_int_equal(f[i].status, WEFT_ECLOSED);
        weft_broadcast_receiver_drop(&rx[i]);
    }
    free(rx);
    free(f);
    free(w);
    free(out);
}

/* ---------------------------------------------------------------- waiting receivers */

/* A receiver task: receives until CLOSED, counting values, lags and order violations. */
typedef struct listener {
    weft_async co;
    weft_broadcast_receiver rx;
    weft_broadcast_recv recv;
    uint64_t v, received, lagged, expect, disorder;
} listener;

static weft_poll listener_poll(weft_future *f, weft_context *cx)
{
    listener *l = (listener *)f;
    WEFT_ASYNC_BEGIN(&l->co);
    for (;;) {
        weft_broadcast_recv_init(&l->recv, &l->rx, &l->v);
        WEFT_AWAIT(&l->co, cx, &l->recv);
        if (l->recv.status == WEFT_ECLOSED)
            break;
        if (l->recv.status == WEFT_ELAGGED) {
            l->lagged += l->recv.lagged;
            l->expect += l->recv.lagged;
            continue;
        }
        if (l->v != l->expect)
            l->disorder++;
        l->expect = l->v + 1;
        l->received++;
    }
    weft_broadcast_receiver_drop(&l->rx);
    {
        listener *copy = malloc(sizeof *copy);
        assert_non_null(copy);
        *copy = *l;
        weft_task_return(cx, (intptr_t)copy);
    }
    WEFT_ASYNC_END(&l->co);
}

static void listener_drop(weft_future *f)
{
    weft_async_drop(f);
    weft_broadcast_receiver_drop(&((listener *)f)->rx);
}

static const weft_future_vtable listener_vt = {listener_poll, listener_drop, "listener"};

/* Sends 0..n-1 with a yield every `every` values, then drops its sender. */
typedef struct speaker {
    weft_async co;
    weft_broadcast_sender tx;
    uint64_t i, n, every;
    weft_yield_now y;
} speaker;

static weft_poll speaker_poll(weft_future *f, weft_context *cx)
{
    speaker *s = (speaker *)f;
    WEFT_ASYNC_BEGIN(&s->co);
    for (s->i = 0; s->i < s->n; s->i++) {
        assert_true(weft_broadcast_send(&s->tx, &s->i) >= 1);
        if (s->every && s->i % s->every == 0) {
            weft_yield_now_init(&s->y);
            WEFT_AWAIT(&s->co, cx, &s->y);
        }
    }
    weft_broadcast_sender_drop(&s->tx);
    WEFT_ASYNC_END(&s->co);
}

static void speaker_drop(weft_future *f)
{
    weft_async_drop(f);
    weft_broadcast_sender_drop(&((speaker *)f)->tx);
}

static const weft_future_vtable speaker_vt = {speaker_poll, speaker_drop, "speaker"};

#define LISTENERS 3

typedef struct fanout {
    weft_async co;
    uint64_t n, every;
    size_t capacity;
    weft_join_handle l[LISTENERS], s;
    int i;
    listener *result[LISTENERS];
} fanout;

static weft_poll fanout_poll(weft_future *f, weft_context *cx)
{
    fanout *t = (fanout *)f;
    WEFT_ASYNC_BEGIN(&t->co);
    {
        weft_broadcast_sender tx;
        weft_broadcast_receiver rx;
        assert_int_equal(
            weft_broadcast_channel(&tx, &rx, t->capacity, sizeof(uint64_t), "fanout"), 0);
        for (int i = 0; i < LISTENERS; i++) {
            listener l = {0};
            weft_async_init(&l.co, &listener_vt);
            if (i == 0)
                l.rx = rx;
            else
                assert_int_equal(weft_broadcast_subscribe(&tx, &l.rx), 0);
            t->l[i] = weft_spawn(&l);
        }
        speaker s = {.tx = tx, .n = t->n, .every = t->every};
        weft_async_init(&s.co, &speaker_vt);
        t->s = weft_spawn(&s);
    }
    WEFT_AWAIT(&t->co, cx, &t->s);
    for (t->i = 0; t->i < LISTENERS; t->i++) {
        WEFT_AWAIT(&t->co, cx, &t->l[t->i]);
        assert_int_equal(t->l[t->i].status, 0);
        t->result[t->i] = (listener *)t->l[t->i].value;
    }
    WEFT_ASYNC_END(&t->co);
}

static const weft_future_vtable fanout_vt = {fanout_poll, weft_async_drop, "fanout"};

/* Every listener accounts for every value exactly once: received + lagged == n, in order. */
static void check_fanout(weft_flavor flavor, uint64_t n, size_t capacity, uint64_t every,
                         bool expect_no_lag)
{
    fanout t = {.n = n, .capacity = capacity, .every = every};
    weft_async_init(&t.co, &fanout_vt);
    run_on(flavor, &t.co.base);
    for (int i = 0; i < LISTENERS; i++) {
        listener *l = t.result[i];
        assert_int_equal(l->received + l->lagged, n);
        assert_int_equal(l->disorder, 0);
        if (expect_no_lag)
            assert_int_equal(l->lagged, 0);
        free(l);
    }
}

static void test_broadcast_waiting_receivers_get_everything_ct(void **state)
{
    (void)state;
    /* The speaker yields after every value and the ring holds 4: nobody falls behind, and
     * the waiting listeners are woken by each send and finally by the sender's drop. */
    check_fanout(WEFT_CURRENT_THREAD, 1000, 4, 1, true);
    /* Without yields the listeners fall behind: exact lag accounting. */
    check_fanout(WEFT_CURRENT_THREAD, 1000, 4, 0, false);
}

static void test_broadcast_waiting_receivers_get_everything_mt(void **state)
{
    (void)state;
    check_fanout(WEFT_MULTI_THREAD, 1000, 2000, 1, true);
    check_fanout(WEFT_MULTI_THREAD, 1000, 4, 7, false);
}

static void test_broadcast_stress_every_value_accounted_mt(void **state)
{
    (void)state;
    uint64_t n = SANITIZED ? 20000 : 300000;
    check_fanout(WEFT_MULTI_THREAD, n, 16, 3, false);
    check_fanout(WEFT_MULTI_THREAD, n, 1, 0, false);
}

/* A dropped recv loses nothing; a receive in a task spends coop budget like any leaf. */
typedef struct drop_case {
    weft_async co;
    weft_broadcast_sender tx;
    weft_broadcast_receiver rx;
    weft_broadcast_recv recv;
    int out;
} drop_case;

static weft_poll drop_case_poll(weft_future *f, weft_context *cx)
{
    drop_case *t = (drop_case *)f;
    WEFT_ASYNC_BEGIN(&t->co);
    assert_int_equal(weft_broadcast_channel(&t->tx, &t->rx, 2, sizeof(int), "drop"), 0);
    weft_broadcast_recv_init(&t->recv, &t->rx, &t->out);
    assert_int_equal(weft_future_poll(&t->recv.base, cx), WEFT_PENDING);
    weft_future_drop(&t->recv.base);
    weft_future_drop(&t->recv.base);
    {
        int v = 8;
        assert_int_equal(weft_broadcast_send(&t->tx, &v), 1);
    }
    weft_broadcast_recv_init(&t->recv, &t->rx, &t->out);
    WEFT_AWAIT(&t->co, cx, &t->recv);
    assert_int_equal(t->recv.status, 0);
    assert_int_equal(t->out, 8);
    weft_broadcast_sender_drop(&t->tx);
    weft_broadcast_recv_init(&t->recv, &t->rx, &t->out);
    WEFT_AWAIT(&t->co, cx, &t->recv);
    assert_int_equal(t->recv.status, WEFT_ECLOSED);
    weft_broadcast_receiver_drop(&t->rx);
    WEFT_ASYNC_END(&t->co);
}

static const weft_future_vtable drop_case_vt = {drop_case_poll, weft_async_drop, "drop"};

static void test_broadcast_dropped_recv_loses_nothing(void **state)
{
    (void)state;
    drop_case t = {0};
    weft_async_init(&t.co, &drop_case_vt);
    run_on(WEFT_CURRENT_THREAD, &t.co.base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_broadcast_every_receiver_sees_values_sent_after_subscribing),
        cmocka_unit_test(test_broadcast_lagged_counts_exactly),
        cmocka_unit_test(test_broadcast_closed_after_senders_gone_and_drained),
        cmocka_unit_test(test_broadcast_lag_reported_before_closed),
        cmocka_unit_test(test_broadcast_send_without_receivers_fails),
        cmocka_unit_test(test_broadcast_resubscribe_starts_at_the_tail),
        cmocka_unit_test(test_broadcast_bad_input_is_refused),
        cmocka_unit_test(test_broadcast_dropped_recv_loses_nothing),
        cmocka_unit_test(test_broadcast_send_wakes_every_waiting_receiver),
        cmocka_unit_test(test_broadcast_waiting_receivers_get_everything_ct),
        cmocka_unit_test(test_broadcast_waiting_receivers_get_everything_mt),
        cmocka_unit_test(test_broadcast_stress_every_value_accounted_mt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
