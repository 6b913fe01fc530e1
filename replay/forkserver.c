/* replay/forkserver.c - one process per schedule, without an exec per schedule.
 *
 * `weft explore -- PROGRAM ARGS` must run the program thousands of times, each under another
 * schedule, from a clean state. Exec'ing it each time would cost milliseconds; instead the
 * program is started once with WEFT_FORKSERVER in its environment, and the first time it
 * builds a runtime (weft_runtime_new -> weft__det_new -> weft__det_take_run) it turns into a
 * *fork server*: it waits for requests, and for each one forks a child that returns from
 * weft_runtime_new with a deterministic runtime configured by the request, and runs the rest
 * of the program. The server itself never leaves weft_runtime_new.
 *
 *     weft explore (client)            program (server)              child (one per run)
 *     ─────────────────────            ────────────────              ───────────────────
 *     request -> shm, 'R' -> ctl  ───▶ fork() ─────────────────────▶ runs the program under
 *                                      waitpid()                      the requested schedule,
 *     status <- st           ◀──────── status -> st                   record -> shm, exits
 *     record <- shm
 *
 * Shared memory (a memfd mapped by both sides): a header, the request (the configuration as
 * fixed fields, a DFS prefix, a shrinking guide, a schedule to follow as text) and the response
 * (the child's record as schedule text, or only its outcome counters when the client did not
 * ask for the record). The child's stdout and stderr go to a second memfd that the server
 * empties before each run, so that the client can show the output of the failing run.
 *
 * The client enforces a wall-clock timeout per run (a poll that never returns cannot be
 * preempted in C): it kills the child, whose pid the server publishes in the header.
 *
 * Persistent mode (weft_sched_main). A fork costs a few hundred microseconds on a small VM,
 * which caps one-child-per-schedule at a few thousand schedules per second. A program whose
 * work is a re-runnable function can hand it to weft_sched_main; the server then forks a
 * child that runs the function for up to PERSISTENT_RUNS requests in a row, exactly like the
 * in-process explorer does, and only forks again when that child ends (or dies: a crash is
 * reported for the request it was running, flagged in the header).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "det_int.h"
#include "explore_int.h"

#define FS_MAGIC 0x77656674u /* "weft" */
#define FS_PROTOCOL 1
#define FS_SHM_SIZE ((size_t)64 << 20)
#define FS_REQ_OFF ((size_t)4096)
#define FS_REQ_CAP ((size_t)24 << 20)
#define FS_RSP_OFF (FS_REQ_OFF + FS_REQ_CAP)
#define FS_RSP_CAP (FS_SHM_SIZE - FS_RSP_OFF)

#define PERSISTENT_RUNS 1000
#define EXIT_CLIENT_GONE 99 /* a persistent child's exit status when the client left */

typedef struct fs_header {
    uint32_t magic, protocol;
    char program[256];          /* server: the program's name */
    _Atomic int32_t child;      /* server: pid of the running child, 0 between runs */
    _Atomic uint32_t in_flight; /* persistent child: a request is being run */
    uint64_t req_len;           /* client: bytes of request at FS_REQ_OFF */
    /* Child: the response. state 0 = nothing yet, 1 = published. */
    _Atomic uint32_t rsp_state;
    uint32_t rsp_outcome;
    uint64_t rsp_len;           /* bytes of schedule text at FS_RSP_OFF (0: counters only) */
    uint64_t rsp_steps, rsp_preemptions, rsp_vtime;
    char rsp_message[1024];     /* the outcome's message when there is no record */
} fs_header;

/* The request's fixed part, followed by prefix[prefix_len] (u32), wish[nwish], follow text. */
typedef struct fs_request {
    uint32_t strategy, pct_depth, dfs_bound, tolerant, fallback, allow_alive, want_record,
        explicit_order;
    uint64_t seed, pct_steps, max_steps, max_vtime, starvation;
    uint64_t prefix_len, nwish, follow_len;
    char strategy_text[64];
} fs_request;

/* ---------------------------------------------------------------- the program's side */

