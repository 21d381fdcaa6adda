/* UpdateJob, CancelJob, DeleteJob. */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/json.h"
#include "jobs/jobs_int.h"

#define REASON_CODE_MAX 128
#define FY_STR_(x)      #x
#define FY_STR(x)       FY_STR_(x)

static const char SQL_CONFIG[] = "SELECT config, description FROM jobs WHERE id = ?1";
static const char SQL_SET_CONFIG[] =
    "UPDATE jobs SET config = ?2, description = ?3, last_updated_at = ?4 WHERE id = ?1";
/* At most FY_JOBS_WINDOW unreleased executions per call (the engine cancels the rest of a large
 * job in later passes; devices never saw them). */
static const char SQL_CANCEL_UNRELEASED[] =
    "UPDATE job_executions SET status = 'CANCELED', last_updated_at = ?3, version = version + 1 "
    "WHERE id IN (SELECT id FROM job_executions WHERE job = ?1 AND released = 0 AND "
    "status = 'QUEUED' LIMIT " FY_STR(FY_JOBS_WINDOW) ")";
static const char SQL_RELEASED_PENDING[] =
    "SELECT " FY_EXEC_COLS " FROM job_executions x WHERE x.job = ?1 AND x.released = 1 AND "
    "(x.status = 'QUEUED' OR (?2 = 'force' AND x.status = 'IN_PROGRESS'))";
static const char SQL_SET_CANCELED[] =
    "UPDATE jobs SET status = 'CANCELED', force_canceled = force_canceled OR ?2 = 'force', "
    "reason_code = coalesce(?4, reason_code), comment = coalesce(?5, comment), "
    "last_updated_at = ?3, completed_at = coalesce(completed_at, ?3) WHERE id = ?1";
static const char SQL_DELETING[] =
    "SELECT count(*) FROM jobs WHERE status = 'DELETION_IN_PROGRESS'";
static const char SQL_PENDING_THINGS[] =
    "SELECT DISTINCT thing_name FROM job_executions WHERE job = ?1 AND released = 1 AND "
    "status IN ('QUEUED','IN_PROGRESS')";
static const char SQL_SET_DELETING[] =
    "UPDATE jobs SET status = 'DELETION_IN_PROGRESS', last_updated_at = ?3 WHERE id = ?1";

/* ---- UpdateJob ---- */

struct update_req {
    int64_t id;
    const json_t *body;
    const char *description;
    double now;
};

static fy_err update_locked(struct fy_db *db, const struct update_req *r, struct fy_errmsg *em)
{
    sqlite3_stmt *st = fy_db_stmt(db, SQL_CONFIG, em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    sqlite3_bind_int64(st, 1, r->id);
    int rc = sqlite3_step(st);
    json_t *cfg = rc == SQLITE_ROW ? fy_json_loads(fy_col_text(st, 0), 0) : NULL;
    char *desc =
        rc == SQLITE_ROW && sqlite3_column_text(st, 1) ? fy_strdup(fy_col_text(st, 1)) : NULL;
    fy_stmt_done(st);
    json_t *given = fy_jobs_config_subset(r->body);
    struct fy_job_config parsed;
    fy_err e = cfg && given ? FY_ERR_OK : fy_fail(em, FY_ERR_NOMEM, "Out of memory");
    if (!e && json_object_update(cfg, given) != 0) {
        e = fy_fail(em, FY_ERR_NOMEM, "Out of memory");
    }
    if (!e) {
        e = fy_job_config_parse(cfg, r->now, false, &parsed, em);
    }
    char *text = e ? NULL : fy_json_dump(cfg);
    if (!e && !text) {
        e = fy_fail(em, FY_ERR_NOMEM, "Out of memory");
    }
    if (!e && (st = fy_db_stmt(db, SQL_SET_CONFIG, em))) {
        sqlite3_bind_int64(st, 1, r->id);
        fy_bind_text(st, 2, text);
        fy_bind_text(st, 3, r->description ? r->description : desc);
        sqlite3_bind_double(st, 4, r->now);
        rc = sqlite3_step(st);
        fy_stmt_done(st);
        e = rc == SQLITE_DONE ? FY_ERR_OK : fy_db_err(db, rc, em);
    } else if (!e) {
        e = FY_ERR_INTERNAL;
    }
    fy_free(text);
    fy_free(desc);
    json_decref(cfg);
    json_decref(given);
    return e;
}

static fy_err update_tx(struct fy_db *db, const struct update_req *r, struct fy_errmsg *em)
{
    FY_DB_RETURN_IN_CHANGE_TX(db, em, update_locked(db, r, em));
}

fy_err fy_job_update(
    struct fy_db *db, const char *job_id, const json_t *j_body, double now, struct fy_errmsg *em)
{
    struct update_req r = {0, j_body, NULL, now};
    json_error_t err;
    json_t *ig = NULL;
    const char *ns = NULL;
    char status[32];
    if (json_unpack_ex((json_t *)j_body, &err, 0, "{s?s, s?o, s?o, s?o, s?o, s?o, s?s !}",
                       "description", &r.description, "presignedUrlConfig", &ig,
                       "jobExecutionsRolloutConfig", &ig, "abortConfig", &ig, "timeoutConfig", &ig,
                       "jobExecutionsRetryConfig", &ig, "namespaceId", &ns) != 0) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST, "Invalid request body: %.200s", err.text);
    }
    fy_err e = fy_jobs_check_description(r.description, em);
    if (!e) {
        e = fy_job_find(db, job_id, &r.id, status, em);
    }
    if (!e && strcmp(status, "DELETION_IN_PROGRESS") == 0) {
        e = fy_fail(em, FY_ERR_INVALID_REQUEST, "Job %.64s is being deleted", job_id);
    }
    return e ? e : update_tx(db, &r, em);
}

