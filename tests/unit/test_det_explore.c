/* tests/unit/test_det_explore.c - exploration on programs with classic bugs: each bug is
 * found, reported with the right cause (the cycle, the resource, the line), shrunk to the
 * fewest preemptions, and its shrunk schedule replays to a byte-identical schedule; the fixed
 * programs pass, and bounded DFS exhausts them and says so.
 *
 * The programs are in test_det_programs.c (shared with bench/explore_bench.c). Under FIFO
 * every one of them passes: each bug needs at least one preemption to show.
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

#include "test_det_programs.h"

static char out_dir[256];

static weft_explore_opts opts(const char *program, const char *strategy, uint64_t iterations)
{
    weft_explore_opts o = {0};
    o.program = program;
    o.strategy = strategy;
    o.iterations = iterations;
    o.seed = 1;
    o.out_dir = out_dir;
    o.progress = getenv("WEFT_TEST_VERBOSE") ? stderr : NULL;
    return o;
}

static int buggy = 0, fixed = 1;

/* Explore, expect a failure of `kind` whose summary contains each of the needles. */
static void expect_found(const char *program, int (*body)(void *), const char *strategy,
                         unsigned preemptions, const char *kind, const char *needle1,
                         const char *needle2)
{
    weft_explore_opts o = opts(program, strategy, 2000);
    weft_explore_result res;
    assert_int_equal(weft_explore(&o, body, &buggy, &res), 0);
    if (!res.failed)
        fail_msg("%s: %s found nothing in %llu schedules", program, strategy,
                 (unsigned long long)res.schedules);
    if (strcmp(res.kind, kind) != 0)
        fail_msg("%s: expected %s, got %s: %s", program, kind, res.kind, res.summary);
    if (needle1 && !strstr(res.summary, needle1))
        fail_msg("%s: '%s' not in: %s", program, needle1, res.summary);
    if (needle2 && !strstr(res.summary, needle2))
        fail_msg("%s: '%s' not in: %s", program, needle2, res.summary);
    /* Shrunk to the least that still fails (what bounded DFS says is the minimum). */
    assert_true(res.shrunk_preemptions <= res.failing_preemptions);
    if (res.shrunk_preemptions != preemptions)
        fail_msg("%s: shrunk to %llu preemptions, expected %u", program,
                 (unsigned long long)res.shrunk_preemptions, preemptions);
    assert_true(res.shrunk_path[0] != '\0');

    /* The shrunk schedule replays: same failure. */
    weft_explore_result again;
    assert_int_equal(weft_replay_file(res.shrunk_path, program, false, body, &buggy, &again), 0);
    assert_true(again.failed);
    assert_string_equal(again.kind, res.kind);
    assert_int_equal(again.shrunk_steps, res.shrunk_steps);
    assert_string_equal(again.summary, res.summary);
}

static void expect_clean(const char *program, int (*body)(void *), const char *strategy,
                         uint64_t n)
{
    weft_explore_opts o = opts(program, strategy, n);
    o.out_dir = NULL;
    weft_explore_result res;
    assert_int_equal(weft_explore(&o, body, &fixed, &res), 0);
    if (res.failed)
        fail_msg("%s (fixed) failed under %s: %s", program, strategy, res.summary);
}

static void expect_fifo_passes(const char *program, int (*body)(void *))
{
    weft_explore_opts o = opts(program, "fifo", 1);
    o.out_dir = NULL;
    weft_explore_result res;
    assert_int_equal(weft_explore(&o, body, &buggy, &res), 0);
    if (res.failed)
        fail_msg("%s fails under plain FIFO (%s): the test needs a preemption to show it",
                 program, res.summary);
}

/* ---------------------------------------------------------------- the bugs */

static void test_det_explore_race_assertion(void **state)
{
    (void)state;
    expect_fifo_passes("race", det_prog_race);
    expect_found("race", det_prog_race, "random", 2, "assertion", "race_counter == 2",
                 "test_det_programs.c");
    expect_found("race", det_prog_race, "pct:2", 2, "assertion", "race_counter == 2", NULL);
    expect_clean("race", det_prog_race, "random", 300);
}

static void test_det_explore_two_lock_deadlock(void **state)
{
    (void)state;
    expect_fifo_passes("two_lock", det_prog_two_lock);
    expect_found("two_lock", det_prog_two_lock, "random", 1, "deadlock", "mutex 'account_a'",
                 "mutex 'account_b'");
    expect_found("two_lock", det_prog_two_lock, "pct:2", 1, "deadlock", "held by", NULL);
    expect_clean("two_lock", det_prog_two_lock, "random", 300);
}

static void test_det_explore_lost_wakeup(void **state)
{
    (void)state;
    expect_fifo_passes("lost_wakeup", det_prog_lost_wakeup);
    expect_found("lost_wakeup", det_prog_lost_wakeup, "random", 1, "lost-wakeup", "waiter",
                 "no waker of it exists anywhere");
    expect_clean("lost_wakeup", det_prog_lost_wakeup, "random", 300);
}

static void test_det_explore_bounded_buffer(void **state)
{
    (void)state;
    expect_fifo_passes("bounded_buffer", det_prog_bounded_buffer);
    expect_found("bounded_buffer", det_prog_bounded_buffer, "random", 1, "stall", "for a notification from notify 'not_full'",
                 "no task holds it");
    expect_clean("bounded_buffer", det_prog_bounded_buffer, "random", 300);
}

