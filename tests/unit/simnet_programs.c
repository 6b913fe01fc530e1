/* tests/unit/simnet_programs.c - programs over the simulated network, shared by
 * test_simnet_explore.c and tests/simnet/simnet_program.c (the `weft explore` end-to-end
 * test). See simnet_programs.h for what each one does.
 */
#include <string.h>

#include <weft/codec.h>
#include <weft/net.h>
#include <weft/sched.h>
#include <weft/weft.h>

#include "simnet_programs.h"

static weft_runtime *new_rt(void)
{
    weft_builder b = weft_builder_new_multi_thread(); /* deterministic all the same */
    b.enable_io = true;
    b.enable_time = true;
    weft_runtime *rt = NULL;
    if (weft_runtime_new(&b, &rt) != 0)
        return NULL;
    return rt;
}

static int run_main(weft_future *root)
{
    weft_runtime *rt = new_rt();
    if (!rt)
        return 1;
    if (weft_block_on(rt, root) != 0)
        weft_future_drop(root);
    weft_runtime_shutdown(rt);
    return 0;
}

static weft_sockaddr addr_of(const char *text)
{
    weft_sockaddr a;
    weft_sockaddr_parse(&a, text);
    return a;
}

/* ---------------------------------------------------------------- a recording stream
 *
 * Passes reads through to the TCP stream and notes how many bytes each one returned. */

simnet_frames_result simnet_frames_res;

typedef struct rec_stream {
    weft_io_stream io; /* must be first */
    weft_io_stream *inner;
    size_t offset;
} rec_stream;

static weft_poll rec_read(weft_io_stream *io, weft_context *cx, void *buf, size_t cap, size_t *n,
                          int *err)
{
    rec_stream *r = (rec_stream *)io;
    weft_poll p = weft_io_poll_read(r->inner, cx, buf, cap, n, err);
    if (p == WEFT_READY && *err == 0 && *n > 0) {
        simnet_frames_result *res = &simnet_frames_res;
        if (res->nreads < SIMNET_FRAMES_MAX_READS)
            res->reads[res->nreads++] = (uint16_t)*n;
        r->offset += *n;
        if (r->offset < SIMNET_FRAMES_LEN)
            res->cut_at[r->offset] = true;
    }
    return p;
}

static const weft_io_stream_vtable rec_vt = {rec_read, NULL, NULL, NULL, NULL, "recording"};

/* ---------------------------------------------------------------- frames */

static const unsigned char frames_wire[SIMNET_FRAMES_LEN] = {
    0, 0, 0, 8, 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', /* 8 bytes */
    0, 0, 0, 3, 'x', 'y', 'z',                          /* 3 bytes */
};

typedef struct fr_server {
    weft_async co;
    weft_tcp_listener *l;
    weft_tcp_accept acc;
    weft_io_write_all wr;
} fr_server;

static weft_poll fr_server_poll(weft_future *f, weft_context *cx)
{
    fr_server *s = (fr_server *)f;
    WEFT_ASYNC_BEGIN(&s->co);
    weft_tcp_accept_init(&s->acc, s->l);
    WEFT_AWAIT(&s->co, cx, &s->acc);
    if (!weft_assert(s->acc.status == 0))
        WEFT_ASYNC_RETURN(&s->co);
    weft_io_write_all_init(&s->wr, weft_tcp_stream_io(s->acc.stream), frames_wire,
                           sizeof frames_wire);
    WEFT_AWAIT(&s->co, cx, &s->wr);
    weft_assert(s->wr.status == 0);
    weft_tcp_stream_close(s->acc.stream);
    s->acc.stream = NULL;
    WEFT_ASYNC_END(&s->co);
}

static void fr_server_drop(weft_future *f)
{
    fr_server *s = (fr_server *)f;
    weft_async_drop(f);
    weft_tcp_stream_close(s->acc.stream);
}

static const weft_future_vtable fr_server_vt = {fr_server_poll, fr_server_drop, "server"};

typedef struct fr_main {
    weft_async co;
    weft_tcp_listener *l;
    weft_join_handle server;
    weft_tcp_connect conn;
    rec_stream rs;
    weft_framed_read in;
    bool in_ok;
    weft_frame_next next;
} fr_main;

