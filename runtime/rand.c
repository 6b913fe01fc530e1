/* runtime/rand.c - weft_rand: the one source of randomness in weft.
 *
 * A per-thread xorshift64* generator. Each thread's seed is drawn from a process-wide counter
 * mixed with splitmix64, so threads differ but no call reads the clock or /dev/urandom: the
 * deterministic scheduler (its own issue) replaces the seed to make runs repeatable.
 */
#include <stdatomic.h>

#include <weft/runtime.h>

#include "rt_int.h"

static _Atomic uint64_t seed_counter = 0x9E3779B97F4A7C15u;
static _Thread_local uint64_t rand_state;

static uint64_t splitmix64(uint64_t x)
{
    x += 0x9E3779B97F4A7C15u;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9u;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBu;
    return x ^ (x >> 31);
}

uint64_t weft_rand(void)
{
    uint64_t x = rand_state;
    if (x == 0) {
        x = splitmix64(atomic_fetch_add_explicit(&seed_counter, 0x9E3779B97F4A7C15u,
                                                 memory_order_relaxed));
        if (x == 0)
            x = 1;
    }
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rand_state = x;
    return x * 0x2545F4914F6CDD1Du;
}

/* The deterministic scheduler seeds the thread it runs on, so that every weft_rand a run makes
 * follows from the run's seed. */
void weft__rand_seed(uint64_t seed)
{
    uint64_t x = splitmix64(seed);
    rand_state = x ? x : 1;
}

uint64_t weft_rand_below(uint64_t n)
{
    /* Lemire's multiply-shift; the tiny bias is irrelevant for scheduling choices. */
    return (uint64_t)(((unsigned __int128)weft_rand() * n) >> 64);
}
