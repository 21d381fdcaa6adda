/* fleetyard broker plugin: mosquitto 2.0 entry points.
 *
 * Loaded by mosquitto (`plugin .../fleetyard_plugin.so`) with these options, written by
 * fleetyard-server into <data dir>/mosquitto.conf:
 *   plugin_opt_database   path of fleetyard.db (required; mosquitto 2.0.11 rejects option
 *                         keys shorter than 3 characters, so not "db")
 *   plugin_opt_region     region in ARNs (default us-east-1)
 *   plugin_opt_account    account id in ARNs (default 123456789012)
 *   plugin_opt_log_level  error|warn|info|debug (default info)
 *   plugin_opt_ca_dir     the TLS listener's capath, kept equal to the registered CAs
 *   plugin_opt_link_secret password of the server's internal link (FY_LINK_CLIENT_ID); the
 *                         file is private to the server's user
 *   plugin_opt_session_file mosquitto's persistence file: when it exists at start, restored
 *                         sessions may hold subscriptions to update/documents
 * Everything runs on mosquitto's broker thread; the plugin owns one SQLite connection.
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <mosquitto.h>
#include <mosquitto_broker.h>
#include <mosquitto_plugin.h>

#include "broker_plugin/iotlog.h"
#include "broker_plugin/plugin_int.h"
#include "core/alloc.h"
#include "core/fytime.h"
#include "core/json.h"
#include "core/log.h"
#include "core/names.h"

/* Log sink: every fy_log line of the plugin goes to mosquitto's log. */
static void log_to_mosquitto(enum fy_log_level level, const char *line)
{
    static const int mosq_levels[] = {MOSQ_LOG_ERR, MOSQ_LOG_WARNING, MOSQ_LOG_NOTICE,
                                      MOSQ_LOG_DEBUG};
    mosquitto_log_printf(mosq_levels[level], "fleetyard: %s", line);
}

/* Copies option value v into a fixed field of size n; false when it does not fit. */
static bool copy_opt(char *field, size_t n, const char *v)
{
    if (strlen(v) >= n) {
        return false;
    }
    memcpy(field, v, strlen(v) + 1);
    return true;
}

/* Applies plugin_opt_* options; *db_path is borrowed from opts. */
static fy_err read_options(struct fy_plugin *p,
                           const struct mosquitto_opt *opts,
                           int n,
                           const char **db_path,
                           struct fy_errmsg *em)
{
    snprintf(p->site.region, sizeof(p->site.region), FY_DEFAULT_REGION);
    snprintf(p->site.account, sizeof(p->site.account), FY_DEFAULT_ACCOUNT);
    *db_path = NULL;
    for (int i = 0; i < n; i++) {
        const char *k = opts[i].key, *v = opts[i].value ? opts[i].value : "";
        bool ok = true;
        if (strcmp(k, "database") == 0) {
            *db_path = v;
        } else if (strcmp(k, "region") == 0) {
            ok = copy_opt(p->site.region, sizeof(p->site.region), v) && fy_valid_region(v);
        } else if (strcmp(k, "account") == 0) {
            ok = copy_opt(p->site.account, sizeof(p->site.account), v) && fy_valid_account_id(v);
        } else if (strcmp(k, "ca_dir") == 0) {
            ok = copy_opt(p->ca_dir, sizeof(p->ca_dir), v);
        } else if (strcmp(k, "link_secret") == 0) {
            ok = copy_opt(p->link_secret, sizeof(p->link_secret), v);
        } else if (strcmp(k, "session_file") == 0) {
            struct stat st; /* restored sessions may hold any subscription */
            p->documents_wanted = stat(v, &st) == 0 && st.st_size > 0;
            p->requests_wanted = p->documents_wanted;
        } else if (strcmp(k, "log_level") == 0) {
            ok = fy_log_parse_level(v, &fy_log_threshold) == 0;
        }
        if (!ok) {
            return fy_fail(em, FY_ERR_INVALID_REQUEST, "bad plugin_opt_%.32s '%.64s'", k, v);
        }
    }
    if (!*db_path || !**db_path) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST, "plugin_opt_database is required");
    }
    int len = snprintf(p->arn_prefix, sizeof(p->arn_prefix), "arn:aws:iot:%s:%s:", p->site.region,
                       p->site.account);
    p->arn_prefix_len = len > 0 ? (size_t)len : 0;
    return FY_ERR_OK;
}

/* MOSQ_EVT_DISCONNECT (every end of a connection): retires the connection, which stays
 * visible for the will message's ACL check that follows the event. */
