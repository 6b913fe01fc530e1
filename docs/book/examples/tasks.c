/* docs/book/examples/tasks.c - the sample of tasks.md.
 * The page shows the lines between the sample markers; tests/book/test_book_sample.sh checks
 * page and file agree, then runs it and compares its output with the page's. */
/* [begin sample] */
#include <stdio.h>
#include <weft/weft.h>

/* async fn fetch(id: u64, ms: u64) -> u64 { sleep(ms).await; id * 100 } */
typedef struct fetch {
    weft_async co;
    int id;
    weft_sleep nap;
} fetch;

static weft_poll fetch_poll(weft_future *f, weft_context *cx)
{
    fetch *q = (fetch *)f;
    WEFT_ASYNC_BEGIN(&q->co);
    WEFT_AWAIT(&q->co, cx, &q->nap);
    weft_task_return(cx, q->id * 100);
    WEFT_ASYNC_END(&q->co);
}

static const weft_future_vtable fetch_vt = {fetch_poll, weft_async_drop, "fetch"};

static fetch fetch_new(int id, uint64_t ms)
{
    fetch q = {.id = id};
    weft_async_init(&q.co, &fetch_vt);
    weft_sleep_init(&q.nap, weft_ms(ms));
    return q;
}

/* A blocking function: runs on a blocking-pool thread, never on a worker. */
static int checksum(void *arg, intptr_t *value)
{
    const char *text = arg;
    uintptr_t sum = 0;
    for (const char *p = text; *p; p++)
        sum = sum * 31 + (unsigned char)*p;
    *value = (intptr_t)(sum % 1000);
    return 0;
}

typedef struct root {
    weft_async co;
    weft_join_set *set;
    weft_join_next next;
    weft_join_handle blocking;
    int64_t ids[3];
} root;

static weft_poll root_poll(weft_future *f, weft_context *cx)
{
    root *r = (root *)f;
    WEFT_ASYNC_BEGIN(&r->co);
    if (weft_join_set_new(&r->set) < 0)
        WEFT_ASYNC_RETURN(&r->co);
    {
        /* Spawned in the order 1, 2, 3; they finish in the order of their sleeps. */
        const uint64_t ms[3] = {30, 10, 20};
        for (int i = 0; i < 3; i++) {
            fetch q = fetch_new(i + 1, ms[i]);
            r->ids[i] = weft_join_set_spawn_named(r->set, "fetch", &q);
        }
    }
    printf("spawned %zu tasks\n", weft_join_set_len(r->set));
    for (;;) {
        weft_join_set_join_next_init(&r->next, r->set);
        WEFT_AWAIT(&r->co, cx, &r->next);
        if (r->next.status == WEFT_EEMPTY)
            break; /* Tokio: join_next() returned None */
        int which = r->next.id == (weft_task_id)r->ids[0] ? 1
                    : r->next.id == (weft_task_id)r->ids[1] ? 2 : 3;
        printf("fetch %d finished: %ld\n", which, (long)r->next.value);
    }
    weft_join_set_free(r->set);

    r->blocking = weft_spawn_blocking(checksum, "the weft book");
    WEFT_AWAIT(&r->co, cx, &r->blocking);
    printf("checksum on the blocking pool: status %d, value %ld\n", r->blocking.status,
           (long)r->blocking.value);
    WEFT_ASYNC_END(&r->co);
}

static const weft_future_vtable root_vt = {root_poll, weft_async_drop, "root"};

int main(void)
{
    weft_builder b = weft_builder_new_current_thread();
    b.enable_time = true;
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
