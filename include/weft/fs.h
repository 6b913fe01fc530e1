/* weft/fs.h - files on the blocking pool (tokio::fs).
 *
 * Tokio names: File::open / File::create / OpenOptions -> weft_fs_open_init with WEFT_FS_*
 * flags, fs::read -> weft_fs_read_to_end_init, fs::read_to_string -> weft_fs_read_to_string_init,
 * fs::write -> weft_fs_write_init, AsyncReadExt::read on a File -> weft_file_read_init,
 * write_all -> weft_file_write_all_init, fs::copy -> weft_fs_copy_init, fs::metadata ->
 * weft_fs_metadata_init, fs::remove_file / remove_dir -> weft_fs_remove_file_init /
 * weft_fs_remove_dir_init.
 *
 * WHY THE BLOCKING POOL. Regular files are always "ready" to epoll, and a read of a cold file
 * blocks the thread for as long as the disk takes; done on a worker, it stalls every task on
 * that worker (lab 01's heartbeat). So each operation here runs its system calls on the
 * runtime's blocking pool (weft_spawn_blocking) and the awaiting task sleeps meanwhile. Under
 * the deterministic scheduler that time is charged to the blocking thread, like any blocking
 * work.
 *
 * ONE FUTURE TYPE. Every operation is a weft_fs_op, set up by its *_init function and then
 * awaited; nothing happens before the first poll. Its results are fields of the op:
 *   status   0, or an error AS A VALUE: what the OS said, as weft_os_error(errno) (test it
 *            with weft_os_errno(status) == ENOENT, print it with weft_strerror), or one of
 *            weft's codes: WEFT_ETOOBIG (read past `max`), WEFT_EFORMAT (read_to_string of
 *            bytes that are not UTF-8), WEFT_ENOMEM, WEFT_ECANCELLED (the runtime shut down
 *            before the pool ran the operation), WEFT_ENORUNTIME.
 *   n        bytes read, written or copied.
 *   data     read_to_end / read_to_string: the contents, always followed by a NUL byte that n
 *            does not count; the CALLER FREES it with free(). NULL on error.
 *   file     open: the file; close it with weft_file_close.
 *   meta     metadata: what stat(2) said.
 * No function reports through errno, and none crashes on a missing file, a directory where a
 * file was expected, or a permission refused: those are values in `status`.
 *
 * BORROWING. Paths, and the buffer of weft_file_read, are borrowed until the op completes or is
 * dropped; paths and the data of a write are copied at the first poll, so the pool thread never
 * touches the caller's memory: a dropped op cannot leave a thread writing into a freed buffer.
 *
 * CANCEL SAFETY. A system call that started runs to its end (it cannot be interrupted); dropping
 * the op abandons its result, exactly as dropping a Tokio fs future does:
 *   - open:      the file, if it was opened, is closed again; if the op dropped before the pool
 *                started it, nothing happened. With WEFT_FS_CREATE the file may exist anyway.
 *   - reads:     the bytes are discarded; a weft_file_read dropped in flight may still move the
 *                file offset.
 *   - write, write_all, copy: may have written all, part or none of the data.
 *   - metadata:  nothing.  remove: the file may or may not be gone.
 *
 * EXAMPLE: copy a config file aside, then read it.
 *
 *     typedef struct load {
 *         weft_async co;
 *         weft_fs_op op;
 *         char *text;                          // ours to free
 *     } load;
 *
 *     static weft_poll load_poll(weft_future *f, weft_context *cx) {
 *         load *l = (load *)f;
 *         WEFT_ASYNC_BEGIN(&l->co);
 *         weft_fs_copy_init(&l->op, "app.conf", "app.conf.bak");
 *         WEFT_AWAIT(&l->co, cx, &l->op);
 *         if (weft_os_errno(l->op.status) == ENOENT)
 *             WEFT_ASYNC_RETURN(&l->co);        // no config: defaults
 *         weft_fs_read_to_string_init(&l->op, "app.conf", 1 << 20);   // at most 1 MiB
 *         WEFT_AWAIT(&l->co, cx, &l->op);
 *         if (l->op.status < 0) {
 *             fprintf(stderr, "app.conf: %s\n", weft_strerror(l->op.status));
 *             WEFT_ASYNC_RETURN(&l->co);
 *         }
 *         l->text = l->op.data;                // NUL-terminated; l->op.n bytes
 *         WEFT_ASYNC_END(&l->co);
 *     }
 *     static const weft_future_vtable load_vt = {load_poll, weft_async_drop, "load"};
 *
 * Each op must run inside a runtime (a task, or block_on).
 */
