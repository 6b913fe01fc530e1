/* tests/io/test_io_det.c - cancel safety of framing under the deterministic scheduler.
 *
 * A client writes length-prefixed frames in two halves with a virtual pause between them; a
 * server reads each frame under a 1 ms timeout and simply tries again when it elapses, so the
 * read is dropped in the middle of a frame again and again, at points the strategy chooses.
 * With weft_frame_next (the partial frame kept in the connection object) every schedule
 * delivers every frame intact. The same server written with two read_exacts (header, then
 * body) loses the header bytes it had read when the timeout drops it, and exploration finds
 * the torn frame at once: the check that the good version passes is one that can fail.
 */
#include <stdio.h>
#include <stdlib.h>

#include "io_test_util.h"
#include <weft/codec.h>
#include <weft/sched.h>

enum { FRAMES = 12, PAYLOAD = 5 };

static void frame_bytes(int i, unsigned char out[4 + PAYLOAD])
{
    out[0] = out[1] = out[2] = 0;
    out[3] = PAYLOAD;
    for (int k = 0; k < PAYLOAD; k++)
        out[4 + k] = (unsigned char)('a' + (i + k) % 26);
}

/* ---------------------------------------------------------------- client */

typedef struct client {
    weft_async co;
    weft_io_stream *s;
    int i;
    unsigned char frame[4 + PAYLOAD];
    weft_io_write_all wa;
    weft_sleep nap;
    weft_io_shutdown sd;
} client;

static weft_poll client_poll(weft_future *f, weft_context *cx)
{
    client *c = (client *)f;
    WEFT_ASYNC_BEGIN(&c->co);
    for (c->i = 0; c->i < FRAMES; c->i++) {
        frame_bytes(c->i, c->frame);
        weft_io_write_all_init(&c->wa, c->s, c->frame, 3);
        WEFT_AWAIT(&c->co, cx, &c->wa);
        weft_sleep_init(&c->nap, weft_ms(1 + (uint64_t)(c->i % 3)));
        WEFT_AWAIT(&c->co, cx, &c->nap);
        weft_io_write_all_init(&c->wa, c->s, c->frame + 3, sizeof c->frame - 3);
        WEFT_AWAIT(&c->co, cx, &c->wa);
    }
    weft_io_shutdown_init(&c->sd, c->s);
    WEFT_AWAIT(&c->co, cx, &c->sd);
    WEFT_ASYNC_END(&c->co);
}

static const weft_future_vtable client_vt = {client_poll, weft_async_drop, "client"};

/* ---------------------------------------------------------------- servers */

typedef struct server {
    weft_async co;
    weft_io_stream *s;
    weft_framed_read in;
    int got;
    bool torn;
    unsigned char want[4 + PAYLOAD];
    weft_frame_next next;
    weft_timeout t;
    /* the buggy variant */
    unsigned char hdr[4], body[64];
    weft_io_read_exact re;
} server;

static void server_drop(weft_future *f)
{
    weft_async_drop(f);
    weft_framed_read_free(&((server *)f)->in);
}

/* The cancel-safe server: frame_next under a timeout, retried. */
static weft_poll good_server_poll(weft_future *f, weft_context *cx)
{
    server *s = (server *)f;
    WEFT_ASYNC_BEGIN(&s->co);
    weft_framed_read_init(&s->in, s->s, weft_codec_length_u32(64), 4);
    for (;;) {
        weft_frame_next_init(&s->next, &s->in);
        weft_timeout_init(&s->t, weft_ms(1), &s->next.base);
        WEFT_AWAIT(&s->co, cx, &s->t);
        if (s->t.status == WEFT_EELAPSED)
            continue;
        if (s->next.status < 0)
            break;
        frame_bytes(s->got, s->want);
        if (!weft_assert(s->next.len == PAYLOAD &&
                         memcmp(s->next.frame, s->want + 4, PAYLOAD) == 0))
            break;
        s->got++;
    }
    weft_assert(s->next.status == WEFT_ECLOSED && s->got == FRAMES);
    weft_framed_read_free(&s->in);
    WEFT_ASYNC_END(&s->co);
}

