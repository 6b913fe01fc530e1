/* replay/det_sched.c - the deterministic scheduler: one thread, virtual time, a strategy.
 *
 * A third backend behind weft__sched_ops. Everything runs on the thread that built the
 * runtime, inside weft_block_on. The loop, once per *step*:
 *
 *     settle:   deliver wakes from blocking functions whose virtual time is up, fire the
 *               timers that are due (virtual time), take wakes that came from other threads
 *     if nothing is runnable:
 *               jump virtual time to the next timer or blocking completion; if there is none,
 *               the program is stuck: explain it (failure.c) and stop
 *     check the step limit and starvation
 *     decide:   the strategy picks one runnable task (strategy.c); the decision is recorded
 *     run it:   poll the task (or block_on's root future, which is a task like the others
 *               here: "main"), and record what it did
 *
 * The runnable set is kept in the order tasks became runnable, so index 0 is what a FIFO run
 * queue would run next; a decision that picks another index is counted as a *preemption*
 * (a context switch the program did not ask for), which is what DFS bounds and the shrinker
 * minimises.
 *
 * Virtual time stands still while tasks run, except when code says that work takes time
 * (weft_sched_burn/block: hooks.c). A blocking function (spawn_blocking) runs to completion
 * at once when picked, on this thread, but its virtual duration is charged to a virtual
 * blocking thread: every wake it issues (its join handle's above all) is held back and
 * delivered when that thread's time is up, so async tasks keep running meanwhile.
 *
 * References: each entity holds one reference to its task until it sees the task complete,
 * so the analysis (failure.c) may read any live task's state word. Queue entries hold the
 * notified reference as with every backend.
 *
 * Callers: runtime.c (weft__det_new, install, the sched ops), the task machinery through
 * schedule(), hooks.c and failure.c through det_int.h.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "det_int.h"
#include "simnet/simnet.h"
#include "task/state.h"
#include "time/time_int.h"

/* ---------------------------------------------------------------- small helpers */

static int grow(void **p, uint32_t *cap, uint64_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    if (need > UINT32_MAX / 4)
        return WEFT_ENOMEM;
    uint32_t n = *cap ? *cap : 16;
    while (n < need)
        n *= 2;
    void *q = realloc(*p, (size_t)n * elem);
    if (!q)
        return WEFT_ENOMEM;
    *p = q;
    *cap = n;
    return 0;
}

static uint64_t mix(uint64_t x)
{
    x += 0x9E3779B97F4A7C15u;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9u;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBu;
    return x ^ (x >> 31);
}

