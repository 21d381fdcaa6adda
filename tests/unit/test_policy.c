/* Policy engine: table-driven cases for every rule, both sides of each. */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/json.h"
#include "policy/policy.h"
#include "policy/policy_int.h"
#include "tests/unit/tap.h"

#define A "arn:aws:iot:us-east-1:123456789012:"

/* Variables: "name=value" pairs; a name may repeat for multi-valued keys. */
struct vars {
    const char *kv[16];
};

static size_t lookup(void *ctx, const char *name, const char **out, size_t max)
{
    const struct vars *v = ctx;
    size_t n = 0, nlen = strlen(name);
    for (size_t i = 0; i < 16 && v->kv[i] && n < max; i++) {
        if (strncmp(v->kv[i], name, nlen) == 0 && v->kv[i][nlen] == '=') {
            out[n++] = v->kv[i] + nlen + 1;
        }
    }
    return n;
}

static const char *const WALK =
    "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\"iot:Connect\","
    "\"iot:Publish\",\"iot:Subscribe\",\"iot:Receive\"],\"Resource\":[\"arn:aws:iot:*:*:client/"
    "${iot:Connection.Thing.ThingName}\",\"arn:aws:iot:*:*:topic/device/"
    "${iot:Connection.Thing.ThingName}/*\",\"arn:aws:iot:*:*:topicfilter/device/"
    "${iot:Connection.Thing.ThingName}/*\"]},{\"Effect\":\"Allow\",\"Action\":["
    "\"iot:GetThingShadow\",\"iot:UpdateThingShadow\",\"iot:DeleteThingShadow\"],\"Resource\":["
    "\"arn:aws:iot:*:*:thing/${iot:Connection.Thing.ThingName}\"]}]}";

struct row {
    const char *doc;
    const char *action;
    const char *resource;
    struct vars vars;
    enum fy_policy_decision want;
};

#define ALLOW FY_POLICY_ALLOWED
#define IMPL  FY_POLICY_IMPLICIT_DENY
#define EXPL  FY_POLICY_EXPLICIT_DENY
#define T1                                                             \
    {                                                                  \
        {                                                              \
            "iot:Connection.Thing.ThingName=dev1", "iot:ClientId=dev1" \
        }                                                              \
    }
#define DOC(stmts) "{\"Version\":\"2012-10-17\",\"Statement\":[" stmts "]}"
#define ST(effect, action, resource) \
    "{\"Effect\":\"" effect "\",\"Action\":" action ",\"Resource\":" resource "}"
#define STC(effect, action, resource, cond)                                   \
    "{\"Effect\":\"" effect "\",\"Action\":" action ",\"Resource\":" resource \
    ",\"Condition\":" cond "}"

