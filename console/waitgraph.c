/* console/waitgraph.c - wait chains and deadlock cycles (waitgraph.h).
 *
 * Cycle search: for each waiting task s in increasing id order, a depth-first search through
 * the holders of what it waits on, visiting only tasks with ids above s, reports every path
 * back to s. Each elementary cycle is thereby found exactly once, from its smallest member.
 * A per-start visited set keeps the search linear per start (a cycle through a node already
 * explored from this start by another path can be missed when two cycles share a node; that
 * second cycle is then found from its own smallest member unless that is s too). Programs
 * have few waiting tasks holding locks, so the cost is small; the search is bounded anyway.
 */
#include <stdlib.h>
#include <string.h>

#include <weft/resource.h>

#include "waitgraph.h"

#define SEARCH_BUDGET 200000 /* edges visited per call of waitgraph_cycles */

static bool has_holders(const model_resource *r)
{
    switch (r->kind) {
    case WEFT_RESOURCE_MUTEX:
    case WEFT_RESOURCE_RWLOCK:
    case WEFT_RESOURCE_SEMAPHORE:
    case WEFT_RESOURCE_BLOCKING_MUTEX:
    case WEFT_RESOURCE_KIND_COUNT_: /* unknown kind: trust whatever holders it reported */
        return true;
    default:
        return false;
    }
}

static bool task_waiting(const model_task *t)
{
    return model_task_waits(t) && t->state != TASK_RUNNING;
}

/* A send waits for the receiver of an mpsc or oneshot channel. */
static uint64_t receiver_of(const model_resource *r, uint8_t op)
{
    if (r && op == WEFT_OP_SEND && r->receiver &&
        (r->kind == WEFT_RESOURCE_MPSC || r->kind == WEFT_RESOURCE_ONESHOT))
        return r->receiver;
    return 0;
}

uint64_t waitgraph_holder(const model *m, const model_resource *r, uint8_t op, uint64_t waiter,
                          bool *via_receiver)
{
    if (via_receiver)
        *via_receiver = false;
    uint64_t rx = receiver_of(r, op);
    if (rx) {
        if (via_receiver)
            *via_receiver = true;
        return rx;
    }
    if (!r || !has_holders(r) || r->nholders == 0)
        return 0;
    uint64_t first = 0;
    for (unsigned i = 0; i < r->nholders; i++) {
        uint64_t h = r->holders[i].task;
        if (h == 0 || (h == waiter && r->nholders > 1))
            continue;
        if (!first)
            first = h;
        if (task_waiting(model_task_get(m, h)))
            return h;
    }
    return first;
}

void wait_chain_of(const model *m, uint64_t task, wait_chain *out)
{
    memset(out, 0, sizeof *out);
    const model_task *t = model_task_get(m, task);
    while (t) {
        if (out->n == CHAIN_MAX) {
            out->end = CHAIN_TOO_LONG;
            return;
        }
        chain_link *l = &out->links[out->n++];
        l->task = t->id;
        if (!task_waiting(t)) {
            out->end = CHAIN_NOT_WAITING;
            return;
        }
        if (t->wait.join) {
            l->holder = t->wait.join;
            l->via_join = true;
        } else {
            l->resource = t->wait.resource;
            l->op = t->wait.op;
            l->location = t->wait.location;
            l->holder = waitgraph_holder(m, model_res_get(m, t->wait.resource), t->wait.op,
                                         t->id, &l->via_receiver);
        }
        if (!l->holder) {
            out->end = CHAIN_NO_HOLDER;
            return;
        }
        for (unsigned i = 0; i < out->n; i++) {
            if (out->links[i].task == l->holder) {
                out->end = CHAIN_CYCLE;
                out->cycle_from = i;
                return;
            }
        }
        t = model_task_get(m, l->holder);
        if (!t) {
            /* The holder is unknown (finished and forgotten, or never seen): the chain ends
             * on its id, which the views print as such. */
            if (out->n < CHAIN_MAX) {
                out->links[out->n++] = (chain_link){.task = l->holder};
            }
            out->end = CHAIN_NOT_WAITING;
            return;
        }
    }
}

