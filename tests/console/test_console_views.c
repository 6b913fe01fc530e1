/* tests/console/test_console_views.c - the console's views and recording cursor, without a
 * terminal: a recording is an in-memory list of synthetic events (a trace source with no
 * database behind it), the app renders into a canvas, and the tests read the text a person
 * would see.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <weft/resource.h>

#include "app.h"

static weft_event evs[64];
static size_t nev;

static weft_event *add(uint16_t type, uint64_t ts)
{
    weft_event *e = &evs[nev++];
    memset(e, 0, sizeof *e);
    e->type = type;
    e->ts = ts;
    e->thread_kind = WEFT_THREAD_WORKER;
    e->runtime = 1;
    return e;
}

static void str(uint32_t id, const char *text)
{
    weft_event *e = add(WEFT_EV_string_def, 1);
    e->u.string_def.id = id;
    e->u.string_def.len = (uint32_t)strlen(text);
    e->text = text;
}

static void poll_pair(uint64_t task, uint64_t ts, uint16_t mid_type, uint64_t res, uint8_t op)
{
    add(WEFT_EV_task_poll_begin, ts)->u.task_poll_begin.task = task;
    weft_event *e = add(mid_type, ts + 1);
    if (mid_type == WEFT_EV_lock_acquire) {
        e->u.lock_acquire.resource = res;
        e->u.lock_acquire.task = task;
        e->u.lock_acquire.op = op;
    } else {
        e->u.task_wait.task = task;
        e->u.task_wait.resource = res;
        e->u.task_wait.op = op;
        e->u.task_wait.location = 20;
    }
    add(WEFT_EV_task_poll_end, ts + 2)->u.task_poll_end.task = task;
}

/* The two-lock deadlock as a recording: the cycle closes at the last event. */
static void build_recording(void)
{
    nev = 0;
    str(1, "transfer_ab");
    str(2, "transfer_ba");
    str(3, "account_a");
    str(4, "account_b");
    str(5, "src/bank.c");
    weft_event *e = add(WEFT_EV_location_def, 1);
    e->u.location_def.id = 20;
    e->u.location_def.file = 5;
    e->u.location_def.line = 42;
    for (int i = 0; i < 2; i++) {
        e = add(WEFT_EV_resource_create, 10);
        e->u.resource_create.resource = (uint64_t)(100 + i);
        e->u.resource_create.kind = WEFT_RESOURCE_MUTEX;
        e->u.resource_create.name = (uint32_t)(3 + i);
        e = add(WEFT_EV_task_spawn, 20);
        e->u.task_spawn.task = (uint64_t)(1 + i);
        e->u.task_spawn.name = (uint32_t)(1 + i);
    }
    poll_pair(1, 1000, WEFT_EV_lock_acquire, 100, WEFT_OP_LOCK);
    poll_pair(2, 2000, WEFT_EV_lock_acquire, 101, WEFT_OP_LOCK);
    add(WEFT_EV_schedule_decision, 2500)->u.schedule_decision.task = 1;
    poll_pair(1, 3000, WEFT_EV_task_wait, 101, WEFT_OP_LOCK);
    add(WEFT_EV_schedule_decision, 3500)->u.schedule_decision.task = 2;
    poll_pair(2, 4000, WEFT_EV_task_wait, 100, WEFT_OP_LOCK);
}

static app *open_app(void)
{
    build_recording();
    app *a = calloc(1, sizeof *a);
    app_init(a, false);
    a->src.kind = SOURCE_TRACE;
    snprintf(a->src.label, sizeof a->src.label, "synthetic.db");
    a->src.evs = malloc(nev * sizeof *evs);
    memcpy(a->src.evs, evs, nev * sizeof *evs);
    a->src.nev = nev;
    return a;
}

static char *render(app *a, int width, bool ascii)
{
    canvas cv;
    assert_true(canvas_init(&cv, width, 2000, ascii));
    a->now = a->m.now;
    app_analyse(a);
    app_render(a, &cv);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    canvas_print(&cv, f);
    fclose(f);
    canvas_free(&cv);
    return text;
}

static void test_console_views_deadlock_found_in_recording(void **state)
{
    (void)state;
    app *a = open_app();
    size_t at = source_first_deadlock(&a->src, &a->m);
    /* The cycle closes when the second task, waiting, goes idle: the very last event. */
    assert_int_equal(at, nev);
    source_seek(&a->src, &a->m, at);
    a->view = VIEW_DEADLOCKS;
    char *t = render(a, 120, false);
    assert_non_null(strstr(t, "DEADLOCK x1"));
    assert_non_null(strstr(t, "Deadlock 1: 2 tasks"));
    assert_non_null(strstr(t, "T1 'transfer_ab'"));
    assert_non_null(strstr(t, "waits to lock mutex 'account_b' at bank.c:42, held by"));
    assert_non_null(strstr(t, "waits to lock mutex 'account_a' at bank.c:42, held by"));
    free(t);
    app_free(a);
    free(a);
}

