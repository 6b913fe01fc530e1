/* tests/io/test_fs_stream.c - a file as a weft_io_stream: frames written with a codec into a
 * file and read back, read_to_end through small reads, a write after a partial read landing
 * where the reader stopped, a write-behind error reported by flush, a read dropped in flight
 * losing nothing, and close with a write still in flight (the bytes land, the descriptor is
 * closed).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "io_test_util.h"
#include <weft/codec.h>
#include <weft/fs.h>

typedef struct fss_case {
    weft_runtime *rt;
    char dir[64];
    char path[128];
} fss_case;

static int setup(void **state)
{
    fss_case *c = calloc(1, sizeof *c);
    snprintf(c->dir, sizeof c->dir, "/tmp/weft-fss-XXXXXX");
    if (!mkdtemp(c->dir))
        return -1;
    snprintf(c->path, sizeof c->path, "%s/f", c->dir);
    c->rt = io_rt_new(WEFT_CURRENT_THREAD);
    *state = c;
    return 0;
}

static int teardown(void **state)
{
    fss_case *c = *state;
    if (c->rt)
        weft_runtime_shutdown(c->rt);
    unlink(c->path);
    int rc = rmdir(c->dir);
    free(c);
    return rc;
}

static weft_file open_file(fss_case *c, int flags)
{
    weft_fs_op op;
    weft_fs_open_init(&op, c->path, flags, 0644);
    io_block_on(c->rt, &op);
    assert_int_equal(op.status, 0);
    return op.file;
}

static void write_file(fss_case *c, const char *text)
{
    weft_fs_op op;
    weft_fs_write_init(&op, c->path, text, strlen(text));
    io_block_on(c->rt, &op);
    assert_int_equal(op.status, 0);
}

static char *slurp(fss_case *c)
{
    weft_fs_op op;
    weft_fs_read_to_end_init(&op, c->path, SIZE_MAX);
    io_block_on(c->rt, &op);
    assert_int_equal(op.status, 0);
    return op.data;
}

/* Codecs work on files: 200 length-prefixed frames into a file, then read back. */
static void test_fs_stream_frames_round_trip(void **state)
{
    fss_case *c = *state;
    weft_file f = open_file(c, WEFT_FS_CREATE_TRUNCATE);
    weft_file_stream fs;
    weft_file_stream_init(&fs, &f);
    assert_int_equal(f.fd, -1);
    weft_framed_write fw;
    weft_framed_write_init(&fw, weft_file_stream_io(&fs), weft_codec_length_u32(100), 256);
    char msg[64];
    for (int i = 0; i < 200; i++) {
        int len = snprintf(msg, sizeof msg, "record %d", i);
        weft_frame_send send;
        weft_frame_feed_init(&send, &fw, msg, (size_t)len);
        io_block_on(c->rt, &send);
        assert_int_equal(send.status, 0);
    }
    weft_io_flush fl;
    weft_io_flush_init(&fl, weft_framed_write_stream(&fw));
    io_block_on(c->rt, &fl);
    assert_int_equal(fl.status, 0);
    weft_framed_write_free(&fw);
    weft_file_stream_close(&fs);

    f = open_file(c, WEFT_FS_READ);
    weft_file_stream_init(&fs, &f);
    weft_framed_read fr;
    weft_framed_read_init(&fr, weft_file_stream_io(&fs), weft_codec_length_u32(100), 16);
    for (int i = 0;; i++) {
        weft_frame_next next;
        weft_frame_next_init(&next, &fr);
        io_block_on(c->rt, &next);
        if (i == 200) {
            assert_int_equal(next.status, WEFT_ECLOSED);
            break;
        }
        assert_int_equal(next.status, 0);
        int len = snprintf(msg, sizeof msg, "record %d", i);
        assert_int_equal(next.len, (size_t)len);
        assert_memory_equal(next.frame, msg, (size_t)len);
    }
    weft_framed_read_free(&fr);
    weft_file_stream_close(&fs);
    weft_file_stream_close(&fs); /* harmless */
}

