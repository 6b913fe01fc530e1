/* tests/fuzz/make_trace_db_seeds.c - writes the seed corpus of fuzz_trace_db.
 *
 *     make_trace_db_seeds DIR
 *
 * Records a small story with the recorder (names, a location, two threads, tasks, polls, a
 * contended mutex, a timer, a resource event with JSON arguments), finishes it, and rewrites
 * it with 512-byte pages (VACUUM), so that a seed is a few dozen kilobytes and a mutation
 * has a fair chance of hitting any table. Writes DIR/story.db, DIR/empty.db (no events) and
 * DIR/bad-rows.db (rows the reader must skip). Run it again when the schema changes.
 */
#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include <weft/resource.h>

#include "../../instrument/recorder.h"

static int add(weft_recorder *r, weft_event ev)
{
    return weft_recorder_add(r, &ev);
}

static weft_event at(uint16_t type, uint64_t ts, uint16_t ring)
{
    weft_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = type;
    ev.ts = ts;
    ev.thread = ring;
    ev.runtime = 1;
    ev.worker = ring;
    ev.tid = 100 + ring;
    return ev;
}

static int story(weft_recorder *r)
{
    int err = 0;
    static const char *const names[] = {"", "seed.c", "main", "worker", "accounts"};
    for (uint32_t id = 1; id < 5; id++) {
        weft_event ev = at(WEFT_EV_string_def, 1, 0);
        ev.u.string_def.id = id;
        ev.u.string_def.len = (uint32_t)strlen(names[id]);
        ev.text = names[id];
        err |= add(r, ev);
    }
    weft_event ev = at(WEFT_EV_location_def, 1, 0);
    ev.u.location_def = (weft_ev_location_def){5, 1, 2, 7};
    err |= add(r, ev);
    ev = at(WEFT_EV_runtime_start, 10, 0);
    ev.u.runtime_start = (weft_ev_runtime_start){1, 2, 1};
    err |= add(r, ev);
    for (uint64_t t = 1; t <= 2; t++) {
        ev = at(WEFT_EV_task_spawn, 10 + t, 0);
        ev.u.task_spawn = (weft_ev_task_spawn){t, 0, 1, 3, 5, 0};
        err |= add(r, ev);
    }
    ev = at(WEFT_EV_resource_create, 13, 0);
    ev.u.resource_create = (weft_ev_resource_create){9, 1, 4, 5, WEFT_RESOURCE_MUTEX};
    err |= add(r, ev);
    for (uint16_t w = 0; w < 2; w++) {
        ev = at(WEFT_EV_task_poll_begin, 20 + w, w);
        ev.u.task_poll_begin = (weft_ev_task_poll_begin){1u + w, w};
        err |= add(r, ev);
    }
    ev = at(WEFT_EV_lock_acquire, 22, 0);
    ev.u.lock_acquire = (weft_ev_lock_acquire){9, 1, WEFT_OP_LOCK};
    err |= add(r, ev);
    ev = at(WEFT_EV_task_wait, 23, 1);
    ev.u.task_wait = (weft_ev_task_wait){2, 9, 5, WEFT_OP_LOCK};
    err |= add(r, ev);
    ev = at(WEFT_EV_timer_arm, 24, 1);
    ev.u.timer_arm = (weft_ev_timer_arm){0x1234, 1000, 2};
    err |= add(r, ev);
    for (uint16_t w = 0; w < 2; w++) {
        ev = at(WEFT_EV_task_poll_end, 30 + w, w);
        ev.u.task_poll_end = (weft_ev_task_poll_end){1u + w, w, 0};
        err |= add(r, ev);
    }
    ev = at(WEFT_EV_lock_release, 40, 0);
    ev.u.lock_release = (weft_ev_lock_release){9, 1, WEFT_OP_LOCK};
    err |= add(r, ev);
    ev = at(WEFT_EV_task_wake, 41, 0);
    ev.u.task_wake = (weft_ev_task_wake){2, 1, 1};
    err |= add(r, ev);
    ev = at(WEFT_EV_task_wait_done, 42, 1);
    ev.u.task_wait_done = (weft_ev_task_wait_done){2, 9, WEFT_OP_LOCK};
    err |= add(r, ev);
    ev = at(WEFT_EV_channel_send, 43, 1);
    ev.u.channel_send = (weft_ev_channel_send){9, 3};
    err |= add(r, ev);
    ev = at(WEFT_EV_timer_fire, 44, 1);
    ev.u.timer_fire = (weft_ev_timer_fire){0x1234};
    err |= add(r, ev);
    ev = at(WEFT_EV_task_complete, 50, 1);
    ev.u.task_complete = (weft_ev_task_complete){2, 0, WEFT_OUTCOME_OK};
    err |= add(r, ev);
    return err;
}

/* Record (with the story or not), finish, then shrink the pages; extra SQL afterwards. */
static int make(const char *dir, const char *name, int with_story, const char *extra)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    weft_recorder *r;
    if (weft_recorder_create(path, &r) != 0) {
        fprintf(stderr, "%s\n", weft_recorder_open_error());
        return 1;
    }
    int err = with_story ? story(r) : 0;
    err |= weft_recorder_finish(r);
    weft_recorder_close(r);
    sqlite3 *db;
    if (err || sqlite3_open(path, &db) != SQLITE_OK)
        return 1;
    char *msg = NULL;
    if (extra && sqlite3_exec(db, extra, NULL, NULL, &msg) != SQLITE_OK)
        err = 1;
    if (sqlite3_exec(db, "PRAGMA page_size=512; VACUUM;", NULL, NULL, &msg) != SQLITE_OK)
        err = 1;
    if (msg)
        fprintf(stderr, "%s: %s\n", name, msg);
    sqlite3_free(msg);
    sqlite3_close(db);
    return err;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: make_trace_db_seeds DIR\n");
        return 2;
    }
    int err = make(argv[1], "story.db", 1, NULL);
    err |= make(argv[1], "empty.db", 0, NULL);
    err |= make(argv[1], "bad-rows.db", 1,
                "INSERT INTO events(seq, ts, thread, type, f0) VALUES (100, 60, 1, 250, 1);"
                "INSERT INTO events(seq, ts, thread, type, f0, f1, f2) VALUES "
                "  (101, 61, 1, 22, 1, 0, 300);"
                "INSERT INTO events(seq, ts, thread, type, f0) VALUES (102, 62, 1, 24, 'x');"
                "INSERT INTO strings VALUES (4000000000, 'far');");
    return err;
}
