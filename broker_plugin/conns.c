/* fleetyard broker plugin: the table of admitted connections, keyed by struct mosquitto *. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "broker_plugin/plugin_int.h"
#include "core/alloc.h"

/* Bucket of a client pointer (allocations are 16-byte aligned: drop the low bits). */
/* Fibonacci hashing of the context pointer: mosquitto's contexts are large allocations at
 * regular strides, which a plain shift-and-modulo maps onto few buckets. */
static size_t bucket_of(const struct mosquitto *client)
{
    uint64_t h = (uint64_t)(uintptr_t)client * UINT64_C(0x9E3779B97F4A7C15);
    return (size_t)(h >> 32) % FY_PLUGIN_CONN_BUCKETS;
}

static void conn_free(struct fy_conn *c)
{
    if (c) {
        fy_authz_free(c->authz);
        fy_free(c->client_id);
        fy_free(c);
    }
}

struct fy_conn *fy_conns_get(struct fy_conns *t, const struct mosquitto *client)
{
    for (struct fy_conn *c = t->buckets[bucket_of(client)]; c; c = c->next) {
        if (c->client == client) {
            return c;
        }
    }
    return NULL;
}

fy_err fy_conns_add(struct fy_conns *t,
                    const struct mosquitto *client,
                    const char *cert_id,
                    const char *client_id,
                    struct fy_authz *authz)
{
    struct fy_conn *c = fy_calloc(1, sizeof(*c));
    char *id = fy_strdup(client_id ? client_id : "");
    if (!c || !id) {
        fy_free(c);
        fy_free(id);
        return FY_ERR_NOMEM;
    }
    fy_conns_remove(t, client);
    size_t b = bucket_of(client);
    c->client = client;
    snprintf(c->cert_id, sizeof(c->cert_id), "%s", cert_id);
    c->client_id = id;
    c->authz = authz;
    c->next = t->buckets[b];
    t->buckets[b] = c;
    t->count++;
    return FY_ERR_OK;
}

/* Unlinks c from the retired and offline lists when it is there. */
static void unretire(struct fy_conns *t, const struct fy_conn *c)
{
    for (struct fy_conn **pp = &t->retired; c->retired && *pp; pp = &(*pp)->retired_next) {
        if (*pp == c) {
            *pp = c->retired_next;
            break;
        }
    }
    for (struct fy_conn **pp = &t->offline; c->offline && *pp; pp = &(*pp)->offline_next) {
        if (*pp == c) {
            *pp = c->offline_next;
            break;
        }
    }
}

void fy_conns_remove(struct fy_conns *t, const struct mosquitto *client)
{
    struct fy_conn **pp = &t->buckets[bucket_of(client)];
    while (*pp) {
        struct fy_conn *c = *pp;
        if (c->client == client) {
            *pp = c->next;
            t->count--;
            unretire(t, c);
            conn_free(c);
            return;
        }
        pp = &c->next;
    }
}

void fy_conns_retire(struct fy_conns *t, const struct mosquitto *client)
{
    struct fy_conn *c = fy_conns_get(t, client);
    if (c && !c->retired) {
        c->retired = true;
        c->retired_next = t->retired;
        t->retired = c;
    }
}

void fy_conns_flush(struct fy_conns *t)
{
    while (t->retired) {
        fy_conns_remove(t, t->retired->client);
    }
}

void fy_conns_offline(struct fy_conns *t, struct fy_conn *c, int64_t now_ms)
{
    if (!c->offline && !c->retired) {
        c->offline = true;
        c->offline_since = now_ms;
        c->offline_next = t->offline;
        t->offline = c;
    }
}

void fy_conns_drop_offline(struct fy_conns *t, const char *client_id)
{
    struct fy_conn *c = t->offline;
    while (c) {
        struct fy_conn *next = c->offline_next;
        if (strcmp(c->client_id, client_id) == 0) {
            fy_conns_remove(t, c->client);
        }
        c = next;
    }
}

void fy_conns_expire_offline(struct fy_conns *t, int64_t now_ms, int64_t max_age_ms)
{
    struct fy_conn *c = t->offline;
    while (c) {
        struct fy_conn *next = c->offline_next;
        if (now_ms - c->offline_since > max_age_ms) {
            fy_conns_remove(t, c->client);
        }
        c = next;
    }
}

void fy_conns_clear(struct fy_conns *t)
{
    for (size_t b = 0; b < FY_PLUGIN_CONN_BUCKETS; b++) {
        while (t->buckets[b]) {
            struct fy_conn *c = t->buckets[b];
            t->buckets[b] = c->next;
            conn_free(c);
        }
    }
    t->count = 0;
    t->retired = NULL;
    t->offline = NULL;
}
