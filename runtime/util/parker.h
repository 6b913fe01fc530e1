/* runtime/util/parker.h - put one thread to sleep until another unparks it.
 *
 * A parker is a futex word with three states. Each thread that may sleep owns one; any thread
 * may unpark it. An unpark that arrives before the park is remembered (NOTIFIED), so the
 * classic race "check the queue, then sleep" loses no wake-up:
 *
 *      EMPTY ──park──▶ PARKED ──unpark──▶ NOTIFIED ──park returns──▶ EMPTY
 *        └────────────unpark (not yet parked)────────▶ NOTIFIED
 */
#ifndef WEFT_UTIL_PARKER_H
#define WEFT_UTIL_PARKER_H

#include <stdatomic.h>
#include <stdint.h>

typedef struct weft__parker {
    _Atomic uint32_t state; /* PARKER_EMPTY / PARKED / NOTIFIED, see parker.c */
} weft__parker;

void weft__parker_init(weft__parker *p);
/* Sleep until unparked or timeout_ns passed (UINT64_MAX: no timeout). Spurious returns are
 * possible; callers re-check their condition. Only the owning thread parks. */
void weft__parker_park(weft__parker *p, uint64_t timeout_ns);
/* Wake the owner, or make its next park return at once. Any thread. */
void weft__parker_unpark(weft__parker *p);

#endif
