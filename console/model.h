/* console/model.h - the console's picture of a program, built from its events alone.
 *
 * Every view of the console reads this model; only model.c writes it, one event at a time
 * (model_apply), in the order the reader hands events out. Nothing here knows where events
 * come from (live rings, a trace database, a unit test's synthetic list) or how they are
 * drawn. The model is the state *at its last event*: replaying a recording to a cursor is
 * applying the events before the cursor to a fresh model.
 *
 * What it keeps:
 *   tasks      identity (name, spawn location, parent), state, times (busy, scheduled, idle),
 *              poll and scheduled-time histograms, wakes and wakers, what it waits on now
 *   resources  identity (kind, name, location, capacity), live attributes (holders, permits,
 *              length, handles, version), the queue of tasks waiting on it
 *   workers    per runtime thread that polls tasks: polls, busy time, steals, parks, recent
 *              polls for the timeline
 *   timers     armed timers (deadline, the task that armed it)
 *
 * Bounds: finished tasks and dropped resources are forgotten `retain_ns` after they ended
 * (model_gc); histograms have a fixed number of buckets; each worker keeps its last
 * MODEL_SPANS polls. So memory follows the number of *live* tasks, not the run's length.
 *
 * Threads: a model is used by one thread.
 */
#ifndef WEFT_CONSOLE_MODEL_H
#define WEFT_CONSOLE_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../instrument/reader.h"
#include "hist.h"

#define MODEL_SPANS 2048        /* polls a worker keeps for the timeline (power of two) */
#define MODEL_MAX_HOLDERS 16    /* holders of one resource the model tracks by name */
#define MODEL_THREADS 256       /* threads (event streams) whose polled task is tracked */

typedef enum task_state {
    TASK_IDLE = 0,      /* waiting to be woken */
    TASK_SCHEDULED = 1, /* woken (or new), waiting for a worker */
    TASK_RUNNING = 2,   /* being polled */
    TASK_DONE = 3,      /* completed, cancelled or failed */
} task_state;

/* What a task waits on: a resource (set by task_wait, cleared by task_wait_done) or another
 * task's outcome (set by task_join_wait, cleared by task_join_wait_done), both cleared by
 * completion. One at a time: a new wait replaces the previous one. */
typedef struct task_wait {
    uint64_t resource;  /* 0: not waiting on a resource */
    uint64_t join;      /* 0: not awaiting a join; else the id of the task it awaits */
    uint32_t location;  /* interned location of the await (resource waits) */
    uint8_t op;         /* weft_resource_op */
    uint64_t since;     /* ts the wait began */
} task_wait;

typedef struct model_task {
    uint64_t id;
    uint64_t parent;          /* 0: spawned from outside any task */
    uint32_t name;            /* interned string, 0 if none */
    uint32_t location;        /* interned spawn location */
    uint32_t runtime;
    uint8_t kind;             /* weft_ev_task_kind */
    task_state state;
    uint8_t outcome;          /* weft_ev_outcome, when DONE */
    int32_t status;
    bool from_snapshot;       /* first seen in a snapshot: its early history is unknown */
    bool wakers_exact;        /* every clone/drop of its wakers was seen (not from snapshot) */
    bool woken_while_running; /* a wake during the current poll: scheduled again after it */
    uint64_t spawned;         /* ts first seen */
    uint64_t state_since;     /* ts of the last state change */
    uint64_t done_at;
    uint64_t poll_start;      /* ts of the current poll's begin, when RUNNING */
    uint32_t poll_worker;     /* worker polling it, when RUNNING */
    uint64_t busy_ns, sched_ns, idle_ns; /* total time per state, closed intervals only */
    uint64_t first_poll_ns;   /* length of its first poll (or of it so far) */
    uint64_t polls, wakes, self_wakes;
    uint64_t waker_clones, waker_drops;
    int64_t wakers;           /* live wakers: clones - drops - by-value wakes */
    uint64_t last_wake;       /* ts */
    uint64_t last_waker;      /* task id of the last waker, 0 if not a task */
    uint64_t long_polls;      /* polls longer than the long-poll threshold */
    uint64_t max_poll_ns;
    uint64_t pending_holding_blocking; /* PENDING returns while holding a blocking mutex */
    uint32_t blocking_held;   /* blocking mutexes it holds now */
    task_wait wait;
    hist poll_hist;           /* poll durations */
    hist sched_hist;          /* scheduled-to-polled delays */
} model_task;

/* One holder of a resource: a lock's owner (op lock/read/write) or a permit holder. */
typedef struct res_holder {
    uint64_t task;
    uint64_t n;   /* permits, or 1 for a lock */
    uint8_t op;
    uint64_t since;
} res_holder;

