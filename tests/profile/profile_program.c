/* tests/profile/profile_program.c - a small server-shaped weft program for the profiler's
 * tests: something in every table of `weft report` and every track of `weft export`.
 *
 * On a multi-thread runtime with WORKERS workers, the root future spawns
 *
 *   hog            one poll that spins HOG_MS              -> the slowest poll
 *   client-0..N-1  CLIENTS tasks: each locks the mutex "table" ROUNDS times, holding it
 *                  across a HOLD_MS sleep (the others queue), and sends one message per
 *                  round on the channel "jobs"              -> contention, wakes, counters
 *   consumer       receives CLIENTS * ROUNDS messages
 *
 * and joins them. It prints "expect EVENT COUNT" lines for the events whose number does not
 * depend on the schedule (as tests/lttng/traced_program.c does), for the import test.
 */
#include <stdio.h>
#include <stdlib.h>

#include <weft/mpsc.h>
#include <weft/mutex.h>
#include <weft/weft.h>

#define WORKERS 2
#define CLIENTS 4
#define ROUNDS 3
#define HOLD_MS 2
#define HOG_MS 15

static weft_mutex table;
static weft_mpsc_sender jobs_tx;
static weft_mpsc_receiver jobs_rx;

/* ---------------------------------------------------------------- hog */
typedef struct hog {
    weft_future base;
} hog;

static weft_poll hog_poll(weft_future *f, weft_context *cx)
{
    (void)f;
    (void)cx;
    weft_instant until = weft_instant_now() + weft_ms(HOG_MS);
    while (weft_instant_now() < until)
        ;
    return WEFT_READY;
}

static const weft_future_vtable hog_vt = {hog_poll, NULL, "hog"};

/* ---------------------------------------------------------------- clients */
typedef struct client {
    weft_async co;
    int id, round;
    weft_mpsc_sender tx;
    weft_mutex_lock lk;
    weft_sleep nap;
    weft_mpsc_send send;
} client;

static weft_poll client_poll(weft_future *f, weft_context *cx)
{
    client *c = (client *)f;
    WEFT_ASYNC_BEGIN(&c->co);
    for (c->round = 0; c->round < ROUNDS; c->round++) {
        weft_mutex_lock_init(&c->lk, &table);
        WEFT_AWAIT(&c->co, cx, &c->lk);
        weft_sleep_init(&c->nap, weft_ms(HOLD_MS));
        WEFT_AWAIT(&c->co, cx, &c->nap);
        weft_mutex_guard_release(&c->lk.guard);
        {
            uint64_t v = (uint64_t)(c->id * 100 + c->round);
            weft_mpsc_send_init(&c->send, &c->tx, &v);
        }
        WEFT_AWAIT(&c->co, cx, &c->send);
        if (c->send.status != 0) {
            weft_mpsc_sender_drop(&c->tx);
            weft_task_fail(cx, c->send.status);
            WEFT_ASYNC_RETURN(&c->co);
        }
    }
    weft_mpsc_sender_drop(&c->tx);
    WEFT_ASYNC_END(&c->co);
}

static void client_drop(weft_future *f)
{
    weft_async_drop(f);
    weft_mpsc_sender_drop(&((client *)f)->tx);
}

static const weft_future_vtable client_vt = {client_poll, client_drop, "client"};

/* ---------------------------------------------------------------- consumer */
typedef struct consumer {
    weft_async co;
    int got;
    uint64_t v;
    weft_mpsc_recv recv;
} consumer;

static weft_poll consumer_poll(weft_future *f, weft_context *cx)
{
    consumer *c = (consumer *)f;
    WEFT_ASYNC_BEGIN(&c->co);
    for (c->got = 0; c->got < CLIENTS * ROUNDS; c->got++) {
        weft_mpsc_recv_init(&c->recv, &jobs_rx, &c->v);
        WEFT_AWAIT(&c->co, cx, &c->recv);
        if (c->recv.status != 0) {
            weft_task_fail(cx, c->recv.status);
            break;
        }
    }
    WEFT_ASYNC_END(&c->co);
}

static const weft_future_vtable consumer_vt = {consumer_poll, weft_async_drop, "consumer"};

/* ---------------------------------------------------------------- root */
#define TASKS (CLIENTS + 2)

typedef struct root {
    weft_async co;
    int i, failures;
    weft_join_handle hs[TASKS];
} root;

static weft_poll root_poll(weft_future *f, weft_context *cx)
{
    root *r = (root *)f;
    WEFT_ASYNC_BEGIN(&r->co);
    {
        consumer c = {0};
        weft_async_init(&c.co, &consumer_vt);
        r->hs[0] = weft_spawn_named("consumer", &c);
        hog h = {{&hog_vt}};
        r->hs[1] = weft_spawn_named("hog", &h);
        for (int i = 0; i < CLIENTS; i++) {
            client cl = {0};
            weft_async_init(&cl.co, &client_vt);
            cl.id = i;
            if (weft_mpsc_sender_clone(&jobs_tx, &cl.tx) < 0)
                abort();
            r->hs[2 + i] = weft_spawn_named("client", &cl);
        }
    }
    for (r->i = 0; r->i < TASKS; r->i++) {
        WEFT_AWAIT(&r->co, cx, &r->hs[r->i]);
        if (r->hs[r->i].status != 0)
            r->failures++;
    }
    WEFT_ASYNC_END(&r->co);
}

static const weft_future_vtable root_vt = {root_poll, weft_async_drop, "root"};

int main(void)
{
    weft_builder b = weft_builder_new_multi_thread();
    b.worker_threads = WORKERS;
    b.enable_time = true;
    weft_runtime *rt;
    int err = weft_runtime_new(&b, &rt);
    if (err) {
        fprintf(stderr, "profile_program: runtime: %s\n", weft_strerror(err));
        return 1;
    }
    weft_mutex_init(&table, "table");
    if (weft_mpsc_channel(&jobs_tx, &jobs_rx, 4, sizeof(uint64_t), "jobs") < 0)
        return 1;
    root r = {0};
    weft_async_init(&r.co, &root_vt);
    err = weft_block_on(rt, &r.co.base);
    weft_mpsc_sender_drop(&jobs_tx);
    weft_mpsc_receiver_drop(&jobs_rx);
    weft_runtime_shutdown(rt);
    weft_mutex_destroy(&table);
    if (err || r.failures) {
        fprintf(stderr, "profile_program: block_on %s, %d failed joins\n", weft_strerror(err),
                r.failures);
        return 1;
    }
    printf("expect runtime_start 1\n");
    printf("expect task_spawn %d\n", TASKS);
    printf("expect task_complete %d\n", TASKS);
    printf("expect lock_acquire %d\n", CLIENTS * ROUNDS);
    printf("expect lock_release %d\n", CLIENTS * ROUNDS);
    printf("expect channel_send %d\n", CLIENTS * ROUNDS);
    printf("expect channel_recv %d\n", CLIENTS * ROUNDS);
    return 0;
}
