/* instrument/profile/import_lttng.c - an LTTng trace of weft:* events into a trace database.
 *
 * The LTTng provider (lttng_provider.h) records each event of the table (events.h) as
 * tracepoint weft:<name> with the same fields, except that a string is its text and a source
 * location is three fields (<name>_file, <name>_func, <name>_line). This file reads such a
 * trace with libbabeltrace2 (a graph src.ctf.fs -> flt.utils.muxer -> our sink, so events
 * come in time order across streams), turns each event back into a weft_event and hands it to
 * the recorder (recorder.h), which writes the same database `weft record` writes: the
 * console and the report open it alike.
 *
 * What LTTng does not carry, and how it is recovered:
 *
 *   interned ids    strings and locations are interned again here, each new one announced by
 *                   a string_def / location_def event before its first use;
 *   threads         the recorder keys everything per thread (a poll's begin and end, a
 *                   park); LTTng's per-CPU streams do not say which thread emitted an event,
 *                   so the trace needs the vtid context (`lttng add-context -u -t vtid`).
 *                   Without it every event is taken as one thread's, which is only right for
 *                   a single-threaded program (a warning says so);
 *   thread kinds    a first pass over the trace finds what each thread did: polled blocking
 *                   tasks (a blocking-pool thread), polled or parked (a worker of its tasks'
 *                   runtime, or the block_on thread when that runtime is current-thread), or
 *                   neither (another thread);
 *   timestamps      the LTTng clock counts CLOCK_MONOTONIC; its raw value is used, as the
 *                   recorder's timestamps are.
 *
 * Events of other providers, and weft events this build's table does not know, are skipped
 * and counted.
 */
#define _GNU_SOURCE
#include <ftw.h>
#include <stdlib.h>
#include <string.h>

#include <babeltrace2/babeltrace.h>
#include <weft/error.h>

#include "../recorder.h"
#include "profile.h"

/* ---------------------------------------------------------------- small maps
 *
 * u64 -> u64 with open addressing (key 0 is "empty": task ids, runtime ids and vtids are never
 * 0, and the few zero keys are ignored by the callers). */
typedef struct umap {
    uint64_t *k, *v;
    size_t cap, len;
} umap;

static uint64_t *umap_slot(umap *m, uint64_t key, bool create)
{
    if (key == 0)
        return NULL;
    if (create && (m->len + 1) * 2 > m->cap) {
        size_t ncap = m->cap ? m->cap * 2 : 64;
        uint64_t *nk = calloc(ncap, sizeof *nk), *nv = calloc(ncap, sizeof *nv);
        if (!nk || !nv) {
            free(nk);
            free(nv);
            return NULL;
        }
        for (size_t i = 0; i < m->cap; i++)
            if (m->k[i]) {
                size_t j = (size_t)(m->k[i] * 0x9e3779b97f4a7c15ull) & (ncap - 1);
                while (nk[j])
                    j = (j + 1) & (ncap - 1);
                nk[j] = m->k[i];
                nv[j] = m->v[i];
            }
        free(m->k);
        free(m->v);
        m->k = nk;
        m->v = nv;
        m->cap = ncap;
    }
    if (!m->cap)
        return NULL;
    size_t i = (size_t)(key * 0x9e3779b97f4a7c15ull) & (m->cap - 1);
    while (m->k[i] && m->k[i] != key)
        i = (i + 1) & (m->cap - 1);
    if (!m->k[i]) {
        if (!create)
            return NULL;
        m->k[i] = key;
        m->v[i] = 0;
        m->len++;
    }
    return &m->v[i];
}

static void umap_free(umap *m)
{
    free(m->k);
    free(m->v);
}

/* Interned strings: text -> id, chained. */
typedef struct istr {
    struct istr *next;
    uint32_t id;
    char text[];
} istr;

#define ISTR_BUCKETS 4096

/* ---------------------------------------------------------------- the importer */

/* What pass 1 learns about one thread (the value of `threads` points into this array). */
typedef struct thread_info {
    uint64_t vtid;
    uint32_t runtime, worker;
    bool polls_async, polls_blocking, parks;
    uint8_t kind;
} thread_info;

