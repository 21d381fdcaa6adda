/* Job execution rows: load, save, service-side status changes, retries, JSON renderings. */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/json.h"
#include "jobs/jobs_int.h"

static const char SQL_LOAD_LATEST[] =
    "SELECT " FY_EXEC_COLS " FROM job_executions x JOIN jobs j ON j.id = x.job "
    "WHERE x.thing_name = ?1 AND x.job_id = ?2 AND j.status != 'DELETION_IN_PROGRESS' "
    "ORDER BY x.execution_number DESC LIMIT 1";
static const char SQL_LOAD_NUMBER[] =
    "SELECT " FY_EXEC_COLS " FROM job_executions x JOIN jobs j ON j.id = x.job "
    "WHERE x.thing_name = ?1 AND x.job_id = ?2 AND j.status != 'DELETION_IN_PROGRESS' "
    "AND x.execution_number = ?3";
static const char SQL_LOAD_NEXT[] = "SELECT " FY_EXEC_COLS " FROM job_executions x "
                                    "WHERE x.thing_name = ?1 AND " FY_JOBS_PENDING_WHERE
                                    " ORDER BY x.status = 'QUEUED', x.queued_at, x.id LIMIT 1";
static const char SQL_LOAD_NEXT_NS[] =
    "SELECT " FY_EXEC_COLS " FROM job_executions x JOIN jobs j ON j.id = x.job "
    "WHERE x.thing_name = ?1 AND j.namespace_id = ?2 AND j.status != 'DELETION_IN_PROGRESS' AND "
    "x.released = 1 AND x.status IN ('QUEUED','IN_PROGRESS') "
    "ORDER BY x.status = 'QUEUED', x.queued_at, x.id LIMIT 1";
static const char SQL_NS_OF[] = "SELECT count(*) FROM jobs WHERE id = ?1 AND namespace_id IS ?2";
static const char SQL_SAVE[] =
    "UPDATE job_executions SET status = ?2, status_details = ?3, started_at = ?4, "
    "last_updated_at = ?5, version = ?6, force_canceled = ?7, step_deadline = ?8, "
    "progress_deadline = ?9, released = ?10 WHERE id = ?1";
static const char SQL_RETRY[] =
    "INSERT INTO job_executions(job, job_id, thing_name, execution_number, status, released, "
    "queued_at, last_updated_at, version, retry_attempt) "
    "VALUES (?1, ?2, ?3, ?4, 'QUEUED', 0, ?5, ?5, 1, ?6)";
static const char SQL_LOAD_ID[] = "SELECT " FY_EXEC_COLS " FROM job_executions x WHERE x.id = ?1";
static const char SQL_CONFIG[] = "SELECT config FROM jobs WHERE id = ?1";

static double col_time(sqlite3_stmt *st, int col)
{
    return sqlite3_column_type(st, col) == SQLITE_NULL ? 0 : sqlite3_column_double(st, col);
}

fy_err fy_exec_from_row(sqlite3_stmt *st, struct fy_exec *x, struct fy_errmsg *em)
{
    memset(x, 0, sizeof(*x));
    x->id = sqlite3_column_int64(st, 0);
    x->job = sqlite3_column_int64(st, 1);
    snprintf(x->job_id, sizeof(x->job_id), "%s", fy_col_text(st, 2));
    snprintf(x->thing, sizeof(x->thing), "%s", fy_col_text(st, 3));
    x->execution_number = sqlite3_column_int64(st, 4);
    if (fy_exec_status_parse(fy_col_text(st, 5), &x->status) != 0) {
        return fy_fail(em, FY_ERR_INTERNAL, "Corrupt job execution status");
    }
    x->released = sqlite3_column_int(st, 6) != 0;
    if (sqlite3_column_type(st, 7) != SQLITE_NULL &&
        !(x->details = fy_strdup(fy_col_text(st, 7)))) {
        return fy_fail(em, FY_ERR_NOMEM, "Out of memory");
    }
    x->queued_at = col_time(st, 8);
    x->started_at = col_time(st, 9);
    x->last_updated_at = col_time(st, 10);
    x->version = sqlite3_column_int64(st, 11);
    x->retry_attempt = sqlite3_column_int64(st, 12);
    x->force_canceled = sqlite3_column_int(st, 13) != 0;
    x->step_deadline = col_time(st, 14);
    x->progress_deadline = col_time(st, 15);
    return FY_ERR_OK;
}

