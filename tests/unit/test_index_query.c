/* Fleet indexing query language: parse errors with their positions, the length / depth / term
 * limits on both sides, that user text never reaches the SQL text, and every construct run
 * against a small fleet on a temp database (answers written out by hand below). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/db.h"
#include "core/json.h"
#include "core/log.h"
#include "index/index.h"
#include "index/index_int.h"
#include "tests/unit/tap.h"

static const char FIXTURE[] =
    "INSERT INTO thing_types(id, name, type_id, creation_date) VALUES"
    " (1, 'sensor', 'ty1', 0), (2, 'gateway', 'ty2', 0);"
    "INSERT INTO things(id, name, thing_id, type_id, version, creation_date, modified_date) VALUES"
    " (1, 't1', 'id-1', 1, 1, 0, 0), (2, 't2', 'id-2', 1, 2, 0, 0),"
    " (3, 't3', 'id-3', NULL, 1, 0, 0), (4, 'Thing4', 'id-4', 2, 1, 0, 0);"
    "INSERT INTO thing_attributes(thing, key, value) VALUES"
    " (1, 'location', 'Building-A'), (1, 'firmwareVersion', '1.0.0'), (1, 'floor', '3'),"
    " (2, 'location', 'Building-B'), (2, 'firmwareVersion', '1.0.0'), (2, 'floor', '10'),"
    " (3, 'location', 'Building-A2'), (3, 'floor', 'abc'), (4, 'firmwareVersion', '2.0');"
    "INSERT INTO thing_groups(id, name, group_id, root, creation_date) VALUES"
    " (1, 'prod', 'g1', 1, 0), (2, 'lab', 'g2', 2, 0);"
    "INSERT INTO thing_group_members(grp, thing, added) VALUES (1, 1, 0), (1, 2, 0), (2, 4, 0);"
    "INSERT INTO shadows(thing_name, name, doc, version, updated) VALUES"
    " ('t1', '', '{\"state\":{\"reported\":{\"temperature\":22.5,\"batteryLevel\":85,"
    "\"tags\":[1,2,3],\"mode\":\"Auto\",\"nested\":{\"x\":1}},\"desired\":{\"reportingInterval\":"
    "60}}}',"
    " 1, 0),"
    " ('t2', '', '{\"state\":{\"reported\":{\"temperature\":18,\"on\":true},"
    "\"desired\":{\"temperature\":18}}}', 3, 0),"
    " ('t3', 'cfg', '{\"state\":{\"reported\":{\"level\":5}}}', 1, 0),"
    " ('ghost', '', '{\"state\":{\"reported\":{\"temperature\":99}}}', 1, 0);"
    "INSERT INTO connectivity(client_id, connected, timestamp, disconnect_reason) VALUES"
    " ('t1', 1, 1000, NULL), ('t2', 0, 2000, 'CLIENT_INITIATED_DISCONNECT');";

struct match_row {
    const char *query;
    const char *want; /* space-separated names in name order (BINARY collation) */
};

