/* fleetyard api: iot-data messages — Publish (through the broker, to MQTT subscribers),
 * GetRetainedMessage and ListRetainedMessages (the retained messages the broker recorded). */
#include <string.h>

#include "api/api.h"
#include "api/routes.h"
#include "core/alloc.h"
#include "core/codec.h"
#include "registry/retained.h"

#define TOPIC_MAX         256 /* AWS: topics are at most 256 bytes */
#define RETAINED_PAGE_MAX 200 /* ListRetainedMessages maxResults */
#define RETAINED_PAGE_DEF 50

static fy_err topic_param(struct api_req *req, const char **out)
{
    const char *t = api_param(req, "topic");
    if (!t || !*t || strlen(t) > TOPIC_MAX || strpbrk(t, "#+")) {
        return fy_fail(&req->em, FY_ERR_INVALID_REQUEST,
                       "topic must be 1 to %d bytes without wildcards", TOPIC_MAX);
    }
    *out = t;
    return FY_ERR_OK;
}

/* POST /topics/{topic}?qos=&retain= with the payload as the body. */
static fy_err h_publish(struct api_req *req)
{
    const char *topic = NULL;
    int64_t qos = 0;
    bool retain = false;
    fy_err e = topic_param(req, &topic);
    if (!e) {
        e = api_query_int(req, "qos", 0, 1, 0, &qos);
    }
    if (!e) {
        e = api_query_bool(req, "retain", false, &retain);
    }
    if (!e) {
        e = api_publish(req, topic, req->body.data ? req->body.data : "", req->body.len, (int)qos,
                        retain);
    }
    if (e) {
        return e;
    }
    return api_reply(req, json_object());
}

static fy_err h_get_retained(struct api_req *req)
{
    const char *topic = NULL;
    struct fy_retained m;
    fy_err e = topic_param(req, &topic);
    if (!e) {
        e = fy_retained_get(req->db, topic, &m, &req->em);
    }
    if (e) {
        return e;
    }
    char *b64 = fy_b64_new(m.payload, m.len);
    json_t *j = b64 ? json_pack("{s:s, s:s, s:i, s:I}", "topic", m.topic, "payload", b64, "qos",
                                m.qos, "lastModifiedTime", (json_int_t)m.last_modified)
                    : NULL;
    fy_free(b64);
    fy_retained_clear(&m);
    return api_reply(req, j);
}

static fy_err h_list_retained(struct api_req *req)
{
    char *after = NULL, *next = NULL;
    int64_t limit;
    json_t *j_list = json_array();
    fy_err e = api_page_in(req, "nextToken", "maxResults", RETAINED_PAGE_DEF, RETAINED_PAGE_MAX,
                           &after, &limit);
    if (!e) {
        e = j_list ? fy_retained_list(req->db, after, limit, j_list, &next, &req->em)
                   : FY_ERR_NOMEM;
    }
    json_t *j = e ? NULL : json_pack("{s:O}", "retainedTopics", j_list);
    if (!e && j) {
        e = api_page_out(req, j, "nextToken", next);
    }
    fy_free(after);
    fy_free(next);
    json_decref(j_list);
    if (e) {
        json_decref(j);
        return e;
    }
    return api_reply(req, j);
}

const struct api_route api_routes_messages[] = {
    {FY_SVC_DATA, "POST", "/topics/{topic+}", h_publish, "Publish"},
    {FY_SVC_DATA, "GET", "/retainedMessage", h_list_retained, "ListRetainedMessages"},
    {FY_SVC_DATA, "GET", "/retainedMessage/{topic+}", h_get_retained, "GetRetainedMessage"},
    {0, NULL, NULL, NULL, NULL},
};
