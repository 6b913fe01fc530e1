/* bench/bench_channel.c - ping_pong, mpsc_1p1c and mpsc_4p1c: bounded mpsc channels.
 *
 * Same work as the anchor's (c) and (d):
 *
 *   ping_pong   two channels of capacity 1; an echo task sends back every number it receives
 *               and a pinger sends 0..100 000 one at a time, waiting for each echo. The
 *               pinger times itself; the figure is ns per round trip. Each round trip is two
 *               sends, two receives and (at least) two task wake-ups.
 *   mpsc_NpNc   one channel of capacity 1024, N producers (1 or 4) sending 1 000 000 numbers
 *               in all (0..per-1 each), one consumer counting and summing them until every
 *               sender is gone. Timed from before the consumer is spawned until it has been
 *               joined, the result checked; the figure is messages per second.
 *
 * Items are uint64_t, copied into the channel (weft's mpsc carries fixed-size items).
 */
#include <stdio.h>
#include <stdlib.h>
#include <weft/mpsc.h>

#include "bench.h"

/* ---------------------------------------------------------------- ping_pong */
#define PING_N 100000

typedef struct echo_task {
    weft_async co;
    weft_mpsc_receiver rx; /* moved in at spawn */
    weft_mpsc_sender tx;
    uint64_t v;
    weft_mpsc_recv recv;
    weft_mpsc_send send;
} echo_task;

static weft_poll echo_poll(weft_future *f, weft_context *cx)
{
    echo_task *e = (echo_task *)f;
    WEFT_ASYNC_BEGIN(&e->co);
    for (;;) {
        weft_mpsc_recv_init(&e->recv, &e->rx, &e->v);
        WEFT_AWAIT(&e->co, cx, &e->recv);
        if (e->recv.status)
            break; /* WEFT_ECLOSED: the pinger is done (Tokio's None) */
        weft_mpsc_send_init(&e->send, &e->tx, &e->v);
        WEFT_AWAIT(&e->co, cx, &e->send);
        if (e->send.status)
            break;
    }
    weft_mpsc_receiver_drop(&e->rx);
    weft_mpsc_sender_drop(&e->tx);
    WEFT_ASYNC_END(&e->co);
}

static void echo_drop(weft_future *f)
{
    echo_task *e = (echo_task *)f;
    weft_async_drop(f);
    weft_mpsc_receiver_drop(&e->rx);
    weft_mpsc_sender_drop(&e->tx);
}

static const weft_future_vtable echo_vt = {echo_poll, echo_drop, "echo"};

typedef struct pinger_task {
    weft_async co;
    weft_mpsc_sender tx; /* moved in at spawn */
    weft_mpsc_receiver rx;
    uint64_t start;
    uint64_t i, r;
    weft_mpsc_send send;
    weft_mpsc_recv recv;
} pinger_task;

static weft_poll pinger_poll(weft_future *f, weft_context *cx)
{
    pinger_task *p = (pinger_task *)f;
    WEFT_ASYNC_BEGIN(&p->co);
    p->start = bench_now();
    for (p->i = 0; p->i < PING_N; p->i++) {
        weft_mpsc_send_init(&p->send, &p->tx, &p->i);
        WEFT_AWAIT(&p->co, cx, &p->send);
        if (p->send.status)
            bench_die("ping_pong: send", p->send.status);
        weft_mpsc_recv_init(&p->recv, &p->rx, &p->r);
        WEFT_AWAIT(&p->co, cx, &p->recv);
        if (p->recv.status)
            bench_die("ping_pong: recv", p->recv.status);
    }
    weft_task_return(cx, (intptr_t)(bench_now() - p->start));
    weft_mpsc_sender_drop(&p->tx); /* lets the echo task see the end */
    weft_mpsc_receiver_drop(&p->rx);
    WEFT_ASYNC_END(&p->co);
}

static void pinger_drop(weft_future *f)
{
    pinger_task *p = (pinger_task *)f;
    weft_async_drop(f);
    weft_mpsc_sender_drop(&p->tx);
    weft_mpsc_receiver_drop(&p->rx);
}

