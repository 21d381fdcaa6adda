/* Job executions on the control plane: DescribeJobExecution, ListJobExecutionsForJob,
 * ListJobExecutionsForThing, CancelJobExecution, DeleteJobExecution. */
#include <string.h>

#include "api/api.h"
#include "api/routes.h"
#include "core/alloc.h"
#include "core/fytime.h"
#include "core/log.h"
#include "core/names.h"
#include "jobs/jobs.h"

#define EXEC_PAGE_DEFAULT 50

static const char *const EXEC_STATUSES[] = {"QUEUED",  "IN_PROGRESS", "SUCCEEDED",
                                            "FAILED",  "TIMED_OUT",   "REJECTED",
                                            "REMOVED", "CANCELED",    NULL};

static bool valid_execution_number(const char *s)
{
    int64_t v;
    return fy_parse_i64_full(s, 0, INT64_MAX, &v) == 0;
}

static fy_err thing_and_job(struct api_req *req, const char **thing, const char **job)
{
    fy_err e = api_require_param(req, "thingName", fy_valid_thing_name, thing);
    return e ? e : api_require_param(req, "jobId", fy_valid_job_id, job);
}

static fy_err h_describe(struct api_req *req)
{
    const char *thing, *job;
    int64_t number = -1;
    json_t *j = NULL;
    fy_err e = thing_and_job(req, &thing, &job);
    if (!e) {
        e = api_query_int(req, "executionNumber", 0, INT64_MAX, -1, &number);
    }
    if (!e) {
        e = fy_exec_describe(req->db, req->site, thing, job, number, fy_now(), &j, &req->em);
    }
    return e ? e : api_reply(req, j);
}

static fy_err list(struct api_req *req, struct fy_exec_filter *f)
{
    char *after = NULL, *next = NULL;
    int64_t limit = 0;
    json_t *items = json_array();
    fy_err e = api_jobs_enum(req, "status", EXEC_STATUSES, &f->status);
    f->ns = api_query(req, "namespaceId");
    if (!e && f->ns && !fy_jobs_valid_namespace(f->ns)) {
        e = fy_fail(&req->em, FY_ERR_INVALID_REQUEST, "Invalid namespaceId");
    }
    if (!e) {
        e = api_page_in(req, "nextToken", "maxResults", EXEC_PAGE_DEFAULT, API_PAGE_MAX_DEFAULT,
                        &after, &limit);
    }
    if (!e) {
        e = items ? fy_exec_list(req->db, req->site, f, after, limit, items, &next, &req->em)
                  : FY_ERR_NOMEM;
    }
    fy_free(after);
    return api_jobs_list_reply(req, "executionSummaries", items, next, e);
}

static fy_err h_list_for_job(struct api_req *req)
{
    struct fy_exec_filter f = {NULL, NULL, NULL, NULL};
    fy_err e = api_require_param(req, "jobId", fy_valid_job_id, &f.job_id);
    return e ? e : list(req, &f);
}

static fy_err h_list_for_thing(struct api_req *req)
{
    struct fy_exec_filter f = {NULL, NULL, NULL, NULL};
    fy_err e = api_require_param(req, "thingName", fy_valid_thing_name, &f.thing);
    f.job_id = api_query(req, "jobId");
    if (!e && f.job_id && !fy_valid_job_id(f.job_id)) {
        e = fy_fail(&req->em, FY_ERR_INVALID_REQUEST, "Invalid jobId");
    }
    return e ? e : list(req, &f);
}

static fy_err h_cancel(struct api_req *req)
{
    const char *thing, *job;
    json_t *body, *details = NULL;
    json_error_t err;
    json_int_t expected = -1;
    bool force = false;
    struct fy_jobs_changed changed = {0, 0, NULL};
    fy_err e = thing_and_job(req, &thing, &job);
    if (!e) {
        e = api_body(req, &body);
    }
    if (!e && json_unpack_ex(body, &err, 0, "{s?I, s?o !}", "expectedVersion", &expected,
                             "statusDetails", &details) != 0) {
        e = fy_fail(&req->em, FY_ERR_INVALID_REQUEST, "Invalid request body: %.200s", err.text);
    }
    if (!e) {
        e = api_query_bool(req, "force", false, &force);
    }
    if (!e) {
        e = fy_exec_cancel(req->db, thing, job, force, expected, details, fy_now(), &changed,
                           &req->em);
    }
    if (!e) {
        fy_audit(req->caller, "CancelJobExecution", thing);
        api_jobs_notify(req, &changed);
    }
    fy_jobs_changed_clear(&changed);
    return e;
}

static fy_err h_delete(struct api_req *req)
{
    const char *thing, *job, *number;
    int64_t n = 0;
    bool force = false;
    struct fy_jobs_changed changed = {0, 0, NULL};
    fy_err e = thing_and_job(req, &thing, &job);
    if (!e) {
        e = api_require_param(req, "executionNumber", valid_execution_number, &number);
    }
    if (!e && fy_parse_i64_full(number, 0, INT64_MAX, &n) != 0) {
        e = fy_fail(&req->em, FY_ERR_INVALID_REQUEST, "Invalid executionNumber");
    }
    if (!e) {
        e = api_query_bool(req, "force", false, &force);
    }
    if (!e) {
        e = fy_job_check_namespace(req->db, job, api_query(req, "namespaceId"), &req->em);
    }
    if (!e) {
        e = fy_exec_delete(req->db, thing, job, n, force, &changed, &req->em);
    }
    if (!e) {
        fy_audit(req->caller, "DeleteJobExecution", thing);
        api_jobs_notify(req, &changed);
    }
    fy_jobs_changed_clear(&changed);
    return e;
}

const struct api_route api_routes_jobs_exec[] = {
    {FY_SVC_IOT, "GET", "/jobs/{jobId}/things", h_list_for_job, "ListJobExecutionsForJob"},
    {FY_SVC_IOT, "GET", "/things/{thingName}/jobs", h_list_for_thing, "ListJobExecutionsForThing"},
    {FY_SVC_IOT, "GET", "/things/{thingName}/jobs/{jobId}", h_describe, "DescribeJobExecution"},
    {FY_SVC_IOT, "PUT", "/things/{thingName}/jobs/{jobId}/cancel", h_cancel, "CancelJobExecution"},
    {FY_SVC_IOT, "DELETE", "/things/{thingName}/jobs/{jobId}/executionNumber/{executionNumber}",
     h_delete, "DeleteJobExecution"},
    {0, NULL, NULL, NULL, NULL},
};