/* ---- CancelJob ---- */

/* Cancels the released pending executions one by one (each thing is notified). */
static fy_err cancel_released(struct fy_db *db,
                              int64_t job,
                              bool force,
                              double now,
                              struct fy_jobs_changed *changed,
                              struct fy_errmsg *em)
{
    for (;;) {
        sqlite3_stmt *st = fy_db_stmt(db, SQL_RELEASED_PENDING, em);
        struct fy_exec x;
        if (!st) {
            return FY_ERR_INTERNAL;
        }
        sqlite3_bind_int64(st, 1, job);
        fy_bind_text(st, 2, force ? "force" : "");
        int rc = sqlite3_step(st);
        fy_err e = rc == SQLITE_ROW ? fy_exec_from_row(st, &x, em) : FY_ERR_OK;
        fy_stmt_done(st);
        if (rc != SQLITE_ROW) {
            return rc == SQLITE_DONE ? e : fy_db_err(db, rc, em);
        }
        if (!e) {
            e = fy_jobs_touch(db, changed, x.thing, true, em);
        }
        if (!e) {
            e = fy_exec_service_set(db, &x, FY_EXEC_CANCELED, force, now, em);
        }
        fy_exec_clear(&x);
        if (e) {
            return e;
        }
    }
}

fy_err fy_jobs_cancel_unreleased(struct fy_db *db, int64_t job, double now, struct fy_errmsg *em)
{
    return fy_jobs_run(db, SQL_CANCEL_UNRELEASED, job, NULL, now, em);
}

fy_err fy_job_cancel_locked(struct fy_db *db,
                            int64_t job,
                            bool force,
                            const char *reason_code,
                            const char *comment,
                            double now,
                            struct fy_jobs_changed *changed,
                            struct fy_errmsg *em)
{
    fy_err e = fy_jobs_run(db, SQL_CANCEL_UNRELEASED, job, NULL, now, em);
    if (!e) {
        e = cancel_released(db, job, force, now, changed, em);
    }
    sqlite3_stmt *st = e ? NULL : fy_db_stmt(db, SQL_SET_CANCELED, em);
    if (!st) {
        return e ? e : FY_ERR_INTERNAL;
    }
    sqlite3_bind_int64(st, 1, job);
    fy_bind_text(st, 2, force ? "force" : "");
    sqlite3_bind_double(st, 3, now);
    fy_bind_text(st, 4, reason_code);
    fy_bind_text(st, 5, comment);
    int rc = sqlite3_step(st);
    fy_stmt_done(st);
    return rc == SQLITE_DONE ? fy_jobs_touch_finish(db, changed, em) : fy_db_err(db, rc, em);
}

struct cancel_req {
    const char *job_id, *reason_code, *comment;
    bool force;
    double now;
    struct fy_jobs_changed *changed;
};

