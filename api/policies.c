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
#include "registry/groups.h"
#include "registry/identity.h"

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
    if (!e && tags) {
        e = fy_tags_check(tags, &req->em);
    }
    policy_arn(req, name, arn);
    if (!e) {
        e = fy_policy_create(req->db, name, doc, arn, tags, &row, &req->em);
    }
    if (e) {
        return e;
    }
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

/* ---- TestAuthorization ---- */

#define TEST_AUTH_INFOS_MAX     10 /* authInfos per request (model) */
#define TEST_AUTH_RESOURCES_MAX 100
#define TEST_AUTH_MISSING_MAX   32

struct auth_set {
    const struct api_req *req;
    struct fy_policy *compiled[FY_POLICY_SET_MAX];
    char names[FY_POLICY_SET_MAX][FY_POLICY_NAME_MAX + 1];
    size_t n;
    json_t *skip; /* policyNamesToSkip (borrowed) */
    fy_err error;
};

static bool skipped(const json_t *skip, const char *name)
{
    size_t i;
    json_t *v;
    json_array_foreach (skip, i, v) {
        if (json_is_string(v) && strcmp(json_string_value(v), name) == 0) {
            return true;
        }
    }
    return false;
}

/* Adds one policy (default version) to the evaluation set, once. */
static fy_err set_add(void *ctx, const struct fy_policy_row *r)
{
    struct auth_set *s = ctx;
    for (size_t i = 0; i < s->n; i++) {
        if (strcmp(s->names[i], r->name) == 0) {
            return FY_ERR_OK;
        }
    }
    if (skipped(s->skip, r->name)) {
        return FY_ERR_OK;
    }
    if (s->n == FY_POLICY_SET_MAX) {
        return FY_ERR_LIMIT_EXCEEDED;
    }
    struct fy_errmsg em;
    if (fy_policy_compile(r->document, strlen(r->document), &s->compiled[s->n], &em)) {
        return FY_ERR_INTERNAL; /* stored documents were validated when created */
    }
    snprintf(s->names[s->n++], FY_POLICY_NAME_MAX + 1, "%s", r->name);
    return FY_ERR_OK;
}

static void set_free(struct auth_set *s)
{
    for (size_t i = 0; i < s->n; i++) {
        fy_policy_free(s->compiled[i]);
    }
}

static fy_err add_named_policies(struct api_req *req, struct auth_set *s, const json_t *names)
{
    size_t i;
    json_t *v;
    json_array_foreach (names, i, v) {
        struct fy_policy_row row;
        if (!json_is_string(v)) {
            return fy_fail(&req->em, FY_ERR_INVALID_REQUEST, "policyNamesToAdd must be strings");
        }
        fy_err e = fy_policy_get(req->db, json_string_value(v), 0, &row, &req->em);
        if (!e) {
            e = set_add(s, &row);
            fy_policy_row_clear(&row);
        }
        if (e) {
            return e;
        }
    }
    return FY_ERR_OK;
}

/* Records the context keys a policy asked for and the identity did not have. */
struct missing_ctx {
    struct fy_identity *id;
    json_t *missing;
};

static size_t recording_lookup(void *ctx, const char *name, const char **out, size_t max)
{
    struct missing_ctx *m = ctx;
    size_t n = fy_identity_lookup(m->id, name, out, max);
    if (n == 0 && m->missing && json_array_size(m->missing) < TEST_AUTH_MISSING_MAX &&
        !skipped(m->missing, name) && json_array_append_new(m->missing, json_string(name)) != 0) {
        json_decref(m->missing); /* eval_info's pack then fails: Out of memory */
        m->missing = NULL;
    }
    return n;
}

static const char *action_of(const char *type)
{
    static const char *const map[][2] = {{"PUBLISH", "iot:Publish"},
                                         {"SUBSCRIBE", "iot:Subscribe"},
                                         {"RECEIVE", "iot:Receive"},
                                         {"CONNECT", "iot:Connect"}};
    for (size_t i = 0; type && i < sizeof(map) / sizeof(map[0]); i++) {
        if (strcmp(type, map[i][0]) == 0) {
            return map[i][1];
        }
    }
    return NULL;
}

static json_t *policies_of(const struct api_req *req, const struct auth_set *s, uint64_t bits)
{
    json_t *a = json_array();
    char arn[POLICY_ARN_MAX];
    for (size_t i = 0; a && i < s->n; i++) {
        if (!(bits & ((uint64_t)1 << i))) {
            continue;
        }
        policy_arn(req, s->names[i], arn);
        json_t *p = json_pack("{s:s, s:s}", "policyName", s->names[i], "policyArn", arn);
        if (json_array_append_new(a, p) != 0) {
            json_decref(a);
            a = NULL;
        }
    }
    return json_pack("{s:o}", "policies", a); /* NULL a: out of memory, the pack fails */
}

