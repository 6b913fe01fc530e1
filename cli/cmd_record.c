/* cli/cmd_record.c - `weft record [-o TRACE.db] -- PROGRAM [ARGS...]`: run a weft program with
 * its event rings on and record every event into a trace database.
 *
 * Three actors:
 *
 *   the program   a child process started with WEFT_TRACE=1 (its first runtime creates the
 *                 segment /weft-<pid>) and WEFT_TRACE_WAIT_MS (it waits for us at its first
 *                 runtime and, at exit, until we drained its rings);
 *   the drainer   this process's main thread: attaches a live reader (reader.h) to the
 *                 segment and packs decoded events into 1 MiB chunks on a queue, as fast as
 *                 the program makes them, so that the rings rarely fill;
 *   the writer    a thread at SCHED_IDLE priority that takes chunks off the queue and feeds
 *                 the recorder (recorder.h), which writes SQLite in batched transactions:
 *                 SQLite gets the CPU time the program and the drainer leave, so it lags
 *                 behind a busy program and catches up when the program idles or ends.
 *
 *   program ──rings──> drainer ──queue of chunks──> writer ──> TRACE.db
 *
 * The queue is bounded (--buffer-mb): when the writer falls that far behind, the drainer
 * stops draining, the program's rings fill up and the program drops events, counting them.
 * So every loss is counted in one place, the rings' counters, and stored as
 * meta.dropped_events.
 *
 * Pacing: when the drainer finds every ring empty it sleeps DRAIN_PAUSE_US before looking
 * again, instead of polling the rings' heads: chasing a busy writer a few records at a time
 * pulls the cache lines it is writing across CPUs and slowed a yield-heavy program down
 * severalfold in measurements (bench/instrument_overhead.sh).
 *
 * The program's end: the reader reports the end once the program has exited and its rings
 * are drained; we reap the child as soon as it exits (a zombie would look alive to the
 * reader). A program killed by SIGKILL leaves its segment behind: we unlink it. If we are
 * killed, the database keeps every batch committed so far (recorder.h).
 *
 * Exit status: the program's (128 + N when signal N killed it), so `weft record -- ./test`
 * fails when the test fails; 1 when recording failed; 2 bad usage; 126 the program cannot
 * be executed, 127 it was not found (as env(1) and timeout(1) do).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <weft/error.h>

#include "../instrument/reader.h"
#include "../instrument/recorder.h"
#include "../instrument/sha256.h"
#include "cli.h"

#define CHUNK_BYTES (1u << 20) /* one chunk of packed events */
#define DEFAULT_BUFFER_MB 1024
#define DRAIN_PAUSE_US 500 /* after the rings were found empty */
#define SPARE_CHUNKS 32    /* chunks kept for reuse */
#define EXIT_CANNOT_EXEC 126
#define EXIT_NOT_FOUND 127

/* ---------------------------------------------------------------- the queue
 *
 * Events travel from the drainer to the writer packed, not as weft_event (104 bytes): a
 * header with the event's context, then its payload (the size the event table gives), then,
 * for a string_def, its text. About 40 bytes for the events that matter for volume, so the
 * drainer writes less than half the memory per event, and the queue holds twice as many. */
typedef struct packed {
    uint64_t ts;
    uint32_t runtime, worker, tid;
    uint16_t type, thread;
    uint8_t thread_kind;
    uint8_t has_text;  /* a text and its NUL follow the payload (string_def) */
    uint16_t text_len; /* bytes of that text, without the NUL */
    /* then the payload (weft_event_desc.payload bytes), then the text, padded to 8 */
} packed;

#define PACKED_MAX (sizeof(packed) + WEFT_EV_MAX_PAYLOAD + WEFT_EV_MAX_TEXT + 8)

typedef struct chunk {
    struct chunk *next;
    size_t used; /* bytes of data[] holding packed events */
    unsigned char data[];
} chunk;

/* Guarded by `lock`; the drainer pushes, the writer pops. */
typedef struct queue {
    pthread_mutex_t lock;
    pthread_cond_t cond; /* signalled on push, pop and close */
    chunk *head, *tail;
    size_t len, max_len, peak_len;
    chunk *spare;        /* chunks the writer is done with, for the drainer to refill: a
                            fresh 450 KiB allocation would be page-faulted in every time */
    size_t nspare;
    bool closed;         /* the drainer pushes nothing more */
    bool failed;         /* the writer gave up (database error): stop draining */
} queue;

