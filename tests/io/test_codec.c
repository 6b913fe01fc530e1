/* tests/io/test_codec.c - the lines and length-prefixed codecs through framed readers and
 * writers over the duplex: every split point of a message, oversized frames refused without a
 * large allocation, end of stream in the middle of a frame, frame_next dropped in the middle of
 * a frame (by a timeout and by a select) and continued, frames never torn by a dropped send.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "io_test_util.h"
#include <weft/codec.h>

typedef struct payload {
    const char *bytes;
    size_t len;
} payload;

#define P(s) {(s), sizeof(s) - 1}

/* Encode the payloads with the codec's own encoder, into one contiguous byte string. */
static unsigned char *encode_all(weft_codec c, const payload *p, size_t n, size_t *out_len)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        size_t e;
        assert_int_equal(c.vt->encoded_len(&c, p[i].bytes, p[i].len, &e), 0);
        total += e;
    }
    unsigned char *buf = malloc(total ? total : 1), *at = buf;
    for (size_t i = 0; i < n; i++) {
        size_t e;
        c.vt->encoded_len(&c, p[i].bytes, p[i].len, &e);
        c.vt->encode(&c, p[i].bytes, p[i].len, at);
        at += e;
    }
    *out_len = total;
    return buf;
}

/* For every chunk size 1..len, the encoded stream arrives in pieces of that size (so every
 * split point of every frame is hit) and decodes to the same frames, then a clean end. */
static void every_split_point(weft_codec c, const payload *p, size_t n)
{
    size_t len;
    unsigned char *wire = encode_all(c, p, n, &len);
    weft_runtime *rt = io_rt_new(WEFT_CURRENT_THREAD);
    for (size_t k = 1; k <= len; k++) {
        weft_duplex *a, *b;
        duplex_pair(4096, k, &a, &b);
        weft_join_handle h = feeder_spawn(rt, weft_duplex_stream(a), wire, len, true);
        weft_framed_read fr;
        assert_int_equal(weft_framed_read_init(&fr, weft_duplex_stream(b), c, 4), 0);
        for (size_t i = 0; i < n; i++) {
            weft_frame_next next;
            weft_frame_next_init(&next, &fr);
            io_block_on(rt, &next);
            assert_int_equal(next.status, 0);
            assert_int_equal(next.len, p[i].len);
            if (p[i].len)
                assert_memory_equal(next.frame, p[i].bytes, p[i].len);
        }
        weft_frame_next next;
        weft_frame_next_init(&next, &fr);
        io_block_on(rt, &next);
        assert_int_equal(next.status, WEFT_ECLOSED);
        assert_int_equal(join_value(rt, &h), (intptr_t)len);
        weft_framed_read_free(&fr);
        weft_duplex_free(a);
        weft_duplex_free(b);
    }
    weft_runtime_shutdown(rt);
    free(wire);
}

static void test_codec_lines_every_split_point(void **state)
{
    (void)state;
    static const payload p[] = {P("GET /"), P(""), P("with\rcarriage"), P("x"),
                                P("a somewhat longer line of text, 40 bytes")};
    every_split_point(weft_codec_lines(64), p, sizeof p / sizeof p[0]);
}

static void test_codec_length_every_split_point(void **state)
{
    (void)state;
    static const payload p[] = {P("hello"), P(""), {"\0\n\r\xff\x00\x01", 6},
                                P("a frame of twenty-six bytes")};
    every_split_point(weft_codec_length_u32(64), p, sizeof p / sizeof p[0]);
}

/* A length header announcing 4 GiB is refused as soon as its 4 bytes are in, with nothing
 * allocated for it; the error sticks. */
static void test_codec_length_oversized_refused_without_allocation(void **state)
{
    (void)state;
    weft_runtime *rt = io_rt_new(WEFT_CURRENT_THREAD);
    weft_duplex *a, *b;
    duplex_pair(64, SIZE_MAX, &a, &b);
    weft_io_write_all wa;
    weft_io_write_all_init(&wa, weft_duplex_stream(a), "\xff\xff\xff\xff" "abc", 7);
    io_block_on(rt, &wa);
    weft_framed_read fr;
    weft_framed_read_init(&fr, weft_duplex_stream(b), weft_codec_length_u32(1024), 16);
    weft_frame_next next;
    weft_frame_next_init(&next, &fr);
    io_block_on(rt, &next);
    assert_int_equal(next.status, WEFT_ETOOBIG);
    assert_true(fr.rd.cap <= 16); /* no buffer sized after the peer's number */
    weft_frame_next_init(&next, &fr);
    io_block_on(rt, &next);
    assert_int_equal(next.status, WEFT_ETOOBIG);
    /* one byte over the limit is refused too; exactly the limit is accepted (below) */
    weft_framed_read_free(&fr);
    weft_duplex_free(a);
    weft_duplex_free(b);
    weft_runtime_shutdown(rt);
}

