/* pki: CA bootstrap (idempotent, key mode, operator CA, recovery), broker certificate names,
 * CreateKeysAndCertificate, CSR signing, chain checks, registration codes, certificate ids and
 * subject/issuer attribute extraction. Independent checks use OpenSSL and the openssl CLI. */
#define OPENSSL_API_COMPAT 30000
#define OPENSSL_NO_DEPRECATED

#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "core/alloc.h"
#include "core/codec.h"
#include "pki/pki.h"
#include "tests/unit/tap.h"

#define END_2049 2524607999 /* 2049-12-31T23:59:59Z */

static char tmp_root[] = "/tmp/fy-test-pki-XXXXXX";

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* tmp_root/name, created. */
static const char *subdir(const char *name)
{
    static char paths[8][512];
    static int next;
    char *p = paths[next++ % 8];
    snprintf(p, 512, "%s/%s", tmp_root, name);
    mkdir(p, 0700);
    return p;
}

static const char *path_in(const char *dir, const char *file)
{
    static char p[4][600];
    static int next;
    char *out = p[next++ % 4];
    snprintf(out, 600, "%s/%s", dir, file);
    return out;
}

static struct fy_pki_cert *load_cert(const char *path)
{
    static char buf[FY_PKI_PEM_MAX];
    struct fy_pki_cert *c = NULL;
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, sizeof(buf), f) : 0;
    if (f) {
        fclose(f);
    }
    if (fy_pki_cert_parse(buf, n, &c, NULL) != FY_ERR_OK) {
        return NULL;
    }
    return c;
}

static X509 *x509_of(const char *pem)
{
    BIO *b = BIO_new_mem_buf(pem, -1);
    X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
    BIO_free(b);
    return x;
}

/* The contents of a memory BIO as a new string (fy_free); frees the BIO. */
static char *bio_take_str(BIO *b)
{
    char *p = NULL;
    long len = BIO_get_mem_data(b, &p);
    char *out = fy_strndup(p, (size_t)len);
    BIO_free(b);
    return out;
}

static int has_eku(const char *pem, uint32_t flag)
{
    X509 *x = x509_of(pem);
    int r = x && (X509_get_extension_flags(x) & EXFLAG_XKUSAGE) &&
            (X509_get_extended_key_usage(x) & flag);
    X509_free(x);
    return r;
}

static const char *subj(const struct fy_pki_cert *c, enum fy_pki_attr a, size_t i)
{
    const char *v = fy_pki_cert_attr_get(c, FY_PKI_SUBJECT, a, i);
    return v ? v : "(none)";
}

static const char *const names1[] = {"broker.example", "10.1.2.3", "localhost", "::1"};
static const char *const names2[] = {"mqtt.plant.local", "192.168.7.7"};

static struct fy_pki_ca *ensure(const char *dir, const char *const *names, size_t n)
{
    struct fy_pki_ca_opts opts = {.server_names = names, .n_server_names = n};
    struct fy_pki_ca *ca = NULL;
    struct fy_errmsg em = {""};
    fy_err rc = fy_pki_ensure_ca(dir, &opts, &ca, &em);
    if (rc) {
        printf("# ensure_ca(%s): %s %s\n", dir, fy_err_name(rc), em.msg);
    }
    return ca;
}

static void test_bootstrap(const char *dir, struct fy_pki_ca **keep)
{
    struct stat st;
    struct fy_pki_ca *ca = ensure(dir, names1, 4);
    ok(ca != NULL, "first ensure_ca creates a CA");
    if (!ca) {
        return;
    }
    const struct fy_pki_cert *cc = fy_pki_ca_cert_get(ca);
    ok(stat(path_in(dir, "ca.key"), &st) == 0 && (st.st_mode & 0777) == 0600, "ca.key mode 0600");
    ok(stat(path_in(dir, "server.key"), &st) == 0 && (st.st_mode & 0777) == 0600,
       "server.key mode 0600");
    ok(fy_pki_cert_is_ca(cc), "root is a CA");
    ok(strcmp(subj(cc, FY_PKI_ATTR_COMMON_NAME, 0), FY_PKI_CA_CN) == 0, "root CN");
    int64_t life = fy_pki_cert_not_after(cc) - fy_pki_cert_not_before(cc);
    ok(life >= 3650LL * 86400 - 86400 && life <= 3652LL * 86400, "root valid about 10 years");
    struct fy_pki_cert *srv = load_cert(path_in(dir, "server.crt"));
    struct fy_pki_ca *again = ensure(dir, names1, 4);
    struct fy_pki_cert *srv2 = load_cert(path_in(dir, "server.crt"));
    ok(again && strcmp(fy_pki_cert_id_get(fy_pki_ca_cert_get(again)), fy_pki_cert_id_get(cc)) == 0,
       "second ensure_ca loads the same CA");
    ok(srv && srv2 && strcmp(fy_pki_cert_id_get(srv), fy_pki_cert_id_get(srv2)) == 0,
       "second ensure_ca keeps the server certificate");
    ok(strcmp(fy_pki_ca_pem_get(ca), fy_pki_cert_pem_get(cc)) == 0, "CA PEM getter");
    fy_pki_cert_free(srv);
    fy_pki_cert_free(srv2);
    fy_pki_ca_free(again);
    *keep = ca;
}