static void queue_push(queue *q, chunk *c)
{
    pthread_mutex_lock(&q->lock);
    /* Back-pressure: wait for room rather than drop here (see the top of the file). */
    while (q->len >= q->max_len && !q->failed)
        pthread_cond_wait(&q->cond, &q->lock);
    c->next = NULL;
    if (q->tail)
        q->tail->next = c;
    else
        q->head = c;
    q->tail = c;
    if (++q->len > q->peak_len)
        q->peak_len = q->len;
    pthread_cond_broadcast(&q->cond);
    pthread_mutex_unlock(&q->lock);
}

/* A chunk to fill: a spare one if any, else a new one (NULL when out of memory). */
static chunk *queue_get_empty(queue *q)
{
    pthread_mutex_lock(&q->lock);
    chunk *c = q->spare;
    if (c) {
        q->spare = c->next;
        q->nspare--;
    }
    pthread_mutex_unlock(&q->lock);
    if (!c)
        c = malloc(sizeof *c + CHUNK_BYTES);
    if (c)
        c->used = 0;
    return c;
}

/* Give back a chunk the writer has written; keep a few for reuse. */
static void queue_put_empty(queue *q, chunk *c)
{
    pthread_mutex_lock(&q->lock);
    if (q->nspare < SPARE_CHUNKS) {
        c->next = q->spare;
        q->spare = c;
        q->nspare++;
        c = NULL;
    }
    pthread_mutex_unlock(&q->lock);
    free(c);
}

static void queue_free_spares(queue *q)
{
    while (q->spare) {
        chunk *c = q->spare;
        q->spare = c->next;
        free(c);
    }
    q->nspare = 0;
}

/* The next chunk, waiting up to timeout_ms; NULL on timeout or once closed and empty. */
static chunk *queue_pop(queue *q, int timeout_ms, bool *closed)
{
    pthread_mutex_lock(&q->lock);
    if (!q->head && !q->closed) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += (long)timeout_ms * 1000000L;
        until.tv_sec += until.tv_nsec / 1000000000L;
        until.tv_nsec %= 1000000000L;
        pthread_cond_timedwait(&q->cond, &q->lock, &until);
    }
    chunk *c = q->head;
    if (c) {
        q->head = c->next;
        if (!q->head)
            q->tail = NULL;
        q->len--;
        pthread_cond_broadcast(&q->cond);
    }
    *closed = q->closed && !q->head;
    pthread_mutex_unlock(&q->lock);
    return c;
}

/* ---------------------------------------------------------------- packing */

static size_t round8(size_t n)
{
    return (n + 7) & ~(size_t)7;
}

/* Pack *ev at p (room for PACKED_MAX bytes); returns the bytes used. */
static size_t pack(unsigned char *p, const weft_event *ev)
{
    const weft_event_desc *d = weft_event_desc_of(ev->type);
    size_t payload = d ? d->payload : 0;
    size_t text = ev->text ? strnlen(ev->text, WEFT_EV_MAX_TEXT) : 0;
    packed h = {ev->ts,   ev->runtime,     ev->worker,         ev->tid,       ev->type,
                ev->thread, ev->thread_kind, ev->text != NULL, (uint16_t)text};
    memcpy(p, &h, sizeof h);
    memcpy(p + sizeof h, &ev->u, payload);
    if (!ev->text)
        return round8(sizeof h + payload);
    memcpy(p + sizeof h + payload, ev->text, text);
    p[sizeof h + payload + text] = '\0';
    return round8(sizeof h + payload + text + 1);
}

/* Unpack the event at p into *ev (its text points into p); returns the bytes it took. */
static size_t unpack(const unsigned char *p, weft_event *ev)
{
    packed h;
    memcpy(&h, p, sizeof h);
    const weft_event_desc *d = weft_event_desc_of(h.type);
    size_t payload = d ? d->payload : 0;
    memset(ev, 0, sizeof *ev);
    ev->ts = h.ts;
    ev->runtime = h.runtime;
    ev->worker = h.worker;
    ev->tid = h.tid;
    ev->type = h.type;
    ev->thread = h.thread;
    ev->thread_kind = h.thread_kind;
    memcpy(&ev->u, p + sizeof h, payload);
    if (!h.has_text)
        return round8(sizeof h + payload);
    ev->text = (const char *)p + sizeof h + payload;
    return round8(sizeof h + payload + h.text_len + 1);
}

