/* Lab 16 - Futurelock: the reference solution.
 *
 * The fix: the kept lock future sat in the shard's FIFO queue while the applier awaited the
 * report, which queued for the same lock behind it. When the compactor let go, the mutex was
 * handed to the kept future, the head of the queue, but nobody polled it: its task was busy
 * waiting for the report, which waited for it. Now the report does not await anything: it
 * reads the size the applier publishes (under the lock) whenever it changes the shard. The
 * lock future keeps its place, so the compactor never overtakes a waiting applier. The rule:
 * in a select arm, never await something that a future kept alive outside the select (here
 * the lock future) stands in the way of.
 * (Everything below the line is starter.c with that change.)
 * ------------------------------------------------------------------------------------------
 *
 * An index shard is guarded by an async mutex. An applier task applies updates to it; a
 * compactor task takes the same lock now and then and holds it for a while. When the applier
 * has waited 5 ms for the lock it logs a progress report with the shard's size, so the
 * operators can see it is alive, and goes back to waiting.
 *
 * The first version did that with a plain select over (lock, 5 ms timer): every time the
 * timer won, select dropped the lock future and the applier went to the back of the queue.
 * Under load it starved. So the author kept the lock future alive across the timer with
 * `keep_polling`, a borrowed view that select may drop without dropping the lock future
 * inside it, exactly what `&mut fut` does in Rust's select!. Run it: `weft lab run 16`, then
 * `weft lab check 16`.
 *
 * Your job: every update is applied and a progress report is logged for every 5 ms the
 * applier spends waiting, in every schedule, without giving up the applier's place in the
 * lock's queue.
 */
#include <stdatomic.h>
#include <string.h>

#include <lab.h>

#define UPDATES 16
#define COMPACTIONS 4
#define REPORT_EVERY weft_ms(5)

/* ---------------------------------------------------------------- the shard */

static weft_mutex shard_lock; /* guards shard_size */
static int shard_size;

/* For the grader: did the compactor ever get the lock ahead of an applier that was already
 * waiting for it (the applier lost its place in the queue)? */
static bool applier_waiting;    /* the applier waits for the lock now */
static int applier_episode;     /* counts the applier's waits */

/* ---------------------------------------------------------------- keep_polling
 *
 * A borrowed view of a future, for use as a select branch: polling the view polls the future;
 * dropping the view does nothing, so the future keeps whatever it had (its place in a queue). */
typedef struct keep_polling {
    weft_future base;
    weft_future *inner;
} keep_polling;

static weft_poll keep_polling_poll(weft_future *f, weft_context *cx)
{
    return weft_future_poll(((keep_polling *)f)->inner, cx);
}

static const weft_future_vtable keep_polling_vt = {keep_polling_poll, NULL, "keep_polling"};

static void keep_polling_init(keep_polling *k, weft_future *inner)
{
    k->base.vt = &keep_polling_vt;
    k->inner = inner;
}

/* ---------------------------------------------------------------- the progress report
 *
 * It reads a size published under the lock, and never awaits: nothing it does can wait for
 * the lock our kept lock future is queued for. */
static _Atomic int shard_size_published;

static void report_progress(void)
{
    lab_say("applier: still waiting for the shard (%d entries)",
            atomic_load(&shard_size_published));
    lab_count("reports", 1);
}

/* ---------------------------------------------------------------- the applier */

typedef struct applier {
    weft_async co;
    int i;
    weft_sleep wait;
    weft_mutex_lock lk;      /* our place in the shard's queue, kept across reports */
    bool lk_live;            /* lk is in flight (not yet READY) */
    bool holds;              /* lk.guard holds the lock */
    keep_polling view;
    weft_sleep tick;
    weft_future *branches[2];
    weft_select sel;
} applier;

static weft_poll applier_poll(weft_future *f, weft_context *cx)
{
    applier *a = (applier *)f;
    WEFT_ASYNC_BEGIN(&a->co);
    for (a->i = 0; a->i < UPDATES; a->i++) {
        weft_sleep_init(&a->wait, weft_ms(weft_rand_below(10))); /* the next update comes */
        WEFT_AWAIT(&a->co, cx, &a->wait);

        weft_mutex_lock_init(&a->lk, &shard_lock);
        a->lk_live = true;
        applier_waiting = true;
        applier_episode++;
        for (;;) {
            keep_polling_init(&a->view, &a->lk.base);
            weft_sleep_init(&a->tick, REPORT_EVERY);
            a->branches[0] = &a->view.base;
            a->branches[1] = &a->tick.base;
            weft_select_biased_init(&a->sel, a->branches, 2);
            WEFT_AWAIT(&a->co, cx, &a->sel);
            if (a->sel.winner == 0)
                break;
            lab_count("waits", 1);
            report_progress(); /* no await while the kept lock future sits in the queue */
        }
        a->lk_live = false;
        a->holds = true;
        applier_waiting = false;
        shard_size++;
        atomic_store(&shard_size_published, shard_size);
        weft_sleep_init(&a->wait, weft_ms(1)); /* write the entry */
        WEFT_AWAIT(&a->co, cx, &a->wait);
        weft_mutex_guard_release(&a->lk.guard);
        a->holds = false;
        lab_count("applied", 1);
    }
    WEFT_ASYNC_END(&a->co);
}