static fy_err cancel_locked(struct fy_db *db, const struct cancel_req *r, struct fy_errmsg *em)
{
    int64_t id = 0;
    char status[32];
    fy_err e = fy_job_find(db, r->job_id, &id, status, em);
    if (e) {
        return e;
    }
    if (strcmp(status, "COMPLETED") == 0 || strcmp(status, "DELETION_IN_PROGRESS") == 0) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST, "Job %.64s cannot be canceled in status %s",
                       r->job_id, status);
    }
    if (strcmp(status, "CANCELED") == 0 && !r->force) {
        return FY_ERR_OK; /* already canceled: nothing more to do without force */
    }
    return fy_job_cancel_locked(db, id, r->force, r->reason_code, r->comment, r->now, r->changed,
                                em);
}

static fy_err cancel_tx(struct fy_db *db, const struct cancel_req *r, struct fy_errmsg *em)
{
    FY_DB_RETURN_IN_CHANGE_TX(db, em, cancel_locked(db, r, em));
}

static bool valid_reason_code(const char *s)
{
    size_t n = strlen(s);
    return n > 0 && n <= REASON_CODE_MAX && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") == n;
}

fy_err fy_job_cancel(struct fy_db *db,
                     const char *job_id,
                     bool force,
                     const char *reason_code,
                     const char *comment,
                     double now,
                     struct fy_jobs_changed *changed,
                     struct fy_errmsg *em)
{
    struct cancel_req r = {job_id, reason_code, comment, force, now, changed};
    if (reason_code && !valid_reason_code(reason_code)) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST,
                       "reasonCode must be 1 to %d upper-case letters, digits or _",
                       REASON_CODE_MAX);
    }
    if (comment && (!comment[0] || !fy_valid_description(comment))) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST,
                       "comment must be 1 to %d characters without control characters",
                       FY_DESCRIPTION_MAX);
    }
    return cancel_tx(db, &r, em);
}

/* ---- DeleteJob ---- */

struct delete_req {
    const char *job_id;
    bool force;
    double now;
    struct fy_jobs_changed *changed;
};

static fy_err touch_pending_things(struct fy_db *db,
                                   int64_t job,
                                   struct fy_jobs_changed *changed,
                                   struct fy_errmsg *em)
{
    sqlite3_stmt *st = fy_db_stmt(db, SQL_PENDING_THINGS, em);
    fy_err e = st ? FY_ERR_OK : FY_ERR_INTERNAL;
    int rc = SQLITE_DONE;
    if (st) {
        sqlite3_bind_int64(st, 1, job);
    }
    while (!e && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        e = fy_jobs_touch(db, changed, fy_col_text(st, 0), true, em);
    }
    fy_stmt_done(st);
    return e || rc == SQLITE_DONE ? e : fy_db_err(db, rc, em);
}

static fy_err delete_locked(struct fy_db *db, const struct delete_req *r, struct fy_errmsg *em)
{
    int64_t id = 0, deleting = 0;
    char status[32];
    fy_err e = fy_job_find(db, r->job_id, &id, status, em);
    if (!e && strcmp(status, "DELETION_IN_PROGRESS") == 0) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST, "Job %.64s is already being deleted", r->job_id);
    }
    if (!e && !r->force &&
        (strcmp(status, "IN_PROGRESS") == 0 || strcmp(status, "SCHEDULED") == 0)) {
        return fy_fail(em, FY_ERR_INVALID_STATE_TRANSITION,
                       "Job %.64s is %s; delete it with force or cancel it first", r->job_id,
                       status);
    }
    if (!e) {
        e = fy_jobs_count(db, SQL_DELETING, 0, NULL, &deleting, em);
    }
    if (!e && deleting >= FY_JOBS_DELETING_MAX) {
        return fy_fail(em, FY_ERR_LIMIT_EXCEEDED, "%d jobs are already being deleted",
                       FY_JOBS_DELETING_MAX);
    }
    if (!e) {
        e = touch_pending_things(db, id, r->changed, em);
    }
    if (!e) {
        e = fy_jobs_run(db, SQL_SET_DELETING, id, NULL, r->now, em);
    }
    return e ? e : fy_jobs_touch_finish(db, r->changed, em);
}

static fy_err delete_tx(struct fy_db *db, const struct delete_req *r, struct fy_errmsg *em)
{
    FY_DB_RETURN_IN_CHANGE_TX(db, em, delete_locked(db, r, em));
}

fy_err fy_job_delete(struct fy_db *db,
                     const char *job_id,
                     bool force,
                     double now,
                     struct fy_jobs_changed *changed,
                     struct fy_errmsg *em)
{
    struct delete_req r = {job_id, force, now, changed};
    return delete_tx(db, &r, em);
}
