/* Thing principals: AttachThingPrincipal, DetachThingPrincipal, ListThingPrincipals(V2),
 * ListPrincipalThings(V2). The principal travels in the x-amzn-principal header. */
#include "registry/principals.h"

#include <string.h>

#include "api/api.h"
#include "api/routes.h"
#include "core/alloc.h"
#include "core/names.h"

#define PRINCIPAL_PAGE_DEFAULT 50

struct listing {
    json_t *items;
    char *last;
    int v2;
    const char *v2_key; /* "principal" or "thingName" */
};

static fy_err add_row(void *ctx, const char *key, const char *type)
{
    struct listing *l = ctx;
    json_t *item = l->v2 ? json_pack("{s:s, s:s}", l->v2_key, key, "thingPrincipalType", type)
                         : json_string(key);
    fy_free(l->last);
    l->last = fy_strdup(key);
    if (!item || !l->last || json_array_append_new(l->items, item) != 0) {
        return FY_ERR_NOMEM;
    }
    return FY_ERR_OK;
}

static fy_err require_principal(struct api_req *req, const char **out)
{
    *out = api_header(req, "x-amzn-principal");
    if (!*out || !**out) {
        return fy_fail(&req->em, FY_ERR_INVALID_REQUEST,
                       "The principal (header x-amzn-principal) is required");
    }
    return FY_ERR_OK;
}

static fy_err optional_type(struct api_req *req, const char **type)
{
    *type = api_query(req, "thingPrincipalType");
    if (*type && !fy_principal_type_valid(*type)) {
        return fy_fail(&req->em, FY_ERR_INVALID_REQUEST,
                       "thingPrincipalType must be EXCLUSIVE_THING or NON_EXCLUSIVE_THING");
    }
    return FY_ERR_OK;
}

static fy_err h_attach(struct api_req *req)
{
    const char *thing, *principal, *type;
    fy_err e = api_require_param(req, "thingName", fy_valid_thing_name, &thing);
    if (!e) {
        e = require_principal(req, &principal);
    }
    if (!e) {
        e = optional_type(req, &type);
    }
    return e ? e : fy_principal_attach(req->db, thing, principal, type, &req->em);
}

static fy_err h_detach(struct api_req *req)
{
    const char *thing, *principal;
    fy_err e = api_require_param(req, "thingName", fy_valid_thing_name, &thing);
    if (!e) {
        e = require_principal(req, &principal);
    }
    return e ? e : fy_principal_detach(req->db, thing, principal, &req->em);
}

/* Runs a listing and replies {out_name: [...], nextToken?}. */
static fy_err
list_reply(struct api_req *req, struct listing *l, const char *out_name, bool more, fy_err e)
{
    json_t *j = NULL;
    if (!e) {
        j = json_pack("{s:O}", out_name, l->items);
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

static fy_err list_for_thing(struct api_req *req, int v2)
{
    const char *thing, *type = NULL;
    char *after = NULL;
    int64_t limit;
    bool more = false;
    struct listing l = {json_array(), NULL, v2, "principal"};
    fy_err e = api_require_param(req, "thingName", fy_valid_thing_name, &thing);
    if (!e && v2) {
        e = optional_type(req, &type);
    }
    if (!e) {
        e = api_page_in(req, "nextToken", "maxResults", PRINCIPAL_PAGE_DEFAULT,
                        API_PAGE_MAX_DEFAULT, &after, &limit);
    }
    if (!e) {
        e = fy_principal_list_for_thing(req->db, thing, after, limit, type, add_row, &l, &more,
                                        &req->em);
    }
    fy_free(after);
    return list_reply(req, &l, v2 ? "thingPrincipalObjects" : "principals", more, e);
}

static fy_err list_things(struct api_req *req, int v2)
{
    const char *principal, *type = NULL;
    char *after = NULL;
    int64_t limit;
    bool more = false;
    struct listing l = {json_array(), NULL, v2, "thingName"};
    fy_err e = require_principal(req, &principal);
    if (!e && v2) {
        e = optional_type(req, &type);
    }
    if (!e) {
        e = api_page_in(req, "nextToken", "maxResults", PRINCIPAL_PAGE_DEFAULT,
                        API_PAGE_MAX_DEFAULT, &after, &limit);
    }
    if (!e) {
        e = fy_principal_list_things(req->db, principal, after, limit, type, add_row, &l, &more,
                                     &req->em);
    }
    fy_free(after);
    return list_reply(req, &l, v2 ? "principalThingObjects" : "things", more, e);
}

static fy_err h_list_thing_principals(struct api_req *req)
{
    return list_for_thing(req, 0);
}

static fy_err h_list_thing_principals_v2(struct api_req *req)
{
    return list_for_thing(req, 1);
}

static fy_err h_list_principal_things(struct api_req *req)
{
    return list_things(req, 0);
}

static fy_err h_list_principal_things_v2(struct api_req *req)
{
    return list_things(req, 1);
}

const struct api_route api_routes_principals[] = {
    {FY_SVC_IOT, "PUT", "/things/{thingName}/principals", h_attach, "AttachThingPrincipal"},
    {FY_SVC_IOT, "DELETE", "/things/{thingName}/principals", h_detach, "DetachThingPrincipal"},
    {FY_SVC_IOT, "GET", "/things/{thingName}/principals", h_list_thing_principals,
     "ListThingPrincipals"},
    {FY_SVC_IOT, "GET", "/things/{thingName}/principals-v2", h_list_thing_principals_v2,
     "ListThingPrincipalsV2"},
    {FY_SVC_IOT, "GET", "/principals/things", h_list_principal_things, "ListPrincipalThings"},
    {FY_SVC_IOT, "GET", "/principals/things-v2", h_list_principal_things_v2,
     "ListPrincipalThingsV2"},
    {0, NULL, NULL, NULL, NULL},
};
