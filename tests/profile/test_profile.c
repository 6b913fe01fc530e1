/* tests/profile/test_profile.c - the profiler's model and exporter on a synthetic trace.
 *
 * The trace is written with the recorder (recorder.h), event by event, with timestamps
 * chosen so that every number the report shows is known by hand:
 *
 *   thread 1 (worker 0)                               thread 2 (worker 1)
 *   1000 spawn task 1 "alpha", task 2 "beta"
 *   1500 ┌ poll task 1                                1900 ┌ poll task 2
 *   1600 │ lock_acquire mutex 7                       1950 │ task_wait mutex 7 at app.c:42
 *   2400 │ lock_release                               2000 └ pending
 *   2500 └ pending          park 2500..4100           3000 wake task 2 (wait done)
 *   4000 wake task 1 (from outside)                   3100 ┌ poll task 2
 *   4200 ┌ poll task 1                                3200 └ ready
 *   4600 │ wake task 1 by itself
 *   4700 └ pending
 *   5000 ┌ poll task 1
 *   8000 └ ready
 *
 * So task 1: polls 1000, 500, 3000 ns (busy 4500, p50 1000, p90 3000), scheduled 500 + 200 +
 * 300 (the last from the end of the poll that woke it), idle 1500. Task 2: busy 200,
 * scheduled 900 + 100, idle 1000; it waited on the mutex from 1950 to 3000.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <weft/error.h>

#include "instrument/profile/profile.h"
#include "instrument/recorder.h"

static char db_path[64];

static void ev_init(weft_event *e, uint64_t ts, uint16_t thread, uint16_t type)
{
    memset(e, 0, sizeof *e);
    e->ts = ts;
    e->thread = thread;
    e->thread_kind = WEFT_THREAD_WORKER;
    e->runtime = 1;
    e->worker = thread - 1u;
    e->tid = 100 + thread;
    e->type = type;
}

static uint64_t seq;

static void put(weft_recorder *r, weft_event *e)
{
    e->seq = ++seq;
    assert_int_equal(weft_recorder_add(r, e), 0);
}

static void string_def(weft_recorder *r, uint64_t ts, uint32_t id, const char *text)
{
    weft_event e;
    ev_init(&e, ts, 1, WEFT_EV_string_def);
    e.u.string_def.id = id;
    e.u.string_def.len = (uint32_t)strlen(text);
    e.text = text;
    put(r, &e);
}

static void spawn(weft_recorder *r, uint64_t ts, uint64_t task, uint32_t name)
{
    weft_event e;
    ev_init(&e, ts, 1, WEFT_EV_task_spawn);
    e.u.task_spawn.task = task;
    e.u.task_spawn.runtime = 1;
    e.u.task_spawn.name = name;
    put(r, &e);
}

static void poll_begin(weft_recorder *r, uint16_t thread, uint64_t task, uint64_t ts)
{
    weft_event e;
    ev_init(&e, ts, thread, WEFT_EV_task_poll_begin);
    e.u.task_poll_begin.task = task;
    e.u.task_poll_begin.worker = thread - 1u;
    put(r, &e);
}

static void poll_end(weft_recorder *r, uint16_t thread, uint64_t task, uint64_t ts, int ready)
{
    weft_event e;
    ev_init(&e, ts, thread, WEFT_EV_task_poll_end);
    e.u.task_poll_end.task = task;
    e.u.task_poll_end.worker = thread - 1u;
    e.u.task_poll_end.ready = (uint8_t)ready;
    put(r, &e);
}

static void wake(weft_recorder *r, uint16_t thread, uint64_t ts, uint64_t task, uint64_t waker)
{
    weft_event e;
    ev_init(&e, ts, thread, WEFT_EV_task_wake);
    e.u.task_wake.task = task;
    e.u.task_wake.waker = waker;
    put(r, &e);
}

static void write_trace(void)
{
    snprintf(db_path, sizeof db_path, "/tmp/weft-test-profile-%d.db", (int)getpid());
    weft_recorder *r;
    assert_int_equal(weft_recorder_create(db_path, &r), 0);
    weft_event e;

    ev_init(&e, 1000, 1, WEFT_EV_runtime_start);
    e.u.runtime_start.runtime = 1;
    e.u.runtime_start.workers = 2;
    e.u.runtime_start.flavor = 1;
    put(r, &e);
    string_def(r, 1000, 1, "alpha");
    string_def(r, 1000, 2, "beta");
    string_def(r, 1000, 3, "src/app.c");
    string_def(r, 1000, 4, "handler");
    string_def(r, 1000, 5, "table");
    ev_init(&e, 1000, 1, WEFT_EV_location_def);
    e.u.location_def.id = 6;
    e.u.location_def.file = 3;
    e.u.location_def.func = 4;
    e.u.location_def.line = 42;
    put(r, &e);
    ev_init(&e, 1000, 1, WEFT_EV_resource_create);
    e.u.resource_create.resource = 7;
    e.u.resource_create.capacity = 1;
    e.u.resource_create.name = 5;
    e.u.resource_create.kind = 1; /* the kind's name does not matter here */
    put(r, &e);
    spawn(r, 1000, 1, 1);
    spawn(r, 1000, 2, 2);

    poll_begin(r, 1, 1, 1500);
    ev_init(&e, 1600, 1, WEFT_EV_lock_acquire);
    e.u.lock_acquire.resource = 7;
    e.u.lock_acquire.task = 1;
    put(r, &e);
    poll_begin(r, 2, 2, 1900);
    ev_init(&e, 1950, 2, WEFT_EV_task_wait);
    e.u.task_wait.task = 2;
    e.u.task_wait.resource = 7;
    e.u.task_wait.location = 6;
    put(r, &e);
    poll_end(r, 2, 2, 2000, 0);
    ev_init(&e, 2400, 1, WEFT_EV_lock_release);
    e.u.lock_release.resource = 7;
    e.u.lock_release.task = 1;
    put(r, &e);
    poll_end(r, 1, 1, 2500, 0);
    ev_init(&e, 2500, 1, WEFT_EV_worker_park);
    put(r, &e);
    ev_init(&e, 3000, 2, WEFT_EV_task_wait_done);
    e.u.task_wait_done.task = 2;
    e.u.task_wait_done.resource = 7;
    put(r, &e);
    wake(r, 2, 3000, 2, 0);
    poll_begin(r, 2, 2, 3100);
    poll_end(r, 2, 2, 3200, 1);
    ev_init(&e, 3200, 2, WEFT_EV_task_complete);
    e.u.task_complete.task = 2;
    put(r, &e);
    wake(r, 2, 4000, 1, 0);
    ev_init(&e, 4100, 1, WEFT_EV_worker_unpark);
    put(r, &e);
    poll_begin(r, 1, 1, 4200);
    wake(r, 1, 4600, 1, 1);
    poll_end(r, 1, 1, 4700, 0);
    poll_begin(r, 1, 1, 5000);
    poll_end(r, 1, 1, 8000, 1);
    ev_init(&e, 8000, 1, WEFT_EV_task_complete);
    e.u.task_complete.task = 1;
    put(r, &e);

    assert_int_equal(weft_recorder_finish(r), 0);
    weft_recorder_close(r);
}

