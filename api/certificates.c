/* Certificates: CreateKeysAndCertificate, CreateCertificateFromCsr, Register(CA)Certificate,
 * RegisterCertificateWithoutCA, Describe/List/Update/Delete for device and CA certificates,
 * GetRegistrationCode, and the fleetyard root CA download. */
#include <stdio.h>
#include <string.h>

#include <openssl/rand.h>

#include "api/api_int.h"
#include "api/routes.h"
#include "core/alloc.h"
#include "core/codec.h"
#include "core/json.h"
#include "core/log.h"
#include "pki/pki.h"
#include "registry/certs.h"
#include "registry/groups.h"

#define CERT_PAGE_DEFAULT 25
#define CERT_ARN_MAX      256
#define REG_CODE_KEY      "registration_code"

static const char SQL_SETTING_GET[] = "SELECT value FROM settings WHERE key = ?";
static const char SQL_SETTING_PUT[] = "INSERT OR IGNORE INTO settings(key, value) VALUES (?, ?)";

static fy_err bad_body(struct api_req *req, const json_error_t *err)
{
    return fy_fail(&req->em, FY_ERR_INVALID_REQUEST, "Invalid request body: %.200s", err->text);
}

static void
cert_arn(const struct api_req *req, const char *type, const char *id, char arn[CERT_ARN_MAX])
{
    fy_arn_fmt(arn, CERT_ARN_MAX, req->site, type, id);
}

static fy_err require_cert_id(struct api_req *req, const char *label, const char **out)
{
    *out = api_param(req, label);
    if (!fy_cert_id_valid(*out)) {
        return fy_fail(&req->em, FY_ERR_INVALID_REQUEST,
                       "Invalid certificate id '%.80s': 64 hexadecimal characters expected",
                       *out ? *out : "");
    }
    return FY_ERR_OK;
}

/* Replies {certificateArn, certificateId[, certificatePem]}. */
static fy_err reply_created(struct api_req *req, const char *type, const char *id, const char *pem)
{
    char arn[CERT_ARN_MAX];
    cert_arn(req, type, id, arn);
    json_t *j = json_pack("{s:s, s:s}", "certificateArn", arn, "certificateId", id);
    if (j && pem) {
        j = fy_json_with_member(j, "certificatePem", json_string(pem));
    }
    return api_reply(req, j);
}

/* Stores an issued or registered device certificate. */
static fy_err store_cert(struct api_req *req,
                         const char *id,
                         const char *pem,
                         const char *status,
                         const char *ca_id,
                         const char *mode,
                         int64_t nb,
                         int64_t na)
{
    struct fy_cert_row row;
    memset(&row, 0, sizeof(row));
    snprintf(row.cert_id, sizeof(row.cert_id), "%s", id);
    snprintf(row.status, sizeof(row.status), "%s", status);
    snprintf(row.ca_cert_id, sizeof(row.ca_cert_id), "%s", ca_id ? ca_id : "");
    snprintf(row.mode, sizeof(row.mode), "%s", mode);
    snprintf(row.owned_by, sizeof(row.owned_by), "%s", req->site->account);
    row.pem = (char *)pem;
    row.not_before = (double)nb;
    row.not_after = (double)na;
    fy_err e = fy_cert_insert(req->db, &row, &req->em);
    if (!e) {
        char arn[CERT_ARN_MAX];
        cert_arn(req, "cert", id, arn);
        fy_audit(req->caller, req->op, arn);
    }
    return e;
}

static fy_err h_create_keys_and_cert(struct api_req *req)
{
    bool active;
    struct fy_pki_issued is;
    memset(&is, 0, sizeof(is));
    fy_err e = api_query_bool(req, "setAsActive", false, &active);
    if (!e) {
        e = fy_pki_create_keys_and_cert(req->srv->ca, &is, &req->em);
    }
    if (!e) {
        e = store_cert(req, is.cert_id, is.cert_pem, active ? "ACTIVE" : "INACTIVE", NULL,
                       "DEFAULT", is.not_before, is.not_after);
    }
    if (!e) {
        e = reply_created(req, "cert", is.cert_id, is.cert_pem);
    }
    if (!e && json_object_set_new(req->j_out, "keyPair",
                                  json_pack("{s:s, s:s}", "PublicKey", is.public_key_pem,
                                            "PrivateKey", is.private_key_pem)) != 0) {
        e = fy_fail(&req->em, FY_ERR_NOMEM, "Out of memory");
    }
    fy_pki_issued_clear(&is);
    return e;
}

