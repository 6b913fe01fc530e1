/* runtime/sched/multi_thread/queue.h - a worker's bounded local run queue.
 *
 * One queue per worker. Its owner pushes at the tail and pops at the head without taking a
 * lock; any other worker may steal half of it. When the owner pushes onto a full queue, half
 * of the queue and the new task move to the injection queue in one batch (see queue.c for the
 * layout and the argument).
 *
 * The capacity is fixed when the queue is initialised. The workers use WEFT__MT_QUEUE_CAP;
 * tests pass a smaller power of two so that a handful of pushes reaches the full and wrapping
 * cases.
 */
#ifndef WEFT_MT_QUEUE_H
#define WEFT_MT_QUEUE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "../../rt_int.h"

/* Slots in a worker's queue: a power of two, at least 2. Tokio uses the same figure. */
#define WEFT__MT_QUEUE_CAP 256u

typedef struct weft__mt_inject weft__mt_inject;

typedef struct weft__mt_queue {
    /* Two 32-bit positions in one word, changed only by compare-and-swap:
     *   high half "steal": first slot still claimed by a stealer that is copying;
     *   low half  "real":  next slot the owner pops.
     * steal == real when no steal is in progress. Owner (pop, overflow) and stealers. */
    _Atomic uint64_t head;
    /* Next slot the owner writes. Stored only by the owner (release), read by stealers. */
    _Atomic uint32_t tail;
    uint32_t mask;              /* capacity - 1; fixed at init */
    _Atomic(weft_task *) *buf;  /* capacity slots; a slot is written only by the owner */
} weft__mt_queue;

/* Initialise an empty queue of `cap` slots (a power of two >= 2). 0 or WEFT_EINVAL /
 * WEFT_ENOMEM. */
int weft__mt_queue_init(weft__mt_queue *q, uint32_t cap);
/* Free the slots. The queue must be empty or its tasks already accounted for. */
void weft__mt_queue_destroy(weft__mt_queue *q);

/* Owner only. Push at the tail. When the queue is full, half of it and `t` go to `overflow`
 * as one batch instead (or `t` alone, while a stealer is busy emptying the queue); if the
 * injection queue is closed those tasks' notified references are dropped. Takes over t's
 * notified reference in every case. Returns true when tasks went to `overflow`. */
bool weft__mt_queue_push(weft__mt_queue *q, weft_task *t, weft__mt_inject *overflow);

/* Owner only. Push `n` tasks linked through queue_next (the last one's link is ignored);
 * `n` must not exceed weft__mt_queue_room(). */
void weft__mt_queue_push_list(weft__mt_queue *q, weft_task *first, uint32_t n);

/* Owner only. Pop from the head; NULL when empty. */
weft_task *weft__mt_queue_pop(weft__mt_queue *q);

/* Owner of `dst` only. Take half (rounded up) of `src`'s tasks: the last one taken is
 * returned for the caller to run, the others are appended to `dst`. NULL, and nothing moved,
 * when `src` is empty, another stealer is busy with it, or `dst` is more than half full.
 * *n_out receives the number of tasks taken (returned one included). */
weft_task *weft__mt_queue_steal_into(weft__mt_queue *src, weft__mt_queue *dst, uint32_t *n_out);

/* Tasks in the queue, including slots a stealer has claimed but not finished copying. A
 * snapshot when read by another thread. */
uint32_t weft__mt_queue_len(weft__mt_queue *q);

/* Tasks the owner could still pop or a stealer could take (excludes claimed slots). Any
 * thread; a snapshot. */
bool weft__mt_queue_has_tasks(weft__mt_queue *q);

/* Owner only: free slots, so that a batch taken from the injection queue fits. */
uint32_t weft__mt_queue_room(weft__mt_queue *q);

#endif
