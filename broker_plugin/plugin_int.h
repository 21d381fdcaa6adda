/* fleetyard broker plugin: state shared by the plugin's files (internal).
 *
 * Threads: everything here belongs to mosquitto's single broker thread. The plugin starts no
 * threads and never calls mosquitto from anywhere else (STYLE 2.7).
 *
 * Connections are tracked by their struct mosquitto pointer, never by client id: on a session
 * takeover the new client's BASIC_AUTH comes before the old client's DISCONNECT with the same id
 * (../shared/reference/FIELD_NOTES.md). An entry is created when BASIC_AUTH admits a client.
 * The client's DISCONNECT (raised for every end of a connection) retires it: mosquitto checks
 * the will message (ACL WRITE) right after the DISCONNECT event, so the entry stays until the
 * next TICK, BASIC_AUTH or DISCONNECT flushes retired entries. mosquitto frees a struct
 * mosquitto only later in its loop, and a new connection reaches ACL checks only through
 * BASIC_AUTH (which flushes first), so a reused pointer never meets a stale entry.
 */
#ifndef FY_BROKER_PLUGIN_INT_H
#define FY_BROKER_PLUGIN_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker_plugin/link_proto.h"
#include "core/db.h"
#include "core/err.h"
#include "core/site.h"
#include "core/stats.h"

#define FY_PLUGIN_CERT_ID_LEN   64
#define FY_PLUGIN_CLIENT_ID_MAX 128 /* AWS: client ids are at most 128 bytes */
#define FY_PLUGIN_CONN_BUCKETS  4096
#define FY_PLUGIN_SECRET_MAX    128
/* How long an offline persistent session's rights are kept: mosquitto's
 * persistent_client_expiration (server/broker.h FY_BROKER_SESSION_EXPIRY, AWS's 1 h). */
#define FY_PLUGIN_SESSION_EXPIRY_MS (3600 * 1000)
#define FY_PLUGIN_PATH_MAX          1024
#define FY_PLUGIN_CA_MAX            1024 /* registered CA certificates placed in the trust dir */

struct mosquitto;
struct fy_authz;

/* Why a connection ended, when the plugin caused it (AWS disconnectReason). mosquitto 2.0 does
 * not tell a plugin why a client went away, so anything else is CONNECTION_LOST unless the
 * connectivity row shows a newer session of the same client id (DUPLICATE_CLIENTID). */
enum fy_disconnect_reason {
    FY_DISCONNECT_NONE = 0,
    FY_DISCONNECT_AUTH_ERROR,       /* certificate or CA no longer ACTIVE, Connect revoked */
    FY_DISCONNECT_FORBIDDEN_ACCESS, /* a denied PUBLISH or SUBSCRIBE */
};

#define FY_PLUGIN_SESSION_LEN 36 /* a UUID */

/* One admitted connection. Owned by the table (fy_conns_*). */
struct fy_conn {
    struct fy_conn *next;         /* hash chain */
    struct fy_conn *retired_next; /* retired list, when retired */
    struct fy_conn *offline_next; /* offline list, when offline */
    bool retired;
    bool offline;          /* disconnected, persistent session kept (see fy_conns_offline) */
    int64_t offline_since; /* epoch ms */
    bool link;             /* the server's internal link: allowed everything */
    const struct mosquitto *client; /* the key; borrowed from mosquitto */
    char cert_id[FY_PLUGIN_CERT_ID_LEN + 1];
    char *client_id;        /* owned copy */
    struct fy_authz *authz; /* what the connection may do (owned) */
    enum fy_disconnect_reason disconnect_reason;
    int64_t version_number; /* presence versionNumber of this connection */
    char session_id[FY_PLUGIN_SESSION_LEN + 1];
};

