/* fleetyard api internals shared by http.c, request.c, router.c and admin.c. */
#ifndef FY_API_INT_H
#define FY_API_INT_H

#include <pthread.h>

#include "api/api.h"
#include "api/server.h"
#include "api/sigv4.h"
#include "core/stats.h"

struct fy_operator;
struct fy_operator_set;

/* A loaded operator key set and the requests still using it (api/keystore.c). */
struct api_opset {
    struct fy_operator_set *set;
    int refs;
};

/* The operator keys as the request path sees them: a snapshot re-read when the database's
 * operator_keys_version changes, checked at most every API_KEYS_RECHECK_MS by requests signed
 * with a key other than the administrator's, and at once for a key id the snapshot lacks (a key
 * just created works on its first request; disabling, rotating and policy changes take effect
 * within API_KEYS_RECHECK_MS). */
#define API_KEYS_RECHECK_MS 100
struct api_keystore {
    pthread_mutex_t lock;
    struct fy_db *db; /* own connection, used under lock */
    struct api_opset *cur;
    int64_t version;
    uint64_t checked_ns;
};

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
    struct api_keystore keys;
    struct api_affinity affinity; /* the pool threads' CPUs (affinity.h) */
    bool auth;
    bool reset_enabled;
    bool delete_shadows_with_thing;
    int64_t thing_type_delete_wait;
    uint16_t port;
    struct MHD_Daemon *mhd;
    struct api_acceptor *acceptor; /* accept.h */
    struct api_stats *stats;       /* request metrics (reqstats.c) */
    /* connection pool: one SQLite connection per request at a time */
    struct fy_db **dbs;
    struct fy_db *writer; /* every group commit's connection (fy_db_writer_set) */
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

/* Opens the key store on srv->db_path and loads the keys. */
FY_NODISCARD fy_err api_keystore_open(struct api_keystore *ks,
                                      const char *db_path,
                                      struct fy_errmsg *em);
/* Closes it (no set may be in use). */
void api_keystore_close(struct api_keystore *ks);
/* The current key set, reloaded first when due (or force) and changed; NULL only when none
 * could ever be loaded. Release with api_keystore_release. Thread-safe. */
struct api_opset *api_keystore_acquire(struct api_keystore *ks, bool force);
/* Releases a set from api_keystore_acquire (NULL is a no-op); frees it when it was replaced
 * and this was its last user. */
void api_keystore_release(struct api_keystore *ks, struct api_opset *o);

/* Decides a routed request signed by operator key op against its policies: the route's IAM
 * action (iot:<Op>, iotjobsdata:<Op>, logs:<Op>, fleetyard:<Op> for fleetyard's own routes) on
 * each resource ARN the request names (path labels, CreateJob targets, tag resourceArn, log
 * group...; "*" when none). FY_ERR_OK when every one is allowed, else FY_ERR_ACCESS_DENIED with
 * AWS's message naming the first resource refused. May parse the body (api_body). */
FY_NODISCARD fy_err api_authorize(struct api_req *req, const struct fy_operator *op);

/* The IAM action of an operation into buf ("iot:CreateJob"); "" when it does not fit. */
void api_access_action(enum fy_service svc, const char *op, char *buf, size_t n);

/* The client's IP address text into buf (n >= 46); false when unknown (no connection). */
bool api_source_ip(const struct api_req *req, char *buf, size_t n);

/* Service family of a SigV4 scope name; FY_SVC__COUNT when unknown. */
enum fy_service api_service_of(const char *scope_service);

#endif
