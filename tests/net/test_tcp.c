/* tests/net/test_tcp.c - TCP over loopback on both runtimes: echo, half-close, split halves
 * used by two tasks, peer reset, refused and timed-out connects, options and addresses, 1,000
 * concurrent connections, and the errors of sockets made outside an I/O runtime.
 *
 * Every case runs a real server and real clients on 127.0.0.1 and ends with a runtime
 * shutdown that must finish in time (and, under ASan, leak nothing). The multi-thread cases
 * are in suite 'tsan' too.
 */
#include <errno.h>
#include <stdio.h>

#include "net_test_util.h"

/* ---------------------------------------------------------------- echo */

typedef struct echo_case {
    weft_async co;
    weft_sockaddr addr;
    weft_join_handle server;
    weft_tcp_connect conn;
    weft_tcp_stream *s;
    weft_io_write_all wr;
    weft_io_read_exact rd;
    int round;
    char out[256], in[256];
} echo_case;

static weft_poll echo_case_poll(weft_future *f, weft_context *cx)
{
    echo_case *t = (echo_case *)f;
    WEFT_ASYNC_BEGIN(&t->co);
    t->server = spawn_echo_server(&t->addr);
    weft_tcp_connect_init(&t->conn, &t->addr);
    WEFT_AWAIT(&t->co, cx, &t->conn);
    assert_int_equal(t->conn.status, 0);
    t->s = t->conn.stream;
    for (t->round = 0; t->round < 50; t->round++) {
        snprintf(t->out, sizeof t->out, "message %03d, padded to a fixed length.........",
                 t->round);
        weft_io_write_all_init(&t->wr, weft_tcp_stream_io(t->s), t->out, 48);
        WEFT_AWAIT(&t->co, cx, &t->wr);
        assert_int_equal(t->wr.status, 0);
        assert_int_equal(t->wr.done, 48);
        memset(t->in, 0, sizeof t->in);
        weft_io_read_exact_init(&t->rd, weft_tcp_stream_io(t->s), t->in, 48);
        WEFT_AWAIT(&t->co, cx, &t->rd);
        assert_int_equal(t->rd.status, 0);
        assert_memory_equal(t->in, t->out, 48);
    }
    uint64_t in, out;
    weft_tcp_stream_bytes(t->s, &in, &out);
    assert_int_equal(in, 50 * 48);
    assert_int_equal(out, 50 * 48);
    weft_tcp_stream_close(t->s);
    weft_join_handle_abort(&t->server);
    WEFT_AWAIT(&t->co, cx, &t->server);
    WEFT_ASYNC_END(&t->co);
}

static const weft_future_vtable echo_case_vt = {echo_case_poll, weft_async_drop, "echo_case"};

static void echo_on(weft_flavor flavor)
{
    echo_case t = {0};
    weft_async_init(&t.co, &echo_case_vt);
    net_run(flavor, &t.co.base);
}

static void test_tcp_echo_round_trips_ct(void **state)
{
    (void)state;
    echo_on(WEFT_CURRENT_THREAD);
}

static void test_tcp_echo_round_trips_mt(void **state)
{
    (void)state;
    echo_on(WEFT_MULTI_THREAD);
}

/* ---------------------------------------------------------------- half-close
 *
 * The client sends a request and shuts down its write side; the server reads to end of stream
 * (so it knows the request is complete), answers, and closes. The client reads the whole
 * answer, then end of stream. */
typedef struct half_server {
    weft_async co;
    weft_tcp_listener *l;
    weft_tcp_accept acc;
    weft_tcp_stream *s;
    weft_io_read rd;
    weft_io_write_all wr;
    size_t got;
    char buf[1024];
    char answer[64];
} half_server;

static weft_poll half_server_poll(weft_future *f, weft_context *cx)
{
    half_server *h = (half_server *)f;
    WEFT_ASYNC_BEGIN(&h->co);
    weft_tcp_accept_init(&h->acc, h->l);
    WEFT_AWAIT(&h->co, cx, &h->acc);
    assert_int_equal(h->acc.status, 0);
    h->s = h->acc.stream;
    for (;;) {
        weft_io_read_init(&h->rd, weft_tcp_stream_io(h->s), h->buf + h->got,
                          sizeof h->buf - h->got);
        WEFT_AWAIT(&h->co, cx, &h->rd);
        assert_int_equal(h->rd.status, 0);
        if (h->rd.n == 0)
            break;
        h->got += h->rd.n;
    }
    snprintf(h->answer, sizeof h->answer, "got %zu bytes", h->got);
    weft_io_write_all_init(&h->wr, weft_tcp_stream_io(h->s), h->answer, strlen(h->answer));
    WEFT_AWAIT(&h->co, cx, &h->wr);
    assert_int_equal(h->wr.status, 0);
    weft_tcp_stream_close(h->s);
    weft_tcp_listener_close(h->l);
    WEFT_ASYNC_END(&h->co);
}

