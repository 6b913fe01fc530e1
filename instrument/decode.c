/* instrument/decode.c - one ring record to one decoded event (see decode.h, ring_format.h).
 *
 * Every check a malformed record could fail is made before anything is read past what the
 * header promised: the caller passes exactly the bytes it copied, the size the header claims
 * must fit in them and must be the size the event's type has (or, for string_def, the size
 * its text length implies). Field values themselves are not interpreted here; they are
 * integers, and consumers check ranges that matter to them (an op, a kind).
 */
#include <string.h>

#include <weft/error.h>

#include "decode.h"
#include "ring_format.h"

int weft__decode_record(const uint8_t *buf, size_t len, uint64_t *ts_ref, weft_event *ev,
                        char *text)
{
    if (len < WEFT_REC_HEADER)
        return 0;
    uint64_t h;
    memcpy(&h, buf, sizeof h);
    unsigned type = weft__rec_type(h);
    unsigned units = weft__rec_units(h);
    if (units < 2 || units > WEFT_REC_MAX_UNITS)
        return WEFT_EFORMAT;
    size_t bytes = (size_t)units * WEFT_REC_ALIGN;
    if (bytes > len)
        return 0;
    const weft_event_desc *d = weft_event_desc_of(type);
    if (!d)
        return WEFT_EFORMAT;

    size_t text_len = 0;
    if (d->flags & WEFT_EVF_TEXT) {
        /* Only string_def carries text: its `len` field says how much. */
        weft_ev_string_def p;
        memcpy(&p, buf + WEFT_REC_HEADER, sizeof p);
        if (p.len > WEFT_EV_MAX_TEXT)
            return WEFT_EFORMAT;
        text_len = p.len;
    }
    if (bytes != weft__rec_bytes(d->payload, (unsigned)text_len))
        return WEFT_EFORMAT;

    memset(ev, 0, sizeof *ev);
    ev->type = (uint16_t)type;
    memcpy(&ev->u, buf + WEFT_REC_HEADER, d->payload);
    if (d->flags & WEFT_EVF_TEXT) {
        memcpy(text, buf + WEFT_REC_HEADER + d->payload, text_len);
        text[text_len] = '\0';
        ev->text = text;
    }
    if (type == WEFT_EV_clock_sync) {
        /* The full timestamp; its low bits must agree with the header's. */
        if ((ev->u.clock_sync.ts & WEFT_TS_MASK) != weft__rec_ts48(h))
            return WEFT_EFORMAT;
        *ts_ref = ev->u.clock_sync.ts;
    } else {
        *ts_ref = weft__ts_unwrap(*ts_ref, weft__rec_ts48(h));
    }
    ev->ts = *ts_ref;
    return (int)bytes;
}
