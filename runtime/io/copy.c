/* runtime/io/copy.c - copy between streams and read_to_end over a stream (weft/io.h).
 *
 * Both futures own a heap buffer (copy: a fixed 8 KiB one; read_to_end: one that doubles as
 * bytes arrive, bounded by the caller's max) and free it in their drop, so abandoning them
 * leaks nothing; what they lose when dropped is what their buffer held, as the header says.
 */
#include <stdlib.h>
#include <string.h>

#include <weft/io.h>

#include "io_int.h"

enum { COPY_BUF = 8192 };

/* ---------------------------------------------------------------- copy */

static weft_poll copy_step(weft_io_copy *c, weft_context *cx)
{
    if (!c->buf) {
        c->buf = malloc(COPY_BUF);
        if (!c->buf) {
            c->status = WEFT_ENOMEM;
            return WEFT_READY;
        }
    }
    for (;;) {
        size_t n;
        int err;
        if (c->flushing) {
            if (weft_io_poll_flush(c->to, cx, &err) == WEFT_PENDING)
                return WEFT_PENDING;
            c->status = err;
            return WEFT_READY;
        }
        if (c->written < c->filled) {
            if (weft_io_poll_write(c->to, cx, c->buf + c->written, c->filled - c->written, &n,
                                   &err) == WEFT_PENDING)
                return WEFT_PENDING;
            if (err == 0 && n == 0)
                err = WEFT_EIO; /* a stream that accepts nothing would make this spin */
            if (err < 0) {
                c->status = err;
                return WEFT_READY;
            }
            c->written += n;
            c->copied += n;
            continue;
        }
        if (weft_io_poll_read(c->from, cx, c->buf, COPY_BUF, &n, &err) == WEFT_PENDING)
            return WEFT_PENDING;
        if (err < 0) {
            c->status = err;
            return WEFT_READY;
        }
        if (n == 0)
            c->flushing = true;
        c->filled = n;
        c->written = 0;
    }
}

static weft_poll copy_poll(weft_future *f, weft_context *cx)
{
    weft_io_copy *c = (weft_io_copy *)f;
    weft_location outer = weft__io_enter(c->where);
    weft_poll p = copy_step(c, cx);
    weft__io_leave(outer);
    if (p == WEFT_READY) {
        free(c->buf);
        c->buf = NULL;
    }
    return p;
}

static void copy_drop(weft_future *f)
{
    weft_io_copy *c = (weft_io_copy *)f;
    free(c->buf);
    c->buf = NULL;
}

static const weft_future_vtable copy_vt = {copy_poll, copy_drop, "io_copy"};

void weft__io_copy_init(weft_io_copy *f, weft_io_stream *from, weft_io_stream *to,
                        weft_location where)
{
    memset(f, 0, sizeof *f);
    f->base.vt = &copy_vt;
    f->from = from;
    f->to = to;
    f->where = where;
}

/* ---------------------------------------------------------------- read_to_end */

static weft_poll read_to_end_step(weft_io_read_to_end *r, weft_context *cx)
{
    for (;;) {
        if (r->len == r->cap) {
            if (r->cap >= r->max) {
                /* Full at the limit: one more byte would be too many. Probe for it. */
                unsigned char probe;
                size_t n;
                int err;
                if (weft_io_poll_read(r->stream, cx, &probe, 1, &n, &err) == WEFT_PENDING)
                    return WEFT_PENDING;
                r->status = err < 0 ? err : n > 0 ? WEFT_ETOOBIG : 0;
                return WEFT_READY;
            }
            size_t grown = r->cap < 4096 ? 4096 : r->cap > SIZE_MAX / 4 ? SIZE_MAX / 2 - 1
                                                                          : r->cap * 2;
            if (grown > r->max)
                grown = r->max;
            unsigned char *nb = realloc(r->data, grown + 1);
            if (!nb) {
                r->status = WEFT_ENOMEM;
                return WEFT_READY;
            }
            r->data = nb;
            r->cap = grown;
        }
        size_t n;
        int err;
        if (weft_io_poll_read(r->stream, cx, r->data + r->len, r->cap - r->len, &n, &err) ==
            WEFT_PENDING)
            return WEFT_PENDING;
        if (err < 0) {
            r->status = err;
            return WEFT_READY;
        }
        if (n == 0) {
            r->status = 0;
            return WEFT_READY;
        }
        r->len += n;
    }
}

static weft_poll read_to_end_poll(weft_future *f, weft_context *cx)
{
    weft_io_read_to_end *r = (weft_io_read_to_end *)f;
    weft_location outer = weft__io_enter(r->where);
    weft_poll p = read_to_end_step(r, cx);
    weft__io_leave(outer);
    if (p == WEFT_PENDING)
        return p;
    if (r->status < 0) {
        free(r->data);
        r->data = NULL;
        r->len = 0;
    } else if (!r->data) {
        r->data = malloc(1); /* an empty stream still gives a string */
        if (!r->data) {
            r->status = WEFT_ENOMEM;
            return WEFT_READY;
        }
        r->data[0] = '\0';
    } else {
        r->data[r->len] = '\0';
    }
    return WEFT_READY;
}

static void read_to_end_drop(weft_future *f)
{
    weft_io_read_to_end *r = (weft_io_read_to_end *)f;
    free(r->data);
    r->data = NULL;
}

static const weft_future_vtable read_to_end_vt = {read_to_end_poll, read_to_end_drop,
                                                  "io_read_to_end"};

void weft__io_read_to_end_init(weft_io_read_to_end *f, weft_io_stream *s, size_t max,
                               weft_location where)
{
    memset(f, 0, sizeof *f);
    f->base.vt = &read_to_end_vt;
    f->stream = s;
    f->max = max > SIZE_MAX / 2 - 1 ? SIZE_MAX / 2 - 1 : max;
    f->where = where;
}
