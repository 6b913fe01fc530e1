/* runtime/task/task_alloc.c - size classes, thread caches and the per-runtime pool of task
 * blocks (see task_alloc.h for the design and its bounds).
 *
 * Who calls it: task.c allocates a block at spawn and frees it when the last reference goes,
 * on whichever thread that happens; runtime.c initialises and destroys the pool; each
 * scheduler enters a cache on every thread it runs tasks on and leaves it before the thread
 * stops being the runtime's.
 *
 * Why it is correct across threads: a thread cache is touched only by its own thread (it is
 * reached through weft__tls), and blocks move between threads only through the pool's mutex,
 * which orders the previous owner's writes before the next owner's reads. A freed block is no
 * longer referenced by anyone (the task's reference count reached zero with acq_rel ordering),
 * so the freeing thread may write its link word.
 *
 * Why it pays: a burst of N spawns followed by N frees reuses the same N blocks every time,
 * instead of letting glibc trim the freed top of the heap and fault it back in for the next
 * burst. Measured on the spawn benchmarks: bench/README.md.
 */
#include <stdlib.h>

#include "../rt_int.h"

#if defined(__SANITIZE_ADDRESS__)
#define WEFT__ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define WEFT__ASAN 1
#endif
#endif

#ifdef WEFT__ASAN
bool weft__task_alloc_bypass = true;
#else
bool weft__task_alloc_bypass = false;
#endif

/* ---------------------------------------------------------------- size classes
 *
 *   class  0..15   32, 64, ..., 512           (32-byte steps)
 *   class 16..27   640, 768, 896, 1024, 1280, ..., 3584, 4096   (four steps per doubling)
 *
 * At most 1/4 of a block above 512 bytes is rounding; below, at most 31 bytes. */
static unsigned class_of(size_t size)
{
    if (size <= 512)
        return size == 0 ? 0 : (unsigned)((size - 1) / 32);
    unsigned k = 0; /* 512 < size <= 1024 -> 0, ..., 2048 < size <= 4096 -> 2 */
    size_t top = 1024;
    while (size > top) {
        top *= 2;
        k++;
    }
    size_t step = top / 8; /* four steps between top/2 and top */
    size_t i = (size - top / 2 - 1) / step;
    return 16 + k * 4 + (unsigned)i;
}

static size_t class_size(unsigned c)
{
    if (c < 16)
        return (size_t)(c + 1) * 32;
    unsigned k = (c - 16) / 4, i = (c - 16) % 4;
    size_t top = (size_t)1024 << k;
    return top / 2 + (i + 1) * (top / 8);
}

/* Blocks a thread cache keeps per class before it spills half into the pool. */
static unsigned cache_cap(unsigned c)
{
    size_t n = WEFT__TASK_CACHE_BYTES / class_size(c);
    return n < WEFT__TASK_CACHE_MIN ? WEFT__TASK_CACHE_MIN : (unsigned)n;
}

/* ---------------------------------------------------------------- lists */

static void list_push(weft__task_list *l, weft__task_block *b)
{
    b->next = l->head;
    l->head = b;
    l->len++;
}

static weft__task_block *list_pop(weft__task_list *l)
{
    weft__task_block *b = l->head;
    if (b) {
        l->head = b->next;
        l->len--;
    }
    return b;
}

/* Detach the first n (<= len, >= 1) blocks of l as a chain; *last receives its tail. */
static weft__task_block *list_cut(weft__task_list *l, unsigned n, weft__task_block **last)
{
    weft__task_block *first = l->head, *b = first;
    for (unsigned i = 1; i < n; i++)
        b = b->next;
    l->head = b->next;
    l->len -= n;
    b->next = NULL;
    *last = b;
    return first;
}

static void free_chain(weft__task_block *b)
{
    while (b) {
        weft__task_block *next = b->next;
        free(b);
        b = next;
    }
}

/* ---------------------------------------------------------------- the pool */

void weft__task_pool_init(weft__task_pool *p)
{
    pthread_mutex_init(&p->lock, NULL);
    for (unsigned c = 0; c < WEFT__TASK_CLASSES; c++)
        p->list[c] = (weft__task_list){NULL, 0};
    p->bytes = 0;
}

void weft__task_pool_destroy(weft__task_pool *p)
{
    for (unsigned c = 0; c < WEFT__TASK_CLASSES; c++) {
        free_chain(p->list[c].head);
        p->list[c] = (weft__task_list){NULL, 0};
    }
    p->bytes = 0;
    pthread_mutex_destroy(&p->lock);
}

