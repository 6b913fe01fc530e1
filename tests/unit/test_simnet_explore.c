/* tests/unit/test_simnet_explore.c - the simulated network under exploration: seeded cuts
 * reach every split point of a frame, a seed replays byte for byte, and a select that drops a
 * half-read frame is found, shrunk and replayed.
 *
 * The programs are in simnet_programs.c (shared with the `weft explore` end-to-end test).
 */
#include <sys/stat.h>
#include <unistd.h>

#include "simnet_programs.h"
#include "simnet_test_util.h"

static char out_dir[256];

/* ---------------------------------------------------------------- split points */

static void test_simnet_every_split_point_reaches_the_decoder(void **state)
{
    (void)state;
    memset(&simnet_frames_res, 0, sizeof simnet_frames_res);
    /* Every run decodes both frames whatever the cuts (a wrong decode fails the run)... */
    sim_explore_clean("simnet_frames", simnet_prog_frames, NULL, "random", 1, 400, false);
    /* ... and across the seeds a read ended at every offset inside the 19 bytes: each
     * split point of both headers and bodies was fed to the decoder. */
    for (unsigned off = 1; off < SIMNET_FRAMES_LEN; off++)
        if (!simnet_frames_res.cut_at[off])
            fail_msg("no run cut the stream at offset %u", off);
    assert_true(simnet_frames_res.decoded);
}

/* ---------------------------------------------------------------- determinism */

typedef struct frames_trace {
    uint16_t reads[SIMNET_FRAMES_MAX_READS];
    unsigned n;
} frames_trace;

static frames_trace frames_once(uint64_t seed)
{
    weft_explore_opts o = {0};
    o.program = "simnet_frames";
    o.strategy = "random";
    o.seed = seed;
    o.iterations = 1;
    weft_explore_result res;
    assert_int_equal(weft_explore(&o, simnet_prog_frames, NULL, &res), 0);
    assert_false(res.failed);
    frames_trace t = {.n = simnet_frames_res.nreads};
    memcpy(t.reads, simnet_frames_res.reads, sizeof t.reads);
    return t;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char *buf = malloc(1 << 20);
    assert_non_null(buf);
    *len = fread(buf, 1, 1 << 20, f);
    fclose(f);
    return buf;
}

/* One run configured from the environment, as `WEFT_SCHED=random:SEED prog` would be,
 * writing its schedule to `path`. */
static void env_run(const char *spec, const char *path, int (*body)(void *), void *arg)
{
    setenv("WEFT_SCHED", spec, 1);
    setenv("WEFT_SCHEDULE_OUT", path, 1);
    assert_int_equal(body(arg), 0);
    unsetenv("WEFT_SCHED");
    unsetenv("WEFT_SCHEDULE_OUT");
}

static void test_simnet_same_seed_same_bytes(void **state)
{
    (void)state;
    /* The same seed cuts the stream at the same places... */
    frames_trace a = frames_once(7), b = frames_once(7);
    assert_int_equal(a.n, b.n);
    assert_memory_equal(a.reads, b.reads, sizeof a.reads);
    /* ... and other seeds cut it elsewhere. */
    unsigned differ = 0;
    for (uint64_t s = 1; s <= 20; s++) {
        frames_trace c = frames_once(s);
        differ += c.n != a.n || memcmp(c.reads, a.reads, sizeof a.reads) != 0;
    }
    assert_true(differ >= 10);

    /* A whole run's schedule, written twice from the same seed, is byte-identical. */
    char p1[300], p2[300];
    snprintf(p1, sizeof p1, "%s/one.schedule", out_dir);
    snprintf(p2, sizeof p2, "%s/two.schedule", out_dir);
    int fixed = 1;
    env_run("random:11", p1, simnet_prog_select_frame, &fixed);
    env_run("random:11", p2, simnet_prog_select_frame, &fixed);
    size_t l1, l2;
    char *s1 = slurp(p1, &l1), *s2 = slurp(p2, &l2);
    assert_true(l1 > 200);
    assert_int_equal(l1, l2);
    assert_memory_equal(s1, s2, l1);
    free(s1);
    free(s2);

    /* --check-determinism replays every schedule and compares the two runs step by step. */
    sim_explore_clean("simnet_frames", simnet_prog_frames, NULL, "random", 100, 50, true);
    sim_explore_clean("simnet_select_frame", simnet_prog_select_frame, &fixed, "random", 100,
                      50, true);
}

/* ---------------------------------------------------------------- the torn frame */

static void test_simnet_select_drops_half_read_frame(void **state)
{
    (void)state;
    int buggy = 0, fixed = 1;
    /* The default order never tears a frame: it takes a preemption. */
    sim_explore_clean("simnet_select_frame", simnet_prog_select_frame, &buggy, "fifo", 1, 1,
                      false);
    weft_explore_opts o = {0};
    o.program = "simnet_select_frame";
    o.strategy = "random";
    o.seed = 1;
    o.iterations = 2000;
    o.out_dir = out_dir;
    o.progress = getenv("WEFT_TEST_VERBOSE") ? stderr : NULL;
    weft_explore_result res;
    assert_int_equal(weft_explore(&o, simnet_prog_select_frame, &buggy, &res), 0);
    if (!res.failed)
        fail_msg("the torn frame was not found in %llu schedules",
                 (unsigned long long)res.schedules);
    if (strcmp(res.kind, "assertion") != 0 || !strstr(res.summary, "frame_intact"))
        fail_msg("expected the frame_intact assertion, got %s: %s", res.kind, res.summary);
    /* Shrunk to the one preemption that matters (the reader runs before the pinger and
     * waits mid-frame), and it still fails the same way. */
    assert_true(res.shrunk_preemptions <= res.failing_preemptions);
    assert_int_equal(res.shrunk_preemptions, 1);
    assert_true(res.shrunk_steps <= res.failing_steps);
    assert_true(res.shrunk_path[0] != '\0');
    weft_explore_result again;
    assert_int_equal(weft_replay_file(res.shrunk_path, "simnet_select_frame", false,
                                      simnet_prog_select_frame, &buggy, &again),
                     0);
    assert_true(again.failed);
    assert_string_equal(again.kind, "assertion");
    assert_string_equal(again.summary, res.summary);
    assert_int_equal(again.shrunk_steps, res.shrunk_steps);

    /* The cancel-safe reader survives every schedule tried. */
    sim_explore_clean("simnet_select_frame", simnet_prog_select_frame, &fixed, "random", 1,
                      500, false);
    sim_explore_clean("simnet_select_frame", simnet_prog_select_frame, &fixed, "pct:3", 1,
                      200, false);
}

static int setup(void **state)
{
    (void)state;
    snprintf(out_dir, sizeof out_dir, "/tmp/weft-simnet-test-%d", (int)getpid());
    mkdir(out_dir, 0777);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", out_dir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_simnet_every_split_point_reaches_the_decoder),
        cmocka_unit_test(test_simnet_same_seed_same_bytes),
        cmocka_unit_test(test_simnet_select_drops_half_read_frame),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
