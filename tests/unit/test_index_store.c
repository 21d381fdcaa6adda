/* Fleet indexing on a temp database: dynamic groups follow attribute, thing, shadow,
 * connectivity and static-membership changes through fy_index_tick (the scheduler hook), the
 * ten-groups limit, query updates recompute, and fleet metrics are evaluated when due with the
 * right values. Changes are written straight to the tables, as the broker plugin and the
 * registry do, so the 0009 triggers are what is tested. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/db.h"
#include "core/fytime.h"
#include "core/json.h"
#include "core/log.h"
#include "index/index.h"
#include "index/index_int.h"
#include "index/search_int.h"
#include "tests/unit/tap.h"

static const char FIXTURE[] =
    "INSERT INTO things(id, name, thing_id, creation_date, modified_date) VALUES"
    " (1, 't1', 'i1', 0, 0), (2, 't2', 'i2', 0, 0), (3, 't3', 'i3', 0, 0);"
    "INSERT INTO thing_attributes(thing, key, value) VALUES"
    " (1, 'loc', 'A'), (2, 'loc', 'B'), (3, 'loc', 'A');"
    "INSERT INTO thing_groups(id, name, group_id, root, creation_date) VALUES"
    " (100, 'static', 'gs', 100, 0);";

static struct fy_db *db;

static void exec(const char *sql)
{
    struct fy_errmsg em;
    if (fy_db_exec(db, sql, &em) != FY_ERR_OK) {
        ok(0, "exec %s: %s", sql, em.msg);
    }
}

/* Space-separated member names of group name, in name order, into out. */
static const char *members(const char *group, char *out, size_t n)
{
    static const char SQL[] = "SELECT t.name FROM thing_group_members m JOIN things t ON t.id = "
                              "m.thing JOIN thing_groups g ON g.id = m.grp WHERE g.name = ? "
                              "ORDER BY t.name";
    struct fy_errmsg em;
    sqlite3_stmt *st = fy_db_stmt(db, SQL, &em);
    out[0] = '\0';
    fy_bind_text(st, 1, group);
    while (st && sqlite3_step(st) == SQLITE_ROW) {
        size_t len = strlen(out);
        snprintf(out + len, n - len, "%s%s", len ? " " : "", fy_col_text(st, 0));
    }
    fy_stmt_done(st);
    return out;
}

static int64_t tick(void)
{
    struct fy_errmsg em;
    int64_t changed = -1;
    if (fy_index_tick(db, &changed, &em) != FY_ERR_OK) {
        ok(0, "tick: %s", em.msg);
    }
    return changed;
}

static fy_err dyn(const char *name, const char *query)
{
    struct fy_errmsg em;
    char id[40];
    struct fy_dyn_group g = {.name = name, .query = query, .arn = "arn:aws:iot:r:1:thinggroup/x"};
    return fy_index_dyn_create(db, &g, id, &em);
}

static void check(const char *group, const char *want, const char *what)
{
    char got[256];
    members(group, got, sizeof(got));
    ok(strcmp(got, want) == 0, "%s: %s = [%s] (got [%s])", what, group, want, got);
}

