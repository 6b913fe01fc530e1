/* runtime/sched/multi_thread/inject.c - the global injection queue of the multi-thread runtime.
 *
 * Tasks reach it three ways: scheduled from a thread that is not one of the runtime's workers
 * (block_on's thread, a blocking-pool thread, a plain pthread, the timer fired elsewhere),
 * pushed out of a full local queue (half a queue at once), and, rarely, pushed while a stealer
 * is emptying the local queue. Workers take from it when their own queue is empty, and first
 * of all every event_interval ticks, so that it cannot starve.
 *
 *     head ──▶ task ──▶ task ──▶ task ◀── tail      (linked through weft_task.queue_next)
 *
 * Invariants: the list, `closed` and `len` change only under `lock`; `len` equals the list
 * length whenever the lock is free, so a relaxed read of 0 is a valid "probably empty" hint.
 * Workers never rely on the hint for correctness: a push is followed by a fenced check of the
 * idle state (worker.c), and a worker going to sleep re-reads `len` after a fence.
 * Once closed (shutdown), pushes drop the tasks' notified references instead of queueing, so
 * nothing can slip in after the final drain.
 */
#include <stdlib.h>

#include "mt_int.h"

void weft__mt_inject_init(weft__mt_inject *q)
{
    pthread_mutex_init(&q->lock, NULL);
    q->head = q->tail = NULL;
    q->closed = false;
    atomic_init(&q->len, 0);
}

void weft__mt_inject_destroy(weft__mt_inject *q)
{
    pthread_mutex_destroy(&q->lock);
}

void weft__mt_inject_push_batch(weft__mt_inject *q, weft_task *first, weft_task *last,
                                size_t n)
{
    last->queue_next = NULL;
    pthread_mutex_lock(&q->lock);
    if (q->closed) {
        pthread_mutex_unlock(&q->lock);
        /* Dropped outside the lock: the last reference may free the task, and freeing it may
         * drop wakers that lead back here. */
        while (first) {
            weft_task *next = first->queue_next;
            first->queue_next = NULL;
            weft__task_drop_notified(first);
            first = next;
        }
        return;
    }
    if (q->tail)
        q->tail->queue_next = first;
    else
        q->head = first;
    q->tail = last;
    atomic_store_explicit(&q->len, atomic_load_explicit(&q->len, memory_order_relaxed) + n,
                          memory_order_relaxed);
    pthread_mutex_unlock(&q->lock);
}

weft_task *weft__mt_inject_pop_batch(weft__mt_inject *q, size_t max, size_t *n)
{
    *n = 0;
    if (atomic_load_explicit(&q->len, memory_order_relaxed) == 0)
        return NULL;
    pthread_mutex_lock(&q->lock);
    weft_task *first = q->head;
    weft_task *last = NULL;
    size_t taken = 0;
    for (weft_task *t = first; t && taken < max; t = t->queue_next) {
        last = t;
        taken++;
    }
    if (taken) {
        q->head = last->queue_next;
        if (!q->head)
            q->tail = NULL;
        last->queue_next = NULL;
        atomic_store_explicit(&q->len,
                              atomic_load_explicit(&q->len, memory_order_relaxed) - taken,
                              memory_order_relaxed);
    }
    pthread_mutex_unlock(&q->lock);
    *n = taken;
    return taken ? first : NULL;
}

void weft__mt_inject_close(weft__mt_inject *q)
{
    pthread_mutex_lock(&q->lock);
    q->closed = true;
    pthread_mutex_unlock(&q->lock);
}
