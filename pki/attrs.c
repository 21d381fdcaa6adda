/* Subject/issuer attributes of a certificate: DN fields and alternative names, as the IoT policy
 * variables iot:Certificate.Subject.* and iot:Certificate.Issuer.* name them. */
#include <arpa/inet.h>
#include <string.h>

#include "core/alloc.h"
#include "pki/pki_int.h"

#define FY_PKI_ATTR_NAME_ROW(id, name) [FY_PKI_ATTR_##id] = name,
static const char *const attr_names[FY_PKI_ATTR__COUNT] = {FY_PKI_ATTR_LIST(FY_PKI_ATTR_NAME_ROW)};
#undef FY_PKI_ATTR_NAME_ROW

/* DN attribute -> OpenSSL NID (alternative names have none). */
static const int attr_nids[FY_PKI_ATTR__COUNT] = {
    [FY_PKI_ATTR_COMMON_NAME] = NID_commonName,
    [FY_PKI_ATTR_ORGANIZATION] = NID_organizationName,
    [FY_PKI_ATTR_ORGANIZATIONAL_UNIT] = NID_organizationalUnitName,
    [FY_PKI_ATTR_COUNTRY] = NID_countryName,
    [FY_PKI_ATTR_STATE] = NID_stateOrProvinceName,
    [FY_PKI_ATTR_LOCALITY] = NID_localityName,
    [FY_PKI_ATTR_SERIAL_NUMBER] = NID_serialNumber,
    [FY_PKI_ATTR_TITLE] = NID_title,
    [FY_PKI_ATTR_SURNAME] = NID_surname,
    [FY_PKI_ATTR_GIVEN_NAME] = NID_givenName,
    [FY_PKI_ATTR_INITIALS] = NID_initials,
    [FY_PKI_ATTR_PSEUDONYM] = NID_pseudonym,
    [FY_PKI_ATTR_GENERATION_QUALIFIER] = NID_generationQualifier,
    [FY_PKI_ATTR_DN_QUALIFIER] = NID_dnQualifier,
};

const char *fy_pki_attr_name(enum fy_pki_attr a)
{
    return (unsigned)a < FY_PKI_ATTR__COUNT ? attr_names[a] : NULL;
}

bool fy_pki_attr_from_name(const char *name, enum fy_pki_attr *out)
{
    for (int i = 0; i < FY_PKI_ATTR__COUNT; i++) {
        if (strcmp(name, attr_names[i]) == 0) {
            *out = (enum fy_pki_attr)i;
            return true;
        }
    }
    return false;
}

/* Appends a copy of n bytes of value; values with NUL bytes and values past the cap are
 * skipped. */
static fy_err attr_add(struct fy_pki_cert *c,
                       enum fy_pki_side side,
                       enum fy_pki_attr attr,
                       const char *value,
                       size_t n)
{
    if (c->n_vals >= FY_PKI_ATTR_VALUES_MAX || memchr(value, '\0', n)) {
        return FY_ERR_OK;
    }
    struct fy_pki_attr_val *v = fy_realloc(c->vals, (c->n_vals + 1) * sizeof(*v));
    if (!v) {
        return FY_ERR_NOMEM;
    }
    c->vals = v;
    v[c->n_vals].value = fy_strndup(value, n);
    if (!v[c->n_vals].value) {
        return FY_ERR_NOMEM;
    }
    v[c->n_vals].side = (unsigned char)side;
    v[c->n_vals].attr = (unsigned char)attr;
    c->n_vals++;
    return FY_ERR_OK;
}

static int attr_for_nid(int nid)
{
    for (int i = 0; i < FY_PKI_ATTR__COUNT; i++) {
        if (attr_nids[i] == nid && nid != 0) {
            return i;
        }
    }
    return -1;
}

static fy_err collect_dn(struct fy_pki_cert *c, enum fy_pki_side side, const X509_NAME *name)
{
    int n = name ? X509_NAME_entry_count(name) : 0;
    for (int i = 0; i < n; i++) {
        const X509_NAME_ENTRY *e = X509_NAME_get_entry(name, i);
        int a = attr_for_nid(OBJ_obj2nid(X509_NAME_ENTRY_get_object(e)));
        unsigned char *utf8 = NULL;
        int len = a >= 0 ? ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(e)) : -1;
        if (len < 0) {
            continue; /* an attribute we do not expose, or a value that is not text */
        }
        fy_err rc = attr_add(c, side, (enum fy_pki_attr)a, (const char *)utf8, (size_t)len);
        OPENSSL_free(utf8);
        if (rc) {
            return rc;
        }
    }
    return FY_ERR_OK;
}

/* RFC 2253 text of a directory name. */
static fy_err add_dirname(struct fy_pki_cert *c, enum fy_pki_side side, const X509_NAME *name)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *text = NULL;
    fy_err rc = FY_ERR_NOMEM;
    if (b && X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253) >= 0 &&
        (text = fy_pki_bio_str_new(b))) {
        rc = attr_add(c, side, FY_PKI_ATTR_ALT_DIRECTORY, text, strlen(text));
    }
    fy_free(text);
    BIO_free(b);
    return rc;
}

