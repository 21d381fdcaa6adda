/* AWS IoT v2 logging: SetV2LoggingOptions, GetV2LoggingOptions, SetV2LoggingLevel,
 * ListV2LoggingLevels, DeleteV2LoggingLevel. The levels decide which events logs/ records
 * (fy_iotlog_event). No role is needed: fleetyard writes its own log store. */
#include <string.h>

#include "api/api.h"
#include "api/routes.h"
#include "core/alloc.h"
#include "logs/logs.h"

#define LEVELS_PAGE_DEFAULT 100
#define LEVELS_PAGE_MAX     250

static fy_err bad_body(struct api_req *req, const json_error_t *err)
{
    return fy_fail(&req->em, FY_ERR_INVALID_REQUEST, "Invalid request body: %.200s", err->text);
}

static fy_err parse_level(struct api_req *req, const char *s, enum fy_loglevel *out)
{
    if (!fy_loglevel_parse(s, out)) {
        return fy_fail(&req->em, FY_ERR_INVALID_REQUEST,
                       "Invalid log level '%.32s' (DEBUG, INFO, WARN, ERROR or DISABLED)", s);
    }
    return FY_ERR_OK;
}

static fy_err h_set_options(struct api_req *req)
{
    json_t *body;
    json_error_t err;
    const char *role = NULL, *level = NULL;
    int disable = 0;
    struct fy_logging_options o = {.default_level = FY_LL_ERROR};
    fy_err e = api_body(req, &body);
    if (!e && json_unpack_ex(body, &err, 0, "{s?s, s?s, s?b !}", "roleArn", &role,
                             "defaultLogLevel", &level, "disableAllLogs", &disable) != 0) {
        e = bad_body(req, &err);
    }
    if (!e && level) {
        e = parse_level(req, level, &o.default_level);
    }
    if (!e && role && strlen(role) >= sizeof(o.role_arn)) {
        e = fy_fail(&req->em, FY_ERR_INVALID_REQUEST, "roleArn is too long");
    }
    if (e) {
        return e;
    }
    memcpy(o.role_arn, role ? role : "", role ? strlen(role) + 1 : 1);
    o.disable_all = disable != 0;
    return fy_logging_options_set(req->db, &o, &req->em);
}

static fy_err h_get_options(struct api_req *req)
{
    struct fy_logging_options o;
    fy_err e = fy_logging_options_get(req->db, &o, &req->em);
    if (e) {
        return e;
    }
    json_t *j = json_pack("{s:s, s:b}", "defaultLogLevel", fy_loglevel_name(o.default_level),
                          "disableAllLogs", o.disable_all);
    if (j && o.role_arn[0] && json_object_set_new(j, "roleArn", json_string(o.role_arn)) != 0) {
        json_decref(j); /* api_reply answers Out of memory */
        j = NULL;
    }
    return api_reply(req, j);
}

/* Validates a (type, name) target; DEFAULT takes no name, the others need one. */
static fy_err
parse_target(struct api_req *req, const char *type, const char *name, enum fy_logtarget *t)
{
    if (!fy_logtarget_parse(type, t)) {
        return fy_fail(&req->em, FY_ERR_INVALID_REQUEST, "Invalid targetType '%.32s'",
                       type ? type : "");
    }
    size_t n = name ? strlen(name) : 0;
    if (*t != FY_LT_DEFAULT && (n == 0 || n > FY_LOGGING_NAME_MAX)) {
        return fy_fail(&req->em, FY_ERR_INVALID_REQUEST,
                       "targetName must be 1 to %d characters for target type %s",
                       FY_LOGGING_NAME_MAX, fy_logtarget_name(*t));
    }
    if (*t == FY_LT_DEFAULT && n > 0) {
        return fy_fail(&req->em, FY_ERR_INVALID_REQUEST,
                       "targetName must not be set for target type DEFAULT");
    }
    return FY_ERR_OK;
}

