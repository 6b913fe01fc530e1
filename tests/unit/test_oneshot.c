/* tests/unit/test_oneshot.c - oneshot channels: each rule of weft/oneshot.h, on both runtime
 * flavours, plus a multi-thread stress of many request/reply pairs (suite 'tsan' too).
 *
 * Cases with a runtime end with weft_runtime_shutdown, so that ASan/LSan prove no channel or
 * task leaked. Root futures that must see a future PENDING poll it by hand with their own
 * context, as an enclosing async function would.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>
#include <weft/oneshot.h>
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

/* A task that replies `value` through its sender after `yields` yields, or drops the sender
 * without replying when `value` is negative. Returns the send's result. */
typedef struct replier {
    weft_async co;
    weft_oneshot_sender tx;
    int value, yields, i;
    weft_yield_now y;
} replier;

static weft_poll replier_poll(weft_future *f, weft_context *cx)
{
    replier *r = (replier *)f;
    WEFT_ASYNC_BEGIN(&r->co);
    for (r->i = 0; r->i < r->yields; r->i++) {
        weft_yield_now_init(&r->y);
        WEFT_AWAIT(&r->co, cx, &r->y);
    }
    if (r->value < 0) {
        weft_oneshot_sender_drop(&r->tx);
        weft_task_return(cx, 0);
    } else {
        weft_task_return(cx, weft_oneshot_send(&r->tx, &r->value));
    }
    WEFT_ASYNC_END(&r->co);
}

static void replier_drop(weft_future *f)
{
    weft_async_drop(f);
    weft_oneshot_sender_drop(&((replier *)f)->tx);
}

static const weft_future_vtable replier_vt = {replier_poll, replier_drop, "replier"};

static replier make_replier(weft_oneshot_sender tx, int value, int yields)
{
    replier r = {.tx = tx, .value = value, .yields = yields};
    weft_async_init(&r.co, &replier_vt);
    return r;
}

/* ---------------------------------------------------------------- request / reply */

typedef struct reply_case {
    weft_async co;
    int value, yields;
    weft_oneshot_receiver rx;
    weft_oneshot_recv recv;
    weft_join_handle h;
    int got, status;
} reply_case;

static weft_poll reply_case_poll(weft_future *f, weft_context *cx)
{
    reply_case *t = (reply_case *)f;
    WEFT_ASYNC_BEGIN(&t->co);
    {
        weft_oneshot_sender tx;
        assert_int_equal(weft_oneshot_channel(&tx, &t->rx, sizeof(int), "reply"), 0);
        replier r = make_replier(tx, t->value, t->yields);
        t->h = weft_spawn(&r);
    }
    t->got = -1;
    weft_oneshot_recv_init(&t->recv, &t->rx, &t->got);
    WEFT_AWAIT(&t->co, cx, &t->recv);
    t->status = t->recv.status;
    WEFT_AWAIT(&t->co, cx, &t->h);
    assert_int_equal(t->h.status, 0);
    assert_int_equal(t->h.value, 0); /* the send succeeded (or there was none) */
    weft_oneshot_receiver_drop(&t->rx);
    WEFT_ASYNC_END(&t->co);
}

static const weft_future_vtable reply_case_vt = {reply_case_poll, weft_async_drop, "reply"};

static void check_reply(weft_flavor flavor, int value, int yields, int want_status)
{
    reply_case t = {.value = value, .yields = yields};
    weft_async_init(&t.co, &reply_case_vt);
    run_on(flavor, &t.co.base);
    assert_int_equal(t.status, want_status);
    if (want_status == 0)
        assert_int_equal(t.got, value);
    else
        assert_int_equal(t.got, -1); /* nothing was written to out */
}

static void test_oneshot_recv_gets_the_value_ct(void **state)
{
    (void)state;
    check_reply(WEFT_CURRENT_THREAD, 42, 0, 0); /* sent before the receiver waits */
    check_reply(WEFT_CURRENT_THREAD, 43, 3, 0); /* sent while the receiver waits */
}