typedef struct model_resource {
    uint64_t id;
    uint8_t kind;            /* weft_resource_kind */
    uint32_t name, location;
    uint64_t capacity;       /* permits or channel capacity at creation, 0 unbounded/none */
    uint64_t created, dropped_at;
    bool dropped;
    /* live attributes: which ones mean something depends on kind */
    res_holder holders[MODEL_MAX_HOLDERS];
    unsigned nholders;
    uint64_t holders_overflow; /* holders beyond MODEL_MAX_HOLDERS (counted, not named) */
    uint64_t permits_total;  /* semaphore: capacity + added - forgotten */
    uint64_t available;      /* semaphore permits available */
    bool available_known;
    uint64_t len, max_len;   /* channel length now and its high-water mark */
    uint64_t sends, recvs;
    uint64_t last_empty;     /* ts the channel was last seen empty */
    bool closed;
    uint32_t senders, receivers;
    bool refs_known;
    uint64_t version;        /* watch version, barrier generation */
    uint64_t bytes_in, bytes_out; /* sockets: bytes received and sent so far */
    bool bytes_known;
    uint64_t arrived, barrier_n;
    bool notify_stored;      /* notify: a stored permit */
    unsigned waiters;        /* tasks whose wait.resource is this one */
    uint64_t receiver;       /* mpsc/oneshot: the task last seen receiving from it (or waiting
                                to), the one a full channel's senders wait for */
} model_resource;

typedef struct poll_span {
    uint64_t task, start, end;
} poll_span;

typedef struct model_worker {
    uint32_t runtime, index;
    uint8_t kind;            /* weft_ev_thread_kind (worker, block_on, blocking) */
    uint64_t polls, busy_ns, steals, stolen_tasks, parks;
    bool parked, polling;
    uint64_t poll_start, poll_task;
    uint64_t first_ts, last_ts;
    /* Queue depths from the last worker_queues sample (a busy worker reports them every few
     * dozen ticks); a worker that parks has an empty local queue. -1: never reported. */
    int64_t local_queue;     /* tasks in its local queue (LIFO slot included) */
    int64_t inject_queue;    /* tasks in its runtime's injection queue, as it saw it */
    uint64_t queues_ts;      /* ts of that sample (0: none) */
    poll_span spans[MODEL_SPANS];
    uint64_t nspans;         /* total ever; spans[i % MODEL_SPANS] */
} model_worker;

typedef struct model_timer {
    uint64_t id, deadline, task, armed_at;
} model_timer;

/* Thresholds of the lints (console flags), in nanoseconds or ratios. */
typedef struct model_limits {
    uint64_t long_poll_ns;       /* 10 ms */
    uint64_t never_yield_ns;     /* 1 s busy in the first poll */
    uint64_t lost_waker_ns;      /* 1 s idle with no waker before it is reported */
    uint64_t starved_ns;         /* 100 ms scheduled without a poll */
    uint64_t long_await_ns;      /* 1 s idle while holding an async lock */
    double self_wake_ratio;      /* 0.5 */
    uint64_t grow_min_len;       /* 64: a channel must hold this much to "only grow" */
    uint64_t grow_window_ns;     /* 1 s without being empty */
    uint64_t retain_ns;          /* finished tasks kept 6 s */
} model_limits;

void model_limits_default(model_limits *l);

typedef struct model {
    model_limits limits;
    /* tasks and resources: dense arrays of pointers + id hash maps (model.c) */
    model_task **tasks;
    size_t ntasks, cap_tasks;
    model_resource **res;
    size_t nres, cap_res;
    model_worker **workers;
    size_t nworkers;
    model_timer *timers;
    size_t ntimers, cap_timers;
    struct idmap *task_map, *res_map, *timer_map;
    /* names: learnt from string_def/location_def events, else asked of `names` */
    char **strings;
    size_t nstrings;
    struct { uint32_t file, func, line; bool known; } *locs;
    size_t nlocs;
    const weft_reader *names; /* borrowed, may be NULL */
    /* the stream */
    uint64_t first_ts, now;   /* first and last event timestamps */
    uint64_t events, dropped, steps; /* events applied, dropped by the program, decisions */
    uint64_t last_step_task;
    uint32_t runtimes, nworkers_declared;
    uint32_t last_runtime;    /* the last runtime_start's id: stands in for unknown threads */
    /* The task each thread is polling now (0: none), by event stream: an event emitted
     * between a poll's begin and end on the same thread was caused by that task. That is how
     * a channel's receiver is known from its recv events, which name no task. */
    uint64_t polling[MODEL_THREADS];
    bool runtime_stopped;
    bool in_snapshot;
    uint64_t tasks_done_forgotten, resources_forgotten;
} model;

void model_init(model *m, const model_limits *limits);
void model_free(model *m);

/* Apply one event (borrowed). Events whose fields make no sense (an unknown task's poll end,
 * say) are absorbed without harm: bad input never crashes the model. */
void model_apply(model *m, const weft_event *ev);

/* Forget what ended more than limits.retain_ns before `now`. */
void model_gc(model *m, uint64_t now);

model_task *model_task_get(const model *m, uint64_t id);
model_resource *model_res_get(const model *m, uint64_t id);

/* Names: "" when unknown. A location is formatted "file:line" with the directory removed. */
const char *model_string(const model *m, uint32_t id);
void model_location(const model *m, uint32_t id, char *buf, size_t size);

/* The task waits on something (a resource or a join) and is not done. */
static inline bool model_task_waits(const model_task *t)
{
    return t && t->state != TASK_DONE && (t->wait.resource != 0 || t->wait.join != 0);
}

const char *task_state_name(task_state s);
const char *model_res_kind_name(uint8_t kind);
const char *model_op_name(uint8_t op);

/* Time in the state the task is in now, added to the closed totals: busy/sched/idle as of
 * `now`. */
void model_task_times(const model_task *t, uint64_t now, uint64_t *busy, uint64_t *sched,
                      uint64_t *idle);

#endif
