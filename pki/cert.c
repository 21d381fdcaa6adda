/* Parsed certificates: PEM parsing, certificateId, validity, serial, CA flag and getters. */
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/codec.h"
#include "pki/pki_int.h"

fy_err fy_pki_ossl_fail(struct fy_errmsg *em, fy_err code, const char *what)
{
    unsigned long e = ERR_peek_last_error();
    const char *reason = e ? ERR_reason_error_string(e) : NULL;
    fy_err rc = fy_fail(em, code, "%.200s: %.200s", what, reason ? reason : "unknown reason");
    ERR_clear_error();
    return rc;
}

int fy_pki_no_password(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return -1;
}

BIO *fy_pki_bio_in(const char *data, size_t len)
{
    if (!data || len == 0 || len > FY_PKI_PEM_MAX) {
        return NULL;
    }
    return BIO_new_mem_buf(data, (int)len);
}

char *fy_pki_bio_str_new(BIO *b)
{
    char *p = NULL;
    long n = BIO_get_mem_data(b, &p);
    if (n < 0 || (n > 0 && !p)) {
        return NULL;
    }
    return fy_strndup(n > 0 ? p : "", (size_t)n);
}

/* Epoch seconds of an ASN1_TIME; false when it does not decode. */
static bool asn1_time_epoch(const ASN1_TIME *t, int64_t *out)
{
    struct tm tm;
    if (!t || ASN1_TIME_to_tm(t, &tm) != 1) {
        return false;
    }
    *out = (int64_t)timegm(&tm);
    return true;
}

/* Serial number as lowercase hex of its magnitude ("00" for zero). */
static bool serial_hex(const X509 *x, char out[FY_PKI_SERIAL_MAX + 1])
{
    unsigned char bin[FY_PKI_SERIAL_MAX / 2];
    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
    if (!bn) {
        return false;
    }
    int n = BN_num_bytes(bn);
    bool good = n >= 0 && (size_t)n <= sizeof(bin);
    if (good) {
        n = BN_bn2bin(bn, bin);
        if (n == 0) {
            bin[n++] = 0;
        }
        fy_hex(bin, (size_t)n, out);
    }
    BN_free(bn);
    return good;
}

/* certificateId and normalised PEM of c->x509. */
static fy_err cert_encodings(struct fy_pki_cert *c, struct fy_errmsg *em)
{
    unsigned char *der = NULL;
    int n = i2d_X509(c->x509, &der);
    if (n <= 0) {
        return fy_pki_ossl_fail(em, FY_ERR_CERT_VALIDATION, "The certificate cannot be encoded");
    }
    fy_sha256_hex(der, (size_t)n, c->id);
    OPENSSL_free(der);
    BIO *b = BIO_new(BIO_s_mem());
    if (!b || PEM_write_bio_X509(b, c->x509) != 1 || !(c->pem = fy_pki_bio_str_new(b))) {
        BIO_free(b);
        ERR_clear_error();
        return fy_fail(em, FY_ERR_NOMEM, "Out of memory encoding a certificate");
    }
    BIO_free(b);
    return FY_ERR_OK;
}

fy_err fy_pki_cert_from_x509(X509 *x, struct fy_pki_cert **out, struct fy_errmsg *em)
{
    struct fy_pki_cert *c = fy_calloc(1, sizeof(*c));
    *out = NULL;
    if (!c) {
        X509_free(x);
        return fy_fail(em, FY_ERR_NOMEM, "Out of memory parsing a certificate");
    }
    c->x509 = x;
    fy_err rc = cert_encodings(c, em);
    if (rc) {
        goto out;
    }
    if (!asn1_time_epoch(X509_get0_notBefore(x), &c->not_before) ||
        !asn1_time_epoch(X509_get0_notAfter(x), &c->not_after)) {
        rc = fy_fail(em, FY_ERR_CERT_VALIDATION, "The certificate has an invalid validity period");
        goto out;
    }
    if (!serial_hex(x, c->serial)) {
        rc = fy_fail(em, FY_ERR_CERT_VALIDATION, "The certificate serial number is too long");
        goto out;
    }
    /* Decided once here: X509_check_ca caches extension state inside the X509. */
    c->is_ca = X509_check_ca(x) != 0;
    rc = fy_pki_attrs_collect(c, em);
out:
    ERR_clear_error();
    if (rc) {
        fy_pki_cert_free(c);
        return rc;
    }
    *out = c;
    return FY_ERR_OK;
}

fy_err
fy_pki_cert_parse(const char *pem, size_t len, struct fy_pki_cert **out, struct fy_errmsg *em)
{
    *out = NULL;
    if (len > FY_PKI_PEM_MAX) {
        return fy_fail(em, FY_ERR_CERT_VALIDATION, "The certificate is larger than %d bytes",
                       FY_PKI_PEM_MAX);
    }
    BIO *b = fy_pki_bio_in(pem, len);
    if (!b) {
        return fy_fail(em, FY_ERR_CERT_VALIDATION, "The certificate is empty");
    }
    X509 *x = PEM_read_bio_X509(b, NULL, fy_pki_no_password, NULL);
    BIO_free(b);
    if (!x) {
        ERR_clear_error();
        return fy_fail(em, FY_ERR_CERT_VALIDATION,
                       "The certificate is not a valid PEM certificate");
    }
    return fy_pki_cert_from_x509(x, out, em);
}

void fy_pki_cert_free(struct fy_pki_cert *c)
{
    if (!c) {
        return;
    }
    for (size_t i = 0; i < c->n_vals; i++) {
        fy_free(c->vals[i].value);
    }
    fy_free(c->vals);
    fy_free(c->pem);
    X509_free(c->x509);
    fy_free(c);
}

const char *fy_pki_cert_id_get(const struct fy_pki_cert *c)
{
    return c->id;
}

const char *fy_pki_cert_pem_get(const struct fy_pki_cert *c)
{
    return c->pem;
}

int64_t fy_pki_cert_not_before(const struct fy_pki_cert *c)
{
    return c->not_before;
}

int64_t fy_pki_cert_not_after(const struct fy_pki_cert *c)
{
    return c->not_after;
}

const char *fy_pki_cert_serial_get(const struct fy_pki_cert *c)
{
    return c->serial;
}

bool fy_pki_cert_is_ca(const struct fy_pki_cert *c)
{
    return c->is_ca;
}
