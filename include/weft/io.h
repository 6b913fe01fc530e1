/* weft/io.h - byte streams: the stream interface, the leaf futures over it, an in-memory duplex.
 *
 * Tokio names: AsyncRead / AsyncWrite -> weft_io_stream (one vtable with both sides),
 * AsyncReadExt::read -> weft_io_read_init, read_exact -> weft_io_read_exact_init,
 * AsyncWriteExt::write -> weft_io_write_init, write_all -> weft_io_write_all_init,
 * flush -> weft_io_flush_init, shutdown -> weft_io_shutdown_init, io::copy -> weft_io_copy_init,
 * read_to_end -> weft_io_read_to_end_init, io::duplex -> weft_duplex_new.
 * Buffered streams are in weft/io_buf.h, framing in weft/codec.h, files in weft/fs.h.
 *
 * THE STREAM INTERFACE. A stream is a struct whose first member is a `weft_io_stream` header
 * holding its vtable, as a future's first member is its weft_future header. TCP and Unix
 * streams, their read and write halves, the simulated network's connections, open files
 * (weft_file_stream, weft/fs.h) and the duplex below all implement it, so everything written over a weft_io_stream (buffered readers, codecs,
 * a server's connection handler) runs unchanged on a real socket, in memory, or under the
 * deterministic scheduler. Each poll function follows the future contract:
 *
 *   poll_read(s, cx, buf, cap, &n, &err)
 *       READY, err == 0, n > 0: n bytes (1 <= n <= cap) were copied into buf and consumed from
 *                               the stream. A stream may return fewer bytes than are available.
 *       READY, err == 0, n == 0: end of stream (the peer shut down its write side), or cap == 0.
 *       READY, err < 0:         the read failed (n == 0); see ERRORS.
 *       PENDING:                nothing was consumed; cx's waker will be woken when a read may
 *                               make progress.
 *   poll_write(s, cx, buf, len, &n, &err)
 *       READY, err == 0: n bytes (1 <= n <= len, or 0 when len == 0) were accepted. A write
 *                        may accept fewer than len bytes (a partial write): write the rest
 *                        with another call, or use write_all.
 *       READY, err < 0:  the write failed and accepted nothing (n == 0).
 *       PENDING:         nothing was accepted; the waker is woken when there is room.
 *   poll_flush(s, cx, &err)     READY once everything accepted so far has been handed on
 *                               (a socket has nothing to flush; a buffered writer does).
 *   poll_shutdown(s, cx, &err)  flushes, then shuts the write side down: the peer reads end of
 *                               stream after the data already sent. Idempotent. Writing after
 *                               a shutdown fails with WEFT_ECLOSED. (A file has no write side
 *                               to shut: its shutdown is a flush.)
 *
 * A stream keeps one waker per direction: the one from the latest poll_read (or poll_write;
 * flush and shutdown share the write side's) that returned PENDING. So at most one task reads
 * and at most one task writes at a time, as with Tokio's &mut self; a stream that says so (a
 * TCP stream, the duplex) lets one task read while another writes. A waker left behind by a
 * dropped future stays registered until it is replaced, woken or the stream is closed: waking
 * it is harmless (a spurious wake).
 *
 * A stream that cannot do one direction (the read half of a split socket) leaves that vtable
 * entry NULL; the leaf futures then complete with WEFT_EINVAL. Streams that complete at once
 * call weft_coop_proceed() first, as every weft leaf does, so that a task reading a stream
 * that is always ready still yields to its neighbours (see weft/task.h).
 *
 * `close` releases the stream (closes its descriptor, drops its end of a pipe, frees what the
 * stream allocated); the peer then reads end of stream, or its writes fail with WEFT_ECLOSED.
 * It may only be called when no future over the stream is pending. A stream owned by a
 * buffered reader or a codec is *borrowed* by it: the owner closes it.
 *
 * ERRORS. Results are 0 or a negative code (weft/error.h). What the OS reports (ECONNRESET,
 * EPIPE, ENOENT, EACCES...) is given as weft_os_error(errno), which keeps the OS's number
 * recoverable with weft_os_errno() and readable with weft_strerror(); codes of weft's own
 * (WEFT_ECLOSED, WEFT_ETOOBIG, WEFT_EUNEXPECTEDEOF, WEFT_EINVAL) say what weft itself decided.
 * No stream function reports a failure through errno.
 *
 * THE LEAF FUTURES borrow the stream and the caller's buffer until they complete or are
 * dropped; each takes the call site's location for the console. Their cancel safety (what
 * dropping one that returned PENDING does):
 *   - read:       loses nothing: bytes leave the stream only when the read returns READY.
 *   - read_exact: LOSES the bytes already read. They are in buf[0 .. done) and gone from the
 *                 stream, so the next read starts after them. Do not race read_exact in a
 *                 select or under a timeout unless the stream is abandoned when it loses; a
 *                 codec (weft/codec.h) keeps a partial frame in the connection object instead
 *                 and is cancel-safe.
 *   - write:      loses nothing: nothing was written while it was PENDING.
 *   - write_all:  may have written a PREFIX: buf[0 .. done) went out, the rest did not, and
 *                 the peer sees a torn message. A framed writer (weft/codec.h) copies a whole
 *                 frame into the connection's buffer at once and has no such window.
 *   - flush, shutdown: lose nothing; awaiting a new one continues where the old one stopped.
 *
 * EXAMPLE: an echo handler over any stream.
 *
 *     typedef struct echo {
 *         weft_async co;
 *         weft_io_stream *conn;       // borrowed: a TCP stream, a duplex end...
 *         weft_io_read rd;
 *         weft_io_write_all wr;
 *         unsigned char buf[4096];
 *     } echo;
 *
 *     static weft_poll echo_poll(weft_future *f, weft_context *cx) {
 *         echo *e = (echo *)f;
 *         WEFT_ASYNC_BEGIN(&e->co);
 *         for (;;) {
 *             weft_io_read_init(&e->rd, e->conn, e->buf, sizeof e->buf);
 *             WEFT_AWAIT(&e->co, cx, &e->rd);
 *             if (e->rd.status < 0 || e->rd.n == 0)
 *                 break;                           // error, or the peer is done
 *             weft_io_write_all_init(&e->wr, e->conn, e->buf, e->rd.n);
 *             WEFT_AWAIT(&e->co, cx, &e->wr);
 *             if (e->wr.status < 0)
 *                 break;                           // e->wr.done bytes went out
 *         }
 *         WEFT_ASYNC_END(&e->co);
 *     }
 *     static const weft_future_vtable echo_vt = {echo_poll, weft_async_drop, "echo"};
 *
 *     // in a test: both ends in memory, at most 3 bytes per read or write
 *     weft_duplex *client, *server;
 *     weft_duplex_options o = weft_duplex_options_default();
 *     o.max_chunk = 3;
 *     weft_duplex_new(&o, &client, &server);
 *     echo e = {.conn = weft_duplex_stream(server)};
 *     weft_async_init(&e.co, &echo_vt);
 *     weft_join_handle h = weft_runtime_spawn(rt, &e);
 *     ... write to and read from weft_duplex_stream(client) ...
 *     weft_io_stream_close(weft_duplex_stream(client));   // echo reads end of stream
 */
