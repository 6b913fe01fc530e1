/* cli/cmd_demo.c - `weft demo`: a small program on the multi-thread runtime that narrates
 * what its tasks do.
 *
 * It is the first thing a newcomer runs, so it shows one of each basic thing a Tokio user
 * meets, and says which thread did what and when:
 *
 *   ticker       sleeps 10 ms three times                 (timers wake a task)
 *   yielder      yields 1000 times                         (yield_now; tasks move between workers)
 *   slow_lookup  a blocking function on the blocking pool  (spawn_blocking)
 *   set-0..4     five tasks in a JoinSet, joined in the order they finish, not spawn order
 *   sleeper      sleeps 10 s and is aborted after 5 ms     (cancellation = dropping the future)
 *
 * The root future (demo_main) runs inside weft_block_on on the main thread and spawns the rest.
 * The exit code is 0 only if every join reported what it should, so the integration test that
 * runs the demo checks the runtime too. Timing lines vary from run to run; the outcomes do not.
 */
#define _GNU_SOURCE /* pthread_getname_np */
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <weft/error.h>
#include <weft/runtime.h>
#include <weft/task.h>
#include <weft/time.h>

#include "cli.h"

#define SET_SIZE 5
#define YIELDS 1000

/* Set once before the runtime starts, read by every thread afterwards. */
static weft_instant demo_start;
static pthread_t main_thread;

/* One narrated line: time since start, the thread, who speaks, what happened. A single printf
 * per line, so lines from different threads never interleave (stdio locks the stream). */
__attribute__((format(printf, 2, 3))) static void say(const char *who, const char *fmt, ...)
{
    char thread[16] = "?";
    if (pthread_equal(pthread_self(), main_thread))
        strcpy(thread, "main");
    else
        pthread_getname_np(pthread_self(), thread, sizeof thread);

    char what[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);

    double ms = (double)(weft_instant_now() - demo_start) / 1e6;
    printf("%8.1f ms  %-15s %-12s %s\n", ms, thread, who, what);
}

/* ---------------------------------------------------------------- ticker */
typedef struct ticker {
    weft_async co;
    int i;
    weft_sleep nap;
} ticker;

static weft_poll ticker_poll(weft_future *f, weft_context *cx)
{
    ticker *t = (ticker *)f;
    WEFT_ASYNC_BEGIN(&t->co);
    for (t->i = 1; t->i <= 3; t->i++) {
        weft_sleep_init(&t->nap, weft_ms(10));
        WEFT_AWAIT(&t->co, cx, &t->nap);
        if (t->nap.status != 0) {
            say("ticker", "sleep failed: %s", weft_strerror(t->nap.status));
            weft_task_fail(cx, t->nap.status);
            WEFT_ASYNC_RETURN(&t->co);
        }
        say("ticker", "tick %d/3 (slept 10 ms)", t->i);
    }
    weft_task_return(cx, 3);
    WEFT_ASYNC_END(&t->co);
}

static const weft_future_vtable ticker_vt = {ticker_poll, weft_async_drop, "ticker"};

/* ---------------------------------------------------------------- yielder */
typedef struct yielder {
    weft_async co;
    int i;
    int moves;       /* times a resumption ran on another thread than the previous one */
    pthread_t last;  /* thread of the previous resumption */
    weft_yield_now y;
} yielder;

static weft_poll yielder_poll(weft_future *f, weft_context *cx)
{
    yielder *t = (yielder *)f;
    WEFT_ASYNC_BEGIN(&t->co);
    say("yielder", "starts yielding %d times", YIELDS);
    t->last = pthread_self();
    for (t->i = 0; t->i < YIELDS; t->i++) {
        weft_yield_now_init(&t->y);
        WEFT_AWAIT(&t->co, cx, &t->y);
        if (!pthread_equal(t->last, pthread_self())) {
            t->moves++;
            t->last = pthread_self();
        }
    }
    say("yielder", "yielded %d times; moved between threads %d times", YIELDS, t->moves);
    weft_task_return(cx, YIELDS);
    WEFT_ASYNC_END(&t->co);
}