typedef struct importer {
    int pass;                  /* 1: learn threads, tasks, runtimes; 2: write */
    char *err;
    bool failed;
    weft_recorder *rec;
    prof_import_stats *st;
    bool warned_no_vtid;
    uint64_t seq;
    /* pass 1 */
    umap task_info;            /* task id -> runtime << 8 | kind */
    umap runtime_flavor;       /* runtime id -> flavor + 1 */
    umap thread_index;         /* vtid (or 1 without vtid) -> index + 1 into threads */
    thread_info *threads;
    size_t nthreads, cap_threads;
    char procname[64];         /* the main thread's name, else the first thread's */
    bool main_seen;            /* procname is the main thread's */
    int64_t vpid;
    umap pids;                 /* vpid -> weft events seen (pass 1): which processes there are */
    uint64_t want_pid;         /* import only this process's events; 0: the only one */
    /* pass 2 */
    istr *strings[ISTR_BUCKETS];
    uint32_t next_id;          /* next interned id (strings and locations share them) */
    umap locations;            /* file id << 40 | func id << 20 | line -> location id (ids and
                                  lines past 2^20 may share a key: then a location is reused) */
} importer;

static void fail(importer *im, const char *fmt, const char *arg)
{
    if (!im->failed)
        snprintf(im->err, PROF_ERR_LEN, fmt, arg);
    im->failed = true;
}

/* ---------------------------------------------------------------- reading fields */

static const bt_field *member(const bt_field *s, const char *name)
{
    if (!s || bt_field_get_class_type(s) != BT_FIELD_CLASS_TYPE_STRUCTURE)
        return NULL;
    return bt_field_structure_borrow_member_field_by_name_const(s, name);
}

static bool field_u64(const bt_field *f, uint64_t *out)
{
    if (!f)
        return false;
    bt_field_class_type t = bt_field_get_class_type(f);
    if (bt_field_class_type_is(t, BT_FIELD_CLASS_TYPE_UNSIGNED_INTEGER)) {
        *out = bt_field_integer_unsigned_get_value(f);
        return true;
    }
    if (bt_field_class_type_is(t, BT_FIELD_CLASS_TYPE_SIGNED_INTEGER)) {
        *out = (uint64_t)bt_field_integer_signed_get_value(f);
        return true;
    }
    return false;
}

static const char *field_str(const bt_field *f)
{
    if (!f || bt_field_get_class_type(f) != BT_FIELD_CLASS_TYPE_STRING)
        return NULL;
    return bt_field_string_get_value(f);
}

/* A context field of an event (vtid, vpid), or 0 when the trace has no such context. */
static uint64_t event_ctx_u64(const bt_event *ev, const char *name)
{
    uint64_t v = 0;
    const bt_field *ctx = bt_event_borrow_common_context_field_const(ev);
    if (ctx && field_u64(member(ctx, name), &v))
        return v;
    return 0;
}

static uint64_t event_vtid(const bt_event *ev)
{
    return event_ctx_u64(ev, "vtid");
}

/* ---------------------------------------------------------------- pass 1 */

static thread_info *thread_of(importer *im, uint64_t vtid)
{
    uint64_t key = vtid ? vtid : 1;
    uint64_t *slot = umap_slot(&im->thread_index, key, true);
    if (!slot)
        return NULL;
    if (*slot)
        return &im->threads[*slot - 1];
    if (im->nthreads == im->cap_threads) {
        size_t ncap = im->cap_threads ? im->cap_threads * 2 : 16;
        thread_info *n = realloc(im->threads, ncap * sizeof *n);
        if (!n)
            return NULL;
        im->threads = n;
        im->cap_threads = ncap;
    }
    if (im->nthreads >= 65535)
        return NULL; /* weft_event.thread is 16 bits */
    thread_info *t = &im->threads[im->nthreads++];
    memset(t, 0, sizeof *t);
    t->vtid = vtid;
    *slot = im->nthreads;
    return t;
}

