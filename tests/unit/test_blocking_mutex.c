/* tests/unit/test_blocking_mutex.c - the instrumented blocking mutex: exclusion between
 * threads, the holder task, the per-thread hold count the "held across an await" lint reads
 * (including after an unlock from another thread and after the locking thread exited), and
 * misuse.
 *
 * Threads here are plain pthreads, and one case runs tasks on the current-thread runtime to
 * show the hold count a scheduler sees when a task returns PENDING with the lock held. The
 * thread stress case is in suite 'tsan' too.
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

/* ---------------------------------------------------------------- basics */

static void test_blocking_mutex_lock_try_lock_and_unlock(void **state)
{
    (void)state;
    weft_blocking_mutex m;
    weft_blocking_mutex_init(&m, "cache");
    assert_string_equal(m.res.name, "cache");
    assert_int_equal(m.res.kind, WEFT_RESOURCE_BLOCKING_MUTEX);
    int before = weft__blocking_mutex_held_by_current_thread();

    assert_int_equal(weft_blocking_mutex_lock(&m), 0);
    assert_true(weft_blocking_mutex_is_locked(&m));
    assert_int_equal(weft_blocking_mutex_holder(&m), 0); /* outside any task */
    assert_int_equal(weft__blocking_mutex_held_by_current_thread(), before + 1);
    /* try_lock never blocks, even from the holding thread. */
    assert_int_equal(weft_blocking_mutex_try_lock(&m), WEFT_EBUSY);
    assert_int_equal(weft_blocking_mutex_destroy(&m), WEFT_EBUSY);

    assert_int_equal(weft_blocking_mutex_unlock(&m), 0);
    assert_false(weft_blocking_mutex_is_locked(&m));
    assert_int_equal(weft__blocking_mutex_held_by_current_thread(), before);
    assert_int_equal(weft_blocking_mutex_unlock(&m), WEFT_EINVAL); /* not locked */
    assert_int_equal(weft__blocking_mutex_held_by_current_thread(), before);

    assert_int_equal(weft_blocking_mutex_try_lock(&m), 0);
    assert_int_equal(weft__blocking_mutex_held_by_current_thread(), before + 1);
    assert_int_equal(weft_blocking_mutex_unlock(&m), 0);
    assert_int_equal(weft_blocking_mutex_destroy(&m), 0);

    assert_int_equal(weft_blocking_mutex_lock(NULL), WEFT_EINVAL);
    assert_int_equal(weft_blocking_mutex_try_lock(NULL), WEFT_EINVAL);
    assert_int_equal(weft_blocking_mutex_unlock(NULL), WEFT_EINVAL);
    assert_int_equal(weft_blocking_mutex_destroy(NULL), WEFT_EINVAL);
    assert_false(weft_blocking_mutex_is_locked(NULL));
}

/* ---------------------------------------------------------------- threads */

typedef struct unlock_arg {
    weft_blocking_mutex *m;
    int rc;
    int held_here_before, held_here_after;
} unlock_arg;

static void *unlock_thread(void *p)
{
    unlock_arg *a = p;
    a->held_here_before = weft__blocking_mutex_held_by_current_thread();
    a->rc = weft_blocking_mutex_unlock(a->m);
    a->held_here_after = weft__blocking_mutex_held_by_current_thread();
    return NULL;
}

/* A hold is charged to the thread that locked, and paid back by the unlock wherever it runs:
 * what happens when a task locks on one worker and is resumed on another. */
static void test_blocking_mutex_hold_is_charged_to_the_locking_thread(void **state)
{
    (void)state;
    weft_blocking_mutex m;
    weft_blocking_mutex_init(&m, NULL);
    int before = weft__blocking_mutex_held_by_current_thread();
    assert_int_equal(weft_blocking_mutex_lock(&m), 0);
    assert_int_equal(weft__blocking_mutex_held_by_current_thread(), before + 1);

    unlock_arg a = {.m = &m};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, unlock_thread, &a), 0);
    pthread_join(th, NULL);
    assert_int_equal(a.rc, 0);
    assert_int_equal(a.held_here_before, 0);
    assert_int_equal(a.held_here_after, 0);
    assert_int_equal(weft__blocking_mutex_held_by_current_thread(), before);
    assert_false(weft_blocking_mutex_is_locked(&m));
    assert_int_equal(weft_blocking_mutex_destroy(&m), 0);
}

static void *lock_and_exit_thread(void *p)
{
    weft_blocking_mutex *m = p;
    weft_blocking_mutex_lock(m);
    return NULL; /* exits holding it */
}

static void *lock_unlock_thread(void *p)
{
    weft_blocking_mutex *m = p;
    weft_blocking_mutex_lock(m);
    int held = weft__blocking_mutex_held_by_current_thread();
    weft_blocking_mutex_unlock(m);
    return (void *)(intptr_t)held;
}

