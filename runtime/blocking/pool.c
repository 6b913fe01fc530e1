/* runtime/blocking/pool.c - the blocking pool: the threads that run spawn_blocking's functions.
 *
 * A blocking function may sleep, read a file or spin for seconds; run on a worker it would stall
 * every task queued behind it. So blocking tasks go to a separate scheduler, this pool, whose
 * threads do nothing but pop a task and run it to completion (weft__task_run polls the blocking
 * future once; see blocking_task.c). The pool is a weft__sched like the others, so blocking
 * tasks have the same state word, join handle and owned-list entry as async ones.
 *
 * Sizing, as in Tokio: the pool starts empty; schedule() hands a task to an idle thread if there
 * is one and otherwise starts a thread, up to max_blocking_threads. Beyond that, tasks wait in
 * the queue. A thread that finds no work for thread_keep_alive_ms retires.
 *
 * Invariants (all under `lock`):
 *   - idle counts the threads blocked on work_cv that no wake-up has been aimed at yet.
 *     schedule() moves one of them to `wakeups` (idle--, wakeups++) and signals; whichever
 *     idle thread wakes first takes the wake-up. A thread whose keep-alive ran out retires only
 *     if no wake-up is waiting, so a queued task is never left with no thread to run it.
 *   - every thread started and not yet exited is on `live`; an exited thread is either joined
 *     or is `last_exited`. Each exiting thread joins the previous `last_exited`, so at most one
 *     exited thread is ever unjoined, and shutdown joins that one: after a clean shutdown no
 *     pool thread runs, which matters because the runtime is freed next.
 *   - after shutdown began, the queue stays empty: shutdown drains it, and schedule() cancels
 *     instead of queueing.
 *
 * Shutdown cancels what is queued (join reports WEFT_ECANCELLED) and waits for what runs. A
 * blocking function cannot be interrupted, so if one is still running at the deadline the pool
 * gives up on it: its thread is detached and the pool is *abandoned*, i.e. left allocated on
 * purpose because that thread still uses it. runtime.c then leaves the runtime allocated too
 * (the thread's task still refers to it). If weft__blocking_pool_free is called on an abandoned
 * pool, the last abandoned thread frees the pool when it leaves; otherwise it is leaked.
 *
 * Callers: runtime.c (new, shutdown, free), blocking_task.c (schedule through the sched ops),
 * the tests and, later, the console (weft__blocking_pool_stats).
 */
#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "blocking_int.h"

typedef struct pool_thread {
    struct pool_thread *next, *prev; /* links in pool->live; guarded by the pool lock */
    weft__blocking_pool *pool;       /* fixed */
    pthread_t th;                    /* written by pthread_create while the pool lock is held,
                                        so the thread only reads it after it is set */
} pool_thread;

struct weft__blocking_pool {
    weft__sched sched;       /* must be first: a blocking task's `sched` points here. Fixed. */
    unsigned max_threads;    /* fixed: cfg.max_blocking_threads (>= 1, checked by runtime.c) */
    uint64_t keep_alive_ns;  /* fixed: cfg.thread_keep_alive_ms in ns */

    pthread_mutex_t lock;    /* guards every field below */
    pthread_cond_t work_cv;  /* idle threads wait here for a wake-up, keep-alive or shutdown */
    pthread_cond_t exit_cv;  /* shutdown waits here for `threads` to reach 0 */
    weft_task *head, *tail;  /* FIFO of queued tasks, linked through queue_next; each entry
                                holds the task's notified reference */
    size_t queued;           /* length of that FIFO */
    unsigned threads;        /* started and not yet exited */
    unsigned idle;           /* waiting on work_cv, not claimed by a wake-up */
    unsigned wakeups;        /* signals sent to idle threads and not yet taken by one */
    pool_thread *live;       /* every thread that has not exited */
    pthread_t last_exited;   /* the one exited thread nobody has joined yet, if have_last */
    bool have_last;
    bool shutdown;           /* shutdown began: no more queueing */
    bool abandoned;          /* shutdown timed out: live threads are detached, pool leaked */
    bool released;           /* free() was called on the abandoned pool: last thread frees */
    uint64_t spawned;        /* statistics: threads started */
    uint64_t retired;        /* statistics: threads that left after keep_alive */
};

