/* tests/unit/test_time.c - sleep, interval, timeout and the time driver on a real runtime.
 *
 * Every case builds a current-thread runtime with timers, runs an async function under
 * weft_block_on and shuts the runtime down (ASan/LSan then check that nothing leaked and no
 * fired or dropped timer was touched after its memory went away).
 *
 * Timing: assertions are about order and about lower bounds ("not before its deadline", "at
 * least one period after the stall"), never about how quickly something happened, so they
 * hold on a slow or loaded machine. Where a test needs a late tick it makes one on purpose
 * with a blocking nanosleep inside the task.
 */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <weft/weft.h>

/* White-box: the driver stress test at the end drives the time driver directly. */
#include "time/time_int.h"
#include "util/parker.h"

/* ---------------------------------------------------------------- helpers */

static weft_runtime *new_rt(bool enable_time)
{
    weft_builder b = weft_builder_new_current_thread();
    b.enable_time = enable_time;
    weft_runtime *rt = NULL;
    assert_int_equal(weft_runtime_new(&b, &rt), 0);
    assert_non_null(rt);
    return rt;
}

/* block_on `root` on a fresh current-thread runtime, then shut it down. */
static void run(weft_future *root, bool enable_time)
{
    weft_runtime *rt = new_rt(enable_time);
    assert_int_equal(weft_block_on(rt, root), 0);
    assert_int_equal(weft_runtime_alive_tasks(rt), 0);
    weft_runtime_shutdown(rt);
}

/* Block the calling thread (and so the whole current-thread runtime): an injected stall. */
static void stall_ms(unsigned ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

/* A future that never completes and counts its polls and drops: the inner future of the
 * timeout tests, and a stand-in for any cancellable operation. */
typedef struct never_future {
    weft_future base;
    int polls; /* times polled */
    int drops; /* times dropped (must end at exactly 0 or 1) */
} never_future;

static weft_poll never_poll(weft_future *f, weft_context *cx)
{
    ((never_future *)f)->polls++;
    return WEFT_PENDING; /* only ever cancelled, so it registers no waker */
}

static void never_drop(weft_future *f)
{
    ((never_future *)f)->drops++;
}

static const weft_future_vtable never_vt = {never_poll, never_drop, "never"};

/* A future that is ready at once and counts polls and drops. */
typedef struct ready_future {
    weft_future base;
    int polls;
    int drops;
} ready_future;

static weft_poll ready_poll(weft_future *f, weft_context *cx)
{
    ((ready_future *)f)->polls++;
    return WEFT_READY;
}

static void ready_drop(weft_future *f)
{
    ((ready_future *)f)->drops++;
}

static const weft_future_vtable ready_vt = {ready_poll, ready_drop, "ready"};

/* ---------------------------------------------------------------- sleep is never early */

typedef struct sleep_case {
    weft_async co;
    int i;
    weft_sleep s;
    weft_instant start[4], deadline[4], end[4];
    int status[4];
} sleep_case;

static weft_poll sleep_case_poll(weft_future *f, weft_context *cx)
{
    static const unsigned ms[4] = {1, 5, 20, 0};
    sleep_case *c = (sleep_case *)f;
    WEFT_ASYNC_BEGIN(&c->co);
    for (c->i = 0; c->i < 4; c->i++) {
        c->start[c->i] = weft_instant_now();
        if (c->i < 3)
            weft_sleep_init(&c->s, weft_ms(ms[c->i]));
        else
            weft_sleep_until_init(&c->s, c->start[c->i] + weft_us(2500));
        c->deadline[c->i] = c->s.deadline;
        WEFT_AWAIT(&c->co, cx, &c->s);
        c->end[c->i] = weft_instant_now();
        c->status[c->i] = c->s.status;
        assert_true(weft_sleep_is_elapsed(&c->s));
    }
    WEFT_ASYNC_END(&c->co);
}

static const weft_future_vtable sleep_case_vt = {sleep_case_poll, weft_async_drop, "sleep_case"};

static void test_time_sleep_completes_not_before_deadline(void **state)
{
    sleep_case c = {0};
    weft_async_init(&c.co, &sleep_case_vt);
    run(&c.co.base, true);
    static const unsigned ms[3] = {1, 5, 20};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(c.status[i], 0);
        assert_true(c.end[i] >= c.deadline[i]);
        if (i < 3)
            assert_true(c.deadline[i] >= c.start[i] + weft_ms(ms[i]));
    }
}

/* ---------------------------------------------------------------- a deadline already passed */

typedef struct past_case {
    weft_async co;
    weft_sleep s;
    bool armed; /* entry.driver was set after the await: it should never have been armed */
} past_case;

static weft_poll past_case_poll(weft_future *f, weft_context *cx)
{
    past_case *c = (past_case *)f;
    WEFT_ASYNC_BEGIN(&c->co);
    weft_sleep_until_init(&c->s, weft_instant_now() - 1);
    assert_true(weft_sleep_is_elapsed(&c->s));
    WEFT_AWAIT(&c->co, cx, &c->s);
    c->armed = c->s.entry.driver != NULL;
    WEFT_ASYNC_END(&c->co);
}

static const weft_future_vtable past_case_vt = {past_case_poll, weft_async_drop, "past_case"};

static void test_time_sleep_past_deadline_is_ready_at_once(void **state)
{
    past_case c = {0};
    weft_async_init(&c.co, &past_case_vt);
    run(&c.co.base, true);
    assert_int_equal(c.s.status, 0);
    assert_false(c.armed);
}

/* ---------------------------------------------------------------- ties: arming order */

#define NTIE 8

typedef struct tie_log {
    int armed[NTIE], done[NTIE];
    int narmed, ndone;
} tie_log;

/* Yields `yields` times, then sleeps until the shared deadline; logs when it armed and when
 * it woke. Tasks spawned first yield most, so arming order is the reverse of spawn order. */
typedef struct tie_task {
    weft_async co;
    int id, yields, i;
    weft_instant deadline;
    tie_log *log;
    weft_yield_now y;
    weft_sleep s;
} tie_task;

