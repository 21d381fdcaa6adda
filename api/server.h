/* fleetyard api: the HTTP listener (libmicrohttpd, thread pool) and its lifecycle.
 *
 * One listener serves the iot, iot-data, iot-jobs-data and logs APIs; requests are routed by the
 * SigV4 credential scope's service name. Called from the server's main thread only.
 */
#ifndef FY_API_SERVER_H
#define FY_API_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api/affinity.h"
#include "core/err.h"
#include "core/site.h"

struct fy_pki_ca;

/* Publishes len bytes on an MQTT topic through the broker (fleetyard-server's internal link);
 * callable from any thread. FY_ERR_UNAVAILABLE when the broker cannot be reached. */
typedef fy_err (*api_publish_fn)(
    void *ctx, const char *topic, const void *payload, size_t len, int qos, bool retain);

struct api_config {
    const char *bind_addr;           /* IPv4 or IPv6 literal, e.g. "127.0.0.1" */
    uint16_t port;                   /* 0 = pick a free port */
    int threads;                     /* MHD pool threads = database connections */
    enum api_affinity_mode affinity; /* pin the pool threads to CPUs (affinity.h) */
    const char *db_path;
    struct fy_site site;
    const char *access_key;
    const char *secret_key;
    bool auth;                      /* SigV4 verification (off only for throwaway local use) */
    bool reset_enabled;             /* POST /fleetyard/reset wipes all state */
    bool delete_shadows_with_thing; /* extension: DeleteThing also deletes shadows */
    int64_t thing_type_delete_wait; /* seconds a type must be deprecated before DeleteThingType */
    const char *mqtt_host;          /* what DescribeEndpoint answers for the data endpoints */
    const struct fy_pki_ca *ca;     /* the fleetyard CA (borrowed; outlives the server) */
    api_publish_fn publish;         /* NULL without a broker (--no-broker) */
    void *publish_ctx;
    /* called (with publish_ctx) after every successful control-plane write; may be NULL */
    void (*control_changed)(void *publish_ctx);
};

struct api_server;

/* Opens the connection pool and starts listening. *out is owned by the caller
 * (api_server_stop). The config strings are copied. */
FY_NODISCARD fy_err api_server_start(const struct api_config *cfg,
                                     struct api_server **out,
                                     struct fy_errmsg *em);

/* The port actually bound. */
uint16_t api_server_port(const struct api_server *srv);

/* Stops listening, waits for in-flight requests, closes the pool, frees srv. Accepts NULL. */
void api_server_stop(struct api_server *srv);

#endif
