/* console/source.c - live programs and recordings as event sources (source.h).
 *
 * Launching: the child runs with WEFT_TRACE=1 and WEFT_TRACE_WAIT_MS, so that its first
 * runtime waits for us to attach (we see its first spawns) and its exit waits until we drained
 * its rings (we see its last events). Its stdout and stderr go to a log file: they would
 * scribble over the screen otherwise. We reap it as soon as it exits, since a zombie would
 * look alive to the reader.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <weft/error.h>

#include "source.h"
#include "waitgraph.h"

#define LAUNCH_TIMEOUT_MS 10000

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int fail(source *s, int err, const char *fmt, const char *a, const char *b)
{
    snprintf(s->error, sizeof s->error, fmt, a, b);
    return err;
}

/* ---------------------------------------------------------------- recordings */

int source_open_trace(source *s, const char *path)
{
    memset(s, 0, sizeof *s);
    int err = weft_reader_open_trace(path, &s->r);
    if (err < 0) {
        const char *why = weft_reader_open_error();
        if (*why)
            return fail(s, err, "%s%s", why, ""); /* the reader names the file itself */
        return fail(s, err, "%s: %s", path, weft_strerror(err));
    }
    s->kind = SOURCE_TRACE;
    snprintf(s->label, sizeof s->label, "%s", path);
    size_t cap = 0;
    weft_event ev;
    for (;;) {
        int n = weft_reader_next(s->r, &ev);
        if (n < 0) {
            fail(s, n, "%s: %s", path, weft_reader_last_error(s->r));
            weft_reader_close(s->r);
            free(s->evs);
            memset(s, 0, sizeof *s);
            return n;
        }
        if (n == 0)
            break;
        if (s->nev == SOURCE_MAX_EVENTS) {
            s->truncated = true;
            break;
        }
        if (s->nev == cap) {
            size_t nc = cap ? cap * 2 : 4096;
            weft_event *p = realloc(s->evs, nc * sizeof *p);
            if (!p) {
                s->truncated = true;
                break;
            }
            s->evs = p;
            cap = nc;
        }
        ev.text = NULL; /* borrowed from the reader; names come from its tables instead */
        s->evs[s->nev++] = ev;
    }
    return 0;
}

void source_seek(source *s, model *m, size_t cursor)
{
    if (s->kind != SOURCE_TRACE)
        return;
    if (cursor > s->nev)
        cursor = s->nev;
    if (cursor < s->cursor) {
        model_limits l = m->limits;
        model_free(m);
        model_init(m, &l);
        m->names = s->r;
        s->cursor = 0;
    }
    for (; s->cursor < cursor; s->cursor++)
        model_apply(m, &s->evs[s->cursor]);
}

size_t source_find(const source *s, size_t from, int dir, int type)
{
    if (dir > 0) {
        for (size_t i = from; i < s->nev; i++)
            if (s->evs[i].type == type)
                return i;
    } else {
        for (size_t i = from; i-- > 0;)
            if (s->evs[i].type == type)
                return i;
    }
    return (size_t)-1;
}

size_t source_first_deadlock(source *s, model *m)
{
    source_seek(s, m, 0);
    wait_cycle c[1];
    wait_chain ch;
    for (size_t i = 0; i < s->nev; i++) {
        source_seek(s, m, i + 1);
        /* A cycle closes when its last task goes idle while waiting: only then can one
         * appear, and it runs through that task. Following that task's chain is cheap; the
         * full search runs only when the chain loops. */
        const weft_event *ev = &s->evs[i];
        uint64_t task = ev->type == WEFT_EV_task_poll_end   ? ev->u.task_poll_end.task
                        : ev->type == WEFT_EV_task_snapshot ? ev->u.task_snapshot.task
                                                            : 0;
        const model_task *t = task ? model_task_get(m, task) : NULL;
        if (!t || t->state != TASK_IDLE || !model_task_waits(t))
            continue;
        wait_chain_of(m, task, &ch);
        if (ch.end == CHAIN_CYCLE && waitgraph_cycles(m, c, 1) > 0)
            return i + 1;
    }
    return (size_t)-1;
}

