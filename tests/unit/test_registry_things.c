/* Component test: things and thing types on a temporary SQLite database with the migrations
 * applied. Covers the AWS rules at the domain boundary, paging keys, and that an injected
 * allocation failure or a locked database changes nothing. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/db.h"
#include "core/json.h"
#include "core/log.h"
#include "registry/policies.h"
#include "registry/registry.h"
#include "tests/unit/tap.h"
#include "tests/unit/tempdb.h"

static const struct fy_site site = {"us-east-1", "123456789012"};

/* An attribute map {k0: v0, ...} with n entries (new reference). */
static json_t *attrs_n(int n)
{
    json_t *j = json_object();
    for (int i = 0; j && i < n; i++) {
        char k[16], v[16];
        snprintf(k, sizeof(k), "k%d", i);
        snprintf(v, sizeof(v), "v%d", i);
        json_object_set_new(j, k, json_string(v));
    }
    return j;
}

static fy_err create(struct fy_db *db, const char *name, const char *type, int nattrs)
{
    struct fy_errmsg em;
    struct fy_thing_created out;
    json_t *a = attrs_n(nattrs);
    struct fy_thing_spec spec = {name, type, a, NULL};
    fy_err e = fy_thing_create(db, &site, &spec, &out, &em);
    json_decref(a);
    return e;
}

/* Version of thing name, -1 when missing; *nattrs gets its attribute count. */
static int64_t version_of(struct fy_db *db, const char *name, size_t *nattrs)
{
    struct fy_errmsg em;
    struct fy_thing t;
    json_t *a = json_object();
    fy_err e = fy_thing_describe(db, name, &t, a, &em);
    if (nattrs) {
        *nattrs = json_object_size(a);
    }
    json_decref(a);
    return e ? -1 : t.version;
}

static void test_create(struct fy_db *db)
{
    struct fy_errmsg em;
    struct fy_thing_created a, b;
    json_t *j = attrs_n(1);
    struct fy_thing_spec spec = {"t1", NULL, j, NULL};
    ok(fy_thing_create(db, &site, &spec, &a, &em) == FY_ERR_OK, "create t1");
    ok(strlen(a.thing_id) == FY_UUID_LEN && a.thing_id[14] == '4', "thingId is a UUID v4");
    ok(strcmp(a.arn, "arn:aws:iot:us-east-1:123456789012:thing/t1") == 0, "thing ARN");
    ok(fy_thing_create(db, &site, &spec, &b, &em) == FY_ERR_OK &&
           strcmp(a.thing_id, b.thing_id) == 0,
       "identical create returns the same thingId");
    json_object_set_new(j, "k0", json_string("other"));
    ok(fy_thing_create(db, &site, &spec, &b, &em) == FY_ERR_ALREADY_EXISTS &&
           strcmp(a.thing_id, b.thing_id) == 0,
       "different create -> ALREADY_EXISTS naming the existing thing");
    json_decref(j);
    ok(create(db, "t3", NULL, FY_THING_ATTRS_MAX) == FY_ERR_OK, "3 attributes without a type");
    ok(create(db, "t4", NULL, FY_THING_ATTRS_MAX + 1) == FY_ERR_INVALID_REQUEST,
       "4 attributes without a type -> INVALID_REQUEST");
    ok(create(db, "bad name", NULL, 0) == FY_ERR_INVALID_REQUEST, "bad name");
    ok(create(db, "t5", "nope", 0) == FY_ERR_NOT_FOUND, "unknown type -> NOT_FOUND");
    ok(version_of(db, "t4", NULL) == -1 && version_of(db, "t5", NULL) == -1,
       "failed creates left nothing");
}