#ifndef WEFT_FS_H
#define WEFT_FS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <weft/error.h>
#include <weft/future.h>
#include <weft/io.h>
#include <weft/task.h>

/* An open file: a descriptor, owned. fd is -1 once closed. */
typedef struct weft_file {
    int fd;
} weft_file;

#define WEFT_FILE_NONE ((weft_file){-1})

/* Close the file (a plain close(2), on the calling thread). Safe on a closed file. */
void weft_file_close(weft_file *f);

/* Open flags (OpenOptions). READ and/or WRITE; APPEND implies WRITE; CREATE makes the file if
 * missing, CREATE_NEW fails with EEXIST if it exists, TRUNCATE empties it. */
enum {
    WEFT_FS_READ = 1 << 0,
    WEFT_FS_WRITE = 1 << 1,
    WEFT_FS_APPEND = 1 << 2,
    WEFT_FS_CREATE = 1 << 3,
    WEFT_FS_CREATE_NEW = 1 << 4,
    WEFT_FS_TRUNCATE = 1 << 5,
};
/* File::create: write, create, truncate. */
#define WEFT_FS_CREATE_TRUNCATE (WEFT_FS_WRITE | WEFT_FS_CREATE | WEFT_FS_TRUNCATE)

typedef struct weft_fs_metadata {
    uint64_t size;        /* bytes */
    uint32_t mode;        /* permission bits (st_mode & 07777) */
    bool is_file, is_dir, is_symlink;
    int64_t mtime_sec;    /* last modification, seconds since the epoch */
    long mtime_nsec;
} weft_fs_metadata;

typedef struct weft__fs_job weft__fs_job;

typedef struct weft_fs_op {
    weft_future base;
    weft__fs_job *job;       /* [owner] shared with the pool thread; NULL before the first poll */
    weft_join_handle join;   /* [owner] the blocking task running the job */
    int kind;                /* [owner] which operation (fs.c) */
    const char *path;        /* [owner] borrowed until the first poll copies it */
    const char *path2;       /* [owner] copy's destination */
    const void *src;         /* [owner] data to write, copied at the first poll */
    void *dst;               /* [owner] weft_file_read's buffer, borrowed */
    size_t len;              /* [owner] bytes to write, or dst's capacity */
    size_t max;              /* [owner] read_to_end's limit */
    int fd;                  /* [owner] the file of a file operation */
    int flags;               /* [owner] open flags */
    uint32_t mode;           /* [owner] permissions for a created file */
    weft_location where;     /* [owner] the init call */
    int status;              /* result */
    size_t n;                /* result */
    void *data;              /* result: caller frees */
    weft_file file;          /* result of open */
    weft_fs_metadata meta;   /* result of metadata */
} weft_fs_op;

/* Open `path` with WEFT_FS_* flags; a created file gets `mode` (e.g. 0644) minus the umask. */
#define weft_fs_open_init(op, path, flags, mode) \
    weft__fs_open_init((op), (path), (flags), (mode), WEFT_HERE)
/* The whole file into a fresh buffer; more than `max` bytes is WEFT_ETOOBIG (SIZE_MAX: none). */
#define weft_fs_read_to_end_init(op, path, max) \
    weft__fs_read_init((op), (path), (max), false, WEFT_HERE)
/* As read_to_end, and the bytes must be UTF-8 (else WEFT_EFORMAT). */
#define weft_fs_read_to_string_init(op, path, max) \
    weft__fs_read_init((op), (path), (max), true, WEFT_HERE)
/* Create or truncate `path` and write len bytes (fs::write). */
#define weft_fs_write_init(op, path, data, len) \
    weft__fs_write_init((op), (path), (data), (len), WEFT_HERE)
