/* replay/det_sched.c - the deterministic scheduler: one thread, virtual time, a strategy.
 *
 * A third backend behind weft__sched_ops. Everything runs on the thread that built the
 * runtime, inside weft_block_on. The loop, once per *step*:
 *
 *     settle:   deliver wakes from blocking functions whose virtual time is up, fire the
 *               timers that are due (virtual time), take wakes that came from other threads
 *     if nothing is runnable:
 *               jump virtual time to the next timer or blocking completion; if there is none,
 *               the program is stuck: explain it (failure.c) and stop
 *     check the step limit and starvation
 *     decide:   the strategy picks one runnable task (strategy.c); the decision is recorded
 *     run it:   poll the task (or block_on's root future, which is a task like the others
 *               here: "main"), and record what it did
 *
 * The runnable set is kept in the order tasks became runnable, so index 0 is what a FIFO run
 * queue would run next; a decision that picks another index is counted as a *preemption*
 * (a context switch the program did not ask for), which is what DFS bounds and the shrinker
 * minimises.
 *
 * Virtual time stands still while tasks run, except when code says that work takes time
 * (weft_sched_burn/block: hooks.c). A blocking function (spawn_blocking) runs to completion
 * at once when picked, on this thread, but its virtual duration is charged to a virtual
 * blocking thread: every wake it issues (its join handle's above all) is held back and
 * delivered when that thread's time is up, so async tasks keep running meanwhile.
 *
 * References: each entity holds one reference to its task until it sees the task complete,
 * so the analysis (failure.c) may read any live task's state word. Queue entries hold the
 * notified reference as with every backend.
 *
 * The scheduler is in pieces, one concept each (det_int.h declares what they share):
 *   det_sched.c   this file: the backend's ops, the block_on loop, creation and release
 *   det_entity.c  entities (tasks and roots) and the runnable set
 *   det_wake.c    wakes: schedule(), the root future's waker, wakes from other threads
 *   det_time.c    the virtual clock, held-back wakes of blocking functions, timers, settling
 *   det_step.c    one step: the decision, the poll, what it did; the step and starvation limits
 *   det_finish.c  the end of a run: tasks left alive, the record written or published
 *
 * Callers: runtime.c (weft__det_new, install, the sched ops), the task machinery through
 * schedule(), hooks.c and failure.c through det_int.h.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <unistd.h>

#include "det_int.h"
#include "simnet/simnet.h"

/* ---------------------------------------------------------------- failures */

