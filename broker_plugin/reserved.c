/* fleetyard broker plugin: the device-side reserved topics fleetyard answers itself
 * (MOSQ_EVT_MESSAGE), in the same broker loop pass as the request.
 *
 * Shadow requests ($aws/things/<thing>/shadow/[name/<shadow>/]get|update|delete) are served by
 * shadow/ (the code path the HTTP API uses) with the plugin's database connection, queued and
 * answered together at the end of the loop pass (shadow_batch.c); the answer goes to <request
 * topic>/accepted or /rejected, and an accepted update also to <prefix>/update/documents and, when
 * there is a delta, <prefix>/update/delta. Answers are published to every subscriber (each delivery
 * passes the iot:Receive check), as on AWS. The request itself continues to its own subscribers.
 */
#include <stdio.h>
#include <string.h>

#include <mosquitto.h>
#include <mosquitto_broker.h>
#include <mosquitto_plugin.h>

#include "broker_plugin/iotlog.h"
#include "broker_plugin/plugin_int.h"
#include "core/fytime.h"
#include "core/log.h"
#include "core/names.h"
#include "registry/retained.h"
#include "shadow/shadow.h"

static void serve_shadow(struct fy_plugin *p,
                         const struct mosquitto_evt_message *ed,
                         const struct fy_topic_shadow *t)
{
    struct fy_shadow_result r = {0};
    const char *bad = !fy_valid_thing_name(t->thing)                 ? "Invalid thing name"
                      : t->name[0] && !fy_valid_shadow_name(t->name) ? "Invalid shadow name"
                                                                     : NULL;
    if (bad) {
        r.payload = fy_shadow_rejection(FY_ERR_INVALID_REQUEST, bad, ed->payload, ed->payloadlen);
    } else if (fy_shadow_batch_add(p, ed, t)) {
        return; /* answered at TICK, with the rest of this loop pass */
    } else if (fy_shadow_request(p->db, t->thing, t->name[0] ? t->name : NULL,
                                 (enum fy_shadow_op)t->op, ed->payload ? ed->payload : "",
                                 ed->payloadlen, &r) != FY_ERR_OK) {
        fy_log(FY_LOG_ERROR, "shadow", "out of memory answering %.300s", ed->topic);
        return;
    }
    fy_shadow_publish_answer(p, ed->client, ed->topic, t, &r);
    fy_shadow_result_clear(&r);
}

/* Mirrors a retained publish into the database for GetRetainedMessage/ListRetainedMessages
 * (mosquitto keeps and delivers its own copy). An empty payload deletes the topic's message. */
static void record_retained(struct fy_plugin *p, const struct mosquitto_evt_message *ed)
{
    struct fy_errmsg em = {""};
    if (fy_retained_put(p->db, ed->topic, ed->payload, ed->payloadlen, ed->qos, fy_now_ms(), &em) !=
        FY_ERR_OK) {
        fy_log(FY_LOG_ERROR, "retain", "cannot record the retained message of %.300s: %s",
               ed->topic, em.msg);
    }
}

/* A served shadow request that no subscriber may receive is not routed: mosquitto skips
 * storing it and walking the subscription tree when MESSAGE answers ACL_DENIED. That answer is
 * silent only for QoS 0 and for QoS 1 below MQTT 5 (a plain PUBACK); MQTT 5 would carry "not
 * authorized" in its PUBACK, and a retained request must still be kept, so those are routed.
 * (mosquitto's debug log calls it "Denied PUBLISH".) */
static bool consumed(const struct fy_plugin *p, const struct mosquitto_evt_message *ed)
{
    if (p->requests_wanted || ed->retain) {
        return false;
    }
    return ed->qos == 0 || (ed->qos == 1 && mosquitto_client_protocol_version(ed->client) < 5);
}

int fy_plugin_on_message(int event, void *event_data, void *userdata)
{
    const struct mosquitto_evt_message *ed = event_data;
    struct fy_plugin *p = userdata;
    struct fy_topic_shadow t;
    struct fy_topic_jobs j;
    (void)event;
    const struct fy_conn *c = fy_conns_get(&p->conns, ed->client);
    if (!c || !c->link) {
        fy_bstat_inc(p, FY_BSTAT_MSG_IN);
    }
    if (strncmp(ed->topic, FY_LINK_CONTROL_PREFIX, strlen(FY_LINK_CONTROL_PREFIX)) == 0) {
        if (c && c->link && strcmp(ed->topic, FY_LINK_TOPIC_REFRESH) == 0) {
            fy_security_refresh(p, true);
        }
        return MOSQ_ERR_ACL_DENIED; /* consumed: control messages reach no subscriber */
    }
    if (ed->retain) {
        record_retained(p, ed);
    }
    if (fy_topic_shadow_request(ed->topic, &t)) {
        serve_shadow(p, ed, &t);
        return consumed(p, ed) ? MOSQ_ERR_ACL_DENIED : MOSQ_ERR_SUCCESS;
    } else if (fy_topic_jobs_request(ed->topic, &j)) {
        fy_jobs_serve(p, ed, &j);
    }
    return MOSQ_ERR_SUCCESS;
}
