/* fleetyard registry internals shared by things.c and thing_types.c. */
#ifndef FY_REGISTRY_INT_H
#define FY_REGISTRY_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/db.h"
#include "core/err.h"

/* The key fields of a thing type row. */
struct fy_type_key {
    int64_t id;
    bool deprecated;
    double deprecation_date; /* 0 when not deprecated */
};

/* Looks thing type name up; NOT_FOUND (with AWS's message) when missing. */
FY_NODISCARD fy_err fy_type_find(struct fy_db *db,
                                 const char *name,
                                 struct fy_type_key *k,
                                 struct fy_errmsg *em);

/* Reads the current row of st into out. */
typedef fy_err (*fy_reg_read_fn)(sqlite3_stmt *st, void *out, struct fy_errmsg *em);

/* Binds name to ?1 of the static SQL and steps once: a row goes to read(st, out, em); no row ->
 * NOT_FOUND "<what> <name> cannot be found." (AWS's text). Always resets the statement. */
FY_NODISCARD fy_err fy_reg_by_name(struct fy_db *db,
                                   const char *sql,
                                   const char *name,
                                   const char *what,
                                   fy_reg_read_fn read,
                                   void *out,
                                   struct fy_errmsg *em);

/* Copies column col of the current row into dst (n bytes, truncated, NUL-terminated). */
void fy_reg_copy_col(char *dst, size_t n, sqlite3_stmt *st, int col);

#endif
