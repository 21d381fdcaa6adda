/* Query SQL generation: AST -> a boolean SQL expression with `?` parameters. The SQL text is
 * made only of the fixed fragments below; every value, attribute key, shadow name and JSON path
 * from the query is a bound parameter.
 *
 * Typing (AWS): a query value is a number iff it is a JSON number literal and not quoted.
 * Registry attributes are strings that also count as numbers when numeric-looking (fy_num);
 * shadow values keep their JSON type. Strings match case-insensitively; * and ? are wildcards
 * (GLOB on lower-cased text). */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "index/query.h"

#define SQL_MAX (64 * 1024)

struct gen {
    struct fy_index_sql *q;
    struct fy_buf b;
    enum fy_index_kind kind;
    const struct fy_index_config *cfg;
    bool correlated; /* per-thing EXISTS probes instead of driving IN (...) sets */
    struct fy_errmsg *em;
};

/* How a field's values compare. */
enum vclass { VC_TEXT, VC_NUMTEXT, VC_JSON, VC_NUM, VC_BOOL };

static fy_err put(struct gen *g, const char *s)
{
    return fy_buf_append(&g->b, s, strlen(s));
}

static fy_err add_param(struct gen *g, enum fy_index_ptype type, const char *text, double num)
{
    struct fy_index_sql *q = g->q;
    if (q->nparams == q->cap) {
        size_t cap = q->cap ? 2 * q->cap : 8;
        void *p = fy_realloc(q->params, cap * sizeof(*q->params));
        if (!p) {
            return FY_ERR_NOMEM;
        }
        q->params = p;
        q->cap = cap;
    }
    struct fy_index_param *pp = &q->params[q->nparams];
    memset(pp, 0, sizeof(*pp));
    pp->type = type;
    pp->num = num;
    if (text) {
        pp->text = fy_strdup(text);
        if (!pp->text) {
            return FY_ERR_NOMEM;
        }
    }
    q->nparams++;
    return FY_ERR_OK;
}

/* Appends s with a text parameter. */
static fy_err put_text(struct gen *g, const char *s, const char *value)
{
    fy_err e = put(g, s);
    return e ? e : add_param(g, FY_IP_TEXT, value, 0);
}

static fy_err put_num(struct gen *g, const char *s, double v)
{
    fy_err e = put(g, s);
    return e ? e : add_param(g, FY_IP_REAL, NULL, v);
}

static fy_err bad_value(struct gen *g, const struct fy_qnode *n, const char *why)
{
    return fy_fail(g->em, FY_ERR_INVALID_QUERY,
                   "Invalid query string: %s for field %.128s at position %zu", why,
                   n->field ? n->field : "(any)", n->pos);
}

static int bool_value(const struct fy_qvalue *v)
{
    if (v->glob) {
        return -1;
    }
    if (strcasecmp(v->text, "true") == 0) {
        return 1;
    }
    return strcasecmp(v->text, "false") == 0 ? 0 : -1;
}

static const char *const cmp_ops[2][2] = {{" > ", " >= "}, {" < ", " <= "}};

/* One side of a range on expr: numeric (num) or case-insensitive text. */
static fy_err range_side(
    struct gen *g, const char *expr, const struct fy_qvalue *v, bool upper, bool incl, bool num)
{
    if (v->open) {
        return FY_ERR_OK;
    }
    fy_err e = put(g, " AND ");
    e = e ? e : put(g, expr);
    e = e ? e : put(g, num ? "" : " COLLATE NOCASE");
    e = e ? e : put(g, cmp_ops[upper][incl]);
    return e ? e : (num ? put_num(g, "?", v->num) : put_text(g, "?", v->text));
}

static fy_err range(struct gen *g, const struct fy_qnode *n, const char *expr, bool num)
{
    fy_err e = put(g, "1");
    e = e ? e : range_side(g, expr, &n->v, false, n->lo_incl, num);
    return e ? e : range_side(g, expr, &n->hi, true, n->hi_incl, num);
}

