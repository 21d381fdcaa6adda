/* Query parser: recursive descent over the grammar in index/query.h, building the AST. Every
 * error is FY_ERR_INVALID_QUERY naming the position (byte offset) of the problem. */
#include <string.h>

#include "core/alloc.h"
#include "index/query.h"

struct parser {
    struct fy_qlexer lx;
    struct fy_qtoken cur;
    int depth, terms, leading;
    size_t leading_pos;
    struct fy_errmsg *em;
};

static void advance(struct parser *p)
{
    p->cur = fy_qlex_next(&p->lx);
}

static fy_err syntax(struct parser *p, size_t pos, const char *what)
{
    return fy_fail(p->em, FY_ERR_INVALID_QUERY, "Invalid query string: %s at position %zu", what,
                   pos);
}

void fy_qnode_free(struct fy_qnode *n)
{
    if (!n) {
        return;
    }
    fy_qnode_free(n->l);
    fy_qnode_free(n->r);
    fy_free(n->field);
    fy_qvalue_clear(&n->v);
    fy_qvalue_clear(&n->hi);
    fy_free(n);
}

static struct fy_qnode *node_new(enum fy_qnode_kind kind, size_t pos)
{
    struct fy_qnode *n = fy_calloc(1, sizeof(*n));
    if (n) {
        n->kind = kind;
        n->pos = pos;
    }
    return n;
}

static fy_err parse_or(struct parser *p, const char *field, struct fy_qnode **out);

/* Joins l and r under a new AND/OR node; frees both on failure. */
static fy_err join(enum fy_qnode_kind kind, size_t pos, struct fy_qnode **l, struct fy_qnode *r)
{
    struct fy_qnode *n = node_new(kind, pos);
    if (!n) {
        fy_qnode_free(r);
        return FY_ERR_NOMEM;
    }
    n->l = *l;
    n->r = r;
    *l = n;
    return FY_ERR_OK;
}

/* The error for an unexpected current token, saying what was wanted at end of input. */
static fy_err unexpected(struct parser *p, const char *wanted)
{
    if (p->cur.type == FY_QT_ERROR) {
        return syntax(p, p->cur.pos, "unterminated quote or escape");
    }
    return syntax(p, p->cur.pos, p->cur.type == FY_QT_EOF ? wanted : "unexpected token");
}

static bool is_value(enum fy_qtok t)
{
    return t == FY_QT_WORD || t == FY_QT_PHRASE;
}

static fy_err value_at(struct parser *p, struct fy_qvalue *v)
{
    if (!is_value(p->cur.type)) {
        return unexpected(p, "value expected");
    }
    fy_err e = fy_qvalue_from(&p->cur, v);
    if (!e && v->glob && !v->open && (v->text[0] == '*' || v->text[0] == '?')) {
        p->leading_pos = p->cur.pos;
        if (++p->leading > 1) {
            return syntax(p, p->cur.pos, "more than one leading wildcard term");
        }
    }
    if (!e) {
        advance(p);
    }
    return e;
}

/* [lo TO hi] / {lo TO hi} / mixed; the current token is the opening bracket. */
static fy_err parse_range(struct parser *p, struct fy_qnode *n)
{
    n->op = FY_QO_RANGE;
    n->lo_incl = p->cur.type == FY_QT_LBRACKET;
    advance(p);
    fy_err e = value_at(p, &n->v);
    if (!e && p->cur.type != FY_QT_TO) {
        e = syntax(p, p->cur.pos, "TO expected in range");
    }
    if (!e) {
        advance(p);
        e = value_at(p, &n->hi);
    }
    if (!e && p->cur.type != FY_QT_RBRACKET && p->cur.type != FY_QT_RBRACE) {
        e = syntax(p, p->cur.pos, "] or } expected to close the range");
    }
    if (!e) {
        n->hi_incl = p->cur.type == FY_QT_RBRACKET;
        advance(p);
    }
    if (!e && (n->v.glob && !n->v.open)) {
        e = syntax(p, n->pos, "wildcard in range");
    }
    if (!e && (n->hi.glob && !n->hi.open)) {
        e = syntax(p, n->pos, "wildcard in range");
    }
    return e;
}

