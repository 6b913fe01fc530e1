/* replay/simnet/udp.c - simulated UDP: datagrams between sockets of the one simulated host.
 *
 * send_to finds the socket bound to the destination (an exact address before a wildcard) and
 * appends the datagram to its queue, whole; it never waits, as a UDP send on a real host
 * practically never does. A datagram is lost, silently as on a real network, when
 *
 *   - nobody is bound to the destination, or the destination is connected to another peer;
 *   - the receiver already holds opt.udp_queue unread datagrams (a full socket buffer);
 *   - the sender's stream draws it among the opt.udp_drop percent that are lost.
 *
 * With opt.udp_reorder, that percentage of datagrams overtakes the datagram queued just
 * before it (when there is one), so a receiver sees two of them in the other order. Drop and
 * reorder draws come from the sending socket's own stream (seed, socket ordinal): the same
 * run drops and reorders the same datagrams.
 *
 * recv_from takes the oldest datagram, truncated to the caller's buffer as recvfrom does.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "simnet_int.h"

#define UDP_MAX_PAYLOAD 65507u

static inline sim_sock *SIM(weft__net_sock *s)
{
    return (sim_sock *)s;
}

int weft__simnet_udp_bind(weft_runtime *rt, const weft_sockaddr *addr, weft_location where,
                          weft__net_sock **out)
{
    weft__simnet *net = weft__simnet_of(rt);
    if (!net)
        return WEFT_ENOSYS;
    int err = weft__simnet_family_ok(addr, WEFT__SOCK_UDP);
    if (err)
        return err;
    weft_sockaddr a = *addr;
    if (weft_sockaddr_port(&a) == 0) {
        uint16_t port = weft__simnet_ephemeral(net, true, &a);
        if (!port)
            return weft_os_error(EADDRINUSE);
        weft__simnet_set_port(&a, port);
    }
    if (weft__simnet_addr_in_use(net, true, &a))
        return weft_os_error(EADDRINUSE);
    sim_sock *s = weft__simnet_sock_new(net, WEFT__SOCK_UDP, where);
    if (!s)
        return WEFT_ENOMEM;
    s->local = a;
    s->rng = weft__simnet_stream(net, 0x0d6ull << 32 | s->ordinal, 2);
    weft__simnet_bind(s);
    weft__net_sock_report_addrs(&s->base);
    *out = &s->base;
    return 0;
}

int weft__simnet_udp_connect(weft__net_sock *sock, const weft_sockaddr *addr)
{
    int err = weft__simnet_family_ok(addr, WEFT__SOCK_UDP);
    if (err)
        return err;
    sim_sock *s = SIM(sock);
    if (addr->u.sa.sa_family != s->local.u.sa.sa_family)
        return weft_os_error(EAFNOSUPPORT);
    s->peer = *addr;
    weft__net_sock_report_addrs(sock);
    return 0;
}

/* The sender's address as the receiver sees it: a wildcard becomes the destination's IP (or
 * loopback), as the kernel picks the source address of the route. */
static weft_sockaddr source_of(const sim_sock *s, const weft_sockaddr *to)
{
    weft_sockaddr a = s->local;
    if (weft__simnet_ip_any(&a)) {
        uint16_t port = weft_sockaddr_port(&a);
        a = *to;
        if (weft__simnet_ip_any(&a)) {
            if (a.u.sa.sa_family == AF_INET)
                a.u.in4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            else
                a.u.in6.sin6_addr = in6addr_loopback;
        }
        weft__simnet_set_port(&a, port);
    }
    return a;
}

static bool same_endpoint(const weft_sockaddr *a, const weft_sockaddr *b)
{
    return weft__simnet_addr_matches(a, b) && weft__simnet_addr_matches(b, a);
}

static bool draw_percent(sim_sock *s, unsigned pct)
{
    if (pct == 0)
        return false;
    if (pct >= 100)
        return true;
    return weft__simnet_next(&s->rng) % 100u < pct;
}