/* read_to_end through the stream, and byte-at-a-time read_exact, see the whole file. */
static void test_fs_stream_reads(void **state)
{
    fss_case *c = *state;
    enum { N = 3 * WEFT_FILE_STREAM_CHUNK + 17 };
    unsigned char *data = malloc(N);
    for (size_t i = 0; i < N; i++)
        data[i] = (unsigned char)(i * 7);
    weft_fs_op op;
    weft_fs_write_init(&op, c->path, data, N);
    io_block_on(c->rt, &op);
    weft_file f = open_file(c, WEFT_FS_READ);
    weft_file_stream fs;
    weft_file_stream_init(&fs, &f);
    unsigned char first[3];
    for (int i = 0; i < 3; i++) {
        weft_io_read_exact re;
        weft_io_read_exact_init(&re, weft_file_stream_io(&fs), first + i, 1);
        io_block_on(c->rt, &re);
        assert_int_equal(re.status, 0);
    }
    assert_memory_equal(first, data, 3);
    weft_io_read_to_end rte;
    weft_io_read_to_end_init(&rte, weft_file_stream_io(&fs), N);
    io_block_on(c->rt, &rte);
    assert_int_equal(rte.status, 0);
    assert_int_equal(rte.len, N - 3);
    assert_memory_equal(rte.data, data + 3, N - 3);
    free(rte.data);
    weft_file_stream_close(&fs);
    free(data);
}

/* A write after a partial read lands where the reader stopped, not after the read-ahead. */
static void test_fs_stream_write_after_read(void **state)
{
    fss_case *c = *state;
    write_file(c, "0123456789");
    weft_file f = open_file(c, WEFT_FS_READ | WEFT_FS_WRITE);
    weft_file_stream fs;
    weft_file_stream_init(&fs, &f);
    char two[2];
    weft_io_read_exact re;
    weft_io_read_exact_init(&re, weft_file_stream_io(&fs), two, 2);
    io_block_on(c->rt, &re);
    assert_memory_equal(two, "01", 2);
    weft_io_write_all wa;
    weft_io_write_all_init(&wa, weft_file_stream_io(&fs), "ab", 2);
    io_block_on(c->rt, &wa);
    weft_io_read_exact_init(&re, weft_file_stream_io(&fs), two, 2);
    io_block_on(c->rt, &re);
    assert_int_equal(re.status, 0);
    assert_memory_equal(two, "45", 2);
    weft_io_flush fl;
    weft_io_flush_init(&fl, weft_file_stream_io(&fs));
    io_block_on(c->rt, &fl);
    assert_int_equal(fl.status, 0);
    weft_file_stream_close(&fs);
    char *text = slurp(c);
    assert_string_equal(text, "01ab456789");
    free(text);
}

/* A write-behind that fails (the file is read-only) is reported by the flush that follows,
 * once, as the OS error. */
static void test_fs_stream_write_error_reported_by_flush(void **state)
{
    fss_case *c = *state;
    write_file(c, "ro");
    weft_file f = open_file(c, WEFT_FS_READ);
    weft_file_stream fs;
    weft_file_stream_init(&fs, &f);
    weft_io_write w;
    weft_io_write_init(&w, weft_file_stream_io(&fs), "xyz", 3);
    io_block_on(c->rt, &w);
    assert_int_equal(w.status, 0); /* accepted: the write happens on the pool */
    assert_int_equal(w.n, 3);
    weft_io_flush fl;
    weft_io_flush_init(&fl, weft_file_stream_io(&fs));
    io_block_on(c->rt, &fl);
    assert_int_equal(weft_os_errno(fl.status), EBADF);
    weft_io_flush_init(&fl, weft_file_stream_io(&fs));
    io_block_on(c->rt, &fl);
    assert_int_equal(fl.status, 0);
    weft_file_stream_close(&fs);
}

