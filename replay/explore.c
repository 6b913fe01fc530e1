/* replay/explore.c - run a program under many schedules until one fails; then shrink it,
 * write it, check that it replays exactly, and tell its story.
 *
 * The loop hands one configuration per run to a runner (explore_int.h): run i of random and
 * PCT uses seed + i, and so does fifo when asked for more than one run (the schedule is the
 * same every time, the program's weft_rand differs: a lab's random inputs); PCT's k (the
 * length estimate its change points are drawn from) is the longest run seen so far; DFS walks the tree of decisions (below). A progress line shows
 * schedules per second. The first failing run stops the loop:
 *
 *   NAME.failing.schedule   the run as it happened
 *   NAME.shrunk.schedule    after shrink.c, verified by replaying it: the replay must fail the
 *                           same way and record a byte-identical schedule
 *   the story of the shrunk schedule and the command that replays it, on `progress`.
 *
 * Bounded DFS. A run is a path in the tree whose nodes are decisions and whose branches are
 * the indices into the runnable set. Index 0 (the oldest runnable task) costs nothing; any
 * other index is a preemption, and a path may hold at most `bound` of them. The explorer keeps
 * the current path as a stack of frames (runnable count, chosen index, preemptions before);
 * after each run it extends the stack with the run's remaining decisions (all index 0), then
 * backtracks to the deepest frame with an untried index that the bound allows. When the stack
 * empties, every schedule within the bound has been run: "exhausted: N schedules". This
 * relies on the program being deterministic given the decisions, which the scheduler checks
 * (a prefix that no longer fits is reported as nondeterminism).
 *
 * --check-determinism replays every schedule right after it ran, strictly, and compares the
 * two records step by step (the chosen task, the runnable set, what the task did, the virtual
 * time): the first difference is reported with both versions.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "explore_int.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int weft__explore_parse_strategy(const char *s, weft__explore_opts *o, char *err, size_t size)
{
    unsigned long v = 0;
    char *end;
    if (strcmp(s, "fifo") == 0) {
        o->strategy = WEFT__DET_FIFO;
    } else if (strcmp(s, "random") == 0) {
        o->strategy = WEFT__DET_RANDOM;
    } else if (strncmp(s, "pct", 3) == 0 && (s[3] == '\0' || s[3] == ':')) {
        o->strategy = WEFT__DET_PCT;
        o->pct_depth = 3;
        if (s[3] == ':') {
            v = strtoul(s + 4, &end, 10);
            if (!s[4] || *end || v < 1 || v > 64) {
                snprintf(err, size, "'%s': PCT's depth is a number in 1..64", s);
                return WEFT_EINVAL;
            }
            o->pct_depth = (unsigned)v;
        }
    } else if (strncmp(s, "dfs", 3) == 0 && (s[3] == '\0' || s[3] == ':')) {
        o->strategy = WEFT__DET_DFS;
        o->dfs_bound = 2;
        if (s[3] == ':') {
            v = strtoul(s + 4, &end, 10);
            if (!s[4] || *end || v > 1000) {
                snprintf(err, size, "'%s': the DFS preemption bound is a number in 0..1000", s);
                return WEFT_EINVAL;
            }
            o->dfs_bound = (unsigned)v;
        }
    } else {
        snprintf(err, size, "unknown strategy '%s' (fifo, random, pct[:DEPTH], dfs[:BOUND])", s);
        return WEFT_EINVAL;
    }
    o->strategy_text = s;
    return 0;
}

/* ---------------------------------------------------------------- DFS */

