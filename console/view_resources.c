/* console/view_resources.c - the resources view (every mutex, rwlock, semaphore, channel,
 * notify, barrier, token... with its live attributes and waiters), a resource in detail
 * (holders, and the queue of waiters with how long each has waited), and armed timers.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include <weft/resource.h>

#include "app.h"
#include "idmap.h"

enum { R_ID, R_KIND, R_NAME, R_LOCATION, R_ATTRS, R_WAITERS, R_COUNT };

static const char *titles[R_COUNT] = {"ID", "Kind", "Name", "Location", "Attributes", "Waiters"};

int resources_sort_columns(void);

int resources_sort_columns(void)
{
    return R_COUNT;
}

/* Waiters of each resource, counted from the tasks' waits (the model keeps one side). */
static void count_waiters(model *m)
{
    for (size_t i = 0; i < m->nres; i++)
        m->res[i]->waiters = 0;
    for (size_t i = 0; i < m->ntasks; i++) {
        const model_task *t = m->tasks[i];
        if (!t->wait.resource || t->state == TASK_DONE)
            continue;
        model_resource *r = model_res_get(m, t->wait.resource);
        if (r)
            r->waiters++;
    }
}

static void holders_text(const model *m, const model_resource *r, char *buf, size_t size)
{
    size_t len = 0;
    buf[0] = '\0';
    for (unsigned i = 0; i < r->nholders && len + 16 < size; i++) {
        const model_task *t = model_task_get(m, r->holders[i].task);
        int n = snprintf(buf + len, size - len, "%sT%llu%s", i ? "," : "",
                         (unsigned long long)r->holders[i].task,
                         t && t->state == TASK_DONE ? "(done)" : "");
        if (n > 0)
            len += (size_t)n;
    }
    if (r->holders_overflow && len + 16 < size)
        snprintf(buf + len, size - len, " +%llu", (unsigned long long)r->holders_overflow);
}

/* The live attributes of a resource in a few words, by kind. */
static void attrs_text(const model *m, const model_resource *r, char *buf, size_t size)
{
    char h[160];
    holders_text(m, r, h, sizeof h);
    switch (r->kind) {
    case WEFT_RESOURCE_MUTEX:
    case WEFT_RESOURCE_BLOCKING_MUTEX:
        if (r->nholders)
            snprintf(buf, size, "locked by %s", h);
        else
            snprintf(buf, size, "unlocked");
        break;
    case WEFT_RESOURCE_RWLOCK:
        if (r->nholders && r->holders[0].op == WEFT_OP_READ)
            snprintf(buf, size, "read-locked by %s", h);
        else if (r->nholders)
            snprintf(buf, size, "write-locked by %s", h);
        else
            snprintf(buf, size, "unlocked");
        break;
    case WEFT_RESOURCE_SEMAPHORE:
        if (r->available_known)
            snprintf(buf, size, "%llu of %llu permits available%s%s%s",
                     (unsigned long long)r->available, (unsigned long long)r->permits_total,
                     r->nholders ? ", held by " : "", r->nholders ? h : "",
                     r->closed ? ", closed" : "");
        else
            snprintf(buf, size, "%llu permits%s", (unsigned long long)r->permits_total,
                     r->closed ? ", closed" : "");
        break;
    case WEFT_RESOURCE_MPSC:
    case WEFT_RESOURCE_BROADCAST: {
        char cap[32] = "unbounded";
        if (r->capacity)
            snprintf(cap, sizeof cap, "%llu", (unsigned long long)r->capacity);
        char refs[64] = "";
        if (r->refs_known)
            snprintf(refs, sizeof refs, ", %u senders, %u receivers", r->senders, r->receivers);
        snprintf(buf, size, "len %llu of %s (max %llu)%s%s", (unsigned long long)r->len, cap,
                 (unsigned long long)r->max_len, refs, r->closed ? ", closed" : "");
        break;
    }
    case WEFT_RESOURCE_ONESHOT:
        snprintf(buf, size, "%s%s", r->sends ? "value sent" : "empty",
                 r->closed ? ", closed" : "");
        break;
    case WEFT_RESOURCE_WATCH:
        snprintf(buf, size, "version %llu%s%u receivers%s", (unsigned long long)r->version,
                 r->refs_known ? ", " : "", r->refs_known ? r->receivers : 0,
                 r->closed ? ", closed" : "");
        break;
    case WEFT_RESOURCE_NOTIFY:
        snprintf(buf, size, "%s", r->notify_stored ? "a notification is stored" : "no stored notification");
        break;
    case WEFT_RESOURCE_BARRIER:
        snprintf(buf, size, "%llu of %llu arrived, generation %llu",
                 (unsigned long long)r->arrived, (unsigned long long)r->barrier_n,
                 (unsigned long long)r->version);
        break;
    case WEFT_RESOURCE_CANCEL_TOKEN:
        snprintf(buf, size, "%s", r->closed ? "cancelled" : "not cancelled");
        break;
    default:
        if (r->bytes_known)
            snprintf(buf, size, "%llu bytes in, %llu bytes out%s",
                     (unsigned long long)r->bytes_in, (unsigned long long)r->bytes_out,
                     r->closed ? ", closed" : "");
        else
            snprintf(buf, size, "%s", r->nholders ? h : "");
        break;
    }
    if (r->dropped) {
        size_t len = strlen(buf);
        snprintf(buf + len, size - len, "%sdropped", len ? "; " : "");
    }
}

