/* runtime/sched/multi_thread/mt_int.h - what the files of the multi-thread scheduler share.
 *
 *   queue.c   each worker's bounded local run queue (owner pushes/pops, others steal half)
 *   inject.c  the global injection queue: tasks scheduled from outside the workers, overflow
 *   idle.c    who is searching for work, who sleeps, and whom a new task should wake
 *   worker.c  the run loop, parking, schedule/block_on/shutdown: weft__multi_thread_new
 *
 * Nothing outside runtime/sched/multi_thread/ may include this file.
 */
#ifndef WEFT_MT_INT_H
#define WEFT_MT_INT_H

#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "../../rt_int.h"
#include "../../metrics/counters.h"
#include "../../util/parker.h"
#include "queue.h"

/* Cache line size assumed for padding: per-worker hot fields must not share a line with
 * another worker's. */
#define WEFT__MT_CACHE_LINE 64

/* ---------------------------------------------------------------- injection queue (inject.c)
 *
 * A FIFO of tasks linked through weft_task.queue_next under one mutex. `len` mirrors the list
 * length so that workers can see that it is empty, the common case, without the lock. */
struct weft__mt_inject {
    pthread_mutex_t lock;
    weft_task *head, *tail; /* guarded by lock */
    bool closed;            /* guarded by lock; set once at shutdown, pushes then drop */
    _Atomic size_t len;     /* written under lock; read without it as a hint */
};

void weft__mt_inject_init(weft__mt_inject *q);
void weft__mt_inject_destroy(weft__mt_inject *q);
/* Push `n` tasks linked first..last through queue_next. Takes over their notified references:
 * once the queue is closed they are dropped instead (weft__task_drop_notified). Any thread. */
void weft__mt_inject_push_batch(weft__mt_inject *q, weft_task *first, weft_task *last,
                                size_t n);
static inline void weft__mt_inject_push(weft__mt_inject *q, weft_task *t)
{
    weft__mt_inject_push_batch(q, t, t, 1);
}
/* Pop up to `max` (>= 1) tasks in FIFO order, linked through queue_next (the last link is
 * NULL); *n receives how many. NULL when empty. Works on a closed queue too (draining). */
weft_task *weft__mt_inject_pop_batch(weft__mt_inject *q, size_t max, size_t *n);
/* Refuse further pushes. Queued tasks stay until popped. */
void weft__mt_inject_close(weft__mt_inject *q);

static inline size_t weft__mt_inject_len(weft__mt_inject *q)
{
    return atomic_load_explicit(&q->len, memory_order_relaxed);
}

/* ---------------------------------------------------------------- idle accounting (idle.c)
 *
 * `state` packs two counts so that one atomic read answers "should a new task wake someone?":
 *
 *    63                 32 31                  0
 *   ┌─────────────────────┬─────────────────────┐
 *   │ unparked workers    │ searching workers   │
 *   └─────────────────────┴─────────────────────┘
 *
 * A worker is "unparked" unless it is in the sleepers stack, and "searching" while it looks for
 * work in other workers' queues without having found any. The sleepers stack and the
 * `sleeping` flags change only under `lock`, together with the unparked count, so that under
 * the lock  nsleepers == nworkers - unparked. */
typedef struct weft__mt_idle {
    _Atomic uint64_t state;   /* see the diagram; every field change is a seq_cst RMW */
    unsigned nworkers;        /* fixed at init */
    pthread_mutex_t lock;     /* guards nsleepers, sleepers and writes of sleeping[] */
    unsigned nsleepers;       /* guarded by lock */
    unsigned *sleepers;       /* guarded by lock: stack of parked worker indices */
    _Atomic bool *sleeping;   /* per worker: in the stack; written under lock, read freely */
} weft__mt_idle;

int weft__mt_idle_init(weft__mt_idle *idle, unsigned nworkers);
void weft__mt_idle_destroy(weft__mt_idle *idle);
/* The calling worker wants to search. False if half the workers already search (more would
 * only fight over the same queues); true and counted otherwise. */
bool weft__mt_idle_to_searching(weft__mt_idle *idle);
/* A searching worker found work. True if it was the last searcher: then it must wake another
 * worker (weft__mt_notify_parked), because where there was work there may be more. */
bool weft__mt_idle_from_searching(weft__mt_idle *idle);
/* The worker goes to sleep: leaves the unparked (and, if `searching`, the searching) count and
 * joins the sleepers. True if it was the last searcher: it must then look at every queue once
 * more and wake a worker if any holds work (the other half of the lost-wakeup argument). */
bool weft__mt_idle_to_parked(weft__mt_idle *idle, unsigned index, bool searching);
/* A sleeping worker woke up on its own (a timer fired into its queue). True if it took itself
 * off the stack (it is unparked and not searching); false if a notifier already did, in which
 * case it was counted as searching. */
