/* instrument/hooks.h - the one macro through which the runtime reports events.
 *
 * Every place where something observable happens calls WEFT_HOOK(event, args...). The event
 * names and fields are those of the table in events.h. How a hook costs nothing when nobody
 * listens:
 *
 *   WEFT_HOOK(task_spawn, t)
 *     -> weft__hook_task_spawn(t)                       an adapter below: which fields
 *     -> WEFT__EMIT(task_spawn, t->id, t->parent, ...)  the generated emitter's guard
 *     -> if (weft__trace_on) weft__ev_task_spawn_f(0, t->id, t->parent, ...)
 *
 * With every sink off, the whole hook is one load of a global byte and one branch that is
 * predicted not taken: the arguments are only evaluated inside the branch, and the call
 * there (a cold function taking the fields in registers) needs no stack frame. The
 * out-of-line emitters (emit.c, generated from the table) intern strings and locations,
 * encode the record and hand it to every sink that is on. Building with
 * -Dinstrument=false (WEFT_INSTRUMENT=0) turns every hook into nothing, arguments not
 * evaluated: the baseline of the overhead benchmark.
 *
 * Most events are reported with runtime objects (a task, a worker) and the adapters below
 * pick their fields; resource events go through weft__resource_event() in
 * runtime/sync/resource.h, whose arguments are the event's fields in table order.
 *
 * Hooks that are not events:
 *   trace_setup(rt)       at the start of weft_runtime_new: reads WEFT_TRACE once and starts
 *                         the ring sink, so that the runtime's threads report from birth
 *   thread_enter(rt, kind, index) / thread_leave()
 *                         a runtime thread starts or stops working for rt (worker, blocking
 *                         thread, block_on caller): the identity its ring reports
 *   clock_stale()         the thread will do something long that reports nothing (ct polls
 *                         its root future): the next poll must not reuse the last timestamp
 */
#ifndef WEFT_INSTRUMENT_HOOKS_H
#define WEFT_INSTRUMENT_HOOKS_H

#ifndef WEFT_INSTRUMENT
#define WEFT_INSTRUMENT 1
#endif

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <weft/future.h>

#include "events.h"

struct weft_resource;
struct weft_runtime;

#if WEFT_INSTRUMENT

/* ---------------------------------------------------------------- the switch
 *
 * One bit per sink that is on; zero when none is. Written rarely (a sink starts or stops),
 * read by every hook; a relaxed atomic so that the read is a plain load. */
extern _Atomic unsigned char weft__trace_on;
#define WEFT__SINK_RING 0x1u  /* the shared-memory rings (trace.c) */
#define WEFT__SINK_LTTNG 0x2u /* the LTTng-UST provider (lttng_*) */

#define WEFT__TRACING() \
    __builtin_expect(atomic_load_explicit(&weft__trace_on, memory_order_relaxed) != 0, 0)

/* ---------------------------------------------------------------- generated emitters
 *
 * For each event: weft_evarg_<name>, its fields as the emitter takes them (strings as
 * pointers, locations by value, resources as pointers), and weft__ev_<name>(), which emits
 * it to every sink that is on. */
#define WEFT__API_T(t) WEFT__API_T_##t
#define WEFT__API_T_u64 uint64_t
#define WEFT__API_T_u32 uint32_t
#define WEFT__API_T_i32 int32_t
#define WEFT__API_T_u8 uint8_t
#define WEFT__API_T_str const char *
#define WEFT__API_T_loc weft_location
#define WEFT__API_T_res const struct weft_resource *

#define WEFT__EVARG_FIELD(t, n) WEFT__API_T(t) n;
#define WEFT__EVPARAM_FIELD(t, n) , WEFT__API_T(t) n
#define WEFT__EVARG_DECL(name, id, flags, doc, fields)                                   \
    typedef struct weft_evarg_##name {                                                  \
        fields                                                                          \
    } weft_evarg_##name;                                                                \
    void weft__ev_##name(const weft_evarg_##name *a);
WEFT_EVENTS(WEFT__EVARG_DECL, WEFT__EVARG_FIELD)
#undef WEFT__EVARG_DECL
/* The same emitter taking the fields as arguments, for the hooks: a call with arguments in
 * registers needs no stack frame in the caller, so that the hook's disabled path stays one
 * load and one branch (the first argument is a placeholder, always 0). */
#define WEFT__EVF_DECL(name, id, flags, doc, fields) \
    __attribute__((cold, noinline)) void weft__ev_##name##_f(int unused_ fields);
WEFT_EVENTS(WEFT__EVF_DECL, WEFT__EVPARAM_FIELD)
#undef WEFT__EVF_DECL

/* Emit `name` with its fields in table order, if any sink is on. A statement. */
#define WEFT__EMIT(name, ...)                                                   \
    do {                                                                        \
        if (WEFT__TRACING())                                                    \
            weft__ev_##name##_f(0, __VA_ARGS__);                                \
    } while (0)

/* ---------------------------------------------------------------- per-thread context
 *
 * What the rings need to know about the calling thread; set by thread_enter. */
typedef struct weft__trace_ident {
    uint32_t runtime; /* id of the runtime the thread works for, 0 if none */
    uint32_t index;   /* worker index (0 for other kinds) */
    uint8_t kind;     /* weft_ev_thread_kind */
} weft__trace_ident;

extern _Thread_local weft__trace_ident weft__trace_me;

