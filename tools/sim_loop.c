/* fleetyard-sim: the clients and the one epoll loop that drives them.
 *
 * Each client is a non-threaded libmosquitto handle. mosquitto_connect_async starts a
 * non-blocking TCP connect and the TLS handshake; the loop then calls mosquitto_loop_read on
 * every event until CONNACK (while the handshake runs, loop_read is what advances it) and
 * mosquitto_loop_write to send what the library queued. A socket is watched for writing only
 * until TCP connects and, once connected, only while the library has output queued (level
 * triggered), so idle connections cost nothing per pass. Keep-alive (mosquitto_loop_misc) and
 * connect time-outs are swept once a second.
 *
 * libmosquitto opens a socket pair per handle to wake its threaded loop and writes a byte into
 * it on every publish; a non-threaded client never reads it. sim_init creates the handles while
 * the descriptor limit is lowered so that socket pair fails (the library goes on without it):
 * one descriptor per client instead of three, and one system call less per message.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <unistd.h>

#include <mosquitto.h>
#include <openssl/ssl.h>

#include "core/alloc.h"
#include "core/fytime.h"
#include "tools/sim.h"

#define EVENTS_PER_PASS 512
#define READS_PER_EVENT 64
#define NS_PER_S        1000000000ull

volatile int sim_stop_requested;

uint64_t sim_now(void)
{
    return fy_mono_ns();
}

int sim_expand(const char *pattern, unsigned n, char *buf, size_t size)
{
    size_t len = 0;
    for (const char *p = pattern; *p; p++) {
        char piece[16] = {*p, 0};
        if (p[0] == '%' && p[1] == 'd') {
            snprintf(piece, sizeof(piece), "%u", n);
            p++;
        } else if (p[0] == '%' && p[1] == '%') {
            p++;
        }
        size_t k = strlen(piece);
        if (len + k >= size) {
            return -1;
        }
        memcpy(buf + len, piece, k);
        len += k;
    }
    buf[len] = '\0';
    return 0;
}

/* The socket is gone (closed by the library): account for the end of the client. */
static void client_ended(struct sim_client *c)
{
    struct sim_stats *st = &c->sim->st;
    if (c->state == SIM_CONNECTING) {
        st->connecting--;
        st->failed++;
        c->state = SIM_FAILED;
    } else if (c->state == SIM_CONNECTED) {
        st->connected--;
        st->closed++;
        c->state = SIM_CLOSED;
    }
    c->fd = -1; /* closing the descriptor removed it from the epoll set */
    c->events = 0;
}

static void subscribe(struct sim_client *c)
{
    const struct sim_opts *o = c->sim->o;
    char topic[SIM_PATTERN_MAX];
    const char *filter = o->sub_filter;
    if (!filter) {
        if (sim_expand(o->topic_pattern, c->index - o->publishers, topic, sizeof(topic))) {
            return;
        }
        filter = topic;
    }
    if (mosquitto_subscribe(c->mosq, NULL, filter, o->qos) != MOSQ_ERR_SUCCESS) {
        fprintf(stderr, "fleetyard-sim: cannot subscribe to %s\n", filter);
    }
}

static void on_connect(struct mosquitto *mosq, void *obj, int rc)
{
    struct sim_client *c = obj;
    struct sim_stats *st = &c->sim->st;
    (void)mosq;
    if (c->state != SIM_CONNECTING) {
        return;
    }
    st->connecting--;
    if (rc != 0) {
        c->state = SIM_REFUSED;
        st->refused++;
        return;
    }
    uint64_t now = sim_now();
    c->state = SIM_CONNECTED;
    st->connected++;
    st->t_last_connack = now;
    sim_hist_record(&st->connect_lat, now - c->t_start);
    if (c->sim->hooks && c->sim->hooks->connected) {
        c->sim->hooks->connected(c);
    } else if (c->role == SIM_ROLE_SUBSCRIBER) {
        subscribe(c);
    }
}

static void on_disconnect(struct mosquitto *mosq, void *obj, int rc)
{
    (void)mosq;
    (void)rc;
    client_ended(obj);
}

static void on_subscribe(struct mosquitto *mosq, void *obj, int mid, int n, const int *granted)
{
    struct sim_client *c = obj;
    (void)mosq;
    (void)mid;
    c->subscribed = n > 0 && granted[0] >= 0 && granted[0] <= 2;
    if (c->sim->hooks && c->sim->hooks->subscribed) {
        c->sim->hooks->subscribed(c);
    }
}

