/* tests/io/test_io_buf.c - the buffered reader and writer over the duplex: lines at every
 * split point, read_line's terminator, lines over their maximum refused with bounded memory,
 * read_line dropped mid-line losing nothing, reads mixed with lines, the writer's flush.
 */
#include <stdlib.h>

#include "io_test_util.h"
#include <weft/io_buf.h>

/* ---------------------------------------------------------------- buffered reader */

static const char lines_text[] = "first\nsecond line\r\n\nlast without newline";

/* next_line gives the same lines for every split of the input, terminators stripped. */
static void test_io_buf_lines_every_split_point(void **state)
{
    (void)state;
    static const char *const want[] = {"first", "second line", "", "last without newline"};
    size_t total = strlen(lines_text);
    weft_runtime *rt = io_rt_new(WEFT_CURRENT_THREAD);
    for (size_t k = 1; k <= total; k++) {
        weft_duplex *a, *b;
        duplex_pair(1024, k, &a, &b);
        weft_join_handle h = feeder_spawn(rt, weft_duplex_stream(a), lines_text, total, true);
        weft_buf_reader r;
        assert_int_equal(weft_buf_reader_init(&r, weft_duplex_stream(b), 4), 0);
        for (size_t i = 0; i < 4; i++) {
            weft_buf_next_line nl;
            weft_buf_next_line_init(&nl, &r, 100);
            io_block_on(rt, &nl);
            assert_int_equal(nl.status, 0);
            assert_int_equal(nl.len, strlen(want[i]));
            assert_memory_equal(nl.line, want[i], nl.len);
        }
        weft_buf_next_line nl;
        weft_buf_next_line_init(&nl, &r, 100);
        io_block_on(rt, &nl);
        assert_int_equal(nl.status, WEFT_ECLOSED);
        join_value(rt, &h);
        weft_buf_reader_free(&r);
        weft_duplex_free(a);
        weft_duplex_free(b);
    }
    weft_runtime_shutdown(rt);
}

/* read_line keeps the terminator; end of stream is len 0. */
static void test_io_buf_read_line_keeps_newline(void **state)
{
    (void)state;
    weft_runtime *rt = io_rt_new(WEFT_CURRENT_THREAD);
    weft_duplex *a, *b;
    duplex_pair(1024, SIZE_MAX, &a, &b);
    weft_join_handle h = feeder_spawn(rt, weft_duplex_stream(a), "a\r\nb", 4, true);
    weft_buf_reader r;
    weft_buf_reader_init(&r, weft_duplex_stream(b), 0);
    weft_buf_read_line rl;
    weft_buf_read_line_init(&rl, &r, 10);
    io_block_on(rt, &rl);
    assert_int_equal(rl.len, 3);
    assert_memory_equal(rl.line, "a\r\n", 3);
    weft_buf_read_line_init(&rl, &r, 10);
    io_block_on(rt, &rl);
    assert_int_equal(rl.len, 1);
    weft_buf_read_line_init(&rl, &r, 10);
    io_block_on(rt, &rl);
    assert_int_equal(rl.status, 0);
    assert_int_equal(rl.len, 0);
    join_value(rt, &h);
    weft_buf_reader_free(&r);
    weft_duplex_free(a);
    weft_duplex_free(b);
    weft_runtime_shutdown(rt);
}

/* An endless line: WEFT_ETOOBIG once max + 2 bytes arrived, with the buffer never grown past
 * that, and the error sticks. A line of exactly max bytes is fine. */
static void test_io_buf_line_too_long_is_bounded(void **state)
{
    (void)state;
    enum { MAX = 100, SENT = 64 * 1024 };
    unsigned char *flood = malloc(SENT);
    memset(flood, 'x', SENT);
    memset(flood, 'y', MAX);
    flood[MAX] = '\n'; /* first line: exactly MAX bytes */
    weft_runtime *rt = io_rt_new(WEFT_CURRENT_THREAD);
    weft_duplex *a, *b;
    duplex_pair(SENT, SIZE_MAX, &a, &b);
    weft_join_handle h = feeder_spawn(rt, weft_duplex_stream(a), flood, SENT, true);
    weft_buf_reader r;
    weft_buf_reader_init(&r, weft_duplex_stream(b), 16);
    weft_buf_next_line nl;
    weft_buf_next_line_init(&nl, &r, MAX);
    io_block_on(rt, &nl);
    assert_int_equal(nl.status, 0);
    assert_int_equal(nl.len, MAX);
    weft_buf_next_line_init(&nl, &r, MAX);
    io_block_on(rt, &nl);
    assert_int_equal(nl.status, WEFT_ETOOBIG);
    assert_true(r.cap <= MAX + 2);
    weft_buf_next_line_init(&nl, &r, MAX);
    io_block_on(rt, &nl);
    assert_int_equal(nl.status, WEFT_ETOOBIG);
    join_value(rt, &h);
    weft_buf_reader_free(&r);
    weft_duplex_free(a);
    weft_duplex_free(b);
    free(flood);
    weft_runtime_shutdown(rt);
}

/* A read_line that times out in the middle of a line loses nothing: the next read_line
 * returns the whole line. */