static fy_err h_create_from_csr(struct api_req *req)
{
    bool active;
    json_t *body;
    json_error_t err;
    const char *csr = NULL;
    struct fy_pki_issued is;
    memset(&is, 0, sizeof(is));
    fy_err e = api_query_bool(req, "setAsActive", false, &active);
    if (!e) {
        e = api_body(req, &body);
    }
    if (!e && json_unpack_ex(body, &err, 0, "{s:s !}", "certificateSigningRequest", &csr) != 0) {
        e = bad_body(req, &err);
    }
    if (!e) {
        e = fy_pki_sign_csr(req->srv->ca, csr, strlen(csr), &is, &req->em);
    }
    if (!e) {
        e = store_cert(req, is.cert_id, is.cert_pem, active ? "ACTIVE" : "INACTIVE", NULL,
                       "DEFAULT", is.not_before, is.not_after);
    }
    if (!e) {
        e = reply_created(req, "cert", is.cert_id, is.cert_pem);
    }
    fy_pki_issued_clear(&is);
    return e;
}

/* ---- registration ---- */

/* The account's registration code (created on first use, then stable). */
static fy_err registration_code(struct api_req *req, char out[65])
{
    sqlite3_stmt *st = fy_db_stmt(req->db, SQL_SETTING_PUT, &req->em);
    unsigned char raw[32];
    char fresh[65];
    if (!st || RAND_bytes(raw, sizeof(raw)) != 1) {
        fy_stmt_done(st);
        return fy_fail(&req->em, FY_ERR_INTERNAL, "cannot create a registration code");
    }
    fy_hex(raw, sizeof(raw), fresh);
    fy_bind_text(st, 1, REG_CODE_KEY);
    fy_bind_text(st, 2, fresh);
    int rc = sqlite3_step(st);
    fy_stmt_done(st);
    st = rc == SQLITE_DONE ? fy_db_stmt(req->db, SQL_SETTING_GET, &req->em) : NULL;
    if (!st) {
        return fy_db_err(req->db, rc, &req->em);
    }
    fy_bind_text(st, 1, REG_CODE_KEY);
    rc = sqlite3_step(st);
    snprintf(out, 65, "%s", rc == SQLITE_ROW ? fy_col_text(st, 0) : "");
    fy_stmt_done(st);
    return rc == SQLITE_ROW ? FY_ERR_OK : fy_db_err(req->db, rc, &req->em);
}

static fy_err h_get_registration_code(struct api_req *req)
{
    char code[65];
    fy_err e = registration_code(req, code);
    return e ? e : api_reply(req, json_pack("{s:s}", "registrationCode", code));
}

/* Parses an untrusted PEM field into *out (owned). */
static fy_err parse_pem(struct api_req *req, const char *pem, struct fy_pki_cert **out)
{
    return fy_pki_cert_parse(pem, strlen(pem), out, &req->em);
}

struct ca_input {
    const char *ca_pem, *verif_pem, *mode;
    json_t *config, *tags;
};

static fy_err parse_ca_body(struct api_req *req, struct ca_input *in)
{
    json_t *body;
    json_error_t err;
    memset(in, 0, sizeof(*in));
    fy_err e = api_body(req, &body);
    if (!e &&
        json_unpack_ex(body, &err, 0, "{s:s, s?s, s?o, s?o, s?s !}", "caCertificate", &in->ca_pem,
                       "verificationCertificate", &in->verif_pem, "registrationConfig", &in->config,
                       "tags", &in->tags, "certificateMode", &in->mode) != 0) {
        e = bad_body(req, &err);
    }
    if (!e && !in->mode) {
        in->mode = "DEFAULT";
    }
    if (!e && strcmp(in->mode, "DEFAULT") != 0 && strcmp(in->mode, "SNI_ONLY") != 0) {
        e = fy_fail(&req->em, FY_ERR_INVALID_REQUEST,
                    "certificateMode must be DEFAULT or SNI_ONLY");
    }
    if (!e && in->tags) {
        e = fy_tags_check(in->tags, &req->em);
    }
    return e;
}