/* ---------------------------------------------------------------- the writer thread */

typedef struct writer {
    queue *q;
    weft_recorder *rec;
    int err;             /* first recorder error, 0 if none */
} writer;

static void *writer_main(void *arg)
{
    writer *w = arg;
    /* The program and the drainer come first: SQLite gets the CPU time they leave. On a
     * machine with few CPUs this is what keeps the recording from slowing the program down;
     * the queue absorbs what the writer has not written yet. */
    struct sched_param idle = {0};
    pthread_setschedparam(pthread_self(), SCHED_IDLE, &idle);
    for (;;) {
        bool closed;
        chunk *c = queue_pop(w->q, 50, &closed);
        if (c) {
            for (size_t off = 0; off < c->used && !w->err;) {
                weft_event ev;
                off += unpack(c->data + off, &ev);
                w->err = weft_recorder_add(w->rec, &ev);
            }
            if (!w->err)
                w->err = weft_recorder_tick(w->rec);
            queue_put_empty(w->q, c);
        } else if (!w->err) {
            /* Nothing queued: the program is idle, so commit all it did. */
            w->err = weft_recorder_flush(w->rec);
        }
        if (w->err) {
            pthread_mutex_lock(&w->q->lock);
            w->q->failed = true;
            pthread_cond_broadcast(&w->q->cond);
            pthread_mutex_unlock(&w->q->lock);
            /* Keep emptying the queue so that the drainer never waits for room. */
        }
        if (!c && closed)
            return NULL;
    }
}

/* ---------------------------------------------------------------- signals
 *
 * SIGINT, SIGTERM, SIGHUP and SIGQUIT sent to us alone (by kill) are passed on to the
 * program, and we keep recording until it exits; the same signals from the terminal already
 * reach the program, which is in our process group, so they are not passed twice. */
static volatile sig_atomic_t child_pid;

static void forward_signal(int sig, siginfo_t *info, void *uctx)
{
    (void)uctx;
    if (child_pid > 0 && info->si_code != SI_KERNEL)
        kill((pid_t)child_pid, sig);
}