/* field > value etc.: a one-sided range. */
static fy_err parse_compare(struct parser *p, struct fy_qnode *n)
{
    enum fy_qtok op = p->cur.type;
    advance(p);
    n->op = FY_QO_RANGE;
    struct fy_qvalue *bound = (op == FY_QT_GT || op == FY_QT_GE) ? &n->v : &n->hi;
    struct fy_qvalue *other = bound == &n->v ? &n->hi : &n->v;
    fy_err e = value_at(p, bound);
    if (!e && bound->glob) {
        e = syntax(p, n->pos, "wildcard in comparison");
    }
    if (!e) {
        other->open = true;
        n->lo_incl = op == FY_QT_GE;
        n->hi_incl = op == FY_QT_LE;
    }
    return e;
}

/* A value of field (EQ or EXISTS). */
static fy_err parse_value_term(struct parser *p, struct fy_qnode *n)
{
    fy_err e = value_at(p, &n->v);
    if (!e) {
        n->op = n->v.open && n->field ? FY_QO_EXISTS : FY_QO_EQ;
        if (n->v.open && !n->field) {
            n->kind = FY_QN_ALL;
        }
    }
    return e;
}

/* The part after `field:`. A parenthesised group is parsed with field as its default. */
static fy_err parse_field_rhs(struct parser *p, struct fy_qnode **n)
{
    if (p->cur.type == FY_QT_LPAREN) {
        char *field = (*n)->field;
        (*n)->field = NULL;
        fy_qnode_free(*n);
        *n = NULL;
        p->terms--; /* the group's own terms are counted */
        fy_err e = parse_or(p, field, n);
        fy_free(field);
        return e;
    }
    if (p->cur.type == FY_QT_LBRACKET || p->cur.type == FY_QT_LBRACE) {
        return parse_range(p, *n);
    }
    return parse_value_term(p, *n);
}

static fy_err parse_term(struct parser *p, const char *field, struct fy_qnode **out)
{
    size_t pos = p->cur.pos;
    struct fy_qnode *n = node_new(FY_QN_TERM, pos);
    fy_err e = n ? FY_ERR_OK : FY_ERR_NOMEM;
    if (!e && ++p->terms > FY_INDEX_TERMS_MAX) {
        e = syntax(p, pos, "too many terms");
    }
    if (!e && field) {
        n->field = fy_strdup(field);
        e = n->field ? FY_ERR_OK : FY_ERR_NOMEM;
    }
    if (e || !is_value(p->cur.type)) {
        fy_qnode_free(n);
        return e ? e : unexpected(p, "term expected");
    }
    struct fy_qlexer save = p->lx;
    struct fy_qtoken word = p->cur;
    advance(p);
    enum fy_qtok t = p->cur.type;
    bool named = word.type == FY_QT_WORD && (t == FY_QT_COLON || t == FY_QT_GT || t == FY_QT_GE ||
                                             t == FY_QT_LT || t == FY_QT_LE);
    if (named) {
        fy_free(n->field);
        n->field = fy_strndup(word.text, word.len);
        e = n->field ? FY_ERR_OK : FY_ERR_NOMEM;
        if (!e && t == FY_QT_COLON) {
            advance(p);
            e = parse_field_rhs(p, &n);
        } else if (!e) {
            e = parse_compare(p, n);
        }
    } else {
        p->lx = save;
        p->cur = word;
        e = parse_value_term(p, n);
    }
    if (e) {
        fy_qnode_free(n);
        return e;
    }
    *out = n;
    return FY_ERR_OK;
}

static fy_err enter(struct parser *p, size_t pos)
{
    if (++p->depth > FY_INDEX_DEPTH_MAX) {
        return syntax(p, pos, "nesting too deep");
    }
    return FY_ERR_OK;
}

