/* Job execution state machine and the pure rollout, abort and retry rules. No I/O. */
#include <string.h>
#include <time.h>

#include "jobs/jobs.h"

static const char *const STATUS_NAMES[FY_EXEC__COUNT] = {
    "QUEUED", "IN_PROGRESS", "SUCCEEDED", "FAILED", "TIMED_OUT", "REJECTED", "REMOVED", "CANCELED",
};

const char *fy_exec_status_name(enum fy_exec_status s)
{
    return (unsigned)s < FY_EXEC__COUNT ? STATUS_NAMES[s] : NULL;
}

int fy_exec_status_parse(const char *s, enum fy_exec_status *out)
{
    for (int i = 0; s && i < FY_EXEC__COUNT; i++) {
        if (strcmp(s, STATUS_NAMES[i]) == 0) {
            *out = (enum fy_exec_status)i;
            return 0;
        }
    }
    return -1;
}

bool fy_exec_terminal(enum fy_exec_status s)
{
    return s != FY_EXEC_QUEUED && s != FY_EXEC_IN_PROGRESS;
}

/* Targets a device may ask for. */
static bool device_target(enum fy_exec_status to)
{
    return to == FY_EXEC_IN_PROGRESS || to == FY_EXEC_SUCCEEDED || to == FY_EXEC_FAILED ||
           to == FY_EXEC_REJECTED;
}

static fy_err refused(enum fy_exec_status from, enum fy_exec_status to, struct fy_errmsg *em)
{
    return fy_fail(em, FY_ERR_INVALID_STATE_TRANSITION,
                   "Job execution status cannot be changed from %s to %s",
                   fy_exec_status_name(from), fy_exec_status_name(to));
}

static fy_err service_transition(enum fy_exec_status from,
                                 enum fy_exec_status to,
                                 bool force,
                                 struct fy_errmsg *em)
{
    switch (to) {
    case FY_EXEC_CANCELED:
        return from == FY_EXEC_QUEUED || force ? FY_ERR_OK : refused(from, to, em);
    case FY_EXEC_REMOVED:
        return FY_ERR_OK;
    case FY_EXEC_TIMED_OUT:
        return from == FY_EXEC_IN_PROGRESS ? FY_ERR_OK : refused(from, to, em);
    default:
        return fy_fail(em, FY_ERR_INVALID_REQUEST, "The service does not set status %s",
                       fy_exec_status_name(to));
    }
}

fy_err fy_exec_transition(enum fy_exec_status from,
                          enum fy_exec_status to,
                          enum fy_exec_actor actor,
                          bool force,
                          struct fy_errmsg *em)
{
    if ((unsigned)from >= FY_EXEC__COUNT || (unsigned)to >= FY_EXEC__COUNT) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST, "Unknown job execution status");
    }
    if (actor == FY_ACTOR_DEVICE && !device_target(to)) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST,
                       "Devices may only set IN_PROGRESS, SUCCEEDED, FAILED or REJECTED, not %s",
                       fy_exec_status_name(to));
    }
    if (fy_exec_terminal(from)) {
        return refused(from, to, em);
    }
    return actor == FY_ACTOR_DEVICE ? FY_ERR_OK : service_transition(from, to, force, em);
}

static bool valid_details_key(const char *k)
{
    size_t n = strlen(k);
    if (n == 0 || n > 128) {
        return false;
    }
    return strspn(k, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:_-") == n;
}

static bool valid_details_value(const char *v)
{
    size_t n = strlen(v);
    if (n == 0 || n > FY_JOBS_DETAILS_VALUE_MAX) {
        return false;
    }
    for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
        if (*p < 0x20 || *p == 0x7f) {
            return false;
        }
    }
    return true;
}

