/* docs/book/examples/shared_state.c - the sample of shared-state.md.
 * The page shows the lines between the sample markers; tests/book/test_book_sample.sh checks
 * page and file agree, then runs it and compares its output with the page's. */
/* [begin sample] */
#include <stdio.h>
#include <weft/weft.h>

typedef struct account {
    weft_mutex lock; /* guards balance: touch it only while holding the lock */
    int balance;
} account;

/* Read the balance, "write it to the database" (a 5 ms sleep), store balance + 10. */
typedef struct deposit {
    weft_async co;
    account *acct;
    int id;
    bool use_lock;
    int seen;
    weft_mutex_lock lk;
    weft_sleep db_write;
} deposit;

static weft_poll deposit_poll(weft_future *f, weft_context *cx)
{
    deposit *d = (deposit *)f;
    WEFT_ASYNC_BEGIN(&d->co);
    if (d->use_lock) {
        weft_mutex_lock_init(&d->lk, &d->acct->lock);
        WEFT_AWAIT(&d->co, cx, &d->lk); /* queue behind the holder; the worker runs others */
    }
    d->seen = d->acct->balance;
    weft_sleep_init(&d->db_write, weft_ms(5));
    WEFT_AWAIT(&d->co, cx, &d->db_write); /* other tasks run here */
    d->acct->balance = d->seen + 10;
    printf("deposit %d: saw %d, stored %d\n", d->id, d->seen, d->acct->balance);
    if (d->use_lock)
        weft_mutex_guard_release(&d->lk.guard);
    WEFT_ASYNC_END(&d->co);
}

/* Cancelled while holding the guard? Release it, as Rust drops a MutexGuard. */
static void deposit_drop(weft_future *f)
{
    deposit *d = (deposit *)f;
    if (d->co.awaiting == &d->db_write.base && d->use_lock)
        weft_mutex_guard_release(&d->lk.guard);
    weft_async_drop(f);
}

static const weft_future_vtable deposit_vt = {deposit_poll, deposit_drop, "deposit"};

typedef struct root {
    weft_async co;
    account acct;
    bool use_lock;
    weft_join_handle h[3];
    int i;
} root;

static weft_poll root_poll(weft_future *f, weft_context *cx)
{
    root *r = (root *)f;
    WEFT_ASYNC_BEGIN(&r->co);
    for (r->i = 0; r->i < 3; r->i++) {
        deposit d = {.acct = &r->acct, .id = r->i + 1, .use_lock = r->use_lock};
        weft_async_init(&d.co, &deposit_vt);
        r->h[r->i] = weft_spawn(&d);
    }
    for (r->i = 0; r->i < 3; r->i++)
        WEFT_AWAIT(&r->co, cx, &r->h[r->i]);
    printf("%s: balance %d (expected 30)\n", r->use_lock ? "with the mutex" : "without a lock",
           r->acct.balance);
    WEFT_ASYNC_END(&r->co);
}

static const weft_future_vtable root_vt = {root_poll, weft_async_drop, "root"};

static int run(weft_runtime *rt, bool use_lock)
{
    root r = {.use_lock = use_lock};
    weft_mutex_init(&r.acct.lock, "account");
    weft_async_init(&r.co, &root_vt);
    int err = weft_block_on(rt, &r.co.base);
    weft_mutex_destroy(&r.acct.lock);
    return err < 0;
}

int main(void)
{
    weft_builder b = weft_builder_new_current_thread();
    b.enable_time = true;
    weft_runtime *rt;
    if (weft_runtime_new(&b, &rt) < 0)
        return 1;
    int failed = run(rt, false) || run(rt, true);
    weft_runtime_shutdown(rt);
    return failed;
}
/* [end sample] */
