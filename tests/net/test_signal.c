/* tests/net/test_signal.c - signals as futures, and the graceful shutdown they exist for.
 *
 *   - a listener sees deliveries made after it was created (not before), recv consumes them;
 *   - ctrl_c completes on SIGINT, the shutdown signal on SIGTERM, and neither kills the
 *     process (weft's handler replaced the default action);
 *   - a server with a connection limit (a semaphore of 4 permits) is told to stop by SIGTERM
 *     while requests are in flight: it stops accepting, every request it accepted is answered,
 *     none is lost, and the clients it never accepted get an error rather than a hang.
 *
 * The process signals itself with kill(getpid(), ...): the kernel picks any thread to run the
 * handler, which is exactly the case weft's design has to handle.
 */
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <unistd.h>

#include <weft/signal.h>

#include "net_test_util.h"

/* ---------------------------------------------------------------- listeners */

typedef struct sig_case {
    weft_async co;
    weft_signal *usr1;
    weft_signal_recv rcv;
    weft_ctrl_c cc;
} sig_case;

static weft_poll sig_case_poll(weft_future *f, weft_context *cx)
{
    sig_case *t = (sig_case *)f;
    WEFT_ASYNC_BEGIN(&t->co);
    assert_int_equal(weft_signal_new(&t->usr1, SIGUSR1), 0);
    assert_int_equal(weft_signal_count(t->usr1), 0);
    /* Pending before any delivery. */
    weft_signal_recv_init(&t->rcv, t->usr1);
    assert_int_equal(weft_future_poll(&t->rcv.base, cx), WEFT_PENDING);
    assert_int_equal(kill(getpid(), SIGUSR1), 0);
    WEFT_AWAIT(&t->co, cx, &t->rcv);
    assert_int_equal(t->rcv.status, 0);
    assert_true(weft_signal_count(t->usr1) >= 1);
    /* Consumed: the next recv waits for the next delivery. */
    weft_signal_recv_init(&t->rcv, t->usr1);
    assert_int_equal(weft_future_poll(&t->rcv.base, cx), WEFT_PENDING);
    weft_future_drop(&t->rcv.base);
    weft_signal_free(t->usr1);

    /* ctrl_c: SIGINT no longer kills the process, it completes the future. */
    weft_ctrl_c_init(&t->cc);
    assert_int_equal(t->cc.status, 0);
    assert_int_equal(kill(getpid(), SIGINT), 0);
    WEFT_AWAIT(&t->co, cx, &t->cc);
    assert_int_equal(t->cc.status, 0);
    assert_int_equal(t->cc.signum, SIGINT);

    /* Bad input. */
    {
        weft_signal *s = NULL;
        assert_int_equal(weft_signal_new(&s, SIGKILL), WEFT_EINVAL);
        assert_int_equal(weft_signal_new(&s, 0), WEFT_EINVAL);
        assert_int_equal(weft_signal_new(&s, 1000), WEFT_EINVAL);
        assert_null(s);
    }
    WEFT_ASYNC_END(&t->co);
}

static const weft_future_vtable sig_case_vt = {sig_case_poll, weft_async_drop, "sig"};

static void test_signal_recv_and_ctrl_c(void **state)
{
    (void)state;
    sig_case t = {0};
    weft_async_init(&t.co, &sig_case_vt);
    net_run(WEFT_MULTI_THREAD, &t.co.base);
}

/* ---------------------------------------------------------------- graceful shutdown */

#define LIMIT 4
#define CLIENTS 10

typedef struct shared {
    weft_semaphore sem;    /* the connection limit */
    weft_notify progress;  /* a handler started or finished */
    _Atomic int accepted;  /* connections the server took */
    _Atomic int started;   /* requests read by a handler */
    _Atomic int answered;  /* responses written */
    _Atomic int clients_ok, clients_failed;
} shared;

/* One request: 8 bytes in, the same 8 bytes + 1 out, after some work. */
typedef struct handler {
    weft_async co;
    shared *sh;
    weft_tcp_stream *s;
    weft_semaphore_permit permit;
    uint64_t req;
    weft_io_read_exact rd;
    weft_sleep work;
    weft_io_write_all wr;
} handler;

static weft_poll handler_poll(weft_future *f, weft_context *cx)
{
    handler *h = (handler *)f;
    WEFT_ASYNC_BEGIN(&h->co);
    weft_io_read_exact_init(&h->rd, weft_tcp_stream_io(h->s), &h->req, sizeof h->req);
    WEFT_AWAIT(&h->co, cx, &h->rd);
    assert_int_equal(h->rd.status, 0);
    atomic_fetch_add(&h->sh->started, 1);
    weft_notify_notify_waiters(&h->sh->progress);
    weft_sleep_init(&h->work, 20 * 1000000ull);
    WEFT_AWAIT(&h->co, cx, &h->work);
    h->req++;
    weft_io_write_all_init(&h->wr, weft_tcp_stream_io(h->s), &h->req, sizeof h->req);
    WEFT_AWAIT(&h->co, cx, &h->wr);
    assert_int_equal(h->wr.status, 0);
    atomic_fetch_add(&h->sh->answered, 1);
    weft_tcp_stream_close(h->s);
    h->s = NULL;
    weft_semaphore_permit_release(&h->permit);
    weft_notify_notify_waiters(&h->sh->progress);
    WEFT_ASYNC_END(&h->co);
}

