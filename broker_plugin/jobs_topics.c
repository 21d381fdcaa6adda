/* fleetyard broker plugin: the jobs device protocol over MQTT (AWS_IOT_BEHAVIOUR.md section 5).
 *
 * Requests on $aws/things/<thing>/jobs/(get|start-next|<jobId>/get|<jobId>/update) are served
 * by jobs/ (the functions the HTTP jobs data plane uses) with the plugin's database
 * connection. As on AWS, the accepted or rejected answer goes only to the requesting client
 * (published to its client id: no subscription needed, nobody else sees it); then every thing
 * whose pending list or next execution changed gets `notify` / `notify-next`, ordinary
 * publishes that each subscriber receives if its policy allows iot:Receive.
 */
#include <stdio.h>
#include <string.h>

#include <mosquitto.h>
#include <mosquitto_broker.h>

#include "broker_plugin/iotlog.h"
#include "broker_plugin/plugin_int.h"
#include "core/alloc.h"
#include "core/fytime.h"
#include "core/log.h"
#include "core/names.h"
#include "jobs/jobs.h"

#define JOBS_TOPIC_MAX 512
#define JOBS_QOS       1

/* Publishes text to client_id (NULL: to every subscriber); true when queued. */
static bool publish(const char *client_id, const char *topic, const char *text)
{
    if (!text) {
        return false;
    }
    int rc = mosquitto_broker_publish_copy(client_id, topic, (int)strlen(text), text, JOBS_QOS,
                                           false, NULL);
    if (rc != MOSQ_ERR_SUCCESS) {
        fy_log(FY_LOG_ERROR, "jobs", "cannot publish on %.300s: %s", topic, mosquitto_strerror(rc));
    }
    return rc == MOSQ_ERR_SUCCESS;
}

/* fy_jobs_publish_fn: an ordinary publish that each subscriber receives. */
static void publish_notify(void *ctx, const char *topic, const char *text)
{
    (void)ctx;
    (void)publish(NULL, topic, text);
}

void fy_jobs_publish_changes(struct fy_plugin *p, const struct fy_jobs_changed *c, double now)
{
    fy_jobs_changed_publish(p->db, c, now, publish_notify, NULL);
}

static fy_err run(struct fy_plugin *p,
                  const struct fy_topic_jobs *t,
                  const struct mosquitto_evt_message *ed,
                  double now,
                  struct fy_jobs_reply *r,
                  struct fy_errmsg *em)
{
    const char *payload = ed->payload ? ed->payload : "";
    size_t len = ed->payloadlen;
    const char *ns = t->ns[0] ? t->ns : NULL;
    if (strcmp(t->job_id, "$next") != 0 && t->job_id[0] && !fy_valid_job_id(t->job_id)) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST, "Invalid topic: job id '%.64s'", t->job_id);
    }
    if (ns && !fy_jobs_valid_namespace(ns)) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST, "Invalid topic: namespace '%.64s'", ns);
    }
    switch (t->op) {
    case FY_TOPIC_JOBS_GET_PENDING:
        return fy_jobs_get_pending(p->db, t->thing, payload, len, now, r, em);
    case FY_TOPIC_JOBS_START_NEXT:
        return fy_jobs_start_next(p->db, t->thing, payload, len, now, r, em);
    case FY_TOPIC_JOBS_DESCRIBE:
        return fy_jobs_describe(p->db, t->thing, t->job_id, ns, payload, len, now, r, em);
    case FY_TOPIC_JOBS_UPDATE:
        return fy_jobs_update(p->db, t->thing, t->job_id, ns, payload, len, now, r, em);
    }
    return fy_fail(em, FY_ERR_INVALID_REQUEST, "Invalid topic");
}

void fy_jobs_serve(struct fy_plugin *p,
                   const struct mosquitto_evt_message *ed,
                   const struct fy_topic_jobs *t)
{
    struct fy_jobs_reply r;
    struct fy_errmsg em = {""};
    char topic[JOBS_TOPIC_MAX];
    double now = fy_now();
    memset(&r, 0, sizeof(r));
    fy_err e = run(p, t, ed, now, &r, &em);
    fy_iotlog_jobs(p, ed, t->thing, (int)t->op, e);
    char *rejection = e ? fy_jobs_rejection(&r, e, em.msg, now) : NULL;
    if ((size_t)snprintf(topic, sizeof(topic), "%s/%s", ed->topic, e ? "rejected" : "accepted") <
        sizeof(topic)) {
        /* addressed to one client: mosquitto queues it without the iot:Receive check that
         * counts the other deliveries */
        if (publish(mosquitto_client_id(ed->client), topic, e ? rejection : r.payload)) {
            fy_bstat_inc(p, FY_BSTAT_MSG_OUT);
        }
    }
    if (!e) {
        fy_jobs_publish_changes(p, &r.changed, now);
    }
    fy_free(rejection);
    fy_jobs_reply_clear(&r);
}
