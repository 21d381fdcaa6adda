/* IoT policies: Create/Get/List/Delete, versions, attachments, ListAttachedPolicies,
 * ListTargetsForPolicy, GetEffectivePolicies. Documents are validated by the policy engine
 * before they are stored. */
#include "registry/policies.h"

#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "api/routes.h"
#include "core/alloc.h"
#include "core/log.h"
#include "core/names.h"
#include "policy/policy.h"

#define POLICY_PAGE_DEFAULT 25
#define POLICY_ARN_MAX      256

static fy_err bad_body(struct api_req *req, const json_error_t *err)
{
    return fy_fail(&req->em, FY_ERR_INVALID_REQUEST, "Invalid request body: %.200s", err->text);
}

static void policy_arn(const struct api_req *req, const char *name, char arn[POLICY_ARN_MAX])
{
    fy_arn_fmt(arn, POLICY_ARN_MAX, req->site, "policy", name);
}

static fy_err require_name(struct api_req *req, const char **name)
{
    return api_require_param(req, "policyName", fy_valid_policy_name, name);
}

static fy_err require_version(struct api_req *req, int64_t *v)
{
    const char *s = api_param(req, "policyVersionId");
    if (fy_parse_i64_full(s, 1, INT32_MAX, v) != 0) {
        return fy_fail(&req->em, FY_ERR_INVALID_REQUEST, "Invalid policyVersionId '%.32s'",
                       s ? s : "");
    }
    return FY_ERR_OK;
}

/* Compiles the document once to validate it (MalformedPolicyException on any error). */
static fy_err validate_document(struct api_req *req, const char *doc)
{
    struct fy_policy *p = NULL;
    fy_err e = fy_policy_compile(doc, strlen(doc), &p, &req->em);
    fy_policy_free(p);
    return e;
}

/* {policyDocument} from the body, validated. */
static fy_err document_in(struct api_req *req, const char **doc, json_t **tags)
{
    json_t *body;
    json_error_t err;
    fy_err e = api_body(req, &body);
    if (!e && tags &&
        json_unpack_ex(body, &err, 0, "{s:s, s?o !}", "policyDocument", doc, "tags", tags) != 0) {
        e = bad_body(req, &err);
    } else if (!e && !tags && json_unpack_ex(body, &err, 0, "{s:s !}", "policyDocument", doc)) {
        e = bad_body(req, &err);
    }
    return e ? e : validate_document(req, *doc);
}

static fy_err h_create(struct api_req *req)
{
    const char *name, *doc;
    json_t *tags = NULL;
    struct fy_policy_row row;
    char arn[POLICY_ARN_MAX], ver[24];
    fy_err e = require_name(req, &name);
    if (!e) {
        e = document_in(req, &doc, &tags);
    }
    if (!e && tags && json_array_size(tags) > 0) {
        e = fy_fail(&req->em, FY_ERR_INVALID_REQUEST, "Tags on policies are not supported yet");
    }
    if (!e) {
        e = fy_policy_create(req->db, name, doc, &row, &req->em);
    }
    if (e) {
        return e;
    }
    policy_arn(req, name, arn);
    snprintf(ver, sizeof(ver), "%lld", (long long)row.version);
    fy_audit(req->caller, req->op, arn);
    e = api_reply(req, json_pack("{s:s, s:s, s:s, s:s}", "policyName", name, "policyArn", arn,
                                 "policyDocument", row.document, "policyVersionId", ver));
    fy_policy_row_clear(&row);
    return e;
}

static fy_err h_get(struct api_req *req)
{
    const char *name;
    struct fy_policy_row row;
    char arn[POLICY_ARN_MAX], ver[24];
    fy_err e = require_name(req, &name);
    if (!e) {
        e = fy_policy_get(req->db, name, 0, &row, &req->em);
    }
    if (e) {
        return e;
    }
    policy_arn(req, name, arn);
    snprintf(ver, sizeof(ver), "%lld", (long long)row.default_version);
    e = api_reply(req,
                  json_pack("{s:s, s:s, s:s, s:s, s:f, s:f, s:s}", "policyName", name, "policyArn",
                            arn, "policyDocument", row.document, "defaultVersionId", ver,
                            "creationDate", row.creation_date, "lastModifiedDate",
                            row.last_modified, "generationId", row.generation_id));
    fy_policy_row_clear(&row);
    return e;
}

struct page {
    const struct api_req *req;
    json_t *items;
    char last[FY_ARN_MAX + 1];
};

