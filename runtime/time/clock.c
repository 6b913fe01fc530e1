/* runtime/time/clock.c - the real monotonic clock and weft_instant_now().
 *
 * Nothing in the runtime reads CLOCK_MONOTONIC except through weft__real_clock, so that the
 * deterministic backend can give a runtime a virtual clock instead (rt->clock) and every
 * instant a program sees then comes from it. Instants are nanoseconds on that clock; only
 * differences between instants of the same clock mean anything.
 *
 * Callers: runtime.c installs weft__real_clock in every runtime it builds; the time driver
 * reads its runtime's clock; programs and the time futures call weft_instant_now().
 */
#include <time.h>

#include "../rt_int.h"

static uint64_t real_now_ns(const weft__clock *self)
{
    (void)self;
    struct timespec ts;
    /* CLOCK_MONOTONIC cannot fail with a valid clock id and pointer; it never goes back. */
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

const weft__clock weft__real_clock = {.now_ns = real_now_ns};

weft_instant weft_instant_now(void)
{
    weft_runtime *rt = weft__tls.rt;
    return weft__clock_now(rt ? rt->clock : &weft__real_clock);
}
