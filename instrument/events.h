/* instrument/events.h - the one list of events.
 *
 * Every event weft reports is one row of WEFT_EVENTS below: its name, a numeric id that never
 * changes once released (tools and trace databases store it), flags, a one-line description
 * and its fields. Everything else is generated from the table:
 *
 *   - the payload struct of each event (weft_ev_<name>), which is also the body of its
 *     fixed-size record in the shared-memory ring (ring_format.h) and the `u` member of the
 *     decoded weft_event (reader.h);
 *   - the emitters (hooks.h: weft__ev_<name>() and weft__ev_<name>_slow());
 *   - the field descriptors (weft_event_desc below), from which the LTTng provider, the SQLite
 *     schema of the recorder, the exporters and the book's event reference are produced.
 *
 * Adding an event is one row. Rules for a row:
 *   - ids are unique and below WEFT_EV_ID_LIMIT; an id is never reused for another meaning;
 *   - at least one field and at most WEFT_EV_MAX_FIELDS, payload at most WEFT_EV_MAX_PAYLOAD
 *     bytes (both checked at compile time in events.c). Fields keep natural alignment, so
 *     listing them largest first (u64, then 32-bit, then u8) gives the smallest record; the
 *     resource events follow the argument order of their call sites instead;
 *   - a field's type is one of
 *       u64  uint64_t         (task ids, resource ids, counts that may be large)
 *       u32  uint32_t         (worker indices, runtime ids, small counts)
 *       i32  int32_t          (status codes: 0 or a negative WEFT_E*)
 *       u8   uint8_t          (enums below, booleans)
 *       str  interned string  (the emitter takes a `const char *`; the record holds the id of
 *                              a string_def record sent earlier; 0 = none)
 *       loc  interned source location (the emitter takes a weft_location; the record holds
 *                              the id of a location_def record sent earlier; 0 = none)
 *       res  resource         (the emitter takes a `const weft_resource *`; the record holds
 *                              its id, a u64; NULL gives 0)
 *
 * Ids of interned strings and locations share one id space per process: an id is defined by
 * exactly one string_def or location_def record (which may be sent again, identically, e.g. in
 * a snapshot) before or around its first use. Readers resolve ids lazily (reader.h).
 *
 * Context every event has without a field: its timestamp and the thread (ring) it was emitted
 * on. The thread's identity (runtime, worker index, kind) is given by the thread_start record
 * that opens its ring; readers put it in every decoded event.
 */
#ifndef WEFT_INSTRUMENT_EVENTS_H
#define WEFT_INSTRUMENT_EVENTS_H

#include <stddef.h>
#include <stdint.h>

/* Row flags. */
#define WEFT_EVF_META 0x1     /* about the trace itself (clock, strings, losses), not the program */
#define WEFT_EVF_TEXT 0x2     /* the record is followed by `len` bytes of text (string_def) */
#define WEFT_EVF_SNAPSHOT 0x4 /* emitted when a reader asks for the state of the whole program */
#define WEFT_EVF_RING 0x8     /* a compressed form used inside the ring only: readers expand it
                                 into the events it stands for and never return it */

/* X(name, id, flags, description, fields) with fields as F(type, name) ... (no separators).
 * Expand with WEFT_EVENTS(X, F). */
