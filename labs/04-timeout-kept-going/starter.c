/* Lab 04 - the timeout that kept going.  (Edit this file; `weft lab check 04` grades it.)
 *
 * A payments client sends 8 transfers to a bank. The bank's API is slow now and then, so the
 * client gives each attempt 60 ms and retries when the deadline passes:
 *
 *   client     for each transfer: spawn an `attempt` task, await its join handle inside a
 *              60 ms weft_timeout; on WEFT_EELAPSED, log it and try again (up to 10 times).
 *   attempt    calls the bank: waits for the bank (20 to 50 ms, or 100 to 200 ms when the
 *              bank is slow), the bank applies the transfer to the ledger (ledger_apply), and
 *              the confirmation takes 10 ms more to come back.
 *
 * Customers see some transfers charged twice or three times. Find out why, and fix the client
 * so that every transfer is applied exactly once and nothing keeps working on an attempt the
 * client has given up on. The bank and its ledger (ledger_apply) are not yours to change, but
 * read what its API offers.
 *
 * Checks (printed at the end of every run):
 *   exactly-once    every transfer applied to the ledger exactly once
 *   no-stray-work   no attempt reaches the bank after the client gave up on it
 *   all-confirmed   every transfer confirmed to the client
 */
#include <string.h>

#include <lab.h>

#define TRANSFERS 8
#define MAX_ATTEMPTS 10
#define DEADLINE weft_ms(60)

/* ---------------------------------------------------------------- the bank (not yours) */

static int applied[TRANSFERS];      /* times each transfer changed the balance */
static long balance;                /* the account's balance, in cents */
static bool key_used[TRANSFERS + 1]; /* idempotency keys the bank has seen */

/* Apply a transfer of `amount` cents. `key` is an idempotency key: 0 means none; any other
 * value is remembered, and a second request with the same key is acknowledged without
 * being applied again (the bank's answer to clients that retry). Keys are 1..TRANSFERS. */
static void ledger_apply(int key, int transfer, int amount)
{
    if (key > 0 && key <= TRANSFERS) {
        if (key_used[key])
            return;
        key_used[key] = true;
    }
    applied[transfer]++;
    balance += amount;
}

/* What the grader watches: attempts the client abandoned, and those that reached the bank. */
static bool abandoned[TRANSFERS][MAX_ATTEMPTS];
static int stray_calls;

static int amount_of(int transfer)
{
    return 1000 + 100 * transfer;
}

/* ---------------------------------------------------------------- attempt */

typedef struct attempt {
    weft_async co;
    int transfer, n; /* which transfer, which attempt (0-based) */
    weft_sleep wait;
} attempt;

static weft_poll attempt_poll(weft_future *f, weft_context *cx)
{
    attempt *a = (attempt *)f;
    WEFT_ASYNC_BEGIN(&a->co);
    /* The bank is slow about one time in three. */
    if (weft_rand_below(100) < 35)
        weft_sleep_init(&a->wait, weft_ms(100 + weft_rand_below(101)));
    else
        weft_sleep_init(&a->wait, weft_ms(20 + weft_rand_below(31)));
    WEFT_AWAIT(&a->co, cx, &a->wait);

    if (abandoned[a->transfer][a->n])
        stray_calls++;
    ledger_apply(0, a->transfer, amount_of(a->transfer));

    weft_sleep_init(&a->wait, weft_ms(10)); /* the confirmation on its way back */
    WEFT_AWAIT(&a->co, cx, &a->wait);
    WEFT_ASYNC_END(&a->co);
}

static const weft_future_vtable attempt_vt = {attempt_poll, weft_async_drop, "attempt"};

/* ---------------------------------------------------------------- client */

typedef struct client {
    weft_async co;
    int t, n;
    int confirmed;
    weft_join_handle handle;
    weft_timeout deadline;
} client;

static weft_poll client_poll(weft_future *f, weft_context *cx)
{
    client *c = (client *)f;
    WEFT_ASYNC_BEGIN(&c->co);
    for (c->t = 0; c->t < TRANSFERS; c->t++) {
        for (c->n = 0; c->n < MAX_ATTEMPTS; c->n++) {
            attempt a = {.transfer = c->t, .n = c->n};
            weft_async_init(&a.co, &attempt_vt);
            c->handle = weft_spawn_named("attempt", &a);
            weft_timeout_init(&c->deadline, DEADLINE, &c->handle.base);
            WEFT_AWAIT(&c->co, cx, &c->deadline);
            if (c->deadline.status == 0)
                break;
            abandoned[c->t][c->n] = true;
            lab_say("transfer %d: attempt %d timed out, retrying", c->t, c->n);
        }
        if (c->n < MAX_ATTEMPTS) {
            c->confirmed++;
            lab_say("transfer %d confirmed", c->t);
        }
    }
    WEFT_ASYNC_END(&c->co);
}

/* weft_async_drop drops the pending timeout, which drops (detaches) the handle it holds. */
static const weft_future_vtable client_vt = {client_poll, weft_async_drop, "client"};

/* ---------------------------------------------------------------- main and the checks */

static void judge(const client *c)
{
    int once = 0, first_bad = -1;
    long want = 0;
    for (int t = 0; t < TRANSFERS; t++) {
        want += amount_of(t);
        if (applied[t] == 1)
            once++;
        else if (first_bad < 0)
            first_bad = t;
    }
    lab_check("exactly-once", once == TRANSFERS,
              "%d of %d transfers applied exactly once (transfer %d: %d times)", once,
              TRANSFERS, first_bad, first_bad >= 0 ? applied[first_bad] : 1);
    lab_check("no-stray-work", stray_calls == 0,
              "%d abandoned attempts went on to call the bank", stray_calls);
    lab_check("all-confirmed", c->confirmed == TRANSFERS,
              "%d of %d transfers confirmed to the client (balance %ld.%02ld, expected "
              "%ld.%02ld)",
              c->confirmed, TRANSFERS, balance / 100, balance % 100, want / 100, want % 100);
}

typedef struct payments {
    weft_async co;
    client c;
    weft_sleep linger;
} payments;

static weft_poll payments_poll(weft_future *f, weft_context *cx)
{
    payments *p = (payments *)f;
    WEFT_ASYNC_BEGIN(&p->co);
    WEFT_AWAIT(&p->co, cx, &p->c);
    /* Stay up longer than any attempt can take, so that whatever is still running shows
     * its effects before the checks. */
    weft_sleep_init(&p->linger, weft_ms(300));
    WEFT_AWAIT(&p->co, cx, &p->linger);
    judge(&p->c);
    WEFT_ASYNC_END(&p->co);
}

static const weft_future_vtable payments_vt = {payments_poll, weft_async_drop, "payments"};

static int run(void *arg)
{
    (void)arg;
    lab_begin();
    memset(applied, 0, sizeof applied);
    memset(key_used, 0, sizeof key_used);
    memset(abandoned, 0, sizeof abandoned);
    balance = 0;
    stray_calls = 0;
    weft_builder b = weft_builder_new_current_thread();
    b.enable_time = true;
    weft_runtime *rt;
    if (weft_runtime_new(&b, &rt) != 0)
        return 2;
    payments p;
    memset(&p, 0, sizeof p);
    weft_async_init(&p.co, &payments_vt);
    weft_async_init(&p.c.co, &client_vt);
    if (weft_block_on(rt, &p.co.base) != 0)
        weft_future_drop(&p.co.base); /* the run was stopped: cancel what main still holds */
    weft_runtime_shutdown(rt);
    return 0;
}

int main(int argc, char **argv)
{
    return lab_main(argc, argv, run);
}