static const weft_future_vtable yielder_vt = {yielder_poll, weft_async_drop, "yielder"};

/* ---------------------------------------------------------------- blocking job */

/* Stands for any call that blocks its thread (a DNS lookup, a file read, a CPU-bound hash). On
 * a worker it would stall every task queued behind it; on the blocking pool it stalls nobody. */
static int slow_lookup(void *arg, intptr_t *value)
{
    (void)arg;
    say("slow_lookup", "runs on the blocking pool: blocks its thread for 20 ms");
    struct timespec ts = {0, 20 * 1000 * 1000};
    while (nanosleep(&ts, &ts) != 0)
        ;
    *value = 42;
    return 0;
}

/* ---------------------------------------------------------------- JoinSet members */
typedef struct member {
    weft_async co;
    int n;
    weft_sleep nap;
} member;

static const char *const member_names[SET_SIZE] = {"set-0", "set-1", "set-2", "set-3", "set-4"};

/* Member n sleeps (SET_SIZE - n) * 4 ms, so they finish in the reverse of spawn order. */
static weft_poll member_poll(weft_future *f, weft_context *cx)
{
    member *m = (member *)f;
    WEFT_ASYNC_BEGIN(&m->co);
    weft_sleep_init(&m->nap, weft_ms((uint64_t)(SET_SIZE - m->n) * 4));
    WEFT_AWAIT(&m->co, cx, &m->nap);
    say(member_names[m->n], "done after %d ms", (SET_SIZE - m->n) * 4);
    weft_task_return(cx, m->n);
    WEFT_ASYNC_END(&m->co);
}

static const weft_future_vtable member_vt = {member_poll, weft_async_drop, "member"};

/* ---------------------------------------------------------------- sleeper */
typedef struct sleeper {
    weft_async co;
    weft_sleep nap;
} sleeper;

static weft_poll sleeper_poll(weft_future *f, weft_context *cx)
{
    sleeper *s = (sleeper *)f;
    WEFT_ASYNC_BEGIN(&s->co);
    say("sleeper", "goes to sleep for 10 s");
    weft_sleep_init(&s->nap, weft_secs(10));
    WEFT_AWAIT(&s->co, cx, &s->nap);
    say("sleeper", "woke up: it should have been aborted long before");
    WEFT_ASYNC_END(&s->co);
}

/* Cancellation made visible: aborting the task drops its future, which drops the sleep it is
 * suspended on (the timer is disarmed), exactly as dropping a Rust future drops its locals. */
static void sleeper_drop(weft_future *f)
{
    say("sleeper", "aborted: its future is dropped while it sleeps");
    weft_async_drop(f);
}

static const weft_future_vtable sleeper_vt = {sleeper_poll, sleeper_drop, "sleeper"};

/* ---------------------------------------------------------------- the root future */
typedef struct demo_main {
    weft_async co;
    weft_join_handle ticker, yielder, blocking, sleeper;
    weft_join_set *set;
    int64_t set_ids[SET_SIZE]; /* task id of set member n, or a negative spawn error */
    weft_join_next next;
    int joined;                /* set members joined so far */
    int order[SET_SIZE];       /* member numbers in completion order */
    weft_sleep pause;
    int failures;              /* outcomes that were not what they should be */
} demo_main;

