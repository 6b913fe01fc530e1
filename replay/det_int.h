/* replay/det_int.h - what the files of the deterministic scheduler share.
 *
 *   config ──▶ weft__det (det_sched.c) ──records──▶ weft__det_record (record.c)
 *                │  strategy.c picks each step          │
 *                │  failure.c explains a stall          ├─ schedule_file.c writes / parses it
 *                │  virtual clock, blocking, limits     └─ explore.c, shrink.c read it
 *
 * A *run* is one execution of a program under one configuration. The configuration
 * (weft__det_config) says which strategy decides, its seed and limits, and for a replay the
 * schedule to follow. The run's *record* (weft__det_record) is everything the scheduler
 * decided and saw: the tasks, named by spawn location and ordinal; one step per decision with
 * the runnable set, the chosen task and what that task did; and the outcome. A record is what a
 * schedule file holds, and what the explorer, the shrinker and DFS read back.
 *
 * Who owns what: the explorer (explore.c) and the environment path (config.c) own configs and
 * records; a det scheduler borrows both for the life of its runtime. Everything here is used
 * by one thread at a time (the deterministic scheduler is single-threaded by design).
 */
#ifndef WEFT_DET_INT_H
#define WEFT_DET_INT_H

#include <stdio.h>
#include <weft/resource.h>
#include <weft/sched.h>

#include "rt_int.h"

#define WEFT__DET_FORMAT_VERSION 1
#define WEFT__DET_NONE UINT32_MAX

/* ---------------------------------------------------------------- strategies */
typedef enum weft__det_strategy {
    WEFT__DET_FIFO,   /* always the oldest runnable task: what current_thread would do */
    WEFT__DET_RANDOM, /* uniformly among the runnable tasks */
    WEFT__DET_PCT,    /* probabilistic concurrency testing: priorities + change points */
    WEFT__DET_DFS,    /* follow a prefix of choices, then the oldest (explore.c enumerates) */
    WEFT__DET_REPLAY, /* follow a schedule file step by step, checking every step */
    WEFT__DET_GUIDED, /* shrinking: prefer the tasks of a guide list, else the oldest */
} weft__det_strategy;

/* Limits of one run; 0 in a config means "the default". */
typedef struct weft__det_limits {
    uint64_t max_steps;      /* decisions before the run fails with "step-limit" */
    uint64_t max_vtime;      /* virtual nanoseconds before "vtime-limit" */
    uint64_t starvation;     /* steps a task may stay runnable without being polled */
} weft__det_limits;

#define WEFT__DET_DEFAULT_STEPS 1000000u
#define WEFT__DET_DEFAULT_VTIME (3600u * 1000000000ull)
#define WEFT__DET_DEFAULT_STARVATION 100000u

typedef struct weft__det_record weft__det_record;

/* A guide for WEFT__DET_GUIDED: a list of (decision index, task) wishes. `explicit_order`
 * false: at decision `at`, run `task` if it is runnable, else the oldest (the deviations of
 * a schedule from FIFO). true: ignore `at` and consume the list in order, running its next
 * task whenever it is runnable and the oldest otherwise (a whole schedule as a sequence). */
typedef struct weft__det_wish {
    uint64_t at;
    uint32_t task; /* alias in the guide's record */
} weft__det_wish;

typedef struct weft__det_guide {
    const weft__det_record *rec; /* names the tasks of the wishes */
    const weft__det_wish *wish;
    size_t n;
    bool explicit_order;
} weft__det_guide;