static const weft_future_vtable half_server_vt = {half_server_poll, weft_async_drop, "half"};

typedef struct half_case {
    weft_async co;
    weft_sockaddr addr;
    weft_join_handle server;
    weft_tcp_connect conn;
    weft_tcp_stream *s;
    weft_io_write_all wr;
    weft_io_write wr2;
    weft_io_read rd;
    size_t got;
    char req[700], buf[128];
} half_case;

static weft_poll half_case_poll(weft_future *f, weft_context *cx)
{
    half_case *t = (half_case *)f;
    WEFT_ASYNC_BEGIN(&t->co);
    {
        weft_sockaddr any = loopback_any();
        half_server h = {0};
        assert_int_equal(weft_tcp_listener_bind(&h.l, &any), 0);
        assert_int_equal(weft_tcp_listener_local_addr(h.l, &t->addr), 0);
        weft_async_init(&h.co, &half_server_vt);
        t->server = weft_spawn(&h);
    }
    weft_tcp_connect_init(&t->conn, &t->addr);
    WEFT_AWAIT(&t->co, cx, &t->conn);
    assert_int_equal(t->conn.status, 0);
    t->s = t->conn.stream;
    memset(t->req, 'r', sizeof t->req);
    weft_io_write_all_init(&t->wr, weft_tcp_stream_io(t->s), t->req, sizeof t->req);
    WEFT_AWAIT(&t->co, cx, &t->wr);
    assert_int_equal(t->wr.status, 0);
    assert_int_equal(weft_tcp_stream_shutdown_write(t->s), 0);
    assert_int_equal(weft_tcp_stream_shutdown_write(t->s), 0); /* idempotent */
    /* Writing after the shutdown is refused by weft, not sent. */
    weft_io_write_init(&t->wr2, weft_tcp_stream_io(t->s), "x", 1);
    WEFT_AWAIT(&t->co, cx, &t->wr2);
    assert_int_equal(t->wr2.status, WEFT_ECLOSED);
    /* The read side still works: the whole answer, then end of stream. */
    for (;;) {
        weft_io_read_init(&t->rd, weft_tcp_stream_io(t->s), t->buf + t->got,
                          sizeof t->buf - 1 - t->got);
        WEFT_AWAIT(&t->co, cx, &t->rd);
        assert_int_equal(t->rd.status, 0);
        if (t->rd.n == 0)
            break;
        t->got += t->rd.n;
    }
    t->buf[t->got] = '\0';
    assert_string_equal(t->buf, "got 700 bytes");
    /* End of stream is sticky. */
    weft_io_read_init(&t->rd, weft_tcp_stream_io(t->s), t->buf, sizeof t->buf);
    WEFT_AWAIT(&t->co, cx, &t->rd);
    assert_int_equal(t->rd.status, 0);
    assert_int_equal(t->rd.n, 0);
    weft_tcp_stream_close(t->s);
    WEFT_AWAIT(&t->co, cx, &t->server);
    assert_int_equal(t->server.status, 0);
    WEFT_ASYNC_END(&t->co);
}

static const weft_future_vtable half_case_vt = {half_case_poll, weft_async_drop, "half_case"};

static void test_tcp_half_close_reads_answer_then_eof_ct(void **state)
{
    (void)state;
    half_case t = {0};
    weft_async_init(&t.co, &half_case_vt);
    net_run(WEFT_CURRENT_THREAD, &t.co.base);
}

static void test_tcp_half_close_reads_answer_then_eof_mt(void **state)
{
    (void)state;
    half_case t = {0};
    weft_async_init(&t.co, &half_case_vt);
    net_run(WEFT_MULTI_THREAD, &t.co.base);
}

