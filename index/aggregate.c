/* Aggregations: GetStatistics, GetCardinality, GetPercentiles, GetBucketsAggregation over the
 * values of one field of the matching things (AWS_IOT_BEHAVIOUR.md section 6). Values are
 * computed exactly (AWS approximates cardinality and percentiles). Field typing: a managed
 * field's type, else a declared custom field's type; an undeclared attributes.X / shadow field
 * is read as a number where its values are numbers (fleetyard leniency: AWS wants it declared). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "index/agg.h"

static const double default_percents[] = {1, 5, 25, 50, 75, 95, 99};

struct values {
    double *num;
    size_t nnum, cap;
    size_t ntext;
    json_t *counts; /* text value -> count */
};

/* Square root by Newton's method (the build does not link libm). x >= 0. */
static double root(double x)
{
    if (x <= 0 || !isfinite(x)) {
        return x > 0 ? x : 0;
    }
    double r = x > 1 ? x / 2 : 1;
    for (int i = 0; i < 200; i++) {
        double next = (r + x / r) / 2;
        if (next == r) {
            break;
        }
        r = next;
    }
    return r;
}

static fy_err collect(void *ctx, bool has_num, double num, const char *text)
{
    struct values *v = ctx;
    if (has_num) {
        if (v->nnum == v->cap) {
            size_t cap = v->cap ? 2 * v->cap : 64;
            double *p = fy_realloc(v->num, cap * sizeof(*p));
            if (!p) {
                return FY_ERR_NOMEM;
            }
            v->num = p;
            v->cap = cap;
        }
        v->num[v->nnum++] = num;
    }
    if (text) {
        v->ntext++;
        json_t *c = json_object_get(v->counts, text);
        json_int_t n = c ? json_integer_value(c) + 1 : 1;
        if (json_object_set_new(v->counts, text, json_integer(n)) != 0) {
            return FY_ERR_NOMEM;
        }
    }
    return FY_ERR_OK;
}

static json_t *statistics(const struct values *v, bool numeric)
{
    if (!numeric || v->nnum == 0) {
        return json_pack("{s:I}", "count", (json_int_t)(numeric ? 0 : v->ntext));
    }
    double sum = 0, sq = 0, lo = v->num[0], hi = v->num[0];
    for (size_t i = 0; i < v->nnum; i++) {
        sum += v->num[i];
        sq += v->num[i] * v->num[i];
        lo = v->num[i] < lo ? v->num[i] : lo;
        hi = v->num[i] > hi ? v->num[i] : hi;
    }
    double n = (double)v->nnum, avg = sum / n;
    double var = sq / n - avg * avg;
    var = var < 0 ? 0 : var;
    if (!isfinite(sum) || !isfinite(sq)) {
        return json_pack("{s:I}", "count", (json_int_t)v->nnum);
    }
    return json_pack("{s:I, s:f, s:f, s:f, s:f, s:f, s:f, s:f}", "count", (json_int_t)v->nnum,
                     "average", avg, "sum", sum, "minimum", lo, "maximum", hi, "sumOfSquares", sq,
                     "variance", var, "stdDeviation", root(var));
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Linear interpolation between the closest ranks. */
static double percentile(const double *sorted, size_t n, double p)
{
    double rank = p / 100.0 * (double)(n - 1);
    size_t lo = (size_t)rank; /* rank >= 0: truncation is floor */
    size_t hi = lo + 1 < n ? lo + 1 : lo;
    return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - (double)lo);
}

static json_t *percentiles(struct values *v, const double *pc, size_t npc)
{
    json_t *list = json_array();
    if (!pc || npc == 0) {
        pc = default_percents;
        npc = sizeof(default_percents) / sizeof(default_percents[0]);
    }
    if (v->nnum) {
        qsort(v->num, v->nnum, sizeof(double), cmp_double);
    }
    for (size_t i = 0; list && v->nnum && i < npc; i++) {
        json_t *p =
            json_pack("{s:f, s:f}", "percent", pc[i], "value", percentile(v->num, v->nnum, pc[i]));
        if (json_array_append_new(list, p) != 0) {
            json_decref(list);
            list = NULL;
        }
    }
    return json_pack("{s:o}", "percentiles", list); /* NULL list: out of memory */
}

struct bucket {
    const char *key;
    json_int_t count;
};

static int cmp_bucket(const void *a, const void *b)
{
    const struct bucket *x = a, *y = b;
    if (x->count != y->count) {
        return x->count > y->count ? -1 : 1;
    }
    return strcmp(x->key, y->key);
}

