/* weft/signal.h - Unix signals as futures, for graceful shutdown.
 *
 * Tokio names: signal::ctrl_c() -> weft_ctrl_c_init, signal(SignalKind::terminate()) ->
 * weft_signal_new(&s, SIGTERM) + weft_signal_recv_init.
 *
 *     weft_ctrl_c_init(&st->stop);          // or weft_shutdown_signal_init: SIGINT or SIGTERM
 *     WEFT_AWAIT(&st->co, cx, &st->stop);   // the next Ctrl-C after the init
 *     // stop accepting, let in-flight requests finish, then return
 *
 * Semantics (Tokio's): a listener counts the deliveries of its signal from the moment it was
 * created; recv completes once for every batch of deliveries that arrived since the previous
 * recv (several signals in quick succession may complete one recv: signals coalesce, as the
 * OS's do). Once weft listens for a signal, the signal's default action (terminating the
 * process, for SIGINT and SIGTERM) no longer happens, for the rest of the process's life: the
 * program decides what a signal means.
 *
 * How: a handler installed with sigaction counts each delivery and writes an eventfd; one
 * weft thread per process reads it and wakes the listeners. (signalfd would need the signal
 * blocked in every thread of the process, including threads weft did not create, or the
 * default action still kills the process when the kernel picks such a thread; a handler works
 * whichever thread the kernel picks.) Listening needs no runtime, and the futures may be
 * awaited on any runtime, or several.
 */
#ifndef WEFT_SIGNAL_H
#define WEFT_SIGNAL_H

#include <signal.h>
#include <stdint.h>

#include <weft/future.h>
#include <weft/resource.h>

typedef struct weft_signal weft_signal;

/* Start listening for `signum`. 0 and *out, or WEFT_EINVAL (SIGKILL, SIGSTOP, a signal the C
 * library reserves, out of range), WEFT_ENOMEM, or the OS's error installing the handler. */
#define weft_signal_new(out, signum) weft__signal_new((out), (signum), WEFT_HERE)
int weft__signal_new(weft_signal **out, int signum, weft_location where);
/* Stop listening; no recv may be pending on it. Safe on NULL. The handler stays installed. */
void weft_signal_free(weft_signal *s);
/* Deliveries seen by this listener so far (all of them, consumed by recv or not). */
uint64_t weft_signal_count(const weft_signal *s);

/* recv: READY with status 0 once the signal was delivered since the previous recv (or since
 * the listener was created). Cancel-safe: a dropped recv consumes nothing. */
typedef struct weft_signal_recv {
    weft_future base;
    weft_signal *sig;    /* [owner] borrowed */
    weft_location where; /* the init call, for the console */
    bool waiting;        /* [owner] reported as waiting */
    int status;          /* result: 0, or WEFT_EINVAL without a listener */
} weft_signal_recv;

#define weft_signal_recv_init(f, s) weft__signal_recv_init((f), (s), WEFT_HERE)
void weft__signal_recv_init(weft_signal_recv *f, weft_signal *s, weft_location where);

/* ctrl_c: a future that owns its listeners. It starts listening at init (a signal between
 * init and the first poll counts), completes once SIGINT (weft_ctrl_c_init) or either SIGINT
 * or SIGTERM (weft_shutdown_signal_init) arrives, and frees its listeners when it completes
 * or is dropped. status 0, `signum` the signal that arrived; or an error from listening. */
typedef struct weft_ctrl_c {
    weft_future base;
    weft_signal *sig[2];  /* [owner] NULL where unused */
    weft_location where;
    bool waiting;
    int signum;           /* result */
    int status;           /* result */
} weft_ctrl_c;

#define weft_ctrl_c_init(f) weft__ctrl_c_init((f), false, WEFT_HERE)
#define weft_shutdown_signal_init(f) weft__ctrl_c_init((f), true, WEFT_HERE)
void weft__ctrl_c_init(weft_ctrl_c *f, bool also_sigterm, weft_location where);

#endif
