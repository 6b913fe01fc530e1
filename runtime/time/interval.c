/* runtime/time/interval.c - weft_interval: ticks at a fixed period (Tokio's Interval).
 *
 * Who calls it: programs, through weft_interval_tick futures.
 *
 * An interval is a schedule (`next`, `period`) and one sleep reused for every tick, whose
 * deadline is always `next`. A tick future waits for that sleep, reports the instant the tick
 * was *scheduled* for, and moves `next` on:
 *
 *   - on time (now <= scheduled + LATE_TOLERANCE): next = scheduled + period;
 *   - late, the missed-tick behaviour decides, with now the instant the tick was noticed:
 *       BURST  next = scheduled + period     the missed ticks follow back to back, the
 *                                            schedule is kept (Tokio's default);
 *       DELAY  next = now + period           the schedule restarts from the late tick;
 *       SKIP   next = the first instant of the original schedule after now.
 *
 * LATE_TOLERANCE (5 ms, the same slack Tokio allows) absorbs the millisecond granularity of
 * the wheel and ordinary scheduling delay: without it, a tick that fires a fraction of a
 * millisecond late would count as "missed", and DELAY would drift by that much every period.
 *
 * Invariant: the interval's sleep is armed only while a tick future is pending on it. A tick
 * future's drop disarms it (the schedule in `next` is kept, so nothing is lost) and a tick
 * that completes leaves it fired or never armed. That way an interval can be freed, as Tokio's
 * can be dropped, whenever no tick is pending, without leaving an entry in the wheel.
 */
#include "time_int.h"

#define LATE_TOLERANCE_NS (5u * 1000000u)

static weft_poll tick_poll(weft_future *f, weft_context *cx);
static void tick_drop(weft_future *f);

static const weft_future_vtable tick_vt = {
    .poll = tick_poll,
    .drop = tick_drop,
    .name = "interval_tick",
};

static weft_instant add_sat(weft_instant t, weft_duration d)
{
    return d > UINT64_MAX - t ? UINT64_MAX : t + d;
}

/* The instant after `scheduled` at which the next tick is due, given that this one was seen
 * at `now`. */
static weft_instant next_after(const weft_interval *iv, weft_instant scheduled, weft_instant now)
{
    if (now <= add_sat(scheduled, LATE_TOLERANCE_NS))
        return add_sat(scheduled, iv->period);
    switch (iv->missed) {
    case WEFT_MISSED_TICK_DELAY:
        return add_sat(now, iv->period);
    case WEFT_MISSED_TICK_SKIP:
        /* now > scheduled here; the next multiple of the period past `now`. */
        return add_sat(now, iv->period - (now - scheduled) % iv->period);
    case WEFT_MISSED_TICK_BURST:
    default:
        return add_sat(scheduled, iv->period);
    }
}

void weft_interval_at_init(weft_interval *iv, weft_instant start, weft_duration period)
{
    /* A zero period would tick on every poll; Tokio refuses it. Use the timer's resolution. */
    if (period == 0)
        period = 1000000u;
    iv->next = start;
    iv->period = period;
    iv->missed = WEFT_MISSED_TICK_BURST;
    weft_sleep_until_init(&iv->sleep, start);
}

void weft_interval_init(weft_interval *iv, weft_duration period)
{
    weft_interval_at_init(iv, weft_instant_now(), period);
}

void weft_interval_reset(weft_interval *iv)
{
    iv->next = add_sat(weft_instant_now(), iv->period);
    weft_sleep_reset(&iv->sleep, iv->next);
}

void weft_interval_tick_init(weft_interval_tick *t, weft_interval *iv)
{
    t->base.vt = &tick_vt;
    t->iv = iv;
    t->tick = 0;
    t->status = 0;
}

static weft_poll tick_poll(weft_future *f, weft_context *cx)
{
    weft_interval_tick *t = (weft_interval_tick *)f;
    weft_interval *iv = t->iv;

    /* The sleep spends the cooperative budget on its ready paths. */
    if (weft_future_poll(&iv->sleep.base, cx) == WEFT_PENDING)
        return WEFT_PENDING;
    if (iv->sleep.status != 0) {
        /* No timers in this runtime: report it rather than tick in a busy loop. */
        t->status = iv->sleep.status;
        weft_sleep_reset(&iv->sleep, iv->next);
        return WEFT_READY;
    }
    weft_instant scheduled = iv->next;
    iv->next = next_after(iv, scheduled, weft_instant_now());
    weft_sleep_reset(&iv->sleep, iv->next);
    t->tick = scheduled;
    t->status = 0;
    return WEFT_READY;
}

static void tick_drop(weft_future *f)
{
    weft_interval_tick *t = (weft_interval_tick *)f;
    weft_future_drop(&t->iv->sleep.base);
}
