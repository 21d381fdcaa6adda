/* fleetyard index internals: fleet metric rows (metrics.c, metrics_eval.c). */
#ifndef FY_INDEX_METRICS_INT_H
#define FY_INDEX_METRICS_INT_H

#include <stdint.h>

#include <jansson.h>

#include "core/db.h"
#include "core/err.h"
#include "index/index.h"

#define FY_METRIC_PERIOD_MIN      60
#define FY_METRIC_PERIOD_MAX      86400
#define FY_METRIC_KEEP_SECONDS    (7 * 86400) /* datapoints older than this are dropped */
#define FY_METRIC_TICK_MAX        100         /* metrics evaluated per tick at most */
#define FY_METRIC_DESCRIPTION_MAX 1024        /* FleetMetricDescription */

/* A stored fleet metric; strings and agg are owned (fy_metric_row_clear). */
struct fy_metric_row {
    int64_t id, period, version;
    double creation, modified;
    char *name, *query, *field, *description, *query_version, *index_name, *unit;
    json_t *agg;
};

/* Loads metric name; NOT_FOUND when missing. */
FY_NODISCARD fy_err fy_metric_load(struct fy_db *db,
                                   const char *name,
                                   struct fy_metric_row *r,
                                   struct fy_errmsg *em);
void fy_metric_row_clear(struct fy_metric_row *r);

/* Fills the members of m that an update did not give from the stored row (borrowed from r). */
void fy_metric_merge(struct fy_fleet_metric *m, const struct fy_metric_row *r);

#endif