static void test_types(struct fy_db *db)
{
    struct fy_errmsg em;
    struct fy_thing_type_created out;
    struct fy_thing_type_spec spec = {"ty", "a type", NULL, NULL, NULL};
    ok(fy_thing_type_create(db, &site, &spec, &out, &em) == FY_ERR_OK, "create type");
    ok(create(db, "typed", "ty", FY_THING_ATTRS_MAX_TYPED) == FY_ERR_OK, "50 attributes typed");
    ok(create(db, "typed2", "ty", FY_THING_ATTRS_MAX_TYPED + 1) == FY_ERR_INVALID_REQUEST,
       "51 attributes typed -> INVALID_REQUEST");
    ok(fy_thing_type_delete(db, "ty", 0, &em) == FY_ERR_INVALID_REQUEST,
       "delete of a type that is not deprecated -> INVALID_REQUEST");
    ok(fy_thing_type_deprecate(db, "ty", false, &em) == FY_ERR_OK, "deprecate");
    ok(create(db, "typed3", "ty", 0) == FY_ERR_INVALID_REQUEST, "deprecated type refuses things");
    ok(create(db, "typed", "ty", FY_THING_ATTRS_MAX_TYPED) == FY_ERR_OK,
       "but an identical create of a thing it has still succeeds");
    ok(create(db, "typed", "ty", 1) == FY_ERR_ALREADY_EXISTS,
       "a different one of that name -> ALREADY_EXISTS");
    ok(create(db, "typed", "nope", 0) == FY_ERR_ALREADY_EXISTS,
       "also with an unknown type -> ALREADY_EXISTS");
    ok(fy_thing_type_delete(db, "ty", 3600, &em) == FY_ERR_INVALID_REQUEST,
       "delete within the waiting period -> INVALID_REQUEST");
    ok(fy_thing_type_delete(db, "ty", 0, &em) == FY_ERR_INVALID_REQUEST,
       "delete while a thing uses it -> INVALID_REQUEST");
    ok(fy_thing_delete(db, "typed", NULL, &em) == FY_ERR_OK, "delete the thing");
    ok(fy_thing_type_delete(db, "ty", 0, &em) == FY_ERR_OK, "then the type goes");
    ok(fy_thing_type_delete(db, "ty", 0, &em) == FY_ERR_NOT_FOUND, "and is gone");
}

static void test_update(struct fy_db *db)
{
    struct fy_errmsg em;
    int64_t v1 = 1;
    json_t *j = json_pack("{s:s, s:s}", "k0", "", "new", "x");
    struct fy_thing_update u = {"t3", NULL, false, j, true, &v1};
    ok(fy_thing_update(db, &u, &em) == FY_ERR_OK, "merge update at version 1");
    size_t n;
    ok(version_of(db, "t3", &n) == 2 && n == 3, "version 2, k0 removed, new added");
    ok(fy_thing_update(db, &u, &em) == FY_ERR_VERSION_CONFLICT, "stale version -> conflict");
    u.expected_version = NULL;
    u.merge = false;
    json_decref(j);
    j = attrs_n(FY_THING_ATTRS_MAX + 1);
    u.attributes = j;
    ok(fy_thing_update(db, &u, &em) == FY_ERR_INVALID_REQUEST, "replace over the limit");
    ok(version_of(db, "t3", &n) == 2 && n == 3, "nothing changed");
    json_decref(j);
}

struct names {
    char all[16][FY_NAME_MAX + 1];
    int n;
};

static fy_err collect(void *ctx, const struct fy_thing *t, const json_t *j_attrs)
{
    struct names *c = ctx;
    (void)j_attrs;
    if (c->n < 16) {
        memcpy(c->all[c->n++], t->name, sizeof(c->all[0]));
    }
    return FY_ERR_OK;
}

static void test_list(struct fy_db *db)
{
    struct fy_errmsg em;
    struct names c = {.n = 0};
    struct fy_thing_filter all = {0};
    bool more = false;
    ok(fy_thing_list(db, &all, NULL, 1, collect, &c, &more, &em) == FY_ERR_OK && more && c.n == 1 &&
           strcmp(c.all[0], "t1") == 0,
       "first page of one");
    ok(fy_thing_list(db, &all, c.all[0], 10, collect, &c, &more, &em) == FY_ERR_OK && !more &&
           c.n == 2 && strcmp(c.all[1], "t3") == 0,
       "next page resumes after the key");
    struct fy_thing_filter f = {"k1", "v", true, NULL};
    c.n = 0;
    ok(fy_thing_list(db, &f, NULL, 10, collect, &c, &more, &em) == FY_ERR_OK && c.n == 1,
       "prefix filter");
    struct fy_thing_filter bad = {NULL, "v", false, NULL};
    ok(fy_thing_list(db, &bad, NULL, 10, collect, &c, &more, &em) == FY_ERR_INVALID_REQUEST,
       "value without name -> INVALID_REQUEST");
}

/* Attribute filters match exactly although the attribute index compares values with NOCASE
 * (0021): case variants share one stretch of the index, in name order. */
