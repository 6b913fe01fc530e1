/* instrument/recorder_rows.c - one event into the rows of a trace database.
 *
 * weft__rec_write_event writes the event's row of `events` (the generic log: type and the
 * payload fields as f0..f9, in table order, read back by trace_db.c) and, depending on the
 * type, the rows of the derived tables (recorder.h lists them). Events that open something
 * (a wait, a lock hold, a timer, a park) insert a row with a NULL end and remember its row id
 * in a small hash map keyed by what identifies it; the event that closes it updates that row.
 * A poll's row is written at its end, paired with the begin its thread recorded. An end whose
 * start was never seen (dropped, or before the recording) is ignored.
 *
 * Every value comes from the traced program or a file: ids index nothing without a bound
 * check, unknown enum values are written as "unknown", names without a definition as NULL.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <weft/error.h>
#include <weft/resource.h>

#include "recorder_int.h"

static uint64_t okey_hash(okey k)
{
    uint64_t h = k.a * 0x9e3779b97f4a7c15u ^ (k.b + 0x632be59bd9b4e019u) * 0xbf58476d1ce4e5b9u ^
                 (k.c + 1) * 0x94d049bb133111ebu;
    return h ^ (h >> 31);
}

static bool okey_eq(okey x, okey y)
{
    return x.a == y.a && x.b == y.b && x.c == y.c;
}

oslot *weft__omap_find(omap *m, okey k)
{
    if (!m->cap)
        return NULL;
    for (size_t i = okey_hash(k) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        if (!m->slots[i].rowid)
            return NULL;
        if (okey_eq(m->slots[i].key, k))
            return &m->slots[i];
    }
}

int weft__omap_put(omap *m, okey k, int64_t rowid, uint64_t ts)
{
    if ((m->len + 1) * 2 > m->cap) {
        size_t ncap = m->cap ? m->cap * 2 : 256;
        oslot *ns = calloc(ncap, sizeof *ns);
        if (!ns)
            return WEFT_ENOMEM;
        for (size_t i = 0; i < m->cap; i++) {
            if (!m->slots[i].rowid)
                continue;
            size_t j = okey_hash(m->slots[i].key) & (ncap - 1);
            while (ns[j].rowid)
                j = (j + 1) & (ncap - 1);
            ns[j] = m->slots[i];
        }
        free(m->slots);
        m->slots = ns;
        m->cap = ncap;
    }
    size_t i = okey_hash(k) & (m->cap - 1);
    while (m->slots[i].rowid && !okey_eq(m->slots[i].key, k))
        i = (i + 1) & (m->cap - 1);
    if (!m->slots[i].rowid)
        m->len++;
    m->slots[i] = (oslot){k, rowid, ts};
    return 0;
}

void weft__omap_del(omap *m, oslot *s)
{
    size_t mask = m->cap - 1;
    size_t i = (size_t)(s - m->slots);
    m->slots[i].rowid = 0;
    m->len--;
    /* Backward shift: pull later members of the probe run into the hole. */
    for (size_t j = (i + 1) & mask; m->slots[j].rowid; j = (j + 1) & mask) {
        size_t home = okey_hash(m->slots[j].key) & mask;
        bool movable = i <= j ? (home <= i || home > j) : (home <= i && home > j);
        if (movable) {
            m->slots[i] = m->slots[j];
            m->slots[j].rowid = 0;
            i = j;
        }
    }
}


/* ---------------------------------------------------------------- interned ids */

static sym *sym_slot(weft_recorder *r, uint32_t id)
{
    if (id == 0 || id >= MAX_SYM_ID)
        return NULL;
    if (id >= r->nsyms) {
        size_t n = r->nsyms ? r->nsyms : 256;
        while (n <= id)
            n *= 2;
        sym *ns = realloc(r->syms, n * sizeof *ns);
        if (!ns)
            return NULL;
        memset(ns + r->nsyms, 0, (n - r->nsyms) * sizeof *ns);
        r->syms = ns;
        r->nsyms = n;
    }
    return &r->syms[id];
}

static const char *sym_text(const weft_recorder *r, uint32_t id)
{
    return id && id < r->nsyms && !r->syms[id].is_loc ? r->syms[id].text : NULL;
}

static const sym *sym_loc(const weft_recorder *r, uint32_t id)
{
    return id && id < r->nsyms && r->syms[id].is_loc ? &r->syms[id] : NULL;
}

