/* weft/rwlock.h - an async, fair, write-preferring reader-writer lock (Tokio's sync::RwLock).
 *
 * Tokio names: RwLock::new / with_max_readers -> weft_rwlock_init /
 * weft_rwlock_init_with_max_readers, read / write -> weft_rwlock_read_init /
 * weft_rwlock_write_init + WEFT_AWAIT, try_read / try_write, RwLockReadGuard /
 * RwLockWriteGuard -> weft_rwlock_read_guard / weft_rwlock_write_guard (release = drop),
 * RwLockWriteGuard::downgrade -> weft_rwlock_write_guard_downgrade.
 *
 * Any number of readers (up to max_readers) or one writer hold it at a time. Like the mutex it
 * guards data the caller keeps beside it, and waiting suspends the task, not the thread.
 *
 * Fairness and write preference. Requests are served strictly in the order they arrive. Once a
 * writer waits, readers that arrive after it queue behind it even though the lock is held only
 * for reading, and the writer gets the lock as soon as the readers before it are done; so a
 * stream of readers cannot starve a writer. The consequence every user must know (it is the
 * same in Tokio, and lab 08 is built on it): a task that already holds a read guard and asks
 * for a second one while a writer waits deadlocks, because the second read queues behind the
 * writer, which waits for the first read guard. Do not take a read lock re-entrantly.
 *
 * (Inside it is a weft_semaphore with max_readers permits: a reader takes one, a writer takes
 * all of them, and the semaphore's FIFO partial assignment gives the write preference.)
 *
 * Cancel safety. A dropped read() or write() gives up its place in the queue. A waiting writer
 * collects the permits of readers that leave before it is complete; if it is dropped, those
 * permits go on to the requests behind it, so cancelling a writer lets the readers queued
 * behind it in. A read()/write() that returned READY has handed the lock to its guard: only
 * releasing the guard unlocks.
 *
 * Guards are plain data ({rwlock}) and may be moved into another task and released there.
 *
 * Threads: every function may be called from any thread; the futures are polled by one task
 * at a time. The lock must outlive its futures and guards.
 *
 * Instrumentation (resource kind "rwlock"; reported through weft__resource_event):
 *   lock_acquire(r, task, mode)    mode = WEFT_OP_READ or WEFT_OP_WRITE
 *   lock_release(r, task, mode)    task = the releaser (for a write: the holder)
 * (a downgrade reports lock_release of the write and lock_acquire of the read together)
 * and resource_wait / resource_wait_done with operation WEFT_OP_READ or WEFT_OP_WRITE. The
 * writer's task id and the number of read guards are kept in the lock for the wait-for graph.
 * resource_create reports max_readers as the capacity; a snapshot for a late reader re-reports
 * the writer as a lock_acquire (readers are counted, not known by task, so not re-reported).
 */
#ifndef WEFT_RWLOCK_H
#define WEFT_RWLOCK_H

#include <weft/semaphore.h>

/* The default and largest number of simultaneous readers: Tokio's MAX_READS (2^29 - 1). A
 * smaller limit makes further readers wait, as if a writer held part of the lock. */
#define WEFT_RWLOCK_MAX_READERS (((size_t)1 << 29) - 1)

typedef struct weft_rwlock {
    weft_semaphore sem;  /* max_readers permits; its resource (kind "rwlock") is the lock's */
    size_t max_readers;  /* fixed at init: permits a writer takes */
    /* Task holding it for writing: set by the writer after it got every permit, cleared
     * before they are given back; 0 otherwise (or when held outside any task). Read by the
     * tools from any thread. */
    _Atomic weft_task_id writer;
    _Atomic size_t readers; /* read guards held now: +1 on each read acquire, -1 on release */
} weft_rwlock;

/* Initialise unlocked, allowing up to WEFT_RWLOCK_MAX_READERS readers. `name` is borrowed;
 * NULL names it "rwlock". */
#define weft_rwlock_init(rw, name) \
    weft__rwlock_init((rw), WEFT_RWLOCK_MAX_READERS, (name), WEFT_HERE)
