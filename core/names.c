#include "core/names.h"

#include <string.h>

typedef bool (*char_class_fn)(unsigned char c);

static bool is_alnum(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static bool match_class(const char *s, size_t min, size_t max, char_class_fn ok)
{
    if (!s) {
        return false;
    }
    size_t n = 0;
    for (; s[n]; n++) {
        if (n >= max || !ok((unsigned char)s[n])) {
            return false;
        }
    }
    return n >= min;
}

static bool thing_char(unsigned char c)
{
    return is_alnum(c) || c == ':' || c == '_' || c == '-';
}

static bool job_char(unsigned char c)
{
    return is_alnum(c) || c == '_' || c == '-';
}

static bool policy_char(unsigned char c)
{
    return is_alnum(c) || strchr("_+=,.@-", c) != NULL;
}

static bool shadow_char(unsigned char c)
{
    return thing_char(c) || c == '$';
}

static bool metric_char(unsigned char c)
{
    return is_alnum(c) || c == '_' || c == '-' || c == '.';
}

static bool attr_key_char(unsigned char c)
{
    return is_alnum(c) || strchr("_.,@/:#-", c) != NULL;
}

static bool attr_value_char(unsigned char c)
{
    return attr_key_char(c) || c == '=' || c == '[' || c == ']';
}

static bool region_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

static bool digit_char(unsigned char c)
{
    return c >= '0' && c <= '9';
}

bool fy_valid_thing_name(const char *s)
{
    return match_class(s, 1, FY_NAME_MAX, thing_char);
}

bool fy_valid_job_id(const char *s)
{
    return match_class(s, 1, FY_JOB_ID_MAX, job_char);
}

bool fy_valid_policy_name(const char *s)
{
    return match_class(s, 1, FY_POLICY_NAME_MAX, policy_char);
}

bool fy_valid_shadow_name(const char *s)
{
    return match_class(s, 1, FY_SHADOW_NAME_MAX, shadow_char);
}

bool fy_valid_fleet_metric_name(const char *s)
{
    return match_class(s, 1, FY_NAME_MAX, metric_char);
}

bool fy_valid_attr_key(const char *s)
{
    return match_class(s, 1, FY_ATTR_KEY_MAX, attr_key_char);
}

bool fy_valid_attr_value(const char *s)
{
    return match_class(s, 0, FY_ATTR_VALUE_MAX, attr_value_char);
}

bool fy_valid_account_id(const char *s)
{
    return match_class(s, FY_ACCOUNT_ID_LEN, FY_ACCOUNT_ID_LEN, digit_char);
}

bool fy_valid_region(const char *s)
{
    return match_class(s, 1, 32, region_char);
}

bool fy_valid_description(const char *s)
{
    if (!s || strlen(s) > FY_DESCRIPTION_MAX) {
        return false;
    }
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 0x20 || *p == 0x7f) {
            return false;
        }
    }
    return true;
}

static char *next_field(char *p)
{
    char *c = strchr(p, ':');
    if (!c) {
        return NULL;
    }
    *c = '\0';
    return c + 1;
}

fy_err fy_arn_parse(const char *s, struct fy_arn *out, struct fy_errmsg *em)
{
    if (!s || strlen(s) > FY_ARN_MAX || strncmp(s, "arn:", 4) != 0) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST, "Invalid ARN: %.128s", s ? s : "");
    }
    memset(out, 0, sizeof(*out));
    memcpy(out->buf, s + 4, strlen(s + 4) + 1); /* length checked above */
    char *f[5];
    f[0] = out->buf;
    for (int i = 1; i < 5; i++) {
        f[i] = next_field(f[i - 1]);
        if (!f[i]) {
            return fy_fail(em, FY_ERR_INVALID_REQUEST, "Invalid ARN: %.128s", s);
        }
    }
    out->partition = f[0];
    out->service = f[1];
    out->region = f[2];
    out->account = f[3];
    out->type = f[4];
    char *slash = strchr(f[4], '/');
    if (slash) {
        *slash = '\0';
        out->resource = slash + 1;
    } else {
        out->resource = "";
    }
    if (!*out->partition || !*out->service || !*out->type) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST, "Invalid ARN: %.128s", s);
    }
    return FY_ERR_OK;
}

int fy_parse_u64(const char **p, uint64_t *v, uint64_t max)
{
    const char *s = *p;
    uint64_t acc = 0;
    if (*s < '0' || *s > '9') {
        return -1;
    }
    for (; *s >= '0' && *s <= '9'; s++) {
        uint64_t d = (uint64_t)(*s - '0');
        if (acc > (max - d) / 10) {
            return -1;
        }
        acc = acc * 10 + d;
    }
    *v = acc;
    *p = s;
    return 0;
}

int fy_parse_i64_full(const char *s, int64_t min, int64_t max, int64_t *v)
{
    if (!s) {
        return -1;
    }
    int neg = 0;
    if (*s == '-') {
        neg = 1;
        s++;
    }
    uint64_t u;
    uint64_t lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    if (fy_parse_u64(&s, &u, lim) != 0 || *s != '\0') {
        return -1;
    }
    int64_t r = neg ? (int64_t)(0 - u) : (int64_t)u;
    if (r < min || r > max) {
        return -1;
    }
    *v = r;
    return 0;
}
