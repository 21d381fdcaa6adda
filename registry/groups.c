/* Thing groups: create, describe, update, delete, list. Membership is in group_members.c. */
#include "registry/groups.h"

#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/fytime.h"
#include "core/json.h"
#include "registry/groups_int.h"

static const char SQL_GROUP_KEY[] =
    "SELECT id, parent, root, depth, version, dynamic FROM thing_groups WHERE name = ?";
static const char SQL_GROUP_PROPS[] =
    "SELECT group_id, description, attributes, creation_date, index_name, query_string, "
    "query_version, status FROM thing_groups WHERE id = ?";
static const char SQL_ANCESTORS[] =
    "WITH RECURSIVE up(id) AS (SELECT parent FROM thing_groups WHERE id = ?1 "
    "UNION ALL SELECT g.parent FROM thing_groups g JOIN up ON g.id = up.id "
    "WHERE g.parent IS NOT NULL) "
    "SELECT g.name FROM up JOIN thing_groups g ON g.id = up.id ORDER BY g.depth";
static const char SQL_CHILD_COUNT[] = "SELECT count(*) FROM thing_groups WHERE parent = ?";
static const char SQL_INSERT[] =
    "INSERT INTO thing_groups(name, group_id, parent, root, depth, description, attributes, "
    "creation_date) VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
static const char SQL_SET_ROOT[] = "UPDATE thing_groups SET root = id WHERE id = ?";
static const char SQL_UPDATE[] =
    "UPDATE thing_groups SET description = ?, attributes = ?, version = version + 1 "
    "WHERE id = ? AND version = ?";
static const char SQL_DELETE[] = "DELETE FROM thing_groups WHERE id = ?";
/* Policy attachments are keyed by target ARN (any region/account: see schema/0003_groups.sql on
 * why the GLOB is exact for group names). */
static const char SQL_DETACH_POLICIES[] =
    "DELETE FROM policy_attachments WHERE target GLOB ('arn:*:thinggroup/' || ?)";

/* ListThingGroups, one statement per selection; ?1 after, ?2 prefix, ?3 parent id, ?4 limit. */
#define LIST_PREFIX "(?2 IS NULL OR substr(name, 1, length(?2)) = ?2)"
static const char SQL_LIST_ALL[] =
    "SELECT name FROM thing_groups WHERE name > ?1 AND " LIST_PREFIX " ORDER BY name LIMIT ?4";
static const char SQL_LIST_ROOTS[] =
    "SELECT name FROM thing_groups WHERE name > ?1 AND " LIST_PREFIX
    " AND parent IS NULL ORDER BY name LIMIT ?4";
static const char SQL_LIST_CHILDREN[] =
    "SELECT name FROM thing_groups WHERE name > ?1 AND " LIST_PREFIX
    " AND parent = ?3 ORDER BY name LIMIT ?4";
static const char SQL_LIST_DESCENDANTS[] =
    "WITH RECURSIVE sub(id) AS (SELECT id FROM thing_groups WHERE parent = ?3 "
    "UNION ALL SELECT g.id FROM thing_groups g JOIN sub ON g.parent = sub.id) "
    "SELECT name FROM thing_groups WHERE id IN sub AND name > ?1 AND " LIST_PREFIX
    " ORDER BY name LIMIT ?4";

void fy_group_clear(struct fy_group *g)
{
    fy_free(g->description);
    json_decref(g->attributes);
    fy_free(g->index_name);
    fy_free(g->query_string);
    fy_free(g->query_version);
    fy_free(g->status);
    memset(g, 0, sizeof(*g));
}

