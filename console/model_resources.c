/* console/model_resources.c - applying resource and timer events to the model (model.h):
 * locks and their holders, semaphore permits, channels (length, handles, receiver), notifies,
 * barriers, tokens, sockets' byte counts, and armed timers. model.c dispatches here.
 *
 * Holders: an exclusive lock has one holder, replaced by each acquire (a snapshot re-reports
 * the same one); read locks and permits add holders, up to MODEL_MAX_HOLDERS named ones.
 * Permits released by a task that did not take them (a permit moved into another task) are
 * taken from finished holders first, then from the oldest.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <weft/resource.h>

#include "idmap.h"
#include "model_int.h"

/* resource_state attributes of sockets (events.h names them in newer builds; the numbers are
 * part of the trace format and never change). */
#define ATTR_BYTES_IN 3
#define ATTR_BYTES_OUT 4

/* ---------------------------------------------------------------- resources */

model_resource *model__res_at(model *m, uint64_t id, uint64_t ts)
{
    if (id == 0)
        return NULL;
    model_resource *r = model_res_get(m, id);
    if (r)
        return r;
    if (m->nres == m->cap_res) {
        size_t n = m->cap_res ? m->cap_res * 2 : 64;
        model_resource **p = realloc(m->res, n * sizeof *p);
        if (!p)
            return NULL;
        m->res = p;
        m->cap_res = n;
    }
    r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->id = id;
    r->kind = WEFT_RESOURCE_KIND_COUNT_; /* unknown until create/snapshot */
    r->created = r->last_empty = ts;
    if (!idmap_put(m->res_map, id, m->nres)) {
        free(r);
        return NULL;
    }
    m->res[m->nres++] = r;
    return r;
}

void model__on_res_create(model *m, const weft_event *ev, bool snapshot)
{
    /* resource_create and resource_snapshot have the same fields in the same order. */
    const weft_ev_resource_create *e = &ev->u.resource_create;
    model_resource *r = model__res_at(m, e->resource, ev->ts);
    if (!r)
        return;
    r->kind = e->kind;
    r->name = e->name;
    r->location = e->location;
    r->capacity = e->capacity;
    if (r->kind == WEFT_RESOURCE_SEMAPHORE) {
        r->permits_total = e->capacity;
        if (!snapshot) {
            r->available = e->capacity;
            r->available_known = true;
        }
    }
    if (r->kind == WEFT_RESOURCE_BARRIER)
        r->barrier_n = e->capacity;
}

static res_holder *holder_find(model_resource *r, uint64_t task, int op)
{
    for (unsigned i = 0; i < r->nholders; i++)
        if (r->holders[i].task == task && (op < 0 || r->holders[i].op == op))
            return &r->holders[i];
    return NULL;
}

static void holder_remove(model_resource *r, res_holder *h)
{
    unsigned i = (unsigned)(h - r->holders);
    memmove(&r->holders[i], &r->holders[i + 1], (r->nholders - i - 1) * sizeof *h);
    r->nholders--;
}

static void holder_add(model_resource *r, uint64_t task, uint64_t n, uint8_t op, uint64_t ts)
{
    if (r->nholders == MODEL_MAX_HOLDERS) {
        r->holders_overflow++;
        return;
    }
    r->holders[r->nholders++] = (res_holder){task, n, op, ts};
}

void model__on_lock_acquire(model *m, const weft_event *ev)
{
    const weft_ev_lock_acquire *e = &ev->u.lock_acquire;
    model_resource *r = model__res_at(m, e->resource, ev->ts);
    if (!r)
        return;
    if (r->kind == WEFT_RESOURCE_BLOCKING_MUTEX && !holder_find(r, e->task, -1)) {
        model_task *t = model_task_get(m, e->task);
        if (t)
            t->blocking_held++;
    }
    if (e->op != WEFT_OP_READ) {
        /* Exclusive: one holder. A re-report inside a snapshot names the same holder. */
        r->nholders = 0;
        holder_add(r, e->task, 1, e->op, ev->ts);
    } else if (!(m->in_snapshot && holder_find(r, e->task, WEFT_OP_READ))) {
        holder_add(r, e->task, 1, e->op, ev->ts);
    }
}

