/* Unit tests for logs/: filter patterns (pure) and level resolution on a temp database. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/json.h"
#include "logs/logs.h"
#include "tap.h"
#include "tempdb.h"

static const struct {
    const char *pattern;
    const char *msg;
    int match;
} rows[] = {
    {"", "anything", 1},
    {"ERROR", "ERROR disk full", 1},
    {"ERROR", "error disk full", 0}, /* case-sensitive */
    {"ERROR disk", "ERROR disk full", 1},
    {"ERROR disk", "ERROR net down", 0},
    {"ERROR -Exiting", "ERROR Exiting now", 0},
    {"ERROR -Exiting", "ERROR disk", 1},
    {"?WARN ?ERROR", "WARN x", 1},
    {"?WARN ?ERROR", "INFO x", 0},
    {"\"hello world\"", "say hello world", 1},
    {"\"hello world\"", "hello there world", 0},
    {"-\"a b\"", "x a b", 0},
    {"  spaced   terms ", "terms spaced", 1},
};

static const char *const bad[] = {"\"open", "{ $.a = 1 }", "[x]", "\"\"", "-", "?"};

static void test_filters(void)
{
    struct fy_errmsg em = {""};
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct fy_logfilter *f = NULL;
        fy_err e = fy_logfilter_compile(rows[i].pattern, &f, &em);
        ok(!e && fy_logfilter_match(f, rows[i].msg) == (rows[i].match != 0), "'%s' vs '%s'",
           rows[i].pattern, rows[i].msg);
        fy_logfilter_free(f);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct fy_logfilter *f = NULL;
        ok(fy_logfilter_compile(bad[i], &f, &em) == FY_ERR_INVALID_REQUEST && !f, "refused '%s'",
           bad[i]);
    }
}

static void test_filter_limits(void)
{
    char pat[FY_LOGS_FILTER_MAX + 2];
    struct fy_errmsg em = {""};
    struct fy_logfilter *f = NULL;
    memset(pat, 'x', sizeof(pat));
    pat[FY_LOGS_FILTER_MAX] = '\0';
    ok(fy_logfilter_compile(pat, &f, &em) == FY_ERR_OK, "pattern of %d accepted",
       FY_LOGS_FILTER_MAX);
    fy_logfilter_free(f);
    f = NULL;
    pat[FY_LOGS_FILTER_MAX] = 'x';
    pat[FY_LOGS_FILTER_MAX + 1] = '\0';
    ok(fy_logfilter_compile(pat, &f, &em) == FY_ERR_INVALID_REQUEST, "pattern of %d refused",
       FY_LOGS_FILTER_MAX + 1);
    char terms[4 * (FY_LOGS_FILTER_TERMS_MAX + 1)] = "";
    for (int i = 0; i < FY_LOGS_FILTER_TERMS_MAX; i++) {
        strcat(terms, "ab ");
    }
    ok(fy_logfilter_compile(terms, &f, &em) == FY_ERR_OK, "%d terms accepted",
       FY_LOGS_FILTER_TERMS_MAX);
    fy_logfilter_free(f);
    f = NULL;
    strcat(terms, "ab");
    ok(fy_logfilter_compile(terms, &f, &em) == FY_ERR_INVALID_REQUEST, "%d terms refused",
       FY_LOGS_FILTER_TERMS_MAX + 1);
}

static enum fy_loglevel resolve(struct fy_db *db, const struct fy_iotlog_who *w)
{
    struct fy_logging_levels *l = NULL;
    struct fy_errmsg em = {""};
    if (fy_logging_levels_load(db, &l, &em) != FY_ERR_OK) {
        return (enum fy_loglevel) - 1;
    }
    enum fy_loglevel v = fy_logging_resolve(l, db, w);
    fy_logging_levels_free(l);
    return v;
}

/* fy_logging_ceiling of the levels stored in db; -1 when they cannot be read. */
static int ceiling(struct fy_db *db)
{
    struct fy_logging_levels *l = NULL;
    struct fy_errmsg em = {""};
    if (fy_logging_levels_load(db, &l, &em) != FY_ERR_OK) {
        return -1;
    }
    int v = (int)fy_logging_ceiling(l);
    fy_logging_levels_free(l);
    return v;
}

