/* instrument/lttng_emit.h - how an emitter hands an event to the LTTng sink.
 *
 * Included by emit.c when the build has LTTng (WEFT_HAVE_LTTNG). For each event, the
 * generated weft__ev_<name>(a) ends with
 *
 *     WEFT__LTTNG_EMIT(name, a);     a: const weft_evarg_<name> *
 *
 * which is one load and a branch predicted not taken while no session records weft:<name>,
 * and the probe call when one does.
 *
 * The emitters only run while some sink's bit is set in weft__trace_on (hooks.h). The LTTng
 * bit, WEFT__SINK_LTTNG, is set by lttng_provider.c when the program starts with the probes
 * loaded (libweft-lttng.so), whether or not a session is tracing yet, because sessions
 * enable tracepoints behind the program's back. So:
 *
 *   probes not loaded (the usual run)   hooks cost their one predictable branch, as with no
 *                                       sink at all;
 *   probes loaded, no session           each hook calls its emitter, which tests the
 *                                       tracepoint and returns (measured in bench/README.md);
 *   a session records weft:*            the probe copies the fields into LTTng's buffers.
 */
#ifndef WEFT_INSTRUMENT_LTTNG_EMIT_H
#define WEFT_INSTRUMENT_LTTNG_EMIT_H

#include "lttng_provider.h"

#define WEFT__LTTNG_EMIT(name, a)                                \
    do {                                                         \
        if (lttng_ust_tracepoint_enabled(weft, name))            \
            lttng_ust_do_tracepoint(weft, name, (a));            \
    } while (0)

#endif
