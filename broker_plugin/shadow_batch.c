/* fleetyard broker plugin: shadow requests answered once per broker loop pass.
 *
 * MOSQ_EVT_MESSAGE queues each shadow request (a copy of its topic and payload); MOSQ_EVT_TICK,
 * which mosquitto 2.0 runs at the end of every loop pass, serves the whole queue with
 * fy_shadow_requests: one write transaction for every update of the pass instead of one each
 * (the requests stay isolated from each other, see shadow.h). The answers are published from
 * TICK; mosquitto queues broker publishes until the start of the next pass either way, so a
 * device sees its answer no later than when it was served from MESSAGE. A full queue is served
 * at once, which bounds the time the broker holds the database's write lock.
 */
#include <stdio.h>
#include <string.h>

#include <mosquitto.h>
#include <mosquitto_broker.h>

#include "broker_plugin/iotlog.h"
#include "broker_plugin/plugin_int.h"
#include "core/alloc.h"
#include "core/log.h"
#include "shadow/shadow.h"

#define REPLY_TOPIC_MAX 512 /* request topic (<= 256 on AWS) plus "/documents" */
#define REPLY_QOS       1

/* One queued request: copies, the message's own buffers live only during MESSAGE. */
struct fy_shadow_pending {
    const struct mosquitto *client; /* valid until the next loop pass frees disused contexts */
    char *topic;
    char *payload;
    size_t len;
    struct fy_topic_shadow t;
};

/* Publishes text on "<base>/<suffix>" to every authorized subscriber. */
static void publish_reply(const char *base, size_t base_len, const char *suffix, const char *text)
{
    char topic[REPLY_TOPIC_MAX];
    if (!text || (size_t)snprintf(topic, sizeof(topic), "%.*s/%s", (int)base_len, base, suffix) >=
                     sizeof(topic)) {
        return;
    }
    int rc =
        mosquitto_broker_publish_copy(NULL, topic, (int)strlen(text), text, REPLY_QOS, false, NULL);
    if (rc != MOSQ_ERR_SUCCESS) {
        fy_log(FY_LOG_ERROR, "shadow", "cannot publish on %.300s: %s", topic,
               mosquitto_strerror(rc));
    }
}

/* Publishes the answer r of the request q: accepted or rejected, and after an accepted update
 * its documents and (when there is one) delta. */
void fy_shadow_publish_answer(struct fy_plugin *p,
                              const struct mosquitto *client,
                              const char *topic,
                              const struct fy_topic_shadow *t,
                              const struct fy_shadow_result *r)
{
    publish_reply(topic, strlen(topic), r->accepted ? "accepted" : "rejected", r->payload);
    fy_iotlog_shadow(p, client, topic, t->thing, t->op, r->accepted);
    if (t->op != FY_SHADOW_OP_UPDATE) {
        return;
    }
    fy_bstat_inc(p, r->accepted ? FY_BSTAT_SHADOW_UPDATE_OK : FY_BSTAT_SHADOW_UPDATE_REJECTED);
    if (!r->accepted) {
        return;
    }
    /* prefix_len covers ".../update": the event topics hang off it. documents only when some
     * subscription could take it: else its routing is work for nobody */
    if (p->documents_wanted) {
        publish_reply(topic, t->prefix_len, "documents", r->documents);
    }
    publish_reply(topic, t->prefix_len, "delta", r->delta);
}

static void pending_clear(struct fy_shadow_pending *q)
{
    fy_free(q->topic);
    fy_free(q->payload);
}

void fy_shadow_batch_flush(struct fy_plugin *p)
{
    struct fy_shadow_batch *b = &p->shadow_batch;
    size_t n = b->n;
    if (n == 0) {
        return;
    }
    b->n = 0;
    for (size_t i = 0; i < n; i++) {
        const struct fy_shadow_pending *q = &b->items[i];
        struct fy_shadow_req req = {q->t.thing,
                                    q->t.name[0] ? q->t.name : NULL,
                                    (enum fy_shadow_op)q->t.op,
                                    q->payload,
                                    q->len,
                                    !p->documents_wanted};
        b->calls[i] = (struct fy_shadow_call){req, {0}};
    }
    if (fy_shadow_requests(p->db, b->calls, n) != FY_ERR_OK) {
        fy_log(FY_LOG_ERROR, "shadow", "out of memory answering %zu shadow requests", n);
    }
    for (size_t i = 0; i < n; i++) {
        struct fy_shadow_pending *q = &b->items[i];
        if (b->calls[i].result.payload) {
            fy_shadow_publish_answer(p, q->client, q->topic, &q->t, &b->calls[i].result);
        }
        fy_shadow_result_clear(&b->calls[i].result);
        pending_clear(q);
    }
}

bool fy_shadow_batch_add(struct fy_plugin *p,
                         const struct mosquitto_evt_message *ed,
                         const struct fy_topic_shadow *t)
{
    struct fy_shadow_batch *b = &p->shadow_batch;
    if (!b->items) {
        b->items = fy_calloc(FY_PLUGIN_SHADOW_BATCH_MAX, sizeof(*b->items));
        b->calls = fy_calloc(FY_PLUGIN_SHADOW_BATCH_MAX, sizeof(*b->calls));
        if (!b->items || !b->calls) {
            fy_shadow_batch_clear(p);
            return false;
        }
    }
    struct fy_shadow_pending *q = &b->items[b->n];
    size_t len = ed->payload ? (size_t)ed->payloadlen : 0;
    *q = (struct fy_shadow_pending){ed->client, fy_strdup(ed->topic), fy_malloc(len + 1), len, *t};
    if (!q->topic || !q->payload) {
        pending_clear(q);
        return false;
    }
    if (len) {
        memcpy(q->payload, ed->payload, len);
    }
    q->payload[len] = '\0';
    if (++b->n == FY_PLUGIN_SHADOW_BATCH_MAX) {
        fy_shadow_batch_flush(p);
    }
    return true;
}

void fy_shadow_batch_clear(struct fy_plugin *p)
{
    struct fy_shadow_batch *b = &p->shadow_batch;
    for (size_t i = 0; i < b->n; i++) {
        pending_clear(&b->items[i]);
    }
    fy_free(b->items);
    fy_free(b->calls);
    memset(b, 0, sizeof(*b));
}