static const struct row rows[] = {
    /* the walkthrough policy: own thing allowed, neighbour denied */
    {NULL, "iot:Connect", A "client/dev1", T1, ALLOW},
    {NULL, "iot:Connect", A "client/dev2", T1, IMPL},
    {NULL, "iot:Publish", A "topic/device/dev1/temp", T1, ALLOW},
    {NULL, "iot:Publish", A "topic/device/dev1/a/b/c", T1, ALLOW},
    {NULL, "iot:Publish", A "topic/device/dev2/temp", T1, IMPL},
    {NULL, "iot:Publish", A "topic/device/dev1", T1, IMPL},
    {NULL, "iot:Subscribe", A "topicfilter/device/dev1/#", T1, ALLOW},
    {NULL, "iot:Subscribe", A "topicfilter/device/dev1/+/x", T1, ALLOW},
    {NULL, "iot:Subscribe", A "topicfilter/device/dev2/#", T1, IMPL},
    {NULL, "iot:Subscribe", A "topicfilter/device/+/temp", T1, IMPL},
    {NULL, "iot:Receive", A "topic/device/dev1/cmd", T1, ALLOW},
    {NULL, "iot:Receive", A "topic/device/dev2/cmd", T1, IMPL},
    {NULL, "iot:GetThingShadow", A "thing/dev1", T1, ALLOW},
    {NULL, "iot:UpdateThingShadow", A "thing/dev2", T1, IMPL},
    {NULL, "iot:DeleteThingShadow", A "thing/dev1", T1, ALLOW},
    {NULL, "iot:GetRetainedMessage", A "topic/device/dev1/x", T1, IMPL},
    {NULL, "iot:Publish", A "topic/device/dev1/x", {{"iot:ClientId=dev1"}}, IMPL},
    {NULL, "iot:Connect", A "client/dev1", {{0}}, IMPL},
    {NULL, "iot:Connect", A "client/${iot:Connection.Thing.ThingName}", {{0}}, IMPL},
    {NULL, "IOT:PUBLISH", A "topic/device/dev1/x", T1, ALLOW},
    {NULL, "iot:Publish", "arn:aws:iot:eu-west-1:210987654321:topic/device/dev1/x", T1, ALLOW},
    /* actions: wildcards, case-insensitivity, NotAction */
    {DOC(ST("Allow", "\"iot:*\"", "\"*\"")), "iot:Publish", A "topic/a", {{0}}, ALLOW},
    {DOC(ST("Allow", "\"iot:*\"", "\"*\"")), "greengrass:Discover", A "thing/a", {{0}}, IMPL},
    {DOC(ST("Allow", "\"*\"", "\"*\"")), "iot:Connect", A "client/x", {{0}}, ALLOW},
    {DOC(ST("Allow", "\"iot:Pub*\"", "\"*\"")), "iot:Publish", A "topic/a", {{0}}, ALLOW},
    {DOC(ST("Allow", "\"iot:Pub*\"", "\"*\"")), "iot:Subscribe", A "topicfilter/a", {{0}}, IMPL},
    {DOC(ST("Allow", "\"iot:?ublish\"", "\"*\"")), "iot:Publish", A "topic/a", {{0}}, ALLOW},
    {DOC(ST("Allow", "\"iot:?ublish\"", "\"*\"")), "iot:Pubish", A "topic/a", {{0}}, IMPL},
    {DOC(ST("Allow", "\"IoT:publish\"", "\"*\"")), "iot:Publish", A "topic/a", {{0}}, ALLOW},
    {DOC("{\"Effect\":\"Allow\",\"NotAction\":\"iot:Connect\",\"Resource\":\"*\"}"),
     "iot:Publish",
     A "topic/a",
     {{0}},
     ALLOW},
    {DOC("{\"Effect\":\"Allow\",\"NotAction\":\"iot:Connect\",\"Resource\":\"*\"}"),
     "iot:Connect",
     A "client/a",
     {{0}},
     IMPL},
    {DOC(ST("Allow", "[\"iot:Connect\",\"iot:Publish\"]", "\"*\"")),
     "iot:Publish",
     A "topic/a",
     {{0}},
     ALLOW},
    {DOC(ST("Allow", "[\"iot:Connect\",\"iot:Publish\"]", "\"*\"")),
     "iot:Receive",
     A "topic/a",
     {{0}},
     IMPL},
    /* resources: * crosses /, ? is one character, case-sensitive, + and # literal */
    {DOC(ST("Allow", "\"iot:Publish\"", "\"" A "topic/a/*\"")),
     "iot:Publish",
     A "topic/a/b/c/d",
     {{0}},
     ALLOW},
    {DOC(ST("Allow", "\"iot:Publish\"", "\"" A "topic/a/*\"")),
     "iot:Publish",
     A "topic/a",
     {{0}},
     IMPL},
    {DOC(ST("Allow", "\"iot:Publish\"", "\"" A "topic/a/*\"")),
     "iot:Publish",
     A "topic/a/",
     {{0}},
     ALLOW},
    {DOC(ST("Allow", "\"iot:Publish\"", "\"" A "topic/a?c\"")),
     "iot:Publish",
     A "topic/abc",
     {{0}},
     ALLOW},
    {DOC(ST("Allow", "\"iot:Publish\"", "\"" A "topic/a?c\"")),
     "iot:Publish",
     A "topic/ac",
     {{0}},
     IMPL},
    {DOC(ST("Allow", "\"iot:Publish\"", "\"" A "topic/a?c\"")),
     "iot:Publish",
     A "topic/a/c",
     {{0}},
     ALLOW},
    {DOC(ST("Allow", "\"iot:Publish\"", "\"" A "topic/Temp\"")),
     "iot:Publish",
     A "topic/temp",
     {{0}},
     IMPL},
    {DOC(ST("Allow", "\"iot:Publish\"", "\"" A "topic/Temp\"")),
     "iot:Publish",
     A "topic/Temp",
     {{0}},
     ALLOW},
    {DOC(ST("Allow", "\"iot:Subscribe\"", "\"" A "topicfilter/some/+/topic\"")),
     "iot:Subscribe",
     A "topicfilter/some/+/topic",
     {{0}},
     ALLOW},
    {DOC(ST("Allow", "\"iot:Subscribe\"", "\"" A "topicfilter/some/+/topic\"")),
     "iot:Subscribe",
     A "topicfilter/some/x/topic",
     {{0}},
     IMPL},
    {DOC(ST("Allow", "\"iot:Subscribe\"", "\"" A "topicfilter/some/*/topic\"")),
     "iot:Subscribe",
     A "topicfilter/some/+/topic",
     {{0}},
     ALLOW},
    {DOC(ST("Allow", "\"iot:Subscribe\"", "\"" A "topicfilter/a/#\"")),
     "iot:Subscribe",
     A "topicfilter/a/#",
     {{0}},
     ALLOW},
    {DOC(ST("Allow", "\"iot:Subscribe\"", "\"" A "topicfilter/a/#\"")),
     "iot:Subscribe",
     A "topicfilter/a/b",
     {{0}},
     IMPL},
    {DOC(ST("Allow", "\"iot:Publish\"", "\"*\"")), "iot:Publish", A "topic/anything", {{0}}, ALLOW},
    {DOC(ST("Allow", "\"iot:Publish\"", "[\"" A "topic/a\",\"" A "topic/b\"]")),
     "iot:Publish",
     A "topic/b",
     {{0}},
     ALLOW},
    {DOC(ST("Allow", "\"iot:Publish\"", "[\"" A "topic/a\",\"" A "topic/b\"]")),
     "iot:Publish",
     A "topic/c",
     {{0}},
     IMPL},
    {DOC("{\"Effect\":\"Allow\",\"Action\":\"iot:Publish\",\"NotResource\":\"" A "topic/x\"}"),
     "iot:Publish",
     A "topic/y",
     {{0}},
     ALLOW},
    {DOC("{\"Effect\":\"Allow\",\"Action\":\"iot:Publish\",\"NotResource\":\"" A "topic/x\"}"),
     "iot:Publish",
     A "topic/x",
     {{0}},
     IMPL},
    {DOC(ST("Allow", "\"iot:Publish\"", "\"" A "topic/$aws/things/*\"")),
     "iot:Publish",
     A "topic/$aws/things/t/shadow/update",
     {{0}},
     ALLOW},
    /* explicit deny wins */
    {DOC(ST("Allow", "\"iot:*\"", "\"*\"") "," ST("Deny", "\"iot:Publish\"", "\"" A "topic/x\"")),
     "iot:Publish",
     A "topic/x",
     {{0}},
     EXPL},
    {DOC(ST("Allow", "\"iot:*\"", "\"*\"") "," ST("Deny", "\"iot:Publish\"", "\"" A "topic/x\"")),
     "iot:Publish",
     A "topic/y",
     {{0}},
     ALLOW},
    {DOC(ST("Deny", "\"iot:Publish\"", "\"*\"") "," ST("Allow", "\"iot:*\"", "\"*\"")),
     "iot:Publish",
     A "topic/y",
     {{0}},
     EXPL},
    {DOC(ST("Deny", "\"iot:Publish\"", "\"*\"")), "iot:Subscribe", A "topicfilter/y", {{0}}, IMPL},
    {DOC(ST("Deny", "\"iot:Publish\"", "\"" A "topic/${iot:ClientId}\"")),
     "iot:Publish",
     A "topic/c1",
     {{"iot:ClientId=c1"}},
     EXPL},
    {DOC(ST("Deny", "\"iot:Publish\"", "\"" A "topic/${iot:ClientId}\"")),
     "iot:Publish",
     A "topic/c1",
     {{0}},
     IMPL},
    /* variables */
    {DOC(ST("Allow", "\"iot:Connect\"", "\"" A "client/${iot:ClientId}\"")),
     "iot:Connect",
     A "client/abc",
     {{"iot:ClientId=abc"}},
     ALLOW},
    {DOC(ST("Allow", "\"iot:Connect\"", "\"" A "client/${iot:ClientId}\"")),
     "iot:Connect",
     A "client/abd",
     {{"iot:ClientId=abc"}},
     IMPL},
    {DOC(ST("Allow", "\"iot:Subscribe\"", "\"" A "topicfilter/${iot:ClientId}\"")),
     "iot:Subscribe",
     A "topicfilter/+",
     {{"iot:ClientId=+"}},
     ALLOW},
    {DOC(ST("Allow", "\"iot:Subscribe\"", "\"" A "topicfilter/${iot:ClientId}\"")),
     "iot:Subscribe",
     A "topicfilter/x",
     {{"iot:ClientId=+"}},
     IMPL},
    {DOC(ST("Allow", "\"iot:Publish\"", "\"" A "topic/${iot:ClientId}/x\"")),
     "iot:Publish",
     A "topic/a*b/x",
     {{"iot:ClientId=a*b"}},
     ALLOW},
    {DOC(ST("Allow", "\"iot:Publish\"", "\"" A "topic/${iot:ClientId}/x\"")),
     "iot:Publish",
     A "topic/aZZb/x",
     {{"iot:ClientId=a*b"}},
     IMPL},
    {DOC(ST("Allow", "\"iot:Publish\"", "\"" A "topic/t/${iot:Connection.Thing.ThingTypeName}\"")),
     "iot:Publish",
     A "topic/t/sensor",
     {{"iot:Connection.Thing.ThingTypeName=sensor"}},
     ALLOW},
    {DOC(ST("Allow", "\"iot:Publish\"", "\"" A "topic/t/${iot:Connection.Thing.ThingTypeName}\"")),
     "iot:Publish",
     A "topic/t/sensor",
     {{0}},
     IMPL},
    {DOC(ST("Allow",
            "\"iot:Publish\"",
            "\"" A "topic/b/${iot:Connection.Thing.Attributes[location]}\"")),
     "iot:Publish",
     A "topic/b/A",
     {{"iot:Connection.Thing.Attributes[location]=A"}},
     ALLOW},
    {DOC(ST("Allow",
            "\"iot:Publish\"",
            "\"" A "topic/b/${iot:Connection.Thing.Attributes[location]}\"")),
     "iot:Publish",
     A "topic/b/B",
     {{"iot:Connection.Thing.Attributes[location]=A"}},
     IMPL},
    {DOC(ST("Allow", "\"iot:Publish\"", "\"" A "topic/${iot:Certificate.Subject.CommonName}\"")),
     "iot:Publish",
     A "topic/dev",
     {{"iot:Certificate.Subject.CommonName=dev"}},
     ALLOW},
    {DOC(ST("Allow", "\"iot:Publish\"", "\"" A "topic/${iot:Certificate.Subject.CommonName}\"")),
     "iot:Publish",
     A "topic/d+v",
     {{"iot:Certificate.Subject.CommonName=d+v"}},
     IMPL},
    {DOC(ST("Allow", "\"iot:Publish\"", "\"" A "topic/${iot:Certificate.Subject.CommonName}\"")),
     "iot:Publish",
     A "topic/d#v",
     {{"iot:Certificate.Subject.CommonName=d#v"}},
     IMPL},
    {DOC(ST("Allow", "\"iot:Publish\"", "\"" A "topic/${iot:Certificate.Issuer.Organization}\"")),
     "iot:Publish",
     A "topic/acme",
     {{"iot:Certificate.Issuer.Organization=acme"}},
     ALLOW},
    {DOC(ST("Allow",
            "\"iot:Publish\"",
            "\"" A "topic/${iot:Certificate.Subject.OrganizationalUnit.1}\"")),
     "iot:Publish",
     A "topic/second",
     {{"iot:Certificate.Subject.OrganizationalUnit.1=second"}},
     ALLOW},
    {DOC(ST("Allow", "\"iot:Publish\"", "\"" A "topic/${*}\"")),
     "iot:Publish",
     A "topic/*",
     {{0}},
     ALLOW},
    {DOC(ST("Allow", "\"iot:Publish\"", "\"" A "topic/${*}\"")),
     "iot:Publish",
     A "topic/x",
     {{0}},
     IMPL},
    {DOC(ST("Allow", "\"iot:Publish\"", "\"" A "topic/${?}\"")),
     "iot:Publish",
     A "topic/?",
     {{0}},
     ALLOW},
    {DOC(ST("Allow", "\"iot:Publish\"", "\"" A "topic/${?}\"")),
     "iot:Publish",
     A "topic/x",
     {{0}},
     IMPL},
    {DOC(ST("Allow", "\"iot:Publish\"", "\"" A "topic/${$}x\"")),
     "iot:Publish",
     A "topic/$x",
     {{0}},
     ALLOW},
    {DOC(ST("Allow", "\"iot:Publish\"", "\"" A "topic/${iot:Nope}\"")),
     "iot:Publish",
     A "topic/${iot:Nope}",
     {{0}},
     IMPL},
    /* certificate values with * $ ? are not substituted either; other variables take them */
    {DOC(ST("Allow", "\"iot:Publish\"", "\"" A "topic/${iot:Certificate.Subject.CommonName}\"")),
     "iot:Publish",
     A "topic/d*v",
     {{"iot:Certificate.Subject.CommonName=d*v"}},
     IMPL},
    {DOC(ST("Allow", "\"iot:Publish\"", "\"" A "topic/${iot:Certificate.Subject.CommonName}\"")),
     "iot:Publish",
     A "topic/d$v",
     {{"iot:Certificate.Subject.CommonName=d$v"}},
     IMPL},
    {DOC(ST("Allow", "\"iot:Publish\"", "\"" A "topic/${iot:Certificate.Subject.CommonName}\"")),
     "iot:Publish",
     A "topic/d?v",
     {{"iot:Certificate.Subject.CommonName=d?v"}},
     IMPL},
    {DOC(ST("Allow", "\"iot:Publish\"", "\"" A "topic/${iot:Certificate.Subject.CommonName}\"")),
     "iot:Publish",
     A "topic/d-v",
     {{"iot:Certificate.Subject.CommonName=d-v"}},
     ALLOW},
    {DOC(ST("Allow", "\"iot:Publish\"", "\"" A "topic/${iot:Connection.Thing.Attributes[k]}\"")),
     "iot:Publish",
     A "topic/a#b",
     {{"iot:Connection.Thing.Attributes[k]=a#b"}},
     ALLOW},
    /* a substituted value is literal text: its ? is no wildcard */
    {DOC(ST("Allow", "\"iot:Publish\"", "\"" A "topic/${iot:ClientId}\"")),
     "iot:Publish",
     A "topic/ab",
     {{"iot:ClientId=a?"}},
     IMPL},
    /* context key names are case-insensitive; attribute names keep their case */
    {DOC(ST("Allow", "\"iot:Connect\"", "\"" A "client/${IOT:clientID}\"")),
     "iot:Connect",
     A "client/c7",
     {{"iot:ClientId=c7"}},
     ALLOW},
    {DOC(ST("Allow", "\"iot:Connect\"", "\"" A "client/${IOT:clientID}\"")),
     "iot:Connect",
     A "client/c8",
     {{"iot:ClientId=c7"}},
     IMPL},
    {DOC(ST("Allow", "\"iot:Publish\"", "\"" A "topic/${iot:connection.thing.attributes[Loc]}\"")),
     "iot:Publish",
     A "topic/x",
     {{"iot:Connection.Thing.Attributes[Loc]=x"}},
     ALLOW},
    {DOC(ST("Allow", "\"iot:Publish\"", "\"" A "topic/${iot:connection.thing.attributes[Loc]}\"")),
     "iot:Publish",
     A "topic/x",
     {{"iot:Connection.Thing.Attributes[loc]=x"}},
     IMPL},
    {DOC(ST("Allow", "\"iot:Publish\"", "\"" A "topic/${iot:certificate.subject.ou.1}\"")),
     "iot:Publish",
     A "topic/x",
     {{"iot:Certificate.Subject.OU.1=x"}},
     IMPL},
    {DOC(ST("Allow",
            "\"iot:Publish\"",
            "\"" A "topic/${iot:certificate.subject.organizationalunit.1}\"")),
     "iot:Publish",
     A "topic/x",
     {{"iot:Certificate.Subject.OrganizationalUnit.1=x"}},
     ALLOW},
    /* an unresolved variable in NotResource leaves the statement unmatched */
    {DOC("{\"Effect\":\"Allow\",\"Action\":\"iot:Publish\",\"NotResource\":\"" A
         "topic/${iot:ClientId}\"}"),
     "iot:Publish",
     A "topic/other",
     {{0}},
     IMPL},
    {DOC("{\"Effect\":\"Allow\",\"Action\":\"iot:Publish\",\"NotResource\":\"" A
         "topic/${iot:ClientId}\"}"),
     "iot:Publish",
     A "topic/other",
     {{"iot:ClientId=c1"}},
     ALLOW},
    {DOC("{\"Effect\":\"Allow\",\"Action\":\"iot:Publish\",\"NotResource\":\"" A
         "topic/${iot:ClientId}\"}"),
     "iot:Publish",
     A "topic/c1",
     {{"iot:ClientId=c1"}},
     IMPL},
    {DOC("{\"Effect\":\"Deny\",\"Action\":\"iot:Publish\",\"NotResource\":[\"" A
         "topic/${iot:ClientId}/*\",\"" A "topic/public/*\"]}," ST("Allow", "\"iot:*\"", "\"*\"")),
     "iot:Publish",
     A "topic/other/x",
     {{"iot:ClientId=c1"}},
     EXPL},
    {DOC("{\"Effect\":\"Deny\",\"Action\":\"iot:Publish\",\"NotResource\":[\"" A
         "topic/${iot:ClientId}/*\",\"" A "topic/public/*\"]}," ST("Allow", "\"iot:*\"", "\"*\"")),
     "iot:Publish",
     A "topic/public/x",
     {{"iot:ClientId=c1"}},
     ALLOW},
    /* one unresolved entry of a Resource list does not stop the others */
    {DOC(ST("Allow", "\"iot:Publish\"", "[\"" A "topic/${iot:Nope}\",\"" A "topic/open\"]")),
     "iot:Publish",
     A "topic/open",
     {{0}},
     ALLOW},
    /* 2008-10-17, a missing Version, a single statement object, Sid and Id */
    {"{\"Version\":\"2008-10-17\",\"Statement\":" ST("Allow", "\"iot:Publish\"", "\"*\"") "}",
     "iot:Publish",
     A "topic/a",
     {{0}},
     ALLOW},
    {"{\"Id\":\"p1\",\"Statement\":[{\"Sid\":\"s1\",\"Effect\":\"Allow\",\"Action\":\"iot:"
     "Publish\","
     "\"Resource\":\"*\"}]}",
     "iot:Publish",
     A "topic/a",
     {{0}},
     ALLOW},
    /* ? stands for exactly one character; * also matches the empty string */
    {DOC(ST("Allow", "\"iot:Publish\"", "\"" A "topic/a*b*c\"")),
     "iot:Publish",
     A "topic/abc",
     {{0}},
     ALLOW},
    {DOC(ST("Allow", "\"iot:Publish\"", "\"" A "topic/a*b*c\"")),
     "iot:Publish",
     A "topic/a/x/b/y/cd",
     {{0}},
     IMPL},
    {DOC(ST("Allow", "\"iot:Publish\"", "\"" A "topic/*/b/*\"")),
     "iot:Publish",
     A "topic/b/b/b",
     {{0}},
     ALLOW},
    /* variables and ? in the anchored head and tail of a pattern */
    {DOC(ST("Allow", "\"iot:Publish\"", "\"" A "topic/${iot:ClientId}-?\"")),
     "iot:Publish",
     A "topic/c1-x",
     {{"iot:ClientId=c1"}},
     ALLOW},
    {DOC(ST("Allow", "\"iot:Publish\"", "\"" A "topic/${iot:ClientId}-?\"")),
     "iot:Publish",
     A "topic/c1-xy",
     {{"iot:ClientId=c1"}},
     IMPL},
    {DOC(ST("Allow", "\"iot:Publish\"", "\"" A "topic/${iot:ClientId}-?\"")),
     "iot:Publish",
     A "topic/c1-",
     {{"iot:ClientId=c1"}},
     IMPL},
    {DOC(ST("Allow", "\"iot:Publish\"", "\"arn:aws:iot:${iot:ClientId}:*:topic/x\"")),
     "iot:Publish",
     A "topic/x",
     {{"iot:ClientId=us-east-1"}},
     ALLOW},
    {DOC(ST("Allow", "\"iot:Publish\"", "\"arn:aws:iot:${iot:ClientId}:*:topic/x\"")),
     "iot:Publish",
     A "topic/x",
     {{"iot:ClientId=eu-west-1"}},
     IMPL},
    {DOC(ST("Allow", "\"iot:Publish\"", "\"" A "topic/ab*${iot:ClientId}\"")),
     "iot:Publish",
     A "topic/ab",
     {{"iot:ClientId=b"}},
     IMPL},
    {DOC(ST("Allow", "\"iot:Publish\"", "\"" A "topic/ab*${iot:ClientId}\"")),
     "iot:Publish",
     A "topic/abb",
     {{"iot:ClientId=b"}},
     ALLOW},
    /* NotResource with an unresolved variable stays unmatched even where the literal text
     * already differs */
    {DOC("{\"Effect\":\"Allow\",\"Action\":\"iot:Publish\",\"NotResource\":"
         "\"arn:aws:s3:::${iot:Nope}\"}"),
     "iot:Publish",
     A "topic/x",
     {{0}},
     IMPL},
    {DOC("{\"Effect\":\"Allow\",\"Action\":\"iot:Publish\",\"NotResource\":"
         "\"arn:aws:s3:::${iot:ClientId}\"}"),
     "iot:Publish",
     A "topic/x",
     {{"iot:ClientId=c"}},
     ALLOW},
    {DOC(ST("Allow", "\"iot:Publish\"", "\"" A "topic/??\"")),
     "iot:Publish",
     A "topic/abc",
     {{0}},
     IMPL},
};

