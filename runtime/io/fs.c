/* runtime/io/fs.c - file operations on the blocking pool (weft/fs.h).
 *
 * Each weft_fs_op, at its first poll, copies what it needs into a heap *job* and spawns a
 * blocking task that runs the job's system calls on a pool thread. The job, not the op, is
 * what the pool thread touches, so the op can be dropped at any moment:
 *
 *     op (task's future) --owns ref--> job <--owns ref-- blocking task (pool thread)
 *
 * Once spawned the job holds two references, one for each side. The blocking task gives its
 * reference back when the job ran, or in its drop if it was cancelled before running (an
 * abort, or a runtime shutting down with the job still queued). The op gives its reference
 * back when it has taken the results, or in its drop. The last one frees the job together with
 * whatever result nobody took (the buffer of a read, the descriptor of an open), so an
 * abandoned operation leaks nothing.
 *
 * The results are written by the pool thread before its task completes and read by the op
 * after the join handle reported completion; the task's completion transition orders the two.
 * System calls are retried on EINTR and report errors as weft_os_error(errno).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <weft/fs.h>

#include "../blocking/blocking_int.h"
#include "fs_int.h"

void weft__fs_job_release(weft__fs_job *j)
{
    if (atomic_fetch_sub_explicit(&j->refs, 1, memory_order_acq_rel) != 1)
        return;
    if (j->out_fd >= 0)
        close(j->out_fd);
    free(j->path);
    free(j->path2);
    free(j->buf);
    free(j);
}

/* ---------------------------------------------------------------- the system calls */

static int os_err(void)
{
    return weft_os_error(errno);
}

static int open_retry(const char *path, int oflags, mode_t mode)
{
    int fd;
    do
        fd = open(path, oflags | O_CLOEXEC, mode);
    while (fd < 0 && errno == EINTR);
    return fd;
}

/* Write all of buf; 0 or an error, *done bytes written either way. */
static int write_fully(int fd, const unsigned char *buf, size_t len, size_t *done)
{
    *done = 0;
    while (*done < len) {
        ssize_t w = write(fd, buf + *done, len - *done);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return os_err();
        }
        *done += (size_t)w;
    }
    return 0;
}

/* Strict UTF-8: no overlong forms, no surrogates, nothing past U+10FFFF. */
static bool valid_utf8(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        size_t k;
        uint32_t cp;
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xC2 && c <= 0xDF) {
            k = 1;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            k = 2;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            k = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (n - i - 1 < k)
            return false;
        for (size_t j = 1; j <= k; j++) {
            if ((s[i + j] & 0xC0) != 0x80)
                return false;
            cp = cp << 6 | (s[i + j] & 0x3F);
        }
        if ((k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) || cp > 0x10FFFF ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += k + 1;
    }
    return true;
}

static int do_read_all(weft__fs_job *j)
{
    int fd = open_retry(j->path, O_RDONLY, 0);
    if (fd < 0)
        return os_err();
    struct stat st;
    size_t cap = 4096;
    /* The size is a hint (files grow, /proc files say 0): start there, grow as needed. */
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
        (uint64_t)st.st_size < SIZE_MAX - 1)
        cap = (size_t)st.st_size + 1;
    if (j->max < SIZE_MAX && cap > j->max + 1)
        cap = j->max + 1; /* one byte past max is enough to see that the file exceeds it */
    int rc = 0;
    unsigned char *buf = malloc(cap + 1);
    size_t len = 0;
    if (!buf)
        rc = WEFT_ENOMEM;
    while (rc == 0) {
        if (len == cap) {
            if (len > j->max) {
                rc = WEFT_ETOOBIG;
                break;
            }
            size_t grown = cap > SIZE_MAX / 4 ? SIZE_MAX / 2 : cap * 2;
            if (j->max < SIZE_MAX && grown > j->max + 1)
                grown = j->max + 1;
            unsigned char *nb = realloc(buf, grown + 1);
            if (!nb) {
                rc = WEFT_ENOMEM;
                break;
            }
            buf = nb;
            cap = grown;
        }
        ssize_t r = read(fd, buf + len, cap - len);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            rc = os_err();
        } else if (r == 0) {
            break;
        } else {
            len += (size_t)r;
        }
    }
    close(fd);
    if (rc == 0 && len > j->max)
        rc = WEFT_ETOOBIG;
    if (rc == 0 && j->kind == FS_READ_STRING && !valid_utf8(buf, len))
        rc = WEFT_EFORMAT;
    if (rc < 0) {
        free(buf);
        return rc;
    }
    buf[len] = '\0';
    j->buf = buf;
    j->n = len;
    return 0;
}

