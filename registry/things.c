/* Things: CreateThing, DescribeThing, UpdateThing, DeleteThing, ListThings, and the attribute
 * map helpers shared with thing groups. */
#include <string.h>

#include "core/fytime.h"
#include "registry/groups_int.h"
#include "registry/principals.h"
#include "registry/registry.h"
#include "registry/registry_int.h"

/* Every thing SELECT returns these columns in this order (see read_row). */
#define THING_COLS                                                                         \
    "t.id, t.name, t.thing_id, t.version, coalesce(t.type_id, 0), coalesce(tt.name, ''), " \
    "coalesce(t.billing_group, '') "
#define THING_FROM "things t LEFT JOIN thing_types tt ON tt.id = t.type_id "

static const char SQL_THING[] = "SELECT " THING_COLS "FROM " THING_FROM "WHERE t.name = ?1";
static const char SQL_THING_ID[] = "SELECT id FROM things WHERE name = ?1";
static const char SQL_ATTRS[] = "SELECT key, value FROM thing_attributes WHERE thing = ?1";
static const char SQL_INSERT[] =
    "INSERT INTO things(name, thing_id, type_id, billing_group, version, creation_date, "
    "modified_date) VALUES (?1, ?2, ?3, ?4, 1, ?5, ?5)";
static const char SQL_ATTR_INSERT[] =
    "INSERT INTO thing_attributes(thing, key, value, thing_name) VALUES (?1, ?2, ?3, ?4)";
static const char SQL_ATTR_CLEAR[] = "DELETE FROM thing_attributes WHERE thing = ?1";
static const char SQL_UPDATE[] = "UPDATE things SET type_id = ?1, version = version + 1, "
                                 "modified_date = ?2 WHERE id = ?3 AND version = ?4";
static const char SQL_DELETE[] = "DELETE FROM things WHERE id = ?1 AND version = ?2";

/* Listings select names only and bind ?1 = after, ?2 = limit + 1; filters bind ?3.. as noted.
 * Each exact filter walks one index in name order and stops after a page. The attribute index
 * compares values with NOCASE (for fleet indexing, 0021): the NOCASE comparisons narrow it, the
 * plain ones keep ListThings' matching exact. */
static const char SQL_LIST_ALL[] = "SELECT name FROM things WHERE name > ?1 ORDER BY name LIMIT ?2";
/* ?3 = type name */
static const char SQL_LIST_TYPE[] =
    "SELECT name FROM things WHERE type_id = (SELECT id FROM thing_types WHERE name = ?3) "
    "AND name > ?1 ORDER BY name LIMIT ?2";
/* ?3 = key, ?4 = value, ?5 = type name or NULL */
static const char SQL_LIST_ATTR_EQ[] =
    "SELECT a.thing_name FROM thing_attributes a JOIN things t ON t.id = a.thing "
    "WHERE a.key = ?3 AND a.value = ?4 COLLATE NOCASE AND a.value = ?4 AND a.thing_name > ?1 "
    "AND (?5 IS NULL OR t.type_id = (SELECT id FROM thing_types WHERE name = ?5)) "
    "ORDER BY a.thing_name LIMIT ?2";
/* Prefix and key-only filters: ?3 = key, ?4 = value prefix ('' = any value), ?5 = type name or
 * NULL. Attribute values are ASCII below 0x7f, so [prefix, prefix || char(127)) is exactly the
 * values with that prefix. Few matches are read from the attribute index and sorted by name;
 * many matches (more than SORT_MAX) are found by walking things in name order instead, which
 * stops after a page. */
#define SORT_MAX 10000
static const char SQL_COUNT_ATTR_RANGE[] =
    "SELECT count(*) FROM (SELECT 1 FROM thing_attributes WHERE key = ?1 AND value >= ?2 "
    "COLLATE NOCASE AND value < (?2 || char(127)) COLLATE NOCASE AND value >= ?2 "
    "AND value < ?2 || char(127) LIMIT ?3)";
