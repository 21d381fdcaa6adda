-- The broker plugin's counters (core/stats.h FY_BSTAT_LIST and its commit-latency histogram),
-- written by the plugin about once a second and read by GET /metrics. Values only grow: the
-- plugin continues from the stored value after a restart.
CREATE TABLE broker_stats (
    key TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;