size_t weft__task_pool_bytes(weft__task_pool *p)
{
    pthread_mutex_lock(&p->lock);
    size_t n = p->bytes;
    pthread_mutex_unlock(&p->lock);
    return n;
}

/* Take a chain of n blocks of class c (linked, last->next == NULL). Keeps what fits under the
 * cap; frees the rest, outside the lock. */
static void pool_put(weft__task_pool *p, unsigned c, weft__task_block *first,
                     weft__task_block *last, unsigned n)
{
    size_t sz = class_size(c);
    weft__task_block *excess = NULL;
    pthread_mutex_lock(&p->lock);
    size_t room = p->bytes >= WEFT__TASK_POOL_CAP ? 0 : (WEFT__TASK_POOL_CAP - p->bytes) / sz;
    if (room >= n) {
        last->next = p->list[c].head;
        p->list[c].head = first;
        p->list[c].len += n;
        p->bytes += n * sz;
    } else {
        /* Keep the first `room`, free the others. */
        for (unsigned i = 0; i < room; i++) {
            weft__task_block *b = first;
            first = first->next;
            list_push(&p->list[c], b);
        }
        p->bytes += room * sz;
        excess = first;
    }
    pthread_mutex_unlock(&p->lock);
    free_chain(excess);
}

/* Move up to `want` blocks of class c from the pool into l; returns how many. */
static unsigned pool_get(weft__task_pool *p, unsigned c, weft__task_list *l, unsigned want)
{
    pthread_mutex_lock(&p->lock);
    unsigned n = p->list[c].len < want ? p->list[c].len : want;
    if (n > 0) {
        weft__task_block *last;
        weft__task_block *first = list_cut(&p->list[c], n, &last);
        p->bytes -= n * class_size(c);
        last->next = l->head;
        l->head = first;
        l->len += n;
    }
    pthread_mutex_unlock(&p->lock);
    return n;
}

/* ---------------------------------------------------------------- thread caches */

void weft__task_cache_enter(weft__task_cache *c, weft__task_pool *p, weft__task_cache **saved)
{
    c->pool = p;
    for (unsigned i = 0; i < WEFT__TASK_CLASSES; i++)
        c->list[i] = (weft__task_list){NULL, 0};
    *saved = weft__tls.task_cache;
    weft__tls.task_cache = c;
}

void weft__task_cache_leave(weft__task_cache *c, weft__task_cache *saved)
{
    if (weft__tls.task_cache == c)
        weft__tls.task_cache = saved;
    for (unsigned i = 0; i < WEFT__TASK_CLASSES; i++) {
        weft__task_list *l = &c->list[i];
        if (l->len > 0) {
            weft__task_block *last;
            unsigned n = l->len;
            weft__task_block *first = list_cut(l, n, &last);
            pool_put(c->pool, i, first, last, n);
        }
    }
}

/* ---------------------------------------------------------------- allocating and freeing */

void *weft__task_alloc(size_t size)
{
    if (weft__task_alloc_bypass || size > WEFT__TASK_CLASS_MAX)
        return malloc(size);
    unsigned c = class_of(size);
    weft__task_cache *tc = weft__tls.task_cache;
    if (tc) {
        weft__task_block *b = list_pop(&tc->list[c]);
        if (b)
            return b;
        /* Empty: refill half a cache's worth in one visit to the pool. */
        if (pool_get(tc->pool, c, &tc->list[c], cache_cap(c) / 2 + 1) > 0)
            return list_pop(&tc->list[c]);
    }
    /* Rounded up to the class, so that the block can serve any task of its class later. */
    return malloc(class_size(c));
}

void weft__task_free(void *block, size_t size)
{
    if (!block)
        return;
    weft__task_cache *tc = weft__tls.task_cache;
    if (weft__task_alloc_bypass || size > WEFT__TASK_CLASS_MAX || !tc) {
        free(block);
        return;
    }
    unsigned c = class_of(size);
    weft__task_list *l = &tc->list[c];
    list_push(l, block);
    unsigned cap = cache_cap(c);
    if (l->len > cap) {
        /* Full: spill half, keeping the most recently freed (warmest) blocks here. */
        unsigned keep = cap / 2;
        weft__task_block *b = l->head;
        for (unsigned i = 1; i < keep; i++)
            b = b->next;
        weft__task_block *first = b->next, *last = first;
        unsigned n = l->len - keep;
        for (unsigned i = 1; i < n; i++)
            last = last->next;
        b->next = NULL;
        l->len = keep;
        pool_put(tc->pool, c, first, last, n);
    }
}
