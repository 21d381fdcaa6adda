/* Fuzzes the broker plugin's topic parsers (broker_plugin/topics.c): any topic is classified
 * without overrunning, and a parsed request topic round-trips — its thing, shadow name and job id
 * are non-empty, within AWS's limits, and found in the topic where the grammar puts them (with a
 * jobs namespace level, <jobId>/namespace-<ns>/<op>, when there is one). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker_plugin/topics.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_TOPIC_MAX 1024

static void check_shadow(const char *topic)
{
    struct fy_topic_shadow t;
    char expect[FZ_TOPIC_MAX + 64];
    if (!fy_topic_shadow_request(topic, &t)) {
        return;
    }
    static const char *const ops[] = {"get", "update", "delete"};
    snprintf(expect, sizeof(expect), "$aws/things/%s/shadow/%s%s%s%s", t.thing,
             t.name[0] ? "name/" : "", t.name, t.name[0] ? "/" : "", ops[t.op]);
    if (!t.thing[0] || strlen(t.thing) > FY_TOPIC_THING_MAX || strcmp(expect, topic) != 0 ||
        t.prefix_len != strlen(topic)) {
        abort();
    }
}

static void check_jobs(const char *topic)
{
    struct fy_topic_jobs t;
    char expect[FZ_TOPIC_MAX + 64];
    if (!fy_topic_jobs_request(topic, &t)) {
        return;
    }
    switch (t.op) {
    case FY_TOPIC_JOBS_GET_PENDING:
        snprintf(expect, sizeof(expect), "$aws/things/%s/jobs/get", t.thing);
        break;
    case FY_TOPIC_JOBS_START_NEXT:
        snprintf(expect, sizeof(expect), "$aws/things/%s/jobs/start-next", t.thing);
        break;
    case FY_TOPIC_JOBS_DESCRIBE:
    case FY_TOPIC_JOBS_UPDATE:
        snprintf(expect, sizeof(expect), "$aws/things/%s/jobs/%s%s%s/%s", t.thing, t.job_id,
                 t.ns[0] ? "/namespace-" : "", t.ns,
                 t.op == FY_TOPIC_JOBS_UPDATE ? "update" : "get");
        break;
    }
    if (!t.thing[0] || strlen(t.job_id) > FY_TOPIC_JOB_ID_MAX ||
        strlen(t.ns) > FY_TOPIC_JOB_ID_MAX || strcmp(expect, topic) != 0 ||
        (t.ns[0] && (t.op == FY_TOPIC_JOBS_GET_PENDING || t.op == FY_TOPIC_JOBS_START_NEXT))) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char topic[FZ_TOPIC_MAX + 1];
    if (size > FZ_TOPIC_MAX || memchr(data, 0, size)) {
        return 0;
    }
    memcpy(topic, data, size);
    topic[size] = '\0';
    (void)fy_topic_reserved_response(topic);
    check_shadow(topic);
    check_jobs(topic);
    return 0;
}
