/* runtime/net/backend.h - the network as an interface: real sockets, or a simulated network.
 *
 * Every socket weft hands out (TCP and Unix listeners and streams, UDP sockets) is a
 * weft__net_sock driven through a weft__net_backend. The front ends (tcp.c, unix.c, udp.c,
 * stream.c) never call the OS: they call the backend the runtime chose when it was built. Two
 * backends exist by design:
 *
 *   sys     real sockets, edge-triggered epoll (sys_backend.c over reactor.c). The default.
 *   simnet  the deterministic scheduler's simulated network (replay/simnet/, its own issue):
 *           connections are in-memory pipes, delays and faults are decided by the scheduler.
 *
 * Selection: weft__net_init (net.c) runs once while the runtime is built with enable_io; a
 * runtime driven by the deterministic scheduler (rt->det != NULL) takes the simulated backend,
 * every other runtime the real one. The choice is fixed for the runtime's life, and a socket
 * stays with the backend that created it (sock->ops).
 *
 * THE CONTRACT a backend meets (the simulated one must meet it exactly, or programs that pass
 * under the deterministic scheduler will fail on real sockets, and the other way round):
 *
 *  1. Poll functions follow the future contract. They return READY with a result, or PENDING
 *     after registering cx's waker (a clone) so that it is woken once the operation may make
 *     progress. One waker per direction per socket: the latest poll_read/poll_recv/poll_accept
 *     (read side) or poll_write/poll_send/poll_connect (write side) that returned PENDING
 *     replaces the previous one. A read-side waker and a write-side waker are independent, so
 *     one task may read while another writes the same socket (split halves rely on it).
 *     Wakes may be spurious: a woken poll may return PENDING again (having re-registered).
 *     A wake must never be lost: readiness that arrives between the backend's check and the
 *     registration of the waker must still wake it (the real backend's tick, reactor.c).
 *
 *  2. Partial reads and writes are normal. poll_read returns 1..cap bytes when any are
 *     available, never waits to fill the buffer; poll_write may accept fewer than len bytes.
 *     A simulated backend should *choose* to split (it is the point of simulating), within
 *     those bounds. cap == 0 / len == 0 complete at once with n == 0.
 *
 *  3. End of stream: once the peer has shut down its write side (or closed) and every byte it
 *     sent before has been read, poll_read returns READY, n == 0, err == 0 — and keeps doing so.
 *     After shutdown(WR) on this side, poll_write fails with WEFT_ECLOSED; the peer reads EOF
 *     after the bytes already sent.
 *
 *  4. Reset and errors: a connection reset by the peer makes reads and writes fail with
 *     weft_os_error(ECONNRESET) (writes to a closed peer: weft_os_error(EPIPE) or ECONNRESET);
 *     a refused connect fails with weft_os_error(ECONNREFUSED). OS errors are always given as
 *     weft_os_error(errno) (weft/io.h); weft's own codes (WEFT_EINVAL, WEFT_ECLOSED,
 *     WEFT_ENOMEM) say what weft decided. Errors are results, never crashes: a backend must
 *     survive any sequence of calls on a socket whose peer misbehaves.
 *
 *  5. Accept: poll_accept returns one new connected socket (same backend) and the peer's
 *     address. On descriptor exhaustion (EMFILE, ENFILE) the real backend backs off on a timer
 *     and keeps the accept PENDING instead of failing, so that a server keeps serving once
 *     descriptors are free; a simulated backend has no descriptors and never does this.
 *
 *  6. Connect is two steps: connect() creates the socket and starts connecting (it may fail at
 *     once: bad address, no descriptors), poll_connect completes it (0 or an error). The front
 *     end adds the timeout with a timer of the runtime's clock — virtual under the
 *     deterministic scheduler, so a simulated connect that never completes times out
 *     deterministically.
 *
 *  7. close() releases everything the socket holds, drops its wakers without waking them, and
 *     makes the peer read EOF (or ECONNRESET if unread data was discarded, as TCP does). It is
 *     called exactly once, when no poll on the socket is in progress. The sock's memory
 *     belongs to the backend; the front end never touches it after close.
 *
 *  8. Instrumentation: a backend starts every socket it makes with weft__net_sock_init (the
 *     socket becomes a resource, created at the front end's `where`) before anything reports
 *     on it, and ends it with weft__net_sock_fini in close. It reports readiness (io_register,
 *     io_ready) with sock->res.id as the source, and counts bytes with weft__net_count_in/out
 *     on every successful read/write.
 *
 * Thread safety: a socket's read side and write side may be polled concurrently from two
 * threads (split halves on a multi-thread runtime); two concurrent polls of the same side are
 * not supported (the front end's types prevent it, as Tokio's &mut self does). Everything else
 * (close, shutdown, addresses, options) is called by one owner at a time.
 */
#ifndef WEFT_NET_BACKEND_H
#define WEFT_NET_BACKEND_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include <weft/net.h>
#include <weft/resource.h>

#include "../rt_int.h"

typedef struct weft__net_backend weft__net_backend;

/* What kind of socket a weft__net_sock is (decides its resource kind and which ops apply). */
typedef enum weft__sock_kind {
    WEFT__SOCK_TCP_LISTENER,
    WEFT__SOCK_TCP_STREAM,
    WEFT__SOCK_UDP,
    WEFT__SOCK_UNIX_LISTENER,
    WEFT__SOCK_UNIX_STREAM,
} weft__sock_kind;

/* The part of every socket the front ends may read; a backend allocates a larger struct that
 * starts with this one. */
