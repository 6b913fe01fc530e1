/* tests/io/test_io_examples.c - the usage examples of weft/io.h, io_buf.h, codec.h and fs.h,
 * copied here as they are written in the headers' comments and run, so that an example that
 * stops compiling or stops working fails a test. Keep the two in step.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "io_test_util.h"
#include <weft/codec.h>
#include <weft/fs.h>
#include <weft/io_buf.h>

/* ---------------------------------------------------------------- weft/io.h: echo */

typedef struct echo {
    weft_async co;
    weft_io_stream *conn;       // borrowed: a TCP stream, a duplex end...
    weft_io_read rd;
    weft_io_write_all wr;
    unsigned char buf[4096];
} echo;

static weft_poll echo_poll(weft_future *f, weft_context *cx) {
    echo *e = (echo *)f;
    WEFT_ASYNC_BEGIN(&e->co);
    for (;;) {
        weft_io_read_init(&e->rd, e->conn, e->buf, sizeof e->buf);
        WEFT_AWAIT(&e->co, cx, &e->rd);
        if (e->rd.status < 0 || e->rd.n == 0)
            break;                           // error, or the peer is done
        weft_io_write_all_init(&e->wr, e->conn, e->buf, e->rd.n);
        WEFT_AWAIT(&e->co, cx, &e->wr);
        if (e->wr.status < 0)
            break;                           // e->wr.done bytes went out
    }
    WEFT_ASYNC_END(&e->co);
}
static const weft_future_vtable echo_vt = {echo_poll, weft_async_drop, "echo"};

static void test_io_examples_echo(void **state)
{
    (void)state;
    weft_runtime *rt = io_rt_new(WEFT_CURRENT_THREAD);
    weft_duplex *client, *server;
    weft_duplex_options o = weft_duplex_options_default();
    o.max_chunk = 3;
    weft_duplex_new(&o, &client, &server);
    echo e = {.conn = weft_duplex_stream(server)};
    weft_async_init(&e.co, &echo_vt);
    weft_join_handle h = weft_runtime_spawn(rt, &e);
    weft_io_write_all wa;
    weft_io_write_all_init(&wa, weft_duplex_stream(client), "ping-pong", 9);
    io_block_on(rt, &wa);
    char got[9];
    weft_io_read_exact re;
    weft_io_read_exact_init(&re, weft_duplex_stream(client), got, 9);
    io_block_on(rt, &re);
    assert_memory_equal(got, "ping-pong", 9);
    weft_io_stream_close(weft_duplex_stream(client));   // echo reads end of stream
    io_block_on(rt, &h);
    assert_int_equal(h.status, 0);
    weft_duplex_free(server);
    weft_runtime_shutdown(rt);
}

/* ---------------------------------------------------------------- weft/io_buf.h: session */

typedef struct session {
    weft_async co;
    weft_buf_reader in;            // over the connection, set up by the acceptor:
    weft_io_stream *conn;          //   weft_buf_reader_init(&s->in, s->conn, 4096)
    weft_buf_next_line next;
    weft_io_write_all reply;
} session;

static weft_poll session_poll(weft_future *f, weft_context *cx) {
    session *s = (session *)f;
    WEFT_ASYNC_BEGIN(&s->co);
    for (;;) {
        weft_buf_next_line_init(&s->next, &s->in, 1024);
        WEFT_AWAIT(&s->co, cx, &s->next);
        if (s->next.status == WEFT_ECLOSED)
            break;                          // the client hung up between lines
        if (s->next.status < 0)
            break;                          // WEFT_ETOOBIG, an I/O error...: close
        // s->next.line / s->next.len: the command, without its "\n"
        weft_io_write_all_init(&s->reply, s->conn, "ok\n", 3);
        WEFT_AWAIT(&s->co, cx, &s->reply);
        if (s->reply.status < 0)
            break;
    }
    weft_buf_reader_free(&s->in);
    weft_io_stream_close(s->conn);
    WEFT_ASYNC_END(&s->co);
}
static const weft_future_vtable session_vt = {session_poll, weft_async_drop, "session"};

static void test_io_examples_session(void **state)
{
    (void)state;
    weft_runtime *rt = io_rt_new(WEFT_CURRENT_THREAD);
    weft_duplex *client, *server;
    weft_duplex_new(NULL, &client, &server);
    session s = {.conn = weft_duplex_stream(server)};
    weft_async_init(&s.co, &session_vt);
    weft_buf_reader_init(&s.in, s.conn, 4096);
    weft_join_handle h = weft_runtime_spawn(rt, &s);
    weft_join_handle f = feeder_spawn(rt, weft_duplex_stream(client), "a\nbb\r\n", 6, true);
    join_value(rt, &f);
    char got[7] = {0};
    weft_io_read_exact re;
    weft_io_read_exact_init(&re, weft_duplex_stream(client), got, 6);
    io_block_on(rt, &re);
    assert_string_equal(got, "ok\nok\n");
    io_block_on(rt, &h);
    weft_io_read rd; /* the session closed its end: end of stream */
    weft_io_read_init(&rd, weft_duplex_stream(client), got, 1);
    io_block_on(rt, &rd);
    assert_int_equal(rd.n, 0);
    weft_duplex_free(client);
    weft_runtime_shutdown(rt);
}

/* ---------------------------------------------------------------- weft/codec.h: conn */

