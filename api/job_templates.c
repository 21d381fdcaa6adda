/* Job templates: CreateJobTemplate, DescribeJobTemplate, ListJobTemplates, DeleteJobTemplate. */
#include "api/api.h"
#include "api/routes.h"
#include "core/alloc.h"
#include "core/fytime.h"
#include "core/log.h"
#include "core/names.h"
#include "jobs/jobs.h"

#define TEMPLATES_PAGE_DEFAULT 50

static fy_err h_create(struct api_req *req)
{
    const char *id;
    json_t *body;
    char arn[FY_ARN_MAX + 1];
    fy_err e = api_require_param(req, "jobTemplateId", fy_valid_job_id, &id);
    if (!e) {
        e = api_body(req, &body);
    }
    if (!e) {
        e = fy_job_template_create(req->db, req->site, id, body, fy_now(), arn, sizeof(arn),
                                   &req->em);
    }
    if (e) {
        return e;
    }
    fy_audit(req->caller, "CreateJobTemplate", arn);
    return api_reply(req, json_pack("{s:s, s:s}", "jobTemplateArn", arn, "jobTemplateId", id));
}

static fy_err h_describe(struct api_req *req)
{
    const char *id;
    json_t *j = NULL;
    fy_err e = api_require_param(req, "jobTemplateId", fy_valid_job_id, &id);
    if (!e) {
        e = fy_job_template_describe(req->db, req->site, id, &j, &req->em);
    }
    return e ? e : api_reply(req, j);
}

static fy_err h_list(struct api_req *req)
{
    char *after = NULL, *next = NULL;
    int64_t limit = 0;
    json_t *items = json_array();
    fy_err e = api_page_in(req, "nextToken", "maxResults", TEMPLATES_PAGE_DEFAULT,
                           API_PAGE_MAX_DEFAULT, &after, &limit);
    if (!e) {
        e = items ? fy_job_template_list(req->db, req->site, after, limit, items, &next, &req->em)
                  : FY_ERR_NOMEM;
    }
    fy_free(after);
    return api_jobs_list_reply(req, "jobTemplates", items, next, e);
}

static fy_err h_delete(struct api_req *req)
{
    const char *id;
    fy_err e = api_require_param(req, "jobTemplateId", fy_valid_job_id, &id);
    if (!e) {
        e = fy_job_template_delete(req->db, id, &req->em);
    }
    if (!e) {
        fy_audit(req->caller, "DeleteJobTemplate", id);
    }
    return e;
}

const struct api_route api_routes_job_templates[] = {
    {FY_SVC_IOT, "GET", "/job-templates", h_list, "ListJobTemplates"},
    {FY_SVC_IOT, "PUT", "/job-templates/{jobTemplateId}", h_create, "CreateJobTemplate"},
    {FY_SVC_IOT, "GET", "/job-templates/{jobTemplateId}", h_describe, "DescribeJobTemplate"},
    {FY_SVC_IOT, "DELETE", "/job-templates/{jobTemplateId}", h_delete, "DeleteJobTemplate"},
    {0, NULL, NULL, NULL, NULL},
};
