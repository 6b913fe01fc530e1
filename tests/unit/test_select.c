/* tests/unit/test_select.c - the combinators: select (random and biased, losers dropped,
 * absent branches), join_all and try_join (first error drops the rest).
 *
 * Most cases drive the combinators by hand, polling them with a counting waker outside any
 * runtime, over small "step" futures that count their polls and drops: what a user relies on
 * is exactly which branches were polled, completed and dropped. The runtime cases (both
 * flavours; the multi-thread ones also in the tsan suite) check that a channel receive losing
 * a select to a sleep loses no value, try_join over real tasks, and a select loop between a
 * Notify and a CancellationToken across workers.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>
#include <weft/weft.h>

#if __has_include(<weft/mpsc.h>)
#include <weft/mpsc.h>
#define HAVE_MPSC 1
#else
#define HAVE_MPSC 0
#endif

/* ---------------------------------------------------------------- a counting waker */
typedef struct probe {
    _Atomic int wakes;
    _Atomic int clones;
} probe;

static const weft_waker_vtable probe_vt;

static weft_waker probe_clone(const void *d)
{
    atomic_fetch_add(&((probe *)d)->clones, 1);
    return (weft_waker){&probe_vt, d};
}

static void probe_wake(const void *d)
{
    atomic_fetch_add(&((probe *)d)->wakes, 1);
    atomic_fetch_sub(&((probe *)d)->clones, 1);
}

static void probe_wake_by_ref(const void *d)
{
    atomic_fetch_add(&((probe *)d)->wakes, 1);
}

static void probe_drop(const void *d)
{
    atomic_fetch_sub(&((probe *)d)->clones, 1);
}

static const weft_waker_vtable probe_vt = {probe_clone, probe_wake, probe_wake_by_ref,
                                           probe_drop};

static weft_poll poll_with(weft_future *f, probe *p)
{
    weft_waker w = {&probe_vt, p};
    weft_context cx = {&w, NULL};
    return weft_future_poll(f, &cx);
}

/* ---------------------------------------------------------------- step futures
 *
 * READY at its (after+1)-th poll, reporting `fail` in `status`; until then it wakes itself
 * and returns PENDING, like a yield. after < 0: never ready, registers nothing (it is only
 * ever cancelled). Counts polls, polls after it finished, and drops. */
typedef struct step {
    weft_future base;
    int after;
    int fail;
    int status;
    int polls;
    int drops;
    bool finished;   /* completed or dropped */
    int late_polls;  /* polls after it finished: must stay 0 */
} step;

static weft_poll step_poll(weft_future *f, weft_context *cx)
{
    step *s = (step *)f;
    if (s->finished)
        s->late_polls++;
    s->polls++;
    if (s->after >= 0 && s->polls > s->after) {
        s->status = s->fail;
        s->finished = true;
        return WEFT_READY;
    }
    if (s->after >= 0)
        weft_waker_wake_by_ref(cx->waker);
    return WEFT_PENDING;
}

static void step_drop(weft_future *f)
{
    step *s = (step *)f;
    if (s->finished)
        s->late_polls++; /* a drop after completion is as wrong as a late poll */
    s->finished = true;
    s->drops++;
}

static const weft_future_vtable step_vt = {step_poll, step_drop, "step"};

static step make_step(int after, int fail)
{
    return (step){.base = {&step_vt}, .after = after, .fail = fail};
}

/* Poll a combinator until READY (at most `limit` polls); returns the number of polls. */
static int drive(weft_future *f, probe *p, int limit)
{
    for (int i = 1; i <= limit; i++)
        if (poll_with(f, p) == WEFT_READY)
            return i;
    return -1;
}

/* ---------------------------------------------------------------- select */

