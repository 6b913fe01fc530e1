/* tests/unit/test_mt_queue.c - the multi-thread scheduler's local run queue and injection queue.
 *
 * White-box tests of runtime/sched/multi_thread/queue.c and inject.c with a shrunk capacity
 * (8 or 16 slots) so that the full, overflow, wrap-around and steal-in-progress cases are
 * reached in a few operations, plus a concurrent stress test in which every thread owns a queue,
 * pops its own, steals from the others and re-queues tasks, and every push must be matched by
 * exactly one pop. The tasks are bare weft_task headers: nothing here polls or frees them.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "sched/multi_thread/mt_int.h"

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer) || __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif

static weft_task *make_tasks(size_t n)
{
    weft_task *ts = calloc(n, sizeof(weft_task));
    assert_non_null(ts);
    for (size_t i = 0; i < n; i++)
        ts[i].id = i;
    return ts;
}

static size_t inject_drain_ids(weft__mt_inject *inj, weft_task_id *ids, size_t max)
{
    size_t n, got = 0;
    weft_task *t = weft__mt_inject_pop_batch(inj, SIZE_MAX, &n);
    for (; t; t = t->queue_next) {
        assert_true(got < max);
        ids[got++] = t->id;
    }
    assert_int_equal(got, n);
    return got;
}

static void test_mt_queue_rejects_bad_capacity(void **state)
{
    (void)state;
    weft__mt_queue q;
    assert_int_equal(weft__mt_queue_init(&q, 0), WEFT_EINVAL);
    assert_int_equal(weft__mt_queue_init(&q, 1), WEFT_EINVAL);
    assert_int_equal(weft__mt_queue_init(&q, 12), WEFT_EINVAL);
    assert_int_equal(weft__mt_queue_init(&q, 2), 0);
    weft__mt_queue_destroy(&q);
}

static void test_mt_queue_push_pop_fifo(void **state)
{
    (void)state;
    weft__mt_queue q;
    weft__mt_inject inj;
    weft__mt_inject_init(&inj);
    assert_int_equal(weft__mt_queue_init(&q, 8), 0);
    weft_task *ts = make_tasks(8);

    assert_null(weft__mt_queue_pop(&q));
    assert_false(weft__mt_queue_has_tasks(&q));
    for (int i = 0; i < 5; i++)
        assert_false(weft__mt_queue_push(&q, &ts[i], &inj));
    assert_true(weft__mt_queue_has_tasks(&q));
    assert_int_equal(weft__mt_queue_len(&q), 5);
    assert_int_equal(weft__mt_queue_room(&q), 3);
    for (int i = 0; i < 5; i++)
        assert_ptr_equal(weft__mt_queue_pop(&q), &ts[i]);
    assert_null(weft__mt_queue_pop(&q));
    assert_int_equal(weft__mt_inject_len(&inj), 0);

    weft__mt_queue_destroy(&q);
    weft__mt_inject_destroy(&inj);
    free(ts);
}

/* Positions are 32-bit and wrap: start just below 2^32 and go round the ring many times. */
static void test_mt_queue_wraps_around(void **state)
{
    (void)state;
    weft__mt_queue q;
    weft__mt_inject inj;
    weft__mt_inject_init(&inj);
    assert_int_equal(weft__mt_queue_init(&q, 8), 0);
    uint32_t start = UINT32_MAX - 5;
    atomic_store(&q.head, ((uint64_t)start << 32) | start);
    atomic_store(&q.tail, start);
    weft_task *ts = make_tasks(7);

    for (int round = 0; round < 50; round++) {
        for (int i = 0; i < 7; i++)
            assert_false(weft__mt_queue_push(&q, &ts[i], &inj));
        assert_int_equal(weft__mt_queue_len(&q), 7);
        for (int i = 0; i < 7; i++)
            assert_ptr_equal(weft__mt_queue_pop(&q), &ts[i]);
        assert_null(weft__mt_queue_pop(&q));
    }
    assert_int_equal(weft__mt_inject_len(&inj), 0);

    weft__mt_queue_destroy(&q);
    weft__mt_inject_destroy(&inj);
    free(ts);
}

/* A push onto a full queue moves the oldest half plus the new task to the injection queue in
 * order, as one batch, and leaves the newest half local. */
