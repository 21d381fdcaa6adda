/* fleetyard-sim: publish throughput, device to device.
 *
 * --publishers N and --subscribers M connect (clients 0..N-1 publish, N..N+M-1 subscribe).
 * Publisher i publishes on topic(i mod M), subscriber j subscribes to topic(j) (or to
 * --sub-filter, e.g. a wildcard for fan-out), where topic(k) is --topic with %d = k. Once every
 * subscription is acknowledged, publishers send --size byte messages for --duration seconds.
 * Each payload starts with the send time, the publisher's index and a sequence number, so
 * subscribers measure end-to-end latency.
 *
 * Flow control: a publisher has at most --inflight messages outstanding: QoS 1 until PUBACK,
 * QoS 0 until a subscriber received it (until written to the socket when nobody subscribes).
 * Without it QoS 0 publishers would only measure how fast the broker queues. A window that
 * makes no progress for a second is reset (counted as a stall: QoS 0 messages were dropped).
 */
#include <stdio.h>
#include <string.h>

#include <mosquitto.h>

#include "core/alloc.h"
#include "tools/sim.h"

#define NS_PER_S     1000000000ull
#define DRAIN_NS     (2 * NS_PER_S)
#define SUBACK_WAIT  (5 * NS_PER_S)
#define PUBS_PER_RUN 64 /* publishes per publisher per loop pass, at most */

struct run {
    struct sim s;
    char (*topics)[SIM_PATTERN_MAX]; /* one per publisher */
    unsigned char *payload;
    unsigned stalls;
    uint64_t last_progress, last_count;
};

static int check_opts(const struct sim_opts *o)
{
    if (o->publishers == 0 || o->size < SIM_PAYLOAD_MIN || o->size > SIM_PAYLOAD_MAX ||
        o->qos < 0 || o->qos > 1 || o->duration <= 0 || o->inflight == 0) {
        fprintf(stderr,
                "fleetyard-sim: throughput needs --publishers >= 1, --size %d..%d, "
                "--qos 0|1, --duration > 0, --inflight >= 1\n",
                SIM_PAYLOAD_MIN, SIM_PAYLOAD_MAX);
        return -1;
    }
    return 0;
}

static int setup(struct run *r, const struct sim_opts *o)
{
    unsigned n = o->publishers + o->subscribers;
    r->topics = fy_calloc(o->publishers, sizeof(*r->topics));
    r->payload = fy_calloc(1, o->size);
    if (sim_init(&r->s, o, n) || !r->topics || !r->payload) {
        return -1;
    }
    for (unsigned i = 0; i < n; i++) {
        r->s.clients[i].role = i < o->publishers ? SIM_ROLE_PUBLISHER : SIM_ROLE_SUBSCRIBER;
    }
    for (unsigned i = 0; i < o->publishers; i++) {
        unsigned t = o->subscribers ? i % o->subscribers : i;
        if (sim_expand(o->topic_pattern, t, r->topics[i], sizeof(r->topics[i]))) {
            fprintf(stderr, "fleetyard-sim: --topic too long\n");
            return -1;
        }
    }
    return 0;
}

/* Connects everyone and waits for every SUBACK; 0 when all are ready. */
static int get_ready(struct run *r)
{
    const struct sim_opts *o = r->s.o;
    unsigned n = o->publishers + o->subscribers, subscribed = 0;
    sim_connect_all(&r->s, n);
    if (r->s.st.connected != n) {
        fprintf(stderr, "fleetyard-sim: only %u of %u clients connected (%u refused, %u failed)\n",
                r->s.st.connected, n, r->s.st.refused, r->s.st.failed);
        return -1;
    }
    uint64_t end = sim_now() + SUBACK_WAIT;
    while (!sim_stop_requested && sim_now() < end) {
        subscribed = 0;
        for (unsigned i = o->publishers; i < n; i++) {
            subscribed += r->s.clients[i].subscribed;
        }
        if (subscribed == o->subscribers) {
            return 0;
        }
        sim_poll(&r->s, 10);
    }
    fprintf(stderr, "fleetyard-sim: only %u of %u subscriptions acknowledged\n", subscribed,
            o->subscribers);
    return -1;
}