static fy_err add_policy(void *ctx, const struct fy_policy_row *r)
{
    struct page *p = ctx;
    char arn[POLICY_ARN_MAX];
    policy_arn(p->req, r->name, arn);
    snprintf(p->last, sizeof(p->last), "%s", r->name);
    json_t *j = json_pack("{s:s, s:s}", "policyName", r->name, "policyArn", arn);
    return j && json_array_append_new(p->items, j) == 0 ? FY_ERR_OK : FY_ERR_NOMEM;
}

/* Replies {out_name: items, nextMarker?}; frees the page. */
static fy_err
page_reply(struct api_req *req, struct page *p, const char *out_name, bool more, fy_err e)
{
    json_t *j = e ? NULL : json_pack("{s:O}", out_name, p->items);
    if (!e) {
        e = j ? api_page_out(req, j, "nextMarker", more ? p->last : NULL) : FY_ERR_NOMEM;
    }
    if (!e) {
        e = api_reply(req, j);
        j = NULL;
    }
    json_decref(j);
    json_decref(p->items);
    return e;
}

static fy_err h_list(struct api_req *req)
{
    bool asc, more = false;
    int64_t limit;
    char *after = NULL;
    struct page p = {req, json_array(), ""};
    fy_err e = api_query_bool(req, "isAscendingOrder", false, &asc);
    if (!e) {
        e = api_page_in(req, "marker", "pageSize", POLICY_PAGE_DEFAULT, API_PAGE_MAX_DEFAULT,
                        &after, &limit);
    }
    if (!e) {
        e = fy_policy_list(req->db, asc, after, limit, add_policy, &p, &more, &req->em);
    }
    fy_free(after);
    return page_reply(req, &p, "policies", more, e);
}

static fy_err h_delete(struct api_req *req)
{
    const char *name;
    fy_err e = require_name(req, &name);
    if (!e) {
        e = fy_policy_delete(req->db, name, &req->em);
    }
    if (!e) {
        char arn[POLICY_ARN_MAX];
        policy_arn(req, name, arn);
        fy_audit(req->caller, req->op, arn);
    }
    return e;
}

static fy_err h_create_version(struct api_req *req)
{
    const char *name, *doc;
    bool set_default;
    struct fy_policy_row row;
    char arn[POLICY_ARN_MAX], ver[24];
    fy_err e = require_name(req, &name);
    if (!e) {
        e = api_query_bool(req, "setAsDefault", false, &set_default);
    }
    if (!e) {
        e = document_in(req, &doc, NULL);
    }
    if (!e) {
        e = fy_policy_version_create(req->db, name, doc, set_default, &row, &req->em);
    }
    if (e) {
        return e;
    }
    policy_arn(req, name, arn);
    snprintf(ver, sizeof(ver), "%lld", (long long)row.version);
    fy_audit(req->caller, req->op, arn);
    e = api_reply(req, json_pack("{s:s, s:s, s:s, s:b}", "policyArn", arn, "policyDocument",
                                 row.document, "policyVersionId", ver, "isDefaultVersion",
                                 row.version == row.default_version));
    fy_policy_row_clear(&row);
    return e;
}

static fy_err h_get_version(struct api_req *req)
{
    const char *name;
    int64_t v;
    struct fy_policy_row row;
    char arn[POLICY_ARN_MAX], ver[24];
    fy_err e = require_name(req, &name);
    if (!e) {
        e = require_version(req, &v);
    }
    if (!e) {
        e = fy_policy_get(req->db, name, v, &row, &req->em);
    }
    if (e) {
        return e;
    }
    policy_arn(req, name, arn);
    snprintf(ver, sizeof(ver), "%lld", (long long)v);
    e = api_reply(req,
                  json_pack("{s:s, s:s, s:s, s:s, s:b, s:f, s:f, s:s}", "policyArn", arn,
                            "policyName", name, "policyDocument", row.document, "policyVersionId",
                            ver, "isDefaultVersion", v == row.default_version, "creationDate",
                            row.version_date, "lastModifiedDate", row.last_modified, "generationId",
                            row.generation_id));
    fy_policy_row_clear(&row);
    return e;
}

static fy_err add_version(void *ctx, const struct fy_policy_row *r)
{
    json_t *items = ctx;
    char ver[24];
    snprintf(ver, sizeof(ver), "%lld", (long long)r->version);
    json_t *j = json_pack("{s:s, s:b, s:f}", "versionId", ver, "isDefaultVersion",
                          r->version == r->default_version, "createDate", r->version_date);
    return j && json_array_append_new(items, j) == 0 ? FY_ERR_OK : FY_ERR_NOMEM;
}