static void test_resolution(struct fy_db *db)
{
    struct fy_errmsg em = {""};
    struct fy_iotlog_who who = {"c1", "p1", "10.0.0.1", "thing1"};
    ok(resolve(db, &who) == FY_LL_DISABLED, "not configured: DISABLED");
    ok(ceiling(db) == FY_LL_DISABLED, "not configured: nothing can be logged");
    struct fy_logging_options o = {.default_level = FY_LL_WARN};
    ok(fy_logging_options_set(db, &o, &em) == FY_ERR_OK, "options set");
    ok(resolve(db, &who) == FY_LL_WARN, "default applies");
    ok(ceiling(db) == FY_LL_WARN, "ceiling: the default");
    ok(fy_db_exec(db,
                  "INSERT INTO things(id, name, thing_id, creation_date, modified_date) "
                  "VALUES (1, 'thing1', 'x', 0, 0);"
                  "INSERT INTO thing_groups(id, name, group_id, parent, root, depth, "
                  "creation_date) VALUES (1, 'top', 'a', NULL, 1, 1, 0), "
                  "(2, 'sub', 'b', 1, 1, 2, 0);"
                  "INSERT INTO thing_group_members VALUES (2, 1, 0);",
                  &em) == FY_ERR_OK,
       "thing in sub, sub under top: %s", em.msg);
    ok(fy_logging_level_set(db, FY_LT_THING_GROUP, "top", FY_LL_INFO, &em) == FY_ERR_OK, "top");
    ok(resolve(db, &who) == FY_LL_INFO, "parent group applies");
    ok(fy_logging_level_set(db, FY_LT_THING_GROUP, "sub", FY_LL_ERROR, &em) == FY_ERR_OK, "sub");
    ok(resolve(db, &who) == FY_LL_ERROR, "deeper group wins");
    ok(fy_logging_level_set(db, FY_LT_SOURCE_IP, "10.0.0.1", FY_LL_DEBUG, &em) == FY_ERR_OK, "ip");
    ok(resolve(db, &who) == FY_LL_DEBUG, "source ip beats groups");
    ok(ceiling(db) == FY_LL_DEBUG, "ceiling: the most verbose target");
    ok(fy_logging_level_set(db, FY_LT_PRINCIPAL_ID, "p1", FY_LL_WARN, &em) == FY_ERR_OK, "p");
    ok(resolve(db, &who) == FY_LL_WARN, "principal beats source ip");
    ok(fy_logging_level_set(db, FY_LT_CLIENT_ID, "c1", FY_LL_DISABLED, &em) == FY_ERR_OK, "c");
    ok(resolve(db, &who) == FY_LL_DISABLED, "client id beats all");
    struct fy_iotlog_who other = {"c2", NULL, NULL, NULL};
    ok(resolve(db, &other) == FY_LL_WARN, "others: default");
    o.disable_all = true;
    o.default_level = FY_LL_DEBUG;
    ok(fy_logging_options_set(db, &o, &em) == FY_ERR_OK, "disable all");
    ok(resolve(db, &who) == FY_LL_DISABLED && resolve(db, &other) == FY_LL_DISABLED,
       "disableAllLogs wins");
    ok(ceiling(db) == FY_LL_DISABLED, "ceiling: disableAllLogs");
}

/* fy_json_write_string: what it writes parses back (jansson) to the input, with bytes that are
 * not UTF-8 replaced by '?'. */