static void test_server_names(const char *dir, const struct fy_pki_ca *ca)
{
    struct fy_pki_cert *s = load_cert(path_in(dir, "server.crt"));
    ok(s != NULL, "server.crt parses");
    if (!s) {
        return;
    }
    ok(fy_pki_cert_attr_count(s, FY_PKI_SUBJECT, FY_PKI_ATTR_ALT_DNS) == 2, "2 DNS SANs");
    ok(strcmp(subj(s, FY_PKI_ATTR_ALT_DNS, 0), "broker.example") == 0, "SAN DNS broker.example");
    ok(strcmp(subj(s, FY_PKI_ATTR_ALT_DNS, 1), "localhost") == 0, "SAN DNS localhost");
    ok(strcmp(subj(s, FY_PKI_ATTR_ALT_IP, 0), "10.1.2.3") == 0, "SAN IP 10.1.2.3");
    ok(strcmp(subj(s, FY_PKI_ATTR_ALT_IP, 1), "::1") == 0, "SAN IP ::1");
    ok(has_eku(fy_pki_cert_pem_get(s), XKU_SSL_SERVER), "server EKU serverAuth");
    ok(!fy_pki_cert_is_ca(s), "server cert is not a CA");
    ok(fy_pki_cert_verify_chain(s, fy_pki_ca_cert_get(ca), NULL) == FY_ERR_OK,
       "server cert chains to the CA");
    struct fy_pki_ca *ca2 = ensure(dir, names2, 2);
    struct fy_pki_cert *s2 = load_cert(path_in(dir, "server.crt"));
    ok(s2 && strcmp(fy_pki_cert_id_get(s), fy_pki_cert_id_get(s2)) != 0,
       "changed names regenerate the server certificate");
    ok(s2 && strcmp(subj(s2, FY_PKI_ATTR_ALT_IP, 0), "192.168.7.7") == 0 &&
           fy_pki_cert_attr_count(s2, FY_PKI_SUBJECT, FY_PKI_ATTR_ALT_DNS) == 1,
       "new server certificate carries the new names");
    ok(ca2 && strcmp(fy_pki_cert_id_get(fy_pki_ca_cert_get(ca2)),
                     fy_pki_cert_id_get(fy_pki_ca_cert_get(ca))) == 0,
       "the CA stays when the names change");
    fy_pki_cert_free(s);
    fy_pki_cert_free(s2);
    fy_pki_ca_free(ca2);
}

/* SHA-256 of the DER computed by the openssl CLI; "" when the CLI is unavailable. */
static void cli_cert_id(const char *pem, char out[65])
{
    const char *f = path_in(tmp_root, "cli.pem");
    char cmd[1024];
    FILE *w = fopen(f, "w");
    out[0] = '\0';
    if (!w) {
        return;
    }
    fputs(pem, w);
    fclose(w);
    snprintf(cmd, sizeof(cmd),
             "openssl x509 -in %s -outform DER 2>/dev/null | openssl dgst -sha256 -r 2>/dev/null",
             f);
    FILE *p = popen(cmd, "r");
    if (p) {
        char line[256];
        if (fgets(line, sizeof(line), p) && strspn(line, "0123456789abcdef") == 64) {
            memcpy(out, line, 64);
            out[64] = '\0';
        }
        pclose(p);
    }
}

