/* fleetyard pki internals: struct layouts and helpers shared by the pki/ sources. Not for use
 * outside pki/. Every pki source includes OpenSSL only through this header, so the API level
 * below applies everywhere: a deprecated OpenSSL call does not compile. */
#ifndef FY_PKI_PKI_INT_H
#define FY_PKI_PKI_INT_H

#define OPENSSL_API_COMPAT 30000
#define OPENSSL_NO_DEPRECATED

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "pki/pki.h"

#define FY_PKI_ATTR_VALUES_MAX  256 /* values kept per certificate; more are ignored */
#define FY_PKI_DEVICE_NOT_AFTER "20491231235959Z"
#define FY_PKI_CA_DAYS          3650
#define FY_PKI_SERVER_DAYS      825
#define FY_PKI_RENEW_SECONDS    (30 * 86400)

/* One subject/issuer attribute value (owned by the certificate). */
struct fy_pki_attr_val {
    unsigned char side; /* enum fy_pki_side */
    unsigned char attr; /* enum fy_pki_attr */
    char *value;
};

struct fy_pki_cert {
    X509 *x509;
    char id[FY_PKI_CERT_ID_LEN + 1];
    char serial[FY_PKI_SERIAL_MAX + 1];
    char *pem;
    int64_t not_before;
    int64_t not_after;
    bool is_ca;
    struct fy_pki_attr_val *vals;
    size_t n_vals;
};

struct fy_pki_ca {
    struct fy_pki_cert *cert;
    EVP_PKEY *key;
};

/* Certificate profiles fy_pki_issue_x509 knows. */
enum fy_pki_profile { FY_PKI_PROFILE_ROOT, FY_PKI_PROFILE_SERVER, FY_PKI_PROFILE_DEVICE };

/* What to issue; everything borrowed. issuer_cert is NULL for a self-signed root (then
 * issuer_key certifies itself). days == 0 means "until FY_PKI_DEVICE_NOT_AFTER". */
struct fy_pki_issue {
    enum fy_pki_profile profile;
    EVP_PKEY *subject_key;
    const X509_NAME *subject;
    X509 *issuer_cert;
    EVP_PKEY *issuer_key;
    long days;
    const char *const *names; /* server profile: subjectAltName DNS names / IP literals */
    size_t n_names;
};

/* Formats em as "<what>: <OpenSSL reason>", clears the thread's OpenSSL error queue and
 * returns code. */
fy_err fy_pki_ossl_fail(struct fy_errmsg *em, fy_err code, const char *what);

/* A PEM password callback that refuses (never prompts on a terminal). */
int fy_pki_no_password(char *buf, int size, int rwflag, void *u);

/* A read-only memory BIO over untrusted input, or NULL (too large: > FY_PKI_PEM_MAX, empty, or
 * OOM). */
BIO *fy_pki_bio_in(const char *data, size_t len);

/* The contents of a memory BIO as a new NUL-terminated string (fy_free), NULL on OOM. */
char *fy_pki_bio_str_new(BIO *b);

/* Wraps x (ownership taken, freed on error) into a new struct fy_pki_cert. Errors:
 * FY_ERR_CERT_VALIDATION for unusable fields, FY_ERR_NOMEM. */
FY_NODISCARD fy_err fy_pki_cert_from_x509(X509 *x, struct fy_pki_cert **out, struct fy_errmsg *em);

/* Collects DN and alternative-name values of x into c->vals (attrs.c). */
FY_NODISCARD fy_err fy_pki_attrs_collect(struct fy_pki_cert *c, struct fy_errmsg *em);

/* Builds and signs a certificate as req describes; *out is owned by the caller. */
FY_NODISCARD fy_err fy_pki_issue_x509(const struct fy_pki_issue *req,
                                      X509 **out,
                                      struct fy_errmsg *em);

/* A device certificate (fy_pki_create_keys_and_cert's profile) for key with subject (NULL or
 * empty: CN "AWS IoT Certificate"), signed by ca, into out. */
FY_NODISCARD fy_err fy_pki_issue_for_key(const struct fy_pki_ca *ca,
                                         EVP_PKEY *key,
                                         const X509_NAME *subject,
                                         struct fy_pki_issued *out,
                                         struct fy_errmsg *em);

/* Fills out (cert id, PEM, validity) from an issued x (ownership taken). */
FY_NODISCARD fy_err fy_pki_issued_fill(X509 *x, struct fy_pki_issued *out, struct fy_errmsg *em);

/* A new key pair of the given type. */
FY_NODISCARD fy_err fy_pki_key_gen(enum fy_pki_key_type type, EVP_PKEY **out, struct fy_errmsg *em);

/* Private key <-> unencrypted PKCS#8 PEM. */
FY_NODISCARD fy_err fy_pki_key_pem_new(EVP_PKEY *key, char **out, struct fy_errmsg *em);
FY_NODISCARD fy_err fy_pki_key_parse(const char *pem,
                                     size_t len,
                                     EVP_PKEY **out,
                                     struct fy_errmsg *em);

/* A one-CN X509_NAME (owned by the caller). */
X509_NAME *fy_pki_name_cn_new(const char *cn);

/* True when c carries exactly the names (DNS names and IP literals) as subjectAltName values. */
bool fy_pki_cert_has_names(const struct fy_pki_cert *c, const char *const *names, size_t n);

/* Reads a whole file (at most FY_PKI_PEM_MAX bytes) into a new NUL-terminated buffer. A missing
 * file gives FY_ERR_NOT_FOUND, other failures FY_ERR_INTERNAL. */
FY_NODISCARD fy_err fy_pki_file_read(const char *path,
                                     char **data,
                                     size_t *len,
                                     struct fy_errmsg *em);

/* Writes data to path atomically (temporary file in the same directory created with mode,
 * fsync, rename, fsync of the directory). */
FY_NODISCARD fy_err fy_pki_file_write(
    const char *path, const char *data, size_t len, unsigned mode, struct fy_errmsg *em);

/* dir/name into out (cap bytes); FY_ERR_INTERNAL when it does not fit. */
FY_NODISCARD fy_err
fy_pki_path(char *out, size_t cap, const char *dir, const char *name, struct fy_errmsg *em);

/* False only when path definitely does not exist (ENOENT); other stat failures count as
 * present so that the later read reports them. */
bool fy_pki_file_exists(const char *path);

/* A certificate or private key read from a PEM file; errors name the file. Key buffers are
 * cleansed after use. */
FY_NODISCARD fy_err fy_pki_cert_load(const char *path,
                                     struct fy_pki_cert **out,
                                     struct fy_errmsg *em);
FY_NODISCARD fy_err fy_pki_key_load(const char *path, EVP_PKEY **out, struct fy_errmsg *em);

/* Writes key as unencrypted PKCS#8 PEM to path (mode 0600, atomically). */
FY_NODISCARD fy_err fy_pki_key_save(const char *path, EVP_PKEY *key, struct fy_errmsg *em);

/* The broker certificate step of fy_pki_ensure_ca (server.c). */
FY_NODISCARD fy_err fy_pki_ensure_server(const char *dir,
                                         const struct fy_pki_ca_opts *opts,
                                         const struct fy_pki_ca *ca,
                                         struct fy_errmsg *em);

#endif
