#include "core/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"

void fy_buf_init(struct fy_buf *b, size_t max)
{
    b->data = NULL;
    b->len = b->cap = 0;
    b->max = max;
}

fy_err fy_buf_reserve(struct fy_buf *b, size_t n)
{
    if (n > b->max - b->len) {
        return FY_ERR_PAYLOAD_TOO_LARGE;
    }
    if (b->len + n + 1 > b->cap) {
        size_t ncap = b->cap ? b->cap : 256;
        while (ncap < b->len + n + 1) {
            ncap *= 2;
        }
        char *d = fy_realloc(b->data, ncap);
        if (!d) {
            return FY_ERR_NOMEM;
        }
        b->data = d;
        b->cap = ncap;
    }
    return FY_ERR_OK;
}

fy_err fy_buf_append(struct fy_buf *b, const void *p, size_t n)
{
    fy_err e = fy_buf_reserve(b, n);
    if (e) {
        return e;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return FY_ERR_OK;
}

fy_err fy_buf_printf(struct fy_buf *b, const char *fmt, ...)
{
    char small[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0) {
        return FY_ERR_INTERNAL;
    }
    if ((size_t)n < sizeof(small)) {
        return fy_buf_append(b, small, (size_t)n);
    }
    char *big = fy_malloc((size_t)n + 1);
    if (!big) {
        return FY_ERR_NOMEM;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    fy_err e = fy_buf_append(b, big, (size_t)n);
    fy_free(big);
    return e;
}

void fy_buf_free(struct fy_buf *b)
{
    FY_FREE(b->data);
    b->len = b->cap = 0;
}