/* DEFAULT mode needs proof of possession: a verification certificate signed by the CA's key
 * whose CN is the account's registration code. */
static fy_err
check_possession(struct api_req *req, const struct ca_input *in, const struct fy_pki_cert *ca)
{
    struct fy_pki_cert *verif = NULL;
    char code[65];
    if (strcmp(in->mode, "SNI_ONLY") == 0) {
        return FY_ERR_OK;
    }
    if (!in->verif_pem) {
        return fy_fail(&req->em, FY_ERR_INVALID_REQUEST,
                       "verificationCertificate is required when certificateMode is DEFAULT");
    }
    fy_err e = registration_code(req, code);
    if (!e) {
        e = parse_pem(req, in->verif_pem, &verif);
    }
    if (!e) {
        e = fy_pki_check_verification_cert(verif, ca, code, &req->em);
    }
    fy_pki_cert_free(verif);
    return e;
}

static fy_err store_ca(struct api_req *req,
                       const struct ca_input *in,
                       const struct fy_pki_cert *ca,
                       bool active,
                       bool auto_reg)
{
    struct fy_cert_row row;
    char *config = in->config ? fy_json_dumps(in->config, JSON_COMPACT) : NULL;
    memset(&row, 0, sizeof(row));
    snprintf(row.cert_id, sizeof(row.cert_id), "%s", fy_pki_cert_id_get(ca));
    snprintf(row.status, sizeof(row.status), "%s", active ? "ACTIVE" : "INACTIVE");
    snprintf(row.auto_registration, sizeof(row.auto_registration), "%s",
             auto_reg ? "ENABLE" : "DISABLE");
    snprintf(row.mode, sizeof(row.mode), "%s", in->mode);
    snprintf(row.owned_by, sizeof(row.owned_by), "%s", req->site->account);
    row.pem = (char *)fy_pki_cert_pem_get(ca);
    row.registration_config = config;
    row.not_before = (double)fy_pki_cert_not_before(ca);
    row.not_after = (double)fy_pki_cert_not_after(ca);
    fy_err e = fy_ca_insert(req->db, &row, &req->em);
    fy_free(config);
    return e;
}

static fy_err h_register_ca(struct api_req *req)
{
    bool active, auto_reg;
    struct ca_input in;
    struct fy_pki_cert *ca = NULL;
    char arn[CERT_ARN_MAX];
    fy_err e = api_query_bool(req, "setAsActive", false, &active);
    if (!e) {
        e = api_query_bool(req, "allowAutoRegistration", false, &auto_reg);
    }
    if (!e) {
        e = parse_ca_body(req, &in);
    }
    if (!e) {
        e = parse_pem(req, in.ca_pem, &ca);
    }
    if (!e && !fy_pki_cert_is_ca(ca)) {
        e = fy_fail(&req->em, FY_ERR_CERT_VALIDATION, "The certificate is not a CA certificate");
    }
    if (!e) {
        e = check_possession(req, &in, ca);
    }
    if (!e) {
        e = store_ca(req, &in, ca, active, auto_reg);
    }
    if (!e) {
        cert_arn(req, "cacert", fy_pki_cert_id_get(ca), arn);
        e = in.tags ? fy_tag_resource(req->db, req->site, arn, in.tags, &req->em) : FY_ERR_OK;
    }
    if (!e) {
        fy_audit(req->caller, req->op, arn);
        e = reply_created(req, "cacert", fy_pki_cert_id_get(ca), NULL);
    }
    fy_pki_cert_free(ca);
    return e;
}

struct ca_search {
    const struct fy_pki_cert *cert;
    char found[FY_CERT_ID_LEN + 1];
    char status[24];
};