static bool numeric_range(const struct fy_qnode *n)
{
    return (n->v.open || n->v.numeric) && (n->hi.open || n->hi.numeric) &&
           !(n->v.open && n->hi.open);
}

/* The literal (lower-cased) head of a GLOB pattern, before its first metacharacter. */
static size_t glob_head(const char *pattern)
{
    return strcspn(pattern, "*?[");
}

/* For a pattern with a literal head, a NOCASE range holding every match (so an index on
 * expr COLLATE NOCASE narrows the scan): expr >= head AND expr < head-with-last-byte+1. */
static fy_err glob_range(struct gen *g, const char *expr, const char *pattern)
{
    size_t n = glob_head(pattern);
    if (n == 0 || (unsigned char)pattern[n - 1] == 0xff) {
        return FY_ERR_OK;
    }
    char *lo = fy_strndup(pattern, n), *hi = fy_strndup(pattern, n);
    fy_err e = lo && hi ? FY_ERR_OK : FY_ERR_NOMEM;
    if (!e) {
        hi[n - 1] = (char)((unsigned char)hi[n - 1] + 1);
    }
    e = e ? e : put(g, " AND ");
    e = e ? e : put(g, expr);
    e = e ? e : put_text(g, " >= ? COLLATE NOCASE AND ", lo);
    e = e ? e : put(g, expr);
    e = e ? e : put_text(g, " < ? COLLATE NOCASE", hi);
    fy_free(lo);
    fy_free(hi);
    return e;
}

/* Text equality / wildcard on expr. */
static fy_err text_eq(struct gen *g, const char *expr, const struct fy_qvalue *v)
{
    fy_err e = put(g, v->glob ? "(lower(" : "");
    e = e ? e : put(g, expr);
    if (v->glob) {
        e = e ? e : put_text(g, ") GLOB ?", v->pattern);
        e = e ? e : glob_range(g, expr, v->pattern);
        return e ? e : put(g, ")");
    }
    return e ? e : put_text(g, " = ? COLLATE NOCASE", v->text);
}

static fy_err cond_text(struct gen *g, const struct fy_qnode *n, const char *expr)
{
    return n->op == FY_QO_RANGE ? range(g, n, expr, false) : text_eq(g, expr, &n->v);
}

static fy_err cond_numtext(struct gen *g, const struct fy_qnode *n, const char *expr)
{
    char fn[96];
    snprintf(fn, sizeof(fn), "fy_num(%s)", expr);
    if (n->op == FY_QO_RANGE) {
        return range(g, n, numeric_range(n) ? fn : expr, numeric_range(n));
    }
    if (!n->v.numeric) {
        return text_eq(g, expr, &n->v);
    }
    fy_err e = put(g, "(");
    e = e ? e : text_eq(g, expr, &n->v);
    e = e ? e : put(g, " OR ");
    e = e ? e : put(g, fn);
    e = e ? e : put_num(g, " = ?", n->v.num);
    return e ? e : put(g, ")");
}

static fy_err json_eq(struct gen *g, const struct fy_qvalue *v)
{
    int b = bool_value(v);
    fy_err e = put(g, "((j.type = 'text' AND ");
    e = e ? e : text_eq(g, "j.value", v);
    e = e ? e : put(g, ")");
    if (v->numeric) {
        e = e ? e : put_num(g, " OR (j.type IN ('integer', 'real') AND j.value = ?)", v->num);
    }
    if (b >= 0) {
        e = e ? e : put(g, b ? " OR j.type = 'true'" : " OR j.type = 'false'");
    }
    return e ? e : put(g, ")");
}