static void handler_drop(weft_future *f)
{
    handler *h = (handler *)f;
    weft_async_drop(f);
    weft_tcp_stream_close(h->s);
    weft_semaphore_permit_release(&h->permit);
}

static const weft_future_vtable handler_vt = {handler_poll, handler_drop, "handler"};

/* Take a permit, then a connection; hand both to a handler task. */
typedef struct accept_loop {
    weft_async co;
    shared *sh;
    weft_tcp_listener *l; /* borrowed from server_main */
    weft_semaphore_acquire acq;
    weft_tcp_accept acc;
} accept_loop;

static weft_poll accept_loop_poll(weft_future *f, weft_context *cx)
{
    accept_loop *a = (accept_loop *)f;
    WEFT_ASYNC_BEGIN(&a->co);
    for (;;) {
        weft_semaphore_acquire_init(&a->acq, &a->sh->sem);
        WEFT_AWAIT(&a->co, cx, &a->acq);
        assert_int_equal(a->acq.status, 0);
        weft_tcp_accept_init(&a->acc, a->l);
        WEFT_AWAIT(&a->co, cx, &a->acc);
        assert_int_equal(a->acc.status, 0);
        atomic_fetch_add(&a->sh->accepted, 1);
        handler h = {.sh = a->sh, .s = a->acc.stream,
                     .permit = weft_semaphore_permit_take(&a->acq.permit)};
        weft_async_init(&h.co, &handler_vt);
        weft_join_handle jh = weft_spawn(&h);
        weft_join_handle_detach(&jh);
    }
    WEFT_ASYNC_END(&a->co);
}

static void accept_loop_drop(weft_future *f)
{
    accept_loop *a = (accept_loop *)f;
    weft_async_drop(f);
    /* Cancelled between the acquire and the accept: give the permit back. */
    weft_semaphore_permit_release(&a->acq.permit);
}

static const weft_future_vtable accept_loop_vt = {accept_loop_poll, accept_loop_drop, "al"};

/* The server: accept until SIGTERM, then stop accepting and wait for every in-flight request
 * (all permits back). */
typedef struct server_main {
    weft_async co;
    shared *sh;
    weft_tcp_listener *l; /* owned */
    weft_ctrl_c stop;
    weft_join_handle loop;
    weft_semaphore_acquire all;
    int in_flight_at_stop;
} server_main;

static weft_poll server_main_poll(weft_future *f, weft_context *cx)
{
    server_main *s = (server_main *)f;
    WEFT_ASYNC_BEGIN(&s->co);
    {
        accept_loop a = {.sh = s->sh, .l = s->l};
        weft_async_init(&a.co, &accept_loop_vt);
        s->loop = weft_spawn_named("accept_loop", &a);
    }
    WEFT_AWAIT(&s->co, cx, &s->stop);
    assert_int_equal(s->stop.status, 0);
    assert_int_equal(s->stop.signum, SIGTERM);
    weft_join_handle_abort(&s->loop);
    WEFT_AWAIT(&s->co, cx, &s->loop);
    weft_tcp_listener_close(s->l); /* clients never accepted are refused now */
    s->l = NULL;
    s->in_flight_at_stop = atomic_load(&s->sh->accepted) - atomic_load(&s->sh->answered);
    weft_semaphore_acquire_many_init(&s->all, &s->sh->sem, LIMIT);
    WEFT_AWAIT(&s->co, cx, &s->all);
    assert_int_equal(s->all.status, 0);
    /* Every request that was accepted was answered before the server finished. */
    assert_int_equal(atomic_load(&s->sh->answered), atomic_load(&s->sh->accepted));
    weft_semaphore_permit_release(&s->all.permit);
    weft_task_return(cx, s->in_flight_at_stop);
    WEFT_ASYNC_END(&s->co);
}

static void server_main_drop(weft_future *f)
{
    server_main *s = (server_main *)f;
    weft_async_drop(f);
    weft_tcp_listener_close(s->l);
}

static const weft_future_vtable server_main_vt = {server_main_poll, server_main_drop, "srv"};

typedef struct client {
    weft_async co;
    shared *sh;
    weft_sockaddr addr;
    uint64_t req, resp;
    weft_tcp_connect conn;
    weft_io_write_all wr;
    weft_io_read_exact rd;
} client;