static int do_copy(weft__fs_job *j)
{
    int in = open_retry(j->path, O_RDONLY, 0);
    if (in < 0)
        return os_err();
    struct stat st;
    int rc = 0;
    if (fstat(in, &st) < 0)
        rc = os_err();
    else if (S_ISDIR(st.st_mode))
        rc = weft_os_error(EISDIR);
    else if (!S_ISREG(st.st_mode))
        rc = weft_os_error(EINVAL); /* a pipe or device has no end to copy to */
    if (rc < 0) {
        close(in);
        return rc;
    }
    int out = open_retry(j->path2, O_WRONLY | O_CREAT | O_TRUNC, st.st_mode & 07777);
    if (out < 0) {
        rc = os_err();
        close(in);
        return rc;
    }
    enum { CHUNK = 64 * 1024 };
    unsigned char *buf = malloc(CHUNK);
    rc = buf ? 0 : WEFT_ENOMEM;
    while (rc == 0) {
        ssize_t r = read(in, buf, CHUNK);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            rc = os_err();
            break;
        }
        if (r == 0)
            break;
        size_t done;
        rc = write_fully(out, buf, (size_t)r, &done);
        j->n += done;
    }
    free(buf);
    close(in);
    if (close(out) < 0 && rc == 0)
        rc = os_err(); /* a delayed write error (NFS, full disk) shows up here */
    return rc;
}

static int run_job(weft__fs_job *j)
{
    struct stat st;
    switch (j->kind) {
    case FS_OPEN: {
        int of = 0;
        bool wr = j->flags & (WEFT_FS_WRITE | WEFT_FS_APPEND);
        of = (j->flags & WEFT_FS_READ) && wr ? O_RDWR : wr ? O_WRONLY : O_RDONLY;
        if (j->flags & WEFT_FS_APPEND)
            of |= O_APPEND;
        if (j->flags & WEFT_FS_CREATE_NEW)
            of |= O_CREAT | O_EXCL;
        else if (j->flags & WEFT_FS_CREATE)
            of |= O_CREAT;
        if (j->flags & WEFT_FS_TRUNCATE)
            of |= O_TRUNC;
        if (!(j->flags & (WEFT_FS_READ | WEFT_FS_WRITE | WEFT_FS_APPEND)))
            return WEFT_EINVAL;
        int fd = open_retry(j->path, of, j->mode);
        if (fd < 0)
            return os_err();
        j->out_fd = fd;
        return 0;
    }
    case FS_READ_ALL:
    case FS_READ_STRING:
        return do_read_all(j);
    case FS_WRITE_PATH: {
        int fd = open_retry(j->path, O_WRONLY | O_CREAT | O_TRUNC, 0666);
        if (fd < 0)
            return os_err();
        int rc = write_fully(fd, j->buf, j->len, &j->n);
        if (close(fd) < 0 && rc == 0)
            rc = os_err();
        return rc;
    }
    case FS_FILE_READ:
        for (;;) {
            ssize_t r = read(j->fd, j->buf, j->len);
            if (r >= 0) {
                j->n = (size_t)r;
                return 0;
            }
            if (errno != EINTR)
                return os_err();
        }
    case FS_FILE_WRITE:
        return write_fully(j->fd, j->buf, j->len, &j->n);
    case FS_COPY:
        return do_copy(j);
    case FS_METADATA:
        if (stat(j->path, &st) < 0)
            return os_err();
        j->meta = (weft_fs_metadata){
            .size = (uint64_t)st.st_size,
            .mode = st.st_mode & 07777,
            .is_file = S_ISREG(st.st_mode),
            .is_dir = S_ISDIR(st.st_mode),
            .is_symlink = S_ISLNK(st.st_mode),
            .mtime_sec = (int64_t)st.st_mtim.tv_sec,
            .mtime_nsec = st.st_mtim.tv_nsec,
        };
        return 0;
    case FS_REMOVE_FILE:
        return unlink(j->path) < 0 ? os_err() : 0;
    case FS_REMOVE_DIR:
        return rmdir(j->path) < 0 ? os_err() : 0;
    default:
        return WEFT_EINVAL;
    }
}

/* ---------------------------------------------------------------- the blocking task */

typedef struct fs_task {
    weft_future base;
    weft__fs_job *job; /* the task's reference */
} fs_task;