static void test_mt_queue_overflow_moves_half(void **state)
{
    (void)state;
    weft__mt_queue q;
    weft__mt_inject inj;
    weft__mt_inject_init(&inj);
    assert_int_equal(weft__mt_queue_init(&q, 8), 0);
    weft_task *ts = make_tasks(9);

    for (int i = 0; i < 8; i++)
        assert_false(weft__mt_queue_push(&q, &ts[i], &inj));
    assert_int_equal(weft__mt_queue_room(&q), 0);
    assert_true(weft__mt_queue_push(&q, &ts[8], &inj));

    assert_int_equal(weft__mt_inject_len(&inj), 5);
    weft_task_id ids[16];
    assert_int_equal(inject_drain_ids(&inj, ids, 16), 5);
    for (int i = 0; i < 4; i++)
        assert_int_equal(ids[i], i);
    assert_int_equal(ids[4], 8);
    assert_int_equal(weft__mt_inject_len(&inj), 0);

    assert_int_equal(weft__mt_queue_len(&q), 4);
    for (int i = 4; i < 8; i++)
        assert_ptr_equal(weft__mt_queue_pop(&q), &ts[i]);
    assert_null(weft__mt_queue_pop(&q));

    weft__mt_queue_destroy(&q);
    weft__mt_inject_destroy(&inj);
    free(ts);
}

/* A full queue whose oldest slots a stealer is still copying: the new task goes to the
 * injection queue alone and the claimed slots are not touched. */
static void test_mt_queue_full_during_steal_sends_one(void **state)
{
    (void)state;
    weft__mt_queue q;
    weft__mt_inject inj;
    weft__mt_inject_init(&inj);
    assert_int_equal(weft__mt_queue_init(&q, 8), 0);
    weft_task *ts = make_tasks(10);

    for (int i = 0; i < 8; i++)
        assert_false(weft__mt_queue_push(&q, &ts[i], &inj));
    /* Pretend a stealer claimed slots 0 and 1 (steal = 0, real = 2) and has not finished. */
    atomic_store(&q.head, ((uint64_t)0 << 32) | 2);
    assert_true(weft__mt_queue_push(&q, &ts[8], &inj));
    assert_int_equal(weft__mt_inject_len(&inj), 1);
    /* The owner can still pop past the claim. */
    assert_ptr_equal(weft__mt_queue_pop(&q), &ts[2]);
    /* Still full as far as the stealer's claim goes: slot 0 is not reused. */
    assert_true(weft__mt_queue_push(&q, &ts[9], &inj));
    assert_ptr_equal(atomic_load(&q.buf[0]), &ts[0]);
    /* The stealer finishes: steal catches up with real. */
    atomic_store(&q.head, ((uint64_t)3 << 32) | 3);
    assert_int_equal(weft__mt_queue_room(&q), 3);

    weft_task_id ids[4];
    assert_int_equal(inject_drain_ids(&inj, ids, 4), 2);
    assert_int_equal(ids[0], 8);
    assert_int_equal(ids[1], 9);
    for (int i = 3; i < 8; i++)
        assert_ptr_equal(weft__mt_queue_pop(&q), &ts[i]);
    assert_null(weft__mt_queue_pop(&q));

    weft__mt_queue_destroy(&q);
    weft__mt_inject_destroy(&inj);
    free(ts);
}

/* Steal takes half, rounded up, oldest first; returns the last one taken and queues the
 * others in the thief's queue. */
static void test_mt_queue_steal_half(void **state)
{
    (void)state;
    weft__mt_queue src, dst;
    weft__mt_inject inj;
    weft__mt_inject_init(&inj);
    assert_int_equal(weft__mt_queue_init(&src, 8), 0);
    assert_int_equal(weft__mt_queue_init(&dst, 8), 0);
    weft_task *ts = make_tasks(8);
    uint32_t n;

    assert_null(weft__mt_queue_steal_into(&src, &dst, &n));
    assert_int_equal(n, 0);

    for (int i = 0; i < 5; i++)
        weft__mt_queue_push(&src, &ts[i], &inj);
    assert_ptr_equal(weft__mt_queue_steal_into(&src, &dst, &n), &ts[2]);
    assert_int_equal(n, 3);
    assert_int_equal(weft__mt_queue_len(&src), 2);
    assert_int_equal(weft__mt_queue_len(&dst), 2);
    assert_ptr_equal(weft__mt_queue_pop(&dst), &ts[0]);
    assert_ptr_equal(weft__mt_queue_pop(&dst), &ts[1]);
    assert_null(weft__mt_queue_pop(&dst));

    /* One left after a pop: a steal of one task moves nothing into dst. */
    assert_ptr_equal(weft__mt_queue_pop(&src), &ts[3]);
    assert_ptr_equal(weft__mt_queue_steal_into(&src, &dst, &n), &ts[4]);
    assert_int_equal(n, 1);
    assert_int_equal(weft__mt_queue_len(&dst), 0);
    assert_null(weft__mt_queue_pop(&src));

    weft__mt_queue_destroy(&src);
    weft__mt_queue_destroy(&dst);
    weft__mt_inject_destroy(&inj);
    free(ts);
}