/* ---------------------------------------------------------------- split halves
 *
 * One task writes 2,000 numbered 16-byte messages through the write half while another reads
 * the echo through the read half at the same time; the reader checks every byte in order. On
 * the multi-thread runtime the two tasks run on different workers. Closing the write half
 * shuts the write side down, so the echo server sees end of stream and closes, and the reader
 * ends on end of stream. */
#define SPLIT_MSGS 2000
#define SPLIT_LEN 16

typedef struct split_writer {
    weft_async co;
    weft_io_stream *w;
    int i;
    char msg[SPLIT_LEN + 1];
    weft_io_write_all wr;
} split_writer;

static weft_poll split_writer_poll(weft_future *f, weft_context *cx)
{
    split_writer *t = (split_writer *)f;
    WEFT_ASYNC_BEGIN(&t->co);
    for (t->i = 0; t->i < SPLIT_MSGS; t->i++) {
        snprintf(t->msg, sizeof t->msg, "msg:%011d", t->i);
        weft_io_write_all_init(&t->wr, t->w, t->msg, SPLIT_LEN);
        WEFT_AWAIT(&t->co, cx, &t->wr);
        assert_int_equal(t->wr.status, 0);
    }
    weft_io_stream_close(t->w);
    WEFT_ASYNC_END(&t->co);
}

static const weft_future_vtable split_writer_vt = {split_writer_poll, weft_async_drop, "w"};

typedef struct split_reader {
    weft_async co;
    weft_io_stream *r;
    size_t total;
    char buf[SPLIT_MSGS * SPLIT_LEN];
    weft_io_read rd;
} split_reader;

static weft_poll split_reader_poll(weft_future *f, weft_context *cx)
{
    split_reader *t = (split_reader *)f;
    WEFT_ASYNC_BEGIN(&t->co);
    for (;;) {
        weft_io_read_init(&t->rd, t->r, t->buf + t->total,
                          t->total < sizeof t->buf ? sizeof t->buf - t->total : 1);
        WEFT_AWAIT(&t->co, cx, &t->rd);
        assert_int_equal(t->rd.status, 0);
        if (t->rd.n == 0)
            break;
        t->total += t->rd.n;
        assert_true(t->total <= sizeof t->buf);
    }
    assert_int_equal(t->total, sizeof t->buf);
    for (int i = 0; i < SPLIT_MSGS; i++) {
        char want[SPLIT_LEN + 1];
        snprintf(want, sizeof want, "msg:%011d", i);
        assert_memory_equal(t->buf + (size_t)i * SPLIT_LEN, want, SPLIT_LEN);
    }
    weft_io_stream_close(t->r);
    WEFT_ASYNC_END(&t->co);
}

static const weft_future_vtable split_reader_vt = {split_reader_poll, weft_async_drop, "r"};

typedef struct split_case {
    weft_async co;
    weft_sockaddr addr;
    weft_join_handle server, wh, rh;
    weft_tcp_connect conn;
} split_case;

static weft_poll split_case_poll(weft_future *f, weft_context *cx)
{
    split_case *t = (split_case *)f;
    WEFT_ASYNC_BEGIN(&t->co);
    t->server = spawn_echo_server(&t->addr);
    weft_tcp_connect_init(&t->conn, &t->addr);
    WEFT_AWAIT(&t->co, cx, &t->conn);
    assert_int_equal(t->conn.status, 0);
    {
        weft_io_stream *r, *w;
        assert_int_equal(weft_tcp_stream_split(t->conn.stream, &r, &w), 0);
        /* The halves have one direction each. */
        assert_null(r->vt->poll_write);
        assert_null(w->vt->poll_read);
        split_reader *rd = calloc(1, sizeof *rd);
        rd->r = r;
        weft_async_init(&rd->co, &split_reader_vt);
        t->rh = weft_spawn_named("reader", rd);
        free(rd);
        split_writer wr = {.w = w};
        weft_async_init(&wr.co, &split_writer_vt);
        t->wh = weft_spawn_named("writer", &wr);
    }
    WEFT_AWAIT(&t->co, cx, &t->wh);
    assert_int_equal(t->wh.status, 0);
    WEFT_AWAIT(&t->co, cx, &t->rh);
    assert_int_equal(t->rh.status, 0);
    weft_join_handle_abort(&t->server);
    WEFT_AWAIT(&t->co, cx, &t->server);
    WEFT_ASYNC_END(&t->co);
}

