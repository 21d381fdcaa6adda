/* fleetyard api: UpdateEventConfigurations / DescribeEventConfigurations (registry/events.h). */
#include "registry/events.h"

#include <string.h>

#include "api/api.h"
#include "api/routes.h"
#include "core/log.h"

static fy_err h_describe(struct api_req *req)
{
    json_t *cfg = NULL;
    double created = 0, modified = 0;
    fy_err e = fy_events_config_get(req->db, &cfg, &created, &modified, &req->em);
    if (e) {
        return e;
    }
    json_t *j = json_pack("{s:o}", "eventConfigurations", cfg);
    if (j && created > 0 &&
        (json_object_set_new(j, "creationDate", json_real(created)) != 0 ||
         json_object_set_new(j, "lastModifiedDate", json_real(modified)) != 0)) {
        json_decref(j); /* api_reply answers Out of memory */
        j = NULL;
    }
    return api_reply(req, j);
}

static fy_err h_update(struct api_req *req)
{
    json_t *body;
    fy_err e = api_body(req, &body);
    if (e) {
        return e;
    }
    const char *key;
    json_t *v;
    json_object_foreach (body, key, v) {
        if (strcmp(key, "eventConfigurations") != 0) {
            return fy_fail(&req->em, FY_ERR_INVALID_REQUEST, "Unknown member: %.64s", key);
        }
    }
    json_t *cfg = json_object_get(body, "eventConfigurations");
    json_t *none = cfg ? NULL : json_object();
    e = fy_events_config_update(req->db, cfg ? cfg : none, &req->em);
    json_decref(none);
    if (e) {
        return e;
    }
    fy_audit(req->caller, "UpdateEventConfigurations", "-");
    return api_reply(req, json_object());
}

const struct api_route api_routes_events[] = {
    {FY_SVC_IOT, "GET", "/event-configurations", h_describe, "DescribeEventConfigurations"},
    {FY_SVC_IOT, "PATCH", "/event-configurations", h_update, "UpdateEventConfigurations"},
    {0, NULL, NULL, NULL, NULL},
};
