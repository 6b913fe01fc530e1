/* tests/io/test_io.c - the stream interface through the duplex: partial reads and writes,
 * end of stream, back-pressure, reset, read_exact, the OS error band, the await location, the
 * cooperative budget, copy and read_to_end. Buffered streams are in test_io_buf.c.
 *
 * Each case builds its own runtime and shuts it down, so ASan/LSan see any leak. Leaf futures
 * that complete at once are awaited straight from the test thread with weft_block_on; where
 * the other side must make progress meanwhile, a feeder task (io_test_util.h) writes.
 */
#include <errno.h>
#include <stdlib.h>

#include "io_test_util.h"
#include <weft/io_buf.h> /* the await location through a buffered reader */

/* ---------------------------------------------------------------- the duplex */

/* With max_chunk k, a 64-byte message arrives in reads of at most k bytes, complete and in
 * order, for every k. */
static void test_io_duplex_every_chunk_size(void **state)
{
    (void)state;
    unsigned char msg[64], got[64];
    for (size_t i = 0; i < sizeof msg; i++)
        msg[i] = (unsigned char)(i * 7 + 1);
    weft_runtime *rt = io_rt_new(WEFT_CURRENT_THREAD);
    for (size_t k = 1; k <= sizeof msg; k++) {
        weft_duplex *a, *b;
        duplex_pair(1024, k, &a, &b);
        weft_join_handle h = feeder_spawn(rt, weft_duplex_stream(a), msg, sizeof msg, true);
        size_t off = 0;
        for (;;) {
            weft_io_read rd;
            weft_io_read_init(&rd, weft_duplex_stream(b), got + off, sizeof got - off + 1);
            io_block_on(rt, &rd);
            assert_int_equal(rd.status, 0);
            if (rd.n == 0)
                break;
            assert_true(rd.n <= k);
            off += rd.n;
            assert_true(off <= sizeof msg);
        }
        assert_int_equal(off, sizeof msg);
        assert_memory_equal(got, msg, sizeof msg);
        assert_int_equal(join_value(rt, &h), (intptr_t)sizeof msg);
        weft_duplex_free(a);
        weft_duplex_free(b);
    }
    weft_runtime_shutdown(rt);
}

/* A write accepts at most max_chunk bytes (a partial write), and write_all finishes it. */
static void test_io_duplex_partial_write_and_write_all(void **state)
{
    (void)state;
    weft_runtime *rt = io_rt_new(WEFT_CURRENT_THREAD);
    weft_duplex *a, *b;
    duplex_pair(1024, 3, &a, &b);
    weft_io_write w;
    weft_io_write_init(&w, weft_duplex_stream(a), "0123456789", 10);
    io_block_on(rt, &w);
    assert_int_equal(w.status, 0);
    assert_int_equal(w.n, 3);
    weft_io_write_all wa;
    weft_io_write_all_init(&wa, weft_duplex_stream(a), "3456789", 7);
    io_block_on(rt, &wa);
    assert_int_equal(wa.status, 0);
    assert_int_equal(wa.done, 7);
    assert_int_equal(weft_duplex_readable(b), 10);
    char got[10];
    weft_duplex_set_max_chunk(b, 100);
    weft_io_read_exact re;
    weft_io_read_exact_init(&re, weft_duplex_stream(b), got, 10);
    io_block_on(rt, &re);
    assert_int_equal(re.status, 0);
    assert_memory_equal(got, "0123456789", 10);
    weft_duplex_free(a);
    weft_duplex_free(b);
    weft_runtime_shutdown(rt);
}

/* Shutdown: the peer reads what was sent, then end of stream; this end can no longer write.
 * Closing an end: the peer's writes fail with WEFT_ECLOSED. */
