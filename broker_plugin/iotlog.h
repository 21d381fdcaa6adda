/* fleetyard broker plugin: AWS IoT v2 log events of MQTT actions (iotlog.c), one call from each
 * place that knows an event. Broker thread only. Each call resolves the configured level from a
 * cache (logs/ fy_iotlog: re-read every FY_LOGS_CACHE_MS and when the security epoch moves)
 * and adds the event to the cache's batch, which TICK writes (stdout and the log store, one
 * transaction) every FY_IOTLOG_FLUSH_MS; nothing is returned. */
#ifndef FY_BROKER_PLUGIN_IOTLOG_H
#define FY_BROKER_PLUGIN_IOTLOG_H

#include "broker_plugin/plugin_int.h"
#include "core/err.h"

struct mosquitto;
struct mosquitto_evt_acl_check;
struct mosquitto_evt_message;

/* CONNECT admitted (e == OK, INFO "Connect") or refused (ERROR, AUTHORIZATION_FAILURE). */
void fy_iotlog_connect(struct fy_plugin *p,
                       const struct mosquitto *client,
                       const char *client_id,
                       const char *cert_id,
                       fy_err e);

/* A device connection ended (INFO "Disconnect" with the presence disconnectReason). */
void fy_iotlog_disconnect(struct fy_plugin *p, const struct fy_conn *c);

/* The outcome rc of an ACL check (mosquitto code): PUBLISH -> "Publish-In", SUBSCRIBE ->
 * "Subscribe" (INFO on success), and every denial (ERROR, AUTHORIZATION_FAILURE; a denied
 * delivery is "Publish-Out"). Returns rc. */
int fy_iotlog_acl(struct fy_plugin *p,
                  const struct fy_conn *c,
                  const struct mosquitto_evt_acl_check *ed,
                  int rc);

/* A shadow request over MQTT was answered (op: enum fy_shadow_op). */
void fy_iotlog_shadow(struct fy_plugin *p,
                      const struct mosquitto *client,
                      const char *topic,
                      const char *thing,
                      int op,
                      bool accepted);

/* A jobs request over MQTT was answered (op: enum fy_topic_jobs_op). */
void fy_iotlog_jobs(struct fy_plugin *p,
                    const struct mosquitto_evt_message *ed,
                    const char *thing,
                    int op,
                    fy_err e);

/* Writes the batched events (TICK: when FY_IOTLOG_FLUSH_MS passed; cleanup: force). */
void fy_iotlog_plugin_flush(struct fy_plugin *p, bool force);

/* Frees the cache (plugin cleanup, after a forced flush). */
void fy_iotlog_plugin_cleanup(void);

#endif
