/* fleetyard-sim: command line.
 *
 * `fleetyard-sim MODE [options]`. Modes are rows of one table; options are parsed once into
 * struct sim_opts, each mode reading what it needs. Exit status: 0 done, 1 some connections
 * were refused or failed, 2 usage or set-up error.
 */
#include <getopt.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/names.h"
#include "tools/sim.h"

struct mode {
    const char *name;
    int (*run)(const struct sim_opts *o);
};

/* Described in usage_text. */
static const struct mode modes[] = {
    {"throughput", sim_mode_throughput},
    {"storm", sim_mode_storm},
    {"hold", sim_mode_hold},
    {"provision", sim_mode_provision},
    {"cleanup", sim_mode_cleanup},
    {"devices", sim_mode_devices},
    {"rr", sim_mode_rr},
};

static const char usage_text[] =
    "usage: fleetyard-sim MODE [options]\n"
    "\n"
    "MQTT load generator and device simulator for fleetyard (or any MQTT broker with mutual\n"
    "TLS). One process, one thread, one epoll loop over non-threaded libmosquitto clients.\n"
    "\n"
    "modes:\n"
    "  throughput   publishers send to subscribers for --duration; prints msgs/s sent and\n"
    "               received and end-to-end latency percentiles\n"
    "  storm        connect --clients as fast as possible (or at --rate); prints connections/s\n"
    "               and connect latency (TCP + TLS handshake + CONNACK); holds --hold seconds\n"
    "  hold         like storm, then holds the connections until SIGINT/SIGTERM (or --hold s)\n"
    "  provision    create --count devices over the HTTP API (SigV4): thing, certificate\n"
    "               (CreateKeysAndCertificate), thing principal, policy, groups; kept in\n"
    "               --state DIR; running it again reuses what exists (idempotent)\n"
    "  cleanup      delete every device of --state DIR (policy and principal detached,\n"
    "               certificate deactivated and deleted, thing deleted) and its files\n"
    "  devices      run the devices of --state DIR: client id = thing name, own certificate;\n"
    "               shadow reports, delta handling, jobs agent, telemetry, reconnects\n"
    "  rr           request/response round trips from the devices of --state DIR: shadow\n"
    "               update -> update/accepted (--rr shadow) or a plain MQTT echo on\n"
    "               device/<thing>/echo (--rr echo); latency percentiles, round trips/s\n"
    "\n"
    "connection:\n"
    "  --host H            broker address (default 127.0.0.1); the server certificate must\n"
    "                      name it\n"
    "  --port P            MQTT/TLS port (default 8883)\n"
    "  --cafile F          CA certificate(s) that signed the broker's certificate (required)\n"
    "  --cert F --key F    client certificate and key (required); repeat the pair to spread\n"
    "                      clients over several certificates (client i uses pair i mod count)\n"
    "  --id PATTERN        client ids, %d = client index (default bench-%d)\n"
    "  --id-offset N       first client index (default 0): run several simulators side by side\n"
    "  --keepalive S       MQTT keep-alive seconds (default 60)\n"
    "  --concurrency C     connections being set up at once (default 100)\n"
    "  --connect-timeout S give up on a connection after S seconds (default 30)\n"
    "\n"
    "throughput:\n"
    "  --publishers N      publishing clients, indexes 0..N-1 (default 10)\n"
    "  --subscribers M     subscribing clients, indexes N..N+M-1 (default 10)\n"
    "  --topic PATTERN     topic(k), %d = k (default bench/%d): publisher i publishes on\n"
    "                      topic(i mod M), subscriber j subscribes to topic(j)\n"
    "  --sub-filter F      every subscriber subscribes to F instead (e.g. bench/# to fan out)\n"
    "  --size B            payload bytes, 16..131072 (default 64)\n"
    "  --qos Q             0 or 1 (default 0)\n"
    "  --duration S        measured seconds (default 10)\n"
    "  --inflight W        messages a publisher may have outstanding (default 64): QoS 1 until\n"
    "                      PUBACK, QoS 0 until received\n"
    "  --rate R            messages/s per publisher (default 0: as fast as the window allows)\n"
    "\n"
    "storm, hold:\n"
    "  --clients N         connections (default 1000)\n"
    "  --rate R            new connections per second (default 0: as fast as possible)\n"
    "  --hold S            seconds to keep them open (storm default 0; hold default 0 = until\n"
    "                      SIGINT/SIGTERM)\n"
    "\n"
    "provision, cleanup (control plane: FLEETYARD_ENDPOINT, AWS_ACCESS_KEY_ID,\n"
    "AWS_SECRET_ACCESS_KEY, AWS_DEFAULT_REGION from the environment, as . data/env.sh sets):\n"
    "  --state DIR         the simulator's directory: devices.txt, certs/<thing>.crt|key|arn\n"
    "  --count N           devices (provision: required; devices, rr: default all in DIR)\n"
    "  --id-offset N       first device index (provision) or first device of DIR (devices, rr)\n"
    "  --name PATTERN      thing names, %d = device index (default sim-%d)\n"
    "  --thing-type T      thing type (created when missing)\n"
    "  --attr K=TEMPLATE   an attribute, repeatable; in TEMPLATE %d = index, %mN = index mod N,\n"
    "                      %rN = a pseudo-random 0..N-1 fixed per index, %% = %\n"
    "  --group G           add every thing to static group G (created when missing), repeatable\n"
    "  --policy NAME       IoT policy attached to every certificate (default fleetyard-sim;\n"
    "                      created when missing: connect as the thing, use $aws/things/<thing>/*\n"
    "                      and device/<thing>/*)\n"
    "  --policy-file F     document for the policy when it must be created\n"
    "  --csr               make each device's key here (EC P-256) and get its certificate with\n"
    "                      CreateCertificateFromCsr instead of CreateKeysAndCertificate (the\n"
    "                      server then generates no RSA key: much faster for large fleets)\n"
    "  --endpoint URL      control plane (default $FLEETYARD_ENDPOINT; http:// only)\n"
    "  --region R          signing region (default $AWS_DEFAULT_REGION)\n"
    "\n"
    "devices (with --host, --port, --cafile; no --cert/--key: each device uses its own):\n"
    "  --duration S        run S seconds (default 10; 0 = until SIGINT/SIGTERM)\n"
    "  --rate R            (re)connections per second (default 0: as fast as --concurrency\n"
    "                      allows)\n"
    "  --shadow-interval S report temperature and battery (drifting) every S s (default 0: no)\n"
    "  --telemetry-rate R  messages/s per device on device/<thing>/telemetry (default 0)\n"
    "  --jobs              jobs agent: notify-next -> start-next -> work -> update\n"
    "  --job-work S        seconds a job takes (default 1)\n"
    "  --job-jitter F      work time uniform in S * [1-F, 1+F] (default 0: exactly S)\n"
    "  --job-fail P, --job-reject P\n"
    "                      probability of finishing FAILED / REJECTED (default 0)\n"
    "  --job-timeout P     probability of never finishing (the job times out on the server)\n"
    "  --job-drop P        probability of disconnecting mid-job (then reconnect and resume)\n"
    "  --backoff-min S, --backoff-max S\n"
    "                      reconnect delay, doubled per failed attempt, with 50-150% jitter\n"
    "                      (default 1 and 30)\n"
    "  --event-log F       job events, one line each: <epoch ns> "
    "notify|start|send|done|drop|silent\n"
    "                      <thing> <jobId> <status>\n"
    "\n"
    "rr:\n"
    "  --rr shadow|echo    the round trip (required); --duration S measured (default 10)\n"
    "  --rate R            requests/s per device (default 0: next request when the answer\n"
    "                      arrives); --qos Q of the requests and of the subscription to\n"
    "                      the answers (default 0)\n"
    "\n"
    "output:\n"
    "  --json              one JSON object per line instead of text (hold and storm print one\n"
    "                      when connected, with \"phase\":\"connected\", and one at the end)\n"
    "  --quiet             no progress lines on stderr\n"
    "  -h, --help          this text\n"
    "\n"
    "Exit status: 0 done, 1 some connections were refused or failed, 2 usage or set-up error.\n"
    "Thousands of clients need a high descriptor limit (ulimit -n); the simulator raises its\n"
    "soft limit to the hard one and uses one descriptor per client.\n"
    "\n"
    "examples:\n"
    "  . data/env.sh\n"
    "  fleetyard-sim throughput --port $FLEETYARD_MQTT_PORT --cafile $FLEETYARD_ROOT_CA \\\n"
    "      --cert dev.crt --key dev.key --publishers 10 --subscribers 10 --qos 1 --duration 10\n"
    "  fleetyard-sim storm --clients 2000 --rate 500 --cafile ca.crt --cert a.crt --key a.key \\\n"
    "      --cert b.crt --key b.key --json\n"
    "  fleetyard-sim hold --clients 5000 --cafile ca.crt --cert dev.crt --key dev.key &\n"
    "  fleetyard-sim provision --state sim --count 1000 --thing-type sensor \\\n"
    "      --attr site=plant-%m4 --attr serial=SN%d --group fleet\n"
    "  fleetyard-sim devices --state sim --port $FLEETYARD_MQTT_PORT --cafile $FLEETYARD_ROOT_CA "
    "\\\n"
    "      --host localhost --shadow-interval 10 --jobs --job-work 5 --job-fail 0.05 --duration 0\n"
    "  fleetyard-sim rr --state sim --port $FLEETYARD_MQTT_PORT --cafile $FLEETYARD_ROOT_CA \\\n"
    "      --host localhost --rr shadow --duration 10\n"
    "  fleetyard-sim cleanup --state sim\n";

