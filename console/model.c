/* console/model.c - applying events to the model (model.h).
 *
 * One function per group of events; model_apply dispatches on the type (resource and timer
 * events are applied in model_resources.c). Invariants kept here:
 *   - a task is in m->tasks exactly once and task_map maps its id to its index (same for
 *     resources); removal swaps the last element into the hole and fixes its map entry;
 *   - a task's busy/sched/idle totals hold closed intervals only: the open one runs from
 *     state_since to now (model_task_times adds it);
 *   - the model never trusts an event: an unknown task or resource is created on first sight
 *     (marked as not fully known), counters that would go below zero stay at zero.
 *
 * Snapshots (a live reader that attached late): task_snapshot and resource_snapshot create
 * what the model had not seen; the holders and permits the primitives re-report inside a
 * snapshot replace, rather than add to, what the model already knew.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <weft/resource.h>

#include "idmap.h"
#include "model_int.h"

#define MAX_NAME_ID (1u << 22) /* interned ids the model stores itself */


void model_limits_default(model_limits *l)
{
    l->long_poll_ns = 10000000ull;
    l->never_yield_ns = 1000000000ull;
    l->lost_waker_ns = 1000000000ull;
    l->starved_ns = 100000000ull;
    l->long_await_ns = 1000000000ull;
    l->self_wake_ratio = 0.5;
    l->grow_min_len = 64;
    l->grow_window_ns = 1000000000ull;
    l->retain_ns = 6000000000ull;
}

void model_init(model *m, const model_limits *limits)
{
    memset(m, 0, sizeof *m);
    if (limits)
        m->limits = *limits;
    else
        model_limits_default(&m->limits);
    m->task_map = idmap_new();
    m->res_map = idmap_new();
    m->timer_map = idmap_new();
}

static void task_free(model_task *t)
{
    hist_free(&t->poll_hist);
    hist_free(&t->sched_hist);
    free(t);
}

void model_free(model *m)
{
    for (size_t i = 0; i < m->ntasks; i++)
        task_free(m->tasks[i]);
    for (size_t i = 0; i < m->nres; i++)
        free(m->res[i]);
    for (size_t i = 0; i < m->nworkers; i++)
        free(m->workers[i]);
    for (size_t i = 0; i < m->nstrings; i++)
        free(m->strings[i]);
    free(m->tasks);
    free(m->res);
    free(m->workers);
    free(m->timers);
    free(m->strings);
    free(m->locs);
    idmap_free(m->task_map);
    idmap_free(m->res_map);
    idmap_free(m->timer_map);
    memset(m, 0, sizeof *m);
}

/* ---------------------------------------------------------------- names */

static void learn_string(model *m, uint32_t id, const char *text)
{
    if (id == 0 || id >= MAX_NAME_ID || !text)
        return;
    if (id >= m->nstrings) {
        size_t n = m->nstrings ? m->nstrings : 256;
        while (n <= id)
            n *= 2;
        char **p = realloc(m->strings, n * sizeof *p);
        if (!p)
            return;
        memset(p + m->nstrings, 0, (n - m->nstrings) * sizeof *p);
        m->strings = p;
        m->nstrings = n;
    }
    if (!m->strings[id])
        m->strings[id] = strdup(text);
}

static void learn_location(model *m, const weft_ev_location_def *d)
{
    uint32_t id = d->id;
    if (id == 0 || id >= MAX_NAME_ID)
        return;
    if (id >= m->nlocs) {
        size_t n = m->nlocs ? m->nlocs : 256;
        while (n <= id)
            n *= 2;
        void *p = realloc(m->locs, n * sizeof *m->locs);
        if (!p)
            return;
        m->locs = p;
        memset(m->locs + m->nlocs, 0, (n - m->nlocs) * sizeof *m->locs);
        m->nlocs = n;
    }
    m->locs[id].file = d->file;
    m->locs[id].func = d->func;
    m->locs[id].line = d->line;
    m->locs[id].known = true;
}

const char *model_string(const model *m, uint32_t id)
{
    if (id == 0)
        return "";
    if (id < m->nstrings && m->strings[id])
        return m->strings[id];
    const char *s = m->names ? weft_reader_string(m->names, id) : NULL;
    return s ? s : "";
}

