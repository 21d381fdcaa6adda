/* Health endpoints (fleetyard extensions, unsigned like /fleetyard/ca.pem so that container
 * health checks and load balancers can call them; they reveal nothing but up/down):
 *   GET /health/live  -> 200 {"status":"live"} while the HTTP server answers
 *   GET /health/ready -> 200 when the database answers a query and the broker is reachable
 *                        through the internal link, else 503; {"status", "database", "broker"}
 * The broker check publishes an empty message on a $fleetyard/ control topic, which the
 * plugin consumes: it succeeds only while the link to the broker is connected. */
#include <string.h>

#include "api/api.h"
#include "api/routes.h"
#include "broker_plugin/link_proto.h"

#define HEALTH_PING_TOPIC FY_LINK_CONTROL_PREFIX "ping"

static const char SQL_PING[] = "SELECT count(*) FROM sqlite_schema";

static fy_err h_live(struct api_req *req)
{
    return api_reply(req, json_pack("{s:s}", "status", "live"));
}

static bool db_ok(struct api_req *req)
{
    sqlite3_stmt *st = fy_db_stmt(req->db, SQL_PING, NULL);
    bool ok = st && sqlite3_step(st) == SQLITE_ROW;
    fy_stmt_done(st);
    return ok;
}

static fy_err h_ready(struct api_req *req)
{
    bool db = db_ok(req);
    bool broker = api_publish(req, HEALTH_PING_TOPIC, "", 0, 0, false) == FY_ERR_OK;
    req->em.msg[0] = '\0';
    json_t *j = json_pack("{s:s, s:b, s:b}", "status", db && broker ? "ready" : "not ready",
                          "database", db, "broker", broker);
    if (!j) {
        return fy_fail(&req->em, FY_ERR_NOMEM, "Out of memory");
    }
    if (db && broker) {
        return api_reply(req, j);
    }
    json_t *m = json_object_get(j, "status");
    fy_err e = fy_fail(&req->em, FY_ERR_UNAVAILABLE, "%s: database %s, broker %s",
                       json_string_value(m), db ? "ok" : "down", broker ? "ok" : "down");
    json_decref(j);
    return e;
}

bool api_health_public(const char *method, const char *path)
{
    return strcmp(method, "GET") == 0 &&
           (strcmp(path, "/health/live") == 0 || strcmp(path, "/health/ready") == 0);
}

const struct api_route api_routes_health[] = {
    {FY_SVC_IOT, "GET", "/health/live", h_live, "HealthLive"},
    {FY_SVC_IOT, "GET", "/health/ready", h_ready, "HealthReady"},
    {0, NULL, NULL, NULL, NULL},
};
