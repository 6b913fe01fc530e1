/* Lab 11 - Torn frames: the reference solution.
 *
 * THE FIX: the partial frame must live in the connection, not in the select branch. The
 * starter read each frame with two read_exacts inside an async function that was a select
 * branch; when the flush timer won while the branch waited for the rest of a frame, select
 * dropped the branch, and the bytes it had already taken from the socket (the header, part of
 * the payload) went with it. The next read started in the middle of the frame: torn.
 *
 * Here the collector owns a weft_framed_read (weft/codec.h) with the length-prefixed codec:
 * the bytes of a frame that has not fully arrived stay in the framed reader's buffer, and the
 * select branch is weft_frame_next, which is cancel-safe: dropping it loses nothing, and the
 * next frame_next continues from the same byte. The flush keeps its 5 ms deadline (the timer
 * is not reset by frames), and nothing sleeps: the fix is where the state lives.
 */
#include <string.h>

#include <weft/codec.h>
#include <weft/net.h>

#include <lab.h>

#define FRAMES 12
#define FLUSH_EVERY weft_ms(5)
#define MAX_PAYLOAD 64

/* ---------------------------------------------------------------- the sensor
 *
 * Frame i: a 4-byte big-endian length n (8..24), then n bytes: i as 4 bytes, then n - 4
 * bytes of (i + k) & 0xff. Sent as header, then the payload in two pieces, with pauses of
 * 0..3 ms (the samples are still being measured). Do not change the sensor. */

typedef struct sensor {
    weft_async co;
    weft_sockaddr addr;
    weft_tcp_connect conn;
    weft_io_write_all wr;
    weft_sleep pause;
    int i;
    size_t n, half;
    unsigned char frame[4 + MAX_PAYLOAD];
} sensor;

static void make_frame(sensor *s)
{
    s->n = 8 + (size_t)weft_rand_below(17);
    s->frame[0] = 0;
    s->frame[1] = 0;
    s->frame[2] = 0;
    s->frame[3] = (unsigned char)s->n;
    for (int b = 0; b < 4; b++)
        s->frame[4 + b] = (unsigned char)(s->i >> (24 - 8 * b));
    for (size_t k = 4; k < s->n; k++)
        s->frame[4 + k] = (unsigned char)((size_t)s->i + k);
    s->half = 1 + (size_t)weft_rand_below(s->n - 1);
}

static weft_poll sensor_poll(weft_future *f, weft_context *cx)
{
    sensor *s = (sensor *)f;
    WEFT_ASYNC_BEGIN(&s->co);
    weft_tcp_connect_init(&s->conn, &s->addr);
    WEFT_AWAIT(&s->co, cx, &s->conn);
    if (s->conn.status != 0) {
        lab_say("sensor: connect failed: %s", weft_strerror(s->conn.status));
        WEFT_ASYNC_RETURN(&s->co);
    }
    for (s->i = 0; s->i < FRAMES; s->i++) {
        make_frame(s);
        weft_io_write_all_init(&s->wr, weft_tcp_stream_io(s->conn.stream), s->frame, 4);
        WEFT_AWAIT(&s->co, cx, &s->wr);
        weft_sleep_init(&s->pause, weft_ms(weft_rand_below(4)));
        WEFT_AWAIT(&s->co, cx, &s->pause);
        weft_io_write_all_init(&s->wr, weft_tcp_stream_io(s->conn.stream), s->frame + 4,
                               s->half);
        WEFT_AWAIT(&s->co, cx, &s->wr);
        weft_sleep_init(&s->pause, weft_ms(weft_rand_below(4)));
        WEFT_AWAIT(&s->co, cx, &s->pause);
        weft_io_write_all_init(&s->wr, weft_tcp_stream_io(s->conn.stream),
                               s->frame + 4 + s->half, s->n - s->half);
        WEFT_AWAIT(&s->co, cx, &s->wr);
        if (s->wr.status != 0)
            break; /* the collector hung up */
    }
    weft_tcp_stream_close(s->conn.stream);
    s->conn.stream = NULL;
    WEFT_ASYNC_END(&s->co);
}

static void sensor_drop(weft_future *f)
{
    sensor *s = (sensor *)f;
    weft_async_drop(f);
    weft_tcp_stream_close(s->conn.stream);
}

static const weft_future_vtable sensor_vt = {sensor_poll, sensor_drop, "sensor"};

/* ---------------------------------------------------------------- the collector */

static int frames_ok, frames_bad;
static char first_bad[160];

/* Is this frame the one the sensor sent as number `expect`? */
static bool frame_is(const unsigned char *p, size_t len, int expect)
{
    if (len < 8 || len > 24)
        return false;
    uint32_t seq = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
    if (seq != (uint32_t)expect)
        return false;
    for (size_t k = 4; k < len; k++)
        if (p[k] != (unsigned char)((size_t)expect + k))
            return false;
    return true;
}