static void learn(importer *im, const bt_event *ev, const weft_event_desc *d)
{
    const bt_field *p = bt_event_borrow_payload_field_const(ev);
    uint64_t vtid = event_vtid(ev);
    if (!im->main_seen) {
        /* procname is the emitting thread's name (a worker is "weft-worker-0"): the
         * program's name is the main thread's, whose tid is the pid. */
        const bt_field *ctx = bt_event_borrow_common_context_field_const(ev);
        const char *pn = field_str(member(ctx, "procname"));
        uint64_t pid = 0;
        if (field_u64(member(ctx, "vpid"), &pid))
            im->vpid = (int64_t)pid;
        if (pn && (!im->procname[0] || (pid && vtid == pid)))
            snprintf(im->procname, sizeof im->procname, "%s", pn);
        im->main_seen = pid && vtid == pid;
    }
    thread_info *t = thread_of(im, vtid);
    if (!t) {
        fail(im, "%s", "out of memory (or more than 65535 threads)");
        return;
    }
    uint64_t a = 0, b = 0, c = 0;
    switch (d->id) {
    case WEFT_EV_runtime_start:
        if (field_u64(member(p, "runtime"), &a) && field_u64(member(p, "flavor"), &b)) {
            uint64_t *s = umap_slot(&im->runtime_flavor, a, true);
            if (s)
                *s = b + 1;
        }
        break;
    case WEFT_EV_task_spawn:
        if (field_u64(member(p, "task"), &a) && field_u64(member(p, "runtime"), &b) &&
            field_u64(member(p, "kind"), &c)) {
            uint64_t *s = umap_slot(&im->task_info, a, true);
            if (s)
                *s = b << 8 | (c & 0xff);
        }
        break;
    case WEFT_EV_task_poll_begin:
        if (field_u64(member(p, "task"), &a)) {
            uint64_t *s = umap_slot(&im->task_info, a, false);
            if (s && (*s & 0xff) == WEFT_TASK_BLOCKING) {
                t->polls_blocking = true;
            } else {
                t->polls_async = true;
                if (s)
                    t->runtime = (uint32_t)(*s >> 8);
                if (field_u64(member(p, "worker"), &b))
                    t->worker = (uint32_t)b;
            }
        }
        break;
    case WEFT_EV_worker_park:
        t->parks = true;
        if (field_u64(member(p, "worker"), &b))
            t->worker = (uint32_t)b;
        break;
    default:
        break;
    }
}

/* After pass 1: each thread's kind, from what it did. */
static void settle_threads(importer *im)
{
    /* A thread that only parked (never polled) belongs to the only runtime, if one. */
    uint32_t only_runtime = 0;
    if (im->runtime_flavor.len == 1)
        for (size_t i = 0; i < im->runtime_flavor.cap; i++)
            if (im->runtime_flavor.k[i])
                only_runtime = (uint32_t)im->runtime_flavor.k[i];
    for (size_t i = 0; i < im->nthreads; i++) {
        thread_info *t = &im->threads[i];
        if (!t->runtime)
            t->runtime = only_runtime;
        if (t->polls_blocking && !t->polls_async) {
            t->kind = WEFT_THREAD_BLOCKING;
        } else if (t->polls_async || t->parks) {
            uint64_t *f = umap_slot(&im->runtime_flavor, t->runtime, false);
            t->kind = f && *f == 1 ? WEFT_THREAD_BLOCK_ON : WEFT_THREAD_WORKER;
        } else {
            t->kind = WEFT_THREAD_OTHER;
        }
    }
}

/* ---------------------------------------------------------------- pass 2 */

static int add(importer *im, weft_event *e)
{
    e->seq = ++im->seq;
    int rc = weft_recorder_add(im->rec, e);
    if (rc < 0)
        fail(im, "writing the database: %s", weft_recorder_error(im->rec));
    return rc;
}

