/* Operator access control: the IAM action of each route, the resource ARNs a request is decided
 * on, policy evaluation in IAM terms (explicit deny wins, default deny, conditions on the
 * request's global keys), AWS's denial message, and the key store on a temp database (limits on
 * both sides, status, rotation, the version the server's cache follows). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/api_int.h"
#include "core/alloc.h"
#include "core/json.h"
#include "operators/operators.h"
#include "policy/policy.h"
#include "tests/unit/tap.h"
#include "tests/unit/tempdb.h"

#define ARN "arn:aws:iot:us-east-1:123456789012:"

static void test_actions(void)
{
    static const struct {
        enum fy_service svc;
        const char *op, *want;
    } rows[] = {
        {FY_SVC_IOT, "CreateJob", "iot:CreateJob"},
        {FY_SVC_IOT, "ListThings", "iot:ListThings"},
        {FY_SVC_DATA, "GetThingShadow", "iot:GetThingShadow"},
        {FY_SVC_DATA, "Publish", "iot:Publish"},
        {FY_SVC_JOBS, "UpdateJobExecution", "iotjobsdata:UpdateJobExecution"},
        {FY_SVC_LOGS, "FilterLogEvents", "logs:FilterLogEvents"},
        {FY_SVC_IOT, "Reset", "fleetyard:Reset"},
        {FY_SVC_IOT, "Ping", "fleetyard:Ping"},
    };
    char buf[64];
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        api_access_action(rows[i].svc, rows[i].op, buf, sizeof(buf));
        ok(strcmp(buf, rows[i].want) == 0, "action of %s: %s", rows[i].op, buf);
    }
    api_access_action(FY_SVC_IOT, "CreateJob", buf, 8);
    ok(buf[0] == '\0', "an action that does not fit is empty (matches no policy)");
}

/* A request as the dispatcher hands it to api_authorize (no HTTP connection). */
struct fake {
    struct api_req req;
    struct fy_site site;
};

static void fake_init(struct fake *f, enum fy_service svc, const char *method, const char *op)
{
    memset(f, 0, sizeof(*f));
    snprintf(f->site.region, sizeof(f->site.region), "us-east-1");
    snprintf(f->site.account, sizeof(f->site.account), "123456789012");
    f->req.site = &f->site;
    f->req.svc = svc;
    f->req.method = method;
    f->req.op = op;
}

static void fake_param(struct fake *f, const char *k, const char *v)
{
    f->req.params[f->req.nparams].key = (char *)k;
    f->req.params[f->req.nparams].value = (char *)v;
    f->req.nparams++;
}

static void fake_body(struct fake *f, const char *json)
{
    f->req.body.data = (char *)json; /* parsed by api_body, never freed here */
    f->req.body.len = strlen(json);
}

static struct fy_policy *compile(const char *doc)
{
    struct fy_policy *p = NULL;
    struct fy_errmsg em = {""};
    if (fy_policy_compile(doc, strlen(doc), &p, &em) != FY_ERR_OK) {
        ok(0, "compile: %s", em.msg);
    }
    return p;
}

static const char JOBS_LINE1[] =
    "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\"iot:"
    "CreateJob\","
    "\"iot:DescribeJob\",\"iot:CancelJob\"],\"Resource\":[\"" ARN "job/line-1-*\",\"" ARN
    "thinggroup/line-1\"]},{\"Effect\":\"Allow\",\"Action\":\"iot:List*\",\"Resource\":\"*\"},"
    "{\"Effect\":\"Allow\",\"Action\":[\"iot:GetThingShadow\",\"iotjobsdata:*\"],\"Resource\":"
    "\"" ARN "thing/dev-1\"},{\"Effect\":\"Deny\",\"Action\":\"iot:DeleteThing\",\"Resource\":"
    "\"*\"},{\"Effect\":\"Allow\",\"Action\":\"iot:DescribeThing\",\"Resource\":\"*\","
    "\"Condition\":{\"StringEquals\":{\"AWS:UserName\":\"ops\"}}},{\"Effect\":\"Allow\","
    "\"Action\":\"iot:SearchIndex\",\"Resource\":\"*\",\"Condition\":{\"IpAddress\":"
    "{\"aws:SourceIp\":\"0.0.0.0/0\"}}}]}";

