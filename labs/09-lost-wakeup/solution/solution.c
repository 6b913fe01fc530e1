/* Lab 09 - The lost wakeup: the reference solution.
 *
 * The fix: next_job looked at the queue (CHECK) before its waker was anywhere the producer
 * could find it, then waited for the lock to register. While it waited, the producer (which
 * held the lock to write its journal) queued a job and woke... nobody. next_job then
 * registered and returned PENDING for a job that was already there: PENDING without anything
 * left that would wake it for that job. Now REGISTER looks at the queue again after leaving
 * its waker, under the same lock the producer queues under: a job queued before that look is
 * taken at once, and one queued after it finds the waker.
 * (Everything below the line is starter.c with that change.)
 * ------------------------------------------------------------------------------------------
 *
 * A job queue feeds one worker. The producer writes each job to a journal before it enqueues
 * it (write-ahead: a job that is in the queue is always in the journal too), and it holds the
 * queue's async mutex while it does, so that journal order and queue order agree.
 *
 * The worker waits for jobs with `next_job`, a future written by hand to have a fast path:
 * it reads the queue's length without any lock, and takes a job at once if there is one. Only
 * when the queue is empty does it take the lock, to leave its waker where the producer will
 * find it. Run it: `weft lab run 09`, then `weft lab check 09`.
 *
 * Your job: every job is handled, and the worker never sits idle while a job waits for it
 * (beyond the moment it takes to get the queue's lock), in every schedule. The contract of
 * PENDING is in weft/future.h: read it.
 */
#include <stdatomic.h>
#include <string.h>

#include <lab.h>

#define JOBS 24
/* How long a job may wait while the worker is idle: the lock may be busy with the producer's
 * journal write for up to JOURNAL_MAX_MS, and no longer. */
#define JOURNAL_MAX_MS 5
#define IDLE_LIMIT weft_ms(JOURNAL_MAX_MS + 1)

/* ---------------------------------------------------------------- the queue */

typedef struct job_queue {
    weft_mutex lock;          /* guards jobs[], head and waiter; held while journaling */
    int jobs[JOBS];
    int head;                 /* [lock] next job to take */
    _Atomic int len;          /* jobs queued: written under the lock, read without it */
    weft_waker waiter;        /* [lock] the worker's waker while it waits for a job */
    weft_duration queued_at[JOBS]; /* when each job entered the queue */
} job_queue;

static job_queue q;

/* Take the next job; the caller holds the lock and saw len > 0. */
static int take_job(void)
{
    int job = q.jobs[q.head++];
    atomic_fetch_sub(&q.len, 1);
    return job;
}

/* ---------------------------------------------------------------- next_job, by hand
 *
 *   CHECK ──len > 0──▶ TAKE: lock, take a job ──▶ READY
 *     │
 *     └──empty──▶ REGISTER: lock, leave our waker ──▶ PENDING (woken: back to CHECK)
 */
enum { CHECK, TAKE, REGISTER };

typedef struct next_job {
    weft_future base;
    int state;
    weft_mutex_lock lk;
    bool locking;             /* lk is in flight (the drop must cancel it) */
    int job;                  /* result */
} next_job;

static weft_poll next_job_poll(weft_future *f, weft_context *cx)
{
    next_job *n = (next_job *)f;
    for (;;) {
        switch (n->state) {
        case CHECK:
            /* Fast path: no lock just to look. */
            n->state = atomic_load(&q.len) > 0 ? TAKE : REGISTER;
            weft_mutex_lock_init(&n->lk, &q.lock);
            n->locking = true;
            break;
        case TAKE:
            if (weft_future_poll(&n->lk.base, cx) == WEFT_PENDING)
                return WEFT_PENDING;
            n->locking = false;
            n->job = take_job();
            weft_mutex_guard_release(&n->lk.guard);
            n->state = CHECK;
            return WEFT_READY;
        case REGISTER:
            if (weft_future_poll(&n->lk.base, cx) == WEFT_PENDING)
                return WEFT_PENDING;
            n->locking = false;
            /* Register first, then look again, both under the lock: a job queued between
             * CHECK's look and this registration woke nobody, and must be taken now. */
            weft_waker_register(&q.waiter, cx);
            if (atomic_load(&q.len) > 0) {
                n->job = take_job();
                weft_mutex_guard_release(&n->lk.guard);
                n->state = CHECK;
                return WEFT_READY;
            }
            weft_mutex_guard_release(&n->lk.guard);
            n->state = CHECK;
            return WEFT_PENDING;
        }
    }
}

static void next_job_drop(weft_future *f)
{
    next_job *n = (next_job *)f;
    if (n->locking)
        weft_future_drop(&n->lk.base);
    n->locking = false;
}

static const weft_future_vtable next_job_vt = {next_job_poll, next_job_drop, "next_job"};

static void next_job_init(next_job *n)
{
    memset(n, 0, sizeof *n);
    n->base.vt = &next_job_vt;
    n->state = CHECK;
}

/* ---------------------------------------------------------------- the worker */

typedef struct worker {
    weft_async co;
    int done;
    weft_duration idle_since; /* when the worker started waiting for this job */
    next_job next;
    weft_sleep work;
} worker;