static const char *base_name(const char *path)
{
    if (!path)
        return "";
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* ---------------------------------------------------------------- the virtual clock */

static uint64_t det_now_ns(const weft__clock *c)
{
    const weft__det *d = (const weft__det *)((const char *)c - offsetof(weft__det, clock));
    return d->now + d->extra;
}

/* ---------------------------------------------------------------- failures */

void weft__det_fail(weft__det *d, int kind, const char *sig, const char *fmt, ...)
{
    if (d->rec->outcome != WEFT__OUT_OK)
        return;
    char msg[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    weft__det_record_fail(d->rec, kind, d->step, sig, "%s", msg);
    d->stopping = true;
}

/* ---------------------------------------------------------------- entities */

static uint32_t map_find(const weft__det *d, uint64_t id)
{
    if (!d->map_cap)
        return WEFT__DET_NONE;
    for (uint32_t k = (uint32_t)mix(id) & (d->map_cap - 1);; k = (k + 1) & (d->map_cap - 1)) {
        uint32_t e = d->map[k];
        if (e == WEFT__DET_NONE || d->ent[e].id == id)
            return e;
    }
}

uint32_t weft__det_entity_of(const weft__det *d, uint64_t id)
{
    return id ? map_find(d, id) : WEFT__DET_NONE;
}

static int map_insert(weft__det *d, uint64_t id, uint32_t e)
{
    if ((d->map_used + 1) * 2 > d->map_cap) {
        uint32_t cap = d->map_cap ? d->map_cap * 2 : 64;
        uint32_t *m = malloc(cap * sizeof *m);
        if (!m)
            return WEFT_ENOMEM;
        memset(m, 0xff, cap * sizeof *m);
        for (uint32_t i = 0; i < d->map_cap; i++) {
            uint32_t x = d->map[i];
            if (x == WEFT__DET_NONE)
                continue;
            uint32_t k = (uint32_t)mix(d->ent[x].id) & (cap - 1);
            while (m[k] != WEFT__DET_NONE)
                k = (k + 1) & (cap - 1);
            m[k] = x;
        }
        free(d->map);
        d->map = m;
        d->map_cap = cap;
    }
    uint32_t k = (uint32_t)mix(id) & (d->map_cap - 1);
    while (d->map[k] != WEFT__DET_NONE)
        k = (k + 1) & (d->map_cap - 1);
    d->map[k] = e;
    d->map_used++;
    return 0;
}

/* The ordinal of a task with this (name, file, func): 1 for the first one. */
static uint32_t next_ordinal(weft__det *d, const char *name, const char *file, const char *func)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (const char *s = name; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    h = (h ^ 0xff) * 0x100000001b3ull;
    for (const char *s = file; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    h = (h ^ 0xff) * 0x100000001b3ull;
    for (const char *s = func; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    h |= 1; /* 0 marks an empty slot */
    if ((d->ord_used + 1) * 2 > d->ord_cap) {
        uint32_t cap = d->ord_cap ? d->ord_cap * 2 : 64;
        uint64_t *k2 = calloc(cap, sizeof *k2);
        uint32_t *v2 = calloc(cap, sizeof *v2);
        if (!k2 || !v2) {
            free(k2);
            free(v2);
            return 0;
        }
        for (uint32_t i = 0; i < d->ord_cap; i++) {
            if (!d->ord_key[i])
                continue;
            uint32_t k = (uint32_t)mix(d->ord_key[i]) & (cap - 1);
            while (k2[k])
                k = (k + 1) & (cap - 1);
            k2[k] = d->ord_key[i];
            v2[k] = d->ord_val[i];
        }
        free(d->ord_key);
        free(d->ord_val);
        d->ord_key = k2;
        d->ord_val = v2;
        d->ord_cap = cap;
    }
    uint32_t k = (uint32_t)mix(h) & (d->ord_cap - 1);
    while (d->ord_key[k] && d->ord_key[k] != h)
        k = (k + 1) & (d->ord_cap - 1);
    if (!d->ord_key[k]) {
        d->ord_key[k] = h;
        d->ord_val[k] = 0;
        d->ord_used++;
    }
    return ++d->ord_val[k];
}

/* A new entity (task t, or a root when t is NULL). NONE when out of memory. */
static uint32_t new_entity(weft__det *d, weft_task *t)
{
    if (grow((void **)&d->ent, &d->cap_ent, (uint64_t)d->nent + 1, sizeof *d->ent))
        return WEFT__DET_NONE;
    weft__det_task rt = {0};
    rt.parent = WEFT__DET_NONE;
    if (t) {
        const char *file = base_name(t->spawned_at.file);
        const char *func = t->spawned_at.func ? t->spawned_at.func : "";
        rt.name = weft__det_str_intern(d->rec, t->name);
        rt.file = weft__det_str_intern(d->rec, file);
        rt.func = weft__det_str_intern(d->rec, func);
        rt.line = t->spawned_at.line;
        rt.ordinal = next_ordinal(d, t->name ? t->name : "", file, func);
        rt.kind = t->kind == WEFT__TASK_BLOCKING ? WEFT__DET_BLOCKING : WEFT__DET_ASYNC;
        rt.parent = weft__det_entity_of(d, t->parent);
    } else {
        rt.name = weft__det_str_intern(d->rec, "main");
        rt.ordinal = ++d->roots;
        rt.kind = WEFT__DET_ROOT;
    }
    uint32_t alias = weft__det_record_add_task(d->rec, &rt);
    if (alias != d->nent)
        return WEFT__DET_NONE; /* out of memory (the record and entities stay in step) */
    if (t && map_insert(d, t->id, alias) != 0) {
        d->rec->ntasks--;
        return WEFT__DET_NONE;
    }
    weft__det_entity *e = &d->ent[d->nent++];
    memset(e, 0, sizeof *e);
    e->task = t;
    e->id = t ? t->id : 0;
    e->blocking = t && t->kind == WEFT__TASK_BLOCKING;
    if (t)
        weft__state_ref_inc(&t->state); /* released when we see it complete */
    weft__det_strategy_new_entity(d, alias);
    return alias;
}

static void make_runnable(weft__det *d, uint32_t e)
{
    weft__det_entity *en = &d->ent[e];
    if (en->runnable)
        return;
    if (grow((void **)&d->runq, &d->cap_runq, (uint64_t)d->nrunq + 1, sizeof *d->runq) ||
        grow((void **)&d->scratch, &d->cap_scratch, (uint64_t)d->nrunq + 1,
             sizeof *d->scratch)) {
        weft__det_fail(d, WEFT__OUT_CRASH, "oom", "out of memory in the deterministic scheduler");
        return;
    }
    en->runnable = true;
    en->since = d->step;
    d->runq[d->nrunq++] = e;
}

/* Queue a notified task: take its notified reference into the runnable set. */
static void enqueue(weft__det *d, weft_task *t)
{
    uint32_t e = weft__det_entity_of(d, t->id);
    if (e == WEFT__DET_NONE)
        e = new_entity(d, t);
    if (e == WEFT__DET_NONE) {
        weft__det_fail(d, WEFT__OUT_CRASH, "oom", "out of memory in the deterministic scheduler");
        weft__task_drop_notified(t);
        return;
    }
    if (d->ent[e].runnable || d->ent[e].done) {
        /* The state word allows one queue entry per task; a second one would be a runtime
         * bug. Keep the count of references right all the same. */
        weft__task_drop_notified(t);
        return;
    }
    make_runnable(d, e);
}

/* ---------------------------------------------------------------- schedule() */

static void det_schedule(weft__sched *s, weft_task *t, bool is_yield)
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
        if (grow((void **)&d->def, &d->cap_def, (uint64_t)d->ndef + 1, sizeof *d->def)) {
            enqueue(d, t);
            return;
        }
        d->def[d->ndef++] = (weft__det_deferred){t, UINT64_MAX, d->def_seq++};
        return;
    }
    enqueue(d, t);
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
            if (!grow((void **)&d->def, &d->cap_def, (uint64_t)d->ndef + 1, sizeof *d->def)) {
                d->def[d->ndef++] = (weft__det_deferred){NULL, UINT64_MAX, d->def_seq++};
                return;
            }
        }
        make_runnable(d, d->root);
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

/* ---------------------------------------------------------------- settling between steps */

static void take_foreign(weft__det *d)
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
        enqueue(d, t);
        t = next;
    }
}