static void test_select_loser_is_dropped_when_the_winner_completes(void **state)
{
    (void)state;
    probe p = {0};
    for (int iter = 0; iter < 50; iter++) {
        step never = make_step(-1, 0), soon = make_step(1, 0);
        weft_future *br[2] = {&never.base, &soon.base};
        weft_select sel;
        weft_select_init(&sel, br, 2);
        assert_int_equal(drive(&sel.base, &p, 10), 2);
        assert_int_equal(sel.winner, 1);
        assert_int_equal(sel.status, 0);
        assert_int_equal(never.drops, 1); /* the loser's drop ran */
        assert_int_equal(soon.drops, 0);  /* the winner is never dropped */
        assert_int_equal(never.late_polls + soon.late_polls, 0);
        weft_future_drop(&sel.base);      /* dropping a finished select changes nothing */
        assert_int_equal(never.drops, 1);
        assert_int_equal(soon.drops, 0);
    }
    /* A loser that was never polled is dropped too: it belonged to the select. */
    step first = make_step(0, 0), unpolled = make_step(-1, 0);
    weft_future *br[2] = {&first.base, &unpolled.base};
    weft_select sel;
    weft_select_biased_init(&sel, br, 2);
    assert_int_equal(poll_with(&sel.base, &p), WEFT_READY);
    assert_int_equal(sel.winner, 0);
    assert_int_equal(unpolled.polls, 0);
    assert_int_equal(unpolled.drops, 1);
}

static void test_select_biased_picks_the_first_ready_branch_in_order(void **state)
{
    (void)state;
    probe p = {0};
    for (int iter = 0; iter < 100; iter++) {
        step a = make_step(-1, 0), b = make_step(0, 0), c = make_step(0, 0);
        weft_future *br[3] = {&a.base, &b.base, &c.base};
        weft_select sel;
        weft_select_biased_init(&sel, br, 3);
        assert_int_equal(poll_with(&sel.base, &p), WEFT_READY);
        assert_int_equal(sel.winner, 1);
        assert_int_equal(a.polls, 1);
        assert_int_equal(c.polls, 0); /* never reached */
        assert_int_equal(a.drops, 1);
        assert_int_equal(c.drops, 1);
    }
}

static void test_select_random_start_spreads_wins_over_branches(void **state)
{
    (void)state;
    probe p = {0};
    int wins[3] = {0};
    for (int iter = 0; iter < 300; iter++) {
        step s[3] = {make_step(0, 0), make_step(0, 0), make_step(0, 0)};
        weft_future *br[3] = {&s[0].base, &s[1].base, &s[2].base};
        weft_select sel;
        weft_select_init(&sel, br, 3);
        assert_int_equal(poll_with(&sel.base, &p), WEFT_READY);
        assert_true(sel.winner >= 0 && sel.winner < 3);
        wins[sel.winner]++;
        for (int i = 0; i < 3; i++)
            assert_int_equal(s[i].drops, i == sel.winner ? 0 : 1);
    }
    /* Each has probability 1/3 per round: never winning in 300 rounds is (2/3)^300. */
    for (int i = 0; i < 3; i++)
        assert_true(wins[i] > 0);
}

static void test_select_dropped_select_drops_every_unfinished_branch(void **state)
{
    (void)state;
    probe p = {0};
    step a = make_step(-1, 0), b = make_step(5, 0);
    weft_future *br[3] = {&a.base, NULL, &b.base};
    weft_select sel;
    weft_select_init(&sel, br, 3);
    assert_int_equal(poll_with(&sel.base, &p), WEFT_PENDING);
    weft_future_drop(&sel.base);
    assert_int_equal(a.drops, 1);
    assert_int_equal(b.drops, 1);

    /* Never polled at all: its branches are still its own to cancel. */
    step c = make_step(-1, 0), d = make_step(0, 0);
    weft_future *br2[2] = {&c.base, &d.base};
    weft_select_init(&sel, br2, 2);
    weft_future_drop(&sel.base);
    assert_int_equal(c.drops + d.drops, 2);
    assert_int_equal(c.polls + d.polls, 0);
}

