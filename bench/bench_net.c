/* bench/bench_net.c - tcp_echo_50x2000: round trips over loopback TCP.
 *
 * Same work as the anchor's tcp_echo: a server task accepts connections and spawns one echo
 * task per connection (read up to 4 KiB, write it all back); 50 client connections are set
 * up before timing starts (nodelay on both ends), then 50 tasks each do 2000 round trips of a
 * 64-byte message (write_all, then read_exact). The figure is round trips per second, timed
 * from the clients' spawn until all 50 are joined.
 *
 * It runs on the harness's runtime, built with I/O and time enabled (bench/main.c), as the
 * anchor's are with enable_all().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <weft/net.h>

#include "bench.h"

#define TCP_CLIENTS 50
#define TCP_RT 2000
#define TCP_MSG 64

/* ---------------------------------------------------------------- the server */

typedef struct echo_conn {
    weft_async co;
    weft_tcp_stream *s; /* owned: closed when the task ends or is dropped */
    weft_io_read rd;
    weft_io_write_all wr;
    unsigned char buf[4096];
} echo_conn;

static weft_poll echo_conn_poll(weft_future *f, weft_context *cx)
{
    echo_conn *e = (echo_conn *)f;
    WEFT_ASYNC_BEGIN(&e->co);
    for (;;) {
        weft_io_read_init(&e->rd, weft_tcp_stream_io(e->s), e->buf, sizeof e->buf);
        WEFT_AWAIT(&e->co, cx, &e->rd);
        if (e->rd.status || e->rd.n == 0)
            break;
        weft_io_write_all_init(&e->wr, weft_tcp_stream_io(e->s), e->buf, e->rd.n);
        WEFT_AWAIT(&e->co, cx, &e->wr);
        if (e->wr.status)
            break;
    }
    weft_tcp_stream_close(e->s);
    e->s = NULL;
    WEFT_ASYNC_END(&e->co);
}

static void echo_conn_drop(weft_future *f)
{
    echo_conn *e = (echo_conn *)f;
    weft_async_drop(f);
    weft_tcp_stream_close(e->s);
}

static const weft_future_vtable echo_conn_vt = {echo_conn_poll, echo_conn_drop, "echo_conn"};

typedef struct server {
    weft_async co;
    weft_tcp_listener *l; /* owned */
    weft_tcp_accept acc;
} server;

static weft_poll server_poll(weft_future *f, weft_context *cx)
{
    server *s = (server *)f;
    WEFT_ASYNC_BEGIN(&s->co);
    for (;;) {
        weft_tcp_accept_init(&s->acc, s->l);
        WEFT_AWAIT(&s->co, cx, &s->acc);
        if (s->acc.status)
            bench_die("tcp_echo: accept", s->acc.status);
        weft_tcp_stream_set_nodelay(s->acc.stream, true);
        echo_conn e = {.s = s->acc.stream};
        weft_async_init(&e.co, &echo_conn_vt);
        weft_join_handle h = weft_spawn(&e);
        weft_join_handle_detach(&h);
    }
    WEFT_ASYNC_END(&s->co);
}

static void server_drop(weft_future *f)
{
    server *s = (server *)f;
    weft_async_drop(f);
    weft_tcp_listener_close(s->l);
}

static const weft_future_vtable server_vt = {server_poll, server_drop, "echo_server"};

/* ---------------------------------------------------------------- the clients */

typedef struct client {
    weft_async co;
    weft_tcp_stream *s; /* owned */
    int i;
    weft_io_write_all wr;
    weft_io_read_exact rd;
    unsigned char msg[TCP_MSG], buf[TCP_MSG];
} client;