typedef struct weft__net_sock {
    const weft__net_backend *ops; /* [fixed] the backend that made it */
    weft__sock_kind kind;         /* [fixed] */
    weft_resource res;            /* [front end] the socket as a resource (res.id is the
                                   * io_* events' source) */
    _Atomic uint64_t bytes_in;    /* [backend] bytes read (received) so far */
    _Atomic uint64_t bytes_out;   /* [backend] bytes written (sent) so far */
} weft__net_sock;

/* Options of a listener. */
typedef struct weft__listen_opts {
    int backlog;        /* listen(2) backlog */
    unsigned mode;      /* Unix: permission bits for the socket file (e.g. 0600) */
    bool remove_stale;  /* Unix: remove a socket file nobody listens on before binding */
} weft__listen_opts;

struct weft__net_backend {
    const char *name; /* "sys", "simnet" */

    /* Stream and datagram sockets. Return 0 and *out, or an error (see the contract). `rt` is
     * the runtime the socket belongs to (its timers serve accept back-off). */
    int (*listen)(weft_runtime *rt, weft__sock_kind kind, const weft_sockaddr *addr,
                  const weft__listen_opts *opts, weft_location where, weft__net_sock **out);
    int (*connect)(weft_runtime *rt, weft__sock_kind kind, const weft_sockaddr *addr,
                   weft_location where, weft__net_sock **out);
    int (*udp_bind)(weft_runtime *rt, const weft_sockaddr *addr, weft_location where,
                    weft__net_sock **out);

    /* READY with *out (a connected socket of the listener's stream kind, created at `where`)
     * and *peer, or with *err < 0. */
    weft_poll (*poll_accept)(weft__net_sock *l, weft_context *cx, weft_location where,
                             weft__net_sock **out, weft_sockaddr *peer, int *err);
    /* READY with *err == 0 once connected, or with the failure. */
    weft_poll (*poll_connect)(weft__net_sock *s, weft_context *cx, int *err);

    /* Streams: the semantics of weft_io_stream_vtable (weft/io.h), and the contract above. */
    weft_poll (*poll_read)(weft__net_sock *s, weft_context *cx, void *buf, size_t cap,
                           size_t *n, int *err);
    weft_poll (*poll_write)(weft__net_sock *s, weft_context *cx, const void *buf, size_t len,
                            size_t *n, int *err);
    /* Shut down the write side (SHUT_WR) or both; idempotent. */
    int (*shutdown)(weft__net_sock *s, bool both);

    /* Datagrams. `to` NULL: the connected peer. `from` may be NULL. A datagram is sent whole
     * or not at all; a received one longer than cap is truncated to cap (as recvfrom does). */
    weft_poll (*poll_send_to)(weft__net_sock *s, weft_context *cx, const void *buf, size_t len,
                              const weft_sockaddr *to, size_t *n, int *err);
    weft_poll (*poll_recv_from)(weft__net_sock *s, weft_context *cx, void *buf, size_t cap,
                                weft_sockaddr *from, size_t *n, int *err);
    int (*udp_connect)(weft__net_sock *s, const weft_sockaddr *addr);

    /* Addresses and options. */
    int (*local_addr)(weft__net_sock *s, weft_sockaddr *out);
    int (*peer_addr)(weft__net_sock *s, weft_sockaddr *out);
    int (*set_nodelay)(weft__net_sock *s, bool on);
    int (*nodelay)(weft__net_sock *s, bool *on);

    /* Listener: accept back-off episodes so far (contract point 5); NULL: never backs off. */
    uint64_t (*accept_backoffs)(weft__net_sock *l);

    /* Release (contract point 7). */
    void (*close)(weft__net_sock *s);
};

/* The real-socket backend (sys_backend.c). */
extern const weft__net_backend weft__sys_net;

/* weft__net_init (rt_int.h, net.c) chooses the runtime's backend: WEFT_ENOSYS under the
 * deterministic scheduler until its simulated network exists. */

/* The backend of the calling thread's runtime: READY to use, or an error (no runtime:
 * WEFT_ENORUNTIME; runtime built without enable_io: WEFT_ENOSYS). */
int weft__net_current(weft_runtime **rt, const weft__net_backend **net);

/* For backends (net.c): fill the header, report the resource's creation (its kind follows
 * `kind`); report its end. */
void weft__net_sock_init(weft__net_sock *s, const weft__net_backend *ops, weft__sock_kind kind,
                         weft_location where);
void weft__net_sock_fini(weft__net_sock *s);
/* Report the socket's addresses to the tools (after bind, connect or accept). */
void weft__net_sock_report_addrs(weft__net_sock *s);

/* Count bytes moved, and report the new total when tracing. One reader and one writer at a
 * time (the contract), so a counter has a single writer: a relaxed load and store suffice. */
static inline void weft__net_count_in(weft__net_sock *s, size_t n)
{
    uint64_t v = atomic_load_explicit(&s->bytes_in, memory_order_relaxed) + n;
    atomic_store_explicit(&s->bytes_in, v, memory_order_relaxed);
    WEFT__EMIT(resource_state, &s->res, v, (uint8_t)WEFT_ATTR_BYTES_IN);
}

static inline void weft__net_count_out(weft__net_sock *s, size_t n)
{
    uint64_t v = atomic_load_explicit(&s->bytes_out, memory_order_relaxed) + n;
    atomic_store_explicit(&s->bytes_out, v, memory_order_relaxed);
    WEFT__EMIT(resource_state, &s->res, v, (uint8_t)WEFT_ATTR_BYTES_OUT);
}

/* errno to a weft error (weft_os_error, with EAGAIN/ENOMEM/EINVAL mapped to weft's own). */
int weft__net_errno(int e);

#endif
