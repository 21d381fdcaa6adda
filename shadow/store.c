/* Shadow storage (schema/0006_shadows.sql): one row per (thing, shadow name), '' = classic. */
#include <string.h>

#include "core/alloc.h"
#include "core/fytime.h"
#include "core/json.h"
#include "shadow/shadow.h"
#include "shadow/shadow_int.h"

static const char SQL_GET[] = "SELECT doc, version, deleted FROM shadows "
                              "WHERE thing_name = ?1 AND name = ?2";
/* An update writes the row it read in the same transaction: UPDATE when there was one (a
 * deleted shadow keeps its row), else INSERT; an UPSERT would first try the insert. */
static const char SQL_INSERT[] =
    "INSERT INTO shadows(thing_name, name, doc, version, deleted, updated) "
    "VALUES(?1, ?2, ?3, ?4, 0, ?5)";
static const char SQL_UPDATE[] = "UPDATE shadows SET doc = ?3, version = ?4, deleted = 0, "
                                 "updated = ?5 WHERE thing_name = ?1 AND name = ?2";
static const char SQL_DEL[] = "UPDATE shadows SET doc = NULL, deleted = 1, updated = ?3 "
                              "WHERE thing_name = ?1 AND name = ?2";
static const char SQL_PURGE[] = "DELETE FROM shadows WHERE thing_name = ?1";
static const char SQL_LIST[] = "SELECT name FROM shadows WHERE thing_name = ?1 AND name <> '' "
                               "AND deleted = 0 AND name > ?2 ORDER BY name LIMIT ?3";

/* One row as read: doc NULL when the shadow does not exist (or was deleted). */
struct shd_row {
    char *doc;
    int64_t version;
    bool exists; /* the row exists (doc NULL: deleted) */
};

static fy_err not_found(const char *thing, const char *name, struct fy_errmsg *em)
{
    return fy_fail(em, FY_ERR_NOT_FOUND, "No shadow exists with name: '%.128s'",
                   name && *name ? name : thing);
}

static fy_err read_row(struct fy_db *db,
                       const char *thing,
                       const char *name,
                       struct shd_row *row,
                       struct fy_errmsg *em)
{
    sqlite3_stmt *st = fy_db_stmt(db, SQL_GET, em);
    fy_err e = FY_ERR_OK;
    memset(row, 0, sizeof(*row));
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    fy_bind_text(st, 1, thing);
    fy_bind_text(st, 2, name ? name : "");
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        row->exists = true;
        row->version = sqlite3_column_int64(st, 1);
        if (sqlite3_column_int(st, 2) == 0 && sqlite3_column_type(st, 0) == SQLITE_TEXT) {
            row->doc = fy_strdup(fy_col_text(st, 0));
            e = row->doc ? FY_ERR_OK : FY_ERR_NOMEM;
        }
    } else if (rc != SQLITE_DONE) {
        e = fy_db_err(db, rc, em);
    }
    fy_stmt_done(st);
    return e;
}

static fy_err get_call(struct fy_db *db, struct shd_call *c, struct fy_errmsg *em)
{
    struct shd_row row;
    fy_err e = read_row(db, c->q.thing, c->q.name, &row, em);
    if (!e && !row.doc) {
        e = not_found(c->q.thing, c->q.name, em);
    }
    if (!e) {
        json_t *tok = NULL;
        e = shd_request_token(c->q.payload, c->q.len, &tok)
                ? fy_fail(em, FY_ERR_NOMEM, "Internal service failure")
                : fy_shadow_get_doc(row.doc, row.version, (int64_t)fy_now(), json_string_value(tok),
                                    &c->doc, em);
        json_decref(tok);
    }
    fy_free(row.doc);
    return e;
}