/* One row per option: where its value goes and what it may be. */
enum opt_kind { K_STR, K_UINT, K_INT, K_SECS, K_FLAG, K_CERT, K_KEY, K_ATTR, K_GROUP };

struct opt_spec {
    const char *name;
    enum opt_kind kind;
    size_t off; /* into struct sim_opts */
    int64_t min, max;
};

#define OPT(name, kind, field, min, max)                       \
    {                                                          \
        name, kind, offsetof(struct sim_opts, field), min, max \
    }

static const struct opt_spec specs[] = {
    OPT("host", K_STR, host, 0, 0),
    OPT("port", K_INT, port, 1, 65535),
    OPT("cafile", K_STR, cafile, 0, 0),
    OPT("cert", K_CERT, certs, 0, 0),
    OPT("key", K_KEY, keys, 0, 0),
    OPT("id", K_STR, id_pattern, 0, 0),
    OPT("id-offset", K_UINT, id_offset, 0, 100000000),
    OPT("keepalive", K_UINT, keepalive, 5, 65535),
    OPT("concurrency", K_UINT, concurrency, 1, 100000),
    OPT("connect-timeout", K_SECS, connect_timeout, 0, 0),
    OPT("publishers", K_UINT, publishers, 0, 100000),
    OPT("subscribers", K_UINT, subscribers, 0, 100000),
    OPT("topic", K_STR, topic_pattern, 0, 0),
    OPT("sub-filter", K_STR, sub_filter, 0, 0),
    OPT("size", K_UINT, size, SIM_PAYLOAD_MIN, SIM_PAYLOAD_MAX),
    OPT("qos", K_INT, qos, 0, 1),
    OPT("duration", K_SECS, duration, 0, 0),
    OPT("inflight", K_UINT, inflight, 1, 65535),
    OPT("rate", K_SECS, rate, 0, 0),
    OPT("clients", K_UINT, clients, 1, 1000000),
    OPT("hold", K_SECS, hold, 0, 0),
    OPT("json", K_FLAG, json, 0, 0),
    OPT("quiet", K_FLAG, quiet, 0, 0),
    OPT("state", K_STR, state_dir, 0, 0),
    OPT("endpoint", K_STR, endpoint, 0, 0),
    OPT("region", K_STR, region, 0, 0),
    OPT("name", K_STR, name_pattern, 0, 0),
    OPT("thing-type", K_STR, thing_type, 0, 0),
    OPT("attr", K_ATTR, attrs, 0, 0),
    OPT("group", K_GROUP, groups, 0, 0),
    OPT("policy", K_STR, policy, 0, 0),
    OPT("policy-file", K_STR, policy_file, 0, 0),
    OPT("count", K_UINT, count, 0, 1000000),
    OPT("csr", K_FLAG, csr, 0, 0),
    OPT("shadow-interval", K_SECS, shadow_interval, 0, 0),
    OPT("telemetry-rate", K_SECS, telemetry_rate, 0, 0),
    OPT("jobs", K_FLAG, jobs, 0, 0),
    OPT("job-work", K_SECS, job_work, 0, 0),
    OPT("job-jitter", K_SECS, job_jitter, 0, 0),
    OPT("job-fail", K_SECS, p_fail, 0, 0),
    OPT("job-reject", K_SECS, p_reject, 0, 0),
    OPT("job-timeout", K_SECS, p_timeout, 0, 0),
    OPT("job-drop", K_SECS, p_drop, 0, 0),
    OPT("backoff-min", K_SECS, backoff_min, 0, 0),
    OPT("backoff-max", K_SECS, backoff_max, 0, 0),
    OPT("rr", K_STR, rr, 0, 0),
    OPT("event-log", K_STR, event_log, 0, 0),
};

