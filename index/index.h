/* fleetyard index: fleet indexing (AWS_IOT_BEHAVIOUR.md section 6).
 *
 * The query language compiles to a SQL boolean expression over the registry, shadow and
 * connectivity tables with `?` parameters only (fy_index_compile); search, aggregations, dynamic
 * thing groups and fleet metrics run it. The indexing configuration lives in the settings table
 * (key "indexing.config").
 *
 * Threads: every function runs on the caller's connection (one thread at a time); nothing here
 * keeps state between calls. Errors: INVALID_QUERY (with the position of the problem in the
 * message), INVALID_AGGREGATION, INVALID_REQUEST, NOT_FOUND (index not enabled / missing
 * resource), NOMEM, INTERNAL; em gets the human detail.
 */
#ifndef FY_INDEX_INDEX_H
#define FY_INDEX_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <sqlite3.h>

#include "core/db.h"
#include "core/err.h"

#define FY_INDEX_QUERY_MAX         1000 /* bytes in a query string (AWS quota) */
#define FY_INDEX_DEPTH_MAX         16   /* nesting of parentheses / NOT / field groups */
#define FY_INDEX_TERMS_MAX         12   /* terms in one query (AWS) */
#define FY_INDEX_LEADING_QUERY_MAX 100  /* bytes of a query with a leading wildcard (AWS) */
#define FY_INDEX_PATH_MAX          16   /* components of a shadow field path */
#define FY_INDEX_NAMED_MAX         10   /* namedShadowNames in the indexing filter */
#define FY_INDEX_THINGS            "AWS_Things"
#define FY_INDEX_GROUPS            "AWS_ThingGroups"
#define FY_INDEX_QUERY_VERSION     "2017-09-30"
#define FY_INDEX_SEARCH_MAX        100 /* SearchIndex maxResults bound */
#define FY_INDEX_DYN_GROUPS_MAX    100 /* dynamic thing groups per account */

enum fy_index_kind { FY_INDEX_KIND_THINGS, FY_INDEX_KIND_GROUPS };
enum fy_thing_mode { FY_MODE_OFF = 0, FY_MODE_REGISTRY, FY_MODE_REGISTRY_AND_SHADOW };

/* What is indexed (parsed from the stored configuration). */
struct fy_index_config {
    enum fy_thing_mode thing_mode;
    bool connectivity;  /* thingConnectivityIndexingMode STATUS */
    bool named_shadows; /* namedShadowIndexingMode ON */
    int nnamed;
    char named[FY_INDEX_NAMED_MAX][65]; /* filter.namedShadowNames */
    bool groups;                        /* thingGroupIndexingMode ON */
};

/* ---- query compilation ---- */

enum fy_index_ptype { FY_IP_TEXT, FY_IP_REAL, FY_IP_INT };
struct fy_index_param {
    enum fy_index_ptype type;
    char *text;
    double num;
    int64_t i;
};

/* A compiled query: a boolean SQL expression over `things t` (or `thing_groups g` for the
 * group index) and its parameters, bound in order. */
struct fy_index_sql {
    char *where;
    struct fy_index_param *params;
    size_t nparams, cap;
};

/* Compiles query for index kind under cfg (NULL = everything indexed) into *out
 * (fy_index_sql_free). FY_ERR_INVALID_QUERY with the position; FY_ERR_NOMEM. */
FY_NODISCARD fy_err fy_index_compile(const char *query,
                                     enum fy_index_kind kind,
                                     const struct fy_index_config *cfg,
                                     struct fy_index_sql **out,
                                     struct fy_errmsg *em);
/* fy_index_compile with a choice of plan: correlated = per-thing probes (cheap when the
 * statement also restricts things to a few, as dynamic group upkeep does); otherwise registry
 * terms are sets the planner can drive from (searching the whole fleet). Same answers. */
FY_NODISCARD fy_err fy_index_compile_opts(const char *query,
                                          enum fy_index_kind kind,
                                          const struct fy_index_config *cfg,
                                          bool correlated,
                                          struct fy_index_sql **out,
                                          struct fy_errmsg *em);
void fy_index_sql_free(struct fy_index_sql *q);

/* Binds q's parameters from index first (1-based). Returns the next free index. */
int fy_index_bind(sqlite3_stmt *st, int first, const struct fy_index_sql *q);

/* Registers the SQL functions compiled queries use (fy_num, fy_has_delta) on db when missing.
 * Call before preparing compiled SQL. */
FY_NODISCARD fy_err fy_index_sql_functions(struct fy_db *db, struct fy_errmsg *em);

