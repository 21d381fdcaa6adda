/* The audit trail: every control-plane change (any request whose operation does not only read)
 * and every request an operator key's policy refuses (AccessDeniedException, reads included)
 * is recorded, whatever its outcome, in the log group fleetyard/audit (one stream per access
 * key), readable with `aws logs filter-log-events`. A change's success record rides in the
 * change's own transaction (fy_db_rider_set, armed by api_audit_begin before the handler runs):
 * the change and its record commit together. Anything else is recorded when the request ends
 * (api_audit_request, from api/http.c respond). */
#include <string.h>

#include "api/api_int.h"
#include "api/routes.h"
#include "core/alloc.h"
#include "core/fytime.h"
#include "core/json.h"
#include "core/log.h"
#include "logs/logs.h"

static const char SQL_AUDIT_GROUP[] =
    "INSERT OR IGNORE INTO log_groups(name, created, retention_days) VALUES (?, ?, NULL)";

bool api_audit_is_read(const char *method, const char *op)
{
    static const char *const reads[] = {"Get", "List", "Describe", "Filter", "Search", "Test"};
    if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0) {
        return true;
    }
    for (size_t i = 0; op && i < sizeof(reads) / sizeof(reads[0]); i++) {
        if (strncmp(op, reads[i], strlen(reads[i])) == 0) {
            return true;
        }
    }
    return false;
}

/* What the request changed: the log group for the logs service, else the path (no query). */
static json_t *resource_of(const struct api_req *req, const char *path)
{
    const char *grp = json_string_value(json_object_get(req->j_body, "logGroupName"));
    if (req->svc == FY_SVC_LOGS && grp) {
        return json_sprintf("log-group:%.512s", grp);
    }
    return json_stringn(path, strcspn(path, "?"));
}

static json_t *audit_to_json(const struct api_req *req, const char *path, unsigned status, fy_err e)
{
    json_t *j = json_pack("{s:I, s:s, s:s, s:s, s:o, s:s, s:i, s:s}", "time",
                          (json_int_t)fy_now_ms(), "accessKey", req->caller[0] ? req->caller : "-",
                          "operation", req->op ? req->op : "-", "method", req->method, "resource",
                          resource_of(req, path), "requestId", req->request_id, "status",
                          (int)status, "outcome", e ? "Failure" : "Success");
    if (j && req->user) {
        json_object_set_new(j, "user", json_string(req->user));
    }
    if (j && e) {
        json_object_set_new(j, "errorType", json_string(fy_err_type(e)));
        json_object_set_new(j, "message", json_string(req->em.msg));
    }
    return j;
}

/* The record as one JSON line (fy_free), NULL on OOM. */
static char *audit_line(const struct api_req *req, const char *path, unsigned status, fy_err e)
{
    json_t *j = audit_to_json(req, path, status, e);
    char *line = j ? fy_json_dump(j) : NULL;
    json_decref(j);
    return line;
}

struct audit_rec {
    const char *stream;
    const char *line;
};

static fy_err record_tx(struct fy_db *db, void *arg, struct fy_errmsg *em)
{
    const struct audit_rec *a = arg;
    int64_t now = fy_now_ms();
    sqlite3_stmt *st = fy_db_stmt(db, SQL_AUDIT_GROUP, em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    fy_bind_text(st, 1, FY_AUDIT_GROUP);
    sqlite3_bind_int64(st, 2, now);
    int rc = sqlite3_step(st);
    fy_stmt_done(st);
    if (rc != SQLITE_DONE) {
        return fy_db_err(db, rc, em);
    }
    return fy_logs_put(db, FY_AUDIT_GROUP, a->stream, now, now, a->line, em);
}

/* A record of its own (a request that failed, or changed nothing through fy_db_run_tx): group
 * commit shares the commit with whatever other threads write meanwhile. */
static fy_err record(struct fy_db *db, const char *stream, const char *line, struct fy_errmsg *em)
{
    struct audit_rec a = {stream, line};
    return fy_db_run_tx(db, record_tx, &a, em);
}

static const char *stream_of(const struct api_req *req)
{
    return fy_logs_valid_stream_name(req->caller) ? req->caller : "-";
}

/* The rider: the success record, written in the transaction of the change. Its line is built
 * before (api_audit_begin), so that the transaction every writer waits for does not build it,
 * except for the logs service, whose record names the log group of the body the handler has
 * parsed by then. */
static fy_err rider_tx(struct fy_db *db, void *arg, struct fy_errmsg *em)
{
    struct api_audit_ctx *c = arg;
    if (!c->line) {
        c->line = audit_line(c->req, c->path, fy_err_status(FY_ERR_OK), FY_ERR_OK);
    }
    struct audit_rec a = {stream_of(c->req), c->line};
    return c->line ? record_tx(db, &a, em) : fy_fail(em, FY_ERR_NOMEM, "out of memory");
}

void api_audit_begin(struct api_req *req, const char *path, struct api_audit_ctx *ctx)
{
    fy_db_rider_clear();
    if (!api_audit_is_read(req->method, req->op)) {
        fy_free(ctx->line);
        *ctx = (struct api_audit_ctx){req, path, NULL};
        if (req->svc != FY_SVC_LOGS) {
            ctx->line = audit_line(req, path, fy_err_status(FY_ERR_OK), FY_ERR_OK);
        }
        fy_db_rider_set(rider_tx, ctx);
    }
}

void api_audit_request(
    struct api_req *req, const char *path, unsigned status, fy_err e, struct api_audit_ctx *ctx)
{
    bool recorded = fy_db_rider_done() && !e; /* a failure after the commit is recorded too */
    fy_db_rider_clear();
    FY_FREE(ctx->line);
    if (recorded) {
        return;
    }
    if (api_audit_is_read(req->method, req->op) && e != FY_ERR_ACCESS_DENIED) {
        return; /* reads are not recorded, but every refusal by an operator key's policy is */
    }
    char *line = audit_line(req, path, status, e);
    struct fy_errmsg em = {""};
    int slot;
    struct api_server *srv = (struct api_server *)req->srv;
    struct fy_db *db = line ? api_pool_get(srv, &slot) : NULL;
    const char *stream = stream_of(req);
    if (!db || record(db, stream, line, &em) != FY_ERR_OK) {
        fy_log(FY_LOG_ERROR, "audit", "cannot record %s %.200s: %s", req->method, path,
               line ? em.msg : "out of memory");
    }
    if (db) {
        api_pool_put(srv, slot);
    }
    fy_free(line);
}
