/* instrument/snapshot.c - the state of the whole program, for a reader that attaches late.
 *
 * A reader asks by incrementing the segment's snapshot_req; the tracer thread (trace.c)
 * answers on its own ring with
 *
 *   snapshot_begin(seq)
 *     string_def / location_def   every interned id, so that the reader can resolve the ids
 *                                 of records whose definitions it never saw
 *     runtime_start               every live runtime
 *     resource_snapshot           every live resource, then whatever state its primitive
 *                                 reports (lock holders, permits...: its snapshot callback)
 *     task_snapshot               every live task: identity, state, what it waits on
 *   snapshot_end(seq)
 *
 * Every record of a snapshot carries the timestamp taken at snapshot_begin, before any state
 * was read. So an event that changes a task after it was read (its completion, say) has a
 * later timestamp than the snapshot, and a reader that applies events in time order ends with
 * the right state. A task is read under its owned-list shard lock, which its completion
 * takes too, and a task whose state word already says COMPLETE is left out.
 *
 * The tracer may wait for room in its ring (it is not a runtime thread), but never while it
 * holds a runtime lock: tasks are copied out under the shard lock, then written.
 */
#include <stdlib.h>
#include <string.h>

#include <weft/resource.h>

#include "../runtime/rt_int.h"
#include "../runtime/sync/resource.h"
#include "../runtime/task/state.h"
#include "trace_int.h"

typedef struct snap_ctx {
    uint64_t ts;    /* the snapshot's timestamp */
    bool may_wait;  /* the tracer thread: may wait for room */
    weft_ev_task_snapshot *tasks; /* copied under the shard locks, written after */
    size_t ntasks, cap;
    uint64_t *res_ids;  /* live resources' ids, sorted by low 32 bits, for the tasks' waits */
    size_t nres, res_cap;
    bool oom;
} snap_ctx;

static void put_at(snap_ctx *c, unsigned type, void *rec, unsigned bytes)
{
    *(uint64_t *)rec = weft__rec_header(type, bytes / WEFT_REC_ALIGN, c->ts);
    weft__ring_put_slow(&weft__w, rec, bytes, c->ts, c->may_wait);
}

#define PUT(c, name, ...)                                                        \
    do {                                                                         \
        struct {                                                                 \
            uint64_t h;                                                          \
            weft_ev_##name p;                                                    \
        } r_;                                                                    \
        memset(&r_, 0, sizeof r_);                                               \
        r_.p = (weft_ev_##name){__VA_ARGS__};                                    \
        put_at((c), WEFT_EV_##name, &r_, sizeof r_);                             \
    } while (0)

#define WAITING (UINT64_C(1) << 63) /* in a copied task_snapshot.resource: see resolve_res */

static unsigned task_state(uint64_t st)
{
    if (st & WEFT__ST_RUNNING)
        return WEFT_TASKST_RUNNING;
    if (st & WEFT__ST_NOTIFIED)
        return WEFT_TASKST_SCHEDULED;
    return WEFT_TASKST_IDLE;
}

static void copy_task(snap_ctx *c, weft_task *t)
{
    uint64_t st = atomic_load_explicit(&t->state, memory_order_acquire);
    if (st & WEFT__ST_COMPLETE)
        return;
    if (c->ntasks == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 256;
        weft_ev_task_snapshot *p = realloc(c->tasks, cap * sizeof *p);
        if (!p) {
            c->oom = true;
            return;
        }
        c->tasks = p;
        c->cap = cap;
    }
    weft_ev_task_snapshot *s = &c->tasks[c->ntasks++];
    memset(s, 0, sizeof *s);
    s->task = t->id;
    s->parent = t->parent;
    s->runtime = (uint32_t)t->rt->id;
    /* Interning may write a definition (non-blocking) while we hold the shard lock. */
    s->name = weft__intern_str(t->name);
    s->location = weft__intern_loc(t->spawned_at);
    s->kind = t->kind;
    s->state = (uint8_t)task_state(st);
    uint8_t op1 = atomic_load_explicit(&t->trace_wait_op, memory_order_relaxed);
    if (op1) {
        /* The low 32 bits for now, marked: resolved against the live resources later. */
        s->resource = WAITING | atomic_load_explicit(&t->trace_wait_res, memory_order_relaxed);
        s->wait_location = atomic_load_explicit(&t->trace_wait_loc, memory_order_relaxed);
        s->op = (uint8_t)(op1 - 1);
    }
}

static void snap_runtime(weft_runtime *rt, void *arg)
{
    snap_ctx *c = arg;
    PUT(c, runtime_start, (uint32_t)rt->id, rt->cfg.worker_threads, (uint8_t)rt->cfg.flavor);
    for (int i = 0; i < WEFT__OWNED_SHARDS; i++) {
        weft__owned_shard *s = &rt->owned.shard[i];
        weft__futex_lock(&s->lock);
        for (weft_task *t = s->head; t; t = t->owned_next)
            copy_task(c, t);
        weft__futex_unlock(&s->lock);
    }
}

static void snap_resource(const weft_resource *r, void *arg)
{
    snap_ctx *c = arg;
    PUT(c, resource_snapshot, r->id, r->capacity, weft__intern_str(r->name),
        weft__intern_loc(r->created_at), (uint8_t)r->kind);
    if (r->snapshot)
        r->snapshot(r);
    if (c->nres == c->res_cap) {
        size_t cap = c->res_cap ? 2 * c->res_cap : 256;
        uint64_t *p = realloc(c->res_ids, cap * sizeof *p);
        if (!p)
            return;
        c->res_ids = p;
        c->res_cap = cap;
    }
    c->res_ids[c->nres++] = r->id;
}

static int cmp_low32(const void *a, const void *b)
{
    uint32_t x = (uint32_t)*(const uint64_t *)a, y = (uint32_t)*(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The full id of a live resource whose id ends in `low`; `low` itself if none is known (a
 * resource created before tracing started is not in the registry). */
static uint64_t resolve_res(const snap_ctx *c, uint64_t low)
{
    size_t lo = 0, hi = c->nres;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        uint32_t m = (uint32_t)c->res_ids[mid];
        if (m == (uint32_t)low)
            return c->res_ids[mid];
        if (m < (uint32_t)low)
            lo = mid + 1;
        else
            hi = mid;
    }
    return low;
}

void weft__snapshot_emit(uint64_t seq)
{
    snap_ctx c = {.ts = weft__trace_now(), .may_wait = weft__trace_me.kind == WEFT_THREAD_TRACER};
    PUT(&c, snapshot_begin, seq);
    weft__intern_dump(c.may_wait);
    /* Runtimes and their tasks: runtime_start records are written under the runtime list
     * lock (a runtime cannot be freed meanwhile); tasks are copied, then written. */
    weft__trace_for_each_runtime(snap_runtime, &c);
    weft__resource_for_each(snap_resource, &c);
    if (c.nres > 1) /* qsort(NULL, 0, ...) is undefined, and a program may have no resources */
        qsort(c.res_ids, c.nres, sizeof *c.res_ids, cmp_low32);
    for (size_t i = 0; i < c.ntasks; i++) {
        struct {
            uint64_t h;
            weft_ev_task_snapshot p;
        } r;
        memset(&r, 0, sizeof r);
        r.p = c.tasks[i];
        if (r.p.resource & WAITING)
            r.p.resource = resolve_res(&c, (uint32_t)r.p.resource);
        put_at(&c, WEFT_EV_task_snapshot, &r, sizeof r);
    }
    free(c.tasks);
    free(c.res_ids);
    PUT(&c, snapshot_end, seq);
}
