/* weft/future.h - futures, wakers, contexts and the async-function macros.
 *
 * A future is a struct whose first member is a `weft_future` header. The runtime *polls* it:
 *
 *     weft_poll poll(weft_future *self, weft_context *cx);
 *
 * returns WEFT_READY when the future has finished (its result is read from the struct), or
 * WEFT_PENDING when it cannot make progress yet. The contract of PENDING: before returning it,
 * the future has arranged for `cx->waker` (or a clone of it) to be woken once progress is
 * possible. A future that returns PENDING without doing so is never polled again: the "lost
 * wakeup" bug.
 *
 * `drop` is called when a future is abandoned before it finished: that is *cancellation*,
 * exactly as dropping a future is in Rust. A leaf future unregisters its waker there and gives
 * back whatever it partly acquired. `drop` is never called after poll returned READY.
 *
 * Moving: a future may be copied with memcpy until it is first polled (weft_spawn copies it into
 * the task). After its first poll it must stay where it is, because it may have handed its own
 * address to a timer wheel or a wait queue. This is what Rust expresses with Pin.
 */
#ifndef WEFT_FUTURE_H
#define WEFT_FUTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum weft_poll {
    WEFT_PENDING = 0,
    WEFT_READY = 1,
} weft_poll;

/* Where something happened in the program's source: captured by macros at the call site, so
 * that the console can say "waits at bank.c:42". */
typedef struct weft_location {
    const char *file;
    const char *func;
    int line;
} weft_location;

#define WEFT_HERE ((weft_location){__FILE__, __func__, __LINE__})

typedef struct weft_future weft_future;
typedef struct weft_context weft_context;
typedef struct weft_waker weft_waker;
typedef struct weft_task weft_task;

typedef struct weft_future_vtable {
    weft_poll (*poll)(weft_future *self, weft_context *cx);
    /* Cancellation: release what a pending future holds. May be NULL if there is nothing. */
    void (*drop)(weft_future *self);
    /* A short type name ("sleep", "mutex_lock", "accept_loop"); the default task name. */
    const char *name;
} weft_future_vtable;

struct weft_future {
    const weft_future_vtable *vt;
};

static inline weft_poll weft_future_poll(weft_future *f, weft_context *cx)
{
    return f->vt->poll(f, cx);
}

static inline void weft_future_drop(weft_future *f)
{
    if (f->vt->drop)
        f->vt->drop(f);
}

/* ---------------------------------------------------------------- wakers
 *
 * A waker is a (vtable, data) pair, like Rust's RawWaker. Clones are independent handles; each
 * must eventually be consumed by weft_waker_wake() or weft_waker_drop(). A zeroed waker (vt ==
 * NULL) is "no waker" and every function below accepts it.
 */
typedef struct weft_waker_vtable {
    weft_waker (*clone)(const void *data);
    void (*wake)(const void *data);        /* consumes the handle */
    void (*wake_by_ref)(const void *data); /* leaves the handle valid */
    void (*drop)(const void *data);
} weft_waker_vtable;

struct weft_waker {
    const weft_waker_vtable *vt;
    const void *data;
};

#define WEFT_WAKER_NONE ((weft_waker){NULL, NULL})

static inline bool weft_waker_is_set(const weft_waker *w)
{
    return w->vt != NULL;
}

/* Two wakers that would wake the same task: used to skip a needless clone. */
static inline bool weft_waker_will_wake(const weft_waker *a, const weft_waker *b)
{
    return a->vt == b->vt && a->data == b->data;
}

static inline weft_waker weft_waker_clone(const weft_waker *w)
{
    return w->vt ? w->vt->clone(w->data) : WEFT_WAKER_NONE;
}

/* Wake and consume: *w is "no waker" afterwards. */
static inline void weft_waker_wake(weft_waker *w)
{
    weft_waker tmp = *w;
    *w = WEFT_WAKER_NONE;
    if (tmp.vt)
        tmp.vt->wake(tmp.data);
}

static inline void weft_waker_wake_by_ref(const weft_waker *w)
{
    if (w->vt)
        w->vt->wake_by_ref(w->data);
}

static inline void weft_waker_drop(weft_waker *w)
{
    weft_waker tmp = *w;
    *w = WEFT_WAKER_NONE;
    if (tmp.vt)
        tmp.vt->drop(tmp.data);
}

/* The usual registration step of a leaf future: keep a clone of cx's waker in *slot, replacing
 * an older one unless it would wake the same task anyway. Not thread-safe by itself: callers
 * hold whatever lock guards the slot. */
void weft_waker_register(weft_waker *slot, const weft_context *cx);

