/* Lab 08 - The re-entrant reader: the reference solution.
 *
 * The fix: `resolve` took the read lock a second time while the request already held it. The
 * rwlock is fair and write-preferring: once the reload queues for the write lock, every read
 * that arrives after it waits behind it, the second read of a request included, and the
 * reload waits for the request's first read guard. A wait-for cycle of two tasks. Now the
 * request lends the table it already holds to `resolve`, which no longer locks anything (it
 * became a plain function: nothing in it awaits). The request still holds one read guard from
 * its first lookup to its last, so it sees one version of the table.
 * (Everything below the line is starter.c with that change.)
 * ------------------------------------------------------------------------------------------
 *
 * A routing front end keeps its routing table in a `config` guarded by an async reader-writer
 * lock (weft_rwlock, Tokio's RwLock): request handlers read it, and an operator reloads it
 * now and then. A handler holds its read guard for the whole request so that it sees one
 * version of the table from start to end.
 *
 * Resolving a route follows aliases, which also need the table, so `resolve` takes the read
 * lock itself: "readers never block readers, so taking it twice is harmless". Run it: `weft lab
 * run 08`, then `weft lab check 08`.
 *
 * Your job: every request is served, every reload is applied, and each request still sees a
 * single version of the table from its first lookup to its last.
 */
#include <string.h>

#include <lab.h>

#define REQUESTS 8
#define RELOADS 3
#define ROUTES 4

/* ---------------------------------------------------------------- the routing table */

typedef struct config {
    int version;
    int alias_of[ROUTES]; /* route -> the route it is an alias of (itself when none) */
    int backend[ROUTES];  /* route -> backend number */
} config;

static weft_rwlock config_lock; /* guards `cfg` */
static config cfg;

/* resolve: the backend that serves `route`, following one level of alias. The caller holds
 * the read lock and lends us the table it guards: we never lock it a second time. */
static int resolve(const config *table, int route)
{
    return table->backend[table->alias_of[route]];
}

/* ---------------------------------------------------------------- a request */

typedef struct request {
    weft_async co;
    int id, route;
    weft_duration arrives, parse;
    int version;             /* the table version the request started with */
    weft_sleep wait;
    weft_rwlock_read rd;
    bool holds;
    int backend;
} request;

static weft_poll request_poll(weft_future *f, weft_context *cx)
{
    request *q = (request *)f;
    WEFT_ASYNC_BEGIN(&q->co);
    weft_sleep_init(&q->wait, q->arrives);
    WEFT_AWAIT(&q->co, cx, &q->wait);

    weft_rwlock_read_init(&q->rd, &config_lock);
    WEFT_AWAIT(&q->co, cx, &q->rd);
    q->holds = true;
    q->version = cfg.version;

    weft_sleep_init(&q->wait, q->parse); /* parse the request body (async) */
    WEFT_AWAIT(&q->co, cx, &q->wait);

    q->backend = resolve(&cfg, q->route); /* under the read guard we already hold */

    if (cfg.version != q->version)
        lab_count("torn", 1); /* the table changed under the request */
    lab_say("request %d: route %d -> backend %d (table v%d)", q->id, q->route, q->backend,
            q->version);
    weft_rwlock_read_guard_release(&q->rd.guard);
    q->holds = false;
    lab_count("served", 1);
    WEFT_ASYNC_END(&q->co);
}

static void request_drop(weft_future *f)
{
    request *q = (request *)f;
    weft_async_drop(f);
    if (q->holds)
        weft_rwlock_read_guard_release(&q->rd.guard);
    q->holds = false;
}

static const weft_future_vtable request_vt = {request_poll, request_drop, "request"};

/* ---------------------------------------------------------------- the operator's reloads */

typedef struct reload {
    weft_async co;
    weft_duration at;
    weft_sleep wait;
    weft_rwlock_write wr;
    bool holds;
} reload;

static weft_poll reload_poll(weft_future *f, weft_context *cx)
{
    reload *r = (reload *)f;
    WEFT_ASYNC_BEGIN(&r->co);
    weft_sleep_init(&r->wait, r->at);
    WEFT_AWAIT(&r->co, cx, &r->wait);
    weft_rwlock_write_init(&r->wr, &config_lock);
    WEFT_AWAIT(&r->co, cx, &r->wr);
    r->holds = true;
    cfg.version++;
    for (int i = 0; i < ROUTES; i++)
        cfg.backend[i] = (cfg.backend[i] + 1) % 10;
    lab_say("reload: table v%d", cfg.version);
    weft_rwlock_write_guard_release(&r->wr.guard);
    r->holds = false;
    lab_count("reloads", 1);
    WEFT_ASYNC_END(&r->co);
}

static void reload_drop(weft_future *f)
{
    reload *r = (reload *)f;
    weft_async_drop(f);
    if (r->holds)
        weft_rwlock_write_guard_release(&r->wr.guard);
    r->holds = false;
}

static const weft_future_vtable reload_vt = {reload_poll, reload_drop, "reload"};

/* The verdict, judged inside the runtime once every request and reload is done. */
static void judge(void)
{
    lab_check("all-served", lab_counter("served") == REQUESTS, "%lld of %d requests served",
              (long long)lab_counter("served"), REQUESTS);
    lab_check("all-reloads", lab_counter("reloads") == RELOADS, "%lld of %d reloads applied",
              (long long)lab_counter("reloads"), RELOADS);
    lab_check("one-version", lab_counter("torn") == 0,
              "%lld requests saw the table change while they were being served",
              (long long)lab_counter("torn"));
}

/* ---------------------------------------------------------------- main */

typedef struct server {
    weft_async co;
    weft_join_set *set;
    weft_join_next next;
} server;

static weft_poll server_poll(weft_future *f, weft_context *cx)
{
    server *s = (server *)f;
    WEFT_ASYNC_BEGIN(&s->co);
    for (int i = 0; i < REQUESTS; i++) {
        request q = {.id = i + 1,
                     .route = (int)weft_rand_below(ROUTES),
                     .arrives = weft_ms(weft_rand_below(40)),
                     .parse = weft_ms(1 + weft_rand_below(3))};
        weft_async_init(&q.co, &request_vt);
        weft_join_set_spawn_named(s->set, "request", &q);
    }
    for (int i = 0; i < RELOADS; i++) {
        reload r = {.at = weft_ms(weft_rand_below(40))};
        weft_async_init(&r.co, &reload_vt);
        weft_join_set_spawn_named(s->set, "reload", &r);
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

static const weft_future_vtable server_vt = {server_poll, weft_async_drop, "server"};

static int run(void *arg)
{
    (void)arg;
    lab_begin();
    memset(&cfg, 0, sizeof cfg);
    for (int i = 0; i < ROUTES; i++) {
        cfg.alias_of[i] = i % 2 ? i - 1 : i; /* odd routes are aliases of the even ones */
        cfg.backend[i] = i;
    }
    weft_rwlock_init(&config_lock, "config");

    weft_builder b = weft_builder_new_multi_thread();
    weft_runtime *rt;
    if (weft_runtime_new(&b, &rt) != 0)
        return 1;
    server s;
    weft_async_init(&s.co, &server_vt);
    if (weft_join_set_new(&s.set) != 0) {
        weft_runtime_shutdown(rt);
        return 1;
    }
    if (weft_block_on(rt, &s.co.base) != 0)
        weft_future_drop(&s.co.base);
    weft_join_set_free(s.set);
    weft_runtime_shutdown(rt);
    weft_rwlock_destroy(&config_lock);

    return 0;
}

int main(int argc, char **argv)
{
    return lab_main(argc, argv, run);
}
