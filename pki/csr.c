/* Certificate signing requests: parsing, self-signature and key checks, CreateCertificateFromCsr.
 */
#include <string.h>

#include "pki/pki_int.h"

#define RSA_MIN_BITS 2048
#define RSA_MAX_BITS 4096

/* Accepted device keys, as AWS IoT accepts them: RSA 2048-4096, EC P-256/P-384/P-521. */
static bool key_acceptable(EVP_PKEY *key)
{
    if (EVP_PKEY_is_a(key, "RSA")) {
        int bits = EVP_PKEY_get_bits(key);
        return bits >= RSA_MIN_BITS && bits <= RSA_MAX_BITS;
    }
    char group[64];
    size_t len = 0;
    if (!EVP_PKEY_is_a(key, "EC") ||
        EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                       &len) != 1) {
        return false;
    }
    return strcmp(group, "prime256v1") == 0 || strcmp(group, "secp384r1") == 0 ||
           strcmp(group, "secp521r1") == 0;
}

/* Parses and checks a CSR; *out is owned by the caller. */
static fy_err csr_load(const char *pem, size_t len, X509_REQ **out, struct fy_errmsg *em)
{
    if (len > FY_PKI_PEM_MAX) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST,
                       "The certificate signing request is larger than %d bytes", FY_PKI_PEM_MAX);
    }
    BIO *b = fy_pki_bio_in(pem, len);
    X509_REQ *req = b ? PEM_read_bio_X509_REQ(b, NULL, fy_pki_no_password, NULL) : NULL;
    BIO_free(b);
    ERR_clear_error();
    *out = NULL;
    if (!req) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST,
                       "The certificate signing request is not a valid PEM CSR");
    }
    EVP_PKEY *key = X509_REQ_get0_pubkey(req);
    const char *why = NULL;
    if (!key) {
        why = "The certificate signing request has an unreadable public key";
    } else if (X509_REQ_verify(req, key) != 1) {
        why = "The signature of the certificate signing request does not verify";
    } else if (!key_acceptable(key)) {
        why = "The certificate signing request's key must be RSA 2048-4096 bits or EC "
              "P-256/P-384/P-521";
    }
    ERR_clear_error();
    if (why) {
        X509_REQ_free(req);
        return fy_fail(em, FY_ERR_INVALID_REQUEST, "%s", why);
    }
    *out = req;
    return FY_ERR_OK;
}

fy_err fy_pki_csr_check(const char *pem, size_t len, struct fy_errmsg *em)
{
    X509_REQ *req;
    fy_err rc = csr_load(pem, len, &req, em);
    X509_REQ_free(req);
    return rc;
}

fy_err fy_pki_sign_csr(const struct fy_pki_ca *ca,
                       const char *csr_pem,
                       size_t len,
                       struct fy_pki_issued *out,
                       struct fy_errmsg *em)
{
    X509_REQ *req;
    memset(out, 0, sizeof(*out));
    fy_err rc = csr_load(csr_pem, len, &req, em);
    if (rc) {
        return rc;
    }
    rc = fy_pki_issue_for_key(ca, X509_REQ_get0_pubkey(req), X509_REQ_get_subject_name(req), out,
                              em);
    X509_REQ_free(req);
    return rc;
}
