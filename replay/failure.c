/* replay/failure.c - why a deterministic run is stuck: the wait-for graph and its verdict.
 *
 * Called when nothing is runnable and no timer or blocking function will make anything
 * runnable (or only timers past the virtual-time limit remain). Every live task is then
 * waiting, and the question is on what. Sources of edges "A waits for B":
 *
 *   joins      B's state word has JOIN_WAKER and its join waker wakes A (a task waker, or the
 *              root waker of block_on): A awaits B's join handle.
 *   resources  A reported a wait on resource R (weft__det_resource_wait) that has not ended;
 *              B holds R (lock, read guard, permits: the lock/permit events), or B waits on R
 *              too and queued first (the primitives are FIFO, so B is served before A).
 *
 * A cycle in that graph is a deadlock and is reported with every task, resource, holder and
 * source line in it. Without a cycle the stall is classified:
 *
 *   lost-wakeup  a task is pending and no waker of it exists anywhere: its reference count is
 *                exactly what the owned list, its join handle and the scheduler hold (for the
 *                root future: no clone of its waker is alive). Nothing can ever wake it: it
 *                returned PENDING without registering cx->waker.
 *   join-stall   a task awaits a task that cannot finish (which waits on something else).
 *   timer-stall  only timers remain, and the nearest fires after the virtual-time limit.
 *   stall        anything else: e.g. a receive on a channel no one will send to.
 */
#include <stdlib.h>
#include <string.h>

#include "det_int.h"
#include "task/state.h"

#define MAX_EDGES_TEXT 8192

typedef struct edge {
    uint32_t from, to;
    uint8_t why; /* EDGE_* */
} edge;

enum { EDGE_JOIN, EDGE_HOLDS, EDGE_AHEAD };

typedef struct graph {
    edge *e;
    uint32_t n, cap;
} graph;

static void add_edge(graph *g, uint32_t from, uint32_t to, uint8_t why)
{
    if (from == to || from == WEFT__DET_NONE || to == WEFT__DET_NONE)
        return;
    for (uint32_t i = 0; i < g->n; i++)
        if (g->e[i].from == from && g->e[i].to == to)
            return;
    if (g->n == g->cap) {
        uint32_t cap = g->cap ? g->cap * 2 : 32;
        edge *e = realloc(g->e, cap * sizeof *e);
        if (!e)
            return;
        g->e = e;
        g->cap = cap;
    }
    g->e[g->n++] = (edge){from, to, why};
}

/* Is entity i alive and waiting (not runnable, not done)? */
static bool stuck(const weft__det *d, uint32_t i)
{
    const weft__det_entity *e = &d->ent[i];
    if (e->done || e->runnable)
        return false;
    if (!e->task)
        return d->in_block_on && i == d->root && !d->root_done;
    return true;
}

/* The entity a join waker wakes, or NONE. */
static uint32_t waker_entity(const weft__det *d, const weft_waker *w)
{
    if (w->vt == &weft__task_waker_vt)
        return weft__det_entity_of(d, ((const weft_task *)w->data)->id);
    if (w->vt == &weft__det_root_waker_vt && w->data == d->root_cell && d->in_block_on)
        return d->root;
    return WEFT__DET_NONE;
}

static void build(const weft__det *d, graph *g)
{
    for (uint32_t i = 0; i < d->nent; i++) {
        const weft__det_entity *e = &d->ent[i];
        if (e->task && !e->done) {
            uint64_t s = weft__state_load(&e->task->state);
            if ((s & WEFT__ST_JOIN_WAKER) && !(s & WEFT__ST_COMPLETE)) {
                uint32_t w = waker_entity(d, &e->task->join_waker);
                if (w != WEFT__DET_NONE && stuck(d, w))
                    add_edge(g, w, i, EDGE_JOIN);
            }
        }
        if (!stuck(d, i) || !e->waiting)
            continue;
        for (uint32_t h = 0; h < d->nholds; h++)
            if (d->holds[h].res == e->wait_res && d->holds[h].count)
                add_edge(g, i, d->holds[h].ent, EDGE_HOLDS);
        for (uint32_t j = 0; j < d->nent; j++) {
            const weft__det_entity *o = &d->ent[j];
            if (j != i && stuck(d, j) && o->waiting && o->wait_res == e->wait_res &&
                o->wait_seq < e->wait_seq)
                add_edge(g, i, j, EDGE_AHEAD);
        }
    }
}