static weft_poll fr_main_poll(weft_future *f, weft_context *cx)
{
    fr_main *m = (fr_main *)f;
    WEFT_ASYNC_BEGIN(&m->co);
    {
        weft_sockaddr a = addr_of("10.0.0.1:9");
        if (!weft_assert(weft_tcp_listener_bind(&m->l, &a) == 0))
            WEFT_ASYNC_RETURN(&m->co);
        fr_server s = {.l = m->l};
        weft_async_init(&s.co, &fr_server_vt);
        m->server = weft_spawn_named("server", &s);
        weft_tcp_connect_init(&m->conn, &a);
    }
    WEFT_AWAIT(&m->co, cx, &m->conn);
    if (!weft_assert(m->conn.status == 0))
        WEFT_ASYNC_RETURN(&m->co);
    m->rs.io.vt = &rec_vt;
    m->rs.inner = weft_tcp_stream_io(m->conn.stream);
    m->in_ok = weft_framed_read_init(&m->in, &m->rs.io, weft_codec_length_u32(64), 0) == 0;
    if (!weft_assert(m->in_ok))
        WEFT_ASYNC_RETURN(&m->co);
    weft_frame_next_init(&m->next, &m->in);
    WEFT_AWAIT(&m->co, cx, &m->next);
    weft_assert(m->next.status == 0 && m->next.len == 8 &&
                memcmp(m->next.frame, "ABCDEFGH", 8) == 0);
    weft_frame_next_init(&m->next, &m->in);
    WEFT_AWAIT(&m->co, cx, &m->next);
    weft_assert(m->next.status == 0 && m->next.len == 3 && memcmp(m->next.frame, "xyz", 3) == 0);
    weft_frame_next_init(&m->next, &m->in);
    WEFT_AWAIT(&m->co, cx, &m->next);
    weft_assert(m->next.status == WEFT_ECLOSED);
    simnet_frames_res.decoded = true;
    WEFT_AWAIT(&m->co, cx, &m->server);
    WEFT_ASYNC_END(&m->co);
}

static void fr_main_drop(weft_future *f)
{
    fr_main *m = (fr_main *)f;
    weft_async_drop(f);
    weft_join_handle_detach(&m->server);
}

static const weft_future_vtable fr_main_vt = {fr_main_poll, fr_main_drop, "main"};

int simnet_prog_frames(void *arg)
{
    (void)arg;
    /* cut_at accumulates over runs (the test clears it); the rest is per run. */
    simnet_frames_res.nreads = 0;
    simnet_frames_res.decoded = false;
    fr_main m = {0};
    weft_async_init(&m.co, &fr_main_vt);
    int rc = run_main(&m.co.base);
    if (m.in_ok)
        weft_framed_read_free(&m.in);
    weft_tcp_stream_close(m.conn.stream);
    weft_tcp_listener_close(m.l);
    return rc;
}

/* ---------------------------------------------------------------- select and a torn frame
 *
 * The server sends SF_FRAMES frames [u32 6]["frameN"], each as two writes (header, then the
 * body after a yield, as a writer that computes the body would). A pinger sends a few control
 * messages at once, as soon as it first runs. The reader selects (biased, control first)
 * between "a control message" and "the next frame". Buggy: the frame branch is an async
 * function that reads the header and then the body with read_exact into its own state, so
 * when the control message wins while it waits for the body, the header goes with the dropped
 * branch and the reader takes the body for the next header. Fixed: the branch is weft_frame_next over a framed reader that lives in the reader, which
 * keeps the partial frame (cancel-safe). */

#define SF_FRAMES 4
#define SF_PINGS 3

static weft_mpsc_sender sf_ctl_tx;
static weft_mpsc_receiver sf_ctl_rx;

typedef struct sf_server {
    weft_async co;
    weft_tcp_listener *l;
    weft_tcp_accept acc;
    weft_io_write_all wr;
    weft_yield_now y;
    int i;
    unsigned char hdr[4];
    char body[8];
} sf_server;