size_t source_failure_point(const source *s)
{
    size_t last = source_find(s, s->nev, -1, WEFT_EV_schedule_decision);
    if (last == (size_t)-1)
        return (size_t)-1;
    for (size_t i = last + 1; i < s->nev; i++)
        if (s->evs[i].type == WEFT_EV_task_complete &&
            s->evs[i].u.task_complete.outcome == WEFT_OUTCOME_CANCELLED)
            return i;
    return s->nev;
}

/* ---------------------------------------------------------------- live */

static void program_name(int pid, char *buf, size_t size)
{
    char path[64], exe[256];
    snprintf(path, sizeof path, "/proc/%d/exe", pid);
    ssize_t n = readlink(path, exe, sizeof exe - 1);
    if (n <= 0) {
        snprintf(buf, size, "?");
        return;
    }
    exe[n] = '\0';
    const char *base = strrchr(exe, '/');
    base = base ? base + 1 : exe;
    size_t n2 = strlen(base);
    if (n2 >= size)
        n2 = size - 1;
    memcpy(buf, base, n2);
    buf[n2] = '\0';
}

int source_attach(source *s, int pid, bool takeover)
{
    memset(s, 0, sizeof *s);
    char spid[16];
    snprintf(spid, sizeof spid, "%d", pid);
    if (pid <= 0)
        return fail(s, WEFT_EINVAL, "%s is not a process id%s", spid, "");
    if (kill(pid, 0) != 0 && errno == ESRCH)
        return fail(s, WEFT_EIO, "no process %s%s", spid, "");
    unsigned flags = WEFT_READER_SNAPSHOT | WEFT_READER_SKIP_BACKLOG;
    if (takeover)
        flags |= WEFT_READER_TAKEOVER;
    int err = weft_reader_open_live(pid, flags, &s->r);
    if (err < 0) {
        if (err == WEFT_EIO)
            return fail(s, err,
                        "process %s is not a weft program with tracing on (no /dev/shm/weft-%s: "
                        "start it with WEFT_TRACE=1, or with weft console -- PROGRAM)",
                        spid, spid);
        if (err == WEFT_EBUSY)
            return fail(s, err, "process %s is already watched by another reader (a console "
                        "or weft record): --takeover takes its place%s", spid, "");
        const char *why = weft_reader_open_error();
        return fail(s, err, "cannot attach to process %s: %s", spid,
                    *why ? why : weft_strerror(err));
    }
    s->kind = SOURCE_LIVE;
    s->pid = pid;
    char name[256];
    program_name(pid, name, sizeof name);
    snprintf(s->label, sizeof s->label, "pid %d %s", pid, name);
    return 0;
}

static void describe_status(source *s, int ws)
{
    if (WIFEXITED(ws))
        snprintf(s->end_reason, sizeof s->end_reason, "exited with status %d",
                 WEXITSTATUS(ws));
    else if (WIFSIGNALED(ws))
        snprintf(s->end_reason, sizeof s->end_reason, "killed by signal %d (%s)", WTERMSIG(ws),
                 strsignal(WTERMSIG(ws)));
}

/* Reap our child if it exited; true if it is gone. */
static bool reap(source *s)
{
    if (s->child <= 0)
        return false;
    int ws;
    pid_t p = waitpid(s->child, &ws, WNOHANG);
    if (p == s->child) {
        describe_status(s, ws);
        if (WIFSIGNALED(ws)) {
            /* Killed, it could not remove its segment: we started it, we clean up. Our
             * mapping stays readable, so its last events are still drained. */
            char name[32];
            snprintf(name, sizeof name, "/weft-%d", (int)s->child);
            shm_unlink(name);
        }
        s->child = -1;
        return true;
    }
    return false;
}

