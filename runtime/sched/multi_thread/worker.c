/* runtime/sched/multi_thread/worker.c - the multi-thread scheduler: workers and their loop.
 *
 * Who calls it: runtime.c builds it (weft__multi_thread_new) and calls block_on, shutdown and
 * free through weft__sched_ops; task.c calls schedule() for every spawn and wake.
 *
 * N worker threads, each with
 *
 *   ┌──────────────────────── weft__mt_worker (own cache lines) ───────────────────────┐
 *   │ lifo slot │ local queue (queue.c, steal-half) │ park_state + parker             │
 *   └──────────────────────────────────────────────────────────────────────────────────┘
 *
 * sharing one injection queue (inject.c) and the idle accounting (idle.c).
 *
 * Where a scheduled task goes:
 *   - from a worker of this runtime, not a yield: the LIFO slot, so that a task woken by the
 *     running one runs next while its data is hot; the slot's previous occupant goes to the
 *     tail of the local queue, where others may steal it (and an idle worker is woken);
 *   - from a worker, a yield: the local queue's tail;
 *   - from any other thread: the injection queue, then wake one idle worker if nobody searches.
 *
 * The loop (run):
 *   every event_interval ticks: maintenance (fire due timers through a zero-timeout visit of
 *   the driver, if no other thread holds it), then the injection queue first, for fairness;
 *   otherwise: LIFO slot (at most MAX_LIFO_STREAK times in a row), local queue, injection queue
 *   (a batch of len/N + 1 tasks, the rest into the local queue), then become "searching" and
 *   steal half of a random victim's queue; nothing anywhere: park. Parking takes the driver if
 *   it is free (sleeping there until the next timer or an unpark, and firing timers on waking)
 *   or sleeps on the worker's own parker otherwise. idle.c explains why no wake-up is lost.
 *
 * Threads: each worker's fields are owned by its thread; other threads touch only its queue
 * (stealing, through queue.c's atomics) and its park_state/parker (unparking). Shutdown sets
 * `shutdown`, closes the injection queue, unparks every worker, joins them, and only then
 * drains the queues and LIFO slots, acting as their owner.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mt_int.h"

/* LIFO-slot polls in a row before the slot's task is sent behind the queue: two tasks that
 * keep waking each other would otherwise hold the worker forever (Tokio caps it at 3 too). */
#define MAX_LIFO_STREAK 3

static inline weft__mt_shared *shared_of(weft__sched *s)
{
    return (weft__mt_shared *)s;
}

static inline bool is_shutdown(weft__mt_shared *s)
{
    return atomic_load_explicit(&s->shutdown, memory_order_acquire);
}

/* The calling thread's worker if it is one of s's, else NULL. One unsigned compare: the
 * thread context may hold another scheduler's state (a current-thread core) or nothing. */
static inline weft__mt_worker *current_worker(weft__mt_shared *s)
{
    uintptr_t off = (uintptr_t)weft__tls.sched_local - (uintptr_t)s->workers;
    if (off < (uintptr_t)s->nworkers * sizeof(weft__mt_worker))
        return (weft__mt_worker *)weft__tls.sched_local;
    return NULL;
}

/* ---------------------------------------------------------------- parking
 *
 * park_state tells an unparker where the worker sleeps:
 *
 *   EMPTY ──CAS (holding the driver)──▶ DRIVER ──┐
 *     │                                          ├── unpark: exchange to NOTIFIED, then wake
 *     └──CAS (driver busy)────────────▶ PARKER ──┘   the driver or the parker it found
 *   EMPTY ──unpark──▶ NOTIFIED: the CAS above fails and the park returns at once.
 *   After every park the worker exchanges the state back to EMPTY (consuming NOTIFIED).
 */
static void unpark_worker(weft__mt_worker *w)
{
    uint32_t prev = atomic_exchange_explicit(&w->park_state, WEFT__MT_PARK_NOTIFIED,
                                             memory_order_acq_rel);
    if (prev == WEFT__MT_PARK_DRIVER)
        weft__driver_unpark(w->shared->base.rt->driver);
    else if (prev == WEFT__MT_PARK_PARKER)
        weft__parker_unpark(&w->parker);
}

