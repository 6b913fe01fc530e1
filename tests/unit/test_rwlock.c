/* tests/unit/test_rwlock.c - the async reader-writer lock: shared reads, exclusive writes,
 * write preference (a waiting writer blocks new readers, including the re-entrant read that
 * lab 08 is about), max_readers, cancellation, downgrade, and a mixed stress test.
 *
 * Hand-polled cases drive the futures directly with a counting waker so that the order of
 * events is fixed; runtime cases run on both flavours and end with weft_runtime_shutdown
 * (under ASan that also proves nothing leaked). The stress test is in suite 'tsan'.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>
#include <weft/weft.h>

/* ---------------------------------------------------------------- helpers */

static weft_runtime *new_rt(weft_flavor flavor)
{
    weft_builder b = flavor == WEFT_CURRENT_THREAD ? weft_builder_new_current_thread()
                                                   : weft_builder_new_multi_thread();
    b.worker_threads = 2;
    weft_runtime *rt = NULL;
    assert_int_equal(weft_runtime_new(&b, &rt), 0);
    assert_non_null(rt);
    return rt;
}

static void run(weft_flavor flavor, weft_future *root)
{
    weft_runtime *rt = new_rt(flavor);
    assert_int_equal(weft_block_on(rt, root), 0);
    weft_runtime_shutdown(rt);
}

typedef struct counting_waker {
    _Atomic int wakes;
    _Atomic int live; /* clones not yet consumed: 0 when no waker leaked */
} counting_waker;

static const weft_waker_vtable counting_vt;

static weft_waker cw_clone(const void *d)
{
    atomic_fetch_add(&((counting_waker *)d)->live, 1);
    return (weft_waker){&counting_vt, d};
}

static void cw_wake(const void *d)
{
    atomic_fetch_add(&((counting_waker *)d)->wakes, 1);
    atomic_fetch_sub(&((counting_waker *)d)->live, 1);
}

static void cw_wake_by_ref(const void *d)
{
    atomic_fetch_add(&((counting_waker *)d)->wakes, 1);
}

static void cw_drop(const void *d)
{
    atomic_fetch_sub(&((counting_waker *)d)->live, 1);
}

static const weft_waker_vtable counting_vt = {cw_clone, cw_wake, cw_wake_by_ref, cw_drop};

typedef struct hand {
    counting_waker cw;
    weft_waker w;
    weft_context cx;
} hand;

static void hand_init(hand *h)
{
    atomic_init(&h->cw.wakes, 0);
    atomic_init(&h->cw.live, 0);
    h->w = (weft_waker){&counting_vt, &h->cw};
    h->cx = (weft_context){&h->w, NULL};
}

static weft_poll hpoll(hand *h, void *fut)
{
    return weft_future_poll((weft_future *)fut, &h->cx);
}

static int wakes(hand *h)
{
    return atomic_load(&h->cw.wakes);
}

/* ---------------------------------------------------------------- hand-polled */

