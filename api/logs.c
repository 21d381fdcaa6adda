/* CloudWatch Logs (awsJson1_1: POST / with X-Amz-Target: Logs_20140328.<Operation>): the log
 * groups and streams of fleetyard's log store. Events are read by api/logs_events.c. */
#include "logs/logs.h"

#include <string.h>

#include "api/api.h"
#include "api/routes.h"
#include "core/alloc.h"
#include "core/codec.h"
#include "core/fytime.h"

#define LOGS_TARGET_PREFIX  "Logs_20140328."
#define LOGS_TOKEN_PREFIX   "fyl:"
#define LOGS_DESCRIBE_LIMIT 50 /* DescribeLimit max and default */

const char *api_logs_error_type(fy_err e)
{
    return e == FY_ERR_INVALID_REQUEST ? "InvalidParameterException" : fy_err_type(e);
}

fy_err api_logs_token_in(struct api_req *req, json_t *body, char **key)
{
    const char *tok = json_string_value(json_object_get(body, "nextToken"));
    *key = NULL;
    if (!tok) {
        return FY_ERR_OK;
    }
    size_t n = 0, np = strlen(LOGS_TOKEN_PREFIX);
    char *raw = strlen(tok) <= API_TOKEN_MAX ? fy_b64url_decode_new(tok, &n) : NULL;
    if (!raw || n < np || memcmp(raw, LOGS_TOKEN_PREFIX, np) != 0 || memchr(raw, '\0', n)) {
        fy_free(raw);
        return fy_fail(&req->em, FY_ERR_INVALID_REQUEST, "The specified nextToken is invalid.");
    }
    memmove(raw, raw + np, n - np + 1);
    *key = raw;
    return FY_ERR_OK;
}

fy_err api_logs_token_out(struct api_req *req, json_t *j, const char *name, const char *key)
{
    if (!key) {
        return FY_ERR_OK;
    }
    size_t np = strlen(LOGS_TOKEN_PREFIX), nk = strlen(key);
    char *raw = fy_malloc(np + nk + 1);
    if (raw) {
        memcpy(raw, LOGS_TOKEN_PREFIX, np);
        memcpy(raw + np, key, nk + 1);
    }
    char *tok = raw ? fy_b64url_new(raw, np + nk) : NULL;
    fy_free(raw);
    if (!tok || json_object_set_new(j, name, json_string(tok)) != 0) {
        fy_free(tok);
        return fy_fail(&req->em, FY_ERR_NOMEM, "Out of memory");
    }
    fy_free(tok);
    return FY_ERR_OK;
}

fy_err api_logs_group_name(struct api_req *req, json_t *body, const char *key, const char **out)
{
    const char *s = json_string_value(json_object_get(body, key));
    if (!s && strcmp(key, "logGroupName") == 0) {
        s = json_string_value(json_object_get(body, "logGroupIdentifier"));
    }
    if (!fy_logs_valid_group_name(s)) {
        return fy_fail(&req->em, FY_ERR_INVALID_REQUEST,
                       "1 validation error detected: Value '%.128s' at '%s' failed to satisfy "
                       "constraint: Member must match pattern [\\.\\-_/#A-Za-z0-9]+ and have "
                       "length 1 to %d",
                       s ? s : "null", key, FY_LOGS_GROUP_NAME_MAX);
    }
    *out = s;
    return FY_ERR_OK;
}

/* The body as an object whose members are all in allowed (NULL-terminated). */
fy_err api_logs_body(struct api_req *req, const char *const *allowed, json_t **out)
{
    fy_err e = api_body(req, out);
    const char *k;
    json_t *v;
    json_object_foreach (e ? NULL : *out, k, v) {
        size_t i = 0;
        while (allowed[i] && strcmp(allowed[i], k) != 0) {
            i++;
        }
        if (!allowed[i]) {
            return fy_fail(&req->em, FY_ERR_INVALID_REQUEST, "Unknown parameter '%.64s'", k);
        }
    }
    return e;
}

static fy_err h_create_group(struct api_req *req)
{
    static const char *const allowed[] = {"logGroupName", "kmsKeyId", "tags", NULL};
    json_t *body;
    const char *name = NULL;
    fy_err e = api_logs_body(req, allowed, &body);
    e = e ? e : api_logs_group_name(req, body, "logGroupName", &name);
    return e ? e : fy_logs_group_create(req->db, name, fy_now_ms(), &req->em);
}

static fy_err h_delete_group(struct api_req *req)
{
    static const char *const allowed[] = {"logGroupName", NULL};
    json_t *body;
    const char *name = NULL;
    fy_err e = api_logs_body(req, allowed, &body);
    e = e ? e : api_logs_group_name(req, body, "logGroupName", &name);
    return e ? e : fy_logs_group_delete(req->db, name, &req->em);
}

