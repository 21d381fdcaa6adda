/* DescribeJob, GetJobDocument, ListJobs. */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/json.h"
#include "jobs/jobs_int.h"

static const char SQL_FIND[] = "SELECT id, status FROM jobs WHERE job_id = ?1";
static const char SQL_IN_NS[] = "SELECT count(*) FROM jobs WHERE id = ?1 AND namespace_id = ?2";
static const char SQL_JOB[] =
    "SELECT id, job_id, status, target_selection, targets, document_source, description, "
    "config, template_arn, force_canceled, reason_code, comment, created_at, last_updated_at, "
    "completed_at, namespace_id FROM jobs WHERE job_id = ?1";
/* Status counts over each thing's latest execution. */
static const char SQL_COUNTS[] =
    "SELECT x.status, count(*), sum(x.released = 0) FROM job_executions x WHERE x.job = ?1 "
    "AND NOT EXISTS (SELECT 1 FROM job_executions y WHERE y.job = x.job AND "
    "y.thing_name = x.thing_name AND y.execution_number > x.execution_number) GROUP BY x.status";
static const char SQL_DOCUMENT[] = "SELECT document FROM jobs WHERE job_id = ?1";
static const char SQL_LIST[] =
    "SELECT j.job_id, j.target_selection, j.status, j.created_at, j.last_updated_at, "
    "j.completed_at, (SELECT g.group_id FROM job_targets t JOIN thing_groups g ON g.name = t.name "
    "WHERE t.job = j.id AND t.kind = 'group' LIMIT 1), EXISTS (SELECT 1 FROM job_executions x "
    "WHERE x.job = j.id AND x.released = 0 AND x.status = 'QUEUED') FROM jobs j "
    "WHERE j.job_id > ?1 AND (?2 IS NULL OR j.status = ?2) AND "
    "(?3 IS NULL OR j.target_selection = ?3) AND (?4 IS NULL OR j.id IN (SELECT t.job FROM "
    "job_targets t WHERE t.kind = 'group' AND t.name = ?4)) AND (?6 IS NULL OR j.id IN "
    "(SELECT t.job FROM job_targets t JOIN thing_groups g ON g.name = t.name WHERE "
    "t.kind = 'group' AND g.group_id = ?6)) AND (?7 IS NULL OR j.namespace_id = ?7) "
    "ORDER BY j.job_id LIMIT ?5";

fy_err fy_job_find(
    struct fy_db *db, const char *job_id, int64_t *id, char status[32], struct fy_errmsg *em)
{
    sqlite3_stmt *st = fy_db_stmt(db, SQL_FIND, em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    fy_bind_text(st, 1, job_id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *id = sqlite3_column_int64(st, 0);
        snprintf(status, 32, "%s", fy_col_text(st, 1));
    }
    fy_stmt_done(st);
    if (rc == SQLITE_DONE) {
        return fy_fail(em, FY_ERR_NOT_FOUND, "Job %.64s not found", job_id);
    }
    return rc == SQLITE_ROW ? FY_ERR_OK : fy_db_err(db, rc, em);
}

fy_err
fy_job_check_namespace(struct fy_db *db, const char *job_id, const char *ns, struct fy_errmsg *em)
{
    if (!ns) {
        return FY_ERR_OK;
    }
    if (!fy_jobs_valid_namespace(ns)) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST,
                       "namespaceId must be 1 to %d characters of [a-zA-Z0-9_-]",
                       FY_JOBS_NAMESPACE_MAX);
    }
    int64_t id = 0, n = 0;
    char status[32];
    fy_err e = fy_job_find(db, job_id, &id, status, em);
    if (!e) {
        e = fy_jobs_count(db, SQL_IN_NS, id, ns, &n, em);
    }
    if (e) {
        return e;
    }
    return n ? FY_ERR_OK
             : fy_fail(em, FY_ERR_NOT_FOUND, "Job %.64s not found in namespace %.64s", job_id, ns);
}

static const char *const COUNTER_NAMES[FY_EXEC__COUNT] = {
    "numberOfQueuedThings",  "numberOfInProgressThings", "numberOfSucceededThings",
    "numberOfFailedThings",  "numberOfTimedOutThings",   "numberOfRejectedThings",
    "numberOfRemovedThings", "numberOfCanceledThings",
};

