/* fleetyard registry: thing principals (certificates attached to things).
 *
 * A principal is a certificate ARN (arn:aws:iot:R:A:cert/<certificateId>) of a registered
 * certificate. An attachment is NON_EXCLUSIVE_THING (the certificate may be attached to several
 * things) or EXCLUSIVE_THING (the thing is the certificate's only thing). Functions run on the
 * caller's connection, one short transaction each; errors carry AWS types.
 */
#ifndef FY_REGISTRY_PRINCIPALS_H
#define FY_REGISTRY_PRINCIPALS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/db.h"
#include "core/err.h"
#include "core/site.h"

#define FY_PRINCIPAL_EXCLUSIVE     "EXCLUSIVE_THING"
#define FY_PRINCIPAL_NON_EXCLUSIVE "NON_EXCLUSIVE_THING"

/* Row callback for listings: (ctx, name-or-principal, attachment type). Non-zero stops. */
typedef fy_err (*fy_principal_row_fn)(void *ctx, const char *key, const char *type);

/* True for "EXCLUSIVE_THING" / "NON_EXCLUSIVE_THING". */
bool fy_principal_type_valid(const char *type);

/* Attaches principal to thing_name with the given type (NULL = non-exclusive). Errors: thing or
 * certificate missing -> NOT_FOUND; malformed principal, or an exclusivity rule broken ->
 * INVALID_REQUEST. Attaching an existing pair again is a success (type updated). */
FY_NODISCARD fy_err fy_principal_attach(struct fy_db *db,
                                        const char *thing_name,
                                        const char *principal,
                                        const char *type,
                                        struct fy_errmsg *em);

/* Detaches; thing missing -> NOT_FOUND; a pair that is not attached is a success. */
FY_NODISCARD fy_err fy_principal_detach(struct fy_db *db,
                                        const char *thing_name,
                                        const char *principal,
                                        struct fy_errmsg *em);

/* Lists the principals of a thing in ARN order after `after` (NULL = from the start), at most
 * limit rows, filtered by type (NULL = all). *more is set when rows remain. Thing missing ->
 * NOT_FOUND. */
FY_NODISCARD fy_err fy_principal_list_for_thing(struct fy_db *db,
                                                const char *thing_name,
                                                const char *after,
                                                int64_t limit,
                                                const char *type,
                                                fy_principal_row_fn fn,
                                                void *ctx,
                                                bool *more,
                                                struct fy_errmsg *em);

/* Lists the things of a principal in name order (same paging contract). A malformed principal
 * -> INVALID_REQUEST; an unknown certificate -> NOT_FOUND. */
FY_NODISCARD fy_err fy_principal_list_things(struct fy_db *db,
                                             const char *principal,
                                             const char *after,
                                             int64_t limit,
                                             const char *type,
                                             fy_principal_row_fn fn,
                                             void *ctx,
                                             bool *more,
                                             struct fy_errmsg *em);

/* Number of principals attached to a thing row id (for DeleteThing's refusal); -1 on error. */
int64_t fy_principal_count_for_thing(struct fy_db *db, int64_t thing_rowid);

#endif
