/*
 * stats.c - log-linear latency histogram: 64 exact buckets, then 32 per
 * power of two up to 2^63, so any uint64 microsecond value fits.
 */
#include <stdlib.h>
#include <time.h>

#include "stats.h"

#define LINEAR 64
#define SUBBITS 5                       /* 32 buckets per octave */
#define NBUCKETS (32 * (64 - SUBBITS) + 32)

struct stats {
    uint64_t count;
    uint64_t sum;
    uint64_t min;
    uint64_t max;
    uint64_t bucket[NBUCKETS];
};

static unsigned bucket_of(uint64_t v)
{
    if (v < LINEAR)
        return (unsigned)v;
    unsigned msb = 63u - (unsigned)__builtin_clzll(v);
    unsigned shift = msb - SUBBITS;
    return 32u * shift + (unsigned)(v >> shift);
}

/* Largest value that falls in bucket i. */
static uint64_t bucket_top(unsigned i)
{
    if (i < LINEAR)
        return i;
    unsigned shift = i / 32u - 1u;
    uint64_t low = (uint64_t)(i - 32u * shift) << shift;
    return low + ((uint64_t)1 << shift) - 1;
}

stats_t *stats_new(void)
{
    return calloc(1, sizeof(stats_t));
}

void stats_free(stats_t *h)
{
    free(h);
}

void stats_add(stats_t *h, uint64_t us)
{
    if (h->count == 0 || us < h->min)
        h->min = us;
    if (us > h->max)
        h->max = us;
    h->count++;
    h->sum += us;
    h->bucket[bucket_of(us)]++;
}

void stats_merge(stats_t *dst, const stats_t *src)
{
    if (src->count == 0)
        return;
    if (dst->count == 0 || src->min < dst->min)
        dst->min = src->min;
    if (src->max > dst->max)
        dst->max = src->max;
    dst->count += src->count;
    dst->sum += src->sum;
    for (unsigned i = 0; i < NBUCKETS; i++)
        dst->bucket[i] += src->bucket[i];
}

uint64_t stats_count(const stats_t *h)
{
    return h->count;
}

uint64_t stats_max(const stats_t *h)
{
    return h->max;
}

uint64_t stats_min(const stats_t *h)
{
    return h->min;
}

double stats_mean(const stats_t *h)
{
    return h->count ? (double)h->sum / (double)h->count : 0.0;
}

uint64_t stats_percentile(const stats_t *h, double p)
{
    if (h->count == 0)
        return 0;
    if (p < 0)
        p = 0;
    if (p > 100)
        p = 100;
    /* rank of the sample sought, 1-based, rounded up */
    uint64_t rank = (uint64_t)((p / 100.0) * (double)h->count + 0.999999);
    if (rank == 0)
        rank = 1;
    uint64_t seen = 0;
    for (unsigned i = 0; i < NBUCKETS; i++) {
        seen += h->bucket[i];
        if (seen >= rank) {
            uint64_t top = bucket_top(i);
            return top > h->max ? h->max : (top < h->min ? h->min : top);
        }
    }
    return h->max;
}

uint64_t stats_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}
