/* runtime/util/futex_mutex.c - the contended paths of the futex mutex (see futex_mutex.h).
 *
 * Called only when the inline compare-and-swap of weft__futex_lock failed, or when an unlock
 * found that a thread may be asleep. A contender first spins for a short while, re-reading
 * the word (a read does not steal the cache line from the holder), because the holder is
 * almost always about to unlock; then it marks the lock "2: may have sleepers" and sleeps on
 * the futex until an unlock wakes it. Marking with an exchange that also tries to take the
 * lock closes the race with an unlock that happens in between.
 */
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "futex_mutex.h"

/* Spins before sleeping. Each is a read and a pause (tens of nanoseconds in all): longer than
 * a channel's or semaphore's critical section, far shorter than a futex round trip. */
#define SPINS 100

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

void weft__futex_lock_slow(weft__futex_mutex *l)
{
    for (int i = 0; i < SPINS; i++) {
        uint32_t s = atomic_load_explicit(l, memory_order_relaxed);
        if (s == 0) {
            uint32_t expected = 0;
            if (atomic_compare_exchange_weak_explicit(l, &expected, 1,
                                                      memory_order_acquire,
                                                      memory_order_relaxed))
                return;
        } else if (s == 2) {
            break; /* others already sleep: queue behind them rather than spin */
        }
        cpu_relax();
    }
    /* Taking the lock in state 2 is conservative: another sleeper may exist, so our unlock
     * must wake. */
    while (atomic_exchange_explicit(l, 2, memory_order_acquire) != 0)
        syscall(SYS_futex, (uint32_t *)l, FUTEX_WAIT_PRIVATE, 2, NULL, NULL, 0);
}

void weft__futex_unlock_wake(weft__futex_mutex *l)
{
    syscall(SYS_futex, (uint32_t *)l, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}
