/* replay/record.c - a run's record: tasks, steps, outcome and their strings.
 *
 * A record is filled by the deterministic scheduler while a program runs (det_sched.c), or by
 * the parser from a schedule file (schedule_file.c); the explorer reuses one record per run
 * (reset keeps the memory), which is why everything lives in a few growable arrays and one
 * string pool instead of small allocations: a two-task program is explored at tens of
 * thousands of runs per second, and a malloc per step would dominate.
 *
 * Strings are offsets into `str`, so that the arrays can grow (realloc) without leaving
 * dangling pointers, and so that a record can be copied with a few memcpy.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "det_int.h"

static const char *const outcome_names[] = {
#define WEFT__DET_OUT_NAME_(name, label) label,
    WEFT__DET_OUTCOMES(WEFT__DET_OUT_NAME_)
#undef WEFT__DET_OUT_NAME_
};

const char *weft__det_outcome_name(int kind)
{
    return kind >= 0 && kind < WEFT__OUT_COUNT_ ? outcome_names[kind] : "unknown";
}

int weft__det_outcome_parse(const char *label)
{
    for (int i = 0; i < WEFT__OUT_COUNT_; i++)
        if (strcmp(outcome_names[i], label) == 0)
            return i;
    return -1;
}

static const char *const op_names[WEFT__OP_COUNT_] = {
    [WEFT__OP_PENDING] = "pending",     [WEFT__OP_DONE] = "done",
    [WEFT__OP_YIELD] = "yield",         [WEFT__OP_WAIT] = "wait",
    [WEFT__OP_CANCELLED] = "cancelled", [WEFT__OP_BLOCKING] = "blocking",
    [WEFT__OP_FAILED] = "failed",
};

const char *weft__det_wait_phrase(int op, int kind)
{
    bool byte_stream = kind >= 0 && weft_resource_kind_is_stream((weft_resource_kind)kind);
    if (byte_stream && op == WEFT_OP_READ)
        return "to read from";
    if (byte_stream && op == WEFT_OP_WRITE)
        return "to write to";
    switch (op) {
    case WEFT_OP_LOCK: return "to lock";
    case WEFT_OP_READ: return "to read-lock";
    case WEFT_OP_WRITE: return "to write-lock";
    case WEFT_OP_ACQUIRE: return "to acquire permits of";
    case WEFT_OP_SEND: return "to send on";
    case WEFT_OP_RECV: return "to receive from";
    case WEFT_OP_CLOSED: return "for the close of";
    case WEFT_OP_CHANGED: return "for a change of";
    case WEFT_OP_NOTIFIED: return "for a notification from";
    case WEFT_OP_WAIT: return "at";
    case WEFT_OP_CANCELLED: return "for the cancellation of";
    case WEFT_OP_ACCEPT: return "to accept a connection on";
    case WEFT_OP_CONNECT: return "to connect";
    default: return "on";
    }
}

/* A step keeps only the resource's name, which for a socket is its kind's ("tcp_stream", ...):
 * recover the kind from it, so that READ and WRITE read as data, not lock modes. */
static const char *socket_wait_phrase(int op, const char *name)
{
    for (int k = 0; k < WEFT_RESOURCE_KIND_COUNT_; k++)
        if (weft_resource_kind_is_stream((weft_resource_kind)k) &&
            strcmp(name, weft_resource_kind_name((weft_resource_kind)k)) == 0)
            return weft__det_wait_phrase(op, k);
    return weft__det_wait_phrase(op, -1);
}

const char *weft__det_op_name(int op)
{
    return op >= 0 && op < WEFT__OP_COUNT_ ? op_names[op] : "unknown";
}

/* ---------------------------------------------------------------- life cycle */

int weft__det_record_init(weft__det_record *r)
{
    memset(r, 0, sizeof *r);
    r->cap_str = 256;
    r->str = malloc(r->cap_str);
    if (!r->str)
        return WEFT_ENOMEM;
    r->str[0] = '\0';
    r->nstr = 1;
    r->version = WEFT__DET_FORMAT_VERSION;
    return 0;
}