static fy_err h_retention(struct api_req *req)
{
    static const char *const allowed[] = {"logGroupName", "retentionInDays", NULL};
    json_t *body;
    const char *name = NULL;
    fy_err e = api_logs_body(req, allowed, &body);
    e = e ? e : api_logs_group_name(req, body, "logGroupName", &name);
    json_t *j_days = e ? NULL : json_object_get(body, "retentionInDays");
    if (!e && (!json_is_integer(j_days) || !fy_logs_valid_retention(json_integer_value(j_days)))) {
        e = fy_fail(&req->em, FY_ERR_INVALID_REQUEST,
                    "retentionInDays must be one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, "
                    "365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653");
    }
    return e ? e
             : fy_logs_group_retention(req->db, name, (int)json_integer_value(j_days), fy_now_ms(),
                                       &req->em);
}

static fy_err h_delete_retention(struct api_req *req)
{
    static const char *const allowed[] = {"logGroupName", NULL};
    json_t *body;
    const char *name = NULL;
    fy_err e = api_logs_body(req, allowed, &body);
    e = e ? e : api_logs_group_name(req, body, "logGroupName", &name);
    return e ? e : fy_logs_group_retention(req->db, name, 0, fy_now_ms(), &req->em);
}

/* "limit" in [1, max], def when absent. */
fy_err api_logs_limit(struct api_req *req, json_t *body, int64_t max, int64_t def, int64_t *out)
{
    json_t *j = json_object_get(body, "limit");
    *out = def;
    if (!j) {
        return FY_ERR_OK;
    }
    if (!json_is_integer(j) || json_integer_value(j) < 1 || json_integer_value(j) > max) {
        return fy_fail(&req->em, FY_ERR_INVALID_REQUEST, "limit must be between 1 and %lld",
                       (long long)max);
    }
    *out = json_integer_value(j);
    return FY_ERR_OK;
}

static fy_err h_describe_groups(struct api_req *req)
{
    static const char *const allowed[] = {"logGroupNamePrefix", "nextToken", "limit", NULL};
    json_t *body, *j_items = json_array();
    const char *prefix = NULL;
    char *after = NULL, *next = NULL;
    int64_t limit;
    fy_err e = api_logs_body(req, allowed, &body);
    if (!e && json_object_get(body, "logGroupNamePrefix")) {
        e = api_logs_group_name(req, body, "logGroupNamePrefix", &prefix);
    }
    e = e ? e : api_logs_limit(req, body, LOGS_DESCRIBE_LIMIT, LOGS_DESCRIBE_LIMIT, &limit);
    e = e ? e : api_logs_token_in(req, body, &after);
    e = e ? e : fy_logs_expire(req->db, fy_now_ms(), &req->em);
    e = e ? e
          : fy_logs_groups_list(req->db, req->site, prefix, after, limit, j_items, &next, &req->em);
    e = api_logs_reply_list(req, e, "logGroups", j_items, next);
    fy_free(after);
    fy_free(next);
    return e;
}

static const struct api_route logs_ops[] = {
    {FY_SVC_LOGS, "POST", "/", h_create_group, "CreateLogGroup"},
    {FY_SVC_LOGS, "POST", "/", h_delete_group, "DeleteLogGroup"},
    {FY_SVC_LOGS, "POST", "/", h_describe_groups, "DescribeLogGroups"},
    {FY_SVC_LOGS, "POST", "/", h_retention, "PutRetentionPolicy"},
    {FY_SVC_LOGS, "POST", "/", h_delete_retention, "DeleteRetentionPolicy"},
    {FY_SVC_LOGS, "POST", "/", api_logs_create_stream, "CreateLogStream"},
    {FY_SVC_LOGS, "POST", "/", api_logs_describe_streams, "DescribeLogStreams"},
    {FY_SVC_LOGS, "POST", "/", api_logs_put_events, "PutLogEvents"},
    {FY_SVC_LOGS, "POST", "/", api_logs_get_events, "GetLogEvents"},
    {FY_SVC_LOGS, "POST", "/", api_logs_filter_events, "FilterLogEvents"},
    {0, NULL, NULL, NULL, NULL},
};

const struct api_route *api_logs_op(const struct api_req *req)
{
    const char *target = api_header(req, "x-amz-target");
    size_t np = strlen(LOGS_TARGET_PREFIX);
    if (target && strncmp(target, LOGS_TARGET_PREFIX, np) == 0) {
        for (const struct api_route *r = logs_ops; r->op; r++) {
            if (strcmp(target + np, r->op) == 0) {
                return r;
            }
        }
    }
    return NULL;
}

/* POST /: picks the operation named by X-Amz-Target. */
static fy_err h_dispatch(struct api_req *req)
{
    const struct api_route *r = api_logs_op(req);
    if (r) {
        req->op = r->op;
        return r->fn(req);
    }
    const char *target = api_header(req, "x-amz-target");
    return fy_fail(&req->em, FY_ERR_UNKNOWN_OPERATION, "Unknown operation %.100s",
                   target ? target : "(no X-Amz-Target)");
}

const struct api_route api_routes_logs[] = {
    {FY_SVC_LOGS, "POST", "/", h_dispatch, "Logs"},
    {0, NULL, NULL, NULL, NULL},
};