static weft_poll tie_task_poll(weft_future *f, weft_context *cx)
{
    tie_task *t = (tie_task *)f;
    WEFT_ASYNC_BEGIN(&t->co);
    for (t->i = 0; t->i < t->yields; t->i++) {
        weft_yield_now_init(&t->y);
        WEFT_AWAIT(&t->co, cx, &t->y);
    }
    weft_sleep_until_init(&t->s, t->deadline);
    t->log->armed[t->log->narmed++] = t->id;
    WEFT_AWAIT(&t->co, cx, &t->s);
    t->log->done[t->log->ndone++] = t->id;
    WEFT_ASYNC_END(&t->co);
}

static const weft_future_vtable tie_task_vt = {tie_task_poll, weft_async_drop, "tie_task"};

typedef struct tie_case {
    weft_async co;
    int i;
    tie_log log;
    weft_join_handle h[NTIE];
} tie_case;

static weft_poll tie_case_poll(weft_future *f, weft_context *cx)
{
    tie_case *c = (tie_case *)f;
    WEFT_ASYNC_BEGIN(&c->co);
    {
        /* Far enough ahead that every task has armed long before it; if not, the sleeps
         * complete at their first poll, which is arming order too. */
        weft_instant deadline = weft_instant_now() + weft_ms(200);
        for (int i = 0; i < NTIE; i++) {
            tie_task t = {0};
            weft_async_init(&t.co, &tie_task_vt);
            t.id = i;
            t.yields = NTIE - i;
            t.deadline = deadline;
            t.log = &c->log;
            c->h[i] = weft_spawn(&t);
        }
    }
    for (c->i = 0; c->i < NTIE; c->i++) {
        WEFT_AWAIT(&c->co, cx, &c->h[c->i]);
        assert_int_equal(c->h[c->i].status, 0);
    }
    WEFT_ASYNC_END(&c->co);
}

static const weft_future_vtable tie_case_vt = {tie_case_poll, weft_async_drop, "tie_case"};

static void test_time_equal_deadlines_complete_in_arming_order(void **state)
{
    tie_case c = {0};
    weft_async_init(&c.co, &tie_case_vt);
    run(&c.co.base, true);
    assert_int_equal(c.log.narmed, NTIE);
    assert_int_equal(c.log.ndone, NTIE);
    /* The test means something only if arming order differs from spawn order. */
    assert_int_equal(c.log.armed[0], NTIE - 1);
    for (int i = 0; i < NTIE; i++)
        assert_int_equal(c.log.done[i], c.log.armed[i]);
}

/* ---------------------------------------------------------------- deadline order */

#define NMANY 40

typedef struct many_log {
    int done[NMANY];
    int ndone;
} many_log;

typedef struct many_task {
    weft_async co;
    int id;
    weft_instant deadline;
    many_log *log;
    weft_sleep s;
} many_task;

static weft_poll many_task_poll(weft_future *f, weft_context *cx)
{
    many_task *t = (many_task *)f;
    WEFT_ASYNC_BEGIN(&t->co);
    weft_sleep_until_init(&t->s, t->deadline);
    WEFT_AWAIT(&t->co, cx, &t->s);
    assert_true(weft_instant_now() >= t->deadline);
    t->log->done[t->log->ndone++] = t->id;
    WEFT_ASYNC_END(&t->co);
}

static const weft_future_vtable many_task_vt = {many_task_poll, weft_async_drop, "many_task"};

typedef struct many_case {
    weft_async co;
    int i;
    many_log log;
    unsigned offset_ms[NMANY];
    weft_join_handle h[NMANY];
} many_case;

static weft_poll many_case_poll(weft_future *f, weft_context *cx)
{
    many_case *c = (many_case *)f;
    WEFT_ASYNC_BEGIN(&c->co);
    {
        /* Whole-millisecond offsets from one base: 13 distinct ones for 40 tasks, so most
         * ticks are shared, spread over level 0 and level 1 of the wheel (up to 132 ms). */
        weft_instant base = weft_instant_now() + weft_ms(100);
        for (int i = 0; i < NMANY; i++) {
            c->offset_ms[i] = (unsigned)((i * 7) % 13) * 11;
            many_task t = {0};
            weft_async_init(&t.co, &many_task_vt);
            t.id = i;
            t.deadline = base + weft_ms(c->offset_ms[i]);
            t.log = &c->log;
            c->h[i] = weft_spawn(&t);
        }
    }
    for (c->i = 0; c->i < NMANY; c->i++)
        WEFT_AWAIT(&c->co, cx, &c->h[c->i]);
    WEFT_ASYNC_END(&c->co);
}

static const weft_future_vtable many_case_vt = {many_case_poll, weft_async_drop, "many_case"};

static void test_time_sleeps_complete_in_deadline_order(void **state)
{
    many_case c = {0};
    weft_async_init(&c.co, &many_case_vt);
    run(&c.co.base, true);
    assert_int_equal(c.log.ndone, NMANY);
    /* Tasks are first polled (and arm) in spawn order, so ties go by id. */
    for (int i = 1; i < NMANY; i++) {
        int a = c.log.done[i - 1], b = c.log.done[i];
        assert_true(c.offset_ms[a] < c.offset_ms[b] ||
                    (c.offset_ms[a] == c.offset_ms[b] && a < b));
    }
}

/* ---------------------------------------------------------------- interval */

#define NTICKS 5
#define PERIOD weft_ms(10)

typedef struct interval_case {
    weft_async co;
    int i;
    weft_missed_tick_behavior missed;
    weft_interval iv;
    weft_interval_tick t;
    weft_instant ticks[NTICKS]; /* the scheduled instants the ticks reported */
    weft_instant seen[NTICKS];  /* when each tick completed */
    weft_instant init_at;       /* just before weft_interval_init */
    weft_instant after_stall;   /* just after the injected 35 ms stall */
} interval_case;

