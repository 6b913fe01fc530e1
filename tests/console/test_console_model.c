/* tests/console/test_console_model.c - the console's model, fed synthetic events.
 *
 * Each case builds the event stream a program would produce (spawns, polls, waits, locks...),
 * applies it to a fresh model and asserts what the console would show: task states and times,
 * wait chains, deadlock cycles, and each lint firing exactly when its rule says.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <weft/resource.h>

#include "hist.h"
#include "idmap.h"
#include "lints.h"
#include "model.h"
#include "waitgraph.h"

#define MS 1000000ull
#define S 1000000000ull

static weft_event E(uint16_t type, uint64_t ts)
{
    weft_event e;
    memset(&e, 0, sizeof e);
    e.type = type;
    e.ts = ts;
    e.thread_kind = WEFT_THREAD_WORKER;
    e.runtime = 1;
    return e;
}

static void def_string(model *m, uint32_t id, const char *text)
{
    weft_event e = E(WEFT_EV_string_def, 1);
    e.u.string_def.id = id;
    e.u.string_def.len = (uint32_t)strlen(text);
    e.text = text;
    model_apply(m, &e);
}

static void def_loc(model *m, uint32_t id, uint32_t file, uint32_t line)
{
    weft_event e = E(WEFT_EV_location_def, 1);
    e.u.location_def.id = id;
    e.u.location_def.file = file;
    e.u.location_def.line = line;
    model_apply(m, &e);
}

static void spawn(model *m, uint64_t task, uint64_t parent, uint32_t name, uint64_t ts)
{
    weft_event e = E(WEFT_EV_task_spawn, ts);
    e.u.task_spawn.task = task;
    e.u.task_spawn.parent = parent;
    e.u.task_spawn.name = name;
    model_apply(m, &e);
}

static void poll_begin(model *m, uint64_t task, uint32_t worker, uint64_t ts)
{
    weft_event e = E(WEFT_EV_task_poll_begin, ts);
    e.worker = worker;
    e.u.task_poll_begin.task = task;
    e.u.task_poll_begin.worker = worker;
    model_apply(m, &e);
}

static void poll_end(model *m, uint64_t task, uint32_t worker, bool ready, uint64_t ts)
{
    weft_event e = E(WEFT_EV_task_poll_end, ts);
    e.worker = worker;
    e.u.task_poll_end.task = task;
    e.u.task_poll_end.worker = worker;
    e.u.task_poll_end.ready = ready;
    model_apply(m, &e);
}

static void poll(model *m, uint64_t task, uint64_t from, uint64_t to)
{
    poll_begin(m, task, 0, from);
    poll_end(m, task, 0, false, to);
}

static void wake(model *m, uint64_t task, uint64_t waker, bool by_value, uint64_t ts)
{
    weft_event e = E(WEFT_EV_task_wake, ts);
    e.u.task_wake.task = task;
    e.u.task_wake.waker = waker;
    e.u.task_wake.by_value = by_value;
    model_apply(m, &e);
}

static void waker(model *m, uint16_t type, uint64_t task, uint64_t ts)
{
    weft_event e = E(type, ts);
    e.u.waker_clone.task = task;
    model_apply(m, &e);
}

static void complete(model *m, uint64_t task, uint64_t ts)
{
    weft_event e = E(WEFT_EV_task_complete, ts);
    e.u.task_complete.task = task;
    model_apply(m, &e);
}

static void resource(model *m, uint64_t id, uint8_t kind, uint32_t name, uint64_t cap,
                     uint64_t ts)
{
    weft_event e = E(WEFT_EV_resource_create, ts);
    e.u.resource_create.resource = id;
    e.u.resource_create.kind = kind;
    e.u.resource_create.name = name;
    e.u.resource_create.capacity = cap;
    model_apply(m, &e);
}

static void lock(model *m, uint16_t type, uint64_t res, uint64_t task, uint8_t op, uint64_t ts)
{
    weft_event e = E(type, ts);
    e.u.lock_acquire.resource = res;
    e.u.lock_acquire.task = task;
    e.u.lock_acquire.op = op;
    model_apply(m, &e);
}

static void wait_on(model *m, uint64_t task, uint64_t res, uint8_t op, uint32_t loc,
                    uint64_t ts)
{
    weft_event e = E(WEFT_EV_task_wait, ts);
    e.u.task_wait.task = task;
    e.u.task_wait.resource = res;
    e.u.task_wait.op = op;
    e.u.task_wait.location = loc;
    model_apply(m, &e);
}

static void permit(model *m, uint16_t type, uint64_t res, uint64_t task, uint64_t n,
                   uint64_t avail, uint64_t ts)
{
    weft_event e = E(type, ts);
    e.u.permit_acquire.resource = res;
    e.u.permit_acquire.task = task;
    e.u.permit_acquire.n = n;
    e.u.permit_acquire.available = avail;
    model_apply(m, &e);
}

static void join_wait(model *m, uint16_t type, uint64_t task, uint64_t joined, uint64_t ts)
{
    weft_event e = E(type, ts);
    e.u.task_join_wait.task = task;
    e.u.task_join_wait.joined = joined;
    model_apply(m, &e);
}

static uint32_t lints_now(model *m, uint64_t task, uint64_t now)
{
    lint_result r = {0};
    lints_compute(m, now, &r);
    uint32_t mask = lints_of_task(m, &r, task);
    lints_free(&r);
    return mask;
}

/* The classic two-lock deadlock: T1 holds a and waits for b, T2 holds b and waits for a. */
static void build_two_lock(model *m)
{
    model_init(m, NULL);
    def_string(m, 1, "transfer_ab");
    def_string(m, 2, "transfer_ba");
    def_string(m, 3, "account_a");
    def_string(m, 4, "account_b");
    def_string(m, 5, "/src/bank.c");
    def_loc(m, 10, 5, 42);
    def_loc(m, 11, 5, 57);
    resource(m, 100, WEFT_RESOURCE_MUTEX, 3, 0, 10);
    resource(m, 200, WEFT_RESOURCE_MUTEX, 4, 0, 11);
    spawn(m, 1, 0, 1, 20);
    spawn(m, 2, 0, 2, 21);
    poll_begin(m, 1, 0, 30);
    lock(m, WEFT_EV_lock_acquire, 100, 1, WEFT_OP_LOCK, 31);
    poll_end(m, 1, 0, false, 32);
    poll_begin(m, 2, 1, 33);
    lock(m, WEFT_EV_lock_acquire, 200, 2, WEFT_OP_LOCK, 34);
    poll_end(m, 2, 1, false, 35);
    wake(m, 1, 0, true, 36);
    wake(m, 2, 0, true, 36);
    poll_begin(m, 1, 0, 40);
    wait_on(m, 1, 200, WEFT_OP_LOCK, 10, 41);
    poll_end(m, 1, 0, false, 42);
    poll_begin(m, 2, 1, 43);
    wait_on(m, 2, 100, WEFT_OP_LOCK, 11, 44);
    poll_end(m, 2, 1, false, 45);
}

