/* Fleet metric rows and evaluation: fy_metric_tick runs each metric whose period has elapsed
 * and stores its values in fleet_metric_datapoints; fy_metric_datapoints reads them back. */
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/json.h"
#include "core/log.h"
#include "index/index_int.h"
#include "index/metrics_int.h"
#include "index/query.h"

static const char SQL_LOAD[] =
    "SELECT id, name, query_string, aggregation_type, period, aggregation_field, description, "
    "query_version, index_name, unit, version, creation_date, last_modified FROM fleet_metrics "
    "WHERE name = ?";
static const char SQL_DUE[] =
    "SELECT name FROM fleet_metrics WHERE next_run <= ? ORDER BY next_run LIMIT ?";
static const char SQL_POINT[] =
    "INSERT OR REPLACE INTO fleet_metric_datapoints(metric, ts, stat, value) VALUES (?, ?, ?, ?)";
static const char SQL_NEXT[] = "UPDATE fleet_metrics SET next_run = ? WHERE id = ?";
static const char SQL_PRUNE[] = "DELETE FROM fleet_metric_datapoints WHERE metric = ? AND ts < ?";
static const char SQL_POINTS[] =
    "SELECT ts, stat, value FROM fleet_metric_datapoints WHERE metric = ? "
    "ORDER BY ts DESC, stat LIMIT ?";

static char *col_dup(sqlite3_stmt *st, int col, bool *ok)
{
    if (sqlite3_column_type(st, col) == SQLITE_NULL) {
        return NULL;
    }
    char *s = fy_strdup(fy_col_text(st, col));
    *ok = *ok && s != NULL;
    return s;
}

void fy_metric_row_clear(struct fy_metric_row *r)
{
    fy_free(r->name);
    fy_free(r->query);
    fy_free(r->field);
    fy_free(r->description);
    fy_free(r->query_version);
    fy_free(r->index_name);
    fy_free(r->unit);
    json_decref(r->agg);
    memset(r, 0, sizeof(*r));
}

static void read_row(sqlite3_stmt *st, struct fy_metric_row *r, bool *ok)
{
    r->id = sqlite3_column_int64(st, 0);
    r->name = col_dup(st, 1, ok);
    r->query = col_dup(st, 2, ok);
    r->agg = fy_json_loads(fy_col_text(st, 3), 0);
    r->period = sqlite3_column_int64(st, 4);
    r->field = col_dup(st, 5, ok);
    r->description = col_dup(st, 6, ok);
    r->query_version = col_dup(st, 7, ok);
    r->index_name = col_dup(st, 8, ok);
    r->unit = col_dup(st, 9, ok);
    r->version = sqlite3_column_int64(st, 10);
    r->creation = sqlite3_column_double(st, 11);
    r->modified = sqlite3_column_double(st, 12);
    *ok = *ok && r->agg != NULL;
}

fy_err
fy_metric_load(struct fy_db *db, const char *name, struct fy_metric_row *r, struct fy_errmsg *em)
{
    sqlite3_stmt *st = fy_db_stmt(db, SQL_LOAD, em);
    memset(r, 0, sizeof(*r));
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    fy_bind_text(st, 1, name);
    int rc = sqlite3_step(st);
    bool ok = true;
    if (rc == SQLITE_ROW) {
        read_row(st, r, &ok);
    }
    fy_stmt_done(st);
    if (rc == SQLITE_DONE) {
        return fy_fail(em, FY_ERR_NOT_FOUND, "Fleet metric %.128s does not exist", name);
    }
    if (rc != SQLITE_ROW || !ok) {
        fy_metric_row_clear(r);
        return rc != SQLITE_ROW ? fy_db_err(db, rc, em)
                                : fy_fail(em, FY_ERR_NOMEM, "Out of memory");
    }
    return FY_ERR_OK;
}

void fy_metric_merge(struct fy_fleet_metric *m, const struct fy_metric_row *r)
{
    m->query = m->query ? m->query : r->query;
    m->aggregation_type = m->aggregation_type ? m->aggregation_type : r->agg;
    m->period = m->period ? m->period : r->period;
    m->field = m->field ? m->field : r->field;
    m->description = m->description ? m->description : r->description;
    m->query_version = m->query_version ? m->query_version : r->query_version;
    m->index_name = m->index_name ? m->index_name : r->index_name;
    m->unit = m->unit ? m->unit : r->unit;
}

