/* runtime/io/buf_reader.c - the buffered reader: fill, consume, lines, and its stream face
 * (weft/io_buf.h).
 *
 * Invariants: 0 <= pos <= filled <= cap; scanned <= filled - pos and no "\n" lies in
 * buf[pos, pos + scanned); cap only grows, and only beyond initial_cap when every buffered
 * byte is unconsumed and the caller's limit allows it. A partial line or frame is always the
 * unconsumed part of this buffer, which is why the futures built on it are cancel-safe: they
 * keep nothing of their own.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <weft/io_buf.h>

#include "io_int.h"

static const weft_io_stream_vtable buf_reader_vt;

int weft_buf_reader_init(weft_buf_reader *r, weft_io_stream *inner, size_t capacity)
{
    if (!r || !inner)
        return WEFT_EINVAL;
    memset(r, 0, sizeof *r);
    r->stream.vt = &buf_reader_vt;
    r->inner = inner;
    r->initial_cap = r->cap = capacity ? capacity : WEFT_BUF_DEFAULT_CAPACITY;
    return 0;
}

void weft_buf_reader_free(weft_buf_reader *r)
{
    if (!r)
        return;
    free(r->buf);
    r->buf = NULL;
    r->pos = r->filled = r->scanned = 0;
}

void weft_buf_reader_consume(weft_buf_reader *r, size_t n)
{
    size_t avail = r->filled - r->pos;
    if (n > avail)
        n = avail;
    r->pos += n;
    r->scanned = r->scanned > n ? r->scanned - n : 0;
    if (r->pos == r->filled)
        r->pos = r->filled = 0;
}

static int fail(weft_buf_reader *r, int err)
{
    r->err = err;
    return err;
}

/* Make room after the buffered bytes: move them to the front, or grow within `limit`. */
static int make_room(weft_buf_reader *r, size_t limit)
{
    if (!r->buf) {
        r->buf = malloc(r->cap);
        if (!r->buf)
            return WEFT_ENOMEM; /* not sticky: nothing was lost, a later call may succeed */
    }
    if (r->filled < r->cap)
        return 0;
    if (r->pos > 0) {
        memmove(r->buf, r->buf + r->pos, r->filled - r->pos);
        r->filled -= r->pos;
        r->pos = 0;
        return 0;
    }
    if (r->cap >= limit)
        return fail(r, WEFT_ETOOBIG);
    size_t grown = r->cap > limit / 2 ? limit : r->cap * 2;
    unsigned char *nb = realloc(r->buf, grown);
    if (!nb)
        return WEFT_ENOMEM;
    r->buf = nb;
    r->cap = grown;
    return 0;
}

weft_poll weft_buf_reader_poll_fill_more(weft_buf_reader *r, weft_context *cx, size_t limit,
                                         int *err)
{
    *err = r->err;
    if (r->err || r->eof)
        return WEFT_READY;
    int e = make_room(r, limit);
    if (e < 0) {
        *err = e;
        return WEFT_READY;
    }
    size_t n;
    if (weft_io_poll_read(r->inner, cx, r->buf + r->filled, r->cap - r->filled, &n, &e) ==
        WEFT_PENDING)
        return WEFT_PENDING;
    if (e < 0)
        *err = fail(r, e);
    else if (n == 0)
        r->eof = true;
    else
        r->filled += n;
    return WEFT_READY;
}

weft_poll weft_buf_reader_poll_fill(weft_buf_reader *r, weft_context *cx,
                                    const unsigned char **data, size_t *len, int *err)
{
    *data = NULL;
    *len = 0;
    if (r->pos == r->filled) {
        if (weft_buf_reader_poll_fill_more(r, cx, r->cap, err) == WEFT_PENDING)
            return WEFT_PENDING;
        if (*err < 0)
            return WEFT_READY;
    }
    *err = r->err;
    if (r->err)
        return WEFT_READY;
    *data = r->buf ? r->buf + r->pos : NULL;
    *len = r->filled - r->pos;
    return WEFT_READY;
}

/* ---------------------------------------------------------------- lines */

