/*
 * histogram.h: the small pieces every peer and floor program shares: a
 * monotonic clock in nanoseconds (and the seconds between two readings), a
 * fixed-size log-linear latency histogram (no allocation per sample; record
 * is a shift, a count-leading-zeros and an increment) and the printers for
 * the one output format (any figure, the rate, the round-trip figures):
 *
 *     RESULT,<workload>,<impl>,<param>,<metric>,<unit>,<value>
 *
 * Header-only (static inline), valid C11 and C++20. In C, define
 * _POSIX_C_SOURCE (or _GNU_SOURCE) before any include so that
 * clock_gettime is declared.
 *
 * Bucket layout: values below 2^PEER_HIST_SUB_BITS nanoseconds get one
 * bucket each; above that, every power-of-two range [2^k, 2^(k+1)) is split
 * into 2^(PEER_HIST_SUB_BITS-1) equal buckets, so a reported percentile is
 * the middle of a bucket whose width is under 1/64 (1.6 %) of its value.
 * The mean is exact (sum / count), not read from the buckets.
 */
#ifndef SCHEDLAB_PEERS_HISTOGRAM_H
#define SCHEDLAB_PEERS_HISTOGRAM_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define PEER_HIST_SUB_BITS 7u
#define PEER_HIST_HALF (1u << (PEER_HIST_SUB_BITS - 1u))
/* The highest 64-bit value lands in bucket (64 - SUB_BITS + 2) * HALF - 1. */
#define PEER_HIST_BUCKETS ((64u - PEER_HIST_SUB_BITS + 2u) * PEER_HIST_HALF)

typedef struct peer_hist {
    uint64_t count;
    uint64_t sum_ns;
    uint64_t min_ns;
    uint64_t max_ns;
    uint64_t bucket[PEER_HIST_BUCKETS];
} peer_hist;

static inline uint64_t peer_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline double peer_seconds_since(uint64_t start_ns, uint64_t end_ns)
{
    return (double)(end_ns - start_ns) / 1e9;
}

static inline void peer_hist_reset(peer_hist *h)
{
    memset(h, 0, sizeof *h);
    h->min_ns = UINT64_MAX;
}

static inline unsigned peer_hist_index(uint64_t v)
{
    if (v < 2u * PEER_HIST_HALF)
        return (unsigned)v;
    unsigned msb = 63u - (unsigned)__builtin_clzll(v);
    unsigned shift = msb - (PEER_HIST_SUB_BITS - 1u);
    return shift * PEER_HIST_HALF + (unsigned)(v >> shift);
}

/* Smallest value of bucket i, and its width. */
static inline uint64_t peer_hist_bucket_low(unsigned i, uint64_t *width)
{
    if (i < 2u * PEER_HIST_HALF) {
        *width = 1;
        return i;
    }
    unsigned shift = i / PEER_HIST_HALF - 1u;
    *width = (uint64_t)1 << shift;
    return (uint64_t)(i - shift * PEER_HIST_HALF) << shift;
}

static inline void peer_hist_record(peer_hist *h, uint64_t ns)
{
    h->bucket[peer_hist_index(ns)]++;
    h->count++;
    h->sum_ns += ns;
    if (ns < h->min_ns)
        h->min_ns = ns;
    if (ns > h->max_ns)
        h->max_ns = ns;
}

static inline double peer_hist_mean_ns(const peer_hist *h)
{
    return h->count ? (double)h->sum_ns / (double)h->count : 0.0;
}

/* The q-quantile (0 < q <= 1): the middle of the bucket holding the sample
 * of rank ceil(q * count), clamped to the observed min and max. */
static inline double peer_hist_quantile_ns(const peer_hist *h, double q)
{
    if (h->count == 0)
        return 0.0;
    double want = q * (double)h->count;
    uint64_t rank = (uint64_t)want;
    if ((double)rank < want)
        rank++;
    if (rank < 1)
        rank = 1;
    if (rank > h->count)
        rank = h->count;
    uint64_t seen = 0;
    for (unsigned i = 0; i < PEER_HIST_BUCKETS; i++) {
        seen += h->bucket[i];
        if (seen >= rank) {
            uint64_t width;
            uint64_t low = peer_hist_bucket_low(i, &width);
            uint64_t mid = low + (width - 1u) / 2u;
            if (mid < h->min_ns)
                mid = h->min_ns;
            if (mid > h->max_ns)
                mid = h->max_ns;
            return (double)mid;
        }
    }
    return (double)h->max_ns;
}

static inline void peer_print_result(const char *workload, const char *impl, long param,
                                     const char *metric, const char *unit, double value,
                                     int decimals)
{
    printf("RESULT,%s,%s,%ld,%s,%s,%.*f\n", workload, impl, param, metric, unit, decimals,
           value);
}

/* The rate figure: `ops` per second between two clock readings. */
static inline void peer_print_rate(const char *workload, const char *impl, long param,
                                   uint64_t ops, uint64_t start_ns, uint64_t end_ns)
{
    peer_print_result(workload, impl, param, "rate", "ops/s",
                      (double)ops / peer_seconds_since(start_ns, end_ns), 0);
}

/* The four round-trip figures every ping-pong workload reports, in us. */
static inline void peer_hist_print_rtt(const peer_hist *h, const char *workload,
                                       const char *impl, long param)
{
    peer_print_result(workload, impl, param, "rtt_mean", "us", peer_hist_mean_ns(h) / 1e3,
                      3);
    peer_print_result(workload, impl, param, "rtt_p50", "us",
                      peer_hist_quantile_ns(h, 0.50) / 1e3, 3);
    peer_print_result(workload, impl, param, "rtt_p99", "us",
                      peer_hist_quantile_ns(h, 0.99) / 1e3, 3);
    peer_print_result(workload, impl, param, "rtt_p999", "us",
                      peer_hist_quantile_ns(h, 0.999) / 1e3, 3);
}

#endif /* SCHEDLAB_PEERS_HISTOGRAM_H */
