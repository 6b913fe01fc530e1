/* weft/metrics.h - runtime and task metrics: is the runtime busy, where do tasks wait.
 *
 * Two kinds, as in tokio-metrics:
 *
 *   runtime metrics   counters every runtime keeps all the time (they are cheap enough to
 *                     leave on: bench/bench_metrics.c measures them), read with
 *                     weft_runtime_metrics_get / weft_runtime_worker_metrics_get. Counters
 *                     only grow; subtract two samples (weft_runtime_metrics_diff) to get the
 *                     rates of an interval, as tokio-metrics' RuntimeMonitor::intervals does.
 *
 *   task metrics      a weft_task_monitor watches the tasks spawned through it (a "task
 *                     group": every request handler, every connection...): how long they
 *                     waited for their first poll, how long they sat idle, how long they
 *                     stayed scheduled before a worker picked them up, and how long their
 *                     polls took, with slow polls and long delays counted against
 *                     thresholds. Only monitored tasks pay for it (two clock reads per poll
 *                     and one per wake).
 *
 *     weft_task_monitor mon;
 *     weft_task_monitor_init(&mon, WEFT_SLOW_POLL_NS_DEFAULT, WEFT_LONG_DELAY_NS_DEFAULT);
 *     weft_join_handle h = weft_task_monitor_spawn(&mon, &handler);   // like weft_spawn
 *     ...
 *     weft_task_metrics m;
 *     weft_task_monitor_get(&mon, &m);
 *     printf("mean poll %.1f us\n", weft_task_metrics_mean_poll_ns(&m) / 1e3);
 *
 * Reading is safe from any thread at any time; a sample taken while workers run is a set of
 * individually exact counters read one after the other, not an atomic snapshot of all of
 * them (the same as Tokio's).
 */
#ifndef WEFT_METRICS_H
#define WEFT_METRICS_H

#include <stdatomic.h>
#include <stdint.h>

#include <weft/future.h>
#include <weft/runtime.h>
#include <weft/task.h>

/* ---------------------------------------------------------------- runtime metrics */

/* One worker's counters since the runtime started (a current-thread runtime has one worker:
 * the thread inside weft_block_on). */
typedef struct weft_worker_metrics {
    uint64_t polls;                /* task polls run by this worker */
    uint64_t parks;                /* times it went to sleep for lack of work */
    uint64_t steals;               /* tasks it stole from other workers' queues */
    uint64_t steal_operations;     /* successful steals (each takes up to half a queue) */
    uint64_t local_schedules;      /* tasks it scheduled into its own LIFO slot or queue */
    uint64_t overflows;            /* times its full local queue spilled into the global one */
    uint64_t budget_forced_yields; /* polls that spent the whole cooperative budget, so that
                                      the task was made to yield (see weft_coop_proceed) */
    uint64_t busy_ns;              /* time not parked (runtime clock), up to the worker's last
                                      park or batch of about 61 polls */
    uint64_t local_queue_depth;    /* tasks in its local queue now */
} weft_worker_metrics;

/* The whole runtime: the gauges now, and the workers' counters summed. */
typedef struct weft_runtime_metrics {
    uint64_t now_ns;               /* the runtime clock when the sample was taken */
    unsigned workers;              /* worker threads (1 for current-thread) */
    uint64_t alive_tasks;          /* tasks spawned and not yet completed */
    uint64_t spawned_tasks;        /* tasks ever spawned (async and blocking) */
    uint64_t remote_schedules;     /* tasks scheduled from outside the workers (other threads,
                                      block_on's future, timers fired elsewhere) */
    uint64_t global_queue_depth;   /* tasks in the global (injection / remote) queue now */
    uint64_t blocking_threads;     /* blocking-pool threads alive (busy and idle) */
    uint64_t blocking_idle_threads;/* of those, waiting for work */
    uint64_t blocking_queue_depth; /* blocking tasks waiting for a thread */
    uint64_t io_ready_events;      /* readiness events the I/O driver delivered to sockets
                                      (0 for a runtime built without enable_io) */
    /* Sums over the workers (weft_worker_metrics for each one). */
    uint64_t polls, parks, steals, steal_operations, local_schedules, overflows;
    uint64_t budget_forced_yields, busy_ns, local_queue_depth;
} weft_runtime_metrics;

/* Sample the runtime. 0, or WEFT_EINVAL (NULL argument). */
int weft_runtime_metrics_get(const weft_runtime *rt, weft_runtime_metrics *out);

/* Sample one worker: 0, or WEFT_EINVAL (NULL, or worker >= weft_runtime_workers). A runtime
 * run by the deterministic scheduler keeps no per-worker counters: all zero. */
int weft_runtime_worker_metrics_get(const weft_runtime *rt, unsigned worker,
                                    weft_worker_metrics *out);

