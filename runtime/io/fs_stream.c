/* runtime/io/fs_stream.c - an open file as a weft_io_stream (weft_file_stream, weft/fs.h).
 *
 * At most one job is in flight per stream, a read or a write, and it is the stream's, not the
 * future's: a poll that returns PENDING leaves the job in the stream, so a dropped read or
 * write loses nothing and the next operation first waits for the job to finish and takes its
 * result. Reads fill the `ahead` buffer and are served from it; writes are write-behind (READY
 * once the bytes are copied into the job), with their outcome kept in `err` for the next
 * operation. Invariant: job != NULL or the stream is idle; ahead[pos, len) is unconsumed data
 * that sits *before* the file offset, which is why a write first seeks back over it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <weft/fs.h>

#include "fs_int.h"
#include "io_int.h"

static const weft_io_stream_vtable file_stream_vt;

void weft_file_stream_init(weft_file_stream *s, weft_file *file)
{
    memset(s, 0, sizeof *s);
    s->stream.vt = &file_stream_vt;
    s->fd = file ? file->fd : -1;
    if (file)
        file->fd = -1;
}

static void drop_ahead(weft_file_stream *s)
{
    free(s->ahead);
    s->ahead = NULL;
    s->pos = s->len = 0;
}

/* Start a job on the pool: a read of `len` bytes, or a write of data[0, len). */
static int start_job(weft_file_stream *s, int kind, const void *data, size_t len)
{
    weft__fs_job *j = calloc(1, sizeof *j);
    if (!j)
        return WEFT_ENOMEM;
    atomic_init(&j->refs, 1);
    j->kind = kind;
    j->fd = s->fd;
    j->out_fd = -1;
    j->len = len;
    j->buf = malloc(len ? len : 1);
    if (!j->buf) {
        weft__fs_job_release(j);
        return WEFT_ENOMEM;
    }
    if (kind == FS_FILE_WRITE) {
        memcpy(j->buf, data, len);
        j->mandatory = true; /* accepted bytes survive a shutdown (fs.c, fs_task_drop) */
    }
    int err = weft__fs_job_spawn(j, weft_io_current_location(), &s->join);
    if (err < 0) {
        weft__fs_job_release(j);
        return err;
    }
    s->job = j;
    return 0;
}

/* Wait for the job in flight, if any, and take its result: read bytes go to `ahead`, a write's
 * error to `err`. READY when the stream is idle. */
static weft_poll finish_job(weft_file_stream *s, weft_context *cx)
{
    if (!s->job)
        return WEFT_READY;
    if (weft_future_poll(&s->join.base, cx) == WEFT_PENDING)
        return WEFT_PENDING;
    weft__fs_job *j = s->job;
    s->job = NULL;
    int status = s->join.status == WEFT_ECANCELLED ? WEFT_ECANCELLED : j->status;
    if (j->kind == FS_FILE_READ) {
        if (status < 0) {
            s->err = status;
        } else {
            drop_ahead(s);
            s->ahead = j->buf;
            j->buf = NULL;
            s->len = j->n;
            s->eof = j->n == 0;
        }
    } else if (status < 0 && s->err == 0) {
        s->err = status;
    }
    weft__fs_job_release(j);
    return WEFT_READY;
}

static int take_err(weft_file_stream *s)
{
    int e = s->err;
    s->err = 0;
    return e;
}

static weft_poll fs_poll_read(weft_io_stream *io, weft_context *cx, void *buf, size_t cap,
                              size_t *n, int *err)
{
    weft_file_stream *s = (weft_file_stream *)io;
    *n = 0;
    *err = 0;
    if (s->fd < 0) {
        *err = weft_os_error(EBADF);
        return WEFT_READY;
    }
    for (;;) {
        if (s->pos < s->len || s->eof || cap == 0) {
            if (!weft_coop_proceed(cx))
                return WEFT_PENDING;
            size_t k = s->len - s->pos < cap ? s->len - s->pos : cap;
            if (k > 0)
                memcpy(buf, s->ahead + s->pos, k);
            s->pos += k;
            *n = k;
            if (k == 0 && cap > 0)
                s->eof = false; /* reported once: a file may grow, the next read asks again */
            if (s->pos == s->len)
                drop_ahead(s);
            return WEFT_READY;
        }
        if (finish_job(s, cx) == WEFT_PENDING)
            return WEFT_PENDING;
        if (s->err) {
            *err = take_err(s);
            return WEFT_READY;
        }
        if (s->pos < s->len || s->eof)
            continue;
        size_t want = cap < WEFT_FILE_STREAM_CHUNK ? WEFT_FILE_STREAM_CHUNK : cap;
        if (want > WEFT_FILE_STREAM_CHUNK)
            want = WEFT_FILE_STREAM_CHUNK;
        if ((*err = start_job(s, FS_FILE_READ, NULL, want)) < 0)
            return WEFT_READY;
    }
}

static weft_poll fs_poll_write(weft_io_stream *io, weft_context *cx, const void *buf,
                               size_t len, size_t *n, int *err)
{
    weft_file_stream *s = (weft_file_stream *)io;
    *n = 0;
    *err = 0;
    if (s->fd < 0) {
        *err = weft_os_error(EBADF);
        return WEFT_READY;
    }
    if (finish_job(s, cx) == WEFT_PENDING)
        return WEFT_PENDING;
    if (s->err) {
        *err = take_err(s);
        return WEFT_READY;
    }
    if (len == 0)
        return WEFT_READY;
    if (!weft_coop_proceed(cx))
        return WEFT_PENDING;
    if (s->pos < s->len) {
        /* Bytes read ahead sit before the offset: step back over them (cheap, no I/O). */
        if (lseek(s->fd, -(off_t)(s->len - s->pos), SEEK_CUR) < 0) {
            *err = weft_os_error(errno);
            return WEFT_READY;
        }
    }
    drop_ahead(s);
    s->eof = false;
    size_t k = len < WEFT_FILE_STREAM_CHUNK ? len : WEFT_FILE_STREAM_CHUNK;
    if ((*err = start_job(s, FS_FILE_WRITE, buf, k)) < 0)
        return WEFT_READY;
    *n = k;
    return WEFT_READY;
}

static weft_poll fs_poll_flush(weft_io_stream *io, weft_context *cx, int *err)
{
    weft_file_stream *s = (weft_file_stream *)io;
    *err = 0;
    if (finish_job(s, cx) == WEFT_PENDING)
        return WEFT_PENDING;
    *err = take_err(s);
    return WEFT_READY;
}

void weft_file_stream_close(weft_file_stream *s)
{
    if (!s || s->fd < 0)
        return;
    if (s->job) {
        /* The pool still uses the descriptor: the job closes it when it is released. */
        weft_join_handle_detach(&s->join);
        s->job->out_fd = s->fd;
        weft__fs_job_release(s->job);
        s->job = NULL;
    } else {
        close(s->fd);
    }
    s->fd = -1;
    drop_ahead(s);
}

static void fs_close(weft_io_stream *io)
{
    weft_file_stream_close((weft_file_stream *)io);
}

static const weft_io_stream_vtable file_stream_vt = {
    .poll_read = fs_poll_read,
    .poll_write = fs_poll_write,
    .poll_flush = fs_poll_flush,
    .poll_shutdown = fs_poll_flush, /* a file has no write side to shut: flush */
    .close = fs_close,
    .name = "file",
};