static void install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = forward_signal;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        sigaction(sigs[i], &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

/* ---------------------------------------------------------------- the program */

/* Find PROGRAM as execvp would: a name with a slash is a path; otherwise each $PATH entry.
 * Writes the path into out; 0, or EXIT_NOT_FOUND / EXIT_CANNOT_EXEC with a message. */
static int resolve_program(const char *prog, char *out, size_t size)
{
    if (strchr(prog, '/')) {
        struct stat st;
        if (stat(prog, &st) != 0) {
            fprintf(stderr, "weft record: cannot run '%s': %s\n", prog, strerror(errno));
            return errno == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_EXEC;
        }
        if (!S_ISREG(st.st_mode) || access(prog, X_OK) != 0) {
            fprintf(stderr, "weft record: cannot run '%s': %s\n", prog,
                    S_ISDIR(st.st_mode) ? "it is a directory" : "not an executable file");
            return EXIT_CANNOT_EXEC;
        }
        snprintf(out, size, "%s", prog);
        return 0;
    }
    const char *path = getenv("PATH");
    if (!path || !*path)
        path = "/usr/local/bin:/usr/bin:/bin";
    for (const char *p = path;;) {
        const char *end = strchrnul(p, ':');
        int n = (int)(end - p);
        char cand[PATH_MAX];
        snprintf(cand, sizeof cand, "%.*s%s%s", n, p, n ? "/" : "", prog);
        struct stat st;
        if (stat(cand, &st) == 0 && S_ISREG(st.st_mode) && access(cand, X_OK) == 0) {
            snprintf(out, size, "%s", cand);
            return 0;
        }
        if (!*end)
            break;
        p = end + 1;
    }
    fprintf(stderr, "weft record: cannot run '%s': not found in PATH\n", prog);
    return EXIT_NOT_FOUND;
}

static uint64_t clock_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* argv as a JSON array of strings. Caller frees. */
static char *json_args(char **argv, int argc)
{
    size_t cap = 64;
    for (int i = 0; i < argc; i++)
        cap += 6 * strlen(argv[i]) + 4;
    char *out = malloc(cap), *p = out;
    if (!out)
        return NULL;
    *p++ = '[';
    for (int i = 0; i < argc; i++) {
        if (i)
            *p++ = ',';
        *p++ = '"';
        for (const unsigned char *s = (const unsigned char *)argv[i]; *s; s++) {
            if (*s == '"' || *s == '\\') {
                *p++ = '\\';
                *p++ = (char)*s;
            } else if (*s < 0x20) {
                p += sprintf(p, "\\u%04x", *s);
            } else {
                *p++ = (char)*s;
            }
        }
        *p++ = '"';
    }
    *p++ = ']';
    *p = '\0';
    return out;
}

/* The program's identity and the recording's start, into meta. */
static int write_identity(weft_recorder *rec, const char *given, const char *path, int argc,
                          char **argv)
{
    char real[PATH_MAX], hash[WEFT_SHA256_HEX], buf[PATH_MAX];
    int err = 0;
    if (!realpath(path, real))
        snprintf(real, sizeof real, "%s", path);
    err = err ? err : weft_recorder_meta_text(rec, "program", given);
    err = err ? err : weft_recorder_meta_text(rec, "program_path", real);
    int herr = weft__sha256_file_hex(real, hash);
    err = err ? err : weft_recorder_meta_text(rec, "program_sha256", herr ? NULL : hash);
    struct stat st;
    if (!err && stat(real, &st) == 0)
        err = weft_recorder_meta_int(rec, "program_size", (int64_t)st.st_size);
    char *args = json_args(argv, argc);
    err = err ? err : weft_recorder_meta_text(rec, "argv", args);
    free(args);
    if (!err && getcwd(buf, sizeof buf))
        err = weft_recorder_meta_text(rec, "cwd", buf);
    if (!err && gethostname(buf, sizeof buf) == 0) {
        buf[sizeof buf - 1] = '\0';
        err = weft_recorder_meta_text(rec, "hostname", buf);
    }
    err = err ? err : weft_recorder_meta_int(rec, "start_unix_ns", (int64_t)clock_ns(CLOCK_REALTIME));
    err = err ? err : weft_recorder_meta_int(rec, "start_mono_ns", (int64_t)clock_ns(CLOCK_MONOTONIC));
    err = err ? err : weft_recorder_meta_text(rec, "recorder", "weft record");
    return err;
}

/* fork + exec with the tracing environment. Returns the pid, or -(exit status) when the
 * program could not be started (the message is printed). */
static pid_t start_program(const char *path, char **argv, unsigned ring_kb)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) {
        fprintf(stderr, "weft record: pipe: %s\n", strerror(errno));
        return -CLI_FAILED;
    }
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "weft record: fork: %s\n", strerror(errno));
        close(fds[0]);
        close(fds[1]);
        return -CLI_FAILED;
    }
    if (pid == 0) {
        close(fds[0]);
        /* The signals we forward must reach the program with their default actions. */
        struct sigaction dfl;
        memset(&dfl, 0, sizeof dfl);
        dfl.sa_handler = SIG_DFL;
        int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE};
        for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
            sigaction(sigs[i], &dfl, NULL);
        char kb[32];
        setenv("WEFT_TRACE", "1", 1);
        /* Wait for us up to 10 s at start (we attach within milliseconds) and at exit until
         * we drained everything. */
        setenv("WEFT_TRACE_WAIT_MS", "10000", 1);
        if (ring_kb) {
            snprintf(kb, sizeof kb, "%u", ring_kb);
            setenv("WEFT_TRACE_RING_KB", kb, 1);
        }
        execv(path, argv);
        int e = errno;
        ssize_t w = write(fds[1], &e, sizeof e);
        (void)w;
        _exit(EXIT_CANNOT_EXEC);
    }
    close(fds[1]);
    int e = 0;
    ssize_t n;
    do
        n = read(fds[0], &e, sizeof e);
    while (n < 0 && errno == EINTR);
    close(fds[0]);
    if (n == (ssize_t)sizeof e) {
        fprintf(stderr, "weft record: cannot run '%s': %s\n", path, strerror(e));
        waitpid(pid, NULL, 0);
        return -(e == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_EXEC);
    }
    return pid;
}

