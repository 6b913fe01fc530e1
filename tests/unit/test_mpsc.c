/* tests/unit/test_mpsc.c - bounded and unbounded mpsc channels on both runtime flavours.
 *
 * What a user relies on: items arrive in order and exactly once; try_send reports FULL and
 * CLOSED; reserve hands out room that a permit then fills; waiting senders are served first
 * come, first served; recv reports CLOSED only when every sender is gone and the buffer is
 * drained; the receiver can close; dropped futures behave as the header's cancel-safety
 * section says; and nothing is lost between threads (the stress cases, also in suite 'tsan').
 *
 * Each case that needs a runtime builds one, runs a root future with weft_block_on and shuts
 * the runtime down, which under ASan/LSan also proves that no channel or task leaked. Root
 * futures that need to see a future PENDING poll it by hand with their own context: that is
 * exactly what an enclosing async function does, minus the macro.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>
#include <weft/mpsc.h>
#include <weft/weft.h>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SANITIZED 1
#else
#define SANITIZED 0
#endif

static weft_runtime *new_rt(weft_flavor flavor)
{
    weft_builder b = flavor == WEFT_CURRENT_THREAD ? weft_builder_new_current_thread()
                                                   : weft_builder_new_multi_thread();
    b.worker_threads = 2;
    weft_runtime *rt = NULL;
    assert_int_equal(weft_runtime_new(&b, &rt), 0);
    assert_non_null(rt);
    return rt;
}

static void run_on(weft_flavor flavor, weft_future *root)
{
    weft_runtime *rt = new_rt(flavor);
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

/* ---------------------------------------------------------------- helper tasks */

/* Sends first, first + 1, ..., first + n - 1 (or `tag << 32 | seq`), then drops its sender. */
typedef struct producer {
    weft_async co;
    weft_mpsc_sender tx; /* moved in; dropped at the end */
    uint64_t tag, n, i;
    weft_mpsc_send send;
    uint64_t failures;
} producer;

static weft_poll producer_poll(weft_future *f, weft_context *cx)
{
    producer *p = (producer *)f;
    WEFT_ASYNC_BEGIN(&p->co);
    for (p->i = 0; p->i < p->n; p->i++) {
        uint64_t v = p->tag << 32 | p->i;
        weft_mpsc_send_init(&p->send, &p->tx, &v);
        WEFT_AWAIT(&p->co, cx, &p->send);
        if (p->send.status != 0)
            p->failures++;
    }
    weft_mpsc_sender_drop(&p->tx);
    weft_task_return(cx, (intptr_t)p->failures);
    WEFT_ASYNC_END(&p->co);
}

static void producer_drop(weft_future *f)
{
    weft_async_drop(f);
    weft_mpsc_sender_drop(&((producer *)f)->tx);
}

static const weft_future_vtable producer_vt = {producer_poll, producer_drop, "producer"};

static producer make_producer(weft_mpsc_sender tx, uint64_t tag, uint64_t n)
{
    producer p = {.tx = tx, .tag = tag, .n = n};
    weft_async_init(&p.co, &producer_vt);
    return p;
}

/* Receives until CLOSED; counts, sums, and checks each producer's items arrive in order. */
#define MAX_TAGS 8

typedef struct consumer {
    weft_async co;
    weft_mpsc_receiver rx; /* moved in; dropped at the end */
    weft_mpsc_recv recv;
    uint64_t v, count, sum;
    uint64_t next[MAX_TAGS]; /* next expected sequence number per producer tag */
    bool in_order;
} consumer;

static weft_poll consumer_poll(weft_future *f, weft_context *cx)
{
    consumer *c = (consumer *)f;
    WEFT_ASYNC_BEGIN(&c->co);
    for (;;) {
        weft_mpsc_recv_init(&c->recv, &c->rx, &c->v);
        WEFT_AWAIT(&c->co, cx, &c->recv);
        if (c->recv.status != 0)
            break;
        c->count++;
        c->sum += c->v & 0xffffffffu;
        uint64_t tag = c->v >> 32;
        if (tag >= MAX_TAGS || (c->v & 0xffffffffu) != c->next[tag])
            c->in_order = false;
        else
            c->next[tag]++;
    }
    weft_mpsc_receiver_drop(&c->rx);
    WEFT_ASYNC_END(&c->co);
}

static void consumer_drop(weft_future *f)
{
    weft_async_drop(f);
    weft_mpsc_receiver_drop(&((consumer *)f)->rx);
}

static const weft_future_vtable consumer_vt = {consumer_poll, consumer_drop, "consumer"};

static consumer make_consumer(weft_mpsc_receiver rx)
{
    consumer c = {.rx = rx, .in_order = true};
    weft_async_init(&c.co, &consumer_vt);
    return c;
}

/* ---------------------------------------------------------------- many producers, one consumer
 *
 * Every item is delivered exactly once and each producer's items in order: count, sum and
 * per-producer sequence. A small capacity makes senders wait often. */
typedef struct mpsc_run {
    weft_async co;
    unsigned producers;
    uint64_t per, capacity;
    bool unbounded;
    weft_join_handle prod[MAX_TAGS];
    weft_join_handle cons;
    unsigned i;
    uint64_t failures;
    consumer *result; /* where the consumer's state is copied for the checks */
} mpsc_run;

/* The consumer reports its findings through its join value: a pointer to a heap copy. */
typedef struct consumer_report {
    weft_async co;
    consumer c;
} consumer_report;

static weft_poll report_poll(weft_future *f, weft_context *cx)
{
    consumer_report *r = (consumer_report *)f;
    if (consumer_poll(&r->c.co.base, cx) == WEFT_PENDING)
        return WEFT_PENDING;
    consumer *copy = malloc(sizeof *copy);
    assert_non_null(copy);
    *copy = r->c;
    weft_task_return(cx, (intptr_t)copy);
    return WEFT_READY;
}

static void report_drop(weft_future *f)
{
    consumer_drop(&((consumer_report *)f)->c.co.base);
}

static const weft_future_vtable report_vt = {report_poll, report_drop, "consumer_report"};