static void park_once(weft__mt_worker *w)
{
    weft__driver *d = w->shared->base.rt->driver;
    uint32_t expected = WEFT__MT_PARK_EMPTY;
    if (d && weft__driver_try_lock(d)) {
        if (atomic_compare_exchange_strong_explicit(&w->park_state, &expected,
                                                    WEFT__MT_PARK_DRIVER, memory_order_acq_rel,
                                                    memory_order_acquire))
            weft__driver_park(d, UINT64_MAX); /* until the next timer or an unpark */
        atomic_exchange_explicit(&w->park_state, WEFT__MT_PARK_EMPTY, memory_order_acq_rel);
        weft__driver_unlock(d);
    } else {
        if (atomic_compare_exchange_strong_explicit(&w->park_state, &expected,
                                                    WEFT__MT_PARK_PARKER, memory_order_acq_rel,
                                                    memory_order_acquire))
            weft__parker_park(&w->parker, UINT64_MAX);
        atomic_exchange_explicit(&w->park_state, WEFT__MT_PARK_EMPTY, memory_order_acq_rel);
    }
}

void weft__mt_notify_parked(weft__mt_shared *s)
{
    int i = weft__mt_idle_worker_to_notify(&s->idle);
    if (i >= 0)
        unpark_worker(&s->workers[i]);
}

/* A worker made tasks stealable. Waking a helper is only about parallelism here (the worker
 * will run the tasks itself otherwise), so the unfenced hint filters the common case, all
 * workers busy, without a fence. */
static inline void notify_local(weft__mt_worker *w)
{
    if (!w->parking && weft__mt_idle_wants_notify_hint(&w->shared->idle))
        weft__mt_notify_parked(w->shared);
}

/* ---------------------------------------------------------------- scheduling */

static void schedule_local(weft__mt_worker *w, weft_task *t, bool is_yield)
{
    weft__mt_shared *s = w->shared;
    if (!is_yield) {
        weft_task *prev = w->lifo;
        w->lifo = t;
        if (!prev)
            return;
        t = prev;
    }
    if (weft__mt_queue_push(&w->queue, t, &s->inject))
        weft__counter_inc(&w->counters.overflows);
    notify_local(w);
}

static void mt_schedule(weft__sched *sched, weft_task *t, bool is_yield)
{
    weft__mt_shared *s = shared_of(sched);
    if (atomic_load_explicit(&sched->rt->closed, memory_order_acquire)) {
        weft__task_drop_notified(t);
        return;
    }
    weft__mt_worker *w = current_worker(s);
    if (w) {
        weft__counter_inc(&w->counters.local_schedules);
        schedule_local(w, t, is_yield);
        return;
    }
    atomic_fetch_add_explicit(&s->remote_schedules, 1, memory_order_relaxed);
    /* A closed injection queue drops the task itself (shutdown raced with the check above). */
    weft__mt_inject_push(&s->inject, t);
    /* Liveness depends on this one: no worker will look unless someone is searching. */
    weft__mt_notify_parked(s);
}

/* ---------------------------------------------------------------- finding work */

static weft_task *next_local(weft__mt_worker *w)
{
    weft_task *t = w->lifo;
    if (t) {
        w->lifo = NULL;
        if (w->lifo_streak < MAX_LIFO_STREAK) {
            w->lifo_streak++;
            return t;
        }
        if (weft__mt_queue_push(&w->queue, t, &w->shared->inject))
            weft__counter_inc(&w->counters.overflows);
    }
    w->lifo_streak = 0;
    return weft__mt_queue_pop(&w->queue);
}

/* Take a batch from the injection queue: one to run, the rest into the local queue. A fair
 * share (len / N + 1) so that one worker does not take everything while others are idle. */
static weft_task *next_remote(weft__mt_worker *w)
{
    weft__mt_shared *s = w->shared;
    size_t len = weft__mt_inject_len(&s->inject);
    if (len == 0)
        return NULL;
    size_t max = len / s->nworkers + 1;
    size_t room = weft__mt_queue_room(&w->queue);
    if (max > room + 1)
        max = room + 1;
    if (max > WEFT__MT_QUEUE_CAP / 2)
        max = WEFT__MT_QUEUE_CAP / 2;
    size_t n;
    weft_task *t = weft__mt_inject_pop_batch(&s->inject, max, &n);
    if (n > 1) {
        weft__mt_queue_push_list(&w->queue, t->queue_next, (uint32_t)(n - 1));
        notify_local(w);
    }
    return t;
}

