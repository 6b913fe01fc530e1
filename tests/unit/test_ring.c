/* tests/unit/test_ring.c - the shared-memory ring: records round-trip, a full ring drops and
 * counts exactly, threads take and give back rings, timestamps are CLOCK_MONOTONIC, a reader
 * refuses every kind of bad segment with a message, and a writer and a reader running at once
 * lose nothing they do not count.
 *
 * The sink runs on a segment of the test's own name, without its tracer thread; each case
 * starts and stops it, so each starts from empty rings.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <weft/weft.h>

#include "../../instrument/reader.h"
#include "../../instrument/reader_int.h"
#include "../../instrument/trace_int.h"

static char seg_name[64];

static void sink_start(unsigned nrings, uint64_t ring_size)
{
    snprintf(seg_name, sizeof seg_name, "/weft-test-ring-%d", (int)getpid());
    weft__trace_config cfg = {
        .nrings = nrings,
        .ring_size = ring_size,
        .clock_kind = -1,
        .name = seg_name,
        .tracer_thread = false,
    };
    assert_int_equal(weft__trace_start(&cfg), 0);
}

static weft_reader *open_reader(void)
{
    weft_reader *r = NULL;
    int err = weft_reader_open_shm(seg_name, 0, &r);
    if (err)
        fprintf(stderr, "open: %s\n", weft_reader_open_error());
    assert_int_equal(err, 0);
    return r;
}

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---------------------------------------------------------------- round trip */

/* A payload for event `d` whose every field holds a value derived from its position. */
static void fill_payload(const weft_event_desc *d, uint8_t *p)
{
    memset(p, 0, d->payload);
    for (unsigned f = 0; f < d->nfields; f++) {
        uint64_t v = (uint64_t)d->id * 0x0101010101010101u ^ (f + 1) * 0x9e3779b97f4a7c15u;
        memcpy(p + d->fields[f].offset, &v, d->fields[f].size); /* little-endian: low bytes */
    }
}

/* Every event of the table goes through a ring and comes back with the same fields, the
 * identity of the thread that wrote it, and a timestamp between the clock readings around the
 * write. */
static void test_ring_records_round_trip(void **state)
{
    (void)state;
    sink_start(4, 1u << 16);
    weft_reader *rd = open_reader();
    weft__trace_thread_enter(7, WEFT_THREAD_WORKER, 3);
    uint64_t before = mono_ns();
    unsigned written = 0;
    for (unsigned i = 0; i < weft_event_count; i++) {
        const weft_event_desc *d = &weft_event_descs[i];
        /* Meta records with rules of their own are written by the sink (tested below). */
        if (d->id == WEFT_EV_clock_sync || d->id == WEFT_EV_string_def ||
            d->id == WEFT_EV_thread_start || d->id == WEFT_EV_events_lost ||
            (d->flags & WEFT_EVF_RING))
            continue;
        uint64_t rec[8];
        fill_payload(d, (uint8_t *)&rec[1]);
        unsigned bytes = weft__rec_bytes(d->payload, 0);
        assert_true(weft__ring_put(d->id, rec, bytes));
        written++;
    }
    uint64_t str = weft__intern_str("round-trip");
    uint64_t after = mono_ns();

    weft_event ev;
    unsigned seen = 0;
    bool saw_def = false;
    int n;
    while ((n = weft_reader_next(rd, &ev)) == 1) {
        if (ev.type == WEFT_EV_thread_start)
            continue;
        if (ev.type == WEFT_EV_string_def) {
            assert_int_equal(ev.u.string_def.id, str);
            assert_string_equal(ev.text, "round-trip");
            saw_def = true;
            continue;
        }
        const weft_event_desc *d = weft_event_desc_of(ev.type);
        assert_non_null(d);
        uint8_t expect[64];
        fill_payload(d, expect);
        assert_memory_equal(&ev.u, expect, d->payload);
        assert_int_equal(ev.thread_kind, WEFT_THREAD_WORKER);
        assert_int_equal(ev.runtime, 7);
        assert_int_equal(ev.worker, 3);
        assert_int_equal(ev.tid, (uint32_t)gettid());
        /* Calibrated TSC or the monotonic clock: within 1 ms of the readings around it. */
        assert_true(ev.ts + 1000000 >= before && ev.ts <= after + 1000000);
        seen++;
    }
    assert_int_equal(n, WEFT_EAGAIN);
    assert_int_equal(seen, written);
    assert_true(saw_def);
    assert_string_equal(weft_reader_string(rd, (uint32_t)str), "round-trip");
    weft__trace_thread_leave();
    weft_reader_close(rd);
    weft__trace_stop();
}