typedef struct weft__det_config {
    weft__det_strategy strategy;
    uint64_t seed;             /* strategy's random stream and weft_rand's seed */
    unsigned pct_depth;        /* PCT: bug depth d (d - 1 change points); >= 1 */
    uint64_t pct_steps;        /* PCT: estimate of the run's length k (change points in 1..k) */
    unsigned dfs_bound;        /* DFS: preemption bound (for the record's header) */
    const uint32_t *prefix;    /* DFS: choice index per step for the first prefix_len steps */
    size_t prefix_len;
    const weft__det_record *replay; /* REPLAY: the schedule to follow */
    bool tolerant;             /* REPLAY: on divergence continue with `fallback` */
    weft__det_strategy fallback; /* FIFO or RANDOM */
    weft__det_guide guide;     /* GUIDED */
    weft__det_limits limits;
    bool allow_alive;          /* tasks alive at shutdown are not a failure */
    bool step_mode;            /* print each decision and wait for Enter (weft replay --step) */
    bool verbose;              /* print the outcome to stderr at the end (env runs) */
    const char *program;       /* identity written into the record */
    const char *strategy_text; /* how the header names the strategy ("random", "pct:3") */
} weft__det_config;

/* ---------------------------------------------------------------- records */
enum weft__det_task_kind {
    WEFT__DET_ROOT = 0,     /* block_on's future */
    WEFT__DET_ASYNC = 1,    /* weft_spawn */
    WEFT__DET_BLOCKING = 2, /* spawn_blocking */
};

/* A task as a schedule names it. Its identity is (name, file, func, ordinal): the ordinal
 * counts the tasks with the same name spawned from the same function of the same file, so an
 * edit elsewhere in the program leaves the names of a schedule valid. The line is for people.
 * Strings are offsets into the record's string pool. */
typedef struct weft__det_task {
    uint32_t name;    /* task name (weft_spawn_named's, or the future type's) */
    uint32_t file;    /* basename of the spawning source file ("" for the root) */
    uint32_t func;    /* spawning function */
    int32_t line;     /* spawning line */
    uint32_t ordinal; /* 1-based among tasks of equal (name, file, func) */
    uint32_t parent;  /* alias of the spawning task, WEFT__DET_NONE from outside tasks */
    uint8_t kind;     /* enum weft__det_task_kind */
} weft__det_task;

/* What the chosen task did in its poll (the "operation" of a step). */
typedef enum weft__det_op {
    WEFT__OP_PENDING = 0, /* returned PENDING (on something that does not report itself) */
    WEFT__OP_DONE,        /* returned READY: the task finished */
    WEFT__OP_YIELD,       /* woke itself and returned PENDING (yield_now, spent budget) */
    WEFT__OP_WAIT,        /* went to sleep on a resource: res_op on `detail` at file:line */
    WEFT__OP_CANCELLED,   /* it was aborted: its future was dropped instead of polled */
    WEFT__OP_BLOCKING,    /* a blocking function ran; `detail` holds its virtual duration */
    WEFT__OP_FAILED,      /* a weft_assert failed during the poll */
    WEFT__OP_COUNT_
} weft__det_op;

typedef struct weft__det_step {
    uint64_t t_ns;     /* virtual time when the decision was taken */
    uint32_t chosen;   /* task alias */
    uint32_t run_off;  /* runnable aliases: rec->runnable[run_off .. run_off + nrun) */
    uint32_t nrun;     /* in queue order: index 0 is the oldest, the FIFO choice */
    uint8_t op;        /* weft__det_op */
    uint8_t res_op;    /* weft_resource_op, for WEFT__OP_WAIT */
    uint32_t detail;   /* string: resource name, or extra text; 0 = none */
    uint32_t file;     /* string: source file of the operation; 0 = unknown */
    int32_t line;
} weft__det_step;

/* How a run ended. Kinds that are failures sort after OK. */
#define WEFT__DET_OUTCOMES(X)                                                   \
    X(OK, "ok")                                                                 \
    X(DEADLOCK, "deadlock")             /* a wait-for cycle */                  \
    X(LOST_WAKEUP, "lost-wakeup")       /* pending with no waker anywhere */    \
    X(JOIN_STALL, "join-stall")         /* awaits a task that cannot finish */  \
    X(TIMER_STALL, "timer-stall")       /* only timers past the limit remain */ \
    X(STALL, "stall")                   /* nothing runnable, no timer, else */  \
    X(ASSERTION, "assertion")                                                   \
    X(VTIME_LIMIT, "vtime-limit")                                               \
    X(STEP_LIMIT, "step-limit")                                                 \
    X(STARVATION, "starvation")                                                 \
    X(ALIVE, "tasks-alive")             /* tasks alive at shutdown */           \
    X(DIVERGED, "divergence")           /* replay could not follow */           \
    X(NONDETERMINISM, "nondeterminism") /* same schedule, different run */      \
    X(EXIT, "exit-status")              /* the program or body returned != 0 */ \
    X(CRASH, "crash")                   /* killed by a signal */                \
    X(NO_RUNTIME, "no-runtime")         /* the program never built a runtime */

