/* replay/simnet/stream.c - simulated TCP and Unix streams: listeners, connect, accept, and the
 * in-memory pipes that carry the bytes.
 *
 * A connect finds the listener bound to the address (simnet.c) and queues a new connection
 * there at once, as a kernel completes the handshake before the server accepts: the client's
 * poll_connect completes on its first poll, and it may write before the server accepts. Only
 * the first `backlog` queued connections are established; a connect past that waits
 * (SIM_QUEUED) until an accept makes room. Nobody listening: TCP connects are refused by
 * poll_connect, Unix ones fail at once (ENOENT: the socket file does not exist), as the real
 * backend does; a `hang` address leaves the connect pending for ever (SIM_HANGING).
 *
 * Reads and writes (the contract of runtime/net/backend.h, points 1-4):
 *
 *     read:  reset ─▶ ECONNRESET │ rd_shut ─▶ 0 │ bytes ─▶ 1..min(cap, len) │ eof ─▶ 0 │ wait
 *     write: wr_shut ─▶ ECLOSED │ reset ─▶ ECONNRESET │ reader gone ─▶ EPIPE
 *            │ room ─▶ 1..min(len, room) │ wait
 *
 * How many bytes a read returns or a write takes when `split` is on is drawn from the pipe's
 * own stream (simnet_int.h): half of the time everything that fits, otherwise a uniform cut
 * in 1..fits-1, so every split point of a message is reachable and small pieces are common.
 *
 * Closing a stream (point 7) with unread bytes in its receive pipe resets the connection;
 * otherwise the peer reads end of stream after the bytes in flight, and its writes fail with
 * EPIPE. Each change wakes whichever side of the peer it concerns, through the peer's wakers.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "simnet_int.h"

static inline sim_sock *SIM(weft__net_sock *s)
{
    return (sim_sock *)s;
}

/* ---------------------------------------------------------------- connections */

static void conn_unref(sim_conn *c)
{
    if (--c->refs > 0)
        return;
    free(c->pipe[0].buf);
    free(c->pipe[1].buf);
    free(c);
}

static sim_sock *peer_of(sim_sock *s)
{
    return s->conn ? s->conn->end[1 - s->side] : NULL;
}

/* Something changed for both directions of the peer (a reset, a close): wake both. */
static void wake_peer_all(sim_sock *s, unsigned bits)
{
    sim_sock *p = peer_of(s);
    if (p) {
        weft__simnet_wake(p, &p->rd, bits);
        weft__simnet_wake(p, &p->wr, bits);
    }
}

/* How much of `fits` bytes to move now. */
static size_t cut(const sim_sock *s, uint64_t *rng, size_t fits)
{
    if (!s->net->opt.split || fits <= 1)
        return fits;
    uint64_t r = weft__simnet_next(rng);
    if ((r & 1) == 0)
        return fits;
    return 1 + (size_t)((r >> 1) % (fits - 1));
}

/* ---------------------------------------------------------------- listeners */

int weft__simnet_listen(weft_runtime *rt, weft__sock_kind kind, const weft_sockaddr *addr,
                        const weft__listen_opts *opts, weft_location where,
                        weft__net_sock **out)
{
    weft__simnet *net = weft__simnet_of(rt);
    if (!net)
        return WEFT_ENOSYS;
    int err = weft__simnet_family_ok(addr, kind);
    if (err)
        return err;
    weft_sockaddr a = *addr;
    if (kind == WEFT__SOCK_TCP_LISTENER) {
        if (weft_sockaddr_port(&a) == 0) {
            uint16_t port = weft__simnet_ephemeral(net, false, &a);
            if (!port)
                return weft_os_error(EADDRINUSE);
            weft__simnet_set_port(&a, port);
        }
    } else {
        const char *path = a.u.un.sun_path;
        size_t off = offsetof(struct sockaddr_un, sun_path);
        if (a.len <= off || (path[0] == '\0' && a.len <= off + 1))
            return WEFT_EINVAL; /* an unnamed listener cannot be reached */
    }
    if (weft__simnet_addr_in_use(net, false, &a))
        return weft_os_error(EADDRINUSE);
    sim_sock *s = weft__simnet_sock_new(net, kind, where);
    if (!s)
        return WEFT_ENOMEM;
    s->local = a;
    s->backlog = opts && opts->backlog > 0 ? (size_t)opts->backlog : 1;
    weft__simnet_bind(s);
    *out = &s->base;
    return 0;
}

