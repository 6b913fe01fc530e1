/* tests/fuzz/fuzz_ring.c - libFuzzer target for everything a reader takes from a segment.
 *
 * The first byte of an input picks what the rest is:
 *   even  a stream of ring records, fed to the record decoder (decode.c) as the live reader
 *         feeds it: one record after another, each decoded from the bytes left;
 *   odd   a whole segment image (header, ring table, ring data), opened with the live
 *         reader's own checks (reader_live.c, on memory instead of a shm object) and read to
 *         the end.
 * Either way the property is the same: no crash, no out-of-bounds access (ASan), no hang,
 * whatever the bytes. Seeds in tests/fuzz/corpus/ring/ come from real segments
 * (make_ring_seeds.c).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../instrument/decode.h"
#include "../../instrument/reader_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    if ((data[0] & 1) == 0) {
        uint64_t ts_ref = 0;
        char text[WEFT_EV_MAX_TEXT + 1];
        size_t off = 0;
        while (off < n) {
            weft_event ev;
            int got = weft__decode_record(p + off, n - off, &ts_ref, &ev, text);
            if (got <= 0)
                break;
            off += (size_t)got;
        }
        return 0;
    }
    /* The image is copied to 64-byte-aligned memory, as a mapping would be. */
    size_t cap = (n + 63) & ~(size_t)63;
    uint8_t *img = aligned_alloc(64, cap ? cap : 64);
    if (!img)
        return 0;
    memcpy(img, p, n);
    weft_reader *r = NULL;
    if (weft__reader_open_image(img, n, WEFT_READER_SNAPSHOT, &r) == 0) {
        weft_event ev;
        for (int i = 0; i < 1000000 && weft_reader_next(r, &ev) == 1; i++) {
            if (ev.type == WEFT_EV_location_def) {
                weft_reader_loc loc;
                (void)weft_reader_location(r, ev.u.location_def.id, &loc);
            }
        }
        weft_reader_info info;
        weft_reader_info_get(r, &info);
        weft_reader_close(r);
    }
    free(img);
    return 0;
}