static void test_io_buf_read_line_cancel_safe(void **state)
{
    (void)state;
    weft_runtime *rt = io_rt_new(WEFT_CURRENT_THREAD);
    weft_duplex *a, *b;
    duplex_pair(1024, SIZE_MAX, &a, &b);
    weft_buf_reader r;
    weft_buf_reader_init(&r, weft_duplex_stream(b), 0);
    weft_io_write_all wa;
    weft_io_write_all_init(&wa, weft_duplex_stream(a), "hel", 3);
    io_block_on(rt, &wa);

    weft_buf_next_line nl;
    weft_timeout t;
    weft_buf_next_line_init(&nl, &r, 100);
    weft_timeout_init(&t, weft_ms(5), &nl.base);
    io_block_on(rt, &t);
    assert_int_equal(t.status, WEFT_EELAPSED);
    assert_int_equal(weft_buf_reader_buffered(&r), 3); /* the partial line is kept */

    weft_io_write_all_init(&wa, weft_duplex_stream(a), "lo\n", 3);
    io_block_on(rt, &wa);
    weft_buf_next_line_init(&nl, &r, 100);
    io_block_on(rt, &nl);
    assert_int_equal(nl.status, 0);
    assert_int_equal(nl.len, 5);
    assert_memory_equal(nl.line, "hello", 5);
    weft_buf_reader_free(&r);
    weft_duplex_free(a);
    weft_duplex_free(b);
    weft_runtime_shutdown(rt);
}

/* Reads through the reader's stream mix with lines: nothing is skipped or repeated. */
static void test_io_buf_reader_stream_reads(void **state)
{
    (void)state;
    weft_runtime *rt = io_rt_new(WEFT_CURRENT_THREAD);
    weft_duplex *a, *b;
    duplex_pair(1024, 5, &a, &b);
    weft_join_handle h = feeder_spawn(rt, weft_duplex_stream(a), "head\nbody-bytes", 15, true);
    weft_buf_reader r;
    weft_buf_reader_init(&r, weft_duplex_stream(b), 8);
    weft_buf_next_line nl;
    weft_buf_next_line_init(&nl, &r, 10);
    io_block_on(rt, &nl);
    assert_memory_equal(nl.line, "head", 4);
    char body[10];
    weft_io_read_exact re;
    weft_io_read_exact_init(&re, weft_buf_reader_stream(&r), body, 10);
    io_block_on(rt, &re);
    assert_int_equal(re.status, 0);
    assert_memory_equal(body, "body-bytes", 10);
    join_value(rt, &h);
    weft_buf_reader_free(&r);
    weft_duplex_free(a);
    weft_duplex_free(b);
    weft_runtime_shutdown(rt);
}

/* ---------------------------------------------------------------- buffered writer */

/* Small writes stay in the buffer until a flush; a write bigger than the buffer goes through
 * after what was buffered, in order. */
static void test_io_buf_writer_flush(void **state)
{
    (void)state;
    weft_runtime *rt = io_rt_new(WEFT_CURRENT_THREAD);
    weft_duplex *a, *b;
    duplex_pair(1024, 3, &a, &b);
    weft_buf_writer w;
    weft_buf_writer_init(&w, weft_duplex_stream(a), 16);
    weft_io_write_all wa;
    weft_io_write_all_init(&wa, weft_buf_writer_stream(&w), "abc", 3);
    io_block_on(rt, &wa);
    weft_io_write_all_init(&wa, weft_buf_writer_stream(&w), "def", 3);
    io_block_on(rt, &wa);
    assert_int_equal(weft_duplex_readable(b), 0);
    assert_int_equal(weft_buf_writer_buffered(&w), 6);
    weft_io_flush fl;
    weft_io_flush_init(&fl, weft_buf_writer_stream(&w));
    io_block_on(rt, &fl);
    assert_int_equal(fl.status, 0);
    assert_int_equal(weft_duplex_readable(b), 6);
    weft_io_write_all_init(&wa, weft_buf_writer_stream(&w), "g", 1);
    io_block_on(rt, &wa);
    weft_io_write_all_init(&wa, weft_buf_writer_stream(&w), "0123456789abcdefXYZ", 19);
    io_block_on(rt, &wa);
    weft_io_shutdown sd;
    weft_io_shutdown_init(&sd, weft_buf_writer_stream(&w));
    io_block_on(rt, &sd);
    char got[27] = {0};
    weft_duplex_set_max_chunk(b, 64);
    weft_io_read_exact re;
    weft_io_read_exact_init(&re, weft_duplex_stream(b), got, 26);
    io_block_on(rt, &re);
    assert_int_equal(re.status, 0);
    assert_string_equal(got, "abcdefg0123456789abcdefXYZ");
    weft_buf_writer_free(&w);
    weft_duplex_free(a);
    weft_duplex_free(b);
    weft_runtime_shutdown(rt);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_io_buf_lines_every_split_point),
        cmocka_unit_test(test_io_buf_read_line_keeps_newline),
        cmocka_unit_test(test_io_buf_line_too_long_is_bounded),
        cmocka_unit_test(test_io_buf_read_line_cancel_safe),
        cmocka_unit_test(test_io_buf_reader_stream_reads),
        cmocka_unit_test(test_io_buf_writer_flush),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
