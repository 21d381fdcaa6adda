/* fleetyard-server: the internal link to the broker (see link.h). */
#include "server/link.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <mosquitto.h>
#include <openssl/rand.h>

#include "broker_plugin/link_proto.h"
#include "core/alloc.h"
#include "core/codec.h"
#include "core/log.h"

struct fy_link {
    struct mosquitto *mosq;
    char socket_path[4096];
    char secret[2 * FY_LINK_SECRET_BYTES + 1];
    atomic_bool connected;
    bool thread_started;
};

static pthread_once_t lib_once = PTHREAD_ONCE_INIT;

static void lib_init(void)
{
    mosquitto_lib_init();
}

static void on_connect(struct mosquitto *mosq, void *ud, int rc)
{
    struct fy_link *l = ud;
    (void)mosq;
    if (rc == 0) {
        atomic_store(&l->connected, true);
        fy_log(FY_LOG_INFO, "link", "connected to the broker");
    } else {
        fy_log(FY_LOG_ERROR, "link", "the broker refused the link: %s",
               mosquitto_connack_string(rc));
    }
}

static void on_disconnect(struct mosquitto *mosq, void *ud, int rc)
{
    struct fy_link *l = ud;
    (void)mosq;
    atomic_store(&l->connected, false);
    if (rc != 0) {
        fy_log(FY_LOG_WARN, "link", "lost the broker (%s); reconnecting", mosquitto_strerror(rc));
    }
}

fy_err fy_link_new(const char *socket_path, struct fy_link **out, struct fy_errmsg *em)
{
    unsigned char raw[FY_LINK_SECRET_BYTES];
    *out = NULL;
    pthread_once(&lib_once, lib_init);
    if (strlen(socket_path) >= sizeof(((struct fy_link *)0)->socket_path)) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST, "link socket path too long");
    }
    if (RAND_bytes(raw, sizeof(raw)) != 1) {
        return fy_fail(em, FY_ERR_INTERNAL, "no randomness for the link secret");
    }
    struct fy_link *l = fy_calloc(1, sizeof(*l));
    if (!l) {
        return fy_fail(em, FY_ERR_NOMEM, "out of memory");
    }
    fy_hex(raw, sizeof(raw), l->secret);
    memcpy(l->socket_path, socket_path, strlen(socket_path) + 1);
    l->mosq = mosquitto_new(FY_LINK_CLIENT_ID, true, l);
    if (!l->mosq || mosquitto_username_pw_set(l->mosq, FY_LINK_CLIENT_ID, l->secret) != 0) {
        fy_link_free(l);
        return fy_fail(em, FY_ERR_NOMEM, "cannot create the link client");
    }
    mosquitto_connect_callback_set(l->mosq, on_connect);
    mosquitto_disconnect_callback_set(l->mosq, on_disconnect);
    mosquitto_reconnect_delay_set(l->mosq, FY_LINK_RECONNECT_MIN_S, FY_LINK_RECONNECT_MAX_S, true);
    *out = l;
    return FY_ERR_OK;
}

const char *fy_link_secret(const struct fy_link *l)
{
    return l->secret;
}

bool fy_link_connected(const struct fy_link *l)
{
    return l && atomic_load(&l->connected);
}

fy_err fy_link_start(struct fy_link *l, struct fy_errmsg *em)
{
    /* port 0: host is the path of a unix socket */
    int rc = mosquitto_connect_async(l->mosq, l->socket_path, 0, FY_LINK_KEEPALIVE_S);
    if (rc != MOSQ_ERR_SUCCESS) {
        fy_log(FY_LOG_WARN, "link", "cannot connect to %.200s yet: %s", l->socket_path,
               mosquitto_strerror(rc));
    }
    if (mosquitto_loop_start(l->mosq) != MOSQ_ERR_SUCCESS) {
        return fy_fail(em, FY_ERR_INTERNAL, "cannot start the link thread");
    }
    l->thread_started = true;
    for (int waited = 0; waited < FY_LINK_CONNECT_WAIT_MS && !fy_link_connected(l); waited += 10) {
        nanosleep(&(struct timespec){0, 10 * 1000000}, NULL);
    }
    if (!fy_link_connected(l)) {
        fy_log(FY_LOG_WARN, "link", "no CONNACK from the broker yet; retrying in the background");
    }
    return FY_ERR_OK;
}

fy_err fy_link_publish(
    void *link, const char *topic, const void *payload, size_t len, int qos, bool retain)
{
    struct fy_link *l = link;
    if (!fy_link_connected(l)) {
        return FY_ERR_UNAVAILABLE;
    }
    int rc = mosquitto_publish(l->mosq, NULL, topic, (int)len, payload, qos, retain);
    switch (rc) {
    case MOSQ_ERR_SUCCESS:
        return FY_ERR_OK;
    case MOSQ_ERR_NOMEM:
        return FY_ERR_NOMEM;
    case MOSQ_ERR_INVAL:
    case MOSQ_ERR_PAYLOAD_SIZE:
    case MOSQ_ERR_MALFORMED_UTF8:
        return FY_ERR_INVALID_REQUEST;
    default:
        return FY_ERR_UNAVAILABLE;
    }
}

void fy_link_hint_refresh(void *link)
{
    (void)fy_link_publish(link, FY_LINK_TOPIC_REFRESH, "", 0, 0, false);
}

void fy_link_free(struct fy_link *l)
{
    if (!l) {
        return;
    }
    if (l->mosq) {
        mosquitto_disconnect(l->mosq);
        if (l->thread_started) {
            mosquitto_loop_stop(l->mosq, false);
        }
        mosquitto_destroy(l->mosq);
    }
    fy_free(l);
}
