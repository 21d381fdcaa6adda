/* fy_index_tick: keeps dynamic thing groups current. Each batch moves up to TICK_BATCH names
 * from index_dirty into a per-connection temp table, evaluates every dynamic group's query for
 * those things in one statement, and removes or adds each thing whose membership differs, in
 * one write transaction. A thing already in FY_GROUPS_PER_THING_MAX groups joins a group only
 * by leaving a more recently created dynamic group (AWS's rule). */
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/fytime.h"
#include "core/log.h"
#include "index/index_int.h"
#include "registry/groups.h"

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
    "SELECT id, query_string FROM thing_groups WHERE dynamic = 1 ORDER BY id LIMIT ?";
static const char SQL_IS_MEMBER[] =
    "SELECT EXISTS (SELECT 1 FROM thing_group_members WHERE grp = ? AND thing = ?)";
static const char SQL_GROUP_COUNT[] = "SELECT count(*) FROM thing_group_members WHERE thing = ?";
static const char SQL_JOIN[] =
    "INSERT OR IGNORE INTO thing_group_members(grp, thing, added) VALUES (?, ?, ?)";
static const char SQL_LEAVE[] = "DELETE FROM thing_group_members WHERE grp = ? AND thing = ?";
/* The thing's (?1) most recently created dynamic group, when newer than group ?2 (creation
 * time, then id: groups created in the same instant keep their order). */
static const char SQL_NEWER_DYNAMIC[] =
    "SELECT m.grp FROM thing_group_members m JOIN thing_groups g ON g.id = m.grp, "
    "(SELECT creation_date AS c FROM thing_groups WHERE id = ?2) j "
    "WHERE m.thing = ?1 AND g.dynamic = 1 AND (g.creation_date > j.c OR "
    "(g.creation_date = j.c AND g.id > ?2)) ORDER BY g.creation_date DESC, g.id DESC LIMIT 1";
static const char EVAL_TAIL[] =
    " FROM things t WHERE t.name IN (SELECT name FROM temp.index_batch)";

/* The dynamic groups and their compiled queries (a query that no longer compiles, e.g. after
 * the indexing configuration changed, has q NULL and leaves its group as it is). */
struct groups {
    int n;
    int64_t id[FY_INDEX_DYN_GROUPS_MAX];
    struct fy_index_sql *q[FY_INDEX_DYN_GROUPS_MAX];
};

static void groups_free(struct groups *g)
{
    for (int i = 0; i < g->n; i++) {
        fy_index_sql_free(g->q[i]);
    }
    g->n = 0;
}

static fy_err load_groups(struct fy_db *db,
                          const struct fy_index_config *cfg,
                          struct groups *g,
                          struct fy_errmsg *em)
{
    sqlite3_stmt *st = fy_db_stmt(db, SQL_GROUPS, em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    sqlite3_bind_int(st, 1, FY_INDEX_DYN_GROUPS_MAX);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct fy_errmsg qem;
        g->id[g->n] = sqlite3_column_int64(st, 0);
        g->q[g->n] = NULL;
        if (fy_index_compile_opts(fy_col_text(st, 1), FY_INDEX_KIND_THINGS, cfg, true, &g->q[g->n],
                                  &qem)) {
            g->q[g->n] = NULL;
        }
        g->n++;
    }
    fy_stmt_done(st);
    return rc == SQLITE_DONE ? FY_ERR_OK : fy_db_err(db, rc, em);
}

/* One statement evaluating every group's query for every thing of the batch:
 * SELECT t.id, IFNULL((q1), 0), IFNULL((q2), 0), ... */
static fy_err
prepare_eval(struct fy_db *db, const struct groups *g, sqlite3_stmt **out, struct fy_errmsg *em)
{
    struct fy_buf b;
    fy_buf_init(&b, 4 * 1024 * 1024);
    fy_err e = fy_buf_printf(&b, "SELECT t.id");
    for (int i = 0; !e && i < g->n; i++) {
        e = fy_buf_printf(&b, ", IFNULL((%s), 0)", g->q[i] ? g->q[i]->where : "0");
    }
    e = e ? e : fy_buf_printf(&b, "%s", EVAL_TAIL);
    int rc = e ? SQLITE_OK : sqlite3_prepare_v2(fy_db_handle(db), b.data, (int)b.len, out, NULL);
    fy_buf_free(&b);
    if (e || rc != SQLITE_OK) {
        sqlite3_finalize(*out);
        *out = NULL;
        return e ? fy_fail(em, e, "Dynamic group queries too large") : fy_db_err(db, rc, em);
    }
    int idx = 1;
    for (int i = 0; i < g->n; i++) {
        idx = g->q[i] ? fy_index_bind(*out, idx, g->q[i]) : idx;
    }
    return FY_ERR_OK;
}

