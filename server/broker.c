#include "server/broker.h"

#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/log.h"
#include "server/config.h"
#include "server/datadir.h"

#define BACKOFF_MIN_MS   100
#define BACKOFF_MAX_MS   10000
#define STABLE_UPTIME_MS 30000 /* a run this long resets the back-off */
#define STOP_TIMEOUT_MS  10000 /* SIGTERM, then SIGKILL */
#define CONF_MAX         (64 * 1024)

struct fy_broker {
    char **envp;   /* mosquitto's environment (owned array, borrowed strings + preload) */
    char *preload; /* "LD_PRELOAD=..." for sanitizer builds, or NULL (owned) */
    char bin[FY_PATH_MAX];
    char conf[FY_PATH_MAX + 32];
    char probe_host[64];
    char probe_port[8];
    pthread_t thread;
    bool thread_started;
    pthread_mutex_t lock;
    pthread_cond_t cond; /* signalled on every change below */
    pid_t pid;           /* running child, 0 when none */
    unsigned exits;      /* children that ended */
    bool stopping;
    bool done; /* the supervisor thread has finished */
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits on b->cond for at most ms milliseconds (b->lock held). */
static void wait_ms(struct fy_broker *b, int64_t ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += (time_t)(ms / 1000);
    ts.tv_nsec += (long)(ms % 1000) * 1000000;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    pthread_cond_timedwait(&b->cond, &b->lock, &ts);
}

/* mosquitto's log_type lines for our log level. */
static const char *log_types(const char *level)
{
    if (strcmp(level, "error") == 0) {
        return "log_type error\n";
    }
    if (strcmp(level, "warn") == 0) {
        return "log_type error\nlog_type warning\n";
    }
    if (strcmp(level, "debug") == 0) {
        return "log_type all\n";
    }
    return "log_type error\nlog_type warning\nlog_type notice\nlog_type information\n";
}

/* `user NAME` keeping mosquitto as the current user (as root it would switch to "mosquitto",
 * which cannot read the 0700 data directory). */
static fy_err user_line(struct fy_buf *out)
{
    char buf[1024];
    struct passwd pw, *res = NULL;
    if (getpwuid_r(geteuid(), &pw, buf, sizeof(buf), &res) != 0 || !res) {
        return FY_ERR_OK;
    }
    return fy_buf_printf(out, "user %s\n", res->pw_name);
}

/* The configuration text (AWS: QoS 0/1, 128 KB payloads; see README). */
static fy_err conf_text(const struct fy_broker_opts *o, struct fy_buf *out)
{
    fy_err e = fy_buf_printf(
        out,
        "# written by fleetyard-server at every start: edits are overwritten\n"
        "per_listener_settings false\nallow_anonymous false\n"
        "persistence true\npersistence_location %s\n"
        "set_tcp_nodelay true\nmessage_size_limit 131072\n"
        "log_dest stderr\n%sconnection_messages true\n"
        "log_timestamp_format %%Y-%%m-%%dT%%H:%%M:%%S\n"
        "persistent_client_expiration %s\n"
        "plugin %s\nplugin_opt_database %s\nplugin_opt_region %s\nplugin_opt_account %s\n"
        "plugin_opt_log_level %s\nplugin_opt_link_secret %s\nplugin_opt_ca_dir %s/pki/cas\n"
        "plugin_opt_session_file %s/mosquitto.db\n",
        o->data_dir, log_types(o->log_level), FY_BROKER_SESSION_EXPIRY, o->plugin_path, o->db_path,
        o->site->region, o->site->account, o->log_level, o->link_secret, o->data_dir, o->data_dir);
    if (!e) {
        e = user_line(out);
    }
    if (!e) {
        e = fy_buf_printf(out,
                          "\nlistener %u %s\nmax_qos 1\n"
                          "cafile %s/pki/ca.crt\ncapath %s/pki/cas\ncertfile %s/pki/server.crt\n"
                          "keyfile %s/pki/server.key\n"
                          "require_certificate true\nuse_identity_as_username false\n",
                          o->port, o->bind_addr, o->data_dir, o->data_dir, o->data_dir,
                          o->data_dir);
    }
    if (!e) { /* the internal link: a unix socket inside the 0700 data directory */
        e = fy_buf_printf(out, "\nlistener 0 %s\nmax_qos 1\n", o->link_socket);
    }
    return e;
}

/* Refuses what mosquitto.conf cannot carry (line breaks) and files that are not there. */
static fy_err check_opts(const struct fy_broker_opts *o, struct fy_errmsg *em)
{
    const char *paths[] = {o->data_dir,  o->plugin_path, o->db_path,
                           o->bind_addr, o->link_socket, o->link_secret};
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        if (strpbrk(paths[i], "\r\n")) {
            return fy_fail(em, FY_ERR_INVALID_REQUEST, "line break in %.200s", paths[i]);
        }
    }
    if (access(o->plugin_path, R_OK) != 0) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST,
                       "broker plugin %.300s not found (build it, pass --plugin, or --no-broker)",
                       o->plugin_path);
    }
    if (access(o->mosquitto_bin, X_OK) != 0) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST, "mosquitto binary %.300s not found",
                       o->mosquitto_bin);
    }
    return FY_ERR_OK;
}

