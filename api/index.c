/* Fleet indexing: UpdateIndexingConfiguration, GetIndexingConfiguration, ListIndices,
 * DescribeIndex, SearchIndex, GetStatistics, GetCardinality, GetPercentiles,
 * GetBucketsAggregation. */
#include "index/index.h"

#include <string.h>

#include "api/api.h"
#include "api/routes.h"
#include "core/alloc.h"
#include "core/codec.h"
#include "core/log.h"

#define SEARCH_TOKEN_PREFIX "fyi:"
#define PERCENTS_MAX        100
#define BUCKETS_MAX         10000

static fy_err bad_body(struct api_req *req, const json_error_t *err)
{
    return fy_fail(&req->em, FY_ERR_INVALID_REQUEST, "Invalid request body: %.200s", err->text);
}

static fy_err check_query_version(struct api_req *req, const char *v)
{
    if (v && strcmp(v, FY_INDEX_QUERY_VERSION) != 0) {
        return fy_fail(&req->em, FY_ERR_INVALID_REQUEST, "Unsupported query version %.32s", v);
    }
    return FY_ERR_OK;
}

static fy_err h_update_config(struct api_req *req)
{
    json_t *body, *things = NULL, *groups = NULL;
    json_error_t err;
    fy_err e = api_body(req, &body);
    if (!e && json_unpack_ex(body, &err, 0, "{s?o, s?o !}", "thingIndexingConfiguration", &things,
                             "thingGroupIndexingConfiguration", &groups) != 0) {
        e = bad_body(req, &err);
    }
    e = e ? e : fy_index_config_update(req->db, things, groups, &req->em);
    if (!e) {
        fy_audit(req->caller, "UpdateIndexingConfiguration", "indexing");
    }
    return e;
}

static fy_err h_get_config(struct api_req *req)
{
    json_t *j = NULL;
    fy_err e = fy_index_config_get(req->db, &j, &req->em);
    return e ? e : api_reply(req, j);
}

static fy_err h_list_indices(struct api_req *req)
{
    static const char *const names[] = {FY_INDEX_GROUPS, FY_INDEX_THINGS}; /* name order */
    char *after = NULL;
    const char *last = NULL;
    int64_t limit;
    bool more = false;
    fy_err e = api_page_in(req, "nextToken", "maxResults", 500, 500, &after, &limit);
    json_t *list = json_array();
    for (size_t i = 0; !e && list && i < 2; i++) {
        enum fy_index_kind kind;
        struct fy_index_config cfg;
        struct fy_errmsg em;
        if ((after && strcmp(names[i], after) <= 0) ||
            fy_index_open(req->db, names[i], &kind, &cfg, &em) != FY_ERR_OK) {
            continue;
        }
        if ((int64_t)json_array_size(list) == limit) {
            more = true;
            break;
        }
        if (json_array_append_new(list, json_string(names[i])) != 0) {
            e = FY_ERR_NOMEM;
        }
        last = names[i];
    }
    fy_free(after);
    json_t *j = NULL;
    if (e) {
        json_decref(list); /* a bad nextToken or maxResults, or OOM: list was never handed on */
    } else {
        j = json_pack("{s:o}", "indexNames", list); /* takes list, also when it fails */
    }
    e = e ? e : (j ? api_page_out(req, j, "nextToken", more ? last : NULL) : FY_ERR_NOMEM);
    if (e) {
        json_decref(j);
        return e == FY_ERR_NOMEM ? fy_fail(&req->em, e, "Out of memory") : e;
    }
    return api_reply(req, j);
}

static fy_err h_describe_index(struct api_req *req)
{
    json_t *j = NULL;
    fy_err e = fy_index_describe(req->db, api_param(req, "indexName"), &j, &req->em);
    return e ? e : api_reply(req, j);
}