/* Condition cases: one document per operator, request with given context values. */
struct crow {
    const char *cond;
    struct vars vars;
    enum fy_policy_decision want;
};

static const struct crow crows[] = {
    {"{\"StringEquals\":{\"iot:ClientId\":\"a\"}}", {{"iot:ClientId=a"}}, ALLOW},
    {"{\"StringEquals\":{\"iot:ClientId\":\"a\"}}", {{"iot:ClientId=A"}}, IMPL},
    {"{\"StringEquals\":{\"iot:ClientId\":[\"x\",\"a\"]}}", {{"iot:ClientId=a"}}, ALLOW},
    {"{\"StringEquals\":{\"iot:ClientId\":\"a\"}}", {{0}}, IMPL},
    {"{\"StringNotEquals\":{\"iot:ClientId\":\"a\"}}", {{"iot:ClientId=b"}}, ALLOW},
    {"{\"StringNotEquals\":{\"iot:ClientId\":\"a\"}}", {{"iot:ClientId=a"}}, IMPL},
    {"{\"StringNotEquals\":{\"iot:ClientId\":\"a\"}}", {{0}}, ALLOW},
    {"{\"StringEqualsIgnoreCase\":{\"iot:ClientId\":\"ABC\"}}", {{"iot:ClientId=abc"}}, ALLOW},
    {"{\"StringEqualsIgnoreCase\":{\"iot:ClientId\":\"ABC\"}}", {{"iot:ClientId=abd"}}, IMPL},
    {"{\"StringNotEqualsIgnoreCase\":{\"iot:ClientId\":\"ABC\"}}", {{"iot:ClientId=abc"}}, IMPL},
    {"{\"StringNotEqualsIgnoreCase\":{\"iot:ClientId\":\"ABC\"}}", {{"iot:ClientId=x"}}, ALLOW},
    {"{\"StringLike\":{\"iot:ClientId\":\"dev-*\"}}", {{"iot:ClientId=dev-1"}}, ALLOW},
    {"{\"StringLike\":{\"iot:ClientId\":\"dev-*\"}}", {{"iot:ClientId=prod-1"}}, IMPL},
    {"{\"StringLike\":{\"iot:ClientId\":\"dev-?\"}}", {{"iot:ClientId=dev-12"}}, IMPL},
    {"{\"StringNotLike\":{\"iot:ClientId\":\"dev-*\"}}", {{"iot:ClientId=prod-1"}}, ALLOW},
    {"{\"StringNotLike\":{\"iot:ClientId\":\"dev-*\"}}", {{"iot:ClientId=dev-1"}}, IMPL},
    {"{\"StringEquals\":{\"iot:ClientId\":\"${iot:Connection.Thing.ThingName}\"}}",
     {{"iot:ClientId=t1", "iot:Connection.Thing.ThingName=t1"}},
     ALLOW},
    {"{\"StringEquals\":{\"iot:ClientId\":\"${iot:Connection.Thing.ThingName}\"}}",
     {{"iot:ClientId=t1", "iot:Connection.Thing.ThingName=t2"}},
     IMPL},
    {"{\"StringEquals\":{\"iot:ClientId\":\"${iot:Connection.Thing.ThingName}\"}}",
     {{"iot:ClientId=t1"}},
     IMPL},
    {"{\"NumericEquals\":{\"k\":\"5\"}}", {{"k=5.0"}}, ALLOW},
    {"{\"NumericEquals\":{\"k\":\"5\"}}", {{"k=6"}}, IMPL},
    {"{\"NumericNotEquals\":{\"k\":\"5\"}}", {{"k=6"}}, ALLOW},
    {"{\"NumericNotEquals\":{\"k\":\"5\"}}", {{"k=5"}}, IMPL},
    {"{\"NumericLessThan\":{\"k\":\"5\"}}", {{"k=4"}}, ALLOW},
    {"{\"NumericLessThan\":{\"k\":\"5\"}}", {{"k=5"}}, IMPL},
    {"{\"NumericLessThanEquals\":{\"k\":\"5\"}}", {{"k=5"}}, ALLOW},
    {"{\"NumericLessThanEquals\":{\"k\":\"5\"}}", {{"k=6"}}, IMPL},
    {"{\"NumericGreaterThan\":{\"k\":\"5\"}}", {{"k=6"}}, ALLOW},
    {"{\"NumericGreaterThan\":{\"k\":\"5\"}}", {{"k=5"}}, IMPL},
    {"{\"NumericGreaterThanEquals\":{\"k\":\"5\"}}", {{"k=5"}}, ALLOW},
    {"{\"NumericGreaterThanEquals\":{\"k\":\"5\"}}", {{"k=4.9"}}, IMPL},
    {"{\"NumericEquals\":{\"k\":\"5\"}}", {{"k=five"}}, IMPL},
    {"{\"DateGreaterThan\":{\"k\":\"2020-01-01T00:00:00Z\"}}", {{"k=2021-06-01T00:00:00Z"}}, ALLOW},
    {"{\"DateGreaterThan\":{\"k\":\"2020-01-01T00:00:00Z\"}}", {{"k=2019-06-01T00:00:00Z"}}, IMPL},
    {"{\"DateLessThan\":{\"k\":\"2020-01-01\"}}", {{"k=1500000000"}}, ALLOW},
    {"{\"DateLessThan\":{\"k\":\"2020-01-01\"}}", {{"k=1700000000"}}, IMPL},
    {"{\"DateEquals\":{\"k\":\"2020-01-01T00:00:00Z\"}}", {{"k=1577836800"}}, ALLOW},
    {"{\"DateNotEquals\":{\"k\":\"2020-01-01T00:00:00Z\"}}", {{"k=1577836800"}}, IMPL},
    {"{\"Bool\":{\"iot:Connection.Thing.IsAttached\":\"true\"}}",
     {{"iot:Connection.Thing.IsAttached=true"}},
     ALLOW},
    {"{\"Bool\":{\"iot:Connection.Thing.IsAttached\":\"true\"}}",
     {{"iot:Connection.Thing.IsAttached=false"}},
     IMPL},
    {"{\"Bool\":{\"iot:Connection.Thing.IsAttached\":\"true\"}}", {{0}}, IMPL},
    {"{\"IpAddress\":{\"aws:SourceIp\":\"10.0.0.0/8\"}}", {{"aws:SourceIp=10.1.2.3"}}, ALLOW},
    {"{\"IpAddress\":{\"aws:SourceIp\":\"10.0.0.0/8\"}}", {{"aws:SourceIp=11.1.2.3"}}, IMPL},
    {"{\"IpAddress\":{\"aws:SourceIp\":\"192.168.1.7\"}}", {{"aws:SourceIp=192.168.1.7"}}, ALLOW},
    {"{\"IpAddress\":{\"aws:SourceIp\":\"2001:db8::/32\"}}", {{"aws:SourceIp=2001:db8::1"}}, ALLOW},
    {"{\"IpAddress\":{\"aws:SourceIp\":\"2001:db8::/32\"}}", {{"aws:SourceIp=2001:db9::1"}}, IMPL},
    {"{\"NotIpAddress\":{\"aws:SourceIp\":\"10.0.0.0/8\"}}", {{"aws:SourceIp=11.1.2.3"}}, ALLOW},
    {"{\"NotIpAddress\":{\"aws:SourceIp\":\"10.0.0.0/8\"}}", {{"aws:SourceIp=10.1.2.3"}}, IMPL},
    {"{\"ArnLike\":{\"k\":\"arn:aws:iot:*:*:thing/dev*\"}}", {{"k=" A "thing/dev1"}}, ALLOW},
    {"{\"ArnLike\":{\"k\":\"arn:aws:iot:*:*:thing/dev*\"}}", {{"k=" A "thing/prod1"}}, IMPL},
    {"{\"ArnEquals\":{\"k\":\"" A "thing/dev1\"}}", {{"k=" A "thing/dev1"}}, ALLOW},
    {"{\"ArnNotEquals\":{\"k\":\"" A "thing/dev1\"}}", {{"k=" A "thing/dev1"}}, IMPL},
    {"{\"ArnNotLike\":{\"k\":\"arn:aws:iot:*:*:thing/dev*\"}}", {{"k=" A "thing/prod1"}}, ALLOW},
    {"{\"Null\":{\"iot:Connection.Thing.ThingName\":\"true\"}}", {{0}}, ALLOW},
    {"{\"Null\":{\"iot:Connection.Thing.ThingName\":\"true\"}}",
     {{"iot:Connection.Thing.ThingName=t"}},
     IMPL},
    {"{\"Null\":{\"iot:Connection.Thing.ThingName\":\"false\"}}",
     {{"iot:Connection.Thing.ThingName=t"}},
     ALLOW},
    {"{\"Null\":{\"iot:Connection.Thing.ThingName\":\"false\"}}", {{0}}, IMPL},
    {"{\"StringEqualsIfExists\":{\"k\":\"a\"}}", {{0}}, ALLOW},
    {"{\"StringEqualsIfExists\":{\"k\":\"a\"}}", {{"k=a"}}, ALLOW},
    {"{\"StringEqualsIfExists\":{\"k\":\"a\"}}", {{"k=b"}}, IMPL},
    {"{\"NumericLessThanIfExists\":{\"k\":\"5\"}}", {{0}}, ALLOW},
    {"{\"NumericLessThanIfExists\":{\"k\":\"5\"}}", {{"k=9"}}, IMPL},
    {"{\"ForAnyValue:StringEquals\":{\"ou\":[\"a\",\"b\"]}}", {{"ou=x", "ou=b"}}, ALLOW},
    {"{\"ForAnyValue:StringEquals\":{\"ou\":[\"a\",\"b\"]}}", {{"ou=x", "ou=y"}}, IMPL},
    {"{\"ForAnyValue:StringEquals\":{\"ou\":[\"a\",\"b\"]}}", {{0}}, IMPL},
    {"{\"ForAllValues:StringEquals\":{\"ou\":[\"a\",\"b\"]}}", {{"ou=a", "ou=b"}}, ALLOW},
    {"{\"ForAllValues:StringEquals\":{\"ou\":[\"a\",\"b\"]}}", {{"ou=a", "ou=c"}}, IMPL},
    {"{\"ForAllValues:StringEquals\":{\"ou\":[\"a\",\"b\"]}}", {{0}}, ALLOW},
    {"{\"ForAnyValue:StringLike\":{\"ou\":\"eng-*\"}}", {{"ou=ops", "ou=eng-1"}}, ALLOW},
    {"{\"StringEquals\":{\"a\":\"1\"},\"StringLike\":{\"b\":\"x*\"}}", {{"a=1", "b=xy"}}, ALLOW},
    {"{\"StringEquals\":{\"a\":\"1\"},\"StringLike\":{\"b\":\"x*\"}}", {{"a=1", "b=yy"}}, IMPL},
    {"{\"StringEquals\":{\"a\":\"1\",\"b\":\"2\"}}", {{"a=1", "b=2"}}, ALLOW},
    {"{\"StringEquals\":{\"a\":\"1\",\"b\":\"2\"}}", {{"a=1", "b=3"}}, IMPL},
    /* condition values may be JSON booleans and numbers */
    {"{\"Bool\":{\"iot:Connection.Thing.IsAttached\":true}}",
     {{"iot:Connection.Thing.IsAttached=true"}},
     ALLOW},
    {"{\"Bool\":{\"iot:Connection.Thing.IsAttached\":true}}",
     {{"iot:Connection.Thing.IsAttached=false"}},
     IMPL},
    {"{\"NumericLessThan\":{\"k\":5}}", {{"k=4"}}, ALLOW},
    {"{\"NumericLessThan\":{\"k\":5}}", {{"k=6"}}, IMPL},
    {"{\"NumericGreaterThan\":{\"k\":[1.5,100]}}", {{"k=2"}}, ALLOW},
    {"{\"NumericGreaterThan\":{\"k\":[1.5,100]}}", {{"k=1"}}, IMPL},
    /* numbers are decimal: no hex, inf or nan */
    {"{\"NumericEquals\":{\"k\":\"16\"}}", {{"k=0x10"}}, IMPL},
    {"{\"NumericGreaterThan\":{\"k\":\"0\"}}", {{"k=inf"}}, IMPL},
    {"{\"NumericEquals\":{\"k\":\"1000\"}}", {{"k=1e3"}}, ALLOW},
    {"{\"NumericLessThan\":{\"k\":\"0\"}}", {{"k=-3"}}, ALLOW},
    /* negated operators: an unresolved variable in a value leaves the statement unmatched */
    {"{\"StringNotEquals\":{\"iot:ClientId\":\"${iot:Connection.Thing.ThingName}\"}}",
     {{"iot:ClientId=a", "iot:Connection.Thing.ThingName=b"}},
     ALLOW},
    {"{\"StringNotEquals\":{\"iot:ClientId\":\"${iot:Connection.Thing.ThingName}\"}}",
     {{"iot:ClientId=a", "iot:Connection.Thing.ThingName=a"}},
     IMPL},
    {"{\"StringNotEquals\":{\"iot:ClientId\":\"${iot:Connection.Thing.ThingName}\"}}",
     {{"iot:ClientId=a"}},
     IMPL},
    {"{\"StringNotLike\":{\"iot:ClientId\":[\"x-*\",\"${iot:Nope}\"]}}",
     {{"iot:ClientId=a"}},
     IMPL},
    {"{\"StringLike\":{\"iot:ClientId\":[\"${iot:Nope}\",\"a*\"]}}", {{"iot:ClientId=ab"}}, ALLOW},
    /* variables in StringLike values are literal text */
    {"{\"StringLike\":{\"iot:ClientId\":\"${iot:Connection.Thing.ThingName}-*\"}}",
     {{"iot:ClientId=t1-x", "iot:Connection.Thing.ThingName=t1"}},
     ALLOW},
    {"{\"StringLike\":{\"iot:ClientId\":\"${iot:Connection.Thing.ThingName}-*\"}}",
     {{"iot:ClientId=t1-x", "iot:Connection.Thing.ThingName=t2"}},
     IMPL},
    /* ArnLike matches each colon-separated part on its own; StringLike does not */
    {"{\"ArnLike\":{\"k\":\"arn:aws:iot:*:123456789012:thing/*\"}}",
     {{"k=arn:aws:iot:us-east-1:x:123456789012:thing/a"}},
     IMPL},
    {"{\"StringLike\":{\"k\":\"arn:aws:iot:*:123456789012:thing/*\"}}",
     {{"k=arn:aws:iot:us-east-1:x:123456789012:thing/a"}},
     ALLOW},
    {"{\"ArnLike\":{\"k\":\"arn:aws:iot:*:123456789012:thing/*\"}}",
     {{"k=arn:aws:iot:us-east-1:123456789012:thing/a:b"}},
     ALLOW},
    {"{\"ArnLike\":{\"k\":\"arn:aws:iot:*:*:thing/*\"}}", {{"k=not-an-arn"}}, IMPL},
    {"{\"ArnNotLike\":{\"k\":\"arn:aws:iot:*:*:thing/*\"}}", {{"k=not-an-arn"}}, ALLOW},
    {"{\"ArnEquals\":{\"k\":\"" A "thing/dev1\"}}", {{"k=" A "thing/DEV1"}}, IMPL},
    /* key names are case-insensitive */
    {"{\"StringEquals\":{\"IOT:clientid\":\"a\"}}", {{"iot:ClientId=a"}}, ALLOW},
    {"{\"StringEquals\":{\"IOT:clientid\":\"a\"}}", {{"iot:ClientId=b"}}, IMPL},
    {"{\"IpAddress\":{\"AWS:SOURCEIP\":\"10.0.0.0/8\"}}", {{"aws:SourceIp=10.9.9.9"}}, ALLOW},
    /* multi-valued certificate fields (.List) with the set qualifiers */
    {"{\"ForAnyValue:StringEquals\":{\"iot:Certificate.Subject.OrganizationalUnit.List\":\"eng\"}}",
     {{"iot:Certificate.Subject.OrganizationalUnit.List=ops",
       "iot:Certificate.Subject.OrganizationalUnit.List=eng"}},
     ALLOW},
    {"{\"ForAllValues:StringEquals\":{\"iot:Certificate.Subject.OrganizationalUnit.List\":\"eng\"}"
     "}",
     {{"iot:Certificate.Subject.OrganizationalUnit.List=ops",
       "iot:Certificate.Subject.OrganizationalUnit.List=eng"}},
     IMPL},
    {"{\"ForAllValues:StringLike\":{\"ou\":[\"eng-*\",\"ops\"]}}", {{"ou=eng-1", "ou=ops"}}, ALLOW},
    {"{\"ForAnyValue:StringNotEquals\":{\"ou\":\"a\"}}", {{"ou=a", "ou=b"}}, ALLOW},
    {"{\"ForAnyValue:StringNotEquals\":{\"ou\":\"a\"}}", {{"ou=a"}}, IMPL},
    {"{\"ForAllValues:StringNotEquals\":{\"ou\":\"a\"}}", {{"ou=b", "ou=c"}}, ALLOW},
    {"{\"ForAllValues:StringNotEquals\":{\"ou\":\"a\"}}", {{"ou=b", "ou=a"}}, IMPL},
    /* missing keys: IfExists holds, negated operators hold, others do not */
    {"{\"StringNotLike\":{\"k\":\"a*\"}}", {{0}}, ALLOW},
    {"{\"NotIpAddress\":{\"aws:SourceIp\":\"10.0.0.0/8\"}}", {{0}}, ALLOW},
    {"{\"IpAddress\":{\"aws:SourceIp\":\"10.0.0.0/8\"}}", {{0}}, IMPL},
    {"{\"ArnLikeIfExists\":{\"k\":\"arn:*\"}}", {{0}}, ALLOW},
    {"{\"BoolIfExists\":{\"k\":\"true\"}}", {{"k=false"}}, IMPL},
    {"{\"IpAddressIfExists\":{\"aws:SourceIp\":\"10.0.0.0/8\"}}",
     {{"aws:SourceIp=10.0.0.1"}},
     ALLOW},
    {"{\"DateLessThanIfExists\":{\"k\":\"2020-01-01\"}}", {{"k=2030-01-01"}}, IMPL},
    /* IP details: a bad context address or a v4 address against a v6 block never match */
    {"{\"IpAddress\":{\"aws:SourceIp\":\"10.0.0.0/8\"}}", {{"aws:SourceIp=not-an-ip"}}, IMPL},
    {"{\"IpAddress\":{\"aws:SourceIp\":\"::/0\"}}", {{"aws:SourceIp=10.0.0.1"}}, IMPL},
    {"{\"IpAddress\":{\"aws:SourceIp\":\"0.0.0.0/0\"}}", {{"aws:SourceIp=203.0.113.9"}}, ALLOW},
    {"{\"IpAddress\":{\"aws:SourceIp\":[\"192.168.0.0/16\",\"10.0.0.0/31\"]}}",
     {{"aws:SourceIp=10.0.0.1"}},
     ALLOW},
    {"{\"IpAddress\":{\"aws:SourceIp\":\"10.0.0.0/31\"}}", {{"aws:SourceIp=10.0.0.2"}}, IMPL},
};

