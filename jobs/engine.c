/* The rollout engine: one pass over every live job (fy_jobs_tick), each job in its own short
 * transaction. All state is in the database, so a pass after a restart picks up where the last
 * one stopped (timeouts that expired meanwhile are applied on the first pass). */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/log.h"
#include "jobs/jobs_int.h"
#include "jobs/targets.h"

#define ENGINE_JOBS_MAX 4096 /* jobs looked at in one pass */
#define ABORT_REASON    "AUTO_ABORT"
#define FY_STR_(x)      #x
#define FY_STR(x)       FY_STR_(x)

static const char SQL_LIVE[] =
    "SELECT id, job_id, status, target_selection, rollout_stopped FROM jobs WHERE status IN "
    "('IN_PROGRESS','SCHEDULED','CANCELED','DELETION_IN_PROGRESS') ORDER BY id LIMIT ?1";
static const char SQL_SET_STATUS[] =
    "UPDATE jobs SET status = ?2, last_updated_at = ?3, completed_at = CASE WHEN ?2 = "
    "'COMPLETED' THEN ?3 ELSE completed_at END WHERE id = ?1";
static const char SQL_STOP_ROLLOUT[] =
    "UPDATE jobs SET rollout_stopped = 1, last_updated_at = ?3 WHERE id = ?1";
static const char SQL_DROP_UNRELEASED[] =
    "DELETE FROM job_executions WHERE job = ?1 AND released = 0 AND status = 'QUEUED'";
static const char SQL_EXPIRED[] =
    "SELECT id FROM job_executions WHERE job = ?1 AND status = 'IN_PROGRESS' AND "
    "min(coalesce(step_deadline, 9e18), coalesce(progress_deadline, 9e18)) <= ?3 LIMIT ?2";
static const char SQL_ANY_EXPIRED[] =
    "SELECT EXISTS (SELECT 1 FROM job_executions WHERE job = ?1 AND status = 'IN_PROGRESS' AND "
    "min(coalesce(step_deadline, 9e18), coalesce(progress_deadline, 9e18)) <= ?3)";
static const char SQL_ANY_UNRELEASED[] = "SELECT EXISTS (SELECT 1 FROM job_executions WHERE "
                                         "job = ?1 AND released = 0 AND status = 'QUEUED')";
/* Late joiners of a continuous job (late = 1) are outside the rollout rate: they are not in
 * the rate's counts and are released first, within the concurrency limit only. */
/* Rollout counts, each an indexed range read (a job's size does not matter). */
static const char SQL_C_UNRELEASED[] =
    "SELECT count(*) FROM (SELECT 1 FROM job_executions WHERE job = ?1 AND status = 'QUEUED' "
    "AND released = 0 AND late = 0 LIMIT " FY_STR(FY_JOBS_RELEASE_CHUNK) ")";
static const char SQL_C_LATE[] =
    "SELECT count(*) FROM (SELECT 1 FROM job_executions WHERE job = ?1 AND status = 'QUEUED' "
    "AND released = 0 AND late = 1 LIMIT " FY_STR(FY_JOBS_RELEASE_CHUNK) ")";
static const char SQL_C_MINUTE[] =
    "SELECT count(*) FROM job_executions WHERE job = ?1 AND released_at > ?3 - 60 AND late = 0";
static const char SQL_C_IN_FLIGHT[] =
    "SELECT count(*) FROM job_executions WHERE job = ?1 AND status IN ('QUEUED','IN_PROGRESS') "
    "AND released = 1";
static const char SQL_C_NOTIFIED[] = "SELECT count(*) FROM job_executions WHERE job = ?1 AND "
                                     "released_at IS NOT NULL AND late = 0";
static const char SQL_C_SUCCEEDED[] =
    "SELECT count(*) FROM job_executions WHERE job = ?1 AND status = 'SUCCEEDED'";
static const char SQL_C_PENDING[] = "SELECT EXISTS (SELECT 1 FROM job_executions WHERE job = ?1 "
                                    "AND status IN ('QUEUED','IN_PROGRESS'))";
/* Changes whenever a membership or a thing comes or goes: continuous targets are re-synced
 * only then. */
