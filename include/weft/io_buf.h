/* weft/io_buf.h - buffered reader and writer over a weft_io_stream (Tokio's BufReader,
 * BufWriter, AsyncBufReadExt::read_line and lines).
 *
 * Both are connection objects the caller embeds (no allocation until first use) and both are
 * themselves streams: a weft_buf_reader's stream reads through its buffer and writes straight
 * to the inner stream, a weft_buf_writer's stream buffers writes and reads straight from the
 * inner stream, so they stack (weft_buf_reader over weft_buf_writer over a TCP stream) and
 * every leaf future of weft/io.h works on them. The inner stream is *borrowed*: closing it is
 * the caller's job, after weft_buf_reader_free / weft_buf_writer_free.
 *
 * MEMORY. A reader allocates `capacity` bytes at its first read. A line longer than the
 * buffer makes the buffer grow (doubling), but never past max_len + 2 bytes: a peer that sends
 * an endless line gets WEFT_ETOOBIG once max_len + 2 bytes arrived without a newline, and
 * costs no more memory than that. A writer allocates `capacity` bytes at its first write.
 *
 * LINES. read_line gives the next line *including* its "\n" (the last line of a stream may
 * have none); next_line (Tokio's Lines::next_line) gives it without the "\n" or "\r\n". Both
 * give a view into the reader's buffer, `line` / `len`, valid until the next operation on the
 * reader; copy it to keep it. len == 0 with status 0 from read_line, or status WEFT_ECLOSED
 * from next_line, is the end of the stream. A line whose content (without the terminator) is
 * longer than max_len fails with WEFT_ETOOBIG, and so does every later operation on the
 * reader: the stream is out of step with its protocol, so close the connection.
 *
 * CANCEL SAFETY. read_line and next_line are cancel-safe: a partial line stays in the
 * reader's buffer (not in the future), so a read_line dropped by a select or a timeout loses
 * nothing, and the next one returns the whole line. Reads through the reader's stream are
 * cancel-safe as weft_io_read is. A writer's buffered bytes belong to the writer: a dropped
 * flush leaves them buffered for the next flush; a write through the writer's stream is
 * all-or-nothing per call as on any stream.
 *
 * BUDGET. Bytes served from the buffer cost no cooperative budget (as with Tokio's BufReader);
 * every read of the inner stream does, so a task reading a fast stream still yields.
 *
 * ERRORS. An I/O error of the inner stream is returned once by the operation that met it and
 * is sticky for the reader (every later read returns it): a stream that failed is not read
 * again. End of stream is not an error.
 *
 * EXAMPLE: a line-based command loop, 4 KiB buffer, lines up to 1 KiB.
 *
 *     typedef struct session {
 *         weft_async co;
 *         weft_buf_reader in;            // over the connection, set up by the acceptor:
 *         weft_io_stream *conn;          //   weft_buf_reader_init(&s->in, s->conn, 4096)
 *         weft_buf_next_line next;
 *         weft_io_write_all reply;
 *     } session;
 *
 *     static weft_poll session_poll(weft_future *f, weft_context *cx) {
 *         session *s = (session *)f;
 *         WEFT_ASYNC_BEGIN(&s->co);
 *         for (;;) {
 *             weft_buf_next_line_init(&s->next, &s->in, 1024);
 *             WEFT_AWAIT(&s->co, cx, &s->next);
 *             if (s->next.status == WEFT_ECLOSED)
 *                 break;                          // the client hung up between lines
 *             if (s->next.status < 0)
 *                 break;                          // WEFT_ETOOBIG, an I/O error...: close
 *             // s->next.line / s->next.len: the command, without its "\n"
 *             weft_io_write_all_init(&s->reply, s->conn, "ok\n", 3);
 *             WEFT_AWAIT(&s->co, cx, &s->reply);
 *             if (s->reply.status < 0)
 *                 break;
 *         }
 *         weft_buf_reader_free(&s->in);
 *         weft_io_stream_close(s->conn);
 *         WEFT_ASYNC_END(&s->co);
 *     }
 *
 * THREADS. As for any stream: one task reads a reader at a time, one task writes a writer.
 */
#ifndef WEFT_IO_BUF_H
#define WEFT_IO_BUF_H

#include <stdbool.h>
#include <stddef.h>

#include <weft/io.h>

#define WEFT_BUF_DEFAULT_CAPACITY 8192

/* ---------------------------------------------------------------- the reader
 *
 * Buffer layout (bytes [pos, filled) are read from the inner stream and not yet consumed):
 *
 *     buf: | consumed | unconsumed ......... | free               |
 *          0          pos                    filled               cap
 */
typedef struct weft_buf_reader {
    weft_io_stream stream;  /* must be first: reads through the buffer */
    weft_io_stream *inner;  /* borrowed */
    unsigned char *buf;     /* cap bytes, allocated at the first fill; NULL before */
    size_t cap;             /* current size of buf (starts at the configured capacity) */
    size_t initial_cap;     /* the configured capacity */
    size_t pos;             /* first unconsumed byte */
    size_t filled;          /* end of the bytes read */
    size_t scanned;         /* bytes after pos already searched for "\n" (a line in progress) */
    int err;                /* sticky error, 0 if none */
    bool eof;               /* the inner stream reported end of stream */
} weft_buf_reader;

