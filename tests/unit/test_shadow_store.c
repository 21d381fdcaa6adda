/* Shadow storage on a temp SQLite database with the migrations applied: create, read back,
 * version counting across a delete, named shadows and their listing, and that injected
 * allocation failures leave the stored shadow unchanged. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/db.h"
#include "core/json.h"
#include "core/log.h"
#include "shadow/shadow.h"
#include "tests/unit/tap.h"

static fy_err upd(struct fy_db *db, const char *thing, const char *name, const char *req)
{
    struct fy_shadow_update u;
    struct fy_errmsg em;
    fy_err e = fy_shadow_update(db, thing, name, req, strlen(req), &u, &em);
    fy_shadow_update_clear(&u);
    return e;
}

/* The stored version of a live shadow, -1 when absent. */
static json_int_t version_of(struct fy_db *db, const char *thing, const char *name)
{
    struct fy_errmsg em;
    char *doc = NULL;
    if (fy_shadow_get(db, thing, name, &doc, &em) != FY_ERR_OK) {
        return -1;
    }
    json_t *j = json_loads(doc, 0, NULL);
    json_int_t v = json_integer_value(json_object_get(j, "version"));
    json_decref(j);
    fy_free(doc);
    return v;
}

static void test_lifecycle(struct fy_db *db)
{
    struct fy_errmsg em;
    char *out = NULL;
    ok(fy_shadow_get(db, "t1", NULL, &out, &em) == FY_ERR_NOT_FOUND &&
           strcmp(em.msg, "No shadow exists with name: 't1'") == 0,
       "missing classic shadow: %s", em.msg);
    ok(upd(db, "t1", NULL, "{\"state\":{\"desired\":{\"a\":1}}}") == FY_ERR_OK &&
           version_of(db, "t1", NULL) == 1,
       "created at version 1");
    ok(upd(db, "t1", "", "{\"state\":{\"desired\":{\"a\":2}},\"version\":1}") == FY_ERR_OK &&
           version_of(db, "t1", NULL) == 2,
       "\"\" is the classic shadow; version 2");
    ok(upd(db, "t1", NULL, "{\"state\":{},\"version\":1}") == FY_ERR_CONFLICT &&
           version_of(db, "t1", NULL) == 2,
       "conflict changes nothing");
    ok(fy_shadow_delete(db, "t1", NULL, &out, &em) == FY_ERR_OK && strstr(out, "\"version\":2"),
       "delete answers the version: %s", out ? out : "(null)");
    fy_free(out);
    ok(version_of(db, "t1", NULL) == -1, "deleted shadow is gone");
    ok(fy_shadow_delete(db, "t1", NULL, &out, &em) == FY_ERR_NOT_FOUND, "second delete: 404");
    ok(upd(db, "t1", NULL, "{\"state\":{\"reported\":{\"b\":1}}}") == FY_ERR_OK &&
           version_of(db, "t1", NULL) == 3,
       "re-created shadow continues at version 3");
    ok(fy_shadow_get(db, "t1", "s1", &out, &em) == FY_ERR_NOT_FOUND &&
           strcmp(em.msg, "No shadow exists with name: 's1'") == 0,
       "missing named shadow names the shadow");
}

static void test_list(struct fy_db *db)
{
    static const char *const NAMES[] = {"c", "a", "b", "$x"};
    struct fy_errmsg em;
    char *next = NULL;
    for (size_t i = 0; i < 4; i++) {
        fy_err e = upd(db, "t2", NAMES[i], "{\"state\":{\"reported\":{\"a\":1}}}");
        ok(e == FY_ERR_OK, "named shadow %s", NAMES[i]);
    }
    ok(upd(db, "t2", NULL, "{\"state\":{}}") == FY_ERR_OK, "classic shadow of t2");
    json_t *j = json_array();
    ok(fy_shadow_list_named(db, "t2", NULL, 3, j, &next, &em) == FY_ERR_OK && next &&
           strcmp(next, "b") == 0 && json_array_size(j) == 3,
       "first page of 3, next after b");
    char *after = next;
    ok(fy_shadow_list_named(db, "t2", after, 3, j, &next, &em) == FY_ERR_OK && !next &&
           json_array_size(j) == 4,
       "second page ends the list");
    fy_free(after);
    char *s = fy_json_dump(j);
    ok(s && strcmp(s, "[\"$x\",\"a\",\"b\",\"c\"]") == 0, "names in order, no classic: %s", s);
    fy_free(s);
    json_decref(j);
}