void model__on_lock_release(model *m, const weft_event *ev)
{
    const weft_ev_lock_release *e = &ev->u.lock_release;
    model_resource *r = model_res_get(m, e->resource);
    if (!r)
        return;
    res_holder *h = holder_find(r, e->task, e->op);
    if (!h)
        h = holder_find(r, e->task, -1);
    if (!h && r->nholders > 0 && e->op != WEFT_OP_READ)
        h = &r->holders[0]; /* a guard released on another task than the one that locked */
    if (h && r->kind == WEFT_RESOURCE_BLOCKING_MUTEX) {
        model_task *t = model_task_get(m, h->task);
        if (t && t->blocking_held > 0)
            t->blocking_held--;
    }
    if (h)
        holder_remove(r, h);
    else if (r->holders_overflow)
        r->holders_overflow--;
}

void model__on_permit(model *m, const weft_event *ev, bool acquire)
{
    /* permit_acquire and permit_release have the same fields. */
    const weft_ev_permit_acquire *e = &ev->u.permit_acquire;
    model_resource *r = model__res_at(m, e->resource, ev->ts);
    if (!r)
        return;
    r->available = e->available;
    r->available_known = true;
    res_holder *h = holder_find(r, e->task, -1);
    if (acquire) {
        if (h)
            h->n = m->in_snapshot ? e->n : h->n + e->n;
        else
            holder_add(r, e->task, e->n, WEFT_OP_ACQUIRE, ev->ts);
        return;
    }
    /* Permits may be released by another task than the one that took them (a permit moved
     * into a spawned task): take them from the releaser first, then from finished holders,
     * then from the oldest. */
    uint64_t n = e->n;
    while (n > 0 && r->nholders > 0) {
        if (!h) {
            for (unsigned i = 0; i < r->nholders && !h; i++) {
                model_task *t = model_task_get(m, r->holders[i].task);
                if (!t || t->state == TASK_DONE)
                    h = &r->holders[i];
            }
        }
        if (!h)
            h = &r->holders[0];
        uint64_t take = h->n < n ? h->n : n;
        h->n -= take;
        n -= take;
        if (h->n == 0)
            holder_remove(r, h);
        h = NULL;
    }
}

void model__on_channel(model *m, const weft_event *ev)
{
    model_resource *r;
    switch (ev->type) {
    case WEFT_EV_channel_send:
        r = model__res_at(m, ev->u.channel_send.resource, ev->ts);
        if (!r)
            return;
        r->sends++;
        r->len = ev->u.channel_send.len;
        break;
    case WEFT_EV_channel_recv:
        r = model__res_at(m, ev->u.channel_recv.resource, ev->ts);
        if (!r)
            return;
        r->recvs++;
        r->len = ev->u.channel_recv.len;
        if (ev->thread < MODEL_THREADS && m->polling[ev->thread] &&
            (r->kind == WEFT_RESOURCE_MPSC || r->kind == WEFT_RESOURCE_ONESHOT))
            r->receiver = m->polling[ev->thread];
        break;
    case WEFT_EV_channel_close:
        r = model__res_at(m, ev->u.channel_close.resource, ev->ts);
        if (r)
            r->closed = true;
        return;
    case WEFT_EV_channel_refs:
        r = model__res_at(m, ev->u.channel_refs.resource, ev->ts);
        if (r) {
            r->senders = ev->u.channel_refs.senders;
            r->receivers = ev->u.channel_refs.receivers;
            r->refs_known = true;
        }
        return;
    default:
        return;
    }
    if (r->len > r->max_len)
        r->max_len = r->len;
    if (r->len == 0)
        r->last_empty = ev->ts;
}

