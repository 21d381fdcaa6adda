/* The log store's groups and streams (CloudWatch Logs shapes), with retention. */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "logs/logs_int.h"

#define DAY_MS (86400LL * 1000)

static const char SQL_GROUP_ADD[] =
    "INSERT INTO log_groups(name, created, retention_days) VALUES (?, ?, NULL)";
static const char SQL_GROUP_COUNT[] = "SELECT count(*) FROM log_groups";
static const char SQL_GROUP_GET[] = "SELECT retention_days FROM log_groups WHERE name = ?";
static const char SQL_GROUP_DEL[] = "DELETE FROM log_groups WHERE name = ?";
static const char SQL_GROUP_DEL_STREAMS[] = "DELETE FROM log_streams WHERE grp = ?";
static const char SQL_GROUP_DEL_EVENTS[] = "DELETE FROM log_events WHERE grp = ?";
static const char SQL_GROUP_RETAIN[] = "UPDATE log_groups SET retention_days = ? WHERE name = ?";
static const char SQL_EXPIRE[] =
    "DELETE FROM log_events WHERE id IN (SELECT e.id FROM log_groups g JOIN log_events e"
    " ON e.grp = g.name WHERE g.retention_days IS NOT NULL AND e.ts < ?1 - g.retention_days * ?2)";
static const char SQL_GROUP_PAGE[] =
    "SELECT g.name, g.created, g.retention_days,"
    " (SELECT coalesce(sum(length(message)), 0) FROM log_events e WHERE e.grp = g.name)"
    " FROM log_groups g WHERE g.name > ?1 AND substr(g.name, 1, length(?2)) = ?2"
    " ORDER BY g.name LIMIT ?3";

bool fy_logs_valid_group_name(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    return n >= 1 && n <= FY_LOGS_GROUP_NAME_MAX &&
           strspn(s, "._-/#ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") == n;
}

bool fy_logs_valid_stream_name(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    return n >= 1 && n <= FY_LOGS_STREAM_NAME_MAX && strcspn(s, ":*") == n;
}

bool fy_logs_valid_retention(int64_t days)
{
    static const int allowed[] = {1,   3,   5,   7,   14,   30,   60,   90,   120,  150,  180,
                                  365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653};
    for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++) {
        if (allowed[i] == days) {
            return true;
        }
    }
    return false;
}