fy_err fy_group_props_check(const struct fy_group_props *p, struct fy_errmsg *em)
{
    const char *key;
    json_t *v;
    if (p->description && !fy_valid_description(p->description)) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST,
                       "thingGroupDescription must be at most %d printable characters",
                       FY_DESCRIPTION_MAX);
    }
    if (!p->attributes) {
        return FY_ERR_OK;
    }
    if (!json_is_object(p->attributes)) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST, "attributes must be a map of strings");
    }
    if (json_object_size(p->attributes) > FY_GROUP_ATTRS_MAX) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST, "A thing group can have at most %d attributes",
                       FY_GROUP_ATTRS_MAX);
    }
    json_object_foreach ((json_t *)p->attributes, key, v) {
        if (!fy_valid_attr_key(key)) {
            return fy_fail(em, FY_ERR_INVALID_REQUEST, "Invalid attribute name: %.128s", key);
        }
        if (!json_is_string(v) || !fy_valid_attr_value(json_string_value(v))) {
            return fy_fail(em, FY_ERR_INVALID_REQUEST, "Invalid value for attribute %.128s", key);
        }
    }
    return FY_ERR_OK;
}

fy_err fy_grp_find(struct fy_db *db, const char *name, struct fy_grp_key *k, struct fy_errmsg *em)
{
    sqlite3_stmt *st = fy_db_stmt(db, SQL_GROUP_KEY, em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    fy_bind_text(st, 1, name);
    int rc = sqlite3_step(st);
    fy_err e = FY_ERR_OK;
    if (rc == SQLITE_ROW) {
        k->id = sqlite3_column_int64(st, 0);
        k->parent = sqlite3_column_int64(st, 1); /* NULL reads as 0 */
        k->root = sqlite3_column_int64(st, 2);
        k->depth = sqlite3_column_int(st, 3);
        k->version = sqlite3_column_int64(st, 4);
        k->dynamic = sqlite3_column_int(st, 5) != 0;
    } else if (rc == SQLITE_DONE) {
        e = fy_fail(em, FY_ERR_NOT_FOUND, "Thing group %.128s cannot be found.", name);
    } else {
        e = fy_db_err(db, rc, em);
    }
    fy_stmt_done(st);
    return e;
}

/* Runs a one-integer-parameter count query. */
static fy_err
count_rows(struct fy_db *db, const char *sql, int64_t arg, int64_t *n, struct fy_errmsg *em)
{
    sqlite3_stmt *st = fy_db_stmt(db, sql, em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    sqlite3_bind_int64(st, 1, arg);
    int rc = sqlite3_step(st);
    *n = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    fy_stmt_done(st);
    return rc == SQLITE_ROW ? FY_ERR_OK : fy_db_err(db, rc, em);
}

/* New owned copy of column col, NULL when the column is NULL. */
static fy_err dup_col(sqlite3_stmt *st, int col, char **out)
{
    *out = NULL;
    if (sqlite3_column_type(st, col) == SQLITE_NULL) {
        return FY_ERR_OK;
    }
    *out = fy_strdup(fy_col_text(st, col));
    return *out ? FY_ERR_OK : FY_ERR_NOMEM;
}

/* Parses stored attributes text into a new object ({} when unreadable). */
static json_t *attrs_from_text(const char *text)
{
    json_t *j = fy_json_loads(text, JSON_REJECT_DUPLICATES);
    if (j && !json_is_object(j)) {
        json_decref(j);
        j = NULL;
    }
    return j ? j : json_object();
}

/* Fills the stored properties of group id into g (name, ancestors and key fields excluded). */
static fy_err load_props(struct fy_db *db, int64_t id, struct fy_group *g, struct fy_errmsg *em)
{
    sqlite3_stmt *st = fy_db_stmt(db, SQL_GROUP_PROPS, em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        fy_stmt_done(st);
        return fy_db_err(db, rc == SQLITE_DONE ? SQLITE_ERROR : rc, em);
    }
    snprintf(g->group_id, sizeof(g->group_id), "%s", fy_col_text(st, 0));
    g->creation_date = sqlite3_column_double(st, 3);
    g->attributes = attrs_from_text(fy_col_text(st, 2));
    char **dst[] = {&g->description, &g->index_name, &g->query_string, &g->query_version,
                    &g->status};
    const int cols[] = {1, 4, 5, 6, 7};
    fy_err e = g->attributes ? FY_ERR_OK : FY_ERR_NOMEM;
    for (size_t i = 0; !e && i < sizeof(cols) / sizeof(cols[0]); i++) {
        e = dup_col(st, cols[i], dst[i]);
    }
    fy_stmt_done(st);
    return e ? fy_fail(em, e, "Out of memory") : FY_ERR_OK;
}

static fy_err load_ancestors(struct fy_db *db, int64_t id, struct fy_group *g, struct fy_errmsg *em)
{
    sqlite3_stmt *st = fy_db_stmt(db, SQL_ANCESTORS, em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    sqlite3_bind_int64(st, 1, id);
    int rc;
    g->nancestors = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && g->nancestors < FY_GROUP_DEPTH_MAX) {
        snprintf(g->ancestors[g->nancestors], sizeof(g->ancestors[0]), "%s", fy_col_text(st, 0));
        g->nancestors++;
    }
    fy_stmt_done(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? FY_ERR_OK : fy_db_err(db, rc, em);
}

fy_err
fy_group_describe(struct fy_db *db, const char *name, struct fy_group *out, struct fy_errmsg *em)
{
    struct fy_grp_key k;
    memset(out, 0, sizeof(*out));
    fy_err e = fy_grp_find(db, name, &k, em);
    if (!e) {
        e = load_props(db, k.id, out, em);
    }
    if (!e) {
        e = load_ancestors(db, k.id, out, em);
    }
    if (e) {
        fy_group_clear(out);
        return e;
    }
    snprintf(out->name, sizeof(out->name), "%s", name);
    out->version = k.version;
    out->depth = k.depth;
    out->dynamic = k.dynamic;
    return FY_ERR_OK;
}

/* Compact, key-sorted text of an attribute object (caller frees with fy_free); NULL on OOM. */
static char *attrs_text(const json_t *attrs)
{
    json_t *empty = attrs ? NULL : json_object();
    char *s = fy_json_dumps(attrs ? attrs : empty, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(empty);
    return s;
}

struct create_args {
    const char *name, *parent;
    const struct fy_group_props *props;
    const json_t *j_tags;
    const char *arn;
    char *id_out;
};

/* CreateThingGroup on an existing name: the same definition is a success. */
static fy_err existing_matches(struct fy_db *db,
                               const struct fy_grp_key *k,
                               int64_t parent_id,
                               const struct create_args *a,
                               struct fy_errmsg *em)
{
    struct fy_group g = {0};
    fy_err e = load_props(db, k->id, &g, em);
    if (e) {
        return e;
    }
    json_t *given = a->props->attributes ? json_deep_copy(a->props->attributes) : json_object();
    const char *d1 = g.description ? g.description : "";
    const char *d2 = a->props->description ? a->props->description : "";
    bool same = !k->dynamic && k->parent == parent_id && strcmp(d1, d2) == 0 &&
                json_equal(g.attributes, given);
    if (same) {
        memcpy(a->id_out, g.group_id, sizeof(g.group_id));
    }
    json_decref(given);
    fy_group_clear(&g);
    return same
               ? FY_ERR_OK
               : fy_fail(em, FY_ERR_ALREADY_EXISTS,
                         "Thing Group %.128s already exists with different configuration", a->name);
}

/* Resolves and checks the parent of a new group into *pk (zeroed for a root). */
static fy_err
check_parent(struct fy_db *db, const char *parent, struct fy_grp_key *pk, struct fy_errmsg *em)
{
    int64_t children = 0;
    memset(pk, 0, sizeof(*pk));
    if (!parent) {
        return FY_ERR_OK;
    }
    fy_err e = fy_grp_find(db, parent, pk, em);
    if (e) {
        return e;
    }
    if (pk->dynamic) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST,
                       "Dynamic thing group %.128s cannot have child groups", parent);
    }
    if (pk->depth >= FY_GROUP_DEPTH_MAX) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST,
                       "Thing group %.128s is at the maximum hierarchy depth (%d)", parent,
                       FY_GROUP_DEPTH_MAX);
    }
    e = count_rows(db, SQL_CHILD_COUNT, pk->id, &children, em);
    if (!e && children >= FY_GROUP_CHILDREN_MAX) {
        e = fy_fail(em, FY_ERR_INVALID_REQUEST,
                    "Thing group %.128s already has the maximum of %d child groups", parent,
                    FY_GROUP_CHILDREN_MAX);
    }
    return e;
}