int weft__rec_learn_string(weft_recorder *r, const weft_event *ev)
{
    uint32_t id = ev->u.string_def.id;
    const char *text = ev->text ? ev->text : "";
    sym *s = sym_slot(r, id);
    if (!s)
        return 0; /* an id out of range: not kept, as the readers refuse it too */
    char *copy = strdup(text);
    if (!copy)
        return WEFT_ENOMEM;
    free(s->text);
    *s = (sym){.text = copy};
    int err = weft__rec_begin(r);
    if (err)
        return err;
    bind_i64(r, S_STRING, 1, id);
    bind_text(r, S_STRING, 2, text);
    err = weft__rec_run(r, S_STRING);
    return err ? err : weft__rec_wrote(r);
}

int weft__rec_learn_location(weft_recorder *r, const weft_event *ev)
{
    const weft_ev_location_def *l = &ev->u.location_def;
    sym *s = sym_slot(r, l->id);
    if (!s)
        return 0;
    free(s->text);
    *s = (sym){.file = l->file, .func = l->func, .line = l->line, .is_loc = true};
    int err = weft__rec_begin(r);
    if (err)
        return err;
    bind_i64(r, S_LOCATION, 1, l->id);
    bind_id(r, S_LOCATION, 2, l->file);
    bind_id(r, S_LOCATION, 3, l->func);
    bind_i64(r, S_LOCATION, 4, l->line);
    bind_text(r, S_LOCATION, 5, sym_text(r, l->file));
    bind_text(r, S_LOCATION, 6, sym_text(r, l->func));
    err = weft__rec_run(r, S_LOCATION);
    return err ? err : weft__rec_wrote(r);
}

/* Bind a location as file, func, line (three consecutive columns from `col`). */
static void bind_location(weft_recorder *r, int which, int col, uint32_t id)
{
    const sym *l = sym_loc(r, id);
    bind_text(r, which, col, l ? sym_text(r, l->file) : NULL);
    bind_text(r, which, col + 1, l ? sym_text(r, l->func) : NULL);
    if (l)
        bind_i64(r, which, col + 2, l->line);
    else
        sqlite3_bind_null(r->st[which], col + 2);
}

/* ---------------------------------------------------------------- names of enums */

static const char *thread_kind_name(unsigned k)
{
    static const char *const names[] = {"worker", "block_on", "blocking", "other", "tracer"};
    return k < sizeof names / sizeof names[0] ? names[k] : "unknown";
}

static const char *outcome_name(unsigned o)
{
    static const char *const names[] = {"ok", "cancelled", "failed"};
    return o < sizeof names / sizeof names[0] ? names[o] : "unknown";
}

static const char *task_kind_name(unsigned k)
{
    return k == WEFT_TASK_ASYNC ? "async" : k == WEFT_TASK_BLOCKING ? "blocking" : "unknown";
}

/* ---------------------------------------------------------------- generic fields */

/* Field f of an event's payload, as a signed 64-bit value (u64 above INT64_MAX wraps, as
 * SQLite stores it; readers convert back). */
static int64_t field_value(const weft_event *ev, const weft_ev_field *f)
{
    const unsigned char *p = (const unsigned char *)&ev->u + f->offset;
    switch (f->type) {
    case WEFT_FT_U64:
    case WEFT_FT_RES: {
        uint64_t v;
        memcpy(&v, p, 8);
        return (int64_t)v;
    }
    case WEFT_FT_I32: {
        int32_t v;
        memcpy(&v, p, 4);
        return v;
    }
    case WEFT_FT_U32:
    case WEFT_FT_STR:
    case WEFT_FT_LOC: {
        uint32_t v;
        memcpy(&v, p, 4);
        return v;
    }
    case WEFT_FT_U8:
        return *p;
    }
    return 0;
}

/* A resource event (first field a resource, other than create/drop/snapshot): one
 * resource_ops row, with `task` and `op` as columns and the other fields as a JSON object. */
