/* replay/simnet/simnet.c - the simulated network of one deterministic runtime: its options,
 * its address space, the backend table, and the life of its sockets.
 *
 * Who calls it: weft__net_init (runtime/net/net.c) through weft__simnet_init when a runtime
 * driven by the deterministic scheduler enables I/O; the scheduler (det_sched.c) releases it;
 * the front ends (runtime/net/tcp.c, unix.c, udp.c, stream.c) through weft__simnet_backend;
 * stream.c and udp.c through simnet_int.h.
 *
 * Invariants: one thread (the scheduler's) touches a network and its sockets. `bound` lists
 * every open listener and UDP socket, and no two of the same protocol whose addresses overlap
 * (same family and port, and the same IP or a wildcard). The network lives while the
 * scheduler or any socket holds a reference, so a socket closed after the runtime (a program
 * bug that ASan reports as a leak anyway) never touches freed memory.
 *
 * Randomness: never weft_rand. Each consumer (a pipe, a UDP sender) owns a stream derived
 * from the run's seed and its own ordinal, so the program's weft_rand sequence is the same
 * with and without network traffic, and one connection's cuts do not move when another's
 * traffic changes (which keeps a shrunk schedule failing the way the original did).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../det_int.h"
#include "simnet_int.h"

/* ---------------------------------------------------------------- options */

#define BUFFER_MAX (16u << 20)
#define DGRAM_QUEUE_MAX 65536u

static weft_simnet_options configured;
static bool configured_set;

void weft_simnet_options_default(weft_simnet_options *o)
{
    memset(o, 0, sizeof *o);
    o->buffer = 65536;
    o->split = true;
    o->udp_queue = 64;
}

static int check_options(const weft_simnet_options *o)
{
    if (o->buffer < 1 || o->buffer > BUFFER_MAX || o->udp_drop > 100 || o->udp_reorder > 100 ||
        o->udp_queue < 1 || o->udp_queue > DGRAM_QUEUE_MAX || o->nhang > WEFT_SIMNET_MAX_HANG)
        return WEFT_EINVAL;
    return 0;
}

int weft_simnet_configure(const weft_simnet_options *o)
{
    if (!o) {
        configured_set = false;
        return 0;
    }
    if (check_options(o))
        return WEFT_EINVAL;
    configured = *o;
    configured_set = true;
    return 0;
}

static bool parse_uint(const char *v, size_t n, unsigned long long max, unsigned long long *out)
{
    if (n == 0 || n > 20)
        return false;
    unsigned long long x = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9')
            return false;
        x = x * 10 + (unsigned)(v[i] - '0');
        if (x > max)
            return false;
    }
    *out = x;
    return true;
}

int weft_simnet_parse(weft_simnet_options *o, const char *text, char *err, size_t err_size)
{
    char dummy[1];
    if (!err) {
        err = dummy;
        err_size = sizeof dummy;
    }
    if (!o || !text) {
        snprintf(err, err_size, "no options");
        return WEFT_EINVAL;
    }
    weft_simnet_options t = *o;
    const char *p = text;
    while (*p) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        const char *eq = memchr(p, '=', n);
        if (!eq) {
            snprintf(err, err_size, "'%.*s': expected KEY=VALUE", (int)n, p);
            return WEFT_EINVAL;
        }
        size_t klen = (size_t)(eq - p);
        const char *v = eq + 1;
        size_t vlen = n - klen - 1;
        unsigned long long x = 0;
        bool ok;
#define KEY(name) (klen == sizeof(name) - 1 && memcmp(p, name, klen) == 0)
        if (KEY("buffer")) {
            ok = parse_uint(v, vlen, BUFFER_MAX, &x) && x >= 1;
            t.buffer = (size_t)x;
        } else if (KEY("split")) {
            ok = true;
            if ((vlen == 2 && memcmp(v, "on", 2) == 0) || (vlen == 1 && v[0] == '1'))
                t.split = true;
            else if ((vlen == 3 && memcmp(v, "off", 3) == 0) || (vlen == 1 && v[0] == '0'))
                t.split = false;
            else
                ok = false;
        } else if (KEY("udp-drop")) {
            ok = parse_uint(v, vlen, 100, &x);
            t.udp_drop = (unsigned)x;
        } else if (KEY("udp-reorder")) {
            ok = parse_uint(v, vlen, 100, &x);
            t.udp_reorder = (unsigned)x;
        } else if (KEY("udp-queue")) {
            ok = parse_uint(v, vlen, DGRAM_QUEUE_MAX, &x) && x >= 1;
            t.udp_queue = (unsigned)x;
        } else if (KEY("hang")) {
            char a[WEFT_SOCKADDR_STRLEN];
            ok = vlen < sizeof a && t.nhang < WEFT_SIMNET_MAX_HANG;
            if (ok) {
                memcpy(a, v, vlen);
                a[vlen] = '\0';
                ok = weft_sockaddr_parse(&t.hang[t.nhang], a) == 0;
                if (ok)
                    t.nhang++;
            }
        } else {
            snprintf(err, err_size,
                     "unknown key '%.*s' (buffer, split, udp-drop, udp-reorder, udp-queue, hang)",
                     (int)klen, p);
            return WEFT_EINVAL;
        }
#undef KEY
        if (!ok) {
            snprintf(err, err_size, "bad value in '%.*s'", (int)n, p);
            return WEFT_EINVAL;
        }
        p += n + (end ? 1 : 0);
    }
    *o = t;
    return 0;
}