static const char *const malformed[] = {
    "",
    "not json",
    "[]",
    "{\"Version\":\"2012-10-17\"}",
    "{\"Version\":\"2012-10-17\",\"Statement\":[]}",
    "{\"Version\":\"1999-01-01\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"iot:*\","
    "\"Resource\":\"*\"}}",
    "{\"Version\":\"2012-10-17\",\"Statement\":{\"Action\":\"iot:*\",\"Resource\":\"*\"}}",
    "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Maybe\",\"Action\":\"iot:*\","
    "\"Resource\":\"*\"}}",
    "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Resource\":\"*\"}}",
    "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"iot:*\"}}",
    "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":5,"
    "\"Resource\":\"*\"}}",
    "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":[],"
    "\"Resource\":\"*\"}}",
    "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"publish\","
    "\"Resource\":\"*\"}}",
    "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"iot:*\","
    "\"Resource\":\"topic/x\"}}",
    "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"iot:*\","
    "\"NotAction\":\"iot:Connect\",\"Resource\":\"*\"}}",
    "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"iot:*\","
    "\"Resource\":\"*\",\"Condition\":{\"NoSuchOperator\":{\"a\":\"b\"}}}}",
    "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"iot:*\","
    "\"Resource\":\"*\",\"Condition\":{\"StringEquals\":\"x\"}}}",
    "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"iot:*\","
    "\"Resource\":\"*\",\"Condition\":{\"NullIfExists\":{\"a\":\"true\"}}}}",
    "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"iot:*\","
    "\"Resource\":\"arn:aws:iot:*:*:topic/${iot:ClientId\"}}",
    "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"iot:*\","
    "\"Resource\":\"*\",\"Principal\":\"*\"}}",
    "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"iot:*\","
    "\"Resource\":\"*\"},\"Extra\":1}",
    "{\"Version\":\"2012-10-17\",\"Statement\":{\"Sid\":5,\"Effect\":\"Allow\",\"Action\":"
    "\"iot:*\",\"Resource\":\"*\"}}",
    "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"iot:*\","
    "\"Resource\":\"*\",\"Effect\":\"Deny\"}}",
    "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":[\"iot:Publish\",5]"
    ","
    "\"Resource\":\"*\"}}",
    "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":true,"
    "\"Resource\":\"*\"}}",
    "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"iot:*\","
    "\"Resource\":5}}",
    "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"iot:*\","
    "\"Resource\":\"*\",\"Condition\":{\"StringEquals\":{\"k\":{\"a\":1}}}}}",
    "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"iot:*\","
    "\"Resource\":\"*\",\"Condition\":{\"StringEquals\":{\"k\":null}}}}",
    "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"iot:*\","
    "\"Resource\":\"*\",\"Condition\":{\"StringEquals\":{\"k\":[\"a\",[\"b\"]]}}}}",
    "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"iot:*\","
    "\"Resource\":\"*\",\"Condition\":{\"StringEquals\":{}}}}",
    "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"iot:*\","
    "\"Resource\":\"*\",\"Condition\":[]}}",
    "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"iot:*\","
    "\"Resource\":\"*\",\"Condition\":{\"ForSomeValues:StringEquals\":{\"k\":\"a\"}}}}",
    "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"iot:*\","
    "\"Resource\":\"*\",\"Condition\":{\"stringequals\":{\"k\":\"a\"}}}}",
    "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"iot:*\","
    "\"Resource\":\"*\",\"Condition\":{\"ForAnyValue:Null\":{\"k\":\"true\"}}}}",
    "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"iot:*\","
    "\"Resource\":\"arn:aws:iot:*:*:topic/${}\"}}",
    "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"allow\",\"Action\":\"iot:*\","
    "\"Resource\":\"*\"}}",
    "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"iot:*\","
    "\"Resource\":\"*\"},\"x\"]}",
    "{\"Version\":\"2012-10-17\",\"Statement\":\"x\"}",
    "{\"Version\":20121017,\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"iot:*\","
    "\"Resource\":\"*\"}}",
};

static enum fy_policy_decision
decide(const char *doc, const char *action, const char *res, const struct vars *v)
{
    struct fy_policy *p = NULL;
    struct fy_errmsg em;
    if (fy_policy_compile(doc, strlen(doc), &p, &em) != FY_ERR_OK) {
        printf("# compile failed: %s\n", em.msg);
        return (enum fy_policy_decision)99;
    }
    const struct fy_policy *set[] = {p};
    struct fy_policy_request req = {action, res, lookup, (void *)v};
    enum fy_policy_decision d = fy_policy_eval(set, 1, &req, NULL);
    fy_policy_free(p);
    return d;
}

static void test_rows(void)
{
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const struct row *r = &rows[i];
        enum fy_policy_decision d =
            decide(r->doc ? r->doc : WALK, r->action, r->resource, &r->vars);
        ok(d == r->want, "row %zu: %s %s -> %s", i, r->action, r->resource,
           fy_policy_decision_name(d));
    }
}

