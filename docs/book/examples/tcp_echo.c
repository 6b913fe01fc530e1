/* docs/book/examples/tcp_echo.c - the TCP sample of async-io.md.
 * The page shows the lines between the sample markers; tests/book/test_book_sample.sh checks
 * page and file agree, then runs it and compares its output with the page's. */
/* [begin sample] */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <weft/weft.h>
#include <weft/net.h>
#include <weft/signal.h>

/* One connection: copy what the read half receives into the write half, until end of
 * stream (Tokio: let (mut rd, mut wr) = socket.into_split(); io::copy(&mut rd, &mut wr)). */
typedef struct echo {
    weft_async co;
    weft_io_stream *rd, *wr;
    weft_io_read read;
    weft_io_write_all write;
    char buf[1024];
} echo;

static weft_poll echo_poll(weft_future *f, weft_context *cx)
{
    echo *e = (echo *)f;
    WEFT_ASYNC_BEGIN(&e->co);
    for (;;) {
        weft_io_read_init(&e->read, e->rd, e->buf, sizeof e->buf);
        WEFT_AWAIT(&e->co, cx, &e->read);
        if (e->read.status < 0 || e->read.n == 0)
            break; /* an error, or the client shut its side down */
        weft_io_write_all_init(&e->write, e->wr, e->buf, e->read.n);
        WEFT_AWAIT(&e->co, cx, &e->write);
        if (e->write.status < 0)
            break;
    }
    weft_io_stream_close(e->wr); /* the client reads end of stream */
    weft_io_stream_close(e->rd); /* both halves closed: the socket is released */
    WEFT_ASYNC_END(&e->co);
}

static const weft_future_vtable echo_vt = {echo_poll, weft_async_drop, "echo"};

/* The accept loop: a task per connection, until SIGINT or SIGTERM. */
typedef struct server {
    weft_async co;
    weft_tcp_listener *listener;
    weft_signal *sigterm, *sigint; /* listening from before the first accept */
    weft_tcp_accept accept;
    weft_signal_recv term, intr;
    weft_future *branches[3];
    weft_select sel;
    weft_join_handle conns[16];
    int nconns, i;
} server;

static weft_poll server_poll(weft_future *f, weft_context *cx)
{
    server *s = (server *)f;
    WEFT_ASYNC_BEGIN(&s->co);
    for (;;) {
        weft_tcp_accept_init(&s->accept, s->listener);
        weft_signal_recv_init(&s->term, s->sigterm); /* cancel-safe: a dropped recv */
        weft_signal_recv_init(&s->intr, s->sigint);  /* consumes no signal */
        s->branches[0] = &s->accept.base;
        s->branches[1] = &s->term.base;
        s->branches[2] = &s->intr.base;
        weft_select_init(&s->sel, s->branches, 3); /* Tokio: select! { accept, signal } */
        WEFT_AWAIT(&s->co, cx, &s->sel);
        if (s->sel.winner != 0)
            break;
        if (s->accept.status < 0 || s->nconns == 16) {
            weft_tcp_stream_close(s->accept.stream); /* safe on NULL */
            continue;
        }
        {
            echo e = {0};
            weft_async_init(&e.co, &echo_vt);
            if (weft_tcp_stream_split(s->accept.stream, &e.rd, &e.wr) < 0) {
                weft_tcp_stream_close(s->accept.stream);
                continue;
            }
            s->conns[s->nconns++] = weft_spawn_named("echo", &e);
        }
    }
    printf("server: %s, no more connections\n", s->sel.winner == 1 ? "SIGTERM" : "SIGINT");
    weft_tcp_listener_close(s->listener);
    for (s->i = 0; s->i < s->nconns; s->i++) /* drain: let open connections finish */
        WEFT_AWAIT(&s->co, cx, &s->conns[s->i]);
    printf("server: %d connections served and closed\n", s->nconns);
    weft_signal_free(s->sigterm);
    weft_signal_free(s->sigint);
    WEFT_ASYNC_END(&s->co);
}

static const weft_future_vtable server_vt = {server_poll, weft_async_drop, "server"};

/* A client: connect, send a line, shut the write side, read the echo to end of stream. */
typedef struct root {
    weft_async co;
    weft_sockaddr addr;
    weft_join_handle server;
    weft_tcp_connect connect;
    weft_io_write_all send;
    weft_io_read recv;
    char got[64];
    size_t n;
    int client;
} root;

static const char *const lines[] = {"hello, echo", "bye"};

static weft_poll root_poll(weft_future *f, weft_context *cx)
{
    root *r = (root *)f;
    WEFT_ASYNC_BEGIN(&r->co);
    {
        server s = {0};
        weft_sockaddr any;
        weft_sockaddr_parse(&any, "127.0.0.1:0"); /* port 0: the OS picks a free port */
        if (weft_tcp_listener_bind(&s.listener, &any) < 0 ||
            weft_tcp_listener_local_addr(s.listener, &r->addr) < 0 ||
            weft_signal_new(&s.sigterm, SIGTERM) < 0 || weft_signal_new(&s.sigint, SIGINT) < 0) {
            printf("cannot listen\n");
            WEFT_ASYNC_RETURN(&r->co);
        }
        weft_async_init(&s.co, &server_vt);
        r->server = weft_spawn_named("server", &s);
    }
    for (r->client = 0; r->client < 2; r->client++) {
        weft_tcp_connect_init(&r->connect, &r->addr);
        WEFT_AWAIT(&r->co, cx, &r->connect);
        if (r->connect.status < 0)
            break; /* the server's task still owns the listener: it is not leaked */
        weft_io_write_all_init(&r->send, weft_tcp_stream_io(r->connect.stream),
                               lines[r->client], strlen(lines[r->client]));
        WEFT_AWAIT(&r->co, cx, &r->send);
        weft_tcp_stream_shutdown_write(r->connect.stream); /* "that is all I will send" */
        for (r->n = 0;;) {
            weft_io_read_init(&r->recv, weft_tcp_stream_io(r->connect.stream), r->got + r->n,
                              sizeof r->got - 1 - r->n);
            WEFT_AWAIT(&r->co, cx, &r->recv);
            if (r->recv.status < 0 || r->recv.n == 0)
                break;
            r->n += r->recv.n;
        }
        r->got[r->n] = '\0';
        printf("client %d: sent \"%s\", got back \"%s\"\n", r->client + 1, lines[r->client],
               r->got);
        weft_tcp_stream_close(r->connect.stream);
    }
    raise(SIGTERM); /* what `kill PID` would do; weft listens, so the process lives on */
    WEFT_AWAIT(&r->co, cx, &r->server);
    WEFT_ASYNC_END(&r->co);
}

static const weft_future_vtable root_vt = {root_poll, weft_async_drop, "root"};

int main(void)
{
    weft_builder b = weft_builder_new_current_thread();
    b.enable_io = true;
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
