/* Condition operators: String*, Numeric*, Date*, Bool, IpAddress, Arn*, Null, Binary, with
 * IfExists and the ForAnyValue:/ForAllValues: set qualifiers, IAM's semantics. */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/names.h"
#include "policy/policy_int.h"

struct op_row {
    const char *name;
    enum cond_family family;
    enum cond_cmp cmp;
    bool negated;
};

static const struct op_row ops[] = {
    {"StringEquals", CF_STRING, CMP_EQ, false},
    {"StringNotEquals", CF_STRING, CMP_EQ, true},
    {"StringEqualsIgnoreCase", CF_STRING_CI, CMP_EQ, false},
    {"StringNotEqualsIgnoreCase", CF_STRING_CI, CMP_EQ, true},
    {"StringLike", CF_STRING_LIKE, CMP_EQ, false},
    {"StringNotLike", CF_STRING_LIKE, CMP_EQ, true},
    {"NumericEquals", CF_NUMERIC, CMP_EQ, false},
    {"NumericNotEquals", CF_NUMERIC, CMP_EQ, true},
    {"NumericLessThan", CF_NUMERIC, CMP_LT, false},
    {"NumericLessThanEquals", CF_NUMERIC, CMP_LE, false},
    {"NumericGreaterThan", CF_NUMERIC, CMP_GT, false},
    {"NumericGreaterThanEquals", CF_NUMERIC, CMP_GE, false},
    {"DateEquals", CF_DATE, CMP_EQ, false},
    {"DateNotEquals", CF_DATE, CMP_EQ, true},
    {"DateLessThan", CF_DATE, CMP_LT, false},
    {"DateLessThanEquals", CF_DATE, CMP_LE, false},
    {"DateGreaterThan", CF_DATE, CMP_GT, false},
    {"DateGreaterThanEquals", CF_DATE, CMP_GE, false},
    {"Bool", CF_BOOL, CMP_EQ, false},
    {"BinaryEquals", CF_BINARY, CMP_EQ, false},
    {"IpAddress", CF_IP, CMP_EQ, false},
    {"NotIpAddress", CF_IP, CMP_EQ, true},
    {"ArnEquals", CF_ARN, CMP_EQ, false},
    {"ArnLike", CF_ARN, CMP_EQ, false},
    {"ArnNotEquals", CF_ARN, CMP_EQ, true},
    {"ArnNotLike", CF_ARN, CMP_EQ, true},
    {"Null", CF_NULL, CMP_EQ, false},
};

bool cond_parse_operator(const char *name, struct cond *c)
{
    char base[64];
    c->qual = Q_NONE;
    if (strncmp(name, "ForAnyValue:", 12) == 0) {
        c->qual = Q_ANY;
        name += 12;
    } else if (strncmp(name, "ForAllValues:", 13) == 0) {
        c->qual = Q_ALL;
        name += 13;
    }
    size_t len = strlen(name);
    c->if_exists = len > 8 && strcmp(name + len - 8, "IfExists") == 0;
    if (c->if_exists) {
        len -= 8;
    }
    if (len >= sizeof(base)) {
        return false;
    }
    memcpy(base, name, len);
    base[len] = '\0';
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
        if (strcmp(base, ops[i].name) == 0) {
            c->family = ops[i].family;
            c->cmp = ops[i].cmp;
            c->negated = ops[i].negated;
            return !(c->family == CF_NULL && (c->if_exists || c->qual != Q_NONE));
        }
    }
    return false;
}

/* A decimal number as IAM writes them: [-+]digits[.digits][e[-+]digits]; no hex, inf or nan. */
static bool parse_number(const char *s, double *out)
{
    const char *p = s + (*s == '-' || *s == '+');
    if (!isdigit((unsigned char)*p)) {
        return false;
    }
    for (; *p; p++) {
        if (!isdigit((unsigned char)*p) && !strchr(".eE+-", *p)) {
            return false;
        }
    }
    char *end;
    *out = strtod(s, &end);
    return *end == '\0';
}

/* Epoch seconds, or ISO 8601 "YYYY-MM-DD[THH:MM[:SS]][Z]". */
static bool parse_date(const char *s, double *out)
{
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    if (parse_number(s, out)) {
        return true;
    }
    const char *rest = strptime(s, "%Y-%m-%d", &tm);
    if (rest && *rest == 'T') {
        const char *r2 = strptime(rest + 1, "%H:%M:%S", &tm);
        rest = r2 ? r2 : strptime(rest + 1, "%H:%M", &tm);
    }
    if (!rest || (*rest && strcmp(rest, "Z") != 0)) {
        return false;
    }
    *out = (double)timegm(&tm);
    return true;
}

static bool compare(double a, double b, enum cond_cmp cmp)
{
    switch (cmp) {
    case CMP_EQ:
        return a == b;
    case CMP_LT:
        return a < b;
    case CMP_LE:
        return a <= b;
    case CMP_GT:
        return a > b;
    case CMP_GE:
        return a >= b;
    }
    return false;
}