static const weft_future_vtable split_case_vt = {split_case_poll, weft_async_drop, "split"};

static void test_tcp_split_halves_read_and_write_at_once_ct(void **state)
{
    (void)state;
    split_case t = {0};
    weft_async_init(&t.co, &split_case_vt);
    net_run(WEFT_CURRENT_THREAD, &t.co.base);
}

static void test_tcp_split_halves_read_and_write_at_once_mt(void **state)
{
    (void)state;
    split_case t = {0};
    weft_async_init(&t.co, &split_case_vt);
    net_run(WEFT_MULTI_THREAD, &t.co.base);
}

/* ---------------------------------------------------------------- peer reset
 *
 * The server reads 1 byte of a 2-byte message and closes: closing with unread data makes the
 * kernel send a reset, so the client's next read fails with ECONNRESET and a write after it
 * fails too (EPIPE or ECONNRESET) — as errors, with no SIGPIPE. */
typedef struct reset_server {
    weft_async co;
    weft_tcp_listener *l;
    weft_tcp_accept acc;
    weft_io_read rd;
    char b;
} reset_server;

static weft_poll reset_server_poll(weft_future *f, weft_context *cx)
{
    reset_server *h = (reset_server *)f;
    WEFT_ASYNC_BEGIN(&h->co);
    weft_tcp_accept_init(&h->acc, h->l);
    WEFT_AWAIT(&h->co, cx, &h->acc);
    assert_int_equal(h->acc.status, 0);
    weft_io_read_init(&h->rd, weft_tcp_stream_io(h->acc.stream), &h->b, 1);
    WEFT_AWAIT(&h->co, cx, &h->rd);
    assert_int_equal(h->rd.n, 1);
    weft_tcp_stream_close(h->acc.stream); /* one byte unread: RST */
    weft_tcp_listener_close(h->l);
    WEFT_ASYNC_END(&h->co);
}

static const weft_future_vtable reset_server_vt = {reset_server_poll, weft_async_drop, "rs"};

typedef struct reset_case {
    weft_async co;
    weft_sockaddr addr;
    weft_join_handle server;
    weft_tcp_connect conn;
    weft_io_write_all wr;
    weft_io_read rd;
    weft_io_write w2;
    char buf[16];
} reset_case;

static weft_poll reset_case_poll(weft_future *f, weft_context *cx)
{
    reset_case *t = (reset_case *)f;
    WEFT_ASYNC_BEGIN(&t->co);
    {
        weft_sockaddr any = loopback_any();
        reset_server h = {0};
        assert_int_equal(weft_tcp_listener_bind(&h.l, &any), 0);
        assert_int_equal(weft_tcp_listener_local_addr(h.l, &t->addr), 0);
        weft_async_init(&h.co, &reset_server_vt);
        t->server = weft_spawn(&h);
    }
    weft_tcp_connect_init(&t->conn, &t->addr);
    WEFT_AWAIT(&t->co, cx, &t->conn);
    assert_int_equal(t->conn.status, 0);
    weft_io_write_all_init(&t->wr, weft_tcp_stream_io(t->conn.stream), "ab", 2);
    WEFT_AWAIT(&t->co, cx, &t->wr);
    assert_int_equal(t->wr.status, 0);
    WEFT_AWAIT(&t->co, cx, &t->server);
    weft_io_read_init(&t->rd, weft_tcp_stream_io(t->conn.stream), t->buf, sizeof t->buf);
    WEFT_AWAIT(&t->co, cx, &t->rd);
    assert_int_equal(weft_os_errno(t->rd.status), ECONNRESET);
    weft_io_write_init(&t->w2, weft_tcp_stream_io(t->conn.stream), "c", 1);
    WEFT_AWAIT(&t->co, cx, &t->w2);
    assert_true(t->w2.status < 0);
    assert_true(weft_os_errno(t->w2.status) == EPIPE ||
                weft_os_errno(t->w2.status) == ECONNRESET);
    weft_tcp_stream_close(t->conn.stream);
    WEFT_ASYNC_END(&t->co);
}

static const weft_future_vtable reset_case_vt = {reset_case_poll, weft_async_drop, "reset"};

static void test_tcp_peer_reset_is_an_error_not_a_crash(void **state)
{
    (void)state;
    reset_case t = {0};
    weft_async_init(&t.co, &reset_case_vt);
    net_run(WEFT_CURRENT_THREAD, &t.co.base);
}

