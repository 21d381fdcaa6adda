/* Thing types: CreateThingType, DescribeThingType, ListThingTypes, DeprecateThingType,
 * DeleteThingType. thingTypeProperties is stored whole (key-sorted JSON) so that Describe
 * returns what Create was given and idempotent creates compare like for like. */
#include <string.h>

#include "core/alloc.h"
#include "core/fytime.h"
#include "core/json.h"
#include "registry/groups.h"
#include "registry/groups_int.h"
#include "registry/registry.h"
#include "registry/registry_int.h"

#define USER_PROPERTY_KEY_MAX 128

/* Every thing type SELECT returns these columns in this order (see read_type). */
#define TYPE_COLS \
    "name, type_id, deprecated, coalesce(deprecation_date, 0), creation_date, properties "

static const char SQL_KEY[] =
    "SELECT id, deprecated, coalesce(deprecation_date, 0) FROM thing_types WHERE name = ?1";
static const char SQL_TYPE[] = "SELECT " TYPE_COLS "FROM thing_types WHERE name = ?1";
static const char SQL_INSERT[] =
    "INSERT INTO thing_types(name, type_id, description, searchable_attributes, properties, "
    "creation_date) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
static const char SQL_LIST[] = "SELECT name FROM thing_types WHERE name > ?1 "
                               "AND (?3 IS NULL OR name = ?3) ORDER BY name LIMIT ?2";
static const char SQL_DEPRECATE[] =
    "UPDATE thing_types SET deprecated = 1, deprecation_date = coalesce(deprecation_date, ?2) "
    "WHERE name = ?1";
static const char SQL_UNDEPRECATE[] =
    "UPDATE thing_types SET deprecated = 0, deprecation_date = NULL WHERE name = ?1";
static const char SQL_IN_USE[] = "SELECT 1 FROM things WHERE type_id = ?1 LIMIT 1";
static const char SQL_DELETE[] = "DELETE FROM thing_types WHERE id = ?1";

static fy_err read_key(sqlite3_stmt *st, void *out, struct fy_errmsg *em)
{
    struct fy_type_key *k = out;
    (void)em;
    k->id = sqlite3_column_int64(st, 0);
    k->deprecated = sqlite3_column_int(st, 1) != 0;
    k->deprecation_date = sqlite3_column_double(st, 2);
    return FY_ERR_OK;
}

fy_err fy_type_find(struct fy_db *db, const char *name, struct fy_type_key *k, struct fy_errmsg *em)
{
    return fy_reg_by_name(db, SQL_KEY, name, "Thing Type", read_key, k, em);
}

void fy_thing_type_clear(struct fy_thing_type *t)
{
    json_decref(t->properties);
    memset(t, 0, sizeof(*t));
}

/* ---- validation ---- */

static fy_err check_searchable(const json_t *j, struct fy_errmsg *em)
{
    size_t i;
    json_t *v;
    if (!json_is_array(j)) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST, "searchableAttributes must be a list");
    }
    if (json_array_size(j) > FY_TYPE_SEARCHABLE_MAX) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST,
                       "A thing type can have at most %d searchable attributes",
                       FY_TYPE_SEARCHABLE_MAX);
    }
    json_array_foreach (j, i, v) {
        if (!fy_valid_attr_key(json_string_value(v))) {
            return fy_fail(em, FY_ERR_INVALID_REQUEST,
                           "Invalid searchable attribute name: 1 to %d characters of "
                           "[a-zA-Z0-9_.,@/:#-]",
                           FY_ATTR_KEY_MAX);
        }
    }
    return FY_ERR_OK;
}

