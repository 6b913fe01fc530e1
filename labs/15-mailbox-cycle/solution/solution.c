/* Lab 15 - The mailbox cycle: the reference solution.
 *
 * The fix: the frontend and the store sent to each other through bounded mailboxes. With the
 * store's mailbox full the frontend waited to send a lookup, and so did not read its own
 * mailbox; with the frontend's mailbox full of client requests the store waited to send a
 * reply, and so did not read its mailbox either: a cycle of two full mailboxes. Now a reply
 * does not travel through the frontend's mailbox at all: each lookup carries a oneshot channel
 * (a reply slot that holds one message and never makes its sender wait), and the frontend
 * awaits that reply before it reads its next request, as in the request-response pattern of
 * the book. The store never waits on the frontend, so no cycle can form, and both mailboxes
 * stay bounded.
 * (Everything below the line is starter.c with that change.)
 * ------------------------------------------------------------------------------------------
 *
 * Two actors, each a task that owns its state and reads its mailbox, a bounded channel:
 *
 *   client --REQUEST--> [frontend mailbox] --LOOKUP--> [store mailbox]
 *                              ^                               |
 *                              +------------REPLY--------------+
 *
 * The frontend turns each client request into a lookup for the store; the store answers by
 * sending a reply back into the frontend's mailbox, where the frontend handles it like any
 * other message. Every mailbox is bounded (two messages), as the book says mailboxes should
 * be: a slow actor pushes back on whoever sends to it. Run it: `weft lab run 15`, then `weft
 * lab check 15`.
 *
 * Your job: every request is answered, in every schedule, and every mailbox stays bounded at
 * two messages.
 */
#include <string.h>

#include <lab.h>

#define REQUESTS 16
#define MAILBOX 2

enum { REQUEST, LOOKUP, REPLY };

typedef struct msg {
    int kind;
    int id;
    weft_oneshot_sender reply; /* LOOKUP: where the store answers (the message owns it) */
} msg;

static size_t mailbox_capacity[2]; /* as created: the frontend's, the store's */

/* ---------------------------------------------------------------- the store actor */

typedef struct store {
    weft_async co;
    weft_mpsc_receiver inbox;
    msg m;
    weft_mpsc_recv recv;
    weft_sleep work;
} store;

static weft_poll store_poll(weft_future *f, weft_context *cx)
{
    store *s = (store *)f;
    WEFT_ASYNC_BEGIN(&s->co);
    for (;;) {
        weft_mpsc_recv_init(&s->recv, &s->inbox, &s->m);
        WEFT_AWAIT(&s->co, cx, &s->recv);
        if (s->recv.status != 0)
            break; /* the frontend is gone */
        weft_sleep_init(&s->work, weft_ms(1 + weft_rand_below(3))); /* look it up */
        WEFT_AWAIT(&s->co, cx, &s->work);
        /* Answer in the lookup's own reply slot: it never waits, whatever the frontend does. */
        weft_oneshot_send(&s->m.reply, &s->m.id);
        weft_oneshot_sender_drop(&s->m.reply); /* if the frontend was gone */
    }
    weft_mpsc_receiver_drop(&s->inbox);
    WEFT_ASYNC_END(&s->co);
}

static void store_drop(weft_future *f)
{
    store *s = (store *)f;
    weft_async_drop(f);
    weft_oneshot_sender_drop(&s->m.reply);
    weft_mpsc_receiver_drop(&s->inbox);
}

static const weft_future_vtable store_vt = {store_poll, store_drop, "store"};

/* ---------------------------------------------------------------- the frontend actor */

typedef struct frontend {
    weft_async co;
    weft_mpsc_receiver inbox;
    weft_mpsc_sender store;    /* to send lookups */
    int answered;
    msg m;
    weft_mpsc_recv recv;
    weft_mpsc_send send;
    weft_oneshot_receiver reply;
    weft_oneshot_recv reply_recv;
    int reply_id;
} frontend;

static weft_poll frontend_poll(weft_future *f, weft_context *cx)
{
    frontend *a = (frontend *)f;
    WEFT_ASYNC_BEGIN(&a->co);
    while (a->answered < REQUESTS) {
        weft_mpsc_recv_init(&a->recv, &a->inbox, &a->m);
        WEFT_AWAIT(&a->co, cx, &a->recv);
        if (a->recv.status != 0)
            break;
        if (a->m.kind != REQUEST)
            continue;
        a->m.kind = LOOKUP;
        if (weft_oneshot_channel(&a->m.reply, &a->reply, sizeof(int), "reply") != 0)
            break;
        weft_mpsc_send_init(&a->send, &a->store, &a->m);
        a->m.reply.chan = NULL; /* the reply slot's sender travels with the message */
        WEFT_AWAIT(&a->co, cx, &a->send);
        if (a->send.status != 0) {
            msg *unsent = (msg *)a->send.item; /* not sent: the sender is still ours */
            weft_oneshot_sender_drop(&unsent->reply);
            weft_oneshot_receiver_drop(&a->reply);
            break;
        }
        weft_oneshot_recv_init(&a->reply_recv, &a->reply, &a->reply_id);
        WEFT_AWAIT(&a->co, cx, &a->reply_recv);
        weft_oneshot_receiver_drop(&a->reply);
        if (a->reply_recv.status == 0) {
            a->answered++;
            lab_count("answered", 1);
            lab_say("request %d answered", a->reply_id);
        }
    }
    weft_mpsc_sender_drop(&a->store);
    weft_mpsc_receiver_drop(&a->inbox);
    WEFT_ASYNC_END(&a->co);
}

