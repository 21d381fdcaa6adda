/* fleetyard policy: AWS IoT policy documents, compiled once and evaluated many times.
 *
 * fy_policy_compile() parses and validates a document (Version, Statement, Effect,
 * Action/NotAction, Resource/NotResource, Condition) and returns an immutable compiled form.
 * fy_policy_eval() decides a request (action, resource ARN, context) against a set of compiled
 * policies with AWS's rules: implicit deny by default, any matching Deny wins, otherwise any
 * matching Allow allows. `*` and `?` are IAM wildcards in actions (case-insensitive) and
 * resources (case-sensitive, `*` crosses `/`); MQTT `+` and `#` are literal characters. Policy
 * variables `${name}` are resolved through the context callback; an unresolved variable, or a
 * value longer than FY_POLICY_VAR_VALUE_MAX or containing one of `*$+?#`, leaves the statement
 * unmatched. `${*}`, `${?}` and `${$}` stand for the literal characters.
 *
 * Pure code: no I/O, no global state. A compiled policy may be shared by threads; evaluation
 * allocates nothing.
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
 * "iot:Connection.Thing.Attributes[fw]", "aws:SourceIp",
 * "iot:Certificate.Subject.CommonName.List"). Fills out[0..max) with borrowed strings valid until
 * fy_policy_eval returns and returns their count; 0 means the key is absent. */
typedef size_t (*fy_policy_lookup_fn)(void *ctx, const char *name, const char **out, size_t max);

struct fy_policy_request {
    const char *action;   /* "iot:Publish" */
    const char *resource; /* full ARN */
    fy_policy_lookup_fn lookup;
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

/* Parses and validates len bytes of document text into *out (owned; fy_policy_free).
 * Anything malformed -> FY_ERR_MALFORMED_POLICY with a message naming the problem; FY_ERR_NOMEM. */
FY_NODISCARD fy_err fy_policy_compile(const char *doc,
                                      size_t len,
                                      struct fy_policy **out,
                                      struct fy_errmsg *em);

/* Releases a compiled policy (NULL is a no-op). */
void fy_policy_free(struct fy_policy *p);

/* Evaluates req against set[0..n) (n <= FY_POLICY_SET_MAX; NULL entries are skipped). why may be
 * NULL. Thread-safe, allocation-free. */
enum fy_policy_decision fy_policy_eval(const struct fy_policy *const *set,
                                       size_t n,
                                       const struct fy_policy_request *req,
                                       struct fy_policy_why *why);

/* AWS's name of a decision: "ALLOWED", "EXPLICIT_DENY", "IMPLICIT_DENY". */
const char *fy_policy_decision_name(enum fy_policy_decision d);

#endif