static weft_poll worker_poll(weft_future *f, weft_context *cx)
{
    worker *w = (worker *)f;
    WEFT_ASYNC_BEGIN(&w->co);
    for (w->done = 0; w->done < JOBS; w->done++) {
        w->idle_since = lab_now();
        next_job_init(&w->next);
        WEFT_AWAIT(&w->co, cx, &w->next);
        lab_count("handled", 1);
        {
            /* How long the job and the idle worker waited for each other to meet. */
            weft_duration from = q.queued_at[w->next.job];
            if (w->idle_since > from)
                from = w->idle_since;
            if (lab_now() - from > IDLE_LIMIT) {
                lab_count("idle-with-work", 1);
                lab_say("job %d waited %llu ms while the worker was idle", w->next.job,
                        (unsigned long long)((lab_now() - from) / 1000000u));
            }
        }
        weft_sleep_init(&w->work, weft_ms(1 + weft_rand_below(10))); /* handle the job */
        WEFT_AWAIT(&w->co, cx, &w->work);
    }
    WEFT_ASYNC_END(&w->co);
}

static const weft_future_vtable worker_vt = {worker_poll, weft_async_drop, "worker"};

/* ---------------------------------------------------------------- the producer */

typedef struct producer {
    weft_async co;
    int i;
    weft_sleep wait;
    weft_mutex_lock lk;
    bool holds;
} producer;

static weft_poll producer_poll(weft_future *f, weft_context *cx)
{
    producer *p = (producer *)f;
    WEFT_ASYNC_BEGIN(&p->co);
    for (p->i = 0; p->i < JOBS; p->i++) {
        weft_sleep_init(&p->wait, weft_ms(5 + weft_rand_below(20))); /* the next job comes */
        WEFT_AWAIT(&p->co, cx, &p->wait);
        weft_mutex_lock_init(&p->lk, &q.lock);
        WEFT_AWAIT(&p->co, cx, &p->lk);
        p->holds = true;
        weft_sleep_init(&p->wait, weft_ms(2 + weft_rand_below(JOURNAL_MAX_MS - 1))); /* journal */
        WEFT_AWAIT(&p->co, cx, &p->wait);
        q.jobs[p->i] = p->i;
        q.queued_at[p->i] = lab_now();
        atomic_fetch_add(&q.len, 1);
        weft_waker_wake(&q.waiter); /* the worker, if it waits */
        weft_mutex_guard_release(&p->lk.guard);
        p->holds = false;
    }
    WEFT_ASYNC_END(&p->co);
}

static void producer_drop(weft_future *f)
{
    producer *p = (producer *)f;
    weft_async_drop(f);
    if (p->holds)
        weft_mutex_guard_release(&p->lk.guard);
    p->holds = false;
}

static const weft_future_vtable producer_vt = {producer_poll, producer_drop, "producer"};

/* The verdict, judged inside the runtime once both tasks are done. */
static void judge(void)
{
    lab_check("all-handled", lab_counter("handled") == JOBS, "%lld of %d jobs handled",
              (long long)lab_counter("handled"), JOBS);
    lab_check("no-idle-wait", lab_counter("idle-with-work") == 0,
              "%lld jobs waited more than %llu ms for an idle worker",
              (long long)lab_counter("idle-with-work"), (unsigned long long)(IDLE_LIMIT / 1000000u));
}

/* ---------------------------------------------------------------- main */

typedef struct app {
    weft_async co;
    weft_join_handle h[2];
} app;

static weft_poll app_poll(weft_future *f, weft_context *cx)
{
    app *a = (app *)f;
    WEFT_ASYNC_BEGIN(&a->co);
    WEFT_AWAIT(&a->co, cx, &a->h[0]);
    WEFT_AWAIT(&a->co, cx, &a->h[1]);
    judge();
    WEFT_ASYNC_END(&a->co);
}

static void app_drop(weft_future *f)
{
    app *a = (app *)f;
    weft_async_drop(f);
    weft_join_handle_abort(&a->h[0]);
    weft_join_handle_abort(&a->h[1]);
    weft_join_handle_detach(&a->h[0]);
    weft_join_handle_detach(&a->h[1]);
}

static const weft_future_vtable app_vt = {app_poll, app_drop, "main"};

static int run(void *arg)
{
    (void)arg;
    lab_begin();
    memset(&q, 0, sizeof q);
    weft_mutex_init(&q.lock, "job_queue");

    weft_builder b = weft_builder_new_multi_thread();
    weft_runtime *rt;
    if (weft_runtime_new(&b, &rt) != 0)
        return 1;
    producer p = {0};
    weft_async_init(&p.co, &producer_vt);
    worker w = {0};
    weft_async_init(&w.co, &worker_vt);
    app a;
    weft_async_init(&a.co, &app_vt);
    a.h[0] = weft_runtime_spawn_named(rt, "producer", &p);
    a.h[1] = weft_runtime_spawn_named(rt, "worker", &w);
    if (weft_block_on(rt, &a.co.base) != 0)
        weft_future_drop(&a.co.base);
    weft_runtime_shutdown(rt);
    weft_waker_drop(&q.waiter);
    weft_mutex_destroy(&q.lock);

    return 0;
}

int main(int argc, char **argv)
{
    return lab_main(argc, argv, run);
}
