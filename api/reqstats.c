/* Request metrics: fleetyard_http_requests_total{operation,status} and
 * fleetyard_http_request_duration_seconds{operation}, counted by every MHD pool thread with
 * relaxed atomics in arrays indexed by operation (see api_int.h). */
#include <stdio.h>
#include <string.h>

#include "api/api_int.h"
#include "api/routes.h"
#include "core/alloc.h"

#define OP_UNMATCHED "none" /* requests that reached no route (bad signature, unknown path) */
#define STATUS_MAX   600

struct api_stats {
    size_t nroutes;
    size_t nops;          /* distinct operation names; slot 0 is OP_UNMATCHED */
    size_t *op_of_route;  /* route index -> op slot */
    const char **op_name; /* op slot -> name (static strings of the route tables) */
    atomic_uint_fast64_t (*count)[FY_ERR__COUNT];
    struct fy_hist *hist;
};

/* The slot of op among names[0..n), or n when it is new. */
static size_t find_op(const char **names, size_t n, const char *op)
{
    size_t i = 0;
    while (i < n && strcmp(names[i], op) != 0) {
        i++;
    }
    return i;
}

struct api_stats *api_stats_new(void)
{
    struct api_stats *s = fy_calloc(1, sizeof(*s));
    size_t n = api_route_count();
    if (!s) {
        return NULL;
    }
    s->nroutes = n;
    s->op_of_route = fy_calloc(n + 1, sizeof(*s->op_of_route));
    s->op_name = fy_calloc(n + 1, sizeof(*s->op_name));
    s->count = fy_calloc(n + 1, sizeof(*s->count));
    s->hist = fy_calloc(n + 1, sizeof(*s->hist));
    if (!s->op_of_route || !s->op_name || !s->count || !s->hist) {
        api_stats_free(s);
        return NULL;
    }
    s->op_name[0] = OP_UNMATCHED;
    s->nops = 1;
    for (size_t i = 0; i < n; i++) {
        const char *op = api_route_at(i)->op;
        size_t k = find_op(s->op_name, s->nops, op);
        if (k == s->nops) {
            s->op_name[s->nops++] = op;
        }
        s->op_of_route[i] = k;
    }
    return s;
}

void api_stats_free(struct api_stats *s)
{
    if (s) {
        fy_free(s->op_of_route);
        fy_free(s->op_name);
        fy_free(s->count);
        fy_free(s->hist);
        fy_free(s);
    }
}

void api_stats_observe(struct api_stats *s, const struct api_route *route, fy_err e, uint64_t ns)
{
    size_t op = 0;
    if (route) {
        size_t i = api_route_index(route);
        op = i < s->nroutes ? s->op_of_route[i] : 0;
    }
    size_t k = (unsigned)e < FY_ERR__COUNT ? (size_t)e : (size_t)FY_ERR_INTERNAL;
    atomic_fetch_add_explicit(&s->count[op][k], 1, memory_order_relaxed);
    fy_hist_observe(&s->hist[op], ns);
}

uint64_t api_stats_count(struct api_stats *s, const char *op, bool ok)
{
    size_t k = find_op(s->op_name, s->nops, op);
    uint64_t n = 0;
    for (size_t e = 0; k < s->nops && e < FY_ERR__COUNT; e++) {
        if ((e == FY_ERR_OK) == ok) {
            n += atomic_load_explicit(&s->count[k][e], memory_order_relaxed);
        }
    }
    return n;
}

/* One operation's requests_total rows, errors grouped by their HTTP status. */
static fy_err counts_out(struct api_stats *s, size_t op, struct fy_buf *b)
{
    uint64_t by_status[STATUS_MAX] = {0};
    for (size_t e = 0; e < FY_ERR__COUNT; e++) {
        int st = fy_err_status((fy_err)e);
        by_status[st > 0 && st < STATUS_MAX ? st : 500] +=
            atomic_load_explicit(&s->count[op][e], memory_order_relaxed);
    }
    fy_err r = FY_ERR_OK;
    for (int st = 0; !r && st < STATUS_MAX; st++) {
        if (by_status[st]) {
            r = fy_buf_printf(
                b, "fleetyard_http_requests_total{operation=\"%s\",status=\"%d\"} %llu\n",
                s->op_name[op], st, (unsigned long long)by_status[st]);
        }
    }
    return r;
}

fy_err api_stats_prometheus(struct api_stats *s, struct fy_buf *b)
{
    fy_err e = fy_buf_printf(b, "# HELP fleetyard_http_requests_total HTTP requests by operation "
                                "and status (operation \"" OP_UNMATCHED "\": matched no route)\n"
                                "# TYPE fleetyard_http_requests_total counter\n");
    for (size_t op = 0; !e && op < s->nops; op++) {
        e = counts_out(s, op, b);
    }
    e = e ? e
          : fy_buf_printf(b, "# HELP fleetyard_http_request_duration_seconds HTTP request "
                             "latency by operation, from the request line to the queued reply\n"
                             "# TYPE fleetyard_http_request_duration_seconds histogram\n");
    for (size_t op = 0; !e && op < s->nops; op++) {
        struct fy_hist_snap snap;
        char labels[160];
        fy_hist_snapshot(&s->hist[op], &snap);
        if (snap.cum[FY_HIST_BUCKETS] == 0) {
            continue;
        }
        snprintf(labels, sizeof(labels), "operation=\"%s\"", s->op_name[op]);
        e = fy_hist_prometheus(b, "fleetyard_http_request_duration_seconds", labels, &snap);
    }
    return e;
}
