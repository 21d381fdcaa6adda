/* fleetyard broker plugin: reserved topic rules (pure; unit-tested in tests/unit). */
#include <stdbool.h>
#include <string.h>

#include "broker_plugin/plugin_int.h"

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
    return strcmp(after_jobs, "notify") == 0 || strcmp(after_jobs, "notify-next") == 0;
}
