/* tests/fuzz/fuzz_trace_db.c - libFuzzer target for the trace-database reader.
 *
 * An input is a whole database file. It is opened the way weft_reader_open_trace opens a
 * file, but from memory (weft__trace_db_open_mem, no file I/O), and read to the end: every
 * event, the names and locations its fields refer to, the reader's info, a seek back and one
 * more event. The property: whatever the bytes, a clear error or a well-formed event stream;
 * never a crash, an out-of-bounds access (ASan), undefined behaviour (UBSan) or a hang (the
 * run's -timeout). Seeds in tests/fuzz/corpus/trace_db/ are real trace databases with small
 * pages (make_trace_db_seeds.c), so that mutations land in every table's b-tree.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../instrument/reader.h"
#include "../../instrument/trace_db.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Look up every interned id an event's fields hold (what the console does to show it). */
static void resolve_fields(weft_reader *r, const weft_event *ev)
{
    const weft_event_desc *d = weft_event_desc_of(ev->type);
    if (!d)
        abort(); /* the reader handed out a type it does not know */
    const unsigned char *p = (const unsigned char *)&ev->u;
    for (unsigned i = 0; i < d->nfields; i++) {
        const weft_ev_field *f = &d->fields[i];
        if (f->type != WEFT_FT_STR && f->type != WEFT_FT_LOC)
            continue;
        uint32_t id;
        memcpy(&id, p + f->offset, sizeof id);
        if (f->type == WEFT_FT_STR) {
            const char *s = weft_reader_string(r, id);
            if (s && strlen(s) > WEFT_EV_MAX_TEXT)
                abort();
        } else {
            weft_reader_loc loc;
            if (weft_reader_location(r, id, &loc) && (!loc.file || !loc.func))
                abort();
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    weft_reader *r = NULL;
    if (weft__trace_db_open_mem(data, size, &r) != 0) {
        if (r || !weft_reader_open_error()[0])
            abort(); /* a failed open returns no reader and says why */
        return 0;
    }
    weft_event ev;
    int rc;
    uint64_t n = 0, last_seq = 0;
    while ((rc = weft_reader_next(r, &ev)) == 1) {
        if (n++ && ev.seq <= last_seq)
            abort(); /* seq order is the promise of a trace reader */
        last_seq = ev.seq;
        resolve_fields(r, &ev);
    }
    if (rc < 0 && !weft_reader_last_error(r)[0])
        abort();
    weft_reader_info info;
    weft_reader_info_get(r, &info);
    if (weft_reader_seek(r, 0) == 0 && weft_reader_next(r, &ev) == 1)
        resolve_fields(r, &ev);
    weft_reader_close(r);
    return 0;
}