static weft_poll client_poll(weft_future *f, weft_context *cx)
{
    client *c = (client *)f;
    WEFT_ASYNC_BEGIN(&c->co);
    memset(c->msg, 0x5a, sizeof c->msg);
    for (c->i = 0; c->i < TCP_RT; c->i++) {
        weft_io_write_all_init(&c->wr, weft_tcp_stream_io(c->s), c->msg, sizeof c->msg);
        WEFT_AWAIT(&c->co, cx, &c->wr);
        if (c->wr.status)
            bench_die("tcp_echo: client write", c->wr.status);
        weft_io_read_exact_init(&c->rd, weft_tcp_stream_io(c->s), c->buf, sizeof c->buf);
        WEFT_AWAIT(&c->co, cx, &c->rd);
        if (c->rd.status)
            bench_die("tcp_echo: client read", c->rd.status);
    }
    weft_tcp_stream_close(c->s);
    c->s = NULL;
    WEFT_ASYNC_END(&c->co);
}

static void client_drop(weft_future *f)
{
    client *c = (client *)f;
    weft_async_drop(f);
    weft_tcp_stream_close(c->s);
}

static const weft_future_vtable client_vt = {client_poll, client_drop, "echo_client"};

/* ---------------------------------------------------------------- one sample */

typedef struct echo_body {
    weft_async co;
    weft_sockaddr addr;
    weft_join_handle server;
    weft_tcp_stream *conns[TCP_CLIENTS];
    weft_join_handle hs[TCP_CLIENTS];
    weft_tcp_connect conn;
    int k;
    uint64_t start, elapsed;
} echo_body;

static weft_poll echo_body_poll(weft_future *f, weft_context *cx)
{
    echo_body *b = (echo_body *)f;
    WEFT_ASYNC_BEGIN(&b->co);
    {
        weft_sockaddr any;
        weft_sockaddr_parse(&any, "127.0.0.1:0");
        server s = {0};
        int err = weft_tcp_listener_bind(&s.l, &any);
        if (err)
            bench_die("tcp_echo: bind", err);
        weft_tcp_listener_local_addr(s.l, &b->addr);
        weft_async_init(&s.co, &server_vt);
        b->server = weft_spawn(&s);
    }
    for (b->k = 0; b->k < TCP_CLIENTS; b->k++) {
        weft_tcp_connect_init(&b->conn, &b->addr);
        WEFT_AWAIT(&b->co, cx, &b->conn);
        if (b->conn.status)
            bench_die("tcp_echo: connect", b->conn.status);
        weft_tcp_stream_set_nodelay(b->conn.stream, true);
        b->conns[b->k] = b->conn.stream;
    }
    b->start = bench_now();
    for (b->k = 0; b->k < TCP_CLIENTS; b->k++) {
        client c = {.s = b->conns[b->k]};
        weft_async_init(&c.co, &client_vt);
        b->hs[b->k] = weft_spawn(&c);
    }
    for (b->k = 0; b->k < TCP_CLIENTS; b->k++) {
        WEFT_AWAIT(&b->co, cx, &b->hs[b->k]);
        if (b->hs[b->k].status)
            bench_die("tcp_echo: client", b->hs[b->k].status);
    }
    b->elapsed = bench_now() - b->start;
    weft_join_handle_abort(&b->server);
    WEFT_AWAIT(&b->co, cx, &b->server);
    weft_task_return(cx, (intptr_t)b->elapsed);
    WEFT_ASYNC_END(&b->co);
}

static const weft_future_vtable echo_body_vt = {echo_body_poll, weft_async_drop, "tcp_echo"};

static double tcp_echo_sample(const bench_env *env)
{
    echo_body b = {0};
    weft_async_init(&b.co, &echo_body_vt);
    intptr_t ns = bench_inside(env, &b.co.base, sizeof b);
    return (double)(TCP_CLIENTS * TCP_RT) / ((double)ns / 1e9);
}

void bench_tcp_echo(const bench_env *env)
{
    double s[BENCH_REPS];
    bench_repeat(env, tcp_echo_sample, s);
    bench_emit("tcp_echo_50x2000", env, "rt/s", s);
}
