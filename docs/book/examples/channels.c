/* docs/book/examples/channels.c - the sample of channels.md.
 * The page shows the lines between the sample markers; tests/book/test_book_sample.sh checks
 * page and file agree, then runs it and compares its output with the page's. */
/* [begin sample] */
#include <stdio.h>
#include <weft/weft.h>

/* The producer: sends 1..5 into a bounded channel, then drops its sender. */
typedef struct producer {
    weft_async co;
    weft_mpsc_sender tx;
    int i;
    weft_mpsc_send send;
} producer;

static weft_poll producer_poll(weft_future *f, weft_context *cx)
{
    producer *p = (producer *)f;
    WEFT_ASYNC_BEGIN(&p->co);
    for (p->i = 1; p->i <= 5; p->i++) {
        weft_mpsc_send_init(&p->send, &p->tx, &p->i); /* the item is copied here */
        WEFT_AWAIT(&p->co, cx, &p->send);             /* waits while the channel is full */
        if (p->send.status == WEFT_ECLOSED)
            break;
        printf("producer: sent %d\n", p->i);
    }
    weft_mpsc_sender_drop(&p->tx); /* the last sender: the channel closes */
    WEFT_ASYNC_END(&p->co);
}

/* The consumer: adds up what it receives and replies with the sum on a oneshot. */
typedef struct consumer {
    weft_async co;
    weft_mpsc_receiver rx;
    weft_oneshot_sender reply;
    int item, sum;
    weft_mpsc_recv recv;
} consumer;

static weft_poll consumer_poll(weft_future *f, weft_context *cx)
{
    consumer *c = (consumer *)f;
    WEFT_ASYNC_BEGIN(&c->co);
    for (;;) {
        weft_mpsc_recv_init(&c->recv, &c->rx, &c->item);
        WEFT_AWAIT(&c->co, cx, &c->recv);
        if (c->recv.status == WEFT_ECLOSED)
            break; /* every sender is gone and the buffer is empty */
        printf("consumer: got %d\n", c->item);
        c->sum += c->item;
    }
    weft_mpsc_receiver_drop(&c->rx);
    weft_oneshot_send(&c->reply, &c->sum); /* consumes the oneshot sender */
    WEFT_ASYNC_END(&c->co);
}

static const weft_future_vtable producer_vt = {producer_poll, weft_async_drop, "producer"};
static const weft_future_vtable consumer_vt = {consumer_poll, weft_async_drop, "consumer"};

typedef struct root {
    weft_async co;
    weft_join_handle producer, consumer;
    weft_oneshot_receiver sum_rx;
    int sum;
    weft_oneshot_recv recv;
} root;

static weft_poll root_poll(weft_future *f, weft_context *cx)
{
    root *r = (root *)f;
    WEFT_ASYNC_BEGIN(&r->co);
    {
        producer p = {0};
        consumer c = {0};
        if (weft_mpsc_channel(&p.tx, &c.rx, 2, sizeof(int), "numbers") < 0 ||
            weft_oneshot_channel(&c.reply, &r->sum_rx, sizeof(int), "sum") < 0)
            WEFT_ASYNC_RETURN(&r->co);
        weft_async_init(&p.co, &producer_vt);
        weft_async_init(&c.co, &consumer_vt);
        /* The handles move into the tasks with the structs; p and c are not used again. */
        r->producer = weft_spawn(&p);
        r->consumer = weft_spawn(&c);
    }
    weft_oneshot_recv_init(&r->recv, &r->sum_rx, &r->sum);
    WEFT_AWAIT(&r->co, cx, &r->recv);
    printf("root: the sum is %d\n", r->sum);
    weft_oneshot_receiver_drop(&r->sum_rx);
    WEFT_AWAIT(&r->co, cx, &r->producer);
    WEFT_AWAIT(&r->co, cx, &r->consumer);
    WEFT_ASYNC_END(&r->co);
}

static const weft_future_vtable root_vt = {root_poll, weft_async_drop, "root"};

int main(void)
{
    weft_builder b = weft_builder_new_current_thread();
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