void model__on_resource_misc(model *m, const weft_event *ev)
{
    model_resource *r = NULL;
    switch (ev->type) {
    case WEFT_EV_permit_add:
        if ((r = model__res_at(m, ev->u.permit_add.resource, ev->ts))) {
            r->permits_total += ev->u.permit_add.n;
            r->available = ev->u.permit_add.available;
            r->available_known = true;
        }
        break;
    case WEFT_EV_permit_forget:
        if ((r = model__res_at(m, ev->u.permit_forget.resource, ev->ts))) {
            uint64_t n = ev->u.permit_forget.n;
            r->permits_total = r->permits_total > n ? r->permits_total - n : 0;
            r->available = ev->u.permit_forget.available;
            r->available_known = true;
        }
        break;
    case WEFT_EV_semaphore_close:
        if ((r = model__res_at(m, ev->u.semaphore_close.resource, ev->ts)))
            r->closed = true;
        break;
    case WEFT_EV_notify_one:
        if ((r = model__res_at(m, ev->u.notify_one.resource, ev->ts)))
            r->notify_stored = ev->u.notify_one.stored;
        break;
    case WEFT_EV_notify_forward:
        if ((r = model__res_at(m, ev->u.notify_forward.resource, ev->ts)))
            r->notify_stored = ev->u.notify_forward.stored;
        break;
    case WEFT_EV_notify_received:
        if ((r = model__res_at(m, ev->u.notify_received.resource, ev->ts)))
            r->notify_stored = false;
        break;
    case WEFT_EV_barrier_arrive:
        if ((r = model__res_at(m, ev->u.barrier_arrive.resource, ev->ts))) {
            r->arrived = ev->u.barrier_arrive.arrived;
            r->barrier_n = ev->u.barrier_arrive.n;
        }
        break;
    case WEFT_EV_barrier_release:
        if ((r = model__res_at(m, ev->u.barrier_release.resource, ev->ts))) {
            r->version = ev->u.barrier_release.generation;
            r->arrived = 0;
        }
        break;
    case WEFT_EV_cancel_token_cancel:
        if ((r = model__res_at(m, ev->u.cancel_token_cancel.resource, ev->ts)))
            r->closed = true;
        break;
    case WEFT_EV_cancel_token_child:
        if ((r = model__res_at(m, ev->u.cancel_token_child.resource, ev->ts)) &&
            ev->u.cancel_token_child.cancelled)
            r->closed = true;
        break;
    case WEFT_EV_resource_state:
        if ((r = model__res_at(m, ev->u.resource_state.resource, ev->ts))) {
            if (ev->u.resource_state.attr == WEFT_ATTR_VERSION)
                r->version = ev->u.resource_state.value;
            else if (ev->u.resource_state.attr == ATTR_BYTES_IN ||
                     ev->u.resource_state.attr == ATTR_BYTES_OUT) {
                *(ev->u.resource_state.attr == ATTR_BYTES_IN ? &r->bytes_in : &r->bytes_out) =
                    ev->u.resource_state.value;
                r->bytes_known = true;
            } else if (ev->u.resource_state.attr == WEFT_ATTR_RECEIVERS) {
                r->receivers = (uint32_t)ev->u.resource_state.value;
                r->refs_known = true;
            }
        }
        break;
    case WEFT_EV_resource_drop:
        if ((r = model_res_get(m, ev->u.resource_drop.resource)) && !r->dropped) {
            r->dropped = true;
            r->dropped_at = ev->ts;
        }
        break;
    default:
        break;
    }
}

/* ---------------------------------------------------------------- timers */

/* Timers are many (one per sleeping task) and armed and fired all the time: they are found by
 * id through timer_map, and removed by moving the last one into the hole. */
void model__timer_remove(model *m, size_t i)
{
    idmap_del(m->timer_map, m->timers[i].id);
    m->timers[i] = m->timers[--m->ntimers];
    if (i < m->ntimers)
        idmap_put(m->timer_map, m->timers[i].id, i);
}

void model__on_timer(model *m, const weft_event *ev)
{
    if (ev->type == WEFT_EV_timer_arm) {
        const weft_ev_timer_arm *e = &ev->u.timer_arm;
        long i = idmap_get(m->timer_map, e->timer);
        if (i >= 0) {
            m->timers[i] = (model_timer){e->timer, e->deadline, e->task, ev->ts};
            return;
        }
        if (m->ntimers == m->cap_timers) {
            size_t n = m->cap_timers ? m->cap_timers * 2 : 32;
            model_timer *p = realloc(m->timers, n * sizeof *p);
            if (!p)
                return;
            m->timers = p;
            m->cap_timers = n;
        }
        if (!idmap_put(m->timer_map, e->timer, m->ntimers))
            return;
        m->timers[m->ntimers++] = (model_timer){e->timer, e->deadline, e->task, ev->ts};
    } else {
        long i = idmap_get(m->timer_map, ev->u.timer_fire.timer);
        if (i >= 0)
            model__timer_remove(m, (size_t)i);
    }
}

