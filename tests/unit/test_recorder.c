/* tests/unit/test_recorder.c - trace databases: the recorder writes them, the trace reader
 * reads them back, and bad files get a clear error.
 *
 * Events here are made by hand (no runtime), so that every field, every order and every
 * malformed row is under the test's control; tests/integration/test_record.sh records real
 * programs. Also the SHA-256 that identifies the recorded program.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include <weft/error.h>
#include <weft/resource.h>

#include "../../instrument/reader.h"
#include "../../instrument/recorder.h"
#include "../../instrument/sha256.h"
#include "../../instrument/trace_db.h"

/* ---------------------------------------------------------------- fixtures */

typedef struct fx {
    char dir[64];
    char db[128];
} fx;

static int fx_setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/weft-test-recorder-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->db, sizeof f->db, "%s/t.db", f->dir);
    *state = f;
    return 0;
}

static int fx_teardown(void **state)
{
    fx *f = *state;
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    if (system(cmd) != 0)
        return -1;
    free(f);
    return 0;
}

/* A decoded event as a reader would hand it over. */
static weft_event ev_make(uint16_t type, uint64_t ts, uint16_t ring)
{
    weft_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = type;
    ev.ts = ts;
    ev.thread = ring;
    ev.thread_kind = WEFT_THREAD_WORKER;
    ev.runtime = 1;
    ev.worker = ring;
    ev.tid = 1000 + ring;
    return ev;
}

static void add(weft_recorder *r, const weft_event *ev)
{
    assert_int_equal(weft_recorder_add(r, ev), 0);
}

static void add_string(weft_recorder *r, uint32_t id, const char *text)
{
    weft_event ev = ev_make(WEFT_EV_string_def, 1, 0);
    ev.u.string_def.id = id;
    ev.u.string_def.len = (uint32_t)strlen(text);
    ev.text = text;
    add(r, &ev);
}

static int64_t query_int(const char *db, const char *sql)
{
    sqlite3 *h;
    assert_int_equal(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(h));
    int64_t v = -1;
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_type(st, 0) == SQLITE_NULL ? -2 : sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(h);
    return v;
}

