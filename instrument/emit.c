/* instrument/emit.c - the emitters: one out-of-line function per event, generated from the
 * table of events.h.
 *
 * A hook that finds a sink on (hooks.h) calls weft__ev_<name>() with the event's fields as
 * the runtime has them. The emitter turns them into the record's payload (strings and
 * locations to interned ids, resources to their ids) and hands it to each sink that is on:
 * the ring of the calling thread, and the LTTng provider when it is built in (its files
 * define WEFT__LTTNG_EMIT; see WEFT_HAVE_LTTNG below).
 *
 * The payload is zeroed first so that padding never carries stack bytes into the segment.
 * Interning happens before the record is built, so that a string_def or location_def
 * written for a new id precedes, in the ring, the first record that uses the id.
 */
#include <string.h>

#include <weft/resource.h>

#include "trace_int.h"

#if defined(WEFT_HAVE_LTTNG) && WEFT_HAVE_LTTNG
#include "lttng_emit.h" /* WEFT__LTTNG_EMIT(name, a): the LTTng sink (other files) */
#else
#define WEFT__LTTNG_EMIT(name, a) ((void)0)
#endif

#define WEFT__CONV_u64(x) (x)
#define WEFT__CONV_u32(x) (x)
#define WEFT__CONV_i32(x) (x)
#define WEFT__CONV_u8(x) (x)
#define WEFT__CONV_str(x) weft__intern_str(x)
#define WEFT__CONV_loc(x) weft__intern_loc(x)
#define WEFT__CONV_res(x) ((x) ? (x)->id : 0)

/* Events the ring handles in its own way (polls); constant-folded in each emitter. */
static inline bool ring_special(unsigned id, const void *arg)
{
    switch (id) {
    case WEFT_EV_task_poll_begin:
        weft__ring_poll_begin(((const weft_evarg_task_poll_begin *)arg)->task);
        return true;
    case WEFT_EV_task_poll_end: {
        const weft_evarg_task_poll_end *a = arg;
        weft__ring_poll_end(a->task, a->ready);
        return true;
    }
    case WEFT_EV_task_wake: {
        const weft_evarg_task_wake *a = arg;
        return weft__ring_self_wake(a->task, a->waker, a->by_value);
    }
    default:
        return false;
    }
}

#define WEFT__EMIT_FIELD(t, n) r.p.n = WEFT__CONV_##t(a->n);
#define WEFT__EMIT_FN(name, id, flags, doc, fields)                                  \
    void weft__ev_##name(const weft_evarg_##name *a)                                 \
    {                                                                                \
        unsigned on = atomic_load_explicit(&weft__trace_on, memory_order_relaxed);   \
        if ((on & WEFT__SINK_RING) && !ring_special(WEFT_EV_##name, a)) {            \
            struct {                                                                 \
                uint64_t h;                                                          \
                weft_ev_##name p;                                                    \
            } r;                                                                     \
            _Static_assert(sizeof r % WEFT_REC_ALIGN == 0, "record size: " #name);  \
            memset(&r, 0, sizeof r);                                                 \
            fields                                                                   \
            weft__ring_put(WEFT_EV_##name, &r, sizeof r);                            \
        }                                                                            \
        WEFT__LTTNG_EMIT(name, a);                                                   \
    }
WEFT_EVENTS(WEFT__EMIT_FN, WEFT__EMIT_FIELD)

/* The hooks' entry points (hooks.h): the fields as arguments. Each needs the field list
 * twice (parameters, initialiser), so the table is expanded with fields as a sequence of
 * (type, name) pairs, walked by the two alternating macros of each list below. */
#define WEFT__SEQ_F(t, n) (t, n)
#define WEFT__SEQ_END(...) WEFT__SEQ_END_(__VA_ARGS__)
#define WEFT__SEQ_END_(...) __VA_ARGS__##_END
#define WEFT__SP0(t, n) , WEFT__API_T(t) n WEFT__SP1
#define WEFT__SP1(t, n) , WEFT__API_T(t) n WEFT__SP0
#define WEFT__SP0_END
#define WEFT__SP1_END
#define WEFT__SA0(t, n) n, WEFT__SA1
#define WEFT__SA1(t, n) n, WEFT__SA0
#define WEFT__SA0_END
#define WEFT__SA1_END
#define WEFT__EVF_FN(name, id, flags, doc, seq)                                      \
    void weft__ev_##name##_f(int unused_ WEFT__SEQ_END(WEFT__SP0 seq))               \
    {                                                                                \
        (void)unused_;                                                               \
        const weft_evarg_##name a = {WEFT__SEQ_END(WEFT__SA0 seq)};                  \
        weft__ev_##name(&a);                                                         \
    }
WEFT_EVENTS(WEFT__EVF_FN, WEFT__SEQ_F)

