/* docs/book/examples/patterns_retry.c - the retry and circuit-breaker sample of patterns.md.
 * The page shows the lines between the sample markers; tests/book/test_book_sample.sh checks
 * page and file agree, then runs it (under WEFT_SCHED=fifo, see the page) and compares its
 * output with the page's. */
/* [begin sample] */
#include <stdio.h>
#include <weft/weft.h>

static weft_instant start;

static unsigned long ms_now(void)
{
    return (unsigned long)((weft_instant_now() - start) / weft_ms(1));
}

/* A service that is down for 100 ms after `start` (each part of the sample restarts the
 * outage). The call itself is instant here. */
static int call_service(void)
{
    return weft_instant_now() - start < weft_ms(100) ? WEFT_EIO : 0;
}

/* ---- a circuit breaker: after 2 failures in a row, fail fast for 40 ms, then try once */
typedef enum { CLOSED, OPEN, HALF_OPEN } breaker_state;
static const char *const state_name[] = {"closed", "open", "half-open"};

typedef struct breaker {
    breaker_state state;
    int failures;         /* consecutive failures while closed */
    weft_instant retry_at; /* when OPEN ends */
} breaker;

/* May a call go through? An open breaker turns half-open when its pause is over. */
static bool breaker_allow(breaker *b)
{
    if (b->state == OPEN && weft_instant_now() >= b->retry_at)
        b->state = HALF_OPEN; /* one trial call */
    return b->state != OPEN;
}

static void breaker_record(breaker *b, bool ok)
{
    if (ok) {
        b->state = CLOSED;
        b->failures = 0;
    } else if (b->state == HALF_OPEN || ++b->failures >= 2) {
        b->state = OPEN;
        b->retry_at = weft_instant_now() + weft_ms(40);
    }
}

typedef struct root {
    weft_async co;
    int attempt;
    weft_duration backoff;
    weft_sleep wait;
    breaker br;
    weft_interval every;
    weft_interval_tick tick;
} root;

static weft_poll root_poll(weft_future *f, weft_context *cx)
{
    root *r = (root *)f;
    WEFT_ASYNC_BEGIN(&r->co);
    start = weft_instant_now();
    printf("-- retry with exponential backoff and jitter\n");
    r->backoff = weft_ms(10);
    for (r->attempt = 1; r->attempt <= 6; r->attempt++) {
        if (call_service() == 0) {
            printf("+%3lu ms  attempt %d: ok\n", ms_now(), r->attempt);
            break;
        }
        /* Jitter: a random part, so that many clients do not retry in lockstep. */
        weft_duration delay = r->backoff + weft_ms(weft_rand_below(r->backoff / weft_ms(2)));
        printf("+%3lu ms  attempt %d: failed, next in %lu ms\n", ms_now(), r->attempt,
               (unsigned long)(delay / weft_ms(1)));
        weft_sleep_init(&r->wait, delay);
        WEFT_AWAIT(&r->co, cx, &r->wait);
        r->backoff *= 2;
    }

    printf("-- a circuit breaker, one request every 15 ms\n");
    start = weft_instant_now();
    weft_interval_init(&r->every, weft_ms(15));
    for (r->attempt = 1; r->attempt <= 9; r->attempt++) {
        weft_interval_tick_init(&r->tick, &r->every);
        WEFT_AWAIT(&r->co, cx, &r->tick);
        if (!breaker_allow(&r->br)) {
            printf("+%3lu ms  %-9s  rejected without calling\n", ms_now(), "open");
            continue;
        }
        const char *was = state_name[r->br.state];
        bool ok = call_service() == 0;
        breaker_record(&r->br, ok);
        printf("+%3lu ms  %-9s  call %-6s -> %s\n", ms_now(), was, ok ? "ok" : "failed",
               state_name[r->br.state]);
    }
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
    root r = {0};
    weft_async_init(&r.co, &root_vt);
    int err = weft_block_on(rt, &r.co.base);
    weft_runtime_shutdown(rt);
    return err < 0;
}
/* [end sample] */