static json_t *buckets(const struct values *v, int64_t total, int64_t max)
{
    size_t n = json_object_size(v->counts), i = 0;
    struct bucket *b = fy_calloc(n ? n : 1, sizeof(*b));
    const char *k;
    json_t *c;
    if (!b) {
        return NULL;
    }
    json_object_foreach (v->counts, k, c) {
        b[i].key = k;
        b[i++].count = json_integer_value(c);
    }
    qsort(b, n, sizeof(*b), cmp_bucket);
    json_t *list = json_array();
    for (i = 0; list && i < n && (int64_t)i < max; i++) {
        json_t *one = json_pack("{s:s, s:I}", "keyValue", b[i].key, "count", b[i].count);
        if (json_array_append_new(list, one) != 0) {
            json_decref(list);
            list = NULL;
        }
    }
    fy_free(b);
    /* NULL list: out of memory, the pack fails */
    return json_pack("{s:I, s:o}", "totalCount", (json_int_t)total, "buckets", list);
}

/* Resolves the aggregation field: *numeric says whether its values aggregate as numbers. */
static fy_err agg_field(struct fy_db *db,
                        enum fy_index_kind kind,
                        const struct fy_index_config *cfg,
                        const char *name,
                        struct fy_qfield *f,
                        const char **type,
                        struct fy_errmsg *em)
{
    json_t *cfg_json = NULL;
    fy_err e = fy_index_config_json(db, &cfg_json, em);
    if (e) {
        return e;
    }
    *type = fy_index_field_type(cfg_json, kind, name);
    json_decref(cfg_json);
    e = fy_qfield_resolve(name, kind, cfg, f, em);
    if (e == FY_ERR_INVALID_QUERY) {
        return fy_fail(em, FY_ERR_INVALID_AGGREGATION,
                       "Aggregation field %.128s is not an indexed field", name);
    }
    return e;
}

static fy_err compute(const struct fy_agg_request *r,
                      struct values *v,
                      const char *type,
                      int64_t total,
                      json_t **out,
                      struct fy_errmsg *em)
{
    bool numeric = type ? strcmp(type, "String") != 0 : (v->nnum > 0 || v->ntext == 0);
    switch (r->kind) {
    case FY_AGG_STATISTICS:
        *out = json_pack("{s:o}", "statistics", statistics(v, numeric));
        break;
    case FY_AGG_CARDINALITY:
        *out = json_pack("{s:I}", "cardinality", (json_int_t)json_object_size(v->counts));
        break;
    case FY_AGG_PERCENTILES:
        if (!numeric) {
            return fy_fail(em, FY_ERR_INVALID_AGGREGATION,
                           "Percentiles need a Number field; %.128s is not", r->field);
        }
        *out = percentiles(v, r->percents, r->npercents);
        break;
    case FY_AGG_BUCKETS:
        *out = buckets(v, total, r->max_buckets > 0 ? r->max_buckets : 10);
        break;
    }
    return *out ? FY_ERR_OK : fy_fail(em, FY_ERR_NOMEM, "Out of memory");
}

fy_err fy_index_aggregate(struct fy_db *db,
                          const struct fy_agg_request *r,
                          json_t **out,
                          struct fy_errmsg *em)
{
    enum fy_index_kind kind;
    struct fy_index_config cfg;
    struct fy_index_sql *q = NULL;
    struct fy_qfield f = {0};
    struct values v = {.counts = json_object()};
    const char *type = NULL;
    int64_t total = 0;
    const char *field = r->field ? r->field : "registry.version";
    *out = NULL;
    fy_err e = v.counts ? fy_index_open(db, r->index_name, &kind, &cfg, em) : FY_ERR_NOMEM;
    e = e ? e : fy_index_compile(r->query, kind, &cfg, &q, em);
    e = e ? e : agg_field(db, kind, &cfg, field, &f, &type, em);
    e = e ? e : fy_agg_values(db, kind, q, &f, collect, &v, em);
    if (!e && r->kind == FY_AGG_BUCKETS) {
        e = fy_agg_count(db, kind, q, &total, em);
    }
    struct fy_agg_request rr = *r;
    rr.field = field;
    e = e ? e : compute(&rr, &v, type, total, out, em);
    fy_qfield_clear(&f);
    fy_index_sql_free(q);
    fy_free(v.num);
    json_decref(v.counts);
    return e == FY_ERR_NOMEM ? fy_fail(em, e, "Out of memory") : e;
}