/* A read dropped while the pool reads loses nothing: the next read takes the bytes. */
typedef struct poll_once_then_drop {
    weft_future base;
    weft_future *inner;
    bool was_pending;
} poll_once_then_drop;

static weft_poll poll_once_poll(weft_future *f, weft_context *cx)
{
    poll_once_then_drop *p = (poll_once_then_drop *)f;
    p->was_pending = weft_future_poll(p->inner, cx) == WEFT_PENDING;
    if (p->was_pending)
        weft_future_drop(p->inner);
    return WEFT_READY;
}

static const weft_future_vtable poll_once_vt = {poll_once_poll, NULL, "poll_once"};

/* Occupies the only pool thread until a byte arrives on the pipe. */
static int blocker(void *arg, intptr_t *value)
{
    (void)value;
    char b;
    return read(*(int *)arg, &b, 1) == 1 ? 0 : WEFT_EIO;
}

static void test_fs_stream_dropped_read_loses_nothing(void **state)
{
    fss_case *c = *state;
    write_file(c, "abcdef");
    weft_file f = open_file(c, WEFT_FS_READ);
    /* A runtime whose one pool thread is kept busy, so that the read is surely in flight
     * (queued) when it is dropped. */
    weft_builder b = weft_builder_new_current_thread();
    b.max_blocking_threads = 1;
    weft_runtime *rt;
    assert_int_equal(weft_runtime_new(&b, &rt), 0);
    int pipefd[2];
    assert_int_equal(pipe(pipefd), 0);
    weft_join_handle busy = weft__spawn_blocking(rt, blocker, &pipefd[0], "blocker", WEFT_HERE);

    weft_file_stream fs;
    weft_file_stream_init(&fs, &f);
    char buf[8] = {0};
    weft_io_read rd;
    weft_io_read_init(&rd, weft_file_stream_io(&fs), buf, 3);
    poll_once_then_drop p = {{&poll_once_vt}, &rd.base, false};
    io_block_on(rt, &p);
    assert_true(p.was_pending);
    assert_non_null(fs.job); /* the operation stays with the stream */

    assert_int_equal(write(pipefd[1], "go", 1), 1);
    weft_io_read_exact re;
    weft_io_read_exact_init(&re, weft_file_stream_io(&fs), buf, 6);
    io_block_on(rt, &re);
    assert_int_equal(re.status, 0);
    assert_string_equal(buf, "abcdef");
    assert_int_equal(join_value(rt, &busy), 0);
    weft_file_stream_close(&fs);
    weft_runtime_shutdown(rt);
    close(pipefd[0]);
    close(pipefd[1]);
}

/* Close with a write still in flight: the bytes land and the descriptor is closed (after the
 * runtime's shutdown has waited for the pool). */
static int open_fds(void)
{
    int n = 0;
    for (int fd = 0; fd < 1024; fd++)
        if (fcntl(fd, F_GETFD) >= 0)
            n++;
    return n;
}

static void test_fs_stream_close_with_write_in_flight(void **state)
{
    fss_case *c = *state;
    int fds = open_fds();
    weft_file f = open_file(c, WEFT_FS_CREATE_TRUNCATE);
    weft_file_stream fs;
    weft_file_stream_init(&fs, &f);
    weft_io_write_all wa;
    weft_io_write_all_init(&wa, weft_file_stream_io(&fs), "last words", 10);
    io_block_on(c->rt, &wa);
    weft_io_stream_close(weft_file_stream_io(&fs));
    weft_runtime_shutdown(c->rt);
    c->rt = NULL;
    assert_int_equal(open_fds(), fds);
    FILE *fp = fopen(c->path, "r");
    char got[16] = {0};
    assert_int_equal(fread(got, 1, sizeof got, fp), 10);
    fclose(fp);
    assert_string_equal(got, "last words");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_fs_stream_frames_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fs_stream_reads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fs_stream_write_after_read, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fs_stream_write_error_reported_by_flush, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_fs_stream_dropped_read_loses_nothing, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_fs_stream_close_with_write_in_flight, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
