/* fy_index_tick: keeps dynamic thing groups current. Each batch moves up to TICK_BATCH names
 * from index_dirty into a per-connection temp table and, for every dynamic group, removes the
 * batch's things its query no longer matches and adds those it now matches, in one write
 * transaction. Groups whose status is not ACTIVE are rebuilt from scratch. */
#include <string.h>

#include "core/alloc.h"
#include "core/fytime.h"
#include "index/index_int.h"

#define TICK_BATCH   1000 /* dirty things re-evaluated per transaction */
#define TICK_BATCHES 20   /* transactions per tick at most */

static const char SQL_ANY_DIRTY[] = "SELECT EXISTS (SELECT 1 FROM index_dirty)";
static const char SQL_BATCH_TABLE[] =
    "CREATE TEMP TABLE IF NOT EXISTS index_batch (name TEXT PRIMARY KEY) WITHOUT ROWID";
static const char SQL_BATCH_CLEAR[] = "DELETE FROM temp.index_batch";
static const char SQL_BATCH_FILL[] =
    "INSERT INTO temp.index_batch SELECT thing_name FROM index_dirty LIMIT ?";
static const char SQL_BATCH_TAKE[] =
    "DELETE FROM index_dirty WHERE thing_name IN (SELECT name FROM temp.index_batch)";
static const char SQL_BATCH_SIZE[] = "SELECT count(*) FROM temp.index_batch";
static const char SQL_GROUPS[] =
    "SELECT id, query_string FROM thing_groups WHERE dynamic = 1 ORDER BY id";
static const char LEAVE_PREFIX[] =
    "DELETE FROM thing_group_members WHERE grp = ? AND thing IN (SELECT t.id FROM things t "
    "WHERE t.name IN (SELECT name FROM temp.index_batch) AND NOT IFNULL(";
static const char LEAVE_SUFFIX[] = ", 0))";
static const char JOIN_PREFIX[] =
    "INSERT OR IGNORE INTO thing_group_members(grp, thing, added) SELECT ?, t.id, ? FROM things t "
    "WHERE t.name IN (SELECT name FROM temp.index_batch) AND ";
static const char JOIN_SUFFIX[] =
    " AND (SELECT count(*) FROM thing_group_members x WHERE x.thing = t.id) < 10";

static fy_err
step_int(struct fy_db *db, const char *sql, int64_t arg, int64_t *out, struct fy_errmsg *em)
{
    sqlite3_stmt *st = fy_db_stmt(db, sql, em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    if (sqlite3_bind_parameter_count(st) > 0) {
        sqlite3_bind_int64(st, 1, arg);
    }
    int rc = sqlite3_step(st);
    if (out) {
        *out = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    }
    fy_stmt_done(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? FY_ERR_OK : fy_db_err(db, rc, em);
}

/* Applies the batch to one group (its query text is re-compiled; a query that no longer
 * compiles, e.g. after the indexing configuration changed, leaves the group as it is). */
static fy_err apply_group(struct fy_db *db,
                          const struct fy_index_config *cfg,
                          int64_t gid,
                          const char *query,
                          struct fy_errmsg *em)
{
    struct fy_index_sql *q = NULL;
    struct fy_errmsg qem;
    sqlite3_stmt *st = NULL;
    if (fy_index_compile(query, FY_INDEX_KIND_THINGS, cfg, &q, &qem) != FY_ERR_OK) {
        return FY_ERR_OK;
    }
    fy_err e = fy_index_prepare(db, LEAVE_PREFIX, q, LEAVE_SUFFIX, &st, em);
    if (!e) {
        sqlite3_bind_int64(st, 1, gid);
        int rc = sqlite3_step(st);
        sqlite3_finalize(st);
        e = rc == SQLITE_DONE ? FY_ERR_OK : fy_db_err(db, rc, em);
    }
    e = e ? e : fy_index_prepare(db, JOIN_PREFIX, q, JOIN_SUFFIX, &st, em);
    if (!e) {
        sqlite3_bind_int64(st, 1, gid);
        sqlite3_bind_double(st, 2, fy_now());
        int rc = sqlite3_step(st);
        sqlite3_finalize(st);
        e = rc == SQLITE_DONE ? FY_ERR_OK : fy_db_err(db, rc, em);
    }
    fy_index_sql_free(q);
    return e;
}

struct batch {
    struct fy_index_config cfg;
    int64_t taken;
};

/* One batch, inside a write transaction (fy_db_tx_fn). */
static fy_err batch_locked(struct fy_db *db, void *arg, struct fy_errmsg *em)
{
    struct batch *b = arg;
    fy_err e = fy_db_exec(db, SQL_BATCH_TABLE, em);
    e = e ? e : step_int(db, SQL_BATCH_CLEAR, 0, NULL, em);
    e = e ? e : step_int(db, SQL_BATCH_FILL, TICK_BATCH, NULL, em);
    e = e ? e : step_int(db, SQL_BATCH_TAKE, 0, NULL, em);
    e = e ? e : step_int(db, SQL_BATCH_SIZE, 0, &b->taken, em);
    sqlite3_stmt *st = e || b->taken == 0 ? NULL : fy_db_stmt(db, SQL_GROUPS, em);
    if (!st) {
        return e;
    }
    int rc;
    while (!e && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        char *query = fy_strdup(fy_col_text(st, 1));
        e = query ? apply_group(db, &b->cfg, sqlite3_column_int64(st, 0), query, em)
                  : fy_fail(em, FY_ERR_NOMEM, "Out of memory");
        fy_free(query);
    }
    fy_stmt_done(st);
    return !e && rc != SQLITE_DONE ? fy_db_err(db, rc, em) : e;
}

fy_err fy_index_tick(struct fy_db *db, int64_t *changed, struct fy_errmsg *em)
{
    struct batch b = {0};
    int64_t dirty = 0, total = 0;
    fy_err e = step_int(db, SQL_ANY_DIRTY, 0, &dirty, em);
    e = e || !dirty ? e : fy_index_config_load(db, &b.cfg, em);
    e = e || !dirty ? e : fy_index_sql_functions(db, em);
    for (int i = 0; !e && dirty && i < TICK_BATCHES; i++) {
        e = fy_db_run_tx(db, batch_locked, &b, em);
        total += b.taken;
        if (b.taken < TICK_BATCH) {
            break;
        }
    }
    if (changed) {
        *changed = total;
    }
    return e;
}
