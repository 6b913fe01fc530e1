/* docs/book/examples/async_io.c - the sample of async-io.md.
 * The page shows the lines between the sample markers; tests/book/test_book_sample.sh checks
 * page and file agree, then runs it (under WEFT_SCHED=fifo, see the page) and compares its
 * output with the page's. */
/* [begin sample] */
#include <stdio.h>
#include <string.h>
#include <weft/weft.h>
#include <weft/codec.h>

static weft_instant start;

static unsigned long ms_now(void)
{
    return (unsigned long)((weft_instant_now() - start) / weft_ms(1));
}

/* The client writes raw bytes, cut at awkward places, with pauses between the pieces. */
typedef struct client {
    weft_async co;
    weft_io_stream *sock; /* borrowed */
    int i;
    weft_io_write_all wr;
    weft_sleep pause;
    weft_io_shutdown bye;
} client;

static const char *const pieces[] = {"hel", "lo\nwor", "ld\npar", "tial\n"};

static weft_poll client_poll(weft_future *f, weft_context *cx)
{
    client *c = (client *)f;
    WEFT_ASYNC_BEGIN(&c->co);
    for (c->i = 0; c->i < 4; c->i++) {
        weft_sleep_init(&c->pause, weft_ms(c->i == 3 ? 30 : 2));
        WEFT_AWAIT(&c->co, cx, &c->pause);
        weft_io_write_all_init(&c->wr, c->sock, pieces[c->i], strlen(pieces[c->i]));
        WEFT_AWAIT(&c->co, cx, &c->wr);
    }
    weft_io_shutdown_init(&c->bye, c->sock); /* the server reads end of stream */
    WEFT_AWAIT(&c->co, cx, &c->bye);
    WEFT_ASYNC_END(&c->co);
}

/* The server reads lines; it gives up waiting after 10 ms of silence, and tries again. */
typedef struct server {
    weft_async co;
    weft_io_stream *sock; /* borrowed */
    weft_framed_read in;  /* the partial line lives here, in the connection */
    weft_frame_next next;
    weft_timeout idle;
} server;

static weft_poll server_poll(weft_future *f, weft_context *cx)
{
    server *s = (server *)f;
    WEFT_ASYNC_BEGIN(&s->co);
    /* Set up in place, at the first poll: the reader must not move once it is in use. */
    if (weft_framed_read_init(&s->in, s->sock, weft_codec_lines(1024), 0) < 0)
        WEFT_ASYNC_RETURN(&s->co);
    for (;;) {
        weft_frame_next_init(&s->next, &s->in);
        weft_timeout_init(&s->idle, weft_ms(10), &s->next.base);
        WEFT_AWAIT(&s->co, cx, &s->idle);
        if (s->idle.status == WEFT_EELAPSED) {
            printf("+%2lu ms  server: 10 ms without a whole line; waiting again\n", ms_now());
            continue; /* frame_next was dropped mid-line: nothing is lost */
        }
        if (s->next.status == WEFT_ECLOSED) {
            printf("+%2lu ms  server: the client closed its side\n", ms_now());
            break;
        }
        if (s->next.status < 0) {
            printf("server: %s\n", weft_strerror(s->next.status));
            break;
        }
        printf("+%2lu ms  server: line \"%.*s\"\n", ms_now(), (int)s->next.len,
               (const char *)s->next.frame);
    }
    weft_framed_read_free(&s->in);
    WEFT_ASYNC_END(&s->co);
}

static void server_drop(weft_future *f)
{
    server *s = (server *)f;
    weft_async_drop(f); /* first the pending frame_next, which borrows the reader */
    if (s->co.resume != 0)
        weft_framed_read_free(&s->in);
}

static const weft_future_vtable client_vt = {client_poll, weft_async_drop, "client"};
static const weft_future_vtable server_vt = {server_poll, server_drop, "server"};

typedef struct root {
    weft_async co;
    weft_duplex *a, *b; /* two ends of an in-memory connection */
    weft_join_handle hc, hs;
} root;

static weft_poll root_poll(weft_future *f, weft_context *cx)
{
    root *r = (root *)f;
    WEFT_ASYNC_BEGIN(&r->co);
    start = weft_instant_now();
    {
        client c = {.sock = weft_duplex_stream(r->a)};
        server s = {.sock = weft_duplex_stream(r->b)};
        weft_async_init(&c.co, &client_vt);
        weft_async_init(&s.co, &server_vt);
        r->hc = weft_spawn(&c);
        r->hs = weft_spawn(&s);
    }
    WEFT_AWAIT(&r->co, cx, &r->hc);
    WEFT_AWAIT(&r->co, cx, &r->hs);
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
    weft_duplex_options o = weft_duplex_options_default(); /* Tokio: io::duplex(64 KiB) */
    if (weft_duplex_new(&o, &r.a, &r.b) < 0)
        return 1;
    weft_async_init(&r.co, &root_vt);
    int err = weft_block_on(rt, &r.co.base);
    weft_runtime_shutdown(rt);
    weft_duplex_free(r.a);
    weft_duplex_free(r.b);
    return err < 0;
}
/* [end sample] */