/* jobProcessDetails; *rolling_out tells whether unreleased executions remain. */
static fy_err process_details(struct fy_db *db,
                              int64_t job,
                              json_t *targets,
                              json_t **out,
                              bool *rolling_out,
                              struct fy_errmsg *em)
{
    json_int_t n[FY_EXEC__COUNT] = {0};
    sqlite3_stmt *st = fy_db_stmt(db, SQL_COUNTS, em);
    int rc;
    *rolling_out = false;
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    sqlite3_bind_int64(st, 1, job);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        enum fy_exec_status s;
        if (fy_exec_status_parse(fy_col_text(st, 0), &s) == 0) {
            n[s] = sqlite3_column_int64(st, 1);
        }
        *rolling_out = *rolling_out || sqlite3_column_int64(st, 2) > 0;
    }
    fy_stmt_done(st);
    if (rc != SQLITE_DONE) {
        return fy_db_err(db, rc, em);
    }
    *out = json_object();
    for (int i = 0; *out && i < FY_EXEC__COUNT; i++) {
        if (json_object_set_new(*out, COUNTER_NAMES[i], json_integer(n[i])) != 0) {
            json_decref(*out);
            *out = NULL;
        }
    }
    if (*out && *rolling_out && json_object_set(*out, "processingTargets", targets) != 0) {
        json_decref(*out);
        *out = NULL;
    }
    return *out ? FY_ERR_OK : fy_fail(em, FY_ERR_NOMEM, "Out of memory");
}

/* An optional time column: NULL when the column is NULL (the member is absent), else its value;
 * NULL with *failed set when the allocation fails (the reply must then fail, not drop it). */
static json_t *opt_time(sqlite3_stmt *st, int col, bool *failed)
{
    if (sqlite3_column_type(st, col) == SQLITE_NULL) {
        return NULL;
    }
    json_t *v = json_real(sqlite3_column_double(st, col));
    *failed = *failed || !v;
    return v;
}

/* The Job object from a SQL_JOB row. */
static fy_err job_to_json(struct fy_db *db,
                          const struct fy_site *site,
                          sqlite3_stmt *st,
                          json_t **out,
                          struct fy_errmsg *em)
{
    char arn[FY_ARN_MAX + 1];
    json_t *targets = fy_json_loads(fy_col_text(st, 4), 0);
    json_t *cfg = fy_json_loads(fy_col_text(st, 7), 0), *details = NULL;
    bool rolling = false, failed = false;
    const char *status = fy_col_text(st, 2);
    fy_err e = targets && cfg ? process_details(db, sqlite3_column_int64(st, 0), targets, &details,
                                                &rolling, em)
                              : fy_fail(em, FY_ERR_INTERNAL, "Corrupt job row");
    fy_arn_fmt(arn, sizeof(arn), site, "job", fy_col_text(st, 1));
    *out =
        e ? NULL
          : json_pack(
                "{s:s, s:s, s:s, s:s, s:b, s:s*, s:s*, s:O, s:s*, s:f, s:f, s:o*, s:o, "
                "s:b, s:s*, s:s*}",
                "jobArn", arn, "jobId", fy_col_text(st, 1), "targetSelection", fy_col_text(st, 3),
                "status", status, "forceCanceled", sqlite3_column_int(st, 9), "reasonCode",
                sqlite3_column_text(st, 10) ? fy_col_text(st, 10) : NULL, "comment",
                sqlite3_column_text(st, 11) ? fy_col_text(st, 11) : NULL, "targets", targets,
                "description", sqlite3_column_text(st, 6) ? fy_col_text(st, 6) : NULL, "createdAt",
                sqlite3_column_double(st, 12), "lastUpdatedAt", sqlite3_column_double(st, 13),
                "completedAt", opt_time(st, 14, &failed), "jobProcessDetails", details,
                "isConcurrent", rolling && strcmp(status, "IN_PROGRESS") == 0, "jobTemplateArn",
                sqlite3_column_text(st, 8) ? fy_col_text(st, 8) : NULL, "namespaceId",
                sqlite3_column_text(st, 15) ? fy_col_text(st, 15) : NULL);
    if (*out && (failed || json_object_update(*out, cfg) != 0)) {
        json_decref(*out);
        *out = NULL;
    }
    json_decref(targets);
    json_decref(cfg);
    return e || *out ? e : fy_fail(em, FY_ERR_NOMEM, "Out of memory");
}