/* NULL branches are Tokio's `if false` branches: never polled, never dropped. */
static void test_select_absent_branches_are_never_touched(void **state)
{
    (void)state;
    probe p = {0};
    step a = make_step(0, 0);
    weft_future *br[3] = {NULL, &a.base, NULL};
    weft_select sel;
    weft_select_biased_init(&sel, br, 3);
    assert_int_equal(poll_with(&sel.base, &p), WEFT_READY);
    assert_int_equal(sel.winner, 1);

    /* Every branch absent: the `else` outcome. */
    weft_future *none[2] = {NULL, NULL};
    weft_select_init(&sel, none, 2);
    assert_int_equal(poll_with(&sel.base, &p), WEFT_READY);
    assert_int_equal(sel.winner, -1);
    assert_int_equal(sel.status, WEFT_EEMPTY);

    /* Bad arguments complete at once without touching anything. */
    weft_select_init(&sel, NULL, 2);
    assert_int_equal(poll_with(&sel.base, &p), WEFT_READY);
    assert_int_equal(sel.status, WEFT_EINVAL);
    weft_future *many[WEFT_SELECT_MAX + 1] = {&a.base};
    weft_select_init(&sel, many, WEFT_SELECT_MAX + 1);
    assert_int_equal(poll_with(&sel.base, &p), WEFT_READY);
    assert_int_equal(sel.status, WEFT_EINVAL);
    assert_int_equal(sel.winner, -1);
    assert_int_equal(a.polls, 1);
    assert_int_equal(a.drops, 0);
}

/* ---------------------------------------------------------------- join_all */

static void test_select_join_all_waits_for_every_branch(void **state)
{
    (void)state;
    probe p = {0};
    step s[3] = {make_step(3, 0), make_step(0, 0), make_step(5, 0)};
    weft_future *br[4] = {&s[0].base, &s[1].base, NULL, &s[2].base};
    weft_join_all j;
    weft_join_all_init(&j, br, 4);
    /* The slowest branch needs 6 polls; the join is READY on exactly that poll. */
    assert_int_equal(drive(&j.base, &p, 20), 6);
    assert_int_equal(j.status, 0);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(s[i].polls, s[i].after + 1);
        assert_int_equal(s[i].drops, 0);
        assert_int_equal(s[i].late_polls, 0);
    }
}

static void test_select_dropped_join_all_drops_only_unfinished_branches(void **state)
{
    (void)state;
    probe p = {0};
    step s[2] = {make_step(0, 0), make_step(-1, 0)};
    weft_future *br[2] = {&s[0].base, &s[1].base};
    weft_join_all j;
    weft_join_all_init(&j, br, 2);
    assert_int_equal(poll_with(&j.base, &p), WEFT_PENDING);
    weft_future_drop(&j.base);
    assert_int_equal(s[0].drops, 0); /* it had completed */
    assert_int_equal(s[1].drops, 1);
}

/* ---------------------------------------------------------------- try_join */

static void test_select_try_join_first_error_drops_the_rest(void **state)
{
    (void)state;
    probe p = {0};
    step ok = make_step(1, 0), bad = make_step(2, -42), never = make_step(-1, 0),
         slow = make_step(10, 0);
    weft_future *br[4] = {&ok.base, &bad.base, &never.base, &slow.base};
    int *st[4] = {&ok.status, &bad.status, &never.status, &slow.status};
    weft_try_join j;
    weft_try_join_init(&j, br, st, 4);
    assert_int_equal(drive(&j.base, &p, 20), 3);
    assert_int_equal(j.status, -42);
    assert_int_equal(j.failed, 1);
    assert_int_equal(ok.drops, 0);    /* it had completed */
    assert_int_equal(bad.drops, 0);   /* it completed (with an error) */
    assert_int_equal(never.drops, 1); /* the rest were cancelled */
    assert_int_equal(slow.drops, 1);
    assert_int_equal(ok.late_polls + bad.late_polls + never.late_polls + slow.late_polls, 0);
}