#define N_SPECS (sizeof(specs) / sizeof(specs[0]))

static void defaults(struct sim_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->host = "127.0.0.1";
    o->port = 8883;
    o->id_pattern = "bench-%d";
    o->topic_pattern = "bench/%d";
    o->keepalive = 60;
    o->clients = 1000;
    o->publishers = 10;
    o->subscribers = 10;
    o->size = 64;
    o->inflight = 64;
    o->concurrency = 100;
    o->duration = 10;
    o->connect_timeout = 30;
    o->name_pattern = "sim-%d";
    o->policy = "fleetyard-sim";
    o->job_work = 1;
    o->backoff_min = 1;
    o->backoff_max = 30;
}

/* A non-negative number of seconds (or a rate). */
static int parse_seconds(const char *v, double *out)
{
    char *end = NULL;
    double d = strtod(v, &end);
    if (!end || end == v || *end || d < 0 || d > 1e7) {
        return -1;
    }
    *out = d;
    return 0;
}

/* Appends v to a --cert, --key, --attr or --group list. */
static int add_file(struct sim_opts *o, enum opt_kind kind, const char *v)
{
    const char **lists[] = {o->certs, o->keys, o->attrs, o->groups};
    size_t *counts[] = {&o->n_certs, &o->n_keys, &o->n_attrs, &o->n_groups};
    const size_t caps[] = {SIM_MAX_CERTS, SIM_MAX_CERTS, SIM_MAX_ATTRS, SIM_MAX_GROUPS};
    size_t k = (size_t)(kind - K_CERT);
    if (*counts[k] == caps[k]) {
        return -1;
    }
    lists[k][(*counts[k])++] = v;
    return 0;
}