/* Find a cycle; fills cyc (entity list in wait order) and returns its length, 0 if none. */
static uint32_t find_cycle(const weft__det *d, const graph *g, uint32_t *cyc)
{
    uint32_t n = d->nent;
    uint8_t *color = calloc(n, 1); /* 0 white, 1 on stack, 2 done */
    uint32_t *stack = malloc(n * sizeof *stack);
    uint32_t *iter = malloc(n * sizeof *iter);
    uint32_t len = 0;
    if (!color || !stack || !iter)
        goto out;
    for (uint32_t start = 0; start < n && !len; start++) {
        if (color[start])
            continue;
        uint32_t sp = 0;
        stack[sp] = start;
        iter[sp] = 0;
        color[start] = 1;
        sp++;
        while (sp && !len) {
            uint32_t v = stack[sp - 1];
            bool pushed = false;
            while (iter[sp - 1] < g->n) {
                const edge *e = &g->e[iter[sp - 1]++];
                if (e->from != v)
                    continue;
                if (color[e->to] == 1) {
                    /* Back edge: the cycle is the stack from e->to up to v. */
                    uint32_t k = 0;
                    while (stack[k] != e->to)
                        k++;
                    for (; k < sp; k++)
                        cyc[len++] = stack[k];
                    break;
                }
                if (color[e->to] == 0) {
                    color[e->to] = 1;
                    stack[sp] = e->to;
                    iter[sp] = 0;
                    sp++;
                    pushed = true;
                    break;
                }
            }
            if (!pushed && !len) {
                color[v] = 2;
                sp--;
            }
        }
    }
out:
    free(color);
    free(stack);
    free(iter);
    return len;
}

/* No waker of entity i exists anywhere. */
static bool no_waker(const weft__det *d, uint32_t i)
{
    const weft__det_entity *e = &d->ent[i];
    if (!e->task)
        return d->root_cell->clones <= 0;
    uint64_t s = weft__state_load(&e->task->state);
    /* Held by: the owned list, the join handle (while JOIN_INTEREST), and this scheduler. */
    uint64_t base = 2 + ((s & WEFT__ST_JOIN_INTEREST) ? 1 : 0);
    return weft__state_refs(s) <= base;
}

/* One line about what entity i waits on (no newline). */
static size_t describe(const weft__det *d, const graph *g, uint32_t i, char *buf, size_t size)
{
    const weft__det_entity *e = &d->ent[i];
    const weft__det_record *r = d->rec;
    char who[256];
    size_t len = (size_t)snprintf(buf, size, "%s", weft__det_task_label(r, i, who, sizeof who));
    if (len >= size)
        return size - 1;
    if (e->waiting) {
        len += (size_t)snprintf(buf + len, size - len, " waits %s %s '%s' at %s:%d",
                                weft__det_wait_phrase(e->wait_op, e->wait_kind),
                                weft_resource_kind_name((weft_resource_kind)e->wait_kind),
                                weft__det_str(r, e->wait_name), weft__det_str(r, e->wait_file),
                                e->wait_line);
        bool any = false;
        for (uint32_t h = 0; h < d->nholds && len < size; h++) {
            if (d->holds[h].res != e->wait_res || !d->holds[h].count)
                continue;
            len += (size_t)snprintf(buf + len, size - len, "%s T%u", any ? "," : ", held by",
                                    d->holds[h].ent);
            if (d->holds[h].ent == i && len < size)
                len += (size_t)snprintf(buf + len, size - len, " (itself)");
            any = true;
        }
        bool ahead = false;
        for (uint32_t k = 0; k < g->n && len < size; k++) {
            if (g->e[k].from != i || g->e[k].why != EDGE_AHEAD)
                continue;
            len += (size_t)snprintf(buf + len, size - len, "%s T%u",
                                    ahead ? "," : any ? "; queued behind" : ", queued behind",
                                    g->e[k].to);
            ahead = true;
        }
        if (!any && !ahead && len < size)
            len += (size_t)snprintf(buf + len, size - len, " (no task holds it)");
    } else {
        bool join = false;
        for (uint32_t k = 0; k < g->n && len < size; k++) {
            if (g->e[k].from != i || g->e[k].why != EDGE_JOIN)
                continue;
            len += (size_t)snprintf(buf + len, size - len, "%s T%u",
                                    join ? "," : " awaits the join handle of", g->e[k].to);
            join = true;
        }
        if (!join && len < size) {
            if (no_waker(d, i))
                len += (size_t)snprintf(buf + len, size - len,
                                        " returned pending at step %llu and no waker of it "
                                        "exists anywhere",
                                        (unsigned long long)e->last_step);
            else
                len += (size_t)snprintf(buf + len, size - len,
                                        " is pending on something that does not report itself "
                                        "(a waker of it is registered somewhere)");
        }
    }
    return len < size ? len : size - 1;
}

