/* fleetyard core: process metrics shared by fleetyard-server and the broker plugin.
 *
 * A latency histogram with fixed bounds (Prometheus's le buckets), updated with relaxed C11
 * atomics so that any thread may observe into it without a lock; and the names of the broker
 * plugin's counters, which the plugin persists in the table broker_stats (schema/0016) and the
 * server's GET /metrics reads back.
 */
#ifndef FY_CORE_STATS_H
#define FY_CORE_STATS_H

#include <stdatomic.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"

/* Upper bounds of the buckets, in seconds (the last bucket, +Inf, is implicit). */
#define FY_HIST_BOUNDS(X) \
    X(0.0005) X(0.001) X(0.0025) X(0.005) X(0.01) X(0.025) X(0.05) X(0.1) X(0.25) X(0.5) X(1) X(2.5)
#define FY_HIST_COUNT_ROW(b) +1
#define FY_HIST_BUCKETS      (0 FY_HIST_BOUNDS(FY_HIST_COUNT_ROW)) /* finite bounds */
#define FY_HIST_SLOTS        (FY_HIST_BUCKETS + 1)                 /* with +Inf */

/* Observations per bucket (not cumulative: slot i counts bounds[i-1] < v <= bounds[i]) and the
 * sum of the observed values in nanoseconds. Zero-initialized is empty. */
struct fy_hist {
    atomic_uint_fast64_t slot[FY_HIST_SLOTS];
    atomic_uint_fast64_t sum_ns;
};

/* A plain copy: cumulative counts (cum[FY_HIST_BUCKETS] is the +Inf bucket = the count). */
struct fy_hist_snap {
    uint64_t cum[FY_HIST_SLOTS];
    uint64_t sum_ns;
};

/* Records one duration. Any thread; lock-free. */
void fy_hist_observe(struct fy_hist *h, uint64_t ns);

/* Cumulative copy of h (bucket counts are read one by one: consistent with each other, though
 * observations made meanwhile may be missing from the sum). */
void fy_hist_snapshot(struct fy_hist *h, struct fy_hist_snap *out);

/* Adds b into a (per slot). */
void fy_hist_snap_add(struct fy_hist_snap *a, const struct fy_hist_snap *b);

/* Appends the series of one histogram in the Prometheus text format: name_bucket{labels,le=...}
 * for every bound and +Inf, name_sum (seconds) and name_count. labels is "" or
 * `key="value",...` (already escaped). Errors of fy_buf_printf. */
FY_NODISCARD fy_err fy_hist_prometheus(struct fy_buf *b,
                                       const char *name,
                                       const char *labels,
                                       const struct fy_hist_snap *s);

/* Transaction commit latency of this process (BEGIN IMMEDIATE to the end of COMMIT through
 * fy_db_begin/fy_db_commit): one histogram per process (core/db.c). */
extern struct fy_hist fy_db_commit_hist;

/* ---- the broker plugin's counters (table broker_stats: key, value) ----
 * Each row: enum suffix, key in broker_stats. Counters only ever grow; the plugin keeps the
 * value it loaded at start as a base, so they survive broker restarts. */
#define FY_BSTAT_LIST(X)                           \
    X(MSG_IN, "mqtt_messages_received")            \
    X(MSG_OUT, "mqtt_messages_sent")               \
    X(CONNECTS, "mqtt_connects")                   \
    X(DENY_CONNECT, "denied_connect")              \
    X(DENY_PUBLISH, "denied_publish")              \
    X(DENY_SUBSCRIBE, "denied_subscribe")          \
    X(DENY_RECEIVE, "denied_receive")              \
    X(SHADOW_UPDATE_OK, "shadow_updates_accepted") \
    X(SHADOW_UPDATE_REJECTED, "shadow_updates_rejected")

#define FY_BSTAT_ENUM_ROW(id, key) FY_BSTAT_##id,
enum fy_bstat { FY_BSTAT_LIST(FY_BSTAT_ENUM_ROW) FY_BSTAT__COUNT };
#undef FY_BSTAT_ENUM_ROW

/* The broker_stats key of a counter. */
const char *fy_bstat_key(enum fy_bstat s);

/* The broker's commit histogram is stored as keys FY_BSTAT_HIST_PREFIX "<slot>" (non-cumulative
 * counts, slot 0..FY_HIST_BUCKETS) and FY_BSTAT_HIST_SUM (nanoseconds). */
#define FY_BSTAT_HIST_PREFIX "db_commit_slot_"
#define FY_BSTAT_HIST_SUM    "db_commit_sum_ns"

#endif