static void test_console_task_lifecycle(void **state)
{
    (void)state;
    model m;
    model_init(&m, NULL);
    spawn(&m, 7, 0, 0, 1000);
    model_task *t = model_task_get(&m, 7);
    assert_non_null(t);
    assert_int_equal(t->state, TASK_SCHEDULED);
    poll_begin(&m, 7, 0, 1100);
    assert_int_equal(t->state, TASK_RUNNING);
    poll_end(&m, 7, 0, false, 1400);
    assert_int_equal(t->state, TASK_IDLE);
    wake(&m, 7, 0, true, 2000);
    assert_int_equal(t->state, TASK_SCHEDULED);
    poll_begin(&m, 7, 0, 2050);
    wake(&m, 7, 7, false, 2060); /* a wake during its own poll: scheduled again after it */
    poll_end(&m, 7, 0, false, 2100);
    assert_int_equal(t->state, TASK_SCHEDULED);
    poll_begin(&m, 7, 0, 2200);
    poll_end(&m, 7, 0, true, 2300);
    complete(&m, 7, 2300);
    assert_int_equal(t->state, TASK_DONE);
    assert_int_equal(t->polls, 3);
    assert_int_equal(t->wakes, 2);
    assert_int_equal(t->self_wakes, 1);
    uint64_t busy, sched, idle;
    model_task_times(t, 5000, &busy, &sched, &idle);
    assert_int_equal(busy, 300 + 50 + 100);
    assert_int_equal(sched, 100 + 50 + 100);
    assert_int_equal(idle, 600);
    assert_int_equal(t->poll_hist.count, 3);
    assert_int_equal(t->sched_hist.count, 3);
    model_free(&m);
}

static void test_console_names_and_locations(void **state)
{
    (void)state;
    model m;
    build_two_lock(&m);
    model_task *t = model_task_get(&m, 1);
    assert_string_equal(model_string(&m, t->name), "transfer_ab");
    char loc[64];
    model_location(&m, t->wait.location, loc, sizeof loc);
    assert_string_equal(loc, "bank.c:42");
    assert_string_equal(model_string(&m, 999), "");
    model_location(&m, 999, loc, sizeof loc);
    assert_string_equal(loc, "");
    model_free(&m);
}

