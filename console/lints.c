/* console/lints.c - the rules of lints.h.
 *
 * Rules about time use `now` (the last event's time, or the clock when live) so that a
 * recording shows the warnings as they were at the cursor. Rules that tokio-console users
 * found noisy wait: a lost waker is reported only once the task has been idle with no waker
 * for limits.lost_waker_ns, and only for tasks whose every waker clone and drop was seen (a
 * task first met in a snapshot has an unknown number of wakers).
 */
#include <stdlib.h>
#include <string.h>

#include <weft/resource.h>

#include "idmap.h"
#include "lints.h"

/* Self-wakes are judged over at least this many wakes: a task that yielded once or twice is
 * not a busy loop. */
#define MIN_WAKES 5

static const struct {
    const char *name, *about;
    bool warning;
} info[LINT_COUNT] = {
#define LINT_INFO_(e, name, about, sev) {name, about, sev},
    CONSOLE_LINTS(LINT_INFO_)
#undef LINT_INFO_
};

const char *lint_name(lint_kind k)
{
    return k < LINT_COUNT ? info[k].name : "?";
}

const char *lint_about(lint_kind k)
{
    return k < LINT_COUNT ? info[k].about : "?";
}

bool lint_is_warning(lint_kind k)
{
    return k < LINT_COUNT && info[k].warning;
}

bool lint_on_resource(lint_kind k)
{
    return k == LINT_PERMIT_LEAK || k == LINT_CHANNEL_GROWS;
}

static bool reserve(uint32_t **p, size_t *cap, size_t n)
{
    if (n <= *cap)
        return true;
    size_t c = *cap ? *cap : 64;
    while (c < n)
        c *= 2;
    uint32_t *q = realloc(*p, c * sizeof *q);
    if (!q)
        return false;
    *p = q;
    *cap = c;
    return true;
}

static uint32_t task_lints(const model *m, const model_task *t, uint64_t now)
{
    const model_limits *L = &m->limits;
    uint32_t mask = 0;
    uint64_t open = now > t->state_since ? now - t->state_since : 0;
    if (t->wakes >= MIN_WAKES && (double)t->self_wakes > L->self_wake_ratio * (double)t->wakes)
        mask |= 1u << LINT_SELF_WAKES;
    if (t->state == TASK_IDLE && t->wakers_exact && t->wakers <= 0 && t->polls > 0 &&
        open >= L->lost_waker_ns)
        mask |= 1u << LINT_LOST_WAKER;
    uint64_t first = t->polls == 1 && t->state == TASK_RUNNING ? open : t->first_poll_ns;
    if (first >= L->never_yield_ns)
        mask |= 1u << LINT_NEVER_YIELDED;
    if (t->long_polls > 0 || (t->state == TASK_RUNNING && open > L->long_poll_ns))
        mask |= 1u << LINT_LONG_POLL;
    if (t->pending_holding_blocking > 0)
        mask |= 1u << LINT_BLOCKING_ACROSS_AWAIT;
    if (t->state == TASK_SCHEDULED && open > L->starved_ns)
        mask |= 1u << LINT_STARVED;
    if (t->state != TASK_DONE && t->parent) {
        const model_task *p = model_task_get(m, t->parent);
        if (p && p->state == TASK_DONE)
            mask |= 1u << LINT_OUTLIVES_PARENT;
    }
    return mask;
}

static bool is_async_lock(uint8_t kind)
{
    return kind == WEFT_RESOURCE_MUTEX || kind == WEFT_RESOURCE_RWLOCK;
}

void lints_compute(const model *m, uint64_t now, lint_result *out)
{
    memset(out->count, 0, sizeof out->count);
    out->total = 0;
    out->now = now;
    out->ntasks = out->nres = 0;
    if (!reserve(&out->task_mask, &out->cap_tasks, m->ntasks) ||
        !reserve(&out->res_mask, &out->cap_res, m->nres))
        return;
    out->ntasks = m->ntasks;
    out->nres = m->nres;
    for (size_t i = 0; i < m->ntasks; i++)
        out->task_mask[i] = task_lints(m, m->tasks[i], now);
    const model_limits *L = &m->limits;
    for (size_t i = 0; i < m->nres; i++) {
        const model_resource *r = m->res[i];
        uint32_t mask = 0;
        if (r->dropped) {
            out->res_mask[i] = 0;
            continue;
        }
        /* An async lock held by an idle task for long: informational, on the holder. */
        if (is_async_lock(r->kind)) {
            for (unsigned k = 0; k < r->nholders; k++) {
                const model_task *t = model_task_get(m, r->holders[k].task);
                if (t && t->state == TASK_IDLE && now > t->state_since &&
                    now - t->state_since >= L->long_await_ns) {
                    long ti = idmap_get(m->task_map, t->id);
                    if (ti >= 0)
                        out->task_mask[ti] |= 1u << LINT_LOCK_ACROSS_AWAIT;
                }
            }
        }
        if (r->kind == WEFT_RESOURCE_SEMAPHORE && r->available_known &&
            r->available < r->permits_total) {
            uint64_t held_live = 0;
            for (unsigned k = 0; k < r->nholders; k++) {
                const model_task *t = model_task_get(m, r->holders[k].task);
                if (t && t->state != TASK_DONE)
                    held_live += r->holders[k].n;
            }
            if (r->available + held_live < r->permits_total && r->holders_overflow == 0)
                mask |= 1u << LINT_PERMIT_LEAK;
        }
        if ((r->kind == WEFT_RESOURCE_MPSC || r->kind == WEFT_RESOURCE_BROADCAST) &&
            r->len >= L->grow_min_len && r->len == r->max_len && now > r->last_empty &&
            now - r->last_empty >= L->grow_window_ns)
            mask |= 1u << LINT_CHANNEL_GROWS;
        out->res_mask[i] = mask;
    }
    for (size_t i = 0; i < out->ntasks; i++)
        for (unsigned k = 0; k < LINT_COUNT; k++)
            if (out->task_mask[i] >> k & 1)
                out->count[k]++;
    for (size_t i = 0; i < out->nres; i++)
        for (unsigned k = 0; k < LINT_COUNT; k++)
            if (out->res_mask[i] >> k & 1)
                out->count[k]++;
    for (unsigned k = 0; k < LINT_COUNT; k++)
        out->total += out->count[k];
}

void lints_free(lint_result *r)
{
    free(r->task_mask);
    free(r->res_mask);
    memset(r, 0, sizeof *r);
}

uint32_t lints_of_task(const model *m, const lint_result *r, uint64_t task)
{
    long i = idmap_get(m->task_map, task);
    return i >= 0 && (size_t)i < r->ntasks ? r->task_mask[i] : 0;
}
