/* fleetyard-sim: shared parts of the device modes (sim_fleet.c). One thread. */
#ifndef FY_TOOLS_SIM_FLEET_H
#define FY_TOOLS_SIM_FLEET_H

#include <stddef.h>
#include <stdint.h>

#include "tools/sim.h"

#define SIM_FLEET_MAX_SUBS 8
#define SIM_TOPIC_MAX      256

/* Clients for the devices --id-offset .. +--count (0 = all) of --state, with hooks and the
 * mode's data; 0 or -1 (message printed). Free with sim_fleet_destroy even on failure. */
int sim_fleet_init(struct sim *s,
                   const struct sim_opts *o,
                   const struct sim_hooks *hooks,
                   void *data);
void sim_fleet_destroy(struct sim *s);
/* fmt with %s = the device's thing name into out; -1 if too long. */
int sim_fleet_topic(const struct sim_client *c, const char *fmt, char *out, size_t size);
/* One SUBSCRIBE at qos for the n filters fmts (each with %s = thing name). */
int sim_fleet_subscribe(struct sim_client *c, const char *const *fmts, size_t n, int qos);
/* Publishes payload (a string) on fmt (%s = thing name) when connected; 0 or -1. */
int sim_fleet_publish(struct sim_client *c, const char *fmt, const char *payload, int qos);
/* Uniform [0, 1) from a per-device xorshift state. */
double sim_rand01(uint32_t *state);
/* Reconnect delay for the attempt-th retry: --backoff-min doubled per attempt up to
 * --backoff-max, times a jitter of 0.5..1.5. */
uint64_t sim_backoff_ns(const struct sim_opts *o, unsigned attempt, uint32_t *rng);

#endif