/* SHA-256 of the DER recomputed in process from the PEM. */
static void der_cert_id(const char *pem, char out[65])
{
    X509 *x = x509_of(pem);
    unsigned char *der = NULL;
    int n = x ? i2d_X509(x, &der) : -1;
    out[0] = '\0';
    if (n > 0) {
        fy_sha256_hex(der, (size_t)n, out);
    }
    OPENSSL_free(der);
    X509_free(x);
}

static int key_matches(const char *cert_pem, const char *key_pem)
{
    BIO *b = BIO_new_mem_buf(key_pem, -1);
    EVP_PKEY *k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
    X509 *x = x509_of(cert_pem);
    int r = k && x && X509_check_private_key(x, k) == 1 && EVP_PKEY_is_a(k, "RSA") &&
            EVP_PKEY_get_bits(k) == 2048;
    X509_free(x);
    EVP_PKEY_free(k);
    BIO_free(b);
    return r;
}

static void check_issued_keys(const struct fy_pki_issued *is)
{
    ok(strncmp(is->private_key_pem, "-----BEGIN RSA PRIVATE KEY-----", 31) == 0,
       "private key is PKCS#1 PEM");
    ok(strncmp(is->public_key_pem, "-----BEGIN PUBLIC KEY-----", 26) == 0, "public key PEM");
    ok(key_matches(is->cert_pem, is->private_key_pem), "key pair is RSA 2048 and matches");
    ok(has_eku(is->cert_pem, XKU_SSL_CLIENT), "device EKU clientAuth");
}

static void test_create_keys(const struct fy_pki_ca *ca)
{
    struct fy_pki_issued is = {0};
    struct fy_pki_cert *c = NULL;
    char cli[65], der[65];
    ok(fy_pki_create_keys_and_cert(ca, &is, NULL) == FY_ERR_OK, "create keys and certificate");
    ok(is.cert_pem && fy_pki_cert_parse(is.cert_pem, strlen(is.cert_pem), &c, NULL) == 0,
       "certificate parses");
    if (!c) {
        fy_pki_issued_clear(&is);
        return;
    }
    check_issued_keys(&is);
    ok(strcmp(fy_pki_cert_id_get(c), is.cert_id) == 0 && strlen(is.cert_id) == 64, "id 64 hex");
    der_cert_id(is.cert_pem, der);
    ok(strcmp(der, is.cert_id) == 0, "id is SHA-256 of the DER (recomputed)");
    cli_cert_id(is.cert_pem, cli);
    ok(cli[0] == '\0' || strcmp(cli, is.cert_id) == 0, "id matches the openssl CLI (%s)",
       cli[0] ? "ran" : "skipped");
    ok(strcmp(subj(c, FY_PKI_ATTR_COMMON_NAME, 0), FY_PKI_AWS_CN) == 0, "CN AWS IoT Certificate");
    ok(fy_pki_cert_not_after(c) == END_2049 && is.not_after == END_2049, "valid until 2049");
    ok(strlen(fy_pki_cert_serial_get(c)) == 40 && fy_pki_cert_serial_get(c)[0] < '8',
       "20-byte positive serial");
    ok(!fy_pki_cert_is_ca(c), "device cert is not a CA");
    ok(fy_pki_cert_verify_chain(c, fy_pki_ca_cert_get(ca), NULL) == FY_ERR_OK, "chains to CA");
    fy_pki_cert_free(c);
    fy_pki_issued_clear(&is);
    ok(is.cert_pem == NULL, "issued_clear releases");
}

/* A PEM CSR for key with subject CN=cn, O=Acme; when swap is set the public key is replaced
 * after signing, so the self-signature no longer verifies. */
static char *csr_pem_new(EVP_PKEY *key, const char *cn, EVP_PKEY *swap)
{
    X509_REQ *r = X509_REQ_new();
    X509_NAME *n = X509_REQ_get_subject_name(r);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0);
    X509_NAME_add_entry_by_txt(n, "O", MBSTRING_UTF8, (const unsigned char *)"Acme", -1, -1, 0);
    X509_REQ_set_pubkey(r, key);
    X509_REQ_sign(r, key, EVP_sha256());
    if (swap) {
        X509_REQ_set_pubkey(r, swap);
    }
    BIO *b = BIO_new(BIO_s_mem());
    PEM_write_bio_X509_REQ(b, r);
    X509_REQ_free(r);
    char *out = bio_take_str(b);
    return out;
}

