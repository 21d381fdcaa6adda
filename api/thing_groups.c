/* Thing groups: CreateThingGroup, DescribeThingGroup, UpdateThingGroup, DeleteThingGroup,
 * ListThingGroups, AddThingToThingGroup, RemoveThingFromThingGroup, UpdateThingGroupsForThing,
 * ListThingsInThingGroup, ListThingGroupsForThing. */
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "api/routes.h"
#include "core/alloc.h"
#include "core/log.h"
#include "core/names.h"
#include "registry/groups.h"

#define GROUP_PAGE_DEFAULT 50
#define GROUP_ARN_MAX      (FY_ARN_MAX + 1)

/* Records a json_unpack_ex failure on the request body. */
static fy_err bad_body(struct api_req *req, const json_error_t *err)
{
    return fy_fail(&req->em, FY_ERR_INVALID_REQUEST, "Invalid request body: %.200s", err->text);
}

static void group_arn(const struct api_req *req, const char *name, char arn[GROUP_ARN_MAX])
{
    fy_arn_fmt(arn, GROUP_ARN_MAX, req->site, "thinggroup", name);
}

/* thingGroupProperties {thingGroupDescription, attributePayload{attributes, merge}} (NULL ok). */
static fy_err parse_props(struct api_req *req, json_t *j, struct fy_group_props *p)
{
    json_error_t err;
    json_t *ap = NULL, *attrs = NULL;
    int merge = 0;
    memset(p, 0, sizeof(*p));
    if (!j) {
        return FY_ERR_OK;
    }
    if (json_unpack_ex(j, &err, 0, "{s?s, s?o !}", "thingGroupDescription", &p->description,
                       "attributePayload", &ap) != 0) {
        return bad_body(req, &err);
    }
    if (ap &&
        json_unpack_ex(ap, &err, 0, "{s?o, s?b !}", "attributes", &attrs, "merge", &merge) != 0) {
        return bad_body(req, &err);
    }
    p->attributes = attrs;
    p->merge = merge != 0;
    return FY_ERR_OK;
}

static fy_err h_create(struct api_req *req)
{
    const char *name, *parent = NULL;
    json_t *body, *j_props = NULL, *j_tags = NULL;
    json_error_t err;
    struct fy_group_props props;
    char id[FY_UUID_LEN + 1], arn[GROUP_ARN_MAX];
    fy_err e = api_require_param(req, "thingGroupName", fy_valid_thing_name, &name);
    if (!e) {
        e = api_body(req, &body);
    }
    if (!e && json_unpack_ex(body, &err, 0, "{s?s, s?o, s?o !}", "parentGroupName", &parent,
                             "thingGroupProperties", &j_props, "tags", &j_tags) != 0) {
        e = bad_body(req, &err);
    }
    if (!e) {
        e = parse_props(req, j_props, &props);
    }
    if (e) {
        return e;
    }
    group_arn(req, name, arn);
    e = fy_group_create(req->db, name, parent, &props, j_tags, arn, id, &req->em);
    if (e) {
        return e;
    }
    fy_audit(req->caller, "CreateThingGroup", arn);
    return api_reply(req, json_pack("{s:s, s:s, s:s}", "thingGroupName", name, "thingGroupArn", arn,
                                    "thingGroupId", id));
}

/* {groupName, groupArn} for a name. */
static json_t *name_arn_to_json(const struct api_req *req, const char *name)
{
    char arn[GROUP_ARN_MAX];
    group_arn(req, name, arn);
    return json_pack("{s:s, s:s}", "groupName", name, "groupArn", arn);
}

/* thingGroupMetadata: parentGroupName and rootToParentThingGroups only for a child group. */
static json_t *metadata_to_json(const struct api_req *req, const struct fy_group *g)
{
    json_t *j = json_pack("{s:f}", "creationDate", g->creation_date);
    if (!j || g->nancestors == 0) {
        return j;
    }
    json_t *path = json_array();
    bool ok = path != NULL;
    for (int i = 0; ok && i < g->nancestors; i++) {
        ok = json_array_append_new(path, name_arn_to_json(req, g->ancestors[i])) == 0;
    }
    const char *parent = g->ancestors[g->nancestors - 1];
    ok = ok && json_object_set_new(j, "parentGroupName", json_string(parent)) == 0;
    if (ok) {
        ok = json_object_set_new(j, "rootToParentThingGroups", path) == 0; /* steals path */
    } else {
        json_decref(path);
    }
    if (!ok) {
        json_decref(j);
        j = NULL;
    }
    return j;
}

static json_t *properties_to_json(const struct fy_group *g)
{
    json_t *payload =
        json_object_size(g->attributes) ? json_pack("{s:O}", "attributes", g->attributes) : NULL;
    if (json_object_size(g->attributes) && !payload) {
        return NULL; /* out of memory: not a group without attributes */
    }
    return json_pack("{s:s*, s:o*}", "thingGroupDescription", g->description, "attributePayload",
                     payload);
}