static fy_err
write_row(struct fy_db *db, const struct shd_call *c, bool exists, struct fy_errmsg *em)
{
    sqlite3_stmt *st = fy_db_stmt(db, exists ? SQL_UPDATE : SQL_INSERT, em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    fy_bind_text(st, 1, c->q.thing);
    fy_bind_text(st, 2, c->q.name ? c->q.name : "");
    fy_bind_text(st, 3, c->upd.doc);
    sqlite3_bind_int64(st, 4, c->upd.version);
    sqlite3_bind_double(st, 5, fy_now());
    int rc = sqlite3_step(st);
    fy_stmt_done(st);
    return rc == SQLITE_DONE ? FY_ERR_OK : fy_db_err(db, rc, em);
}

static fy_err update_call(struct fy_db *db, struct shd_call *c, struct fy_errmsg *em)
{
    struct shd_row row;
    if (c->q.len > FY_SHADOW_REQUEST_MAX) {
        return fy_fail(em, FY_ERR_PAYLOAD_TOO_LARGE,
                       "The payload exceeds the maximum size allowed");
    }
    fy_err e = read_row(db, c->q.thing, c->q.name, &row, em);
    if (!e) {
        e = shd_apply(row.doc, row.version, &c->q, (int64_t)fy_now(), &c->upd, em);
    }
    if (!e) {
        e = write_row(db, c, row.exists, em);
    }
    if (e) {
        fy_shadow_update_clear(&c->upd);
    }
    fy_free(row.doc);
    return e;
}

static fy_err delete_call(struct fy_db *db, struct shd_call *c, struct fy_errmsg *em)
{
    struct shd_row row;
    fy_err e = read_row(db, c->q.thing, c->q.name, &row, em);
    if (!e && !row.doc) {
        e = not_found(c->q.thing, c->q.name, em);
    }
    fy_free(row.doc);
    if (e) {
        return e;
    }
    c->version = row.version;
    json_t *tok = NULL;
    if (shd_request_token(c->q.payload, c->q.len, &tok)) {
        return fy_fail(em, FY_ERR_NOMEM, "Internal service failure");
    }
    c->doc = shd_delete_reply(row.version, tok); /* before the write: it must come last */
    json_decref(tok);
    sqlite3_stmt *st = c->doc ? fy_db_stmt(db, SQL_DEL, em) : NULL;
    if (!st) {
        return c->doc ? FY_ERR_INTERNAL : fy_fail(em, FY_ERR_NOMEM, "Internal service failure");
    }
    fy_bind_text(st, 1, c->q.thing);
    fy_bind_text(st, 2, c->q.name ? c->q.name : "");
    sqlite3_bind_double(st, 3, fy_now());
    int rc = sqlite3_step(st);
    fy_stmt_done(st);
    return rc == SQLITE_DONE ? FY_ERR_OK : fy_db_err(db, rc, em);
}

fy_err shd_call_tx(struct fy_db *db, void *arg, struct fy_errmsg *em)
{
    struct shd_call *c = arg;
    switch (c->q.op) {
    case FY_SHADOW_OP_GET:
        return get_call(db, c, em);
    case FY_SHADOW_OP_UPDATE:
        return update_call(db, c, em);
    case FY_SHADOW_OP_DELETE:
        return delete_call(db, c, em);
    }
    return fy_fail(em, FY_ERR_INTERNAL, "Internal service failure");
}

fy_err fy_shadow_get(
    struct fy_db *db, const char *thing, const char *name, char **out, struct fy_errmsg *em)
{
    struct shd_call c = {.q = {thing, name, FY_SHADOW_OP_GET, NULL, 0, false}};
    fy_err e = get_call(db, &c, em); /* a lone read needs no write transaction */
    *out = c.doc;
    return e;
}

fy_err fy_shadow_update(struct fy_db *db,
                        const char *thing,
                        const char *name,
                        const char *payload,
                        size_t len,
                        struct fy_shadow_update *out,
                        struct fy_errmsg *em)
{
    struct shd_call c = {.q = {thing, name, FY_SHADOW_OP_UPDATE, payload, len, false}};
    fy_err e = len > FY_SHADOW_REQUEST_MAX ? update_call(db, &c, em)
                                           : fy_db_run_tx(db, shd_call_tx, &c, em);
    *out = c.upd;
    return e;
}

char *shd_delete_reply(int64_t version, json_t *token)
{
    json_t *j =
        json_pack("{s:I, s:I}", "version", (json_int_t)version, "timestamp", (json_int_t)fy_now());
    char *out =
        j && (!token || json_object_set(j, "clientToken", token) == 0) ? fy_json_dump(j) : NULL;
    json_decref(j);
    return out;
}

fy_err fy_shadow_delete(
    struct fy_db *db, const char *thing, const char *name, char **out, struct fy_errmsg *em)
{
    struct shd_call c = {.q = {thing, name, FY_SHADOW_OP_DELETE, NULL, 0, false}};
    fy_err e = fy_db_run_tx(db, shd_call_tx, &c, em);
    *out = e ? NULL : c.doc; /* the reply, built by the call */
    if (e) {
        fy_free(c.doc);
    }
    return e;
}

fy_err fy_shadow_list_named(struct fy_db *db,
                            const char *thing,
                            const char *after,
                            int64_t limit,
                            json_t *j_names,
                            char **next,
                            struct fy_errmsg *em)
{
    sqlite3_stmt *st = fy_db_stmt(db, SQL_LIST, em);
    fy_err e = FY_ERR_OK;
    int64_t n = 0;
    int rc;
    *next = NULL;
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    fy_bind_text(st, 1, thing);
    fy_bind_text(st, 2, after ? after : "");
    sqlite3_bind_int64(st, 3, limit + 1);
    while (!e && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *name = fy_col_text(st, 0);
        if (n++ == limit) {
            break;
        }
        if (json_array_append_new(j_names, json_string(name)) != 0) {
            e = FY_ERR_NOMEM;
        }
    }
    if (!e && rc != SQLITE_ROW && rc != SQLITE_DONE) {
        e = fy_db_err(db, rc, em);
    }
    if (!e && n > limit) {
        *next = fy_strdup(json_string_value(json_array_get(j_names, json_array_size(j_names) - 1)));
        e = *next ? FY_ERR_OK : FY_ERR_NOMEM;
    }
    fy_stmt_done(st);
    return e;
}

fy_err fy_shadow_purge(struct fy_db *db, const char *thing, struct fy_errmsg *em)
{
    return fy_db_exec_text(db, SQL_PURGE, thing, em);
}
