/* Fleet metrics: CreateFleetMetric, DescribeFleetMetric, UpdateFleetMetric, DeleteFleetMetric,
 * ListFleetMetrics (rows in fleet_metrics). Evaluation is in metrics_eval.c. */
#include <string.h>

#include "core/alloc.h"
#include "core/fytime.h"
#include "core/json.h"
#include "core/names.h"
#include "index/index_int.h"
#include "index/metrics_int.h"
#include "index/query.h"
#include "registry/groups.h"

static const char SQL_INSERT[] =
    "INSERT INTO fleet_metrics(name, query_string, aggregation_type, period, aggregation_field, "
    "description, query_version, index_name, unit, creation_date, last_modified, next_run) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
static const char SQL_UPDATE[] =
    "UPDATE fleet_metrics SET query_string = ?, aggregation_type = ?, period = ?, "
    "aggregation_field = ?, description = ?, query_version = ?, index_name = ?, unit = ?, "
    "version = version + 1, last_modified = ?, next_run = MIN(next_run, ? + ?) "
    "WHERE name = ? AND version = ?";
static const char SQL_DELETE[] = "DELETE FROM fleet_metrics WHERE name = ?";
static const char SQL_LIST[] =
    "SELECT name FROM fleet_metrics WHERE name > ? ORDER BY name LIMIT ?";

static const char *const stat_names[] = {"count",   "average",      "sum",      "minimum",
                                         "maximum", "sumOfSquares", "variance", "stdDeviation"};

static const char *const units[] = {"Seconds",
                                    "Microseconds",
                                    "Milliseconds",
                                    "Bytes",
                                    "Kilobytes",
                                    "Megabytes",
                                    "Gigabytes",
                                    "Terabytes",
                                    "Bits",
                                    "Kilobits",
                                    "Megabits",
                                    "Gigabits",
                                    "Terabits",
                                    "Percent",
                                    "Count",
                                    "Bytes/Second",
                                    "Kilobytes/Second",
                                    "Megabytes/Second",
                                    "Gigabytes/Second",
                                    "Terabytes/Second",
                                    "Bits/Second",
                                    "Kilobits/Second",
                                    "Megabits/Second",
                                    "Gigabits/Second",
                                    "Terabits/Second",
                                    "Count/Second",
                                    "None"};

/* unit: NULL or one of the CloudWatch units; description: at most 1024 printable characters. */
static fy_err check_text(const struct fy_fleet_metric *m, struct fy_errmsg *em)
{
    bool unit_ok = m->unit == NULL;
    for (size_t i = 0; !unit_ok && i < sizeof(units) / sizeof(units[0]); i++) {
        unit_ok = strcmp(units[i], m->unit) == 0;
    }
    if (!unit_ok) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST, "Invalid unit %.64s", m->unit);
    }
    if (m->description && (strlen(m->description) > FY_METRIC_DESCRIPTION_MAX ||
                           !fy_valid_description(m->description))) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST,
                       "description must be at most %d printable characters",
                       FY_METRIC_DESCRIPTION_MAX);
    }
    return FY_ERR_OK;
}

static bool is_stat(const char *s)
{
    for (size_t i = 0; s && i < sizeof(stat_names) / sizeof(stat_names[0]); i++) {
        if (strcmp(stat_names[i], s) == 0) {
            return true;
        }
    }
    return false;
}

static bool is_percent(const char *s)
{
    double v;
    return s && fy_qnumber(s, &v) && v >= 0 && v <= 100;
}

/* aggregationType {name, values}: Statistics values are statistic names, Percentiles values are
 * percents, Cardinality takes none. */
static fy_err check_agg_type(const json_t *j, struct fy_errmsg *em)
{
    const char *name = NULL;
    json_t *values = NULL, *v;
    json_error_t err;
    size_t i;
    if (!j ||
        json_unpack_ex((json_t *)j, &err, 0, "{s:s, s?o !}", "name", &name, "values", &values) !=
            0 ||
        (values && !json_is_array(values))) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST, "Invalid aggregationType");
    }
    bool stats = strcmp(name, "Statistics") == 0, pct = strcmp(name, "Percentiles") == 0;
    if (!stats && !pct && strcmp(name, "Cardinality") != 0) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST, "Invalid aggregationType name %.32s", name);
    }
    json_array_foreach (values, i, v) {
        const char *s = json_string_value(v);
        if (!(stats ? is_stat(s) : pct ? is_percent(s) : false)) {
            return fy_fail(em, FY_ERR_INVALID_REQUEST, "Invalid aggregationType value %.64s",
                           s ? s : "null");
        }
    }
    return FY_ERR_OK;
}

