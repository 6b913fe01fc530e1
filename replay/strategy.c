/* replay/strategy.c - who runs next: fifo, random, PCT, DFS prefixes, replay, guided.
 *
 * The scheduler (det_sched.c) calls weft__det_strategy_choose once per step with the
 * runnable set in d->runq, oldest first, and runs the task at the index it returns.
 *
 *   fifo    index 0: the order a plain run queue gives. Deterministic, no preemptions.
 *   random  uniform over the runnable tasks, from the run's seed.
 *   pct     Burckhardt, Kothari, Musuvathi and Nagarakatte's probabilistic concurrency
 *           testing (ASPLOS 2010): every task gets a random priority when it appears (all
 *           above d); the highest-priority runnable task always runs; at d - 1 change points,
 *           drawn uniformly from the first k steps, the task about to run drops to priority
 *           d - i, below every initial one. A bug of depth d (d ordering constraints) is found
 *           with probability at least 1 / (n k^(d-1)) per run for n tasks and k steps.
 *           k is an estimate: the explorer passes the longest run it has seen.
 *   dfs     follow the prefix of choice indices the explorer computed (explore.c enumerates
 *           the tree of decisions up to a preemption bound), then index 0.
 *   replay  the task the schedule chose at this step, after checking that the runnable set is
 *           the recorded one; after the poll, that the task did what it did then. A mismatch
 *           is a divergence: strict replays stop, tolerant ones go on with a fallback.
 *   guided  the shrinker's: prefer the tasks of a wish list (see det_int.h), else index 0.
 *
 * Tasks of a followed schedule are matched by identity (name, file, func, ordinal) when they
 * are spawned (weft__det_strategy_new_entity), never by id or alias.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "det_int.h"

static uint64_t rng_next(uint64_t *s)
{
    uint64_t x = (*s += 0x9E3779B97F4A7C15u);
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9u;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBu;
    return x ^ (x >> 31);
}

static uint64_t rng_below(uint64_t *s, uint64_t n)
{
    return (uint64_t)(((unsigned __int128)rng_next(s) * n) >> 64);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

int weft__det_strategy_init(weft__det *d)
{
    const weft__det_config *c = d->cfg;
    d->active = c->strategy;
    d->rng = c->seed * 0xD1B54A32D192ED03ull + 0x8BB84B93962EACC9ull;
    d->pct_nchange = 0;
    d->pct_next = 0;
    d->guide_pos = 0;
    d->diverged = false;
    if (c->strategy == WEFT__DET_PCT) {
        unsigned depth = c->pct_depth ? c->pct_depth : 1;
        uint64_t k = c->pct_steps ? c->pct_steps : 1;
        d->pct_nchange = depth - 1;
        if (d->pct_nchange) {
            d->pct_change = malloc(d->pct_nchange * sizeof *d->pct_change);
            if (!d->pct_change)
                return WEFT_ENOMEM;
            for (unsigned i = 0; i < d->pct_nchange; i++)
                d->pct_change[i] = rng_below(&d->rng, k);
            qsort(d->pct_change, d->pct_nchange, sizeof *d->pct_change, cmp_u64);
        }
    }
    d->follow = c->strategy == WEFT__DET_REPLAY ? c->replay
                : c->strategy == WEFT__DET_GUIDED ? c->guide.rec
                                                  : NULL;
    if ((c->strategy == WEFT__DET_REPLAY || c->strategy == WEFT__DET_GUIDED) && !d->follow)
        return WEFT_EINVAL;
    if (d->follow) {
        d->follow_tasks = d->follow->ntasks;
        d->live_of = malloc((d->follow_tasks + 1) * sizeof *d->live_of);
        if (!d->live_of)
            return WEFT_ENOMEM;
        memset(d->live_of, 0xff, (d->follow_tasks + 1) * sizeof *d->live_of);
    }
    return 0;
}

void weft__det_strategy_free(weft__det *d)
{
    free(d->pct_change);
    free(d->live_of);
    d->pct_change = NULL;
    d->live_of = NULL;
}

void weft__det_strategy_new_entity(weft__det *d, uint32_t e)
{
    if (d->cfg->strategy == WEFT__DET_PCT) {
        unsigned depth = d->cfg->pct_depth ? d->cfg->pct_depth : 1;
        d->ent[e].prio = ((uint64_t)depth << 40) + (rng_next(&d->rng) & ((1ull << 40) - 1));
    }
    if (d->follow) {
        /* The index is a cache that the record builds on first use; the record is not
         * otherwise changed, so sharing one across runs is fine. */
        uint32_t f = weft__det_record_find_task((weft__det_record *)d->follow, d->rec, e);
        if (f != WEFT__DET_NONE && f < d->follow_tasks && d->live_of[f] == WEFT__DET_NONE)
            d->live_of[f] = e;
    }
}

