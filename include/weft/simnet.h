/* weft/simnet.h - the deterministic scheduler's simulated network: its knobs and counters.
 *
 * A runtime driven by the deterministic scheduler (weft/sched.h) gets a simulated network
 * instead of real sockets. Programs do not change: weft/net.h's TCP, UDP and Unix calls work
 * as they do on real sockets (runtime/net/backend.h states the contract both keep), but
 *
 *   - there is one simulated host and every address is local to it: listeners bind virtual
 *     addresses ("10.0.0.1:80", "0.0.0.0:8080", any Unix path: no file is created), and a
 *     connect reaches the listener bound to that address (or to the wildcard of its family);
 *   - a connection is a pair of in-memory pipes, one per direction, each holding at most
 *     `buffer` bytes: a writer that fills it waits until the reader makes room
 *     (back-pressure), and a write may be accepted in part;
 *   - with `split` on (the default) reads and writes are cut at offsets drawn from the run's
 *     seed, so a frame arrives in pieces and a framing bug shows up, the same way every time
 *     the same seed and schedule run: each direction of each connection draws from its own
 *     stream, derived from (seed, connection number, direction), so a run replays
 *     byte-identically and a change to one connection's traffic leaves the others' cuts alone;
 *   - a connect to an address nobody listens on is refused (TCP: weft_os_error(ECONNREFUSED)
 *     from the connect; Unix: weft_os_error(ENOENT)), unless the address is in `hang`: then
 *     the connect never completes and only a timeout (weft_tcp_connect_timeout_init, in
 *     virtual time) ends it;
 *   - shutting the write side down makes the peer read end of stream after the bytes already
 *     sent; closing a socket with unread bytes in its receive pipe *resets* the connection
 *     (the peer's reads and writes fail with weft_os_error(ECONNRESET)), as TCP does;
 *     closing without unread bytes gives the peer end of stream, and its writes then fail
 *     with weft_os_error(EPIPE);
 *   - UDP datagrams are delivered whole into the receiver's queue (at most `udp_queue` of
 *     them; more are dropped, as a full socket buffer drops them), and may be dropped or
 *     reordered at rates drawn from the sender's seeded stream;
 *   - nothing uses real time, real sockets or threads: every wake goes through the wakers of
 *     the tasks that wait, so the scheduler's strategy decides who runs next, and timeouts
 *     run on virtual time.
 *
 * THE KNOBS. The options in force are, field by field: the defaults below, then what
 * weft_simnet_configure set (process-wide), then the environment variable WEFT_SIMNET, read
 * each time a simulated network is created:
 *
 *     WEFT_SIMNET=buffer=4096,split=off,udp-drop=10,udp-reorder=25,udp-queue=16,hang=10.0.0.9:80
 *
 * `hang` may be given several times (up to WEFT_SIMNET_MAX_HANG addresses). A malformed value
 * makes the runtime's creation fail with WEFT_EINVAL and a message on stderr.
 */
#ifndef WEFT_SIMNET_H
#define WEFT_SIMNET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <weft/net.h>

#define WEFT_SIMNET_MAX_HANG 8

typedef struct weft_simnet_options {
    size_t buffer;        /* bytes per direction of a connection, 1..16 MiB (default 65536) */
    bool split;           /* cut reads and writes at seeded offsets (default true) */
    unsigned udp_drop;    /* percent of datagrams lost in transit, 0..100 (default 0) */
    unsigned udp_reorder; /* percent of datagrams that overtake the one queued before them,
                           * 0..100 (default 0) */
    unsigned udp_queue;   /* datagrams a UDP socket holds unread; more are dropped, 1..65536
                           * (default 64) */
    unsigned nhang;       /* entries of hang[] in use */
    weft_sockaddr hang[WEFT_SIMNET_MAX_HANG]; /* connects to these never complete */
} weft_simnet_options;

/* The defaults listed above. */
void weft_simnet_options_default(weft_simnet_options *o);

/* Set the options for simulated networks created from now on, in this process (runtimes
 * built afterwards; the environment still applies on top). NULL restores the defaults.
 * 0, or WEFT_EINVAL for a value out of range. Call it before building runtimes, not while
 * another thread builds one. */
int weft_simnet_configure(const weft_simnet_options *o);

/* Parse a WEFT_SIMNET text into o (on top of what o holds). 0, or WEFT_EINVAL with a
 * one-line reason in err. */
int weft_simnet_parse(weft_simnet_options *o, const char *text, char *err, size_t err_size);

/* What the simulated network of the calling thread's runtime did so far. */
typedef struct weft_simnet_stats {
    uint64_t connections;     /* connects that reached a listener */
    uint64_t refused;         /* connects refused (nobody listening) */
    uint64_t resets;          /* connections reset by a close with unread data */
    uint64_t bytes;           /* bytes moved through connections (read by their receiver) */
    uint64_t reads;           /* successful stream reads that returned bytes */
    uint64_t short_reads;     /* of which the split cut short (fewer than were there) */
    uint64_t datagrams_sent;
    uint64_t datagrams_dropped;   /* by udp_drop, a full queue, or nobody bound there */
    uint64_t datagrams_reordered;
} weft_simnet_stats;

/* 0, WEFT_ENORUNTIME outside a runtime, WEFT_ENOSYS when the runtime has no simulated
 * network (not deterministic, or built without enable_io). */
int weft_simnet_stats_get(weft_simnet_stats *out);

#endif
