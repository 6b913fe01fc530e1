/* runtime/net/reactor.c - epoll, edge-triggered, woken through an eventfd.
 *
 * Who calls it: driver.c creates one reactor per runtime built with enable_io, turns it where
 * it used to sleep on a futex, and unparks it through weft__reactor_unpark; the real-socket
 * backend (sys_backend.c) registers each socket and asks for readiness. See reactor.h for the
 * readiness word and why a clear cannot lose an edge.
 *
 * Invariants:
 *   - Only the driver's owner calls weft__reactor_turn, so the event buffer and the release
 *     list's consumer side have one thread at a time.
 *   - epoll_event.data.ptr is the source, or NULL for the eventfd.
 *   - A deregistered source is out of epoll (EPOLL_CTL_DEL done) before it is pushed on the
 *     release list, so no epoll_wait that starts after the push returns it. A turn frees the
 *     list it took *before* its own epoll_wait: those sources were deleted before that wait, and
 *     the previous turn (the only one that may have fetched them) has finished dispatching.
 *
 * The sleep handshake (`sleep_state`), so that an unpark costs an eventfd write only when the
 * owner really is (about to be) inside epoll_wait:
 *
 *     AWAKE ──turn with a timeout──▶ SLEEPING ──epoll_wait returns──▶ AWAKE
 *       └──unpark──▶ NOTIFIED ──next turn: waits with timeout 0──▶ AWAKE
 *     SLEEPING ──unpark──▶ NOTIFIED + eventfd write (epoll_wait returns)
 */
#define _GNU_SOURCE
#include "reactor.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <weft/error.h>
#include <weft/io.h>

#include "../../instrument/hooks.h"

#define EVENTS_PER_TURN 1024

enum { SLEEP_AWAKE = 0, SLEEP_SLEEPING = 1, SLEEP_NOTIFIED = 2 };

struct weft__reactor {
    int epfd;                       /* [fixed] */
    int eventfd;                    /* [fixed] written by unpark, read by the turn */
    _Atomic uint32_t sleep_state;   /* SLEEP_*, see the diagram above */
    _Atomic(weft__io_source *) release; /* deregistered sources, pushed by any thread */
    _Atomic uint64_t ready_events;  /* [driver owner writes, anyone reads] readiness events
                                       dispatched, for weft/metrics.h */
    /* One reference for the driver and one per registered source: a socket closed after its
     * runtime shut down still deregisters from a live epoll set, and the last one frees it. */
    _Atomic unsigned refs;
    _Atomic bool dead;              /* the driver is gone: deregistered sources are freed at
                                       once, nobody turns the reactor any more */
    struct epoll_event events[EVENTS_PER_TURN]; /* [driver owner] */
};

int weft__reactor_new(weft__reactor **out)
{
    weft__reactor *r = calloc(1, sizeof *r);
    if (!r)
        return WEFT_ENOMEM;
    r->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (r->epfd < 0) {
        int e = errno;
        free(r);
        return weft_os_error(e);
    }
    r->eventfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (r->eventfd < 0) {
        int e = errno;
        close(r->epfd);
        free(r);
        return weft_os_error(e);
    }
    /* Level-triggered on purpose: the turn reads the counter back to zero each time, and a
     * level-triggered eventfd cannot be left "ready but unnoticed" by a read that races a
     * write. */
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    if (epoll_ctl(r->epfd, EPOLL_CTL_ADD, r->eventfd, &ev) < 0) {
        int e = errno;
        close(r->eventfd);
        close(r->epfd);
        free(r);
        return weft_os_error(e);
    }
    atomic_init(&r->sleep_state, SLEEP_AWAKE);
    atomic_init(&r->release, NULL);
    atomic_init(&r->refs, 1);
    atomic_init(&r->dead, false);
    *out = r;
    return 0;
}

static void source_free(weft__io_source *s)
{
    pthread_mutex_destroy(&s->lock);
    free(s);
}

static void reactor_unref(weft__reactor *r)
{
    if (atomic_fetch_sub_explicit(&r->refs, 1, memory_order_acq_rel) == 1) {
        close(r->eventfd);
        close(r->epfd);
        free(r);
    }
}

/* Free deregistered sources, each giving back its reference (never the last while the
 * driver holds one). */
static void release_all(weft__reactor *r, weft__io_source *s)
{
    while (s) {
        weft__io_source *next = s->release_next;
        source_free(s);
        reactor_unref(r);
        s = next;
    }
}

