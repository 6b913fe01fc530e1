/* runtime/channel/wake.c - waking every waiter of a channel list without waking under the
 * lock.
 *
 * Called by broadcast (a send wakes every waiting recv; the last sender's drop too) and watch
 * (a send wakes every changed(); the last receiver's drop wakes every closed()).
 *
 * The whole list is first spliced onto a head on this function's stack (O(1)), so waiters that
 * queue while we work are left for the next wake-up and the loop always ends. Then, in batches
 * of WEFT__WAKE_LIST_CAP, nodes are unlinked and their wakers moved out under the lock, and
 * woken after unlocking. A waiter dropped meanwhile unlinks itself from the stack list under
 * the lock (weft__list_remove does not care which list a node is in); the stack head outlives
 * every such removal because this function returns only once the list is empty.
 */
#include "channel_int.h"

void weft__chan_wake_all_unlock(weft__chan_mutex *lock, weft__list *waiters,
                                ptrdiff_t waker_offset)
{
    if (weft__list_empty(waiters)) {
        weft__chan_unlock(lock);
        return;
    }
    weft__list pending;
    pending.next = waiters->next;
    pending.prev = waiters->prev;
    pending.next->prev = &pending;
    pending.prev->next = &pending;
    weft__list_init(waiters);
    for (;;) {
        weft__wake_list wl;
        weft__wake_list_init(&wl);
        weft__list *n;
        while (!weft__wake_list_full(&wl) && (n = weft__list_pop_front(&pending)))
            weft__wake_list_take(&wl, (weft_waker *)(void *)((char *)n + waker_offset));
        bool more = !weft__list_empty(&pending);
        weft__chan_unlock(lock);
        weft__wake_list_wake_all(&wl);
        if (!more)
            return;
        weft__chan_lock(lock);
    }
}
