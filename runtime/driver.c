/* runtime/driver.c - where a thread with nothing to run goes to sleep.
 *
 * The driver bundles what must be polled while nobody runs tasks: the timer wheel now, the
 * epoll reactor once the I/O issue lands. Only one thread parks in it at a time (the
 * current-thread scheduler's block_on thread, or whichever multi-thread worker parks first);
 * `locked` says who. Parking sleeps until the next timer deadline, the given timeout, or an
 * unpark, then fires expired timers on the parking thread.
 */
#include <stdlib.h>

#include "rt_int.h"
#include "time/time_int.h"
#include "util/parker.h"

struct weft__driver {
    weft_runtime *rt;      /* owner; its `time` may be NULL */
    _Atomic bool locked;   /* true while a thread owns the driver (may park in it) */
    weft__parker parker;   /* the sleep itself while there is no I/O reactor */
};

int weft__driver_new(weft_runtime *rt, weft__driver **out)
{
    weft__driver *d = calloc(1, sizeof *d);
    if (!d)
        return WEFT_ENOMEM;
    d->rt = rt;
    atomic_init(&d->locked, false);
    weft__parker_init(&d->parker);
    *out = d;
    return 0;
}

void weft__driver_free(weft__driver *d)
{
    free(d);
}

bool weft__driver_try_lock(weft__driver *d)
{
    bool expected = false;
    return atomic_compare_exchange_strong_explicit(&d->locked, &expected, true,
                                                   memory_order_acquire, memory_order_relaxed);
}

void weft__driver_unlock(weft__driver *d)
{
    atomic_store_explicit(&d->locked, false, memory_order_release);
}

void weft__driver_park(weft__driver *d, uint64_t timeout_ns)
{
    weft__time_driver *time = d->rt->time;
    if (time) {
        uint64_t until_timer = weft__time_driver_park_timeout(time);
        if (until_timer < timeout_ns)
            timeout_ns = until_timer;
    }
    weft__parker_park(&d->parker, timeout_ns);
    if (time)
        weft__time_driver_process(time);
}

void weft__driver_unpark(weft__driver *d)
{
    weft__parker_unpark(&d->parker);
}
