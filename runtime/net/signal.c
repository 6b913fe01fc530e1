/* runtime/net/signal.c - Unix signals as futures (weft/signal.h).
 *
 * Three pieces, process-wide:
 *
 *   handler      installed with sigaction the first time a signal is listened for; counts the
 *                delivery in `delivered[signum]` and writes the eventfd. Async-signal-safe:
 *                a lock-free atomic add and a write(2), errno preserved.
 *   dispatcher   one detached thread ("weft-signal") blocked in read(eventfd); on each wake it
 *                takes the listener lock and wakes every listener whose signal's count moved.
 *   listeners    weft_signal: a signal number, the count it has consumed up to, one waker;
 *                in a list under `listeners_lock`.
 *
 * Why not signalfd: see weft/signal.h. Lost wakeups: a recv stores its waker under the lock,
 * then re-reads the count; the dispatcher reads the count under the same lock after the
 * handler's add, so either the recv sees the new count or the dispatcher sees the waker.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <weft/io.h>
#include <weft/signal.h>

#include "../sync/resource.h"
#include "../util/list.h"

#define MAX_SIGNAL 64

struct weft_signal {
    weft_resource res;  /* [fixed] the listener as a resource (kind signal) */
    int signum;         /* [fixed] */
    uint64_t seen;      /* [listeners_lock] deliveries consumed by recv so far */
    uint64_t created_at_count; /* [fixed] delivered[signum] when created */
    weft_waker waker;   /* [listeners_lock] the pending recv's */
    weft__list link;    /* [listeners_lock] in `listeners` */
};

static _Atomic uint64_t delivered[MAX_SIGNAL + 1]; /* written by the handler */
static _Atomic bool installed[MAX_SIGNAL + 1];     /* [setup_lock] for writers */
static int wake_fd = -1;                           /* [setup_lock], then fixed */

static pthread_mutex_t setup_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t listeners_lock = PTHREAD_MUTEX_INITIALIZER;
static weft__list listeners = {&listeners, &listeners}; /* [listeners_lock] */

static void handler(int signum)
{
    int saved = errno;
    if (signum > 0 && signum <= MAX_SIGNAL)
        atomic_fetch_add_explicit(&delivered[signum], 1, memory_order_release);
    uint64_t one = 1;
    ssize_t r = write(wake_fd, &one, sizeof one);
    (void)r; /* EAGAIN: the counter is huge, the dispatcher wakes anyway */
    errno = saved;
}

static void *dispatcher(void *arg)
{
    (void)arg;
    for (;;) {
        uint64_t v;
        ssize_t r = read(wake_fd, &v, sizeof v);
        if (r < 0 && errno != EINTR && errno != EAGAIN)
            return NULL; /* cannot happen with a valid eventfd; never spin */
        pthread_mutex_lock(&listeners_lock);
        for (weft__list *n = listeners.next; n != &listeners; n = n->next) {
            weft_signal *s = weft__container_of(n, weft_signal, link);
            uint64_t now = atomic_load_explicit(&delivered[s->signum], memory_order_acquire);
            if (now - s->created_at_count > s->seen)
                weft_waker_wake(&s->waker);
        }
        pthread_mutex_unlock(&listeners_lock);
    }
}

/* Install the handler for signum (once) and start the dispatcher (once). */
static int setup(int signum)
{
    int err = 0;
    pthread_mutex_lock(&setup_lock);
    if (wake_fd < 0) {
        int fd = eventfd(0, EFD_CLOEXEC); /* blocking for the dispatcher; the handler's
                                           * write never blocks below the counter's max */
        if (fd < 0) {
            err = weft_os_error(errno);
            goto out;
        }
        wake_fd = fd;
        pthread_t th;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        /* The dispatcher must never run the handler itself (it would write while we read,
         * harmless, but keep signals for the program's threads). */
        sigset_t all, old;
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &old);
        int e = pthread_create(&th, &attr, dispatcher, NULL);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        pthread_attr_destroy(&attr);
        if (e) {
            close(fd);
            wake_fd = -1;
            err = WEFT_ETHREAD;
            goto out;
        }
        pthread_setname_np(th, "weft-signal");
    }
    if (!atomic_load(&installed[signum])) {
        struct sigaction sa = {0};
        sa.sa_handler = handler;
        sigemptyset(&sa.sa_mask);
        sa.sa_flags = SA_RESTART;
        if (sigaction(signum, &sa, NULL) < 0) {
            err = weft_os_error(errno);
            goto out;
        }
        atomic_store(&installed[signum], true);
    }
out:
    pthread_mutex_unlock(&setup_lock);
    return err;
}

/* ---------------------------------------------------------------- listeners */