static void test_select_try_join_succeeds_when_every_branch_does(void **state)
{
    (void)state;
    probe p = {0};
    step a = make_step(2, 0), b = make_step(0, 0), c = make_step(1, 7);
    weft_future *br[3] = {&a.base, &b.base, &c.base};
    /* c reports 7 but has no outcome pointer: it cannot fail. */
    int *st[3] = {&a.status, &b.status, NULL};
    weft_try_join j;
    weft_try_join_init(&j, br, st, 3);
    assert_int_equal(drive(&j.base, &p, 20), 3);
    assert_int_equal(j.status, 0);
    assert_int_equal(j.failed, -1);
    assert_int_equal(a.drops + b.drops + c.drops, 0);

    /* No outcome array at all: a plain join. */
    step d = make_step(0, -1);
    weft_future *br1[1] = {&d.base};
    weft_try_join_init(&j, br1, NULL, 1);
    assert_int_equal(poll_with(&j.base, &p), WEFT_READY);
    assert_int_equal(j.status, 0);
}

/* ---------------------------------------------------------------- on a runtime */

static weft_runtime *new_rt(weft_flavor flavor)
{
    weft_builder b = flavor == WEFT_CURRENT_THREAD ? weft_builder_new_current_thread()
                                                   : weft_builder_new_multi_thread();
    b.worker_threads = 2;
    weft_runtime *rt = NULL;
    assert_int_equal(weft_runtime_new(&b, &rt), 0);
    return rt;
}

/* A hand-written channel of ints for one receiver: a recv takes a value only when it returns
 * READY, so dropping a pending recv loses nothing (the property under test in select). */
#define MINI_CAP 256

typedef struct mini_chan {
    pthread_mutex_t lock;
    int buf[MINI_CAP];
    unsigned head, len;
    weft_waker rx_waker; /* [lock] the pending recv's waker */
} mini_chan;

static void mini_send(mini_chan *c, int v)
{
    pthread_mutex_lock(&c->lock);
    assert_true(c->len < MINI_CAP);
    c->buf[(c->head + c->len++) % MINI_CAP] = v;
    weft_waker w = c->rx_waker;
    c->rx_waker = WEFT_WAKER_NONE;
    pthread_mutex_unlock(&c->lock);
    weft_waker_wake(&w);
}

typedef struct mini_recv {
    weft_future base;
    mini_chan *c;
    int value;
} mini_recv;

static weft_poll mini_recv_poll(weft_future *f, weft_context *cx)
{
    mini_recv *r = (mini_recv *)f;
    if (!weft_coop_proceed(cx))
        return WEFT_PENDING;
    pthread_mutex_lock(&r->c->lock);
    if (r->c->len) {
        r->value = r->c->buf[r->c->head];
        r->c->head = (r->c->head + 1) % MINI_CAP;
        r->c->len--;
        pthread_mutex_unlock(&r->c->lock);
        return WEFT_READY;
    }
    weft_waker_register(&r->c->rx_waker, cx);
    pthread_mutex_unlock(&r->c->lock);
    return WEFT_PENDING;
}

static void mini_recv_drop(weft_future *f)
{
    mini_recv *r = (mini_recv *)f;
    pthread_mutex_lock(&r->c->lock);
    weft_waker w = r->c->rx_waker;
    r->c->rx_waker = WEFT_WAKER_NONE;
    pthread_mutex_unlock(&r->c->lock);
    weft_waker_drop(&w);
}

static const weft_future_vtable mini_recv_vt = {mini_recv_poll, mini_recv_drop, "mini_recv"};

static void mini_recv_init(mini_recv *r, mini_chan *c)
{
    *r = (mini_recv){.base = {&mini_recv_vt}, .c = c};
}

/* Sends 0..n-1, one every `gap` yields, so that sends land at varying points of the
 * receiver's select loop. */
#define VALUES 60