static void test_rwlock_many_readers_hold_it_at_once(void **state)
{
    (void)state;
    enum { N = 10 };
    weft_rwlock rw;
    assert_int_equal(weft_rwlock_init(&rw, "config"), 0);
    assert_int_equal(rw.sem.res.kind, WEFT_RESOURCE_RWLOCK);
    assert_int_equal(rw.max_readers, WEFT_RWLOCK_MAX_READERS);
    hand h;
    hand_init(&h);
    weft_rwlock_read r[N];
    for (int i = 0; i < N; i++) {
        weft_rwlock_read_init(&r[i], &rw);
        assert_int_equal(hpoll(&h, &r[i]), WEFT_READY);
        assert_int_equal(r[i].status, 0);
    }
    weft_rwlock_read_guard extra;
    assert_int_equal(weft_rwlock_try_read(&rw, &extra), 0);
    assert_int_equal(weft_rwlock_readers(&rw), N + 1);

    weft_rwlock_write_guard wg;
    assert_int_equal(weft_rwlock_try_write(&rw, &wg), WEFT_EBUSY);
    hand hw;
    hand_init(&hw);
    weft_rwlock_write w;
    weft_rwlock_write_init(&w, &rw);
    assert_int_equal(hpoll(&hw, &w), WEFT_PENDING);
    assert_int_equal(weft_rwlock_destroy(&rw), WEFT_EBUSY);

    /* The writer gets in only when the last reader leaves. */
    weft_rwlock_read_guard_release(&extra);
    for (int i = 0; i < N; i++) {
        assert_int_equal(wakes(&hw), 0);
        weft_rwlock_read_guard_release(&r[i].guard);
    }
    assert_int_equal(wakes(&hw), 1);
    assert_int_equal(hpoll(&hw, &w), WEFT_READY);
    assert_int_equal(weft_rwlock_readers(&rw), 0);
    assert_int_equal(weft_rwlock_try_read(&rw, &extra), WEFT_EBUSY);
    weft_rwlock_write_guard_release(&w.guard);
    weft_rwlock_write_guard_release(&w.guard); /* twice: harmless */
    assert_int_equal(weft_rwlock_try_write(&rw, &wg), 0);
    weft_rwlock_write_guard_release(&wg);
    assert_int_equal(atomic_load(&h.cw.live), 0);
    assert_int_equal(atomic_load(&hw.cw.live), 0);
    assert_int_equal(weft_rwlock_destroy(&rw), 0);
}

static void test_rwlock_waiting_writer_blocks_new_readers(void **state)
{
    (void)state;
    weft_rwlock rw;
    weft_rwlock_init(&rw, NULL);
    hand h1, hw, h2;
    hand_init(&h1);
    hand_init(&hw);
    hand_init(&h2);
    weft_rwlock_read r1, r2;
    weft_rwlock_write w;
    weft_rwlock_read_init(&r1, &rw);
    weft_rwlock_write_init(&w, &rw);
    weft_rwlock_read_init(&r2, &rw);
    assert_int_equal(hpoll(&h1, &r1), WEFT_READY);
    assert_int_equal(hpoll(&hw, &w), WEFT_PENDING);
    /* Only one reader holds the lock, yet the reader after the writer must wait. */
    assert_int_equal(hpoll(&h2, &r2), WEFT_PENDING);

    weft_rwlock_read_guard_release(&r1.guard);
    assert_int_equal(wakes(&hw), 1);
    assert_int_equal(wakes(&h2), 0);
    assert_int_equal(hpoll(&hw, &w), WEFT_READY);
    assert_int_equal(weft_rwlock_writer(&rw), 0); /* locked outside any task */
    assert_int_equal(hpoll(&h2, &r2), WEFT_PENDING);

    weft_rwlock_write_guard_release(&w.guard);
    assert_int_equal(wakes(&h2), 1);
    assert_int_equal(hpoll(&h2, &r2), WEFT_READY);
    weft_rwlock_read_guard_release(&r2.guard);
    assert_int_equal(atomic_load(&h1.cw.live) + atomic_load(&hw.cw.live) +
                         atomic_load(&h2.cw.live),
                     0);
    assert_int_equal(weft_rwlock_destroy(&rw), 0);
}

static void test_rwlock_try_read_fails_while_a_writer_waits(void **state)
{
    (void)state;
    weft_rwlock rw;
    weft_rwlock_init(&rw, NULL);
    weft_rwlock_read_guard g, g2;
    assert_int_equal(weft_rwlock_try_read(&rw, &g), 0);
    assert_int_equal(weft_rwlock_try_read(&rw, &g2), 0); /* no writer yet: shared */
    weft_rwlock_read_guard_release(&g2);

    hand hw;
    hand_init(&hw);
    weft_rwlock_write w;
    weft_rwlock_write_init(&w, &rw);
    assert_int_equal(hpoll(&hw, &w), WEFT_PENDING);
    assert_int_equal(weft_rwlock_try_read(&rw, &g2), WEFT_EBUSY);

    /* Once the writer gives up, readers are welcome again. */
    weft_future_drop(&w.base);
    assert_int_equal(weft_rwlock_try_read(&rw, &g2), 0);
    weft_rwlock_read_guard_release(&g2);
    weft_rwlock_read_guard_release(&g);
    assert_int_equal(atomic_load(&hw.cw.live), 0);
    assert_int_equal(weft_rwlock_destroy(&rw), 0);
}

