/* Lab 14 - Synchronized retries: the reference solution.
 *
 * The fix, two parts:
 *   1. Full jitter. The clients restarted together and computed the same backoff, so every
 *      retry of every client landed in the same few milliseconds: a stampede each time the
 *      upstream came back, which knocked it over again. Each client now sleeps a random part
 *      of its backoff (weft_rand, so the deterministic scheduler controls it): the retries
 *      spread over the whole backoff window.
 *   2. One trial at a time. The half-open breaker let every caller through until the first
 *      result came back, which was a stampede of its own. Now half-open admits a single trial
 *      call and rejects the others (they back off) until that trial's outcome closes or
 *      reopens the breaker.
 * (Everything below the line is starter.c with that change.)
 * ------------------------------------------------------------------------------------------
 *
 * Twelve clients restart together after a deploy and connect to an upstream that is still
 * down for its first 100 ms. Each client retries with exponential backoff (10 ms, 20 ms, 40
 * ms... at most 200 ms), behind a shared circuit breaker: after three failures in a row the
 * breaker opens and rejects calls for 50 ms; then it goes half-open to let a trial call find
 * out whether the upstream is back.
 *
 * The upstream serves at most 6 requests in any 10 ms; more than that and it falls over again
 * for 50 ms. It came back at 100 ms, as planned, and fell over at once under a wall of
 * retries that all arrived in the same couple of milliseconds. Run it: `weft lab run 14`,
 * then `weft lab check 14`.
 *
 * Your job: every client gets through within 3 s, the upstream is never sent more than it can
 * take once it is up, and the half-open breaker lets exactly one trial call through at a time.
 */
#include <string.h>

#include <lab.h>

#define CLIENTS 12
#define UPSTREAM_CAPACITY 6          /* requests in any 10 ms */
#define UPSTREAM_WINDOW weft_ms(10)
#define UPSTREAM_BOOT weft_ms(100)   /* down until then */
#define UPSTREAM_RECOVERY weft_ms(50) /* down that long after an overload */
#define CALL_TIME weft_ms(2)
#define DEADLINE weft_secs(3)

/* ---------------------------------------------------------------- the upstream (not yours) */

typedef struct upstream {
    weft_duration down_until;
    weft_duration arrivals[256];  /* recent request times, oldest first */
    int narrivals;
} upstream;

static upstream up;

/* A request arrives now: does the upstream serve it? */
static bool upstream_accepts(void)
{
    weft_duration now = lab_now();
    if (now < up.down_until)
        return false;
    int recent = 0;
    for (int i = 0; i < up.narrivals; i++)
        if (up.arrivals[i] + UPSTREAM_WINDOW > now)
            recent++;
    if (up.narrivals == 256) {
        memmove(up.arrivals, up.arrivals + 128, 128 * sizeof up.arrivals[0]);
        up.narrivals = 128;
    }
    up.arrivals[up.narrivals++] = now;
    if (recent + 1 > UPSTREAM_CAPACITY) {
        lab_count("overloads", 1);
        lab_say("upstream: %d requests in 10 ms, falling over", recent + 1);
        up.down_until = now + UPSTREAM_RECOVERY;
        return false;
    }
    return true;
}

/* ---------------------------------------------------------------- the circuit breaker */

enum { CLOSED, OPEN, HALF_OPEN };

typedef struct breaker {
    int state;
    int failures;            /* in a row, while closed */
    weft_duration opened_at;
    int trials;              /* calls admitted while half-open and not yet finished */
} breaker;

static breaker brk;

/* May a call go through now? */
static bool breaker_allow(void)
{
    if (brk.state == OPEN && lab_now() >= brk.opened_at + weft_ms(50))
        brk.state = HALF_OPEN;
    if (brk.state == OPEN)
        return false;
    if (brk.state == HALF_OPEN) {
        if (brk.trials > 0)
            return false; /* a trial is in flight: wait for its verdict */
        brk.trials++;
    }
    return true;
}

/* The outcome of a call that breaker_allow let through. */
static void breaker_record(bool ok, bool was_trial)
{
    if (was_trial)
        brk.trials--;
    if (ok) {
        brk.state = CLOSED;
        brk.failures = 0;
        return;
    }
    if (brk.state == HALF_OPEN || ++brk.failures >= 3) {
        brk.state = OPEN;
        brk.opened_at = lab_now();
        brk.failures = 0;
    }
}

/* ---------------------------------------------------------------- a client */

typedef struct client {
    weft_async co;
    int id, attempt;
    bool trial, ok;
    weft_duration backoff;
    weft_sleep wait;
} client;

static weft_duration backoff_for(int attempt)
{
    weft_duration d = weft_ms(10) << (attempt < 5 ? attempt : 5);
    return d < weft_ms(200) ? d : weft_ms(200);
}

