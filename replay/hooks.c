/* replay/hooks.c - what programs and primitives call: weft_assert, virtual work, statistics,
 * and the resource reports that feed the wait-for graph.
 *
 * Every function here works on any scheduler. On the deterministic one (the calling thread's
 * runtime has rt->det) they talk to the scheduler; elsewhere they do the real thing (spin,
 * sleep, abort) or nothing. The resource reports are called by the primitives through
 * runtime/sync/resource.h and cost one thread-local load when no deterministic runtime runs.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "det_int.h"

static weft__det *det_here(void)
{
    weft_runtime *rt = weft__tls.rt;
    return rt ? rt->det : NULL;
}

static const char *base_name(const char *path)
{
    if (!path)
        return "?";
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

bool weft_sched_is_deterministic(void)
{
    return det_here() != NULL;
}

/* ---------------------------------------------------------------- weft_assert */

bool weft__assert(bool ok, const char *expr, weft_location where)
{
    if (ok)
        return true;
    char sig[300];
    snprintf(sig, sizeof sig, "%s:%d", base_name(where.file), where.line);
    weft__det *d = det_here();
    if (d) {
        char who[256] = "block_on's future";
        if (d->cur != WEFT__DET_NONE)
            weft__det_task_label(d->rec, d->cur, who, sizeof who);
        weft__det_fail(d, WEFT__OUT_ASSERTION, sig,
                       "assertion failed: %s\n  at %s:%d in %s(), in task %s, step %llu, "
                       "virtual time %llu ms",
                       expr, base_name(where.file), where.line, where.func ? where.func : "?",
                       who, (unsigned long long)d->step, (unsigned long long)(d->now / 1000000u));
        return false;
    }
    weft__det_run *run = weft__det_current_run();
    if (run && run->rec) {
        /* After the runtime stopped (a check after block_on), in a deterministic run. */
        weft__det_record_fail(run->rec, WEFT__OUT_ASSERTION, run->rec->nsteps, sig,
                              "assertion failed: %s\n  at %s:%d in %s(), after the run's "
                              "%llu steps",
                              expr, base_name(where.file), where.line,
                              where.func ? where.func : "?",
                              (unsigned long long)run->rec->nsteps);
        if (weft__det_in_forkserver_child()) {
            weft__det_forkserver_publish(run->rec, true);
            _exit(0);
        }
        return false;
    }
    fprintf(stderr, "%s:%d: %s: weft_assert failed: %s\n", where.file ? where.file : "?",
            where.line, where.func ? where.func : "?", expr);
    abort();
}

/* ---------------------------------------------------------------- virtual work */

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Advance the deterministic clock by d: on the blocking thread's account inside a blocking
 * function, on everyone's otherwise. */
static bool charge(weft_duration dur)
{
    weft__det *d = det_here();
    if (!d)
        return false;
    if (d->in_blocking) {
        d->charge += dur;
        d->extra += dur;
    } else {
        d->now += dur;
    }
    return true;
}

void weft_sched_burn(weft_duration dur)
{
    if (charge(dur))
        return;
    uint64_t until = mono_ns() + dur;
    while (mono_ns() < until)
        ;
}