/* What lab 08 relies on: a task that holds a read guard and asks for another one while a
 * writer waits is stuck for good (the second read is behind the writer, which waits for the
 * first read). Here the "task" is the test itself. */
static void test_rwlock_reentrant_read_behind_a_waiting_writer_deadlocks(void **state)
{
    (void)state;
    weft_rwlock rw;
    weft_rwlock_init(&rw, NULL);
    hand h, hw;
    hand_init(&h);
    hand_init(&hw);
    weft_rwlock_read outer, inner;
    weft_rwlock_write w;
    weft_rwlock_read_init(&outer, &rw);
    assert_int_equal(hpoll(&h, &outer), WEFT_READY);
    weft_rwlock_write_init(&w, &rw);
    assert_int_equal(hpoll(&hw, &w), WEFT_PENDING);
    weft_rwlock_read_init(&inner, &rw);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(hpoll(&h, &inner), WEFT_PENDING);
        assert_int_equal(hpoll(&hw, &w), WEFT_PENDING);
    }
    assert_int_equal(wakes(&h), 0);
    assert_int_equal(wakes(&hw), 0);
    /* Unwind (what cancelling the task would do) so that the lock can be destroyed. */
    weft_future_drop(&inner.base);
    weft_future_drop(&w.base);
    weft_rwlock_read_guard_release(&outer.guard);
    assert_int_equal(weft_rwlock_destroy(&rw), 0);
}

static void test_rwlock_max_readers_limits_readers(void **state)
{
    (void)state;
    weft_rwlock rw;
    assert_int_equal(weft_rwlock_init_with_max_readers(&rw, 2, "two"), 0);
    hand h[3];
    weft_rwlock_read r[3];
    for (int i = 0; i < 3; i++) {
        hand_init(&h[i]);
        weft_rwlock_read_init(&r[i], &rw);
    }
    assert_int_equal(hpoll(&h[0], &r[0]), WEFT_READY);
    assert_int_equal(hpoll(&h[1], &r[1]), WEFT_READY);
    assert_int_equal(hpoll(&h[2], &r[2]), WEFT_PENDING);
    weft_rwlock_read_guard g;
    assert_int_equal(weft_rwlock_try_read(&rw, &g), WEFT_EBUSY);
    weft_rwlock_read_guard_release(&r[0].guard);
    assert_int_equal(wakes(&h[2]), 1);
    assert_int_equal(hpoll(&h[2], &r[2]), WEFT_READY);
    assert_int_equal(weft_rwlock_readers(&rw), 2);
    weft_rwlock_read_guard_release(&r[1].guard);
    weft_rwlock_read_guard_release(&r[2].guard);

    /* A writer of a two-reader lock takes both permits. */
    weft_rwlock_write_guard wg;
    assert_int_equal(weft_rwlock_try_write(&rw, &wg), 0);
    assert_int_equal(weft_rwlock_try_read(&rw, &g), WEFT_EBUSY);
    weft_rwlock_write_guard_release(&wg);
    assert_int_equal(weft_rwlock_destroy(&rw), 0);
}

