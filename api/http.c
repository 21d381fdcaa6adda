/* The HTTP listener: libmicrohttpd with a thread pool, request lifecycle, SigV4 gate, dispatch
 * and AWS-style rendering of replies and errors. */
#include <stdio.h>
#include <string.h>

#include <microhttpd.h>
#include <openssl/crypto.h>

#include "api/accept.h"
#include "api/api_int.h"
#include "api/routes.h"
#include "core/alloc.h"
#include "core/codec.h"
#include "core/fytime.h"
#include "core/json.h"
#include "core/log.h"
#include "core/names.h"
#include "operators/operators.h"

#define API_CONN_TIMEOUT_S 60

struct http_req {
    struct api_req req;
    struct api_opset *opset;      /* operator keys held for this request (operator keys only) */
    const struct fy_operator *op; /* the operator key that signed, NULL for the administrator */
    char *raw_uri;
    bool started;
    bool too_large;
    uint64_t t0;
    struct api_audit_ctx audit;    /* the rider's context (api_audit_begin) */
    const struct api_route *route; /* the matched route (NULL until found) */
};

static void *uri_logger(void *cls, const char *uri, struct MHD_Connection *conn)
{
    (void)cls;
    (void)conn;
    struct http_req *h = fy_calloc(1, sizeof(*h));
    if (h) {
        h->raw_uri = fy_strdup(uri);
        fy_buf_init(&h->req.body, API_BODY_MAX);
        h->t0 = fy_mono_ns();
    }
    return h;
}

static const char *header_cb(void *ctx, const char *lname)
{
    return MHD_lookup_connection_value((struct MHD_Connection *)ctx, MHD_HEADER_KIND, lname);
}

/* Service named by an Authorization header's credential scope, without verifying it (used when
 * verification is off). FY_SVC__COUNT when there is none. */
static enum fy_service unverified_service(const char *auth)
{
    char svc[FY_SIGV4_SERVICE_MAX + 1];
    const char *p = auth ? strstr(auth, "Credential=") : NULL;
    for (int slashes = 0; p && *p && slashes < 3; p++) {
        slashes += *p == '/';
    }
    if (!p || !*p) {
        return FY_SVC__COUNT;
    }
    size_t n = strcspn(p, "/, ");
    if (n > FY_SIGV4_SERVICE_MAX) {
        return FY_SVC__COUNT;
    }
    memcpy(svc, p, n);
    svc[n] = '\0';
    return api_service_of(svc);
}

/* Routes anyone may read without a signature (public material only). */
static bool public_route(const char *method, const char *path)
{
    static const char *const paths[] = {"/fleetyard/ca.pem"};
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        if (strcmp(method, "GET") == 0 && strcmp(path, paths[i]) == 0) {
            return true;
        }
    }
    return false;
}

/* fy_sigv4_secret_fn: the administrator's secret, else an Active operator key's (the key set
 * is then held by the request until it completes). */
static const char *key_secret(void *ctx, const char *akid)
{
    struct http_req *h = ctx;
    struct api_server *srv = (struct api_server *)h->req.srv;
    if (strcmp(akid, srv->access_key) == 0) {
        return srv->secret_key;
    }
    if (!h->opset) {
        h->opset = api_keystore_acquire(&srv->keys, false);
    }
    const struct fy_operator *op = h->opset ? fy_operator_set_find(h->opset->set, akid) : NULL;
    if (!op && h->opset) { /* perhaps created since the last check: look once more, now */
        api_keystore_release(&srv->keys, h->opset);
        h->opset = api_keystore_acquire(&srv->keys, true);
        op = h->opset ? fy_operator_set_find(h->opset->set, akid) : NULL;
    }
    if (!op || !op->active) {
        return NULL; /* AWS answers an inactive key as an unknown one */
    }
    h->op = op;
    return op->secret;
}