static fy_err write_conf(const struct fy_broker_opts *o, const char *path, struct fy_errmsg *em)
{
    char cas[FY_PATH_MAX + 16];
    snprintf(cas, sizeof(cas), "%s/pki/cas", o->data_dir);
    if (mkdir(cas, 0700) != 0 && errno != EEXIST) { /* the plugin fills it (cadir.c) */
        return fy_fail(em, FY_ERR_INTERNAL, "cannot create %.300s: %s", cas, strerror(errno));
    }
    struct fy_buf text;
    fy_buf_init(&text, CONF_MAX);
    fy_err e = conf_text(o, &text);
    if (e) {
        e = fy_fail(em, e, "mosquitto.conf too large");
    } else {
        e = fy_datadir_write_file(path, text.data, 0600, em);
    }
    fy_buf_free(&text);
    return e;
}

/* Sanitizer builds: the instrumented plugin needs the sanitizer runtimes, which must be loaded
 * before anything else in the uninstrumented mosquitto. Finds the libasan/libubsan this process
 * runs with (none in a release build) and returns "LD_PRELOAD=<asan>:<ubsan>[:<old>]" (owned)
 * or NULL. */
static char *sanitizer_preload(void)
{
    static const char *const runtimes[] = {"/libasan.so", "/libubsan.so"};
    char line[1024], found[2][512] = {"", ""};
    FILE *f = fopen("/proc/self/maps", "r");
    while (f && fgets(line, sizeof(line), f)) {
        char *path = strchr(line, '/');
        for (size_t i = 0; path && i < 2; i++) {
            path[strcspn(path, "\n")] = '\0';
            if (!found[i][0] && strstr(path, runtimes[i]) && strlen(path) < sizeof(found[i])) {
                memcpy(found[i], path, strlen(path) + 1);
            }
        }
    }
    if (f) {
        fclose(f);
    }
    if (!found[0][0] && !found[1][0]) {
        return NULL;
    }
    const char *old = getenv("LD_PRELOAD");
    struct fy_buf b;
    fy_buf_init(&b, 4096);
    if (fy_buf_printf(&b, "LD_PRELOAD=%s:%s%s%s", found[0], found[1], old ? ":" : "",
                      old ? old : "")) {
        fy_buf_free(&b);
        return NULL;
    }
    return b.data;
}

/* mosquitto's environment: ours, with the sanitizer preload when there is one. */
static fy_err child_env(struct fy_broker *b)
{
    extern char **environ;
    size_t n = 0;
    while (environ[n]) {
        n++;
    }
    b->preload = sanitizer_preload();
    b->envp = fy_calloc(n + 2, sizeof(char *));
    if (!b->envp) {
        return FY_ERR_NOMEM;
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (!b->preload || strncmp(environ[i], "LD_PRELOAD=", 11) != 0) {
            b->envp[k++] = environ[i];
        }
    }
    b->envp[k] = b->preload;
    return FY_ERR_OK;
}

/* In the child: default signal mask, die with the server, own process group, exec. Only
 * async-signal-safe calls. */
static void exec_child(const struct fy_broker *b, pid_t parent)
{
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) {
        _exit(127);
    }
    setpgid(0, 0);
    char *const argv[] = {(char *)b->bin, "-c", (char *)b->conf, NULL};
    execve(b->bin, argv, b->envp);
    _exit(127);
}

/* Starts one mosquitto (b->lock held); returns its pid or -1. */
static pid_t spawn(struct fy_broker *b)
{
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        exec_child(b, parent);
    }
    if (pid < 0) {
        fy_log(FY_LOG_ERROR, "broker", "cannot start mosquitto: %s", strerror(errno));
    }
    return pid;
}

static void log_exit(pid_t pid, int status)
{
    if (WIFSIGNALED(status)) {
        fy_log(FY_LOG_WARN, "broker", "mosquitto (pid %d) killed by signal %d", (int)pid,
               WTERMSIG(status));
    } else {
        fy_log(FY_LOG_WARN, "broker", "mosquitto (pid %d) exited with status %d", (int)pid,
               WEXITSTATUS(status));
    }
}

/* Runs one child to its end (b->lock held on entry and exit); false when spawning failed. */
static bool run_once(struct fy_broker *b)
{
    pid_t pid = spawn(b);
    if (pid < 0) {
        return false;
    }
    b->pid = pid;
    pthread_cond_broadcast(&b->cond);
    pthread_mutex_unlock(&b->lock);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    pthread_mutex_lock(&b->lock);
    b->pid = 0;
    b->exits++;
    pthread_cond_broadcast(&b->cond);
    if (!b->stopping) {
        log_exit(pid, status);
    }
    return true;
}

