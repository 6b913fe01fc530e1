/* tests/labs/test_lab_support.c - the lab support library (labs/support/lab.h): what the
 * graders rely on. Recordings are in virtual time under the deterministic scheduler, a judged
 * check that fails fails the run with its name and explanation (and so gets a schedule), and
 * a check that is not judged does not. Each case explores in-process (weft_explore).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>
#include <lab.h>

/* ---------------------------------------------------------------- a tiny lab program */

typedef struct prog {
    weft_async co;
    weft_sleep nap;
    int step;
} prog;

static weft_duration seen_gap, seen_gap_end;
static size_t seen_marks;
static int64_t seen_peak, seen_value;

/* Marks at 0, 10 and 40 ms of virtual time; a counter that goes 1, 2, 3, then down to 1. */
static weft_poll prog_poll(weft_future *f, weft_context *cx)
{
    prog *p = (prog *)f;
    WEFT_ASYNC_BEGIN(&p->co);
    lab_mark("beat");
    lab_count("open", 3);
    lab_count("open", -2);
    weft_sleep_init(&p->nap, weft_ms(10));
    WEFT_AWAIT(&p->co, cx, &p->nap);
    lab_mark("beat");
    weft_sleep_init(&p->nap, weft_ms(30));
    WEFT_AWAIT(&p->co, cx, &p->nap);
    lab_mark("beat");
    const weft_duration *at;
    seen_marks = lab_marks("beat", &at);
    seen_gap = lab_max_gap("beat", &seen_gap_end);
    seen_peak = lab_counter_peak("open");
    seen_value = lab_counter("open");
    lab_check("gap-small", seen_gap <= weft_ms(20), "longest gap %llu ms",
              (unsigned long long)(seen_gap / 1000000u));
    lab_check("always-ok", true, "fine");
    WEFT_ASYNC_END(&p->co);
}

static const weft_future_vtable prog_vt = {prog_poll, weft_async_drop, "prog"};

static int run(void *arg)
{
    (void)arg;
    lab_begin();
    weft_builder b = weft_builder_new_current_thread();
    b.enable_time = true;
    weft_runtime *rt;
    if (weft_runtime_new(&b, &rt) != 0)
        return 2;
    prog p = {0};
    weft_async_init(&p.co, &prog_vt);
    if (weft_block_on(rt, &p.co.base) != 0)
        weft_future_drop(&p.co.base);
    weft_runtime_shutdown(rt);
    return 0;
}

static void explore_once(weft_explore_result *res)
{
    weft_explore_opts o = {0};
    o.program = "test_lab_support";
    o.strategy = "fifo";
    o.no_shrink = true;
    assert_int_equal(weft_explore(&o, run, NULL, res), 0);
}

/* ---------------------------------------------------------------- cases */

static void test_lab_marks_are_in_virtual_time(void **state)
{
    (void)state;
    lab_set_quiet(true);
    lab_judge_only("always-ok");
    weft_explore_result res;
    explore_once(&res);
    assert_false(res.failed);
    assert_int_equal(seen_marks, 3);
    assert_int_equal(seen_gap, weft_ms(30)); /* exactly: virtual time */
    assert_int_equal(seen_gap_end, weft_ms(40));
}

static void test_lab_counter_keeps_its_peak(void **state)
{
    (void)state;
    lab_set_quiet(true);
    lab_judge_only("always-ok");
    weft_explore_result res;
    explore_once(&res);
    assert_int_equal(seen_peak, 3);
    assert_int_equal(seen_value, 1);
}

static void test_lab_judged_check_fails_the_run_with_its_explanation(void **state)
{
    (void)state;
    lab_set_quiet(true);
    lab_judge_only("gap-small,always-ok");
    weft_explore_result res;
    explore_once(&res);
    assert_true(res.failed);
    assert_string_equal(res.kind, "assertion");
    assert_non_null(strstr(res.summary, "check gap-small: longest gap 30 ms"));
}

static void test_lab_unjudged_check_does_not_fail_the_run(void **state)
{
    (void)state;
    lab_set_quiet(true);
    lab_judge_only("always-ok");
    weft_explore_result res;
    explore_once(&res);
    assert_false(res.failed);
    assert_false(lab_judged("gap-small"));
    assert_true(lab_judged("always-ok"));
    lab_judge_only(NULL);
    assert_true(lab_judged("gap-small"));
}

static void test_lab_begin_forgets_the_last_run(void **state)
{
    (void)state;
    lab_set_quiet(true);
    lab_judge_only("always-ok");
    weft_explore_result res;
    explore_once(&res);
    explore_once(&res); /* a second run must not see the first one's marks */
    assert_int_equal(seen_marks, 3);
    lab_begin();
    const weft_duration *at;
    assert_int_equal(lab_marks("beat", &at), 0);
    assert_int_equal(lab_counter_peak("open"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lab_marks_are_in_virtual_time),
        cmocka_unit_test(test_lab_counter_keeps_its_peak),
        cmocka_unit_test(test_lab_judged_check_fails_the_run_with_its_explanation),
        cmocka_unit_test(test_lab_unjudged_check_does_not_fail_the_run),
        cmocka_unit_test(test_lab_begin_forgets_the_last_run),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