static const char SQL_LIST_ATTR_SORT[] =
    "SELECT a.thing_name FROM thing_attributes a JOIN things t ON t.id = a.thing "
    "WHERE a.key = ?3 AND a.value >= ?4 COLLATE NOCASE AND a.value < (?4 || char(127)) COLLATE "
    "NOCASE AND a.value >= ?4 AND a.value < ?4 || char(127) AND a.thing_name > ?1 "
    "AND (?5 IS NULL OR t.type_id = (SELECT id FROM thing_types WHERE name = ?5)) "
    "ORDER BY a.thing_name LIMIT ?2";
static const char SQL_LIST_ATTR_WALK[] =
    "SELECT t.name FROM things t WHERE t.name > ?1 AND EXISTS (SELECT 1 FROM thing_attributes a "
    "WHERE a.thing = t.id AND a.key = ?3 AND a.value >= ?4 AND a.value < ?4 || char(127)) "
    "AND (?5 IS NULL OR t.type_id = (SELECT id FROM thing_types WHERE name = ?5)) "
    "ORDER BY t.name LIMIT ?2";

/* A thing row with its storage keys. */
struct thing_row {
    int64_t id;
    int64_t type_id; /* 0 = none */
    struct fy_thing t;
};

/* ---- attribute maps ---- */

fy_err fy_attrs_check(const json_t *j_attrs, struct fy_errmsg *em)
{
    const char *key;
    json_t *v;
    if (!json_is_object(j_attrs)) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST, "attributes must be a map of strings");
    }
    json_object_foreach ((json_t *)j_attrs, key, v) {
        if (!fy_valid_attr_key(key)) {
            return fy_fail(em, FY_ERR_INVALID_REQUEST,
                           "Invalid attribute name '%.128s': 1 to %d characters of "
                           "[a-zA-Z0-9_.,@/:#-]",
                           key, FY_ATTR_KEY_MAX);
        }
        if (!json_is_string(v) || !fy_valid_attr_value(json_string_value(v))) {
            return fy_fail(em, FY_ERR_INVALID_REQUEST,
                           "Invalid value for attribute '%.128s': a string of at most %d "
                           "characters of [a-zA-Z0-9_.,@/:#=[]-]",
                           key, FY_ATTR_VALUE_MAX);
        }
    }
    return FY_ERR_OK;
}

fy_err fy_attrs_apply(json_t *j_cur, const json_t *j_given, bool merge, struct fy_errmsg *em)
{
    const char *key;
    json_t *v;
    if (!merge && json_object_clear(j_cur) != 0) {
        return fy_fail(em, FY_ERR_INTERNAL, "attributes are not a map");
    }
    json_object_foreach ((json_t *)j_given, key, v) {
        const char *s = json_string_value(v);
        if (merge && !*s) {
            json_object_del(j_cur, key); /* removing an absent key is fine */
        } else if (json_object_set_new(j_cur, key, json_string(s)) != 0) {
            return fy_fail(em, FY_ERR_NOMEM, "Out of memory");
        }
    }
    return FY_ERR_OK;
}

/* The attribute-count rule of AWS: 3 without a thing type, 50 with one. */
static fy_err check_attr_count(const json_t *j_attrs, bool typed, struct fy_errmsg *em)
{
    size_t max = typed ? FY_THING_ATTRS_MAX_TYPED : FY_THING_ATTRS_MAX;
    if (j_attrs && json_object_size(j_attrs) > max) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST,
                       "A thing %s a thing type can have at most %zu attributes (got %zu)",
                       typed ? "with" : "without", max, json_object_size(j_attrs));
    }
    return FY_ERR_OK;
}

/* ---- rows ---- */

void fy_reg_copy_col(char *dst, size_t n, sqlite3_stmt *st, int col)
{
    const char *s = fy_col_text(st, col);
    size_t len = strnlen(s, n - 1);
    memcpy(dst, s, len);
    dst[len] = '\0';
}