void fy_exec_clear(struct fy_exec *x)
{
    if (x) {
        FY_FREE(x->details);
    }
}

/* Steps st once into x; NOT_FOUND (message from the caller) when there is no row. */
static fy_err
step_one(struct fy_db *db, sqlite3_stmt *st, struct fy_exec *x, bool *found, struct fy_errmsg *em)
{
    int rc = sqlite3_step(st);
    fy_err e = FY_ERR_OK;
    *found = rc == SQLITE_ROW;
    if (rc == SQLITE_ROW) {
        e = fy_exec_from_row(st, x, em);
    } else if (rc != SQLITE_DONE) {
        e = fy_db_err(db, rc, em);
    }
    fy_stmt_done(st);
    return e;
}

fy_err fy_exec_load(struct fy_db *db,
                    const char *thing,
                    const char *job_id,
                    int64_t execution_number,
                    struct fy_exec *x,
                    struct fy_errmsg *em)
{
    bool found = false;
    sqlite3_stmt *st = fy_db_stmt(db, execution_number < 0 ? SQL_LOAD_LATEST : SQL_LOAD_NUMBER, em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    fy_bind_text(st, 1, thing);
    fy_bind_text(st, 2, job_id);
    if (execution_number >= 0) {
        sqlite3_bind_int64(st, 3, execution_number);
    }
    fy_err e = step_one(db, st, x, &found, em);
    if (!e && !found) {
        e = fy_fail(em, FY_ERR_NOT_FOUND, "Job execution %.64s on thing %.128s not found", job_id,
                    thing);
    }
    return e;
}

fy_err fy_exec_load_next(struct fy_db *db,
                         const char *thing,
                         const char *ns,
                         struct fy_exec *x,
                         bool *found,
                         struct fy_errmsg *em)
{
    sqlite3_stmt *st = fy_db_stmt(db, ns ? SQL_LOAD_NEXT_NS : SQL_LOAD_NEXT, em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    fy_bind_text(st, 1, thing);
    if (ns) {
        fy_bind_text(st, 2, ns);
    }
    return step_one(db, st, x, found, em);
}

fy_err
fy_exec_in_namespace(struct fy_db *db, int64_t job, const char *ns, bool *in, struct fy_errmsg *em)
{
    int64_t n = 0;
    fy_err e = fy_jobs_count(db, SQL_NS_OF, job, ns, &n, em);
    *in = !e && n > 0;
    return e;
}

fy_err
fy_exec_load_id(struct fy_db *db, int64_t id, struct fy_exec *x, bool *found, struct fy_errmsg *em)
{
    sqlite3_stmt *st = fy_db_stmt(db, SQL_LOAD_ID, em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    sqlite3_bind_int64(st, 1, id);
    return step_one(db, st, x, found, em);
}

static void bind_time(sqlite3_stmt *st, int idx, double t)
{
    if (t > 0) {
        sqlite3_bind_double(st, idx, t);
    } else {
        sqlite3_bind_null(st, idx);
    }
}

fy_err fy_exec_save(struct fy_db *db, const struct fy_exec *x, struct fy_errmsg *em)
{
    sqlite3_stmt *st = fy_db_stmt(db, SQL_SAVE, em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    sqlite3_bind_int64(st, 1, x->id);
    fy_bind_text(st, 2, fy_exec_status_name(x->status));
    fy_bind_text(st, 3, x->details);
    bind_time(st, 4, x->started_at);
    sqlite3_bind_double(st, 5, x->last_updated_at);
    sqlite3_bind_int64(st, 6, x->version);
    sqlite3_bind_int(st, 7, x->force_canceled);
    bind_time(st, 8, x->step_deadline);
    bind_time(st, 9, x->progress_deadline);
    sqlite3_bind_int(st, 10, x->released);
    int rc = sqlite3_step(st);
    fy_stmt_done(st);
    return rc == SQLITE_DONE ? FY_ERR_OK : fy_db_err(db, rc, em);
}

fy_err fy_exec_service_set(struct fy_db *db,
                           struct fy_exec *x,
                           enum fy_exec_status to,
                           bool force,
                           double now,
                           struct fy_errmsg *em)
{
    fy_err e = fy_exec_transition(x->status, to, FY_ACTOR_SERVICE, force, em);
    if (e) {
        return e;
    }
    x->force_canceled = to == FY_EXEC_CANCELED && x->status == FY_EXEC_IN_PROGRESS;
    x->status = to;
    x->last_updated_at = now;
    x->version++;
    x->step_deadline = x->progress_deadline = 0;
    return fy_exec_save(db, x, em);
}

fy_err
fy_exec_insert_retry(struct fy_db *db, const struct fy_exec *x, double now, struct fy_errmsg *em)
{
    sqlite3_stmt *st = fy_db_stmt(db, SQL_RETRY, em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    sqlite3_bind_int64(st, 1, x->job);
    fy_bind_text(st, 2, x->job_id);
    fy_bind_text(st, 3, x->thing);
    sqlite3_bind_int64(st, 4, x->execution_number + 1);
    sqlite3_bind_double(st, 5, now);
    sqlite3_bind_int64(st, 6, x->retry_attempt + 1);
    int rc = sqlite3_step(st);
    fy_stmt_done(st);
    return rc == SQLITE_DONE ? FY_ERR_OK : fy_db_err(db, rc, em);
}

/* Reads column 0 of the row of job into a new string (*out NULL when NULL). */
static fy_err
job_text(struct fy_db *db, const char *sql, int64_t job, char **out, struct fy_errmsg *em)
{
    sqlite3_stmt *st = fy_db_stmt(db, sql, em);
    *out = NULL;
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    sqlite3_bind_int64(st, 1, job);
    int rc = sqlite3_step(st);
    fy_err e = FY_ERR_OK;
    if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
        *out = fy_strdup(fy_col_text(st, 0));
        e = *out ? FY_ERR_OK : fy_fail(em, FY_ERR_NOMEM, "Out of memory");
    } else if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        e = fy_db_err(db, rc, em);
    }
    fy_stmt_done(st);
    return e;
}

fy_err
fy_job_load_config(struct fy_db *db, int64_t job, struct fy_job_config *c, struct fy_errmsg *em)
{
    char *text = NULL;
    fy_err e = job_text(db, SQL_CONFIG, job, &text, em);
    json_t *j = e ? NULL : fy_json_loads(text ? text : "{}", 0);
    if (!e && !j) {
        e = fy_fail(em, FY_ERR_INTERNAL, "Corrupt job configuration");
    }
    if (!e) {
        e = fy_job_config_parse(j, 0, false, c, em);
    }
    json_decref(j);
    fy_free(text);
    return e;
}

fy_err
fy_exec_after_terminal(struct fy_db *db, const struct fy_exec *x, double now, struct fy_errmsg *em)
{
    struct fy_job_config c;
    fy_err e = fy_job_load_config(db, x->job, &c, em);
    if (!e && fy_retry_allowed(&c, x->status, x->retry_attempt)) {
        e = fy_exec_insert_retry(db, x, now, em);
    }
    return e;
}

int64_t fy_exec_seconds_left(const struct fy_exec *x, double now)
{
    double d = x->step_deadline;
    if (x->progress_deadline > 0 && (d == 0 || x->progress_deadline < d)) {
        d = x->progress_deadline;
    }
    if (d == 0 || fy_exec_terminal(x->status)) {
        return -1;
    }
    return d > now ? (int64_t)(d - now) : 0;
}

json_t *fy_exec_summary_to_json(const struct fy_exec *x)
{
    json_t *j = json_pack("{s:s, s:I, s:I, s:I, s:I}", "jobId", x->job_id, "queuedAt",
                          (json_int_t)x->queued_at, "lastUpdatedAt", (json_int_t)x->last_updated_at,
                          "versionNumber", (json_int_t)x->version, "executionNumber",
                          (json_int_t)x->execution_number);
    if (j && x->started_at > 0 &&
        json_object_set_new(j, "startedAt", json_integer((json_int_t)x->started_at)) != 0) {
        json_decref(j);
        j = NULL;
    }
    return j;
}

json_t *fy_jobs_opt_json(const char *text, bool *failed)
{
    json_t *j = text ? fy_json_loads(text, 0) : NULL;
    *failed = *failed || (text && !j);
    return j;
}

json_t *fy_exec_device_to_json(const struct fy_exec *x, const char *doc, bool with_doc)
{
    bool failed = false;
    json_t *j = fy_exec_summary_to_json(x);
    json_t *j_doc = fy_jobs_opt_json(with_doc ? doc : NULL, &failed);
    json_t *j_det = fy_jobs_opt_json(x->details, &failed);
    bool ok = j != NULL && !failed;
    ok = ok && json_object_set_new(j, "thingName", json_string(x->thing)) == 0;
    ok = ok && json_object_set_new(j, "status", json_string(fy_exec_status_name(x->status))) == 0;
    if (ok && j_det) {
        ok = json_object_set_new(j, "statusDetails", j_det) == 0;
        j_det = NULL;
    }
    if (ok && j_doc) {
        ok = json_object_set_new(j, "jobDocument", j_doc) == 0;
        j_doc = NULL;
    }
    json_decref(j_det);
    json_decref(j_doc);
    if (!ok) {
        json_decref(j);
        j = NULL;
    }
    return j;
}

fy_err fy_jobs_run(
    struct fy_db *db, const char *sql, int64_t a, const char *b, double c, struct fy_errmsg *em)
{
    sqlite3_stmt *st = fy_db_stmt(db, sql, em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    int n = sqlite3_bind_parameter_count(st);
    if (n >= 1) {
        sqlite3_bind_int64(st, 1, a);
    }
    if (n >= 2) {
        fy_bind_text(st, 2, b);
    }
    if (n >= 3) {
        sqlite3_bind_double(st, 3, c);
    }
    int rc = sqlite3_step(st);
    while (rc == SQLITE_ROW) {
        rc = sqlite3_step(st);
    }
    fy_stmt_done(st);
    return rc == SQLITE_DONE ? FY_ERR_OK : fy_db_err(db, rc, em);
}

fy_err fy_jobs_count(
    struct fy_db *db, const char *sql, int64_t a, const char *b, int64_t *out, struct fy_errmsg *em)
{
    sqlite3_stmt *st = fy_db_stmt(db, sql, em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    int n = sqlite3_bind_parameter_count(st);
    if (n >= 1) {
        sqlite3_bind_int64(st, 1, a);
    }
    if (n >= 2) {
        fy_bind_text(st, 2, b);
    }
    int rc = sqlite3_step(st);
    *out = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    fy_stmt_done(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? FY_ERR_OK : fy_db_err(db, rc, em);
}

fy_err fy_jobs_page(struct fy_db *db,
                    sqlite3_stmt *st,
                    int64_t limit,
                    const struct fy_site *site,
                    fy_jobs_row_json_fn fn,
                    const char *key,
                    json_t *j_items,
                    char **next,
                    struct fy_errmsg *em)
{
    int64_t n = 0;
    int rc = SQLITE_DONE;
    fy_err e = FY_ERR_OK;
    *next = NULL;
    while (!e && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (++n > limit) {
            json_t *last = json_array_get(j_items, json_array_size(j_items) - 1);
            *next = fy_strdup(json_string_value(json_object_get(last, key)));
            e = *next ? FY_ERR_OK : fy_fail(em, FY_ERR_NOMEM, "Out of memory");
            rc = SQLITE_DONE;
            break;
        }
        if (json_array_append_new(j_items, fn(site, st)) != 0) {
            e = fy_fail(em, FY_ERR_NOMEM, "Out of memory");
        }
    }
    fy_stmt_done(st);
    return e || rc == SQLITE_DONE ? e : fy_db_err(db, rc, em);
}