static fy_err cond_json(struct gen *g, const struct fy_qnode *n)
{
    if (n->op != FY_QO_RANGE) {
        return json_eq(g, &n->v);
    }
    bool num = numeric_range(n);
    fy_err e = put(g, num ? "j.type IN ('integer', 'real') AND " : "j.type = 'text' AND ");
    return e ? e : range(g, n, "j.value", num);
}

static fy_err cond_num(struct gen *g, const struct fy_qnode *n, const char *expr)
{
    if (n->op == FY_QO_RANGE) {
        if (!numeric_range(n)) {
            return bad_value(g, n, "range bounds must be numbers");
        }
        return range(g, n, expr, true);
    }
    if (!n->v.numeric) {
        return bad_value(g, n, "value must be a number");
    }
    fy_err e = put(g, expr);
    return e ? e : put_num(g, " = ?", n->v.num);
}

static fy_err cond_bool(struct gen *g, const struct fy_qnode *n, const char *expr)
{
    int b = n->op == FY_QO_EQ ? bool_value(&n->v) : -1;
    if (b < 0) {
        return bad_value(g, n, "value must be true or false");
    }
    fy_err e = put(g, expr);
    return e ? e : put(g, b ? " = 1" : " = 0");
}

/* The value condition of n on expr by class; EXISTS conditions are "1". */
static fy_err cond(struct gen *g, const struct fy_qnode *n, enum vclass vc, const char *expr)
{
    if (n->op == FY_QO_EXISTS) {
        return put(g, vc == VC_JSON ? "j.type NOT IN ('null')" : "1");
    }
    switch (vc) {
    case VC_TEXT:
        return cond_text(g, n, expr);
    case VC_NUMTEXT:
        return cond_numtext(g, n, expr);
    case VC_JSON:
        return cond_json(g, n);
    case VC_NUM:
        return cond_num(g, n, expr);
    case VC_BOOL:
        return cond_bool(g, n, expr);
    }
    return FY_ERR_INTERNAL;
}

/* prefix + cond + suffix. */
static fy_err wrap(struct gen *g,
                   const struct fy_qnode *n,
                   const char *prefix,
                   enum vclass vc,
                   const char *expr,
                   const char *suffix)
{
    fy_err e = put(g, prefix);
    e = e ? e : cond(g, n, vc, expr);
    return e ? e : put(g, suffix);
}

/* ---- field terms ---- */

static const char SHADOW_ROW[] =
    "s.thing_name = t.name AND s.deleted = 0 AND s.doc IS NOT NULL AND s.name = ?";
static const char CONN_ROW[] =
    "EXISTS (SELECT 1 FROM connectivity c WHERE c.client_id = t.name AND ";
static const char CONNECTED[] =
    "IFNULL((SELECT c.connected FROM connectivity c WHERE c.client_id = t.name), 0)";
static const char TG_PARENTS[] =
    "EXISTS (SELECT 1 FROM thing_groups pg WHERE pg.root = tg.root AND pg.id IN (tg.parent, "
    "(SELECT p1.parent FROM thing_groups p1 WHERE p1.id = tg.parent), "
    "(SELECT p2.parent FROM thing_groups p1 JOIN thing_groups p2 ON p2.id = p1.parent "
    "WHERE p1.id = tg.parent), "
    "(SELECT p3.parent FROM thing_groups p1 JOIN thing_groups p2 ON p2.id = p1.parent "
    "JOIN thing_groups p3 ON p3.id = p2.parent WHERE p1.id = tg.parent), "
    "(SELECT p4.parent FROM thing_groups p1 JOIN thing_groups p2 ON p2.id = p1.parent "
    "JOIN thing_groups p3 ON p3.id = p2.parent JOIN thing_groups p4 ON p4.id = p3.parent "
    "WHERE p1.id = tg.parent), "
    "(SELECT p5.parent FROM thing_groups p1 JOIN thing_groups p2 ON p2.id = p1.parent "
    "JOIN thing_groups p3 ON p3.id = p2.parent JOIN thing_groups p4 ON p4.id = p3.parent "
    "JOIN thing_groups p5 ON p5.id = p4.parent WHERE p1.id = tg.parent)) AND ";