/* Frames of exactly the maximum pass, max + 1 fails; the buffer grows only to max + header. */
static void test_codec_length_limit_is_exact(void **state)
{
    (void)state;
    enum { MAX = 1000 };
    static unsigned char wire[2 * (4 + MAX) + 1];
    memset(wire, 'z', sizeof wire);
    wire[0] = 0, wire[1] = 0, wire[2] = MAX >> 8, wire[3] = MAX & 0xff;
    unsigned char *second = wire + 4 + MAX;
    second[0] = 0, second[1] = 0, second[2] = (MAX + 1) >> 8, second[3] = (MAX + 1) & 0xff;
    weft_runtime *rt = io_rt_new(WEFT_CURRENT_THREAD);
    weft_duplex *a, *b;
    duplex_pair(sizeof wire, 7, &a, &b);
    weft_join_handle h = feeder_spawn(rt, weft_duplex_stream(a), wire, sizeof wire, true);
    weft_framed_read fr;
    weft_framed_read_init(&fr, weft_duplex_stream(b), weft_codec_length_u32(MAX), 8);
    weft_frame_next next;
    weft_frame_next_init(&next, &fr);
    io_block_on(rt, &next);
    assert_int_equal(next.status, 0);
    assert_int_equal(next.len, MAX);
    weft_frame_next_init(&next, &fr);
    io_block_on(rt, &next);
    assert_int_equal(next.status, WEFT_ETOOBIG);
    assert_true(fr.rd.cap <= 4 + MAX);
    join_value(rt, &h);
    weft_framed_read_free(&fr);
    weft_duplex_free(a);
    weft_duplex_free(b);
    weft_runtime_shutdown(rt);
}

/* A line with no end: refused after max + 2 bytes, the buffer never past that. */
static void test_codec_lines_oversized_is_bounded(void **state)
{
    (void)state;
    enum { MAX = 100, SENT = 100000 };
    unsigned char *flood = malloc(SENT);
    memset(flood, 'x', SENT);
    weft_runtime *rt = io_rt_new(WEFT_CURRENT_THREAD);
    weft_duplex *a, *b;
    duplex_pair(4096, SIZE_MAX, &a, &b);
    weft_join_handle h = feeder_spawn(rt, weft_duplex_stream(a), flood, SENT, true);
    weft_framed_read fr;
    weft_framed_read_init(&fr, weft_duplex_stream(b), weft_codec_lines(MAX), 0);
    weft_frame_next next;
    weft_frame_next_init(&next, &fr);
    io_block_on(rt, &next);
    assert_int_equal(next.status, WEFT_ETOOBIG);
    assert_true(fr.rd.cap <= MAX + 2);
    /* The connection is to be closed: the feeder's writes then fail rather than hang. */
    weft_framed_read_free(&fr);
    weft_duplex_free(b);
    weft_io_stream *s = weft_duplex_stream(a);
    io_block_on(rt, &h);
    assert_int_equal(h.status, 0);
    assert_true(h.value < SENT);
    weft_io_stream_close(s);
    free(flood);
    weft_runtime_shutdown(rt);
}