/* ---------------------------------------------------------------- context */

struct weft_context {
    const weft_waker *waker; /* borrowed for the duration of one poll; clone to keep it */
    weft_task *task;         /* the task being polled, or NULL inside block_on's root future */
};

/* ---------------------------------------------------------------- async functions
 *
 * An async function is a state machine: its locals live in a struct, and each WEFT_AWAIT is a
 * point where poll can return PENDING and later resume. The struct embeds a `weft_async` and
 * the futures it awaits (no allocation per await):
 *
 *     typedef struct { weft_async co; int i; weft_sleep nap; } ticker;
 *
 *     static weft_poll ticker_poll(weft_future *f, weft_context *cx) {
 *         ticker *t = (ticker *)f;
 *         WEFT_ASYNC_BEGIN(&t->co);
 *         for (t->i = 0; t->i < 3; t->i++) {
 *             weft_sleep_init(&t->nap, weft_ms(10));
 *             WEFT_AWAIT(&t->co, cx, &t->nap);
 *         }
 *         WEFT_ASYNC_END(&t->co);
 *     }
 *
 * The macros are a switch on the resume point (each await's __LINE__), the same trick as
 * Duff's device and protothreads. Consequences worth knowing: ordinary C locals do not survive
 * an await (keep them in the struct), two awaits may not share a source line, and an await may
 * not sit inside a nested switch. `awaiting` remembers the sub-future in flight so that dropping
 * the outer future cancels it: weft_async_drop() does that, as Rust drops the live locals of a
 * suspended async fn. See docs/book/async-functions.md for the expansion.
 */
typedef struct weft_async {
    weft_future base;     /* must be first: the async function *is* a future */
    int resume;           /* 0 = not started, -1 = finished, else the line of the await */
    weft_future *awaiting; /* sub-future being awaited, or NULL between awaits */
} weft_async;

#define WEFT_ASYNC_DONE (-1)

/* Initialise the header of an async function's state struct. */
static inline void weft_async_init(weft_async *co, const weft_future_vtable *vt)
{
    co->base.vt = vt;
    co->resume = 0;
    co->awaiting = NULL;
}

/* Drop whatever sub-future the async function is suspended on. Use it from the outer future's
 * drop (or as the drop itself when there is nothing else to release). */
void weft_async_drop(weft_future *self);

/* Falling from one resume point into the next case label is the design: say so, because a
 * comment inside a macro does not reach the compiler's -Wimplicit-fallthrough (-Wextra). */
#if defined(__has_attribute)
#if __has_attribute(fallthrough)
#define WEFT__FALLTHROUGH __attribute__((fallthrough))
#endif
#endif
#ifndef WEFT__FALLTHROUGH
#define WEFT__FALLTHROUGH ((void)0)
#endif

#define WEFT_ASYNC_BEGIN(co)      \
    switch ((co)->resume) {       \
    case 0:

/* Await a future embedded in the state. Evaluates to nothing; read the result from the
 * awaited future's struct afterwards. */
#define WEFT_AWAIT(co, cx, fut)                                                  \
    do {                                                                         \
        (co)->awaiting = (weft_future *)(fut);                                   \
        (co)->resume = __LINE__;                                                 \
        WEFT__FALLTHROUGH;                                                       \
    case __LINE__:                                                               \
        if (weft_future_poll((co)->awaiting, (cx)) == WEFT_PENDING)              \
            return WEFT_PENDING;                                                 \
        (co)->awaiting = NULL;                                                   \
    } while (0)

/* Finish early. */
#define WEFT_ASYNC_RETURN(co)                                                    \
    do {                                                                         \
        (co)->resume = WEFT_ASYNC_DONE;                                          \
        (co)->awaiting = NULL;                                                   \
        return WEFT_READY;                                                       \
    } while (0)

#define WEFT_ASYNC_END(co)                                                       \
        WEFT__FALLTHROUGH;                                                       \
    default:                                                                     \
        break;                                                                   \
    }                                                                            \
    (co)->resume = WEFT_ASYNC_DONE;                                              \
    (co)->awaiting = NULL;                                                       \
    return WEFT_READY

/* ---------------------------------------------------------------- ready / pending helpers */

/* A future that is ready at once: useful as a select branch or a placeholder. */
typedef struct weft_ready_future {
    weft_future base;
} weft_ready_future;

void weft_ready_init(weft_ready_future *f);

/* A future that never completes (it registers no waker and is only ever cancelled). */
typedef struct weft_pending_future {
    weft_future base;
} weft_pending_future;

void weft_pending_init(weft_pending_future *f);

#endif
