/* weft/codec.h - framing a byte stream into messages (tokio_util::codec): a lines codec and
 * a length-prefixed codec, a framed reader and a framed writer.
 *
 * Tokio names: LinesCodec::new_with_max_length -> weft_codec_lines,
 * LengthDelimitedCodec (u32 big-endian header, max_frame_length) -> weft_codec_length_u32,
 * FramedRead + StreamExt::next -> weft_framed_read + weft_frame_next_init,
 * FramedWrite + SinkExt::send -> weft_framed_write + weft_frame_send_init.
 *
 * WHERE THE PARTIAL FRAME LIVES. A frame can arrive in any number of reads, split anywhere.
 * The bytes of a frame that has not fully arrived are kept in the *connection object* (the
 * weft_framed_read, in its buffered reader), never in the future that awaits the frame. So
 * frame_next is CANCEL-SAFE: it can lose a select against a timer or a shutdown signal in the
 * middle of a frame, be dropped, and the next frame_next continues from the same byte and
 * returns the whole frame. (Reading a header with read_exact and then the body with another
 * read_exact in one async function is the classic way to get this wrong: see lab 11.)
 *
 * LIMITS. Each codec has a maximum frame size. A length prefix announcing more than it is
 * rejected when the 4 header bytes arrive, before anything is allocated for the body; a line
 * is rejected once max + 2 bytes arrived without a newline. Either way frame_next fails with
 * WEFT_ETOOBIG, the framed reader stays failed (every later frame_next returns the same
 * error: the stream is out of step with the protocol and cannot be resynchronised), and the
 * caller should close the connection. Memory per connection is bounded by the maximum frame
 * size plus the header, and grows to that only as bytes actually arrive.
 *
 * END OF STREAM. frame_next reports WEFT_ECLOSED when the stream ends cleanly between frames,
 * and WEFT_EUNEXPECTEDEOF when it ends in the middle of a frame (a length-prefixed frame cut
 * short). The lines codec returns a last line without a newline as a frame, as Tokio does.
 *
 * WRITING. frame_send checks the frame against the maximum (WEFT_ETOOBIG, nothing sent),
 * waits until the whole encoded frame fits in the writer's buffer, copies it in in one step,
 * then flushes. Dropping it before the copy sends nothing; dropping it after (during the
 * flush) leaves the whole frame buffered, to go out with the next send or flush. A frame is
 * therefore never torn, whatever is cancelled: `queued` says which side of the copy it is on.
 * A lines frame must not contain "\n" (WEFT_EINVAL).
 *
 * EXAMPLE: a request/reply loop over length-prefixed frames of at most 64 KiB.
 *
 *     typedef struct conn {
 *         weft_async co;
 *         weft_io_stream *sock;      // borrowed: a TCP stream, a duplex end...
 *         weft_framed_read in;       // weft_framed_read_init(&c->in, c->sock,
 *         weft_framed_write out;     //     weft_codec_length_u32(65536), 0), same for out
 *         weft_frame_next next;
 *         weft_frame_send send;
 *         weft_timeout deadline;
 *     } conn;
 *
 *     static weft_poll conn_poll(weft_future *f, weft_context *cx) {
 *         conn *c = (conn *)f;
 *         WEFT_ASYNC_BEGIN(&c->co);
 *         for (;;) {
 *             weft_frame_next_init(&c->next, &c->in);
 *             weft_timeout_init(&c->deadline, weft_secs(30), &c->next.base);
 *             WEFT_AWAIT(&c->co, cx, &c->deadline);
 *             if (c->deadline.status == WEFT_EELAPSED)
 *                 continue;               // idle: a partial frame is kept, nothing lost
 *             if (c->next.status == WEFT_ECLOSED)
 *                 break;                  // the client hung up between frames
 *             if (c->next.status < 0)
 *                 break;                  // too big, cut short, I/O error: close
 *             // c->next.frame / c->next.len: the request, valid until the next frame_next
 *             weft_frame_send_init(&c->send, &c->out, c->next.frame, c->next.len);
 *             WEFT_AWAIT(&c->co, cx, &c->send);
 *             if (c->send.status < 0)
 *                 break;
 *         }
 *         weft_framed_read_free(&c->in);
 *         weft_framed_write_free(&c->out);
 *         weft_io_stream_close(c->sock);
 *         WEFT_ASYNC_END(&c->co);
 *     }
 *
 * THREADS. One task reads a framed reader at a time and one task writes a framed writer; the
 * reader and the writer of one connection may be used by two tasks at once if the stream
 * allows that (weft/io.h).
 */
#ifndef WEFT_CODEC_H
#define WEFT_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <weft/io.h>
#include <weft/io_buf.h>

/* ---------------------------------------------------------------- codecs
 *
 * A codec is a value (no allocation): its vtable and its limit. Write your own by filling a
 * vtable with the same contract. */
typedef struct weft_codec weft_codec;

/* A frame found by decode: the payload is buf[off, off + len); `consumed` bytes (header,
 * payload, terminator) leave the buffer once the caller is done with the frame. */
typedef struct weft_frame_span {
    size_t off, len, consumed;
} weft_frame_span;

