/* Jobs pure rules: every execution transition (allowed and refused, by device and service),
 * statusDetails limits on both sides, configuration validation, rollout rate and concurrency
 * accounting, abort thresholds, retries and schedule times. Table-driven. */
#include <stdio.h>
#include <string.h>

#include "core/json.h"
#include "jobs/jobs.h"
#include "tests/unit/tap.h"

#define Q  FY_EXEC_QUEUED
#define IP FY_EXEC_IN_PROGRESS
#define S  FY_EXEC_SUCCEEDED
#define F  FY_EXEC_FAILED
#define TO FY_EXEC_TIMED_OUT
#define RJ FY_EXEC_REJECTED
#define RM FY_EXEC_REMOVED
#define C  FY_EXEC_CANCELED
#define OK FY_ERR_OK
#define IR FY_ERR_INVALID_REQUEST
#define IS FY_ERR_INVALID_STATE_TRANSITION

static void test_transitions(void)
{
    static const struct {
        enum fy_exec_status from, to;
        enum fy_exec_actor actor;
        bool force;
        fy_err want;
    } rows[] = {
        {Q, IP, FY_ACTOR_DEVICE, false, OK},   {Q, S, FY_ACTOR_DEVICE, false, OK},
        {Q, F, FY_ACTOR_DEVICE, false, OK},    {Q, RJ, FY_ACTOR_DEVICE, false, OK},
        {IP, IP, FY_ACTOR_DEVICE, false, OK},  {IP, S, FY_ACTOR_DEVICE, false, OK},
        {IP, F, FY_ACTOR_DEVICE, false, OK},   {IP, RJ, FY_ACTOR_DEVICE, false, OK},
        {Q, Q, FY_ACTOR_DEVICE, false, IR},    {IP, TO, FY_ACTOR_DEVICE, false, IR},
        {IP, C, FY_ACTOR_DEVICE, false, IR},   {IP, RM, FY_ACTOR_DEVICE, false, IR},
        {S, IP, FY_ACTOR_DEVICE, false, IS},   {F, S, FY_ACTOR_DEVICE, false, IS},
        {TO, IP, FY_ACTOR_DEVICE, false, IS},  {RJ, S, FY_ACTOR_DEVICE, false, IS},
        {RM, IP, FY_ACTOR_DEVICE, false, IS},  {C, IP, FY_ACTOR_DEVICE, false, IS},
        {S, S, FY_ACTOR_DEVICE, false, IS},    {Q, C, FY_ACTOR_SERVICE, false, OK},
        {IP, C, FY_ACTOR_SERVICE, false, IS},  {IP, C, FY_ACTOR_SERVICE, true, OK},
        {Q, RM, FY_ACTOR_SERVICE, false, OK},  {IP, RM, FY_ACTOR_SERVICE, false, OK},
        {IP, TO, FY_ACTOR_SERVICE, false, OK}, {Q, TO, FY_ACTOR_SERVICE, false, IS},
        {S, C, FY_ACTOR_SERVICE, true, IS},    {C, C, FY_ACTOR_SERVICE, true, IS},
        {TO, RM, FY_ACTOR_SERVICE, false, IS}, {Q, S, FY_ACTOR_SERVICE, false, IR},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct fy_errmsg em = {""};
        fy_err e = fy_exec_transition(rows[i].from, rows[i].to, rows[i].actor, rows[i].force, &em);
        ok(e == rows[i].want, "%s -> %s by %s%s: %s (%s)", fy_exec_status_name(rows[i].from),
           fy_exec_status_name(rows[i].to), rows[i].actor == FY_ACTOR_DEVICE ? "device" : "service",
           rows[i].force ? " force" : "", fy_err_name(e), em.msg);
    }
    enum fy_exec_status s;
    ok(fy_exec_status_parse("TIMED_OUT", &s) == 0 && s == TO, "parse TIMED_OUT");
    ok(fy_exec_status_parse("SUCCESS", &s) != 0 && fy_exec_status_parse(NULL, &s) != 0,
       "unknown statuses refused");
    ok(!fy_exec_terminal(Q) && !fy_exec_terminal(IP) && fy_exec_terminal(S) &&
           fy_exec_terminal(RM) && fy_exec_terminal(C),
       "terminal set");
}