static weft_poll mpsc_run_poll(weft_future *f, weft_context *cx)
{
    mpsc_run *m = (mpsc_run *)f;
    WEFT_ASYNC_BEGIN(&m->co);
    {
        weft_mpsc_sender tx;
        weft_mpsc_receiver rx;
        if (m->unbounded)
            assert_int_equal(weft_mpsc_unbounded_channel(&tx, &rx, sizeof(uint64_t), "mp"), 0);
        else
            assert_int_equal(
                weft_mpsc_channel(&tx, &rx, m->capacity, sizeof(uint64_t), "mp"), 0);
        consumer_report r = {.c = make_consumer(rx)};
        weft_async_init(&r.co, &report_vt);
        m->cons = weft_spawn(&r);
        weft_mpsc_sender mine[MAX_TAGS];
        for (unsigned k = 0; k < m->producers; k++)
            assert_int_equal(weft_mpsc_sender_clone(&tx, &mine[k]), 0);
        assert_int_equal(weft_mpsc_sender_count(&tx), m->producers + 1);
        for (unsigned k = 0; k < m->producers; k++) {
            producer p = make_producer(mine[k], k, m->per);
            m->prod[k] = weft_spawn(&p);
        }
        weft_mpsc_sender_drop(&tx);
    }
    for (m->i = 0; m->i < m->producers; m->i++) {
        WEFT_AWAIT(&m->co, cx, &m->prod[m->i]);
        assert_int_equal(m->prod[m->i].status, 0);
        m->failures += (uint64_t)m->prod[m->i].value;
    }
    WEFT_AWAIT(&m->co, cx, &m->cons);
    assert_int_equal(m->cons.status, 0);
    m->result = (consumer *)m->cons.value;
    WEFT_ASYNC_END(&m->co);
}

static const weft_future_vtable mpsc_run_vt = {mpsc_run_poll, weft_async_drop, "mpsc_run"};

static void check_many_producers(weft_flavor flavor, unsigned producers, uint64_t per,
                                 uint64_t capacity, bool unbounded)
{
    mpsc_run m = {.producers = producers, .per = per, .capacity = capacity,
                  .unbounded = unbounded};
    weft_async_init(&m.co, &mpsc_run_vt);
    run_on(flavor, &m.co.base);
    assert_non_null(m.result);
    assert_int_equal(m.failures, 0);
    assert_int_equal(m.result->count, producers * per);
    assert_int_equal(m.result->sum, producers * (per * (per - 1) / 2));
    assert_true(m.result->in_order);
    for (unsigned k = 0; k < producers; k++)
        assert_int_equal(m.result->next[k], per);
    free(m.result);
}

static void test_mpsc_items_arrive_in_order_ct(void **state)
{
    (void)state;
    check_many_producers(WEFT_CURRENT_THREAD, 1, 1000, 4, false);
    check_many_producers(WEFT_CURRENT_THREAD, 3, 1000, 1, false);
    check_many_producers(WEFT_CURRENT_THREAD, 3, 1000, 0, true);
}

static void test_mpsc_items_arrive_in_order_mt(void **state)
{
    (void)state;
    check_many_producers(WEFT_MULTI_THREAD, 1, 1000, 4, false);
    check_many_producers(WEFT_MULTI_THREAD, 3, 1000, 0, true);
}

/* Stress: many producers, one consumer, on the multi-thread runtime. */
static void test_mpsc_stress_many_producers_exactly_once(void **state)
{
    (void)state;
    uint64_t per = SANITIZED ? 5000 : 100000;
    check_many_producers(WEFT_MULTI_THREAD, 6, per, 16, false);
    check_many_producers(WEFT_MULTI_THREAD, 4, per, 1, false);
    check_many_producers(WEFT_MULTI_THREAD, 4, per, 0, true);
}

/* ---------------------------------------------------------------- ping-pong
 *
 * Two bounded(1) channels, a round trip per item: every step hands the other task a wake-up,
 * so a single lost wake-up hangs the test (and meson's timeout fails it). */
typedef struct echo {
    weft_async co;
    weft_mpsc_receiver rx;
    weft_mpsc_sender tx;
    weft_mpsc_recv recv;
    weft_mpsc_send send;
    uint64_t v;
} echo;

static weft_poll echo_poll(weft_future *f, weft_context *cx)
{
    echo *e = (echo *)f;
    WEFT_ASYNC_BEGIN(&e->co);
    for (;;) {
        weft_mpsc_recv_init(&e->recv, &e->rx, &e->v);
        WEFT_AWAIT(&e->co, cx, &e->recv);
        if (e->recv.status != 0)
            break;
        weft_mpsc_send_init(&e->send, &e->tx, &e->v);
        WEFT_AWAIT(&e->co, cx, &e->send);
        if (e->send.status != 0)
            break;
    }
    weft_mpsc_receiver_drop(&e->rx);
    weft_mpsc_sender_drop(&e->tx);
    WEFT_ASYNC_END(&e->co);
}

static void echo_drop(weft_future *f)
{
    echo *e = (echo *)f;
    weft_async_drop(f);
    weft_mpsc_receiver_drop(&e->rx);
    weft_mpsc_sender_drop(&e->tx);
}

static const weft_future_vtable echo_vt = {echo_poll, echo_drop, "echo"};

typedef struct pinger {
    weft_async co;
    weft_mpsc_sender tx;
    weft_mpsc_receiver rx;
    weft_mpsc_send send;
    weft_mpsc_recv recv;
    uint64_t i, n, v, mismatches;
} pinger;

static weft_poll pinger_poll(weft_future *f, weft_context *cx)
{
    pinger *p = (pinger *)f;
    WEFT_ASYNC_BEGIN(&p->co);
    for (p->i = 0; p->i < p->n; p->i++) {
        weft_mpsc_send_init(&p->send, &p->tx, &p->i);
        WEFT_AWAIT(&p->co, cx, &p->send);
        weft_mpsc_recv_init(&p->recv, &p->rx, &p->v);
        WEFT_AWAIT(&p->co, cx, &p->recv);
        if (p->send.status != 0 || p->recv.status != 0 || p->v != p->i)
            p->mismatches++;
    }
    weft_mpsc_sender_drop(&p->tx);
    weft_mpsc_receiver_drop(&p->rx);
    weft_task_return(cx, (intptr_t)p->mismatches);
    WEFT_ASYNC_END(&p->co);
}

static void pinger_drop(weft_future *f)
{
    pinger *p = (pinger *)f;
    weft_async_drop(f);
    weft_mpsc_sender_drop(&p->tx);
    weft_mpsc_receiver_drop(&p->rx);
}

static const weft_future_vtable pinger_vt = {pinger_poll, pinger_drop, "pinger"};

typedef struct ping_pong {
    weft_async co;
    uint64_t n;
    weft_join_handle ping, pong;
} ping_pong;