/* ctx_value inside the CIDR block text ("10.0.0.0/8", "2001:db8::/32", or a bare address). */
static bool ip_in_block(const char *value, const char *block)
{
    unsigned char a[16], b[16];
    char net[64];
    const char *slash = strchr(block, '/');
    size_t len = slash ? (size_t)(slash - block) : strlen(block);
    if (len >= sizeof(net)) {
        return false;
    }
    memcpy(net, block, len);
    net[len] = '\0';
    int fam = strchr(net, ':') ? AF_INET6 : AF_INET;
    int bits = fam == AF_INET6 ? 128 : 32;
    if (inet_pton(fam, net, b) != 1 || inet_pton(fam, value, a) != 1) {
        return false;
    }
    int64_t prefix = bits;
    if (slash && fy_parse_i64_full(slash + 1, 0, bits, &prefix) != 0) {
        return false;
    }
    for (int i = 0; i < prefix; i++) {
        int byte = i / 8, mask = 0x80 >> (i % 8);
        if ((a[byte] & mask) != (b[byte] & mask)) {
            return false;
        }
    }
    return true;
}

/* Offsets of the first five ':' in items (nitems) or in s (slen); false when fewer. */
static bool arn_colons(const short *items, const char *s, size_t n, size_t at[5])
{
    size_t k = 0;
    for (size_t i = 0; i < n && k < 5; i++) {
        if (items ? items[i] == ':' : s[i] == ':') {
            at[k++] = i;
        }
    }
    return k == 5;
}

/* ArnEquals/ArnLike: each of the six colon-separated parts is matched on its own, so a wildcard
 * never spans a ':' of the first five; a policy value that is no ARN is matched whole. */
static bool arn_matches(const short *items, size_t n, const char *v)
{
    size_t pi[5], vi[5], vlen = strlen(v);
    if (!arn_colons(items, NULL, n, pi)) {
        return items_match(items, n, v, vlen);
    }
    if (!arn_colons(NULL, v, vlen, vi)) {
        return false;
    }
    size_t pstart = 0, vstart = 0;
    for (int k = 0; k <= 5; k++) {
        size_t pend = k < 5 ? pi[k] : n, vend = k < 5 ? vi[k] : vlen;
        if (!items_match(items + pstart, pend - pstart, v + vstart, vend - vstart)) {
            return false;
        }
        pstart = pend + 1;
        vstart = vend + 1;
    }
    return true;
}

/* Does one context value match one (expanded) policy value, before negation? */
static bool value_matches(
    const struct cond *c, const char *ctx_value, const short *items, size_t n, const char *text)
{
    double x, y;
    switch (c->family) {
    case CF_STRING:
    case CF_BINARY:
        return strcmp(ctx_value, text) == 0;
    case CF_STRING_CI:
        return strcasecmp(ctx_value, text) == 0;
    case CF_STRING_LIKE:
        return items_match(items, n, ctx_value, strlen(ctx_value));
    case CF_ARN:
        return arn_matches(items, n, ctx_value);
    case CF_NUMERIC:
        return parse_number(ctx_value, &x) && parse_number(text, &y) && compare(x, y, c->cmp);
    case CF_DATE:
        return parse_date(ctx_value, &x) && parse_date(text, &y) && compare(x, y, c->cmp);
    case CF_BOOL:
        return strcasecmp(ctx_value, text) == 0;
    case CF_IP:
        return ip_in_block(ctx_value, text);
    case CF_NULL:
        return false;
    }
    return false;
}

/* One context value against the condition's value list (OR), negation applied. A negated
 * operator with a value whose variable does not resolve does not hold: the outcome would rest on
 * the unresolved variable, and that leaves the statement unmatched. */
static bool
single_holds(const struct cond *c, const char *ctx_value, const struct fy_policy_request *req)
{
    short buf[FY_POLICY_EXPAND_MAX];
    char text[FY_POLICY_EXPAND_MAX + 1];
    const short *items;
    bool any = false, unresolved = false;
    for (size_t i = 0; i < c->nvalues && !any; i++) {
        long n = pattern_expand(&c->values[i], req, buf, FY_POLICY_EXPAND_MAX, &items);
        if (n < 0 || !items_text(items, (size_t)n, text, sizeof(text))) {
            unresolved = true;
            continue;
        }
        any = value_matches(c, ctx_value, items, (size_t)n, text);
    }
    return c->negated ? !any && !unresolved : any;
}

static bool null_holds(const struct cond *c, size_t present, const struct fy_policy_request *req)
{
    short buf[8];
    char text[16];
    const short *items;
    for (size_t i = 0; i < c->nvalues; i++) {
        long n = pattern_expand(&c->values[i], req, buf, 6, &items);
        if (n >= 0 && items_text(items, (size_t)n, text, sizeof(text))) {
            bool want_absent = strcasecmp(text, "true") == 0;
            if (want_absent == (present == 0)) {
                return true;
            }
        }
    }
    return false;
}

bool cond_holds(const struct cond *c, const struct fy_policy_request *req)
{
    const char *vals[FY_POLICY_MAX_VALUES];
    size_t n = req->lookup ? req->lookup(req->lookup_ctx, c->key, vals, FY_POLICY_MAX_VALUES) : 0;
    if (c->family == CF_NULL) {
        return null_holds(c, n, req);
    }
    if (n == 0) {
        return c->if_exists || c->qual == Q_ALL || (c->negated && c->qual == Q_NONE);
    }
    if (c->qual == Q_NONE) {
        return single_holds(c, vals[0], req);
    }
    for (size_t i = 0; i < n; i++) {
        bool ok = single_holds(c, vals[i], req);
        if (c->qual == Q_ANY && ok) {
            return true;
        }
        if (c->qual == Q_ALL && !ok) {
            return false;
        }
    }
    return c->qual == Q_ALL;
}