/* The key a SearchIndex nextToken resumes after (new string or NULL for the first page). */
static fy_err token_in(struct api_req *req, const char *tok, char **key)
{
    size_t n = 0, plen = strlen(SEARCH_TOKEN_PREFIX);
    *key = NULL;
    if (!tok || !*tok) {
        return FY_ERR_OK;
    }
    char *raw = strlen(tok) <= API_TOKEN_MAX ? fy_b64url_decode_new(tok, &n) : NULL;
    if (!raw || n < plen || memcmp(raw, SEARCH_TOKEN_PREFIX, plen) != 0 || memchr(raw, '\0', n)) {
        fy_free(raw);
        return fy_fail(&req->em, FY_ERR_INVALID_REQUEST, "Invalid nextToken");
    }
    memmove(raw, raw + plen, n - plen + 1);
    *key = raw;
    return FY_ERR_OK;
}

static fy_err token_out(struct api_req *req, json_t *j, const char *key)
{
    struct fy_buf b;
    fy_buf_init(&b, API_TOKEN_MAX);
    fy_err e = fy_buf_printf(&b, SEARCH_TOKEN_PREFIX "%s", key);
    char *tok = e ? NULL : fy_b64url_new(b.data, b.len);
    fy_buf_free(&b);
    if (!tok || json_object_set_new(j, "nextToken", json_string(tok)) != 0) {
        fy_free(tok);
        return fy_fail(&req->em, FY_ERR_NOMEM, "Out of memory");
    }
    fy_free(tok);
    return FY_ERR_OK;
}

static fy_err h_search(struct api_req *req)
{
    json_t *body;
    json_error_t err;
    const char *index = NULL, *query = NULL, *tok = NULL, *qv = NULL;
    json_int_t max = 100;
    char *after = NULL, *next = NULL;
    enum fy_index_kind kind = FY_INDEX_KIND_THINGS;
    fy_err e = api_body(req, &body);
    if (!e && json_unpack_ex(body, &err, 0, "{s?s, s:s, s?s, s?I, s?s !}", "indexName", &index,
                             "queryString", &query, "nextToken", &tok, "maxResults", &max,
                             "queryVersion", &qv) != 0) {
        e = bad_body(req, &err);
    }
    if (!e && (max < 1 || max > FY_INDEX_SEARCH_MAX)) {
        e = fy_fail(&req->em, FY_ERR_INVALID_REQUEST, "maxResults must be between 1 and %d",
                    FY_INDEX_SEARCH_MAX);
    }
    e = e ? e : check_query_version(req, qv);
    e = e ? e : token_in(req, tok, &after);
    json_t *items = json_array();
    e = e ? e : fy_index_search(req->db, index, query, after, max, items, &next, &kind, &req->em);
    json_t *j =
        e ? NULL
          : json_pack("{s:O}", kind == FY_INDEX_KIND_THINGS ? "things" : "thingGroups", items);
    json_decref(items);
    if (!e && j && next) {
        e = token_out(req, j, next);
    }
    fy_free(after);
    fy_free(next);
    if (e) {
        json_decref(j);
        return e;
    }
    return api_reply(req, j);
}

/* percents: a list of numbers in [0, 100], at most PERCENTS_MAX. */
static fy_err read_percents(struct api_req *req, const json_t *j, double *out, size_t *n)
{
    size_t i;
    json_t *v;
    *n = 0;
    if (!j) {
        return FY_ERR_OK;
    }
    if (!json_is_array(j) || json_array_size(j) > PERCENTS_MAX) {
        return fy_fail(&req->em, FY_ERR_INVALID_REQUEST, "percents must list at most %d numbers",
                       PERCENTS_MAX);
    }
    json_array_foreach ((json_t *)j, i, v) {
        double p = json_number_value(v);
        if (!json_is_number(v) || p < 0 || p > 100) {
            return fy_fail(&req->em, FY_ERR_INVALID_REQUEST, "percents must be between 0 and 100");
        }
        out[(*n)++] = p;
    }
    return FY_ERR_OK;
}

