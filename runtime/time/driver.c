/* runtime/time/driver.c - the time driver: a timer wheel behind a mutex, and its clock.
 *
 * Who calls it: runtime.c creates and frees it (enable_time); the runtime's driver (driver.c)
 * asks it how long it may park and makes it fire expired timers after each park; sleep.c arms,
 * updates and disarms entries from whichever thread polls or drops a sleep.
 *
 * Time: tick t is t milliseconds after the driver was created, read from the runtime's clock.
 * A deadline in nanoseconds becomes the first tick at or after it (rounded up), and an entry
 * fires when the current tick reaches it, so a sleep never completes before its deadline and
 * completes at most about one millisecond (plus scheduling delay) after it.
 *
 * Locking and the races it settles:
 *   - The wheel, every entry's [lock] fields (links, deadline, seq, waker, where) and
 *     `park_until` are guarded by `lock`.
 *   - Firing happens under the lock: the entry leaves the wheel, its waker is moved out and
 *     `fired` is stored with release. The wakers are woken only after unlocking, so a wake that
 *     schedules a task (or, at worst, drops the last reference to one) never runs under the
 *     wheel lock. The entry itself is not touched after the unlock: its owner may free it the
 *     moment it sees `fired`, or disarm it at any time.
 *   - An owner that reads `fired` (acquire) as 1 sees everything the driver did before the
 *     store; one that reads 0 and then takes the lock to register a new waker either still
 *     finds the entry linked (so the new waker will be woken) or finds it unlinked, which
 *     means it fired and `fired` is now visibly 1 (the store happened under the same lock).
 *   - Wakers replaced or dropped by arm/update/disarm are dropped after unlocking too.
 *   - Unpark: park_timeout records the tick the parking thread will sleep until. Arming an
 *     entry for an earlier tick lowers the record and calls `unpark` (outside the lock); the
 *     parker remembers an unpark that comes before it sleeps, so none is lost between
 *     park_timeout and the actual park. The record is never raised except by park_timeout,
 *     so it only errs towards a spurious (harmless) unpark, never a missing one.
 */
#include <stdlib.h>

#include "time_int.h"
#include "wheel.h"

/* Wakers collected under the lock before waking them outside it. */
#define WAKE_BATCH 32

struct weft__time_driver {
    pthread_mutex_t lock;       /* guards the fields marked [lock] and the entries' [lock] */
    const weft__clock *clock;   /* fixed: the runtime's clock */
    uint64_t start_ns;          /* fixed: clock reading at creation, which is tick 0 */
    void (*unpark)(void *);     /* fixed: wakes the thread parked in the runtime's driver */
    void *unpark_arg;           /* fixed: its argument */
    uint64_t next_seq;          /* [lock] seq given to the next armed entry */
    uint64_t park_until;        /* [lock] tick the parked thread wakes at (UINT64_MAX: never);
                                 * 0 until the first park_timeout */
    weft__wheel wheel;          /* [lock] every armed entry */
};

/* ---------------------------------------------------------------- clock conversions */

static uint64_t now_tick(const weft__time_driver *d)
{
    uint64_t now = weft__clock_now(d->clock);
    return now > d->start_ns ? (now - d->start_ns) / 1000000u : 0;
}

/* The first tick at or after `deadline` (ns on the clock). */
static uint64_t deadline_tick(const weft__time_driver *d, weft_instant deadline)
{
    if (deadline <= d->start_ns)
        return 0;
    uint64_t ns = deadline - d->start_ns;
    return ns / 1000000u + (ns % 1000000u != 0);
}

/* ---------------------------------------------------------------- life cycle */

int weft__time_driver_new(const weft__clock *clock, void (*unpark)(void *), void *arg,
                          weft__time_driver **out)
{
    weft__time_driver *d = calloc(1, sizeof *d);
    if (!d)
        return WEFT_ENOMEM;
    if (pthread_mutex_init(&d->lock, NULL) != 0) {
        free(d);
        return WEFT_ENOMEM;
    }
    d->clock = clock;
    d->start_ns = weft__clock_now(clock);
    d->unpark = unpark;
    d->unpark_arg = arg;
    d->next_seq = 1;
    d->park_until = 0;
    int err = weft__wheel_init(&d->wheel, WEFT__WHEEL_LEVELS, WEFT__WHEEL_SLOT_BITS, 0);
    if (err) {
        pthread_mutex_destroy(&d->lock);
        free(d);
        return err;
    }
    *out = d;
    return 0;
}

