#include "registry/identity.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "pki/pki.h"

static const char SQL_CERT_PEM[] = "SELECT pem FROM certificates WHERE cert_id = ?";
static const char SQL_CERT_EXISTS[] = "SELECT 1 FROM certificates WHERE cert_id = ?";
static const char SQL_BY_CLIENT[] =
    "SELECT t.id, t.name, coalesce(tt.name, '') FROM things t JOIN thing_principals p ON "
    "p.thing = t.id LEFT JOIN thing_types tt ON tt.id = t.type_id WHERE t.name = ? AND "
    "p.principal = ?";
static const char SQL_EXCLUSIVE[] =
    "SELECT t.id, t.name, coalesce(tt.name, '') FROM things t JOIN thing_principals p ON "
    "p.thing = t.id LEFT JOIN thing_types tt ON tt.id = t.type_id WHERE p.principal = ? AND "
    "p.type = 'EXCLUSIVE_THING'";
static const char SQL_ATTRS[] = "SELECT key, value FROM thing_attributes WHERE thing = ?";

void fy_identity_clear(struct fy_identity *id)
{
    FY_FREE(id->client_id);
    json_decref(id->attributes);
    id->attributes = NULL;
    fy_pki_cert_free(id->cert);
    id->cert = NULL;
    fy_free(id->cert_arn);
    id->cert_arn = NULL;
}