/* A thief never takes more than it has room for, and a full thief takes nothing. */
static void test_mt_queue_steal_respects_room(void **state)
{
    (void)state;
    weft__mt_queue src, dst;
    weft__mt_inject inj;
    weft__mt_inject_init(&inj);
    assert_int_equal(weft__mt_queue_init(&src, 16), 0);
    assert_int_equal(weft__mt_queue_init(&dst, 8), 0);
    weft_task *ts = make_tasks(32);
    uint32_t n;

    for (int i = 0; i < 16; i++)
        weft__mt_queue_push(&src, &ts[i], &inj);
    for (int i = 16; i < 22; i++)
        weft__mt_queue_push(&dst, &ts[i], &inj);
    /* Half of src is 8, but dst has only 2 free slots. */
    assert_ptr_equal(weft__mt_queue_steal_into(&src, &dst, &n), &ts[1]);
    assert_int_equal(n, 2);
    assert_int_equal(weft__mt_queue_len(&dst), 7);
    assert_int_equal(weft__mt_queue_len(&src), 14);
    weft__mt_queue_push(&dst, &ts[22], &inj);
    assert_null(weft__mt_queue_steal_into(&src, &dst, &n));
    assert_int_equal(weft__mt_queue_len(&src), 14);
    assert_int_equal(weft__mt_inject_len(&inj), 0);

    weft__mt_queue_destroy(&src);
    weft__mt_queue_destroy(&dst);
    weft__mt_inject_destroy(&inj);
    free(ts);
}

/* Batches come out of the injection queue in FIFO order, and a closed queue can still be
 * drained (pushing onto it would drop real task references, which bare headers are not). */
static void test_mt_queue_inject_batch_fifo(void **state)
{
    (void)state;
    weft__mt_inject inj;
    weft__mt_inject_init(&inj);
    weft_task *ts = make_tasks(10);
    for (int i = 0; i < 10; i++)
        weft__mt_inject_push(&inj, &ts[i]);
    assert_int_equal(weft__mt_inject_len(&inj), 10);
    size_t n;
    weft_task *t = weft__mt_inject_pop_batch(&inj, 3, &n);
    assert_int_equal(n, 3);
    for (int i = 0; i < 3; i++, t = t->queue_next)
        assert_ptr_equal(t, &ts[i]);
    assert_null(t);
    assert_int_equal(weft__mt_inject_len(&inj), 7);
    weft__mt_inject_close(&inj);
    t = weft__mt_inject_pop_batch(&inj, 100, &n);
    assert_int_equal(n, 7);
    assert_ptr_equal(t, &ts[3]);
    assert_null(weft__mt_inject_pop_batch(&inj, 100, &n));
    assert_int_equal(n, 0);
    weft__mt_inject_destroy(&inj);
    free(ts);
}

/* ---------------------------------------------------------------- concurrent stress
 *
 * STRESS_THREADS threads each own a queue of STRESS_CAP slots. Thread 0 feeds STRESS_TASKS
 * tasks in; every thread pops its own queue, else takes from the shared injection queue, else
 * steals from a random other queue. Taking a task "runs" it: the run is counted, and a task
 * with hops left is pushed again onto the runner's queue. At the end, every task must have run
 * exactly 1 + hops times: nothing lost, nothing duplicated. */
#define STRESS_THREADS 4
#define STRESS_CAP 16
#define STRESS_HOPS 3
#ifdef SANITIZED
#define STRESS_TASKS 20000
#else
#define STRESS_TASKS 200000
#endif

typedef struct stress {
    weft__mt_queue queues[STRESS_THREADS];
    weft__mt_inject inject;
    weft_task *tasks;
    _Atomic uint32_t *runs;   /* per task */
    _Atomic size_t total;     /* runs so far, all tasks */
    _Atomic unsigned fed;     /* thread 0 finished feeding */
    _Atomic size_t steals;
} stress;

typedef struct stress_arg {
    stress *st;
    unsigned index;
} stress_arg;

static void stress_run(stress *st, unsigned me, weft_task *t)
{
    uint32_t prev = atomic_fetch_add_explicit(&st->runs[t->id], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&st->total, 1, memory_order_relaxed);
    if (prev < STRESS_HOPS)
        weft__mt_queue_push(&st->queues[me], t, &st->inject);
}

