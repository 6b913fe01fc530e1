/* weft/net.h - TCP, UDP and Unix-domain sockets.
 *
 * Tokio names: TcpListener::bind -> weft_tcp_listener_bind, accept -> weft_tcp_accept_init,
 * TcpStream::connect -> weft_tcp_connect_init (with a timeout: weft_tcp_connect_timeout_init),
 * set_nodelay, peer_addr, local_addr, into_split -> weft_tcp_stream_split, UdpSocket::bind ->
 * weft_udp_bind, send_to / recv_from / connect / send / recv, UnixListener::bind ->
 * weft_unix_listener_bind, UnixStream::connect -> weft_unix_connect_init.
 *
 * Reading and writing: a stream is a weft_io_stream (weft/io.h), so read, read_exact, write,
 * write_all, shutdown, buffered readers and codecs all work on it:
 *
 *     weft_io_read_init(&st->rd, weft_tcp_stream_io(conn), st->buf, sizeof st->buf);
 *     WEFT_AWAIT(&st->co, cx, &st->rd);
 *
 * Sockets need a runtime built with enable_io, and are created from inside it (a task or
 * block_on); otherwise creation fails with WEFT_ENORUNTIME or WEFT_ENOSYS. A socket belongs
 * to that runtime and should be closed before it is shut down; closing it afterwards is
 * harmless (the descriptor is closed and the reactor freed with the last socket), except for a
 * listener in the middle of an EMFILE back-off, whose timer went with the runtime. Under the
 * deterministic
 * scheduler the same calls use its simulated network (runtime/net/backend.h explains the
 * contract both implementations keep).
 *
 * Errors: 0 or a negative code; what the OS says comes as weft_os_error(errno) (weft/io.h),
 * e.g. weft_os_errno(status) == ECONNREFUSED. A peer reset gives weft_os_error(ECONNRESET)
 * from the next read or write, never a crash; SIGPIPE is never raised (MSG_NOSIGNAL).
 *
 * Concurrency: one task reads a stream while another writes it (a TCP stream's read and write
 * sides are independent); to hand the two sides to two tasks, split it. Two tasks reading the
 * same stream at once is not supported (the later waker replaces the earlier).
 *
 * Each socket is a resource for the tools (kind tcp_listener, tcp_stream, udp_socket,
 * unix_listener, unix_stream): the console shows its addresses and bytes in and out, and which
 * task waits on it to read, write, accept or connect.
 */
#ifndef WEFT_NET_H
#define WEFT_NET_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <weft/io.h>
#include <weft/time.h>

/* ---------------------------------------------------------------- addresses */

/* An IPv4, IPv6 or Unix-domain socket address, by value. */
typedef struct weft_sockaddr {
    socklen_t len; /* bytes of `u` in use; 0 = no address */
    union {
        struct sockaddr sa;
        struct sockaddr_in in4;
        struct sockaddr_in6 in6;
        struct sockaddr_un un;
        struct sockaddr_storage ss;
    } u;
} weft_sockaddr;

/* Longest text weft_sockaddr_format writes, with its NUL. */
#define WEFT_SOCKADDR_STRLEN 128

/* Parse "1.2.3.4:80", "[::1]:8080" or "[fe80::1%eth0]:22" (numeric only: no name lookup).
 * 0, or WEFT_EINVAL with *out zeroed. */
int weft_sockaddr_parse(weft_sockaddr *out, const char *text);
/* A Unix-domain address for `path`; WEFT_EINVAL if it does not fit sun_path. */
int weft_sockaddr_unix(weft_sockaddr *out, const char *path);
/* "1.2.3.4:80", "[::1]:8080", "unix:/run/x.sock" or "unix:(unnamed)"; 0, or WEFT_EINVAL
 * (unknown family, buffer too small: then buf holds a truncated, terminated prefix). */
int weft_sockaddr_format(const weft_sockaddr *a, char *buf, size_t cap);
/* The port of an IP address (host order); 0 for others. */
uint16_t weft_sockaddr_port(const weft_sockaddr *a);

/* ---------------------------------------------------------------- TCP */

typedef struct weft_tcp_listener weft_tcp_listener;
typedef struct weft_tcp_stream weft_tcp_stream;

/* Bind and listen (SO_REUSEADDR, backlog 1024). Port 0 picks a free one: read it back with
 * weft_tcp_listener_local_addr. 0 and *out, or an error (weft_os_error(EADDRINUSE), ...). */
#define weft_tcp_listener_bind(out, addr) weft__tcp_listener_bind((out), (addr), WEFT_HERE)
int weft__tcp_listener_bind(weft_tcp_listener **out, const weft_sockaddr *addr,
                            weft_location where);