void weft__det_record_reset(weft__det_record *r)
{
    r->version = WEFT__DET_FORMAT_VERSION;
    r->program = r->strategy = 0;
    r->seed = 0;
    memset(&r->limits, 0, sizeof r->limits);
    r->ntasks = 0;
    r->nsteps = 0;
    r->nrunnable = 0;
    r->outcome = WEFT__OUT_OK;
    r->outcome_step = 0;
    r->message = r->signature = 0;
    r->preemptions = 0;
    r->vtime = 0;
    r->exit_status = 0;
    r->nstr = 1;
    memset(r->intern, 0, sizeof r->intern);
    free(r->index);
    r->index = NULL;
    r->index_cap = 0;
}

void weft__det_record_free(weft__det_record *r)
{
    if (!r)
        return;
    free(r->tasks);
    free(r->steps);
    free(r->runnable);
    free(r->str);
    free(r->index);
    memset(r, 0, sizeof *r);
}

static int grow(void **p, uint64_t *cap, uint64_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    uint64_t n = *cap ? *cap : 16;
    while (n < need)
        n *= 2;
    void *q = realloc(*p, n * elem);
    if (!q)
        return WEFT_ENOMEM;
    *p = q;
    *cap = n;
    return 0;
}

static int grow32(void **p, uint32_t *cap, uint64_t need, size_t elem)
{
    if (need > UINT32_MAX / 2)
        return WEFT_ENOMEM;
    uint64_t c = *cap;
    int err = grow(p, &c, need, elem);
    *cap = (uint32_t)c;
    return err;
}

int weft__det_record_copy(weft__det_record *dst, const weft__det_record *src)
{
    weft__det_record_reset(dst);
    if (grow32((void **)&dst->tasks, &dst->cap_tasks, src->ntasks, sizeof *src->tasks) ||
        grow((void **)&dst->steps, &dst->cap_steps, src->nsteps, sizeof *src->steps) ||
        grow((void **)&dst->runnable, &dst->cap_runnable, src->nrunnable,
             sizeof *src->runnable) ||
        grow32((void **)&dst->str, &dst->cap_str, src->nstr, 1))
        return WEFT_ENOMEM;
    dst->version = src->version;
    dst->program = src->program;
    dst->strategy = src->strategy;
    dst->seed = src->seed;
    dst->limits = src->limits;
    dst->ntasks = src->ntasks;
    dst->nsteps = src->nsteps;
    dst->nrunnable = src->nrunnable;
    dst->outcome = src->outcome;
    dst->outcome_step = src->outcome_step;
    dst->message = src->message;
    dst->signature = src->signature;
    dst->preemptions = src->preemptions;
    dst->vtime = src->vtime;
    dst->exit_status = src->exit_status;
    dst->nstr = src->nstr;
    if (src->ntasks)
        memcpy(dst->tasks, src->tasks, src->ntasks * sizeof *src->tasks);
    if (src->nsteps)
        memcpy(dst->steps, src->steps, src->nsteps * sizeof *src->steps);
    if (src->nrunnable)
        memcpy(dst->runnable, src->runnable, src->nrunnable * sizeof *src->runnable);
    memcpy(dst->str, src->str, src->nstr);
    return 0;
}

/* ---------------------------------------------------------------- strings */

uint32_t weft__det_str_addn(weft__det_record *r, const char *s, size_t n)
{
    if (!s || n == 0)
        return 0;
    /* s may lie in the pool itself, which growing moves. */
    bool inside = s >= r->str && s < r->str + r->nstr;
    size_t from = inside ? (size_t)(s - r->str) : 0;
    if (grow32((void **)&r->str, &r->cap_str, (uint64_t)r->nstr + n + 1, 1))
        return 0;
    if (inside)
        s = r->str + from;
    uint32_t off = r->nstr;
    memcpy(r->str + off, s, n);
    r->str[off + n] = '\0';
    r->nstr += (uint32_t)n + 1;
    return off;
}

