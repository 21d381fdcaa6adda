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

/* What the request changed: the log group for the logs service, else the path (no query).
 * fy_free. */
static char *resource_of(const struct api_req *req, const char *path)
{
    const char *grp = json_string_value(json_object_get(req->j_body, "logGroupName"));
    if (req->svc == FY_SVC_LOGS && grp) {
        char r[sizeof("log-group:") + FY_LOGS_GROUP_NAME_MAX];
        snprintf(r, sizeof(r), "log-group:%s", grp);
        return fy_strdup(r);
    }
    return fy_strndup(path, strcspn(path, "?"));
}

/* Writes ,"name":"value" for each pair of m at w (a NULL value is left out). */
static char *put_members(char *w, const char *const (*m)[2], size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (m[i][1]) {
            *w++ = ',';
            w = fy_json_write_member(w, m[i][0], m[i][1]);
        }
    }
    return w;
}

/* Bytes that put_members may write for m. */
static size_t members_room(const char *const (*m)[2], size_t n)
{
    size_t room = 0;
    for (size_t i = 0; i < n; i++) {
        room += m[i][1] ? 1 + FY_JSON_MEMBER_MAX(strlen(m[i][0]), strlen(m[i][1])) : 0;
    }
    return room;
}

#define NUMBER_ROOM 32 /* {"time":<int64> or ,"status":<unsigned> */

/* The record as one compact JSON line (fy_free), NULL on OOM: {"time", "accessKey",
 * "operation", "method", "resource", "requestId", "status", "outcome", then "user" for an
 * operator key, "errorType" and "message" for a failure}. Written directly: building it with
 * jansson and dumping it cost more than the rest of a CreateThing's audit record. */
static char *audit_line(const struct api_req *req, const char *path, unsigned status, fy_err e)
{
    char *resource = resource_of(req, path);
    const char *const head[][2] = {
        {"accessKey", req->caller[0] ? req->caller : "-"},
        {"operation", req->op ? req->op : "-"},
        {"method", req->method},
        {"resource", resource},
        {"requestId", req->request_id},
    };
    const char *const tail[][2] = {
        {"outcome", e ? "Failure" : "Success"},
        {"user", req->user},
        {"errorType", e ? fy_err_type(e) : NULL},
        {"message", e ? req->em.msg : NULL},
    };
    size_t nh = sizeof(head) / sizeof(head[0]), nt = sizeof(tail) / sizeof(tail[0]);
    size_t room = 2 * NUMBER_ROOM + members_room(head, nh) + members_room(tail, nt) + 2;
    char *line = resource ? fy_malloc(room) : NULL;
    if (line) {
        char *w = line + snprintf(line, NUMBER_ROOM, "{\"time\":%lld", (long long)fy_now_ms());
        w = put_members(w, head, nh);
        w += snprintf(w, NUMBER_ROOM, ",\"status\":%u", status);
        w = put_members(w, tail, nt);
        memcpy(w, "}", 2);
    }
    fy_free(resource);
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
