/* Unit tests for logs/: filter patterns (pure) and level resolution on a temp database. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

static void test_resolution(struct fy_db *db)
{
    struct fy_errmsg em = {""};
    struct fy_iotlog_who who = {"c1", "p1", "10.0.0.1", "thing1"};
    ok(resolve(db, &who) == FY_LL_DISABLED, "not configured: DISABLED");
    struct fy_logging_options o = {.default_level = FY_LL_WARN};
    ok(fy_logging_options_set(db, &o, &em) == FY_ERR_OK, "options set");
    ok(resolve(db, &who) == FY_LL_WARN, "default applies");
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
}

int main(void)
{
    test_filters();
    test_filter_limits();
    with_temp_db("/tmp/fy-test-logs-XXXXXX", test_resolution);
    return done();
}
