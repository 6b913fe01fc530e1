/* Lab 12 - The limit that didn't limit: the reference solution.
 *
 * THE FIX: the permit belongs to the connection, not to the accept loop. The starter released
 * it right after spawning the handler, so the semaphore counted "connections being accepted",
 * not "connections being served": every handler still running was no longer counted, and a
 * burst of clients got more than 3 handlers at once (and the database refused the 4th).
 *
 * Here the permit is moved into the handler (weft_semaphore_permit_take), which releases it
 * when it has finished with the connection, and also when it is dropped (cancelled), so a
 * cancelled handler does not leak its slot. The accept loop still acquires before accepting,
 * so a 4th client waits in the listener's backlog until a handler finishes.
 */
#include <string.h>

#include <weft/net.h>

#include <lab.h>

#define CLIENTS 8
#define LIMIT 3

static weft_sockaddr server_addr;
static int db_refusals;

/* ---------------------------------------------------------------- the database
 *
 * A query takes 10..30 ms. More than LIMIT at once and the database refuses the extra one. */
static bool db_begin(void)
{
    lab_count("db-connections", 1);
    if (lab_counter("db-connections") > LIMIT) {
        db_refusals++;
        lab_say("database: too many connections (%lld), refused",
                (long long)lab_counter("db-connections"));
        return false;
    }
    return true;
}

static void db_end(void)
{
    lab_count("db-connections", -1);
}

/* ---------------------------------------------------------------- a client (do not change) */

typedef struct client {
    weft_async co;
    uint32_t id;
    weft_sleep arrive;
    weft_tcp_connect conn;
    weft_io_write_all wr;
    weft_io_read_exact rx;
    unsigned char req[4], rep[4];
} client;

static weft_poll client_poll(weft_future *f, weft_context *cx)
{
    client *c = (client *)f;
    WEFT_ASYNC_BEGIN(&c->co);
    weft_sleep_init(&c->arrive, weft_ms(weft_rand_below(6)));
    WEFT_AWAIT(&c->co, cx, &c->arrive);
    weft_tcp_connect_init(&c->conn, &server_addr);
    WEFT_AWAIT(&c->co, cx, &c->conn);
    if (c->conn.status != 0)
        WEFT_ASYNC_RETURN(&c->co);
    memcpy(c->req, &c->id, 4);
    weft_io_write_all_init(&c->wr, weft_tcp_stream_io(c->conn.stream), c->req, 4);
    WEFT_AWAIT(&c->co, cx, &c->wr);
    weft_io_read_exact_init(&c->rx, weft_tcp_stream_io(c->conn.stream), c->rep, 4);
    WEFT_AWAIT(&c->co, cx, &c->rx);
    if (c->rx.status == 0) {
        uint32_t v;
        memcpy(&v, c->rep, 4);
        if (v == c->id * 7 + 1)
            lab_count("answered", 1);
    }
    weft_tcp_stream_close(c->conn.stream);
    c->conn.stream = NULL;
    WEFT_ASYNC_END(&c->co);
}

static void client_drop(weft_future *f)
{
    client *c = (client *)f;
    weft_async_drop(f);
    weft_tcp_stream_close(c->conn.stream);
}

static const weft_future_vtable client_vt = {client_poll, client_drop, "client"};

/* ---------------------------------------------------------------- serving one connection */

typedef struct handler {
    weft_async co;
    weft_tcp_stream *s;
    weft_semaphore_permit permit; /* the connection's slot: released when it is done */
    bool in_db;
    weft_io_read_exact rx;
    weft_sleep query;
    weft_io_write_all wr;
    unsigned char req[4], rep[4];
} handler;

static weft_poll handler_poll(weft_future *f, weft_context *cx)
{
    handler *h = (handler *)f;
    WEFT_ASYNC_BEGIN(&h->co);
    lab_count("serving", 1);
    weft_io_read_exact_init(&h->rx, weft_tcp_stream_io(h->s), h->req, 4);
    WEFT_AWAIT(&h->co, cx, &h->rx);
    if (h->rx.status == 0 && (h->in_db = db_begin())) {
        weft_sleep_init(&h->query, weft_ms(10 + weft_rand_below(21)));
        WEFT_AWAIT(&h->co, cx, &h->query);
        {
            uint32_t id;
            memcpy(&id, h->req, 4);
            id = id * 7 + 1;
            memcpy(h->rep, &id, 4);
        }
        weft_io_write_all_init(&h->wr, weft_tcp_stream_io(h->s), h->rep, 4);
        WEFT_AWAIT(&h->co, cx, &h->wr);
    }
    if (h->in_db)
        db_end();
    h->in_db = false;
    lab_count("serving", -1);
    weft_tcp_stream_close(h->s);
    h->s = NULL;
    weft_semaphore_permit_release(&h->permit);
    WEFT_ASYNC_END(&h->co);
}