fy_err fy_job_describe(struct fy_db *db,
                       const struct fy_site *site,
                       const char *job_id,
                       json_t **out,
                       struct fy_errmsg *em)
{
    sqlite3_stmt *st = fy_db_stmt(db, SQL_JOB, em);
    json_t *job = NULL;
    fy_err e = FY_ERR_OK;
    *out = NULL;
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    fy_bind_text(st, 1, job_id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        e = job_to_json(db, site, st, &job, em);
        *out = e ? NULL
                 : json_pack("{s:o, s:s*}", "job", job, "documentSource",
                             sqlite3_column_text(st, 5) ? fy_col_text(st, 5) : NULL);
        e = e || *out ? e : fy_fail(em, FY_ERR_NOMEM, "Out of memory");
    } else {
        e = rc == SQLITE_DONE ? fy_fail(em, FY_ERR_NOT_FOUND, "Job %.64s not found", job_id)
                              : fy_db_err(db, rc, em);
    }
    fy_stmt_done(st);
    return e;
}

fy_err fy_job_document(struct fy_db *db, const char *job_id, char **out, struct fy_errmsg *em)
{
    sqlite3_stmt *st = fy_db_stmt(db, SQL_DOCUMENT, em);
    *out = NULL;
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    fy_bind_text(st, 1, job_id);
    int rc = sqlite3_step(st);
    fy_err e = FY_ERR_OK;
    if (rc == SQLITE_ROW) {
        *out = fy_strdup(fy_col_text(st, 0));
        e = *out ? FY_ERR_OK : fy_fail(em, FY_ERR_NOMEM, "Out of memory");
    } else {
        e = rc == SQLITE_DONE ? fy_fail(em, FY_ERR_NOT_FOUND, "Job %.64s not found", job_id)
                              : fy_db_err(db, rc, em);
    }
    fy_stmt_done(st);
    return e;
}

static json_t *summary_to_json(const struct fy_site *site, sqlite3_stmt *st)
{
    char arn[FY_ARN_MAX + 1];
    const char *status = fy_col_text(st, 2);
    bool failed = false;
    fy_arn_fmt(arn, sizeof(arn), site, "job", fy_col_text(st, 0));
    json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:f, s:f, s:o*, s:s*, s:b}", "jobArn", arn, "jobId",
                          fy_col_text(st, 0), "targetSelection", fy_col_text(st, 1), "status",
                          status, "createdAt", sqlite3_column_double(st, 3), "lastUpdatedAt",
                          sqlite3_column_double(st, 4), "completedAt", opt_time(st, 5, &failed),
                          "thingGroupId", sqlite3_column_text(st, 6) ? fy_col_text(st, 6) : NULL,
                          "isConcurrent",
                          sqlite3_column_int(st, 7) != 0 && strcmp(status, "IN_PROGRESS") == 0);
    if (failed) {
        json_decref(j);
        j = NULL;
    }
    return j;
}

fy_err fy_job_list(struct fy_db *db,
                   const struct fy_site *site,
                   const struct fy_job_filter *f,
                   const char *after,
                   int64_t limit,
                   json_t *j_items,
                   char **next,
                   struct fy_errmsg *em)
{
    sqlite3_stmt *st = fy_db_stmt(db, SQL_LIST, em);
    *next = NULL;
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    fy_bind_text(st, 1, after ? after : "");
    fy_bind_text(st, 2, f->status);
    fy_bind_text(st, 3, f->target_selection);
    fy_bind_text(st, 4, f->group);
    fy_bind_text(st, 6, f->group_id);
    fy_bind_text(st, 7, f->ns);
    sqlite3_bind_int64(st, 5, limit + 1);
    return fy_jobs_page(db, st, limit, site, summary_to_json, "jobId", j_items, next, em);
}