static weft_poll interval_case_poll(weft_future *f, weft_context *cx)
{
    interval_case *c = (interval_case *)f;
    WEFT_ASYNC_BEGIN(&c->co);
    c->init_at = weft_instant_now();
    weft_interval_init(&c->iv, PERIOD);
    c->iv.missed = c->missed;
    for (c->i = 0; c->i < NTICKS; c->i++) {
        weft_interval_tick_init(&c->t, &c->iv);
        WEFT_AWAIT(&c->co, cx, &c->t);
        assert_int_equal(c->t.status, 0);
        c->ticks[c->i] = c->t.tick;
        c->seen[c->i] = weft_instant_now();
        if (c->i == 0) {
            stall_ms(35); /* misses the ticks at +10, +20 and +30 */
            c->after_stall = weft_instant_now();
        }
    }
    WEFT_ASYNC_END(&c->co);
}

static const weft_future_vtable interval_case_vt = {interval_case_poll, weft_async_drop,
                                                    "interval_case"};

static void run_interval(interval_case *c, weft_missed_tick_behavior missed)
{
    memset(c, 0, sizeof *c);
    weft_async_init(&c->co, &interval_case_vt);
    c->missed = missed;
    run(&c->co.base, true);
    /* First tick at once, at the instant the interval was created. */
    assert_true(c->ticks[0] >= c->init_at);
    assert_true(c->ticks[0] <= c->seen[0]);
    /* No tick completes before the instant it was scheduled for. */
    for (int i = 0; i < NTICKS; i++)
        assert_true(c->seen[i] >= c->ticks[i]);
    /* The first missed tick is reported for its original instant whatever the behaviour. */
    assert_int_equal(c->ticks[1], c->ticks[0] + PERIOD);
    assert_true(c->after_stall >= c->ticks[0] + weft_ms(35));
}

static void test_time_interval_burst_catches_up(void **state)
{
    interval_case c;
    run_interval(&c, WEFT_MISSED_TICK_BURST);
    /* The schedule is kept: the missed ticks come back to back, then on time again. */
    for (int i = 1; i < NTICKS; i++)
        assert_int_equal(c.ticks[i], c.ticks[0] + (weft_instant)i * PERIOD);
}

static void test_time_interval_delay_restarts_from_late_tick(void **state)
{
    interval_case c;
    run_interval(&c, WEFT_MISSED_TICK_DELAY);
    /* The tick after the late one is a full period after the moment the late one was
     * noticed, which was after the stall; the ones after that are at least a period apart. */
    assert_true(c.ticks[2] >= c.after_stall + PERIOD);
    assert_true(c.ticks[2] > c.ticks[1] + PERIOD);
    for (int i = 3; i < NTICKS; i++)
        assert_true(c.ticks[i] >= c.ticks[i - 1] + PERIOD);
}

static void test_time_interval_skip_keeps_the_grid(void **state)
{
    interval_case c;
    run_interval(&c, WEFT_MISSED_TICK_SKIP);
    /* Missed ticks are skipped: the next one is the first instant of the original grid after
     * the late tick was noticed, so after the stall, and never +20 or +30. */
    assert_true(c.ticks[2] > c.after_stall);
    assert_true(c.ticks[2] >= c.ticks[0] + 4 * PERIOD);
    for (int i = 2; i < NTICKS; i++) {
        assert_int_equal((c.ticks[i] - c.ticks[0]) % PERIOD, 0);
        assert_true(c.ticks[i] > c.ticks[i - 1]);
    }
}

/* interval_at: the first tick waits for `start`; reset: the next tick is a period from now. */
typedef struct interval_at_case {
    weft_async co;
    weft_interval iv;
    weft_interval_tick t;
    weft_instant start, first, first_seen, reset_at, second, second_seen;
} interval_at_case;

static weft_poll interval_at_case_poll(weft_future *f, weft_context *cx)
{
    interval_at_case *c = (interval_at_case *)f;
    WEFT_ASYNC_BEGIN(&c->co);
    c->start = weft_instant_now() + weft_ms(15);
    weft_interval_at_init(&c->iv, c->start, weft_secs(3600));
    weft_interval_tick_init(&c->t, &c->iv);
    WEFT_AWAIT(&c->co, cx, &c->t);
    c->first = c->t.tick;
    c->first_seen = weft_instant_now();
    /* The next tick is an hour away; reset pulls it in to one period from now... */
    c->iv.period = weft_ms(10);
    c->reset_at = weft_instant_now();
    weft_interval_reset(&c->iv);
    weft_interval_tick_init(&c->t, &c->iv);
    WEFT_AWAIT(&c->co, cx, &c->t);
    c->second = c->t.tick;
    c->second_seen = weft_instant_now();
    WEFT_ASYNC_END(&c->co);
}

static const weft_future_vtable interval_at_case_vt = {interval_at_case_poll, weft_async_drop,
                                                       "interval_at_case"};

static void test_time_interval_at_and_reset(void **state)
{
    interval_at_case c = {0};
    weft_async_init(&c.co, &interval_at_case_vt);
    run(&c.co.base, true);
    assert_int_equal(c.first, c.start);
    assert_true(c.first_seen >= c.start);
    assert_true(c.second >= c.reset_at + weft_ms(10));
    assert_true(c.second_seen >= c.second);
    assert_true(c.second < c.start + weft_secs(3600));
}

/* ---------------------------------------------------------------- sleep reset */

typedef struct reset_case {
    weft_async co;
    weft_sleep s;
    weft_instant start, first_end, second_deadline, second_end;
    bool elapsed_after_reset;     /* is_elapsed right after resetting a completed sleep */
    weft_instant elapsed_checked; /* when that was asked */
} reset_case;

/* Poll a sleep once by hand (so that it arms) and expect PENDING. */
static weft_poll reset_case_poll(weft_future *f, weft_context *cx)
{
    reset_case *c = (reset_case *)f;
    WEFT_ASYNC_BEGIN(&c->co);
    c->start = weft_instant_now();
    weft_sleep_init(&c->s, weft_secs(3600));
    assert_int_equal(weft_future_poll(&c->s.base, cx), WEFT_PENDING);
    assert_non_null(c->s.entry.driver); /* armed an hour ahead */
    weft_sleep_reset(&c->s, weft_instant_now() + weft_ms(20));
    WEFT_AWAIT(&c->co, cx, &c->s);
    c->first_end = weft_instant_now();
    /* A completed sleep can be reset and awaited again. */
    c->second_deadline = weft_instant_now() + weft_ms(5);
    weft_sleep_reset(&c->s, c->second_deadline);
    c->elapsed_after_reset = weft_sleep_is_elapsed(&c->s);
    c->elapsed_checked = weft_instant_now();
    WEFT_AWAIT(&c->co, cx, &c->s);
    c->second_end = weft_instant_now();
    WEFT_ASYNC_END(&c->co);
}