/* Runs a cached two-integer statement; *out (may be NULL) gets column 0 of its row. */
static fy_err step_pair(
    struct fy_db *db, const char *sql, int64_t a, int64_t b, int64_t *out, struct fy_errmsg *em)
{
    sqlite3_stmt *st = fy_db_stmt(db, sql, em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    sqlite3_bind_int64(st, 1, a);
    if (sqlite3_bind_parameter_count(st) > 1) {
        sqlite3_bind_int64(st, 2, b);
    }
    if (sqlite3_bind_parameter_count(st) > 2) {
        sqlite3_bind_double(st, 3, fy_now());
    }
    int rc = sqlite3_step(st);
    if (out) {
        *out = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    }
    fy_stmt_done(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? FY_ERR_OK : fy_db_err(db, rc, em);
}

/* A thing at the groups-per-thing limit joins group gid only by leaving its most recently
 * created dynamic group, and only when that one is newer than gid (AWS); *room says whether it
 * did. */
static fy_err
make_room(struct fy_db *db, int64_t gid, int64_t thing, bool *room, struct fy_errmsg *em)
{
    int64_t newer = 0;
    fy_err e = step_pair(db, SQL_NEWER_DYNAMIC, thing, gid, &newer, em);
    *room = !e && newer != 0;
    if (*room) {
        fy_log(FY_LOG_INFO, "index",
               "thing %lld leaves dynamic group %lld for older dynamic group %lld (10 groups)",
               (long long)thing, (long long)newer, (long long)gid);
        e = step_pair(db, SQL_LEAVE, newer, thing, NULL, em);
    }
    return e;
}

/* Brings one thing's membership of group gid in line with match. */
static fy_err settle(struct fy_db *db, int64_t gid, int64_t thing, bool match, struct fy_errmsg *em)
{
    int64_t member = 0, count = 0;
    bool room = true;
    fy_err e = step_pair(db, SQL_IS_MEMBER, gid, thing, &member, em);
    if (e || (member != 0) == match) {
        return e;
    }
    if (!match) {
        return step_pair(db, SQL_LEAVE, gid, thing, NULL, em);
    }
    e = step_pair(db, SQL_GROUP_COUNT, thing, 0, &count, em);
    if (!e && count >= FY_GROUPS_PER_THING_MAX) {
        e = make_room(db, gid, thing, &room, em);
    }
    return e || !room ? e : step_pair(db, SQL_JOIN, gid, thing, NULL, em);
}

static fy_err apply_groups(struct fy_db *db, const struct groups *g, struct fy_errmsg *em)
{
    sqlite3_stmt *st = NULL;
    fy_err e = g->n ? fy_index_sql_functions(db, em) : FY_ERR_OK;
    e = e || !g->n ? e : prepare_eval(db, g, &st, em);
    if (e || !st) {
        return e;
    }
    int rc;
    while (!e && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t thing = sqlite3_column_int64(st, 0);
        for (int i = 0; !e && i < g->n; i++) {
            e = g->q[i] ? settle(db, g->id[i], thing, sqlite3_column_int(st, i + 1) != 0, em) : e;
        }
    }
    sqlite3_finalize(st);
    return !e && rc != SQLITE_DONE ? fy_db_err(db, rc, em) : e;
}

struct batch {
    struct fy_index_config cfg;
    int64_t taken;
};

/* One batch, inside a write transaction (fy_db_tx_fn). */
static fy_err batch_locked(struct fy_db *db, void *arg, struct fy_errmsg *em)
{
    struct batch *b = arg;
    struct groups *g = fy_calloc(1, sizeof(*g));
    fy_err e = g ? fy_db_exec(db, SQL_BATCH_TABLE, em) : fy_fail(em, FY_ERR_NOMEM, "Out of memory");
    e = e ? e : step_pair(db, SQL_BATCH_CLEAR, 0, 0, NULL, em);
    e = e ? e : step_pair(db, SQL_BATCH_FILL, TICK_BATCH, 0, NULL, em);
    e = e ? e : step_pair(db, SQL_BATCH_TAKE, 0, 0, NULL, em);
    e = e ? e : step_pair(db, SQL_BATCH_SIZE, 0, 0, &b->taken, em);
    if (!e && b->taken > 0) {
        e = load_groups(db, &b->cfg, g, em);
        e = e ? e : apply_groups(db, g, em);
        groups_free(g);
    }
    fy_free(g);
    return e;
}

fy_err fy_index_tick(struct fy_db *db, int64_t *changed, struct fy_errmsg *em)
{
    struct batch b = {0};
    int64_t dirty = 0, total = 0;
    fy_err e = step_pair(db, SQL_ANY_DIRTY, 0, 0, &dirty, em);
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
    return e ? e : fy_dyn_build(db, 0, FY_BUILD_CHUNK, FY_BUILD_TICK_BUDGET_NS, NULL, em);
}