void weft__reactor_free(weft__reactor *r)
{
    if (!r)
        return;
    atomic_store_explicit(&r->dead, true, memory_order_release);
    release_all(r, atomic_exchange(&r->release, NULL));
    reactor_unref(r); /* the driver's; sockets still open keep the rest */
}

/* ---------------------------------------------------------------- dispatch */

static unsigned readiness_of(uint32_t events)
{
    unsigned bits = 0;
    if (events & EPOLLIN)
        bits |= WEFT__IO_READABLE;
    if (events & EPOLLOUT)
        bits |= WEFT__IO_WRITABLE;
    if (events & EPOLLRDHUP)
        bits |= WEFT__IO_READ_CLOSED;
    if (events & EPOLLHUP)
        bits |= WEFT__IO_WRITE_CLOSED | WEFT__IO_READ_CLOSED;
    if (events & EPOLLERR)
        bits |= WEFT__IO_ERROR;
    return bits;
}

static void dispatch(weft__io_source *s, unsigned bits)
{
    /* Publish the readiness (and a new tick) before looking for wakers: a poller that stores
     * its waker after we looked re-reads the word under the same lock order (reactor.h). */
    uint64_t cur = atomic_load_explicit(&s->readiness, memory_order_relaxed);
    uint64_t next;
    do {
        next = ((((cur >> 8) + 1) << 8) | (cur & 0xffu) | bits);
    } while (!atomic_compare_exchange_weak_explicit(&s->readiness, &cur, next,
                                                    memory_order_acq_rel,
                                                    memory_order_relaxed));
    WEFT__EMIT(io_ready, s->trace_id, (uint8_t)bits);

    weft_waker rd = WEFT_WAKER_NONE, wr = WEFT_WAKER_NONE;
    pthread_mutex_lock(&s->lock);
    if (bits & WEFT__IO_READ_MASK) {
        rd = s->waker[WEFT__IO_DIR_READ];
        s->waker[WEFT__IO_DIR_READ] = WEFT_WAKER_NONE;
    }
    if (bits & WEFT__IO_WRITE_MASK) {
        wr = s->waker[WEFT__IO_DIR_WRITE];
        s->waker[WEFT__IO_DIR_WRITE] = WEFT_WAKER_NONE;
    }
    pthread_mutex_unlock(&s->lock);
    weft_waker_wake(&rd);
    weft_waker_wake(&wr);
}

static int timeout_ms(uint64_t ns)
{
    if (ns == UINT64_MAX)
        return -1;
    /* Round up: waking before a timer's deadline would only make the driver sleep again. */
    uint64_t ms = ns / 1000000u + (ns % 1000000u != 0);
    return ms > INT_MAX ? INT_MAX : (int)ms;
}

void weft__reactor_turn(weft__reactor *r, uint64_t timeout_ns)
{
    release_all(r, atomic_exchange_explicit(&r->release, NULL, memory_order_acquire));

    int tmo = timeout_ms(timeout_ns);
    if (tmo != 0) {
        uint32_t expected = SLEEP_AWAKE;
        if (!atomic_compare_exchange_strong_explicit(&r->sleep_state, &expected,
                                                     SLEEP_SLEEPING, memory_order_acq_rel,
                                                     memory_order_acquire))
            tmo = 0; /* NOTIFIED: an unpark came first; just collect what is ready */
    }
    int n = epoll_wait(r->epfd, r->events, EVENTS_PER_TURN, tmo);
    /* Consume a notification (or our SLEEPING): unparks from now on target the next turn. */
    atomic_exchange_explicit(&r->sleep_state, SLEEP_AWAKE, memory_order_acq_rel);
    uint64_t dispatched = 0;
    for (int i = 0; i < n; i++) {
        weft__io_source *s = r->events[i].data.ptr;
        if (!s) {
            uint64_t v;
            while (read(r->eventfd, &v, sizeof v) < 0 && errno == EINTR) {
            }
            continue;
        }
        dispatch(s, readiness_of(r->events[i].events));
        dispatched++;
    }
    if (dispatched) /* one writer (the driver's owner): a plain add, read racily by metrics */
        atomic_store_explicit(&r->ready_events,
                              atomic_load_explicit(&r->ready_events, memory_order_relaxed) +
                                  dispatched,
                              memory_order_relaxed);
}

uint64_t weft__reactor_ready_events(weft__reactor *r)
{
    return atomic_load_explicit(&r->ready_events, memory_order_relaxed);
}