static const char SQL_MEMBERSHIP_SIG[] =
    "SELECT (SELECT count(*) FROM thing_group_members) || ':' || "
    "(SELECT total(added) FROM thing_group_members) || ':' || (SELECT count(*) FROM things) || "
    "':' || (SELECT total(creation_date) FROM things)";
static const char SQL_GET_SIG[] = "SELECT value FROM settings WHERE key = 'jobs.sync_sig'";
static const char SQL_PUT_SIG[] = "INSERT INTO settings(key, value) VALUES ('jobs.sync_sig', ?2) "
                                  "ON CONFLICT(key) DO UPDATE SET value = excluded.value";
/* Abort rules look at each thing's latest attempt (a failure being retried is not final). */
static const char SQL_ABORT_COUNTS[] =
    "SELECT coalesce(sum(status IN ('SUCCEEDED','FAILED','REJECTED','TIMED_OUT')), 0), "
    "coalesce(sum(status = 'FAILED'), 0), coalesce(sum(status = 'REJECTED'), 0), "
    "coalesce(sum(status = 'TIMED_OUT'), 0) FROM job_executions x WHERE x.job = ?1 AND "
    "NOT EXISTS (SELECT 1 FROM job_executions y WHERE y.job = x.job AND "
    "y.thing_name = x.thing_name AND y.execution_number > x.execution_number)";
static const char SQL_UNRELEASED[] =
    "SELECT id FROM job_executions WHERE job = ?1 AND released = 0 AND status = 'QUEUED' "
    "AND late = 0 ORDER BY id LIMIT ?2";
static const char SQL_LATE_UNRELEASED[] =
    "SELECT id FROM job_executions WHERE job = ?1 AND released = 0 AND status = 'QUEUED' "
    "AND late = 1 ORDER BY id LIMIT ?2";
static const char SQL_JOB_SIZE[] =
    "SELECT count(*) FROM (SELECT 1 FROM job_executions WHERE job = ?1 LIMIT " FY_STR(
        FY_JOBS_ABORT_INLINE_MAX) " + 1)";
static const char SQL_RELEASE[] =
    "UPDATE job_executions SET released = 1, released_at = ?3 WHERE id = ?1";
static const char SQL_PURGE[] =
    "DELETE FROM job_executions WHERE id IN (SELECT id FROM job_executions WHERE job = ?1 "
    "LIMIT " FY_STR(FY_JOBS_PURGE_CHUNK) ")";
static const char SQL_ONE_JOB[] =
    "SELECT id, job_id, status, target_selection, rollout_stopped FROM jobs WHERE id = ?1";
static const char SQL_DROP_JOB[] = "DELETE FROM jobs WHERE id = ?1";
static const char SQL_DROP_CURSOR[] = "DELETE FROM settings WHERE key = 'jobs.materialize.' || ?1";

struct live_job {
    int64_t id;
    char job_id[FY_JOB_ID_MAX + 1];
    char status[24];
    char selection[16];
    bool stopped;
};

/* Everything one job's pass needs. */
struct pass {
    const struct live_job *job;
    struct fy_job_config cfg;
    double now;
    bool sync; /* memberships or things changed since the last complete pass */
    struct fy_jobs_changed *changed;
};

struct counts {
    struct fy_rollout_counts roll;
    struct fy_abort_counts abort;
    int64_t pending; /* QUEUED or IN_PROGRESS, released or not */
};