/* fy_ca_list callback: remembers the first registered CA the certificate chains to. */
static fy_err try_ca(void *ctx, const struct fy_cert_row *row)
{
    struct ca_search *s = ctx;
    struct fy_pki_cert *ca = NULL;
    if (s->found[0] || fy_pki_cert_parse(row->pem, strlen(row->pem), &ca, NULL) != FY_ERR_OK) {
        return FY_ERR_OK;
    }
    if (fy_pki_cert_verify_chain(s->cert, ca, NULL) == FY_ERR_OK) {
        snprintf(s->found, sizeof(s->found), "%s", row->cert_id);
        snprintf(s->status, sizeof(s->status), "%s", row->status);
    }
    fy_pki_cert_free(ca);
    return FY_ERR_OK;
}

/* Finds the registered CA that signed cert (the given CA PEM when present). */
static fy_err find_issuer(struct api_req *req,
                          const struct fy_pki_cert *cert,
                          const char *ca_pem,
                          struct ca_search *s)
{
    char *next = NULL;
    memset(s, 0, sizeof(*s));
    s->cert = cert;
    if (ca_pem) {
        struct fy_pki_cert *ca = NULL;
        struct fy_cert_row row;
        fy_err e = parse_pem(req, ca_pem, &ca);
        if (!e) {
            e = fy_ca_get(req->db, fy_pki_cert_id_get(ca), &row, &req->em);
        }
        if (!e) {
            e = fy_pki_cert_verify_chain(cert, ca, &req->em);
            snprintf(s->found, sizeof(s->found), "%s", row.cert_id);
            snprintf(s->status, sizeof(s->status), "%s", row.status);
            fy_cert_row_clear(&row);
        }
        fy_pki_cert_free(ca);
        return e == FY_ERR_NOT_FOUND ? fy_fail(&req->em, FY_ERR_CERT_VALIDATION,
                                               "The CA certificate is not registered")
                                     : e;
    }
    fy_err e = FY_ERR_OK;
    do {
        char *after = next;
        e = fy_ca_list(req->db, true, after, 100, try_ca, s, &next, &req->em);
        fy_free(after);
    } while (!e && next && !s->found[0]);
    fy_free(next);
    if (!e && !s->found[0]) {
        e = fy_fail(&req->em, FY_ERR_CERT_VALIDATION,
                    "The certificate is not signed by a registered CA certificate");
    }
    return e;
}

static fy_err register_status(struct api_req *req, const char *status, const char **out)
{
    static const char *const ok[] = {"ACTIVE",           "INACTIVE",          "REVOKED",
                                     "PENDING_TRANSFER", "REGISTER_INACTIVE", "PENDING_ACTIVATION"};
    bool active;
    fy_err e = api_query_bool(req, "setAsActive", false, &active);
    *out = status ? status : (active ? "ACTIVE" : "INACTIVE");
    for (size_t i = 0; !e && i < sizeof(ok) / sizeof(ok[0]); i++) {
        if (strcmp(*out, ok[i]) == 0) {
            return FY_ERR_OK;
        }
    }
    return e ? e : fy_fail(&req->em, FY_ERR_INVALID_REQUEST, "Invalid status '%.32s'", *out);
}

static fy_err h_register_cert(struct api_req *req)
{
    json_t *body;
    json_error_t err;
    const char *pem = NULL, *ca_pem = NULL, *status = NULL;
    struct fy_pki_cert *cert = NULL;
    struct ca_search s;
    fy_err e = api_body(req, &body);
    if (!e && json_unpack_ex(body, &err, 0, "{s:s, s?s, s?s !}", "certificatePem", &pem,
                             "caCertificatePem", &ca_pem, "status", &status) != 0) {
        e = bad_body(req, &err);
    }
    if (!e) {
        e = register_status(req, status, &status);
    }
    if (!e) {
        e = parse_pem(req, pem, &cert);
    }
    if (!e) {
        e = find_issuer(req, cert, ca_pem, &s);
    }
    if (!e && strcmp(s.status, "ACTIVE") != 0) {
        e = fy_fail(&req->em, FY_ERR_CERT_STATE, "The CA certificate %.64s is not ACTIVE", s.found);
    }
    if (!e) {
        e = store_cert(req, fy_pki_cert_id_get(cert), fy_pki_cert_pem_get(cert), status, s.found,
                       "DEFAULT", fy_pki_cert_not_before(cert), fy_pki_cert_not_after(cert));
    }
    if (!e) {
        e = reply_created(req, "cert", fy_pki_cert_id_get(cert), NULL);
    }
    fy_pki_cert_free(cert);
    return e;
}