static const struct match_row matches[] = {
    {"thingName:t1", "t1"},
    {"thingName:T1", "t1"},
    {"thingName:t*", "Thing4 t1 t2 t3"},
    {"thingName:t? OR thingName:T", "t1 t2 t3"},
    {"thingName:t?", "t1 t2 t3"},
    {"thingName:thing?", "Thing4"},
    {"thingName:thing*", "Thing4"},
    {"thingName:t1*", "t1"},
    {"attributes.location:BUILDING-A*", "t1 t3"},
    {"attributes.location:building-a2*", "t3"},
    {"thingName:*1", "t1"},
    {"thingName:?2 OR thingName:t3", "t2 t3"},
    {"attributes.location:*-a", "t1"},
    {"*", "Thing4 t1 t2 t3"},
    {"thingId:id-2", "t2"},
    {"attributes.location:Building-A", "t1"},
    {"attributes.location:building-a*", "t1 t3"},
    {"attributes.location:\"Building-A\"", "t1"},
    {"attributes.location:\"Building-A*\"", ""},
    {"attributes.firmwareVersion:1.0.0 AND thingTypeName:sensor", "t1 t2"},
    {"attributes.floor>5", "t2"},
    {"attributes.floor:[3 TO 10]", "t1 t2"},
    {"attributes.floor:{3 TO 10]", "t2"},
    {"attributes.floor:{3 TO 10}", ""},
    {"attributes.floor:[* TO 3]", "t1"},
    {"attributes.floor<=3", "t1"},
    {"attributes.floor<3", ""},
    {"attributes.floor>=10", "t2"},
    {"attributes.floor:3.0", "t1"},
    {"attributes.floor:\"3.0\"", ""},
    {"attributes.location:[\"building-a\" TO \"building-a3\"]", "t1 t3"},
    {"attributes.floor:*", "t1 t2 t3"},
    {"NOT attributes.floor:*", "Thing4"},
    {"-attributes.floor:*", "Thing4"},
    {"thingTypeName:*", "Thing4 t1 t2"},
    {"thingTypeName:gate*", "Thing4"},
    {"registry.thingTypeName:sensor", "t1 t2"},
    {"thingGroupNames:prod", "t1 t2"},
    {"thingGroupNames:*", "Thing4 t1 t2"},
    {"thingGroupNames:lab OR thingName:t3", "Thing4 t3"},
    {"thingName:t1 OR thingName:t2 AND attributes.location:Building-B", "t1 t2"},
    {"(thingName:t1 OR thingName:t2) AND attributes.location:Building-A", "t1"},
    {"thingName:t1 OR (thingName:t2 AND attributes.location:Building-A)", "t1"},
    {"thingName:(t1 OR t3)", "t1 t3"},
    {"thingName:(t* AND -t2)", "Thing4 t1 t3"},
    {"thingName:(t? AND NOT t2)", "t1 t3"},
    {"thingTypeName:sensor attributes.location:Building-B", "t2"},
    {"thingName:t1 AND NOT thingName:t1", ""},
    {"NOT NOT thingName:t1", "t1"},
    {"shadow.reported.temperature>20", "t1"},
    {"shadow.reported.temperature:18", "t2"},
    {"shadow.reported.temperature:[18 TO 22.5]", "t1 t2"},
    {"shadow.reported.temperature:{18 TO 22.5}", ""},
    {"shadow.reported.tags:2", "t1"},
    {"shadow.reported.tags:4", ""},
    {"shadow.reported.mode:auto", "t1"},
    {"shadow.reported.mode:au*", "t1"},
    {"shadow.reported.on:true", "t2"},
    {"shadow.reported.on:false", ""},
    {"shadow.reported.nested.x:1", "t1"},
    {"shadow.reported.nested:1", ""},
    {"shadow.reported.batteryLevel:*", "t1"},
    {"shadow.desired.reportingInterval:60", "t1"},
    {"shadow.hasDelta:true", "t1"},
    {"shadow.hasDelta:false", "t2"},
    {"shadow.version:3", "t2"},
    {"shadow.name.cfg.reported.level:5", "t3"},
    {"shadow.name.cfg.reported.level:[1 TO 4]", ""},
    {"shadow.name.cfg.hasDelta:false", "t3"},
    {"connectivity.connected:true", "t1"},
    {"connectivity.connected:false", "Thing4 t2 t3"},
    {"connectivity.timestamp>1500", "t2"},
    {"connectivity.timestamp:[1000 TO 2000]", "t1 t2"},
    {"connectivity.disconnectReason:CLIENT_INITIATED_DISCONNECT", "t2"},
    {"connectivity.disconnectReason:*", "t2"},
    {"connectivity.version:[0 TO 1]", "t1 t2"},
    {"registry.version:2", "t2"},
    {"registry.version>1", "t2"},
    {"Building-A", "t1"},
    {"sensor", "t1 t2"},
    {"auto", "t1"},
    {"22.5", "t1"},
    {"99", ""},
    {"thingName:\"x' OR 1=1 --\"", ""},
    {"thingName:t\\*", ""},
    {"attributes.location:Building\\-A", "t1"},
};

/* Runs query and joins the matching names with spaces into out. */
static bool correlated; /* which plan run_query compiles */