static int write_resource_op(weft_recorder *r, const weft_event_desc *d, const weft_event *ev,
                             int64_t seq, int64_t thread)
{
    char args[512];
    size_t n = 0;
    args[n++] = '{';
    const weft_ev_field *task = NULL, *op = NULL;
    for (unsigned i = 1; i < d->nfields; i++) {
        const weft_ev_field *f = &d->fields[i];
        if (strcmp(f->name, "task") == 0 && !task) {
            task = f;
            continue;
        }
        if (strcmp(f->name, "op") == 0 && f->type == WEFT_FT_U8 && !op) {
            op = f;
            continue;
        }
        int64_t v = field_value(ev, f);
        int w;
        if (f->type == WEFT_FT_U64 || f->type == WEFT_FT_RES)
            w = snprintf(args + n, sizeof args - n, "%s\"%s\":%" PRIu64, n > 1 ? "," : "",
                         f->name, (uint64_t)v);
        else
            w = snprintf(args + n, sizeof args - n, "%s\"%s\":%" PRId64, n > 1 ? "," : "",
                         f->name, v);
        if (w < 0 || (size_t)w >= sizeof args - n - 1)
            break;
        n += (size_t)w;
    }
    args[n++] = '}';
    args[n] = '\0';

    bind_i64(r, S_RESOURCE_OP, 1, seq);
    bind_i64(r, S_RESOURCE_OP, 2, (int64_t)ev->ts);
    bind_i64(r, S_RESOURCE_OP, 3, thread);
    bind_i64(r, S_RESOURCE_OP, 4, field_value(ev, &d->fields[0]));
    bind_text(r, S_RESOURCE_OP, 5, d->name);
    bind_id(r, S_RESOURCE_OP, 6, task ? (uint64_t)field_value(ev, task) : 0);
    bind_text(r, S_RESOURCE_OP, 7,
              op ? weft_resource_op_name((weft_resource_op)field_value(ev, op)) : NULL);
    bind_text(r, S_RESOURCE_OP, 8, args);
    return weft__rec_run(r, S_RESOURCE_OP);
}

/* ---------------------------------------------------------------- threads */

/* The database thread of an event: a new one whenever the ring's identity changes (a ring
 * is reused by another thread after the first gave it back). */
static int thread_of(weft_recorder *r, const weft_event *ev, int64_t *out)
{
    if (ev->thread >= r->nrings) {
        size_t n = r->nrings ? r->nrings : 16;
        while (n <= ev->thread)
            n *= 2;
        if (n > MAX_RINGS)
            n = MAX_RINGS;
        ring_state *nr = realloc(r->rings, n * sizeof *nr);
        if (!nr)
            return WEFT_ENOMEM;
        memset(nr + r->nrings, 0, (n - r->nrings) * sizeof *nr);
        r->rings = nr;
        r->nrings = n;
    }
    ring_state *s = &r->rings[ev->thread];
    if (!s->thread || s->runtime != ev->runtime || s->worker != ev->worker ||
        s->tid != ev->tid || s->kind != ev->thread_kind) {
        if (s->dirty) {
            /* The ring's previous thread ends here: keep its last timestamp. */
            bind_i64(r, S_THREAD_LAST, 1, (int64_t)s->last_ts);
            bind_i64(r, S_THREAD_LAST, 2, s->thread);
            int err = weft__rec_run(r, S_THREAD_LAST);
            if (err)
                return err;
        }
        *s = (ring_state){.thread = r->next_thread++, .runtime = ev->runtime,
                          .worker = ev->worker, .tid = ev->tid, .kind = ev->thread_kind};
        bind_i64(r, S_THREAD, 1, s->thread);
        bind_i64(r, S_THREAD, 2, ev->thread);
        bind_id(r, S_THREAD, 3, ev->runtime);
        bind_text(r, S_THREAD, 4, thread_kind_name(ev->thread_kind));
        bind_i64(r, S_THREAD, 5, ev->worker);
        bind_id(r, S_THREAD, 6, ev->tid);
        bind_i64(r, S_THREAD, 7, (int64_t)ev->ts);
        bind_i64(r, S_THREAD, 8, (int64_t)ev->ts);
        int err = weft__rec_run(r, S_THREAD);
        if (err)
            return err;
    }
    if (ev->ts > s->last_ts) {
        s->last_ts = ev->ts;
        s->dirty = true;
    }
    *out = s->thread;
    return 0;
}

/* ---------------------------------------------------------------- derived rows */

static int write_task(weft_recorder *r, int which, const weft_event *ev, int64_t thread,
                      uint64_t task, uint64_t parent, uint32_t runtime, unsigned kind,
                      uint32_t name, uint32_t location)
{
    bind_i64(r, which, 1, (int64_t)task);
    bind_i64(r, which, 2, (int64_t)parent);
    bind_id(r, which, 3, runtime);
    bind_text(r, which, 4, task_kind_name(kind));
    bind_text(r, which, 5, sym_text(r, name));
    bind_id(r, which, 6, name);
    bind_location(r, which, 7, location);
    bind_id(r, which, 10, location);
    bind_i64(r, which, 11, (int64_t)ev->ts);
    bind_i64(r, which, 12, thread);
    return weft__rec_run(r, which);
}