static uint32_t hash_str(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

/* The id of `s`, announcing it with a string_def (on the event's thread) when new. */
static uint32_t intern(importer *im, const char *s, const weft_event *ctx)
{
    if (!s || !*s)
        return 0;
    size_t len = strlen(s);
    if (len > WEFT_EV_MAX_TEXT)
        len = WEFT_EV_MAX_TEXT;
    uint32_t h = hash_str(s) % ISTR_BUCKETS;
    for (istr *i = im->strings[h]; i; i = i->next)
        if (strncmp(i->text, s, len) == 0 && i->text[len] == '\0')
            return i->id;
    istr *n = malloc(sizeof *n + len + 1);
    if (!n) {
        fail(im, "%s", "out of memory");
        return 0;
    }
    n->id = ++im->next_id;
    memcpy(n->text, s, len);
    n->text[len] = '\0';
    n->next = im->strings[h];
    im->strings[h] = n;
    weft_event d = *ctx;
    memset(&d.u, 0, sizeof d.u);
    d.type = WEFT_EV_string_def;
    d.u.string_def.id = n->id;
    d.u.string_def.len = (uint32_t)len;
    d.text = n->text;
    add(im, &d);
    return n->id;
}

static uint32_t intern_loc(importer *im, uint32_t file, uint32_t func, uint32_t line,
                           const weft_event *ctx)
{
    uint64_t key = (uint64_t)file << 40 ^ (uint64_t)func << 20 ^ line;
    key = key ? key : 1;
    uint64_t *slot = umap_slot(&im->locations, key, true);
    if (!slot) {
        fail(im, "%s", "out of memory");
        return 0;
    }
    if (*slot)
        return (uint32_t)*slot;
    uint32_t id = ++im->next_id;
    *slot = id;
    weft_event d = *ctx;
    memset(&d.u, 0, sizeof d.u);
    d.type = WEFT_EV_location_def;
    d.u.location_def.id = id;
    d.u.location_def.file = file;
    d.u.location_def.func = func;
    d.u.location_def.line = line;
    d.text = NULL;
    add(im, &d);
    return id;
}

static void store(unsigned char *payload, const weft_ev_field *f, uint64_t v)
{
    switch (f->size) {
    case 8: memcpy(payload + f->offset, &v, 8); break;
    case 4: { uint32_t x = (uint32_t)v; memcpy(payload + f->offset, &x, 4); break; }
    case 1: { uint8_t x = (uint8_t)v; memcpy(payload + f->offset, &x, 1); break; }
    default: break;
    }
}

static void convert(importer *im, const bt_message *msg, const bt_event *ev,
                    const weft_event_desc *d)
{
    uint64_t vtid = event_vtid(ev);
    if (!vtid && !im->warned_no_vtid) {
        im->warned_no_vtid = true;
        fprintf(stderr, "weft import: warning: the trace has no vtid context (lttng "
                        "add-context -u -t vtid): every event is taken as one thread's\n");
    }
    thread_info *t = thread_of(im, vtid);
    if (!t)
        return;
    weft_event e;
    memset(&e, 0, sizeof e);
    const bt_clock_snapshot *cs = bt_message_event_borrow_default_clock_snapshot_const(msg);
    uint64_t cycles = bt_clock_snapshot_get_value(cs);
    uint64_t freq = bt_clock_class_get_frequency(bt_clock_snapshot_borrow_clock_class_const(cs));
    e.ts = freq == 1000000000u || freq == 0
               ? cycles
               : (uint64_t)((double)cycles * 1e9 / (double)freq);
    e.thread = (uint16_t)(t - im->threads + 1);
    e.thread_kind = t->kind;
    e.runtime = t->runtime;
    e.worker = t->worker;
    e.tid = (uint32_t)vtid;

    const bt_field *p = bt_event_borrow_payload_field_const(ev);
    unsigned char payload[sizeof e.u];
    memset(payload, 0, sizeof payload);
    for (unsigned i = 0; i < d->nfields; i++) {
        const weft_ev_field *f = &d->fields[i];
        uint64_t v = 0;
        if (f->type == WEFT_FT_STR) {
            v = intern(im, field_str(member(p, f->name)), &e);
        } else if (f->type == WEFT_FT_LOC) {
            char n[64];
            snprintf(n, sizeof n, "%s_file", f->name);
            uint32_t file = intern(im, field_str(member(p, n)), &e);
            snprintf(n, sizeof n, "%s_func", f->name);
            uint32_t func = intern(im, field_str(member(p, n)), &e);
            snprintf(n, sizeof n, "%s_line", f->name);
            uint64_t line = 0;
            field_u64(member(p, n), &line);
            v = file || func ? intern_loc(im, file, func, (uint32_t)line, &e) : 0;
        } else {
            field_u64(member(p, f->name), &v);
        }
        store(payload, f, v);
    }
    e.type = d->id;
    memcpy(&e.u, payload, d->payload);
    if (add(im, &e) == 0)
        im->st->events++;
}

/* ---------------------------------------------------------------- the sink */

static const weft_event_desc *desc_by_name(const char *name)
{
    for (unsigned i = 0; i < weft_event_count; i++)
        if (strcmp(weft_event_descs[i].name, name) == 0)
            return &weft_event_descs[i];
    return NULL;
}

static bt_graph_simple_sink_component_consume_func_status consume(bt_message_iterator *it,
                                                                   void *data)
{
    importer *im = data;
    bt_message_array_const msgs;
    uint64_t count;
    switch (bt_message_iterator_next(it, &msgs, &count)) {
    case BT_MESSAGE_ITERATOR_NEXT_STATUS_END:
        return BT_GRAPH_SIMPLE_SINK_COMPONENT_CONSUME_FUNC_STATUS_END;
    case BT_MESSAGE_ITERATOR_NEXT_STATUS_AGAIN:
        return BT_GRAPH_SIMPLE_SINK_COMPONENT_CONSUME_FUNC_STATUS_AGAIN;
    case BT_MESSAGE_ITERATOR_NEXT_STATUS_OK:
        break;
    default:
        fail(im, "%s", "babeltrace2 could not read the trace");
        return BT_GRAPH_SIMPLE_SINK_COMPONENT_CONSUME_FUNC_STATUS_ERROR;
    }
    for (uint64_t i = 0; i < count; i++) {
        const bt_message *msg = msgs[i];
        if (!im->failed && bt_message_get_type(msg) == BT_MESSAGE_TYPE_EVENT) {
            const bt_event *ev = bt_message_event_borrow_event_const(msg);
            const char *name = bt_event_class_get_name(bt_event_borrow_class_const(ev));
            const weft_event_desc *d = NULL;
            if (name && strncmp(name, "weft:", 5) == 0)
                d = desc_by_name(name + 5);
            /* The trace's own bookkeeping (meta, ring-only events) is the ring's business:
             * the recorder makes its own. */
            uint64_t vpid = d ? event_ctx_u64(ev, "vpid") : 0;
            if (d && im->pass == 1 && vpid) {
                uint64_t *n = umap_slot(&im->pids, vpid, true);
                if (n)
                    ++*n;
            }
            if (!d || (d->flags & (WEFT_EVF_META | WEFT_EVF_RING)) ||
                (im->want_pid && vpid != im->want_pid)) {
                if (im->pass == 2)
                    im->st->skipped++;
            } else if (im->pass == 1) {
                learn(im, ev, d);
            } else {
                convert(im, msg, ev, d);
            }
        }
        bt_message_put_ref(msg);
    }
    return im->failed ? BT_GRAPH_SIMPLE_SINK_COMPONENT_CONSUME_FUNC_STATUS_ERROR
                      : BT_GRAPH_SIMPLE_SINK_COMPONENT_CONSUME_FUNC_STATUS_OK;
}

/* ---------------------------------------------------------------- the graph */

/* Directories holding a CTF trace (a `metadata` file) under the one given. */
static char **trace_dirs;
static size_t ntrace_dirs;

static int find_metadata(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
    (void)sb;
    if (type == FTW_F && strcmp(path + ftw->base, "metadata") == 0) {
        char **n = realloc(trace_dirs, (ntrace_dirs + 1) * sizeof *n);
        if (!n)
            return 1;
        trace_dirs = n;
        trace_dirs[ntrace_dirs] = strndup(path, ftw->base ? (size_t)ftw->base - 1 : 0);
        if (!trace_dirs[ntrace_dirs])
            return 1;
        ntrace_dirs++;
    }
    return 0;
}

static int run_pass(importer *im, const bt_plugin *ctf, const bt_plugin *utils)
{
    int rc = 0;
    bt_graph *g = bt_graph_create(0);
    bt_value *params = bt_value_map_create();
    bt_value *inputs = NULL;
    const bt_component_source *src = NULL;
    const bt_component_filter *mux = NULL;
    const bt_component_sink *sink = NULL;
    if (!g || !params ||
        bt_value_map_insert_empty_array_entry(params, "inputs", &inputs) !=
            BT_VALUE_MAP_INSERT_ENTRY_STATUS_OK) {
        fail(im, "%s", "out of memory");
        rc = WEFT_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < ntrace_dirs; i++)
        bt_value_array_append_string_element(inputs, trace_dirs[i]);
    if (bt_graph_add_source_component(
            g, bt_plugin_borrow_source_component_class_by_name_const(ctf, "fs"), "src", params,
            BT_LOGGING_LEVEL_ERROR, &src) != BT_GRAPH_ADD_COMPONENT_STATUS_OK ||
        bt_graph_add_filter_component(
            g, bt_plugin_borrow_filter_component_class_by_name_const(utils, "muxer"), "mux",
            NULL, BT_LOGGING_LEVEL_ERROR, &mux) != BT_GRAPH_ADD_COMPONENT_STATUS_OK ||
        bt_graph_add_simple_sink_component(g, "sink", NULL, consume, NULL, im, &sink) !=
            BT_GRAPH_ADD_COMPONENT_STATUS_OK) {
        fail(im, "%s", "babeltrace2 refused the trace (is it a CTF trace?)");
        rc = WEFT_EFORMAT;
        goto out;
    }
    uint64_t nports = bt_component_source_get_output_port_count(src);
    for (uint64_t i = 0; i < nports; i++) {
        if (bt_graph_connect_ports(g, bt_component_source_borrow_output_port_by_index_const(src, i),
                                   bt_component_filter_borrow_input_port_by_index_const(mux, i),
                                   NULL) != BT_GRAPH_CONNECT_PORTS_STATUS_OK) {
            fail(im, "%s", "babeltrace2: cannot connect the trace's streams");
            rc = WEFT_EFORMAT;
            goto out;
        }
    }
    if (bt_graph_connect_ports(g, bt_component_filter_borrow_output_port_by_name_const(mux, "out"),
                               bt_component_sink_borrow_input_port_by_name_const(sink, "in"),
                               NULL) != BT_GRAPH_CONNECT_PORTS_STATUS_OK) {
        fail(im, "%s", "babeltrace2: cannot connect the muxer");
        rc = WEFT_EFORMAT;
        goto out;
    }
    for (;;) {
        bt_graph_run_status s = bt_graph_run(g);
        if (s == BT_GRAPH_RUN_STATUS_AGAIN)
            continue;
        if (s != BT_GRAPH_RUN_STATUS_OK) {
            fail(im, "%s", "babeltrace2 could not read the trace");
            rc = WEFT_EFORMAT;
        }
        break;
    }
out:
    bt_current_thread_clear_error();
    bt_value_put_ref(params);
    bt_graph_put_ref(g);
    return im->failed && !rc ? WEFT_EIO : rc;
}

/* After pass 1: one process, or the one asked for. 0, or WEFT_EINVAL with the choice in err. */
static int choose_process(importer *im, const char *dir, char *err)
{
    if (im->want_pid) {
        if (umap_slot(&im->pids, im->want_pid, false))
            return 0;
        snprintf(err, PROF_ERR_LEN, "%s: no weft events from pid %llu in this trace", dir,
                 (unsigned long long)im->want_pid);
        return WEFT_EINVAL;
    }
    if (im->pids.len <= 1)
        return 0;
    int n = snprintf(err, PROF_ERR_LEN,
                     "%s: the trace holds %zu weft processes; choose one with --pid:", dir,
                     im->pids.len);
    for (size_t i = 0; i < im->pids.cap && n > 0 && n < PROF_ERR_LEN; i++)
        if (im->pids.k[i])
            n += snprintf(err + n, PROF_ERR_LEN - (size_t)n, " %llu (%llu events)",
                          (unsigned long long)im->pids.k[i], (unsigned long long)im->pids.v[i]);
    return WEFT_EINVAL;
}

int prof_import_lttng(const char *dir, const char *db_path, uint64_t pid, prof_import_stats *st,
                      char *err)
{
    prof_import_stats local;
    if (!st)
        st = &local;
    memset(st, 0, sizeof *st);
    err[0] = '\0';
    trace_dirs = NULL;
    ntrace_dirs = 0;
    if (nftw(dir, find_metadata, 16, FTW_PHYS) != 0 && ntrace_dirs == 0) {
        snprintf(err, PROF_ERR_LEN, "%s: cannot read the directory", dir);
        return WEFT_EIO;
    }
    if (ntrace_dirs == 0) {
        snprintf(err, PROF_ERR_LEN, "%s: no CTF trace in it (no `metadata` file below it)", dir);
        return WEFT_EFORMAT;
    }
    const bt_plugin *ctf = NULL, *utils = NULL;
    int rc = 0;
    importer *im = calloc(1, sizeof *im);
    if (!im) {
        rc = WEFT_ENOMEM;
        goto out;
    }
    im->err = err;
    im->st = st;
    im->want_pid = pid;
    if (bt_plugin_find("ctf", BT_TRUE, BT_TRUE, BT_TRUE, BT_TRUE, BT_TRUE, &ctf) !=
            BT_PLUGIN_FIND_STATUS_OK ||
        bt_plugin_find("utils", BT_TRUE, BT_TRUE, BT_TRUE, BT_TRUE, BT_TRUE, &utils) !=
            BT_PLUGIN_FIND_STATUS_OK) {
        snprintf(err, PROF_ERR_LEN, "babeltrace2's ctf and utils plugins are not installed");
        rc = WEFT_ENOSYS;
        goto out;
    }
    im->pass = 1;
    if ((rc = run_pass(im, ctf, utils)))
        goto out;
    if ((rc = choose_process(im, dir, err)))
        goto out;
    if (im->nthreads == 0) {
        snprintf(err, PROF_ERR_LEN, "%s: the trace holds no weft events (was weft:* enabled, "
                                    "and the probes preloaded?)", dir);
        rc = WEFT_EFORMAT;
        goto out;
    }
    settle_threads(im);
    st->threads = im->nthreads;
    if (weft_recorder_create(db_path, &im->rec) < 0) {
        snprintf(err, PROF_ERR_LEN, "%s", weft_recorder_open_error());
        rc = WEFT_EIO;
        goto out;
    }
    weft_recorder_meta_text(im->rec, "imported_from", dir);
    weft_recorder_meta_text(im->rec, "recorder", "weft import (LTTng)");
    if (im->procname[0])
        weft_recorder_meta_text(im->rec, "program", im->procname);
    if (im->vpid)
        weft_recorder_meta_int(im->rec, "pid", im->vpid);
    im->pass = 2;
    if ((rc = run_pass(im, ctf, utils)))
        goto out;
    if (weft_recorder_finish(im->rec) < 0) {
        snprintf(err, PROF_ERR_LEN, "writing %s: %s", db_path, weft_recorder_error(im->rec));
        rc = WEFT_EIO;
    }
out:
    if (im) {
        weft_recorder_close(im->rec);
        for (size_t i = 0; i < ISTR_BUCKETS; i++)
            for (istr *s = im->strings[i], *n; s; s = n) {
                n = s->next;
                free(s);
            }
        umap_free(&im->task_info);
        umap_free(&im->runtime_flavor);
        umap_free(&im->thread_index);
        umap_free(&im->locations);
        umap_free(&im->pids);
        free(im->threads);
        free(im);
    }
    bt_plugin_put_ref(ctf);
    bt_plugin_put_ref(utils);
    for (size_t i = 0; i < ntrace_dirs; i++)
        free(trace_dirs[i]);
    free(trace_dirs);
    trace_dirs = NULL;
    ntrace_dirs = 0;
    if (rc < 0 && !err[0])
        snprintf(err, PROF_ERR_LEN, "%s", weft_strerror(rc));
    return rc;
}
