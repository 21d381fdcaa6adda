/* fleetyard-server: the internal link to the broker (ARCHITECTURE.md).
 *
 * A libmosquitto client connected to mosquitto's unix-socket listener (<data dir>/link.sock,
 * reachable only through the 0700 data directory) as FY_LINK_CLIENT_ID, with a secret made
 * at every start as its password (the plugin receives it in mosquitto.conf). Through it the
 * server publishes what an HTTP call causes devices to see (shadow documents, iot-data Publish)
 * and the hints the plugin consumes ($fleetyard/refresh). Messages are hints: the database
 * says what is true, so one lost while the broker restarts delays work but corrupts nothing.
 *
 * Threads: libmosquitto's own network thread (reconnecting by itself, 1 s to 5 s back-off);
 * fy_link_publish may be called from any thread. New/start/stop from the main thread.
 */
#ifndef FY_SERVER_LINK_H
#define FY_SERVER_LINK_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"

#define FY_LINK_SECRET_BYTES    32   /* hex-encoded in mosquitto.conf */
#define FY_LINK_CONNECT_WAIT_MS 3000 /* fy_link_start waits this long for the first CONNACK */
#define FY_LINK_RECONNECT_MIN_S 1
#define FY_LINK_RECONNECT_MAX_S 5
#define FY_LINK_KEEPALIVE_S     30

struct fy_link;

/* A new, unconnected link to the socket at path, with a fresh secret. */
FY_NODISCARD fy_err fy_link_new(const char *socket_path,
                                struct fy_link **out,
                                struct fy_errmsg *em);

/* The secret the broker must know (hex, NUL-terminated; owned by l). */
const char *fy_link_secret(const struct fy_link *l);

/* Connects (waiting up to FY_LINK_CONNECT_WAIT_MS for CONNACK) and starts the network thread,
 * which reconnects whenever the broker restarts. A broker that does not answer in time is
 * logged, not fatal: the thread keeps trying. */
FY_NODISCARD fy_err fy_link_start(struct fy_link *l, struct fy_errmsg *em);

/* True while connected. */
bool fy_link_connected(const struct fy_link *l);

/* Publishes len bytes on topic (api's publish hook; link is a struct fy_link *). Any thread.
 * FY_ERR_UNAVAILABLE when the link is down, FY_ERR_INVALID_REQUEST for a topic libmosquitto
 * refuses, FY_ERR_NOMEM. */
fy_err fy_link_publish(
    void *link, const char *topic, const void *payload, size_t len, int qos, bool retain);

/* Tells the plugin to re-check every connection's rights now (api's control_changed hook;
 * link is a struct fy_link *). Lost when the link is down: the plugin also polls. */
void fy_link_hint_refresh(void *link);

/* Disconnects, stops the thread and frees l. NULL is a no-op. */
void fy_link_free(struct fy_link *l);

#endif