/* ---------------------------------------------------------------- draining */

typedef struct drain {
    pid_t pid;
    bool exited;         /* reaped */
    int status;          /* waitpid status once exited */
    weft_reader *reader; /* NULL until attached */
    int attached_pid;    /* whose segment: the child, or a descendant (a wrapper script) */
    queue *q;
    chunk *cur;          /* being filled */
    uint64_t events;
} drain;

static void reap(drain *d, bool block)
{
    if (d->exited)
        return;
    int st;
    pid_t r;
    do
        r = waitpid(d->pid, &st, block ? 0 : WNOHANG);
    while (r < 0 && errno == EINTR);
    if (r == d->pid) {
        d->exited = true;
        d->status = st;
    }
}

/* Is `pid` the child or one of its descendants? (For a program started by a wrapper.) */
static bool descends_from(int pid, pid_t ancestor)
{
    for (int depth = 0; pid > 1 && depth < 16; depth++) {
        if (pid == ancestor)
            return true;
        char path[64], buf[512];
        snprintf(path, sizeof path, "/proc/%d/stat", pid);
        FILE *f = fopen(path, "r");
        if (!f)
            return false;
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[n] = '\0';
        const char *close_paren = strrchr(buf, ')');
        int ppid;
        if (!close_paren || sscanf(close_paren + 1, " %*c %d", &ppid) != 1)
            return false;
        pid = ppid;
    }
    return false;
}

/* Try to attach to the program's segment (or a descendant's). true once attached. */
static bool try_attach(drain *d)
{
    if (weft_reader_open_live((int)d->pid, 0, &d->reader) == 0) {
        d->attached_pid = (int)d->pid;
        return true;
    }
    int pids[64];
    int n = weft_reader_list_live(pids, 64);
    for (int i = 0; i < n && i < 64; i++) {
        if (pids[i] != (int)d->pid && descends_from(pids[i], d->pid) &&
            weft_reader_open_live(pids[i], 0, &d->reader) == 0) {
            d->attached_pid = pids[i];
            return true;
        }
    }
    return false;
}

static int publish(drain *d)
{
    if (d->cur && d->cur->used) {
        queue_push(d->q, d->cur);
        d->cur = NULL;
    }
    return d->q->failed ? WEFT_EIO : 0;
}

/* Add one event to the current chunk, publishing the chunk first when it is full. */
static int take(drain *d, const weft_event *ev)
{
    if (d->cur && d->cur->used + PACKED_MAX > CHUNK_BYTES) {
        int err = publish(d);
        if (err)
            return err;
    }
    if (!d->cur && !(d->cur = queue_get_empty(d->q)))
        return WEFT_ENOMEM;
    unsigned char *p = d->cur->data + d->cur->used;
    d->cur->used += pack(p, ev);
    d->events++;
    return 0;
}

/* Drain until the program has exited and its rings are empty. 0, or an error (printed). */
static int drain_all(drain *d)
{
    /* Attach: the segment appears when the program builds its first runtime. */
    while (!d->reader) {
        if (try_attach(d))
            break;
        reap(d, false);
        if (d->exited) {
            /* It may have made its segment and exited between two tries. */
            if (try_attach(d))
                break;
            return 0;
        }
        usleep(1000);
    }
    for (;;) {
        weft_event ev;
        int n = weft_reader_next(d->reader, &ev);
        if (n == 1) {
            int err = take(d, &ev);
            if (err)
                return err;
            if ((d->events & 4095) == 0)
                reap(d, false);
            continue;
        }
        if (n == 0)
            break;
        if (n != WEFT_EAGAIN) {
            fprintf(stderr, "weft record: reading the program's events: %s (%s)\n",
                    weft_strerror(n), weft_reader_last_error(d->reader));
            return n;
        }
        /* Caught up: hand over what we have, so that the writer can commit it, and let the
         * program run ahead for a while. Draining again at once would chase the writers
         * through their rings a few records at a time, pulling each cache line they are
         * writing across CPUs; after a pause a drain takes whole lines the writer is done
         * with. A ring (1 MiB by default) holds far more than a pause's worth of events. */
        int err = publish(d);
        if (err)
            return err;
        reap(d, false);
        struct timespec pause = {0, DRAIN_PAUSE_US * 1000};
        nanosleep(&pause, NULL);
    }
    return publish(d);
}

