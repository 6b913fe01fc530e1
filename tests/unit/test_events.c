/* tests/unit/test_events.c - the event table, and what a real weft program reports through
 * the ring sink: every spawn, poll and completion, with names and source locations, and the
 * snapshot a late reader gets.
 *
 * Each case starts the sink on a segment of its own (no tracer thread: the test answers
 * snapshot requests itself with weft__trace_snapshot_poll), runs a small program, reads the
 * program's own segment back through the reader interface, and stops the sink.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <weft/weft.h>

#include "../../instrument/events.h"
#include "../../instrument/reader.h"
#include "../../instrument/trace_int.h"
#include "sync/resource.h"

/* ---------------------------------------------------------------- helpers */

static char seg_name[64];

static void sink_start(uint64_t ring_size)
{
    snprintf(seg_name, sizeof seg_name, "/weft-test-events-%d", (int)getpid());
    weft__trace_config cfg = {
        .nrings = 16,
        .ring_size = ring_size,
        .clock_kind = -1,
        .name = seg_name,
        .tracer_thread = false,
    };
    assert_int_equal(weft__trace_start(&cfg), 0);
}

static weft_reader *open_reader(unsigned flags)
{
    weft_reader *r = NULL;
    int err = weft_reader_open_shm(seg_name, flags, &r);
    if (err)
        fprintf(stderr, "open: %s\n", weft_reader_open_error());
    assert_int_equal(err, 0);
    return r;
}

static weft_runtime *new_rt(weft_flavor flavor)
{
    weft_builder b = flavor == WEFT_CURRENT_THREAD ? weft_builder_new_current_thread()
                                                   : weft_builder_new_multi_thread();
    b.worker_threads = 2;
    weft_runtime *rt = NULL;
    assert_int_equal(weft_runtime_new(&b, &rt), 0);
    return rt;
}

/* ---------------------------------------------------------------- the table */