static fy_err insert_group(struct fy_db *db,
                           const struct create_args *a,
                           const struct fy_grp_key *pk,
                           struct fy_errmsg *em)
{
    char *attrs = attrs_text(a->props->attributes);
    sqlite3_stmt *st = attrs ? fy_db_stmt(db, SQL_INSERT, em) : NULL;
    if (!st) {
        fy_free(attrs);
        return attrs ? FY_ERR_INTERNAL : fy_fail(em, FY_ERR_NOMEM, "Out of memory");
    }
    fy_bind_text(st, 1, a->name);
    fy_bind_text(st, 2, a->id_out);
    if (pk->id) {
        sqlite3_bind_int64(st, 3, pk->id);
        sqlite3_bind_int64(st, 4, pk->root);
    }
    sqlite3_bind_int(st, 5, pk->depth + 1);
    fy_bind_text(st, 6, a->props->description);
    fy_bind_text(st, 7, attrs);
    sqlite3_bind_double(st, 8, fy_now());
    int rc = sqlite3_step(st);
    fy_stmt_done(st);
    fy_free(attrs);
    if (rc != SQLITE_DONE) {
        return fy_db_err(db, rc, em);
    }
    if (pk->id) {
        return FY_ERR_OK;
    }
    st = fy_db_stmt(db, SQL_SET_ROOT, em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    sqlite3_bind_int64(st, 1, sqlite3_last_insert_rowid(fy_db_handle(db)));
    rc = sqlite3_step(st);
    fy_stmt_done(st);
    return rc == SQLITE_DONE ? FY_ERR_OK : fy_db_err(db, rc, em);
}

static fy_err create_locked(struct fy_db *db, void *arg, struct fy_errmsg *em)
{
    struct create_args *a = arg;
    struct fy_grp_key k, pk;
    fy_err e = fy_grp_find(db, a->name, &k, em);
    if (!e) { /* an existing group answers first, even when the parent is wrong */
        int64_t parent_id = 0;
        if (a->parent) {
            parent_id = fy_grp_find(db, a->parent, &pk, em) ? -1 : pk.id;
        }
        return existing_matches(db, &k, parent_id, a, em);
    }
    if (e != FY_ERR_NOT_FOUND) {
        return e;
    }
    e = check_parent(db, a->parent, &pk, em);
    if (!e) {
        e = fy_uuid4(a->id_out);
    }
    if (!e) {
        e = insert_group(db, a, &pk, em);
    }
    if (!e && a->j_tags) {
        e = fy_tags_put_locked(db, a->arn, a->j_tags, FY_ERR_INVALID_REQUEST, em);
    }
    return e;
}

fy_err fy_group_create(struct fy_db *db,
                       const char *name,
                       const char *parent,
                       const struct fy_group_props *props,
                       const json_t *j_tags,
                       const char *arn,
                       char id_out[FY_UUID_LEN + 1],
                       struct fy_errmsg *em)
{
    if (!fy_valid_thing_name(name) || (parent && !fy_valid_thing_name(parent))) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST, "Invalid thing group name");
    }
    fy_err e = fy_group_props_check(props, em);
    if (!e && j_tags) {
        e = fy_tags_check(j_tags, em);
    }
    if (e) {
        return e;
    }
    struct create_args a = {name, parent, props, j_tags, arn, id_out};
    return fy_reg_in_tx(db, create_locked, &a, em);
}