static fy_err h_register_no_ca(struct api_req *req)
{
    json_t *body;
    json_error_t err;
    const char *pem = NULL, *status = NULL;
    struct fy_pki_cert *cert = NULL;
    fy_err e = api_body(req, &body);
    if (!e && json_unpack_ex(body, &err, 0, "{s:s, s?s !}", "certificatePem", &pem, "status",
                             &status) != 0) {
        e = bad_body(req, &err);
    }
    if (!e) {
        e = register_status(req, status, &status);
    }
    if (!e) {
        e = parse_pem(req, pem, &cert);
    }
    if (!e) {
        e = store_cert(req, fy_pki_cert_id_get(cert), fy_pki_cert_pem_get(cert), status, NULL,
                       "SNI_ONLY", fy_pki_cert_not_before(cert), fy_pki_cert_not_after(cert));
    }
    if (!e) {
        e = reply_created(req, "cert", fy_pki_cert_id_get(cert), NULL);
    }
    fy_pki_cert_free(cert);
    return e;
}

/* ---- describe / list ---- */

static json_t *description_to_json(const struct api_req *req, const struct fy_cert_row *r, bool ca)
{
    char arn[CERT_ARN_MAX];
    cert_arn(req, ca ? "cacert" : "cert", r->cert_id, arn);
    json_t *j =
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:f, s:f, s:I, s:s, s:{s:f, s:f}, s:s}",
                  "certificateArn", arn, "certificateId", r->cert_id, "status", r->status,
                  "certificatePem", r->pem, "ownedBy", r->owned_by, "creationDate",
                  r->creation_date, "lastModifiedDate", r->last_modified, "customerVersion",
                  (json_int_t)r->customer_version, "generationId", r->generation_id, "validity",
                  "notBefore", r->not_before, "notAfter", r->not_after, "certificateMode", r->mode);
    if (j && ca) {
        j = fy_json_with_member(j, "autoRegistrationStatus", json_string(r->auto_registration));
    } else if (j && r->ca_cert_id[0]) {
        j = fy_json_with_member(j, "caCertificateId", json_string(r->ca_cert_id));
    }
    if (j && !ca) {
        j = fy_json_with_member(j, "transferData", json_object());
    }
    return j;
}

static fy_err h_describe_cert(struct api_req *req)
{
    const char *id;
    struct fy_cert_row row;
    fy_err e = require_cert_id(req, "certificateId", &id);
    if (!e) {
        e = fy_cert_get(req->db, id, &row, &req->em);
    }
    if (e) {
        return e;
    }
    e = api_reply(
        req, json_pack("{s:o}", "certificateDescription", description_to_json(req, &row, false)));
    fy_cert_row_clear(&row);
    return e;
}

static fy_err h_describe_ca(struct api_req *req)
{
    const char *id;
    struct fy_cert_row row;
    fy_err e = require_cert_id(req, "caCertificateId", &id);
    if (!e) {
        e = fy_ca_get(req->db, id, &row, &req->em);
    }
    if (e) {
        return e;
    }
    json_t *config =
        row.registration_config ? fy_json_loads(row.registration_config, 0) : json_object();
    e = api_reply(req, json_pack("{s:o, s:o}", "certificateDescription",
                                 description_to_json(req, &row, true), "registrationConfig",
                                 config ? config : json_object()));
    fy_cert_row_clear(&row);
    return e;
}

struct cert_page {
    const struct api_req *req;
    json_t *items;
    bool ca;
};