static weft_poll client_poll(weft_future *f, weft_context *cx)
{
    client *c = (client *)f;
    WEFT_ASYNC_BEGIN(&c->co);
    weft_sleep_init(&c->wait, weft_ms(weft_rand_below(3))); /* the restart */
    WEFT_AWAIT(&c->co, cx, &c->wait);
    for (c->attempt = 0;; c->attempt++) {
        if (breaker_allow()) {
            c->trial = brk.state == HALF_OPEN;
            c->ok = upstream_accepts();
            weft_sleep_init(&c->wait, CALL_TIME);
            WEFT_AWAIT(&c->co, cx, &c->wait);
            breaker_record(c->ok, c->trial);
            if (c->ok)
                break;
        }
        /* Full jitter: anywhere in the backoff window, so clients that failed together do
         * not come back together. */
        c->backoff = weft_ms(1) + weft_rand_below(backoff_for(c->attempt));
        weft_sleep_init(&c->wait, c->backoff);
        WEFT_AWAIT(&c->co, cx, &c->wait);
    }
    lab_count("through", 1);
    lab_mark("through");
    lab_say("client %d: through after %d attempts", c->id, c->attempt + 1);
    WEFT_ASYNC_END(&c->co);
}

static const weft_future_vtable client_vt = {client_poll, weft_async_drop, "client"};

/* ---------------------------------------------------------------- main */

static void judge(void)
{
    const weft_duration *at;
    size_t n = lab_marks("through", &at);
    weft_duration last = n ? at[n - 1] : 0;
    lab_check("all-through", n == CLIENTS && last <= DEADLINE,
              "%zu of %d clients got through, the last at %llu ms (deadline %llu ms)", n,
              CLIENTS, (unsigned long long)(last / 1000000u),
              (unsigned long long)(DEADLINE / 1000000u));
    lab_check("no-stampede", lab_counter("overloads") == 0,
              "the upstream was sent more than %d requests in 10 ms %lld times",
              UPSTREAM_CAPACITY, (long long)lab_counter("overloads"));
    lab_check("one-trial", lab_counter("extra-trials") == 0,
              "the half-open breaker let %lld calls through beside its trial call",
              (long long)lab_counter("extra-trials"));
}

/* The clients never give up on their own: the run ends at the deadline if they are stuck. */
typedef struct fleet {
    weft_async co;
    weft_join_set *set;
    weft_join_next next;
    weft_sleep deadline;
    weft_future *branches[2];
    weft_select sel;
} fleet;

static weft_poll fleet_poll(weft_future *f, weft_context *cx)
{
    fleet *m = (fleet *)f;
    WEFT_ASYNC_BEGIN(&m->co);
    for (int i = 0; i < CLIENTS; i++) {
        client c = {.id = i + 1};
        weft_async_init(&c.co, &client_vt);
        weft_join_set_spawn_named(m->set, "client", &c);
    }
    weft_sleep_init(&m->deadline, DEADLINE + weft_ms(1));
    for (;;) {
        weft_join_set_join_next_init(&m->next, m->set);
        m->branches[0] = &m->next.base;
        m->branches[1] = &m->deadline.base;
        weft_select_biased_init(&m->sel, m->branches, 2);
        WEFT_AWAIT(&m->co, cx, &m->sel);
        if (m->sel.winner == 1 || m->next.status == WEFT_EEMPTY)
            break;
    }
    weft_join_set_abort_all(m->set); /* clients still retrying at the deadline */
    for (;;) {
        weft_join_set_join_next_init(&m->next, m->set);
        WEFT_AWAIT(&m->co, cx, &m->next);
        if (m->next.status == WEFT_EEMPTY)
            break;
    }
    judge();
    WEFT_ASYNC_END(&m->co);
}

static const weft_future_vtable fleet_vt = {fleet_poll, weft_async_drop, "fleet"};

static int run(void *arg)
{
    (void)arg;
    lab_begin();
    memset(&up, 0, sizeof up);
    up.down_until = UPSTREAM_BOOT;
    memset(&brk, 0, sizeof brk);
    weft_builder b = weft_builder_new_multi_thread();
    weft_runtime *rt;
    if (weft_runtime_new(&b, &rt) != 0)
        return 1;
    fleet m;
    weft_async_init(&m.co, &fleet_vt);
    if (weft_join_set_new(&m.set) != 0) {
        weft_runtime_shutdown(rt);
        return 1;
    }
    if (weft_block_on(rt, &m.co.base) != 0)
        weft_future_drop(&m.co.base);
    weft_join_set_free(m.set);
    weft_runtime_shutdown(rt);
    return 0;
}

int main(int argc, char **argv)
{
    return lab_main(argc, argv, run);
}