static void test_follow(void)
{
    struct fy_errmsg em;
    char id[40];
    ok(tick() == 0, "no dynamic group yet: the fixture's changes were not tracked (0014)");
    struct fy_dyn_group off = {.name = "g0", .query = "*", .arn = "a"};
    ok(fy_index_dyn_create(db, &off, id, &em) == FY_ERR_NOT_FOUND, "index off: %s", em.msg);
    json_t *cfg = json_pack("{s:s, s:s}", "thingIndexingMode", "REGISTRY_AND_SHADOW",
                            "thingConnectivityIndexingMode", "STATUS");
    ok(fy_index_config_update(db, cfg, NULL, &em) == FY_ERR_OK, "indexing on");
    json_decref(cfg);
    ok(dyn("loc-a", "attributes.loc:A") == FY_ERR_OK, "create loc-a");
    check("loc-a", "t1 t3", "built at creation");
    ok(dyn("hot", "shadow.reported.temp>30") == FY_ERR_OK, "create hot");
    ok(dyn("online", "connectivity.connected:true") == FY_ERR_OK, "create online");
    ok(dyn("in-static", "thingGroupNames:static") == FY_ERR_OK, "create in-static");
    exec("UPDATE thing_attributes SET value = 'A' WHERE thing = 2;"
         "UPDATE thing_attributes SET value = 'C' WHERE thing = 1;");
    check("loc-a", "t1 t3", "unchanged before the tick");
    ok(tick() == 2, "tick re-evaluates the two changed things");
    check("loc-a", "t2 t3", "attribute changes followed");
    exec("INSERT INTO things(id, name, thing_id, creation_date, modified_date) VALUES "
         "(4, 't4', 'i4', 0, 0); INSERT INTO thing_attributes(thing, key, value) VALUES (4, 'loc', "
         "'A');"
         "DELETE FROM things WHERE id = 3;");
    tick();
    check("loc-a", "t2 t4", "new thing joins, deleted thing leaves");
    exec("INSERT INTO shadows(thing_name, name, doc, version, updated) VALUES "
         "('t1', '', '{\"state\":{\"reported\":{\"temp\":35}}}', 1, 0)");
    exec("INSERT INTO connectivity(client_id, connected, timestamp) VALUES ('t2', 1, 5)");
    exec("INSERT INTO thing_group_members(grp, thing, added) VALUES (100, 4, 0)");
    tick();
    check("hot", "t1", "shadow change followed");
    check("online", "t2", "connect followed");
    check("in-static", "t4", "static membership followed");
    exec("UPDATE shadows SET doc = '{\"state\":{\"reported\":{\"temp\":20}}}' WHERE "
         "thing_name = 't1'; UPDATE connectivity SET connected = 0 WHERE client_id = 't2'");
    tick();
    check("hot", "", "shadow update followed");
    check("online", "", "disconnect followed");
    struct fy_dyn_group up = {.name = "loc-a", .query = "attributes.loc:C"};
    int64_t v = 0;
    ok(fy_index_dyn_update(db, &up, 1, &v, &em) == FY_ERR_OK && v == 2, "update query: %s", em.msg);
    check("loc-a", "t1", "query change recomputes");
    ok(fy_index_dyn_delete(db, "loc-a", -1, &em) == FY_ERR_OK, "delete");
    check("loc-a", "", "deleted group has no members");
}

static void test_group_limit(void)
{
    char name[32];
    ok(dyn("early", "attributes.loc:Z") == FY_ERR_OK, "an older group t1 does not match yet");
    for (int i = 0; i < 10; i++) {
        snprintf(name, sizeof(name), "all-%d", i);
        if (dyn(name, "thingName:t1") != FY_ERR_OK) {
            ok(0, "create %s", name);
        }
    }
    ok(dyn("one-more", "thingName:t*") == FY_ERR_OK, "eleventh group for t1");
    check("one-more", "t2 t4", "t1 is in 10 groups already and is not added");
    exec("UPDATE thing_attributes SET value = 'Z' WHERE thing = 1");
    tick();
    check("early", "t1", "at the limit, t1 joins an older dynamic group...");
    check("all-9", "", "...by leaving its most recently created one");
    check("all-8", "t1", "and stays in the others");
}

