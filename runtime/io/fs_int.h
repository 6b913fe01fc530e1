/* runtime/io/fs_int.h - what the file operations (fs.c) share with the file stream
 * (fs_stream.c), and nobody else may use.
 *
 * A *job* is the heap half of a file operation: what the pool thread reads and writes, shared
 * by reference count between the side that awaits it and the blocking task that runs it (see
 * the comment at the top of fs.c).
 */
#ifndef WEFT_FS_INT_H
#define WEFT_FS_INT_H

#include <stdatomic.h>

#include <weft/fs.h>

enum fs_kind {
    FS_OPEN,
    FS_READ_ALL,
    FS_READ_STRING,
    FS_WRITE_PATH,
    FS_FILE_READ,
    FS_FILE_WRITE,
    FS_COPY,
    FS_METADATA,
    FS_REMOVE_FILE,
    FS_REMOVE_DIR,
};

struct weft__fs_job {
    _Atomic int refs;       /* the awaiting side, plus the blocking task once spawned */
    int kind;
    char *path, *path2;     /* owned copies */
    int fd;                 /* the file of a file operation (borrowed from the caller) */
    int flags;
    uint32_t mode;
    unsigned char *buf;     /* owned: data to write, or the bytes read */
    size_t len;             /* bytes in buf to write, or capacity to read */
    size_t max;             /* read_to_end's limit */
    bool mandatory;         /* run even if the task is cancelled before it started (a
                             * write-behind that the caller was told is accepted) */
    /* results, written by the pool thread */
    int status;
    size_t n;
    int out_fd;             /* open's descriptor until the op takes it; -1 otherwise */
    weft_fs_metadata meta;
};

/* Drop one reference; the last frees the job, closing out_fd if it is still >= 0 and freeing
 * paths and buf. */
void weft__fs_job_release(weft__fs_job *j);

/* Spawn the blocking task that runs the job (it takes a reference of its own; the caller keeps
 * its reference). 0 and *out the task's join handle, or WEFT_ENORUNTIME / WEFT_ENOMEM. */
int weft__fs_job_spawn(weft__fs_job *j, weft_location where, weft_join_handle *out);

#endif