/* Registry terms: correlated probes for evaluating a few things (dynamic group upkeep), driving
 * sets for searching the whole fleet (the planner can start from the attribute index). */
static const char *const ATTR_TERM[2] = {
    "t.id IN (SELECT a.thing FROM thing_attributes a WHERE a.key = ? AND ",
    "EXISTS (SELECT 1 FROM thing_attributes a WHERE a.thing = t.id AND a.key = ? AND "};
static const char *const TYPE_TERM[2] = {
    "t.type_id IN (SELECT ty.id FROM thing_types ty WHERE ",
    "EXISTS (SELECT 1 FROM thing_types ty WHERE ty.id = t.type_id AND "};
static const char *const GROUP_TERM[2] = {
    "t.id IN (SELECT m.thing FROM thing_group_members m JOIN thing_groups gn ON gn.id = m.grp "
    "WHERE gn.dynamic = 0 AND ",
    "EXISTS (SELECT 1 FROM thing_group_members m JOIN thing_groups gn ON gn.id = m.grp WHERE "
    "m.thing = t.id AND gn.dynamic = 0 AND "};

static fy_err term_attribute(struct gen *g, const struct fy_qnode *n, const struct fy_qfield *f)
{
    fy_err e = put_text(g, ATTR_TERM[g->correlated], f->key);
    return e ? e : wrap(g, n, "", VC_NUMTEXT, "a.value", ")");
}

static fy_err
term_group_attribute(struct gen *g, const struct fy_qnode *n, const struct fy_qfield *f)
{
    fy_err e = put_text(
        g, "EXISTS (SELECT 1 FROM json_each(tg.attributes) ga WHERE ga.key = ? AND ", f->key);
    return e ? e : wrap(g, n, "", VC_NUMTEXT, "ga.value", ")");
}

/* Values at a JSON path of a shadow, one row per scalar (arrays per element; arrays holding
 * objects and objects themselves are not values). */
static fy_err term_shadow_value(struct gen *g, const struct fy_qnode *n, const struct fy_qfield *f)
{
    fy_err e =
        put_text(g, "EXISTS (SELECT 1 FROM shadows s, json_each(s.doc, ?) j WHERE ", f->path);
    e = e ? e : put_text(g, SHADOW_ROW, f->shadow);
    e = e ? e : put_text(g, " AND json_type(s.doc, ?) <> 'object'", f->path);
    e = e ? e : put(g, " AND j.type NOT IN ('object', 'array') AND ");
    return e ? e : wrap(g, n, "", VC_JSON, NULL, ")");
}

static fy_err term_shadow_meta(struct gen *g, const struct fy_qnode *n, const struct fy_qfield *f)
{
    fy_err e = put(g, "EXISTS (SELECT 1 FROM shadows s WHERE ");
    e = e ? e : put_text(g, SHADOW_ROW, f->shadow);
    if (f->kind == FY_QF_SHADOW_HAS_DELTA) {
        return e ? e : wrap(g, n, " AND ", VC_BOOL, "fy_has_delta(s.doc)", ")");
    }
    return e ? e : wrap(g, n, " AND ", VC_NUM, "s.version", ")");
}

