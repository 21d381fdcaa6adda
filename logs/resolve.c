/* A snapshot of the v2 logging levels and the level that applies to one event's subject. */
#include <string.h>

#include "core/alloc.h"
#include "logs/logs.h"

struct level_row {
    enum fy_logtarget type;
    enum fy_loglevel level;
    char *name;
};

struct fy_logging_levels {
    bool configured;
    enum fy_loglevel default_level;
    bool disable_all;
    bool has_groups;
    int n;
    struct level_row rows[]; /* FY_LOGGING_TARGETS_MAX at most */
};

static const char SQL_ALL[] = "SELECT target_type, target_name, level FROM logging_levels "
                              "ORDER BY target_type, target_name LIMIT ?";
static const char SQL_GROUP_LEVEL[] =
    "WITH RECURSIVE g(id) AS ("
    " SELECT m.grp FROM thing_group_members m JOIN things t ON t.id = m.thing WHERE t.name = ?1"
    " UNION SELECT tg.parent FROM thing_groups tg JOIN g ON tg.id = g.id"
    " WHERE tg.parent IS NOT NULL)"
    " SELECT l.level FROM g JOIN thing_groups tg ON tg.id = g.id"
    " JOIN logging_levels l ON l.target_type = 1 AND l.target_name = tg.name"
    " ORDER BY tg.depth DESC, l.level DESC LIMIT 1";

void fy_logging_levels_free(struct fy_logging_levels *l)
{
    if (!l) {
        return;
    }
    for (int i = 0; i < l->n; i++) {
        fy_free(l->rows[i].name);
    }
    fy_free(l);
}

static fy_err load_rows(struct fy_db *db, struct fy_logging_levels *l, struct fy_errmsg *em)
{
    sqlite3_stmt *st = fy_db_stmt(db, SQL_ALL, em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    sqlite3_bind_int(st, 1, FY_LOGGING_TARGETS_MAX);
    int rc;
    fy_err e = FY_ERR_OK;
    while (!e && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct level_row *r = &l->rows[l->n];
        r->type = (enum fy_logtarget)sqlite3_column_int(st, 0);
        r->level = (enum fy_loglevel)sqlite3_column_int(st, 2);
        r->name = fy_strdup(fy_col_text(st, 1));
        if (!r->name) {
            e = fy_fail(em, FY_ERR_NOMEM, "Out of memory");
            break;
        }
        l->has_groups = l->has_groups || r->type == FY_LT_THING_GROUP;
        l->n++;
    }
    if (!e && rc != SQLITE_DONE) {
        e = fy_db_err(db, rc, em);
    }
    fy_stmt_done(st);
    return e;
}

fy_err
fy_logging_levels_load(struct fy_db *db, struct fy_logging_levels **out, struct fy_errmsg *em)
{
    struct fy_logging_levels *l =
        fy_calloc(1, sizeof(*l) + FY_LOGGING_TARGETS_MAX * sizeof(struct level_row));
    if (!l) {
        return fy_fail(em, FY_ERR_NOMEM, "Out of memory");
    }
    struct fy_logging_options o;
    fy_err e = fy_logging_options_get(db, &o, em);
    if (e == FY_ERR_NOT_CONFIGURED) {
        o.default_level = FY_LL_DISABLED; /* never configured: only named targets log */
        o.disable_all = false;
        e = FY_ERR_OK;
    } else {
        l->configured = !e;
    }
    l->default_level = o.default_level;
    l->disable_all = o.disable_all;
    e = e ? e : load_rows(db, l, em);
    if (e) {
        fy_logging_levels_free(l);
        return e;
    }
    *out = l;
    return FY_ERR_OK;
}

/* The level of (type, name), or -1 when no such target. */
static int find(const struct fy_logging_levels *l, enum fy_logtarget type, const char *name)
{
    if (!name || !*name) {
        return -1;
    }
    for (int i = 0; i < l->n; i++) {
        if (l->rows[i].type == type && strcmp(l->rows[i].name, name) == 0) {
            return (int)l->rows[i].level;
        }
    }
    return -1;
}

static int group_level(struct fy_db *db, const char *thing)
{
    if (!db || !thing || !*thing) {
        return -1;
    }
    sqlite3_stmt *st = fy_db_stmt(db, SQL_GROUP_LEVEL, NULL);
    int level = -1;
    if (st) {
        fy_bind_text(st, 1, thing);
        if (sqlite3_step(st) == SQLITE_ROW) {
            level = sqlite3_column_int(st, 0);
        }
    }
    fy_stmt_done(st);
    return level;
}

enum fy_loglevel fy_logging_ceiling(const struct fy_logging_levels *l)
{
    enum fy_loglevel m = l->disable_all ? FY_LL_DISABLED : l->default_level;
    for (int i = 0; !l->disable_all && i < l->n; i++) {
        m = l->rows[i].level > m ? l->rows[i].level : m;
    }
    return m;
}

enum fy_loglevel fy_logging_resolve(const struct fy_logging_levels *l,
                                    struct fy_db *db,
                                    const struct fy_iotlog_who *who)
{
    if (l->disable_all) {
        return FY_LL_DISABLED;
    }
    int v = find(l, FY_LT_CLIENT_ID, who->client_id);
    v = v >= 0 ? v : find(l, FY_LT_PRINCIPAL_ID, who->principal_id);
    v = v >= 0 ? v : find(l, FY_LT_SOURCE_IP, who->source_ip);
    if (v < 0 && l->has_groups) {
        v = group_level(db, who->thing_name ? who->thing_name : who->client_id);
    }
    return v >= 0 ? (enum fy_loglevel)v : l->default_level;
}
