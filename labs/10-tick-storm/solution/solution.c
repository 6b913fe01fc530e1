/* Lab 10 - The tick storm: the reference solution.
 *
 * The fix: the interval kept its default missed-tick behaviour, BURST: after a slow provider
 * call it delivers every missed tick back to back, each one refills the bucket, and the
 * notifier sends as fast as the provider answers. Now it uses DELAY: one tick at once, then
 * the 10 ms rhythm restarts from there, so the bucket never refills faster than one token per
 * period. (SKIP passes too: it fires once, then keeps to the original grid.)
 * (Everything below the line is starter.c with that change.)
 * ------------------------------------------------------------------------------------------
 *
 * A notifier sends a batch of push notifications through a provider that enforces a rate
 * limit: at most 3 requests in any 20 ms, and clients that burst past it get banned for the
 * day. The notifier paces itself with a token bucket refilled by an interval: one token every
 * 10 ms, and each notification spends one. Most provider calls take a millisecond or three,
 * but now and then one takes far longer (the provider is busy), and while the notifier waits
 * for it the interval keeps ticking. Run it: `weft lab run 10`, then `weft lab check 10`.
 *
 * Your job: never exceed the provider's limit, and still send at the full configured rate
 * whenever the provider is fast: the batch must finish no later than a pacer that restarts
 * its 10 ms rhythm after each slow call would (plus 20 ms of slack).
 */
#include <string.h>

#include <lab.h>

#define NOTIFICATIONS 40
#define PERIOD weft_ms(10)
#define WINDOW weft_ms(20)
#define WINDOW_MAX 3

static weft_duration call_cost[NOTIFICATIONS]; /* what each provider call took */
static weft_duration finished;                 /* when the last call returned */

static void judge(void);

/* ---------------------------------------------------------------- the provider */

/* One call: usually quick, sometimes the provider is busy. */
static weft_duration provider_cost(void)
{
    if (weft_rand_below(6) == 0)
        return weft_ms(60 + weft_rand_below(120));
    return weft_ms(1 + weft_rand_below(3));
}

/* ---------------------------------------------------------------- the notifier */

typedef struct notifier {
    weft_async co;
    int i;
    int tokens;              /* the bucket: at most one token, refilled by the interval */
    weft_interval refill;
    weft_interval_tick tick;
    weft_sleep call;         /* the provider call in flight */
} notifier;

static weft_poll notifier_poll(weft_future *f, weft_context *cx)
{
    notifier *n = (notifier *)f;
    WEFT_ASYNC_BEGIN(&n->co);
    weft_interval_init(&n->refill, PERIOD);
    n->refill.missed = WEFT_MISSED_TICK_DELAY; /* never pay missed ticks back in a burst */
    for (n->i = 0; n->i < NOTIFICATIONS; n->i++) {
        while (n->tokens == 0) {
            weft_interval_tick_init(&n->tick, &n->refill);
            WEFT_AWAIT(&n->co, cx, &n->tick);
            n->tokens = 1;
        }
        n->tokens--;
        lab_mark("sent");
        call_cost[n->i] = provider_cost();
        weft_sleep_init(&n->call, call_cost[n->i]);
        WEFT_AWAIT(&n->co, cx, &n->call);
        if (call_cost[n->i] > weft_ms(50))
            lab_say("notification %d: the provider took %llu ms", n->i,
                    (unsigned long long)(call_cost[n->i] / 1000000u));
    }
    finished = lab_now();
    judge();
    WEFT_ASYNC_END(&n->co);
}

static const weft_future_vtable notifier_vt = {notifier_poll, weft_async_drop, "notifier"};

/* ---------------------------------------------------------------- judging */

/* When a pacer that restarts its rhythm after a late tick (and sends the moment it may)
 * would have finished, given the same provider delays: the deadline for "full rate". */
static weft_duration paced_finish(void)
{
    const weft_duration tolerance = weft_ms(5); /* a tick this late still counts as on time */
    weft_duration sched = 0, end = 0;
    for (int i = 0; i < NOTIFICATIONS; i++) {
        weft_duration fire = end > sched ? end : sched;
        weft_duration next = fire <= sched + tolerance ? sched + PERIOD : fire + PERIOD;
        end = fire + call_cost[i];
        sched = next;
    }
    return end;
}

/* The verdict, judged inside the runtime when the batch is done. */
static void judge(void)
{
    const weft_duration *sent;
    size_t ns = lab_marks("sent", &sent);
    size_t worst = 0;
    weft_duration worst_at = 0;
    for (size_t i = 0; i < ns; i++) {
        size_t j = i;
        while (j < ns && sent[j] < sent[i] + WINDOW)
            j++;
        if (j - i > worst) {
            worst = j - i;
            worst_at = sent[i];
        }
    }
    lab_check("all-sent", ns == NOTIFICATIONS, "%zu of %d notifications sent", ns,
              NOTIFICATIONS);
    lab_check("rate-limit", worst <= WINDOW_MAX,
              "at most %zu requests in a 20 ms window (starting at %llu ms); the provider "
              "allows %d",
              worst, (unsigned long long)(worst_at / 1000000u), WINDOW_MAX);
    weft_duration deadline = paced_finish() + 2 * PERIOD;
    lab_check("full-rate", ns == NOTIFICATIONS && finished <= deadline,
              "the batch took %llu ms; a pacer at the full rate needs %llu ms",
              (unsigned long long)(finished / 1000000u),
              (unsigned long long)(deadline / 1000000u));
}

static int run(void *arg)
{
    (void)arg;
    lab_begin();
    memset(call_cost, 0, sizeof call_cost);
    finished = 0;
    weft_builder b = weft_builder_new_current_thread();
    b.enable_time = true;
    weft_runtime *rt;
    if (weft_runtime_new(&b, &rt) != 0)
        return 1;
    notifier n = {0};
    weft_async_init(&n.co, &notifier_vt);
    if (weft_block_on(rt, &n.co.base) != 0)
        weft_future_drop(&n.co.base);
    weft_runtime_shutdown(rt);

    return 0;
}

int main(int argc, char **argv)
{
    return lab_main(argc, argv, run);
}