static fy_err term_thing_field(struct gen *g, const struct fy_qnode *n, const struct fy_qfield *f)
{
    switch (f->kind) {
    case FY_QF_THING_NAME:
        return cond(g, n, VC_TEXT, "t.name");
    case FY_QF_THING_ID:
        return cond(g, n, VC_TEXT, "t.thing_id");
    case FY_QF_THING_TYPE:
        return wrap(g, n, TYPE_TERM[g->correlated], VC_TEXT, "ty.name", ")");
    case FY_QF_GROUP_NAMES:
        return wrap(g, n, GROUP_TERM[g->correlated], VC_TEXT, "gn.name", ")");
    case FY_QF_ATTRIBUTE:
        return term_attribute(g, n, f);
    case FY_QF_SHADOW_VALUE:
        return term_shadow_value(g, n, f);
    case FY_QF_SHADOW_HAS_DELTA:
    case FY_QF_SHADOW_VERSION:
        return term_shadow_meta(g, n, f);
    case FY_QF_CONN_CONNECTED:
        return cond(g, n, VC_BOOL, CONNECTED);
    case FY_QF_CONN_TIMESTAMP:
        return wrap(g, n, CONN_ROW, VC_NUM, "c.timestamp", ")");
    case FY_QF_CONN_REASON:
        return wrap(g, n, CONN_ROW, VC_TEXT, "c.disconnect_reason",
                    " AND c.disconnect_reason IS NOT NULL)");
    case FY_QF_CONN_VERSION:
        return wrap(g, n, CONN_ROW, VC_NUM, "c.version_number", ")");
    case FY_QF_REG_VERSION:
        return cond(g, n, VC_NUM, "t.version");
    default:
        return FY_ERR_INTERNAL;
    }
}

static fy_err term_group_field(struct gen *g, const struct fy_qnode *n, const struct fy_qfield *f)
{
    switch (f->kind) {
    case FY_QF_TG_NAME:
        return cond(g, n, VC_TEXT, "tg.name");
    case FY_QF_TG_ID:
        return cond(g, n, VC_TEXT, "tg.group_id");
    case FY_QF_TG_DESCRIPTION:
        return wrap(g, n, "(tg.description IS NOT NULL AND ", VC_TEXT, "tg.description", ")");
    case FY_QF_TG_ATTRIBUTE:
        return term_group_attribute(g, n, f);
    case FY_QF_TG_PARENTS:
        return wrap(g, n, TG_PARENTS, VC_TEXT, "pg.name", ")");
    default:
        return FY_ERR_INTERNAL;
    }
}

/* Any scalar of the classic shadow's desired or reported state (bare terms). */
static const char BARE_SHADOW[] =
    " OR EXISTS (SELECT 1 FROM shadows s, json_tree(s.doc, '$.state') j WHERE s.thing_name = "
    "t.name AND s.name = '' AND s.deleted = 0 AND s.doc IS NOT NULL AND j.type NOT IN ('object', "
    "'array') AND ";

/* A bare term: thing name, id, type, attribute values, group names and classic shadow values
 * when shadows are indexed (group index: name, id, description, attribute values). */
static fy_err term_bare(struct gen *g, const struct fy_qnode *n)
{
    static const char *const things[] = {"thingName", "thingId", "thingTypeName",
                                         "thingGroupNames"};
    static const char *const groups[] = {"thingGroupName", "thingGroupId", "description"};
    bool th = g->kind == FY_INDEX_KIND_THINGS;
    const char *const *names = th ? things : groups;
    size_t count = th ? 4 : 3;
    fy_err e = put(g, "(");
    for (size_t i = 0; !e && i < count; i++) {
        struct fy_qfield f;
        e = fy_qfield_resolve(names[i], g->kind, NULL, &f, g->em);
        e = e ? e : (th ? term_thing_field(g, n, &f) : term_group_field(g, n, &f));
        e = e ? e : put(g, " OR ");
        fy_qfield_clear(&f);
    }
    e = e ? e
          : wrap(g, n,
                 th ? "EXISTS (SELECT 1 FROM thing_attributes a WHERE a.thing = t.id AND "
                    : "EXISTS (SELECT 1 FROM json_each(tg.attributes) ga WHERE ",
                 VC_NUMTEXT, th ? "a.value" : "ga.value", ")");
    if (!e && th && (!g->cfg || g->cfg->thing_mode == FY_MODE_REGISTRY_AND_SHADOW)) {
        e = wrap(g, n, BARE_SHADOW, VC_JSON, NULL, ")");
    }
    return e ? e : put(g, ")");
}