static void test_csr_good(const struct fy_pki_ca *ca, EVP_PKEY *key)
{
    char *csr = csr_pem_new(key, "dev-42", NULL);
    struct fy_pki_issued is = {0};
    struct fy_pki_cert *c = NULL;
    ok(fy_pki_csr_check(csr, strlen(csr), NULL) == FY_ERR_OK, "CSR checks");
    ok(fy_pki_sign_csr(ca, csr, strlen(csr), &is, NULL) == FY_ERR_OK, "CSR signed");
    ok(is.private_key_pem == NULL && is.public_key_pem == NULL, "no key material for a CSR");
    X509 *x = is.cert_pem ? x509_of(is.cert_pem) : NULL;
    ok(x && EVP_PKEY_eq(X509_get0_pubkey(x), key) == 1, "certificate keeps the CSR's key");
    ok(is.cert_pem && fy_pki_cert_parse(is.cert_pem, strlen(is.cert_pem), &c, NULL) == 0,
       "CSR certificate parses");
    ok(c && strcmp(subj(c, FY_PKI_ATTR_COMMON_NAME, 0), "dev-42") == 0 &&
           strcmp(subj(c, FY_PKI_ATTR_ORGANIZATION, 0), "Acme") == 0,
       "certificate keeps the CSR's subject");
    ok(c && fy_pki_cert_verify_chain(c, fy_pki_ca_cert_get(ca), NULL) == FY_ERR_OK,
       "CSR certificate chains to the CA");
    ok(c && strcmp(fy_pki_cert_id_get(c), is.cert_id) == 0, "CSR certificate id");
    ok(c && fy_pki_check_verification_cert(c, fy_pki_ca_cert_get(ca), "dev-42", NULL) == 0,
       "verification certificate with the registration code");
    ok(c && fy_pki_check_verification_cert(c, fy_pki_ca_cert_get(ca), "dev-43", NULL) ==
                FY_ERR_REG_CODE_VALIDATION,
       "verification certificate with another code");
    X509_free(x);
    fy_pki_cert_free(c);
    fy_pki_issued_clear(&is);
    fy_free(csr);
}

static void test_csr_bad(const struct fy_pki_ca *ca, EVP_PKEY *key)
{
    struct fy_errmsg em = {""};
    struct fy_pki_issued is = {0};
    EVP_PKEY *other = EVP_EC_gen("P-256"), *weak = EVP_RSA_gen(1024);
    char *swapped = csr_pem_new(key, "dev-1", other), *small = csr_pem_new(weak, "dev-2", NULL);
    static const char junk[] = "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n"
                               "-----END CERTIFICATE REQUEST-----\n";
    ok(fy_pki_sign_csr(ca, "hello", 5, &is, &em) == FY_ERR_INVALID_REQUEST && em.msg[0],
       "garbage CSR rejected: %s", em.msg);
    ok(fy_pki_csr_check(junk, sizeof(junk) - 1, NULL) == FY_ERR_INVALID_REQUEST,
       "undecodable CSR rejected");
    ok(fy_pki_sign_csr(ca, swapped, strlen(swapped), &is, &em) == FY_ERR_INVALID_REQUEST &&
           strstr(em.msg, "signature"),
       "CSR with a bad signature rejected: %s", em.msg);
    ok(fy_pki_csr_check(small, strlen(small), &em) == FY_ERR_INVALID_REQUEST,
       "RSA-1024 CSR rejected: %s", em.msg);
    ok(fy_pki_csr_check(NULL, 0, NULL) == FY_ERR_INVALID_REQUEST, "empty CSR rejected");
    ok(is.cert_pem == NULL, "nothing issued on error");
    fy_free(swapped);
    fy_free(small);
    EVP_PKEY_free(other);
    EVP_PKEY_free(weak);
}