static const weft_future_vtable reset_case_vt = {reset_case_poll, weft_async_drop, "reset_case"};

static void test_time_sleep_reset_moves_deadline(void **state)
{
    reset_case c = {0};
    weft_async_init(&c.co, &reset_case_vt);
    run(&c.co.base, true);
    assert_true(c.first_end >= c.start + weft_ms(20));
    assert_true(c.first_end < c.start + weft_secs(3600));
    /* The old completion is forgotten: elapsed only if the new deadline had really passed. */
    assert_true(!c.elapsed_after_reset || c.elapsed_checked >= c.second_deadline);
    assert_true(c.second_end >= c.second_deadline);
    assert_int_equal(c.s.status, 0);
}

/* ---------------------------------------------------------------- a sleep changes hands */

/* Polls the sleep once (so that it arms with this task's waker) and finishes. */
typedef struct first_poller {
    weft_future base;
    weft_sleep *s;
    weft_poll result; /* what that one poll returned */
} first_poller;

static weft_poll first_poller_poll(weft_future *f, weft_context *cx)
{
    first_poller *p = (first_poller *)f;
    *p->s = (weft_sleep){0};
    weft_sleep_init(p->s, weft_ms(10));
    p->result = weft_future_poll(&p->s->base, cx);
    return WEFT_READY;
}

static const weft_future_vtable first_poller_vt = {first_poller_poll, NULL, "first_poller"};

typedef struct handover_case {
    weft_async co;
    weft_sleep s;
    first_poller p;
    weft_join_handle h;
    weft_timeout guard; /* a generous bound, so that a lost wake-up fails instead of hanging */
} handover_case;

static weft_poll handover_case_poll(weft_future *f, weft_context *cx)
{
    handover_case *c = (handover_case *)f;
    WEFT_ASYNC_BEGIN(&c->co);
    {
        first_poller p = {{&first_poller_vt}, &c->s, WEFT_READY};
        c->h = weft_spawn(&p);
    }
    WEFT_AWAIT(&c->co, cx, &c->h);
    /* The sleep is armed with the finished task's waker; awaiting it here must swap in the
     * root's waker, or nothing wakes the root when it fires. */
    weft_timeout_init(&c->guard, weft_secs(10), &c->s.base);
    WEFT_AWAIT(&c->co, cx, &c->guard);
    WEFT_ASYNC_END(&c->co);
}

static const weft_future_vtable handover_case_vt = {handover_case_poll, weft_async_drop,
                                                    "handover_case"};

static void test_time_sleep_polled_from_another_task_wakes_the_new_one(void **state)
{
    handover_case c = {0};
    weft_async_init(&c.co, &handover_case_vt);
    run(&c.co.base, true);
    assert_int_equal(c.guard.status, 0);
    assert_int_equal(c.s.status, 0);
    /* Woken by the sleep itself, not by the guard's deadline. */
    assert_false(weft_sleep_is_elapsed(&c.guard.sleep));
}

/* ---------------------------------------------------------------- timeout */

typedef struct timeout_case {
    weft_async co;
    weft_timeout t;
    never_future never;
    ready_future ready;
    weft_sleep inner_sleep;
    weft_instant start, end;
    int status_elapsed, status_ready, status_late_ready, status_sleep;
    bool sleep_left_armed; /* the timeout's own sleep still had a driver after READY */
} timeout_case;

static weft_poll timeout_case_poll(weft_future *f, weft_context *cx)
{
    timeout_case *c = (timeout_case *)f;
    WEFT_ASYNC_BEGIN(&c->co);
    /* 1. The inner future never completes: ELAPSED after the deadline, inner dropped. */
    c->never.base.vt = &never_vt;
    c->start = weft_instant_now();
    weft_timeout_init(&c->t, weft_ms(20), &c->never.base);
    WEFT_AWAIT(&c->co, cx, &c->t);
    c->end = weft_instant_now();
    c->status_elapsed = c->t.status;

    /* 2. A ready inner future: 0 at once, without waiting for the hour-long deadline. */
    c->ready.base.vt = &ready_vt;
    weft_timeout_init(&c->t, weft_secs(3600), &c->ready.base);
    WEFT_AWAIT(&c->co, cx, &c->t);
    c->status_ready = c->t.status;

    /* 3. Inner polled first: ready wins even with the deadline already passed. */
    weft_timeout_at_init(&c->t, weft_instant_now() - 1, &c->ready.base);
    WEFT_AWAIT(&c->co, cx, &c->t);
    c->status_late_ready = c->t.status;

    /* 4. An inner future that completes later, before the deadline: the timeout's own sleep
     * was armed an hour ahead meanwhile and must have been disarmed on completion, since a
     * completed future is never dropped. */
    weft_sleep_init(&c->inner_sleep, weft_ms(5));
    weft_timeout_init(&c->t, weft_secs(3600), &c->inner_sleep.base);
    WEFT_AWAIT(&c->co, cx, &c->t);
    c->status_sleep = c->t.status;
    c->sleep_left_armed = c->t.sleep.entry.driver != NULL;
    WEFT_ASYNC_END(&c->co);
}

static const weft_future_vtable timeout_case_vt = {timeout_case_poll, weft_async_drop,
                                                   "timeout_case"};

static void test_time_timeout_elapses_and_drops_inner(void **state)
{
    timeout_case c = {0};
    weft_async_init(&c.co, &timeout_case_vt);
    run(&c.co.base, true);
    assert_int_equal(c.status_elapsed, WEFT_EELAPSED);
    assert_true(c.end >= c.start + weft_ms(20));
    assert_true(c.never.polls >= 1);
    assert_int_equal(c.never.drops, 1);
}

