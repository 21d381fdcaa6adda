/* GET /metrics (and its older name /fleetyard/metrics), unsigned like the health endpoints
 * (Prometheus scrapers do not sign), in the Prometheus text format 0.0.4:
 *   - the HTTP request counters and latency histograms this server keeps (reqstats.c);
 *   - the broker plugin's counters (MQTT messages, connections, authorization denials, shadow
 *     updates, commit latency), which it writes to broker_stats about once a second;
 *   - this process's transaction commit latency (core/db.c) and the database's size;
 *   - gauges read from the database at scrape time, and the fleet metrics (index/). */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "api/api_int.h"
#include "api/routes.h"
#include "core/alloc.h"
#include "core/names.h"
#include "index/index.h"
#include "logs/logs.h"

#define METRICS_MAX (1024 * 1024)

/* One labelled family: SQL returns (label value, number) rows. */
struct family {
    const char *name;
    const char *help;
    const char *label; /* NULL: SQL returns one number */
    const char *sql;
};

static const char SQL_CONNECTED[] = "SELECT count(*) FROM connectivity WHERE connected = 1";
static const char SQL_JOBS[] = "SELECT status, count(*) FROM jobs GROUP BY status";
static const char SQL_EXECS[] = "SELECT status, count(*) FROM job_executions GROUP BY status";
static const char SQL_LOG_EVENTS[] = "SELECT grp, count(*) FROM log_events GROUP BY grp";
static const char SQL_DENIALS[] =
    "SELECT json_extract(message, '$.eventType'), count(*) FROM log_events"
    " WHERE grp = 'AWSIotLogsV2' AND message LIKE '%AUTHORIZATION_FAILURE%' GROUP BY 1";
static const char SQL_AUDIT[] = "SELECT json_extract(message, '$.status'), count(*) FROM log_events"
                                " WHERE grp = 'fleetyard/audit' GROUP BY 1";
static const char SQL_DB_BYTES[] =
    "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()";
static const char SQL_BROKER_STATS[] = "SELECT key, value FROM broker_stats";

static const struct family families[] = {
    {"fleetyard_connected_devices", "MQTT clients connected now", NULL, SQL_CONNECTED},
    {"fleetyard_jobs", "Jobs by status", "status", SQL_JOBS},
    {"fleetyard_job_executions", "Job executions by status", "status", SQL_EXECS},
    {"fleetyard_log_events", "Stored log events by log group", "log_group", SQL_LOG_EVENTS},
    {"fleetyard_authorization_denials_logged",
     "Authorization failures recorded in AWSIotLogsV2 (as the logging levels allow)", "event",
     SQL_DENIALS},
    {"fleetyard_changes", "Audited control-plane requests by HTTP status", "status", SQL_AUDIT},
};

