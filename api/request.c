/* Request input helpers and reply setters (api/api.h). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <microhttpd.h>

#include "api/api_int.h"
#include "core/alloc.h"
#include "core/codec.h"
#include "core/json.h"
#include "core/names.h"

#define API_TOKEN_PREFIX "fy1:"

const char *api_param(const struct api_req *req, const char *name)
{
    for (int i = 0; i < req->nparams; i++) {
        if (strcmp(req->params[i].key, name) == 0) {
            return req->params[i].value;
        }
    }
    return NULL;
}

const char *api_query(const struct api_req *req, const char *name)
{
    for (int i = 0; i < req->nquery; i++) {
        if (strcmp(req->query[i].key, name) == 0) {
            return req->query[i].value;
        }
    }
    return NULL;
}

const char *api_header(const struct api_req *req, const char *name)
{
    if (!req->http) {
        return NULL;
    }
    return MHD_lookup_connection_value((struct MHD_Connection *)req->http, MHD_HEADER_KIND, name);
}

bool api_source_ip(const struct api_req *req, char *buf, size_t n)
{
    const union MHD_ConnectionInfo *ci =
        req->http ? MHD_get_connection_info((struct MHD_Connection *)req->http,
                                            MHD_CONNECTION_INFO_CLIENT_ADDRESS)
                  : NULL;
    const struct sockaddr *sa = ci ? ci->client_addr : NULL;
    if (!sa) {
        return false;
    }
    if (sa->sa_family == AF_INET) {
        return inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, buf,
                         (socklen_t)n) != NULL;
    }
    if (sa->sa_family == AF_INET6) {
        return inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, buf,
                         (socklen_t)n) != NULL;
    }
    return false;
}

fy_err api_body(struct api_req *req, json_t **out)
{
    if (!req->j_body) {
        if (req->body.len == 0) {
            req->j_body = json_object();
        } else {
            fy_err e = fy_json_parse(req->body.data, req->body.len, FY_JSON_MAX_DEPTH, &req->j_body,
                                     &req->em);
            if (e) {
                return e;
            }
        }
        if (!req->j_body) {
            return fy_fail(&req->em, FY_ERR_NOMEM, "Out of memory");
        }
        if (!json_is_object(req->j_body)) {
            return fy_fail(&req->em, FY_ERR_INVALID_REQUEST,
                           "The request body must be a JSON object");
        }
    }
    *out = req->j_body;
    return FY_ERR_OK;
}

fy_err api_require_param(struct api_req *req,
                         const char *name,
                         bool (*valid)(const char *),
                         const char **out)
{
    const char *v = api_param(req, name);
    if (!v || !valid(v)) {
        return fy_fail(&req->em, FY_ERR_INVALID_REQUEST,
                       "1 validation error detected: Value '%.128s' at '%.64s' failed to satisfy "
                       "constraint",
                       v ? v : "", name);
    }
    *out = v;
    return FY_ERR_OK;
}

fy_err api_query_int(
    struct api_req *req, const char *name, int64_t min, int64_t max, int64_t def, int64_t *out)
{
    const char *v = api_query(req, name);
    if (!v) {
        *out = def;
        return FY_ERR_OK;
    }
    if (fy_parse_i64_full(v, min, max, out) != 0) {
        return fy_fail(&req->em, FY_ERR_INVALID_REQUEST,
                       "Value '%.32s' at '%.64s' must be an integer between %lld and %lld", v, name,
                       (long long)min, (long long)max);
    }
    return FY_ERR_OK;
}

fy_err api_query_bool(struct api_req *req, const char *name, bool def, bool *out)
{
    const char *v = api_query(req, name);
    if (!v) {
        *out = def;
    } else if (strcasecmp(v, "true") == 0) {
        *out = true;
    } else if (strcasecmp(v, "false") == 0) {
        *out = false;
    } else {
        return fy_fail(&req->em, FY_ERR_INVALID_REQUEST,
                       "Value '%.32s' at '%.64s' is not a boolean", v, name);
    }
    return FY_ERR_OK;
}

fy_err api_page_in(struct api_req *req,
                   const char *token_name,
                   const char *size_name,
                   int64_t def,
                   int64_t max,
                   char **key_out,
                   int64_t *limit)
{
    const char *tok = api_query(req, token_name);
    *key_out = NULL;
    fy_err e = api_query_int(req, size_name, 1, max, def, limit);
    if (e || !tok || !*tok) {
        return e;
    }
    size_t n = 0;
    char *raw = strlen(tok) <= API_TOKEN_MAX ? fy_b64url_decode_new(tok, &n) : NULL;
    if (!raw || n < strlen(API_TOKEN_PREFIX) || memcmp(raw, API_TOKEN_PREFIX, 4) != 0 ||
        memchr(raw, '\0', n)) {
        fy_free(raw);
        return fy_fail(&req->em, FY_ERR_INVALID_REQUEST, "Invalid pagination token");
    }
    memmove(raw, raw + 4, n - 4 + 1);
    *key_out = raw;
    return FY_ERR_OK;
}

fy_err api_page_out(struct api_req *req, json_t *j_out, const char *out_name, const char *key)
{
    if (!key) {
        return FY_ERR_OK;
    }
    size_t klen = strlen(key);
    char *raw = fy_malloc(klen + 5);
    if (!raw) {
        return fy_fail(&req->em, FY_ERR_NOMEM, "Out of memory");
    }
    memcpy(raw, API_TOKEN_PREFIX, 4);
    memcpy(raw + 4, key, klen + 1);
    char *tok = fy_b64url_new(raw, klen + 4);
    fy_free(raw);
    if (!tok || json_object_set_new(j_out, out_name, json_string(tok)) != 0) {
        fy_free(tok);
        return fy_fail(&req->em, FY_ERR_NOMEM, "Out of memory");
    }
    fy_free(tok);
    return FY_ERR_OK;
}

fy_err api_reply(struct api_req *req, json_t *j)
{
    if (!j) {
        return fy_fail(&req->em, FY_ERR_NOMEM, "Out of memory");
    }
    json_decref(req->j_out);
    req->j_out = j;
    return FY_ERR_OK;
}

void api_reply_raw(struct api_req *req, char *buf, size_t len, const char *content_type)
{
    fy_free(req->raw_out);
    req->raw_out = buf;
    req->raw_out_len = len;
    req->content_type = content_type;
}

bool api_delete_shadows_with_thing(const struct api_req *req)
{
    return req->srv->delete_shadows_with_thing;
}

int64_t api_thing_type_delete_wait(const struct api_req *req)
{
    return req->srv->thing_type_delete_wait;
}

static fy_err add_query(struct api_req *req, const char *item, size_t len)
{
    const char *eq = memchr(item, '=', len);
    size_t klen = eq ? (size_t)(eq - item) : len;
    if (req->nquery >= API_MAX_QUERY) {
        return fy_fail(&req->em, FY_ERR_INVALID_REQUEST, "Too many query parameters (max %d)",
                       API_MAX_QUERY);
    }
    char *k = fy_pct_decode(item, klen);
    char *v = eq ? fy_pct_decode(eq + 1, len - klen - 1) : fy_strdup("");
    if (!k || !v) {
        fy_free(k);
        fy_free(v);
        return fy_fail(&req->em, FY_ERR_INVALID_REQUEST, "Malformed query string");
    }
    req->query[req->nquery].key = k;
    req->query[req->nquery].value = v;
    req->nquery++;
    return FY_ERR_OK;
}

fy_err api_parse_query(struct api_req *req, const char *q)
{
    while (q && *q) {
        const char *amp = strchr(q, '&');
        size_t len = amp ? (size_t)(amp - q) : strlen(q);
        if (len) {
            fy_err e = add_query(req, q, len);
            if (e) {
                return e;
            }
        }
        q += len + (amp ? 1 : 0);
    }
    return FY_ERR_OK;
}

static void free_kv(struct api_kv *kv, int n)
{
    for (int i = 0; i < n; i++) {
        FY_FREE(kv[i].key);
        FY_FREE(kv[i].value);
    }
}

void api_req_release(struct api_req *req)
{
    free_kv(req->params, req->nparams);
    free_kv(req->query, req->nquery);
    req->nparams = req->nquery = 0;
    fy_buf_free(&req->body);
    json_decref(req->j_body);
    json_decref(req->j_out);
    req->j_body = req->j_out = NULL;
    FY_FREE(req->raw_out);
}

fy_err api_publish(
    struct api_req *req, const char *topic, const void *payload, size_t len, int qos, bool retain)
{
    const struct api_server *srv = req->srv;
    if (!srv->publish) {
        return fy_fail(&req->em, FY_ERR_UNAVAILABLE, "no broker runs with this server");
    }
    fy_err e = srv->publish(srv->publish_ctx, topic, payload, len, qos, retain);
    if (e == FY_ERR_UNAVAILABLE) {
        fy_errf(&req->em, "the broker cannot be reached now");
    } else if (e == FY_ERR_INVALID_REQUEST) {
        fy_errf(&req->em, "invalid topic");
    }
    return e;
}