static fy_err run_query(struct fy_db *db,
                        const char *query,
                        const struct fy_index_config *cfg,
                        char *out,
                        size_t outlen,
                        struct fy_errmsg *em)
{
    struct fy_index_sql *q = NULL;
    sqlite3_stmt *st = NULL;
    fy_err e = fy_index_compile_opts(query, FY_INDEX_KIND_THINGS, cfg, correlated, &q, em);
    e = e ? e
          : fy_index_prepare(db, "SELECT t.name FROM things t WHERE ", q, " ORDER BY t.name", &st,
                             em);
    out[0] = '\0';
    while (!e && sqlite3_step(st) == SQLITE_ROW) {
        size_t n = strlen(out);
        snprintf(out + n, outlen - n, "%s%s", n ? " " : "", sqlite3_column_text(st, 0));
    }
    sqlite3_finalize(st);
    fy_index_sql_free(q);
    return e;
}

static void test_matches(struct fy_db *db)
{
    for (size_t i = 0; i < sizeof(matches) / sizeof(matches[0]); i++) {
        char got[256];
        struct fy_errmsg em = {{0}};
        fy_err e = run_query(db, matches[i].query, NULL, got, sizeof(got), &em);
        ok(e == FY_ERR_OK && strcmp(got, matches[i].want) == 0, "%s%s -> [%s] (got [%s] %s)",
           correlated ? "(correlated) " : "", matches[i].query, matches[i].want, got,
           e ? em.msg : "");
    }
}

struct error_row {
    const char *query;
    const char *want; /* substring of the message */
};

static const struct error_row errors[] = {
    {"", "empty query"},
    {"thingName:", "value expected at position 10"},
    {"(thingName:t1", "closing parenthesis expected at position 13"},
    {"thingName:t1)", "unexpected token at position 12"},
    {"foo.bar:1", "field foo.bar is not a searchable field"},
    {"thingName:*1 OR thingName:?2", "more than one leading wildcard term at position 26"},
    {"thingName:*1 OR attributes.location:Building-A OR attributes.location:Building-B OR "
     "thingName:abcdefgh",
     "a query with a leading wildcard (position 10) may be at most 100 bytes"},
    {"thingName:\"abc", "unterminated quote or escape at position 10"},
    {"thingName:abc\\", "at position 13"},
    {"attributes.x:[1 TO", "value expected at position 18"},
    {"attributes.x:[1 2]", "TO expected in range at position 16"},
    {"attributes.x:[1 TO 2", "] or } expected to close the range at position 20"},
    {"attributes.x:[1* TO 2]", "wildcard in range"},
    {"attributes.x>5*", "wildcard in comparison"},
    {"shadow.hasDelta:maybe", "value must be true or false"},
    {"connectivity.connected:[1 TO 2]", "value must be true or false"},
    {"registry.version:abc", "value must be a number"},
    {"registry.version:[a TO b]", "range bounds must be numbers"},
    {"AND thingName:x", "unexpected token at position 0"},
    {"thingName:x OR", "term expected at position 14"},
    {"thingName:x AND (", "term expected at position 17"},
    {"shadow.reported.a..b:1", "has an invalid path"},
    {"shadow.reported:1", "is not a searchable shadow field"},
    {"shadow.name..reported.x:1", "is not a valid named shadow field"},
    {"attributes.bad key:1", "field key is not a searchable field"},
    {"attributes.:1", "invalid attribute name"},
    {"thingName:a:b", "unexpected token at position 11"},
    {"thingName>", "value expected at position 10"},
    {"thingGroupName:x", "is not a searchable field"},
};

static void test_errors(void)
{
    for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); i++) {
        struct fy_index_sql *q = NULL;
        struct fy_errmsg em = {{0}};
        fy_err e = fy_index_compile(errors[i].query, FY_INDEX_KIND_THINGS, NULL, &q, &em);
        ok(e == FY_ERR_INVALID_QUERY && q == NULL && strstr(em.msg, errors[i].want),
           "error %s -> %s (got %s: %s)", errors[i].query, errors[i].want, fy_err_name(e), em.msg);
        fy_index_sql_free(q);
    }
}

static fy_err compile_only(const char *query, struct fy_errmsg *em)
{
    struct fy_index_sql *q = NULL;
    fy_err e = fy_index_compile(query, FY_INDEX_KIND_THINGS, NULL, &q, em);
    fy_index_sql_free(q);
    return e;
}

/* depth opening parentheses around one term. */
static void nested(char *buf, size_t len, int depth)
{
    size_t n = 0;
    for (int i = 0; i < depth; i++) {
        n += (size_t)snprintf(buf + n, len - n, "(");
    }
    n += (size_t)snprintf(buf + n, len - n, "thingName:x");
    for (int i = 0; i < depth; i++) {
        n += (size_t)snprintf(buf + n, len - n, ")");
    }
}

