/* Fleet metrics: CreateFleetMetric, DescribeFleetMetric, UpdateFleetMetric, DeleteFleetMetric,
 * ListFleetMetrics, and two fleetyard extensions: GET /fleet-metric/{metricName}/datapoints (the
 * values the scheduler stored, newest first) and GET /metrics (the latest values in the
 * Prometheus text format). */
#include <string.h>

#include "api/api.h"
#include "api/routes.h"
#include "core/alloc.h"
#include "core/log.h"
#include "core/names.h"
#include "index/index.h"

#define METRIC_PAGE_DEFAULT 50
#define POINTS_DEFAULT      100
#define POINTS_MAX          10000

static fy_err bad_body(struct api_req *req, const json_error_t *err)
{
    return fy_fail(&req->em, FY_ERR_INVALID_REQUEST, "Invalid request body: %.200s", err->text);
}

static void metric_arn(const struct api_req *req, const char *name, char *arn, size_t n)
{
    fy_arn_fmt(arn, n, req->site, "fleetmetric", name);
}

/* The body members shared by create and update into m. */
static fy_err
read_metric(struct api_req *req, bool create, struct fy_fleet_metric *m, json_int_t *expected)
{
    json_t *body;
    json_error_t err;
    json_int_t period = 0;
    fy_err e = api_require_param(req, "metricName", fy_valid_fleet_metric_name, &m->name);
    e = e ? e : api_body(req, &body);
    const char *fmt = create ? "{s:s, s:o, s:I, s:s, s?s, s?s, s?s, s?s, s?o !}"
                             : "{s?s, s?o, s?I, s?s, s?s, s?s, s?s, s?s, s?I !}";
    void *last = create ? (void *)&m->tags : (void *)expected;
    if (!e && json_unpack_ex(body, &err, 0, fmt, "queryString", &m->query, "aggregationType",
                             &m->aggregation_type, "period", &period, "aggregationField", &m->field,
                             "description", &m->description, "queryVersion", &m->query_version,
                             "indexName", &m->index_name, "unit", &m->unit,
                             create ? "tags" : "expectedVersion", last) != 0) {
        e = bad_body(req, &err);
    }
    m->period = period;
    if (!e && !create && period == 0 && json_object_get(body, "period")) {
        e = fy_fail(&req->em, FY_ERR_INVALID_REQUEST, "period must be between 60 and 86400");
    }
    return e;
}

static fy_err h_create(struct api_req *req)
{
    struct fy_fleet_metric m = {0};
    char arn[FY_ARN_MAX + 1];
    fy_err e = read_metric(req, true, &m, NULL);
    if (e) {
        return e;
    }
    metric_arn(req, m.name, arn, sizeof(arn));
    m.arn = arn;
    e = fy_metric_create(req->db, &m, &req->em);
    if (e) {
        return e;
    }
    fy_audit(req->caller, "CreateFleetMetric", arn);
    return api_reply(req, json_pack("{s:s, s:s}", "metricName", m.name, "metricArn", arn));
}

static fy_err h_describe(struct api_req *req)
{
    const char *name;
    json_t *j = NULL;
    char arn[FY_ARN_MAX + 1];
    fy_err e = api_require_param(req, "metricName", fy_valid_fleet_metric_name, &name);
    e = e ? e : fy_metric_describe(req->db, name, &j, &req->em);
    if (e) {
        return e;
    }
    metric_arn(req, name, arn, sizeof(arn));
    if (json_object_set_new(j, "metricArn", json_string(arn)) != 0) {
        json_decref(j); /* api_reply answers Out of memory */
        j = NULL;
    }
    return api_reply(req, j);
}

static fy_err h_update(struct api_req *req)
{
    struct fy_fleet_metric m = {0};
    json_int_t expected = -1;
    fy_err e = read_metric(req, false, &m, &expected);
    e = e ? e : fy_metric_update(req->db, &m, expected, &req->em);
    if (!e) {
        fy_audit(req->caller, "UpdateFleetMetric", m.name);
    }
    return e;
}

static fy_err h_delete(struct api_req *req)
{
    const char *name;
    int64_t expected;
    fy_err e = api_require_param(req, "metricName", fy_valid_fleet_metric_name, &name);
    e = e ? e : api_query_int(req, "expectedVersion", 0, INT64_MAX, -1, &expected);
    e = e ? e : fy_metric_delete(req->db, name, expected, &req->em);
    if (!e) {
        fy_audit(req->caller, "DeleteFleetMetric", name);
    }
    return e;
}

static fy_err h_list(struct api_req *req)
{
    char *after = NULL;
    int64_t limit;
    bool more = false;
    json_t *names = json_array(), *items = json_array(), *v;
    size_t i;
    fy_err e = api_page_in(req, "nextToken", "maxResults", METRIC_PAGE_DEFAULT,
                           API_PAGE_MAX_DEFAULT, &after, &limit);
    e = e ? e : fy_metric_list(req->db, after, limit, names, &more, &req->em);
    fy_free(after);
    json_array_foreach (names, i, v) {
        char arn[FY_ARN_MAX + 1];
        metric_arn(req, json_string_value(v), arn, sizeof(arn));
        if (!e && json_array_append_new(
                      items, json_pack("{s:O, s:s}", "metricName", v, "metricArn", arn)) != 0) {
            e = FY_ERR_NOMEM;
        }
    }
    json_t *j = e ? NULL : json_pack("{s:O}", "fleetMetrics", items);
    const char *last = json_string_value(json_array_get(names, json_array_size(names) - 1));
    e = e ? e : (j ? api_page_out(req, j, "nextToken", more ? last : NULL) : FY_ERR_NOMEM);
    json_decref(names);
    json_decref(items);
    if (e) {
        json_decref(j);
        return e == FY_ERR_NOMEM ? fy_fail(&req->em, e, "Out of memory") : e;
    }
    return api_reply(req, j);
}

static fy_err h_datapoints(struct api_req *req)
{
    const char *name;
    int64_t limit;
    json_t *j = NULL;
    fy_err e = api_require_param(req, "metricName", fy_valid_fleet_metric_name, &name);
    e = e ? e : api_query_int(req, "maxResults", 1, POINTS_MAX, POINTS_DEFAULT, &limit);
    e = e ? e : fy_metric_datapoints(req->db, name, limit, &j, &req->em);
    return e ? e : api_reply(req, j);
}

const struct api_route api_routes_fleet_metrics[] = {
    {FY_SVC_IOT, "GET", "/fleet-metrics", h_list, "ListFleetMetrics"},
    {FY_SVC_IOT, "PUT", "/fleet-metric/{metricName}", h_create, "CreateFleetMetric"},
    {FY_SVC_IOT, "GET", "/fleet-metric/{metricName}", h_describe, "DescribeFleetMetric"},
    {FY_SVC_IOT, "PATCH", "/fleet-metric/{metricName}", h_update, "UpdateFleetMetric"},
    {FY_SVC_IOT, "DELETE", "/fleet-metric/{metricName}", h_delete, "DeleteFleetMetric"},
    {FY_SVC_IOT, "GET", "/fleet-metric/{metricName}/datapoints", h_datapoints,
     "GetFleetMetricDatapoints"},
    {0, NULL, NULL, NULL, NULL},
};
