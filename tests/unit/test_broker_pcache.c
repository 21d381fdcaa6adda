/* Broker plugin: compiled policies shared between connections (broker_plugin/pcache.c). */
#include "broker_plugin/pcache.c"
#include "core/json.h"
#include "tests/unit/tap.h"

static const char DOC_A[] = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
                            "\"Action\":\"iot:Connect\",\"Resource\":\"*\"}]}";
static const char DOC_B[] = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Deny\","
                            "\"Action\":\"iot:Connect\",\"Resource\":\"*\"}]}";

int main(void)
{
    struct fy_pcache c;
    struct fy_errmsg em;
    struct fy_pcache_entry *a1 = NULL, *a2 = NULL, *b = NULL, *bad = NULL;
    memset(&c, 0, sizeof(c));
    fy_json_init();
    ok(fy_pcache_get(&c, DOC_A, &a1, &em) == FY_ERR_OK && c.count == 1, "first use compiles");
    ok(fy_pcache_get(&c, DOC_A, &a2, &em) == FY_ERR_OK && a2 == a1 && c.count == 1 && a1->refs == 2,
       "the same document shares the entry");
    ok(fy_pcache_policy(a1) == fy_pcache_policy(a2), "one compiled policy");
    ok(fy_pcache_get(&c, DOC_B, &b, &em) == FY_ERR_OK && b != a1 && c.count == 2,
       "another document, another entry");
    ok(fy_pcache_get(&c, "{\"Statement\":", &bad, &em) == FY_ERR_MALFORMED_POLICY && !bad &&
           c.count == 2,
       "a malformed document is refused and not cached: %s", em.msg);
    fy_pcache_put(&c, a1);
    ok(c.count == 2 && a2->refs == 1, "a reference dropped keeps the entry");
    fy_pcache_put(&c, a2);
    ok(c.count == 1, "the last reference frees it");
    fy_pcache_put(&c, b);
    fy_pcache_put(&c, NULL);
    ok(c.count == 0, "empty again (NULL is a no-op)");
    for (size_t i = 0; i < FY_PCACHE_BUCKETS; i++) {
        if (c.buckets[i]) {
            ok(0, "bucket %zu not empty", i);
        }
    }
    return done();
}