/* Connection table: a fixed array of hash chains keyed by the client pointer. */
struct fy_conns {
    struct fy_conn *buckets[FY_PLUGIN_CONN_BUCKETS];
    struct fy_conn *retired; /* disconnected, removed by fy_conns_flush */
    struct fy_conn *offline; /* disconnected with a persistent session */
    size_t count;
};

/* Compiled policies shared by document text (pcache.c). */
#define FY_PCACHE_BUCKETS 256
struct fy_pcache_entry;
struct fy_policy;
struct fy_pcache {
    struct fy_pcache_entry *buckets[FY_PCACHE_BUCKETS];
    size_t count;
};

/* The compiled policy of doc, shared: a new reference to the cached entry, compiled on first
 * use. Errors: those of fy_policy_compile, FY_ERR_NOMEM. */
FY_NODISCARD fy_err fy_pcache_get(struct fy_pcache *c,
                                  const char *doc,
                                  struct fy_pcache_entry **out,
                                  struct fy_errmsg *em);

/* The entry's compiled policy (borrowed while the reference is held). */
const struct fy_policy *fy_pcache_policy(const struct fy_pcache_entry *e);

/* Drops a reference; the last one frees the entry. NULL is a no-op. */
void fy_pcache_put(struct fy_pcache *c, struct fy_pcache_entry *e);

/* The plugin's counters (stats.c): live counts since this process started, and the values
 * broker_stats held then (base), which the live counts add to. */
struct fy_bstats {
    uint64_t live[FY_BSTAT__COUNT];
    uint64_t base[FY_BSTAT__COUNT];
    uint64_t hist_base[FY_HIST_SLOTS]; /* commit latency per slot, not cumulative */
    uint64_t hist_sum_base;
    uint64_t next_flush_ns; /* monotonic */
    uint64_t flushed_gen;   /* what had been counted at the last write */
};

/* The plugin instance (mosquitto's userdata). */
/* Shadow requests of the current loop pass, served together at TICK (shadow_batch.c). */
struct fy_shadow_pending;
struct fy_shadow_call;
struct fy_shadow_batch {
    struct fy_shadow_pending *items; /* FY_PLUGIN_SHADOW_BATCH_MAX, allocated on first use */
    struct fy_shadow_call *calls;    /* as many */
    size_t n;
};
/* Requests served in one transaction at most: a full queue is served at once, so the broker
 * holds the write lock for at most this many updates (~15 us each). */
#define FY_PLUGIN_SHADOW_BATCH_MAX 128

struct fy_plugin {
    void *pid; /* mosquitto_plugin_id_t *, opaque here */
    struct fy_db *db;
    struct fy_site site;
    char arn_prefix[64]; /* "arn:aws:iot:<region>:<account>:" */
    size_t arn_prefix_len;
    struct fy_conns conns;
    struct fy_pcache pcache;
    char link_secret[FY_PLUGIN_SECRET_MAX + 1]; /* "" = no link can connect */
    char ca_dir[FY_PLUGIN_PATH_MAX];            /* the listener's capath, "" = none */
    int64_t security_epoch; /* security_epoch.epoch the connections were last checked at */
    uint64_t next_poll_ns;  /* monotonic time of the next epoch poll */
    struct fy_shadow_batch shadow_batch;
    /* update/documents is published only once someone may receive it: a subscription that can
     * match it was admitted (acl.c), or sessions restored from the persistence file may hold
     * one (set at start when the file exists). Never cleared: subscriptions leave silently. */
    bool documents_wanted;
    /* Shadow requests are routed to subscribers (besides being served) only once someone may
     * receive them, on the same terms; until then they are consumed like AWS's service does
     * (reserved.c). */
    bool requests_wanted;
    struct fy_bstats stats;
};

/* How often TICK reads the security epoch: a change reaches every connection within this
 * (plus the re-check itself); the link's refresh hint makes it immediate. */
#define FY_PLUGIN_SECURITY_POLL_MS 250

/* ---- counters (stats.c) ---- */