/* Validates m (complete: create, or update merged with the stored metric). */
static fy_err check_metric(struct fy_db *db, const struct fy_fleet_metric *m, struct fy_errmsg *em)
{
    enum fy_index_kind kind;
    struct fy_index_config cfg;
    struct fy_index_sql *q = NULL;
    if (m->period < FY_METRIC_PERIOD_MIN || m->period > FY_METRIC_PERIOD_MAX || m->period % 60) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST,
                       "period must be a multiple of 60 between %d and %d", FY_METRIC_PERIOD_MIN,
                       FY_METRIC_PERIOD_MAX);
    }
    if (m->query_version && strcmp(m->query_version, FY_INDEX_QUERY_VERSION) != 0) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST, "Unsupported query version");
    }
    fy_err e = check_text(m, em);
    e = e ? e : check_agg_type(m->aggregation_type, em);
    e = e ? e : fy_index_open(db, m->index_name, &kind, &cfg, em);
    e = e ? e : fy_index_compile(m->query, kind, &cfg, &q, em);
    fy_index_sql_free(q);
    if (!e && (!m->field || !*m->field)) {
        e = fy_fail(em, FY_ERR_INVALID_REQUEST, "aggregationField is required");
    }
    return e;
}

/* Binds the common columns from ?first: query, aggregation type, period, field, description,
 * query version, index name, unit. */
static fy_err bind_common(sqlite3_stmt *st, int first, const struct fy_fleet_metric *m)
{
    char *agg = fy_json_dump(m->aggregation_type);
    if (!agg) {
        return FY_ERR_NOMEM;
    }
    fy_bind_text(st, first, m->query);
    sqlite3_bind_text(st, first + 1, agg, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, first + 2, m->period);
    fy_bind_text(st, first + 3, m->field);
    fy_bind_text(st, first + 4, m->description);
    fy_bind_text(st, first + 5, m->query_version ? m->query_version : FY_INDEX_QUERY_VERSION);
    fy_bind_text(st, first + 6, m->index_name ? m->index_name : FY_INDEX_THINGS);
    fy_bind_text(st, first + 7, m->unit);
    fy_free(agg);
    return FY_ERR_OK;
}

