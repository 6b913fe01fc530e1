/* Lab 02 - the greedy consumer.  (Edit this file; `weft lab check 02` grades it.)
 *
 * A telemetry agent runs on a current-thread runtime. Two tasks share its one thread:
 *
 *   drain    takes samples out of an in-memory inbox (a batch the network layer already
 *            received: 16,000 to 24,000 samples) and aggregates each one (2 us of CPU work).
 *   flusher  every 5 ms sends the aggregate so far to the collector (lab_mark("flush")).
 *            The collector drops the agent when a flush is more than 5.5 ms late.
 *
 * The inbox's receive future, inbox_recv, was written by hand for speed: when a sample is
 * there it completes at once. While the inbox holds samples the flusher never runs. Find out
 * why, and fix inbox_recv (not the drain loop) so that flushes stay on time.
 *
 * Checks (printed at the end of every run):
 *   flush-on-time   no two flushes more than 5.5 ms apart
 *   short-polls     no poll of any task longer than 1 ms (of virtual time)
 *   all-samples     every sample aggregated, in order, once
 */
#include <string.h>

#include <lab.h>

#define MAX_SAMPLES 24000
#define FLUSH_EVERY weft_us(5000)
#define SAMPLE_COST weft_us(2)

/* ---------------------------------------------------------------- the inbox
 *
 * A ring of samples that the network layer filled; `inbox_recv` takes the next one. */
typedef struct inbox {
    int samples[MAX_SAMPLES];
    int head, len;
} inbox;

typedef struct inbox_recv {
    weft_future base;
    inbox *box;
    int sample; /* result, when status == 0 */
    int status; /* 0, or WEFT_ECLOSED when the inbox is empty for good */
} inbox_recv;

static weft_poll inbox_recv_poll(weft_future *f, weft_context *cx)
{
    inbox_recv *r = (inbox_recv *)f;
    (void)cx;
    if (r->box->len == 0) {
        r->status = WEFT_ECLOSED; /* the batch is done: nothing more will come */
        return WEFT_READY;
    }
    r->sample = r->box->samples[r->box->head];
    r->box->head++;
    r->box->len--;
    r->status = 0;
    return WEFT_READY;
}

static const weft_future_vtable inbox_recv_vt = {inbox_recv_poll, NULL, "inbox_recv"};

static void inbox_recv_init(inbox_recv *r, inbox *box)
{
    r->base.vt = &inbox_recv_vt;
    r->box = box;
    r->status = 0;
}

/* ---------------------------------------------------------------- drain */

static inbox the_inbox;
static int batch;            /* samples in this run's batch */
static long long aggregate; /* sum of sample * position: order matters */
static int aggregated;

typedef struct drain {
    weft_async co;
    inbox_recv recv;
} drain;

static weft_poll drain_poll(weft_future *f, weft_context *cx)
{
    drain *d = (drain *)f;
    WEFT_ASYNC_BEGIN(&d->co);
    for (;;) {
        inbox_recv_init(&d->recv, &the_inbox);
        WEFT_AWAIT(&d->co, cx, &d->recv);
        if (d->recv.status != 0)
            break;
        lab_cpu_work(SAMPLE_COST); /* aggregating one sample */
        aggregated++;
        aggregate += (long long)d->recv.sample * aggregated;
    }
    lab_say("inbox drained: %d samples", aggregated);
    WEFT_ASYNC_END(&d->co);
}

static const weft_future_vtable drain_vt = {drain_poll, weft_async_drop, "drain"};

/* ---------------------------------------------------------------- flusher */

typedef struct flusher {
    weft_async co;
    weft_interval every;
    weft_interval_tick tick;
} flusher;

static weft_poll flusher_poll(weft_future *f, weft_context *cx)
{
    flusher *fl = (flusher *)f;
    WEFT_ASYNC_BEGIN(&fl->co);
    weft_interval_init(&fl->every, FLUSH_EVERY);
    for (;;) {
        weft_interval_tick_init(&fl->tick, &fl->every);
        WEFT_AWAIT(&fl->co, cx, &fl->tick);
        lab_mark("flush");
    }
    WEFT_ASYNC_END(&fl->co);
}