static void test_alloc_failures(struct fy_db *db)
{
    const char *req =
        "{\"state\":{\"desired\":{\"o\":{\"x\":[1,2]},\"n\":2}},\"clientToken\":\"c\"}";
    int clean = 1, n;
    fy_err e = FY_ERR_NOMEM;
    json_int_t before = version_of(db, "t1", NULL);
    for (n = 1; n < 500 && e != FY_ERR_OK; n++) {
        fy_alloc_fail_at((unsigned long)n);
        e = upd(db, "t1", NULL, req);
        fy_alloc_fail_at(0);
        if (e != FY_ERR_OK && version_of(db, "t1", NULL) != before) {
            clean = 0;
        }
    }
    ok(n > 2 && clean, "each of %d failed allocations left the shadow unchanged", n - 2);
    ok(e == FY_ERR_OK && version_of(db, "t1", NULL) == before + 1, "then the update went through");
}

/* fy_shadow_requests: one transaction for a batch, each request isolated and in order. */
static void test_batch(struct fy_db *db)
{
    static const char big_tail[] = "\"}}}";
    char big[FY_SHADOW_REQUEST_MAX + 64];
    int n = snprintf(big, sizeof(big), "{\"state\":{\"reported\":{\"x\":\"");
    memset(big + n, 'a', sizeof(big) - (size_t)n - sizeof(big_tail));
    memcpy(big + sizeof(big) - sizeof(big_tail), big_tail, sizeof(big_tail));
    struct fy_shadow_call c[] = {
        {{"b1", NULL, FY_SHADOW_OP_UPDATE, "{\"state\":{\"desired\":{\"p\":1}}}", 32, false}, {0}},
        {{"b1", NULL, FY_SHADOW_OP_UPDATE, "{\"state\":{\"reported\":{\"p\":1}},\"version\":9}", 45,
          false},
         {0}},
        {{"b1", NULL, FY_SHADOW_OP_UPDATE, big, strlen(big), false}, {0}},
        {{"b1", NULL, FY_SHADOW_OP_GET, "{\"clientToken\":\"g\"}", 19, false}, {0}},
        {{"b1", "n", FY_SHADOW_OP_DELETE, "", 0, false}, {0}},
        {{"b1", NULL, FY_SHADOW_OP_UPDATE, "{\"state\":{\"reported\":{\"p\":2}},\"version\":1}", 45,
          true},
         {0}},
    };
    size_t k = sizeof(c) / sizeof(c[0]);
    for (size_t i = 0; i < k; i++) {
        c[i].req.len = strlen(c[i].req.payload);
    }
    ok(fy_shadow_requests(db, c, k) == FY_ERR_OK, "a batch of %zu requests is answered", k);
    ok(c[0].result.accepted && strstr(c[0].result.payload, "\"version\":1"), "first update: v1");
    ok(!c[1].result.accepted && strstr(c[1].result.payload, "\"code\":409"),
       "version conflict rejected alone: %s", c[1].result.payload);
    ok(!c[2].result.accepted && strstr(c[2].result.payload, "\"code\":413"),
       "oversized update rejected alone");
    ok(c[3].result.accepted && strstr(c[3].result.payload, "\"desired\":{\"p\":1}") &&
           strstr(c[3].result.payload, "\"clientToken\":\"g\""),
       "a get sees the earlier update of its batch: %s", c[3].result.payload);
    ok(!c[4].result.accepted && strstr(c[4].result.payload, "\"code\":404"),
       "delete of a missing named shadow: 404");
    ok(c[5].result.accepted && strstr(c[5].result.payload, "\"version\":2") &&
           version_of(db, "b1", NULL) == 2,
       "the last update (expecting v1) committed as v2");
    ok(c[0].result.documents && !c[5].result.documents,
       "update/documents built unless the caller says it will not publish it");
    for (size_t i = 0; i < k; i++) {
        fy_shadow_result_clear(&c[i].result);
    }
}

int main(void)
{
    char path[] = "/tmp/fy-test-shadow-XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    struct fy_db *db;
    struct fy_errmsg em;
    fy_json_init();
    fy_log_threshold = FY_LOG_ERROR;
    if (!ok(fy_db_open(path, &db, &em) == FY_ERR_OK && fy_db_migrate(db, &em) == FY_ERR_OK,
            "open and migrate")) {
        return done();
    }
    test_lifecycle(db);
    test_list(db);
    test_alloc_failures(db);
    test_batch(db);
    fy_db_close(db);
    unlink(path);
    char side[64];
    snprintf(side, sizeof(side), "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof(side), "%s-shm", path);
    unlink(side);
    return done();
}