/* How often TICK writes the counters to broker_stats (when they changed). */
#define FY_PLUGIN_STATS_FLUSH_MS 1000

/* Counts one event. Broker thread. */
static inline void fy_bstat_inc(struct fy_plugin *p, enum fy_bstat s)
{
    p->stats.live[s]++;
}

/* Reads the stored values into the base (plugin start). Errors are logged. */
void fy_bstats_load(struct fy_plugin *p);

/* Writes every counter to broker_stats in one short transaction when FY_PLUGIN_STATS_FLUSH_MS
 * passed since the last write (or force) and something changed. Errors are logged. */
void fy_bstats_flush(struct fy_plugin *p, bool force);

/* ---- connection table (conns.c) ---- */

/* The entry of client, or NULL (borrowed; valid until fy_conns_remove of the same client). */
struct fy_conn *fy_conns_get(struct fy_conns *t, const struct mosquitto *client);

/* Adds an entry for client (replacing one left for the same pointer) with copies of cert_id
 * and client_id; ownership of authz passes to the table. FY_ERR_NOMEM leaves the table
 * unchanged and authz still owned by the caller. */
FY_NODISCARD fy_err fy_conns_add(struct fy_conns *t,
                                 const struct mosquitto *client,
                                 const char *cert_id,
                                 const char *client_id,
                                 struct fy_authz *authz);

/* Removes and frees the entry of client; absent is a no-op. */
void fy_conns_remove(struct fy_conns *t, const struct mosquitto *client);

/* Marks the entry of client retired (DISCONNECT): it still answers fy_conns_get until the next
 * fy_conns_flush. Absent or already retired is a no-op. */
void fy_conns_retire(struct fy_conns *t, const struct mosquitto *client);

/* Removes and frees every retired entry. */
void fy_conns_flush(struct fy_conns *t);

/* A client with a persistent session (cleanSession=0) disconnected: mosquitto keeps its
 * struct mosquitto, subscriptions and queue, and checks iot:Receive on that struct for every
 * QoS 1 message it queues meanwhile, so the entry stays (offline) with its policies until the
 * client id connects again (fy_conns_drop_offline) or the session expires
 * (fy_conns_expire_offline). */
void fy_conns_offline(struct fy_conns *t, struct fy_conn *c, int64_t now_ms);

/* Removes the offline entries of client_id (a new connection takes its session over). */
void fy_conns_drop_offline(struct fy_conns *t, const char *client_id);

/* Removes offline entries older than max_age_ms. */
void fy_conns_expire_offline(struct fy_conns *t, int64_t now_ms, int64_t max_age_ms);

/* Frees every entry (plugin cleanup). */
void fy_conns_clear(struct fy_conns *t);

/* ---- authorization of one connection (authz.c) ---- */

/* Who is connecting: what policy variables and the effective policy set are computed from.
 * All pointers are borrowed for the call. */
struct fy_authz_subject {
    const char *cert_id;
    const char *client_id;
    const char *source_ip; /* the client's address (aws:SourceIp) */
    bool persistent;       /* cleanSession=0 (iot:ConnectAttributes) */
};

/* Loads and compiles the effective policies of a connection (its certificate's and, through
 * groups, its thing's) with the connection's policy variables, into an owned *out
 * (fy_authz_free). Runs on the broker thread with the plugin's database connection; read-only.
 * Errors: FY_ERR_NOMEM, FY_ERR_INTERNAL (database), with detail in em. */
FY_NODISCARD fy_err fy_authz_load(struct fy_plugin *p,
                                  const struct fy_authz_subject *who,
                                  struct fy_authz **out,
                                  struct fy_errmsg *em);

/* True when the policies allow action ("iot:Publish") on resource (a full ARN). */
bool fy_authz_allows(const struct fy_authz *a, const char *action, const char *resource);

/* Releases a set (NULL is a no-op). */
void fy_authz_free(struct fy_authz *a);

