/* fleetyard logs internals shared by store.c and events.c. */
#ifndef FY_LOGS_INT_H
#define FY_LOGS_INT_H

#include "logs/logs.h"

/* Steps st (bound with LIMIT limit + 1), appending row_to_json(st) to j_items for up to limit
 * rows; *next = a copy of column 0 of the last appended row when another row follows, else
 * NULL. Resets st. */
FY_NODISCARD fy_err fy_logs_page(struct fy_db *db,
                                 sqlite3_stmt *st,
                                 int64_t limit,
                                 json_t *(*row_to_json)(sqlite3_stmt *st, const void *ctx),
                                 const void *ctx,
                                 json_t *j_items,
                                 char **next,
                                 struct fy_errmsg *em);

#endif
