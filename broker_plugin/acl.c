/* fleetyard broker plugin: authorization of every MQTT action (MOSQ_EVT_ACL_CHECK).
 *
 *   PUBLISH   -> iot:Publish on topic/<topic> (+ iot:RetainPublish when retained); never on a
 *                reserved response topic
 *   SUBSCRIBE -> iot:Subscribe on topicfilter/<filter>
 *   delivery  -> iot:Receive on topic/<topic>, checked per message
 * A client that BASIC_AUTH did not admit may do nothing. Denials are logged with the
 * certificate, client id, action and resource. As on AWS, a denied PUBLISH or SUBSCRIBE closes
 * the connection (returning MOSQ_ERR_AUTH makes mosquitto drop the client; for the will
 * message's check it only means the will is not sent); a denied delivery skips the message.
 */
#include <string.h>

#include <mosquitto.h>
#include <mosquitto_broker.h>
#include <mosquitto_plugin.h>

#include "broker_plugin/iotlog.h"
#include "broker_plugin/plugin_int.h"
#include "core/log.h"

#define RESOURCE_MAX 1024 /* ARN prefix + AWS's 256-byte topic limit, with room to spare */

/* Logs a denial and returns MOSQ_ERR_ACL_DENIED. */
static int deny(const struct fy_conn *c, const char *action, const char *resource, const char *why)
{
    fy_log(FY_LOG_WARN, "acl", "denied %s on %.600s to client %.128s (certificate %s)%s", action,
           resource, c ? c->client_id : "?", c ? c->cert_id : "-", why);
    return MOSQ_ERR_ACL_DENIED;
}

/* "<p->arn_prefix><kind>/<name>" into arn (RESOURCE_MAX); false when it does not fit. Runs for
 * every PUBLISH and delivery: memcpy, not snprintf. */
static bool resource_arn(const struct fy_plugin *p, const char *kind, const char *name, char *arn)
{
    size_t np = p->arn_prefix_len, nk = strlen(kind), nn = strlen(name);
    if (np + nk + 1 + nn >= RESOURCE_MAX) {
        return false;
    }
    memcpy(arn, p->arn_prefix, np);
    memcpy(arn + np, kind, nk);
    arn[np + nk] = '/';
    memcpy(arn + np + nk + 1, name, nn + 1);
    return true;
}

/* One action on "<kind>/<name>"; MOSQ_ERR_SUCCESS or MOSQ_ERR_ACL_DENIED. */
static int check(struct fy_plugin *p,
                 const struct fy_conn *c,
                 const char *action,
                 const char *kind,
                 const char *name)
{
    char arn[RESOURCE_MAX];
    if (!resource_arn(p, kind, name, arn)) {
        return deny(c, action, kind, ": name too long");
    }
    if (!c) {
        return deny(c, action, arn, ": connection not admitted");
    }
    if (!fy_authz_allows(c->authz, action, arn)) {
        return deny(c, action, arn, "");
    }
    return MOSQ_ERR_SUCCESS;
}

static int check_publish(struct fy_plugin *p,
                         const struct fy_conn *c,
                         const struct mosquitto_evt_acl_check *ed)
{
    if (fy_topic_reserved_response(ed->topic) ||
        strncmp(ed->topic, FY_LINK_CONTROL_PREFIX, strlen(FY_LINK_CONTROL_PREFIX)) == 0) {
        return deny(c, "iot:Publish", ed->topic, ": reserved topic");
    }
    int rc = check(p, c, "iot:Publish", "topic", ed->topic);
    if (rc == MOSQ_ERR_SUCCESS && ed->retain) {
        rc = check(p, c, "iot:RetainPublish", "topic", ed->topic);
    }
    return rc;
}

/* A denied PUBLISH or SUBSCRIBE (counted as what): mosquitto closes the connection
 * (FORBIDDEN_ACCESS). */
static int forbidden(struct fy_plugin *p, struct fy_conn *c, enum fy_bstat what)
{
    fy_bstat_inc(p, what);
    if (c && !c->retired) {
        c->disconnect_reason = FY_DISCONNECT_FORBIDDEN_ACCESS;
    }
    return MOSQ_ERR_AUTH;
}

int fy_plugin_on_acl_check(int event, void *event_data, void *userdata)
{
    const struct mosquitto_evt_acl_check *ed = event_data;
    struct fy_plugin *p = userdata;
    struct fy_conn *c = fy_conns_get(&p->conns, ed->client);
    int rc;
    (void)event;
    if (c && c->link) {
        return MOSQ_ERR_SUCCESS;
    }
    switch (ed->access) {
    case MOSQ_ACL_WRITE:
        rc = fy_iotlog_acl(p, c, ed, check_publish(p, c, ed));
        return rc == MOSQ_ERR_SUCCESS ? rc : forbidden(p, c, FY_BSTAT_DENY_PUBLISH);
    case MOSQ_ACL_SUBSCRIBE:
        rc = fy_iotlog_acl(p, c, ed, check(p, c, "iot:Subscribe", "topicfilter", ed->topic));
        if (rc == MOSQ_ERR_SUCCESS) {
            p->documents_wanted |= fy_topic_filter_may_get_documents(ed->topic);
            p->requests_wanted |= fy_topic_filter_may_get_requests(ed->topic);
        }
        return rc == MOSQ_ERR_SUCCESS ? rc : forbidden(p, c, FY_BSTAT_DENY_SUBSCRIBE);
    case MOSQ_ACL_READ:
        rc = fy_iotlog_acl(p, c, ed, check(p, c, "iot:Receive", "topic", ed->topic));
        fy_bstat_inc(p, rc == MOSQ_ERR_SUCCESS ? FY_BSTAT_MSG_OUT : FY_BSTAT_DENY_RECEIVE);
        return rc;
    case MOSQ_ACL_UNSUBSCRIBE:
        return MOSQ_ERR_SUCCESS;
    default:
        return deny(c, "unknown access", ed->topic, "");
    }
}
