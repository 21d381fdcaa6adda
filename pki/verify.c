/* Chain verification (RegisterCertificate) and verification certificates
 * (RegisterCACertificate). */
#include <string.h>

#include "pki/pki_int.h"

fy_err fy_pki_cert_verify_chain(const struct fy_pki_cert *c,
                                const struct fy_pki_cert *ca,
                                struct fy_errmsg *em)
{
    X509_STORE *store = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    int result = -1;
    if (store && ctx && X509_STORE_add_cert(store, ca->x509) == 1 &&
        X509_STORE_CTX_init(ctx, store, c->x509, NULL) == 1) {
        /* The registered CA is the trust anchor even when it is an intermediate. */
        X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_PARTIAL_CHAIN);
        result = X509_verify_cert(ctx);
    }
    int reason = ctx ? X509_STORE_CTX_get_error(ctx) : X509_V_ERR_OUT_OF_MEM;
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    ERR_clear_error();
    if (result == 1) {
        return FY_ERR_OK;
    }
    if (result < 0 && reason == X509_V_OK) {
        return fy_fail(em, FY_ERR_INTERNAL, "Cannot set up certificate verification");
    }
    return fy_fail(em, FY_ERR_CERT_VALIDATION,
                   "The certificate is not valid for the CA certificate %.64s: %s", ca->id,
                   X509_verify_cert_error_string(reason));
}

fy_err fy_pki_check_verification_cert(const struct fy_pki_cert *verification,
                                      const struct fy_pki_cert *ca,
                                      const char *registration_code,
                                      struct fy_errmsg *em)
{
    EVP_PKEY *ca_key = X509_get0_pubkey(ca->x509);
    int verified = ca_key ? X509_verify(verification->x509, ca_key) : -1;
    ERR_clear_error();
    if (verified != 1) {
        return fy_fail(em, FY_ERR_CERT_VALIDATION,
                       "The verification certificate is not signed by the CA certificate's key");
    }
    const char *cn = fy_pki_cert_attr_get(verification, FY_PKI_SUBJECT, FY_PKI_ATTR_COMMON_NAME, 0);
    if (!cn || !registration_code || strcmp(cn, registration_code) != 0) {
        return fy_fail(em, FY_ERR_REG_CODE_VALIDATION,
                       "The verification certificate's common name does not match the "
                       "registration code");
    }
    return FY_ERR_OK;
}