static void test_rwlock_dropped_writer_lets_queued_readers_in(void **state)
{
    (void)state;
    weft_rwlock rw;
    weft_rwlock_init_with_max_readers(&rw, 4, NULL);
    hand h1, hw, h2, h3;
    hand_init(&h1);
    hand_init(&hw);
    hand_init(&h2);
    hand_init(&h3);
    weft_rwlock_read r1, r2, r3;
    weft_rwlock_write w;
    weft_rwlock_read_init(&r1, &rw);
    weft_rwlock_write_init(&w, &rw);
    weft_rwlock_read_init(&r2, &rw);
    weft_rwlock_read_init(&r3, &rw);
    assert_int_equal(hpoll(&h1, &r1), WEFT_READY);
    assert_int_equal(hpoll(&hw, &w), WEFT_PENDING); /* collects the 3 free permits */
    assert_int_equal(hpoll(&h2, &r2), WEFT_PENDING);
    assert_int_equal(hpoll(&h3, &r3), WEFT_PENDING);

    /* The writer is cancelled: what it had collected goes to the readers behind it. */
    weft_future_drop(&w.base);
    assert_int_equal(wakes(&h2), 1);
    assert_int_equal(wakes(&h3), 1);
    assert_int_equal(hpoll(&h2, &r2), WEFT_READY);
    assert_int_equal(hpoll(&h3, &r3), WEFT_READY);
    assert_int_equal(weft_rwlock_readers(&rw), 3);
    weft_rwlock_read_guard_release(&r1.guard);
    weft_rwlock_read_guard_release(&r2.guard);
    weft_rwlock_read_guard_release(&r3.guard);
    assert_int_equal(weft_semaphore_available_permits(&rw.sem), 4);
    assert_int_equal(atomic_load(&hw.cw.live), 0);
    assert_int_equal(weft_rwlock_destroy(&rw), 0);
}

static void test_rwlock_downgrade_admits_readers_not_writers(void **state)
{
    (void)state;
    weft_rwlock rw;
    weft_rwlock_init(&rw, NULL);
    weft_rwlock_write_guard wg;
    assert_int_equal(weft_rwlock_try_write(&rw, &wg), 0);
    hand hr, hw, hr2;
    hand_init(&hr);
    hand_init(&hw);
    hand_init(&hr2);
    weft_rwlock_read r, r2;
    weft_rwlock_write w;
    weft_rwlock_read_init(&r, &rw);
    weft_rwlock_write_init(&w, &rw);
    weft_rwlock_read_init(&r2, &rw);
    assert_int_equal(hpoll(&hr, &r), WEFT_PENDING);
    assert_int_equal(hpoll(&hw, &w), WEFT_PENDING);
    assert_int_equal(hpoll(&hr2, &r2), WEFT_PENDING);

    weft_rwlock_read_guard mine;
    assert_int_equal(weft_rwlock_write_guard_downgrade(&wg, &mine), 0);
    assert_null(wg.rw);
    assert_int_equal(weft_rwlock_write_guard_downgrade(&wg, &mine), WEFT_EINVAL);
    /* The reader queued first gets in beside us; the writer still waits, and so does the
     * reader behind the writer (write preference). */
    assert_int_equal(wakes(&hr), 1);
    assert_int_equal(hpoll(&hr, &r), WEFT_READY);
    assert_int_equal(hpoll(&hw, &w), WEFT_PENDING);
    assert_int_equal(hpoll(&hr2, &r2), WEFT_PENDING);
    assert_int_equal(weft_rwlock_readers(&rw), 2);

    weft_rwlock_read_guard_release(&mine);
    weft_rwlock_read_guard_release(&r.guard);
    assert_int_equal(hpoll(&hw, &w), WEFT_READY);
    weft_rwlock_write_guard_release(&w.guard);
    assert_int_equal(hpoll(&hr2, &r2), WEFT_READY);
    weft_rwlock_read_guard_release(&r2.guard);
    assert_int_equal(weft_rwlock_destroy(&rw), 0);
}