/* The classic mistake: header and body with read_exact, under the same retrying timeout. */
static weft_poll torn_server_poll(weft_future *f, weft_context *cx)
{
    server *s = (server *)f;
    WEFT_ASYNC_BEGIN(&s->co);
    while (s->got < FRAMES) {
        weft_io_read_exact_init(&s->re, s->s, s->hdr, 4);
        weft_timeout_init(&s->t, weft_ms(1), &s->re.base);
        WEFT_AWAIT(&s->co, cx, &s->t);
        if (s->t.status == WEFT_EELAPSED)
            continue; /* the header bytes read so far are lost here */
        if (!weft_assert(s->re.status == 0 && s->hdr[0] == 0 && s->hdr[1] == 0 &&
                         s->hdr[2] == 0 && s->hdr[3] == PAYLOAD))
            break;
        weft_io_read_exact_init(&s->re, s->s, s->body, PAYLOAD);
        WEFT_AWAIT(&s->co, cx, &s->re);
        frame_bytes(s->got, s->want);
        if (!weft_assert(s->re.status == 0 && memcmp(s->body, s->want + 4, PAYLOAD) == 0))
            break;
        s->got++;
    }
    WEFT_ASYNC_END(&s->co);
}

static const weft_future_vtable good_server_vt = {good_server_poll, server_drop, "server"};
static const weft_future_vtable torn_server_vt = {torn_server_poll, server_drop, "server"};

/* ---------------------------------------------------------------- the program */

typedef struct pair_root {
    weft_future base;
    weft_join_handle h[2];
    bool done[2];
} pair_root;

static weft_poll pair_root_poll(weft_future *f, weft_context *cx)
{
    pair_root *r = (pair_root *)f;
    for (int i = 0; i < 2; i++)
        if (!r->done[i] && weft_future_poll(&r->h[i].base, cx) == WEFT_READY)
            r->done[i] = true;
    return r->done[0] && r->done[1] ? WEFT_READY : WEFT_PENDING;
}

static void pair_root_drop(weft_future *f)
{
    pair_root *r = (pair_root *)f;
    for (int i = 0; i < 2; i++)
        if (!r->done[i])
            weft_join_handle_detach(&r->h[i]);
}

static const weft_future_vtable pair_root_vt = {pair_root_poll, pair_root_drop, "root"};

static int program(void *arg)
{
    bool cancel_safe = *(bool *)arg;
    weft_builder b = weft_builder_new_current_thread();
    weft_runtime *rt;
    if (weft_runtime_new(&b, &rt) < 0)
        return 1;
    weft_duplex_options o = weft_duplex_options_default();
    o.capacity = 16;
    o.max_chunk = 2;
    weft_duplex *a, *bb;
    if (weft_duplex_new(&o, &a, &bb) < 0)
        return 1;
    client c = {.s = weft_duplex_stream(a)};
    weft_async_init(&c.co, &client_vt);
    server s = {.s = weft_duplex_stream(bb)};
    weft_async_init(&s.co, cancel_safe ? &good_server_vt : &torn_server_vt);
    pair_root root = {.base = {&pair_root_vt}};
    root.h[0] = weft_runtime_spawn(rt, &c);
    root.h[1] = weft_runtime_spawn(rt, &s);
    int rc = weft_block_on(rt, &root.base);
    if (rc != 0)
        weft_future_drop(&root.base); /* a failed run stops block_on half-way */
    weft_runtime_shutdown(rt);
    weft_duplex_free(a);
    weft_duplex_free(bb);
    return rc == 0 ? 0 : 1;
}

static weft_explore_opts opts(uint64_t iterations)
{
    weft_explore_opts o = {0};
    o.program = "test_io_det";
    o.strategy = "random";
    o.seed = 1;
    o.iterations = iterations;
    o.no_shrink = true;
    o.progress = getenv("WEFT_TEST_VERBOSE") ? stderr : NULL;
    return o;
}

static void test_io_det_frame_next_survives_timeouts(void **state)
{
    (void)state;
    bool cancel_safe = true;
    weft_explore_opts o = opts(300);
    weft_explore_result res;
    assert_int_equal(weft_explore(&o, program, &cancel_safe, &res), 0);
    if (res.failed)
        fail_msg("frame_next lost bytes: %s: %s", res.kind, res.summary);
    assert_int_equal(res.schedules, 300);
}

static void test_io_det_read_exact_tears_frames(void **state)
{
    (void)state;
    bool cancel_safe = false;
    weft_explore_opts o = opts(300);
    weft_explore_result res;
    assert_int_equal(weft_explore(&o, program, &cancel_safe, &res), 0);
    assert_true(res.failed);
    assert_string_equal(res.kind, "assertion");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_io_det_frame_next_survives_timeouts),
        cmocka_unit_test(test_io_det_read_exact_tears_frames),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
