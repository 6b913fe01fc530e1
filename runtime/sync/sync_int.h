/* runtime/sync/sync_int.h - what semaphore.c shares with the locks built on it.
 *
 * weft_mutex and weft_rwlock are a weft_semaphore inside (one permit; max_readers permits),
 * exactly as Tokio builds them on its batch semaphore. They need three things the public API
 * does not offer:
 *
 *   - a semaphore whose resource has their kind and name, and that reports lock_* events
 *     instead of permit_* ones (semaphore.c keys its events on res.kind);
 *   - to drive an embedded acquire future from their own future's poll and drop, with their
 *     own wait operation (lock / read / write) reported to the tools;
 *   - a release that refuses to push the count past the lock's capacity, which is how
 *     unlocking an unlocked mutex is caught instead of corrupting it.
 *
 * Nobody outside runtime/sync/ may include this file.
 */
#ifndef WEFT_SYNC_INT_H
#define WEFT_SYNC_INT_H

#include <weft/semaphore.h>

#include "../util/list.h"
#include "resource.h"

/* weft__semaphore_init with the resource kind of the primitive that embeds the semaphore.
 * permits must be <= WEFT_SEMAPHORE_MAX_PERMITS (callers check). */
void weft__semaphore_init_kind(weft_semaphore *s, size_t permits, weft_resource_kind kind,
                               const char *name, weft_location where);

/* Prepare an embedded acquire of n permits that reports `op` while it waits. The future's
 * vtable is the semaphore's; callers poll and drop it through the two functions below (or
 * through its vtable, which is the same thing). */
void weft__semaphore_acquire_setup(weft_semaphore_acquire *f, weft_semaphore *s, size_t n,
                                   weft_resource_op op, weft_location where);
weft_poll weft__semaphore_acquire_poll(weft_future *f, weft_context *cx);
void weft__semaphore_acquire_drop(weft_future *f);

/* Take n permits now: 0, WEFT_EAGAIN or WEFT_ECLOSED. No event is reported. */
int weft__semaphore_try_take(weft_semaphore *s, size_t n);

/* Give n permits back (waiters first) unless the available count would then exceed `limit`:
 * 0, or WEFT_EINVAL and nothing changed. Pass WEFT_SEMAPHORE_MAX_PERMITS as the limit for a
 * plain release. No event is reported; *available_after (may be NULL) receives the available
 * count after the release. */
int weft__semaphore_give(weft_semaphore *s, size_t n, size_t limit, size_t *available_after);

#endif