/* Queue d at the receiver r (takes it). */
static void deliver(sim_sock *from, sim_sock *r, sim_dgram *d)
{
    weft__simnet *net = r->net;
    d->next = NULL;
    if (r->dq_tail && draw_percent(from, net->opt.udp_reorder)) {
        /* Overtake the last queued datagram: insert before the tail. */
        sim_dgram **p = &r->dq_head;
        while ((*p)->next)
            p = &(*p)->next;
        d->next = *p;
        *p = d;
        net->stats.datagrams_reordered++;
    } else {
        if (r->dq_tail)
            r->dq_tail->next = d;
        else
            r->dq_head = d;
        r->dq_tail = d;
    }
    r->dqlen++;
    weft__simnet_wake(r, &r->rd, 0x01u);
}

weft_poll weft__simnet_poll_send_to(weft__net_sock *sock, weft_context *cx, const void *buf,
                                    size_t len, const weft_sockaddr *to, size_t *n, int *err)
{
    sim_sock *s = SIM(sock);
    weft__simnet *net = s->net;
    *n = 0;
    *err = 0;
    if (to && (to->len == 0 || to->len > sizeof to->u)) {
        *err = WEFT_EINVAL;
        return WEFT_READY;
    }
    if (!to) {
        if (!s->peer.len) {
            *err = weft_os_error(EDESTADDRREQ);
            return WEFT_READY;
        }
        to = &s->peer;
    }
    if (to->u.sa.sa_family != s->local.u.sa.sa_family) {
        *err = weft_os_error(EAFNOSUPPORT);
        return WEFT_READY;
    }
    if (len > UDP_MAX_PAYLOAD) {
        *err = weft_os_error(EMSGSIZE);
        return WEFT_READY;
    }
    if (!weft__coop_proceed_inline(cx))
        return WEFT_PENDING;
    net->stats.datagrams_sent++;
    weft__net_count_out(sock, len);
    *n = len;
    weft_sockaddr src = source_of(s, to);
    sim_sock *r = weft__simnet_find(net, WEFT__SOCK_UDP, to);
    /* The drop draw is taken for every datagram, delivered or not, so that one receiver's
     * absence does not shift the fate of the datagrams after it. */
    bool lost = draw_percent(s, net->opt.udp_drop);
    if (!r || lost || r->dqlen >= net->opt.udp_queue ||
        (r->peer.len && !same_endpoint(&r->peer, &src))) {
        net->stats.datagrams_dropped++;
        return WEFT_READY;
    }
    sim_dgram *d = malloc(sizeof *d + (len ? len : 1));
    if (!d) {
        net->stats.datagrams_dropped++;
        return WEFT_READY; /* lost for want of memory: UDP promises nothing more */
    }
    d->from = src;
    d->len = len;
    if (len)
        memcpy(d->data, buf, len);
    deliver(s, r, d);
    return WEFT_READY;
}

weft_poll weft__simnet_poll_recv_from(weft__net_sock *sock, weft_context *cx, void *buf,
                                      size_t cap, weft_sockaddr *from, size_t *n, int *err)
{
    sim_sock *s = SIM(sock);
    *n = 0;
    *err = 0;
    if (!weft__coop_proceed_inline(cx))
        return WEFT_PENDING;
    sim_dgram *d = s->dq_head;
    if (!d) {
        weft_waker_register(&s->rd, cx);
        return WEFT_PENDING;
    }
    s->dq_head = d->next;
    if (!s->dq_head)
        s->dq_tail = NULL;
    s->dqlen--;
    size_t take = d->len < cap ? d->len : cap;
    if (take)
        memcpy(buf, d->data, take);
    if (from)
        *from = d->from;
    *n = take;
    weft__net_count_in(sock, take);
    free(d);
    return WEFT_READY;
}

void weft__simnet_close_udp(sim_sock *s)
{
    weft__simnet_unbind(s);
    while (s->dq_head) {
        sim_dgram *d = s->dq_head;
        s->dq_head = d->next;
        free(d);
    }
    s->dq_tail = NULL;
    s->dqlen = 0;
}
