/* instrument/reader.c - what every reader does whatever its source (see reader.h).
 *
 * Backends (reader_live.c; the recorder's trace reader) produce decoded events; this file
 * dispatches the public calls to them, keeps the table of interned strings and locations
 * learnt from string_def / location_def events, and holds error messages.
 */
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <weft/error.h>

#include "reader_int.h"

static _Thread_local char open_error[256];

void weft__reader_init(weft_reader *r, const weft__reader_ops *ops)
{
    memset(r, 0, sizeof *r);
    r->ops = ops;
    r->info.program = "";
}

int weft__reader_fail(weft_reader *r, int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->error, sizeof r->error, fmt, ap);
    va_end(ap);
    return err;
}

int weft__reader_open_fail(int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(open_error, sizeof open_error, fmt, ap);
    va_end(ap);
    return err;
}

const char *weft_reader_open_error(void)
{
    return open_error;
}

const char *weft_reader_last_error(const weft_reader *r)
{
    return r ? r->error : "";
}

/* ---------------------------------------------------------------- symbols */

static weft__reader_sym *sym_slot(weft_reader *r, uint32_t id)
{
    if (id == 0 || id >= WEFT__READER_MAX_SYMS)
        return NULL;
    if (id >= r->nsyms) {
        uint32_t n = r->nsyms ? r->nsyms : 256;
        while (n <= id)
            n *= 2;
        weft__reader_sym *p = realloc(r->syms, (size_t)n * sizeof *p);
        if (!p)
            return NULL;
        memset(p + r->nsyms, 0, (size_t)(n - r->nsyms) * sizeof *p);
        r->syms = p;
        r->nsyms = n;
    }
    return &r->syms[id];
}

void weft__reader_learn(weft_reader *r, const weft_event *ev)
{
    if (ev->type == WEFT_EV_string_def && ev->text) {
        /* The first definition of an id wins: a program defines an id once (a snapshot
         * repeats it identically), and texts handed out with events must stay valid until the
         * reader is closed, so a text is never replaced. */
        weft__reader_sym *s = sym_slot(r, ev->u.string_def.id);
        if (!s || s->text)
            return;
        size_t n = strnlen(ev->text, WEFT_EV_MAX_TEXT);
        char *t = malloc(n + 1);
        if (!t)
            return;
        memcpy(t, ev->text, n);
        t[n] = '\0';
        s->text = t;
    } else if (ev->type == WEFT_EV_location_def) {
        weft__reader_sym *s = sym_slot(r, ev->u.location_def.id);
        if (!s || s->is_location)
            return;
        s->is_location = true;
        s->file = ev->u.location_def.file;
        s->func = ev->u.location_def.func;
        s->line = ev->u.location_def.line;
    }
}

const char *weft_reader_string(const weft_reader *r, uint32_t id)
{
    if (!r || id == 0 || id >= r->nsyms)
        return NULL;
    return r->syms[id].text;
}

bool weft_reader_location(const weft_reader *r, uint32_t id, weft_reader_loc *out)
{
    if (!r || id == 0 || id >= r->nsyms || !r->syms[id].is_location)
        return false;
    const weft__reader_sym *s = &r->syms[id];
    const char *file = weft_reader_string(r, s->file);
    const char *func = weft_reader_string(r, s->func);
    out->file = file ? file : "";
    out->func = func ? func : "";
    out->line = s->line;
    return true;
}

/* ---------------------------------------------------------------- dispatch */

int weft_reader_next(weft_reader *r, weft_event *ev)
{
    if (!r || !ev)
        return WEFT_EINVAL;
    int n = r->ops->next(r, ev);
    if (n == 1) {
        r->info.events++;
        if (ev->type == WEFT_EV_string_def || ev->type == WEFT_EV_location_def)
            weft__reader_learn(r, ev);
    }
    return n;
}

int weft_reader_wait(weft_reader *r, int timeout_ms)
{
    if (!r)
        return WEFT_EINVAL;
    return r->ops->wait ? r->ops->wait(r, timeout_ms) : 0;
}

int weft_reader_request_snapshot(weft_reader *r, uint64_t *seq_out)
{
    if (!r)
        return WEFT_EINVAL;
    return r->ops->request_snapshot ? r->ops->request_snapshot(r, seq_out) : WEFT_ENOSYS;
}

int weft_reader_seek(weft_reader *r, uint64_t seq)
{
    if (!r)
        return WEFT_EINVAL;
    return r->ops->seek ? r->ops->seek(r, seq) : WEFT_ENOSYS;
}

void weft_reader_info_get(weft_reader *r, weft_reader_info *out)
{
    if (!r)
        return;
    if (r->ops->refresh_info)
        r->ops->refresh_info(r);
    *out = r->info;
}

void weft_reader_close(weft_reader *r)
{
    if (!r)
        return;
    weft__reader_sym *syms = r->syms;
    uint32_t n = r->nsyms;
    r->ops->close(r); /* frees r */
    for (uint32_t i = 0; i < n; i++)
        free(syms[i].text);
    free(syms);
}

/* ---------------------------------------------------------------- discovery */

int weft_reader_list_live(int *pids, size_t max)
{
    DIR *d = opendir("/dev/shm");
    if (!d)
        return WEFT_EIO;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, "weft-", 5) != 0)
            continue;
        char *end;
        long pid = strtol(e->d_name + 5, &end, 10);
        if (*end || pid <= 0 || pid > 0x7fffffff)
            continue;
        if ((size_t)n < max && pids)
            pids[n] = (int)pid;
        n++;
    }
    closedir(d);
    return n;
}
