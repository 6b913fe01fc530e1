/* replay/det_step.c - one step of the deterministic scheduler: decide, record, poll.
 *
 * The strategy picks an index into the runnable set; the decision (the runnable set as it
 * was, and the choice) is recorded before the poll, and what the task did (waited on a
 * resource, yielded, finished, ran as a blocking function for some virtual time) is written
 * into the same step after it. Also here: the limits checked before each step (steps,
 * starvation) and the step-by-step prompt of WEFT_SCHED_STEP.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "det_int.h"
#include "task/state.h"

/* ---------------------------------------------------------------- running one step */

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
bool weft__det_run_one(weft__det *d, weft_future *root_fut)
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
    weft__det_remove_runnable(d, idx);

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
            weft__det_release_deferred(d);
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

bool weft__det_check_limits(weft__det *d)
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

