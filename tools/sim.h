/* fleetyard-sim: the device simulator and MQTT load generator (internal header).
 *
 * One process, one thread: every simulated device is a non-threaded libmosquitto client whose
 * socket is watched by one epoll loop (sim_loop.c), which calls mosquitto_loop_read/write/misc
 * itself. A mode (a row of the table in sim_main.c) sets up clients, gets a tick on every loop
 * pass to start connections or publish, and reports at the end. Behaviours added later
 * (provisioning, shadow reporting, a jobs agent) are more modes or per-client roles on the same
 * loop.
 *
 * Not thread-safe; nothing here is shared with the server.
 */
#ifndef FY_TOOLS_SIM_H
#define FY_TOOLS_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define SIM_MAX_CERTS   64
#define SIM_PATTERN_MAX 256
#define SIM_PAYLOAD_MIN 16 /* send time (8 bytes) + publisher index (4) + sequence (4) */
#define SIM_PAYLOAD_MAX (128 * 1024)
#define SIM_MAX_ATTRS   16
#define SIM_MAX_GROUPS  8
#define SIM_NAME_MAX    129 /* thing name (128) + NUL */

struct mosquitto;
struct mosquitto_message;
struct ssl_ctx_st;

/* ---- options (sim_main.c) ---- */

struct sim_opts {
    const char *mode;
    const char *host;
    int port;
    const char *cafile;
    const char *certs[SIM_MAX_CERTS]; /* --cert, paired in order with --key */
    const char *keys[SIM_MAX_CERTS];
    size_t n_certs, n_keys;
    const char *id_pattern;    /* client ids, %d = client index */
    const char *topic_pattern; /* topics, %d = topic index */
    const char *sub_filter;    /* subscription filter; NULL = topic of the subscriber's index */
    unsigned id_offset;        /* first client index */
    unsigned keepalive;        /* seconds */
    unsigned clients;          /* storm, hold */
    unsigned publishers, subscribers;
    unsigned size; /* payload bytes */
    int qos;
    unsigned inflight;    /* per publisher: messages handed to the library, not yet sent/acked */
    double rate;          /* storm: connections/s; throughput: msgs/s per publisher; 0 = max */
    unsigned concurrency; /* connections being set up at once */
    double duration;      /* throughput: measured seconds */
    double hold;          /* storm/hold: seconds to keep connections open; hold 0 = until signal */
    double connect_timeout; /* seconds */
    bool json;
    bool quiet;
    /* provisioning (sim_provision.c) and devices (sim_device.c) */
    const char *state_dir;            /* the simulator's own directory of devices */
    const char *endpoint;             /* control plane; default $FLEETYARD_ENDPOINT */
    const char *region;               /* default $AWS_DEFAULT_REGION */
    const char *name_pattern;         /* thing names, %d = device index (default sim-%d) */
    const char *thing_type;           /* NULL = none */
    const char *attrs[SIM_MAX_ATTRS]; /* key=value templates */
    size_t n_attrs;
    const char *groups[SIM_MAX_GROUPS];
    size_t n_groups;
    const char *policy;      /* policy attached to every certificate */
    const char *policy_file; /* its document when it must be created; NULL = built in */
    unsigned count;          /* devices */
    bool csr;                /* key pair made here, CreateCertificateFromCsr */
    double shadow_interval;  /* s between shadow reports; 0 = none */
    double telemetry_rate;   /* msgs/s per device; 0 = none */
    bool jobs;               /* run the jobs agent */
    double job_work;         /* seconds a job takes */
    double job_jitter;       /* fraction: work is uniform in job_work * [1 - j, 1 + j] */
    double p_fail, p_reject, p_timeout, p_drop; /* job outcomes besides SUCCEEDED */
    double backoff_min, backoff_max;            /* reconnect back-off, seconds */
    const char *rr;                             /* rr mode: "shadow" or "echo" */
    const char *event_log;                      /* devices: job events, one line each */
};

/* ---- latency histogram (sim_hist.c): HdrHistogram-style log-linear buckets ----
 * Values are nanoseconds; each power of two above 128 is split into 64 buckets, so a bucket is
 * at most 1/64 (1.6%) wide relative to its value. */
#define SIM_HIST_BUCKETS (128 + 64 * 40)

struct sim_hist {
    uint64_t count, min, max;
    double sum;
    uint64_t buckets[SIM_HIST_BUCKETS];
};

void sim_hist_init(struct sim_hist *h);
void sim_hist_record(struct sim_hist *h, uint64_t ns);
/* The value (ns, upper edge of its bucket) at or below which q (0..1) of the values fall;
 * 0 when empty. */
uint64_t sim_hist_quantile(const struct sim_hist *h, double q);
/* {"count","min_us","mean_us","p50_us","p90_us","p99_us","p999_us","max_us"}: a new reference,
 * NULL on allocation failure. */
json_t *sim_hist_to_json(const struct sim_hist *h);
/* One line "p50 1.23 ms  p90 ... max ..." into buf. */
void sim_hist_format(const struct sim_hist *h, char *buf, size_t n);

/* ---- TLS (sim_tls.c) ---- */

/* One SSL_CTX per --cert/--key pair, all trusting --cafile. Returns 0, or -1 with a message on
 * stderr. */
int sim_tls_load(const struct sim_opts *o, struct ssl_ctx_st **ctxs, size_t *n);
void sim_tls_free(struct ssl_ctx_st **ctxs, size_t n);
struct sim;
/* One SSL_CTX for the devices of --state: each handshake presents the certificate and key of
 * the client that owns the socket (s->by_fd), read from the state directory. 0 or -1. */
