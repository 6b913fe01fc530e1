/* tests/unit/simnet_test_util.h - what the simulated network's tests share: a runtime with
 * I/O and time (deterministic whenever a run is armed by weft_explore), one deterministic run
 * of a body, addresses.
 *
 * Header-only (static functions), so each test binary stays one .c file plus this.
 */
#ifndef WEFT_TESTS_SIMNET_UTIL_H
#define WEFT_TESTS_SIMNET_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <weft/net.h>
#include <weft/sched.h>
#include <weft/simnet.h>
#include <weft/weft.h>

static inline weft_runtime *sim_rt(void)
{
    weft_builder b = weft_builder_new_multi_thread(); /* deterministic all the same */
    b.enable_io = true;
    b.enable_time = true;
    weft_runtime *rt = NULL;
    if (weft_runtime_new(&b, &rt) != 0)
        return NULL;
    return rt;
}

/* block_on root; on a stopped run drop what root still holds; shut down. 0, or 1 when the
 * runtime could not be built (a setup error fails the run as exit-status). */
static inline int sim_run(weft_future *root)
{
    weft_runtime *rt = sim_rt();
    if (!rt)
        return 1;
    int rc = weft_block_on(rt, root);
    if (rc != 0)
        weft_future_drop(root);
    weft_runtime_shutdown(rt);
    return 0;
}

static inline weft_sockaddr sim_addr(const char *text)
{
    weft_sockaddr a;
    if (weft_sockaddr_parse(&a, text) != 0) {
        fprintf(stderr, "bad address %s\n", text);
        abort();
    }
    return a;
}

/* Run body under `strategy` for `n` schedules from `seed`; fail the test on a failure. */
static inline void sim_explore_clean(const char *program, int (*body)(void *), void *arg,
                                     const char *strategy, uint64_t seed, uint64_t n,
                                     bool check_determinism)
{
    weft_explore_opts o = {0};
    o.program = program;
    o.strategy = strategy;
    o.seed = seed;
    o.iterations = n;
    o.check_determinism = check_determinism;
    o.progress = getenv("WEFT_TEST_VERBOSE") ? stderr : NULL;
    weft_explore_result res;
    assert_int_equal(weft_explore(&o, body, arg, &res), 0);
    if (res.failed)
        fail_msg("%s failed under %s (%s): %s", program, strategy, res.kind, res.summary);
    assert_int_equal(res.schedules, n);
}

static inline void sim_options(size_t buffer, bool split)
{
    weft_simnet_options o;
    weft_simnet_options_default(&o);
    o.buffer = buffer;
    o.split = split;
    assert_int_equal(weft_simnet_configure(&o), 0);
}

#endif
