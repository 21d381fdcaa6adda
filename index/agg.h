/* fleetyard index internals: aggregation over the values of a field (agg_values.c reads them,
 * aggregate.c computes statistics, cardinality, percentiles and buckets). */
#ifndef FY_INDEX_AGG_H
#define FY_INDEX_AGG_H

#include <stdbool.h>
#include <stdint.h>

#include "index/index_int.h"
#include "index/query.h"

/* Called per value: has_num says whether num holds the value as a number; text is its text form
 * (NULL when none). A non-OK return stops the scan. */
typedef fy_err (*fy_agg_value_fn)(void *ctx, bool has_num, double num, const char *text);

/* Streams the values of field f over what q matches on index kind. A field that cannot be
 * aggregated -> FY_ERR_INVALID_AGGREGATION. */
FY_NODISCARD fy_err fy_agg_values(struct fy_db *db,
                                  enum fy_index_kind kind,
                                  const struct fy_index_sql *q,
                                  const struct fy_qfield *f,
                                  fy_agg_value_fn fn,
                                  void *ctx,
                                  struct fy_errmsg *em);

/* Number of things (groups) q matches. */
FY_NODISCARD fy_err fy_agg_count(struct fy_db *db,
                                 enum fy_index_kind kind,
                                 const struct fy_index_sql *q,
                                 int64_t *count,
                                 struct fy_errmsg *em);

#endif