static int setup(void **state)
{
    (void)state;
    write_trace();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    if (!getenv("KEEP_DB")) unlink(db_path);
    return 0;
}

static const prof_task *task(const prof_model *m, uint64_t id)
{
    const prof_task *t = prof_find_task(m, id);
    assert_non_null(t);
    return t;
}

static void test_profile_task_busy_scheduled_idle(void **state)
{
    (void)state;
    char err[PROF_ERR_LEN];
    prof_model *m;
    assert_int_equal(prof_load(db_path, 10, &m, err), 0);
    assert_int_equal(m->ntasks, 2);
    assert_int_equal(m->tasks[0].id, 1); /* the busiest first */
    const prof_task *a = task(m, 1), *b = task(m, 2);
    assert_string_equal(a->name, "alpha");
    assert_int_equal(a->polls, 3);
    assert_int_equal(a->busy_ns, 4500);
    assert_int_equal(a->scheduled_ns, 1000);
    assert_int_equal(a->idle_ns, 1500);
    assert_int_equal(a->p50_ns, 1000);
    assert_int_equal(a->p90_ns, 3000);
    assert_int_equal(a->max_ns, 3000);
    assert_string_equal(a->outcome, "ok");
    assert_int_equal(b->polls, 2);
    assert_int_equal(b->busy_ns, 200);
    assert_int_equal(b->scheduled_ns, 900 + 100);
    assert_int_equal(b->idle_ns, 1000);
    assert_int_equal(m->total_polls, 5);
    assert_int_equal(m->start_ts, 1000);
    assert_int_equal(m->end_ts, 8000);
    prof_free(m);
}