/* ---------------------------------------------------------------- PCT */

static uint32_t pct_top(const weft__det *d)
{
    uint32_t best = 0;
    for (uint32_t i = 1; i < d->nrunq; i++) {
        const weft__det_entity *a = &d->ent[d->runq[i]], *b = &d->ent[d->runq[best]];
        if (a->prio > b->prio)
            best = i;
    }
    return best;
}

static uint32_t pct_choose(weft__det *d)
{
    unsigned depth = d->cfg->pct_depth ? d->cfg->pct_depth : 1;
    while (d->pct_next < d->pct_nchange && d->pct_change[d->pct_next] <= d->step) {
        uint32_t top = pct_top(d);
        d->ent[d->runq[top]].prio = depth - 1 - d->pct_next; /* below every initial priority */
        d->pct_next++;
    }
    return pct_top(d);
}

/* ---------------------------------------------------------------- following a record */

static uint32_t index_in_runq(const weft__det *d, uint32_t e)
{
    if (e == WEFT__DET_NONE)
        return WEFT__DET_NONE;
    for (uint32_t i = 0; i < d->nrunq; i++)
        if (d->runq[i] == e)
            return i;
    return WEFT__DET_NONE;
}

/* "T1 transfer (two_lock.c:88 #1), T2 ..." for the runnable set now. */
static void live_runnable_text(const weft__det *d, char *buf, size_t size)
{
    size_t len = 0;
    buf[0] = '\0';
    for (uint32_t i = 0; i < d->nrunq && len + 8 < size; i++) {
        char who[256];
        len += (size_t)snprintf(buf + len, size - len, "%s%s", i ? ", " : "",
                                weft__det_task_label(d->rec, d->runq[i], who, sizeof who));
    }
    if (len >= size)
        buf[size - 1] = '\0';
}

static void recorded_runnable_text(const weft__det_record *f, const weft__det_step *s, char *buf,
                                   size_t size)
{
    size_t len = 0;
    buf[0] = '\0';
    for (uint32_t i = 0; i < s->nrun && len + 8 < size; i++) {
        char who[256];
        len += (size_t)snprintf(buf + len, size - len, "%s%s", i ? ", " : "",
                                weft__det_task_label(f, f->runnable[s->run_off + i], who,
                                                     sizeof who));
    }
    if (len >= size)
        buf[size - 1] = '\0';
}

/* A replay could not follow. Strict: record the divergence and stop. Tolerant: say so once and
 * let the fallback strategy decide from here on. */