/* ---------------------------------------------------------------- connect failures */

typedef struct refused_case {
    weft_async co;
    weft_sockaddr addr;
    weft_tcp_connect conn;
} refused_case;

static weft_poll refused_case_poll(weft_future *f, weft_context *cx)
{
    refused_case *t = (refused_case *)f;
    WEFT_ASYNC_BEGIN(&t->co);
    {
        /* A port that was just free: bind, read it back, close. */
        weft_sockaddr any = loopback_any();
        weft_tcp_listener *l;
        assert_int_equal(weft_tcp_listener_bind(&l, &any), 0);
        assert_int_equal(weft_tcp_listener_local_addr(l, &t->addr), 0);
        weft_tcp_listener_close(l);
    }
    weft_tcp_connect_timeout_init(&t->conn, &t->addr, 5 * 1000000000ull);
    WEFT_AWAIT(&t->co, cx, &t->conn);
    assert_int_equal(weft_os_errno(t->conn.status), ECONNREFUSED);
    assert_null(t->conn.stream);
    WEFT_ASYNC_END(&t->co);
}

static const weft_future_vtable refused_case_vt = {refused_case_poll, weft_async_drop, "ref"};

static void test_tcp_connect_refused_reports_econnrefused(void **state)
{
    (void)state;
    refused_case t = {0};
    weft_async_init(&t.co, &refused_case_vt);
    net_run(WEFT_CURRENT_THREAD, &t.co.base);
}

/* A connect that cannot complete: the listener's accept queue is full (backlog 1, never
 * accepted), so the kernel drops further SYNs and the handshake hangs until the timeout. */
typedef struct timeout_case {
    weft_async co;
    weft_sockaddr addr;
    weft_tcp_connect conn;
    int i;
    weft_tcp_stream *filled[8];
    int nfilled;
    bool timed_out;
    int fd;
} timeout_case;

#include <sys/socket.h>
#include <unistd.h>

static weft_poll timeout_case_poll(weft_future *f, weft_context *cx)
{
    timeout_case *t = (timeout_case *)f;
    WEFT_ASYNC_BEGIN(&t->co);
    {
        /* A raw listener with backlog 0 that nobody accepts on. */
        t->fd = socket(AF_INET, SOCK_STREAM, 0);
        assert_true(t->fd >= 0);
        weft_sockaddr any = loopback_any();
        assert_int_equal(bind(t->fd, &any.u.sa, any.len), 0);
        assert_int_equal(listen(t->fd, 0), 0);
        t->addr.len = sizeof t->addr.u;
        assert_int_equal(getsockname(t->fd, &t->addr.u.sa, &t->addr.len), 0);
    }
    /* Fill the queue until a connect hangs; each that completes stays open. */
    for (t->i = 0; t->i < 8 && !t->timed_out; t->i++) {
        weft_tcp_connect_timeout_init(&t->conn, &t->addr, 200 * 1000000ull);
        WEFT_AWAIT(&t->co, cx, &t->conn);
        if (t->conn.status == WEFT_ETIMEDOUT) {
            t->timed_out = true;
            assert_null(t->conn.stream);
        } else {
            assert_int_equal(t->conn.status, 0);
            t->filled[t->nfilled++] = t->conn.stream;
        }
    }
    assert_true(t->timed_out);
    for (t->i = 0; t->i < t->nfilled; t->i++)
        weft_tcp_stream_close(t->filled[t->i]);
    close(t->fd);
    WEFT_ASYNC_END(&t->co);
}

static const weft_future_vtable timeout_case_vt = {timeout_case_poll, weft_async_drop, "tmo"};

static void test_tcp_connect_timeout_gives_etimedout(void **state)
{
    (void)state;
    timeout_case t = {0};
    weft_async_init(&t.co, &timeout_case_vt);
    net_run(WEFT_CURRENT_THREAD, &t.co.base);
}

/* ---------------------------------------------------------------- options and addresses */

typedef struct opts_case {
    weft_async co;
    weft_sockaddr addr;
    weft_tcp_listener *l;
    weft_tcp_connect conn;
    weft_tcp_accept acc;
} opts_case;