static fy_err h_list_versions(struct api_req *req)
{
    const char *name;
    json_t *items = json_array();
    fy_err e = require_name(req, &name);
    if (!e) {
        e = fy_policy_version_list(req->db, name, add_version, items, &req->em);
    }
    if (!e) {
        e = api_reply(req, json_pack("{s:O}", "policyVersions", items));
    }
    json_decref(items);
    return e;
}

static fy_err h_set_default(struct api_req *req)
{
    const char *name;
    int64_t v;
    fy_err e = require_name(req, &name);
    if (!e) {
        e = require_version(req, &v);
    }
    return e ? e : fy_policy_version_set_default(req->db, name, v, &req->em);
}

static fy_err h_delete_version(struct api_req *req)
{
    const char *name;
    int64_t v;
    fy_err e = require_name(req, &name);
    if (!e) {
        e = require_version(req, &v);
    }
    return e ? e : fy_policy_version_delete(req->db, name, v, &req->em);
}

static fy_err target_in(struct api_req *req, const char **target)
{
    json_t *body;
    json_error_t err;
    fy_err e = api_body(req, &body);
    if (!e && json_unpack_ex(body, &err, 0, "{s:s !}", "target", target) != 0) {
        e = bad_body(req, &err);
    }
    return e;
}

static fy_err attach_or_detach(struct api_req *req, bool attach)
{
    const char *name, *target;
    fy_err e = require_name(req, &name);
    if (!e) {
        e = target_in(req, &target);
    }
    if (!e) {
        e = attach ? fy_policy_attach(req->db, req->site, name, target, &req->em)
                   : fy_policy_detach(req->db, name, target, &req->em);
    }
    if (!e) {
        fy_audit(req->caller, req->op, target);
    }
    return e;
}

static fy_err h_attach(struct api_req *req)
{
    return attach_or_detach(req, true);
}

static fy_err h_detach(struct api_req *req)
{
    return attach_or_detach(req, false);
}

static fy_err h_list_attached(struct api_req *req)
{
    const char *target = api_param(req, "target");
    bool recursive, more = false;
    int64_t limit;
    char *after = NULL;
    struct page p = {req, json_array(), ""};
    fy_err e = api_query_bool(req, "recursive", false, &recursive);
    if (!e) {
        e = api_page_in(req, "marker", "pageSize", POLICY_PAGE_DEFAULT, API_PAGE_MAX_DEFAULT,
                        &after, &limit);
    }
    if (!e) {
        e = fy_policy_attached(req->db, req->site, target, recursive, after, limit, add_policy, &p,
                               &more, &req->em);
    }
    fy_free(after);
    return page_reply(req, &p, "policies", more, e);
}

static fy_err add_target(void *ctx, const char *target)
{
    struct page *p = ctx;
    snprintf(p->last, sizeof(p->last), "%s", target);
    return json_array_append_new(p->items, json_string(target)) == 0 ? FY_ERR_OK : FY_ERR_NOMEM;
}

static fy_err h_list_targets(struct api_req *req)
{
    const char *name;
    bool more = false;
    int64_t limit;
    char *after = NULL;
    struct page p = {req, json_array(), ""};
    fy_err e = require_name(req, &name);
    if (!e) {
        e = api_page_in(req, "marker", "pageSize", POLICY_PAGE_DEFAULT, API_PAGE_MAX_DEFAULT,
                        &after, &limit);
    }
    if (!e) {
        e = fy_policy_targets(req->db, name, after, limit, add_target, &p, &more, &req->em);
    }
    fy_free(after);
    return page_reply(req, &p, "targets", more, e);
}

static fy_err add_effective(void *ctx, const struct fy_policy_row *r)
{
    struct page *p = ctx;
    char arn[POLICY_ARN_MAX];
    policy_arn(p->req, r->name, arn);
    json_t *j = json_pack("{s:s, s:s, s:s}", "policyName", r->name, "policyArn", arn,
                          "policyDocument", r->document);
    return j && json_array_append_new(p->items, j) == 0 ? FY_ERR_OK : FY_ERR_NOMEM;
}

static const char SQL_THING_EXISTS[] = "SELECT 1 FROM things WHERE name = ?";
static const char SQL_CERT_EXISTS[] = "SELECT 1 FROM certificates WHERE cert_id = ?";