static void spawn_all(demo_main *m)
{
    say("main", "spawns ticker, yielder, slow_lookup, %d tasks in a JoinSet, sleeper",
        SET_SIZE);

    ticker t = {0};
    weft_async_init(&t.co, &ticker_vt);
    m->ticker = weft_spawn_named("ticker", &t);

    yielder y = {0};
    weft_async_init(&y.co, &yielder_vt);
    m->yielder = weft_spawn_named("yielder", &y);

    m->blocking = weft_spawn_blocking(slow_lookup, NULL);

    int rc = weft_join_set_new(&m->set);
    for (int n = 0; n < SET_SIZE; n++) {
        member mb = {0};
        weft_async_init(&mb.co, &member_vt);
        mb.n = n;
        m->set_ids[n] = rc < 0 ? rc : weft_join_set_spawn_named(m->set, member_names[n], &mb);
        if (m->set_ids[n] < 0) {
            say("main", "could not spawn %s: %s", member_names[n],
                weft_strerror((int)m->set_ids[n]));
            m->failures++;
        }
    }

    sleeper s = {0};
    weft_async_init(&s.co, &sleeper_vt);
    m->sleeper = weft_spawn_named("sleeper", &s);
}

static int member_of(const demo_main *m, weft_task_id id)
{
    for (int n = 0; n < SET_SIZE; n++)
        if (m->set_ids[n] >= 0 && (weft_task_id)m->set_ids[n] == id)
            return n;
    return -1;
}

/* Describe a join outcome and count it as a failure unless it is the expected one. */
static void report(demo_main *m, const char *who, int status, intptr_t value, int want_status,
                   intptr_t want_value)
{
    char what[96];
    if (status == 0)
        snprintf(what, sizeof what, "finished, value %ld", (long)value);
    else if (status == WEFT_ECANCELLED)
        snprintf(what, sizeof what, "cancelled (%s)", weft_err_name(status));
    else
        snprintf(what, sizeof what, "failed: %s (%s)", weft_strerror(status),
                 weft_err_name(status));
    bool ok = status == want_status && (status != 0 || value == want_value);
    if (!ok)
        m->failures++;
    printf("  %-12s %s%s\n", who, what, ok ? "" : "   <-- unexpected");
}

static weft_poll demo_main_poll(weft_future *f, weft_context *cx)
{
    demo_main *m = (demo_main *)f;
    WEFT_ASYNC_BEGIN(&m->co);
    spawn_all(m);

    weft_sleep_init(&m->pause, weft_ms(5));
    WEFT_AWAIT(&m->co, cx, &m->pause);
    say("main", "aborts sleeper");
    weft_join_handle_abort(&m->sleeper);

    /* JoinSet: outcomes arrive in completion order; EEMPTY means the set is drained. */
    while (m->set) {
        weft_join_set_join_next_init(&m->next, m->set);
        WEFT_AWAIT(&m->co, cx, &m->next);
        if (m->next.status == WEFT_EEMPTY)
            break;
        int n = member_of(m, m->next.id);
        say("main", "joined %s from the set (%s)", n >= 0 ? member_names[n] : "?",
            m->next.status == 0 ? "finished" : weft_strerror(m->next.status));
        if (m->joined < SET_SIZE)
            m->order[m->joined++] = n;
        if (m->next.status != 0 || n < 0 || m->next.value != n)
            m->failures++;
    }
    if (m->set) {
        weft_join_set_free(m->set);
        m->set = NULL;
    }

    WEFT_AWAIT(&m->co, cx, &m->ticker);
    WEFT_AWAIT(&m->co, cx, &m->yielder);
    WEFT_AWAIT(&m->co, cx, &m->blocking);
    WEFT_AWAIT(&m->co, cx, &m->sleeper);
    say("main", "all joined");

    printf("\noutcomes, as each join handle reported them:\n");
    report(m, "ticker", m->ticker.status, m->ticker.value, 0, 3);
    report(m, "yielder", m->yielder.status, m->yielder.value, 0, YIELDS);
    report(m, "slow_lookup", m->blocking.status, m->blocking.value, 0, 42);
    report(m, "sleeper", m->sleeper.status, m->sleeper.value, WEFT_ECANCELLED, 0);
    printf("  %-12s %d of %d joined, in completion order:", "join set", m->joined, SET_SIZE);
    for (int k = 0; k < m->joined; k++)
        printf(" %s", m->order[k] >= 0 ? member_names[m->order[k]] : "?");
    printf("\n");
    if (m->joined != SET_SIZE)
        m->failures++;
    WEFT_ASYNC_END(&m->co);
}