bool weft__dfs_next(weft__dfs *t, const weft__det_record *r)
{
    for (uint64_t i = t->depth; i < r->nsteps; i++) {
        if (t->depth == t->cap) {
            size_t cap = t->cap ? t->cap * 2 : 256;
            weft__dfs_frame *f = realloc(t->f, cap * sizeof *f);
            if (!f)
                return false;
            t->f = f;
            t->cap = cap;
        }
        const weft__det_step *s = &r->steps[i];
        uint32_t idx = 0;
        for (uint32_t k = 0; k < s->nrun; k++)
            if (r->runnable[s->run_off + k] == s->chosen)
                idx = k;
        uint32_t pre = t->depth ? t->f[t->depth - 1].pre + (t->f[t->depth - 1].chosen > 0) : 0;
        t->f[t->depth++] = (weft__dfs_frame){s->nrun, idx, pre};
    }
    while (t->depth) {
        weft__dfs_frame *f = &t->f[t->depth - 1];
        uint32_t next = f->chosen + 1;
        if (next < f->n && (f->chosen > 0 || f->pre < t->bound)) {
            f->chosen = next;
            break;
        }
        t->depth--;
    }
    if (!t->depth)
        return false;
    if (t->depth > t->prefix_cap) {
        size_t cap = t->depth * 2;
        uint32_t *p = realloc(t->prefix, cap * sizeof *p);
        if (!p)
            return false;
        t->prefix = p;
        t->prefix_cap = cap;
    }
    for (size_t i = 0; i < t->depth; i++)
        t->prefix[i] = t->f[i].chosen;
    return true;
}

void weft__dfs_free(weft__dfs *t)
{
    free(t->f);
    free(t->prefix);
    memset(t, 0, sizeof *t);
}

/* ---------------------------------------------------------------- the story */

void weft__story(FILE *out, const weft__det_record *r, unsigned max_steps)
{
    char who[256], op[512];
    uint64_t first = r->nsteps > max_steps ? r->nsteps - max_steps : 0;
    if (first)
        fprintf(out, "  ... %llu earlier steps ...\n", (unsigned long long)first);
    for (uint64_t i = first; i < r->nsteps; i++) {
        const weft__det_step *s = &r->steps[i];
        weft__det_task_label(r, s->chosen, who, sizeof who);
        weft__det_step_op_text(r, s, op, sizeof op);
        fprintf(out, "  %3llu  %7.3fms  %s %s", (unsigned long long)i, (double)s->t_ns / 1e6,
                who, op);
        if (s->nrun && r->runnable[s->run_off] != s->chosen)
            fprintf(out, "   <- preemption: T%u was first in line", r->runnable[s->run_off]);
        fputc('\n', out);
    }
    fprintf(out, "  => %s\n", weft__det_outcome_name(r->outcome));
    const char *msg = weft__det_str(r, r->message);
    for (const char *p = msg; *p;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        fprintf(out, "     %.*s\n", (int)n, p);
        p += n + (nl ? 1 : 0);
    }
}

/* ---------------------------------------------------------------- determinism */

/* First difference between two records of the same schedule, or false. */
static bool first_difference(const weft__det_record *a, const weft__det_record *b, char *buf,
                             size_t size)
{
    uint64_t n = a->nsteps < b->nsteps ? a->nsteps : b->nsteps;
    for (uint64_t i = 0; i < n; i++) {
        const weft__det_step *x = &a->steps[i], *y = &b->steps[i];
        bool same = x->chosen == y->chosen && x->nrun == y->nrun && x->op == y->op &&
                    x->res_op == y->res_op && x->t_ns == y->t_ns &&
                    strcmp(weft__det_str(a, x->detail), weft__det_str(b, y->detail)) == 0 &&
                    memcmp(a->runnable + x->run_off, b->runnable + y->run_off,
                           x->nrun * sizeof *a->runnable) == 0;
        if (!same) {
            char o1[256], o2[256], w1[256], w2[256];
            snprintf(buf, size,
                     "step %llu differs:\n  first run:  %s %s (t=%llu ns, %u runnable)\n"
                     "  second run: %s %s (t=%llu ns, %u runnable)",
                     (unsigned long long)i, weft__det_task_label(a, x->chosen, w1, sizeof w1),
                     weft__det_step_op_text(a, x, o1, sizeof o1), (unsigned long long)x->t_ns,
                     x->nrun, weft__det_task_label(b, y->chosen, w2, sizeof w2),
                     weft__det_step_op_text(b, y, o2, sizeof o2), (unsigned long long)y->t_ns,
                     y->nrun);
            return true;
        }
    }
    if (a->nsteps != b->nsteps) {
        snprintf(buf, size, "the first run took %llu steps, the second %llu",
                 (unsigned long long)a->nsteps, (unsigned long long)b->nsteps);
        return true;
    }
    if (a->outcome != b->outcome || a->vtime != b->vtime) {
        snprintf(buf, size, "the runs ended differently: %s at %llu ns, then %s at %llu ns",
                 weft__det_outcome_name(a->outcome), (unsigned long long)a->vtime,
                 weft__det_outcome_name(b->outcome), (unsigned long long)b->vtime);
        return true;
    }
    return false;
}

