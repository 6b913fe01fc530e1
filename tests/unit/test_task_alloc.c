/* tests/unit/test_task_alloc.c - the task block allocator (runtime/task/task_alloc.c).
 *
 * What a user relies on, even without knowing the allocator exists: a burst of spawns reuses
 * the blocks of the previous burst instead of going back to malloc; a task freed on another
 * thread than the one that allocated it is fine; the memory kept for reuse stays under its
 * documented cap; and nothing is left behind once the runtime is shut down (ASan/LSan check
 * that last point in CI).
 *
 * The caches are bypassed under AddressSanitizer, so that the runtime's other tests catch a
 * use of a freed task. These tests are about the caches themselves, so main() turns the
 * bypass off before any task exists; LeakSanitizer then proves that shutdown frees every
 * cached block.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <weft/weft.h>

#include "rt_int.h"

/* ---------------------------------------------------------------- plain allocator use */

static void test_task_alloc_reuses_a_freed_block_of_the_same_class(void **state)
{
    (void)state;
    weft__task_pool pool;
    weft__task_pool_init(&pool);
    weft__task_cache cache, *outer;
    weft__task_cache_enter(&cache, &pool, &outer);

    void *a = weft__task_alloc(200);
    assert_non_null(a);
    memset(a, 0xab, 200);
    weft__task_free(a, 200);
    /* 200 and 220 round up to the same class (224): the block comes straight back. */
    void *b = weft__task_alloc(220);
    assert_ptr_equal(a, b);
    memset(b, 0xcd, 220);
    /* 300 is another class: a different block. */
    void *c = weft__task_alloc(300);
    assert_ptr_not_equal(c, b);
    weft__task_free(b, 220);
    weft__task_free(c, 300);

    weft__task_cache_leave(&cache, outer);
    assert_int_equal(weft__task_pool_bytes(&pool), 224 + 320);
    weft__task_pool_destroy(&pool);
}

static void test_task_alloc_every_size_is_usable_to_its_last_byte(void **state)
{
    (void)state;
    weft__task_pool pool;
    weft__task_pool_init(&pool);
    weft__task_cache cache, *outer;
    weft__task_cache_enter(&cache, &pool, &outer);
    /* Every size up to past the largest class, written in full: ASan would report a block
     * smaller than asked for, including a recycled block of a smaller class. */
    for (size_t size = sizeof(void *); size <= WEFT__TASK_CLASS_MAX + 64; size += 8) {
        unsigned char *p = weft__task_alloc(size);
        assert_non_null(p);
        memset(p, 0x5a, size);
        weft__task_free(p, size);
        p = weft__task_alloc(size);
        memset(p, 0xa5, size);
        weft__task_free(p, size);
    }
    weft__task_cache_leave(&cache, outer);
    weft__task_pool_destroy(&pool);
}

static void test_task_alloc_without_a_cache_goes_to_malloc(void **state)
{
    (void)state;
    weft__task_pool pool;
    weft__task_pool_init(&pool);
    /* This thread entered no cache: nothing is kept. */
    void *a = weft__task_alloc(128);
    assert_non_null(a);
    weft__task_free(a, 128);
    assert_int_equal(weft__task_pool_bytes(&pool), 0);
    weft__task_pool_destroy(&pool);
}

/* A cache spills into the pool when it is full, and the pool keeps at most its cap: the rest
 * goes back to free(). */
static void test_task_alloc_pool_keeps_at_most_its_cap(void **state)
{
    (void)state;
    const size_t size = WEFT__TASK_CLASS_MAX;
    const size_t n = WEFT__TASK_POOL_CAP / size + 1000; /* more than the cap's worth */
    void **blocks = malloc(n * sizeof *blocks);
    assert_non_null(blocks);

    weft__task_pool pool;
    weft__task_pool_init(&pool);
    weft__task_cache cache, *outer;
    weft__task_cache_enter(&cache, &pool, &outer);
    for (size_t i = 0; i < n; i++)
        assert_non_null(blocks[i] = weft__task_alloc(size));
    for (size_t i = 0; i < n; i++) {
        weft__task_free(blocks[i], size);
        assert_true(weft__task_pool_bytes(&pool) <= WEFT__TASK_POOL_CAP);
    }
    /* Spilling happened while the cache was in use, not only when it was left. */
    assert_true(weft__task_pool_bytes(&pool) > 0);
    weft__task_cache_leave(&cache, outer);
    assert_true(weft__task_pool_bytes(&pool) <= WEFT__TASK_POOL_CAP);
    assert_true(weft__task_pool_bytes(&pool) > WEFT__TASK_POOL_CAP - 2 * size);
    weft__task_pool_destroy(&pool);
    free(blocks);
}

