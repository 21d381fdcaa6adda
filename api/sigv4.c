#include "api/sigv4.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/codec.h"

#define SIGV4_ALGO      "AWS4-HMAC-SHA256"
#define SIGV4_CANON_MAX (2 * 1024 * 1024)

struct auth_fields {
    char credential[256];
    char signed_headers[1024];
    char signature[128];
    /* split credential scope */
    char *akid, *date, *region, *service, *terminator;
};

static int unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.' || c == '~';
}

static fy_err pct_encode(struct fy_buf *b, const char *s, size_t n, int keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        fy_err e;
        if (unreserved(c) || (keep_slash && c == '/')) {
            e = fy_buf_append(b, &s[i], 1);
        } else {
            char esc[3] = {'%', hex[c >> 4], hex[c & 15]};
            e = fy_buf_append(b, esc, 3);
        }
        if (e) {
            return e;
        }
    }
    return FY_ERR_OK;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

char *fy_pct_decode(const char *s, size_t n)
{
    char *out = fy_malloc(n + 1);
    size_t j = 0;
    if (!out) {
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '%') {
            out[j++] = s[i];
            continue;
        }
        if (n - i < 3 || hexval(s[i + 1]) < 0 || hexval(s[i + 2]) < 0) {
            fy_free(out);
            return NULL;
        }
        out[j++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
        i += 2;
    }
    out[j] = '\0';
    return out;
}

char *fy_sigv4_canonical_uri(const char *raw_path)
{
    struct fy_buf b;
    fy_buf_init(&b, SIGV4_CANON_MAX);
    if (!*raw_path) {
        raw_path = "/";
    }
    if (pct_encode(&b, raw_path, strlen(raw_path), 1)) {
        fy_buf_free(&b);
        return NULL;
    }
    return b.data;
}

struct qpair {
    char *k;
    char *v;
};

static int qpair_cmp(const void *a, const void *b)
{
    const struct qpair *x = a, *y = b;
    int c = strcmp(x->k, y->k);
    return c ? c : strcmp(x->v, y->v);
}

/* Decodes one raw "k=v" item and appends its encoded pair to pairs. */
static int add_qpair(struct qpair *pairs, size_t *n, const char *item, size_t len)
{
    const char *eq = memchr(item, '=', len);
    size_t klen = eq ? (size_t)(eq - item) : len;
    char *k = fy_pct_decode(item, klen);
    char *v = eq ? fy_pct_decode(eq + 1, len - klen - 1) : fy_strdup("");
    struct fy_buf kb, vb;
    fy_buf_init(&kb, SIGV4_CANON_MAX);
    fy_buf_init(&vb, SIGV4_CANON_MAX);
    int ok = k && v && !pct_encode(&kb, k, strlen(k), 0) && !pct_encode(&vb, v, strlen(v), 0) &&
             fy_buf_append(&kb, "", 0) == FY_ERR_OK && fy_buf_append(&vb, "", 0) == FY_ERR_OK;
    fy_free(k);
    fy_free(v);
    if (!ok) {
        fy_buf_free(&kb);
        fy_buf_free(&vb);
        return -1;
    }
    pairs[*n].k = kb.data;
    pairs[*n].v = vb.data;
    (*n)++;
    return 0;
}

static void free_pairs(struct qpair *pairs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        fy_free(pairs[i].k);
        fy_free(pairs[i].v);
    }
    fy_free(pairs);
}

static char *join_pairs(struct qpair *pairs, size_t n)
{
    struct fy_buf b;
    fy_buf_init(&b, SIGV4_CANON_MAX);
    fy_err e = fy_buf_append(&b, "", 0);
    for (size_t i = 0; i < n && !e; i++) {
        e = fy_buf_printf(&b, "%s%s=%s", i ? "&" : "", pairs[i].k, pairs[i].v);
    }
    if (e) {
        fy_buf_free(&b);
        return NULL;
    }
    return b.data;
}