static bool user_property_key_ok(const char *k)
{
    size_t n = strlen(k);
    if (n < 1 || n > USER_PROPERTY_KEY_MAX) {
        return false;
    }
    return strspn(k, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:$.") == n;
}

/* mqtt5Configuration {propagatingAttributes: [{userPropertyKey*, thingAttribute,
 * connectionAttribute}]} (the newer iot model); stored as given once its shape is right. */
static fy_err check_mqtt5(const json_t *j, struct fy_errmsg *em)
{
    json_error_t err;
    json_t *list = NULL, *v;
    size_t i;
    if (json_unpack_ex((json_t *)j, &err, 0, "{s?o !}", "propagatingAttributes", &list) != 0 ||
        (list && !json_is_array(list))) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST, "Invalid mqtt5Configuration: %.200s",
                       list ? "propagatingAttributes must be a list" : err.text);
    }
    json_array_foreach (list, i, v) {
        const char *key = NULL, *thing_attr = NULL, *conn_attr = NULL;
        if (json_unpack_ex(v, &err, 0, "{s:s, s?s, s?s !}", "userPropertyKey", &key,
                           "thingAttribute", &thing_attr, "connectionAttribute", &conn_attr)) {
            return fy_fail(em, FY_ERR_INVALID_REQUEST,
                           "Invalid mqtt5Configuration.propagatingAttributes: %.200s", err.text);
        }
        if (!user_property_key_ok(key) || (thing_attr && !fy_valid_attr_key(thing_attr))) {
            return fy_fail(em, FY_ERR_INVALID_REQUEST,
                           "Invalid userPropertyKey or thingAttribute in mqtt5Configuration");
        }
    }
    return FY_ERR_OK;
}

static fy_err check_type_spec(const struct fy_thing_type_spec *s, struct fy_errmsg *em)
{
    if (!fy_valid_thing_name(s->name)) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST,
                       "Invalid thing type name '%.128s': 1 to %d characters of [a-zA-Z0-9:_-]",
                       s->name ? s->name : "", FY_NAME_MAX);
    }
    if (s->description && !fy_valid_description(s->description)) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST,
                       "thingTypeDescription must be at most %d printable characters",
                       FY_DESCRIPTION_MAX);
    }
    fy_err e = s->searchable ? check_searchable(s->searchable, em) : FY_ERR_OK;
    if (!e && s->mqtt5) {
        e = check_mqtt5(s->mqtt5, em);
    }
    if (!e && s->tags) {
        e = fy_tags_check(s->tags, em);
    }
    return e;
}

/* The thingTypeProperties object of a spec (new reference, NULL on OOM). */
static json_t *props_to_json(const struct fy_thing_type_spec *s)
{
    json_t *j = json_object();
    if (j && s->description) {
        json_object_set_new(j, "thingTypeDescription", json_string(s->description));
    }
    if (j && s->searchable) {
        json_object_set_new(j, "searchableAttributes", json_deep_copy(s->searchable));
    }
    if (j && s->mqtt5) {
        json_object_set_new(j, "mqtt5Configuration", json_deep_copy(s->mqtt5));
    }
    size_t want = (s->description != NULL) + (s->searchable != NULL) + (s->mqtt5 != NULL);
    if (j && json_object_size(j) != want) {
        json_decref(j);
        return NULL;
    }
    return j;
}

/* ---- rows ---- */

static fy_err read_type(sqlite3_stmt *st, void *out, struct fy_errmsg *em)
{
    struct fy_thing_type *t = out;
    const char *props = fy_col_text(st, 5);
    memset(t, 0, sizeof(*t));
    fy_reg_copy_col(t->name, sizeof(t->name), st, 0);
    fy_reg_copy_col(t->type_id, sizeof(t->type_id), st, 1);
    t->deprecated = sqlite3_column_int(st, 2) != 0;
    t->deprecation_date = sqlite3_column_double(st, 3);
    t->creation_date = sqlite3_column_double(st, 4);
    t->properties = fy_json_loads(props, JSON_REJECT_DUPLICATES);
    if (!t->properties) {
        t->properties = json_object(); /* unreadable text reads as no properties */
    }
    return t->properties ? FY_ERR_OK : fy_fail(em, FY_ERR_NOMEM, "Out of memory");
}

/* Loads thing type name; NOT_FOUND when missing. */
static fy_err
load_type(struct fy_db *db, const char *name, struct fy_thing_type *t, struct fy_errmsg *em)
{
    return fy_reg_by_name(db, SQL_TYPE, name, "Thing Type", read_type, t, em);
}

/* ---- CreateThingType ---- */

struct create_args {
    const struct fy_thing_type_spec *spec;
    const json_t *props;
    struct fy_thing_type_created *out;
};

