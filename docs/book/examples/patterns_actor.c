/* docs/book/examples/patterns_actor.c - the actor sample of patterns.md.
 * The page shows the lines between the sample markers; tests/book/test_book_sample.sh checks
 * page and file agree, then runs it and compares its output with the page's. */
/* [begin sample] */
#include <stdio.h>
#include <weft/weft.h>

/* The messages the account actor understands. Each carries where to send the reply. */
typedef enum { DEPOSIT, WITHDRAW, BALANCE } op_kind;

typedef struct account_msg {
    op_kind op;
    int amount;
    weft_oneshot_sender reply; /* the actor answers with the balance, or -1 if refused */
} account_msg;

/* The actor owns the balance: no lock, because no other task can touch it. */
typedef struct account_actor {
    weft_async co;
    weft_mpsc_receiver inbox;
    int balance;
    account_msg msg;
    weft_mpsc_recv recv;
} account_actor;

static weft_poll account_poll(weft_future *f, weft_context *cx)
{
    account_actor *a = (account_actor *)f;
    WEFT_ASYNC_BEGIN(&a->co);
    for (;;) {
        weft_mpsc_recv_init(&a->recv, &a->inbox, &a->msg);
        WEFT_AWAIT(&a->co, cx, &a->recv);
        if (a->recv.status == WEFT_ECLOSED)
            break; /* every handle to the actor is gone */
        int answer = a->balance;
        if (a->msg.op == DEPOSIT)
            answer = a->balance += a->msg.amount;
        else if (a->msg.op == WITHDRAW)
            answer = a->msg.amount <= a->balance ? (a->balance -= a->msg.amount) : -1;
        weft_oneshot_send(&a->msg.reply, &answer); /* the caller may have gone: fine */
    }
    weft_mpsc_receiver_drop(&a->inbox);
    WEFT_ASYNC_END(&a->co);
}

static const weft_future_vtable account_vt = {account_poll, weft_async_drop, "account"};

/* A client's call: send a request, await the reply. A small async function of its own. */
typedef struct account_call {
    weft_async co;
    weft_mpsc_sender *actor;
    account_msg msg;
    weft_oneshot_receiver reply_rx;
    int result;
    weft_mpsc_send send;
    weft_oneshot_recv recv;
} account_call;

static weft_poll account_call_poll(weft_future *f, weft_context *cx)
{
    account_call *c = (account_call *)f;
    WEFT_ASYNC_BEGIN(&c->co);
    c->result = -2;
    if (weft_oneshot_channel(&c->msg.reply, &c->reply_rx, sizeof(int), "reply") < 0)
        WEFT_ASYNC_RETURN(&c->co);
    weft_mpsc_send_init(&c->send, c->actor, &c->msg); /* the reply sender travels in it */
    WEFT_AWAIT(&c->co, cx, &c->send);
    if (c->send.status == 0) {
        weft_oneshot_recv_init(&c->recv, &c->reply_rx, &c->result);
        WEFT_AWAIT(&c->co, cx, &c->recv);
    } else {
        weft_oneshot_sender_drop(&c->msg.reply); /* not sent: it is still ours */
    }
    weft_oneshot_receiver_drop(&c->reply_rx);
    WEFT_ASYNC_END(&c->co);
}

static void account_call_drop(weft_future *f)
{
    account_call *c = (account_call *)f;
    if (c->co.awaiting == &c->send.base)
        weft_oneshot_sender_drop(&c->msg.reply);
    weft_async_drop(f);
    weft_oneshot_receiver_drop(&c->reply_rx);
}

static const weft_future_vtable account_call_vt = {account_call_poll, account_call_drop, "call"};

static void account_call_init(account_call *c, weft_mpsc_sender *actor, op_kind op, int amount)
{
    *c = (account_call){.actor = actor, .msg = {.op = op, .amount = amount}};
    weft_async_init(&c->co, &account_call_vt);
}

typedef struct root {
    weft_async co;
    weft_mpsc_sender actor;
    weft_join_handle actor_task;
    account_call call;
} root;

static weft_poll root_poll(weft_future *f, weft_context *cx)
{
    root *r = (root *)f;
    WEFT_ASYNC_BEGIN(&r->co);
    {
        account_actor a = {0};
        if (weft_mpsc_channel(&r->actor, &a.inbox, 16, sizeof(account_msg), "account") < 0)
            WEFT_ASYNC_RETURN(&r->co);
        weft_async_init(&a.co, &account_vt);
        r->actor_task = weft_spawn_named("account actor", &a);
    }
    account_call_init(&r->call, &r->actor, DEPOSIT, 100);
    WEFT_AWAIT(&r->co, cx, &r->call);
    printf("deposit 100  -> balance %d\n", r->call.result);
    account_call_init(&r->call, &r->actor, WITHDRAW, 30);
    WEFT_AWAIT(&r->co, cx, &r->call);
    printf("withdraw 30  -> balance %d\n", r->call.result);
    account_call_init(&r->call, &r->actor, WITHDRAW, 500);
    WEFT_AWAIT(&r->co, cx, &r->call);
    printf("withdraw 500 -> %s\n", r->call.result < 0 ? "refused" : "done");
    account_call_init(&r->call, &r->actor, BALANCE, 0);
    WEFT_AWAIT(&r->co, cx, &r->call);
    printf("balance      -> %d\n", r->call.result);
    weft_mpsc_sender_drop(&r->actor); /* the last handle: the actor's loop ends */
    WEFT_AWAIT(&r->co, cx, &r->actor_task);
    printf("actor stopped: %s\n", r->actor_task.status == 0 ? "cleanly" : "with an error");
    WEFT_ASYNC_END(&r->co);
}

static const weft_future_vtable root_vt = {root_poll, weft_async_drop, "root"};

int main(void)
{
    weft_builder b = weft_builder_new_multi_thread();
    b.worker_threads = 2; /* the actor and its callers may run on different workers */
    weft_runtime *rt;
    if (weft_runtime_new(&b, &rt) < 0)
        return 1;
    root r;
    weft_async_init(&r.co, &root_vt);
    int err = weft_block_on(rt, &r.co.base);
    weft_runtime_shutdown(rt);
    return err < 0;
}
/* [end sample] */
