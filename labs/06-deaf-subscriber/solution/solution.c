/* Lab 06 - the deaf subscriber: the reference solution.
 *
 * The fix: WEFT_ELAGGED is not an error of the channel, it is news: "you were too slow, and
 * this many updates went by without you". The receiver has already been moved to the oldest
 * update still kept, so the dashboard counts what it missed and goes on receiving. Only
 * WEFT_ECLOSED (the feed is gone and everything was read) ends it. A bigger channel would
 * only move the moment it lags; a subscriber slower than its feed has to handle lag.
 * (Everything below the line is starter.c with that change.)
 * ------------------------------------------------------------------------------------------
 *
 * A trading dashboard shows live prices:
 *
 *   feed        publishes a price update every millisecond (400 updates) on a broadcast
 *               channel that keeps the last 16, then closes it (the trading day is over).
 *   dashboard   receives the updates and renders each one (1 to 3 ms, weft_rand).
 *
 * Traders say the dashboard freezes a few milliseconds after the market opens and shows the
 * same price all day. Nothing crashed: the dashboard task simply ended. Find out why, and make
 * the dashboard keep up with the feed as well as a slow renderer can, to the end of the day.
 *
 * Checks (printed at the end of every run):
 *   stays-subscribed   the dashboard listens until the feed closes, on a channel of 16
 *   final-price        at the end it shows the day's last price
 *   accounts-for-all   every update was either rendered in full or counted as skipped
 */
#include <string.h>

#include <lab.h>

#define UPDATES 400
#define KEEP 16 /* the channel's capacity: the memory budget of every subscriber */

typedef struct update {
    int seq;
    int price; /* in cents */
} update;

static int price_of(int seq)
{
    return 10000 + (seq * 7919) % 500;
}

/* ---------------------------------------------------------------- feed */

typedef struct feed {
    weft_async co;
    weft_broadcast_sender tx;
    int seq;
    weft_sleep tick;
} feed;

static weft_poll feed_poll(weft_future *f, weft_context *cx)
{
    feed *fd = (feed *)f;
    WEFT_ASYNC_BEGIN(&fd->co);
    for (fd->seq = 0; fd->seq < UPDATES; fd->seq++) {
        weft_sleep_init(&fd->tick, weft_ms(1));
        WEFT_AWAIT(&fd->co, cx, &fd->tick);
        update u = {fd->seq, price_of(fd->seq)};
        if (weft_broadcast_send(&fd->tx, &u) < 0)
            break; /* nobody listens any more */
    }
    weft_broadcast_sender_drop(&fd->tx); /* close: subscribers see WEFT_ECLOSED when done */
    WEFT_ASYNC_END(&fd->co);
}

static void feed_drop(weft_future *f)
{
    feed *fd = (feed *)f;
    weft_async_drop(f);
    weft_broadcast_sender_drop(&fd->tx);
}

static const weft_future_vtable feed_vt = {feed_poll, feed_drop, "feed"};

/* ---------------------------------------------------------------- dashboard */

typedef struct screen {
    int shown_price;  /* what the traders see */
    int rendered;     /* updates rendered */
    long skipped;     /* updates the dashboard knows it missed */
    int last_status;  /* why the dashboard stopped listening */
    weft_duration render_time, render_cost; /* measured, and what rendering should take */
} screen;

static screen the_screen;

typedef struct dashboard {
    weft_async co;
    weft_broadcast_receiver rx;
    update u;
    weft_duration cost, began;
    weft_broadcast_recv recv;
    weft_sleep render;
} dashboard;

static weft_poll dashboard_poll(weft_future *f, weft_context *cx)
{
    dashboard *d = (dashboard *)f;
    WEFT_ASYNC_BEGIN(&d->co);
    for (;;) {
        weft_broadcast_recv_init(&d->recv, &d->rx, &d->u);
        WEFT_AWAIT(&d->co, cx, &d->recv);
        the_screen.last_status = d->recv.status;
        if (d->recv.status == WEFT_ELAGGED) {
            /* Missed some: count them and resume at the oldest update still kept. */
            the_screen.skipped += (long)d->recv.lagged;
            continue;
        }
        if (d->recv.status != 0) {
            if (d->recv.status != WEFT_ECLOSED)
                lab_say("dashboard: receive failed (%s); closing the dashboard",
                        weft_strerror(d->recv.status));
            break;
        }

        d->cost = weft_ms(1 + weft_rand_below(3));
        d->began = lab_now();
        weft_sleep_init(&d->render, d->cost);
        WEFT_AWAIT(&d->co, cx, &d->render);
        the_screen.render_time += lab_now() - d->began;
        the_screen.render_cost += d->cost;
        the_screen.shown_price = d->u.price;
        the_screen.rendered++;
    }
    weft_broadcast_receiver_drop(&d->rx);
    WEFT_ASYNC_END(&d->co);
}