static void test_oneshot_recv_gets_the_value_mt(void **state)
{
    (void)state;
    check_reply(WEFT_MULTI_THREAD, 42, 0, 0);
    check_reply(WEFT_MULTI_THREAD, 43, 3, 0);
}

static void test_oneshot_recv_closed_when_sender_dropped_ct(void **state)
{
    (void)state;
    check_reply(WEFT_CURRENT_THREAD, -1, 0, WEFT_ECLOSED);
    check_reply(WEFT_CURRENT_THREAD, -1, 3, WEFT_ECLOSED); /* wakes a waiting receiver */
}

static void test_oneshot_recv_closed_when_sender_dropped_mt(void **state)
{
    (void)state;
    check_reply(WEFT_MULTI_THREAD, -1, 0, WEFT_ECLOSED);
    check_reply(WEFT_MULTI_THREAD, -1, 3, WEFT_ECLOSED);
}

/* ---------------------------------------------------------------- synchronous rules */

static void test_oneshot_send_fails_when_receiver_gone(void **state)
{
    (void)state;
    weft_oneshot_sender tx;
    weft_oneshot_receiver rx;
    assert_int_equal(weft_oneshot_channel(&tx, &rx, sizeof(int), NULL), 0);
    assert_false(weft_oneshot_sender_is_closed(&tx));
    weft_oneshot_receiver_drop(&rx);
    assert_true(weft_oneshot_sender_is_closed(&tx));
    int v = 5;
    assert_int_equal(weft_oneshot_send(&tx, &v), WEFT_ECLOSED);
    assert_int_equal(v, 5);     /* the value stays with the caller */
    assert_null(tx.chan);       /* send consumed the sender either way */
    weft_oneshot_sender_drop(&tx); /* harmless */
}

static void test_oneshot_send_fails_after_receiver_close(void **state)
{
    (void)state;
    weft_oneshot_sender tx;
    weft_oneshot_receiver rx;
    assert_int_equal(weft_oneshot_channel(&tx, &rx, sizeof(int), NULL), 0);
    weft_oneshot_receiver_close(&rx);
    weft_oneshot_receiver_close(&rx); /* idempotent */
    int v = 5, out = 0;
    assert_int_equal(weft_oneshot_send(&tx, &v), WEFT_ECLOSED);
    assert_int_equal(weft_oneshot_try_recv(&rx, &out), WEFT_ECLOSED);
    weft_oneshot_receiver_drop(&rx);
}

static void test_oneshot_value_sent_before_close_is_received(void **state)
{
    (void)state;
    weft_oneshot_sender tx;
    weft_oneshot_receiver rx;
    assert_int_equal(weft_oneshot_channel(&tx, &rx, sizeof(int), NULL), 0);
    int v = 9, out = 0;
    assert_int_equal(weft_oneshot_send(&tx, &v), 0);
    weft_oneshot_receiver_close(&rx);
    assert_int_equal(weft_oneshot_try_recv(&rx, &out), 0);
    assert_int_equal(out, 9);
    weft_oneshot_receiver_drop(&rx);
}

static void test_oneshot_try_recv_empty_value_then_closed(void **state)
{
    (void)state;
    weft_oneshot_sender tx;
    weft_oneshot_receiver rx;
    assert_int_equal(weft_oneshot_channel(&tx, &rx, sizeof(uint64_t), "try"), 0);
    uint64_t v = 77, out = 0;
    assert_int_equal(weft_oneshot_try_recv(&rx, &out), WEFT_EEMPTY);
    assert_int_equal(weft_oneshot_send(&tx, &v), 0);
    assert_int_equal(weft_oneshot_try_recv(&rx, &out), 0);
    assert_int_equal(out, 77);
    assert_int_equal(weft_oneshot_try_recv(&rx, &out), WEFT_ECLOSED); /* already taken */
    weft_oneshot_receiver_drop(&rx);

    /* Sender dropped without sending: CLOSED, not EMPTY. */
    assert_int_equal(weft_oneshot_channel(&tx, &rx, sizeof(uint64_t), "try"), 0);
    weft_oneshot_sender_drop(&tx);
    assert_int_equal(weft_oneshot_try_recv(&rx, &out), WEFT_ECLOSED);
    weft_oneshot_receiver_drop(&rx);
}

