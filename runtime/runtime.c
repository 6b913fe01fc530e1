/* runtime/runtime.c - creating, entering and shutting down a runtime.
 *
 * A runtime ties together a scheduler backend, the driver (timers), the blocking pool and the
 * list of owned tasks. Shutdown order matters and is argued here:
 *
 *   1. `closed` is set: from now on schedule() drops wake-ups instead of queueing them.
 *   2. The scheduler stops its threads and drains its queues, so no task is being polled.
 *   3. Every task still in the owned list is cancelled on this thread: its future's drop runs.
 *      Drops may wake or spawn; both end at once because of 1 and the closed owned list.
 *   4. The blocking pool cancels queued work and waits for running work, up to the deadline.
 *   5. Everything is freed, unless a thread could not be stopped in time: then the runtime is
 *      left allocated on purpose, because that thread may still use it.
 */
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "rt_int.h"
#include "time/time_int.h"

static _Atomic uint64_t next_runtime_id = 1;

static void time_unpark(void *arg)
{
    weft__driver_unpark((weft__driver *)arg);
}

int weft_runtime_new(const weft_builder *b, weft_runtime **out)
{
    if (!b || !out)
        return WEFT_EINVAL;
    if (b->flavor != WEFT_CURRENT_THREAD && b->flavor != WEFT_MULTI_THREAD)
        return WEFT_EINVAL;
    if (b->max_blocking_threads == 0)
        return WEFT_EINVAL;

    weft_runtime *rt = calloc(1, sizeof *rt);
    if (!rt)
        return WEFT_ENOMEM;
    /* Before any thread starts: WEFT_TRACE turns the ring sink on here. */
    WEFT_HOOK(trace_setup, rt);
    rt->cfg = *b;
    if (!rt->cfg.thread_name)
        rt->cfg.thread_name = "weft-worker";
    if (rt->cfg.event_interval == 0)
        rt->cfg.event_interval = 61;
    if (rt->cfg.flavor == WEFT_CURRENT_THREAD) {
        rt->cfg.worker_threads = 1;
    } else if (rt->cfg.worker_threads == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        rt->cfg.worker_threads = n > 0 ? (unsigned)n : 1;
    }
    rt->clock = &weft__real_clock;
    rt->id = atomic_fetch_add_explicit(&next_runtime_id, 1, memory_order_relaxed);
    atomic_init(&rt->closed, false);
    weft__owned_init(&rt->owned);
    weft__task_pool_init(&rt->task_pool);

    /* WEFT_SCHED or an exploration makes the deterministic scheduler the backend, whatever
     * the flavour; it brings the virtual clock, so it comes before the time driver. */
    int err = weft__det_new(rt);
    if (!err)
        err = weft__driver_new(rt, &rt->driver);
    if (!err && rt->cfg.enable_io)
        err = weft__net_init(rt); /* the sockets' backend: real, or the simulated network */
    if (!err && rt->cfg.enable_time)
        err = weft__time_driver_new(rt->clock, time_unpark, rt->driver, &rt->time);
    if (!err)
        err = weft__blocking_pool_new(rt, &rt->blocking);
    if (!err && rt->det)
        err = weft__det_sched_install(rt);
    else if (!err)
        err = rt->cfg.flavor == WEFT_CURRENT_THREAD ? weft__current_thread_new(rt, &rt->sched)
                                                    : weft__multi_thread_new(rt, &rt->sched);
    if (err) {
        if (rt->det && !rt->sched)
            weft__det_discard(rt);
        if (rt->blocking)
            weft__blocking_pool_free(rt->blocking);
        if (rt->time)
            weft__time_driver_free(rt->time);
        if (rt->driver)
            weft__driver_free(rt->driver);
        weft__owned_destroy(&rt->owned);
        weft__task_pool_destroy(&rt->task_pool);
        free(rt);
        return err;
    }
    WEFT_HOOK(runtime_start, rt);
    *out = rt;
    return 0;
}

int weft_block_on(weft_runtime *rt, weft_future *fut)
{
    if (!rt || !fut)
        return WEFT_EINVAL;
    if (atomic_load_explicit(&rt->closed, memory_order_acquire))
        return WEFT_ESHUTDOWN;
    return rt->sched->ops->block_on(rt->sched, fut);
}

static uint64_t deadline_after(uint64_t timeout_ms)
{
    uint64_t now = weft__clock_now(&weft__real_clock);
    if (timeout_ms >= (UINT64_MAX - now) / 1000000u)
        return UINT64_MAX;
    return now + timeout_ms * 1000000u;
}

int weft_runtime_shutdown_timeout(weft_runtime *rt, uint64_t timeout_ms)
{
    if (!rt)
        return 0;
    uint64_t deadline = deadline_after(timeout_ms);
    atomic_store_explicit(&rt->closed, true, memory_order_release);

    int sched_err = rt->sched->ops->shutdown(rt->sched, deadline);

    /* Drops run here, on the caller's thread, as if inside the runtime: a drop that spawns or
     * sleeps must find this runtime, not none. */
    weft__thread_ctx saved = weft__tls;
    weft__tls.rt = rt;
    weft__tls.sched_local = NULL;
    weft__tls.task = NULL;
    weft__tls.budget = -1;
    weft__owned_close_and_shutdown_all(&rt->owned);
    weft__tls = saved;

    int pool_err = weft__blocking_pool_shutdown(rt->blocking, deadline);
    WEFT_HOOK(runtime_stop, rt);
    if (sched_err || pool_err)
        return WEFT_ETIMEDOUT; /* threads still running: leave rt allocated for them */

    rt->sched->ops->free(rt->sched);
    weft__blocking_pool_free(rt->blocking);
    if (rt->time)
        weft__time_driver_free(rt->time);
    weft__driver_free(rt->driver);
    weft__owned_destroy(&rt->owned);
    weft__task_pool_destroy(&rt->task_pool);
    free(rt);
    return 0;
}

void weft_runtime_shutdown(weft_runtime *rt)
{
    (void)weft_runtime_shutdown_timeout(rt, UINT64_MAX);
}

weft_runtime *weft_runtime_current(void)
{
    return weft__tls.rt;
}

weft_flavor weft_runtime_flavor(const weft_runtime *rt)
{
    return rt->cfg.flavor;
}

unsigned weft_runtime_workers(const weft_runtime *rt)
{
    return rt->cfg.worker_threads;
}

size_t weft_runtime_alive_tasks(const weft_runtime *rt)
{
    return weft__owned_count(&rt->owned);
}
