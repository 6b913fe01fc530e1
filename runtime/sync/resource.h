/* runtime/sync/resource.h - how a primitive reports itself (see weft/resource.h).
 *
 * Every primitive calls these at the matching moments; they feed the instrumentation hooks.
 * weft__resource_wait is called when a task is about to return PENDING because of the
 * resource (after registering its waker), with the location captured by the operation's init
 * macro; weft__resource_wait_done when that wait ends (granted, cancelled or closed).
 */
#ifndef WEFT_SYNC_RESOURCE_H
#define WEFT_SYNC_RESOURCE_H

#include <weft/resource.h>

#include "../rt_int.h"

void weft__resource_init(weft_resource *r, weft_resource_kind kind, const char *name,
                         weft_location where);
/* The same with the capacity (permits, channel bound) that resource_create reports. */
void weft__resource_init_cap(weft_resource *r, weft_resource_kind kind, const char *name,
                             weft_location where, uint64_t capacity);
/* Call without holding the primitive's own lock (see weft/resource.h, `snapshot`). */
void weft__resource_drop(weft_resource *r);
/* Every live registered resource, under the registry lock (instrument/snapshot.c). */
void weft__resource_for_each(void (*fn)(const weft_resource *r, void *arg), void *arg);

/* The task being polled on this thread (0 outside tasks): the holder/waiter id to record. */
static inline weft_task_id weft__resource_current_task(void)
{
    return weft__tls.task ? weft__tls.task->id : 0;
}

/* Each also tells the deterministic scheduler (replay/), when one runs on this thread, so
 * that it can draw the wait-for graph of a stuck program (rt_int.h). */
#define weft__resource_wait(r, op, where)                                                  \
    do {                                                                                   \
        WEFT_HOOK(resource_wait, weft__resource_current_task(), (r), (op), (where));      \
        weft__det_resource_wait((r), (op), (where));                                       \
    } while (0)
#define weft__resource_wait_done(r, op)                                                    \
    do {                                                                                   \
        WEFT_HOOK(resource_wait_done, weft__resource_current_task(), (r), (op));          \
        weft__det_resource_wait_done((r), (op));                                           \
    } while (0)
/* A state change: `what` is an event of instrument/events.h whose first field is the
 * resource (lock_acquire, permit_release, channel_send, ...); the other arguments are its
 * remaining fields in table order. An event not in the table does not compile: add its row
 * there (one line). Arguments are evaluated only while a sink is on. */
#define weft__resource_event(what, r, ...)                                                 \
    do {                                                                                   \
        WEFT__EMIT(what, (r), __VA_ARGS__);                                                \
        if (WEFT__DET_ACTIVE())                                                            \
            weft__det_on_resource_event(#what, (r), WEFT__DET_ARG1_(__VA_ARGS__, 0),        \
                                        WEFT__DET_ARG2_(__VA_ARGS__, 0, 0));               \
    } while (0)
/* The first two fields after the resource, as integers (0 when the event has fewer). */
#define WEFT__DET_ARG1_(a, ...) ((uint64_t)(a))
#define WEFT__DET_ARG2_(a, b, ...) ((uint64_t)(b))

#endif