static void test_other_ca(const struct fy_pki_ca *ca)
{
    struct fy_pki_ca *other = ensure(subdir("other"), NULL, 0);
    struct fy_pki_issued is = {0};
    struct fy_pki_cert *c = NULL;
    struct fy_errmsg em = {""};
    ok(other && fy_pki_create_keys_and_cert(other, &is, NULL) == 0 &&
           fy_pki_cert_parse(is.cert_pem, strlen(is.cert_pem), &c, NULL) == 0,
       "certificate from another CA");
    if (!c) {
        fy_pki_ca_free(other);
        return;
    }
    ok(fy_pki_cert_verify_chain(c, fy_pki_ca_cert_get(ca), &em) == FY_ERR_CERT_VALIDATION,
       "does not chain to our CA: %s", em.msg);
    ok(fy_pki_cert_verify_chain(c, fy_pki_ca_cert_get(other), NULL) == FY_ERR_OK,
       "chains to its own CA");
    ok(fy_pki_check_verification_cert(c, fy_pki_ca_cert_get(ca), FY_PKI_AWS_CN, NULL) ==
           FY_ERR_CERT_VALIDATION,
       "verification certificate signed by another key");
    ok(fy_pki_cert_verify_chain(fy_pki_ca_cert_get(ca), fy_pki_ca_cert_get(other), NULL) ==
           FY_ERR_CERT_VALIDATION,
       "one root does not chain to another");
    fy_pki_cert_free(c);
    fy_pki_issued_clear(&is);
    fy_pki_ca_free(other);
}

static void test_garbage_pem(const struct fy_pki_ca *ca)
{
    static const char *const inputs[] = {
        "garbage",
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        "-----BEGIN CERTIFICATE-----\nMIIB\n",
        "",
    };
    struct fy_pki_cert *c = NULL;
    for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
        ok(fy_pki_cert_parse(inputs[i], strlen(inputs[i]), &c, NULL) == FY_ERR_CERT_VALIDATION &&
               !c,
           "garbage PEM %zu rejected", i);
    }
    const char *pem = fy_pki_ca_pem_get(ca);
    size_t half = strlen(pem) / 2;
    ok(fy_pki_cert_parse(pem, half, &c, NULL) == FY_ERR_CERT_VALIDATION, "truncated PEM rejected");
    char *big = fy_calloc(1, FY_PKI_PEM_MAX + 2);
    memset(big, 'A', FY_PKI_PEM_MAX + 1);
    ok(fy_pki_cert_parse(big, FY_PKI_PEM_MAX + 1, &c, NULL) == FY_ERR_CERT_VALIDATION,
       "oversized PEM rejected");
    fy_free(big);
}

/* ---- one CA handle shared by several threads ---- */

#define THREADS          4
#define SIGNS_PER_THREAD 8

struct sign_job {
    const struct fy_pki_ca *ca;
    const char *csr;
    int failures;
};

static void *sign_worker(void *arg)
{
    struct sign_job *job = arg;
    for (int i = 0; i < SIGNS_PER_THREAD; i++) {
        struct fy_pki_issued is = {0};
        struct fy_pki_cert *c = NULL;
        if (fy_pki_sign_csr(job->ca, job->csr, strlen(job->csr), &is, NULL) != FY_ERR_OK ||
            fy_pki_cert_parse(is.cert_pem, strlen(is.cert_pem), &c, NULL) != FY_ERR_OK ||
            fy_pki_cert_verify_chain(c, fy_pki_ca_cert_get(job->ca), NULL) != FY_ERR_OK) {
            job->failures++;
        }
        fy_pki_cert_free(c);
        fy_pki_issued_clear(&is);
    }
    return NULL;
}

static void test_threads(const struct fy_pki_ca *ca, EVP_PKEY *key)
{
    char *csr = csr_pem_new(key, "dev-t", NULL);
    struct sign_job jobs[THREADS];
    pthread_t t[THREADS];
    int started = 0, failures = 0;
    for (int i = 0; i < THREADS; i++) {
        jobs[i] = (struct sign_job){.ca = ca, .csr = csr};
        started += pthread_create(&t[i], NULL, sign_worker, &jobs[i]) == 0;
    }
    for (int i = 0; i < started; i++) {
        pthread_join(t[i], NULL);
        failures += jobs[i].failures;
    }
    ok(started == THREADS && failures == 0, "%d threads x %d CSR signatures on one CA handle",
       THREADS, SIGNS_PER_THREAD);
    fy_free(csr);
}

/* ---- attribute extraction on a certificate with every field ---- */

struct dn_row {
    int nid;
    const char *value;
};