typedef struct collector {
    weft_async co;
    weft_tcp_listener *l;
    weft_sockaddr addr;
    weft_join_handle sensor;
    weft_tcp_accept acc;
    weft_io_stream *conn;
    weft_instant next_flush;
    weft_framed_read in;         /* the connection's decoder: holds a partial frame */
    bool in_ok;
    weft_frame_next frame;
    weft_sleep flush;
    weft_future *branches[2];
    weft_select sel;
    int setup_failed;
} collector;

static weft_poll collector_poll(weft_future *f, weft_context *cx)
{
    collector *c = (collector *)f;
    WEFT_ASYNC_BEGIN(&c->co);
    {
        /* Loopback: the same program runs on real sockets outside the grader. */
        weft_sockaddr any;
        weft_sockaddr_parse(&any, "127.0.0.1:0");
        if (weft_tcp_listener_bind(&c->l, &any) != 0 ||
            weft_tcp_listener_local_addr(c->l, &c->addr) != 0) {
            c->setup_failed = 1;
            WEFT_ASYNC_RETURN(&c->co);
        }
        sensor s = {.addr = c->addr};
        weft_async_init(&s.co, &sensor_vt);
        c->sensor = weft_spawn_named("sensor", &s);
    }
    weft_tcp_accept_init(&c->acc, c->l);
    WEFT_AWAIT(&c->co, cx, &c->acc);
    if (c->acc.status != 0)
        WEFT_ASYNC_RETURN(&c->co);
    c->conn = weft_tcp_stream_io(c->acc.stream);
    c->in_ok =
        weft_framed_read_init(&c->in, c->conn, weft_codec_length_u32(MAX_PAYLOAD), 0) == 0;
    if (!c->in_ok)
        WEFT_ASYNC_RETURN(&c->co);
    lab_mark("flush");
    c->next_flush = weft_instant_now() + FLUSH_EVERY;
    for (;;) {
        weft_frame_next_init(&c->frame, &c->in);
        weft_sleep_until_init(&c->flush, c->next_flush);
        c->branches[0] = &c->frame.base;
        c->branches[1] = &c->flush.base;
        weft_select_init(&c->sel, c->branches, 2);
        WEFT_AWAIT(&c->co, cx, &c->sel);
        if (c->sel.winner == 1) {
            lab_mark("flush");
            c->next_flush += FLUSH_EVERY;
            continue;
        }
        if (c->frame.status != 0)
            break; /* the sensor is done (or the stream is out of step) */
        if (frame_is(c->frame.frame, c->frame.len, frames_ok)) {
            frames_ok++;
            continue;
        }
        frames_bad++;
        snprintf(first_bad, sizeof first_bad,
                 "frame %d arrived torn (length %u, first bytes %02x %02x %02x %02x) at %.3f ms",
                 frames_ok, (unsigned)c->frame.len, c->frame.frame[0], c->frame.frame[1],
                 c->frame.frame[2], c->frame.frame[3], (double)lab_now() / 1e6);
        lab_say("collector: %s; hanging up", first_bad);
        break;
    }
    lab_mark("flush");
    weft_framed_read_free(&c->in);
    c->in_ok = false;
    weft_tcp_stream_close(c->acc.stream);
    c->acc.stream = NULL;
    c->conn = NULL;
    WEFT_AWAIT(&c->co, cx, &c->sensor);

    {
        weft_duration at = 0, gap = lab_max_gap("flush", &at);
        lab_check("frames-intact", frames_bad == 0, "%s", first_bad);
        lab_check("all-delivered", frames_ok == FRAMES, "%d of %d frames arrived intact",
                  frames_ok, FRAMES);
        lab_check("flush-on-time", gap <= FLUSH_EVERY + weft_ms(1),
                  "the statistics were not flushed for %.3f ms (until %.3f ms); every %d ms "
                  "is the rule",
                  (double)gap / 1e6, (double)at / 1e6, (int)(FLUSH_EVERY / 1000000));
    }
    WEFT_ASYNC_END(&c->co);
}

static void collector_drop(weft_future *f)
{
    collector *c = (collector *)f;
    weft_async_drop(f);
    weft_join_handle_detach(&c->sensor);
    if (c->in_ok)
        weft_framed_read_free(&c->in);
    weft_tcp_stream_close(c->acc.stream);
}

static const weft_future_vtable collector_vt = {collector_poll, collector_drop, "collector"};

/* ---------------------------------------------------------------- run */

static int run(void *arg)
{
    (void)arg;
    lab_begin();
    frames_ok = frames_bad = 0;
    strcpy(first_bad, "no frame was torn");
    weft_builder b = weft_builder_new_current_thread();
    b.enable_io = true;
    b.enable_time = true;
    weft_runtime *rt;
    if (weft_runtime_new(&b, &rt) != 0)
        return 1;
    collector c = {0};
    weft_async_init(&c.co, &collector_vt);
    if (weft_block_on(rt, &c.co.base) != 0)
        weft_future_drop(&c.co.base);
    weft_tcp_listener_close(c.l);
    weft_runtime_shutdown(rt);
    return c.setup_failed;
}

int main(int argc, char **argv)
{
    return lab_main(argc, argv, run);
}
