/* Things: CreateThing, DescribeThing, UpdateThing, DeleteThing, ListThings. */
#include <string.h>

#include "api/api.h"
#include "api/routes.h"
#include "core/alloc.h"
#include "core/log.h"
#include "core/names.h"
#include "registry/registry.h"
#include "shadow/shadow.h"

#define THING_PAGE_DEFAULT 50

/* Records a json_unpack_ex failure on the request body. */
static fy_err bad_body(struct api_req *req, const json_error_t *err)
{
    return fy_fail(&req->em, FY_ERR_INVALID_REQUEST, "Invalid request body: %.200s", err->text);
}

/* attributePayload {attributes, merge} (j may be NULL). */
static fy_err parse_payload(struct api_req *req, json_t *j, const json_t **attrs, bool *merge)
{
    json_error_t err;
    json_t *a = NULL;
    int m = 0;
    *attrs = NULL;
    *merge = false;
    if (j && json_unpack_ex(j, &err, 0, "{s?o, s?b !}", "attributes", &a, "merge", &m) != 0) {
        return bad_body(req, &err);
    }
    *attrs = a;
    *merge = m != 0;
    return FY_ERR_OK;
}

/* ResourceAlreadyExists carries resourceId and resourceArn next to the message: they are set
 * as the reply object, which the error renderer merges into the error body. */
static fy_err already_exists(struct api_req *req, fy_err e, const char *id, const char *arn)
{
    if (e == FY_ERR_ALREADY_EXISTS) {
        json_t *j = json_pack("{s:s, s:s}", "resourceId", id, "resourceArn", arn);
        if (j) {
            json_decref(req->j_out);
            req->j_out = j;
        }
    }
    return e;
}

static fy_err h_create(struct api_req *req)
{
    json_t *body, *j_payload = NULL;
    json_error_t err;
    struct fy_thing_spec spec = {0};
    struct fy_thing_created out = {0};
    bool merge;
    fy_err e = api_require_param(req, "thingName", fy_valid_thing_name, &spec.name);
    if (!e) {
        e = api_body(req, &body);
    }
    if (!e && json_unpack_ex(body, &err, 0, "{s?s, s?o, s?s !}", "thingTypeName", &spec.type_name,
                             "attributePayload", &j_payload, "billingGroupName",
                             &spec.billing_group) != 0) {
        e = bad_body(req, &err);
    }
    if (!e) {
        e = parse_payload(req, j_payload, &spec.attributes, &merge); /* merge: Update only */
    }
    if (!e) {
        e = fy_thing_create(req->db, req->site, &spec, &out, &req->em);
    }
    if (e) {
        return already_exists(req, e, out.thing_id, out.arn);
    }
    fy_audit(req->caller, "CreateThing", out.arn);
    return api_reply(req, json_pack("{s:s, s:s, s:s}", "thingName", spec.name, "thingArn", out.arn,
                                    "thingId", out.thing_id));
}

/* Members common to DescribeThing and ListThings items (steals j_attrs). */
static json_t *thing_to_json(const struct api_req *req, const struct fy_thing *t, json_t *j_attrs)
{
    char arn[FY_REG_ARN_MAX];
    fy_arn_fmt(arn, sizeof(arn), req->site, "thing", t->name);
    return json_pack("{s:s, s:s, s:s*, s:o, s:I}", "thingName", t->name, "thingArn", arn,
                     "thingTypeName", t->type_name[0] ? t->type_name : NULL, "attributes", j_attrs,
                     "version", (json_int_t)t->version);
}

static fy_err h_describe(struct api_req *req)
{
    const char *name;
    struct fy_thing t;
    json_t *j_attrs = json_object();
    fy_err e = j_attrs ? FY_ERR_OK : fy_fail(&req->em, FY_ERR_NOMEM, "Out of memory");
    if (!e) {
        e = api_require_param(req, "thingName", fy_valid_thing_name, &name);
    }
    if (!e) {
        e = fy_thing_describe(req->db, name, &t, j_attrs, &req->em);
    }
    if (e) {
        json_decref(j_attrs);
        return e;
    }
    json_t *j = thing_to_json(req, &t, j_attrs);
    if (j && (json_object_set_new(j, "defaultClientId", json_string(t.name)) != 0 ||
              json_object_set_new(j, "thingId", json_string(t.thing_id)) != 0 ||
              (t.billing_group[0] &&
               json_object_set_new(j, "billingGroupName", json_string(t.billing_group)) != 0))) {
        json_decref(j);
        j = NULL;
    }
    return api_reply(req, j);
}

/* expectedVersion from a JSON body member (NULL when absent). */
static fy_err
body_version(struct api_req *req, const json_t *j, int64_t *store, const int64_t **out)
{
    *out = NULL;
    if (!j) {
        return FY_ERR_OK;
    }
    if (!json_is_integer(j)) {
        return fy_fail(&req->em, FY_ERR_INVALID_REQUEST, "expectedVersion must be an integer");
    }
    *store = json_integer_value(j);
    *out = store;
    return FY_ERR_OK;
}