static const struct dn_row subject_rows[] = {
    {NID_commonName, "dev-1"},
    {NID_commonName, "dev-1-alias"},
    {NID_organizationName, "Acme"},
    {NID_organizationalUnitName, "Line 1"},
    {NID_organizationalUnitName, "Line 2"},
    {NID_countryName, "DE"},
    {NID_stateOrProvinceName, "Bavaria"},
    {NID_localityName, "Munich"},
    {NID_serialNumber, "SN-0042"},
    {NID_title, "Sensor"},
    {NID_surname, "Doe"},
    {NID_givenName, "Jane"},
    {NID_initials, "JD"},
    {NID_pseudonym, "jd"},
    {NID_generationQualifier, "III"},
    {NID_dnQualifier, "q1"},
};

static X509_NAME *name_of(const struct dn_row *rows, size_t n)
{
    X509_NAME *name = X509_NAME_new();
    for (size_t i = 0; i < n; i++) {
        X509_NAME_add_entry_by_NID(name, rows[i].nid, MBSTRING_UTF8,
                                   (const unsigned char *)rows[i].value, -1, -1, 0);
    }
    return name;
}

static void push_name(GENERAL_NAMES *gens, int type, const char *value)
{
    GENERAL_NAME *g = GENERAL_NAME_new();
    if (type == GEN_IPADD) {
        GENERAL_NAME_set0_value(g, type, a2i_IPADDRESS(value));
    } else if (type == GEN_DIRNAME) {
        static const struct dn_row dn[] = {{NID_organizationName, "Dir Org"},
                                           {NID_commonName, "dir-cn"}};
        GENERAL_NAME_set0_value(g, type, name_of(dn, 2));
    } else {
        ASN1_IA5STRING *s = ASN1_IA5STRING_new();
        ASN1_STRING_set(s, value, -1);
        GENERAL_NAME_set0_value(g, type, s);
    }
    sk_GENERAL_NAME_push(gens, g);
}

static void add_alt_names(X509 *x)
{
    GENERAL_NAMES *gens = GENERAL_NAMES_new();
    push_name(gens, GEN_DNS, "a.example");
    push_name(gens, GEN_DNS, "b.example");
    push_name(gens, GEN_IPADD, "10.0.0.1");
    push_name(gens, GEN_IPADD, "2001:db8::1");
    push_name(gens, GEN_URI, "spiffe://plant/dev1");
    push_name(gens, GEN_EMAIL, "ops@example.com");
    push_name(gens, GEN_DIRNAME, NULL);
    X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0, X509V3_ADD_DEFAULT);
    GENERAL_NAMES_free(gens);
    gens = GENERAL_NAMES_new();
    push_name(gens, GEN_DNS, "issuer.example");
    X509_add1_ext_i2d(x, NID_issuer_alt_name, gens, 0, X509V3_ADD_DEFAULT);
    GENERAL_NAMES_free(gens);
}

static char *rich_cert_pem_new(void)
{
    static const struct dn_row issuer_rows[] = {
        {NID_commonName, "Plant CA"}, {NID_organizationName, "Acme"}, {NID_countryName, "DE"}};
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    X509_NAME *s = name_of(subject_rows, sizeof(subject_rows) / sizeof(subject_rows[0]));
    X509_NAME *i = name_of(issuer_rows, 3);
    X509_set_version(x, X509_VERSION_3);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 0x1234);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_subject_name(x, s);
    X509_set_issuer_name(x, i);
    X509_set_pubkey(x, key);
    add_alt_names(x);
    X509_sign(x, key, EVP_sha256());
    BIO *b = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(b, x);
    char *out = bio_take_str(b);
    X509_NAME_free(s);
    X509_NAME_free(i);
    X509_free(x);
    EVP_PKEY_free(key);
    return out;
}

struct attr_row {
    enum fy_pki_side side;
    const char *attr; /* policy-variable name */
    size_t index;
    const char *want; /* NULL: absent */
};

