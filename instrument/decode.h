/* instrument/decode.h - turning ring records back into events (decode.c).
 *
 * Used by the live reader on bytes it has already copied out of a ring, and by the fuzz
 * target on arbitrary bytes: nothing here trusts its input.
 */
#ifndef WEFT_INSTRUMENT_DECODE_H
#define WEFT_INSTRUMENT_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "reader.h"

/* Decode the record at the start of buf[0..len) into *ev (type, u, and ts in the segment's
 * clock units; the caller fills the thread fields and converts ts). `*ts_ref` is the full
 * timestamp of the ring's previous record: it restores this record's high bits and is then
 * updated. A string_def's text is copied into `text` (at least WEFT_EV_MAX_TEXT + 1 bytes,
 * NUL-terminated) and ev->text points to it.
 *
 * Returns the record's size in bytes (> 0); 0 if buf holds only the beginning of a record
 * (len too short for the size its header gives); WEFT_EFORMAT if the record is malformed
 * (unknown type, a size that does not match its type, a text length out of range). */
int weft__decode_record(const uint8_t *buf, size_t len, uint64_t *ts_ref, weft_event *ev,
                        char *text);

#endif
