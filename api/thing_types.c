/* Thing types: CreateThingType, DescribeThingType, ListThingTypes, DeprecateThingType,
 * DeleteThingType. */
#include <string.h>

#include "api/api.h"
#include "api/routes.h"
#include "core/alloc.h"
#include "core/log.h"
#include "core/names.h"
#include "registry/registry.h"

#define TYPE_PAGE_DEFAULT 50

static fy_err bad_request(struct api_req *req, const json_error_t *err)
{
    return fy_fail(&req->em, FY_ERR_INVALID_REQUEST, "Invalid request body: %.200s", err->text);
}

/* thingTypeProperties {thingTypeDescription, searchableAttributes, mqtt5Configuration}. */
static fy_err parse_props(struct api_req *req, json_t *j, struct fy_thing_type_spec *s)
{
    json_error_t err;
    json_t *srch = NULL, *mqtt5 = NULL;
    if (j &&
        json_unpack_ex(j, &err, 0, "{s?s, s?o, s?o !}", "thingTypeDescription", &s->description,
                       "searchableAttributes", &srch, "mqtt5Configuration", &mqtt5) != 0) {
        return bad_request(req, &err);
    }
    if (mqtt5 && !json_is_object(mqtt5)) {
        return fy_fail(&req->em, FY_ERR_INVALID_REQUEST, "mqtt5Configuration must be an object");
    }
    s->searchable = srch;
    s->mqtt5 = mqtt5;
    return FY_ERR_OK;
}

static fy_err h_create(struct api_req *req)
{
    json_t *body, *j_props = NULL, *j_tags = NULL;
    json_error_t err;
    struct fy_thing_type_spec spec = {0};
    struct fy_thing_type_created out = {0};
    fy_err e = api_require_param(req, "thingTypeName", fy_valid_thing_name, &spec.name);
    if (!e) {
        e = api_body(req, &body);
    }
    if (!e && json_unpack_ex(body, &err, 0, "{s?o, s?o !}", "thingTypeProperties", &j_props, "tags",
                             &j_tags) != 0) {
        e = bad_request(req, &err);
    }
    if (!e) {
        e = parse_props(req, j_props, &spec);
    }
    if (!e) {
        spec.tags = j_tags;
        e = fy_thing_type_create(req->db, req->site, &spec, &out, &req->em);
    }
    if (e == FY_ERR_ALREADY_EXISTS) {
        /* resourceId/resourceArn travel next to the message (merged by the error renderer) */
        json_decref(req->j_out);
        req->j_out = json_pack("{s:s, s:s}", "resourceId", out.type_id, "resourceArn", out.arn);
    }
    if (e) {
        return e;
    }
    fy_audit(req->caller, "CreateThingType", out.arn);
    return api_reply(req, json_pack("{s:s, s:s, s:s}", "thingTypeName", spec.name, "thingTypeArn",
                                    out.arn, "thingTypeId", out.type_id));
}

/* ThingTypeDefinition {thingTypeName, thingTypeArn, thingTypeProperties, thingTypeMetadata},
 * plus thingTypeId for DescribeThingType. */
static json_t *type_to_json(const struct api_req *req, const struct fy_thing_type *t, bool with_id)
{
    char arn[FY_REG_ARN_MAX];
    fy_arn_fmt(arn, sizeof(arn), req->site, "thingtype", t->name);
    json_t *meta =
        json_pack("{s:b, s:f}", "deprecated", t->deprecated, "creationDate", t->creation_date);
    if (meta && t->deprecated &&
        json_object_set_new(meta, "deprecationDate", json_real(t->deprecation_date)) != 0) {
        json_decref(meta);
        meta = NULL;
    }
    return json_pack("{s:s, s:s*, s:s, s:O, s:o}", "thingTypeName", t->name, "thingTypeId",
                     with_id ? t->type_id : NULL, "thingTypeArn", arn, "thingTypeProperties",
                     t->properties, "thingTypeMetadata", meta);
}

