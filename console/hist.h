/* console/hist.h - a bounded histogram of durations (poll times, scheduled times).
 *
 * Log-linear buckets: each power of two from 2^HIST_MIN_EXP ns up to 2^HIST_MAX_EXP ns is split
 * into HIST_SUB equal sub-buckets, so a value is kept to within 1/HIST_SUB (25%) of itself,
 * whatever its size. Values below the first bucket count in it, values above the last in the
 * last; max and count are exact. The counters are allocated on the first record, so a task
 * that was never polled costs nothing. Fixed size: HIST_BUCKETS counters.
 */
#ifndef WEFT_CONSOLE_HIST_H
#define WEFT_CONSOLE_HIST_H

#include <stdint.h>

#define HIST_MIN_EXP 7   /* 128 ns */
#define HIST_MAX_EXP 36  /* ~69 s */
#define HIST_SUB 4
#define HIST_BUCKETS ((HIST_MAX_EXP - HIST_MIN_EXP) * HIST_SUB)

typedef struct hist {
    uint32_t *b;     /* HIST_BUCKETS counters, NULL until the first record */
    uint64_t count;
    uint64_t max;
    uint64_t sum;
} hist;

void hist_record(hist *h, uint64_t v);
void hist_free(hist *h);
/* The value at quantile q (0..1): the upper edge of the bucket holding it (exact for q = 1). */
uint64_t hist_quantile(const hist *h, double q);
/* Bucket i's lower edge in ns. */
uint64_t hist_bucket_low(unsigned i);

#endif
