/* instrument/lttng_provider.c - where the tracepoints of provider `weft` are defined, and,
 * built a second time with WEFT_LTTNG_PROBES, the probes that record them.
 *
 * Two roles, one file, so that the provider has a single source besides its header:
 *
 *   in libweft (no WEFT_LTTNG_PROBES)   defines every weft:* tracepoint with dynamic probe
 *       linkage: a constructor from <lttng/tracepoint.h> looks for lttng-ust's tracepoint
 *       library with dlopen, and the tracepoints become live when a probe library registers.
 *       libweft has no link dependency on lttng-ust. A second constructor (below) turns the
 *       LTTng sink's bit on in weft__trace_on when the probe library is in the process, so
 *       that the hooks call the emitters (lttng_emit.h); without the probes the hooks stay a
 *       single never-taken branch.
 *
 *   in libweft-lttng.so (WEFT_LTTNG_PROBES)   the probe callbacks and the event descriptions
 *       (CREATE_PROBES), linked with lttng-ust. Loading it (LD_PRELOAD) registers the
 *       provider with lttng-ust, which connects to the session daemon. It exports
 *       weft_lttng_probes_present, which is how libweft tells it is there.
 *
 * Compiled only when the build found lttng-ust (the `lttng` feature option) and has hooks.
 */
#ifdef WEFT_LTTNG_PROBES

#define LTTNG_UST_TRACEPOINT_CREATE_PROBES
#include "lttng_provider.h"

/* Looked up by name from libweft (dlsym), never referenced: libweft must not depend on it. */
extern const int weft_lttng_probes_present;
const int weft_lttng_probes_present = 1;

#else

#define _GNU_SOURCE /* RTLD_DEFAULT */
#include <dlfcn.h>
#include <stdatomic.h>

#define LTTNG_UST_TRACEPOINT_DEFINE
#define LTTNG_UST_TRACEPOINT_PROBE_DYNAMIC_LINKAGE
#include "lttng_provider.h"

/* Every object of the process is mapped before any constructor runs, so a preloaded probe
 * library is visible here whichever order the constructors run in. */
__attribute__((constructor)) static void weft_lttng_detect_probes(void)
{
    if (dlsym(RTLD_DEFAULT, "weft_lttng_probes_present"))
        atomic_fetch_or_explicit(&weft__trace_on, WEFT__SINK_LTTNG, memory_order_relaxed);
}

#endif