static weft_task *steal_work(weft__mt_worker *w)
{
    weft__mt_shared *s = w->shared;
    if (!w->searching) {
        if (!weft__mt_idle_to_searching(&s->idle))
            return NULL; /* enough workers are searching already */
        w->searching = true;
    }
    unsigned n = s->nworkers;
    unsigned v = (unsigned)weft_rand_below(n);
    for (unsigned i = 0; i < n; i++, v = v + 1 == n ? 0 : v + 1) {
        if (v == w->index)
            continue;
        uint32_t got;
        weft_task *t = weft__mt_queue_steal_into(&s->workers[v].queue, &w->queue, &got);
        if (t) {
            weft__counter_add(&w->counters.steals, got);
            weft__counter_inc(&w->counters.steal_operations);
            WEFT_HOOK(worker_steal, w, &s->workers[v], got);
            return t;
        }
    }
    /* Something may have been injected while we looked around. */
    return next_remote(w);
}

/* Does any queue hold work? Used by the last searcher on its way to sleep. */
static bool work_anywhere(weft__mt_shared *s)
{
    if (weft__mt_inject_len(&s->inject) > 0)
        return true;
    for (unsigned i = 0; i < s->nworkers; i++)
        if (weft__mt_queue_has_tasks(&s->workers[i].queue))
            return true;
    return false;
}

/* ---------------------------------------------------------------- the loop */

static void run_task(weft__mt_worker *w, weft_task *t)
{
    if (w->searching) {
        w->searching = false;
        /* The last searcher found work: there may be more, so get someone else looking. */
        if (weft__mt_idle_from_searching(&w->shared->idle))
            weft__mt_notify_parked(w->shared);
    }
    weft__counters_poll_begin(&w->counters);
    weft__coop_begin();
    weft__task_run(t);
    weft__counters_poll_end(&w->counters, weft__tls.coop_forced);
    weft__coop_end();
}

/* Fire due timers even though this worker is busy; skipped when another thread holds the
 * driver (it is parked in it and fires them itself, or doing the same thing right now). */
static void maintenance(weft__mt_worker *w)
{
    /* Keep busy_ns current for the metrics, once per event interval. */
    weft__counters_checkpoint(&w->counters, weft__clock_now(w->shared->base.rt->clock));
    weft__driver *d = w->shared->base.rt->driver;
    if (d && weft__driver_try_lock(d)) {
        weft__driver_park(d, 0);
        weft__driver_unlock(d);
    }
}

static void park(weft__mt_worker *w)
{
    weft__mt_shared *s = w->shared;
    bool last = weft__mt_idle_to_parked(&s->idle, w->index, w->searching);
    w->searching = false;
    if (last) {
        /* The sleeper's half of the Dekker pattern (idle.c): our state change is done; order
         * it before reading the queues. */
        weft__mt_idle_fence(&s->idle);
        if (work_anywhere(s))
            weft__mt_notify_parked(s);
    }

    w->parking = true;
    weft__counters_park(&w->counters, weft__clock_now(s->base.rt->clock));
    WEFT_HOOK(worker_park, w);
    while (!is_shutdown(s)) {
        park_once(w);
        if (w->lifo || weft__mt_queue_has_tasks(&w->queue)) {
            /* Timers fired into our own queues while we slept in the driver. If a notifier
             * took us off the sleepers first, it counted us as searching. */
            w->searching = !weft__mt_idle_unpark_by_id(&s->idle, w->index);
            break;
        }
        if (!weft__mt_idle_is_sleeping(&s->idle, w->index)) {
            w->searching = true; /* a notifier woke us, counted as searching */
            break;
        }
        /* Spurious, or the driver's own timeout with nothing for us: sleep on. */
    }
    WEFT_HOOK(worker_unpark, w);
    weft__counters_unpark(&w->counters, weft__clock_now(s->base.rt->clock));
    w->parking = false;
    if (!w->searching && weft__mt_queue_has_tasks(&w->queue))
        notify_local(w); /* several timers fired here: let an idle worker share them */
}