typedef struct mini_sender {
    weft_async co;
    mini_chan *c;
    int i, k;
    weft_sleep nap;
} mini_sender;

static weft_poll mini_sender_poll(weft_future *f, weft_context *cx)
{
    mini_sender *s = (mini_sender *)f;
    WEFT_ASYNC_BEGIN(&s->co);
    for (s->i = 0; s->i < VALUES; s->i++) {
        weft_sleep_init(&s->nap, weft_us(200 * (unsigned)weft_rand_below(8)));
        WEFT_AWAIT(&s->co, cx, &s->nap);
        mini_send(s->c, s->i);
    }
    WEFT_ASYNC_END(&s->co);
}

static const weft_future_vtable mini_sender_vt = {mini_sender_poll, weft_async_drop,
                                                  "mini_sender"};

typedef struct recv_vs_sleep {
    weft_async co;
    mini_chan *c;
    mini_recv recv;
    weft_sleep nap;
    weft_future *br[2];
    weft_select sel;
    weft_join_handle sender;
    int got[VALUES];
    int ngot;
    int sleep_wins;        /* rounds the sleep won */
    int sleep_won_first;   /* the deterministic opening: the sleep won over an empty channel */
    int first_value;
} recv_vs_sleep;

static weft_poll recv_vs_sleep_poll(weft_future *f, weft_context *cx)
{
    recv_vs_sleep *s = (recv_vs_sleep *)f;
    WEFT_ASYNC_BEGIN(&s->co);
    /* Opening, deterministic: the recv registers its waker, the sleep wins, the recv is
     * dropped; a value sent afterwards is received by the next recv. */
    mini_recv_init(&s->recv, s->c);
    weft_sleep_init(&s->nap, weft_ms(1));
    s->br[0] = &s->recv.base;
    s->br[1] = &s->nap.base;
    weft_select_biased_init(&s->sel, s->br, 2);
    WEFT_AWAIT(&s->co, cx, &s->sel);
    s->sleep_won_first = s->sel.winner == 1;
    mini_send(s->c, 1000);
    mini_recv_init(&s->recv, s->c);
    WEFT_AWAIT(&s->co, cx, &s->recv);
    s->first_value = s->recv.value;

    /* Then racing a sender task: whoever wins each round, every value arrives exactly once
     * and in order. */
    {
        mini_sender ms = {.c = s->c};
        weft_async_init(&ms.co, &mini_sender_vt);
        s->sender = weft_spawn(&ms);
    }
    while (s->ngot < VALUES) {
        mini_recv_init(&s->recv, s->c);
        weft_sleep_init(&s->nap, weft_us(300));
        s->br[0] = &s->recv.base;
        s->br[1] = &s->nap.base;
        weft_select_init(&s->sel, s->br, 2);
        WEFT_AWAIT(&s->co, cx, &s->sel);
        if (s->sel.winner == 0)
            s->got[s->ngot++] = s->recv.value;
        else
            s->sleep_wins++;
    }
    WEFT_AWAIT(&s->co, cx, &s->sender);
    WEFT_ASYNC_END(&s->co);
}

static const weft_future_vtable recv_vs_sleep_vt = {recv_vs_sleep_poll, weft_async_drop,
                                                    "recv_vs_sleep"};

static void check_recv_loses_no_value_when_the_sleep_wins(weft_flavor flavor)
{
    weft_runtime *rt = new_rt(flavor);
    mini_chan *c = calloc(1, sizeof *c);
    pthread_mutex_init(&c->lock, NULL);
    recv_vs_sleep *s = calloc(1, sizeof *s);
    s->c = c;
    weft_async_init(&s->co, &recv_vs_sleep_vt);
    assert_int_equal(weft_block_on(rt, &s->co.base), 0);
    assert_true(s->sleep_won_first);
    assert_int_equal(s->first_value, 1000);
    assert_int_equal(s->ngot, VALUES);
    for (int i = 0; i < VALUES; i++)
        assert_int_equal(s->got[i], i);
    assert_int_equal(c->len, 0);
    assert_false(weft_waker_is_set(&c->rx_waker)); /* every dropped recv unregistered */
    weft_runtime_shutdown(rt);
    pthread_mutex_destroy(&c->lock);
    free(c);
    free(s);
}

