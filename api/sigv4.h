/* fleetyard api: AWS Signature Version 4 verification (header form).
 *
 * Builds the canonical request exactly as botocore and the JS SDK do for non-S3 services: the
 * canonical URI is the wire path percent-encoded once more (thing `a:b` travels as
 * /things/a%3Ab and is signed as /things/a%253Ab); the query is decoded, re-encoded per RFC 3986
 * and sorted; header values are trimmed with inner runs of spaces folded; the payload hash is the
 * SHA-256 of the body (an x-amz-content-sha256 header must match it, or be UNSIGNED-PAYLOAD).
 * Pure functions: no I/O, no global state, thread-safe.
 */
#ifndef FY_API_SIGV4_H
#define FY_API_SIGV4_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define FY_SIGV4_MAX_SKEW_SECONDS   (15 * 60)
#define FY_SIGV4_MAX_SIGNED_HEADERS 32
#define FY_SIGV4_SERVICE_MAX        32

/* Header lookup by lowercase name; returns the value or NULL. */
typedef const char *(*fy_sigv4_header_fn)(void *ctx, const char *lname);

struct fy_sigv4_request {
    const char *method;
    const char *raw_path;  /* as sent on the wire, without the query */
    const char *raw_query; /* as sent, without '?'; NULL or "" when none */
    fy_sigv4_header_fn header;
    void *header_ctx;
    const char *body;
    size_t body_len;
};

struct fy_sigv4_credentials {
    const char *access_key;
    const char *secret_key;
};

struct fy_sigv4_result {
    char access_key[64];
    char region[33];
    char service[FY_SIGV4_SERVICE_MAX + 1];
};

/* Verifies the request's Authorization header against creds (n entries) at time now (epoch s).
 * Errors: FY_ERR_MISSING_AUTH (no Authorization header), malformed header ->
 * FY_ERR_INVALID_SIGNATURE, unknown access key -> FY_ERR_UNRECOGNIZED_CLIENT, skew
 * beyond FY_SIGV4_MAX_SKEW_SECONDS or bad signature -> FY_ERR_INVALID_SIGNATURE; em gets the
 * AWS-style message. On success out has the signer's access key, region and service. */
FY_NODISCARD fy_err fy_sigv4_verify(const struct fy_sigv4_request *req,
                                    const struct fy_sigv4_credentials *creds,
                                    size_t n,
                                    int64_t now,
                                    struct fy_sigv4_result *out,
                                    struct fy_errmsg *em);

/* Secret of access key akid, or NULL when the key is unknown (or may not sign: inactive). The
 * string must stay valid until fy_sigv4_verify_with returns. Called once per verification. */
typedef const char *(*fy_sigv4_secret_fn)(void *ctx, const char *akid);

/* fy_sigv4_verify with the secret found by a callback (keys held outside a fixed array). A
 * NULL secret -> FY_ERR_UNRECOGNIZED_CLIENT; otherwise the same checks and errors. */
FY_NODISCARD fy_err fy_sigv4_verify_with(const struct fy_sigv4_request *req,
                                         fy_sigv4_secret_fn secret,
                                         void *secret_ctx,
                                         int64_t now,
                                         struct fy_sigv4_result *out,
                                         struct fy_errmsg *em);

/* Computes the hex signature the request would carry, given the signed header list
 * ("host;x-amz-date"), the amz date (YYYYMMDDTHHMMSSZ) and the scope parts. For tests and
 * benchmarks. out gets 65 bytes. Returns FY_ERR_NOMEM or FY_ERR_INVALID_SIGNATURE on bad input. */
FY_NODISCARD fy_err fy_sigv4_sign(const struct fy_sigv4_request *req,
                                  const char *secret_key,
                                  const char *signed_headers,
                                  const char *amz_date,
                                  const char *region,
                                  const char *service,
                                  char out[65]);

/* Canonical URI of a raw path (percent-encodes every byte but unreserved and '/'); new string
 * (fy_free), NULL on OOM. Exposed for unit tests. */
char *fy_sigv4_canonical_uri(const char *raw_path);

/* Canonical query string of a raw query; new string (fy_free), NULL on OOM. */
char *fy_sigv4_canonical_query(const char *raw_query);

/* Percent-decodes n bytes of s into a new string ('+' stays '+'); NULL on OOM or bad escape. */
char *fy_pct_decode(const char *s, size_t n);

#endif
