/* fleetyard-sim: a device key pair made here (EC P-256) and its certificate signing request,
 * for provisioning with CreateCertificateFromCsr (--csr): key generation then costs the
 * simulator ~0.1 ms instead of the server an RSA-2048 key pair per device. */
#include <string.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "core/alloc.h"
#include "tools/sim_api.h"

/* The contents of a memory BIO as a new string. */
static char *bio_text(BIO *b)
{
    char *data = NULL;
    long n = BIO_get_mem_data(b, &data);
    return n > 0 ? fy_strndup(data, (size_t)n) : NULL;
}

static int csr_for(EVP_PKEY *key, const char *cn, BIO *out)
{
    X509_REQ *req = X509_REQ_new();
    X509_NAME *name = req ? X509_REQ_get_subject_name(req) : NULL;
    int ok = name &&
             X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1,
                                        -1, 0) == 1 &&
             X509_REQ_set_pubkey(req, key) == 1 && X509_REQ_sign(req, key, EVP_sha256()) > 0 &&
             PEM_write_bio_X509_REQ(out, req) == 1;
    X509_REQ_free(req);
    return ok ? 0 : -1;
}

int sim_make_csr(const char *cn, char **key_pem, char **csr_pem)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    BIO *kb = BIO_new(BIO_s_mem()), *cb = BIO_new(BIO_s_mem());
    *key_pem = *csr_pem = NULL;
    if (key && kb && cb && PEM_write_bio_PrivateKey(kb, key, NULL, NULL, 0, NULL, NULL) == 1 &&
        csr_for(key, cn, cb) == 0) {
        *key_pem = bio_text(kb);
        *csr_pem = bio_text(cb);
    }
    EVP_PKEY_free(key);
    BIO_free(kb);
    BIO_free(cb);
    if (!*key_pem || !*csr_pem) {
        FY_FREE(*key_pem);
        FY_FREE(*csr_pem);
        return -1;
    }
    return 0;
}