/* The supervisor thread: (re)starts mosquitto until stopping, with back-off. */
static void *supervise(void *arg)
{
    struct fy_broker *b = arg;
    int64_t delay = BACKOFF_MIN_MS;
    pthread_mutex_lock(&b->lock);
    while (!b->stopping) {
        int64_t started = now_ms();
        bool ran = run_once(b);
        if (b->stopping) {
            break;
        }
        if (ran && now_ms() - started >= STABLE_UPTIME_MS) {
            delay = BACKOFF_MIN_MS;
        }
        fy_log(FY_LOG_WARN, "broker", "restarting mosquitto in %lld ms", (long long)delay);
        wait_ms(b, delay);
        delay = delay * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : delay * 2;
    }
    b->done = true;
    pthread_cond_broadcast(&b->cond);
    pthread_mutex_unlock(&b->lock);
    return NULL;
}

/* True when a TCP connection to the listener succeeds. */
static bool port_open(const struct fy_broker *b)
{
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
    if (getaddrinfo(b->probe_host, b->probe_port, &hints, &res) != 0) {
        return false;
    }
    bool ok = false;
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0) {
        ok = connect(fd, res->ai_addr, res->ai_addrlen) == 0;
        close(fd);
    }
    freeaddrinfo(res);
    return ok;
}

/* Waits until the listener accepts connections; fails when the first child ends first. */
static fy_err wait_ready(struct fy_broker *b, struct fy_errmsg *em)
{
    int64_t deadline = now_ms() + FY_BROKER_READY_TIMEOUT_MS;
    while (now_ms() < deadline) {
        if (port_open(b)) {
            return FY_ERR_OK;
        }
        pthread_mutex_lock(&b->lock);
        unsigned exits = b->exits;
        pthread_mutex_unlock(&b->lock);
        if (exits) {
            return fy_fail(em, FY_ERR_INTERNAL, "mosquitto exited at start-up (see its log)");
        }
        usleep(20 * 1000);
    }
    return fy_fail(em, FY_ERR_INTERNAL, "mosquitto did not listen on %s:%s within %d ms",
                   b->probe_host, b->probe_port, FY_BROKER_READY_TIMEOUT_MS);
}

/* Host to probe for a listener bound to bind_addr (a wildcard is probed on loopback). */
static const char *probe_host_of(const char *bind_addr)
{
    if (strcmp(bind_addr, "0.0.0.0") == 0) {
        return "127.0.0.1";
    }
    if (strcmp(bind_addr, "::") == 0) {
        return "::1";
    }
    return bind_addr;
}

static struct fy_broker *broker_new(const struct fy_broker_opts *o)
{
    struct fy_broker *b = fy_calloc(1, sizeof(*b));
    if (b) {
        snprintf(b->bin, sizeof(b->bin), "%s", o->mosquitto_bin);
        snprintf(b->conf, sizeof(b->conf), "%s/mosquitto.conf", o->data_dir);
        snprintf(b->probe_host, sizeof(b->probe_host), "%s", probe_host_of(o->bind_addr));
        snprintf(b->probe_port, sizeof(b->probe_port), "%u", o->port);
        pthread_mutex_init(&b->lock, NULL);
        pthread_cond_init(&b->cond, NULL);
    }
    return b;
}

fy_err fy_broker_start(const struct fy_broker_opts *o, struct fy_broker **out, struct fy_errmsg *em)
{
    *out = NULL;
    fy_err e = check_opts(o, em);
    if (e) {
        return e;
    }
    struct fy_broker *b = broker_new(o);
    if (!b) {
        return fy_fail(em, FY_ERR_NOMEM, "out of memory");
    }
    e = child_env(b) ? fy_fail(em, FY_ERR_NOMEM, "out of memory") : write_conf(o, b->conf, em);
    if (!e && pthread_create(&b->thread, NULL, supervise, b) != 0) {
        e = fy_fail(em, FY_ERR_INTERNAL, "cannot start the broker supervisor thread");
    }
    b->thread_started = !e;
    if (!e) {
        e = wait_ready(b, em);
    }
    if (e) {
        fy_broker_stop(b);
        return e;
    }
    fy_log(FY_LOG_INFO, "broker", "mosquitto listening on %s:%u (mutual TLS; %s)", o->bind_addr,
           o->port, b->conf);
    *out = b;
    return FY_ERR_OK;
}

void fy_broker_stop(struct fy_broker *b)
{
    if (!b) {
        return;
    }
    pthread_mutex_lock(&b->lock);
    b->stopping = true;
    pthread_cond_broadcast(&b->cond);
    int64_t deadline = now_ms() + STOP_TIMEOUT_MS;
    bool killed = false;
    while (b->thread_started && !b->done) {
        if (b->pid > 0) {
            kill(b->pid, killed ? SIGKILL : SIGTERM);
        }
        wait_ms(b, 100);
        killed = killed || now_ms() >= deadline;
    }
    pthread_mutex_unlock(&b->lock);
    if (b->thread_started) {
        pthread_join(b->thread, NULL);
    }
    pthread_cond_destroy(&b->cond);
    pthread_mutex_destroy(&b->lock);
    fy_free(b->envp);
    fy_free(b->preload);
    fy_free(b);
}