#define WEFT_EVENTS(X, F)                                                                    \
    /* ------------------------------------------------ the trace itself */                   \
    X(clock_sync, 1, WEFT_EVF_META,                                                          \
      "full timestamp; resets the reader's reference for the truncated ones that follow",    \
      F(u64, ts))                                                                            \
    X(events_lost, 2, WEFT_EVF_META,                                                         \
      "records this thread could not write (ring full) since its previous record",           \
      F(u64, count))                                                                         \
    X(string_def, 3, WEFT_EVF_META | WEFT_EVF_TEXT,                                          \
      "defines interned string `id` as the `len` bytes of text that follow",                 \
      F(u32, id) F(u32, len))                                                                \
    X(location_def, 4, WEFT_EVF_META,                                                        \
      "defines interned source location `id`",                                               \
      F(u32, id) F(str, file) F(str, func) F(u32, line))                                     \
    X(thread_start, 5, WEFT_EVF_META,                                                        \
      "a thread took this ring: runtime, kind (weft_ev_thread_kind), worker index, OS tid",   \
      F(u32, runtime) F(u32, index) F(u32, tid) F(u8, kind))                                 \
    X(thread_stop, 6, WEFT_EVF_META, "the thread (OS tid) gave this ring back", F(u32, tid))  \
    X(snapshot_begin, 7, WEFT_EVF_META | WEFT_EVF_SNAPSHOT,                                  \
      "a snapshot of every live runtime, task and resource follows (answer to request seq)", \
      F(u64, seq))                                                                           \
    X(snapshot_end, 8, WEFT_EVF_META | WEFT_EVF_SNAPSHOT, "end of snapshot `seq`",           \
      F(u64, seq))                                                                           \
    X(task_poll, 9, WEFT_EVF_META | WEFT_EVF_RING,                                           \
      "a whole poll in one ring record: task_poll_begin at ts - begin_delta, self_wakes "    \
      "wake_by_refs of the task by itself, task_poll_end at ts",                             \
      F(u64, task) F(u32, begin_delta) F(u8, ready) F(u8, self_wakes))                       \
    /* ------------------------------------------------ runtimes and workers */              \
    X(runtime_start, 10, 0,                                                                  \
      "a runtime was built: id, number of workers, flavor (0 current-thread, 1 multi)",      \
      F(u32, runtime) F(u32, workers) F(u8, flavor))                                         \
    X(runtime_stop, 11, 0, "a runtime finished shutting down", F(u32, runtime))              \
    X(worker_park, 12, 0, "worker found nothing to run and sleeps", F(u32, worker))          \
    X(worker_unpark, 13, 0, "worker woke up", F(u32, worker))                                \
    X(worker_steal, 14, 0, "worker took `count` tasks from victim's queue",                  \
      F(u32, worker) F(u32, victim) F(u32, count))                                           \
    X(worker_queues, 15, 0,                                                                  \
      "sampled every few dozen scheduler ticks of a busy worker: tasks in its local queue "  \
      "(LIFO slot included) and in the runtime's injection queue",                           \
      F(u32, worker) F(u32, local) F(u32, inject))                                           \
    /* ------------------------------------------------ tasks */                             \
    X(task_spawn, 20, 0,                                                                     \
      "task spawned by `parent` (0: from outside any task); kind weft_ev_task_kind",         \
      F(u64, task) F(u64, parent) F(u32, runtime) F(str, name) F(loc, location)              \
      F(u8, kind))                                                                           \
    X(task_poll_begin, 21, 0, "worker starts polling task", F(u64, task) F(u32, worker))     \
    X(task_poll_end, 22, 0, "poll returned; ready 1 = READY, 0 = PENDING",                   \
      F(u64, task) F(u32, worker) F(u8, ready))                                              \
    X(task_wake, 23, 0,                                                                      \
      "`task` woken by task `waker` (0: not from a task); by_value 1 = wake, 0 = wake_by_ref", \
      F(u64, task) F(u64, waker) F(u8, by_value))                                            \
    X(waker_clone, 24, 0, "a waker of task was cloned", F(u64, task))                        \
    X(waker_drop, 25, 0, "a waker of task was dropped without waking", F(u64, task))         \
    X(task_abort, 26, 0, "abort requested for task by task `by` (0: not from a task)",       \
      F(u64, task) F(u64, by))                                                               \
    X(task_complete, 27, 0,                                                                  \
      "task finished; outcome weft_ev_outcome; status 0 or the WEFT_E* / user error",        \
      F(u64, task) F(i32, status) F(u8, outcome))                                            \
    X(task_wait, 28, 0,                                                                      \
      "task goes to sleep on resource for operation `op` (weft_resource_op) at `location`",  \
      F(u64, task) F(u64, resource) F(loc, location) F(u8, op))                              \
    X(task_wait_done, 29, 0, "the wait of task on resource ended (granted, cancelled, closed)", \
      F(u64, task) F(u64, resource) F(u8, op))                                               \
    X(task_snapshot, 30, WEFT_EVF_SNAPSHOT,                                                  \
      "a live task (snapshot); state weft_ev_task_state; waiting on resource/op, 0 if none", \
      F(u64, task) F(u64, parent) F(u64, resource) F(u32, runtime) F(str, name)              \
      F(loc, location) F(loc, wait_location) F(u8, kind) F(u8, state) F(u8, op))             \
    X(task_join_wait, 31, 0,                                                                 \
      "task awaits the outcome of task `joined` (its join handle returned PENDING)",        \
      F(u64, task) F(u64, joined))                                                           \
    X(task_join_wait_done, 32, 0,                                                            \
      "the join wait of task on `joined` ended (outcome read, or the handle dropped)",      \
      F(u64, task) F(u64, joined))                                                           \
    /* ------------------------------------------------ resources (runtime/sync, channels) \
     * The first field of each is the resource (a `const weft_resource *` for the emitter,   \
     * its id in the record); call sites use weft__resource_event(name, r, other fields...). \
     * Task fields are task ids (weft__resource_current_task()); u8 `op` fields hold a       \
     * weft_resource_op. */                                                                   \
    X(resource_create, 40, 0,                                                                \
      "resource created: kind weft_resource_kind; capacity or permits (0: unbounded/none)",  \
      F(res, resource) F(u64, capacity) F(str, name) F(loc, location) F(u8, kind))           \
    X(resource_drop, 41, 0, "resource destroyed", F(res, resource))                          \
    X(resource_snapshot, 42, WEFT_EVF_SNAPSHOT, "a live resource (snapshot)",                \
      F(res, resource) F(u64, capacity) F(str, name) F(loc, location) F(u8, kind))           \
    X(lock_acquire, 43, 0, "task now holds the lock; op lock, read or write",                \
      F(res, resource) F(u64, task) F(u8, op))                                               \
    X(lock_release, 44, 0, "task released the lock it held for op", F(res, resource)        \
      F(u64, task) F(u8, op))                                                                \
    X(permit_acquire, 45, 0, "task took n permits; available: permits left after",           \
      F(res, resource) F(u64, task) F(u64, n) F(u64, available))                             \
    X(permit_release, 46, 0, "task gave back n permits; available after",                    \
      F(res, resource) F(u64, task) F(u64, n) F(u64, available))                             \
    X(permit_add, 47, 0, "n permits added (add_permits); available after",                   \
      F(res, resource) F(u64, n) F(u64, available))                                          \
    X(permit_forget, 48, 0, "n permits forgotten (forget, forget_permits); available after", \
      F(res, resource) F(u64, n) F(u64, available))                                          \
    X(semaphore_close, 49, 0, "semaphore closed; waiters woken with CLOSED",                 \
      F(res, resource) F(u64, woken))                                                        \
    X(channel_send, 50, 0, "a value entered the channel; len: values queued after",          \
      F(res, resource) F(u64, len))                                                          \
    X(channel_recv, 51, 0, "a value left the channel; len: values queued after",             \
      F(res, resource) F(u64, len))                                                          \
    X(channel_close, 52, 0, "channel closed; side weft_ev_close_side", F(res, resource)     \
      F(u8, side))                                                                           \
    X(channel_refs, 53, 0, "sender and receiver handle counts now",                          \
      F(res, resource) F(u32, senders) F(u32, receivers))                                    \
    X(notify_one, 54, 0, "notify_one/notify_last: woke a waiter, or stored the permit",      \
      F(res, resource) F(u8, woke) F(u8, stored))                                            \
    X(notify_waiters, 55, 0, "notify_waiters woke `woken` waiters", F(res, resource)        \
      F(u64, woken))                                                                         \
    X(notify_received, 56, 0, "a notified() of task completed; how it was notified",         \
      F(res, resource) F(u64, task) F(u8, how))                                              \
    X(notify_forward, 57, 0, "a dropped notified() passed its notification on",              \
      F(res, resource) F(u8, woke) F(u8, stored))                                            \
    X(barrier_arrive, 58, 0, "task arrived at the barrier: `arrived` of n",                  \
      F(res, resource) F(u64, task) F(u64, arrived) F(u64, n))                               \
    X(barrier_release, 59, 0, "generation complete, waiters released by task (the leader)",  \
      F(res, resource) F(u64, generation) F(u64, task))                                      \
    X(cancel_token_child, 60, 0, "token created as a child of parent (cancelled at birth?)", \
      F(res, resource) F(res, parent) F(u8, cancelled))                                      \
    X(cancel_token_handles, 61, 0, "handles to the token now", F(res, resource)             \
      F(u64, handles))                                                                       \
    X(cancel_token_cancel, 62, 0, "token cancelled: tokens marked, waiters woken",           \
      F(res, resource) F(u64, tokens) F(u64, woken))                                         \
    X(resource_state, 63, 0,                                                                 \
      "other state change: attribute weft_ev_attr now has value (watch version, lag...)",   \
      F(res, resource) F(u64, value) F(u8, attr))                                            \
    /* ------------------------------------------------ time and I/O */                      \
    X(timer_arm, 70, 0, "timer (entry address) armed for deadline (ns, runtime clock)",      \
      F(u64, timer) F(u64, deadline) F(u64, task))                                           \
    X(timer_fire, 71, 0, "timer fired", F(u64, timer))                                       \
    X(io_register, 72, 0, "I/O source registered: fd, interest bits (1 read, 2 write)",      \
      F(u64, source) F(u32, fd) F(u8, interest))                                             \
    X(io_ready, 73, 0, "I/O source became ready: readiness bits", F(u64, source)            \
      F(u8, readiness))                                                                      \
    /* ------------------------------------------------ deterministic scheduler (replay/) */ \
    X(schedule_decision, 80, 0, "step: chose task among `runnable` runnable tasks",           \
      F(u64, step) F(u64, task) F(u32, runnable))