static void test_console_deadlock_cycle_found(void **state)
{
    (void)state;
    model m;
    build_two_lock(&m);
    wait_cycle c[4];
    size_t n = waitgraph_cycles(&m, c, 4);
    assert_int_equal(n, 1);
    assert_int_equal(c[0].n, 2);
    assert_int_equal(c[0].links[0].task, 1);
    assert_int_equal(c[0].links[0].resource, 200);
    assert_int_equal(c[0].links[0].holder, 2);
    assert_int_equal(c[0].links[1].task, 2);
    assert_int_equal(c[0].links[1].resource, 100);
    assert_int_equal(c[0].links[1].holder, 1);
    assert_int_equal(c[0].formed, 44);
    model_free(&m);
}

static void test_console_wait_chain_ends_in_cycle(void **state)
{
    (void)state;
    model m;
    build_two_lock(&m);
    /* A third task waiting on account_a joins the chain but not the cycle. */
    spawn(&m, 3, 0, 0, 50);
    poll_begin(&m, 3, 0, 51);
    wait_on(&m, 3, 100, WEFT_OP_LOCK, 0, 52);
    poll_end(&m, 3, 0, false, 53);
    wait_chain ch;
    wait_chain_of(&m, 3, &ch);
    assert_int_equal(ch.end, CHAIN_CYCLE);
    assert_int_equal(ch.n, 3);
    assert_int_equal(ch.links[0].holder, 1);
    assert_int_equal(ch.links[1].holder, 2);
    assert_int_equal(ch.links[2].holder, 1);
    assert_int_equal(ch.cycle_from, 1);
    wait_cycle c[4];
    assert_int_equal(waitgraph_cycles(&m, c, 4), 1);
    model_free(&m);
}

static void test_console_no_deadlock_when_a_task_can_run(void **state)
{
    (void)state;
    model m;
    build_two_lock(&m);
    wake(&m, 2, 0, true, 50); /* task 2 is runnable again: it may give account_b up */
    wait_cycle c[4];
    assert_int_equal(waitgraph_cycles(&m, c, 4), 0);
    /* and releasing the lock breaks the chain for good */
    poll_begin(&m, 2, 1, 60);
    lock(&m, WEFT_EV_lock_release, 200, 2, WEFT_OP_LOCK, 61);
    poll_end(&m, 2, 1, false, 62);
    wait_chain ch;
    wait_chain_of(&m, 1, &ch);
    assert_int_equal(ch.end, CHAIN_NO_HOLDER);
    assert_int_equal(ch.n, 1);
    assert_int_equal(waitgraph_cycles(&m, c, 4), 0);
    model_free(&m);
}

static void test_console_self_deadlock_on_reentrant_lock(void **state)
{
    (void)state;
    model m;
    model_init(&m, NULL);
    resource(&m, 5, WEFT_RESOURCE_RWLOCK, 0, 0, 1);
    spawn(&m, 1, 0, 0, 2);
    poll_begin(&m, 1, 0, 3);
    lock(&m, WEFT_EV_lock_acquire, 5, 1, WEFT_OP_READ, 4);
    wait_on(&m, 1, 5, WEFT_OP_WRITE, 0, 5);
    poll_end(&m, 1, 0, false, 6);
    wait_cycle c[2];
    assert_int_equal(waitgraph_cycles(&m, c, 2), 1);
    assert_int_equal(c[0].n, 1);
    assert_int_equal(c[0].links[0].holder, 1);
    model_free(&m);
}

