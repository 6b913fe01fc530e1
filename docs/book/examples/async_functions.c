/* docs/book/examples/async_functions.c - the sample of docs/book/async-functions.md.
 *
 * The page shows the lines between the two sample markers below. The test suite (suite
 * 'book', tests/book/test_book_sample.sh) checks that page and file agree line for line, then
 * builds and runs this file and compares its output with the output printed on the page. */
/* [begin sample] */
#include <stdio.h>
#include <weft/weft.h>

/* async fn countdown(name: &'static str, from: u32, step: Duration) -> u32 */
typedef struct countdown {
    weft_async co;    /* first: the resume point and the future being awaited */
    const char *name; /* the arguments ... */
    int from;
    weft_duration step;
    int i;            /* ... the locals that live across an await ... */
    int total;
    weft_sleep nap;   /* ... and the future it awaits, embedded: no allocation */
} countdown;

static weft_poll countdown_poll(weft_future *f, weft_context *cx)
{
    countdown *c = (countdown *)f;
    WEFT_ASYNC_BEGIN(&c->co);
    c->total = 0;
    for (c->i = c->from; c->i >= 1; c->i--) {
        weft_sleep_init(&c->nap, c->step);
        WEFT_AWAIT(&c->co, cx, &c->nap); /* may return PENDING here, and resume here */
        printf("%s: %d\n", c->name, c->i);
        c->total += c->i;
    }
    weft_task_return(cx, c->total); /* the value its JoinHandle reports */
    WEFT_ASYNC_END(&c->co);
}

/* Cancellation: what Rust does when it drops a suspended async fn. */
static void countdown_drop(weft_future *f)
{
    countdown *c = (countdown *)f;
    printf("%s: dropped at i = %d\n", c->name, c->i);
    weft_async_drop(f); /* drops c->co.awaiting, the sleep: it leaves the timer wheel */
}

static const weft_future_vtable countdown_vt = {countdown_poll, countdown_drop, "countdown"};

/* Calling an async fn: builds the future, runs nothing. */
static countdown countdown_new(const char *name, int from, weft_duration step)
{
    countdown c = {.name = name, .from = from, .step = step};
    weft_async_init(&c.co, &countdown_vt);
    return c;
}

/* async fn main() */
typedef struct main_fut {
    weft_async co;
    weft_join_handle a, b;
} main_fut;

static weft_poll main_poll(weft_future *f, weft_context *cx)
{
    main_fut *m = (main_fut *)f;
    WEFT_ASYNC_BEGIN(&m->co);
    {
        /* C locals are fine between two awaits: these are copied into the tasks. */
        countdown a = countdown_new("a", 2, weft_ms(5));
        countdown b = countdown_new("b", 3, weft_secs(3600));
        m->a = weft_spawn(&a);
        m->b = weft_spawn(&b);
    }
    WEFT_AWAIT(&m->co, cx, &m->a);
    printf("a returned %ld\n", (long)m->a.value);
    weft_join_handle_abort(&m->b);
    WEFT_AWAIT(&m->co, cx, &m->b);
    printf("b: %s\n", m->b.status == WEFT_ECANCELLED ? "cancelled" : "finished");
    WEFT_ASYNC_END(&m->co);
}

static const weft_future_vtable main_vt = {main_poll, weft_async_drop, "main"};

int main(void)
{
    weft_builder b = weft_builder_new_current_thread();
    b.enable_time = true;
    weft_runtime *rt;
    if (weft_runtime_new(&b, &rt) < 0)
        return 1;
    main_fut m;
    weft_async_init(&m.co, &main_vt);
    int err = weft_block_on(rt, &m.co.base);
    weft_runtime_shutdown(rt);
    return err < 0;
}
/* [end sample] */