static bool in_child;
static bool persistent;          /* the children run weft_sched_main's function in a loop */
static int (*persistent_body)(void *);
static void *persistent_arg;
static fs_header *child_shm;
static weft__det_config child_cfg;
static weft__det_record child_rec, child_follow;
static weft__det_run child_run;
static uint32_t *child_prefix;
static weft__det_wish *child_wish;
static bool child_want_record;
static bool child_published;

bool weft__det_in_forkserver_child(void)
{
    /* A persistent child reports after each call of the function, not from the scheduler. */
    return in_child && !persistent;
}

void weft__det_forkserver_publish(const weft__det_record *rec, bool final)
{
    (void)final;
    if (!in_child || !child_shm)
        return;
    fs_header *h = child_shm;
    h->rsp_outcome = (uint32_t)rec->outcome;
    h->rsp_steps = rec->nsteps;
    h->rsp_preemptions = rec->preemptions;
    h->rsp_vtime = rec->vtime;
    snprintf(h->rsp_message, sizeof h->rsp_message, "%s", weft__det_str(rec, rec->message));
    h->rsp_len = 0;
    if (child_want_record || rec->outcome != WEFT__OUT_OK) {
        char *buf;
        size_t len;
        if (weft__det_write_mem(rec, &buf, &len) == 0) {
            if (len <= FS_RSP_CAP) {
                memcpy((char *)h + FS_RSP_OFF, buf, len);
                h->rsp_len = len;
            }
            free(buf);
        }
    }
    atomic_store_explicit(&h->rsp_state, 1, memory_order_release);
    child_published = true;
}

static void child_atexit(void)
{
    /* The program ended without shutting its runtime down: publish what we have. */
    if (!child_published && child_run.rec)
        weft__det_forkserver_publish(child_run.rec, true);
}

/* In the child: turn the request into an armed run. */
static int child_setup(fs_header *h)
{
    const char *req = (const char *)h + FS_REQ_OFF;
    fs_request q;
    if (h->req_len < sizeof q || h->req_len > FS_REQ_CAP)
        return WEFT_EINVAL;
    memcpy(&q, req, sizeof q);
    size_t need = sizeof q + q.prefix_len * sizeof(uint32_t) + q.nwish * sizeof(weft__det_wish) +
                  q.follow_len;
    if (need != h->req_len)
        return WEFT_EINVAL;
    const char *p = req + sizeof q;
    memset(&child_cfg, 0, sizeof child_cfg);
    child_cfg.strategy = (weft__det_strategy)q.strategy;
    child_cfg.seed = q.seed;
    child_cfg.pct_depth = q.pct_depth;
    child_cfg.pct_steps = q.pct_steps;
    child_cfg.dfs_bound = q.dfs_bound;
    child_cfg.tolerant = q.tolerant;
    child_cfg.fallback = (weft__det_strategy)q.fallback;
    child_cfg.allow_alive = q.allow_alive;
    child_cfg.limits.max_steps = q.max_steps;
    child_cfg.limits.max_vtime = q.max_vtime;
    child_cfg.limits.starvation = q.starvation;
    q.strategy_text[sizeof q.strategy_text - 1] = '\0';
    static char strategy_text[64];
    memcpy(strategy_text, q.strategy_text, sizeof strategy_text);
    child_cfg.strategy_text = strategy_text[0] ? strategy_text : NULL;
    child_want_record = q.want_record;
    free(child_prefix);
    free(child_wish);
    child_prefix = NULL;
    child_wish = NULL;
    if (q.prefix_len) {
        child_prefix = malloc(q.prefix_len * sizeof *child_prefix);
        if (!child_prefix)
            return WEFT_ENOMEM;
        memcpy(child_prefix, p, q.prefix_len * sizeof *child_prefix);
        p += q.prefix_len * sizeof *child_prefix;
        child_cfg.prefix = child_prefix;
        child_cfg.prefix_len = q.prefix_len;
    }
    if (q.nwish) {
        child_wish = malloc(q.nwish * sizeof *child_wish);
        if (!child_wish)
            return WEFT_ENOMEM;
        memcpy(child_wish, p, q.nwish * sizeof *child_wish);
        p += q.nwish * sizeof *child_wish;
    }
    if (!child_rec.str && weft__det_record_init(&child_rec))
        return WEFT_ENOMEM;
    if (!child_follow.str && weft__det_record_init(&child_follow))
        return WEFT_ENOMEM;
    weft__det_record_reset(&child_rec);
    weft__det_record_reset(&child_follow);
    if (q.follow_len) {
        char err[512];
        if (weft__det_parse(&child_follow, p, q.follow_len, NULL, "request", err, sizeof err)) {
            fprintf(stderr, "weft fork server: bad schedule in request: %s\n", err);
            return WEFT_EINVAL;
        }
        if (child_cfg.strategy == WEFT__DET_REPLAY)
            child_cfg.replay = &child_follow;
        child_cfg.guide.rec = &child_follow;
        child_cfg.guide.wish = child_wish;
        child_cfg.guide.n = q.nwish;
        child_cfg.guide.explicit_order = q.explicit_order;
    }
    child_run = (weft__det_run){.cfg = &child_cfg, .rec = &child_rec};
    weft__det_arm(&child_run);
    static bool at_exit;
    if (!persistent && !at_exit) {
        atexit(child_atexit);
        at_exit = true;
    }
    return 0;
}

