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
