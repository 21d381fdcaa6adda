/* Control-plane job executions: DescribeJobExecution, ListJobExecutionsForJob/ForThing,
 * CancelJobExecution, DeleteJobExecution. */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/json.h"
#include "jobs/jobs_int.h"

static const char SQL_LIST[] =
    "SELECT " FY_EXEC_COLS " FROM job_executions x JOIN jobs j ON j.id = x.job "
    "WHERE j.status != 'DELETION_IN_PROGRESS' AND (?1 IS NULL OR x.job_id = ?1) AND "
    "(?2 IS NULL OR x.thing_name = ?2) AND (?3 IS NULL OR x.status = ?3) AND x.id > ?4 "
    "AND (?6 IS NULL OR j.namespace_id = ?6) ORDER BY x.id LIMIT ?5";
static const char SQL_DELETE[] = "DELETE FROM job_executions WHERE id = ?1";
static const char SQL_JOB_EXISTS[] = "SELECT count(*) FROM jobs WHERE job_id = ?2";

/* The control-plane JobExecution / JobExecutionSummary members. */
static json_t *
exec_to_json(const struct fy_site *site, const struct fy_exec *x, double now, bool full)
{
    char arn[FY_ARN_MAX + 1];
    json_t *j = json_pack("{s:s, s:f, s:f, s:I}", "status", fy_exec_status_name(x->status),
                          "queuedAt", x->queued_at, "lastUpdatedAt", x->last_updated_at,
                          "executionNumber", (json_int_t)x->execution_number);
    bool ok = j != NULL;
    if (ok && x->started_at > 0) {
        ok = json_object_set_new(j, "startedAt", json_real(x->started_at)) == 0;
    }
    if (ok && !full) {
        return json_object_set_new(j, "retryAttempt", json_integer(x->retry_attempt)) == 0
                   ? j
                   : (json_decref(j), NULL);
    }
    fy_arn_fmt(arn, sizeof(arn), site, "thing", x->thing);
    json_t *det = x->details ? fy_json_loads(x->details, 0) : json_object();
    int64_t left = fy_exec_seconds_left(x, now);
    ok = ok && det && json_object_set_new(j, "jobId", json_string(x->job_id)) == 0 &&
         json_object_set_new(j, "thingArn", json_string(arn)) == 0 &&
         json_object_set_new(j, "forceCanceled", json_boolean(x->force_canceled)) == 0 &&
         json_object_set_new(j, "versionNumber", json_integer(x->version)) == 0 &&
         json_object_set_new(j, "statusDetails", json_pack("{s:O}", "detailsMap", det)) == 0;
    if (ok && left >= 0) {
        ok = json_object_set_new(j, "approximateSecondsBeforeTimedOut", json_integer(left)) == 0;
    }
    json_decref(det);
    if (!ok) {
        json_decref(j);
        j = NULL;
    }
    return j;
}

fy_err fy_exec_describe(struct fy_db *db,
                        const struct fy_site *site,
                        const char *thing,
                        const char *job_id,
                        int64_t execution_number,
                        double now,
                        json_t **out,
                        struct fy_errmsg *em)
{
    struct fy_exec x;
    fy_err e = fy_exec_load(db, thing, job_id, execution_number, &x, em);
    if (e) {
        return e;
    }
    *out = json_pack("{s:o}", "execution", exec_to_json(site, &x, now, true));
    fy_exec_clear(&x);
    return *out ? FY_ERR_OK : fy_fail(em, FY_ERR_NOMEM, "Out of memory");
}

static json_t *list_item(const struct fy_site *site, const struct fy_exec *x, bool by_job)
{
    char arn[FY_ARN_MAX + 1];
    fy_arn_fmt(arn, sizeof(arn), site, "thing", x->thing);
    return json_pack("{s:s, s:o}", by_job ? "thingArn" : "jobId", by_job ? arn : x->job_id,
                     "jobExecutionSummary", exec_to_json(site, x, 0, false));
}