fy_err fy_identity_load_cert(struct fy_db *db, struct fy_identity *id, struct fy_errmsg *em)
{
    fy_pki_cert_free(id->cert);
    id->cert = NULL;
    sqlite3_stmt *st = fy_db_stmt(db, SQL_CERT_PEM, em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    fy_bind_text(st, 1, id->cert_id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const char *pem = fy_col_text(st, 0);
        if (fy_pki_cert_parse(pem, strlen(pem), &id->cert, NULL) != FY_ERR_OK) {
            id->cert = NULL;
        }
    }
    fy_stmt_done(st);
    if (rc == SQLITE_DONE) {
        return fy_fail(em, FY_ERR_NOT_FOUND, "The certificate %.64s does not exist", id->cert_id);
    }
    return rc == SQLITE_ROW ? FY_ERR_OK : fy_db_err(db, rc, em);
}

static fy_err cert_exists(struct fy_db *db, const struct fy_identity *id, struct fy_errmsg *em)
{
    sqlite3_stmt *st = fy_db_stmt(db, SQL_CERT_EXISTS, em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    fy_bind_text(st, 1, id->cert_id);
    int rc = sqlite3_step(st);
    fy_stmt_done(st);
    if (rc == SQLITE_DONE) {
        return fy_fail(em, FY_ERR_NOT_FOUND, "The certificate %.64s does not exist", id->cert_id);
    }
    return rc == SQLITE_ROW ? FY_ERR_OK : fy_db_err(db, rc, em);
}

/* Runs an association query (bound); fills the thing fields when a row comes back. */
static fy_err associate(struct fy_db *db,
                        sqlite3_stmt *st,
                        struct fy_identity *id,
                        int64_t *thing_row,
                        struct fy_errmsg *em)
{
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *thing_row = sqlite3_column_int64(st, 0);
        snprintf(id->thing, sizeof(id->thing), "%s", fy_col_text(st, 1));
        snprintf(id->thing_type, sizeof(id->thing_type), "%s", fy_col_text(st, 2));
        id->attached = true;
    }
    fy_stmt_done(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? FY_ERR_OK : fy_db_err(db, rc, em);
}

static fy_err
load_attributes(struct fy_db *db, int64_t thing, struct fy_identity *id, struct fy_errmsg *em)
{
    sqlite3_stmt *st = fy_db_stmt(db, SQL_ATTRS, em);
    int rc;
    bool ok = true;
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    sqlite3_bind_int64(st, 1, thing);
    while (ok && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        ok = json_object_set_new(id->attributes, fy_col_text(st, 0),
                                 json_string(fy_col_text(st, 1))) == 0;
    }
    fy_stmt_done(st);
    if (!ok) {
        return fy_fail(em, FY_ERR_NOMEM, "Out of memory");
    }
    return rc == SQLITE_DONE ? FY_ERR_OK : fy_db_err(db, rc, em);
}

static fy_err load_thing(struct fy_db *db, struct fy_identity *id, struct fy_errmsg *em)
{
    int64_t thing = 0;
    fy_err e = FY_ERR_OK;
    sqlite3_stmt *st;
    if (id->client_id) {
        st = fy_db_stmt(db, SQL_BY_CLIENT, em);
        if (!st) {
            return FY_ERR_INTERNAL;
        }
        fy_bind_text(st, 1, id->client_id);
        fy_bind_text(st, 2, id->cert_arn);
        e = associate(db, st, id, &thing, em);
    }
    if (!e && !id->attached) {
        st = fy_db_stmt(db, SQL_EXCLUSIVE, em);
        if (!st) {
            return FY_ERR_INTERNAL;
        }
        fy_bind_text(st, 1, id->cert_arn);
        e = associate(db, st, id, &thing, em);
    }
    return !e && id->attached ? load_attributes(db, thing, id, em) : e;
}

fy_err fy_identity_load(struct fy_db *db,
                        const struct fy_site *site,
                        const char *cert_id,
                        const char *client_id,
                        struct fy_identity *out,
                        struct fy_errmsg *em)
{
    memset(out, 0, sizeof(*out));
    snprintf(out->cert_id, sizeof(out->cert_id), "%s", cert_id);
    char arn[FY_ARN_MAX + 1];
    fy_arn_fmt(arn, sizeof(arn), site, "cert", cert_id);
    out->cert_arn = fy_strdup(arn);
    out->attributes = json_object();
    out->client_id = client_id ? fy_strdup(client_id) : NULL;
    if (!out->cert_arn || !out->attributes || (client_id && !out->client_id)) {
        return fy_fail(em, FY_ERR_NOMEM, "Out of memory");
    }
    fy_err e = cert_exists(db, out, em);
    return e ? e : load_thing(db, out, em);
}

static size_t one(const char *v, const char **out, size_t max)
{
    if (!v || max == 0) {
        return 0;
    }
    out[0] = v;
    return 1;
}

/* iot:Connection.Thing.<rest> */
static size_t
thing_var(const struct fy_identity *id, const char *rest, const char **out, size_t max)
{
    if (strcmp(rest, "IsAttached") == 0) {
        return one(id->attached ? "true" : "false", out, max);
    }
    if (!id->attached) {
        return 0;
    }
    if (strcmp(rest, "ThingName") == 0) {
        return one(id->thing, out, max);
    }
    if (strcmp(rest, "ThingTypeName") == 0) {
        return one(id->thing_type[0] ? id->thing_type : NULL, out, max);
    }
    size_t len = strlen(rest);
    if (strncmp(rest, "Attributes[", 11) == 0 && len > 12 && rest[len - 1] == ']') {
        char key[FY_ATTR_KEY_MAX + 1];
        snprintf(key, sizeof(key), "%.*s", (int)(len - 12), rest + 11);
        return one(json_string_value(json_object_get(id->attributes, key)), out, max);
    }
    return 0;
}

/* <Field>[.N|.List] of the subject or issuer. */
static size_t cert_field(
    const struct fy_pki_cert *c, enum fy_pki_side side, const char *s, const char **out, size_t max)
{
    char name[64];
    enum fy_pki_attr attr;
    const char *dot = strrchr(s, '.');
    bool list = dot && strcmp(dot, ".List") == 0;
    bool indexed = dot && !list && dot[1] >= '0' && dot[1] <= '9';
    size_t len = (list || indexed) ? (size_t)(dot - s) : strlen(s);
    if (len >= sizeof(name)) {
        return 0;
    }
    memcpy(name, s, len);
    name[len] = '\0';
    if (!fy_pki_attr_from_name(name, &attr)) {
        return 0;
    }
    size_t count = fy_pki_cert_attr_count(c, side, attr);
    if (list) {
        size_t n = 0;
        for (; n < count && n < max; n++) {
            out[n] = fy_pki_cert_attr_get(c, side, attr, n);
        }
        return n;
    }
    size_t index = indexed ? (size_t)strtoul(dot + 1, NULL, 10) : 0;
    return one(fy_pki_cert_attr_get(c, side, attr, index), out, max);
}

static size_t cert_var(const struct fy_identity *id, const char *rest, const char **out, size_t max)
{
    if (!id->cert) {
        return 0;
    }
    if (strcmp(rest, "SerialNumber") == 0) {
        return one(fy_pki_cert_serial_get(id->cert), out, max);
    }
    if (strncmp(rest, "Subject.", 8) == 0) {
        return cert_field(id->cert, FY_PKI_SUBJECT, rest + 8, out, max);
    }
    if (strncmp(rest, "Issuer.", 7) == 0) {
        return cert_field(id->cert, FY_PKI_ISSUER, rest + 7, out, max);
    }
    return 0;
}

size_t fy_identity_lookup(void *ctx, const char *name, const char **out, size_t max)
{
    const struct fy_identity *id = ctx;
    if (strcmp(name, "iot:ClientId") == 0) {
        return one(id->client_id, out, max);
    }
    if (strncmp(name, "iot:Connection.Thing.", 21) == 0) {
        return thing_var(id, name + 21, out, max);
    }
    if (strncmp(name, "iot:Certificate.", 16) == 0) {
        return cert_var(id, name + 16, out, max);
    }
    return 0;
}
