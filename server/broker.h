/* fleetyard-server: the supervised mosquitto broker.
 *
 * fy_broker_start writes <data dir>/mosquitto.conf (mutual-TLS listener with the fleetyard CA,
 * the fleetyard plugin, AWS's limits), starts mosquitto as a child in its own process group
 * (it dies with the server: PR_SET_PDEATHSIG), and returns once the MQTT port accepts
 * connections. A supervisor thread restarts mosquitto when it dies, with back-off (0.1 s
 * doubling to 10 s, reset after 30 s of uptime). fy_broker_stop stops it (SIGTERM, SIGKILL
 * after 10 s).
 *
 * Threads: start and stop from one thread (main); the supervisor thread touches only the
 * struct fy_broker, under its mutex, and never calls mosquitto or the database.
 */
#ifndef FY_SERVER_BROKER_H
#define FY_SERVER_BROKER_H

#include <stdint.h>

#include "core/err.h"
#include "core/site.h"

#define FY_BROKER_READY_TIMEOUT_MS 10000

struct fy_broker;

/* What the broker is started with; every pointer is borrowed for the call. Paths absolute. */
struct fy_broker_opts {
    const char *mosquitto_bin; /* /usr/sbin/mosquitto */
    const char *data_dir;      /* mosquitto.conf, persistence and pki/ live here */
    const char *bind_addr;     /* listener address */
    uint16_t port;             /* listener port */
    const char *plugin_path;   /* fleetyard_plugin.so */
    const char *db_path;       /* fleetyard.db, for the plugin */
    const struct fy_site *site;
    const char *log_level;   /* error|warn|info|debug */
    const char *link_socket; /* unix-socket listener of the internal link */
    const char *link_secret; /* the link's per-start password (server/link.h) */
};

/* AWS keeps a persistent session (and its queued QoS 1 messages) for an hour by default. */
#define FY_BROKER_SESSION_EXPIRY "1h"

/* Writes mosquitto.conf, starts and supervises mosquitto, and waits up to
 * FY_BROKER_READY_TIMEOUT_MS for its port. *out is owned (fy_broker_stop). Errors:
 * FY_ERR_INVALID_REQUEST (unusable paths, missing plugin or binary), FY_ERR_INTERNAL (the
 * configuration cannot be written, mosquitto exits or does not listen in time; the child is
 * stopped), FY_ERR_NOMEM. */
FY_NODISCARD fy_err fy_broker_start(const struct fy_broker_opts *o,
                                    struct fy_broker **out,
                                    struct fy_errmsg *em);

/* Stops supervision and mosquitto, waits for both, frees b. NULL is a no-op. */
void fy_broker_stop(struct fy_broker *b);

#endif