/* Only reached if the root future is abandoned mid-way: let the tasks run on unobserved. */
static void demo_main_drop(weft_future *f)
{
    demo_main *m = (demo_main *)f;
    weft_async_drop(f);
    weft_join_handle_detach(&m->ticker);
    weft_join_handle_detach(&m->yielder);
    weft_join_handle_detach(&m->blocking);
    weft_join_handle_detach(&m->sleeper);
    if (m->set)
        weft_join_set_free(m->set);
    m->set = NULL;
}

static const weft_future_vtable demo_main_vt = {demo_main_poll, demo_main_drop, "demo_main"};

/* ---------------------------------------------------------------- the command */
int cli_demo(unsigned workers)
{
    main_thread = pthread_self();
    demo_start = weft_instant_now();

    weft_builder b = weft_builder_new_multi_thread();
    b.worker_threads = workers;
    b.enable_time = true;
    b.thread_name = "weft"; /* threads show as weft-0, weft-1, weft-blocking */
    weft_runtime *rt;
    int rc = weft_runtime_new(&b, &rt);
    if (rc < 0) {
        fprintf(stderr, "weft demo: cannot start the runtime: %s\n", weft_strerror(rc));
        return CLI_FAILED;
    }

    unsigned nw = weft_runtime_workers(rt);
    printf("weft demo: a multi-thread runtime with %u worker%s; the main thread runs block_on\n\n"
           "    time     thread          task         what happened\n",
           nw, nw == 1 ? "" : "s");

    demo_main m = {0};
    weft_async_init(&m.co, &demo_main_vt);
    rc = weft_block_on(rt, &m.co.base);
    weft_runtime_shutdown(rt);
    if (rc < 0) {
        fprintf(stderr, "weft demo: block_on failed: %s\n", weft_strerror(rc));
        return CLI_FAILED;
    }
    if (m.failures) {
        fprintf(stderr, "weft demo: %d outcome(s) were not as expected\n", m.failures);
        return CLI_FAILED;
    }
    return CLI_OK;
}

static int demo_run(int argc, char **argv)
{
    unsigned workers = 2;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--workers") == 0 && i + 1 < argc) {
            char *end;
            long n = strtol(argv[++i], &end, 10);
            if (*end != '\0' || end == argv[i] || n < 1 || n > 64)
                return cli_usage_error(&cli_cmd_demo, "--workers wants a number from 1 to 64");
            workers = (unsigned)n;
        } else if (strcmp(argv[i], "--workers") == 0) {
            return cli_usage_error(&cli_cmd_demo, "--workers wants a number from 1 to 64");
        } else {
            return cli_usage_error(&cli_cmd_demo, "unexpected argument '%s'", argv[i]);
        }
    }
    return cli_demo(workers);
}

const cli_cmd cli_cmd_demo = {
    .name = "demo",
    .args = "[--workers N]",
    .summary = "run a small program on the multi-thread runtime and narrate its tasks",
    .help =
        "Start a multi-thread runtime (2 workers unless --workers says otherwise) and run a\n"
        "few tasks on it: a ticker that sleeps 10 ms three times, a task that yields 1000\n"
        "times, a blocking function on the blocking pool, five tasks in a JoinSet joined in the\n"
        "order they finish, and a sleeping task that gets aborted. Each line says when, on\n"
        "which thread and in which task something happened; the end lists what every join\n"
        "reported. Exits 0 when every outcome is the expected one.\n"
        "\n"
        "options:\n"
        "  --workers N   number of worker threads (1 to 64, default 2)\n",
    .run = demo_run,
};
