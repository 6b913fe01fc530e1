/* runtime/io/stream.c - the leaf futures over weft_io_stream: read, read_exact, write,
 * write_all, flush, shutdown (weft/io.h).
 *
 * Each future is a thin loop over one vtable entry. None of them holds anything but progress
 * counters, so their drop has nothing to give back: the waker a pending poll left in the
 * stream stays there until the stream replaces or wakes it (a harmless spurious wake). What
 * dropping loses is therefore only what the counters describe, which is what the header's
 * CANCEL SAFETY list says.
 *
 * Location: each poll publishes its init call's location in a thread-local for the duration
 * of the call into the stream (weft_io_current_location), restoring the previous value after,
 * so that nested streams (a framed reader over a buffered reader over a socket) report the
 * outermost operation the user awaited.
 *
 * Budget: the futures do not call weft_coop_proceed themselves; the stream does, in its poll
 * functions, so that code calling the vtable directly (a buffered reader, a codec) is under
 * the same budget as code awaiting these futures.
 */
#include <weft/io.h>

#include "io_int.h"

/* ---------------------------------------------------------------- await location */

static _Thread_local weft_location current_where;

weft_location weft_io_current_location(void)
{
    return current_where;
}

weft_location weft__io_enter(weft_location where)
{
    weft_location outer = current_where;
    if (!outer.file)
        current_where = where;
    return outer;
}

void weft__io_leave(weft_location outer)
{
    current_where = outer;
}

/* ---------------------------------------------------------------- vtable wrappers */

weft_poll weft_io_poll_read(weft_io_stream *s, weft_context *cx, void *buf, size_t cap,
                            size_t *n, int *err)
{
    *n = 0;
    *err = 0;
    if (!s || !s->vt->poll_read) {
        *err = WEFT_EINVAL;
        return WEFT_READY;
    }
    return s->vt->poll_read(s, cx, buf, cap, n, err);
}

weft_poll weft_io_poll_write(weft_io_stream *s, weft_context *cx, const void *buf, size_t len,
                             size_t *n, int *err)
{
    *n = 0;
    *err = 0;
    if (!s || !s->vt->poll_write) {
        *err = WEFT_EINVAL;
        return WEFT_READY;
    }
    return s->vt->poll_write(s, cx, buf, len, n, err);
}

weft_poll weft_io_poll_flush(weft_io_stream *s, weft_context *cx, int *err)
{
    *err = 0;
    if (!s || !s->vt->poll_flush) {
        *err = WEFT_EINVAL;
        return WEFT_READY;
    }
    return s->vt->poll_flush(s, cx, err);
}

weft_poll weft_io_poll_shutdown(weft_io_stream *s, weft_context *cx, int *err)
{
    *err = 0;
    if (!s || !s->vt->poll_shutdown) {
        *err = WEFT_EINVAL;
        return WEFT_READY;
    }
    return s->vt->poll_shutdown(s, cx, err);
}

void weft_io_stream_close(weft_io_stream *s)
{
    if (s && s->vt && s->vt->close)
        s->vt->close(s);
}

/* ---------------------------------------------------------------- read */

static weft_poll read_poll(weft_future *f, weft_context *cx)
{
    weft_io_read *r = (weft_io_read *)f;
    weft_location outer = weft__io_enter(r->where);
    weft_poll p = weft_io_poll_read(r->stream, cx, r->buf, r->cap, &r->n, &r->status);
    weft__io_leave(outer);
    return p;
}

static const weft_future_vtable read_vt = {read_poll, NULL, "io_read"};

void weft__io_read_init(weft_io_read *f, weft_io_stream *s, void *buf, size_t cap,
                        weft_location where)
{
    f->base.vt = &read_vt;
    f->stream = s;
    f->buf = buf;
    f->cap = cap;
    f->where = where;
    f->n = 0;
    f->status = 0;
}

/* ---------------------------------------------------------------- read_exact */

static weft_poll read_exact_step(weft_future *f, weft_context *cx)
{
    weft_io_read_exact *r = (weft_io_read_exact *)f;
    while (r->done < r->len) {
        size_t n;
        int err;
        if (weft_io_poll_read(r->stream, cx, (unsigned char *)r->buf + r->done,
                              r->len - r->done, &n, &err) == WEFT_PENDING)
            return WEFT_PENDING;
        if (err < 0) {
            r->status = err;
            return WEFT_READY;
        }
        if (n == 0) {
            r->status = WEFT_EUNEXPECTEDEOF;
            return WEFT_READY;
        }
        r->done += n;
    }
    r->status = 0;
    return WEFT_READY;
}