static json_t *group_to_json(const struct api_req *req, const struct fy_group *g)
{
    char arn[GROUP_ARN_MAX];
    group_arn(req, g->name, arn);
    return json_pack("{s:s, s:s, s:s, s:I, s:o, s:o, s:s*, s:s*, s:s*, s:s*}", "thingGroupName",
                     g->name, "thingGroupId", g->group_id, "thingGroupArn", arn, "version",
                     (json_int_t)g->version, "thingGroupProperties", properties_to_json(g),
                     "thingGroupMetadata", metadata_to_json(req, g), "indexName",
                     g->dynamic ? g->index_name : NULL, "queryString",
                     g->dynamic ? g->query_string : NULL, "queryVersion",
                     g->dynamic ? g->query_version : NULL, "status", g->dynamic ? g->status : NULL);
}

static fy_err h_describe(struct api_req *req)
{
    const char *name;
    struct fy_group g;
    fy_err e = api_require_param(req, "thingGroupName", fy_valid_thing_name, &name);
    if (!e) {
        e = fy_group_describe(req->db, name, &g, &req->em);
    }
    if (e) {
        return e;
    }
    e = api_reply(req, group_to_json(req, &g));
    fy_group_clear(&g);
    return e;
}

static fy_err h_update(struct api_req *req)
{
    const char *name;
    json_t *body, *j_props = NULL;
    json_error_t err;
    json_int_t expected = -1;
    int64_t version = 0;
    struct fy_group_props props;
    fy_err e = api_require_param(req, "thingGroupName", fy_valid_thing_name, &name);
    if (!e) {
        e = api_body(req, &body);
    }
    if (!e && json_unpack_ex(body, &err, 0, "{s:o, s?I !}", "thingGroupProperties", &j_props,
                             "expectedVersion", &expected) != 0) {
        e = bad_body(req, &err);
    }
    if (!e) {
        e = parse_props(req, j_props, &props);
    }
    if (!e) {
        e = fy_group_update(req->db, name, &props, expected, &version, &req->em);
    }
    if (e) {
        return e;
    }
    fy_audit(req->caller, "UpdateThingGroup", name);
    return api_reply(req, json_pack("{s:I}", "version", (json_int_t)version));
}

static fy_err h_delete(struct api_req *req)
{
    const char *name;
    int64_t expected;
    fy_err e = api_require_param(req, "thingGroupName", fy_valid_thing_name, &name);
    if (!e) {
        e = api_query_int(req, "expectedVersion", 0, INT64_MAX, -1, &expected);
    }
    if (!e) {
        e = fy_group_delete(req->db, name, expected, &req->em);
    }
    if (!e) {
        fy_audit(req->caller, "DeleteThingGroup", name);
    }
    return e;
}

/* ---- listings ---- */

struct listing {
    const struct api_req *req;
    json_t *items;
    char *last;
    bool arns; /* items are {groupName, groupArn} rather than names */
};

static fy_err add_row(void *ctx, const char *name)
{
    struct listing *l = ctx;
    json_t *item = l->arns ? name_arn_to_json(l->req, name) : json_string(name);
    fy_free(l->last);
    l->last = fy_strdup(name);
    if (!item || !l->last || json_array_append_new(l->items, item) != 0) {
        return FY_ERR_NOMEM;
    }
    return FY_ERR_OK;
}

/* Replies {out_name: items, nextToken?} after a listing that returned e; releases l. */
static fy_err
list_reply(struct api_req *req, struct listing *l, const char *out_name, bool more, fy_err e)
{
    json_t *j = NULL;
    if (!e) {
        j = l->items ? json_pack("{s:O}", out_name, l->items) : NULL;
        e = j ? api_page_out(req, j, "nextToken", more ? l->last : NULL) : FY_ERR_NOMEM;
    }
    if (!e) {
        e = api_reply(req, j);
        j = NULL;
    }
    json_decref(j);
    json_decref(l->items);
    fy_free(l->last);
    if (e == FY_ERR_NOMEM) {
        fy_errf(&req->em, "Out of memory");
    }
    return e;
}

/* Optional query parameter that must be a valid group name. */
static fy_err opt_name(struct api_req *req, const char *key, const char **out)
{
    *out = api_query(req, key);
    if (*out && !fy_valid_thing_name(*out)) {
        return fy_fail(&req->em, FY_ERR_INVALID_REQUEST,
                       "1 validation error detected: Value '%.128s' at '%.64s' failed to satisfy "
                       "constraint",
                       *out, key);
    }
    return FY_ERR_OK;
}