static void test_conditions(void)
{
    char doc[2048];
    for (size_t i = 0; i < sizeof(crows) / sizeof(crows[0]); i++) {
        snprintf(doc, sizeof(doc),
                 "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":"
                 "\"iot:Connect\",\"Resource\":\"*\",\"Condition\":%s}}",
                 crows[i].cond);
        enum fy_policy_decision d = decide(doc, "iot:Connect", A "client/c", &crows[i].vars);
        ok(d == crows[i].want, "condition %zu: %s -> %s", i, crows[i].cond,
           fy_policy_decision_name(d));
    }
}

static void test_malformed(void)
{
    struct fy_policy *p;
    struct fy_errmsg em;
    for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++) {
        fy_err e = fy_policy_compile(malformed[i], strlen(malformed[i]), &p, &em);
        ok(e == FY_ERR_MALFORMED_POLICY && em.msg[0], "malformed %zu refused: %s", i, em.msg);
    }
}

/* Builds a document of exactly `chars` significant characters, with `spaces` blanks inside. */
static void sized_doc(char *doc, size_t cap, size_t chars, size_t spaces)
{
    const char *head = "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\","
                       "\"Action\":\"iot:*\",\"Resource\":\"arn:aws:iot:*:*:topic/";
    const char *tail = "\"}}";
    size_t n = (size_t)snprintf(doc, cap, "%s", head);
    size_t pad = chars - strlen(head) - strlen(tail);
    memset(doc + n, 'x', pad);
    memset(doc + n + pad, ' ', spaces);
    snprintf(doc + n + pad + spaces, cap - n - pad - spaces, "%s", tail);
}

