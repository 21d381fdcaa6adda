/* SQLite layer: pragmas, migrations by user_version, refusing a newer database, statement
 * cache, constraint mapping. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/db.h"
#include "tests/unit/tap.h"

static int scalar(struct fy_db *db, const char *sql)
{
    sqlite3_stmt *st;
    int v = -1;
    if (sqlite3_prepare_v2(fy_db_handle(db), sql, -1, &st, NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW) {
            v = sqlite3_column_int(st, 0);
        }
        sqlite3_finalize(st);
    }
    return v;
}

static const char SQL_INS[] = "INSERT INTO settings(key, value) VALUES (?, 'v')";

int main(void)
{
    char path[] = "/tmp/fy-test-db-XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    struct fy_db *db;
    struct fy_errmsg em;
    ok(fy_db_open(path, &db, &em) == FY_ERR_OK, "open");
    ok(scalar(db, "PRAGMA foreign_keys") == 1, "foreign keys on");
    ok(scalar(db, "PRAGMA user_version") == 0, "fresh database at version 0");
    ok(fy_db_migrate(db, &em) == FY_ERR_OK, "migrate");
    ok(scalar(db, "PRAGMA user_version") == fy_db_schema_version(), "at the binary's version");
    ok(fy_db_migrate(db, &em) == FY_ERR_OK, "migrating again is a no-op");
    ok(scalar(db, "SELECT count(*) FROM sqlite_schema WHERE name='things'") == 1,
       "things table exists");

    sqlite3_stmt *a = fy_db_stmt(db, SQL_INS, &em);
    sqlite3_stmt *b = fy_db_stmt(db, SQL_INS, &em);
    ok(a && a == b, "statement cached by SQL text");
    fy_bind_text(a, 1, "k1");
    ok(sqlite3_step(a) == SQLITE_DONE, "insert");
    fy_stmt_done(a);
    fy_bind_text(a, 1, "k1");
    int rc = sqlite3_step(a);
    ok(fy_db_err(db, rc, &em) == FY_ERR_ALREADY_EXISTS, "unique violation -> ALREADY_EXISTS");
    fy_stmt_done(a);

    ok(fy_db_begin(db, &em) == FY_ERR_OK, "BEGIN IMMEDIATE");
    fy_db_rollback(db);
    ok(sqlite3_get_autocommit(fy_db_handle(db)) == 1, "rolled back");

    char bump[64];
    snprintf(bump, sizeof(bump), "PRAGMA user_version=%d", fy_db_schema_version() + 1);
    ok(fy_db_exec(db, bump, &em) == FY_ERR_OK, "simulate a newer database");
    ok(fy_db_migrate(db, &em) == FY_ERR_INTERNAL && strstr(em.msg, "newer") != NULL,
       "newer database refused: %s", em.msg);
    fy_db_close(db);
    unlink(path);
    char wal[64];
    snprintf(wal, sizeof(wal), "%s-wal", path);
    unlink(wal);
    snprintf(wal, sizeof(wal), "%s-shm", path);
    unlink(wal);
    return done();
}