static fy_err h_update(struct api_req *req)
{
    json_t *body, *j_payload = NULL, *j_version = NULL;
    json_error_t err;
    struct fy_thing_update u = {0};
    int remove = 0;
    int64_t version;
    fy_err e = api_require_param(req, "thingName", fy_valid_thing_name, &u.name);
    if (!e) {
        e = api_body(req, &body);
    }
    if (!e && json_unpack_ex(body, &err, 0, "{s?s, s?o, s?o, s?b !}", "thingTypeName", &u.type_name,
                             "attributePayload", &j_payload, "expectedVersion", &j_version,
                             "removeThingType", &remove) != 0) {
        e = bad_body(req, &err);
    }
    if (!e) {
        e = parse_payload(req, j_payload, &u.attributes, &u.merge);
    }
    if (!e) {
        e = body_version(req, j_version, &version, &u.expected_version);
    }
    if (!e) {
        u.remove_type = remove != 0;
        e = fy_thing_update(req->db, &u, &req->em);
    }
    if (!e) {
        fy_audit(req->caller, "UpdateThing", u.name);
    }
    return e;
}

static fy_err h_delete(struct api_req *req)
{
    const char *name;
    int64_t version;
    const int64_t *expected = api_query(req, "expectedVersion") ? &version : NULL;
    fy_err e = api_require_param(req, "thingName", fy_valid_thing_name, &name);
    if (!e) {
        e = api_query_int(req, "expectedVersion", 0, INT64_MAX, 0, &version);
    }
    if (!e) {
        e = fy_thing_delete(req->db, name, expected, &req->em);
    }
    if (!e && api_delete_shadows_with_thing(req)) {
        e = fy_shadow_purge(req->db, name, &req->em);
    }
    if (!e) {
        fy_audit(req->caller, "DeleteThing", name);
    }
    return e;
}

/* ---- ListThings ---- */

struct listing {
    const struct api_req *req;
    json_t *items;
    char last[FY_NAME_MAX + 1];
};

static fy_err add_thing(void *ctx, const struct fy_thing *t, const json_t *j_attrs)
{
    struct listing *l = ctx;
    json_t *item = thing_to_json(l->req, t, json_incref((json_t *)j_attrs));
    memcpy(l->last, t->name, sizeof(l->last));
    return json_array_append_new(l->items, item) == 0 ? FY_ERR_OK : FY_ERR_NOMEM;
}

/* Optional query parameter checked by valid (absent -> NULL). */
static fy_err
opt_query(struct api_req *req, const char *name, bool (*valid)(const char *), const char **out)
{
    *out = api_query(req, name);
    if (*out && !valid(*out)) {
        return fy_fail(&req->em, FY_ERR_INVALID_REQUEST,
                       "1 validation error detected: Value '%.128s' at '%.64s' failed to satisfy "
                       "constraint",
                       *out, name);
    }
    return FY_ERR_OK;
}

static fy_err list_filter(struct api_req *req, struct fy_thing_filter *f)
{
    fy_err e = opt_query(req, "attributeName", fy_valid_attr_key, &f->attr_name);
    if (!e) {
        e = opt_query(req, "attributeValue", fy_valid_attr_value, &f->attr_value);
    }
    if (!e) {
        e = opt_query(req, "thingTypeName", fy_valid_thing_name, &f->type_name);
    }
    if (!e) {
        e = api_query_bool(req, "usePrefixAttributeValue", false, &f->attr_prefix);
    }
    return e;
}

/* Replies {list_name: items, nextToken?} (takes items). */
static fy_err
list_reply(struct api_req *req, const char *list_name, json_t *items, const char *next)
{
    json_t *j = items ? json_pack("{s:o}", list_name, items) : NULL;
    if (!j) {
        return fy_fail(&req->em, FY_ERR_NOMEM, "Out of memory");
    }
    fy_err e = api_page_out(req, j, "nextToken", next);
    if (e) {
        json_decref(j);
        return e;
    }
    return api_reply(req, j);
}

static fy_err h_list(struct api_req *req)
{
    struct fy_thing_filter f = {0};
    struct listing l = {req, json_array(), ""};
    char *after = NULL;
    int64_t limit;
    bool more = false;
    fy_err e = l.items ? list_filter(req, &f) : FY_ERR_NOMEM;
    if (!e) {
        e = api_page_in(req, "nextToken", "maxResults", THING_PAGE_DEFAULT, API_PAGE_MAX_DEFAULT,
                        &after, &limit);
    }
    if (!e) {
        e = fy_thing_list(req->db, &f, after, limit, add_thing, &l, &more, &req->em);
    }
    fy_free(after);
    if (e) {
        json_decref(l.items);
        return e == FY_ERR_NOMEM ? fy_fail(&req->em, e, "Out of memory") : e;
    }
    return list_reply(req, "things", l.items, more ? l.last : NULL);
}

const struct api_route api_routes_things[] = {
    {FY_SVC_IOT, "POST", "/things/{thingName}", h_create, "CreateThing"},
    {FY_SVC_IOT, "GET", "/things/{thingName}", h_describe, "DescribeThing"},
    {FY_SVC_IOT, "PATCH", "/things/{thingName}", h_update, "UpdateThing"},
    {FY_SVC_IOT, "DELETE", "/things/{thingName}", h_delete, "DeleteThing"},
    {FY_SVC_IOT, "GET", "/things", h_list, "ListThings"},
    {0, NULL, NULL, NULL, NULL},
};