static void test_console_views_cursor_steps_back_and_forth(void **state)
{
    (void)state;
    app *a = open_app();
    source_seek(&a->src, &a->m, nev);
    assert_int_equal(a->m.steps, 2);
    /* Back one schedule decision: the state before the second task's wait. */
    assert_true(app_key(a, '['));
    assert_int_equal(a->m.steps, 2);
    assert_int_equal(a->src.cursor, nev - 3);
    char *t = render(a, 120, false);
    assert_null(strstr(t, "DEADLOCK"));
    free(t);
    assert_true(app_key(a, 'B'));
    assert_int_equal(a->src.cursor, 0);
    assert_int_equal(a->m.ntasks, 0);
    assert_true(app_key(a, ']'));
    assert_int_equal(a->m.steps, 1);
    assert_true(app_key(a, '.'));
    assert_int_equal(a->src.cursor, nev - 6);
    assert_true(app_key(a, 'D'));
    assert_int_equal(a->src.cursor, nev);
    assert_int_equal(a->view, VIEW_DEADLOCKS);
    assert_true(app_key(a, 'B'));
    assert_true(app_key(a, 'E'));
    assert_int_equal(a->src.cursor, nev);
    t = render(a, 120, false);
    char want[32];
    snprintf(want, sizeof want, "event %zu/%zu", nev, nev);
    assert_non_null(strstr(t, want));
    free(t);
    assert_false(app_key(a, 'q'));
    app_free(a);
    free(a);
}

static void test_console_views_tasks_show_waits_at_80_columns(void **state)
{
    (void)state;
    app *a = open_app();
    source_seek(&a->src, &a->m, nev);
    char *t = render(a, 80, false);
    assert_non_null(strstr(t, "Waiting on"));
    assert_non_null(strstr(t, "lock mutex 'account_b' at bank.c:42"));
    assert_non_null(strstr(t, "transfer_ba"));
    free(t);
    t = render(a, 140, false);
    assert_non_null(strstr(t, "lock mutex 'account_a' at bank.c:42 held by T1"));
    free(t);
    /* the filter keeps one task */
    snprintf(a->filter, sizeof a->filter, "_ba");
    t = render(a, 140, false);
    assert_null(strstr(t, "transfer_ab"));
    assert_non_null(strstr(t, "transfer_ba"));
    free(t);
    app_free(a);
    free(a);
}

static void test_console_views_detail_and_resources(void **state)
{
    (void)state;
    app *a = open_app();
    source_seek(&a->src, &a->m, nev);
    a->view = VIEW_TASK;
    a->sel_task = 2;
    char *t = render(a, 120, false);
    assert_non_null(strstr(t, "Task T2 'transfer_ba'"));
    assert_non_null(strstr(t, "Wait chain"));
    assert_non_null(strstr(t, "T1 'transfer_ab' waits to lock mutex 'account_b' at bank.c:42"));
    assert_non_null(strstr(t, "T2 'transfer_ba' again: a wait-for cycle, DEADLOCK"));
    assert_non_null(strstr(t, "Poll times"));
    free(t);
    a->view = VIEW_RESOURCES;
    t = render(a, 120, false);
    assert_non_null(strstr(t, "locked by T1"));
    assert_non_null(strstr(t, "locked by T2"));
    free(t);
    a->view = VIEW_RESOURCE;
    a->sel_res = 100;
    t = render(a, 120, false);
    assert_non_null(strstr(t, "Waiters (1), longest first"));
    assert_non_null(strstr(t, "T2 'transfer_ba'  lock at bank.c:42"));
    free(t);
    app_free(a);
    free(a);
}

static void test_console_views_ascii_only(void **state)
{
    (void)state;
    app *a = open_app();
    source_seek(&a->src, &a->m, nev);
    for (int v = 0; v < VIEW_COUNT; v++) {
        a->view = (view_id)v;
        a->sel_task = 1;
        a->sel_res = 100;
        char *t = render(a, 100, true);
        for (const unsigned char *p = (const unsigned char *)t; *p; p++)
            assert_true(*p == '\n' || (*p >= 32 && *p < 127));
        free(t);
    }
    app_free(a);
    free(a);
}

/* A failing run of the deterministic scheduler is torn down after the failure: its tasks are
 * cancelled. The console opens before that, where the run stopped. */
static void test_console_views_failure_point_before_teardown(void **state)
{
    (void)state;
    app *a = open_app();
    assert_int_equal(source_failure_point(&a->src), a->src.nev); /* no teardown: the end */
    size_t stop = a->src.nev;
    for (uint64_t t = 1; t <= 2; t++) {
        weft_event *grown = realloc(a->src.evs, (a->src.nev + 1) * sizeof *grown);
        assert_non_null(grown);
        a->src.evs = grown;
        weft_event *e = &a->src.evs[a->src.nev++];
        memset(e, 0, sizeof *e);
        e->type = WEFT_EV_task_complete;
        e->ts = 9000 + t;
        e->u.task_complete.task = t;
        e->u.task_complete.outcome = WEFT_OUTCOME_CANCELLED;
    }
    assert_int_equal(source_failure_point(&a->src), stop);
    source_seek(&a->src, &a->m, stop);
    assert_int_equal(model_task_get(&a->m, 1)->state, TASK_IDLE);
    source_seek(&a->src, &a->m, a->src.nev);
    assert_int_equal(model_task_get(&a->m, 1)->state, TASK_DONE);
    app_free(a);
    free(a);
}