/* Up to cap bytes from the file's offset into buf; n == 0 at end of file. */
#define weft_file_read_init(op, file, buf, cap) \
    weft__file_read_init((op), (file), (buf), (cap), WEFT_HERE)
/* All len bytes at the file's offset (or its end, if opened with APPEND). */
#define weft_file_write_all_init(op, file, data, len) \
    weft__file_write_all_init((op), (file), (data), (len), WEFT_HERE)
/* Copy the contents of `from` into `to` (created or truncated, with from's permissions). */
#define weft_fs_copy_init(op, from, to) weft__fs_copy_init((op), (from), (to), WEFT_HERE)
/* stat(2), following symbolic links. */
#define weft_fs_metadata_init(op, path) weft__fs_path_init((op), (path), 0, WEFT_HERE)
#define weft_fs_remove_file_init(op, path) weft__fs_path_init((op), (path), 1, WEFT_HERE)
#define weft_fs_remove_dir_init(op, path) weft__fs_path_init((op), (path), 2, WEFT_HERE)

void weft__fs_open_init(weft_fs_op *op, const char *path, int flags, uint32_t mode,
                        weft_location where);
void weft__fs_read_init(weft_fs_op *op, const char *path, size_t max, bool utf8,
                        weft_location where);
void weft__fs_write_init(weft_fs_op *op, const char *path, const void *data, size_t len,
                         weft_location where);
void weft__file_read_init(weft_fs_op *op, const weft_file *file, void *buf, size_t cap,
                          weft_location where);
void weft__file_write_all_init(weft_fs_op *op, const weft_file *file, const void *data,
                               size_t len, weft_location where);
void weft__fs_copy_init(weft_fs_op *op, const char *from, const char *to, weft_location where);
void weft__fs_path_init(weft_fs_op *op, const char *path, int which, weft_location where);

/* ---------------------------------------------------------------- a file as a stream
 *
 * weft_file_stream makes an open file a weft_io_stream (Tokio's File as AsyncRead and
 * AsyncWrite), so that buffered readers, codecs, copy and read_to_end work on files as on
 * sockets. Its reads and writes run on the blocking pool, one at a time, and belong to the
 * stream rather than to the future that started them:
 *   - a read asks the pool for up to WEFT_FILE_STREAM_CHUNK bytes (at least what was asked);
 *     bytes beyond what the caller took are kept for the next read. A read dropped while the
 *     pool reads LOSES NOTHING: the next read takes over the operation in flight.
 *   - a write copies up to WEFT_FILE_STREAM_CHUNK of the caller's bytes, hands them to the
 *     pool and is READY at once with that count (write-behind). The outcome of that write is
 *     reported by the next operation: an error comes back from the next write, flush or read.
 *     Await a flush before closing to know that everything reached the file. Accepted
 *     bytes are written even if the runtime shuts down before the pool got to them.
 *   - reading after writing waits for the write; writing after reading moves the file offset
 *     back over the bytes read ahead and not taken, so the write lands where the reader
 *     stopped (as a plain file descriptor would).
 *   - close does not wait: an operation still in flight finishes on the pool, and the
 *     descriptor is closed after it.
 * One task reads or writes the stream at a time. */
#define WEFT_FILE_STREAM_CHUNK (64 * 1024)

typedef struct weft_file_stream {
    weft_io_stream stream;   /* must be first */
    int fd;                  /* owned; -1 once closed */
    weft__fs_job *job;       /* the read or write in flight on the pool, or NULL */
    weft_join_handle join;   /* its blocking task */
    unsigned char *ahead;    /* bytes read and not yet taken: ahead[pos, len) */
    size_t pos, len;
    bool eof;                /* the last read reached the end of the file */
    int err;                 /* outcome of a write-behind, reported once */
} weft_file_stream;

/* Take over file's descriptor (file->fd becomes -1). */
void weft_file_stream_init(weft_file_stream *s, weft_file *file);

static inline weft_io_stream *weft_file_stream_io(weft_file_stream *s)
{
    return &s->stream;
}

/* Close (see above). Safe on a closed stream. Same as weft_io_stream_close on its stream. */
void weft_file_stream_close(weft_file_stream *s);

#endif