static void test_limits(void)
{
    char buf[FY_INDEX_QUERY_MAX + 2];
    struct fy_errmsg em;
    memset(buf, 0, sizeof(buf));
    memcpy(buf, "thingName:", 10);
    memset(buf + 10, 'a', FY_INDEX_QUERY_MAX - 10);
    ok(compile_only(buf, &em) == FY_ERR_OK, "query of exactly %d bytes compiles",
       FY_INDEX_QUERY_MAX);
    buf[FY_INDEX_QUERY_MAX] = 'a';
    ok(compile_only(buf, &em) == FY_ERR_INVALID_QUERY && strstr(em.msg, "longer than"),
       "query of %d bytes refused: %s", FY_INDEX_QUERY_MAX + 1, em.msg);
    nested(buf, sizeof(buf), FY_INDEX_DEPTH_MAX);
    ok(compile_only(buf, &em) == FY_ERR_OK, "nesting %d compiles", FY_INDEX_DEPTH_MAX);
    nested(buf, sizeof(buf), FY_INDEX_DEPTH_MAX + 1);
    ok(compile_only(buf, &em) == FY_ERR_INVALID_QUERY && strstr(em.msg, "nesting too deep"),
       "nesting %d refused: %s", FY_INDEX_DEPTH_MAX + 1, em.msg);
    size_t n = 0;
    for (int i = 0; i < FY_INDEX_DEPTH_MAX + 1; i++) {
        n += (size_t)snprintf(buf + n, sizeof(buf) - n, "NOT ");
    }
    snprintf(buf + n, sizeof(buf) - n, "thingName:x");
    ok(compile_only(buf, &em) == FY_ERR_INVALID_QUERY && strstr(em.msg, "nesting too deep"),
       "%d NOTs refused", FY_INDEX_DEPTH_MAX + 1);
    n = (size_t)snprintf(buf, sizeof(buf), "thingName:x");
    for (int i = 1; i < FY_INDEX_TERMS_MAX; i++) {
        n += (size_t)snprintf(buf + n, sizeof(buf) - n, " OR thingName:x");
    }
    ok(compile_only(buf, &em) == FY_ERR_OK, "%d terms compile", FY_INDEX_TERMS_MAX);
    snprintf(buf + n, sizeof(buf) - n, " OR thingName:x");
    ok(compile_only(buf, &em) == FY_ERR_INVALID_QUERY && strstr(em.msg, "too many terms"),
       "%d terms refused", FY_INDEX_TERMS_MAX + 1);
}

/* User text travels only as parameters. */
static void test_no_splicing(void)
{
    struct fy_index_sql *q = NULL;
    struct fy_errmsg em;
    const char *query = "attributes.k_evil:\"'); DROP TABLE things; --\" OR "
                        "shadow.reported.zz_evil:x OR thingName:evil_name*";
    fy_err e = fy_index_compile(query, FY_INDEX_KIND_THINGS, NULL, &q, &em);
    ok(e == FY_ERR_OK && !strstr(q->where, "DROP") && !strstr(q->where, "evil") &&
           !strstr(q->where, "zz_"),
       "values, keys and paths are parameters, not SQL text");
    bool found = false;
    for (size_t i = 0; q && i < q->nparams; i++) {
        found = found || (q->params[i].text && strstr(q->params[i].text, "DROP TABLE"));
    }
    ok(found, "the value is a bound parameter");
    fy_index_sql_free(q);
}