/* Runs sql (?1 job, ?3 now when present) and reads its one row of n integers into v. */
static fy_err row_of(struct fy_db *db,
                     const char *sql,
                     const struct pass *p,
                     int64_t *v,
                     int n,
                     struct fy_errmsg *em)
{
    sqlite3_stmt *st = fy_db_stmt(db, sql, em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    sqlite3_bind_int64(st, 1, p->job->id);
    if (sqlite3_bind_parameter_count(st) >= 3) {
        sqlite3_bind_double(st, 3, p->now);
    }
    int rc = sqlite3_step(st);
    for (int i = 0; i < n; i++) {
        v[i] = rc == SQLITE_ROW ? sqlite3_column_int64(st, i) : 0;
    }
    fy_stmt_done(st);
    return rc == SQLITE_ROW ? FY_ERR_OK : fy_db_err(db, rc, em);
}

static fy_err
count_of(struct fy_db *db, const char *sql, const struct pass *p, int64_t *v, struct fy_errmsg *em)
{
    return row_of(db, sql, p, v, 1, em);
}

/* Reads the counts the job's configuration needs (the costlier ones only when used). */
static fy_err
load_counts(struct fy_db *db, const struct pass *p, struct counts *c, struct fy_errmsg *em)
{
    int64_t a[4] = {0, 0, 0, 0};
    memset(c, 0, sizeof(*c));
    fy_err e = count_of(db, SQL_C_UNRELEASED, p, &c->roll.unreleased, em);
    if (!e && strcmp(p->job->selection, "CONTINUOUS") == 0) { /* only they have late joiners */
        e = count_of(db, SQL_C_LATE, p, &c->roll.late_unreleased, em);
    }
    if (!e && (p->cfg.max_per_minute > 0 || p->cfg.base_rate > 0)) { /* a rate reads it */
        e = count_of(db, SQL_C_MINUTE, p, &c->roll.last_minute, em);
    }
    if (!e) {
        e = count_of(db, SQL_C_IN_FLIGHT, p, &c->roll.in_flight, em);
    }
    if (!e && p->cfg.notified_step > 0) {
        e = count_of(db, SQL_C_NOTIFIED, p, &c->roll.notified, em);
    }
    if (!e && p->cfg.succeeded_step > 0) {
        e = count_of(db, SQL_C_SUCCEEDED, p, &c->roll.succeeded, em);
    }
    if (!e) {
        e = count_of(db, SQL_C_PENDING, p, &c->pending, em);
    }
    if (!e && p->cfg.nabort > 0) {
        e = row_of(db, SQL_ABORT_COUNTS, p, a, 4, em);
    }
    c->abort = (struct fy_abort_counts){a[0], a[1], a[2], a[3]};
    return e;
}

/* Ids selected by sql (?1 job, ?2 limit, ?3 now) into ids[0..*n). */
static fy_err select_ids(struct fy_db *db,
                         const char *sql,
                         const struct pass *p,
                         int64_t limit,
                         int64_t *ids,
                         size_t *n,
                         struct fy_errmsg *em)
{
    sqlite3_stmt *st = fy_db_stmt(db, sql, em);
    int rc = SQLITE_DONE;
    *n = 0;
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    sqlite3_bind_int64(st, 1, p->job->id);
    sqlite3_bind_int64(st, 2, limit);
    if (sqlite3_bind_parameter_count(st) >= 3) {
        sqlite3_bind_double(st, 3, p->now);
    }
    while ((int64_t)*n < limit && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        ids[(*n)++] = sqlite3_column_int64(st, 0);
    }
    fy_stmt_done(st);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? FY_ERR_OK : fy_db_err(db, rc, em);
}

static fy_err time_out_one(struct fy_db *db, const struct pass *p, int64_t id, struct fy_errmsg *em)
{
    struct fy_exec x;
    bool found = false;
    fy_err e = fy_exec_load_id(db, id, &x, &found, em);
    if (!found) {
        return e;
    }
    e = fy_jobs_touch(db, p->changed, x.thing, true, em);
    if (!e) {
        e = fy_exec_service_set(db, &x, FY_EXEC_TIMED_OUT, false, p->now, em);
    }
    if (!e) {
        e = fy_exec_after_terminal(db, &x, p->now, em);
    }
    fy_exec_clear(&x);
    return e;
}

static fy_err release_one(struct fy_db *db, const struct pass *p, int64_t id, struct fy_errmsg *em)
{
    struct fy_exec x;
    bool found = false;
    fy_err e = fy_exec_load_id(db, id, &x, &found, em);
    if (!found) {
        return e;
    }
    e = fy_jobs_touch(db, p->changed, x.thing, true, em);
    if (!e) {
        e = fy_jobs_run(db, SQL_RELEASE, id, NULL, p->now, em);
    }
    fy_exec_clear(&x);
    return e;
}

/* Applies fn to each id selected by sql, at most limit of them. */
static fy_err
each_id(struct fy_db *db,
        const char *sql,
        const struct pass *p,
        int64_t limit,
        fy_err (*fn)(struct fy_db *, const struct pass *, int64_t, struct fy_errmsg *),
        struct fy_errmsg *em)
{
    size_t n = 0;
    if (limit <= 0) {
        return FY_ERR_OK;
    }
    int64_t *ids = fy_calloc((size_t)limit, sizeof(*ids));
    fy_err e = ids ? select_ids(db, sql, p, limit, ids, &n, em)
                   : fy_fail(em, FY_ERR_NOMEM, "Out of memory");
    for (size_t i = 0; !e && i < n; i++) {
        e = fn(db, p, ids[i], em);
    }
    fy_free(ids);
    return e;
}

/* Releases what the limits allow, at most max: late joiners of a continuous job first (outside
 * the rate, within the concurrency limit), then the initial targets within both. */
static fy_err release_wave(struct fy_db *db,
                           const struct pass *p,
                           struct fy_rollout_counts *n,
                           int64_t max,
                           int64_t *wanted,
                           struct fy_errmsg *em)
{
    int64_t late = p->job->stopped ? 0 : fy_rollout_late_quota(&p->cfg, n);
    late = late < max ? late : max;
    fy_err e = each_id(db, SQL_LATE_UNRELEASED, p, late, release_one, em);
    n->in_flight += late;
    int64_t quota = p->job->stopped ? 0 : fy_rollout_quota(&p->cfg, n);
    quota = quota < max - late ? quota : max - late;
    if (wanted) {
        *wanted = late + quota;
    }
    return e ? e : each_id(db, SQL_UNRELEASED, p, quota, release_one, em);
}

/* schedulingConfig endTime reached: STOP_ROLLOUT, CANCEL or FORCE_CANCEL. */
static fy_err end_schedule(struct fy_db *db, const struct pass *p, bool *done, struct fy_errmsg *em)
{
    const char *b = p->cfg.end_behavior;
    *done = false;
    if (p->cfg.end_time <= 0 || p->now < p->cfg.end_time || p->job->stopped) {
        return FY_ERR_OK;
    }
    if (strcmp(b, "CANCEL") == 0 || strcmp(b, "FORCE_CANCEL") == 0) {
        *done = true;
        return fy_job_cancel_locked(db, p->job->id, b[0] == 'F', NULL, NULL, p->now, p->changed,
                                    em);
    }
    fy_err e = fy_jobs_run(db, SQL_STOP_ROLLOUT, p->job->id, NULL, p->now, em);
    return e ? e : fy_jobs_run(db, SQL_DROP_UNRELEASED, p->job->id, NULL, p->now, em);
}

/* Abort rules, rollout and completion of an IN_PROGRESS job. */
static fy_err progress(struct fy_db *db, const struct pass *p, struct fy_errmsg *em)
{
    struct counts c;
    fy_err e = load_counts(db, p, &c, em);
    if (!e && fy_abort_check(&p->cfg, &c.abort) >= 0) {
        fy_log(FY_LOG_INFO, "jobs", "job %s: abort threshold reached, canceling", p->job->job_id);
        return fy_job_cancel_locked(db, p->job->id, false, ABORT_REASON,
                                    "Job canceled by its abortConfig", p->now, p->changed, em);
    }
    if (!e) {
        e = release_wave(db, p, &c.roll, FY_JOBS_RELEASE_CHUNK, NULL, em);
    }
    if (!e && c.pending == 0 && strcmp(p->job->selection, "SNAPSHOT") == 0) {
        e = fy_jobs_run(db, SQL_SET_STATUS, p->job->id, "COMPLETED", p->now, em);
    }
    return e;
}

static fy_err active_job(struct fy_db *db, const struct pass *p, struct fy_errmsg *em)
{
    bool canceled = false;
    bool running = strcmp(p->job->status, "IN_PROGRESS") == 0;
    fy_err e = running ? end_schedule(db, p, &canceled, em) : FY_ERR_OK;
    if (!e && !canceled && p->sync) {
        e = fy_jobs_sync_targets(db, p->job->id, p->job->selection, p->now, p->changed, em);
    }
    if (!e) {
        e = each_id(db, SQL_EXPIRED, p, FY_JOBS_RELEASE_CHUNK, time_out_one, em);
    }
    if (!e && running && !canceled) {
        e = progress(db, p, em);
    }
    if (!e && strcmp(p->job->status, "CANCELED") == 0) {
        e = fy_jobs_cancel_unreleased(db, p->job->id, p->now, em); /* the rest of a large job */
    }
    return e;
}

static fy_err job_pass(struct fy_db *db, struct pass *p, struct fy_errmsg *em)
{
    const char *status = p->job->status;
    fy_err e = FY_ERR_OK;
    if (strcmp(status, "DELETION_IN_PROGRESS") == 0) {
        int64_t left = 0;
        e = fy_jobs_run(db, SQL_PURGE, p->job->id, NULL, 0, em);
        if (!e) {
            e = fy_jobs_count(db, "SELECT count(*) FROM job_executions WHERE job = ?1", p->job->id,
                              NULL, &left, em);
        }
        if (!e && left == 0) {
            e = fy_jobs_run(db, SQL_DROP_CURSOR, p->job->id, NULL, 0, em);
        }
        return e || left ? e : fy_jobs_run(db, SQL_DROP_JOB, p->job->id, NULL, 0, em);
    }
    e = fy_job_load_config(db, p->job->id, &p->cfg, em);
    if (!e && strcmp(status, "SCHEDULED") == 0) {
        if (p->cfg.start_time > p->now) {
            return FY_ERR_OK;
        }
        return fy_jobs_run(db, SQL_SET_STATUS, p->job->id, "IN_PROGRESS", p->now, em);
    }
    if (!e) {
        e = active_job(db, p, em);
    }
    return e ? e : fy_jobs_touch_finish(db, p->changed, em);
}

static fy_err job_tx_locked(struct fy_db *db, struct pass *p, struct fy_errmsg *em);

/* Whether an IN_PROGRESS or CANCELED job has anything to do this pass, read without a write
 * lock (the pass itself checks everything again): most passes of a busy rollout find the
 * concurrency limit reached and nothing expired, and then take no write lock at all, so the
 * broker's own transactions never wait for them. */
static fy_err needs_pass(struct fy_db *db, struct pass *p, bool *work, struct fy_errmsg *em)
{
    struct counts c;
    int64_t expired = 0, unreleased = 0;
    bool running = strcmp(p->job->status, "IN_PROGRESS") == 0;
    fy_err e = fy_job_load_config(db, p->job->id, &p->cfg, em);
    *work = p->sync || (running && p->cfg.end_time > 0 && p->now >= p->cfg.end_time);
    if (!e && !*work) {
        e = count_of(db, SQL_ANY_EXPIRED, p, &expired, em);
    }
    if (!e && !*work && !running) {
        e = count_of(db, SQL_ANY_UNRELEASED, p, &unreleased, em);
    }
    *work = *work || expired || unreleased;
    if (!e && !*work && running) {
        e = load_counts(db, p, &c, em);
        *work = !e && (fy_abort_check(&p->cfg, &c.abort) >= 0 ||
                       (!p->job->stopped && (fy_rollout_quota(&p->cfg, &c.roll) > 0 ||
                                             fy_rollout_late_quota(&p->cfg, &c.roll) > 0)) ||
                       (c.pending == 0 && strcmp(p->job->selection, "SNAPSHOT") == 0));
    }
    return e;
}

static fy_err job_tx(struct fy_db *db, struct pass *p, struct fy_errmsg *em)
{
    bool work = true;
    bool active =
        strcmp(p->job->status, "IN_PROGRESS") == 0 || strcmp(p->job->status, "CANCELED") == 0;
    fy_err e = active ? needs_pass(db, p, &work, em) : FY_ERR_OK;
    if (e || !work) {
        return e;
    }
    return job_tx_locked(db, p, em);
}

static fy_err job_tx_locked(struct fy_db *db, struct pass *p, struct fy_errmsg *em)
{
    FY_DB_RETURN_IN_TX(db, em, job_pass(db, p, em));
}

/* A live_job from a row of SQL_LIVE / SQL_ONE_JOB. */
static void read_live(sqlite3_stmt *st, struct live_job *j)
{
    j->id = sqlite3_column_int64(st, 0);
    snprintf(j->job_id, sizeof(j->job_id), "%s", fy_col_text(st, 1));
    snprintf(j->status, sizeof(j->status), "%s", fy_col_text(st, 2));
    snprintf(j->selection, sizeof(j->selection), "%s", fy_col_text(st, 3));
    j->stopped = sqlite3_column_int(st, 4) != 0;
}

static fy_err live_jobs(struct fy_db *db, struct live_job *jobs, size_t *n, struct fy_errmsg *em)
{
    sqlite3_stmt *st = fy_db_stmt(db, SQL_LIVE, em);
    int rc = SQLITE_DONE;
    *n = 0;
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    sqlite3_bind_int(st, 1, ENGINE_JOBS_MAX);
    while (*n < ENGINE_JOBS_MAX && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        read_live(st, &jobs[(*n)++]);
    }
    fy_stmt_done(st);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? FY_ERR_OK : fy_db_err(db, rc, em);
}

/* Creates executions still owed to targeted things, outside the job's transaction: resumes an
 * interrupted creation, and re-walks a live continuous job's targets when memberships changed. */
static fy_err
materialize(struct fy_db *db, const struct live_job *j, bool sync, double now, struct fy_errmsg *em)
{
    bool live = strcmp(j->status, "IN_PROGRESS") == 0 || strcmp(j->status, "SCHEDULED") == 0;
    bool continuous = strcmp(j->selection, "CONTINUOUS") == 0;
    if (!live) {
        return FY_ERR_OK;
    }
    return fy_jobs_materialize(db, j->id, j->job_id, sync && continuous, now, em);
}

/* The membership signature now (*now_sig) and as of the last complete pass (*last_sig), both
 * owned strings; a NULL last_sig means never. */
static fy_err signatures(struct fy_db *db, char **now_sig, char **last_sig, struct fy_errmsg *em)
{
    const char *sqls[2] = {SQL_MEMBERSHIP_SIG, SQL_GET_SIG};
    char **outs[2] = {now_sig, last_sig};
    *now_sig = *last_sig = NULL;
    for (int i = 0; i < 2; i++) {
        sqlite3_stmt *st = fy_db_stmt(db, sqls[i], em);
        if (!st) {
            return FY_ERR_INTERNAL;
        }
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            *outs[i] = fy_strdup(fy_col_text(st, 0));
        }
        fy_stmt_done(st);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
            return fy_db_err(db, rc, em);
        }
        if (rc == SQLITE_ROW && !*outs[i]) {
            return fy_fail(em, FY_ERR_NOMEM, "Out of memory");
        }
    }
    return FY_ERR_OK;
}

