/* Dynamic thing groups: Create/Update/DeleteDynamicThingGroup. A group's membership is the set
 * of things its query matches, at most FY_GROUPS_PER_THING_MAX groups per thing (a build skips
 * things already at the limit; the upkeep in dynamic_tick.c applies AWS's eviction rule).
 * Membership is built in chunks (dynamic_build.c), within the call for a small fleet, then by
 * the scheduler; afterwards the change log keeps it current (dynamic_tick.c). */
#include <string.h>

#include "core/alloc.h"
#include "core/fytime.h"
#include "core/log.h"
#include "index/index_int.h"
#include "registry/groups.h"

/* Build cursors of groups that no longer exist (a group deleted while building). */
static const char SQL_DROP_BUILDS[] =
    "DELETE FROM settings WHERE key GLOB 'index.build.*' AND NOT EXISTS (SELECT 1 FROM "
    "thing_groups g WHERE g.dynamic = 1 AND 'index.build.' || g.id = settings.key)";

/* fy_group_fill_fn: starts the group's (re)build inside its create/update transaction. */
struct start {
    bool rebuild;
    int64_t gid;
};

static fy_err start_build(struct fy_db *db, int64_t group_id, void *ctx, struct fy_errmsg *em)
{
    struct start *s = ctx;
    s->gid = group_id;
    return fy_dyn_build_start(db, group_id, s->rebuild, em);
}

/* Builds the group inside the request for up to FY_BUILD_SYNC_BUDGET_NS (a small fleet is
 * ACTIVE when the call returns); the scheduler finishes larger ones. */
static void build_now(struct fy_db *db, int64_t gid)
{
    struct fy_errmsg em; /* the group exists: a failed build step is the scheduler's to retry */
    if (fy_dyn_build(db, gid, FY_BUILD_CHUNK, FY_BUILD_SYNC_BUDGET_NS, NULL, &em) != FY_ERR_OK) {
        fy_log(FY_LOG_WARN, "index", "dynamic group %lld: build continues later: %s",
               (long long)gid, em.msg);
    }
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
    fy_index_sql_free(q); /* compiled to validate; the build compiles its own plan */
    struct fy_group_props props = {g->description, g->attributes, false};
    struct start st = {false, 0};
    struct fy_group_query gq = {FY_INDEX_THINGS, g->query,
                                g->query_version ? g->query_version : FY_INDEX_QUERY_VERSION,
                                start_build, &st};
    e = fy_group_create_dynamic(db, g->name, &props, g->tags, g->arn, &gq, id_out, em);
    if (!e) {
        build_now(db, st.gid);
    }
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
        struct start st = {true, 0};
        struct fy_group_query gq = {FY_INDEX_THINGS, g->query,
                                    g->query_version ? g->query_version : FY_INDEX_QUERY_VERSION,
                                    start_build, &st};
        e = fy_group_set_query(db, g->name, &gq, em);
        if (!e) {
            build_now(db, st.gid);
        }
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
    e = e ? e : fy_group_delete(db, name, expected_version, em);
    return e ? e : fy_db_exec_text(db, SQL_DROP_BUILDS, NULL, em);
}
