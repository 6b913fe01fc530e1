/* runtime/sync/resource.c - resource ids, kind names and the registry of live resources
 * (see weft/resource.h).
 *
 * The registry exists for the instrumentation: a reader that attaches to a running program
 * gets a snapshot of every live resource (instrument/snapshot.c walks it). Only resources
 * initialised while tracing is on are registered, so that a program that does not trace pays
 * nothing; the registry's one mutex is then taken at each create and drop.
 *
 * Lock order: registry lock, then a primitive's own lock (its snapshot callback); so
 * weft__resource_drop must not be called with a primitive's lock held.
 */
#include <pthread.h>

#include "../util/list.h"
#include "resource.h"

static _Atomic uint64_t next_resource_id = 1;

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static weft__list registry = {&registry, &registry}; /* [registry_lock] live resources */

void weft__resource_init_cap(weft_resource *r, weft_resource_kind kind, const char *name,
                             weft_location where, uint64_t capacity)
{
    r->id = atomic_fetch_add_explicit(&next_resource_id, 1, memory_order_relaxed);
    r->kind = kind;
    r->name = name ? name : weft_resource_kind_name(kind);
    r->created_at = where;
    r->capacity = capacity;
    r->snapshot = NULL;
    weft__list_init(&r->registry);
    r->registered = false;
#if WEFT_INSTRUMENT
    /* A program's locks and channels are often made before its first runtime, which is where
     * WEFT_TRACE=1 normally starts the tracer: start it here too (the environment is read
     * once per process), so that those resources are registered, reported and named. */
    static _Atomic bool env_checked;
    if (!WEFT__TRACING() && !atomic_load_explicit(&env_checked, memory_order_relaxed)) {
        atomic_store_explicit(&env_checked, true, memory_order_relaxed);
        weft__trace_setup(NULL);
    }
    if (WEFT__TRACING()) {
        pthread_mutex_lock(&registry_lock);
        weft__list_push_back(&registry, &r->registry);
        pthread_mutex_unlock(&registry_lock);
        r->registered = true;
    }
#endif
    WEFT_HOOK(resource_create, r, capacity);
}

void weft__resource_init(weft_resource *r, weft_resource_kind kind, const char *name,
                         weft_location where)
{
    weft__resource_init_cap(r, kind, name, where, 0);
}

void weft__resource_drop(weft_resource *r)
{
    WEFT_HOOK(resource_drop, r);
    if (r->registered) {
        pthread_mutex_lock(&registry_lock);
        weft__list_remove(&r->registry);
        pthread_mutex_unlock(&registry_lock);
        r->registered = false;
    }
}

void weft__resource_for_each(void (*fn)(const weft_resource *r, void *arg), void *arg)
{
    pthread_mutex_lock(&registry_lock);
    for (weft__list *n = registry.next; n != &registry; n = n->next)
        fn(weft__container_of(n, weft_resource, registry), arg);
    pthread_mutex_unlock(&registry_lock);
}

const char *weft_resource_kind_name(weft_resource_kind kind)
{
    static const char *const names[] = {
#define WEFT_RES_NAME_(name, label) label,
        WEFT_RESOURCE_KINDS(WEFT_RES_NAME_)
#undef WEFT_RES_NAME_
    };
    return (unsigned)kind < WEFT_RESOURCE_KIND_COUNT_ ? names[kind] : "unknown";
}

bool weft_resource_kind_is_stream(weft_resource_kind kind)
{
    return kind == WEFT_RESOURCE_TCP_STREAM || kind == WEFT_RESOURCE_UNIX_STREAM ||
           kind == WEFT_RESOURCE_UDP_SOCKET;
}

const char *weft_resource_op_name(weft_resource_op op)
{
    static const char *const names[] = {
#define WEFT_RES_OP_NAME_(name, label) label,
        WEFT_RESOURCE_OPS(WEFT_RES_OP_NAME_)
#undef WEFT_RES_OP_NAME_
    };
    return (unsigned)op < WEFT_OP_COUNT_ ? names[op] : "unknown";
}
