/* fleetyard broker plugin: reserved topic rules (pure; unit-tested in tests/unit). */
#include <stdbool.h>
#include <string.h>

#include "broker_plugin/plugin_int.h"
#include "shadow/shadow.h"

#define THINGS_PREFIX "$aws/things/"
#define EVENTS_PREFIX "$aws/events/"

/* True when the last level of topic (text after the last '/') equals word. */
static bool last_level_is(const char *topic, const char *word)
{
    const char *slash = strrchr(topic, '/');
    return slash && strcmp(slash + 1, word) == 0;
}

/* True when topic contains "/<service>/" right after the thing name. */
static bool service_is(const char *after_things, const char *service)
{
    const char *slash = strchr(after_things, '/');
    size_t n = strlen(service);
    return slash && strncmp(slash + 1, service, n) == 0 && slash[1 + n] == '/';
}

bool fy_topic_reserved_response(const char *topic)
{
    if (strncmp(topic, EVENTS_PREFIX, strlen(EVENTS_PREFIX)) == 0) {
        return true;
    }
    if (strncmp(topic, THINGS_PREFIX, strlen(THINGS_PREFIX)) != 0) {
        return false;
    }
    const char *rest = topic + strlen(THINGS_PREFIX);
    bool shadow = service_is(rest, "shadow");
    bool jobs = service_is(rest, "jobs");
    if (!shadow && !jobs) {
        return false;
    }
    if (last_level_is(topic, "accepted") || last_level_is(topic, "rejected")) {
        return true;
    }
    if (shadow) {
        return last_level_is(topic, "delta") || last_level_is(topic, "documents");
    }
    const char *after_jobs = strchr(rest, '/') + strlen("/jobs/");
    return strcmp(after_jobs, "notify") == 0 || strcmp(after_jobs, "notify-next") == 0 ||
           strncmp(after_jobs, "notify-next-namespace-", 22) == 0 ||
           strstr(after_jobs, "/notify-namespace-") != NULL;
}

/* Copies the level starting at *pos (up to the next '/' or the end) into dst of size n and
 * moves *pos past it and its '/'; false when the level is empty or does not fit. */
static bool take_level(const char **pos, char *dst, size_t n)
{
    size_t len = strcspn(*pos, "/");
    if (len == 0 || len >= n) {
        return false;
    }
    memcpy(dst, *pos, len);
    dst[len] = '\0';
    *pos += len;
    if (**pos == '/') {
        (*pos)++;
    }
    return true;
}

bool fy_topic_shadow_request(const char *topic, struct fy_topic_shadow *out)
{
    static const char *const ops[] = {"get", "update", "delete"};
    const char *pos = topic + strlen(THINGS_PREFIX);
    char op[8];
    if (strncmp(topic, THINGS_PREFIX, strlen(THINGS_PREFIX)) != 0 ||
        !take_level(&pos, out->thing, sizeof(out->thing)) || strncmp(pos, "shadow/", 7) != 0) {
        return false;
    }
    pos += strlen("shadow/");
    out->name[0] = '\0';
    if (strncmp(pos, "name/", 5) == 0) {
        pos += strlen("name/");
        if (!take_level(&pos, out->name, sizeof(out->name))) {
            return false;
        }
    }
    size_t op_at = (size_t)(pos - topic);
    if (strchr(pos, '/') || !take_level(&pos, op, sizeof(op))) {
        return false;
    }
    for (int i = 0; i < 3; i++) {
        if (strcmp(op, ops[i]) == 0) {
            out->op = i == 0   ? FY_SHADOW_OP_GET
                      : i == 1 ? FY_SHADOW_OP_UPDATE
                               : FY_SHADOW_OP_DELETE;
            out->prefix_len = op_at + strlen(op);
            return true;
        }
    }
    return false;
}