static bool read_full(int fd, void *buf, size_t n)
{
    char *p = buf;
    while (n) {
        ssize_t r = read(fd, p, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return false;
        p += r;
        n -= (size_t)r;
    }
    return true;
}

static bool write_full(int fd, const void *buf, size_t n)
{
    const char *p = buf;
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

/* A persistent child: run requests until PERSISTENT_RUNS, or until the client leaves. */
static void persistent_child(fs_header *h, int ctl, int st)
{
    for (int n = 0; n < PERSISTENT_RUNS; n++) {
        char cmd;
        if (!read_full(ctl, &cmd, 1) || cmd == 'Q')
            _exit(EXIT_CLIENT_GONE);
        atomic_store(&h->in_flight, 1);
        atomic_store(&h->rsp_state, 0);
        h->rsp_len = 0;
        if (ftruncate(1, 0) == 0)
            (void)lseek(1, 0, SEEK_SET);
        if (child_setup(h) != 0)
            _exit(4);
        child_published = false;
        int rc = persistent_body(persistent_arg);
        weft__det_disarm();
        /* The same verdicts as the in-process runner (explore.c). */
        if (!child_run.attached)
            weft__det_record_fail(&child_rec, WEFT__OUT_NO_RUNTIME, 0, "",
                                  "the function never built a weft runtime");
        else if (rc != 0)
            weft__det_record_fail(&child_rec, WEFT__OUT_EXIT, child_rec.nsteps, "",
                                  "the function returned %d after a run that was otherwise fine",
                                  rc);
        weft__det_forkserver_publish(&child_rec, true);
        fflush(stdout);
        fflush(stderr);
        atomic_store(&h->in_flight, 0);
        int32_t status = 0; /* a wait status meaning "exited 0" */
        if (!write_full(st, &status, sizeof status))
            _exit(EXIT_CLIENT_GONE);
    }
    _exit(0);
}

/* The persistent server: keep one child alive; report the request a dying child was running. */
static void persistent_server(fs_header *h, int ctl, int st, int shm, int out)
{
    for (;;) {
        fflush(stdout);
        fflush(stderr);
        atomic_store(&h->in_flight, 0);
        pid_t pid = fork();
        if (pid == 0) {
            in_child = true;
            child_shm = h;
            dup2(out, 1);
            dup2(out, 2);
            close(out);
            close(shm);
            persistent_child(h, ctl, st);
        }
        if (pid < 0)
            _exit(3);
        atomic_store(&h->child, pid);
        int ws;
        while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
            ;
        atomic_store(&h->child, 0);
        if (WIFEXITED(ws) && WEXITSTATUS(ws) == EXIT_CLIENT_GONE)
            _exit(0);
        if (atomic_load(&h->in_flight)) {
            int32_t status = ws;
            if (!write_full(st, &status, sizeof status))
                _exit(0);
        }
    }
}

int weft_sched_main(int (*body)(void *arg), void *arg)
{
    const char *spec = getenv("WEFT_FORKSERVER");
    if (!spec || !*spec || in_child)
        return body(arg);
    persistent = true;
    persistent_body = body;
    persistent_arg = arg;
    int rc = weft__det_forkserver_maybe(); /* does not return when it serves */
    return rc ? 2 : body(arg);
}

int weft__det_forkserver_maybe(void)
{
    static bool checked;
    if (checked || in_child)
        return 0;
    checked = true;
    const char *spec = getenv("WEFT_FORKSERVER");
    if (!spec || !*spec)
        return 0;
    int ctl = -1, st = -1, shm = -1, out = -1;
    if (sscanf(spec, "%d,%d,%d,%d", &ctl, &st, &shm, &out) != 4 || ctl < 0 || st < 0 ||
        shm < 0 || out < 0) {
        fprintf(stderr, "weft: WEFT_FORKSERVER=%s: malformed (set by weft explore)\n", spec);
        return WEFT_EINVAL;
    }
    unsetenv("WEFT_FORKSERVER"); /* the children's own children are ordinary programs */
    fs_header *h = mmap(NULL, FS_SHM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, shm, 0);
    if (h == MAP_FAILED || h->magic != FS_MAGIC) {
        fprintf(stderr, "weft: fork server: cannot map the explorer's shared memory\n");
        return WEFT_EINVAL;
    }
    if (h->protocol != FS_PROTOCOL) {
        fprintf(stderr, "weft: fork server: this program's weft speaks protocol %d, the "
                        "explorer %u: rebuild the program against the same weft\n",
                FS_PROTOCOL, h->protocol);
        _exit(3);
    }
    snprintf(h->program, sizeof h->program, "%s", weft__det_program_name());
    char ready = 'R';
    if (!write_full(st, &ready, 1))
        _exit(0);
    if (persistent)
        persistent_server(h, ctl, st, shm, out);
    for (;;) {
        char cmd;
        if (!read_full(ctl, &cmd, 1) || cmd == 'Q')
            _exit(0);
        if (ftruncate(out, 0) == 0)
            (void)lseek(out, 0, SEEK_SET);
        atomic_store(&h->rsp_state, 0);
        h->rsp_len = 0;
        fflush(stdout);
        fflush(stderr);
        pid_t pid = fork();
        if (pid == 0) {
            in_child = true;
            child_shm = h;
            close(ctl);
            close(st);
            dup2(out, 1);
            dup2(out, 2);
            close(out);
            close(shm);
            int rc = child_setup(h);
            if (rc)
                _exit(4);
            return 0; /* on into weft_runtime_new, deterministic now */
        }
        int32_t status;
        if (pid < 0) {
            status = -1;
        } else {
            atomic_store(&h->child, pid);
            int ws;
            while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
                ;
            atomic_store(&h->child, 0);
            status = ws;
        }
        if (!write_full(st, &status, sizeof status))
            _exit(0);
    }
}

/* ---------------------------------------------------------------- the explorer's side */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int weft__fs_start(weft__fs_client *c, char *const *argv, char *err, size_t err_size)
{
    memset(c, 0, sizeof *c);
    c->ctl_w = c->st_r = c->shm_fd = c->out_fd = -1;
    /* A server that died makes writes to its pipe fail with EPIPE instead of killing us. */
    signal(SIGPIPE, SIG_IGN);
    c->timeout_s = 10.0;
    int ctl[2] = {-1, -1}, st[2] = {-1, -1};
    c->shm_fd = memfd_create("weft-explore", 0);
    c->out_fd = memfd_create("weft-explore-output", 0);
    if (c->shm_fd < 0 || c->out_fd < 0 || ftruncate(c->shm_fd, (off_t)FS_SHM_SIZE) != 0 ||
        pipe(ctl) != 0 || pipe(st) != 0) {
        snprintf(err, err_size, "cannot set up the fork server: %s", strerror(errno));
        goto fail;
    }
    c->shm = mmap(NULL, FS_SHM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, c->shm_fd, 0);
    if (c->shm == MAP_FAILED) {
        c->shm = NULL;
        snprintf(err, err_size, "cannot map shared memory: %s", strerror(errno));
        goto fail;
    }
    fs_header *h = c->shm;
    h->magic = FS_MAGIC;
    h->protocol = FS_PROTOCOL;
    char spec[64];
    snprintf(spec, sizeof spec, "%d,%d,%d,%d", ctl[0], st[1], c->shm_fd, c->out_fd);
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, err_size, "fork: %s", strerror(errno));
        goto fail;
    }
    if (pid == 0) {
        close(ctl[1]);
        close(st[0]);
        setenv("WEFT_FORKSERVER", spec, 1);
        unsetenv("WEFT_SCHED");
        /* The program's own output before its first runtime goes where the runs' goes. */
        dup2(c->out_fd, 1);
        execvp(argv[0], argv);
        fprintf(stderr, "weft explore: cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(ctl[0]);
    close(st[1]);
    c->server = pid;
    c->ctl_w = ctl[1];
    c->st_r = st[0];
    char ready;
    if (!read_full(c->st_r, &ready, 1) || ready != 'R') {
        int ws = 0;
        waitpid(pid, &ws, 0);
        c->server = 0;
        size_t n = 0;
        char *out = weft__fs_output(c, &n);
        snprintf(err, err_size,
                 "%s %s before it built a weft runtime: is it a weft program?%s%.*s", argv[0],
                 WIFSIGNALED(ws) ? "was killed" : "exited", n ? " Its output:\n" : "",
                 (int)(n > 2000 ? 2000 : n), out ? out : "");
        free(out);
        goto fail_fds;
    }
    snprintf(c->program, sizeof c->program, "%s", h->program);
    return 0;
fail:
    if (ctl[0] >= 0)
        close(ctl[0]);
    if (st[1] >= 0)
        close(st[1]);
    if (ctl[1] >= 0 && c->ctl_w < 0)
        close(ctl[1]);
    if (st[0] >= 0 && c->st_r < 0)
        close(st[0]);
fail_fds:
    weft__fs_stop(c);
    return WEFT_EIO;
}

void weft__fs_stop(weft__fs_client *c)
{
    if (c->ctl_w >= 0) {
        char q = 'Q';
        (void)write_full(c->ctl_w, &q, 1);
        close(c->ctl_w);
        c->ctl_w = -1;
    }
    if (c->server > 0) {
        int ws;
        waitpid(c->server, &ws, 0);
        c->server = 0;
    }
    if (c->st_r >= 0)
        close(c->st_r);
    c->st_r = -1;
    if (c->shm)
        munmap(c->shm, FS_SHM_SIZE);
    c->shm = NULL;
    if (c->shm_fd >= 0)
        close(c->shm_fd);
    if (c->out_fd >= 0)
        close(c->out_fd);
    c->shm_fd = c->out_fd = -1;
}

char *weft__fs_output(weft__fs_client *c, size_t *len)
{
    *len = 0;
    struct stat sb;
    if (c->out_fd < 0 || fstat(c->out_fd, &sb) != 0)
        return NULL;
    size_t n = (size_t)sb.st_size;
    char *buf = malloc(n + 1);
    if (!buf)
        return NULL;
    ssize_t got = pread(c->out_fd, buf, n, 0);
    n = got > 0 ? (size_t)got : 0;
    buf[n] = '\0';
    *len = n;
    return buf;
}

int weft__fs_run(weft__fs_client *c, const weft__det_config *cfg, bool want_record,
                 weft__det_record *rec)
{
    fs_header *h = c->shm;
    char *req = (char *)h + FS_REQ_OFF;
    fs_request q = {0};
    q.strategy = cfg->strategy;
    q.pct_depth = cfg->pct_depth;
    q.dfs_bound = cfg->dfs_bound;
    q.tolerant = cfg->tolerant;
    q.fallback = cfg->fallback;
    q.allow_alive = cfg->allow_alive;
    q.want_record = want_record;
    q.explicit_order = cfg->guide.explicit_order;
    q.seed = cfg->seed;
    q.pct_steps = cfg->pct_steps;
    q.max_steps = cfg->limits.max_steps;
    q.max_vtime = cfg->limits.max_vtime;
    q.starvation = cfg->limits.starvation;
    snprintf(q.strategy_text, sizeof q.strategy_text, "%s",
             cfg->strategy_text ? cfg->strategy_text : "");
    const weft__det_record *follow = cfg->strategy == WEFT__DET_REPLAY ? cfg->replay
                                     : cfg->strategy == WEFT__DET_GUIDED ? cfg->guide.rec
                                                                         : NULL;
    char *ftext = NULL;
    size_t flen = 0;
    if (follow && weft__det_write_mem(follow, &ftext, &flen) != 0)
        return WEFT_ENOMEM;
    q.prefix_len = cfg->prefix_len;
    q.nwish = cfg->strategy == WEFT__DET_GUIDED ? cfg->guide.n : 0;
    q.follow_len = flen;
    size_t total = sizeof q + q.prefix_len * sizeof(uint32_t) +
                   q.nwish * sizeof(weft__det_wish) + flen;
    if (total > FS_REQ_CAP) {
        free(ftext);
        return WEFT_ENOMEM;
    }
    char *p = req;
    memcpy(p, &q, sizeof q);
    p += sizeof q;
    if (q.prefix_len) {
        memcpy(p, cfg->prefix, q.prefix_len * sizeof(uint32_t));
        p += q.prefix_len * sizeof(uint32_t);
    }
    if (q.nwish) {
        memcpy(p, cfg->guide.wish, q.nwish * sizeof(weft__det_wish));
        p += q.nwish * sizeof(weft__det_wish);
    }
    if (flen)
        memcpy(p, ftext, flen);
    free(ftext);
    h->req_len = total;

    char cmd = 'R';
    if (!write_full(c->ctl_w, &cmd, 1))
        return WEFT_EIO;
    int32_t status = 0;
    double deadline = now_s() + c->timeout_s;
    bool killed = false;
    for (;;) {
        struct pollfd pfd = {.fd = c->st_r, .events = POLLIN};
        double left = deadline - now_s();
        int ms = killed ? -1 : left > 0 ? (int)(left * 1000) + 1 : 0;
        int rc = poll(&pfd, 1, ms);
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc > 0) {
            if (!read_full(c->st_r, &status, sizeof status))
                return WEFT_EIO;
            break;
        }
        if (rc == 0 && !killed) {
            pid_t child = atomic_load(&h->child);
            if (child > 0)
                kill(child, SIGKILL);
            killed = true;
        }
    }

    weft__det_record_reset(rec);
    if (atomic_load_explicit(&h->rsp_state, memory_order_acquire) == 1) {
        if (h->rsp_len) {
            char err[512];
            if (weft__det_parse(rec, (const char *)h + FS_RSP_OFF, h->rsp_len, NULL, "child",
                                err, sizeof err) != 0) {
                weft__det_record_reset(rec);
                weft__det_record_fail(rec, WEFT__OUT_CRASH, 0, "protocol",
                                      "the explorer could not read the child's schedule: %s",
                                      err);
                return 0;
            }
        } else {
            rec->outcome = (int)h->rsp_outcome;
            rec->nsteps = h->rsp_steps;
            rec->preemptions = h->rsp_preemptions;
            rec->vtime = h->rsp_vtime;
            h->rsp_message[sizeof h->rsp_message - 1] = '\0';
            rec->message = weft__det_str_add(rec, h->rsp_message);
        }
    }
    if (killed) {
        weft__det_record_fail(rec, WEFT__OUT_CRASH, 0, "timeout",
                              "the run did not finish within %.0f s of real time and was "
                              "killed (a poll that never returns?)",
                              c->timeout_s);
    } else if (status == -1) {
        weft__det_record_fail(rec, WEFT__OUT_CRASH, 0, "fork", "the fork server could not fork");
    } else if (WIFSIGNALED(status)) {
        rec->exit_status = WTERMSIG(status);
        weft__det_record_fail(rec, WEFT__OUT_CRASH, rec->nsteps, strsignal(WTERMSIG(status)),
                              "the program was killed by signal %d (%s)", WTERMSIG(status),
                              strsignal(WTERMSIG(status)));
    } else if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
        rec->exit_status = WEXITSTATUS(status);
        weft__det_record_fail(rec, WEFT__OUT_EXIT, rec->nsteps, "",
                              "the program exited with status %d", WEXITSTATUS(status));
    } else if (atomic_load(&h->rsp_state) != 1) {
        weft__det_record_fail(rec, WEFT__OUT_NO_RUNTIME, 0, "",
                              "the run ended without a deterministic runtime reporting");
    }
    return 0;
}