size_t weft__det_describe_alive(weft__det *d, char *buf, size_t size)
{
    graph g = {0};
    build(d, &g);
    uint32_t *cyc = malloc((d->nent + 1) * sizeof *cyc);
    uint32_t ncyc = cyc ? find_cycle(d, &g, cyc) : 0;
    size_t len = 0;
    buf[0] = '\0';
    if (ncyc) {
        len += (size_t)snprintf(buf + len, size - len,
                                "\n  %u of them are deadlocked, in a wait-for cycle:", ncyc);
        for (uint32_t k = 0; k < ncyc && len + 8 < size; k++) {
            len += (size_t)snprintf(buf + len, size - len, "\n    ");
            if (len < size)
                len += describe(d, &g, cyc[k], buf + len, size - len);
        }
    }
    for (uint32_t i = 0; i < d->nent && len + 8 < size; i++) {
        bool in_cycle = false;
        for (uint32_t k = 0; k < ncyc; k++)
            in_cycle |= cyc[k] == i;
        if (in_cycle || d->ent[i].done || !d->ent[i].task)
            continue;
        len += (size_t)snprintf(buf + len, size - len, "\n  ");
        if (len >= size)
            break;
        if (d->ent[i].runnable) {
            char who[256];
            len += (size_t)snprintf(buf + len, size - len, "%s (runnable)",
                                    weft__det_task_label(d->rec, i, who, sizeof who));
        } else {
            len += describe(d, &g, i, buf + len, size - len);
        }
    }
    free(cyc);
    free(g.e);
    return len < size ? len : size - 1;
}