static const struct attr_row attr_rows[] = {
    {FY_PKI_SUBJECT, "CommonName", 0, "dev-1"},
    {FY_PKI_SUBJECT, "CommonName", 1, "dev-1-alias"},
    {FY_PKI_SUBJECT, "CommonName", 2, NULL},
    {FY_PKI_SUBJECT, "Organization", 0, "Acme"},
    {FY_PKI_SUBJECT, "OrganizationalUnit", 0, "Line 1"},
    {FY_PKI_SUBJECT, "OrganizationalUnit", 1, "Line 2"},
    {FY_PKI_SUBJECT, "Country", 0, "DE"},
    {FY_PKI_SUBJECT, "State", 0, "Bavaria"},
    {FY_PKI_SUBJECT, "Locality", 0, "Munich"},
    {FY_PKI_SUBJECT, "SerialNumber", 0, "SN-0042"},
    {FY_PKI_SUBJECT, "Title", 0, "Sensor"},
    {FY_PKI_SUBJECT, "Surname", 0, "Doe"},
    {FY_PKI_SUBJECT, "GivenName", 0, "Jane"},
    {FY_PKI_SUBJECT, "Initials", 0, "JD"},
    {FY_PKI_SUBJECT, "Pseudonym", 0, "jd"},
    {FY_PKI_SUBJECT, "GenerationQualifier", 0, "III"},
    {FY_PKI_SUBJECT, "DistinguishedNameQualifier", 0, "q1"},
    {FY_PKI_SUBJECT, "AlternativeName.DNSName", 0, "a.example"},
    {FY_PKI_SUBJECT, "AlternativeName.DNSName", 1, "b.example"},
    {FY_PKI_SUBJECT, "AlternativeName.IPAddress", 0, "10.0.0.1"},
    {FY_PKI_SUBJECT, "AlternativeName.IPAddress", 1, "2001:db8::1"},
    {FY_PKI_SUBJECT, "AlternativeName.UniformResourceIdentifier", 0, "spiffe://plant/dev1"},
    {FY_PKI_SUBJECT, "AlternativeName.RFC822Name", 0, "ops@example.com"},
    {FY_PKI_SUBJECT, "AlternativeName.DirectoryName", 0, "CN=dir-cn,O=Dir Org"},
    {FY_PKI_ISSUER, "CommonName", 0, "Plant CA"},
    {FY_PKI_ISSUER, "Organization", 0, "Acme"},
    {FY_PKI_ISSUER, "Country", 0, "DE"},
    {FY_PKI_ISSUER, "Locality", 0, NULL},
    {FY_PKI_ISSUER, "AlternativeName.DNSName", 0, "issuer.example"},
    {FY_PKI_ISSUER, "AlternativeName.IPAddress", 0, NULL},
};

static void test_attrs(void)
{
    char *pem = rich_cert_pem_new();
    struct fy_pki_cert *c = NULL;
    ok(fy_pki_cert_parse(pem, strlen(pem), &c, NULL) == FY_ERR_OK, "rich certificate parses");
    for (size_t i = 0; c && i < sizeof(attr_rows) / sizeof(attr_rows[0]); i++) {
        const struct attr_row *r = &attr_rows[i];
        enum fy_pki_attr a;
        const char *got = fy_pki_attr_from_name(r->attr, &a)
                              ? fy_pki_cert_attr_get(c, r->side, a, r->index)
                              : "(unknown attribute)";
        ok(r->want ? got && strcmp(got, r->want) == 0 : got == NULL, "%s.%s[%zu] = %s",
           r->side == FY_PKI_SUBJECT ? "Subject" : "Issuer", r->attr, r->index,
           got ? got : "(none)");
    }
    ok(c && fy_pki_cert_attr_count(c, FY_PKI_SUBJECT, FY_PKI_ATTR_ORGANIZATIONAL_UNIT) == 2,
       "multi-valued count");
    ok(c && strcmp(fy_pki_cert_serial_get(c), "1234") == 0, "serial as hex");
    ok(c && fy_pki_cert_not_after(c) - fy_pki_cert_not_before(c) == 3600, "validity bounds");
    fy_pki_cert_free(c);
    fy_free(pem);
}

static void test_attr_names(void)
{
    int good = 1;
    for (int i = 0; i < FY_PKI_ATTR__COUNT; i++) {
        enum fy_pki_attr a;
        good &= fy_pki_attr_from_name(fy_pki_attr_name((enum fy_pki_attr)i), &a) && (int)a == i;
    }
    enum fy_pki_attr a;
    ok(good, "every attribute name round-trips");
    ok(!fy_pki_attr_from_name("commonname", &a) && fy_pki_attr_name(FY_PKI_ATTR__COUNT) == NULL,
       "unknown names");
}

/* ---- operator CA, half states, recovery ---- */

