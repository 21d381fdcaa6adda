/* Building and signing certificates: the root CA, the broker server certificate and device
 * certificates (one profile each). */
#include <string.h>

#include "pki/pki_int.h"

#define SERIAL_BYTES 20

/* A random positive serial of exactly SERIAL_BYTES bytes (top bit clear, next bit set). */
static bool set_serial(X509 *x)
{
    unsigned char b[SERIAL_BYTES];
    if (RAND_bytes(b, sizeof(b)) != 1) {
        return false;
    }
    b[0] = (unsigned char)((b[0] & 0x7f) | 0x40);
    BIGNUM *bn = BN_bin2bn(b, sizeof(b), NULL);
    bool good = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;
    BN_free(bn);
    return good;
}

static bool set_validity(X509 *x, long days)
{
    if (!X509_gmtime_adj(X509_getm_notBefore(x), 0)) {
        return false;
    }
    if (days > 0) {
        return X509_time_adj_ex(X509_getm_notAfter(x), (int)days, 0, NULL) != NULL;
    }
    return ASN1_TIME_set_string_X509(X509_getm_notAfter(x), FY_PKI_DEVICE_NOT_AFTER) == 1;
}

static bool add_ext(X509 *x, X509V3_CTX *v3, int nid, const char *value)
{
    X509_EXTENSION *ext = X509V3_EXT_nconf_nid(NULL, v3, nid, value);
    bool good = ext && X509_add_ext(x, ext, -1) == 1;
    X509_EXTENSION_free(ext);
    return good;
}

/* One subjectAltName entry: an IP address when name is an IPv4/IPv6 literal, else a DNS name. */
static GENERAL_NAME *general_name_new(const char *name)
{
    GENERAL_NAME *g = GENERAL_NAME_new();
    ASN1_OCTET_STRING *ip = a2i_IPADDRESS(name);
    if (!g) {
        ASN1_OCTET_STRING_free(ip);
        return NULL;
    }
    if (ip) {
        GENERAL_NAME_set0_value(g, GEN_IPADD, ip);
        return g;
    }
    ERR_clear_error();
    ASN1_IA5STRING *dns = ASN1_IA5STRING_new();
    if (!dns || ASN1_STRING_set(dns, name, -1) != 1) {
        ASN1_IA5STRING_free(dns);
        GENERAL_NAME_free(g);
        return NULL;
    }
    GENERAL_NAME_set0_value(g, GEN_DNS, dns);
    return g;
}

static bool add_alt_names(X509 *x, const char *const *names, size_t n)
{
    GENERAL_NAMES *gens = GENERAL_NAMES_new();
    bool good = gens != NULL;
    for (size_t i = 0; good && i < n; i++) {
        GENERAL_NAME *g = general_name_new(names[i]);
        good = g && sk_GENERAL_NAME_push(gens, g) > 0;
        if (!good) {
            GENERAL_NAME_free(g);
        }
    }
    good = good && X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0, X509V3_ADD_DEFAULT) == 1;
    GENERAL_NAMES_free(gens);
    return good;
}

/* Key usage of an end-entity key: RSA keys may also encipher (TLS 1.2 RSA key exchange). */
static const char *leaf_key_usage(EVP_PKEY *key)
{
    return EVP_PKEY_is_a(key, "RSA") ? "critical,digitalSignature,keyEncipherment"
                                     : "critical,digitalSignature";
}

static bool add_profile_exts(X509 *x, const struct fy_pki_issue *req)
{
    X509V3_CTX v3;
    X509V3_set_ctx(&v3, req->issuer_cert ? req->issuer_cert : x, x, NULL, NULL, 0);
    if (!add_ext(x, &v3, NID_subject_key_identifier, "hash")) {
        return false;
    }
    if (req->profile == FY_PKI_PROFILE_ROOT) {
        return add_ext(x, &v3, NID_basic_constraints, "critical,CA:TRUE") &&
               add_ext(x, &v3, NID_key_usage, "critical,keyCertSign,cRLSign");
    }
    bool server = req->profile == FY_PKI_PROFILE_SERVER;
    return add_ext(x, &v3, NID_basic_constraints, "critical,CA:FALSE") &&
           add_ext(x, &v3, NID_key_usage, leaf_key_usage(req->subject_key)) &&
           add_ext(x, &v3, NID_ext_key_usage, server ? "serverAuth" : "clientAuth") &&
           add_ext(x, &v3, NID_authority_key_identifier, "keyid") &&
           (!server || add_alt_names(x, req->names, req->n_names));
}

/* Digest for signing with key: none for EdDSA keys (they hash internally), else SHA-256. */
static const EVP_MD *sign_digest(EVP_PKEY *key)
{
    return EVP_PKEY_is_a(key, "ED25519") || EVP_PKEY_is_a(key, "ED448") ? NULL : EVP_sha256();
}

fy_err fy_pki_issue_x509(const struct fy_pki_issue *req, X509 **out, struct fy_errmsg *em)
{
    const X509_NAME *issuer =
        req->issuer_cert ? X509_get_subject_name(req->issuer_cert) : req->subject;
    X509 *x = X509_new();
    *out = NULL;
    bool good = x && X509_set_version(x, X509_VERSION_3) && set_serial(x) &&
                set_validity(x, req->days) && X509_set_subject_name(x, req->subject) &&
                X509_set_issuer_name(x, issuer) && X509_set_pubkey(x, req->subject_key) &&
                add_profile_exts(x, req) &&
                X509_sign(x, req->issuer_key, sign_digest(req->issuer_key)) > 0;
    if (!good) {
        X509_free(x);
        return fy_pki_ossl_fail(em, FY_ERR_INTERNAL, "Cannot issue a certificate");
    }
    *out = x;
    return FY_ERR_OK;
}

X509_NAME *fy_pki_name_cn_new(const char *cn)
{
    X509_NAME *n = X509_NAME_new();
    if (n && X509_NAME_add_entry_by_NID(n, NID_commonName, MBSTRING_UTF8, (const unsigned char *)cn,
                                        -1, -1, 0) != 1) {
        X509_NAME_free(n);
        return NULL;
    }
    return n;
}
