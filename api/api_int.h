/* fleetyard api internals shared by http.c, request.c, router.c and admin.c. */
#ifndef FY_API_INT_H
#define FY_API_INT_H

#include <pthread.h>

#include "api/api.h"
#include "api/server.h"
#include "api/sigv4.h"
#include "core/stats.h"

struct api_server {
    struct fy_site site;
    char bind_addr[64];
    char access_key[64];
    char secret_key[128];
    char db_path[4096];
    char mqtt_host[256];
    const struct fy_pki_ca *ca;
    api_publish_fn publish; /* NULL without a broker */
    void *publish_ctx;
    void (*control_changed)(void *publish_ctx);
    struct fy_sigv4_credentials creds;
    bool auth;
    bool reset_enabled;
    bool delete_shadows_with_thing;
    int64_t thing_type_delete_wait;
    uint16_t port;
    struct MHD_Daemon *mhd;
    struct api_stats *stats; /* request metrics (reqstats.c) */
    /* connection pool: one SQLite connection per request at a time */
    struct fy_db **dbs;
    struct fy_db_checkpointer *checkpointer; /* WAL checkpoints off the request path */
    int ndbs;
    int *free_idx;
    int nfree;
    pthread_mutex_t pool_lock;
    pthread_cond_t pool_cond;
};

/* Opens n connections on srv->db_path (schema already migrated by the server). */
FY_NODISCARD fy_err api_pool_open(struct api_server *srv, int n, struct fy_errmsg *em);
/* Closes every pooled connection (none may be checked out). */
void api_pool_close(struct api_server *srv);

/* Checks a connection out of the pool (blocks while all are in use). */
struct fy_db *api_pool_get(struct api_server *srv, int *slot);
void api_pool_put(struct api_server *srv, int slot);

/* Parses the raw query string into req->query (decoded). FY_ERR_INVALID_REQUEST on bad
 * escapes or too many parameters. */
FY_NODISCARD fy_err api_parse_query(struct api_req *req, const char *raw_query);

/* Frees everything the request owns (params, query, body, JSON in and out, raw reply). */
void api_req_release(struct api_req *req);

/* ---- request metrics (reqstats.c) ----
 * Counters per (operation, error code) and a latency histogram per operation, in arrays made
 * once at start (one slot per distinct operation name of the route tables, plus "none" for
 * requests that reached no route); every pool thread updates them with relaxed atomics. */
struct api_stats;

/* NULL on allocation failure. */
struct api_stats *api_stats_new(void);
void api_stats_free(struct api_stats *s);
/* Records one finished request: route NULL when none matched; e its outcome; ns its duration.
 * Any thread, lock-free. */
void api_stats_observe(struct api_stats *s, const struct api_route *route, fy_err e, uint64_t ns);
/* Requests of operation op so far that succeeded (ok) or failed (!ok). */
uint64_t api_stats_count(struct api_stats *s, const char *op, bool ok);
/* Appends fleetyard_http_requests_total and fleetyard_http_request_duration_seconds (HELP, TYPE
 * and every series observed so far). Errors of fy_buf_printf. */
FY_NODISCARD fy_err api_stats_prometheus(struct api_stats *s, struct fy_buf *b);

/* Service family of a SigV4 scope name; FY_SVC__COUNT when unknown. */
enum fy_service api_service_of(const char *scope_service);

#endif