void weft__simnet_close_listener(sim_sock *s)
{
    weft__simnet_unbind(s);
    /* Connections nobody accepted are reset: their clients read ECONNRESET (or, still
     * queued past the backlog, are refused). */
    while (s->q_head) {
        sim_conn *c = s->q_head;
        s->q_head = c->next;
        c->next = NULL;
        c->reset = true;
        s->net->stats.resets++;
        sim_sock *client = c->end[0];
        if (client) {
            weft__simnet_wake(client, &client->rd, 0x10u);
            weft__simnet_wake(client, &client->wr, 0x10u);
        }
        conn_unref(c);
    }
    s->q_tail = NULL;
    s->qlen = 0;
}

weft_poll weft__simnet_poll_accept(weft__net_sock *l, weft_context *cx, weft_location where,
                                   weft__net_sock **out, weft_sockaddr *peer, int *err)
{
    sim_sock *s = SIM(l);
    *out = NULL;
    *err = 0;
    if (!weft__coop_proceed_inline(cx))
        return WEFT_PENDING;
    sim_conn *c = s->q_head;
    if (!c) {
        weft_waker_register(&s->rd, cx);
        return WEFT_PENDING;
    }
    weft__sock_kind kind =
        l->kind == WEFT__SOCK_UNIX_LISTENER ? WEFT__SOCK_UNIX_STREAM : WEFT__SOCK_TCP_STREAM;
    sim_sock *a = weft__simnet_sock_new(s->net, kind, where);
    if (!a) {
        /* The connection stays queued: a later accept may take it. */
        *err = WEFT_ENOMEM;
        return WEFT_READY;
    }
    s->q_head = c->next;
    if (!s->q_head)
        s->q_tail = NULL;
    s->qlen--;
    c->next = NULL;
    c->refs--;            /* the queue's reference ... */
    c->refs++;            /* ... becomes the server end's */
    c->end[1] = a;
    a->conn = c;
    a->side = 1;
    a->cstate = SIM_CONNECTED;
    a->local = c->addr[1];
    a->peer = c->addr[0];
    a->addrs_reported = true;
    /* Room in the established part of the queue: the oldest waiting connect completes. */
    size_t i = 0;
    for (sim_conn *q = s->q_head; q; q = q->next, i++) {
        if (!q->established && i < s->backlog) {
            q->established = true;
            if (q->end[0])
                weft__simnet_wake(q->end[0], &q->end[0]->wr, 0x02u);
        }
    }
    if (peer)
        *peer = c->addr[0];
    weft__net_sock_report_addrs(&a->base);
    *out = &a->base;
    return WEFT_READY;
}

/* ---------------------------------------------------------------- connect */

static bool hangs(const weft__simnet *net, const weft_sockaddr *a)
{
    for (unsigned i = 0; i < net->opt.nhang; i++)
        if (weft__simnet_addr_matches(&net->opt.hang[i], a))
            return true;
    return false;
}

/* The client's own address: on the one simulated host, the IP it connected to (loopback for
 * a wildcard) with an ephemeral port; for Unix, unnamed. */
static void client_addr(weft__simnet *net, const weft_sockaddr *to, weft_sockaddr *out)
{
    memset(out, 0, sizeof *out);
    if (to->u.sa.sa_family == AF_UNIX) {
        out->u.un.sun_family = AF_UNIX;
        out->len = (socklen_t)offsetof(struct sockaddr_un, sun_path);
        return;
    }
    *out = *to;
    if (weft__simnet_ip_any(out)) {
        if (out->u.sa.sa_family == AF_INET)
            out->u.in4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        else
            out->u.in6.sin6_addr = in6addr_loopback;
    }
    weft__simnet_set_port(out, weft__simnet_ephemeral(net, false, out));
}

