/* fleetyard pki: the fleetyard CA, the broker server certificate, device certificate issuance
 * (CreateKeysAndCertificate, CreateCertificateFromCsr) and certificate inspection for
 * registration and IoT policy variables. OpenSSL 3; pure library code (files only in
 * fy_pki_ensure_ca, no HTTP, no SQLite).
 *
 * Errors: every fallible function returns an fy_err and writes human detail into the caller's
 * struct fy_errmsg (which may be NULL). Untrusted input that does not parse or verify gives
 * FY_ERR_CERT_VALIDATION (certificates) or FY_ERR_INVALID_REQUEST (CSRs); allocation failure
 * gives FY_ERR_NOMEM; file and library failures give FY_ERR_INTERNAL.
 *
 * Threads: the functions keep no global state. A struct fy_pki_ca or struct fy_pki_cert is
 * immutable once returned and may be used from several threads at once; freeing it must not
 * race with its use.
 */
#ifndef FY_PKI_PKI_H
#define FY_PKI_PKI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define FY_PKI_CERT_ID_LEN 64          /* lowercase hex SHA-256 of the DER certificate */
#define FY_PKI_PEM_MAX     (64 * 1024) /* larger PEM input is refused before parsing */
#define FY_PKI_SERIAL_MAX  64          /* hex digits of the longest accepted serial number */
#define FY_PKI_AWS_CN      "AWS IoT Certificate"
#define FY_PKI_CA_CN       "fleetyard Root CA"

/* ---- CA bootstrap ------------------------------------------------------------------------ */

enum fy_pki_key_type {
    FY_PKI_KEY_EC_P256 = 0, /* default */
    FY_PKI_KEY_RSA_2048,
};

/* Bootstrap options; all pointers are borrowed for the duration of the call. */
struct fy_pki_ca_opts {
    /* A CA given by the operator (plants with their own PKI): PEM certificate and PEM private
     * key paths, both set or both NULL. NULL: fleetyard's own CA in dir. */
    const char *ca_cert_path;
    const char *ca_key_path;
    /* Host names and IP literals the broker certificate must carry as subjectAltName DNS / IP
     * entries; n_server_names == 0 means "localhost", "127.0.0.1" and "::1". */
    const char *const *server_names;
    size_t n_server_names;
    /* Key type of a newly generated CA and server key. */
    enum fy_pki_key_type key_type;
};

struct fy_pki_ca;   /* a loaded CA: certificate and private key */
struct fy_pki_cert; /* a parsed certificate */

/* Loads or creates the CA and the broker certificate in dir (which must exist, mode 0700
 * recommended) and returns an owned handle in *out (release with fy_pki_ca_free).
 * - Own CA: the first call creates dir/ca.crt and dir/ca.key (CN "fleetyard Root CA", 10 years,
 *   basicConstraints CA:TRUE critical, keyUsage keyCertSign+cRLSign critical); later calls load
 *   them. Only one of the two files present is an error (FY_ERR_INTERNAL): nothing is replaced.
 * - Operator CA (opts->ca_cert_path/ca_key_path): loaded from those paths; the key must match
 *   the certificate and the certificate must be a CA (else FY_ERR_CERT_VALIDATION). Its
 *   certificate is copied to dir/ca.crt so that dir/ca.crt is always what devices trust.
 * - dir/server.crt + dir/server.key: a serverAuth certificate signed by the CA for
 *   opts->server_names; kept when it is signed by this CA, matches its key, carries exactly the
 *   configured names and is valid for at least 30 more days, regenerated (new key) otherwise.
 * Private keys are written with mode 0600, every file atomically (temporary file, fsync,
 * rename). Call from one thread at a time per dir (typically once at start-up). */
FY_NODISCARD fy_err fy_pki_ensure_ca(const char *dir,
                                     const struct fy_pki_ca_opts *opts,
                                     struct fy_pki_ca **out,
                                     struct fy_errmsg *em);

/* Releases a CA handle (NULL is a no-op). */
void fy_pki_ca_free(struct fy_pki_ca *ca);

/* The CA certificate as PEM (borrowed, lives as long as ca). */
const char *fy_pki_ca_pem_get(const struct fy_pki_ca *ca);