static fy_err parse_unary(struct parser *p, const char *field, struct fy_qnode **out)
{
    size_t pos = p->cur.pos;
    fy_err e;
    if (p->cur.type == FY_QT_NOT || p->cur.type == FY_QT_MINUS) {
        struct fy_qnode *n = node_new(FY_QN_NOT, pos);
        if (!n) {
            return FY_ERR_NOMEM;
        }
        advance(p);
        e = enter(p, pos);
        e = e ? e : parse_unary(p, field, &n->l);
        p->depth--;
        if (e) {
            fy_qnode_free(n);
            return e;
        }
        *out = n;
        return FY_ERR_OK;
    }
    if (p->cur.type != FY_QT_LPAREN) {
        return parse_term(p, field, out);
    }
    advance(p);
    e = enter(p, pos);
    e = e ? e : parse_or(p, field, out);
    p->depth--;
    if (!e && p->cur.type != FY_QT_RPAREN) {
        fy_qnode_free(*out);
        *out = NULL;
        e = syntax(p, p->cur.pos, "closing parenthesis expected");
    }
    if (!e) {
        advance(p);
    }
    return e;
}

static bool starts_unary(enum fy_qtok t)
{
    return is_value(t) || t == FY_QT_NOT || t == FY_QT_MINUS || t == FY_QT_LPAREN;
}

static fy_err parse_and(struct parser *p, const char *field, struct fy_qnode **out)
{
    fy_err e = parse_unary(p, field, out);
    while (!e && (p->cur.type == FY_QT_AND || starts_unary(p->cur.type))) {
        size_t pos = p->cur.pos;
        struct fy_qnode *r = NULL;
        if (p->cur.type == FY_QT_AND) {
            advance(p);
        }
        e = parse_unary(p, field, &r);
        e = e ? e : join(FY_QN_AND, pos, out, r);
    }
    if (e) {
        fy_qnode_free(*out);
        *out = NULL;
    }
    return e;
}

static fy_err parse_or(struct parser *p, const char *field, struct fy_qnode **out)
{
    fy_err e = parse_and(p, field, out);
    while (!e && p->cur.type == FY_QT_OR) {
        size_t pos = p->cur.pos;
        struct fy_qnode *r = NULL;
        advance(p);
        e = parse_and(p, field, &r);
        e = e ? e : join(FY_QN_OR, pos, out, r);
    }
    if (e) {
        fy_qnode_free(*out);
        *out = NULL;
    }
    return e;
}

fy_err fy_qparse(const char *query, size_t len, struct fy_qnode **out, struct fy_errmsg *em)
{
    struct parser p = {.em = em};
    *out = NULL;
    if (len == 0) {
        return fy_fail(em, FY_ERR_INVALID_QUERY, "Invalid query string: empty query");
    }
    if (len > FY_INDEX_QUERY_MAX) {
        return fy_fail(em, FY_ERR_INVALID_QUERY,
                       "Invalid query string: longer than %d bytes at position %d",
                       FY_INDEX_QUERY_MAX, FY_INDEX_QUERY_MAX);
    }
    if (memchr(query, '\0', len)) {
        return fy_fail(em, FY_ERR_INVALID_QUERY,
                       "Invalid query string: NUL character at position %zu",
                       (size_t)((const char *)memchr(query, '\0', len) - query));
    }
    fy_qlex_init(&p.lx, query, len);
    advance(&p);
    fy_err e = parse_or(&p, NULL, out);
    if (!e && p.leading && len > FY_INDEX_LEADING_QUERY_MAX) {
        fy_qnode_free(*out);
        *out = NULL;
        return fy_fail(em, FY_ERR_INVALID_QUERY,
                       "Invalid query string: a query with a leading wildcard (position %zu) may "
                       "be at most %d bytes",
                       p.leading_pos, FY_INDEX_LEADING_QUERY_MAX);
    }
    if (!e && p.cur.type != FY_QT_EOF) {
        fy_qnode_free(*out);
        *out = NULL;
        e = unexpected(&p, "unexpected token");
    }
    if (e == FY_ERR_NOMEM) {
        fy_errf(em, "Out of memory");
    }
    return e;
}
