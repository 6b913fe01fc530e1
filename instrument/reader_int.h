/* instrument/reader_int.h - what a reader backend implements (see reader.h).
 *
 * A backend (reader_live.c for the rings, the recorder's trace reader for a database) embeds
 * a weft_reader as the first member of its own struct, fills `ops` and `info`, and returns
 * decoded events from ops->next. reader.c does what is common to every source: it keeps the
 * interned strings and locations of the string_def / location_def events that go by (so a
 * backend only has to return them like any other event), counts events, and holds the last
 * error message.
 */
#ifndef WEFT_INSTRUMENT_READER_INT_H
#define WEFT_INSTRUMENT_READER_INT_H

#include "reader.h"

typedef struct weft__reader_ops {
    /* Same contract as weft_reader_next. */
    int (*next)(weft_reader *r, weft_event *ev);
    /* May be NULL: weft_reader_wait then returns 0 at once. */
    int (*wait)(weft_reader *r, int timeout_ms);
    /* May be NULL: WEFT_ENOSYS. */
    int (*request_snapshot)(weft_reader *r, uint64_t *seq_out);
    /* May be NULL: WEFT_ENOSYS. */
    int (*seek)(weft_reader *r, uint64_t seq);
    /* Refresh the backend's fields of r->info (alive, dropped, rings...). May be NULL. */
    void (*refresh_info)(weft_reader *r);
    /* Free the backend (not the tables of reader.c: weft_reader_close does those). */
    void (*close)(weft_reader *r);
} weft__reader_ops;

/* One interned id as the reader knows it. */
typedef struct weft__reader_sym {
    char *text;       /* string_def: owned, NUL-terminated; NULL for a location or unknown */
    uint32_t file;    /* location_def: string ids */
    uint32_t func;
    uint32_t line;
    bool is_location; /* a location_def was read for this id */
} weft__reader_sym;

/* Ids above this are refused (a reader must not let a peer make it allocate at will). */
#define WEFT__READER_MAX_SYMS (1u << 22)

struct weft_reader {
    const weft__reader_ops *ops;
    weft_reader_info info;     /* reader.c counts events; the backend fills the rest */
    weft__reader_sym *syms;    /* indexed by id; grown on demand up to MAX_SYMS */
    uint32_t nsyms;            /* allocated entries */
    char error[256];           /* weft_reader_last_error */
};

/* Initialise the common part (backends call it first). */
void weft__reader_init(weft_reader *r, const weft__reader_ops *ops);

/* Record a message for weft_reader_last_error (printf-style). Returns `err` for chaining. */
int weft__reader_fail(weft_reader *r, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* For opens that fail before a reader exists: sets weft_reader_open_error(). */
int weft__reader_open_fail(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Learn the interned string or location an event defines (called by weft_reader_next for
 * every event; exposed for backends that preload their tables, e.g. from a strings table). */
void weft__reader_learn(weft_reader *r, const weft_event *ev);

/* Read a segment image in the caller's memory (64-byte aligned, `size` bytes, not freed) as
 * if it were a live segment of a program that has exited: for the fuzz target and tests. */
int weft__reader_open_image(void *map, size_t size, unsigned flags, weft_reader **out);

#endif
