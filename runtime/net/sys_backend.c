/* runtime/net/sys_backend.c - the real-socket backend: non-blocking descriptors over the
 * runtime's epoll reactor.
 *
 * Every socket here is a sys_sock: the common header, the descriptor and its reactor source.
 * Each operation is the same loop (reactor.h): ask the source whether the direction is ready,
 * try the system call, and on EAGAIN clear the readiness with the tick it was read at and ask
 * again, which registers the waker. A short read or write of a stream also clears it (the
 * kernel had no more to give or no more room), saving the EAGAIN round trip Tokio saves too.
 *
 * Descriptors are registered with the reactor only once they are in their final state (after
 * connect() started, after listen(), after bind() for UDP): a fresh unconnected TCP socket
 * reports EPOLLHUP, and hang-up bits are sticky in the readiness word.
 *
 * Accept and descriptor exhaustion: with edge-triggered epoll, a connection left in the
 * backlog because accept failed with EMFILE produces no new edge, so waiting for readiness
 * would stall the listener until another client arrives. Instead the listener arms a timer
 * (10 ms, doubling to 1 s while the shortage lasts) and retries when it fires, the accept
 * staying PENDING; `backoffs` counts the episodes for the program to see.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "backend.h"
#include "reactor.h"

#define BACKOFF_FIRST_MS 10u
#define BACKOFF_MAX_MS 1000u

typedef struct sys_sock {
    weft__net_sock base;     /* must be first */
    int fd;                  /* [fixed] non-blocking, close-on-exec */
    weft__io_source *src;    /* [fixed] its registration with the reactor */
    weft_runtime *rt;        /* [fixed] */
    bool connected;          /* [write side] stream: connect finished (or accepted) */
    bool write_shut;         /* [owner] shutdown(WR) done: writes fail with WEFT_ECLOSED */
    /* Listener only, all [accepting task]: */
    bool backoff_armed;      /* `backoff` is armed and not completed */
    unsigned backoff_ms;     /* next back-off length; 0 after a successful accept */
    _Atomic uint64_t backoffs; /* back-off episodes, read by any thread */
    weft_sleep backoff;
    char *unlink_path;       /* Unix listener: the socket file to remove on close */
} sys_sock;

static inline sys_sock *SYS(weft__net_sock *s)
{
    return (sys_sock *)s;
}

static int last_error(void)
{
    return weft__net_errno(errno);
}

/* Wrap a descriptor (non-blocking) into a registered sys_sock. Takes the fd: closes it on
 * failure. */
static int wrap(weft_runtime *rt, int fd, weft__sock_kind kind, weft_location where,
                sys_sock **out)
{
    sys_sock *s = calloc(1, sizeof *s);
    if (!s) {
        close(fd);
        return WEFT_ENOMEM;
    }
    s->fd = fd;
    s->rt = rt;
    atomic_init(&s->backoffs, 0);
    weft__net_sock_init(&s->base, &weft__sys_net, kind, where);
    int err = weft__io_register(weft__driver_reactor(rt->driver), fd, s->base.res.id, &s->src);
    if (err) {
        weft__net_sock_fini(&s->base);
        close(fd);
        free(s);
        return err;
    }
    *out = s;
    return 0;
}

static int family_ok(const weft_sockaddr *a, weft__sock_kind kind)
{
    if (!a || a->len == 0 || a->len > sizeof a->u)
        return WEFT_EINVAL;
    int fam = a->u.sa.sa_family;
    bool unix_kind = kind == WEFT__SOCK_UNIX_LISTENER || kind == WEFT__SOCK_UNIX_STREAM;
    if (unix_kind ? fam != AF_UNIX : (fam != AF_INET && fam != AF_INET6))
        return WEFT_EINVAL;
    return 0;
}

/* ---------------------------------------------------------------- listeners */

/* /proc/net/unix lists every bound Unix socket: "Num RefCount Protocol Flags Type St Inode
 * Path", Flags holding __SO_ACCEPTCON (0x10000) for a listener. 1: a listener has `path`,
 * 0: none has, -1: cannot tell (no /proc). */
