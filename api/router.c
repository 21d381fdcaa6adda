/* Route lookup: (service, method, path) -> handler, capturing path labels. */
#include <stdint.h>
#include <string.h>

#include "api/api_int.h"
#include "api/routes.h"
#include "core/alloc.h"

static const struct api_route *const route_tables[] = {
    api_routes_admin,         api_routes_things,       api_routes_thing_types,
    api_routes_thing_groups,  api_routes_tags,         api_routes_endpoint,
    api_routes_principals,    api_routes_certificates, api_routes_policies,
    api_routes_shadows,       api_routes_messages,     api_routes_events,
    api_routes_jobs,          api_routes_jobs_exec,    api_routes_jobs_data,
    api_routes_job_templates, api_routes_index,        api_routes_dynamic_groups,
    api_routes_fleet_metrics, api_routes_logging,      api_routes_logs,
    api_routes_health,        api_routes_metrics,
};

#define NTABLES (sizeof(route_tables) / sizeof(route_tables[0]))

static size_t table_len(const struct api_route *t)
{
    size_t n = 0;
    while (t[n].pattern) {
        n++;
    }
    return n;
}

size_t api_route_count(void)
{
    size_t n = 0;
    for (size_t t = 0; t < NTABLES; t++) {
        n += table_len(route_tables[t]);
    }
    return n;
}

const struct api_route *api_route_at(size_t i)
{
    for (size_t t = 0; t < NTABLES; t++) {
        size_t n = table_len(route_tables[t]);
        if (i < n) {
            return &route_tables[t][i];
        }
        i -= n;
    }
    return NULL;
}

size_t api_route_index(const struct api_route *r)
{
    size_t base = 0;
    uintptr_t a = (uintptr_t)r;
    for (size_t t = 0; t < NTABLES; t++) {
        size_t n = table_len(route_tables[t]);
        uintptr_t lo = (uintptr_t)route_tables[t], hi = (uintptr_t)(route_tables[t] + n);
        if (a >= lo && a < hi) {
            return base + (size_t)(r - route_tables[t]);
        }
        base += n;
    }
    return base;
}

enum fy_service api_service_of(const char *s)
{
    if (strcmp(s, "iot") == 0 || strcmp(s, "execute-api") == 0) {
        return FY_SVC_IOT;
    }
    if (strcmp(s, "iotdata") == 0 || strcmp(s, "iotdevicegateway") == 0) {
        return FY_SVC_DATA;
    }
    if (strcmp(s, "iot-jobs-data") == 0) {
        return FY_SVC_JOBS;
    }
    if (strcmp(s, "logs") == 0) {
        return FY_SVC_LOGS;
    }
    return FY_SVC__COUNT;
}

static size_t seg_len(const char *s)
{
    const char *slash = strchr(s, '/');
    return slash ? (size_t)(slash - s) : strlen(s);
}

static int capture(struct api_req *req, const char *name, size_t nlen, const char *raw, size_t rlen)
{
    if (req->nparams >= API_MAX_PARAMS) {
        return -1;
    }
    char *k = fy_strndup(name, nlen);
    char *v = fy_pct_decode(raw, rlen);
    if (!k || !v) {
        fy_free(k);
        fy_free(v);
        return -1;
    }
    req->params[req->nparams].key = k;
    req->params[req->nparams].value = v;
    req->nparams++;
    return 0;
}

/* Matches one "{label}" / "{label+}" / literal segment; advances both cursors. */
static int match_segment(struct api_req *req, const char **pp, const char **rp)
{
    const char *p = *pp, *r = *rp;
    size_t plen = seg_len(p), rlen = seg_len(r);
    if (p[0] == '{' && plen >= 3 && p[plen - 1] == '}') {
        int greedy = p[plen - 2] == '+';
        size_t nlen = plen - 2 - (greedy ? 1 : 0);
        if (greedy) {
            rlen = strlen(r);
        }
        if (rlen == 0 || capture(req, p + 1, nlen, r, rlen) != 0) {
            return -1;
        }
    } else if (plen != rlen || memcmp(p, r, plen) != 0) {
        return -1;
    }
    *pp = p + plen;
    *rp = r + rlen;
    return 0;
}

static int match_path(struct api_req *req, const char *pattern, const char *path)
{
    const char *p = pattern, *r = path;
    while (*p && *r) {
        if (*p == '/' || *r == '/') {
            if (*p != *r) {
                return -1;
            }
            p++;
            r++;
            continue;
        }
        if (match_segment(req, &p, &r) != 0) {
            return -1;
        }
    }
    return *p == '\0' && *r == '\0' ? 0 : -1;
}

static void drop_params(struct api_req *req)
{
    for (int i = 0; i < req->nparams; i++) {
        FY_FREE(req->params[i].key);
        FY_FREE(req->params[i].value);
    }
    req->nparams = 0;
}

static const struct api_route *
find_in(struct api_req *req, enum fy_service svc, const char *path, int *path_seen)
{
    for (size_t t = 0; t < NTABLES; t++) {
        for (const struct api_route *r = route_tables[t]; r->pattern; r++) {
            if (svc != FY_SVC__COUNT && r->svc != svc) {
                continue;
            }
            if (match_path(req, r->pattern, path) != 0) {
                drop_params(req);
                continue;
            }
            if (strcmp(r->method, req->method) == 0) {
                return r;
            }
            *path_seen = 1;
            drop_params(req);
        }
    }
    return NULL;
}

fy_err api_route_find(struct api_req *req,
                      enum fy_service svc,
                      const char *raw_path,
                      const struct api_route **out)
{
    int path_seen = 0;
    const struct api_route *r = find_in(req, svc, raw_path, &path_seen);
    if (!r) {
        if (path_seen) {
            return fy_fail(&req->em, FY_ERR_METHOD_NOT_ALLOWED,
                           "Method %.16s is not allowed on %.200s", req->method, raw_path);
        }
        return fy_fail(&req->em, FY_ERR_UNKNOWN_OPERATION, "No operation matches %.16s %.200s",
                       req->method, raw_path);
    }
    *out = r;
    req->op = r->op;
    return FY_ERR_OK;
}
