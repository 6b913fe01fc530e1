/* runtime/net/udp.c - UDP sockets (weft/net.h): bind, send_to / recv_from, connect + send /
 * recv, over the runtime's backend.
 *
 * The futures are leaves: each poll asks the backend once, and reports to the tools that the
 * task waits on the socket (send: WRITE, recv: READ) while it is PENDING. Both are cancel-safe:
 * a datagram is sent whole or not at all, and received only when the poll returns READY.
 */
#include <stdlib.h>

#include "../sync/resource.h"
#include "backend.h"

struct weft_udp_socket {
    weft__net_sock *sock; /* [fixed] */
};

int weft__udp_bind(weft_udp_socket **out, const weft_sockaddr *addr, weft_location where)
{
    if (!out || !addr)
        return WEFT_EINVAL;
    *out = NULL;
    weft_runtime *rt;
    const weft__net_backend *net;
    int err = weft__net_current(&rt, &net);
    if (err)
        return err;
    weft_udp_socket *u = malloc(sizeof *u);
    if (!u)
        return WEFT_ENOMEM;
    err = net->udp_bind(rt, addr, where, &u->sock);
    if (err) {
        free(u);
        return err;
    }
    *out = u;
    return 0;
}

int weft_udp_connect(weft_udp_socket *u, const weft_sockaddr *addr)
{
    if (!u || !addr)
        return WEFT_EINVAL;
    return u->sock->ops->udp_connect(u->sock, addr);
}

int weft_udp_local_addr(weft_udp_socket *u, weft_sockaddr *out)
{
    if (!u || !out)
        return WEFT_EINVAL;
    return u->sock->ops->local_addr(u->sock, out);
}

int weft_udp_peer_addr(weft_udp_socket *u, weft_sockaddr *out)
{
    if (!u || !out)
        return WEFT_EINVAL;
    return u->sock->ops->peer_addr(u->sock, out);
}

void weft_udp_close(weft_udp_socket *u)
{
    if (!u)
        return;
    u->sock->ops->close(u->sock);
    free(u);
}

static void wait_report(weft__net_sock *k, bool pending, bool *waiting, int op,
                        weft_location where)
{
    if (pending && !*waiting) {
        *waiting = true;
        weft__resource_wait(&k->res, op, where);
    } else if (!pending && *waiting) {
        *waiting = false;
        weft__resource_wait_done(&k->res, op);
    }
}

static weft_poll send_poll(weft_future *f, weft_context *cx)
{
    weft_udp_send *s = (weft_udp_send *)f;
    if (!s->sock) {
        s->status = WEFT_EINVAL;
        return WEFT_READY;
    }
    weft__net_sock *k = s->sock->sock;
    weft_poll p = k->ops->poll_send_to(k, cx, s->buf, s->len, s->to.len ? &s->to : NULL, &s->n,
                                       &s->status);
    wait_report(k, p == WEFT_PENDING, &s->waiting, WEFT_OP_WRITE, s->where);
    return p;
}

static void send_drop(weft_future *f)
{
    weft_udp_send *s = (weft_udp_send *)f;
    if (s->sock)
        wait_report(s->sock->sock, false, &s->waiting, WEFT_OP_WRITE, s->where);
}

static const weft_future_vtable send_vt = {send_poll, send_drop, "udp_send"};

void weft__udp_send_init(weft_udp_send *f, weft_udp_socket *u, const void *buf, size_t len,
                         const weft_sockaddr *to, weft_location where)
{
    *f = (weft_udp_send){.base = {&send_vt}, .sock = u, .buf = buf, .len = len, .where = where};
    if (to)
        f->to = *to;
}

static weft_poll recv_poll(weft_future *f, weft_context *cx)
{
    weft_udp_recv *r = (weft_udp_recv *)f;
    if (!r->sock) {
        r->status = WEFT_EINVAL;
        return WEFT_READY;
    }
    weft__net_sock *k = r->sock->sock;
    weft_poll p = k->ops->poll_recv_from(k, cx, r->buf, r->cap, &r->from, &r->n, &r->status);
    wait_report(k, p == WEFT_PENDING, &r->waiting, WEFT_OP_READ, r->where);
    return p;
}

static void recv_drop(weft_future *f)
{
    weft_udp_recv *r = (weft_udp_recv *)f;
    if (r->sock)
        wait_report(r->sock->sock, false, &r->waiting, WEFT_OP_READ, r->where);
}

static const weft_future_vtable recv_vt = {recv_poll, recv_drop, "udp_recv"};

void weft__udp_recv_init(weft_udp_recv *f, weft_udp_socket *u, void *buf, size_t cap,
                         weft_location where)
{
    *f = (weft_udp_recv){.base = {&recv_vt}, .sock = u, .buf = buf, .cap = cap, .where = where};
}