static void test_oneshot_unreceived_value_freed_with_channel(void **state)
{
    (void)state;
    weft_oneshot_sender tx;
    weft_oneshot_receiver rx;
    /* A large item: the channel holds it inline and frees it with itself. */
    assert_int_equal(weft_oneshot_channel(&tx, &rx, 1000, "big"), 0);
    char big[1000] = {1};
    assert_int_equal(weft_oneshot_send(&tx, big), 0);
    weft_oneshot_receiver_drop(&rx);
}

static void test_oneshot_bad_input_is_refused(void **state)
{
    (void)state;
    weft_oneshot_sender tx, dead = {NULL};
    weft_oneshot_receiver rx, dead_rx = {NULL};
    assert_int_equal(weft_oneshot_channel(NULL, &rx, 4, NULL), WEFT_EINVAL);
    assert_null(rx.chan);
    assert_int_equal(weft_oneshot_channel(&tx, &rx, SIZE_MAX, NULL), WEFT_EINVAL);
    int v = 1;
    assert_int_equal(weft_oneshot_send(&dead, &v), WEFT_EINVAL);
    assert_int_equal(weft_oneshot_send(NULL, &v), WEFT_EINVAL);
    assert_int_equal(weft_oneshot_try_recv(&dead_rx, &v), WEFT_EINVAL);
    assert_true(weft_oneshot_sender_is_closed(&dead));
    weft_oneshot_sender_drop(NULL);
    weft_oneshot_receiver_drop(&dead_rx);
    weft_oneshot_receiver_close(NULL);

    weft_context cx = {&(weft_waker){0}, NULL};
    weft_oneshot_recv r;
    weft_oneshot_recv_init(&r, &dead_rx, &v);
    assert_int_equal(weft_future_poll(&r.base, &cx), WEFT_READY);
    assert_int_equal(r.status, WEFT_EINVAL);
    weft_oneshot_closed c;
    weft_oneshot_closed_init(&c, &dead);
    assert_int_equal(weft_future_poll(&c.base, &cx), WEFT_READY);
    assert_int_equal(c.status, WEFT_EINVAL);

    /* NULL item: refused, and the sender is still usable. */
    assert_int_equal(weft_oneshot_channel(&tx, &rx, sizeof(int), NULL), 0);
    assert_int_equal(weft_oneshot_send(&tx, NULL), WEFT_EINVAL);
    assert_non_null(tx.chan);
    assert_int_equal(weft_oneshot_send(&tx, &v), 0);
    weft_oneshot_receiver_drop(&rx);

    /* Size 0: a bare signal, NULL item allowed. */
    assert_int_equal(weft_oneshot_channel(&tx, &rx, 0, "done"), 0);
    assert_int_equal(weft_oneshot_send(&tx, NULL), 0);
    assert_int_equal(weft_oneshot_try_recv(&rx, NULL), 0);
    weft_oneshot_receiver_drop(&rx);
}

/* ---------------------------------------------------------------- closed() and cancel safety */

/* A task waiting in closed() wakes when the receiver closes (or is dropped). */
typedef struct closed_task {
    weft_async co;
    weft_oneshot_sender tx;
    weft_oneshot_closed closed;
} closed_task;

static weft_poll closed_task_poll(weft_future *f, weft_context *cx)
{
    closed_task *t = (closed_task *)f;
    WEFT_ASYNC_BEGIN(&t->co);
    weft_oneshot_closed_init(&t->closed, &t->tx);
    WEFT_AWAIT(&t->co, cx, &t->closed);
    {
        int v = 1; /* too late: the receiver is not interested any more */
        weft_task_return(cx, weft_oneshot_send(&t->tx, &v));
    }
    WEFT_ASYNC_END(&t->co);
}