static int write_resource(weft_recorder *r, int which, const weft_event *ev, uint64_t res,
                          unsigned kind, uint32_t name, uint32_t location, uint64_t capacity)
{
    bind_i64(r, which, 1, (int64_t)res);
    bind_text(r, which, 2, weft_resource_kind_name((weft_resource_kind)kind));
    bind_text(r, which, 3, sym_text(r, name));
    bind_id(r, which, 4, name);
    bind_location(r, which, 5, location);
    bind_id(r, which, 8, location);
    bind_i64(r, which, 9, (int64_t)capacity);
    bind_i64(r, which, 10, (int64_t)ev->ts);
    return weft__rec_run(r, which);
}

/* Close an open row found in `m` under `k` with statement `which` (?1 end ts, ?2 end seq,
 * ?3 row id; parks and timers take ?1 ts and ?2 row id). */
static int close_open(weft_recorder *r, omap *m, okey k, int which, const weft_event *ev,
                      int64_t seq)
{
    oslot *s = weft__omap_find(m, k);
    if (!s)
        return 0; /* its start was not recorded (dropped, or before the recording) */
    int64_t rowid = s->rowid;
    weft__omap_del(m, s);
    bind_i64(r, which, 1, (int64_t)ev->ts);
    if (which == S_TIMER_FIRE) {
        bind_i64(r, which, 2, rowid);
    } else {
        bind_i64(r, which, 2, seq);
        bind_i64(r, which, 3, rowid);
    }
    return weft__rec_run(r, which);
}

