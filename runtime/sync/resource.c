/* runtime/sync/resource.c - resource ids and kind names (see weft/resource.h). */
#include "resource.h"

static _Atomic uint64_t next_resource_id = 1;

void weft__resource_init(weft_resource *r, weft_resource_kind kind, const char *name,
                         weft_location where)
{
    r->id = atomic_fetch_add_explicit(&next_resource_id, 1, memory_order_relaxed);
    r->kind = kind;
    r->name = name ? name : weft_resource_kind_name(kind);
    r->created_at = where;
    WEFT_HOOK(resource_create, r);
}

void weft__resource_drop(weft_resource *r)
{
    WEFT_HOOK(resource_drop, r);
    (void)r;
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

const char *weft_resource_op_name(weft_resource_op op)
{
    static const char *const names[] = {
#define WEFT_RES_OP_NAME_(name, label) label,
        WEFT_RESOURCE_OPS(WEFT_RES_OP_NAME_)
#undef WEFT_RES_OP_NAME_
    };
    return (unsigned)op < WEFT_OP_COUNT_ ? names[op] : "unknown";
}
