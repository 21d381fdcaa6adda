/* CloudWatch Logs filter patterns for unstructured events: plain terms (all must occur),
 * "quoted phrases", ?optional terms (at least one must occur) and -excluded terms. */
#include <string.h>

#include "core/alloc.h"
#include "logs/logs.h"

enum term_kind { TERM_REQUIRED, TERM_OPTIONAL, TERM_EXCLUDED };

struct term {
    enum term_kind kind;
    char *text;
};

struct fy_logfilter {
    struct term terms[FY_LOGS_FILTER_TERMS_MAX];
    int n;
    int noptional;
};

void fy_logfilter_free(struct fy_logfilter *f)
{
    if (!f) {
        return;
    }
    for (int i = 0; i < f->n; i++) {
        fy_free(f->terms[i].text);
    }
    fy_free(f);
}

/* Reads one term at *pp (after its ?/- prefix) into a new string; advances *pp. */
static fy_err read_term(const char **pp, char **out, struct fy_errmsg *em)
{
    const char *p = *pp;
    size_t n;
    if (*p == '"') {
        const char *end = strchr(p + 1, '"');
        if (!end) {
            return fy_fail(em, FY_ERR_INVALID_REQUEST,
                           "Invalid filter pattern: unterminated quote");
        }
        n = (size_t)(end - p - 1);
        *pp = end + 1;
        p++;
    } else {
        n = strcspn(p, " \t");
        *pp = p + n;
    }
    if (n == 0) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST, "Invalid filter pattern: empty term");
    }
    *out = fy_strndup(p, n);
    return *out ? FY_ERR_OK : fy_fail(em, FY_ERR_NOMEM, "Out of memory");
}

static fy_err add_term(struct fy_logfilter *f, const char **pp, struct fy_errmsg *em)
{
    if (f->n >= FY_LOGS_FILTER_TERMS_MAX) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST, "Invalid filter pattern: more than %d terms",
                       FY_LOGS_FILTER_TERMS_MAX);
    }
    struct term *t = &f->terms[f->n];
    t->kind = TERM_REQUIRED;
    if (**pp == '?' || **pp == '-') {
        t->kind = **pp == '?' ? TERM_OPTIONAL : TERM_EXCLUDED;
        (*pp)++;
    }
    fy_err e = read_term(pp, &t->text, em);
    if (e) {
        return e;
    }
    f->noptional += t->kind == TERM_OPTIONAL;
    f->n++;
    return FY_ERR_OK;
}

fy_err fy_logfilter_compile(const char *pattern, struct fy_logfilter **out, struct fy_errmsg *em)
{
    const char *p = pattern ? pattern : "";
    if (strlen(p) > FY_LOGS_FILTER_MAX) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST,
                       "Invalid filter pattern: longer than %d characters", FY_LOGS_FILTER_MAX);
    }
    p += strspn(p, " \t");
    if (*p == '{' || *p == '[') {
        return fy_fail(em, FY_ERR_INVALID_REQUEST,
                       "Invalid filter pattern: JSON and space-delimited patterns are not "
                       "supported (plain terms, \"phrases\", ?term and -term are)");
    }
    struct fy_logfilter *f = fy_calloc(1, sizeof(*f));
    if (!f) {
        return fy_fail(em, FY_ERR_NOMEM, "Out of memory");
    }
    fy_err e = FY_ERR_OK;
    while (!e && *p) {
        e = add_term(f, &p, em);
        p += strspn(p, " \t");
    }
    if (e) {
        fy_logfilter_free(f);
        return e;
    }
    *out = f;
    return FY_ERR_OK;
}

bool fy_logfilter_match(const struct fy_logfilter *f, const char *msg)
{
    bool any_optional = false;
    for (int i = 0; i < f->n; i++) {
        bool found = strstr(msg, f->terms[i].text) != NULL;
        switch (f->terms[i].kind) {
        case TERM_REQUIRED:
            if (!found) {
                return false;
            }
            break;
        case TERM_EXCLUDED:
            if (found) {
                return false;
            }
            break;
        case TERM_OPTIONAL:
            any_optional = any_optional || found;
            break;
        }
    }
    return f->noptional == 0 || any_optional;
}