static void test_json_strings(void)
{
    static const char *const cases[][2] = {
        {"plain/topic", "plain/topic"},
        {"q\"uote b\\ack", "q\"uote b\\ack"},
        {"tab\tnl\n\x01", "tab\tnl\n\x01"},
        {"caf\xc3\xa9 \xe2\x82\xac", "caf\xc3\xa9 \xe2\x82\xac"},
        {"bad\xff\xc3(", "bad?"
                         "?("},
        {"", ""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char out[FY_JSON_STRING_MAX(16) + 1];
        char *end = fy_json_write_string(out, cases[i][0]);
        *end = '\0';
        json_error_t err;
        json_t *j = json_loadb(out, (size_t)(end - out), JSON_DECODE_ANY, &err);
        ok(j && json_is_string(j) && strcmp(json_string_value(j), cases[i][1]) == 0,
           "json string %zu: %s", i, out);
        json_decref(j);
        /* the same text as a member's key and value, inside an object, within its room */
        char obj[FY_JSON_MEMBER_MAX(16, 16) + 3];
        obj[0] = '{';
        end = fy_json_write_member(obj + 1, cases[i][0], cases[i][0]);
        memcpy(end, "}", 2);
        j = json_loads(obj, 0, &err);
        ok(j && json_object_size(j) == 1 &&
               strcmp(json_string_value(json_object_get(j, cases[i][1])), cases[i][1]) == 0 &&
               (size_t)(end - obj - 1) <=
                   FY_JSON_MEMBER_MAX(strlen(cases[i][0]), strlen(cases[i][0])),
           "json member %zu: %s", i, obj);
        json_decref(j);
    }
}

static int64_t count(struct fy_db *db)
{
    static const char SQL_N[] = "SELECT count(*) FROM log_events WHERE grp = 'AWSIotLogsV2'";
    struct fy_errmsg em = {""};
    sqlite3_stmt *st = fy_db_stmt(db, SQL_N, &em);
    int64_t n = st && sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    fy_stmt_done(st);
    return n;
}

/* Events through a cache wait in its batch until a flush writes them in one transaction; each
 * stored line is one JSON object with the v2 members, a field replacing who's member. */
static void test_batched_events(struct fy_db *db)
{
    struct fy_errmsg em = {""};
    struct fy_logging_options o = {.default_level = FY_LL_DEBUG};
    ok(fy_logging_options_set(db, &o, &em) == FY_ERR_OK, "DEBUG for all");
    struct fy_site site = {"us-east-1", "123456789012"};
    struct fy_iotlog_event_info ev = {&site, FY_LL_INFO, "Publish-In", "MQTT", "Success"};
    struct fy_iotlog_who who = {"dev\"1", "cert", "10.0.0.9", "from-who"};
    const struct fy_iotlog_field f[] = {
        {"topicName", "a/\"b\""}, {"thingName", "from-field"}, {"reason", NULL}};
    struct fy_iotlog *lg = fy_iotlog_new();
    int64_t before = count(db);
    for (int i = 0; i < 3; i++) {
        fy_iotlog_event(lg, db, &ev, &who, f, 3);
    }
    ok(count(db) == before, "batched: nothing stored before the flush");
    fy_iotlog_flush(lg, db, false);
    ok(count(db) == before, "not yet due");
    fy_iotlog_flush(lg, db, true);
    ok(count(db) == before + 3, "flushed: 3 events stored");
    static const char SQL_LAST[] = "SELECT message FROM log_events ORDER BY id DESC LIMIT 1";
    sqlite3_stmt *st = fy_db_stmt(db, SQL_LAST, &em);
    json_t *j = st && sqlite3_step(st) == SQLITE_ROW
                    ? json_loads(fy_col_text(st, 0), JSON_REJECT_DUPLICATES, NULL)
                    : NULL;
    fy_stmt_done(st);
    ok(j != NULL, "stored line is one JSON object without duplicate keys");
    const char *thing = json_string_value(json_object_get(j, "thingName"));
    const char *topic = json_string_value(json_object_get(j, "topicName"));
    const char *client = json_string_value(json_object_get(j, "clientId"));
    ok(thing && strcmp(thing, "from-field") == 0, "field replaces who's thingName");
    ok(topic && strcmp(topic, "a/\"b\"") == 0 && client && strcmp(client, "dev\"1") == 0,
       "escaped values round-trip");
    ok(json_object_get(j, "reason") == NULL, "NULL field left out");
    const char *tr = json_string_value(json_object_get(j, "traceId"));
    const char *ts = json_string_value(json_object_get(j, "timestamp"));
    ok(tr && strlen(tr) == 36 && tr[14] == '4', "traceId is a version-4 UUID");
    ok(ts && strlen(ts) == 23 && ts[10] == ' ' && ts[19] == '.', "timestamp %s", ts ? ts : "");
    json_decref(j);
    ev.level = FY_LL_DEBUG;
    o.default_level = FY_LL_INFO;
    ok(fy_logging_options_set(db, &o, &em) == FY_ERR_OK, "INFO");
    fy_iotlog_invalidate(lg);
    fy_iotlog_event(lg, db, &ev, &who, f, 3);
    fy_iotlog_flush(lg, db, true);
    ok(count(db) == before + 3, "a DEBUG event below INFO is not recorded");
    fy_iotlog_free(lg);
}

static void db_tests(struct fy_db *db)
{
    test_resolution(db);
    test_batched_events(db);
}

int main(void)
{
    test_filters();
    test_filter_limits();
    test_json_strings();
    with_temp_db("/tmp/fy-test-logs-XXXXXX", db_tests);
    return done();
}