/* A cache keeps a bounded number of blocks per class: freeing many leaves the excess in the
 * pool, where another thread can take it. */
static void test_task_alloc_cache_spills_half_when_full(void **state)
{
    (void)state;
    const size_t size = 160, n = 1000;
    void *blocks[1000];
    weft__task_pool pool;
    weft__task_pool_init(&pool);
    weft__task_cache cache, *outer;
    weft__task_cache_enter(&cache, &pool, &outer);
    for (size_t i = 0; i < n; i++)
        blocks[i] = weft__task_alloc(size);
    for (size_t i = 0; i < n; i++)
        weft__task_free(blocks[i], size);
    size_t in_pool = weft__task_pool_bytes(&pool);
    size_t cached = n * size - in_pool; /* 160 is a class size: no rounding */
    assert_true(cached <= WEFT__TASK_CACHE_BYTES);
    assert_true(cached >= WEFT__TASK_CACHE_BYTES / 2 - size);
    weft__task_cache_leave(&cache, outer);
    assert_int_equal(weft__task_pool_bytes(&pool), n * size);
    weft__task_pool_destroy(&pool);
}

/* ---------------------------------------------------------------- across threads */

#define XT_BLOCKS 5000
#define XT_SIZE 192

typedef struct xt_ctx {
    weft__task_pool *pool;
    void **blocks;
    size_t n;
} xt_ctx;

static void *free_on_this_thread(void *arg)
{
    xt_ctx *x = arg;
    weft__task_cache cache, *outer;
    weft__task_cache_enter(&cache, x->pool, &outer);
    for (size_t i = 0; i < x->n; i++) {
        /* The allocating thread wrote every byte; we read them, as a task's last dropper
         * reads the task, before the block is recycled. */
        const unsigned char *p = x->blocks[i];
        for (size_t k = 0; k < XT_SIZE; k++)
            if (p[k] != (unsigned char)i)
                abort();
        weft__task_free(x->blocks[i], XT_SIZE);
    }
    weft__task_cache_leave(&cache, outer);
    return NULL;
}

static int ptr_cmp(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t)*(void *const *)a, y = (uintptr_t)*(void *const *)b;
    return x < y ? -1 : x > y;
}

/* Blocks allocated on one thread and freed on another come back to the first through the
 * pool, whole and reusable. */
static void test_task_alloc_cross_thread_free_is_reused(void **state)
{
    (void)state;
    weft__task_pool pool;
    weft__task_pool_init(&pool);
    void **blocks = malloc(XT_BLOCKS * sizeof *blocks);
    void **sorted = malloc(XT_BLOCKS * sizeof *sorted);
    assert_non_null(blocks);
    assert_non_null(sorted);

    weft__task_cache cache, *outer;
    weft__task_cache_enter(&cache, &pool, &outer);
    for (size_t i = 0; i < XT_BLOCKS; i++) {
        blocks[i] = weft__task_alloc(XT_SIZE);
        memset(blocks[i], (unsigned char)i, XT_SIZE);
    }
    memcpy(sorted, blocks, XT_BLOCKS * sizeof *sorted);
    qsort(sorted, XT_BLOCKS, sizeof *sorted, ptr_cmp);

    pthread_t th;
    xt_ctx x = {&pool, blocks, XT_BLOCKS};
    assert_int_equal(pthread_create(&th, NULL, free_on_this_thread, &x), 0);
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_int_equal(weft__task_pool_bytes(&pool), XT_BLOCKS * XT_SIZE);

    /* Every block allocated now is one of those the other thread freed. */
    for (size_t i = 0; i < XT_BLOCKS; i++) {
        void *p = weft__task_alloc(XT_SIZE);
        assert_non_null(bsearch(&p, sorted, XT_BLOCKS, sizeof *sorted, ptr_cmp));
        blocks[i] = p;
    }
    assert_int_equal(weft__task_pool_bytes(&pool), 0);
    for (size_t i = 0; i < XT_BLOCKS; i++)
        weft__task_free(blocks[i], XT_SIZE);
    weft__task_cache_leave(&cache, outer);
    weft__task_pool_destroy(&pool);
    free(blocks);
    free(sorted);
}

