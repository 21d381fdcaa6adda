/* Jobs control plane: CreateJob, DescribeJob, GetJobDocument, ListJobs, UpdateJob, CancelJob,
 * DeleteJob. Domain logic is in jobs/; devices hear about changes through api_jobs_notify. */
#include "jobs/jobs.h"

#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "api/routes.h"
#include "core/alloc.h"
#include "core/fytime.h"
#include "core/log.h"
#include "core/names.h"

#define JOBS_PAGE_DEFAULT 50
#define JOBS_NOTIFY_QOS   1

static const char *const JOB_STATUSES[] = {"IN_PROGRESS",          "CANCELED",  "COMPLETED",
                                           "DELETION_IN_PROGRESS", "SCHEDULED", NULL};
static const char *const SELECTIONS[] = {"SNAPSHOT", "CONTINUOUS", NULL};

/* fy_jobs_publish_fn over the internal link; a broker that cannot be reached loses it (devices
 * also poll). */
static void publish(void *ctx, const char *topic, const char *text)
{
    struct api_req *req = ctx;
    if (api_publish(req, topic, text, strlen(text), JOBS_NOTIFY_QOS, false) != FY_ERR_OK) {
        fy_log(FY_LOG_DEBUG, "jobs", "could not publish %.300s: %s", topic, req->em.msg);
    }
}

void api_jobs_notify(struct api_req *req, struct fy_jobs_changed *changed)
{
    fy_jobs_changed_publish(req->db, changed, fy_now(), publish, req);
    fy_jobs_changed_clear(changed);
}

fy_err
api_jobs_enum(struct api_req *req, const char *name, const char *const *allowed, const char **out)
{
    *out = api_query(req, name);
    for (size_t i = 0; *out && allowed[i]; i++) {
        if (strcmp(*out, allowed[i]) == 0) {
            return FY_ERR_OK;
        }
    }
    return *out ? fy_fail(&req->em, FY_ERR_INVALID_REQUEST,
                          "1 validation error detected: Value '%.64s' at '%.32s' failed to "
                          "satisfy constraint: Member must satisfy enum value set",
                          *out, name)
                : FY_ERR_OK;
}

static fy_err h_create(struct api_req *req)
{
    const char *id;
    json_t *body;
    char arn[FY_ARN_MAX + 1];
    struct fy_jobs_changed changed = {0, 0, NULL};
    fy_err e = api_require_param(req, "jobId", fy_valid_job_id, &id);
    if (!e) {
        e = api_body(req, &body);
    }
    if (!e) {
        e = fy_job_create(req->db, req->site, id, body, fy_now(), arn, sizeof(arn), &changed,
                          &req->em);
    }
    if (e) {
        fy_jobs_changed_clear(&changed);
        return e;
    }
    fy_audit(req->caller, "CreateJob", arn);
    api_jobs_notify(req, &changed); /* the first wave, released by the create itself */
    return api_reply(req, json_pack("{s:s, s:s, s:s*}", "jobArn", arn, "jobId", id, "description",
                                    json_string_value(json_object_get(body, "description"))));
}

static fy_err h_describe(struct api_req *req)
{
    const char *id;
    json_t *j = NULL;
    fy_err e = api_require_param(req, "jobId", fy_valid_job_id, &id);
    if (!e) {
        e = fy_job_describe(req->db, req->site, id, &j, &req->em);
    }
    return e ? e : api_reply(req, j);
}

static fy_err h_document(struct api_req *req)
{
    const char *id;
    char *doc = NULL;
    fy_err e = api_require_param(req, "jobId", fy_valid_job_id, &id);
    if (!e) {
        e = fy_job_document(req->db, id, &doc, &req->em);
    }
    if (e) {
        return e;
    }
    e = api_reply(req, json_pack("{s:s}", "document", doc));
    fy_free(doc);
    return e;
}

/* Replies {key: items, nextToken?}; takes items. */
fy_err
api_jobs_list_reply(struct api_req *req, const char *key, json_t *items, char *next, fy_err e)
{
    json_t *j = e ? NULL : json_pack("{s:O}", key, items);
    if (!e && !j) {
        e = fy_fail(&req->em, FY_ERR_NOMEM, "Out of memory");
    }
    if (!e) {
        e = api_page_out(req, j, "nextToken", next);
    }
    if (!e) {
        e = api_reply(req, j);
        j = NULL;
    }
    json_decref(j);
    json_decref(items);
    fy_free(next);
    return e;
}

