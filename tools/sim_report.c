/* fleetyard-sim: summaries, as text or as one JSON object per line (--json). */
#include <stdio.h>

#include "core/alloc.h"
#include "core/json.h"
#include "tools/sim.h"

int sim_report_json(json_t *j)
{
    if (!j) {
        fprintf(stderr, "fleetyard-sim: out of memory\n");
        return -1;
    }
    char *text = fy_json_dump(j);
    json_decref(j);
    if (!text) {
        fprintf(stderr, "fleetyard-sim: out of memory\n");
        return -1;
    }
    printf("%s\n", text);
    fflush(stdout);
    fy_free(text);
    return 0;
}

static double connect_seconds(const struct sim *s)
{
    const struct sim_stats *st = &s->st;
    if (st->t_last_connack <= st->t_first_start) {
        return 0.0;
    }
    return (double)(st->t_last_connack - st->t_first_start) / 1e9;
}

json_t *sim_connect_json(const struct sim *s)
{
    const struct sim_stats *st = &s->st;
    double secs = connect_seconds(s);
    uint64_t ok = st->connect_lat.count;
    json_t *lat = sim_hist_to_json(&st->connect_lat);
    if (!lat) {
        return NULL;
    }
    return json_pack("{s:s, s:I, s:I, s:I, s:I, s:f, s:f, s:o}", "mode", s->o->mode, "clients",
                     (json_int_t)s->n_clients, "connected", (json_int_t)ok, "refused",
                     (json_int_t)st->refused, "failed", (json_int_t)st->failed, "seconds", secs,
                     "connections_per_s", secs > 0 ? (double)ok / secs : 0.0, "connect_latency",
                     lat);
}

void sim_connect_print(const struct sim *s)
{
    const struct sim_stats *st = &s->st;
    double secs = connect_seconds(s);
    char lat[160];
    sim_hist_format(&st->connect_lat, lat, sizeof(lat));
    printf("connected %llu of %u in %.3f s (%.1f connections/s), %u refused, %u failed\n",
           (unsigned long long)st->connect_lat.count, s->n_clients, secs,
           secs > 0 ? (double)st->connect_lat.count / secs : 0.0, st->refused, st->failed);
    printf("connect latency: %s\n", lat);
}