/* ---------------------------------------------------------------- full ring */

static unsigned count_type(weft_reader *rd, unsigned type, uint64_t *lost)
{
    weft_event ev;
    unsigned k = 0;
    while (weft_reader_next(rd, &ev) == 1) {
        if (ev.type == type)
            k++;
        if (ev.type == WEFT_EV_events_lost && lost)
            *lost += ev.u.events_lost.count;
    }
    return k;
}

/* With nobody reading, a ring takes what fits and drops the rest, counting every drop; the
 * count reaches readers twice: in the ring's counter at once, and as an events_lost record
 * just before the next record that fits. */
static void test_ring_full_ring_drops_and_counts_exactly(void **state)
{
    (void)state;
    sink_start(2, 1024);
    /* A ring opens with clock_sync (16 bytes) and thread_start (24); task_abort is 24. */
    const unsigned fit = (1024 - 16 - 24) / 24, total = 100;
    assert_int_equal((1024 - 16 - 24) % 24, 0);
    for (unsigned i = 0; i < total; i++) {
        weft_evarg_task_abort a = {i + 1, 0};
        weft__ev_task_abort(&a);
    }
    weft_reader *rd = open_reader();
    weft_reader_info info;
    weft_reader_info_get(rd, &info);
    assert_int_equal(info.dropped, total - fit);
    uint64_t lost = 0;
    assert_int_equal(count_type(rd, WEFT_EV_task_abort, &lost), fit);
    assert_int_equal(lost, 0);
    /* Drained: the next record fits, after the report of what was lost. */
    weft_evarg_task_abort a = {total + 1, 0};
    weft__ev_task_abort(&a);
    assert_int_equal(count_type(rd, WEFT_EV_task_abort, &lost), 1);
    assert_int_equal(lost, total - fit);
    weft_reader_info_get(rd, &info);
    assert_int_equal(info.dropped, total - fit);
    weft_reader_close(rd);
    weft__trace_stop();
}

/* A reader that writes nonsense into the tail cannot make the writer write outside its ring:
 * the writer treats the ring as full until the tail makes sense again. */
static void test_ring_writer_ignores_garbage_tail(void **state)
{
    (void)state;
    sink_start(1, 1024);
    weft_evarg_waker_clone a = {1};
    weft__ev_waker_clone(&a);
    weft__seg_header *h = weft__trace_segment();
    weft__ring_ctl *ctl = (weft__ring_ctl *)((uint8_t *)h + h->ring_table_off);
    uint64_t tail = atomic_load(&ctl->tail), size = h->ring_size;
    uint64_t bogus[] = {tail + 2 * size, tail + size + 8, UINT64_MAX, 8};
    for (unsigned i = 0; i < 4; i++) {
        atomic_store(&ctl->tail, bogus[i]);
        for (int k = 0; k < 200; k++)
            weft__ev_waker_clone(&a);
        /* At most what the last sane tail allowed was written: the writer never wrote over
         * records the reader had not consumed. */
        assert_true(atomic_load(&ctl->head) <= tail + size);
    }
    assert_true(atomic_load(&ctl->dropped) >= 4 * 200 - size / 16);
    uint64_t head = atomic_load(&ctl->head);
    atomic_store(&ctl->tail, head);
    weft__ev_waker_clone(&a);
    assert_true(atomic_load(&ctl->head) > head);
    weft__trace_stop();
}

/* ---------------------------------------------------------------- threads and rings */

static void *emit_some(void *arg)
{
    weft_evarg_waker_drop a = {(uint64_t)(uintptr_t)arg};
    for (int i = 0; i < 10; i++)
        weft__ev_waker_drop(&a);
    return NULL;
}

/* A thread takes a ring at its first record and gives it back when it exits (thread_stop);
 * once drained, the ring serves the next thread. */
