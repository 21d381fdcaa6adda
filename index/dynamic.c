/* Dynamic thing groups: Create/Update/DeleteDynamicThingGroup and the scheduler's upkeep
 * (fy_index_tick). A group's membership is the set of things its query matches, at most
 * FY_GROUPS_PER_THING_MAX groups per thing (a build skips things already at the limit; the
 * upkeep in dynamic_tick.c applies AWS's eviction rule). Upkeep is incremental: the triggers of
 * schema/0009_index.sql record the names of changed things in index_dirty, and each tick
 * re-evaluates only those things against every dynamic group. */
#include <string.h>

#include "core/alloc.h"
#include "core/fytime.h"
#include "index/index_int.h"
#include "registry/groups.h"

static const char SQL_CLEAR[] = "DELETE FROM thing_group_members WHERE grp = ?";
static const char FILL_PREFIX[] =
    "INSERT OR IGNORE INTO thing_group_members(grp, thing, added) SELECT ?, t.id, ? FROM things t "
    "WHERE ";
static const char ROOM[] =
    " AND (SELECT count(*) FROM thing_group_members x WHERE x.thing = t.id) < 10";

/* Runs a prepared compiled statement to completion and finalizes it. */
static fy_err run_compiled(struct fy_db *db, sqlite3_stmt *st, struct fy_errmsg *em)
{
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? FY_ERR_OK : fy_db_err(db, rc, em);
}

/* fy_group_fill_fn: the group's membership from scratch. */
static fy_err fill(struct fy_db *db, int64_t group_id, void *ctx, struct fy_errmsg *em)
{
    const struct fy_index_sql *q = ctx;
    sqlite3_stmt *st = fy_db_stmt(db, SQL_CLEAR, em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    sqlite3_bind_int64(st, 1, group_id);
    int rc = sqlite3_step(st);
    fy_stmt_done(st);
    if (rc != SQLITE_DONE) {
        return fy_db_err(db, rc, em);
    }
    fy_err e = fy_index_prepare(db, FILL_PREFIX, q, ROOM, &st, em);
    if (e) {
        return e;
    }
    sqlite3_bind_int64(st, 1, group_id);
    sqlite3_bind_double(st, 2, fy_now());
    return run_compiled(db, st, em);
}

/* Compiles a dynamic group's query against the things index (which must be on). */
static fy_err compile(struct fy_db *db,
                      const char *index_name,
                      const char *query,
                      struct fy_index_sql **q,
                      struct fy_errmsg *em)
{
    enum fy_index_kind kind;
    struct fy_index_config cfg;
    if (index_name && strcmp(index_name, FY_INDEX_THINGS) != 0) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST,
                       "Dynamic thing groups are defined on index %s only", FY_INDEX_THINGS);
    }
    fy_err e = fy_index_open(db, FY_INDEX_THINGS, &kind, &cfg, em);
    return e ? e : fy_index_compile(query, kind, &cfg, q, em);
}

fy_err fy_index_dyn_create(struct fy_db *db,
                           const struct fy_dyn_group *g,
                           char id_out[40],
                           struct fy_errmsg *em)
{
    struct fy_index_sql *q = NULL;
    fy_err e = compile(db, g->index_name, g->query, &q, em);
    if (e) {
        return e;
    }
    struct fy_group_props props = {g->description, g->attributes, false};
    struct fy_group_query gq = {FY_INDEX_THINGS, g->query,
                                g->query_version ? g->query_version : FY_INDEX_QUERY_VERSION, fill,
                                q};
    e = fy_group_create_dynamic(db, g->name, &props, g->tags, g->arn, &gq, id_out, em);
    fy_index_sql_free(q);
    return e;
}

/* Loads group name, checking that it is dynamic; *exists false when missing. */
static fy_err find_dynamic(struct fy_db *db, const char *name, bool *exists, struct fy_errmsg *em)
{
    struct fy_group grp = {0};
    fy_err e = fy_group_describe(db, name, &grp, em);
    *exists = e == FY_ERR_OK;
    if (!e && !grp.dynamic) {
        e = fy_fail(em, FY_ERR_INVALID_REQUEST, "Thing group %.128s is not a dynamic thing group",
                    name);
    }
    fy_group_clear(&grp);
    return e;
}

fy_err fy_index_dyn_update(struct fy_db *db,
                           const struct fy_dyn_group *g,
                           int64_t expected_version,
                           int64_t *new_version,
                           struct fy_errmsg *em)
{
    struct fy_index_sql *q = NULL;
    bool exists;
    fy_err e = find_dynamic(db, g->name, &exists, em);
    if (!e && g->query) {
        e = compile(db, g->index_name, g->query, &q, em);
    }
    struct fy_group_props props = {g->description, g->attributes, g->merge};
    e = e ? e : fy_group_update(db, g->name, &props, expected_version, new_version, em);
    if (!e && q) {
        struct fy_group_query gq = {FY_INDEX_THINGS, g->query,
                                    g->query_version ? g->query_version : FY_INDEX_QUERY_VERSION,
                                    fill, q};
        e = fy_group_set_query(db, g->name, &gq, em);
    }
    fy_index_sql_free(q);
    return e;
}

fy_err fy_index_dyn_delete(struct fy_db *db,
                           const char *name,
                           int64_t expected_version,
                           struct fy_errmsg *em)
{
    bool exists;
    fy_err e = find_dynamic(db, name, &exists, em);
    if (!exists) {
        return e == FY_ERR_NOT_FOUND ? FY_ERR_OK : e;
    }
    return e ? e : fy_group_delete(db, name, expected_version, em);
}
