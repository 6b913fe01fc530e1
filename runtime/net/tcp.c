/* runtime/net/tcp.c - TCP listeners and streams (weft/net.h), over the runtime's backend.
 *
 * Thin by design: the socket work is the backend's (backend.h), the stream as a weft_io_stream
 * and the accept/connect logic are stream.c's. What is TCP-specific lives here: binding with
 * the listener options, connect with a timeout, nodelay, and the public wrappers.
 */
#include <stdlib.h>

#include "stream.h"

#define TCP_BACKLOG 1024

struct weft_tcp_listener {
    weft__net_sock *sock; /* [fixed] the listening socket */
};

int weft__tcp_listener_bind(weft_tcp_listener **out, const weft_sockaddr *addr,
                            weft_location where)
{
    if (!out || !addr)
        return WEFT_EINVAL;
    *out = NULL;
    weft_runtime *rt;
    const weft__net_backend *net;
    int err = weft__net_current(&rt, &net);
    if (err)
        return err;
    weft_tcp_listener *l = malloc(sizeof *l);
    if (!l)
        return WEFT_ENOMEM;
    weft__listen_opts o = {.backlog = TCP_BACKLOG};
    err = net->listen(rt, WEFT__SOCK_TCP_LISTENER, addr, &o, where, &l->sock);
    if (err) {
        free(l);
        return err;
    }
    weft__net_sock_report_addrs(l->sock);
    *out = l;
    return 0;
}

int weft_tcp_listener_local_addr(weft_tcp_listener *l, weft_sockaddr *out)
{
    if (!l || !out)
        return WEFT_EINVAL;
    return l->sock->ops->local_addr(l->sock, out);
}

uint64_t weft_tcp_listener_backoffs(weft_tcp_listener *l)
{
    if (!l || !l->sock->ops->accept_backoffs)
        return 0;
    return l->sock->ops->accept_backoffs(l->sock);
}

void weft_tcp_listener_close(weft_tcp_listener *l)
{
    if (!l)
        return;
    l->sock->ops->close(l->sock);
    free(l);
}

/* ---------------------------------------------------------------- accept */

static weft_poll accept_poll(weft_future *f, weft_context *cx)
{
    weft_tcp_accept *a = (weft_tcp_accept *)f;
    if (!a->listener) {
        a->status = WEFT_EINVAL;
        return WEFT_READY;
    }
    weft__stream *s = NULL;
    weft_poll p = weft__accept_poll(a->listener->sock, cx, a->where, &a->waiting, &s, &a->peer,
                                    &a->status);
    a->stream = (weft_tcp_stream *)s;
    return p;
}

static void accept_drop(weft_future *f)
{
    weft_tcp_accept *a = (weft_tcp_accept *)f;
    if (a->listener)
        weft__accept_drop(a->listener->sock, &a->waiting);
}

static const weft_future_vtable accept_vt = {accept_poll, accept_drop, "tcp_accept"};

void weft__tcp_accept_init(weft_tcp_accept *f, weft_tcp_listener *l, weft_location where)
{
    *f = (weft_tcp_accept){.base = {&accept_vt}, .listener = l, .where = where};
}

/* ---------------------------------------------------------------- connect */

static weft__connecting connecting(weft_tcp_connect *c)
{
    return (weft__connecting){
        .addr = &c->addr,
        .kind = WEFT__SOCK_TCP_STREAM,
        .where = c->where,
        .sock = &c->sock,
        .state = &c->state,
        .timer = c->timeout ? &c->timer : NULL,
        .timer_on = &c->timer_on,
        .stream = (weft__stream **)(void *)&c->stream,
        .status = &c->status,
    };
}

static weft_poll connect_poll(weft_future *f, weft_context *cx)
{
    weft_tcp_connect *c = (weft_tcp_connect *)f;
    weft__connecting k = connecting(c);
    return weft__connect_poll(&k, cx);
}

static void connect_drop(weft_future *f)
{
    weft_tcp_connect *c = (weft_tcp_connect *)f;
    weft__connecting k = connecting(c);
    weft__connect_drop(&k);
}

static const weft_future_vtable connect_vt = {connect_poll, connect_drop, "tcp_connect"};

void weft__tcp_connect_init(weft_tcp_connect *f, const weft_sockaddr *addr,
                            weft_duration timeout, weft_location where)
{
    *f = (weft_tcp_connect){.base = {&connect_vt}, .timeout = timeout, .where = where};
    if (addr)
        f->addr = *addr;
    if (timeout) {
        /* The deadline counts from here, as Tokio's timeout(connect(..)) does. */
        weft_sleep_init(&f->timer, timeout);
        f->timer_on = true;
    }
}

/* ---------------------------------------------------------------- streams */

weft_io_stream *weft_tcp_stream_io(weft_tcp_stream *s)
{
    return s ? &s->s.io : NULL;
}

int weft_tcp_stream_set_nodelay(weft_tcp_stream *s, bool on)
{
    if (!s || !s->s.sock->ops->set_nodelay)
        return WEFT_EINVAL;
    return s->s.sock->ops->set_nodelay(s->s.sock, on);
}

int weft_tcp_stream_nodelay(weft_tcp_stream *s, bool *on)
{
    if (!s || !on || !s->s.sock->ops->nodelay)
        return WEFT_EINVAL;
    return s->s.sock->ops->nodelay(s->s.sock, on);
}

int weft_tcp_stream_peer_addr(weft_tcp_stream *s, weft_sockaddr *out)
{
    if (!s || !out)
        return WEFT_EINVAL;
    return s->s.sock->ops->peer_addr(s->s.sock, out);
}

int weft_tcp_stream_local_addr(weft_tcp_stream *s, weft_sockaddr *out)
{
    if (!s || !out)
        return WEFT_EINVAL;
    return s->s.sock->ops->local_addr(s->s.sock, out);
}

int weft_tcp_stream_shutdown_write(weft_tcp_stream *s)
{
    if (!s)
        return WEFT_EINVAL;
    return s->s.sock->ops->shutdown(s->s.sock, false);
}

void weft_tcp_stream_bytes(weft_tcp_stream *s, uint64_t *in, uint64_t *out)
{
    if (in)
        *in = s ? atomic_load_explicit(&s->s.sock->bytes_in, memory_order_relaxed) : 0;
    if (out)
        *out = s ? atomic_load_explicit(&s->s.sock->bytes_out, memory_order_relaxed) : 0;
}

void weft_tcp_stream_close(weft_tcp_stream *s)
{
    if (s)
        weft__stream_close(&s->s);
}

int weft_tcp_stream_split(weft_tcp_stream *s, weft_io_stream **read_half,
                          weft_io_stream **write_half)
{
    return s ? weft__stream_split(&s->s, read_half, write_half) : WEFT_EINVAL;
}