/* Deliver held-back wakes that are due, in (time, issue) order. */
static void release_deferred(weft__det *d)
{
    for (;;) {
        uint32_t best = WEFT__DET_NONE;
        for (uint32_t i = 0; i < d->ndef; i++) {
            if (d->def[i].at > d->now)
                continue;
            if (best == WEFT__DET_NONE || d->def[i].at < d->def[best].at ||
                (d->def[i].at == d->def[best].at && d->def[i].seq < d->def[best].seq))
                best = i;
        }
        if (best == WEFT__DET_NONE)
            return;
        weft__det_deferred w = d->def[best];
        d->def[best] = d->def[--d->ndef];
        if (w.task)
            enqueue(d, w.task);
        else if (d->in_block_on && !d->root_done)
            make_runnable(d, d->root);
    }
}

static uint64_t next_deferred(const weft__det *d)
{
    uint64_t at = UINT64_MAX;
    for (uint32_t i = 0; i < d->ndef; i++)
        if (d->def[i].at < at)
            at = d->def[i].at;
    return at;
}

static void fire_timers(weft__det *d)
{
    weft__time_driver *time = d->rt->time;
    if (time && weft__time_driver_park_timeout(time) == 0)
        weft__time_driver_process(time);
}

static void settle(weft__det *d)
{
    take_foreign(d);
    release_deferred(d);
    fire_timers(d);
}

/* Nothing is runnable: move virtual time to the next event. False when there is none, or it
 * lies past the limit (the failure is recorded). */
