/* The HTTP jobs data plane (signing name iot-jobs-data): GetPendingJobExecutions,
 * StartNextPendingJobExecution, DescribeJobExecution, UpdateJobExecution. Each is the MQTT
 * device operation of jobs/ (same function, same checks), rendered the HTTP way: no timestamp or
 * clientToken, and the job document as a JSON string. */
#include <string.h>

#include "api/api.h"
#include "api/routes.h"
#include "core/alloc.h"
#include "core/fytime.h"
#include "core/json.h"
#include "core/names.h"
#include "jobs/jobs.h"

typedef fy_err (*device_fn)(struct fy_db *db,
                            const char *thing,
                            const char *job_id,
                            const char *ns,
                            const char *payload,
                            size_t len,
                            double now,
                            struct fy_jobs_reply *out,
                            struct fy_errmsg *em);

/* Replaces the object member "jobDocument" of j (if any) by its serialization. */
static int doc_to_string(json_t *j)
{
    json_t *doc = json_object_get(j, "jobDocument");
    if (!json_is_object(doc)) {
        return 0;
    }
    char *s = fy_json_dump(doc);
    int rc = s ? json_object_set_new(j, "jobDocument", json_string(s)) : -1;
    fy_free(s);
    return rc;
}

/* The HTTP JobExecution also tells approximateSecondsBeforeTimedOut (not in the MQTT shape):
 * copied from the control plane's view of the same execution when it has a timer. */
static fy_err add_time_left(struct api_req *req, const char *thing, json_t *ex)
{
    json_t *j = NULL;
    struct fy_errmsg em;
    const char *job = json_string_value(json_object_get(ex, "jobId"));
    json_int_t number = json_integer_value(json_object_get(ex, "executionNumber"));
    fy_err e = job ? fy_exec_describe(req->db, req->site, thing, job, number, fy_now(), &j, &em)
                   : FY_ERR_OK;
    if (e == FY_ERR_NOMEM) {
        return fy_fail(&req->em, FY_ERR_NOMEM, "Out of memory");
    }
    json_t *left =
        json_object_get(json_object_get(j, "execution"), "approximateSecondsBeforeTimedOut");
    e = left && json_object_set(ex, "approximateSecondsBeforeTimedOut", left) != 0
            ? fy_fail(&req->em, FY_ERR_NOMEM, "Out of memory")
            : FY_ERR_OK;
    json_decref(j);
    return e;
}

/* Replies with the accepted payload in its HTTP form; need_execution: 404 without one. */
static fy_err
render(struct api_req *req, const char *thing, const char *payload, bool need_execution)
{
    json_t *j = fy_json_loads(payload, 0);
    if (!j) {
        return fy_fail(&req->em, FY_ERR_INTERNAL, "Corrupt reply");
    }
    json_object_del(j, "timestamp");
    json_object_del(j, "clientToken");
    if (need_execution && !json_object_get(j, "execution")) {
        json_decref(j);
        return fy_fail(&req->em, FY_ERR_NOT_FOUND, "No pending job execution");
    }
    if (json_object_get(j, "execution") &&
        add_time_left(req, thing, json_object_get(j, "execution"))) {
        json_decref(j);
        return FY_ERR_NOMEM;
    }
    if (doc_to_string(j) != 0 || doc_to_string(json_object_get(j, "execution")) != 0) {
        json_decref(j);
        return fy_fail(&req->em, FY_ERR_NOMEM, "Out of memory");
    }
    return api_reply(req, j);
}

/* Runs a device operation with payload and renders its answer. */
static fy_err run(struct api_req *req,
                  device_fn fn,
                  const char *thing,
                  const char *job,
                  const char *payload,
                  bool need_execution)
{
    struct fy_jobs_reply r;
    fy_err e = fn(req->db, thing, job, NULL, payload, strlen(payload), fy_now(), &r, &req->em);
    if (!e) {
        api_jobs_notify(req, &r.changed);
        e = render(req, thing, r.payload, need_execution);
    }
    fy_jobs_reply_clear(&r);
    return e;
}

static fy_err get_pending(struct fy_db *db,
                          const char *thing,
                          const char *job_id,
                          const char *ns,
                          const char *payload,
                          size_t len,
                          double now,
                          struct fy_jobs_reply *out,
                          struct fy_errmsg *em)
{
    (void)job_id;
    (void)ns;
    return fy_jobs_get_pending(db, thing, payload, len, now, out, em);
}

