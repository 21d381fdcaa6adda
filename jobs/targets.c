/* Job targets: ARN checks, storage, and the one place that turns targets into executions.
 *
 * Target resolution is fy_jobs_sync_targets() over the job_targets rows: a thing target is the
 * thing; a group target is every member of the group and of its descendants, read from
 * thing_group_members, which holds static members and the members index/ computes for dynamic
 * groups, so dynamic groups need nothing more here. */
#include "jobs/targets.h"

#define FY_STR_(x) #x
#define FY_STR(x)  FY_STR_(x)

#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "jobs/jobs_int.h"

static const char SQL_THING_EXISTS[] = "SELECT count(*) FROM things WHERE name = ?2";
static const char SQL_GROUP_EXISTS[] = "SELECT count(*) FROM thing_groups WHERE name = ?2";
static const char SQL_ADD_TARGET[] = "INSERT OR IGNORE INTO job_targets(job, kind, name) "
                                     "VALUES (?1, ?2, ?3)";

/* Targeted things among things.id in (?4, ?4 + FY_JOBS_WINDOW] without a live execution get a
 * QUEUED, unreleased one. */
static const char SQL_MATERIALIZE[] =
    "INSERT INTO job_executions(job, job_id, thing_name, execution_number, status, released, "
    "queued_at, last_updated_at, version, late) WITH RECURSIVE tg(id) AS (SELECT g.id FROM "
    "job_targets jt JOIN thing_groups g ON g.name = jt.name WHERE jt.job = ?1 AND "
    "jt.kind = 'group' UNION SELECT c.id FROM thing_groups c JOIN tg ON c.parent = tg.id) "
    "SELECT ?1, ?2, t.name, 1 + coalesce((SELECT max(execution_number) FROM job_executions x "
    "WHERE x.job = ?1 AND x.thing_name = t.name), 0), 'QUEUED', 0, ?3, ?3, 1, ?5 FROM things t "
    "WHERE t.id > ?4 AND t.id <= ?4 + " FY_STR(
        FY_JOBS_WINDOW) " AND (EXISTS (SELECT 1 FROM "
                        "thing_group_members m WHERE m.thing = t.id AND m.grp IN tg) OR EXISTS "
                        "(SELECT 1 FROM "
                        "job_targets jt WHERE jt.job = ?1 AND jt.kind = 'thing' AND jt.name = "
                        "t.name)) AND NOT "
                        "EXISTS (SELECT 1 FROM job_executions x WHERE x.job = ?1 AND x.thing_name "
                        "= t.name AND "
                        "x.status != 'REMOVED') ORDER BY t.id";
static const char SQL_MAX_THING[] = "SELECT coalesce(max(id), 0) FROM things";
static const char SQL_GET_CURSOR[] = "SELECT value FROM settings WHERE key = ?2";
static const char SQL_PUT_CURSOR[] = "INSERT INTO settings(key, value) VALUES (?2, ?1) "
                                     "ON CONFLICT(key) DO UPDATE SET value = excluded.value";
static const char SQL_DROP_CURSOR[] = "DELETE FROM settings WHERE key = ?2";
/* Pending executions of things that are gone, or (continuous) no longer targeted: per row index
 * probes, so the cost follows the number of pending executions, not the size of the targets. */
static const char SQL_LEAVERS[] =
    "WITH RECURSIVE tg(id) AS (SELECT g.id FROM job_targets jt JOIN thing_groups g ON "
    "g.name = jt.name WHERE jt.job = ?1 AND jt.kind = 'group' UNION SELECT c.id FROM "
    "thing_groups c JOIN tg ON c.parent = tg.id) "
    "SELECT x.id FROM job_executions x WHERE x.job = ?1 AND x.status IN ('QUEUED','IN_PROGRESS') "
    "AND (NOT EXISTS (SELECT 1 FROM things t WHERE t.name = x.thing_name) OR (?2 = 'CONTINUOUS' "
    "AND NOT EXISTS (SELECT 1 FROM things t JOIN thing_group_members m ON m.thing = t.id WHERE "
    "t.name = x.thing_name AND m.grp IN tg) AND NOT EXISTS (SELECT 1 FROM job_targets jt WHERE "
    "jt.job = ?1 AND jt.kind = 'thing' AND jt.name = x.thing_name))) LIMIT 1000";