static weft_poll client_poll(weft_future *f, weft_context *cx)
{
    client *c = (client *)f;
    WEFT_ASYNC_BEGIN(&c->co);
    weft_tcp_connect_init(&c->conn, &c->addr);
    WEFT_AWAIT(&c->co, cx, &c->conn);
    assert_int_equal(c->conn.status, 0);
    weft_io_write_all_init(&c->wr, weft_tcp_stream_io(c->conn.stream), &c->req, sizeof c->req);
    WEFT_AWAIT(&c->co, cx, &c->wr);
    weft_io_read_exact_init(&c->rd, weft_tcp_stream_io(c->conn.stream), &c->resp,
                            sizeof c->resp);
    WEFT_AWAIT(&c->co, cx, &c->rd);
    if (c->wr.status == 0 && c->rd.status == 0) {
        assert_int_equal(c->resp, c->req + 1);
        atomic_fetch_add(&c->sh->clients_ok, 1);
    } else {
        atomic_fetch_add(&c->sh->clients_failed, 1); /* refused: never accepted */
    }
    weft_tcp_stream_close(c->conn.stream);
    WEFT_ASYNC_END(&c->co);
}

static const weft_future_vtable client_vt = {client_poll, weft_async_drop, "client"};

typedef struct graceful_case {
    weft_async co;
    shared sh;
    weft_sockaddr addr;
    weft_join_handle server;
    weft_join_handle clients[CLIENTS];
    weft_notified wait;
    int i;
} graceful_case;

static weft_poll graceful_case_poll(weft_future *f, weft_context *cx)
{
    graceful_case *t = (graceful_case *)f;
    WEFT_ASYNC_BEGIN(&t->co);
    weft_semaphore_init(&t->sh.sem, LIMIT, "connection_limit");
    weft_notify_init(&t->sh.progress, "progress");
    {
        weft_sockaddr any = loopback_any();
        server_main s = {.sh = &t->sh};
        assert_int_equal(weft_tcp_listener_bind(&s.l, &any), 0);
        assert_int_equal(weft_tcp_listener_local_addr(s.l, &t->addr), 0);
        weft_shutdown_signal_init(&s.stop); /* listening from here: no signal is missed */
        assert_int_equal(s.stop.status, 0);
        weft_async_init(&s.co, &server_main_vt);
        t->server = weft_spawn_named("server", &s);
    }
    for (t->i = 0; t->i < CLIENTS; t->i++) {
        client c = {.sh = &t->sh, .addr = t->addr, .req = 1000u + (uint64_t)t->i};
        weft_async_init(&c.co, &client_vt);
        t->clients[t->i] = weft_spawn(&c);
    }
    /* Wait until the limit is reached (4 requests in flight), then ask for shutdown. */
    for (;;) {
        weft_notify_notified_init(&t->wait, &t->sh.progress);
        weft_notified_enable(&t->wait);
        if (atomic_load(&t->sh.started) >= LIMIT)
            break;
        WEFT_AWAIT(&t->co, cx, &t->wait);
    }
    weft_future_drop(&t->wait.base);
    assert_int_equal(kill(getpid(), SIGTERM), 0);
    WEFT_AWAIT(&t->co, cx, &t->server);
    assert_int_equal(t->server.status, 0);
    assert_true(t->server.value >= 1); /* requests were in flight when the signal came */
    for (t->i = 0; t->i < CLIENTS; t->i++) {
        WEFT_AWAIT(&t->co, cx, &t->clients[t->i]);
        assert_int_equal(t->clients[t->i].status, 0);
    }
    /* None lost: every accepted request was answered, every other client was refused. */
    assert_true(atomic_load(&t->sh.accepted) >= LIMIT);
    assert_int_equal(atomic_load(&t->sh.answered), atomic_load(&t->sh.accepted));
    assert_int_equal(atomic_load(&t->sh.clients_ok), atomic_load(&t->sh.accepted));
    assert_int_equal(atomic_load(&t->sh.clients_ok) + atomic_load(&t->sh.clients_failed),
                     CLIENTS);
    weft_notify_destroy(&t->sh.progress);
    weft_semaphore_destroy(&t->sh.sem);
    WEFT_ASYNC_END(&t->co);
}

static const weft_future_vtable graceful_case_vt = {graceful_case_poll, weft_async_drop, "gc"};

static void graceful_on(weft_flavor flavor)
{
    graceful_case *t = calloc(1, sizeof *t);
    weft_async_init(&t->co, &graceful_case_vt);
    net_run(flavor, &t->co.base);
    free(t);
}

static void test_signal_graceful_shutdown_finishes_in_flight_requests_ct(void **state)
{
    (void)state;
    graceful_on(WEFT_CURRENT_THREAD);
}

static void test_signal_graceful_shutdown_finishes_in_flight_requests_mt(void **state)
{
    (void)state;
    graceful_on(WEFT_MULTI_THREAD);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_signal_recv_and_ctrl_c),
        cmocka_unit_test(test_signal_graceful_shutdown_finishes_in_flight_requests_ct),
        cmocka_unit_test(test_signal_graceful_shutdown_finishes_in_flight_requests_mt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
