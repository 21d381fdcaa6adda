/* Fuzzes the policy compiler and evaluator: the input is a policy document, evaluated against a
 * fixed request with a few variables and condition keys. */
#include <stdint.h>
#include <string.h>

#include "core/json.h"
#include "policy/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t fz_lookup(void *ctx, const char *name, const char **out, size_t max)
{
    (void)ctx;
    if (max == 0) {
        return 0;
    }
    if (strcmp(name, "iot:ClientId") == 0 || strcmp(name, "iot:Connection.Thing.ThingName") == 0) {
        out[0] = "dev1";
        return 1;
    }
    if (strcmp(name, "aws:SourceIp") == 0) {
        out[0] = "10.1.2.3";
        return 1;
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int init;
    struct fy_policy *p = NULL;
    struct fy_errmsg em;
    if (!init) {
        fy_json_init();
        init = 1;
    }
    if (fy_policy_compile((const char *)data, size, &p, &em) != FY_ERR_OK) {
        return 0;
    }
    const struct fy_policy *set[] = {p};
    static const char *const actions[] = {"iot:Connect", "iot:Publish", "iot:Subscribe"};
    static const char *const resources[] = {
        "arn:aws:iot:us-east-1:123456789012:client/dev1",
        "arn:aws:iot:us-east-1:123456789012:topic/device/dev1/x",
        "arn:aws:iot:us-east-1:123456789012:topicfilter/a/#"};
    for (int i = 0; i < 3; i++) {
        struct fy_policy_request req = {actions[i], resources[i], fz_lookup, NULL};
        struct fy_policy_why why;
        (void)fy_policy_eval(set, 1, &req, &why);
    }
    fy_policy_free(p);
    return 0;
}