fy_err fy_jobs_check_target(struct fy_db *db,
                            const struct fy_site *site,
                            const char *arn,
                            struct fy_job_target *out,
                            struct fy_errmsg *em)
{
    struct fy_arn a;
    int64_t n = 0;
    if (!arn || fy_arn_parse(arn, &a, em) != FY_ERR_OK || strcmp(a.service, "iot") != 0 ||
        (strcmp(a.type, "thing") != 0 && strcmp(a.type, "thinggroup") != 0) ||
        !fy_valid_thing_name(a.resource)) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST, "Invalid target ARN: %.256s", arn ? arn : "");
    }
    bool thing = strcmp(a.type, "thing") == 0;
    fy_err e = FY_ERR_OK;
    if (strcmp(a.region, site->region) == 0 && strcmp(a.account, site->account) == 0) {
        e = fy_jobs_count(db, thing ? SQL_THING_EXISTS : SQL_GROUP_EXISTS, 0, a.resource, &n, em);
    }
    if (!e && n == 0) {
        e = fy_fail(em, FY_ERR_NOT_FOUND, "%s %.128s does not exist",
                    thing ? "Thing" : "Thing group", a.resource);
    }
    out->group = !thing;
    snprintf(out->name, sizeof(out->name), "%s", a.resource);
    return e;
}

