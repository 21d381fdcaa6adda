/* fleetyard policy: AWS IoT policy documents, compiled once and evaluated many times.
 *
 * fy_policy_compile() parses and validates a document (Version, Statement, Effect,
 * Action/NotAction, Resource/NotResource, Sid, Condition) and returns an immutable compiled form
 * in which every Action, Resource and condition value is pre-split into literal, wildcard and
 * variable tokens. fy_policy_eval() decides a request (action, resource ARN, context) against a
 * set of compiled policies with AWS's rules: implicit deny by default, any matching Deny wins,
 * otherwise any matching Allow allows.
 *
 * Matching: `*` and `?` are IAM wildcards in actions (case-insensitive) and resources
 * (case-sensitive, `*` crosses `/`); MQTT `+` and `#` are literal characters. ArnLike/ArnEquals
 * match each of an ARN's six colon-separated parts on its own. Context key and variable names
 * are case-insensitive (known names are canonicalised at compile time, so lookups see e.g.
 * "iot:ClientId" whatever the document wrote); attribute names in `[...]` keep their case.
 *
 * Variables `${name}` are resolved through the request's lookup callback; values are literal
 * text (a `*` in a client id is no wildcard). A variable that does not resolve (absent, longer
 * than FY_POLICY_VAR_VALUE_MAX, or an iot:Certificate.* value containing one of `*$+?#`)
 * leaves the statement unmatched: its pattern matches nothing, a NotAction/NotResource or a
 * negated condition operator that uses it does not hold. `${*}`, `${?}` and `${$}` stand for
 * the literal characters. Condition values may be JSON strings, numbers or booleans.
 *
 * Pure code: no I/O, no global state. A compiled policy may be shared by threads; evaluation
 * allocates nothing (stack buffers only).
 */
#ifndef FY_POLICY_POLICY_H
#define FY_POLICY_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define FY_POLICY_DOC_MAX_CHARS 2048     /* AWS quota: characters excluding whitespace */
#define FY_POLICY_DOC_MAX_BYTES (404600) /* the API field's own limit, checked first */
#define FY_POLICY_VAR_VALUE_MAX 1024     /* longer values are not substituted */
#define FY_POLICY_MAX_VALUES    16       /* values of one multi-valued context key */
#define FY_POLICY_EXPAND_MAX    4096     /* a pattern after variable substitution */
#define FY_POLICY_SET_MAX       64       /* policies in one evaluation (why-bitmask width) */

struct fy_policy;

/* Context callback: the values of variable or condition key `name` (e.g. "iot:ClientId",
 * "iot:Connection.Thing.ThingName", "iot:Connection.Thing.Attributes[fw]", "aws:SourceIp",
 * "iot:Certificate.Subject.CommonName", its ".1" (second value) and ".List" (all values)).
 * Fills out[0..max) with borrowed NUL-terminated strings valid until fy_policy_eval returns and
 * returns their count; 0 means the key is absent. Called on the evaluating thread; must not
 * allocate if the caller wants allocation-free evaluation. */
typedef size_t (*fy_policy_lookup_fn)(void *ctx, const char *name, const char **out, size_t max);

/* One authorization question. All pointers are borrowed for the duration of the call. */
struct fy_policy_request {
    const char *action;         /* "iot:Publish" (any case) */
    const char *resource;       /* full ARN, e.g. "arn:aws:iot:us-east-1:123456789012:topic/a/b" */
    fy_policy_lookup_fn lookup; /* NULL: no context (every variable is unresolved) */
    void *lookup_ctx;
};

enum fy_policy_decision {
    FY_POLICY_IMPLICIT_DENY = 0,
    FY_POLICY_ALLOWED,
    FY_POLICY_EXPLICIT_DENY,
};

/* Which policies of the set decided: bit i = set[i] (for TestAuthorization). */
struct fy_policy_why {
    uint64_t allowed;
    uint64_t denied;
};

/* Parses and validates len bytes of document text (need not be NUL-terminated) into *out
 * (owned by the caller; release with fy_policy_free). *out is NULL on failure. Errors:
 * FY_ERR_MALFORMED_POLICY with a message in em naming the problem (invalid JSON, more than
 * FY_POLICY_DOC_MAX_CHARS characters excluding whitespace, unknown element, bad Version or
 * Effect, missing or doubled Action/NotAction or Resource/NotResource, non-string entries,
 * unknown condition operator, unterminated `${`); FY_ERR_NOMEM. em may be NULL. Thread-safe. */
FY_NODISCARD fy_err fy_policy_compile(const char *doc,
                                      size_t len,
                                      struct fy_policy **out,
                                      struct fy_errmsg *em);

/* Releases a compiled policy (NULL is a no-op). */
void fy_policy_free(struct fy_policy *p);

/* Evaluates req against set[0..n) (n <= FY_POLICY_SET_MAX, else IMPLICIT_DENY; NULL entries
 * are skipped): EXPLICIT_DENY when any statement of any policy denies, else ALLOWED when one
 * allows, else IMPLICIT_DENY. why (may be NULL) receives every allowing and denying policy;
 * without it evaluation stops at the first deny. Thread-safe, allocation-free, cannot fail. */
enum fy_policy_decision fy_policy_eval(const struct fy_policy *const *set,
                                       size_t n,
                                       const struct fy_policy_request *req,
                                       struct fy_policy_why *why);

/* AWS's name of a decision: "ALLOWED", "EXPLICIT_DENY", "IMPLICIT_DENY". */
const char *fy_policy_decision_name(enum fy_policy_decision d);

#endif
