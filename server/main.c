/* fleetyard-server: one command starts the control plane and the supervised mosquitto with the
 * fleetyard plugin. SIGTERM/SIGINT stop everything cleanly. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/server.h"
#include "core/db.h"
#include "core/json.h"
#include "core/log.h"
#include "jobs/jobs.h"
#include "pki/pki.h"
#include "server/backup.h"
#include "server/broker.h"
#include "server/config.h"
#include "server/datadir.h"
#include "server/events.h"
#include "server/keys.h"
#include "server/link.h"
#include "server/scheduler.h"

#define FY_UNIX_PATH_MAX 108 /* sizeof(sockaddr_un.sun_path) on Linux */

/* Migrates the database and stores the key job documents' presigned URLs are signed with. */
static fy_err migrate(const char *db_path,
                      const struct fy_credentials *creds,
                      const struct fy_site *site,
                      struct fy_errmsg *em)
{
    struct fy_db *db;
    fy_err e = fy_db_open(db_path, &db, em);
    if (!e) {
        e = fy_db_migrate(db, em);
        if (!e) {
            e = fy_jobs_presign_store(db, creds->access_key, creds->secret_key, site->region, em);
        }
        fy_db_close(db);
    }
    return e;
}

static void block_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, set, NULL);
}

static int wait_for_stop(sigset_t *set)
{
    int sig = 0;
    do {
        sigwait(set, &sig);
    } while (sig == SIGPIPE);
    return sig;
}

/* Loads or creates the CA and the broker certificate in <data dir>/pki. */
static fy_err load_ca(const struct fy_config *cfg, struct fy_pki_ca **ca, struct fy_errmsg *em)
{
    char dir[FY_PATH_MAX + 32];
    const char *names[] = {cfg->mqtt_host, "localhost", "127.0.0.1"};
    size_t n = strcmp(cfg->mqtt_host, "localhost") == 0 ? 0 : 3; /* 0: pki's local default */
    fy_datadir_path(cfg, "pki", dir, sizeof(dir));
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        return fy_fail(em, FY_ERR_INTERNAL, "cannot create %.200s: %s", dir, strerror(errno));
    }
    struct fy_pki_ca_opts opts = {cfg->ca_cert[0] ? cfg->ca_cert : NULL,
                                  cfg->ca_key[0] ? cfg->ca_key : NULL, names, n,
                                  FY_PKI_KEY_EC_P256};
    return fy_pki_ensure_ca(dir, &opts, ca, em);
}

/* What a running server holds; released by stop_all. */
struct fy_running {
    struct fy_pki_ca *ca;
    struct api_server *srv;
    struct fy_broker *broker;
    struct fy_link *link;
    struct fy_events *events; /* publishes the event outbox through the link */
    struct fy_scheduler *scheduler;
    int lock_fd;       /* <data dir>/fleetyard.lock, held while running (-1: not taken) */
    char link_dir[64]; /* a private directory for the link socket when the data dir's path is
                          too long for one, else "" */
};

static fy_err start_api(const struct fy_config *cfg,
                        const struct fy_credentials *creds,
                        const char *db_path,
                        struct fy_running *run,
                        struct fy_errmsg *em)
{
    enum api_affinity_mode affinity = API_AFFINITY_AUTO;
    (void)fy_config_affinity(cfg, &affinity); /* checked when the configuration was loaded */
    struct api_config ac = {.bind_addr = cfg->http_bind,
                            .port = (uint16_t)cfg->http_port,
                            .threads = cfg->threads,
                            .affinity = affinity,
                            .db_path = db_path,
                            .site = cfg->site,
                            .access_key = creds->access_key,
                            .secret_key = creds->secret_key,
                            .auth = cfg->auth,
                            .reset_enabled = cfg->reset_enabled,
                            .delete_shadows_with_thing = cfg->delete_shadows_with_thing,
                            .thing_type_delete_wait = cfg->thing_type_delete_wait,
                            .mqtt_host = cfg->mqtt_host,
                            .ca = run->ca,
                            .publish = run->link ? fy_link_publish : NULL,
                            .publish_ctx = run->link,
                            .control_changed = run->link ? fy_link_hint_refresh : NULL};
    return api_server_start(&ac, &run->srv, em);
}

/* The plugin next to this binary (the build directory or the install's bin directory). */
static void default_plugin_path(char *buf, size_t n)
{
    char exe[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    exe[len > 0 ? len : 0] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash) {
        *slash = '\0';
    }
    snprintf(buf, n, "%s/fleetyard_plugin.so", slash ? exe : ".");
}

static fy_err start_broker(const struct fy_config *cfg,
                           uint16_t mqtt_port,
                           const char *link_socket,
                           struct fy_running *run,
                           struct fy_errmsg *em)
{
    char dir[PATH_MAX], db_path[PATH_MAX + 32], plugin[PATH_MAX + 32];
    if (!realpath(cfg->data_dir, dir)) {
        return fy_fail(em, FY_ERR_INTERNAL, "cannot resolve %.200s", cfg->data_dir);
    }
    snprintf(db_path, sizeof(db_path), "%s/fleetyard.db", dir);
    if (cfg->plugin[0]) {
        if (!realpath(cfg->plugin, plugin)) {
            return fy_fail(em, FY_ERR_INVALID_REQUEST, "plugin %.200s not found", cfg->plugin);
        }
    } else {
        default_plugin_path(plugin, sizeof(plugin));
    }
    struct fy_broker_opts bo = {.mosquitto_bin = cfg->mosquitto,
                                .data_dir = dir,
                                .bind_addr = cfg->mqtt_bind,
                                .port = mqtt_port,
                                .plugin_path = plugin,
                                .db_path = db_path,
                                .site = &cfg->site,
                                .log_level = cfg->log_level,
                                .link_socket = link_socket,
                                .link_secret = fy_link_secret(run->link)};
    fy_err e = fy_broker_start(&bo, &run->broker, em);
    if (!e) {
        e = fy_link_start(run->link, em);
    }
    return e ? e : fy_events_start(db_path, &cfg->site, run->link, &run->events, em);
}