static weft_poll ping_pong_poll(weft_future *f, weft_context *cx)
{
    ping_pong *pp = (ping_pong *)f;
    WEFT_ASYNC_BEGIN(&pp->co);
    {
        weft_mpsc_sender tx1, tx2;
        weft_mpsc_receiver rx1, rx2;
        assert_int_equal(weft_mpsc_channel(&tx1, &rx1, 1, sizeof(uint64_t), "ping"), 0);
        assert_int_equal(weft_mpsc_channel(&tx2, &rx2, 1, sizeof(uint64_t), "pong"), 0);
        echo e = {.rx = rx1, .tx = tx2};
        weft_async_init(&e.co, &echo_vt);
        pinger p = {.tx = tx1, .rx = rx2, .n = pp->n};
        weft_async_init(&p.co, &pinger_vt);
        pp->pong = weft_spawn(&e);
        pp->ping = weft_spawn(&p);
    }
    WEFT_AWAIT(&pp->co, cx, &pp->ping);
    assert_int_equal(pp->ping.status, 0);
    assert_int_equal(pp->ping.value, 0);
    WEFT_AWAIT(&pp->co, cx, &pp->pong);
    assert_int_equal(pp->pong.status, 0);
    WEFT_ASYNC_END(&pp->co);
}

static const weft_future_vtable ping_pong_vt = {ping_pong_poll, weft_async_drop, "ping_pong"};

static void check_ping_pong(weft_flavor flavor, uint64_t n)
{
    ping_pong pp = {.n = n};
    weft_async_init(&pp.co, &ping_pong_vt);
    run_on(flavor, &pp.co.base);
}

static void test_mpsc_ping_pong_ct(void **state)
{
    (void)state;
    check_ping_pong(WEFT_CURRENT_THREAD, SANITIZED ? 20000 : 200000);
}

/* Stress: 1,000,000 round trips across two workers with no lost wake-up. */
static void test_mpsc_stress_ping_pong_mt(void **state)
{
    (void)state;
    check_ping_pong(WEFT_MULTI_THREAD, SANITIZED ? 50000 : 1000000);
}

/* ---------------------------------------------------------------- synchronous operations */

static void test_mpsc_try_send_full_then_closed(void **state)
{
    (void)state;
    weft_mpsc_sender tx;
    weft_mpsc_receiver rx;
    assert_int_equal(weft_mpsc_channel(&tx, &rx, 2, sizeof(int), "try"), 0);
    int a = 1, b = 2, c = 3, out = 0;
    assert_int_equal(weft_mpsc_try_send(&tx, &a), 0);
    assert_int_equal(weft_mpsc_try_send(&tx, &b), 0);
    assert_int_equal(weft_mpsc_try_send(&tx, &c), WEFT_EFULL);
    assert_int_equal(weft_mpsc_sender_capacity(&tx), 0);
    assert_int_equal(weft_mpsc_receiver_len(&rx), 2);

    assert_int_equal(weft_mpsc_try_recv(&rx, &out), 0);
    assert_int_equal(out, 1);
    assert_int_equal(weft_mpsc_try_send(&tx, &c), 0); /* room again */

    weft_mpsc_receiver_close(&rx);
    assert_true(weft_mpsc_sender_is_closed(&tx));
    assert_int_equal(weft_mpsc_try_send(&tx, &a), WEFT_ECLOSED);
    /* What was buffered before the close is still delivered, in order. */
    assert_int_equal(weft_mpsc_try_recv(&rx, &out), 0);
    assert_int_equal(out, 2);
    assert_int_equal(weft_mpsc_try_recv(&rx, &out), 0);
    assert_int_equal(out, 3);
    assert_int_equal(weft_mpsc_try_recv(&rx, &out), WEFT_ECLOSED);
    weft_mpsc_sender_drop(&tx);
    weft_mpsc_receiver_drop(&rx);
}

static void test_mpsc_try_recv_empty_until_senders_gone(void **state)
{
    (void)state;
    weft_mpsc_sender tx, tx2;
    weft_mpsc_receiver rx;
    assert_int_equal(weft_mpsc_channel(&tx, &rx, 4, sizeof(int), NULL), 0);
    assert_int_equal(weft_mpsc_sender_clone(&tx, &tx2), 0);
    assert_true(weft_mpsc_sender_same_channel(&tx, &tx2));
    assert_int_equal(weft_mpsc_receiver_sender_count(&rx), 2);
    int v = 7, out = 0;
    assert_int_equal(weft_mpsc_try_recv(&rx, &out), WEFT_EEMPTY);
    assert_int_equal(weft_mpsc_try_send(&tx2, &v), 0);
    weft_mpsc_sender_drop(&tx);
    assert_int_equal(weft_mpsc_receiver_sender_count(&rx), 1);
    assert_false(weft_mpsc_receiver_is_closed(&rx));
    weft_mpsc_sender_drop(&tx2);
    weft_mpsc_sender_drop(&tx2); /* a second drop is harmless */
    assert_true(weft_mpsc_receiver_is_closed(&rx));
    /* Closed, but not drained: the item is still there. */
    assert_int_equal(weft_mpsc_try_recv(&rx, &out), 0);
    assert_int_equal(out, 7);
    assert_int_equal(weft_mpsc_try_recv(&rx, &out), WEFT_ECLOSED);
    weft_mpsc_receiver_drop(&rx);
}

static void test_mpsc_try_reserve_and_permit(void **state)
{
    (void)state;
    weft_mpsc_sender tx;
    weft_mpsc_receiver rx;
    assert_int_equal(weft_mpsc_channel(&tx, &rx, 2, sizeof(uint64_t), "permits"), 0);
    weft_mpsc_permit p1, p2, p3;
    assert_int_equal(weft_mpsc_try_reserve(&tx, &p1), 0);
    assert_int_equal(weft_mpsc_try_reserve(&tx, &p2), 0);
    /* Reserved room counts against the capacity though nothing is buffered yet. */
    assert_int_equal(weft_mpsc_try_reserve(&tx, &p3), WEFT_EFULL);
    assert_null(p3.chan);
    uint64_t x = 42, out = 0;
    assert_int_equal(weft_mpsc_try_send(&tx, &x), WEFT_EFULL);
    assert_int_equal(weft_mpsc_receiver_len(&rx), 0);

    weft_mpsc_permit_release(&p2);
    assert_int_equal(weft_mpsc_sender_capacity(&tx), 1);
    weft_mpsc_permit_release(&p2); /* used permits are ignored */

    /* A permit keeps the channel alive and still sends after the senders and a close. */
    weft_mpsc_sender_drop(&tx);
    weft_mpsc_receiver_close(&rx);
    assert_int_equal(weft_mpsc_try_recv(&rx, &out), WEFT_EEMPTY); /* a permit is pending */
    weft_mpsc_permit_send(&p1, &x);
    weft_mpsc_permit_send(&p1, &x); /* ignored: already used */
    assert_int_equal(weft_mpsc_try_recv(&rx, &out), 0);
    assert_int_equal(out, 42);
    assert_int_equal(weft_mpsc_try_recv(&rx, &out), WEFT_ECLOSED);
    weft_mpsc_receiver_drop(&rx);
}

