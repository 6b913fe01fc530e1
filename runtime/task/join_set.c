/* runtime/task/join_set.c - JoinSet: a set of tasks whose outcomes come out in completion order.
 *
 * Each task in the set has an *entry*. The entry holds the task's join reference, and its own
 * waker ((entry_waker_vt, entry)) is installed as the task's join waker. When the task
 * completes, its runner wakes that waker on whatever thread it runs on; waking moves the entry
 * onto the set's ready list and wakes the task that last waited in join_next. join_next then
 * takes entries off the ready list, which is why outcomes come out in the order the tasks
 * completed and not in the order they were spawned.
 *
 *            spawn                      task completes (any thread)         join_next (owner)
 *   entry ──────────▶ in `all`, member ─────────────────────▶ also on `ready` ────────▶ removed
 *
 * Two kinds of state, two disciplines:
 *   - what only the set's user touches (`all`, `len`, entry->task): the API is not thread-safe,
 *     as in Tokio where it needs &mut, so these need no lock;
 *   - what wakers touch (`ready`, the stored waker, entry->ready/member): guarded by set->lock,
 *     because tasks complete on other workers.
 *
 * Lifetimes. A task keeps its join waker until the task is freed, which can be long after the
 * set has let go of it (after join_next, abort, or weft_join_set_free). So entries are
 * reference-counted: one reference for being in the set and one per waker clone the tasks hold.
 * The set is reference-counted too: one for its user until weft_join_set_free, one per live
 * entry. A waker called after the set was freed thus always finds valid memory, sees that its
 * entry is no longer a member, and does nothing.
 *
 * Callers: user code through include/weft/task.h.
 */
#include <stdlib.h>

#include "../rt_int.h"

typedef struct js_entry js_entry;

struct js_entry {
    weft_join_set *set;      /* fixed; the entry holds one reference to it while it lives */
    _Atomic size_t refs;     /* 1 while a member of the set, + 1 per waker clone */
    /* Owner side: only the set's user touches these (no lock). */
    js_entry *all_next, *all_prev; /* links in set->all */
    weft_task *task;         /* the join reference; NULL once given back */
    weft_task_id id;         /* the task's id */
    /* Waker side: guarded by set->lock. */
    js_entry *ready_next;    /* link in set->ready_head */
    bool ready;              /* on the ready list */
    bool member;             /* still in the set; a wake after removal does nothing */
};

struct weft_join_set {
    _Atomic size_t refs;     /* 1 for the user until weft_join_set_free, + 1 per live entry */
    pthread_mutex_t lock;    /* guards the ready list, `waker` and the entries' waker side */
    js_entry *ready_head, *ready_tail; /* completed, not yet collected, in completion order */
    weft_waker waker;        /* the task in join_next that returned PENDING last, or none */
    /* Owner side (no lock). */
    js_entry *all;           /* every member, completed or not */
    size_t len;              /* number of members */
};

/* ---------------------------------------------------------------- references */

static void set_release(weft_join_set *s)
{
    if (atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) != 1)
        return;
    weft_waker_drop(&s->waker);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

static void entry_release(js_entry *e)
{
    if (atomic_fetch_sub_explicit(&e->refs, 1, memory_order_acq_rel) != 1)
        return;
    weft_join_set *s = e->set;
    free(e);
    set_release(s);
}

/* ---------------------------------------------------------------- the entry's waker */

static const weft_waker_vtable entry_waker_vt;

/* The task completed: queue its entry for join_next and wake whoever waits there. */
static void mark_ready(js_entry *e)
{
    weft_join_set *s = e->set;
    weft_waker w = WEFT_WAKER_NONE;
    pthread_mutex_lock(&s->lock);
    if (e->member && !e->ready) {
        e->ready = true;
        e->ready_next = NULL;
        if (s->ready_tail)
            s->ready_tail->ready_next = e;
        else
            s->ready_head = e;
        s->ready_tail = e;
        w = s->waker;
        s->waker = WEFT_WAKER_NONE;
    }
    pthread_mutex_unlock(&s->lock);
    /* Outside the lock: waking may run arbitrary scheduler code. */
    weft_waker_wake(&w);
}

static weft_waker entry_clone(const void *data)
{
    js_entry *e = (js_entry *)data;
    atomic_fetch_add_explicit(&e->refs, 1, memory_order_relaxed);
    return (weft_waker){&entry_waker_vt, e};
}

static void entry_wake_by_ref(const void *data)
{
    mark_ready((js_entry *)data);
}

static void entry_wake(const void *data)
{
    mark_ready((js_entry *)data);
    entry_release((js_entry *)data);
}

static void entry_drop(const void *data)
{
    entry_release((js_entry *)data);
}

static const weft_waker_vtable entry_waker_vt = {
    .clone = entry_clone,
    .wake = entry_wake,
    .wake_by_ref = entry_wake_by_ref,
    .drop = entry_drop,
};

/* A borrowed waker for the entry (holds no reference; weft__task_poll_join clones it). */
static weft_waker entry_waker(js_entry *e)
{
    return (weft_waker){&entry_waker_vt, e};
}

/* ---------------------------------------------------------------- the set */

int weft_join_set_new(weft_join_set **out)
{
    weft_join_set *s = calloc(1, sizeof *s);
    if (!s)
        return WEFT_ENOMEM;
    if (pthread_mutex_init(&s->lock, NULL) != 0) {
        free(s);
        return WEFT_ENOMEM;
    }
    atomic_init(&s->refs, 1);
    s->waker = WEFT_WAKER_NONE;
    *out = s;
    return 0;
}