typedef struct weft_codec_vtable {
    /* Look for one frame at the start of buf[0, avail). Returns 1 (a frame, in *out), 0 (more
     * bytes are needed), or a negative error (WEFT_ETOOBIG). `scanned` is the codec's own
     * progress marker, kept in the framed reader between calls and reset to 0 after each
     * frame: how far it already looked, so that a long frame arriving byte by byte is not
     * rescanned from its start each time. At end of stream (at_eof) decode returns a final
     * frame, 0 when avail == 0, or WEFT_EUNEXPECTEDEOF. */
    int (*decode)(const weft_codec *c, const unsigned char *buf, size_t avail, bool at_eof,
                  size_t *scanned, weft_frame_span *out);
    /* Check a payload and give the bytes its encoding takes: 0, WEFT_ETOOBIG (over the
     * maximum) or WEFT_EINVAL (a payload the codec cannot carry). */
    int (*encoded_len)(const weft_codec *c, const void *payload, size_t len, size_t *out);
    /* Encode a payload that encoded_len accepted into dst (exactly *out bytes). */
    void (*encode)(const weft_codec *c, const void *payload, size_t len, unsigned char *dst);
    /* Most bytes one frame occupies in the read buffer (header + max + terminator). */
    size_t (*max_buffered)(const weft_codec *c);
    const char *name;
} weft_codec_vtable;

struct weft_codec {
    const weft_codec_vtable *vt;
    size_t max_frame; /* largest payload accepted, in bytes */
};

/* Lines ending in "\n" (a "\r" before it is dropped too); frames are the lines' contents, of
 * at most max_len bytes. Encoding appends "\n". */
weft_codec weft_codec_lines(size_t max_len);

/* A 4-byte big-endian length, then that many bytes; max_frame at most UINT32_MAX. */
weft_codec weft_codec_length_u32(size_t max_frame);

/* ---------------------------------------------------------------- the framed reader */
typedef struct weft_framed_read {
    weft_buf_reader rd;  /* the connection's buffer: holds the partial frame */
    weft_codec codec;
    size_t scanned;      /* the codec's progress marker (see decode) */
    size_t pending_consume; /* bytes of the frame last returned, consumed at the next call */
    int err;             /* sticky: the first decode or stream error */
} weft_framed_read;

/* Set up over `stream` (borrowed) with the codec. buffer_capacity 0: the default; the buffer
 * grows to the codec's max_buffered as frames need it. 0 or WEFT_EINVAL. */
int weft_framed_read_init(weft_framed_read *r, weft_io_stream *stream, weft_codec codec,
                          size_t buffer_capacity);
void weft_framed_read_free(weft_framed_read *r);

/* frame_next: status 0 with frame/len (a view into the reader's buffer, valid until the next
 * frame_next or free), WEFT_ECLOSED at a clean end, or an error. Cancel-safe. */
typedef struct weft_frame_next {
    weft_future base;
    weft_framed_read *reader; /* [owner] borrowed */
    weft_location where;      /* [owner] the init call, for the console */
    const unsigned char *frame; /* result */
    size_t len;               /* result */
    int status;               /* result */
} weft_frame_next;

#define weft_frame_next_init(f, r) weft__frame_next_init((f), (r), WEFT_HERE)
void weft__frame_next_init(weft_frame_next *f, weft_framed_read *r, weft_location where);

/* The poll behind it, for code that decodes from inside its own poll function. */
weft_poll weft_framed_read_poll_next(weft_framed_read *r, weft_context *cx,
                                     const unsigned char **frame, size_t *len, int *err);

/* ---------------------------------------------------------------- the framed writer */
typedef struct weft_framed_write {
    weft_buf_writer wr; /* the connection's output buffer: holds whole frames only */
    weft_codec codec;
} weft_framed_write;

int weft_framed_write_init(weft_framed_write *w, weft_io_stream *stream, weft_codec codec,
                           size_t buffer_capacity);
/* Frees the buffer: frames not flushed yet are lost (await a flush first). */
void weft_framed_write_free(weft_framed_write *w);

/* The writer as a stream (for weft_io_flush_init / weft_io_shutdown_init). */
static inline weft_io_stream *weft_framed_write_stream(weft_framed_write *w)
{
    return weft_buf_writer_stream(&w->wr);
}

/* frame_send: encode and flush one frame. status 0, WEFT_ETOOBIG / WEFT_EINVAL (not sent,
 * queued false), or a stream error. The payload is borrowed until the future completes or is
 * dropped. With flush false (Tokio's feed) it completes once the frame is buffered. */
typedef struct weft_frame_send {
    weft_future base;
    weft_framed_write *writer; /* [owner] borrowed */
    const void *payload;       /* [owner] borrowed */
    size_t len;
    bool flush;                /* [owner] flush after queueing */
    weft_location where;
    bool queued;               /* result/progress: the frame is in the writer's buffer */
    int status;                /* result */
} weft_frame_send;

#define weft_frame_send_init(f, w, payload, len) \
    weft__frame_send_init((f), (w), (payload), (len), true, WEFT_HERE)
#define weft_frame_feed_init(f, w, payload, len) \
    weft__frame_send_init((f), (w), (payload), (len), false, WEFT_HERE)
void weft__frame_send_init(weft_frame_send *f, weft_framed_write *w, const void *payload,
                           size_t len, bool flush, weft_location where);

#endif