static void test_select_recv_loses_no_value_when_the_sleep_wins_ct(void **state)
{
    (void)state;
    check_recv_loses_no_value_when_the_sleep_wins(WEFT_CURRENT_THREAD);
}

static void test_select_recv_loses_no_value_when_the_sleep_wins_mt(void **state)
{
    (void)state;
    check_recv_loses_no_value_when_the_sleep_wins(WEFT_MULTI_THREAD);
}

#if HAVE_MPSC
/* The same property with weft's own mpsc channel: a recv that loses to a sleep is dropped,
 * the value sent afterwards (or meanwhile) is received by the next recv. */
typedef struct mpsc_case {
    weft_async co;
    weft_mpsc_sender tx;
    weft_mpsc_receiver rx;
    weft_mpsc_recv recv;
    weft_sleep nap;
    weft_future *br[2];
    weft_select sel;
    int out;
    int winner_first;
    int recv_status;
    int value;
} mpsc_case;

static weft_poll mpsc_case_poll(weft_future *f, weft_context *cx)
{
    mpsc_case *s = (mpsc_case *)f;
    WEFT_ASYNC_BEGIN(&s->co);
    weft_mpsc_recv_init(&s->recv, &s->rx, &s->out);
    weft_sleep_init(&s->nap, weft_ms(1));
    s->br[0] = &s->recv.base;
    s->br[1] = &s->nap.base;
    weft_select_init(&s->sel, s->br, 2);
    WEFT_AWAIT(&s->co, cx, &s->sel);
    s->winner_first = s->sel.winner;
    {
        int v = 77;
        if (weft_mpsc_try_send(&s->tx, &v) != 0)
            s->winner_first = -2;
    }
    weft_mpsc_recv_init(&s->recv, &s->rx, &s->out);
    WEFT_AWAIT(&s->co, cx, &s->recv);
    s->recv_status = s->recv.status;
    s->value = s->out;
    weft_mpsc_sender_drop(&s->tx);
    weft_mpsc_receiver_drop(&s->rx);
    WEFT_ASYNC_END(&s->co);
}

static const weft_future_vtable mpsc_case_vt = {mpsc_case_poll, weft_async_drop, "mpsc_case"};

static void check_mpsc_recv_loses_nothing(weft_flavor flavor)
{
    weft_runtime *rt = new_rt(flavor);
    mpsc_case *s = calloc(1, sizeof *s);
    weft_async_init(&s->co, &mpsc_case_vt);
    assert_int_equal(weft_mpsc_channel(&s->tx, &s->rx, 4, sizeof(int), "select_mpsc"), 0);
    assert_int_equal(weft_block_on(rt, &s->co.base), 0);
    assert_int_equal(s->winner_first, 1); /* nothing was sent: the sleep won */
    assert_int_equal(s->recv_status, 0);
    assert_int_equal(s->value, 77);
    weft_runtime_shutdown(rt);
    free(s);
}

static void test_select_mpsc_recv_loses_no_value_when_the_sleep_wins_ct(void **state)
{
    (void)state;
    check_mpsc_recv_loses_nothing(WEFT_CURRENT_THREAD);
}

static void test_select_mpsc_recv_loses_no_value_when_the_sleep_wins_mt(void **state)
{
    (void)state;
    check_mpsc_recv_loses_nothing(WEFT_MULTI_THREAD);
}
#endif

/* try_join over real tasks: the failing task's error is reported with its index. */
typedef struct worker {
    weft_async co;
    int yields, i, err;
    weft_yield_now y;
} worker;