void weft__det_explain_stall(weft__det *d, bool timers_beyond)
{
    graph g = {0};
    build(d, &g);
    uint32_t *cyc = malloc((d->nent + 1) * sizeof *cyc);
    uint32_t ncyc = cyc ? find_cycle(d, &g, cyc) : 0;
    char *text = malloc(MAX_EDGES_TEXT);
    if (!text) {
        weft__det_fail(d, WEFT__OUT_STALL, "", "nothing can run (out of memory explaining why)");
        free(cyc);
        free(g.e);
        return;
    }
    size_t len = 0;
    text[0] = '\0';
    char sig[512] = "";
    size_t slen = 0;

    if (ncyc) {
        for (uint32_t k = 0; k < ncyc && len < MAX_EDGES_TEXT - 2; k++) {
            text[len++] = '\n';
            text[len++] = ' ';
            text[len++] = ' ';
            len += describe(d, &g, cyc[k], text + len, MAX_EDGES_TEXT - len);
            const weft__det_entity *e = &d->ent[cyc[k]];
            if (e->waiting && slen < sizeof sig - 64)
                slen += (size_t)snprintf(sig + slen, sizeof sig - slen, "%s%s",
                                         slen ? "," : "", weft__det_str(d->rec, e->wait_name));
        }
        weft__det_fail(d, WEFT__OUT_DEADLOCK, sig,
                       "deadlock: a wait-for cycle of %u task%s (after %llu steps, at %llu ms "
                       "of virtual time):%s",
                       ncyc, ncyc == 1 ? "" : "s", (unsigned long long)d->step,
                       (unsigned long long)(d->now / 1000000u), text);
        goto out;
    }

    /* No cycle: list every stuck task, and find the most telling cause. */
    int kind = timers_beyond ? WEFT__OUT_TIMER_STALL : WEFT__OUT_STALL;
    uint32_t lost = WEFT__DET_NONE, joiner = WEFT__DET_NONE;
    unsigned nstuck = 0;
    for (uint32_t i = 0; i < d->nent; i++) {
        if (!stuck(d, i))
            continue;
        nstuck++;
        if (len < MAX_EDGES_TEXT - 2) {
            text[len++] = '\n';
            text[len++] = ' ';
            text[len++] = ' ';
            len += describe(d, &g, i, text + len, MAX_EDGES_TEXT - len);
        }
        const weft__det_entity *e = &d->ent[i];
        bool joins = false;
        for (uint32_t k = 0; k < g.n; k++)
            if (g.e[k].from == i && g.e[k].why == EDGE_JOIN)
                joins = true;
        if (!e->waiting && !joins && lost == WEFT__DET_NONE && no_waker(d, i))
            lost = i;
        if (joins && joiner == WEFT__DET_NONE)
            joiner = i;
    }
    uint32_t on_resource = WEFT__DET_NONE;
    for (uint32_t i = 0; i < d->nent && on_resource == WEFT__DET_NONE; i++)
        if (stuck(d, i) && d->ent[i].waiting)
            on_resource = i;
    char who[256];
    if (lost != WEFT__DET_NONE) {
        weft__det_task_label(d->rec, lost, who, sizeof who);
        weft__det_fail(d, WEFT__OUT_LOST_WAKEUP, weft__det_str(d->rec, d->rec->tasks[lost].name),
                       "lost wakeup: %s returned pending without registering its waker "
                       "anywhere, so nothing can ever wake it (a future must arrange for "
                       "cx->waker to be woken before it returns PENDING). Stuck tasks:%s",
                       who, text);
    } else if (on_resource != WEFT__DET_NONE && kind != WEFT__OUT_TIMER_STALL) {
        weft__det_task_label(d->rec, on_resource, who, sizeof who);
        weft__det_fail(d, WEFT__OUT_STALL,
                       weft__det_str(d->rec, d->ent[on_resource].wait_name),
                       "stall: nothing can run and nothing will wake the waiting tasks: %s "
                       "waits on a resource no task holds and nothing else will signal (a "
                       "notification sent before the wait began, a message never sent). "
                       "Stuck tasks:%s",
                       who, text);
    } else if (joiner != WEFT__DET_NONE) {
        weft__det_task_label(d->rec, joiner, who, sizeof who);
        weft__det_fail(d, WEFT__OUT_JOIN_STALL, weft__det_str(d->rec, d->rec->tasks[joiner].name),
                       "stall: %s awaits a task that cannot finish. Stuck tasks:%s", who, text);
    } else if (kind == WEFT__OUT_TIMER_STALL) {
        weft__det_fail(d, kind, "",
                       "stall: every task waits, and the only timers left fire after the "
                       "virtual-time limit of %llu ms (now %llu ms). Stuck tasks:%s",
                       (unsigned long long)(d->lim.max_vtime / 1000000u),
                       (unsigned long long)(d->now / 1000000u), nstuck ? text : " none");
    } else {
        weft__det_fail(d, WEFT__OUT_STALL, "",
                       "stall: nothing can run, no timer is armed and no blocking function is "
                       "running (after %llu steps). Stuck tasks:%s",
                       (unsigned long long)d->step, nstuck ? text : " none");
    }
out:
    free(text);
    free(cyc);
    free(g.e);
}