char *fy_sigv4_canonical_query(const char *raw_query)
{
    size_t cap = 1, n = 0;
    const char *q = raw_query ? raw_query : "";
    for (const char *p = q; *p; p++) {
        cap += *p == '&';
    }
    struct qpair *pairs = fy_calloc(cap, sizeof(*pairs));
    if (!pairs) {
        return NULL;
    }
    while (*q) {
        const char *amp = strchr(q, '&');
        size_t len = amp ? (size_t)(amp - q) : strlen(q);
        if (len && add_qpair(pairs, &n, q, len) != 0) {
            free_pairs(pairs, n);
            return NULL;
        }
        q += len + (amp ? 1 : 0);
    }
    qsort(pairs, n, sizeof(*pairs), qpair_cmp);
    char *out = join_pairs(pairs, n);
    free_pairs(pairs, n);
    return out;
}

/* Appends a header value trimmed, with inner runs of whitespace folded to one space. */
static fy_err append_folded(struct fy_buf *b, const char *v)
{
    while (*v == ' ' || *v == '\t') {
        v++;
    }
    int pending_space = 0;
    for (; *v; v++) {
        if (*v == ' ' || *v == '\t') {
            pending_space = 1;
            continue;
        }
        if (pending_space && fy_buf_append(b, " ", 1)) {
            return FY_ERR_NOMEM;
        }
        pending_space = 0;
        if (fy_buf_append(b, v, 1)) {
            return FY_ERR_NOMEM;
        }
    }
    return FY_ERR_OK;
}

static fy_err append_headers(struct fy_buf *b,
                             const struct fy_sigv4_request *req,
                             const char *signed_headers,
                             struct fy_errmsg *em)
{
    char name[128];
    const char *p = signed_headers;
    while (*p) {
        const char *semi = strchr(p, ';');
        size_t len = semi ? (size_t)(semi - p) : strlen(p);
        if (len == 0 || len >= sizeof(name)) {
            return fy_fail(em, FY_ERR_INVALID_SIGNATURE, "Invalid SignedHeaders");
        }
        memcpy(name, p, len);
        name[len] = '\0';
        const char *v = req->header(req->header_ctx, name);
        if (!v) {
            return fy_fail(em, FY_ERR_INVALID_SIGNATURE, "Signed header %.64s is missing", name);
        }
        if (fy_buf_printf(b, "%s:", name) || append_folded(b, v) || fy_buf_append(b, "\n", 1)) {
            return fy_fail(em, FY_ERR_NOMEM, "Out of memory");
        }
        p += len + (semi ? 1 : 0);
    }
    return FY_ERR_OK;
}

static fy_err payload_hash(const struct fy_sigv4_request *req, char out[65], struct fy_errmsg *em)
{
    const char *sent = req->header(req->header_ctx, "x-amz-content-sha256");
    fy_sha256_hex(req->body ? req->body : "", req->body_len, out);
    if (!sent) {
        return FY_ERR_OK;
    }
    if (strcmp(sent, "UNSIGNED-PAYLOAD") == 0) {
        memcpy(out, sent, strlen(sent) + 1);
        return FY_ERR_OK;
    }
    if (strcmp(sent, out) != 0) {
        return fy_fail(em, FY_ERR_INVALID_SIGNATURE,
                       "The provided 'x-amz-content-sha256' header does not match what was "
                       "computed.");
    }
    return FY_ERR_OK;
}

/* Builds the hex SHA-256 of the canonical request. */
static fy_err canonical_hash(const struct fy_sigv4_request *req,
                             const char *signed_headers,
                             char out[65],
                             struct fy_errmsg *em)
{
    char body_hash[65];
    struct fy_buf b;
    fy_err e = payload_hash(req, body_hash, em);
    if (e) {
        return e;
    }
    char *uri = fy_sigv4_canonical_uri(req->raw_path);
    char *query = fy_sigv4_canonical_query(req->raw_query);
    fy_buf_init(&b, SIGV4_CANON_MAX);
    if (!uri || !query || fy_buf_printf(&b, "%s\n%s\n%s\n", req->method, uri, query)) {
        e = fy_fail(em, FY_ERR_NOMEM, "Out of memory");
    } else {
        e = append_headers(&b, req, signed_headers, em);
    }
    if (!e && fy_buf_printf(&b, "\n%s\n%s", signed_headers, body_hash)) {
        e = fy_fail(em, FY_ERR_NOMEM, "Out of memory");
    }
    if (!e) {
        fy_sha256_hex(b.data, b.len, out);
    }
    fy_free(uri);
    fy_free(query);
    fy_buf_free(&b);
    return e;
}