static bool advance_time(weft__det *d)
{
    uint64_t next = next_deferred(d);
    bool timer = false;
    if (d->rt->time) {
        uint64_t dt = weft__time_driver_park_timeout(d->rt->time);
        if (dt != UINT64_MAX && d->now + dt < next) {
            next = d->now + dt;
            timer = true;
        }
    }
    if (next == UINT64_MAX) {
        weft__det_explain_stall(d, false);
        return false;
    }
    if (next > d->lim.max_vtime) {
        if (timer && next - d->now >= d->lim.max_vtime) {
            weft__det_explain_stall(d, true);
        } else {
            weft__det_fail(d, WEFT__OUT_VTIME_LIMIT, "",
                           "virtual time would pass the limit of %llu ms (now %llu ms, next "
                           "event at %llu ms) after %llu steps",
                           (unsigned long long)(d->lim.max_vtime / 1000000u),
                           (unsigned long long)(d->now / 1000000u),
                           (unsigned long long)(next / 1000000u),
                           (unsigned long long)d->step);
        }
        return false;
    }
    d->now = next;
    release_deferred(d);
    if (d->rt->time)
        weft__time_driver_process(d->rt->time);
    return true;
}

/* ---------------------------------------------------------------- running one step */

static void remove_runnable(weft__det *d, uint32_t idx)
{
    uint32_t e = d->runq[idx];
    memmove(d->runq + idx, d->runq + idx + 1, (d->nrunq - idx - 1) * sizeof *d->runq);
    d->nrunq--;
    d->ent[e].runnable = false;
}

static void step_prompt(weft__det *d, const weft__det_step *s)
{
    char who[256];
    fprintf(stderr, "step %llu  t=%llu.%03llums  run %s  (runnable:",
            (unsigned long long)d->step, (unsigned long long)(d->now / 1000000u),
            (unsigned long long)(d->now / 1000u % 1000u),
            weft__det_task_label(d->rec, s->chosen, who, sizeof who));
    for (uint32_t i = 0; i < d->nrunq; i++)
        fprintf(stderr, " T%u", d->runq[i]);
    fprintf(stderr, ")");
    if (d->follow && d->cfg->strategy == WEFT__DET_REPLAY && !d->diverged &&
        d->step < d->follow->nsteps) {
        char op[256];
        fprintf(stderr, "\n         recorded: it %s",
                weft__det_step_op_text(d->follow, &d->follow->steps[d->step], op, sizeof op));
    }
    /* Process-wide on purpose: one terminal, one person stepping. */
    static FILE *tty;
    static bool cont;
    if (cont) {
        fputc('\n', stderr);
        return;
    }
    if (!tty)
        tty = fopen("/dev/tty", "r");
    fprintf(stderr, "  [Enter: next, c: continue, q: quit] ");
    fflush(stderr);
    char line[32];
    if (!tty || !fgets(line, sizeof line, tty)) {
        cont = true;
        fputc('\n', stderr);
        return;
    }
    if (line[0] == 'c')
        cont = true;
    if (line[0] == 'q')
        _exit(130);
}

