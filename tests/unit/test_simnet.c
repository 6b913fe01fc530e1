/* tests/unit/test_simnet.c - the simulated network behind weft/net.h, under the deterministic
 * scheduler: echo through bounded pipes, connect refused and hanging, end of stream and
 * reset, back-pressure and partial writes, UDP with drop and reorder, the options.
 *
 * Each program is a body for weft_explore (weft/sched.h), so it runs deterministically; what
 * a case checks it records into file-level results that the cmocka case asserts afterwards,
 * or asserts inside the run with weft_assert (a failed one fails the exploration).
 */
#include <errno.h>

#include "simnet_test_util.h"

/* ---------------------------------------------------------------- echo
 *
 * A client writes ECHO_LEN bytes through its write half while reading the echo through its
 * read half; the server echoes with read + write_all. Pipes of 512 bytes: the writer outruns
 * the echo and must wait for room, several times per run. */

#define ECHO_LEN 20000

static unsigned char echo_pattern[ECHO_LEN];
static struct {
    size_t received;       /* bytes the client read back */
    bool same;             /* ... equal to what it sent */
    weft_simnet_stats stats;
} echo_res;

typedef struct echo_server {
    weft_async co;
    weft_tcp_listener *l;
    weft_tcp_accept acc;
    weft_tcp_stream *s;
    weft_io_read rd;
    weft_io_write_all wr;
    unsigned char buf[700];
} echo_server;