static weft_poll sf_server_poll(weft_future *f, weft_context *cx)
{
    sf_server *s = (sf_server *)f;
    WEFT_ASYNC_BEGIN(&s->co);
    weft_tcp_accept_init(&s->acc, s->l);
    WEFT_AWAIT(&s->co, cx, &s->acc);
    if (!weft_assert(s->acc.status == 0))
        WEFT_ASYNC_RETURN(&s->co);
    for (s->i = 0; s->i < SF_FRAMES; s->i++) {
        memcpy(s->hdr, "\0\0\0\6", 4);
        weft_io_write_all_init(&s->wr, weft_tcp_stream_io(s->acc.stream), s->hdr, 4);
        WEFT_AWAIT(&s->co, cx, &s->wr);
        weft_yield_now_init(&s->y);
        WEFT_AWAIT(&s->co, cx, &s->y);
        memcpy(s->body, "frame0", 6);
        s->body[5] = (char)('0' + s->i);
        weft_io_write_all_init(&s->wr, weft_tcp_stream_io(s->acc.stream), s->body, 6);
        WEFT_AWAIT(&s->co, cx, &s->wr);
    }
    weft_tcp_stream_close(s->acc.stream);
    s->acc.stream = NULL;
    WEFT_ASYNC_END(&s->co);
}

static void sf_server_drop(weft_future *f)
{
    sf_server *s = (sf_server *)f;
    weft_async_drop(f);
    weft_tcp_stream_close(s->acc.stream);
}

static const weft_future_vtable sf_server_vt = {sf_server_poll, sf_server_drop, "server"};

typedef struct sf_pinger {
    weft_async co;
    int i, v;
    weft_mpsc_send s;
} sf_pinger;

static weft_poll sf_pinger_poll(weft_future *f, weft_context *cx)
{
    sf_pinger *p = (sf_pinger *)f;
    WEFT_ASYNC_BEGIN(&p->co);
    for (p->i = 0; p->i < SF_PINGS; p->i++) {
        p->v = p->i;
        weft_mpsc_send_init(&p->s, &sf_ctl_tx, &p->v);
        WEFT_AWAIT(&p->co, cx, &p->s);
    }
    weft_mpsc_sender_drop(&sf_ctl_tx);
    WEFT_ASYNC_END(&p->co);
}

static const weft_future_vtable sf_pinger_vt = {sf_pinger_poll, weft_async_drop, "pinger"};

/* The buggy branch: one frame, read as header then body into this future's own state. */
typedef struct sf_read_frame {
    weft_async co;
    weft_io_stream *s;
    weft_io_read_exact rx;
    unsigned char hdr[4];
    uint32_t len;
    char body[64];
    int status;
} sf_read_frame;

static weft_poll sf_read_frame_poll(weft_future *f, weft_context *cx)
{
    sf_read_frame *r = (sf_read_frame *)f;
    WEFT_ASYNC_BEGIN(&r->co);
    weft_io_read_exact_init(&r->rx, r->s, r->hdr, 4);
    WEFT_AWAIT(&r->co, cx, &r->rx);
    r->status = r->rx.status;
    if (r->status)
        WEFT_ASYNC_RETURN(&r->co);
    r->len = (uint32_t)r->hdr[0] << 24 | (uint32_t)r->hdr[1] << 16 | (uint32_t)r->hdr[2] << 8 |
             r->hdr[3];
    if (r->len > sizeof r->body) {
        r->status = WEFT_ETOOBIG;
        WEFT_ASYNC_RETURN(&r->co);
    }
    weft_io_read_exact_init(&r->rx, r->s, r->body, r->len);
    WEFT_AWAIT(&r->co, cx, &r->rx);
    r->status = r->rx.status;
    WEFT_ASYNC_END(&r->co);
}

static const weft_future_vtable sf_read_frame_vt = {sf_read_frame_poll, weft_async_drop,
                                                     "read_frame"};

typedef struct sf_reader {
    weft_async co;
    bool fixed;
    weft_io_stream *s;
    int frames, ctl;
    bool ctl_done;
    sf_read_frame fr;         /* buggy branch */
    weft_framed_read in;      /* fixed: the connection's framed reader */
    bool in_ok;
    weft_frame_next next;     /* fixed branch */
    weft_mpsc_recv ctl_rx;
    weft_future *branches[2];
    weft_select sel;
    const char *frame;
    size_t len;
} sf_reader;

