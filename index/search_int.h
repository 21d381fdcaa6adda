/* fleetyard index internals: SearchIndex's page of matching rows (search_plan.c). */
#ifndef FY_INDEX_SEARCH_INT_H
#define FY_INDEX_SEARCH_INT_H

#include <stddef.h>
#include <stdint.h>

#include "index/index.h"

/* Row ids of one page, in name order; cap is the page size plus one (to know whether more
 * follow). */
struct fy_search_page {
    int64_t *ids;
    size_t n, cap;
};

#define FY_SEARCH_BUDGET_NS (1000 * 1000) /* time the name-order walk gets (search_plan.c) */

/* Fills p with the ids of the things (or thing groups) query matches after `after` (NULL =
 * from the start), trying the name-order walk for budget_ns before the set plan (see
 * search_plan.c). INVALID_QUERY, NOMEM, INTERNAL. */
FY_NODISCARD fy_err fy_search_ids(struct fy_db *db,
                                  const char *query,
                                  enum fy_index_kind kind,
                                  const struct fy_index_config *cfg,
                                  const char *after,
                                  uint64_t budget_ns,
                                  struct fy_search_page *p,
                                  struct fy_errmsg *em);

#endif
