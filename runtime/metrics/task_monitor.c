/* runtime/metrics/task_monitor.c - task metrics: a monitor and the tasks spawned through it.
 *
 * A monitored task's future is the user's future behind a small header, in the task's one
 * allocation:
 *
 *   ┌──────────── monitored (header) ────────────┬──────── the user's future ────────┐
 *   │ vt │ shared* │ spawned_at │ idled_at │ .. │ copied by weft_spawn, polled here  │
 *   └────────────────────────────────────────────┴────────────────────────────────────┘
 *
 * Each poll of the header reads the clock before and after polling the user's future and
 * passes it a waker of its own (the `shared` block below) instead of the task's. Waking that
 * waker stamps the time of the first wake since the last poll and forwards the wake to the
 * task's real waker. So, at the start of a poll:
 *
 *   first poll      first-poll delay = now - spawned_at
 *   later polls     idle     = first wake - end of the previous poll
 *                   scheduled = now - first wake   (short or long against long_delay_ns)
 *   every poll      duration = end - start         (fast or slow against slow_poll_ns)
 *
 * The shared block outlives the task when the user's future handed clones of the waker to
 * others (a timer, a channel): it is reference-counted, one reference held by the task's
 * future and one by each clone. It keeps a clone of the task's own waker, taken at the first
 * poll and never changed: a task is always polled with the same waker, and our waker only
 * reaches other threads through the user's future, after that first poll wrote it, so
 * wakers read it without a lock.
 *
 * The monitor's counters are relaxed atomic adds: tasks of one group run on many workers at
 * once. That is the cost of asking for task metrics, paid only by monitored tasks (measured
 * by bench/bench_metrics.c).
 */
#include <stdlib.h>
#include <string.h>

#include <weft/metrics.h>

#include "../rt_int.h"

/* Indices into weft_task_monitor.c. Only what cannot be derived is stored, because every
 * store is an atomic add on a line all the group's tasks share: polls are counted as fast or
 * slow (the totals are their sums), scheduled waits as short or long, and a task is counted
 * idle exactly when it is counted scheduled. */
enum {
    C_INSTRUMENTED,
    C_DROPPED,
    C_FIRST_POLL,
    C_FIRST_POLL_DELAY,
    C_IDLE_NS,
    C_FAST_POLL,
    C_FAST_POLL_NS,
    C_SLOW_POLL,
    C_SLOW_POLL_NS,
    C_SHORT_DELAY,
    C_SHORT_DELAY_NS,
    C_LONG_DELAY,
    C_LONG_DELAY_NS,
    C_COUNT_
};

_Static_assert(C_COUNT_ == sizeof(((weft_task_monitor *)0)->c) / sizeof(uint64_t),
               "weft_task_monitor.c has one slot per stored counter");
_Static_assert(offsetof(weft_task_metrics, slow_poll_ns) == 18 * sizeof(uint64_t),
               "weft_task_metrics lists its 18 counters first");

static inline void add(weft_task_monitor *m, int which, uint64_t n)
{
    atomic_fetch_add_explicit(&m->c[which], n, memory_order_relaxed);
}

void weft_task_monitor_init(weft_task_monitor *m, uint64_t slow_poll_ns, uint64_t long_delay_ns)
{
    m->slow_poll_ns = slow_poll_ns;
    m->long_delay_ns = long_delay_ns;
    for (int i = 0; i < C_COUNT_; i++)
        atomic_init(&m->c[i], 0);
}

static uint64_t get(const weft_task_monitor *m, int which)
{
    return atomic_load_explicit((_Atomic uint64_t *)&m->c[which], memory_order_relaxed);
}

void weft_task_monitor_get(const weft_task_monitor *m, weft_task_metrics *out)
{
    out->instrumented_count = get(m, C_INSTRUMENTED);
    out->dropped_count = get(m, C_DROPPED);
    out->first_poll_count = get(m, C_FIRST_POLL);
    out->total_first_poll_delay_ns = get(m, C_FIRST_POLL_DELAY);
    out->total_fast_poll_count = get(m, C_FAST_POLL);
    out->total_fast_poll_ns = get(m, C_FAST_POLL_NS);
    out->total_slow_poll_count = get(m, C_SLOW_POLL);
    out->total_slow_poll_ns = get(m, C_SLOW_POLL_NS);
    out->total_short_delay_count = get(m, C_SHORT_DELAY);
    out->total_short_delay_ns = get(m, C_SHORT_DELAY_NS);
    out->total_long_delay_count = get(m, C_LONG_DELAY);
    out->total_long_delay_ns = get(m, C_LONG_DELAY_NS);
    out->total_poll_count = out->total_fast_poll_count + out->total_slow_poll_count;
    out->total_poll_ns = out->total_fast_poll_ns + out->total_slow_poll_ns;
    out->total_scheduled_count = out->total_short_delay_count + out->total_long_delay_count;
    out->total_scheduled_ns = out->total_short_delay_ns + out->total_long_delay_ns;
    out->total_idled_count = out->total_scheduled_count;
    out->total_idle_ns = get(m, C_IDLE_NS);
    out->slow_poll_ns = m->slow_poll_ns;
    out->long_delay_ns = m->long_delay_ns;
}

