/* Building a dynamic group's membership in bounded chunks (ARCHITECTURE.md: a write that can
 * touch many rows never holds the database for long). A group being built has status BUILDING
 * (new) or REBUILDING (query changed; its old members stay until their chunk is settled) and a
 * cursor settings["index.build.<group id>"] = the last thing id settled. Each step settles the
 * next FY_BUILD_CHUNK things by id in one short transaction; the group becomes ACTIVE after the
 * last. Things changed meanwhile are settled by the change log as usual. */
#include <stdint.h>
#include <stdio.h>

#include "core/alloc.h"
#include "core/fytime.h"
#include "index/index_int.h"

#define BUILD_KEY_MAX   48
#define BUILD_GROUP_MAX FY_INDEX_DYN_GROUPS_MAX

static const char SQL_STATUS[] = "UPDATE thing_groups SET status = ? WHERE id = ?";
static const char SQL_CURSOR_GET[] = "SELECT CAST(value AS INTEGER), 1 FROM settings WHERE key = ?";
static const char SQL_CURSOR_PUT[] = "INSERT INTO settings(key, value) VALUES (?, ?) "
                                     "ON CONFLICT(key) DO UPDATE SET value = excluded.value";
static const char SQL_CURSOR_DEL[] = "DELETE FROM settings WHERE key = ?";
static const char SQL_BUILDS[] =
    "SELECT g.id, g.query_string FROM thing_groups g JOIN settings s ON s.key = "
    "'index.build.' || g.id WHERE g.dynamic = 1 ORDER BY g.id LIMIT ?";
static const char SQL_CHUNK[] =
    "SELECT count(*), max(id) FROM (SELECT id FROM things WHERE id > ? ORDER BY id LIMIT ?)";
static const char LEAVE_PREFIX[] =
    "DELETE FROM thing_group_members WHERE grp = ? AND thing IN (SELECT t.id FROM things t "
    "WHERE t.id > ? AND t.id <= ? AND NOT IFNULL(";
static const char LEAVE_SUFFIX[] = ", 0))";
static const char JOIN_PREFIX[] =
    "INSERT OR IGNORE INTO thing_group_members(grp, thing, added) SELECT ?, t.id, ? FROM things t "
    "WHERE t.id > ? AND t.id <= ? AND ";
static const char JOIN_SUFFIX[] =
    " AND (SELECT count(*) FROM thing_group_members x WHERE x.thing = t.id) < 10";

static void build_key(char key[BUILD_KEY_MAX], int64_t gid)
{
    snprintf(key, BUILD_KEY_MAX, "index.build.%lld", (long long)gid);
}

