/* Operator access control: the IAM action and resource ARNs of a routed request, decided by the
 * policy engine against the policies of the operator key that signed it (README "Operator access
 * keys"). The administrator key never comes here. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api/api_int.h"
#include "api/routes.h"
#include "operators/operators.h"
#include "policy/policy.h"

#define ARN_MAX 2048 /* one resource ARN (topics and log stream names are the long ones) */

/* fleetyard's own routes: actions in the "fleetyard" namespace (no AWS equivalent). */
static const char *const own_ops[] = {"Ping",      "Reset",      "GetMetrics",
                                      "GetRootCA", "HealthLive", "HealthReady"};

void api_access_action(enum fy_service svc, const char *op, char *buf, size_t n)
{
    const char *prefix = svc == FY_SVC_JOBS ? "iotjobsdata" : svc == FY_SVC_LOGS ? "logs" : "iot";
    for (size_t i = 0; svc == FY_SVC_IOT && i < sizeof(own_ops) / sizeof(own_ops[0]); i++) {
        if (strcmp(op, own_ops[i]) == 0) {
            prefix = "fleetyard";
        }
    }
    if ((size_t)snprintf(buf, n, "%s:%s", prefix, op) >= n) {
        buf[0] = '\0';
    }
}

/* Path labels that name a resource, and the IAM resource type of their ARN. */
static const struct {
    const char *param;
    const char *type;
} label_types[] = {
    {"thingName", "thing"},
    {"thingGroupName", "thinggroup"},
    {"thingTypeName", "thingtype"},
    {"jobId", "job"},
    {"jobTemplateId", "jobtemplate"},
    {"policyName", "policy"},
    {"certificateId", "cert"},
    {"caCertificateId", "cacert"},
    {"metricName", "fleetmetric"},
    {"indexName", "index"},
    {"topic", "topic"},
};

/* Body members naming a resource (by name or ARN) for operations whose path does not. */
static const struct {
    const char *member;
    const char *type; /* NULL: the member is an ARN already */
} body_types[] = {
    {"thingName", "thing"}, {"thingGroupName", "thinggroup"},
    {"thingArn", NULL},     {"thingGroupArn", NULL},
    {"resourceArn", NULL},  {"jobTemplateArn", NULL},
};

/* What one authorization needs: the request, its key, the action, and the first refusal. */
struct authz {
    struct api_req *req;
    const struct fy_operator *op;
    char action[160];
    char user_arn[128];
    fy_err e;
    size_t checked;
    /* context values, formatted once */
    char ip[64], now_iso[32], now_epoch[24];
};

/* fy_policy_lookup_fn: the global condition keys of an IAM request. */
static size_t lookup(void *ctx, const char *name, const char **out, size_t max)
{
    struct authz *a = ctx;
    const char *v = NULL;
    if (max == 0) {
        return 0;
    }
    if (strcmp(name, "aws:SourceIp") == 0) {
        v = a->ip[0] ? a->ip : NULL;
    } else if (strcmp(name, "aws:CurrentTime") == 0) {
        v = a->now_iso;
    } else if (strcmp(name, "aws:EpochTime") == 0) {
        v = a->now_epoch;
    } else if (strcmp(name, "aws:SecureTransport") == 0) {
        v = "false"; /* the API listens on plain HTTP */
    } else if (strcmp(name, "aws:username") == 0) {
        v = a->op->name;
    } else if (strcmp(name, "aws:userid") == 0) {
        v = a->op->key_id;
    } else if (strcmp(name, "aws:PrincipalArn") == 0) {
        v = a->user_arn;
    } else if (strcmp(name, "aws:PrincipalAccount") == 0) {
        v = a->req->site->account;
    } else if (strcmp(name, "aws:PrincipalType") == 0) {
        v = "User";
    } else if (strcmp(name, "aws:RequestedRegion") == 0) {
        v = a->req->site->region;
    }
    out[0] = v;
    return v ? 1 : 0;
}

/* Decides one resource; records the first refusal in a->e and req->em. */
static void check(struct authz *a, const char *arn)
{
    a->checked++;
    if (a->e) {
        return;
    }
    struct fy_policy_request pr = {a->action, arn, lookup, a};
    enum fy_policy_decision d = fy_policy_eval(a->op->policies, a->op->npolicies, &pr, NULL);
    if (d == FY_POLICY_ALLOWED) {
        return;
    }
    a->e =
        fy_fail(&a->req->em, FY_ERR_ACCESS_DENIED,
                "User: %s is not authorized to perform: %s on resource: %.256s %s%s%s", a->user_arn,
                a->action, arn,
                d == FY_POLICY_EXPLICIT_DENY ? "with an explicit deny in an identity-based policy"
                                             : "because no identity-based policy allows the ",
                d == FY_POLICY_EXPLICIT_DENY ? "" : a->action,
                d == FY_POLICY_EXPLICIT_DENY ? "" : " action");
}