static const weft_future_vtable pinger_vt = {pinger_poll, pinger_drop, "pinger"};

typedef struct ping_body {
    weft_async co;
    weft_join_handle echo, pinger;
} ping_body;

static weft_poll ping_body_poll(weft_future *f, weft_context *cx)
{
    ping_body *b = (ping_body *)f;
    WEFT_ASYNC_BEGIN(&b->co);
    {
        echo_task e = {0};
        pinger_task p = {0};
        int err = weft_mpsc_channel(&p.tx, &e.rx, 1, sizeof(uint64_t), "ping");
        if (!err)
            err = weft_mpsc_channel(&e.tx, &p.rx, 1, sizeof(uint64_t), "pong");
        if (err)
            bench_die("ping_pong: channel", err);
        weft_async_init(&e.co, &echo_vt);
        weft_async_init(&p.co, &pinger_vt);
        b->echo = weft_spawn(&e); /* the handles move into the tasks */
        b->pinger = weft_spawn(&p);
    }
    WEFT_AWAIT(&b->co, cx, &b->pinger);
    if (b->pinger.status)
        bench_die("ping_pong: pinger", b->pinger.status);
    WEFT_AWAIT(&b->co, cx, &b->echo);
    if (b->echo.status)
        bench_die("ping_pong: echo", b->echo.status);
    weft_task_return(cx, b->pinger.value);
    WEFT_ASYNC_END(&b->co);
}

static const weft_future_vtable ping_body_vt = {ping_body_poll, weft_async_drop, "ping_pong"};

static double ping_pong_sample(const bench_env *env)
{
    ping_body b = {0};
    weft_async_init(&b.co, &ping_body_vt);
    return (double)bench_inside(env, &b.co.base, sizeof b) / PING_N;
}

void bench_ping_pong(const bench_env *env)
{
    double s[BENCH_REPS];
    bench_repeat(env, ping_pong_sample, s);
    bench_emit("ping_pong", env, "ns/roundtrip", s);
}

/* ---------------------------------------------------------------- mpsc throughput */
#define MPSC_TOTAL 1000000
#define MPSC_MAX_PRODUCERS 4

typedef struct consumer_task {
    weft_async co;
    weft_mpsc_receiver rx; /* moved in at spawn */
    uint64_t v, n, sum;
    uint64_t *out_n, *out_sum; /* in the body's state, which outlives this task */
    weft_mpsc_recv recv;
} consumer_task;

static weft_poll consumer_poll(weft_future *f, weft_context *cx)
{
    consumer_task *c = (consumer_task *)f;
    WEFT_ASYNC_BEGIN(&c->co);
    for (;;) {
        weft_mpsc_recv_init(&c->recv, &c->rx, &c->v);
        WEFT_AWAIT(&c->co, cx, &c->recv);
        if (c->recv.status)
            break; /* every sender is gone and everything was received */
        c->n++;
        c->sum += c->v;
    }
    *c->out_n = c->n;
    *c->out_sum = c->sum;
    weft_mpsc_receiver_drop(&c->rx);
    WEFT_ASYNC_END(&c->co);
}

static void consumer_drop(weft_future *f)
{
    weft_async_drop(f);
    weft_mpsc_receiver_drop(&((consumer_task *)f)->rx);
}

static const weft_future_vtable consumer_vt = {consumer_poll, consumer_drop, "consumer"};

typedef struct producer_task {
    weft_async co;
    weft_mpsc_sender tx; /* a clone, moved in at spawn */
    uint64_t i, per;
    weft_mpsc_send send;
} producer_task;