static void test_mpsc_permit_outlives_every_handle(void **state)
{
    (void)state;
    weft_mpsc_sender tx;
    weft_mpsc_receiver rx;
    assert_int_equal(weft_mpsc_channel(&tx, &rx, 1, sizeof(int), NULL), 0);
    weft_mpsc_permit p;
    assert_int_equal(weft_mpsc_try_reserve(&tx, &p), 0);
    weft_mpsc_sender_drop(&tx);
    weft_mpsc_receiver_drop(&rx);
    int v = 1;
    weft_mpsc_permit_send(&p, &v); /* receiver gone: discarded, and the channel is freed */
    assert_null(p.chan);
}

static void test_mpsc_bad_input_is_refused(void **state)
{
    (void)state;
    weft_mpsc_sender tx, dead = {NULL};
    weft_mpsc_receiver rx, dead_rx = {NULL};
    assert_int_equal(weft_mpsc_channel(&tx, &rx, 0, 8, NULL), WEFT_EINVAL);
    assert_null(tx.chan);
    assert_null(rx.chan);
    assert_int_equal(weft_mpsc_channel(&tx, &rx, 4, WEFT_MPSC_ITEM_MAX + 1, NULL), WEFT_EINVAL);
    assert_int_equal(weft_mpsc_channel(NULL, &rx, 4, 8, NULL), WEFT_EINVAL);
    assert_int_equal(weft_mpsc_channel(&tx, &rx, SIZE_MAX / 2, 8, NULL), WEFT_EINVAL);
    assert_int_equal(weft_mpsc_unbounded_channel(&tx, NULL, 8, NULL), WEFT_EINVAL);

    int v = 0;
    assert_int_equal(weft_mpsc_try_send(&dead, &v), WEFT_EINVAL);
    assert_int_equal(weft_mpsc_try_send(NULL, &v), WEFT_EINVAL);
    assert_int_equal(weft_mpsc_try_recv(&dead_rx, &v), WEFT_EINVAL);
    weft_mpsc_sender clone;
    assert_int_equal(weft_mpsc_sender_clone(&dead, &clone), WEFT_EINVAL);
    weft_mpsc_permit p;
    assert_int_equal(weft_mpsc_try_reserve(&dead, &p), WEFT_EINVAL);
    assert_true(weft_mpsc_sender_is_closed(&dead));
    assert_int_equal(weft_mpsc_sender_count(&dead), 0);
    weft_mpsc_sender_drop(&dead);
    weft_mpsc_sender_drop(NULL);
    weft_mpsc_receiver_drop(&dead_rx);
    weft_mpsc_receiver_close(NULL);

    /* A future made from a dropped handle completes at once with EINVAL. */
    weft_mpsc_send s;
    weft_mpsc_send_init(&s, &dead, &v);
    weft_context cx = {&(weft_waker){0}, NULL};
    assert_int_equal(weft_future_poll(&s.base, &cx), WEFT_READY);
    assert_int_equal(s.status, WEFT_EINVAL);
    weft_mpsc_recv r;
    weft_mpsc_recv_init(&r, &dead_rx, &v);
    assert_int_equal(weft_future_poll(&r.base, &cx), WEFT_READY);
    assert_int_equal(r.status, WEFT_EINVAL);

    /* A NULL item on a channel of non-empty items. */
    assert_int_equal(weft_mpsc_channel(&tx, &rx, 1, sizeof(int), NULL), 0);
    assert_int_equal(weft_mpsc_try_send(&tx, NULL), WEFT_EINVAL);
    weft_mpsc_send_init(&s, &tx, NULL);
    assert_int_equal(weft_future_poll(&s.base, &cx), WEFT_READY);
    assert_int_equal(s.status, WEFT_EINVAL);
    weft_mpsc_sender_drop(&tx);
    weft_mpsc_receiver_drop(&rx);
}

static void test_mpsc_signals_of_size_zero(void **state)
{
    (void)state;
    weft_mpsc_sender tx;
    weft_mpsc_receiver rx;
    assert_int_equal(weft_mpsc_unbounded_channel(&tx, &rx, 0, "signals"), 0);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(weft_mpsc_unbounded_send(&tx, NULL), 0);
    assert_int_equal(weft_mpsc_receiver_len(&rx), 1000);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(weft_mpsc_try_recv(&rx, NULL), 0);
    assert_int_equal(weft_mpsc_try_recv(&rx, NULL), WEFT_EEMPTY);
    weft_mpsc_sender_drop(&tx);
    weft_mpsc_receiver_drop(&rx);
}

/* Growth must keep the order even when the ring has wrapped around. */
static void test_mpsc_unbounded_grows_in_order(void **state)
{
    (void)state;
    weft_mpsc_sender tx;
    weft_mpsc_receiver rx;
    assert_int_equal(weft_mpsc_unbounded_channel(&tx, &rx, sizeof(uint64_t), "grow"), 0);
    assert_int_equal(weft_mpsc_sender_max_capacity(&tx), SIZE_MAX);
    uint64_t next_in = 0, next_out = 0, out;
    for (int round = 0; round < 12; round++) {
        for (int k = 0; k < 50 + round * 37; k++) {
            assert_int_equal(weft_mpsc_unbounded_send(&tx, &next_in), 0);
            next_in++;
        }
        for (int k = 0; k < 40 + round * 20; k++) {
            assert_int_equal(weft_mpsc_try_recv(&rx, &out), 0);
            assert_int_equal(out, next_out);
            next_out++;
        }
    }
    while (weft_mpsc_try_recv(&rx, &out) == 0) {
        assert_int_equal(out, next_out);
        next_out++;
    }
    assert_int_equal(next_out, next_in);
    weft_mpsc_receiver_drop(&rx);
    assert_int_equal(weft_mpsc_unbounded_send(&tx, &out), WEFT_ECLOSED);
    weft_mpsc_sender_drop(&tx);

    /* Dropping the receiver with a grown ring full of items discards them at once. */
    assert_int_equal(weft_mpsc_unbounded_channel(&tx, &rx, sizeof(uint64_t), "drop"), 0);
    for (uint64_t i = 0; i < 100; i++)
        assert_int_equal(weft_mpsc_unbounded_send(&tx, &i), 0);
    weft_mpsc_receiver_drop(&rx);
    assert_true(weft_mpsc_sender_is_closed(&tx));
    assert_int_equal(weft_mpsc_unbounded_send(&tx, &out), WEFT_ECLOSED);
    weft_mpsc_permit p;
    assert_int_equal(weft_mpsc_try_reserve(&tx, &p), WEFT_ECLOSED);
    weft_mpsc_sender_drop(&tx);
}

/* More waiters than one wake batch (WEFT__WAKE_LIST_CAP): a receiver close must reach them
 * all, each exactly once, and keep no waker. */
#define MANY 100

