/* SearchIndex: runs a compiled query over things (or thing groups) in name order and renders
 * each match as AWS's ThingDocument / ThingGroupDocument. */
#include <string.h>

#include "core/alloc.h"
#include "core/json.h"
#include "index/index_int.h"
#include "index/query.h"
#include "index/search_int.h"

static const char SQL_ATTRS[] =
    "SELECT key, value FROM thing_attributes WHERE thing = ? ORDER BY key";
/* Static groups only, as the thingGroupNames field searches (dynamic membership is derived
 * from the index, so it is not part of it). */
static const char SQL_GROUPS[] =
    "SELECT g.name FROM thing_group_members m JOIN thing_groups g ON g.id = m.grp "
    "WHERE m.thing = ? AND g.dynamic = 0 ORDER BY g.name";
static const char SQL_SHADOWS[] =
    "SELECT name, doc, version, updated FROM shadows WHERE thing_name = ? AND deleted = 0 AND "
    "doc IS NOT NULL ORDER BY name";
static const char SQL_CONN[] =
    "SELECT connected, timestamp, disconnect_reason FROM connectivity WHERE client_id = ?";
static const char SQL_PARENTS[] =
    "WITH RECURSIVE up(id, parent, name) AS (SELECT id, parent, name FROM thing_groups WHERE id = "
    "(SELECT parent FROM thing_groups WHERE name = ?) UNION ALL SELECT g.id, g.parent, g.name FROM "
    "thing_groups g JOIN up ON g.id = up.parent) SELECT name FROM up";

static const char THING_BY_ID[] =
    "SELECT t.id, t.name, t.thing_id, ty.name FROM things t LEFT JOIN thing_types ty ON ty.id = "
    "t.type_id WHERE t.id = ?";
static const char GROUP_BY_ID[] =
    "SELECT tg.name, tg.group_id, tg.description, tg.attributes FROM thing_groups tg "
    "WHERE tg.id = ?";

/* Runs a cached statement with ?1 = key (int64 when text is NULL) and calls fn per row. */
typedef fy_err (*row_fn)(sqlite3_stmt *st, json_t *acc);

