/* docs/book/examples/select_and_cancellation.c - the sample of select-and-cancellation.md.
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

/* A job that takes 50 ms; says so when it finishes, and when it is dropped instead. */
typedef struct job {
    weft_async co;
    const char *name;
    weft_sleep work;
} job;

static weft_poll job_poll(weft_future *f, weft_context *cx)
{
    job *j = (job *)f;
    WEFT_ASYNC_BEGIN(&j->co);
    weft_sleep_init(&j->work, weft_ms(50));
    WEFT_AWAIT(&j->co, cx, &j->work);
    printf("+%2lu ms  %s: finished\n", ms_now(), j->name);
    WEFT_ASYNC_END(&j->co);
}

static void job_drop(weft_future *f)
{
    printf("+%2lu ms  %s: dropped (cancelled)\n", ms_now(), ((job *)f)->name);
    weft_async_drop(f);
}

static const weft_future_vtable job_vt = {job_poll, job_drop, "job"};

static job job_new(const char *name)
{
    job j = {.name = name};
    weft_async_init(&j.co, &job_vt);
    return j;
}

/* The fix: a task whose future is timeout(20 ms, job): the deadline owns the work. */
typedef struct bounded_job {
    weft_async co;
    job inner;
    weft_timeout deadline;
} bounded_job;

static weft_poll bounded_job_poll(weft_future *f, weft_context *cx)
{
    bounded_job *b = (bounded_job *)f;
    WEFT_ASYNC_BEGIN(&b->co);
    weft_timeout_init(&b->deadline, weft_ms(20), &b->inner.co.base);
    WEFT_AWAIT(&b->co, cx, &b->deadline);
    WEFT_ASYNC_END(&b->co);
}

static const weft_future_vtable bounded_job_vt = {bounded_job_poll, weft_async_drop, "bounded"};

/* Sends 'a' at +5 ms and 'b' at +22 ms. */
typedef struct sender {
    weft_async co;
    weft_mpsc_sender tx;
    weft_sleep nap;
    char c;
} sender;

static weft_poll sender_poll(weft_future *f, weft_context *cx)
{
    sender *s = (sender *)f;
    WEFT_ASYNC_BEGIN(&s->co);
    for (s->c = 'a'; s->c <= 'b'; s->c++) {
        weft_sleep_init(&s->nap, weft_ms(s->c == 'a' ? 5 : 17));
        WEFT_AWAIT(&s->co, cx, &s->nap);
        weft_mpsc_try_send(&s->tx, &s->c);
    }
    weft_mpsc_sender_drop(&s->tx);
    WEFT_ASYNC_END(&s->co);
}

static const weft_future_vtable sender_vt = {sender_poll, weft_async_drop, "sender"};

typedef struct root {
    weft_async co;
    weft_join_handle h;
    weft_timeout deadline;
    weft_sleep settle;
    weft_mpsc_receiver rx;
    char c;
    int i;
    weft_mpsc_recv recv;    /* select branch 0 */
    weft_sleep idle;        /* select branch 1 */
    weft_future *branches[2];
    weft_select sel;
} root;

static weft_poll root_poll(weft_future *f, weft_context *cx)
{
    root *r = (root *)f;
    WEFT_ASYNC_BEGIN(&r->co);
    start = weft_instant_now();

    printf("-- timeout(20 ms, spawn(job)): the deadline owns only the handle\n");
    {
        job j = job_new("job 1");
        r->h = weft_spawn(&j);
    }
    weft_timeout_init(&r->deadline, weft_ms(20), &r->h.base);
    WEFT_AWAIT(&r->co, cx, &r->deadline); /* elapses; drops the handle = detaches the task */
    printf("+%2lu ms  caller: timed out, moves on\n", ms_now());
    weft_sleep_init(&r->settle, weft_ms(40));
    WEFT_AWAIT(&r->co, cx, &r->settle);

    printf("-- spawn(timeout(20 ms, job)): the deadline owns the work\n");
    start = weft_instant_now();
    {
        bounded_job b = {.inner = job_new("job 2")};
        weft_async_init(&b.co, &bounded_job_vt);
        r->h = weft_spawn(&b);
    }
    WEFT_AWAIT(&r->co, cx, &r->h);
    printf("+%2lu ms  caller: the task is done, and so is its work\n", ms_now());

    printf("-- select { recv, sleep(10 ms) }, three times\n");
    start = weft_instant_now();
    {
        sender s = {0};
        if (weft_mpsc_channel(&s.tx, &r->rx, 4, sizeof(char), "letters") < 0)
            WEFT_ASYNC_RETURN(&r->co);
        weft_async_init(&s.co, &sender_vt);
        r->h = weft_spawn(&s);
    }
    for (r->i = 0; r->i < 3; r->i++) {
        weft_mpsc_recv_init(&r->recv, &r->rx, &r->c);
        weft_sleep_init(&r->idle, weft_ms(10));
        r->branches[0] = &r->recv.base;
        r->branches[1] = &r->idle.base;
        weft_select_init(&r->sel, r->branches, 2);
        WEFT_AWAIT(&r->co, cx, &r->sel);
        if (r->sel.winner == 0)
            printf("+%2lu ms  recv won: '%c'\n", ms_now(), r->c);
        else
            printf("+%2lu ms  sleep won: the recv was dropped, and lost nothing\n", ms_now());
    }
    WEFT_AWAIT(&r->co, cx, &r->h);
    weft_mpsc_receiver_drop(&r->rx);
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