/* Loads the current policies of the connection old was loaded for (same certificate, client
 * id, address and session kind) into a new *out; errors as fy_authz_load. */
FY_NODISCARD fy_err fy_authz_reload(struct fy_plugin *p,
                                    const struct fy_authz *old,
                                    const char *cert_id,
                                    const char *client_id,
                                    struct fy_authz **out,
                                    struct fy_errmsg *em);

/* ---- live security changes (auth.c, refresh.c) ---- */

/* Re-checks an admitted connection as CONNECT did (certificate and CA ACTIVE, iot:Connect) with
 * freshly loaded policies, which replace c->authz on success. FY_ERR_UNAUTHORIZED when the
 * connection may no longer exist; other errors (database) leave c unchanged. */
FY_NODISCARD fy_err fy_auth_recheck(struct fy_plugin *p, struct fy_conn *c, struct fy_errmsg *em);

/* Polls the security epoch (every FY_PLUGIN_SECURITY_POLL_MS, or now when force) and, when it
 * moved, re-checks every connection and disconnects those no longer allowed. Broker thread. */
void fy_security_refresh(struct fy_plugin *p, bool force);

/* ---- callbacks (auth.c, acl.c) ---- */

/* MOSQ_EVT_BASIC_AUTH: admits a client whose TLS certificate is registered and ACTIVE (and its
 * CA ACTIVE) and whose policies allow iot:Connect. Returns MOSQ_ERR_SUCCESS or MOSQ_ERR_AUTH. */
int fy_plugin_on_basic_auth(int event, void *event_data, void *userdata);

/* MOSQ_EVT_ACL_CHECK: iot:Publish/RetainPublish, iot:Subscribe, iot:Receive. Returns
 * MOSQ_ERR_SUCCESS; MOSQ_ERR_AUTH for a denied publish or subscribe (mosquitto then closes the
 * connection, as AWS does); MOSQ_ERR_ACL_DENIED for a denied delivery. Unsubscribe is always
 * allowed. */
int fy_plugin_on_acl_check(int event, void *event_data, void *userdata);

/* MOSQ_EVT_MESSAGE: serves the reserved request topics (reserved.c); MOSQ_ERR_SUCCESS (the
 * request is also delivered to its own subscribers), or MOSQ_ERR_ACL_DENIED for the link's
 * control messages, which the plugin consumes. */
int fy_plugin_on_message(int event, void *event_data, void *userdata);

/* ---- jobs device protocol (jobs_topics.c) ---- */

struct mosquitto_evt_message;
struct fy_jobs_changed;
struct fy_topic_jobs;

/* Serves one jobs request: the answer to the requesting client only, then notify/notify-next
 * for every thing whose pending jobs changed. */
void fy_jobs_serve(struct fy_plugin *p,
                   const struct mosquitto_evt_message *ed,
                   const struct fy_topic_jobs *t);

/* Publishes notify / notify-next for each changed thing (built from the database). */
void fy_jobs_publish_changes(struct fy_plugin *p, const struct fy_jobs_changed *c, double now);

/* ---- registered CAs in the listener's trust directory (cadir.c) ---- */

/* Makes ca_dir hold exactly the registered CA certificates, named by subject hash. */
void fy_cadir_sync(struct fy_plugin *p);

/* ---- presence and connectivity (presence.c) ---- */

/* The broker (re)starts with no connection: rows still marked connected belong to a broker
 * that stopped; they become disconnected (SERVER_INITIATED_DISCONNECT). */
void fy_presence_reset(struct fy_plugin *p);

/* A device connection was admitted: records it in the connectivity table (connected, new
 * session id and versionNumber into c) and publishes $aws/events/presence/connected/<id>. */
void fy_presence_connected(struct fy_plugin *p, struct fy_conn *c, const char *ip);

/* A device connection ended: records the disconnect (unless a newer session of the client id
 * already took over) and publishes $aws/events/presence/disconnected/<id>. */