/* The parsed CA certificate (borrowed, lives as long as ca). */
const struct fy_pki_cert *fy_pki_ca_cert_get(const struct fy_pki_ca *ca);

/* ---- Issuing device certificates --------------------------------------------------------- */

/* What an issuing call produced. Strings are owned (fy_pki_issued_clear); private_key_pem and
 * public_key_pem are NULL for a CSR-based certificate. */
struct fy_pki_issued {
    char cert_id[FY_PKI_CERT_ID_LEN + 1];
    char *cert_pem;
    char *public_key_pem;  /* SubjectPublicKeyInfo, "BEGIN PUBLIC KEY" */
    char *private_key_pem; /* PKCS#1, "BEGIN RSA PRIVATE KEY", as AWS returns it */
    int64_t not_before;
    int64_t not_after;
};

/* Releases the strings of *out (the struct is caller storage; NULL-safe, idempotent). */
void fy_pki_issued_clear(struct fy_pki_issued *out);

/* CreateKeysAndCertificate: a fresh 2048-bit RSA key pair and a certificate for it signed by
 * ca: subject CN "AWS IoT Certificate", valid from now until 2049-12-31T23:59:59Z, random
 * positive 20-byte serial, extendedKeyUsage clientAuth. *out must be zeroed or cleared; on error
 * it stays empty. Errors: FY_ERR_NOMEM, FY_ERR_INTERNAL. */
FY_NODISCARD fy_err fy_pki_create_keys_and_cert(const struct fy_pki_ca *ca,
                                                struct fy_pki_issued *out,
                                                struct fy_errmsg *em);

/* Checks a PEM certificate signing request (untrusted, len bytes, no NUL needed): it must
 * parse, its self-signature must verify and its key must be RSA of 2048-4096 bits or EC on
 * P-256/P-384/P-521. Errors: FY_ERR_INVALID_REQUEST with the reason, FY_ERR_NOMEM. */
FY_NODISCARD fy_err fy_pki_csr_check(const char *pem, size_t len, struct fy_errmsg *em);

/* CreateCertificateFromCsr: checks the CSR as fy_pki_csr_check does and issues a certificate
 * carrying the CSR's public key and subject (CN "AWS IoT Certificate" when the CSR's subject is
 * empty); requested extensions are ignored; validity, serial and EKU as
 * fy_pki_create_keys_and_cert. Fills out->cert_id, cert_pem and the validity. */
FY_NODISCARD fy_err fy_pki_sign_csr(const struct fy_pki_ca *ca,
                                    const char *csr_pem,
                                    size_t len,
                                    struct fy_pki_issued *out,
                                    struct fy_errmsg *em);

/* ---- Certificate inspection -------------------------------------------------------------- */

/* Distinguished-name fields and alternative-name kinds, named as in the IoT policy variables
 * iot:Certificate.Subject.<name> and iot:Certificate.Issuer.<name>. */
#define FY_PKI_ATTR_LIST(X)                                 \
    X(COMMON_NAME, "CommonName")                            \
    X(ORGANIZATION, "Organization")                         \
    X(ORGANIZATIONAL_UNIT, "OrganizationalUnit")            \
    X(COUNTRY, "Country")                                   \
    X(STATE, "State")                                       \
    X(LOCALITY, "Locality")                                 \
    X(SERIAL_NUMBER, "SerialNumber")                        \
    X(TITLE, "Title")                                       \
    X(SURNAME, "Surname")                                   \
    X(GIVEN_NAME, "GivenName")                              \
    X(INITIALS, "Initials")                                 \
    X(PSEUDONYM, "Pseudonym")                               \
    X(GENERATION_QUALIFIER, "GenerationQualifier")          \
    X(DN_QUALIFIER, "DistinguishedNameQualifier")           \
    X(ALT_RFC822, "AlternativeName.RFC822Name")             \
    X(ALT_DNS, "AlternativeName.DNSName")                   \
    X(ALT_DIRECTORY, "AlternativeName.DirectoryName")       \
    X(ALT_URI, "AlternativeName.UniformResourceIdentifier") \
    X(ALT_IP, "AlternativeName.IPAddress")