static void test_profile_slowest_polls_say_where_they_ended(void **state)
{
    (void)state;
    char err[PROF_ERR_LEN];
    prof_model *m;
    assert_int_equal(prof_load(db_path, 3, &m, err), 0);
    assert_int_equal(m->nslowest, 3);
    assert_int_equal(m->slowest[0].duration_ns, 3000);
    assert_true(m->slowest[0].ready);
    assert_null(m->slowest[0].suspended_at);
    assert_int_equal(m->slowest[1].duration_ns, 1000);
    /* Task 2's first poll (100 ns) ended waiting on the mutex at app.c:42. */
    prof_model *all;
    assert_int_equal(prof_load(db_path, 10, &all, err), 0);
    bool found = false;
    for (size_t i = 0; i < all->nslowest; i++)
        if (all->slowest[i].task == 2 && all->slowest[i].begin_ts == 1900) {
            assert_non_null(all->slowest[i].suspended_at);
            assert_string_equal(all->slowest[i].suspended_at, "app.c:42");
            found = true;
        }
    assert_true(found);
    prof_free(all);
    prof_free(m);
}

static void test_profile_resource_waits_and_holders(void **state)
{
    (void)state;
    char err[PROF_ERR_LEN];
    prof_model *m;
    assert_int_equal(prof_load(db_path, 10, &m, err), 0);
    assert_int_equal(m->nresources, 1);
    const prof_resource *r = &m->resources[0];
    assert_int_equal(r->id, 7);
    assert_string_equal(r->name, "table");
    assert_int_equal(r->waits, 1);
    assert_int_equal(r->wait_ns, 3000 - 1950);
    assert_int_equal(r->max_wait_ns, 3000 - 1950);
    assert_int_equal(r->holds, 1);
    assert_int_equal(r->nholders, 1);
    assert_int_equal(r->holders[0].task, 1);
    assert_int_equal(r->holders[0].held_ns, 800);
    prof_free(m);
}

static void test_profile_worker_utilisation_and_timeline(void **state)
{
    (void)state;
    char err[PROF_ERR_LEN];
    prof_model *m;
    assert_int_equal(prof_load(db_path, 10, &m, err), 0);
    assert_int_equal(m->nworkers, 2);
    const prof_worker *w = &m->workers[0];
    assert_int_equal(w->polls, 3);
    assert_int_equal(w->busy_ns, 4500);
    assert_int_equal(w->parks, 1);
    assert_int_equal(w->parked_ns, 1600);
    /* The timeline spreads the busy time over [1000, 8000): it adds up to it. */
    double sum = 0;
    for (int b = 0; b < PROF_TIMELINE_BINS; b++)
        sum += w->timeline[b];
    double bin_ns = 7000.0 / PROF_TIMELINE_BINS;
    assert_true(sum * bin_ns > 4500 * 0.99 && sum * bin_ns < 4500 * 1.01);
    /* The last bin is inside task 1's last poll: fully busy. */
    assert_true(w->timeline[PROF_TIMELINE_BINS - 1] > 0.99f);
    prof_free(m);
}

