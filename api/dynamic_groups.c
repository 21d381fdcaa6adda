/* Dynamic thing groups: CreateDynamicThingGroup, UpdateDynamicThingGroup,
 * DeleteDynamicThingGroup. Describe/List/membership listings are the thing-group routes. */
#include <string.h>

#include "api/api.h"
#include "api/routes.h"
#include "core/log.h"
#include "core/names.h"
#include "index/index.h"

static fy_err bad_body(struct api_req *req, const json_error_t *err)
{
    return fy_fail(&req->em, FY_ERR_INVALID_REQUEST, "Invalid request body: %.200s", err->text);
}

/* thingGroupProperties {thingGroupDescription, attributePayload{attributes, merge}} into g. */
static fy_err read_props(struct api_req *req, json_t *j, struct fy_dyn_group *g)
{
    json_error_t err;
    json_t *ap = NULL, *attrs = NULL;
    int merge = 0;
    if (!j) {
        return FY_ERR_OK;
    }
    if (json_unpack_ex(j, &err, 0, "{s?s, s?o !}", "thingGroupDescription", &g->description,
                       "attributePayload", &ap) != 0 ||
        (ap &&
         json_unpack_ex(ap, &err, 0, "{s?o, s?b !}", "attributes", &attrs, "merge", &merge) != 0)) {
        return bad_body(req, &err);
    }
    g->attributes = attrs;
    g->merge = merge != 0;
    return FY_ERR_OK;
}

static fy_err check_version(struct api_req *req, const char *v)
{
    if (v && strcmp(v, FY_INDEX_QUERY_VERSION) != 0) {
        return fy_fail(&req->em, FY_ERR_INVALID_REQUEST, "Unsupported query version %.32s", v);
    }
    return FY_ERR_OK;
}

static fy_err h_create(struct api_req *req)
{
    struct fy_dyn_group g = {0};
    json_t *body, *props = NULL, *tags = NULL;
    json_error_t err;
    char arn[FY_ARN_MAX + 1], id[40];
    fy_err e = api_require_param(req, "thingGroupName", fy_valid_thing_name, &g.name);
    e = e ? e : api_body(req, &body);
    if (!e && json_unpack_ex(body, &err, 0, "{s?o, s?s, s:s, s?s, s?o !}", "thingGroupProperties",
                             &props, "indexName", &g.index_name, "queryString", &g.query,
                             "queryVersion", &g.query_version, "tags", &tags) != 0) {
        e = bad_body(req, &err);
    }
    e = e ? e : read_props(req, props, &g);
    e = e ? e : check_version(req, g.query_version);
    if (e) {
        return e;
    }
    fy_arn_fmt(arn, sizeof(arn), req->site, "thinggroup", g.name);
    g.tags = tags;
    g.arn = arn;
    e = fy_index_dyn_create(req->db, &g, id, &req->em);
    if (e) {
        return e;
    }
    fy_audit(req->caller, "CreateDynamicThingGroup", arn);
    return api_reply(req, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "thingGroupName", g.name,
                                    "thingGroupArn", arn, "thingGroupId", id, "indexName",
                                    FY_INDEX_THINGS, "queryString", g.query, "queryVersion",
                                    g.query_version ? g.query_version : FY_INDEX_QUERY_VERSION));
}

static fy_err h_update(struct api_req *req)
{
    struct fy_dyn_group g = {0};
    json_t *body, *props = NULL;
    json_error_t err;
    json_int_t expected = -1;
    int64_t version = 0;
    fy_err e = api_require_param(req, "thingGroupName", fy_valid_thing_name, &g.name);
    e = e ? e : api_body(req, &body);
    if (!e && json_unpack_ex(body, &err, 0, "{s:o, s?I, s?s, s?s, s?s !}", "thingGroupProperties",
                             &props, "expectedVersion", &expected, "indexName", &g.index_name,
                             "queryString", &g.query, "queryVersion", &g.query_version) != 0) {
        e = bad_body(req, &err);
    }
    e = e ? e : read_props(req, props, &g);
    e = e ? e : check_version(req, g.query_version);
    e = e ? e : fy_index_dyn_update(req->db, &g, expected, &version, &req->em);
    if (e) {
        return e;
    }
    fy_audit(req->caller, "UpdateDynamicThingGroup", g.name);
    return api_reply(req, json_pack("{s:I}", "version", (json_int_t)version));
}

static fy_err h_delete(struct api_req *req)
{
    const char *name;
    int64_t expected;
    fy_err e = api_require_param(req, "thingGroupName", fy_valid_thing_name, &name);
    e = e ? e : api_query_int(req, "expectedVersion", 0, INT64_MAX, -1, &expected);
    e = e ? e : fy_index_dyn_delete(req->db, name, expected, &req->em);
    if (!e) {
        fy_audit(req->caller, "DeleteDynamicThingGroup", name);
    }
    return e;
}

const struct api_route api_routes_dynamic_groups[] = {
    {FY_SVC_IOT, "POST", "/dynamic-thing-groups/{thingGroupName}", h_create,
     "CreateDynamicThingGroup"},
    {FY_SVC_IOT, "PATCH", "/dynamic-thing-groups/{thingGroupName}", h_update,
     "UpdateDynamicThingGroup"},
    {FY_SVC_IOT, "DELETE", "/dynamic-thing-groups/{thingGroupName}", h_delete,
     "DeleteDynamicThingGroup"},
    {0, NULL, NULL, NULL, NULL},
};