void weft__trace_setup(struct weft_runtime *rt);
void weft__trace_runtime_start(struct weft_runtime *rt);
void weft__trace_runtime_stop(struct weft_runtime *rt);
void weft__trace_thread_enter(uint32_t runtime, unsigned kind, uint32_t index);
void weft__trace_thread_leave(void);
void weft__trace_clock_stale(void);
/* task_wait / task_wait_done also keep the current wait in the task (for snapshots). */
void weft__trace_task_wait(uint64_t task, const struct weft_resource *r, unsigned op,
                           weft_location where);
void weft__trace_task_wait_done(uint64_t task, const struct weft_resource *r, unsigned op);

#define WEFT_HOOK(event, ...) weft__hook_##event(__VA_ARGS__)

/* The id of the task being polled on this thread (weft__tls is the runtime's; the macros
 * below are expanded in runtime files, where it is declared). */
#define WEFT__CUR_TASK_ID() (weft__tls.task ? weft__tls.task->id : 0)

/* ---------------------------------------------------------------- adapters */
#define weft__hook_trace_setup(rt) weft__trace_setup(rt)
#define weft__hook_runtime_start(rt) weft__trace_runtime_start(rt)
#define weft__hook_runtime_stop(rt) weft__trace_runtime_stop(rt)
#define weft__hook_thread_enter(rt, kind, index) \
    weft__trace_thread_enter((uint32_t)(rt)->id, (kind), (uint32_t)(index))
#define weft__hook_thread_leave() weft__trace_thread_leave()
/* The thread is about to do something long that reports nothing (ct: poll the root future):
 * the next poll must read the clock. */
#define weft__hook_clock_stale()                                                        \
    do {                                                                                \
        if (WEFT__TRACING())                                                            \
            weft__trace_clock_stale();                                                  \
    } while (0)

#define weft__hook_task_spawn(t)                                                        \
    WEFT__EMIT(task_spawn, (t)->id, (t)->parent, (uint32_t)(t)->rt->id, (t)->name,      \
               (t)->spawned_at, (t)->kind)
#define weft__hook_task_poll_begin(t) \
    WEFT__EMIT(task_poll_begin, (t)->id, weft__trace_me.index)
#define weft__hook_task_poll_end(t, ready) \
    WEFT__EMIT(task_poll_end, (t)->id, weft__trace_me.index, (ready))
#define weft__hook_task_wake(t, by_value) \
    WEFT__EMIT(task_wake, (t)->id, WEFT__CUR_TASK_ID(), (by_value))
#define weft__hook_waker_clone(t) WEFT__EMIT(waker_clone, (t)->id)
#define weft__hook_waker_drop(t) WEFT__EMIT(waker_drop, (t)->id)
#define weft__hook_task_abort(t) WEFT__EMIT(task_abort, (t)->id, WEFT__CUR_TASK_ID())
#define weft__hook_task_complete(t, status)                                             \
    WEFT__EMIT(task_complete, (t)->id, (status),                                        \
               (status) == 0 ? WEFT_OUTCOME_OK                                          \
                             : (status) == WEFT_ECANCELLED ? WEFT_OUTCOME_CANCELLED     \
                                                           : WEFT_OUTCOME_FAILED)
/* A task (`waiter`, an id, never 0) awaits the join of task t, or stopped awaiting it. */
#define weft__hook_task_join_wait(waiter, t) WEFT__EMIT(task_join_wait, (waiter), (t)->id)
#define weft__hook_task_join_wait_done(waiter, t) \
    WEFT__EMIT(task_join_wait_done, (waiter), (t)->id)
/* The worker is the calling thread: its index is in weft__trace_me. */
#define weft__hook_worker_park(w) WEFT__EMIT(worker_park, weft__trace_me.index)
#define weft__hook_worker_unpark(w) WEFT__EMIT(worker_unpark, weft__trace_me.index)
/* Queue depths: the caller passes the lengths (scheduler-specific reads), evaluated only when
 * a sink is on. */
#define weft__hook_worker_queues(w, local, inject) \
    WEFT__EMIT(worker_queues, (w)->index, (uint32_t)(local), (uint32_t)(inject))
/* The current-thread scheduler's one "worker" is the block_on thread. */
#define weft__hook_ct_queues(local, inject) \
    WEFT__EMIT(worker_queues, weft__trace_me.index, (uint32_t)(local), (uint32_t)(inject))
#define weft__hook_worker_steal(w, victim, n) \
    WEFT__EMIT(worker_steal, (w)->index, (victim)->index, (n))
#define weft__hook_timer_arm(e, deadline) \
    WEFT__EMIT(timer_arm, (uint64_t)(uintptr_t)(e), (deadline), WEFT__CUR_TASK_ID())
#define weft__hook_timer_fire(e) WEFT__EMIT(timer_fire, (uint64_t)(uintptr_t)(e))
#define weft__hook_resource_create(r, capacity) \
    WEFT__EMIT(resource_create, (r), (capacity), (r)->name, (r)->created_at, (r)->kind)
#define weft__hook_resource_drop(r) WEFT__EMIT(resource_drop, (r))
#define weft__hook_resource_wait(task, r, op, where)                                    \
    do {                                                                                \
        if (WEFT__TRACING())                                                            \
            weft__trace_task_wait((task), (r), (op), (where));                         \
    } while (0)
#define weft__hook_resource_wait_done(task, r, op)                                      \
    do {                                                                                \
        if (WEFT__TRACING())                                                            \
            weft__trace_task_wait_done((task), (r), (op));                             \
    } while (0)

#else /* !WEFT_INSTRUMENT: every hook is nothing, its arguments unevaluated */

#define WEFT__TRACING() 0
#define WEFT__EMIT(name, ...) ((void)0)
#define WEFT_HOOK(event, ...) ((void)0)

#endif

#endif