static void dashboard_drop(weft_future *f)
{
    dashboard *d = (dashboard *)f;
    weft_async_drop(f);
    weft_broadcast_receiver_drop(&d->rx);
}

static const weft_future_vtable dashboard_vt = {dashboard_poll, dashboard_drop, "dashboard"};

/* ---------------------------------------------------------------- main and the checks */

static void judge(void)
{
    const screen *s = &the_screen;
    lab_check("stays-subscribed", s->last_status == WEFT_ECLOSED && KEEP == 16,
              "the dashboard stopped on %s (it should stop on the feed's close only), "
              "channel of %d updates (budget 16)",
              s->last_status ? weft_strerror(s->last_status) : "nothing", KEEP);
    lab_check("final-price", s->shown_price == price_of(UPDATES - 1),
              "the dashboard shows %d.%02d, the day's last price is %d.%02d",
              s->shown_price / 100, s->shown_price % 100, price_of(UPDATES - 1) / 100,
              price_of(UPDATES - 1) % 100);
    lab_check("accounts-for-all",
              s->rendered + s->skipped == UPDATES && s->render_time >= s->render_cost &&
                  s->render_cost > 0,
              "%d rendered + %ld skipped = %ld of %d updates; rendering took %llu ms for %llu "
              "ms of work",
              s->rendered, s->skipped, s->rendered + s->skipped, UPDATES,
              (unsigned long long)(s->render_time / 1000000u),
              (unsigned long long)(s->render_cost / 1000000u));
}

typedef struct market {
    weft_async co;
    weft_join_handle feed, dash;
} market;

static weft_poll market_poll(weft_future *f, weft_context *cx)
{
    market *m = (market *)f;
    WEFT_ASYNC_BEGIN(&m->co);
    {
        feed fd;
        dashboard d;
        weft_async_init(&fd.co, &feed_vt);
        weft_async_init(&d.co, &dashboard_vt);
        if (weft_broadcast_channel(&fd.tx, &d.rx, KEEP, sizeof(update), "prices") != 0)
            WEFT_ASYNC_RETURN(&m->co);
        /* spawn moves the handles into the tasks */
        m->dash = weft_spawn_named("dashboard", &d);
        m->feed = weft_spawn_named("feed", &fd);
    }
    WEFT_AWAIT(&m->co, cx, &m->feed);
    WEFT_AWAIT(&m->co, cx, &m->dash);
    lab_say("the day is over: %d updates rendered, %ld skipped", the_screen.rendered,
            the_screen.skipped);
    judge();
    WEFT_ASYNC_END(&m->co);
}

static void market_drop(weft_future *f)
{
    market *m = (market *)f;
    weft_async_drop(f);
    weft_join_handle_detach(&m->feed);
    weft_join_handle_detach(&m->dash);
}

static const weft_future_vtable market_vt = {market_poll, market_drop, "market"};

static int run(void *arg)
{
    (void)arg;
    lab_begin();
    memset(&the_screen, 0, sizeof the_screen);
    weft_builder b = weft_builder_new_current_thread();
    b.enable_time = true;
    weft_runtime *rt;
    if (weft_runtime_new(&b, &rt) != 0)
        return 2;
    market m;
    memset(&m, 0, sizeof m);
    weft_async_init(&m.co, &market_vt);
    if (weft_block_on(rt, &m.co.base) != 0)
        weft_future_drop(&m.co.base); /* the run was stopped: cancel what main still holds */
    weft_runtime_shutdown(rt);
    return 0;
}

int main(int argc, char **argv)
{
    return lab_main(argc, argv, run);
}
