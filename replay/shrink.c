/* replay/shrink.c - make a failing schedule small enough to read.
 *
 * A schedule found by random or PCT exploration usually has many preemptions, most of which
 * do not matter. Two phases, each delta debugging (Zeller and Hildebrandt's ddmin) over a list
 * of "wishes" replayed by the GUIDED strategy:
 *
 *   1. Fewest preemptions. The schedule is seen as FIFO plus a list of deviations (at decision
 *      i, run task X instead of the oldest runnable one). ddmin removes deviations while the
 *      run still fails the same way. After every success the list is re-read from the new
 *      run (removing one deviation can make others moot), so the result is a real run whose
 *      every preemption is needed: removing any one of them makes the failure go away.
 *      ddmin only guarantees that no single deviation can go; a schedule with fewer, different
 *      deviations may exist. So, budget permitting, bounded DFS then looks for the same failure
 *      with 0, 1, ... preemptions, up to one fewer than ddmin's result: for small programs
 *      this proves the count minimal.
 *   2. Fewest steps. The schedule is seen as the ordered list of tasks it ran; removing an
 *      entry postpones that poll. Accepted only when the run fails the same way, with no more
 *      preemptions and strictly fewer steps; this drops polls of tasks that play no part in an
 *      assertion failure, for instance. (A deadlock is only detected once every task has run
 *      to a wait, so its steps rarely shrink: they all matter.)
 *
 * "The same way": the same outcome kind and signature (the assertion's file:line, the
 * resources of a deadlock cycle, ...). The budget bounds the runs: shrinking is best effort
 * and always ends with a failing schedule, at worst the one it started from.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "explore_int.h"

bool weft__same_failure(const weft__det_record *a, const weft__det_record *b)
{
    if (a->outcome != b->outcome)
        return false;
    return strcmp(weft__det_str(a, a->signature), weft__det_str(b, b->signature)) == 0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

typedef struct shrinker {
    weft__det_runner *runner;
    weft__det_config cfg;          /* GUIDED, built from the base configuration */
    const weft__det_record *target;/* the failure to keep */
    weft__det_record best;         /* the smallest failing run so far */
    weft__det_record trial;        /* the run being tried */
    uint64_t runs, budget;
    double deadline;
} shrinker;

static bool out_of_budget(const shrinker *s)
{
    return s->runs >= s->budget || now_s() > s->deadline;
}

/* Run the guide (best's tasks, `wish`); true when it fails like the target (then `trial`
 * holds the run). */
static bool try_guide(shrinker *s, const weft__det_wish *wish, size_t n, bool explicit_order)
{
    s->cfg.guide.rec = &s->best;
    s->cfg.guide.wish = wish;
    s->cfg.guide.n = n;
    s->cfg.guide.explicit_order = explicit_order;
    s->runs++;
    if (s->runner->run(s->runner->self, &s->cfg, true, &s->trial) != 0)
        return false;
    return weft__same_failure(&s->trial, s->target);
}

/* The deviations of a record: (step, chosen) wherever the chosen task was not runnable[0]. */
static size_t deviations(const weft__det_record *r, weft__det_wish **out)
{
    size_t n = 0;
    weft__det_wish *w = malloc((r->preemptions + 1) * sizeof *w);
    if (!w) {
        *out = NULL;
        return 0;
    }
    for (uint64_t i = 0; i < r->nsteps && n < r->preemptions + 1; i++) {
        const weft__det_step *st = &r->steps[i];
        if (st->nrun && r->runnable[st->run_off] != st->chosen)
            w[n++] = (weft__det_wish){i, st->chosen};
    }
    *out = w;
    return n;
}

/* The whole run as an ordered task list. */
static size_t sequence(const weft__det_record *r, weft__det_wish **out)
{
    weft__det_wish *w = malloc((r->nsteps + 1) * sizeof *w);
    *out = w;
    if (!w)
        return 0;
    for (uint64_t i = 0; i < r->nsteps; i++)
        w[i] = (weft__det_wish){i, r->steps[i].chosen};
    return r->nsteps;
}

/* Accept the trial as the new best. */
static bool adopt(shrinker *s)
{
    return weft__det_record_copy(&s->best, &s->trial) == 0;
}

/* ddmin over the current list; `extract` re-reads the list from best after a success;
 * `better` says whether the trial beats best. */
