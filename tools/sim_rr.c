/* fleetyard-sim: mode rr, request/response round trips from the devices of --state.
 *
 *   --rr shadow  a device publishes $aws/things/<t>/shadow/update (a reported value) and waits
 *                for update/accepted (or rejected) on its own subscription;
 *   --rr echo    a device publishes on device/<t>/echo, which it subscribes to itself: the plain
 *                MQTT round trip through the same broker, same payload size.
 * Requests are published, and answers subscribed to, at --qos: an answer comes at that QoS
 * either way (the plugin publishes at QoS 1, delivered at most at the subscription's QoS), so
 * both kinds exchange the same MQTT packets (QoS 1: PUBLISH and PUBACK each way).
 * Each device has one request outstanding. With --rate R it sends R requests/s (latency at a
 * given load); with --rate 0 it sends the next request as soon as the answer arrives (closed
 * loop: the broker's throughput). Measures --duration seconds after every SUBACK arrived; a
 * request unanswered for 5 s counts as a timeout. With --json a line {"phase":"measuring"} is
 * printed when the measurement starts, the result when it ends.
 */
#include <stdio.h>
#include <string.h>

#include <mosquitto.h>

#include "core/alloc.h"
#include "tools/sim_fleet.h"

#define NS_PER_S    1000000000ull
#define RR_TIMEOUT  (5 * NS_PER_S)
#define SUBACK_WAIT (30 * NS_PER_S)

struct rr {
    struct sim s;
    struct sim_opts co; /* the options, connecting without --rate (it is the request rate) */
    double rate;        /* requests/s per device; 0 = closed loop */
    bool shadow;
    uint64_t *sent_at, *next_at; /* per device; sent_at 0 = nothing outstanding */
    uint64_t *seq;
    bool measuring;
    uint64_t t0, t1, requests, answers, rejected, timeouts;
    uint64_t answers_qos1; /* answers delivered at QoS 1 */
    struct sim_hist lat;
};

static void send_request(struct rr *r, struct sim_client *c, uint64_t now)
{
    char payload[96];
    unsigned i = c->index;
    snprintf(payload, sizeof(payload), "{\"state\":{\"reported\":{\"seq\":%llu}}}",
             (unsigned long long)++r->seq[i]);
    const char *topic = r->shadow ? "$aws/things/%s/shadow/update" : "device/%s/echo";
    if (sim_fleet_publish(c, topic, payload, r->s.o->qos) == 0) {
        r->sent_at[i] = now;
        r->requests += r->measuring;
    }
}

static void on_message(struct sim_client *c, const struct mosquitto_message *m)
{
    struct rr *r = c->sim->mode_data;
    unsigned i = c->index;
    size_t n = strlen(m->topic);
    if (r->sent_at[i] == 0) {
        return;
    }
    if (r->shadow && n > 9 && strcmp(m->topic + n - 9, "/rejected") == 0) {
        r->rejected += r->measuring;
    } else if (r->shadow && !(n > 9 && strcmp(m->topic + n - 9, "/accepted") == 0)) {
        return;
    }
    uint64_t now = sim_now();
    if (r->measuring) {
        r->answers++;
        r->answers_qos1 += m->qos == 1;
        sim_hist_record(&r->lat, now - r->sent_at[i]);
    }
    r->sent_at[i] = 0;
    if (r->measuring && r->rate <= 0) {
        send_request(r, c, now); /* closed loop */
    }
}

static void on_connected(struct sim_client *c)
{
    static const char *const shadow_subs[] = {"$aws/things/%s/shadow/update/accepted",
                                              "$aws/things/%s/shadow/update/rejected"};
    static const char *const echo_subs[] = {"device/%s/echo"};
    struct rr *r = c->sim->mode_data;
    sim_fleet_subscribe(c, r->shadow ? shadow_subs : echo_subs, r->shadow ? 2 : 1, c->sim->o->qos);
}

static const struct sim_hooks hooks = {on_connected, NULL, on_message};

static int wait_subscribed(struct rr *r)
{
    unsigned n = r->s.n_clients, ok = 0;
    uint64_t end = sim_now() + SUBACK_WAIT;
    while (!sim_stop_requested && sim_now() < end) {
        ok = 0;
        for (unsigned i = 0; i < n; i++) {
            ok += r->s.clients[i].subscribed;
        }
        if (ok == n) {
            return 0;
        }
        sim_poll(&r->s, 10);
    }
    fprintf(stderr, "fleetyard-sim: %u of %u devices subscribed\n", ok, n);
    return -1;
}