static void test_time_timeout_with_ready_inner_is_ok(void **state)
{
    timeout_case c = {0};
    weft_async_init(&c.co, &timeout_case_vt);
    run(&c.co.base, true);
    assert_int_equal(c.status_ready, 0);
    assert_int_equal(c.status_late_ready, 0);
    assert_int_equal(c.ready.polls, 2);
    assert_int_equal(c.ready.drops, 0);
    assert_int_equal(c.status_sleep, 0);
    assert_int_equal(c.inner_sleep.status, 0);
    assert_false(c.sleep_left_armed);
}

/* ---------------------------------------------------------------- abort disarms
 *
 * Each task below awaits an hour-long timer that lives outside the task, in memory the test
 * frees once the aborted task's join handle has reported ECANCELLED. A timer left in the
 * wheel would then be touched by the driver after that memory is gone (at the latest when the
 * driver unlinks what is left at shutdown), which ASan reports; the tests also check that the
 * entry no longer names a driver. Inside a task the waker's reference would keep the memory
 * alive and hide such a bug; outside it, nothing does. The deadlines are far away so that no
 * timer can fire before the abort, however slow the machine. */

typedef struct sleeper_task {
    weft_async co;
    weft_sleep *s; /* heap, owned by the test */
    bool *armed;   /* set just before the await, cleared if the sleep ever completes */
} sleeper_task;

static weft_poll sleeper_task_poll(weft_future *f, weft_context *cx)
{
    sleeper_task *t = (sleeper_task *)f;
    WEFT_ASYNC_BEGIN(&t->co);
    weft_sleep_init(t->s, weft_secs(3600));
    *t->armed = true;
    WEFT_AWAIT(&t->co, cx, t->s);
    *t->armed = false;
    WEFT_ASYNC_END(&t->co);
}

static const weft_future_vtable sleeper_task_vt = {sleeper_task_poll, weft_async_drop,
                                                   "sleeper_task"};

typedef struct timeout_task {
    weft_async co;
    weft_timeout *t;      /* heap, owned by the test */
    never_future *never;  /* the inner future, in the test's state */
    bool *armed;
} timeout_task;

static weft_poll timeout_task_poll(weft_future *f, weft_context *cx)
{
    timeout_task *t = (timeout_task *)f;
    WEFT_ASYNC_BEGIN(&t->co);
    weft_timeout_init(t->t, weft_secs(3600), &t->never->base);
    *t->armed = true;
    WEFT_AWAIT(&t->co, cx, t->t);
    *t->armed = false;
    WEFT_ASYNC_END(&t->co);
}

static const weft_future_vtable timeout_task_vt = {timeout_task_poll, weft_async_drop,
                                                   "timeout_task"};

/* An interval tick pending in a task; the interval itself is on the heap. */
typedef struct ticker_task {
    weft_async co;
    weft_interval *iv; /* heap, owned by the test */
    weft_interval_tick t;
    bool *armed;
} ticker_task;

static weft_poll ticker_task_poll(weft_future *f, weft_context *cx)
{
    ticker_task *t = (ticker_task *)f;
    WEFT_ASYNC_BEGIN(&t->co);
    weft_interval_at_init(t->iv, weft_instant_now() + weft_secs(3600), weft_secs(3600));
    weft_interval_tick_init(&t->t, t->iv);
    *t->armed = true;
    WEFT_AWAIT(&t->co, cx, &t->t);
    *t->armed = false;
    WEFT_ASYNC_END(&t->co);
}

static const weft_future_vtable ticker_task_vt = {ticker_task_poll, weft_async_drop,
                                                  "ticker_task"};

typedef struct abort_case {
    weft_async co;
    bool armed[3];
    bool left_armed[3]; /* the timer still had a driver after the join reported */
    never_future never;
    weft_sleep *sleep;
    weft_timeout *timeout;
    weft_interval *interval;
    weft_join_handle h[3];
    weft_sleep s;
    int i;
} abort_case;

static weft_poll abort_case_poll(weft_future *f, weft_context *cx)
{
    abort_case *c = (abort_case *)f;
    WEFT_ASYNC_BEGIN(&c->co);
    {
        sleeper_task a = {0};
        weft_async_init(&a.co, &sleeper_task_vt);
        a.s = c->sleep;
        a.armed = &c->armed[0];
        c->h[0] = weft_spawn(&a);
        timeout_task b = {0};
        weft_async_init(&b.co, &timeout_task_vt);
        c->never.base.vt = &never_vt;
        b.t = c->timeout;
        b.never = &c->never;
        b.armed = &c->armed[1];
        c->h[1] = weft_spawn(&b);
        ticker_task t = {0};
        weft_async_init(&t.co, &ticker_task_vt);
        t.iv = c->interval;
        t.armed = &c->armed[2];
        c->h[2] = weft_spawn(&t);
    }
    /* Let them run up to their awaits, so that their timers are in the wheel: while the root
     * sleeps the scheduler runs the queued tasks before it parks for the root's timer. */
    weft_sleep_init(&c->s, weft_ms(1));
    WEFT_AWAIT(&c->co, cx, &c->s);
    for (c->i = 0; c->i < 3; c->i++) {
        assert_true(c->armed[c->i]);
        weft_join_handle_abort(&c->h[c->i]);
        WEFT_AWAIT(&c->co, cx, &c->h[c->i]);
        assert_int_equal(c->h[c->i].status, WEFT_ECANCELLED);
    }
    c->left_armed[0] = c->sleep->entry.driver != NULL;
    c->left_armed[1] = c->timeout->sleep.entry.driver != NULL;
    c->left_armed[2] = c->interval->sleep.entry.driver != NULL;
    free(c->sleep);
    free(c->timeout);
    free(c->interval);
    c->sleep = NULL;
    c->timeout = NULL;
    c->interval = NULL;
    /* One more timer, so that the driver processes its wheel once more after the frees. */
    weft_sleep_init(&c->s, weft_ms(2));
    WEFT_AWAIT(&c->co, cx, &c->s);
    WEFT_ASYNC_END(&c->co);
}

static const weft_future_vtable abort_case_vt = {abort_case_poll, weft_async_drop, "abort_case"};