typedef enum weft__det_outcome_kind {
#define WEFT__DET_OUT_ENUM_(name, label) WEFT__OUT_##name,
    WEFT__DET_OUTCOMES(WEFT__DET_OUT_ENUM_)
#undef WEFT__DET_OUT_ENUM_
    WEFT__OUT_COUNT_
} weft__det_outcome_kind;

const char *weft__det_outcome_name(int kind);
int weft__det_outcome_parse(const char *label); /* -1 if unknown */

/* Interning of strings by address: programs hand us string literals (names, __FILE__), so the
 * same pointer comes back at every step. Direct-mapped; a miss only costs a copy. */
#define WEFT__DET_INTERN_SLOTS 256

struct weft__det_record {
    /* header */
    uint32_t version;          /* format version it was written with */
    uint32_t program;          /* string */
    uint32_t strategy;         /* string: "random", "pct:3", "dfs:2", "fifo", "shrunk:random" */
    uint64_t seed;
    weft__det_limits limits;
    /* tasks: alias i is tasks[i] */
    weft__det_task *tasks;
    uint32_t ntasks, cap_tasks;
    /* decisions */
    weft__det_step *steps;
    uint64_t nsteps, cap_steps;
    uint32_t *runnable;
    uint64_t nrunnable, cap_runnable;
    /* outcome */
    int outcome;               /* weft__det_outcome_kind */
    uint64_t outcome_step;     /* the step at which it was decided (== nsteps for a stall) */
    uint32_t message;          /* string: the explanation, may span lines */
    uint32_t signature;        /* string: compares failures "of the same kind" (shrinking) */
    uint64_t preemptions;      /* steps whose chosen task was not runnable[0] */
    uint64_t vtime;            /* virtual time at the end */
    int exit_status;           /* EXIT: the status; CRASH: the signal */
    /* string pool: offset 0 is "" */
    char *str;
    uint32_t nstr, cap_str;
    struct {
        const char *ptr;
        uint32_t off;
    } intern[WEFT__DET_INTERN_SLOTS];
    /* identity index, built on demand by weft__det_record_find_task */
    uint32_t *index;
    uint32_t index_cap;
};

/* A record ready to be filled; 0 or WEFT_ENOMEM. */
int weft__det_record_init(weft__det_record *r);
/* Empty it for the next run, keeping its memory. */
void weft__det_record_reset(weft__det_record *r);
void weft__det_record_free(weft__det_record *r);
/* Deep copy (dst must be initialised): 0 or WEFT_ENOMEM. */
int weft__det_record_copy(weft__det_record *dst, const weft__det_record *src);

/* The string at `off` (never NULL). */
static inline const char *weft__det_str(const weft__det_record *r, uint32_t off)
{
    return r->str + off;
}
/* Add a string by content; returns its offset (0 for NULL or ""), or UINT32_MAX when out of
 * memory (callers treat it as ""). */
