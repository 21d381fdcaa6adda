/* Query values: escape decoding, wildcard patterns (SQLite GLOB, lower-cased) and the AWS number
 * typing rule. */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "index/query.h"

bool fy_qnumber(const char *s, double *out)
{
    const char *p = s;
    if (*p == '-') {
        p++;
    }
    if (!isdigit((unsigned char)*p) || (p[0] == '0' && isdigit((unsigned char)p[1]))) {
        return false;
    }
    while (isdigit((unsigned char)*p)) {
        p++;
    }
    if (*p == '.') {
        if (!isdigit((unsigned char)*++p)) {
            return false;
        }
        while (isdigit((unsigned char)*p)) {
            p++;
        }
    }
    if (*p == 'e' || *p == 'E') {
        p += (p[1] == '+' || p[1] == '-') ? 2 : 1;
        if (!isdigit((unsigned char)*p)) {
            return false;
        }
        while (isdigit((unsigned char)*p)) {
            p++;
        }
    }
    if (*p != '\0') {
        return false;
    }
    char *end;
    double v = strtod(s, &end);
    if (!isfinite(v)) {
        return false;
    }
    *out = v;
    return true;
}

void fy_qvalue_clear(struct fy_qvalue *v)
{
    FY_FREE(v->text);
    FY_FREE(v->pattern);
    memset(v, 0, sizeof(*v));
}

/* Appends the GLOB form of one character: user wildcards stay, literal metacharacters are
 * bracketed, letters are lower-cased. */
static size_t put_glob(char *out, char c, bool wildcard)
{
    if (wildcard) {
        out[0] = c;
        return 1;
    }
    if (c == '*' || c == '?' || c == '[') {
        out[0] = '[';
        out[1] = c;
        out[2] = ']';
        return 3;
    }
    out[0] = (char)tolower((unsigned char)c);
    return 1;
}

fy_err fy_qvalue_from(const struct fy_qtoken *t, struct fy_qvalue *v)
{
    memset(v, 0, sizeof(*v));
    v->quoted = t->type == FY_QT_PHRASE;
    v->text = fy_malloc(t->len + 1);
    v->pattern = fy_malloc(3 * t->len + 1);
    if (!v->text || !v->pattern) {
        fy_qvalue_clear(v);
        return FY_ERR_NOMEM;
    }
    size_t n = 0, m = 0;
    for (size_t i = 0; i < t->len; i++) {
        bool escaped = t->text[i] == '\\' && i + 1 < t->len;
        char c = escaped ? t->text[++i] : t->text[i];
        bool wildcard = !escaped && !v->quoted && (c == '*' || c == '?');
        v->glob = v->glob || wildcard;
        v->text[n++] = c;
        m += put_glob(v->pattern + m, c, wildcard);
    }
    v->text[n] = '\0';
    v->pattern[m] = '\0';
    v->open = !v->quoted && t->len == 1 && t->text[0] == '*';
    v->numeric = !v->quoted && fy_qnumber(v->text, &v->num);
    return FY_ERR_OK;
}
