/* fleetyard index internals: the fleet indexing query language (AWS_IOT_BEHAVIOUR.md section 6).
 *
 * Pipeline: lexer (query_lex.c) -> recursive-descent parser building an AST (query_parse.c) ->
 * field resolution against a whitelist (query_fields.c) -> SQL text with `?` parameters only
 * (query_sql.c). User text never reaches the SQL text: it travels in bound parameters.
 *
 * Grammar (Lucene-like, queryVersion 2017-09-30):
 *   query   := or EOF
 *   or      := and (OR and)*
 *   and     := unary ([AND] unary)*          adjacent terms are an implicit AND
 *   unary   := (NOT | '-') unary | primary
 *   primary := '(' or ')' | term
 *   term    := FIELD ':' value | FIELD ':' '(' or ')' | FIELD ':' range | FIELD cmp value
 *            | value                         (bare term, or a value of the enclosing field group)
 *   range   := ('[' | '{') value TO value (']' | '}')   ('*' = open end)
 *   cmp     := '>' | '>=' | '<' | '<='
 * `field:*` tests existence; the query `*` alone matches everything.
 */
#ifndef FY_INDEX_QUERY_H
#define FY_INDEX_QUERY_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"
#include "index/index.h"

/* ---- lexer ---- */

enum fy_qtok {
    FY_QT_EOF = 0,
    FY_QT_WORD,   /* unquoted text; backslash escapes kept raw */
    FY_QT_PHRASE, /* "quoted text"; text excludes the quotes, escapes kept raw */
    FY_QT_LPAREN,
    FY_QT_RPAREN,
    FY_QT_LBRACKET,
    FY_QT_RBRACKET,
    FY_QT_LBRACE,
    FY_QT_RBRACE,
    FY_QT_COLON,
    FY_QT_AND,
    FY_QT_OR,
    FY_QT_NOT,
    FY_QT_MINUS, /* leading '-' exclusion */
    FY_QT_TO,
    FY_QT_GT,
    FY_QT_GE,
    FY_QT_LT,
    FY_QT_LE,
    FY_QT_ERROR, /* unterminated quote or dangling backslash */
};

struct fy_qtoken {
    enum fy_qtok type;
    size_t pos; /* byte offset in the query */
    size_t len; /* bytes of text (WORD/PHRASE) */
    const char *text;
};

struct fy_qlexer {
    const char *src;
    size_t len, at;
    enum fy_qtok prev;
};

void fy_qlex_init(struct fy_qlexer *lx, const char *src, size_t len);
/* Next token. Never fails; malformed input yields FY_QT_ERROR at the offending position. */
struct fy_qtoken fy_qlex_next(struct fy_qlexer *lx);

/* ---- AST ---- */

enum fy_qnode_kind { FY_QN_ALL, FY_QN_AND, FY_QN_OR, FY_QN_NOT, FY_QN_TERM };
enum fy_qop { FY_QO_EQ, FY_QO_EXISTS, FY_QO_RANGE };

/* One value as written: text is the decoded string (escapes resolved). glob is set when an
 * unescaped * or ? appears, and then pattern holds the GLOB form (lower-cased, metacharacters
 * other than the user's wildcards bracketed). open marks `*` as a range end. */
struct fy_qvalue {
    char *text;
    char *pattern;
    bool glob, quoted, open, numeric;
    double num;
};

struct fy_qnode {
    enum fy_qnode_kind kind;
    size_t pos;
    struct fy_qnode *l, *r; /* AND/OR: both; NOT: l */
    /* TERM */
    char *field; /* NULL for a bare term */
    enum fy_qop op;
    struct fy_qvalue v, hi; /* EQ: v; RANGE: v = low, hi = high */
    bool lo_incl, hi_incl;
};

/* Parses query[0..len) into a new AST (*out, fy_qnode_free). FY_ERR_INVALID_QUERY with the
 * position of the problem in em; FY_ERR_NOMEM. Enforces FY_INDEX_QUERY_MAX, FY_INDEX_DEPTH_MAX
 * and FY_INDEX_TERMS_MAX. */
FY_NODISCARD fy_err fy_qparse(const char *query,
                              size_t len,
                              struct fy_qnode **out,
                              struct fy_errmsg *em);

void fy_qnode_free(struct fy_qnode *n);

/* Decodes a WORD/PHRASE token into v (owned strings). FY_ERR_NOMEM only. */
FY_NODISCARD fy_err fy_qvalue_from(const struct fy_qtoken *t, struct fy_qvalue *v);
void fy_qvalue_clear(struct fy_qvalue *v);

/* True when s is a JSON number literal (the AWS typing rule); *out gets its value. */
bool fy_qnumber(const char *s, double *out);

/* ---- fields ---- */

enum fy_qfield_kind {
    FY_QF_THING_NAME,
    FY_QF_THING_ID,
    FY_QF_THING_TYPE,
    FY_QF_GROUP_NAMES,
    FY_QF_ATTRIBUTE,
    FY_QF_SHADOW_VALUE,
    FY_QF_SHADOW_HAS_DELTA,
    FY_QF_SHADOW_VERSION,
    FY_QF_CONN_CONNECTED,
    FY_QF_CONN_TIMESTAMP,
    FY_QF_CONN_REASON,
    FY_QF_CONN_VERSION,
    FY_QF_REG_VERSION,
    FY_QF_TG_NAME,
    FY_QF_TG_ID,
    FY_QF_TG_DESCRIPTION,
    FY_QF_TG_ATTRIBUTE,
    FY_QF_TG_PARENTS,
};

/* A resolved field. key: attribute key; shadow: name ("" classic) and JSON path "$.state.X.a.b"
 * (owned). */
struct fy_qfield {
    enum fy_qfield_kind kind;
    char *key;
    char *shadow;
    char *path;
};

/* Resolves a field name of index kind against the whitelist and the indexing configuration
 * (cfg may be NULL: everything enabled). Unknown or malformed field -> FY_ERR_INVALID_QUERY;
 * a field the configuration does not index -> FY_ERR_INVALID_QUERY saying so. */
FY_NODISCARD fy_err fy_qfield_resolve(const char *name,
                                      enum fy_index_kind kind,
                                      const struct fy_index_config *cfg,
                                      struct fy_qfield *out,
                                      struct fy_errmsg *em);
void fy_qfield_clear(struct fy_qfield *f);

#endif
