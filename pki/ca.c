/* CA bootstrap: fleetyard's own root CA in the data directory, or an operator-supplied CA. */
#include <limits.h>
#include <string.h>

#include "core/alloc.h"
#include "pki/pki_int.h"

/* The loaded key must belong to the certificate and the certificate must be a CA. */
static fy_err ca_check(const struct fy_pki_ca *ca, const char *cert_path, struct fy_errmsg *em)
{
    if (X509_check_private_key(ca->cert->x509, ca->key) != 1) {
        ERR_clear_error();
        return fy_fail(em, FY_ERR_CERT_VALIDATION,
                       "The CA key does not belong to the CA certificate %.200s", cert_path);
    }
    if (!ca->cert->is_ca) {
        return fy_fail(em, FY_ERR_CERT_VALIDATION, "%.200s is not a CA certificate", cert_path);
    }
    return FY_ERR_OK;
}

static fy_err
ca_load(const char *cert_path, const char *key_path, struct fy_pki_ca *ca, struct fy_errmsg *em)
{
    fy_err rc = fy_pki_cert_load(cert_path, &ca->cert, em);
    if (!rc) {
        rc = fy_pki_key_load(key_path, &ca->key, em);
    }
    return rc ? rc : ca_check(ca, cert_path, em);
}

/* A new self-signed root certificate for ca->key, written to crt_path. */
static fy_err ca_issue_root(const char *crt_path, struct fy_pki_ca *ca, struct fy_errmsg *em)
{
    X509_NAME *subject = fy_pki_name_cn_new(FY_PKI_CA_CN);
    if (!subject) {
        return fy_pki_ossl_fail(em, FY_ERR_NOMEM, "Cannot build the CA name");
    }
    struct fy_pki_issue req = {
        .profile = FY_PKI_PROFILE_ROOT,
        .subject_key = ca->key,
        .subject = subject,
        .issuer_key = ca->key,
        .days = FY_PKI_CA_DAYS,
    };
    X509 *x;
    fy_err rc = fy_pki_issue_x509(&req, &x, em);
    X509_NAME_free(subject);
    if (!rc) {
        rc = fy_pki_cert_from_x509(x, &ca->cert, em);
    }
    if (!rc) {
        rc = fy_pki_file_write(crt_path, ca->cert->pem, strlen(ca->cert->pem), 0644, em);
    }
    return rc;
}

/* The key is written first: a crash before the certificate is written leaves a key that the
 * next start certifies again, never a certificate without its key. */
static fy_err own_ca(const char *dir,
                     const struct fy_pki_ca_opts *opts,
                     struct fy_pki_ca *ca,
                     struct fy_errmsg *em)
{
    char crt[PATH_MAX], key[PATH_MAX];
    fy_err rc = fy_pki_path(crt, sizeof(crt), dir, "ca.crt", em);
    if (!rc) {
        rc = fy_pki_path(key, sizeof(key), dir, "ca.key", em);
    }
    if (rc) {
        return rc;
    }
    bool has_crt = fy_pki_file_exists(crt), has_key = fy_pki_file_exists(key);
    if (has_crt && has_key) {
        return ca_load(crt, key, ca, em);
    }
    if (has_crt) {
        return fy_fail(em, FY_ERR_INTERNAL,
                       "%.200s exists without its key %.200s: restore the key, configure the "
                       "operator CA again, or remove %.200s to create a new CA",
                       crt, key, crt);
    }
    rc =
        has_key ? fy_pki_key_load(key, &ca->key, em) : fy_pki_key_gen(opts->key_type, &ca->key, em);
    if (!rc && !has_key) {
        rc = fy_pki_key_save(key, ca->key, em);
    }
    return rc ? rc : ca_issue_root(crt, ca, em);
}

/* Operator CA: loaded from its paths; its certificate is published as dir/ca.crt. */
static fy_err operator_ca(const char *dir,
                          const struct fy_pki_ca_opts *opts,
                          struct fy_pki_ca *ca,
                          struct fy_errmsg *em)
{
    char crt[PATH_MAX];
    struct fy_pki_cert *published = NULL;
    fy_err rc = ca_load(opts->ca_cert_path, opts->ca_key_path, ca, em);
    if (!rc) {
        rc = fy_pki_path(crt, sizeof(crt), dir, "ca.crt", em);
    }
    if (rc) {
        return rc;
    }
    if (fy_pki_cert_load(crt, &published, NULL) == FY_ERR_OK &&
        strcmp(published->id, ca->cert->id) == 0) {
        fy_pki_cert_free(published);
        return FY_ERR_OK;
    }
    fy_pki_cert_free(published);
    return fy_pki_file_write(crt, ca->cert->pem, strlen(ca->cert->pem), 0644, em);
}

fy_err fy_pki_ensure_ca(const char *dir,
                        const struct fy_pki_ca_opts *opts,
                        struct fy_pki_ca **out,
                        struct fy_errmsg *em)
{
    static const struct fy_pki_ca_opts defaults;
    opts = opts ? opts : &defaults;
    *out = NULL;
    if (!opts->ca_cert_path != !opts->ca_key_path) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST,
                       "An operator CA needs both a certificate and a key path");
    }
    struct fy_pki_ca *ca = fy_calloc(1, sizeof(*ca));
    if (!ca) {
        return fy_fail(em, FY_ERR_NOMEM, "Out of memory loading the CA");
    }
    ERR_clear_error();
    fy_err rc = opts->ca_cert_path ? operator_ca(dir, opts, ca, em) : own_ca(dir, opts, ca, em);
    if (!rc) {
        rc = fy_pki_ensure_server(dir, opts, ca, em);
    }
    if (rc) {
        fy_pki_ca_free(ca);
        return rc;
    }
    *out = ca;
    return FY_ERR_OK;
}

void fy_pki_ca_free(struct fy_pki_ca *ca)
{
    if (!ca) {
        return;
    }
    fy_pki_cert_free(ca->cert);
    EVP_PKEY_free(ca->key);
    fy_free(ca);
}

const char *fy_pki_ca_pem_get(const struct fy_pki_ca *ca)
{
    return ca->cert->pem;
}

const struct fy_pki_cert *fy_pki_ca_cert_get(const struct fy_pki_ca *ca)
{
    return ca->cert;
}
