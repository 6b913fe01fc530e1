/* console/hist.c - the log-linear histogram of hist.h. */
#include <stdlib.h>

#include "hist.h"

static unsigned bucket_of(uint64_t v)
{
    if (v < (1ull << HIST_MIN_EXP))
        return 0;
    unsigned e = 63u - (unsigned)__builtin_clzll(v); /* 2^e <= v < 2^(e+1) */
    if (e >= HIST_MAX_EXP)
        return HIST_BUCKETS - 1;
    unsigned sub = (unsigned)((v >> (e - 2)) & (HIST_SUB - 1)); /* the two bits below the top */
    return (e - HIST_MIN_EXP) * HIST_SUB + sub;
}

uint64_t hist_bucket_low(unsigned i)
{
    unsigned e = HIST_MIN_EXP + i / HIST_SUB;
    return (1ull << e) + (uint64_t)(i % HIST_SUB) * (1ull << (e - 2));
}

void hist_record(hist *h, uint64_t v)
{
    if (!h->b) {
        h->b = calloc(HIST_BUCKETS, sizeof *h->b);
        if (!h->b)
            return;
    }
    h->b[bucket_of(v)]++;
    h->count++;
    h->sum += v;
    if (v > h->max)
        h->max = v;
}

void hist_free(hist *h)
{
    free(h->b);
    h->b = NULL;
    h->count = h->max = h->sum = 0;
}

uint64_t hist_quantile(const hist *h, double q)
{
    if (!h->b || h->count == 0)
        return 0;
    if (q >= 1.0)
        return h->max;
    uint64_t rank = (uint64_t)(q * (double)h->count);
    if (rank >= h->count)
        rank = h->count - 1;
    uint64_t seen = 0;
    for (unsigned i = 0; i < HIST_BUCKETS; i++) {
        seen += h->b[i];
        if (seen > rank) {
            uint64_t hi = i + 1 < HIST_BUCKETS ? hist_bucket_low(i + 1) : h->max;
            return hi < h->max ? hi : h->max;
        }
    }
    return h->max;
}