uint32_t weft__det_str_add(weft__det_record *r, const char *s)
{
    return s ? weft__det_str_addn(r, s, strlen(s)) : 0;
}

uint32_t weft__det_str_intern(weft__det_record *r, const char *s)
{
    if (!s || !*s)
        return 0;
    size_t slot = ((uintptr_t)s >> 3) % WEFT__DET_INTERN_SLOTS;
    if (r->intern[slot].ptr == s)
        return r->intern[slot].off;
    uint32_t off = weft__det_str_add(r, s);
    r->intern[slot].ptr = s;
    r->intern[slot].off = off;
    return off;
}

uint32_t weft__det_str_printf(weft__det_record *r, const char *fmt, ...)
{
    char small[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return 0;
    if ((size_t)n < sizeof small)
        return weft__det_str_addn(r, small, (size_t)n);
    char *big = malloc((size_t)n + 1);
    if (!big)
        return 0;
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    uint32_t off = weft__det_str_addn(r, big, (size_t)n);
    free(big);
    return off;
}

/* ---------------------------------------------------------------- tasks and steps */

uint32_t weft__det_record_add_task(weft__det_record *r, const weft__det_task *t)
{
    if (grow32((void **)&r->tasks, &r->cap_tasks, (uint64_t)r->ntasks + 1, sizeof *t))
        return UINT32_MAX;
    r->tasks[r->ntasks] = *t;
    if (r->index) {
        free(r->index); /* rebuilt on the next lookup */
        r->index = NULL;
        r->index_cap = 0;
    }
    return r->ntasks++;
}

uint64_t weft__det_record_add_step(weft__det_record *r, const weft__det_step *s,
                                   const uint32_t *runnable, uint32_t nrun)
{
    if (grow((void **)&r->steps, &r->cap_steps, r->nsteps + 1, sizeof *s) ||
        grow((void **)&r->runnable, &r->cap_runnable, r->nrunnable + nrun, sizeof *runnable))
        return UINT64_MAX;
    weft__det_step *d = &r->steps[r->nsteps];
    *d = *s;
    d->run_off = (uint32_t)r->nrunnable;
    d->nrun = nrun;
    memcpy(r->runnable + r->nrunnable, runnable, nrun * sizeof *runnable);
    r->nrunnable += nrun;
    return r->nsteps++;
}

/* ---------------------------------------------------------------- identity lookup */

static uint64_t fnv(uint64_t h, const char *s)
{
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 0x100000001b3ull;
    }
    return h * 0x100000001b3ull;
}

static uint64_t task_hash(const weft__det_record *r, const weft__det_task *t)
{
    uint64_t h = 0xcbf29ce484222325ull;
    h = fnv(h, weft__det_str(r, t->name));
    h = fnv(h, weft__det_str(r, t->file));
    h = fnv(h, weft__det_str(r, t->func));
    return (h ^ t->ordinal ^ ((uint64_t)t->kind << 40)) * 0x9E3779B97F4A7C15ull;
}

static bool same_task(const weft__det_record *a, const weft__det_task *ta,
                      const weft__det_record *b, const weft__det_task *tb)
{
    return ta->ordinal == tb->ordinal && ta->kind == tb->kind &&
           strcmp(weft__det_str(a, ta->name), weft__det_str(b, tb->name)) == 0 &&
           strcmp(weft__det_str(a, ta->file), weft__det_str(b, tb->file)) == 0 &&
           strcmp(weft__det_str(a, ta->func), weft__det_str(b, tb->func)) == 0;
}

