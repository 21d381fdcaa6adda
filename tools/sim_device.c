/* fleetyard-sim: mode devices, a fleet of simulated devices.
 *
 * The devices of --state connect (client id = thing name, own certificate), subscribe to their
 * shadow's update/delta and rejected topics (and jobs/notify-next with --jobs), then until
 * --duration ends (0 = until SIGINT/SIGTERM):
 * - every --shadow-interval seconds report {"temperature","battery"} as reported state; the
 *   values drift (temperature wanders between 15 and 35, the battery drains and recharges);
 * - answer every update/delta by reporting the delta's state;
 * - publish --telemetry-rate messages/s on device/<thing>/telemetry;
 * - run the jobs agent (sim_agent.c) with --jobs;
 * - reconnect after any lost connection with exponential back-off and jitter.
 * A progress line once a second and a summary at the end.
 */
#include "tools/sim_device.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <mosquitto.h>

#include "core/alloc.h"
#include "core/json.h"
#include "tools/sim_fleet.h"

#define NS_PER_S 1000000000ull
#define SHADOW   "$aws/things/%s/shadow/"

static void report_shadow(struct sim_devices *f, struct sim_client *c, struct sim_dev *d)
{
    char payload[160];
    d->temperature += sim_rand01(&d->rng) - 0.5;
    d->temperature = d->temperature < 15 ? 15 : d->temperature > 35 ? 35 : d->temperature;
    d->battery -= 0.1 * sim_rand01(&d->rng);
    d->battery = d->battery < 5 ? 100 : d->battery;
    snprintf(payload, sizeof(payload),
             "{\"state\":{\"reported\":{\"temperature\":%.2f,\"battery\":%.1f}}}", d->temperature,
             d->battery);
    if (sim_fleet_publish(c, SHADOW "update", payload, 0) == 0) {
        f->st.reports++;
    }
}

static void telemetry(struct sim_devices *f, struct sim_client *c, struct sim_dev *d)
{
    char payload[96];
    snprintf(payload, sizeof(payload), "{\"temperature\":%.2f,\"seq\":%llu}", d->temperature,
             (unsigned long long)f->st.telemetry);
    if (sim_fleet_publish(c, "device/%s/telemetry", payload, 0) == 0) {
        f->st.telemetry++;
    }
}

/* update/delta: report the delta's state as the device's new reported state. */
static void on_delta(struct sim_devices *f, struct sim_client *c, const char *p, size_t len)
{
    json_t *j = fy_json_loadb(p, len, 0, NULL);
    json_t *state = json_object_get(j, "state");
    json_t *out = state ? json_pack("{s:{s:O}}", "state", "reported", state) : NULL;
    char *text = out ? fy_json_dump(out) : NULL;
    if (text && sim_fleet_publish(c, SHADOW "update", text, 1) == 0) {
        f->st.deltas++;
    }
    fy_free(text);
    json_decref(out);
    json_decref(j);
}

static void on_message(struct sim_client *c, const struct mosquitto_message *m)
{
    struct sim_devices *f = c->sim->mode_data;
    const char *name = c->sim->ids[c->index], *t = m->topic;
    size_t nlen = strlen(name);
    if (strncmp(t, "$aws/things/", 12) != 0 || strncmp(t + 12, name, nlen) != 0 ||
        t[12 + nlen] != '/') {
        return;
    }
    const char *rest = t + 13 + nlen;
    if (strcmp(rest, "shadow/update/delta") == 0) {
        on_delta(f, c, m->payload, (size_t)m->payloadlen);
    } else if (strcmp(rest, "shadow/update/rejected") == 0) {
        f->st.shadow_rejected++;
    } else if (strncmp(rest, "jobs/", 5) == 0) {
        sim_agent_message(f, c, rest + 5, m->payload, (size_t)m->payloadlen);
    }
}

static void on_connected(struct sim_client *c)
{
    static const char *const subs[] = {SHADOW "update/delta", SHADOW "update/rejected",
                                       "$aws/things/%s/jobs/notify-next"};
    struct sim_devices *f = c->sim->mode_data;
    struct sim_dev *d = &f->d[c->index];
    uint64_t now = sim_now();
    const struct sim_opts *o = c->sim->o;
    if (d->attempt > 0 || d->dropping) {
        f->st.reconnects++;
    }
    d->attempt = 0;
    d->dropping = false;
    d->reconnect_at = 0;
    if (o->shadow_interval > 0) {
        d->next_report = now + (uint64_t)(o->shadow_interval * 1e9 * sim_rand01(&d->rng));
    }
    if (o->telemetry_rate > 0) {
        d->next_telemetry = now + (uint64_t)(1e9 / o->telemetry_rate * sim_rand01(&d->rng));
    }
    sim_fleet_subscribe(c, subs, o->jobs ? 3 : 2, 1); /* as the AWS IoT Device SDKs do */
}

static void on_subscribed(struct sim_client *c)
{
    struct sim_devices *f = c->sim->mode_data;
    if (c->sim->o->jobs) {
        sim_agent_subscribed(f, c);
    }
}

static const struct sim_hooks hooks = {on_connected, on_subscribed, on_message};

/* A device without a connection waits for its back-off, then connects again. */
static void reconnect(struct sim_devices *f, struct sim_client *c, struct sim_dev *d, uint64_t now)
{
    if (d->reconnect_at == 0) {
        d->reconnect_at = now + sim_backoff_ns(f->s.o, d->attempt, &d->rng);
        d->busy = false;
        return;
    }
    if (now >= d->reconnect_at && f->s.st.connecting < f->s.o->concurrency) {
        d->attempt++;
        d->reconnect_at = 0;
        sim_connect(c);
    }
}

