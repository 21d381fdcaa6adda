/* Patterns: compilation into tokens, variable substitution, IAM wildcard matching. */
#include <ctype.h>
#include <string.h>

#include "core/alloc.h"
#include "policy/policy_int.h"

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

/* Tokens a pattern text can need at most: each wildcard or variable, and a literal run around
 * each. */
static size_t max_tokens(const char *s)
{
    size_t n = 1;
    for (; *s; s++) {
        n += (*s == '*' || *s == '?' || (*s == '$' && s[1] == '{')) ? 2 : 0;
    }
    return n;
}

static void add_tok(struct pattern *out, enum tok_kind kind, const char *s, size_t len)
{
    struct tok *t = &out->toks[out->ntoks++];
    t->kind = kind;
    t->cert = false;
    t->s = s;
    t->len = len;
}

/* Emits the literal run s[0..len) (which has no wildcards) as a LIT token. */
static bool add_lit(struct fy_policy *p, struct pattern *out, const char *s, size_t len, bool lower)
{
    if (len == 0) {
        return true;
    }
    char *copy = pol_strndup(p, s, len, lower);
    if (copy) {
        add_tok(out, TOK_LIT, copy, len);
    }
    return copy != NULL;
}

/* Handles "${...}" at s (already past "${"); *used gets the bytes consumed. */
static fy_err
add_var(struct fy_policy *p, struct pattern *out, const char *s, size_t *used, struct fy_errmsg *em)
{
    const char *end = strchr(s, '}');
    if (!end || end == s) {
        return fy_fail(em, FY_ERR_MALFORMED_POLICY,
                       "Unterminated or empty policy variable in '%.100s'", s - 2);
    }
    size_t len = (size_t)(end - s);
    *used = len + 1;
    if (len == 1 && (*s == '*' || *s == '?' || *s == '$')) {
        return add_lit(p, out, s, 1, false) ? FY_ERR_OK : FY_ERR_NOMEM;
    }
    char *name = pol_strndup(p, s, len, false);
    if (!name) {
        return FY_ERR_NOMEM;
    }
    key_canonicalize(name);
    add_tok(out, TOK_VAR, name, strlen(name));
    out->toks[out->ntoks - 1].cert = strncmp(name, "iot:Certificate.", 16) == 0;
    return FY_ERR_OK;
}

/* Splits text into tokens: literal runs, `*`, `?` and variables. */
static fy_err split_tokens(
    struct fy_policy *p, const char *text, bool lower, struct pattern *out, struct fy_errmsg *em)
{
    size_t run = 0;
    const char *s = text;
    fy_err e = FY_ERR_OK;
    while (!e && s[run]) {
        char c = s[run];
        if (c != '*' && c != '?' && !(c == '$' && s[run + 1] == '{')) {
            run++;
            continue;
        }
        size_t used = 1;
        if (!add_lit(p, out, s, run, lower)) {
            e = FY_ERR_NOMEM;
        } else if (c == '$') {
            e = add_var(p, out, s + run + 2, &used, em);
            used += 2;
        } else {
            add_tok(out, c == '*' ? TOK_STAR : TOK_QMARK, NULL, 0);
        }
        s += run + used;
        run = 0;
    }
    if (!e && !add_lit(p, out, s, run, lower)) {
        e = FY_ERR_NOMEM;
    }
    return e;
}

/* Items of a pattern without variables, computed once (nothing to do when it has variables);
 * false on OOM. */
static bool preexpand(struct fy_policy *p, struct pattern *pat, size_t nitems)
{
    for (size_t i = 0; i < pat->ntoks; i++) {
        if (pat->toks[i].kind == TOK_VAR) {
            return true;
        }
    }
    pat->items = pol_alloc(p, (nitems ? nitems : 1) * sizeof(short));
    if (!pat->items) {
        return false;
    }
    for (size_t i = 0; i < pat->ntoks; i++) {
        const struct tok *t = &pat->toks[i];
        if (t->kind != TOK_LIT) {
            pat->items[pat->nitems++] = t->kind == TOK_STAR ? ITEM_STAR : ITEM_QMARK;
            continue;
        }
        for (size_t k = 0; k < t->len; k++) {
            pat->items[pat->nitems++] = (short)(unsigned char)t->s[k];
        }
    }
    return true;
}