static void test_metrics(void)
{
    struct fy_errmsg em;
    json_t *agg = json_pack("{s:s, s:[s, s]}", "name", "Statistics", "values", "count", "sum");
    struct fy_fleet_metric m = {.name = "m1",
                                .query = "thingName:t*",
                                .aggregation_type = agg,
                                .period = 60,
                                .field = "registry.version",
                                .arn = "arn:aws:iot:r:1:fleetmetric/m1"};
    int n = -1;
    double now = fy_now();
    ok(fy_metric_create(db, &m, &em) == FY_ERR_OK, "create metric: %s", em.msg);
    ok(fy_metric_tick(db, now + 1, &n, &em) == FY_ERR_OK && n == 1, "a new metric is due at once");
    ok(fy_metric_tick(db, now + 2, &n, &em) == FY_ERR_OK && n == 0, "not again within its period");
    ok(fy_metric_tick(db, now + 62, &n, &em) == FY_ERR_OK && n == 1, "due a period later");
    json_t *pts = NULL;
    ok(fy_metric_datapoints(db, "m1", 10, &pts, &em) == FY_ERR_OK, "datapoints");
    json_t *list = json_object_get(pts, "datapoints");
    json_t *p0 = json_array_get(list, 0), *p1 = json_array_get(list, 1);
    ok(json_array_size(list) == 4 &&
           strcmp(json_string_value(json_object_get(p0, "stat")), "count") == 0 &&
           json_number_value(json_object_get(p0, "value")) == 3 &&
           json_number_value(json_object_get(p1, "value")) == 3,
       "count 3 and sum 3 of registry.version (all 1) over t1, t2, t4");
    json_decref(pts);
    json_decref(agg);
}

/* Upkeep cost: one changed thing re-evaluated against 50 dynamic groups. */
static void test_upkeep_cost(void)
{
    char name[32], query[64];
    for (int i = 0; i < 50; i++) {
        snprintf(name, sizeof(name), "cost-%d", i);
        snprintf(query, sizeof(query), "attributes.loc:X%d OR shadow.reported.temp>%d", i, i);
        if (dyn(name, query) != FY_ERR_OK) {
            ok(0, "create %s", name);
        }
    }
    tick();
    uint64_t t0 = fy_mono_ns();
    for (int i = 0; i < 20; i++) {
        exec("UPDATE thing_attributes SET value = value WHERE thing = 2");
        tick();
    }
    double ms = (double)(fy_mono_ns() - t0) / 1e6 / 20;
    printf("# upkeep: %.3f ms for a tick with one changed thing, 60 dynamic groups\n", ms);
    ok(ms < 100, "upkeep per update under 100 ms (%.3f ms)", ms);
    exec("WITH RECURSIVE n(i) AS (SELECT 1000 UNION ALL SELECT i + 1 FROM n WHERE i < 1999) "
         "INSERT INTO things(id, name, thing_id, creation_date, modified_date) "
         "SELECT i, 'bulk' || i, 'b' || i, 0, 0 FROM n");
    tick();
    t0 = fy_mono_ns();
    exec("UPDATE things SET version = version + 1 WHERE id >= 1000");
    int64_t n = tick();
    ms = (double)(fy_mono_ns() - t0) / 1e6 / 1000;
    printf("# upkeep: %.3f ms per changed thing when 1000 change between ticks\n", ms);
    ok(n == 1000 && ms < 10, "1000 changed things re-evaluated (%.3f ms each)", ms);
}

static int64_t scalar(const char *sql)
{
    struct fy_errmsg em;
    sqlite3_stmt *st = fy_db_stmt(db, sql, &em);
    int64_t v = st && sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    fy_stmt_done(st);
    return v;
}

/* A rebuild in chunks: each call settles one chunk of things by id; members beyond the cursor
 * keep the old answer until their chunk; ACTIVE with the new membership at the end. */