static fy_err add_summary(void *ctx, const struct fy_cert_row *r)
{
    struct cert_page *p = ctx;
    char arn[CERT_ARN_MAX];
    cert_arn(p->req, p->ca ? "cacert" : "cert", r->cert_id, arn);
    json_t *j = json_pack("{s:s, s:s, s:s, s:f}", "certificateArn", arn, "certificateId",
                          r->cert_id, "status", r->status, "creationDate", r->creation_date);
    if (j && !p->ca) {
        j = fy_json_with_member(j, "certificateMode", json_string(r->mode));
    }
    return j && json_array_append_new(p->items, j) == 0 ? FY_ERR_OK : FY_ERR_NOMEM;
}

/* Shared by ListCertificates, ListCertificatesByCA and ListCACertificates. */
static fy_err list_certs(struct api_req *req, const char *ca_filter, bool ca)
{
    bool asc;
    int64_t limit;
    char *after = NULL, *next = NULL;
    struct cert_page p = {req, json_array(), ca};
    fy_err e = api_query_bool(req, "isAscendingOrder", false, &asc);
    if (!e) {
        e = api_page_in(req, "marker", "pageSize", CERT_PAGE_DEFAULT, API_PAGE_MAX_DEFAULT, &after,
                        &limit);
    }
    if (!e && ca) {
        e = fy_ca_list(req->db, asc, after, limit, add_summary, &p, &next, &req->em);
    } else if (!e) {
        e = fy_cert_list(req->db, ca_filter, asc, after, limit, add_summary, &p, &next, &req->em);
    }
    json_t *j = e ? NULL : json_pack("{s:O}", "certificates", p.items);
    if (!e) {
        e = j ? api_page_out(req, j, "nextMarker", next) : FY_ERR_NOMEM;
    }
    if (!e) {
        e = api_reply(req, j);
        j = NULL;
    }
    json_decref(j);
    json_decref(p.items);
    fy_free(after);
    fy_free(next);
    return e;
}

static fy_err h_list_certs(struct api_req *req)
{
    return list_certs(req, NULL, false);
}

static fy_err h_list_certs_by_ca(struct api_req *req)
{
    const char *id;
    struct fy_cert_row row = {.pem = NULL};
    fy_err e = require_cert_id(req, "caCertificateId", &id);
    if (!e) {
        e = fy_ca_get(req->db, id, &row, &req->em);
        fy_cert_row_clear(&row);
    }
    return e ? e : list_certs(req, id, false);
}

static fy_err h_list_cas(struct api_req *req)
{
    return list_certs(req, NULL, true);
}

/* ---- update / delete ---- */

static fy_err h_update_cert(struct api_req *req)
{
    const char *id, *status = api_query(req, "newStatus");
    fy_err e = require_cert_id(req, "certificateId", &id);
    if (!e && !status) {
        e = fy_fail(&req->em, FY_ERR_INVALID_REQUEST, "newStatus is required");
    }
    if (!e) {
        e = fy_cert_set_status(req->db, id, status, &req->em);
    }
    if (!e) {
        char arn[CERT_ARN_MAX];
        cert_arn(req, "cert", id, arn);
        fy_audit(req->caller, req->op, arn);
    }
    return e;
}

static fy_err
check_enum(struct api_req *req, const char *name, const char *v, const char *a, const char *b)
{
    if (v && strcmp(v, a) != 0 && strcmp(v, b) != 0) {
        return fy_fail(&req->em, FY_ERR_INVALID_REQUEST, "%s must be %s or %s", name, a, b);
    }
    return FY_ERR_OK;
}

