#include "registry/certs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/codec.h"
#include "core/fytime.h"

/* Device certificates. */
static const char SQL_C_INSERT[] =
    "INSERT INTO certificates(cert_id, pem, status, ca_cert_id, mode, owned_by, generation_id, "
    "not_before, not_after, creation_date, last_modified) VALUES (?,?,?,?,?,?,?,?,?,?,?)";
static const char SQL_C_GET[] =
    "SELECT cert_id, pem, status, ca_cert_id, mode, owned_by, customer_version, generation_id, "
    "not_before, not_after, creation_date, last_modified, NULL, NULL FROM certificates "
    "WHERE cert_id = ?";
static const char SQL_C_STATUS[] =
    "UPDATE certificates SET status = ?, last_modified = ?, customer_version = "
    "customer_version + 1, generation_id = ? WHERE cert_id = ?";
static const char SQL_C_DELETE[] = "DELETE FROM certificates WHERE cert_id = ?";
static const char SQL_C_LIST_ASC[] =
    "SELECT cert_id, pem, status, ca_cert_id, mode, owned_by, customer_version, generation_id, "
    "not_before, not_after, creation_date, last_modified, NULL, NULL FROM certificates "
    "WHERE (?1 IS NULL OR ca_cert_id = ?1) AND (creation_date, cert_id) > (?2, ?3) "
    "ORDER BY creation_date, cert_id LIMIT ?4";
static const char SQL_C_LIST_DESC[] =
    "SELECT cert_id, pem, status, ca_cert_id, mode, owned_by, customer_version, generation_id, "
    "not_before, not_after, creation_date, last_modified, NULL, NULL FROM certificates "
    "WHERE (?1 IS NULL OR ca_cert_id = ?1) AND (creation_date, cert_id) < (?2, ?3) "
    "ORDER BY creation_date DESC, cert_id DESC LIMIT ?4";
static const char SQL_C_THINGS[] = "SELECT count(*) FROM thing_principals WHERE principal = ?";
static const char SQL_C_POLICIES[] = "SELECT count(*) FROM policy_attachments WHERE target = ?";
static const char SQL_C_DETACH_POLICIES[] = "DELETE FROM policy_attachments WHERE target = ?";

/* CA certificates. */
static const char SQL_CA_INSERT[] =
    "INSERT INTO ca_certificates(cert_id, pem, status, auto_registration, registration_config, "
    "mode, owned_by, generation_id, not_before, not_after, creation_date, last_modified) "
    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?)";
static const char SQL_CA_GET[] =
    "SELECT cert_id, pem, status, NULL, mode, owned_by, customer_version, generation_id, "
    "not_before, not_after, creation_date, last_modified, auto_registration, "
    "registration_config FROM ca_certificates WHERE cert_id = ?";
static const char SQL_CA_UPDATE[] =
    "UPDATE ca_certificates SET status = coalesce(?1, status), auto_registration = "
    "coalesce(?2, auto_registration), registration_config = coalesce(?3, registration_config), "
    "last_modified = ?4, customer_version = customer_version + 1, generation_id = ?5 "
    "WHERE cert_id = ?6";
static const char SQL_CA_DELETE[] = "DELETE FROM ca_certificates WHERE cert_id = ?";
static const char SQL_CA_USERS[] = "SELECT count(*) FROM certificates WHERE ca_cert_id = ?";
static const char SQL_CA_LIST_ASC[] =
    "SELECT cert_id, pem, status, NULL, mode, owned_by, customer_version, generation_id, "
    "not_before, not_after, creation_date, last_modified, auto_registration, "
    "registration_config FROM ca_certificates WHERE ?1 IS NULL AND "
    "(creation_date, cert_id) > (?2, ?3) ORDER BY creation_date, cert_id LIMIT ?4";
static const char SQL_CA_LIST_DESC[] =
    "SELECT cert_id, pem, status, NULL, mode, owned_by, customer_version, generation_id, "
    "not_before, not_after, creation_date, last_modified, auto_registration, "
    "registration_config FROM ca_certificates WHERE ?1 IS NULL AND "
    "(creation_date, cert_id) < (?2, ?3) ORDER BY creation_date DESC, cert_id DESC LIMIT ?4";