static int proc_lists_listener(const char *path)
{
    FILE *f = fopen("/proc/net/unix", "re");
    if (!f)
        return -1;
    char line[512];
    int found = 0;
    size_t plen = strlen(path);
    if (!fgets(line, sizeof line, f)) { /* the header */
        fclose(f);
        return -1;
    }
    while (fgets(line, sizeof line, f)) {
        size_t n = strlen(line);
        if (n && line[n - 1] == '\n')
            line[--n] = '\0';
        unsigned long flags;
        if (n < plen + 1 || strcmp(line + n - plen, path) != 0 || line[n - plen - 1] != ' ')
            continue;
        if (sscanf(line, "%*s %*s %*s %lx", &flags) == 1 && (flags & 0x10000ul)) {
            found = 1;
            break;
        }
    }
    fclose(f);
    return found;
}

/* Is someone accepting on the Unix socket file at `path`? Asked of /proc first, because a
 * probing connect would hand a live server an empty connection; without /proc, a connect that
 * is refused means a stale file left by a process that died without unlinking it. */
static bool unix_path_is_live(const weft_sockaddr *addr)
{
    int listed = proc_lists_listener(addr->u.un.sun_path);
    if (listed >= 0)
        return listed == 1;
    int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (probe < 0)
        return true; /* cannot tell: never remove what might be live */
    int r = connect(probe, &addr->u.sa, addr->len);
    int e = errno;
    close(probe);
    return r == 0 || e != ECONNREFUSED;
}

static int bind_unix(int fd, const weft_sockaddr *addr, const weft__listen_opts *o)
{
    const char *path = addr->u.un.sun_path;
    for (int attempt = 0;; attempt++) {
        if (bind(fd, &addr->u.sa, addr->len) == 0)
            break;
        if (errno != EADDRINUSE || attempt > 0 || !o->remove_stale || path[0] == '\0')
            return last_error();
        struct stat st;
        if (lstat(path, &st) < 0) {
            if (errno == ENOENT)
                continue; /* gone meanwhile: just retry */
            return last_error();
        }
        if (!S_ISSOCK(st.st_mode))
            return weft_os_error(EEXIST); /* never remove a file that is not a socket */
        if (unix_path_is_live(addr))
            return weft_os_error(EADDRINUSE);
        if (unlink(path) < 0 && errno != ENOENT)
            return last_error();
    }
    /* Before listen(): nobody can connect yet, so the umask's bits are never exposed. */
    if (path[0] != '\0' && chmod(path, o->mode) < 0) {
        int err = last_error();
        unlink(path);
        return err;
    }
    return 0;
}

static int sys_listen(weft_runtime *rt, weft__sock_kind kind, const weft_sockaddr *addr,
                      const weft__listen_opts *o, weft_location where, weft__net_sock **out)
{
    int err = family_ok(addr, kind);
    if (err)
        return err;
    int fd = socket(addr->u.sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return last_error();
    char *path = NULL;
    if (kind == WEFT__SOCK_UNIX_LISTENER) {
        err = bind_unix(fd, addr, o);
        if (!err && addr->u.un.sun_path[0] != '\0' && !(path = strdup(addr->u.un.sun_path)))
            err = WEFT_ENOMEM;
    } else {
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, &addr->u.sa, addr->len) < 0)
            err = last_error();
    }
    if (!err && listen(fd, o->backlog) < 0)
        err = last_error();
    if (err) {
        if (path)
            unlink(path);
        free(path);
        close(fd);
        return err;
    }
    sys_sock *s;
    err = wrap(rt, fd, kind, where, &s);
    if (err) {
        if (path)
            unlink(path);
        free(path);
        return err;
    }
    s->unlink_path = path;
    *out = &s->base;
    return 0;
}

static bool out_of_descriptors(int e)
{
    return e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM;
}