int weft__signal_new(weft_signal **out, int signum, weft_location where)
{
    if (!out)
        return WEFT_EINVAL;
    *out = NULL;
    if (signum <= 0 || signum > MAX_SIGNAL || signum == SIGKILL || signum == SIGSTOP ||
        (signum > 31 && signum < SIGRTMIN))
        return WEFT_EINVAL;
    int err = setup(signum);
    if (err)
        return err;
    weft_signal *s = calloc(1, sizeof *s);
    if (!s)
        return WEFT_ENOMEM;
    s->signum = signum;
    weft__resource_init_cap(&s->res, WEFT_RESOURCE_SIGNAL, NULL, where, (uint64_t)signum);
    pthread_mutex_lock(&listeners_lock);
    s->created_at_count = atomic_load_explicit(&delivered[signum], memory_order_acquire);
    weft__list_push_back(&listeners, &s->link);
    pthread_mutex_unlock(&listeners_lock);
    *out = s;
    return 0;
}

void weft_signal_free(weft_signal *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&listeners_lock);
    weft__list_remove(&s->link);
    weft_waker w = s->waker;
    s->waker = WEFT_WAKER_NONE;
    pthread_mutex_unlock(&listeners_lock);
    weft_waker_drop(&w);
    weft__resource_drop(&s->res);
    free(s);
}

uint64_t weft_signal_count(const weft_signal *s)
{
    if (!s)
        return 0;
    return atomic_load_explicit(&delivered[s->signum], memory_order_acquire) -
           s->created_at_count;
}

/* READY when there are unconsumed deliveries (consuming them all), else store the waker. */
static weft_poll listener_poll(weft_signal *s, weft_context *cx)
{
    pthread_mutex_lock(&listeners_lock);
    uint64_t count = weft_signal_count(s);
    if (count > s->seen) {
        s->seen = count;
        pthread_mutex_unlock(&listeners_lock);
        return WEFT_READY;
    }
    weft_waker_register(&s->waker, cx);
    pthread_mutex_unlock(&listeners_lock);
    return WEFT_PENDING;
}

static weft_poll recv_poll(weft_future *f, weft_context *cx)
{
    weft_signal_recv *r = (weft_signal_recv *)f;
    if (!r->sig) {
        r->status = WEFT_EINVAL;
        return WEFT_READY;
    }
    if (listener_poll(r->sig, cx) == WEFT_PENDING) {
        if (!r->waiting) {
            r->waiting = true;
            weft__resource_wait(&r->sig->res, WEFT_OP_WAIT, r->where);
        }
        return WEFT_PENDING;
    }
    if (r->waiting) {
        r->waiting = false;
        weft__resource_wait_done(&r->sig->res, WEFT_OP_WAIT);
    }
    r->status = 0;
    return WEFT_READY;
}

static void recv_drop(weft_future *f)
{
    weft_signal_recv *r = (weft_signal_recv *)f;
    if (r->waiting) {
        r->waiting = false;
        weft__resource_wait_done(&r->sig->res, WEFT_OP_WAIT);
    }
}

static const weft_future_vtable recv_vt = {recv_poll, recv_drop, "signal_recv"};

void weft__signal_recv_init(weft_signal_recv *f, weft_signal *s, weft_location where)
{
    *f = (weft_signal_recv){.base = {&recv_vt}, .sig = s, .where = where};
}

/* ---------------------------------------------------------------- ctrl_c */

static void ctrl_c_release(weft_ctrl_c *c)
{
    for (int i = 0; i < 2; i++) {
        if (c->sig[i] && c->waiting)
            weft__resource_wait_done(&c->sig[i]->res, WEFT_OP_WAIT);
        weft_signal_free(c->sig[i]);
        c->sig[i] = NULL;
    }
    c->waiting = false;
}

static weft_poll ctrl_c_poll(weft_future *f, weft_context *cx)
{
    weft_ctrl_c *c = (weft_ctrl_c *)f;
    if (c->status || !c->sig[0])
        return WEFT_READY; /* listening failed at init (status says why), or completed */
    for (int i = 0; i < 2; i++) {
        if (c->sig[i] && listener_poll(c->sig[i], cx) == WEFT_READY) {
            c->signum = c->sig[i]->signum;
            ctrl_c_release(c);
            return WEFT_READY;
        }
    }
    if (!c->waiting) {
        c->waiting = true;
        for (int i = 0; i < 2; i++)
            if (c->sig[i])
                weft__resource_wait(&c->sig[i]->res, WEFT_OP_WAIT, c->where);
    }
    return WEFT_PENDING;
}

static void ctrl_c_drop(weft_future *f)
{
    ctrl_c_release((weft_ctrl_c *)f);
}

static const weft_future_vtable ctrl_c_vt = {ctrl_c_poll, ctrl_c_drop, "ctrl_c"};

void weft__ctrl_c_init(weft_ctrl_c *f, bool also_sigterm, weft_location where)
{
    *f = (weft_ctrl_c){.base = {&ctrl_c_vt}, .where = where};
    f->status = weft__signal_new(&f->sig[0], SIGINT, where);
    if (!f->status && also_sigterm)
        f->status = weft__signal_new(&f->sig[1], SIGTERM, where);
    if (f->status)
        ctrl_c_release(f);
}
