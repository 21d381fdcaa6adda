/* v2 logging configuration: options, per-target levels, and level resolution for an event. */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "logs/logs.h"

static const char *const level_names[] = {"DISABLED", "ERROR", "WARN", "INFO", "DEBUG"};
static const char *const target_names[] = {"DEFAULT", "THING_GROUP", "CLIENT_ID", "SOURCE_IP",
                                           "PRINCIPAL_ID"};

bool fy_loglevel_parse(const char *s, enum fy_loglevel *out)
{
    for (int i = 0; s && i <= FY_LL_DEBUG; i++) {
        if (strcmp(s, level_names[i]) == 0) {
            *out = (enum fy_loglevel)i;
            return true;
        }
    }
    return false;
}

const char *fy_loglevel_name(enum fy_loglevel l)
{
    return (unsigned)l <= FY_LL_DEBUG ? level_names[l] : "DISABLED";
}

bool fy_logtarget_parse(const char *s, enum fy_logtarget *out)
{
    for (int i = 0; s && i < FY_LT__COUNT; i++) {
        if (strcmp(s, target_names[i]) == 0) {
            *out = (enum fy_logtarget)i;
            return true;
        }
    }
    return false;
}

const char *fy_logtarget_name(enum fy_logtarget t)
{
    return (unsigned)t < FY_LT__COUNT ? target_names[t] : "DEFAULT";
}

static const char SQL_OPT_GET[] =
    "SELECT coalesce(role_arn, ''), default_level, disable_all FROM logging_options WHERE id = 1";
static const char SQL_OPT_SET[] =
    "INSERT INTO logging_options(id, role_arn, default_level, disable_all) VALUES (1, ?, ?, ?) "
    "ON CONFLICT(id) DO UPDATE SET role_arn = excluded.role_arn, "
    "default_level = excluded.default_level, disable_all = excluded.disable_all";
static const char SQL_DEFAULT_SET[] =
    "INSERT INTO logging_options(id, default_level) VALUES (1, ?) "
    "ON CONFLICT(id) DO UPDATE SET default_level = excluded.default_level";
static const char SQL_LEVEL_SET[] =
    "INSERT INTO logging_levels(target_type, target_name, level) VALUES (?, ?, ?) "
    "ON CONFLICT(target_type, target_name) DO UPDATE SET level = excluded.level";
static const char SQL_LEVEL_EXISTS[] =
    "SELECT 1 FROM logging_levels WHERE target_type = ? AND target_name = ?";
static const char SQL_LEVEL_COUNT[] = "SELECT count(*) FROM logging_levels";
static const char SQL_LEVEL_DEL[] =
    "DELETE FROM logging_levels WHERE target_type = ? AND target_name = ?";
static const char SQL_LEVEL_PAGE[] =
    "SELECT target_type, target_name, level FROM logging_levels "
    "WHERE (?1 < 0 OR target_type = ?1) AND (target_type, target_name) > (?2, ?3) "
    "ORDER BY target_type, target_name LIMIT ?4";