static weft_poll sys_poll_accept(weft__net_sock *l, weft_context *cx, weft_location where,
                                 weft__net_sock **out, weft_sockaddr *peer, int *err)
{
    sys_sock *s = SYS(l);
    *out = NULL;
    *err = 0;
    if (!weft__coop_proceed_inline(cx))
        return WEFT_PENDING;
    for (;;) {
        if (s->backoff_armed) {
            if (weft_future_poll(&s->backoff.base, cx) == WEFT_PENDING)
                return WEFT_PENDING;
            s->backoff_armed = false;
        }
        uint64_t tick;
        if (weft__io_poll_ready(s->src, WEFT__IO_DIR_READ, cx, &tick) == WEFT_PENDING)
            return WEFT_PENDING;
        weft_sockaddr a;
        memset(&a, 0, sizeof a);
        a.len = sizeof a.u;
        int fd = accept4(s->fd, &a.u.sa, &a.len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            s->backoff_ms = 0;
            weft__sock_kind kind = l->kind == WEFT__SOCK_UNIX_LISTENER ? WEFT__SOCK_UNIX_STREAM
                                                                       : WEFT__SOCK_TCP_STREAM;
            sys_sock *c;
            int e = wrap(s->rt, fd, kind, where, &c);
            if (e) {
                *err = e;
                return WEFT_READY;
            }
            c->connected = true;
            if (peer)
                *peer = a;
            weft__net_sock_report_addrs(&c->base);
            *out = &c->base;
            return WEFT_READY;
        }
        int e = errno;
        if (e == EAGAIN || e == EWOULDBLOCK) {
            weft__io_clear(s->src, WEFT__IO_DIR_READ, tick);
            continue;
        }
        if (e == EINTR || e == ECONNABORTED || e == EPROTO)
            continue; /* that client gave up before we took it: take the next */
        if (out_of_descriptors(e) && s->rt->time) {
            s->backoff_ms = s->backoff_ms ? s->backoff_ms * 2 : BACKOFF_FIRST_MS;
            if (s->backoff_ms > BACKOFF_MAX_MS)
                s->backoff_ms = BACKOFF_MAX_MS;
            atomic_fetch_add_explicit(&s->backoffs, 1, memory_order_relaxed);
            weft_sleep_init(&s->backoff, (weft_duration)s->backoff_ms * 1000000u);
            s->backoff_armed = true;
            continue;
        }
        *err = weft__net_errno(e);
        return WEFT_READY;
    }
}

static uint64_t sys_accept_backoffs(weft__net_sock *l)
{
    return atomic_load_explicit(&SYS(l)->backoffs, memory_order_relaxed);
}

/* ---------------------------------------------------------------- connecting */

static int sys_connect(weft_runtime *rt, weft__sock_kind kind, const weft_sockaddr *addr,
                       weft_location where, weft__net_sock **out)
{
    int err = family_ok(addr, kind);
    if (err)
        return err;
    int fd = socket(addr->u.sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return last_error();
    bool done = false;
    if (connect(fd, &addr->u.sa, addr->len) == 0) {
        done = true;
    } else if (errno != EINPROGRESS && errno != EINTR) {
        /* Unix sockets fail at once (ENOENT, ECONNREFUSED; EAGAIN: the backlog is full). */
        int e = errno;
        close(fd);
        return weft__net_errno(e);
    }
    sys_sock *s;
    err = wrap(rt, fd, kind, where, &s);
    if (err)
        return err;
    s->connected = done;
    if (done)
        weft__net_sock_report_addrs(&s->base);
    *out = &s->base;
    return 0;
}

static weft_poll sys_poll_connect(weft__net_sock *sock, weft_context *cx, int *err)
{
    sys_sock *s = SYS(sock);
    *err = 0;
    while (!s->connected) {
        uint64_t tick;
        if (weft__io_poll_ready(s->src, WEFT__IO_DIR_WRITE, cx, &tick) == WEFT_PENDING)
            return WEFT_PENDING;
        int soerr = 0;
        socklen_t len = sizeof soerr;
        if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
            soerr = errno;
        if (soerr) {
            *err = weft__net_errno(soerr);
            return WEFT_READY;
        }
        weft_sockaddr peer;
        peer.len = sizeof peer.u;
        if (getpeername(s->fd, &peer.u.sa, &peer.len) == 0) {
            s->connected = true;
            weft__net_sock_report_addrs(&s->base);
            break;
        }
        if (errno != ENOTCONN) {
            *err = last_error();
            return WEFT_READY;
        }
        weft__io_clear(s->src, WEFT__IO_DIR_WRITE, tick); /* not yet: wait for the next edge */
    }
    return WEFT_READY;
}

/* ---------------------------------------------------------------- streams */

static weft_poll sys_poll_read(weft__net_sock *sock, weft_context *cx, void *buf, size_t cap,
                               size_t *n, int *err)
{
    sys_sock *s = SYS(sock);
    *n = 0;
    *err = 0;
    if (cap == 0)
        return WEFT_READY;
    if (!weft__coop_proceed_inline(cx))
        return WEFT_PENDING;
    for (;;) {
        uint64_t tick;
        if (weft__io_poll_ready(s->src, WEFT__IO_DIR_READ, cx, &tick) == WEFT_PENDING)
            return WEFT_PENDING;
        ssize_t r = recv(s->fd, buf, cap, 0);
        if (r > 0) {
            if ((size_t)r < cap)
                weft__io_clear(s->src, WEFT__IO_DIR_READ, tick);
            weft__net_count_in(sock, (size_t)r);
            *n = (size_t)r;
            return WEFT_READY;
        }
        if (r == 0)
            return WEFT_READY; /* end of stream; the READ_CLOSED bit keeps it ready */
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            weft__io_clear(s->src, WEFT__IO_DIR_READ, tick);
            continue;
        }
        if (errno == EINTR)
            continue;
        *err = last_error();
        return WEFT_READY;
    }
}

