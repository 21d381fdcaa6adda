/* Unit tests: run a test function on a fresh migrated database in a temp file (removed after),
 * and read one integer from a database. Header-only; include after tap.h. */
#ifndef FY_TESTS_TEMPDB_H
#define FY_TESTS_TEMPDB_H

#include <stdlib.h>
#include <unistd.h>

#include "core/db.h"

/* Calls fn(db) on a new database (path made from tmpl, "/tmp/...-XXXXXX"); a failing setup
 * is one failed test. */
static inline void with_temp_db(const char *tmpl, void (*fn)(struct fy_db *db))
{
    char path[256];
    snprintf(path, sizeof(path), "%s", tmpl);
    int fd = mkstemp(path);
    struct fy_db *db = NULL;
    struct fy_errmsg em = {""};
    if (fd >= 0 && fy_db_open(path, &db, &em) == FY_ERR_OK && fy_db_migrate(db, &em) == FY_ERR_OK) {
        fn(db);
    } else {
        ok(0, "temp database: %s", em.msg);
    }
    fy_db_close(db);
    if (fd >= 0) {
        close(fd);
        unlink(path);
    }
}

/* The integer in the first column of the first row of sql on db (a count, a pragma); -1 when
 * sql fails or returns no row. */
static inline int64_t tdb_int(struct fy_db *db, const char *sql)
{
    sqlite3_stmt *st;
    int64_t n = -1;
    if (sqlite3_prepare_v2(fy_db_handle(db), sql, -1, &st, NULL) == SQLITE_OK) {
        n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
        sqlite3_finalize(st);
    }
    return n;
}

#endif