fy_err
fy_logging_options_get(struct fy_db *db, struct fy_logging_options *out, struct fy_errmsg *em)
{
    sqlite3_stmt *st = fy_db_stmt(db, SQL_OPT_GET, em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    int rc = sqlite3_step(st);
    fy_err e = FY_ERR_OK;
    if (rc == SQLITE_ROW) {
        snprintf(out->role_arn, sizeof(out->role_arn), "%s", fy_col_text(st, 0));
        out->default_level = (enum fy_loglevel)sqlite3_column_int(st, 1);
        out->disable_all = sqlite3_column_int(st, 2) != 0;
    } else if (rc == SQLITE_DONE) {
        e = fy_fail(em, FY_ERR_NOT_CONFIGURED, "Logging options are not configured");
    } else {
        e = fy_db_err(db, rc, em);
    }
    fy_stmt_done(st);
    return e;
}

/* Runs a bound write statement to completion. */
static fy_err step_done(struct fy_db *db, sqlite3_stmt *st, struct fy_errmsg *em)
{
    int rc = sqlite3_step(st);
    fy_stmt_done(st);
    return rc == SQLITE_DONE ? FY_ERR_OK : fy_db_err(db, rc, em);
}

fy_err
fy_logging_options_set(struct fy_db *db, const struct fy_logging_options *o, struct fy_errmsg *em)
{
    sqlite3_stmt *st = fy_db_stmt(db, SQL_OPT_SET, em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    fy_bind_text(st, 1, o->role_arn[0] ? o->role_arn : NULL);
    sqlite3_bind_int(st, 2, (int)o->default_level);
    sqlite3_bind_int(st, 3, o->disable_all);
    return step_done(db, st, em);
}

static int64_t count_levels(struct fy_db *db, struct fy_errmsg *em)
{
    sqlite3_stmt *st = fy_db_stmt(db, SQL_LEVEL_COUNT, em);
    int64_t n = -1;
    if (st && sqlite3_step(st) == SQLITE_ROW) {
        n = sqlite3_column_int64(st, 0);
    }
    fy_stmt_done(st);
    return n;
}

static bool level_exists(struct fy_db *db, enum fy_logtarget t, const char *name)
{
    sqlite3_stmt *st = fy_db_stmt(db, SQL_LEVEL_EXISTS, NULL);
    bool found = false;
    if (st) {
        sqlite3_bind_int(st, 1, (int)t);
        fy_bind_text(st, 2, name);
        found = sqlite3_step(st) == SQLITE_ROW;
    }
    fy_stmt_done(st);
    return found;
}

static fy_err level_set_tx(struct fy_db *db,
                           enum fy_logtarget t,
                           const char *name,
                           enum fy_loglevel l,
                           struct fy_errmsg *em)
{
    sqlite3_stmt *st;
    if (t == FY_LT_DEFAULT) {
        st = fy_db_stmt(db, SQL_DEFAULT_SET, em);
        if (!st) {
            return FY_ERR_INTERNAL;
        }
        sqlite3_bind_int(st, 1, (int)l);
        return step_done(db, st, em);
    }
    if (!level_exists(db, t, name) && count_levels(db, em) >= FY_LOGGING_TARGETS_MAX) {
        return fy_fail(em, FY_ERR_LIMIT_EXCEEDED, "At most %d log targets may be configured",
                       FY_LOGGING_TARGETS_MAX);
    }
    st = fy_db_stmt(db, SQL_LEVEL_SET, em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    sqlite3_bind_int(st, 1, (int)t);
    fy_bind_text(st, 2, name);
    sqlite3_bind_int(st, 3, (int)l);
    return step_done(db, st, em);
}

fy_err fy_logging_level_set(struct fy_db *db,
                            enum fy_logtarget t,
                            const char *name,
                            enum fy_loglevel l,
                            struct fy_errmsg *em)
{
    FY_DB_RETURN_IN_CHANGE_TX(db, em, level_set_tx(db, t, name, l, em));
}

fy_err fy_logging_level_delete(struct fy_db *db,
                               enum fy_logtarget t,
                               const char *name,
                               struct fy_errmsg *em)
{
    sqlite3_stmt *st = fy_db_stmt(db, SQL_LEVEL_DEL, em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    sqlite3_bind_int(st, 1, (int)t);
    fy_bind_text(st, 2, name);
    return step_done(db, st, em);
}

static json_t *level_to_json(enum fy_logtarget t, const char *name, enum fy_loglevel l)
{
    return json_pack("{s:{s:s, s:s}, s:s}", "logTarget", "targetType", fy_logtarget_name(t),
                     "targetName", name, "logLevel", fy_loglevel_name(l));
}

/* Splits a page key "type\nname" (from fy_logging_levels_list). */
static void split_key(const char *after, int *type, const char **name)
{
    *type = -1;
    *name = "";
    if (after && after[0] >= '0' && after[0] <= '9' && after[1] == '\n') {
        *type = after[0] - '0';
        *name = after + 2;
    }
}

static char *page_key(int type, const char *name)
{
    size_t n = strlen(name) + 3;
    char *k = fy_malloc(n);
    if (k) {
        snprintf(k, n, "%d\n%s", type, name);
    }
    return k;
}

fy_err fy_logging_levels_list(struct fy_db *db,
                              enum fy_logtarget t,
                              const char *after,
                              int64_t limit,
                              json_t *j_items,
                              char **next,
                              struct fy_errmsg *em)
{
    int after_type;
    const char *after_name;
    split_key(after, &after_type, &after_name);
    sqlite3_stmt *st = fy_db_stmt(db, SQL_LEVEL_PAGE, em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    sqlite3_bind_int(st, 1, t == FY_LT__COUNT ? -1 : (int)t);
    sqlite3_bind_int(st, 2, after_type);
    fy_bind_text(st, 3, after_name);
    sqlite3_bind_int64(st, 4, limit + 1);
    int rc = SQLITE_DONE, n = 0;
    bool ok = true;
    *next = NULL;
    while (ok && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        int type = sqlite3_column_int(st, 0);
        const char *name = fy_col_text(st, 1);
        if (n++ == limit) {
            break;
        }
        json_t *j = level_to_json((enum fy_logtarget)type, name,
                                  (enum fy_loglevel)sqlite3_column_int(st, 2));
        FY_FREE(*next);
        *next = page_key(type, name);
        ok = json_array_append_new(j_items, j) == 0 && *next;
    }
    fy_stmt_done(st);
    if (!ok || n <= limit) {
        FY_FREE(*next);
    }
    if (!ok) {
        return fy_fail(em, FY_ERR_NOMEM, "Out of memory");
    }
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? FY_ERR_OK : fy_db_err(db, rc, em);
}