static fy_err put_point(struct fy_db *db,
                        const struct fy_metric_row *r,
                        double ts,
                        const char *stat,
                        const json_t *v,
                        struct fy_errmsg *em)
{
    sqlite3_stmt *st = fy_db_stmt(db, SQL_POINT, em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    sqlite3_bind_int64(st, 1, r->id);
    sqlite3_bind_double(st, 2, ts);
    fy_bind_text(st, 3, stat);
    if (json_is_number(v)) {
        sqlite3_bind_double(st, 4, json_number_value(v));
    }
    int rc = sqlite3_step(st);
    fy_stmt_done(st);
    return rc == SQLITE_DONE ? FY_ERR_OK : fy_db_err(db, rc, em);
}

/* Runs the metric's aggregation; *out gets the answer ({statistics}, {percentiles},
 * {cardinality}). */
static fy_err
evaluate(struct fy_db *db, const struct fy_metric_row *r, json_t **out, struct fy_errmsg *em)
{
    const char *name = json_string_value(json_object_get(r->agg, "name"));
    json_t *values = json_object_get(r->agg, "values");
    double pc[100];
    size_t npc = 0, i;
    json_t *v;
    json_array_foreach (values, i, v) {
        if (npc < 100 && fy_qnumber(json_string_value(v) ? json_string_value(v) : "", &pc[npc])) {
            npc++;
        }
    }
    struct fy_agg_request req = {FY_AGG_STATISTICS, r->index_name, r->query, r->field, pc, npc, 0};
    if (name && strcmp(name, "Percentiles") == 0) {
        req.kind = FY_AGG_PERCENTILES;
    } else if (name && strcmp(name, "Cardinality") == 0) {
        req.kind = FY_AGG_CARDINALITY;
    }
    return fy_index_aggregate(db, &req, out, em);
}

/* Stores the values the metric selects from an aggregation answer. */
static fy_err store(struct fy_db *db,
                    const struct fy_metric_row *r,
                    const json_t *ans,
                    double ts,
                    struct fy_errmsg *em)
{
    json_t *values = json_object_get(r->agg, "values"), *v;
    json_t *stats = json_object_get(ans, "statistics");
    size_t i;
    fy_err e = FY_ERR_OK;
    if (json_object_get(ans, "cardinality")) {
        return put_point(db, r, ts, "cardinality", json_object_get(ans, "cardinality"), em);
    }
    if (stats) {
        json_array_foreach (values, i, v) {
            e = e ? e
                  : put_point(db, r, ts, json_string_value(v),
                              json_object_get(stats, json_string_value(v)), em);
        }
        return json_array_size(values) || e
                   ? e
                   : put_point(db, r, ts, "count", json_object_get(stats, "count"), em);
    }
    json_array_foreach (json_object_get(ans, "percentiles"), i, v) {
        char stat[64];
        snprintf(stat, sizeof(stat), "p%g", json_number_value(json_object_get(v, "percent")));
        e = e ? e : put_point(db, r, ts, stat, json_object_get(v, "value"), em);
    }
    return e;
}

struct eval_args {
    const struct fy_metric_row *r;
    const json_t *ans;
    double now;
};

static fy_err record_locked(struct fy_db *db, void *arg, struct fy_errmsg *em)
{
    struct eval_args *a = arg;
    fy_err e = a->ans ? store(db, a->r, a->ans, a->now, em) : FY_ERR_OK;
    sqlite3_stmt *st = e ? NULL : fy_db_stmt(db, SQL_NEXT, em);
    if (!st) {
        return e ? e : FY_ERR_INTERNAL;
    }
    sqlite3_bind_double(st, 1, a->now + (double)a->r->period);
    sqlite3_bind_int64(st, 2, a->r->id);
    int rc = sqlite3_step(st);
    fy_stmt_done(st);
    st = rc == SQLITE_DONE ? fy_db_stmt(db, SQL_PRUNE, em) : NULL;
    if (!st) {
        return rc == SQLITE_DONE ? FY_ERR_INTERNAL : fy_db_err(db, rc, em);
    }
    sqlite3_bind_int64(st, 1, a->r->id);
    sqlite3_bind_double(st, 2, a->now - FY_METRIC_KEEP_SECONDS);
    rc = sqlite3_step(st);
    fy_stmt_done(st);
    return rc == SQLITE_DONE ? FY_ERR_OK : fy_db_err(db, rc, em);
}

/* Evaluates one due metric and records its datapoints and next run. A metric whose query no
 * longer runs (index turned off) records nothing but still moves to its next period. */
static fy_err run_metric(struct fy_db *db, const char *name, double now, struct fy_errmsg *em)
{
    struct fy_metric_row r;
    json_t *ans = NULL;
    struct fy_errmsg qem;
    fy_err e = fy_metric_load(db, name, &r, em);
    if (e) {
        return e == FY_ERR_NOT_FOUND ? FY_ERR_OK : e;
    }
    if (evaluate(db, &r, &ans, &qem) != FY_ERR_OK) {
        fy_log(FY_LOG_WARN, "index", "fleet metric %.128s: %s", name, qem.msg);
    }
    struct eval_args a = {&r, ans, now};
    e = fy_db_run_tx(db, record_locked, &a, em);
    json_decref(ans);
    fy_metric_row_clear(&r);
    return e;
}

fy_err fy_metric_tick(struct fy_db *db, double now, int *evaluated, struct fy_errmsg *em)
{
    sqlite3_stmt *st = fy_db_stmt(db, SQL_DUE, em);
    json_t *due = json_array();
    int rc = SQLITE_DONE, n = 0;
    if (!st || !due) {
        json_decref(due);
        return st ? fy_fail(em, FY_ERR_NOMEM, "Out of memory") : FY_ERR_INTERNAL;
    }
    sqlite3_bind_double(st, 1, now);
    sqlite3_bind_int(st, 2, FY_METRIC_TICK_MAX);
    fy_err e = FY_ERR_OK;
    while (!e && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (json_array_append_new(due, json_string(fy_col_text(st, 0))) != 0) {
            e = fy_fail(em, FY_ERR_NOMEM, "Out of memory");
        }
    }
    fy_stmt_done(st);
    if (!e && rc != SQLITE_DONE) {
        e = fy_db_err(db, rc, em);
    }
    size_t i;
    json_t *v;
    json_array_foreach (due, i, v) {
        e = e ? e : run_metric(db, json_string_value(v), now, em);
        n += e ? 0 : 1;
    }
    json_decref(due);
    if (evaluated) {
        *evaluated = n;
    }
    return e;
}

fy_err fy_metric_datapoints(
    struct fy_db *db, const char *name, int64_t limit, json_t **out, struct fy_errmsg *em)
{
    struct fy_metric_row r;
    fy_err e = fy_metric_load(db, name, &r, em);
    sqlite3_stmt *st = e ? NULL : fy_db_stmt(db, SQL_POINTS, em);
    json_t *list = json_array();
    if (st && list) {
        sqlite3_bind_int64(st, 1, r.id);
        sqlite3_bind_int64(st, 2, limit);
        int rc = SQLITE_DONE;
        while (!e && (rc = sqlite3_step(st)) == SQLITE_ROW) {
            json_t *val = sqlite3_column_type(st, 2) == SQLITE_NULL
                              ? json_null()
                              : json_real(sqlite3_column_double(st, 2));
            if (json_array_append_new(list, json_pack("{s:f, s:s, s:o}", "timestamp",
                                                      sqlite3_column_double(st, 0), "stat",
                                                      fy_col_text(st, 1), "value", val)) != 0) {
                e = fy_fail(em, FY_ERR_NOMEM, "Out of memory");
            }
        }
        fy_stmt_done(st);
        if (!e && rc != SQLITE_DONE) {
            e = fy_db_err(db, rc, em);
        }
    } else if (!e) {
        e = st ? fy_fail(em, FY_ERR_NOMEM, "Out of memory") : FY_ERR_INTERNAL;
    }
    fy_metric_row_clear(&r);
    *out = e ? NULL : json_pack("{s:o}", "datapoints", list);
    if (e) {
        json_decref(list);
    }
    return e;
}