static fy_err read_buckets(struct api_req *req, const json_t *j, int64_t *max)
{
    json_error_t err;
    json_t *terms = NULL;
    json_int_t m = 10;
    if (!j) {
        return fy_fail(&req->em, FY_ERR_INVALID_REQUEST, "bucketsAggregationType is required");
    }
    if (json_unpack_ex((json_t *)j, &err, 0, "{s?o !}", "termsAggregation", &terms) != 0 ||
        (terms && json_unpack_ex(terms, &err, 0, "{s?I !}", "maxBuckets", &m) != 0)) {
        return bad_body(req, &err);
    }
    if (m < 1 || m > BUCKETS_MAX) {
        return fy_fail(&req->em, FY_ERR_INVALID_REQUEST, "maxBuckets must be between 1 and %d",
                       BUCKETS_MAX);
    }
    *max = m;
    return FY_ERR_OK;
}

/* Shared body of the four aggregation operations. */
static fy_err aggregate(struct api_req *req, enum fy_agg_kind kind)
{
    json_t *body, *j_pc = NULL, *j_bt = NULL, *out = NULL;
    json_error_t err;
    const char *qv = NULL;
    double pc[PERCENTS_MAX];
    struct fy_agg_request r = {.kind = kind, .percents = pc};
    fy_err e = api_body(req, &body);
    if (!e && json_unpack_ex(body, &err, 0, "{s?s, s:s, s?s, s?s, s?o, s?o !}", "indexName",
                             &r.index_name, "queryString", &r.query, "aggregationField", &r.field,
                             "queryVersion", &qv, "percents", &j_pc, "bucketsAggregationType",
                             &j_bt) != 0) {
        e = bad_body(req, &err);
    }
    e = e ? e : check_query_version(req, qv);
    if (!e && kind == FY_AGG_PERCENTILES) {
        e = read_percents(req, j_pc, pc, &r.npercents);
    }
    if (!e && kind == FY_AGG_BUCKETS) {
        e = read_buckets(req, j_bt, &r.max_buckets);
    }
    if (!e && kind == FY_AGG_BUCKETS && !r.field) {
        e = fy_fail(&req->em, FY_ERR_INVALID_REQUEST, "aggregationField is required");
    }
    e = e ? e : fy_index_aggregate(req->db, &r, &out, &req->em);
    return e ? e : api_reply(req, out);
}

static fy_err h_statistics(struct api_req *req)
{
    return aggregate(req, FY_AGG_STATISTICS);
}

static fy_err h_cardinality(struct api_req *req)
{
    return aggregate(req, FY_AGG_CARDINALITY);
}

static fy_err h_percentiles(struct api_req *req)
{
    return aggregate(req, FY_AGG_PERCENTILES);
}

static fy_err h_buckets(struct api_req *req)
{
    return aggregate(req, FY_AGG_BUCKETS);
}

const struct api_route api_routes_index[] = {
    {FY_SVC_IOT, "POST", "/indexing/config", h_update_config, "UpdateIndexingConfiguration"},
    {FY_SVC_IOT, "GET", "/indexing/config", h_get_config, "GetIndexingConfiguration"},
    {FY_SVC_IOT, "GET", "/indices", h_list_indices, "ListIndices"},
    {FY_SVC_IOT, "POST", "/indices/search", h_search, "SearchIndex"},
    {FY_SVC_IOT, "POST", "/indices/statistics", h_statistics, "GetStatistics"},
    {FY_SVC_IOT, "POST", "/indices/cardinality", h_cardinality, "GetCardinality"},
    {FY_SVC_IOT, "POST", "/indices/percentiles", h_percentiles, "GetPercentiles"},
    {FY_SVC_IOT, "POST", "/indices/buckets", h_buckets, "GetBucketsAggregation"},
    {FY_SVC_IOT, "GET", "/indices/{indexName}", h_describe_index, "DescribeIndex"},
    {0, NULL, NULL, NULL, NULL},
};
