/* fleetyard index internals shared by the files of index/. */
#ifndef FY_INDEX_INDEX_INT_H
#define FY_INDEX_INDEX_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "core/db.h"
#include "core/err.h"
#include "index/index.h"

/* Parses a stored configuration object ({thingIndexingConfiguration,
 * thingGroupIndexingConfiguration}) into cfg; missing parts read as OFF. */
void fy_index_config_from_json(const json_t *j, struct fy_index_config *cfg);

/* Managed fields [{name, type}] of the things index under cfg (a new reference). */
json_t *fy_index_managed_things(const struct fy_index_config *cfg);
/* Managed fields of the thing-group index (a new reference). */
json_t *fy_index_managed_groups(void);

/* The declared type ("Number", "String", "Boolean") of aggregation field name on index kind:
 * a managed field's type, else a custom field's declared type, else NULL. cfg_json is the
 * stored configuration. */
const char *fy_index_field_type(const json_t *cfg_json, enum fy_index_kind kind, const char *name);

#define FY_BUILD_CHUNK          1000               /* things settled per build transaction */
#define FY_BUILD_SYNC_BUDGET_NS (200 * 1000000ull) /* build time inside Create/Update calls */
#define FY_BUILD_TICK_BUDGET_NS (50 * 1000000ull)  /* build time per scheduler tick */

/* Marks dynamic group gid BUILDING (REBUILDING when rebuild) with its build cursor at the
 * start, inside the caller's transaction; fy_dyn_build does the work. */
FY_NODISCARD fy_err fy_dyn_build_start(struct fy_db *db,
                                       int64_t gid,
                                       bool rebuild,
                                       struct fy_errmsg *em);

/* Builds pending dynamic groups (only = one group id, 0 = all) in transactions of chunk things
 * until each is ACTIVE or budget_ns has passed (at least one chunk per group and call); *unfinished
 * (may be NULL) gets how many of those considered are still building. A group whose query does not
 * compile under the current configuration is left as it is. */
FY_NODISCARD fy_err fy_dyn_build(struct fy_db *db,
                                 int64_t only,
                                 int64_t chunk,
                                 uint64_t budget_ns,
                                 int *unfinished,
                                 struct fy_errmsg *em);

/* The AWS shadow delta of desired against reported (a new object, empty when none). */
json_t *fy_index_delta(const json_t *desired, const json_t *reported);

/* The stored configuration JSON (new reference; {} when never set). */
FY_NODISCARD fy_err fy_index_config_json(struct fy_db *db, json_t **out, struct fy_errmsg *em);

#endif
