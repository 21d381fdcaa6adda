/* Policy evaluations per second on one core: the lifecycle walkthrough's device policy, and a
 * 20-statement policy with variables and conditions. Target: 1,000,000/s for the walkthrough
 * policy (compiled once, no allocation per evaluation). */
#include <stdio.h>
#include <string.h>

#include "core/fytime.h"
#include "core/json.h"
#include "policy/policy.h"

#define A "arn:aws:iot:us-east-1:123456789012:"

static size_t bench_lookup(void *ctx, const char *name, const char **out, size_t max)
{
    (void)ctx;
    if (max && (strcmp(name, "iot:Connection.Thing.ThingName") == 0 ||
                strcmp(name, "iot:ClientId") == 0)) {
        out[0] = "temp-sensor-01";
        return 1;
    }
    if (max && strcmp(name, "aws:SourceIp") == 0) {
        out[0] = "10.1.2.3";
        return 1;
    }
    return 0;
}

static const char WALK[] =
    "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\"iot:Connect\","
    "\"iot:Publish\",\"iot:Subscribe\",\"iot:Receive\"],\"Resource\":[\"arn:aws:iot:*:*:client/"
    "${iot:Connection.Thing.ThingName}\",\"arn:aws:iot:*:*:topic/device/"
    "${iot:Connection.Thing.ThingName}/*\",\"arn:aws:iot:*:*:topicfilter/device/"
    "${iot:Connection.Thing.ThingName}/*\"]},{\"Effect\":\"Allow\",\"Action\":["
    "\"iot:GetThingShadow\",\"iot:UpdateThingShadow\",\"iot:DeleteThingShadow\"],\"Resource\":["
    "\"arn:aws:iot:*:*:thing/${iot:Connection.Thing.ThingName}\"]}]}";

/* 20 statements: 19 that do not match the request (each with a variable, every third with a
 * condition) and a last one, with a condition, that allows it. */
static void big_policy(char *buf, size_t cap)
{
    size_t n = (size_t)snprintf(buf, cap, "{\"Version\":\"2012-10-17\",\"Statement\":[");
    for (int i = 0; i < 19; i++) {
        n += (size_t)snprintf(buf + n, cap - n,
                              "{\"Effect\":\"Allow\",\"Action\":\"iot:Publish\",\"Resource\":"
                              "\"arn:*:s%d/${iot:ClientId}\"%s},",
                              i, i % 3 ? "" : ",\"Condition\":{\"Bool\":{\"b\":\"true\"}}");
    }
    snprintf(buf + n, cap - n,
             "{\"Effect\":\"Allow\",\"Action\":\"iot:Publish\",\"Resource\":"
             "\"arn:aws:iot:*:*:topic/device/${iot:ClientId}/*\",\"Condition\":{"
             "\"StringLike\":{\"iot:ClientId\":\"temp-*\"}}}]}");
}

static double run(const char *name, const char *doc, const char *action, const char *resource)
{
    struct fy_policy *p = NULL;
    struct fy_errmsg em;
    if (fy_policy_compile(doc, strlen(doc), &p, &em) != FY_ERR_OK) {
        printf("%s: compile failed: %s\n", name, em.msg);
        return 0;
    }
    const struct fy_policy *set[] = {p};
    struct fy_policy_request req = {action, resource, bench_lookup, NULL};
    long n = 2000000, allowed = 0;
    uint64_t t0 = fy_mono_ns();
    for (long i = 0; i < n; i++) {
        allowed += fy_policy_eval(set, 1, &req, NULL) == FY_POLICY_ALLOWED;
    }
    double secs = (double)(fy_mono_ns() - t0) / 1e9;
    double rate = (double)n / secs;
    printf("%-34s %10.0f evaluations/s (%.0f ns each, %ld/%ld allowed)\n", name, rate, 1e9 / rate,
           allowed, n);
    fy_policy_free(p);
    return rate;
}

int main(void)
{
    char big[16384];
    fy_json_init();
    big_policy(big, sizeof(big));
    double w = run("walkthrough policy, publish", WALK, "iot:Publish",
                   A "topic/device/temp-sensor-01/telemetry");
    run("walkthrough policy, neighbour", WALK, "iot:Publish",
        A "topic/device/temp-sensor-02/telemetry");
    double b = run("20 statements + vars + conditions", big, "iot:Publish",
                   A "topic/device/temp-sensor-01/telemetry");
    printf("walkthrough: %.2fx the 1,000,000/s target; 20-statement policy: %.2fx\n", w / 1e6,
           b / 1e6);
    return 0;
}