int weft__simnet_connect(weft_runtime *rt, weft__sock_kind kind, const weft_sockaddr *addr,
                         weft_location where, weft__net_sock **out)
{
    weft__simnet *net = weft__simnet_of(rt);
    if (!net)
        return WEFT_ENOSYS;
    int err = weft__simnet_family_ok(addr, kind);
    if (err)
        return err;
    weft__sock_kind lkind =
        kind == WEFT__SOCK_UNIX_STREAM ? WEFT__SOCK_UNIX_LISTENER : WEFT__SOCK_TCP_LISTENER;
    bool hang = hangs(net, addr);
    sim_sock *l = hang ? NULL : weft__simnet_find(net, lkind, addr);
    if (!l && !hang && kind == WEFT__SOCK_UNIX_STREAM) {
        net->stats.refused++;
        return weft_os_error(ENOENT);
    }
    sim_conn *c = NULL;
    if (l) {
        c = calloc(1, sizeof *c);
        if (!c)
            return WEFT_ENOMEM;
    }
    sim_sock *s = weft__simnet_sock_new(net, kind, where);
    if (!s) {
        free(c);
        return WEFT_ENOMEM;
    }
    client_addr(net, addr, &s->local);
    s->peer = *addr;
    if (hang) {
        s->cstate = SIM_HANGING;
    } else if (!l) {
        s->cstate = SIM_REFUSED;
        net->stats.refused++;
    } else {
        uint32_t ord = ++net->next_conn;
        for (int i = 0; i < 2; i++) {
            c->pipe[i].cap = net->opt.buffer;
            c->pipe[i].rng = weft__simnet_stream(net, ord, (uint64_t)i);
        }
        c->end[0] = s;
        c->refs = 2; /* the client and the listener's queue */
        c->addr[0] = s->local;
        /* The server's side: the listener's address, or for a wildcard listener the IP the
         * client reached (its own, on this one host) with the listener's port. */
        c->addr[1] = l->local;
        if (weft__simnet_is_ip(&l->local) && weft__simnet_ip_any(&l->local)) {
            c->addr[1] = s->local;
            weft__simnet_set_port(&c->addr[1], weft_sockaddr_port(&l->local));
        }
        s->peer = c->addr[1];
        c->established = l->qlen < l->backlog;
        if (l->q_tail)
            l->q_tail->next = c;
        else
            l->q_head = c;
        l->q_tail = c;
        l->qlen++;
        s->conn = c;
        s->side = 0;
        s->cstate = c->established ? SIM_CONNECTED : SIM_QUEUED;
        net->stats.connections++;
        weft__simnet_wake(l, &l->rd, 0x01u);
    }
    *out = &s->base;
    return 0;
}

weft_poll weft__simnet_poll_connect(weft__net_sock *sock, weft_context *cx, int *err)
{
    sim_sock *s = SIM(sock);
    *err = 0;
    switch (s->cstate) {
    case SIM_REFUSED:
        *err = weft_os_error(ECONNREFUSED);
        return WEFT_READY;
    case SIM_HANGING:
        weft_waker_register(&s->wr, cx);
        return WEFT_PENDING;
    case SIM_QUEUED:
        if (s->conn->reset) {
            *err = weft_os_error(ECONNREFUSED);
            return WEFT_READY;
        }
        if (!s->conn->established) {
            weft_waker_register(&s->wr, cx);
            return WEFT_PENDING;
        }
        s->cstate = SIM_CONNECTED;
        break;
    default:
        break;
    }
    if (!s->addrs_reported) {
        s->addrs_reported = true;
        weft__net_sock_report_addrs(sock);
    }
    return WEFT_READY;
}

/* ---------------------------------------------------------------- reading and writing */

static int not_connected(const sim_sock *s)
{
    return s->cstate == SIM_REFUSED ? weft_os_error(ECONNREFUSED) : weft_os_error(ENOTCONN);
}