/* Verifies SigV4 (when on) and picks the service family; FY_SVC__COUNT = try all. */
static fy_err
authenticate(struct http_req *h, const char *path, const char *query, enum fy_service *svc)
{
    struct api_req *req = &h->req;
    const struct api_server *srv = req->srv;
    if (public_route(req->method, path) || api_health_public(req->method, path) ||
        api_metrics_public(req->method, path)) {
        snprintf(req->caller, sizeof(req->caller), "public");
        *svc = FY_SVC_IOT;
        return FY_ERR_OK;
    }
    struct fy_sigv4_result res;
    struct fy_sigv4_request sr = {req->method, path,           query,        header_cb,
                                  req->http,   req->body.data, req->body.len};
    fy_err e = fy_sigv4_verify_with(&sr, key_secret, h, (int64_t)fy_now(), &res, &req->em);
    if (e) {
        h->op = NULL;
    }
    if (e && !srv->auth) {
        snprintf(req->caller, sizeof(req->caller), "anonymous");
        *svc = unverified_service(api_header(req, "authorization"));
        return FY_ERR_OK;
    }
    if (e) {
        return e;
    }
    snprintf(req->caller, sizeof(req->caller), "%s", res.access_key);
    req->user = h->op ? h->op->name : NULL;
    *svc = api_service_of(res.service);
    if (*svc == FY_SVC__COUNT) {
        return fy_fail(&req->em, FY_ERR_INVALID_SIGNATURE,
                       "Credential should be scoped to a valid service: '%.32s'", res.service);
    }
    return FY_ERR_OK;
}

static fy_err run_handler(struct http_req *h, const struct api_route *route)
{
    struct api_req *req = &h->req;
    struct api_server *srv = (struct api_server *)req->srv;
    int slot;
    req->db = api_pool_get(srv, &slot);
    api_audit_begin(req, h->raw_uri, &h->audit);
    fy_err e = route->fn(req);
    fy_db_rollback(req->db); /* a handler never leaves a transaction open */
    api_iotlog_request(req, e);
    api_pool_put(srv, slot);
    req->db = NULL;
    /* a control-plane change may change what connected devices may do: hint the broker to
     * re-check now rather than at its next poll */
    if (!e && route->svc == FY_SVC_IOT && strcmp(route->method, "GET") != 0 &&
        srv->control_changed) {
        srv->control_changed(srv->publish_ctx);
    }
    return e;
}

static fy_err dispatch(struct http_req *h)
{
    struct api_req *req = &h->req;
    const struct api_route *route;
    enum fy_service svc;
    if (h->too_large) {
        return fy_fail(&req->em, FY_ERR_PAYLOAD_TOO_LARGE,
                       "The request body exceeds the maximum size allowed (%d bytes)",
                       API_BODY_MAX);
    }
    char *qmark = strchr(h->raw_uri, '?');
    const char *query = qmark ? qmark + 1 : "";
    if (qmark) {
        *qmark = '\0';
    }
    fy_err e = authenticate(h, h->raw_uri, query, &svc);
    if (!e) {
        e = api_parse_query(req, query);
    }
    if (!e) {
        e = api_route_find(req, svc, h->raw_uri, &route);
    }
    if (!e) {
        req->svc = route->svc;
        h->route = route;
        e = h->op ? api_authorize(req, h->op) : FY_ERR_OK;
    }
    if (!e) {
        e = run_handler(h, route);
    }
    if (qmark) {
        *qmark = '?';
    }
    return e;
}

static struct MHD_Response *buffer_response(char *buf, size_t len)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer_with_free_callback(len, buf ? buf : fy_strdup(""), fy_free);
    return r;
}

static struct MHD_Response *error_response(struct api_req *req, fy_err e)
{
    json_t *j = json_pack("{s:s}", "message", req->em.msg[0] ? req->em.msg : fy_err_type(e));
    /* a body that cannot be whole is left out: the x-amzn-ErrorType header still names it */
    if (j && e == FY_ERR_ALREADY_EXISTS && json_is_object(req->j_out) &&
        json_object_update_missing(j, req->j_out) != 0) { /* resourceId, resourceArn */
        json_decref(j);
        j = NULL;
    }
    if (j && req->svc == FY_SVC_LOGS) {
        j = fy_json_with_member(j, "__type", json_string(api_logs_error_type(e)));
    }
    char *body = j ? fy_json_dump(j) : NULL;
    json_decref(j);
    struct MHD_Response *r = buffer_response(body, body ? strlen(body) : 0);
    if (r) {
        MHD_add_response_header(r, "x-amzn-ErrorType", fy_err_type(e));
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    }
    return r;
}