static void check_named(struct authz *a, const char *type, const char *name)
{
    char arn[ARN_MAX];
    if (fy_arn_fmt(arn, sizeof(arn), a->req->site, type, name) < sizeof(arn)) {
        check(a, arn);
    } else {
        check(a, "*"); /* too long to be a real name: the handler refuses it */
    }
}

static void check_labels(struct authz *a)
{
    for (size_t i = 0; i < sizeof(label_types) / sizeof(label_types[0]); i++) {
        const char *v = api_param(a->req, label_types[i].param);
        /* the jobs data plane authorizes on the thing alone (IAM: iotjobsdata resources) */
        if (v && !(a->req->svc == FY_SVC_JOBS && strcmp(label_types[i].type, "job") == 0)) {
            check_named(a, label_types[i].type, v);
        }
    }
}

/* Body members naming resources, for the operations whose path names none. */
static void check_body(struct authz *a, json_t *body)
{
    for (size_t i = 0; i < sizeof(body_types) / sizeof(body_types[0]); i++) {
        const char *v = json_string_value(json_object_get(body, body_types[i].member));
        if (v && body_types[i].type) {
            check_named(a, body_types[i].type, v);
        } else if (v) {
            check(a, v);
        }
    }
    json_t *targets = json_object_get(body, "targets"); /* CreateJob: every target */
    for (size_t i = 0; i < json_array_size(targets); i++) {
        const char *v = json_string_value(json_array_get(targets, i));
        check(a, v ? v : "*");
    }
}

/* CloudWatch Logs: the log group (or stream, for the calls that name one) of the body. */
static void check_logs(struct authz *a, json_t *body)
{
    char arn[ARN_MAX];
    const char *grp = json_string_value(json_object_get(body, "logGroupName"));
    const char *stream = json_string_value(json_object_get(body, "logStreamName"));
    bool on_stream =
        stream && a->req->op &&
        (strcmp(a->req->op, "PutLogEvents") == 0 || strcmp(a->req->op, "GetLogEvents") == 0);
    if (!grp) {
        return;
    }
    size_t n =
        on_stream
            ? (size_t)snprintf(arn, sizeof(arn), "arn:aws:logs:%s:%s:log-group:%s:log-stream:%s",
                               a->req->site->region, a->req->site->account, grp, stream)
            : (size_t)snprintf(arn, sizeof(arn), "arn:aws:logs:%s:%s:log-group:%s",
                               a->req->site->region, a->req->site->account, grp);
    check(a, n < sizeof(arn) ? arn : "*");
}

static void context_init(struct authz *a)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(a->now_iso, sizeof(a->now_iso), "%Y-%m-%dT%H:%M:%SZ", &tm);
    snprintf(a->now_epoch, sizeof(a->now_epoch), "%lld", (long long)t);
    if (!api_source_ip(a->req, a->ip, sizeof(a->ip))) {
        a->ip[0] = '\0';
    }
    snprintf(a->user_arn, sizeof(a->user_arn), "arn:aws:iam::%s:user/%s", a->req->site->account,
             a->op->name);
}

fy_err api_authorize(struct api_req *req, const struct fy_operator *op)
{
    struct authz a;
    json_t *body = NULL;
    memset(&a, 0, sizeof(a));
    a.req = req;
    a.op = op;
    if (req->svc == FY_SVC_LOGS) {
        const struct api_route *r = api_logs_op(req);
        if (!r) {
            return FY_ERR_OK; /* unknown operation: the handler refuses it, changing nothing */
        }
        req->op = r->op;
    }
    api_access_action(req->svc, req->op, a.action, sizeof(a.action));
    context_init(&a);
    bool has_body = req->body.len > 0 && (req->svc == FY_SVC_LOGS || req->svc == FY_SVC_IOT);
    if (has_body && api_body(req, &body) != FY_ERR_OK) {
        /* malformed: no resources from it; the handler parses it again and reports it */
        req->em.msg[0] = '\0';
        json_decref(req->j_body);
        req->j_body = body = NULL;
    }
    check_labels(&a);
    if (req->svc == FY_SVC_LOGS) {
        check_logs(&a, body);
    } else if (body) {
        check_body(&a, body);
    }
    if (req->svc == FY_SVC_IOT && strcmp(req->method, "GET") == 0) {
        const char *arn = api_query(req, "resourceArn"); /* ListTagsForResource */
        if (arn) {
            check(&a, arn);
        }
    }
    if (a.checked == 0) {
        check(&a, "*");
    }
    return a.e;
}