static void test_time_aborted_sleeping_task_disarms_timer(void **state)
{
    abort_case c = {0};
    weft_async_init(&c.co, &abort_case_vt);
    c.sleep = malloc(sizeof *c.sleep);
    c.timeout = malloc(sizeof *c.timeout);
    c.interval = malloc(sizeof *c.interval);
    run(&c.co.base, true);
    for (int i = 0; i < 3; i++) {
        assert_true(c.armed[i]); /* still set: none of the awaits completed */
        assert_false(c.left_armed[i]);
    }
    assert_int_equal(c.never.drops, 1);
}

/* A task still sleeping when the runtime shuts down is cancelled and its timer disarmed. */
typedef struct detach_case {
    weft_async co;
    bool armed;
    weft_sleep *sleep; /* heap: freed by the test after shutdown */
    weft_sleep s;
} detach_case;

static weft_poll detach_case_poll(weft_future *f, weft_context *cx)
{
    detach_case *c = (detach_case *)f;
    WEFT_ASYNC_BEGIN(&c->co);
    {
        sleeper_task a = {0};
        weft_async_init(&a.co, &sleeper_task_vt);
        a.s = c->sleep;
        a.armed = &c->armed;
        weft_join_handle h = weft_spawn(&a);
        weft_join_handle_detach(&h);
    }
    weft_sleep_init(&c->s, weft_ms(1));
    WEFT_AWAIT(&c->co, cx, &c->s);
    WEFT_ASYNC_END(&c->co);
}

static const weft_future_vtable detach_case_vt = {detach_case_poll, weft_async_drop,
                                                  "detach_case"};

static void test_time_shutdown_cancels_sleeping_task(void **state)
{
    detach_case c = {0};
    weft_async_init(&c.co, &detach_case_vt);
    c.sleep = malloc(sizeof *c.sleep);
    weft_runtime *rt = new_rt(true);
    assert_int_equal(weft_block_on(rt, &c.co.base), 0);
    assert_true(c.armed);
    assert_int_equal(weft_runtime_alive_tasks(rt), 1);
    weft_runtime_shutdown(rt);
    assert_true(c.armed);
    assert_null(c.sleep->entry.driver);
    free(c.sleep);
}

/* ---------------------------------------------------------------- no timers */

typedef struct enosys_case {
    weft_async co;
    weft_sleep s;
    weft_timeout t;
    never_future never;
    weft_interval iv;
    weft_interval_tick tick;
} enosys_case;

static weft_poll enosys_case_poll(weft_future *f, weft_context *cx)
{
    enosys_case *c = (enosys_case *)f;
    WEFT_ASYNC_BEGIN(&c->co);
    weft_sleep_init(&c->s, weft_ms(10));
    WEFT_AWAIT(&c->co, cx, &c->s);
    c->never.base.vt = &never_vt;
    weft_timeout_init(&c->t, weft_ms(10), &c->never.base);
    WEFT_AWAIT(&c->co, cx, &c->t);
    weft_interval_init(&c->iv, weft_ms(10));
    weft_interval_tick_init(&c->tick, &c->iv);
    WEFT_AWAIT(&c->co, cx, &c->tick);
    WEFT_ASYNC_END(&c->co);
}

static const weft_future_vtable enosys_case_vt = {enosys_case_poll, weft_async_drop,
                                                  "enosys_case"};

static void test_time_sleep_without_time_enabled_is_enosys(void **state)
{
    enosys_case c = {0};
    weft_async_init(&c.co, &enosys_case_vt);
    run(&c.co.base, false);
    assert_int_equal(c.s.status, WEFT_ENOSYS);
    assert_int_equal(c.t.status, WEFT_ENOSYS);
    assert_int_equal(c.never.drops, 1);
    assert_int_equal(c.tick.status, WEFT_ENOSYS);

    /* Outside any runtime too. */
    weft_sleep s;
    weft_sleep_init(&s, weft_ms(10));
    weft_waker none = WEFT_WAKER_NONE;
    weft_context cx = {&none, NULL};
    assert_int_equal(weft_future_poll(&s.base, &cx), WEFT_READY);
    assert_int_equal(s.status, WEFT_ENOSYS);
}

/* ---------------------------------------------------------------- cooperative budget */

typedef struct greedy_task {
    weft_async co;
    int i;
    weft_sleep s;
    int *other_ran;      /* set by the polite task */
    int seen_other_ran;  /* what this task saw when it finished */
} greedy_task;

static int greedy_result;

static weft_poll greedy_task_poll(weft_future *f, weft_context *cx)
{
    greedy_task *t = (greedy_task *)f;
    WEFT_ASYNC_BEGIN(&t->co);
    /* Many sleeps that are all ready at once: without the budget, one poll would run them
     * all and the other task would only run afterwards. */
    for (t->i = 0; t->i < 3 * WEFT_COOP_BUDGET; t->i++) {
        weft_sleep_until_init(&t->s, 0);
        WEFT_AWAIT(&t->co, cx, &t->s);
    }
    greedy_result = *t->other_ran;
    WEFT_ASYNC_END(&t->co);
}

static const weft_future_vtable greedy_task_vt = {greedy_task_poll, weft_async_drop, "greedy"};

typedef struct polite_task {
    weft_future base;
    int *ran;
} polite_task;

static weft_poll polite_task_poll(weft_future *f, weft_context *cx)
{
    *((polite_task *)f)->ran = 1;
    return WEFT_READY;
}

static const weft_future_vtable polite_task_vt = {polite_task_poll, NULL, "polite"};

typedef struct coop_case {
    weft_async co;
    int other_ran;
    weft_join_handle h[2];
    int i;
} coop_case;

static weft_poll coop_case_poll(weft_future *f, weft_context *cx)
{
    coop_case *c = (coop_case *)f;
    WEFT_ASYNC_BEGIN(&c->co);
    {
        greedy_task g = {0};
        weft_async_init(&g.co, &greedy_task_vt);
        g.other_ran = &c->other_ran;
        c->h[0] = weft_spawn(&g);
        polite_task p = {{&polite_task_vt}, &c->other_ran};
        c->h[1] = weft_spawn(&p);
    }
    for (c->i = 0; c->i < 2; c->i++)
        WEFT_AWAIT(&c->co, cx, &c->h[c->i]);
    WEFT_ASYNC_END(&c->co);
}