static void test_operator_ca(const char *own_dir, const struct fy_pki_ca *ca)
{
    const char *dir = subdir("operator");
    char crt[600], key[600], other_key[600];
    snprintf(crt, sizeof(crt), "%s", path_in(own_dir, "ca.crt"));
    snprintf(key, sizeof(key), "%s", path_in(own_dir, "ca.key"));
    snprintf(other_key, sizeof(other_key), "%s", path_in(subdir("other"), "ca.key"));
    struct fy_pki_ca_opts opts = {.ca_cert_path = crt, .ca_key_path = key};
    struct fy_pki_ca *op = NULL;
    struct fy_errmsg em = {""};
    ok(fy_pki_ensure_ca(dir, &opts, &op, &em) == FY_ERR_OK, "operator CA loads: %s", em.msg);
    const char *want = fy_pki_cert_id_get(fy_pki_ca_cert_get(ca));
    ok(op && strcmp(fy_pki_cert_id_get(fy_pki_ca_cert_get(op)), want) == 0, "operator CA id");
    struct fy_pki_cert *pub = load_cert(path_in(dir, "ca.crt"));
    ok(pub && strcmp(fy_pki_cert_id_get(pub), want) == 0, "operator CA published as ca.crt");
    ok(access(path_in(dir, "ca.key"), F_OK) != 0, "operator key is not copied");
    struct fy_pki_cert *srv = load_cert(path_in(dir, "server.crt"));
    ok(srv && fy_pki_cert_verify_chain(srv, fy_pki_ca_cert_get(ca), NULL) == 0,
       "server certificate signed by the operator CA");
    fy_pki_cert_free(srv);
    fy_pki_cert_free(pub);
    fy_pki_ca_free(op);
    opts.ca_key_path = other_key;
    ok(fy_pki_ensure_ca(dir, &opts, &op, &em) == FY_ERR_CERT_VALIDATION && !op &&
           strstr(em.msg, "does not belong"),
       "mismatched operator key rejected: %s", em.msg);
    opts.ca_key_path = NULL;
    ok(fy_pki_ensure_ca(dir, &opts, &op, NULL) == FY_ERR_INVALID_REQUEST, "cert path alone");
    ok(fy_pki_ensure_ca(dir, NULL, &op, &em) == FY_ERR_INTERNAL && strstr(em.msg, "without"),
       "ca.crt without ca.key refused: %s", em.msg);
}

static void test_recovery(void)
{
    const char *dir = subdir("recover");
    struct fy_pki_ca *a = ensure(dir, NULL, 0), *b = NULL;
    X509 *xa = a ? x509_of(fy_pki_ca_pem_get(a)) : NULL;
    ok(unlink(path_in(dir, "ca.crt")) == 0, "remove ca.crt");
    b = ensure(dir, NULL, 0);
    X509 *xb = b ? x509_of(fy_pki_ca_pem_get(b)) : NULL;
    ok(xa && xb && EVP_PKEY_eq(X509_get0_pubkey(xa), X509_get0_pubkey(xb)) == 1,
       "a key without its certificate is certified again");
    struct fy_pki_cert *srv = load_cert(path_in(dir, "server.crt"));
    ok(srv && b && fy_pki_cert_verify_chain(srv, fy_pki_ca_cert_get(b), NULL) == 0,
       "server certificate reissued for the new CA certificate");
    const char *bad[] = {"bad name"};
    struct fy_pki_ca_opts opts = {.server_names = bad, .n_server_names = 1};
    struct fy_pki_ca *c = NULL;
    ok(fy_pki_ensure_ca(dir, &opts, &c, NULL) == FY_ERR_INVALID_REQUEST, "bad server name");
    fy_pki_cert_free(srv);
    X509_free(xa);
    X509_free(xb);
    fy_pki_ca_free(a);
    fy_pki_ca_free(b);
}

int main(void)
{
    if (!mkdtemp(tmp_root)) {
        perror("mkdtemp");
        return 1;
    }
    struct fy_pki_ca *ca = NULL;
    const char *own = subdir("own");
    test_bootstrap(own, &ca);
    if (ca) {
        EVP_PKEY *key = EVP_EC_gen("P-256");
        test_server_names(own, ca);
        test_create_keys(ca);
        test_csr_good(ca, key);
        test_csr_bad(ca, key);
        test_other_ca(ca);
        test_garbage_pem(ca);
        test_operator_ca(own, ca);
        test_threads(ca, key);
        EVP_PKEY_free(key);
    }
    test_attrs();
    test_attr_names();
    test_recovery();
    fy_pki_ca_free(ca);
    nftw(tmp_root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    ok(access(tmp_root, F_OK) != 0, "temp dir removed");
    return done();
}