static fy_err read_row(sqlite3_stmt *st, void *out, struct fy_errmsg *em)
{
    struct thing_row *r = out;
    (void)em;
    r->id = sqlite3_column_int64(st, 0);
    fy_reg_copy_col(r->t.name, sizeof(r->t.name), st, 1);
    fy_reg_copy_col(r->t.thing_id, sizeof(r->t.thing_id), st, 2);
    r->t.version = sqlite3_column_int64(st, 3);
    r->type_id = sqlite3_column_int64(st, 4);
    fy_reg_copy_col(r->t.type_name, sizeof(r->t.type_name), st, 5);
    fy_reg_copy_col(r->t.billing_group, sizeof(r->t.billing_group), st, 6);
    return FY_ERR_OK;
}

static fy_err read_rowid(sqlite3_stmt *st, void *out, struct fy_errmsg *em)
{
    (void)em;
    *(int64_t *)out = sqlite3_column_int64(st, 0);
    return FY_ERR_OK;
}

fy_err fy_reg_by_name(struct fy_db *db,
                      const char *sql,
                      const char *name,
                      const char *what,
                      fy_reg_read_fn read,
                      void *out,
                      struct fy_errmsg *em)
{
    sqlite3_stmt *st = fy_db_stmt(db, sql, em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    fy_bind_text(st, 1, name);
    int rc = sqlite3_step(st);
    fy_err e;
    if (rc == SQLITE_ROW) {
        e = read(st, out, em);
    } else if (rc == SQLITE_DONE) {
        e = fy_fail(em, FY_ERR_NOT_FOUND, "%s %.128s cannot be found.", what, name);
    } else {
        e = fy_db_err(db, rc, em);
    }
    fy_stmt_done(st);
    return e;
}

/* Adds the attributes of thing row id to j_attrs. */
static fy_err load_attrs(struct fy_db *db, int64_t id, json_t *j_attrs, struct fy_errmsg *em)
{
    sqlite3_stmt *st = fy_db_stmt(db, SQL_ATTRS, em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    sqlite3_bind_int64(st, 1, id);
    int rc;
    fy_err e = FY_ERR_OK;
    while (!e && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (json_object_set_new(j_attrs, fy_col_text(st, 0), json_string(fy_col_text(st, 1)))) {
            e = fy_fail(em, FY_ERR_NOMEM, "Out of memory");
        }
    }
    if (!e && rc != SQLITE_DONE) {
        e = fy_db_err(db, rc, em);
    }
    fy_stmt_done(st);
    return e;
}

/* Loads thing name (and its attributes into j_attrs unless NULL); NOT_FOUND when missing. */
static fy_err load_thing(
    struct fy_db *db, const char *name, struct thing_row *r, json_t *j_attrs, struct fy_errmsg *em)
{
    fy_err e = fy_reg_by_name(db, SQL_THING, name, "Thing", read_row, r, em);
    if (!e && j_attrs) {
        e = load_attrs(db, r->id, j_attrs, em);
    }
    return e;
}

fy_err fy_thing_rowid(struct fy_db *db, const char *name, int64_t *out, struct fy_errmsg *em)
{
    return fy_reg_by_name(db, SQL_THING_ID, name, "Thing", read_rowid, out, em);
}

/* Stores j_attrs as the attributes of thing (id, name): replacing the stored ones, or (fresh:
 * a thing inserted in this transaction) without looking for any. */
static fy_err write_attrs(struct fy_db *db,
                          int64_t id,
                          const char *name,
                          const json_t *j_attrs,
                          bool fresh,
                          struct fy_errmsg *em)
{
    const char *key;
    json_t *v;
    int rc = SQLITE_DONE;
    sqlite3_stmt *ins = fy_db_stmt(db, SQL_ATTR_INSERT, em);
    if (!ins) {
        return FY_ERR_INTERNAL;
    }
    if (!fresh) { /* a DELETE with triggers builds a temporary table even when it finds nothing */
        sqlite3_stmt *clr = fy_db_stmt(db, SQL_ATTR_CLEAR, em);
        if (!clr) {
            return FY_ERR_INTERNAL;
        }
        sqlite3_bind_int64(clr, 1, id);
        rc = sqlite3_step(clr);
        fy_stmt_done(clr);
    }
    json_object_foreach ((json_t *)j_attrs, key, v) {
        if (rc != SQLITE_DONE) {
            break;
        }
        sqlite3_bind_int64(ins, 1, id);
        fy_bind_text(ins, 2, key);
        fy_bind_text(ins, 3, json_string_value(v));
        fy_bind_text(ins, 4, name);
        rc = sqlite3_step(ins);
        fy_stmt_done(ins);
    }
    return rc == SQLITE_DONE ? FY_ERR_OK : fy_db_err(db, rc, em);
}

/* A thing type that new things may use: exists (else NOT_FOUND) and is not deprecated. */
static fy_err usable_type(struct fy_db *db, const char *name, int64_t *id, struct fy_errmsg *em)
{
    struct fy_type_key k;
    fy_err e = fy_type_find(db, name, &k, em);
    if (e) {
        return e;
    }
    if (k.deprecated) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST,
                       "Thing type %.128s is deprecated; no thing can be associated with it", name);
    }
    *id = k.id;
    return FY_ERR_OK;
}