static weft_poll worker_poll(weft_future *f, weft_context *cx)
{
    worker *w = (worker *)f;
    WEFT_ASYNC_BEGIN(&w->co);
    for (w->i = 0; w->i < w->yields; w->i++) {
        weft_yield_now_init(&w->y);
        WEFT_AWAIT(&w->co, cx, &w->y);
    }
    if (w->err)
        weft_task_fail(cx, w->err);
    WEFT_ASYNC_END(&w->co);
}

static const weft_future_vtable worker_vt = {worker_poll, weft_async_drop, "worker"};

typedef struct join_tasks {
    weft_async co;
    weft_join_handle h[3];
    weft_future *br[3];
    int *st[3];
    weft_try_join tj;
} join_tasks;

static weft_poll join_tasks_poll(weft_future *f, weft_context *cx)
{
    join_tasks *s = (join_tasks *)f;
    WEFT_ASYNC_BEGIN(&s->co);
    {
        static const int yields[3] = {1, 3, 1000000};
        static const int errs[3] = {0, -7, 0};
        for (int i = 0; i < 3; i++) {
            worker w = {.yields = yields[i], .err = errs[i]};
            weft_async_init(&w.co, &worker_vt);
            s->h[i] = weft_spawn(&w);
            s->br[i] = &s->h[i].base;
            s->st[i] = &s->h[i].status;
        }
    }
    weft_try_join_init(&s->tj, s->br, s->st, 3);
    WEFT_AWAIT(&s->co, cx, &s->tj);
    WEFT_ASYNC_END(&s->co);
}

static const weft_future_vtable join_tasks_vt = {join_tasks_poll, weft_async_drop,
                                                 "join_tasks"};

static void check_try_join_over_tasks(weft_flavor flavor)
{
    weft_runtime *rt = new_rt(flavor);
    join_tasks s = {0};
    weft_async_init(&s.co, &join_tasks_vt);
    assert_int_equal(weft_block_on(rt, &s.co.base), 0);
    assert_int_equal(s.tj.status, -7);
    assert_int_equal(s.tj.failed, 1);
    assert_int_equal(s.h[0].status, 0);
    /* The long task was detached by the drop of its handle; shutdown cancels it. */
    weft_runtime_shutdown(rt);
}

static void test_select_try_join_over_tasks_reports_the_failure_ct(void **state)
{
    (void)state;
    check_try_join_over_tasks(WEFT_CURRENT_THREAD);
}

static void test_select_try_join_over_tasks_reports_the_failure_mt(void **state)
{
    (void)state;
    check_try_join_over_tasks(WEFT_MULTI_THREAD);
}

/* A consumer loops on select(notified, cancelled) while a producer on another task hands it
 * ROUNDS notifications (each acknowledged), then cancels the token. Every round the losing
 * branch is dropped while registered, across workers. The consumer must see exactly ROUNDS
 * notifications, and both Notify objects must end with nobody registered. */
#define ROUNDS 500

typedef struct consumer {
    weft_async co;
    weft_notify *n, *ack;
    weft_cancel_token *tok;
    weft_notified notified;
    weft_cancelled cancelled;
    weft_future *br[2];
    weft_select sel;
    int count;
} consumer;

static weft_poll consumer_poll(weft_future *f, weft_context *cx)
{
    consumer *c = (consumer *)f;
    WEFT_ASYNC_BEGIN(&c->co);
    for (;;) {
        weft_notify_notified_init(&c->notified, c->n);
        weft_cancel_token_cancelled_init(&c->cancelled, c->tok);
        c->br[0] = &c->notified.base;
        c->br[1] = &c->cancelled.base;
        weft_select_init(&c->sel, c->br, 2);
        WEFT_AWAIT(&c->co, cx, &c->sel);
        if (c->sel.winner != 0)
            break;
        c->count++;
        weft_notify_notify_one(c->ack);
    }
    weft_task_return(cx, c->count);
    WEFT_ASYNC_END(&c->co);
}

static const weft_future_vtable consumer_vt = {consumer_poll, weft_async_drop, "consumer"};

