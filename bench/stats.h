/*
 * stats.h - latency histogram for the benchmarks: fixed memory, no
 * locking, one per thread, merged at the end.
 *
 * NAME
 *	stats - log-linear latency histogram with percentiles
 *
 * SYNOPSIS
 *	stats_t *h = stats_new();
 *	stats_add(h, elapsed_us);            (per thread, no lock)
 *	stats_merge(total, h);               (after the threads joined)
 *	stats_percentile(total, 99.0);
 *	t0 = stats_now_us();  ...;  stats_add(h, stats_now_us() - t0);
 *	stats_free(h);
 *
 * DESCRIPTION
 *	Values are microseconds. Below 64 each value has its own bucket;
 *	above, every power of two is split into 32 buckets, so a reported
 *	percentile is within about 3 % of the true value while the whole
 *	histogram is a fixed array allocated once: recording a sample
 *	never allocates, which keeps the generator's own cost flat.
 *	Count, sum, min and max are exact.
 *
 *	A stats_t is not thread-safe: give each thread its own.
 */
#ifndef POSTERN_STATS_H
#define POSTERN_STATS_H

#include <stdint.h>

typedef struct stats stats_t;

/* An empty histogram, or NULL when memory runs out. Free with stats_free. */
stats_t *stats_new(void);
void stats_free(stats_t *h);

void stats_add(stats_t *h, uint64_t us);

/* Adds every sample of src to dst. */
void stats_merge(stats_t *dst, const stats_t *src);

uint64_t stats_count(const stats_t *h);
uint64_t stats_max(const stats_t *h);       /* 0 when empty */
uint64_t stats_min(const stats_t *h);       /* 0 when empty */
double stats_mean(const stats_t *h);        /* 0 when empty */

/* CLOCK_MONOTONIC now, in microseconds: the unit of stats_add(). */
uint64_t stats_now_us(void);

/* The value below which p percent (0..100) of the samples fall, as the
 * upper edge of its bucket capped at the exact max; 0 when empty. */
uint64_t stats_percentile(const stats_t *h, double p);

#endif
