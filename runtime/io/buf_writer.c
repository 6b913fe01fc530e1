/* runtime/io/buf_writer.c - the buffered writer and its stream face (weft/io_buf.h).
 *
 * Invariants: 0 <= sent <= len <= cap. Bytes [sent, len) are accepted by the writer and not
 * yet by the inner stream; they leave only through flush_buffer, in order, so a frame put in
 * whole by poll_reserve + put reaches the inner stream contiguous with its neighbours and is
 * never torn by a cancelled future: whatever future is dropped, the bytes stay here.
 */
#include <stdlib.h>
#include <string.h>

#include <weft/io_buf.h>

static const weft_io_stream_vtable buf_writer_vt;

int weft_buf_writer_init(weft_buf_writer *w, weft_io_stream *inner, size_t capacity)
{
    if (!w || !inner)
        return WEFT_EINVAL;
    memset(w, 0, sizeof *w);
    w->stream.vt = &buf_writer_vt;
    w->inner = inner;
    w->cap = capacity ? capacity : WEFT_BUF_DEFAULT_CAPACITY;
    return 0;
}

void weft_buf_writer_free(weft_buf_writer *w)
{
    if (!w)
        return;
    free(w->buf);
    w->buf = NULL;
    w->sent = w->len = 0;
}

/* Hand every buffered byte to the inner stream. READY with *err 0 when the buffer is empty. */
static weft_poll flush_buffer(weft_buf_writer *w, weft_context *cx, int *err)
{
    *err = w->err;
    if (w->err)
        return WEFT_READY;
    while (w->sent < w->len) {
        size_t n;
        int e;
        if (weft_io_poll_write(w->inner, cx, w->buf + w->sent, w->len - w->sent, &n, &e) ==
            WEFT_PENDING)
            return WEFT_PENDING;
        if (e == 0 && n == 0)
            e = WEFT_EIO; /* a stream that accepts nothing would make this loop spin */
        if (e < 0) {
            w->err = *err = e;
            return WEFT_READY;
        }
        w->sent += n;
    }
    w->sent = w->len = 0;
    return WEFT_READY;
}

static int ensure_buf(weft_buf_writer *w)
{
    if (w->buf)
        return 0;
    w->buf = malloc(w->cap);
    return w->buf ? 0 : WEFT_ENOMEM;
}

weft_poll weft_buf_writer_poll_reserve(weft_buf_writer *w, weft_context *cx, size_t need,
                                       int *err)
{
    *err = w->err;
    if (w->err)
        return WEFT_READY;
    if (w->buf && w->cap - w->len >= need)
        return WEFT_READY;
    if (flush_buffer(w, cx, err) == WEFT_PENDING)
        return WEFT_PENDING;
    if (*err < 0)
        return WEFT_READY;
    if (need > w->cap) {
        /* Grow to the frame: the caller bounds `need` (a codec's maximum frame size). */
        unsigned char *nb = realloc(w->buf, need);
        if (!nb) {
            *err = WEFT_ENOMEM;
            return WEFT_READY;
        }
        w->buf = nb;
        w->cap = need;
    }
    *err = ensure_buf(w);
    return WEFT_READY;
}

void weft_buf_writer_put(weft_buf_writer *w, const void *data, size_t len)
{
    /* The caller reserved the room; a put without it is a programming error that must not
     * write out of bounds, so it is refused (and shows up as missing bytes in its tests). */
    if (!w->buf || w->cap - w->len < len)
        return;
    memcpy(w->buf + w->len, data, len);
    w->len += len;
}

/* ---------------------------------------------------------------- the stream face */

static weft_poll writer_poll_write(weft_io_stream *s, weft_context *cx, const void *buf,
                                   size_t len, size_t *n, int *err)
{
    weft_buf_writer *w = (weft_buf_writer *)s;
    *n = 0;
    *err = w->err;
    if (w->err || len == 0)
        return WEFT_READY;
    if (len > w->cap - w->len) {
        if (flush_buffer(w, cx, err) == WEFT_PENDING)
            return WEFT_PENDING;
        if (*err < 0)
            return WEFT_READY;
    }
    /* A write as big as the buffer would only be copied to be written: pass it through. */
    if (len >= w->cap) {
        weft_poll p = weft_io_poll_write(w->inner, cx, buf, len, n, err);
        if (p == WEFT_READY && *err < 0)
            w->err = *err;
        return p;
    }
    if ((*err = ensure_buf(w)) < 0)
        return WEFT_READY;
    memcpy(w->buf + w->len, buf, len);
    w->len += len;
    *n = len;
    return WEFT_READY;
}

static weft_poll writer_poll_flush(weft_io_stream *s, weft_context *cx, int *err)
{
    weft_buf_writer *w = (weft_buf_writer *)s;
    if (flush_buffer(w, cx, err) == WEFT_PENDING)
        return WEFT_PENDING;
    if (*err < 0)
        return WEFT_READY;
    return weft_io_poll_flush(w->inner, cx, err);
}

static weft_poll writer_poll_shutdown(weft_io_stream *s, weft_context *cx, int *err)
{
    weft_buf_writer *w = (weft_buf_writer *)s;
    if (flush_buffer(w, cx, err) == WEFT_PENDING)
        return WEFT_PENDING;
    if (*err < 0)
        return WEFT_READY;
    return weft_io_poll_shutdown(w->inner, cx, err);
}

static weft_poll writer_poll_read(weft_io_stream *s, weft_context *cx, void *buf, size_t cap,
                                  size_t *n, int *err)
{
    return weft_io_poll_read(((weft_buf_writer *)s)->inner, cx, buf, cap, n, err);
}

static void writer_close(weft_io_stream *s)
{
    weft_buf_writer_free((weft_buf_writer *)s);
}

static const weft_io_stream_vtable buf_writer_vt = {
    .poll_read = writer_poll_read,
    .poll_write = writer_poll_write,
    .poll_flush = writer_poll_flush,
    .poll_shutdown = writer_poll_shutdown,
    .close = writer_close,
    .name = "buf_writer",
};
