/* tests/lttng/traced_program.c - a weft program whose events can be counted exactly.
 *
 * Run by test_lttng.sh inside an LTTng session. On a current-thread runtime, the root future
 * (inside block_on, which is not a task) spawns TASKS tasks and joins them. Each task awaits
 * yield_now YIELDS times, then takes and releases its own mutex LOCKS times without awaiting
 * while it holds it, and finishes. So, whatever the timing:
 *
 *   task_spawn       TASKS                 (the root future is not a task)
 *   task_poll_begin  TASKS * (YIELDS + 1)  (one poll per yield, one more to finish)
 *   task_poll_end    the same
 *   task_wake        TASKS * YIELDS        (each yield wakes its own task by reference; the
 *                                           join wakers are block_on's, which are not tasks)
 *   task_complete    TASKS
 *   resource_create  TASKS                 (one mutex per task, made before the runtime runs)
 *   lock_acquire     TASKS * LOCKS         (a task's own mutex is never contended, so each
 *   lock_release     the same               lock is READY at once: no wait, no extra poll)
 *   task_wait        0
 *   runtime_start, runtime_stop  1 each
 *
 * It prints one "expect EVENT COUNT" line per event on stdout, computed from the constants
 * above, and exits 0 only if every join reported success.
 */
#include <stdio.h>
#include <stdlib.h>

#include <weft/mutex.h>
#include <weft/weft.h>

#define TASKS 7
#define YIELDS 5
#define LOCKS 3

/* One mutex per task, so that no lock is ever contended (a contended one would add waits,
 * wakes and polls that depend on timing). */
static weft_mutex mutexes[TASKS];

typedef struct worker {
    weft_async co;
    int id;
    int i;
    weft_yield_now y;
    weft_mutex_lock lk;
} worker;

static weft_poll worker_poll(weft_future *f, weft_context *cx)
{
    worker *w = (worker *)f;
    WEFT_ASYNC_BEGIN(&w->co);
    for (w->i = 0; w->i < YIELDS; w->i++) {
        weft_yield_now_init(&w->y);
        WEFT_AWAIT(&w->co, cx, &w->y);
    }
    /* Uncontended: each lock is READY at its first poll, so these add no poll. */
    for (w->i = 0; w->i < LOCKS; w->i++) {
        weft_mutex_lock_init(&w->lk, &mutexes[w->id]);
        WEFT_AWAIT(&w->co, cx, &w->lk);
        weft_mutex_guard_release(&w->lk.guard);
    }
    WEFT_ASYNC_END(&w->co);
}

static const weft_future_vtable worker_vt = {worker_poll, weft_async_drop, "traced_worker"};

typedef struct root {
    weft_async co;
    int i;
    int failures;
    weft_join_handle hs[TASKS];
} root;

static weft_poll root_poll(weft_future *f, weft_context *cx)
{
    root *r = (root *)f;
    WEFT_ASYNC_BEGIN(&r->co);
    for (r->i = 0; r->i < TASKS; r->i++) {
        worker w = {0};
        weft_async_init(&w.co, &worker_vt);
        w.id = r->i;
        r->hs[r->i] = weft_spawn_named("traced_worker", &w);
    }
    for (r->i = 0; r->i < TASKS; r->i++) {
        WEFT_AWAIT(&r->co, cx, &r->hs[r->i]);
        if (r->hs[r->i].status != 0)
            r->failures++;
    }
    WEFT_ASYNC_END(&r->co);
}

static const weft_future_vtable root_vt = {root_poll, weft_async_drop, "traced_root"};

int main(void)
{
    weft_builder b = weft_builder_new_current_thread();
    weft_runtime *rt;
    int err = weft_runtime_new(&b, &rt);
    if (err) {
        fprintf(stderr, "traced_program: runtime: %s\n", weft_strerror(err));
        return 1;
    }
    for (int i = 0; i < TASKS; i++)
        weft_mutex_init(&mutexes[i], "traced_mutex");
    root r = {0};
    weft_async_init(&r.co, &root_vt);
    err = weft_block_on(rt, &r.co.base);
    weft_runtime_shutdown(rt);
    for (int i = 0; i < TASKS; i++)
        weft_mutex_destroy(&mutexes[i]);
    if (err || r.failures) {
        fprintf(stderr, "traced_program: block_on %s, %d failed joins\n", weft_strerror(err),
                r.failures);
        return 1;
    }

    printf("expect runtime_start 1\n");
    printf("expect runtime_stop 1\n");
    printf("expect task_spawn %d\n", TASKS);
    printf("expect task_poll_begin %d\n", TASKS * (YIELDS + 1));
    printf("expect task_poll_end %d\n", TASKS * (YIELDS + 1));
    printf("expect task_wake %d\n", TASKS * YIELDS);
    printf("expect task_complete %d\n", TASKS);
    printf("expect resource_create %d\n", TASKS);
    printf("expect lock_acquire %d\n", TASKS * LOCKS);
    printf("expect lock_release %d\n", TASKS * LOCKS);
    printf("expect task_wait 0\n");
    return 0;
}
