/* tests/net/test_unix_udp.c - Unix-domain streams (echo, a stale socket file, a live one, a
 * path that is not a socket, the explicit mode, unlink on close) and UDP (send_to/recv_from,
 * connect + send/recv, truncation, bad input).
 */
#include <errno.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "net_test_util.h"

static void temp_path(char *buf, size_t cap, const char *what)
{
    snprintf(buf, cap, "/tmp/weft-test-%d-%s.sock", (int)getpid(), what);
    unlink(buf);
}

/* ---------------------------------------------------------------- Unix streams */

typedef struct unix_server {
    weft_async co;
    weft_unix_listener *l;
    weft_unix_accept acc;
    weft_io_read rd;
    weft_io_write_all wr;
    char buf[64];
} unix_server;

/* Accept one connection, echo one read, close. */
static weft_poll unix_server_poll(weft_future *f, weft_context *cx)
{
    unix_server *s = (unix_server *)f;
    WEFT_ASYNC_BEGIN(&s->co);
    weft_unix_accept_init(&s->acc, s->l);
    WEFT_AWAIT(&s->co, cx, &s->acc);
    assert_int_equal(s->acc.status, 0);
    weft_io_read_init(&s->rd, weft_unix_stream_io(s->acc.stream), s->buf, sizeof s->buf);
    WEFT_AWAIT(&s->co, cx, &s->rd);
    assert_int_equal(s->rd.status, 0);
    weft_io_write_all_init(&s->wr, weft_unix_stream_io(s->acc.stream), s->buf, s->rd.n);
    WEFT_AWAIT(&s->co, cx, &s->wr);
    assert_int_equal(s->wr.status, 0);
    weft_unix_stream_close(s->acc.stream);
    WEFT_ASYNC_END(&s->co);
}

static const weft_future_vtable unix_server_vt = {unix_server_poll, weft_async_drop, "us"};

typedef struct unix_case {
    weft_async co;
    char path[108], other[108];
    weft_unix_listener *l;
    weft_join_handle server;
    weft_unix_connect conn;
    weft_io_write_all wr;
    weft_io_read_exact rd;
    char buf[16];
} unix_case;

static weft_poll unix_case_poll(weft_future *f, weft_context *cx)
{
    unix_case *t = (unix_case *)f;
    WEFT_ASYNC_BEGIN(&t->co);
    temp_path(t->path, sizeof t->path, "stale");
    {
        /* A stale socket file: bound by a socket that then went away without unlinking. */
        int fd = socket(AF_UNIX, SOCK_STREAM, 0);
        weft_sockaddr a;
        assert_int_equal(weft_sockaddr_unix(&a, t->path), 0);
        assert_int_equal(bind(fd, &a.u.sa, a.len), 0);
        close(fd);
        struct stat st;
        assert_int_equal(stat(t->path, &st), 0);
    }
    assert_int_equal(weft_unix_listener_bind(&t->l, t->path, 0600), 0);
    {
        struct stat st;
        assert_int_equal(stat(t->path, &st), 0);
        assert_true(S_ISSOCK(st.st_mode));
        assert_int_equal(st.st_mode & 07777, 0600);
        /* A live listener is never replaced. */
        weft_unix_listener *again = NULL;
        assert_int_equal(weft_os_errno(weft_unix_listener_bind(&again, t->path, 0600)),
                         EADDRINUSE);
        assert_null(again);
    }
    {
        unix_server s = {.l = t->l};
        weft_async_init(&s.co, &unix_server_vt);
        t->server = weft_spawn(&s);
    }
    weft_unix_connect_init(&t->conn, t->path);
    WEFT_AWAIT(&t->co, cx, &t->conn);
    assert_int_equal(t->conn.status, 0);
    weft_io_write_all_init(&t->wr, weft_unix_stream_io(t->conn.stream), "hello unix", 10);
    WEFT_AWAIT(&t->co, cx, &t->wr);
    assert_int_equal(t->wr.status, 0);
    weft_io_read_exact_init(&t->rd, weft_unix_stream_io(t->conn.stream), t->buf, 10);
    WEFT_AWAIT(&t->co, cx, &t->rd);
    assert_int_equal(t->rd.status, 0);
    assert_memory_equal(t->buf, "hello unix", 10);
    weft_unix_stream_close(t->conn.stream);
    WEFT_AWAIT(&t->co, cx, &t->server);
    assert_int_equal(t->server.status, 0);
    weft_unix_listener_close(t->l);
    {
        struct stat st;
        assert_int_equal(stat(t->path, &st), -1); /* unlinked by close */
        assert_int_equal(errno, ENOENT);
    }
    /* Nobody there now. */
    weft_unix_connect_init(&t->conn, t->path);
    WEFT_AWAIT(&t->co, cx, &t->conn);
    assert_int_equal(weft_os_errno(t->conn.status), ENOENT);
    /* A path that is not a socket is never removed. */
    temp_path(t->other, sizeof t->other, "file");
    {
        FILE *fp = fopen(t->other, "w");
        assert_non_null(fp);
        fputs("precious", fp);
        fclose(fp);
        weft_unix_listener *l = NULL;
        assert_int_equal(weft_os_errno(weft_unix_listener_bind(&l, t->other, 0600)), EEXIST);
        assert_null(l);
        struct stat st;
        assert_int_equal(stat(t->other, &st), 0);
        assert_true(S_ISREG(st.st_mode));
        assert_int_equal(st.st_size, 8);
        unlink(t->other);
        /* Bad input. */
        assert_int_equal(weft_unix_listener_bind(&l, "", 0600), WEFT_EINVAL);
        assert_int_equal(weft_unix_listener_bind(&l, t->other, 010000), WEFT_EINVAL);
    }
    WEFT_ASYNC_END(&t->co);
}