void fy_cert_row_clear(struct fy_cert_row *row)
{
    FY_FREE(row->pem);
    FY_FREE(row->registration_config);
}

bool fy_cert_id_valid(const char *id)
{
    if (!id || strlen(id) != FY_CERT_ID_LEN) {
        return false;
    }
    return strspn(id, "0123456789abcdefABCDEF") == FY_CERT_ID_LEN;
}

static void copy_col(char *dst, size_t n, sqlite3_stmt *st, int col)
{
    snprintf(dst, n, "%s", fy_col_text(st, col));
}

static fy_err read_row(sqlite3_stmt *st, struct fy_cert_row *r)
{
    memset(r, 0, sizeof(*r));
    copy_col(r->cert_id, sizeof(r->cert_id), st, 0);
    copy_col(r->status, sizeof(r->status), st, 2);
    copy_col(r->ca_cert_id, sizeof(r->ca_cert_id), st, 3);
    copy_col(r->mode, sizeof(r->mode), st, 4);
    copy_col(r->owned_by, sizeof(r->owned_by), st, 5);
    r->customer_version = sqlite3_column_int64(st, 6);
    copy_col(r->generation_id, sizeof(r->generation_id), st, 7);
    r->not_before = sqlite3_column_double(st, 8);
    r->not_after = sqlite3_column_double(st, 9);
    r->creation_date = sqlite3_column_double(st, 10);
    r->last_modified = sqlite3_column_double(st, 11);
    copy_col(r->auto_registration, sizeof(r->auto_registration), st, 12);
    r->pem = fy_strdup(fy_col_text(st, 1));
    if (sqlite3_column_type(st, 13) != SQLITE_NULL) {
        r->registration_config = fy_strdup(fy_col_text(st, 13));
    }
    return r->pem ? FY_ERR_OK : FY_ERR_NOMEM;
}