static int on_disconnect(int event, void *event_data, void *userdata)
{
    struct mosquitto_evt_disconnect *ed = event_data;
    struct fy_plugin *p = userdata;
    (void)event;
    fy_conns_flush(&p->conns);
    struct fy_conn *c = fy_conns_get(&p->conns, ed->client);
    if (c && !c->retired && !c->offline && !c->link) {
        fy_presence_disconnected(p, c);
        fy_iotlog_disconnect(p, c);
    }
    if (c && !c->link && !mosquitto_client_clean_session(ed->client)) {
        fy_conns_offline(&p->conns, c, fy_now_ms());
    } else {
        fy_conns_retire(&p->conns, ed->client);
    }
    return MOSQ_ERR_SUCCESS;
}

/* MOSQ_EVT_TICK: drops retired connections. */
static int on_tick(int event, void *event_data, void *userdata)
{
    struct fy_plugin *p = userdata;
    (void)event;
    (void)event_data;
    fy_shadow_batch_flush(p); /* before retired connections go */
    fy_conns_flush(&p->conns);
    fy_conns_expire_offline(&p->conns, fy_now_ms(), FY_PLUGIN_SESSION_EXPIRY_MS);
    fy_security_refresh(p, false);
    fy_bstats_flush(p, false);
    fy_iotlog_plugin_flush(p, false);
    return MOSQ_ERR_SUCCESS;
}

static const struct {
    int event;
    MOSQ_FUNC_generic_callback cb;
} callbacks[] = {
    {MOSQ_EVT_BASIC_AUTH, fy_plugin_on_basic_auth},
    {MOSQ_EVT_ACL_CHECK, fy_plugin_on_acl_check},
    {MOSQ_EVT_MESSAGE, fy_plugin_on_message},
    {MOSQ_EVT_DISCONNECT, on_disconnect},
    {MOSQ_EVT_TICK, on_tick},
};
#define NCALLBACKS (sizeof(callbacks) / sizeof(callbacks[0]))

int mosquitto_plugin_version(int supported_version_count, const int *supported_versions)
{
    for (int i = 0; i < supported_version_count; i++) {
        if (supported_versions[i] == 5) {
            return 5;
        }
    }
    return -1;
}

static void plugin_destroy(struct fy_plugin *p)
{
    if (p) {
        for (size_t i = 0; i < NCALLBACKS; i++) {
            mosquitto_callback_unregister(p->pid, callbacks[i].event, callbacks[i].cb, NULL);
        }
        fy_shadow_batch_clear(p);
        fy_conns_clear(&p->conns);
        fy_iotlog_plugin_flush(p, true);
        fy_iotlog_plugin_cleanup();
        fy_db_close(p->db);
        fy_free(p);
    }
}

int mosquitto_plugin_init(mosquitto_plugin_id_t *identifier,
                          void **userdata,
                          struct mosquitto_opt *options,
                          int option_count)
{
    struct fy_errmsg em = {""};
    const char *db_path;
    fy_log_set_sink(log_to_mosquitto);
    fy_json_init();
    struct fy_plugin *p = fy_calloc(1, sizeof(*p));
    if (!p) {
        return MOSQ_ERR_NOMEM;
    }
    p->pid = identifier;
    fy_err e = read_options(p, options, option_count, &db_path, &em);
    if (!e) {
        e = fy_db_open(db_path, &p->db, &em);
    }
    if (!e) { /* never an fsync on the broker thread: the server's checkpointer does it */
        fy_db_autocheckpoint_off(p->db);
    }
    for (size_t i = 0; !e && i < NCALLBACKS; i++) {
        if (mosquitto_callback_register(identifier, callbacks[i].event, callbacks[i].cb, NULL, p) !=
            MOSQ_ERR_SUCCESS) {
            e = fy_fail(&em, FY_ERR_INTERNAL, "cannot register callback %d", callbacks[i].event);
        }
    }
    if (e) {
        fy_log(FY_LOG_ERROR, "plugin", "cannot start: %s", em.msg);
        plugin_destroy(p);
        return MOSQ_ERR_UNKNOWN;
    }
    *userdata = p;
    fy_bstats_load(p);
    fy_presence_reset(p);
    fy_cadir_sync(p);
    fy_log(FY_LOG_INFO, "plugin", "ready (database %.200s, %s/%s)", db_path, p->site.region,
           p->site.account);
    return MOSQ_ERR_SUCCESS;
}

int mosquitto_plugin_cleanup(void *userdata, struct mosquitto_opt *options, int option_count)
{
    (void)options;
    (void)option_count;
    if (userdata) {
        fy_bstats_flush(userdata, true);
    }
    plugin_destroy(userdata);
    return MOSQ_ERR_SUCCESS;
}