/* Two threads allocating from and freeing into one pool at once, each freeing what the other
 * allocated: the stress case for ThreadSanitizer. */
#define PP_ROUNDS 200
#define PP_BATCH 256

typedef struct pp_shared {
    weft__task_pool *pool;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    void *slot[2][PP_BATCH]; /* slot[i]: blocks thread i allocated, for thread 1-i to free */
    bool full[2];
} pp_shared;

typedef struct pp_arg {
    pp_shared *s;
    int me;
} pp_arg;

static void *ping_pong_blocks(void *arg)
{
    pp_arg *a = arg;
    pp_shared *s = a->s;
    int me = a->me, other = 1 - me;
    weft__task_cache cache, *outer;
    weft__task_cache_enter(&cache, s->pool, &outer);
    void *mine[PP_BATCH], *theirs[PP_BATCH];
    for (int r = 0; r < PP_ROUNDS; r++) {
        for (int i = 0; i < PP_BATCH; i++) {
            size_t size = 100 + (size_t)((i * 37) % 900);
            mine[i] = weft__task_alloc(size);
            memset(mine[i], me, size);
        }
        pthread_mutex_lock(&s->lock);
        while (s->full[me])
            pthread_cond_wait(&s->cond, &s->lock);
        memcpy(s->slot[me], mine, sizeof mine);
        s->full[me] = true;
        pthread_cond_broadcast(&s->cond);
        while (!s->full[other])
            pthread_cond_wait(&s->cond, &s->lock);
        memcpy(theirs, s->slot[other], sizeof theirs);
        s->full[other] = false;
        pthread_cond_broadcast(&s->cond);
        pthread_mutex_unlock(&s->lock);
        for (int i = 0; i < PP_BATCH; i++) {
            size_t size = 100 + (size_t)((i * 37) % 900);
            if (((unsigned char *)theirs[i])[size - 1] != (unsigned char)other)
                abort();
            weft__task_free(theirs[i], size);
        }
    }
    weft__task_cache_leave(&cache, outer);
    return NULL;
}

static void test_task_alloc_two_threads_free_each_others_blocks(void **state)
{
    (void)state;
    weft__task_pool pool;
    weft__task_pool_init(&pool);
    pp_shared *s = calloc(1, sizeof *s);
    assert_non_null(s);
    s->pool = &pool;
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->cond, NULL);
    pthread_t th[2];
    pp_arg args[2] = {{s, 0}, {s, 1}};
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&th[i], NULL, ping_pong_blocks, &args[i]), 0);
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_join(th[i], NULL), 0);
    assert_true(weft__task_pool_bytes(&pool) <= WEFT__TASK_POOL_CAP);
    pthread_cond_destroy(&s->cond);
    pthread_mutex_destroy(&s->lock);
    free(s);
    weft__task_pool_destroy(&pool); /* LSan: every block was either here or freed */
}

/* ---------------------------------------------------------------- on a real runtime */

typedef struct nop_fut {
    weft_future base;
    char payload[64];
} nop_fut;

static weft_poll nop_poll(weft_future *f, weft_context *cx)
{
    (void)f;
    (void)cx;
    return WEFT_READY;
}

static const weft_future_vtable nop_vt = {nop_poll, NULL, "nop"};

#define BURST 20000

/* Spawns a burst of tasks and joins them all. Run inside the runtime (as a task) or as
 * block_on's root, so that tasks are allocated on one thread and mostly freed on another. */
typedef struct burst {
    weft_async co;
    int i;
    weft_join_handle *hs;
} burst;

static weft_poll burst_poll(weft_future *f, weft_context *cx)
{
    burst *b = (burst *)f;
    WEFT_ASYNC_BEGIN(&b->co);
    b->hs = malloc(BURST * sizeof *b->hs);
    assert_non_null(b->hs);
    for (b->i = 0; b->i < BURST; b->i++) {
        nop_fut n = {{&nop_vt}, {0}};
        b->hs[b->i] = weft_spawn(&n);
    }
    for (b->i = 0; b->i < BURST; b->i++) {
        WEFT_AWAIT(&b->co, cx, &b->hs[b->i]);
        assert_int_equal(b->hs[b->i].status, 0);
    }
    free(b->hs);
    b->hs = NULL;
    WEFT_ASYNC_END(&b->co);
}