static fy_err each_row(struct fy_db *db,
                       const char *sql,
                       const char *text,
                       int64_t key,
                       row_fn fn,
                       json_t *acc,
                       struct fy_errmsg *em)
{
    sqlite3_stmt *st = fy_db_stmt(db, sql, em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    if (text) {
        fy_bind_text(st, 1, text);
    } else {
        sqlite3_bind_int64(st, 1, key);
    }
    int rc;
    fy_err e = FY_ERR_OK;
    while (!e && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        e = fn(st, acc);
    }
    fy_stmt_done(st);
    if (!e && rc != SQLITE_DONE) {
        return fy_db_err(db, rc, em);
    }
    return e == FY_ERR_NOMEM ? fy_fail(em, e, "Out of memory") : e;
}

static fy_err add_attr(sqlite3_stmt *st, json_t *acc)
{
    return json_object_set_new(acc, fy_col_text(st, 0), json_string(fy_col_text(st, 1))) == 0
               ? FY_ERR_OK
               : FY_ERR_NOMEM;
}

static fy_err add_name(sqlite3_stmt *st, json_t *acc)
{
    return json_array_append_new(acc, json_string(fy_col_text(st, 0))) == 0 ? FY_ERR_OK
                                                                            : FY_ERR_NOMEM;
}

/* Sets member key of out to v (borrowed) unless v is NULL; false when that fails (OOM). */
static bool copy_member(json_t *out, const char *key, json_t *v)
{
    return !v || json_object_set(out, key, v) == 0;
}

/* One shadow in AWS's search shape: desired, reported, delta?, metadata, hasDelta, version
 * (NULL on OOM). */
static json_t *shadow_doc(const char *doc, int64_t version)
{
    json_t *j = fy_json_loads(doc, 0);
    json_t *state = json_object_get(j, "state");
    json_t *out = json_object();
    json_t *desired = json_object_get(state, "desired");
    json_t *delta = fy_index_delta(desired, json_object_get(state, "reported"));
    bool ok =
        out && delta && copy_member(out, "desired", desired) &&
        copy_member(out, "reported", json_object_get(state, "reported")) &&
        (json_object_size(delta) == 0 || copy_member(out, "delta", delta)) &&
        copy_member(out, "metadata", json_object_get(j, "metadata")) &&
        json_object_set_new(out, "hasDelta", json_boolean(json_object_size(delta) > 0)) == 0 &&
        json_object_set_new(out, "version", json_integer(version)) == 0;
    json_decref(delta);
    json_decref(j);
    return ok ? out : (json_decref(out), NULL);
}

struct shadow_acc {
    json_t *doc;
    const struct fy_index_config *cfg;
};

static bool named_on(const struct fy_index_config *cfg, const char *name)
{
    for (int i = 0; cfg->named_shadows && i < cfg->nnamed; i++) {
        if (strcmp(cfg->named[i], name) == 0) {
            return true;
        }
    }
    return false;
}

/* Adds one shadow row to the document being built (classic at the top, named under "name"). */
static fy_err add_shadow(struct shadow_acc *a, sqlite3_stmt *st)
{
    const char *name = fy_col_text(st, 0);
    if (name[0] != '\0' && !named_on(a->cfg, name)) {
        return FY_ERR_OK;
    }
    json_t *s = shadow_doc(fy_col_text(st, 1), sqlite3_column_int64(st, 2));
    if (!s) {
        return FY_ERR_NOMEM;
    }
    if (name[0] == '\0') {
        int rc = json_object_update(a->doc, s);
        json_decref(s);
        return rc == 0 ? FY_ERR_OK : FY_ERR_NOMEM;
    }
    json_t *named = json_object_get(a->doc, "name");
    if (!named) {
        named = json_object();
        if (json_object_set_new(a->doc, "name", named) != 0) { /* named released */
            json_decref(s);
            return FY_ERR_NOMEM;
        }
    }
    return json_object_set_new(named, name, s) == 0 ? FY_ERR_OK : FY_ERR_NOMEM;
}

static fy_err shadow_string(struct fy_db *db,
                            const char *thing,
                            const struct fy_index_config *cfg,
                            json_t *item,
                            struct fy_errmsg *em)
{
    struct shadow_acc a = {json_object(), cfg};
    sqlite3_stmt *st = fy_db_stmt(db, SQL_SHADOWS, em);
    if (!st || !a.doc) {
        json_decref(a.doc);
        return st ? fy_fail(em, FY_ERR_NOMEM, "Out of memory") : FY_ERR_INTERNAL;
    }
    fy_bind_text(st, 1, thing);
    int rc;
    fy_err e = FY_ERR_OK;
    while (!e && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        e = add_shadow(&a, st);
    }
    fy_stmt_done(st);
    if (!e && rc != SQLITE_DONE) {
        e = fy_db_err(db, rc, em);
    }
    bool any = !e && json_object_size(a.doc) > 0;
    char *text = any ? fy_json_dump(a.doc) : NULL;
    if (any && (!text || json_object_set_new(item, "shadow", json_string(text)) != 0)) {
        e = fy_fail(em, FY_ERR_NOMEM, "Out of memory");
    }
    fy_free(text);
    json_decref(a.doc);
    return e;
}

static fy_err connectivity(struct fy_db *db, const char *thing, json_t *item, struct fy_errmsg *em)
{
    sqlite3_stmt *st = fy_db_stmt(db, SQL_CONN, em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    fy_bind_text(st, 1, thing);
    int rc = sqlite3_step(st);
    json_t *c = json_pack("{s:b}", "connected", rc == SQLITE_ROW && sqlite3_column_int(st, 0));
    if (c && rc == SQLITE_ROW &&
        (json_object_set_new(c, "timestamp", json_integer(sqlite3_column_int64(st, 1))) != 0 ||
         (sqlite3_column_type(st, 2) != SQLITE_NULL &&
          json_object_set_new(c, "disconnectReason", json_string(fy_col_text(st, 2))) != 0))) {
        json_decref(c);
        c = NULL;
    }
    fy_stmt_done(st);
    int set = json_object_set_new(item, "connectivity", c); /* -1 for a NULL c */
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        return fy_db_err(db, rc, em);
    }
    return set == 0 ? FY_ERR_OK : fy_fail(em, FY_ERR_NOMEM, "Out of memory");
}

/* The ThingDocument of the current row of a THINGS_SELECT statement. */
static fy_err thing_doc(struct fy_db *db,
                        sqlite3_stmt *row,
                        const struct fy_index_config *cfg,
                        json_t **out,
                        struct fy_errmsg *em)
{
    int64_t id = sqlite3_column_int64(row, 0);
    const char *name = fy_col_text(row, 1);
    json_t *item =
        json_pack("{s:s, s:s, s:o, s:o}", "thingName", name, "thingId", fy_col_text(row, 2),
                  "thingGroupNames", json_array(), "attributes", json_object());
    if (!item) {
        return fy_fail(em, FY_ERR_NOMEM, "Out of memory");
    }
    fy_err e = FY_ERR_OK;
    if (sqlite3_column_type(row, 3) != SQLITE_NULL &&
        json_object_set_new(item, "thingTypeName", json_string(fy_col_text(row, 3))) != 0) {
        e = fy_fail(em, FY_ERR_NOMEM, "Out of memory");
    }
    e = e ? e
          : each_row(db, SQL_ATTRS, NULL, id, add_attr, json_object_get(item, "attributes"), em);
    e = e ? e
          : each_row(db, SQL_GROUPS, NULL, id, add_name, json_object_get(item, "thingGroupNames"),
                     em);
    if (!e && cfg->thing_mode == FY_MODE_REGISTRY_AND_SHADOW) {
        e = shadow_string(db, name, cfg, item, em);
    }
    if (!e && cfg->connectivity) {
        e = connectivity(db, name, item, em);
    }
    if (e) {
        json_decref(item);
        return e;
    }
    *out = item;
    return FY_ERR_OK;
}

/* The ThingGroupDocument of the current row of a GROUPS_SELECT statement. */
static fy_err group_doc(struct fy_db *db, sqlite3_stmt *row, json_t **out, struct fy_errmsg *em)
{
    const char *name = fy_col_text(row, 0);
    json_t *attrs = fy_json_loads(fy_col_text(row, 3), 0);
    json_t *item = json_pack("{s:s, s:s, s:o, s:o}", "thingGroupName", name, "thingGroupId",
                             fy_col_text(row, 1), "attributes", attrs ? attrs : json_object(),
                             "parentGroupNames", json_array());
    if (!item) {
        return fy_fail(em, FY_ERR_NOMEM, "Out of memory");
    }
    fy_err e = FY_ERR_OK;
    if (sqlite3_column_type(row, 2) != SQLITE_NULL &&
        json_object_set_new(item, "thingGroupDescription", json_string(fy_col_text(row, 2))) != 0) {
        e = fy_fail(em, FY_ERR_NOMEM, "Out of memory");
    }
    e = e ? e
          : each_row(db, SQL_PARENTS, name, 0, add_name, json_object_get(item, "parentGroupNames"),
                     em);
    if (e) {
        json_decref(item);
        return e;
    }
    *out = item;
    return FY_ERR_OK;
}

/* Appends the document of row id to items (a row deleted since the id was read is skipped);
 * *name gets a copy of its name (fy_free). */
static fy_err render_one(struct fy_db *db,
                         int64_t id,
                         enum fy_index_kind kind,
                         const struct fy_index_config *cfg,
                         json_t *items,
                         char **name,
                         struct fy_errmsg *em)
{
    bool th = kind == FY_INDEX_KIND_THINGS;
    sqlite3_stmt *st = fy_db_stmt(db, th ? THING_BY_ID : GROUP_BY_ID, em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    json_t *item = NULL;
    fy_err e = FY_ERR_OK;
    if (rc == SQLITE_ROW) {
        fy_free(*name);
        *name = fy_strdup(fy_col_text(st, th ? 1 : 0));
        e = *name ? FY_ERR_OK : fy_fail(em, FY_ERR_NOMEM, "Out of memory");
        /* the row stays current while its document is built from other statements */
        e = e ? e : (th ? thing_doc(db, st, cfg, &item, em) : group_doc(db, st, &item, em));
    } else if (rc != SQLITE_DONE) {
        e = fy_db_err(db, rc, em);
    }
    if (!e && item && json_array_append_new(items, item) != 0) {
        e = fy_fail(em, FY_ERR_NOMEM, "Out of memory");
    }
    fy_stmt_done(st);
    return e;
}

fy_err fy_index_search(struct fy_db *db,
                       const char *index_name,
                       const char *query,
                       const char *after,
                       int64_t limit,
                       json_t *j_items,
                       char **next,
                       enum fy_index_kind *kind,
                       struct fy_errmsg *em)
{
    struct fy_index_config cfg;
    struct fy_search_page p = {NULL, 0, (size_t)limit + 1};
    char *last = NULL;
    *next = NULL;
    fy_err e = fy_index_open(db, index_name, kind, &cfg, em);
    p.ids = e ? NULL : fy_calloc(p.cap, sizeof(*p.ids));
    if (!e && !p.ids) {
        e = fy_fail(em, FY_ERR_NOMEM, "Out of memory");
    }
    e = e ? e : fy_search_ids(db, query, *kind, &cfg, after, FY_SEARCH_BUDGET_NS, &p, em);
    size_t shown = p.n > (size_t)limit ? (size_t)limit : p.n;
    for (size_t i = 0; !e && i < shown; i++) {
        e = render_one(db, p.ids[i], *kind, &cfg, j_items, &last, em);
    }
    if (!e && p.n > (size_t)limit) {
        *next = last;
        last = NULL;
    }
    fy_free(last);
    fy_free(p.ids);
    return e;
}
