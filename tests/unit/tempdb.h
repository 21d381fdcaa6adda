/* Unit tests: run a test function on a fresh migrated database in a temp file (removed after).
 * Header-only; include after tap.h. */
#ifndef FY_TESTS_TEMPDB_H
#define FY_TESTS_TEMPDB_H

#include <stdlib.h>
#include <unistd.h>

#include "core/db.h"

/* Calls fn(db) on a new database (path made from tmpl, "/tmp/...-XXXXXX"); a failing setup
 * is one failed test. */
static void with_temp_db(const char *tmpl, void (*fn)(struct fy_db *db))
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

#endif
