/* console/text.c - how the console writes durations, tasks, resources and waits. */
#include <stdio.h>
#include <string.h>

#include <weft/resource.h>

#include "app.h"

void fmt_dur(char *buf, size_t size, uint64_t ns, bool ascii)
{
    double v = (double)ns;
    if (ns >= 60000000000ull)
        snprintf(buf, size, "%um%02us", (unsigned)(ns / 60000000000ull),
                 (unsigned)(ns / 1000000000ull % 60));
    else if (ns >= 1000000000ull)
        snprintf(buf, size, "%.2fs", v / 1e9);
    else if (ns >= 1000000ull)
        snprintf(buf, size, "%.1fms", v / 1e6);
    else if (ns >= 1000ull)
        snprintf(buf, size, "%.1f%s", v / 1e3, ascii ? "us" : "\xc2\xb5s");
    else
        snprintf(buf, size, "%uns", (unsigned)ns);
}

void fmt_task(const model *m, uint64_t id, char *buf, size_t size)
{
    const model_task *t = model_task_get(m, id);
    const char *name = t ? model_string(m, t->name) : "";
    if (*name)
        snprintf(buf, size, "T%llu '%s'", (unsigned long long)id, name);
    else
        snprintf(buf, size, "T%llu", (unsigned long long)id);
}

void fmt_res(const model *m, uint64_t id, char *buf, size_t size)
{
    const model_resource *r = model_res_get(m, id);
    if (!r) {
        snprintf(buf, size, "resource #%llu", (unsigned long long)id);
        return;
    }
    const char *name = model_string(m, r->name);
    if (*name)
        snprintf(buf, size, "%s '%s'", model_res_kind_name(r->kind), name);
    else
        snprintf(buf, size, "%s #%llu", model_res_kind_name(r->kind), (unsigned long long)id);
}

static const char *op_verb(uint8_t op, uint8_t kind)
{
    bool stream = weft_resource_kind_is_stream((weft_resource_kind)kind);
    if (stream && op == WEFT_OP_READ)
        return "to read from";
    if (stream && op == WEFT_OP_WRITE)
        return "to write to";
    switch (op) {
    case WEFT_OP_LOCK: return "to lock";
    case WEFT_OP_READ: return "to read-lock";
    case WEFT_OP_WRITE: return "to write-lock";
    case WEFT_OP_ACQUIRE: return "to acquire";
    case WEFT_OP_SEND: return "to send on";
    case WEFT_OP_RECV: return "to receive from";
    case WEFT_OP_CLOSED: return "for the close of";
    case WEFT_OP_CHANGED: return "for a change of";
    case WEFT_OP_NOTIFIED: return "to be notified by";
    case WEFT_OP_WAIT: return "at";
    case WEFT_OP_CANCELLED: return "for the cancellation of";
    default: return "on";
    }
}

void fmt_wait(const model *m, const chain_link *l, char *buf, size_t size)
{
    char res[128], loc[96];
    if (l->via_join) {
        /* The join handle does not know where it is awaited; the joined task's spawn
         * location is where the joiner made the handle, which is usually close by. */
        const model_task *j = model_task_get(m, l->holder);
        fmt_task(m, l->holder, res, sizeof res);
        model_location(m, j ? j->location : 0, loc, sizeof loc);
        snprintf(buf, size, "waits for %s%s%s%s to finish (awaits its join)", res,
                 *loc ? " (spawned at " : "", loc, *loc ? ")" : "");
        return;
    }
    fmt_res(m, l->resource, res, sizeof res);
    model_location(m, l->location, loc, sizeof loc);
    const model_resource *r = model_res_get(m, l->resource);
    snprintf(buf, size, "waits %s %s%s%s", op_verb(l->op, r ? r->kind : 0), res,
             *loc ? " at " : "", loc);
}

const char *fmt_wait_tail(const chain_link *l)
{
    return l->via_join ? "" : l->via_receiver ? "whose receiver is" : "held by";
}

void fmt_lints(uint32_t mask, char *buf, size_t size)
{
    buf[0] = '\0';
    size_t len = 0;
    for (unsigned k = 0; k < LINT_COUNT && len + 1 < size; k++) {
        if (!(mask >> k & 1))
            continue;
        int n = snprintf(buf + len, size - len, "%s%s", len ? "," : "", lint_name(k));
        if (n < 0)
            break;
        len += (size_t)n;
    }
}
