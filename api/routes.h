/* fleetyard api: the route tables of every domain, collected by api/routes.c. */
#ifndef FY_API_ROUTES_H
#define FY_API_ROUTES_H

#include "api/api.h"

extern const struct api_route api_routes_admin[];
extern const struct api_route api_routes_things[];
extern const struct api_route api_routes_thing_types[];
extern const struct api_route api_routes_thing_groups[];
extern const struct api_route api_routes_tags[];
extern const struct api_route api_routes_endpoint[];
extern const struct api_route api_routes_principals[];
extern const struct api_route api_routes_certificates[];
extern const struct api_route api_routes_policies[];
extern const struct api_route api_routes_shadows[];
extern const struct api_route api_routes_messages[];
extern const struct api_route api_routes_events[];
extern const struct api_route api_routes_jobs[];
extern const struct api_route api_routes_jobs_exec[];
extern const struct api_route api_routes_jobs_data[];
extern const struct api_route api_routes_job_templates[];
extern const struct api_route api_routes_index[];
extern const struct api_route api_routes_dynamic_groups[];
extern const struct api_route api_routes_fleet_metrics[];
extern const struct api_route api_routes_logging[];
extern const struct api_route api_routes_logs[];
extern const struct api_route api_routes_health[];
extern const struct api_route api_routes_metrics[];

/* Finds the route for (svc, method, path); fills req->params. Returns FY_ERR_OK, or
 * FY_ERR_UNKNOWN_OPERATION / FY_ERR_METHOD_NOT_ALLOWED with req->em filled. svc may be
 * FY_SVC__COUNT to search every service in order (unsigned requests with auth off). */
FY_NODISCARD fy_err api_route_find(struct api_req *req,
                                   enum fy_service svc,
                                   const char *raw_path,
                                   const struct api_route **out);

/* Every route of every table, numbered in table order: how many, the route of number i (NULL
 * past the end), and the number of route r (api_route_count() when r is in no table). */
size_t api_route_count(void);
const struct api_route *api_route_at(size_t i);
size_t api_route_index(const struct api_route *r);

/* ---- shared by api/jobs*.c and api/job_templates.c ---- */
struct fy_jobs_changed;

/* Publishes notify / notify-next for every thing in changed (through the broker link; lost when
 * it is down) and clears changed. */
void api_jobs_notify(struct api_req *req, struct fy_jobs_changed *changed);

/* Optional enum query parameter: *out = its value (NULL when absent); a value outside allowed
 * (NULL-terminated) -> INVALID_REQUEST. */
FY_NODISCARD fy_err api_jobs_enum(struct api_req *req,
                                  const char *name,
                                  const char *const *allowed,
                                  const char **out);

/* Replies {key: items, nextToken?} unless e is set; takes items and next (fy_free). */
FY_NODISCARD fy_err
api_jobs_list_reply(struct api_req *req, const char *key, json_t *items, char *next, fy_err e);

/* True for the unsigned health endpoints (api/health.c). */
bool api_health_public(const char *method, const char *path);
/* True for the unsigned GET /fleetyard/metrics (api/metrics.c). */
bool api_metrics_public(const char *method, const char *path);

/* Records the AWS IoT v2 log event of a finished data-plane request (iot-data, iot-jobs-data:
 * shadow and jobs operations) when the levels allow it (api/logging.c). */
void api_iotlog_request(struct api_req *req, fy_err e);

/* True when (method, operation) only reads (GET, or an operation named Get*, List*, Describe*,
 * Filter*, Search*, Test*); everything else is a change the audit trail records. */
bool api_audit_is_read(const char *method, const char *op);
/* Arms the audit record of a change for the handler's next write transaction (see
 * api/logs_audit.c); ctx (zeroed before) must live until api_audit_request, which releases it. */
struct api_audit_ctx {
    struct api_req *req;
    const char *path;
    char *line; /* the success record, built before the change's transaction (or in it) */
};
void api_audit_begin(struct api_req *req, const char *path, struct api_audit_ctx *ctx);
/* Records a finished request that changes something (any outcome), or that an operator key's
 * policy refused, in the log group fleetyard/audit, stream = access key: {time, accessKey,
 * user? (operator key name), operation, method, resource (the path), requestId, status,
 * outcome, errorType?, message?}. Takes a pooled connection itself, unless the record already
 * committed with the change. */
void api_audit_request(
    struct api_req *req, const char *path, unsigned status, fy_err e, struct api_audit_ctx *ctx);

/* ---- shared by api/logs*.c (CloudWatch Logs, awsJson1_1) ---- */

/* The AWS error type of e for the logs service (InvalidParameterException for bad input). */
const char *api_logs_error_type(fy_err e);
/* body's nextToken decoded into a new *key (NULL when absent; fy_free); foreign -> invalid. */
FY_NODISCARD fy_err api_logs_token_in(struct api_req *req, json_t *body, char **key);
/* Sets j[name] to a token for key (no-op when key is NULL). */
FY_NODISCARD fy_err api_logs_token_out(struct api_req *req,
                                       json_t *j,
                                       const char *name,
                                       const char *key);
/* A valid log group name from body[key] (borrowed). */
FY_NODISCARD fy_err api_logs_group_name(struct api_req *req,
                                        json_t *body,
                                        const char *key,
                                        const char **out);
/* The body, refusing members not in allowed (NULL-terminated). */
FY_NODISCARD fy_err api_logs_body(struct api_req *req, const char *const *allowed, json_t **out);
/* body's "limit" in [1, max], def when absent. */
FY_NODISCARD fy_err
api_logs_limit(struct api_req *req, json_t *body, int64_t max, int64_t def, int64_t *out);
/* Replies {key: items, nextToken?} unless e is set; takes items. Returns the outcome. */
FY_NODISCARD fy_err api_logs_reply_list(
    struct api_req *req, fy_err e, const char *key, json_t *items, const char *next);
/* The logs operation named by the request's X-Amz-Target header, or NULL. */
const struct api_route *api_logs_op(const struct api_req *req);
fy_err api_logs_create_stream(struct api_req *req);
fy_err api_logs_describe_streams(struct api_req *req);
fy_err api_logs_put_events(struct api_req *req);
fy_err api_logs_get_events(struct api_req *req);
fy_err api_logs_filter_events(struct api_req *req);

#endif
