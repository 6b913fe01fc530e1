/* bench/bench_chain.c - chained_spawn: each task spawns the next, 100 000 deep.
 *
 * Same work as the anchor's (e): chain(n, done) sends on the oneshot `done` when n is 0 and
 * otherwise spawns a task that calls chain(n - 1, done), dropping (detaching) its join handle;
 * the sender moves from task to task. The body creates the oneshot, calls chain(100 000,
 * done) and awaits the receiver. Only one task is alive at a time, so this measures spawn +
 * schedule + run + free in a tight sequence, with the LIFO slot (mt2) or the local FIFO (ct)
 * handing each new task to the same thread.
 */
#include <weft/oneshot.h>

#include "bench.h"

#define CHAIN_N 100000

typedef struct chain_task {
    weft_future base;
    size_t n;
    weft_oneshot_sender done; /* moved from task to task */
} chain_task;

static void chain(size_t n, weft_oneshot_sender *done);

static weft_poll chain_task_poll(weft_future *f, weft_context *cx)
{
    (void)cx;
    chain_task *t = (chain_task *)f;
    chain(t->n, &t->done);
    return WEFT_READY;
}

/* Cancelled before it ran (runtime shutdown): the receiver then sees WEFT_ECLOSED. */
static void chain_task_drop(weft_future *f)
{
    weft_oneshot_sender_drop(&((chain_task *)f)->done);
}

static const weft_future_vtable chain_task_vt = {chain_task_poll, chain_task_drop, "chain"};

/* Takes over *done: sends on it, or moves it into the next task. */
static void chain(size_t n, weft_oneshot_sender *done)
{
    if (n == 0) {
        int err = weft_oneshot_send(done, NULL);
        if (err)
            bench_die("chained_spawn: send", err);
    } else {
        chain_task t = {{&chain_task_vt}, n - 1, *done};
        done->chan = NULL; /* moved: the copy in t is the sender now */
        weft_join_handle h = weft_spawn(&t);
        if (h.status)
            bench_die("chained_spawn: spawn", h.status);
        weft_join_handle_detach(&h);
    }
}

typedef struct chain_body {
    weft_async co;
    uint64_t start;
    weft_oneshot_receiver rx;
    weft_oneshot_recv recv;
} chain_body;

static weft_poll chain_body_poll(weft_future *f, weft_context *cx)
{
    chain_body *b = (chain_body *)f;
    WEFT_ASYNC_BEGIN(&b->co);
    b->start = bench_now();
    {
        weft_oneshot_sender tx;
        int err = weft_oneshot_channel(&tx, &b->rx, 0, "chain_done");
        if (err)
            bench_die("chained_spawn: oneshot", err);
        chain(CHAIN_N, &tx);
    }
    weft_oneshot_recv_init(&b->recv, &b->rx, NULL);
    WEFT_AWAIT(&b->co, cx, &b->recv);
    if (b->recv.status)
        bench_die("chained_spawn: recv", b->recv.status);
    weft_oneshot_receiver_drop(&b->rx);
    weft_task_return(cx, (intptr_t)(bench_now() - b->start));
    WEFT_ASYNC_END(&b->co);
}

static void chain_body_drop(weft_future *f)
{
    weft_async_drop(f);
    weft_oneshot_receiver_drop(&((chain_body *)f)->rx);
}

static const weft_future_vtable chain_body_vt = {chain_body_poll, chain_body_drop,
                                                 "chained_spawn"};

static double chained_spawn_sample(const bench_env *env)
{
    chain_body b = {0};
    weft_async_init(&b.co, &chain_body_vt);
    return (double)bench_inside(env, &b.co.base, sizeof b) / CHAIN_N;
}

void bench_chained_spawn(const bench_env *env)
{
    double s[BENCH_REPS];
    bench_repeat(env, chained_spawn_sample, s);
    bench_emit("chained_spawn", env, "ns/spawn", s);
}