/* The attribute map after an update (new reference in *out). */
static fy_err
updated_attrs(const json_t *old, const struct fy_group_props *p, json_t **out, struct fy_errmsg *em)
{
    const char *key;
    json_t *v;
    json_t *res = p->merge ? json_deep_copy(old) : json_object();
    json_object_foreach ((json_t *)p->attributes, key, v) {
        const char *s = json_string_value(v);
        int rc = 0;
        if (!res) {
            rc = -1;
        } else if (p->merge && !*s) {
            json_object_del(res, key); /* removing an absent key is fine */
        } else {
            rc = json_object_set_new(res, key, json_string(s));
        }
        if (rc != 0) {
            json_decref(res);
            return fy_fail(em, FY_ERR_NOMEM, "Out of memory");
        }
    }
    if (json_object_size(res) > FY_GROUP_ATTRS_MAX) {
        json_decref(res);
        return fy_fail(em, FY_ERR_INVALID_REQUEST, "A thing group can have at most %d attributes",
                       FY_GROUP_ATTRS_MAX);
    }
    *out = res;
    return FY_ERR_OK;
}

struct update_args {
    const char *name;
    const struct fy_group_props *props;
    int64_t expected;
    int64_t *new_version;
};

static fy_err write_update(struct fy_db *db,
                           const struct fy_grp_key *k,
                           const char *description,
                           const json_t *attrs,
                           struct fy_errmsg *em)
{
    char *text = attrs_text(attrs);
    sqlite3_stmt *st = text ? fy_db_stmt(db, SQL_UPDATE, em) : NULL;
    if (!st) {
        fy_free(text);
        return text ? FY_ERR_INTERNAL : fy_fail(em, FY_ERR_NOMEM, "Out of memory");
    }
    fy_bind_text(st, 1, description);
    fy_bind_text(st, 2, text);
    sqlite3_bind_int64(st, 3, k->id);
    sqlite3_bind_int64(st, 4, k->version);
    int rc = sqlite3_step(st);
    fy_stmt_done(st);
    fy_free(text);
    if (rc != SQLITE_DONE) {
        return fy_db_err(db, rc, em);
    }
    return sqlite3_changes(fy_db_handle(db)) == 1
               ? FY_ERR_OK
               : fy_fail(em, FY_ERR_VERSION_CONFLICT, "The thing group was updated concurrently");
}