/* Two tasks awaiting each other's join handles: neither can finish first. */
static void test_console_join_cycle_between_two_tasks(void **state)
{
    (void)state;
    model m;
    model_init(&m, NULL);
    spawn(&m, 1, 0, 0, 10);
    spawn(&m, 2, 1, 0, 11);
    poll_begin(&m, 1, 0, 20);
    join_wait(&m, WEFT_EV_task_join_wait, 1, 2, 21);
    poll_end(&m, 1, 0, false, 22);
    wait_cycle c[2];
    assert_int_equal(waitgraph_cycles(&m, c, 2), 0); /* T2 has not waited yet: it can run */
    poll_begin(&m, 2, 1, 30);
    join_wait(&m, WEFT_EV_task_join_wait, 2, 1, 31);
    poll_end(&m, 2, 1, false, 32);
    assert_int_equal(waitgraph_cycles(&m, c, 2), 1);
    assert_int_equal(c[0].n, 2);
    assert_int_equal(c[0].links[0].task, 1);
    assert_true(c[0].links[0].via_join);
    assert_int_equal(c[0].links[0].resource, 0);
    assert_int_equal(c[0].links[0].holder, 2);
    assert_int_equal(c[0].links[1].task, 2);
    assert_true(c[0].links[1].via_join);
    assert_int_equal(c[0].links[1].holder, 1);
    assert_int_equal(c[0].formed, 31);
    wait_chain ch;
    wait_chain_of(&m, 2, &ch);
    assert_int_equal(ch.end, CHAIN_CYCLE);
    assert_int_equal(ch.n, 2);
    assert_int_equal(ch.cycle_from, 0);
    /* T2's join wait ends (say a timeout dropped the handle): the cycle is gone. */
    join_wait(&m, WEFT_EV_task_join_wait_done, 2, 1, 40);
    assert_false(model_task_waits(model_task_get(&m, 2)));
    assert_int_equal(waitgraph_cycles(&m, c, 2), 0);
    wait_chain_of(&m, 1, &ch);
    assert_int_equal(ch.end, CHAIN_NOT_WAITING);
    assert_int_equal(ch.n, 2);
    assert_int_equal(ch.links[0].holder, 2);
    model_free(&m);
}

/* T1 holds a lock and awaits T2's join; T2 waits for that lock: a cycle through a join and a
 * lock. A done event for another join, and the joined task finishing, end it. */
static void test_console_join_cycle_through_a_lock(void **state)
{
    (void)state;
    model m;
    model_init(&m, NULL);
    def_string(&m, 1, "worker");
    def_string(&m, 2, "/src/main.c");
    def_loc(&m, 10, 2, 42);
    resource(&m, 100, WEFT_RESOURCE_MUTEX, 0, 0, 1);
    spawn(&m, 1, 0, 0, 10);
    weft_event e = E(WEFT_EV_task_spawn, 11);
    e.u.task_spawn.task = 7;
    e.u.task_spawn.parent = 1;
    e.u.task_spawn.name = 1;
    e.u.task_spawn.location = 10;
    model_apply(&m, &e);
    poll_begin(&m, 1, 0, 20);
    lock(&m, WEFT_EV_lock_acquire, 100, 1, WEFT_OP_LOCK, 21);
    join_wait(&m, WEFT_EV_task_join_wait, 1, 7, 22);
    poll_end(&m, 1, 0, false, 23);
    poll_begin(&m, 7, 1, 30);
    wait_on(&m, 7, 100, WEFT_OP_LOCK, 0, 31);
    poll_end(&m, 7, 1, false, 32);
    wait_cycle c[2];
    assert_int_equal(waitgraph_cycles(&m, c, 2), 1);
    assert_int_equal(c[0].n, 2);
    assert_int_equal(c[0].links[0].task, 1);
    assert_true(c[0].links[0].via_join);
    assert_int_equal(c[0].links[0].holder, 7);
    assert_int_equal(c[0].links[1].task, 7);
    assert_false(c[0].links[1].via_join);
    assert_int_equal(c[0].links[1].resource, 100);
    assert_int_equal(c[0].links[1].holder, 1);
    /* The chain from the lock's waiter goes through the holder's join back to itself. */
    wait_chain ch;
    wait_chain_of(&m, 7, &ch);
    assert_int_equal(ch.end, CHAIN_CYCLE);
    assert_int_equal(ch.n, 2);
    assert_int_equal(ch.links[1].holder, 7);
    assert_true(ch.links[1].via_join);
    /* A done for a join T1 is not awaiting changes nothing. */
    join_wait(&m, WEFT_EV_task_join_wait_done, 1, 8, 40);
    assert_int_equal(model_task_get(&m, 1)->wait.join, 7);
    assert_int_equal(waitgraph_cycles(&m, c, 2), 1);
    /* A new resource wait replaces the join wait (one wait at a time). */
    poll_begin(&m, 1, 0, 50);
    wait_on(&m, 1, 100, WEFT_OP_LOCK, 0, 51);
    assert_int_equal(model_task_get(&m, 1)->wait.join, 0);
    poll_end(&m, 1, 0, false, 52);
    /* The joined task finishing ends the join wait of whoever awaited it. */
    join_wait(&m, WEFT_EV_task_join_wait, 1, 7, 60);
    complete(&m, 7, 61);
    wait_chain_of(&m, 1, &ch);
    assert_int_equal(ch.end, CHAIN_NOT_WAITING);
    assert_int_equal(waitgraph_cycles(&m, c, 2), 0);
    model_free(&m);
}

/* Two actors whose bounded mailboxes feed each other: each waits to send into the other's
 * full mailbox, and the other is the one that receives from it. */