/* ---------------------------------------------------------------- the network */

weft__simnet *weft__simnet_of(weft_runtime *rt)
{
    return rt && rt->det ? rt->det->simnet : NULL;
}

int weft__simnet_init(weft_runtime *rt)
{
    weft_simnet_options o;
    if (configured_set)
        o = configured;
    else
        weft_simnet_options_default(&o);
    const char *env = getenv("WEFT_SIMNET");
    if (env && *env) {
        char err[256];
        if (weft_simnet_parse(&o, env, err, sizeof err) != 0) {
            fprintf(stderr, "weft: WEFT_SIMNET: %s\n", err);
            return WEFT_EINVAL;
        }
    }
    weft__simnet *net = calloc(1, sizeof *net);
    if (!net)
        return WEFT_ENOMEM;
    net->refs = 1;
    net->opt = o;
    net->seed = rt->det->cfg->seed;
    net->next_port = 49152;
    rt->det->simnet = net;
    rt->net = &weft__simnet_backend;
    return 0;
}

static void net_unref(weft__simnet *net)
{
    if (--net->refs == 0)
        free(net);
}

void weft__simnet_release(weft__simnet *net)
{
    if (net)
        net_unref(net);
}

int weft_simnet_stats_get(weft_simnet_stats *out)
{
    if (!out)
        return WEFT_EINVAL;
    memset(out, 0, sizeof *out);
    weft_runtime *rt = weft__tls.rt;
    if (!rt)
        return WEFT_ENORUNTIME;
    weft__simnet *net = weft__simnet_of(rt);
    if (!net || rt->net != &weft__simnet_backend)
        return WEFT_ENOSYS;
    *out = net->stats;
    return 0;
}

/* ---------------------------------------------------------------- randomness */

static uint64_t splitmix(uint64_t x)
{
    x += 0x9E3779B97F4A7C15u;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9u;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBu;
    return x ^ (x >> 31);
}

uint64_t weft__simnet_stream(const weft__simnet *net, uint64_t a, uint64_t b)
{
    uint64_t x = splitmix(splitmix(net->seed ^ 0x51a3e7u) ^ (a * 0x9E3779B97F4A7C15u) ^
                          (b + 0x632BE59BD9B4E019u));
    return x ? x : 1;
}

uint64_t weft__simnet_next(uint64_t *rng)
{
    /* xorshift64*, as weft_rand: a cheap stream per consumer. */
    uint64_t x = *rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *rng = x;
    return x * 0x2545F4914F6CDD1Du;
}

/* ---------------------------------------------------------------- addresses */

bool weft__simnet_is_ip(const weft_sockaddr *a)
{
    return a->len && (a->u.sa.sa_family == AF_INET || a->u.sa.sa_family == AF_INET6);
}

bool weft__simnet_ip_any(const weft_sockaddr *a)
{
    if (a->u.sa.sa_family == AF_INET)
        return a->u.in4.sin_addr.s_addr == htonl(INADDR_ANY);
    if (a->u.sa.sa_family == AF_INET6)
        return memcmp(&a->u.in6.sin6_addr, &in6addr_any, sizeof in6addr_any) == 0;
    return false;
}

