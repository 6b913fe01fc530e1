/* docs/book/examples/backpressure.c - the sample of backpressure.md.
 * The page shows the lines between the sample markers; tests/book/test_book_sample.sh checks
 * page and file agree, then runs it (under WEFT_SCHED=fifo, see the page) and compares its
 * output with the page's. */
/* [begin sample] */
#include <stdio.h>
#include <weft/weft.h>

static weft_instant start;

static unsigned long ms_now(void)
{
    return (unsigned long)((weft_instant_now() - start) / weft_ms(1));
}

/* At most two requests in flight: each holds a permit while it works. */
typedef struct request {
    weft_async co;
    weft_semaphore *limit;
    int id;
    int *in_flight;
    weft_semaphore_acquire acq;
    weft_sleep work;
} request;

static weft_poll request_poll(weft_future *f, weft_context *cx)
{
    request *q = (request *)f;
    WEFT_ASYNC_BEGIN(&q->co);
    weft_semaphore_acquire_init(&q->acq, q->limit);
    WEFT_AWAIT(&q->co, cx, &q->acq);          /* Tokio: limit.acquire().await */
    (*q->in_flight)++;
    printf("+%3lu ms  request %d starts, %d in flight\n", ms_now(), q->id, *q->in_flight);
    weft_sleep_init(&q->work, weft_ms(10));
    WEFT_AWAIT(&q->co, cx, &q->work);
    (*q->in_flight)--;
    weft_semaphore_permit_release(&q->acq.permit); /* Tokio: drop(permit) */
    WEFT_ASYNC_END(&q->co);
}

static void request_drop(weft_future *f)
{
    request *q = (request *)f;
    weft_semaphore_permit_release(&q->acq.permit); /* empty permit: does nothing */
    weft_async_drop(f);
}

static const weft_future_vtable request_vt = {request_poll, request_drop, "request"};

typedef struct root {
    weft_async co;
    weft_semaphore limit;
    int in_flight;
    weft_join_set *set;
    weft_join_next next;
    weft_interval pace;
    weft_interval_tick tick;
    int i;
} root;

static weft_poll root_poll(weft_future *f, weft_context *cx)
{
    root *r = (root *)f;
    WEFT_ASYNC_BEGIN(&r->co);
    start = weft_instant_now();
    if (weft_join_set_new(&r->set) < 0)
        WEFT_ASYNC_RETURN(&r->co);
    for (r->i = 1; r->i <= 5; r->i++) {
        request q = {.limit = &r->limit, .id = r->i, .in_flight = &r->in_flight};
        q.acq.permit = WEFT_SEMAPHORE_PERMIT_EMPTY;
        weft_async_init(&q.co, &request_vt);
        weft_join_set_spawn(r->set, &q);
    }
    do {
        weft_join_set_join_next_init(&r->next, r->set);
        WEFT_AWAIT(&r->co, cx, &r->next);
    } while (r->next.status != WEFT_EEMPTY);
    weft_join_set_free(r->set);

    /* A rate limit: one call per 25 ms, however fast the loop could go. */
    printf("-- paced at one call per 25 ms\n");
    weft_interval_init(&r->pace, weft_ms(25));
    r->pace.missed = WEFT_MISSED_TICK_DELAY; /* after a stall, do not catch up in a burst */
    for (r->i = 1; r->i <= 3; r->i++) {
        weft_interval_tick_init(&r->tick, &r->pace);
        WEFT_AWAIT(&r->co, cx, &r->tick);
        printf("+%3lu ms  call %d\n", ms_now(), r->i);
    }
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
    root r = {0};
    weft_semaphore_init(&r.limit, 2, "in-flight limit");
    weft_async_init(&r.co, &root_vt);
    int err = weft_block_on(rt, &r.co.base);
    weft_runtime_shutdown(rt);
    weft_semaphore_destroy(&r.limit);
    return err < 0;
}
/* [end sample] */
