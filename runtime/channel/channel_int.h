/* runtime/channel/channel_int.h - what the channel files (mpsc, oneshot, broadcast, watch)
 * share, and nobody else may use.
 *
 * Every channel is one heap object shared by its handles and guarded by one mutex. The rules
 * that all four follow, and that these helpers make short to write:
 *
 *   - Critical sections are short: copy an item, move an index, link or unlink a waiter.
 *     Nothing inside them allocates (except an unbounded mpsc ring that has to grow), sleeps
 *     or calls a waker.
 *   - Wakers are woken after the lock is released. Whoever decides that a waiter may proceed
 *     *moves* the waker out of the waiter (under the lock) into a weft__wake_list on its own
 *     stack, and wakes the list after unlocking. After the unlock it never touches the waiter
 *     again, so a waiter may be dropped (and its memory reused) the moment the lock is free.
 *   - A channel wakes nobody when nobody waits: each side checks, under the lock it holds
 *     anyway, whether a waker is registered.
 *   - The lock (below) is inline on its uncontended path and spins briefly before sleeping in
 *     the kernel, which suits critical sections of a few dozen instructions.
 */
#ifndef WEFT_CHANNEL_INT_H
#define WEFT_CHANNEL_INT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../rt_int.h"
#include "../sync/resource.h"
#include "../util/futex_mutex.h"
#include "../util/list.h"

/* ---------------------------------------------------------------- the lock
 *
 * Each channel's state is guarded by one futex mutex (util/futex_mutex.h): an inline CAS to
 * lock and an exchange to unlock, spinning briefly and then sleeping only under contention.
 */
typedef struct weft__chan_mutex {
    weft__futex_mutex state;
} weft__chan_mutex;

static inline void weft__chan_lock_init(weft__chan_mutex *l)
{
    weft__futex_mutex_init(&l->state);
}

static inline void weft__chan_lock(weft__chan_mutex *l)
{
    weft__futex_lock(&l->state);
}

static inline void weft__chan_unlock(weft__chan_mutex *l)
{
    weft__futex_unlock(&l->state);
}

/* ---------------------------------------------------------------- waking after unlock
 *
 * A fixed batch of wakers taken out of waiters under a lock. When it is full the caller
 * unlocks, wakes the batch and locks again (weft__wake_list_full tells it when): closing a
 * channel with thousands of waiters then needs no allocation and never wakes under the lock.
 */
#define WEFT__WAKE_LIST_CAP 32

typedef struct weft__wake_list {
    size_t n;                              /* wakers held */
    weft_waker w[WEFT__WAKE_LIST_CAP];     /* owned: each is woken (consumed) by wake_all */
} weft__wake_list;

static inline void weft__wake_list_init(weft__wake_list *wl)
{
    wl->n = 0;
}

static inline bool weft__wake_list_full(const weft__wake_list *wl)
{
    return wl->n == WEFT__WAKE_LIST_CAP;
}

/* Move *w into the list (leaving "no waker" behind). The caller checked it is not full. */
static inline void weft__wake_list_take(weft__wake_list *wl, weft_waker *w)
{
    if (weft_waker_is_set(w)) {
        wl->w[wl->n++] = *w;
        *w = WEFT_WAKER_NONE;
    }
}

/* Wake and consume every waker in the list. Call without any channel lock held. */
static inline void weft__wake_list_wake_all(weft__wake_list *wl)
{
    for (size_t i = 0; i < wl->n; i++)
        weft_waker_wake(&wl->w[i]);
    wl->n = 0;
}

/* Wake every waiter in `waiters`, lock held; returns with the lock released (wake.c). Each
 * node's waker is found `waker_offset` bytes after the node. Nothing is woken under the lock,
 * and a waiter may drop itself at any moment (it unlinks under the lock). */
void weft__chan_wake_all_unlock(weft__chan_mutex *lock, weft__list *waiters,
                                ptrdiff_t waker_offset);

/* The waker_offset of a waiter type whose list node and waker are fields of one struct. */
#define WEFT__WAKER_OFFSET(type, node, waker) \
    ((ptrdiff_t)offsetof(type, waker) - (ptrdiff_t)offsetof(type, node))

/* ---------------------------------------------------------------- items
 *
 * Channels carry fixed-size items copied by value. Most items are a word or two (an integer,
 * a pointer, a small struct), for which a call to memcpy with a run-time size costs more than
 * the copy: the common sizes get an inline copy. */
static inline void weft__item_copy(void *dst, const void *src, size_t size)
{
    switch (size) {
    case 0:
        return;
    case 4: {
        uint32_t v;
        memcpy(&v, src, 4);
        memcpy(dst, &v, 4);
        return;
    }
    case 8: {
        uint64_t v;
        memcpy(&v, src, 8);
        memcpy(dst, &v, 8);
        return;
    }
    case 16: {
        uint64_t v[2];
        memcpy(v, src, 16);
        memcpy(dst, v, 16);
        return;
    }
    default:
        memcpy(dst, src, size);
    }
}

/* Copy out unless the caller passed no destination (it only wanted the event). */
static inline void weft__item_copy_out(void *dst, const void *src, size_t size)
{
    if (dst)
        weft__item_copy(dst, src, size);
}

/* size * count without overflow: false if it would not fit in size_t. */
static inline bool weft__size_mul(size_t a, size_t b, size_t *out)
{
    if (b != 0 && a > SIZE_MAX / b)
        return false;
    *out = a * b;
    return true;
}

#endif
