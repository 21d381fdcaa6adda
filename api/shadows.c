/* Device shadows over iot-data HTTP (AWS_IOT_BEHAVIOUR.md sections 1.3 and 4): GetThingShadow,
 * UpdateThingShadow, DeleteThingShadow, ListNamedShadowsForThing. Replies are the raw shadow
 * documents built by shadow/. The messages an update produces for devices (update/delta,
 * update/documents) are not published yet: the MQTT side of issue 5 does that. */
#include <string.h>

#include "api/api.h"
#include "api/routes.h"
#include "core/alloc.h"
#include "core/fytime.h"
#include "core/log.h"
#include "core/names.h"
#include "shadow/shadow.h"

#define SHADOW_PAGE_DEFAULT 25
#define SHADOW_PAGE_MAX     100

/* thingName path label and optional ?name= (NULL = classic shadow). */
static fy_err shadow_target(struct api_req *req, const char **thing, const char **name)
{
    fy_err e = api_require_param(req, "thingName", fy_valid_thing_name, thing);
    if (e) {
        return e;
    }
    *name = api_query(req, "name");
    if (*name && !fy_valid_shadow_name(*name)) {
        return fy_fail(&req->em, FY_ERR_INVALID_REQUEST, "Invalid shadow name: '%.128s'", *name);
    }
    return FY_ERR_OK;
}

/* Replies with an owned serialized document. */
static fy_err reply_doc(struct api_req *req, char *doc)
{
    api_reply_raw(req, doc, strlen(doc), "application/json");
    return FY_ERR_OK;
}

#define SHADOW_TOPIC_MAX 512
#define SHADOW_EVENT_QOS 1

/* Devices see an HTTP update or delete as they see an MQTT one: the same accepted, documents
 * and delta messages, published through the broker. A broker that cannot be reached loses the
 * messages, not the update (the HTTP answer is the same either way). */
static void publish_event(
    struct api_req *req, const char *thing, const char *name, const char *suffix, const char *text)
{
    char topic[SHADOW_TOPIC_MAX];
    if (!text || !fy_shadow_topic(topic, sizeof(topic), thing, name, suffix)) {
        return;
    }
    struct fy_errmsg saved = req->em; /* the answer's message, if any, is not ours to change */
    fy_err e = api_publish(req, topic, text, strlen(text), SHADOW_EVENT_QOS, false);
    req->em = saved;
    if (e && e != FY_ERR_UNAVAILABLE) {
        fy_log(FY_LOG_WARN, "shadow", "could not publish %.300s: %s", topic, fy_err_name(e));
    }
}

static fy_err h_get(struct api_req *req)
{
    const char *thing, *name;
    char *doc = NULL;
    fy_err e = shadow_target(req, &thing, &name);
    if (!e) {
        e = fy_shadow_get(req->db, thing, name, &doc, &req->em);
    }
    return e ? e : reply_doc(req, doc);
}

static fy_err h_update(struct api_req *req)
{
    const char *thing, *name;
    struct fy_shadow_update u;
    fy_err e = shadow_target(req, &thing, &name);
    if (e) {
        return e;
    }
    e = fy_shadow_update(req->db, thing, name, req->body.data ? req->body.data : "", req->body.len,
                         &u, &req->em);
    if (e) {
        return e;
    }
    fy_audit(req->caller, "UpdateThingShadow", thing);
    publish_event(req, thing, name, "update/accepted", u.reply);
    publish_event(req, thing, name, "update/documents", u.documents);
    publish_event(req, thing, name, "update/delta", u.delta);
    char *reply = u.reply;
    u.reply = NULL;
    fy_shadow_update_clear(&u);
    return reply_doc(req, reply);
}

static fy_err h_delete(struct api_req *req)
{
    const char *thing, *name;
    char *doc = NULL;
    fy_err e = shadow_target(req, &thing, &name);
    if (!e) {
        e = fy_shadow_delete(req->db, thing, name, &doc, &req->em);
    }
    if (e) {
        return e;
    }
    fy_audit(req->caller, "DeleteThingShadow", thing);
    publish_event(req, thing, name, "delete/accepted", doc);
    return reply_doc(req, doc);
}

static fy_err h_list(struct api_req *req)
{
    const char *thing;
    char *after = NULL, *next = NULL;
    int64_t limit;
    json_t *j_names = json_array();
    fy_err e = api_require_param(req, "thingName", fy_valid_thing_name, &thing);
    if (!e) {
        e = api_page_in(req, "nextToken", "pageSize", SHADOW_PAGE_DEFAULT, SHADOW_PAGE_MAX, &after,
                        &limit);
    }
    if (!e) {
        e = j_names ? fy_shadow_list_named(req->db, thing, after, limit, j_names, &next, &req->em)
                    : FY_ERR_NOMEM;
    }
    json_t *j =
        e ? NULL : json_pack("{s:O, s:I}", "results", j_names, "timestamp", (json_int_t)fy_now());
    if (!e && j) {
        e = api_page_out(req, j, "nextToken", next);
    }
    fy_free(after);
    fy_free(next);
    json_decref(j_names);
    if (e) {
        json_decref(j);
        return e;
    }
    return api_reply(req, j);
}

const struct api_route api_routes_shadows[] = {
    {FY_SVC_DATA, "GET", "/things/{thingName}/shadow", h_get, "GetThingShadow"},
    {FY_SVC_DATA, "POST", "/things/{thingName}/shadow", h_update, "UpdateThingShadow"},
    {FY_SVC_DATA, "DELETE", "/things/{thingName}/shadow", h_delete, "DeleteThingShadow"},
    {FY_SVC_DATA, "GET", "/api/things/shadow/ListNamedShadowsForThing/{thingName}", h_list,
     "ListNamedShadowsForThing"},
    {0, NULL, NULL, NULL, NULL},
};