static void tick_device(struct sim_devices *f, struct sim_client *c, uint64_t now)
{
    const struct sim_opts *o = f->s.o;
    struct sim_dev *d = &f->d[c->index];
    if (c->state != SIM_CONNECTED) {
        if (c->state != SIM_CONNECTING && c->state != SIM_IDLE) {
            reconnect(f, c, d, now);
        }
        return;
    }
    if (d->next_report && now >= d->next_report) {
        report_shadow(f, c, d);
        d->next_report += (uint64_t)(o->shadow_interval * 1e9);
    }
    if (d->next_telemetry && now >= d->next_telemetry) {
        telemetry(f, c, d);
        d->next_telemetry += (uint64_t)(1e9 / o->telemetry_rate);
        d->next_telemetry = d->next_telemetry < now ? now : d->next_telemetry;
    }
    if (d->busy && d->job_due && now >= d->job_due) {
        sim_agent_finish(f, c);
    }
}

static void print_progress(const struct sim_devices *f, double secs, bool final)
{
    const struct sim_dev_stats *st = &f->st;
    if (f->s.o->quiet) {
        return;
    }
    fprintf(stderr,
            "%s%.0f s: %u/%u connected, %llu reports, %llu deltas, %llu telemetry, jobs %llu "
            "started %llu ok %llu failed %llu rejected %llu silent %llu dropped, %llu "
            "reconnects%s",
            isatty(2) ? "\r" : "", secs, f->s.st.connected, f->s.n_clients,
            (unsigned long long)st->reports, (unsigned long long)st->deltas,
            (unsigned long long)st->telemetry, (unsigned long long)st->jobs_started,
            (unsigned long long)st->succeeded, (unsigned long long)st->failed,
            (unsigned long long)st->rejected, (unsigned long long)st->timed_out,
            (unsigned long long)st->dropped, (unsigned long long)st->reconnects,
            isatty(2) && !final ? "" : "\n");
}

static void run(struct sim_devices *f)
{
    const struct sim_opts *o = f->s.o;
    unsigned next = 0;
    uint64_t t0 = sim_now(), end = t0 + (uint64_t)(o->duration * 1e9), last = t0, last_tick = 0;
    while (!sim_stop_requested && (o->duration <= 0 || sim_now() < end)) {
        sim_connect_paced(&f->s, &next, f->s.n_clients, t0);
        sim_poll(&f->s, 5);
        uint64_t now = sim_now();
        if (now - last_tick >= 5000000ull) { /* timers: every 5 ms */
            last_tick = now;
            for (unsigned i = 0; i < next; i++) {
                tick_device(f, &f->s.clients[i], now);
            }
        }
        if (now - last >= NS_PER_S) {
            last = now;
            print_progress(f, (double)(now - t0) / 1e9, false);
        }
    }
    print_progress(f, (double)(sim_now() - t0) / 1e9, true);
}

static int summary(const struct sim_devices *f)
{
    const struct sim_dev_stats *st = &f->st;
    if (!f->s.o->json) {
        printf("devices: %u, connected %u, refused %u, failed %u, reconnects %llu\n",
               f->s.n_clients, f->s.st.connected, f->s.st.refused, f->s.st.failed,
               (unsigned long long)st->reconnects);
        return 0;
    }
    return sim_report_json(json_pack(
        "{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
        "mode", "devices", "devices", (json_int_t)f->s.n_clients, "connected",
        (json_int_t)f->s.st.connected, "reconnects", (json_int_t)st->reconnects, "reports",
        (json_int_t)st->reports, "deltas", (json_int_t)st->deltas, "shadow_rejected",
        (json_int_t)st->shadow_rejected, "telemetry", (json_int_t)st->telemetry, "notify_next",
        (json_int_t)st->notify_next, "jobs_started", (json_int_t)st->jobs_started, "succeeded",
        (json_int_t)st->succeeded, "failed", (json_int_t)st->failed, "rejected",
        (json_int_t)st->rejected, "timed_out", (json_int_t)st->timed_out, "dropped",
        (json_int_t)st->dropped, "job_errors", (json_int_t)st->job_errors, "refused",
        (json_int_t)f->s.st.refused));
}

int sim_mode_devices(const struct sim_opts *o)
{
    struct sim_devices f;
    memset(&f, 0, sizeof(f));
    int rc = 2;
    if (o->event_log && !(f.events = fopen(o->event_log, "w"))) {
        fprintf(stderr, "fleetyard-sim: cannot write %s\n", o->event_log);
        return 2;
    }
    if (sim_fleet_init(&f.s, o, &hooks, &f) == 0) {
        f.d = fy_calloc(f.s.n_clients, sizeof(*f.d));
    }
    if (f.d) {
        for (unsigned i = 0; i < f.s.n_clients; i++) {
            f.d[i] = (struct sim_dev){
                .rng = 2654435761u * (i + 1), .battery = 100, .temperature = 20 + (double)(i % 10)};
        }
        run(&f);
        rc = summary(&f) == 0 ? 0 : 2;
    }
    sim_fleet_destroy(&f.s);
    fy_free(f.d);
    if (f.events) {
        fclose(f.events);
    }
    return rc;
}