typedef struct producer {
    weft_async co;
    weft_notify n, ack;
    weft_cancel_token *tok;
    weft_join_handle h;
    weft_notified wait;
    int i;
} producer;

static weft_poll producer_poll(weft_future *f, weft_context *cx)
{
    producer *p = (producer *)f;
    WEFT_ASYNC_BEGIN(&p->co);
    {
        consumer c = {.n = &p->n, .ack = &p->ack, .tok = p->tok};
        weft_async_init(&c.co, &consumer_vt);
        p->h = weft_spawn(&c);
    }
    for (p->i = 0; p->i < ROUNDS; p->i++) {
        weft_notify_notify_one(&p->n);
        weft_notify_notified_init(&p->wait, &p->ack);
        WEFT_AWAIT(&p->co, cx, &p->wait);
    }
    weft_cancel_token_cancel(p->tok);
    WEFT_AWAIT(&p->co, cx, &p->h);
    WEFT_ASYNC_END(&p->co);
}

static const weft_future_vtable producer_vt = {producer_poll, weft_async_drop, "producer"};

static void check_notify_or_cancel_loop(weft_flavor flavor)
{
    weft_runtime *rt = new_rt(flavor);
    producer *p = calloc(1, sizeof *p);
    weft_async_init(&p->co, &producer_vt);
    weft_notify_init(&p->n, "work");
    weft_notify_init(&p->ack, "ack");
    assert_int_equal(weft_cancel_token_new(&p->tok, "stop"), 0);
    assert_int_equal(weft_block_on(rt, &p->co.base), 0);
    assert_int_equal(p->h.status, 0);
    assert_int_equal(p->h.value, ROUNDS);
    weft_runtime_shutdown(rt);
    assert_int_equal(weft_notify_destroy(&p->n), 0);
    assert_int_equal(weft_notify_destroy(&p->ack), 0);
    weft_cancel_token_drop(p->tok);
    free(p);
}

static void test_select_notify_or_cancel_loop_ct(void **state)
{
    (void)state;
    check_notify_or_cancel_loop(WEFT_CURRENT_THREAD);
}

static void test_select_notify_or_cancel_loop_mt(void **state)
{
    (void)state;
    check_notify_or_cancel_loop(WEFT_MULTI_THREAD);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_select_loser_is_dropped_when_the_winner_completes),
        cmocka_unit_test(test_select_biased_picks_the_first_ready_branch_in_order),
        cmocka_unit_test(test_select_random_start_spreads_wins_over_branches),
        cmocka_unit_test(test_select_dropped_select_drops_every_unfinished_branch),
        cmocka_unit_test(test_select_absent_branches_are_never_touched),
        cmocka_unit_test(test_select_join_all_waits_for_every_branch),
        cmocka_unit_test(test_select_dropped_join_all_drops_only_unfinished_branches),
        cmocka_unit_test(test_select_try_join_first_error_drops_the_rest),
        cmocka_unit_test(test_select_try_join_succeeds_when_every_branch_does),
        cmocka_unit_test(test_select_recv_loses_no_value_when_the_sleep_wins_ct),
        cmocka_unit_test(test_select_recv_loses_no_value_when_the_sleep_wins_mt),
#if HAVE_MPSC
        cmocka_unit_test(test_select_mpsc_recv_loses_no_value_when_the_sleep_wins_ct),
        cmocka_unit_test(test_select_mpsc_recv_loses_no_value_when_the_sleep_wins_mt),
#endif
        cmocka_unit_test(test_select_try_join_over_tasks_reports_the_failure_ct),
        cmocka_unit_test(test_select_try_join_over_tasks_reports_the_failure_mt),
        cmocka_unit_test(test_select_notify_or_cancel_loop_ct),
        cmocka_unit_test(test_select_notify_or_cancel_loop_mt),
    };
    return cmocka_run_group_tests(tests, 0, NULL);
}
