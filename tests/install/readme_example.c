#include <stdio.h>
#include <weft/weft.h>

/* An async function: its locals live in a struct, and each await is a resume point. */
typedef struct {
    weft_async co;  /* first: the struct *is* a future */
    int i;
    weft_sleep nap; /* the awaited future is embedded: no allocation per await */
} ticker;

static weft_poll ticker_poll(weft_future *f, weft_context *cx)
{
    ticker *t = (ticker *)f;
    WEFT_ASYNC_BEGIN(&t->co);
    for (t->i = 1; t->i <= 3; t->i++) {
        weft_sleep_init(&t->nap, weft_ms(10));
        WEFT_AWAIT(&t->co, cx, &t->nap); /* returns PENDING here until the timer fires */
        printf("tick %d\n", t->i);
    }
    WEFT_ASYNC_END(&t->co);
}

static const weft_future_vtable ticker_vt = {ticker_poll, weft_async_drop, "ticker"};

int main(void)
{
    weft_builder b = weft_builder_new_current_thread();
    b.enable_time = true;
    weft_runtime *rt;
    if (weft_runtime_new(&b, &rt) < 0)
        return 1;

    ticker t;
    weft_async_init(&t.co, &ticker_vt);
    weft_block_on(rt, &t.co.base); /* like Runtime::block_on(ticker()) */
    weft_runtime_shutdown(rt);
    return 0;
}