/* ---------------------------------------------------------------- limits */
#define WEFT_EV_ID_LIMIT 256    /* ids fit the record header's type byte */
#define WEFT_EV_MAX_FIELDS 10
#define WEFT_EV_MAX_PAYLOAD 56  /* bytes: a record is at most 64 (8-byte header + payload) */
#define WEFT_EV_MAX_TEXT 255    /* bytes of text in one string_def (longer strings truncated) */

/* ---------------------------------------------------------------- field types */
typedef enum weft_ev_ftype {
    WEFT_FT_U64,
    WEFT_FT_U32,
    WEFT_FT_I32,
    WEFT_FT_U8,
    WEFT_FT_STR,
    WEFT_FT_LOC,
    WEFT_FT_RES,
} weft_ev_ftype;

/* The type a field has in the payload struct (a record). */
#define WEFT__REC_T(t) WEFT__REC_T_##t
#define WEFT__REC_T_u64 uint64_t
#define WEFT__REC_T_u32 uint32_t
#define WEFT__REC_T_i32 int32_t
#define WEFT__REC_T_u8 uint8_t
#define WEFT__REC_T_str uint32_t
#define WEFT__REC_T_loc uint32_t
#define WEFT__REC_T_res uint64_t
#define WEFT__FT_ENUM(t) WEFT__FT_ENUM_##t
#define WEFT__FT_ENUM_u64 WEFT_FT_U64
#define WEFT__FT_ENUM_u32 WEFT_FT_U32
#define WEFT__FT_ENUM_i32 WEFT_FT_I32
#define WEFT__FT_ENUM_u8 WEFT_FT_U8
#define WEFT__FT_ENUM_str WEFT_FT_STR
#define WEFT__FT_ENUM_loc WEFT_FT_LOC
#define WEFT__FT_ENUM_res WEFT_FT_RES

