/* Process metrics: the lock-free latency histogram and the broker counters' names. */
#include "core/stats.h"

#define FY_HIST_NS_ROW(b) (uint64_t)((b)*1e9),
static const uint64_t bounds_ns[FY_HIST_BUCKETS] = {FY_HIST_BOUNDS(FY_HIST_NS_ROW)};
#define FY_HIST_TEXT_ROW(b) #b,
static const char *const bounds_text[FY_HIST_BUCKETS] = {FY_HIST_BOUNDS(FY_HIST_TEXT_ROW)};

struct fy_hist fy_db_commit_hist;

void fy_hist_observe(struct fy_hist *h, uint64_t ns)
{
    int i = 0;
    while (i < FY_HIST_BUCKETS && ns > bounds_ns[i]) {
        i++;
    }
    atomic_fetch_add_explicit(&h->slot[i], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->sum_ns, ns, memory_order_relaxed);
}

void fy_hist_snapshot(struct fy_hist *h, struct fy_hist_snap *out)
{
    uint64_t run = 0;
    for (int i = 0; i < FY_HIST_SLOTS; i++) {
        run += atomic_load_explicit(&h->slot[i], memory_order_relaxed);
        out->cum[i] = run;
    }
    out->sum_ns = atomic_load_explicit(&h->sum_ns, memory_order_relaxed);
}

void fy_hist_snap_add(struct fy_hist_snap *a, const struct fy_hist_snap *b)
{
    for (int i = 0; i < FY_HIST_SLOTS; i++) {
        a->cum[i] += b->cum[i];
    }
    a->sum_ns += b->sum_ns;
}

fy_err fy_hist_prometheus(struct fy_buf *b,
                          const char *name,
                          const char *labels,
                          const struct fy_hist_snap *s)
{
    const char *sep = labels[0] ? "," : "";
    fy_err e = FY_ERR_OK;
    for (int i = 0; !e && i < FY_HIST_SLOTS; i++) {
        e = fy_buf_printf(b, "%s_bucket{%s%sle=\"%s\"} %llu\n", name, labels, sep,
                          i < FY_HIST_BUCKETS ? bounds_text[i] : "+Inf",
                          (unsigned long long)s->cum[i]);
    }
    const char *open = labels[0] ? "{" : "", *close = labels[0] ? "}" : "";
    e = e ? e
          : fy_buf_printf(b, "%s_sum%s%s%s %.9f\n%s_count%s%s%s %llu\n", name, open, labels, close,
                          (double)s->sum_ns / 1e9, name, open, labels, close,
                          (unsigned long long)s->cum[FY_HIST_BUCKETS]);
    return e;
}

#define FY_BSTAT_KEY_ROW(id, key) key,
static const char *const bstat_keys[FY_BSTAT__COUNT] = {FY_BSTAT_LIST(FY_BSTAT_KEY_ROW)};

const char *fy_bstat_key(enum fy_bstat s)
{
    return (unsigned)s < FY_BSTAT__COUNT ? bstat_keys[s] : "";
}
