/* tests/integration/record_program.c - a weft program with one of each thing the trace
 * database's example queries look for (docs/book/trace-database.md), recorded by
 * test_record.sh:
 *
 *   hog          one poll that keeps the thread busy for HOG_MS     -> the longest poll
 *   locker-0..3  take the mutex "hot" ROUNDS times each, holding it
 *                across a HOLD_MS sleep, so the others queue        -> the most contended lock
 *   cold-user    takes the mutex "cold" COLD times, never waiting   -> a lock nobody waits for
 *   forever      sleeps for an hour                                 -> a task that never finishes
 *                (cancelled when the runtime shuts down)
 *
 *     record_program           runs them and exits 0
 *     record_program --hang    then prints "ready PID" and sleeps until killed, for the
 *                              SIGKILL cases of the test
 *
 * Current-thread runtime, so the story is the same at every run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <weft/mutex.h>
#include <weft/weft.h>

#define HOG_MS 30
#define LOCKERS 4
#define ROUNDS 2
#define HOLD_MS 2
#define COLD 5

static weft_mutex hot, cold;
/* Made before the runtime, as programs often make their locks: the recording must still name
 * it (the tracer starts at the first resource when WEFT_TRACE=1). */
static weft_mutex early;

/* ---------------------------------------------------------------- hog */
typedef struct hog {
    weft_future base;
} hog;

static weft_poll hog_poll(weft_future *f, weft_context *cx)
{
    (void)f;
    (void)cx;
    /* Spinning, not sleeping: this is the bug a long poll is (the worker can do nothing else). */
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    do
        clock_gettime(CLOCK_MONOTONIC, &t);
    /* In nanoseconds: the milliseconds of a negative tv_nsec difference round towards zero,
     * which once ended the spin after 29 ms. */
    while ((t.tv_sec - t0.tv_sec) * 1000000000LL + (t.tv_nsec - t0.tv_nsec) <
           HOG_MS * 1000000LL);
    return WEFT_READY;
}

static const weft_future_vtable hog_vt = {hog_poll, NULL, "hog"};

/* ---------------------------------------------------------------- lockers */
typedef struct locker {
    weft_async co;
    weft_mutex *m;
    int rounds;
    int hold_ms;
    int i;
    weft_mutex_lock lk;
    weft_sleep nap;
} locker;

static weft_poll locker_poll(weft_future *f, weft_context *cx)
{
    locker *l = (locker *)f;
    WEFT_ASYNC_BEGIN(&l->co);
    for (l->i = 0; l->i < l->rounds; l->i++) {
        weft_mutex_lock_init(&l->lk, l->m);
        WEFT_AWAIT(&l->co, cx, &l->lk);
        if (l->hold_ms) {
            weft_sleep_init(&l->nap, weft_ms((uint64_t)l->hold_ms));
            WEFT_AWAIT(&l->co, cx, &l->nap); /* holding the lock across an await */
        }
        weft_mutex_guard_release(&l->lk.guard);
    }
    WEFT_ASYNC_END(&l->co);
}

static const weft_future_vtable locker_vt = {locker_poll, weft_async_drop, "locker"};

/* ---------------------------------------------------------------- forever */
typedef struct sleeper {
    weft_async co;
    weft_sleep nap;
} sleeper;

static weft_poll sleeper_poll(weft_future *f, weft_context *cx)
{
    sleeper *s = (sleeper *)f;
    WEFT_ASYNC_BEGIN(&s->co);
    weft_sleep_init(&s->nap, weft_secs(3600));
    WEFT_AWAIT(&s->co, cx, &s->nap);
    WEFT_ASYNC_END(&s->co);
}

static const weft_future_vtable sleeper_vt = {sleeper_poll, weft_async_drop, "sleeper"};

/* ---------------------------------------------------------------- root */
#define JOINED (1 + LOCKERS + 1)

typedef struct root {
    weft_async co;
    bool hang;
    int i;
    int failures;
    weft_join_handle hs[JOINED];
    weft_join_handle forever;
    weft_sleep nap;
} root;

static weft_poll root_poll(weft_future *f, weft_context *cx)
{
    static const char *const names[LOCKERS] = {"locker-0", "locker-1", "locker-2", "locker-3"};
    root *r = (root *)f;
    WEFT_ASYNC_BEGIN(&r->co);
    {
        sleeper s;
        weft_async_init(&s.co, &sleeper_vt);
        r->forever = weft_spawn_named("forever", &s);
        hog h = {{&hog_vt}};
        r->hs[0] = weft_spawn_named("hog", &h);
        for (int i = 0; i < LOCKERS; i++) {
            locker l = {.m = &hot, .rounds = ROUNDS, .hold_ms = HOLD_MS};
            weft_async_init(&l.co, &locker_vt);
            r->hs[1 + i] = weft_spawn_named(names[i], &l);
        }
        locker c = {.m = &cold, .rounds = COLD, .hold_ms = 0};
        weft_async_init(&c.co, &locker_vt);
        r->hs[1 + LOCKERS] = weft_spawn_named("cold-user", &c);
    }
    for (r->i = 0; r->i < JOINED; r->i++) {
        WEFT_AWAIT(&r->co, cx, &r->hs[r->i]);
        if (r->hs[r->i].status != 0)
            r->failures++;
    }
    weft_join_handle_detach(&r->forever);
    if (r->hang) {
        printf("ready %d\n", (int)getpid());
        fflush(stdout);
        for (;;) {
            weft_sleep_init(&r->nap, weft_secs(3600));
            WEFT_AWAIT(&r->co, cx, &r->nap);
        }
    }
    WEFT_ASYNC_END(&r->co);
}

static const weft_future_vtable root_vt = {root_poll, weft_async_drop, "record_root"};

int main(int argc, char **argv)
{
    bool hang = argc > 1 && strcmp(argv[1], "--hang") == 0;
    weft_mutex_init(&early, "early");
    weft_builder b = weft_builder_new_current_thread();
    b.enable_time = true;
    weft_runtime *rt;
    int err = weft_runtime_new(&b, &rt);
    if (err) {
        fprintf(stderr, "record_program: runtime: %s\n", weft_strerror(err));
        return 1;
    }
    weft_mutex_init(&hot, "hot");
    weft_mutex_init(&cold, "cold");
    root r = {.hang = hang};
    weft_async_init(&r.co, &root_vt);
    err = weft_block_on(rt, &r.co.base);
    weft_runtime_shutdown(rt); /* cancels "forever" */
    weft_mutex_destroy(&hot);
    weft_mutex_destroy(&cold);
    weft_mutex_destroy(&early);
    if (err || r.failures) {
        fprintf(stderr, "record_program: block_on %s, %d failed joins\n", weft_strerror(err),
                r.failures);
        return 1;
    }
    return 0;
}
