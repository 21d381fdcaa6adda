/* Patterns: compilation into tokens, variable substitution, IAM wildcard matching. */
#include <ctype.h>
#include <string.h>

#include "core/alloc.h"
#include "policy/policy_int.h"

#define POL_MAX_TOKS 256

void *pol_alloc(struct fy_policy *p, size_t n)
{
    if (p->nallocs == p->cap) {
        size_t ncap = p->cap ? p->cap * 2 : 32;
        void **a = fy_realloc(p->allocs, ncap * sizeof(*a));
        if (!a) {
            return NULL;
        }
        p->allocs = a;
        p->cap = ncap;
    }
    void *m = fy_calloc(1, n);
    if (m) {
        p->allocs[p->nallocs++] = m;
    }
    return m;
}

static char *pol_strndup(struct fy_policy *p, const char *s, size_t n, bool lower)
{
    char *d = pol_alloc(p, n + 1);
    if (d) {
        for (size_t i = 0; i < n; i++) {
            d[i] = lower ? (char)tolower((unsigned char)s[i]) : s[i];
        }
    }
    return d;
}

static bool add_tok(struct tok *t, size_t *n, enum tok_kind kind, const char *s, size_t len)
{
    if (*n >= POL_MAX_TOKS) {
        return false;
    }
    t[*n].kind = kind;
    t[*n].s = s;
    t[*n].len = len;
    (*n)++;
    return true;
}

/* Emits the literal run text[0..len) (which has no wildcards) as a LIT token. */
static bool
add_lit(struct fy_policy *p, struct tok *t, size_t *n, const char *s, size_t len, bool lower)
{
    if (len == 0) {
        return true;
    }
    char *copy = pol_strndup(p, s, len, lower);
    return copy && add_tok(t, n, TOK_LIT, copy, len);
}

/* Handles "${...}" at text (already past "${"); *used gets the bytes consumed. */
static fy_err add_var(struct fy_policy *p,
                      struct tok *t,
                      size_t *n,
                      const char *s,
                      size_t *used,
                      struct fy_errmsg *em)
{
    const char *end = strchr(s, '}');
    if (!end || end == s) {
        return fy_fail(em, FY_ERR_MALFORMED_POLICY,
                       "Unterminated or empty policy variable in "
                       "'%.100s'",
                       s - 2);
    }
    size_t len = (size_t)(end - s);
    *used = len + 1;
    if (len == 1 && (*s == '*' || *s == '?' || *s == '$')) {
        return add_lit(p, t, n, s, 1, false) ? FY_ERR_OK : FY_ERR_NOMEM;
    }
    char *name = pol_strndup(p, s, len, false);
    return name && add_tok(t, n, TOK_VAR, name, len) ? FY_ERR_OK : FY_ERR_NOMEM;
}

fy_err pattern_compile(
    struct fy_policy *p, const char *text, bool lower, struct pattern *out, struct fy_errmsg *em)
{
    struct tok t[POL_MAX_TOKS];
    size_t n = 0, run = 0;
    const char *s = text;
    fy_err e = FY_ERR_OK;
    while (!e && s[run]) {
        char c = s[run];
        if (c != '*' && c != '?' && !(c == '$' && s[run + 1] == '{')) {
            run++;
            continue;
        }
        if (!add_lit(p, t, &n, s, run, lower)) {
            e = FY_ERR_NOMEM;
            break;
        }
        size_t used = 1;
        if (c == '$') {
            e = add_var(p, t, &n, s + run + 2, &used, em);
            used += 2;
        } else if (!add_tok(t, &n, c == '*' ? TOK_STAR : TOK_QMARK, NULL, 0)) {
            e = FY_ERR_NOMEM;
        }
        s += run + used;
        run = 0;
    }
    if (!e && !add_lit(p, t, &n, s, run, lower)) {
        e = FY_ERR_NOMEM;
    }
    if (!e) {
        out->toks = pol_alloc(p, (n ? n : 1) * sizeof(*t));
        e = out->toks ? FY_ERR_OK : FY_ERR_NOMEM;
    }
    if (e == FY_ERR_NOMEM) {
        return fy_fail(em, FY_ERR_NOMEM, "Out of memory");
    }
    if (!e) {
        memcpy(out->toks, t, n * sizeof(*t));
        out->ntoks = n;
    }
    return e;
}

/* A certificate-derived value that AWS refuses to substitute. */
static bool unsubstitutable(const char *name, const char *v)
{
    if (strlen(v) > FY_POLICY_VAR_VALUE_MAX) {
        return true;
    }
    return strncmp(name, "iot:Certificate.", 16) == 0 && strpbrk(v, "*$+?#") != NULL;
}

long pattern_expand(const struct pattern *pat,
                    const struct fy_policy_request *req,
                    short *items,
                    size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < pat->ntoks; i++) {
        const struct tok *t = &pat->toks[i];
        const char *v = t->s;
        size_t len = t->len;
        if (t->kind == TOK_STAR || t->kind == TOK_QMARK) {
            if (n >= max) {
                return -1;
            }
            items[n++] = t->kind == TOK_STAR ? ITEM_STAR : ITEM_QMARK;
            continue;
        }
        if (t->kind == TOK_VAR) {
            const char *vals[1];
            if (!req->lookup || req->lookup(req->lookup_ctx, t->s, vals, 1) == 0 ||
                unsubstitutable(t->s, vals[0])) {
                return -1;
            }
            v = vals[0];
            len = strlen(v);
        }
        if (n + len > max) {
            return -1;
        }
        for (size_t k = 0; k < len; k++) {
            items[n++] = (short)(unsigned char)v[k];
        }
    }
    return (long)n;
}

static bool char_eq(short item, char c, bool ci)
{
    unsigned char u = (unsigned char)c;
    if (ci) {
        return tolower(item) == tolower(u);
    }
    return item == u;
}

bool items_match(const short *items, size_t n, const char *s, bool ci)
{
    size_t i = 0, star_i = (size_t)-1, star_s = 0;
    const char *p = s;
    while (*p) {
        if (i < n && items[i] == ITEM_STAR) {
            star_i = i++;
            star_s = (size_t)(p - s);
        } else if (i < n && (items[i] == ITEM_QMARK || char_eq(items[i], *p, ci))) {
            i++;
            p++;
        } else if (star_i != (size_t)-1) {
            i = star_i + 1;
            p = s + ++star_s;
        } else {
            return false;
        }
    }
    while (i < n && items[i] == ITEM_STAR) {
        i++;
    }
    return i == n;
}

bool items_text(const short *items, size_t n, char *buf, size_t cap)
{
    if (n + 1 > cap) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        buf[i] = items[i] == ITEM_STAR ? '*' : items[i] == ITEM_QMARK ? '?' : (char)items[i];
    }
    buf[n] = '\0';
    return true;
}