/* Evaluates one authInfo; appends its authResult to results. */
static fy_err eval_info(struct api_req *req,
                        const struct auth_set *s,
                        struct fy_identity *id,
                        const json_t *info,
                        json_t *results)
{
    const char *type = NULL;
    json_t *resources = NULL;
    json_error_t err;
    if (json_unpack_ex((json_t *)info, &err, 0, "{s?s, s:o !}", "actionType", &type, "resources",
                       &resources) != 0 ||
        !json_is_array(resources) || json_array_size(resources) == 0 ||
        json_array_size(resources) > TEST_AUTH_RESOURCES_MAX) {
        return fy_fail(&req->em, FY_ERR_INVALID_REQUEST,
                       "Each authInfo needs actionType and 1-%d resources",
                       TEST_AUTH_RESOURCES_MAX);
    }
    const char *action = action_of(type);
    if (!action) {
        return fy_fail(&req->em, FY_ERR_INVALID_REQUEST,
                       "actionType must be PUBLISH, SUBSCRIBE, RECEIVE or CONNECT");
    }
    struct missing_ctx m = {id, json_array()};
    uint64_t allowed = 0, denied = 0;
    bool all_allowed = true;
    size_t i;
    json_t *r;
    json_array_foreach (resources, i, r) {
        struct fy_policy_request pr = {action, json_string_value(r), recording_lookup, &m};
        struct fy_policy_why why;
        const struct fy_policy *const *set = (const struct fy_policy *const *)s->compiled;
        all_allowed &= fy_policy_eval(set, s->n, &pr, &why) == FY_POLICY_ALLOWED;
        allowed |= why.allowed;
        denied |= why.denied;
    }
    enum fy_policy_decision d = denied        ? FY_POLICY_EXPLICIT_DENY
                                : all_allowed ? FY_POLICY_ALLOWED
                                              : FY_POLICY_IMPLICIT_DENY;
    uint64_t everyone = s->n == 64 ? ~(uint64_t)0 : (((uint64_t)1 << s->n) - 1);
    json_t *res = json_pack(
        "{s:O, s:o, s:{s:o, s:o}, s:s, s:o}", "authInfo", info, "allowed",
        policies_of(req, s, d == FY_POLICY_ALLOWED ? allowed : 0), "denied", "implicitDeny",
        policies_of(req, s, d == FY_POLICY_IMPLICIT_DENY ? everyone & ~allowed : 0), "explicitDeny",
        policies_of(req, s, denied), "authDecision", fy_policy_decision_name(d),
        "missingContextValues", m.missing);
    return res && json_array_append_new(results, res) == 0 ? FY_ERR_OK : FY_ERR_NOMEM;
}

struct auth_input {
    const char *principal, *pool;
    json_t *infos, *add, *skip;
};

static fy_err auth_input(struct api_req *req, struct auth_input *in, struct fy_arn *cert)
{
    json_t *body;
    json_error_t err;
    memset(in, 0, sizeof(*in));
    fy_err e = api_body(req, &body);
    if (!e &&
        json_unpack_ex(body, &err, 0, "{s?s, s?s, s:o, s?o, s?o !}", "principal", &in->principal,
                       "cognitoIdentityPoolId", &in->pool, "authInfos", &in->infos,
                       "policyNamesToAdd", &in->add, "policyNamesToSkip", &in->skip) != 0) {
        return bad_body(req, &err);
    }
    if (!e && (!json_is_array(in->infos) || json_array_size(in->infos) == 0 ||
               json_array_size(in->infos) > TEST_AUTH_INFOS_MAX)) {
        return fy_fail(&req->em, FY_ERR_INVALID_REQUEST, "authInfos must hold 1-%d entries",
                       TEST_AUTH_INFOS_MAX);
    }
    if (!e && (!in->principal || in->pool)) {
        return fy_fail(&req->em, FY_ERR_INVALID_REQUEST,
                       "principal (a certificate ARN) is required; Cognito identities are not "
                       "supported");
    }
    if (!e &&
        (fy_arn_parse(in->principal, cert, NULL) != FY_ERR_OK || strcmp(cert->type, "cert") != 0)) {
        return fy_fail(&req->em, FY_ERR_INVALID_REQUEST,
                       "principal must be a certificate ARN: %.200s", in->principal);
    }
    return e;
}

static fy_err h_test_authorization(struct api_req *req)
{
    struct auth_input in;
    struct fy_arn cert;
    struct fy_identity id;
    struct auth_set s;
    memset(&s, 0, sizeof(s));
    memset(&id, 0, sizeof(id));
    fy_err e = auth_input(req, &in, &cert);
    s.req = req;
    s.skip = in.skip;
    if (!e) {
        e = fy_identity_load(req->db, req->site, cert.resource, api_query(req, "clientId"), &id,
                             &req->em);
    }
    if (!e) {
        e = fy_identity_load_cert(req->db, &id, &req->em);
    }
    if (!e) {
        e = fy_policy_effective(req->db, req->site, id.cert_arn, id.attached ? id.thing : NULL,
                                set_add, &s, &req->em);
    }
    if (!e && in.add) {
        e = add_named_policies(req, &s, in.add);
    }
    json_t *results = json_array();
    size_t i;
    json_t *info;
    json_array_foreach (e ? NULL : in.infos, i, info) {
        e = e ? e : eval_info(req, &s, &id, info, results);
    }
    if (!e) {
        e = api_reply(req, json_pack("{s:O}", "authResults", results));
    }
    if (e == FY_ERR_LIMIT_EXCEEDED) {
        fy_errf(&req->em, "More than %d policies apply", FY_POLICY_SET_MAX);
    }
    json_decref(results);
    set_free(&s);
    fy_identity_clear(&id);
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
    {FY_SVC_IOT, "POST", "/test-authorization", h_test_authorization, "TestAuthorization"},
    {0, NULL, NULL, NULL, NULL},
};