static fy_err get_row(struct fy_db *db,
                      const char *sql,
                      const char *id,
                      struct fy_cert_row *out,
                      const char *what,
                      struct fy_errmsg *em)
{
    memset(out, 0, sizeof(*out));
    sqlite3_stmt *st = fy_db_stmt(db, sql, em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    fy_bind_text(st, 1, id);
    int rc = sqlite3_step(st);
    fy_err e;
    if (rc == SQLITE_ROW) {
        e = read_row(st, out);
    } else if (rc == SQLITE_DONE) {
        e = fy_fail(em, FY_ERR_NOT_FOUND, "The %s %.64s does not exist", what, id);
    } else {
        e = fy_db_err(db, rc, em);
    }
    fy_stmt_done(st);
    return e;
}

fy_err
fy_cert_get(struct fy_db *db, const char *cert_id, struct fy_cert_row *out, struct fy_errmsg *em)
{
    return get_row(db, SQL_C_GET, cert_id, out, "certificate", em);
}

fy_err
fy_ca_get(struct fy_db *db, const char *cert_id, struct fy_cert_row *out, struct fy_errmsg *em)
{
    return get_row(db, SQL_CA_GET, cert_id, out, "CA certificate", em);
}

static fy_err fresh_generation(struct fy_cert_row *row, struct fy_errmsg *em)
{
    char uuid[FY_UUID_LEN + 1];
    if (fy_uuid4(uuid) != FY_ERR_OK) {
        return fy_fail(em, FY_ERR_INTERNAL, "random number generator failed");
    }
    snprintf(row->generation_id, sizeof(row->generation_id), "%s", uuid);
    row->creation_date = row->last_modified = fy_now();
    row->customer_version = 1;
    if (!row->mode[0]) {
        snprintf(row->mode, sizeof(row->mode), "DEFAULT");
    }
    if (!row->owned_by[0]) {
        snprintf(row->owned_by, sizeof(row->owned_by), "%s", "");
    }
    return FY_ERR_OK;
}

static fy_err step_done(struct fy_db *db, sqlite3_stmt *st, const char *what, struct fy_errmsg *em)
{
    int rc = sqlite3_step(st);
    fy_stmt_done(st);
    if (rc == SQLITE_DONE) {
        return FY_ERR_OK;
    }
    fy_err e = fy_db_err(db, rc, em);
    if (e == FY_ERR_ALREADY_EXISTS) {
        fy_errf(em, "The %s is already registered", what);
    }
    return e;
}

fy_err fy_cert_insert(struct fy_db *db, struct fy_cert_row *row, struct fy_errmsg *em)
{
    fy_err e = fresh_generation(row, em);
    sqlite3_stmt *st = e ? NULL : fy_db_stmt(db, SQL_C_INSERT, em);
    if (!st) {
        return e ? e : FY_ERR_INTERNAL;
    }
    fy_bind_text(st, 1, row->cert_id);
    fy_bind_text(st, 2, row->pem);
    fy_bind_text(st, 3, row->status);
    fy_bind_text(st, 4, row->ca_cert_id[0] ? row->ca_cert_id : NULL);
    fy_bind_text(st, 5, row->mode);
    fy_bind_text(st, 6, row->owned_by);
    fy_bind_text(st, 7, row->generation_id);
    sqlite3_bind_double(st, 8, row->not_before);
    sqlite3_bind_double(st, 9, row->not_after);
    sqlite3_bind_double(st, 10, row->creation_date);
    sqlite3_bind_double(st, 11, row->last_modified);
    return step_done(db, st, "certificate", em);
}

fy_err fy_ca_insert(struct fy_db *db, struct fy_cert_row *row, struct fy_errmsg *em)
{
    fy_err e = fresh_generation(row, em);
    sqlite3_stmt *st = e ? NULL : fy_db_stmt(db, SQL_CA_INSERT, em);
    if (!st) {
        return e ? e : FY_ERR_INTERNAL;
    }
    fy_bind_text(st, 1, row->cert_id);
    fy_bind_text(st, 2, row->pem);
    fy_bind_text(st, 3, row->status);
    fy_bind_text(st, 4, row->auto_registration[0] ? row->auto_registration : "DISABLE");
    fy_bind_text(st, 5, row->registration_config);
    fy_bind_text(st, 6, row->mode);
    fy_bind_text(st, 7, row->owned_by);
    fy_bind_text(st, 8, row->generation_id);
    sqlite3_bind_double(st, 9, row->not_before);
    sqlite3_bind_double(st, 10, row->not_after);
    sqlite3_bind_double(st, 11, row->creation_date);
    sqlite3_bind_double(st, 12, row->last_modified);
    return step_done(db, st, "CA certificate", em);
}

/* UpdateCertificate rules, given the current and requested status. */
static fy_err check_transition(const char *cur, const char *next, struct fy_errmsg *em)
{
    static const char *const settable[] = {"ACTIVE", "INACTIVE", "REVOKED", "REGISTER_INACTIVE"};
    bool ok = false;
    for (size_t i = 0; i < sizeof(settable) / sizeof(settable[0]); i++) {
        ok = ok || strcmp(next, settable[i]) == 0;
    }
    if (!ok && (strcmp(next, "PENDING_TRANSFER") == 0 || strcmp(next, "PENDING_ACTIVATION") == 0)) {
        return fy_fail(em, FY_ERR_CERT_STATE, "%s is a status used internally and cannot be set",
                       next);
    }
    if (!ok) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST, "Invalid newStatus '%.32s'", next);
    }
    if (strcmp(cur, "REVOKED") == 0 && strcmp(next, "REVOKED") != 0) {
        return fy_fail(em, FY_ERR_CERT_STATE,
                       "The certificate is revoked and cannot change status");
    }
    if (strncmp(cur, "PENDING_", 8) == 0) {
        return fy_fail(em, FY_ERR_CERT_STATE, "The certificate is %s and cannot be updated", cur);
    }
    return FY_ERR_OK;
}

static fy_err set_status_locked(struct fy_db *db,
                                const char *cert_id,
                                const char *new_status,
                                struct fy_errmsg *em)
{
    struct fy_cert_row cur;
    fy_err e = fy_cert_get(db, cert_id, &cur, em);
    if (e) {
        return e;
    }
    e = check_transition(cur.status, new_status, em);
    fy_cert_row_clear(&cur);
    if (e || strcmp(cur.status, new_status) == 0) {
        return e; /* idempotent: same status changes nothing */
    }
    e = fresh_generation(&cur, em);
    sqlite3_stmt *st = e ? NULL : fy_db_stmt(db, SQL_C_STATUS, em);
    if (!st) {
        return e ? e : FY_ERR_INTERNAL;
    }
    fy_bind_text(st, 1, new_status);
    sqlite3_bind_double(st, 2, fy_now());
    fy_bind_text(st, 3, cur.generation_id);
    fy_bind_text(st, 4, cert_id);
    return step_done(db, st, "certificate", em);
}

