/* Thing group membership: add, remove, update-for-thing and the two membership listings. */
#include <stdio.h>
#include <string.h>

#include "core/fytime.h"
#include "core/names.h"
#include "registry/groups.h"
#include "registry/groups_int.h"
#include "registry/registry.h"

static const char SQL_IS_MEMBER[] =
    "SELECT count(*) FROM thing_group_members WHERE grp = ?1 AND thing = ?2";
static const char SQL_GROUP_COUNT[] = "SELECT count(*) FROM thing_group_members WHERE thing = ?2";
static const char SQL_SAME_TREE[] =
    "SELECT g.name FROM thing_group_members m JOIN thing_groups g ON g.id = m.grp "
    "WHERE g.root = ?1 AND m.thing = ?2 AND g.dynamic = 0 LIMIT 1";
static const char SQL_LAST_DYNAMIC[] =
    "SELECT m.grp FROM thing_group_members m JOIN thing_groups g ON g.id = m.grp "
    "WHERE m.thing = ?2 AND g.dynamic = 1 ORDER BY m.added DESC LIMIT 1";
static const char SQL_ADD[] =
    "INSERT INTO thing_group_members(grp, thing, added) VALUES (?1, ?2, ?3)";
static const char SQL_REMOVE[] = "DELETE FROM thing_group_members WHERE grp = ?1 AND thing = ?2";
static const char SQL_THINGS_IN[] =
    "SELECT t.name FROM thing_group_members m JOIN things t ON t.id = m.thing "
    "WHERE m.grp = ?1 AND t.name > ?2 ORDER BY t.name LIMIT ?3";
static const char SQL_THINGS_IN_TREE[] =
    "WITH RECURSIVE sub(id) AS (SELECT ?1 UNION ALL "
    "SELECT g.id FROM thing_groups g JOIN sub ON g.parent = sub.id) "
    "SELECT t.name FROM things t WHERE t.id IN "
    "(SELECT thing FROM thing_group_members WHERE grp IN sub) AND t.name > ?2 "
    "ORDER BY t.name LIMIT ?3";
static const char SQL_GROUPS_OF[] =
    "SELECT g.name FROM thing_group_members m JOIN thing_groups g ON g.id = m.grp "
    "WHERE m.thing = ?1 AND g.name > ?2 ORDER BY g.name LIMIT ?3";

/* Binds (?1 a, ?2 b) and steps once: *val gets column 0 of the row (text into name when given),
 * *found whether there was one. */
static fy_err query_pair(struct fy_db *db,
                         const char *sql,
                         int64_t a,
                         int64_t b,
                         int64_t *val,
                         char name[FY_NAME_MAX + 1],
                         struct fy_errmsg *em)
{
    sqlite3_stmt *st = fy_db_stmt(db, sql, em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    sqlite3_bind_int64(st, 1, a);
    sqlite3_bind_int64(st, 2, b);
    int rc = sqlite3_step(st);
    *val = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    if (name) {
        name[0] = '\0';
        if (rc == SQLITE_ROW) {
            snprintf(name, FY_NAME_MAX + 1, "%s", fy_col_text(st, 0));
        }
    }
    fy_stmt_done(st);
    if (rc == SQLITE_DONE || rc == SQLITE_ROW) {
        return FY_ERR_OK;
    }
    return fy_db_err(db, rc, em);
}

/* Makes room for one more group when the thing is at the limit (override: leave the most
 * recently joined dynamic group). */
static fy_err make_room(struct fy_db *db,
                        int64_t thing,
                        const char *thing_name,
                        bool override_dynamic,
                        struct fy_errmsg *em)
{
    int64_t n = 0, dyn = 0;
    fy_err e = query_pair(db, SQL_GROUP_COUNT, 0, thing, &n, NULL, em);
    if (e || n < FY_GROUPS_PER_THING_MAX) {
        return e;
    }
    if (override_dynamic) {
        e = query_pair(db, SQL_LAST_DYNAMIC, 0, thing, &dyn, NULL, em);
    }
    if (!e && dyn) {
        return query_pair(db, SQL_REMOVE, dyn, thing, &n, NULL, em);
    }
    return e ? e
             : fy_fail(em, FY_ERR_INVALID_REQUEST,
                       "Thing %.128s is already a member of %d thing groups, the maximum",
                       thing_name, FY_GROUPS_PER_THING_MAX);
}

static fy_err add_locked(struct fy_db *db,
                         const struct fy_grp_key *g,
                         const char *group_name,
                         int64_t thing,
                         const char *thing_name,
                         bool override_dynamic,
                         struct fy_errmsg *em)
{
    int64_t n = 0;
    char other[FY_NAME_MAX + 1];
    if (g->dynamic) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST,
                       "Cannot add things to dynamic thing group %.128s", group_name);
    }
    fy_err e = query_pair(db, SQL_IS_MEMBER, g->id, thing, &n, NULL, em);
    if (e || n > 0) {
        return e; /* already a member: nothing to do */
    }
    e = query_pair(db, SQL_SAME_TREE, g->root, thing, &n, other, em);
    if (!e && other[0]) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST,
                       "Thing %.128s is already in thing group %.128s of the same hierarchy as "
                       "%.128s",
                       thing_name, other, group_name);
    }
    if (!e) {
        e = make_room(db, thing, thing_name, override_dynamic, em);
    }
    sqlite3_stmt *st = e ? NULL : fy_db_stmt(db, SQL_ADD, em);
    if (!st) {
        return e ? e : FY_ERR_INTERNAL;
    }
    sqlite3_bind_int64(st, 1, g->id);
    sqlite3_bind_int64(st, 2, thing);
    sqlite3_bind_double(st, 3, fy_now());
    int rc = sqlite3_step(st);
    fy_stmt_done(st);
    return rc == SQLITE_DONE ? FY_ERR_OK : fy_db_err(db, rc, em);
}