static fy_err update_locked(struct fy_db *db, void *arg, struct fy_errmsg *em)
{
    struct update_args *a = arg;
    struct fy_grp_key k;
    struct fy_group g = {0};
    json_t *attrs = NULL;
    fy_err e = fy_grp_find(db, a->name, &k, em);
    if (!e && a->expected >= 0 && a->expected != k.version) {
        e = fy_fail(em, FY_ERR_VERSION_CONFLICT,
                    "The expected version %lld does not match the current version %lld of thing "
                    "group %.128s",
                    (long long)a->expected, (long long)k.version, a->name);
    }
    if (!e) {
        e = load_props(db, k.id, &g, em);
    }
    if (!e && a->props->attributes) {
        e = updated_attrs(g.attributes, a->props, &attrs, em);
    }
    if (!e) {
        const char *desc = a->props->description ? a->props->description : g.description;
        e = write_update(db, &k, desc, attrs ? attrs : g.attributes, em);
    }
    if (!e) {
        *a->new_version = k.version + 1;
    }
    json_decref(attrs);
    fy_group_clear(&g);
    return e;
}

fy_err fy_group_update(struct fy_db *db,
                       const char *name,
                       const struct fy_group_props *props,
                       int64_t expected_version,
                       int64_t *new_version,
                       struct fy_errmsg *em)
{
    fy_err e = fy_group_props_check(props, em);
    if (e) {
        return e;
    }
    struct update_args a = {name, props, expected_version, new_version};
    return fy_reg_in_tx(db, update_locked, &a, em);
}

struct delete_args {
    const char *name;
    int64_t expected;
};