/* ---------------------------------------------------------------- ids */
#define WEFT__EV_NOFIELD(t, n)
typedef enum weft_ev_type {
    WEFT_EV_NONE = 0,
#define WEFT__EV_ENUM(name, id, flags, doc, fields) WEFT_EV_##name = id,
    WEFT_EVENTS(WEFT__EV_ENUM, WEFT__EV_NOFIELD)
#undef WEFT__EV_ENUM
} weft_ev_type;

/* ---------------------------------------------------------------- payload structs
 *
 * weft_ev_<name>: the event's fields in table order, natural alignment (every event has at
 * least one field, so that the struct is valid C). */
#define WEFT__EV_FIELD(t, n) WEFT__REC_T(t) n;
#define WEFT__EV_STRUCT(name, id, flags, doc, fields) \
    typedef struct weft_ev_##name {                  \
        fields                                       \
    } weft_ev_##name;
WEFT_EVENTS(WEFT__EV_STRUCT, WEFT__EV_FIELD)
#undef WEFT__EV_STRUCT

/* ---------------------------------------------------------------- enums of u8 fields */

/* thread_start.kind: which runtime thread a ring belongs to. */
typedef enum weft_ev_thread_kind {
    WEFT_THREAD_WORKER = 0,   /* multi-thread worker; index = worker index */
    WEFT_THREAD_BLOCK_ON = 1, /* a thread inside weft_block_on (the current-thread core) */
    WEFT_THREAD_BLOCKING = 2, /* a blocking-pool thread */
    WEFT_THREAD_OTHER = 3,    /* any other thread that reported an event (wakes, spawns) */
    WEFT_THREAD_TRACER = 4,   /* weft's own snapshot thread */
} weft_ev_thread_kind;

