/* replay/simnet/simnet_int.h - what the simulated network's files share.
 *
 *   simnet.c   the network of one runtime: options, addresses and ports, the backend table,
 *              sockets' birth and death, the counters
 *   stream.c   TCP and Unix streams: listeners, connect, accept, the pipes, read, write,
 *              shutdown, close (EOF or reset)
 *   udp.c      datagrams: bind, send_to, recv_from, drop and reorder
 *
 * A connection between two stream sockets:
 *
 *     client sim_sock ──conn──▶ sim_conn ◀──conn── server sim_sock (made by accept)
 *         side 0                 pipe[0]: written by side 0, read by side 1
 *                                pipe[1]: written by side 1, read by side 0
 *
 * Until it is accepted, a connection waits in its listener's queue (end[1] == NULL); the
 * client may already write into pipe[0]. The connection is freed when both ends and the queue
 * have let go of it (refs).
 *
 * Everything here runs on the deterministic scheduler's one thread: there are no locks. Wakes
 * go through the wakers the polls registered (weft_waker_wake), which are the scheduler's task
 * wakers: waking makes a task runnable and the strategy decides when it runs.
 */
#ifndef WEFT_SIMNET_INT_H
#define WEFT_SIMNET_INT_H

#include <weft/simnet.h>

#include "../../runtime/net/backend.h"
#include "simnet.h"

typedef struct sim_sock sim_sock;
typedef struct sim_conn sim_conn;

typedef struct weft__simnet {
    int refs;                /* the scheduler (until it is freed) + each open socket */
    weft_simnet_options opt; /* [fixed] the options in force */
    uint64_t seed;           /* [fixed] the run's seed: every split stream derives from it */
    uint32_t next_sock;      /* sockets made so far: a socket's ordinal */
    uint32_t next_conn;      /* connections made so far: a connection's ordinal */
    uint32_t next_port;      /* next ephemeral port to try, 49152..65535 */
    sim_sock *bound;         /* listeners and UDP sockets, newest first (sim_sock.next_bound) */
    weft_simnet_stats stats;
} weft__simnet;

/* One direction of a connection: a ring of at most opt.buffer bytes. */
typedef struct sim_pipe {
    unsigned char *buf;  /* allocated at the first write */
    size_t cap;          /* opt.buffer */
    size_t head;         /* offset of the oldest unread byte */
    size_t len;          /* bytes unread */
    bool eof;            /* the writer shut its side down: the reader gets 0 after `len` */
    bool reader_gone;    /* the reader closed: writes fail with EPIPE */
    uint64_t rng;        /* this direction's split stream */
} sim_pipe;

struct sim_conn {
    sim_pipe pipe[2];     /* pipe[i] is written by side i */
    sim_sock *end[2];     /* the sockets; NULL before accept (side 1) or after close */
    bool reset;           /* reset: every read and write on both sides fails ECONNRESET */
    bool established;     /* in the listener's first `backlog`: the connect has completed */
    int refs;             /* ends alive + 1 while in the listener's queue */
    weft_sockaddr addr[2];/* local address of each side */
    sim_conn *next;       /* in the listener's queue */
};

enum sim_connect_state {
    SIM_CONNECTED = 0, /* also every accepted socket */
    SIM_QUEUED,        /* waiting in a full listener's queue */
    SIM_REFUSED,       /* nobody listened: poll_connect fails */
    SIM_HANGING,       /* a `hang` address: poll_connect never completes */
};

/* Datagrams: a queue per UDP socket. */
typedef struct sim_dgram {
    struct sim_dgram *next;
    weft_sockaddr from;
    size_t len;
    unsigned char data[];
} sim_dgram;

struct sim_sock {
    weft__net_sock base;   /* must be first */
    weft__simnet *net;     /* [fixed] holds a reference */
    uint32_t ordinal;      /* [fixed] 1-based, the "fd" of io_register events */
    weft_sockaddr local;   /* [owner] bound or assigned address */
    weft_sockaddr peer;    /* [owner] stream: the other side; UDP: the connected peer */
    weft_waker rd;         /* read side: poll_read, poll_accept, poll_recv_from */
    weft_waker wr;         /* write side: poll_write, poll_connect */
    bool nodelay;          /* remembered, no effect */
    /* Listener and UDP: */
    sim_sock *next_bound;  /* in net->bound */
    /* Listener: */
    sim_conn *q_head, *q_tail; /* connections not accepted yet, oldest first */
    size_t qlen;
    size_t backlog;        /* connects past this many queued wait (SIM_QUEUED) */
    /* Stream: */
    sim_conn *conn;        /* NULL when refused or hanging */
    int side;              /* 0 client, 1 server */
    uint8_t cstate;        /* enum sim_connect_state */
    bool addrs_reported;   /* weft__net_sock_report_addrs done after connecting */
    bool wr_shut;          /* shutdown(WR) done here: writes fail WEFT_ECLOSED */
    bool rd_shut;          /* shutdown(RDWR) done here: reads return end of stream */
    /* UDP: */
    sim_dgram *dq_head, *dq_tail;
    unsigned dqlen;
    uint64_t rng;          /* drop and reorder decisions of what this socket sends */
};