/* Pick and run one task; false when the run must stop. */
static bool run_one(weft__det *d, weft_future *root_fut)
{
    uint32_t idx = weft__det_strategy_choose(d);
    if (d->stopping)
        return false;
    uint32_t e = d->runq[idx];
    weft__det_entity *en = &d->ent[e];

    /* The decision: the runnable set as it was, in queue order. */
    for (uint32_t i = 0; i < d->nrunq; i++)
        d->scratch[i] = d->runq[i];
    weft__det_step st = {.t_ns = d->now, .chosen = e};
    uint64_t si = weft__det_record_add_step(d->rec, &st, d->scratch, d->nrunq);
    if (si == UINT64_MAX) {
        weft__det_fail(d, WEFT__OUT_CRASH, "oom", "out of memory recording the schedule");
        return false;
    }
    if (idx != 0) {
        d->preemptions++;
        d->rec->preemptions++;
    }
    WEFT__EMIT(schedule_decision, d->step, en->id, d->nrunq);
    if (d->cfg->step_mode)
        step_prompt(d, &d->rec->steps[si]);
    remove_runnable(d, idx);

    uint64_t before = d->now;
    d->poll_waited = false;
    en->polled = true;
    en->last_step = d->step;
    d->cur = e;
    uint8_t op = WEFT__OP_PENDING;
    uint32_t detail = 0;

    /* A poll may spawn tasks, and a new entity may move d->ent (grow): `en` is re-read after
     * every poll below, never kept across one. */
    if (!en->task) {
        weft_waker w = {&weft__det_root_waker_vt, d->root_cell};
        weft_context cx = {&w, NULL};
        weft__tls.task = NULL;
        weft_poll p = weft_future_poll(root_fut, &cx);
        en = &d->ent[e];
        if (p == WEFT_READY) {
            d->root_done = true;
            en->done = true;
            op = WEFT__OP_DONE;
        }
    } else {
        weft_task *t = en->task;
        bool cancelled = (weft__state_load(&t->state) & WEFT__ST_CANCELLED) != 0;
        if (en->blocking) {
            /* Pick the virtual blocking thread that frees up first. */
            unsigned slot = 0;
            for (unsigned i = 1; i < d->nslots; i++)
                if (d->slot_busy[i] < d->slot_busy[slot])
                    slot = i;
            uint64_t start = d->slot_busy[slot] > d->now ? d->slot_busy[slot] : d->now;
            uint32_t first_def = d->ndef;
            d->in_blocking = true;
            d->charge = 0;
            d->extra = start - d->now;
            weft__task_run(t);
            en = &d->ent[e];
            d->in_blocking = false;
            d->extra = 0;
            uint64_t end = start + d->charge;
            d->slot_busy[slot] = end;
            for (uint32_t i = first_def; i < d->ndef; i++)
                if (d->def[i].at == UINT64_MAX)
                    d->def[i].at = end;
            op = WEFT__OP_BLOCKING;
            detail = weft__det_str_printf(d->rec, "%llu.%03llums",
                                          (unsigned long long)(d->charge / 1000000u),
                                          (unsigned long long)(d->charge / 1000u % 1000u));
            release_deferred(d);
        } else {
            weft__coop_begin();
            weft__task_run(t);
            weft__coop_end();
            en = &d->ent[e];
        }
        if (weft__task_is_complete(t)) {
            if (!en->blocking)
                op = cancelled ? WEFT__OP_CANCELLED : WEFT__OP_DONE;
            en->done = true;
            en->task = NULL;
            weft__task_drop_notified(t); /* our reference; may free the task */
        }
    }
    d->cur = WEFT__DET_NONE;

    weft__det_step *rs = &d->rec->steps[si];
    if (op == WEFT__OP_PENDING) {
        if (en->runnable)
            op = WEFT__OP_YIELD;
        if (d->poll_waited && en->waiting) {
            op = WEFT__OP_WAIT;
            rs->res_op = en->wait_op;
            detail = en->wait_name;
            rs->file = en->wait_file;
            rs->line = en->wait_line;
        }
    }
    if (d->stopping && d->rec->outcome == WEFT__OUT_ASSERTION)
        op = WEFT__OP_FAILED;
    rs->op = op;
    rs->detail = detail;
    if (op == WEFT__OP_FAILED) {
        rs->file = 0;
        rs->line = 0;
    }

    uint64_t took = d->now - before;
    if (took > d->max_poll) {
        d->max_poll = took;
        d->max_poll_task = en->id;
    }
    d->step++;
    d->polls++;
    if (!weft__det_strategy_check_step(d, rs))
        return false;
    return !d->stopping;
}

static bool check_limits(weft__det *d)
{
    if (d->step >= d->lim.max_steps) {
        weft__det_fail(d, WEFT__OUT_STEP_LIMIT, "",
                       "the run took more than %llu scheduling steps (virtual time %llu ms): "
                       "a task that never waits, or a livelock",
                       (unsigned long long)d->lim.max_steps,
                       (unsigned long long)(d->now / 1000000u));
        return false;
    }
    /* runq[0] became runnable first, so it has waited longest. */
    if (d->nrunq > 1) {
        weft__det_entity *old = &d->ent[d->runq[0]];
        if (d->step - old->since > d->lim.starvation) {
            char who[256];
            weft__det_fail(d, WEFT__OUT_STARVATION, weft__det_str(d->rec, d->rec->tasks[d->runq[0]].name),
                           "starvation: %s has been runnable for %llu steps without being "
                           "polled (limit %llu)",
                           weft__det_task_label(d->rec, d->runq[0], who, sizeof who),
                           (unsigned long long)(d->step - old->since),
                           (unsigned long long)d->lim.starvation);
            return false;
        }
    }
    return true;
}