static void run(weft__mt_worker *w)
{
    weft__mt_shared *s = w->shared;
    unsigned interval = s->base.rt->cfg.event_interval ? s->base.rt->cfg.event_interval : 61;
    w->until_maint = interval;
    while (!is_shutdown(s)) {
        weft_task *t;
        if (--w->until_maint == 0) {
            w->until_maint = interval;
            maintenance(w);
            /* Sampled here, once per interval, so that the per-poll path pays nothing for it
             * (and, with tracing off, this is one load and a branch every `interval` ticks). */
            WEFT_HOOK(worker_queues, w, weft__mt_queue_len(&w->queue) + (w->lifo != NULL),
                      weft__mt_inject_len(&s->inject));
            t = next_remote(w);
            if (!t)
                t = next_local(w);
        } else {
            t = next_local(w);
            if (!t)
                t = next_remote(w);
        }
        if (!t)
            t = steal_work(w);
        if (t)
            run_task(w, t);
        else
            park(w);
    }
}

static void *worker_main(void *arg)
{
    weft__mt_worker *w = arg;
    weft__tls.rt = w->shared->base.rt;
    weft__tls.sched_local = w;
    weft__tls.task = NULL;
    weft__tls.budget = -1;
    WEFT_HOOK(thread_enter, w->shared->base.rt, WEFT_THREAD_WORKER, w->index);
    weft__task_cache cache, *outer_cache;
    weft__task_cache_enter(&cache, &w->shared->base.rt->task_pool, &outer_cache);
    weft__counters_unpark(&w->counters, weft__clock_now(w->shared->base.rt->clock));
    run(w);
    weft__task_cache_leave(&cache, outer_cache);
    WEFT_HOOK(thread_leave);
    weft__tls.rt = NULL;
    weft__tls.sched_local = NULL;
    atomic_store_explicit(&w->exited, true, memory_order_release);
    weft__parker_unpark(&w->shared->shutdown_parker);
    return NULL;
}

/* ---------------------------------------------------------------- block_on
 *
 * The future runs on the calling thread, which is not a worker: tasks it spawns or wakes go
 * through the injection queue. Its waker unparks a parker owned by this call. Clones of the
 * waker may outlive the call (a task may hold one), so the waiter is reference-counted: the
 * call holds one reference, each clone another. */
typedef struct weft__mt_waiter {
    _Atomic size_t refs;                 /* the call's + one per waker clone; any thread */
    weft__parker parker;                 /* parked on by the block_on thread only */
    struct weft__mt_waiter *next, *prev; /* in shared->waiters, guarded by waiters_lock */
} weft__mt_waiter;

static const weft_waker_vtable waiter_vt;

static void waiter_release(weft__mt_waiter *wt)
{
    if (atomic_fetch_sub_explicit(&wt->refs, 1, memory_order_acq_rel) == 1)
        free(wt);
}

static weft_waker waiter_clone(const void *data)
{
    weft__mt_waiter *wt = (weft__mt_waiter *)data;
    atomic_fetch_add_explicit(&wt->refs, 1, memory_order_relaxed);
    return (weft_waker){&waiter_vt, wt};
}

static void waiter_wake_by_ref(const void *data)
{
    weft__parker_unpark(&((weft__mt_waiter *)data)->parker);
}

static void waiter_wake(const void *data)
{
    waiter_wake_by_ref(data);
    waiter_release((weft__mt_waiter *)data);
}

static void waiter_drop(const void *data)
{
    waiter_release((weft__mt_waiter *)data);
}

static const weft_waker_vtable waiter_vt = {
    .clone = waiter_clone,
    .wake = waiter_wake,
    .wake_by_ref = waiter_wake_by_ref,
    .drop = waiter_drop,
};

