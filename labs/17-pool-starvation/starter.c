/* Lab 17 - Pool starvation (follows docs/book/tasks.md).
 *
 * A reporting service runs its blocking work on the runtime's blocking pool, which the
 * deployment caps at four threads (max_blocking_threads: each blocking thread holds a large
 * buffer, and the container's memory is tight). Two kinds of work go there:
 *
 *   exports        a customer asks for an export; writing it is 300 ms of blocking I/O
 *   health probes  every 50 ms the load balancer asks "are you alive?"; answering reads a
 *                  status file (1 ms of blocking I/O) and must take under 100 ms, or the
 *                  balancer takes the service out of rotation
 *
 * Both use weft_spawn_blocking. On a busy morning six exports arrive within 40 ms, and the
 * balancer drops the service. Run it: `weft lab run 17`, then `weft lab check 17`.
 *
 * Your job: every probe is answered within 100 ms and every export is written, by the 1 s
 * mark, with the pool still at four threads.
 */
#include <string.h>

#include <lab.h>

#define BLOCKING_THREADS 4 /* the deployment's cap: not yours to change */
#define EXPORTS 6
#define PROBE_EVERY weft_ms(50)
#define PROBE_LIMIT weft_ms(100)
#define PROBES 20
#define EXPORTS_DEADLINE weft_secs(1)

/* ---------------------------------------------------------------- blocking functions */

static int write_export(void *arg, intptr_t *value)
{
    (void)arg;
    weft_sched_block(weft_ms(300)); /* query, format, write: blocking I/O */
    *value = 1;
    return 0;
}

static int read_status_file(void *arg, intptr_t *value)
{
    (void)arg;
    weft_sched_block(weft_ms(1));
    *value = 200; /* "OK" */
    return 0;
}

/* ---------------------------------------------------------------- an export */

typedef struct export_job {
    weft_async co;
    int id;
    weft_duration arrives;
    weft_sleep wait;
    weft_join_handle work;
} export_job;

static weft_poll export_poll(weft_future *f, weft_context *cx)
{
    export_job *e = (export_job *)f;
    WEFT_ASYNC_BEGIN(&e->co);
    weft_sleep_init(&e->wait, e->arrives);
    WEFT_AWAIT(&e->co, cx, &e->wait);
    lab_say("export %d requested", e->id);
    e->work = weft_spawn_blocking(write_export, NULL);
    WEFT_AWAIT(&e->co, cx, &e->work);
    if (e->work.status == 0 && e->work.value == 1) {
        lab_count("exports", 1);
        lab_mark("export-done");
        lab_say("export %d written", e->id);
    }
    WEFT_ASYNC_END(&e->co);
}

static void export_drop(weft_future *f)
{
    export_job *e = (export_job *)f;
    weft_async_drop(f);
    weft_join_handle_detach(&e->work);
}

static const weft_future_vtable export_vt = {export_poll, export_drop, "export"};

/* ---------------------------------------------------------------- the health probes */

typedef struct prober {
    weft_async co;
    int i;
    weft_interval every;
    weft_interval_tick tick;
    weft_duration first;     /* when the first probe came */
    weft_duration asked;     /* when the balancer asked this one */
    weft_join_handle read;
} prober;

static weft_poll prober_poll(weft_future *f, weft_context *cx)
{
    prober *p = (prober *)f;
    WEFT_ASYNC_BEGIN(&p->co);
    weft_interval_init(&p->every, PROBE_EVERY);
    for (p->i = 0; p->i < PROBES; p->i++) {
        weft_interval_tick_init(&p->tick, &p->every);
        WEFT_AWAIT(&p->co, cx, &p->tick);
        if (p->i == 0)
            p->first = lab_now();
        p->asked = p->first + p->i * PROBE_EVERY; /* the balancer's schedule, late or not */
        p->read = weft_spawn_blocking(read_status_file, NULL);
        WEFT_AWAIT(&p->co, cx, &p->read);
        /* The balancer gives up after PROBE_LIMIT: an answer that comes later counts as none. */
        if (p->read.status == 0 && p->read.value == 200 &&
            lab_now() - p->asked <= PROBE_LIMIT) {
            lab_count("probes-ok", 1);
        } else {
            lab_count("probes-failed", 1);
            lab_say("health probe %d: answered after %llu ms (the balancer waits %llu ms)", p->i,
                    (unsigned long long)((lab_now() - p->asked) / 1000000u),
                    (unsigned long long)(PROBE_LIMIT / 1000000u));
        }
    }
    WEFT_ASYNC_END(&p->co);
}

static void prober_drop(weft_future *f)
{
    prober *p = (prober *)f;
    weft_async_drop(f);
    weft_join_handle_detach(&p->read);
}

static const weft_future_vtable prober_vt = {prober_poll, prober_drop, "prober"};

/* ---------------------------------------------------------------- main */

static void judge(void)
{
    const weft_duration *done;
    size_t n = lab_marks("export-done", &done);
    weft_duration last = n ? done[n - 1] : 0;
    lab_check("health", lab_counter("probes-failed") == 0 && lab_counter("probes-ok") == PROBES,
              "%lld of %d health probes answered within %llu ms",
              (long long)lab_counter("probes-ok"), PROBES,
              (unsigned long long)(PROBE_LIMIT / 1000000u));
    lab_check("exports", n == EXPORTS && last <= EXPORTS_DEADLINE,
              "%zu of %d exports written, the last at %llu ms (deadline %llu ms)", n, EXPORTS,
              (unsigned long long)(last / 1000000u),
              (unsigned long long)(EXPORTS_DEADLINE / 1000000u));
}

typedef struct service {
    weft_async co;
    weft_join_set *set;
    weft_join_next next;
} service;

static weft_poll service_poll(weft_future *f, weft_context *cx)
{
    service *s = (service *)f;
    WEFT_ASYNC_BEGIN(&s->co);
    {
        prober p = {0};
        weft_async_init(&p.co, &prober_vt);
        weft_join_set_spawn_named(s->set, "prober", &p);
    }
    for (int i = 0; i < EXPORTS; i++) {
        export_job e = {.id = i + 1, .arrives = weft_ms(weft_rand_below(40))};
        weft_async_init(&e.co, &export_vt);
        weft_join_set_spawn_named(s->set, "export", &e);
    }
    for (;;) {
        weft_join_set_join_next_init(&s->next, s->set);
        WEFT_AWAIT(&s->co, cx, &s->next);
        if (s->next.status == WEFT_EEMPTY)
            break;
    }
    judge();
    WEFT_ASYNC_END(&s->co);
}

static const weft_future_vtable service_vt = {service_poll, weft_async_drop, "service"};

static int run(void *arg)
{
    (void)arg;
    lab_begin();
    weft_builder b = weft_builder_new_multi_thread();
    b.max_blocking_threads = BLOCKING_THREADS;
    weft_runtime *rt;
    if (weft_runtime_new(&b, &rt) != 0)
        return 1;
    service s;
    weft_async_init(&s.co, &service_vt);
    if (weft_join_set_new(&s.set) != 0) {
        weft_runtime_shutdown(rt);
        return 1;
    }
    if (weft_block_on(rt, &s.co.base) != 0)
        weft_future_drop(&s.co.base);
    weft_join_set_free(s.set);
    weft_runtime_shutdown(rt);
    return 0;
}

int main(int argc, char **argv)
{
    return lab_main(argc, argv, run);
}
