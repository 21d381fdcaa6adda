/* Broker plugin topic rules: which topics only fleetyard may publish on. */
#include "broker_plugin/topics.c"
#include "tests/unit/tap.h"

static const struct {
    const char *topic;
    bool reserved;
} rows[] = {
    {"$aws/things/t1/shadow/update/accepted", true},
    {"$aws/things/t1/shadow/update/rejected", true},
    {"$aws/things/t1/shadow/update/delta", true},
    {"$aws/things/t1/shadow/update/documents", true},
    {"$aws/things/t1/shadow/get/accepted", true},
    {"$aws/things/t1/shadow/delete/rejected", true},
    {"$aws/things/t1/shadow/name/cfg/update/delta", true},
    {"$aws/things/t1/shadow/name/cfg/get/accepted", true},
    {"$aws/things/t1/jobs/notify", true},
    {"$aws/things/t1/jobs/notify-next", true},
    {"$aws/things/t1/jobs/get/accepted", true},
    {"$aws/things/t1/jobs/start-next/rejected", true},
    {"$aws/things/t1/jobs/job-1/update/accepted", true},
    {"$aws/events/presence/connected/t1", true},
    {"$aws/events/thing/t1/created", true},
    /* requests a device publishes */
    {"$aws/things/t1/shadow/update", false},
    {"$aws/things/t1/shadow/get", false},
    {"$aws/things/t1/shadow/delete", false},
    {"$aws/things/t1/shadow/name/delta/update", false},
    {"$aws/things/t1/jobs/get", false},
    {"$aws/things/t1/jobs/start-next", false},
    {"$aws/things/t1/jobs/notify/get", false},
    {"$aws/things/t1/jobs/job-1/update", false},
    {"$aws/things/t1/jobs/job-1/notify", false},
    /* other topics */
    {"device/t1/accepted", false},
    {"$aws/things/t1/other/accepted", false},
    {"$aws/things/t1/shadowx/update/accepted", false},
    {"$aws/thingsx/t1/shadow/update/accepted", false},
    {"$aws/eventsx/a", false},
    {"$aws/rules/r1/accepted", false},
    {"", false},
};

/* Shadow request topics: thing, shadow name ("" classic), op (-1 = not a request). */
static const struct {
    const char *topic;
    const char *thing, *name;
    int op;
} requests[] = {
    {"$aws/things/t1/shadow/get", "t1", "", FY_SHADOW_OP_GET},
    {"$aws/things/t1/shadow/update", "t1", "", FY_SHADOW_OP_UPDATE},
    {"$aws/things/t1/shadow/delete", "t1", "", FY_SHADOW_OP_DELETE},
    {"$aws/things/t1/shadow/name/cfg/update", "t1", "cfg", FY_SHADOW_OP_UPDATE},
    {"$aws/things/t1/shadow/name/name/get", "t1", "name", FY_SHADOW_OP_GET},
    {"$aws/things/t1/shadow/update/accepted", NULL, NULL, -1},
    {"$aws/things/t1/shadow/name/cfg/update/delta", NULL, NULL, -1},
    {"$aws/things/t1/shadow/list", NULL, NULL, -1},
    {"$aws/things/t1/shadow/name//get", NULL, NULL, -1},
    {"$aws/things//shadow/get", NULL, NULL, -1},
    {"$aws/things/t1/shadow/", NULL, NULL, -1},
    {"$aws/things/t1/shadow", NULL, NULL, -1},
    {"$aws/things/t1/jobs/get", NULL, NULL, -1},
    {"$aws/things/t1/shadow/name/cfg", NULL, NULL, -1},
    {"$aws/things/t1/shadow/getx", NULL, NULL, -1},
    /* AWS limits: thing names 128 bytes, shadow names 64 */
    {"$aws/things/"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "a"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/shadow/get",
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "a"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
     "", FY_SHADOW_OP_GET},
    {"$aws/things/"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "a"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/shadow/get",
     NULL, NULL, -1},
    {"$aws/things/t/shadow/name/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb/"
     "get",
     "t", "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", FY_SHADOW_OP_GET},
    {"$aws/things/t/shadow/name/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb/"
     "get",
     NULL, NULL, -1},
};

static void test_requests(void)
{
    for (size_t i = 0; i < sizeof(requests) / sizeof(requests[0]); i++) {
        struct fy_topic_shadow t;
        bool got = fy_topic_shadow_request(requests[i].topic, &t);
        if (requests[i].op < 0) {
            ok(!got, "not a request: %.80s", requests[i].topic);
            continue;
        }
        ok(got && t.op == requests[i].op && strcmp(t.thing, requests[i].thing) == 0 &&
               strcmp(t.name, requests[i].name) == 0 && t.prefix_len == strlen(requests[i].topic),
           "request: %.80s", requests[i].topic);
    }
}