/* A publisher's window slot comes back: QoS 1 on PUBACK, QoS 0 when a subscriber got the
 * message (or when it was written, if nobody subscribes). */
static void release_slot(struct sim_client *c)
{
    if (c->inflight > 0) {
        c->inflight--;
    }
}

static void on_publish(struct mosquitto *mosq, void *obj, int mid)
{
    struct sim_client *c = obj;
    const struct sim_opts *o = c->sim->o;
    (void)mosq;
    (void)mid;
    if (o->qos > 0 || o->subscribers == 0) {
        release_slot(c);
    }
    c->sim->st.sent++;
}

static void on_message(struct mosquitto *mosq, void *obj, const struct mosquitto_message *m)
{
    struct sim_client *c = obj;
    struct sim_stats *st = &c->sim->st;
    uint64_t sent_at;
    (void)mosq;
    if (c->sim->hooks && c->sim->hooks->message) {
        c->sim->hooks->message(c, m);
        return;
    }
    if (m->payloadlen < SIM_PAYLOAD_MIN) {
        return;
    }
    uint32_t from;
    memcpy(&sent_at, m->payload, sizeof(sent_at));
    memcpy(&from, (const char *)m->payload + 8, sizeof(from));
    if (c->sim->o->qos == 0 && from < c->sim->o->publishers && from < c->sim->n_clients) {
        release_slot(&c->sim->clients[from]);
    }
    if (st->measuring && sent_at >= st->t_measure_start && sent_at <= st->t_measure_end) {
        st->received++;
        sim_hist_record(&st->msg_lat, sim_now() - sent_at);
    } else {
        st->received_late++;
    }
}

void sim_sync_events(struct sim_client *c)
{
    int fd = mosquitto_socket(c->mosq);
    if (fd < 0) {
        client_ended(c);
        return;
    }
    uint32_t want = EPOLLIN;
    if (c->state == SIM_CONNECTING ? !c->tcp_up : mosquitto_want_write(c->mosq)) {
        want |= EPOLLOUT;
    }
    if (fd == c->fd && want == c->events) {
        return;
    }
    struct epoll_event ev = {.events = want, .data.ptr = c};
    int op = fd == c->fd ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    if (epoll_ctl(c->sim->epfd, op, fd, &ev) != 0) {
        fprintf(stderr, "fleetyard-sim: epoll_ctl: %s\n", strerror(errno));
        return;
    }
    c->fd = fd;
    c->events = want;
    if (c->sim->by_fd && (size_t)fd < c->sim->by_fd_n) {
        c->sim->by_fd[fd] = c;
    }
}

/* Gives up on a connection: no more events (mosquitto_destroy closes the socket). */
static void abandon(struct sim_client *c)
{
    if (c->fd >= 0) {
        epoll_ctl(c->sim->epfd, EPOLL_CTL_DEL, c->fd, NULL);
    }
    client_ended(c);
}

/* mosquitto_loop_read handles one packet per call when nothing is queued (its max_packets
 * argument is recomputed inside): call it until the socket would block (net__read leaves
 * errno EAGAIN then), at most READS_PER_EVENT times so one busy client cannot starve others. */
static int read_some(struct sim_client *c)
{
    int rc = MOSQ_ERR_SUCCESS;
    for (int i = 0; i < READS_PER_EVENT && rc == MOSQ_ERR_SUCCESS && c->fd >= 0; i++) {
        errno = 0;
        rc = mosquitto_loop_read(c->mosq, 1);
        if (errno == EAGAIN || errno == EWOULDBLOCK || c->state == SIM_CONNECTING) {
            break;
        }
    }
    return rc;
}

/* Services one socket event. */
static void service(struct sim_client *c, uint32_t events)
{
    int rc = MOSQ_ERR_SUCCESS;
    if (c->state == SIM_CONNECTING && (events & EPOLLOUT)) {
        c->tcp_up = true;
    }
    if (events & (EPOLLIN | EPOLLERR | EPOLLHUP) || c->state == SIM_CONNECTING) {
        rc = read_some(c);
    }
    if (rc == MOSQ_ERR_SUCCESS && c->fd >= 0 && (events & EPOLLOUT || c->state == SIM_CONNECTING)) {
        rc = mosquitto_loop_write(c->mosq, 1);
    }
    if (rc != MOSQ_ERR_SUCCESS || c->fd < 0) {
        client_ended(c);
        return;
    }
    if (c->state == SIM_CONNECTING && events & (EPOLLERR | EPOLLHUP)) {
        abandon(c); /* refused or reset: the library would retry the handshake forever */
        return;
    }
    sim_sync_events(c);
}

