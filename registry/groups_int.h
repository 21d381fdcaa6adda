/* fleetyard registry internals shared by groups.c, group_members.c and tags.c. */
#ifndef FY_REGISTRY_GROUPS_INT_H
#define FY_REGISTRY_GROUPS_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/db.h"
#include "core/err.h"
#include "registry/groups.h"

/* The key fields of a thing group row. parent and root are 0 when NULL. */
struct fy_grp_key {
    int64_t id, parent, root, version;
    int depth;
    bool dynamic;
};

/* Looks group name up; NOT_FOUND (with AWS's message) when missing. */
FY_NODISCARD fy_err fy_grp_find(struct fy_db *db,
                                const char *name,
                                struct fy_grp_key *k,
                                struct fy_errmsg *em);

/* Work done inside one transaction: (db, arg, em). */
typedef fy_err (*fy_reg_locked_fn)(struct fy_db *db, void *arg, struct fy_errmsg *em);

/* Runs fn between BEGIN IMMEDIATE and COMMIT; rolls back when fn or the commit fails. */
FY_NODISCARD fy_err fy_reg_in_tx(struct fy_db *db,
                                 fy_reg_locked_fn fn,
                                 void *arg,
                                 struct fy_errmsg *em);

/* Row callback of fy_reg_listing: the first two columns (b is NULL for one-column rows). */
typedef fy_err (*fy_reg_row_fn)(void *ctx, const char *a, const char *b);

/* Steps st, already bound except for its LIMIT parameter limit_idx (bound here to limit + 1),
 * calling fn for at most limit rows; *more is set when another row exists. Always ends with
 * fy_stmt_done(st). */
FY_NODISCARD fy_err fy_reg_listing(struct fy_db *db,
                                   sqlite3_stmt *st,
                                   int limit_idx,
                                   int64_t limit,
                                   fy_reg_row_fn fn,
                                   void *ctx,
                                   bool *more,
                                   struct fy_errmsg *em);

/* fy_reg_listing for one-column (name) statements with a fy_group_row_fn callback. */
FY_NODISCARD fy_err fy_grp_list_names(struct fy_db *db,
                                      sqlite3_stmt *st,
                                      int limit_idx,
                                      int64_t limit,
                                      fy_group_row_fn fn,
                                      void *ctx,
                                      bool *more,
                                      struct fy_errmsg *em);

#endif
