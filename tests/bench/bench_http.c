/* HTTP benchmark: CreateThing and DescribeThing against a running fleetyard-server, measured side
 * by side with the HTTP floor (GET /fleetyard/ping: same listener, same SigV4 verification and
 * routing, no state). Every request is signed by this client, keep-alive connections, one per
 * client thread.
 *
 * usage: bench_http HOST PORT ACCESS_KEY SECRET REGION SERVER_PID [THINGS] [THREADS]
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "api/sigv4.h"
#include "core/fytime.h"

#define BENCH_FLOOR_MAX 50000 /* requests of the floor the ratios use */
#define BENCH_SETTLE_S  1     /* pause after the creates, before that floor */

struct bench {
    const char *pid; /* the server's */
    const char *host;
    int port;
    const char *ak, *sk, *region;
    long things;
    int threads;
    /* current phase */
    const char *method;
    const char *path_prefix; /* item number appended when numbered */
    int numbered;
    const char *body;
    long n;
    long random_items; /* 0: sequential, else random in [0, n) */
    atomic_long next;
    atomic_long errors;
    uint64_t *lat;
};

struct hdr_ctx {
    const char *host, *date;
};

static const char *hdr(void *ctx, const char *name)
{
    struct hdr_ctx *h = ctx;
    if (strcmp(name, "host") == 0) {
        return h->host;
    }
    return strcmp(name, "x-amz-date") == 0 ? h->date : NULL;
}

static int dial(const struct bench *b)
{
    struct sockaddr_in a;
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)b->port);
    inet_pton(AF_INET, b->host, &a.sin_addr);
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        perror("connect");
        exit(1);
    }
    return fd;
}

/* Reads one response; returns the HTTP status or -1. */
static int read_response(int fd, char *buf, size_t cap)
{
    size_t len = 0;
    char *end = NULL;
    while (!end) {
        ssize_t r = read(fd, buf + len, cap - len - 1);
        if (r <= 0) {
            return -1;
        }
        len += (size_t)r;
        buf[len] = '\0';
        end = strstr(buf, "\r\n\r\n");
    }
    char *cl = strcasestr(buf, "content-length:");
    long want = cl ? strtol(cl + 15, NULL, 10) : 0;
    size_t have = len - (size_t)(end + 4 - buf);
    while ((long)have < want) {
        ssize_t r = read(fd, buf, cap - 1);
        if (r <= 0) {
            return -1;
        }
        have += (size_t)r;
    }
    return (int)strtol(buf + 9, NULL, 10);
}

static int one_request(struct bench *b, int fd, const char *path, char *buf, size_t cap)
{
    char date[20], hosthdr[64], sig[65];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof(date), "%Y%m%dT%H%M%SZ", &tm);
    snprintf(hosthdr, sizeof(hosthdr), "%s:%d", b->host, b->port);
    struct hdr_ctx hc = {hosthdr, date};
    struct fy_sigv4_request r = {b->method, path, "", hdr, &hc, b->body, strlen(b->body)};
    if (fy_sigv4_sign(&r, b->sk, "host;x-amz-date", date, b->region, "iot", sig) != FY_ERR_OK) {
        return -1;
    }
    int n = snprintf(buf, cap,
                     "%s %s HTTP/1.1\r\nHost: %s\r\nX-Amz-Date: %s\r\nContent-Length: %zu\r\n"
                     "Authorization: AWS4-HMAC-SHA256 Credential=%s/%.8s/%s/iot/aws4_request, "
                     "SignedHeaders=host;x-amz-date, Signature=%s\r\n\r\n%s",
                     b->method, path, hosthdr, date, strlen(b->body), b->ak, date, b->region, sig,
                     b->body);
    if (write(fd, buf, (size_t)n) != n) {
        return -1;
    }
    return read_response(fd, buf, cap);
}

