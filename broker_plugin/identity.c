/* fleetyard broker plugin: the thing a connection is associated with, and the values of the
 * IoT policy variables for that connection (../shared/reference/AWS_IOT_BEHAVIOUR.md §3).
 *
 * Association (current AWS developer guide):
 *  1. the client id names a thing the certificate is attached to -> that thing;
 *  2. else the certificate is attached to a thing as EXCLUSIVE_THING -> that thing;
 *  3. else no thing: iot:Connection.Thing.* do not resolve and IsAttached is "false".
 */
#include <stdio.h>
#include <string.h>

#include "broker_plugin/plugin_int.h"
#include "core/log.h"
#include "pki/pki.h"

#define VALUE_MAX 1024 /* longer values are not substituted */
#define MULTI_MAX 5    /* multi-valued variables: at most 5 items */

static const char SQL_ATTACHED_NAMED[] =
    "SELECT 1 FROM thing_principals tp JOIN things t ON t.id = tp.thing"
    " WHERE t.name = ? AND tp.principal = ?";
static const char SQL_EXCLUSIVE[] =
    "SELECT t.name FROM thing_principals tp JOIN things t ON t.id = tp.thing"
    " WHERE tp.principal = ? AND tp.type = 'EXCLUSIVE_THING' LIMIT 1";

/* Runs st (bound) and copies the first column of the first row into name (may be NULL);
 * *found tells whether there was a row. */
static fy_err first_row(
    struct fy_db *db, sqlite3_stmt *st, char *name, size_t n, bool *found, struct fy_errmsg *em)
{
    int rc = sqlite3_step(st);
    *found = rc == SQLITE_ROW;
    if (*found && name) {
        snprintf(name, n, "%s", fy_col_text(st, 0));
    }
    fy_err e = rc == SQLITE_ROW || rc == SQLITE_DONE ? FY_ERR_OK : fy_db_err(db, rc, em);
    fy_stmt_done(st);
    return e;
}

/* Finds the associated thing's name (rules 1 and 2); "" when none. */
static fy_err associated_thing(struct fy_db *db,
                               const char *client_id,
                               const char *cert_arn,
                               char name[FY_NAME_MAX + 1],
                               struct fy_errmsg *em)
{
    bool found = false;
    name[0] = '\0';
    sqlite3_stmt *st = fy_db_stmt(db, SQL_ATTACHED_NAMED, em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    fy_bind_text(st, 1, client_id);
    fy_bind_text(st, 2, cert_arn);
    fy_err e = first_row(db, st, NULL, 0, &found, em);
    if (!e && found) {
        snprintf(name, FY_NAME_MAX + 1, "%s", client_id);
        return FY_ERR_OK;
    }
    st = e ? NULL : fy_db_stmt(db, SQL_EXCLUSIVE, em);
    if (!st) {
        return e ? e : FY_ERR_INTERNAL;
    }
    fy_bind_text(st, 1, cert_arn);
    return first_row(db, st, name, FY_NAME_MAX + 1, &found, em);
}

fy_err fy_identity_resolve(struct fy_plugin *p,
                           const struct fy_authz_subject *who,
                           struct fy_identity *out,
                           struct fy_errmsg *em)
{
    char name[FY_NAME_MAX + 1];
    memset(out, 0, sizeof(*out));
    out->who = who;
    fy_arn_fmt(out->cert_arn, sizeof(out->cert_arn), &p->site, "cert", who->cert_id);
    fy_err e = associated_thing(p->db, who->client_id, out->cert_arn, name, em);
    if (e || !name[0]) {
        return e;
    }
    out->j_attrs = json_object();
    if (!out->j_attrs) {
        return fy_fail(em, FY_ERR_NOMEM, "out of memory");
    }
    e = fy_thing_describe(p->db, name, &out->thing, out->j_attrs, em);
    if (e == FY_ERR_NOT_FOUND) { /* deleted meanwhile: no thing */
        json_object_clear(out->j_attrs);
        return FY_ERR_OK;
    }
    out->has_thing = !e;
    return e;
}

void fy_identity_clear(struct fy_identity *id)
{
    json_decref(id->j_attrs);
    id->j_attrs = NULL;
}

/* AWS substitutes only values of at most 1024 characters without * $ + ? #. */
static const char *substitutable(const char *v)
{
    return v && strlen(v) <= VALUE_MAX && !strpbrk(v, "*$+?#") ? v : NULL;
}

/* iot:Connection.Thing.<rest> */
static const char *thing_var(const struct fy_identity *id, const char *rest)
{
    if (strcmp(rest, "IsAttached") == 0) {
        return id->has_thing ? "true" : "false";
    }
    if (!id->has_thing) {
        return NULL;
    }
    if (strcmp(rest, "ThingName") == 0) {
        return id->thing.name;
    }
    if (strcmp(rest, "ThingTypeName") == 0) {
        return id->thing.type_name[0] ? id->thing.type_name : NULL;
    }
    size_t n = strlen(rest);
    if (strncmp(rest, "Attributes[", 11) != 0 || n < 13 || rest[n - 1] != ']') {
        return NULL;
    }
    char key[FY_NAME_MAX + 1];
    if (n - 12 > FY_NAME_MAX) {
        return NULL;
    }
    memcpy(key, rest + 11, n - 12);
    key[n - 12] = '\0';
    return json_string_value(json_object_get(id->j_attrs, key));
}

/* iot:Certificate.<Subject|Issuer>.<Attr>[.N] */
static const char *cert_attr_var(const struct fy_pki_cert *c, enum fy_pki_side side, const char *s)
{
    char name[64];
    size_t index = 0;
    const char *dot = strrchr(s, '.');
    size_t len = strlen(s);
    if (dot && dot[1] >= '0' && dot[1] <= '9' && dot[2] == '\0') {
        index = (size_t)(dot[1] - '0');
        len = (size_t)(dot - s);
    }
    enum fy_pki_attr a;
    if (index >= MULTI_MAX || len >= sizeof(name)) {
        return NULL;
    }
    memcpy(name, s, len);
    name[len] = '\0';
    return fy_pki_attr_from_name(name, &a) ? fy_pki_cert_attr_get(c, side, a, index) : NULL;
}

static const char *cert_var(const struct fy_pki_cert *c, const char *rest)
{
    if (strcmp(rest, "SerialNumber") == 0) {
        return fy_pki_cert_serial_get(c);
    }
    if (strncmp(rest, "Subject.", 8) == 0) {
        return cert_attr_var(c, FY_PKI_SUBJECT, rest + 8);
    }
    if (strncmp(rest, "Issuer.", 7) == 0) {
        return cert_attr_var(c, FY_PKI_ISSUER, rest + 7);
    }
    return NULL;
}

const char *fy_identity_var(const struct fy_identity *id, const char *name)
{
    const char *v = NULL;
    if (strcmp(name, "iot:ClientId") == 0) {
        v = id->who->client_id;
    } else if (strcmp(name, "aws:SourceIp") == 0) {
        v = id->who->source_ip;
    } else if (strncmp(name, "iot:Connection.Thing.", 21) == 0) {
        v = thing_var(id, name + 21);
    } else if (strncmp(name, "iot:Certificate.", 16) == 0 && id->who->cert) {
        v = cert_var(id->who->cert, name + 16);
    }
    return substitutable(v);
}