#define FY_PKI_ATTR_ENUM_ROW(id, name) FY_PKI_ATTR_##id,
enum fy_pki_attr { FY_PKI_ATTR_LIST(FY_PKI_ATTR_ENUM_ROW) FY_PKI_ATTR__COUNT };
#undef FY_PKI_ATTR_ENUM_ROW

/* Whose names: the certificate's subject (DN and subjectAltName) or its issuer (issuer DN and
 * issuerAltName). */
enum fy_pki_side { FY_PKI_SUBJECT = 0, FY_PKI_ISSUER = 1 };

/* Policy-variable name of an attribute ("CommonName"); NULL when out of range. */
const char *fy_pki_attr_name(enum fy_pki_attr a);

/* Attribute for a policy-variable name (exact, case-sensitive); false when unknown. */
bool fy_pki_attr_from_name(const char *name, enum fy_pki_attr *out);

/* Parses one PEM certificate (untrusted; len bytes, no NUL needed; the first certificate when
 * several follow) into an owned *out (fy_pki_cert_free). Garbage, a truncated or oversized PEM
 * (> FY_PKI_PEM_MAX) -> FY_ERR_CERT_VALIDATION; FY_ERR_NOMEM. */
FY_NODISCARD fy_err fy_pki_cert_parse(const char *pem,
                                      size_t len,
                                      struct fy_pki_cert **out,
                                      struct fy_errmsg *em);

/* Releases a parsed certificate (NULL is a no-op). */
void fy_pki_cert_free(struct fy_pki_cert *c);

/* certificateId: lowercase hex SHA-256 of the DER (64 chars; borrowed, lives as long as c). */
const char *fy_pki_cert_id_get(const struct fy_pki_cert *c);

/* The certificate re-encoded as PEM (borrowed; normalised: one certificate, no extra text). */
const char *fy_pki_cert_pem_get(const struct fy_pki_cert *c);

/* Validity bounds in epoch seconds. */
int64_t fy_pki_cert_not_before(const struct fy_pki_cert *c);
int64_t fy_pki_cert_not_after(const struct fy_pki_cert *c);

/* Serial number as lowercase hex, two digits per byte, no sign (borrowed). */
const char *fy_pki_cert_serial_get(const struct fy_pki_cert *c);

/* True when the certificate may sign certificates (basicConstraints CA:TRUE, or a self-signed
 * v1 certificate, as OpenSSL's X509_check_ca decides). */
bool fy_pki_cert_is_ca(const struct fy_pki_cert *c);

/* The index-th value (0 = first, in certificate order) of an attribute; NULL when there are not
 * that many. Borrowed, lives as long as c. IP addresses are text (inet_ntop), directory names
 * RFC 2253 text. Values that contain NUL bytes are skipped. */
const char *fy_pki_cert_attr_get(const struct fy_pki_cert *c,
                                 enum fy_pki_side side,
                                 enum fy_pki_attr attr,
                                 size_t index);

/* Number of values of an attribute. */
size_t
fy_pki_cert_attr_count(const struct fy_pki_cert *c, enum fy_pki_side side, enum fy_pki_attr attr);

/* RegisterCertificate: verifies that c chains to the trust anchor ca (signature, issuer name,
 * validity of both at the current time, CA constraints; ca need not be self-signed).
 * Failure -> FY_ERR_CERT_VALIDATION with OpenSSL's reason. */
FY_NODISCARD fy_err fy_pki_cert_verify_chain(const struct fy_pki_cert *c,
                                             const struct fy_pki_cert *ca,
                                             struct fy_errmsg *em);

/* RegisterCACertificate: the verification certificate must have been signed by ca's key
 * (-> FY_ERR_CERT_VALIDATION) and its subject CommonName must equal registration_code
 * (-> FY_ERR_REG_CODE_VALIDATION). */
FY_NODISCARD fy_err fy_pki_check_verification_cert(const struct fy_pki_cert *verification,
                                                   const struct fy_pki_cert *ca,
                                                   const char *registration_code,
                                                   struct fy_errmsg *em);

#endif