static void *worker(void *arg)
{
    struct bench *b = arg;
    char path[256], buf[65536];
    int fd = dial(b);
    unsigned seed = (unsigned)pthread_self();
    for (;;) {
        long i = atomic_fetch_add(&b->next, 1);
        if (i >= b->n) {
            break;
        }
        long item = b->random_items ? rand_r(&seed) % b->random_items : i;
        if (b->numbered) {
            snprintf(path, sizeof(path), "%s%07ld", b->path_prefix, item);
        } else {
            snprintf(path, sizeof(path), "%s", b->path_prefix);
        }
        uint64_t t0 = fy_mono_ns();
        int status = one_request(b, fd, path, buf, sizeof(buf));
        b->lat[i] = fy_mono_ns() - t0;
        if (status != 200) {
            atomic_fetch_add(&b->errors, 1);
            if (status < 0) {
                close(fd);
                fd = dial(b);
            }
        }
    }
    close(fd);
    return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

struct result {
    double rps, p50_ms, p99_ms;
    double cpu_us; /* server + client CPU per request */
};

/* CPU time (user + system) of process pid so far, in microseconds (clock-tick resolution). */
static double server_cpu_us(const char *pid)
{
    char path[64];
    unsigned long ut = 0, st = 0;
    snprintf(path, sizeof(path), "/proc/%s/stat", pid);
    FILE *f = fopen(path, "r");
    /* fields 14 and 15; the command (field 2) is "(fleetyard-serve)", without spaces */
    if (!f ||
        fscanf(f, "%*d %*s %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2) {
        ut = st = 0;
    }
    if (f) {
        fclose(f);
    }
    return (double)(ut + st) * 1e6 / (double)sysconf(_SC_CLK_TCK);
}

static double client_cpu_us(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

static struct result run_phase(struct bench *b,
                               const char *name,
                               const char *method,
                               const char *prefix,
                               const char *body,
                               long n,
                               long random_items)
{
    pthread_t th[64];
    b->method = method;
    b->path_prefix = prefix;
    b->numbered = prefix[strlen(prefix) - 1] == '-';
    b->body = body;
    b->n = n;
    b->random_items = random_items;
    atomic_store(&b->next, 0);
    atomic_store(&b->errors, 0);
    b->lat = calloc((size_t)n, sizeof(uint64_t));
    double s0 = server_cpu_us(b->pid), c0 = client_cpu_us();
    uint64_t t0 = fy_mono_ns();
    for (int i = 0; i < b->threads; i++) {
        pthread_create(&th[i], NULL, worker, b);
    }
    for (int i = 0; i < b->threads; i++) {
        pthread_join(th[i], NULL);
    }
    double secs = (double)(fy_mono_ns() - t0) / 1e9;
    double scpu = (server_cpu_us(b->pid) - s0) / (double)n,
           ccpu = (client_cpu_us() - c0) / (double)n;
    qsort(b->lat, (size_t)n, sizeof(uint64_t), cmp_u64);
    struct result r = {(double)n / secs, (double)b->lat[n / 2] / 1e6,
                       (double)b->lat[n * 99 / 100] / 1e6, scpu + ccpu};
    printf("%-28s %8ld req %8.0f req/s  p50 %6.3f ms  p99 %6.3f ms  errors %ld  cpu/req: server "
           "%.1f us, client %.1f us\n",
           name, n, r.rps, r.p50_ms, r.p99_ms, atomic_load(&b->errors), scpu, ccpu);
    fflush(stdout);
    free(b->lat);
    return r;
}

static long rss_kb(const char *pid)
{
    char path[64], line[256];
    long kb = -1;
    snprintf(path, sizeof(path), "/proc/%s/status", pid);
    FILE *f = fopen(path, "r");
    while (f && fgets(line, sizeof(line), f)) {
        if (strncmp(line, "VmRSS:", 6) == 0) {
            kb = strtol(line + 6, NULL, 10);
        }
    }
    if (f) {
        fclose(f);
    }
    return kb;
}

int main(int argc, char **argv)
{
    if (argc < 7) {
        fprintf(stderr, "usage: %s HOST PORT AK SK REGION PID [THINGS] [THREADS]\n", argv[0]);
        return 2;
    }
    struct bench b = {.pid = argv[6],
                      .host = argv[1],
                      .port = (int)strtol(argv[2], NULL, 10),
                      .ak = argv[3],
                      .sk = argv[4],
                      .region = argv[5]};
    b.things = argc > 7 ? strtol(argv[7], NULL, 10) : 100000;
    b.threads = argc > 8 ? (int)strtol(argv[8], NULL, 10) : 4;
    long probes = b.things < 20000 ? b.things : 20000;
    /* The floor the ratios use is measured as long as the CreateThing half it is compared with
     * (up to BENCH_FLOOR_MAX requests), after the server has settled (its checkpointer done with
     * the burst's WAL), so neither a short noisy sample nor leftover work skews it. */
    long floor_n = b.things / 2 > probes ? b.things / 2 : probes;
    floor_n = floor_n < BENCH_FLOOR_MAX ? floor_n : BENCH_FLOOR_MAX;
    const char *pid = argv[6];
    printf("fleetyard HTTP benchmark: %ld things, %d client threads\n", b.things, b.threads);
    long rss0 = rss_kb(pid);
    struct result floor0 =
        run_phase(&b, "ping (floor, empty)", "GET", "/fleetyard/ping", "", probes, 0);
    struct result half =
        run_phase(&b, "CreateThing 1st half", "POST", "/things/bench-",
                  "{\"attributePayload\":{\"attributes\":{\"fw\":\"1.0\"}}}", b.things / 2, 0);
    long rss_half = rss_kb(pid);
    b.next = 0;
    struct result create = run_phase(&b, "CreateThing 2nd half", "POST", "/things/bench2-",
                                     "{\"attributePayload\":{\"attributes\":{\"fw\":\"1.0\"}}}",
                                     b.things - b.things / 2, 0);
    long rss_full = rss_kb(pid);
    sleep(BENCH_SETTLE_S);
    struct result floor1 =
        run_phase(&b, "ping (floor, full)", "GET", "/fleetyard/ping", "", floor_n, 0);
    struct result desc =
        run_phase(&b, "DescribeThing (random)", "GET", "/things/bench-", "", probes, b.things / 2);
    (void)half;
    printf("\nratios to the HTTP floor (same run, same server; target: within 3x)\n");
    printf("  CreateThing   throughput %.2fx slower, p50 latency %.2fx, CPU per request %.2fx\n",
           floor1.rps / create.rps, create.p50_ms / floor1.p50_ms, create.cpu_us / floor1.cpu_us);
    printf("  DescribeThing throughput %.2fx slower, p50 latency %.2fx, CPU per request %.2fx\n",
           floor1.rps / desc.rps, desc.p50_ms / floor1.p50_ms, desc.cpu_us / floor1.cpu_us);
    printf("  floor empty vs full registry: %.0f vs %.0f req/s\n", floor0.rps, floor1.rps);
    printf("server RSS: %ld kB empty, %ld kB at %ld things, %ld kB at %ld things\n", rss0, rss_half,
           b.things / 2, rss_full, b.things);
    return 0;
}