/* ---------------------------------------------------------------- cycles */

typedef struct search {
    const model *m;
    uint64_t start;
    chain_link path[CYCLE_MAX];
    unsigned depth;
    uint64_t *visited; /* task ids visited from this start */
    size_t nvisited, cap_visited;
    wait_cycle *out;
    size_t max, found;
    unsigned budget;
} search;

static bool visited(search *s, uint64_t id)
{
    for (size_t i = 0; i < s->nvisited; i++)
        if (s->visited[i] == id)
            return true;
    if (s->nvisited == s->cap_visited) {
        size_t n = s->cap_visited ? s->cap_visited * 2 : 32;
        uint64_t *p = realloc(s->visited, n * sizeof *p);
        if (!p)
            return true;
        s->visited = p;
        s->cap_visited = n;
    }
    s->visited[s->nvisited++] = id;
    return false;
}

static void dfs(search *s, const model_task *t)
{
    if (s->depth == CYCLE_MAX || s->budget == 0)
        return;
    chain_link *l = &s->path[s->depth];
    *l = (chain_link){.task = t->id};
    const model_resource *r = NULL;
    uint64_t rx = 0;
    unsigned nedges = 1; /* a join, or a send to a receiver: one edge */
    if (t->wait.join) {
        l->via_join = true;
    } else {
        r = model_res_get(s->m, t->wait.resource);
        rx = receiver_of(r, t->wait.op);
        if (!r || (!rx && !has_holders(r)))
            return;
        l->resource = t->wait.resource;
        l->op = t->wait.op;
        l->location = t->wait.location;
        l->via_receiver = rx != 0;
        if (!rx)
            nedges = r->nholders;
    }
    for (unsigned i = 0; i < nedges && s->budget; i++) {
        s->budget--;
        uint64_t h = t->wait.join ? t->wait.join : rx ? rx : r->holders[i].task;
        if (h == s->start) {
            l->holder = h;
            if (s->found < s->max) {
                wait_cycle *c = &s->out[s->found];
                c->n = s->depth + 1;
                memcpy(c->links, s->path, c->n * sizeof *c->links);
                c->formed = 0;
                for (unsigned k = 0; k < c->n; k++) {
                    const model_task *ct = model_task_get(s->m, c->links[k].task);
                    if (ct && ct->wait.since > c->formed)
                        c->formed = ct->wait.since;
                }
            }
            s->found++;
            continue;
        }
        if (h < s->start)
            continue;
        const model_task *ht = model_task_get(s->m, h);
        if (!task_waiting(ht) || visited(s, h))
            continue;
        l->holder = h;
        s->depth++;
        dfs(s, ht);
        s->depth--;
    }
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

size_t waitgraph_cycles(const model *m, wait_cycle *out, size_t max)
{
    size_t nw = 0;
    uint64_t *ids = malloc((m->ntasks + 1) * sizeof *ids);
    if (!ids)
        return 0;
    for (size_t i = 0; i < m->ntasks; i++)
        if (task_waiting(m->tasks[i]) && m->tasks[i]->state == TASK_IDLE)
            ids[nw++] = m->tasks[i]->id;
    qsort(ids, nw, sizeof *ids, cmp_u64);
    search s = {.m = m, .out = out, .max = max, .budget = SEARCH_BUDGET};
    for (size_t i = 0; i < nw; i++) {
        s.start = ids[i];
        s.depth = 0;
        s.nvisited = 0;
        dfs(&s, model_task_get(m, ids[i]));
    }
    free(s.visited);
    free(ids);
    /* A cycle counts as a deadlock only if every task in it is idle: one that is scheduled
     * will run again and may give up what it holds. */
    size_t kept = 0, n = s.found < max ? s.found : max;
    for (size_t i = 0; i < n; i++) {
        bool idle = true;
        for (unsigned k = 0; k < out[i].n; k++) {
            const model_task *t = model_task_get(m, out[i].links[k].task);
            if (!t || t->state != TASK_IDLE)
                idle = false;
        }
        if (idle)
            out[kept++] = out[i];
    }
    return kept + (s.found > max ? s.found - max : 0);
}