fy_err pattern_compile(
    struct fy_policy *p, const char *text, bool lower, struct pattern *out, struct fy_errmsg *em)
{
    size_t fixed = 0;
    memset(out, 0, sizeof(*out));
    out->toks = pol_alloc(p, max_tokens(text) * sizeof(*out->toks));
    fy_err e = out->toks ? split_tokens(p, text, lower, out, em) : FY_ERR_NOMEM;
    for (size_t i = 0; !e && i < out->ntoks; i++) {
        const struct tok *t = &out->toks[i];
        fixed += t->kind == TOK_VAR ? 0 : t->kind == TOK_LIT ? t->len : 1;
    }
    if (!e && fixed > FY_POLICY_EXPAND_MAX) {
        return fy_fail(em, FY_ERR_MALFORMED_POLICY, "Pattern longer than %d characters: %.100s",
                       FY_POLICY_EXPAND_MAX, text);
    }
    if (!e && !preexpand(p, out, fixed)) {
        e = FY_ERR_NOMEM;
    }
    return e == FY_ERR_NOMEM ? fy_fail(em, FY_ERR_NOMEM, "Out of memory") : e;
}

/* The value of variable token t for req, with its length; false when the variable does not
 * resolve: absent, longer than FY_POLICY_VAR_VALUE_MAX, or a certificate value containing one
 * of `*$+?#` (which AWS refuses to substitute). */
static bool
var_value(const struct tok *t, const struct fy_policy_request *req, const char **v, size_t *len)
{
    if (!req->lookup || req->lookup(req->lookup_ctx, t->s, v, 1) == 0) {
        return false;
    }
    *len = strnlen(*v, FY_POLICY_VAR_VALUE_MAX + 1);
    return *len <= FY_POLICY_VAR_VALUE_MAX && !(t->cert && strpbrk(*v, "*$+?#") != NULL);
}

long pattern_expand(const struct pattern *pat,
                    const struct fy_policy_request *req,
                    short *buf,
                    size_t max,
                    const short **items)
{
    size_t n = 0;
    *items = pat->items ? pat->items : buf;
    if (pat->items) {
        return (long)pat->nitems;
    }
    for (size_t i = 0; i < pat->ntoks; i++) {
        const struct tok *t = &pat->toks[i];
        const char *v = t->s;
        size_t len = t->len;
        if (t->kind == TOK_STAR || t->kind == TOK_QMARK) {
            if (n >= max) {
                return -1;
            }
            buf[n++] = t->kind == TOK_STAR ? ITEM_STAR : ITEM_QMARK;
            continue;
        }
        if (t->kind == TOK_VAR && !var_value(t, req, &v, &len)) {
            return -1;
        }
        if (n + len > max) {
            return -1;
        }
        for (size_t k = 0; k < len; k++) {
            buf[n++] = (short)(unsigned char)v[k];
        }
    }
    return (long)n;
}

static bool item_eq(short item, char c)
{
    return item == ITEM_QMARK || item == (short)(unsigned char)c;
}

/* Star-backtracking match of items against s[0..len). */
static bool glob_middle(const short *items, size_t n, const char *s, size_t len)
{
    size_t i = 0, j = 0, star_i = (size_t)-1, star_j = 0;
    while (j < len) {
        if (i < n && items[i] == ITEM_STAR) {
            star_i = i++;
            star_j = j;
        } else if (i < n && item_eq(items[i], s[j])) {
            i++;
            j++;
        } else if (star_i != (size_t)-1) {
            i = star_i + 1;
            j = ++star_j;
        } else {
            return false;
        }
    }
    while (i < n && items[i] == ITEM_STAR) {
        i++;
    }
    return i == n;
}