static void frontend_drop(weft_future *f)
{
    frontend *a = (frontend *)f;
    weft_async_drop(f);
    weft_oneshot_receiver_drop(&a->reply);
    weft_mpsc_sender_drop(&a->store);
    weft_mpsc_receiver_drop(&a->inbox);
}

static const weft_future_vtable frontend_vt = {frontend_poll, frontend_drop, "frontend"};

/* ---------------------------------------------------------------- the client */

typedef struct client {
    weft_async co;
    weft_mpsc_sender frontend;
    int i;
    msg m;
    weft_sleep gap;
    weft_mpsc_send send;
} client;

static weft_poll client_poll(weft_future *f, weft_context *cx)
{
    client *c = (client *)f;
    WEFT_ASYNC_BEGIN(&c->co);
    for (c->i = 0; c->i < REQUESTS; c->i++) {
        weft_sleep_init(&c->gap, weft_ms(weft_rand_below(2)));
        WEFT_AWAIT(&c->co, cx, &c->gap);
        c->m = (msg){.kind = REQUEST, .id = c->i};
        weft_mpsc_send_init(&c->send, &c->frontend, &c->m);
        WEFT_AWAIT(&c->co, cx, &c->send);
    }
    weft_mpsc_sender_drop(&c->frontend);
    WEFT_ASYNC_END(&c->co);
}

static void client_drop(weft_future *f)
{
    client *c = (client *)f;
    weft_async_drop(f);
    weft_mpsc_sender_drop(&c->frontend);
}

static const weft_future_vtable client_vt = {client_poll, client_drop, "client"};

/* ---------------------------------------------------------------- main */

static void judge(void)
{
    lab_check("all-answered", lab_counter("answered") == REQUESTS,
              "%lld of %d requests answered", (long long)lab_counter("answered"), REQUESTS);
    lab_check("bounded-mailboxes",
              mailbox_capacity[0] <= MAILBOX && mailbox_capacity[1] <= MAILBOX,
              "mailbox capacities: frontend %zu, store %zu (at most %d each; SIZE_MAX means "
              "unbounded)",
              mailbox_capacity[0], mailbox_capacity[1], MAILBOX);
}

typedef struct app {
    weft_async co;
    weft_join_handle h[3];
} app;

static weft_poll app_poll(weft_future *f, weft_context *cx)
{
    app *a = (app *)f;
    WEFT_ASYNC_BEGIN(&a->co);
    WEFT_AWAIT(&a->co, cx, &a->h[0]);
    WEFT_AWAIT(&a->co, cx, &a->h[1]);
    WEFT_AWAIT(&a->co, cx, &a->h[2]);
    judge();
    WEFT_ASYNC_END(&a->co);
}

static void app_drop(weft_future *f)
{
    app *a = (app *)f;
    weft_async_drop(f);
    for (int i = 0; i < 3; i++) {
        weft_join_handle_abort(&a->h[i]);
        weft_join_handle_detach(&a->h[i]);
    }
}

static const weft_future_vtable app_vt = {app_poll, app_drop, "main"};

static int run(void *arg)
{
    (void)arg;
    lab_begin();
    weft_builder b = weft_builder_new_multi_thread();
    weft_runtime *rt;
    if (weft_runtime_new(&b, &rt) != 0)
        return 1;
    frontend fe = {0};
    store st = {0};
    client cl = {0};
    if (weft_mpsc_channel(&cl.frontend, &fe.inbox, MAILBOX, sizeof(msg), "frontend_mailbox") ||
        weft_mpsc_channel(&fe.store, &st.inbox, MAILBOX, sizeof(msg), "store_mailbox")) {
        weft_runtime_shutdown(rt);
        return 1;
    }
    mailbox_capacity[0] = weft_mpsc_sender_max_capacity(&cl.frontend);
    mailbox_capacity[1] = weft_mpsc_sender_max_capacity(&fe.store);
    weft_async_init(&fe.co, &frontend_vt);
    weft_async_init(&st.co, &store_vt);
    weft_async_init(&cl.co, &client_vt);
    app a;
    weft_async_init(&a.co, &app_vt);
    /* The handles were moved into the actors' states: spawning copies them into the tasks. */
    a.h[0] = weft_runtime_spawn_named(rt, "client", &cl);
    a.h[1] = weft_runtime_spawn_named(rt, "frontend", &fe);
    a.h[2] = weft_runtime_spawn_named(rt, "store", &st);
    if (weft_block_on(rt, &a.co.base) != 0)
        weft_future_drop(&a.co.base);
    weft_runtime_shutdown(rt);
    return 0;
}

int main(int argc, char **argv)
{
    return lab_main(argc, argv, run);
}