static int mt_block_on(weft__sched *sched, weft_future *fut)
{
    weft__mt_shared *s = shared_of(sched);
    weft_runtime *rt = sched->rt;
    if (weft__tls.rt)
        return WEFT_EBUSY; /* a worker, or inside another block_on: waiting here deadlocks */

    weft__mt_waiter *wt = malloc(sizeof *wt);
    if (!wt)
        return WEFT_ENOMEM;
    atomic_init(&wt->refs, 1);
    weft__parker_init(&wt->parker);
    pthread_mutex_lock(&s->waiters_lock);
    wt->prev = NULL;
    wt->next = s->waiters;
    if (s->waiters)
        s->waiters->prev = wt;
    s->waiters = wt;
    pthread_mutex_unlock(&s->waiters_lock);

    weft__thread_ctx saved = weft__tls;
    weft__tls.rt = rt;
    weft__tls.sched_local = NULL;
    weft__tls.task = NULL;
    weft__tls.budget = -1;
    WEFT_HOOK(thread_enter, rt, WEFT_THREAD_BLOCK_ON, 0);
    weft__task_cache cache, *outer_cache;
    weft__task_cache_enter(&cache, &rt->task_pool, &outer_cache);

    weft_waker waker = {&waiter_vt, wt}; /* borrowed: the call's own reference */
    weft_context cx = {&waker, NULL};
    int result = 0;
    for (;;) {
        if (weft_future_poll(fut, &cx) == WEFT_READY)
            break;
        if (atomic_load_explicit(&rt->closed, memory_order_acquire)) {
            result = WEFT_ESHUTDOWN;
            break;
        }
        weft__parker_park(&wt->parker, UINT64_MAX);
    }
    weft__task_cache_leave(&cache, outer_cache);
    WEFT_HOOK(thread_leave);
    weft__tls = saved;

    pthread_mutex_lock(&s->waiters_lock);
    if (wt->prev)
        wt->prev->next = wt->next;
    else
        s->waiters = wt->next;
    if (wt->next)
        wt->next->prev = wt->prev;
    pthread_mutex_unlock(&s->waiters_lock);
    waiter_release(wt);
    return result;
}

/* ---------------------------------------------------------------- shutdown */

/* Wait until every started worker has left its loop, or until deadline_ns on the real clock
 * (UINT64_MAX: forever). The threads are joined by the caller; a thread
 * is only joined once it said it exited, so that a stuck one cannot hold shutdown past the
 * deadline. (pthread_clockjoin_np would do the same, but ThreadSanitizer does not know it.) */
static void wait_for_workers(weft__mt_shared *s, uint64_t deadline_ns)
{
    for (;;) {
        bool all = true;
        for (unsigned i = 0; i < s->nworkers && all; i++)
            if (s->workers[i].started &&
                !atomic_load_explicit(&s->workers[i].exited, memory_order_acquire))
                all = false;
        if (all)
            return;
        uint64_t timeout = UINT64_MAX;
        if (deadline_ns != UINT64_MAX) {
            uint64_t now = weft__clock_now(&weft__real_clock);
            if (now >= deadline_ns)
                return;
            timeout = deadline_ns - now;
        }
        weft__parker_park(&s->shutdown_parker, timeout);
    }
}

static void drop_list(weft_task *t)
{
    while (t) {
        weft_task *next = t->queue_next;
        t->queue_next = NULL;
        weft__task_drop_notified(t);
        t = next;
    }
}

static int mt_shutdown(weft__sched *sched, uint64_t deadline_ns)
{
    weft__mt_shared *s = shared_of(sched);
    atomic_store_explicit(&s->shutdown, true, memory_order_release);
    weft__mt_inject_close(&s->inject);
    for (unsigned i = 0; i < s->nworkers; i++)
        unpark_worker(&s->workers[i]);
    pthread_mutex_lock(&s->waiters_lock);
    for (weft__mt_waiter *wt = s->waiters; wt; wt = wt->next)
        weft__parker_unpark(&wt->parker);
    pthread_mutex_unlock(&s->waiters_lock);

    int result = 0;
    wait_for_workers(s, deadline_ns);
    for (unsigned i = 0; i < s->nworkers; i++) {
        weft__mt_worker *w = &s->workers[i];
        if (!w->started || w->joined)
            continue;
        if (atomic_load_explicit(&w->exited, memory_order_acquire)) {
            pthread_join(w->thread, NULL); /* only on_thread_stop is left to run */
            w->joined = true;
        } else {
            /* Stuck in a poll: leave it (and this scheduler) behind; its queue and LIFO slot
             * stay its own. It exits at its next look at `shutdown`. */
            pthread_detach(w->thread);
            w->started = false;
            result = WEFT_ETIMEDOUT;
        }
    }

    /* The joined workers' queues are ours now. */
    for (unsigned i = 0; i < s->nworkers; i++) {
        weft__mt_worker *w = &s->workers[i];
        if (!w->joined)
            continue;
        if (w->lifo) {
            weft_task *t = w->lifo;
            w->lifo = NULL;
            weft__task_drop_notified(t);
        }
        weft_task *t;
        while ((t = weft__mt_queue_pop(&w->queue)))
            weft__task_drop_notified(t);
    }
    size_t n;
    weft_task *list;
    while ((list = weft__mt_inject_pop_batch(&s->inject, SIZE_MAX, &n)))
        drop_list(list);
    return result;
}