static fy_err h_set_level(struct api_req *req)
{
    json_t *body;
    json_error_t err;
    const char *type = NULL, *name = NULL, *level = NULL;
    enum fy_logtarget t;
    enum fy_loglevel l;
    fy_err e = api_body(req, &body);
    if (!e && json_unpack_ex(body, &err, 0, "{s:{s:s, s?s !}, s:s !}", "logTarget", "targetType",
                             &type, "targetName", &name, "logLevel", &level) != 0) {
        e = bad_body(req, &err);
    }
    e = e ? e : parse_target(req, type, name, &t);
    e = e ? e : parse_level(req, level, &l);
    return e ? e : fy_logging_level_set(req->db, t, name ? name : "", l, &req->em);
}

static fy_err h_list_levels(struct api_req *req)
{
    const char *type = api_query(req, "targetType");
    enum fy_logtarget t = FY_LT__COUNT;
    char *after = NULL, *next = NULL;
    int64_t limit;
    if (type && !fy_logtarget_parse(type, &t)) {
        return fy_fail(&req->em, FY_ERR_INVALID_REQUEST, "Invalid targetType '%.32s'", type);
    }
    fy_err e = api_page_in(req, "nextToken", "maxResults", LEVELS_PAGE_DEFAULT, LEVELS_PAGE_MAX,
                           &after, &limit);
    json_t *j_items = json_array();
    json_t *j = json_object();
    if (!e && (!j_items || !j)) {
        e = fy_fail(&req->em, FY_ERR_NOMEM, "Out of memory");
    }
    e = e ? e : fy_logging_levels_list(req->db, t, after, limit, j_items, &next, &req->em);
    if (!e && json_object_set(j, "logTargetConfigurations", j_items) != 0) {
        e = fy_fail(&req->em, FY_ERR_NOMEM, "Out of memory");
    }
    e = e ? e : api_page_out(req, j, "nextToken", next);
    json_decref(j_items);
    fy_free(after);
    fy_free(next);
    if (e) {
        json_decref(j);
        return e;
    }
    return api_reply(req, j);
}

static fy_err h_delete_level(struct api_req *req)
{
    enum fy_logtarget t;
    const char *name = api_query(req, "targetName");
    fy_err e = parse_target(req, api_query(req, "targetType"), name, &t);
    if (!e && t == FY_LT_DEFAULT) {
        e = fy_fail(&req->em, FY_ERR_INVALID_REQUEST, "The DEFAULT target cannot be deleted");
    }
    return e ? e : fy_logging_level_delete(req->db, t, name, &req->em);
}

const struct api_route api_routes_logging[] = {
    {FY_SVC_IOT, "POST", "/v2LoggingOptions", h_set_options, "SetV2LoggingOptions"},
    {FY_SVC_IOT, "GET", "/v2LoggingOptions", h_get_options, "GetV2LoggingOptions"},
    {FY_SVC_IOT, "POST", "/v2LoggingLevel", h_set_level, "SetV2LoggingLevel"},
    {FY_SVC_IOT, "GET", "/v2LoggingLevel", h_list_levels, "ListV2LoggingLevels"},
    {FY_SVC_IOT, "DELETE", "/v2LoggingLevel", h_delete_level, "DeleteV2LoggingLevel"},
    {0, NULL, NULL, NULL, NULL},
};

void api_iotlog_request(struct api_req *req, fy_err e)
{
    if (req->svc != FY_SVC_DATA && req->svc != FY_SVC_JOBS) {
        return; /* v2 logs cover the device-facing data plane, not control-plane calls */
    }
    const char *thing = api_param(req, "thingName");
    struct fy_iotlog_who who = {NULL, req->caller, NULL, thing};
    const struct fy_iotlog_field f[] = {{"thingName", thing},
                                        {"deviceShadowName", api_query(req, "name")},
                                        {"reason", e ? fy_err_type(e) : NULL},
                                        {"details", e ? req->em.msg : NULL}};
    struct fy_iotlog_event_info ev = {req->site, e ? FY_LL_ERROR : FY_LL_INFO,
                                      req->op ? req->op : "Unknown", "HTTP",
                                      e ? "Failure" : "Success"};
    fy_iotlog_event(NULL, req->db, &ev, &who, f, sizeof(f) / sizeof(f[0]));
}