/* Prepares "prefix (<where>) suffix" with q's parameters bound right after those of prefix
 * (each '?' of prefix is one parameter the caller binds, from 1); the caller binds suffix's
 * parameters after q's. *out is owned (sqlite3_finalize). */
FY_NODISCARD fy_err fy_index_prepare(struct fy_db *db,
                                     const char *prefix,
                                     const struct fy_index_sql *q,
                                     const char *suffix,
                                     sqlite3_stmt **out,
                                     struct fy_errmsg *em);

/* ---- configuration ---- */

/* The stored configuration (defaults: everything OFF). */
FY_NODISCARD fy_err fy_index_config_load(struct fy_db *db,
                                         struct fy_index_config *cfg,
                                         struct fy_errmsg *em);

/* GetIndexingConfiguration body as a new JSON object in *out. */
FY_NODISCARD fy_err fy_index_config_get(struct fy_db *db, json_t **out, struct fy_errmsg *em);

/* UpdateIndexingConfiguration: j_things / j_groups (either may be NULL = unchanged) are the
 * request's configuration objects. Validates modes, filter and custom fields; refuses turning
 * thing indexing off while dynamic groups exist. INVALID_REQUEST otherwise. */
FY_NODISCARD fy_err fy_index_config_update(struct fy_db *db,
                                           const json_t *j_things,
                                           const json_t *j_groups,
                                           struct fy_errmsg *em);

/* Resolves an index name to its kind and checks that it is enabled. Unknown or disabled index
 * -> NOT_FOUND ("Index X does not exist"). cfg receives the configuration. */
FY_NODISCARD fy_err fy_index_open(struct fy_db *db,
                                  const char *index_name,
                                  enum fy_index_kind *kind,
                                  struct fy_index_config *cfg,
                                  struct fy_errmsg *em);

/* DescribeIndex body ({indexName, indexStatus, schema}) into *out. */
FY_NODISCARD fy_err fy_index_describe(struct fy_db *db,
                                      const char *index_name,
                                      json_t **out,
                                      struct fy_errmsg *em);

/* ---- search ---- */

/* SearchIndex: runs query on index_name, ordered by name, starting after `after` (NULL = first
 * page), at most limit items appended to j_items (thing or thing-group documents in AWS's
 * shape, shadow as a JSON string). *next gets a new string (fy_free) naming the last item when
 * more follow, else NULL. */
FY_NODISCARD fy_err fy_index_search(struct fy_db *db,
                                    const char *index_name,
                                    const char *query,
                                    const char *after,
                                    int64_t limit,
                                    json_t *j_items,
                                    char **next,
                                    enum fy_index_kind *kind,
                                    struct fy_errmsg *em);

/* ---- aggregations ---- */

enum fy_agg_kind { FY_AGG_STATISTICS, FY_AGG_CARDINALITY, FY_AGG_PERCENTILES, FY_AGG_BUCKETS };

struct fy_agg_request {
    enum fy_agg_kind kind;
    const char *index_name; /* NULL = AWS_Things */
    const char *query;
    const char *field; /* NULL = default (registry.version for statistics) */
    const double *percents;
    size_t npercents; /* 0 = the default list */
    int64_t max_buckets;
};

/* Runs an aggregation; *out gets the response body's members as a new JSON object
 * ({statistics}, {cardinality}, {percentiles}, {totalCount, buckets}). Unknown or unindexed
 * field -> INVALID_AGGREGATION; bad query -> INVALID_QUERY. */
FY_NODISCARD fy_err fy_index_aggregate(struct fy_db *db,
                                       const struct fy_agg_request *r,
                                       json_t **out,
                                       struct fy_errmsg *em);

/* ---- dynamic thing groups ---- */

/* The fields of CreateDynamicThingGroup / UpdateDynamicThingGroup (borrowed). */
struct fy_dyn_group {
    const char *name;
    const char *description;  /* NULL = not given */
    const json_t *attributes; /* NULL = not given */
    bool merge;
    const char *index_name;    /* NULL = AWS_Things */
    const char *query;         /* create: required; update: NULL = unchanged */
    const char *query_version; /* NULL = 2017-09-30 */
    const json_t *tags;
    const char *arn;
};

/* Creates a dynamic group (BUILDING) and builds its membership in bounded transactions for up
 * to 200 ms: a small fleet's group is ACTIVE when this returns, the scheduler (fy_index_tick)
 * finishes larger ones. id_out gets the group id.
 * ALREADY_EXISTS, INVALID_QUERY, LIMIT_EXCEEDED (FY_INDEX_DYN_GROUPS_MAX), NOT_FOUND when the
 * index is off. */