static void test_rwlock_bad_input_gets_errors_not_crashes(void **state)
{
    (void)state;
    weft_rwlock rw;
    assert_int_equal(weft_rwlock_init_with_max_readers(&rw, 0, NULL), WEFT_EINVAL);
    weft_rwlock_read_guard rg;
    weft_rwlock_write_guard wg;
    assert_int_equal(weft_rwlock_try_read(&rw, &rg), WEFT_EINVAL);
    assert_int_equal(weft_rwlock_try_write(&rw, &wg), WEFT_EINVAL);
    hand h;
    hand_init(&h);
    weft_rwlock_read r;
    weft_rwlock_write w;
    weft_rwlock_read_init(&r, &rw);
    weft_rwlock_write_init(&w, &rw);
    assert_int_equal(hpoll(&h, &r), WEFT_READY);
    assert_int_equal(r.status, WEFT_EINVAL);
    assert_int_equal(hpoll(&h, &w), WEFT_READY);
    assert_int_equal(w.status, WEFT_EINVAL);
    assert_int_equal(weft_rwlock_destroy(&rw), 0);
    assert_int_equal(
        weft_rwlock_init_with_max_readers(&rw, WEFT_RWLOCK_MAX_READERS + 1, NULL), WEFT_EINVAL);
    assert_int_equal(weft_rwlock_destroy(&rw), 0);

    assert_int_equal(weft_rwlock_init(NULL, NULL), WEFT_EINVAL);
    assert_int_equal(weft_rwlock_try_read(NULL, &rg), WEFT_EINVAL);
    assert_int_equal(weft_rwlock_destroy(NULL), WEFT_EINVAL);
    weft_rwlock_read_init(&r, NULL);
    assert_int_equal(hpoll(&h, &r), WEFT_READY);
    assert_int_equal(r.status, WEFT_EINVAL);

    /* A guard that was never acquired is refused instead of inflating the lock. */
    weft_rwlock_init_with_max_readers(&rw, 2, NULL);
    weft_rwlock_read_guard bogus = {&rw};
    weft_rwlock_read_guard_release(&bogus);
    weft_rwlock_write_guard bogus_w = {&rw};
    weft_rwlock_write_guard_release(&bogus_w);
    assert_int_equal(weft_semaphore_available_permits(&rw.sem), 2);
    assert_int_equal(weft_rwlock_readers(&rw), 0);
    assert_int_equal(weft_rwlock_try_write(&rw, &wg), 0);
    assert_int_equal(weft_rwlock_try_read(&rw, &rg), WEFT_EBUSY);
    weft_rwlock_write_guard_release(&wg);
    assert_int_equal(weft_rwlock_destroy(&rw), 0);
}

/* ---------------------------------------------------------------- concurrent readers */

enum { READERS = 8 };
#define SPIN_LIMIT 1000000

typedef struct readers_shared {
    weft_rwlock rw;
    _Atomic int arrived; /* readers holding the lock right now */
    _Atomic int gave_up; /* readers that never saw all the others inside */
} readers_shared;

typedef struct reader_task {
    weft_async co;
    readers_shared *sh;
    long spins;
    weft_rwlock_read r;
    weft_yield_now y;
} reader_task;

static weft_poll reader_task_poll(weft_future *f, weft_context *cx)
{
    reader_task *t = (reader_task *)f;
    WEFT_ASYNC_BEGIN(&t->co);
    weft_rwlock_read_init(&t->r, &t->sh->rw);
    WEFT_AWAIT(&t->co, cx, &t->r);
    atomic_fetch_add(&t->sh->arrived, 1);
    /* Wait, holding the read guard, until every reader holds one: only possible if they
     * really share the lock. (Bounded, so that a broken lock fails instead of hanging.) */
    while (atomic_load(&t->sh->arrived) < READERS && t->spins++ < SPIN_LIMIT) {
        weft_yield_now_init(&t->y);
        WEFT_AWAIT(&t->co, cx, &t->y);
    }
    if (t->spins >= SPIN_LIMIT)
        atomic_fetch_add(&t->sh->gave_up, 1);
    weft_rwlock_read_guard_release(&t->r.guard);
    WEFT_ASYNC_END(&t->co);
}

static const weft_future_vtable reader_task_vt = {reader_task_poll, weft_async_drop, "reader"};

