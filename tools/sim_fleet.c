/* fleetyard-sim: what the device modes (devices, rr) share: the provisioned devices of
 * --state become the clients (client id = thing name, each with its own certificate), topics
 * under a device's own prefixes, one SUBSCRIBE for all of a device's filters, and a back-off
 * for reconnecting.
 */
#include "tools/sim_fleet.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mosquitto.h>

#include "core/alloc.h"
#include "tools/sim_state.h"

int sim_fleet_init(struct sim *s,
                   const struct sim_opts *o,
                   const struct sim_hooks *hooks,
                   void *data)
{
    struct sim_names names;
    memset(s, 0, sizeof(*s));
    s->hooks = hooks;
    s->mode_data = data;
    if (!o->state_dir || sim_state_load(o->state_dir, &names) != 0) {
        fprintf(stderr, "fleetyard-sim: --state DIR with provisioned devices is required\n");
        return -1;
    }
    size_t first = o->id_offset, n = o->count ? o->count : names.n - first;
    if (first > names.n || n == 0 || n > names.n - first) {
        fprintf(stderr, "fleetyard-sim: %s holds %zu devices; asked for %zu from %zu\n",
                o->state_dir, names.n, n, first);
        sim_names_free(&names);
        return -1;
    }
    s->ids = fy_calloc(n, sizeof(*s->ids));
    if (!s->ids) {
        sim_names_free(&names);
        return -1;
    }
    memcpy(s->ids, names.v + first, n * sizeof(*s->ids));
    sim_names_free(&names);
    return sim_init(s, o, (unsigned)n);
}

void sim_fleet_destroy(struct sim *s)
{
    sim_destroy(s);
    FY_FREE(s->ids);
}

int sim_fleet_topic(const struct sim_client *c, const char *fmt, char *out, size_t size)
{
    const char *at = strstr(fmt, "%s");
    size_t pre = at ? (size_t)(at - fmt) : strlen(fmt);
    const char *name = at ? c->sim->ids[c->index] : "";
    const char *post = at ? at + 2 : "";
    int n = snprintf(out, size, "%.*s%s%s", (int)pre, fmt, name, post);
    return n > 0 && (size_t)n < size ? 0 : -1;
}

int sim_fleet_subscribe(struct sim_client *c, const char *const *fmts, size_t n, int qos)
{
    char topics[SIM_FLEET_MAX_SUBS][SIM_TOPIC_MAX];
    char *list[SIM_FLEET_MAX_SUBS];
    if (n == 0 || n > SIM_FLEET_MAX_SUBS) {
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (sim_fleet_topic(c, fmts[i], topics[i], sizeof(topics[i]))) {
            return -1;
        }
        list[i] = topics[i];
    }
    int rc = mosquitto_subscribe_multiple(c->mosq, NULL, (int)n, list, qos, 0, NULL);
    sim_sync_events(c);
    return rc == MOSQ_ERR_SUCCESS ? 0 : -1;
}

int sim_fleet_publish(struct sim_client *c, const char *fmt, const char *payload, int qos)
{
    char topic[SIM_TOPIC_MAX];
    if (c->state != SIM_CONNECTED || sim_fleet_topic(c, fmt, topic, sizeof(topic))) {
        return -1;
    }
    int rc = mosquitto_publish(c->mosq, NULL, topic, (int)strlen(payload), payload, qos, false);
    sim_sync_events(c);
    return rc == MOSQ_ERR_SUCCESS ? 0 : -1;
}

double sim_rand01(uint32_t *state)
{
    uint32_t x = *state ? *state : 0x9e3779b9u; /* xorshift32 */
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *state = x;
    return (double)x / 4294967296.0;
}

uint64_t sim_backoff_ns(const struct sim_opts *o, unsigned attempt, uint32_t *rng)
{
    double d = o->backoff_min;
    for (unsigned i = 0; i < attempt && d < o->backoff_max; i++) {
        d *= 2;
    }
    d = d > o->backoff_max ? o->backoff_max : d;
    d *= 0.5 + sim_rand01(rng); /* jitter: 50% to 150% */
    return (uint64_t)(d * 1e9);
}
