#include "core/err.h"

#include <stdarg.h>
#include <stdio.h>

#define FY_ERR_STATUS_ROW(name, status, type) status,
#define FY_ERR_TYPE_ROW(name, status, type)   type,
#define FY_ERR_NAME_ROW(name, status, type)   #name,
static const int err_status[] = {FY_ERR_LIST(FY_ERR_STATUS_ROW)};
static const char *const err_type[] = {FY_ERR_LIST(FY_ERR_TYPE_ROW)};
static const char *const err_name[] = {FY_ERR_LIST(FY_ERR_NAME_ROW)};

int fy_err_status(fy_err e)
{
    if ((unsigned)e >= FY_ERR__COUNT) {
        return 500;
    }
    return err_status[e];
}

const char *fy_err_type(fy_err e)
{
    if ((unsigned)e >= FY_ERR__COUNT) {
        return "InternalFailureException";
    }
    return err_type[e];
}

const char *fy_err_name(fy_err e)
{
    if ((unsigned)e >= FY_ERR__COUNT) {
        return "UNKNOWN";
    }
    return err_name[e];
}

size_t fy_utf8_seq(const unsigned char *s)
{
    unsigned char c = s[0];
    unsigned char lo = 0x80, hi = 0xbf;
    size_t n;
    if (c < 0x80) {
        return 1;
    }
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        lo = c == 0xe0 ? 0xa0 : 0x80;
        hi = c == 0xed ? 0x9f : 0xbf;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        lo = c == 0xf0 ? 0x90 : 0x80;
        hi = c == 0xf4 ? 0x8f : 0xbf;
    } else {
        return 0;
    }
    if (s[1] < lo || s[1] > hi) {
        return 0;
    }
    for (size_t i = 2; i < n; i++) {
        if (s[i] < 0x80 || s[i] > 0xbf) {
            return 0;
        }
    }
    return n;
}

/* Replaces every byte that is not part of well-formed UTF-8 by '?': a message may quote
 * client input (and truncation may cut a character in two), and it ends up in JSON. */
static void utf8_repair(unsigned char *s)
{
    while (*s) {
        size_t n = fy_utf8_seq(s);
        if (n == 0) {
            *s++ = '?';
        } else {
            s += n;
        }
    }
}

FY_PRINTF(2, 0) static void errmsg_vset(struct fy_errmsg *em, const char *fmt, va_list ap)
{
    if (!em) {
        return;
    }
    vsnprintf(em->msg, sizeof(em->msg), fmt, ap);
    for (char *p = em->msg; *p; p++) {
        if ((unsigned char)*p < 0x20 || *p == 0x7f) {
            *p = '?';
        }
    }
    utf8_repair((unsigned char *)em->msg);
}

void fy_errf(struct fy_errmsg *em, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    errmsg_vset(em, fmt, ap);
    va_end(ap);
}

fy_err fy_fail(struct fy_errmsg *em, fy_err code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    errmsg_vset(em, fmt, ap);
    va_end(ap);
    return code;
}