static weft_poll opts_case_poll(weft_future *f, weft_context *cx)
{
    opts_case *t = (opts_case *)f;
    WEFT_ASYNC_BEGIN(&t->co);
    {
        weft_sockaddr any = loopback_any();
        assert_int_equal(weft_tcp_listener_bind(&t->l, &any), 0);
        assert_int_equal(weft_tcp_listener_local_addr(t->l, &t->addr), 0);
        assert_true(weft_sockaddr_port(&t->addr) != 0);
        /* The same address again: in use. */
        weft_tcp_listener *again = NULL;
        int err = weft_tcp_listener_bind(&again, &t->addr);
        assert_int_equal(weft_os_errno(err), EADDRINUSE);
        assert_null(again);
    }
    weft_tcp_connect_init(&t->conn, &t->addr);
    WEFT_AWAIT(&t->co, cx, &t->conn);
    assert_int_equal(t->conn.status, 0);
    weft_tcp_accept_init(&t->acc, t->l);
    WEFT_AWAIT(&t->co, cx, &t->acc);
    assert_int_equal(t->acc.status, 0);
    {
        bool on = true;
        assert_int_equal(weft_tcp_stream_nodelay(t->conn.stream, &on), 0);
        assert_false(on);
        assert_int_equal(weft_tcp_stream_set_nodelay(t->conn.stream, true), 0);
        assert_int_equal(weft_tcp_stream_nodelay(t->conn.stream, &on), 0);
        assert_true(on);
        /* Each end's peer is the other end. */
        weft_sockaddr peer, local, srv_peer;
        char a[WEFT_SOCKADDR_STRLEN], b[WEFT_SOCKADDR_STRLEN];
        assert_int_equal(weft_tcp_stream_peer_addr(t->conn.stream, &peer), 0);
        assert_int_equal(weft_sockaddr_format(&peer, a, sizeof a), 0);
        assert_int_equal(weft_sockaddr_format(&t->addr, b, sizeof b), 0);
        assert_string_equal(a, b);
        assert_int_equal(weft_tcp_stream_local_addr(t->conn.stream, &local), 0);
        assert_int_equal(weft_tcp_stream_peer_addr(t->acc.stream, &srv_peer), 0);
        assert_int_equal(weft_sockaddr_format(&local, a, sizeof a), 0);
        assert_int_equal(weft_sockaddr_format(&srv_peer, b, sizeof b), 0);
        assert_string_equal(a, b);
        assert_int_equal(weft_sockaddr_format(&t->acc.peer, b, sizeof b), 0);
        assert_string_equal(a, b);
    }
    weft_tcp_stream_close(t->conn.stream);
    weft_tcp_stream_close(t->acc.stream);
    weft_tcp_listener_close(t->l);
    WEFT_ASYNC_END(&t->co);
}

static const weft_future_vtable opts_case_vt = {opts_case_poll, weft_async_drop, "opts"};

static void test_tcp_nodelay_and_addresses(void **state)
{
    (void)state;
    opts_case t = {0};
    weft_async_init(&t.co, &opts_case_vt);
    net_run(WEFT_MULTI_THREAD, &t.co.base);
}

/* ---------------------------------------------------------------- 1,000 connections
 *
 * 1,000 client tasks connect at once to one echo server, each sends its number and checks
 * that it gets its own number back. */
#define MANY 1000

typedef struct many_client {
    weft_async co;
    weft_sockaddr addr;
    uint32_t id, back;
    weft_tcp_connect conn;
    weft_io_write_all wr;
    weft_io_read_exact rd;
} many_client;

static weft_poll many_client_poll(weft_future *f, weft_context *cx)
{
    many_client *c = (many_client *)f;
    WEFT_ASYNC_BEGIN(&c->co);
    weft_tcp_connect_init(&c->conn, &c->addr);
    WEFT_AWAIT(&c->co, cx, &c->conn);
    if (c->conn.status) {
        weft_task_fail(cx, c->conn.status);
        WEFT_ASYNC_RETURN(&c->co);
    }
    weft_io_write_all_init(&c->wr, weft_tcp_stream_io(c->conn.stream), &c->id, sizeof c->id);
    WEFT_AWAIT(&c->co, cx, &c->wr);
    weft_io_read_exact_init(&c->rd, weft_tcp_stream_io(c->conn.stream), &c->back,
                            sizeof c->back);
    WEFT_AWAIT(&c->co, cx, &c->rd);
    weft_tcp_stream_close(c->conn.stream);
    if (c->wr.status || c->rd.status || c->back != c->id)
        weft_task_fail(cx, c->rd.status ? c->rd.status : WEFT_EIO);
    WEFT_ASYNC_END(&c->co);
}