/* ListThingGroups. recursive defaults to true (RecursiveWithoutDefault: AWS lists every group
 * when no filter is given); recursive=false keeps roots, or direct children of parentGroup. */
static fy_err h_list(struct api_req *req)
{
    struct fy_group_filter f = {0};
    struct listing l = {req, json_array(), NULL, true};
    char *after = NULL;
    int64_t limit;
    bool more = false;
    fy_err e = opt_name(req, "parentGroup", &f.parent);
    if (!e) {
        e = opt_name(req, "namePrefixFilter", &f.prefix);
    }
    if (!e) {
        e = api_query_bool(req, "recursive", true, &f.recursive);
    }
    if (!e) {
        e = api_page_in(req, "nextToken", "maxResults", GROUP_PAGE_DEFAULT, API_PAGE_MAX_DEFAULT,
                        &after, &limit);
    }
    if (!e) {
        e = fy_group_list(req->db, &f, after, limit, add_row, &l, &more, &req->em);
    }
    fy_free(after);
    return list_reply(req, &l, "thingGroups", more, e);
}

static fy_err h_list_things(struct api_req *req)
{
    const char *name;
    struct listing l = {req, json_array(), NULL, false};
    char *after = NULL;
    int64_t limit;
    bool recursive = false, more = false;
    fy_err e = api_require_param(req, "thingGroupName", fy_valid_thing_name, &name);
    if (!e) {
        e = api_query_bool(req, "recursive", false, &recursive);
    }
    if (!e) {
        e = api_page_in(req, "nextToken", "maxResults", GROUP_PAGE_DEFAULT, API_PAGE_MAX_DEFAULT,
                        &after, &limit);
    }
    if (!e) {
        e = fy_group_list_things(req->db, name, recursive, after, limit, add_row, &l, &more,
                                 &req->em);
    }
    fy_free(after);
    return list_reply(req, &l, "things", more, e);
}

static fy_err h_list_for_thing(struct api_req *req)
{
    const char *name;
    struct listing l = {req, json_array(), NULL, true};
    char *after = NULL;
    int64_t limit;
    bool more = false;
    fy_err e = api_require_param(req, "thingName", fy_valid_thing_name, &name);
    if (!e) {
        e = api_page_in(req, "nextToken", "maxResults", GROUP_PAGE_DEFAULT, API_PAGE_MAX_DEFAULT,
                        &after, &limit);
    }
    if (!e) {
        e = fy_group_list_for_thing(req->db, name, after, limit, add_row, &l, &more, &req->em);
    }
    fy_free(after);
    return list_reply(req, &l, "thingGroups", more, e);
}

/* ---- membership ---- */

/* The name given directly or through an ARN of this site (arn:aws:iot:R:A:<type>/<name>).
 * Neither -> INVALID_REQUEST; both and different -> INVALID_REQUEST; an ARN of another
 * region/account -> NOT_FOUND. *out points into the request body or into buf. */
static fy_err name_or_arn(struct api_req *req,
                          const char *name,
                          const char *arn,
                          const char *type,
                          char buf[FY_NAME_MAX + 1],
                          const char **out)
{
    struct fy_arn a;
    *out = name;
    if (arn) {
        if (fy_arn_parse(arn, &a, &req->em) != FY_ERR_OK || strcmp(a.type, type) != 0 ||
            strcmp(a.service, "iot") != 0 || !fy_valid_thing_name(a.resource)) {
            return fy_fail(&req->em, FY_ERR_INVALID_REQUEST, "Invalid %.16s ARN: %.256s", type,
                           arn);
        }
        if (strcmp(a.region, req->site->region) != 0 ||
            strcmp(a.account, req->site->account) != 0) {
            return fy_fail(&req->em, FY_ERR_NOT_FOUND, "%.256s cannot be found.", arn);
        }
        if (name && strcmp(name, a.resource) != 0) {
            return fy_fail(&req->em, FY_ERR_INVALID_REQUEST,
                           "The %.16s name and ARN name different resources", type);
        }
        snprintf(buf, FY_NAME_MAX + 1, "%s", a.resource);
        *out = buf;
    }
    if (!*out || !fy_valid_thing_name(*out)) {
        return fy_fail(&req->em, FY_ERR_INVALID_REQUEST, "A valid %.16s name or ARN is required",
                       type);
    }
    return FY_ERR_OK;
}

