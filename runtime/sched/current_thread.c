/* runtime/sched/current_thread.c - the current-thread scheduler.
 *
 * Every task runs on the thread that is inside weft_block_on; when no block_on runs, tasks wait
 * in their queues (as in Tokio). Two queues:
 *
 *   local   FIFO touched only by the block_on thread: wakes and spawns from that thread.
 *   remote  FIFO under a mutex: wakes and spawns from any other thread (a blocking-pool
 *           thread finishing, a timer fired elsewhere, a plain pthread). Pushing to it unparks
 *           the driver, in which the block_on thread sleeps.
 *
 * The loop: poll the root future when it was woken, then run up to event_interval tasks,
 * taking the remote queue first every REMOTE_INTERVAL ticks so that it cannot starve; when
 * nothing is runnable park in the driver (until a wake or the next timer), otherwise visit the
 * driver with a zero timeout so timers fire even under load.
 */
#include <stdlib.h>

#include "../metrics/counters.h"
#include "../rt_int.h"

#define REMOTE_INTERVAL 31

typedef struct task_fifo {
    weft_task *head, *tail; /* linked through weft_task.queue_next */
} task_fifo;

typedef struct ct_sched {
    weft__sched base;
    task_fifo local;           /* owned by the block_on thread (or by shutdown) */
    pthread_mutex_t remote_lock;
    task_fifo remote;          /* guarded by remote_lock */
    _Atomic size_t remote_len; /* written under remote_lock; read without it as a hint */
    _Atomic bool in_block_on;  /* one block_on at a time */
    _Atomic bool root_woken;   /* the root future's waker was called since its last poll */
    uint64_t tick;             /* block_on thread only */
    _Atomic uint64_t local_len; /* written by the block_on thread; read by metrics (a gauge) */
    _Atomic uint64_t remote_schedules; /* bumped under remote_lock; read by metrics */
    weft__worker_counters counters; /* weft/metrics.h: the block_on thread's, read by any */
} ct_sched;

static void fifo_push(task_fifo *q, weft_task *t)
{
    t->queue_next = NULL;
    if (q->tail)
        q->tail->queue_next = t;
    else
        q->head = t;
    q->tail = t;
}

static weft_task *fifo_pop(task_fifo *q)
{
    weft_task *t = q->head;
    if (t) {
        q->head = t->queue_next;
        if (!q->head)
            q->tail = NULL;
        t->queue_next = NULL;
    }
    return t;
}

static void ct_schedule(weft__sched *s, weft_task *t, bool is_yield)
{
    ct_sched *ct = (ct_sched *)s;
    (void)is_yield; /* FIFO either way: there is no LIFO slot here */
    if (atomic_load_explicit(&s->rt->closed, memory_order_acquire)) {
        weft__task_drop_notified(t);
        return;
    }
    if (weft__tls.sched_local == ct) {
        fifo_push(&ct->local, t);
        weft__counter_inc(&ct->local_len);
        weft__counter_inc(&ct->counters.local_schedules);
        return;
    }
    pthread_mutex_lock(&ct->remote_lock);
    fifo_push(&ct->remote, t);
    atomic_fetch_add_explicit(&ct->remote_len, 1, memory_order_relaxed);
    weft__counter_inc(&ct->remote_schedules);
    pthread_mutex_unlock(&ct->remote_lock);
    weft__driver_unpark(s->rt->driver);
}

static weft_task *pop_remote(ct_sched *ct)
{
    if (atomic_load_explicit(&ct->remote_len, memory_order_relaxed) == 0)
        return NULL;
    pthread_mutex_lock(&ct->remote_lock);
    weft_task *t = fifo_pop(&ct->remote);
    if (t)
        atomic_fetch_sub_explicit(&ct->remote_len, 1, memory_order_relaxed);
    pthread_mutex_unlock(&ct->remote_lock);
    return t;
}

static weft_task *pop_local(ct_sched *ct)
{
    weft_task *t = fifo_pop(&ct->local);
    if (t)
        weft__counter_add(&ct->local_len, (uint64_t)-1);
    return t;
}

static weft_task *next_task(ct_sched *ct)
{
    weft_task *t;
    if (ct->tick % REMOTE_INTERVAL == 0) {
        if ((t = pop_remote(ct)))
            return t;
        return pop_local(ct);
    }
    if ((t = pop_local(ct)))
        return t;
    return pop_remote(ct);
}

/* ---------------------------------------------------------------- the root future's waker
 *
 * It points at the scheduler, which lives as long as the runtime, so clones need no count. */
static const weft_waker_vtable root_waker_vt;

static weft_waker root_clone(const void *data)
{
    return (weft_waker){&root_waker_vt, data};
}

static void root_wake_by_ref(const void *data)
{
    ct_sched *ct = (ct_sched *)data;
    atomic_store_explicit(&ct->root_woken, true, memory_order_release);
    if (weft__tls.sched_local != ct)
        weft__driver_unpark(ct->base.rt->driver);
}

static void root_drop(const void *data)
{
    (void)data;
}

static const weft_waker_vtable root_waker_vt = {
    .clone = root_clone,
    .wake = root_wake_by_ref,
    .wake_by_ref = root_wake_by_ref,
    .drop = root_drop,
};

/* ---------------------------------------------------------------- block_on */

static void run_task(ct_sched *ct, weft_task *t)
{
    weft__counters_poll_begin(&ct->counters);
    weft__coop_begin();
    weft__task_run(t);
    weft__counters_poll_end(&ct->counters, weft__tls.coop_forced);
    weft__coop_end();
}

