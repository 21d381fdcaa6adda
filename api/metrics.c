/* GET /metrics (and its older name /fleetyard/metrics): operational gauges and the latest
 * fleet metric values (index/) in the Prometheus text format, read from the database at scrape
 * time, unsigned like the health endpoints: Prometheus scrapers do not sign. */
#include <string.h>

#include "api/api.h"
#include "api/routes.h"
#include "core/alloc.h"
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

static const struct family families[] = {
    {"fleetyard_connected_devices", "MQTT clients connected now", NULL, SQL_CONNECTED},
    {"fleetyard_jobs", "Jobs by status", "status", SQL_JOBS},
    {"fleetyard_job_executions", "Job executions by status", "status", SQL_EXECS},
    {"fleetyard_log_events", "Stored log events by log group", "log_group", SQL_LOG_EVENTS},
    {"fleetyard_authorization_denials_logged",
     "Authorization failures recorded in AWSIotLogsV2 (as the logging levels allow)", "event",
     SQL_DENIALS},
    {"fleetyard_changes", "Audited control-plane requests by HTTP status", "status", SQL_AUDIT},
    {"fleetyard_database_bytes", "Size of the SQLite database file", NULL, SQL_DB_BYTES},
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

static fy_err h_metrics(struct api_req *req)
{
    struct fy_buf b;
    fy_buf_init(&b, METRICS_MAX);
    fy_err e = FY_ERR_OK;
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
