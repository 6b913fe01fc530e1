/* runtime/driver.c - where a thread with nothing to run goes to sleep.
 *
 * The driver bundles what must be polled while nobody runs tasks: the timer wheel and, with
 * enable_io, the epoll reactor (runtime/net/reactor.c). Only one thread parks in it at a time
 * (the current-thread scheduler's block_on thread, or whichever multi-thread worker parks
 * first); `locked` says who. Parking sleeps until the next timer deadline, the given timeout,
 * an I/O event or an unpark — in epoll_wait when there is a reactor, on a futex otherwise —
 * then fires expired timers on the parking thread. I/O wakers are woken inside the reactor's
 * turn, on the parking thread, so the woken tasks land in that thread's queue.
 */
#include <stdlib.h>

#include "rt_int.h"
#include "net/reactor.h"
#include "time/time_int.h"
#include "util/parker.h"

struct weft__driver {
    weft_runtime *rt;      /* owner; its `time` may be NULL */
    _Atomic bool locked;   /* true while a thread owns the driver (may park in it) */
    weft__parker parker;   /* the sleep itself while there is no I/O reactor */
    weft__reactor *reactor; /* [fixed] epoll, with enable_io (not under the deterministic
                             * scheduler, which never parks); NULL otherwise */
};

int weft__driver_new(weft_runtime *rt, weft__driver **out)
{
    weft__driver *d = calloc(1, sizeof *d);
    if (!d)
        return WEFT_ENOMEM;
    d->rt = rt;
    atomic_init(&d->locked, false);
    weft__parker_init(&d->parker);
    if (rt->cfg.enable_io && !rt->det) {
        int err = weft__reactor_new(&d->reactor);
        if (err) {
            free(d);
            return err;
        }
    }
    *out = d;
    return 0;
}

void weft__driver_free(weft__driver *d)
{
    weft__reactor_free(d->reactor);
    free(d);
}

weft__reactor *weft__driver_reactor(weft__driver *d)
{
    return d->reactor;
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
    if (d->reactor)
        weft__reactor_turn(d->reactor, timeout_ns);
    else
        weft__parker_park(&d->parker, timeout_ns);
    if (time)
        weft__time_driver_process(time);
}

void weft__driver_unpark(weft__driver *d)
{
    if (d->reactor)
        weft__reactor_unpark(d->reactor);
    else
        weft__parker_unpark(&d->parker);
}