/* Publishes what publisher c's window and rate allow. */
static void publish_some(struct run *r, struct sim_client *c, uint64_t now)
{
    const struct sim_opts *o = r->s.o;
    for (unsigned k = 0; k < PUBS_PER_RUN && c->inflight < o->inflight; k++) {
        if (c->state != SIM_CONNECTED || (o->rate > 0 && now < c->next_pub)) {
            break;
        }
        uint32_t idx = c->index, seq = c->seq++;
        memcpy(r->payload, &now, sizeof(now));
        memcpy(r->payload + 8, &idx, sizeof(idx));
        memcpy(r->payload + 12, &seq, sizeof(seq));
        c->inflight++; /* before: a QoS 0 on_publish may run inside mosquitto_publish */
        if (mosquitto_publish(c->mosq, NULL, r->topics[c->index], (int)o->size, r->payload, o->qos,
                              false) != MOSQ_ERR_SUCCESS) {
            c->inflight--;
            break;
        }
        r->s.st.published++;
        if (o->rate > 0) {
            c->next_pub = (c->next_pub ? c->next_pub : now) + (uint64_t)(1e9 / o->rate);
        }
    }
    sim_sync_events(c);
}

/* A second without any message sent or received: reset the windows (lost QoS 0 messages). */
static void unstall(struct run *r, uint64_t now)
{
    uint64_t count = r->s.st.sent + r->s.st.received + r->s.st.received_late;
    if (count != r->last_count) {
        r->last_count = count;
        r->last_progress = now;
        return;
    }
    if (now - r->last_progress < NS_PER_S) {
        return;
    }
    for (unsigned i = 0; i < r->s.o->publishers; i++) {
        r->s.clients[i].inflight = 0;
    }
    r->stalls++;
    r->last_progress = now;
}

static void measure(struct run *r)
{
    const struct sim_opts *o = r->s.o;
    struct sim_stats *st = &r->s.st;
    uint64_t t0 = sim_now(), end = t0 + (uint64_t)(o->duration * (double)NS_PER_S);
    st->t_measure_start = t0;
    st->t_measure_end = UINT64_MAX;
    st->measuring = true;
    r->last_progress = t0;
    for (uint64_t now = t0; now < end && !sim_stop_requested; now = sim_now()) {
        for (unsigned i = 0; i < o->publishers; i++) {
            publish_some(r, &r->s.clients[i], now);
        }
        sim_poll(&r->s, o->rate > 0 ? 1 : 0);
        unstall(r, now);
    }
    st->t_measure_end = sim_now();
    uint64_t drain_end = st->t_measure_end + DRAIN_NS;
    uint64_t expect = o->sub_filter ? UINT64_MAX : st->published;
    while (sim_now() < drain_end && st->received < expect && !sim_stop_requested) {
        sim_poll(&r->s, 10);
    }
}

static json_t *result_json(const struct run *r, double secs)
{
    const struct sim_opts *o = r->s.o;
    const struct sim_stats *st = &r->s.st;
    json_t *lat = sim_hist_to_json(&st->msg_lat);
    if (!lat) {
        return NULL;
    }
    return json_pack("{s:s, s:I, s:I, s:I, s:i, s:f, s:I, s:I, s:f, s:f, s:I, s:o}", "mode",
                     "throughput", "publishers", (json_int_t)o->publishers, "subscribers",
                     (json_int_t)o->subscribers, "size", (json_int_t)o->size, "qos", o->qos,
                     "seconds", secs, "sent", (json_int_t)st->published, "received",
                     (json_int_t)st->received, "sent_per_s", (double)st->published / secs,
                     "received_per_s", (double)st->received / secs, "stalls", (json_int_t)r->stalls,
                     "latency", lat);
}

static int report(const struct run *r)
{
    const struct sim_stats *st = &r->s.st;
    double secs = (double)(st->t_measure_end - st->t_measure_start) / 1e9;
    if (r->s.o->json) {
        return sim_report_json(result_json(r, secs));
    }
    char lat[160];
    sim_hist_format(&st->msg_lat, lat, sizeof(lat));
    printf("%.2f s: sent %llu (%.0f msgs/s), received %llu (%.0f msgs/s), %u stalls\n", secs,
           (unsigned long long)st->published, (double)st->published / secs,
           (unsigned long long)st->received, (double)st->received / secs, r->stalls);
    printf("latency: %s\n", lat);
    return 0;
}

int sim_mode_throughput(const struct sim_opts *o)
{
    struct run r;
    memset(&r, 0, sizeof(r));
    if (check_opts(o)) {
        return 2;
    }
    int rc = setup(&r, o) == 0 && get_ready(&r) == 0 ? 0 : 2;
    if (rc == 0) {
        measure(&r);
        rc = report(&r) == 0 ? 0 : 2;
    }
    sim_destroy(&r.s);
    fy_free(r.topics);
    fy_free(r.payload);
    return rc;
}