fy_err fy_jobs_add_target(struct fy_db *db,
                          int64_t job,
                          const struct fy_job_target *t,
                          struct fy_errmsg *em)
{
    sqlite3_stmt *st = fy_db_stmt(db, SQL_ADD_TARGET, em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    sqlite3_bind_int64(st, 1, job);
    fy_bind_text(st, 2, t->group ? "group" : "thing");
    fy_bind_text(st, 3, t->name);
    int rc = sqlite3_step(st);
    fy_stmt_done(st);
    return rc == SQLITE_DONE ? FY_ERR_OK : fy_db_err(db, rc, em);
}

/* Collects up to 1000 ids of executions that must become REMOVED. */
static fy_err leavers(struct fy_db *db,
                      int64_t job,
                      const char *selection,
                      int64_t *ids,
                      size_t *n,
                      struct fy_errmsg *em)
{
    sqlite3_stmt *st = fy_db_stmt(db, SQL_LEAVERS, em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    sqlite3_bind_int64(st, 1, job);
    fy_bind_text(st, 2, selection);
    int rc;
    *n = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && *n < 1000) {
        ids[(*n)++] = sqlite3_column_int64(st, 0);
    }
    fy_stmt_done(st);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? FY_ERR_OK : fy_db_err(db, rc, em);
}

static fy_err remove_one(
    struct fy_db *db, int64_t id, double now, struct fy_jobs_changed *changed, struct fy_errmsg *em)
{
    struct fy_exec x;
    bool found = false;
    fy_err e = fy_exec_load_id(db, id, &x, &found, em);
    if (!e && found && x.released) {
        e = fy_jobs_touch(db, changed, x.thing, true, em);
    }
    if (!e && found) {
        e = fy_exec_service_set(db, &x, FY_EXEC_REMOVED, true, now, em);
    }
    if (found) {
        fy_exec_clear(&x);
    }
    return e;
}

fy_err fy_jobs_sync_targets(struct fy_db *db,
                            int64_t job,
                            const char *selection,
                            double now,
                            struct fy_jobs_changed *changed,
                            struct fy_errmsg *em)
{
    int64_t *ids = fy_calloc(1000, sizeof(*ids));
    size_t n = 0;
    fy_err e =
        ids ? leavers(db, job, selection, ids, &n, em) : fy_fail(em, FY_ERR_NOMEM, "Out of memory");
    for (size_t i = 0; !e && i < n; i++) {
        e = remove_one(db, ids[i], now, changed, em);
    }
    fy_free(ids);
    return e;
}

/* ---- materialization in windows of things.id, each its own transaction ---- */

static void cursor_key(int64_t job, char key[48])
{
    snprintf(key, 48, "jobs.materialize.%lld", (long long)job);
}

fy_err fy_jobs_materialize_begin(struct fy_db *db, int64_t job, struct fy_errmsg *em)
{
    char key[48];
    cursor_key(job, key);
    return fy_jobs_run(db, SQL_PUT_CURSOR, 0, key, 0, em);
}

struct window {
    int64_t job;
    const char *job_id;
    double now;
    int64_t from;
    bool done;
    bool late; /* a continuous re-sync: the new executions are late joiners */
};

static fy_err window_locked(struct fy_db *db, struct window *w, struct fy_errmsg *em)
{
    char key[48];
    int64_t max_id = 0;
    sqlite3_stmt *st = fy_db_stmt(db, SQL_MATERIALIZE, em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    sqlite3_bind_int64(st, 1, w->job);
    fy_bind_text(st, 2, w->job_id);
    sqlite3_bind_double(st, 3, w->now);
    sqlite3_bind_int64(st, 4, w->from);
    sqlite3_bind_int(st, 5, w->late);
    int rc = sqlite3_step(st);
    fy_stmt_done(st);
    fy_err e = rc == SQLITE_DONE ? FY_ERR_OK : fy_db_err(db, rc, em);
    if (!e) {
        e = fy_jobs_count(db, SQL_MAX_THING, 0, NULL, &max_id, em);
    }
    cursor_key(w->job, key);
    w->from += FY_JOBS_WINDOW;
    w->done = w->from >= max_id;
    if (e || w->late) { /* a re-sync keeps no cursor: the next one starts over */
        return e;
    }
    if (w->done) {
        return fy_jobs_run(db, SQL_DROP_CURSOR, 0, key, 0, em);
    }
    return fy_jobs_run(db, SQL_PUT_CURSOR, w->from, key, 0, em);
}

static fy_err window_tx(struct fy_db *db, struct window *w, struct fy_errmsg *em)
{
    FY_DB_RETURN_IN_TX(db, em, window_locked(db, w, em));
}

/* The stored cursor of job: *from gets it, *found whether materialization is pending. */
static fy_err
get_cursor(struct fy_db *db, int64_t job, int64_t *from, bool *found, struct fy_errmsg *em)
{
    char key[48];
    cursor_key(job, key);
    sqlite3_stmt *st = fy_db_stmt(db, SQL_GET_CURSOR, em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    fy_bind_text(st, 2, key);
    int rc = sqlite3_step(st);
    *found = rc == SQLITE_ROW;
    *from = *found ? sqlite3_column_int64(st, 0) : 0;
    fy_stmt_done(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? FY_ERR_OK : fy_db_err(db, rc, em);
}

fy_err fy_jobs_materialize(struct fy_db *db,
                           int64_t job,
                           const char *job_id,
                           bool restart,
                           double now,
                           struct fy_errmsg *em)
{
    struct window w = {job, job_id, now, 0, false, false};
    bool pending = false;
    fy_err e = get_cursor(db, job, &w.from, &pending, em);
    while (!e && pending && !w.done) { /* the creation's own executions first */
        e = window_tx(db, &w, em);
    }
    if (!e && restart) { /* then a full pass: whoever is new now joined later */
        struct window again = {job, job_id, now, 0, false, true};
        while (!e && !again.done) {
            e = window_tx(db, &again, em);
        }
    }
    return e;
}