typedef struct conn {
    weft_async co;
    weft_io_stream *sock;      // borrowed: a TCP stream, a duplex end...
    weft_framed_read in;       // weft_framed_read_init(&c->in, c->sock,
    weft_framed_write out;     //     weft_codec_length_u32(65536), 0), same for out
    weft_frame_next next;
    weft_frame_send send;
    weft_timeout deadline;
} conn;

static weft_poll conn_poll(weft_future *f, weft_context *cx) {
    conn *c = (conn *)f;
    WEFT_ASYNC_BEGIN(&c->co);
    for (;;) {
        weft_frame_next_init(&c->next, &c->in);
        weft_timeout_init(&c->deadline, weft_secs(30), &c->next.base);
        WEFT_AWAIT(&c->co, cx, &c->deadline);
        if (c->deadline.status == WEFT_EELAPSED)
            continue;               // idle: a partial frame is kept, nothing lost
        if (c->next.status == WEFT_ECLOSED)
            break;                  // the client hung up between frames
        if (c->next.status < 0)
            break;                  // too big, cut short, I/O error: close
        // c->next.frame / c->next.len: the request, valid until the next frame_next
        weft_frame_send_init(&c->send, &c->out, c->next.frame, c->next.len);
        WEFT_AWAIT(&c->co, cx, &c->send);
        if (c->send.status < 0)
            break;
    }
    weft_framed_read_free(&c->in);
    weft_framed_write_free(&c->out);
    weft_io_stream_close(c->sock);
    WEFT_ASYNC_END(&c->co);
}
static const weft_future_vtable conn_vt = {conn_poll, weft_async_drop, "conn"};

static void test_io_examples_conn(void **state)
{
    (void)state;
    weft_runtime *rt = io_rt_new(WEFT_CURRENT_THREAD);
    weft_duplex *client, *server;
    weft_duplex_new(NULL, &client, &server);
    conn c = {.sock = weft_duplex_stream(server)};
    weft_async_init(&c.co, &conn_vt);
    weft_framed_read_init(&c.in, c.sock, weft_codec_length_u32(65536), 0);
    weft_framed_write_init(&c.out, c.sock, weft_codec_length_u32(65536), 0);
    weft_join_handle h = weft_runtime_spawn(rt, &c);
    static const unsigned char wire[] = "\0\0\0\x03" "abc" "\0\0\0\x00";
    weft_join_handle f = feeder_spawn(rt, weft_duplex_stream(client), wire, 11, true);
    join_value(rt, &f);
    unsigned char got[11];
    weft_io_read_exact re;
    weft_io_read_exact_init(&re, weft_duplex_stream(client), got, 11);
    io_block_on(rt, &re);
    assert_memory_equal(got, wire, 11);
    io_block_on(rt, &h);
    weft_duplex_free(client);
    weft_runtime_shutdown(rt);
}

/* ---------------------------------------------------------------- weft/fs.h: load */

typedef struct load {
    weft_async co;
    weft_fs_op op;
    char *text;                          // ours to free
} load;

static weft_poll load_poll(weft_future *f, weft_context *cx) {
    load *l = (load *)f;
    WEFT_ASYNC_BEGIN(&l->co);
    weft_fs_copy_init(&l->op, "app.conf", "app.conf.bak");
    WEFT_AWAIT(&l->co, cx, &l->op);
    if (weft_os_errno(l->op.status) == ENOENT)
        WEFT_ASYNC_RETURN(&l->co);        // no config: defaults
    weft_fs_read_to_string_init(&l->op, "app.conf", 1 << 20);   // at most 1 MiB
    WEFT_AWAIT(&l->co, cx, &l->op);
    if (l->op.status < 0) {
        fprintf(stderr, "app.conf: %s\n", weft_strerror(l->op.status));
        WEFT_ASYNC_RETURN(&l->co);
    }
    l->text = l->op.data;                // NUL-terminated; l->op.n bytes
    WEFT_ASYNC_END(&l->co);
}
static const weft_future_vtable load_vt = {load_poll, weft_async_drop, "load"};

static void test_io_examples_load(void **state)
{
    (void)state;
    char dir[] = "/tmp/weft-ex-XXXXXX", old[512];
    assert_non_null(mkdtemp(dir));
    assert_non_null(getcwd(old, sizeof old));
    assert_int_equal(chdir(dir), 0);
    weft_runtime *rt = io_rt_new(WEFT_CURRENT_THREAD);
    load l = {0};
    weft_async_init(&l.co, &load_vt);
    io_block_on(rt, &l);
    assert_null(l.text); /* no app.conf: defaults */
    FILE *fp = fopen("app.conf", "w");
    fputs("port = 8080\n", fp);
    fclose(fp);
    weft_async_init(&l.co, &load_vt);
    io_block_on(rt, &l);
    assert_string_equal(l.text, "port = 8080\n");
    free(l.text);
    weft_runtime_shutdown(rt);
    assert_int_equal(unlink("app.conf"), 0);
    assert_int_equal(unlink("app.conf.bak"), 0);
    assert_int_equal(chdir(old), 0);
    assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_io_examples_echo),
        cmocka_unit_test(test_io_examples_session),
        cmocka_unit_test(test_io_examples_conn),
        cmocka_unit_test(test_io_examples_load),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