/* Jobs request topics: thing, job id, op (-1 = not a request). */
static const struct {
    const char *topic;
    const char *thing, *job;
    int op;
} jobs[] = {
    {"$aws/things/t1/jobs/get", "t1", "", FY_TOPIC_JOBS_GET_PENDING},
    {"$aws/things/t1/jobs/start-next", "t1", "", FY_TOPIC_JOBS_START_NEXT},
    {"$aws/things/t1/jobs/job-1/get", "t1", "job-1", FY_TOPIC_JOBS_DESCRIBE},
    {"$aws/things/t1/jobs/$next/get", "t1", "$next", FY_TOPIC_JOBS_DESCRIBE},
    {"$aws/things/t1/jobs/job-1/update", "t1", "job-1", FY_TOPIC_JOBS_UPDATE},
    {"$aws/things/t1/jobs/get/accepted", NULL, NULL, -1},
    {"$aws/things/t1/jobs/start-next/rejected", NULL, NULL, -1},
    {"$aws/things/t1/jobs/job-1/update/accepted", NULL, NULL, -1},
    {"$aws/things/t1/jobs/notify", NULL, NULL, -1},
    {"$aws/things/t1/jobs/notify-next", NULL, NULL, -1},
    {"$aws/things/t1/jobs/get/", NULL, NULL, -1},
    {"$aws/things/t1/jobs/", NULL, NULL, -1},
    {"$aws/things/t1/jobs//get", NULL, NULL, -1},
    {"$aws/things/t1/jobs/job-1/delete", NULL, NULL, -1},
    {"$aws/things/t1/shadow/get", NULL, NULL, -1},
    {"$aws/things/t1/jobsx/get", NULL, NULL, -1},
    /* job ids are at most 64 bytes */
    {"$aws/things/t/jobs/jjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjj/get", "t",
     "jjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjj", FY_TOPIC_JOBS_DESCRIBE},
    {"$aws/things/t/jobs/jjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjj/get",
     NULL, NULL, -1},
};

static void test_jobs(void)
{
    for (size_t i = 0; i < sizeof(jobs) / sizeof(jobs[0]); i++) {
        struct fy_topic_jobs t;
        bool got = fy_topic_jobs_request(jobs[i].topic, &t);
        if (jobs[i].op < 0) {
            ok(!got, "not a jobs request: %.80s", jobs[i].topic);
            continue;
        }
        ok(got && (int)t.op == jobs[i].op && strcmp(t.thing, jobs[i].thing) == 0 &&
               strcmp(t.job_id, jobs[i].job) == 0,
           "jobs request: %.80s", jobs[i].topic);
    }
}

/* Namespaced jobs request topics (the Greengrass nucleus): thing, job id, namespace, op. */
static const struct {
    const char *topic;
    const char *thing, *job, *ns;
    int op;
} ns_jobs[] = {
    {"$aws/things/t1/jobs/$next/namespace-aws-gg-deployment/get", "t1", "$next",
     "aws-gg-deployment", FY_TOPIC_JOBS_DESCRIBE},
    {"$aws/things/t1/jobs/j1/namespace-ns/update", "t1", "j1", "ns", FY_TOPIC_JOBS_UPDATE},
    {"$aws/things/t1/jobs/j1/namespace-ns/get", "t1", "j1", "ns", FY_TOPIC_JOBS_DESCRIBE},
    {"$aws/things/t1/jobs/j1/get", "t1", "j1", "", FY_TOPIC_JOBS_DESCRIBE},
    {"$aws/things/t1/jobs/j1/namespace-ns/update/accepted", NULL, NULL, NULL, -1},
    {"$aws/things/t1/jobs/j1/namespace-/get", NULL, NULL, NULL, -1},
    {"$aws/things/t1/jobs/j1/namespace-ns", NULL, NULL, NULL, -1},
    {"$aws/things/t1/jobs/j1/namespace-ns/delete", NULL, NULL, NULL, -1},
    {"$aws/things/t1/jobs/j1/other-ns/get", NULL, NULL, NULL, -1},
    {"$aws/things/t1/jobs/notify-next-namespace-ns", NULL, NULL, NULL, -1},
};

