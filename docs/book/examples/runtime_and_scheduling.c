/* docs/book/examples/runtime_and_scheduling.c - the sample of runtime-and-scheduling.md.
 * The page shows the lines between the sample markers; tests/book/test_book_sample.sh checks
 * page and file agree, then runs it and compares its output with the page's. */
/* [begin sample] */
#include <stdio.h>
#include <weft/weft.h>

/* A task that prints a line, then lets the others run, three times over. */
typedef struct chatter {
    weft_async co;
    const char *name;
    bool quiet; /* on the multi-thread runtime, lines from two threads would interleave */
    int i;
    weft_yield_now yield;
} chatter;

static weft_poll chatter_poll(weft_future *f, weft_context *cx)
{
    chatter *c = (chatter *)f;
    WEFT_ASYNC_BEGIN(&c->co);
    for (c->i = 0; c->i < 3; c->i++) {
        if (!c->quiet)
            printf("%s: step %d\n", c->name, c->i);
        weft_yield_now_init(&c->yield);
        WEFT_AWAIT(&c->co, cx, &c->yield); /* back of the run queue */
    }
    weft_task_return(cx, c->i); /* steps taken, for the JoinHandle */
    WEFT_ASYNC_END(&c->co);
}

static const weft_future_vtable chatter_vt = {chatter_poll, weft_async_drop, "chatter"};

static chatter chatter_new(const char *name, bool quiet)
{
    chatter c = {.name = name, .quiet = quiet};
    weft_async_init(&c.co, &chatter_vt);
    return c;
}

/* The root future: spawn two chatters and wait for both. */
typedef struct root {
    weft_async co;
    bool quiet;
    weft_join_handle a, b;
} root;

static weft_poll root_poll(weft_future *f, weft_context *cx)
{
    root *r = (root *)f;
    WEFT_ASYNC_BEGIN(&r->co);
    {
        chatter a = chatter_new("a", r->quiet), b = chatter_new("b", r->quiet);
        r->a = weft_spawn(&a); /* queued, not run: spawning never polls */
        r->b = weft_spawn(&b);
    }
    printf("root: spawned a and b\n");
    WEFT_AWAIT(&r->co, cx, &r->a);
    WEFT_AWAIT(&r->co, cx, &r->b);
    printf("root: a took %ld steps, b took %ld\n", (long)r->a.value, (long)r->b.value);
    WEFT_ASYNC_END(&r->co);
}

static const weft_future_vtable root_vt = {root_poll, weft_async_drop, "root"};

static int run(weft_builder *b, bool quiet)
{
    weft_runtime *rt;
    int err = weft_runtime_new(b, &rt);
    if (err < 0) {
        fprintf(stderr, "runtime: %s\n", weft_strerror(err));
        return 1;
    }
    printf("-- %s runtime, %u worker(s)\n",
           weft_runtime_flavor(rt) == WEFT_CURRENT_THREAD ? "current-thread" : "multi-thread",
           weft_runtime_workers(rt));
    root r = {.quiet = quiet};
    weft_async_init(&r.co, &root_vt);
    err = weft_block_on(rt, &r.co.base);
    weft_runtime_shutdown(rt);
    return err < 0;
}

int main(void)
{
    /* #[tokio::main(flavor = "current_thread")] */
    weft_builder one = weft_builder_new_current_thread();
    if (run(&one, false))
        return 1;
    /* #[tokio::main(flavor = "multi_thread", worker_threads = 2)] */
    weft_builder pool = weft_builder_new_multi_thread();
    pool.worker_threads = 2;
    return run(&pool, true);
}
/* [end sample] */