static void test_profile_text_and_html_reports(void **state)
{
    (void)state;
    char err[PROF_ERR_LEN];
    prof_model *m;
    assert_int_equal(prof_load(db_path, 10, &m, err), 0);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    prof_text_opts o = {0, true};
    assert_int_equal(prof_report_text(m, &o, f), 0);
    fclose(f);
    assert_non_null(strstr(buf, "alpha"));
    assert_non_null(strstr(buf, "4500"));
    free(buf);
    f = open_memstream(&buf, &len);
    assert_int_equal(prof_report_html(m, 0, f), 0);
    fclose(f);
    assert_non_null(strstr(buf, "<svg"));
    assert_null(strstr(buf, "<script"));
    free(buf);
    prof_free(m);
}

static void test_profile_chrome_export_counts(void **state)
{
    (void)state;
    char err[PROF_ERR_LEN];
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    prof_export_stats st;
    assert_int_equal(prof_export_chrome(db_path, f, &st, err), 0);
    fclose(f);
    assert_int_equal(st.slices, 5);
    assert_int_equal(st.flows, 3); /* 3000 -> 3100, 4000 -> 4200, 4600 -> 5000 */
    assert_int_equal(st.counters, 2); /* the lock's holders: 1, then 0 */
    assert_int_equal(st.parks, 1);
    /* Microseconds since the first event, nanosecond decimals: the 3000 ns poll at 5000. */
    assert_non_null(strstr(buf, "\"ts\":4.000,\"dur\":3.000"));
    free(buf);
}

static void test_profile_rejects_what_is_not_a_trace(void **state)
{
    (void)state;
    char path[64], err[PROF_ERR_LEN];
    snprintf(path, sizeof path, "/tmp/weft-test-profile-bogus-%d", (int)getpid());
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("this is not SQLite\n", f);
    fclose(f);
    prof_model *m = (prof_model *)1;
    assert_true(prof_load(path, 10, &m, err) < 0);
    assert_null(m);
    assert_non_null(strstr(err, path));
    assert_true(prof_export_chrome(path, stdout, NULL, err) < 0);
    assert_true(prof_load("/nonexistent/trace.db", 10, &m, err) < 0);
    unlink(path);
}

static void test_profile_durations_for_people(void **state)
{
    (void)state;
    char b[24];
    assert_string_equal(prof_dur(b, sizeof b, 999, false), "999 ns");
    assert_string_equal(prof_dur(b, sizeof b, 1500, false), "1.5 us");
    assert_string_equal(prof_dur(b, sizeof b, 2500000, false), "2.50 ms");
    assert_string_equal(prof_dur(b, sizeof b, 2500000, true), "2500000");
    assert_int_equal(prof_bucket(0), 0);
    assert_int_equal(prof_bucket(1024), 10);
    assert_int_equal(prof_bucket(2047), 10);
    assert_int_equal(prof_bucket_low(10), 1024);
    assert_int_equal(prof_bucket(UINT64_MAX), PROF_HIST_BUCKETS - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_profile_task_busy_scheduled_idle),
        cmocka_unit_test(test_profile_slowest_polls_say_where_they_ended),
        cmocka_unit_test(test_profile_resource_waits_and_holders),
        cmocka_unit_test(test_profile_worker_utilisation_and_timeline),
        cmocka_unit_test(test_profile_text_and_html_reports),
        cmocka_unit_test(test_profile_chrome_export_counts),
        cmocka_unit_test(test_profile_rejects_what_is_not_a_trace),
        cmocka_unit_test(test_profile_durations_for_people),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
