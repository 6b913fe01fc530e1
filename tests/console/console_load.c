/* tests/console/console_load.c - load for measuring the console's cost (console_cost.sh).
 *
 *     console_load TASKS PERIOD_MS SECONDS
 *
 * Spawns TASKS tasks on a multi-thread runtime (2 workers); each sleeps PERIOD_MS in a loop,
 * so the program produces about TASKS * 1000 / PERIOD_MS wake cycles per second (each cycle
 * is a timer arm and fire, a wake and a poll: about five events). It prints "ready" when every
 * task is spawned and exits after SECONDS.
 */
#include <stdio.h>
#include <stdlib.h>

#include <weft/weft.h>

typedef struct sleeper {
    weft_async co;
    weft_sleep nap;
    uint64_t period_ms;
} sleeper;

static weft_poll sleeper_poll(weft_future *f, weft_context *cx)
{
    sleeper *s = (sleeper *)f;
    WEFT_ASYNC_BEGIN(&s->co);
    for (;;) {
        weft_sleep_init(&s->nap, weft_ms(s->period_ms));
        WEFT_AWAIT(&s->co, cx, &s->nap);
    }
    WEFT_ASYNC_END(&s->co);
}

static const weft_future_vtable sleeper_vt = {sleeper_poll, weft_async_drop, "sleeper"};

typedef struct load_main {
    weft_async co;
    unsigned long tasks, i;
    uint64_t period_ms, seconds;
    weft_sleep nap;
} load_main;

static weft_poll load_main_poll(weft_future *f, weft_context *cx)
{
    load_main *m = (load_main *)f;
    WEFT_ASYNC_BEGIN(&m->co);
    for (m->i = 0; m->i < m->tasks; m->i++) {
        sleeper s = {.period_ms = m->period_ms};
        weft_async_init(&s.co, &sleeper_vt);
        weft_join_handle h = weft_spawn_named("sleeper", &s);
        weft_join_handle_detach(&h);
    }
    printf("ready\n");
    fflush(stdout);
    weft_sleep_init(&m->nap, weft_secs(m->seconds));
    WEFT_AWAIT(&m->co, cx, &m->nap);
    WEFT_ASYNC_END(&m->co);
}

static const weft_future_vtable load_main_vt = {load_main_poll, weft_async_drop, "main"};

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: console_load TASKS PERIOD_MS SECONDS\n");
        return 2;
    }
    weft_builder b = weft_builder_new_multi_thread();
    b.worker_threads = 2;
    b.enable_time = true;
    weft_runtime *rt;
    if (weft_runtime_new(&b, &rt) < 0)
        return 1;
    static load_main m;
    m.tasks = strtoul(argv[1], NULL, 10);
    m.period_ms = strtoull(argv[2], NULL, 10);
    m.seconds = strtoull(argv[3], NULL, 10);
    weft_async_init(&m.co, &load_main_vt);
    weft_block_on(rt, &m.co.base);
    weft_runtime_shutdown_timeout(rt, 1000);
    return 0;
}
