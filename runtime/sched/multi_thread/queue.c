/* runtime/sched/multi_thread/queue.c - a worker's bounded local run queue with steal-half.
 *
 * Who calls it: worker.c. The owning worker pushes tasks it schedules (spawns and wakes on its
 * own thread, the task pushed out of the LIFO slot, yields) and pops the next one to run;
 * a worker with nothing to do steals half of another worker's queue into its own.
 *
 * Layout. A ring of `cap` slots and three positions that only ever increase (modulo 2^32);
 * a position p names slot p & mask:
 *
 *            steal        real                         tail
 *              │            │                            │
 *     ┌────┬───▼───┬────┬───▼───┬───────┬───────┬────┬───▼───┬────┐
 *     │    │ ░░░░░ │ ░░ │ task  │ task  │ task  │ .. │       │    │   buf[cap]
 *     └────┴───────┴────┴───────┴───────┴───────┴────┴───────┴────┘
 *              └─claimed─┘└──────── poppable / stealable ───┘
 *              by a stealer
 *
 *   head = (steal << 32) | real, one atomic word changed only by compare-and-swap;
 *   tail, stored only by the owner.
 *
 * Invariants:
 *   - steal <= real <= tail and tail - steal <= cap (all differences taken modulo 2^32).
 *   - Slots [real, tail) hold queued tasks; [steal, real) are being copied out by one
 *     stealer, which is the only one allowed while steal != real.
 *   - Only the owner writes slots, and only slot `tail` while tail - steal < cap, so a slot
 *     a stealer has claimed is never overwritten under it.
 *
 * Operations:
 *   push (owner)   write buf[tail], then publish tail + 1 (release). No read-modify-write.
 *                  Full queue: if no steal is in progress, claim the oldest half by moving
 *                  both halves of head forward by cap/2 (CAS), and hand those tasks plus the
 *                  new one to the injection queue as one linked batch, so the mutex is taken
 *                  once per cap/2 + 1 tasks. If a steal is in progress, the queue is about to
 *                  shrink: send the new task alone to the injection queue.
 *   pop (owner)    CAS real to real + 1 (and steal along with it when they were equal), then
 *                  read the slot, which nobody else may now take.
 *   steal (other)  1. read head; give up if steal != real (someone else is stealing).
 *                  2. read tail (acquire: the slots up to it are written), n = ceil(len / 2).
 *                  3. CAS head from (s, s) to (s, s + n): the slots [s, s + n) are ours and
 *                     the owner keeps popping from s + n meanwhile.
 *                  4. copy the tasks into the stealer's own queue.
 *                  5. CAS head from (s, r) to (r, r) for whatever r the owner reached: the
 *                     claim is released and the owner may reuse the slots.
 *
 * Slots are atomics accessed with relaxed ordering: the ordering comes from tail (owner to
 * stealer) and head (stealer back to owner); the slot accesses are atomic only so that the
 * code has no data race to argue about, and they compile to plain moves.
 */
#include "queue.h"

#include <stdlib.h>

#include "mt_int.h"

static inline uint32_t unpack_steal(uint64_t head)
{
    return (uint32_t)(head >> 32);
}

static inline uint32_t unpack_real(uint64_t head)
{
    return (uint32_t)head;
}

static inline uint64_t pack(uint32_t steal, uint32_t real)
{
    return ((uint64_t)steal << 32) | real;
}

static inline uint32_t capacity(const weft__mt_queue *q)
{
    return q->mask + 1;
}

int weft__mt_queue_init(weft__mt_queue *q, uint32_t cap)
{
    if (cap < 2 || (cap & (cap - 1)) != 0)
        return WEFT_EINVAL;
    q->buf = calloc(cap, sizeof *q->buf);
    if (!q->buf)
        return WEFT_ENOMEM;
    q->mask = cap - 1;
    atomic_init(&q->head, 0);
    atomic_init(&q->tail, 0);
    return 0;
}

void weft__mt_queue_destroy(weft__mt_queue *q)
{
    free(q->buf);
    q->buf = NULL;
}

/* The queue is full and no steal is running: move the oldest half plus `t` to the injection
 * queue. False if a stealer changed head first; the caller then tries the push again. */
static bool push_overflow(weft__mt_queue *q, weft_task *t, uint32_t real, uint32_t tail,
                          weft__mt_inject *overflow)
{
    uint32_t half = capacity(q) / 2;
    (void)tail; /* tail - real == cap: the whole ring is in use */

    uint64_t expected = pack(real, real);
    /* Release is not needed for the slots (only the owner writes them) but acquire is: a
     * stealer that finished before us must be done reading the slots we are about to relink
     * and later overwrite. */
    if (!atomic_compare_exchange_strong_explicit(&q->head, &expected,
                                                 pack(real + half, real + half),
                                                 memory_order_acq_rel, memory_order_relaxed))
        return false;

    weft_task *first = atomic_load_explicit(&q->buf[real & q->mask], memory_order_relaxed);
    weft_task *prev = first;
    for (uint32_t i = 1; i < half; i++) {
        weft_task *cur = atomic_load_explicit(&q->buf[(real + i) & q->mask], memory_order_relaxed);
        prev->queue_next = cur;
        prev = cur;
    }
    prev->queue_next = t;
    t->queue_next = NULL;
    weft__mt_inject_push_batch(overflow, first, t, (size_t)half + 1);
    return true;
}

