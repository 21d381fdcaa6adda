/* fleetyard-server configuration: defaults, an optional `key = value` file, then command-line
 * overrides (highest precedence). */
#ifndef FY_SERVER_CONFIG_H
#define FY_SERVER_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "api/affinity.h"
#include "core/err.h"
#include "core/site.h"

#define FY_VERSION                  "0.1.0"
#define FY_DEFAULT_HTTP_PORT        8080
#define FY_DEFAULT_MQTT_PORT        8883
#define FY_DEFAULT_THREADS          4
#define FY_DEFAULT_TYPE_DELETE_WAIT 300 /* AWS: five minutes after deprecation */
#define FY_PATH_MAX                 1024
#define FY_DEFAULT_MOSQUITTO        "/usr/sbin/mosquitto"

struct fy_config {
    char data_dir[FY_PATH_MAX];
    char http_bind[64];
    int http_port; /* 0 = pick a free port */
    char mqtt_host[256];
    int mqtt_port; /* 0 = pick a free port */
    char mqtt_bind[64];
    bool broker;                 /* start the supervised mosquitto (--no-broker: HTTP only) */
    char plugin[FY_PATH_MAX];    /* broker plugin, "" = fleetyard_plugin.so next to the binary */
    char mosquitto[FY_PATH_MAX]; /* mosquitto binary */
    int threads;
    char cpu_affinity[16]; /* auto|true|false: pin the HTTP threads to CPUs */
    struct fy_site site;
    bool auth;
    bool reset_enabled;
    bool delete_shadows_with_thing; /* extension: AWS keeps a deleted thing's shadows */
    int64_t thing_type_delete_wait;
    char log_level[16];
    char ca_cert[FY_PATH_MAX]; /* operator CA certificate (PEM path), "" = fleetyard's own CA */
    char ca_key[FY_PATH_MAX];
};

/* Fills defaults, reads --config FILE if given, applies the other options. Returns
 * FY_ERR_INVALID_REQUEST with a message for unknown options or bad values; *exit_now is set for
 * --help/--version (already printed). */
FY_NODISCARD fy_err
fy_config_load(struct fy_config *cfg, int argc, char **argv, bool *exit_now, struct fy_errmsg *em);

/* cfg->cpu_affinity as a mode; false when it is none of auto, true, false. */
bool fy_config_affinity(const struct fy_config *cfg, enum api_affinity_mode *out);

#endif