/* ---------------------------------------------------------------- block_on */

static int det_block_on(weft__sched *s, weft_future *fut)
{
    weft__det *d = (weft__det *)s;
    if (weft__tls.rt || d->in_block_on)
        return WEFT_EBUSY;
    if (!pthread_equal(pthread_self(), d->owner))
        return WEFT_EBUSY; /* the deterministic scheduler runs on the thread that built it */
    if (d->stopping)
        return WEFT_ESHUTDOWN;

    weft__thread_ctx saved = weft__tls;
    weft__tls.rt = d->rt;
    weft__tls.sched_local = d;
    weft__tls.task = NULL;
    weft__tls.budget = -1;
    WEFT_HOOK(thread_enter, d->rt, WEFT_THREAD_BLOCK_ON, 0);

    d->in_block_on = true;
    d->root_done = false;
    d->root = new_entity(d, NULL);
    int result = 0;
    if (d->root == WEFT__DET_NONE) {
        result = WEFT_ENOMEM;
    } else {
        make_runnable(d, d->root);
        for (;;) {
            if (d->root_done)
                break;
            if (d->stopping || atomic_load_explicit(&d->rt->closed, memory_order_acquire)) {
                result = WEFT_ESHUTDOWN;
                break;
            }
            settle(d);
            if (d->nrunq == 0) {
                if (!advance_time(d)) {
                    result = WEFT_ESHUTDOWN;
                    break;
                }
                continue;
            }
            if (!check_limits(d) || !run_one(d, fut)) {
                if (!d->root_done)
                    result = WEFT_ESHUTDOWN;
                if (d->root_done && !d->stopping)
                    result = 0;
                break;
            }
        }
        weft__det_entity *root = &d->ent[d->root];
        if (root->runnable) {
            for (uint32_t i = 0; i < d->nrunq; i++)
                if (d->runq[i] == d->root) {
                    remove_runnable(d, i);
                    break;
                }
        }
        root->done = true;
    }
    d->in_block_on = false;
    d->root = WEFT__DET_NONE;
    WEFT_HOOK(thread_leave);
    weft__tls = saved;
    if (d->stopping && weft__det_in_forkserver_child()) {
        /* Under `weft explore`: the explorer has what it needs, the rest of the program
         * would only add noise (and time). */
        d->rec->vtime = d->now;
        weft__det_forkserver_publish(d->rec, true);
        _exit(0);
    }
    return d->stopping ? WEFT_ESHUTDOWN : result;
}

/* ---------------------------------------------------------------- ending a run */

/* A guide in explicit order is a linearised trace: say how far the run followed it. */
static void judge_guide(weft__det *d)
{
    const weft__det_guide *g = &d->cfg->guide;
    if (d->cfg->strategy != WEFT__DET_GUIDED || !g->explicit_order || !d->owns_run)
        return;
    if (!d->guide_departed && d->guide_followed == g->n)
        return;
    char want[256], ran[256] = "nothing";
    const weft__det_wish *w = d->guide_departed ? &g->wish[d->depart_wish] : NULL;
    if (w)
        weft__det_task_label(g->rec, w->task, want, sizeof want);
    if (d->guide_departed && d->depart_ran != WEFT__DET_NONE)
        weft__det_task_label(d->rec, d->depart_ran, ran, sizeof ran);
    if (w)
        weft__det_fail(d, WEFT__OUT_DIVERGED, "trace",
                       "the run left the linearised trace: it followed %llu of its %zu polls "
                       "in order; the first departure is at step %llu, where the trace polls "
                       "%s next (its poll %zu) but that task was not runnable, so %s ran",
                       (unsigned long long)d->guide_followed, g->n,
                       (unsigned long long)d->depart_step, want, d->depart_wish, ran);
    else
        weft__det_fail(d, WEFT__OUT_DIVERGED, "trace",
                       "the run ended after following %llu of the trace's %zu polls (the "
                       "others poll tasks that had finished here sooner: the recorded run "
                       "polled them more often, e.g. overlapping polls on two workers)",
                       (unsigned long long)d->guide_followed, g->n);
}

