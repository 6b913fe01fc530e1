/* runtime/rt_int.h - what the files of libweft's runtime share, and nobody else may use.
 *
 * The pieces and who owns what:
 *
 *   weft_runtime ──┬── weft__sched        the scheduler backend (current_thread, multi_thread,
 *                  │                      later the deterministic one), behind weft__sched_ops
 *                  ├── weft__owned_tasks  every live task, so that shutdown can cancel them
 *                  ├── weft__blocking_pool  threads for spawn_blocking (its own weft__sched)
 *                  ├── weft__time_driver  the timer wheel (NULL without enable_time)
 *                  └── weft__driver       what a parked worker sleeps in: timers now, I/O later
 *
 * A task is one allocation: the weft_task header below followed by the future's storage.
 */
#ifndef WEFT_RT_INT_H
#define WEFT_RT_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdalign.h>
#include <weft/error.h>
#include <weft/runtime.h>
#include <weft/task.h>
#include <weft/time.h>

#include "../instrument/hooks.h"
#include "task/task_alloc.h"
#include "util/futex_mutex.h"

/* ---------------------------------------------------------------- clock
 *
 * Nothing in the runtime reads the real clock directly: it asks the runtime's clock, so that the
 * deterministic backend can substitute virtual time. */
typedef struct weft__clock {
    uint64_t (*now_ns)(const struct weft__clock *self);
} weft__clock;

extern const weft__clock weft__real_clock;

static inline uint64_t weft__clock_now(const weft__clock *c)
{
    return c->now_ns(c);
}

/* ---------------------------------------------------------------- scheduler interface
 *
 * Every backend implements these. "Notified reference": a task that is queued to run holds one
 * reference for being in the queue (see task/state.h); schedule() takes it over, and whoever
 * pops the task either runs it (weft__task_run consumes the reference) or, at shutdown, drops
 * it with weft__task_drop_notified(). */
typedef struct weft__sched weft__sched;

typedef struct weft__sched_ops {
    const char *name;
    /* Queue a notified task. Any thread. `is_yield`: the task asked to go behind the others
     * (yield_now, budget exhausted), so it must not take the LIFO slot. */
    void (*schedule)(weft__sched *s, weft_task *t, bool is_yield);
    /* Run `fut` on the calling thread until READY (see weft_block_on). */
    int (*block_on)(weft__sched *s, weft_future *fut);
    /* Stop: after it returns, no thread of this scheduler polls a task, and every task that was
     * queued has had its notified reference dropped. Tasks woken later (by drops during
     * shutdown) are dropped at once by schedule(), which sees `rt->closed`. Returns 0 or
     * WEFT_ETIMEDOUT if a thread was still busy at `deadline_ns` (real clock). */
    int (*shutdown)(weft__sched *s, uint64_t deadline_ns);
    /* Free the scheduler's memory (after shutdown). */
    void (*free)(weft__sched *s);
    /* Metrics (runtime/metrics/, weft/metrics.h), read from any thread; optional (NULL: the
     * backend keeps no counters). Worker `i`'s counters, and its local queue depth now into
     * *local_depth; the global queue's depth now and the tasks ever scheduled from outside
     * the workers. */
    const struct weft__worker_counters *(*worker_counters)(weft__sched *s, unsigned i,
                                                           uint64_t *local_depth);
    void (*global_counters)(weft__sched *s, uint64_t *depth, uint64_t *remote_schedules);
} weft__sched_ops;

struct weft__sched {
    const weft__sched_ops *ops;
    weft_runtime *rt;
};

/* ---------------------------------------------------------------- driver
 *
 * What a thread with nothing to run sleeps in. Exactly one thread at a time may park in the
 * driver (multi-thread: whichever worker parks first takes it; the others park on their own
 * futex). Parking in the driver also processes the timers (and, with the I/O issue, polls
 * epoll). unpark() may be called from any thread and makes a concurrent or the next park
 * return at once. */
typedef struct weft__driver weft__driver;

/* Park up to timeout_ns (UINT64_MAX = until unparked), then fire expired timers. Caller must
 * own the driver (weft__driver_try_lock). */
void weft__driver_park(weft__driver *d, uint64_t timeout_ns);
void weft__driver_unpark(weft__driver *d);
bool weft__driver_try_lock(weft__driver *d);
void weft__driver_unlock(weft__driver *d);
/* The epoll reactor (runtime/net/reactor.h) the driver waits in, or NULL when the runtime was
 * built without enable_io (or is driven by the deterministic scheduler, which never parks). */