static weft_poll producer_poll(weft_future *f, weft_context *cx)
{
    producer_task *p = (producer_task *)f;
    WEFT_ASYNC_BEGIN(&p->co);
    for (p->i = 0; p->i < p->per; p->i++) {
        weft_mpsc_send_init(&p->send, &p->tx, &p->i);
        WEFT_AWAIT(&p->co, cx, &p->send);
        if (p->send.status)
            bench_die("mpsc: send", p->send.status);
    }
    weft_mpsc_sender_drop(&p->tx);
    WEFT_ASYNC_END(&p->co);
}

static void producer_drop(weft_future *f)
{
    weft_async_drop(f);
    weft_mpsc_sender_drop(&((producer_task *)f)->tx);
}

static const weft_future_vtable producer_vt = {producer_poll, producer_drop, "producer"};

typedef struct mpsc_body {
    weft_async co;
    uint64_t producers, per;
    uint64_t start, n, sum;
    uint64_t k;
    weft_join_handle cons;
    weft_join_handle ps[MPSC_MAX_PRODUCERS];
} mpsc_body;

static weft_poll mpsc_body_poll(weft_future *f, weft_context *cx)
{
    mpsc_body *b = (mpsc_body *)f;
    WEFT_ASYNC_BEGIN(&b->co);
    {
        weft_mpsc_sender tx;
        consumer_task c = {.out_n = &b->n, .out_sum = &b->sum};
        int err = weft_mpsc_channel(&tx, &c.rx, 1024, sizeof(uint64_t), "mpsc");
        if (err)
            bench_die("mpsc: channel", err);
        weft_async_init(&c.co, &consumer_vt);
        b->per = MPSC_TOTAL / b->producers;
        b->start = bench_now();
        b->cons = weft_spawn(&c);
        for (b->k = 0; b->k < b->producers; b->k++) {
            producer_task p = {.per = b->per};
            if ((err = weft_mpsc_sender_clone(&tx, &p.tx)))
                bench_die("mpsc: clone", err);
            weft_async_init(&p.co, &producer_vt);
            b->ps[b->k] = weft_spawn(&p);
        }
        weft_mpsc_sender_drop(&tx); /* Tokio's drop(tx) */
    }
    for (b->k = 0; b->k < b->producers; b->k++) {
        WEFT_AWAIT(&b->co, cx, &b->ps[b->k]);
        if (b->ps[b->k].status)
            bench_die("mpsc: producer", b->ps[b->k].status);
    }
    WEFT_AWAIT(&b->co, cx, &b->cons);
    if (b->cons.status)
        bench_die("mpsc: consumer", b->cons.status);
    {
        uint64_t d = bench_now() - b->start;
        if (b->n != b->per * b->producers ||
            b->sum != b->producers * (b->per * (b->per - 1) / 2)) {
            fprintf(stderr, "weft-bench: mpsc: received %llu items summing to %llu\n",
                    (unsigned long long)b->n, (unsigned long long)b->sum);
            exit(1);
        }
        weft_task_return(cx, (intptr_t)d);
    }
    WEFT_ASYNC_END(&b->co);
}

static const weft_future_vtable mpsc_body_vt = {mpsc_body_poll, weft_async_drop, "mpsc"};

static double mpsc_sample(const bench_env *env, uint64_t producers)
{
    mpsc_body b = {.producers = producers};
    weft_async_init(&b.co, &mpsc_body_vt);
    double ns = (double)bench_inside(env, &b.co.base, sizeof b);
    return MPSC_TOTAL / (ns / 1e9);
}

static double mpsc_1p1c_sample(const bench_env *env)
{
    return mpsc_sample(env, 1);
}

static double mpsc_4p1c_sample(const bench_env *env)
{
    return mpsc_sample(env, 4);
}

void bench_mpsc_1p1c(const bench_env *env)
{
    double s[BENCH_REPS];
    bench_repeat(env, mpsc_1p1c_sample, s);
    bench_emit("mpsc_1p1c", env, "msgs/s", s);
}

void bench_mpsc_4p1c(const bench_env *env)
{
    double s[BENCH_REPS];
    bench_repeat(env, mpsc_4p1c_sample, s);
    bench_emit("mpsc_4p1c", env, "msgs/s", s);
}