static weft_poll read_exact_poll(weft_future *f, weft_context *cx)
{
    weft_location outer = weft__io_enter(((weft_io_read_exact *)f)->where);
    weft_poll p = read_exact_step(f, cx);
    weft__io_leave(outer);
    return p;
}

static const weft_future_vtable read_exact_vt = {read_exact_poll, NULL, "io_read_exact"};

void weft__io_read_exact_init(weft_io_read_exact *f, weft_io_stream *s, void *buf, size_t len,
                              weft_location where)
{
    f->base.vt = &read_exact_vt;
    f->stream = s;
    f->buf = buf;
    f->len = len;
    f->where = where;
    f->done = 0;
    f->status = 0;
}

/* ---------------------------------------------------------------- write */

static weft_poll write_poll(weft_future *f, weft_context *cx)
{
    weft_io_write *w = (weft_io_write *)f;
    weft_location outer = weft__io_enter(w->where);
    weft_poll p = weft_io_poll_write(w->stream, cx, w->buf, w->len, &w->n, &w->status);
    weft__io_leave(outer);
    return p;
}

static const weft_future_vtable write_vt = {write_poll, NULL, "io_write"};

void weft__io_write_init(weft_io_write *f, weft_io_stream *s, const void *buf, size_t len,
                         weft_location where)
{
    f->base.vt = &write_vt;
    f->stream = s;
    f->buf = buf;
    f->len = len;
    f->where = where;
    f->n = 0;
    f->status = 0;
}

/* ---------------------------------------------------------------- write_all */

static weft_poll write_all_step(weft_future *f, weft_context *cx)
{
    weft_io_write_all *w = (weft_io_write_all *)f;
    while (w->done < w->len) {
        size_t n;
        int err;
        if (weft_io_poll_write(w->stream, cx, (const unsigned char *)w->buf + w->done,
                               w->len - w->done, &n, &err) == WEFT_PENDING)
            return WEFT_PENDING;
        if (err < 0) {
            w->status = err;
            return WEFT_READY;
        }
        if (n == 0) {
            /* A stream that accepts nothing without an error would make this loop spin: the
             * contract says a write of len > 0 accepts at least one byte. Report it rather
             * than hang (Tokio's WriteZero). */
            w->status = WEFT_EIO;
            return WEFT_READY;
        }
        w->done += n;
    }
    w->status = 0;
    return WEFT_READY;
}

static weft_poll write_all_poll(weft_future *f, weft_context *cx)
{
    weft_location outer = weft__io_enter(((weft_io_write_all *)f)->where);
    weft_poll p = write_all_step(f, cx);
    weft__io_leave(outer);
    return p;
}

static const weft_future_vtable write_all_vt = {write_all_poll, NULL, "io_write_all"};

void weft__io_write_all_init(weft_io_write_all *f, weft_io_stream *s, const void *buf,
                             size_t len, weft_location where)
{
    f->base.vt = &write_all_vt;
    f->stream = s;
    f->buf = buf;
    f->len = len;
    f->where = where;
    f->done = 0;
    f->status = 0;
}

/* ---------------------------------------------------------------- flush, shutdown */

static weft_poll flush_poll(weft_future *f, weft_context *cx)
{
    weft_io_flush *fl = (weft_io_flush *)f;
    weft_location outer = weft__io_enter(fl->where);
    weft_poll p = weft_io_poll_flush(fl->stream, cx, &fl->status);
    weft__io_leave(outer);
    return p;
}

static const weft_future_vtable flush_vt = {flush_poll, NULL, "io_flush"};

void weft__io_flush_init(weft_io_flush *f, weft_io_stream *s, weft_location where)
{
    f->base.vt = &flush_vt;
    f->stream = s;
    f->where = where;
    f->status = 0;
}

static weft_poll shutdown_poll(weft_future *f, weft_context *cx)
{
    weft_io_shutdown *sh = (weft_io_shutdown *)f;
    weft_location outer = weft__io_enter(sh->where);
    weft_poll p = weft_io_poll_shutdown(sh->stream, cx, &sh->status);
    weft__io_leave(outer);
    return p;
}

static const weft_future_vtable shutdown_vt = {shutdown_poll, NULL, "io_shutdown"};

void weft__io_shutdown_init(weft_io_shutdown *f, weft_io_stream *s, weft_location where)
{
    f->base.vt = &shutdown_vt;
    f->stream = s;
    f->where = where;
    f->status = 0;
}