void fy_presence_disconnected(struct fy_plugin *p, const struct fy_conn *c);

/* ---- topics (topics.c, pure) ---- */

/* True when topic is one only fleetyard may publish on: shadow and jobs responses under
 * $aws/things/<thing>/ (accepted, rejected, delta, documents, jobs/notify, jobs/notify-next)
 * and everything under $aws/events/. */
bool fy_topic_reserved_response(const char *topic);

#define FY_TOPIC_THING_MAX  128 /* AWS thing names */
#define FY_TOPIC_SHADOW_MAX 64  /* AWS shadow names */

/* A shadow request topic: $aws/things/<thing>/shadow/[name/<shadow>/](get|update|delete). */
struct fy_topic_shadow {
    char thing[FY_TOPIC_THING_MAX + 1];
    char name[FY_TOPIC_SHADOW_MAX + 1]; /* "" for the classic shadow */
    int op;                             /* enum fy_shadow_op */
    size_t prefix_len; /* length of "$aws/things/<thing>/shadow[/name/<shadow>]/<op>" */
};

/* A jobs request topic: $aws/things/<thing>/jobs/(get|start-next|<jobId>/get|<jobId>/update),
 * or on a namespace: $aws/things/<thing>/jobs/<jobId>/namespace-<ns>/(get|update). */
enum fy_topic_jobs_op {
    FY_TOPIC_JOBS_GET_PENDING,
    FY_TOPIC_JOBS_START_NEXT,
    FY_TOPIC_JOBS_DESCRIBE,
    FY_TOPIC_JOBS_UPDATE,
};
#define FY_TOPIC_JOB_ID_MAX 64 /* AWS job ids */

struct fy_topic_jobs {
    char thing[FY_TOPIC_THING_MAX + 1];
    char job_id[FY_TOPIC_JOB_ID_MAX + 1]; /* DESCRIBE and UPDATE; may be "$next" */
    char ns[FY_TOPIC_JOB_ID_MAX + 1];     /* namespaceId of a namespaced topic, else "" */
    enum fy_topic_jobs_op op;
};

/* ---- shadow requests (shadow_batch.c) ---- */

/* Queues a shadow request (copies); false when out of memory (nothing queued: serve it now).
 * Serves the queue at once when it is full. */
bool fy_shadow_batch_add(struct fy_plugin *p,
                         const struct mosquitto_evt_message *ed,
                         const struct fy_topic_shadow *t);

/* Serves and publishes every queued request (TICK). */
void fy_shadow_batch_flush(struct fy_plugin *p);

/* Drops the queue and frees it (plugin cleanup). */
void fy_shadow_batch_clear(struct fy_plugin *p);

struct fy_shadow_result;
/* Publishes the answer r to the request on topic t of client (accepted/rejected, documents,
 * delta) and logs it. */
void fy_shadow_publish_answer(struct fy_plugin *p,
                              const struct mosquitto *client,
                              const char *topic,
                              const struct fy_topic_shadow *t,
                              const struct fy_shadow_result *r);

/* True when topic is a jobs request; fills *out. Responses (accepted, rejected), notify and
 * notify-next, empty or over-long levels and anything else do not match. */
bool fy_topic_jobs_request(const char *topic, struct fy_topic_jobs *out);

/* True when a subscription with this filter (a "$share/<group>/" prefix allowed) could receive
 * some shadow's update/documents message. */
bool fy_topic_filter_may_get_documents(const char *filter);

/* True when a subscription with this filter (a "$share/<group>/" prefix allowed) could receive
 * some shadow request (get, update or delete, classic or named). */
bool fy_topic_filter_may_get_requests(const char *filter);

/* True when topic is a shadow request; fills *out. Empty or over-long names, and anything
 * after the operation, do not match. */
bool fy_topic_shadow_request(const char *topic, struct fy_topic_shadow *out);

#endif