/* End of stream inside a header or a body is WEFT_EUNEXPECTEDEOF, not a hang or a frame. */
static void test_codec_eof_in_the_middle_of_a_frame(void **state)
{
    (void)state;
    static const struct {
        const char *bytes;
        size_t len;
    } cut[] = {{"\0\0", 2}, {"\0\0\0\x05" "ab", 6}, {"\0\0\0\x01" "x" "\0", 6}};
    weft_runtime *rt = io_rt_new(WEFT_CURRENT_THREAD);
    for (size_t i = 0; i < sizeof cut / sizeof cut[0]; i++) {
        weft_duplex *a, *b;
        duplex_pair(64, 1, &a, &b);
        weft_join_handle h = feeder_spawn(rt, weft_duplex_stream(a), cut[i].bytes, cut[i].len,
                                          true);
        weft_framed_read fr;
        weft_framed_read_init(&fr, weft_duplex_stream(b), weft_codec_length_u32(64), 0);
        weft_frame_next next;
        weft_frame_next_init(&next, &fr);
        io_block_on(rt, &next);
        if (i == 2) { /* a whole frame first, then the cut one */
            assert_int_equal(next.status, 0);
            assert_int_equal(next.len, 1);
            weft_frame_next_init(&next, &fr);
            io_block_on(rt, &next);
        }
        assert_int_equal(next.status, WEFT_EUNEXPECTEDEOF);
        join_value(rt, &h);
        weft_framed_read_free(&fr);
        weft_duplex_free(a);
        weft_duplex_free(b);
    }
    weft_runtime_shutdown(rt);
}

/* The last line of a stream needs no newline (as Tokio's LinesCodec). */
static void test_codec_lines_last_line_without_newline(void **state)
{
    (void)state;
    weft_runtime *rt = io_rt_new(WEFT_CURRENT_THREAD);
    weft_duplex *a, *b;
    duplex_pair(64, SIZE_MAX, &a, &b);
    weft_join_handle h = feeder_spawn(rt, weft_duplex_stream(a), "one\ntwo", 7, true);
    weft_framed_read fr;
    weft_framed_read_init(&fr, weft_duplex_stream(b), weft_codec_lines(10), 0);
    weft_frame_next next;
    weft_frame_next_init(&next, &fr);
    io_block_on(rt, &next);
    assert_memory_equal(next.frame, "one", 3);
    weft_frame_next_init(&next, &fr);
    io_block_on(rt, &next);
    assert_int_equal(next.status, 0);
    assert_int_equal(next.len, 3);
    assert_memory_equal(next.frame, "two", 3);
    weft_frame_next_init(&next, &fr);
    io_block_on(rt, &next);
    assert_int_equal(next.status, WEFT_ECLOSED);
    join_value(rt, &h);
    weft_framed_read_free(&fr);
    weft_duplex_free(a);
    weft_duplex_free(b);
    weft_runtime_shutdown(rt);
}

/* ---------------------------------------------------------------- cancel safety */

/* frame_next dropped in the middle of a frame, by a timeout and then by a select that another
 * branch wins, loses nothing: the next frame_next returns the whole frame. */
static void test_codec_frame_next_cancel_safe(void **state)
{
    (void)state;
    static const unsigned char wire[] = "\0\0\0\x0a" "0123456789" "\0\0\0\x01" "!";
    weft_runtime *rt = io_rt_new(WEFT_CURRENT_THREAD);
    weft_duplex *a, *b;
    duplex_pair(64, SIZE_MAX, &a, &b);
    weft_framed_read fr;
    weft_framed_read_init(&fr, weft_duplex_stream(b), weft_codec_length_u32(64), 0);
    weft_io_stream *out = weft_duplex_stream(a);

    /* 3 header bytes, then a timeout drops the frame_next */
    weft_io_write_all wa;
    weft_io_write_all_init(&wa, out, wire, 3);
    io_block_on(rt, &wa);
    weft_frame_next next;
    weft_timeout t;
    weft_frame_next_init(&next, &fr);
    weft_timeout_init(&t, weft_ms(2), &next.base);
    io_block_on(rt, &t);
    assert_int_equal(t.status, WEFT_EELAPSED);

    /* header complete and half the body; a biased select polls frame_next first (PENDING,
     * having buffered the bytes), then the ready branch wins and frame_next is dropped */
    weft_io_write_all_init(&wa, out, wire + 3, 6);
    io_block_on(rt, &wa);
    weft_ready_future ready;
    weft_ready_init(&ready);
    weft_frame_next_init(&next, &fr);
    weft_future *branches[2] = {&next.base, &ready.base};
    weft_select sel;
    weft_select_biased_init(&sel, branches, 2);
    io_block_on(rt, &sel);
    assert_int_equal(sel.winner, 1);
    assert_int_equal(weft_duplex_readable(b), 0); /* the bytes are in the connection object */

    weft_io_write_all_init(&wa, out, wire + 9, sizeof wire - 1 - 9);
    io_block_on(rt, &wa);
    weft_frame_next_init(&next, &fr);
    io_block_on(rt, &next);
    assert_int_equal(next.status, 0);
    assert_int_equal(next.len, 10);
    assert_memory_equal(next.frame, "0123456789", 10);
    weft_frame_next_init(&next, &fr);
    io_block_on(rt, &next);
    assert_int_equal(next.len, 1);
    assert_memory_equal(next.frame, "!", 1);
    weft_framed_read_free(&fr);
    weft_duplex_free(a);
    weft_duplex_free(b);
    weft_runtime_shutdown(rt);
}