static void test_console_mailbox_cycle_through_receivers(void **state)
{
    (void)state;
    model m;
    model_init(&m, NULL);
    resource(&m, 10, WEFT_RESOURCE_MPSC, 0, 2, 1);
    resource(&m, 20, WEFT_RESOURCE_MPSC, 0, 2, 1);
    spawn(&m, 1, 0, 0, 2);
    spawn(&m, 2, 0, 0, 2);
    /* Task 1 once waited on its empty mailbox; task 2 took a value out of its own during a
     * poll (on its thread, stream 1): either names the receiver. */
    poll_begin(&m, 1, 0, 3);
    wait_on(&m, 1, 10, WEFT_OP_RECV, 0, 4);
    poll_end(&m, 1, 0, false, 5);
    weft_event b = E(WEFT_EV_task_poll_begin, 3), r = E(WEFT_EV_channel_recv, 4);
    b.thread = r.thread = 1;
    b.u.task_poll_begin.task = 2;
    r.u.channel_recv.resource = 20;
    model_apply(&m, &b);
    model_apply(&m, &r);
    wait_on(&m, 2, 30, WEFT_OP_RECV, 0, 4); /* waits on something else meanwhile */
    weft_event e2 = E(WEFT_EV_task_poll_end, 5);
    e2.thread = 1;
    e2.u.task_poll_end.task = 2;
    model_apply(&m, &e2);
    assert_int_equal(model_res_get(&m, 20)->receiver, 2);
    assert_int_equal(model_res_get(&m, 10)->receiver, 1);
    wait_cycle c[2];
    assert_int_equal(waitgraph_cycles(&m, c, 2), 0); /* two consumers waiting: no cycle */
    wake(&m, 1, 0, true, 6);
    wake(&m, 2, 0, true, 6);
    poll_begin(&m, 1, 0, 7);
    wait_on(&m, 1, 20, WEFT_OP_SEND, 0, 8);
    poll_end(&m, 1, 0, false, 9);
    poll_begin(&m, 2, 1, 7);
    wait_on(&m, 2, 10, WEFT_OP_SEND, 0, 8);
    poll_end(&m, 2, 1, false, 9);
    assert_int_equal(waitgraph_cycles(&m, c, 2), 1);
    assert_int_equal(c[0].n, 2);
    assert_true(c[0].links[0].via_receiver);
    assert_int_equal(c[0].links[0].holder, 2);
    assert_int_equal(c[0].links[1].holder, 1);
    model_free(&m);
}

static void test_console_chain_stops_at_running_holder(void **state)
{
    (void)state;
    model m;
    model_init(&m, NULL);
    resource(&m, 5, WEFT_RESOURCE_MUTEX, 0, 0, 1);
    spawn(&m, 1, 0, 0, 2);
    spawn(&m, 2, 0, 0, 2);
    poll_begin(&m, 2, 1, 3);
    lock(&m, WEFT_EV_lock_acquire, 5, 2, WEFT_OP_LOCK, 4);
    poll_begin(&m, 1, 0, 5);
    wait_on(&m, 1, 5, WEFT_OP_LOCK, 0, 6);
    poll_end(&m, 1, 0, false, 7);
    wait_chain ch;
    wait_chain_of(&m, 1, &ch);
    assert_int_equal(ch.n, 2);
    assert_int_equal(ch.links[0].holder, 2);
    assert_int_equal(ch.links[1].task, 2);
    assert_int_equal(ch.end, CHAIN_NOT_WAITING);
    model_free(&m);
}

static void test_console_lint_never_yielded(void **state)
{
    (void)state;
    model m;
    model_init(&m, NULL);
    spawn(&m, 1, 0, 0, 0);
    poll_begin(&m, 1, 0, 10);
    assert_false(lints_now(&m, 1, 10 + S / 2) >> LINT_NEVER_YIELDED & 1);
    assert_true(lints_now(&m, 1, 10 + S) >> LINT_NEVER_YIELDED & 1);
    assert_true(lints_now(&m, 1, 10 + S) >> LINT_LONG_POLL & 1);
    /* a task whose later poll is long has yielded before: long poll only */
    spawn(&m, 2, 0, 0, 0);
    poll(&m, 2, 10, 20);
    wake(&m, 2, 0, true, 30);
    poll(&m, 2, 40, 40 + 2 * S);
    uint32_t l = lints_now(&m, 2, 3 * S);
    assert_false(l >> LINT_NEVER_YIELDED & 1);
    assert_true(l >> LINT_LONG_POLL & 1);
    model_free(&m);
}