static bool ip_equal(const weft_sockaddr *a, const weft_sockaddr *b)
{
    if (a->u.sa.sa_family != b->u.sa.sa_family)
        return false;
    if (a->u.sa.sa_family == AF_INET)
        return a->u.in4.sin_addr.s_addr == b->u.in4.sin_addr.s_addr;
    return memcmp(&a->u.in6.sin6_addr, &b->u.in6.sin6_addr, sizeof a->u.in6.sin6_addr) == 0;
}

/* A Unix address's name: the path up to its NUL, or the abstract name's bytes. */
static size_t unix_name(const weft_sockaddr *a, const char **name)
{
    size_t off = offsetof(struct sockaddr_un, sun_path);
    if (a->len <= off) {
        *name = "";
        return 0;
    }
    size_t n = a->len - off;
    if (n > sizeof a->u.un.sun_path)
        n = sizeof a->u.un.sun_path;
    *name = a->u.un.sun_path;
    if (a->u.un.sun_path[0] != '\0')
        n = strnlen(a->u.un.sun_path, n);
    return n;
}

bool weft__simnet_addr_matches(const weft_sockaddr *bound, const weft_sockaddr *to)
{
    if (!bound->len || !to->len || bound->u.sa.sa_family != to->u.sa.sa_family)
        return false;
    if (bound->u.sa.sa_family == AF_UNIX) {
        const char *x, *y;
        size_t nx = unix_name(bound, &x), ny = unix_name(to, &y);
        return nx && nx == ny && memcmp(x, y, nx) == 0;
    }
    if (weft_sockaddr_port(bound) != weft_sockaddr_port(to))
        return false;
    return weft__simnet_ip_any(bound) || ip_equal(bound, to);
}

static bool kind_is_udp(weft__sock_kind k)
{
    return k == WEFT__SOCK_UDP;
}

bool weft__simnet_addr_in_use(weft__simnet *net, bool udp, const weft_sockaddr *a)
{
    for (sim_sock *s = net->bound; s; s = s->next_bound) {
        if (kind_is_udp(s->base.kind) != udp || s->local.u.sa.sa_family != a->u.sa.sa_family)
            continue;
        if (a->u.sa.sa_family == AF_UNIX) {
            if (weft__simnet_addr_matches(&s->local, a))
                return true;
            continue;
        }
        if (weft_sockaddr_port(&s->local) == weft_sockaddr_port(a) &&
            (weft__simnet_ip_any(&s->local) || weft__simnet_ip_any(a) || ip_equal(&s->local, a)))
            return true;
    }
    return false;
}

void weft__simnet_set_port(weft_sockaddr *a, uint16_t port)
{
    if (a->u.sa.sa_family == AF_INET)
        a->u.in4.sin_port = htons(port);
    else if (a->u.sa.sa_family == AF_INET6)
        a->u.in6.sin6_port = htons(port);
}

uint16_t weft__simnet_ephemeral(weft__simnet *net, bool udp, const weft_sockaddr *a)
{
    weft_sockaddr probe = *a;
    for (unsigned tries = 0; tries < 65536 - 49152; tries++) {
        uint16_t port = (uint16_t)net->next_port;
        net->next_port = net->next_port == 65535 ? 49152 : net->next_port + 1;
        weft__simnet_set_port(&probe, port);
        if (!weft__simnet_addr_in_use(net, udp, &probe))
            return port;
    }
    return 0;
}

void weft__simnet_bind(sim_sock *s)
{
    s->next_bound = s->net->bound;
    s->net->bound = s;
}

void weft__simnet_unbind(sim_sock *s)
{
    for (sim_sock **p = &s->net->bound; *p; p = &(*p)->next_bound) {
        if (*p == s) {
            *p = s->next_bound;
            break;
        }
    }
    s->next_bound = NULL;
}

sim_sock *weft__simnet_find(weft__simnet *net, weft__sock_kind kind, const weft_sockaddr *to)
{
    /* An exact address wins over a wildcard bound to the same port. */
    sim_sock *wild = NULL;
    for (sim_sock *s = net->bound; s; s = s->next_bound) {
        if (s->base.kind != kind || !weft__simnet_addr_matches(&s->local, to))
            continue;
        if (weft__simnet_is_ip(&s->local) && weft__simnet_ip_any(&s->local))
            wild = wild ? wild : s;
        else
            return s;
    }
    return wild;
}

