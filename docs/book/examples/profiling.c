/* docs/book/examples/profiling.c - the sample of profiling.md.
 * The page shows the lines between the sample markers; tests/book/test_book_sample.sh checks
 * page and file agree, then runs it and compares its output with the page's. */
/* [begin sample] */
#include <stdio.h>
#include <weft/weft.h>
#include <weft/sched.h> /* weft_sched_burn: CPU work of a given length */

/* A heartbeat: ticks every 10 ms, and counts the ticks that came late. */
typedef struct heartbeat {
    weft_async co;
    weft_interval every;
    weft_interval_tick tick;
    int n, late;
} heartbeat;

static weft_poll heartbeat_poll(weft_future *f, weft_context *cx)
{
    heartbeat *h = (heartbeat *)f;
    WEFT_ASYNC_BEGIN(&h->co);
    weft_interval_init(&h->every, weft_ms(10));
    for (h->n = 0; h->n < 8; h->n++) {
        weft_interval_tick_init(&h->tick, &h->every);
        WEFT_AWAIT(&h->co, cx, &h->tick);
        if (weft_instant_now() - h->tick.tick > weft_ms(5))
            h->late++;
    }
    weft_task_return(cx, h->late);
    WEFT_ASYNC_END(&h->co);
}

/* The culprit: 30 ms of computation in a single poll, on the heartbeat's only thread. */
typedef struct report_builder {
    weft_async co;
    weft_sleep start_later;
} report_builder;

static weft_poll report_builder_poll(weft_future *f, weft_context *cx)
{
    report_builder *r = (report_builder *)f;
    WEFT_ASYNC_BEGIN(&r->co);
    weft_sleep_init(&r->start_later, weft_ms(15));
    WEFT_AWAIT(&r->co, cx, &r->start_later);
    weft_sched_burn(weft_ms(30)); /* should have been weft_spawn_blocking */
    WEFT_ASYNC_END(&r->co);
}

static const weft_future_vtable heartbeat_vt = {heartbeat_poll, weft_async_drop, "heartbeat"};
static const weft_future_vtable builder_vt = {report_builder_poll, weft_async_drop, "builder"};

typedef struct root {
    weft_async co;
    weft_join_handle beat, build;
} root;

static weft_poll root_poll(weft_future *f, weft_context *cx)
{
    root *r = (root *)f;
    WEFT_ASYNC_BEGIN(&r->co);
    {
        heartbeat h = {0};
        report_builder b = {0};
        weft_async_init(&h.co, &heartbeat_vt);
        weft_async_init(&b.co, &builder_vt);
        r->beat = weft_spawn_named("heartbeat", &h);
        r->build = weft_spawn_named("report builder", &b);
    }
    WEFT_AWAIT(&r->co, cx, &r->build);
    WEFT_AWAIT(&r->co, cx, &r->beat);
    printf("heartbeat: %s\n", r->beat.value > 0 ? "some ticks came late" : "always on time");
    WEFT_ASYNC_END(&r->co);
}

static const weft_future_vtable root_vt = {root_poll, weft_async_drop, "root"};

int main(void)
{
    weft_builder b = weft_builder_new_current_thread();
    b.enable_time = true;
    weft_runtime *rt;
    if (weft_runtime_new(&b, &rt) < 0)
        return 1;
    root r;
    weft_async_init(&r.co, &root_vt);
    int err = weft_block_on(rt, &r.co.base);
    weft_runtime_shutdown(rt);
    return err < 0;
}
/* [end sample] */
