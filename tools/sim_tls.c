/* fleetyard-sim: TLS contexts.
 *
 * libmosquitto would build (and load the CA, certificate and key into) a fresh SSL_CTX for
 * every client; with thousands of clients that dominates start-up and memory. Instead one
 * SSL_CTX per --cert/--key pair is built here and shared (MOSQ_OPT_SSL_CTX takes a reference).
 * The server's certificate must chain to --cafile and name --host (DNS name or IP address).
 */
#include <stdio.h>
#include <sys/resource.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "core/alloc.h"
#include "tools/sim.h"
#include "tools/sim_state.h"

static void tls_error(const char *what, const char *path)
{
    char buf[256];
    ERR_error_string_n(ERR_get_error(), buf, sizeof(buf));
    fprintf(stderr, "fleetyard-sim: %s %s: %s\n", what, path, buf);
}

/* The server certificate must name host: an IP address literal, else a DNS name. */
static int check_host(SSL_CTX *ctx, const char *host)
{
    X509_VERIFY_PARAM *param = SSL_CTX_get0_param(ctx);
    if (X509_VERIFY_PARAM_set1_ip_asc(param, host) == 1) {
        return 1;
    }
    return X509_VERIFY_PARAM_set1_host(param, host, 0);
}

static SSL_CTX *ctx_new(const struct sim_opts *o, const char *cert, const char *key)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) {
        tls_error("cannot create a TLS context", "");
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    if (check_host(ctx, o->host) != 1) {
        tls_error("cannot check the server name", o->host);
    } else if (SSL_CTX_load_verify_locations(ctx, o->cafile, NULL) != 1) {
        tls_error("cannot load CA file", o->cafile);
    } else if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
        tls_error("cannot load certificate", cert);
    } else if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
        tls_error("cannot load key", key);
    } else if (SSL_CTX_check_private_key(ctx) != 1) {
        tls_error("key does not match certificate", cert);
    } else {
        return ctx;
    }
    SSL_CTX_free(ctx);
    return NULL;
}

int sim_tls_load(const struct sim_opts *o, SSL_CTX **ctxs, size_t *n)
{
    *n = 0;
    if (!o->cafile || o->n_certs == 0 || o->n_certs != o->n_keys) {
        fprintf(stderr, "fleetyard-sim: --cafile and as many --cert as --key are required\n");
        return -1;
    }
    for (size_t i = 0; i < o->n_certs; i++) {
        ctxs[i] = ctx_new(o, o->certs[i], o->keys[i]);
        if (!ctxs[i]) {
            sim_tls_free(ctxs, i);
            return -1;
        }
    }
    *n = o->n_certs;
    return 0;
}

void sim_tls_free(SSL_CTX **ctxs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        SSL_CTX_free(ctxs[i]);
        ctxs[i] = NULL;
    }
}

/* Reads a PEM certificate or key file. */
static void *read_pem(const char *path, bool key)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        return NULL;
    }
    void *v = key ? (void *)PEM_read_PrivateKey(f, NULL, NULL, NULL)
                  : (void *)PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    return v;
}

/* OpenSSL asks for the client certificate (the server's CertificateRequest): present the one of
 * the device that owns this socket (or that is inside mosquitto_connect_async, where a quick
 * server can complete the first flight before the socket is registered). 1 = set, 0 = none
 * (the handshake then fails). */
static int device_cert_cb(SSL *ssl, void *arg)
{
    struct sim *s = arg;
    int fd = SSL_get_fd(ssl);
    struct sim_client *c = s->connecting_now; /* the handshake may finish inside connect */
    if (!c && fd >= 0 && (size_t)fd < s->by_fd_n) {
        c = s->by_fd[fd];
    }
    if (!c || !s->ids) {
        return 0;
    }
    const char *name = s->ids[c->index];
    char crt_path[4096], key_path[4096];
    if (sim_state_path(s->o->state_dir, name, "crt", crt_path, sizeof(crt_path)) ||
        sim_state_path(s->o->state_dir, name, "key", key_path, sizeof(key_path))) {
        return 0;
    }
    X509 *x = read_pem(crt_path, false);
    EVP_PKEY *k = read_pem(key_path, true);
    int ok = x && k && SSL_use_certificate(ssl, x) == 1 && SSL_use_PrivateKey(ssl, k) == 1;
    X509_free(x);
    EVP_PKEY_free(k);
    return ok;
}

int sim_tls_load_devices(struct sim *s)
{
    struct rlimit r;
    s->by_fd_n =
        getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < (1u << 21) ? r.rlim_cur : (1u << 21);
    s->by_fd = fy_calloc(s->by_fd_n, sizeof(*s->by_fd));
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!s->by_fd || !ctx || !s->o->cafile) {
        fprintf(stderr, "fleetyard-sim: --cafile is required\n");
        SSL_CTX_free(ctx);
        return -1;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    if (check_host(ctx, s->o->host) != 1 ||
        SSL_CTX_load_verify_locations(ctx, s->o->cafile, NULL) != 1) {
        tls_error("cannot load CA file", s->o->cafile);
        SSL_CTX_free(ctx);
        return -1;
    }
    SSL_CTX_set_cert_cb(ctx, device_cert_cb, s);
    s->ctxs[0] = ctx;
    s->n_ctxs = 1;
    return 0;
}