static fy_err insert_type(struct fy_db *db, const struct create_args *a, struct fy_errmsg *em)
{
    const json_t *srch = a->spec->searchable;
    json_t *j_empty = srch ? NULL : json_array();
    char *srch_text = fy_json_dumps(srch ? srch : j_empty, JSON_COMPACT);
    char *props_text = fy_json_dumps(a->props, JSON_COMPACT | JSON_SORT_KEYS);
    sqlite3_stmt *st = srch_text && props_text ? fy_db_stmt(db, SQL_INSERT, em) : NULL;
    fy_err e = FY_ERR_OK;
    json_decref(j_empty);
    if (!st) {
        e = srch_text && props_text ? FY_ERR_INTERNAL : fy_fail(em, FY_ERR_NOMEM, "Out of memory");
    } else {
        fy_bind_text(st, 1, a->spec->name);
        fy_bind_text(st, 2, a->out->type_id);
        fy_bind_text(st, 3, a->spec->description);
        fy_bind_text(st, 4, srch_text);
        fy_bind_text(st, 5, props_text);
        sqlite3_bind_double(st, 6, fy_now());
        int rc = sqlite3_step(st);
        fy_stmt_done(st);
        e = rc == SQLITE_DONE ? FY_ERR_OK : fy_db_err(db, rc, em);
    }
    fy_free(srch_text);
    fy_free(props_text);
    return e;
}

static fy_err create_locked(struct fy_db *db, void *arg, struct fy_errmsg *em)
{
    struct create_args *a = arg;
    struct fy_thing_type t = {0};
    fy_err e = load_type(db, a->spec->name, &t, em);
    if (e == FY_ERR_OK) {
        memcpy(a->out->type_id, t.type_id, sizeof(a->out->type_id));
        if (!json_equal(t.properties, (json_t *)a->props)) {
            e = fy_fail(em, FY_ERR_ALREADY_EXISTS,
                        "Thing Type %.128s already exists with different properties",
                        a->spec->name);
        }
        fy_thing_type_clear(&t);
        return e;
    }
    if (e != FY_ERR_NOT_FOUND) {
        return e;
    }
    if (fy_uuid4(a->out->type_id) != FY_ERR_OK) {
        return fy_fail(em, FY_ERR_INTERNAL, "Cannot generate a thing type id");
    }
    e = insert_type(db, a, em);
    if (!e && a->spec->tags) {
        e = fy_tags_put_locked(db, a->out->arn, a->spec->tags, FY_ERR_INVALID_REQUEST, em);
    }
    return e;
}

fy_err fy_thing_type_create(struct fy_db *db,
                            const struct fy_site *site,
                            const struct fy_thing_type_spec *spec,
                            struct fy_thing_type_created *out,
                            struct fy_errmsg *em)
{
    memset(out, 0, sizeof(*out));
    fy_err e = check_type_spec(spec, em);
    if (e) {
        return e;
    }
    json_t *props = props_to_json(spec);
    if (!props) {
        return fy_fail(em, FY_ERR_NOMEM, "Out of memory");
    }
    fy_arn_fmt(out->arn, sizeof(out->arn), site, "thingtype", spec->name);
    struct create_args a = {spec, props, out};
    e = fy_reg_in_tx(db, create_locked, &a, em);
    json_decref(props);
    return e;
}

/* ---- DescribeThingType, ListThingTypes ---- */

fy_err fy_thing_type_describe(struct fy_db *db,
                              const char *name,
                              struct fy_thing_type *out,
                              struct fy_errmsg *em)
{
    memset(out, 0, sizeof(*out));
    if (!fy_valid_thing_name(name)) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST, "Invalid thing type name '%.128s'",
                       name ? name : "");
    }
    return load_type(db, name, out, em);
}

struct list_ctx {
    struct fy_db *db;
    fy_thing_type_row_fn fn;
    void *ctx;
    struct fy_errmsg *em;
};

static fy_err list_row(void *arg, const char *name, const char *unused)
{
    struct list_ctx *l = arg;
    struct fy_thing_type t = {0};
    (void)unused;
    fy_err e = load_type(l->db, name, &t, l->em);
    if (!e) {
        e = l->fn(l->ctx, &t);
    }
    fy_thing_type_clear(&t);
    return e;
}

