/* fleetyard-server data directory: layout, operator credentials, env.sh. */
#ifndef FY_SERVER_DATADIR_H
#define FY_SERVER_DATADIR_H

#include <stdint.h>

#include "core/err.h"
#include "server/config.h"

#define FY_ACCESS_KEY_LEN 20
#define FY_SECRET_KEY_LEN 40

struct fy_credentials {
    char access_key[FY_ACCESS_KEY_LEN + 1];
    char secret_key[FY_SECRET_KEY_LEN + 1];
};

/* Creates the data directory (mode 0700) if missing. */
FY_NODISCARD fy_err fy_datadir_prepare(const struct fy_config *cfg, struct fy_errmsg *em);

/* Takes <data dir>/fleetyard.lock (flock, exclusive, non-blocking) and records the holder's pid
 * in it. The lock lasts while *fd stays open (close-on-exec: the supervised mosquitto does not
 * inherit it) and goes with the process, even on SIGKILL. FY_ERR_CONFLICT when another process
 * (a running fleetyard-server, a restore) holds it. */
FY_NODISCARD fy_err fy_datadir_lock(const struct fy_config *cfg, int *fd, struct fy_errmsg *em);

/* Releases a lock from fy_datadir_lock (fd < 0: nothing). */
void fy_datadir_unlock(int fd);

/* Loads <data dir>/credentials, generating it (mode 0600) on first start. */
FY_NODISCARD fy_err fy_datadir_credentials(const struct fy_config *cfg,
                                           struct fy_credentials *out,
                                           struct fy_errmsg *em);

/* Writes <data dir>/env.sh atomically with the endpoint, MQTT host/port, root CA path and the
 * operator credentials. */
FY_NODISCARD fy_err fy_datadir_write_env(const struct fy_config *cfg,
                                         const struct fy_credentials *creds,
                                         uint16_t http_port,
                                         uint16_t mqtt_port,
                                         struct fy_errmsg *em);

/* Writes text to path atomically (temporary file, fsync, rename) with the given mode. */
FY_NODISCARD fy_err fy_datadir_write_file(const char *path,
                                          const char *text,
                                          unsigned mode,
                                          struct fy_errmsg *em);

/* Joins the data directory and a file name into buf; returns buf. */
const char *fy_datadir_path(const struct fy_config *cfg, const char *name, char *buf, size_t n);

/* Picks a free TCP port on 127.0.0.1 (for --mqtt-port 0); 0 on failure. */
uint16_t fy_pick_free_port(void);

#endif
