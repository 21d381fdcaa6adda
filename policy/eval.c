/* Evaluation: explicit deny wins, then any allow, else implicit deny. */
#include <ctype.h>
#include <string.h>

#include "policy/policy_int.h"

#define ACTION_MAX 128

/* Lower-case copy of the requested action (actions are compiled lower-case). */
static bool lower_action(const char *a, char out[ACTION_MAX], size_t *len)
{
    size_t n = strlen(a);
    *len = n;
    if (n >= ACTION_MAX) {
        return false;
    }
    for (size_t i = 0; i <= n; i++) {
        out[i] = (char)tolower((unsigned char)a[i]);
    }
    return true;
}

/* The patterns of an Action/NotAction or Resource/NotResource element. */
struct list {
    const struct pattern *pats;
    size_t n;
    bool negated;
};

/* Action/Resource: one pattern must match. NotAction/NotResource: none may, and none may have a
 * variable that does not resolve (that leaves the statement unmatched, as AWS does). */
static bool
list_applies(struct list l, const char *s, size_t len, const struct fy_policy_request *req)
{
    bool unresolved = false;
    for (size_t i = 0; i < l.n; i++) {
        enum pattern_result r = pattern_match(&l.pats[i], req, s, len, l.negated);
        if (r == PR_MATCH) {
            return !l.negated;
        }
        unresolved = unresolved || r == PR_UNRESOLVED;
    }
    return l.negated && !unresolved;
}

static bool statement_applies(const struct stmt *st,
                              const char *action,
                              size_t action_len,
                              const struct fy_policy_request *req,
                              size_t resource_len)
{
    struct list actions = {st->actions, st->nactions, st->not_action};
    struct list resources = {st->resources, st->nresources, st->not_resource};
    if (!list_applies(actions, action, action_len, req) ||
        !list_applies(resources, req->resource, resource_len, req)) {
        return false;
    }
    for (size_t i = 0; i < st->nconds; i++) {
        if (!cond_holds(&st->conds[i], req)) {
            return false;
        }
    }
    return true;
}

enum fy_policy_decision fy_policy_eval(const struct fy_policy *const *set,
                                       size_t n,
                                       const struct fy_policy_request *req,
                                       struct fy_policy_why *why)
{
    char action[ACTION_MAX];
    uint64_t allowed = 0, denied = 0;
    size_t action_len = 0, resource_len = 0;
    if (n > FY_POLICY_SET_MAX || !req->action || !req->resource ||
        !lower_action(req->action, action, &action_len)) {
        return FY_POLICY_IMPLICIT_DENY;
    }
    resource_len = strlen(req->resource);
    for (size_t i = 0; i < n; i++) {
        const struct fy_policy *p = set[i];
        for (size_t s = 0; p && s < p->nstmts; s++) {
            const struct stmt *st = &p->stmts[s];
            uint64_t bit = (uint64_t)1 << i;
            /* Skip what cannot change the answer: a second hit of the same effect in this
             * policy, or (when nobody asks why) any Allow once something allowed. */
            bool known = ((st->deny ? denied : allowed) & bit) || (!why && !st->deny && allowed);
            if (known || !statement_applies(st, action, action_len, req, resource_len)) {
                continue;
            }
            if (st->deny) {
                denied |= bit;
            } else {
                allowed |= bit;
            }
        }
        if (denied && !why) {
            break;
        }
    }
    if (why) {
        why->allowed = allowed;
        why->denied = denied;
    }
    return denied ? FY_POLICY_EXPLICIT_DENY : allowed ? FY_POLICY_ALLOWED : FY_POLICY_IMPLICIT_DENY;
}

const char *fy_policy_decision_name(enum fy_policy_decision d)
{
    switch (d) {
    case FY_POLICY_ALLOWED:
        return "ALLOWED";
    case FY_POLICY_EXPLICIT_DENY:
        return "EXPLICIT_DENY";
    case FY_POLICY_IMPLICIT_DENY:
        break;
    }
    return "IMPLICIT_DENY";
}