static void test_mpsc_close_wakes_every_waiter(void **state)
{
    (void)state;
    weft_mpsc_sender tx;
    weft_mpsc_receiver rx;
    assert_int_equal(weft_mpsc_channel(&tx, &rx, 1, sizeof(int), "many"), 0);
    int v = 0;
    assert_int_equal(weft_mpsc_try_send(&tx, &v), 0);
    weft_mpsc_send *sends = calloc(MANY, sizeof *sends);
    weft_mpsc_closed *closed = calloc(MANY / 2, sizeof *closed);
    counting_waker *ws = calloc(MANY, sizeof *ws), *wc = calloc(MANY / 2, sizeof *wc);
    assert_true(sends && closed && ws && wc);
    for (int i = 0; i < MANY; i++) {
        v = i + 1;
        weft_mpsc_send_init(&sends[i], &tx, &v);
        assert_int_equal(poll_with(&sends[i].base, &ws[i]), WEFT_PENDING);
    }
    for (int i = 0; i < MANY / 2; i++) {
        weft_mpsc_closed_init(&closed[i], &tx);
        assert_int_equal(poll_with(&closed[i].base, &wc[i]), WEFT_PENDING);
    }
    weft_mpsc_receiver_close(&rx);
    for (int i = 0; i < MANY; i++) {
        assert_woken_once_nothing_leaked(&ws[i]);
        assert_int_equal(poll_with(&sends[i].base, &ws[i]), WEFT_READY);
        assert_int_equal(sends[i].status, WEFT_ECLOSED);
    }
    for (int i = 0; i < MANY / 2; i++) {
        assert_woken_once_nothing_leaked(&wc[i]);
        assert_int_equal(poll_with(&closed[i].base, &wc[i]), WEFT_READY);
    }
    int out;
    assert_int_equal(weft_mpsc_try_recv(&rx, &out), 0); /* the item sent before the close */
    assert_int_equal(out, 0);
    assert_int_equal(weft_mpsc_try_recv(&rx, &out), WEFT_ECLOSED);
    free(sends);
    free(closed);
    free(ws);
    free(wc);
    weft_mpsc_sender_drop(&tx);
    weft_mpsc_receiver_drop(&rx);
}

/* ---------------------------------------------------------------- waiting senders, by hand
 *
 * A root future that polls send futures itself, so the test sees each state exactly. */
typedef struct fifo_case {
    weft_async co;
    weft_mpsc_sender tx;
    weft_mpsc_receiver rx;
    weft_mpsc_send s[3];
    weft_yield_now y;
} fifo_case;

static weft_poll fifo_case_poll(weft_future *f, weft_context *cx)
{
    fifo_case *t = (fifo_case *)f;
    WEFT_ASYNC_BEGIN(&t->co);
    {
        assert_int_equal(weft_mpsc_channel(&t->tx, &t->rx, 1, sizeof(int), "fifo"), 0);
        int zero = 0;
        assert_int_equal(weft_mpsc_try_send(&t->tx, &zero), 0);
        for (int i = 0; i < 3; i++) {
            int v = i + 1;
            weft_mpsc_send_init(&t->s[i], &t->tx, &v);
            assert_int_equal(weft_future_poll(&t->s[i].base, cx), WEFT_PENDING);
        }
        /* A newcomer does not overtake the queue. */
        int late = 99, out = -1;
        assert_int_equal(weft_mpsc_try_send(&t->tx, &late), WEFT_EFULL);
        /* Each receive frees a slot that goes to the oldest waiter, even before it runs. */
        for (int i = 0; i < 3; i++) {
            assert_int_equal(weft_mpsc_try_recv(&t->rx, &out), 0);
            assert_int_equal(out, i);
            assert_int_equal(weft_mpsc_try_send(&t->tx, &late), WEFT_EFULL);
            for (int j = 2; j > i; j--) /* later waiters still wait */
                assert_int_equal(weft_future_poll(&t->s[j].base, cx), WEFT_PENDING);
            assert_int_equal(weft_future_poll(&t->s[i].base, cx), WEFT_READY);
            assert_int_equal(t->s[i].status, 0);
        }
        assert_int_equal(weft_mpsc_try_recv(&t->rx, &out), 0);
        assert_int_equal(out, 3);
        assert_int_equal(weft_mpsc_try_recv(&t->rx, &out), WEFT_EEMPTY);
        weft_mpsc_sender_drop(&t->tx);
        weft_mpsc_receiver_drop(&t->rx);
    }
    WEFT_ASYNC_END(&t->co);
}

static const weft_future_vtable fifo_case_vt = {fifo_case_poll, weft_async_drop, "fifo"};

static void test_mpsc_waiting_senders_are_served_in_order(void **state)
{
    (void)state;
    fifo_case t = {0};
    weft_async_init(&t.co, &fifo_case_vt);
    run_on(WEFT_CURRENT_THREAD, &t.co.base);
}

/* The same order with real tasks on the current-thread runtime: three sender tasks queue up
 * behind a full channel in spawn order, and the receiver sees their items in that order. */
typedef struct task_fifo_case {
    weft_async co;
    weft_mpsc_receiver rx;
    weft_join_handle h[3];
    weft_mpsc_recv recv;
    uint64_t v;
    int got[4], i;
    weft_yield_now y;
} task_fifo_case;

static weft_poll task_fifo_poll(weft_future *f, weft_context *cx)
{
    task_fifo_case *t = (task_fifo_case *)f;
    WEFT_ASYNC_BEGIN(&t->co);
    {
        weft_mpsc_sender tx;
        assert_int_equal(weft_mpsc_channel(&tx, &t->rx, 1, sizeof(uint64_t), "fifo"), 0);
        uint64_t zero = 0; /* tag 0: fills the channel */
        assert_int_equal(weft_mpsc_try_send(&tx, &zero), 0);
        for (int i = 0; i < 3; i++) {
            weft_mpsc_sender mine;
            assert_int_equal(weft_mpsc_sender_clone(&tx, &mine), 0);
            producer p = make_producer(mine, (uint64_t)i + 1, 1); /* one item, tagged i + 1 */
            t->h[i] = weft_spawn(&p);
        }
        weft_mpsc_sender_drop(&tx);
    }
    /* Let all three run (in spawn order) and queue up behind the full channel. */
    weft_yield_now_init(&t->y);
    WEFT_AWAIT(&t->co, cx, &t->y);
    for (t->i = 0; t->i < 4; t->i++) {
        weft_mpsc_recv_init(&t->recv, &t->rx, &t->v);
        WEFT_AWAIT(&t->co, cx, &t->recv);
        assert_int_equal(t->recv.status, 0);
        t->got[t->i] = (int)(t->v >> 32);
    }
    for (t->i = 0; t->i < 3; t->i++)
        WEFT_AWAIT(&t->co, cx, &t->h[t->i]);
    weft_mpsc_receiver_drop(&t->rx);
    WEFT_ASYNC_END(&t->co);
}