static const weft_future_vtable coop_case_vt = {coop_case_poll, weft_async_drop, "coop_case"};

static void test_time_ready_sleeps_spend_coop_budget(void **state)
{
    coop_case c = {0};
    weft_async_init(&c.co, &coop_case_vt);
    greedy_result = -1;
    run(&c.co.base, true);
    assert_int_equal(greedy_result, 1);
}

/* ---------------------------------------------------------------- clock */

static void test_time_instant_now_is_monotonic(void **state)
{
    weft_instant a = weft_instant_now();
    stall_ms(2);
    weft_instant b = weft_instant_now();
    assert_true(b >= a + weft_ms(2));
}

/* ---------------------------------------------------------------- multi-thread runtime
 *
 * Sleeps armed and fired on different workers (and on block_on's thread): none completes
 * before its deadline, all complete, and aborting a sleeping task from another thread
 * disarms its timer before the join reports. */

#define NMT 64

typedef struct mt_log {
    _Atomic int done;
    _Atomic int early;
} mt_log;

typedef struct mt_task {
    weft_async co;
    weft_instant deadline;
    mt_log *log;
    weft_sleep s;
} mt_task;

static weft_poll mt_task_poll(weft_future *f, weft_context *cx)
{
    mt_task *t = (mt_task *)f;
    WEFT_ASYNC_BEGIN(&t->co);
    weft_sleep_until_init(&t->s, t->deadline);
    WEFT_AWAIT(&t->co, cx, &t->s);
    if (weft_instant_now() < t->deadline)
        atomic_fetch_add(&t->log->early, 1);
    atomic_fetch_add(&t->log->done, 1);
    WEFT_ASYNC_END(&t->co);
}

static const weft_future_vtable mt_task_vt = {mt_task_poll, weft_async_drop, "mt_task"};

typedef struct mt_case {
    weft_async co;
    int i;
    mt_log log;
    bool armed;
    bool left_armed;
    weft_sleep *victim; /* heap: the aborted task's sleep, freed after its join */
    weft_join_handle h[NMT], victim_h;
    weft_sleep s;
} mt_case;

static weft_poll mt_case_poll(weft_future *f, weft_context *cx)
{
    mt_case *c = (mt_case *)f;
    WEFT_ASYNC_BEGIN(&c->co);
    {
        sleeper_task v = {0};
        weft_async_init(&v.co, &sleeper_task_vt);
        v.s = c->victim;
        v.armed = &c->armed;
        c->victim_h = weft_spawn(&v);
        weft_instant base = weft_instant_now();
        for (int i = 0; i < NMT; i++) {
            mt_task t = {0};
            weft_async_init(&t.co, &mt_task_vt);
            t.deadline = base + weft_us(500) * (uint64_t)((i * 7) % 41);
            t.log = &c->log;
            c->h[i] = weft_spawn(&t);
        }
    }
    /* block_on's thread sleeps too, on the same driver, while the workers run the tasks. */
    weft_sleep_init(&c->s, weft_ms(5));
    WEFT_AWAIT(&c->co, cx, &c->s);
    for (c->i = 0; c->i < NMT; c->i++)
        WEFT_AWAIT(&c->co, cx, &c->h[c->i]);
    weft_join_handle_abort(&c->victim_h);
    WEFT_AWAIT(&c->co, cx, &c->victim_h);
    c->left_armed = c->victim->entry.driver != NULL;
    free(c->victim);
    c->victim = NULL;
    weft_sleep_init(&c->s, weft_ms(2)); /* the driver processes its wheel after the free */
    WEFT_AWAIT(&c->co, cx, &c->s);
    WEFT_ASYNC_END(&c->co);
}

static const weft_future_vtable mt_case_vt = {mt_case_poll, weft_async_drop, "mt_case"};

static void test_time_multi_thread_sleeps_never_early(void **state)
{
    weft_builder b = weft_builder_new_multi_thread();
    b.worker_threads = 2;
    weft_runtime *rt = NULL;
    assert_int_equal(weft_runtime_new(&b, &rt), 0);
    mt_case c = {0};
    weft_async_init(&c.co, &mt_case_vt);
    c.victim = malloc(sizeof *c.victim);
    assert_int_equal(weft_block_on(rt, &c.co.base), 0);
    assert_int_equal(weft_runtime_alive_tasks(rt), 0);
    weft_runtime_shutdown(rt);
    assert_int_equal(atomic_load(&c.log.done), NMT);
    assert_int_equal(atomic_load(&c.log.early), 0);
    assert_int_equal(c.victim_h.status, WEFT_ECANCELLED);
    assert_false(c.left_armed);
}

/* ---------------------------------------------------------------- the driver under concurrency
 *
 * No runtime: the time driver alone, one thread parking and processing as the runtime's
 * driver does, and owner threads arming, re-arming, updating and disarming their own entries
 * as sleeps do, all at once. Wakers are counting wakers, so the test can check that every
 * clone handed to the driver is consumed exactly once (woken or dropped), that an owner who
 * sees `fired` is never early, and that fires and wakes match. Run under TSan in CI. */

#define STRESS_OWNERS 3
#define STRESS_ENTRIES 32
#define STRESS_ROUNDS 3000
#define STRESS_MIN_FIRES 10

typedef struct count_waker {
    _Atomic long live;  /* clones not yet consumed */
    _Atomic long wakes; /* wake() calls */
} count_waker;

static const weft_waker_vtable count_vt;

static weft_waker count_clone(const void *data)
{
    atomic_fetch_add(&((count_waker *)data)->live, 1);
    return (weft_waker){&count_vt, data};
}

static void count_wake(const void *data)
{
    atomic_fetch_add(&((count_waker *)data)->wakes, 1);
    atomic_fetch_sub(&((count_waker *)data)->live, 1);
}

static void count_wake_by_ref(const void *data)
{
    atomic_fetch_add(&((count_waker *)data)->wakes, 1);
}

static void count_drop(const void *data)
{
    atomic_fetch_sub(&((count_waker *)data)->live, 1);
}

