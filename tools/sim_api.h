/* fleetyard-sim: signed control-plane HTTP calls (sim_api.c). Blocking, one thread. */
#ifndef FY_TOOLS_SIM_API_H
#define FY_TOOLS_SIM_API_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

struct sim_api {
    char hostport[256];                 /* Host header and signed host */
    const char *akid, *secret, *region; /* borrowed (environment) */
    int fd;                             /* keep-alive connection, -1 when none */
    unsigned long requests;
};

struct sim_http_req {
    const char *method;
    const char *path;                 /* wire path, already percent-encoded */
    const char *query;                /* NULL or "k=v&k2=v2", keys sorted, values unreserved */
    const char *body;                 /* NULL or JSON text */
    const char *hdr_name, *hdr_value; /* one extra header (x-amzn-principal), or NULL */
};

/* Credentials from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, region (or AWS_DEFAULT_REGION),
 * endpoint (or FLEETYARD_ENDPOINT; http:// only). 0, or -1 with a message on stderr. */
int sim_api_init(struct sim_api *a, const char *endpoint, const char *region);
void sim_api_close(struct sim_api *a);
/* Sends r signed with SigV4 and returns the HTTP status (-1 on a transport error); *out gets the
 * parsed JSON body (a new reference) or NULL. Retries once on a fresh connection when the
 * keep-alive connection was closed. */
int sim_api_call(struct sim_api *a, const struct sim_http_req *r, json_t **out);
/* sim_api_call, success when the status is one of ok (0-terminated): then *out (when not
 * NULL) gets the body. Otherwise prints method, path, status and the error message; -1. */
int sim_api_expect(struct sim_api *a, const struct sim_http_req *r, const int *ok, json_t **out);
/* Percent-encodes s (RFC 3986 unreserved kept, '/' too when keep_slash) into out; -1 when it
 * does not fit. */
int sim_pct_encode(const char *s, bool keep_slash, char *out, size_t size);

/* A new EC P-256 key and a CSR for it with subject CN=cn, both PEM (caller frees both with
 * fy_free); 0 or -1 (sim_csr.c). */
int sim_make_csr(const char *cn, char **key_pem, char **csr_pem);

#endif