int sim_tls_load_devices(struct sim *s);

/* ---- the loop and its clients (sim_loop.c) ---- */

enum sim_state { SIM_IDLE, SIM_CONNECTING, SIM_CONNECTED, SIM_REFUSED, SIM_FAILED, SIM_CLOSED };
enum sim_role { SIM_ROLE_DEVICE, SIM_ROLE_PUBLISHER, SIM_ROLE_SUBSCRIBER };

struct sim;

struct sim_client {
    struct sim *sim;
    struct mosquitto *mosq;
    unsigned index; /* client index (before id_offset) */
    enum sim_role role;
    enum sim_state state;
    int fd;            /* registered socket, -1 when none */
    uint32_t events;   /* registered epoll events */
    bool tcp_up;       /* the socket became writable once (TCP connected) */
    uint64_t t_start;  /* connect start (monotonic ns) */
    bool subscribed;   /* SUBACK received */
    unsigned inflight; /* publishes not yet reported sent (QoS 0) or acked (QoS 1) */
    uint32_t seq;
    uint64_t next_pub; /* rate limit: monotonic ns of the next publish */
};

/* Counters and histograms a mode reads. */
struct sim_stats {
    unsigned connecting, connected, refused, failed, closed;
    uint64_t t_first_start, t_last_connack;
    struct sim_hist connect_lat;
    bool measuring; /* throughput: messages sent in [t_measure_start, t_measure_end] count */
    uint64_t t_measure_start, t_measure_end;
    uint64_t published, sent, received, received_late;
    struct sim_hist msg_lat;
};

/* A mode's reactions to client events (all optional). */
struct sim_hooks {
    void (*connected)(struct sim_client *c);  /* CONNACK accepted */
    void (*subscribed)(struct sim_client *c); /* SUBACK */
    void (*message)(struct sim_client *c, const struct mosquitto_message *m);
};

struct sim {
    const struct sim_opts *o;
    const struct sim_hooks *hooks; /* NULL: the throughput/storm behaviour */
    void *mode_data;
    char (*ids)[SIM_NAME_MAX]; /* client ids (thing names); NULL: --id pattern */
    struct sim_client **by_fd; /* socket -> client, for the per-device certificate */
    size_t by_fd_n;
    struct sim_client *connecting_now; /* set during mosquitto_connect_async */
    struct ssl_ctx_st *ctxs[SIM_MAX_CERTS];
    size_t n_ctxs;
    int epfd;
    struct sim_client *clients;
    unsigned n_clients;
    struct sim_stats st;
    uint64_t last_misc; /* last mosquitto_loop_misc sweep */
};

/* Set when SIGINT/SIGTERM arrives. */
extern volatile int sim_stop_requested;

/* Creates n clients (roles DEVICE) with their mosquitto handles; 0 or -1 (message printed). */
int sim_init(struct sim *s, const struct sim_opts *o, unsigned n);
/* Disconnects every client, flushes for up to a second and frees everything. */
void sim_destroy(struct sim *s);
/* Starts connecting client c; 0 or -1 (client marked FAILED). */
int sim_connect(struct sim_client *c);
/* One loop pass: waits up to timeout_ms for socket events and services them, runs keep-alive
 * and connect timeouts. */
void sim_poll(struct sim *s, int timeout_ms);
/* Re-registers c's socket for writing when the library has queued output. */
void sim_sync_events(struct sim_client *c);
/* Expands pattern ("%d" = n, "%%" = '%') into buf; -1 when it does not fit. */
int sim_expand(const char *pattern, unsigned n, char *buf, size_t size);
/* Starts up to the rate/concurrency allowance of clients [*next, end) and advances *next. */
void sim_connect_paced(struct sim *s, unsigned *next, unsigned end, uint64_t t0);
/* Runs the loop until every client in [0, n) has finished connecting (or failed), the
 * deadline passes or a stop is requested. */
void sim_connect_all(struct sim *s, unsigned n);
/* Loops for seconds (0 = until a signal). */
void sim_idle(struct sim *s, double seconds);

uint64_t sim_now(void);

/* ---- modes ---- */

int sim_mode_throughput(const struct sim_opts *o);
int sim_mode_storm(const struct sim_opts *o);
int sim_mode_hold(const struct sim_opts *o);
int sim_mode_provision(const struct sim_opts *o);
int sim_mode_cleanup(const struct sim_opts *o);
int sim_mode_devices(const struct sim_opts *o);
int sim_mode_rr(const struct sim_opts *o);

/* A progress line on stderr ("what done/total (rate/s, secs)"), at most once a second unless
 * final; carriage-return updates on a terminal, one line each otherwise; nothing with quiet. */
void sim_progress(const struct sim_opts *o,
                  const char *what,
                  uint64_t done,
                  uint64_t total,
                  uint64_t t0,
                  uint64_t *last,
                  bool final);

/* ---- report (sim_report.c) ---- */

/* Prints j (a new reference, consumed) as one compact JSON line, or nothing when NULL. */
int sim_report_json(json_t *j);
/* The common connection fields {"clients","connected","refused","failed","seconds",
 * "connections_per_s","connect_latency"}. New reference or NULL. */
json_t *sim_connect_json(const struct sim *s);
/* Prints the connection summary lines. */
void sim_connect_print(const struct sim *s);

#endif