typedef struct readers_case {
    weft_async co;
    readers_shared *sh;
    int i;
    weft_join_handle h[READERS];
} readers_case;

static weft_poll readers_case_poll(weft_future *f, weft_context *cx)
{
    readers_case *c = (readers_case *)f;
    WEFT_ASYNC_BEGIN(&c->co);
    for (c->i = 0; c->i < READERS; c->i++) {
        reader_task t = {.sh = c->sh};
        weft_async_init(&t.co, &reader_task_vt);
        c->h[c->i] = weft_spawn(&t);
    }
    for (c->i = 0; c->i < READERS; c->i++)
        WEFT_AWAIT(&c->co, cx, &c->h[c->i]);
    WEFT_ASYNC_END(&c->co);
}

static const weft_future_vtable readers_case_vt = {readers_case_poll, weft_async_drop, "rcase"};

static void check_readers_share_the_lock(weft_flavor flavor)
{
    readers_shared *sh = calloc(1, sizeof *sh);
    weft_rwlock_init(&sh->rw, NULL);
    readers_case c = {.sh = sh};
    weft_async_init(&c.co, &readers_case_vt);
    run(flavor, &c.co.base);
    assert_int_equal(atomic_load(&sh->arrived), READERS);
    assert_int_equal(atomic_load(&sh->gave_up), 0);
    assert_int_equal(weft_rwlock_readers(&sh->rw), 0);
    assert_int_equal(weft_rwlock_destroy(&sh->rw), 0);
    free(sh);
}

static void test_rwlock_readers_share_the_lock_ct(void **state)
{
    (void)state;
    check_readers_share_the_lock(WEFT_CURRENT_THREAD);
}

static void test_rwlock_readers_share_the_lock_mt(void **state)
{
    (void)state;
    check_readers_share_the_lock(WEFT_MULTI_THREAD);
}

/* ---------------------------------------------------------------- mixed stress */

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define MIX_ROUNDS 300
#else
#define MIX_ROUNDS 3000
#endif
enum { MIX_READERS = 6, MIX_WRITERS = 3 };

typedef struct mix_shared {
    weft_rwlock rw;
    long a, b;               /* guarded by rw: writers keep a == b, readers check it */
    _Atomic int readers_in;  /* read holders right now */
    _Atomic int writers_in;  /* write holders right now */
    _Atomic int violations;
    _Atomic uint64_t writer_ids_wrong;
} mix_shared;

typedef struct mix_task {
    weft_async co;
    mix_shared *sh;
    bool writer;
    int round;
    weft_rwlock_read r;
    weft_rwlock_write w;
    weft_yield_now y;
} mix_task;

static weft_poll mix_task_poll(weft_future *f, weft_context *cx)
{
    mix_task *t = (mix_task *)f;
    mix_shared *sh = t->sh;
    WEFT_ASYNC_BEGIN(&t->co);
    for (t->round = 0; t->round < MIX_ROUNDS; t->round++) {
        if (t->writer) {
            weft_rwlock_write_init(&t->w, &sh->rw);
            WEFT_AWAIT(&t->co, cx, &t->w);
            if (atomic_fetch_add(&sh->writers_in, 1) != 0 || atomic_load(&sh->readers_in) != 0)
                atomic_fetch_add(&sh->violations, 1);
            if (weft_rwlock_writer(&sh->rw) != weft_task_id_current())
                atomic_fetch_add(&sh->writer_ids_wrong, 1);
            sh->a++;
            if (t->round % 16 == 0) {
                weft_yield_now_init(&t->y);
                WEFT_AWAIT(&t->co, cx, &t->y);
            }
            sh->b++;
            atomic_fetch_sub(&sh->writers_in, 1);
            weft_rwlock_write_guard_release(&t->w.guard);
        } else {
            weft_rwlock_read_init(&t->r, &sh->rw);
            WEFT_AWAIT(&t->co, cx, &t->r);
            atomic_fetch_add(&sh->readers_in, 1);
            if (atomic_load(&sh->writers_in) != 0 || sh->a != sh->b)
                atomic_fetch_add(&sh->violations, 1);
            if (t->round % 16 == 0) {
                weft_yield_now_init(&t->y);
                WEFT_AWAIT(&t->co, cx, &t->y);
            }
            atomic_fetch_sub(&sh->readers_in, 1);
            weft_rwlock_read_guard_release(&t->r.guard);
        }
    }
    WEFT_ASYNC_END(&t->co);
}