/* AddThingToThingGroup (add) and RemoveThingFromThingGroup. */
static fy_err membership(struct api_req *req, bool add)
{
    const char *gname = NULL, *garn = NULL, *tname = NULL, *tarn = NULL, *group, *thing;
    char gbuf[FY_NAME_MAX + 1], tbuf[FY_NAME_MAX + 1];
    int override = 0;
    json_t *body;
    json_error_t err;
    fy_err e = api_body(req, &body);
    if (!e && json_unpack_ex(body, &err, 0,
                             add ? "{s?s, s?s, s?s, s?s, s?b !}" : "{s?s, s?s, s?s, s?s !}",
                             "thingGroupName", &gname, "thingGroupArn", &garn, "thingName", &tname,
                             "thingArn", &tarn, "overrideDynamicGroups", &override) != 0) {
        e = bad_body(req, &err);
    }
    if (!e) {
        e = name_or_arn(req, gname, garn, "thinggroup", gbuf, &group);
    }
    if (!e) {
        e = name_or_arn(req, tname, tarn, "thing", tbuf, &thing);
    }
    if (e) {
        return e;
    }
    e = add ? fy_group_add_thing(req->db, group, thing, override != 0, &req->em)
            : fy_group_remove_thing(req->db, group, thing, &req->em);
    if (!e) {
        fy_audit(req->caller, add ? "AddThingToThingGroup" : "RemoveThingFromThingGroup", thing);
    }
    return e;
}

static fy_err h_add(struct api_req *req)
{
    return membership(req, true);
}

static fy_err h_remove(struct api_req *req)
{
    return membership(req, false);
}

/* Borrowed strings of a JSON array of group names into a new array (*out, caller frees). */
static fy_err name_list(struct api_req *req, const json_t *j, const char ***out, size_t *n)
{
    size_t i;
    json_t *item;
    *out = NULL;
    *n = j ? json_array_size(j) : 0;
    if (j && !json_is_array(j)) {
        return fy_fail(&req->em, FY_ERR_INVALID_REQUEST, "Thing group lists must be arrays");
    }
    if (*n == 0) {
        return FY_ERR_OK;
    }
    *out = fy_calloc(*n, sizeof(**out));
    if (!*out) {
        return fy_fail(&req->em, FY_ERR_NOMEM, "Out of memory");
    }
    json_array_foreach ((json_t *)j, i, item) {
        (*out)[i] = json_string_value(item); /* NULL for a non-string: refused by the registry */
    }
    return FY_ERR_OK;
}

static fy_err h_update_for_thing(struct api_req *req)
{
    const char *thing = NULL;
    json_t *body, *j_add = NULL, *j_rm = NULL;
    json_error_t err;
    int override = 0;
    const char **add = NULL, **rm = NULL;
    size_t nadd = 0, nrm = 0;
    fy_err e = api_body(req, &body);
    if (!e && json_unpack_ex(body, &err, 0, "{s?s, s?o, s?o, s?b !}", "thingName", &thing,
                             "thingGroupsToAdd", &j_add, "thingGroupsToRemove", &j_rm,
                             "overrideDynamicGroups", &override) != 0) {
        e = bad_body(req, &err);
    }
    if (!e) {
        e = name_list(req, j_add, &add, &nadd);
    }
    if (!e) {
        e = name_list(req, j_rm, &rm, &nrm);
    }
    if (!e) {
        e = fy_group_update_for_thing(req->db, thing, add, nadd, rm, nrm, override != 0, &req->em);
    }
    if (!e) {
        fy_audit(req->caller, "UpdateThingGroupsForThing", thing);
    }
    fy_free(add);
    fy_free(rm);
    return e;
}

/* Literal paths come before the {thingGroupName} patterns they would otherwise match. */
const struct api_route api_routes_thing_groups[] = {
    {FY_SVC_IOT, "PUT", "/thing-groups/addThingToThingGroup", h_add, "AddThingToThingGroup"},
    {FY_SVC_IOT, "PUT", "/thing-groups/removeThingFromThingGroup", h_remove,
     "RemoveThingFromThingGroup"},
    {FY_SVC_IOT, "PUT", "/thing-groups/updateThingGroupsForThing", h_update_for_thing,
     "UpdateThingGroupsForThing"},
    {FY_SVC_IOT, "GET", "/thing-groups", h_list, "ListThingGroups"},
    {FY_SVC_IOT, "POST", "/thing-groups/{thingGroupName}", h_create, "CreateThingGroup"},
    {FY_SVC_IOT, "GET", "/thing-groups/{thingGroupName}", h_describe, "DescribeThingGroup"},
    {FY_SVC_IOT, "PATCH", "/thing-groups/{thingGroupName}", h_update, "UpdateThingGroup"},
    {FY_SVC_IOT, "DELETE", "/thing-groups/{thingGroupName}", h_delete, "DeleteThingGroup"},
    {FY_SVC_IOT, "GET", "/thing-groups/{thingGroupName}/things", h_list_things,
     "ListThingsInThingGroup"},
    {FY_SVC_IOT, "GET", "/things/{thingName}/thing-groups", h_list_for_thing,
     "ListThingGroupsForThing"},
    {0, NULL, NULL, NULL, NULL},
};