static void test_io_duplex_shutdown_and_close(void **state)
{
    (void)state;
    weft_runtime *rt = io_rt_new(WEFT_CURRENT_THREAD);
    weft_duplex *a, *b;
    duplex_pair(64, SIZE_MAX, &a, &b);
    weft_io_write_all wa;
    weft_io_write_all_init(&wa, weft_duplex_stream(a), "bye", 3);
    io_block_on(rt, &wa);
    weft_io_shutdown sd;
    weft_io_shutdown_init(&sd, weft_duplex_stream(a));
    io_block_on(rt, &sd);
    assert_int_equal(sd.status, 0);
    weft_io_write w;
    weft_io_write_init(&w, weft_duplex_stream(a), "x", 1);
    io_block_on(rt, &w);
    assert_int_equal(w.status, WEFT_ECLOSED);

    char buf[8];
    weft_io_read rd;
    weft_io_read_init(&rd, weft_duplex_stream(b), buf, sizeof buf);
    io_block_on(rt, &rd);
    assert_int_equal(rd.n, 3);
    weft_io_read_init(&rd, weft_duplex_stream(b), buf, sizeof buf);
    io_block_on(rt, &rd);
    assert_int_equal(rd.status, 0);
    assert_int_equal(rd.n, 0);

    /* b can still write to a until a is closed */
    weft_io_write_init(&w, weft_duplex_stream(b), "y", 1);
    io_block_on(rt, &w);
    assert_int_equal(w.status, 0);
    weft_io_stream_close(weft_duplex_stream(a));
    weft_io_write_init(&w, weft_duplex_stream(b), "z", 1);
    io_block_on(rt, &w);
    assert_int_equal(w.status, WEFT_ECLOSED);
    weft_duplex_free(b);
    weft_runtime_shutdown(rt);
}

/* A full pipe makes the writer wait (PENDING) until the reader drains it. */
static void test_io_duplex_backpressure(void **state)
{
    (void)state;
    weft_runtime *rt = io_rt_new(WEFT_CURRENT_THREAD);
    weft_duplex *a, *b;
    duplex_pair(4, SIZE_MAX, &a, &b);
    static const char msg[] = "abcdefghijklmnopqrstuvwxyz";
    weft_join_handle h = feeder_spawn(rt, weft_duplex_stream(a), msg, 26, true);
    /* let the feeder run until it is stuck on the full pipe */
    for (int i = 0; i < 10; i++) {
        weft_yield_now y;
        weft_yield_now_init(&y);
        io_block_on(rt, &y);
    }
    assert_int_equal(weft_duplex_readable(b), 4);
    assert_false(weft_join_handle_is_finished(&h));
    char got[27] = {0};
    size_t off = 0;
    for (;;) {
        weft_io_read rd;
        weft_io_read_init(&rd, weft_duplex_stream(b), got + off, sizeof got - off);
        io_block_on(rt, &rd);
        assert_int_equal(rd.status, 0);
        assert_true(rd.n <= 4);
        if (rd.n == 0)
            break;
        off += rd.n;
    }
    assert_string_equal(got, msg);
    assert_int_equal(join_value(rt, &h), 26);
    weft_duplex_free(a);
    weft_duplex_free(b);
    weft_runtime_shutdown(rt);
}

/* A reset fails both ends with ECONNRESET, as an OS error value; a waiting reader is woken. */
static void test_io_duplex_reset_is_connection_reset(void **state)
{
    (void)state;
    weft_runtime *rt = io_rt_new(WEFT_CURRENT_THREAD);
    weft_duplex *a, *b;
    duplex_pair(64, SIZE_MAX, &a, &b);
    weft_io_write_all wa;
    weft_io_write_all_init(&wa, weft_duplex_stream(a), "lost", 4);
    io_block_on(rt, &wa);
    weft_duplex_reset(a);
    char buf[8];
    weft_io_read rd;
    weft_io_read_init(&rd, weft_duplex_stream(b), buf, sizeof buf);
    io_block_on(rt, &rd);
    assert_int_equal(weft_os_errno(rd.status), ECONNRESET);
    assert_int_equal(rd.n, 0);
    weft_io_write w;
    weft_io_write_init(&w, weft_duplex_stream(a), "x", 1);
    io_block_on(rt, &w);
    assert_int_equal(weft_os_errno(w.status), ECONNRESET);
    weft_duplex_free(a);
    weft_duplex_free(b);
    weft_runtime_shutdown(rt);
}

/* read_exact over a stream that ends early: WEFT_EUNEXPECTEDEOF, not a hang, with `done`
 * saying how much arrived. */
