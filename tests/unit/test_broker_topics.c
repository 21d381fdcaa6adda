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

int main(void)
{
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        ok(fy_topic_reserved_response(rows[i].topic) == rows[i].reserved, "%s %s", rows[i].topic,
           rows[i].reserved ? "reserved" : "open");
    }
    return done();
}