static const weft_future_vtable flusher_vt = {flusher_poll, weft_async_drop, "flusher"};

/* ---------------------------------------------------------------- main and the checks */

/* Called by the main future before it returns, so that the scheduler's statistics are
 * those of this run (they are all zero outside the deterministic scheduler). */
static void judge(void)
{
    weft_sched_stats stats;
    weft_sched_stats_get(&stats);
    const weft_sched_stats *st = &stats;
    weft_duration late_at;
    weft_duration gap = lab_max_gap("flush", &late_at);
    const weft_duration *at;
    size_t n = lab_marks("flush", &at);
    lab_check("flush-on-time", gap <= FLUSH_EVERY * 11 / 10 && n >= 2,
              "%zu flushes, longest gap %llu.%03llu ms ending at %llu ms (limit 5.5 ms)", n,
              (unsigned long long)(gap / 1000000u), (unsigned long long)(gap / 1000u % 1000u),
              (unsigned long long)(late_at / 1000000u));
    lab_check("short-polls", st->max_poll <= weft_ms(1),
              "longest poll %llu.%03llu ms (limit 1 ms)",
              (unsigned long long)(st->max_poll / 1000000u),
              (unsigned long long)(st->max_poll / 1000u % 1000u));
    long long want = 0;
    for (int i = 1; i <= batch; i++)
        want += (long long)(i * 37 % 1000) * i;
    int64_t cpu_us = lab_counter("cpu-us");
    lab_check("all-samples", aggregated == batch && aggregate == want && cpu_us == batch * 2,
              "%d of %d samples aggregated, aggregate %s, %lld us of work done (expected %d)",
              aggregated, batch, aggregate == want ? "right" : "wrong", (long long)cpu_us,
              batch * 2);
}

typedef struct agent {
    weft_async co;
    weft_join_handle flush, work;
} agent;

static weft_poll agent_poll(weft_future *f, weft_context *cx)
{
    agent *a = (agent *)f;
    WEFT_ASYNC_BEGIN(&a->co);
    /* spawn copies a future into its task: these locals are only templates. */
    flusher fl;
    weft_async_init(&fl.co, &flusher_vt);
    a->flush = weft_spawn_named("flusher", &fl);
    drain d;
    weft_async_init(&d.co, &drain_vt);
    a->work = weft_spawn_named("drain", &d);

    WEFT_AWAIT(&a->co, cx, &a->work);
    weft_join_handle_abort(&a->flush);
    WEFT_AWAIT(&a->co, cx, &a->flush);
    judge();
    WEFT_ASYNC_END(&a->co);
}

static void agent_drop(weft_future *f)
{
    agent *a = (agent *)f;
    weft_async_drop(f);
    weft_join_handle_detach(&a->flush);
    weft_join_handle_detach(&a->work);
}

static const weft_future_vtable agent_vt = {agent_poll, agent_drop, "agent"};

static int run(void *arg)
{
    (void)arg;
    lab_begin();
    weft_builder b = weft_builder_new_current_thread();
    b.enable_time = true;
    weft_runtime *rt;
    if (weft_runtime_new(&b, &rt) != 0)
        return 2;

    /* The batch: 16,000 to 24,000 samples (weft_rand: each seed of the grader another). */
    batch = 16000 + (int)weft_rand_below(MAX_SAMPLES - 16000 + 1);
    for (int i = 0; i < batch; i++)
        the_inbox.samples[i] = (i + 1) * 37 % 1000;
    the_inbox.head = 0;
    the_inbox.len = batch;
    aggregate = 0;
    aggregated = 0;
    agent a;
    weft_async_init(&a.co, &agent_vt);
    if (weft_block_on(rt, &a.co.base) != 0)
        weft_future_drop(&a.co.base); /* the run was stopped: cancel what main still holds */
    weft_runtime_shutdown(rt);
    return 0;
}

int main(int argc, char **argv)
{
    return lab_main(argc, argv, run);
}
