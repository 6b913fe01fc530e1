/* tests/unit/test_det_schedule.c - schedule files and replays: the text round-trips, the
 * parser refuses every kind of bad file with a message naming the problem, a replay of an
 * edited program stops at the divergence (or, tolerant, goes on), and the failure classes not
 * covered by test_det_explore.c: starvation, timers that fire only after the limit, a join on a
 * task that cannot finish, and the statistics labs read (the longest poll).
 *
 * White-box: it reads and writes records with replay/'s own functions.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <weft/sched.h>
#include <weft/weft.h>

#include "../../replay/det_int.h"
#include "test_det_programs.h"

static char dir[256];
static int buggy = 0, fixed = 1;

/* A failing schedule of the two-lock program, as text. */
static char *two_lock_schedule(size_t *len)
{
    weft_explore_opts o = {0};
    o.program = "two_lock";
    o.strategy = "random";
    o.iterations = 1000;
    o.seed = 5;
    o.out_dir = dir;
    weft_explore_result res;
    assert_int_equal(weft_explore(&o, det_prog_two_lock, &buggy, &res), 0);
    assert_true(res.failed);
    FILE *f = fopen(res.shrunk_path, "rb");
    assert_non_null(f);
    char *buf = malloc(1 << 20);
    *len = fread(buf, 1, (1 << 20) - 1, f);
    buf[*len] = '\0';
    fclose(f);
    return buf;
}

static int parse(const char *text, size_t len, const char *program, char *err, size_t size)
{
    weft__det_record r;
    assert_int_equal(weft__det_record_init(&r), 0);
    int rc = weft__det_parse(&r, text, len, program, "test", err, size);
    weft__det_record_free(&r);
    return rc;
}

static void test_det_schedule_round_trip(void **state)
{
    (void)state;
    size_t len;
    char *text = two_lock_schedule(&len);
    weft__det_record r;
    assert_int_equal(weft__det_record_init(&r), 0);
    char err[512];
    assert_int_equal(weft__det_parse(&r, text, len, "two_lock", "test", err, sizeof err), 0);
    assert_int_equal(r.outcome, WEFT__OUT_DEADLOCK);
    char *again;
    size_t alen;
    assert_int_equal(weft__det_write_mem(&r, &again, &alen), 0);
    assert_int_equal(alen, len);
    assert_memory_equal(again, text, len);
    free(again);
    weft__det_record_free(&r);
    free(text);
}

static void expect_refused(const char *text, const char *program, const char *needle)
{
    char err[512] = "";
    int rc = parse(text, strlen(text), program, err, sizeof err);
    if (rc == 0)
        fail_msg("accepted: %.200s", text);
    if (!strstr(err, needle))
        fail_msg("'%s' not in the message: %s", needle, err);
}