static const char *basename_of(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

void model_location(const model *m, uint32_t id, char *buf, size_t size)
{
    buf[0] = '\0';
    if (id == 0 || size == 0)
        return;
    if (id < m->nlocs && m->locs[id].known) {
        const char *file = model_string(m, m->locs[id].file);
        snprintf(buf, size, "%s:%u", *file ? basename_of(file) : "?", m->locs[id].line);
        return;
    }
    weft_reader_loc l;
    if (m->names && weft_reader_location(m->names, id, &l))
        snprintf(buf, size, "%s:%u", *l.file ? basename_of(l.file) : "?", l.line);
}

const char *task_state_name(task_state s)
{
    switch (s) {
    case TASK_IDLE: return "idle";
    case TASK_SCHEDULED: return "scheduled";
    case TASK_RUNNING: return "running";
    case TASK_DONE: return "done";
    }
    return "?";
}

const char *model_res_kind_name(uint8_t kind)
{
    return kind < WEFT_RESOURCE_KIND_COUNT_ ? weft_resource_kind_name(kind) : "resource";
}

const char *model_op_name(uint8_t op)
{
    return op < WEFT_OP_COUNT_ ? weft_resource_op_name(op) : "wait";
}

/* ---------------------------------------------------------------- tasks */

model_task *model_task_get(const model *m, uint64_t id)
{
    long i = idmap_get(m->task_map, id);
    return i < 0 ? NULL : m->tasks[i];
}

model_resource *model_res_get(const model *m, uint64_t id)
{
    long i = idmap_get(m->res_map, id);
    return i < 0 ? NULL : m->res[i];
}

/* The task `id`, created if unknown (not fully known: its wakers were not all seen). */
static model_task *task_at(model *m, uint64_t id, uint64_t ts)
{
    if (id == 0)
        return NULL;
    model_task *t = model_task_get(m, id);
    if (t)
        return t;
    if (m->ntasks == m->cap_tasks) {
        size_t n = m->cap_tasks ? m->cap_tasks * 2 : 64;
        model_task **p = realloc(m->tasks, n * sizeof *p);
        if (!p)
            return NULL;
        m->tasks = p;
        m->cap_tasks = n;
    }
    t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->id = id;
    t->state = TASK_IDLE;
    t->spawned = t->state_since = ts;
    if (!idmap_put(m->task_map, id, m->ntasks)) {
        free(t);
        return NULL;
    }
    m->tasks[m->ntasks++] = t;
    return t;
}

/* Close the interval of the state the task leaves and enter `s` at ts. */
static void task_enter(model_task *t, task_state s, uint64_t ts)
{
    uint64_t d = ts > t->state_since ? ts - t->state_since : 0;
    switch (t->state) {
    case TASK_IDLE: t->idle_ns += d; break;
    case TASK_SCHEDULED:
        t->sched_ns += d;
        if (s == TASK_RUNNING)
            hist_record(&t->sched_hist, d);
        break;
    case TASK_RUNNING: t->busy_ns += d; break;
    case TASK_DONE: return; /* a finished task stays finished */
    }
    t->state = s;
    t->state_since = ts;
}

void model_task_times(const model_task *t, uint64_t now, uint64_t *busy, uint64_t *sched,
                      uint64_t *idle)
{
    uint64_t open = now > t->state_since ? now - t->state_since : 0;
    *busy = t->busy_ns + (t->state == TASK_RUNNING ? open : 0);
    *sched = t->sched_ns + (t->state == TASK_SCHEDULED ? open : 0);
    *idle = t->idle_ns + (t->state == TASK_IDLE ? open : 0);
}

/* ---------------------------------------------------------------- workers */

static model_worker *worker_at(model *m, uint32_t runtime, uint8_t kind, uint32_t index)
{
    for (size_t i = 0; i < m->nworkers; i++) {
        model_worker *w = m->workers[i];
        if (w->runtime == runtime && w->kind == kind && w->index == index)
            return w;
    }
    if (m->nworkers >= 1024) /* a bound against garbage thread identities */
        return NULL;
    model_worker **p = realloc(m->workers, (m->nworkers + 1) * sizeof *p);
    if (!p)
        return NULL;
    m->workers = p;
    model_worker *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->runtime = runtime;
    w->kind = kind;
    w->index = index;
    w->local_queue = w->inject_queue = -1;
    /* Keep them sorted by (runtime, kind, index) so that views list them in a stable order. */
    size_t at = m->nworkers;
    while (at > 0) {
        model_worker *o = m->workers[at - 1];
        if (o->runtime < runtime || (o->runtime == runtime && (o->kind < kind ||
                                     (o->kind == kind && o->index < index))))
            break;
        m->workers[at] = o;
        at--;
    }
    m->workers[at] = w;
    m->nworkers++;
    return w;
}

/* The worker whose thread emitted a poll event. A reader that attached late may not know the
 * identity of a thread that started before it (kind OTHER, runtime 0): the poll's own worker
 * field and the task's runtime stand in for it. */
static model_worker *worker_of(model *m, const weft_event *ev, uint32_t worker, uint32_t runtime)
{
    uint8_t kind = ev->thread_kind;
    uint32_t rt = ev->runtime ? ev->runtime : runtime;
    uint32_t index;
    switch (kind) {
    case WEFT_THREAD_WORKER: index = ev->worker; break;
    case WEFT_THREAD_BLOCKING: index = ev->worker; break;
    case WEFT_THREAD_BLOCK_ON: index = 0; break;
    default:
        kind = WEFT_THREAD_WORKER;
        index = worker;
        break;
    }
    return worker_at(m, rt, kind, index);
}

/* ---------------------------------------------------------------- polls */

static void on_spawn(model *m, const weft_event *ev)
{
    const weft_ev_task_spawn *e = &ev->u.task_spawn;
    model_task *t = task_at(m, e->task, ev->ts);
    if (!t)
        return;
    t->parent = e->parent;
    t->name = e->name;
    t->location = e->location;
    t->runtime = e->runtime;
    t->kind = e->kind;
    t->wakers_exact = true;
    t->from_snapshot = false;
    t->spawned = ev->ts;
    t->state = TASK_SCHEDULED;
    t->state_since = ev->ts;
}

static void on_poll_begin(model *m, const weft_event *ev)
{
    model_task *t = task_at(m, ev->u.task_poll_begin.task, ev->ts);
    if (!t || t->state == TASK_DONE)
        return;
    task_enter(t, TASK_RUNNING, ev->ts);
    t->poll_start = ev->ts;
    t->polls++;
    if (ev->thread < MODEL_THREADS)
        m->polling[ev->thread] = t->id;
    t->woken_while_running = false;
    model_worker *w = worker_of(m, ev, ev->u.task_poll_begin.worker, t->runtime);
    t->poll_worker = w ? w->index : 0;
    if (w) {
        w->polling = true;
        w->parked = false;
        w->poll_start = ev->ts;
        w->poll_task = t->id;
        if (!w->first_ts)
            w->first_ts = ev->ts;
        w->last_ts = ev->ts;
    }
}

static void on_poll_end(model *m, const weft_event *ev)
{
    const weft_ev_task_poll_end *e = &ev->u.task_poll_end;
    if (ev->thread < MODEL_THREADS)
        m->polling[ev->thread] = 0;
    model_task *t = task_at(m, e->task, ev->ts);
    if (!t || t->state != TASK_RUNNING)
        return;
    uint64_t d = ev->ts > t->poll_start ? ev->ts - t->poll_start : 0;
    hist_record(&t->poll_hist, d);
    if (t->polls == 1)
        t->first_poll_ns = d;
    if (d > t->max_poll_ns)
        t->max_poll_ns = d;
    if (d > m->limits.long_poll_ns)
        t->long_polls++;
    task_state next = (!e->ready && t->woken_while_running) ? TASK_SCHEDULED : TASK_IDLE;
    task_enter(t, next, ev->ts);
    if (!e->ready && t->blocking_held > 0)
        t->pending_holding_blocking++;
    model_worker *w = worker_of(m, ev, e->worker, t->runtime);
    if (w) {
        w->polls++;
        w->busy_ns += d;
        w->polling = false;
        w->last_ts = ev->ts;
        poll_span *s = &w->spans[w->nspans % MODEL_SPANS];
        s->task = t->id;
        s->start = t->poll_start;
        s->end = ev->ts;
        w->nspans++;
    }
}

static void on_wake(model *m, const weft_event *ev)
{
    const weft_ev_task_wake *e = &ev->u.task_wake;
    model_task *t = task_at(m, e->task, ev->ts);
    if (!t || t->state == TASK_DONE)
        return;
    t->wakes++;
    t->last_wake = ev->ts;
    t->last_waker = e->waker;
    if (e->waker == e->task)
        t->self_wakes++;
    if (e->by_value && t->wakers > 0)
        t->wakers--;
    if (t->state == TASK_RUNNING)
        t->woken_while_running = true;
    else if (t->state == TASK_IDLE)
        task_enter(t, TASK_SCHEDULED, ev->ts);
}

static void on_complete(model *m, const weft_event *ev)
{
    const weft_ev_task_complete *e = &ev->u.task_complete;
    model_task *t = task_at(m, e->task, ev->ts);
    if (!t || t->state == TASK_DONE)
        return;
    task_enter(t, TASK_DONE, ev->ts);
    t->state = TASK_DONE;
    t->done_at = ev->ts;
    t->outcome = e->outcome;
    t->status = e->status;
    t->wait.resource = 0;
    t->wait.join = 0;
}

static void on_task_snapshot(model *m, const weft_event *ev)
{
    const weft_ev_task_snapshot *e = &ev->u.task_snapshot;
    bool known = model_task_get(m, e->task) != NULL;
    model_task *t = task_at(m, e->task, ev->ts);
    if (!t)
        return;
    if (!known) {
        t->from_snapshot = true;
        t->parent = e->parent;
        t->name = e->name;
        t->location = e->location;
        t->runtime = e->runtime;
        t->kind = e->kind;
        t->state = e->state == WEFT_TASKST_RUNNING     ? TASK_RUNNING
                   : e->state == WEFT_TASKST_SCHEDULED ? TASK_SCHEDULED
                                                       : TASK_IDLE;
        t->state_since = ev->ts;
        if (t->state == TASK_RUNNING)
            t->poll_start = ev->ts;
    }
    if (e->resource) {
        t->wait.resource = e->resource;
        t->wait.join = 0;
        t->wait.location = e->wait_location;
        t->wait.op = e->op;
        if (!known)
            t->wait.since = ev->ts;
    }
}

/* ---------------------------------------------------------------- dispatch */

void model_apply(model *m, const weft_event *ev)
{
    if (!m->first_ts && ev->ts)
        m->first_ts = ev->ts;
    if (ev->ts > m->now)
        m->now = ev->ts;
    m->events++;
    model_task *t;
    model_worker *w;
    switch (ev->type) {
    case WEFT_EV_string_def:
        learn_string(m, ev->u.string_def.id, ev->text);
        break;
    case WEFT_EV_location_def:
        learn_location(m, &ev->u.location_def);
        break;
    case WEFT_EV_events_lost:
        m->dropped += ev->u.events_lost.count;
        break;
    case WEFT_EV_snapshot_begin:
        m->in_snapshot = true;
        break;
    case WEFT_EV_snapshot_end:
        m->in_snapshot = false;
        break;
    case WEFT_EV_runtime_start:
        m->runtimes++;
        m->last_runtime = ev->u.runtime_start.runtime;
        m->nworkers_declared += ev->u.runtime_start.workers;
        m->runtime_stopped = false;
        break;
    case WEFT_EV_runtime_stop:
        m->runtime_stopped = true;
        break;
    case WEFT_EV_worker_park:
    case WEFT_EV_worker_unpark:
        w = worker_at(m, ev->runtime ? ev->runtime : m->last_runtime, WEFT_THREAD_WORKER,
                      ev->u.worker_park.worker);
        if (w) {
            w->parked = ev->type == WEFT_EV_worker_park;
            w->parks += w->parked;
            if (w->parked && w->local_queue > 0)
                w->local_queue = 0; /* it parks only when it found nothing to run */
        }
        break;
    case WEFT_EV_worker_queues:
        w = worker_at(m, ev->runtime ? ev->runtime : m->last_runtime, WEFT_THREAD_WORKER,
                      ev->u.worker_queues.worker);
        if (w) {
            w->local_queue = ev->u.worker_queues.local;
            w->inject_queue = ev->u.worker_queues.inject;
            w->queues_ts = ev->ts;
        }
        break;
    case WEFT_EV_worker_steal:
        w = worker_at(m, ev->runtime ? ev->runtime : m->last_runtime, WEFT_THREAD_WORKER,
                      ev->u.worker_steal.worker);
        if (w) {
            w->steals++;
            w->stolen_tasks += ev->u.worker_steal.count;
        }
        break;
    case WEFT_EV_task_spawn:
        on_spawn(m, ev);
        break;
    case WEFT_EV_task_poll_begin:
        on_poll_begin(m, ev);
        break;
    case WEFT_EV_task_poll_end:
        on_poll_end(m, ev);
        break;
    case WEFT_EV_task_wake:
        on_wake(m, ev);
        break;
    case WEFT_EV_waker_clone:
        if ((t = task_at(m, ev->u.waker_clone.task, ev->ts))) {
            t->wakers++;
            t->waker_clones++;
        }
        break;
    case WEFT_EV_waker_drop:
        if ((t = task_at(m, ev->u.waker_drop.task, ev->ts))) {
            if (t->wakers > 0)
                t->wakers--;
            t->waker_drops++;
        }
        break;
    case WEFT_EV_task_complete:
        on_complete(m, ev);
        break;
    case WEFT_EV_task_wait:
        if ((t = task_at(m, ev->u.task_wait.task, ev->ts)) && t->state != TASK_DONE) {
            if (ev->u.task_wait.op == WEFT_OP_RECV) {
                model_resource *r = model__res_at(m, ev->u.task_wait.resource, ev->ts);
                if (r)
                    r->receiver = t->id;
            }
            t->wait.resource = ev->u.task_wait.resource;
            t->wait.join = 0;
            t->wait.location = ev->u.task_wait.location;
            t->wait.op = ev->u.task_wait.op;
            t->wait.since = ev->ts;
        }
        break;
    case WEFT_EV_task_wait_done:
        if ((t = model_task_get(m, ev->u.task_wait_done.task)) &&
            t->wait.resource == ev->u.task_wait_done.resource)
            t->wait.resource = 0;
        break;
    case WEFT_EV_task_join_wait:
        /* A task awaiting its own join is a real (one-task) deadlock, so it is kept. */
        if ((t = task_at(m, ev->u.task_join_wait.task, ev->ts)) && t->state != TASK_DONE &&
            ev->u.task_join_wait.joined) {
            t->wait.resource = 0;
            t->wait.join = ev->u.task_join_wait.joined;
            t->wait.location = 0;
            t->wait.op = 0;
            t->wait.since = ev->ts;
        }
        break;
    case WEFT_EV_task_join_wait_done:
        if ((t = model_task_get(m, ev->u.task_join_wait_done.task)) &&
            t->wait.join == ev->u.task_join_wait_done.joined)
            t->wait.join = 0;
        break;
    case WEFT_EV_task_snapshot:
        on_task_snapshot(m, ev);
        break;
    case WEFT_EV_resource_create:
        model__on_res_create(m, ev, false);
        break;
    case WEFT_EV_resource_snapshot:
        model__on_res_create(m, ev, true);
        break;
    case WEFT_EV_lock_acquire:
        model__on_lock_acquire(m, ev);
        break;
    case WEFT_EV_lock_release:
        model__on_lock_release(m, ev);
        break;
    case WEFT_EV_permit_acquire:
        model__on_permit(m, ev, true);
        break;
    case WEFT_EV_permit_release:
        model__on_permit(m, ev, false);
        break;
    case WEFT_EV_channel_send:
    case WEFT_EV_channel_recv:
    case WEFT_EV_channel_close:
    case WEFT_EV_channel_refs:
        model__on_channel(m, ev);
        break;
    case WEFT_EV_timer_arm:
    case WEFT_EV_timer_fire:
        model__on_timer(m, ev);
        break;
    case WEFT_EV_schedule_decision:
        m->steps++;
        m->last_step_task = ev->u.schedule_decision.task;
        break;
    default:
        model__on_resource_misc(m, ev);
        break;
    }
}

/* ---------------------------------------------------------------- forgetting */

void model_gc(model *m, uint64_t now)
{
    uint64_t keep = m->limits.retain_ns;
    for (size_t i = 0; i < m->ntasks;) {
        model_task *t = m->tasks[i];
        if (t->state == TASK_DONE && t->done_at + keep < now) {
            idmap_del(m->task_map, t->id);
            task_free(t);
            m->tasks[i] = m->tasks[--m->ntasks];
            if (i < m->ntasks)
                idmap_put(m->task_map, m->tasks[i]->id, i);
            m->tasks_done_forgotten++;
            continue;
        }
        i++;
    }
    for (size_t i = 0; i < m->nres;) {
        model_resource *r = m->res[i];
        if (r->dropped && r->dropped_at + keep < now) {
            idmap_del(m->res_map, r->id);
            free(r);
            m->res[i] = m->res[--m->nres];
            if (i < m->nres)
                idmap_put(m->res_map, m->res[i]->id, i);
            m->resources_forgotten++;
            continue;
        }
        i++;
    }
    /* A timer dropped without firing (a cancelled sleep) has no event of its own: it goes
     * with the task that armed it. */
    for (size_t i = 0; i < m->ntimers;) {
        model_timer *tm = &m->timers[i];
        model_task *t = model_task_get(m, tm->task);
        bool stale = tm->task && (!t || (t->state == TASK_DONE && t->done_at + keep < now));
        if (stale) {
            model__timer_remove(m, i);
            continue;
        }
        i++;
    }
}