static int cmp_u64(uint64_t x, uint64_t y)
{
    return x < y ? -1 : x > y;
}

static int cmp_res(const void *pa, const void *pb, void *arg)
{
    app *a = arg;
    const model *m = &a->m;
    const model_resource *x = model_res_get(m, *(const uint64_t *)pa);
    const model_resource *y = model_res_get(m, *(const uint64_t *)pb);
    int c = 0;
    char lx[128], ly[128];
    switch (a->res_sort) {
    case R_KIND: c = strcmp(model_res_kind_name(x->kind), model_res_kind_name(y->kind)); break;
    case R_NAME: c = strcmp(model_string(m, x->name), model_string(m, y->name)); break;
    case R_LOCATION:
        model_location(m, x->location, lx, sizeof lx);
        model_location(m, y->location, ly, sizeof ly);
        c = strcmp(lx, ly);
        break;
    case R_ATTRS: c = cmp_u64(x->nholders + x->len, y->nholders + y->len); break;
    case R_WAITERS: c = cmp_u64(x->waiters, y->waiters); break;
    default: break;
    }
    if (!a->res_sort_asc)
        c = -c;
    return c ? c : cmp_u64(x->id, y->id);
}

size_t resources_rows(app *a, uint64_t **out)
{
    model *m = &a->m;
    count_waiters(m);
    uint64_t *ids = malloc((m->nres + 1) * sizeof *ids);
    size_t n = 0;
    if (!ids) {
        *out = NULL;
        return 0;
    }
    for (size_t i = 0; i < m->nres; i++) {
        const model_resource *r = m->res[i];
        if (a->filter[0]) {
            char loc[128];
            model_location(m, r->location, loc, sizeof loc);
            if (!strcasestr(model_string(m, r->name), a->filter) &&
                !strcasestr(loc, a->filter) &&
                !strcasestr(model_res_kind_name(r->kind), a->filter))
                continue;
        }
        ids[n++] = r->id;
    }
    qsort_r(ids, n, sizeof *ids, cmp_res, a);
    *out = ids;
    return n;
}