static int build_index(weft__det_record *r)
{
    uint32_t cap = 16;
    while (cap < r->ntasks * 2u)
        cap *= 2;
    uint32_t *idx = malloc(cap * sizeof *idx);
    if (!idx)
        return WEFT_ENOMEM;
    memset(idx, 0xff, cap * sizeof *idx);
    for (uint32_t i = 0; i < r->ntasks; i++) {
        uint64_t h = task_hash(r, &r->tasks[i]);
        for (uint32_t k = (uint32_t)h & (cap - 1);; k = (k + 1) & (cap - 1)) {
            if (idx[k] == WEFT__DET_NONE) {
                idx[k] = i;
                break;
            }
        }
    }
    r->index = idx;
    r->index_cap = cap;
    return 0;
}

uint32_t weft__det_record_find_task(weft__det_record *r, const weft__det_record *from,
                                    uint32_t alias)
{
    if (alias >= from->ntasks)
        return WEFT__DET_NONE;
    const weft__det_task *want = &from->tasks[alias];
    if (!r->index && build_index(r) != 0) {
        for (uint32_t i = 0; i < r->ntasks; i++)
            if (same_task(r, &r->tasks[i], from, want))
                return i;
        return WEFT__DET_NONE;
    }
    uint64_t h = task_hash(from, want);
    for (uint32_t k = (uint32_t)h & (r->index_cap - 1);; k = (k + 1) & (r->index_cap - 1)) {
        uint32_t i = r->index[k];
        if (i == WEFT__DET_NONE)
            return WEFT__DET_NONE;
        if (same_task(r, &r->tasks[i], from, want))
            return i;
    }
}

/* ---------------------------------------------------------------- words for people */

const char *weft__det_task_label(const weft__det_record *r, uint32_t alias, char *buf,
                                 size_t size)
{
    if (alias >= r->ntasks) {
        snprintf(buf, size, "T?");
        return buf;
    }
    const weft__det_task *t = &r->tasks[alias];
    if (t->kind == WEFT__DET_ROOT)
        snprintf(buf, size, "T%u %s (block_on #%u)", alias, weft__det_str(r, t->name),
                 t->ordinal);
    else
        snprintf(buf, size, "T%u %s (%s:%d #%u)", alias, weft__det_str(r, t->name),
                 weft__det_str(r, t->file), t->line, t->ordinal);
    return buf;
}

const char *weft__det_step_op_text(const weft__det_record *r, const weft__det_step *s,
                                   char *buf, size_t size)
{
    const char *detail = weft__det_str(r, s->detail);
    char where[160] = "";
    if (s->file)
        snprintf(where, sizeof where, " at %s:%d", weft__det_str(r, s->file), s->line);
    switch (s->op) {
    case WEFT__OP_WAIT:
        snprintf(buf, size, "waits %s '%s'%s", socket_wait_phrase(s->res_op, detail), detail,
                 where);
        break;
    case WEFT__OP_DONE:
        snprintf(buf, size, "finishes");
        break;
    case WEFT__OP_YIELD:
        snprintf(buf, size, "yields");
        break;
    case WEFT__OP_CANCELLED:
        snprintf(buf, size, "is cancelled");
        break;
    case WEFT__OP_BLOCKING:
        snprintf(buf, size, "runs a blocking function (%s of virtual time)", detail);
        break;
    case WEFT__OP_FAILED:
        snprintf(buf, size, "fails an assertion%s", where);
        break;
    default:
        snprintf(buf, size, "returns pending%s%s", *detail ? " on " : "", detail);
        break;
    }
    return buf;
}

void weft__det_record_fail(weft__det_record *r, int kind, uint64_t step, const char *sig,
                           const char *fmt, ...)
{
    if (r->outcome != WEFT__OUT_OK)
        return;
    /* sig and the arguments may point into this record's pool, which the additions below
     * can move: copy what we need first. */
    char sigbuf[256];
    snprintf(sigbuf, sizeof sigbuf, "%s", sig ? sig : "");
    r->outcome = kind;
    r->outcome_step = step;
    char small[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    r->message = weft__det_str_add(r, small);
    r->signature = weft__det_str_printf(r, "%s:%s", weft__det_outcome_name(kind), sigbuf);
}