#ifndef WEFT_IO_H
#define WEFT_IO_H

#include <stddef.h>
#include <stdint.h>

#include <weft/error.h>
#include <weft/future.h>

/* ---------------------------------------------------------------- the interface */

typedef struct weft_io_stream weft_io_stream;

typedef struct weft_io_stream_vtable {
    weft_poll (*poll_read)(weft_io_stream *s, weft_context *cx, void *buf, size_t cap,
                           size_t *n, int *err);
    weft_poll (*poll_write)(weft_io_stream *s, weft_context *cx, const void *buf, size_t len,
                            size_t *n, int *err);
    weft_poll (*poll_flush)(weft_io_stream *s, weft_context *cx, int *err);
    weft_poll (*poll_shutdown)(weft_io_stream *s, weft_context *cx, int *err);
    /* Release the stream (see above). May be NULL when the owner frees it by other means. */
    void (*close)(weft_io_stream *s);
    /* A short type name ("tcp_stream", "duplex"), for the console and messages. */
    const char *name;
} weft_io_stream_vtable;

struct weft_io_stream {
    const weft_io_stream_vtable *vt;
};

/* Direct calls through the vtable, for code that implements a stream over another stream (a
 * buffered reader, a codec, TLS). A missing entry gives READY with WEFT_EINVAL. */
weft_poll weft_io_poll_read(weft_io_stream *s, weft_context *cx, void *buf, size_t cap,
                            size_t *n, int *err);
weft_poll weft_io_poll_write(weft_io_stream *s, weft_context *cx, const void *buf, size_t len,
                             size_t *n, int *err);
weft_poll weft_io_poll_flush(weft_io_stream *s, weft_context *cx, int *err);
weft_poll weft_io_poll_shutdown(weft_io_stream *s, weft_context *cx, int *err);

