/* Lab 13 - Nested checkout (follows docs/book/patterns.md).
 *
 * A service talks to its database through a pool of three connections: a semaphore with one
 * permit per connection and a free list of connection numbers. A request checks out a
 * connection, runs its main query, then calls load_prefs() to load the user's preferences,
 * and only then returns its connection. load_prefs is shared code: it checks out its own
 * connection, runs one query and returns it. Run it: `weft lab run 13`, then `weft lab
 * check 13`.
 *
 * Your job: every request is served, with both of its queries, in every schedule, with the
 * pool still at three connections.
 */
#include <string.h>

#include <lab.h>

#define DB_MAX_CONNECTIONS 3 /* what the database grants this service: not yours to change */
#define POOL 3
#define REQUESTS 9

/* ---------------------------------------------------------------- the pool */

typedef struct pool {
    weft_semaphore slots;   /* one permit per free connection */
    int free_list[POOL];    /* connection numbers not checked out */
    int nfree;
} pool;

static pool db;

/* checkout: wait for a connection; READY with `conn` (its number) and `permit` taken. */
typedef struct checkout {
    weft_async co;
    weft_semaphore_acquire acq;
    weft_semaphore_permit permit; /* the slot: give it back with checkin() */
    int conn;                     /* result */
} checkout;

static weft_poll checkout_poll(weft_future *f, weft_context *cx)
{
    checkout *c = (checkout *)f;
    WEFT_ASYNC_BEGIN(&c->co);
    weft_semaphore_acquire_init(&c->acq, &db.slots);
    WEFT_AWAIT(&c->co, cx, &c->acq);
    c->permit = weft_semaphore_permit_take(&c->acq.permit);
    c->conn = db.free_list[--db.nfree];
    lab_count("in-use", 1);
    WEFT_ASYNC_END(&c->co);
}

static const weft_future_vtable checkout_vt = {checkout_poll, weft_async_drop, "checkout"};

static void checkout_init(checkout *c)
{
    memset(c, 0, sizeof *c);
    weft_async_init(&c->co, &checkout_vt);
    c->conn = -1;
}

/* Give a checked-out connection back (safe on one that was never checked out). */
static void checkin(checkout *c)
{
    if (c->conn < 0)
        return;
    db.free_list[db.nfree++] = c->conn;
    c->conn = -1;
    lab_count("in-use", -1);
    weft_semaphore_permit_release(&c->permit);
}

/* ---------------------------------------------------------------- load_prefs (shared code) */

typedef struct load_prefs {
    weft_async co;
    int user;
    checkout conn;
    weft_sleep query;
} load_prefs;

static weft_poll load_prefs_poll(weft_future *f, weft_context *cx)
{
    load_prefs *l = (load_prefs *)f;
    WEFT_ASYNC_BEGIN(&l->co);
    checkout_init(&l->conn);
    WEFT_AWAIT(&l->co, cx, &l->conn);
    weft_sleep_init(&l->query, weft_ms(1)); /* SELECT prefs WHERE user = ? */
    WEFT_AWAIT(&l->co, cx, &l->query);
    lab_count("queries", 1);
    checkin(&l->conn);
    WEFT_ASYNC_END(&l->co);
}

static void load_prefs_drop(weft_future *f)
{
    load_prefs *l = (load_prefs *)f;
    weft_async_drop(f);
    checkin(&l->conn);
}

static const weft_future_vtable load_prefs_vt = {load_prefs_poll, load_prefs_drop, "load_prefs"};

static void load_prefs_init(load_prefs *l, int user)
{
    memset(l, 0, sizeof *l);
    weft_async_init(&l->co, &load_prefs_vt);
    l->user = user;
    l->conn.conn = -1;
}

/* ---------------------------------------------------------------- a request */

typedef struct request {
    weft_async co;
    int user;
    weft_duration arrives, main_query;
    weft_sleep wait;
    checkout conn;
    load_prefs prefs;
} request;

static weft_poll request_poll(weft_future *f, weft_context *cx)
{
    request *q = (request *)f;
    WEFT_ASYNC_BEGIN(&q->co);
    weft_sleep_init(&q->wait, q->arrives);
    WEFT_AWAIT(&q->co, cx, &q->wait);

    checkout_init(&q->conn);
    WEFT_AWAIT(&q->co, cx, &q->conn);
    weft_sleep_init(&q->wait, q->main_query); /* the request's own query */
    WEFT_AWAIT(&q->co, cx, &q->wait);
    lab_count("queries", 1);

    load_prefs_init(&q->prefs, q->user);
    WEFT_AWAIT(&q->co, cx, &q->prefs);

    checkin(&q->conn);
    lab_count("served", 1);
    lab_say("user %d served", q->user);
    WEFT_ASYNC_END(&q->co);
}

static void request_drop(weft_future *f)
{
    request *q = (request *)f;
    weft_async_drop(f);
    checkin(&q->conn);
}

static const weft_future_vtable request_vt = {request_poll, request_drop, "request"};

/* ---------------------------------------------------------------- main */

static void judge(void)
{
    lab_check("all-served", lab_counter("served") == REQUESTS, "%lld of %d requests served",
              (long long)lab_counter("served"), REQUESTS);
    lab_check("all-queries", lab_counter("queries") == 2 * REQUESTS,
              "%lld of %d queries run (a main query and a preferences query per request)",
              (long long)lab_counter("queries"), 2 * REQUESTS);
    lab_check("pool-size", lab_counter_peak("in-use") <= DB_MAX_CONNECTIONS && db.nfree == POOL,
              "at most %lld connections in use at once (the database allows %d), %d of %d "
              "back in the pool",
              (long long)lab_counter_peak("in-use"), DB_MAX_CONNECTIONS, db.nfree, POOL);
}

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
        request q = {.user = 100 + i,
                     .arrives = weft_ms(weft_rand_below(20)),
                     .main_query = weft_ms(2 + weft_rand_below(4))};
        weft_async_init(&q.co, &request_vt);
        q.conn.conn = -1;
        weft_join_set_spawn_named(s->set, "request", &q);
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
    memset(&db, 0, sizeof db);
    weft_semaphore_init(&db.slots, POOL, "db_pool");
    for (int i = 0; i < POOL; i++)
        db.free_list[db.nfree++] = i;

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
    weft_semaphore_destroy(&db.slots);
    return 0;
}

int main(int argc, char **argv)
{
    return lab_main(argc, argv, run);
}
