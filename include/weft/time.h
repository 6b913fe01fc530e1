/* weft/time.h - the runtime's clock, sleep, interval and timeout.
 *
 * Durations and instants are nanoseconds (uint64_t). Instants come from the runtime's clock:
 * the real monotonic clock, or the deterministic scheduler's virtual clock, so never read
 * CLOCK_MONOTONIC directly in a weft program that should replay. Timers have millisecond
 * resolution: a sleep completes at the first millisecond tick at or after its deadline, and
 * sleeps with equal deadlines complete in the order they were armed.
 *
 * Tokio names: time::sleep -> weft_sleep, sleep_until, interval, interval_at,
 * MissedTickBehavior, timeout, timeout_at, Instant::now -> weft_instant_now.
 */
#ifndef WEFT_TIME_H
#define WEFT_TIME_H

#include <weft/future.h>

typedef uint64_t weft_duration; /* nanoseconds */
typedef uint64_t weft_instant;  /* nanoseconds on the runtime's clock */

static inline weft_duration weft_ns(uint64_t n) { return n; }
static inline weft_duration weft_us(uint64_t n) { return n * 1000u; }
static inline weft_duration weft_ms(uint64_t n) { return n * 1000000u; }
static inline weft_duration weft_secs(uint64_t n) { return n * 1000000000u; }

/* Now, on the clock of the current runtime (the real monotonic clock outside any runtime). */
weft_instant weft_instant_now(void);

/* ---------------------------------------------------------------- timer entries
 *
 * The part of a sleep that sits in the runtime's timer wheel. Embedded in weft_sleep so that
 * arming a timer allocates nothing. Fields marked [lock] belong to the time driver and are
 * guarded by the driver's lock; `driver` belongs to the entry's owner (the future that arms and
 * disarms it, one thread at a time); only `fired` is read without any lock. */
struct weft__time_driver;

typedef struct weft_timer_entry {
    struct weft_timer_entry *next, *prev; /* [lock] links in a wheel slot or the expired list */
    uint64_t deadline_ms;                 /* [lock] tick at which it fires */
    uint64_t seq;                         /* [lock] arming order: ties between equal deadlines */
    weft_waker waker;                     /* [lock] woken when it fires */
    struct weft__time_driver *driver;     /* [owner] driver it was armed on, NULL if disarmed */
    unsigned char level, slot;            /* [lock] where in the wheel (when where == slot) */
    unsigned char where;                  /* [lock] 0 unlinked, else slot / expired list */
    _Atomic unsigned char fired;          /* set (release) by the driver when it fires */
} weft_timer_entry;

/* ---------------------------------------------------------------- sleep */
typedef struct weft_sleep {
    weft_future base;
    weft_instant deadline;
    weft_timer_entry entry;
    int status; /* 0 when it completed; WEFT_ENOSYS if the runtime has no timers */
} weft_sleep;

/* The deadline is computed now, at init (as Tokio computes it when sleep() is called). */
void weft_sleep_init(weft_sleep *s, weft_duration d);
void weft_sleep_until_init(weft_sleep *s, weft_instant deadline);
/* Move the deadline of a sleep, armed or not, completed or not; it becomes pending again. */
void weft_sleep_reset(weft_sleep *s, weft_instant deadline);
bool weft_sleep_is_elapsed(const weft_sleep *s);

/* ---------------------------------------------------------------- interval */
typedef enum weft_missed_tick_behavior {
    /* Fire the missed ticks back to back until caught up; the schedule is kept. */
    WEFT_MISSED_TICK_BURST,
    /* Fire once now, then every period from now: the schedule shifts. */
    WEFT_MISSED_TICK_DELAY,
    /* Fire once now, then at the next tick of the original schedule. */
    WEFT_MISSED_TICK_SKIP,
} weft_missed_tick_behavior;

typedef struct weft_interval {
    weft_instant next;      /* when the next tick is due */
    weft_duration period;   /* > 0 */
    weft_missed_tick_behavior missed;
    weft_sleep sleep;       /* reused for every tick */
} weft_interval;

/* The first tick completes at once (interval) or at `start` (interval_at). */
void weft_interval_init(weft_interval *iv, weft_duration period);
void weft_interval_at_init(weft_interval *iv, weft_instant start, weft_duration period);
/* Next tick one period from now. */
void weft_interval_reset(weft_interval *iv);

/* Awaiting a tick: READY at the next tick, with the instant the tick was *scheduled* for. The
 * interval is shared: only one tick future may be in flight. Dropping a tick loses nothing. */
typedef struct weft_interval_tick {
    weft_future base;
    weft_interval *iv;
    weft_instant tick; /* result */
    int status;        /* 0, or WEFT_ENOSYS if the runtime has no timers */
} weft_interval_tick;

void weft_interval_tick_init(weft_interval_tick *t, weft_interval *iv);

/* ---------------------------------------------------------------- timeout
 *
 * Wrap a future with a deadline. READY when the inner future is READY (status 0; read the
 * inner result from the inner future) or when the deadline passed first (status
 * WEFT_EELAPSED): then the inner future has been dropped, i.e. cancelled. The inner future is
 * borrowed: it usually lives next to the timeout in the caller's state. As in Tokio, the inner
 * future is polled first, so a ready inner future wins even after the deadline. */
typedef struct weft_timeout {
    weft_future base;
    weft_future *inner;
    weft_sleep sleep;
    int status;
} weft_timeout;

void weft_timeout_init(weft_timeout *t, weft_duration d, weft_future *inner);
void weft_timeout_at_init(weft_timeout *t, weft_instant deadline, weft_future *inner);

#endif
