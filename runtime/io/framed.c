/* runtime/io/framed.c - the framed reader and writer over a codec (weft/codec.h).
 *
 * The reader is a weft_buf_reader plus the codec's progress marker: every byte of a frame
 * that has not fully arrived sits unconsumed in the buffer, and frame_next keeps nothing, so
 * dropping it at any point loses nothing. The frame handed out is a view into the buffer; it
 * is consumed at the start of the next call (pending_consume), which keeps the view valid
 * until then without copying.
 *
 * The writer is a weft_buf_writer into which each frame is encoded in one step, after room
 * for all of it was reserved: the buffer holds only whole frames, so no cancellation can put
 * half a frame on the wire.
 */
#include <string.h>

#include <weft/codec.h>

#include "io_int.h"

/* ---------------------------------------------------------------- reader */

int weft_framed_read_init(weft_framed_read *r, weft_io_stream *stream, weft_codec codec,
                          size_t buffer_capacity)
{
    if (!r || !stream || !codec.vt)
        return WEFT_EINVAL;
    memset(r, 0, sizeof *r);
    r->codec = codec;
    /* A buffer larger than the biggest frame would never be filled by one: cap it there. */
    size_t cap = buffer_capacity ? buffer_capacity : WEFT_BUF_DEFAULT_CAPACITY;
    size_t most = codec.vt->max_buffered(&r->codec);
    if (cap > most)
        cap = most;
    return weft_buf_reader_init(&r->rd, stream, cap ? cap : 1);
}

void weft_framed_read_free(weft_framed_read *r)
{
    if (r)
        weft_buf_reader_free(&r->rd);
}

weft_poll weft_framed_read_poll_next(weft_framed_read *r, weft_context *cx,
                                     const unsigned char **frame, size_t *len, int *err)
{
    *frame = NULL;
    *len = 0;
    if (r->pending_consume) {
        weft_buf_reader_consume(&r->rd, r->pending_consume);
        r->pending_consume = 0;
        r->scanned = 0;
    }
    size_t limit = r->codec.vt->max_buffered(&r->codec);
    for (;;) {
        *err = r->err;
        if (r->err)
            return WEFT_READY;
        size_t avail = weft_buf_reader_buffered(&r->rd);
        if (avail == 0 && r->rd.eof) {
            *err = WEFT_ECLOSED; /* not sticky: a clean end stays a clean end */
            return WEFT_READY;
        }
        if (avail > 0 || r->rd.eof) {
            const unsigned char *data = r->rd.buf + r->rd.pos;
            weft_frame_span span;
            int rc = r->codec.vt->decode(&r->codec, data, avail, r->rd.eof, &r->scanned, &span);
            if (rc < 0) {
                r->err = *err = rc;
                return WEFT_READY;
            }
            if (rc == 1) {
                *frame = data + span.off;
                *len = span.len;
                r->pending_consume = span.consumed;
                return WEFT_READY;
            }
            if (r->rd.eof) {
                /* A codec that wants more bytes of a stream that has none left. */
                r->err = *err = WEFT_EUNEXPECTEDEOF;
                return WEFT_READY;
            }
        }
        int e;
        if (weft_buf_reader_poll_fill_more(&r->rd, cx, limit, &e) == WEFT_PENDING)
            return WEFT_PENDING;
        if (e < 0) {
            /* ENOMEM is worth a retry; a stream error or the limit is final. */
            if (e != WEFT_ENOMEM)
                r->err = e;
            *err = e;
            return WEFT_READY;
        }
    }
}

static weft_poll frame_next_poll(weft_future *f, weft_context *cx)
{
    weft_frame_next *n = (weft_frame_next *)f;
    weft_location outer = weft__io_enter(n->where);
    weft_poll p = weft_framed_read_poll_next(n->reader, cx, &n->frame, &n->len, &n->status);
    weft__io_leave(outer);
    return p;
}

static const weft_future_vtable frame_next_vt = {frame_next_poll, NULL, "frame_next"};

void weft__frame_next_init(weft_frame_next *f, weft_framed_read *r, weft_location where)
{
    f->base.vt = &frame_next_vt;
    f->reader = r;
    f->where = where;
    f->frame = NULL;
    f->len = 0;
    f->status = 0;
}

/* ---------------------------------------------------------------- writer */

int weft_framed_write_init(weft_framed_write *w, weft_io_stream *stream, weft_codec codec,
                           size_t buffer_capacity)
{
    if (!w || !stream || !codec.vt)
        return WEFT_EINVAL;
    memset(w, 0, sizeof *w);
    w->codec = codec;
    return weft_buf_writer_init(&w->wr, stream, buffer_capacity);
}

void weft_framed_write_free(weft_framed_write *w)
{
    if (w)
        weft_buf_writer_free(&w->wr);
}

static weft_poll frame_send_step(weft_future *f, weft_context *cx)
{
    weft_frame_send *s = (weft_frame_send *)f;
    weft_framed_write *w = s->writer;
    if (!s->queued) {
        size_t need;
        int rc = w->codec.vt->encoded_len(&w->codec, s->payload, s->len, &need);
        if (rc < 0) {
            s->status = rc;
            return WEFT_READY;
        }
        if (weft_buf_writer_poll_reserve(&w->wr, cx, need, &s->status) == WEFT_PENDING)
            return WEFT_PENDING;
        if (s->status < 0)
            return WEFT_READY;
        /* The one step in which the frame enters the connection: all of it, or none. */
        w->codec.vt->encode(&w->codec, s->payload, s->len, w->wr.buf + w->wr.len);
        w->wr.len += need;
        s->queued = true;
        if (!s->flush) {
            s->status = 0;
            return WEFT_READY;
        }
    }
    return weft_io_poll_flush(weft_framed_write_stream(w), cx, &s->status);
}

static weft_poll frame_send_poll(weft_future *f, weft_context *cx)
{
    weft_location outer = weft__io_enter(((weft_frame_send *)f)->where);
    weft_poll p = frame_send_step(f, cx);
    weft__io_leave(outer);
    return p;
}

static const weft_future_vtable frame_send_vt = {frame_send_poll, NULL, "frame_send"};

void weft__frame_send_init(weft_frame_send *f, weft_framed_write *w, const void *payload,
                           size_t len, bool flush, weft_location where)
{
    f->base.vt = &frame_send_vt;
    f->writer = w;
    f->payload = payload;
    f->len = len;
    f->flush = flush;
    f->where = where;
    f->queued = false;
    f->status = 0;
}