static weft_poll fs_task_poll(weft_future *f, weft_context *cx)
{
    (void)cx;
    weft__fs_job *j = ((fs_task *)f)->job;
    j->status = run_job(j);
    weft__fs_job_release(j);
    return WEFT_READY;
}

/* Cancelled before it ran (abort or shutdown): only the reference is left to give back,
 * unless the job is mandatory. A file stream's write-behind was already reported as accepted,
 * so losing it to a shutdown that came before the pool picked it up would lose data silently:
 * it runs here instead, on the thread that shuts the runtime down (Tokio runs its file writes
 * as "mandatory" blocking tasks for the same reason). */
static void fs_task_drop(weft_future *f)
{
    weft__fs_job *j = ((fs_task *)f)->job;
    if (j->mandatory)
        j->status = run_job(j);
    weft__fs_job_release(j);
}

static const weft_future_vtable fs_task_vt = {fs_task_poll, fs_task_drop, "fs"};

static const char *const kind_names[] = {
    [FS_OPEN] = "fs_open",           [FS_READ_ALL] = "fs_read_to_end",
    [FS_READ_STRING] = "fs_read_to_string", [FS_WRITE_PATH] = "fs_write",
    [FS_FILE_READ] = "file_read",    [FS_FILE_WRITE] = "file_write_all",
    [FS_COPY] = "fs_copy",           [FS_METADATA] = "fs_metadata",
    [FS_REMOVE_FILE] = "fs_remove_file", [FS_REMOVE_DIR] = "fs_remove_dir",
};

/* ---------------------------------------------------------------- the op future */

static char *dup_path(const char *p, int *err)
{
    if (!p) {
        *err = WEFT_EINVAL;
        return NULL;
    }
    char *d = strdup(p);
    if (!d)
        *err = WEFT_ENOMEM;
    return d;
}

/* First poll: build the job and spawn its task. 0, or an error for the op's status. */
static int start(weft_fs_op *op)
{
    if (!weft__runtime_or_current(NULL))
        return WEFT_ENORUNTIME;
    weft__fs_job *j = calloc(1, sizeof *j);
    if (!j)
        return WEFT_ENOMEM;
    int err = 0;
    j->kind = op->kind;
    j->fd = op->fd;
    j->flags = op->flags;
    j->mode = op->mode;
    j->len = op->len;
    j->max = op->max;
    j->out_fd = -1;
    atomic_init(&j->refs, 1); /* the op's; spawning adds the task's */
    switch (op->kind) {
    case FS_COPY:
        j->path2 = dup_path(op->path2, &err);
        /* fallthrough */
    case FS_OPEN:
    case FS_READ_ALL:
    case FS_READ_STRING:
    case FS_METADATA:
    case FS_REMOVE_FILE:
    case FS_REMOVE_DIR:
        j->path = dup_path(op->path, &err);
        break;
    case FS_WRITE_PATH:
        j->path = dup_path(op->path, &err);
        /* fallthrough */
    case FS_FILE_WRITE:
    case FS_FILE_READ:
        if (op->len > 0 && ((op->kind != FS_FILE_READ && !op->src) ||
                            (op->kind == FS_FILE_READ && !op->dst)))
            err = WEFT_EINVAL;
        if (err == 0 && op->len > 0) {
            j->buf = malloc(op->len);
            if (!j->buf)
                err = WEFT_ENOMEM;
            else if (op->kind != FS_FILE_READ)
                memcpy(j->buf, op->src, op->len);
        }
        break;
    }
    if (err == 0 && (op->kind == FS_FILE_READ || op->kind == FS_FILE_WRITE) && op->fd < 0)
        err = weft_os_error(EBADF);
    if (err < 0) {
        weft__fs_job_release(j);
        return err;
    }
    err = weft__fs_job_spawn(j, op->where, &op->join);
    if (err < 0) {
        weft__fs_job_release(j);
        return err;
    }
    op->job = j;
    return 0;
}

int weft__fs_job_spawn(weft__fs_job *j, weft_location where, weft_join_handle *out)
{
    weft_runtime *rt = weft__runtime_or_current(NULL);
    if (!rt)
        return WEFT_ENORUNTIME;
    int err = 0;
    atomic_fetch_add_explicit(&j->refs, 1, memory_order_relaxed); /* the task's */
    fs_task t = {.base = {&fs_task_vt}, .job = j};
    weft_task *task = weft__task_spawn(rt, weft__blocking_pool_sched(rt->blocking), &t.base,
                                       sizeof t, kind_names[j->kind], where,
                                       WEFT__TASK_BLOCKING, &err);
    if (!task) {
        /* The task's copy of the future was never made: its reference is dropped here. */
        atomic_fetch_sub_explicit(&j->refs, 1, memory_order_relaxed);
        return err < 0 ? err : WEFT_ENOMEM;
    }
    *out = weft__join_handle_for(task, 0);
    return 0;
}

