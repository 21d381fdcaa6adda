/* fleetyard-sim: the connection modes.
 *
 *   storm  connect --clients as fast as possible (or at --rate), at most --concurrency at once;
 *          report connections/s and connect latency (TCP connect + TLS handshake + CONNACK);
 *          keep them open --hold seconds (default 0), then disconnect.
 *   hold   the same, but --hold 0 means until SIGINT/SIGTERM: for measuring the broker's memory
 *          per connection. The connect summary is printed (and flushed) as soon as every client
 *          has connected, so a script can sample the broker then stop the simulator.
 * Both print a final line with how many connections were still open at the end of the hold.
 */
#include <stdio.h>
#include <string.h>

#include "tools/sim.h"

static int report_connected(const struct sim *s, const char *phase)
{
    if (!s->o->json) {
        sim_connect_print(s);
        fflush(stdout);
        return 0;
    }
    json_t *j = sim_connect_json(s);
    if (j && json_object_set_new(j, "phase", json_string(phase)) != 0) {
        json_decref(j);
        j = NULL;
    }
    return sim_report_json(j);
}

static int report_done(const struct sim *s, double held)
{
    if (!s->o->json) {
        printf("held %.1f s: %u still connected, %u closed by the broker\n", held, s->st.connected,
               s->st.closed);
        return 0;
    }
    return sim_report_json(json_pack("{s:s, s:s, s:f, s:I, s:I}", "mode", s->o->mode, "phase",
                                     "done", "held_s", held, "still_connected",
                                     (json_int_t)s->st.connected, "closed_by_broker",
                                     (json_int_t)s->st.closed));
}

static int connect_and_hold(const struct sim_opts *o, double hold, bool forever_when_zero)
{
    struct sim s;
    int rc = -1;
    memset(&s, 0, sizeof(s));
    if (o->clients == 0) {
        fprintf(stderr, "fleetyard-sim: --clients must be at least 1\n");
        return 2;
    }
    if (sim_init(&s, o, o->clients) == 0) {
        sim_connect_all(&s, o->clients);
        rc = report_connected(&s, "connected");
        uint64_t t0 = sim_now();
        if (rc == 0 && (hold > 0 || forever_when_zero)) {
            sim_idle(&s, hold);
        }
        double held = (double)(sim_now() - t0) / 1e9;
        if (rc == 0) {
            rc = report_done(&s, held);
        }
        if (rc == 0 && s.st.refused + s.st.failed > 0) {
            rc = 1;
        }
    }
    sim_destroy(&s);
    return rc < 0 ? 2 : rc;
}

int sim_mode_storm(const struct sim_opts *o)
{
    return connect_and_hold(o, o->hold, false);
}

int sim_mode_hold(const struct sim_opts *o)
{
    return connect_and_hold(o, o->hold, true);
}