fy_err fy_thing_type_list(struct fy_db *db,
                          const char *name_filter,
                          const char *after,
                          int64_t limit,
                          fy_thing_type_row_fn fn,
                          void *ctx,
                          bool *more,
                          struct fy_errmsg *em)
{
    struct list_ctx l = {db, fn, ctx, em};
    *more = false;
    sqlite3_stmt *st = fy_db_stmt(db, SQL_LIST, em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    fy_bind_text(st, 1, after ? after : "");
    fy_bind_text(st, 3, name_filter);
    return fy_reg_listing(db, st, 2, limit, list_row, &l, more, em);
}

/* ---- DeprecateThingType, DeleteThingType ---- */

fy_err fy_thing_type_deprecate(struct fy_db *db, const char *name, bool undo, struct fy_errmsg *em)
{
    if (!fy_valid_thing_name(name)) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST, "Invalid thing type name '%.128s'",
                       name ? name : "");
    }
    sqlite3_stmt *st = fy_db_stmt(db, undo ? SQL_UNDEPRECATE : SQL_DEPRECATE, em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    fy_bind_text(st, 1, name);
    if (!undo) {
        sqlite3_bind_double(st, 2, fy_now());
    }
    int rc = sqlite3_step(st);
    fy_stmt_done(st);
    if (rc != SQLITE_DONE) {
        return fy_db_err(db, rc, em);
    }
    if (sqlite3_changes(fy_db_handle(db)) == 0) {
        return fy_fail(em, FY_ERR_NOT_FOUND, "Thing Type %.128s cannot be found.", name);
    }
    return FY_ERR_OK;
}

struct delete_args {
    const char *name;
    int64_t wait;
};

/* INVALID_REQUEST unless the type has been deprecated for the waiting period. */
static fy_err
check_deletable(const struct delete_args *a, const struct fy_type_key *k, struct fy_errmsg *em)
{
    if (!k->deprecated) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST,
                       "Thing Type %.128s cannot be deleted: deprecate it first, then wait %lld "
                       "seconds",
                       a->name, (long long)a->wait);
    }
    double waited = fy_now() - k->deprecation_date;
    if (waited < (double)a->wait) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST,
                       "Thing Type %.128s was deprecated %.0f seconds ago; it can be deleted "
                       "%lld seconds after its deprecation",
                       a->name, waited, (long long)a->wait);
    }
    return FY_ERR_OK;
}

static fy_err delete_locked(struct fy_db *db, void *arg, struct fy_errmsg *em)
{
    struct delete_args *a = arg;
    struct fy_type_key k;
    fy_err e = fy_type_find(db, a->name, &k, em);
    if (!e) {
        e = check_deletable(a, &k, em);
    }
    sqlite3_stmt *use = e ? NULL : fy_db_stmt(db, SQL_IN_USE, em);
    sqlite3_stmt *del = use ? fy_db_stmt(db, SQL_DELETE, em) : NULL;
    if (!del) {
        return e ? e : FY_ERR_INTERNAL;
    }
    sqlite3_bind_int64(use, 1, k.id);
    int rc = sqlite3_step(use);
    fy_stmt_done(use);
    if (rc == SQLITE_ROW) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST,
                       "Thing Type %.128s cannot be deleted: things are still associated with it",
                       a->name);
    }
    if (rc != SQLITE_DONE) {
        return fy_db_err(db, rc, em);
    }
    sqlite3_bind_int64(del, 1, k.id);
    rc = sqlite3_step(del);
    fy_stmt_done(del);
    return rc == SQLITE_DONE ? FY_ERR_OK : fy_db_err(db, rc, em);
}

fy_err fy_thing_type_delete(struct fy_db *db,
                            const char *name,
                            int64_t delete_wait_seconds,
                            struct fy_errmsg *em)
{
    struct delete_args a = {name, delete_wait_seconds};
    if (!fy_valid_thing_name(name)) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST, "Invalid thing type name '%.128s'",
                       name ? name : "");
    }
    return fy_reg_in_tx(db, delete_locked, &a, em);
}