static void test_io_read_exact_eof_in_the_middle(void **state)
{
    (void)state;
    weft_runtime *rt = io_rt_new(WEFT_CURRENT_THREAD);
    weft_duplex *a, *b;
    duplex_pair(64, 2, &a, &b);
    weft_join_handle h = feeder_spawn(rt, weft_duplex_stream(a), "12345", 5, true);
    char buf[10];
    weft_io_read_exact re;
    weft_io_read_exact_init(&re, weft_duplex_stream(b), buf, sizeof buf);
    io_block_on(rt, &re);
    assert_int_equal(re.status, WEFT_EUNEXPECTEDEOF);
    assert_int_equal(re.done, 5);
    assert_memory_equal(buf, "12345", 5);
    join_value(rt, &h);
    weft_duplex_free(a);
    weft_duplex_free(b);
    weft_runtime_shutdown(rt);
}

/* OS errors live in their own band: ENOENT is not WEFT_ETIMEDOUT, and reads back. */
static void test_io_os_error_band(void **state)
{
    (void)state;
    int e = weft_os_error(ENOENT);
    assert_true(e < 0);
    assert_int_not_equal(e, WEFT_ETIMEDOUT);
    assert_int_equal(weft_os_errno(e), ENOENT);
    assert_int_equal(weft_os_errno(WEFT_ETIMEDOUT), 0);
    assert_int_equal(weft_os_errno(0), 0);
    assert_string_equal(weft_strerror(weft_os_error(EACCES)), "Permission denied");
    assert_int_equal(weft_os_error(0), WEFT_EIO);
    assert_int_equal(weft_os_error(-5), WEFT_EIO);
}

/* A stream without a write side (a read half) reports WEFT_EINVAL, never crashes. */
static void test_io_missing_direction_is_einval(void **state)
{
    (void)state;
    static const weft_io_stream_vtable read_only = {.name = "read_only"};
    weft_io_stream s = {&read_only};
    weft_runtime *rt = io_rt_new(WEFT_CURRENT_THREAD);
    weft_io_write w;
    weft_io_write_init(&w, &s, "x", 1);
    io_block_on(rt, &w);
    assert_int_equal(w.status, WEFT_EINVAL);
    char c;
    weft_io_read rd;
    weft_io_read_init(&rd, &s, &c, 1);
    io_block_on(rt, &rd);
    assert_int_equal(rd.status, WEFT_EINVAL);
    weft_io_stream_close(&s); /* no close entry: ignored */
    weft_runtime_shutdown(rt);
}

/* A stream sees where the operation calling it was awaited: the outermost leaf future's init
 * line (a read_line over a buffered reader reports the read_line), and nothing afterwards. */
typedef struct spy_stream {
    weft_io_stream s;
    weft_location seen;
} spy_stream;

static weft_poll spy_read(weft_io_stream *s, weft_context *cx, void *buf, size_t cap,
                          size_t *n, int *err)
{
    (void)cx, (void)buf, (void)cap;
    ((spy_stream *)s)->seen = weft_io_current_location();
    *n = 0;
    *err = 0;
    return WEFT_READY;
}

static void test_io_current_location_is_the_await(void **state)
{
    (void)state;
    static const weft_io_stream_vtable spy_vt = {.poll_read = spy_read, .name = "spy"};
    spy_stream spy = {.s = {&spy_vt}};
    weft_runtime *rt = io_rt_new(WEFT_CURRENT_THREAD);
    char c;
    weft_io_read rd;
    int line = __LINE__ + 1;
    weft_io_read_init(&rd, &spy.s, &c, 1);
    io_block_on(rt, &rd);
    assert_non_null(spy.seen.file);
    assert_string_equal(spy.seen.file, __FILE__);
    assert_int_equal(spy.seen.line, line);

    weft_buf_reader r;
    weft_buf_reader_init(&r, &spy.s, 0);
    weft_buf_read_line rl;
    line = __LINE__ + 1;
    weft_buf_read_line_init(&rl, &r, 10);
    io_block_on(rt, &rl);
    assert_int_equal(spy.seen.line, line);
    assert_null(weft_io_current_location().file);
    weft_buf_reader_free(&r);
    weft_runtime_shutdown(rt);
}