static void test_size_limit(void)
{
    static char doc[FY_POLICY_DOC_MAX_CHARS * 4];
    static const struct {
        size_t extra, spaces;
        fy_err want;
    } cases[] = {{0, 0, FY_ERR_OK}, {1, 0, FY_ERR_MALFORMED_POLICY}, {0, 1500, FY_ERR_OK}};
    struct fy_policy *p = NULL;
    struct fy_errmsg em;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t chars = FY_POLICY_DOC_MAX_CHARS + cases[i].extra;
        sized_doc(doc, sizeof(doc), chars, cases[i].spaces);
        fy_err e = fy_policy_compile(doc, strlen(doc), &p, &em);
        ok(e == cases[i].want, "document of %zu significant characters and %zu blanks: %s", chars,
           cases[i].spaces, fy_err_name(e));
        fy_policy_free(p);
        p = NULL;
    }
}

static void test_sets(void)
{
    struct fy_policy *a = NULL, *b = NULL;
    struct fy_errmsg em;
    const char *da = DOC(ST("Allow", "\"iot:*\"", "\"*\""));
    const char *db = DOC(ST("Deny", "\"iot:Publish\"", "\"" A "topic/secret\""));
    ok(fy_policy_compile(da, strlen(da), &a, &em) == FY_ERR_OK, "allow-all compiles");
    ok(fy_policy_compile(db, strlen(db), &b, &em) == FY_ERR_OK, "deny compiles");
    const struct fy_policy *set[] = {a, b};
    struct vars none = {{0}};
    struct fy_policy_request r1 = {"iot:Publish", A "topic/secret", lookup, &none};
    struct fy_policy_request r2 = {"iot:Publish", A "topic/open", lookup, &none};
    struct fy_policy_why why;
    ok(fy_policy_eval(set, 2, &r1, &why) == EXPL && why.denied == 2 && why.allowed == 1,
       "deny in a second policy wins across the set, why names both");
    ok(fy_policy_eval(set, 2, &r2, &why) == ALLOW && why.allowed == 1 && why.denied == 0,
       "allow from the first policy");
    ok(fy_policy_eval(set, 0, &r2, NULL) == IMPL, "an empty set denies implicitly");
    const struct fy_policy *holes[] = {NULL, a, NULL};
    ok(fy_policy_eval(holes, 3, &r2, &why) == ALLOW && why.allowed == 2,
       "NULL entries are skipped, why uses set indexes");
    const struct fy_policy *twice[] = {a, b, a};
    ok(fy_policy_eval(twice, 3, &r1, &why) == EXPL && why.allowed == 5 && why.denied == 2,
       "why lists every allowing and denying policy");
    ok(fy_policy_eval(twice, 3, &r1, NULL) == EXPL, "the same decision without why");
    ok(fy_policy_eval(set, FY_POLICY_SET_MAX + 1, &r2, NULL) == IMPL,
       "a set larger than FY_POLICY_SET_MAX is refused (implicit deny)");
    fy_policy_free(a);
    fy_policy_free(b);
}