/* A frame_send dropped while flushing (the peer is not reading and the pipe is tiny) leaves
 * its frame whole in the writer; the next send pushes it out first, and the peer decodes both
 * frames intact. */
static void test_codec_send_never_torn(void **state)
{
    (void)state;
    weft_runtime *rt = io_rt_new(WEFT_CURRENT_THREAD);
    weft_duplex *a, *b;
    duplex_pair(8, SIZE_MAX, &a, &b);
    weft_framed_write fw;
    weft_framed_write_init(&fw, weft_duplex_stream(a), weft_codec_length_u32(64), 16);
    weft_frame_send send;
    weft_timeout t;
    weft_frame_send_init(&send, &fw, "twenty bytes payload", 20);
    weft_timeout_init(&t, weft_ms(2), &send.base);
    io_block_on(rt, &t);
    assert_int_equal(t.status, WEFT_EELAPSED);
    assert_true(send.queued); /* it was in the buffer: never half-sent */
    assert_int_equal(weft_duplex_readable(b), 8);

    weft_framed_read fr;
    weft_framed_read_init(&fr, weft_duplex_stream(b), weft_codec_length_u32(64), 0);
    /* feed (no flush) "second": it must wait for room behind the first frame, which the
     * reader makes by reading that frame */
    weft_frame_feed_init(&send, &fw, "second", 6);
    weft_frame_next next;
    weft_future *branches[2] = {&send.base, &next.base};
    weft_join_all all;
    weft_frame_next_init(&next, &fr);
    weft_join_all_init(&all, branches, 2);
    io_block_on(rt, &all);
    assert_int_equal(send.status, 0);
    assert_int_equal(next.status, 0);
    assert_int_equal(next.len, 20);
    assert_memory_equal(next.frame, "twenty bytes payload", 20);
    /* flush "second" while reading it */
    weft_io_flush fl;
    weft_io_flush_init(&fl, weft_framed_write_stream(&fw));
    weft_frame_next_init(&next, &fr);
    branches[0] = &fl.base;
    weft_join_all_init(&all, branches, 2);
    io_block_on(rt, &all);
    assert_int_equal(fl.status, 0);
    assert_int_equal(next.status, 0);
    assert_int_equal(next.len, 6);
    assert_memory_equal(next.frame, "second", 6);
    weft_framed_read_free(&fr);
    weft_framed_write_free(&fw);
    weft_duplex_free(a);
    weft_duplex_free(b);
    weft_runtime_shutdown(rt);
}

/* Sending what the codec cannot carry fails before anything is written. */
static void test_codec_send_refuses_bad_frames(void **state)
{
    (void)state;
    weft_runtime *rt = io_rt_new(WEFT_CURRENT_THREAD);
    weft_duplex *a, *b;
    duplex_pair(64, SIZE_MAX, &a, &b);
    weft_framed_write lines, len;
    weft_framed_write_init(&lines, weft_duplex_stream(a), weft_codec_lines(5), 0);
    weft_framed_write_init(&len, weft_duplex_stream(a), weft_codec_length_u32(5), 0);
    weft_frame_send send;
    weft_frame_send_init(&send, &lines, "a\nb", 3);
    io_block_on(rt, &send);
    assert_int_equal(send.status, WEFT_EINVAL);
    weft_frame_send_init(&send, &lines, "toolong", 7);
    io_block_on(rt, &send);
    assert_int_equal(send.status, WEFT_ETOOBIG);
    weft_frame_send_init(&send, &len, "toolong", 7);
    io_block_on(rt, &send);
    assert_int_equal(send.status, WEFT_ETOOBIG);
    assert_false(send.queued);
    assert_int_equal(weft_duplex_readable(b), 0);
    weft_frame_send_init(&send, &lines, "ok", 2);
    io_block_on(rt, &send);
    assert_int_equal(send.status, 0);
    assert_int_equal(weft_duplex_readable(b), 3);
    weft_framed_write_free(&lines);
    weft_framed_write_free(&len);
    weft_duplex_free(a);
    weft_duplex_free(b);
    weft_runtime_shutdown(rt);
}

