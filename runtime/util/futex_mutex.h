/* runtime/util/futex_mutex.h - a small mutex in one 32-bit word, for short critical sections.
 *
 * A three-state futex mutex (the classic design from Drepper's "Futexes Are Tricky"):
 *
 *     0 free --lock (CAS)--> 1 locked --a contender stops spinning--> 2 locked, maybe sleepers
 *       ^                      |                                        |
 *       +------unlock----------+-------unlock (then wake one sleeper)---+
 *
 * Locking is one compare-and-swap inline, unlocking one exchange inline; only contention
 * leaves the inline path (weft__futex_lock_slow spins briefly, then sleeps on the futex). The
 * channels' and the semaphore's critical sections are a few dozen instructions, so the spin
 * nearly always wins on a multi-thread runtime, and on a current-thread runtime the lock is
 * never contended: there, avoiding pthread's out-of-line calls was worth a sixth of the cost
 * of a channel message and a fifth of an uncontended mutex lock/unlock.
 * Acquire on lock, release on unlock: what the lock protects is ordered as by any mutex, and
 * ThreadSanitizer sees the same happens-before edges through the atomics.
 *
 * The word is a plain `_Atomic uint32_t` so that public structs (weft_semaphore) can embed it
 * without including this header. Zero is unlocked.
 */
#ifndef WEFT_UTIL_FUTEX_MUTEX_H
#define WEFT_UTIL_FUTEX_MUTEX_H

#include <stdatomic.h>
#include <stdint.h>

typedef _Atomic uint32_t weft__futex_mutex; /* 0 free, 1 locked, 2 locked + maybe sleepers */

static inline void weft__futex_mutex_init(weft__futex_mutex *l)
{
    atomic_init(l, 0);
}

/* The contended paths (futex_mutex.c). */
void weft__futex_lock_slow(weft__futex_mutex *l);
void weft__futex_unlock_wake(weft__futex_mutex *l);

static inline void weft__futex_lock(weft__futex_mutex *l)
{
    uint32_t expected = 0;
    if (__builtin_expect(atomic_compare_exchange_strong_explicit(l, &expected, 1,
                                                                 memory_order_acquire,
                                                                 memory_order_relaxed),
                         1))
        return;
    weft__futex_lock_slow(l);
}

static inline void weft__futex_unlock(weft__futex_mutex *l)
{
    if (__builtin_expect(atomic_exchange_explicit(l, 0, memory_order_release) == 2, 0))
        weft__futex_unlock_wake(l);
}

#endif