static int ct_block_on(weft__sched *s, weft_future *fut)
{
    ct_sched *ct = (ct_sched *)s;
    weft_runtime *rt = s->rt;
    if (weft__tls.rt)
        return WEFT_EBUSY; /* inside a runtime already: blocking here would deadlock it */
    bool expected = false;
    if (!atomic_compare_exchange_strong(&ct->in_block_on, &expected, true))
        return WEFT_EBUSY;
    if (!weft__driver_try_lock(rt->driver)) {
        atomic_store(&ct->in_block_on, false);
        return WEFT_EBUSY;
    }
    weft__tls.rt = rt;
    weft__tls.sched_local = ct;
    WEFT_HOOK(thread_enter, rt, WEFT_THREAD_BLOCK_ON, 0);
    weft__task_cache cache, *outer_cache;
    weft__task_cache_enter(&cache, &rt->task_pool, &outer_cache);

    weft__counters_unpark(&ct->counters, weft__clock_now(rt->clock));
    weft_waker root = {&root_waker_vt, ct};
    weft_context cx = {&root, NULL};
    atomic_store_explicit(&ct->root_woken, true, memory_order_relaxed);
    int result = 0;
    for (;;) {
        if (atomic_exchange_explicit(&ct->root_woken, false, memory_order_acquire)) {
            WEFT_HOOK(clock_stale);
            if (weft_future_poll(fut, &cx) == WEFT_READY)
                break;
        }
        if (atomic_load_explicit(&rt->closed, memory_order_acquire)) {
            result = WEFT_ESHUTDOWN;
            break;
        }
        unsigned ran = 0;
        /* A whole batch even if the root was woken meanwhile: a root future that yields in a
         * loop must not starve the tasks it waits for. */
        for (unsigned i = 0; i < rt->cfg.event_interval; i++) {
            weft_task *t = next_task(ct);
            if (!t)
                break;
            ct->tick++;
            run_task(ct, t);
            ran++;
        }
        bool idle = ran == 0 && !atomic_load_explicit(&ct->root_woken, memory_order_acquire);
        if (idle) {
            weft__counters_park(&ct->counters, weft__clock_now(rt->clock));
            WEFT_HOOK(worker_park, ct);
            weft__driver_park(rt->driver, UINT64_MAX);
            WEFT_HOOK(worker_unpark, ct);
            weft__counters_unpark(&ct->counters, weft__clock_now(rt->clock));
        } else {
            /* Keep busy_ns current for the metrics, once per batch. */
            weft__counters_checkpoint(&ct->counters, weft__clock_now(rt->clock));
            /* And the queue depths for the console's workers view (only while tracing). */
            WEFT_HOOK(ct_queues, weft__counter_read(&ct->local_len),
                      atomic_load_explicit(&ct->remote_len, memory_order_relaxed));
            weft__driver_park(rt->driver, 0); /* fire due timers, take pending unparks */
        }
    }

    /* Close the busy span, as a park would: block_on's time counts, the time between two
     * block_on calls does not. */
    weft__counters_checkpoint(&ct->counters, weft__clock_now(rt->clock));
    WEFT_HOOK(thread_leave);
    weft__task_cache_leave(&cache, outer_cache);
    weft__tls.rt = NULL;
    weft__tls.sched_local = NULL;
    weft__driver_unlock(rt->driver);
    atomic_store(&ct->in_block_on, false);
    return result;
}

/* ---------------------------------------------------------------- lifecycle */

static int ct_shutdown(weft__sched *s, uint64_t deadline_ns)
{
    ct_sched *ct = (ct_sched *)s;
    (void)deadline_ns; /* no threads of its own to wait for */
    weft_task *t;
    while ((t = pop_local(ct)))
        weft__task_drop_notified(t);
    pthread_mutex_lock(&ct->remote_lock);
    task_fifo remote = ct->remote;
    ct->remote.head = ct->remote.tail = NULL;
    atomic_store(&ct->remote_len, 0);
    pthread_mutex_unlock(&ct->remote_lock);
    while ((t = fifo_pop(&remote)))
        weft__task_drop_notified(t);
    return 0;
}

static void ct_free(weft__sched *s)
{
    ct_sched *ct = (ct_sched *)s;
    pthread_mutex_destroy(&ct->remote_lock);
    free(ct);
}

/* ---------------------------------------------------------------- metrics (weft/metrics.h) */

static const weft__worker_counters *ct_worker_counters(weft__sched *s, unsigned i,
                                                       uint64_t *local_depth)
{
    ct_sched *ct = (ct_sched *)s;
    (void)i; /* one worker */
    *local_depth = weft__counter_read(&ct->local_len);
    return &ct->counters;
}

static void ct_global_counters(weft__sched *s, uint64_t *depth, uint64_t *remote)
{
    ct_sched *ct = (ct_sched *)s;
    *depth = atomic_load_explicit(&ct->remote_len, memory_order_relaxed);
    *remote = weft__counter_read(&ct->remote_schedules);
}

static const weft__sched_ops ct_ops = {
    .name = "current_thread",
    .schedule = ct_schedule,
    .block_on = ct_block_on,
    .shutdown = ct_shutdown,
    .free = ct_free,
    .worker_counters = ct_worker_counters,
    .global_counters = ct_global_counters,
};

int weft__current_thread_new(weft_runtime *rt, weft__sched **out)
{
    ct_sched *ct = calloc(1, sizeof *ct);
    if (!ct)
        return WEFT_ENOMEM;
    ct->base.ops = &ct_ops;
    ct->base.rt = rt;
    pthread_mutex_init(&ct->remote_lock, NULL);
    atomic_init(&ct->remote_len, 0);
    atomic_init(&ct->in_block_on, false);
    atomic_init(&ct->root_woken, false);
    *out = &ct->base;
    return 0;
}