/* ---- CreateThing ---- */

struct create_args {
    const struct fy_thing_spec *spec;
    const json_t *attrs; /* never NULL */
    struct fy_thing_created *out;
};

static fy_err check_spec(const struct fy_thing_spec *s, struct fy_errmsg *em)
{
    if (!fy_valid_thing_name(s->name)) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST,
                       "Invalid thing name '%.128s': 1 to %d characters of [a-zA-Z0-9:_-]",
                       s->name ? s->name : "", FY_NAME_MAX);
    }
    if (s->type_name && !fy_valid_thing_name(s->type_name)) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST,
                       "Invalid thingTypeName '%.128s': 1 to %d characters of [a-zA-Z0-9:_-]",
                       s->type_name, FY_NAME_MAX);
    }
    if (s->billing_group && !fy_valid_thing_name(s->billing_group)) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST,
                       "Invalid billingGroupName '%.128s': 1 to %d characters of [a-zA-Z0-9:_-]",
                       s->billing_group, FY_NAME_MAX);
    }
    fy_err e = s->attributes ? fy_attrs_check(s->attributes, em) : FY_ERR_OK;
    return e ? e : check_attr_count(s->attributes, s->type_name != NULL, em);
}

/* CreateThing on an existing name: the same configuration is a success, else ALREADY_EXISTS. */
static fy_err existing_thing(const struct create_args *a,
                             const struct thing_row *r,
                             const json_t *j_cur,
                             struct fy_errmsg *em)
{
    const struct fy_thing_spec *s = a->spec;
    bool same = strcmp(r->t.type_name, s->type_name ? s->type_name : "") == 0 &&
                strcmp(r->t.billing_group, s->billing_group ? s->billing_group : "") == 0 &&
                json_equal(j_cur, a->attrs);
    memcpy(a->out->thing_id, r->t.thing_id, sizeof(a->out->thing_id));
    if (!same) {
        return fy_fail(em, FY_ERR_ALREADY_EXISTS,
                       "Thing %.128s already exists in account with different attributes", s->name);
    }
    return FY_ERR_OK;
}