static void test_ns_jobs(void)
{
    for (size_t i = 0; i < sizeof(ns_jobs) / sizeof(ns_jobs[0]); i++) {
        struct fy_topic_jobs t;
        bool got = fy_topic_jobs_request(ns_jobs[i].topic, &t);
        if (ns_jobs[i].op < 0) {
            ok(!got, "not a jobs request: %.80s", ns_jobs[i].topic);
            continue;
        }
        ok(got && (int)t.op == ns_jobs[i].op && strcmp(t.thing, ns_jobs[i].thing) == 0 &&
               strcmp(t.job_id, ns_jobs[i].job) == 0 && strcmp(t.ns, ns_jobs[i].ns) == 0,
           "namespaced jobs request: %.80s", ns_jobs[i].topic);
    }
    ok(fy_topic_reserved_response("$aws/things/t1/jobs/notify-next-namespace-ns") &&
           fy_topic_reserved_response("$aws/things/t1/jobs/j1/notify-namespace-ns/") &&
           fy_topic_reserved_response("$aws/things/t1/jobs/$next/namespace-ns/get/accepted") &&
           !fy_topic_reserved_response("$aws/things/t1/jobs/j1/namespace-ns/update"),
       "namespaced notifications and answers are the service's; requests are the device's");
}

struct filter_case {
    const char *filter;
    bool may;
};

static void check_filters(const char *what,
                          bool (*may_get)(const char *),
                          const struct filter_case *cases,
                          size_t n)
{
    for (size_t i = 0; i < n; i++) {
        ok(may_get(cases[i].filter) == cases[i].may, "%s %s: %s", what,
           cases[i].may ? "may match" : "cannot match", cases[i].filter);
    }
}

/* Which subscription filters may receive update/documents (the plugin skips publishing it
 * until one was admitted). */
static void test_documents_filters(void)
{
    static const struct filter_case cases[] = {
        {"$aws/things/t1/shadow/update/documents", true},
        {"$aws/things/+/shadow/update/documents", true},
        {"$aws/things/t1/shadow/#", true},
        {"$aws/things/t1/#", true},
        {"$aws/#", true},
        {"$aws/things/t1/shadow/name/s1/update/documents", true},
        {"$aws/things/t1/shadow/name/+/update/+", true},
        {"$aws/things/t1/shadow/+/+/update/documents", true},
        {"$aws/things/t1/shadow/update/documents/#", true},
        {"$share/g1/$aws/things/t1/shadow/update/documents", true},
        {"$aws/things/t1/shadow/update/accepted", false},
        {"$aws/things/t1/shadow/update/+/x", false},
        {"$aws/things/t1/shadow/update", false},
        {"$aws/things/t1/shadow/get/#", false},
        {"$aws/things/t1/jobs/#", false},
        {"#", false},
        {"+/things/t1/shadow/update/documents", false},
        {"device/t1/echo", false},
        {"$share/g1", false},
    };
    check_filters("documents", fy_topic_filter_may_get_documents, cases,
                  sizeof(cases) / sizeof(cases[0]));
}

/* Which subscription filters may receive shadow requests (the plugin consumes them without
 * routing until one was admitted). */
static void test_request_filters(void)
{
    static const struct filter_case cases[] = {
        {"$aws/things/t1/shadow/update", true},
        {"$aws/things/t1/shadow/get", true},
        {"$aws/things/t1/shadow/delete", true},
        {"$aws/things/+/shadow/update", true},
        {"$aws/things/t1/shadow/+", true},
        {"$aws/things/t1/shadow/#", true},
        {"$aws/things/#", true},
        {"$aws/#", true},
        {"$aws/things/t1/shadow/name/s1/update", true},
        {"$aws/things/t1/shadow/name/+/get", true},
        {"$aws/things/+/shadow/name/+/+", true},
        {"$share/g1/$aws/things/t1/shadow/update", true},
        {"$aws/things/t1/shadow/update/accepted", false},
        {"$aws/things/t1/shadow/update/#", true}, /* "#" matches its parent level too */
        {"$aws/things/t1/shadow/+/accepted", false},
        {"$aws/things/t1/shadow/name/s1/update/delta", false},
        {"$aws/things/t1/jobs/get", false},
        {"$aws/things/t1", false},
        {"#", false},
        {"+/things/t1/shadow/update", false},
        {"+/+/+/+/+", false},
        {"device/t1/echo", false},
        {"$share/g1", false},
    };
    check_filters("requests", fy_topic_filter_may_get_requests, cases,
                  sizeof(cases) / sizeof(cases[0]));
}

int main(void)
{
    test_documents_filters();
    test_request_filters();
    test_jobs();
    test_ns_jobs();
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        ok(fy_topic_reserved_response(rows[i].topic) == rows[i].reserved, "%s %s", rows[i].topic,
           rows[i].reserved ? "reserved" : "open");
    }
    test_requests();
    return done();
}