/* ---------------------------------------------------------------- time
 *
 * The condition variables run on CLOCK_MONOTONIC. Deadlines handed to us are on the runtime's
 * real clock; we convert through "time left" rather than assuming both clocks share an epoch. */

static void timespec_after(uint64_t rel_ns, struct timespec *ts)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    uint64_t nsec = (uint64_t)ts->tv_nsec + rel_ns % 1000000000u;
    ts->tv_sec += (time_t)(rel_ns / 1000000000u + nsec / 1000000000u);
    ts->tv_nsec = (long)(nsec % 1000000000u);
}

/* A relative timeout this long is "forever" (and would overflow time_t arithmetic). */
#define FOREVER_NS ((uint64_t)1 << 62)

/* ---------------------------------------------------------------- cancelling queued work */

/* Cancel a task that sits in no queue any more and whose notified reference we hold: abort
 * marks it CANCELLED (it is NOTIFIED, so abort queues nothing), and running it then drops the
 * future without polling it and completes it with WEFT_ECANCELLED. If shutdown of the owned list
 * got there first the task is already complete and running it only drops the reference. Called
 * without the pool lock: completing wakes the join handle's waker. */
static void cancel_queued(weft_task *t)
{
    weft__task_abort(t);
    weft__task_run(t);
}

/* ---------------------------------------------------------------- the threads */

static void unlink_thread(weft__blocking_pool *p, pool_thread *pt)
{
    if (pt->prev)
        pt->prev->next = pt->next;
    else
        p->live = pt->next;
    if (pt->next)
        pt->next->prev = pt->prev;
}

static weft_task *pop_locked(weft__blocking_pool *p)
{
    weft_task *t = p->head;
    if (t) {
        p->head = t->queue_next;
        if (!p->head)
            p->tail = NULL;
        t->queue_next = NULL;
        p->queued--;
    }
    return t;
}