static fy_err group_add_tx(struct fy_db *db, const char *name, int64_t now_ms, struct fy_errmsg *em)
{
    sqlite3_stmt *st = fy_db_stmt(db, SQL_GROUP_COUNT, em);
    int64_t n = st && sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    fy_stmt_done(st);
    if (n >= FY_LOGS_GROUPS_MAX) {
        return fy_fail(em, FY_ERR_LIMIT_EXCEEDED, "At most %d log groups may exist",
                       FY_LOGS_GROUPS_MAX);
    }
    st = fy_db_stmt(db, SQL_GROUP_ADD, em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    fy_bind_text(st, 1, name);
    sqlite3_bind_int64(st, 2, now_ms);
    int rc = sqlite3_step(st);
    fy_stmt_done(st);
    if (rc == SQLITE_CONSTRAINT) {
        return fy_fail(em, FY_ERR_ALREADY_EXISTS, "The specified log group already exists");
    }
    return rc == SQLITE_DONE ? FY_ERR_OK : fy_db_err(db, rc, em);
}

fy_err
fy_logs_group_create(struct fy_db *db, const char *name, int64_t now_ms, struct fy_errmsg *em)
{
    FY_DB_RETURN_IN_CHANGE_TX(db, em, group_add_tx(db, name, now_ms, em));
}

fy_err fy_logs_group_exists(struct fy_db *db, const char *name, struct fy_errmsg *em)
{
    sqlite3_stmt *st = fy_db_stmt(db, SQL_GROUP_GET, em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    fy_bind_text(st, 1, name);
    int rc = sqlite3_step(st);
    fy_stmt_done(st);
    if (rc == SQLITE_DONE) {
        return fy_fail(em, FY_ERR_NOT_FOUND, "The specified log group does not exist.");
    }
    return rc == SQLITE_ROW ? FY_ERR_OK : fy_db_err(db, rc, em);
}

static fy_err group_del_tx(struct fy_db *db, const char *name, struct fy_errmsg *em)
{
    fy_err e = fy_logs_group_exists(db, name, em);
    e = e ? e : fy_db_exec_text(db, SQL_GROUP_DEL_EVENTS, name, em);
    e = e ? e : fy_db_exec_text(db, SQL_GROUP_DEL_STREAMS, name, em);
    return e ? e : fy_db_exec_text(db, SQL_GROUP_DEL, name, em);
}

fy_err fy_logs_group_delete(struct fy_db *db, const char *name, struct fy_errmsg *em)
{
    FY_DB_RETURN_IN_CHANGE_TX(db, em, group_del_tx(db, name, em));
}

fy_err fy_logs_expire(struct fy_db *db, int64_t now_ms, struct fy_errmsg *em)
{
    sqlite3_stmt *st = fy_db_stmt(db, SQL_EXPIRE, em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    sqlite3_bind_int64(st, 1, now_ms);
    sqlite3_bind_int64(st, 2, DAY_MS);
    int rc = sqlite3_step(st);
    fy_stmt_done(st);
    return rc == SQLITE_DONE ? FY_ERR_OK : fy_db_err(db, rc, em);
}

static fy_err
retain_tx(struct fy_db *db, const char *name, int days, int64_t now_ms, struct fy_errmsg *em)
{
    fy_err e = fy_logs_group_exists(db, name, em);
    sqlite3_stmt *st = e ? NULL : fy_db_stmt(db, SQL_GROUP_RETAIN, em);
    if (e || !st) {
        return e ? e : FY_ERR_INTERNAL;
    }
    if (days > 0) {
        sqlite3_bind_int(st, 1, days);
    }
    fy_bind_text(st, 2, name);
    int rc = sqlite3_step(st);
    fy_stmt_done(st);
    if (rc != SQLITE_DONE) {
        return fy_db_err(db, rc, em);
    }
    return fy_logs_expire(db, now_ms, em);
}

fy_err fy_logs_group_retention(
    struct fy_db *db, const char *name, int days, int64_t now_ms, struct fy_errmsg *em)
{
    FY_DB_RETURN_IN_CHANGE_TX(db, em, retain_tx(db, name, days, now_ms, em));
}

static json_t *group_to_json(sqlite3_stmt *st, const void *ctx)
{
    const struct fy_site *site = ctx;
    char arn[FY_LOGS_GROUP_NAME_MAX + 96];
    const char *name = fy_col_text(st, 0);
    snprintf(arn, sizeof(arn), "arn:aws:logs:%s:%s:log-group:%s:*", site->region, site->account,
             name);
    json_t *j = json_pack("{s:s, s:I, s:i, s:s, s:I}", "logGroupName", name, "creationTime",
                          (json_int_t)sqlite3_column_int64(st, 1), "metricFilterCount", 0, "arn",
                          arn, "storedBytes", (json_int_t)sqlite3_column_int64(st, 3));
    if (j && sqlite3_column_type(st, 2) != SQLITE_NULL &&
        json_object_set_new(j, "retentionInDays", json_integer(sqlite3_column_int(st, 2))) != 0) {
        json_decref(j); /* fy_logs_page answers Out of memory */
        j = NULL;
    }
    return j;
}

fy_err fy_logs_groups_list(struct fy_db *db,
                           const struct fy_site *site,
                           const char *prefix,
                           const char *after,
                           int64_t limit,
                           json_t *j_items,
                           char **next,
                           struct fy_errmsg *em)
{
    sqlite3_stmt *st = fy_db_stmt(db, SQL_GROUP_PAGE, em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    fy_bind_text(st, 1, after ? after : "");
    fy_bind_text(st, 2, prefix ? prefix : "");
    sqlite3_bind_int64(st, 3, limit + 1);
    return fy_logs_page(db, st, limit, group_to_json, site, j_items, next, em);
}

fy_err fy_logs_page(struct fy_db *db,
                    sqlite3_stmt *st,
                    int64_t limit,
                    json_t *(*row_to_json)(sqlite3_stmt *st, const void *ctx),
                    const void *ctx,
                    json_t *j_items,
                    char **next,
                    struct fy_errmsg *em)
{
    int rc = SQLITE_DONE, n = 0;
    bool ok = true;
    *next = NULL;
    while (ok && (rc = sqlite3_step(st)) == SQLITE_ROW && n++ < limit) {
        ok = json_array_append_new(j_items, row_to_json(st, ctx)) == 0;
        FY_FREE(*next);
        *next = fy_strdup(fy_col_text(st, 0));
        ok = ok && *next;
    }
    fy_stmt_done(st);
    if (!ok || rc != SQLITE_ROW) {
        FY_FREE(*next);
    }
    if (!ok) {
        return fy_fail(em, FY_ERR_NOMEM, "Out of memory");
    }
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? FY_ERR_OK : fy_db_err(db, rc, em);
}