static void finish_record(weft__det *d)
{
    if (!d->written)
        judge_guide(d);
    d->rec->vtime = d->now;
    if (d->written)
        return;
    d->written = true;
    if (d->run)
        d->run->finished = true;
    if (weft__det_in_forkserver_child()) {
        weft__det_forkserver_publish(d->rec, true);
        return;
    }
    if (d->out_path) {
        if (weft__det_write_path(d->rec, d->out_path) != 0)
            fprintf(stderr, "weft: could not write the schedule to %s\n", d->out_path);
    }
    if (d->cfg->verbose || (d->owns_run && d->rec->outcome != WEFT__OUT_OK)) {
        fprintf(stderr, "weft: deterministic run (%s, seed %llu): %llu steps, %llu ms of "
                        "virtual time, %llu preemptions: %s\n",
                weft__det_str(d->rec, d->rec->strategy), (unsigned long long)d->rec->seed,
                (unsigned long long)d->rec->nsteps, (unsigned long long)(d->now / 1000000u),
                (unsigned long long)d->rec->preemptions,
                d->rec->outcome == WEFT__OUT_OK ? "ok" : weft__det_outcome_name(d->rec->outcome));
        if (d->rec->outcome != WEFT__OUT_OK)
            fprintf(stderr, "%s\n", weft__det_str(d->rec, d->rec->message));
    }
}

static int det_shutdown(weft__sched *s, uint64_t deadline_ns)
{
    weft__det *d = (weft__det *)s;
    (void)deadline_ns;
    if (!d->stopping && !d->cfg->allow_alive) {
        /* Tasks still alive now are cancelled by the shutdown that follows: say which, and
         * what each was waiting for. */
        unsigned n = 0;
        for (uint32_t i = 0; i < d->nent; i++)
            n += d->ent[i].task && !d->ent[i].done;
        if (n) {
            char list[3072];
            weft__det_describe_alive(d, list, sizeof list);
            weft__det_fail(d, WEFT__OUT_ALIVE, "",
                           "%u task%s still alive when the runtime shut down (they are "
                           "cancelled now; nobody waited for them):%s",
                           n, n == 1 ? " was" : "s were", list);
        }
    }
    for (uint32_t i = 0; i < d->nrunq; i++) {
        weft__det_entity *e = &d->ent[d->runq[i]];
        e->runnable = false;
        if (e->task)
            weft__task_drop_notified(e->task);
    }
    d->nrunq = 0;
    for (uint32_t i = 0; i < d->ndef; i++)
        if (d->def[i].task)
            weft__task_drop_notified(d->def[i].task);
    d->ndef = 0;
    take_foreign(d);
    for (uint32_t i = 0; i < d->nrunq; i++) {
        weft__det_entity *e = &d->ent[d->runq[i]];
        e->runnable = false;
        if (e->task)
            weft__task_drop_notified(e->task);
    }
    d->nrunq = 0;
    finish_record(d);
    return 0;
}

static void det_release(weft__det *d)
{
    for (uint32_t i = 0; i < d->nent; i++) {
        if (d->ent[i].task) {
            weft_task *t = d->ent[i].task;
            d->ent[i].task = NULL;
            weft__task_drop_notified(t);
        }
    }
    weft__det_strategy_free(d);
    free(d->ent);
    free(d->map);
    free(d->runq);
    free(d->scratch);
    free(d->ord_key);
    free(d->ord_val);
    free(d->slot_busy);
    free(d->def);
    free(d->holds);
    free(d->out_path);
    weft__simnet_release(d->simnet);
    pthread_mutex_destroy(&d->foreign_lock);
    if (d->root_cell) {
        d->root_cell->d = NULL;
        if (d->root_cell->clones == 0)
            free(d->root_cell);
    }
    if (d->owns_run) {
        weft__det_record_free(&d->own_rec);
        weft__det_record_free(&d->own_replay);
        free(d->own_wishes);
    }
    free(d);
}