static struct MHD_Response *ok_response(struct api_req *req)
{
    struct MHD_Response *r;
    const char *ctype = req->content_type ? req->content_type : "application/json";
    if (req->raw_out) {
        r = buffer_response(req->raw_out, req->raw_out_len);
        req->raw_out = NULL;
    } else if (req->j_out) {
        char *s = fy_json_dump(req->j_out);
        if (!s) {
            return NULL;
        }
        r = buffer_response(s, strlen(s));
    } else {
        r = buffer_response(NULL, 0);
    }
    if (r) {
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                                req->svc == FY_SVC_LOGS ? "application/x-amz-json-1.1" : ctype);
    }
    return r;
}

static enum MHD_Result respond(struct MHD_Connection *conn, struct http_req *h, fy_err e)
{
    struct api_req *req = &h->req;
    struct MHD_Response *r = e ? error_response(req, e) : ok_response(req);
    unsigned status = (unsigned)fy_err_status(e);
    if (!r) {
        e = FY_ERR_NOMEM;
        r = error_response(req, e);
        status = 500;
        if (!r) {
            return MHD_NO;
        }
    }
    MHD_add_response_header(r, "x-amzn-RequestId", req->request_id);
    api_audit_request(req, h->raw_uri, status, e, &h->audit);
    enum MHD_Result rc = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    uint64_t ns = fy_mono_ns() - h->t0;
    api_stats_observe(req->srv->stats, h->route, e, ns);
    fy_log(e ? FY_LOG_INFO : FY_LOG_DEBUG, "http", "%s %.200s -> %u %s (%.2f ms)%s%.200s",
           req->method, h->raw_uri, status, req->op ? req->op : "-", (double)ns / 1e6,
           e ? ": " : "", e ? req->em.msg : "");
    return rc;
}

static enum MHD_Result first_call(struct MHD_Connection *conn,
                                  struct http_req *h,
                                  struct api_server *srv,
                                  const char *method)
{
    h->started = true;
    api_affinity_pin_self(&srv->affinity);
    h->req.srv = srv;
    h->req.site = &srv->site;
    h->req.method = method;
    h->req.http = conn;
    h->req.svc = FY_SVC_IOT;
    char uuid[FY_UUID_LEN + 1];
    if (fy_uuid4(uuid) == FY_ERR_OK) {
        snprintf(h->req.request_id, sizeof(h->req.request_id), "%s", uuid);
    }
    const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "content-length");
    int64_t len;
    if (cl && fy_parse_i64_full(cl, 0, INT64_MAX, &len) == 0 && len > API_BODY_MAX) {
        h->too_large = true;
    }
    return MHD_YES;
}