bool items_match(const short *items, size_t n, const char *s, size_t len)
{
    size_t i = 0, j = 0;
    /* The literal head (before the first star) and tail (after the last) are anchored: checking
     * them first rejects most mismatches without backtracking. */
    for (; i < n && items[i] != ITEM_STAR; i++, j++) {
        if (j >= len || !item_eq(items[i], s[j])) {
            return false;
        }
    }
    if (i == n) {
        return j == len;
    }
    for (; items[n - 1] != ITEM_STAR; n--, len--) {
        if (len <= j || !item_eq(items[n - 1], s[len - 1])) {
            return false;
        }
    }
    return glob_middle(items + i, n - i, s + j, len - j);
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

/* Compares token t with s at [at, at + its length) inside [lo, hi); sets *n to that length.
 * -1 when t is a variable that does not resolve, 0 mismatch, 1 match. */
static int tok_at(const struct tok *t,
                  const struct fy_policy_request *req,
                  const char *s,
                  size_t lo,
                  size_t hi,
                  bool back,
                  size_t *n)
{
    const char *v = t->s;
    size_t len = t->kind == TOK_QMARK ? 1 : t->len;
    if (t->kind == TOK_VAR && !var_value(t, req, &v, &len)) {
        return -1;
    }
    *n = len;
    if (hi - lo < len) {
        return 0;
    }
    return t->kind == TOK_QMARK || memcmp(s + (back ? hi - len : lo), v, len) == 0;
}

/* The anchored parts of pat (the tokens before its first star and after its last) against
 * s[0..len); when pat has no star this decides the match. -1 unresolved, 0 mismatch, 1 match
 * (or: the middle remains to be checked). */
static int
anchored(const struct pattern *pat, const struct fy_policy_request *req, const char *s, size_t len)
{
    size_t i = 0, k = pat->ntoks, lo = 0, hi = len, n = 0;
    int r = 1;
    for (; r == 1 && i < pat->ntoks && pat->toks[i].kind != TOK_STAR; i++, lo += n) {
        r = tok_at(&pat->toks[i], req, s, lo, hi, false, &n);
    }
    if (r == 1 && i == pat->ntoks) {
        return lo == len;
    }
    for (; r == 1 && k > i && pat->toks[k - 1].kind != TOK_STAR; k--, hi -= n) {
        r = tok_at(&pat->toks[k - 1], req, s, lo, hi, true, &n);
    }
    return r;
}

/* Whether every variable of pat resolves for req. */
static bool all_resolve(const struct pattern *pat, const struct fy_policy_request *req)
{
    const char *v;
    size_t len;
    for (size_t i = 0; i < pat->ntoks; i++) {
        if (pat->toks[i].kind == TOK_VAR && !var_value(&pat->toks[i], req, &v, &len)) {
            return false;
        }
    }
    return true;
}

enum pattern_result pattern_match(const struct pattern *pat,
                                  const struct fy_policy_request *req,
                                  const char *s,
                                  size_t len,
                                  bool strict)
{
    short buf[FY_POLICY_EXPAND_MAX];
    const short *items;
    if (pat->items) {
        return items_match(pat->items, pat->nitems, s, len) ? PR_MATCH : PR_NONE;
    }
    if (strict && !all_resolve(pat, req)) {
        return PR_UNRESOLVED;
    }
    int a = anchored(pat, req, s, len);
    if (a <= 0) {
        return a < 0 ? PR_UNRESOLVED : PR_NONE;
    }
    long n = pattern_expand(pat, req, buf, FY_POLICY_EXPAND_MAX, &items);
    if (n < 0) {
        return PR_UNRESOLVED;
    }
    return items_match(items, (size_t)n, s, len) ? PR_MATCH : PR_NONE;
}