static const weft_future_vtable many_client_vt = {many_client_poll, weft_async_drop, "client"};

typedef struct many_case {
    weft_async co;
    weft_sockaddr addr;
    weft_join_handle server;
    weft_join_handle *hs;
    int i, ok;
} many_case;

static weft_poll many_case_poll(weft_future *f, weft_context *cx)
{
    many_case *t = (many_case *)f;
    WEFT_ASYNC_BEGIN(&t->co);
    t->server = spawn_echo_server(&t->addr);
    t->hs = calloc(MANY, sizeof *t->hs);
    for (t->i = 0; t->i < MANY; t->i++) {
        many_client c = {.addr = t->addr, .id = (uint32_t)t->i * 7919u};
        weft_async_init(&c.co, &many_client_vt);
        t->hs[t->i] = weft_spawn(&c);
    }
    for (t->i = 0; t->i < MANY; t->i++) {
        WEFT_AWAIT(&t->co, cx, &t->hs[t->i]);
        if (t->hs[t->i].status == 0)
            t->ok++;
        else
            fprintf(stderr, "client %d: %s\n", t->i, weft_strerror(t->hs[t->i].status));
    }
    free(t->hs);
    assert_int_equal(t->ok, MANY);
    weft_join_handle_abort(&t->server);
    WEFT_AWAIT(&t->co, cx, &t->server);
    WEFT_ASYNC_END(&t->co);
}

static const weft_future_vtable many_case_vt = {many_case_poll, weft_async_drop, "many"};

static void test_tcp_thousand_concurrent_connections_ct(void **state)
{
    (void)state;
    many_case t = {0};
    weft_async_init(&t.co, &many_case_vt);
    net_run(WEFT_CURRENT_THREAD, &t.co.base);
}

static void test_tcp_thousand_concurrent_connections_mt(void **state)
{
    (void)state;
    many_case t = {0};
    weft_async_init(&t.co, &many_case_vt);
    net_run(WEFT_MULTI_THREAD, &t.co.base);
}

/* ---------------------------------------------------------------- misuse */

typedef struct no_io_case {
    weft_async co;
    int err;
} no_io_case;

static weft_poll no_io_poll(weft_future *f, weft_context *cx)
{
    (void)cx;
    no_io_case *t = (no_io_case *)f;
    weft_sockaddr any = loopback_any();
    weft_tcp_listener *l = (weft_tcp_listener *)&l;
    t->err = weft_tcp_listener_bind(&l, &any);
    assert_null(l);
    return WEFT_READY;
}

static const weft_future_vtable no_io_vt = {no_io_poll, NULL, "no_io"};

static void test_tcp_sockets_need_an_io_runtime(void **state)
{
    (void)state;
    weft_sockaddr any = loopback_any();
    weft_tcp_listener *l = NULL;
    assert_int_equal(weft_tcp_listener_bind(&l, &any), WEFT_ENORUNTIME);
    assert_null(l);

    weft_builder b = weft_builder_new_current_thread();
    weft_runtime *rt;
    assert_int_equal(weft_runtime_new(&b, &rt), 0);
    no_io_case t = {.co = {.base = {&no_io_vt}}};
    assert_int_equal(weft_block_on(rt, &t.co.base), 0);
    assert_int_equal(t.err, WEFT_ENOSYS);
    weft_runtime_shutdown(rt);
}

/* A socket closed after its runtime has shut down: a programming slip (net.h asks for the
 * opposite order) that must not crash. The reactor outlives its runtime while sockets are
 * still registered with it; ASan checks nothing freed is touched and nothing leaks. */
typedef struct outlive_case {
    weft_async co;
    weft_tcp_listener *l;
    weft_tcp_connect conn;
    weft_tcp_stream *s;
} outlive_case;

static weft_poll outlive_case_poll(weft_future *f, weft_context *cx)
{
    outlive_case *t = (outlive_case *)f;
    WEFT_ASYNC_BEGIN(&t->co);
    weft_sockaddr any = loopback_any(), addr;
    assert_int_equal(weft_tcp_listener_bind(&t->l, &any), 0);
    assert_int_equal(weft_tcp_listener_local_addr(t->l, &addr), 0);
    weft_tcp_connect_init(&t->conn, &addr);
    WEFT_AWAIT(&t->co, cx, &t->conn);
    assert_int_equal(t->conn.status, 0);
    t->s = t->conn.stream;
    WEFT_ASYNC_END(&t->co);
}