/* A task reading a stream that is always ready still yields: the duplex spends the
 * cooperative budget, so a neighbour spawned after the reader runs long before the reader has
 * drained the pipe (without the budget it would run only once every byte was read). */
typedef struct greedy_reader {
    weft_async co;
    weft_io_stream *s;
    size_t *got; /* progress, watched by the neighbour */
    unsigned char c;
    weft_io_read rd;
} greedy_reader;

static weft_poll greedy_reader_poll(weft_future *f, weft_context *cx)
{
    greedy_reader *g = (greedy_reader *)f;
    WEFT_ASYNC_BEGIN(&g->co);
    for (;;) {
        weft_io_read_init(&g->rd, g->s, &g->c, 1);
        WEFT_AWAIT(&g->co, cx, &g->rd);
        if (g->rd.n == 0)
            break;
        (*g->got)++;
    }
    WEFT_ASYNC_END(&g->co);
}

static const weft_future_vtable greedy_reader_vt = {greedy_reader_poll, weft_async_drop,
                                                    "greedy"};

typedef struct neighbour {
    weft_future base;
    const size_t *got;
} neighbour;

static weft_poll neighbour_poll(weft_future *f, weft_context *cx)
{
    weft_task_return(cx, (intptr_t)*((neighbour *)f)->got);
    return WEFT_READY;
}

static const weft_future_vtable neighbour_vt = {neighbour_poll, NULL, "neighbour"};

static void test_io_always_ready_stream_yields(void **state)
{
    (void)state;
    enum { TOTAL = 100000 };
    static unsigned char fill[TOTAL];
    weft_runtime *rt = io_rt_new(WEFT_CURRENT_THREAD);
    weft_duplex *a, *b;
    duplex_pair(TOTAL, SIZE_MAX, &a, &b);
    weft_io_write_all wa;
    weft_io_write_all_init(&wa, weft_duplex_stream(a), fill, TOTAL);
    io_block_on(rt, &wa);
    weft_duplex_free(a); /* end of stream after the bytes */

    size_t got = 0;
    greedy_reader g = {.s = weft_duplex_stream(b), .got = &got};
    weft_async_init(&g.co, &greedy_reader_vt);
    neighbour n = {.base = {&neighbour_vt}, .got = &got};
    weft_join_handle hg = weft_runtime_spawn(rt, &g);
    weft_join_handle hn = weft_runtime_spawn(rt, &n);
    intptr_t seen = join_value(rt, &hn);
    join_value(rt, &hg);
    assert_int_equal(got, TOTAL);
    /* Spawned from outside, both start in the remote queue, which the scheduler looks at only
     * every so many polls (as Tokio's global queue): the neighbour runs after a few budgets'
     * worth of reads, not after one. Without the budget it would see all TOTAL. */
    assert_true(seen < TOTAL);
    weft_duplex_free(b);
    weft_runtime_shutdown(rt);
}

/* ---------------------------------------------------------------- copy, read_to_end */

/* A task that copies `from` into `to`, then shuts `to` down; returns the bytes copied, or the
 * copy's error. */
typedef struct copier {
    weft_async co;
    weft_io_stream *from, *to;
    weft_io_copy cp;
    weft_io_shutdown sd;
} copier;

static weft_poll copier_poll(weft_future *f, weft_context *cx)
{
    copier *c = (copier *)f;
    WEFT_ASYNC_BEGIN(&c->co);
    weft_io_copy_init(&c->cp, c->from, c->to);
    WEFT_AWAIT(&c->co, cx, &c->cp);
    if (c->cp.status < 0) {
        weft_task_return(cx, c->cp.status);
        WEFT_ASYNC_RETURN(&c->co);
    }
    weft_io_shutdown_init(&c->sd, c->to);
    WEFT_AWAIT(&c->co, cx, &c->sd);
    weft_task_return(cx, (intptr_t)c->cp.copied);
    WEFT_ASYNC_END(&c->co);
}

