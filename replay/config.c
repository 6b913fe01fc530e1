/* replay/config.c - how a runtime learns it should be deterministic, and with what.
 *
 * Three sources, in order (weft__det_take_run):
 *   1. the fork server of `weft explore` (forkserver.c), which arms a run in each child;
 *   2. a run armed on this thread by weft_explore / weft_replay_file (explore.c);
 *   3. the environment, for a plain program run:
 *        WEFT_SCHED            fifo | random:SEED | pct:SEED:DEPTH[:K] | dfs:BOUND | replay:FILE
 *                              | guide:FILE (follow FILE's decisions as wishes, in order: the
 *                              linearised trace of `weft replay --trace`)
 *        WEFT_SCHED_LIMITS     steps=N,vtime=DURATION,starvation=N  (e.g. vtime=10s)
 *        WEFT_SCHEDULE_OUT     write the run's schedule to this file when it ends
 *        WEFT_SCHED_TOLERANT   replay: on divergence continue with fifo ("1") or random
 *        WEFT_SCHED_STEP       replay: stop before every decision (weft replay --step)
 *        WEFT_SCHED_VERBOSE    print the outcome of the run to stderr even when it is ok
 *        WEFT_SCHED_ALLOW_ALIVE  tasks alive at shutdown are not a failure
 * The environment is read when each runtime is built, so every runtime of the program becomes
 * deterministic; a malformed value makes weft_runtime_new fail with a message on stderr rather
 * than run the program some other way than asked.
 *
 * Also here: the run armed on this thread, the run "current" in the process (weft_assert after
 * the runtime stopped reports into it), and the program's name.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "det_int.h"

static _Thread_local weft__det_run *armed;
static weft__det_run *current;

void weft__det_arm(weft__det_run *run)
{
    armed = run;
    current = run;
}

void weft__det_disarm(void)
{
    armed = NULL;
    current = NULL;
}

weft__det_run *weft__det_current_run(void)
{
    return current;
}

void weft__det_set_current(weft__det_run *run)
{
    current = run;
}

void weft__det_disarm_current(weft__det_run *run)
{
    if (current == run)
        current = NULL;
}

/* ---------------------------------------------------------------- the program's name */

const char *weft__det_program_name(void)
{
    static char name[256];
    if (name[0])
        return name;
    char path[4096];
    ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
    const char *base = "program";
    if (n > 0) {
        path[n] = '\0';
        const char *slash = strrchr(path, '/');
        base = slash ? slash + 1 : path;
    } else {
        extern char *program_invocation_short_name;
        if (program_invocation_short_name && *program_invocation_short_name)
            base = program_invocation_short_name;
    }
    /* libtool-style wrappers name the real binary lt-NAME. */
    if (strncmp(base, "lt-", 3) == 0 && base[3])
        base += 3;
    size_t n0 = strlen(base);
    if (n0 >= sizeof name)
        n0 = sizeof name - 1;
    memcpy(name, base, n0);
    name[n0] = '\0';
    return name;
}

/* ---------------------------------------------------------------- parsing values */