static void test_details(void)
{
    char big[FY_JOBS_DETAILS_VALUE_MAX + 40];
    char at[FY_JOBS_DETAILS_VALUE_MAX + 40];
    memset(big, 'v', sizeof(big));
    snprintf(at, sizeof(at), "{\"k\":\"%.*s\"}", FY_JOBS_DETAILS_VALUE_MAX, big);
    snprintf(big, sizeof(big), "{\"k\":\"%.*sx\"}", FY_JOBS_DETAILS_VALUE_MAX, at + 6);
    static const struct {
        const char *json;
        fy_err want;
    } rows[] = {
        {"{}", OK},
        {"{\"step\":\"1 of 2\",\"a:b_c-d\":\"x\"}", OK},
        {"{\"k\":\"\"}", IR},
        {"{\"bad key\":\"x\"}", IR},
        {"{\"k\":1}", IR},
        {"{\"k\":\"a\\u0001\"}", IR},
        {"[]", IR},
        {"{\"a\":\"1\",\"b\":\"1\",\"c\":\"1\",\"d\":\"1\",\"e\":\"1\",\"f\":\"1\",\"g\":\"1\","
         "\"h\":\"1\",\"i\":\"1\",\"j\":\"1\"}",
         OK},
        {"{\"a\":\"1\",\"b\":\"1\",\"c\":\"1\",\"d\":\"1\",\"e\":\"1\",\"f\":\"1\",\"g\":\"1\","
         "\"h\":\"1\",\"i\":\"1\",\"j\":\"1\",\"k\":\"1\"}",
         IR},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct fy_errmsg em = {""};
        json_t *j = json_loads(rows[i].json, 0, NULL);
        ok(fy_jobs_details_check(j, &em) == rows[i].want, "details %.40s: %s", rows[i].json,
           em.msg);
        json_decref(j);
    }
    struct fy_errmsg em;
    json_t *j = json_loads(at, 0, NULL);
    ok(j && fy_jobs_details_check(j, &em) == OK, "value of exactly %d bytes",
       FY_JOBS_DETAILS_VALUE_MAX);
    json_decref(j);
    j = json_loads(big, 0, NULL);
    ok(j && fy_jobs_details_check(j, &em) == IR, "value of %d bytes refused",
       FY_JOBS_DETAILS_VALUE_MAX + 1);
    json_decref(j);
}

static fy_err cfg(const char *json, struct fy_job_config *c)
{
    struct fy_errmsg em = {""};
    json_t *j = json_loads(json, 0, NULL);
    fy_err e = j ? fy_job_config_parse(j, 1.7e9, true, c, &em) : FY_ERR_INTERNAL;
    json_decref(j);
    return e;
}

static void test_config(void)
{
    static const struct {
        const char *json;
        fy_err want;
    } rows[] = {
        {"{}", OK},
        {"{\"jobExecutionsRolloutConfig\":{\"maximumPerMinute\":1000}}", OK},
        {"{\"jobExecutionsRolloutConfig\":{\"maximumPerMinute\":1001}}", IR},
        {"{\"jobExecutionsRolloutConfig\":{\"maximumPerMinute\":0}}", IR},
        {"{\"jobExecutionsRolloutConfig\":{\"bogus\":1}}", IR},
        {"{\"jobExecutionsRolloutConfig\":{\"exponentialRate\":{\"baseRatePerMinute\":50,"
         "\"incrementFactor\":2,\"rateIncreaseCriteria\":{\"numberOfNotifiedThings\":1000}}}}",
         OK},
        {"{\"jobExecutionsRolloutConfig\":{\"exponentialRate\":{\"baseRatePerMinute\":50,"
         "\"incrementFactor\":5.1,\"rateIncreaseCriteria\":{\"numberOfNotifiedThings\":10}}}}",
         IR},
        {"{\"jobExecutionsRolloutConfig\":{\"exponentialRate\":{\"baseRatePerMinute\":50,"
         "\"incrementFactor\":2,\"rateIncreaseCriteria\":{}}}}",
         IR},
        {"{\"timeoutConfig\":{\"inProgressTimeoutInMinutes\":10080}}", OK},
        {"{\"timeoutConfig\":{\"inProgressTimeoutInMinutes\":10081}}", IR},
        {"{\"timeoutConfig\":{\"inProgressTimeoutInMinutes\":0}}", IR},
        {"{\"jobExecutionsConfig\":{\"maxConcurrentExecutions\":5}}", OK},
        {"{\"jobExecutionsConfig\":{\"maxConcurrentExecutions\":0}}", IR},
        {"{\"jobExecutionsConfig\":{\"maxConcurrentExecutions\":100001}}", IR},
        {"{\"abortConfig\":{\"criteriaList\":[{\"failureType\":\"FAILED\",\"action\":\"CANCEL\","
         "\"thresholdPercentage\":50,\"minNumberOfExecutedThings\":2}]}}",
         OK},
        {"{\"abortConfig\":{\"criteriaList\":[{\"failureType\":\"FAILED\",\"action\":\"CANCEL\","
         "\"thresholdPercentage\":100.5,\"minNumberOfExecutedThings\":2}]}}",
         IR},
        {"{\"abortConfig\":{\"criteriaList\":[]}}", IR},
        {"{\"jobExecutionsRetryConfig\":{\"criteriaList\":[{\"failureType\":\"ALL\","
         "\"numberOfRetries\":10}]}}",
         OK},
        {"{\"jobExecutionsRetryConfig\":{\"criteriaList\":[{\"failureType\":\"FAILED\","
         "\"numberOfRetries\":6},{\"failureType\":\"TIMED_OUT\",\"numberOfRetries\":5}]}}",
         IR},
        {"{\"jobExecutionsRetryConfig\":{\"criteriaList\":[{\"failureType\":\"REJECTED\","
         "\"numberOfRetries\":1}]}}",
         IR},
        {"{\"schedulingConfig\":{\"startTime\":\"2023-11-14T22:30\"}}", IR},
        {"{\"schedulingConfig\":{\"startTime\":\"2023-11-15T00:00\",\"endBehavior\":\"CANCEL\"}}",
         OK},
        {"{\"schedulingConfig\":{\"startTime\":\"2023-11-15 00:00\"}}", IR},
        {"{\"schedulingConfig\":{\"startTime\":\"2023-11-15T00:00\",\"endTime\":"
         "\"2023-11-15T00:10\"}}",
         IR},
        {"{\"presignedUrlConfig\":{\"expiresInSec\":59}}", IR},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct fy_job_config c;
        fy_err e = cfg(rows[i].json, &c);
        ok(e == rows[i].want, "config %.90s: %s", rows[i].json, fy_err_name(e));
    }
    struct fy_job_config c;
    ok(cfg("{\"jobExecutionsRetryConfig\":{\"criteriaList\":[{\"failureType\":\"ALL\","
           "\"numberOfRetries\":2}]}}",
           &c) == OK &&
           fy_retry_allowed(&c, F, 0) && fy_retry_allowed(&c, TO, 1) &&
           !fy_retry_allowed(&c, F, 2) && !fy_retry_allowed(&c, RJ, 0),
       "retry ALL x2: FAILED and TIMED_OUT retried twice, REJECTED never");
    ok(cfg("{\"jobExecutionsRetryConfig\":{\"criteriaList\":[{\"failureType\":\"FAILED\","
           "\"numberOfRetries\":1}]}}",
           &c) == OK &&
           fy_retry_allowed(&c, F, 0) && !fy_retry_allowed(&c, TO, 0),
       "retry FAILED x1 only");
}