/* Replace the first occurrence of `from` by `to`. */
static char *edit(const char *text, const char *from, const char *to)
{
    const char *at = strstr(text, from);
    assert_non_null(at);
    size_t n = strlen(text) + strlen(to) + 1;
    char *out = malloc(n);
    snprintf(out, n, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
    return out;
}

static void test_det_schedule_refuses_bad_files(void **state)
{
    (void)state;
    size_t len;
    char *text = two_lock_schedule(&len);
    char *t;
    expect_refused("", NULL, "empty, truncated, or not a weft schedule");
    expect_refused("# only a comment\n", NULL, "empty, truncated");
    expect_refused("hello\n", NULL, "not a weft schedule");
    expect_refused(t = edit(text, "weft-schedule 1", "weft-schedule 2"), NULL,
                   "format version 2: this weft reads version 1");
    free(t);
    expect_refused(text, "bank", "recorded for program 'two_lock', not 'bank'");
    expect_refused(t = edit(text, "run=T1", "run=T9"), NULL, "is not a defined task");
    free(t);
    expect_refused(t = edit(text, "of=T0,T1", "of=T0,T0"), NULL, "twice in the runnable set");
    free(t);
    expect_refused(t = edit(text, "seed 5", "seed 99999999999999999999999"), NULL,
                   "malformed seed");
    free(t);
    expect_refused(t = edit(text, "kind=async", "kind=thread"), NULL, "unknown task kind");
    free(t);
    expect_refused(t = edit(text, "op=yield", "op=teleport"), NULL, "unknown operation");
    free(t);
    expect_refused(t = edit(text, "\nend\n", "\nend\nmore\n"), NULL, "after 'end'");
    free(t);
    /* Every cut at a line boundary before the end is refused as a truncation. */
    for (size_t cut = 0; cut < len - 4; cut++) {
        if (cut && text[cut - 1] != '\n')
            continue;
        char err[512] = "";
        if (parse(text, cut, NULL, err, sizeof err) == 0)
            fail_msg("a schedule cut after %zu bytes was accepted", cut);
        if (!strstr(err, "truncated") && !strstr(err, "ends before"))
            fail_msg("cut after %zu bytes: '%s' does not say truncated", cut, err);
    }
    free(text);
}

static void test_det_schedule_replay_diverges_on_an_edited_program(void **state)
{
    (void)state;
    size_t len;
    free(two_lock_schedule(&len));
    char path[300];
    snprintf(path, sizeof path, "%s/two_lock.shrunk.schedule", dir);
    weft_explore_result res;
    /* The fixed program takes the same first lock in both tasks: it diverges. */
    assert_int_equal(weft_replay_file(path, "two_lock", false, det_prog_two_lock, &fixed, &res),
                     0);
    assert_true(res.failed);
    assert_string_equal(res.kind, "divergence");
    assert_non_null(strstr(res.summary, "replay diverged at step"));
    assert_non_null(strstr(res.summary, "recorded:"));
    assert_non_null(strstr(res.summary, "now:"));
    assert_non_null(strstr(res.summary, "test_det_programs.c:"));
    /* Tolerant: the matching prefix, then FIFO, and the fixed program passes. */
    assert_int_equal(weft_replay_file(path, "two_lock", true, det_prog_two_lock, &fixed, &res),
                     0);
    assert_false(res.failed);
    /* Another program's schedule is refused before anything runs. */
    assert_int_equal(weft_replay_file(path, "race", false, det_prog_race, &buggy, &res),
                     WEFT_EINVAL);
    assert_non_null(strstr(res.summary, "recorded for program 'two_lock', not 'race'"));
}

/* ---------------------------------------------------------------- starvation */

static bool starve_flag;

typedef struct spin_until {
    weft_async co;
    weft_yield_now y;
} spin_until;

static weft_poll spin_poll(weft_future *f, weft_context *cx)
{
    spin_until *s = (spin_until *)f;
    WEFT_ASYNC_BEGIN(&s->co);
    while (!starve_flag) {
        weft_yield_now_init(&s->y);
        WEFT_AWAIT(&s->co, cx, &s->y);
    }
    WEFT_ASYNC_END(&s->co);
}

static const weft_future_vtable spin_vt = {spin_poll, weft_async_drop, "spinner"};

typedef struct setter {
    weft_future base;
} setter;

static weft_poll setter_poll(weft_future *f, weft_context *cx)
{
    (void)f;
    (void)cx;
    starve_flag = true;
    return WEFT_READY;
}

static const weft_future_vtable setter_vt = {setter_poll, NULL, "setter"};

static int starve_body(void *arg)
{
    (void)arg;
    starve_flag = false;
    weft_builder b = weft_builder_new_current_thread();
    weft_runtime *rt;
    if (weft_runtime_new(&b, &rt))
        return 1;
    spin_until s;
    weft_async_init(&s.co, &spin_vt);
    setter st = {{&setter_vt}};
    weft_join_handle h1 = weft_runtime_spawn(rt, &s);
    weft_join_handle h2 = weft_runtime_spawn(rt, &st);
    weft_join_handle_detach(&h2);
    int rc = weft_block_on(rt, &h1.base);
    if (rc)
        weft_join_handle_detach(&h1);
    weft_runtime_shutdown(rt);
    return 0;
}

static void test_det_schedule_starvation(void **state)
{
    (void)state;
    /* PCT without change points always runs the task with the higher priority: when that is
     * the spinner, the setter starves. */
    weft_explore_opts o = {0};
    o.program = "starve";
    o.strategy = "pct:1";
    o.iterations = 100;
    o.starvation = 50;
    o.no_shrink = true;
    weft_explore_result res;
    assert_int_equal(weft_explore(&o, starve_body, NULL, &res), 0);
    assert_true(res.failed);
    assert_string_equal(res.kind, "starvation");
    assert_non_null(strstr(res.summary, "setter"));
    assert_non_null(strstr(res.summary, "without being polled"));
    /* FIFO is fair: no starvation. */
    o.strategy = "fifo";
    assert_int_equal(weft_explore(&o, starve_body, NULL, &res), 0);
    assert_false(res.failed);
}

/* ---------------------------------------------------------------- timers past the limit */

typedef struct long_nap {
    weft_async co;
    weft_sleep s;
} long_nap;

static weft_poll long_nap_poll(weft_future *f, weft_context *cx)
{
    long_nap *n = (long_nap *)f;
    WEFT_ASYNC_BEGIN(&n->co);
    weft_sleep_init(&n->s, weft_secs(7200));
    WEFT_AWAIT(&n->co, cx, &n->s);
    WEFT_ASYNC_END(&n->co);
}

static const weft_future_vtable long_nap_vt = {long_nap_poll, weft_async_drop, "napper"};

static int nap_body(void *arg)
{
    (void)arg;
    weft_builder b = weft_builder_new_current_thread();
    weft_runtime *rt;
    if (weft_runtime_new(&b, &rt))
        return 1;
    long_nap n;
    weft_async_init(&n.co, &long_nap_vt);
    if (weft_block_on(rt, &n.co.base))
        weft_future_drop(&n.co.base);
    weft_runtime_shutdown(rt);
    return 0;
}

static void test_det_schedule_timers_past_the_limit(void **state)
{
    (void)state;
    weft_explore_opts o = {0};
    o.program = "nap";
    o.strategy = "fifo";
    o.max_vtime = weft_secs(3600);
    weft_explore_result res;
    assert_int_equal(weft_explore(&o, nap_body, NULL, &res), 0);
    assert_true(res.failed);
    assert_string_equal(res.kind, "timer-stall");
    assert_non_null(strstr(res.summary, "fire after the virtual-time limit"));
    /* A longer limit lets it finish: two virtual hours, in no time. */
    o.max_vtime = weft_secs(3 * 3600);
    assert_int_equal(weft_explore(&o, nap_body, NULL, &res), 0);
    assert_false(res.failed);
}

/* ---------------------------------------------------------------- join on a stuck task */

static weft_waker parked_waker;

/* Pending forever, but with its waker kept somewhere (so not a lost wakeup). */
typedef struct parked {
    weft_future base;
} parked;

static weft_poll parked_poll(weft_future *f, weft_context *cx)
{
    (void)f;
    weft_waker_register(&parked_waker, cx);
    return WEFT_PENDING;
}

static const weft_future_vtable parked_vt = {parked_poll, NULL, "parked"};

static int join_stall_body(void *arg)
{
    (void)arg;
    weft_builder b = weft_builder_new_current_thread();
    weft_runtime *rt;
    if (weft_runtime_new(&b, &rt))
        return 1;
    parked p = {{&parked_vt}};
    weft_join_handle h = weft_runtime_spawn(rt, &p);
    if (weft_block_on(rt, &h.base))
        weft_join_handle_detach(&h);
    weft_runtime_shutdown(rt);
    weft_waker_drop(&parked_waker);
    return 0;
}

static void test_det_schedule_join_on_a_task_that_cannot_finish(void **state)
{
    (void)state;
    weft_explore_opts o = {0};
    o.program = "join_stall";
    o.strategy = "fifo";
    weft_explore_result res;
    assert_int_equal(weft_explore(&o, join_stall_body, NULL, &res), 0);
    assert_true(res.failed);
    assert_string_equal(res.kind, "join-stall");
    assert_non_null(strstr(res.summary, "awaits the join handle of T0"));
    assert_non_null(strstr(res.summary, "a waker of it is registered somewhere"));
}

/* ---------------------------------------------------------------- statistics */

typedef struct burner {
    weft_async co;
    weft_sched_stats st;
    weft_sleep s;
} burner;

static weft_poll burner_poll(weft_future *f, weft_context *cx)
{
    burner *b = (burner *)f;
    WEFT_ASYNC_BEGIN(&b->co);
    weft_sched_burn(weft_ms(3));
    weft_sleep_init(&b->s, weft_ms(10));
    WEFT_AWAIT(&b->co, cx, &b->s);
    weft_sched_stats_get(&b->st);
    WEFT_ASYNC_END(&b->co);
}

static const weft_future_vtable burner_vt = {burner_poll, weft_async_drop, "burner"};

static int burner_body(void *arg)
{
    burner *b = arg;
    weft_builder bl = weft_builder_new_current_thread();
    weft_runtime *rt;
    if (weft_runtime_new(&bl, &rt))
        return 1;
    weft_async_init(&b->co, &burner_vt);
    int rc = weft_block_on(rt, &b->co.base);
    weft_runtime_shutdown(rt);
    return rc;
}

static void test_det_schedule_stats_measure_polls_in_virtual_time(void **state)
{
    (void)state;
    burner b;
    weft_explore_opts o = {0};
    o.program = "burner";
    o.strategy = "fifo";
    weft_explore_result res;
    assert_int_equal(weft_explore(&o, burner_body, &b, &res), 0);
    assert_false(res.failed);
    assert_int_equal(b.st.max_poll, weft_ms(3));
    assert_int_equal(b.st.vtime, weft_ms(13));
    assert_int_equal(b.st.max_poll_task, 0); /* block_on's future */
    assert_int_equal(b.st.steps, 1); /* decisions before this poll */
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/weft-test-det-schedule-%d", (int)getpid());
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    unsetenv("WEFT_SCHED");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_det_schedule_round_trip),
        cmocka_unit_test(test_det_schedule_refuses_bad_files),
        cmocka_unit_test(test_det_schedule_replay_diverges_on_an_edited_program),
        cmocka_unit_test(test_det_schedule_starvation),
        cmocka_unit_test(test_det_schedule_timers_past_the_limit),
        cmocka_unit_test(test_det_schedule_join_on_a_task_that_cannot_finish),
        cmocka_unit_test(test_det_schedule_stats_measure_polls_in_virtual_time),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