void weft__det_fail(weft__det *d, int kind, const char *sig, const char *fmt, ...)
{
    if (d->rec->outcome != WEFT__OUT_OK)
        return;
    char msg[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    weft__det_record_fail(d->rec, kind, d->step, sig, "%s", msg);
    d->stopping = true;
}

/* ---------------------------------------------------------------- block_on */

static int det_block_on(weft__sched *s, weft_future *fut)
{
    weft__det *d = (weft__det *)s;
    if (weft__tls.rt || d->in_block_on)
        return WEFT_EBUSY;
    if (!pthread_equal(pthread_self(), d->owner))
        return WEFT_EBUSY; /* the deterministic scheduler runs on the thread that built it */
    if (d->stopping)
        return WEFT_ESHUTDOWN;

    weft__thread_ctx saved = weft__tls;
    weft__tls.rt = d->rt;
    weft__tls.sched_local = d;
    weft__tls.task = NULL;
    weft__tls.budget = -1;
    WEFT_HOOK(thread_enter, d->rt, WEFT_THREAD_BLOCK_ON, 0);

    d->in_block_on = true;
    d->root_done = false;
    d->root = weft__det_new_entity(d, NULL);
    int result = 0;
    if (d->root == WEFT__DET_NONE) {
        result = WEFT_ENOMEM;
    } else {
        weft__det_make_runnable(d, d->root);
        for (;;) {
            if (d->root_done)
                break;
            if (d->stopping || atomic_load_explicit(&d->rt->closed, memory_order_acquire)) {
                result = WEFT_ESHUTDOWN;
                break;
            }
            weft__det_settle(d);
            if (d->nrunq == 0) {
                if (!weft__det_advance_time(d)) {
                    result = WEFT_ESHUTDOWN;
                    break;
                }
                continue;
            }
            if (!weft__det_check_limits(d) || !weft__det_run_one(d, fut)) {
                if (!d->root_done)
                    result = WEFT_ESHUTDOWN;
                if (d->root_done && !d->stopping)
                    result = 0;
                break;
            }
        }
        weft__det_entity *root = &d->ent[d->root];
        if (root->runnable) {
            for (uint32_t i = 0; i < d->nrunq; i++)
                if (d->runq[i] == d->root) {
                    weft__det_remove_runnable(d, i);
                    break;
                }
        }
        root->done = true;
    }
    d->in_block_on = false;
    d->root = WEFT__DET_NONE;
    WEFT_HOOK(thread_leave);
    weft__tls = saved;
    if (d->stopping && weft__det_in_forkserver_child()) {
        /* Under `weft explore`: the explorer has what it needs, the rest of the program
         * would only add noise (and time). */
        d->rec->vtime = d->now;
        weft__det_forkserver_publish(d->rec, true);
        _exit(0);
    }
    return d->stopping ? WEFT_ESHUTDOWN : result;
}

static void det_release(weft__det *d)
{
    for (uint32_t i = 0; i < d->nent; i++) {
        if (d->ent[i].task) {
            weft_task *t = d->ent[i].task;
            d->ent[i].task = NULL;
            weft__task_drop_notified(t);
        }
    }
    weft__det_strategy_free(d);
    free(d->ent);
    free(d->map);
    free(d->runq);
    free(d->scratch);
    free(d->ord_key);
    free(d->ord_val);
    free(d->slot_busy);
    free(d->def);
    free(d->holds);
    free(d->out_path);
    weft__simnet_release(d->simnet);
    pthread_mutex_destroy(&d->foreign_lock);
    if (d->root_cell) {
        d->root_cell->d = NULL;
        if (d->root_cell->clones == 0)
            free(d->root_cell);
    }
    if (d->owns_run) {
        weft__det_record_free(&d->own_rec);
        weft__det_record_free(&d->own_replay);
        free(d->own_wishes);
    }
    free(d);
}

static void det_free(weft__sched *s)
{
    weft__det *d = (weft__det *)s;
    if (d->owns_run)
        weft__det_disarm_current(d->run);
    det_release(d);
}

static const weft__sched_ops det_ops = {
    .name = "deterministic",
    .schedule = weft__det_schedule,
    .block_on = det_block_on,
    .shutdown = weft__det_shutdown,
    .free = det_free,
};

/* ---------------------------------------------------------------- creation */

int weft__det_new(weft_runtime *rt)
{
    weft__det_run *run = NULL;
    weft__det_env env;
    int err = weft__det_take_run(&run, &env);
    if (err)
        return err;
    if (!run && !env.owned)
        return 0;

    weft__det *d = calloc(1, sizeof *d);
    if (!d) {
        weft__det_env_free(&env);
        return WEFT_ENOMEM;
    }
    d->base.ops = &det_ops;
    d->base.rt = rt;
    d->clock.now_ns = weft__det_now_ns;
    d->rt = rt;
    d->owner = pthread_self();
    d->cur = WEFT__DET_NONE;
    d->root = WEFT__DET_NONE;
    pthread_mutex_init(&d->foreign_lock, NULL);
    atomic_init(&d->foreign_any, false);
    if (env.owned) {
        /* An environment run: the det owns its config and records. */
        d->owns_run = true;
        d->own_cfg = env.cfg;
        d->own_rec = env.rec;
        d->own_replay = env.replay;
        d->own_wishes = env.wishes;
        d->out_path = env.out_path;
        d->own_cfg.replay = d->own_cfg.strategy == WEFT__DET_REPLAY ? &d->own_replay : NULL;
        if (d->own_cfg.strategy == WEFT__DET_GUIDED) {
            d->own_cfg.guide.rec = &d->own_replay;
            d->own_cfg.guide.wish = d->own_wishes;
        }
        d->own_run.cfg = &d->own_cfg;
        d->own_run.rec = &d->own_rec;
        run = &d->own_run;
    }
    d->run = run;
    run->attached = true;
    d->cfg = run->cfg;
    d->rec = run->rec;
    d->lim = d->cfg->limits;
    weft__det_limits_default(&d->lim);

    weft__det_record *r = d->rec;
    weft__det_record_reset(r);
    r->program = weft__det_str_add(r, d->cfg->program ? d->cfg->program : weft__det_program_name());
    if (d->cfg->strategy_text)
        r->strategy = weft__det_str_add(r, d->cfg->strategy_text);
    else if (d->cfg->strategy == WEFT__DET_REPLAY && d->cfg->replay)
        r->strategy = weft__det_str_add(r, weft__det_str(d->cfg->replay, d->cfg->replay->strategy));
    else if (d->cfg->strategy == WEFT__DET_GUIDED)
        r->strategy = weft__det_str_add(r, "guided");
    else
        r->strategy = weft__det_str_add(r, "fifo");
    r->seed = d->cfg->seed;
    r->limits = d->lim;

    d->nslots = rt->cfg.max_blocking_threads ? rt->cfg.max_blocking_threads : 1;
    if (d->nslots > 4096)
        d->nslots = 4096;
    d->slot_busy = calloc(d->nslots, sizeof *d->slot_busy);
    d->root_cell = calloc(1, sizeof *d->root_cell);
    if (d->root_cell)
        d->root_cell->d = d;
    err = d->slot_busy && d->root_cell ? weft__det_strategy_init(d) : WEFT_ENOMEM;
    if (err) {
        det_release(d);
        return err;
    }
    weft__rand_seed(d->cfg->seed ^ 0x5eed5eed5eed5eedull);
    if (d->owns_run)
        weft__det_set_current(run);
    rt->det = d;
    rt->clock = &d->clock;
    return 0;
}

int weft__det_sched_install(weft_runtime *rt)
{
    rt->sched = &rt->det->base;
    return 0;
}

void weft__det_discard(weft_runtime *rt)
{
    weft__det *d = rt->det;
    rt->det = NULL;
    rt->clock = &weft__real_clock;
    if (d) {
        if (d->owns_run)
            weft__det_disarm_current(d->run);
        det_release(d);
    }
}