void weft__time_driver_free(weft__time_driver *d)
{
    if (!d)
        return;
    /* By now the runtime has cancelled every task, so normally nothing is armed. An entry
     * that is (a future polled outside any task and never dropped) is unlinked and forgotten:
     * clearing its `driver` makes its owner's later disarm a no-op instead of a use of freed
     * memory. Its owner cannot be running concurrently, the runtime being gone. */
    weft_timer_entry *e;
    while ((e = weft__wheel_pop_any(&d->wheel))) {
        weft_waker_drop(&e->waker);
        e->driver = NULL;
    }
    pthread_mutex_destroy(&d->lock);
    free(d);
}

/* ---------------------------------------------------------------- parking and firing */

uint64_t weft__time_driver_park_timeout(weft__time_driver *d)
{
    pthread_mutex_lock(&d->lock);
    uint64_t next = weft__wheel_next_expiration(&d->wheel);
    d->park_until = next;
    pthread_mutex_unlock(&d->lock);
    if (next == UINT64_MAX || next > (UINT64_MAX - d->start_ns) / 1000000u)
        return UINT64_MAX;
    /* Sleep until the tick starts: after that, now_tick() >= next. */
    uint64_t target = d->start_ns + next * 1000000u;
    uint64_t now = weft__clock_now(d->clock);
    return target > now ? target - now : 0;
}

size_t weft__time_driver_process(weft__time_driver *d)
{
    weft_waker wake[WAKE_BATCH];
    size_t total = 0;
    uint64_t now = now_tick(d);

    pthread_mutex_lock(&d->lock);
    weft__wheel_advance(&d->wheel, now);
    for (;;) {
        size_t n = 0;
        weft_timer_entry *e;
        while (n < WAKE_BATCH && (e = weft__wheel_pop_expired(&d->wheel))) {
            wake[n++] = e->waker;
            e->waker = WEFT_WAKER_NONE;
            WEFT_HOOK(timer_fire, e);
            atomic_store_explicit(&e->fired, 1, memory_order_release);
        }
        bool more = d->wheel.expired.head != NULL;
        pthread_mutex_unlock(&d->lock);

        /* In deadline order, ties in arming order: the tasks are scheduled in that order. */
        for (size_t i = 0; i < n; i++)
            weft_waker_wake(&wake[i]);
        total += n;
        if (!more)
            return total;
        pthread_mutex_lock(&d->lock);
    }
}

/* ---------------------------------------------------------------- entries */

void weft__timer_arm(weft__time_driver *d, weft_timer_entry *e, weft_instant deadline,
                     const weft_waker *waker)
{
    if (e->driver && e->driver != d)
        weft__timer_disarm(e);
    uint64_t tick = deadline_tick(d, deadline);
    weft_waker old = WEFT_WAKER_NONE;

    pthread_mutex_lock(&d->lock);
    weft__wheel_remove(&d->wheel, e);
    if (waker && !weft_waker_will_wake(&e->waker, waker)) {
        old = e->waker;
        e->waker = weft_waker_clone(waker);
    }
    e->deadline_ms = tick;
    e->seq = d->next_seq++;
    atomic_store_explicit(&e->fired, 0, memory_order_relaxed);
    weft__wheel_insert(&d->wheel, e);
    bool unpark = tick < d->park_until;
    if (unpark)
        d->park_until = tick;
    WEFT_HOOK(timer_arm, e, deadline);
    pthread_mutex_unlock(&d->lock);

    e->driver = d;
    weft_waker_drop(&old);
    if (unpark && d->unpark)
        d->unpark(d->unpark_arg);
}

void weft__timer_update_waker(weft_timer_entry *e, const weft_waker *waker)
{
    weft__time_driver *d = e->driver;
    if (!d)
        return;
    weft_waker old = WEFT_WAKER_NONE;
    pthread_mutex_lock(&d->lock);
    if (e->where != WEFT__WHEEL_UNLINKED && !weft_waker_will_wake(&e->waker, waker)) {
        old = e->waker;
        e->waker = weft_waker_clone(waker);
    }
    pthread_mutex_unlock(&d->lock);
    weft_waker_drop(&old);
}

void weft__timer_disarm(weft_timer_entry *e)
{
    weft__time_driver *d = e->driver;
    if (!d)
        return;
    pthread_mutex_lock(&d->lock);
    weft__wheel_remove(&d->wheel, e);
    weft_waker old = e->waker;
    e->waker = WEFT_WAKER_NONE;
    pthread_mutex_unlock(&d->lock);
    e->driver = NULL;
    weft_waker_drop(&old);
}