static int write_derived(weft_recorder *r, const weft_event_desc *d, const weft_event *ev,
                         int64_t seq, int64_t thread)
{
    ring_state *rs = &r->rings[ev->thread];
    int err = 0;
    switch ((weft_ev_type)ev->type) {
    case WEFT_EV_runtime_start: {
        const weft_ev_runtime_start *e = &ev->u.runtime_start;
        bind_i64(r, S_RUNTIME, 1, e->runtime);
        bind_text(r, S_RUNTIME, 2, e->flavor == 0 ? "current_thread" : "multi_thread");
        bind_i64(r, S_RUNTIME, 3, e->workers);
        bind_i64(r, S_RUNTIME, 4, (int64_t)ev->ts);
        return weft__rec_run(r, S_RUNTIME);
    }
    case WEFT_EV_runtime_stop:
        bind_i64(r, S_RUNTIME_STOP, 1, (int64_t)ev->ts);
        bind_i64(r, S_RUNTIME_STOP, 2, ev->u.runtime_stop.runtime);
        return weft__rec_run(r, S_RUNTIME_STOP);
    case WEFT_EV_worker_park:
        bind_i64(r, S_PARK, 1, thread);
        bind_i64(r, S_PARK, 2, ev->u.worker_park.worker);
        bind_i64(r, S_PARK, 3, (int64_t)ev->ts);
        if ((err = weft__rec_run(r, S_PARK)))
            return err;
        rs->park_row = sqlite3_last_insert_rowid(r->db);
        return 0;
    case WEFT_EV_worker_unpark:
        if (!rs->park_row)
            return 0;
        bind_i64(r, S_PARK_END, 1, (int64_t)ev->ts);
        bind_i64(r, S_PARK_END, 2, rs->park_row);
        rs->park_row = 0;
        return weft__rec_run(r, S_PARK_END);
    case WEFT_EV_task_spawn: {
        const weft_ev_task_spawn *e = &ev->u.task_spawn;
        return write_task(r, S_TASK, ev, thread, e->task, e->parent, e->runtime, e->kind,
                          e->name, e->location);
    }
    case WEFT_EV_task_snapshot: {
        const weft_ev_task_snapshot *e = &ev->u.task_snapshot;
        return write_task(r, S_TASK_SNAPSHOT, ev, thread, e->task, e->parent, e->runtime,
                          e->kind, e->name, e->location);
    }
    case WEFT_EV_task_poll_begin:
        rs->poll_task = ev->u.task_poll_begin.task;
        rs->poll_ts = ev->ts;
        rs->poll_seq = (uint64_t)seq;
        return 0;
    case WEFT_EV_task_poll_end: {
        const weft_ev_task_poll_end *e = &ev->u.task_poll_end;
        if (rs->poll_task != e->task)
            return 0; /* its begin was lost: no duration to tell */
        bind_i64(r, S_POLL, 1, (int64_t)e->task);
        bind_i64(r, S_POLL, 2, thread);
        bind_i64(r, S_POLL, 3, e->worker);
        bind_i64(r, S_POLL, 4, (int64_t)rs->poll_ts);
        bind_i64(r, S_POLL, 5, (int64_t)ev->ts);
        bind_i64(r, S_POLL, 6, (int64_t)(ev->ts - rs->poll_ts));
        bind_i64(r, S_POLL, 7, e->ready);
        bind_i64(r, S_POLL, 8, (int64_t)rs->poll_seq);
        bind_i64(r, S_POLL, 9, seq);
        rs->poll_task = 0;
        return weft__rec_run(r, S_POLL);
    }
    case WEFT_EV_task_abort:
        bind_i64(r, S_TASK_ABORT, 1, (int64_t)ev->ts);
        bind_id(r, S_TASK_ABORT, 2, ev->u.task_abort.by);
        bind_i64(r, S_TASK_ABORT, 3, (int64_t)ev->u.task_abort.task);
        return weft__rec_run(r, S_TASK_ABORT);
    case WEFT_EV_task_complete: {
        const weft_ev_task_complete *e = &ev->u.task_complete;
        bind_i64(r, S_TASK_END, 1, (int64_t)ev->ts);
        bind_text(r, S_TASK_END, 2, outcome_name(e->outcome));
        bind_i64(r, S_TASK_END, 3, e->status);
        bind_i64(r, S_TASK_END, 4, (int64_t)e->task);
        return weft__rec_run(r, S_TASK_END);
    }
    case WEFT_EV_task_wait: {
        const weft_ev_task_wait *e = &ev->u.task_wait;
        bind_i64(r, S_WAIT, 1, (int64_t)e->task);
        bind_i64(r, S_WAIT, 2, (int64_t)e->resource);
        bind_text(r, S_WAIT, 3, weft_resource_op_name((weft_resource_op)e->op));
        bind_location(r, S_WAIT, 4, e->location);
        bind_id(r, S_WAIT, 7, e->location);
        bind_i64(r, S_WAIT, 8, (int64_t)ev->ts);
        bind_i64(r, S_WAIT, 9, seq);
        if ((err = weft__rec_run(r, S_WAIT)))
            return err;
        return weft__omap_put(&r->waits, (okey){e->task, e->resource, e->op},
                        sqlite3_last_insert_rowid(r->db), ev->ts);
    }
    case WEFT_EV_task_wait_done: {
        const weft_ev_task_wait_done *e = &ev->u.task_wait_done;
        return close_open(r, &r->waits, (okey){e->task, e->resource, e->op}, S_WAIT_END, ev,
                          seq);
    }
    case WEFT_EV_resource_create: {
        const weft_ev_resource_create *e = &ev->u.resource_create;
        return write_resource(r, S_RESOURCE, ev, e->resource, e->kind, e->name, e->location,
                              e->capacity);
    }
    case WEFT_EV_resource_snapshot: {
        const weft_ev_resource_snapshot *e = &ev->u.resource_snapshot;
        return write_resource(r, S_RESOURCE_SNAPSHOT, ev, e->resource, e->kind, e->name,
                              e->location, e->capacity);
    }
    case WEFT_EV_resource_drop:
        bind_i64(r, S_RESOURCE_DROP, 1, (int64_t)ev->ts);
        bind_i64(r, S_RESOURCE_DROP, 2, (int64_t)ev->u.resource_drop.resource);
        return weft__rec_run(r, S_RESOURCE_DROP);
    case WEFT_EV_lock_acquire: {
        const weft_ev_lock_acquire *e = &ev->u.lock_acquire;
        bind_i64(r, S_HOLD, 1, (int64_t)e->resource);
        bind_id(r, S_HOLD, 2, e->task);
        bind_text(r, S_HOLD, 3, weft_resource_op_name((weft_resource_op)e->op));
        bind_i64(r, S_HOLD, 4, (int64_t)ev->ts);
        bind_i64(r, S_HOLD, 5, seq);
        if ((err = weft__rec_run(r, S_HOLD)))
            return err;
        if ((err = weft__omap_put(&r->holds, (okey){e->resource, e->task, e->op},
                            sqlite3_last_insert_rowid(r->db), ev->ts)))
            return err;
        return write_resource_op(r, d, ev, seq, thread);
    }
    case WEFT_EV_lock_release: {
        const weft_ev_lock_release *e = &ev->u.lock_release;
        if ((err = close_open(r, &r->holds, (okey){e->resource, e->task, e->op}, S_HOLD_END,
                              ev, seq)))
            return err;
        return write_resource_op(r, d, ev, seq, thread);
    }
    case WEFT_EV_timer_arm: {
        const weft_ev_timer_arm *e = &ev->u.timer_arm;
        bind_i64(r, S_TIMER, 1, (int64_t)e->timer);
        bind_id(r, S_TIMER, 2, e->task);
        bind_i64(r, S_TIMER, 3, (int64_t)e->deadline);
        bind_i64(r, S_TIMER, 4, (int64_t)ev->ts);
        bind_i64(r, S_TIMER, 5, seq);
        if ((err = weft__rec_run(r, S_TIMER)))
            return err;
        return weft__omap_put(&r->timers, (okey){e->timer, 0, 0}, sqlite3_last_insert_rowid(r->db),
                        ev->ts);
    }
    case WEFT_EV_timer_fire:
        return close_open(r, &r->timers, (okey){ev->u.timer_fire.timer, 0, 0}, S_TIMER_FIRE,
                          ev, seq);
    case WEFT_EV_schedule_decision: {
        const weft_ev_schedule_decision *e = &ev->u.schedule_decision;
        bind_i64(r, S_SCHEDULE, 1, (int64_t)e->step);
        bind_i64(r, S_SCHEDULE, 2, seq);
        bind_i64(r, S_SCHEDULE, 3, (int64_t)ev->ts);
        bind_i64(r, S_SCHEDULE, 4, (int64_t)e->task);
        bind_i64(r, S_SCHEDULE, 5, e->runnable);
        return weft__rec_run(r, S_SCHEDULE);
    }
    case WEFT_EV_events_lost:
        r->stats.lost += ev->u.events_lost.count;
        return 0;
    default:
        break;
    }
    /* Every other event about a resource (permits, channels, notify, barriers, tokens...). */
    if (d->nfields > 0 && d->fields[0].type == WEFT_FT_RES)
        return write_resource_op(r, d, ev, seq, thread);
    return 0;
}