extern const weft__net_backend weft__simnet_backend;

/* simnet.c */
weft__simnet *weft__simnet_of(weft_runtime *rt);
/* A new socket of `kind`, instrumented, holding a reference to net. NULL: out of memory. */
sim_sock *weft__simnet_sock_new(weft__simnet *net, weft__sock_kind kind, weft_location where);
/* Free a socket's memory and its reference (after the kind's own cleanup). */
void weft__simnet_sock_free(sim_sock *s);
/* Wake what waits on one side of s (rd or wr), reporting the readiness to the tools. */
void weft__simnet_wake(sim_sock *s, weft_waker *slot, unsigned bits);
/* A stream of draws from (seed, a, b): splitmix64 of their mix. */
uint64_t weft__simnet_stream(const weft__simnet *net, uint64_t a, uint64_t b);
uint64_t weft__simnet_next(uint64_t *rng);
/* Addresses. */
bool weft__simnet_is_ip(const weft_sockaddr *a);
bool weft__simnet_ip_any(const weft_sockaddr *a);
/* Does `bound` (a listener's or UDP socket's address) accept traffic sent to `to`? */
bool weft__simnet_addr_matches(const weft_sockaddr *bound, const weft_sockaddr *to);
/* Would binding `a` collide with a bound socket of the same protocol? */
bool weft__simnet_addr_in_use(weft__simnet *net, bool udp, const weft_sockaddr *a);
/* A free ephemeral port for the protocol, 0 when all are taken. */
uint16_t weft__simnet_ephemeral(weft__simnet *net, bool udp, const weft_sockaddr *a);
void weft__simnet_set_port(weft_sockaddr *a, uint16_t port);
void weft__simnet_bind(sim_sock *s);
void weft__simnet_unbind(sim_sock *s);
/* The bound socket of `kind` that takes traffic to `to`, or NULL. */
sim_sock *weft__simnet_find(weft__simnet *net, weft__sock_kind kind, const weft_sockaddr *to);
/* Family check of an address for a socket kind: 0 or WEFT_EINVAL. */
int weft__simnet_family_ok(const weft_sockaddr *a, weft__sock_kind kind);

/* stream.c */
int weft__simnet_listen(weft_runtime *rt, weft__sock_kind kind, const weft_sockaddr *addr,
                        const weft__listen_opts *opts, weft_location where,
                        weft__net_sock **out);
int weft__simnet_connect(weft_runtime *rt, weft__sock_kind kind, const weft_sockaddr *addr,
                         weft_location where, weft__net_sock **out);
weft_poll weft__simnet_poll_accept(weft__net_sock *l, weft_context *cx, weft_location where,
                                   weft__net_sock **out, weft_sockaddr *peer, int *err);
weft_poll weft__simnet_poll_connect(weft__net_sock *s, weft_context *cx, int *err);
weft_poll weft__simnet_poll_read(weft__net_sock *s, weft_context *cx, void *buf, size_t cap,
                                 size_t *n, int *err);
weft_poll weft__simnet_poll_write(weft__net_sock *s, weft_context *cx, const void *buf,
                                  size_t len, size_t *n, int *err);
int weft__simnet_shutdown(weft__net_sock *s, bool both);
void weft__simnet_close_stream(sim_sock *s);
void weft__simnet_close_listener(sim_sock *s);

/* udp.c */
int weft__simnet_udp_bind(weft_runtime *rt, const weft_sockaddr *addr, weft_location where,
                          weft__net_sock **out);
int weft__simnet_udp_connect(weft__net_sock *s, const weft_sockaddr *addr);
weft_poll weft__simnet_poll_send_to(weft__net_sock *s, weft_context *cx, const void *buf,
                                    size_t len, const weft_sockaddr *to, size_t *n, int *err);
weft_poll weft__simnet_poll_recv_from(weft__net_sock *s, weft_context *cx, void *buf,
                                      size_t cap, weft_sockaddr *from, size_t *n, int *err);
void weft__simnet_close_udp(sim_sock *s);

#endif