static weft_poll sys_poll_write(weft__net_sock *sock, weft_context *cx, const void *buf,
                                size_t len, size_t *n, int *err)
{
    sys_sock *s = SYS(sock);
    *n = 0;
    *err = 0;
    if (s->write_shut) {
        *err = WEFT_ECLOSED;
        return WEFT_READY;
    }
    if (len == 0)
        return WEFT_READY;
    if (!weft__coop_proceed_inline(cx))
        return WEFT_PENDING;
    for (;;) {
        uint64_t tick;
        if (weft__io_poll_ready(s->src, WEFT__IO_DIR_WRITE, cx, &tick) == WEFT_PENDING)
            return WEFT_PENDING;
        ssize_t r = send(s->fd, buf, len, MSG_NOSIGNAL);
        if (r >= 0) {
            if ((size_t)r < len)
                weft__io_clear(s->src, WEFT__IO_DIR_WRITE, tick);
            weft__net_count_out(sock, (size_t)r);
            *n = (size_t)r;
            return WEFT_READY;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            weft__io_clear(s->src, WEFT__IO_DIR_WRITE, tick);
            continue;
        }
        if (errno == EINTR)
            continue;
        *err = last_error();
        return WEFT_READY;
    }
}

static int sys_shutdown(weft__net_sock *sock, bool both)
{
    sys_sock *s = SYS(sock);
    if (s->write_shut && !both)
        return 0;
    if (shutdown(s->fd, both ? SHUT_RDWR : SHUT_WR) < 0 && errno != ENOTCONN)
        return last_error();
    s->write_shut = true;
    return 0;
}

/* ---------------------------------------------------------------- datagrams */