static const weft_future_vtable task_fifo_vt = {task_fifo_poll, weft_async_drop, "task_fifo"};

static void test_mpsc_waiting_sender_tasks_are_served_in_order_ct(void **state)
{
    (void)state;
    task_fifo_case t = {0};
    weft_async_init(&t.co, &task_fifo_vt);
    run_on(WEFT_CURRENT_THREAD, &t.co.base);
    assert_int_equal(t.got[0], 0);
    assert_int_equal(t.got[1], 1);
    assert_int_equal(t.got[2], 2);
    assert_int_equal(t.got[3], 3);
}

/* A dropped send is not sent and gives up its place; if it had been granted room, the room
 * passes to the next waiter. */
typedef struct cancel_case {
    weft_async co;
    weft_mpsc_sender tx;
    weft_mpsc_receiver rx;
    weft_mpsc_send a, b, c;
    weft_mpsc_reserve r;
} cancel_case;

static weft_poll cancel_case_poll(weft_future *f, weft_context *cx)
{
    cancel_case *t = (cancel_case *)f;
    WEFT_ASYNC_BEGIN(&t->co);
    {
        assert_int_equal(weft_mpsc_channel(&t->tx, &t->rx, 1, sizeof(int), "cancel"), 0);
        int v0 = 0, va = 1, vb = 2, vc = 3, out = -1;
        assert_int_equal(weft_mpsc_try_send(&t->tx, &v0), 0);
        weft_mpsc_send_init(&t->a, &t->tx, &va);
        weft_mpsc_send_init(&t->b, &t->tx, &vb);
        weft_mpsc_send_init(&t->c, &t->tx, &vc);
        assert_int_equal(weft_future_poll(&t->a.base, cx), WEFT_PENDING);
        assert_int_equal(weft_future_poll(&t->b.base, cx), WEFT_PENDING);
        assert_int_equal(weft_future_poll(&t->c.base, cx), WEFT_PENDING);

        /* a is dropped while queued: its item is never sent. */
        weft_future_drop(&t->a.base);
        assert_int_equal(weft_mpsc_try_recv(&t->rx, &out), 0);
        assert_int_equal(out, 0);
        /* The room went to b (granted); b is dropped before it ran: the room passes to c. */
        weft_future_drop(&t->b.base);
        assert_int_equal(weft_future_poll(&t->c.base, cx), WEFT_READY);
        assert_int_equal(t->c.status, 0);
        assert_int_equal(weft_mpsc_try_recv(&t->rx, &out), 0);
        assert_int_equal(out, 3);
        assert_int_equal(weft_mpsc_try_recv(&t->rx, &out), WEFT_EEMPTY);

        /* A dropped reserve that had been granted room gives it back. */
        assert_int_equal(weft_mpsc_try_send(&t->tx, &v0), 0);
        weft_mpsc_reserve_init(&t->r, &t->tx);
        assert_int_equal(weft_future_poll(&t->r.base, cx), WEFT_PENDING);
        assert_int_equal(weft_mpsc_try_recv(&t->rx, &out), 0);
        assert_int_equal(weft_mpsc_sender_capacity(&t->tx), 0); /* granted to r */
        weft_future_drop(&t->r.base);
        assert_int_equal(weft_mpsc_sender_capacity(&t->tx), 1);
        weft_future_drop(&t->r.base); /* dropping twice is harmless */

        weft_mpsc_sender_drop(&t->tx);
        weft_mpsc_receiver_drop(&t->rx);
    }
    WEFT_ASYNC_END(&t->co);
}

static const weft_future_vtable cancel_case_vt = {cancel_case_poll, weft_async_drop, "cancel"};

static void test_mpsc_dropped_send_is_not_sent(void **state)
{
    (void)state;
    cancel_case t = {0};
    weft_async_init(&t.co, &cancel_case_vt);
    run_on(WEFT_CURRENT_THREAD, &t.co.base);
}

/* reserve waits for room, then the permit fills it. */
typedef struct reserve_case {
    weft_async co;
    weft_mpsc_sender tx;
    weft_mpsc_receiver rx;
    weft_mpsc_reserve r;
    weft_mpsc_recv recv;
    uint64_t out;
} reserve_case;

static weft_poll reserve_case_poll(weft_future *f, weft_context *cx)
{
    reserve_case *t = (reserve_case *)f;
    WEFT_ASYNC_BEGIN(&t->co);
    assert_int_equal(weft_mpsc_channel(&t->tx, &t->rx, 1, sizeof(uint64_t), "reserve"), 0);
    weft_mpsc_reserve_init(&t->r, &t->tx);
    WEFT_AWAIT(&t->co, cx, &t->r); /* room: at once */
    assert_int_equal(t->r.status, 0);
    {
        weft_mpsc_permit p = t->r.permit; /* take it out of the future */
        weft_mpsc_reserve_init(&t->r, &t->tx);
        assert_int_equal(weft_future_poll(&t->r.base, cx), WEFT_PENDING); /* full */
        uint64_t v = 5;
        weft_mpsc_permit_send(&p, &v);
    }
    weft_mpsc_recv_init(&t->recv, &t->rx, &t->out);
    WEFT_AWAIT(&t->co, cx, &t->recv);
    assert_int_equal(t->out, 5);
    WEFT_AWAIT(&t->co, cx, &t->r); /* granted by the receive */
    assert_int_equal(t->r.status, 0);
    {
        weft_mpsc_permit p = t->r.permit;
        uint64_t v = 6;
        weft_mpsc_permit_send(&p, &v);
    }
    weft_mpsc_recv_init(&t->recv, &t->rx, &t->out);
    WEFT_AWAIT(&t->co, cx, &t->recv);
    assert_int_equal(t->out, 6);
    weft_mpsc_sender_drop(&t->tx);
    weft_mpsc_receiver_drop(&t->rx);
    WEFT_ASYNC_END(&t->co);
}

static const weft_future_vtable reserve_case_vt = {reserve_case_poll, weft_async_drop,
                                                   "reserve"};

static void test_mpsc_reserve_waits_then_permit_sends(void **state)
{
    (void)state;
    reserve_case t = {0};
    weft_async_init(&t.co, &reserve_case_vt);
    run_on(WEFT_CURRENT_THREAD, &t.co.base);
    weft_async_init(&t.co, &reserve_case_vt);
    run_on(WEFT_MULTI_THREAD, &t.co.base);
}

/* ---------------------------------------------------------------- closing
 *
 * A receiver task drains the channel and waits; the root then drops every sender: the
 * receiver must wake with CLOSED. */