static fy_err create_locked(struct fy_db *db, void *arg, struct fy_errmsg *em)
{
    const struct fy_fleet_metric *m = arg;
    sqlite3_stmt *st = fy_db_stmt(db, SQL_INSERT, em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    double now = fy_now();
    fy_bind_text(st, 1, m->name);
    fy_err e = bind_common(st, 2, m);
    sqlite3_bind_double(st, 10, now);
    sqlite3_bind_double(st, 11, now);
    sqlite3_bind_double(st, 12, now); /* first datapoint on the next tick, then every period */
    int rc = e ? SQLITE_DONE : sqlite3_step(st);
    fy_stmt_done(st);
    if (!e && rc != SQLITE_DONE) {
        e = fy_db_err(db, rc, em);
        if (e == FY_ERR_ALREADY_EXISTS) {
            e = fy_fail(em, e, "Fleet metric %.128s already exists", m->name);
        }
    }
    if (!e && m->tags) {
        e = fy_tags_put_locked(db, m->arn, m->tags, FY_ERR_LIMIT_EXCEEDED, em);
    }
    return e;
}

fy_err fy_metric_create(struct fy_db *db, const struct fy_fleet_metric *m, struct fy_errmsg *em)
{
    fy_err e = check_metric(db, m, em);
    e = e ? e : (m->tags ? fy_tags_check(m->tags, em) : FY_ERR_OK);
    return e ? e : fy_db_run_tx(db, create_locked, (void *)m, em);
}

fy_err fy_metric_describe(struct fy_db *db, const char *name, json_t **out, struct fy_errmsg *em)
{
    struct fy_metric_row r;
    fy_err e = fy_metric_load(db, name, &r, em);
    if (e) {
        return e;
    }
    *out = json_pack("{s:s, s:s, s:O, s:I, s:s, s:s?, s:s, s:s, s:f, s:f, s:s?, s:I}", "metricName",
                     r.name, "queryString", r.query, "aggregationType", r.agg, "period",
                     (json_int_t)r.period, "aggregationField", r.field, "description",
                     r.description, "queryVersion", r.query_version, "indexName", r.index_name,
                     "creationDate", r.creation, "lastModifiedDate", r.modified, "unit", r.unit,
                     "version", (json_int_t)r.version);
    fy_metric_row_clear(&r);
    return *out ? FY_ERR_OK : fy_fail(em, FY_ERR_NOMEM, "Out of memory");
}

struct update_args {
    const struct fy_fleet_metric *m;
    int64_t expected;
};

static fy_err update_locked(struct fy_db *db, void *arg, struct fy_errmsg *em)
{
    struct update_args *a = arg;
    struct fy_metric_row r;
    fy_err e = fy_metric_load(db, a->m->name, &r, em);
    if (!e && a->expected >= 0 && a->expected != r.version) {
        e = fy_fail(em, FY_ERR_VERSION_CONFLICT,
                    "The expected version %lld does not match the current version %lld",
                    (long long)a->expected, (long long)r.version);
    }
    struct fy_fleet_metric m = *a->m;
    if (!e) {
        fy_metric_merge(&m, &r);
        e = check_metric(db, &m, em);
    }
    sqlite3_stmt *st = e ? NULL : fy_db_stmt(db, SQL_UPDATE, em);
    if (st) {
        double now = fy_now();
        e = bind_common(st, 1, &m);
        sqlite3_bind_double(st, 9, now);
        sqlite3_bind_double(st, 10, now);
        sqlite3_bind_int64(st, 11, m.period);
        fy_bind_text(st, 12, m.name);
        sqlite3_bind_int64(st, 13, r.version);
        int rc = e ? SQLITE_DONE : sqlite3_step(st);
        fy_stmt_done(st);
        e = e ? e : (rc == SQLITE_DONE ? FY_ERR_OK : fy_db_err(db, rc, em));
    } else if (!e) {
        e = FY_ERR_INTERNAL;
    }
    fy_metric_row_clear(&r);
    return e;
}

fy_err fy_metric_update(struct fy_db *db,
                        const struct fy_fleet_metric *m,
                        int64_t expected_version,
                        struct fy_errmsg *em)
{
    struct update_args a = {m, expected_version};
    return fy_db_run_tx(db, update_locked, &a, em);
}

static fy_err delete_locked(struct fy_db *db, void *arg, struct fy_errmsg *em)
{
    struct update_args *a = arg;
    struct fy_metric_row r;
    fy_err e = fy_metric_load(db, a->m->name, &r, em);
    if (e) {
        return e == FY_ERR_NOT_FOUND ? FY_ERR_OK : e;
    }
    if (a->expected >= 0 && a->expected != r.version) {
        e = fy_fail(em, FY_ERR_VERSION_CONFLICT,
                    "The expected version %lld does not match the current version %lld",
                    (long long)a->expected, (long long)r.version);
    }
    fy_metric_row_clear(&r);
    return e ? e : fy_db_exec_text(db, SQL_DELETE, a->m->name, em);
}

fy_err
fy_metric_delete(struct fy_db *db, const char *name, int64_t expected_version, struct fy_errmsg *em)
{
    struct fy_fleet_metric m = {.name = name};
    struct update_args a = {&m, expected_version};
    return fy_db_run_tx(db, delete_locked, &a, em);
}

fy_err fy_metric_list(struct fy_db *db,
                      const char *after,
                      int64_t limit,
                      json_t *j_names,
                      bool *more,
                      struct fy_errmsg *em)
{
    sqlite3_stmt *st = fy_db_stmt(db, SQL_LIST, em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    fy_bind_text(st, 1, after ? after : "");
    sqlite3_bind_int64(st, 2, limit + 1);
    int rc;
    int64_t n = 0;
    *more = false;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n++ == limit) {
            *more = true;
            break;
        }
        if (json_array_append_new(j_names, json_string(fy_col_text(st, 0))) != 0) {
            fy_stmt_done(st);
            return fy_fail(em, FY_ERR_NOMEM, "Out of memory");
        }
    }
    fy_stmt_done(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? FY_ERR_OK : fy_db_err(db, rc, em);
}