/* task_spawn.kind */
typedef enum weft_ev_task_kind {
    WEFT_TASK_ASYNC = 0,
    WEFT_TASK_BLOCKING = 1,
} weft_ev_task_kind;

/* task_complete.outcome */
typedef enum weft_ev_outcome {
    WEFT_OUTCOME_OK = 0,        /* finished; status 0 */
    WEFT_OUTCOME_CANCELLED = 1, /* aborted or shut down; status WEFT_ECANCELLED */
    WEFT_OUTCOME_FAILED = 2,    /* weft_task_fail; status is the error */
} weft_ev_outcome;

/* task_snapshot.state */
typedef enum weft_ev_task_state {
    WEFT_TASKST_IDLE = 0,      /* waiting to be woken */
    WEFT_TASKST_SCHEDULED = 1, /* notified, in a run queue */
    WEFT_TASKST_RUNNING = 2,   /* being polled */
} weft_ev_task_state;

/* channel_close.side */
typedef enum weft_ev_close_side {
    WEFT_CLOSE_SENDERS = 0,  /* the last sender went away */
    WEFT_CLOSE_RECEIVER = 1, /* the receiver closed or went away */
} weft_ev_close_side;

/* resource_state.attr */
typedef enum weft_ev_attr {
    WEFT_ATTR_VERSION = 0,   /* watch: version after a send */
    WEFT_ATTR_LAGGED = 1,    /* broadcast: values a receiver skipped */
    WEFT_ATTR_RECEIVERS = 2, /* watch/broadcast: receiver count */
    WEFT_ATTR_BYTES_IN = 3,  /* socket: bytes read (received) so far */
    WEFT_ATTR_BYTES_OUT = 4, /* socket: bytes written (sent) so far */
    WEFT_ATTR_LOCAL_ADDR = 5, /* socket: its own address, packed as WEFT_EV_ADDR_* below */
    WEFT_ATTR_PEER_ADDR = 6, /* socket: the peer's address, packed likewise */
} weft_ev_attr;

/* A socket address in a resource_state value: family in bits 56..63 (4 IPv4, 6 IPv6, 1 Unix),
 * port in bits 0..15, and for IPv4 the address (host order) in bits 16..47. An IPv6 address
 * and a Unix path do not fit and are left out (the console shows the family and port). */
#define WEFT_EV_ADDR_FAMILY(v) ((unsigned)((v) >> 56))
#define WEFT_EV_ADDR_PORT(v) ((unsigned)((v)&0xffffu))
#define WEFT_EV_ADDR_IPV4(v) ((uint32_t)(((v) >> 16) & 0xffffffffu))

/* ---------------------------------------------------------------- descriptors */
typedef struct weft_ev_field {
    const char *name;
    weft_ev_ftype type;
    uint16_t offset; /* in the payload struct */
    uint16_t size;   /* bytes: 8, 4 or 1 */
} weft_ev_field;

typedef struct weft_event_desc {
    const char *name;  /* "task_spawn" */
    const char *doc;   /* the row's description */
    uint16_t id;       /* WEFT_EV_* */
    uint16_t flags;    /* WEFT_EVF_* */
    uint16_t payload;  /* sizeof(weft_ev_<name>) */
    uint16_t nfields;
    weft_ev_field fields[WEFT_EV_MAX_FIELDS];
} weft_event_desc;

/* Every event in table order; weft_event_count of them. */
extern const weft_event_desc *const weft_event_descs;
extern const unsigned weft_event_count;

/* The descriptor of an id, or NULL when the id is not in the table. O(1). */
const weft_event_desc *weft_event_desc_of(unsigned id);

#endif