/* Appends one family; label values are escaped for the text format. */
static fy_err family_out(struct api_req *req, const struct family *f, struct fy_buf *b)
{
    sqlite3_stmt *st = fy_db_stmt(req->db, f->sql, &req->em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    fy_err e = fy_buf_printf(b, "# HELP %s %s\n# TYPE %s gauge\n", f->name, f->help, f->name);
    int rc;
    while (!e && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (!f->label) {
            e = fy_buf_printf(b, "%s %lld\n", f->name, sqlite3_column_int64(st, 0));
            continue;
        }
        e = fy_buf_printf(b, "%s{%s=\"", f->name, f->label);
        for (const char *p = fy_col_text(st, 0); !e && *p; p++) {
            e = *p == '"' || *p == '\\' || *p == '\n'
                    ? fy_buf_printf(b, "\\%c", *p == '\n' ? 'n' : *p)
                    : fy_buf_append(b, p, 1);
        }
        e = e ? e : fy_buf_printf(b, "\"} %lld\n", sqlite3_column_int64(st, 1));
    }
    fy_stmt_done(st);
    return e ? fy_fail(&req->em, e, "metrics output too large") : FY_ERR_OK;
}

/* What the broker plugin last wrote to broker_stats (zeros before its first write). */
struct broker_stats {
    uint64_t v[FY_BSTAT__COUNT];
    uint64_t slot[FY_HIST_SLOTS]; /* commit latency per slot, not cumulative */
    uint64_t sum_ns;
};

static void broker_stat_set(struct broker_stats *bs, const char *key, uint64_t v)
{
    size_t np = strlen(FY_BSTAT_HIST_PREFIX);
    int64_t slot;
    for (int i = 0; i < FY_BSTAT__COUNT; i++) {
        if (strcmp(key, fy_bstat_key((enum fy_bstat)i)) == 0) {
            bs->v[i] = v;
            return;
        }
    }
    if (strcmp(key, FY_BSTAT_HIST_SUM) == 0) {
        bs->sum_ns = v;
    } else if (strncmp(key, FY_BSTAT_HIST_PREFIX, np) == 0 &&
               fy_parse_i64_full(key + np, 0, FY_HIST_BUCKETS, &slot) == 0) {
        bs->slot[slot] = v;
    }
}

static fy_err broker_stats_read(struct api_req *req, struct broker_stats *bs)
{
    sqlite3_stmt *st = fy_db_stmt(req->db, SQL_BROKER_STATS, &req->em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        broker_stat_set(bs, fy_col_text(st, 0), (uint64_t)sqlite3_column_int64(st, 1));
    }
    fy_stmt_done(st);
    return rc == SQLITE_DONE ? FY_ERR_OK : fy_db_err(req->db, rc, &req->em);
}

/* "# HELP name help\n# TYPE name type\n". */
static fy_err head(struct fy_buf *b, const char *name, const char *type, const char *help)
{
    return fy_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static fy_err counter(struct fy_buf *b, const char *name, const char *help, uint64_t v)
{
    fy_err e = head(b, name, "counter", help);
    return e ? e : fy_buf_printf(b, "%s %llu\n", name, (unsigned long long)v);
}

static fy_err mqtt_out(struct api_req *req, const struct broker_stats *bs, struct fy_buf *b)
{
    static const struct {
        const char *action;
        enum fy_bstat stat;
    } denials[] = {{"connect", FY_BSTAT_DENY_CONNECT},
                   {"publish", FY_BSTAT_DENY_PUBLISH},
                   {"subscribe", FY_BSTAT_DENY_SUBSCRIBE},
                   {"receive", FY_BSTAT_DENY_RECEIVE}};
    struct api_stats *rs = req->srv->stats;
    const uint64_t *v = bs->v;
    fy_err e = counter(b, "fleetyard_mqtt_connections_total", "Device connections admitted",
                       v[FY_BSTAT_CONNECTS]);
    e = e ? e
          : counter(b, "fleetyard_mqtt_messages_received_total",
                    "PUBLISH messages received from devices", v[FY_BSTAT_MSG_IN]);
    e = e ? e
          : counter(b, "fleetyard_mqtt_messages_sent_total",
                    "Messages delivered to devices (subscriptions and direct replies)",
                    v[FY_BSTAT_MSG_OUT]);
    e = e ? e
          : head(b, "fleetyard_authorization_denials_total", "counter",
                 "MQTT actions the IoT policies denied, by action");
    for (size_t i = 0; !e && i < sizeof(denials) / sizeof(denials[0]); i++) {
        e = fy_buf_printf(b, "fleetyard_authorization_denials_total{action=\"%s\"} %llu\n",
                          denials[i].action, (unsigned long long)v[denials[i].stat]);
    }
    e = e ? e
          : head(b, "fleetyard_shadow_updates_total", "counter",
                 "Shadow updates by protocol and outcome");
    return e ? e
             : fy_buf_printf(
                   b,
                   "fleetyard_shadow_updates_total{protocol=\"mqtt\",outcome=\"accepted\"} %llu\n"
                   "fleetyard_shadow_updates_total{protocol=\"mqtt\",outcome=\"rejected\"} %llu\n"
                   "fleetyard_shadow_updates_total{protocol=\"http\",outcome=\"accepted\"} %llu\n"
                   "fleetyard_shadow_updates_total{protocol=\"http\",outcome=\"rejected\"} %llu\n",
                   (unsigned long long)v[FY_BSTAT_SHADOW_UPDATE_OK],
                   (unsigned long long)v[FY_BSTAT_SHADOW_UPDATE_REJECTED],
                   (unsigned long long)api_stats_count(rs, "UpdateThingShadow", true),
                   (unsigned long long)api_stats_count(rs, "UpdateThingShadow", false));
}

/* Size of the database file and its WAL (page_count * page_size; the WAL file's size). */
static fy_err db_out(struct api_req *req, const struct broker_stats *bs, struct fy_buf *b)
{
    char wal[sizeof(req->srv->db_path) + 8];
    struct stat sb;
    int64_t main_bytes = 0, wal_bytes = 0;
    sqlite3_stmt *st = fy_db_stmt(req->db, SQL_DB_BYTES, &req->em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    if (sqlite3_step(st) == SQLITE_ROW) {
        main_bytes = sqlite3_column_int64(st, 0);
    }
    fy_stmt_done(st);
    snprintf(wal, sizeof(wal), "%s-wal", req->srv->db_path);
    if (stat(wal, &sb) == 0) {
        wal_bytes = (int64_t)sb.st_size;
    }
    fy_err e = head(b, "fleetyard_database_bytes", "gauge",
                    "Size of the SQLite database: pages in use plus the write-ahead log");
    e = e ? e
          : fy_buf_printf(b, "fleetyard_database_bytes %lld\n",
                          (long long)(main_bytes + wal_bytes));
    e = e ? e
          : head(b, "fleetyard_database_wal_bytes", "gauge", "Size of the write-ahead log file");
    e = e ? e : fy_buf_printf(b, "fleetyard_database_wal_bytes %lld\n", (long long)wal_bytes);
    e = e ? e
          : head(b, "fleetyard_db_commit_duration_seconds", "histogram",
                 "Write transaction latency, BEGIN IMMEDIATE to the end of COMMIT, by process");
    struct fy_hist_snap snap = {{0}, 0};
    fy_hist_snapshot(&fy_db_commit_hist, &snap);
    e = e ? e
          : fy_hist_prometheus(b, "fleetyard_db_commit_duration_seconds", "process=\"server\"",
                               &snap);
    uint64_t run = 0;
    for (int i = 0; i < FY_HIST_SLOTS; i++) {
        run += bs->slot[i];
        snap.cum[i] = run;
    }
    snap.sum_ns = bs->sum_ns;
    return e ? e
             : fy_hist_prometheus(b, "fleetyard_db_commit_duration_seconds", "process=\"broker\"",
                                  &snap);
}

static fy_err h_metrics(struct api_req *req)
{
    struct fy_buf b;
    struct broker_stats bs;
    memset(&bs, 0, sizeof(bs));
    fy_buf_init(&b, METRICS_MAX);
    fy_err e = api_stats_prometheus(req->srv->stats, &b);
    if (e) {
        e = fy_fail(&req->em, e, "metrics output too large");
    }
    e = e ? e : broker_stats_read(req, &bs);
    e = e ? e : mqtt_out(req, &bs, &b);
    e = e ? e : db_out(req, &bs, &b);
    for (size_t i = 0; !e && i < sizeof(families) / sizeof(families[0]); i++) {
        e = family_out(req, &families[i], &b);
    }
    char *fleet = NULL;
    size_t fleet_len = 0;
    if (!e) {
        e = fy_metric_prometheus(req->db, &fleet, &fleet_len, &req->em);
    }
    if (!e && fy_buf_append(&b, fleet, fleet_len)) {
        e = fy_fail(&req->em, FY_ERR_NOMEM, "metrics output too large");
    }
    fy_free(fleet);
    if (e) {
        fy_buf_free(&b);
        return e;
    }
    api_reply_raw(req, b.data, b.len, "text/plain; version=0.0.4");
    return FY_ERR_OK;
}

bool api_metrics_public(const char *method, const char *path)
{
    return strcmp(method, "GET") == 0 &&
           (strcmp(path, "/metrics") == 0 || strcmp(path, "/fleetyard/metrics") == 0);
}

const struct api_route api_routes_metrics[] = {
    {FY_SVC_IOT, "GET", "/metrics", h_metrics, "GetMetrics"},
    {FY_SVC_IOT, "GET", "/fleetyard/metrics", h_metrics, "GetMetrics"},
    {0, NULL, NULL, NULL, NULL},
};