weft_poll weft__simnet_poll_read(weft__net_sock *sock, weft_context *cx, void *buf, size_t cap,
                                 size_t *n, int *err)
{
    sim_sock *s = SIM(sock);
    *n = 0;
    *err = 0;
    if (cap == 0)
        return WEFT_READY;
    if (!s->conn || s->cstate != SIM_CONNECTED) {
        *err = not_connected(s);
        return WEFT_READY;
    }
    if (!weft__coop_proceed_inline(cx))
        return WEFT_PENDING;
    sim_conn *c = s->conn;
    if (c->reset) {
        *err = weft_os_error(ECONNRESET);
        return WEFT_READY;
    }
    if (s->rd_shut)
        return WEFT_READY;
    sim_pipe *in = &c->pipe[1 - s->side];
    if (in->len == 0) {
        if (in->eof)
            return WEFT_READY; /* end of stream, for good */
        weft_waker_register(&s->rd, cx);
        return WEFT_PENDING;
    }
    size_t fits = cap < in->len ? cap : in->len;
    size_t take = cut(s, &in->rng, fits);
    /* The ring may wrap: copy in at most two pieces. */
    size_t first = in->cap - in->head;
    if (first > take)
        first = take;
    memcpy(buf, in->buf + in->head, first);
    memcpy((unsigned char *)buf + first, in->buf, take - first);
    in->head = (in->head + take) % in->cap;
    in->len -= take;
    if (in->len == 0)
        in->head = 0;
    *n = take;
    weft__net_count_in(sock, take);
    s->net->stats.bytes += take;
    s->net->stats.reads++;
    if (take < fits)
        s->net->stats.short_reads++;
    sim_sock *p = peer_of(s);
    if (p)
        weft__simnet_wake(p, &p->wr, 0x02u); /* room for the writer */
    return WEFT_READY;
}

weft_poll weft__simnet_poll_write(weft__net_sock *sock, weft_context *cx, const void *buf,
                                  size_t len, size_t *n, int *err)
{
    sim_sock *s = SIM(sock);
    *n = 0;
    *err = 0;
    if (s->wr_shut) {
        *err = WEFT_ECLOSED;
        return WEFT_READY;
    }
    if (len == 0)
        return WEFT_READY;
    if (!s->conn || s->cstate != SIM_CONNECTED) {
        *err = not_connected(s);
        return WEFT_READY;
    }
    if (!weft__coop_proceed_inline(cx))
        return WEFT_PENDING;
    sim_conn *c = s->conn;
    if (c->reset) {
        *err = weft_os_error(ECONNRESET);
        return WEFT_READY;
    }
    sim_pipe *out = &c->pipe[s->side];
    if (out->reader_gone) {
        *err = weft_os_error(EPIPE);
        return WEFT_READY;
    }
    size_t room = out->cap - out->len;
    if (room == 0) {
        weft_waker_register(&s->wr, cx);
        return WEFT_PENDING;
    }
    if (!out->buf && !(out->buf = malloc(out->cap))) {
        *err = WEFT_ENOMEM;
        return WEFT_READY;
    }
    size_t fits = len < room ? len : room;
    size_t put = cut(s, &out->rng, fits);
    size_t tail = (out->head + out->len) % out->cap;
    size_t first = out->cap - tail;
    if (first > put)
        first = put;
    memcpy(out->buf + tail, buf, first);
    memcpy(out->buf, (const unsigned char *)buf + first, put - first);
    out->len += put;
    *n = put;
    weft__net_count_out(sock, put);
    sim_sock *p = peer_of(s);
    if (p)
        weft__simnet_wake(p, &p->rd, 0x01u);
    return WEFT_READY;
}

int weft__simnet_shutdown(weft__net_sock *sock, bool both)
{
    sim_sock *s = SIM(sock);
    if (both)
        s->rd_shut = true;
    if (s->wr_shut)
        return 0;
    s->wr_shut = true;
    if (s->conn && !s->conn->reset) {
        s->conn->pipe[s->side].eof = true;
        sim_sock *p = peer_of(s);
        if (p)
            weft__simnet_wake(p, &p->rd, 0x04u); /* READ_CLOSED for the peer */
    }
    return 0;
}

void weft__simnet_close_stream(sim_sock *s)
{
    sim_conn *c = s->conn;
    if (!c)
        return;
    sim_pipe *in = &c->pipe[1 - s->side];
    if (!c->reset && in->len > 0) {
        /* Unread bytes are discarded: TCP answers with a reset. */
        c->reset = true;
        s->net->stats.resets++;
        wake_peer_all(s, 0x10u);
    } else if (!c->reset) {
        c->pipe[s->side].eof = true;
        in->reader_gone = true;
        wake_peer_all(s, 0x0cu);
    }
    c->end[s->side] = NULL;
    s->conn = NULL;
    conn_unref(c);
}