/* The op takes the job's results. Runs after the join completed without cancellation. */
static void take_results(weft_fs_op *op, weft__fs_job *j)
{
    op->status = j->status;
    op->n = j->n;
    if (j->status < 0)
        return;
    switch (j->kind) {
    case FS_OPEN:
        op->file.fd = j->out_fd;
        j->out_fd = -1;
        break;
    case FS_READ_ALL:
    case FS_READ_STRING:
        op->data = j->buf;
        j->buf = NULL;
        break;
    case FS_FILE_READ:
        if (j->n > 0)
            memcpy(op->dst, j->buf, j->n);
        break;
    case FS_METADATA:
        op->meta = j->meta;
        break;
    default:
        break;
    }
}

static weft_poll fs_op_poll(weft_future *f, weft_context *cx)
{
    weft_fs_op *op = (weft_fs_op *)f;
    if (!op->job) {
        int err = start(op);
        if (err < 0) {
            op->status = err;
            return WEFT_READY;
        }
    }
    if (weft_future_poll(&op->join.base, cx) == WEFT_PENDING)
        return WEFT_PENDING;
    weft__fs_job *j = op->job;
    op->job = NULL;
    if (op->join.status == WEFT_ECANCELLED)
        op->status = WEFT_ECANCELLED; /* the pool never ran it; its drop gave its ref back */
    else
        take_results(op, j);
    weft__fs_job_release(j);
    return WEFT_READY;
}

static void fs_op_drop(weft_future *f)
{
    weft_fs_op *op = (weft_fs_op *)f;
    if (!op->job)
        return;
    weft_join_handle_detach(&op->join);
    weft__fs_job_release(op->job);
    op->job = NULL;
}

static const weft_future_vtable fs_op_vt = {fs_op_poll, fs_op_drop, "fs_op"};

static void op_init(weft_fs_op *op, int kind, weft_location where)
{
    memset(op, 0, sizeof *op);
    op->base.vt = &fs_op_vt;
    op->kind = kind;
    op->fd = -1;
    op->max = SIZE_MAX;
    op->where = where;
    op->file = WEFT_FILE_NONE;
}

void weft__fs_open_init(weft_fs_op *op, const char *path, int flags, uint32_t mode,
                        weft_location where)
{
    op_init(op, FS_OPEN, where);
    op->path = path;
    op->flags = flags;
    op->mode = mode;
}

void weft__fs_read_init(weft_fs_op *op, const char *path, size_t max, bool utf8,
                        weft_location where)
{
    op_init(op, utf8 ? FS_READ_STRING : FS_READ_ALL, where);
    op->path = path;
    op->max = max;
}

void weft__fs_write_init(weft_fs_op *op, const char *path, const void *data, size_t len,
                         weft_location where)
{
    op_init(op, FS_WRITE_PATH, where);
    op->path = path;
    op->src = data;
    op->len = len;
}

void weft__file_read_init(weft_fs_op *op, const weft_file *file, void *buf, size_t cap,
                          weft_location where)
{
    op_init(op, FS_FILE_READ, where);
    op->fd = file ? file->fd : -1;
    op->dst = buf;
    op->len = cap;
}

void weft__file_write_all_init(weft_fs_op *op, const weft_file *file, const void *data,
                               size_t len, weft_location where)
{
    op_init(op, FS_FILE_WRITE, where);
    op->fd = file ? file->fd : -1;
    op->src = data;
    op->len = len;
}

void weft__fs_copy_init(weft_fs_op *op, const char *from, const char *to, weft_location where)
{
    op_init(op, FS_COPY, where);
    op->path = from;
    op->path2 = to;
}

void weft__fs_path_init(weft_fs_op *op, const char *path, int which, weft_location where)
{
    op_init(op, which == 1 ? FS_REMOVE_FILE : which == 2 ? FS_REMOVE_DIR : FS_METADATA, where);
    op->path = path;
}

void weft_file_close(weft_file *f)
{
    if (!f || f->fd < 0)
        return;
    close(f->fd); /* Linux closes the descriptor even when close reports EINTR: no retry */
    f->fd = -1;
}