static void test_list_case(struct fy_db *db)
{
    static const char *const things[][2] = {{"ca", "Ab"}, {"cb", "ab"}, {"cc", "AB"}, {"cd", "ab"}};
    struct fy_errmsg em;
    struct fy_thing_created out;
    bool more = false, made = true;
    for (size_t i = 0; i < 4; i++) {
        json_t *a = json_pack("{ss}", "case", things[i][1]);
        struct fy_thing_spec spec = {things[i][0], NULL, a, NULL};
        made = made && fy_thing_create(db, &site, &spec, &out, &em) == FY_ERR_OK;
        json_decref(a);
    }
    struct names c = {.n = 0};
    struct fy_thing_filter eq = {"case", "ab", false, NULL};
    ok(made && fy_thing_list(db, &eq, NULL, 1, collect, &c, &more, &em) == FY_ERR_OK && more &&
           c.n == 1 && strcmp(c.all[0], "cb") == 0,
       "exact filter: first match only, in name order");
    ok(fy_thing_list(db, &eq, c.all[0], 10, collect, &c, &more, &em) == FY_ERR_OK && !more &&
           c.n == 2 && strcmp(c.all[1], "cd") == 0,
       "exact filter: next page skips the case variants");
    struct fy_thing_filter pre = {"case", "A", true, NULL};
    c.n = 0;
    ok(fy_thing_list(db, &pre, NULL, 10, collect, &c, &more, &em) == FY_ERR_OK && c.n == 2 &&
           strcmp(c.all[0], "ca") == 0 && strcmp(c.all[1], "cc") == 0,
       "prefix filter is case-sensitive too");
}

/* Every allocation of an update, failed in turn, leaves the thing as it was. */
static void test_alloc_failures(struct fy_db *db)
{
    struct fy_errmsg em;
    json_t *j = json_pack("{s:s}", "k1", "changed");
    struct fy_thing_update u = {"t3", NULL, false, j, true, NULL};
    int clean = 1, n;
    fy_err e = FY_ERR_NOMEM;
    for (n = 1; n < 100 && e == FY_ERR_NOMEM; n++) {
        fy_alloc_fail_at((unsigned long)n);
        e = fy_thing_update(db, &u, &em);
        fy_alloc_fail_at(0);
        if (e == FY_ERR_NOMEM && version_of(db, "t3", NULL) != 2) {
            clean = 0;
        }
    }
    ok(n > 2 && clean, "each of %d failed allocations left the thing unchanged", n - 2);
    ok(e == FY_ERR_OK && version_of(db, "t3", NULL) == 3, "then the update went through");
    json_decref(j);
}

/* A write lock held by another connection: UNAVAILABLE, nothing written. */
static void test_busy(struct fy_db *db, const char *path)
{
    struct fy_errmsg em;
    struct fy_db *other;
    ok(fy_db_open(path, &other, &em) == FY_ERR_OK && fy_db_begin(other, &em) == FY_ERR_OK,
       "second connection holds the write lock");
    sqlite3_busy_timeout(fy_db_handle(db), 20);
    ok(create(db, "busy", NULL, 0) == FY_ERR_UNAVAILABLE, "create -> UNAVAILABLE");
    fy_db_rollback(other);
    fy_db_close(other);
    ok(version_of(db, "busy", NULL) == -1, "nothing created");
    sqlite3_busy_timeout(fy_db_handle(db), FY_DB_BUSY_TIMEOUT_MS);
}

/* CreatePolicy with tags is one transaction: under each allocation failure in turn the policy
 * exists with its tag or not at all. */
static void test_policy_tags_atomic(struct fy_db *db)
{
    static const char doc[] = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
                              "\"Action\":\"iot:Connect\",\"Resource\":\"*\"}]}";
    static const char arn[] = "arn:aws:iot:us-east-1:123456789012:policy/p-tags";
    json_t *tags = json_pack("[{s:s, s:s}]", "Key", "team", "Value", "fw");
    int points = 0, torn = 0;
    fy_err e = FY_ERR_NOMEM;
    for (; points < 1000; points++) {
        struct fy_policy_row row;
        struct fy_errmsg em;
        fy_alloc_fail_at((unsigned long)points + 1);
        e = fy_policy_create(db, "p-tags", doc, arn, tags, &row, &em);
        bool reached = !fy_alloc_fail_pending();
        fy_alloc_fail_at(0);
        int64_t p = tdb_int(db, "SELECT count(*) FROM policies WHERE name = 'p-tags'");
        int64_t t = tdb_int(db, "SELECT count(*) FROM tags WHERE arn LIKE '%policy/p-tags'");
        torn += p != t;
        if (!e) {
            fy_policy_row_clear(&row);
        }
        if (!reached || !e) {
            break;
        }
    }
    ok(e == FY_ERR_OK && torn == 0, "CreatePolicy with tags: %d failure points, %d torn", points,
       torn);
    json_decref(tags);
}

int main(void)
{
    char path[] = "/tmp/fy-test-things-XXXXXX";
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
    test_create(db);
    test_types(db);
    test_update(db);
    test_list(db);
    test_list_case(db);
    test_policy_tags_atomic(db);
    test_alloc_failures(db);
    test_busy(db, path);
    fy_db_close(db);
    unlink(path);
    char side[64];
    snprintf(side, sizeof(side), "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof(side), "%s-shm", path);
    unlink(side);
    return done();
}