uint32_t weft__det_str_add(weft__det_record *r, const char *s);
uint32_t weft__det_str_addn(weft__det_record *r, const char *s, size_t n);
/* The same, remembering the address: for strings that live as long as the program. */
uint32_t weft__det_str_intern(weft__det_record *r, const char *s);
uint32_t weft__det_str_printf(weft__det_record *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Append a task or a step; they return the alias / step index, or UINT32_MAX / UINT64_MAX
 * when out of memory. */
uint32_t weft__det_record_add_task(weft__det_record *r, const weft__det_task *t);
uint64_t weft__det_record_add_step(weft__det_record *r, const weft__det_step *s,
                                   const uint32_t *runnable, uint32_t nrun);

/* Find the alias of the task with the same identity as `t` of record `from`, or NONE. */
uint32_t weft__det_record_find_task(weft__det_record *r, const weft__det_record *from,
                                    uint32_t alias);

/* How people see task `alias`: "T3 transfer (two_lock.c:88 #2)". Into buf; returns buf. */
const char *weft__det_task_label(const weft__det_record *r, uint32_t alias, char *buf,
                                 size_t size);
/* What a step's task did, in words: "lock mutex 'a' at two_lock.c:45". */
const char *weft__det_step_op_text(const weft__det_record *r, const weft__det_step *s,
                                   char *buf, size_t size);
const char *weft__det_op_name(int op);
/* "to lock", "for a notification from", ...: what waiting on a resource op means. */
const char *weft__det_wait_phrase(int res_op, int res_kind); /* kind -1: unknown */

/* Set the outcome (message printf-style); the first failure of a run wins. */
void weft__det_record_fail(weft__det_record *r, int kind, uint64_t step, const char *sig,
                           const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* ---------------------------------------------------------------- schedule files
 *
 * Write the record as a schedule file (text, see schedule_file.c). 0 or a negative WEFT_E*. */
int weft__det_write(const weft__det_record *r, FILE *out);
int weft__det_write_path(const weft__det_record *r, const char *path);
/* Write into a memory buffer (malloc'd, caller frees): 0 or WEFT_ENOMEM. */
int weft__det_write_mem(const weft__det_record *r, char **buf, size_t *len);

/* Parse a schedule. `program` (may be NULL) must match the file's program. On failure returns
 * WEFT_EFORMAT (or WEFT_EINVAL for another program's schedule, WEFT_EIO for an unreadable
 * file) and writes a one-line explanation naming the line into err. r must be initialised;
 * it is reset first. */
int weft__det_parse(weft__det_record *r, const char *text, size_t len, const char *program,
                    const char *source, char *err, size_t err_size);
int weft__det_parse_path(weft__det_record *r, const char *path, const char *program,
                         char *err, size_t err_size);

/* ---------------------------------------------------------------- runs
 *
 * How a runtime finds out that it should be deterministic, in this order:
 *   1. a run armed on this thread by the explorer (weft__det_arm), consumed by the next
 *      runtime that is built;
 *   2. the environment: WEFT_SCHED (config.c), with WEFT_SCHEDULE_OUT, WEFT_SCHED_LIMITS,
 *      WEFT_SCHED_TOLERANT, WEFT_SCHED_STEP;
 *   3. otherwise the runtime gets its ordinary scheduler. */
typedef struct weft__det_run {
    const weft__det_config *cfg;
    weft__det_record *rec;     /* filled by the run */
    bool attached;             /* a runtime took it */
    bool finished;             /* the runtime was shut down */
} weft__det_run;

/* Arm a run for the next runtime built on this thread; it is also the process's *current*
 * run until disarmed (weft_assert outside the runtime reports into the current run). */
void weft__det_arm(weft__det_run *run);
void weft__det_disarm(void);
weft__det_run *weft__det_current_run(void);
void weft__det_set_current(weft__det_run *run);
/* Forget `run` as the current one (if it is). */
void weft__det_disarm_current(weft__det_run *run);

/* A run configured from the environment: the scheduler takes ownership of all of it. */
typedef struct weft__det_env {
    bool owned;                /* set: cfg, rec, replay, out_path are filled */
    weft__det_config cfg;
    weft__det_record rec;
    weft__det_record replay;   /* the schedule of replay:FILE or guide:FILE */
    weft__det_wish *wishes;    /* guide:FILE: every step of the file, in order (malloc'd) */
    char *out_path;            /* WEFT_SCHEDULE_OUT, malloc'd */
} weft__det_env;

/* What the next runtime built on this thread should be: an armed run (*run), an environment
 * run (env->owned), or neither (ordinary scheduler). 0 or a negative WEFT_E* (a malformed
 * WEFT_SCHED: the message went to stderr). */
int weft__det_take_run(weft__det_run **run, weft__det_env *env);
void weft__det_env_free(weft__det_env *env);

/* Parse "fifo", "random:SEED", "pct:SEED:DEPTH", "dfs:BOUND", "replay:FILE", "guide:FILE"
 * into cfg (the file is not read here; *replay_path points into spec). 0 or WEFT_EINVAL. */
int weft__det_parse_spec(const char *spec, weft__det_config *cfg, const char **replay_path,
                         char *err, size_t err_size);
/* Parse "steps=N,vtime=DUR,starvation=N" (DUR: 10s, 500ms, 2m, 1h). */
int weft__det_parse_limits(const char *text, weft__det_limits *l, char *err, size_t size);
/* Fill defaults into zero fields. */
void weft__det_limits_default(weft__det_limits *l);
/* The program's name: basename of /proc/self/exe (or argv[0]'s). */
const char *weft__det_program_name(void);

/* The scheduler's entry points for runtime.c (weft__det_new, weft__det_sched_install,
 * weft__det_discard) are declared in rt_int.h. */

/* ---------------------------------------------------------------- the fork server
 *
 * When WEFT_FORKSERVER is set (by `weft explore`), the first runtime a program builds turns the
 * process into a fork server: it forks one child per request, and each child goes on building
 * that runtime, deterministic, with the requested configuration. Never returns in the server.
 * Returns 0 in a child (cfg/rec armed) or when the variable is not set. */
int weft__det_forkserver_maybe(void);
/* In a fork-server child: publish the record for the explorer (idempotent per state). */
void weft__det_forkserver_publish(const weft__det_record *rec, bool final);
bool weft__det_in_forkserver_child(void);

typedef struct weft__det weft__det;

/* ---------------------------------------------------------------- the scheduler's state
 *
 * One entity per task the scheduler has seen, plus one per block_on (the root future). The
 * entity index is the task's alias in the record. An entity of a task holds one reference to
 * the task until the scheduler sees it complete, so that the analysis can read any task's state
 * word and join waker without racing its free. */
typedef struct weft__det_entity {
    weft_task *task;        /* NULL for a root future */
    uint64_t id;            /* task id; 0 for roots */
    bool runnable;          /* in runq */
    bool done;              /* finished, cancelled, or (roots) block_on returned */
    bool blocking;          /* a spawn_blocking task */
    bool polled;            /* polled at least once */
    uint64_t since;         /* step at which it became runnable */
    uint64_t prio;          /* PCT priority: higher runs first */
    /* The resource wait it reported last (weft__det_resource_wait), until the wait ends. */
    bool waiting;
    const weft_resource *wait_ptr; /* valid while waiting: the waiter keeps it alive */
    uint8_t wait_op;        /* weft_resource_op */
    uint8_t wait_kind;      /* weft_resource_kind */
    uint64_t wait_res;      /* resource id */
    uint32_t wait_name;     /* string in the record: the resource's name */
    uint32_t wait_file;     /* string: where the await is */
    int32_t wait_line;
    uint64_t wait_seq;      /* order of wait reports: who queued first on a resource */
    uint64_t last_step;     /* the last step it was polled at */
} weft__det_entity;

/* What the root future's wakers point at (det_wake.c): it outlives the scheduler while
 * clones remain, because a root future left pending may hold one in a timer or a wait queue
 * that is only dropped after the scheduler is freed. */
typedef struct weft__det_root_cell {
    weft__det *d;  /* NULL once the scheduler is freed */
    long clones;   /* clones alive: none means the root registered no waker anywhere */
} weft__det_root_cell;

/* A resource a task holds (lock guard, permits): for the wait-for graph. */
typedef struct weft__det_hold {
    uint64_t res;           /* resource id */
    uint32_t ent;           /* holder */
    uint32_t count;         /* how many times (read guards, permits) */
    uint32_t name;          /* string: resource name */
    uint8_t kind;           /* weft_resource_kind */
} weft__det_hold;

/* A wake issued by a blocking function: delivered when that function's virtual time is up. */
typedef struct weft__det_deferred {
    weft_task *task;        /* holds the notified reference */
    uint64_t at;            /* virtual time of delivery */
    uint64_t seq;           /* ties: issue order */
} weft__det_deferred;

struct weft__det {
    weft__sched base;          /* must be first: rt->sched points here once installed */
    weft__clock clock;         /* rt->clock points here: reads now + extra */
    weft_runtime *rt;
    pthread_t owner;           /* the thread that built the runtime: the only one that runs */
    /* The run: borrowed from the explorer, or owned (environment runs). */
    weft__det_run *run;
    const weft__det_config *cfg;
    weft__det_record *rec;
    weft__det_limits lim;
    bool owns_run;             /* own_* below are in use and freed with the scheduler */
    weft__det_run own_run;
    weft__det_config own_cfg;
    weft__det_record own_rec;
    weft__det_record own_replay;
    weft__det_wish *own_wishes;
    char *out_path;            /* environment runs: WEFT_SCHEDULE_OUT */
    bool written;              /* the record was written/published after the run ended */
    /* Virtual time. */
    uint64_t now;              /* ns since the runtime was built */
    uint64_t extra;            /* added to now while a blocking function runs */
    /* Entities (alias == index). */
    weft__det_entity *ent;
    uint32_t nent, cap_ent;
    uint32_t *map;             /* task id -> entity, open addressing, NONE = empty */
    uint32_t map_cap, map_used;
    uint32_t *runq;            /* runnable entities in the order they became runnable */
    uint32_t nrunq, cap_runq;
    uint32_t *scratch;         /* aliases of the runnable set for the record */
    uint32_t cap_scratch;
    uint32_t cur;              /* entity being polled, NONE between polls */
    bool poll_waited;          /* the current poll reported a resource wait */
    uint64_t wait_seq;         /* wait reports so far */
    /* Spawn ordinals: hash of (name, file, func) -> count. */
    uint64_t *ord_key;
    uint32_t *ord_val;
    uint32_t ord_cap, ord_used;
    /* Counters. */
    uint64_t step, polls, preemptions, max_poll, max_poll_task;
    /* The current block_on. */
    bool in_block_on;
    uint32_t root;             /* its entity */
    unsigned roots;            /* block_ons so far (the root's ordinal) */
    bool root_done;
    weft__det_root_cell *root_cell; /* what root wakers point at (det_wake.c) */
    /* Strategy state (strategy.c). */
    uint64_t rng;              /* the strategy's random stream */
    uint64_t *pct_change;      /* PCT change points, ascending */
    unsigned pct_nchange, pct_next;
    weft__det_strategy active; /* the strategy deciding now (tolerant replay falls back) */
    const weft__det_record *follow; /* REPLAY/GUIDED: the schedule or guide record */
    uint32_t *live_of;         /* follow's alias -> our alias (NONE until spawned) */
    uint32_t follow_tasks;
    size_t guide_pos;
    bool diverged;             /* tolerant replay left the schedule */
    /* GUIDED in explicit order: how closely the run followed the guide (a linearised trace). */
    uint64_t guide_followed;   /* wishes honoured in order */
    bool guide_departed;       /* some wish could not be honoured when its turn came */
    uint64_t depart_step;      /* the first such step */
    size_t depart_wish;        /* the wish */
    uint32_t depart_ran;       /* what ran instead (our alias) */
    /* Blocking functions. */
    bool in_blocking;          /* a blocking function runs now */
    uint64_t charge;           /* virtual time it spent so far */
    uint64_t *slot_busy;       /* per blocking thread: busy until (virtual ns) */
    unsigned nslots;
    weft__det_deferred *def;
    uint32_t ndef, cap_def;
    uint64_t def_seq;
    /* Held resources. */
    weft__det_hold *holds;
    uint32_t nholds, cap_holds;
    /* Wakes from other threads (uncontrolled): queued under a lock, drained each step. */
    pthread_mutex_t foreign_lock;
    weft_task *foreign_head, *foreign_tail;
    _Atomic bool foreign_any;
    bool foreign_seen;
    bool stopping;             /* a failure was recorded: block_on returns at the next point */
    /* The simulated network (replay/simnet/): made by weft__net_init when the runtime enables
     * I/O, NULL otherwise; released with the scheduler, freed with its last socket. */
    struct weft__simnet *simnet;
};

/* Strategy (strategy.c): prepare for a run; pick the index into d->runq of the next task; note
 * what a replayed step did (returns false on a strict divergence, after recording it). */
int weft__det_strategy_init(weft__det *d);
void weft__det_strategy_free(weft__det *d);
uint32_t weft__det_strategy_choose(weft__det *d);
void weft__det_strategy_new_entity(weft__det *d, uint32_t e);
bool weft__det_strategy_check_step(weft__det *d, const weft__det_step *done);

/* Record a failure and make block_on stop at the next scheduling point. */
void weft__det_fail(weft__det *d, int kind, const char *sig, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The root waker's vtable (det_wake.c): a join waker with it means "the root waits". */
extern const weft_waker_vtable weft__det_root_waker_vt;

/* Entity of a task id, or NONE. */
uint32_t weft__det_entity_of(const weft__det *d, uint64_t id);

/* ---------------------------------------------------------------- the scheduler's pieces
 *
 * What the det_*.c files share among themselves (det_sched.c's opening comment lists them);
 * all run on the scheduler's own thread except weft__det_schedule. */

/* det_entity.c. Grow *p (cap elements of elem bytes) to hold `need`: 0 or WEFT_ENOMEM. */
int weft__det_grow(void **p, uint32_t *cap, uint64_t need, size_t elem);
/* A new entity for task t, or a root when t is NULL (named in the record too); NONE when out
 * of memory. */
uint32_t weft__det_new_entity(weft__det *d, weft_task *t);
/* Add entity e to the end of the runnable set (no-op when it is there already). */
void weft__det_make_runnable(weft__det *d, uint32_t e);
/* Take a notified task's notified reference into the runnable set. */
void weft__det_enqueue(weft__det *d, weft_task *t);
/* Take d->runq[idx] out of the runnable set, keeping the others' order. */
void weft__det_remove_runnable(weft__det *d, uint32_t idx);

/* det_wake.c: the backend's schedule(); take the wakes that came from other threads. */
void weft__det_schedule(weft__sched *s, weft_task *t, bool is_yield);
void weft__det_take_foreign(weft__det *d);

/* det_time.c: the virtual clock's read; deliver held-back wakes that are due; settle between
 * steps; when nothing is runnable, move time to the next event (false when there is none or
 * it lies past the limit: the failure is recorded). */
uint64_t weft__det_now_ns(const weft__clock *c);
void weft__det_release_deferred(weft__det *d);
void weft__det_settle(weft__det *d);
bool weft__det_advance_time(weft__det *d);

/* det_step.c: pick and run one task (false when the run must stop); the step and starvation
 * limits before a step (false: the failure is recorded). */
bool weft__det_run_one(weft__det *d, weft_future *root_fut);
bool weft__det_check_limits(weft__det *d);

/* det_finish.c: the backend's shutdown(). */
int weft__det_shutdown(weft__sched *s, uint64_t deadline_ns);

/* ---------------------------------------------------------------- analysis (failure.c) */
/* Nothing is runnable and no timer or blocking work is pending: explain why, and record it.
 * `timers_beyond`: timers remain but only past the virtual-time limit. */
void weft__det_explain_stall(weft__det *d, bool timers_beyond);
/* For tasks alive at shutdown: one line per live task saying what it waits on, and a wait-for
 * cycle among them if there is one. Returns the length written. */
size_t weft__det_describe_alive(weft__det *d, char *buf, size_t size);

#endif
