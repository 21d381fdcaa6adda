/* fleetyard-sim: the jobs agent of a simulated device (AWS IoT Jobs MQTT protocol).
 *
 * After SUBACK (so also after every reconnect) and on every notify-next that carries an
 * execution while idle, the device publishes start-next. start-next/accepted with an execution
 * starts the work (--job-work seconds, +-(--job-jitter)); then the device disconnects (--job-drop),
 * stays silent so the job times out (--job-timeout), or sends <jobId>/update FAILED (--job-fail),
 * REJECTED
 * (--job-reject) or SUCCEEDED. update/accepted ends the job; a notify-next seen while busy makes
 * it ask start-next again. Responses go only to the requesting client: no subscription needed.
 */
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <mosquitto.h>

#include "core/json.h"
#include "tools/sim_device.h"
#include "tools/sim_fleet.h"

#define JOBS "$aws/things/%s/jobs/"

void sim_agent_event(struct sim_devices *f,
                     const struct sim_client *c,
                     const char *ev,
                     const char *job,
                     const char *status)
{
    struct timespec ts;
    if (!f->events) {
        return;
    }
    clock_gettime(CLOCK_REALTIME, &ts);
    fprintf(f->events, "%lld%09ld %s %s %s %s\n", (long long)ts.tv_sec, ts.tv_nsec, ev,
            f->s.ids[c->index], job, status ? status : "-");
}

static void start_next(struct sim_client *c)
{
    sim_fleet_publish(c, JOBS "start-next", "{\"clientToken\":\"sim\"}", 1);
}

void sim_agent_subscribed(struct sim_devices *f, struct sim_client *c)
{
    struct sim_dev *d = &f->d[c->index];
    d->busy = false;
    start_next(c);
}

static void on_notify_next(struct sim_devices *f, struct sim_client *c, json_t *j)
{
    struct sim_dev *d = &f->d[c->index];
    json_t *e = json_object_get(j, "execution");
    const char *job = json_string_value(json_object_get(e, "jobId"));
    if (!job) {
        return;
    }
    f->st.notify_next++;
    sim_agent_event(f, c, "notify", job, NULL);
    if (d->busy) {
        d->want_next = true;
        return;
    }
    start_next(c);
}

static void on_started(struct sim_devices *f, struct sim_client *c, json_t *j)
{
    struct sim_dev *d = &f->d[c->index];
    json_t *e = json_object_get(j, "execution");
    const char *job = json_string_value(json_object_get(e, "jobId"));
    if (!job || d->busy || strlen(job) >= sizeof(d->job) || strcmp(job, d->ignore) == 0) {
        return;
    }
    memcpy(d->job, job, strlen(job) + 1);
    d->busy = true;
    d->want_next = false;
    double jitter = f->s.o->job_jitter * (2 * sim_rand01(&d->rng) - 1);
    d->job_due = sim_now() + (uint64_t)(f->s.o->job_work * (1 + jitter) * 1e9);
    f->st.jobs_started++;
    sim_agent_event(f, c, "start", job, NULL);
}

static void on_updated(struct sim_devices *f, struct sim_client *c, const char *status)
{
    struct sim_dev *d = &f->d[c->index];
    if (!d->busy) {
        return;
    }
    d->busy = false;
    if (strcmp(status, "SUCCEEDED") == 0) {
        f->st.succeeded++;
    } else if (strcmp(status, "FAILED") == 0) {
        f->st.failed++;
    } else {
        f->st.rejected++;
    }
    sim_agent_event(f, c, "done", d->job, status);
    if (d->want_next) {
        start_next(c);
    }
}

void sim_agent_message(
    struct sim_devices *f, struct sim_client *c, const char *rest, const char *payload, size_t len)
{
    json_t *j = fy_json_loadb(payload, len, 0, NULL);
    size_t n = strlen(rest);
    if (!j) {
        return;
    }
    if (strcmp(rest, "notify-next") == 0) {
        on_notify_next(f, c, j);
    } else if (strcmp(rest, "start-next/accepted") == 0) {
        on_started(f, c, j);
    } else if (n > 16 && strcmp(rest + n - 16, "/update/accepted") == 0) {
        const char *st =
            json_string_value(json_object_get(json_object_get(j, "executionState"), "status"));
        on_updated(f, c, st ? st : "SUCCEEDED");
    } else if (n > 9 && strcmp(rest + n - 9, "/rejected") == 0) {
        f->st.job_errors++;
        f->d[c->index].busy = false;
    }
    json_decref(j);
}

static void
send_update(struct sim_devices *f, struct sim_client *c, const char *job, const char *status)
{
    char topic[SIM_JOB_ID_MAX + 64], payload[160];
    snprintf(topic, sizeof(topic), "%s%s/update", JOBS, job);
    snprintf(payload, sizeof(payload),
             "{\"status\":\"%s\",\"includeJobExecutionState\":true,\"clientToken\":\"sim\"}",
             status);
    sim_fleet_publish(c, topic, payload, 1);
    sim_agent_event(f, c, "send", job, status);
}

void sim_agent_finish(struct sim_devices *f, struct sim_client *c)
{
    const struct sim_opts *o = f->s.o;
    struct sim_dev *d = &f->d[c->index];
    double r = sim_rand01(&d->rng);
    d->job_due = 0;
    if (r < o->p_drop) {
        f->st.dropped++;
        d->busy = false;
        d->dropping = true;
        sim_agent_event(f, c, "drop", d->job, NULL);
        mosquitto_disconnect(c->mosq);
        sim_sync_events(c);
    } else if ((r -= o->p_drop) < o->p_timeout) {
        f->st.timed_out++;
        d->busy = false;
        memcpy(d->ignore, d->job, sizeof(d->ignore));
        sim_agent_event(f, c, "silent", d->job, NULL);
    } else if ((r -= o->p_timeout) < o->p_fail) {
        send_update(f, c, d->job, "FAILED");
    } else if (r - o->p_fail < o->p_reject) {
        send_update(f, c, d->job, "REJECTED");
    } else {
        send_update(f, c, d->job, "SUCCEEDED");
    }
}