/* The INSERT of one event type, naming only the columns its fields use (the others stay
 * NULL without being bound), kept in r->ev_st. */
static int prepare_event_insert(weft_recorder *r, const weft_event_desc *d, sqlite3_stmt **out)
{
    char sql[256] = "INSERT INTO events(seq, ts, thread, type";
    size_t n = strlen(sql);
    for (unsigned i = 0; i < d->nfields && i < NFIELD_COLS; i++)
        n += (size_t)snprintf(sql + n, sizeof sql - n, ", f%u", i);
    n += (size_t)snprintf(sql + n, sizeof sql - n, ") VALUES (?, ?, ?, ?");
    for (unsigned i = 0; i < d->nfields && i < NFIELD_COLS; i++)
        n += (size_t)snprintf(sql + n, sizeof sql - n, ", ?");
    snprintf(sql + n, sizeof sql - n, ")");
    if (sqlite3_prepare_v3(r->db, sql, -1, SQLITE_PREPARE_PERSISTENT, out, NULL) != SQLITE_OK)
        return weft__rec_fail(r, "prepare an insert into events");
    r->ev_st[d->id] = *out;
    return 0;
}

/* One event out of the window, in timestamp order: its events row and derived rows. */
int weft__rec_write_event(weft_recorder *r, const weft_event *ev)
{
    const weft_event_desc *d = weft_event_desc_of(ev->type);
    if (!d) {
        r->stats.unknown++;
        return 0;
    }
    int err = weft__rec_begin(r);
    if (err)
        return err;
    int64_t thread;
    if ((err = thread_of(r, ev, &thread)))
        return err;
    if (ev->ts < r->last_written_ts)
        r->stats.late++;
    else
        r->last_written_ts = ev->ts;
    int64_t seq = r->next_seq++;

    sqlite3_stmt *st = r->ev_st[ev->type];
    if (!st && (err = prepare_event_insert(r, d, &st)))
        return err;
    sqlite3_bind_int64(st, 1, seq);
    sqlite3_bind_int64(st, 2, (int64_t)ev->ts);
    sqlite3_bind_int64(st, 3, thread);
    sqlite3_bind_int64(st, 4, ev->type);
    for (unsigned i = 0; i < d->nfields; i++)
        sqlite3_bind_int64(st, 5 + (int)i, field_value(ev, &d->fields[i]));
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return weft__rec_fail(r, "insert into events");
    r->stats.events++;
    if ((err = write_derived(r, d, ev, seq, thread)))
        return err;
    return weft__rec_wrote(r);
}