fy_err fy_sigv4_sign(const struct fy_sigv4_request *req,
                     const char *secret_key,
                     const char *signed_headers,
                     const char *amz_date,
                     const char *region,
                     const char *service,
                     char out[65])
{
    char creq_hash[65], date[9], sts[512];
    struct fy_errmsg em;
    fy_err e = canonical_hash(req, signed_headers, creq_hash, &em);
    if (e) {
        return e;
    }
    if (strlen(amz_date) != 16) {
        return FY_ERR_INVALID_SIGNATURE;
    }
    memcpy(date, amz_date, 8);
    date[8] = '\0';
    snprintf(sts, sizeof(sts), SIGV4_ALGO "\n%s\n%s/%s/%s/aws4_request\n%s", amz_date, date, region,
             service, creq_hash);
    fy_aws4_signature(secret_key, date, region, service, sts, out);
    return FY_ERR_OK;
}

static int copy_field(char *dst, size_t n, const char *src, size_t len)
{
    if (len >= n) {
        return -1;
    }
    memcpy(dst, src, len);
    dst[len] = '\0';
    return 0;
}

/* Parses "Credential=..., SignedHeaders=..., Signature=..." (any order, ", " or "," separated). */
static int parse_auth_params(const char *p, struct auth_fields *f)
{
    while (*p) {
        while (*p == ' ' || *p == ',') {
            p++;
        }
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        int rc = 0;
        if (strncmp(p, "Credential=", 11) == 0) {
            rc = copy_field(f->credential, sizeof(f->credential), p + 11, len - 11);
        } else if (strncmp(p, "SignedHeaders=", 14) == 0) {
            rc = copy_field(f->signed_headers, sizeof(f->signed_headers), p + 14, len - 14);
        } else if (strncmp(p, "Signature=", 10) == 0) {
            rc = copy_field(f->signature, sizeof(f->signature), p + 10, len - 10);
        }
        if (rc) {
            return -1;
        }
        p += len;
    }
    return f->credential[0] && f->signed_headers[0] && f->signature[0] ? 0 : -1;
}

static int split_scope(struct auth_fields *f)
{
    char **parts[] = {&f->akid, &f->date, &f->region, &f->service, &f->terminator};
    char *p = f->credential;
    for (size_t i = 0; i < 5; i++) {
        *parts[i] = p;
        char *slash = strchr(p, '/');
        if (i < 4) {
            if (!slash) {
                return -1;
            }
            *slash = '\0';
            p = slash + 1;
        } else if (slash) {
            return -1;
        }
    }
    return strcmp(f->terminator, "aws4_request") == 0 && strlen(f->date) == 8 &&
                   strlen(f->service) <= FY_SIGV4_SERVICE_MAX && strlen(f->region) <= 32 &&
                   strlen(f->akid) < 64
               ? 0
               : -1;
}

static int parse_amz_date(const char *s, int64_t *out)
{
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    if (!s || strlen(s) != 16 || s[8] != 'T' || s[15] != 'Z') {
        return -1;
    }
    for (int i = 0; i < 15; i++) {
        if (i != 8 && (s[i] < '0' || s[i] > '9')) {
            return -1;
        }
    }
#define D2(i) ((s[i] - '0') * 10 + (s[i + 1] - '0'))
    tm.tm_year = D2(0) * 100 + D2(2) - 1900;
    tm.tm_mon = D2(4) - 1;
    tm.tm_mday = D2(6);
    tm.tm_hour = D2(9);
    tm.tm_min = D2(11);
    tm.tm_sec = D2(13);
#undef D2
    *out = (int64_t)timegm(&tm);
    return 0;
}

static const struct fy_sigv4_credentials *
find_cred(const struct fy_sigv4_credentials *creds, size_t n, const char *akid)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(creds[i].access_key, akid) == 0) {
            return &creds[i];
        }
    }
    return NULL;
}

