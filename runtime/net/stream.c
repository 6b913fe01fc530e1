/* runtime/net/stream.c - a connected stream socket (TCP or Unix) as a weft_io_stream, its
 * split halves, and the accept and connect futures' shared logic.
 *
 * Who calls it: tcp.c and unix.c (their public functions are thin wrappers), and every
 * weft_io_* future through the vtables below. The poll functions pass straight through to the
 * backend (backend.h), adding only the report to the tools of which task waits on the socket:
 * a read wait and a write wait are tracked separately, because one task may wait to read while
 * another waits to write.
 *
 * The await location of a socket wait is this file's: weft_io_stream's poll functions do not
 * carry the caller's (the leaf futures of weft/io.h keep it), so the console shows the socket
 * and the operation, and the task's own frame shows where it awaited.
 */
#include <stdlib.h>

#include "../sync/resource.h"
#include "../util/list.h"
#include "stream.h"

static inline weft__stream *of_io(weft_io_stream *io)
{
    return (weft__stream *)io;
}

static inline weft__stream *of_read_half(weft_io_stream *io)
{
    return weft__container_of(io, weft__stream, read_half);
}

static inline weft__stream *of_write_half(weft_io_stream *io)
{
    return weft__container_of(io, weft__stream, write_half);
}

/* ---------------------------------------------------------------- reading and writing */

/* Where the task waits: the user's await of the I/O operation in flight (weft/io.h), so that
 * the console says "waits to read tcp_stream at server.c:42"; this file only when a stream
 * is polled outside those leaf futures. */
static weft_location await_site(void)
{
    weft_location where = weft_io_current_location();
    return where.file ? where : WEFT_HERE;
}

static weft_poll stream_read(weft__stream *s, weft_context *cx, void *buf, size_t cap,
                             size_t *n, int *err)
{
    weft__net_sock *k = s->sock;
    weft_poll p = k->ops->poll_read(k, cx, buf, cap, n, err);
    if (p == WEFT_PENDING && !s->read_waiting) {
        s->read_waiting = true;
        weft__resource_wait(&k->res, WEFT_OP_READ, await_site());
    } else if (p == WEFT_READY && s->read_waiting) {
        s->read_waiting = false;
        weft__resource_wait_done(&k->res, WEFT_OP_READ);
    }
    return p;
}

static weft_poll stream_write(weft__stream *s, weft_context *cx, const void *buf, size_t len,
                              size_t *n, int *err)
{
    weft__net_sock *k = s->sock;
    weft_poll p = k->ops->poll_write(k, cx, buf, len, n, err);
    if (p == WEFT_PENDING && !s->write_waiting) {
        s->write_waiting = true;
        weft__resource_wait(&k->res, WEFT_OP_WRITE, await_site());
    } else if (p == WEFT_READY && s->write_waiting) {
        s->write_waiting = false;
        weft__resource_wait_done(&k->res, WEFT_OP_WRITE);
    }
    return p;
}

static weft_poll stream_shutdown(weft__stream *s, int *err)
{
    *err = s->sock->ops->shutdown(s->sock, false);
    return WEFT_READY;
}

static void release(weft__stream *s)
{
    if (atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) != 1)
        return;
    if (s->read_waiting)
        weft__resource_wait_done(&s->sock->res, WEFT_OP_READ);
    if (s->write_waiting)
        weft__resource_wait_done(&s->sock->res, WEFT_OP_WRITE);
    s->sock->ops->close(s->sock);
    free(s);
}

/* The whole stream. */
static weft_poll io_read(weft_io_stream *io, weft_context *cx, void *buf, size_t cap,
                         size_t *n, int *err)
{
    return stream_read(of_io(io), cx, buf, cap, n, err);
}

static weft_poll io_write(weft_io_stream *io, weft_context *cx, const void *buf, size_t len,
                          size_t *n, int *err)
{
    return stream_write(of_io(io), cx, buf, len, n, err);
}

static weft_poll io_flush(weft_io_stream *io, weft_context *cx, int *err)
{
    (void)io;
    (void)cx;
    *err = 0; /* a socket hands bytes to the kernel at once: nothing to flush */
    return WEFT_READY;
}

static weft_poll io_shutdown(weft_io_stream *io, weft_context *cx, int *err)
{
    (void)cx;
    return stream_shutdown(of_io(io), err);
}

static void io_close(weft_io_stream *io)
{
    release(of_io(io));
}

/* The halves. */
static weft_poll rh_read(weft_io_stream *io, weft_context *cx, void *buf, size_t cap,
                         size_t *n, int *err)
{
    return stream_read(of_read_half(io), cx, buf, cap, n, err);
}

static void rh_close(weft_io_stream *io)
{
    release(of_read_half(io));
}

static weft_poll wh_write(weft_io_stream *io, weft_context *cx, const void *buf, size_t len,
                          size_t *n, int *err)
{
    return stream_write(of_write_half(io), cx, buf, len, n, err);
}

static weft_poll wh_shutdown(weft_io_stream *io, weft_context *cx, int *err)
{
    (void)cx;
    return stream_shutdown(of_write_half(io), err);
}

