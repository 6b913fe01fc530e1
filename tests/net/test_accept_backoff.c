/* tests/net/test_accept_backoff.c - descriptor exhaustion: accept backs off and keeps serving.
 *
 * The test process lowers its own RLIMIT_NOFILE, fills every descriptor but one, and connects
 * a client through that last one. The server's accept then fails with EMFILE: the listener
 * must not fail the accept nor spin on it, but back off on a timer (weft_tcp_listener_backoffs
 * counts it). Once the test frees the descriptors, the same accept completes and the
 * connection is served. Its own binary, so the lowered limit touches nothing else.
 */
#include <errno.h>
#include <sys/resource.h>
#include <unistd.h>

#include "net_test_util.h"

#define FILL_MAX 4096

typedef struct one_echo {
    weft_async co;
    weft_tcp_listener *l;
    weft_tcp_accept acc;
    weft_io_read rd;
    weft_io_write_all wr;
    char buf[16];
} one_echo;

static weft_poll one_echo_poll(weft_future *f, weft_context *cx)
{
    one_echo *e = (one_echo *)f;
    WEFT_ASYNC_BEGIN(&e->co);
    weft_tcp_accept_init(&e->acc, e->l);
    WEFT_AWAIT(&e->co, cx, &e->acc);
    assert_int_equal(e->acc.status, 0);
    weft_io_read_init(&e->rd, weft_tcp_stream_io(e->acc.stream), e->buf, sizeof e->buf);
    WEFT_AWAIT(&e->co, cx, &e->rd);
    assert_int_equal(e->rd.status, 0);
    weft_io_write_all_init(&e->wr, weft_tcp_stream_io(e->acc.stream), e->buf, e->rd.n);
    WEFT_AWAIT(&e->co, cx, &e->wr);
    weft_tcp_stream_close(e->acc.stream);
    WEFT_ASYNC_END(&e->co);
}

static const weft_future_vtable one_echo_vt = {one_echo_poll, weft_async_drop, "one_echo"};

typedef struct emfile_case {
    weft_async co;
    weft_tcp_listener *l;
    weft_sockaddr addr;
    weft_join_handle server;
    struct rlimit saved;
    int fill[FILL_MAX];
    int nfill;
    weft_tcp_connect conn;
    weft_sleep nap;
    weft_io_write_all wr;
    weft_io_read_exact rd;
    char buf[4];
} emfile_case;

static weft_poll emfile_case_poll(weft_future *f, weft_context *cx)
{
    emfile_case *t = (emfile_case *)f;
    WEFT_ASYNC_BEGIN(&t->co);
    {
        weft_sockaddr any = loopback_any();
        assert_int_equal(weft_tcp_listener_bind(&t->l, &any), 0);
        assert_int_equal(weft_tcp_listener_local_addr(t->l, &t->addr), 0);
        one_echo e = {.l = t->l};
        weft_async_init(&e.co, &one_echo_vt);
        t->server = weft_spawn(&e);

        /* Lower the limit, then take every descriptor but one. */
        assert_int_equal(getrlimit(RLIMIT_NOFILE, &t->saved), 0);
        struct rlimit low = t->saved;
        low.rlim_cur = 256;
        assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
        int fd;
        while (t->nfill < FILL_MAX && (fd = dup(0)) >= 0)
            t->fill[t->nfill++] = fd;
        assert_int_equal(errno, EMFILE);
        assert_true(t->nfill > 0);
        close(t->fill[--t->nfill]);
    }
    /* The client takes the last descriptor; the kernel completes the handshake, but the
     * server cannot accept it. */
    weft_tcp_connect_init(&t->conn, &t->addr);
    WEFT_AWAIT(&t->co, cx, &t->conn);
    assert_int_equal(t->conn.status, 0);
    while (weft_tcp_listener_backoffs(t->l) == 0) {
        weft_sleep_init(&t->nap, 2 * 1000000ull);
        WEFT_AWAIT(&t->co, cx, &t->nap);
    }
    /* Descriptors come back: the pending accept completes on its own and serves the client. */
    while (t->nfill > 0)
        close(t->fill[--t->nfill]);
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &t->saved), 0);
    weft_io_write_all_init(&t->wr, weft_tcp_stream_io(t->conn.stream), "ok?!", 4);
    WEFT_AWAIT(&t->co, cx, &t->wr);
    assert_int_equal(t->wr.status, 0);
    weft_io_read_exact_init(&t->rd, weft_tcp_stream_io(t->conn.stream), t->buf, 4);
    WEFT_AWAIT(&t->co, cx, &t->rd);
    assert_int_equal(t->rd.status, 0);
    assert_memory_equal(t->buf, "ok?!", 4);
    WEFT_AWAIT(&t->co, cx, &t->server);
    assert_int_equal(t->server.status, 0);
    assert_true(weft_tcp_listener_backoffs(t->l) >= 1);
    weft_tcp_stream_close(t->conn.stream);
    weft_tcp_listener_close(t->l);
    WEFT_ASYNC_END(&t->co);
}

static const weft_future_vtable emfile_case_vt = {emfile_case_poll, weft_async_drop, "emfile"};

static void run_case(weft_flavor flavor)
{
    emfile_case *t = calloc(1, sizeof *t);
    weft_async_init(&t->co, &emfile_case_vt);
    net_run(flavor, &t->co.base);
    free(t);
}

static void test_accept_backoff_on_emfile_then_serves_ct(void **state)
{
    (void)state;
    run_case(WEFT_CURRENT_THREAD);
}

static void test_accept_backoff_on_emfile_then_serves_mt(void **state)
{
    (void)state;
    run_case(WEFT_MULTI_THREAD);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accept_backoff_on_emfile_then_serves_ct),
        cmocka_unit_test(test_accept_backoff_on_emfile_then_serves_mt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
