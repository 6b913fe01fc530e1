/* runtime/net/net.c - what every socket shares, whatever its backend: choosing the backend,
 * the socket as a resource for the tools, and how OS errors become weft errors.
 *
 * Who calls it: weft_runtime_new (weft__net_init), the front ends (tcp.c, unix.c, udp.c,
 * stream.c: weft__net_current) and the backends (weft__net_sock_init / _fini when they make
 * and free a socket). See backend.h for the contract between front ends and backends.
 */
#include <errno.h>

#include "../../replay/simnet/simnet.h"
#include "../sync/resource.h"
#include "../util/list.h"
#include "backend.h"

int weft__net_init(weft_runtime *rt)
{
    if (rt->det) {
        /* The deterministic scheduler never parks in the driver, so real sockets would never
         * be woken under it: it gets its simulated network (replay/simnet/). */
        return weft__simnet_init(rt);
    }
    if (!weft__driver_reactor(rt->driver))
        return WEFT_ENOSYS;
    rt->net = &weft__sys_net;
    return 0;
}

int weft__net_current(weft_runtime **rt, const weft__net_backend **net)
{
    weft_runtime *cur = weft__tls.rt;
    if (!cur)
        return WEFT_ENORUNTIME;
    if (!cur->net)
        return WEFT_ENOSYS;
    *rt = cur;
    *net = cur->net;
    return 0;
}

static weft_resource_kind resource_kind(weft__sock_kind kind)
{
    switch (kind) {
    case WEFT__SOCK_TCP_LISTENER: return WEFT_RESOURCE_TCP_LISTENER;
    case WEFT__SOCK_TCP_STREAM: return WEFT_RESOURCE_TCP_STREAM;
    case WEFT__SOCK_UDP: return WEFT_RESOURCE_UDP_SOCKET;
    case WEFT__SOCK_UNIX_LISTENER: return WEFT_RESOURCE_UNIX_LISTENER;
    case WEFT__SOCK_UNIX_STREAM: return WEFT_RESOURCE_UNIX_STREAM;
    }
    return WEFT_RESOURCE_TCP_STREAM;
}

static void report_addrs(weft__net_sock *s);

/* A reader that attaches late gets the socket's addresses and byte counts again. Called under
 * the registry lock, so the socket is alive (its close drops the resource first). */
static void sock_snapshot(const weft_resource *r)
{
    weft__net_sock *s = weft__container_of(r, weft__net_sock, res);
    report_addrs(s);
    WEFT__EMIT(resource_state, &s->res, atomic_load(&s->bytes_in),
               (uint8_t)WEFT_ATTR_BYTES_IN);
    WEFT__EMIT(resource_state, &s->res, atomic_load(&s->bytes_out),
               (uint8_t)WEFT_ATTR_BYTES_OUT);
}

void weft__net_sock_init(weft__net_sock *s, const weft__net_backend *ops, weft__sock_kind kind,
                         weft_location where)
{
    s->ops = ops;
    s->kind = kind;
    atomic_init(&s->bytes_in, 0);
    atomic_init(&s->bytes_out, 0);
    weft__resource_init(&s->res, resource_kind(kind), NULL, where);
    s->res.snapshot = sock_snapshot;
}

void weft__net_sock_fini(weft__net_sock *s)
{
    weft__resource_drop(&s->res);
}

/* The packed form of events.h (WEFT_EV_ADDR_*). */
static uint64_t pack_addr(const weft_sockaddr *a)
{
    if (a->len == 0)
        return 0;
    switch (a->u.sa.sa_family) {
    case AF_INET:
        return (4ull << 56) | ((uint64_t)ntohl(a->u.in4.sin_addr.s_addr) << 16) |
               ntohs(a->u.in4.sin_port);
    case AF_INET6:
        return (6ull << 56) | ntohs(a->u.in6.sin6_port);
    case AF_UNIX:
        return 1ull << 56;
    default:
        return 0;
    }
}

static void report_addrs(weft__net_sock *s)
{
    weft_sockaddr a;
    if (s->ops->local_addr && s->ops->local_addr(s, &a) == 0)
        WEFT__EMIT(resource_state, &s->res, pack_addr(&a), (uint8_t)WEFT_ATTR_LOCAL_ADDR);
    if (s->kind != WEFT__SOCK_TCP_LISTENER && s->kind != WEFT__SOCK_UNIX_LISTENER &&
        s->ops->peer_addr && s->ops->peer_addr(s, &a) == 0)
        WEFT__EMIT(resource_state, &s->res, pack_addr(&a), (uint8_t)WEFT_ATTR_PEER_ADDR);
}

void weft__net_sock_report_addrs(weft__net_sock *s)
{
#if WEFT_INSTRUMENT
    if (WEFT__TRACING())
        report_addrs(s);
#else
    (void)s;
    (void)report_addrs;
#endif
}

int weft__net_errno(int e)
{
    switch (e) {
    case 0: return WEFT_EIO; /* a failure without a reason: never report success */
    case EAGAIN: return WEFT_EAGAIN;
    case ENOMEM: return WEFT_ENOMEM;
    case EINVAL: return WEFT_EINVAL;
    default: return weft_os_error(e);
    }
}
