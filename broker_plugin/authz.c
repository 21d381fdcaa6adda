/* fleetyard broker plugin: what one connection may do.
 *
 * At CONNECT the connection's effective policies (the certificate's, and those of the static
 * groups of its associated thing; fy_policy_effective) are compiled once and kept with the
 * connection's identity (registry/identity.h), which answers the policy variables at each
 * evaluation, exactly as TestAuthorization does. aws:SourceIp and iot:ConnectAttributes come
 * from the connection itself.
 */
#include <stdbool.h>
#include <string.h>

#include "broker_plugin/plugin_int.h"
#include "core/alloc.h"
#include "pki/pki.h"
#include "policy/policy.h"
#include "registry/identity.h"
#include "registry/policies.h"

struct fy_authz {
    struct fy_identity id; /* policy variables */
    char *source_ip;       /* owned */
    bool persistent;
    struct fy_pcache *cache; /* where the entries' references go back */
    size_t n;
    const struct fy_policy **set;  /* n compiled policies, borrowed from ent[] */
    struct fy_pcache_entry *ent[]; /* n references into the shared cache */
};

/* Policies being collected by fy_policy_effective's callback. */
struct collect {
    struct fy_pcache *cache;
    struct fy_pcache_entry *ent[FY_POLICY_SET_MAX];
    size_t n;
    bool cert_vars; /* a document mentions iot:Certificate.* */
    struct fy_errmsg *em;
};

static fy_err collect_one(void *ctx, const struct fy_policy_row *r)
{
    struct collect *c = ctx;
    if (c->n == FY_POLICY_SET_MAX) {
        return fy_fail(c->em, FY_ERR_LIMIT_EXCEEDED, "more than %d policies apply",
                       FY_POLICY_SET_MAX);
    }
    fy_err e = fy_pcache_get(c->cache, r->document, &c->ent[c->n], c->em);
    if (e) {
        return e;
    }
    c->n++;
    c->cert_vars = c->cert_vars || strstr(r->document, "iot:Certificate.") != NULL;
    return FY_ERR_OK;
}

static size_t one(const char *v, const char **out, size_t max)
{
    if (!v || max == 0) {
        return 0;
    }
    out[0] = v;
    return 1;
}

/* fy_policy_lookup_fn: the connection's own keys, then the identity's variables. */
static size_t lookup(void *ctx, const char *name, const char **out, size_t max)
{
    struct fy_authz *a = ctx;
    if (strcmp(name, "aws:SourceIp") == 0) {
        return one(a->source_ip, out, max);
    }
    if (strcmp(name, "iot:ConnectAttributes") == 0) {
        return one(a->persistent ? "PersistentConnect" : NULL, out, max);
    }
    return fy_identity_lookup(&a->id, name, out, max);
}

/* Moves the collected policies and the identity into a new *out. */
static fy_err assemble(struct collect *c,
                       struct fy_identity *id,
                       const struct fy_authz_subject *who,
                       struct fy_authz **out,
                       struct fy_errmsg *em)
{
    size_t n = c->n;
    struct fy_authz *a = fy_calloc(1, sizeof(*a) + n * (sizeof(a->ent[0]) + sizeof(a->set[0])));
    char *ip = fy_strdup(who->source_ip ? who->source_ip : "");
    if (!a || !ip) {
        fy_free(a);
        fy_free(ip);
        return fy_fail(em, FY_ERR_NOMEM, "out of memory");
    }
    a->id = *id;
    memset(id, 0, sizeof(*id));
    a->source_ip = ip;
    a->persistent = who->persistent;
    a->cache = c->cache;
    a->n = n;
    a->set = (const struct fy_policy **)(void *)&a->ent[n];
    for (size_t i = 0; i < n; i++) {
        a->ent[i] = c->ent[i];
        a->set[i] = fy_pcache_policy(c->ent[i]);
    }
    c->n = 0;
    *out = a;
    return FY_ERR_OK;
}

fy_err fy_authz_load(struct fy_plugin *p,
                     const struct fy_authz_subject *who,
                     struct fy_authz **out,
                     struct fy_errmsg *em)
{
    struct fy_identity id;
    struct collect c;
    memset(&c, 0, sizeof(c));
    c.cache = &p->pcache;
    c.em = em;
    fy_err e = fy_identity_load(p->db, &p->site, who->cert_id, who->client_id, &id, em);
    if (!e) {
        e = fy_policy_effective(p->db, &p->site, id.cert_arn, id.attached ? id.thing : NULL,
                                collect_one, &c, em);
    }
    if (!e && c.cert_vars) { /* parse the certificate only when a document reads it */
        e = fy_identity_load_cert(p->db, &id, em);
    }
    if (!e) {
        e = assemble(&c, &id, who, out, em);
    }
    for (size_t i = 0; i < c.n; i++) {
        fy_pcache_put(c.cache, c.ent[i]);
    }
    fy_identity_clear(&id);
    return e;
}

bool fy_authz_allows(const struct fy_authz *a, const char *action, const char *resource)
{
    struct fy_policy_request req = {action, resource, lookup, (void *)a};
    return a && fy_policy_eval(a->set, a->n, &req, NULL) == FY_POLICY_ALLOWED;
}

void fy_authz_free(struct fy_authz *a)
{
    if (a) {
        for (size_t i = 0; i < a->n; i++) {
            fy_pcache_put(a->cache, a->ent[i]);
        }
        fy_identity_clear(&a->id);
        fy_free(a->source_ip);
        fy_free(a);
    }
}

fy_err fy_authz_reload(struct fy_plugin *p,
                       const struct fy_authz *old,
                       const char *cert_id,
                       const char *client_id,
                       struct fy_authz **out,
                       struct fy_errmsg *em)
{
    struct fy_authz_subject who = {cert_id, client_id, old ? old->source_ip : "",
                                   old ? old->persistent : false};
    return fy_authz_load(p, &who, out, em);
}