/* ---------------------------------------------------------------- the command */

static int exit_status_of(int status)
{
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return CLI_FAILED;
}

static int record_run(int argc, char **argv)
{
    const char *out = "weft-trace.db";
    bool quiet = false;
    unsigned long buffer_mb = DEFAULT_BUFFER_MB;
    unsigned long ring_kb = 0;
    int i = 1;
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            i++;
            break;
        }
        if (a[0] != '-')
            break;
        const char *val = NULL;
        if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0 ||
            strcmp(a, "--buffer-mb") == 0 || strcmp(a, "--ring-kb") == 0) {
            if (i + 1 >= argc)
                return cli_usage_error(&cli_cmd_record, "%s needs a value", a);
            val = argv[++i];
        } else if (strncmp(a, "--output=", 9) == 0) {
            val = a + 9;
            a = "--output";
        }
        if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
            quiet = true;
        } else if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) {
            if (!*val)
                return cli_usage_error(&cli_cmd_record, "the output file name is empty");
            out = val;
        } else if (strcmp(a, "--buffer-mb") == 0 || strcmp(a, "--ring-kb") == 0) {
            char *end;
            unsigned long v = strtoul(val, &end, 10);
            bool ring = strcmp(a, "--ring-kb") == 0;
            unsigned long lo = ring ? 1 : 1, hi = ring ? 1048576 : 1048576;
            if (!*val || *end || v < lo || v > hi || (ring && (v & (v - 1))))
                return cli_usage_error(&cli_cmd_record, "%s wants %s, not '%s'", a,
                                       ring ? "a power of two from 1 to 1048576"
                                            : "a number of MiB from 1 to 1048576",
                                       val);
            if (ring)
                ring_kb = v;
            else
                buffer_mb = v;
        } else {
            return cli_usage_error(&cli_cmd_record, "unknown option '%s'", a);
        }
    }
    if (i >= argc)
        return cli_usage_error(&cli_cmd_record, "which program? (weft record -o %s -- PROGRAM)",
                               out);
    char **prog_argv = argv + i;
    int prog_argc = argc - i;

    char path[PATH_MAX];
    int rc = resolve_program(prog_argv[0], path, sizeof path);
    if (rc)
        return rc;

    weft_recorder *rec;
    int err = weft_recorder_create(out, &rec);
    if (err) {
        fprintf(stderr, "weft record: %s\n", weft_recorder_open_error());
        return CLI_FAILED;
    }
    err = write_identity(rec, prog_argv[0], path, prog_argc, prog_argv);
    if (!err)
        err = weft_recorder_flush(rec);
    if (err) {
        fprintf(stderr, "weft record: %s: %s\n", out, weft_recorder_error(rec));
        weft_recorder_close(rec);
        return CLI_FAILED;
    }

    install_signals();
    pid_t pid = start_program(path, prog_argv, (unsigned)ring_kb);
    if (pid < 0) {
        /* Nothing ran, so no trace: do not leave a file that looks like one. */
        weft_recorder_close(rec);
        unlink(out);
        return -pid;
    }
    child_pid = pid;
    /* Known now, so that a recording whose recorder is killed still says whom it traced
     * (written again at the end if the events came from a descendant). */
    if (weft_recorder_meta_int(rec, "pid", pid) != 0) {
        fprintf(stderr, "weft record: %s: %s\n", out, weft_recorder_error(rec));
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        weft_recorder_close(rec);
        return CLI_FAILED;
    }

    queue q = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};
    q.max_len = (buffer_mb << 20) / CHUNK_BYTES;
    if (q.max_len < 2)
        q.max_len = 2;
    writer w = {.q = &q, .rec = rec};
    pthread_t wt;
    if (pthread_create(&wt, NULL, writer_main, &w) != 0) {
        fprintf(stderr, "weft record: cannot start the writer thread\n");
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        weft_recorder_close(rec);
        return CLI_FAILED;
    }

    drain d = {.pid = pid, .q = &q};
    int derr = drain_all(&d);
    weft_reader_info info = {0};
    if (d.reader)
        weft_reader_info_get(d.reader, &info);
    if (derr) {
        /* Stop reading but let the program finish: it never blocks on full rings. */
        weft_reader_close(d.reader);
        d.reader = NULL;
    }
    reap(&d, true);
    child_pid = 0;

    pthread_mutex_lock(&q.lock);
    q.closed = true;
    pthread_cond_broadcast(&q.cond);
    pthread_mutex_unlock(&q.lock);
    pthread_join(wt, NULL);
    free(d.cur);
    queue_free_spares(&q);

    if (!w.err) {
        int code = exit_status_of(d.status);
        err = weft_recorder_meta_int(rec, "end_unix_ns", (int64_t)clock_ns(CLOCK_REALTIME));
        err = err ? err : weft_recorder_meta_int(rec, "pid", d.attached_pid ? d.attached_pid : pid);
        err = err ? err : weft_recorder_meta_int(rec, "exit_status", code);
        if (!err && WIFSIGNALED(d.status))
            err = weft_recorder_meta_text(rec, "exit_signal", strsignal(WTERMSIG(d.status)));
        err = err ? err : weft_recorder_meta_int(rec, "dropped_events", (int64_t)info.dropped);
        err = err ? err : weft_recorder_meta_int(rec, "bad_records", (int64_t)info.bad_records);
        err = err ? err : weft_recorder_meta_int(rec, "buffer_peak_mb",
                                             (int64_t)((q.peak_len * CHUNK_BYTES) >> 20));
        err = err ? err : weft_recorder_finish(rec);
        if (err)
            w.err = err;
    }
    weft_recorder_stats stats;
    weft_recorder_stats_get(rec, &stats);
    if (w.err)
        fprintf(stderr, "weft record: writing %s failed: %s\n", out, weft_recorder_error(rec));
    weft_recorder_close(rec);

    weft_reader_close(d.reader);
    if (d.attached_pid) {
        /* A program killed before its exit handler leaves its segment: remove it. */
        char name[64];
        snprintf(name, sizeof name, "/weft-%d", d.attached_pid);
        shm_unlink(name);
    }

    int code = exit_status_of(d.status);
    if (!quiet) {
        if (!d.attached_pid)
            fprintf(stderr,
                    "weft record: %s never started a weft runtime with tracing: no events "
                    "recorded in %s\n",
                    prog_argv[0], out);
        else
            fprintf(stderr,
                    "weft record: %" PRIu64 " events in %s; %" PRIu64 " dropped by the "
                    "program%s; %s %d\n",
                    stats.events, out, info.dropped,
                    info.dropped ? " (rings full: try --ring-kb)" : "",
                    WIFSIGNALED(d.status) ? "program killed, status" : "program exited",
                    code);
    }
    if (w.err || derr)
        return CLI_FAILED;
    return code;
}