static void closed_task_drop(weft_future *f)
{
    weft_async_drop(f);
    weft_oneshot_sender_drop(&((closed_task *)f)->tx);
}

static const weft_future_vtable closed_task_vt = {closed_task_poll, closed_task_drop,
                                                  "closed_task"};

typedef struct closed_case {
    weft_async co;
    bool drop_instead;
    weft_oneshot_receiver rx;
    weft_join_handle h;
    weft_yield_now y;
} closed_case;

static weft_poll closed_case_poll(weft_future *f, weft_context *cx)
{
    closed_case *t = (closed_case *)f;
    WEFT_ASYNC_BEGIN(&t->co);
    {
        weft_oneshot_sender tx;
        assert_int_equal(weft_oneshot_channel(&tx, &t->rx, sizeof(int), "closed"), 0);
        closed_task c = {.tx = tx};
        weft_async_init(&c.co, &closed_task_vt);
        t->h = weft_spawn(&c);
    }
    weft_yield_now_init(&t->y);
    WEFT_AWAIT(&t->co, cx, &t->y);
    if (t->drop_instead)
        weft_oneshot_receiver_drop(&t->rx);
    else
        weft_oneshot_receiver_close(&t->rx);
    WEFT_AWAIT(&t->co, cx, &t->h);
    assert_int_equal(t->h.status, 0);
    assert_int_equal(t->h.value, WEFT_ECLOSED);
    weft_oneshot_receiver_drop(&t->rx);
    WEFT_ASYNC_END(&t->co);
}

static const weft_future_vtable closed_case_vt = {closed_case_poll, weft_async_drop, "closed"};

static void check_closed(weft_flavor flavor, bool drop_instead)
{
    closed_case t = {.drop_instead = drop_instead};
    weft_async_init(&t.co, &closed_case_vt);
    run_on(flavor, &t.co.base);
}

static void test_oneshot_sender_closed_completes_ct(void **state)
{
    (void)state;
    check_closed(WEFT_CURRENT_THREAD, false);
    check_closed(WEFT_CURRENT_THREAD, true);
}

static void test_oneshot_sender_closed_completes_mt(void **state)
{
    (void)state;
    check_closed(WEFT_MULTI_THREAD, false);
    check_closed(WEFT_MULTI_THREAD, true);
}

/* A dropped recv (and a dropped closed) loses nothing. */
typedef struct drop_case {
    weft_async co;
    weft_oneshot_sender tx;
    weft_oneshot_receiver rx;
    weft_oneshot_recv recv;
    weft_oneshot_closed closed;
    int out;
} drop_case;

static weft_poll drop_case_poll(weft_future *f, weft_context *cx)
{
    drop_case *t = (drop_case *)f;
    WEFT_ASYNC_BEGIN(&t->co);
    assert_int_equal(weft_oneshot_channel(&t->tx, &t->rx, sizeof(int), "drop"), 0);
    weft_oneshot_recv_init(&t->recv, &t->rx, &t->out);
    assert_int_equal(weft_future_poll(&t->recv.base, cx), WEFT_PENDING);
    weft_future_drop(&t->recv.base);
    weft_future_drop(&t->recv.base); /* twice: harmless */
    weft_oneshot_closed_init(&t->closed, &t->tx);
    assert_int_equal(weft_future_poll(&t->closed.base, cx), WEFT_PENDING);
    weft_future_drop(&t->closed.base);
    {
        int v = 3;
        assert_int_equal(weft_oneshot_send(&t->tx, &v), 0);
    }
    weft_oneshot_recv_init(&t->recv, &t->rx, &t->out);
    WEFT_AWAIT(&t->co, cx, &t->recv);
    assert_int_equal(t->recv.status, 0);
    assert_int_equal(t->out, 3);
    /* Polling a completed recv again is harmless and keeps its result. */
    assert_int_equal(weft_future_poll(&t->recv.base, cx), WEFT_READY);
    assert_int_equal(t->recv.status, 0);
    weft_oneshot_receiver_drop(&t->rx);
    WEFT_ASYNC_END(&t->co);
}