weft_poll weft_buf_reader_poll_line(weft_buf_reader *r, weft_context *cx, size_t max_len,
                                    bool strip, const char **line, size_t *len, int *err)
{
    /* A line's content plus "\r\n" must fit: that bounds both the scan and the buffer. */
    size_t limit = max_len > SIZE_MAX - 2 ? SIZE_MAX : max_len + 2;
    *line = NULL;
    *len = 0;
    for (;;) {
        *err = r->err;
        if (r->err)
            return WEFT_READY;
        size_t avail = r->filled - r->pos;
        if (avail > r->scanned) {
            unsigned char *start = r->buf + r->pos;
            unsigned char *nl = memchr(start + r->scanned, '\n', avail - r->scanned);
            if (nl) {
                size_t total = (size_t)(nl - start) + 1;
                size_t content = total - 1;
                if (content > 0 && start[content - 1] == '\r')
                    content--;
                if (content > max_len) {
                    *err = fail(r, WEFT_ETOOBIG);
                    return WEFT_READY;
                }
                *line = (const char *)start;
                *len = strip ? content : total;
                weft_buf_reader_consume(r, total);
                return WEFT_READY;
            }
            r->scanned = avail;
        }
        if (avail >= limit) {
            *err = fail(r, WEFT_ETOOBIG);
            return WEFT_READY;
        }
        if (r->eof) {
            if (avail == 0) {
                *err = strip ? WEFT_ECLOSED : 0;
                return WEFT_READY;
            }
            /* The last line of the stream, without a terminator. */
            if (avail > max_len) {
                *err = fail(r, WEFT_ETOOBIG);
                return WEFT_READY;
            }
            *line = (const char *)(r->buf + r->pos);
            *len = avail;
            weft_buf_reader_consume(r, avail);
            return WEFT_READY;
        }
        if (weft_buf_reader_poll_fill_more(r, cx, limit, err) == WEFT_PENDING)
            return WEFT_PENDING;
    }
}

static weft_poll read_line_poll(weft_future *f, weft_context *cx)
{
    weft_buf_read_line *l = (weft_buf_read_line *)f;
    weft_location outer = weft__io_enter(l->where);
    weft_poll p = weft_buf_reader_poll_line(l->reader, cx, l->max_len, l->strip, &l->line,
                                            &l->len, &l->status);
    weft__io_leave(outer);
    return p;
}

static const weft_future_vtable read_line_vt = {read_line_poll, NULL, "buf_read_line"};

void weft__buf_read_line_init(weft_buf_read_line *f, weft_buf_reader *r, size_t max_len,
                              bool strip, weft_location where)
{
    f->base.vt = &read_line_vt;
    f->reader = r;
    f->max_len = max_len;
    f->strip = strip;
    f->where = where;
    f->line = NULL;
    f->len = 0;
    f->status = 0;
}

/* ---------------------------------------------------------------- the stream face */

static weft_poll reader_poll_read(weft_io_stream *s, weft_context *cx, void *buf, size_t cap,
                                  size_t *n, int *err)
{
    weft_buf_reader *r = (weft_buf_reader *)s;
    *n = 0;
    *err = r->err;
    if (r->err || cap == 0)
        return WEFT_READY;
    /* A read at least as big as the buffer, with nothing buffered, skips the copy. */
    if (r->pos == r->filled && cap >= r->initial_cap && !r->eof) {
        weft_poll p = weft_io_poll_read(r->inner, cx, buf, cap, n, err);
        if (p == WEFT_READY && *err < 0)
            r->err = *err;
        return p;
    }
    const unsigned char *data;
    size_t avail;
    if (weft_buf_reader_poll_fill(r, cx, &data, &avail, err) == WEFT_PENDING)
        return WEFT_PENDING;
    if (*err < 0 || avail == 0)
        return WEFT_READY;
    *n = avail < cap ? avail : cap;
    memcpy(buf, data, *n);
    weft_buf_reader_consume(r, *n);
    return WEFT_READY;
}

static weft_poll reader_poll_write(weft_io_stream *s, weft_context *cx, const void *buf,
                                   size_t len, size_t *n, int *err)
{
    return weft_io_poll_write(((weft_buf_reader *)s)->inner, cx, buf, len, n, err);
}

static weft_poll reader_poll_flush(weft_io_stream *s, weft_context *cx, int *err)
{
    return weft_io_poll_flush(((weft_buf_reader *)s)->inner, cx, err);
}

static weft_poll reader_poll_shutdown(weft_io_stream *s, weft_context *cx, int *err)
{
    return weft_io_poll_shutdown(((weft_buf_reader *)s)->inner, cx, err);
}

static void reader_close(weft_io_stream *s)
{
    weft_buf_reader_free((weft_buf_reader *)s);
}

static const weft_io_stream_vtable buf_reader_vt = {
    .poll_read = reader_poll_read,
    .poll_write = reader_poll_write,
    .poll_flush = reader_poll_flush,
    .poll_shutdown = reader_poll_shutdown,
    .close = reader_close,
    .name = "buf_reader",
};