int weft__simnet_family_ok(const weft_sockaddr *a, weft__sock_kind kind)
{
    if (!a || a->len == 0 || a->len > sizeof a->u)
        return WEFT_EINVAL;
    int fam = a->u.sa.sa_family;
    bool unix_kind = kind == WEFT__SOCK_UNIX_LISTENER || kind == WEFT__SOCK_UNIX_STREAM;
    if (unix_kind ? fam != AF_UNIX : (fam != AF_INET && fam != AF_INET6))
        return WEFT_EINVAL;
    if (!unix_kind && a->len < (fam == AF_INET ? sizeof a->u.in4 : sizeof a->u.in6))
        return WEFT_EINVAL;
    return 0;
}

/* ---------------------------------------------------------------- sockets */

sim_sock *weft__simnet_sock_new(weft__simnet *net, weft__sock_kind kind, weft_location where)
{
    sim_sock *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->net = net;
    net->refs++;
    s->ordinal = ++net->next_sock;
    weft__net_sock_init(&s->base, &weft__simnet_backend, kind, where);
    WEFT__EMIT(io_register, s->base.res.id, s->ordinal, (uint8_t)3);
    return s;
}

void weft__simnet_sock_free(sim_sock *s)
{
    weft__simnet *net = s->net;
    weft__net_sock_fini(&s->base);
    free(s);
    net_unref(net);
}

void weft__simnet_wake(sim_sock *s, weft_waker *slot, unsigned bits)
{
    if (!s || !weft_waker_is_set(slot))
        return;
    WEFT__EMIT(io_ready, s->base.res.id, (uint8_t)bits);
    weft_waker_wake(slot);
}

/* ---------------------------------------------------------------- addresses, options */

static int sim_local_addr(weft__net_sock *sock, weft_sockaddr *out)
{
    sim_sock *s = (sim_sock *)sock;
    if (!s->local.len) {
        memset(out, 0, sizeof *out);
        return weft_os_error(ENOTCONN);
    }
    *out = s->local;
    return 0;
}

static int sim_peer_addr(weft__net_sock *sock, weft_sockaddr *out)
{
    sim_sock *s = (sim_sock *)sock;
    bool connected = s->base.kind == WEFT__SOCK_UDP ||
                     ((s->base.kind == WEFT__SOCK_TCP_STREAM ||
                       s->base.kind == WEFT__SOCK_UNIX_STREAM) &&
                      s->cstate == SIM_CONNECTED);
    if (!connected || !s->peer.len) {
        memset(out, 0, sizeof *out);
        return weft_os_error(ENOTCONN);
    }
    *out = s->peer;
    return 0;
}

static int sim_set_nodelay(weft__net_sock *sock, bool on)
{
    ((sim_sock *)sock)->nodelay = on;
    return 0;
}

static int sim_nodelay(weft__net_sock *sock, bool *on)
{
    *on = ((sim_sock *)sock)->nodelay;
    return 0;
}

static void sim_close(weft__net_sock *sock)
{
    sim_sock *s = (sim_sock *)sock;
    /* Contract point 7: wakers go without being woken. */
    weft_waker_drop(&s->rd);
    weft_waker_drop(&s->wr);
    switch (s->base.kind) {
    case WEFT__SOCK_TCP_LISTENER:
    case WEFT__SOCK_UNIX_LISTENER:
        weft__simnet_close_listener(s);
        break;
    case WEFT__SOCK_TCP_STREAM:
    case WEFT__SOCK_UNIX_STREAM:
        weft__simnet_close_stream(s);
        break;
    case WEFT__SOCK_UDP:
        weft__simnet_close_udp(s);
        break;
    }
    weft__simnet_sock_free(s);
}

const weft__net_backend weft__simnet_backend = {
    .name = "simnet",
    .listen = weft__simnet_listen,
    .connect = weft__simnet_connect,
    .udp_bind = weft__simnet_udp_bind,
    .poll_accept = weft__simnet_poll_accept,
    .poll_connect = weft__simnet_poll_connect,
    .poll_read = weft__simnet_poll_read,
    .poll_write = weft__simnet_poll_write,
    .shutdown = weft__simnet_shutdown,
    .poll_send_to = weft__simnet_poll_send_to,
    .poll_recv_from = weft__simnet_poll_recv_from,
    .udp_connect = weft__simnet_udp_connect,
    .local_addr = sim_local_addr,
    .peer_addr = sim_peer_addr,
    .set_nodelay = sim_set_nodelay,
    .nodelay = sim_nodelay,
    .accept_backoffs = NULL, /* no descriptors to run out of: never backs off */
    .close = sim_close,
};