static const weft_waker_vtable count_vt = {count_clone, count_wake, count_wake_by_ref,
                                           count_drop};

typedef struct stress {
    weft__time_driver *d;
    weft__parker parker;    /* the processing thread sleeps here */
    _Atomic bool stop;
    count_waker wakers[STRESS_OWNERS][2]; /* two wakers per owner, to exercise updates */
    long observed[STRESS_OWNERS];         /* fires each owner saw */
    long early[STRESS_OWNERS];            /* fires seen before their deadline (must be 0) */
} stress;

typedef struct stress_owner {
    stress *st;
    int id;
} stress_owner;

static void stress_unpark(void *arg)
{
    weft__parker_unpark(arg);
}

static void *stress_processor(void *arg)
{
    stress *st = arg;
    while (!atomic_load(&st->stop)) {
        uint64_t t = weft__time_driver_park_timeout(st->d);
        weft__parker_park(&st->parker, t < weft_ms(2) ? t : weft_ms(2));
        weft__time_driver_process(st->d);
    }
    return NULL;
}

static void *stress_owner_main(void *arg)
{
    stress_owner *o = arg;
    stress *st = o->st;
    weft_timer_entry e[STRESS_ENTRIES];
    weft_instant deadline[STRESS_ENTRIES];
    memset(e, 0, sizeof e);
    uint64_t x = 0x9e3779b97f4a7c15ull * (uint64_t)(o->id + 1);
    /* A fixed number of rounds at full speed, then on, at a slower pace that lets timers
     * expire between touches, until this owner has seen a few fires: on a fast machine the
     * first phase can be over before the first deadline. */
    for (int r = 0; r < STRESS_ROUNDS || st->observed[o->id] < STRESS_MIN_FIRES; r++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        int i = (int)(x % STRESS_ENTRIES);
        weft_waker w = {&count_vt, &st->wakers[o->id][(x >> 8) & 1]};
        if (e[i].driver && atomic_load_explicit(&e[i].fired, memory_order_acquire)) {
            st->observed[o->id]++;
            if (weft__clock_now(&weft__real_clock) < deadline[i])
                st->early[o->id]++;
            e[i].driver = NULL; /* seen: as a completed sleep forgets its driver */
        }
        switch ((x >> 16) % 4) {
        case 0:
        case 1: /* arm or re-arm, 0..3 ms ahead, sometimes in the past */
            deadline[i] = weft__clock_now(&weft__real_clock) + (x >> 24) % weft_ms(4) -
                          weft_us(200);
            weft__timer_arm(st->d, &e[i], deadline[i], &w);
            break;
        case 2:
            weft__timer_update_waker(&e[i], &w);
            break;
        default:
            weft__timer_disarm(&e[i]);
            break;
        }
        if (r >= STRESS_ROUNDS)
            stall_ms(1);
        else if (r % 64 == 0)
            sched_yield();
    }
    for (int i = 0; i < STRESS_ENTRIES; i++)
        weft__timer_disarm(&e[i]);
    return NULL;
}

static void test_time_driver_concurrent_arm_fire_disarm(void **state)
{
    stress *st = calloc(1, sizeof *st);
    assert_non_null(st);
    weft__parker_init(&st->parker);
    assert_int_equal(weft__time_driver_new(&weft__real_clock, stress_unpark, &st->parker,
                                           &st->d),
                     0);
    pthread_t proc, owners[STRESS_OWNERS];
    stress_owner o[STRESS_OWNERS];
    assert_int_equal(pthread_create(&proc, NULL, stress_processor, st), 0);
    for (int i = 0; i < STRESS_OWNERS; i++) {
        o[i] = (stress_owner){st, i};
        assert_int_equal(pthread_create(&owners[i], NULL, stress_owner_main, &o[i]), 0);
    }
    for (int i = 0; i < STRESS_OWNERS; i++)
        pthread_join(owners[i], NULL);
    atomic_store(&st->stop, true);
    weft__parker_unpark(&st->parker);
    pthread_join(proc, NULL);
    weft__time_driver_free(st->d);

    long observed = 0, wakes = 0;
    for (int i = 0; i < STRESS_OWNERS; i++) {
        assert_int_equal(st->early[i], 0);
        observed += st->observed[i];
        for (int j = 0; j < 2; j++) {
            assert_int_equal(atomic_load(&st->wakers[i][j].live), 0);
            wakes += atomic_load(&st->wakers[i][j].wakes);
        }
    }
    /* Every fire an owner saw woke a waker (a fire may also go unseen: re-armed or disarmed
     * by its owner before it looked). */
    assert_true(observed >= STRESS_OWNERS * STRESS_MIN_FIRES);
    assert_true(wakes >= observed);
    free(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_time_instant_now_is_monotonic),
        cmocka_unit_test(test_time_sleep_completes_not_before_deadline),
        cmocka_unit_test(test_time_sleep_past_deadline_is_ready_at_once),
        cmocka_unit_test(test_time_equal_deadlines_complete_in_arming_order),
        cmocka_unit_test(test_time_sleeps_complete_in_deadline_order),
        cmocka_unit_test(test_time_interval_burst_catches_up),
        cmocka_unit_test(test_time_interval_delay_restarts_from_late_tick),
        cmocka_unit_test(test_time_interval_skip_keeps_the_grid),
        cmocka_unit_test(test_time_interval_at_and_reset),
        cmocka_unit_test(test_time_sleep_reset_moves_deadline),
        cmocka_unit_test(test_time_sleep_polled_from_another_task_wakes_the_new_one),
        cmocka_unit_test(test_time_timeout_elapses_and_drops_inner),
        cmocka_unit_test(test_time_timeout_with_ready_inner_is_ok),
        cmocka_unit_test(test_time_aborted_sleeping_task_disarms_timer),
        cmocka_unit_test(test_time_shutdown_cancels_sleeping_task),
        cmocka_unit_test(test_time_sleep_without_time_enabled_is_enosys),
        cmocka_unit_test(test_time_ready_sleeps_spend_coop_budget),
        cmocka_unit_test(test_time_multi_thread_sleeps_never_early),
        cmocka_unit_test(test_time_driver_concurrent_arm_fire_disarm),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
