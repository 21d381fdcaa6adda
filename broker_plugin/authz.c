/* fleetyard broker plugin: what one connection may do.
 *
 * TEMPORARY (until policy/ lands): every authenticated connection may do everything except
 * publish on reserved response topics (acl.c). fy_authz_load will load the effective policies
 * (fy_policy_effective), compile them once with the connection's variables and
 * fy_authz_allows will evaluate them.
 */
#include <stdbool.h>

#include "broker_plugin/plugin_int.h"
#include "core/alloc.h"

struct fy_authz {
    bool allow_all; /* TEMPORARY: no policy engine yet */
};

fy_err fy_authz_load(struct fy_plugin *p,
                     const struct fy_authz_subject *who,
                     struct fy_authz **out,
                     struct fy_errmsg *em)
{
    (void)p;
    (void)who;
    struct fy_authz *a = fy_calloc(1, sizeof(*a));
    if (!a) {
        return fy_fail(em, FY_ERR_NOMEM, "out of memory");
    }
    a->allow_all = true;
    *out = a;
    return FY_ERR_OK;
}

bool fy_authz_allows(const struct fy_authz *a, const char *action, const char *resource)
{
    (void)action;
    (void)resource;
    return a && a->allow_all;
}

void fy_authz_free(struct fy_authz *a)
{
    fy_free(a);
}
