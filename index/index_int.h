/* fleetyard index internals shared by the files of index/. */
#ifndef FY_INDEX_INDEX_INT_H
#define FY_INDEX_INDEX_INT_H

#include <jansson.h>

#include "core/db.h"
#include "core/err.h"
#include "index/index.h"

/* Parses a stored configuration object ({thingIndexingConfiguration,
 * thingGroupIndexingConfiguration}) into cfg; missing parts read as OFF. */
void fy_index_config_from_json(const json_t *j, struct fy_index_config *cfg);

/* Runs a static one-parameter statement (text bound as ?1) to completion. */
FY_NODISCARD fy_err fy_index_exec_text(struct fy_db *db,
                                       const char *sql,
                                       const char *text,
                                       struct fy_errmsg *em);

/* Managed fields [{name, type}] of the things index under cfg (a new reference). */
json_t *fy_index_managed_things(const struct fy_index_config *cfg);
/* Managed fields of the thing-group index (a new reference). */
json_t *fy_index_managed_groups(void);

/* The declared type ("Number", "String", "Boolean") of aggregation field name on index kind:
 * a managed field's type, else a custom field's declared type, else NULL. cfg_json is the
 * stored configuration. */
const char *fy_index_field_type(const json_t *cfg_json, enum fy_index_kind kind, const char *name);

/* The AWS shadow delta of desired against reported (a new object, empty when none). */
json_t *fy_index_delta(const json_t *desired, const json_t *reported);

/* The stored configuration JSON (new reference; {} when never set). */
FY_NODISCARD fy_err fy_index_config_json(struct fy_db *db, json_t **out, struct fy_errmsg *em);

#endif
