/* Fuzzes SigV4 verification: the input is split on NUL bytes into Authorization header, path,
 * query, x-amz-date and body; canonicalization and parsing must never crash or leak. */
#include <stdint.h>
#include <string.h>

#include "api/sigv4.h"
#include "core/alloc.h"

struct fz_hdrs {
    const char *auth, *date;
};

static const char *fz_header(void *ctx, const char *name)
{
    struct fz_hdrs *h = ctx;
    if (strcmp(name, "authorization") == 0) {
        return h->auth;
    }
    if (strcmp(name, "x-amz-date") == 0) {
        return h->date;
    }
    return strcmp(name, "host") == 0 ? "localhost" : NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = fy_malloc(size + 6);
    if (!buf) {
        return 0;
    }
    memcpy(buf, data, size);
    memset(buf + size, 0, 6);
    const char *parts[5];
    size_t off = 0;
    for (int i = 0; i < 5; i++) {
        parts[i] = buf + off;
        off += strlen(buf + off) + 1;
        if (off > size + 5) {
            off = size + 5;
        }
    }
    struct fz_hdrs h = {parts[0], parts[3]};
    struct fy_sigv4_request r = {"POST", parts[1], parts[2],        fz_header,
                                 &h,     parts[4], strlen(parts[4])};
    struct fy_sigv4_credentials c = {"AKIDEXAMPLE", "secret"};
    struct fy_sigv4_result res;
    struct fy_errmsg em;
    (void)fy_sigv4_verify(&r, &c, 1, 1440938160, &res, &em);
    fy_free(fy_sigv4_canonical_uri(parts[1]));
    fy_free(fy_sigv4_canonical_query(parts[2]));
    fy_free(buf);
    return 0;
}
