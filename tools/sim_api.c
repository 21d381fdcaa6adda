/* fleetyard-sim: a small signed HTTP client for the control plane (provisioning, cleanup).
 *
 * One keep-alive HTTP/1.1 connection to the endpoint (http:// only: fleetyard's API listener),
 * blocking I/O, one request at a time. Every request is signed with AWS Signature V4 exactly as
 * the AWS CLI signs it (service "iot", signed headers host and x-amz-date, payload hashed
 * ourselves): the canonical URI is the wire path percent-encoded once more, the canonical query
 * the caller's query (callers pass keys in order, values unreserved).
 */
#include "tools/sim_api.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/codec.h"
#include "core/json.h"

#define RESP_MAX  (4 * 1024 * 1024)
#define REQ_MAX   (1024 * 1024)
#define SIGV4_ALG "AWS4-HMAC-SHA256"

static int unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.' || c == '~';
}

int sim_pct_encode(const char *s, bool keep_slash, char *out, size_t size)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = 0;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (n + 4 > size) {
            return -1;
        }
        if (unreserved(c) || (keep_slash && c == '/')) {
            out[n++] = (char)c;
        } else {
            out[n++] = '%';
            out[n++] = hex[c >> 4];
            out[n++] = hex[c & 15];
        }
    }
    out[n] = '\0';
    return 0;
}

int sim_api_init(struct sim_api *a, const char *endpoint, const char *region)
{
    memset(a, 0, sizeof(*a));
    a->fd = -1;
    a->akid = getenv("AWS_ACCESS_KEY_ID");
    a->secret = getenv("AWS_SECRET_ACCESS_KEY");
    a->region = region ? region : getenv("AWS_DEFAULT_REGION");
    endpoint = endpoint ? endpoint : getenv("FLEETYARD_ENDPOINT");
    if (!a->akid || !a->secret || !a->region || !endpoint) {
        fprintf(stderr, "fleetyard-sim: provisioning needs FLEETYARD_ENDPOINT (or --endpoint), "
                        "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_DEFAULT_REGION "
                        "(. data/env.sh)\n");
        return -1;
    }
    const char *hp = strncmp(endpoint, "http://", 7) == 0 ? endpoint + 7 : NULL;
    size_t len = hp ? strcspn(hp, "/") : 0;
    if (!hp || len == 0 || len >= sizeof(a->hostport)) {
        fprintf(stderr, "fleetyard-sim: endpoint must be http://host[:port]: %s\n", endpoint);
        return -1;
    }
    memcpy(a->hostport, hp, len);
    a->hostport[len] = '\0';
    return 0;
}

static int dial(struct sim_api *a)
{
    char host[256], *colon;
    const char *port = "80";
    memcpy(host, a->hostport, sizeof(host));
    colon = strrchr(host, ':');
    if (colon) {
        *colon = '\0';
        port = colon + 1;
    }
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
    if (getaddrinfo(host, port, &hints, &res) != 0) {
        return -1;
    }
    for (struct addrinfo *r = res; r && a->fd < 0; r = r->ai_next) {
        a->fd = socket(r->ai_family, r->ai_socktype | SOCK_CLOEXEC, r->ai_protocol);
        if (a->fd >= 0 && connect(a->fd, r->ai_addr, r->ai_addrlen) != 0) {
            close(a->fd);
            a->fd = -1;
        }
    }
    freeaddrinfo(res);
    return a->fd >= 0 ? 0 : -1;
}

void sim_api_close(struct sim_api *a)
{
    if (a->fd >= 0) {
        close(a->fd);
        a->fd = -1;
    }
}

static void hmac(const void *key, size_t klen, const char *msg, unsigned char out[32])
{
    unsigned int len = 32;
    HMAC(EVP_sha256(), key, (int)klen, (const unsigned char *)msg, strlen(msg), out, &len);
}

/* The Authorization header value for one request. */
static int sign(const struct sim_api *a,
                const struct sim_http_req *r,
                const char *amz_date,
                char *auth,
                size_t size)
{
    char uri[2048], body_hash[65], creq_hash[65], scope[128], sts[512], k0[256], sig_hex[65];
    unsigned char k[32], sig[32];
    if (sim_pct_encode(r->path, true, uri, sizeof(uri))) {
        return -1;
    }
    fy_sha256_hex(r->body ? r->body : "", r->body ? strlen(r->body) : 0, body_hash);
    struct fy_buf b;
    fy_buf_init(&b, REQ_MAX);
    if (fy_buf_printf(&b, "%s\n%s\n%s\nhost:%s\nx-amz-date:%s\n\nhost;x-amz-date\n%s", r->method,
                      uri, r->query ? r->query : "", a->hostport, amz_date, body_hash)) {
        fy_buf_free(&b);
        return -1;
    }
    fy_sha256_hex(b.data, b.len, creq_hash);
    fy_buf_free(&b);
    snprintf(scope, sizeof(scope), "%.8s/%s/iot/aws4_request", amz_date, a->region);
    snprintf(sts, sizeof(sts), SIGV4_ALG "\n%s\n%s\n%s", amz_date, scope, creq_hash);
    snprintf(k0, sizeof(k0), "AWS4%s", a->secret);
    char date[9];
    memcpy(date, amz_date, 8);
    date[8] = '\0';
    hmac(k0, strlen(k0), date, k);
    hmac(k, 32, a->region, k);
    hmac(k, 32, "iot", k);
    hmac(k, 32, "aws4_request", k);
    hmac(k, 32, sts, sig);
    fy_hex(sig, 32, sig_hex);
    OPENSSL_cleanse(k0, sizeof(k0));
    OPENSSL_cleanse(k, sizeof(k));
    int n = snprintf(auth, size,
                     SIGV4_ALG " Credential=%s/%s, SignedHeaders=host;x-amz-date, "
                               "Signature=%s",
                     a->akid, scope, sig_hex);
    return n > 0 && (size_t)n < size ? 0 : -1;
}

