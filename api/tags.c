/* Tags: TagResource, UntagResource, ListTagsForResource. */
#include "api/api.h"
#include "api/routes.h"
#include "core/alloc.h"
#include "core/log.h"
#include "registry/groups.h"

#define TAGS_PAGE_DEFAULT 25

/* Reads {resourceArn: string, <list_key>: array} (both required, nothing else). */
static fy_err arn_and_list(struct api_req *req, const char *list_key, const char **arn, json_t **j)
{
    json_t *body;
    json_error_t err;
    fy_err e = api_body(req, &body);
    if (!e && json_unpack_ex(body, &err, 0, "{s:s, s:o !}", "resourceArn", arn, list_key, j) != 0) {
        e = fy_fail(&req->em, FY_ERR_INVALID_REQUEST, "Invalid request body: %.200s", err.text);
    }
    return e;
}

static fy_err h_tag(struct api_req *req)
{
    const char *arn;
    json_t *j_tags;
    fy_err e = arn_and_list(req, "tags", &arn, &j_tags);
    if (!e) {
        e = fy_tag_resource(req->db, req->site, arn, j_tags, &req->em);
    }
    if (!e) {
        fy_audit(req->caller, "TagResource", arn);
    }
    return e;
}

static fy_err h_untag(struct api_req *req)
{
    const char *arn;
    json_t *j_keys;
    fy_err e = arn_and_list(req, "tagKeys", &arn, &j_keys);
    if (!e) {
        e = fy_untag_resource(req->db, req->site, arn, j_keys, &req->em);
    }
    if (!e) {
        fy_audit(req->caller, "UntagResource", arn);
    }
    return e;
}

struct tag_listing {
    json_t *items;
    char *last;
};

static fy_err add_tag(void *ctx, const char *key, const char *value)
{
    struct tag_listing *l = ctx;
    json_t *item = json_pack("{s:s, s:s}", "Key", key, "Value", value);
    fy_free(l->last);
    l->last = fy_strdup(key);
    if (!item || !l->last || json_array_append_new(l->items, item) != 0) {
        return FY_ERR_NOMEM;
    }
    return FY_ERR_OK;
}

/* ListTagsForResource: ?resourceArn*&nextToken; pages of TAGS_PAGE_DEFAULT tags. */
static fy_err h_list(struct api_req *req)
{
    const char *arn = api_query(req, "resourceArn");
    struct tag_listing l = {json_array(), NULL};
    char *after = NULL;
    int64_t limit;
    bool more = false;
    json_t *j = NULL;
    fy_err e =
        arn ? FY_ERR_OK : fy_fail(&req->em, FY_ERR_INVALID_REQUEST, "resourceArn is required");
    if (!e) {
        e = api_page_in(req, "nextToken", "maxResults", TAGS_PAGE_DEFAULT, FY_TAGS_PER_RESOURCE_MAX,
                        &after, &limit);
    }
    if (!e) {
        e = l.items
                ? fy_tags_list(req->db, req->site, arn, after, limit, add_tag, &l, &more, &req->em)
                : FY_ERR_NOMEM;
    }
    if (!e) {
        j = json_pack("{s:O}", "tags", l.items);
        e = j ? api_page_out(req, j, "nextToken", more ? l.last : NULL) : FY_ERR_NOMEM;
    }
    if (!e) {
        e = api_reply(req, j);
        j = NULL;
    }
    if (e == FY_ERR_NOMEM) {
        fy_errf(&req->em, "Out of memory");
    }
    json_decref(j);
    json_decref(l.items);
    fy_free(l.last);
    fy_free(after);
    return e;
}

const struct api_route api_routes_tags[] = {
    {FY_SVC_IOT, "POST", "/tags", h_tag, "TagResource"},
    {FY_SVC_IOT, "POST", "/untag", h_untag, "UntagResource"},
    {FY_SVC_IOT, "GET", "/tags", h_list, "ListTagsForResource"},
    {0, NULL, NULL, NULL, NULL},
};
