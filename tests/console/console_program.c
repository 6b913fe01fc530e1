/* tests/console/console_program.c - a weft program for the console's tests to watch live.
 *
 *     console_program deadlock     two tasks take two locks in opposite orders and deadlock;
 *                                  a ticker task keeps running beside them; never exits
 *     console_program twolock      the same two transfers without the ticker: a program that
 *                                  `weft explore` finds deadlocked (nothing left to run)
 *     console_program exit MS      tickers run for MS milliseconds, then the program exits
 *                                  with status 3
 *     console_program crash MS     the same, then it aborts (SIGABRT)
 *
 * It prints "ready" once its runtime is built, so that a test can wait for it (the console
 * needs the program's segment, which the first runtime creates under WEFT_TRACE=1).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <weft/weft.h>

/* ---------------------------------------------------------------- a transfer between accounts */

typedef struct transfer {
    weft_async co;
    weft_mutex *from, *to;
    weft_mutex_lock l1, l2;
    weft_sleep nap;
} transfer;

static weft_poll transfer_poll(weft_future *f, weft_context *cx)
{
    transfer *t = (transfer *)f;
    WEFT_ASYNC_BEGIN(&t->co);
    weft_mutex_lock_init(&t->l1, t->from);
    WEFT_AWAIT(&t->co, cx, &t->l1);
    /* Hold the first lock across an await long enough for the other transfer to take its
     * first lock too: then each waits for the lock the other holds. */
    weft_sleep_init(&t->nap, weft_ms(50));
    WEFT_AWAIT(&t->co, cx, &t->nap);
    weft_mutex_lock_init(&t->l2, t->to);
    WEFT_AWAIT(&t->co, cx, &t->l2);
    weft_mutex_guard_release(&t->l2.guard);
    weft_mutex_guard_release(&t->l1.guard);
    WEFT_ASYNC_END(&t->co);
}

static const weft_future_vtable transfer_vt = {transfer_poll, weft_async_drop, "transfer"};

/* ---------------------------------------------------------------- a ticker */

typedef struct ticker {
    weft_async co;
    weft_sleep nap;
    unsigned long ticks;
} ticker;

static weft_poll ticker_poll(weft_future *f, weft_context *cx)
{
    ticker *t = (ticker *)f;
    WEFT_ASYNC_BEGIN(&t->co);
    for (;;) {
        weft_sleep_init(&t->nap, weft_ms(10));
        WEFT_AWAIT(&t->co, cx, &t->nap);
        t->ticks++;
    }
    WEFT_ASYNC_END(&t->co);
}

static const weft_future_vtable ticker_vt = {ticker_poll, weft_async_drop, "ticker"};

/* ---------------------------------------------------------------- main tasks */

typedef struct deadlock_main {
    weft_async co;
    weft_mutex a, b;
    transfer t1, t2;
    ticker tick;
    weft_join_handle h[3];
    bool with_ticker;
} deadlock_main;

static weft_poll deadlock_main_poll(weft_future *f, weft_context *cx)
{
    deadlock_main *m = (deadlock_main *)f;
    WEFT_ASYNC_BEGIN(&m->co);
    m->h[0] = weft_spawn_named("transfer_ab", &m->t1);
    m->h[1] = weft_spawn_named("transfer_ba", &m->t2);
    if (m->with_ticker)
        m->h[2] = weft_spawn_named("heartbeat", &m->tick);
    WEFT_AWAIT(&m->co, cx, &m->h[0]);
    WEFT_AWAIT(&m->co, cx, &m->h[1]);
    WEFT_ASYNC_END(&m->co);
}

static const weft_future_vtable deadlock_main_vt = {deadlock_main_poll, weft_async_drop, "main"};

typedef struct exit_main {
    weft_async co;
    ticker tick[2];
    weft_join_handle h[2];
    weft_sleep nap;
    unsigned long ms;
} exit_main;

static weft_poll exit_main_poll(weft_future *f, weft_context *cx)
{
    exit_main *m = (exit_main *)f;
    WEFT_ASYNC_BEGIN(&m->co);
    m->h[0] = weft_spawn_named("ticker_one", &m->tick[0]);
    m->h[1] = weft_spawn_named("ticker_two", &m->tick[1]);
    weft_sleep_init(&m->nap, weft_ms(m->ms));
    WEFT_AWAIT(&m->co, cx, &m->nap);
    WEFT_ASYNC_END(&m->co);
}

static const weft_future_vtable exit_main_vt = {exit_main_poll, weft_async_drop, "main"};

int main(int argc, char **argv)
{
    bool deadlock = argc >= 2 && strcmp(argv[1], "deadlock") == 0;
    bool twolock = argc >= 2 && strcmp(argv[1], "twolock") == 0;
    bool crash = argc >= 2 && strcmp(argv[1], "crash") == 0;
    if (argc < 2 || (!deadlock && !twolock && !crash && strcmp(argv[1], "exit") != 0)) {
        fprintf(stderr, "usage: console_program deadlock | twolock | exit MS | crash MS\n");
        return 2;
    }
    weft_builder b = weft_builder_new_multi_thread();
    b.worker_threads = 2;
    b.enable_time = true;
    weft_runtime *rt;
    if (weft_runtime_new(&b, &rt) < 0)
        return 1;
    printf("ready\n");
    fflush(stdout);
    if (deadlock || twolock) {
        static deadlock_main m;
        m.with_ticker = deadlock;
        weft_async_init(&m.co, &deadlock_main_vt);
        weft_mutex_init(&m.a, "account_a");
        weft_mutex_init(&m.b, "account_b");
        m.t1 = (transfer){.from = &m.a, .to = &m.b};
        m.t2 = (transfer){.from = &m.b, .to = &m.a};
        weft_async_init(&m.t1.co, &transfer_vt);
        weft_async_init(&m.t2.co, &transfer_vt);
        weft_async_init(&m.tick.co, &ticker_vt);
        /* Live, this never returns: the transfers deadlock. Under `weft explore` the
         * deterministic scheduler reports the deadlock and ends the run. */
        weft_block_on(rt, &m.co.base);
        weft_runtime_shutdown_timeout(rt, 100);
        return 1;
    }
    static exit_main m;
    m.ms = argc > 2 ? strtoul(argv[2], NULL, 10) : 500;
    weft_async_init(&m.co, &exit_main_vt);
    weft_async_init(&m.tick[0].co, &ticker_vt);
    weft_async_init(&m.tick[1].co, &ticker_vt);
    weft_block_on(rt, &m.co.base);
    if (crash)
        abort();
    weft_runtime_shutdown_timeout(rt, 100);
    return 3;
}