static void test_ring_threads_take_and_give_back_rings(void **state)
{
    (void)state;
    sink_start(1, 4096);
    weft_reader *rd = open_reader();
    for (uintptr_t t = 1; t <= 3; t++) {
        pthread_t th;
        assert_int_equal(pthread_create(&th, NULL, emit_some, (void *)t), 0);
        pthread_join(th, NULL);
        weft_event ev;
        unsigned drops = 0, starts = 0, stops = 0;
        while (weft_reader_next(rd, &ev) == 1) {
            drops += ev.type == WEFT_EV_waker_drop && ev.u.waker_drop.task == t;
            starts += ev.type == WEFT_EV_thread_start;
            stops += ev.type == WEFT_EV_thread_stop;
        }
        assert_int_equal(drops, 10);
        assert_int_equal(starts, 1);
        assert_int_equal(stops, 1);
    }
    weft_reader_info info;
    weft_reader_info_get(rd, &info);
    assert_int_equal(info.dropped, 0);
    assert_int_equal(info.rings, 1);
    /* The only ring is taken by this thread now: another thread finds none, and says so. */
    weft_evarg_waker_drop a = {99};
    weft__ev_waker_drop(&a);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, emit_some, (void *)5), 0);
    pthread_join(th, NULL);
    weft_reader_info_get(rd, &info);
    assert_int_equal(info.dropped, 10);
    weft_reader_close(rd);
    weft__trace_stop();
}

/* A malformed record (as a buggy or hostile program could write) is skipped and counted; what
 * the writer writes afterwards is read normally. */
static void test_ring_reader_skips_malformed_records(void **state)
{
    (void)state;
    sink_start(1, 4096);
    weft_reader *rd = open_reader();
    weft_evarg_waker_clone a = {1};
    weft__ev_waker_clone(&a);
    (void)count_type(rd, WEFT_EV_waker_clone, NULL);
    /* A record of an unknown type, then one whose length lies. */
    uint64_t rec[2] = {weft__rec_header(250, 2, weft__trace_now()), 0};
    weft__writer *w = &weft__w;
    uint64_t idx = w->head & w->mask;
    memcpy(w->data + idx, rec, sizeof rec);
    w->head += sizeof rec;
    atomic_store(&w->ctl->head, w->head);
    assert_int_equal(count_type(rd, WEFT_EV_waker_clone, NULL), 0);
    weft_reader_info info;
    weft_reader_info_get(rd, &info);
    assert_int_equal(info.bad_records, 1);
    weft__ev_waker_clone(&a);
    assert_int_equal(count_type(rd, WEFT_EV_waker_clone, NULL), 1);
    weft_reader_close(rd);
    weft__trace_stop();
}


/* ---------------------------------------------------------------- polls */

/* Read everything now into evs[]; returns how many. */
static unsigned read_all(weft_reader *rd, weft_event *evs, unsigned max)
{
    unsigned n = 0;
    weft_event ev;
    while (weft_reader_next(rd, &ev) == 1)
        if (ev.type != WEFT_EV_thread_start && n < max)
            evs[n++] = ev;
    return n;
}

/* A poll with nothing in it but self-wakes is one 24-byte record that readers expand into
 * begin, the wakes, end; a poll in which something else happens is written as begin, that
 * thing, end, in that order. Either way readers see the same events. */