static const weft_future_vtable drop_case_vt = {drop_case_poll, weft_async_drop, "drop"};

static void test_oneshot_dropped_recv_loses_nothing(void **state)
{
    (void)state;
    drop_case t = {0};
    weft_async_init(&t.co, &drop_case_vt);
    run_on(WEFT_CURRENT_THREAD, &t.co.base);
}

/* ---------------------------------------------------------------- stress
 *
 * Many request/reply pairs at once on two workers: every third replier drops its sender
 * instead. Each receiver must see exactly its own value, or CLOSED for the droppers. */
#define PAIRS 256

typedef struct stress_case {
    weft_async co;
    int rounds, round, i;
    weft_oneshot_receiver rx[PAIRS];
    weft_join_handle h[PAIRS];
    weft_oneshot_recv recv;
    int got;
    int errors;
} stress_case;

static weft_poll stress_poll(weft_future *f, weft_context *cx)
{
    stress_case *t = (stress_case *)f;
    WEFT_ASYNC_BEGIN(&t->co);
    for (t->round = 0; t->round < t->rounds; t->round++) {
        for (int i = 0; i < PAIRS; i++) {
            weft_oneshot_sender tx;
            assert_int_equal(weft_oneshot_channel(&tx, &t->rx[i], sizeof(int), "pair"), 0);
            replier r = make_replier(tx, i % 3 == 0 ? -1 : i, i % 4);
            t->h[i] = weft_spawn(&r);
        }
        for (t->i = 0; t->i < PAIRS; t->i++) {
            t->got = -2;
            weft_oneshot_recv_init(&t->recv, &t->rx[t->i], &t->got);
            WEFT_AWAIT(&t->co, cx, &t->recv);
            if (t->i % 3 == 0) {
                if (t->recv.status != WEFT_ECLOSED)
                    t->errors++;
            } else if (t->recv.status != 0 || t->got != t->i) {
                t->errors++;
            }
            weft_oneshot_receiver_drop(&t->rx[t->i]);
        }
        for (t->i = 0; t->i < PAIRS; t->i++)
            WEFT_AWAIT(&t->co, cx, &t->h[t->i]);
    }
    WEFT_ASYNC_END(&t->co);
}

static const weft_future_vtable stress_vt = {stress_poll, weft_async_drop, "stress"};

static void test_oneshot_stress_request_reply_mt(void **state)
{
    (void)state;
    stress_case *t = calloc(1, sizeof *t);
    assert_non_null(t);
    t->rounds = SANITIZED ? 10 : 100;
    weft_async_init(&t->co, &stress_vt);
    run_on(WEFT_MULTI_THREAD, &t->co.base);
    assert_int_equal(t->errors, 0);
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_oneshot_recv_gets_the_value_ct),
        cmocka_unit_test(test_oneshot_recv_gets_the_value_mt),
        cmocka_unit_test(test_oneshot_recv_closed_when_sender_dropped_ct),
        cmocka_unit_test(test_oneshot_recv_closed_when_sender_dropped_mt),
        cmocka_unit_test(test_oneshot_send_fails_when_receiver_gone),
        cmocka_unit_test(test_oneshot_send_fails_after_receiver_close),
        cmocka_unit_test(test_oneshot_value_sent_before_close_is_received),
        cmocka_unit_test(test_oneshot_try_recv_empty_value_then_closed),
        cmocka_unit_test(test_oneshot_unreceived_value_freed_with_channel),
        cmocka_unit_test(test_oneshot_bad_input_is_refused),
        cmocka_unit_test(test_oneshot_sender_closed_completes_ct),
        cmocka_unit_test(test_oneshot_sender_closed_completes_mt),
        cmocka_unit_test(test_oneshot_dropped_recv_loses_nothing),
        cmocka_unit_test(test_oneshot_stress_request_reply_mt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