/* Starts requests that are due and expires those unanswered too long. */
static void pump(struct rr *r, uint64_t now)
{
    double rate = r->rate;
    for (unsigned i = 0; i < r->s.n_clients; i++) {
        struct sim_client *c = &r->s.clients[i];
        if (r->sent_at[i] && now - r->sent_at[i] > RR_TIMEOUT) {
            r->timeouts++;
            r->sent_at[i] = 0;
        }
        if (r->sent_at[i] || now < r->next_at[i]) {
            continue;
        }
        if (rate > 0) {
            r->next_at[i] = (r->next_at[i] ? r->next_at[i] : now) + (uint64_t)(1e9 / rate);
        }
        send_request(r, c, now);
    }
}

static void measure(struct rr *r)
{
    const struct sim_opts *o = r->s.o;
    if (o->json) { /* a script samples the broker's CPU between this line and the report */
        sim_report_json(
            json_pack("{s:s, s:s, s:s}", "mode", "rr", "rr", o->rr, "phase", "measuring"));
    }
    uint64_t now = sim_now();
    for (unsigned i = 0; i < r->s.n_clients; i++) { /* spread the first requests over 1/rate */
        r->next_at[i] = r->rate > 0 ? now + (uint64_t)(1e9 / r->rate * i / r->s.n_clients) : 0;
    }
    r->t0 = now;
    r->measuring = true;
    uint64_t end = now + (uint64_t)(o->duration * 1e9);
    while (!sim_stop_requested && (now = sim_now()) < end) {
        pump(r, now);
        sim_poll(&r->s, r->rate > 0 ? 1 : 0);
    }
    r->t1 = sim_now();
    r->measuring = false;
}

static int report(const struct rr *r)
{
    double secs = (double)(r->t1 - r->t0) / 1e9;
    const char *kind = r->shadow ? "shadow" : "echo";
    if (!r->s.o->json) {
        char lat[160];
        sim_hist_format(&r->lat, lat, sizeof(lat));
        printf("rr %s: %u devices, %.2f s, %llu round trips (%.0f/s), %llu rejected, %llu "
               "timeouts\nlatency: %s\n",
               kind, r->s.n_clients, secs, (unsigned long long)r->answers,
               (double)r->answers / secs, (unsigned long long)r->rejected,
               (unsigned long long)r->timeouts, lat);
        return 0;
    }
    json_t *lat = sim_hist_to_json(&r->lat);
    return sim_report_json(
        lat ? json_pack("{s:s, s:s, s:I, s:f, s:i, s:f, s:I, s:I, s:I, s:f, s:I, s:I, "
                        "s:o}",
                        "mode", "rr", "rr", kind, "devices", (json_int_t)r->s.n_clients, "rate",
                        r->rate, "qos", r->s.o->qos, "seconds", secs, "requests",
                        (json_int_t)r->requests, "round_trips", (json_int_t)r->answers,
                        "answers_at_qos1", (json_int_t)r->answers_qos1, "round_trips_per_s",
                        (double)r->answers / secs, "rejected", (json_int_t)r->rejected, "timeouts",
                        (json_int_t)r->timeouts, "latency", lat)
            : NULL);
}

int sim_mode_rr(const struct sim_opts *o)
{
    struct rr r;
    memset(&r, 0, sizeof(r));
    sim_hist_init(&r.lat);
    if (!o->rr || (strcmp(o->rr, "shadow") != 0 && strcmp(o->rr, "echo") != 0) ||
        o->duration <= 0) {
        fprintf(stderr, "fleetyard-sim: rr needs --rr shadow|echo and --duration > 0\n");
        return 2;
    }
    r.shadow = strcmp(o->rr, "shadow") == 0;
    r.rate = o->rate;
    r.co = *o;
    r.co.rate = 0;
    int rc = 2;
    if (sim_fleet_init(&r.s, &r.co, &hooks, &r) == 0) {
        unsigned n = r.s.n_clients;
        r.sent_at = fy_calloc(n, sizeof(uint64_t));
        r.next_at = fy_calloc(n, sizeof(uint64_t));
        r.seq = fy_calloc(n, sizeof(uint64_t));
        sim_connect_all(&r.s, n);
        if (r.sent_at && r.next_at && r.seq && r.s.st.connected == n && wait_subscribed(&r) == 0) {
            measure(&r);
            rc = report(&r) == 0 ? 0 : 2;
        } else {
            fprintf(stderr, "fleetyard-sim: %u of %u devices connected\n", r.s.st.connected, n);
        }
    }
    sim_fleet_destroy(&r.s);
    fy_free(r.sent_at);
    fy_free(r.next_at);
    fy_free(r.seq);
    return rc;
}
