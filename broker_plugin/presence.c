/* fleetyard broker plugin: lifecycle events and connectivity (AWS_IOT_BEHAVIOUR.md section 7).
 *
 * Connections are tracked per connection (struct fy_conn), each with its own session id; the
 * connectivity row of a client id names the newest session. On a session takeover mosquitto
 * admits the new connection before the old one's DISCONNECT, so when a connection ends while
 * the row already names another live session, that end is a DUPLICATE_CLIENTID and the row is
 * left to the newer session. Event timestamps are epoch milliseconds.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <mosquitto.h>
#include <mosquitto_broker.h>

#include "broker_plugin/plugin_int.h"
#include "core/alloc.h"
#include "core/codec.h"
#include "core/fytime.h"
#include "core/json.h"
#include "core/log.h"

#define EVENT_TOPIC_MAX 256
#define EVENT_QOS       1

static const char SQL_CONNECTED[] =
    "INSERT INTO connectivity(client_id, connected, timestamp, disconnect_reason, session_id, "
    "version_number, cert_id, ip_address) VALUES(?1, 1, ?2, NULL, ?3, 1, ?4, ?5) "
    "ON CONFLICT(client_id) DO UPDATE SET connected = 1, timestamp = excluded.timestamp, "
    "disconnect_reason = NULL, session_id = excluded.session_id, "
    "version_number = version_number + 1, cert_id = excluded.cert_id, "
    "ip_address = excluded.ip_address RETURNING version_number";
static const char SQL_DISCONNECTED[] =
    "UPDATE connectivity SET connected = 0, timestamp = ?3, disconnect_reason = ?4 "
    "WHERE client_id = ?1 AND session_id = ?2";

static const char *const REASONS[] = {
    [FY_DISCONNECT_NONE] = "CONNECTION_LOST",
    [FY_DISCONNECT_AUTH_ERROR] = "AUTH_ERROR",
    [FY_DISCONNECT_FORBIDDEN_ACCESS] = "FORBIDDEN_ACCESS",
};

static void publish_event(const char *kind, const char *client_id, json_t *j)
{
    char topic[EVENT_TOPIC_MAX];
    char *text = j ? fy_json_dump(j) : NULL;
    if (text && (size_t)snprintf(topic, sizeof(topic), "$aws/events/presence/%s/%s", kind,
                                 client_id) < sizeof(topic)) {
        mosquitto_broker_publish_copy(NULL, topic, (int)strlen(text), text, EVENT_QOS, false, NULL);
    }
    fy_free(text);
    json_decref(j);
}

/* Upserts the row of a new session; returns its versionNumber (0 when it cannot be written). */
static int64_t
record_connected(struct fy_plugin *p, const struct fy_conn *c, const char *ip, int64_t now)
{
    struct fy_errmsg em = {""};
    sqlite3_stmt *st = fy_db_stmt(p->db, SQL_CONNECTED, &em);
    int64_t version = 0;
    if (st) {
        fy_bind_text(st, 1, c->client_id);
        sqlite3_bind_int64(st, 2, now);
        fy_bind_text(st, 3, c->session_id);
        fy_bind_text(st, 4, c->cert_id);
        fy_bind_text(st, 5, ip);
        if (sqlite3_step(st) == SQLITE_ROW) {
            version = sqlite3_column_int64(st, 0);
        }
        while (sqlite3_step(st) == SQLITE_ROW) {
        }
        fy_stmt_done(st);
    }
    if (version == 0) {
        fy_log(FY_LOG_ERROR, "presence", "cannot record the connection of %.128s: %s", c->client_id,
               em.msg[0] ? em.msg : sqlite3_errmsg(fy_db_handle(p->db)));
    }
    return version;
}

void fy_presence_connected(struct fy_plugin *p, struct fy_conn *c, const char *ip)
{
    int64_t now = fy_now_ms();
    if (fy_uuid4(c->session_id) != FY_ERR_OK) {
        snprintf(c->session_id, sizeof(c->session_id), "%p", (const void *)c);
    }
    c->version_number = record_connected(p, c, ip ? ip : "", now);
    publish_event("connected", c->client_id,
                  json_pack("{s:s, s:I, s:s, s:s, s:s, s:s, s:I}", "clientId", c->client_id,
                            "timestamp", (json_int_t)now, "eventType", "connected",
                            "sessionIdentifier", c->session_id, "principalIdentifier", c->cert_id,
                            "ipAddress", ip ? ip : "", "versionNumber",
                            (json_int_t)c->version_number));
}

/* Marks the session disconnected; false when the row names another session (takeover). */
static bool
record_disconnected(struct fy_plugin *p, const struct fy_conn *c, const char *reason, int64_t now)
{
    struct fy_errmsg em = {""};
    sqlite3_stmt *st = fy_db_stmt(p->db, SQL_DISCONNECTED, &em);
    if (!st) {
        return true;
    }
    fy_bind_text(st, 1, c->client_id);
    fy_bind_text(st, 2, c->session_id);
    sqlite3_bind_int64(st, 3, now);
    fy_bind_text(st, 4, reason);
    int rc = sqlite3_step(st);
    fy_stmt_done(st);
    if (rc != SQLITE_DONE) {
        fy_log(FY_LOG_ERROR, "presence", "cannot record the disconnection of %.128s", c->client_id);
        return true;
    }
    return sqlite3_changes(fy_db_handle(p->db)) > 0;
}

void fy_presence_disconnected(struct fy_plugin *p, const struct fy_conn *c)
{
    int64_t now = fy_now_ms();
    const char *reason = REASONS[c->disconnect_reason];
    if (!record_disconnected(p, c, reason, now)) {
        reason = "DUPLICATE_CLIENTID";
    }
    publish_event("disconnected", c->client_id,
                  json_pack("{s:s, s:I, s:s, s:s, s:s, s:b, s:s, s:I}", "clientId", c->client_id,
                            "timestamp", (json_int_t)now, "eventType", "disconnected",
                            "sessionIdentifier", c->session_id, "principalIdentifier", c->cert_id,
                            "clientInitiatedDisconnect", 0, "disconnectReason", reason,
                            "versionNumber", (json_int_t)c->version_number));
}

static const char SQL_STALE[] =
    "UPDATE connectivity SET connected = 0, timestamp = ?1, "
    "disconnect_reason = 'SERVER_INITIATED_DISCONNECT' WHERE connected = 1";

void fy_presence_reset(struct fy_plugin *p)
{
    struct fy_errmsg em = {""};
    sqlite3_stmt *st = fy_db_stmt(p->db, SQL_STALE, &em);
    if (st) {
        sqlite3_bind_int64(st, 1, fy_now_ms());
        sqlite3_step(st);
        fy_stmt_done(st);
    }
}