static fy_err h_describe(struct api_req *req)
{
    const char *name;
    struct fy_thing_type t = {0};
    fy_err e = api_require_param(req, "thingTypeName", fy_valid_thing_name, &name);
    if (!e) {
        e = fy_thing_type_describe(req->db, name, &t, &req->em);
    }
    if (!e) {
        e = api_reply(req, type_to_json(req, &t, true));
    }
    fy_thing_type_clear(&t);
    return e;
}

struct listing {
    const struct api_req *req;
    json_t *items; /* borrowed from the reply object */
    char last[FY_NAME_MAX + 1];
};

static fy_err add_type(void *ctx, const struct fy_thing_type *t)
{
    struct listing *l = ctx;
    memcpy(l->last, t->name, sizeof(l->last));
    return json_array_append_new(l->items, type_to_json(l->req, t, false)) == 0 ? FY_ERR_OK
                                                                                : FY_ERR_NOMEM;
}

static fy_err h_list(struct api_req *req)
{
    const char *filter = api_query(req, "thingTypeName");
    json_t *j = json_pack("{s:[]}", "thingTypes");
    struct listing l = {req, json_object_get(j, "thingTypes"), ""};
    char *after = NULL;
    int64_t limit;
    bool more = false;
    fy_err e = j ? FY_ERR_OK : FY_ERR_NOMEM;
    if (!e && filter && !fy_valid_thing_name(filter)) {
        e = fy_fail(&req->em, FY_ERR_INVALID_REQUEST, "Invalid thingTypeName '%.128s'", filter);
    }
    if (!e) {
        e = api_page_in(req, "nextToken", "maxResults", TYPE_PAGE_DEFAULT, API_PAGE_MAX_DEFAULT,
                        &after, &limit);
    }
    if (!e) {
        e = fy_thing_type_list(req->db, filter, after, limit, add_type, &l, &more, &req->em);
    }
    if (!e) {
        e = api_page_out(req, j, "nextToken", more ? l.last : NULL);
    }
    fy_free(after);
    if (e) {
        json_decref(j);
        return e == FY_ERR_NOMEM ? fy_fail(&req->em, e, "Out of memory") : e;
    }
    return api_reply(req, j);
}

static fy_err h_deprecate(struct api_req *req)
{
    const char *name;
    json_t *body;
    json_error_t err;
    int undo = 0;
    fy_err e = api_require_param(req, "thingTypeName", fy_valid_thing_name, &name);
    if (!e) {
        e = api_body(req, &body);
    }
    if (!e && json_unpack_ex(body, &err, 0, "{s?b !}", "undoDeprecate", &undo) != 0) {
        e = bad_request(req, &err);
    }
    if (!e) {
        e = fy_thing_type_deprecate(req->db, name, undo != 0, &req->em);
    }
    if (!e) {
        fy_audit(req->caller, undo ? "UndeprecateThingType" : "DeprecateThingType", name);
    }
    return e;
}

static fy_err h_delete(struct api_req *req)
{
    const char *name;
    fy_err e = api_require_param(req, "thingTypeName", fy_valid_thing_name, &name);
    if (!e) {
        e = fy_thing_type_delete(req->db, name, api_thing_type_delete_wait(req), &req->em);
    }
    if (!e) {
        fy_audit(req->caller, "DeleteThingType", name);
    }
    return e;
}

const struct api_route api_routes_thing_types[] = {
    {FY_SVC_IOT, "POST", "/thing-types/{thingTypeName}", h_create, "CreateThingType"},
    {FY_SVC_IOT, "GET", "/thing-types/{thingTypeName}", h_describe, "DescribeThingType"},
    {FY_SVC_IOT, "DELETE", "/thing-types/{thingTypeName}", h_delete, "DeleteThingType"},
    {FY_SVC_IOT, "POST", "/thing-types/{thingTypeName}/deprecate", h_deprecate,
     "DeprecateThingType"},
    {FY_SVC_IOT, "GET", "/thing-types", h_list, "ListThingTypes"},
    {0, NULL, NULL, NULL, NULL},
};
