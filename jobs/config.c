/* Validation and reading of a job's configuration members (pure). */
#include <stdio.h>
#include <string.h>

#include "jobs/jobs.h"

#define SCHEDULE_LEAD_MIN  (30 * 60.0)         /* startTime at least 30 minutes ahead */
#define SCHEDULE_AHEAD_MAX (366 * 86400.0)     /* startTime at most a year ahead */
#define SCHEDULE_END_MAX   (2 * 366 * 86400.0) /* endTime at most two years ahead */

static fy_err bad(struct fy_errmsg *em, const char *member, const json_error_t *err)
{
    return fy_fail(em, FY_ERR_INVALID_REQUEST, "Invalid %s: %.200s", member,
                   err ? err->text : "value out of range");
}

static fy_err parse_exponential(const json_t *j, struct fy_job_config *c, struct fy_errmsg *em)
{
    json_error_t err;
    json_t *crit;
    json_int_t base, notified = 0, succeeded = 0;
    if (json_unpack_ex((json_t *)j, &err, 0, "{s:I, s:F, s:o !}", "baseRatePerMinute", &base,
                       "incrementFactor", &c->factor, "rateIncreaseCriteria", &crit) != 0) {
        return bad(em, "exponentialRate", &err);
    }
    if (json_unpack_ex(crit, &err, 0, "{s?I, s?I !}", "numberOfNotifiedThings", &notified,
                       "numberOfSucceededThings", &succeeded) != 0) {
        return bad(em, "rateIncreaseCriteria", &err);
    }
    if (base < 1 || base > FY_JOBS_RATE_MAX || c->factor < 1.1 || c->factor > 5.0 ||
        (notified > 0) == (succeeded > 0) || notified < 0 || succeeded < 0) {
        return bad(em, "exponentialRate", NULL);
    }
    c->base_rate = base;
    c->notified_step = notified;
    c->succeeded_step = succeeded;
    return FY_ERR_OK;
}

static fy_err parse_rollout(const json_t *j, struct fy_job_config *c, struct fy_errmsg *em)
{
    json_error_t err;
    json_t *exp = NULL;
    json_int_t max = 0;
    if (json_unpack_ex((json_t *)j, &err, 0, "{s?I, s?o !}", "maximumPerMinute", &max,
                       "exponentialRate", &exp) != 0) {
        return bad(em, "jobExecutionsRolloutConfig", &err);
    }
    if (json_object_get(j, "maximumPerMinute") && (max < 1 || max > FY_JOBS_RATE_MAX)) {
        return bad(em, "maximumPerMinute", NULL);
    }
    c->max_per_minute = max;
    return exp ? parse_exponential(exp, c, em) : FY_ERR_OK;
}

/* failureType names: FAILED, REJECTED, TIMED_OUT or ALL (FY_EXEC__COUNT). */
static int failure_type(const char *s, bool rejected_ok, enum fy_exec_status *out)
{
    if (strcmp(s, "ALL") == 0) {
        *out = FY_EXEC__COUNT;
        return 0;
    }
    if (fy_exec_status_parse(s, out) != 0) {
        return -1;
    }
    return *out == FY_EXEC_FAILED || *out == FY_EXEC_TIMED_OUT ||
                   (rejected_ok && *out == FY_EXEC_REJECTED)
               ? 0
               : -1;
}

static fy_err parse_abort(const json_t *j, struct fy_job_config *c, struct fy_errmsg *em)
{
    json_error_t err;
    json_t *list, *item;
    size_t i;
    if (json_unpack_ex((json_t *)j, &err, 0, "{s:o !}", "criteriaList", &list) != 0) {
        return bad(em, "abortConfig", &err);
    }
    size_t n = json_array_size(list);
    if (!json_is_array(list) || n == 0 || n > sizeof(c->abort) / sizeof(c->abort[0])) {
        return bad(em, "abortConfig.criteriaList", NULL);
    }
    json_array_foreach (list, i, item) {
        struct fy_abort_rule *r = &c->abort[i];
        const char *type, *action;
        json_int_t min;
        if (json_unpack_ex(item, &err, 0, "{s:s, s:s, s:F, s:I !}", "failureType", &type, "action",
                           &action, "thresholdPercentage", &r->threshold,
                           "minNumberOfExecutedThings", &min) != 0) {
            return bad(em, "abortConfig.criteriaList", &err);
        }
        if (failure_type(type, true, &r->type) != 0 || strcmp(action, "CANCEL") != 0 ||
            r->threshold < 0 || r->threshold > 100 || min < 1) {
            return bad(em, "abortConfig.criteriaList", NULL);
        }
        r->min_executed = min;
    }
    c->nabort = (int)n;
    return FY_ERR_OK;
}

static fy_err parse_retry(const json_t *j, struct fy_job_config *c, struct fy_errmsg *em)
{
    json_error_t err;
    json_t *list, *item;
    size_t i;
    int64_t total = 0;
    if (json_unpack_ex((json_t *)j, &err, 0, "{s:o !}", "criteriaList", &list) != 0) {
        return bad(em, "jobExecutionsRetryConfig", &err);
    }
    if (!json_is_array(list) || json_array_size(list) == 0 || json_array_size(list) > 2) {
        return bad(em, "jobExecutionsRetryConfig.criteriaList", NULL);
    }
    json_array_foreach (list, i, item) {
        const char *type;
        json_int_t n;
        enum fy_exec_status s;
        if (json_unpack_ex(item, &err, 0, "{s:s, s:I !}", "failureType", &type, "numberOfRetries",
                           &n) != 0) {
            return bad(em, "jobExecutionsRetryConfig.criteriaList", &err);
        }
        if (failure_type(type, false, &s) != 0 || n < 0 || n > FY_JOBS_RETRIES_MAX) {
            return bad(em, "jobExecutionsRetryConfig.criteriaList", NULL);
        }
        if (s == FY_EXEC__COUNT) {
            c->retries[FY_EXEC_FAILED] = c->retries[FY_EXEC_TIMED_OUT] = n;
        } else {
            c->retries[s] = n;
        }
        total += n;
    }
    if (total > FY_JOBS_RETRIES_MAX) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST, "The total number of retries may not exceed %d",
                       FY_JOBS_RETRIES_MAX);
    }
    return FY_ERR_OK;
}