bool weft__mt_queue_push(weft__mt_queue *q, weft_task *t, weft__mt_inject *overflow)
{
    uint32_t tail = atomic_load_explicit(&q->tail, memory_order_relaxed); /* ours */
    for (;;) {
        uint64_t head = atomic_load_explicit(&q->head, memory_order_acquire);
        uint32_t steal = unpack_steal(head);
        if (tail - steal < capacity(q)) {
            atomic_store_explicit(&q->buf[tail & q->mask], t, memory_order_relaxed);
            atomic_store_explicit(&q->tail, tail + 1, memory_order_release);
            return false;
        }
        if (steal != unpack_real(head)) {
            /* A stealer is copying out half of the queue right now; rather than wait for it,
             * send this one task to the global queue. */
            weft__mt_inject_push(overflow, t);
            return true;
        }
        if (push_overflow(q, t, unpack_real(head), tail, overflow))
            return true;
        /* A stealer got in between: there may be room now. */
    }
}

void weft__mt_queue_push_list(weft__mt_queue *q, weft_task *first, uint32_t n)
{
    uint32_t tail = atomic_load_explicit(&q->tail, memory_order_relaxed);
    weft_task *t = first;
    for (uint32_t i = 0; i < n; i++) {
        weft_task *next = t->queue_next;
        atomic_store_explicit(&q->buf[(tail + i) & q->mask], t, memory_order_relaxed);
        t = next;
    }
    atomic_store_explicit(&q->tail, tail + n, memory_order_release);
}

weft_task *weft__mt_queue_pop(weft__mt_queue *q)
{
    uint32_t tail = atomic_load_explicit(&q->tail, memory_order_relaxed); /* ours */
    uint64_t head = atomic_load_explicit(&q->head, memory_order_acquire);
    uint32_t real;
    for (;;) {
        uint32_t steal = unpack_steal(head);
        real = unpack_real(head);
        if (real == tail)
            return NULL;
        /* Move steal along with real unless a stealer holds it back. */
        uint64_t next = steal == real ? pack(real + 1, real + 1) : pack(steal, real + 1);
        if (atomic_compare_exchange_weak_explicit(&q->head, &head, next, memory_order_acq_rel,
                                                  memory_order_acquire))
            break;
    }
    return atomic_load_explicit(&q->buf[real & q->mask], memory_order_relaxed);
}

weft_task *weft__mt_queue_steal_into(weft__mt_queue *src, weft__mt_queue *dst, uint32_t *n_out)
{
    *n_out = 0;
    /* Only steal when the whole batch fits into our own queue without overflowing it. The
     * stealer is dst's owner; dst's steal position may lag if someone is stealing from us. */
    uint32_t dst_tail = atomic_load_explicit(&dst->tail, memory_order_relaxed);
    uint32_t dst_steal = unpack_steal(atomic_load_explicit(&dst->head, memory_order_acquire));
    uint32_t dst_room = capacity(dst) - (dst_tail - dst_steal);
    uint32_t src_cap = capacity(src);

    /* 1-3: claim [first, first + n). */
    uint64_t head = atomic_load_explicit(&src->head, memory_order_acquire);
    uint32_t first, n;
    for (;;) {
        uint32_t steal = unpack_steal(head), real = unpack_real(head);
        if (steal != real)
            return NULL; /* another stealer is at work */
        uint32_t tail = atomic_load_explicit(&src->tail, memory_order_acquire);
        n = tail - real;
        n -= n / 2;
        if (n > src_cap / 2)
            n = src_cap / 2;
        if (n > dst_room)
            n = dst_room;
        if (n == 0)
            return NULL;
        if (atomic_compare_exchange_weak_explicit(&src->head, &head, pack(steal, real + n),
                                                  memory_order_acq_rel, memory_order_acquire)) {
            first = real;
            break;
        }
    }

    /* 4: copy all but the last into dst (not yet published); the last is returned to run. */
    for (uint32_t i = 0; i + 1 < n; i++) {
        weft_task *t = atomic_load_explicit(&src->buf[(first + i) & src->mask],
                                            memory_order_relaxed);
        atomic_store_explicit(&dst->buf[(dst_tail + i) & dst->mask], t, memory_order_relaxed);
    }
    weft_task *ret = atomic_load_explicit(&src->buf[(first + n - 1) & src->mask],
                                          memory_order_relaxed);

    /* 5: release the claim. The owner may have popped meanwhile (real moved on), never
     * below first + n. Release: our reads of the slots happen before the owner reuses them. */
    head = atomic_load_explicit(&src->head, memory_order_acquire);
    for (;;) {
        uint32_t real = unpack_real(head);
        if (atomic_compare_exchange_weak_explicit(&src->head, &head, pack(real, real),
                                                  memory_order_acq_rel, memory_order_acquire))
            break;
    }

    if (n > 1)
        atomic_store_explicit(&dst->tail, dst_tail + n - 1, memory_order_release);
    *n_out = n;
    return ret;
}

uint32_t weft__mt_queue_len(weft__mt_queue *q)
{
    uint64_t head = atomic_load_explicit(&q->head, memory_order_acquire);
    uint32_t tail = atomic_load_explicit(&q->tail, memory_order_acquire);
    return tail - unpack_steal(head);
}

bool weft__mt_queue_has_tasks(weft__mt_queue *q)
{
    uint64_t head = atomic_load_explicit(&q->head, memory_order_acquire);
    uint32_t tail = atomic_load_explicit(&q->tail, memory_order_acquire);
    return tail != unpack_real(head);
}

uint32_t weft__mt_queue_room(weft__mt_queue *q)
{
    uint64_t head = atomic_load_explicit(&q->head, memory_order_acquire);
    uint32_t tail = atomic_load_explicit(&q->tail, memory_order_relaxed);
    return capacity(q) - (tail - unpack_steal(head));
}
