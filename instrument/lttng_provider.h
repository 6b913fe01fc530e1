/* instrument/lttng_provider.h - the LTTng-UST tracepoint provider `weft`, generated from the
 * event table.
 *
 * There is no second list of events here: every row of WEFT_EVENTS (events.h) becomes one
 * tracepoint weft:<name> whose CTF fields are the row's fields, by expanding the table with
 * the LTTng 2.13 macros. Field types map as follows (CTF has no bool, so flags stay u8):
 *
 *   u64 u32 i32 u8  integer of that type
 *   str             string (the text itself: LTTng has no interned-string table)
 *   loc             three fields: <name>_file and <name>_func (strings), <name>_line (int32)
 *   res             uint64 resource id (0 for NULL)
 *
 * Each tracepoint takes one argument: the emitter's argument struct, weft_evarg_<name>
 * (hooks.h), whose members are the row's fields with the types the runtime has them in (a
 * `const char *` for str, a weft_location for loc, a `const weft_resource *` for res). The
 * fields are read from it only inside the probe, so nothing is converted unless a session
 * records the event. Emitters call it through lttng_emit.h.
 *
 * Linkage: libweft defines the tracepoints (lttng_provider.c, with dynamic probe linkage) but
 * does not link lttng-ust: the probes live in a separate library, libweft-lttng.so (the same
 * lttng_provider.c built with WEFT_LTTNG_PROBES). A program records weft:* events once that
 * library is loaded into it, usually with LD_PRELOAD=libweft-lttng.so; without it every
 * tracepoint stays disabled. So a weft program never starts lttng-ust's threads or waits for a
 * session daemon unless its user asked for LTTng. See docs/book/trace-database.md.
 *
 * Read several times by <lttng/tracepoint-event.h> (the multi-read guard below); what must
 * appear once is in the first part.
 */

/* ---------------------------------------------------------------- once */
#ifndef WEFT_INSTRUMENT_LTTNG_PROVIDER_ONCE_H
#define WEFT_INSTRUMENT_LTTNG_PROVIDER_ONCE_H

#include <stdint.h>

#include <weft/future.h>
#include <weft/resource.h>

#include "events.h"
#include "hooks.h"

/* A NULL string would crash the probe: LTTng records "" instead. */
static inline const char *weft__lttng_str(const char *s)
{
    return s ? s : "";
}

/* CTF fields of one table field, read from the argument struct `weft__a`. */
#define WEFT__LTTNG_CTF(t, n) WEFT__LTTNG_CTF_##t(n)
#define WEFT__LTTNG_CTF_u64(n) lttng_ust_field_integer(uint64_t, n, weft__a->n)
#define WEFT__LTTNG_CTF_u32(n) lttng_ust_field_integer(uint32_t, n, weft__a->n)
#define WEFT__LTTNG_CTF_i32(n) lttng_ust_field_integer(int32_t, n, weft__a->n)
#define WEFT__LTTNG_CTF_u8(n) lttng_ust_field_integer(uint8_t, n, weft__a->n)
#define WEFT__LTTNG_CTF_str(n) lttng_ust_field_string(n, weft__lttng_str(weft__a->n))
#define WEFT__LTTNG_CTF_loc(n)                                                 \
    lttng_ust_field_string(n##_file, weft__lttng_str(weft__a->n.file))         \
    lttng_ust_field_string(n##_func, weft__lttng_str(weft__a->n.func))         \
    lttng_ust_field_integer(int32_t, n##_line, (int32_t)weft__a->n.line)
#define WEFT__LTTNG_CTF_res(n) \
    lttng_ust_field_integer(uint64_t, n, weft__a->n ? weft__a->n->id : 0)

/* One tracepoint per row. */
#define WEFT__LTTNG_EVENT(name, id, flags, doc, fields)                                  \
    LTTNG_UST_TRACEPOINT_EVENT(weft, name,                                               \
                               LTTNG_UST_TP_ARGS(const weft_evarg_##name *, weft__a),    \
                               LTTNG_UST_TP_FIELDS(fields))

#endif /* WEFT_INSTRUMENT_LTTNG_PROVIDER_ONCE_H */

/* ---------------------------------------------------------------- the provider (multi-read) */
#undef LTTNG_UST_TRACEPOINT_PROVIDER
#define LTTNG_UST_TRACEPOINT_PROVIDER weft

/* Read again by lttng's headers, whose directory is not ours: the path is relative to the
 * project's root, which every target that compiles this header has on its include path. */
#undef LTTNG_UST_TRACEPOINT_INCLUDE
#define LTTNG_UST_TRACEPOINT_INCLUDE "instrument/lttng_provider.h"

#if !defined(WEFT_INSTRUMENT_LTTNG_PROVIDER_H) || defined(LTTNG_UST_TRACEPOINT_HEADER_MULTI_READ)
#define WEFT_INSTRUMENT_LTTNG_PROVIDER_H

#include <lttng/tracepoint.h>

WEFT_EVENTS(WEFT__LTTNG_EVENT, WEFT__LTTNG_CTF)

#endif

#include <lttng/tracepoint-event.h>
