#include "registry/principals.h"

#include <string.h>

#include "core/fytime.h"
#include "core/names.h"
#include "registry/groups_int.h"
#include "registry/registry.h"

static const char SQL_CERT_EXISTS[] = "SELECT 1 FROM certificates WHERE cert_id = ?";
static const char SQL_OTHER_ATTACH[] =
    "SELECT count(*), sum(type = 'EXCLUSIVE_THING') FROM thing_principals "
    "WHERE principal = ? AND thing <> ?";
static const char SQL_ATTACH[] =
    "INSERT INTO thing_principals(thing, principal, type, attached) VALUES (?, ?, ?, ?) "
    "ON CONFLICT(thing, principal) DO UPDATE SET type = excluded.type";
static const char SQL_DETACH[] = "DELETE FROM thing_principals WHERE thing = ? AND principal = ?";
static const char SQL_LIST_FOR_THING[] =
    "SELECT principal, type FROM thing_principals WHERE thing = ? AND principal > ? "
    "AND (?3 IS NULL OR type = ?3) ORDER BY principal LIMIT ?";
static const char SQL_LIST_THINGS[] =
    "SELECT t.name, p.type FROM thing_principals p JOIN things t ON t.id = p.thing "
    "WHERE p.principal = ? AND t.name > ? AND (?3 IS NULL OR p.type = ?3) "
    "ORDER BY t.name LIMIT ?";
static const char SQL_COUNT[] = "SELECT count(*) FROM thing_principals WHERE thing = ?";

bool fy_principal_type_valid(const char *type)
{
    return type && (strcmp(type, FY_PRINCIPAL_EXCLUSIVE) == 0 ||
                    strcmp(type, FY_PRINCIPAL_NON_EXCLUSIVE) == 0);
}

/* Checks that principal is the ARN of a registered certificate. */
static fy_err check_principal(struct fy_db *db, const char *principal, struct fy_errmsg *em)
{
    struct fy_arn arn;
    if (fy_arn_parse(principal, &arn, em) != FY_ERR_OK || strcmp(arn.type, "cert") != 0 ||
        strlen(arn.resource) != 64) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST,
                       "Principal %.200s is not a certificate ARN "
                       "(arn:aws:iot:REGION:ACCOUNT:cert/CERTIFICATE_ID)",
                       principal);
    }
    sqlite3_stmt *st = fy_db_stmt(db, SQL_CERT_EXISTS, em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    fy_bind_text(st, 1, arn.resource);
    int rc = sqlite3_step(st);
    fy_stmt_done(st);
    if (rc == SQLITE_DONE) {
        return fy_fail(em, FY_ERR_NOT_FOUND, "The certificate %.64s does not exist", arn.resource);
    }
    return rc == SQLITE_ROW ? FY_ERR_OK : fy_db_err(db, rc, em);
}

/* Enforces exclusivity against the principal's other attachments. */
static fy_err check_exclusive(
    struct fy_db *db, const char *principal, int64_t thing, const char *type, struct fy_errmsg *em)
{
    sqlite3_stmt *st = fy_db_stmt(db, SQL_OTHER_ATTACH, em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    fy_bind_text(st, 1, principal);
    sqlite3_bind_int64(st, 2, thing);
    int rc = sqlite3_step(st);
    int64_t others = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    int64_t exclusive = rc == SQLITE_ROW ? sqlite3_column_int64(st, 1) : 0;
    fy_stmt_done(st);
    if (rc != SQLITE_ROW) {
        return fy_db_err(db, rc, em);
    }
    if (exclusive > 0) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST,
                       "Principal %.200s is exclusively attached to another thing", principal);
    }
    if (others > 0 && strcmp(type, FY_PRINCIPAL_EXCLUSIVE) == 0) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST,
                       "Principal %.200s is attached to other things and cannot be attached "
                       "exclusively",
                       principal);
    }
    return FY_ERR_OK;
}