static void test_console_lint_lost_waker_waits_a_second(void **state)
{
    (void)state;
    model m;
    model_init(&m, NULL);
    spawn(&m, 1, 0, 0, 0);
    poll(&m, 1, 10, 20); /* pending, and kept no waker: nothing can wake it */
    assert_false(lints_now(&m, 1, 20 + S / 2) >> LINT_LOST_WAKER & 1);
    assert_true(lints_now(&m, 1, 20 + S) >> LINT_LOST_WAKER & 1);
    /* the same task holding a waker is fine */
    spawn(&m, 2, 0, 0, 0);
    poll_begin(&m, 2, 0, 10);
    waker(&m, WEFT_EV_waker_clone, 2, 15);
    poll_end(&m, 2, 0, false, 20);
    assert_false(lints_now(&m, 2, 20 + 5 * S) >> LINT_LOST_WAKER & 1);
    /* ...until the waker is dropped without waking */
    waker(&m, WEFT_EV_waker_drop, 2, 30);
    assert_true(lints_now(&m, 2, 30 + 2 * S) >> LINT_LOST_WAKER & 1);
    model_free(&m);
}

static void test_console_lint_lost_waker_not_for_snapshot_tasks(void **state)
{
    (void)state;
    model m;
    model_init(&m, NULL);
    weft_event e = E(WEFT_EV_task_snapshot, 100);
    e.u.task_snapshot.task = 9;
    e.u.task_snapshot.state = WEFT_TASKST_IDLE;
    model_apply(&m, &e);
    model_task *t = model_task_get(&m, 9);
    assert_non_null(t);
    assert_true(t->from_snapshot);
    assert_int_equal(t->state, TASK_IDLE);
    poll(&m, 9, 200, 300);
    assert_false(lints_now(&m, 9, 10 * S) >> LINT_LOST_WAKER & 1);
    model_free(&m);
}

static void test_console_lint_self_wakes(void **state)
{
    (void)state;
    model m;
    model_init(&m, NULL);
    spawn(&m, 1, 0, 0, 0);
    for (int i = 0; i < 6; i++) {
        poll_begin(&m, 1, 0, 10 + 10 * (uint64_t)i);
        wake(&m, 1, 1, false, 11 + 10 * (uint64_t)i);
        poll_end(&m, 1, 0, false, 12 + 10 * (uint64_t)i);
    }
    assert_true(lints_now(&m, 1, 100) >> LINT_SELF_WAKES & 1);
    for (int i = 0; i < 7; i++)
        wake(&m, 1, 0, false, 200);
    assert_false(lints_now(&m, 1, 300) >> LINT_SELF_WAKES & 1);
    model_free(&m);
}

static void test_console_lint_starved(void **state)
{
    (void)state;
    model m;
    model_init(&m, NULL);
    spawn(&m, 1, 0, 0, 0);
    assert_false(lints_now(&m, 1, 50 * MS) >> LINT_STARVED & 1);
    assert_true(lints_now(&m, 1, 150 * MS) >> LINT_STARVED & 1);
    poll(&m, 1, 150 * MS, 151 * MS);
    assert_false(lints_now(&m, 1, 300 * MS) >> LINT_STARVED & 1);
    model_free(&m);
}

static void test_console_lint_blocking_lock_across_await(void **state)
{
    (void)state;
    model m;
    model_init(&m, NULL);
    resource(&m, 3, WEFT_RESOURCE_BLOCKING_MUTEX, 0, 0, 0);
    resource(&m, 4, WEFT_RESOURCE_MUTEX, 0, 0, 0);
    spawn(&m, 1, 0, 0, 0);
    spawn(&m, 2, 0, 0, 0);
    poll_begin(&m, 2, 0, 5);
    lock(&m, WEFT_EV_lock_acquire, 4, 2, WEFT_OP_LOCK, 6);
    poll_end(&m, 2, 0, false, 7); /* an async lock across an await: not this lint */
    poll_begin(&m, 1, 0, 10);
    lock(&m, WEFT_EV_lock_acquire, 3, 1, WEFT_OP_LOCK, 11);
    poll_end(&m, 1, 0, false, 12);
    assert_true(lints_now(&m, 1, 20) >> LINT_BLOCKING_ACROSS_AWAIT & 1);
    uint32_t l2 = lints_now(&m, 2, 20);
    assert_false(l2 >> LINT_BLOCKING_ACROSS_AWAIT & 1);
    assert_false(l2 >> LINT_LOCK_ACROSS_AWAIT & 1);
    /* idle for over a second with the async lock: the informational lint */
    assert_true(lints_now(&m, 2, 7 + S) >> LINT_LOCK_ACROSS_AWAIT & 1);
    model_free(&m);
}