/* Inserts the thing's row and its attributes (type_id 0: none). */
static fy_err
insert_thing(struct fy_db *db, const struct create_args *a, int64_t type_id, struct fy_errmsg *em)
{
    const struct fy_thing_spec *s = a->spec;
    if (fy_uuid4(a->out->thing_id) != FY_ERR_OK) {
        return fy_fail(em, FY_ERR_INTERNAL, "Cannot generate a thing id");
    }
    sqlite3_stmt *st = fy_db_stmt(db, SQL_INSERT, em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    fy_bind_text(st, 1, s->name);
    fy_bind_text(st, 2, a->out->thing_id);
    if (type_id) {
        sqlite3_bind_int64(st, 3, type_id);
    }
    fy_bind_text(st, 4, s->billing_group);
    sqlite3_bind_double(st, 5, fy_now());
    int rc = sqlite3_step(st);
    fy_stmt_done(st);
    if (rc != SQLITE_DONE) {
        return fy_db_err(db, rc, em); /* a taken name: FY_ERR_ALREADY_EXISTS */
    }
    return write_attrs(db, sqlite3_last_insert_rowid(fy_db_handle(db)), s->name, a->attrs, true,
                       em);
}

/* After the insert was refused with e: a thing of that name, if there is one, decides instead
 * (existing_thing); else e stands. */
static fy_err
if_existing(struct fy_db *db, const struct create_args *a, fy_err e, struct fy_errmsg *em)
{
    struct thing_row r;
    struct fy_errmsg lem = {""};
    json_t *j_cur = json_object();
    fy_err found = j_cur ? load_thing(db, a->spec->name, &r, j_cur, &lem)
                         : fy_fail(&lem, FY_ERR_NOMEM, "Out of memory");
    if (found == FY_ERR_OK) {
        e = existing_thing(a, &r, j_cur, em);
    } else if (found != FY_ERR_NOT_FOUND) {
        e = found;
        *em = lem;
    }
    json_decref(j_cur);
    return e;
}

/* Inserts first: a new name, the common case, costs no lookup. A taken name, or a thing type
 * that refuses new things, leaves it to the stored thing of that name, if any (if_existing). */
static fy_err create_locked(struct fy_db *db, void *arg, struct fy_errmsg *em)
{
    struct create_args *a = arg;
    int64_t type_id = 0;
    const char *type = a->spec->type_name;
    fy_err e = type ? usable_type(db, type, &type_id, em) : FY_ERR_OK;
    if (e) {
        return if_existing(db, a, e, em);
    }
    e = insert_thing(db, a, type_id, em);
    return e == FY_ERR_ALREADY_EXISTS ? if_existing(db, a, e, em) : e;
}

fy_err fy_thing_create(struct fy_db *db,
                       const struct fy_site *site,
                       const struct fy_thing_spec *spec,
                       struct fy_thing_created *out,
                       struct fy_errmsg *em)
{
    memset(out, 0, sizeof(*out));
    fy_err e = check_spec(spec, em);
    if (e) {
        return e;
    }
    json_t *j_empty = spec->attributes ? NULL : json_object();
    struct create_args a = {spec, spec->attributes ? spec->attributes : j_empty, out};
    if (!a.attrs) {
        return fy_fail(em, FY_ERR_NOMEM, "Out of memory");
    }
    fy_arn_fmt(out->arn, sizeof(out->arn), site, "thing", spec->name);
    e = fy_reg_in_tx(db, create_locked, &a, em);
    json_decref(j_empty);
    return e;
}

/* ---- DescribeThing ---- */

fy_err fy_thing_describe(
    struct fy_db *db, const char *name, struct fy_thing *out, json_t *j_attrs, struct fy_errmsg *em)
{
    struct thing_row r;
    if (!fy_valid_thing_name(name)) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST, "Invalid thing name '%.128s'", name);
    }
    fy_err e = load_thing(db, name, &r, j_attrs, em);
    if (!e) {
        *out = r.t;
    }
    return e;
}

/* ---- UpdateThing ---- */

struct update_args {
    const struct fy_thing_update *u;
};

static fy_err check_update(const struct fy_thing_update *u, struct fy_errmsg *em)
{
    if (!fy_valid_thing_name(u->name)) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST, "Invalid thing name '%.128s'",
                       u->name ? u->name : "");
    }
    if (u->type_name && u->remove_type) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST,
                       "Cannot specify both thingTypeName and removeThingType");
    }
    if (u->type_name && !fy_valid_thing_name(u->type_name)) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST,
                       "Invalid thingTypeName '%.128s': 1 to %d characters of [a-zA-Z0-9:_-]",
                       u->type_name, FY_NAME_MAX);
    }
    return u->attributes ? fy_attrs_check(u->attributes, em) : FY_ERR_OK;
}