static void test_config(struct fy_db *db)
{
    struct fy_index_config cfg = {.thing_mode = FY_MODE_REGISTRY};
    char got[256];
    struct fy_errmsg em;
    ok(run_query(db, "shadow.reported.temperature>1", &cfg, got, sizeof(got), &em) ==
               FY_ERR_INVALID_QUERY &&
           strstr(em.msg, "not indexed"),
       "REGISTRY mode: shadow fields are not searchable: %s", em.msg);
    ok(run_query(db, "connectivity.connected:true", &cfg, got, sizeof(got), &em) ==
               FY_ERR_INVALID_QUERY &&
           strstr(em.msg, "thingConnectivityIndexingMode"),
       "connectivity off: not searchable: %s", em.msg);
    ok(run_query(db, "shadow.name.cfg.reported.level:5", &cfg, got, sizeof(got), &em) ==
           FY_ERR_INVALID_QUERY,
       "named shadows off: not searchable");
    cfg.thing_mode = FY_MODE_REGISTRY_AND_SHADOW;
    cfg.connectivity = true;
    cfg.named_shadows = true;
    cfg.nnamed = 1;
    snprintf(cfg.named[0], sizeof(cfg.named[0]), "cfg");
    ok(run_query(db, "shadow.name.cfg.reported.level:5 OR connectivity.connected:true", &cfg, got,
                 sizeof(got), &em) == FY_ERR_OK &&
           strcmp(got, "t1 t3") == 0,
       "enabled: named shadow in the filter and connectivity are searchable: [%s]", got);
    ok(run_query(db, "shadow.name.other.reported.level:5", &cfg, got, sizeof(got), &em) ==
           FY_ERR_INVALID_QUERY,
       "a named shadow outside the filter is not searchable");
}

/* Every allocation of a compilation failing in turn: NOMEM (or OK once the failure point is
 * past the last allocation), never a crash or a leak (ASan builds check leaks). */
static void test_alloc_failures(void)
{
    const char *query = "thingName:(a* OR \"b c\") AND attributes.k:[1 TO 5} AND "
                        "NOT shadow.reported.x.y:z* OR connectivity.connected:true";
    int n, clean = 1;
    fy_err e = FY_ERR_NOMEM;
    for (n = 1; n < 500 && e == FY_ERR_NOMEM; n++) {
        struct fy_index_sql *q = NULL;
        struct fy_errmsg em;
        fy_alloc_fail_at((unsigned long)n);
        e = fy_index_compile(query, FY_INDEX_KIND_THINGS, NULL, &q, &em);
        fy_alloc_fail_at(0);
        clean = clean && (e == FY_ERR_OK || e == FY_ERR_NOMEM) && (e == FY_ERR_OK) == (q != NULL);
        fy_index_sql_free(q);
    }
    ok(clean && e == FY_ERR_OK && n > 10, "%d injected allocation failures: NOMEM each, then OK",
       n - 2);
}

/* A whole GetIndexingConfiguration answer: each section has its mode, and managedFields exactly
 * when that mode is not OFF; the things section also has its connectivity mode. */
static bool config_whole(const json_t *out)
{
    static const char *const parts[][2] = {
        {"thingIndexingConfiguration", "thingIndexingMode"},
        {"thingGroupIndexingConfiguration", "thingGroupIndexingMode"}};
    const json_t *th = json_object_get(out, parts[0][0]);
    bool whole = json_object_get(th, "thingConnectivityIndexingMode") != NULL;
    for (size_t i = 0; i < 2; i++) {
        const json_t *sec = json_object_get(out, parts[i][0]);
        const char *mode = json_string_value(json_object_get(sec, parts[i][1]));
        whole = whole && mode &&
                (strcmp(mode, "OFF") != 0) == (json_object_get(sec, "managedFields") != NULL);
    }
    return whole;
}

/* An answer under injected allocation failures: an error and nothing in *out, or OK with the
 * whole answer want (a part lost to a failed allocation must not turn into a member left out of
 * a success). config: GetIndexingConfiguration, whose error must be NOMEM (aggregations can still
 * answer NOT_FOUND: fy_index_open) and whose OK answer is checked by config_whole rather than
 * against want: it loads the stored configuration with jansson, whose lexer drops a byte when
 * growing its buffer fails (lex_save ignores strbuffer_append_byte's result), so a failure there
 * can change a stored key. */
static int alloc_answer(fy_err e, json_t *out, const json_t *want, bool config)
{
    int whole = config ? config_whole(out) : json_equal(out, want);
    int right = e == FY_ERR_OK ? whole : (e == FY_ERR_NOMEM || !config) && out == NULL;
    json_decref(out);
    return right;
}