/* The link socket's path: <data dir>/link.sock, or a private /tmp directory when that path
 * does not fit a unix socket address. */
static fy_err link_socket_path(
    const struct fy_config *cfg, struct fy_running *run, char *buf, size_t n, struct fy_errmsg *em)
{
    char dir[PATH_MAX];
    if (!realpath(cfg->data_dir, dir)) {
        return fy_fail(em, FY_ERR_INTERNAL, "cannot resolve %.200s", cfg->data_dir);
    }
    if (strlen(dir) + sizeof("/link.sock") <= FY_UNIX_PATH_MAX) {
        snprintf(buf, n, "%s/link.sock", dir);
        return FY_ERR_OK;
    }
    snprintf(run->link_dir, sizeof(run->link_dir), "/tmp/fleetyard-link-XXXXXX");
    if (!mkdtemp(run->link_dir)) {
        run->link_dir[0] = '\0';
        return fy_fail(em, FY_ERR_INTERNAL, "cannot make a directory for the link socket");
    }
    snprintf(buf, n, "%s/link.sock", run->link_dir);
    return FY_ERR_OK;
}

/* Starts everything; env.sh is written last, once HTTP and MQTT accept connections. */
static fy_err start(const struct fy_config *cfg, struct fy_running *run, struct fy_errmsg *em)
{
    struct fy_credentials creds;
    char db_path[FY_PATH_MAX + 32];
    fy_datadir_path(cfg, "fleetyard.db", db_path, sizeof(db_path));
    fy_err e = fy_datadir_prepare(cfg, em);
    if (!e) {
        e = fy_datadir_lock(cfg, &run->lock_fd, em);
    }
    if (!e) {
        e = fy_datadir_credentials(cfg, &creds, em);
    }
    if (!e) {
        e = migrate(db_path, &creds, &cfg->site, em);
    }
    if (!e) {
        e = load_ca(cfg, &run->ca, em);
    }
    char link_socket[PATH_MAX + 32];
    if (!e && cfg->broker) {
        e = link_socket_path(cfg, run, link_socket, sizeof(link_socket), em);
    }
    if (!e && cfg->broker) {
        e = fy_link_new(link_socket, &run->link, em);
    }
    if (!e) {
        e = start_api(cfg, &creds, db_path, run, em);
    }
    uint16_t mqtt_port = cfg->mqtt_port ? (uint16_t)cfg->mqtt_port : fy_pick_free_port();
    if (!e && cfg->broker) {
        e = start_broker(cfg, mqtt_port, link_socket, run, em);
    }
    if (!e) {
        e = fy_scheduler_start(db_path, run->link ? fy_link_publish : NULL, run->link,
                               &run->scheduler, em);
    }
    if (e) {
        return e;
    }
    uint16_t http_port = api_server_port(run->srv);
    e = fy_datadir_write_env(cfg, &creds, http_port, mqtt_port, em);
    if (!e) {
        fy_log(FY_LOG_INFO, "server",
               "fleetyard %s listening on http://%s:%u (data %s, SigV4 %s, MQTT %s); . %s/env.sh",
               FY_VERSION, cfg->http_bind, http_port, cfg->data_dir, cfg->auth ? "on" : "OFF",
               cfg->broker ? "on" : "off (--no-broker)", cfg->data_dir);
    }
    return e;
}

/* Stops the broker first (devices go before the API they may depend on), then HTTP. */
static void stop_all(struct fy_running *run)
{
    fy_scheduler_stop(run->scheduler);
    fy_events_stop(run->events);
    fy_link_free(run->link);
    fy_broker_stop(run->broker);
    api_server_stop(run->srv);
    if (run->link_dir[0]) {
        char sock[sizeof(run->link_dir) + 16];
        snprintf(sock, sizeof(sock), "%s/link.sock", run->link_dir);
        unlink(sock);
        rmdir(run->link_dir);
    }
    fy_pki_ca_free(run->ca);
    fy_datadir_unlock(run->lock_fd);
}

int main(int argc, char **argv)
{
    struct fy_config cfg;
    struct fy_errmsg em = {""};
    struct fy_running run;
    memset(&run, 0, sizeof(run));
    run.lock_fd = -1;
    bool exit_now;
    sigset_t set;
    fy_json_init();
    if (argc > 1 && fy_backup_is_command(argv[1])) {
        return fy_backup_command(argc - 1, argv + 1);
    }
    if (argc > 1 && strcmp(argv[1], "keys") == 0) {
        return fy_keys_main(argc - 2, argv + 2);
    }
    if (fy_config_load(&cfg, argc, argv, &exit_now, &em)) {
        fprintf(stderr, "fleetyard-server: %s\n", em.msg);
        return 2;
    }
    if (exit_now) {
        return 0;
    }
    fy_log_parse_level(cfg.log_level, &fy_log_threshold);
    block_signals(&set);
    if (start(&cfg, &run, &em)) {
        fy_log(FY_LOG_ERROR, "server", "cannot start: %s", em.msg);
        stop_all(&run);
        return 1;
    }
    int sig = wait_for_stop(&set);
    fy_log(FY_LOG_INFO, "server", "signal %d: stopping", sig);
    stop_all(&run);
    fy_log(FY_LOG_INFO, "server", "stopped");
    return 0;
}
