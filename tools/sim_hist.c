/* fleetyard-sim: latency histogram with HdrHistogram-style log-linear buckets.
 *
 * Values 0..127 ns have a bucket each; above, the power of two [2^m, 2^(m+1)) (m >= 7) is split
 * into 64 equal buckets. Recording is O(1) and allocation-free; quantiles walk the buckets.
 */
#include <stdio.h>
#include <string.h>

#include "tools/sim.h"

#define LINEAR    128u
#define SUB       64u
#define SUB_SHIFT 6u

static unsigned bucket_of(uint64_t v)
{
    if (v < LINEAR) {
        return (unsigned)v;
    }
    unsigned m = 63u - (unsigned)__builtin_clzll(v); /* >= 7 */
    unsigned shift = m - SUB_SHIFT;                  /* >= 1 */
    unsigned idx = LINEAR + (shift - 1u) * SUB + (unsigned)((v >> shift) - SUB);
    return idx < SIM_HIST_BUCKETS ? idx : SIM_HIST_BUCKETS - 1u;
}

/* Upper edge (inclusive) of bucket idx. */
static uint64_t bucket_top(unsigned idx)
{
    if (idx < LINEAR) {
        return idx;
    }
    unsigned shift = (idx - LINEAR) / SUB + 1u;
    uint64_t sub = (idx - LINEAR) % SUB + SUB;
    return ((sub + 1u) << shift) - 1u;
}

void sim_hist_init(struct sim_hist *h)
{
    memset(h, 0, sizeof(*h));
}

void sim_hist_record(struct sim_hist *h, uint64_t ns)
{
    if (h->count == 0 || ns < h->min) {
        h->min = ns;
    }
    if (ns > h->max) {
        h->max = ns;
    }
    h->count++;
    h->sum += (double)ns;
    h->buckets[bucket_of(ns)]++;
}

uint64_t sim_hist_quantile(const struct sim_hist *h, double q)
{
    if (h->count == 0) {
        return 0;
    }
    uint64_t want = (uint64_t)(q * (double)h->count + 0.5), seen = 0;
    if (want < 1) {
        want = 1;
    }
    for (unsigned i = 0; i < SIM_HIST_BUCKETS; i++) {
        seen += h->buckets[i];
        if (seen >= want) {
            uint64_t top = bucket_top(i);
            return top < h->max ? top : h->max;
        }
    }
    return h->max;
}

static double us(uint64_t ns)
{
    return (double)ns / 1000.0;
}

json_t *sim_hist_to_json(const struct sim_hist *h)
{
    double mean = h->count ? h->sum / (double)h->count / 1000.0 : 0.0;
    return json_pack("{s:I, s:f, s:f, s:f, s:f, s:f, s:f, s:f}", "count", (json_int_t)h->count,
                     "min_us", us(h->min), "mean_us", mean, "p50_us",
                     us(sim_hist_quantile(h, 0.50)), "p90_us", us(sim_hist_quantile(h, 0.90)),
                     "p99_us", us(sim_hist_quantile(h, 0.99)), "p999_us",
                     us(sim_hist_quantile(h, 0.999)), "max_us", us(h->max));
}

void sim_hist_format(const struct sim_hist *h, char *buf, size_t n)
{
    if (h->count == 0) {
        snprintf(buf, n, "no samples");
        return;
    }
    snprintf(buf, n, "p50 %.3f ms  p90 %.3f ms  p99 %.3f ms  p99.9 %.3f ms  max %.3f ms",
             (double)sim_hist_quantile(h, 0.50) / 1e6, (double)sim_hist_quantile(h, 0.90) / 1e6,
             (double)sim_hist_quantile(h, 0.99) / 1e6, (double)sim_hist_quantile(h, 0.999) / 1e6,
             (double)h->max / 1e6);
}
