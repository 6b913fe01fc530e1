/* instrument/sha256.h - SHA-256 (FIPS 180-4), for the program identity a trace database keeps.
 *
 * The recorder hashes the traced binary so that a replay or a report can tell whether the
 * program on disk is still the one that was recorded. Incremental: init, update any number of
 * times with any lengths, final. No allocation; a context is 108 bytes on the caller's stack.
 */
#ifndef WEFT_INSTRUMENT_SHA256_H
#define WEFT_INSTRUMENT_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define WEFT_SHA256_LEN 32 /* bytes in a digest */
#define WEFT_SHA256_HEX 65 /* bytes of its lower-case hex text, with the NUL */

typedef struct weft__sha256 {
    uint32_t h[8];         /* the running hash state */
    uint64_t bytes;        /* message length so far */
    unsigned char buf[64]; /* a partial block, `bytes % 64` bytes of it valid */
} weft__sha256;

void weft__sha256_init(weft__sha256 *s);
void weft__sha256_update(weft__sha256 *s, const void *data, size_t len);
/* Writes the digest; the context must be initialised again before reuse. */
void weft__sha256_final(weft__sha256 *s, unsigned char out[WEFT_SHA256_LEN]);

/* One call: the hex digest of a buffer. */
void weft__sha256_hex(const void *data, size_t len, char out[WEFT_SHA256_HEX]);

/* The hex digest of a file's contents: 0, or a negated errno value (open or read failed). */
int weft__sha256_file_hex(const char *path, char out[WEFT_SHA256_HEX]);

#endif
