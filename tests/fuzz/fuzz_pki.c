/* Fuzzes the pki parsers: the input goes to the PEM certificate parser (and every getter of a
 * parsed certificate) and to the CSR parser/checker. Neither may crash, leak or read out of
 * bounds; the input is not NUL-terminated. Input starting with 0x30 (an ASN.1 SEQUENCE) is DER:
 * it is wrapped into PEM first, so that mutations reach the ASN.1 and name handling instead of
 * breaking the base64. */
#include <stdint.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/codec.h"
#include "pki/pki.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Touches every value of a parsed certificate so that sanitizers see the strings. */
static size_t walk_cert(const struct fy_pki_cert *c)
{
    size_t total = strlen(fy_pki_cert_id_get(c)) + strlen(fy_pki_cert_pem_get(c)) +
                   strlen(fy_pki_cert_serial_get(c)) + (size_t)fy_pki_cert_is_ca(c);
    for (int side = FY_PKI_SUBJECT; side <= FY_PKI_ISSUER; side++) {
        for (int a = 0; a < FY_PKI_ATTR__COUNT; a++) {
            size_t n = fy_pki_cert_attr_count(c, (enum fy_pki_side)side, (enum fy_pki_attr)a);
            for (size_t i = 0; i < n; i++) {
                total +=
                    strlen(fy_pki_cert_attr_get(c, (enum fy_pki_side)side, (enum fy_pki_attr)a, i));
            }
        }
    }
    return total;
}

/* DER as a PEM block of the given label, 64 base64 characters per line. */
static fy_err der_to_pem(const uint8_t *der, size_t n, const char *label, struct fy_buf *out)
{
    char *b64 = fy_b64_new(der, n);
    if (!b64) {
        return FY_ERR_NOMEM;
    }
    fy_err rc = fy_buf_printf(out, "-----BEGIN %s-----\n", label);
    for (size_t i = 0, len = strlen(b64); !rc && i < len; i += 64) {
        rc = fy_buf_printf(out, "%.64s\n", b64 + i);
    }
    if (!rc) {
        rc = fy_buf_printf(out, "-----END %s-----\n", label);
    }
    fy_free(b64);
    return rc;
}

static void fuzz_text(const char *text, size_t size, bool cert, bool csr);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 0 && data[0] == 0x30 && size <= FY_PKI_PEM_MAX / 2) {
        struct fy_buf crt, req;
        fy_buf_init(&crt, FY_PKI_PEM_MAX);
        fy_buf_init(&req, FY_PKI_PEM_MAX);
        if (der_to_pem(data, size, "CERTIFICATE", &crt) == FY_ERR_OK &&
            der_to_pem(data, size, "CERTIFICATE REQUEST", &req) == FY_ERR_OK) {
            fuzz_text(crt.data, crt.len, true, false);
            fuzz_text(req.data, req.len, false, true);
        }
        fy_buf_free(&crt);
        fy_buf_free(&req);
        return 0;
    }
    fuzz_text((const char *)data, size, true, true);
    return 0;
}

static void fuzz_text(const char *text, size_t size, bool cert, bool csr)
{
    struct fy_pki_cert *c = NULL, *again = NULL;
    struct fy_errmsg em;
    if (cert && fy_pki_cert_parse(text, size, &c, &em) == FY_ERR_OK) {
        (void)walk_cert(c);
        /* The normalised PEM must parse to the same certificate. */
        const char *pem = fy_pki_cert_pem_get(c);
        if (fy_pki_cert_parse(pem, strlen(pem), &again, &em) != FY_ERR_OK ||
            strcmp(fy_pki_cert_id_get(again), fy_pki_cert_id_get(c)) != 0) {
            __builtin_trap();
        }
        (void)fy_pki_cert_verify_chain(c, c, &em);
        (void)fy_pki_check_verification_cert(c, c, "code", &em);
        fy_pki_cert_free(again);
        fy_pki_cert_free(c);
    }
    if (csr) {
        (void)fy_pki_csr_check(text, size, &em);
    }
}