static int sys_udp_bind(weft_runtime *rt, const weft_sockaddr *addr, weft_location where,
                        weft__net_sock **out)
{
    int err = family_ok(addr, WEFT__SOCK_UDP);
    if (err)
        return err;
    int fd = socket(addr->u.sa.sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return last_error();
    if (bind(fd, &addr->u.sa, addr->len) < 0) {
        err = last_error();
        close(fd);
        return err;
    }
    sys_sock *s;
    err = wrap(rt, fd, WEFT__SOCK_UDP, where, &s);
    if (err)
        return err;
    weft__net_sock_report_addrs(&s->base);
    *out = &s->base;
    return 0;
}

static int sys_udp_connect(weft__net_sock *sock, const weft_sockaddr *addr)
{
    int err = family_ok(addr, WEFT__SOCK_UDP);
    if (err)
        return err;
    if (connect(SYS(sock)->fd, &addr->u.sa, addr->len) < 0)
        return last_error();
    weft__net_sock_report_addrs(sock);
    return 0;
}

static weft_poll sys_poll_send_to(weft__net_sock *sock, weft_context *cx, const void *buf,
                                  size_t len, const weft_sockaddr *to, size_t *n, int *err)
{
    sys_sock *s = SYS(sock);
    *n = 0;
    *err = 0;
    if (to && (to->len == 0 || to->len > sizeof to->u)) {
        *err = WEFT_EINVAL;
        return WEFT_READY;
    }
    if (!weft__coop_proceed_inline(cx))
        return WEFT_PENDING;
    for (;;) {
        uint64_t tick;
        if (weft__io_poll_ready(s->src, WEFT__IO_DIR_WRITE, cx, &tick) == WEFT_PENDING)
            return WEFT_PENDING;
        ssize_t r = sendto(s->fd, buf, len, MSG_NOSIGNAL, to ? &to->u.sa : NULL,
                           to ? to->len : 0);
        if (r >= 0) {
            weft__net_count_out(sock, (size_t)r);
            *n = (size_t)r;
            return WEFT_READY;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            weft__io_clear(s->src, WEFT__IO_DIR_WRITE, tick);
            continue;
        }
        if (errno == EINTR)
            continue;
        *err = last_error();
        return WEFT_READY;
    }
}

static weft_poll sys_poll_recv_from(weft__net_sock *sock, weft_context *cx, void *buf,
                                    size_t cap, weft_sockaddr *from, size_t *n, int *err)
{
    sys_sock *s = SYS(sock);
    *n = 0;
    *err = 0;
    if (!weft__coop_proceed_inline(cx))
        return WEFT_PENDING;
    for (;;) {
        uint64_t tick;
        if (weft__io_poll_ready(s->src, WEFT__IO_DIR_READ, cx, &tick) == WEFT_PENDING)
            return WEFT_PENDING;
        weft_sockaddr a;
        a.len = sizeof a.u;
        ssize_t r = recvfrom(s->fd, buf, cap, 0, &a.u.sa, &a.len);
        if (r >= 0) {
            /* A datagram queue says nothing by one short datagram: no clear here. */
            weft__net_count_in(sock, (size_t)r);
            *n = (size_t)r;
            if (from)
                *from = a;
            return WEFT_READY;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            weft__io_clear(s->src, WEFT__IO_DIR_READ, tick);
            continue;
        }
        if (errno == EINTR)
            continue;
        *err = last_error();
        return WEFT_READY;
    }
}

/* ---------------------------------------------------------------- addresses, options */

static int sys_local_addr(weft__net_sock *sock, weft_sockaddr *out)
{
    memset(out, 0, sizeof *out);
    out->len = sizeof out->u;
    if (getsockname(SYS(sock)->fd, &out->u.sa, &out->len) < 0) {
        out->len = 0;
        return last_error();
    }
    return 0;
}

static int sys_peer_addr(weft__net_sock *sock, weft_sockaddr *out)
{
    memset(out, 0, sizeof *out);
    out->len = sizeof out->u;
    if (getpeername(SYS(sock)->fd, &out->u.sa, &out->len) < 0) {
        out->len = 0;
        return last_error();
    }
    return 0;
}

static int sys_set_nodelay(weft__net_sock *sock, bool on)
{
    int v = on;
    if (setsockopt(SYS(sock)->fd, IPPROTO_TCP, TCP_NODELAY, &v, sizeof v) < 0)
        return last_error();
    return 0;
}

static int sys_nodelay(weft__net_sock *sock, bool *on)
{
    int v = 0;
    socklen_t len = sizeof v;
    if (getsockopt(SYS(sock)->fd, IPPROTO_TCP, TCP_NODELAY, &v, &len) < 0)
        return last_error();
    *on = v != 0;
    return 0;
}

static void sys_close(weft__net_sock *sock)
{
    sys_sock *s = SYS(sock);
    if (s->backoff_armed)
        weft_future_drop(&s->backoff.base);
    /* The resource goes first: a snapshot may read the descriptor until then. */
    weft__net_sock_fini(sock);
    weft__io_deregister(s->src);
    close(s->fd);
    if (s->unlink_path) {
        unlink(s->unlink_path);
        free(s->unlink_path);
    }
    free(s);
}

const weft__net_backend weft__sys_net = {
    .name = "sys",
    .listen = sys_listen,
    .connect = sys_connect,
    .udp_bind = sys_udp_bind,
    .poll_accept = sys_poll_accept,
    .poll_connect = sys_poll_connect,
    .poll_read = sys_poll_read,
    .poll_write = sys_poll_write,
    .shutdown = sys_shutdown,
    .poll_send_to = sys_poll_send_to,
    .poll_recv_from = sys_poll_recv_from,
    .udp_connect = sys_udp_connect,
    .local_addr = sys_local_addr,
    .peer_addr = sys_peer_addr,
    .set_nodelay = sys_set_nodelay,
    .nodelay = sys_nodelay,
    .accept_backoffs = sys_accept_backoffs,
    .close = sys_close,
};
