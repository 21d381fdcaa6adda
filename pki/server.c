/* The broker's TLS server certificate: kept while it still fits, regenerated otherwise. */
#include <limits.h>
#include <string.h>
#include <time.h>

#include "pki/pki_int.h"

#define DNS_NAME_MAX 253
#define CN_MAX       64

static const char *const default_names[] = {"localhost", "127.0.0.1", "::1"};

/* Configured names must be printable ASCII host names or IP literals (IA5String). */
static fy_err names_check(const char *const *names, size_t n, struct fy_errmsg *em)
{
    for (size_t i = 0; i < n; i++) {
        size_t len = names[i] ? strlen(names[i]) : 0;
        bool good = len > 0 && len <= DNS_NAME_MAX;
        for (size_t j = 0; good && j < len; j++) {
            good = names[i][j] > 0x20 && names[i][j] < 0x7f;
        }
        if (!good) {
            return fy_fail(em, FY_ERR_INVALID_REQUEST,
                           "Server name %zu is not a host name or IP address (1-%d printable "
                           "ASCII characters)",
                           i + 1, DNS_NAME_MAX);
        }
    }
    return FY_ERR_OK;
}

/* True when the stored certificate and key can be kept. */
static bool server_current(const char *crt,
                           const char *key_path,
                           const char *const *names,
                           size_t n,
                           const struct fy_pki_ca *ca)
{
    struct fy_pki_cert *cert = NULL;
    EVP_PKEY *key = NULL;
    bool good = fy_pki_cert_load(crt, &cert, NULL) == FY_ERR_OK &&
                fy_pki_key_load(key_path, &key, NULL) == FY_ERR_OK &&
                X509_check_private_key(cert->x509, key) == 1 &&
                fy_pki_cert_verify_chain(cert, ca->cert, NULL) == FY_ERR_OK &&
                cert->not_after - (int64_t)time(NULL) >= FY_PKI_RENEW_SECONDS &&
                fy_pki_cert_has_names(cert, names, n);
    ERR_clear_error();
    EVP_PKEY_free(key);
    fy_pki_cert_free(cert);
    return good;
}

/* A new key and certificate, key written first (a crash in between leaves a mismatched pair,
 * which the next start replaces). */
static fy_err server_create(const char *crt,
                            const char *key_path,
                            const struct fy_pki_ca_opts *opts,
                            const char *const *names,
                            size_t n,
                            const struct fy_pki_ca *ca,
                            struct fy_errmsg *em)
{
    EVP_PKEY *key = NULL;
    X509 *x = NULL;
    struct fy_pki_cert *cert = NULL;
    X509_NAME *subject = fy_pki_name_cn_new(strlen(names[0]) <= CN_MAX ? names[0] : "fleetyard");
    fy_err rc = subject ? fy_pki_key_gen(opts->key_type, &key, em)
                        : fy_pki_ossl_fail(em, FY_ERR_NOMEM, "Cannot build the server name");
    if (!rc) {
        struct fy_pki_issue req = {
            .profile = FY_PKI_PROFILE_SERVER,
            .subject_key = key,
            .subject = subject,
            .issuer_cert = ca->cert->x509,
            .issuer_key = ca->key,
            .days = FY_PKI_SERVER_DAYS,
            .names = names,
            .n_names = n,
        };
        rc = fy_pki_issue_x509(&req, &x, em);
    }
    if (!rc) {
        rc = fy_pki_cert_from_x509(x, &cert, em);
    }
    if (!rc) {
        rc = fy_pki_key_save(key_path, key, em);
    }
    if (!rc) {
        rc = fy_pki_file_write(crt, cert->pem, strlen(cert->pem), 0644, em);
    }
    fy_pki_cert_free(cert);
    EVP_PKEY_free(key);
    X509_NAME_free(subject);
    return rc;
}

fy_err fy_pki_ensure_server(const char *dir,
                            const struct fy_pki_ca_opts *opts,
                            const struct fy_pki_ca *ca,
                            struct fy_errmsg *em)
{
    const char *const *names = opts->server_names;
    size_t n = opts->n_server_names;
    if (n == 0) {
        names = default_names;
        n = sizeof(default_names) / sizeof(default_names[0]);
    }
    char crt[PATH_MAX], key[PATH_MAX];
    fy_err rc = names_check(names, n, em);
    if (!rc) {
        rc = fy_pki_path(crt, sizeof(crt), dir, "server.crt", em);
    }
    if (!rc) {
        rc = fy_pki_path(key, sizeof(key), dir, "server.key", em);
    }
    if (rc || server_current(crt, key, names, n, ca)) {
        return rc;
    }
    return server_create(crt, key, opts, names, n, ca, em);
}