static bool parse_u64(const char *s, const char *end, uint64_t *out)
{
    if (s == end)
        return false;
    uint64_t v = 0;
    for (const char *p = s; p < end; p++) {
        if (!isdigit((unsigned char)*p))
            return false;
        unsigned d = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

/* "250ms", "10s", "2m", "1h", "500us", "100ns", or plain milliseconds. */
static bool parse_duration(const char *s, const char *end, uint64_t *ns)
{
    const char *p = s;
    while (p < end && isdigit((unsigned char)*p))
        p++;
    uint64_t v;
    if (!parse_u64(s, p, &v))
        return false;
    size_t ul = (size_t)(end - p);
    uint64_t mult;
    if (ul == 0 || (ul == 2 && strncmp(p, "ms", 2) == 0))
        mult = 1000000u;
    else if (ul == 1 && *p == 's')
        mult = 1000000000u;
    else if (ul == 1 && *p == 'm')
        mult = 60000000000ull;
    else if (ul == 1 && *p == 'h')
        mult = 3600000000000ull;
    else if (ul == 2 && strncmp(p, "us", 2) == 0)
        mult = 1000u;
    else if (ul == 2 && strncmp(p, "ns", 2) == 0)
        mult = 1u;
    else
        return false;
    if (v > UINT64_MAX / mult)
        return false;
    *ns = v * mult;
    return true;
}

void weft__det_limits_default(weft__det_limits *l)
{
    if (!l->max_steps)
        l->max_steps = WEFT__DET_DEFAULT_STEPS;
    if (!l->max_vtime)
        l->max_vtime = WEFT__DET_DEFAULT_VTIME;
    if (!l->starvation)
        l->starvation = WEFT__DET_DEFAULT_STARVATION;
}

int weft__det_parse_limits(const char *text, weft__det_limits *l, char *err, size_t size)
{
    const char *p = text;
    while (*p) {
        const char *comma = strchr(p, ',');
        const char *end = comma ? comma : p + strlen(p);
        const char *eq = memchr(p, '=', (size_t)(end - p));
        bool ok = false;
        if (eq) {
            size_t kl = (size_t)(eq - p);
            if (kl == 5 && strncmp(p, "steps", 5) == 0)
                ok = parse_u64(eq + 1, end, &l->max_steps);
            else if (kl == 5 && strncmp(p, "vtime", 5) == 0)
                ok = parse_duration(eq + 1, end, &l->max_vtime);
            else if (kl == 10 && strncmp(p, "starvation", 10) == 0)
                ok = parse_u64(eq + 1, end, &l->starvation);
        }
        if (!ok) {
            snprintf(err, size,
                     "bad limit '%.*s' (expected steps=N, vtime=DURATION such as 10s or "
                     "500ms, starvation=N, separated by commas)",
                     (int)(end - p), p);
            return WEFT_EINVAL;
        }
        p = comma ? comma + 1 : end;
    }
    return 0;
}

/* Split "a:b:c" into at most `max` fields; returns the count or -1 for too many. */
static int split(const char *s, const char **f, const char **e, int max)
{
    int n = 0;
    for (;;) {
        if (n == max)
            return -1;
        f[n] = s;
        const char *c = strchr(s, ':');
        e[n] = c ? c : s + strlen(s);
        n++;
        if (!c)
            return n;
        s = c + 1;
    }
}

int weft__det_parse_spec(const char *spec, weft__det_config *cfg, const char **replay_path,
                         char *err, size_t err_size)
{
    static const char usage[] =
        "expected fifo, random:SEED, pct:SEED:DEPTH, dfs:BOUND or replay:FILE";
    *replay_path = NULL;
    if (strncmp(spec, "guide:", 6) == 0) {
        if (!spec[6]) {
            snprintf(err, err_size, "'guide:' needs a schedule file");
            return WEFT_EINVAL;
        }
        cfg->strategy = WEFT__DET_GUIDED;
        cfg->guide.explicit_order = true;
        *replay_path = spec + 6;
        return 0;
    }
    if (strncmp(spec, "replay:", 7) == 0) {
        if (!spec[7]) {
            snprintf(err, err_size, "'replay:' needs a schedule file");
            return WEFT_EINVAL;
        }
        cfg->strategy = WEFT__DET_REPLAY;
        *replay_path = spec + 7;
        return 0;
    }
    const char *f[5], *e[5];
    int n = split(spec, f, e, 5);
    if (n < 0) {
        snprintf(err, err_size, "'%s': too many fields; %s", spec, usage);
        return WEFT_EINVAL;
    }
    size_t kl = (size_t)(e[0] - f[0]);
    uint64_t v[4] = {0, 0, 0, 0};
    for (int i = 1; i < n; i++) {
        if (!parse_u64(f[i], e[i], &v[i - 1])) {
            snprintf(err, err_size, "'%s': '%.*s' is not a number; %s", spec,
                     (int)(e[i] - f[i]), f[i], usage);
            return WEFT_EINVAL;
        }
    }
    if (kl == 4 && strncmp(spec, "fifo", 4) == 0 && n == 1) {
        cfg->strategy = WEFT__DET_FIFO;
        cfg->strategy_text = "fifo";
    } else if (kl == 6 && strncmp(spec, "random", 6) == 0 && n <= 2) {
        cfg->strategy = WEFT__DET_RANDOM;
        cfg->seed = v[0];
        cfg->strategy_text = "random";
    } else if (kl == 3 && strncmp(spec, "pct", 3) == 0 && n <= 4) {
        cfg->strategy = WEFT__DET_PCT;
        cfg->seed = v[0];
        cfg->pct_depth = n >= 3 ? (unsigned)v[1] : 3;
        cfg->pct_steps = n >= 4 ? v[2] : 100;
        if (cfg->pct_depth == 0 || cfg->pct_depth > 64 || cfg->pct_steps == 0) {
            snprintf(err, err_size, "'%s': PCT wants a depth in 1..64 and K >= 1", spec);
            return WEFT_EINVAL;
        }
        cfg->strategy_text = "pct";
    } else if (kl == 3 && strncmp(spec, "dfs", 3) == 0 && n <= 2) {
        /* One run of DFS follows the first branch everywhere: it is fifo. The enumeration
         * needs many runs: `weft explore --strategy dfs:BOUND`. */
        cfg->strategy = WEFT__DET_DFS;
        cfg->dfs_bound = n == 2 ? (unsigned)v[0] : 2;
        cfg->strategy_text = "dfs";
    } else {
        snprintf(err, err_size, "'%s': unknown strategy; %s", spec, usage);
        return WEFT_EINVAL;
    }
    return 0;
}

/* ---------------------------------------------------------------- the environment */

static bool env_flag(const char *name)
{
    const char *v = getenv(name);
    return v && *v && strcmp(v, "0") != 0;
}

static int from_environment(const char *spec, weft__det_env *env)
{
    char err[1024];
    const char *replay_path;
    weft__det_config *cfg = &env->cfg;
    memset(cfg, 0, sizeof *cfg);
    int rc = weft__det_parse_spec(spec, cfg, &replay_path, err, sizeof err);
    if (rc) {
        fprintf(stderr, "weft: WEFT_SCHED=%s: %s\n", spec, err);
        return rc;
    }
    const char *lim = getenv("WEFT_SCHED_LIMITS");
    if (lim && *lim && (rc = weft__det_parse_limits(lim, &cfg->limits, err, sizeof err))) {
        fprintf(stderr, "weft: WEFT_SCHED_LIMITS=%s: %s\n", lim, err);
        return rc;
    }
    if (weft__det_record_init(&env->rec) || weft__det_record_init(&env->replay))
        return WEFT_ENOMEM;
    if (replay_path) {
        rc = weft__det_parse_path(&env->replay, replay_path, weft__det_program_name(), err,
                                  sizeof err);
        if (rc) {
            fprintf(stderr, "weft: cannot replay %s: %s\n", replay_path, err);
            return rc;
        }
        if (cfg->strategy == WEFT__DET_GUIDED) {
            env->wishes = malloc((env->replay.nsteps + 1) * sizeof *env->wishes);
            if (!env->wishes)
                return WEFT_ENOMEM;
            for (uint64_t i = 0; i < env->replay.nsteps; i++)
                env->wishes[i] = (weft__det_wish){i, env->replay.steps[i].chosen};
            cfg->guide.n = env->replay.nsteps;
            cfg->guide.wish = env->wishes;
        }
        /* The replay recreates the recorded run: its seed (weft_rand) and limits. */
        cfg->seed = env->replay.seed;
        if (!lim || !*lim)
            cfg->limits = env->replay.limits;
        cfg->strategy_text = NULL; /* filled from the file below, once it is ours */
        const char *tol = getenv("WEFT_SCHED_TOLERANT");
        cfg->tolerant = env_flag("WEFT_SCHED_TOLERANT");
        cfg->fallback = tol && strcmp(tol, "random") == 0 ? WEFT__DET_RANDOM : WEFT__DET_FIFO;
        cfg->step_mode = env_flag("WEFT_SCHED_STEP");
        cfg->verbose = true;
    }
    cfg->allow_alive = env_flag("WEFT_SCHED_ALLOW_ALIVE");
    cfg->verbose = cfg->verbose || env_flag("WEFT_SCHED_VERBOSE");
    const char *out = getenv("WEFT_SCHEDULE_OUT");
    if (out && *out && !(env->out_path = strdup(out)))
        return WEFT_ENOMEM;
    env->owned = true;
    return 0;
}

void weft__det_env_free(weft__det_env *env)
{
    if (!env->owned && !env->rec.str && !env->replay.str && !env->out_path && !env->wishes)
        return;
    weft__det_record_free(&env->rec);
    weft__det_record_free(&env->replay);
    free(env->wishes);
    free(env->out_path);
    memset(env, 0, sizeof *env);
}

int weft__det_take_run(weft__det_run **run, weft__det_env *env)
{
    memset(env, 0, sizeof *env);
    *run = NULL;
    int rc = weft__det_forkserver_maybe();
    if (rc)
        return rc;
    if (armed) {
        *run = armed;
        armed = NULL;
        return 0;
    }
    const char *spec = getenv("WEFT_SCHED");
    if (!spec || !*spec)
        return 0;
    rc = from_environment(spec, env);
    if (rc) {
        weft__det_env_free(env);
        return rc;
    }
    return 0;
}