/* The descriptors' offsets and sizes are those of the payload structs. */
static void test_events_descriptors_match_structs(void **state)
{
    (void)state;
    unsigned rows = 0;
#define CHECK_FIELD(t, fld)                                                        \
    assert_string_equal(d->fields[f].name, #fld);                                  \
    assert_int_equal(d->fields[f].offset, offsetof(payload_t, fld));               \
    assert_int_equal(d->fields[f].size, sizeof(((payload_t *)0)->fld));            \
    f++;
#define CHECK_ROW(ev, id, flags, doc, fields)                                      \
    {                                                                              \
        typedef weft_ev_##ev payload_t;                                            \
        const weft_event_desc *d = weft_event_desc_of(id);                         \
        assert_non_null(d);                                                        \
        assert_string_equal(d->name, #ev);                                         \
        assert_int_equal(d->payload, sizeof(payload_t));                           \
        unsigned f = 0;                                                            \
        fields assert_int_equal(f, d->nfields);                                    \
        rows++;                                                                    \
    }
    WEFT_EVENTS(CHECK_ROW, CHECK_FIELD)
#undef CHECK_ROW
#undef CHECK_FIELD
    assert_int_equal(rows, weft_event_count);
    /* Ids are unique: each maps back to its own row. */
    for (unsigned i = 0; i < weft_event_count; i++)
        assert_ptr_equal(weft_event_desc_of(weft_event_descs[i].id), &weft_event_descs[i]);
    assert_null(weft_event_desc_of(0));
    assert_null(weft_event_desc_of(255));
    assert_null(weft_event_desc_of(100000));
}

/* ---------------------------------------------------------------- a real program */

#define TASKS 50
#define YIELDS 7

typedef struct yielder {
    weft_async co;
    int i;
    weft_yield_now y;
} yielder;

static weft_poll yielder_poll(weft_future *f, weft_context *cx)
{
    yielder *t = (yielder *)f;
    WEFT_ASYNC_BEGIN(&t->co);
    for (t->i = 0; t->i < YIELDS; t->i++) {
        weft_yield_now_init(&t->y);
        WEFT_AWAIT(&t->co, cx, &t->y);
    }
    WEFT_ASYNC_END(&t->co);
}

static const weft_future_vtable yielder_vt = {yielder_poll, weft_async_drop, "yielder"};

static int spawn_line; /* the source line of the weft_spawn_named below */

typedef struct root {
    weft_async co;
    int i;
    weft_join_handle hs[TASKS];
} root;

static weft_poll root_poll(weft_future *f, weft_context *cx)
{
    root *r = (root *)f;
    WEFT_ASYNC_BEGIN(&r->co);
    for (r->i = 0; r->i < TASKS; r->i++) {
        yielder y = {0};
        weft_async_init(&y.co, &yielder_vt);
        spawn_line = __LINE__ + 1;
        r->hs[r->i] = weft_spawn_named("ev_yielder", &y);
    }
    for (r->i = 0; r->i < TASKS; r->i++) {
        WEFT_AWAIT(&r->co, cx, &r->hs[r->i]);
        assert_int_equal(r->hs[r->i].status, 0);
    }
    WEFT_ASYNC_END(&r->co);
}

static const weft_future_vtable root_vt = {root_poll, weft_async_drop, "root"};

typedef struct counts {
    unsigned spawns, polls_begin, polls_end, ready, completes_ok, self_wakes, runtime_start,
        runtime_stop, thread_start, bad_location, lost, queue_samples, bad_queue;
    uint64_t ids[TASKS];
} counts;

static bool is_ours(const counts *c, uint64_t id)
{
    for (unsigned i = 0; i < c->spawns; i++)
        if (c->ids[i] == id)
            return true;
    return false;
}

static void run_and_count(weft_flavor flavor, counts *c)
{
    sink_start(UINT64_C(1) << 22);
    weft_reader *rd = open_reader(0);
    weft_runtime *rt = new_rt(flavor);
    root r = {0};
    weft_async_init(&r.co, &root_vt);
    assert_int_equal(weft_block_on(rt, &r.co.base), 0);
    weft_runtime_shutdown(rt);

    memset(c, 0, sizeof *c);
    weft_event ev;
    int n;
    uint64_t last_ts = 0;
    while ((n = weft_reader_next(rd, &ev)) == 1) {
        assert_true(ev.ts >= last_ts || last_ts - ev.ts < 1000000); /* merged by time */
        last_ts = ev.ts > last_ts ? ev.ts : last_ts;
        switch (ev.type) {
        case WEFT_EV_task_spawn: {
            const char *name = weft_reader_string(rd, ev.u.task_spawn.name);
            assert_non_null(name);
            if (strcmp(name, "ev_yielder") != 0)
                break;
            weft_reader_loc loc;
            assert_true(weft_reader_location(rd, ev.u.task_spawn.location, &loc));
            if (loc.line != (uint32_t)spawn_line || !strstr(loc.file, "test_events.c") ||
                strcmp(loc.func, "root_poll") != 0)
                c->bad_location++;
            assert_true(c->spawns < TASKS);
            c->ids[c->spawns++] = ev.u.task_spawn.task;
            break;
        }
        case WEFT_EV_task_poll_begin:
            c->polls_begin += is_ours(c, ev.u.task_poll_begin.task);
            break;
        case WEFT_EV_task_poll_end:
            if (is_ours(c, ev.u.task_poll_end.task)) {
                c->polls_end++;
                c->ready += ev.u.task_poll_end.ready;
            }
            break;
        case WEFT_EV_task_complete:
            if (is_ours(c, ev.u.task_complete.task) &&
                ev.u.task_complete.outcome == WEFT_OUTCOME_OK)
                c->completes_ok++;
            break;
        case WEFT_EV_task_wake:
            if (is_ours(c, ev.u.task_wake.task) && ev.u.task_wake.waker == ev.u.task_wake.task &&
                !ev.u.task_wake.by_value)
                c->self_wakes++;
            break;
        case WEFT_EV_worker_queues:
            c->queue_samples++;
            /* Only our tasks exist: no queue can hold more of them. */
            if (ev.u.worker_queues.worker >= 2 || ev.u.worker_queues.local > TASKS ||
                ev.u.worker_queues.inject > TASKS)
                c->bad_queue++;
            break;
        case WEFT_EV_runtime_start:
            c->runtime_start++;
            break;
        case WEFT_EV_runtime_stop:
            c->runtime_stop++;
            break;
        case WEFT_EV_thread_start:
            c->thread_start++;
            break;
        case WEFT_EV_events_lost:
            c->lost += (unsigned)ev.u.events_lost.count;
            break;
        }
    }
    assert_int_equal(n, WEFT_EAGAIN); /* we are alive: nothing more for now */
    weft_reader_info info;
    weft_reader_info_get(rd, &info);
    assert_int_equal(info.dropped, 0);
    assert_int_equal(info.bad_records, 0);
    assert_true(info.live);
    weft_reader_close(rd);
    weft__trace_stop();
}

/* The decoded events match what the program did, exactly. */
static void check_counts(const counts *c)
{
    assert_int_equal(c->lost, 0);
    assert_int_equal(c->spawns, TASKS);
    assert_int_equal(c->bad_location, 0);
    assert_int_equal(c->polls_begin, TASKS * (YIELDS + 1));
    assert_int_equal(c->polls_end, TASKS * (YIELDS + 1));
    assert_int_equal(c->ready, TASKS);
    assert_int_equal(c->completes_ok, TASKS);
    assert_int_equal(c->self_wakes, TASKS * YIELDS);
    assert_int_equal(c->runtime_start, 1);
    assert_int_equal(c->runtime_stop, 1);
    assert_true(c->thread_start >= 1);
}

static void test_events_program_counts_ct(void **state)
{
    (void)state;
    counts c;
    run_and_count(WEFT_CURRENT_THREAD, &c);
    check_counts(&c);
}

static void test_events_program_counts_mt(void **state)
{
    (void)state;
    counts c;
    run_and_count(WEFT_MULTI_THREAD, &c);
    check_counts(&c);
    /* 400 polls on 2 workers: one of them ran at least 200 scheduler ticks, and a busy worker
     * samples its queues every 61. */
    assert_true(c.queue_samples >= 3);
    assert_int_equal(c.bad_queue, 0);
}

/* ---------------------------------------------------------------- late attach */

#define SLEEPERS 3

/* A resource of the test's own: a gate that tasks wait at until it opens. It reports itself
 * the way every primitive does (runtime/sync/resource.h). */
typedef struct gate {
    weft_resource res;
    pthread_mutex_t lock;
    bool open;              /* [lock] */
    weft_waker waiters[SLEEPERS]; /* [lock] */
} gate;

static gate door;
static _Atomic int waiting;

typedef struct sleeper {
    weft_async co;
    int slot;
    bool waited;
    weft_location where;
} sleeper;

static int await_line;

static weft_poll sleeper_poll(weft_future *f, weft_context *cx)
{
    sleeper *s = (sleeper *)f;
    pthread_mutex_lock(&door.lock);
    if (door.open) {
        pthread_mutex_unlock(&door.lock);
        if (s->waited)
            weft__resource_wait_done(&door.res, WEFT_OP_WAIT);
        return WEFT_READY;
    }
    weft_waker_register(&door.waiters[s->slot], cx);
    pthread_mutex_unlock(&door.lock);
    if (!s->waited) {
        s->waited = true;
        weft__resource_wait(&door.res, WEFT_OP_WAIT, s->where);
        atomic_fetch_add(&waiting, 1);
    }
    return WEFT_PENDING;
}

static const weft_future_vtable sleeper_vt = {sleeper_poll, NULL, "sleeper"};

/* A reader that attaches after everything happened gets every live task, what it waits on
 * and where, and every live resource, with their names. */
static void test_events_late_attach_gets_snapshot(void **state)
{
    (void)state;
    sink_start(UINT64_C(1) << 20);
    weft_runtime *rt = new_rt(WEFT_MULTI_THREAD);
    pthread_mutex_init(&door.lock, NULL);
    door.open = false;
    weft__resource_init(&door.res, WEFT_RESOURCE_NOTIFY, "door", WEFT_HERE);
    atomic_store(&waiting, 0);
    weft_join_handle hs[SLEEPERS];
    await_line = __LINE__ + 5;
    for (int i = 0; i < SLEEPERS; i++) {
        sleeper s = {0};
        s.co.base.vt = &sleeper_vt;
        s.slot = i;
        s.where = WEFT_HERE;
        hs[i] = weft_runtime_spawn_named(rt, "sleeper", &s);
    }
    while (atomic_load(&waiting) < SLEEPERS)
        sched_yield();
    /* Registered with the notify before the counter moved; let the polls return. */
    struct timespec ms = {0, 20 * 1000000};
    nanosleep(&ms, NULL);

    /* Attach late, skipping the backlog: only the snapshot can tell us about the tasks. */
    weft_reader *rd = open_reader(WEFT_READER_SKIP_BACKLOG | WEFT_READER_SNAPSHOT);
    assert_true(weft__trace_snapshot_poll());
    weft_event ev;
    int n, in_snapshot = 0, tasks = 0, resources = 0, ended = 0;
    while ((n = weft_reader_next(rd, &ev)) == 1) {
        if (ev.type == WEFT_EV_snapshot_begin)
            in_snapshot = 1;
        if (ev.type == WEFT_EV_snapshot_end)
            ended++;
        if (!in_snapshot)
            continue;
        if (ev.type == WEFT_EV_task_snapshot) {
            const char *name = weft_reader_string(rd, ev.u.task_snapshot.name);
            assert_non_null(name);
            assert_string_equal(name, "sleeper");
            assert_int_equal(ev.u.task_snapshot.resource, door.res.id);
            assert_int_equal(ev.u.task_snapshot.op, WEFT_OP_WAIT);
            assert_int_equal(ev.u.task_snapshot.state, WEFT_TASKST_IDLE);
            weft_reader_loc loc;
            assert_true(weft_reader_location(rd, ev.u.task_snapshot.wait_location, &loc));
            assert_int_equal(loc.line, await_line);
            assert_string_equal(loc.func, "test_events_late_attach_gets_snapshot");
            tasks++;
        }
        if (ev.type == WEFT_EV_resource_snapshot &&
            ev.u.resource_snapshot.resource == door.res.id) {
            assert_string_equal(weft_reader_string(rd, ev.u.resource_snapshot.name), "door");
            assert_int_equal(ev.u.resource_snapshot.kind, WEFT_RESOURCE_NOTIFY);
            resources++;
        }
    }
    assert_int_equal(n, WEFT_EAGAIN);
    assert_int_equal(ended, 1);
    assert_int_equal(tasks, SLEEPERS);
    assert_int_equal(resources, 1);
    weft_reader_info info;
    weft_reader_info_get(rd, &info);
    assert_int_equal(info.snapshot_seq, 1);

    pthread_mutex_lock(&door.lock);
    door.open = true;
    pthread_mutex_unlock(&door.lock);
    for (int i = 0; i < SLEEPERS; i++)
        weft_waker_wake(&door.waiters[i]);
    for (int i = 0; i < SLEEPERS; i++) {
        assert_int_equal(weft_block_on(rt, &hs[i].base), 0);
        assert_int_equal(hs[i].status, 0);
    }
    weft_runtime_shutdown(rt);
    weft__resource_drop(&door.res);
    pthread_mutex_destroy(&door.lock);
    weft_reader_close(rd);
    weft__trace_stop();
}

/* ---------------------------------------------------------------- join waits */

/* A task that awaits one child's join to the end and gives up on another's after one
 * PENDING poll (detach): each wait is reported once, and each ends once. */
typedef struct joiner {
    weft_async co;
    weft_join_handle awaited, dropped;
} joiner;

static weft_task_id joiner_id, awaited_id, dropped_id; /* set by the joiner task */

static weft_poll joiner_poll(weft_future *f, weft_context *cx)
{
    joiner *j = (joiner *)f;
    WEFT_ASYNC_BEGIN(&j->co);
    joiner_id = weft_task_id_current();
    {
        yielder a = {0}, b = {0};
        weft_async_init(&a.co, &yielder_vt);
        weft_async_init(&b.co, &yielder_vt);
        j->awaited = weft_spawn_named("ev_awaited", &a);
        j->dropped = weft_spawn_named("ev_dropped", &b);
        awaited_id = j->awaited.id;
        dropped_id = j->dropped.id;
    }
    /* On the current-thread runtime neither child ran yet: this poll is PENDING. */
    assert_int_equal(weft_future_poll(&j->dropped.base, cx), WEFT_PENDING);
    weft_join_handle_detach(&j->dropped);
    WEFT_AWAIT(&j->co, cx, &j->awaited);
    assert_int_equal(j->awaited.status, 0);
    WEFT_ASYNC_END(&j->co);
}

static const weft_future_vtable joiner_vt = {joiner_poll, weft_async_drop, "joiner"};

static void test_events_join_waits_reported(void **state)
{
    (void)state;
    sink_start(UINT64_C(1) << 20);
    weft_reader *rd = open_reader(0);
    weft_runtime *rt = new_rt(WEFT_CURRENT_THREAD);
    joiner j = {0};
    weft_async_init(&j.co, &joiner_vt);
    weft_join_handle h = weft_runtime_spawn_named(rt, "ev_joiner", &j);
    assert_int_equal(weft_block_on(rt, &h.base), 0); /* block_on is no task: no join event */
    weft_task_id awaited = awaited_id, dropped = dropped_id; /* j was copied into the task */
    assert_true(awaited && dropped);
    weft_runtime_shutdown(rt);

    weft_event ev;
    int n;
    unsigned waits = 0, dones = 0, waits_awaited = 0, dones_awaited = 0;
    unsigned waits_dropped = 0, dones_dropped = 0;
    bool dropped_open = false;
    while ((n = weft_reader_next(rd, &ev)) == 1) {
        if (ev.type == WEFT_EV_task_join_wait) {
            waits++;
            assert_int_equal(ev.u.task_join_wait.task, joiner_id);
            waits_awaited += ev.u.task_join_wait.joined == awaited;
            if (ev.u.task_join_wait.joined == dropped) {
                waits_dropped++;
                dropped_open = true;
            }
        } else if (ev.type == WEFT_EV_task_join_wait_done) {
            dones++;
            assert_int_equal(ev.u.task_join_wait_done.task, joiner_id);
            dones_awaited += ev.u.task_join_wait_done.joined == awaited;
            if (ev.u.task_join_wait_done.joined == dropped) {
                assert_true(dropped_open); /* the end follows the start */
                dones_dropped++;
            }
        }
    }
    assert_int_equal(n, WEFT_EAGAIN);
    assert_int_equal(waits, 2);
    assert_int_equal(dones, 2);
    assert_int_equal(waits_awaited, 1);
    assert_int_equal(dones_awaited, 1);
    assert_int_equal(waits_dropped, 1);
    assert_int_equal(dones_dropped, 1);
    weft_reader_close(rd);
    weft__trace_stop();
}

/* Stop the sink even when a case failed half-way, so that the next one starts afresh. */
static int stop_sink(void **state)
{
    (void)state;
    weft__trace_stop();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_events_descriptors_match_structs, stop_sink),
        cmocka_unit_test_teardown(test_events_program_counts_ct, stop_sink),
        cmocka_unit_test_teardown(test_events_program_counts_mt, stop_sink),
        cmocka_unit_test_teardown(test_events_late_attach_gets_snapshot, stop_sink),
        cmocka_unit_test_teardown(test_events_join_waits_reported, stop_sink),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