/* The condition operators (Null apart). */
static const char *const operators[] = {
    "StringEquals",
    "StringNotEquals",
    "StringEqualsIgnoreCase",
    "StringNotEqualsIgnoreCase",
    "StringLike",
    "StringNotLike",
    "NumericEquals",
    "NumericNotEquals",
    "NumericLessThan",
    "NumericLessThanEquals",
    "NumericGreaterThan",
    "NumericGreaterThanEquals",
    "DateEquals",
    "DateNotEquals",
    "DateLessThan",
    "DateLessThanEquals",
    "DateGreaterThan",
    "DateGreaterThanEquals",
    "Bool",
    "BinaryEquals",
    "IpAddress",
    "NotIpAddress",
    "ArnEquals",
    "ArnLike",
    "ArnNotEquals",
    "ArnNotLike",
};

/* Every operator, bare, with IfExists and with each set qualifier (Null takes neither). */
static void test_operator_variants(void)
{
    static const char *const pre[] = {"", "", "ForAnyValue:", "ForAllValues:"};
    static const char *const suf[] = {"", "IfExists", "", ""};
    char op[96], cond[192];
    struct vars none = {{0}};
    size_t bad = 0, absent_denied = 0;
    for (size_t i = 0; i < sizeof(operators) / sizeof(operators[0]); i++) {
        for (size_t f = 0; f < 4; f++) {
            snprintf(op, sizeof(op), "%s%s%s", pre[f], operators[i], suf[f]);
            snprintf(cond, sizeof(cond), "{\"%s\":{\"absent:key\":\"1\"}}", op);
            char doc[512];
            snprintf(doc, sizeof(doc),
                     DOC("{\"Effect\":\"Allow\",\"Action\":\"iot:Connect\",\"Resource\":\"*\","
                         "\"Condition\":%s}"),
                     cond);
            enum fy_policy_decision d = decide(doc, "iot:Connect", A "client/c", &none);
            bad += d != ALLOW && d != IMPL;
            absent_denied += f == 1 && d != ALLOW;
        }
    }
    ok(bad == 0, "all %zu operator forms compile", 4 * sizeof(operators) / sizeof(operators[0]));
    ok(absent_denied == 0, "every ...IfExists operator holds when the key is absent");
}