static const weft_future_vtable burst_vt = {burst_poll, weft_async_drop, "burst"};

typedef struct inside {
    weft_async co;
    weft_join_handle h;
} inside;

static weft_poll inside_poll(weft_future *f, weft_context *cx)
{
    inside *in = (inside *)f;
    WEFT_ASYNC_BEGIN(&in->co);
    {
        burst b = {0};
        weft_async_init(&b.co, &burst_vt);
        in->h = weft_spawn(&b);
    }
    WEFT_AWAIT(&in->co, cx, &in->h);
    assert_int_equal(in->h.status, 0);
    WEFT_ASYNC_END(&in->co);
}

static const weft_future_vtable inside_vt = {inside_poll, weft_async_drop, "inside"};

static void check_bursts_reuse_blocks_and_shutdown_frees_them(weft_flavor flavor)
{
    weft_builder bld = flavor == WEFT_CURRENT_THREAD ? weft_builder_new_current_thread()
                                                     : weft_builder_new_multi_thread();
    bld.worker_threads = 2;
    weft_runtime *rt = NULL;
    assert_int_equal(weft_runtime_new(&bld, &rt), 0);
    for (int round = 0; round < 4; round++) {
        /* From inside the runtime, then from block_on's thread (remote spawns). */
        if (round % 2 == 0) {
            inside in = {0};
            weft_async_init(&in.co, &inside_vt);
            assert_int_equal(weft_block_on(rt, &in.co.base), 0);
        } else {
            burst b = {0};
            weft_async_init(&b.co, &burst_vt);
            assert_int_equal(weft_block_on(rt, &b.co.base), 0);
        }
        /* The block_on thread left the runtime: its cache went back to the pool, which now
         * holds what the burst freed there (workers keep theirs until they exit). */
        size_t pooled = weft__task_pool_bytes(&rt->task_pool);
        assert_true(pooled > 0);
        assert_true(pooled <= WEFT__TASK_POOL_CAP);
    }
    /* (No alive-task count here: on mt2 a task's join can complete a moment before the task
     * leaves the owned list, so a snapshot taken now may still count it.) */
    weft_runtime_shutdown(rt); /* LSan: the pool and every cache were emptied */
}

static void test_task_alloc_bursts_reuse_blocks_ct(void **state)
{
    (void)state;
    check_bursts_reuse_blocks_and_shutdown_frees_them(WEFT_CURRENT_THREAD);
}

static void test_task_alloc_bursts_reuse_blocks_mt(void **state)
{
    (void)state;
    check_bursts_reuse_blocks_and_shutdown_frees_them(WEFT_MULTI_THREAD);
}

/* A join handle that outlives its runtime: the task is freed after the pool is gone, on a
 * thread with no cache, and goes straight back to free(). */
static void test_task_alloc_task_outliving_its_runtime_is_freed(void **state)
{
    (void)state;
    weft_builder bld = weft_builder_new_multi_thread();
    bld.worker_threads = 2;
    weft_runtime *rt = NULL;
    assert_int_equal(weft_runtime_new(&bld, &rt), 0);
    nop_fut n = {{&nop_vt}, {0}};
    weft_join_handle h = weft_runtime_spawn(rt, &n);
    assert_null(weft__tls.task_cache);
    weft_runtime_shutdown(rt);
    assert_true(weft_join_handle_is_finished(&h));
    weft_join_handle_detach(&h); /* the last reference: frees the task now */
}

int main(void)
{
    /* These tests are about the caches: keep them on even under ASan (see the top). */
    weft__task_alloc_bypass = false;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_task_alloc_reuses_a_freed_block_of_the_same_class),
        cmocka_unit_test(test_task_alloc_every_size_is_usable_to_its_last_byte),
        cmocka_unit_test(test_task_alloc_without_a_cache_goes_to_malloc),
        cmocka_unit_test(test_task_alloc_pool_keeps_at_most_its_cap),
        cmocka_unit_test(test_task_alloc_cache_spills_half_when_full),
        cmocka_unit_test(test_task_alloc_cross_thread_free_is_reused),
        cmocka_unit_test(test_task_alloc_two_threads_free_each_others_blocks),
        cmocka_unit_test(test_task_alloc_bursts_reuse_blocks_ct),
        cmocka_unit_test(test_task_alloc_bursts_reuse_blocks_mt),
        cmocka_unit_test(test_task_alloc_task_outliving_its_runtime_is_freed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
