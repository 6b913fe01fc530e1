/* tests/net/net_test_util.h - what the network tests share: runtimes with I/O, and an echo
 * server task usable by any test.
 *
 * Header-only (static functions) so that each test binary stays one .c file plus this.
 */
#ifndef WEFT_TESTS_NET_UTIL_H
#define WEFT_TESTS_NET_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <weft/weft.h>
#include <weft/net.h>

static inline weft_runtime *net_rt(weft_flavor flavor)
{
    weft_builder b = flavor == WEFT_CURRENT_THREAD ? weft_builder_new_current_thread()
                                                   : weft_builder_new_multi_thread();
    b.worker_threads = 2;
    b.enable_io = true;
    b.enable_time = true;
    weft_runtime *rt = NULL;
    assert_int_equal(weft_runtime_new(&b, &rt), 0);
    assert_non_null(rt);
    return rt;
}

/* block_on root, then shut down: under ASan this also proves nothing leaked. */
static inline void net_run(weft_flavor flavor, weft_future *root)
{
    weft_runtime *rt = net_rt(flavor);
    assert_int_equal(weft_block_on(rt, root), 0);
    assert_int_equal(weft_runtime_shutdown_timeout(rt, 10000), 0);
}

static inline weft_sockaddr loopback_any(void)
{
    weft_sockaddr a;
    assert_int_equal(weft_sockaddr_parse(&a, "127.0.0.1:0"), 0);
    return a;
}

/* ---------------------------------------------------------------- echo server
 *
 * echo_conn: reads up to 4 KiB and writes it back until end of stream or an error; then
 * closes the stream. echo_server: accepts forever (until aborted), one echo_conn task per
 * connection; its drop closes the listener. */
typedef struct echo_conn {
    weft_async co;
    weft_tcp_stream *s;
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

typedef struct echo_server {
    weft_async co;
    weft_tcp_listener *l; /* owned */
    weft_tcp_accept acc;
} echo_server;

static weft_poll echo_server_poll(weft_future *f, weft_context *cx)
{
    echo_server *s = (echo_server *)f;
    WEFT_ASYNC_BEGIN(&s->co);
    for (;;) {
        weft_tcp_accept_init(&s->acc, s->l);
        WEFT_AWAIT(&s->co, cx, &s->acc);
        if (s->acc.status)
            break;
        echo_conn e = {.s = s->acc.stream};
        weft_async_init(&e.co, &echo_conn_vt);
        weft_join_handle h = weft_spawn(&e);
        weft_join_handle_detach(&h);
    }
    weft_tcp_listener_close(s->l);
    s->l = NULL;
    WEFT_ASYNC_END(&s->co);
}

static void echo_server_drop(weft_future *f)
{
    echo_server *s = (echo_server *)f;
    weft_async_drop(f);
    weft_tcp_listener_close(s->l);
    s->l = NULL;
}

static const weft_future_vtable echo_server_vt = {echo_server_poll, echo_server_drop,
                                                  "echo_server"};

/* Bind on 127.0.0.1:0 and spawn an echo server; its address in *addr. Inside a runtime. */
static inline weft_join_handle spawn_echo_server(weft_sockaddr *addr)
{
    weft_sockaddr any = loopback_any();
    echo_server s = {0};
    assert_int_equal(weft_tcp_listener_bind(&s.l, &any), 0);
    assert_int_equal(weft_tcp_listener_local_addr(s.l, addr), 0);
    weft_async_init(&s.co, &echo_server_vt);
    return weft_spawn(&s);
}

#endif