static const weft_future_vtable mix_task_vt = {mix_task_poll, weft_async_drop, "mix"};

typedef struct mix_case {
    weft_async co;
    mix_shared *sh;
    int i;
    weft_join_handle h[MIX_READERS + MIX_WRITERS];
} mix_case;

static weft_poll mix_case_poll(weft_future *f, weft_context *cx)
{
    mix_case *c = (mix_case *)f;
    WEFT_ASYNC_BEGIN(&c->co);
    for (c->i = 0; c->i < MIX_READERS + MIX_WRITERS; c->i++) {
        mix_task t = {.sh = c->sh, .writer = c->i % 3 == 0};
        weft_async_init(&t.co, &mix_task_vt);
        c->h[c->i] = weft_spawn(&t);
    }
    for (c->i = 0; c->i < MIX_READERS + MIX_WRITERS; c->i++)
        WEFT_AWAIT(&c->co, cx, &c->h[c->i]);
    WEFT_ASYNC_END(&c->co);
}

static const weft_future_vtable mix_case_vt = {mix_case_poll, weft_async_drop, "mcase"};

static void check_writers_exclude_everyone(weft_flavor flavor)
{
    mix_shared *sh = calloc(1, sizeof *sh);
    weft_rwlock_init_with_max_readers(&sh->rw, 4, "mixed");
    mix_case c = {.sh = sh};
    weft_async_init(&c.co, &mix_case_vt);
    run(flavor, &c.co.base);
    assert_int_equal(atomic_load(&sh->violations), 0);
    assert_int_equal(atomic_load(&sh->writer_ids_wrong), 0);
    assert_int_equal(sh->a, (long)MIX_WRITERS * MIX_ROUNDS);
    assert_int_equal(sh->b, sh->a);
    assert_int_equal(weft_rwlock_readers(&sh->rw), 0);
    assert_int_equal(weft_rwlock_writer(&sh->rw), 0);
    assert_int_equal(weft_rwlock_destroy(&sh->rw), 0);
    free(sh);
}

static void test_rwlock_writers_exclude_everyone_under_stress_ct(void **state)
{
    (void)state;
    check_writers_exclude_everyone(WEFT_CURRENT_THREAD);
}

static void test_rwlock_writers_exclude_everyone_under_stress_mt(void **state)
{
    (void)state;
    check_writers_exclude_everyone(WEFT_MULTI_THREAD);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rwlock_many_readers_hold_it_at_once),
        cmocka_unit_test(test_rwlock_waiting_writer_blocks_new_readers),
        cmocka_unit_test(test_rwlock_try_read_fails_while_a_writer_waits),
        cmocka_unit_test(test_rwlock_reentrant_read_behind_a_waiting_writer_deadlocks),
        cmocka_unit_test(test_rwlock_max_readers_limits_readers),
        cmocka_unit_test(test_rwlock_dropped_writer_lets_queued_readers_in),
        cmocka_unit_test(test_rwlock_downgrade_admits_readers_not_writers),
        cmocka_unit_test(test_rwlock_bad_input_gets_errors_not_crashes),
        cmocka_unit_test(test_rwlock_readers_share_the_lock_ct),
        cmocka_unit_test(test_rwlock_readers_share_the_lock_mt),
        cmocka_unit_test(test_rwlock_writers_exclude_everyone_under_stress_ct),
        cmocka_unit_test(test_rwlock_writers_exclude_everyone_under_stress_mt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