fy_err fy_cert_set_status(struct fy_db *db,
                          const char *cert_id,
                          const char *new_status,
                          struct fy_errmsg *em)
{
    FY_DB_RETURN_IN_CHANGE_TX(db, em, set_status_locked(db, cert_id, new_status, em));
}

static int64_t count_of(struct fy_db *db, const char *sql, const char *arg)
{
    sqlite3_stmt *st = fy_db_stmt(db, sql, NULL);
    if (!st) {
        return -1;
    }
    fy_bind_text(st, 1, arg);
    int64_t n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    fy_stmt_done(st);
    return n;
}

static fy_err exec_one(struct fy_db *db, const char *sql, const char *arg, struct fy_errmsg *em)
{
    sqlite3_stmt *st = fy_db_stmt(db, sql, em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    fy_bind_text(st, 1, arg);
    return step_done(db, st, "certificate", em);
}

static fy_err delete_locked(struct fy_db *db,
                            const struct fy_site *site,
                            const char *cert_id,
                            bool force,
                            struct fy_errmsg *em)
{
    struct fy_cert_row cur;
    char arn[256];
    fy_err e = fy_cert_get(db, cert_id, &cur, em);
    if (e) {
        return e;
    }
    bool active = strcmp(cur.status, "ACTIVE") == 0;
    fy_cert_row_clear(&cur);
    if (active) {
        return fy_fail(em, FY_ERR_CERT_STATE,
                       "Certificate must be deactivated (not ACTIVE) before deletion. Id: %.64s",
                       cert_id);
    }
    fy_arn_fmt(arn, sizeof(arn), site, "cert", cert_id);
    if (count_of(db, SQL_C_THINGS, arn) != 0) {
        return fy_fail(em, FY_ERR_DELETE_CONFLICT,
                       "Things are still attached to the certificate. Id: %.64s", cert_id);
    }
    if (!force && count_of(db, SQL_C_POLICIES, arn) != 0) {
        return fy_fail(em, FY_ERR_DELETE_CONFLICT,
                       "Certificate policies must be detached before deletion. Id: %.64s", cert_id);
    }
    e = exec_one(db, SQL_C_DETACH_POLICIES, arn, em);
    return e ? e : exec_one(db, SQL_C_DELETE, cert_id, em);
}

fy_err fy_cert_delete(struct fy_db *db,
                      const struct fy_site *site,
                      const char *cert_id,
                      bool force,
                      struct fy_errmsg *em)
{
    FY_DB_RETURN_IN_CHANGE_TX(db, em, delete_locked(db, site, cert_id, force, em));
}

static fy_err ca_update_locked(struct fy_db *db,
                               const char *cert_id,
                               const char *status,
                               const char *auto_reg,
                               const char *config,
                               struct fy_errmsg *em)
{
    struct fy_cert_row cur;
    fy_err e = fy_ca_get(db, cert_id, &cur, em);
    fy_cert_row_clear(&cur);
    if (!e) {
        e = fresh_generation(&cur, em);
    }
    sqlite3_stmt *st = e ? NULL : fy_db_stmt(db, SQL_CA_UPDATE, em);
    if (!st) {
        return e ? e : FY_ERR_INTERNAL;
    }
    fy_bind_text(st, 1, status);
    fy_bind_text(st, 2, auto_reg);
    fy_bind_text(st, 3, config);
    sqlite3_bind_double(st, 4, fy_now());
    fy_bind_text(st, 5, cur.generation_id);
    fy_bind_text(st, 6, cert_id);
    return step_done(db, st, "CA certificate", em);
}

fy_err fy_ca_update(struct fy_db *db,
                    const char *cert_id,
                    const char *status,
                    const char *auto_registration,
                    const char *registration_config,
                    struct fy_errmsg *em)
{
    FY_DB_RETURN_IN_CHANGE_TX(
        db, em, ca_update_locked(db, cert_id, status, auto_registration, registration_config, em));
}

static fy_err ca_delete_locked(struct fy_db *db, const char *cert_id, struct fy_errmsg *em)
{
    struct fy_cert_row cur;
    fy_err e = fy_ca_get(db, cert_id, &cur, em);
    if (e) {
        return e;
    }
    bool active = strcmp(cur.status, "ACTIVE") == 0;
    fy_cert_row_clear(&cur);
    if (active) {
        return fy_fail(em, FY_ERR_CERT_STATE,
                       "CA certificate must be deactivated (not ACTIVE) before deletion. Id: "
                       "%.64s",
                       cert_id);
    }
    if (count_of(db, SQL_CA_USERS, cert_id) != 0) {
        return fy_fail(em, FY_ERR_CERT_STATE,
                       "Certificates signed by this CA are still registered. Id: %.64s", cert_id);
    }
    return exec_one(db, SQL_CA_DELETE, cert_id, em);
}

fy_err fy_ca_delete(struct fy_db *db, const char *cert_id, struct fy_errmsg *em)
{
    FY_DB_RETURN_IN_CHANGE_TX(db, em, ca_delete_locked(db, cert_id, em));
}

/* Parses "<creation_date>:<cert_id>"; a bad key -> INVALID_REQUEST. */
static fy_err
parse_key(const char *key, double *when, char id[FY_CERT_ID_LEN + 1], struct fy_errmsg *em)
{
    char *end;
    *when = strtod(key, &end);
    if (end == key || *end != ':' || !fy_cert_id_valid(end + 1)) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST, "Invalid marker");
    }
    memcpy(id, end + 1, FY_CERT_ID_LEN + 1);
    return FY_ERR_OK;
}

