/* runtime/sched/multi_thread/idle.c - which workers search, which sleep, whom to wake.
 *
 * Who calls it: worker.c, on every transition of a worker between three states, and on every
 * push that might deserve a wake-up:
 *
 *                 found work (last searcher: wake one more)
 *        ┌─────────────────────────────────────────────┐
 *        ▼                                             │
 *   ┌─────────┐  own queues empty, to_searching  ┌───────────┐
 *   │ running │ ────────────────────────────────▶│ searching │
 *   └─────────┘                                  └───────────┘
 *        ▲  ▲                                          │ nothing anywhere: to_parked
 *        │  │ woke with local work (unpark_by_id)      ▼
 *        │  └──────────────────────────────────── ┌──────────┐
 *        └── (via searching) woken by a notifier ─│ sleeping │
 *                                                 └──────────┘
 *
 * The rule that keeps wake-ups cheap: a new task wakes at most one sleeper, and only when no
 * worker is searching, because a searching worker will find the task anyway. The woken worker
 * starts out searching, so a burst of pushes wakes one worker, not one per push; when that
 * worker finds work and stops searching, it wakes the next if it was the last searcher
 * (weft__mt_idle_from_searching), so the pool spins up one worker at a time as long as there
 * is work to find. At most half the workers search at once.
 *
 * The lost wake-up, and why it cannot happen. The danger: a pusher sees "someone is searching"
 * and does not wake anybody, while that searcher has already looked at the queue and is about
 * to sleep. Both sides follow the Dekker pattern with seq_cst:
 *
 *   pusher:   publish the task; fence; read `state`      (worker_to_notify)
 *   sleeper:  RMW `state` (to_parked); fence; read every queue (worker.c)
 *
 * Either the pusher sees the sleeper's decrement (then searching == 0 and a sleeper exists, so
 * it wakes one) or the sleeper, if it was the last searcher, sees the task and wakes a worker
 * itself (possibly itself: the stack's top is the sleeper that just pushed itself).
 * A worker only looks at other workers' queues and the injection queue while searching, or as
 * the last searcher going to sleep, so "searching > 0" always means someone will still look.
 *
 * Invariants: `state` changes only by atomic RMW; the unparked count and the sleepers stack
 * change together under `lock`, so that nsleepers == nworkers - unparked whenever the lock is
 * free. sleeping[i] is true exactly while worker i is on the stack.
 */
#include <stdlib.h>

#include "mt_int.h"

#define SEARCHING_ONE ((uint64_t)1)
#define UNPARKED_ONE ((uint64_t)1 << 32)

static inline uint32_t num_searching(uint64_t st)
{
    return (uint32_t)st;
}

static inline uint32_t num_unparked(uint64_t st)
{
    return (uint32_t)(st >> 32);
}

int weft__mt_idle_init(weft__mt_idle *idle, unsigned nworkers)
{
    idle->sleepers = calloc(nworkers, sizeof *idle->sleepers);
    idle->sleeping = calloc(nworkers, sizeof *idle->sleeping);
    if (!idle->sleepers || !idle->sleeping) {
        free(idle->sleepers);
        free(idle->sleeping);
        return WEFT_ENOMEM;
    }
    for (unsigned i = 0; i < nworkers; i++)
        atomic_init(&idle->sleeping[i], false);
    idle->nworkers = nworkers;
    idle->nsleepers = 0;
    atomic_init(&idle->state, (uint64_t)nworkers * UNPARKED_ONE);
    pthread_mutex_init(&idle->lock, NULL);
    return 0;
}

void weft__mt_idle_destroy(weft__mt_idle *idle)
{
    pthread_mutex_destroy(&idle->lock);
    free(idle->sleepers);
    free((void *)idle->sleeping);
}

bool weft__mt_idle_to_searching(weft__mt_idle *idle)
{
    uint64_t st = atomic_load_explicit(&idle->state, memory_order_seq_cst);
    if (2 * num_searching(st) >= idle->nworkers)
        return false;
    /* Two workers may both pass the check; the bound is a heuristic, not an invariant. */
    atomic_fetch_add_explicit(&idle->state, SEARCHING_ONE, memory_order_seq_cst);
    return true;
}

bool weft__mt_idle_from_searching(weft__mt_idle *idle)
{
    uint64_t prev = atomic_fetch_sub_explicit(&idle->state, SEARCHING_ONE, memory_order_seq_cst);
    return num_searching(prev) == 1;
}

bool weft__mt_idle_to_parked(weft__mt_idle *idle, unsigned index, bool searching)
{
    pthread_mutex_lock(&idle->lock);
    uint64_t dec = UNPARKED_ONE + (searching ? SEARCHING_ONE : 0);
    uint64_t prev = atomic_fetch_sub_explicit(&idle->state, dec, memory_order_seq_cst);
    idle->sleepers[idle->nsleepers++] = index;
    atomic_store_explicit(&idle->sleeping[index], true, memory_order_relaxed);
    pthread_mutex_unlock(&idle->lock);
    return searching && num_searching(prev) == 1;
}

bool weft__mt_idle_unpark_by_id(weft__mt_idle *idle, unsigned index)
{
    bool removed = false;
    pthread_mutex_lock(&idle->lock);
    if (atomic_load_explicit(&idle->sleeping[index], memory_order_relaxed)) {
        for (unsigned i = 0; i < idle->nsleepers; i++) {
            if (idle->sleepers[i] == index) {
                idle->sleepers[i] = idle->sleepers[--idle->nsleepers];
                break;
            }
        }
        atomic_store_explicit(&idle->sleeping[index], false, memory_order_relaxed);
        atomic_fetch_add_explicit(&idle->state, UNPARKED_ONE, memory_order_seq_cst);
        removed = true;
    }
    pthread_mutex_unlock(&idle->lock);
    return removed;
}

static inline bool should_wake(weft__mt_idle *idle, uint64_t st)
{
    return num_searching(st) == 0 && num_unparked(st) < idle->nworkers;
}

bool weft__mt_idle_wants_notify_hint(weft__mt_idle *idle)
{
    return should_wake(idle, atomic_load_explicit(&idle->state, memory_order_relaxed));
}

int weft__mt_idle_worker_to_notify(weft__mt_idle *idle)
{
    /* The pusher's half of the Dekker pattern: its task is published; order that before the
     * read of the state. */
    weft__mt_idle_fence(idle);
    if (!should_wake(idle, atomic_load_explicit(&idle->state, memory_order_seq_cst)))
        return -1;
    pthread_mutex_lock(&idle->lock);
    int index = -1;
    if (should_wake(idle, atomic_load_explicit(&idle->state, memory_order_seq_cst)) &&
        idle->nsleepers > 0) {
        /* The woken worker counts as unparked and searching from now on: further pushes see
         * a searcher and leave the remaining sleepers alone. */
        atomic_fetch_add_explicit(&idle->state, UNPARKED_ONE + SEARCHING_ONE,
                                  memory_order_seq_cst);
        index = (int)idle->sleepers[--idle->nsleepers];
        /* Release: what the notifier did before is visible to the worker that sees false. */
        atomic_store_explicit(&idle->sleeping[index], false, memory_order_release);
    }
    pthread_mutex_unlock(&idle->lock);
    return index;
}