static enum MHD_Result on_request(void *cls,
                                  struct MHD_Connection *conn,
                                  const char *url,
                                  const char *method,
                                  const char *version,
                                  const char *upload_data,
                                  size_t *upload_data_size,
                                  void **req_cls)
{
    (void)url;
    (void)version;
    struct http_req *h = *req_cls;
    if (!h || !h->raw_uri) {
        return MHD_NO;
    }
    if (!h->started) {
        return first_call(conn, h, cls, method);
    }
    if (*upload_data_size) {
        if (!h->too_large && fy_buf_append(&h->req.body, upload_data, *upload_data_size)) {
            h->too_large = true;
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    return respond(conn, h, dispatch(h));
}

static void on_completed(void *cls,
                         struct MHD_Connection *conn,
                         void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    struct http_req *h = *req_cls;
    if (h) {
        if (h->opset) {
            api_keystore_release(&((struct api_server *)h->req.srv)->keys, h->opset);
        }
        api_req_release(&h->req);
        fy_free(h->audit.line); /* set when the request ended before it was recorded */
        fy_free(h->raw_uri);
        fy_free(h);
    }
    *req_cls = NULL;
}

FY_PRINTF(2, 0) static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char line[512];
    vsnprintf(line, sizeof(line), fmt, ap);
    line[strcspn(line, "\n")] = '\0';
    fy_log(FY_LOG_WARN, "mhd", "%s", line);
}

/* MHD's pool without a listening socket of its own: the acceptor (accept.h) hands it each
 * connection. */
static fy_err start_mhd(struct api_server *srv, int threads, struct fy_errmsg *em)
{
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG |
                     MHD_USE_NO_LISTEN_SOCKET | MHD_USE_ITC;
    srv->mhd = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, srv, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)threads, MHD_OPTION_URI_LOG_CALLBACK, uri_logger,
        NULL, MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)API_CONN_TIMEOUT_S, MHD_OPTION_END);
    if (!srv->mhd) {
        return fy_fail(em, FY_ERR_INTERNAL, "cannot start the HTTP server");
    }
    return api_acceptor_start(srv->mhd, srv->bind_addr, srv->port, &srv->acceptor, &srv->port, em);
}

uint16_t api_server_port(const struct api_server *srv)
{
    return srv->port;
}

static void copy_config(struct api_server *srv, const struct api_config *cfg)
{
    srv->site = cfg->site;
    snprintf(srv->bind_addr, sizeof(srv->bind_addr), "%s", cfg->bind_addr);
    snprintf(srv->access_key, sizeof(srv->access_key), "%s", cfg->access_key);
    snprintf(srv->secret_key, sizeof(srv->secret_key), "%s", cfg->secret_key);
    snprintf(srv->db_path, sizeof(srv->db_path), "%s", cfg->db_path);
    snprintf(srv->mqtt_host, sizeof(srv->mqtt_host), "%s", cfg->mqtt_host ? cfg->mqtt_host : "");
    srv->ca = cfg->ca;
    srv->publish = cfg->publish;
    srv->publish_ctx = cfg->publish_ctx;
    srv->control_changed = cfg->control_changed;
    srv->auth = cfg->auth;
    srv->reset_enabled = cfg->reset_enabled;
    srv->delete_shadows_with_thing = cfg->delete_shadows_with_thing;
    srv->thing_type_delete_wait = cfg->thing_type_delete_wait;
    srv->port = cfg->port;
}

fy_err api_server_start(const struct api_config *cfg, struct api_server **out, struct fy_errmsg *em)
{
    struct api_server *srv = fy_calloc(1, sizeof(*srv));
    if (!srv) {
        return fy_fail(em, FY_ERR_NOMEM, "Out of memory");
    }
    copy_config(srv, cfg);
    int threads = cfg->threads > 0 ? cfg->threads : 4;
    api_affinity_init(&srv->affinity, cfg->affinity, threads);
    srv->stats = api_stats_new();
    fy_err e =
        srv->stats ? api_pool_open(srv, threads, em) : fy_fail(em, FY_ERR_NOMEM, "Out of memory");
    if (!e && srv->auth) {
        e = api_keystore_open(&srv->keys, srv->db_path, em);
    }
    if (!e) {
        e = start_mhd(srv, threads, em);
    }
    if (e) {
        api_server_stop(srv);
        return e;
    }
    *out = srv;
    return FY_ERR_OK;
}

void api_server_stop(struct api_server *srv)
{
    if (!srv) {
        return;
    }
    api_acceptor_stop(srv->acceptor); /* first: it hands connections to the daemon */
    if (srv->mhd) {
        MHD_stop_daemon(srv->mhd);
    }
    if (srv->keys.db) {
        api_keystore_close(&srv->keys);
    }
    api_pool_close(srv);
    api_stats_free(srv->stats);
    OPENSSL_cleanse(srv->secret_key, sizeof(srv->secret_key));
    fy_free(srv);
}