static fy_err check_header(const struct fy_sigv4_request *req,
                           struct auth_fields *f,
                           const char **amz_date,
                           struct fy_errmsg *em)
{
    const char *auth = req->header(req->header_ctx, "authorization");
    if (!auth) {
        return fy_fail(em, FY_ERR_MISSING_AUTH, "Missing Authentication Token");
    }
    if (strncmp(auth, SIGV4_ALGO " ", strlen(SIGV4_ALGO) + 1) != 0 ||
        parse_auth_params(auth + strlen(SIGV4_ALGO) + 1, f) != 0 || split_scope(f) != 0) {
        return fy_fail(em, FY_ERR_INVALID_SIGNATURE,
                       "Authorization header requires 'Credential', 'Signature' and "
                       "'SignedHeaders' parameters in the AWS4-HMAC-SHA256 form");
    }
    *amz_date = req->header(req->header_ctx, "x-amz-date");
    if (!*amz_date || strncmp(*amz_date, f->date, 8) != 0) {
        return fy_fail(em, FY_ERR_INVALID_SIGNATURE,
                       "X-Amz-Date is missing or does not match the credential scope date");
    }
    return FY_ERR_OK;
}

/* fy_sigv4_secret_fn over a fixed array of credentials. */
struct cred_array {
    const struct fy_sigv4_credentials *creds;
    size_t n;
};

static const char *array_secret(void *ctx, const char *akid)
{
    const struct cred_array *a = ctx;
    const struct fy_sigv4_credentials *c = find_cred(a->creds, a->n, akid);
    return c ? c->secret_key : NULL;
}

fy_err fy_sigv4_verify(const struct fy_sigv4_request *req,
                       const struct fy_sigv4_credentials *creds,
                       size_t n,
                       int64_t now,
                       struct fy_sigv4_result *out,
                       struct fy_errmsg *em)
{
    struct cred_array a = {creds, n};
    return fy_sigv4_verify_with(req, array_secret, &a, now, out, em);
}

fy_err fy_sigv4_verify_with(const struct fy_sigv4_request *req,
                            fy_sigv4_secret_fn secret,
                            void *secret_ctx,
                            int64_t now,
                            struct fy_sigv4_result *out,
                            struct fy_errmsg *em)
{
    struct auth_fields f;
    const char *amz_date = NULL;
    int64_t when;
    char expect[65];
    memset(&f, 0, sizeof(f));
    fy_err e = check_header(req, &f, &amz_date, em);
    if (e) {
        return e;
    }
    const char *key = secret(secret_ctx, f.akid);
    if (!key) {
        return fy_fail(em, FY_ERR_UNRECOGNIZED_CLIENT,
                       "The security token included in the request is invalid.");
    }
    if (parse_amz_date(amz_date, &when) != 0 || when > now + FY_SIGV4_MAX_SKEW_SECONDS ||
        when < now - FY_SIGV4_MAX_SKEW_SECONDS) {
        return fy_fail(em, FY_ERR_INVALID_SIGNATURE,
                       "Signature expired or not yet valid: %.20s is more than 15 minutes "
                       "from the server time",
                       amz_date);
    }
    e = fy_sigv4_sign(req, key, f.signed_headers, amz_date, f.region, f.service, expect);
    if (e) {
        return e == FY_ERR_NOMEM ? fy_fail(em, e, "Out of memory")
                                 : fy_fail(em, e, "Signed header missing or malformed");
    }
    if (strlen(f.signature) != 64 || CRYPTO_memcmp(expect, f.signature, 64) != 0) {
        return fy_fail(em, FY_ERR_INVALID_SIGNATURE,
                       "The request signature we calculated does not match the signature you "
                       "provided. Check your AWS Secret Access Key and signing method.");
    }
    snprintf(out->access_key, sizeof(out->access_key), "%s", f.akid);
    snprintf(out->region, sizeof(out->region), "%s", f.region);
    snprintf(out->service, sizeof(out->service), "%s", f.service);
    return FY_ERR_OK;
}