void view_resources(app *a, canvas *cv, int top, int rows)
{
    const model *m = &a->m;
    int wid[R_COUNT] = {5, 12, 16, 18, 0, 7};
    int fixed = 0;
    for (int c = 0; c < R_COUNT; c++)
        fixed += wid[c] + 1;
    wid[R_ATTRS] = cv->w - fixed > 20 ? cv->w - fixed : 20;
    if (cv->w >= 110) {
        wid[R_NAME] += 6;
        wid[R_LOCATION] += 6;
        wid[R_ATTRS] -= 12;
    }
    int xs[R_COUNT], x = 0;
    const char *arrow = a->res_sort_asc ? canvas_glyph(cv, "\xe2\x96\xb2", "^")
                                        : canvas_glyph(cv, "\xe2\x96\xbc", "v");
    for (int c = 0; c < R_COUNT; c++) {
        xs[c] = x;
        char t[32];
        snprintf(t, sizeof t, "%s%s", titles[c], c == a->res_sort ? arrow : "");
        canvas_text(cv, top, x, AT_HEAD, wid[c], t);
        x += wid[c] + 1;
    }
    canvas_row_attr(cv, top, 0, AT_HEAD);
    uint64_t *ids;
    size_t n = resources_rows(a, &ids);
    int body = rows - 1;
    /* Leave room for the timers when there are some. */
    int timer_rows = m->ntimers ? (int)(m->ntimers < 5 ? m->ntimers : 5) + 1 : 0;
    if (body - timer_rows >= 4)
        body -= timer_rows;
    else
        timer_rows = 0;
    a->rows_visible = body;
    long sel = -1;
    for (size_t i = 0; i < n; i++)
        if (ids[i] == a->sel_res)
            sel = (long)i;
    if (sel < 0 && n) {
        sel = 0;
        a->sel_res = ids[0];
    }
    if (sel >= 0 && sel < a->res_scroll)
        a->res_scroll = (int)sel;
    if (sel >= a->res_scroll + body)
        a->res_scroll = (int)sel - body + 1;
    if (n == 0)
        canvas_text(cv, top + 1, 1, AT_DIM, -1, "no resources (yet)");
    for (int r = 0; r < body && (size_t)(a->res_scroll + r) < n; r++) {
        int y = top + 1 + r;
        const model_resource *res = model_res_get(m, ids[a->res_scroll + r]);
        int attr = res->dropped ? AT_DIM : AT_NORMAL;
        char buf[320];
        snprintf(buf, sizeof buf, "%llu", (unsigned long long)res->id);
        canvas_text(cv, y, xs[R_ID], attr, wid[R_ID], buf);
        canvas_text(cv, y, xs[R_KIND], attr, wid[R_KIND], model_res_kind_name(res->kind));
        canvas_text(cv, y, xs[R_NAME], attr, wid[R_NAME], model_string(m, res->name));
        model_location(m, res->location, buf, sizeof buf);
        canvas_text(cv, y, xs[R_LOCATION], attr, wid[R_LOCATION], buf);
        attrs_text(m, res, buf, sizeof buf);
        long ri = idmap_get(m->res_map, res->id);
        bool warn = ri >= 0 && (size_t)ri < a->lints.nres && a->lints.res_mask[ri];
        if (warn) {
            char l[96];
            fmt_lints(a->lints.res_mask[ri], l, sizeof l);
            size_t len = strlen(buf);
            snprintf(buf + len, sizeof buf - len, " %s%s", canvas_glyph(cv, "\xe2\x9a\xa0 ", "! "), l);
        }
        canvas_text(cv, y, xs[R_ATTRS], warn ? AT_WARN : attr, wid[R_ATTRS], buf);
        if (res->waiters) {
            snprintf(buf, sizeof buf, "%u", res->waiters);
            canvas_text(cv, y, xs[R_WAITERS], AT_WARN, wid[R_WAITERS], buf);
        }
        if (res->id == a->sel_res)
            canvas_row_attr(cv, y, 0, AT_SELECTED);
    }
    free(ids);
    if (timer_rows) {
        int y = top + 1 + body;
        canvas_printf(cv, y++, 0, AT_HEAD, "Timers: %zu armed", m->ntimers);
        for (size_t i = 0; i < m->ntimers && y < top + rows; i++) {
            char who[160];
            fmt_task(m, m->timers[i].task, who, sizeof who);
            canvas_printf(cv, y++, 2, AT_NORMAL, "timer armed by %s", m->timers[i].task ? who : "the runtime");
        }
    }
}