fy_err
fy_jobs_tick(struct fy_db *db, double now, struct fy_jobs_changed *changed, struct fy_errmsg *em)
{
    size_t n = 0;
    char *sig = NULL, *last = NULL;
    struct live_job *jobs = fy_calloc(ENGINE_JOBS_MAX, sizeof(*jobs));
    fy_err e = jobs ? live_jobs(db, jobs, &n, em) : fy_fail(em, FY_ERR_NOMEM, "Out of memory");
    if (!e && n > 0) { /* with no live job, no pass needs it: skip its scan of the things */
        e = signatures(db, &sig, &last, em);
    }
    bool sync = !last || !sig || strcmp(sig, last) != 0;
    fy_err first = e;
    for (size_t i = 0; !e && i < n; i++) {
        struct pass p;
        memset(&p, 0, sizeof(p));
        p.job = &jobs[i];
        p.now = now;
        p.sync = sync;
        p.changed = changed;
        fy_err je = materialize(db, &jobs[i], sync, now, em);
        if (!je) {
            je = job_tx(db, &p, em);
        }
        if (je) {
            fy_log(FY_LOG_WARN, "jobs", "job %s: engine pass failed: %s", jobs[i].job_id, em->msg);
            first = first ? first : je;
        }
    }
    if (!first && sync && sig) {
        first = fy_jobs_run(db, SQL_PUT_SIG, 0, sig, 0, em); /* autocommit */
    }
    fy_free(sig);
    fy_free(last);
    fy_free(jobs);
    return first;
}

