/* Fuzzes the policy compiler and evaluator: the input is a policy document, evaluated against a
 * fixed set of requests whose context has single- and multi-valued keys, certificate fields and
 * thing attributes. Checks two invariants as well as memory safety: asking why never changes the
 * decision, and listing the policy twice in a set decides the same as listing it once. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "policy/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fz_kv {
    const char *name;
    const char *value;
};

static const struct fz_kv fz_context[] = {
    {"iot:ClientId", "dev1"},
    {"iot:Connection.Thing.ThingName", "dev1"},
    {"iot:Connection.Thing.ThingTypeName", "sensor"},
    {"iot:Connection.Thing.IsAttached", "true"},
    {"iot:Connection.Thing.Attributes[fw]", "1.2"},
    {"iot:Certificate.Subject.CommonName", "dev1"},
    {"iot:Certificate.Subject.OrganizationalUnit", "eng"},
    {"iot:Certificate.Subject.OrganizationalUnit.1", "ops"},
    {"iot:Certificate.Subject.OrganizationalUnit.List", "eng"},
    {"iot:Certificate.Subject.OrganizationalUnit.List", "ops"},
    {"iot:Certificate.Issuer.Organization", "a+b"},
    {"aws:SourceIp", "10.1.2.3"},
    {"iot:DomainName", "iot.example.com"},
    {"k", "5"},
    {"d", "2021-06-01T00:00:00Z"},
};

static size_t fz_lookup(void *ctx, const char *name, const char **out, size_t max)
{
    size_t n = 0;
    (void)ctx;
    for (size_t i = 0; i < sizeof(fz_context) / sizeof(fz_context[0]) && n < max; i++) {
        if (strcmp(fz_context[i].name, name) == 0) {
            out[n++] = fz_context[i].value;
        }
    }
    return n;
}

static void fz_check(const struct fy_policy *p, const char *action, const char *resource)
{
    const struct fy_policy *one[] = {p};
    const struct fy_policy *two[] = {p, p};
    struct fy_policy_request req = {action, resource, fz_lookup, NULL};
    struct fy_policy_why why;
    enum fy_policy_decision d = fy_policy_eval(one, 1, &req, &why);
    if (d != fy_policy_eval(one, 1, &req, NULL) || d != fy_policy_eval(two, 2, &req, NULL)) {
        abort();
    }
    if ((d == FY_POLICY_EXPLICIT_DENY) != (why.denied != 0) ||
        (d == FY_POLICY_ALLOWED && why.allowed == 0)) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int init;
    static const char *const requests[][2] = {
        {"iot:Connect", "arn:aws:iot:us-east-1:123456789012:client/dev1"},
        {"iot:Publish", "arn:aws:iot:us-east-1:123456789012:topic/device/dev1/x"},
        {"iot:Subscribe", "arn:aws:iot:us-east-1:123456789012:topicfilter/a/+/#"},
        {"IOT:RECEIVE", "arn:aws:iot:eu-west-1:210987654321:topic/$aws/things/dev1/shadow"},
        {"iot:UpdateThingShadow", "arn:aws:iot:us-east-1:123456789012:thing/dev1"},
    };
    struct fy_policy *p = NULL;
    struct fy_errmsg em;
    if (!init) {
        fy_json_init();
        init = 1;
    }
    if (fy_policy_compile((const char *)data, size, &p, &em) != FY_ERR_OK) {
        return 0;
    }
    for (size_t i = 0; i < sizeof(requests) / sizeof(requests[0]); i++) {
        fz_check(p, requests[i][0], requests[i][1]);
    }
    fy_policy_free(p);
    return 0;
}