static const weft_future_vtable copier_vt = {copier_poll, weft_async_drop, "copier"};

static weft_join_handle copier_spawn(weft_runtime *rt, weft_io_stream *from, weft_io_stream *to)
{
    copier c = {.from = from, .to = to};
    weft_async_init(&c.co, &copier_vt);
    return weft_runtime_spawn(rt, &c);
}

/* copy moves every byte between two pipes with small chunks on both sides; read_to_end on
 * the far side gets them all. */
static void test_io_copy_and_read_to_end(void **state)
{
    (void)state;
    enum { N = 50000 };
    unsigned char *msg = malloc(N);
    for (size_t i = 0; i < N; i++)
        msg[i] = (unsigned char)(i * 13);
    weft_runtime *rt = io_rt_new(WEFT_CURRENT_THREAD);
    weft_duplex *src_w, *src_r, *dst_w, *dst_r;
    duplex_pair(1000, 7, &src_w, &src_r);
    duplex_pair(900, 5, &dst_w, &dst_r);
    weft_join_handle hf = feeder_spawn(rt, weft_duplex_stream(src_w), msg, N, true);
    weft_join_handle hc = copier_spawn(rt, weft_duplex_stream(src_r), weft_duplex_stream(dst_w));
    weft_io_read_to_end rte;
    weft_io_read_to_end_init(&rte, weft_duplex_stream(dst_r), N);
    io_block_on(rt, &rte);
    assert_int_equal(rte.status, 0);
    assert_int_equal(rte.len, N);
    assert_memory_equal(rte.data, msg, N);
    assert_int_equal(rte.data[N], '\0');
    free(rte.data);
    assert_int_equal(join_value(rt, &hc), N);
    assert_int_equal(join_value(rt, &hf), N);
    weft_duplex_free(src_w);
    weft_duplex_free(src_r);
    weft_duplex_free(dst_w);
    weft_duplex_free(dst_r);
    weft_runtime_shutdown(rt);
    free(msg);
}

/* read_to_end: exactly max bytes pass, one more is WEFT_ETOOBIG with nothing handed out; an
 * empty stream gives an empty string. A copy into a closed stream reports WEFT_ECLOSED. */
static void test_io_read_to_end_limit_and_copy_error(void **state)
{
    (void)state;
    weft_runtime *rt = io_rt_new(WEFT_CURRENT_THREAD);
    for (size_t max = 9; max <= 11; max++) {
        weft_duplex *a, *b;
        duplex_pair(64, 3, &a, &b);
        weft_join_handle h = feeder_spawn(rt, weft_duplex_stream(a), "0123456789", 10, true);
        weft_io_read_to_end rte;
        weft_io_read_to_end_init(&rte, weft_duplex_stream(b), max);
        io_block_on(rt, &rte);
        if (max < 10) {
            assert_int_equal(rte.status, WEFT_ETOOBIG);
            assert_null(rte.data);
        } else {
            assert_int_equal(rte.status, 0);
            assert_int_equal(rte.len, 10);
            assert_string_equal((char *)rte.data, "0123456789");
            free(rte.data);
        }
        join_value(rt, &h);
        weft_duplex_free(a);
        weft_duplex_free(b);
    }

    weft_duplex *a, *b, *c, *d;
    duplex_pair(64, SIZE_MAX, &a, &b);
    duplex_pair(64, SIZE_MAX, &c, &d);
    weft_io_shutdown sd;
    weft_io_shutdown_init(&sd, weft_duplex_stream(a));
    io_block_on(rt, &sd);
    weft_io_read_to_end rte;
    weft_io_read_to_end_init(&rte, weft_duplex_stream(b), 100);
    io_block_on(rt, &rte);
    assert_int_equal(rte.status, 0);
    assert_int_equal(rte.len, 0);
    assert_string_equal((char *)rte.data, "");
    free(rte.data);

    weft_io_write_all wa;
    weft_io_write_all_init(&wa, weft_duplex_stream(c), "data", 4);
    io_block_on(rt, &wa);
    weft_duplex_free(b); /* the copy's destination, a's peer, is gone */
    weft_io_copy cp;
    weft_io_copy_init(&cp, weft_duplex_stream(d), weft_duplex_stream(a));
    io_block_on(rt, &cp);
    assert_int_equal(cp.status, WEFT_ECLOSED);
    assert_int_equal(cp.copied, 0);
    weft_duplex_free(a);
    weft_duplex_free(c);
    weft_duplex_free(d);
    weft_runtime_shutdown(rt);
}

