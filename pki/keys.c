/* Key pairs and CreateKeysAndCertificate. */
#include <string.h>

#include "core/alloc.h"
#include "pki/pki_int.h"

#define DEVICE_RSA_BITS 2048

fy_err fy_pki_key_gen(enum fy_pki_key_type type, EVP_PKEY **out, struct fy_errmsg *em)
{
    *out = type == FY_PKI_KEY_RSA_2048 ? EVP_RSA_gen(2048) : EVP_EC_gen("P-256");
    if (!*out) {
        return fy_pki_ossl_fail(em, FY_ERR_INTERNAL, "Cannot generate a key pair");
    }
    return FY_ERR_OK;
}

/* PEM text written by fn into a new string. */
static fy_err key_pem(EVP_PKEY *key, int (*fn)(BIO *, EVP_PKEY *), char **out, struct fy_errmsg *em)
{
    BIO *b = BIO_new(BIO_s_mem());
    *out = NULL;
    if (!b || fn(b, key) != 1) {
        BIO_free(b);
        return fy_pki_ossl_fail(em, FY_ERR_INTERNAL, "Cannot encode a key");
    }
    *out = fy_pki_bio_str_new(b);
    BIO_free(b);
    return *out ? FY_ERR_OK : fy_fail(em, FY_ERR_NOMEM, "Out of memory encoding a key");
}

static int write_pkcs8(BIO *b, EVP_PKEY *key)
{
    return PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL);
}

static int write_traditional(BIO *b, EVP_PKEY *key)
{
    return PEM_write_bio_PrivateKey_traditional(b, key, NULL, NULL, 0, NULL, NULL);
}

static int write_public(BIO *b, EVP_PKEY *key)
{
    return PEM_write_bio_PUBKEY(b, key);
}

fy_err fy_pki_key_pem_new(EVP_PKEY *key, char **out, struct fy_errmsg *em)
{
    return key_pem(key, write_pkcs8, out, em);
}

fy_err fy_pki_key_parse(const char *pem, size_t len, EVP_PKEY **out, struct fy_errmsg *em)
{
    BIO *b = fy_pki_bio_in(pem, len);
    *out = b ? PEM_read_bio_PrivateKey(b, NULL, fy_pki_no_password, NULL) : NULL;
    BIO_free(b);
    if (!*out) {
        return fy_pki_ossl_fail(em, FY_ERR_CERT_VALIDATION, "Not an unencrypted PEM private key");
    }
    return FY_ERR_OK;
}

void fy_pki_issued_clear(struct fy_pki_issued *out)
{
    if (!out) {
        return;
    }
    fy_free(out->cert_pem);
    fy_free(out->public_key_pem);
    fy_free(out->private_key_pem);
    memset(out, 0, sizeof(*out));
}

fy_err fy_pki_issued_fill(X509 *x, struct fy_pki_issued *out, struct fy_errmsg *em)
{
    struct fy_pki_cert *c;
    fy_err rc = fy_pki_cert_from_x509(x, &c, em);
    if (rc) {
        return rc;
    }
    memcpy(out->cert_id, c->id, sizeof(out->cert_id));
    out->not_before = c->not_before;
    out->not_after = c->not_after;
    out->cert_pem = c->pem; /* moved */
    c->pem = NULL;
    fy_pki_cert_free(c);
    return FY_ERR_OK;
}

static fy_err issue_leaf(const struct fy_pki_ca *ca,
                         EVP_PKEY *key,
                         const X509_NAME *subject,
                         struct fy_pki_issued *out,
                         struct fy_errmsg *em)
{
    struct fy_pki_issue req = {
        .profile = FY_PKI_PROFILE_DEVICE,
        .subject_key = key,
        .subject = subject,
        .issuer_cert = ca->cert->x509,
        .issuer_key = ca->key,
    };
    X509 *x;
    fy_err rc = fy_pki_issue_x509(&req, &x, em);
    return rc ? rc : fy_pki_issued_fill(x, out, em);
}

fy_err fy_pki_issue_for_key(const struct fy_pki_ca *ca,
                            EVP_PKEY *key,
                            const X509_NAME *subject,
                            struct fy_pki_issued *out,
                            struct fy_errmsg *em)
{
    if (subject && X509_NAME_entry_count(subject) > 0) {
        return issue_leaf(ca, key, subject, out, em);
    }
    X509_NAME *cn = fy_pki_name_cn_new(FY_PKI_AWS_CN);
    if (!cn) {
        return fy_pki_ossl_fail(em, FY_ERR_NOMEM, "Cannot build a subject name");
    }
    fy_err rc = issue_leaf(ca, key, cn, out, em);
    X509_NAME_free(cn);
    return rc;
}

fy_err fy_pki_create_keys_and_cert(const struct fy_pki_ca *ca,
                                   struct fy_pki_issued *out,
                                   struct fy_errmsg *em)
{
    EVP_PKEY *key = EVP_RSA_gen(DEVICE_RSA_BITS);
    memset(out, 0, sizeof(*out));
    if (!key) {
        return fy_pki_ossl_fail(em, FY_ERR_INTERNAL, "Cannot generate an RSA key pair");
    }
    fy_err rc = fy_pki_issue_for_key(ca, key, NULL, out, em);
    if (!rc) {
        rc = key_pem(key, write_public, &out->public_key_pem, em);
    }
    if (!rc) {
        rc = key_pem(key, write_traditional, &out->private_key_pem, em);
    }
    EVP_PKEY_free(key);
    if (rc) {
        fy_pki_issued_clear(out);
    }
    return rc;
}
