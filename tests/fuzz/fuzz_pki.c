/* Fuzzes the pki parsers: the input goes to the PEM certificate parser (and every getter of a
 * parsed certificate) and to the CSR parser/checker. Neither may crash, leak or read out of
 * bounds; the input is not NUL-terminated. */
#include <stdint.h>
#include <string.h>

#include "core/alloc.h"
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fy_pki_cert *c = NULL, *again = NULL;
    struct fy_errmsg em;
    if (fy_pki_cert_parse((const char *)data, size, &c, &em) == FY_ERR_OK) {
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
    (void)fy_pki_csr_check((const char *)data, size, &em);
    return 0;
}
