/* Lab 01 - the stalled heartbeat.  (Edit this file; `weft lab check 01` grades it.)
 *
 * A gateway runs on a current-thread runtime. Two tasks share its one thread:
 *
 *   heartbeat   every 100 ms tells the supervisor "still alive" (lab_mark("heartbeat")).
 *               The supervisor restarts the gateway when a beat is more than 110 ms late.
 *   reporter    renders six reports, one after another, as requests come in; rendering a
 *               report is 120 ms of CPU work (render_report).
 *
 * In production the supervisor keeps restarting the gateway, and every restart happens while
 * a report is being rendered. Find out why, and fix it so that the heartbeat keeps its beat
 * while the reports are still rendered, every one of them, with the right content.
 *
 * The grader (grade.spec) judges three checks, printed at the end of every run:
 *   heartbeat-gap   no two beats more than 110 ms apart, and no beat missing
 *   short-polls     no poll of any task longer than 1 ms (of virtual time)
 *   reports         six reports, each with the right checksum, each fully rendered
 */
#include <string.h>

#include <lab.h>

#define REPORTS 6
#define BEAT weft_ms(100)
#define RENDER_COST weft_ms(120)

/* ---------------------------------------------------------------- the CPU work
 *
 * Treat render_report as a library call you cannot change or split: it computes for
 * RENDER_COST without ever returning to its caller, as a real formatter or compressor would. */
static intptr_t render_report(int n)
{
    lab_cpu_work(RENDER_COST); /* the CPU time it takes (virtual time under the grader) */
    return (intptr_t)n * 7919 + 13;
}

/* ---------------------------------------------------------------- heartbeat */

typedef struct heartbeat {
    weft_async co;
    weft_interval every;
    weft_interval_tick tick;
} heartbeat;

static weft_poll heartbeat_poll(weft_future *f, weft_context *cx)
{
    heartbeat *h = (heartbeat *)f;
    WEFT_ASYNC_BEGIN(&h->co);
    weft_interval_init(&h->every, BEAT);
    for (;;) {
        weft_interval_tick_init(&h->tick, &h->every);
        WEFT_AWAIT(&h->co, cx, &h->tick);
        lab_mark("heartbeat");
        lab_say("heartbeat");
    }
    WEFT_ASYNC_END(&h->co);
}

static const weft_future_vtable heartbeat_vt = {heartbeat_poll, weft_async_drop, "heartbeat"};

/* ---------------------------------------------------------------- reporter */

typedef struct reporter {
    weft_async co;
    int i;
    intptr_t sums[REPORTS]; /* what each report rendered to */
    weft_sleep wait_for_request;
} reporter;

static reporter finished_reporter; /* the reporter's state when it ended, read by the checks */

static weft_poll reporter_poll(weft_future *f, weft_context *cx)
{
    reporter *r = (reporter *)f;
    WEFT_ASYNC_BEGIN(&r->co);
    for (r->i = 0; r->i < REPORTS; r->i++) {
        /* The next request arrives 20 to 100 ms after the last report went out. */
        weft_sleep_init(&r->wait_for_request, weft_ms(20 + weft_rand_below(81)));
        WEFT_AWAIT(&r->co, cx, &r->wait_for_request);

        r->sums[r->i] = render_report(r->i);

        lab_say("report %d sent", r->i);
    }
    finished_reporter = *r; /* for the checks */
    WEFT_ASYNC_END(&r->co);
}

static const weft_future_vtable reporter_vt = {reporter_poll, weft_async_drop, "reporter"};

/* ---------------------------------------------------------------- the checks */

/* Called by the main future before it returns, so that the scheduler's statistics are
 * those of this run (they are all zero outside the deterministic scheduler). */
static void judge(weft_duration end)
{
    weft_sched_stats st;
    weft_sched_stats_get(&st);
    const weft_sched_stats *stats = &st;
    weft_duration late_at;
    weft_duration gap = lab_max_gap("heartbeat", &late_at);
    const weft_duration *beats;
    size_t n = lab_marks("heartbeat", &beats);
    size_t expected = (size_t)(end / BEAT); /* beats at 0, 100, ... up to the end */
    lab_check("heartbeat-gap", gap <= BEAT * 11 / 10 && n >= expected,
              "%zu beats (expected %zu), longest gap %llu ms ending at %llu ms (limit 110 ms)",
              n, expected, (unsigned long long)(gap / 1000000u),
              (unsigned long long)(late_at / 1000000u));

    lab_check("short-polls", stats->max_poll <= weft_ms(1),
              "longest poll %llu.%03llu ms, by task %llu (limit 1 ms)",
              (unsigned long long)(stats->max_poll / 1000000u),
              (unsigned long long)(stats->max_poll / 1000u % 1000u),
              (unsigned long long)stats->max_poll_task);

    int right = 0;
    for (int i = 0; i < REPORTS; i++)
        right += finished_reporter.sums[i] == (intptr_t)i * 7919 + 13;
    int64_t cpu_ms = lab_counter("cpu-us") / 1000;
    lab_check("reports", right == REPORTS && cpu_ms == REPORTS * 120,
              "%d of %d reports right, %lld ms of rendering done (expected %d)", right, REPORTS,
              (long long)cpu_ms, REPORTS * 120);
}

/* ---------------------------------------------------------------- main */

typedef struct gateway {
    weft_async co;
    weft_join_handle beats, reports;
} gateway;

static weft_poll gateway_poll(weft_future *f, weft_context *cx)
{
    gateway *g = (gateway *)f;
    WEFT_ASYNC_BEGIN(&g->co);
    /* spawn copies a future into its task: these two locals are only templates. */
    heartbeat hb;
    weft_async_init(&hb.co, &heartbeat_vt);
    g->beats = weft_spawn_named("heartbeat", &hb);
    reporter rep;
    weft_async_init(&rep.co, &reporter_vt);
    g->reports = weft_spawn_named("reporter", &rep);

    WEFT_AWAIT(&g->co, cx, &g->reports);
    lab_say("all %d reports sent; stopping the heartbeat", REPORTS);
    weft_join_handle_abort(&g->beats);
    WEFT_AWAIT(&g->co, cx, &g->beats);
    judge(lab_now());
    WEFT_ASYNC_END(&g->co);
}

static void gateway_drop(weft_future *f)
{
    gateway *g = (gateway *)f;
    weft_async_drop(f);
    weft_join_handle_detach(&g->beats);
    weft_join_handle_detach(&g->reports);
}

static const weft_future_vtable gateway_vt = {gateway_poll, gateway_drop, "gateway"};

static int run(void *arg)
{
    (void)arg;
    lab_begin();
    memset(&finished_reporter, 0, sizeof finished_reporter);
    weft_builder b = weft_builder_new_current_thread();
    b.enable_time = true;
    weft_runtime *rt;
    if (weft_runtime_new(&b, &rt) != 0)
        return 2;
    gateway g = {0};
    weft_async_init(&g.co, &gateway_vt);
    int rc = weft_block_on(rt, &g.co.base);
    if (rc != 0)
        weft_future_drop(&g.co.base); /* the run was stopped: cancel what main still holds */
    weft_runtime_shutdown(rt);
    return 0;
}

int main(int argc, char **argv)
{
    return lab_main(argc, argv, run);
}