static void test_ring_polls_are_compressed_and_expanded(void **state)
{
    (void)state;
    sink_start(1, 4096);
    weft_reader *rd = open_reader();
    weft__trace_thread_enter(1, WEFT_THREAD_WORKER, 2);
    weft_evarg_waker_clone warm = {1};
    weft__ev_waker_clone(&warm); /* the ring's opening records */
    weft_event evs[16];
    (void)read_all(rd, evs, 16);

    weft__seg_header *h = weft__trace_segment();
    weft__ring_ctl *ctl = (weft__ring_ctl *)((uint8_t *)h + h->ring_table_off);
    uint64_t head0 = atomic_load(&ctl->head);
    weft_evarg_task_poll_begin b = {5, 2};
    weft_evarg_task_wake self = {5, 5, 0};
    weft_evarg_task_poll_end e = {5, 2, 0};
    weft__ev_task_poll_begin(&b);
    assert_int_equal(atomic_load(&ctl->cur_task), 5); /* the poll in progress shows */
    weft__ev_task_wake(&self);
    weft__ev_task_wake(&self);
    weft__ev_task_poll_end(&e);
    assert_int_equal(atomic_load(&ctl->cur_task), 0);
    assert_int_equal(atomic_load(&ctl->head) - head0, 24); /* one record for all four */
    unsigned n = read_all(rd, evs, 16);
    assert_int_equal(n, 4);
    assert_int_equal(evs[0].type, WEFT_EV_task_poll_begin);
    assert_int_equal(evs[0].u.task_poll_begin.task, 5);
    assert_int_equal(evs[0].u.task_poll_begin.worker, 2);
    assert_int_equal(evs[1].type, WEFT_EV_task_wake);
    assert_int_equal(evs[1].u.task_wake.waker, 5);
    assert_int_equal(evs[2].type, WEFT_EV_task_wake);
    assert_int_equal(evs[3].type, WEFT_EV_task_poll_end);
    assert_int_equal(evs[3].u.task_poll_end.ready, 0);
    assert_true(evs[0].ts <= evs[3].ts);

    /* Something else during the poll: the begin is written before it. */
    weft_evarg_task_wake other = {9, 5, 1};
    weft__ev_task_poll_begin(&b);
    weft__ev_task_wake(&self);
    weft__ev_task_wake(&other);
    e.ready = 1;
    weft__ev_task_poll_end(&e);
    n = read_all(rd, evs, 16);
    assert_int_equal(n, 4);
    assert_int_equal(evs[0].type, WEFT_EV_task_poll_begin);
    assert_int_equal(evs[1].type, WEFT_EV_task_wake);
    assert_int_equal(evs[1].u.task_wake.task, 5);
    assert_int_equal(evs[2].type, WEFT_EV_task_wake);
    assert_int_equal(evs[2].u.task_wake.task, 9);
    assert_int_equal(evs[2].u.task_wake.by_value, 1);
    assert_int_equal(evs[3].type, WEFT_EV_task_poll_end);
    assert_int_equal(evs[3].u.task_poll_end.ready, 1);
    for (unsigned i = 1; i < n; i++)
        assert_true(evs[i - 1].ts <= evs[i].ts);
    weft__trace_thread_leave();
    weft_reader_close(rd);
    weft__trace_stop();
}

/* A poll that lasts is visible while it lasts: the reader hands out its begin once it is
 * older than 10 ms, and not again when the poll's record arrives. */
static void test_ring_long_poll_is_announced_once(void **state)
{
    (void)state;
    sink_start(1, 4096);
    weft_reader *rd = open_reader();
    weft_evarg_task_poll_begin b = {77, 0};
    weft_evarg_task_poll_end e = {77, 0, 1};
    weft__ev_task_poll_begin(&b);
    weft_event evs[16];
    unsigned n = read_all(rd, evs, 16);
    assert_int_equal(n, 0); /* young: nothing to say yet */
    struct timespec t = {0, 30 * 1000000};
    nanosleep(&t, NULL);
    n = read_all(rd, evs, 16);
    assert_int_equal(n, 1);
    assert_int_equal(evs[0].type, WEFT_EV_task_poll_begin);
    assert_int_equal(evs[0].u.task_poll_begin.task, 77);
    uint64_t begin_ts = evs[0].ts;
    assert_int_equal(read_all(rd, evs, 16), 0); /* once */
    weft__ev_task_poll_end(&e);
    n = read_all(rd, evs, 16);
    assert_int_equal(n, 1);
    assert_int_equal(evs[0].type, WEFT_EV_task_poll_end);
    assert_true(evs[0].ts - begin_ts >= 30 * 1000000);
    weft_reader_close(rd);
    weft__trace_stop();
}

/* An id defined twice keeps its first text: texts handed out stay valid (the fuzzer found a
 * use after free when a redefinition replaced a text still queued in an event). */
static void test_ring_first_definition_wins(void **state)
{
    (void)state;
    sink_start(1, 4096);
    weft_reader *rd = open_reader();
    for (int k = 0; k < 2; k++) {
        uint64_t buf[4] = {0};
        weft_ev_string_def p = {4242, 3};
        memcpy(&buf[1], &p, sizeof p);
        memcpy(&buf[2], k == 0 ? "one" : "two", 3);
        assert_true(weft__ring_put(WEFT_EV_string_def, buf, 24));
    }
    weft_event ev;
    unsigned defs = 0;
    while (weft_reader_next(rd, &ev) == 1)
        if (ev.type == WEFT_EV_string_def) {
            assert_string_equal(ev.text, "one");
            defs++;
        }
    assert_int_equal(defs, 2);
    assert_string_equal(weft_reader_string(rd, 4242), "one");
    weft_reader_close(rd);
    weft__trace_stop();
}