static fy_err attach_locked(struct fy_db *db,
                            const char *thing_name,
                            const char *principal,
                            const char *type,
                            struct fy_errmsg *em)
{
    int64_t thing;
    fy_err e = fy_thing_rowid(db, thing_name, &thing, em);
    if (!e) {
        e = check_principal(db, principal, em);
    }
    if (!e) {
        e = check_exclusive(db, principal, thing, type, em);
    }
    if (e) {
        return e;
    }
    sqlite3_stmt *st = fy_db_stmt(db, SQL_ATTACH, em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    sqlite3_bind_int64(st, 1, thing);
    fy_bind_text(st, 2, principal);
    fy_bind_text(st, 3, type);
    sqlite3_bind_double(st, 4, fy_now());
    int rc = sqlite3_step(st);
    fy_stmt_done(st);
    return rc == SQLITE_DONE ? FY_ERR_OK : fy_db_err(db, rc, em);
}

fy_err fy_principal_attach(struct fy_db *db,
                           const char *thing_name,
                           const char *principal,
                           const char *type,
                           struct fy_errmsg *em)
{
    if (!type) {
        type = FY_PRINCIPAL_NON_EXCLUSIVE;
    }
    if (!fy_principal_type_valid(type)) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST,
                       "thingPrincipalType must be EXCLUSIVE_THING or NON_EXCLUSIVE_THING");
    }
    FY_DB_RETURN_IN_CHANGE_TX(db, em, attach_locked(db, thing_name, principal, type, em));
}

static fy_err
detach_locked(struct fy_db *db, const char *thing_name, const char *principal, struct fy_errmsg *em)
{
    int64_t thing;
    fy_err e = fy_thing_rowid(db, thing_name, &thing, em);
    if (e) {
        return e;
    }
    sqlite3_stmt *st = fy_db_stmt(db, SQL_DETACH, em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    sqlite3_bind_int64(st, 1, thing);
    fy_bind_text(st, 2, principal);
    int rc = sqlite3_step(st);
    fy_stmt_done(st);
    return rc == SQLITE_DONE ? FY_ERR_OK : fy_db_err(db, rc, em);
}

fy_err fy_principal_detach(struct fy_db *db,
                           const char *thing_name,
                           const char *principal,
                           struct fy_errmsg *em)
{
    FY_DB_RETURN_IN_CHANGE_TX(db, em, detach_locked(db, thing_name, principal, em));
}

fy_err fy_principal_list_for_thing(struct fy_db *db,
                                   const char *thing_name,
                                   const char *after,
                                   int64_t limit,
                                   const char *type,
                                   fy_principal_row_fn fn,
                                   void *ctx,
                                   bool *more,
                                   struct fy_errmsg *em)
{
    int64_t thing;
    fy_err e = fy_thing_rowid(db, thing_name, &thing, em);
    if (e) {
        return e;
    }
    sqlite3_stmt *st = fy_db_stmt(db, SQL_LIST_FOR_THING, em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    sqlite3_bind_int64(st, 1, thing);
    fy_bind_text(st, 2, after ? after : "");
    fy_bind_text(st, 3, type);
    return fy_reg_listing(db, st, 4, limit, fn, ctx, more, em);
}

fy_err fy_principal_list_things(struct fy_db *db,
                                const char *principal,
                                const char *after,
                                int64_t limit,
                                const char *type,
                                fy_principal_row_fn fn,
                                void *ctx,
                                bool *more,
                                struct fy_errmsg *em)
{
    fy_err e = check_principal(db, principal, em);
    if (e) {
        return e;
    }
    sqlite3_stmt *st = fy_db_stmt(db, SQL_LIST_THINGS, em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    fy_bind_text(st, 1, principal);
    fy_bind_text(st, 2, after ? after : "");
    fy_bind_text(st, 3, type);
    return fy_reg_listing(db, st, 4, limit, fn, ctx, more, em);
}

int64_t fy_principal_count_for_thing(struct fy_db *db, int64_t thing_rowid)
{
    sqlite3_stmt *st = fy_db_stmt(db, SQL_COUNT, NULL);
    if (!st) {
        return -1;
    }
    sqlite3_bind_int64(st, 1, thing_rowid);
    int64_t n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    fy_stmt_done(st);
    return n;
}
