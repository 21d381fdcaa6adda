/* fleetyard core: the account and region that appear in ARNs, and ARN formatting. */
#ifndef FY_CORE_SITE_H
#define FY_CORE_SITE_H

#include <stddef.h>

#define FY_DEFAULT_ACCOUNT "123456789012"
#define FY_DEFAULT_REGION  "us-east-1"

struct fy_site {
    char region[33];
    char account[13];
};

/* Writes "arn:aws:iot:<region>:<account>:<type>/<name>" into buf (NUL-terminated, truncated to
 * n). Returns the length it needed (like snprintf). Pure. */
size_t
fy_arn_fmt(char *buf, size_t n, const struct fy_site *site, const char *type, const char *name);

#endif