static int build(const struct sim_api *a, const struct sim_http_req *r, struct fy_buf *b)
{
    char amz_date[17], auth[512];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(amz_date, sizeof(amz_date), "%Y%m%dT%H%M%SZ", &tm);
    if (sign(a, r, amz_date, auth, sizeof(auth))) {
        return -1;
    }
    size_t blen = r->body ? strlen(r->body) : 0;
    int e = fy_buf_printf(b,
                          "%s %s%s%s HTTP/1.1\r\nHost: %s\r\nX-Amz-Date: %s\r\n"
                          "Authorization: %s\r\nContent-Length: %zu\r\n",
                          r->method, r->path, r->query ? "?" : "", r->query ? r->query : "",
                          a->hostport, amz_date, auth, blen);
    if (!e && r->hdr_name) {
        e = fy_buf_printf(b, "%s: %s\r\n", r->hdr_name, r->hdr_value);
    }
    if (!e) {
        e = fy_buf_printf(b, "%s\r\n%s", blen ? "Content-Type: application/json\r\n" : "",
                          blen ? r->body : "");
    }
    return e ? -1 : 0;
}

static int send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR) {
            continue;
        }
        if (k <= 0) {
            return -1;
        }
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

/* Content-Length from the header block (NUL-terminated), -1 when absent. */
static long content_length(const char *head)
{
    for (const char *p = strchr(head, '\n'); p; p = strchr(p + 1, '\n')) {
        if (strncasecmp(p + 1, "content-length:", 15) == 0) {
            return strtol(p + 16, NULL, 10);
        }
    }
    return -1;
}

/* Reads one response into b; *status and *body_off are set. */
static int receive(int fd, struct fy_buf *b, int *status, size_t *body_off)
{
    char chunk[16384];
    long clen = -1;
    size_t head = 0;
    for (;;) {
        if (head && clen >= 0 && b->len >= head + (size_t)clen) {
            break;
        }
        ssize_t k = recv(fd, chunk, sizeof(chunk), 0);
        if (k < 0 && errno == EINTR) {
            continue;
        }
        if (k <= 0 || fy_buf_append(b, chunk, (size_t)k)) {
            return -1;
        }
        char *end = head ? NULL : strstr(b->data, "\r\n\r\n");
        if (end) {
            head = (size_t)(end - b->data) + 4;
            clen = content_length(b->data);
            clen = clen < 0 ? 0 : clen;
        }
    }
    if (strncmp(b->data, "HTTP/1.", 7) != 0) {
        return -1;
    }
    *status = (int)strtol(b->data + 9, NULL, 10);
    *body_off = head;
    return 0;
}

/* One attempt on the current connection (dialled when needed). */
static int
exchange(struct sim_api *a, const struct fy_buf *req, struct fy_buf *resp, int *status, size_t *off)
{
    if (a->fd < 0 && dial(a)) {
        return -1;
    }
    if (send_all(a->fd, req->data, req->len) || receive(a->fd, resp, status, off)) {
        sim_api_close(a);
        return -1;
    }
    return 0;
}

int sim_api_call(struct sim_api *a, const struct sim_http_req *r, json_t **out)
{
    struct fy_buf req, resp;
    int status = 0;
    size_t off = 0;
    *out = NULL;
    fy_buf_init(&req, REQ_MAX);
    fy_buf_init(&resp, RESP_MAX);
    int rc = build(a, r, &req);
    for (int attempt = 0; rc == 0 && attempt < 2; attempt++) {
        fy_buf_free(&resp);
        fy_buf_init(&resp, RESP_MAX);
        rc = exchange(a, &req, &resp, &status, &off);
        if (rc == 0 || attempt == 1) {
            break;
        }
        rc = 0; /* the server closed an idle keep-alive connection: once more, fresh */
    }
    if (rc == 0 && resp.len > off) {
        *out = fy_json_loadb(resp.data + off, resp.len - off, 0, NULL);
    }
    fy_buf_free(&req);
    fy_buf_free(&resp);
    a->requests++;
    return rc == 0 ? status : -1;
}

int sim_api_expect(struct sim_api *a, const struct sim_http_req *r, const int *ok, json_t **out)
{
    json_t *j = NULL;
    int st = sim_api_call(a, r, &j);
    for (; *ok; ok++) {
        if (st == *ok) {
            if (out) {
                *out = j;
            } else {
                json_decref(j);
            }
            return 0;
        }
    }
    const char *msg = j ? json_string_value(json_object_get(j, "message")) : NULL;
    fprintf(stderr, "fleetyard-sim: %s %s: HTTP %d %s\n", r->method, r->path, st, msg ? msg : "");
    json_decref(j);
    return -1;
}
