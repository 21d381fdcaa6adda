/* AWS IoT v2 log events of MQTT actions: glue between the plugin's callbacks and logs/. */
#include "broker_plugin/iotlog.h"

#include <string.h>

#include <mosquitto.h>
#include <mosquitto_broker.h>
#include <mosquitto_plugin.h>

#include "core/log.h"
#include "logs/logs.h"

/* The broker thread's level cache (the plugin is single-threaded and has one instance). */
static struct fy_iotlog *plugin_log;
static int64_t plugin_log_epoch = -1;

void fy_iotlog_plugin_flush(struct fy_plugin *p, bool force)
{
    fy_iotlog_flush(plugin_log, p->db, force);
}

void fy_iotlog_plugin_cleanup(void)
{
    fy_iotlog_free(plugin_log);
    plugin_log = NULL;
}

static struct fy_iotlog *cache(const struct fy_plugin *p)
{
    if (!plugin_log) {
        plugin_log = fy_iotlog_new();
    }
    if (p->security_epoch != plugin_log_epoch) {
        fy_iotlog_invalidate(plugin_log);
        plugin_log_epoch = p->security_epoch;
    }
    return plugin_log;
}

/* One event about a connection, with nf fields. */
static void event(struct fy_plugin *p,
                  const char *client_id,
                  const char *cert_id,
                  const struct mosquitto *client,
                  enum fy_loglevel level,
                  const char *type,
                  bool ok,
                  const struct fy_iotlog_field *f,
                  size_t nf)
{
    if (level > fy_iotlog_ceiling(cache(p), p->db)) {
        return; /* nothing gathered for an event no level records (logging off: every one) */
    }
    struct fy_iotlog_who who = {client_id, cert_id && strcmp(cert_id, "-") != 0 ? cert_id : NULL,
                                client ? mosquitto_client_address(client) : NULL, NULL};
    struct fy_iotlog_event_info ev = {&p->site, level, type, "MQTT", ok ? "Success" : "Failure"};
    fy_iotlog_event(cache(p), p->db, &ev, &who, f, nf);
}

#define NFIELDS(a) (sizeof(a) / sizeof((a)[0]))

void fy_iotlog_connect(struct fy_plugin *p,
                       const struct mosquitto *client,
                       const char *client_id,
                       const char *cert_id,
                       fy_err e)
{
    const struct fy_iotlog_field f[] = {{"reason", e ? "AUTHORIZATION_FAILURE" : NULL},
                                        {"details", e ? "Authorization Failure" : NULL}};
    event(p, client_id, cert_id, client, e ? FY_LL_ERROR : FY_LL_INFO, "Connect", !e, f,
          NFIELDS(f));
}

void fy_iotlog_disconnect(struct fy_plugin *p, const struct fy_conn *c)
{
    static const char *const reasons[] = {"CONNECTION_LOST", "AUTH_ERROR", "FORBIDDEN_ACCESS"};
    size_t r = (size_t)c->disconnect_reason;
    const struct fy_iotlog_field f[] = {
        {"disconnectReason", r < NFIELDS(reasons) ? reasons[r] : "UNKNOWN"}};
    event(p, c->client_id, c->cert_id, c->client, FY_LL_INFO, "Disconnect", true, f, NFIELDS(f));
}

int fy_iotlog_acl(struct fy_plugin *p,
                  const struct fy_conn *c,
                  const struct mosquitto_evt_acl_check *ed,
                  int rc)
{
    const char *type = ed->access == MOSQ_ACL_WRITE       ? "Publish-In"
                       : ed->access == MOSQ_ACL_SUBSCRIBE ? "Subscribe"
                       : ed->access == MOSQ_ACL_READ      ? "Publish-Out"
                                                          : NULL;
    bool ok = rc == MOSQ_ERR_SUCCESS;
    if (!type || (ok && ed->access == MOSQ_ACL_READ)) {
        return rc; /* successful deliveries are not logged: one event per subscriber */
    }
    const struct fy_iotlog_field f[] = {{"reason", ok ? NULL : "AUTHORIZATION_FAILURE"},
                                        {"details", ok ? NULL : "Authorization Failure"},
                                        {"topicName", ed->topic}};
    event(p, c ? c->client_id : mosquitto_client_id(ed->client), c ? c->cert_id : NULL, ed->client,
          ok ? FY_LL_INFO : FY_LL_ERROR, type, ok, f, NFIELDS(f));
    return rc;
}

/* A shadow or jobs request answered over MQTT: the requester is the subject. */
static void request_event(struct fy_plugin *p,
                          const struct mosquitto *client,
                          const char *thing,
                          const char *op,
                          bool ok,
                          const struct fy_iotlog_field *f,
                          size_t nf)
{
    if ((ok ? FY_LL_INFO : FY_LL_ERROR) > fy_iotlog_ceiling(cache(p), p->db)) {
        return;
    }
    const struct fy_conn *c = fy_conns_get(&p->conns, client);
    struct fy_iotlog_who who = {mosquitto_client_id(client), c ? c->cert_id : NULL,
                                mosquitto_client_address(client), thing};
    struct fy_iotlog_event_info ev = {&p->site, ok ? FY_LL_INFO : FY_LL_ERROR, op, "MQTT",
                                      ok ? "Success" : "Failure"};
    fy_iotlog_event(cache(p), p->db, &ev, &who, f, nf);
}

void fy_iotlog_shadow(struct fy_plugin *p,
                      const struct mosquitto *client,
                      const char *topic,
                      const char *thing,
                      int op,
                      bool accepted)
{
    static const char *const ops[] = {"GetThingShadow", "UpdateThingShadow", "DeleteThingShadow"};
    const struct fy_iotlog_field f[] = {{"topicName", topic}, {"deviceShadowName", thing}};
    request_event(p, client, thing, op >= 0 && op < 3 ? ops[op] : "ShadowRequest", accepted, f,
                  NFIELDS(f));
}

void fy_iotlog_jobs(struct fy_plugin *p,
                    const struct mosquitto_evt_message *ed,
                    const char *thing,
                    int op,
                    fy_err e)
{
    static const char *const ops[] = {"GetPendingJobExecutions", "StartNextPendingJobExecution",
                                      "DescribeJobExecution", "UpdateJobExecution"};
    const struct fy_iotlog_field f[] = {
        {"topicName", ed->topic}, {"thingName", thing}, {"reason", e ? fy_err_type(e) : NULL}};
    request_event(p, ed->client, thing, op >= 0 && op < 4 ? ops[op] : "JobsRequest", !e, f,
                  NFIELDS(f));
}
