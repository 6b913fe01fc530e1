/* tests/fuzz/fuzz_schedule.c - libFuzzer target for the schedule-file parser.
 *
 * Whatever the bytes, weft__det_parse must return (no crash, no out-of-bounds access, no
 * leak, no hang) with either 0 or an error and a message. When it accepts an input, the
 * record must survive a round trip: written back and parsed again it gives the same text, so
 * nothing the parser accepts is lost or misread. Seeds in tests/fuzz/corpus/schedule/ are
 * real schedules written by the explorer (one per classic-bug program).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "det_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    weft__det_record r, again;
    if (weft__det_record_init(&r) || weft__det_record_init(&again))
        abort();
    char err[512];
    /* Half the inputs also name a program, to exercise the identity check. */
    const char *program = size && (data[0] & 1) ? "det_program" : NULL;
    int rc = weft__det_parse(&r, (const char *)data, size, program, "fuzz", err, sizeof err);
    if (rc == 0) {
        char *t1, *t2;
        size_t l1, l2;
        if (weft__det_write_mem(&r, &t1, &l1) != 0)
            abort();
        if (weft__det_parse(&again, t1, l1, NULL, "rewritten", err, sizeof err) != 0)
            abort(); /* the writer produced something the parser refuses */
        if (weft__det_write_mem(&again, &t2, &l2) != 0)
            abort();
        if (l1 != l2 || memcmp(t1, t2, l1) != 0)
            abort(); /* not a fixed point: something was lost or misread */
        free(t1);
        free(t2);
    } else if (err[0] == '\0') {
        abort(); /* a refusal must say why */
    }
    weft__det_record_free(&r);
    weft__det_record_free(&again);
    return 0;
}