struct authz_row {
    enum fy_service svc;
    const char *method, *op;
    const char *params[4]; /* key, value, key, value */
    const char *body;
    fy_err want;
    const char *msg_has;
};

static void test_authorize(void)
{
    static const struct authz_row rows[] = {
        {FY_SVC_IOT,
         "PUT",
         "CreateJob",
         {"jobId", "line-1-a"},
         "{\"targets\":[\"" ARN "thinggroup/line-1\"]}",
         FY_ERR_OK,
         NULL},
        {FY_SVC_IOT,
         "PUT",
         "CreateJob",
         {"jobId", "line-1-b"},
         "{\"targets\":[\"" ARN "thinggroup/line-2\"]}",
         FY_ERR_ACCESS_DENIED,
         "User: arn:aws:iam::123456789012:user/ops is not authorized to perform: iot:CreateJob on "
         "resource: " ARN "thinggroup/line-2 because no identity-based policy allows the "
         "iot:CreateJob action"},
        {FY_SVC_IOT,
         "PUT",
         "CreateJob",
         {"jobId", "line-1-c"},
         "{\"targets\":[\"" ARN "thinggroup/line-1\",\"" ARN "thing/t1\"]}",
         FY_ERR_ACCESS_DENIED,
         "resource: " ARN "thing/t1 "},
        {FY_SVC_IOT,
         "PUT",
         "CreateJob",
         {"jobId", "other"},
         "{\"targets\":[\"" ARN "thinggroup/line-1\"]}",
         FY_ERR_ACCESS_DENIED,
         "resource: " ARN "job/other "},
        {FY_SVC_IOT,
         "PUT",
         "CreateJob",
         {"jobId", "line-1-d"},
         "{\"targets\":[\"" ARN "thinggroup/line-1\"],\"jobTemplateArn\":\"" ARN "jobtemplate/t\"}",
         FY_ERR_ACCESS_DENIED,
         "jobtemplate/t"},
        {FY_SVC_IOT, "GET", "DescribeJob", {"jobId", "line-1-a"}, NULL, FY_ERR_OK, NULL},
        {FY_SVC_IOT, "PUT", "CancelJob", {"jobId", "x"}, NULL, FY_ERR_ACCESS_DENIED, "job/x "},
        {FY_SVC_IOT, "GET", "ListJobs", {NULL}, NULL, FY_ERR_OK, NULL},
        {FY_SVC_IOT,
         "GET",
         "DescribeEndpoint",
         {NULL},
         NULL,
         FY_ERR_ACCESS_DENIED,
         "iot:DescribeEndpoint on resource: * because"},
        {FY_SVC_IOT,
         "DELETE",
         "DeleteThing",
         {"thingName", "t1"},
         NULL,
         FY_ERR_ACCESS_DENIED,
         "thing/t1 with an explicit deny in an identity-based policy"},
        {FY_SVC_IOT, "GET", "DescribeThing", {"thingName", "t1"}, NULL, FY_ERR_OK, NULL},
        {FY_SVC_IOT, "POST", "SearchIndex", {NULL}, NULL, FY_ERR_ACCESS_DENIED, "*"},
        {FY_SVC_DATA, "GET", "GetThingShadow", {"thingName", "dev-1"}, NULL, FY_ERR_OK, NULL},
        {FY_SVC_DATA,
         "GET",
         "GetThingShadow",
         {"thingName", "dev-2"},
         NULL,
         FY_ERR_ACCESS_DENIED,
         "iot:GetThingShadow on resource: " ARN "thing/dev-2 "},
        {FY_SVC_JOBS,
         "POST",
         "UpdateJobExecution",
         {"thingName", "dev-1", "jobId", "j1"},
         NULL,
         FY_ERR_OK,
         NULL},
        {FY_SVC_JOBS,
         "GET",
         "GetPendingJobExecutions",
         {"thingName", "dev-2"},
         NULL,
         FY_ERR_ACCESS_DENIED,
         "iotjobsdata:GetPendingJobExecutions"},
        {FY_SVC_IOT,
         "PUT",
         "AddThingToThingGroup",
         {NULL},
         "{\"thingGroupName\":\"line-1\",\"thingName\":\"t1\"}",
         FY_ERR_ACCESS_DENIED,
         "iot:AddThingToThingGroup on resource: " ARN "thing/t1 "},
        {FY_SVC_IOT,
         "POST",
         "CreateThing",
         {"thingName", "t9"},
         "not json",
         FY_ERR_ACCESS_DENIED,
         "thing/t9 "},
    };
    struct fy_policy *p = compile(JOBS_LINE1);
    const struct fy_policy *set[1] = {p};
    struct fy_operator op = {"AKIAOPS0000000000000", "s", "ops", true, set, 1};
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const struct authz_row *r = &rows[i];
        struct fake f;
        fake_init(&f, r->svc, r->method, r->op);
        for (size_t k = 0; k < 4 && r->params[k]; k += 2) {
            fake_param(&f, r->params[k], r->params[k + 1]);
        }
        if (r->body) {
            fake_body(&f, r->body);
        }
        fy_err e = api_authorize(&f.req, &op);
        ok(e == r->want && (!r->msg_has || strstr(f.req.em.msg, r->msg_has)), "row %zu %s: %s %s",
           i, r->op, fy_err_name(e), f.req.em.msg);
        json_decref(f.req.j_body);
    }
    /* aws:SourceIp is absent without a connection: an IpAddress condition does not hold */
    struct fy_operator other = {"AKIAOTHER00000000000", "s", "someone", true, set, 1};
    struct fake f;
    fake_init(&f, FY_SVC_IOT, "GET", "DescribeThing");
    fake_param(&f, "thingName", "t1");
    ok(api_authorize(&f.req, &other) == FY_ERR_ACCESS_DENIED,
       "aws:username (written AWS:UserName: key names are case-insensitive) is the key's name");
    struct fy_operator none = {"AKIANONE000000000000", "s", "none", true, NULL, 0};
    fake_init(&f, FY_SVC_IOT, "GET", "ListJobs");
    ok(api_authorize(&f.req, &none) == FY_ERR_ACCESS_DENIED, "no policy: default deny");
    fy_policy_free(p);
}

