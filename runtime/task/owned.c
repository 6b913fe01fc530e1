/* runtime/task/owned.c - the list of every live task of a runtime.
 *
 * Shutdown must find every task that has not completed, including idle ones that sit in no
 * queue, to cancel them: that is what this list is for. It holds one reference per task. It is
 * sharded by task id so that spawns and completions on different workers rarely contend on one
 * mutex. Invariant: a task is in the list from spawn until it completes (complete() removes it)
 * or until shutdown pops it; once `closed` is set, nothing is inserted again, so the shutdown
 * loop terminates.
 */
#include "../rt_int.h"

static weft__owned_shard *shard_of(weft__owned_tasks *o, const weft_task *t)
{
    return &o->shard[t->id % WEFT__OWNED_SHARDS];
}

void weft__owned_init(weft__owned_tasks *o)
{
    for (int i = 0; i < WEFT__OWNED_SHARDS; i++) {
        pthread_mutex_init(&o->shard[i].lock, NULL);
        o->shard[i].head = NULL;
        atomic_init(&o->shard[i].inserted, 0);
    }
    atomic_init(&o->closed, false);
    atomic_init(&o->count, 0);
}

bool weft__owned_insert(weft__owned_tasks *o, weft_task *t)
{
    weft__owned_shard *s = shard_of(o, t);
    pthread_mutex_lock(&s->lock);
    /* Checked under the shard lock: shutdown sets `closed` and then takes every shard lock,
     * so a task is either refused here or found by the shutdown sweep. */
    if (atomic_load_explicit(&o->closed, memory_order_acquire)) {
        pthread_mutex_unlock(&s->lock);
        return false;
    }
    t->owned_prev = NULL;
    t->owned_next = s->head;
    if (s->head)
        s->head->owned_prev = t;
    s->head = t;
    atomic_store_explicit(&s->inserted,
                          atomic_load_explicit(&s->inserted, memory_order_relaxed) + 1,
                          memory_order_relaxed);
    pthread_mutex_unlock(&s->lock);
    atomic_fetch_add_explicit(&o->count, 1, memory_order_relaxed);
    return true;
}

static void unlink_locked(weft__owned_shard *s, weft_task *t)
{
    if (t->owned_prev)
        t->owned_prev->owned_next = t->owned_next;
    else
        s->head = t->owned_next;
    if (t->owned_next)
        t->owned_next->owned_prev = t->owned_prev;
    t->owned_next = t->owned_prev = NULL;
}

bool weft__owned_remove(weft__owned_tasks *o, weft_task *t)
{
    weft__owned_shard *s = shard_of(o, t);
    bool listed;
    pthread_mutex_lock(&s->lock);
    /* A task is listed iff it is the head or has a predecessor. */
    listed = s->head == t || t->owned_prev != NULL;
    if (listed)
        unlink_locked(s, t);
    pthread_mutex_unlock(&s->lock);
    if (listed)
        atomic_fetch_sub_explicit(&o->count, 1, memory_order_relaxed);
    return listed;
}

void weft__owned_close_and_shutdown_all(weft__owned_tasks *o)
{
    atomic_store_explicit(&o->closed, true, memory_order_release);
    for (int i = 0; i < WEFT__OWNED_SHARDS; i++) {
        weft__owned_shard *s = &o->shard[i];
        for (;;) {
            pthread_mutex_lock(&s->lock);
            weft_task *t = s->head;
            if (t)
                unlink_locked(s, t);
            pthread_mutex_unlock(&s->lock);
            if (!t)
                break;
            atomic_fetch_sub_explicit(&o->count, 1, memory_order_relaxed);
            /* Outside the lock: cancelling runs the future's drop, which may wake or complete
             * other tasks and so come back into this list. */
            weft__task_shutdown(t);
        }
    }
}

void weft__owned_destroy(weft__owned_tasks *o)
{
    for (int i = 0; i < WEFT__OWNED_SHARDS; i++)
        pthread_mutex_destroy(&o->shard[i].lock);
}