/* Close through the vtable; NULL and a stream without `close` are ignored. */
void weft_io_stream_close(weft_io_stream *s);

/* Where the I/O operation being polled on this thread was awaited: the init call of the leaf
 * future (read, write_all, read_line, frame_next...) whose poll is calling into a stream right
 * now, or a location with file == NULL outside one. A stream that reports its waits to the
 * tools (weft__resource_wait) passes this, so that the console says "waits to read tcp_stream
 * at server.c:42" rather than naming the stream's own source. */
weft_location weft_io_current_location(void);

/* ---------------------------------------------------------------- leaf futures */

/* read: READY with status 0 and n bytes in buf (n == 0: end of stream), or status < 0. */
typedef struct weft_io_read {
    weft_future base;
    weft_io_stream *stream; /* [owner] borrowed */
    void *buf;              /* [owner] borrowed, cap bytes */
    size_t cap;
    weft_location where;    /* [owner] the init call, for the console */
    size_t n;               /* result: bytes read */
    int status;             /* result: 0 or an error */
} weft_io_read;

/* read_exact: READY with status 0 once exactly len bytes are in buf; WEFT_EUNEXPECTEDEOF if
 * the stream ended first (done < len bytes arrived), or another error. Not cancel-safe. */
typedef struct weft_io_read_exact {
    weft_future base;
    weft_io_stream *stream;
    void *buf;
    size_t len;
    weft_location where;
    size_t done;            /* result (and progress): bytes in buf so far */
    int status;
} weft_io_read_exact;

/* write: READY with status 0 and n (1..len) bytes accepted, or status < 0. */
typedef struct weft_io_write {
    weft_future base;
    weft_io_stream *stream;
    const void *buf;
    size_t len;
    weft_location where;
    size_t n;               /* result: bytes accepted */
    int status;
} weft_io_write;

/* write_all: READY with status 0 once all len bytes were accepted (through as many partial
 * writes as the stream makes), or status < 0 with `done` bytes accepted. Not cancel-safe. */
typedef struct weft_io_write_all {
    weft_future base;
    weft_io_stream *stream;
    const void *buf;
    size_t len;
    weft_location where;
    size_t done;            /* result (and progress): bytes accepted so far */
    int status;
} weft_io_write_all;

/* flush and shutdown: READY with status 0 or an error. */
typedef struct weft_io_flush {
    weft_future base;
    weft_io_stream *stream;
    weft_location where;
    int status;
} weft_io_flush;

typedef struct weft_io_shutdown {
    weft_future base;
    weft_io_stream *stream;
    weft_location where;
    int status;
} weft_io_shutdown;

#define weft_io_read_init(f, s, buf, cap) weft__io_read_init((f), (s), (buf), (cap), WEFT_HERE)
#define weft_io_read_exact_init(f, s, buf, len) \
    weft__io_read_exact_init((f), (s), (buf), (len), WEFT_HERE)
#define weft_io_write_init(f, s, buf, len) weft__io_write_init((f), (s), (buf), (len), WEFT_HERE)
#define weft_io_write_all_init(f, s, buf, len) \
    weft__io_write_all_init((f), (s), (buf), (len), WEFT_HERE)
#define weft_io_flush_init(f, s) weft__io_flush_init((f), (s), WEFT_HERE)
#define weft_io_shutdown_init(f, s) weft__io_shutdown_init((f), (s), WEFT_HERE)

void weft__io_read_init(weft_io_read *f, weft_io_stream *s, void *buf, size_t cap,
                        weft_location where);
void weft__io_read_exact_init(weft_io_read_exact *f, weft_io_stream *s, void *buf, size_t len,
                              weft_location where);
void weft__io_write_init(weft_io_write *f, weft_io_stream *s, const void *buf, size_t len,
                         weft_location where);
void weft__io_write_all_init(weft_io_write_all *f, weft_io_stream *s, const void *buf,
                             size_t len, weft_location where);
void weft__io_flush_init(weft_io_flush *f, weft_io_stream *s, weft_location where);
void weft__io_shutdown_init(weft_io_shutdown *f, weft_io_stream *s, weft_location where);