static weft_poll echo_server_poll(weft_future *f, weft_context *cx)
{
    echo_server *e = (echo_server *)f;
    WEFT_ASYNC_BEGIN(&e->co);
    weft_tcp_accept_init(&e->acc, e->l);
    WEFT_AWAIT(&e->co, cx, &e->acc);
    weft_assert(e->acc.status == 0);
    e->s = e->acc.stream;
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

static void echo_server_drop(weft_future *f)
{
    echo_server *e = (echo_server *)f;
    weft_async_drop(f);
    weft_tcp_stream_close(e->s);
}

static const weft_future_vtable echo_server_vt = {echo_server_poll, echo_server_drop, "server"};

typedef struct echo_writer {
    weft_async co;
    weft_io_stream *wr_half;
    weft_io_write_all wr;
} echo_writer;

static weft_poll echo_writer_poll(weft_future *f, weft_context *cx)
{
    echo_writer *w = (echo_writer *)f;
    WEFT_ASYNC_BEGIN(&w->co);
    weft_io_write_all_init(&w->wr, w->wr_half, echo_pattern, ECHO_LEN);
    WEFT_AWAIT(&w->co, cx, &w->wr);
    weft_assert(w->wr.status == 0);
    weft_io_stream_close(w->wr_half); /* shuts the write side: the echo sees end of stream */
    w->wr_half = NULL;
    WEFT_ASYNC_END(&w->co);
}

static void echo_writer_drop(weft_future *f)
{
    echo_writer *w = (echo_writer *)f;
    weft_async_drop(f);
    weft_io_stream_close(w->wr_half);
}

static const weft_future_vtable echo_writer_vt = {echo_writer_poll, echo_writer_drop, "writer"};

typedef struct echo_main {
    weft_async co;
    weft_tcp_listener *l;
    weft_join_handle server, writer;
    weft_tcp_connect conn;
    weft_io_stream *rd_half;
    weft_io_read rd;
    unsigned char buf[1000];
} echo_main;

static weft_poll echo_main_poll(weft_future *f, weft_context *cx)
{
    echo_main *m = (echo_main *)f;
    WEFT_ASYNC_BEGIN(&m->co);
    weft_sockaddr a = sim_addr("10.0.0.1:7");
    if (!weft_assert(weft_tcp_listener_bind(&m->l, &a) == 0))
        WEFT_ASYNC_RETURN(&m->co);
    echo_server srv = {.l = m->l};
    weft_async_init(&srv.co, &echo_server_vt);
    m->server = weft_spawn_named("server", &srv);
    weft_tcp_connect_init(&m->conn, &a);
    WEFT_AWAIT(&m->co, cx, &m->conn);
    if (!weft_assert(m->conn.status == 0))
        WEFT_ASYNC_RETURN(&m->co);
    weft_io_stream *wh;
    weft_assert(weft_tcp_stream_split(m->conn.stream, &m->rd_half, &wh) == 0);
    echo_writer w = {.wr_half = wh};
    weft_async_init(&w.co, &echo_writer_vt);
    m->writer = weft_spawn_named("writer", &w);
    echo_res.same = true;
    for (;;) {
        weft_io_read_init(&m->rd, m->rd_half, m->buf, sizeof m->buf);
        WEFT_AWAIT(&m->co, cx, &m->rd);
        weft_assert(m->rd.status == 0);
        if (m->rd.status || m->rd.n == 0)
            break;
        if (echo_res.received + m->rd.n > ECHO_LEN ||
            memcmp(m->buf, echo_pattern + echo_res.received, m->rd.n) != 0)
            echo_res.same = false;
        echo_res.received += m->rd.n;
    }
    WEFT_AWAIT(&m->co, cx, &m->writer);
    WEFT_AWAIT(&m->co, cx, &m->server);
    weft_simnet_stats_get(&echo_res.stats);
    weft_assert(echo_res.same && echo_res.received == ECHO_LEN);
    WEFT_ASYNC_END(&m->co);
}

static void echo_main_drop(weft_future *f)
{
    echo_main *m = (echo_main *)f;
    weft_async_drop(f);
    weft_join_handle_detach(&m->server);
    weft_join_handle_detach(&m->writer);
}

static const weft_future_vtable echo_main_vt = {echo_main_poll, echo_main_drop, "main"};

static int echo_body(void *arg)
{
    (void)arg;
    memset(&echo_res, 0, sizeof echo_res);
    echo_main m = {0};
    weft_async_init(&m.co, &echo_main_vt);
    int rc = sim_run(&m.co.base);
    /* After the runtime: the streams are closed by the tasks, the listener by us. */
    weft_tcp_listener_close(m.l);
    weft_io_stream_close(m.rd_half);
    return rc;
}

static void test_simnet_echo_through_bounded_pipes(void **state)
{
    (void)state;
    for (size_t i = 0; i < ECHO_LEN; i++)
        echo_pattern[i] = (unsigned char)(i * 7 + i / 251);
    sim_options(512, true);
    sim_explore_clean("simnet_echo", echo_body, NULL, "random", 1, 40, false);
    sim_explore_clean("simnet_echo", echo_body, NULL, "pct:2", 1, 20, false);
    /* The last run: everything came back, through many cut reads. */
    assert_int_equal(echo_res.received, ECHO_LEN);
    assert_true(echo_res.same);
    assert_int_equal(echo_res.stats.connections, 1);
    assert_int_equal(echo_res.stats.bytes, 2 * ECHO_LEN);
    assert_true(echo_res.stats.short_reads > 10);
    /* Without splitting and with big pipes it works the same, in fewer reads. */
    sim_options(1 << 20, false);
    sim_explore_clean("simnet_echo", echo_body, NULL, "random", 1, 5, false);
    assert_int_equal(echo_res.stats.short_reads, 0);
    assert_int_equal(weft_simnet_configure(NULL), 0);
}

/* ---------------------------------------------------------------- connect */

static struct {
    int refused, unix_missing, hang, dup_tcp, dup_unix, unix_ok, wildcard;
    weft_sockaddr wildcard_peer, wildcard_local, client_local;
    weft_duration hang_vtime;
} conn_res;

typedef struct conn_main {
    weft_async co;
    weft_tcp_connect tc;
    weft_unix_connect uc;
    weft_unix_accept ua;
    weft_tcp_accept ta;
    weft_tcp_listener *wild;
    weft_unix_listener *ul;
} conn_main;

static weft_poll conn_main_poll(weft_future *f, weft_context *cx)
{
    conn_main *m = (conn_main *)f;
    WEFT_ASYNC_BEGIN(&m->co);
    /* Nobody listens on 10.0.0.2:80: refused. */
    {
        weft_sockaddr a = sim_addr("10.0.0.2:80");
        weft_tcp_connect_init(&m->tc, &a);
    }
    WEFT_AWAIT(&m->co, cx, &m->tc);
    conn_res.refused = m->tc.status;
    weft_unix_connect_init(&m->uc, "/sim/nobody.sock");
    WEFT_AWAIT(&m->co, cx, &m->uc);
    conn_res.unix_missing = m->uc.status;

    /* A `hang` address: only the timeout ends the connect, in virtual time. */
    {
        weft_sockaddr a = sim_addr("10.0.0.9:80");
        weft_tcp_connect_timeout_init(&m->tc, &a, weft_secs(5));
    }
    WEFT_AWAIT(&m->co, cx, &m->tc);
    conn_res.hang = m->tc.status;
    {
        weft_sched_stats st;
        weft_sched_stats_get(&st);
        conn_res.hang_vtime = st.vtime;
    }

    /* A wildcard listener takes a connect to any IP at its port. */
    {
        weft_sockaddr any = sim_addr("0.0.0.0:9000");
        weft_assert(weft_tcp_listener_bind(&m->wild, &any) == 0);
        weft_tcp_listener *dup = NULL;
        weft_sockaddr same = sim_addr("10.1.2.3:9000");
        conn_res.dup_tcp = weft_tcp_listener_bind(&dup, &same);
        weft_tcp_connect_init(&m->tc, &same);
    }
    WEFT_AWAIT(&m->co, cx, &m->tc);
    conn_res.wildcard = m->tc.status;
    weft_tcp_accept_init(&m->ta, m->wild);
    WEFT_AWAIT(&m->co, cx, &m->ta);
    weft_assert(m->ta.status == 0);
    conn_res.wildcard_peer = m->ta.peer;
    weft_tcp_stream_local_addr(m->ta.stream, &conn_res.wildcard_local);
    weft_tcp_stream_local_addr(m->tc.stream, &conn_res.client_local);
    weft_tcp_stream_close(m->ta.stream);
    weft_tcp_stream_close(m->tc.stream);

    /* Unix paths are names in the simulation: no file, and a second bind is refused. */
    weft_assert(weft_unix_listener_bind(&m->ul, "/sim/srv.sock", 0600) == 0);
    {
        weft_unix_listener *dup = NULL;
        conn_res.dup_unix = weft_unix_listener_bind(&dup, "/sim/srv.sock", 0600);
    }
    weft_unix_connect_init(&m->uc, "/sim/srv.sock");
    WEFT_AWAIT(&m->co, cx, &m->uc);
    conn_res.unix_ok = m->uc.status;
    weft_unix_accept_init(&m->ua, m->ul);
    WEFT_AWAIT(&m->co, cx, &m->ua);
    weft_assert(m->ua.status == 0);
    weft_unix_stream_close(m->ua.stream);
    weft_unix_stream_close(m->uc.stream);
    WEFT_ASYNC_END(&m->co);
}

static const weft_future_vtable conn_main_vt = {conn_main_poll, weft_async_drop, "main"};

static int conn_body(void *arg)
{
    (void)arg;
    memset(&conn_res, 0, sizeof conn_res);
    conn_main m = {0};
    weft_async_init(&m.co, &conn_main_vt);
    int rc = sim_run(&m.co.base);
    weft_tcp_listener_close(m.wild);
    weft_unix_listener_close(m.ul);
    return rc;
}

static void test_simnet_connect_refused_hang_and_wildcard(void **state)
{
    (void)state;
    weft_simnet_options o;
    weft_simnet_options_default(&o);
    o.hang[o.nhang++] = sim_addr("10.0.0.9:80");
    assert_int_equal(weft_simnet_configure(&o), 0);
    sim_explore_clean("simnet_connect", conn_body, NULL, "random", 3, 10, false);
    assert_int_equal(weft_simnet_configure(NULL), 0);

    assert_int_equal(conn_res.refused, weft_os_error(ECONNREFUSED));
    assert_int_equal(conn_res.unix_missing, weft_os_error(ENOENT));
    assert_int_equal(conn_res.hang, WEFT_ETIMEDOUT);
    /* The timeout ran on virtual time: five seconds passed, not one more. */
    assert_true(conn_res.hang_vtime >= weft_secs(5));
    assert_true(conn_res.hang_vtime < weft_secs(6));
    assert_int_equal(conn_res.dup_tcp, weft_os_error(EADDRINUSE));
    assert_int_equal(conn_res.dup_unix, weft_os_error(EADDRINUSE));
    assert_int_equal(conn_res.wildcard, 0);
    assert_int_equal(conn_res.unix_ok, 0);
    /* The server sees the client's address, and its own as the IP the client dialled. */
    char peer[WEFT_SOCKADDR_STRLEN], local[WEFT_SOCKADDR_STRLEN], client[WEFT_SOCKADDR_STRLEN];
    weft_sockaddr_format(&conn_res.wildcard_peer, peer, sizeof peer);
    weft_sockaddr_format(&conn_res.wildcard_local, local, sizeof local);
    weft_sockaddr_format(&conn_res.client_local, client, sizeof client);
    assert_string_equal(local, "10.1.2.3:9000");
    assert_string_equal(peer, client);
    assert_true(strncmp(client, "10.1.2.3:", 9) == 0);
    assert_true(weft_sockaddr_port(&conn_res.client_local) >= 49152);
}

/* ---------------------------------------------------------------- EOF and reset
 *
 * One future drives both ends (connect, then accept), so every step happens in a known
 * order: what is checked is the network's answers, not an interleaving. */

static struct {
    int eof_read1, eof_read2, write_after_shutdown, server_sees_eof;
    size_t hello_n;
    char hello[16];
    int reset_read, reset_write;
    int closed_read, closed_write;
    weft_simnet_stats stats;
} eof_res;

typedef struct eof_main {
    weft_async co;
    weft_tcp_listener *l;
    weft_tcp_connect c;
    weft_tcp_accept a;
    weft_tcp_stream *cli, *srv;
    weft_io_read rd;
    weft_io_read_exact rx;
    weft_io_write_all wa;
    weft_io_write w;
    unsigned char buf[64];
    int round;
} eof_main;

static weft_poll eof_main_poll(weft_future *f, weft_context *cx)
{
    eof_main *m = (eof_main *)f;
    WEFT_ASYNC_BEGIN(&m->co);
    {
        weft_sockaddr a = sim_addr("127.0.0.1:0");
        weft_assert(weft_tcp_listener_bind(&m->l, &a) == 0);
    }
    for (m->round = 0; m->round < 3; m->round++) {
        {
            weft_sockaddr a;
            weft_tcp_listener_local_addr(m->l, &a);
            weft_tcp_connect_init(&m->c, &a);
        }
        WEFT_AWAIT(&m->co, cx, &m->c);
        weft_assert(m->c.status == 0);
        m->cli = m->c.stream;
        weft_tcp_accept_init(&m->a, m->l);
        WEFT_AWAIT(&m->co, cx, &m->a);
        weft_assert(m->a.status == 0);
        m->srv = m->a.stream;

        if (m->round == 0) {
            /* End of stream: the server says hello and shuts its side down. */
            weft_io_write_all_init(&m->wa, weft_tcp_stream_io(m->srv), "hello", 5);
            WEFT_AWAIT(&m->co, cx, &m->wa);
            weft_assert(weft_tcp_stream_shutdown_write(m->srv) == 0);
            weft_io_read_exact_init(&m->rx, weft_tcp_stream_io(m->cli), eof_res.hello, 5);
            WEFT_AWAIT(&m->co, cx, &m->rx);
            eof_res.hello_n = m->rx.done;
            weft_io_read_init(&m->rd, weft_tcp_stream_io(m->cli), m->buf, sizeof m->buf);
            WEFT_AWAIT(&m->co, cx, &m->rd);
            eof_res.eof_read1 = m->rd.status ? m->rd.status : (int)m->rd.n;
            weft_io_read_init(&m->rd, weft_tcp_stream_io(m->cli), m->buf, sizeof m->buf);
            WEFT_AWAIT(&m->co, cx, &m->rd);
            eof_res.eof_read2 = m->rd.status ? m->rd.status : (int)m->rd.n;
            /* The client shuts down too: its writes fail, the server reads end of stream. */
            weft_tcp_stream_shutdown_write(m->cli);
            weft_io_write_init(&m->w, weft_tcp_stream_io(m->cli), "x", 1);
            WEFT_AWAIT(&m->co, cx, &m->w);
            eof_res.write_after_shutdown = m->w.status;
            weft_io_read_init(&m->rd, weft_tcp_stream_io(m->srv), m->buf, sizeof m->buf);
            WEFT_AWAIT(&m->co, cx, &m->rd);
            eof_res.server_sees_eof = m->rd.status ? m->rd.status : (int)m->rd.n;
        } else if (m->round == 1) {
            /* Reset: the server closes with the client's bytes unread. */
            weft_io_write_all_init(&m->wa, weft_tcp_stream_io(m->cli), "unread", 6);
            WEFT_AWAIT(&m->co, cx, &m->wa);
            weft_tcp_stream_close(m->srv);
            m->srv = NULL;
            weft_io_read_init(&m->rd, weft_tcp_stream_io(m->cli), m->buf, sizeof m->buf);
            WEFT_AWAIT(&m->co, cx, &m->rd);
            eof_res.reset_read = m->rd.status;
            weft_io_write_init(&m->w, weft_tcp_stream_io(m->cli), "x", 1);
            WEFT_AWAIT(&m->co, cx, &m->w);
            eof_res.reset_write = m->w.status;
        } else {
            /* A close with nothing unread: end of stream, then writes fail with EPIPE. */
            weft_tcp_stream_close(m->srv);
            m->srv = NULL;
            weft_io_read_init(&m->rd, weft_tcp_stream_io(m->cli), m->buf, sizeof m->buf);
            WEFT_AWAIT(&m->co, cx, &m->rd);
            eof_res.closed_read = m->rd.status ? m->rd.status : (int)m->rd.n;
            weft_io_write_init(&m->w, weft_tcp_stream_io(m->cli), "x", 1);
            WEFT_AWAIT(&m->co, cx, &m->w);
            eof_res.closed_write = m->w.status;
        }
        weft_tcp_stream_close(m->cli);
        weft_tcp_stream_close(m->srv);
        m->cli = m->srv = NULL;
    }
    weft_simnet_stats_get(&eof_res.stats);
    WEFT_ASYNC_END(&m->co);
}

static void eof_main_drop(weft_future *f)
{
    eof_main *m = (eof_main *)f;
    weft_async_drop(f);
    weft_tcp_stream_close(m->cli);
    weft_tcp_stream_close(m->srv);
}

static const weft_future_vtable eof_main_vt = {eof_main_poll, eof_main_drop, "main"};

static int eof_body(void *arg)
{
    (void)arg;
    memset(&eof_res, 0, sizeof eof_res);
    eof_main m = {0};
    weft_async_init(&m.co, &eof_main_vt);
    int rc = sim_run(&m.co.base);
    weft_tcp_listener_close(m.l);
    return rc;
}

static void test_simnet_eof_and_reset(void **state)
{
    (void)state;
    sim_explore_clean("simnet_eof", eof_body, NULL, "random", 1, 20, false);
    assert_int_equal(eof_res.hello_n, 5);
    assert_memory_equal(eof_res.hello, "hello", 5);
    assert_int_equal(eof_res.eof_read1, 0); /* end of stream ... */
    assert_int_equal(eof_res.eof_read2, 0); /* ... for good */
    assert_int_equal(eof_res.write_after_shutdown, WEFT_ECLOSED);
    assert_int_equal(eof_res.server_sees_eof, 0);
    assert_int_equal(eof_res.reset_read, weft_os_error(ECONNRESET));
    assert_int_equal(eof_res.reset_write, weft_os_error(ECONNRESET));
    assert_int_equal(eof_res.closed_read, 0);
    assert_int_equal(eof_res.closed_write, weft_os_error(EPIPE));
    assert_int_equal(eof_res.stats.resets, 1);
    assert_int_equal(eof_res.stats.connections, 3);
}

/* ---------------------------------------------------------------- back-pressure
 *
 * Pipes of 64 bytes: a 200-byte write_all cannot finish until the reader reads; meanwhile at
 * most 64 bytes are in flight, and a single write takes at most 64. */

static struct {
    size_t first_write;
    uint64_t in_flight;   /* client's bytes out while the writer is stuck */
    bool writer_done_early;
    bool content_ok;
} bp_res;

static bool bp_writer_done;

typedef struct bp_writer {
    weft_async co;
    weft_tcp_stream *s;
    weft_io_write_all wa;
    unsigned char data[200];
} bp_writer;

static weft_poll bp_writer_poll(weft_future *f, weft_context *cx)
{
    bp_writer *w = (bp_writer *)f;
    WEFT_ASYNC_BEGIN(&w->co);
    for (int i = 0; i < 200; i++)
        w->data[i] = (unsigned char)i;
    weft_io_write_all_init(&w->wa, weft_tcp_stream_io(w->s), w->data, sizeof w->data);
    WEFT_AWAIT(&w->co, cx, &w->wa);
    weft_assert(w->wa.status == 0);
    bp_writer_done = true;
    WEFT_ASYNC_END(&w->co);
}

static const weft_future_vtable bp_writer_vt = {bp_writer_poll, weft_async_drop, "writer"};

typedef struct bp_main {
    weft_async co;
    weft_tcp_listener *l;
    weft_tcp_connect c;
    weft_tcp_accept a;
    weft_io_write w;
    weft_io_read_exact rx;
    weft_yield_now y;
    weft_join_handle h;
    int i;
    unsigned char big[200];
    unsigned char got[200];
} bp_main;

static weft_poll bp_main_poll(weft_future *f, weft_context *cx)
{
    bp_main *m = (bp_main *)f;
    WEFT_ASYNC_BEGIN(&m->co);
    {
        weft_sockaddr a = sim_addr("[::1]:4000");
        weft_assert(weft_tcp_listener_bind(&m->l, &a) == 0);
        weft_tcp_connect_init(&m->c, &a);
    }
    WEFT_AWAIT(&m->co, cx, &m->c);
    weft_assert(m->c.status == 0);
    weft_tcp_accept_init(&m->a, m->l);
    WEFT_AWAIT(&m->co, cx, &m->a);
    weft_assert(m->a.status == 0);
    /* One write into an empty 64-byte pipe: partial. */
    weft_io_write_init(&m->w, weft_tcp_stream_io(m->a.stream), m->big, sizeof m->big);
    WEFT_AWAIT(&m->co, cx, &m->w);
    bp_res.first_write = m->w.n;
    /* Drain it so the writer below starts from an empty pipe. */
    weft_io_read_exact_init(&m->rx, weft_tcp_stream_io(m->c.stream), m->got, m->w.n);
    WEFT_AWAIT(&m->co, cx, &m->rx);

    bp_writer w = {.s = m->c.stream};
    weft_async_init(&w.co, &bp_writer_vt);
    m->h = weft_spawn_named("writer", &w);
    for (m->i = 0; m->i < 20; m->i++) {
        weft_yield_now_init(&m->y);
        WEFT_AWAIT(&m->co, cx, &m->y);
    }
    bp_res.writer_done_early = bp_writer_done;
    {
        uint64_t out = 0;
        weft_tcp_stream_bytes(m->c.stream, NULL, &out);
        bp_res.in_flight = out;
    }
    weft_io_read_exact_init(&m->rx, weft_tcp_stream_io(m->a.stream), m->got, sizeof m->got);
    WEFT_AWAIT(&m->co, cx, &m->rx);
    weft_assert(m->rx.status == 0);
    WEFT_AWAIT(&m->co, cx, &m->h);
    bp_res.content_ok = true;
    for (int i = 0; i < 200; i++)
        bp_res.content_ok &= m->got[i] == (unsigned char)i;
    weft_tcp_stream_close(m->a.stream);
    weft_tcp_stream_close(m->c.stream);
    WEFT_ASYNC_END(&m->co);
}

static void bp_main_drop(weft_future *f)
{
    bp_main *m = (bp_main *)f;
    weft_async_drop(f);
    weft_join_handle_detach(&m->h);
}

static const weft_future_vtable bp_main_vt = {bp_main_poll, bp_main_drop, "main"};

static int bp_body(void *arg)
{
    (void)arg;
    memset(&bp_res, 0, sizeof bp_res);
    bp_writer_done = false;
    bp_main m = {0};
    weft_async_init(&m.co, &bp_main_vt);
    int rc = sim_run(&m.co.base);
    weft_tcp_listener_close(m.l);
    return rc;
}

static void test_simnet_backpressure_and_partial_writes(void **state)
{
    (void)state;
    sim_options(64, false);
    sim_explore_clean("simnet_bp", bp_body, NULL, "random", 1, 20, false);
    assert_int_equal(bp_res.first_write, 64);
    assert_false(bp_res.writer_done_early);
    assert_int_equal(bp_res.in_flight, 64);
    assert_true(bp_res.content_ok);
    /* With splitting, the same holds and the first write may be cut shorter still. */
    sim_options(64, true);
    sim_explore_clean("simnet_bp", bp_body, NULL, "random", 1, 20, false);
    assert_true(bp_res.first_write >= 1 && bp_res.first_write <= 64);
    assert_false(bp_res.writer_done_early);
    assert_true(bp_res.content_ok);
    assert_int_equal(weft_simnet_configure(NULL), 0);
}

/* ---------------------------------------------------------------- UDP */

static struct {
    char got[8][16];
    size_t n[8];
    int count;
    weft_sockaddr from, b_local;
    int timed_out;
    weft_simnet_stats stats;
} udp_res;

typedef struct udp_main {
    weft_async co;
    weft_udp_socket *a, *b;
    weft_udp_send s;
    weft_udp_recv r;
    weft_timeout t;
    int i, sends;
    const char *msgs[4];
    char buf[16];
} udp_main;

static int udp_sends; /* datagrams to send (the case sets it) */
static int udp_recv_cap;

static weft_poll udp_main_poll(weft_future *f, weft_context *cx)
{
    udp_main *m = (udp_main *)f;
    WEFT_ASYNC_BEGIN(&m->co);
    {
        weft_sockaddr a = sim_addr("10.0.0.1:5000"), any = sim_addr("0.0.0.0:0");
        weft_assert(weft_udp_bind(&m->a, &a) == 0);
        weft_assert(weft_udp_bind(&m->b, &any) == 0);
        weft_udp_local_addr(m->b, &udp_res.b_local);
    }
    for (m->i = 0; m->i < udp_sends; m->i++) {
        snprintf(m->buf, sizeof m->buf, "msg%d", m->i);
        {
            weft_sockaddr a = sim_addr("10.0.0.1:5000");
            weft_udp_send_to_init(&m->s, m->b, m->buf, strlen(m->buf), &a);
        }
        WEFT_AWAIT(&m->co, cx, &m->s);
        weft_assert(m->s.status == 0 && m->s.n == strlen(m->buf));
    }
    for (m->i = 0; m->i < 8; m->i++) {
        weft_udp_recv_from_init(&m->r, m->a, udp_res.got[udp_res.count], (size_t)udp_recv_cap);
        weft_timeout_init(&m->t, weft_secs(1), &m->r.base);
        WEFT_AWAIT(&m->co, cx, &m->t);
        if (m->t.status == WEFT_EELAPSED) {
            udp_res.timed_out = 1;
            break;
        }
        weft_assert(m->r.status == 0);
        udp_res.n[udp_res.count++] = m->r.n;
        udp_res.from = m->r.from;
    }
    weft_simnet_stats_get(&udp_res.stats);
    WEFT_ASYNC_END(&m->co);
}

static const weft_future_vtable udp_main_vt = {udp_main_poll, weft_async_drop, "main"};

static int udp_body(void *arg)
{
    (void)arg;
    memset(&udp_res, 0, sizeof udp_res);
    udp_main m = {0};
    weft_async_init(&m.co, &udp_main_vt);
    int rc = sim_run(&m.co.base);
    weft_udp_close(m.a);
    weft_udp_close(m.b);
    return rc;
}

static void udp_case(unsigned drop, unsigned reorder, int sends, int cap)
{
    weft_simnet_options o;
    weft_simnet_options_default(&o);
    o.udp_drop = drop;
    o.udp_reorder = reorder;
    assert_int_equal(weft_simnet_configure(&o), 0);
    udp_sends = sends;
    udp_recv_cap = cap;
    sim_explore_clean("simnet_udp", udp_body, NULL, "random", 5, 3, false);
    assert_int_equal(weft_simnet_configure(NULL), 0);
}

static void test_simnet_udp_datagrams_drop_and_reorder(void **state)
{
    (void)state;
    /* Delivered whole, in order, from the sender's port on the destination's IP. */
    udp_case(0, 0, 3, 16);
    assert_int_equal(udp_res.count, 3);
    assert_string_equal(udp_res.got[0], "msg0");
    assert_string_equal(udp_res.got[2], "msg2");
    assert_int_equal(udp_res.timed_out, 1);
    char from[WEFT_SOCKADDR_STRLEN];
    weft_sockaddr_format(&udp_res.from, from, sizeof from);
    char want[WEFT_SOCKADDR_STRLEN];
    snprintf(want, sizeof want, "10.0.0.1:%u", weft_sockaddr_port(&udp_res.b_local));
    assert_string_equal(from, want);
    /* Truncated to the receiver's buffer, as recvfrom does. */
    udp_case(0, 0, 1, 2);
    assert_int_equal(udp_res.n[0], 2);
    assert_memory_equal(udp_res.got[0], "ms", 2);
    /* Every one lost. */
    udp_case(100, 0, 5, 16);
    assert_int_equal(udp_res.count, 0);
    assert_int_equal(udp_res.stats.datagrams_dropped, 5);
    /* Every one overtakes the one before it: 0, then 1 before 0, then 2 before 0. */
    udp_case(0, 100, 3, 16);
    assert_int_equal(udp_res.count, 3);
    assert_string_equal(udp_res.got[0], "msg1");
    assert_string_equal(udp_res.got[1], "msg2");
    assert_string_equal(udp_res.got[2], "msg0");
    assert_int_equal(udp_res.stats.datagrams_reordered, 2);
    /* Some lost at 50%: the seed decides which, and not all or none of 8. */
    udp_case(50, 0, 8, 16);
    assert_true(udp_res.count > 0 && udp_res.count < 8);
    assert_int_equal(udp_res.stats.datagrams_dropped, (uint64_t)(8 - udp_res.count));
}

/* ---------------------------------------------------------------- options */

static void test_simnet_options_parse_and_reject(void **state)
{
    (void)state;
    weft_simnet_options o;
    weft_simnet_options_default(&o);
    assert_int_equal(o.buffer, 65536);
    assert_true(o.split);
    char err[256];
    assert_int_equal(weft_simnet_parse(&o, "buffer=4096,split=off,udp-drop=10,udp-reorder=25,"
                                           "udp-queue=16,hang=10.0.0.9:80,hang=[::1]:9",
                                       err, sizeof err),
                     0);
    assert_int_equal(o.buffer, 4096);
    assert_false(o.split);
    assert_int_equal(o.udp_drop, 10);
    assert_int_equal(o.udp_reorder, 25);
    assert_int_equal(o.udp_queue, 16);
    assert_int_equal(o.nhang, 2);
    assert_int_equal(weft_sockaddr_port(&o.hang[1]), 9);

    const char *bad[] = {"buffer=0", "buffer=99999999999", "split=maybe", "udp-drop=101",
                         "udp-queue=0", "hang=nowhere", "colour=blue", "buffer", "buffer=12x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        weft_simnet_options t;
        weft_simnet_options_default(&t);
        err[0] = '\0';
        if (weft_simnet_parse(&t, bad[i], err, sizeof err) != WEFT_EINVAL)
            fail_msg("'%s' was accepted", bad[i]);
        assert_true(err[0] != '\0');
        /* A refused text leaves the options as they were. */
        assert_int_equal(t.buffer, 65536);
    }
    weft_simnet_options_default(&o);
    o.udp_drop = 101;
    assert_int_equal(weft_simnet_configure(&o), WEFT_EINVAL);
}

/* A runtime that is not deterministic has real sockets, not the simulation. */
typedef struct probe {
    weft_future base;
    int rc;
} probe;

static weft_poll probe_poll(weft_future *f, weft_context *cx)
{
    probe *p = (probe *)f;
    (void)cx;
    weft_simnet_stats st;
    p->rc = weft_simnet_stats_get(&st);
    return WEFT_READY;
}

static const weft_future_vtable probe_vt = {probe_poll, NULL, "probe"};

static void test_simnet_only_under_the_deterministic_scheduler(void **state)
{
    (void)state;
    weft_simnet_stats st;
    assert_int_equal(weft_simnet_stats_get(&st), WEFT_ENORUNTIME);
    weft_builder b = weft_builder_new_current_thread();
    b.enable_io = true;
    weft_runtime *rt;
    assert_int_equal(weft_runtime_new(&b, &rt), 0);
    probe p = {.base = {&probe_vt}};
    assert_int_equal(weft_block_on(rt, &p.base), 0);
    assert_int_equal(p.rc, WEFT_ENOSYS);
    weft_runtime_shutdown(rt);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_simnet_echo_through_bounded_pipes),
        cmocka_unit_test(test_simnet_connect_refused_hang_and_wildcard),
        cmocka_unit_test(test_simnet_eof_and_reset),
        cmocka_unit_test(test_simnet_backpressure_and_partial_writes),
        cmocka_unit_test(test_simnet_udp_datagrams_drop_and_reorder),
        cmocka_unit_test(test_simnet_options_parse_and_reject),
        cmocka_unit_test(test_simnet_only_under_the_deterministic_scheduler),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