static const weft_future_vtable outlive_case_vt = {outlive_case_poll, weft_async_drop, "outlive"};

static void test_tcp_socket_closed_after_its_runtime_is_harmless(void **state)
{
    (void)state;
    weft_runtime *rt = net_rt(WEFT_CURRENT_THREAD);
    outlive_case t = {0};
    weft_async_init(&t.co, &outlive_case_vt);
    assert_int_equal(weft_block_on(rt, &t.co.base), 0);
    weft_runtime_shutdown(rt);
    weft_tcp_stream_close(t.s);
    weft_tcp_listener_close(t.l);
}

static void test_tcp_sockaddr_parse_and_format(void **state)
{
    (void)state;
    weft_sockaddr a;
    char buf[WEFT_SOCKADDR_STRLEN];
    assert_int_equal(weft_sockaddr_parse(&a, "10.1.2.3:8080"), 0);
    assert_int_equal(weft_sockaddr_port(&a), 8080);
    assert_int_equal(weft_sockaddr_format(&a, buf, sizeof buf), 0);
    assert_string_equal(buf, "10.1.2.3:8080");
    assert_int_equal(weft_sockaddr_parse(&a, "[::1]:443"), 0);
    assert_int_equal(weft_sockaddr_port(&a), 443);
    assert_int_equal(weft_sockaddr_format(&a, buf, sizeof buf), 0);
    assert_string_equal(buf, "[::1]:443");
    assert_int_equal(weft_sockaddr_unix(&a, "/tmp/x.sock"), 0);
    assert_int_equal(weft_sockaddr_format(&a, buf, sizeof buf), 0);
    assert_string_equal(buf, "unix:/tmp/x.sock");
    /* Too small a buffer: an error and a terminated prefix. */
    assert_int_equal(weft_sockaddr_format(&a, buf, 5), WEFT_EINVAL);
    assert_int_equal(strlen(buf), 4);

    static const char *bad[] = {
        "", ":", "1.2.3.4", "1.2.3.4:", "1.2.3.4:65536", "1.2.3.4:-1", "1.2.3.4:80x",
        "1.2.3:80", "localhost:80", "[::1]", "[::1]80", "[::1:80", "[zz]:80", "::1:80",
        "1.2.3.4:0000080", "[::1%]:80",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(weft_sockaddr_parse(&a, bad[i]), WEFT_EINVAL);
        assert_int_equal(a.len, 0);
    }
    assert_int_equal(weft_sockaddr_parse(&a, NULL), WEFT_EINVAL);
    char longpath[200];
    memset(longpath, 'p', sizeof longpath - 1);
    longpath[sizeof longpath - 1] = '\0';
    assert_int_equal(weft_sockaddr_unix(&a, longpath), WEFT_EINVAL);
    assert_int_equal(weft_sockaddr_unix(&a, ""), WEFT_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tcp_echo_round_trips_ct),
        cmocka_unit_test(test_tcp_echo_round_trips_mt),
        cmocka_unit_test(test_tcp_half_close_reads_answer_then_eof_ct),
        cmocka_unit_test(test_tcp_half_close_reads_answer_then_eof_mt),
        cmocka_unit_test(test_tcp_split_halves_read_and_write_at_once_ct),
        cmocka_unit_test(test_tcp_split_halves_read_and_write_at_once_mt),
        cmocka_unit_test(test_tcp_peer_reset_is_an_error_not_a_crash),
        cmocka_unit_test(test_tcp_connect_refused_reports_econnrefused),
        cmocka_unit_test(test_tcp_connect_timeout_gives_etimedout),
        cmocka_unit_test(test_tcp_nodelay_and_addresses),
        cmocka_unit_test(test_tcp_thousand_concurrent_connections_ct),
        cmocka_unit_test(test_tcp_thousand_concurrent_connections_mt),
        cmocka_unit_test(test_tcp_sockets_need_an_io_runtime),
        cmocka_unit_test(test_tcp_socket_closed_after_its_runtime_is_harmless),
        cmocka_unit_test(test_tcp_sockaddr_parse_and_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
