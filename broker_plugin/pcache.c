/* fleetyard broker plugin: compiled policies shared between connections.
 *
 * A compiled policy does not depend on the connection (variables are resolved at evaluation),
 * so every connection whose policies have the same document text shares one compiled copy,
 * counted by references. A fleet whose devices share one policy thus holds it once instead of
 * once per connection (about 1.7 KB each for the walkthrough's device policy), and CONNECT
 * compiles nothing once the document has been seen. An entry goes when its last connection
 * does. Broker thread only.
 */
#include <string.h>

#include "broker_plugin/plugin_int.h"
#include "core/alloc.h"
#include "policy/policy.h"

struct fy_pcache_entry {
    struct fy_pcache_entry *next;
    uint32_t hash;
    size_t refs;
    char *doc;
    struct fy_policy *pol;
};

/* FNV-1a of the document text. */
static uint32_t hash_of(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++) {
        h = (h ^ (uint8_t)*s) * 16777619u;
    }
    return h;
}

fy_err fy_pcache_get(struct fy_pcache *c,
                     const char *doc,
                     struct fy_pcache_entry **out,
                     struct fy_errmsg *em)
{
    uint32_t h = hash_of(doc);
    struct fy_pcache_entry **head = &c->buckets[h % FY_PCACHE_BUCKETS];
    for (struct fy_pcache_entry *e = *head; e; e = e->next) {
        if (e->hash == h && strcmp(e->doc, doc) == 0) {
            e->refs++;
            *out = e;
            return FY_ERR_OK;
        }
    }
    struct fy_pcache_entry *e = fy_calloc(1, sizeof(*e));
    if (!e || !(e->doc = fy_strdup(doc))) {
        fy_free(e);
        return fy_fail(em, FY_ERR_NOMEM, "out of memory");
    }
    fy_err err = fy_policy_compile(doc, strlen(doc), &e->pol, em);
    if (err) {
        fy_free(e->doc);
        fy_free(e);
        return err;
    }
    e->hash = h;
    e->refs = 1;
    e->next = *head;
    *head = e;
    c->count++;
    *out = e;
    return FY_ERR_OK;
}

const struct fy_policy *fy_pcache_policy(const struct fy_pcache_entry *e)
{
    return e->pol;
}

void fy_pcache_put(struct fy_pcache *c, struct fy_pcache_entry *e)
{
    if (!e || --e->refs > 0) {
        return;
    }
    for (struct fy_pcache_entry **pp = &c->buckets[e->hash % FY_PCACHE_BUCKETS]; *pp;
         pp = &(*pp)->next) {
        if (*pp == e) {
            *pp = e->next;
            break;
        }
    }
    c->count--;
    fy_policy_free(e->pol);
    fy_free(e->doc);
    fy_free(e);
}