static fy_err remove_locked(struct fy_db *db,
                            const struct fy_grp_key *g,
                            const char *group_name,
                            int64_t thing,
                            struct fy_errmsg *em)
{
    int64_t unused;
    if (g->dynamic) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST,
                       "Cannot remove things from dynamic thing group %.128s", group_name);
    }
    return query_pair(db, SQL_REMOVE, g->id, thing, &unused, NULL, em);
}

struct member_args {
    const char *thing;
    const char *const *add;
    size_t nadd;
    const char *const *rm;
    size_t nrm;
    bool override_dynamic;
};

static fy_err members_locked(struct fy_db *db, void *arg, struct fy_errmsg *em)
{
    struct member_args *a = arg;
    struct fy_grp_key g;
    int64_t thing;
    fy_err e = fy_thing_rowid(db, a->thing, &thing, em);
    for (size_t i = 0; !e && i < a->nrm; i++) {
        e = fy_grp_find(db, a->rm[i], &g, em);
        if (!e) {
            e = remove_locked(db, &g, a->rm[i], thing, em);
        }
    }
    for (size_t i = 0; !e && i < a->nadd; i++) {
        e = fy_grp_find(db, a->add[i], &g, em);
        if (!e) {
            e = add_locked(db, &g, a->add[i], thing, a->thing, a->override_dynamic, em);
        }
    }
    return e;
}

/* Checks every name before the transaction starts. */
static fy_err check_names(const char *const *names, size_t n, struct fy_errmsg *em)
{
    for (size_t i = 0; i < n; i++) {
        if (!names[i] || !fy_valid_thing_name(names[i])) {
            return fy_fail(em, FY_ERR_INVALID_REQUEST, "Invalid thing group name: %.128s",
                           names[i] ? names[i] : "");
        }
    }
    return FY_ERR_OK;
}

fy_err fy_group_update_for_thing(struct fy_db *db,
                                 const char *thing,
                                 const char *const *add,
                                 size_t nadd,
                                 const char *const *rm,
                                 size_t nrm,
                                 bool override_dynamic,
                                 struct fy_errmsg *em)
{
    if (!thing || !fy_valid_thing_name(thing)) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST, "Invalid thing name: %.128s",
                       thing ? thing : "");
    }
    fy_err e = check_names(add, nadd, em);
    if (!e) {
        e = check_names(rm, nrm, em);
    }
    if (e) {
        return e;
    }
    struct member_args a = {thing, add, nadd, rm, nrm, override_dynamic};
    return fy_reg_in_tx(db, members_locked, &a, em);
}

fy_err fy_group_add_thing(struct fy_db *db,
                          const char *group,
                          const char *thing,
                          bool override_dynamic,
                          struct fy_errmsg *em)
{
    const char *add[1] = {group};
    return fy_group_update_for_thing(db, thing, add, 1, NULL, 0, override_dynamic, em);
}

fy_err
fy_group_remove_thing(struct fy_db *db, const char *group, const char *thing, struct fy_errmsg *em)
{
    const char *rm[1] = {group};
    return fy_group_update_for_thing(db, thing, NULL, 0, rm, 1, false, em);
}

fy_err fy_group_list_things(struct fy_db *db,
                            const char *group,
                            bool recursive,
                            const char *after,
                            int64_t limit,
                            fy_group_row_fn fn,
                            void *ctx,
                            bool *more,
                            struct fy_errmsg *em)
{
    struct fy_grp_key g;
    *more = false;
    fy_err e = fy_grp_find(db, group, &g, em);
    if (e) {
        return e;
    }
    sqlite3_stmt *st = fy_db_stmt(db, recursive ? SQL_THINGS_IN_TREE : SQL_THINGS_IN, em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    sqlite3_bind_int64(st, 1, g.id);
    fy_bind_text(st, 2, after ? after : "");
    return fy_grp_list_names(db, st, 3, limit, fn, ctx, more, em);
}

fy_err fy_group_list_for_thing(struct fy_db *db,
                               const char *thing,
                               const char *after,
                               int64_t limit,
                               fy_group_row_fn fn,
                               void *ctx,
                               bool *more,
                               struct fy_errmsg *em)
{
    int64_t id;
    *more = false;
    fy_err e = fy_thing_rowid(db, thing, &id, em);
    if (e) {
        return e;
    }
    sqlite3_stmt *st = fy_db_stmt(db, SQL_GROUPS_OF, em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    sqlite3_bind_int64(st, 1, id);
    fy_bind_text(st, 2, after ? after : "");
    return fy_grp_list_names(db, st, 3, limit, fn, ctx, more, em);
}