/* ---------------------------------------------------------------- bad segments */

typedef enum defect {
    D_MAGIC,
    D_VERSION,
    D_SIZE_FIELD,
    D_TRUNCATED,
    D_NRINGS_ZERO,
    D_NRINGS_HUGE,
    D_TABLE_OUTSIDE,
    D_RING_OUTSIDE,
    D_RING_SIZE,
    D_PID,
    D_MODE,
    D_OWNER,
    D_COUNT_
} defect;

static const char *const defect_words[D_COUNT_] = {
    "magic", "version", "bytes", "size", "rings", "rings", "table", "outside", "ring size",
    "pid", "mode", "owned",
};

/* A copy of a valid segment with one defect, as a shm object of its own. */
static int make_bad_segment(const char *name, defect d)
{
    weft__seg_header *h = weft__trace_segment();
    size_t size = h->segment_size;
    uint8_t *img = malloc(size);
    memcpy(img, h, size);
    weft__seg_header *c = (weft__seg_header *)img;
    weft__ring_ctl *rings = (weft__ring_ctl *)(img + c->ring_table_off);
    size_t obj_size = size;
    switch (d) {
    case D_MAGIC:
        c->magic[0] = 'X';
        break;
    case D_VERSION:
        c->version = 99;
        break;
    case D_SIZE_FIELD:
        c->segment_size = size * 2;
        break;
    case D_TRUNCATED:
        obj_size = 100;
        break;
    case D_NRINGS_ZERO:
        c->nrings = 0;
        break;
    case D_NRINGS_HUGE:
        c->nrings = 1u << 30;
        break;
    case D_TABLE_OUTSIDE:
        c->ring_table_off = UINT64_MAX - 63;
        break;
    case D_RING_OUTSIDE:
        rings[1].data_off = size - 8;
        break;
    case D_RING_SIZE:
        c->ring_size = 3000;
        break;
    case D_PID:
        c->pid = -1;
        break;
    default:
        break;
    }
    shm_unlink(name);
    int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, (off_t)obj_size), 0);
    assert_int_equal(write(fd, img, obj_size), (ssize_t)obj_size);
    free(img);
    int rc = 0;
    if (d == D_MODE)
        rc = fchmod(fd, 0644);
    if (d == D_OWNER)
        rc = fchown(fd, 65534, 65534) == 0 ? 0 : -1;
    close(fd);
    return rc;
}

/* Every kind of bad segment is refused with a message that says what is wrong; none crashes
 * or hangs the reader. */
static void test_ring_bad_segments_are_refused(void **state)
{
    (void)state;
    sink_start(2, 4096);
    char name[64];
    snprintf(name, sizeof name, "/weft-test-bad-%d", (int)getpid());
    for (int d = 0; d < D_COUNT_; d++) {
        if (make_bad_segment(name, (defect)d) != 0) {
            /* Not root: cannot give the object to another user; that case is skipped. */
            assert_int_equal(d, D_OWNER);
            shm_unlink(name);
            continue;
        }
        weft_reader *rd = NULL;
        int err = weft_reader_open_shm(name, 0, &rd);
        assert_int_equal(err, WEFT_EFORMAT);
        assert_null(rd);
        if (!strstr(weft_reader_open_error(), defect_words[d]))
            fail_msg("defect %d: message \"%s\" lacks \"%s\"", d, weft_reader_open_error(),
                     defect_words[d]);
        shm_unlink(name);
    }
    weft_reader *rd = NULL;
    assert_int_equal(weft_reader_open_shm("/weft-test-no-such-segment", 0, &rd), WEFT_EIO);
    assert_non_null(strstr(weft_reader_open_error(), "no such segment"));
    assert_int_equal(weft_reader_open_live(-3, 0, &rd), WEFT_EINVAL);
    weft__trace_stop();
}