/* Loads job's live row into *j; *ok false when the job is not IN_PROGRESS or its rollout
 * stopped. */
static fy_err
load_running(struct fy_db *db, int64_t job, struct live_job *j, bool *ok, struct fy_errmsg *em)
{
    sqlite3_stmt *st = fy_db_stmt(db, SQL_ONE_JOB, em);
    *ok = false;
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    sqlite3_bind_int64(st, 1, job);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        read_live(st, j);
        *ok = strcmp(j->status, "IN_PROGRESS") == 0 && !j->stopped;
    }
    fy_stmt_done(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? FY_ERR_OK : fy_db_err(db, rc, em);
}

/* Abort rules at a device's update, for jobs small enough that counting is cheap (larger ones
 * are left to the engine's next pass, at most FY_SCHEDULER_PERIOD_MS later). *aborted tells
 * whether the job was canceled. */
static fy_err abort_inline(
    struct fy_db *db, const struct pass *p, struct counts *c, bool *aborted, struct fy_errmsg *em)
{
    int64_t size = 0, a[4] = {0, 0, 0, 0};
    *aborted = false;
    fy_err e = p->cfg.nabort > 0 ? count_of(db, SQL_JOB_SIZE, p, &size, em) : FY_ERR_OK;
    if (e || p->cfg.nabort == 0 || size > FY_JOBS_ABORT_INLINE_MAX) {
        return e;
    }
    e = row_of(db, SQL_ABORT_COUNTS, p, a, 4, em);
    c->abort = (struct fy_abort_counts){a[0], a[1], a[2], a[3]};
    if (e || fy_abort_check(&p->cfg, &c->abort) < 0) {
        return e;
    }
    *aborted = true;
    fy_log(FY_LOG_INFO, "jobs", "job %s: abort threshold reached, canceling", p->job->job_id);
    return fy_job_cancel_locked(db, p->job->id, false, ABORT_REASON,
                                "Job canceled by its abortConfig", p->now, p->changed, em);
}