static void test_chunked_build(void)
{
    static const char MEMBERS[] = "SELECT count(*) FROM thing_group_members m JOIN thing_groups g "
                                  "ON g.id = m.grp WHERE g.name = 'chunky'";
    static const char STATUS_BUILDING[] =
        "SELECT count(*) FROM thing_groups WHERE name = 'chunky' AND status = 'REBUILDING'";
    struct fy_errmsg em;
    int left = -1, calls = 0;
    exec("INSERT INTO things(id, name, thing_id, creation_date, modified_date) VALUES "
         "(0, 'bulk10zero', 'z', 0, 0)"); /* row id 0 is built too */
    ok(dyn("chunky", "thingName:bulk1*") == FY_ERR_OK && scalar(MEMBERS) == 1001,
       "built within the call: %lld members", (long long)scalar(MEMBERS));
    int64_t gid = scalar("SELECT id FROM thing_groups WHERE name = 'chunky'");
    exec("UPDATE thing_groups SET query_string = 'thingName:bulk10*' WHERE name = 'chunky'");
    ok(fy_dyn_build_start(db, gid, true, &em) == FY_ERR_OK && scalar(STATUS_BUILDING) == 1,
       "REBUILDING");
    ok(fy_dyn_build(db, gid, 100, 0, &left, &em) == FY_ERR_OK && left == 1 &&
           scalar(MEMBERS) == 1001 && scalar(STATUS_BUILDING) == 1,
       "one chunk: still REBUILDING, old members beyond the cursor kept");
    while (left > 0 && calls++ < 50) {
        if (fy_dyn_build(db, gid, 100, 0, &left, &em) != FY_ERR_OK) {
            break;
        }
    }
    ok(left == 0 && calls == 10 && scalar(MEMBERS) == 101 && scalar(STATUS_BUILDING) == 0 &&
           scalar("SELECT count(*) FROM settings WHERE key GLOB 'index.build.*'") == 0,
       "ACTIVE after %d more chunks of 100 with the 101 new members (got %lld)", calls,
       (long long)scalar(MEMBERS));
}

/* The two search plans agree: a zero budget stops the name-order walk at its first check and
 * the set plan answers; a generous one lets the walk finish. */
static void test_search_plans(void)
{
    static const char *const queries[] = {"thingName:bulk1999", "thingName:bulk1*",
                                          "attributes.loc:A OR thingName:bulk15*", "*"};
    struct fy_index_config cfg;
    struct fy_errmsg em;
    int64_t a[51], b[51];
    ok(fy_index_config_load(db, &cfg, &em) == FY_ERR_OK, "config");
    for (size_t i = 0; i < sizeof(queries) / sizeof(queries[0]); i++) {
        for (int page = 0; page < 2; page++) {
            struct fy_search_page pa = {a, 0, 51}, pb = {b, 0, 51};
            const char *after = page ? "bulk1500" : NULL;
            fy_err e1 =
                fy_search_ids(db, queries[i], FY_INDEX_KIND_THINGS, &cfg, after, 0, &pa, &em);
            fy_err e2 = fy_search_ids(db, queries[i], FY_INDEX_KIND_THINGS, &cfg, after,
                                      1000000000ull, &pb, &em);
            ok(!e1 && !e2 && pa.n == pb.n && pa.n > 0 && memcmp(a, b, pa.n * sizeof(a[0])) == 0,
               "%s after %s: both plans give the same %zu rows", queries[i],
               after ? after : "(start)", pa.n);
        }
    }
}

int main(void)
{
    char path[] = "/tmp/fy-test-index-store-XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    struct fy_errmsg em;
    fy_json_init();
    fy_log_threshold = FY_LOG_ERROR;
    if (!ok(fy_db_open(path, &db, &em) == FY_ERR_OK && fy_db_migrate(db, &em) == FY_ERR_OK &&
                fy_db_exec(db, FIXTURE, &em) == FY_ERR_OK,
            "open, migrate and load: %s", em.msg)) {
        return done();
    }
    test_follow();
    test_group_limit();
    test_metrics();
    test_upkeep_cost();
    test_search_plans();
    test_chunked_build();
    fy_db_close(db);
    unlink(path);
    char side[64];
    snprintf(side, sizeof(side), "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof(side), "%s-shm", path);
    unlink(side);
    return done();
}