fy_err fy_jobs_details_check(const json_t *j, struct fy_errmsg *em)
{
    const char *k;
    json_t *v;
    if (!j || json_is_null(j)) {
        return FY_ERR_OK;
    }
    if (!json_is_object(j)) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST, "statusDetails must be an object");
    }
    if (json_object_size(j) > FY_JOBS_DETAILS_MAX) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST, "statusDetails has more than %d entries",
                       FY_JOBS_DETAILS_MAX);
    }
    json_object_foreach ((json_t *)j, k, v) {
        if (!valid_details_key(k)) {
            return fy_fail(em, FY_ERR_INVALID_REQUEST, "Invalid statusDetails key: %.128s", k);
        }
        if (!json_is_string(v) || !valid_details_value(json_string_value(v))) {
            return fy_fail(em, FY_ERR_INVALID_REQUEST, "Invalid statusDetails value for %.128s", k);
        }
    }
    return FY_ERR_OK;
}

int64_t fy_rollout_rate(const struct fy_job_config *c, const struct fy_rollout_counts *n)
{
    int64_t rate = c->max_per_minute;
    if (c->base_rate > 0) {
        int64_t step = c->notified_step ? c->notified_step : c->succeeded_step;
        int64_t count = c->notified_step ? n->notified : n->succeeded;
        double r = (double)c->base_rate;
        for (int64_t k = step > 0 ? count / step : 0; k > 0 && r < 1e9; k--) {
            r *= c->factor;
        }
        int64_t exp = (int64_t)r; /* r > 0: truncation is floor */
        rate = rate > 0 && rate < exp ? rate : exp;
    }
    return rate;
}

int64_t fy_rollout_quota(const struct fy_job_config *c, const struct fy_rollout_counts *n)
{
    int64_t q = n->unreleased;
    int64_t rate = fy_rollout_rate(c, n);
    if (rate > 0) {
        int64_t left = rate - n->last_minute;
        q = left < q ? left : q;
    }
    if (c->max_concurrent > 0) {
        int64_t left = c->max_concurrent - n->in_flight;
        q = left < q ? left : q;
    }
    return q > 0 ? q : 0;
}

int64_t fy_rollout_late_quota(const struct fy_job_config *c, const struct fy_rollout_counts *n)
{
    int64_t q = n->late_unreleased;
    if (c->max_concurrent > 0) {
        int64_t left = c->max_concurrent - n->in_flight;
        q = left < q ? left : q;
    }
    return q > 0 ? q : 0;
}

static int64_t failures_of(enum fy_exec_status type, const struct fy_abort_counts *n)
{
    switch (type) {
    case FY_EXEC_FAILED:
        return n->failed;
    case FY_EXEC_REJECTED:
        return n->rejected;
    case FY_EXEC_TIMED_OUT:
        return n->timed_out;
    default:
        return n->failed + n->rejected + n->timed_out;
    }
}

int fy_abort_check(const struct fy_job_config *c, const struct fy_abort_counts *n)
{
    for (int i = 0; i < c->nabort; i++) {
        const struct fy_abort_rule *r = &c->abort[i];
        if (n->finished < r->min_executed || n->finished == 0) {
            continue;
        }
        if ((double)failures_of(r->type, n) * 100.0 >= r->threshold * (double)n->finished) {
            return i;
        }
    }
    return -1;
}

bool fy_retry_allowed(const struct fy_job_config *c, enum fy_exec_status status, int64_t attempt)
{
    if (status != FY_EXEC_FAILED && status != FY_EXEC_TIMED_OUT) {
        return false;
    }
    return attempt < c->retries[status];
}

double fy_jobs_parse_time(const char *s)
{
    struct tm tm;
    int v[5] = {0, 0, 0, 0, 0};
    static const int width[5] = {4, 2, 2, 2, 2};
    static const char sep[5] = {'-', '-', 'T', ':', '\0'};
    const char *p = s;
    for (int i = 0; i < 5; i++) {
        for (int d = 0; d < width[i]; d++, p++) {
            if (*p < '0' || *p > '9') {
                return -1;
            }
            v[i] = v[i] * 10 + (*p - '0');
        }
        if (*p != sep[i]) {
            return -1;
        }
        p += sep[i] != '\0';
    }
    if (v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > 31 || v[3] > 23 || v[4] > 59) {
        return -1;
    }
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = v[0] - 1900;
    tm.tm_mon = v[1] - 1;
    tm.tm_mday = v[2];
    tm.tm_hour = v[3];
    tm.tm_min = v[4];
    return (double)timegm(&tm);
}