static void test_det_explore_reentrant_read(void **state)
{
    (void)state;
    expect_fifo_passes("reentrant_read", det_prog_reentrant_read);
    expect_found("reentrant_read", det_prog_reentrant_read, "random", 1, "deadlock",
                 "rwlock 'config'", "queued behind");
    expect_clean("reentrant_read", det_prog_reentrant_read, "random", 300);
}

static void test_det_explore_select_drops_half_a_frame(void **state)
{
    (void)state;
    expect_fifo_passes("select_frame", det_prog_select_frame);
    expect_found("select_frame", det_prog_select_frame, "random", 1, "assertion",
                 "body == s->fr.header + 1000", NULL);
    expect_clean("select_frame", det_prog_select_frame, "random", 300);
}

/* ---------------------------------------------------------------- DFS */

static void test_det_explore_dfs_exhausts_the_fixed_two_lock(void **state)
{
    (void)state;
    weft_explore_opts o = opts("two_lock", "dfs:2", 100000);
    o.out_dir = NULL;
    weft_explore_result res;
    assert_int_equal(weft_explore(&o, det_prog_two_lock, &fixed, &res), 0);
    assert_false(res.failed);
    assert_true(res.exhausted);
    assert_true(res.schedules > 1);
    /* A larger bound covers a superset. */
    uint64_t n2 = res.schedules;
    o.strategy = "dfs:3";
    assert_int_equal(weft_explore(&o, det_prog_two_lock, &fixed, &res), 0);
    assert_true(res.exhausted);
    assert_true(res.schedules >= n2);
    /* And bound 0 is FIFO alone. */
    o.strategy = "dfs:0";
    assert_int_equal(weft_explore(&o, det_prog_two_lock, &fixed, &res), 0);
    assert_true(res.exhausted);
    assert_int_equal(res.schedules, 1);
}

static void test_det_explore_dfs_finds_the_two_lock_deadlock(void **state)
{
    (void)state;
    weft_explore_opts o = opts("two_lock", "dfs:1", 100000);
    weft_explore_result res;
    assert_int_equal(weft_explore(&o, det_prog_two_lock, &buggy, &res), 0);
    assert_true(res.failed);
    assert_false(res.exhausted);
    assert_string_equal(res.kind, "deadlock");
    assert_int_equal(res.failing_preemptions, 1);
}

/* ---------------------------------------------------------------- determinism check */

static void test_det_explore_check_determinism_passes_a_deterministic_program(void **state)
{
    (void)state;
    weft_explore_opts o = opts("two_tasks", "random", 50);
    o.out_dir = NULL;
    o.check_determinism = true;
    weft_explore_result res;
    assert_int_equal(weft_explore(&o, det_prog_two_tasks, NULL, &res), 0);
    assert_false(res.failed);
    assert_int_equal(res.schedules, 50);
}

/* A program whose behaviour depends on something outside weft's control. */
static int flips;

typedef struct flaky {
    weft_async co;
    int i;
    weft_yield_now y;
} flaky;

static weft_poll flaky_poll(weft_future *f, weft_context *cx)
{
    flaky *t = (flaky *)f;
    WEFT_ASYNC_BEGIN(&t->co);
    /* One more yield every other run: like reading the real clock. */
    for (t->i = 0; t->i < 1 + (flips & 1); t->i++) {
        weft_yield_now_init(&t->y);
        WEFT_AWAIT(&t->co, cx, &t->y);
    }
    WEFT_ASYNC_END(&t->co);
}

static const weft_future_vtable flaky_vt = {flaky_poll, weft_async_drop, "flaky"};

static int flaky_body(void *arg)
{
    (void)arg;
    flips++;
    weft_builder b = weft_builder_new_current_thread();
    weft_runtime *rt = NULL;
    if (weft_runtime_new(&b, &rt))
        return 1;
    flaky f;
    weft_async_init(&f.co, &flaky_vt);
    weft_block_on(rt, &f.co.base);
    weft_runtime_shutdown(rt);
    return 0;
}

static void test_det_explore_check_determinism_names_the_first_difference(void **state)
{
    (void)state;
    weft_explore_opts o = opts("flaky", "random", 10);
    o.out_dir = NULL;
    o.check_determinism = true;
    weft_explore_result res;
    assert_int_equal(weft_explore(&o, flaky_body, NULL, &res), 0);
    assert_true(res.failed);
    assert_string_equal(res.kind, "nondeterminism");
    assert_non_null(strstr(res.summary, "ran differently the second time"));
}

static int setup(void **state)
{
    (void)state;
    snprintf(out_dir, sizeof out_dir, "/tmp/weft-test-det-explore-%d", (int)getpid());
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", out_dir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    unsetenv("WEFT_SCHED");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_det_explore_race_assertion),
        cmocka_unit_test(test_det_explore_two_lock_deadlock),
        cmocka_unit_test(test_det_explore_lost_wakeup),
        cmocka_unit_test(test_det_explore_bounded_buffer),
        cmocka_unit_test(test_det_explore_reentrant_read),
        cmocka_unit_test(test_det_explore_select_drops_half_a_frame),
        cmocka_unit_test(test_det_explore_dfs_exhausts_the_fixed_two_lock),
        cmocka_unit_test(test_det_explore_dfs_finds_the_two_lock_deadlock),
        cmocka_unit_test(test_det_explore_check_determinism_passes_a_deterministic_program),
        cmocka_unit_test(test_det_explore_check_determinism_names_the_first_difference),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