/* The same with at most max_readers readers at a time. Returns 0, or WEFT_EINVAL when
 * max_readers is 0 or above WEFT_RWLOCK_MAX_READERS: the lock is then initialised unusable,
 * every read/write/try failing with WEFT_EINVAL, rather than left uninitialised. */
#define weft_rwlock_init_with_max_readers(rw, max_readers, name) \
    weft__rwlock_init((rw), (max_readers), (name), WEFT_HERE)
int weft__rwlock_init(weft_rwlock *rw, size_t max_readers, const char *name,
                      weft_location where);

/* Release the lock's resources (every initialised lock must be destroyed, even one whose init
 * failed: the tools keep a list of live resources). Returns 0, or WEFT_EBUSY (and does
 * nothing) while it is held or futures wait on it. WEFT_EINVAL for NULL. */
int weft_rwlock_destroy(weft_rwlock *rw);

typedef struct weft_rwlock_read_guard {
    weft_rwlock *rw; /* NULL once released */
} weft_rwlock_read_guard;

typedef struct weft_rwlock_write_guard {
    weft_rwlock *rw; /* NULL once released or downgraded */
} weft_rwlock_write_guard;

/* Release a guard; it becomes empty, so releasing twice is harmless. */
void weft_rwlock_read_guard_release(weft_rwlock_read_guard *g);
void weft_rwlock_write_guard_release(weft_rwlock_write_guard *g);

/* Turn a write guard into a read guard without letting a writer in between: the readers
 * queued next get in at once. *w becomes empty. WEFT_EINVAL when *w is empty. */
int weft_rwlock_write_guard_downgrade(weft_rwlock_write_guard *w, weft_rwlock_read_guard *out);

/* Take the lock now or not at all: 0 and *out filled; WEFT_EBUSY when it cannot be had at once
 * (for try_read that includes "a writer is waiting": write preference); WEFT_EINVAL for NULL
 * arguments or a lock whose init failed. */
int weft_rwlock_try_read(weft_rwlock *rw, weft_rwlock_read_guard *out);
int weft_rwlock_try_write(weft_rwlock *rw, weft_rwlock_write_guard *out);

/* Snapshots for the tools and tests. */
size_t weft_rwlock_readers(const weft_rwlock *rw);
weft_task_id weft_rwlock_writer(const weft_rwlock *rw);

/* ---------------------------------------------------------------- read() and write()
 *
 * READY means the lock is held: status == 0 and `guard` holds it. status == WEFT_EINVAL (READY
 * at once) for a NULL lock or one whose init failed. The init macros record the await
 * location. Each future may be copied until its first poll, never after; it may be
 * re-initialised once READY or dropped, never while pending. */
typedef struct weft_rwlock_read {
    weft_future base;
    weft_rwlock *rw;               /* [owner] borrowed */
    weft_semaphore_acquire acq;    /* [owner] the one-permit acquire doing the waiting */
    bool done;                     /* [owner] READY was returned */
    int status;                    /* result: 0 or WEFT_EINVAL */
    weft_rwlock_read_guard guard;  /* result when status == 0 */
} weft_rwlock_read;

typedef struct weft_rwlock_write {
    weft_future base;
    weft_rwlock *rw;               /* [owner] borrowed */
    weft_semaphore_acquire acq;    /* [owner] the max_readers-permit acquire */
    bool done;                     /* [owner] READY was returned */
    int status;                    /* result: 0 or WEFT_EINVAL */
    weft_rwlock_write_guard guard; /* result when status == 0 */
} weft_rwlock_write;

#define weft_rwlock_read_init(f, rw) weft__rwlock_read_init((f), (rw), WEFT_HERE)
#define weft_rwlock_write_init(f, rw) weft__rwlock_write_init((f), (rw), WEFT_HERE)
void weft__rwlock_read_init(weft_rwlock_read *f, weft_rwlock *rw, weft_location where);
void weft__rwlock_write_init(weft_rwlock_write *f, weft_rwlock *rw, weft_location where);

#endif