typedef struct drain_case {
    weft_async co;
    weft_mpsc_sender tx, tx2;
    weft_join_handle cons;
    weft_yield_now y;
    int spins;
} drain_case;

static weft_poll drain_case_poll(weft_future *f, weft_context *cx)
{
    drain_case *t = (drain_case *)f;
    WEFT_ASYNC_BEGIN(&t->co);
    {
        weft_mpsc_receiver rx;
        assert_int_equal(weft_mpsc_channel(&t->tx, &rx, 8, sizeof(uint64_t), "drain"), 0);
        assert_int_equal(weft_mpsc_sender_clone(&t->tx, &t->tx2), 0);
        for (uint64_t i = 0; i < 3; i++)
            assert_int_equal(weft_mpsc_try_send(&t->tx, &i), 0);
        consumer_report r = {.c = make_consumer(rx)};
        weft_async_init(&r.co, &report_vt);
        t->cons = weft_spawn(&r);
    }
    /* Wait until the consumer has drained the buffer (it is then pending in recv). */
    while (weft_mpsc_sender_capacity(&t->tx) != 8 && t->spins < 1000000) {
        t->spins++;
        weft_yield_now_init(&t->y);
        WEFT_AWAIT(&t->co, cx, &t->y);
    }
    weft_yield_now_init(&t->y);
    WEFT_AWAIT(&t->co, cx, &t->y);
    weft_mpsc_sender_drop(&t->tx);
    weft_yield_now_init(&t->y);
    WEFT_AWAIT(&t->co, cx, &t->y);
    assert_false(weft_join_handle_is_finished(&t->cons)); /* one sender is left */
    weft_mpsc_sender_drop(&t->tx2);
    WEFT_AWAIT(&t->co, cx, &t->cons);
    WEFT_ASYNC_END(&t->co);
}

static const weft_future_vtable drain_case_vt = {drain_case_poll, weft_async_drop, "drain"};

static void check_last_sender_drop_wakes_receiver(weft_flavor flavor)
{
    drain_case t = {0};
    weft_async_init(&t.co, &drain_case_vt);
    run_on(flavor, &t.co.base);
    assert_int_equal(t.cons.status, 0);
    consumer *c = (consumer *)t.cons.value;
    assert_int_equal(c->count, 3);
    assert_int_equal(c->sum, 3);
    free(c);
}

static void test_mpsc_last_sender_drop_wakes_receiver_ct(void **state)
{
    (void)state;
    check_last_sender_drop_wakes_receiver(WEFT_CURRENT_THREAD);
}

static void test_mpsc_last_sender_drop_wakes_receiver_mt(void **state)
{
    (void)state;
    check_last_sender_drop_wakes_receiver(WEFT_MULTI_THREAD);
}

/* Receiver close: waiting senders fail with CLOSED (their item given back), closed() fires,
 * what was buffered is still received, then recv says CLOSED. */
typedef struct close_case {
    weft_async co;
    weft_mpsc_sender tx;
    weft_mpsc_receiver rx;
    weft_mpsc_send s;
    weft_mpsc_closed closed;
    weft_mpsc_recv recv;
    int out;
} close_case;

static weft_poll close_case_poll(weft_future *f, weft_context *cx)
{
    close_case *t = (close_case *)f;
    WEFT_ASYNC_BEGIN(&t->co);
    assert_int_equal(weft_mpsc_channel(&t->tx, &t->rx, 1, sizeof(int), "close"), 0);
    {
        int one = 1, two = 2;
        assert_int_equal(weft_mpsc_try_send(&t->tx, &one), 0);
        weft_mpsc_send_init(&t->s, &t->tx, &two);
        assert_int_equal(weft_future_poll(&t->s.base, cx), WEFT_PENDING);
        weft_mpsc_closed_init(&t->closed, &t->tx);
        assert_int_equal(weft_future_poll(&t->closed.base, cx), WEFT_PENDING);
        weft_mpsc_receiver_close(&t->rx);
        weft_mpsc_receiver_close(&t->rx); /* idempotent */
    }
    WEFT_AWAIT(&t->co, cx, &t->s);
    assert_int_equal(t->s.status, WEFT_ECLOSED);
    assert_int_equal(*(int *)t->s.item, 2); /* the item is handed back */
    WEFT_AWAIT(&t->co, cx, &t->closed);
    assert_int_equal(t->closed.status, 0);
    weft_mpsc_recv_init(&t->recv, &t->rx, &t->out);
    WEFT_AWAIT(&t->co, cx, &t->recv);
    assert_int_equal(t->recv.status, 0);
    assert_int_equal(t->out, 1);
    weft_mpsc_recv_init(&t->recv, &t->rx, &t->out);
    WEFT_AWAIT(&t->co, cx, &t->recv);
    assert_int_equal(t->recv.status, WEFT_ECLOSED); /* a sender is alive, but it is closed */
    /* A new send fails at once. */
    {
        int three = 3;
        weft_mpsc_send_init(&t->s, &t->tx, &three);
    }
    WEFT_AWAIT(&t->co, cx, &t->s);
    assert_int_equal(t->s.status, WEFT_ECLOSED);
    weft_mpsc_sender_drop(&t->tx);
    weft_mpsc_receiver_drop(&t->rx);
    WEFT_ASYNC_END(&t->co);
}

static const weft_future_vtable close_case_vt = {close_case_poll, weft_async_drop, "close"};

static void test_mpsc_receiver_close(void **state)
{
    (void)state;
    close_case t = {0};
    weft_async_init(&t.co, &close_case_vt);
    run_on(WEFT_CURRENT_THREAD, &t.co.base);
    weft_async_init(&t.co, &close_case_vt);
    run_on(WEFT_MULTI_THREAD, &t.co.base);
}

/* closed() of a sender task completes when the receiver is dropped elsewhere. */
typedef struct closed_waiter {
    weft_async co;
    weft_mpsc_sender tx;
    weft_mpsc_closed closed;
} closed_waiter;

static weft_poll closed_waiter_poll(weft_future *f, weft_context *cx)
{
    closed_waiter *w = (closed_waiter *)f;
    WEFT_ASYNC_BEGIN(&w->co);
    weft_mpsc_closed_init(&w->closed, &w->tx);
    WEFT_AWAIT(&w->co, cx, &w->closed);
    weft_task_return(cx, weft_mpsc_sender_is_closed(&w->tx) ? 1 : 0);
    weft_mpsc_sender_drop(&w->tx);
    WEFT_ASYNC_END(&w->co);
}

static void closed_waiter_drop(weft_future *f)
{
    weft_async_drop(f);
    weft_mpsc_sender_drop(&((closed_waiter *)f)->tx);
}

static const weft_future_vtable closed_waiter_vt = {closed_waiter_poll, closed_waiter_drop,
                                                    "closed_waiter"};

