/* replay/det_wake.c - how wakes reach the deterministic scheduler.
 *
 * A wake is schedule() with a notified task, or the root future's waker. It comes from the
 * thread that runs the program (it makes the task runnable now), from a blocking function
 * (held back until that function's virtual time is up: det_time.c delivers it), or from a
 * thread the scheduler does not control (queued under a lock and taken at the next step; such
 * a run is not reproducible, and the first one says so). Kept apart from the loop because this
 * is the only part that another thread may enter.
 */
#include <stdio.h>
#include <stdlib.h>

#include "det_int.h"

/* ---------------------------------------------------------------- schedule() */

void weft__det_schedule(weft__sched *s, weft_task *t, bool is_yield)
{
    weft__det *d = (weft__det *)s;
    (void)is_yield; /* the strategy decides; yield only makes the task runnable again */
    if (atomic_load_explicit(&s->rt->closed, memory_order_acquire)) {
        weft__task_drop_notified(t);
        return;
    }
    if (!pthread_equal(pthread_self(), d->owner)) {
        /* A wake from a thread we do not control (a raw pthread): taken at the next step. */
        pthread_mutex_lock(&d->foreign_lock);
        t->queue_next = NULL;
        if (d->foreign_tail)
            d->foreign_tail->queue_next = t;
        else
            d->foreign_head = t;
        d->foreign_tail = t;
        atomic_store_explicit(&d->foreign_any, true, memory_order_release);
        pthread_mutex_unlock(&d->foreign_lock);
        return;
    }
    if (d->in_blocking) {
        /* Issued by a blocking function: held back until its virtual time is up. */
        if (weft__det_grow((void **)&d->def, &d->cap_def, (uint64_t)d->ndef + 1, sizeof *d->def)) {
            weft__det_enqueue(d, t);
            return;
        }
        d->def[d->ndef++] = (weft__det_deferred){t, UINT64_MAX, d->def_seq++};
        return;
    }
    weft__det_enqueue(d, t);
}

/* ---------------------------------------------------------------- the root future's waker
 *
 * Points at a small cell rather than at the scheduler: a root future that block_on left
 * pending may keep a clone in a timer or a wait queue that outlives the scheduler (it is
 * dropped when the runtime frees its time driver, after the scheduler). The cell counts the
 * clones, which tells the analysis whether the root registered a waker anywhere, and is freed
 * by whichever of the scheduler and the last clone goes last. */
static void cell_release(weft__det_root_cell *c)
{
    if (--c->clones == 0 && !c->d)
        free(c);
}

static weft_waker root_clone(const void *data)
{
    weft__det_root_cell *c = (weft__det_root_cell *)data;
    c->clones++;
    return (weft_waker){&weft__det_root_waker_vt, data};
}

static void root_wake_by_ref(const void *data)
{
    weft__det *d = ((const weft__det_root_cell *)data)->d;
    if (d && d->in_block_on && !d->root_done && d->root != WEFT__DET_NONE) {
        if (d->in_blocking) {
            /* Held back like any wake of a blocking function: a NULL task marks the root. */
            if (!weft__det_grow((void **)&d->def, &d->cap_def, (uint64_t)d->ndef + 1,
                                sizeof *d->def)) {
                d->def[d->ndef++] = (weft__det_deferred){NULL, UINT64_MAX, d->def_seq++};
                return;
            }
        }
        weft__det_make_runnable(d, d->root);
    }
}

static void root_wake(const void *data)
{
    root_wake_by_ref(data);
    cell_release((weft__det_root_cell *)data);
}

static void root_drop(const void *data)
{
    cell_release((weft__det_root_cell *)data);
}

const weft_waker_vtable weft__det_root_waker_vt = {
    .clone = root_clone,
    .wake = root_wake,
    .wake_by_ref = root_wake_by_ref,
    .drop = root_drop,
};

void weft__det_take_foreign(weft__det *d)
{
    if (!atomic_load_explicit(&d->foreign_any, memory_order_acquire))
        return;
    pthread_mutex_lock(&d->foreign_lock);
    weft_task *t = d->foreign_head;
    d->foreign_head = d->foreign_tail = NULL;
    atomic_store_explicit(&d->foreign_any, false, memory_order_relaxed);
    pthread_mutex_unlock(&d->foreign_lock);
    if (t && !d->foreign_seen) {
        d->foreign_seen = true;
        fprintf(stderr, "weft: deterministic scheduler: a task was woken from another thread; "
                        "this run is not reproducible\n");
    }
    while (t) {
        weft_task *next = t->queue_next;
        t->queue_next = NULL;
        weft__det_enqueue(d, t);
        t = next;
    }
}