static fy_err gen_term(struct gen *g, const struct fy_qnode *n)
{
    if (!n->field) {
        return term_bare(g, n);
    }
    struct fy_qfield f;
    fy_err e = fy_qfield_resolve(n->field, g->kind, g->cfg, &f, g->em);
    if (e) {
        return e;
    }
    e = g->kind == FY_INDEX_KIND_THINGS ? term_thing_field(g, n, &f) : term_group_field(g, n, &f);
    fy_qfield_clear(&f);
    return e;
}

static fy_err gen_node(struct gen *g, const struct fy_qnode *n)
{
    fy_err e;
    switch (n->kind) {
    case FY_QN_ALL:
        return put(g, "1");
    case FY_QN_NOT:
        e = put(g, "NOT IFNULL(");
        e = e ? e : gen_node(g, n->l);
        return e ? e : put(g, ", 0)");
    case FY_QN_AND:
    case FY_QN_OR:
        e = put(g, "(");
        e = e ? e : gen_node(g, n->l);
        e = e ? e : put(g, n->kind == FY_QN_AND ? " AND " : " OR ");
        e = e ? e : gen_node(g, n->r);
        return e ? e : put(g, ")");
    case FY_QN_TERM:
        return gen_term(g, n);
    }
    return FY_ERR_INTERNAL;
}

void fy_index_sql_free(struct fy_index_sql *q)
{
    if (!q) {
        return;
    }
    for (size_t i = 0; i < q->nparams; i++) {
        fy_free(q->params[i].text);
    }
    fy_free(q->params);
    fy_free(q->where);
    fy_free(q);
}

fy_err fy_index_compile(const char *query,
                        enum fy_index_kind kind,
                        const struct fy_index_config *cfg,
                        struct fy_index_sql **out,
                        struct fy_errmsg *em)
{
    return fy_index_compile_opts(query, kind, cfg, false, out, em);
}

fy_err fy_index_compile_opts(const char *query,
                             enum fy_index_kind kind,
                             const struct fy_index_config *cfg,
                             bool correlated,
                             struct fy_index_sql **out,
                             struct fy_errmsg *em)
{
    struct fy_qnode *ast = NULL;
    struct gen g = {.kind = kind, .cfg = cfg, .correlated = correlated, .em = em};
    *out = NULL;
    fy_err e = fy_qparse(query, query ? strlen(query) : 0, &ast, em);
    if (e) {
        return e;
    }
    g.q = fy_calloc(1, sizeof(*g.q));
    fy_buf_init(&g.b, SQL_MAX);
    e = g.q ? gen_node(&g, ast) : FY_ERR_NOMEM;
    fy_qnode_free(ast);
    if (e == FY_ERR_PAYLOAD_TOO_LARGE) {
        e = fy_fail(em, FY_ERR_INVALID_QUERY, "Invalid query string: too complex");
    }
    if (e) {
        fy_buf_free(&g.b);
        fy_index_sql_free(g.q);
        if (e == FY_ERR_NOMEM) {
            fy_errf(em, "Out of memory");
        }
        return e;
    }
    g.q->where = g.b.data;
    *out = g.q;
    return FY_ERR_OK;
}

int fy_index_bind(sqlite3_stmt *st, int first, const struct fy_index_sql *q)
{
    int idx = first;
    for (size_t i = 0; i < q->nparams; i++, idx++) {
        const struct fy_index_param *p = &q->params[i];
        if (p->type == FY_IP_TEXT) {
            sqlite3_bind_text(st, idx, p->text, -1, SQLITE_TRANSIENT);
        } else if (p->type == FY_IP_REAL) {
            sqlite3_bind_double(st, idx, p->num);
        } else {
            sqlite3_bind_int64(st, idx, p->i);
        }
    }
    return idx;
}