/* Binds text/int pairs and runs a cached statement; *a / *b (may be NULL) get columns 0/1. */
static fy_err run(struct fy_db *db,
                  const char *sql,
                  const char *text,
                  int64_t x,
                  int64_t y,
                  int64_t *a,
                  int64_t *b,
                  struct fy_errmsg *em)
{
    sqlite3_stmt *st = fy_db_stmt(db, sql, em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    int i = 1;
    if (text) {
        fy_bind_text(st, i++, text);
    }
    if (i <= sqlite3_bind_parameter_count(st)) {
        sqlite3_bind_int64(st, i++, x);
    }
    if (i <= sqlite3_bind_parameter_count(st)) {
        sqlite3_bind_int64(st, i, y);
    }
    int rc = sqlite3_step(st);
    if (a) {
        *a = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    }
    if (b) {
        *b = rc == SQLITE_ROW ? sqlite3_column_int64(st, 1) : 0;
    }
    fy_stmt_done(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? FY_ERR_OK : fy_db_err(db, rc, em);
}

fy_err fy_dyn_build_start(struct fy_db *db, int64_t gid, bool rebuild, struct fy_errmsg *em)
{
    char key[BUILD_KEY_MAX];
    build_key(key, gid);
    sqlite3_stmt *st = fy_db_stmt(db, SQL_STATUS, em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    fy_bind_text(st, 1, rebuild ? "REBUILDING" : "BUILDING");
    sqlite3_bind_int64(st, 2, gid);
    int rc = sqlite3_step(st);
    fy_stmt_done(st);
    if (rc != SQLITE_DONE) {
        return fy_db_err(db, rc, em);
    }
    return run(db, SQL_CURSOR_PUT, key, INT64_MIN, 0, NULL, NULL, em); /* before any row id */
}

/* Runs a compiled statement whose prefix takes (group, a, b, c...) as its first parameters. */
static fy_err run_compiled(struct fy_db *db,
                           const char *prefix,
                           const struct fy_index_sql *q,
                           const char *suffix,
                           const int64_t *args,
                           int nargs,
                           struct fy_errmsg *em)
{
    sqlite3_stmt *st = NULL;
    fy_err e = fy_index_prepare(db, prefix, q, suffix, &st, em);
    if (e) {
        return e;
    }
    for (int i = 0; i < nargs; i++) {
        sqlite3_bind_int64(st, i + 1, args[i]);
    }
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? FY_ERR_OK : fy_db_err(db, rc, em);
}

struct step {
    int64_t gid, chunk;
    const struct fy_index_sql *q;
    bool done;
};

/* One chunk of one group, inside a write transaction (fy_db_tx_fn). */
static fy_err step_locked(struct fy_db *db, void *arg, struct fy_errmsg *em)
{
    struct step *s = arg;
    char key[BUILD_KEY_MAX];
    int64_t cursor = 0, found = 0, n = 0, last = 0;
    build_key(key, s->gid);
    fy_err e = run(db, SQL_CURSOR_GET, key, 0, 0, &cursor, &found, em);
    s->done = !e && !found; /* finished (or deleted) meanwhile */
    e = e || s->done ? e : run(db, SQL_CHUNK, NULL, cursor, s->chunk, &n, &last, em);
    if (!e && !s->done && n > 0) {
        int64_t leave[] = {s->gid, cursor, last};
        int64_t join[] = {s->gid, (int64_t)fy_now(), cursor, last};
        e = run_compiled(db, LEAVE_PREFIX, s->q, LEAVE_SUFFIX, leave, 3, em);
        e = e ? e : run_compiled(db, JOIN_PREFIX, s->q, JOIN_SUFFIX, join, 4, em);
    }
    if (e || s->done) {
        return e;
    }
    s->done = n < s->chunk;
    if (!s->done) {
        return run(db, SQL_CURSOR_PUT, key, last, 0, NULL, NULL, em);
    }
    e = run(db, SQL_CURSOR_DEL, key, 0, 0, NULL, NULL, em);
    sqlite3_stmt *st = e ? NULL : fy_db_stmt(db, SQL_STATUS, em);
    if (!st) {
        return e ? e : FY_ERR_INTERNAL;
    }
    fy_bind_text(st, 1, "ACTIVE");
    sqlite3_bind_int64(st, 2, s->gid);
    int rc = sqlite3_step(st);
    fy_stmt_done(st);
    return rc == SQLITE_DONE ? FY_ERR_OK : fy_db_err(db, rc, em);
}

/* Builds group gid with query until it is done or the deadline passes; *done says which. */
static fy_err build_group(struct fy_db *db,
                          const struct fy_index_config *cfg,
                          int64_t gid,
                          const char *query,
                          int64_t chunk,
                          uint64_t deadline,
                          bool *done,
                          struct fy_errmsg *em)
{
    struct fy_index_sql *q = NULL;
    struct fy_errmsg qem;
    *done = false;
    if (fy_index_compile_opts(query, FY_INDEX_KIND_THINGS, cfg, true, &q, &qem) != FY_ERR_OK) {
        return FY_ERR_OK; /* not buildable under this configuration: left as it is */
    }
    struct step s = {gid, chunk, q, false};
    fy_err e = FY_ERR_OK;
    do { /* at least one chunk per call, so every call makes progress */
        e = fy_db_run_tx(db, step_locked, &s, em);
    } while (!e && !s.done && fy_mono_ns() < deadline);
    *done = s.done;
    fy_index_sql_free(q);
    return e;
}

struct pending {
    int n;
    int64_t id[BUILD_GROUP_MAX];
    char *query[BUILD_GROUP_MAX];
};

static fy_err load_pending(struct fy_db *db, struct pending *p, struct fy_errmsg *em)
{
    sqlite3_stmt *st = fy_db_stmt(db, SQL_BUILDS, em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    sqlite3_bind_int(st, 1, BUILD_GROUP_MAX);
    int rc;
    fy_err e = FY_ERR_OK;
    while (!e && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        p->id[p->n] = sqlite3_column_int64(st, 0);
        p->query[p->n] = fy_strdup(fy_col_text(st, 1));
        e = p->query[p->n++] ? FY_ERR_OK : fy_fail(em, FY_ERR_NOMEM, "Out of memory");
    }
    fy_stmt_done(st);
    return !e && rc != SQLITE_DONE ? fy_db_err(db, rc, em) : e;
}

fy_err fy_dyn_build(struct fy_db *db,
                    int64_t only,
                    int64_t chunk,
                    uint64_t budget_ns,
                    int *unfinished,
                    struct fy_errmsg *em)
{
    struct fy_index_config cfg;
    struct pending *p = fy_calloc(1, sizeof(*p));
    uint64_t deadline = fy_mono_ns() + budget_ns;
    int left = 0;
    fy_err e = p ? fy_index_config_load(db, &cfg, em) : fy_fail(em, FY_ERR_NOMEM, "Out of memory");
    e = e ? e : load_pending(db, p, em);
    for (int i = 0; !e && p && i < p->n; i++) {
        bool done = false;
        if (!only || p->id[i] == only) {
            e = build_group(db, &cfg, p->id[i], p->query[i], chunk, deadline, &done, em);
            left += done ? 0 : 1;
        }
    }
    for (int i = 0; p && i < p->n; i++) {
        fy_free(p->query[i]);
    }
    fy_free(p);
    if (unfinished) {
        *unfinished = left;
    }
    return e;
}