int sim_connect(struct sim_client *c)
{
    const struct sim_opts *o = c->sim->o;
    struct sim_stats *st = &c->sim->st;
    c->t_start = sim_now();
    if (st->t_first_start == 0) {
        st->t_first_start = c->t_start;
    }
    c->state = SIM_CONNECTING;
    c->tcp_up = false;
    st->connecting++;
    c->sim->connecting_now = c;
    int rc = mosquitto_connect_async(c->mosq, o->host, o->port, (int)o->keepalive);
    c->sim->connecting_now = NULL;
    if (rc != MOSQ_ERR_SUCCESS) {
        if (st->failed == 0) {
            fprintf(stderr, "fleetyard-sim: connect: %s\n", mosquitto_strerror(rc));
        }
        client_ended(c);
        return -1;
    }
    sim_sync_events(c);
    return 0;
}

/* Once a second: keep-alive for everyone, and time-outs for connects that hang. */
static void sweep(struct sim *s, uint64_t now)
{
    uint64_t limit = (uint64_t)(s->o->connect_timeout * (double)NS_PER_S);
    for (unsigned i = 0; i < s->n_clients; i++) {
        struct sim_client *c = &s->clients[i];
        if (c->state == SIM_CONNECTED) {
            mosquitto_loop_misc(c->mosq);
            sim_sync_events(c);
        } else if (c->state == SIM_CONNECTING && now - c->t_start > limit) {
            abandon(c);
        }
    }
    s->last_misc = now;
}

void sim_poll(struct sim *s, int timeout_ms)
{
    struct epoll_event ev[EVENTS_PER_PASS];
    int n = epoll_wait(s->epfd, ev, EVENTS_PER_PASS, timeout_ms);
    for (int i = 0; i < n; i++) {
        service(ev[i].data.ptr, ev[i].events);
    }
    uint64_t now = sim_now();
    if (now - s->last_misc >= NS_PER_S) {
        sweep(s, now);
    }
}

void sim_connect_paced(struct sim *s, unsigned *next, unsigned end, uint64_t t0)
{
    const struct sim_opts *o = s->o;
    uint64_t now = sim_now();
    while (*next < end && s->st.connecting < o->concurrency) {
        if (o->rate > 0 && (double)(now - t0) < (double)*next * 1e9 / o->rate) {
            break;
        }
        sim_connect(&s->clients[*next]);
        (*next)++;
    }
}

void sim_connect_all(struct sim *s, unsigned n)
{
    unsigned next = 0;
    uint64_t t0 = sim_now();
    while (!sim_stop_requested && (next < n || s->st.connecting > 0)) {
        sim_connect_paced(s, &next, n, t0);
        sim_poll(s, s->o->rate > 0 ? 1 : 10);
    }
}

void sim_idle(struct sim *s, double seconds)
{
    uint64_t end = sim_now() + (uint64_t)(seconds * (double)NS_PER_S);
    while (!sim_stop_requested && (seconds <= 0 || sim_now() < end)) {
        sim_poll(s, 100);
    }
}

/* The lowest free descriptor number: a limit there makes the next socketpair() fail. */
static rlim_t lowest_free_fd(void)
{
    int fd = dup(0);
    if (fd < 0) {
        return 0;
    }
    close(fd);
    return (rlim_t)fd;
}

/* mosquitto_new for every client, without the library's per-handle socket pair. */
static int new_handles(struct sim *s)
{
    struct rlimit saved, low;
    bool lowered = getrlimit(RLIMIT_NOFILE, &saved) == 0;
    if (lowered) {
        low = saved;
        low.rlim_cur = lowest_free_fd();
        lowered = low.rlim_cur > 0 && setrlimit(RLIMIT_NOFILE, &low) == 0;
    }
    int rc = 0;
    for (unsigned i = 0; i < s->n_clients && rc == 0; i++) {
        struct sim_client *c = &s->clients[i];
        char id[SIM_PATTERN_MAX];
        if (s->ids) {
            memcpy(id, s->ids[i], SIM_NAME_MAX);
        } else if (sim_expand(s->o->id_pattern, s->o->id_offset + i, id, sizeof(id))) {
            rc = -1;
            break;
        }
        c->mosq = mosquitto_new(id, true, c);
        rc = c->mosq ? 0 : -1;
    }
    if (lowered) {
        setrlimit(RLIMIT_NOFILE, &saved);
    }
    return rc;
}