/* Shared by fy_jobs_release_now (max 16, abort rules checked) and fy_jobs_release_first. */
static fy_err release_some(struct fy_db *db,
                           int64_t job,
                           double now,
                           int64_t max,
                           bool check_abort,
                           int64_t *wanted,
                           struct fy_jobs_changed *changed,
                           struct fy_errmsg *em)
{
    struct live_job j;
    struct pass p;
    struct counts c;
    bool ok = false, aborted = false;
    fy_err e = load_running(db, job, &j, &ok, em);
    if (e || !ok) {
        return e;
    }
    memset(&p, 0, sizeof(p));
    p.job = &j;
    p.now = now;
    p.changed = changed;
    e = fy_job_load_config(db, job, &p.cfg, em);
    int nabort = p.cfg.nabort;
    p.cfg.nabort = 0; /* counted by abort_inline only when the job is small */
    if (!e) {
        e = load_counts(db, &p, &c, em);
    }
    p.cfg.nabort = check_abort ? nabort : 0;
    if (!e) {
        e = abort_inline(db, &p, &c, &aborted, em);
    }
    if (!e && !aborted) {
        e = release_wave(db, &p, &c.roll, max, wanted, em);
    }
    if (!e && !aborted && c.pending == 0 && strcmp(j.selection, "SNAPSHOT") == 0) {
        e = fy_jobs_run(db, SQL_SET_STATUS, job, "COMPLETED", now, em); /* the last one finished */
    }
    return e;
}

fy_err fy_jobs_release_now(struct fy_db *db,
                           int64_t job,
                           double now,
                           struct fy_jobs_changed *changed,
                           struct fy_errmsg *em)
{
    return release_some(db, job, now, 16, true, NULL, changed, em);
}

fy_err fy_jobs_release_first(struct fy_db *db,
                             int64_t job,
                             double now,
                             int64_t max,
                             int64_t *wanted,
                             struct fy_jobs_changed *changed,
                             struct fy_errmsg *em)
{
    *wanted = 0;
    return release_some(db, job, now, max, false, wanted, changed, em);
}