bool weft__mt_idle_unpark_by_id(weft__mt_idle *idle, unsigned index);
/* Whether a new task should wake a worker, and which: pops a sleeper, counting it as unparked
 * and searching, and returns its index; -1 when a worker is already searching or none sleeps.
 * The caller has published its task; the function issues the pusher's fence itself. */
int weft__mt_idle_worker_to_notify(weft__mt_idle *idle);
/* The seq_cst fence of both halves of the Dekker pattern (see idle.c). ThreadSanitizer does
 * not model fences (and warns about them), so under it a seq_cst read-modify-write of the idle
 * state stands in: every pusher and every sleeper then meets on that one word, which orders the
 * same accesses in a way TSan understands. Production code keeps the fence, which writes no
 * shared cache line. */
#if defined(__SANITIZE_THREAD__)
#define WEFT__MT_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define WEFT__MT_TSAN 1
#endif
#endif
static inline void weft__mt_idle_fence(weft__mt_idle *idle)
{
#ifdef WEFT__MT_TSAN
    (void)atomic_fetch_add_explicit(&idle->state, 0, memory_order_seq_cst);
#else
    (void)idle;
    atomic_thread_fence(memory_order_seq_cst);
#endif
}

/* Whether worker `index` is still on the stack (nobody has woken it). */
static inline bool weft__mt_idle_is_sleeping(weft__mt_idle *idle, unsigned index)
{
    return atomic_load_explicit(&idle->sleeping[index], memory_order_acquire);
}
/* Cheap unfenced hint: true when waking a worker could help (nobody searches, someone
 * sleeps). Used on the local-push path where a missed wake costs parallelism, not liveness. */
bool weft__mt_idle_wants_notify_hint(weft__mt_idle *idle);

/* ---------------------------------------------------------------- workers (worker.c) */
typedef struct weft__mt_shared weft__mt_shared;

/* Where a worker sleeps; `park_state` lets an unparker pick the right wake-up. */
enum {
    WEFT__MT_PARK_EMPTY = 0,    /* running, or about to park */
    WEFT__MT_PARK_DRIVER = 1,   /* asleep in the runtime's driver (it holds the driver lock) */
    WEFT__MT_PARK_PARKER = 2,   /* asleep on its own parker */
    WEFT__MT_PARK_NOTIFIED = 3, /* an unpark arrived; the next park returns at once */
};

typedef struct weft__mt_worker {
    /* Fixed at creation. */
    weft__mt_shared *shared;
    unsigned index;
    /* Owned by the worker thread (and by shutdown once the thread is joined). */
    weft_task *lifo;       /* most recently scheduled task: run next, never stolen */
    unsigned lifo_streak;  /* LIFO polls in a row; capped so the queue is not starved */
    unsigned until_maint;  /* ticks left before the next maintenance visit */
    bool searching;        /* counted as searching in idle.state */
    bool parking;          /* inside park(): wakes landing here need no notify */
    weft__worker_counters counters; /* weft/metrics.h: written by this thread, read by any */
    /* Written by the thread that creates or shuts down the scheduler. */
    pthread_t thread;
    bool started;          /* the thread exists */
    bool joined;           /* the thread was joined at shutdown */

    /* The run queue: its own cache lines (stealers hammer head/tail). */
    alignas(WEFT__MT_CACHE_LINE) weft__mt_queue queue;

    /* Parking: any thread unparks. */
    alignas(WEFT__MT_CACHE_LINE) _Atomic uint32_t park_state; /* WEFT__MT_PARK_* */
    weft__parker parker;   /* slept on when another thread holds the driver */
    _Atomic bool exited;   /* set by the worker as it leaves its loop; read by shutdown */
} weft__mt_worker;

struct weft__mt_shared {
    weft__sched base;             /* ops + rt; must be first */
    unsigned nworkers;            /* fixed */
    weft__mt_worker *workers;     /* nworkers entries, each on its own cache lines */
    /* Read by every worker on every loop; written once, at shutdown. */
    alignas(WEFT__MT_CACHE_LINE) _Atomic bool shutdown;
    alignas(WEFT__MT_CACHE_LINE) weft__mt_inject inject;
    /* Tasks pushed to `inject` from outside the workers (weft/metrics.h): relaxed fetch-add
     * by the pusher, which takes inject's lock right after anyway. */
    _Atomic uint64_t remote_schedules;
    alignas(WEFT__MT_CACHE_LINE) weft__mt_idle idle;
    /* block_on callers currently waiting, so that shutdown can wake them. */
    alignas(WEFT__MT_CACHE_LINE) pthread_mutex_t waiters_lock;
    struct weft__mt_waiter *waiters; /* guarded by waiters_lock */
    /* The shutting-down thread sleeps here until every worker has exited or the deadline
     * passes; each exiting worker unparks it. */
    weft__parker shutdown_parker;
};

/* Wake one sleeping worker if no worker is searching (the caller published work first). Any
 * thread. */
void weft__mt_notify_parked(weft__mt_shared *s);

#endif