struct weft__reactor *weft__driver_reactor(weft__driver *d);
/* Choose the sockets' backend (runtime/net/net.c): called by weft_runtime_new with enable_io,
 * after the driver exists. 0 or an error. */
int weft__net_init(weft_runtime *rt);

/* ---------------------------------------------------------------- owned tasks
 *
 * Every live task is in one of a few mutex-protected lists (sharded by id so that spawns and
 * completions on different workers rarely meet on one lock). The list holds a reference. Once
 * closed, a task that tries to join is refused and cancelled at once. */
#define WEFT__OWNED_SHARDS 16

typedef struct weft__owned_shard {
    /* an inline lock, taken at every spawn and every completion; aligned so that each shard
     * has its own cache line */
    alignas(64) weft__futex_mutex lock;
    weft_task *head; /* doubly linked through weft_task.owned_next/prev */
    /* Tasks ever inserted and removed (weft_runtime_metrics.spawned_tasks, alive_tasks):
     * written under lock, read without it (relaxed), so no atomic read-modify-write. */
    _Atomic uint64_t inserted;
    _Atomic uint64_t removed;
} weft__owned_shard;

typedef struct weft__owned_tasks {
    weft__owned_shard shard[WEFT__OWNED_SHARDS];
    _Atomic bool closed;      /* set once by shutdown; read by every insert */
} weft__owned_tasks;

/* ---------------------------------------------------------------- the runtime */
typedef struct weft__blocking_pool weft__blocking_pool;
typedef struct weft__time_driver weft__time_driver;
typedef struct weft__det weft__det;

struct weft_runtime {
    weft_builder cfg;             /* copy of the builder, with defaults filled in */
    const weft__clock *clock;     /* never NULL */
    weft__sched *sched;           /* the backend */
    weft__driver *driver;         /* park/unpark + timers */
    weft__time_driver *time;      /* NULL without enable_time */
    weft__blocking_pool *blocking;
    weft__owned_tasks owned;
    weft__task_pool task_pool;    /* free task blocks for reuse (task/task_alloc.h) */
    _Atomic bool closed;          /* shutdown has begun: schedule() drops instead of queueing */
    uint64_t id;                  /* process-unique */
    weft__det *det;               /* the deterministic scheduler (replay/) when it is the
                                   * backend, else NULL; fixed at creation */
    const struct weft__net_backend *net; /* sockets' backend (runtime/net/backend.h): real or
                                   * simulated; NULL without enable_io; fixed at creation */
};

/* ---------------------------------------------------------------- per-thread context
 *
 * Set by a scheduler on every thread it runs tasks on (and by block_on). */
typedef struct weft__thread_ctx {
    weft_runtime *rt;        /* runtime whose task or block_on runs on this thread, or NULL */
    void *sched_local;       /* the backend's per-thread state (the worker; the ct core) */
    weft_task *task;         /* task being polled, or NULL */
    int budget;              /* coop budget of the current poll; -1 = unconstrained */
    bool self_woken;         /* `task` woke itself by reference during this poll (a yield, a
                              * spent budget): recorded here, applied by to_idle's CAS */
    bool coop_forced;        /* the budget ran out during this poll and a leaf future made the
                              * task yield (weft_runtime_metrics.budget_forced_yields) */
    weft__task_cache *task_cache; /* this thread's cache of task blocks, or NULL */
} weft__thread_ctx;

extern _Thread_local weft__thread_ctx weft__tls;

/* The cooperative budget's fast path, inline for the runtime's own leaf futures (a call per
 * ready channel or lock operation was ~9% of a current-thread mpsc send). The exported
 * weft_coop_proceed (task/coop.c) does the same for user futures; the macro below makes the
 * runtime's calls use this copy. */
static inline bool weft__coop_proceed_inline(weft_context *cx)
{
    int budget = weft__tls.budget;
    if (budget < 0)
        return true; /* not inside a task poll: block_on's root future, tests */
    if (budget > 0) {
        weft__tls.budget = budget - 1;
        return true;
    }
    weft__tls.coop_forced = true;
    weft_waker_wake_by_ref(cx->waker);
    return false;
}
#define weft_coop_proceed(cx) weft__coop_proceed_inline(cx)

/* ---------------------------------------------------------------- tasks */
enum weft__task_kind {
    WEFT__TASK_ASYNC = 0,    /* a future polled by the scheduler */
    WEFT__TASK_BLOCKING = 1, /* a blocking function run once on the blocking pool */
};