/* An echo of framed messages between two tasks on the multi-thread runtime, 1..7-byte
 * chunks: both directions at once across threads (suite tsan). */
typedef struct framed_echo {
    weft_async co;
    weft_framed_read in;
    weft_framed_write out;
    weft_frame_next next;
    weft_frame_send send;
    int count;
} framed_echo;

static weft_poll framed_echo_poll(weft_future *f, weft_context *cx)
{
    framed_echo *e = (framed_echo *)f;
    WEFT_ASYNC_BEGIN(&e->co);
    for (;;) {
        weft_frame_next_init(&e->next, &e->in);
        WEFT_AWAIT(&e->co, cx, &e->next);
        if (e->next.status < 0)
            break;
        weft_frame_send_init(&e->send, &e->out, e->next.frame, e->next.len);
        WEFT_AWAIT(&e->co, cx, &e->send);
        if (e->send.status < 0)
            break;
        e->count++;
    }
    weft_task_return(cx, e->next.status == WEFT_ECLOSED ? e->count : -1);
    weft_framed_read_free(&e->in);
    weft_framed_write_free(&e->out);
    WEFT_ASYNC_END(&e->co);
}

static const weft_future_vtable framed_echo_vt = {framed_echo_poll, weft_async_drop, "echo"};

static void test_codec_echo_across_threads(void **state)
{
    (void)state;
    enum { FRAMES = 300 };
    weft_runtime *rt = io_rt_new(WEFT_MULTI_THREAD);
    weft_duplex *a, *b;
    duplex_pair(16, 7, &a, &b);
    weft_duplex_set_max_chunk(b, 3);
    framed_echo e = {0};
    weft_async_init(&e.co, &framed_echo_vt);
    weft_framed_read_init(&e.in, weft_duplex_stream(b), weft_codec_length_u32(256), 0);
    weft_framed_write_init(&e.out, weft_duplex_stream(b), weft_codec_length_u32(256), 0);
    weft_join_handle h = weft_runtime_spawn(rt, &e);

    weft_framed_read in;
    weft_framed_write out;
    weft_framed_read_init(&in, weft_duplex_stream(a), weft_codec_length_u32(256), 0);
    weft_framed_write_init(&out, weft_duplex_stream(a), weft_codec_length_u32(256), 0);
    for (int i = 0; i < FRAMES; i++) {
        char msg[64];
        int len = snprintf(msg, sizeof msg, "frame %d %.*s", i, i % 40,
                           "........................................");
        weft_frame_send send;
        weft_frame_send_init(&send, &out, msg, (size_t)len);
        io_block_on(rt, &send);
        assert_int_equal(send.status, 0);
        weft_frame_next next;
        weft_frame_next_init(&next, &in);
        io_block_on(rt, &next);
        assert_int_equal(next.status, 0);
        assert_int_equal(next.len, (size_t)len);
        assert_memory_equal(next.frame, msg, (size_t)len);
    }
    weft_io_shutdown sd;
    weft_io_shutdown_init(&sd, weft_duplex_stream(a));
    io_block_on(rt, &sd);
    assert_int_equal(join_value(rt, &h), FRAMES);
    weft_framed_read_free(&in);
    weft_framed_write_free(&out);
    weft_duplex_free(a);
    weft_duplex_free(b);
    weft_runtime_shutdown(rt);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_codec_lines_every_split_point),
        cmocka_unit_test(test_codec_length_every_split_point),
        cmocka_unit_test(test_codec_length_oversized_refused_without_allocation),
        cmocka_unit_test(test_codec_length_limit_is_exact),
        cmocka_unit_test(test_codec_lines_oversized_is_bounded),
        cmocka_unit_test(test_codec_eof_in_the_middle_of_a_frame),
        cmocka_unit_test(test_codec_lines_last_line_without_newline),
        cmocka_unit_test(test_codec_frame_next_cancel_safe),
        cmocka_unit_test(test_codec_send_never_torn),
        cmocka_unit_test(test_codec_send_refuses_bad_frames),
        cmocka_unit_test(test_codec_echo_across_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