static const weft_future_vtable unix_case_vt = {unix_case_poll, weft_async_drop, "unix"};

static void test_unix_stale_file_mode_echo_and_unlink_ct(void **state)
{
    (void)state;
    unix_case t = {0};
    weft_async_init(&t.co, &unix_case_vt);
    net_run(WEFT_CURRENT_THREAD, &t.co.base);
}

static void test_unix_stale_file_mode_echo_and_unlink_mt(void **state)
{
    (void)state;
    unix_case t = {0};
    weft_async_init(&t.co, &unix_case_vt);
    net_run(WEFT_MULTI_THREAD, &t.co.base);
}

/* ---------------------------------------------------------------- UDP */

typedef struct udp_case {
    weft_async co;
    weft_udp_socket *a, *b;
    weft_sockaddr a_addr, b_addr;
    weft_udp_send snd;
    weft_udp_recv rcv;
    char buf[64];
} udp_case;

static weft_poll udp_case_poll(weft_future *f, weft_context *cx)
{
    udp_case *t = (udp_case *)f;
    WEFT_ASYNC_BEGIN(&t->co);
    {
        weft_sockaddr any = loopback_any();
        assert_int_equal(weft_udp_bind(&t->a, &any), 0);
        assert_int_equal(weft_udp_bind(&t->b, &any), 0);
        assert_int_equal(weft_udp_local_addr(t->a, &t->a_addr), 0);
        assert_int_equal(weft_udp_local_addr(t->b, &t->b_addr), 0);
    }
    /* b waits first, so the datagram arrives while a recv is pending. */
    weft_udp_recv_from_init(&t->rcv, t->b, t->buf, sizeof t->buf);
    assert_int_equal(weft_future_poll(&t->rcv.base, cx), WEFT_PENDING);
    weft_udp_send_to_init(&t->snd, t->a, "ping", 4, &t->b_addr);
    WEFT_AWAIT(&t->co, cx, &t->snd);
    assert_int_equal(t->snd.status, 0);
    assert_int_equal(t->snd.n, 4);
    WEFT_AWAIT(&t->co, cx, &t->rcv);
    assert_int_equal(t->rcv.status, 0);
    assert_int_equal(t->rcv.n, 4);
    assert_memory_equal(t->buf, "ping", 4);
    assert_int_equal(weft_sockaddr_port(&t->rcv.from), weft_sockaddr_port(&t->a_addr));
    /* Answer to the sender's address. */
    weft_udp_send_to_init(&t->snd, t->b, "pong!", 5, &t->rcv.from);
    WEFT_AWAIT(&t->co, cx, &t->snd);
    assert_int_equal(t->snd.status, 0);
    weft_udp_recv_from_init(&t->rcv, t->a, t->buf, sizeof t->buf);
    WEFT_AWAIT(&t->co, cx, &t->rcv);
    assert_int_equal(t->rcv.n, 5);
    assert_memory_equal(t->buf, "pong!", 5);
    /* connect + send/recv; a datagram longer than the buffer is truncated. */
    assert_int_equal(weft_udp_connect(t->a, &t->b_addr), 0);
    {
        weft_sockaddr peer;
        assert_int_equal(weft_udp_peer_addr(t->a, &peer), 0);
        assert_int_equal(weft_sockaddr_port(&peer), weft_sockaddr_port(&t->b_addr));
    }
    weft_udp_send_init(&t->snd, t->a, "0123456789", 10);
    WEFT_AWAIT(&t->co, cx, &t->snd);
    assert_int_equal(t->snd.status, 0);
    weft_udp_recv_init(&t->rcv, t->b, t->buf, 4);
    WEFT_AWAIT(&t->co, cx, &t->rcv);
    assert_int_equal(t->rcv.status, 0);
    assert_int_equal(t->rcv.n, 4);
    assert_memory_equal(t->buf, "0123", 4);
    /* Send with no peer and no address: the OS's error, as a value. */
    weft_udp_send_init(&t->snd, t->b, "x", 1);
    WEFT_AWAIT(&t->co, cx, &t->snd);
    assert_int_equal(weft_os_errno(t->snd.status), EDESTADDRREQ);
    /* Bad input. */
    {
        weft_udp_socket *u = NULL;
        weft_sockaddr un;
        weft_sockaddr_unix(&un, "/tmp/x");
        assert_int_equal(weft_udp_bind(&u, &un), WEFT_EINVAL);
        assert_null(u);
    }
    weft_udp_close(t->a);
    weft_udp_close(t->b);
    WEFT_ASYNC_END(&t->co);
}

static void udp_case_drop(weft_future *f)
{
    weft_async_drop(f);
}

static const weft_future_vtable udp_case_vt = {udp_case_poll, udp_case_drop, "udp"};

static void test_udp_send_to_recv_from_connect_and_truncation_ct(void **state)
{
    (void)state;
    udp_case t = {0};
    weft_async_init(&t.co, &udp_case_vt);
    net_run(WEFT_CURRENT_THREAD, &t.co.base);
}

static void test_udp_send_to_recv_from_connect_and_truncation_mt(void **state)
{
    (void)state;
    udp_case t = {0};
    weft_async_init(&t.co, &udp_case_vt);
    net_run(WEFT_MULTI_THREAD, &t.co.base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unix_stale_file_mode_echo_and_unlink_ct),
        cmocka_unit_test(test_unix_stale_file_mode_echo_and_unlink_mt),
        cmocka_unit_test(test_udp_send_to_recv_from_connect_and_truncation_ct),
        cmocka_unit_test(test_udp_send_to_recv_from_connect_and_truncation_mt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
