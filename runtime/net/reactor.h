/* runtime/net/reactor.h - the epoll reactor: readiness of file descriptors, and the wakers
 * waiting for it.
 *
 * The reactor lives inside the runtime's driver (driver.c): whichever thread parks in the
 * driver waits in epoll_wait, and weft__driver_unpark writes the reactor's eventfd. Each
 * registered descriptor is a weft__io_source with a readiness word and one waker per direction.
 *
 * Readiness and the tick (why no wakeup is lost and no task spins). Descriptors are registered
 * edge-triggered once, for reading and writing. An edge sets readiness bits; only an operation
 * that failed with EAGAIN (or came up short) clears them. The word also holds a tick that every
 * event increments, and a clear names the tick it observed: if an event arrived after the
 * failed operation looked at the word, the tick differs and the clear does nothing, so the new
 * edge is not thrown away.
 *
 *     readiness word:  63 ........................ 8 | 7 ..... 0
 *                      tick (events seen so far)      | WEFT__IO_* bits
 *
 * An operation:  poll_ready -> (ready, tick) -> syscall -> EAGAIN -> clear(tick) -> poll_ready
 *                again, which registers the waker and re-checks, so an edge that lands between
 *                the check and the registration is seen by the re-check or finds the waker.
 */
#ifndef WEFT_NET_REACTOR_H
#define WEFT_NET_REACTOR_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include <weft/future.h>

/* Readiness bits. */
#define WEFT__IO_READABLE 0x01u
#define WEFT__IO_WRITABLE 0x02u
#define WEFT__IO_READ_CLOSED 0x04u  /* peer shut down its write side (EPOLLRDHUP) */
#define WEFT__IO_WRITE_CLOSED 0x08u /* both sides hung up (EPOLLHUP) */
#define WEFT__IO_ERROR 0x10u        /* EPOLLERR: the next operation reports the error */

/* What satisfies a reader / a writer: closed and error states are final, and the operation
 * itself reports them. */
#define WEFT__IO_READ_MASK (WEFT__IO_READABLE | WEFT__IO_READ_CLOSED | WEFT__IO_WRITE_CLOSED | \
                            WEFT__IO_ERROR)
#define WEFT__IO_WRITE_MASK (WEFT__IO_WRITABLE | WEFT__IO_WRITE_CLOSED | WEFT__IO_ERROR)

typedef enum weft__io_dir { WEFT__IO_DIR_READ = 0, WEFT__IO_DIR_WRITE = 1 } weft__io_dir;

typedef struct weft__reactor weft__reactor;

typedef struct weft__io_source {
    _Atomic uint64_t readiness;    /* tick << 8 | bits; set by the reactor, cleared by ops */
    int fd;                        /* [fixed] the descriptor (owned by the socket, not here) */
    uint64_t trace_id;             /* [fixed] the io_* events' source (the socket's resource) */
    weft__reactor *reactor;        /* [fixed] */
    pthread_mutex_t lock;          /* guards the two wakers and `closed` */
    weft_waker waker[2];           /* [lock] by weft__io_dir */
    bool closed;                   /* [lock] deregistered: wakers are not stored any more */
    struct weft__io_source *release_next; /* [reactor release lock] pending free */
} weft__io_source;

/* ---------------------------------------------------------------- the reactor itself */

/* 0 and *out, or an OS error (no descriptors for epoll/eventfd). */
int weft__reactor_new(weft__reactor **out);
/* After every thread that drove it is gone; frees sources still waiting for release. */
void weft__reactor_free(weft__reactor *r);
/* Wait for events up to timeout_ns (0: just look; UINT64_MAX: until an unpark) and wake the
 * wakers of the sources that became ready. One thread at a time (the driver's owner). */
void weft__reactor_turn(weft__reactor *r, uint64_t timeout_ns);
/* Make a concurrent or the next turn return at once. Any thread; cheap when nobody sleeps. */
void weft__reactor_unpark(weft__reactor *r);
/* Readiness events dispatched to sources so far (weft/metrics.h's io_ready_events). Any
 * thread. */
uint64_t weft__reactor_ready_events(weft__reactor *r);

/* ---------------------------------------------------------------- sources */

/* Register fd (already non-blocking) for both directions, edge-triggered. 0 and *out, or an
 * error. `trace_id` names it in io_register / io_ready events. */
int weft__io_register(weft__reactor *r, int fd, uint64_t trace_id, weft__io_source **out);
/* Remove from epoll and drop both wakers without waking them; the memory is freed by the
 * reactor's next turn (an event already fetched may still point at it). Before the fd is
 * closed. */
void weft__io_deregister(weft__io_source *s);

/* READY with *tick (pass it to weft__io_clear) when the direction's readiness is set;
 * otherwise store cx's waker for the direction and return PENDING (re-checking after the
 * store, see above). */
weft_poll weft__io_poll_ready(weft__io_source *s, weft__io_dir dir, weft_context *cx,
                              uint64_t *tick);
/* The operation found nothing (EAGAIN, or a short read/write): clear the direction's
 * readable/writable bit, unless an event arrived since `tick` was read. */
void weft__io_clear(weft__io_source *s, weft__io_dir dir, uint64_t tick);

#endif