static void det_free(weft__sched *s)
{
    weft__det *d = (weft__det *)s;
    if (d->owns_run)
        weft__det_disarm_current(d->run);
    det_release(d);
}

static const weft__sched_ops det_ops = {
    .name = "deterministic",
    .schedule = det_schedule,
    .block_on = det_block_on,
    .shutdown = det_shutdown,
    .free = det_free,
};

/* ---------------------------------------------------------------- creation */

int weft__det_new(weft_runtime *rt)
{
    weft__det_run *run = NULL;
    weft__det_env env;
    int err = weft__det_take_run(&run, &env);
    if (err)
        return err;
    if (!run && !env.owned)
        return 0;

    weft__det *d = calloc(1, sizeof *d);
    if (!d) {
        weft__det_env_free(&env);
        return WEFT_ENOMEM;
    }
    d->base.ops = &det_ops;
    d->base.rt = rt;
    d->clock.now_ns = det_now_ns;
    d->rt = rt;
    d->owner = pthread_self();
    d->cur = WEFT__DET_NONE;
    d->root = WEFT__DET_NONE;
    pthread_mutex_init(&d->foreign_lock, NULL);
    atomic_init(&d->foreign_any, false);
    if (env.owned) {
        /* An environment run: the det owns its config and records. */
        d->owns_run = true;
        d->own_cfg = env.cfg;
        d->own_rec = env.rec;
        d->own_replay = env.replay;
        d->own_wishes = env.wishes;
        d->out_path = env.out_path;
        d->own_cfg.replay = d->own_cfg.strategy == WEFT__DET_REPLAY ? &d->own_replay : NULL;
        if (d->own_cfg.strategy == WEFT__DET_GUIDED) {
            d->own_cfg.guide.rec = &d->own_replay;
            d->own_cfg.guide.wish = d->own_wishes;
        }
        d->own_run.cfg = &d->own_cfg;
        d->own_run.rec = &d->own_rec;
        run = &d->own_run;
    }
    d->run = run;
    run->attached = true;
    d->cfg = run->cfg;
    d->rec = run->rec;
    d->lim = d->cfg->limits;
    weft__det_limits_default(&d->lim);

    weft__det_record *r = d->rec;
    weft__det_record_reset(r);
    r->program = weft__det_str_add(r, d->cfg->program ? d->cfg->program : weft__det_program_name());
    if (d->cfg->strategy_text)
        r->strategy = weft__det_str_add(r, d->cfg->strategy_text);
    else if (d->cfg->strategy == WEFT__DET_REPLAY && d->cfg->replay)
        r->strategy = weft__det_str_add(r, weft__det_str(d->cfg->replay, d->cfg->replay->strategy));
    else if (d->cfg->strategy == WEFT__DET_GUIDED)
        r->strategy = weft__det_str_add(r, "guided");
    else
        r->strategy = weft__det_str_add(r, "fifo");
    r->seed = d->cfg->seed;
    r->limits = d->lim;

    d->nslots = rt->cfg.max_blocking_threads ? rt->cfg.max_blocking_threads : 1;
    if (d->nslots > 4096)
        d->nslots = 4096;
    d->slot_busy = calloc(d->nslots, sizeof *d->slot_busy);
    d->root_cell = calloc(1, sizeof *d->root_cell);
    if (d->root_cell)
        d->root_cell->d = d;
    err = d->slot_busy && d->root_cell ? weft__det_strategy_init(d) : WEFT_ENOMEM;
    if (err) {
        det_release(d);
        return err;
    }
    weft__rand_seed(d->cfg->seed ^ 0x5eed5eed5eed5eedull);
    if (d->owns_run)
        weft__det_set_current(run);
    rt->det = d;
    rt->clock = &d->clock;
    return 0;
}

int weft__det_sched_install(weft_runtime *rt)
{
    rt->sched = &rt->det->base;
    return 0;
}

void weft__det_discard(weft_runtime *rt)
{
    weft__det *d = rt->det;
    rt->det = NULL;
    rt->clock = &weft__real_clock;
    if (d) {
        if (d->owns_run)
            weft__det_disarm_current(d->run);
        det_release(d);
    }
}