static void test_store(struct fy_db *db)
{
    struct fy_errmsg em = {""};
    json_t *j = NULL;
    int64_t v0 = -1, v1 = -1;
    char name65[FY_OPERATOR_NAME_MAX + 2], name64[FY_OPERATOR_NAME_MAX + 1];
    memset(name65, 'n', sizeof(name65) - 1);
    name65[sizeof(name65) - 1] = '\0';
    memcpy(name64, name65, FY_OPERATOR_NAME_MAX);
    name64[FY_OPERATOR_NAME_MAX] = '\0';
    ok(fy_operators_version(db, &v0, &em) == FY_ERR_OK && v0 == 0, "version starts at 0");
    ok(fy_operator_create(db, name65, NULL, NULL, NULL, &j, &em) == FY_ERR_INVALID_REQUEST,
       "name of %d characters refused", FY_OPERATOR_NAME_MAX + 1);
    ok(fy_operator_create(db, name64, NULL, NULL, NULL, &j, &em) == FY_ERR_OK,
       "name of %d characters accepted", FY_OPERATOR_NAME_MAX);
    json_decref(j);
    ok(fy_operator_create(db, name64, NULL, NULL, NULL, &j, &em) == FY_ERR_ALREADY_EXISTS,
       "names are unique");
    ok(fy_operator_create(db, "p", NULL, "bad", "{\"Statement\":[]}", &j, &em) ==
           FY_ERR_MALFORMED_POLICY,
       "a malformed policy is refused: %s", em.msg);
    const char *doc = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
                      "\"Action\":\"iot:List*\",\"Resource\":\"*\"}]}";
    ok(fy_operator_create(db, "reader", "reads", "ro", doc, &j, &em) == FY_ERR_OK, "create");
    const char *id_borrowed =
        json_string_value(json_object_get(json_object_get(j, "AccessKey"), "AccessKeyId"));
    char id[FY_OPERATOR_KEY_ID_LEN + 1];
    snprintf(id, sizeof(id), "%s", id_borrowed ? id_borrowed : "");
    const char *secret =
        json_string_value(json_object_get(json_object_get(j, "AccessKey"), "SecretAccessKey"));
    ok(strlen(id) == FY_OPERATOR_KEY_ID_LEN && strncmp(id, "AKIA", 4) == 0 && secret &&
           strlen(secret) == FY_OPERATOR_SECRET_LEN,
       "key id and secret have AWS's form");
    char old_secret[FY_OPERATOR_SECRET_LEN + 1];
    snprintf(old_secret, sizeof(old_secret), "%s", secret ? secret : "");
    json_decref(j);
    for (int i = 1; i < FY_OPERATOR_POLICIES_MAX; i++) {
        char pname[16];
        snprintf(pname, sizeof(pname), "p%d", i);
        if (fy_operator_put_policy(db, id, pname, doc, &em) != FY_ERR_OK) {
            ok(0, "policy %d: %s", i, em.msg);
        }
    }
    ok(fy_operator_put_policy(db, id, "ro", doc, &em) == FY_ERR_OK,
       "%d policies; replacing one by name is no new one", FY_OPERATOR_POLICIES_MAX);
    ok(fy_operator_put_policy(db, id, "one-more", doc, &em) == FY_ERR_LIMIT_EXCEEDED,
       "policy %d refused", FY_OPERATOR_POLICIES_MAX + 1);
    ok(fy_operator_put_policy(db, "AKIANOSUCH", "x", doc, &em) == FY_ERR_NOT_FOUND,
       "policy on an unknown key");
    ok(fy_operator_set_status(db, id, false, &j, &em) == FY_ERR_OK, "disable");
    json_decref(j);
    ok(fy_operator_rotate(db, id, &j, &em) == FY_ERR_OK, "rotate");
    json_decref(j);
    ok(fy_operators_version(db, &v1, &em) == FY_ERR_OK && v1 > v0, "changes bump the version");
    struct fy_operator_set *s = NULL;
    int64_t v2 = -1;
    ok(fy_operator_set_load(db, &s, &v2, &em) == FY_ERR_OK && v2 == v1, "load: %s", em.msg);
    const struct fy_operator *o = fy_operator_set_find(s, id);
    ok(o && !o->active && strcmp(o->name, "reader") == 0 &&
           o->npolicies == FY_OPERATOR_POLICIES_MAX && strcmp(o->secret, old_secret) != 0,
       "snapshot: inactive, %d policies, rotated secret", FY_OPERATOR_POLICIES_MAX);
    ok(fy_operator_set_count(s) == 2 && !fy_operator_set_find(s, "AKIA"), "find by exact id");
    fy_operator_set_free(s);
    ok(fy_operator_delete_policy(db, id, "nope", &em) == FY_ERR_NOT_FOUND, "detach unknown");
    ok(fy_operator_delete(db, id, &em) == FY_ERR_OK, "delete");
    ok(fy_operator_delete(db, id, &em) == FY_ERR_NOT_FOUND, "delete twice");
    ok(fy_operator_get(db, id, &j, &em) == FY_ERR_NOT_FOUND, "gone");
}

int main(void)
{
    fy_json_init();
    test_actions();
    test_authorize();
    with_temp_db("/tmp/fy-test-operators-XXXXXX", test_store);
    return done();
}