bool fy_topic_jobs_request(const char *topic, struct fy_topic_jobs *out)
{
    const char *pos = topic + strlen(THINGS_PREFIX);
    char first[FY_TOPIC_JOB_ID_MAX + 1], second[8];
    out->ns[0] = '\0';
    if (strncmp(topic, THINGS_PREFIX, strlen(THINGS_PREFIX)) != 0 ||
        !take_level(&pos, out->thing, sizeof(out->thing)) || strncmp(pos, "jobs/", 5) != 0) {
        return false;
    }
    pos += strlen("jobs/");
    if (!take_level(&pos, first, sizeof(first))) {
        return false;
    }
    if (*pos == '\0' && pos[-1] != '/') { /* one level: get or start-next */
        out->job_id[0] = '\0';
        out->op = strcmp(first, "get") == 0 ? FY_TOPIC_JOBS_GET_PENDING : FY_TOPIC_JOBS_START_NEXT;
        return strcmp(first, "get") == 0 || strcmp(first, "start-next") == 0;
    }
    if (strncmp(pos, "namespace-", 10) == 0) { /* <jobId>/namespace-<ns>/<op> */
        pos += strlen("namespace-");
        if (!take_level(&pos, out->ns, sizeof(out->ns)) || pos[-1] != '/') {
            return false;
        }
    }
    if (strchr(pos, '/') || !take_level(&pos, second, sizeof(second))) {
        return false;
    }
    memcpy(out->job_id, first, strlen(first) + 1);
    out->op = strcmp(second, "get") == 0 ? FY_TOPIC_JOBS_DESCRIBE : FY_TOPIC_JOBS_UPDATE;
    return strcmp(second, "get") == 0 || strcmp(second, "update") == 0;
}

/* True when the MQTT filter f (its levels from f) can match a topic of the template t (n
 * levels; "*" stands for any one level, a thing or shadow name). */
static bool filter_may_match(const char *f, const char *const *t, size_t n)
{
    for (size_t i = 0;; i++) {
        const char *end = strchr(f, '/');
        size_t len = end ? (size_t)(end - f) : strlen(f);
        bool hash = len == 1 && f[0] == '#', plus = len == 1 && f[0] == '+';
        if (i == 0 && (hash || plus)) {
            return false; /* wildcards at the first level never match "$" topics */
        }
        if (hash) {
            return true;
        }
        if (i == n) {
            return false;
        }
        if (!plus && strcmp(t[i], "*") != 0 && (strlen(t[i]) != len || strncmp(f, t[i], len))) {
            return false;
        }
        if (!end) {
            return i + 1 == n;
        }
        f = end + 1;
    }
}

/* filter without its "$share/<group>/" prefix; NULL when the prefix is malformed. */
static const char *unshared(const char *filter)
{
    if (strncmp(filter, "$share/", 7) != 0) {
        return filter;
    }
    const char *g = strchr(filter + 7, '/');
    return g ? g + 1 : NULL;
}

bool fy_topic_filter_may_get_documents(const char *filter)
{
    static const char *const classic[] = {"$aws", "things", "*", "shadow", "update", "documents"};
    static const char *const named[] = {"$aws", "things", "*",      "shadow",
                                        "name", "*",      "update", "documents"};
    filter = unshared(filter);
    return filter && (filter_may_match(filter, classic, sizeof(classic) / sizeof(classic[0])) ||
                      filter_may_match(filter, named, sizeof(named) / sizeof(named[0])));
}

bool fy_topic_filter_may_get_requests(const char *filter)
{
    /* "*" at the operation's level: get, update and delete (and a few non-requests, which
     * only costs their routing) */
    static const char *const classic[] = {"$aws", "things", "*", "shadow", "*"};
    static const char *const named[] = {"$aws", "things", "*", "shadow", "name", "*", "*"};
    filter = unshared(filter);
    return filter && (filter_may_match(filter, classic, sizeof(classic) / sizeof(classic[0])) ||
                      filter_may_match(filter, named, sizeof(named) / sizeof(named[0])));
}