struct weft_task {
    /* State bits and reference count in one word; changed only by task/state.c. */
    _Atomic uint64_t state;
    weft__sched *sched;           /* who runs it; fixed at spawn */
    weft_runtime *rt;             /* fixed at spawn */
    /* Run-queue link: owned by whichever queue holds the task's notified reference. */
    weft_task *queue_next;
    /* Owned-list links: guarded by the shard lock of owned.c. */
    weft_task *owned_next, *owned_prev;
    /* Join waker: written by the join handle while JOIN_WAKER is clear, read by the task's
     * runner after COMPLETE is set while JOIN_WAKER is set (the protocol of state.c). */
    weft_waker join_waker;
    /* Outcome: written by the runner before COMPLETE is published, read after it. */
    int status;
#if WEFT_INSTRUMENT
    /* What the task waits on, for the instrumentation's snapshots, kept in padding so that
     * the header does not grow: written by the task's poller in the task_wait and
     * task_wait_done hooks (only while tracing), read by the snapshot thread. The resource
     * id's low 32 bits (the snapshot finds the full id among the live resources); the
     * await's interned location; the weft_resource_op + 1, or 0 when not waiting. */
    _Atomic uint32_t trace_wait_res;
#endif
    intptr_t value;
    /* Identity, fixed at spawn. */
    weft_task_id id;
    weft_task_id parent;          /* 0 when spawned from outside any task */
    const char *name;
    weft_location spawned_at;
    unsigned char kind;           /* enum weft__task_kind */
    /* Set by the runner once the future was dropped or finished; owned by the runner. */
    bool future_done;
#if WEFT_INSTRUMENT
    _Atomic uint8_t trace_wait_op;   /* see trace_wait_res */
    _Atomic uint32_t trace_wait_loc;
#endif
    size_t future_size;
    alignas(max_align_t) unsigned char future[];
};

static inline weft_future *weft__task_future(weft_task *t)
{
    return (weft_future *)t->future;
}

/* Allocate and spawn: the common path of weft_spawn, JoinSet and spawn_blocking. On success
 * returns the task with the join handle's reference; the task is queued. On failure returns
 * NULL and sets *err. */
weft_task *weft__task_spawn(weft_runtime *rt, weft__sched *sched, const weft_future *fut,
                            size_t size, const char *name, weft_location where, int kind,
                            int *err);

/* Poll a task once: the scheduler's single entry point. Consumes the notified reference. */
void weft__task_run(weft_task *t);

/* Drop a queued task's notified reference without running it (queues drained at shutdown). */
void weft__task_drop_notified(weft_task *t);

/* Shutdown: cancel a task taken off the owned list (drop its future if it is idle), consuming
 * the list's reference. */
void weft__task_shutdown(weft_task *t);

/* Join-handle plumbing shared by JoinHandle and JoinSet. */
/* Poll for the outcome: READY and fills status/value, or registers `waker` and PENDING. */
weft_poll weft__task_poll_join(weft_task *t, const weft_waker *waker, int *status,
                               intptr_t *value);
/* Drop the join handle's interest and reference. */
void weft__task_drop_join(weft_task *t);
void weft__task_abort(weft_task *t);
/* A join handle for a task just spawned (t != NULL) or for a failed spawn (t == NULL, err). */
weft_join_handle weft__join_handle_for(weft_task *t, int err);
/* The waker vtable of tasks: wakers whose vt is this wake a weft_task. */
extern const weft_waker_vtable weft__task_waker_vt;
bool weft__task_is_complete(const weft_task *t);

/* Owned tasks (task/owned.c). */
void weft__owned_init(weft__owned_tasks *o);
/* Live tasks (inserted, not yet removed), read without locks: exact when nothing runs. */
size_t weft__owned_count(const weft__owned_tasks *o);
/* Insert; fails (false) once the list is closed. */
bool weft__owned_insert(weft__owned_tasks *o, weft_task *t);
/* Remove if present; true if it was (then the caller releases the list's reference). */
bool weft__owned_remove(weft__owned_tasks *o, weft_task *t);
/* Close and shut down every task in the list; loops until the list is empty. */
void weft__owned_close_and_shutdown_all(weft__owned_tasks *o);
void weft__owned_destroy(weft__owned_tasks *o);