static fy_err list_rows(struct fy_db *db,
                        const char *sql,
                        const char *filter,
                        bool ascending,
                        const char *after,
                        int64_t limit,
                        fy_cert_row_fn fn,
                        void *ctx,
                        char **next_key,
                        struct fy_errmsg *em)
{
    double when = ascending ? -1.0 : 1e300;
    char id[FY_CERT_ID_LEN + 1] = "";
    fy_err e = after ? parse_key(after, &when, id, em) : FY_ERR_OK;
    sqlite3_stmt *st = e ? NULL : fy_db_stmt(db, sql, em);
    if (!st) {
        return e ? e : FY_ERR_INTERNAL;
    }
    fy_bind_text(st, 1, filter);
    sqlite3_bind_double(st, 2, when);
    fy_bind_text(st, 3, after ? id : (ascending ? "" : "~"));
    sqlite3_bind_int64(st, 4, limit + 1);
    int64_t n = 0;
    int rc = SQLITE_DONE;
    struct fy_cert_row row, last;
    memset(&last, 0, sizeof(last));
    *next_key = NULL;
    while (!e && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n++ == limit) {
            char key[128];
            snprintf(key, sizeof(key), "%.6f:%s", last.creation_date, last.cert_id);
            *next_key = fy_strdup(key);
            e = *next_key ? FY_ERR_OK : FY_ERR_NOMEM;
            break;
        }
        e = read_row(st, &row);
        if (!e) {
            e = fn(ctx, &row);
        }
        last = row;
        fy_cert_row_clear(&row);
    }
    if (!e && !*next_key && rc != SQLITE_DONE) {
        e = fy_db_err(db, rc, em);
    }
    fy_stmt_done(st);
    return e;
}

fy_err fy_cert_list(struct fy_db *db,
                    const char *ca_cert_id,
                    bool ascending,
                    const char *after,
                    int64_t limit,
                    fy_cert_row_fn fn,
                    void *ctx,
                    char **next_key,
                    struct fy_errmsg *em)
{
    return list_rows(db, ascending ? SQL_C_LIST_ASC : SQL_C_LIST_DESC, ca_cert_id, ascending, after,
                     limit, fn, ctx, next_key, em);
}

fy_err fy_ca_list(struct fy_db *db,
                  bool ascending,
                  const char *after,
                  int64_t limit,
                  fy_cert_row_fn fn,
                  void *ctx,
                  char **next_key,
                  struct fy_errmsg *em)
{
    return list_rows(db, ascending ? SQL_CA_LIST_ASC : SQL_CA_LIST_DESC, NULL, ascending, after,
                     limit, fn, ctx, next_key, em);
}