static void test_rollout(void)
{
    static const struct {
        const char *json;
        struct fy_rollout_counts n;
        int64_t rate, quota, late; /* late: fy_rollout_late_quota (continuous joiners) */
    } rows[] = {
        {"{}", {100, 0, 0, 0, 0, 0}, 0, 100, 0},
        {"{\"jobExecutionsRolloutConfig\":{\"maximumPerMinute\":10}}",
         {100, 0, 0, 0, 0, 0},
         10,
         10,
         0},
        {"{\"jobExecutionsRolloutConfig\":{\"maximumPerMinute\":10}}",
         {100, 7, 7, 7, 0, 0},
         10,
         3,
         0},
        {"{\"jobExecutionsRolloutConfig\":{\"maximumPerMinute\":10}}",
         {100, 10, 10, 10, 0, 0},
         10,
         0,
         0},
        {"{\"jobExecutionsRolloutConfig\":{\"maximumPerMinute\":10}}",
         {2, 0, 0, 0, 0, 0},
         10,
         2,
         0},
        {"{\"jobExecutionsConfig\":{\"maxConcurrentExecutions\":5}}",
         {100, 50, 3, 50, 47, 0},
         0,
         2,
         0},
        {"{\"jobExecutionsConfig\":{\"maxConcurrentExecutions\":5}}",
         {100, 5, 5, 5, 0, 0},
         0,
         0,
         0},
        {"{\"jobExecutionsConfig\":{\"maxConcurrentExecutions\":5},\"jobExecutionsRolloutConfig\":"
         "{\"maximumPerMinute\":3}}",
         {100, 2, 0, 2, 2, 0},
         3,
         1,
         0},
        {"{\"jobExecutionsRolloutConfig\":{\"exponentialRate\":{\"baseRatePerMinute\":50,"
         "\"incrementFactor\":2,\"rateIncreaseCriteria\":{\"numberOfNotifiedThings\":1000}}}}",
         {9000, 0, 0, 999, 0, 0},
         50,
         50,
         0},
        {"{\"jobExecutionsRolloutConfig\":{\"exponentialRate\":{\"baseRatePerMinute\":50,"
         "\"incrementFactor\":2,\"rateIncreaseCriteria\":{\"numberOfNotifiedThings\":1000}}}}",
         {9000, 0, 0, 1000, 0, 0},
         100,
         100,
         0},
        {"{\"jobExecutionsRolloutConfig\":{\"exponentialRate\":{\"baseRatePerMinute\":50,"
         "\"incrementFactor\":2,\"rateIncreaseCriteria\":{\"numberOfNotifiedThings\":1000}}}}",
         {9000, 0, 0, 3000, 0, 0},
         400,
         400,
         0},
        {"{\"jobExecutionsRolloutConfig\":{\"maximumPerMinute\":300,\"exponentialRate\":{"
         "\"baseRatePerMinute\":50,\"incrementFactor\":2,\"rateIncreaseCriteria\":{"
         "\"numberOfSucceededThings\":10}}}}",
         {9000, 250, 0, 1000, 35, 0},
         300,
         50,
         0},
        {"{\"jobExecutionsRolloutConfig\":{\"exponentialRate\":{\"baseRatePerMinute\":10,"
         "\"incrementFactor\":1.5,\"rateIncreaseCriteria\":{\"numberOfSucceededThings\":5}}}}",
         {9000, 0, 0, 1000, 10, 0},
         22,
         22,
         0},
        /* continuous joiners: outside the rate, inside the concurrency limit; the rate quota
         * of the initial targets ignores them */
        {"{\"jobExecutionsRolloutConfig\":{\"maximumPerMinute\":1}}", {0, 1, 1, 1, 0, 7}, 1, 0, 7},
        {"{\"jobExecutionsRolloutConfig\":{\"maximumPerMinute\":1}}", {5, 1, 1, 1, 0, 7}, 1, 0, 7},
        {"{\"jobExecutionsRolloutConfig\":{\"maximumPerMinute\":2}}", {5, 1, 1, 1, 0, 7}, 2, 1, 7},
        {"{\"jobExecutionsConfig\":{\"maxConcurrentExecutions\":5}}", {0, 0, 3, 3, 0, 7}, 0, 0, 2},
        {"{\"jobExecutionsConfig\":{\"maxConcurrentExecutions\":5}}", {0, 0, 5, 5, 0, 7}, 0, 0, 0},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct fy_job_config c;
        fy_err e = cfg(rows[i].json, &c);
        int64_t rate = fy_rollout_rate(&c, &rows[i].n), q = fy_rollout_quota(&c, &rows[i].n);
        int64_t late = fy_rollout_late_quota(&c, &rows[i].n);
        ok(e == OK && rate == rows[i].rate && q == rows[i].quota && late == rows[i].late,
           "rollout row %zu: rate %lld (want %lld), quota %lld (want %lld), late %lld (want %lld)",
           i, (long long)rate, (long long)rows[i].rate, (long long)q, (long long)rows[i].quota,
           (long long)late, (long long)rows[i].late);
    }
}