static void diverge(weft__det *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void diverge(weft__det *d, const char *fmt, ...)
{
    char msg[3072];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (d->cfg->tolerant) {
        d->diverged = true;
        d->active = d->cfg->fallback;
        fprintf(stderr,
                "weft replay: %s\nweft replay: --tolerant: the first %llu steps matched; "
                "continuing with %s\n",
                msg, (unsigned long long)(d->cur == WEFT__DET_NONE && d->step ? d->step - 1
                                                                               : d->step),
                d->active == WEFT__DET_RANDOM ? "random" : "fifo");
        return;
    }
    weft__det_fail(d, WEFT__OUT_DIVERGED, "", "%s", msg);
}

static uint32_t replay_choose(weft__det *d)
{
    const weft__det_record *f = d->follow;
    if (d->step >= f->nsteps) {
        diverge(d,
                "replay diverged at step %llu: the schedule ends after %llu steps, but the "
                "program goes on (it recorded: %s)",
                (unsigned long long)d->step, (unsigned long long)f->nsteps,
                f->outcome == WEFT__OUT_OK ? "ok" : weft__det_outcome_name(f->outcome));
        return 0;
    }
    const weft__det_step *fs = &f->steps[d->step];
    uint32_t chosen = fs->chosen < d->follow_tasks ? d->live_of[fs->chosen] : WEFT__DET_NONE;
    uint32_t idx = index_in_runq(d, chosen);
    bool same_set = fs->nrun == d->nrunq;
    for (uint32_t i = 0; same_set && i < fs->nrun; i++) {
        uint32_t a = f->runnable[fs->run_off + i];
        uint32_t live = a < d->follow_tasks ? d->live_of[a] : WEFT__DET_NONE;
        if (index_in_runq(d, live) == WEFT__DET_NONE)
            same_set = false;
    }
    if (idx != WEFT__DET_NONE && same_set)
        return idx;

    char who[256], op[256], now[1024], then[1024];
    weft__det_task_label(f, fs->chosen, who, sizeof who);
    weft__det_step_op_text(f, fs, op, sizeof op);
    live_runnable_text(d, now, sizeof now);
    recorded_runnable_text(f, fs, then, sizeof then);
    diverge(d,
            "replay diverged at step %llu (virtual time %llu ms):\n"
            "  the schedule runs %s, which then %s\n"
            "  %s\n"
            "  runnable now:      %s\n"
            "  runnable recorded: %s",
            (unsigned long long)d->step, (unsigned long long)(d->now / 1000000u), who, op,
            idx == WEFT__DET_NONE ? "but that task is not runnable now"
                                  : "and it is runnable, but the runnable set differs",
            now, then);
    return d->cfg->tolerant ? weft__det_strategy_choose(d) : 0;
}

bool weft__det_strategy_check_step(weft__det *d, const weft__det_step *done)
{
    if (d->cfg->strategy != WEFT__DET_REPLAY || d->diverged || d->stopping)
        return true;
    const weft__det_record *f = d->follow;
    uint64_t i = d->step - 1;
    if (i >= f->nsteps)
        return true;
    const weft__det_step *fs = &f->steps[i];
    bool same = fs->op == done->op;
    if (same && done->op == WEFT__OP_WAIT)
        same = fs->res_op == done->res_op &&
               strcmp(weft__det_str(f, fs->detail), weft__det_str(d->rec, done->detail)) == 0;
    if (same)
        return true;
    char who[256], want[256], got[256];
    weft__det_task_label(d->rec, done->chosen, who, sizeof who);
    weft__det_step_op_text(f, fs, want, sizeof want);
    weft__det_step_op_text(d->rec, done, got, sizeof got);
    diverge(d,
            "replay diverged at step %llu (virtual time %llu ms): %s\n"
            "  recorded: %s\n"
            "  now:      %s",
            (unsigned long long)i, (unsigned long long)(done->t_ns / 1000000u), who, want, got);
    return d->cfg->tolerant;
}

/* ---------------------------------------------------------------- guided (shrinking) */

static uint32_t guided_choose(weft__det *d)
{
    const weft__det_guide *g = &d->cfg->guide;
    if (!g->explicit_order) {
        while (d->guide_pos < g->n && g->wish[d->guide_pos].at < d->step)
            d->guide_pos++;
        if (d->guide_pos < g->n && g->wish[d->guide_pos].at == d->step) {
            uint32_t t = g->wish[d->guide_pos].task;
            uint32_t idx = index_in_runq(d, t < d->follow_tasks ? d->live_of[t] : WEFT__DET_NONE);
            if (idx != WEFT__DET_NONE)
                return idx;
        }
        return 0;
    }
    while (d->guide_pos < g->n) {
        uint32_t t = g->wish[d->guide_pos].task;
        uint32_t live = t < d->follow_tasks ? d->live_of[t] : WEFT__DET_NONE;
        if (live != WEFT__DET_NONE && d->ent[live].done) {
            d->guide_pos++;
            continue;
        }
        uint32_t idx = index_in_runq(d, live);
        if (idx != WEFT__DET_NONE) {
            d->guide_pos++;
            d->guide_followed++;
            return idx;
        }
        /* Its turn, but it is not runnable (or not spawned yet). A root future is never in
         * a guide (traces do not poll block_on's future as a task): run it first if it can. */
        uint32_t root = d->in_block_on ? index_in_runq(d, d->root) : WEFT__DET_NONE;
        if (root != WEFT__DET_NONE)
            return root;
        if (!d->guide_departed) {
            d->guide_departed = true;
            d->depart_step = d->step;
            d->depart_wish = d->guide_pos;
            d->depart_ran = d->runq[0];
        }
        return 0;
    }
    return 0;
}

/* ---------------------------------------------------------------- the choice */

uint32_t weft__det_strategy_choose(weft__det *d)
{
    uint32_t n = d->nrunq;
    switch (d->active) {
    case WEFT__DET_FIFO:
        return 0;
    case WEFT__DET_RANDOM:
        return n > 1 ? (uint32_t)rng_below(&d->rng, n) : 0;
    case WEFT__DET_PCT:
        return pct_choose(d);
    case WEFT__DET_DFS:
        if (d->step < d->cfg->prefix_len) {
            uint32_t c = d->cfg->prefix[d->step];
            if (c >= n) {
                weft__det_fail(d, WEFT__OUT_NONDETERMINISM, "dfs",
                               "the program does not replay deterministically: at step %llu "
                               "an earlier run had at least %u runnable tasks, this one has "
                               "%u (something outside weft's control, such as real time, "
                               "rand() or a thread, changed the run)",
                               (unsigned long long)d->step, c + 1, n);
                return 0;
            }
            return c;
        }
        return 0;
    case WEFT__DET_REPLAY:
        return replay_choose(d);
    case WEFT__DET_GUIDED:
        return guided_choose(d);
    }
    return 0;
}