static void wh_close(weft_io_stream *io)
{
    weft__stream *s = of_write_half(io);
    /* Tokio's OwnedWriteHalf: dropping it shuts the write side, so the peer sees the end of
     * the stream even while the read half lives on. */
    s->sock->ops->shutdown(s->sock, false);
    release(s);
}

static const weft_io_stream_vtable tcp_vt = {
    io_read, io_write, io_flush, io_shutdown, io_close, "tcp_stream",
};
static const weft_io_stream_vtable unix_vt = {
    io_read, io_write, io_flush, io_shutdown, io_close, "unix_stream",
};
static const weft_io_stream_vtable read_half_vt = {
    rh_read, NULL, NULL, NULL, rh_close, "read_half",
};
static const weft_io_stream_vtable write_half_vt = {
    NULL, wh_write, io_flush, wh_shutdown, wh_close, "write_half",
};

weft__stream *weft__stream_new(weft__net_sock *sock)
{
    weft__stream *s = calloc(1, sizeof *s);
    if (!s) {
        sock->ops->close(sock);
        return NULL;
    }
    s->io.vt = sock->kind == WEFT__SOCK_UNIX_STREAM ? &unix_vt : &tcp_vt;
    s->read_half.vt = &read_half_vt;
    s->write_half.vt = &write_half_vt;
    s->sock = sock;
    atomic_init(&s->refs, 1);
    return s;
}

void weft__stream_close(weft__stream *s)
{
    if (s)
        release(s);
}

int weft__stream_split(weft__stream *s, weft_io_stream **rd, weft_io_stream **wr)
{
    if (!s || !rd || !wr || s->split)
        return WEFT_EINVAL;
    s->split = true;
    atomic_store_explicit(&s->refs, 2, memory_order_relaxed);
    *rd = &s->read_half;
    *wr = &s->write_half;
    return 0;
}

/* ---------------------------------------------------------------- accept */

weft_poll weft__accept_poll(weft__net_sock *l, weft_context *cx, weft_location where,
                            bool *waiting, weft__stream **stream, weft_sockaddr *peer,
                            int *status)
{
    weft__net_sock *c = NULL;
    int err = 0;
    if (l->ops->poll_accept(l, cx, where, &c, peer, &err) == WEFT_PENDING) {
        if (!*waiting) {
            *waiting = true;
            weft__resource_wait(&l->res, WEFT_OP_ACCEPT, where);
        }
        return WEFT_PENDING;
    }
    weft__accept_drop(l, waiting);
    *stream = NULL;
    *status = err;
    if (!err && !(*stream = weft__stream_new(c)))
        *status = WEFT_ENOMEM;
    return WEFT_READY;
}

void weft__accept_drop(weft__net_sock *l, bool *waiting)
{
    if (*waiting) {
        *waiting = false;
        weft__resource_wait_done(&l->res, WEFT_OP_ACCEPT);
    }
}

/* ---------------------------------------------------------------- connect */

static weft_poll connect_finish(const weft__connecting *c, int err)
{
    weft__net_sock *k = *c->sock;
    *c->sock = NULL;
    *c->state = 2;
    if (k)
        weft__resource_wait_done(&k->res, WEFT_OP_CONNECT);
    if (*c->timer_on) {
        weft_future_drop(&c->timer->base);
        *c->timer_on = false;
    }
    *c->stream = NULL;
    *c->status = err;
    if (err) {
        if (k)
            k->ops->close(k);
    } else if (!(*c->stream = weft__stream_new(k))) {
        *c->status = WEFT_ENOMEM;
    }
    return WEFT_READY;
}

weft_poll weft__connect_poll(const weft__connecting *c, weft_context *cx)
{
    if (*c->state == 2)
        return WEFT_READY;
    if (*c->state == 0) {
        weft_runtime *rt;
        const weft__net_backend *net;
        int err = weft__net_current(&rt, &net);
        if (!err && c->timer && !rt->time)
            err = WEFT_ENOSYS; /* a timeout needs the runtime's timers */
        if (!err)
            err = net->connect(rt, c->kind, c->addr, c->where, c->sock);
        if (err)
            return connect_finish(c, err);
        *c->state = 1;
        weft__resource_wait(&(*c->sock)->res, WEFT_OP_CONNECT, c->where);
    }
    weft__net_sock *k = *c->sock;
    int err = 0;
    if (k->ops->poll_connect(k, cx, &err) == WEFT_READY)
        return connect_finish(c, err);
    if (*c->timer_on && weft_future_poll(&c->timer->base, cx) == WEFT_READY) {
        *c->timer_on = false; /* completed: must not be dropped */
        return connect_finish(c, WEFT_ETIMEDOUT);
    }
    return WEFT_PENDING;
}

void weft__connect_drop(const weft__connecting *c)
{
    weft__net_sock *k = *c->sock;
    if (k) {
        weft__resource_wait_done(&k->res, WEFT_OP_CONNECT);
        k->ops->close(k); /* the half-open socket goes with the future */
        *c->sock = NULL;
    }
    if (*c->timer_on) {
        weft_future_drop(&c->timer->base);
        *c->timer_on = false;
    }
}
