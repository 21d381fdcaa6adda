/* Fleet metrics in the Prometheus text exposition format (version 0.0.4): the latest value of
 * each fleet metric's statistics, one gauge sample per (metric, stat), so a plant's existing
 * Prometheus and Grafana can chart them. */
#include <math.h>
#include <string.h>

#include "core/buf.h"
#include "index/index_int.h"

#define EXPORT_MAX (16 * 1024 * 1024)

static const char SQL_LATEST[] =
    "SELECT m.name, d.stat, d.value, d.ts FROM fleet_metrics m JOIN fleet_metric_datapoints d "
    "ON d.metric = m.id WHERE d.ts = (SELECT max(x.ts) FROM fleet_metric_datapoints x "
    "WHERE x.metric = m.id) ORDER BY m.name, d.stat";

static const char HEADER[] =
    "# HELP fleetyard_fleet_metric Latest value of each fleet metric (AWS IoT fleet metrics), by "
    "metric name and statistic.\n"
    "# TYPE fleetyard_fleet_metric gauge\n";

/* A label value: metric names and stats are [A-Za-z0-9_.-] already; escape anyway. */
static fy_err put_label(struct fy_buf *b, const char *s)
{
    fy_err e = FY_ERR_OK;
    for (; !e && *s; s++) {
        e = (*s == '\\' || *s == '"') ? fy_buf_printf(b, "\\%c", *s)
            : *s == '\n'              ? fy_buf_printf(b, "\\n")
                                      : fy_buf_append(b, s, 1);
    }
    return e;
}

static fy_err put_sample(struct fy_buf *b, sqlite3_stmt *st)
{
    double v = sqlite3_column_double(st, 2);
    fy_err e = fy_buf_printf(b, "fleetyard_fleet_metric{metric=\"");
    e = e ? e : put_label(b, fy_col_text(st, 0));
    e = e ? e : fy_buf_printf(b, "\",stat=\"");
    e = e ? e : put_label(b, fy_col_text(st, 1));
    if (sqlite3_column_type(st, 2) == SQLITE_NULL || !isfinite(v)) {
        e = e ? e : fy_buf_printf(b, "\"} NaN");
    } else {
        e = e ? e : fy_buf_printf(b, "\"} %.17g", v);
    }
    return e ? e : fy_buf_printf(b, " %lld\n", (long long)(sqlite3_column_double(st, 3) * 1000));
}

fy_err fy_metric_prometheus(struct fy_db *db, char **out, size_t *len, struct fy_errmsg *em)
{
    struct fy_buf b;
    sqlite3_stmt *st = fy_db_stmt(db, SQL_LATEST, em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    fy_buf_init(&b, EXPORT_MAX);
    fy_err e = fy_buf_append(&b, HEADER, strlen(HEADER));
    int rc = SQLITE_DONE;
    while (!e && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        e = put_sample(&b, st);
    }
    fy_stmt_done(st);
    if (!e && rc != SQLITE_DONE) {
        e = fy_db_err(db, rc, em);
    } else if (e) {
        e = fy_fail(em, e, "Fleet metrics export too large or out of memory");
    }
    if (e) {
        fy_buf_free(&b);
        return e;
    }
    *out = b.data;
    *len = b.len;
    return FY_ERR_OK;
}