static fy_err add_ip(struct fy_pki_cert *c, enum fy_pki_side side, const ASN1_OCTET_STRING *ip)
{
    char text[INET6_ADDRSTRLEN];
    int len = ASN1_STRING_length(ip);
    int af = len == 4 ? AF_INET : len == 16 ? AF_INET6 : 0;
    if (!af || !inet_ntop(af, ASN1_STRING_get0_data(ip), text, sizeof(text))) {
        return FY_ERR_OK; /* e.g. an address/mask pair from a name constraint */
    }
    return attr_add(c, side, FY_PKI_ATTR_ALT_IP, text, strlen(text));
}

static fy_err add_ia5(struct fy_pki_cert *c,
                      enum fy_pki_side side,
                      enum fy_pki_attr attr,
                      const ASN1_IA5STRING *s)
{
    return attr_add(c, side, attr, (const char *)ASN1_STRING_get0_data(s),
                    (size_t)ASN1_STRING_length(s));
}

static fy_err add_general_name(struct fy_pki_cert *c, enum fy_pki_side side, const GENERAL_NAME *g)
{
    switch (g->type) {
    case GEN_EMAIL:
        return add_ia5(c, side, FY_PKI_ATTR_ALT_RFC822, g->d.rfc822Name);
    case GEN_DNS:
        return add_ia5(c, side, FY_PKI_ATTR_ALT_DNS, g->d.dNSName);
    case GEN_URI:
        return add_ia5(c, side, FY_PKI_ATTR_ALT_URI, g->d.uniformResourceIdentifier);
    case GEN_IPADD:
        return add_ip(c, side, g->d.iPAddress);
    case GEN_DIRNAME:
        return add_dirname(c, side, g->d.directoryName);
    default:
        return FY_ERR_OK;
    }
}

static fy_err collect_alt(struct fy_pki_cert *c, enum fy_pki_side side, int nid)
{
    GENERAL_NAMES *gens = X509_get_ext_d2i(c->x509, nid, NULL, NULL);
    fy_err rc = FY_ERR_OK;
    for (int i = 0; gens && i < sk_GENERAL_NAME_num(gens) && !rc; i++) {
        rc = add_general_name(c, side, sk_GENERAL_NAME_value(gens, i));
    }
    GENERAL_NAMES_free(gens);
    return rc;
}

fy_err fy_pki_attrs_collect(struct fy_pki_cert *c, struct fy_errmsg *em)
{
    fy_err rc = collect_dn(c, FY_PKI_SUBJECT, X509_get_subject_name(c->x509));
    if (!rc) {
        rc = collect_dn(c, FY_PKI_ISSUER, X509_get_issuer_name(c->x509));
    }
    if (!rc) {
        rc = collect_alt(c, FY_PKI_SUBJECT, NID_subject_alt_name);
    }
    if (!rc) {
        rc = collect_alt(c, FY_PKI_ISSUER, NID_issuer_alt_name);
    }
    ERR_clear_error();
    return rc ? fy_fail(em, rc, "Out of memory reading certificate names") : FY_ERR_OK;
}

const char *fy_pki_cert_attr_get(const struct fy_pki_cert *c,
                                 enum fy_pki_side side,
                                 enum fy_pki_attr attr,
                                 size_t index)
{
    for (size_t i = 0; i < c->n_vals; i++) {
        if (c->vals[i].side == side && c->vals[i].attr == attr && index-- == 0) {
            return c->vals[i].value;
        }
    }
    return NULL;
}

size_t
fy_pki_cert_attr_count(const struct fy_pki_cert *c, enum fy_pki_side side, enum fy_pki_attr attr)
{
    size_t n = 0;
    for (size_t i = 0; i < c->n_vals; i++) {
        n += c->vals[i].side == side && c->vals[i].attr == attr;
    }
    return n;
}

/* Whether name (DNS name or IP literal, IPs compared in canonical text) is among c's subject
 * alternative names. */
static bool cert_has_name(const struct fy_pki_cert *c, const char *name)
{
    unsigned char bin[16];
    char canon[INET6_ADDRSTRLEN];
    enum fy_pki_attr attr = FY_PKI_ATTR_ALT_DNS;
    if (inet_pton(AF_INET, name, bin) == 1) {
        attr = FY_PKI_ATTR_ALT_IP;
        name = inet_ntop(AF_INET, bin, canon, sizeof(canon));
    } else if (inet_pton(AF_INET6, name, bin) == 1) {
        attr = FY_PKI_ATTR_ALT_IP;
        name = inet_ntop(AF_INET6, bin, canon, sizeof(canon));
    }
    for (size_t i = 0; name && i < c->n_vals; i++) {
        const struct fy_pki_attr_val *v = &c->vals[i];
        if (v->side == FY_PKI_SUBJECT && v->attr == attr && strcmp(v->value, name) == 0) {
            return true;
        }
    }
    return false;
}

bool fy_pki_cert_has_names(const struct fy_pki_cert *c, const char *const *names, size_t n)
{
    size_t in_cert = fy_pki_cert_attr_count(c, FY_PKI_SUBJECT, FY_PKI_ATTR_ALT_DNS) +
                     fy_pki_cert_attr_count(c, FY_PKI_SUBJECT, FY_PKI_ATTR_ALT_IP);
    size_t distinct = 0;
    for (size_t i = 0; i < n; i++) {
        if (!cert_has_name(c, names[i])) {
            return false;
        }
        bool dup = false;
        for (size_t j = 0; j < i && !dup; j++) {
            dup = strcmp(names[i], names[j]) == 0;
        }
        distinct += !dup;
    }
    return distinct == in_cert;
}