static void ddmin(shrinker *s, bool explicit_order,
                  size_t (*extract)(const weft__det_record *, weft__det_wish **),
                  bool (*better)(const shrinker *))
{
    weft__det_wish *list;
    size_t n = extract(&s->best, &list);
    if (!list)
        return;
    weft__det_wish *cand = malloc((n + 1) * sizeof *cand);
    if (!cand) {
        free(list);
        return;
    }
    /* Nothing at all first: often the failure needs no help from us. */
    if (n && !out_of_budget(s) && try_guide(s, NULL, 0, explicit_order) && better(s) && adopt(s)) {
        free(list);
        free(cand);
        return;
    }
    size_t chunks = 2;
    while (n >= 1 && !out_of_budget(s)) {
        if (chunks > n)
            chunks = n;
        bool reduced = false;
        for (size_t c = 0; c < chunks && !out_of_budget(s); c++) {
            size_t lo = n * c / chunks, hi = n * (c + 1) / chunks;
            size_t k = 0;
            for (size_t i = 0; i < n; i++)
                if (i < lo || i >= hi)
                    cand[k++] = list[i];
            if (try_guide(s, cand, k, explicit_order) && better(s) && adopt(s)) {
                free(list);
                n = extract(&s->best, &list);
                weft__det_wish *nc = list ? realloc(cand, (n + 1) * sizeof *cand) : NULL;
                if (!nc) {
                    free(list);
                    free(cand);
                    return;
                }
                cand = nc;
                chunks = chunks > 2 ? chunks - 1 : 2;
                reduced = true;
                break;
            }
        }
        if (!reduced) {
            if (chunks >= n)
                break;
            chunks = chunks * 2 < n ? chunks * 2 : n;
        }
    }
    free(list);
    free(cand);
}

static bool fewer_preemptions(const shrinker *s)
{
    return s->trial.preemptions < s->best.preemptions ||
           (s->trial.preemptions == s->best.preemptions && s->trial.nsteps < s->best.nsteps);
}

static bool fewer_steps(const shrinker *s)
{
    return s->trial.preemptions <= s->best.preemptions && s->trial.nsteps < s->best.nsteps;
}

/* Iterative deepening: any schedule with fewer preemptions than best that fails the same way. */
static void fewest_by_dfs(shrinker *s)
{
    weft__det_config cfg = s->cfg;
    cfg.strategy = WEFT__DET_DFS;
    for (unsigned bound = 0; bound < s->best.preemptions && !out_of_budget(s); bound++) {
        weft__dfs tree = {.bound = bound};
        cfg.dfs_bound = bound;
        bool more = true;
        for (uint64_t i = 0; more && !out_of_budget(s); i++) {
            cfg.prefix = tree.prefix;
            cfg.prefix_len = i ? tree.depth : 0;
            s->runs++;
            if (s->runner->run(s->runner->self, &cfg, true, &s->trial) != 0)
                break;
            if (weft__same_failure(&s->trial, s->target) &&
                s->trial.preemptions < s->best.preemptions) {
                adopt(s);
                weft__dfs_free(&tree);
                return;
            }
            more = weft__dfs_next(&tree, &s->trial);
        }
        weft__dfs_free(&tree);
    }
}

uint64_t weft__shrink(weft__det_runner *runner, const weft__det_config *base,
                      const weft__det_record *failing, weft__det_record *out, uint64_t budget,
                      double time_limit_s)
{
    shrinker s = {0};
    s.runner = runner;
    s.cfg = *base;
    s.cfg.strategy = WEFT__DET_GUIDED;
    s.cfg.seed = failing->seed;
    s.cfg.prefix = NULL;
    s.cfg.prefix_len = 0;
    s.cfg.replay = NULL;
    s.target = failing;
    s.budget = budget ? budget : 3000;
    s.deadline = now_s() + (time_limit_s > 0 ? time_limit_s : 30.0);
    if (weft__det_record_init(&s.best) || weft__det_record_init(&s.trial) ||
        weft__det_record_copy(&s.best, failing)) {
        weft__det_record_free(&s.best);
        weft__det_record_free(&s.trial);
        weft__det_record_copy(out, failing);
        return 0;
    }
    ddmin(&s, false, deviations, fewer_preemptions);
    fewest_by_dfs(&s);
    ddmin(&s, true, sequence, fewer_steps);
    weft__det_record_copy(out, &s.best);
    weft__det_record_free(&s.best);
    weft__det_record_free(&s.trial);
    return s.runs;
}
