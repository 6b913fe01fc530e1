/* runtime/metrics/metrics.c - the runtime metrics of weft/metrics.h: sampling and diffs.
 *
 * The counters themselves live where they are bumped (counters.h: one block per worker inside
 * the scheduler; the spawn count in the owned-task shards; the blocking pool's own statistics),
 * so that keeping them costs the hot paths a plain add on a line the worker owns already. This
 * file only gathers them: through the scheduler's optional worker_counters/global_counters ops
 * (rt_int.h), which a backend without counters (the deterministic scheduler) leaves NULL.
 *
 * Who calls it: programs, the console and the benchmarks, from any thread, while the runtime
 * runs (not after weft_runtime_shutdown has freed it).
 */
#include <string.h>

#include <weft/metrics.h>

#include "../blocking/blocking_int.h"
#include "../net/reactor.h"
#include "../rt_int.h"
#include "counters.h"

static void worker_sample(weft__sched *s, unsigned i, weft_worker_metrics *out)
{
    memset(out, 0, sizeof *out);
    if (!s->ops->worker_counters)
        return;
    uint64_t depth = 0;
    const weft__worker_counters *c = s->ops->worker_counters(s, i, &depth);
    out->polls = weft__counter_read(&c->polls);
    out->parks = weft__counter_read(&c->parks);
    out->steals = weft__counter_read(&c->steals);
    out->steal_operations = weft__counter_read(&c->steal_operations);
    out->local_schedules = weft__counter_read(&c->local_schedules);
    out->overflows = weft__counter_read(&c->overflows);
    out->budget_forced_yields = weft__counter_read(&c->budget_forced_yields);
    out->busy_ns = weft__counter_read(&c->busy_ns);
    out->local_queue_depth = depth;
}

int weft_runtime_worker_metrics_get(const weft_runtime *crt, unsigned worker,
                                    weft_worker_metrics *out)
{
    if (!crt || !out || worker >= crt->cfg.worker_threads)
        return WEFT_EINVAL;
    worker_sample(crt->sched, worker, out);
    return 0;
}

int weft_runtime_metrics_get(const weft_runtime *crt, weft_runtime_metrics *out)
{
    if (!crt || !out)
        return WEFT_EINVAL;
    weft_runtime *rt = (weft_runtime *)crt; /* the counters are atomics read, never written */
    memset(out, 0, sizeof *out);
    out->now_ns = weft__clock_now(rt->clock);
    out->workers = rt->cfg.worker_threads;
    out->alive_tasks = weft__owned_count(&rt->owned);
    for (int i = 0; i < WEFT__OWNED_SHARDS; i++)
        out->spawned_tasks +=
            atomic_load_explicit(&rt->owned.shard[i].inserted, memory_order_relaxed);

    weft__sched *s = rt->sched;
    if (s->ops->global_counters)
        s->ops->global_counters(s, &out->global_queue_depth, &out->remote_schedules);
    for (unsigned i = 0; i < out->workers; i++) {
        weft_worker_metrics w;
        worker_sample(s, i, &w);
        out->polls += w.polls;
        out->parks += w.parks;
        out->steals += w.steals;
        out->steal_operations += w.steal_operations;
        out->local_schedules += w.local_schedules;
        out->overflows += w.overflows;
        out->budget_forced_yields += w.budget_forced_yields;
        out->busy_ns += w.busy_ns;
        out->local_queue_depth += w.local_queue_depth;
    }

    weft__blocking_stats b;
    weft__blocking_pool_stats(rt->blocking, &b);
    out->blocking_threads = b.threads;
    out->blocking_idle_threads = b.idle;
    out->blocking_queue_depth = b.queued;
    weft__reactor *reactor = rt->driver ? weft__driver_reactor(rt->driver) : NULL;
    if (reactor)
        out->io_ready_events = weft__reactor_ready_events(reactor);
    return 0;
}

static uint64_t grew(uint64_t prev, uint64_t cur)
{
    return cur >= prev ? cur - prev : 0;
}

void weft_runtime_metrics_diff(const weft_runtime_metrics *prev,
                               const weft_runtime_metrics *cur, weft_runtime_metrics *out)
{
    weft_runtime_metrics d = *cur; /* gauges keep cur's value */
    d.now_ns = grew(prev->now_ns, cur->now_ns);
    d.spawned_tasks = grew(prev->spawned_tasks, cur->spawned_tasks);
    d.remote_schedules = grew(prev->remote_schedules, cur->remote_schedules);
    d.io_ready_events = grew(prev->io_ready_events, cur->io_ready_events);
    d.polls = grew(prev->polls, cur->polls);
    d.parks = grew(prev->parks, cur->parks);
    d.steals = grew(prev->steals, cur->steals);
    d.steal_operations = grew(prev->steal_operations, cur->steal_operations);
    d.local_schedules = grew(prev->local_schedules, cur->local_schedules);
    d.overflows = grew(prev->overflows, cur->overflows);
    d.budget_forced_yields = grew(prev->budget_forced_yields, cur->budget_forced_yields);
    d.busy_ns = grew(prev->busy_ns, cur->busy_ns);
    *out = d;
}

double weft_runtime_metrics_busy_ratio(const weft_runtime_metrics *diff)
{
    if (diff->now_ns == 0 || diff->workers == 0)
        return 0;
    double r = (double)diff->busy_ns / ((double)diff->now_ns * diff->workers);
    return r > 1 ? 1 : r;
}