/* What happened between two samples of the same runtime: counters become their increase,
 * gauges keep `cur`'s value, now_ns becomes the elapsed time. */
void weft_runtime_metrics_diff(const weft_runtime_metrics *prev,
                               const weft_runtime_metrics *cur, weft_runtime_metrics *out);

/* Fraction of the workers' time spent busy over a diff (busy_ns / (now_ns * workers)), in
 * [0, 1]; 0 when no time elapsed. */
double weft_runtime_metrics_busy_ratio(const weft_runtime_metrics *diff);

/* ---------------------------------------------------------------- task metrics */

#define WEFT_SLOW_POLL_NS_DEFAULT 50000u     /* 50 us: tokio-metrics' default */
#define WEFT_LONG_DELAY_NS_DEFAULT 50000u    /* 50 us */

/* The counters of a task group; plain numbers (a sample). Durations in nanoseconds. */
typedef struct weft_task_metrics {
    uint64_t instrumented_count;   /* tasks spawned through the monitor */
    uint64_t dropped_count;        /* of those, finished or cancelled */
    uint64_t first_poll_count;     /* tasks polled at least once */
    uint64_t total_first_poll_delay_ns; /* spawn to first poll, summed */
    uint64_t total_idled_count;    /* times a task went idle (returned PENDING) and was woken */
    uint64_t total_idle_ns;        /* end of a poll to the wake that followed, summed */
    uint64_t total_scheduled_count;/* times a woken task waited in a queue before its poll */
    uint64_t total_scheduled_ns;   /* wake to the start of the next poll, summed */
    uint64_t total_poll_count;
    uint64_t total_poll_ns;
    uint64_t total_fast_poll_count;/* polls shorter than slow_poll_ns */
    uint64_t total_fast_poll_ns;
    uint64_t total_slow_poll_count;/* polls of slow_poll_ns or more */
    uint64_t total_slow_poll_ns;
    uint64_t total_short_delay_count; /* scheduled waits shorter than long_delay_ns */
    uint64_t total_short_delay_ns;
    uint64_t total_long_delay_count;  /* scheduled waits of long_delay_ns or more */
    uint64_t total_long_delay_ns;
    uint64_t slow_poll_ns;         /* the thresholds the monitor was built with */
    uint64_t long_delay_ns;
} weft_task_metrics;

/* A monitor: caller storage, shared by every task spawned through it. Its fields are the
 * counters above, updated with relaxed atomics by whichever thread polls or wakes a task; do
 * not touch them directly (weft_task_monitor_get). It must outlive the tasks it watches. */
typedef struct weft_task_monitor {
    uint64_t slow_poll_ns, long_delay_ns; /* fixed at init */
    _Atomic uint64_t c[13];        /* the counters weft_task_metrics is computed from */
} weft_task_monitor;

void weft_task_monitor_init(weft_task_monitor *m, uint64_t slow_poll_ns, uint64_t long_delay_ns);

/* Sample the monitor's counters. */
void weft_task_monitor_get(const weft_task_monitor *m, weft_task_metrics *out);

/* Counters increase between two samples; thresholds are kept. */
void weft_task_metrics_diff(const weft_task_metrics *prev, const weft_task_metrics *cur,
                            weft_task_metrics *out);

/* Means over a sample or a diff; 0 when nothing was counted. */
double weft_task_metrics_mean_poll_ns(const weft_task_metrics *m);
double weft_task_metrics_mean_first_poll_delay_ns(const weft_task_metrics *m);
double weft_task_metrics_mean_idle_ns(const weft_task_metrics *m);
double weft_task_metrics_mean_scheduled_ns(const weft_task_metrics *m);
double weft_task_metrics_slow_poll_ratio(const weft_task_metrics *m);
double weft_task_metrics_long_delay_ratio(const weft_task_metrics *m);

/* Spawn `fut` (copied, as by weft_spawn) as a task watched by monitor `m`, on the current
 * runtime; the _on_ form names the runtime and works from any thread. The task's own waker is
 * wrapped so that wakes are timed: every wake of the task goes through the monitor. On
 * failure the handle reports the error as its status, like weft_spawn's. */
#define weft_task_monitor_spawn(m, fut) \
    weft__task_monitor_spawn((m), NULL, (weft_future *)(fut), sizeof *(fut), NULL, WEFT_HERE)
#define weft_task_monitor_spawn_named(m, name, fut) \
    weft__task_monitor_spawn((m), NULL, (weft_future *)(fut), sizeof *(fut), (name), WEFT_HERE)
#define weft_task_monitor_spawn_on(m, rt, fut) \
    weft__task_monitor_spawn((m), (rt), (weft_future *)(fut), sizeof *(fut), NULL, WEFT_HERE)

weft_join_handle weft__task_monitor_spawn(weft_task_monitor *m, weft_runtime *rt,
                                          const weft_future *fut, size_t size, const char *name,
                                          weft_location where);

#endif
