/* fleetyard-sim: mode devices (sim_device.c) and its jobs agent (sim_agent.c). One thread. */
#ifndef FY_TOOLS_SIM_DEVICE_H
#define FY_TOOLS_SIM_DEVICE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "tools/sim.h"

#define SIM_JOB_ID_MAX 72

/* One simulated device's behaviour state. */
struct sim_dev {
    uint64_t next_report, next_telemetry; /* monotonic ns; 0 = not scheduled */
    uint64_t job_due;                     /* the job's work ends */
    uint64_t reconnect_at;                /* 0 = not waiting to reconnect */
    unsigned attempt;                     /* reconnect attempts since the last CONNACK */
    uint32_t rng;
    double temperature, battery;
    bool busy;      /* working on job */
    bool want_next; /* a notify-next came while busy: ask again when done */
    bool dropping;  /* disconnected on purpose mid-job */
    char job[SIM_JOB_ID_MAX];
    char ignore[SIM_JOB_ID_MAX]; /* a job left to time out: do not start it again */
};

struct sim_dev_stats {
    uint64_t reports, deltas, shadow_rejected, telemetry;
    uint64_t notify_next, jobs_started, succeeded, failed, rejected, timed_out, dropped;
    uint64_t job_errors, reconnects;
};

struct sim_devices {
    struct sim s;
    struct sim_dev *d;
    struct sim_dev_stats st;
    FILE *events; /* --event-log, or NULL */
};

/* Jobs agent (sim_agent.c). */
void sim_agent_subscribed(struct sim_devices *f, struct sim_client *c);
/* A message on $aws/things/<t>/jobs/<rest>. */
void sim_agent_message(
    struct sim_devices *f, struct sim_client *c, const char *rest, const char *payload, size_t len);
/* The job's work time is over: finish it as the outcome probabilities say. */
void sim_agent_finish(struct sim_devices *f, struct sim_client *c);
/* Appends "<epoch ns> <event> <thing> <job> [status]" to --event-log. */
void sim_agent_event(struct sim_devices *f,
                     const struct sim_client *c,
                     const char *ev,
                     const char *job,
                     const char *status);

#endif