static void test_console_lint_permit_leak(void **state)
{
    (void)state;
    model m;
    model_init(&m, NULL);
    resource(&m, 8, WEFT_RESOURCE_SEMAPHORE, 0, 3, 0);
    spawn(&m, 1, 0, 0, 0);
    spawn(&m, 2, 0, 0, 0);
    permit(&m, WEFT_EV_permit_acquire, 8, 1, 1, 2, 10);
    permit(&m, WEFT_EV_permit_acquire, 8, 2, 1, 1, 11);
    lint_result r = {0};
    lints_compute(&m, 20, &r);
    assert_int_equal(r.count[LINT_PERMIT_LEAK], 0);
    /* task 2 gives its permit back, task 1 ends without: one permit is gone for good */
    permit(&m, WEFT_EV_permit_release, 8, 2, 1, 2, 30);
    complete(&m, 1, 40);
    lints_compute(&m, 50, &r);
    assert_int_equal(r.count[LINT_PERMIT_LEAK], 1);
    model_resource *res = model_res_get(&m, 8);
    assert_int_equal(res->available, 2);
    assert_int_equal(res->nholders, 1);
    lints_free(&r);
    model_free(&m);
}

static void test_console_lint_outlives_parent(void **state)
{
    (void)state;
    model m;
    model_init(&m, NULL);
    spawn(&m, 1, 0, 0, 0);
    spawn(&m, 2, 1, 0, 1);
    assert_false(lints_now(&m, 2, 5) >> LINT_OUTLIVES_PARENT & 1);
    complete(&m, 1, 10);
    assert_true(lints_now(&m, 2, 20) >> LINT_OUTLIVES_PARENT & 1);
    model_free(&m);
}

static void test_console_lint_channel_grows(void **state)
{
    (void)state;
    model m;
    model_init(&m, NULL);
    resource(&m, 6, WEFT_RESOURCE_MPSC, 0, 0, 0);
    for (uint64_t i = 1; i <= 100; i++) {
        weft_event e = E(WEFT_EV_channel_send, i * MS);
        e.u.channel_send.resource = 6;
        e.u.channel_send.len = i;
        model_apply(&m, &e);
    }
    lint_result r = {0};
    lints_compute(&m, 2 * S, &r);
    assert_int_equal(r.count[LINT_CHANNEL_GROWS], 1);
    /* drained once: the queue is not bottomless */
    weft_event e = E(WEFT_EV_channel_recv, 2 * S);
    e.u.channel_recv.resource = 6;
    e.u.channel_recv.len = 0;
    model_apply(&m, &e);
    lints_compute(&m, 2 * S + MS, &r);
    assert_int_equal(r.count[LINT_CHANNEL_GROWS], 0);
    lints_free(&r);
    model_free(&m);
}

static void test_console_gc_forgets_finished_tasks(void **state)
{
    (void)state;
    model m;
    model_init(&m, NULL);
    for (uint64_t i = 1; i <= 1000; i++) {
        spawn(&m, i, 0, 0, i);
        if (i % 2 == 0)
            complete(&m, i, i + 1);
    }
    model_gc(&m, 1002 + m.limits.retain_ns); /* every finished task ended by 1001 */
    assert_int_equal(m.ntasks, 500);
    for (uint64_t i = 1; i <= 1000; i++) {
        model_task *t = model_task_get(&m, i);
        if (i % 2)
            assert_true(t && t->id == i);
        else
            assert_null(t);
    }
    model_free(&m);
}

static void test_console_bad_events_absorbed(void **state)
{
    (void)state;
    model m;
    model_init(&m, NULL);
    poll_end(&m, 42, 0, false, 5);          /* end without begin */
    lock(&m, WEFT_EV_lock_release, 77, 1, WEFT_OP_LOCK, 6); /* unknown resource */
    permit(&m, WEFT_EV_permit_release, 78, 1, 5, 0, 7);
    wake(&m, 0, 0, true, 8);                /* task 0 */
    weft_event e = E(WEFT_EV_string_def, 9);
    e.u.string_def.id = 0xffffffffu;        /* out of range id */
    e.text = "x";
    model_apply(&m, &e);
    complete(&m, 42, 10);
    complete(&m, 42, 11);                   /* twice */
    assert_int_equal(model_task_get(&m, 42)->state, TASK_DONE);
    wait_cycle c[1];
    assert_int_equal(waitgraph_cycles(&m, c, 1), 0);
    model_free(&m);
}