void weft_sched_block(weft_duration dur)
{
    if (charge(dur))
        return;
    struct timespec ts = {.tv_sec = (time_t)(dur / 1000000000u),
                          .tv_nsec = (long)(dur % 1000000000u)};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

void weft_sched_stats_get(weft_sched_stats *out)
{
    memset(out, 0, sizeof *out);
    weft__det *d = det_here();
    if (!d)
        return;
    out->steps = d->step;
    out->polls = d->polls;
    out->vtime = d->now + d->extra;
    out->max_poll = d->max_poll;
    out->max_poll_task = d->max_poll_task;
    out->preemptions = d->preemptions;
}

/* ---------------------------------------------------------------- resource reports */

void weft__det_on_resource_wait(const struct weft_resource *r, int op, weft_location where)
{
    weft__det *d = det_here();
    if (!d || !r || d->cur == WEFT__DET_NONE)
        return;
    weft__det_entity *e = &d->ent[d->cur];
    e->waiting = true;
    e->wait_ptr = r;
    e->wait_op = (uint8_t)op;
    e->wait_kind = (uint8_t)r->kind;
    e->wait_res = r->id;
    e->wait_name = weft__det_str_intern(d->rec, r->name);
    e->wait_file = weft__det_str_intern(d->rec, base_name(where.file));
    e->wait_line = where.line;
    e->wait_seq = ++d->wait_seq;
    d->poll_waited = true;
}

void weft__det_on_resource_wait_done(const struct weft_resource *r, int op)
{
    (void)op;
    weft__det *d = det_here();
    if (!d || !r || d->cur == WEFT__DET_NONE)
        return;
    weft__det_entity *e = &d->ent[d->cur];
    if (e->waiting && e->wait_res == r->id) {
        e->waiting = false;
        e->wait_ptr = NULL;
    }
}

static int grow_holds(weft__det *d)
{
    if (d->nholds < d->cap_holds)
        return 0;
    uint32_t cap = d->cap_holds ? d->cap_holds * 2 : 16;
    weft__det_hold *h = realloc(d->holds, cap * sizeof *h);
    if (!h)
        return WEFT_ENOMEM;
    d->holds = h;
    d->cap_holds = cap;
    return 0;
}

/* One unit of r more (acquire) or less (release) held by entity `e`. */
static void hold(weft__det *d, const struct weft_resource *r, uint32_t e, long delta)
{
    for (uint32_t i = 0; i < d->nholds; i++) {
        weft__det_hold *h = &d->holds[i];
        if (h->res != r->id || h->ent != e)
            continue;
        if (delta > 0) {
            h->count += (uint32_t)delta;
        } else if (h->count <= (uint32_t)-delta) {
            d->holds[i] = d->holds[--d->nholds];
        } else {
            h->count -= (uint32_t)-delta;
        }
        return;
    }
    if (delta < 0) {
        /* Released by another task than the one that took it (a guard or permit that moved):
         * take it from any holder of r. */
        for (uint32_t i = 0; i < d->nholds; i++) {
            if (d->holds[i].res == r->id) {
                hold(d, r, d->holds[i].ent, delta);
                return;
            }
        }
        return;
    }
    if (grow_holds(d))
        return;
    d->holds[d->nholds++] = (weft__det_hold){
        .res = r->id,
        .ent = e,
        .count = (uint32_t)delta,
        .name = weft__det_str_intern(d->rec, r->name),
        .kind = (uint8_t)r->kind,
    };
}

static uint32_t holder_entity(weft__det *d, uint64_t task)
{
    if (task)
        return weft__det_entity_of(d, task);
    /* Task 0: block_on's root future (or no task at all). */
    return d->in_block_on ? d->root : WEFT__DET_NONE;
}

void weft__det_on_resource_event(const char *what, const struct weft_resource *r, uint64_t a1,
                                 uint64_t a2)
{
    weft__det *d = det_here();
    if (!d || !r)
        return;
    /* lock_acquire(r, task, op), lock_release(r, task, op), permit_acquire(r, task, n, ...),
     * permit_release(r, task, n, ...): a1 is the task, a2 the op or the count. */
    if (strcmp(what, "lock_acquire") == 0 || strcmp(what, "lock_release") == 0) {
        uint32_t e = holder_entity(d, a1);
        if (e != WEFT__DET_NONE)
            hold(d, r, e, what[5] == 'a' ? 1 : -1);
    } else if (strcmp(what, "permit_acquire") == 0 || strcmp(what, "permit_release") == 0) {
        uint32_t e = holder_entity(d, a1);
        long n = a2 ? (long)a2 : 1;
        if (e != WEFT__DET_NONE)
            hold(d, r, e, what[7] == 'a' ? n : -n);
    }
}

/* ---------------------------------------------------------------- a thread that would hang
 *
 * A blocking mutex locked again on the thread that holds it never returns (weft/
 * blocking_mutex.h). Here that thread runs every task, so the run could not even stop: the
 * failure is recorded instead, naming the task that blocks and the holder, and the lock
 * returns at once so that the scheduler stops at the end of this poll. */
bool weft__det_on_blocking_self_deadlock(const struct weft_resource *r, uint64_t holder,
                                         weft_location where)
{
    weft__det *d = det_here();
    if (!d || !r)
        return false;
    char who[256] = "block_on's future", owner[256] = "block_on's future", at[300] = "";
    if (d->cur != WEFT__DET_NONE)
        weft__det_task_label(d->rec, d->cur, who, sizeof who);
    uint32_t h = holder_entity(d, holder);
    if (h != WEFT__DET_NONE) {
        weft__det_task_label(d->rec, h, owner, sizeof owner);
        const weft__det_entity *he = &d->ent[h];
        if (h != d->cur && he->waiting && he->wait_ptr)
            snprintf(at, sizeof at, " (it waits %s '%s' at %s:%d)",
                     weft__det_wait_phrase(he->wait_op, he->wait_kind),
                     weft__det_str(d->rec, he->wait_name),
                     weft__det_str(d->rec, he->wait_file), he->wait_line);
    }
    char sig[300];
    snprintf(sig, sizeof sig, "blocking-lock %s:%d", base_name(where.file), where.line);
    if (h == d->cur)
        weft__det_fail(d, WEFT__OUT_DEADLOCK, sig,
                       "deadlock: task %s locks blocking mutex '%s' at %s:%d, which it already "
                       "holds: a blocking lock never returns on the thread that holds it",
                       who, r->name ? r->name : "?", base_name(where.file), where.line);
    else
        weft__det_fail(d, WEFT__OUT_DEADLOCK, sig,
                       "deadlock: task %s blocks its worker thread locking blocking mutex '%s' "
                       "at %s:%d, held by task %s, which returned PENDING with it locked%s.\n"
                       "  The holder can only unlock it when it is polled again, on a worker "
                       "thread, and the worker is stuck in the lock: a blocking lock held "
                       "across an await (step %llu, virtual time %llu ms)",
                       who, r->name ? r->name : "?", base_name(where.file), where.line, owner,
                       at, (unsigned long long)d->step,
                       (unsigned long long)(d->now / 1000000u));
    return true;
}