static fy_err
version_matches(const struct thing_row *r, const int64_t *expected, struct fy_errmsg *em)
{
    if (expected && *expected != r->t.version) {
        return fy_fail(em, FY_ERR_VERSION_CONFLICT,
                       "The version for thing %.128s does not match the expected version.",
                       r->t.name);
    }
    return FY_ERR_OK;
}

/* The type row id the thing has after the update (0 = none). */
static fy_err new_type(struct fy_db *db,
                       const struct fy_thing_update *u,
                       const struct thing_row *r,
                       int64_t *type_id,
                       struct fy_errmsg *em)
{
    *type_id = r->type_id;
    if (u->remove_type) {
        *type_id = 0;
    } else if (u->type_name && strcmp(u->type_name, r->t.type_name) != 0) {
        return usable_type(db, u->type_name, type_id, em);
    }
    return FY_ERR_OK;
}

static fy_err
write_update(struct fy_db *db, const struct thing_row *r, int64_t type_id, struct fy_errmsg *em)
{
    sqlite3_stmt *st = fy_db_stmt(db, SQL_UPDATE, em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    if (type_id) {
        sqlite3_bind_int64(st, 1, type_id);
    }
    sqlite3_bind_double(st, 2, fy_now());
    sqlite3_bind_int64(st, 3, r->id);
    sqlite3_bind_int64(st, 4, r->t.version);
    int rc = sqlite3_step(st);
    fy_stmt_done(st);
    if (rc != SQLITE_DONE) {
        return fy_db_err(db, rc, em);
    }
    if (sqlite3_changes(fy_db_handle(db)) == 0) {
        return fy_fail(em, FY_ERR_VERSION_CONFLICT,
                       "The version for thing %.128s does not match the expected version.",
                       r->t.name);
    }
    return FY_ERR_OK;
}

static fy_err update_locked(struct fy_db *db, void *arg, struct fy_errmsg *em)
{
    const struct fy_thing_update *u = ((struct update_args *)arg)->u;
    struct thing_row r;
    int64_t type_id = 0;
    json_t *j_attrs = json_object();
    if (!j_attrs) {
        return fy_fail(em, FY_ERR_NOMEM, "Out of memory");
    }
    fy_err e = load_thing(db, u->name, &r, j_attrs, em);
    if (!e) {
        e = version_matches(&r, u->expected_version, em);
    }
    if (!e) {
        e = new_type(db, u, &r, &type_id, em);
    }
    if (!e && u->attributes) {
        e = fy_attrs_apply(j_attrs, u->attributes, u->merge, em);
    }
    if (!e) {
        e = check_attr_count(j_attrs, type_id != 0, em);
    }
    if (!e) {
        e = write_update(db, &r, type_id, em);
    }
    if (!e && u->attributes) {
        e = write_attrs(db, r.id, r.t.name, j_attrs, false, em);
    }
    json_decref(j_attrs);
    return e;
}

fy_err fy_thing_update(struct fy_db *db, const struct fy_thing_update *u, struct fy_errmsg *em)
{
    struct update_args a = {u};
    fy_err e = check_update(u, em);
    return e ? e : fy_reg_in_tx(db, update_locked, &a, em);
}

/* ---- DeleteThing ---- */

struct delete_args {
    const char *name;
    const int64_t *expected;
};

static fy_err delete_locked(struct fy_db *db, void *arg, struct fy_errmsg *em)
{
    struct delete_args *a = arg;
    struct thing_row r;
    fy_err e = load_thing(db, a->name, &r, NULL, em);
    if (e == FY_ERR_NOT_FOUND) {
        return FY_ERR_OK; /* AWS: deleting a missing thing succeeds */
    }
    if (!e) {
        e = version_matches(&r, a->expected, em);
    }
    if (!e && fy_principal_count_for_thing(db, r.id) != 0) {
        e = fy_fail(em, FY_ERR_INVALID_REQUEST,
                    "Cannot delete. Thing %.128s is still attached to one or more principals",
                    a->name);
    }
    sqlite3_stmt *st = e ? NULL : fy_db_stmt(db, SQL_DELETE, em);
    if (!st) {
        return e ? e : FY_ERR_INTERNAL;
    }
    sqlite3_bind_int64(st, 1, r.id);
    sqlite3_bind_int64(st, 2, r.t.version);
    int rc = sqlite3_step(st);
    fy_stmt_done(st);
    return rc == SQLITE_DONE ? FY_ERR_OK : fy_db_err(db, rc, em);
}

fy_err fy_thing_delete(struct fy_db *db,
                       const char *name,
                       const int64_t *expected_version,
                       struct fy_errmsg *em)
{
    struct delete_args a = {name, expected_version};
    if (!fy_valid_thing_name(name)) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST, "Invalid thing name '%.128s'", name ? name : "");
    }
    return fy_reg_in_tx(db, delete_locked, &a, em);
}