FY_NODISCARD fy_err fy_index_dyn_create(struct fy_db *db,
                                        const struct fy_dyn_group *g,
                                        char id_out[40],
                                        struct fy_errmsg *em);

/* Updates a dynamic group; a query change makes it REBUILDING and rebuilds its membership as
 * fy_index_dyn_create builds it (old members stay until their chunk is settled).
 * expected_version < 0 = none. *new_version gets the version after the update. Static group ->
 * INVALID_REQUEST. */
FY_NODISCARD fy_err fy_index_dyn_update(struct fy_db *db,
                                        const struct fy_dyn_group *g,
                                        int64_t expected_version,
                                        int64_t *new_version,
                                        struct fy_errmsg *em);

/* Deletes a dynamic group (a static one -> INVALID_REQUEST; missing -> success). */
FY_NODISCARD fy_err fy_index_dyn_delete(struct fy_db *db,
                                        const char *name,
                                        int64_t expected_version,
                                        struct fy_errmsg *em);

/* Scheduler hook: brings every dynamic group up to date with the registry, shadow and
 * connectivity changes recorded since the last call (schema/0009_index.sql triggers record
 * the names of changed things), and continues building groups that are BUILDING or
 * REBUILDING (in bounded chunks, up to 50 ms per call). Cheap when nothing changed. Call it
 * at least every 500 ms for the one-second membership promise. *changed (may be NULL) gets
 * the number of things re-evaluated. A group whose query no longer compiles under the current
 * indexing configuration keeps its members until the configuration allows it again. */
FY_NODISCARD fy_err fy_index_tick(struct fy_db *db, int64_t *changed, struct fy_errmsg *em);

/* ---- fleet metrics ---- */

/* Fleet metric fields (borrowed); NULL/0 members are "not given" on update. */
struct fy_fleet_metric {
    const char *name;
    const char *query;
    const json_t *aggregation_type; /* {name, values[]} */
    int64_t period;
    const char *field;
    const char *description;
    const char *query_version;
    const char *index_name;
    const char *unit;
    const json_t *tags;
    const char *arn;
};

FY_NODISCARD fy_err fy_metric_create(struct fy_db *db,
                                     const struct fy_fleet_metric *m,
                                     struct fy_errmsg *em);
/* DescribeFleetMetric body (without metricArn) into *out. */
FY_NODISCARD fy_err fy_metric_describe(struct fy_db *db,
                                       const char *name,
                                       json_t **out,
                                       struct fy_errmsg *em);
FY_NODISCARD fy_err fy_metric_update(struct fy_db *db,
                                     const struct fy_fleet_metric *m,
                                     int64_t expected_version,
                                     struct fy_errmsg *em);
/* Missing metric -> success (AWS's delete is idempotent). */
FY_NODISCARD fy_err fy_metric_delete(struct fy_db *db,
                                     const char *name,
                                     int64_t expected_version,
                                     struct fy_errmsg *em);
/* Names in order after `after`, at most limit, appended to j_names; *more when rows remain. */
FY_NODISCARD fy_err fy_metric_list(struct fy_db *db,
                                   const char *after,
                                   int64_t limit,
                                   json_t *j_names,
                                   bool *more,
                                   struct fy_errmsg *em);

/* Scheduler hook: evaluates each fleet metric whose period has elapsed at now (epoch seconds;
 * a new metric is due at once) and stores one datapoint per value in fleet_metric_datapoints.
 * *evaluated (may be NULL) gets the number of metrics evaluated. */
FY_NODISCARD fy_err fy_metric_tick(struct fy_db *db,
                                   double now,
                                   int *evaluated,
                                   struct fy_errmsg *em);

/* The latest datapoints of metric name as {datapoints:[{timestamp, value, stat}]} into *out. */
FY_NODISCARD fy_err fy_metric_datapoints(
    struct fy_db *db, const char *name, int64_t limit, json_t **out, struct fy_errmsg *em);

/* The latest value of every fleet metric statistic in the Prometheus text format (version
 * 0.0.4): gauge fleetyard_fleet_metric{metric="<name>",stat="<stat>"} <value> <ms>. *out is a
 * new buffer (fy_free) of *len bytes. */
FY_NODISCARD fy_err fy_metric_prometheus(struct fy_db *db,
                                         char **out,
                                         size_t *len,
                                         struct fy_errmsg *em);

#endif