int64_t weft__join_set_spawn(weft_join_set *set, weft_runtime *rt, const weft_future *fut,
                             size_t size, const char *name, weft_location where)
{
    if (!set)
        return WEFT_EINVAL;
    rt = weft__runtime_or_current(rt);
    if (!rt)
        return WEFT_ENORUNTIME;
    /* Allocate first, so that a failure cannot leave a spawned task nobody joins. */
    js_entry *e = calloc(1, sizeof *e);
    if (!e)
        return WEFT_ENOMEM;
    int err = 0;
    weft_task *t =
        weft__task_spawn(rt, rt->sched, fut, size, name, where, WEFT__TASK_ASYNC, &err);
    if (!t) {
        free(e);
        return err;
    }
    e->set = set;
    atomic_init(&e->refs, 1);
    e->task = t;
    e->id = t->id;
    atomic_fetch_add_explicit(&set->refs, 1, memory_order_relaxed);
    e->all_prev = NULL;
    e->all_next = set->all;
    if (set->all)
        set->all->all_prev = e;
    set->all = e;
    set->len++;
    pthread_mutex_lock(&set->lock);
    e->member = true;
    pthread_mutex_unlock(&set->lock);

    /* Install the entry's waker as the join waker. The task may already have completed on
     * another worker: then nothing will ever call the waker, so mark the entry ready here;
     * join_next reads the outcome again, which stays in the task until the join is dropped. */
    weft_waker w = entry_waker(e);
    int status;
    intptr_t value;
    if (weft__task_poll_join(t, &w, &status, &value) == WEFT_READY)
        mark_ready(e);
    return (int64_t)e->id;
}

size_t weft_join_set_len(const weft_join_set *set)
{
    return set ? set->len : 0;
}

void weft_join_set_abort_all(weft_join_set *set)
{
    if (!set)
        return;
    for (js_entry *e = set->all; e; e = e->all_next)
        weft__task_abort(e->task);
}

/* Take a collected entry out of the set and give back its join reference. Owner only; the
 * entry is no longer on the ready list. */
static void remove_entry(weft_join_set *s, js_entry *e)
{
    weft__task_drop_join(e->task);
    e->task = NULL;
    if (e->all_prev)
        e->all_prev->all_next = e->all_next;
    else
        s->all = e->all_next;
    if (e->all_next)
        e->all_next->all_prev = e->all_prev;
    s->len--;
    pthread_mutex_lock(&s->lock);
    e->member = false;
    pthread_mutex_unlock(&s->lock);
    entry_release(e);
}

void weft_join_set_free(weft_join_set *set)
{
    if (!set)
        return;
    js_entry *all = set->all;
    set->all = NULL;
    set->len = 0;
    /* Abort first, then give up interest: the tasks' futures are dropped by their runtime, and
     * no outcome is read. Neither call holds our lock, since either may run waker code. */
    for (js_entry *e = all; e; e = e->all_next) {
        weft__task_abort(e->task);
        weft__task_drop_join(e->task);
        e->task = NULL;
    }
    pthread_mutex_lock(&set->lock);
    for (js_entry *e = all; e; e = e->all_next) {
        e->member = false;
        e->ready = false;
        e->ready_next = NULL;
    }
    set->ready_head = set->ready_tail = NULL;
    weft_waker w = set->waker;
    set->waker = WEFT_WAKER_NONE;
    pthread_mutex_unlock(&set->lock);
    weft_waker_drop(&w);

    while (all) {
        js_entry *e = all;
        all = e->all_next;
        entry_release(e); /* the membership reference; waker clones may outlive it */
    }
    set_release(set);
}

/* ---------------------------------------------------------------- join_next */

static weft_poll join_next_poll(weft_future *self, weft_context *cx)
{
    weft_join_next *f = (weft_join_next *)self;
    weft_join_set *s = f->set;
    for (;;) {
        if (s->len == 0) {
            f->id = 0;
            f->status = WEFT_EEMPTY;
            f->value = 0;
            return WEFT_READY;
        }
        weft_waker old = WEFT_WAKER_NONE;
        pthread_mutex_lock(&s->lock);
        js_entry *e = s->ready_head;
        if (!e) {
            /* Nothing has completed: leave our waker for mark_ready. Cloning a task waker only
             * bumps a count; dropping the one it replaces may free a task, so that is done
             * after unlocking. */
            if (!weft_waker_is_set(&s->waker) || !weft_waker_will_wake(&s->waker, cx->waker)) {
                old = s->waker;
                s->waker = weft_waker_clone(cx->waker);
            }
            pthread_mutex_unlock(&s->lock);
            weft_waker_drop(&old);
            return WEFT_PENDING;
        }
        s->ready_head = e->ready_next;
        if (!s->ready_head)
            s->ready_tail = NULL;
        e->ready_next = NULL;
        e->ready = false;
        pthread_mutex_unlock(&s->lock);

        weft_waker w = entry_waker(e);
        int status;
        intptr_t value;
        if (weft__task_poll_join(e->task, &w, &status, &value) == WEFT_PENDING) {
            /* Not complete after all (a wake we did not expect): the waker is still installed
             * and will queue the entry again when the task does complete. */
            continue;
        }
        f->id = e->id;
        f->status = status;
        f->value = value;
        remove_entry(s, e);
        return WEFT_READY;
    }
}

static const weft_future_vtable join_next_vt = {
    .poll = join_next_poll,
    /* Nothing to release: an outcome leaves the set only when poll returns READY, and a waker
     * left behind in the set is a harmless spurious wake-up later. */
    .drop = NULL,
    .name = "join_set_join_next",
};

void weft_join_set_join_next_init(weft_join_next *f, weft_join_set *set)
{
    f->base.vt = &join_next_vt;
    f->set = set;
    f->id = 0;
    f->status = 0;
    f->value = 0;
}