const cli_cmd cli_cmd_record = {
    .name = "record",
    .args = "[-o TRACE.db] [-q] [--ring-kb N] [--buffer-mb N] [--] <program> [<args>]",
    .summary = "run a weft program and record its events into a trace database",
    .help =
        "Run PROGRAM with its event rings on (WEFT_TRACE=1) and write every event it reports\n"
        "into the SQLite database TRACE.db (default weft-trace.db, replaced if it exists).\n"
        "Tasks, polls, wakes, resources, waits, timers and workers each get a table that the\n"
        "sqlite3 shell can query; docs/book/trace-database.md describes the schema. The\n"
        "program's path, SHA-256, arguments and exit status, and how many events it had to\n"
        "drop, are in the table meta. If the program crashes or is killed, everything\n"
        "drained until then is in the database.\n"
        "\n"
        "options:\n"
        "  -o, --output FILE   where to write the trace (default weft-trace.db)\n"
        "  -q, --quiet         no summary line on stderr\n"
        "  --ring-kb N         size of each of the program's rings, KiB (a power of two;\n"
        "                      default 1024): larger rings absorb longer bursts\n"
        "  --buffer-mb N       events waiting for the database, at most (default 1024 MiB);\n"
        "                      beyond it the program's rings fill and it drops (and counts)\n"
        "\n"
        "Exit status: the program's (128+N if signal N killed it); 1 if recording failed;\n"
        "2 bad usage; 126 the program cannot be executed; 127 it was not found.\n",
    .run = record_run,
};
