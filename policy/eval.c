/* Evaluation: explicit deny wins, then any allow, else implicit deny. */
#include <ctype.h>
#include <string.h>

#include "policy/policy_int.h"

#define ACTION_MAX 128

/* Lower-case copy of the requested action (actions are compiled lower-case). */
static bool lower_action(const char *a, char out[ACTION_MAX])
{
    size_t n = strlen(a);
    if (n >= ACTION_MAX) {
        return false;
    }
    for (size_t i = 0; i <= n; i++) {
        out[i] = (char)tolower((unsigned char)a[i]);
    }
    return true;
}

static bool any_pattern(const struct pattern *pats,
                        size_t n,
                        const char *s,
                        const struct fy_policy_request *req)
{
    short items[FY_POLICY_EXPAND_MAX];
    for (size_t i = 0; i < n; i++) {
        long k = pattern_expand(&pats[i], req, items, FY_POLICY_EXPAND_MAX);
        if (k >= 0 && items_match(items, (size_t)k, s, false)) {
            return true;
        }
    }
    return false;
}

static bool
statement_applies(const struct stmt *st, const char *action, const struct fy_policy_request *req)
{
    if (any_pattern(st->actions, st->nactions, action, req) == st->not_action) {
        return false;
    }
    if (any_pattern(st->resources, st->nresources, req->resource, req) == st->not_resource) {
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
    if (n > FY_POLICY_SET_MAX || !req->action || !req->resource ||
        !lower_action(req->action, action)) {
        return FY_POLICY_IMPLICIT_DENY;
    }
    for (size_t i = 0; i < n; i++) {
        const struct fy_policy *p = set[i];
        for (size_t s = 0; p && s < p->nstmts; s++) {
            const struct stmt *st = &p->stmts[s];
            uint64_t bit = (uint64_t)1 << i;
            if (((st->deny ? denied : allowed) & bit) || !statement_applies(st, action, req)) {
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