/* A copy and a read_to_end dropped half-way free their buffers (LSan checks). */
static void test_io_copy_dropped_frees_its_buffer(void **state)
{
    (void)state;
    weft_runtime *rt = io_rt_new(WEFT_CURRENT_THREAD);
    weft_duplex *a, *b, *c, *d;
    duplex_pair(64, SIZE_MAX, &a, &b);
    duplex_pair(4, SIZE_MAX, &c, &d);
    weft_io_write_all wa;
    weft_io_write_all_init(&wa, weft_duplex_stream(a), "0123456789", 10);
    io_block_on(rt, &wa);
    weft_io_copy cp;
    weft_timeout t;
    weft_io_copy_init(&cp, weft_duplex_stream(b), weft_duplex_stream(c));
    weft_timeout_init(&t, weft_ms(2), &cp.base);
    io_block_on(rt, &t);
    assert_int_equal(t.status, WEFT_EELAPSED);
    assert_int_equal(cp.copied, 4); /* the pipe took 4; the rest was in the dropped buffer */

    weft_io_read_to_end rte;
    weft_io_read_to_end_init(&rte, weft_duplex_stream(d), 100);
    weft_timeout_init(&t, weft_ms(2), &rte.base);
    io_block_on(rt, &t);
    assert_int_equal(t.status, WEFT_EELAPSED);
    weft_duplex_free(a);
    weft_duplex_free(b);
    weft_duplex_free(c);
    weft_duplex_free(d);
    weft_runtime_shutdown(rt);
}

/* ---------------------------------------------------------------- threads */

/* A duplex across worker threads: a feeder on the multi-thread runtime, the reader on the
 * test thread, 1-byte chunks so that every byte is a wake-up across threads (suite tsan). */
static void test_io_duplex_across_threads(void **state)
{
    (void)state;
    enum { N = 4096 };
    unsigned char *msg = malloc(N), *got = malloc(N);
    for (size_t i = 0; i < N; i++)
        msg[i] = (unsigned char)(i ^ (i >> 8));
    weft_runtime *rt = io_rt_new(WEFT_MULTI_THREAD);
    weft_duplex *a, *b;
    duplex_pair(7, 1, &a, &b);
    weft_join_handle h = feeder_spawn(rt, weft_duplex_stream(a), msg, N, true);
    weft_duplex_set_max_chunk(b, 64);
    weft_io_read_exact re;
    weft_io_read_exact_init(&re, weft_duplex_stream(b), got, N);
    io_block_on(rt, &re);
    assert_int_equal(re.status, 0);
    assert_memory_equal(got, msg, N);
    assert_int_equal(join_value(rt, &h), N);
    weft_duplex_free(a);
    weft_duplex_free(b);
    weft_runtime_shutdown(rt);
    free(msg);
    free(got);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_io_duplex_every_chunk_size),
        cmocka_unit_test(test_io_duplex_partial_write_and_write_all),
        cmocka_unit_test(test_io_duplex_shutdown_and_close),
        cmocka_unit_test(test_io_duplex_backpressure),
        cmocka_unit_test(test_io_duplex_reset_is_connection_reset),
        cmocka_unit_test(test_io_read_exact_eof_in_the_middle),
        cmocka_unit_test(test_io_os_error_band),
        cmocka_unit_test(test_io_missing_direction_is_einval),
        cmocka_unit_test(test_io_current_location_is_the_await),
        cmocka_unit_test(test_io_always_ready_stream_yields),
        cmocka_unit_test(test_io_copy_and_read_to_end),
        cmocka_unit_test(test_io_read_to_end_limit_and_copy_error),
        cmocka_unit_test(test_io_copy_dropped_frees_its_buffer),
        cmocka_unit_test(test_io_duplex_across_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
