/* replay/det_entity.c - the deterministic scheduler's entities and its runnable set.
 *
 * An entity is a task the scheduler has seen, or one block_on's root future; its index is the
 * task's alias in the record, so entities and record tasks are made together and stay in step.
 * A task is named in the record by where it was spawned and its ordinal among tasks spawned
 * there, which is what lets a schedule file name the same task in another run. The runnable
 * set (d->runq) keeps entities in the order they became runnable: index 0 is what a FIFO
 * queue would run next, which is how a decision is seen to be a preemption.
 *
 * Callers: the other det_*.c files through det_int.h; failure.c (weft__det_entity_of).
 */
#include <stdlib.h>
#include <string.h>

#include "det_int.h"
#include "task/state.h"

/* ---------------------------------------------------------------- small helpers */

int weft__det_grow(void **p, uint32_t *cap, uint64_t need, size_t elem)
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
uint32_t weft__det_new_entity(weft__det *d, weft_task *t)
{
    if (weft__det_grow((void **)&d->ent, &d->cap_ent, (uint64_t)d->nent + 1, sizeof *d->ent))
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

void weft__det_make_runnable(weft__det *d, uint32_t e)
{
    weft__det_entity *en = &d->ent[e];
    if (en->runnable)
        return;
    if (weft__det_grow((void **)&d->runq, &d->cap_runq, (uint64_t)d->nrunq + 1,
                       sizeof *d->runq) ||
        weft__det_grow((void **)&d->scratch, &d->cap_scratch, (uint64_t)d->nrunq + 1,
                       sizeof *d->scratch)) {
        weft__det_fail(d, WEFT__OUT_CRASH, "oom", "out of memory in the deterministic scheduler");
        return;
    }
    en->runnable = true;
    en->since = d->step;
    d->runq[d->nrunq++] = e;
}

/* Queue a notified task: take its notified reference into the runnable set. */
void weft__det_enqueue(weft__det *d, weft_task *t)
{
    uint32_t e = weft__det_entity_of(d, t->id);
    if (e == WEFT__DET_NONE)
        e = weft__det_new_entity(d, t);
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
    weft__det_make_runnable(d, e);
}

void weft__det_remove_runnable(weft__det *d, uint32_t idx)
{
    uint32_t e = d->runq[idx];
    memmove(d->runq + idx, d->runq + idx + 1, (d->nrunq - idx - 1) * sizeof *d->runq);
    d->nrunq--;
    d->ent[e].runnable = false;
}