/* ---------------------------------------------------------------- the loop */

static void progress_line(const weft__explore_opts *o, uint64_t n, double t0, bool final)
{
    if (!o->progress)
        return;
    double dt = now_s() - t0;
    fprintf(o->progress, "%sexplore: %llu schedules in %.1f s (%.0f/s), strategy %s%s",
            o->progress_tty ? "\r\033[K" : "", (unsigned long long)n, dt,
            dt > 0 ? (double)n / dt : 0.0, o->strategy_text ? o->strategy_text : "?",
            final || !o->progress_tty ? "\n" : "");
    fflush(o->progress);
}

static void write_schedule(const weft__explore_opts *o, const weft__det_record *r,
                           const char *suffix, char *path, size_t size)
{
    path[0] = '\0';
    if (!o->out_dir)
        return;
    mkdir(o->out_dir, 0777);
    const char *name = o->program ? o->program : "program";
    char p[512];
    snprintf(p, sizeof p, "%s/%s.%s.schedule", o->out_dir, name, suffix);
    if (weft__det_write_path(r, p) == 0)
        snprintf(path, size, "%s", p);
    else if (o->progress)
        fprintf(o->progress, "explore: could not write %s\n", p);
}

static void fill_result(weft_explore_result *res, const weft__det_record *r)
{
    snprintf(res->kind, sizeof res->kind, "%s", weft__det_outcome_name(r->outcome));
    snprintf(res->summary, sizeof res->summary, "%s", weft__det_str(r, r->message));
}

