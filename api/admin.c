/* fleetyard's own routes: the HTTP floor (ping) and the opt-in state reset. */
#include "api/api_int.h"
#include "api/routes.h"
#include "core/log.h"
#include "jobs/jobs.h"

/* GET /fleetyard/ping: signed like any call, touches no state. The benchmark's HTTP floor. */
static fy_err h_ping(struct api_req *req)
{
    return api_reply(req, json_pack("{s:b}", "ok", 1));
}

/* Deletes every row of every table in one transaction (schema kept), except the security
 * epoch's single row, which the deletions' triggers bump so that the broker re-checks (and
 * disconnects) every live client, and the operator keys (server configuration, like the
 * administrator credential: managed by `fleetyard-server keys` only). */
static fy_err wipe_all(struct fy_db *db, struct fy_errmsg *em)
{
    static const char SQL_TABLES[] = "SELECT name FROM sqlite_schema WHERE type='table' AND "
                                     "name NOT LIKE 'sqlite_%' AND name <> 'security_epoch'"
                                     " AND name <> 'broker_stats'" /* counters never go back */
                                     " AND name NOT LIKE 'operator_key%'";
    fy_err e = fy_db_begin(db, em);
    if (e) {
        return e;
    }
    e = fy_db_exec(db, "PRAGMA defer_foreign_keys=ON", em);
    sqlite3_stmt *st = e ? NULL : fy_db_stmt(db, SQL_TABLES, em);
    if (!e && !st) {
        e = FY_ERR_INTERNAL;
    }
    while (!e && sqlite3_step(st) == SQLITE_ROW) {
        char *sql = sqlite3_mprintf("DELETE FROM \"%w\"", fy_col_text(st, 0));
        e = sql ? fy_db_exec(db, sql, em) : fy_fail(em, FY_ERR_NOMEM, "Out of memory");
        sqlite3_free(sql);
    }
    fy_stmt_done(st);
    if (!e) {
        e = fy_db_commit(db, em);
    }
    if (e) {
        fy_db_rollback(db);
    }
    return e;
}

/* POST /fleetyard/reset: wipes all state. Off unless the server runs with --enable-reset. */
static fy_err h_reset(struct api_req *req)
{
    if (!req->srv->reset_enabled) {
        return fy_fail(&req->em, FY_ERR_FORBIDDEN,
                       "The reset endpoint is disabled; start fleetyard-server with "
                       "--enable-reset to use it");
    }
    fy_err e = wipe_all(req->db, &req->em);
    if (!e) { /* the server's own setting, not state: job documents' URLs are signed with it */
        e = fy_jobs_presign_store(req->db, req->srv->access_key, req->srv->secret_key,
                                  req->site->region, &req->em);
    }
    if (!e) {
        fy_audit(req->caller, "Reset", "*");
    }
    return e;
}

const struct api_route api_routes_admin[] = {
    {FY_SVC_IOT, "GET", "/fleetyard/ping", h_ping, "Ping"},
    {FY_SVC_IOT, "POST", "/fleetyard/reset", h_reset, "Reset"},
    {0, NULL, NULL, NULL, NULL},
};