/* Set up over `inner` (borrowed) with a buffer of `capacity` bytes (0: the default). 0 or
 * WEFT_EINVAL (NULL arguments). Nothing is allocated yet. */
int weft_buf_reader_init(weft_buf_reader *r, weft_io_stream *inner, size_t capacity);

/* Free the buffer (unread buffered bytes are lost). The inner stream is left alone. */
void weft_buf_reader_free(weft_buf_reader *r);

/* The reader as a stream (reads through the buffer, writes go to the inner stream). */
static inline weft_io_stream *weft_buf_reader_stream(weft_buf_reader *r)
{
    return &r->stream;
}

/* Bytes buffered and not yet consumed. */
static inline size_t weft_buf_reader_buffered(const weft_buf_reader *r)
{
    return r->filled - r->pos;
}

/* AsyncBufRead, for code that parses in place (the codecs do):
 *
 * poll_fill: READY with *data / *len viewing the unconsumed bytes, reading from the inner
 * stream first only if none is buffered (len 0 with err 0: end of stream).
 *
 * poll_fill_more: READY once at least one more byte was appended after those buffered (err 0),
 * or the stream ended (err 0, r->eof set), or with an error. It keeps everything unconsumed,
 * growing the buffer if it is full, but never past `limit` bytes buffered: asking for more
 * than that is WEFT_ETOOBIG (and sticky).
 *
 * consume: drop n (<= buffered) bytes from the front. */
weft_poll weft_buf_reader_poll_fill(weft_buf_reader *r, weft_context *cx,
                                    const unsigned char **data, size_t *len, int *err);
weft_poll weft_buf_reader_poll_fill_more(weft_buf_reader *r, weft_context *cx, size_t limit,
                                         int *err);
void weft_buf_reader_consume(weft_buf_reader *r, size_t n);

/* read_line: status 0 with line/len (len 0: end of stream), or an error (see LINES). */
typedef struct weft_buf_read_line {
    weft_future base;
    weft_buf_reader *reader; /* [owner] borrowed */
    size_t max_len;          /* [owner] longest line content accepted */
    bool strip;              /* [owner] next_line: drop "\n" / "\r\n" */
    weft_location where;     /* [owner] the init call, for the console */
    const char *line;        /* result: view into the reader's buffer */
    size_t len;              /* result */
    int status;              /* result */
} weft_buf_read_line;

/* next_line: the same future, with the terminator stripped and end of stream reported as
 * status WEFT_ECLOSED (so that an empty line, len 0, is not mistaken for it). */
typedef weft_buf_read_line weft_buf_next_line;

#define weft_buf_read_line_init(f, r, max_len) \
    weft__buf_read_line_init((f), (r), (max_len), false, WEFT_HERE)
#define weft_buf_next_line_init(f, r, max_len) \
    weft__buf_read_line_init((f), (r), (max_len), true, WEFT_HERE)
void weft__buf_read_line_init(weft_buf_read_line *f, weft_buf_reader *r, size_t max_len,
                              bool strip, weft_location where);

/* The poll behind both, for code that reads lines from inside its own poll function. */
weft_poll weft_buf_reader_poll_line(weft_buf_reader *r, weft_context *cx, size_t max_len,
                                    bool strip, const char **line, size_t *len, int *err);

/* ---------------------------------------------------------------- the writer
 *
 *     buf: | handed to inner | waiting ............ | free           |
 *          0                 sent                   len              cap
 */
typedef struct weft_buf_writer {
    weft_io_stream stream;  /* must be first: writes go through the buffer */
    weft_io_stream *inner;  /* borrowed */
    unsigned char *buf;     /* cap bytes, allocated at the first buffered write */
    size_t cap;
    size_t sent;            /* bytes at the front already accepted by the inner stream */
    size_t len;             /* end of the buffered bytes */
    int err;                /* sticky error of the inner stream, 0 if none */
} weft_buf_writer;

int weft_buf_writer_init(weft_buf_writer *w, weft_io_stream *inner, size_t capacity);

/* Free the buffer; bytes not flushed are LOST (flush first). The inner stream is left. */
void weft_buf_writer_free(weft_buf_writer *w);

static inline weft_io_stream *weft_buf_writer_stream(weft_buf_writer *w)
{
    return &w->stream;
}

/* Bytes buffered and not yet handed to the inner stream. */
static inline size_t weft_buf_writer_buffered(const weft_buf_writer *w)
{
    return w->len - w->sent;
}

/* For framing writers: READY with err 0 once `need` bytes can be appended to the buffer in
 * one piece (writing buffered bytes out first if needed; growing the buffer when need is
 * larger than it), so that a frame is either wholly buffered or not at all. Then append them
 * with weft_buf_writer_put, before any other operation on the writer. */
weft_poll weft_buf_writer_poll_reserve(weft_buf_writer *w, weft_context *cx, size_t need,
                                       int *err);
void weft_buf_writer_put(weft_buf_writer *w, const void *data, size_t len);

#endif