static void pool_destroy(weft__blocking_pool *p)
{
    pthread_cond_destroy(&p->exit_cv);
    pthread_cond_destroy(&p->work_cv);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

/* Leave the pool. Called with the lock held; returns with it released. After this the thread
 * touches nothing of the pool: shutdown may free it as soon as it has joined us. */
static void thread_exit_locked(weft__blocking_pool *p, pool_thread *pt)
{
    unlink_thread(p, pt);
    p->threads--;
    if (p->abandoned) {
        /* Detached by shutdown; nobody joins us. The last one out frees a released pool. */
        bool free_pool = p->threads == 0 && p->released;
        pthread_mutex_unlock(&p->lock);
        free(pt);
        if (free_pool)
            pool_destroy(p);
        return;
    }
    bool join_prev = p->have_last;
    pthread_t prev = p->last_exited;
    p->last_exited = pt->th;
    p->have_last = true;
    if (p->threads == 0)
        pthread_cond_broadcast(&p->exit_cv);
    pthread_mutex_unlock(&p->lock);
    free(pt);
    /* The previous leaver has unlocked and is at most running its on_thread_stop hook. */
    if (join_prev)
        pthread_join(prev, NULL);
}

static void *pool_thread_main(void *arg)
{
    pool_thread *pt = arg;
    weft__blocking_pool *p = pt->pool;

    /* Blocking functions run "inside" the runtime, as in Tokio: they may spawn onto it. They
     * are not polled by a scheduler, so no coop budget applies. */
    weft__tls.rt = p->sched.rt;
    weft__tls.sched_local = NULL;
    weft__tls.task = NULL;
    weft__tls.budget = -1;
    WEFT_HOOK(thread_enter, p->sched.rt, WEFT_THREAD_BLOCKING, 0);

    pthread_mutex_lock(&p->lock);
    for (;;) {
        weft_task *t = pop_locked(p);
        if (t) {
            pthread_mutex_unlock(&p->lock);
            weft__task_run(t);
            pthread_mutex_lock(&p->lock);
            continue;
        }
        if (p->shutdown)
            break;

        /* Nothing to do: wait for a wake-up, at most keep_alive. */
        p->idle++;
        bool forever = p->keep_alive_ns >= FOREVER_NS;
        struct timespec until;
        if (!forever)
            timespec_after(p->keep_alive_ns, &until);
        bool retire = false;
        for (;;) {
            int rc = forever ? pthread_cond_wait(&p->work_cv, &p->lock)
                             : pthread_cond_timedwait(&p->work_cv, &p->lock, &until);
            if (p->wakeups > 0) {
                /* schedule() already took us off `idle` when it sent this. */
                p->wakeups--;
                break;
            }
            if (p->shutdown) {
                p->idle--;
                break;
            }
            if (rc == ETIMEDOUT) {
                p->idle--;
                retire = true;
                break;
            }
            /* Spurious: wait again until the same deadline. */
        }
        if (retire) {
            p->retired++;
            break;
        }
    }
    thread_exit_locked(p, pt);
    weft__tls.rt = NULL;
    return NULL;
}

/* Start one thread. Lock held. */
static int spawn_thread_locked(weft__blocking_pool *p)
{
    pool_thread *pt = malloc(sizeof *pt);
    if (!pt)
        return WEFT_ENOMEM;
    pt->pool = p;
    int err = weft__thread_spawn(p->sched.rt, &pt->th, pool_thread_main, pt, "-blocking");
    if (err) {
        free(pt);
        return err;
    }
    pt->prev = NULL;
    pt->next = p->live;
    if (p->live)
        p->live->prev = pt;
    p->live = pt;
    p->threads++;
    p->spawned++;
    return 0;
}

/* ---------------------------------------------------------------- scheduler ops */

static void pool_schedule(weft__sched *s, weft_task *t, bool is_yield)
{
    (void)is_yield; /* a blocking task is polled once; there is no "back of the queue" */
    weft__blocking_pool *p = (weft__blocking_pool *)s;

    pthread_mutex_lock(&p->lock);
    if (p->shutdown) {
        pthread_mutex_unlock(&p->lock);
        cancel_queued(t);
        return;
    }
    t->queue_next = NULL;
    if (p->tail)
        p->tail->queue_next = t;
    else
        p->head = t;
    p->tail = t;
    p->queued++;

    if (p->idle > 0) {
        p->idle--;
        p->wakeups++;
        pthread_cond_signal(&p->work_cv);
    } else if (p->threads < p->max_threads) {
        if (spawn_thread_locked(p) != 0 && p->threads == 0) {
            /* No thread could be started and none exists to run the task later: it would wait
             * forever, so cancel it (it is the only task queued, since a non-empty queue with
             * no thread never persists). Its join reports WEFT_ECANCELLED. */
            weft_task *only = pop_locked(p);
            pthread_mutex_unlock(&p->lock);
            cancel_queued(only);
            return;
        }
        /* If a thread failed to start but others exist, they will get to the task. */
    }
    pthread_mutex_unlock(&p->lock);
}

static int pool_block_on(weft__sched *s, weft_future *fut)
{
    (void)s;
    (void)fut;
    return WEFT_ENOSYS; /* the pool runs blocking functions, not block_on */
}

static int pool_shutdown_op(weft__sched *s, uint64_t deadline_ns)
{
    return weft__blocking_pool_shutdown((weft__blocking_pool *)s, deadline_ns);
}

static void pool_free_op(weft__sched *s)
{
    weft__blocking_pool_free((weft__blocking_pool *)s);
}

static const weft__sched_ops pool_ops = {
    .name = "blocking",
    .schedule = pool_schedule,
    .block_on = pool_block_on,
    .shutdown = pool_shutdown_op,
    .free = pool_free_op,
};

/* ---------------------------------------------------------------- life cycle */

int weft__blocking_pool_new(weft_runtime *rt, weft__blocking_pool **out)
{
    weft__blocking_pool *p = calloc(1, sizeof *p);
    if (!p)
        return WEFT_ENOMEM;
    p->sched.ops = &pool_ops;
    p->sched.rt = rt;
    p->max_threads = rt->cfg.max_blocking_threads ? rt->cfg.max_blocking_threads : 1;
    uint64_t ms = rt->cfg.thread_keep_alive_ms;
    p->keep_alive_ns = ms >= FOREVER_NS / 1000000u ? FOREVER_NS : ms * 1000000u;

    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    if (pthread_mutex_init(&p->lock, NULL) != 0)
        goto fail;
    if (pthread_cond_init(&p->work_cv, &ca) != 0)
        goto fail_lock;
    if (pthread_cond_init(&p->exit_cv, &ca) != 0)
        goto fail_work_cv;
    pthread_condattr_destroy(&ca);
    *out = p;
    return 0;

fail_work_cv:
    pthread_cond_destroy(&p->work_cv);
fail_lock:
    pthread_mutex_destroy(&p->lock);
fail:
    pthread_condattr_destroy(&ca);
    free(p);
    return WEFT_ENOMEM;
}

weft__sched *weft__blocking_pool_sched(weft__blocking_pool *p)
{
    /* The deterministic scheduler runs blocking functions itself, on its one thread, and
     * charges their virtual time (replay/det_sched.c). */
    weft_runtime *rt = p->sched.rt;
    return rt->det ? rt->sched : &p->sched;
}

int weft__blocking_pool_shutdown(weft__blocking_pool *p, uint64_t deadline_ns)
{
    pthread_mutex_lock(&p->lock);
    if (p->shutdown && p->abandoned) {
        pthread_mutex_unlock(&p->lock);
        return WEFT_ETIMEDOUT; /* a second call after giving up changes nothing */
    }
    p->shutdown = true;
    weft_task *queued = p->head;
    p->head = p->tail = NULL;
    p->queued = 0;
    pthread_cond_broadcast(&p->work_cv);
    pthread_mutex_unlock(&p->lock);

    /* Queued work never started: cancel it, outside the lock (completion wakes joiners). */
    while (queued) {
        weft_task *t = queued;
        queued = t->queue_next;
        t->queue_next = NULL;
        cancel_queued(t);
    }

    /* Wait for the running functions to return and every thread to leave. */
    pthread_mutex_lock(&p->lock);
    while (p->threads > 0) {
        if (deadline_ns == UINT64_MAX) {
            pthread_cond_wait(&p->exit_cv, &p->lock);
            continue;
        }
        uint64_t now = weft__clock_now(&weft__real_clock);
        if (now >= deadline_ns)
            break;
        uint64_t left = deadline_ns - now;
        struct timespec until;
        timespec_after(left < FOREVER_NS ? left : FOREVER_NS, &until);
        pthread_cond_timedwait(&p->exit_cv, &p->lock, &until);
    }
    bool join_last = p->have_last;
    pthread_t last = p->last_exited;
    p->have_last = false;
    int err = 0;
    if (p->threads > 0) {
        /* Give up on the threads still inside a blocking function: nobody will join them. */
        for (pool_thread *pt = p->live; pt; pt = pt->next)
            pthread_detach(pt->th);
        p->abandoned = true;
        err = WEFT_ETIMEDOUT;
    }
    pthread_mutex_unlock(&p->lock);
    /* The last thread to leave has released the lock for good; joining it (it joined its own
     * predecessor) proves every thread that left is gone. */
    if (join_last)
        pthread_join(last, NULL);
    return err;
}

void weft__blocking_pool_free(weft__blocking_pool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    bool was_shut_down = p->shutdown;
    pthread_mutex_unlock(&p->lock);
    /* runtime.c shuts the pool down first; this only covers a pool freed without (runtime_new
     * failing after the pool was made), so that no thread is ever left using freed memory. */
    if (!was_shut_down)
        (void)weft__blocking_pool_shutdown(p, UINT64_MAX);

    pthread_mutex_lock(&p->lock);
    if (p->abandoned && p->threads > 0) {
        /* Threads still use the pool: the last of them frees it (thread_exit_locked). */
        p->released = true;
        pthread_mutex_unlock(&p->lock);
        return;
    }
    pthread_mutex_unlock(&p->lock);
    pool_destroy(p);
}

void weft__blocking_pool_stats(weft__blocking_pool *p, weft__blocking_stats *out)
{
    pthread_mutex_lock(&p->lock);
    out->threads = p->threads;
    out->idle = p->idle;
    out->queued = p->queued;
    out->spawned = p->spawned;
    out->retired = p->retired;
    out->shutdown = p->shutdown;
    pthread_mutex_unlock(&p->lock);
}