int weft__explore(const weft__explore_opts *o, weft__det_runner *runner, weft_explore_result *res)
{
    memset(res, 0, sizeof *res);
    weft__det_config cfg = {0};
    cfg.strategy = o->strategy;
    cfg.pct_depth = o->pct_depth;
    cfg.dfs_bound = o->dfs_bound;
    cfg.limits = o->limits;
    weft__det_limits_default(&cfg.limits);
    cfg.allow_alive = o->allow_alive;
    cfg.program = o->program;
    cfg.strategy_text = o->strategy_text;
    cfg.seed = o->seed;

    weft__det_record rec, again, shrunk;
    if (weft__det_record_init(&rec) || weft__det_record_init(&again) ||
        weft__det_record_init(&shrunk)) {
        weft__det_record_free(&rec);
        weft__det_record_free(&again);
        return WEFT_ENOMEM;
    }
    weft__dfs tree = {.bound = o->dfs_bound};
    uint64_t longest = 0;
    uint64_t limit = o->iterations ? o->iterations : (o->time_limit_s > 0 ? UINT64_MAX : 1000);
    if (o->strategy == WEFT__DET_FIFO && !o->iterations)
        limit = 1; /* fifo has one schedule */
    double t0 = now_s(), last_progress = t0;
    bool failed = false;
    int rc = 0;
    uint64_t i = 0;
    for (; i < limit; i++) {
        if (o->time_limit_s > 0 && now_s() - t0 > o->time_limit_s)
            break;
        if (o->strategy == WEFT__DET_RANDOM || o->strategy == WEFT__DET_PCT ||
            o->strategy == WEFT__DET_FIFO)
            cfg.seed = o->seed + i;
        if (o->strategy == WEFT__DET_PCT)
            cfg.pct_steps = longest ? longest : 64;
        if (o->strategy == WEFT__DET_DFS) {
            cfg.prefix = tree.prefix;
            cfg.prefix_len = i ? tree.depth : 0;
        }
        bool want = o->strategy == WEFT__DET_DFS || o->check_determinism;
        if ((rc = runner->run(runner->self, &cfg, want, &rec)) != 0)
            break;
        res->schedules++;
        if (rec.nsteps > longest)
            longest = rec.nsteps;
        if (rec.outcome == WEFT__OUT_OK && o->check_determinism) {
            weft__det_config rc2 = cfg;
            rc2.strategy = WEFT__DET_REPLAY;
            rc2.replay = &rec;
            rc2.prefix = NULL;
            rc2.prefix_len = 0;
            rc2.seed = rec.seed;
            if ((rc = runner->run(runner->self, &rc2, true, &again)) != 0)
                break;
            char diff[2048];
            if (again.outcome == WEFT__OUT_DIVERGED) {
                weft__det_record_fail(&rec, WEFT__OUT_NONDETERMINISM, rec.nsteps, "replay",
                                      "the same schedule ran differently the second time "
                                      "(uncontrolled nondeterminism: real time, rand(), "
                                      "threads?):\n%s",
                                      weft__det_str(&again, again.message));
            } else if (first_difference(&rec, &again, diff, sizeof diff)) {
                weft__det_record_fail(&rec, WEFT__OUT_NONDETERMINISM, rec.nsteps, "replay",
                                      "the same schedule ran differently the second time "
                                      "(uncontrolled nondeterminism: real time, rand(), "
                                      "threads?): %s",
                                      diff);
            }
        }
        if (rec.outcome != WEFT__OUT_OK) {
            failed = true;
            break;
        }
        if (o->strategy == WEFT__DET_DFS && !weft__dfs_next(&tree, &rec)) {
            res->exhausted = true;
            i++;
            break;
        }
        double t = now_s();
        if (o->progress && o->progress_tty && t - last_progress > 0.25) {
            progress_line(o, res->schedules, t0, false);
            last_progress = t;
        }
    }
    res->seconds = now_s() - t0;
    progress_line(o, res->schedules, t0, true);
    if (rc)
        goto out;

    if (!failed) {
        if (o->progress) {
            if (res->exhausted)
                fprintf(o->progress, "exhausted: %llu schedules (every schedule with at most %u "
                                     "preemption%s), no failure\n",
                        (unsigned long long)res->schedules, o->dfs_bound,
                        o->dfs_bound == 1 ? "" : "s");
            else
                fprintf(o->progress, "no failure in %llu schedules (%.2f s)\n",
                        (unsigned long long)res->schedules, res->seconds);
        }
        goto out;
    }

    res->failed = true;
    fill_result(res, &rec);
    res->failing_steps = rec.nsteps;
    res->failing_preemptions = rec.preemptions;
    write_schedule(o, &rec, "failing", res->failing_path, sizeof res->failing_path);

    /* Shrink, then replay the result to prove it reproduces exactly. */
    const weft__det_record *final = &rec;
    bool replayable = rec.nsteps > 0 && rec.outcome != WEFT__OUT_NONDETERMINISM &&
                      rec.outcome != WEFT__OUT_CRASH && rec.outcome != WEFT__OUT_NO_RUNTIME;
    if (!o->no_shrink && replayable) {
        char text[96];
        snprintf(text, sizeof text, "shrunk:%s", o->strategy_text ? o->strategy_text : "?");
        weft__det_config base = cfg;
        base.strategy_text = text;
        base.prefix = NULL;
        base.prefix_len = 0;
        uint64_t runs = weft__shrink(runner, &base, &rec, &shrunk, o->shrink_budget, 30.0);
        if (shrunk.nsteps && weft__same_failure(&shrunk, &rec))
            final = &shrunk;
        if (o->progress)
            fprintf(o->progress, "shrunk: %llu -> %llu preemptions, %llu -> %llu steps (%llu "
                                 "runs)\n",
                    (unsigned long long)rec.preemptions,
                    (unsigned long long)final->preemptions, (unsigned long long)rec.nsteps,
                    (unsigned long long)final->nsteps, (unsigned long long)runs);
    }
    res->shrunk_steps = final->nsteps;
    res->shrunk_preemptions = final->preemptions;
    if (final != &rec)
        fill_result(res, final);
    write_schedule(o, final, "shrunk", res->shrunk_path, sizeof res->shrunk_path);

    if (replayable) {
        weft__det_config rc2 = cfg;
        rc2.strategy = WEFT__DET_REPLAY;
        rc2.replay = final;
        rc2.prefix = NULL;
        rc2.prefix_len = 0;
        rc2.seed = final->seed;
        rc2.strategy_text = weft__det_str(final, final->strategy);
        char *t1 = NULL, *t2 = NULL;
        size_t l1 = 0, l2 = 0;
        bool exact = runner->run(runner->self, &rc2, true, &again) == 0 &&
                     weft__same_failure(&again, final) &&
                     weft__det_write_mem(final, &t1, &l1) == 0 &&
                     weft__det_write_mem(&again, &t2, &l2) == 0 && l1 == l2 &&
                     memcmp(t1, t2, l1) == 0;
        free(t1);
        free(t2);
        if (o->progress)
            fprintf(o->progress, "replay check: %s\n",
                    exact ? "the shrunk schedule replays to a byte-identical schedule"
                          : "the shrunk schedule did NOT replay identically");
        if (!exact && final != &rec) {
            /* Fall back to the unshrunk schedule rather than hand out one that does not
             * reproduce. */
            final = &rec;
            res->shrunk_steps = rec.nsteps;
            res->shrunk_preemptions = rec.preemptions;
            fill_result(res, &rec);
            write_schedule(o, final, "shrunk", res->shrunk_path, sizeof res->shrunk_path);
        }
    }

    if (o->progress) {
        fprintf(o->progress, "\nfound %s after %llu schedule%s in %.2f s\n",
                weft__det_outcome_name(final->outcome), (unsigned long long)res->schedules,
                res->schedules == 1 ? "" : "s", res->seconds);
        fprintf(o->progress, "\nthe %s schedule (%llu steps, %llu preemption%s):\n",
                final == &rec ? "failing" : "shrunk", (unsigned long long)final->nsteps,
                (unsigned long long)final->preemptions, final->preemptions == 1 ? "" : "s");
        weft__story(o->progress, final, 60);
        if (runner->output) {
            size_t n = 0;
            char *text = runner->output(runner->self, &n);
            if (text && n) {
                fprintf(o->progress, "\nthe program's output in the last run:\n%.*s%s",
                        (int)(n > 4000 ? 4000 : n), text, text[n - 1] == '\n' ? "" : "\n");
            }
            free(text);
        }
        if (res->failing_path[0])
            fprintf(o->progress, "\nfailing schedule: %s\n", res->failing_path);
        if (res->shrunk_path[0]) {
            fprintf(o->progress, "shrunk schedule:  %s\n", res->shrunk_path);
            if (o->replay_cmd) {
                fprintf(o->progress, "replay it with:   ");
                fprintf(o->progress, o->replay_cmd, res->shrunk_path);
                fputc('\n', o->progress);
            }
        }
    }
out:
    weft__dfs_free(&tree);
    weft__det_record_free(&rec);
    weft__det_record_free(&again);
    weft__det_record_free(&shrunk);
    return rc;
}