fy_err fy_exec_list(struct fy_db *db,
                    const struct fy_site *site,
                    const struct fy_exec_filter *f,
                    const char *after,
                    int64_t limit,
                    json_t *j_items,
                    char **next,
                    struct fy_errmsg *em)
{
    int64_t n = 0, last = 0, from = 0;
    *next = NULL;
    if (after && fy_parse_i64_full(after, 0, INT64_MAX, &from) != 0) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST, "Invalid nextToken");
    }
    fy_err e = FY_ERR_OK;
    if (!f->thing && (e = fy_jobs_count(db, SQL_JOB_EXISTS, 0, f->job_id, &n, em)) == FY_ERR_OK &&
        n == 0) {
        return fy_fail(em, FY_ERR_NOT_FOUND, "Job %.64s not found", f->job_id);
    }
    sqlite3_stmt *st = e ? NULL : fy_db_stmt(db, SQL_LIST, em);
    if (!st) {
        return e ? e : FY_ERR_INTERNAL;
    }
    fy_bind_text(st, 1, f->job_id);
    fy_bind_text(st, 2, f->thing);
    fy_bind_text(st, 3, f->status);
    sqlite3_bind_int64(st, 4, from);
    sqlite3_bind_int64(st, 5, limit + 1);
    fy_bind_text(st, 6, f->ns);
    int rc = SQLITE_DONE;
    n = 0;
    while (!e && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct fy_exec x;
        if (++n > limit) {
            char buf[24];
            snprintf(buf, sizeof(buf), "%lld", (long long)last);
            *next = fy_strdup(buf);
            e = *next ? FY_ERR_OK : fy_fail(em, FY_ERR_NOMEM, "Out of memory");
            rc = SQLITE_DONE;
            break;
        }
        e = fy_exec_from_row(st, &x, em);
        if (!e && json_array_append_new(j_items, list_item(site, &x, f->thing == NULL)) != 0) {
            e = fy_fail(em, FY_ERR_NOMEM, "Out of memory");
        }
        last = x.id;
        fy_exec_clear(&x);
    }
    fy_stmt_done(st);
    return e || rc == SQLITE_DONE ? e : fy_db_err(db, rc, em);
}

struct exec_req {
    const char *thing, *job_id;
    bool force;
    int64_t expected_version, execution_number;
    const json_t *details;
    double now;
    struct fy_jobs_changed *changed;
};

static fy_err cancel_locked(struct fy_db *db, const struct exec_req *r, struct fy_errmsg *em)
{
    struct fy_exec x;
    fy_err e = fy_exec_load(db, r->thing, r->job_id, -1, &x, em);
    if (e) {
        return e;
    }
    if (r->expected_version >= 0 && r->expected_version != x.version) {
        e = fy_fail(em, FY_ERR_VERSION_CONFLICT,
                    "The expected version %lld does not match the current version %lld",
                    (long long)r->expected_version, (long long)x.version);
    }
    if (!e && r->details) {
        char *d = fy_json_dump(r->details);
        e = d ? FY_ERR_OK : fy_fail(em, FY_ERR_NOMEM, "Out of memory");
        fy_free(x.details);
        x.details = d;
    }
    if (!e && x.released) {
        e = fy_jobs_touch(db, r->changed, x.thing, true, em);
    }
    if (!e) {
        e = fy_exec_service_set(db, &x, FY_EXEC_CANCELED, r->force, r->now, em);
    }
    fy_exec_clear(&x);
    return e ? e : fy_jobs_touch_finish(db, r->changed, em);
}

static fy_err cancel_tx(struct fy_db *db, const struct exec_req *r, struct fy_errmsg *em)
{
    FY_DB_RETURN_IN_CHANGE_TX(db, em, cancel_locked(db, r, em));
}

fy_err fy_exec_cancel(struct fy_db *db,
                      const char *thing,
                      const char *job_id,
                      bool force,
                      int64_t expected_version,
                      const json_t *j_details,
                      double now,
                      struct fy_jobs_changed *changed,
                      struct fy_errmsg *em)
{
    struct exec_req r = {thing, job_id, force, expected_version, -1, j_details, now, changed};
    fy_err e = fy_jobs_details_check(j_details, em);
    return e ? e : cancel_tx(db, &r, em);
}

static fy_err delete_locked(struct fy_db *db, const struct exec_req *r, struct fy_errmsg *em)
{
    struct fy_exec x;
    fy_err e = fy_exec_load(db, r->thing, r->job_id, r->execution_number, &x, em);
    if (e) {
        return e;
    }
    if (!fy_exec_terminal(x.status) && !r->force) {
        e = fy_fail(em, FY_ERR_INVALID_STATE_TRANSITION,
                    "Cannot delete a job execution in status %s without force",
                    fy_exec_status_name(x.status));
    }
    if (!e && x.released && !fy_exec_terminal(x.status)) {
        e = fy_jobs_touch(db, r->changed, x.thing, true, em);
    }
    if (!e) {
        e = fy_jobs_run(db, SQL_DELETE, x.id, NULL, 0, em);
    }
    fy_exec_clear(&x);
    return e ? e : fy_jobs_touch_finish(db, r->changed, em);
}

static fy_err delete_tx(struct fy_db *db, const struct exec_req *r, struct fy_errmsg *em)
{
    FY_DB_RETURN_IN_CHANGE_TX(db, em, delete_locked(db, r, em));
}

fy_err fy_exec_delete(struct fy_db *db,
                      const char *thing,
                      const char *job_id,
                      int64_t execution_number,
                      bool force,
                      struct fy_jobs_changed *changed,
                      struct fy_errmsg *em)
{
    struct exec_req r = {thing, job_id, force, -1, execution_number, NULL, 0, changed};
    return delete_tx(db, &r, em);
}