void weft__reactor_unpark(weft__reactor *r)
{
    uint32_t prev = atomic_exchange_explicit(&r->sleep_state, SLEEP_NOTIFIED,
                                             memory_order_acq_rel);
    if (prev == SLEEP_SLEEPING) {
        uint64_t one = 1;
        /* EAGAIN means the counter is already huge, i.e. the wakeup is pending anyway. */
        while (write(r->eventfd, &one, sizeof one) < 0 && errno == EINTR) {
        }
    }
}

/* ---------------------------------------------------------------- sources */

int weft__io_register(weft__reactor *r, int fd, uint64_t trace_id, weft__io_source **out)
{
    weft__io_source *s = calloc(1, sizeof *s);
    if (!s)
        return WEFT_ENOMEM;
    atomic_init(&s->readiness, 0);
    s->fd = fd;
    s->trace_id = trace_id;
    s->reactor = r;
    pthread_mutex_init(&s->lock, NULL);
    struct epoll_event ev = {
        .events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
        .data.ptr = s,
    };
    if (epoll_ctl(r->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
        int e = errno;
        source_free(s);
        return weft_os_error(e);
    }
    atomic_fetch_add_explicit(&r->refs, 1, memory_order_relaxed);
    WEFT__EMIT(io_register, trace_id, (uint32_t)fd, (uint8_t)3);
    *out = s;
    return 0;
}

void weft__io_deregister(weft__io_source *s)
{
    weft__reactor *r = s->reactor;
    /* ENOENT/EBADF would mean the descriptor was already closed: nothing more to remove. */
    epoll_ctl(r->epfd, EPOLL_CTL_DEL, s->fd, NULL);
    pthread_mutex_lock(&s->lock);
    s->closed = true;
    weft_waker rd = s->waker[WEFT__IO_DIR_READ];
    weft_waker wr = s->waker[WEFT__IO_DIR_WRITE];
    s->waker[WEFT__IO_DIR_READ] = s->waker[WEFT__IO_DIR_WRITE] = WEFT_WAKER_NONE;
    pthread_mutex_unlock(&s->lock);
    weft_waker_drop(&rd);
    weft_waker_drop(&wr);
    if (atomic_load_explicit(&r->dead, memory_order_acquire)) {
        /* Closed after its runtime shut down: no turn will come to free it. (A close racing
         * with the shutdown itself may still land on the release list: then the source and
         * the reactor's memory are leaked, never touched after free.) */
        source_free(s);
        reactor_unref(r);
        return;
    }
    weft__io_source *head = atomic_load_explicit(&r->release, memory_order_relaxed);
    do {
        s->release_next = head;
    } while (!atomic_compare_exchange_weak_explicit(&r->release, &head, s,
                                                    memory_order_release,
                                                    memory_order_relaxed));
}

static inline unsigned dir_mask(weft__io_dir dir)
{
    return dir == WEFT__IO_DIR_READ ? WEFT__IO_READ_MASK : WEFT__IO_WRITE_MASK;
}

weft_poll weft__io_poll_ready(weft__io_source *s, weft__io_dir dir, weft_context *cx,
                              uint64_t *tick)
{
    unsigned mask = dir_mask(dir);
    uint64_t cur = atomic_load_explicit(&s->readiness, memory_order_acquire);
    if (cur & mask) {
        *tick = cur >> 8;
        return WEFT_READY;
    }
    pthread_mutex_lock(&s->lock);
    if (!s->closed)
        weft_waker_register(&s->waker[dir], cx);
    pthread_mutex_unlock(&s->lock);
    cur = atomic_load_explicit(&s->readiness, memory_order_acquire);
    if (cur & mask) {
        /* An edge came while we registered: go on now. The stored waker may give one
         * spurious wake later, which the contract allows. */
        *tick = cur >> 8;
        return WEFT_READY;
    }
    return WEFT_PENDING;
}

void weft__io_clear(weft__io_source *s, weft__io_dir dir, uint64_t tick)
{
    uint64_t bit = dir == WEFT__IO_DIR_READ ? WEFT__IO_READABLE : WEFT__IO_WRITABLE;
    uint64_t cur = atomic_load_explicit(&s->readiness, memory_order_relaxed);
    for (;;) {
        if ((cur >> 8) != tick || !(cur & bit))
            return; /* a newer edge arrived, or already clear */
        if (atomic_compare_exchange_weak_explicit(&s->readiness, &cur, cur & ~bit,
                                                  memory_order_acq_rel,
                                                  memory_order_relaxed))
            return;
    }
}