/* ---------------------------------------------------------------- in-process */

typedef struct inproc {
    int (*body)(void *arg);
    void *arg;
} inproc;

static int inproc_run(void *self, const weft__det_config *cfg, bool want_record,
                      weft__det_record *rec)
{
    (void)want_record;
    inproc *ip = self;
    weft__det_record_reset(rec);
    weft__det_run run = {.cfg = cfg, .rec = rec};
    weft__det_arm(&run);
    int rc = ip->body(ip->arg);
    weft__det_disarm();
    if (!run.attached)
        weft__det_record_fail(rec, WEFT__OUT_NO_RUNTIME, 0, "",
                              "the function never built a weft runtime");
    else if (rc != 0)
        weft__det_record_fail(rec, WEFT__OUT_EXIT, rec->nsteps, "",
                              "the function returned %d after a run that was otherwise fine", rc);
    return 0;
}

static void opts_from_public(const weft_explore_opts *p, weft__explore_opts *o)
{
    memset(o, 0, sizeof *o);
    o->program = p->program;
    o->seed = p->seed;
    o->iterations = p->iterations;
    o->time_limit_s = p->time_limit_s;
    o->out_dir = p->out_dir;
    o->no_shrink = p->no_shrink;
    o->check_determinism = p->check_determinism;
    o->allow_alive = p->allow_alive;
    o->limits.max_steps = p->max_steps;
    o->limits.max_vtime = p->max_vtime;
    o->limits.starvation = p->starvation;
    o->progress = p->progress;
}