/* Two tasks awaiting each other's joins, and a busy worker's queue sample: the deadlocks view
 * draws the join cycle, the task detail follows it, the workers view shows the depths. */
static app *open_join_app(void)
{
    nev = 0;
    str(1, "parent");
    str(2, "worker");
    str(5, "src/main.c");
    weft_event *e = add(WEFT_EV_location_def, 1);
    e->u.location_def.id = 21;
    e->u.location_def.file = 5;
    e->u.location_def.line = 42;
    for (int i = 0; i < 2; i++) {
        e = add(WEFT_EV_task_spawn, 20);
        e->u.task_spawn.task = (uint64_t)(1 + i);
        e->u.task_spawn.name = (uint32_t)(1 + i);
        e->u.task_spawn.location = 21;
    }
    for (int i = 0; i < 2; i++) {
        uint64_t ts = 1000 + 1000 * (uint64_t)i;
        add(WEFT_EV_task_poll_begin, ts)->u.task_poll_begin.task = (uint64_t)(1 + i);
        e = add(WEFT_EV_task_join_wait, ts + 1);
        e->u.task_join_wait.task = (uint64_t)(1 + i);
        e->u.task_join_wait.joined = (uint64_t)(2 - i);
        add(WEFT_EV_task_poll_end, ts + 2)->u.task_poll_end.task = (uint64_t)(1 + i);
    }
    e = add(WEFT_EV_worker_queues, 2500);
    e->u.worker_queues.worker = 0;
    e->u.worker_queues.local = 17;
    e->u.worker_queues.inject = 5;
    app *a = calloc(1, sizeof *a);
    app_init(a, false);
    a->src.kind = SOURCE_TRACE;
    snprintf(a->src.label, sizeof a->src.label, "joins.db");
    a->src.evs = malloc(nev * sizeof *evs);
    memcpy(a->src.evs, evs, nev * sizeof *evs);
    a->src.nev = nev;
    return a;
}

static void test_console_views_join_cycle_and_queue_depths(void **state)
{
    (void)state;
    app *a = open_join_app();
    size_t at = source_first_deadlock(&a->src, &a->m);
    assert_int_equal(at, nev - 1); /* when T2 went idle awaiting T1's join */
    source_seek(&a->src, &a->m, nev);
    a->view = VIEW_DEADLOCKS;
    char *t = render(a, 120, false);
    assert_non_null(strstr(t, "Deadlock 1: 2 tasks"));
    assert_non_null(strstr(t, "waits for T2 'worker' (spawned at main.c:42) to finish"));
    assert_non_null(strstr(t, "waits for T1 'parent' (spawned at main.c:42) to finish"));
    assert_null(strstr(t, "held by"));
    free(t);
    a->view = VIEW_TASK;
    a->sel_task = 2;
    t = render(a, 120, false);
    assert_non_null(strstr(t, "waits for T1 'parent'"));
    assert_non_null(strstr(t, "a wait-for cycle, DEADLOCK"));
    free(t);
    a->view = VIEW_TASKS;
    t = render(a, 140, false);
    assert_non_null(strstr(t, "join T1 'parent'"));
    free(t);
    a->view = VIEW_WORKERS;
    t = render(a, 80, false);
    assert_non_null(strstr(t, "Queue"));
    assert_non_null(strstr(t, "rt1 injection queue: 5 tasks"));
    char *row = strstr(t, "rt1 worker 0");
    assert_non_null(row);
    char *eol = strchr(row, '\n');
    assert_non_null(eol);
    *eol = '\0';
    assert_non_null(strstr(row, " 17 "));
    free(t);
    app_free(a);
    free(a);
}

static void test_console_views_small_terminal_says_so(void **state)
{
    (void)state;
    app *a = open_app();
    canvas cv;
    assert_true(canvas_init(&cv, 70, 20, false));
    app_render(a, &cv);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    canvas_print(&cv, f);
    fclose(f);
    assert_non_null(strstr(text, "terminal too small: 70x20"));
    free(text);
    canvas_free(&cv);
    app_free(a);
    free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_console_views_deadlock_found_in_recording),
        cmocka_unit_test(test_console_views_cursor_steps_back_and_forth),
        cmocka_unit_test(test_console_views_tasks_show_waits_at_80_columns),
        cmocka_unit_test(test_console_views_detail_and_resources),
        cmocka_unit_test(test_console_views_ascii_only),
        cmocka_unit_test(test_console_views_failure_point_before_teardown),
        cmocka_unit_test(test_console_views_join_cycle_and_queue_depths),
        cmocka_unit_test(test_console_views_small_terminal_says_so),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