static char *query_text(const char *db, const char *sql, char *buf, size_t size)
{
    sqlite3 *h;
    assert_int_equal(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(h));
    buf[0] = '\0';
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
        snprintf(buf, size, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    sqlite3_close(h);
    return buf;
}

static void exec_sql(const char *db, const char *sql)
{
    sqlite3 *h;
    assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
    char *msg = NULL;
    if (sqlite3_exec(h, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", sql, msg);
    sqlite3_close(h);
}

/* A small program's worth of events: two tasks on two workers, one polled twice (woken in
 * between), a mutex that task 2 waits for while task 1 holds it, a timer. */
static void record_story(const char *path)
{
    weft_recorder *r;
    assert_int_equal(weft_recorder_create(path, &r), 0);
    add_string(r, 1, "main.c");
    add_string(r, 2, "serve");
    add_string(r, 3, "worker");
    add_string(r, 4, "accounts");
    weft_event ev = ev_make(WEFT_EV_location_def, 1, 0);
    ev.u.location_def = (weft_ev_location_def){.id = 5, .file = 1, .func = 2, .line = 42};
    add(r, &ev);

    ev = ev_make(WEFT_EV_runtime_start, 100, 0);
    ev.u.runtime_start = (weft_ev_runtime_start){.runtime = 1, .workers = 2, .flavor = 1};
    add(r, &ev);
    for (uint64_t t = 1; t <= 2; t++) {
        ev = ev_make(WEFT_EV_task_spawn, 100 + t, 0);
        ev.u.task_spawn = (weft_ev_task_spawn){.task = t, .parent = 0, .runtime = 1,
                                               .name = 3, .location = 5, .kind = 0};
        add(r, &ev);
    }
    ev = ev_make(WEFT_EV_resource_create, 105, 0);
    ev.u.resource_create = (weft_ev_resource_create){.resource = 9, .capacity = 1, .name = 4,
                                                     .location = 5,
                                                     .kind = WEFT_RESOURCE_MUTEX};
    add(r, &ev);
    /* task 1 on worker 0: polls 200..300, takes the mutex, returns pending */
    ev = ev_make(WEFT_EV_task_poll_begin, 200, 0);
    ev.u.task_poll_begin = (weft_ev_task_poll_begin){.task = 1, .worker = 0};
    add(r, &ev);
    ev = ev_make(WEFT_EV_lock_acquire, 210, 0);
    ev.u.lock_acquire = (weft_ev_lock_acquire){.resource = 9, .task = 1, .op = WEFT_OP_LOCK};
    add(r, &ev);
    ev = ev_make(WEFT_EV_task_poll_end, 300, 0);
    ev.u.task_poll_end = (weft_ev_task_poll_end){.task = 1, .worker = 0, .ready = 0};
    add(r, &ev);
    /* task 2 on worker 1: polls 250..260 and waits for the mutex from 255 */
    ev = ev_make(WEFT_EV_task_poll_begin, 250, 1);
    ev.u.task_poll_begin = (weft_ev_task_poll_begin){.task = 2, .worker = 1};
    add(r, &ev);
    ev = ev_make(WEFT_EV_task_wait, 255, 1);
    ev.u.task_wait = (weft_ev_task_wait){.task = 2, .resource = 9, .location = 5,
                                         .op = WEFT_OP_LOCK};
    add(r, &ev);
    ev = ev_make(WEFT_EV_task_poll_end, 260, 1);
    ev.u.task_poll_end = (weft_ev_task_poll_end){.task = 2, .worker = 1, .ready = 0};
    add(r, &ev);
    ev = ev_make(WEFT_EV_timer_arm, 270, 1);
    ev.u.timer_arm = (weft_ev_timer_arm){.timer = 0xabc, .deadline = 5000, .task = 2};
    add(r, &ev);
    /* task 1 releases at 400, which wakes task 2 (by value) */
    ev = ev_make(WEFT_EV_lock_release, 400, 0);
    ev.u.lock_release = (weft_ev_lock_release){.resource = 9, .task = 1, .op = WEFT_OP_LOCK};
    add(r, &ev);
    ev = ev_make(WEFT_EV_task_wake, 401, 0);
    ev.u.task_wake = (weft_ev_task_wake){.task = 2, .waker = 1, .by_value = 1};
    add(r, &ev);
    ev = ev_make(WEFT_EV_task_wait_done, 500, 1);
    ev.u.task_wait_done = (weft_ev_task_wait_done){.task = 2, .resource = 9,
                                                   .op = WEFT_OP_LOCK};
    add(r, &ev);
    ev = ev_make(WEFT_EV_timer_fire, 510, 1);
    ev.u.timer_fire = (weft_ev_timer_fire){.timer = 0xabc};
    add(r, &ev);
    ev = ev_make(WEFT_EV_task_complete, 600, 1);
    ev.u.task_complete = (weft_ev_task_complete){.task = 2, .status = WEFT_ECANCELLED,
                                                 .outcome = WEFT_OUTCOME_CANCELLED};
    add(r, &ev);
    /* task 1 starts a poll that never ends (the program "crashed" in it) */
    ev = ev_make(WEFT_EV_task_poll_begin, 700, 0);
    ev.u.task_poll_begin = (weft_ev_task_poll_begin){.task = 1, .worker = 0};
    add(r, &ev);
    assert_int_equal(weft_recorder_finish(r), 0);
    weft_recorder_stats st;
    weft_recorder_stats_get(r, &st);
    assert_int_equal(st.events, 17);
    assert_int_equal(st.late, 0);
    weft_recorder_close(r);
}

/* ---------------------------------------------------------------- SHA-256 */

static void test_recorder_sha256_matches_fips_vectors(void **state)
{
    (void)state;
    char hex[WEFT_SHA256_HEX];
    weft__sha256_hex("", 0, hex);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    weft__sha256_hex("abc", 3, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    weft__sha256_hex(two, strlen(two), hex);
    assert_string_equal(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");

    /* One million 'a', fed in uneven pieces so that every buffering path runs. */
    static char a[1000];
    memset(a, 'a', sizeof a);
    weft__sha256 s;
    weft__sha256_init(&s);
    size_t fed = 0;
    for (size_t piece = 1; fed < 1000000; piece = piece * 7 % 997 + 1) {
        size_t n = piece < 1000000 - fed ? piece : 1000000 - fed;
        weft__sha256_update(&s, a, n);
        fed += n;
    }
    unsigned char d[WEFT_SHA256_LEN];
    weft__sha256_final(&s, d);
    static const unsigned char want[WEFT_SHA256_LEN] = {
        0xcd, 0xc7, 0x6e, 0x5c, 0x99, 0x14, 0xfb, 0x92, 0x81, 0xa1, 0xc7,
        0xe2, 0x84, 0xd7, 0x3e, 0x67, 0xf1, 0x80, 0x9a, 0x48, 0xa4, 0x97,
        0x20, 0x0e, 0x04, 0x6d, 0x39, 0xcc, 0xc7, 0x11, 0x2c, 0xd0};
    assert_memory_equal(d, want, WEFT_SHA256_LEN);
}

static void test_recorder_sha256_of_a_file_and_of_no_file(void **state)
{
    fx *f = *state;
    char path[160], hex[WEFT_SHA256_HEX];
    snprintf(path, sizeof path, "%s/bin", f->dir);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs("abc", fp);
    fclose(fp);
    assert_int_equal(weft__sha256_file_hex(path, hex), 0);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    snprintf(path, sizeof path, "%s/missing", f->dir);
    assert_int_equal(weft__sha256_file_hex(path, hex), -ENOENT);
}

/* ---------------------------------------------------------------- writing and reading back */

/* Every event comes back from the trace reader as it went in: type, timestamp, thread
 * identity and each field, in timestamp order, with names resolved. */
static void test_recorder_trace_reads_back_every_event(void **state)
{
    fx *f = *state;
    record_story(f->db);
    weft_reader *rd;
    assert_int_equal(weft_reader_open_trace(f->db, &rd), 0);
    weft_event ev;
    uint64_t last_ts = 0, n = 0, seen_wait = 0;
    int rc;
    while ((rc = weft_reader_next(rd, &ev)) == 1) {
        n++;
        assert_true(ev.ts >= last_ts);
        last_ts = ev.ts;
        assert_int_equal(ev.runtime, 1);
        assert_int_equal(ev.thread_kind, WEFT_THREAD_WORKER);
        if (ev.type == WEFT_EV_task_wait) {
            seen_wait++;
            assert_int_equal(ev.ts, 255);
            assert_int_equal(ev.u.task_wait.task, 2);
            assert_int_equal(ev.u.task_wait.resource, 9);
            assert_int_equal(ev.u.task_wait.op, WEFT_OP_LOCK);
            assert_int_equal(ev.tid, 1001);
            weft_reader_loc loc;
            assert_true(weft_reader_location(rd, ev.u.task_wait.location, &loc));
            assert_string_equal(loc.file, "main.c");
            assert_string_equal(loc.func, "serve");
            assert_int_equal(loc.line, 42);
        }
        if (ev.type == WEFT_EV_task_complete) {
            assert_int_equal(ev.u.task_complete.status, WEFT_ECANCELLED);
            assert_int_equal(ev.u.task_complete.outcome, WEFT_OUTCOME_CANCELLED);
        }
        if (ev.type == WEFT_EV_task_spawn)
            assert_string_equal(weft_reader_string(rd, ev.u.task_spawn.name), "worker");
    }
    assert_int_equal(rc, 0);
    assert_int_equal(n, 17);
    assert_int_equal(seen_wait, 1);
    weft_reader_info info;
    weft_reader_info_get(rd, &info);
    assert_false(info.live);
    assert_int_equal(info.bad_records, 0);

    /* seek: back to the wait (seq is its position) */
    assert_int_equal(weft_reader_seek(rd, 0), 0);
    assert_int_equal(weft_reader_next(rd, &ev), 1);
    assert_int_equal(ev.type, WEFT_EV_runtime_start);
    weft_reader_close(rd);
}

/* The derived tables pair what belongs together, and keep a NULL end for what never ended. */
static void test_recorder_derived_tables_pair_events(void **state)
{
    fx *f = *state;
    char buf[128];
    record_story(f->db);
    assert_int_equal(query_int(f->db, "SELECT count(*) FROM tasks"), 2);
    assert_string_equal(query_text(f->db, "SELECT name FROM tasks WHERE task = 1", buf, 128),
                        "worker");
    assert_string_equal(query_text(f->db, "SELECT file || ':' || line FROM tasks WHERE task = 1",
                                   buf, 128),
                        "main.c:42");
    assert_string_equal(query_text(f->db, "SELECT outcome FROM tasks WHERE task = 2", buf, 128),
                        "cancelled");
    assert_int_equal(query_int(f->db, "SELECT end_ts FROM tasks WHERE task = 1"), -2);
    /* polls: task 1 100 ns, task 2 10 ns, and task 1's unfinished one */
    assert_int_equal(query_int(f->db, "SELECT count(*) FROM polls"), 3);
    assert_int_equal(query_int(f->db, "SELECT max(duration_ns) FROM polls"), 100);
    assert_int_equal(query_int(f->db, "SELECT count(*) FROM polls WHERE end_ts IS NULL"), 1);
    assert_int_equal(query_int(f->db, "SELECT duration_ns FROM waits WHERE task = 2"), 245);
    assert_string_equal(query_text(f->db, "SELECT op FROM waits", buf, 128), "lock");
    assert_int_equal(query_int(f->db, "SELECT duration_ns FROM lock_holds WHERE task = 1"), 190);
    assert_string_equal(query_text(f->db, "SELECT kind || ' ' || name FROM resources", buf, 128),
                        "mutex accounts");
    assert_int_equal(query_int(f->db, "SELECT count(*) FROM resource_ops"), 2);
    assert_int_equal(query_int(f->db, "SELECT waker FROM wakes WHERE task = 2"), 1);
    assert_int_equal(query_int(f->db, "SELECT fired_ts - armed_ts FROM timers"), 240);
    assert_int_equal(query_int(f->db, "SELECT count(*) FROM threads"), 2);
    assert_int_equal(query_int(f->db, "SELECT last_ts FROM threads WHERE worker = 0"), 700);
    assert_int_equal(query_int(f->db, "SELECT count(*) FROM ev_task_poll_begin"), 3);
    assert_int_equal(query_int(f->db, "SELECT count(*) FROM event_types"), (int64_t)weft_event_count);
    assert_int_equal(query_int(f->db, "SELECT value FROM meta WHERE key = 'complete'"), 1);
    assert_string_equal(query_text(f->db, "SELECT value FROM meta WHERE key = 'format'", buf, 128),
                        WEFT_TRACE_FORMAT);
}

/* Events of different threads that arrive out of timestamp order within the window are
 * written in timestamp order. */
static void test_recorder_reorders_within_the_window(void **state)
{
    fx *f = *state;
    weft_recorder *r;
    assert_int_equal(weft_recorder_create(f->db, &r), 0);
    uint64_t ts[] = {50, 10, 40, 20, 30, 60, 15};
    for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++) {
        weft_event ev = ev_make(WEFT_EV_waker_clone, ts[i], (uint16_t)(i % 3));
        ev.u.waker_clone.task = ts[i];
        add(r, &ev);
    }
    assert_int_equal(weft_recorder_finish(r), 0);
    weft_recorder_close(r);
    weft_reader *rd;
    assert_int_equal(weft_reader_open_trace(f->db, &rd), 0);
    weft_event ev;
    uint64_t last = 0, seq = 0;
    while (weft_reader_next(rd, &ev) == 1) {
        assert_true(ev.ts > last);
        assert_true(ev.seq > seq);
        assert_int_equal(ev.u.waker_clone.task, ev.ts);
        last = ev.ts;
        seq = ev.seq;
    }
    assert_int_equal(last, 60);
    weft_reader_close(rd);
}

/* What was flushed is in the file before the recording ends, and a recorder that stops
 * without finishing (killed) leaves a database that opens, marked incomplete. */
static void test_recorder_flushed_events_survive_an_unfinished_recording(void **state)
{
    fx *f = *state;
    weft_recorder *r;
    assert_int_equal(weft_recorder_create(f->db, &r), 0);
    for (uint64_t i = 1; i <= 1000; i++) {
        weft_event ev = ev_make(WEFT_EV_task_wake, i, 0);
        ev.u.task_wake.task = i;
        add(r, &ev);
    }
    assert_int_equal(weft_recorder_flush(r), 0);
    /* Another connection sees them now, while the recorder still holds the file. */
    assert_int_equal(query_int(f->db, "SELECT count(*) FROM events"), 1000);
    assert_int_equal(query_int(f->db, "SELECT value FROM meta WHERE key = 'complete'"), 0);
    weft_reader *rd;
    assert_int_equal(weft_reader_open_trace(f->db, &rd), 0);
    weft_event ev;
    int n = 0;
    while (weft_reader_next(rd, &ev) == 1)
        n++;
    assert_int_equal(n, 1000);
    weft_reader_close(rd);
    weft_recorder_close(r);
}

/* ---------------------------------------------------------------- bad files */

static void write_file(const char *path, const void *data, size_t n)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(data, 1, n, fp), n);
    fclose(fp);
}

static void expect_open_error(const char *path, int err, const char *words)
{
    weft_reader *rd = (weft_reader *)0x1;
    assert_int_equal(weft_reader_open_trace(path, &rd), err);
    assert_null(rd);
    const char *msg = weft_reader_open_error();
    if (!strstr(msg, words))
        fail_msg("open error '%s' does not mention '%s'", msg, words);
}

static void test_recorder_trace_refuses_what_is_not_a_trace(void **state)
{
    fx *f = *state;
    char path[160];
    snprintf(path, sizeof path, "%s/missing.db", f->dir);
    expect_open_error(path, WEFT_EIO, "missing.db");
    struct stat st;
    assert_int_not_equal(stat(path, &st), 0); /* not created by trying */

    snprintf(path, sizeof path, "%s/garbage.db", f->dir);
    char junk[8192];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (char)(i * 131 + 7);
    write_file(path, junk, sizeof junk);
    expect_open_error(path, WEFT_EFORMAT, "garbage.db");

    snprintf(path, sizeof path, "%s/empty.db", f->dir);
    write_file(path, "", 0);
    expect_open_error(path, WEFT_EFORMAT, "not a weft trace");

    snprintf(path, sizeof path, "%s/other.db", f->dir);
    exec_sql(path, "CREATE TABLE meta(key, value); INSERT INTO meta VALUES ('format', 'x');"
                   "CREATE TABLE events(a); CREATE TABLE threads(a); CREATE TABLE strings(a);"
                   "CREATE TABLE locations(a);");
    expect_open_error(path, WEFT_EFORMAT, "not a weft trace");

    /* A view where a table should be could run any query: refused. */
    record_story(f->db);
    exec_sql(f->db, "DROP TABLE strings; CREATE VIEW strings AS SELECT 1 AS id, 'x' AS text;");
    expect_open_error(f->db, WEFT_EFORMAT, "strings");

    record_story(f->db);
    exec_sql(f->db, "UPDATE meta SET value = 99 WHERE key = 'schema_version'");
    expect_open_error(f->db, WEFT_EFORMAT, "schema version");
}

/* A trace cut short anywhere: an error at open or while reading, never a crash or a hang. */
static void test_recorder_truncated_trace_fails_cleanly(void **state)
{
    fx *f = *state;
    record_story(f->db);
    FILE *fp = fopen(f->db, "rb");
    assert_non_null(fp);
    static unsigned char image[1 << 20];
    size_t size = fread(image, 1, sizeof image, fp);
    fclose(fp);
    assert_true(size > 4096 && size < sizeof image);
    char path[160];
    snprintf(path, sizeof path, "%s/cut.db", f->dir);
    int refused = 0;
    for (size_t cut = 0; cut < size; cut += 512) {
        write_file(path, image, cut);
        weft_reader *rd;
        int err = weft_reader_open_trace(path, &rd);
        if (err) {
            assert_true(err == WEFT_EFORMAT || err == WEFT_EIO);
            assert_true(strlen(weft_reader_open_error()) > 0);
            refused++;
            continue;
        }
        weft_event ev;
        int rc, n = 0;
        while ((rc = weft_reader_next(rd, &ev)) == 1)
            assert_true(++n <= 17);
        if (rc < 0)
            assert_true(strlen(weft_reader_last_error(rd)) > 0);
        weft_reader_close(rd);
    }
    assert_true(refused > 0);
}

/* Rows that do not decode (unknown type, a value too large for its field, a text where a
 * number belongs) are skipped and counted; the good ones still come out. */
static void test_recorder_bad_rows_are_skipped_and_counted(void **state)
{
    fx *f = *state;
    record_story(f->db);
    exec_sql(f->db,
             "INSERT INTO events(seq, ts, thread, type, f0) VALUES (1000, 900, 1, 250, 1);"
             "INSERT INTO events(seq, ts, thread, type, f0, f1, f2) VALUES "
             "  (1001, 901, 1, 22, 1, 0, 300);" /* poll_end.ready = 300 > u8 */
             "INSERT INTO events(seq, ts, thread, type, f0) VALUES (1002, 902, 1, 24, 'x');"
             "INSERT INTO events(seq, ts, thread, type, f0) VALUES (1003, 903, 99999, 24, 1);"
             "INSERT INTO events(seq, ts, thread, type, f0) VALUES (1004, 904, 1, 24, 7);");
    weft_reader *rd;
    assert_int_equal(weft_reader_open_trace(f->db, &rd), 0);
    weft_event ev;
    int n = 0;
    while (weft_reader_next(rd, &ev) == 1)
        n++;
    assert_int_equal(n, 18); /* the 17 of the story and waker_clone(7) */
    assert_int_equal(ev.type, WEFT_EV_waker_clone);
    assert_int_equal(ev.u.waker_clone.task, 7);
    weft_reader_info info;
    weft_reader_info_get(rd, &info);
    assert_int_equal(info.bad_records, 4);
    weft_reader_close(rd);
}

/* The in-memory open (the fuzz target's way in) reads the same file the same way. */
static void test_recorder_trace_opens_from_memory(void **state)
{
    fx *f = *state;
    record_story(f->db);
    FILE *fp = fopen(f->db, "rb");
    static unsigned char image[1 << 20];
    size_t size = fread(image, 1, sizeof image, fp);
    fclose(fp);
    weft_reader *rd;
    assert_int_equal(weft__trace_db_open_mem(image, size, &rd), 0);
    weft_event ev;
    int n = 0;
    while (weft_reader_next(rd, &ev) == 1)
        n++;
    assert_int_equal(n, 17);
    weft_reader_close(rd);
    assert_int_equal(weft__trace_db_open_mem("nope", 4, &rd), WEFT_EFORMAT);
    assert_null(rd);
}

/* Creating a database where none can be written says so. */
static void test_recorder_create_fails_clearly(void **state)
{
    (void)state;
    weft_recorder *r = (weft_recorder *)0x1;
    assert_int_equal(weft_recorder_create("/nonexistent-dir/t.db", &r), WEFT_EIO);
    assert_null(r);
    assert_non_null(strstr(weft_recorder_open_error(), "/nonexistent-dir/t.db"));
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_recorder_sha256_matches_fips_vectors),
        T(test_recorder_sha256_of_a_file_and_of_no_file),
        T(test_recorder_trace_reads_back_every_event),
        T(test_recorder_derived_tables_pair_events),
        T(test_recorder_reorders_within_the_window),
        T(test_recorder_flushed_events_survive_an_unfinished_recording),
        T(test_recorder_trace_refuses_what_is_not_a_trace),
        T(test_recorder_truncated_trace_fails_cleanly),
        T(test_recorder_bad_rows_are_skipped_and_counted),
        T(test_recorder_trace_opens_from_memory),
        cmocka_unit_test(test_recorder_create_fails_clearly),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
