/* runtime/util/parker.c - the futex behind weft__parker; see parker.h for the state diagram.
 *
 * Used by the current-thread scheduler, block_on on the multi-thread runtime, each worker that
 * is not parked in the driver, and the time-only driver. Linux futexes: a wait with a relative
 * timeout on the state word, a wake of one waiter.
 */
#include "parker.h"

#include <errno.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

enum { PARKER_EMPTY = 0, PARKER_PARKED = 1, PARKER_NOTIFIED = 2 };

static void futex_wait(_Atomic uint32_t *word, uint32_t expected, uint64_t timeout_ns)
{
    struct timespec ts, *tsp = NULL;
    if (timeout_ns != UINT64_MAX) {
        ts.tv_sec = (time_t)(timeout_ns / 1000000000u);
        ts.tv_nsec = (long)(timeout_ns % 1000000000u);
        tsp = &ts;
    }
    /* EINTR, EAGAIN (value changed) and ETIMEDOUT all mean "go and look again". */
    syscall(SYS_futex, (uint32_t *)word, FUTEX_WAIT_PRIVATE, expected, tsp, NULL, 0);
}

static void futex_wake_one(_Atomic uint32_t *word)
{
    syscall(SYS_futex, (uint32_t *)word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

void weft__parker_init(weft__parker *p)
{
    atomic_init(&p->state, PARKER_EMPTY);
}

void weft__parker_park(weft__parker *p, uint64_t timeout_ns)
{
    /* Fast path: a notification is already waiting; consume it (acquire pairs with the
     * unparker's release, so what it wrote before unparking is visible). */
    uint32_t expected = PARKER_NOTIFIED;
    if (atomic_compare_exchange_strong_explicit(&p->state, &expected, PARKER_EMPTY,
                                                memory_order_acquire, memory_order_relaxed))
        return;
    if (timeout_ns == 0)
        return;
    expected = PARKER_EMPTY;
    if (!atomic_compare_exchange_strong_explicit(&p->state, &expected, PARKER_PARKED,
                                                 memory_order_relaxed, memory_order_relaxed)) {
        /* Only the owner parks, so the only possible change is to NOTIFIED. */
        atomic_store_explicit(&p->state, PARKER_EMPTY, memory_order_relaxed);
        atomic_thread_fence(memory_order_acquire);
        return;
    }
    futex_wait(&p->state, PARKER_PARKED, timeout_ns);
    /* Woken, timed out or spurious: either way we are no longer parked. */
    atomic_exchange_explicit(&p->state, PARKER_EMPTY, memory_order_acquire);
}

void weft__parker_unpark(weft__parker *p)
{
    if (atomic_exchange_explicit(&p->state, PARKER_NOTIFIED, memory_order_release) ==
        PARKER_PARKED)
        futex_wake_one(&p->state);
}