static fy_err must_exist(struct api_req *req, const char *sql, const char *key, const char *what)
{
    sqlite3_stmt *st = fy_db_stmt(req->db, sql, &req->em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    fy_bind_text(st, 1, key);
    int rc = sqlite3_step(st);
    fy_stmt_done(st);
    if (rc == SQLITE_DONE) {
        return fy_fail(&req->em, FY_ERR_NOT_FOUND, "%s %.200s does not exist", what, key);
    }
    return rc == SQLITE_ROW ? FY_ERR_OK : fy_db_err(req->db, rc, &req->em);
}

/* Checks the optional principal (a certificate ARN) and thing of an effective-policy query. */
static fy_err check_subjects(struct api_req *req, const char *principal, const char *thing)
{
    struct fy_arn a;
    if (principal &&
        (fy_arn_parse(principal, &a, NULL) != FY_ERR_OK || strcmp(a.type, "cert") != 0)) {
        return fy_fail(&req->em, FY_ERR_INVALID_REQUEST,
                       "principal must be a certificate ARN: %.200s", principal);
    }
    fy_err e = principal ? must_exist(req, SQL_CERT_EXISTS, a.resource, "Certificate") : FY_ERR_OK;
    if (!e && thing && !fy_valid_thing_name(thing)) {
        e = fy_fail(&req->em, FY_ERR_INVALID_REQUEST, "Invalid thingName '%.128s'", thing);
    }
    return !e && thing ? must_exist(req, SQL_THING_EXISTS, thing, "Thing") : e;
}

static fy_err h_effective(struct api_req *req)
{
    json_t *body;
    json_error_t err;
    const char *principal = NULL, *pool = NULL, *thing = api_query(req, "thingName");
    struct page p = {req, json_array(), ""};
    fy_err e = api_body(req, &body);
    if (!e && json_unpack_ex(body, &err, 0, "{s?s, s?s !}", "principal", &principal,
                             "cognitoIdentityPoolId", &pool) != 0) {
        e = bad_body(req, &err);
    }
    if (!e && pool) {
        e = fy_fail(&req->em, FY_ERR_INVALID_REQUEST, "Cognito identities are not supported");
    }
    if (!e) {
        e = check_subjects(req, principal, thing);
    }
    if (!e) {
        e = fy_policy_effective(req->db, req->site, principal, thing, add_effective, &p, &req->em);
    }
    if (!e) {
        e = api_reply(req, json_pack("{s:O}", "effectivePolicies", p.items));
    }
    json_decref(p.items);
    return e;
}

const struct api_route api_routes_policies[] = {
    {FY_SVC_IOT, "GET", "/policies", h_list, "ListPolicies"},
    {FY_SVC_IOT, "POST", "/policies/{policyName}", h_create, "CreatePolicy"},
    {FY_SVC_IOT, "GET", "/policies/{policyName}", h_get, "GetPolicy"},
    {FY_SVC_IOT, "DELETE", "/policies/{policyName}", h_delete, "DeletePolicy"},
    {FY_SVC_IOT, "POST", "/policies/{policyName}/version", h_create_version, "CreatePolicyVersion"},
    {FY_SVC_IOT, "GET", "/policies/{policyName}/version", h_list_versions, "ListPolicyVersions"},
    {FY_SVC_IOT, "GET", "/policies/{policyName}/version/{policyVersionId}", h_get_version,
     "GetPolicyVersion"},
    {FY_SVC_IOT, "PATCH", "/policies/{policyName}/version/{policyVersionId}", h_set_default,
     "SetDefaultPolicyVersion"},
    {FY_SVC_IOT, "DELETE", "/policies/{policyName}/version/{policyVersionId}", h_delete_version,
     "DeletePolicyVersion"},
    {FY_SVC_IOT, "PUT", "/target-policies/{policyName}", h_attach, "AttachPolicy"},
    {FY_SVC_IOT, "POST", "/target-policies/{policyName}", h_detach, "DetachPolicy"},
    {FY_SVC_IOT, "POST", "/attached-policies/{target}", h_list_attached, "ListAttachedPolicies"},
    {FY_SVC_IOT, "POST", "/policy-targets/{policyName}", h_list_targets, "ListTargetsForPolicy"},
    {FY_SVC_IOT, "POST", "/effective-policies", h_effective, "GetEffectivePolicies"},
    {0, NULL, NULL, NULL, NULL},
};