/* ---------------------------------------------------------------- copy and read_to_end
 *
 * copy (tokio::io::copy): read from `from` and write everything to `to` until `from` ends,
 * then flush `to`. READY with status 0 and `copied` bytes, or the first error of either side
 * (`copied` then says how many reached `to`). Its 8 KiB buffer is allocated at the first poll
 * and freed when it completes or is dropped. Not cancel-safe: bytes read from `from` and not
 * yet written to `to` are lost when it is dropped.
 *
 * read_to_end (AsyncReadExt::read_to_end, with a limit): everything until end of stream into a
 * buffer that grows as bytes arrive, never past `max` bytes: a stream longer than that fails
 * with WEFT_ETOOBIG rather than exhausting memory. On status 0, `data` (followed by a NUL byte
 * that `len` does not count) belongs to the CALLER, who frees it with free(); on an error it is
 * NULL. Not cancel-safe: the bytes read so far are freed with the dropped future. */
typedef struct weft_io_copy {
    weft_future base;
    weft_io_stream *from, *to; /* [owner] borrowed */
    weft_location where;
    unsigned char *buf;        /* [owner] 8 KiB, NULL before the first poll and after the end */
    size_t filled, written;    /* [owner] buf[written, filled) waits to be written */
    bool flushing;             /* [owner] `from` ended, everything written: flushing `to` */
    uint64_t copied;           /* result */
    int status;                /* result */
} weft_io_copy;

typedef struct weft_io_read_to_end {
    weft_future base;
    weft_io_stream *stream;    /* [owner] borrowed */
    size_t max;
    weft_location where;
    size_t cap;                /* [owner] size of data's allocation, less the NUL */
    unsigned char *data;       /* result: caller frees; NULL on error */
    size_t len;                /* result */
    int status;                /* result */
} weft_io_read_to_end;

#define weft_io_copy_init(f, from, to) weft__io_copy_init((f), (from), (to), WEFT_HERE)
#define weft_io_read_to_end_init(f, s, max) weft__io_read_to_end_init((f), (s), (max), WEFT_HERE)
void weft__io_copy_init(weft_io_copy *f, weft_io_stream *from, weft_io_stream *to,
                        weft_location where);
void weft__io_read_to_end_init(weft_io_read_to_end *f, weft_io_stream *s, size_t max,
                               weft_location where);

/* ---------------------------------------------------------------- the in-memory duplex
 *
 * Two connected streams in one process (Tokio's io::duplex): bytes written to one end are
 * read from the other, each direction through its own bounded buffer. For tests, and the base
 * of the deterministic scheduler's simulated connections:
 *
 *   - max_chunk bounds every read and every write (so with max_chunk = 1 a 10-byte message
 *     arrives in 10 reads and goes out in 10 partial writes): a test sweeps it from 1 to the
 *     message length to exercise every split point of a protocol.
 *   - capacity bounds the bytes in flight per direction: a writer waits (PENDING) when the
 *     peer has not read, which is back-pressure.
 *   - shutdown makes the peer read end of stream once it has drained; close (or
 *     weft_duplex_free) does the same, and the peer's writes then fail with WEFT_ECLOSED.
 *   - weft_duplex_reset makes both sides' operations fail with the OS's ECONNRESET, as a peer
 *     that reset the connection (buffered bytes are discarded).
 *
 * Each end may be read by one task while another task writes it; the two ends may be used
 * from different threads. The ends are freed separately; the shared pipe goes with the last.
 */
typedef struct weft_duplex weft_duplex;

typedef struct weft_duplex_options {
    size_t capacity;  /* bytes buffered per direction, >= 1 (default 64 KiB) */
    size_t max_chunk; /* most bytes moved by one read or write, >= 1 (default SIZE_MAX) */
} weft_duplex_options;

weft_duplex_options weft_duplex_options_default(void);

/* Create a connected pair. 0, WEFT_EINVAL (NULL outputs, a zero setting) or WEFT_ENOMEM; on
 * failure both outputs are NULL. NULL options means the defaults. */
int weft_duplex_new(const weft_duplex_options *o, weft_duplex **a, weft_duplex **b);

/* The end as a stream (the same object: closing the stream frees the end). */
weft_io_stream *weft_duplex_stream(weft_duplex *end);

/* Change max_chunk of this end's reads and writes (e.g. between cases of a sweep). */
void weft_duplex_set_max_chunk(weft_duplex *end, size_t max_chunk);

/* Bytes written by the peer and not yet read by this end. */
size_t weft_duplex_readable(weft_duplex *end);

/* Reset the connection: every later operation on either end fails with
 * weft_os_error(ECONNRESET), and tasks waiting on either end are woken. */
void weft_duplex_reset(weft_duplex *end);

/* Free one end (as weft_io_stream_close on its stream). Safe on NULL. */
void weft_duplex_free(weft_duplex *end);

#endif
