/* replay/det_finish.c - ending a deterministic run: the runtime's shutdown.
 *
 * Tasks still alive when the runtime shuts down are a failure unless the run allows them
 * (nobody waited for them: failure.c says what each waited on); the queued references are
 * dropped; the record gets its final virtual time and goes where the run wants it: the
 * explorer (fork-server child), WEFT_SCHEDULE_OUT, and a one-line verdict on stderr.
 */
#include <stdio.h>

#include "det_int.h"

/* ---------------------------------------------------------------- ending a run */

/* A guide in explicit order is a linearised trace: say how far the run followed it. */
static void judge_guide(weft__det *d)
{
    const weft__det_guide *g = &d->cfg->guide;
    if (d->cfg->strategy != WEFT__DET_GUIDED || !g->explicit_order || !d->owns_run)
        return;
    if (!d->guide_departed && d->guide_followed == g->n)
        return;
    char want[256], ran[256] = "nothing";
    const weft__det_wish *w = d->guide_departed ? &g->wish[d->depart_wish] : NULL;
    if (w)
        weft__det_task_label(g->rec, w->task, want, sizeof want);
    if (d->guide_departed && d->depart_ran != WEFT__DET_NONE)
        weft__det_task_label(d->rec, d->depart_ran, ran, sizeof ran);
    if (w)
        weft__det_fail(d, WEFT__OUT_DIVERGED, "trace",
                       "the run left the linearised trace: it followed %llu of its %zu polls "
                       "in order; the first departure is at step %llu, where the trace polls "
                       "%s next (its poll %zu) but that task was not runnable, so %s ran",
                       (unsigned long long)d->guide_followed, g->n,
                       (unsigned long long)d->depart_step, want, d->depart_wish, ran);
    else
        weft__det_fail(d, WEFT__OUT_DIVERGED, "trace",
                       "the run ended after following %llu of the trace's %zu polls (the "
                       "others poll tasks that had finished here sooner: the recorded run "
                       "polled them more often, e.g. overlapping polls on two workers)",
                       (unsigned long long)d->guide_followed, g->n);
}

static void finish_record(weft__det *d)
{
    if (!d->written)
        judge_guide(d);
    d->rec->vtime = d->now;
    if (d->written)
        return;
    d->written = true;
    if (d->run)
        d->run->finished = true;
    if (weft__det_in_forkserver_child()) {
        weft__det_forkserver_publish(d->rec, true);
        return;
    }
    if (d->out_path) {
        if (weft__det_write_path(d->rec, d->out_path) != 0)
            fprintf(stderr, "weft: could not write the schedule to %s\n", d->out_path);
    }
    if (d->cfg->verbose || (d->owns_run && d->rec->outcome != WEFT__OUT_OK)) {
        fprintf(stderr, "weft: deterministic run (%s, seed %llu): %llu steps, %llu ms of "
                        "virtual time, %llu preemptions: %s\n",
                weft__det_str(d->rec, d->rec->strategy), (unsigned long long)d->rec->seed,
                (unsigned long long)d->rec->nsteps, (unsigned long long)(d->now / 1000000u),
                (unsigned long long)d->rec->preemptions,
                d->rec->outcome == WEFT__OUT_OK ? "ok" : weft__det_outcome_name(d->rec->outcome));
        if (d->rec->outcome != WEFT__OUT_OK)
            fprintf(stderr, "%s\n", weft__det_str(d->rec, d->rec->message));
    }
}

int weft__det_shutdown(weft__sched *s, uint64_t deadline_ns)
{
    weft__det *d = (weft__det *)s;
    (void)deadline_ns;
    if (!d->stopping && !d->cfg->allow_alive) {
        /* Tasks still alive now are cancelled by the shutdown that follows: say which, and
         * what each was waiting for. */
        unsigned n = 0;
        for (uint32_t i = 0; i < d->nent; i++)
            n += d->ent[i].task && !d->ent[i].done;
        if (n) {
            char list[3072];
            weft__det_describe_alive(d, list, sizeof list);
            weft__det_fail(d, WEFT__OUT_ALIVE, "",
                           "%u task%s still alive when the runtime shut down (they are "
                           "cancelled now; nobody waited for them):%s",
                           n, n == 1 ? " was" : "s were", list);
        }
    }
    for (uint32_t i = 0; i < d->nrunq; i++) {
        weft__det_entity *e = &d->ent[d->runq[i]];
        e->runnable = false;
        if (e->task)
            weft__task_drop_notified(e->task);
    }
    d->nrunq = 0;
    for (uint32_t i = 0; i < d->ndef; i++)
        if (d->def[i].task)
            weft__task_drop_notified(d->def[i].task);
    d->ndef = 0;
    weft__det_take_foreign(d);
    for (uint32_t i = 0; i < d->nrunq; i++) {
        weft__det_entity *e = &d->ent[d->runq[i]];
        e->runnable = false;
        if (e->task)
            weft__task_drop_notified(e->task);
    }
    d->nrunq = 0;
    finish_record(d);
    return 0;
}