static void timer(model *m, uint16_t type, uint64_t id, uint64_t task, uint64_t ts)
{
    weft_event e = E(type, ts);
    e.u.timer_arm.timer = id;
    if (type == WEFT_EV_timer_arm)
        e.u.timer_arm.task = task;
    model_apply(m, &e);
}

static void test_console_timers_armed_fired_forgotten(void **state)
{
    (void)state;
    model m;
    model_init(&m, NULL);
    for (uint64_t i = 1; i <= 300; i++) {
        spawn(&m, i, 0, 0, 1);
        timer(&m, WEFT_EV_timer_arm, 0x1000 + i, i, 2);
    }
    assert_int_equal(m.ntimers, 300);
    timer(&m, WEFT_EV_timer_arm, 0x1000 + 7, 7, 3); /* re-armed: still one timer */
    assert_int_equal(m.ntimers, 300);
    for (uint64_t i = 1; i <= 300; i += 2)
        timer(&m, WEFT_EV_timer_fire, 0x1000 + i, 0, 4);
    assert_int_equal(m.ntimers, 150);
    for (size_t i = 0; i < m.ntimers; i++)
        assert_int_equal(m.timers[i].id % 2, 0); /* the even ones are left, each once */
    /* A timer of a task that finished is dropped with it (a cancelled sleep fires never). */
    complete(&m, 2, 10);
    model_gc(&m, 11 + m.limits.retain_ns);
    assert_int_equal(m.ntimers, 149);
    timer(&m, WEFT_EV_timer_fire, 0x1000 + 4, 0, 12);
    assert_int_equal(m.ntimers, 148);
    model_free(&m);
}

static void test_console_hist_quantiles(void **state)
{
    (void)state;
    hist h = {0};
    for (uint64_t i = 1; i <= 1000; i++)
        hist_record(&h, i * 1000); /* 1 us .. 1 ms */
    uint64_t p50 = hist_quantile(&h, 0.5), p99 = hist_quantile(&h, 0.99);
    assert_true(p50 >= 500000 && p50 <= 500000 * 5 / 4);
    assert_true(p99 >= 990000 && p99 <= 1000000);
    assert_int_equal(hist_quantile(&h, 1.0), 1000000);
    assert_int_equal(h.count, 1000);
    hist_free(&h);
    assert_int_equal(hist_quantile(&h, 0.5), 0);
}

static void test_console_idmap_insert_delete(void **state)
{
    (void)state;
    idmap *m = idmap_new();
    for (uint64_t i = 1; i <= 5000; i++)
        assert_true(idmap_put(m, i * 7919, (size_t)i));
    for (uint64_t i = 1; i <= 5000; i += 3)
        idmap_del(m, i * 7919);
    for (uint64_t i = 1; i <= 5000; i++) {
        long v = idmap_get(m, i * 7919);
        if ((i - 1) % 3 == 0)
            assert_int_equal(v, -1);
        else
            assert_int_equal(v, (long)i);
    }
    idmap_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_console_task_lifecycle),
        cmocka_unit_test(test_console_names_and_locations),
        cmocka_unit_test(test_console_deadlock_cycle_found),
        cmocka_unit_test(test_console_wait_chain_ends_in_cycle),
        cmocka_unit_test(test_console_no_deadlock_when_a_task_can_run),
        cmocka_unit_test(test_console_self_deadlock_on_reentrant_lock),
        cmocka_unit_test(test_console_mailbox_cycle_through_receivers),
        cmocka_unit_test(test_console_join_cycle_between_two_tasks),
        cmocka_unit_test(test_console_join_cycle_through_a_lock),
        cmocka_unit_test(test_console_chain_stops_at_running_holder),
        cmocka_unit_test(test_console_lint_never_yielded),
        cmocka_unit_test(test_console_lint_lost_waker_waits_a_second),
        cmocka_unit_test(test_console_lint_lost_waker_not_for_snapshot_tasks),
        cmocka_unit_test(test_console_lint_self_wakes),
        cmocka_unit_test(test_console_lint_starved),
        cmocka_unit_test(test_console_lint_blocking_lock_across_await),
        cmocka_unit_test(test_console_lint_permit_leak),
        cmocka_unit_test(test_console_lint_outlives_parent),
        cmocka_unit_test(test_console_lint_channel_grows),
        cmocka_unit_test(test_console_gc_forgets_finished_tasks),
        cmocka_unit_test(test_console_bad_events_absorbed),
        cmocka_unit_test(test_console_timers_armed_fired_forgotten),
        cmocka_unit_test(test_console_hist_quantiles),
        cmocka_unit_test(test_console_idmap_insert_delete),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