static fy_err h_update_ca(struct api_req *req)
{
    const char *id, *status = api_query(req, "newStatus");
    const char *auto_reg = api_query(req, "newAutoRegistrationStatus");
    json_t *body, *config = NULL;
    json_error_t err;
    int remove_auto = 0;
    fy_err e = require_cert_id(req, "caCertificateId", &id);
    if (!e) {
        e = check_enum(req, "newStatus", status, "ACTIVE", "INACTIVE");
    }
    if (!e) {
        e = check_enum(req, "newAutoRegistrationStatus", auto_reg, "ENABLE", "DISABLE");
    }
    if (!e) {
        e = api_body(req, &body);
    }
    if (!e && json_unpack_ex(body, &err, 0, "{s?o, s?b !}", "registrationConfig", &config,
                             "removeAutoRegistration", &remove_auto) != 0) {
        e = bad_body(req, &err);
    }
    char *text = !e && config ? fy_json_dumps(config, JSON_COMPACT) : NULL;
    if (!e) {
        e = fy_ca_update(req->db, id, status, remove_auto ? "DISABLE" : auto_reg,
                         remove_auto ? "{}" : text, &req->em);
    }
    fy_free(text);
    return e;
}

static fy_err h_delete_cert(struct api_req *req)
{
    const char *id;
    bool force;
    fy_err e = require_cert_id(req, "certificateId", &id);
    if (!e) {
        e = api_query_bool(req, "forceDelete", false, &force);
    }
    if (!e) {
        e = fy_cert_delete(req->db, req->site, id, force, &req->em);
    }
    if (!e) {
        char arn[CERT_ARN_MAX];
        cert_arn(req, "cert", id, arn);
        fy_audit(req->caller, req->op, arn);
    }
    return e;
}

static fy_err h_delete_ca(struct api_req *req)
{
    const char *id;
    fy_err e = require_cert_id(req, "caCertificateId", &id);
    return e ? e : fy_ca_delete(req->db, id, &req->em);
}

/* GET /fleetyard/ca.pem: the root CA devices trust (public, served without a signature). */
static fy_err h_root_ca(struct api_req *req)
{
    char *pem = fy_strdup(fy_pki_ca_pem_get(req->srv->ca));
    if (!pem) {
        return fy_fail(&req->em, FY_ERR_NOMEM, "Out of memory");
    }
    api_reply_raw(req, pem, strlen(pem), "application/x-pem-file");
    return FY_ERR_OK;
}

const struct api_route api_routes_certificates[] = {
    {FY_SVC_IOT, "POST", "/keys-and-certificate", h_create_keys_and_cert,
     "CreateKeysAndCertificate"},
    {FY_SVC_IOT, "POST", "/certificates", h_create_from_csr, "CreateCertificateFromCsr"},
    {FY_SVC_IOT, "GET", "/certificates", h_list_certs, "ListCertificates"},
    {FY_SVC_IOT, "GET", "/certificates/{certificateId}", h_describe_cert, "DescribeCertificate"},
    {FY_SVC_IOT, "PUT", "/certificates/{certificateId}", h_update_cert, "UpdateCertificate"},
    {FY_SVC_IOT, "DELETE", "/certificates/{certificateId}", h_delete_cert, "DeleteCertificate"},
    {FY_SVC_IOT, "GET", "/certificates-by-ca/{caCertificateId}", h_list_certs_by_ca,
     "ListCertificatesByCA"},
    {FY_SVC_IOT, "POST", "/certificate/register", h_register_cert, "RegisterCertificate"},
    {FY_SVC_IOT, "POST", "/certificate/register-no-ca", h_register_no_ca,
     "RegisterCertificateWithoutCA"},
    {FY_SVC_IOT, "POST", "/cacertificate", h_register_ca, "RegisterCACertificate"},
    {FY_SVC_IOT, "GET", "/cacertificates", h_list_cas, "ListCACertificates"},
    {FY_SVC_IOT, "GET", "/cacertificate/{caCertificateId}", h_describe_ca, "DescribeCACertificate"},
    {FY_SVC_IOT, "PUT", "/cacertificate/{caCertificateId}", h_update_ca, "UpdateCACertificate"},
    {FY_SVC_IOT, "DELETE", "/cacertificate/{caCertificateId}", h_delete_ca, "DeleteCACertificate"},
    {FY_SVC_IOT, "GET", "/registrationcode", h_get_registration_code, "GetRegistrationCode"},
    {FY_SVC_IOT, "GET", "/fleetyard/ca.pem", h_root_ca, "GetRootCA"},
    {0, NULL, NULL, NULL, NULL},
};