/* A second reader is refused while the first is attached; WEFT_READER_TAKEOVER overrides. */
static void test_ring_one_reader_at_a_time(void **state)
{
    (void)state;
    sink_start(1, 4096);
    weft_reader *a = open_reader(), *b = NULL;
    /* Both are this process: pretend the first belongs to another live process (pid 1). */
    atomic_store(&weft__trace_segment()->reader_pid, 1);
    assert_int_equal(weft_reader_open_shm(seg_name, 0, &b), WEFT_EBUSY);
    assert_int_equal(weft_reader_open_shm(seg_name, WEFT_READER_TAKEOVER, &b), 0);
    weft_reader_close(b);
    weft_reader_close(a);
    weft__trace_stop();
}

/* ---------------------------------------------------------------- concurrency */

#define STRESS_RECORDS 200000

static _Atomic bool writer_done;
static _Atomic uint64_t writer_dropped; /* the writer's ring's count before thread_stop */

static void *stress_writer(void *arg)
{
    (void)arg;
    for (uint64_t i = 1; i <= STRESS_RECORDS; i++) {
        weft_evarg_schedule_decision a = {i, i * 3, (uint32_t)i};
        weft__ev_schedule_decision(&a);
    }
    atomic_store(&writer_dropped, atomic_load(&weft__w.ctl->dropped));
    atomic_store(&writer_done, true);
    return NULL;
}

/* A writer and a reader at full speed on a small ring: the reader gets records in order,
 * intact, and every record it does not get is counted as dropped. */
static void test_ring_concurrent_writer_and_reader(void **state)
{
    (void)state;
    sink_start(2, 1u << 14);
    weft_reader *rd = open_reader();
    atomic_store(&writer_done, false);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, stress_writer, NULL), 0);
    uint64_t last = 0, got = 0, lost = 0, ts_last = 0;
    for (;;) {
        bool done = atomic_load(&writer_done);
        weft_event ev;
        int n;
        while ((n = weft_reader_next(rd, &ev)) == 1) {
            if (ev.type == WEFT_EV_events_lost)
                lost += ev.u.events_lost.count;
            if (ev.type != WEFT_EV_schedule_decision)
                continue;
            uint64_t s = ev.u.schedule_decision.step;
            assert_true(s > last);
            assert_int_equal(ev.u.schedule_decision.task, s * 3);
            assert_int_equal(ev.u.schedule_decision.runnable, (uint32_t)s);
            assert_true(ev.ts >= ts_last);
            ts_last = ev.ts;
            last = s;
            got++;
        }
        assert_int_equal(n, WEFT_EAGAIN);
        if (done)
            break;
    }
    pthread_join(th, NULL);
    weft_reader_info info;
    weft_reader_info_get(rd, &info);
    assert_int_equal(got + atomic_load(&writer_dropped), STRESS_RECORDS);
    assert_true(lost <= info.dropped);
    assert_int_equal(info.bad_records, 0);
    fprintf(stderr, "# stress: %llu read, %llu dropped\n", (unsigned long long)got,
            (unsigned long long)info.dropped);
    weft_reader_close(rd);
    weft__trace_stop();
}

/* Stop the sink even when a case failed half-way, so that the next one starts afresh. */
static int stop_sink(void **state)
{
    (void)state;
    weft__trace_thread_leave();
    weft__trace_stop();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_ring_records_round_trip, stop_sink),
        cmocka_unit_test_teardown(test_ring_full_ring_drops_and_counts_exactly, stop_sink),
        cmocka_unit_test_teardown(test_ring_writer_ignores_garbage_tail, stop_sink),
        cmocka_unit_test_teardown(test_ring_threads_take_and_give_back_rings, stop_sink),
        cmocka_unit_test_teardown(test_ring_reader_skips_malformed_records, stop_sink),
        cmocka_unit_test_teardown(test_ring_polls_are_compressed_and_expanded, stop_sink),
        cmocka_unit_test_teardown(test_ring_long_poll_is_announced_once, stop_sink),
        cmocka_unit_test_teardown(test_ring_first_definition_wins, stop_sink),
        cmocka_unit_test_teardown(test_ring_bad_segments_are_refused, stop_sink),
        cmocka_unit_test_teardown(test_ring_one_reader_at_a_time, stop_sink),
        cmocka_unit_test_teardown(test_ring_concurrent_writer_and_reader, stop_sink),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
