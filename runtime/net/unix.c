/* runtime/net/unix.c - Unix-domain stream listeners and streams (weft/net.h).
 *
 * The same machinery as TCP (stream.c) with a path for an address. What is particular to
 * Unix sockets is the socket file: a stale one (left by a process that died) is removed
 * before binding, a live one or a file that is not a socket is never touched, the mode is set
 * explicitly before listen, and the file is unlinked when the listener closes (the backend
 * does all three, sys_backend.c).
 */
#include <stdlib.h>

#include "stream.h"

#define UNIX_BACKLOG 1024

struct weft_unix_listener {
    weft__net_sock *sock; /* [fixed] */
};

int weft__unix_listener_bind(weft_unix_listener **out, const char *path, unsigned mode,
                             weft_location where)
{
    if (!out)
        return WEFT_EINVAL;
    *out = NULL;
    weft_sockaddr addr;
    int err = weft_sockaddr_unix(&addr, path);
    if (err)
        return err;
    if (mode & ~07777u)
        return WEFT_EINVAL;
    weft_runtime *rt;
    const weft__net_backend *net;
    err = weft__net_current(&rt, &net);
    if (err)
        return err;
    weft_unix_listener *l = malloc(sizeof *l);
    if (!l)
        return WEFT_ENOMEM;
    weft__listen_opts o = {.backlog = UNIX_BACKLOG, .mode = mode, .remove_stale = true};
    err = net->listen(rt, WEFT__SOCK_UNIX_LISTENER, &addr, &o, where, &l->sock);
    if (err) {
        free(l);
        return err;
    }
    weft__net_sock_report_addrs(l->sock);
    *out = l;
    return 0;
}

void weft_unix_listener_close(weft_unix_listener *l)
{
    if (!l)
        return;
    l->sock->ops->close(l->sock);
    free(l);
}

static weft_poll accept_poll(weft_future *f, weft_context *cx)
{
    weft_unix_accept *a = (weft_unix_accept *)f;
    if (!a->listener) {
        a->status = WEFT_EINVAL;
        return WEFT_READY;
    }
    weft__stream *s = NULL;
    weft_sockaddr peer;
    weft_poll p = weft__accept_poll(a->listener->sock, cx, a->where, &a->waiting, &s, &peer,
                                    &a->status);
    a->stream = (weft_unix_stream *)s;
    return p;
}

static void accept_drop(weft_future *f)
{
    weft_unix_accept *a = (weft_unix_accept *)f;
    if (a->listener)
        weft__accept_drop(a->listener->sock, &a->waiting);
}

static const weft_future_vtable accept_vt = {accept_poll, accept_drop, "unix_accept"};

void weft__unix_accept_init(weft_unix_accept *f, weft_unix_listener *l, weft_location where)
{
    *f = (weft_unix_accept){.base = {&accept_vt}, .listener = l, .where = where};
}

static weft__connecting connecting(weft_unix_connect *c)
{
    static bool no_timer = false; /* never set: Unix connects have no timeout */
    return (weft__connecting){
        .addr = &c->addr,
        .kind = WEFT__SOCK_UNIX_STREAM,
        .where = c->where,
        .sock = &c->sock,
        .state = &c->state,
        .timer = NULL,
        .timer_on = &no_timer,
        .stream = (weft__stream **)(void *)&c->stream,
        .status = &c->status,
    };
}

static weft_poll connect_poll(weft_future *f, weft_context *cx)
{
    weft_unix_connect *c = (weft_unix_connect *)f;
    if (c->addr.len == 0) {
        c->status = WEFT_EINVAL; /* the path did not fit (init) */
        c->state = 2;
        return WEFT_READY;
    }
    weft__connecting k = connecting(c);
    return weft__connect_poll(&k, cx);
}

static void connect_drop(weft_future *f)
{
    weft_unix_connect *c = (weft_unix_connect *)f;
    weft__connecting k = connecting(c);
    weft__connect_drop(&k);
}

static const weft_future_vtable connect_vt = {connect_poll, connect_drop, "unix_connect"};

void weft__unix_connect_init(weft_unix_connect *f, const char *path, weft_location where)
{
    *f = (weft_unix_connect){.base = {&connect_vt}, .where = where};
    weft_sockaddr_unix(&f->addr, path); /* len stays 0 on a bad path: poll reports it */
}

weft_io_stream *weft_unix_stream_io(weft_unix_stream *s)
{
    return s ? &s->s.io : NULL;
}

int weft_unix_stream_shutdown_write(weft_unix_stream *s)
{
    if (!s)
        return WEFT_EINVAL;
    return s->s.sock->ops->shutdown(s->s.sock, false);
}

int weft_unix_stream_split(weft_unix_stream *s, weft_io_stream **read_half,
                           weft_io_stream **write_half)
{
    return s ? weft__stream_split(&s->s, read_half, write_half) : WEFT_EINVAL;
}

void weft_unix_stream_close(weft_unix_stream *s)
{
    if (s)
        weft__stream_close(&s->s);
}