static void applier_drop(weft_future *f)
{
    applier *a = (applier *)f;
    weft_async_drop(f); /* whatever is awaited now: the select, a report, a sleep */
    if (a->lk_live)
        weft_future_drop(&a->lk.base); /* the kept lock future itself */
    if (a->holds)
        weft_mutex_guard_release(&a->lk.guard);
    a->lk_live = a->holds = false;
}

static const weft_future_vtable applier_vt = {applier_poll, applier_drop, "applier"};

/* ---------------------------------------------------------------- the compactor */

typedef struct compactor {
    weft_async co;
    int i;
    int behind;              /* the applier's wait we queued behind, or -1 */
    weft_sleep wait;
    weft_mutex_lock lk;
    bool holds;
} compactor;

static weft_poll compactor_poll(weft_future *f, weft_context *cx)
{
    compactor *c = (compactor *)f;
    WEFT_ASYNC_BEGIN(&c->co);
    for (c->i = 0; c->i < COMPACTIONS; c->i++) {
        weft_sleep_init(&c->wait, weft_ms(5 + weft_rand_below(30)));
        WEFT_AWAIT(&c->co, cx, &c->wait);
        c->behind = applier_waiting ? applier_episode : -1;
        weft_mutex_lock_init(&c->lk, &shard_lock);
        WEFT_AWAIT(&c->co, cx, &c->lk);
        c->holds = true;
        if (c->behind >= 0 && applier_waiting && applier_episode == c->behind)
            lab_count("overtaken", 1);
        weft_sleep_init(&c->wait, weft_ms(8 + weft_rand_below(12))); /* compact */
        WEFT_AWAIT(&c->co, cx, &c->wait);
        weft_mutex_guard_release(&c->lk.guard);
        c->holds = false;
    }
    WEFT_ASYNC_END(&c->co);
}

static void compactor_drop(weft_future *f)
{
    compactor *c = (compactor *)f;
    weft_async_drop(f);
    if (c->holds)
        weft_mutex_guard_release(&c->lk.guard);
    c->holds = false;
}

static const weft_future_vtable compactor_vt = {compactor_poll, compactor_drop, "compactor"};

/* The verdict, judged inside the runtime once both tasks are done. */
static void judge(void)
{
    lab_check("all-applied", lab_counter("applied") == UPDATES && shard_size == UPDATES,
              "%lld of %d updates applied", (long long)lab_counter("applied"), UPDATES);
    lab_check("progress-reports", lab_counter("reports") == lab_counter("waits"),
              "%lld progress reports logged for %lld waits of 5 ms",
              (long long)lab_counter("reports"), (long long)lab_counter("waits"));
    lab_check("kept-place", lab_counter("overtaken") == 0,
              "the compactor got the lock ahead of the waiting applier %lld times",
              (long long)lab_counter("overtaken"));
}

/* ---------------------------------------------------------------- main */

typedef struct app {
    weft_async co;
    weft_join_handle h[2];
} app;

static weft_poll app_poll(weft_future *f, weft_context *cx)
{
    app *a = (app *)f;
    WEFT_ASYNC_BEGIN(&a->co);
    WEFT_AWAIT(&a->co, cx, &a->h[0]);
    WEFT_AWAIT(&a->co, cx, &a->h[1]);
    judge();
    WEFT_ASYNC_END(&a->co);
}

static void app_drop(weft_future *f)
{
    app *a = (app *)f;
    weft_async_drop(f);
    for (int i = 0; i < 2; i++) {
        weft_join_handle_abort(&a->h[i]);
        weft_join_handle_detach(&a->h[i]);
    }
}

static const weft_future_vtable app_vt = {app_poll, app_drop, "main"};

static int run(void *arg)
{
    (void)arg;
    lab_begin();
    shard_size = 0;
    atomic_store(&shard_size_published, 0);
    applier_waiting = false;
    applier_episode = 0;
    weft_mutex_init(&shard_lock, "shard");
    weft_builder b = weft_builder_new_multi_thread();
    weft_runtime *rt;
    if (weft_runtime_new(&b, &rt) != 0)
        return 1;
    applier ap = {0};
    weft_async_init(&ap.co, &applier_vt);
    compactor cp = {0};
    weft_async_init(&cp.co, &compactor_vt);
    app a;
    weft_async_init(&a.co, &app_vt);
    a.h[0] = weft_runtime_spawn_named(rt, "applier", &ap);
    a.h[1] = weft_runtime_spawn_named(rt, "compactor", &cp);
    if (weft_block_on(rt, &a.co.base) != 0)
        weft_future_drop(&a.co.base);
    weft_runtime_shutdown(rt);
    weft_mutex_destroy(&shard_lock);

    return 0;
}

int main(int argc, char **argv)
{
    return lab_main(argc, argv, run);
}