/* A thread that exits holding the mutex leaves it locked (as with std); another thread can
 * still unlock it, paying back the exited thread's counter without touching freed memory
 * (ASan watches). Hundreds of short-lived threads later - more than there are counter slots -
 * each new thread still counts its own hold. */
static void test_blocking_mutex_survives_a_thread_exiting_while_holding(void **state)
{
    (void)state;
    weft_blocking_mutex m;
    weft_blocking_mutex_init(&m, NULL);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, lock_and_exit_thread, &m), 0);
    pthread_join(th, NULL);
    assert_true(weft_blocking_mutex_is_locked(&m));
    assert_int_equal(weft__blocking_mutex_held_by_current_thread(), 0);
    assert_int_equal(weft_blocking_mutex_unlock(&m), 0);

    for (int i = 0; i < 600; i++) {
        void *held = NULL;
        assert_int_equal(pthread_create(&th, NULL, lock_unlock_thread, &m), 0);
        pthread_join(th, &held);
        assert_int_equal((intptr_t)held, 1);
    }
    assert_int_equal(weft_blocking_mutex_destroy(&m), 0);
}

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define THREAD_INCREMENTS 5000
#else
#define THREAD_INCREMENTS 100000
#endif
enum { THREADS = 4 };

typedef struct count_arg {
    weft_blocking_mutex *m;
    long *counter; /* guarded by m */
} count_arg;

static void *count_thread(void *p)
{
    count_arg *a = p;
    for (int i = 0; i < THREAD_INCREMENTS; i++) {
        weft_blocking_mutex_lock(a->m);
        (*a->counter)++;
        weft_blocking_mutex_unlock(a->m);
    }
    return NULL;
}

static void test_blocking_mutex_excludes_threads(void **state)
{
    (void)state;
    weft_blocking_mutex m;
    weft_blocking_mutex_init(&m, NULL);
    long counter = 0;
    count_arg a = {&m, &counter};
    pthread_t th[THREADS];
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, count_thread, &a), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    assert_int_equal(counter, (long)THREADS * THREAD_INCREMENTS);
    assert_int_equal(weft_blocking_mutex_destroy(&m), 0);
}

/* ---------------------------------------------------------------- tasks */

/* Locks the blocking mutex, then awaits with it held - the bug this type exists to show -
 * until the root lets it go. */
typedef struct careless {
    weft_async co;
    weft_blocking_mutex *m;
    _Atomic bool *locked, *may_release;
    weft_yield_now y;
} careless;

static weft_poll careless_poll(weft_future *f, weft_context *cx)
{
    careless *c = (careless *)f;
    WEFT_ASYNC_BEGIN(&c->co);
    weft_blocking_mutex_lock(c->m);
    weft_task_return(cx, (intptr_t)weft_blocking_mutex_holder(c->m));
    atomic_store(c->locked, true);
    while (!atomic_load(c->may_release)) {
        weft_yield_now_init(&c->y);
        WEFT_AWAIT(&c->co, cx, &c->y); /* PENDING with the lock held */
    }
    weft_blocking_mutex_unlock(c->m);
    WEFT_ASYNC_END(&c->co);
}

static const weft_future_vtable careless_vt = {careless_poll, weft_async_drop, "careless"};

typedef struct careless_case {
    weft_async co;
    weft_blocking_mutex *m;
    _Atomic bool locked, may_release;
    weft_join_handle h;
    weft_yield_now y;
    int held_while_suspended;
    weft_task_id holder_while_suspended;
    int held_after;
} careless_case;

static weft_poll careless_case_poll(weft_future *f, weft_context *cx)
{
    careless_case *c = (careless_case *)f;
    WEFT_ASYNC_BEGIN(&c->co);
    {
        careless t = {.m = c->m, .locked = &c->locked, .may_release = &c->may_release};
        weft_async_init(&t.co, &careless_vt);
        c->h = weft_spawn(&t);
    }
    while (!atomic_load(&c->locked)) {
        weft_yield_now_init(&c->y);
        WEFT_AWAIT(&c->co, cx, &c->y);
    }
    /* The same thread, between polls of the suspended task: the thread still counts the
     * hold, which is what the runtime's lint sees right after a poll returned PENDING. */
    c->held_while_suspended = weft__blocking_mutex_held_by_current_thread();
    c->holder_while_suspended = weft_blocking_mutex_holder(c->m);
    atomic_store(&c->may_release, true);
    WEFT_AWAIT(&c->co, cx, &c->h);
    c->held_after = weft__blocking_mutex_held_by_current_thread();
    WEFT_ASYNC_END(&c->co);
}

static const weft_future_vtable careless_case_vt = {careless_case_poll, weft_async_drop, "cc"};