static void setup_handle(struct sim *s, struct sim_client *c)
{
    mosquitto_int_option(c->mosq, MOSQ_OPT_TCP_NODELAY, 1);
    mosquitto_int_option(c->mosq, MOSQ_OPT_SSL_CTX_WITH_DEFAULTS, 0); /* use ours as it is */
    mosquitto_void_option(c->mosq, MOSQ_OPT_SSL_CTX, s->ctxs[c->index % s->n_ctxs]);
    mosquitto_connect_callback_set(c->mosq, on_connect);
    mosquitto_disconnect_callback_set(c->mosq, on_disconnect);
    mosquitto_subscribe_callback_set(c->mosq, on_subscribe);
    mosquitto_publish_callback_set(c->mosq, on_publish);
    mosquitto_message_callback_set(c->mosq, on_message);
}

/* Raises the soft descriptor limit to the hard one (thousands of sockets). */
static void raise_fd_limit(void)
{
    struct rlimit r;
    if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
        r.rlim_cur = r.rlim_max;
        setrlimit(RLIMIT_NOFILE, &r);
    }
}

int sim_init(struct sim *s, const struct sim_opts *o, unsigned n)
{
    const struct sim_hooks *hooks = s->hooks;
    void *mode_data = s->mode_data;
    char(*ids)[SIM_NAME_MAX] = s->ids;
    memset(s, 0, sizeof(*s));
    s->hooks = hooks;
    s->mode_data = mode_data;
    s->ids = ids;
    s->o = o;
    s->epfd = -1;
    sim_hist_init(&s->st.connect_lat);
    sim_hist_init(&s->st.msg_lat);
    raise_fd_limit();
    mosquitto_lib_init();
    s->clients = fy_calloc(n ? n : 1, sizeof(*s->clients));
    s->epfd = epoll_create1(EPOLL_CLOEXEC);
    int tls = s->ids ? sim_tls_load_devices(s) : sim_tls_load(o, s->ctxs, &s->n_ctxs);
    if (!s->clients || s->epfd < 0 || tls) {
        fprintf(stderr, "fleetyard-sim: cannot set up %u clients\n", n);
        return -1;
    }
    s->n_clients = n;
    for (unsigned i = 0; i < n; i++) {
        s->clients[i] = (struct sim_client){.sim = s, .index = i, .fd = -1};
    }
    if (new_handles(s)) {
        fprintf(stderr, "fleetyard-sim: cannot create client handles (client id pattern?)\n");
        return -1;
    }
    for (unsigned i = 0; i < n; i++) {
        setup_handle(s, &s->clients[i]);
    }
    s->last_misc = sim_now();
    return 0;
}

/* Sends DISCONNECT on every live connection and gives the writes up to a second. */
static void disconnect_all(struct sim *s)
{
    for (unsigned i = 0; i < s->n_clients; i++) {
        struct sim_client *c = &s->clients[i];
        if (c->state == SIM_CONNECTING) {
            abandon(c);
        } else if (c->state == SIM_CONNECTED) {
            mosquitto_disconnect(c->mosq);
            sim_sync_events(c);
        }
    }
    uint64_t end = sim_now() + NS_PER_S;
    while ((s->st.connected > 0 || s->st.connecting > 0) && sim_now() < end) {
        sim_poll(s, 10);
    }
}

void sim_destroy(struct sim *s)
{
    if (s->clients) {
        disconnect_all(s);
        for (unsigned i = 0; i < s->n_clients; i++) {
            mosquitto_destroy(s->clients[i].mosq);
        }
        FY_FREE(s->clients);
    }
    sim_tls_free(s->ctxs, s->n_ctxs);
    FY_FREE(s->by_fd);
    if (s->epfd >= 0) {
        close(s->epfd);
    }
    mosquitto_lib_cleanup();
}