int weft_explore(const weft_explore_opts *opts, int (*body)(void *arg), void *arg,
                 weft_explore_result *res)
{
    if (!opts || !body || !res || !opts->program)
        return WEFT_EINVAL;
    weft__explore_opts o;
    opts_from_public(opts, &o);
    char err[256];
    int rc = weft__explore_parse_strategy(opts->strategy ? opts->strategy : "random", &o, err,
                                          sizeof err);
    if (rc) {
        memset(res, 0, sizeof *res);
        snprintf(res->summary, sizeof res->summary, "%s", err);
        return rc;
    }
    inproc ip = {body, arg};
    weft__det_runner runner = {.run = inproc_run, .output = NULL, .self = &ip};
    return weft__explore(&o, &runner, res);
}

int weft_replay_file(const char *path, const char *program, bool tolerant,
                     int (*body)(void *arg), void *arg, weft_explore_result *res)
{
    if (!path || !body || !res)
        return WEFT_EINVAL;
    memset(res, 0, sizeof *res);
    weft__det_record sched, rec;
    if (weft__det_record_init(&sched) || weft__det_record_init(&rec)) {
        weft__det_record_free(&sched);
        return WEFT_ENOMEM;
    }
    int rc = weft__det_parse_path(&sched, path, program, res->summary, sizeof res->summary);
    if (rc == 0) {
        weft__det_config cfg = {0};
        cfg.strategy = WEFT__DET_REPLAY;
        cfg.replay = &sched;
        cfg.tolerant = tolerant;
        cfg.fallback = WEFT__DET_FIFO;
        cfg.seed = sched.seed;
        cfg.limits = sched.limits;
        cfg.program = program ? program : weft__det_str(&sched, sched.program);
        cfg.strategy_text = weft__det_str(&sched, sched.strategy);
        inproc ip = {body, arg};
        inproc_run(&ip, &cfg, true, &rec);
        res->schedules = 1;
        res->failed = rec.outcome != WEFT__OUT_OK;
        res->failing_steps = res->shrunk_steps = rec.nsteps;
        res->failing_preemptions = res->shrunk_preemptions = rec.preemptions;
        fill_result(res, &rec);
    }
    weft__det_record_free(&sched);
    weft__det_record_free(&rec);
    return rc;
}