int weft_tcp_listener_local_addr(weft_tcp_listener *l, weft_sockaddr *out);
/* How often accept backed off because the process ran out of descriptors (EMFILE/ENFILE).
 * The listener retries on a timer (10 ms, doubling to 1 s) and keeps serving once descriptors
 * are free; this counter is how a program (or a test) sees that it happened. */
uint64_t weft_tcp_listener_backoffs(weft_tcp_listener *l);
/* Close the listener; no accept may be pending on it. Safe on NULL. */
void weft_tcp_listener_close(weft_tcp_listener *l);

/* accept: READY with status 0, a new stream (the caller closes it) and the peer's address,
 * or status < 0. Cancel-safe: a dropped accept loses no connection. Running out of
 * descriptors does not fail the accept: it waits (see weft_tcp_listener_backoffs). */
typedef struct weft_tcp_accept {
    weft_future base;
    weft_tcp_listener *listener; /* [owner] borrowed */
    weft_location where;         /* the init call, for the console */
    bool waiting;                /* [owner] reported as waiting to the tools */
    weft_tcp_stream *stream;     /* result: the new connection (caller owns it) */
    weft_sockaddr peer;          /* result */
    int status;                  /* result: 0 or an error */
} weft_tcp_accept;

#define weft_tcp_accept_init(f, l) weft__tcp_accept_init((f), (l), WEFT_HERE)
void weft__tcp_accept_init(weft_tcp_accept *f, weft_tcp_listener *l, weft_location where);

/* connect: READY with status 0 and a connected stream (the caller closes it), or an error:
 * weft_os_error(ECONNREFUSED), WEFT_ETIMEDOUT when the timeout passed first (it needs a
 * runtime with enable_time), ... Dropping a pending connect closes the half-open socket. */
typedef struct weft_tcp_connect {
    weft_future base;
    weft_sockaddr addr;          /* [owner] where to connect */
    weft_duration timeout;       /* [owner] 0 = none */
    weft_location where;
    struct weft__net_sock *sock; /* [owner] the socket while connecting, else NULL */
    weft_sleep timer;            /* [owner] armed when timeout != 0 */
    uint8_t state;               /* [owner] 0 start, 1 connecting, 2 done */
    bool timer_on;               /* [owner] `timer` was initialised */
    weft_tcp_stream *stream;     /* result (caller owns it) */
    int status;                  /* result */
} weft_tcp_connect;

#define weft_tcp_connect_init(f, addr) weft__tcp_connect_init((f), (addr), 0, WEFT_HERE)
#define weft_tcp_connect_timeout_init(f, addr, timeout) \
    weft__tcp_connect_init((f), (addr), (timeout), WEFT_HERE)
void weft__tcp_connect_init(weft_tcp_connect *f, const weft_sockaddr *addr,
                            weft_duration timeout, weft_location where);

/* The stream as a weft_io_stream: read, write, shutdown (of the write side), buffered
 * readers, codecs. Borrowed: valid until the stream is closed. */
weft_io_stream *weft_tcp_stream_io(weft_tcp_stream *s);
int weft_tcp_stream_set_nodelay(weft_tcp_stream *s, bool on);
int weft_tcp_stream_nodelay(weft_tcp_stream *s, bool *on);
int weft_tcp_stream_peer_addr(weft_tcp_stream *s, weft_sockaddr *out);
int weft_tcp_stream_local_addr(weft_tcp_stream *s, weft_sockaddr *out);
/* Shut down the write side now (the peer reads end of stream after what was sent); the read
 * side stays open. Idempotent. weft_io_shutdown_init does the same as a future. */
int weft_tcp_stream_shutdown_write(weft_tcp_stream *s);
/* Bytes read from and written to the stream so far. */
void weft_tcp_stream_bytes(weft_tcp_stream *s, uint64_t *in, uint64_t *out);
/* Close (releases the descriptor); no future over the stream may be pending. Safe on NULL. */
void weft_tcp_stream_close(weft_tcp_stream *s);

/* Split into a read half and a write half that two tasks may use at once (Tokio's
 * into_split). The stream is consumed: use only the halves afterwards, and close each with
 * weft_io_stream_close. Closing the write half shuts the write side down (the peer reads end
 * of stream); the socket is released when both halves are closed. The read half's poll_write
 * and the write half's poll_read are absent (their futures complete with WEFT_EINVAL). */
int weft_tcp_stream_split(weft_tcp_stream *s, weft_io_stream **read_half,
                          weft_io_stream **write_half);

/* ---------------------------------------------------------------- UDP */

typedef struct weft_udp_socket weft_udp_socket;