typedef struct closed_case {
    weft_async co;
    weft_mpsc_receiver rx;
    weft_join_handle h;
    weft_yield_now y;
} closed_case;

static weft_poll closed_case_poll(weft_future *f, weft_context *cx)
{
    closed_case *t = (closed_case *)f;
    WEFT_ASYNC_BEGIN(&t->co);
    {
        weft_mpsc_sender tx;
        assert_int_equal(weft_mpsc_channel(&tx, &t->rx, 2, sizeof(int), "closed"), 0);
        closed_waiter w = {.tx = tx};
        weft_async_init(&w.co, &closed_waiter_vt);
        t->h = weft_spawn(&w);
    }
    weft_yield_now_init(&t->y);
    WEFT_AWAIT(&t->co, cx, &t->y);
    weft_mpsc_receiver_drop(&t->rx);
    WEFT_AWAIT(&t->co, cx, &t->h);
    assert_int_equal(t->h.status, 0);
    assert_int_equal(t->h.value, 1);
    WEFT_ASYNC_END(&t->co);
}

static const weft_future_vtable closed_case_vt = {closed_case_poll, weft_async_drop, "closed"};

static void test_mpsc_closed_completes_when_receiver_dropped(void **state)
{
    (void)state;
    closed_case t = {0};
    weft_async_init(&t.co, &closed_case_vt);
    run_on(WEFT_CURRENT_THREAD, &t.co.base);
    weft_async_init(&t.co, &closed_case_vt);
    run_on(WEFT_MULTI_THREAD, &t.co.base);
}

/* A dropped recv loses nothing: the next recv gets the item. And a ready recv spends one
 * unit of the task's cooperative budget. */
typedef struct recv_cancel_case {
    weft_async co;
    weft_mpsc_sender tx;
    weft_mpsc_receiver rx;
    weft_mpsc_recv recv;
    int out;
    int budget_before, budget_after;
} recv_cancel_case;

static weft_poll recv_cancel_poll(weft_future *f, weft_context *cx)
{
    recv_cancel_case *t = (recv_cancel_case *)f;
    WEFT_ASYNC_BEGIN(&t->co);
    assert_int_equal(weft_mpsc_channel(&t->tx, &t->rx, 4, sizeof(int), "recv_cancel"), 0);
    weft_mpsc_recv_init(&t->recv, &t->rx, &t->out);
    assert_int_equal(weft_future_poll(&t->recv.base, cx), WEFT_PENDING);
    weft_future_drop(&t->recv.base);
    {
        int v = 11;
        assert_int_equal(weft_mpsc_try_send(&t->tx, &v), 0);
    }
    t->budget_before = weft_coop_remaining();
    weft_mpsc_recv_init(&t->recv, &t->rx, &t->out);
    WEFT_AWAIT(&t->co, cx, &t->recv);
    t->budget_after = weft_coop_remaining();
    assert_int_equal(t->recv.status, 0);
    assert_int_equal(t->out, 11);
    weft_mpsc_sender_drop(&t->tx);
    weft_mpsc_receiver_drop(&t->rx);
    WEFT_ASYNC_END(&t->co);
}

typedef struct spawn_and_join {
    weft_async co;
    weft_future *inner;
    size_t size;
    weft_join_handle h;
} spawn_and_join;

static weft_poll spawn_and_join_poll(weft_future *f, weft_context *cx)
{
    spawn_and_join *s = (spawn_and_join *)f;
    WEFT_ASYNC_BEGIN(&s->co);
    s->h = weft__spawn(NULL, s->inner, s->size, NULL, WEFT_HERE);
    WEFT_AWAIT(&s->co, cx, &s->h);
    assert_int_equal(s->h.status, 0);
    WEFT_ASYNC_END(&s->co);
}

static const weft_future_vtable spawn_and_join_vt = {spawn_and_join_poll, weft_async_drop,
                                                     "spawn_and_join"};

static recv_cancel_case *recv_cancel_result;

static weft_poll recv_cancel_report_poll(weft_future *f, weft_context *cx)
{
    weft_poll r = recv_cancel_poll(f, cx);
    if (r == WEFT_READY)
        *recv_cancel_result = *(recv_cancel_case *)f;
    return r;
}

static const weft_future_vtable recv_cancel_report_vt = {recv_cancel_report_poll,
                                                         weft_async_drop, "recv_cancel"};

static void test_mpsc_dropped_recv_loses_nothing(void **state)
{
    (void)state;
    recv_cancel_case result = {0};
    recv_cancel_result = &result;
    recv_cancel_case t = {0};
    weft_async_init(&t.co, &recv_cancel_report_vt);
    spawn_and_join s = {.inner = &t.co.base, .size = sizeof t};
    weft_async_init(&s.co, &spawn_and_join_vt);
    run_on(WEFT_CURRENT_THREAD, &s.co.base);
    /* Inside a task the ready recv spent one unit of the budget. */
    assert_int_equal(result.budget_before - result.budget_after, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mpsc_try_send_full_then_closed),
        cmocka_unit_test(test_mpsc_try_recv_empty_until_senders_gone),
        cmocka_unit_test(test_mpsc_try_reserve_and_permit),
        cmocka_unit_test(test_mpsc_permit_outlives_every_handle),
        cmocka_unit_test(test_mpsc_bad_input_is_refused),
        cmocka_unit_test(test_mpsc_signals_of_size_zero),
        cmocka_unit_test(test_mpsc_unbounded_grows_in_order),
        cmocka_unit_test(test_mpsc_close_wakes_every_waiter),
        cmocka_unit_test(test_mpsc_waiting_senders_are_served_in_order),
        cmocka_unit_test(test_mpsc_waiting_sender_tasks_are_served_in_order_ct),
        cmocka_unit_test(test_mpsc_dropped_send_is_not_sent),
        cmocka_unit_test(test_mpsc_reserve_waits_then_permit_sends),
        cmocka_unit_test(test_mpsc_last_sender_drop_wakes_receiver_ct),
        cmocka_unit_test(test_mpsc_last_sender_drop_wakes_receiver_mt),
        cmocka_unit_test(test_mpsc_receiver_close),
        cmocka_unit_test(test_mpsc_closed_completes_when_receiver_dropped),
        cmocka_unit_test(test_mpsc_dropped_recv_loses_nothing),
        cmocka_unit_test(test_mpsc_items_arrive_in_order_ct),
        cmocka_unit_test(test_mpsc_items_arrive_in_order_mt),
        cmocka_unit_test(test_mpsc_ping_pong_ct),
        cmocka_unit_test(test_mpsc_stress_many_producers_exactly_once),
        cmocka_unit_test(test_mpsc_stress_ping_pong_mt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