static weft_task *stress_find(stress *st, unsigned me)
{
    weft_task *t = weft__mt_queue_pop(&st->queues[me]);
    if (t)
        return t;
    unsigned v = (unsigned)weft_rand_below(STRESS_THREADS);
    for (unsigned i = 0; i < STRESS_THREADS; i++, v = (v + 1) % STRESS_THREADS) {
        if (v == me)
            continue;
        uint32_t got;
        t = weft__mt_queue_steal_into(&st->queues[v], &st->queues[me], &got);
        if (t) {
            atomic_fetch_add_explicit(&st->steals, 1, memory_order_relaxed);
            return t;
        }
    }
    size_t n;
    t = weft__mt_inject_pop_batch(&st->inject, 1 + weft__mt_queue_room(&st->queues[me]), &n);
    if (t && n > 1)
        weft__mt_queue_push_list(&st->queues[me], t->queue_next, (uint32_t)(n - 1));
    return t;
}

static void *stress_thread(void *p)
{
    stress_arg *a = p;
    stress *st = a->st;
    const size_t want = (size_t)STRESS_TASKS * (1 + STRESS_HOPS);
    if (a->index == 0) {
        for (size_t i = 0; i < STRESS_TASKS; i++) {
            weft__mt_queue_push(&st->queues[0], &st->tasks[i], &st->inject);
            /* Interleave some runs so that the feeder pops while others steal. */
            if (i % 3 == 0) {
                weft_task *t = weft__mt_queue_pop(&st->queues[0]);
                if (t)
                    stress_run(st, 0, t);
            }
        }
        atomic_store(&st->fed, 1);
    }
    while (atomic_load_explicit(&st->total, memory_order_relaxed) < want) {
        weft_task *t = stress_find(st, a->index);
        if (t)
            stress_run(st, a->index, t);
        else if (!atomic_load(&st->fed))
            sched_yield();
    }
    return NULL;
}

static void test_mt_queue_concurrent_steal_stress(void **state)
{
    (void)state;
    static stress st;
    weft__mt_inject_init(&st.inject);
    for (int i = 0; i < STRESS_THREADS; i++)
        assert_int_equal(weft__mt_queue_init(&st.queues[i], STRESS_CAP), 0);
    st.tasks = make_tasks(STRESS_TASKS);
    st.runs = calloc(STRESS_TASKS, sizeof *st.runs);
    assert_non_null(st.runs);
    atomic_store(&st.total, 0);
    atomic_store(&st.fed, 0);
    atomic_store(&st.steals, 0);

    pthread_t th[STRESS_THREADS];
    stress_arg args[STRESS_THREADS];
    for (unsigned i = 0; i < STRESS_THREADS; i++) {
        args[i] = (stress_arg){&st, i};
        assert_int_equal(pthread_create(&th[i], NULL, stress_thread, &args[i]), 0);
    }
    for (unsigned i = 0; i < STRESS_THREADS; i++)
        pthread_join(th[i], NULL);

    for (size_t i = 0; i < STRESS_TASKS; i++)
        if (atomic_load(&st.runs[i]) != 1 + STRESS_HOPS)
            fail_msg("task %zu ran %u times, expected %u", i, atomic_load(&st.runs[i]),
                     1 + STRESS_HOPS);
    assert_int_equal(atomic_load(&st.total), (size_t)STRESS_TASKS * (1 + STRESS_HOPS));
    for (int i = 0; i < STRESS_THREADS; i++) {
        assert_null(weft__mt_queue_pop(&st.queues[i]));
        weft__mt_queue_destroy(&st.queues[i]);
    }
    assert_int_equal(weft__mt_inject_len(&st.inject), 0);
    /* How often stealing happened depends on how the OS interleaved the threads. */
    print_message("%zu steals\n", atomic_load(&st.steals));
    weft__mt_inject_destroy(&st.inject);
    free(st.tasks);
    free((void *)st.runs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mt_queue_rejects_bad_capacity),
        cmocka_unit_test(test_mt_queue_push_pop_fifo),
        cmocka_unit_test(test_mt_queue_wraps_around),
        cmocka_unit_test(test_mt_queue_overflow_moves_half),
        cmocka_unit_test(test_mt_queue_full_during_steal_sends_one),
        cmocka_unit_test(test_mt_queue_steal_half),
        cmocka_unit_test(test_mt_queue_steal_respects_room),
        cmocka_unit_test(test_mt_queue_inject_batch_fifo),
        cmocka_unit_test(test_mt_queue_concurrent_steal_stress),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