int source_launch(source *s, char *const *argv)
{
    memset(s, 0, sizeof *s);
    snprintf(s->log_path, sizeof s->log_path, "/tmp/weft-console-%d.log", (int)getpid());
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0)
        return fail(s, WEFT_EIO, "pipe: %s%s", strerror(errno), "");
    pid_t pid = fork();
    if (pid < 0)
        return fail(s, WEFT_EIO, "fork: %s%s", strerror(errno), "");
    if (pid == 0) {
        close(fds[0]);
        setenv("WEFT_TRACE", "1", 1);
        setenv("WEFT_TRACE_WAIT_MS", "5000", 1);
        int in = open("/dev/null", O_RDONLY);
        int out = open(s->log_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (in >= 0)
            dup2(in, 0);
        if (out >= 0) {
            dup2(out, 1);
            dup2(out, 2);
        }
        execvp(argv[0], argv);
        int e = errno;
        if (write(fds[1], &e, sizeof e) < 0)
            _exit(127);
        _exit(127);
    }
    close(fds[1]);
    int e = 0;
    ssize_t n = read(fds[0], &e, sizeof e);
    close(fds[0]);
    if (n == (ssize_t)sizeof e) {
        waitpid(pid, NULL, 0);
        return fail(s, WEFT_EIO, "cannot run %s: %s", argv[0], strerror(e));
    }
    s->child = pid;
    uint64_t deadline = mono_ms() + LAUNCH_TIMEOUT_MS;
    for (;;) {
        int err = weft_reader_open_live(pid, WEFT_READER_SNAPSHOT, &s->r);
        if (err == 0)
            break;
        if (reap(s)) {
            snprintf(s->error, sizeof s->error,
                     "%s %s before it built a weft runtime: is it a weft program? (its output: "
                     "%s)",
                     argv[0], s->end_reason, s->log_path);
            return WEFT_EIO;
        }
        /* The segment may exist before the program has written its header: retry any
         * error until the deadline, while the program lives. */
        if (mono_ms() > deadline) {
            kill(pid, SIGTERM);
            waitpid(pid, NULL, 0);
            s->child = -1;
            const char *why = weft_reader_open_error();
            return fail(s, err, "cannot attach to %s: %s", argv[0],
                        err == WEFT_EIO ? "it built no weft runtime within 10 s" : why);
        }
        struct timespec ts = {0, 5 * 1000000};
        nanosleep(&ts, NULL);
    }
    s->kind = SOURCE_LIVE;
    s->pid = pid;
    const char *base = strrchr(argv[0], '/');
    snprintf(s->label, sizeof s->label, "pid %d %s", (int)pid, base ? base + 1 : argv[0]);
    return 0;
}

size_t source_pump(source *s, model *m, int budget_ms)
{
    if (s->kind != SOURCE_LIVE || s->ended)
        return 0;
    reap(s);
    uint64_t deadline = mono_ms() + (uint64_t)budget_ms;
    size_t applied = 0;
    weft_event ev;
    for (;;) {
        int n = weft_reader_next(s->r, &ev);
        if (n == 1) {
            model_apply(m, &ev);
            applied++;
            if ((applied & 1023) == 0 && mono_ms() >= deadline)
                break;
            continue;
        }
        if (n == WEFT_EAGAIN)
            break;
        s->ended = true;
        if (n < 0)
            snprintf(s->end_reason, sizeof s->end_reason, "reading stopped: %s",
                     weft_reader_last_error(s->r));
        else if (!s->end_reason[0]) {
            reap(s);
            if (!s->end_reason[0]) /* not our child: its exit status is not ours to know */
                snprintf(s->end_reason, sizeof s->end_reason, "ended");
        }
        break;
    }
    return applied;
}

void source_close(source *s)
{
    if (s->child > 0) {
        /* We started it: do not leave it running behind a closed console. */
        kill(s->child, SIGTERM);
        waitpid(s->child, NULL, 0);
    }
    weft_reader_close(s->r);
    free(s->evs);
    memset(s, 0, sizeof *s);
}