static fy_err
check_schedule(const struct fy_job_config *c, double now, bool start_given, struct fy_errmsg *em)
{
    if (start_given && (c->start_time < now + SCHEDULE_LEAD_MIN - 60 ||
                        c->start_time > now + SCHEDULE_AHEAD_MAX)) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST,
                       "startTime must be between 30 minutes and one year from now");
    }
    if (c->end_time > 0) {
        double from = c->start_time > 0 ? c->start_time : now;
        if (c->end_time < from + SCHEDULE_LEAD_MIN || c->end_time > now + SCHEDULE_END_MAX) {
            return fy_fail(em, FY_ERR_INVALID_REQUEST,
                           "endTime must be at least 30 minutes after startTime and at most two "
                           "years from now");
        }
    }
    return FY_ERR_OK;
}

static fy_err parse_schedule(
    const json_t *j, double now, bool check, struct fy_job_config *c, struct fy_errmsg *em)
{
    json_error_t err;
    const char *start = NULL, *end = NULL, *behavior = NULL;
    if (json_unpack_ex((json_t *)j, &err, 0, "{s?s, s?s, s?s !}", "startTime", &start, "endTime",
                       &end, "endBehavior", &behavior) != 0) {
        return bad(em, "schedulingConfig", &err);
    }
    c->start_time = start ? fy_jobs_parse_time(start) : 0;
    c->end_time = end ? fy_jobs_parse_time(end) : 0;
    if (c->start_time < 0 || c->end_time < 0) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST,
                       "schedulingConfig times must be formatted YYYY-MM-DDTHH:MM");
    }
    if (behavior && strcmp(behavior, "STOP_ROLLOUT") != 0 && strcmp(behavior, "CANCEL") != 0 &&
        strcmp(behavior, "FORCE_CANCEL") != 0) {
        return bad(em, "schedulingConfig.endBehavior", NULL);
    }
    snprintf(c->end_behavior, sizeof(c->end_behavior), "%s", behavior ? behavior : "");
    return check ? check_schedule(c, now, start != NULL, em) : FY_ERR_OK;
}

static fy_err parse_small(const json_t *j_cfg, struct fy_job_config *c, struct fy_errmsg *em)
{
    json_error_t err;
    json_t *j;
    json_int_t v = 0;
    if ((j = json_object_get(j_cfg, "timeoutConfig")) &&
        (json_unpack_ex(j, &err, 0, "{s?I !}", "inProgressTimeoutInMinutes", &v) != 0 ||
         (json_object_get(j, "inProgressTimeoutInMinutes") &&
          (v < 1 || v > FY_JOBS_TIMEOUT_MIN_MAX)))) {
        return bad(em, "timeoutConfig.inProgressTimeoutInMinutes", NULL);
    }
    c->progress_timeout = v;
    v = 0;
    if ((j = json_object_get(j_cfg, "jobExecutionsConfig")) &&
        (json_unpack_ex(j, &err, 0, "{s:I !}", "maxConcurrentExecutions", &v) != 0 || v < 1 ||
         v > FY_JOBS_CONCURRENT_MAX)) {
        return bad(em, "jobExecutionsConfig.maxConcurrentExecutions", NULL);
    }
    c->max_concurrent = v;
    const char *role = NULL;
    v = FY_JOBS_PRESIGN_EXPIRES_MAX;
    if ((j = json_object_get(j_cfg, "presignedUrlConfig")) &&
        json_unpack_ex(j, &err, 0, "{s?s, s?I !}", "roleArn", &role, "expiresInSec", &v) != 0) {
        return bad(em, "presignedUrlConfig", NULL);
    }
    if (v < FY_JOBS_PRESIGN_EXPIRES_MIN || v > FY_JOBS_PRESIGN_EXPIRES_MAX) {
        return bad(em, "presignedUrlConfig.expiresInSec", NULL);
    }
    if (role && (strlen(role) < FY_JOBS_ROLE_ARN_MIN || strlen(role) > FY_JOBS_ROLE_ARN_MAX)) {
        return bad(em, "presignedUrlConfig.roleArn", NULL);
    }
    return FY_ERR_OK;
}

fy_err fy_job_config_parse(const json_t *j_cfg,
                           double now,
                           bool check_schedule,
                           struct fy_job_config *out,
                           struct fy_errmsg *em)
{
    json_t *j;
    memset(out, 0, sizeof(*out));
    fy_err e = parse_small(j_cfg, out, em);
    if (!e && (j = json_object_get(j_cfg, "jobExecutionsRolloutConfig"))) {
        e = parse_rollout(j, out, em);
    }
    if (!e && (j = json_object_get(j_cfg, "abortConfig"))) {
        e = parse_abort(j, out, em);
    }
    if (!e && (j = json_object_get(j_cfg, "jobExecutionsRetryConfig"))) {
        e = parse_retry(j, out, em);
    }
    if (!e && (j = json_object_get(j_cfg, "schedulingConfig"))) {
        e = parse_schedule(j, now, check_schedule, out, em);
    }
    return e;
}