static weft_poll sf_reader_poll(weft_future *f, weft_context *cx)
{
    sf_reader *r = (sf_reader *)f;
    WEFT_ASYNC_BEGIN(&r->co);
    if (r->fixed) {
        r->in_ok = weft_framed_read_init(&r->in, r->s, weft_codec_length_u32(64), 0) == 0;
        if (!weft_assert(r->in_ok))
            WEFT_ASYNC_RETURN(&r->co);
    }
    while (r->frames < SF_FRAMES) {
        /* Control first (biased), as a loop that must not miss a shutdown signal would. */
        weft_mpsc_recv_init(&r->ctl_rx, &sf_ctl_rx, &r->ctl);
        r->branches[0] = r->ctl_done ? NULL : &r->ctl_rx.base;
        if (r->fixed) {
            weft_frame_next_init(&r->next, &r->in);
            r->branches[1] = &r->next.base;
        } else {
            r->fr = (sf_read_frame){.s = r->s};
            weft_async_init(&r->fr.co, &sf_read_frame_vt);
            r->branches[1] = &r->fr.co.base;
        }
        weft_select_biased_init(&r->sel, r->branches, 2);
        WEFT_AWAIT(&r->co, cx, &r->sel);
        if (r->sel.winner == 0) {
            if (r->ctl_rx.status != 0)
                r->ctl_done = true; /* the pinger is done */
            continue;               /* handled the control message; read on */
        }
        if (r->fixed) {
            if (!weft_assert(r->next.status == 0))
                break;
            r->frame = (const char *)r->next.frame;
            r->len = r->next.len;
        } else {
            r->frame = r->fr.body;
            r->len = r->fr.status == 0 ? r->fr.len : 0;
        }
        {
            char want[6] = {'f', 'r', 'a', 'm', 'e', (char)('0' + r->frames)};
            bool frame_intact = r->len == 6 && memcmp(r->frame, want, 6) == 0;
            if (!weft_assert(frame_intact))
                break;
        }
        r->frames++;
    }
    if (r->in_ok)
        weft_framed_read_free(&r->in);
    r->in_ok = false;
    WEFT_ASYNC_END(&r->co);
}

static void sf_reader_drop(weft_future *f)
{
    sf_reader *r = (sf_reader *)f;
    weft_async_drop(f);
    if (r->in_ok)
        weft_framed_read_free(&r->in);
    r->in_ok = false;
}

static const weft_future_vtable sf_reader_vt = {sf_reader_poll, sf_reader_drop, "reader"};

typedef struct sf_main {
    weft_async co;
    bool fixed;
    weft_tcp_listener *l;
    weft_tcp_connect conn;
    weft_join_handle h[3];
    int i;
} sf_main;

static weft_poll sf_main_poll(weft_future *f, weft_context *cx)
{
    sf_main *m = (sf_main *)f;
    WEFT_ASYNC_BEGIN(&m->co);
    {
        weft_sockaddr a = addr_of("10.0.0.1:7000");
        if (!weft_assert(weft_tcp_listener_bind(&m->l, &a) == 0))
            WEFT_ASYNC_RETURN(&m->co);
        sf_server s = {.l = m->l};
        weft_async_init(&s.co, &sf_server_vt);
        m->h[0] = weft_spawn_named("server", &s);
        weft_tcp_connect_init(&m->conn, &a);
    }
    WEFT_AWAIT(&m->co, cx, &m->conn);
    if (!weft_assert(m->conn.status == 0))
        WEFT_ASYNC_RETURN(&m->co);
    {
        sf_pinger p = {0};
        weft_async_init(&p.co, &sf_pinger_vt);
        m->h[1] = weft_spawn_named("pinger", &p);
        sf_reader r = {.fixed = m->fixed, .s = weft_tcp_stream_io(m->conn.stream)};
        weft_async_init(&r.co, &sf_reader_vt);
        m->h[2] = weft_spawn_named("reader", &r);
    }
    for (m->i = 0; m->i < 3; m->i++)
        WEFT_AWAIT(&m->co, cx, &m->h[m->i]);
    WEFT_ASYNC_END(&m->co);
}

static void sf_main_drop(weft_future *f)
{
    sf_main *m = (sf_main *)f;
    weft_async_drop(f);
    for (int i = 0; i < 3; i++)
        weft_join_handle_detach(&m->h[i]);
}

static const weft_future_vtable sf_main_vt = {sf_main_poll, sf_main_drop, "main"};

int simnet_prog_select_frame(void *arg)
{
    if (weft_mpsc_unbounded_channel(&sf_ctl_tx, &sf_ctl_rx, sizeof(int), "control"))
        return 1;
    sf_main m = {.fixed = arg && *(int *)arg == 1};
    weft_async_init(&m.co, &sf_main_vt);
    int rc = run_main(&m.co.base);
    weft_mpsc_sender_drop(&sf_ctl_tx);
    weft_mpsc_receiver_drop(&sf_ctl_rx);
    weft_tcp_stream_close(m.conn.stream);
    weft_tcp_listener_close(m.l);
    return rc;
}
