/* Fuzzes the fleet indexing query compiler: the input is a query string. Besides memory safety
 * it checks one invariant: every query that compiles yields SQL that SQLite prepares (on a
 * migrated in-memory database), with exactly as many parameters as the compiler bound. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/db.h"
#include "core/json.h"
#include "core/log.h"
#include "index/index.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct fy_db *fz_db(void)
{
    static struct fy_db *db;
    struct fy_errmsg em;
    if (!db) {
        fy_json_init();
        fy_log_threshold = FY_LOG_ERROR;
        if (fy_db_open(":memory:", &db, &em) != FY_ERR_OK || fy_db_migrate(db, &em) != FY_ERR_OK) {
            abort();
        }
    }
    return db;
}

static void fz_check(struct fy_db *db, const struct fy_index_sql *q, const char *prefix)
{
    struct fy_errmsg em;
    sqlite3_stmt *st = NULL;
    if (fy_index_prepare(db, prefix, q, "", &st, &em) != FY_ERR_OK ||
        sqlite3_bind_parameter_count(st) != (int)q->nparams) {
        abort();
    }
    while (sqlite3_step(st) == SQLITE_ROW) {
    }
    sqlite3_finalize(st);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fy_db *db = fz_db();
    char *query = fy_strndup((const char *)data, size);
    if (!query) {
        return 0;
    }
    for (int kind = 0; kind < 2; kind++) {
        struct fy_index_sql *q = NULL;
        struct fy_errmsg em;
        if (fy_index_compile(query, (enum fy_index_kind)kind, NULL, &q, &em) == FY_ERR_OK) {
            fz_check(db, q,
                     kind == 0 ? "SELECT t.name FROM things t WHERE "
                               : "SELECT tg.name FROM thing_groups tg WHERE ");
        }
        fy_index_sql_free(q);
    }
    fy_free(query);
    return 0;
}
