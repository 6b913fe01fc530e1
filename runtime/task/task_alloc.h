/* runtime/task/task_alloc.h - where task blocks come from and go back to (task_alloc.c).
 *
 * A task is one block (header + future). Spawn-heavy programs allocate and free them by the
 * hundred thousand; going to malloc for each lets glibc trim the top of the heap whenever a
 * burst of tasks ends and grow it again (page faults, mprotect) when the next burst begins.
 * So freed blocks are kept for reuse, in two tiers:
 *
 *   thread cache  one per thread that runs a runtime's tasks (each worker, each block_on
 *                 caller), touched by that thread only, no lock. Per size class, a list of
 *                 free blocks of at most WEFT__TASK_CACHE_BYTES bytes' worth.
 *   pool          one per runtime, under a mutex: where a thread cache spills half its list
 *                 when the list is full, and refills from when it is empty. It keeps at most
 *                 WEFT__TASK_POOL_CAP bytes; blocks beyond that go back to free().
 *
 * A block is a plain malloc'd block whose size is rounded up to its size class, so any block
 * of a class can serve any task of that class, whichever runtime or thread it came from: a
 * task freed on another thread than the one that allocated it simply joins the freeing
 * thread's cache. Blocks bigger than the largest class, and blocks allocated or freed on a
 * thread without a cache (a plain pthread, a blocking-pool thread, shutdown's caller), use
 * malloc and free directly.
 *
 * Everything cached is freed by the end of weft_runtime_shutdown: thread caches are flushed
 * into the pool when their thread leaves the runtime (worker exit, end of block_on) and the
 * pool is emptied when the runtime is freed.
 *
 * Under AddressSanitizer the caches are bypassed (weft__task_alloc_bypass), so that a task
 * used after it was freed is reported instead of silently reading a recycled block.
 */
#ifndef WEFT_TASK_ALLOC_H
#define WEFT_TASK_ALLOC_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

/* Size classes: 32-byte steps up to 512 bytes, then four per doubling up to 4096. */
#define WEFT__TASK_CLASSES 28
#define WEFT__TASK_CLASS_MAX 4096

/* At most this many bytes of free blocks per size class in one thread cache (and never fewer
 * than WEFT__TASK_CACHE_MIN blocks). Worst case per thread: 28 classes x 32 KiB. */
#ifndef WEFT__TASK_CACHE_BYTES
#define WEFT__TASK_CACHE_BYTES (32u * 1024u)
#endif
#define WEFT__TASK_CACHE_MIN 8u

/* At most this many bytes of free blocks in one runtime's pool; the rest goes back to free().
 * Sized for bursts of ~200 000 small tasks, the scale of the spawn benchmarks. */
#ifndef WEFT__TASK_POOL_CAP
#define WEFT__TASK_POOL_CAP (32u * 1024u * 1024u)
#endif

/* A free block: the first word links it into a list. */
typedef struct weft__task_block {
    struct weft__task_block *next;
} weft__task_block;

typedef struct weft__task_list {
    weft__task_block *head;
    unsigned len;
} weft__task_list;

/* One runtime's pool. */
typedef struct weft__task_pool {
    pthread_mutex_t lock;
    weft__task_list list[WEFT__TASK_CLASSES]; /* guarded by lock */
    size_t bytes;                             /* guarded by lock: bytes held in list[] */
} weft__task_pool;

/* One thread's cache: owned by the thread that entered it; flushed into `pool` on leave. */
typedef struct weft__task_cache {
    weft__task_pool *pool;
    weft__task_list list[WEFT__TASK_CLASSES];
} weft__task_cache;

/* True under AddressSanitizer, false otherwise. Tests may change it, before any task exists. */
extern bool weft__task_alloc_bypass;

void weft__task_pool_init(weft__task_pool *p);
/* Free every block in the pool (runtime teardown; no cache may still use it). */
void weft__task_pool_destroy(weft__task_pool *p);
/* Bytes currently held by the pool (a snapshot, for tests). */
size_t weft__task_pool_bytes(weft__task_pool *p);

/* Make `c` the calling thread's cache (weft__tls.task_cache) until weft__task_cache_leave,
 * which flushes it into the pool and restores the previous cache. */
void weft__task_cache_enter(weft__task_cache *c, weft__task_pool *p, weft__task_cache **saved);
void weft__task_cache_leave(weft__task_cache *c, weft__task_cache *saved);

/* A block of at least `size` bytes for a task, or NULL. */
void *weft__task_alloc(size_t size);
/* Give back a block from weft__task_alloc(size), from any thread. */
void weft__task_free(void *block, size_t size);

#endif
