/* docs/book/examples/time.c - the sample of time.md.
 * The page shows the lines between the sample markers; tests/book/test_book_sample.sh checks
 * page and file agree, then runs it and compares its output with the page's. */
/* [begin sample] */
#include <stdio.h>
#include <weft/weft.h>

typedef struct root {
    weft_async co;
    weft_instant start;
    weft_interval every;      /* interval(10 ms) */
    weft_interval_tick tick;  /* one tick future at a time */
    int n;
    weft_sleep slow, quick;   /* the futures the timeouts wrap */
    weft_timeout deadline;
} root;

static uint64_t ms_since(const root *r, weft_instant t)
{
    return (t - r->start) / weft_ms(1);
}

static weft_poll root_poll(weft_future *f, weft_context *cx)
{
    root *r = (root *)f;
    WEFT_ASYNC_BEGIN(&r->co);
    r->start = weft_instant_now();

    /* let mut every = interval(Duration::from_millis(10)); */
    weft_interval_at_init(&r->every, r->start, weft_ms(10));
    for (r->n = 0; r->n < 4; r->n++) {
        weft_interval_tick_init(&r->tick, &r->every);
        WEFT_AWAIT(&r->co, cx, &r->tick);
        printf("tick scheduled at +%lu ms\n", (unsigned long)ms_since(r, r->tick.tick));
    }

    /* timeout(Duration::from_millis(20), sleep(Duration::from_secs(3600))).await */
    weft_sleep_init(&r->slow, weft_secs(3600));
    weft_timeout_init(&r->deadline, weft_ms(20), &r->slow.base);
    WEFT_AWAIT(&r->co, cx, &r->deadline);
    printf("hour-long sleep under a 20 ms timeout: %s\n",
           r->deadline.status == WEFT_EELAPSED ? "elapsed (the sleep was dropped)" : "done");

    /* timeout(Duration::from_millis(20), sleep(Duration::from_millis(1))).await */
    weft_sleep_init(&r->quick, weft_ms(1));
    weft_timeout_init(&r->deadline, weft_ms(20), &r->quick.base);
    WEFT_AWAIT(&r->co, cx, &r->deadline);
    printf("1 ms sleep under a 20 ms timeout: %s\n",
           r->deadline.status == WEFT_EELAPSED ? "elapsed" : "done in time");
    WEFT_ASYNC_END(&r->co);
}

static const weft_future_vtable root_vt = {root_poll, weft_async_drop, "root"};

int main(void)
{
    weft_builder b = weft_builder_new_current_thread();
    b.enable_time = true; /* Tokio: Builder::enable_time() */
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