void weft_task_metrics_diff(const weft_task_metrics *prev, const weft_task_metrics *cur,
                            weft_task_metrics *out)
{
    const uint64_t *p = (const uint64_t *)prev, *c = (const uint64_t *)cur;
    weft_task_metrics d = *cur;
    uint64_t *v = (uint64_t *)&d;
    for (int i = 0; i < 18; i++)
        v[i] = c[i] >= p[i] ? c[i] - p[i] : 0;
    *out = d;
}

static double ratio(uint64_t num, uint64_t den)
{
    return den ? (double)num / (double)den : 0;
}

double weft_task_metrics_mean_poll_ns(const weft_task_metrics *m)
{
    return ratio(m->total_poll_ns, m->total_poll_count);
}

double weft_task_metrics_mean_first_poll_delay_ns(const weft_task_metrics *m)
{
    return ratio(m->total_first_poll_delay_ns, m->first_poll_count);
}

double weft_task_metrics_mean_idle_ns(const weft_task_metrics *m)
{
    return ratio(m->total_idle_ns, m->total_idled_count);
}

double weft_task_metrics_mean_scheduled_ns(const weft_task_metrics *m)
{
    return ratio(m->total_scheduled_ns, m->total_scheduled_count);
}

double weft_task_metrics_slow_poll_ratio(const weft_task_metrics *m)
{
    return ratio(m->total_slow_poll_count, m->total_poll_count);
}

double weft_task_metrics_long_delay_ratio(const weft_task_metrics *m)
{
    return ratio(m->total_long_delay_count, m->total_scheduled_count);
}

/* ---------------------------------------------------------------- the shared block */
typedef struct mon_shared {
    _Atomic size_t refs;          /* the task's future's + one per waker clone */
    const weft__clock *clock;     /* the runtime's; fixed */
    _Atomic uint64_t woken_at;    /* first wake since the last poll began; 0: none */
    weft_waker outer;             /* a clone of the task's own waker (owned); written once, at
                                     the first poll, before any waker of ours exists */
} mon_shared;

static void shared_release(mon_shared *sh)
{
    if (atomic_fetch_sub_explicit(&sh->refs, 1, memory_order_acq_rel) == 1) {
        weft_waker_drop(&sh->outer);
        free(sh);
    }
}

static const weft_waker_vtable mon_waker_vt;

static weft_waker mon_clone(const void *data)
{
    mon_shared *sh = (mon_shared *)data;
    atomic_fetch_add_explicit(&sh->refs, 1, memory_order_relaxed);
    return (weft_waker){&mon_waker_vt, sh};
}

static void mon_wake_by_ref(const void *data)
{
    mon_shared *sh = (mon_shared *)data;
    /* Only the first wake since the last poll is timed (a read of the clock is ~50 ns). */
    if (atomic_load_explicit(&sh->woken_at, memory_order_relaxed) == 0) {
        uint64_t zero = 0, now = weft__clock_now(sh->clock);
        if (now == 0)
            now = 1; /* 0 means "not woken" */
        atomic_compare_exchange_strong_explicit(&sh->woken_at, &zero, now,
                                                memory_order_relaxed, memory_order_relaxed);
    }
    weft_waker_wake_by_ref(&sh->outer);
}

static void mon_wake(const void *data)
{
    mon_wake_by_ref(data);
    shared_release((mon_shared *)data);
}

static void mon_drop(const void *data)
{
    shared_release((mon_shared *)data);
}

static const weft_waker_vtable mon_waker_vt = {
    .clone = mon_clone,
    .wake = mon_wake,
    .wake_by_ref = mon_wake_by_ref,
    .drop = mon_drop,
};

/* ---------------------------------------------------------------- the monitored future */

/* Futures up to this size (with the header) are assembled on the spawner's stack. */
#define STACK_FUTURE_MAX 1024
typedef struct monitored {
    weft_future base;
    weft_task_monitor *m;      /* borrowed: outlives the task */
    mon_shared *sh;            /* one reference */
    uint64_t spawned_at;       /* runtime clock at spawn */
    uint64_t idled_at;         /* end of the previous poll */
    bool polled;               /* polled at least once */
    alignas(max_align_t) unsigned char inner[]; /* the user's future */
} monitored;

