/* fleetyard policy internals: the compiled form shared by compile.c, match.c, cond.c, eval.c. */
#ifndef FY_POLICY_INT_H
#define FY_POLICY_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "policy/policy.h"

/* One piece of a pattern: literal text, a wildcard, or a variable to substitute. */
enum tok_kind { TOK_LIT, TOK_STAR, TOK_QMARK, TOK_VAR };

struct tok {
    enum tok_kind kind;
    const char *s; /* LIT text / VAR name (NUL-terminated, owned by the policy) */
    size_t len;
    bool cert; /* VAR: an iot:Certificate.* value (not substituted when it holds `*$+?#`) */
};

/* A compiled Action, Resource or condition value. A pattern without variables is also kept
 * pre-expanded (items), so evaluation only matches it. */
struct pattern {
    struct tok *toks;
    size_t ntoks;
    short *items; /* NULL when the pattern has variables */
    size_t nitems;
};

/* Condition operators, by family; negated ones invert the per-value result. */
enum cond_family {
    CF_STRING,
    CF_STRING_CI,
    CF_STRING_LIKE,
    CF_NUMERIC,
    CF_DATE,
    CF_BOOL,
    CF_IP,
    CF_ARN,
    CF_NULL,
    CF_BINARY
};
enum cond_cmp { CMP_EQ, CMP_LT, CMP_LE, CMP_GT, CMP_GE };
enum cond_qual { Q_NONE, Q_ANY, Q_ALL };

struct cond {
    enum cond_family family;
    enum cond_cmp cmp;
    enum cond_qual qual;
    bool negated;
    bool if_exists;
    const char *key; /* owned */
    struct pattern *values;
    size_t nvalues;
};

struct stmt {
    bool deny;
    bool not_action;
    bool not_resource;
    struct pattern *actions; /* lower-cased at compile time */
    size_t nactions;
    struct pattern *resources;
    size_t nresources;
    struct cond *conds;
    size_t nconds;
};

struct fy_policy {
    struct stmt *stmts;
    size_t nstmts;
    void **allocs; /* everything the compiled form owns, freed together */
    size_t nallocs, cap;
};

/* Allocates zeroed memory owned by p; NULL on OOM. */
void *pol_alloc(struct fy_policy *p, size_t n);

/* Compiles text into a pattern (variables kept as TOK_VAR, their names canonicalised).
 * lower: fold literal text to lower case (actions). FY_ERR_MALFORMED_POLICY for an unterminated
 * or empty `${}` or a pattern longer than FY_POLICY_EXPAND_MAX; FY_ERR_NOMEM. */
FY_NODISCARD fy_err pattern_compile(
    struct fy_policy *p, const char *text, bool lower, struct pattern *out, struct fy_errmsg *em);

/* Rewrites a context key or variable name in place to its canonical spelling when it names a
 * known key case-insensitively (AWS context key names are not case-sensitive): "IOT:clientid"
 * -> "iot:ClientId". Attribute names inside `[...]` keep their case; unknown names are kept. */
void key_canonicalize(char *name);

/* Expands pat for req into a flat item array (0..255 literal bytes, ITEM_STAR, ITEM_QMARK) in
 * buf[0..max), or points *items at the pre-expanded form; returns the item count, or -1 when a
 * variable does not resolve (absent, unsubstitutable value, or the result is too long). */
#define ITEM_STAR  256
#define ITEM_QMARK 257
long pattern_expand(const struct pattern *pat,
                    const struct fy_policy_request *req,
                    short *buf,
                    size_t max,
                    const short **items);

/* Matches pat, with its variables substituted for req, against s[0..len) (IAM wildcards,
 * case-sensitive). Variable-free patterns and the anchored head and tail of the others are
 * checked without building the expansion. PR_UNRESOLVED when a variable the answer needed does
 * not resolve; strict: when any variable of pat does not resolve, whatever the literal text
 * says (NotAction/NotResource, where a mismatch grants). */
enum pattern_result { PR_NONE, PR_MATCH, PR_UNRESOLVED };
enum pattern_result pattern_match(const struct pattern *pat,
                                  const struct fy_policy_request *req,
                                  const char *s,
                                  size_t len,
                                  bool strict);

/* IAM wildcard match of expanded items against s[0..len), case-sensitive. */
bool items_match(const short *items, size_t n, const char *s, size_t len);

/* Text of expanded items with wildcards as plain characters, into buf (NUL-terminated);
 * false when it does not fit. */
bool items_text(const short *items, size_t n, char *buf, size_t cap);

/* Whether the condition holds for req. A condition that depends on an unresolved variable in a
 * negated operator does not hold (the statement stays unmatched). */
bool cond_holds(const struct cond *c, const struct fy_policy_request *req);

/* Parses a condition operator name ("ForAnyValue:StringLikeIfExists") into c; false when
 * unknown. */
bool cond_parse_operator(const char *name, struct cond *c);

#endif