/* ---- ListThings ---- */

/* The listing statement for a prefix or key-only filter: sort the matches when there are few. */
static const char *
range_sql(struct fy_db *db, const struct fy_thing_filter *f, struct fy_errmsg *em)
{
    sqlite3_stmt *st = fy_db_stmt(db, SQL_COUNT_ATTR_RANGE, em);
    if (!st) {
        return NULL;
    }
    fy_bind_text(st, 1, f->attr_name);
    fy_bind_text(st, 2, f->attr_value ? f->attr_value : "");
    sqlite3_bind_int(st, 3, SORT_MAX + 1);
    int rc = sqlite3_step(st);
    int64_t n = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    fy_stmt_done(st);
    if (n < 0) {
        fy_db_err(db, rc, em);
        return NULL;
    }
    return n > SORT_MAX ? SQL_LIST_ATTR_WALK : SQL_LIST_ATTR_SORT;
}

/* Picks and binds the listing statement for f (after/limit are bound by the caller). */
static sqlite3_stmt *
list_stmt(struct fy_db *db, const struct fy_thing_filter *f, struct fy_errmsg *em)
{
    sqlite3_stmt *st;
    if (!f->attr_name) {
        st = fy_db_stmt(db, f->type_name ? SQL_LIST_TYPE : SQL_LIST_ALL, em);
        if (st && f->type_name) {
            fy_bind_text(st, 3, f->type_name);
        }
        return st;
    }
    const char *sql = f->attr_value && !f->attr_prefix ? SQL_LIST_ATTR_EQ : range_sql(db, f, em);
    st = sql ? fy_db_stmt(db, sql, em) : NULL;
    if (st) {
        fy_bind_text(st, 3, f->attr_name);
        fy_bind_text(st, 4, f->attr_value ? f->attr_value : "");
        fy_bind_text(st, 5, f->type_name);
    }
    return st;
}

struct list_ctx {
    struct fy_db *db;
    fy_thing_row_fn fn;
    void *ctx;
    struct fy_errmsg *em;
};

/* Loads one listed thing with a fresh attribute map and passes it to the caller's fn. */
static fy_err list_row(void *arg, const char *name, const char *unused)
{
    struct list_ctx *l = arg;
    struct thing_row r;
    json_t *j_attrs = json_object();
    (void)unused;
    if (!j_attrs) {
        return fy_fail(l->em, FY_ERR_NOMEM, "Out of memory");
    }
    fy_err e = load_thing(l->db, name, &r, j_attrs, l->em);
    if (!e) {
        e = l->fn(l->ctx, &r.t, j_attrs);
    }
    json_decref(j_attrs);
    return e;
}

fy_err fy_thing_list(struct fy_db *db,
                     const struct fy_thing_filter *f,
                     const char *after,
                     int64_t limit,
                     fy_thing_row_fn fn,
                     void *ctx,
                     bool *more,
                     struct fy_errmsg *em)
{
    struct list_ctx l = {db, fn, ctx, em};
    *more = false;
    if (f->attr_value && !f->attr_name) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST, "attributeValue requires attributeName");
    }
    sqlite3_stmt *st = list_stmt(db, f, em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    fy_bind_text(st, 1, after ? after : "");
    return fy_reg_listing(db, st, 2, limit, list_row, &l, more, em);
}
