/* Dynamic thing groups: the rows (a root group with dynamic = 1 and its query). Membership is
 * computed by the fill callback of index/, inside the same transaction. */
#include <string.h>

#include "core/alloc.h"
#include "core/fytime.h"
#include "core/json.h"
#include "registry/groups.h"
#include "registry/groups_int.h"

static const char SQL_DYN_COUNT[] = "SELECT count(*) FROM thing_groups WHERE dynamic = 1";
static const char SQL_INSERT_DYN[] =
    "INSERT INTO thing_groups(name, group_id, depth, description, attributes, creation_date, "
    "dynamic, index_name, query_string, query_version, status) "
    "VALUES (?, ?, 1, ?, ?, ?, 1, ?, ?, ?, 'ACTIVE')";
static const char SQL_SET_ROOT_DYN[] = "UPDATE thing_groups SET root = id WHERE id = ?";
static const char SQL_SET_QUERY[] =
    "UPDATE thing_groups SET index_name = ?, query_string = ?, query_version = ?, "
    "status = 'ACTIVE' WHERE id = ?";

struct dyn_args {
    const char *name;
    const struct fy_group_props *props;
    const json_t *j_tags;
    const char *arn;
    const struct fy_group_query *q;
    char *id_out;
};

static fy_err step_done(struct fy_db *db, sqlite3_stmt *st, struct fy_errmsg *em)
{
    int rc = sqlite3_step(st);
    fy_stmt_done(st);
    return rc == SQLITE_DONE ? FY_ERR_OK : fy_db_err(db, rc, em);
}

static fy_err check_room(struct fy_db *db, struct fy_errmsg *em)
{
    sqlite3_stmt *st = fy_db_stmt(db, SQL_DYN_COUNT, em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    int rc = sqlite3_step(st);
    int64_t n = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    fy_stmt_done(st);
    if (rc != SQLITE_ROW) {
        return fy_db_err(db, rc, em);
    }
    return n < FY_DYNAMIC_GROUPS_MAX
               ? FY_ERR_OK
               : fy_fail(em, FY_ERR_LIMIT_EXCEEDED, "At most %d dynamic thing groups can exist",
                         FY_DYNAMIC_GROUPS_MAX);
}

static fy_err
insert_dyn(struct fy_db *db, const struct dyn_args *a, int64_t *id, struct fy_errmsg *em)
{
    json_t *empty = a->props->attributes ? NULL : json_object();
    char *text = fy_json_dumps(empty ? empty : a->props->attributes, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(empty);
    sqlite3_stmt *st = text ? fy_db_stmt(db, SQL_INSERT_DYN, em) : NULL;
    if (!st) {
        fy_free(text);
        return text ? FY_ERR_INTERNAL : fy_fail(em, FY_ERR_NOMEM, "Out of memory");
    }
    fy_bind_text(st, 1, a->name);
    fy_bind_text(st, 2, a->id_out);
    fy_bind_text(st, 3, a->props->description);
    fy_bind_text(st, 4, text);
    sqlite3_bind_double(st, 5, fy_now());
    fy_bind_text(st, 6, a->q->index_name);
    fy_bind_text(st, 7, a->q->query_string);
    fy_bind_text(st, 8, a->q->query_version);
    fy_err e = step_done(db, st, em);
    fy_free(text);
    *id = sqlite3_last_insert_rowid(fy_db_handle(db));
    st = e ? NULL : fy_db_stmt(db, SQL_SET_ROOT_DYN, em);
    if (!st) {
        return e ? e : FY_ERR_INTERNAL;
    }
    sqlite3_bind_int64(st, 1, *id);
    return step_done(db, st, em);
}

static fy_err create_dyn_locked(struct fy_db *db, void *arg, struct fy_errmsg *em)
{
    struct dyn_args *a = arg;
    struct fy_grp_key k;
    int64_t id = 0;
    fy_err e = fy_grp_find(db, a->name, &k, em);
    if (!e) {
        return fy_fail(em, FY_ERR_ALREADY_EXISTS, "Thing Group %.128s already exists", a->name);
    }
    e = e == FY_ERR_NOT_FOUND ? check_room(db, em) : e;
    e = e ? e : fy_uuid4(a->id_out);
    e = e ? e : insert_dyn(db, a, &id, em);
    if (!e && a->j_tags) {
        e = fy_tags_put_locked(db, a->arn, a->j_tags, FY_ERR_INVALID_REQUEST, em);
    }
    return e ? e : a->q->fill(db, id, a->q->ctx, em);
}

fy_err fy_group_create_dynamic(struct fy_db *db,
                               const char *name,
                               const struct fy_group_props *props,
                               const json_t *j_tags,
                               const char *arn,
                               const struct fy_group_query *q,
                               char id_out[FY_UUID_LEN + 1],
                               struct fy_errmsg *em)
{
    fy_err e = fy_group_props_check(props, em);
    e = e ? e : (j_tags ? fy_tags_check(j_tags, em) : FY_ERR_OK);
    if (e) {
        return e;
    }
    struct dyn_args a = {name, props, j_tags, arn, q, id_out};
    return fy_reg_in_tx(db, create_dyn_locked, &a, em);
}

static fy_err set_query_locked(struct fy_db *db, void *arg, struct fy_errmsg *em)
{
    struct dyn_args *a = arg;
    struct fy_grp_key k;
    fy_err e = fy_grp_find(db, a->name, &k, em);
    if (!e && !k.dynamic) {
        e = fy_fail(em, FY_ERR_INVALID_REQUEST, "Thing group %.128s is not a dynamic thing group",
                    a->name);
    }
    sqlite3_stmt *st = e ? NULL : fy_db_stmt(db, SQL_SET_QUERY, em);
    if (!st) {
        return e ? e : FY_ERR_INTERNAL;
    }
    fy_bind_text(st, 1, a->q->index_name);
    fy_bind_text(st, 2, a->q->query_string);
    fy_bind_text(st, 3, a->q->query_version);
    sqlite3_bind_int64(st, 4, k.id);
    e = step_done(db, st, em);
    return e ? e : a->q->fill(db, k.id, a->q->ctx, em);
}

fy_err fy_group_set_query(struct fy_db *db,
                          const char *name,
                          const struct fy_group_query *q,
                          struct fy_errmsg *em)
{
    struct dyn_args a = {name, NULL, NULL, NULL, q, NULL};
    return fy_reg_in_tx(db, set_query_locked, &a, em);
}
