/* instrument/lttng_provider.c - where the tracepoints of provider `weft` are defined, and,
 * built a second time with WEFT_LTTNG_PROBES, the probes that record them.
 *
 * Two roles, one file, so that the provider has a single source besides its header:
 *
 *   in libweft (no WEFT_LTTNG_PROBES)   defines every weft:* tracepoint with dynamic probe
 *       linkage: a constructor looks for lttng-ust's tracepoint library with dlopen and, if a
 *       probe library registers later, the tracepoints become live. libweft has no link
 *       dependency on lttng-ust, and a program that never loads the probes pays one load and
 *       a never-taken branch per event (lttng_provider.h).
 *
 *   in libweft-lttng.so (WEFT_LTTNG_PROBES)   the probe callbacks and the event descriptions
 *       (CREATE_PROBES), linked with lttng-ust. Loading it (LD_PRELOAD) registers the
 *       provider with lttng-ust, which connects to the session daemon.
 *
 * Compiled only when the build found lttng-ust (the `lttng` feature option).
 */
#ifdef WEFT_LTTNG_PROBES
#define LTTNG_UST_TRACEPOINT_CREATE_PROBES
#else
#define LTTNG_UST_TRACEPOINT_DEFINE
#define LTTNG_UST_TRACEPOINT_PROBE_DYNAMIC_LINKAGE
#endif

#include "lttng_provider.h"