static void handler_drop(weft_future *f)
{
    handler *h = (handler *)f;
    weft_async_drop(f);
    weft_tcp_stream_close(h->s);
    weft_semaphore_permit_release(&h->permit);
}

static const weft_future_vtable handler_vt = {handler_poll, handler_drop, "handler"};

/* ---------------------------------------------------------------- the server */

typedef struct server {
    weft_async co;
    weft_tcp_listener *l;
    weft_semaphore limit;
    weft_join_handle clients[CLIENTS], handlers[CLIENTS];
    int i;
    weft_semaphore_acquire acq;
    weft_tcp_accept acc;
    int setup_failed;
} server;

static weft_poll server_poll(weft_future *f, weft_context *cx)
{
    server *s = (server *)f;
    WEFT_ASYNC_BEGIN(&s->co);
    {
        weft_sockaddr any;
        weft_sockaddr_parse(&any, "127.0.0.1:0");
        if (weft_tcp_listener_bind(&s->l, &any) != 0 ||
            weft_tcp_listener_local_addr(s->l, &server_addr) != 0) {
            s->setup_failed = 1;
            WEFT_ASYNC_RETURN(&s->co);
        }
    }
    for (s->i = 0; s->i < CLIENTS; s->i++) {
        client c = {.id = (uint32_t)s->i + 1};
        weft_async_init(&c.co, &client_vt);
        s->clients[s->i] = weft_spawn_named("client", &c);
    }
    for (s->i = 0; s->i < CLIENTS; s->i++) {
        /* A slot first, then the connection that will use it. */
        weft_semaphore_acquire_init(&s->acq, &s->limit);
        WEFT_AWAIT(&s->co, cx, &s->acq);
        weft_tcp_accept_init(&s->acc, s->l);
        WEFT_AWAIT(&s->co, cx, &s->acc);
        if (s->acc.status != 0) {
            weft_semaphore_permit_release(&s->acq.permit);
            break;
        }
        handler h = {.s = s->acc.stream, .permit = weft_semaphore_permit_take(&s->acq.permit)};
        weft_async_init(&h.co, &handler_vt);
        s->handlers[s->i] = weft_spawn_named("handler", &h);
    }
    for (s->i = 0; s->i < CLIENTS; s->i++) {
        WEFT_AWAIT(&s->co, cx, &s->clients[s->i]);
        WEFT_AWAIT(&s->co, cx, &s->handlers[s->i]);
    }

    lab_check("limit-held", lab_counter_peak("serving") <= LIMIT,
              "%lld connections were served at once (the limit is %d); the database refused "
              "%d queries",
              (long long)lab_counter_peak("serving"), LIMIT, db_refusals);
    lab_check("all-answered", lab_counter("answered") == CLIENTS, "%lld of %d clients answered",
              (long long)lab_counter("answered"), CLIENTS);
    lab_check("uses-the-limit", lab_counter_peak("serving") == LIMIT,
              "at most %lld connections were ever served at once: the server may serve %d",
              (long long)lab_counter_peak("serving"), LIMIT);
    WEFT_ASYNC_END(&s->co);
}

static void server_drop(weft_future *f)
{
    server *s = (server *)f;
    weft_async_drop(f);
    for (int i = 0; i < CLIENTS; i++) {
        weft_join_handle_detach(&s->clients[i]);
        weft_join_handle_detach(&s->handlers[i]);
    }
}

static const weft_future_vtable server_vt = {server_poll, server_drop, "server"};

/* ---------------------------------------------------------------- run */

static int run(void *arg)
{
    (void)arg;
    lab_begin();
    db_refusals = 0;
    weft_builder b = weft_builder_new_current_thread();
    b.enable_io = true;
    b.enable_time = true;
    weft_runtime *rt;
    if (weft_runtime_new(&b, &rt) != 0)
        return 1;
    server s = {0};
    weft_async_init(&s.co, &server_vt);
    if (weft_semaphore_init(&s.limit, LIMIT, "connections") != 0) {
        weft_runtime_shutdown(rt);
        return 1;
    }
    if (weft_block_on(rt, &s.co.base) != 0)
        weft_future_drop(&s.co.base);
    weft_tcp_listener_close(s.l);
    weft_runtime_shutdown(rt);
    weft_semaphore_destroy(&s.limit);
    return s.setup_failed;
}

int main(int argc, char **argv)
{
    return lab_main(argc, argv, run);
}