/* Cross-option checks; -1 with a message. */
static int check(const struct sim_opts *o)
{
    double p = o->p_fail + o->p_reject + o->p_timeout + o->p_drop;
    if (p > 1 || o->backoff_min <= 0 || o->backoff_max < o->backoff_min || o->job_jitter > 1) {
        fprintf(stderr, "fleetyard-sim: --job-fail/-reject/-timeout/-drop must add up to at most "
                        "1, --job-jitter at most 1, and 0 < --backoff-min <= --backoff-max\n");
        return -1;
    }
    return 0;
}

/* Applies one option; -1 when its value is invalid. */
static int apply(struct sim_opts *o, const struct opt_spec *sp, const char *v)
{
    char *field = (char *)o + sp->off;
    int64_t n = 0;
    if (sp->kind == K_UINT || sp->kind == K_INT) {
        if (fy_parse_i64_full(v, sp->min, sp->max, &n) != 0) {
            return -1;
        }
    }
    switch (sp->kind) {
    case K_STR:
        memcpy(field, &v, sizeof(v));
        return 0;
    case K_UINT:
        *(unsigned *)(void *)field = (unsigned)n;
        return 0;
    case K_INT:
        *(int *)(void *)field = (int)n;
        return 0;
    case K_SECS:
        return parse_seconds(v, (double *)(void *)field);
    case K_FLAG:
        *(bool *)(void *)field = true;
        return 0;
    default:
        return add_file(o, sp->kind, v);
    }
}

static const struct mode *find_mode(const char *name)
{
    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
        if (strcmp(modes[i].name, name) == 0) {
            return &modes[i];
        }
    }
    return NULL;
}

static int usage(FILE *f, int status)
{
    fputs(usage_text, f);
    return status;
}

/* getopt_long's table from specs (val = row index), plus --help. */
static void build_long_opts(struct option *lo)
{
    for (size_t i = 0; i < N_SPECS; i++) {
        lo[i] = (struct option){
            specs[i].name, specs[i].kind == K_FLAG ? no_argument : required_argument, NULL, (int)i};
    }
    lo[N_SPECS] = (struct option){"help", no_argument, NULL, 'h'};
    lo[N_SPECS + 1] = (struct option){NULL, 0, NULL, 0};
}

/* Parses argv after the mode; 0, 1 (--help shown) or -1 (error printed). */
static int parse(int argc, char **argv, struct sim_opts *o)
{
    struct option lo[N_SPECS + 2];
    int id;
    build_long_opts(lo);
    while ((id = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
        if (id == 'h') {
            return 1;
        }
        if (id == '?' || (size_t)id >= N_SPECS) {
            return -1;
        }
        if (apply(o, &specs[id], optarg) != 0) {
            fprintf(stderr, "fleetyard-sim: bad value '%s' for --%s\n", optarg, specs[id].name);
            return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "fleetyard-sim: unexpected argument '%s'\n", argv[optind]);
        return -1;
    }
    return check(o);
}

static void on_signal(int sig)
{
    (void)sig;
    sim_stop_requested = 1;
}

static void install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

int main(int argc, char **argv)
{
    struct sim_opts o;
    defaults(&o);
    if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        return usage(argc < 2 ? stderr : stdout, argc < 2 ? 2 : 0);
    }
    const struct mode *m = find_mode(argv[1]);
    if (!m) {
        fprintf(stderr, "fleetyard-sim: unknown mode '%s'\n", argv[1]);
        return usage(stderr, 2);
    }
    o.mode = m->name;
    int rc = parse(argc - 1, argv + 1, &o);
    if (rc != 0) {
        return rc > 0 ? usage(stdout, 0) : 2;
    }
    fy_json_init();
    install_signals();
    return m->run(&o);
}