/* A variable value of 1024 characters is substituted, one of 1025 is not. */
static void test_value_length(void)
{
    static char value[1100], kv[1200], res[1300];
    const char *doc = DOC(ST("Allow", "\"iot:Connect\"", "\"" A "client/${iot:ClientId}\""));
    for (size_t len = FY_POLICY_VAR_VALUE_MAX; len <= FY_POLICY_VAR_VALUE_MAX + 1; len++) {
        memset(value, 'v', len);
        value[len] = '\0';
        snprintf(kv, sizeof(kv), "iot:ClientId=%s", value);
        snprintf(res, sizeof(res), A "client/%s", value);
        struct vars v = {{kv}};
        enum fy_policy_decision d = decide(doc, "iot:Connect", res, &v);
        ok(d == (len == FY_POLICY_VAR_VALUE_MAX ? ALLOW : IMPL),
           "a variable value of %zu characters: %s", len, fy_policy_decision_name(d));
    }
}

/* Patterns with many wildcards compile and match; over-long ones are refused. */
static void test_pattern_sizes(void)
{
#define HEAD                                                                                       \
    "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"iot:Publish\"," \
    "\"Resource\":\""
    static char doc[FY_POLICY_EXPAND_MAX * 2], res[1024];
    struct vars none = {{0}};
    size_t n = (size_t)snprintf(doc, sizeof(doc), "%s", HEAD A "topic/");
    for (int i = 0; i < 400; i++) {
        n += (size_t)snprintf(doc + n, sizeof(doc) - n, "*?");
    }
    snprintf(doc + n, sizeof(doc) - n, "\"}]}");
    memset(res, 'x', 500);
    memcpy(res, A "topic/", strlen(A "topic/"));
    res[500] = '\0';
    ok(decide(doc, "iot:Publish", res, &none) == ALLOW, "a resource with 800 wildcards matches");
    res[strlen(A "topic/") + 399] = '\0';
    ok(decide(doc, "iot:Publish", res, &none) == IMPL, "...and needs 400 characters");
    n = (size_t)snprintf(doc, sizeof(doc), "%s", HEAD "arn:aws:iot:*:*:topic/a");
    memset(doc + n, ' ', FY_POLICY_EXPAND_MAX);
    snprintf(doc + n + FY_POLICY_EXPAND_MAX, sizeof(doc) - n - FY_POLICY_EXPAND_MAX, "\"}]}");
    struct fy_policy *p = NULL;
    struct fy_errmsg em;
    ok(fy_policy_compile(doc, strlen(doc), &p, &em) == FY_ERR_MALFORMED_POLICY &&
           strstr(em.msg, "longer than") != NULL,
       "a resource longer than %d characters is refused: %.60s", FY_POLICY_EXPAND_MAX, em.msg);
#undef HEAD
}

/* Messages name what is wrong. */
static void test_messages(void)
{
    static const struct {
        const char *doc;
        const char *needle;
    } cases[] = {
        {DOC("{\"Action\":\"iot:*\",\"Resource\":\"*\"}"), "Effect"},
        {"{\"Version\":\"2013-01-01\",\"Statement\":" ST("Allow", "\"iot:*\"", "\"*\"") "}",
         "Version"},
        {DOC(STC("Allow", "\"iot:*\"", "\"*\"", "{\"StringEqualz\":{\"k\":\"v\"}}")),
         "Unknown condition operator: StringEqualz"},
        {DOC(ST("Allow", "[\"iot:Publish\",7]", "\"*\"")), "Action"},
        {DOC(ST("Allow", "\"iot:*\"", "\"topic/x\"")), "Resource"},
        {DOC("{\"Effect\":\"Allow\",\"Action\":\"iot:*\"}"), "Resource and NotResource"},
        {"{\"Version\":\"2012-10-17\",\"Statement\":" ST("Allow", "\"iot:*\"", "\"*\"") ",}",
         "not valid JSON"},
    };
    struct fy_policy *p = NULL;
    struct fy_errmsg em;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        fy_err e = fy_policy_compile(cases[i].doc, strlen(cases[i].doc), &p, &em);
        ok(e == FY_ERR_MALFORMED_POLICY && strstr(em.msg, cases[i].needle) != NULL,
           "message names '%s': %s", cases[i].needle, em.msg);
    }
}

/* Allocation failures while compiling fail cleanly; evaluation allocates nothing. */
static void test_allocation(void)
{
    struct fy_policy *p = NULL;
    struct fy_errmsg em;
    size_t clean = 0, n;
    for (n = 1; n < 400; n++) {
        fy_alloc_fail_at(n);
        fy_err e = fy_policy_compile(WALK, strlen(WALK), &p, &em);
        fy_alloc_fail_at(0);
        if (e == FY_ERR_OK) {
            break;
        }
        clean += (e == FY_ERR_NOMEM || e == FY_ERR_MALFORMED_POLICY) && p == NULL;
    }
    ok(p != NULL && clean == n - 1, "compile survives a failed allocation at each of %zu points",
       n - 1);
    struct vars v = T1;
    const struct fy_policy *set[] = {p};
    struct fy_policy_request req = {"iot:Publish", A "topic/device/dev1/x", lookup, &v};
    struct fy_policy_why why;
    int allowed = 0;
    fy_alloc_fail_at(1);
    for (int i = 0; i < 100; i++) {
        allowed += fy_policy_eval(set, 1, &req, &why) == ALLOW;
    }
    void *probe = fy_malloc(1);
    fy_alloc_fail_at(0);
    ok(allowed == 100 && probe == NULL, "100 evaluations made no allocation");
    fy_free(probe);
    fy_policy_free(p);
}

/* Reference IAM wildcard matcher (recursive, on plain text with '*' and '?'). */
static bool ref_glob(const char *p, const char *s)
{
    if (*p == '\0') {
        return *s == '\0';
    }
    if (*p == '*') {
        return ref_glob(p + 1, s) || (*s && ref_glob(p, s + 1));
    }
    return *s && (*p == '?' || *p == *s) && ref_glob(p + 1, s + 1);
}

static unsigned long rng_state = 12345;

static unsigned rng(unsigned n)
{
    rng_state = rng_state * 6364136223846793005UL + 1442695040888963407UL;
    return (unsigned)((rng_state >> 33) % n);
}

/* pattern_match (anchored head/tail, expansion, backtracking) against the reference matcher on
 * random patterns over {a, b, *, ?, ${iot:ClientId}} with ClientId "ab". */
static void test_match_differential(void)
{
    static const char *const parts[] = {"a", "b", "*", "?", "${iot:ClientId}"};
    static const char *const sub[] = {"a", "b", "*", "?", "ab"};
    struct vars v = {{"iot:ClientId=ab"}};
    struct fy_policy_request req = {"x", "y", lookup, &v};
    size_t wrong = 0, cases = 0;
    for (int round = 0; round < 3000; round++) {
        char text[128], ref[64], str[16];
        size_t tn = 0, rn = 0;
        for (unsigned i = 0, np = rng(7); i < np; i++) {
            unsigned k = rng(5);
            tn += (size_t)snprintf(text + tn, sizeof(text) - tn, "%s", parts[k]);
            rn += (size_t)snprintf(ref + rn, sizeof(ref) - rn, "%s", sub[k]);
        }
        text[tn] = '\0';
        ref[rn] = '\0';
        struct fy_policy *p = fy_calloc(1, sizeof(*p));
        struct pattern pat;
        struct fy_errmsg em;
        if (!p || pattern_compile(p, text, false, &pat, &em) != FY_ERR_OK) {
            wrong++;
            fy_policy_free(p);
            continue;
        }
        for (int t = 0; t < 8; t++, cases++) {
            unsigned ns = rng(7);
            for (unsigned i = 0; i < ns; i++) {
                str[i] = "ab"[rng(2)];
            }
            str[ns] = '\0';
            bool want = ref_glob(ref, str);
            wrong += (pattern_match(&pat, &req, str, ns, t & 1) == PR_MATCH) != want;
        }
        fy_policy_free(p);
    }
    ok(wrong == 0, "pattern_match agrees with a reference matcher on %zu random cases", cases);
}

int main(void)
{
    fy_json_init();
    test_rows();
    test_conditions();
    test_malformed();
    test_size_limit();
    test_sets();
    test_operator_variants();
    test_value_length();
    test_pattern_sizes();
    test_messages();
    test_allocation();
    test_match_differential();
    return done();
}