/* GetIndexingConfiguration and each aggregation, every allocation failing in turn. */
enum { ALLOC_POINTS = 150 };
static void test_alloc_failures_db(struct fy_db *db)
{
    static const struct {
        enum fy_agg_kind kind;
        const char *member;
    } aggs[] = {{FY_AGG_STATISTICS, "statistics"},
                {FY_AGG_PERCENTILES, "percentiles"},
                {FY_AGG_BUCKETS, "buckets"},
                {0, "thingGroupIndexingConfiguration"}};
    json_t *on = json_pack("{s:s}", "thingIndexingMode", "REGISTRY");
    struct fy_errmsg em0;
    ok(on && fy_index_config_update(db, on, NULL, &em0) == FY_ERR_OK, "thing indexing on");
    json_decref(on);
    for (size_t a = 0; a < sizeof(aggs) / sizeof(aggs[0]); a++) {
        bool config = a == sizeof(aggs) / sizeof(aggs[0]) - 1;
        struct fy_agg_request r = {aggs[a].kind, NULL, "thingName:*", NULL, NULL, 0, 0};
        json_t *want = NULL; /* the answer without a failure (see alloc_answer) */
        fy_err e =
            config ? fy_index_config_get(db, &want, &em0) : fy_index_aggregate(db, &r, &want, &em0);
        int failed = 0, clean = e == FY_ERR_OK && json_object_get(want, aggs[a].member) != NULL &&
                                (!config || config_whole(want));
        /* every point up to well past the last allocation: a failure something absorbs (and
         * answers OK for) must not end the walk before the later allocations are reached */
        for (unsigned long n = 1; n <= ALLOC_POINTS; n++) {
            json_t *out = NULL;
            struct fy_errmsg em;
            fy_alloc_fail_at(n);
            e = config ? fy_index_config_get(db, &out, &em) : fy_index_aggregate(db, &r, &out, &em);
            fy_alloc_fail_at(0);
            failed += e != FY_ERR_OK;
            clean = alloc_answer(e, out, want, config) && clean;
        }
        json_decref(want);
        ok(clean && e == FY_ERR_OK && failed > 3,
           "%s: %d of %d injected allocation failures answered an error with nothing out, the "
           "others OK with the whole answer",
           aggs[a].member, failed, ALLOC_POINTS);
    }
}

/* The shadow delta search answers (sqlfn.c): under each injected allocation failure either no
 * delta (NULL) or the whole one, never one with members missing. */
static void test_delta_alloc_failures(void)
{
    json_t *desired = json_pack("{s:i, s:{s:i, s:i}, s:s}", "a", 1, "b", "c", 2, "d", 3, "e", "x");
    json_t *reported = json_pack("{s:i, s:{s:i}, s:s}", "a", 1, "b", "c", 2, "e", "y");
    json_t *want = json_pack("{s:{s:i}, s:s}", "b", "d", 3, "e", "x");
    json_t *got = fy_index_delta(desired, reported);
    ok(json_equal(got, want), "delta: only what desired has and reported lacks or differs in");
    json_decref(got);
    int nulls = 0, clean = 1;
    for (unsigned long n = 1; n <= 40; n++) {
        fy_alloc_fail_at(n);
        got = fy_index_delta(desired, reported);
        fy_alloc_fail_at(0);
        nulls += got == NULL;
        clean = clean && (got == NULL || json_equal(got, want));
        json_decref(got);
    }
    ok(clean && nulls > 2, "delta: %d of 40 injected failures answered NULL, the others whole",
       nulls);
    json_decref(desired);
    json_decref(reported);
    json_decref(want);
}

int main(void)
{
    char path[] = "/tmp/fy-test-index-XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    struct fy_db *db;
    struct fy_errmsg em;
    fy_json_init();
    fy_log_threshold = FY_LOG_ERROR;
    if (!ok(fy_db_open(path, &db, &em) == FY_ERR_OK && fy_db_migrate(db, &em) == FY_ERR_OK &&
                fy_db_exec(db, FIXTURE, &em) == FY_ERR_OK,
            "open, migrate and load the fleet: %s", em.msg)) {
        return done();
    }
    test_matches(db);
    correlated = true;
    test_matches(db);
    correlated = false;
    test_errors();
    test_limits();
    test_no_splicing();
    test_alloc_failures();
    test_delta_alloc_failures();
    test_config(db);
    test_alloc_failures_db(db);
    fy_db_close(db);
    unlink(path);
    char side[64];
    snprintf(side, sizeof(side), "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof(side), "%s-shm", path);
    unlink(side);
    return done();
}
