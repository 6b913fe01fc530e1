/* runtime/time/time_int.h - the time driver as the rest of the runtime sees it.
 *
 * The time driver owns the hierarchical timer wheel (wheel.c) and the runtime's notion of
 * "now" in milliseconds since the driver started. It is shared by every thread of a runtime
 * and guarded by one mutex. Sleeps arm entries in it; the thread that parks in the runtime's
 * driver asks it how long it may sleep and makes it fire what has expired.
 */
#ifndef WEFT_TIME_INT_H
#define WEFT_TIME_INT_H

#include "../rt_int.h"

/* Create a driver reading `clock`. `unpark(arg)` is called (from the arming thread, without
 * the wheel lock held) when an entry is armed with a deadline earlier than the one the parked
 * thread is sleeping until, so that it wakes up and re-computes its timeout. */
int weft__time_driver_new(const weft__clock *clock, void (*unpark)(void *), void *arg,
                          weft__time_driver **out);
/* Free; entries still armed are unlinked and their wakers dropped. */
void weft__time_driver_free(weft__time_driver *d);

/* Nanoseconds a thread may park before the earliest armed deadline (0 if one is already due,
 * UINT64_MAX if none is armed). Records the wake-up time the parked thread chose, so that an
 * earlier arm unparks it. The result may be a cascade point of the wheel before the deadline
 * itself: parking that long and calling process() is always right, at worst one extra turn. */
uint64_t weft__time_driver_park_timeout(weft__time_driver *d);

/* Fire every entry whose deadline is at or before now, in deadline order and arming order for
 * ties. Wakers are woken after the lock is released. Returns how many fired. */
size_t weft__time_driver_process(weft__time_driver *d);

/* Arm, re-arm or disarm one entry (sleep.c). Arming an entry that is armed moves it; a NULL
 * `waker` keeps the waker it has (Sleep::reset). Called by the entry's owner only. */
void weft__timer_arm(weft__time_driver *d, weft_timer_entry *e, weft_instant deadline,
                     const weft_waker *waker);
/* Replace the waker of an armed entry if it would not wake the same task. */
void weft__timer_update_waker(weft_timer_entry *e, const weft_waker *waker);
void weft__timer_disarm(weft_timer_entry *e);

#endif