static fy_err start_next(struct fy_db *db,
                         const char *thing,
                         const char *job_id,
                         const char *ns,
                         const char *payload,
                         size_t len,
                         double now,
                         struct fy_jobs_reply *out,
                         struct fy_errmsg *em)
{
    (void)job_id;
    (void)ns;
    return fy_jobs_start_next(db, thing, payload, len, now, out, em);
}

static fy_err h_get_pending(struct api_req *req)
{
    const char *thing;
    fy_err e = api_require_param(req, "thingName", fy_valid_thing_name, &thing);
    return e ? e : run(req, get_pending, thing, NULL, "{}", false);
}

/* The JSON text of the request body ({} when empty), owned by the caller (fy_free). */
static fy_err body_text(struct api_req *req, char **out)
{
    json_t *body;
    fy_err e = api_body(req, &body);
    *out = e ? NULL : fy_json_dump(body);
    return e || *out ? e : fy_fail(&req->em, FY_ERR_NOMEM, "Out of memory");
}

static fy_err h_start_next(struct api_req *req)
{
    const char *thing, *job = api_param(req, "jobId");
    char *payload = NULL;
    fy_err e = api_require_param(req, "thingName", fy_valid_thing_name, &thing);
    if (!e && (!job || strcmp(job, "$next") != 0)) {
        e = fy_fail(&req->em, FY_ERR_UNKNOWN_OPERATION, "No operation matches PUT on a job id");
    }
    if (!e) {
        e = body_text(req, &payload);
    }
    if (!e) {
        e = run(req, start_next, thing, NULL, payload, false);
    }
    fy_free(payload);
    return e;
}

static bool valid_job_or_next(const char *s)
{
    return strcmp(s, "$next") == 0 || fy_valid_job_id(s);
}

static fy_err h_describe(struct api_req *req)
{
    const char *thing, *job;
    int64_t number = -1;
    bool with_doc = true;
    fy_err e = api_require_param(req, "thingName", fy_valid_thing_name, &thing);
    if (!e) {
        e = api_require_param(req, "jobId", valid_job_or_next, &job);
    }
    if (!e) {
        e = api_query_int(req, "executionNumber", 0, INT64_MAX, -1, &number);
    }
    if (!e) {
        e = api_query_bool(req, "includeJobDocument", true, &with_doc);
    }
    json_t *q = e ? NULL : json_pack("{s:b}", "includeJobDocument", with_doc);
    if (q && number >= 0 && json_object_set_new(q, "executionNumber", json_integer(number)) != 0) {
        json_decref(q); /* no payload: Out of memory below */
        q = NULL;
    }
    char *payload = q ? fy_json_dump(q) : NULL;
    json_decref(q);
    if (!e && !payload) {
        e = fy_fail(&req->em, FY_ERR_NOMEM, "Out of memory");
    }
    if (!e) {
        e = run(req, fy_jobs_describe, thing, job, payload, true);
    }
    fy_free(payload);
    return e;
}

static fy_err h_update(struct api_req *req)
{
    const char *thing, *job;
    char *payload = NULL;
    fy_err e = api_require_param(req, "thingName", fy_valid_thing_name, &thing);
    if (!e) {
        e = api_require_param(req, "jobId", fy_valid_job_id, &job);
    }
    if (!e) {
        e = body_text(req, &payload);
    }
    if (!e) {
        e = run(req, fy_jobs_update, thing, job, payload, false);
    }
    fy_free(payload);
    return e;
}

const struct api_route api_routes_jobs_data[] = {
    {FY_SVC_JOBS, "GET", "/things/{thingName}/jobs", h_get_pending, "GetPendingJobExecutions"},
    {FY_SVC_JOBS, "PUT", "/things/{thingName}/jobs/{jobId}", h_start_next,
     "StartNextPendingJobExecution"},
    {FY_SVC_JOBS, "GET", "/things/{thingName}/jobs/{jobId}", h_describe, "DescribeJobExecution"},
    {FY_SVC_JOBS, "POST", "/things/{thingName}/jobs/{jobId}", h_update, "UpdateJobExecution"},
    {0, NULL, NULL, NULL, NULL},
};
