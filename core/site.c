#include "core/site.h"

#include <stdio.h>

size_t
fy_arn_fmt(char *buf, size_t n, const struct fy_site *site, const char *type, const char *name)
{
    int r = snprintf(buf, n, "arn:aws:iot:%s:%s:%s/%s", site->region, site->account, type, name);
    return r < 0 ? 0 : (size_t)r;
}