static void test_abort(void)
{
    struct fy_job_config c;
    fy_err e = cfg("{\"abortConfig\":{\"criteriaList\":[{\"failureType\":\"FAILED\",\"action\":"
                   "\"CANCEL\",\"thresholdPercentage\":50,\"minNumberOfExecutedThings\":4},"
                   "{\"failureType\":\"ALL\",\"action\":\"CANCEL\",\"thresholdPercentage\":"
                   "90,\"minNumberOfExecutedThings\":2}]}}",
                   &c);
    static const struct {
        struct fy_abort_counts n;
        int want;
    } rows[] = {
        {{0, 0, 0, 0}, -1}, {{3, 2, 0, 0}, -1},  {{4, 2, 0, 0}, 0},
        {{4, 1, 0, 0}, -1}, {{2, 1, 1, 0}, 1},   {{2, 0, 1, 0}, -1},
        {{10, 0, 5, 4}, 1}, {{10, 4, 0, 4}, -1}, {{1, 1, 0, 0}, -1},
    };
    ok(e == OK && c.nabort == 2, "two abort rules parsed");
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        int got = fy_abort_check(&c, &rows[i].n);
        ok(got == rows[i].want,
           "abort: finished %lld failed %lld rejected %lld timed out %lld -> %d",
           (long long)rows[i].n.finished, (long long)rows[i].n.failed,
           (long long)rows[i].n.rejected, (long long)rows[i].n.timed_out, got);
    }
}

static void test_time(void)
{
    ok(fy_jobs_parse_time("2024-01-01T00:00") == 1704067200.0, "2024-01-01T00:00 UTC");
    ok(fy_jobs_parse_time("2024-01-01T00:01") == 1704067260.0, "one minute later");
    ok(fy_jobs_parse_time("2024-13-01T00:00") < 0 && fy_jobs_parse_time("2024-01-01T00:00Z") < 0 &&
           fy_jobs_parse_time("2024-1-01T00:00") < 0 && fy_jobs_parse_time("") < 0,
       "malformed times refused");
}

int main(void)
{
    fy_json_init();
    test_transitions();
    test_details();
    test_config();
    test_rollout();
    test_abort();
    test_time();
    return done();
}