void view_resource(app *a, canvas *cv, int top, int rows)
{
    model *m = &a->m;
    const model_resource *r = model_res_get(m, a->sel_res);
    int y = top, last = top + rows - 1;
    if (!r) {
        canvas_text(cv, y, 1, AT_DIM, -1, "no resource selected (it may have been forgotten)");
        return;
    }
    char name[160], loc[128], attrs[320], d[32];
    fmt_res(m, r->id, name, sizeof name);
    model_location(m, r->location, loc, sizeof loc);
    canvas_printf(cv, y++, 1, AT_HEAD, "%s  created at %s  (id %llu)", name, *loc ? loc : "?",
                  (unsigned long long)r->id);
    attrs_text(m, r, attrs, sizeof attrs);
    canvas_printf(cv, y++, 1, AT_NORMAL, "%s", attrs);
    if (r->kind == WEFT_RESOURCE_MPSC || r->kind == WEFT_RESOURCE_BROADCAST)
        canvas_printf(cv, y++, 1, AT_NORMAL, "%llu sent, %llu received",
                      (unsigned long long)r->sends, (unsigned long long)r->recvs);
    y++;
    canvas_printf(cv, y++, 1, AT_HEAD, "Holders (%u)", r->nholders);
    for (unsigned i = 0; i < r->nholders && y <= last; i++) {
        const res_holder *h = &r->holders[i];
        char who[160];
        fmt_task(m, h->task, who, sizeof who);
        const model_task *t = model_task_get(m, h->task);
        fmt_dur(d, sizeof d, a->now > h->since ? a->now - h->since : 0, cv->ascii);
        canvas_printf(cv, y++, 3, t && t->state == TASK_DONE ? AT_WARN : AT_NORMAL,
                      "%s  %s%s%llu for %s, task %s", who, model_op_name(h->op),
                      h->op == WEFT_OP_ACQUIRE ? " " : "",
                      h->op == WEFT_OP_ACQUIRE ? (unsigned long long)h->n : 0ull, d,
                      t ? task_state_name(t->state) : "unknown");
    }
    if (r->nholders == 0 && y <= last)
        canvas_text(cv, y++, 3, AT_DIM, -1, "none");
    y++;
    /* Waiters, longest first: the head of the queue is the one that waited longest. */
    size_t nw = 0;
    const model_task **w = malloc((m->ntasks + 1) * sizeof *w);
    if (!w)
        return;
    for (size_t i = 0; i < m->ntasks; i++)
        if (m->tasks[i]->wait.resource == r->id && m->tasks[i]->state != TASK_DONE)
            w[nw++] = m->tasks[i];
    for (size_t i = 1; i < nw; i++)
        for (size_t j = i; j > 0 && w[j]->wait.since < w[j - 1]->wait.since; j--) {
            const model_task *t = w[j];
            w[j] = w[j - 1];
            w[j - 1] = t;
        }
    if (y <= last)
        canvas_printf(cv, y++, 1, AT_HEAD, "Waiters (%zu), longest first", nw);
    for (size_t i = 0; i < nw && y <= last; i++) {
        char who[160], at[128];
        fmt_task(m, w[i]->id, who, sizeof who);
        model_location(m, w[i]->wait.location, at, sizeof at);
        fmt_dur(d, sizeof d, a->now > w[i]->wait.since ? a->now - w[i]->wait.since : 0,
                cv->ascii);
        canvas_printf(cv, y++, 3, AT_NORMAL, "%s  %s at %s, waiting for %s", who,
                      model_op_name(w[i]->wait.op), *at ? at : "?", d);
    }
    if (nw == 0 && y <= last)
        canvas_text(cv, y++, 3, AT_DIM, -1, "none");
    free(w);
}