static void test_blocking_mutex_held_across_an_await_is_visible_ct(void **state)
{
    (void)state;
    weft_blocking_mutex m;
    weft_blocking_mutex_init(&m, "held_across_await");
    weft_runtime *rt = new_rt(WEFT_CURRENT_THREAD);
    careless_case c = {.m = &m};
    weft_async_init(&c.co, &careless_case_vt);
    assert_int_equal(weft_block_on(rt, &c.co.base), 0);
    weft_runtime_shutdown(rt);
    assert_int_equal(c.h.status, 0);
    assert_int_equal(c.held_while_suspended, 1);
    assert_int_equal(c.holder_while_suspended, c.h.id); /* the holder is the task */
    assert_int_equal((weft_task_id)c.h.value, c.h.id);
    assert_int_equal(c.held_after, 0);
    assert_false(weft_blocking_mutex_is_locked(&m));
    assert_int_equal(weft_blocking_mutex_holder(&m), 0);
    assert_int_equal(weft_blocking_mutex_destroy(&m), 0);
}

/* Tasks on the multi-thread runtime that lock it briefly (never across an await): it works as
 * a plain lock, the holder is each locking task, and every worker's count ends at zero. */
enum { MT_TASKS = 6 };
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define MT_ROUNDS 1000
#else
#define MT_ROUNDS 20000
#endif

typedef struct brief_shared {
    weft_blocking_mutex m;
    long counter;           /* guarded by m */
    _Atomic int wrong_holder;
    _Atomic int held_at_await; /* polls that reached an await with a hold on their thread */
} brief_shared;

typedef struct brief_task {
    weft_async co;
    brief_shared *sh;
    int i;
    weft_yield_now y;
} brief_task;

static weft_poll brief_task_poll(weft_future *f, weft_context *cx)
{
    brief_task *t = (brief_task *)f;
    WEFT_ASYNC_BEGIN(&t->co);
    for (t->i = 0; t->i < MT_ROUNDS; t->i++) {
        weft_blocking_mutex_lock(&t->sh->m);
        if (weft_blocking_mutex_holder(&t->sh->m) != weft_task_id_current())
            atomic_fetch_add(&t->sh->wrong_holder, 1);
        t->sh->counter++;
        weft_blocking_mutex_unlock(&t->sh->m);
        if (t->i % 64 == 0) {
            if (weft__blocking_mutex_held_by_current_thread() != 0)
                atomic_fetch_add(&t->sh->held_at_await, 1);
            weft_yield_now_init(&t->y);
            WEFT_AWAIT(&t->co, cx, &t->y);
        }
    }
    WEFT_ASYNC_END(&t->co);
}

static const weft_future_vtable brief_task_vt = {brief_task_poll, weft_async_drop, "brief"};

typedef struct brief_case {
    weft_async co;
    brief_shared *sh;
    int i;
    weft_join_handle h[MT_TASKS];
} brief_case;

static weft_poll brief_case_poll(weft_future *f, weft_context *cx)
{
    brief_case *c = (brief_case *)f;
    WEFT_ASYNC_BEGIN(&c->co);
    for (c->i = 0; c->i < MT_TASKS; c->i++) {
        brief_task t = {.sh = c->sh};
        weft_async_init(&t.co, &brief_task_vt);
        c->h[c->i] = weft_spawn(&t);
    }
    for (c->i = 0; c->i < MT_TASKS; c->i++)
        WEFT_AWAIT(&c->co, cx, &c->h[c->i]);
    WEFT_ASYNC_END(&c->co);
}

static const weft_future_vtable brief_case_vt = {brief_case_poll, weft_async_drop, "bcase"};

static void test_blocking_mutex_brief_holds_in_tasks_mt(void **state)
{
    (void)state;
    brief_shared *sh = calloc(1, sizeof *sh);
    weft_blocking_mutex_init(&sh->m, NULL);
    weft_runtime *rt = new_rt(WEFT_MULTI_THREAD);
    brief_case c = {.sh = sh};
    weft_async_init(&c.co, &brief_case_vt);
    assert_int_equal(weft_block_on(rt, &c.co.base), 0);
    weft_runtime_shutdown(rt);
    assert_int_equal(sh->counter, (long)MT_TASKS * MT_ROUNDS);
    assert_int_equal(atomic_load(&sh->wrong_holder), 0);
    assert_int_equal(atomic_load(&sh->held_at_await), 0);
    assert_int_equal(weft_blocking_mutex_destroy(&sh->m), 0);
    free(sh);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_blocking_mutex_lock_try_lock_and_unlock),
        cmocka_unit_test(test_blocking_mutex_hold_is_charged_to_the_locking_thread),
        cmocka_unit_test(test_blocking_mutex_survives_a_thread_exiting_while_holding),
        cmocka_unit_test(test_blocking_mutex_excludes_threads),
        cmocka_unit_test(test_blocking_mutex_held_across_an_await_is_visible_ct),
        cmocka_unit_test(test_blocking_mutex_brief_holds_in_tasks_mt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