/* Coop budget (coop.c): the scheduler brackets each task poll with these. */
static inline void weft__coop_begin(void)
{
    weft__tls.budget = WEFT_COOP_BUDGET;
    weft__tls.coop_forced = false;
}
static inline void weft__coop_end(void) { weft__tls.budget = -1; }

/* The runtime a spawn from this thread goes to (rt argument, else the thread's). */
static inline weft_runtime *weft__runtime_or_current(weft_runtime *rt)
{
    return rt ? rt : weft__tls.rt;
}

/* ---------------------------------------------------------------- scheduler constructors */
int weft__current_thread_new(weft_runtime *rt, weft__sched **out);
int weft__multi_thread_new(weft_runtime *rt, weft__sched **out);

/* Blocking pool (blocking/pool.c). */
int weft__blocking_pool_new(weft_runtime *rt, weft__blocking_pool **out);
/* Cancel queued work, wait for running work until deadline_ns (real clock); 0 or
 * WEFT_ETIMEDOUT (threads still running are left behind, the pool leaked on purpose). */
int weft__blocking_pool_shutdown(weft__blocking_pool *p, uint64_t deadline_ns);
void weft__blocking_pool_free(weft__blocking_pool *p);
/* Start a thread for the runtime with the builder's name, stack size and hooks. */
int weft__thread_spawn(weft_runtime *rt, pthread_t *th, void *(*fn)(void *), void *arg,
                       const char *suffix);

/* Driver (driver.c). */
int weft__driver_new(weft_runtime *rt, weft__driver **out);
void weft__driver_free(weft__driver *d);

/* Time driver (time/driver.c); see time/time_int.h. */

/* ---------------------------------------------------------------- deterministic scheduler
 *
 * The seams through which replay/ takes over a runtime (see replay/det_int.h). runtime.c calls
 * weft__det_new first: without WEFT_SCHED or an armed exploration it leaves rt->det NULL;
 * otherwise it sets rt->det and the virtual rt->clock. After the driver, time driver and
 * blocking pool exist, weft__det_sched_install sets rt->sched; weft__det_discard frees a det
 * whose runtime failed to build. */
int weft__det_new(weft_runtime *rt);
int weft__det_sched_install(weft_runtime *rt);
void weft__det_discard(weft_runtime *rt);

/* Seed this thread's weft_rand stream (rand.c): the deterministic scheduler's seed. */
void weft__rand_seed(uint64_t seed);

/* What primitives report, for the deterministic scheduler's wait-for graph: called through
 * the macros of runtime/sync/resource.h. One thread-local load when the calling thread does not
 * run a deterministic runtime. `op` is a weft_resource_op; for weft__det_resource_event, `what`
 * is the event's name and a1, a2 its first two fields after the resource (lock_acquire: task,
 * op; permit_acquire: task, n; others are ignored). */
struct weft_resource;
void weft__det_on_resource_wait(const struct weft_resource *r, int op, weft_location where);
void weft__det_on_resource_wait_done(const struct weft_resource *r, int op);
void weft__det_on_resource_event(const char *what, const struct weft_resource *r, uint64_t a1,
                                 uint64_t a2);
/* A blocking lock (weft_blocking_mutex) of a mutex locked earlier on this same thread, by
 * `holder` (a task id, 0 for block_on's future): on the deterministic scheduler, where every
 * task runs on this one thread, nobody could ever unlock it while the thread waits, so this
 * records the deadlock as the run's failure and returns true: the caller must return at once
 * instead of blocking. Returns false (block as usual) on any other scheduler. */
bool weft__det_on_blocking_self_deadlock(const struct weft_resource *r, uint64_t holder,
                                         weft_location where);

#define WEFT__DET_ACTIVE() __builtin_expect(weft__tls.rt != NULL && weft__tls.rt->det != NULL, 0)

static inline void weft__det_resource_wait(const struct weft_resource *r, int op,
                                           weft_location where)
{
    if (WEFT__DET_ACTIVE())
        weft__det_on_resource_wait(r, op, where);
}

static inline void weft__det_resource_wait_done(const struct weft_resource *r, int op)
{
    if (WEFT__DET_ACTIVE())
        weft__det_on_resource_wait_done(r, op);
}

static inline void weft__det_resource_event(const char *what, const struct weft_resource *r,
                                            uint64_t a1, uint64_t a2)
{
    if (WEFT__DET_ACTIVE())
        weft__det_on_resource_event(what, r, a1, a2);
}

#endif
