/* replay/det_time.c - virtual time in the deterministic scheduler.
 *
 * The clock reads d->now (plus d->extra while a blocking function runs at its virtual start).
 * Between steps the scheduler settles: wakes held back from blocking functions are delivered
 * once their virtual time is up (in time, then issue order, so ties are deterministic), due
 * timers fire, wakes from other threads are taken. When nothing is runnable, time jumps to the
 * next event; with none, or past the virtual-time limit, the run has stalled (failure.c says
 * why). Time never passes on its own: that is what makes a run reproducible.
 */
#include <stdint.h>

#include "det_int.h"
#include "time/time_int.h"

/* ---------------------------------------------------------------- the virtual clock */

uint64_t weft__det_now_ns(const weft__clock *c)
{
    const weft__det *d = (const weft__det *)((const char *)c - offsetof(weft__det, clock));
    return d->now + d->extra;
}

/* Deliver held-back wakes that are due, in (time, issue) order. */
void weft__det_release_deferred(weft__det *d)
{
    for (;;) {
        uint32_t best = WEFT__DET_NONE;
        for (uint32_t i = 0; i < d->ndef; i++) {
            if (d->def[i].at > d->now)
                continue;
            if (best == WEFT__DET_NONE || d->def[i].at < d->def[best].at ||
                (d->def[i].at == d->def[best].at && d->def[i].seq < d->def[best].seq))
                best = i;
        }
        if (best == WEFT__DET_NONE)
            return;
        weft__det_deferred w = d->def[best];
        d->def[best] = d->def[--d->ndef];
        if (w.task)
            weft__det_enqueue(d, w.task);
        else if (d->in_block_on && !d->root_done)
            weft__det_make_runnable(d, d->root);
    }
}

static uint64_t next_deferred(const weft__det *d)
{
    uint64_t at = UINT64_MAX;
    for (uint32_t i = 0; i < d->ndef; i++)
        if (d->def[i].at < at)
            at = d->def[i].at;
    return at;
}

static void fire_timers(weft__det *d)
{
    weft__time_driver *time = d->rt->time;
    if (time && weft__time_driver_park_timeout(time) == 0)
        weft__time_driver_process(time);
}

void weft__det_settle(weft__det *d)
{
    weft__det_take_foreign(d);
    weft__det_release_deferred(d);
    fire_timers(d);
}

/* Nothing is runnable: move virtual time to the next event. False when there is none, or it
 * lies past the limit (the failure is recorded). */
bool weft__det_advance_time(weft__det *d)
{
    uint64_t next = next_deferred(d);
    bool timer = false;
    if (d->rt->time) {
        uint64_t dt = weft__time_driver_park_timeout(d->rt->time);
        if (dt != UINT64_MAX && d->now + dt < next) {
            next = d->now + dt;
            timer = true;
        }
    }
    if (next == UINT64_MAX) {
        weft__det_explain_stall(d, false);
        return false;
    }
    if (next > d->lim.max_vtime) {
        if (timer && next - d->now >= d->lim.max_vtime) {
            weft__det_explain_stall(d, true);
        } else {
            weft__det_fail(d, WEFT__OUT_VTIME_LIMIT, "",
                           "virtual time would pass the limit of %llu ms (now %llu ms, next "
                           "event at %llu ms) after %llu steps",
                           (unsigned long long)(d->lim.max_vtime / 1000000u),
                           (unsigned long long)(d->now / 1000000u),
                           (unsigned long long)(next / 1000000u),
                           (unsigned long long)d->step);
        }
        return false;
    }
    d->now = next;
    weft__det_release_deferred(d);
    if (d->rt->time)
        weft__time_driver_process(d->rt->time);
    return true;
}

