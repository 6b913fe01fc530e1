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
        weft__futex_mutex_init(&o->shard[i].lock);
        o->shard[i].head = NULL;
        atomic_init(&o->shard[i].inserted, 0);
        atomic_init(&o->shard[i].removed, 0);
    }
    atomic_init(&o->closed, false);
}

/* A counter written only under its shard's lock: a plain add, published for lock-free
 * readers. */
static void bump(_Atomic uint64_t *c)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + 1,
                          memory_order_relaxed);
}

size_t weft__owned_count(const weft__owned_tasks *o)
{
    uint64_t in = 0, out = 0;
    for (int i = 0; i < WEFT__OWNED_SHARDS; i++) {
        /* removed first: a task counted as removed was inserted before, so the difference
         * never goes negative however the two loads interleave with spawns. */
        out += atomic_load_explicit(&((weft__owned_shard *)&o->shard[i])->removed,
                                    memory_order_acquire);
        in += atomic_load_explicit(&((weft__owned_shard *)&o->shard[i])->inserted,
                                   memory_order_acquire);
    }
    return in >= out ? (size_t)(in - out) : 0;
}

bool weft__owned_insert(weft__owned_tasks *o, weft_task *t)
{
    weft__owned_shard *s = shard_of(o, t);
    weft__futex_lock(&s->lock);
    /* Checked under the shard lock: shutdown sets `closed` and then takes every shard lock,
     * so a task is either refused here or found by the shutdown sweep. */
    if (atomic_load_explicit(&o->closed, memory_order_acquire)) {
        weft__futex_unlock(&s->lock);
        return false;
    }
    t->owned_prev = NULL;
    t->owned_next = s->head;
    if (s->head)
        s->head->owned_prev = t;
    s->head = t;
    bump(&s->inserted);
    weft__futex_unlock(&s->lock);
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
    weft__futex_lock(&s->lock);
    /* A task is listed iff it is the head or has a predecessor. */
    listed = s->head == t || t->owned_prev != NULL;
    if (listed) {
        unlink_locked(s, t);
        bump(&s->removed);
    }
    weft__futex_unlock(&s->lock);
    return listed;
}

void weft__owned_close_and_shutdown_all(weft__owned_tasks *o)
{
    atomic_store_explicit(&o->closed, true, memory_order_release);
    for (int i = 0; i < WEFT__OWNED_SHARDS; i++) {
        weft__owned_shard *s = &o->shard[i];
        for (;;) {
            weft__futex_lock(&s->lock);
            weft_task *t = s->head;
            if (t) {
                unlink_locked(s, t);
                bump(&s->removed);
            }
            weft__futex_unlock(&s->lock);
            if (!t)
                break;
            /* Outside the lock: cancelling runs the future's drop, which may wake or complete
             * other tasks and so come back into this list. */
            weft__task_shutdown(t);
        }
    }
}

void weft__owned_destroy(weft__owned_tasks *o)
{
    (void)o; /* futex mutexes hold no resources */
}