static inline weft_future *inner_of(monitored *f)
{
    return (weft_future *)f->inner;
}

static void monitored_done(monitored *f)
{
    add(f->m, C_DROPPED, 1);
    shared_release(f->sh);
    f->sh = NULL;
}

static weft_poll monitored_poll(weft_future *self, weft_context *cx)
{
    monitored *f = (monitored *)self;
    weft_task_monitor *m = f->m;
    mon_shared *sh = f->sh;
    uint64_t start = weft__clock_now(sh->clock);

    if (!f->polled) {
        f->polled = true;
        add(m, C_FIRST_POLL, 1);
        add(m, C_FIRST_POLL_DELAY, start > f->spawned_at ? start - f->spawned_at : 0);
        atomic_store_explicit(&sh->woken_at, 0, memory_order_relaxed);
    } else {
        uint64_t woken = atomic_exchange_explicit(&sh->woken_at, 0, memory_order_relaxed);
        if (woken) {
            if (woken > f->idled_at)
                add(m, C_IDLE_NS, woken - f->idled_at);
            uint64_t delay = start > woken ? start - woken : 0;
            bool long_delay = delay >= m->long_delay_ns;
            add(m, long_delay ? C_LONG_DELAY : C_SHORT_DELAY, 1);
            add(m, long_delay ? C_LONG_DELAY_NS : C_SHORT_DELAY_NS, delay);
        }
    }

    /* The task's waker, for ours to forward to: see the top of the file. */
    if (!weft_waker_is_set(&sh->outer))
        sh->outer = weft_waker_clone(cx->waker);

    weft_waker mine = {&mon_waker_vt, sh}; /* borrowed: the future's own reference */
    weft_context inner_cx = {&mine, cx->task};
    weft_poll r = weft_future_poll(inner_of(f), &inner_cx);

    uint64_t end = weft__clock_now(sh->clock);
    uint64_t took = end > start ? end - start : 0;
    bool slow = took >= m->slow_poll_ns;
    add(m, slow ? C_SLOW_POLL : C_FAST_POLL, 1);
    add(m, slow ? C_SLOW_POLL_NS : C_FAST_POLL_NS, took);
    f->idled_at = end;
    if (r == WEFT_READY)
        monitored_done(f);
    return r;
}

static void monitored_drop(weft_future *self)
{
    monitored *f = (monitored *)self;
    weft_future_drop(inner_of(f));
    monitored_done(f);
}

static const weft_future_vtable monitored_vt = {
    .poll = monitored_poll,
    .drop = monitored_drop,
    .name = "monitored",
};

weft_join_handle weft__task_monitor_spawn(weft_task_monitor *m, weft_runtime *rt,
                                          const weft_future *fut, size_t size, const char *name,
                                          weft_location where)
{
    rt = weft__runtime_or_current(rt);
    if (!m || !fut || !rt)
        return weft__join_handle_for(NULL, rt ? WEFT_EINVAL : WEFT_ENORUNTIME);
    /* The header and the user's future are put together here and copied into the task by
     * the spawn: on the stack when small (the usual case), else on the heap. */
    size_t total = sizeof(monitored) + size;
    union {
        monitored f;
        unsigned char bytes[STACK_FUTURE_MAX];
    } local;
    monitored *f = total <= sizeof local ? &local.f : malloc(total);
    mon_shared *sh = malloc(sizeof *sh);
    if (!f || !sh) {
        if (f != &local.f)
            free(f);
        free(sh);
        return weft__join_handle_for(NULL, WEFT_ENOMEM);
    }
    atomic_init(&sh->refs, 1);
    sh->clock = rt->clock;
    atomic_init(&sh->woken_at, 0);
    sh->outer = WEFT_WAKER_NONE;

    f->base.vt = &monitored_vt;
    f->m = m;
    f->sh = sh;
    f->spawned_at = weft__clock_now(rt->clock);
    f->idled_at = f->spawned_at;
    f->polled = false;
    memcpy(f->inner, fut, size);
    /* Counted before the spawn so that a task finishing at once on another worker is never
     * seen dropped before it was instrumented. */
    add(m, C_INSTRUMENTED, 1);
    weft_join_handle h = weft__spawn(rt, &f->base, total, name ? name : fut->vt->name, where);
    if (f != &local.f)
        free(f); /* the task holds its own copy */
    if (h.status < 0 && !h.task) {
        /* Never became a task: nothing will poll or drop it. */
        add(m, C_INSTRUMENTED, (uint64_t)-1);
        shared_release(sh);
    }
    return h;
}