static void mt_free(weft__sched *sched)
{
    weft__mt_shared *s = shared_of(sched);
    for (unsigned i = 0; i < s->nworkers; i++)
        weft__mt_queue_destroy(&s->workers[i].queue);
    weft__mt_idle_destroy(&s->idle);
    weft__mt_inject_destroy(&s->inject);
    pthread_mutex_destroy(&s->waiters_lock);
    free(s->workers);
    free(s);
}

/* ---------------------------------------------------------------- metrics (weft/metrics.h) */

static const weft__worker_counters *mt_worker_counters(weft__sched *sched, unsigned i,
                                                       uint64_t *local_depth)
{
    weft__mt_shared *s = shared_of(sched);
    *local_depth = weft__mt_queue_len(&s->workers[i].queue);
    return &s->workers[i].counters;
}

static void mt_global_counters(weft__sched *sched, uint64_t *depth, uint64_t *remote)
{
    weft__mt_shared *s = shared_of(sched);
    *depth = weft__mt_inject_len(&s->inject);
    *remote = atomic_load_explicit(&s->remote_schedules, memory_order_relaxed);
}

static const weft__sched_ops mt_ops = {
    .name = "multi_thread",
    .schedule = mt_schedule,
    .block_on = mt_block_on,
    .shutdown = mt_shutdown,
    .free = mt_free,
    .worker_counters = mt_worker_counters,
    .global_counters = mt_global_counters,
};

/* ---------------------------------------------------------------- construction */

static void *alloc_lines(size_t size)
{
    size_t rounded = (size + WEFT__MT_CACHE_LINE - 1) & ~(size_t)(WEFT__MT_CACHE_LINE - 1);
    void *p = aligned_alloc(WEFT__MT_CACHE_LINE, rounded);
    if (p)
        memset(p, 0, rounded);
    return p;
}

int weft__multi_thread_new(weft_runtime *rt, weft__sched **out)
{
    unsigned n = rt->cfg.worker_threads ? rt->cfg.worker_threads : 1;
    weft__mt_shared *s = alloc_lines(sizeof *s);
    if (!s)
        return WEFT_ENOMEM;
    s->workers = alloc_lines((size_t)n * sizeof *s->workers);
    if (!s->workers || weft__mt_idle_init(&s->idle, n) != 0) {
        free(s->workers);
        free(s);
        return WEFT_ENOMEM;
    }
    s->base.ops = &mt_ops;
    s->base.rt = rt;
    s->nworkers = n;
    atomic_init(&s->shutdown, false);
    weft__mt_inject_init(&s->inject);
    pthread_mutex_init(&s->waiters_lock, NULL);
    s->waiters = NULL;
    weft__parker_init(&s->shutdown_parker);

    int err = 0;
    for (unsigned i = 0; i < n; i++) {
        weft__mt_worker *w = &s->workers[i];
        w->shared = s;
        w->index = i;
        atomic_init(&w->park_state, WEFT__MT_PARK_EMPTY);
        atomic_init(&w->exited, false);
        weft__parker_init(&w->parker);
        if (!err)
            err = weft__mt_queue_init(&w->queue, WEFT__MT_QUEUE_CAP);
        else
            w->queue.buf = NULL; /* so that free() can destroy every queue alike */
    }
    for (unsigned i = 0; i < n && !err; i++) {
        weft__mt_worker *w = &s->workers[i];
        char suffix[16];
        snprintf(suffix, sizeof suffix, "-%u", i);
        err = weft__thread_spawn(rt, &w->thread, worker_main, w, suffix);
        w->started = err == 0;
    }
    if (err) {
        (void)mt_shutdown(&s->base, UINT64_MAX);
        mt_free(&s->base);
        return err;
    }
    *out = &s->base;
    return 0;
}
