/* docs/book/examples/profiling_metrics.c - the metrics sample of profiling.md.
 * The page shows the lines between the sample markers; tests/book/test_book_sample.sh checks
 * page and file agree, then runs it and compares its output with the page's. */
/* [begin sample] */
#include <stdio.h>
#include <weft/weft.h>
#include <weft/metrics.h>
#include <weft/sched.h> /* weft_sched_burn: CPU work of a given length */

static weft_runtime *rt;

/* A request handler: wait 1 ms for "the database", then build the answer. Every other one
 * builds a big answer, 300 us of CPU in one poll. */
typedef struct handler {
    weft_async co;
    weft_sleep db;
    int id;
} handler;

static weft_poll handler_poll(weft_future *f, weft_context *cx)
{
    handler *h = (handler *)f;
    WEFT_ASYNC_BEGIN(&h->co);
    weft_sleep_init(&h->db, weft_ms(1));
    WEFT_AWAIT(&h->co, cx, &h->db);
    if (h->id % 2 == 0)
        weft_sched_burn(weft_us(300));
    WEFT_ASYNC_END(&h->co);
}

static const weft_future_vtable handler_vt = {handler_poll, weft_async_drop, "handler"};

typedef struct root {
    weft_async co;
    weft_task_monitor handlers; /* Tokio: tokio_metrics::TaskMonitor */
    weft_runtime_metrics before;
    weft_join_handle h[8];
    int i;
} root;

static weft_poll root_poll(weft_future *f, weft_context *cx)
{
    root *r = (root *)f;
    WEFT_ASYNC_BEGIN(&r->co);
    weft_task_monitor_init(&r->handlers, weft_us(100), WEFT_LONG_DELAY_NS_DEFAULT);
    weft_runtime_metrics_get(rt, &r->before);
    for (r->i = 0; r->i < 8; r->i++) {
        handler h = {.id = r->i};
        weft_async_init(&h.co, &handler_vt);
        r->h[r->i] = weft_task_monitor_spawn_named(&r->handlers, "handler", &h);
    }
    for (r->i = 0; r->i < 8; r->i++)
        WEFT_AWAIT(&r->co, cx, &r->h[r->i]);
    {
        /* Runtime metrics: two samples and their difference, as RuntimeMonitor::intervals. */
        weft_runtime_metrics now, d;
        weft_runtime_metrics_get(rt, &now);
        weft_runtime_metrics_diff(&r->before, &now, &d);
        printf("runtime: %u workers; %llu tasks spawned, %s polls in the interval\n",
               d.workers, (unsigned long long)d.spawned_tasks,
               d.polls >= 16 ? "at least 16" : "fewer than 16");
        /* Task metrics: what the handlers' polls and waits were like. */
        weft_task_metrics m;
        weft_task_monitor_get(&r->handlers, &m);
        printf("handlers: %llu spawned, %llu finished, %llu polled at least once\n",
               (unsigned long long)m.instrumented_count, (unsigned long long)m.dropped_count,
               (unsigned long long)m.first_poll_count);
        printf("handlers: %llu polls, %llu idle periods (woken by their timer)\n",
               (unsigned long long)m.total_poll_count, (unsigned long long)m.total_idled_count);
        printf("handlers: slow polls (>= 100 us): %s\n",
               m.total_slow_poll_count >= 4 ? "the 4 big answers, at least" : "too few");
    }
    WEFT_ASYNC_END(&r->co);
}

static const weft_future_vtable root_vt = {root_poll, weft_async_drop, "root"};

int main(void)
{
    weft_builder b = weft_builder_new_multi_thread();
    b.worker_threads = 2;
    b.enable_time = true;
    if (weft_runtime_new(&b, &rt) < 0)
        return 1;
    root r = {0};
    weft_async_init(&r.co, &root_vt);
    int err = weft_block_on(rt, &r.co.base);
    weft_runtime_shutdown(rt);
    return err < 0;
}
/* [end sample] */