static fy_err h_list(struct api_req *req)
{
    struct fy_job_filter f = {NULL, NULL, NULL, NULL, NULL};
    char *after = NULL, *next = NULL;
    int64_t limit = 0;
    json_t *items = json_array();
    fy_err e = api_jobs_enum(req, "status", JOB_STATUSES, &f.status);
    if (!e) {
        e = api_jobs_enum(req, "targetSelection", SELECTIONS, &f.target_selection);
    }
    f.group = api_query(req, "thingGroupName");
    f.group_id = api_query(req, "thingGroupId");
    if (!e && f.group && !fy_valid_thing_name(f.group)) {
        e = fy_fail(&req->em, FY_ERR_INVALID_REQUEST, "Invalid thingGroupName");
    }
    f.ns = api_query(req, "namespaceId");
    if (!e && f.ns && !fy_jobs_valid_namespace(f.ns)) {
        e = fy_fail(&req->em, FY_ERR_INVALID_REQUEST, "Invalid namespaceId");
    }
    if (!e) {
        e = api_page_in(req, "nextToken", "maxResults", JOBS_PAGE_DEFAULT, API_PAGE_MAX_DEFAULT,
                        &after, &limit);
    }
    if (!e) {
        e = items ? fy_job_list(req->db, req->site, &f, after, limit, items, &next, &req->em)
                  : FY_ERR_NOMEM;
    }
    fy_free(after);
    return api_jobs_list_reply(req, "jobs", items, next, e);
}

static fy_err h_update(struct api_req *req)
{
    const char *id;
    json_t *body;
    fy_err e = api_require_param(req, "jobId", fy_valid_job_id, &id);
    if (!e) {
        e = api_body(req, &body);
    }
    if (!e) {
        e = fy_job_check_namespace(req->db, id, api_query(req, "namespaceId"), &req->em);
    }
    if (!e) {
        e = fy_job_update(req->db, id, body, fy_now(), &req->em);
    }
    if (!e) {
        fy_audit(req->caller, "UpdateJob", id);
    }
    return e;
}

static fy_err h_cancel(struct api_req *req)
{
    const char *id, *reason = NULL, *comment = NULL;
    json_t *body, *j = NULL;
    json_error_t err;
    bool force = false;
    struct fy_jobs_changed changed = {0, 0, NULL};
    fy_err e = api_require_param(req, "jobId", fy_valid_job_id, &id);
    if (!e) {
        e = api_body(req, &body);
    }
    if (!e && json_unpack_ex(body, &err, 0, "{s?s, s?s !}", "reasonCode", &reason, "comment",
                             &comment) != 0) {
        e = fy_fail(&req->em, FY_ERR_INVALID_REQUEST, "Invalid request body: %.200s", err.text);
    }
    if (!e) {
        e = api_query_bool(req, "force", false, &force);
    }
    if (!e) {
        e = fy_job_cancel(req->db, id, force, reason, comment, fy_now(), &changed, &req->em);
    }
    if (!e) {
        fy_audit(req->caller, force ? "CancelJob(force)" : "CancelJob", id);
        api_jobs_notify(req, &changed);
        e = fy_job_describe(req->db, req->site, id, &j, &req->em);
    }
    fy_jobs_changed_clear(&changed);
    if (e) {
        return e;
    }
    json_t *job = json_object_get(j, "job");
    e = api_reply(req, json_pack("{s:O, s:O, s:O*}", "jobArn", json_object_get(job, "jobArn"),
                                 "jobId", json_object_get(job, "jobId"), "description",
                                 json_object_get(job, "description")));
    json_decref(j);
    return e;
}

static fy_err h_delete(struct api_req *req)
{
    const char *id;
    bool force = false;
    struct fy_jobs_changed changed = {0, 0, NULL};
    fy_err e = api_require_param(req, "jobId", fy_valid_job_id, &id);
    if (!e) {
        e = api_query_bool(req, "force", false, &force);
    }
    if (!e) {
        e = fy_job_check_namespace(req->db, id, api_query(req, "namespaceId"), &req->em);
    }
    if (!e) {
        e = fy_job_delete(req->db, id, force, fy_now(), &changed, &req->em);
    }
    if (!e) {
        fy_audit(req->caller, "DeleteJob", id);
        api_jobs_notify(req, &changed);
    }
    fy_jobs_changed_clear(&changed);
    return e;
}

/* Literal paths come before {jobId} patterns. */
const struct api_route api_routes_jobs[] = {
    {FY_SVC_IOT, "GET", "/jobs", h_list, "ListJobs"},
    {FY_SVC_IOT, "PUT", "/jobs/{jobId}", h_create, "CreateJob"},
    {FY_SVC_IOT, "GET", "/jobs/{jobId}", h_describe, "DescribeJob"},
    {FY_SVC_IOT, "PATCH", "/jobs/{jobId}", h_update, "UpdateJob"},
    {FY_SVC_IOT, "DELETE", "/jobs/{jobId}", h_delete, "DeleteJob"},
    {FY_SVC_IOT, "PUT", "/jobs/{jobId}/cancel", h_cancel, "CancelJob"},
    {FY_SVC_IOT, "GET", "/jobs/{jobId}/job-document", h_document, "GetJobDocument"},
    {0, NULL, NULL, NULL, NULL},
};