#define weft_udp_bind(out, addr) weft__udp_bind((out), (addr), WEFT_HERE)
int weft__udp_bind(weft_udp_socket **out, const weft_sockaddr *addr, weft_location where);
/* Fix the peer: send/recv then use it, and datagrams from elsewhere are filtered out. */
int weft_udp_connect(weft_udp_socket *u, const weft_sockaddr *addr);
int weft_udp_local_addr(weft_udp_socket *u, weft_sockaddr *out);
int weft_udp_peer_addr(weft_udp_socket *u, weft_sockaddr *out);
void weft_udp_close(weft_udp_socket *u);

/* send_to / send: READY with status 0 and n == len (a datagram goes whole), or an error
 * (weft_os_error(EMSGSIZE) for one too large). Cancel-safe. */
typedef struct weft_udp_send {
    weft_future base;
    weft_udp_socket *sock; /* [owner] borrowed */
    const void *buf;       /* [owner] borrowed */
    size_t len;
    weft_sockaddr to;      /* len 0: the connected peer */
    weft_location where;
    bool waiting;
    size_t n;              /* result */
    int status;            /* result */
} weft_udp_send;

#define weft_udp_send_to_init(f, u, buf, len, to) \
    weft__udp_send_init((f), (u), (buf), (len), (to), WEFT_HERE)
#define weft_udp_send_init(f, u, buf, len) \
    weft__udp_send_init((f), (u), (buf), (len), NULL, WEFT_HERE)
void weft__udp_send_init(weft_udp_send *f, weft_udp_socket *u, const void *buf, size_t len,
                         const weft_sockaddr *to, weft_location where);

/* recv_from / recv: READY with status 0, n bytes of one datagram (truncated to cap if it was
 * longer) and its sender, or an error. Cancel-safe. */
typedef struct weft_udp_recv {
    weft_future base;
    weft_udp_socket *sock;
    void *buf;
    size_t cap;
    weft_location where;
    bool waiting;
    size_t n;              /* result */
    weft_sockaddr from;    /* result */
    int status;            /* result */
} weft_udp_recv;

#define weft_udp_recv_from_init(f, u, buf, cap) \
    weft__udp_recv_init((f), (u), (buf), (cap), WEFT_HERE)
#define weft_udp_recv_init(f, u, buf, cap) weft__udp_recv_init((f), (u), (buf), (cap), WEFT_HERE)
void weft__udp_recv_init(weft_udp_recv *f, weft_udp_socket *u, void *buf, size_t cap,
                         weft_location where);

/* ---------------------------------------------------------------- Unix-domain streams */

typedef struct weft_unix_listener weft_unix_listener;
typedef struct weft_unix_stream weft_unix_stream;

/* Bind `path` and listen, the socket file getting permission bits `mode` (e.g. 0600; set
 * with chmod between bind and listen, so no client can connect while the file still has the
 * umask's bits). A stale socket file — one that exists but nobody listens on (asked of
 * /proc/net/unix, so a live server is not disturbed by a probe) — is removed first; a live
 * one gives weft_os_error(EADDRINUSE), and a path that is not a socket is never removed
 * (weft_os_error(EEXIST)). The file is unlinked by weft_unix_listener_close. */
#define weft_unix_listener_bind(out, path, mode) \
    weft__unix_listener_bind((out), (path), (mode), WEFT_HERE)
int weft__unix_listener_bind(weft_unix_listener **out, const char *path, unsigned mode,
                             weft_location where);
void weft_unix_listener_close(weft_unix_listener *l);

typedef struct weft_unix_accept {
    weft_future base;
    weft_unix_listener *listener;
    weft_location where;
    bool waiting;
    weft_unix_stream *stream; /* result (caller owns it) */
    int status;               /* result */
} weft_unix_accept;

#define weft_unix_accept_init(f, l) weft__unix_accept_init((f), (l), WEFT_HERE)
void weft__unix_accept_init(weft_unix_accept *f, weft_unix_listener *l, weft_location where);

typedef struct weft_unix_connect {
    weft_future base;
    weft_sockaddr addr;
    weft_location where;
    struct weft__net_sock *sock;
    uint8_t state;
    weft_unix_stream *stream; /* result (caller owns it) */
    int status;               /* result: 0, weft_os_error(ENOENT), ECONNREFUSED, ... */
} weft_unix_connect;

#define weft_unix_connect_init(f, path) weft__unix_connect_init((f), (path), WEFT_HERE)
void weft__unix_connect_init(weft_unix_connect *f, const char *path, weft_location where);

weft_io_stream *weft_unix_stream_io(weft_unix_stream *s);
int weft_unix_stream_shutdown_write(weft_unix_stream *s);
int weft_unix_stream_split(weft_unix_stream *s, weft_io_stream **read_half,
                           weft_io_stream **write_half);
void weft_unix_stream_close(weft_unix_stream *s);

#endif