static fy_err delete_locked(struct fy_db *db, void *arg, struct fy_errmsg *em)
{
    struct delete_args *a = arg;
    struct fy_grp_key k;
    int64_t children = 0;
    fy_err e = fy_grp_find(db, a->name, &k, em);
    if (e) {
        return e == FY_ERR_NOT_FOUND ? FY_ERR_OK : e; /* deleting nothing succeeds */
    }
    if (a->expected >= 0 && a->expected != k.version) {
        return fy_fail(em, FY_ERR_VERSION_CONFLICT,
                       "The expected version %lld does not match the current version %lld of "
                       "thing group %.128s",
                       (long long)a->expected, (long long)k.version, a->name);
    }
    e = count_rows(db, SQL_CHILD_COUNT, k.id, &children, em);
    if (!e && children > 0) {
        e = fy_fail(em, FY_ERR_INVALID_REQUEST,
                    "Cannot delete thing group : %.128s when there are still child groups "
                    "attached to it",
                    a->name);
    }
    sqlite3_stmt *st = e ? NULL : fy_db_stmt(db, SQL_DELETE, em);
    if (!st) {
        return e ? e : FY_ERR_INTERNAL;
    }
    sqlite3_bind_int64(st, 1, k.id);
    int rc = sqlite3_step(st);
    fy_stmt_done(st);
    if (rc != SQLITE_DONE) {
        return fy_db_err(db, rc, em);
    }
    st = fy_db_stmt(db, SQL_DETACH_POLICIES, em); /* a re-created group starts with none */
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    fy_bind_text(st, 1, a->name);
    rc = sqlite3_step(st);
    fy_stmt_done(st);
    return rc == SQLITE_DONE ? FY_ERR_OK : fy_db_err(db, rc, em);
}

fy_err
fy_group_delete(struct fy_db *db, const char *name, int64_t expected_version, struct fy_errmsg *em)
{
    struct delete_args a = {name, expected_version};
    return fy_reg_in_tx(db, delete_locked, &a, em);
}

/* Adapts a one-column fy_group_row_fn to fy_reg_row_fn. */
struct name_rows {
    fy_group_row_fn fn;
    void *ctx;
};

static fy_err name_row(void *ctx, const char *a, const char *b)
{
    struct name_rows *r = ctx;
    (void)b;
    return r->fn(r->ctx, a);
}

fy_err fy_grp_list_names(struct fy_db *db,
                         sqlite3_stmt *st,
                         int limit_idx,
                         int64_t limit,
                         fy_group_row_fn fn,
                         void *ctx,
                         bool *more,
                         struct fy_errmsg *em)
{
    struct name_rows r = {fn, ctx};
    return fy_reg_listing(db, st, limit_idx, limit, name_row, &r, more, em);
}

fy_err fy_group_list(struct fy_db *db,
                     const struct fy_group_filter *f,
                     const char *after,
                     int64_t limit,
                     fy_group_row_fn fn,
                     void *ctx,
                     bool *more,
                     struct fy_errmsg *em)
{
    struct fy_grp_key pk = {0};
    const char *sql = f->recursive ? SQL_LIST_ALL : SQL_LIST_ROOTS;
    *more = false;
    if (f->parent) {
        fy_err e = fy_grp_find(db, f->parent, &pk, em);
        if (e) {
            return e;
        }
        sql = f->recursive ? SQL_LIST_DESCENDANTS : SQL_LIST_CHILDREN;
    }
    sqlite3_stmt *st = fy_db_stmt(db, sql, em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    fy_bind_text(st, 1, after ? after : "");
    fy_bind_text(st, 2, f->prefix);
    sqlite3_bind_int64(st, 3, pk.id);
    return fy_grp_list_names(db, st, 4, limit, fn, ctx, more, em);
}

fy_err fy_reg_in_tx(struct fy_db *db, fy_reg_locked_fn fn, void *arg, struct fy_errmsg *em)
{
    return fy_db_run_tx(db, fn, arg, em); /* group commit */
}

fy_err fy_reg_listing(struct fy_db *db,
                      sqlite3_stmt *st,
                      int limit_idx,
                      int64_t limit,
                      fy_reg_row_fn fn,
                      void *ctx,
                      bool *more,
                      struct fy_errmsg *em)
{
    int64_t n = 0;
    int rc = SQLITE_DONE;
    fy_err e = FY_ERR_OK;
    bool two = sqlite3_column_count(st) > 1;
    *more = false;
    sqlite3_bind_int64(st, limit_idx, limit + 1);
    while (!e && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n++ == limit) {
            *more = true;
            break;
        }
        e = fn(ctx, fy_col_text(st, 0), two ? fy_col_text(st, 1) : NULL);
    }
    if (!e && !*more && rc != SQLITE_DONE) {
        e = fy_db_err(db, rc, em);
    }
    fy_stmt_done(st);
    return e;
}
