/* Presigned URLs in job documents (presignedUrlConfig, AWS_IOT_BEHAVIOUR.md §5).
 *
 * AWS replaces ${aws:iot:s3-presigned-url:<url>} (and the -v2 form) in a job document with a
 * presigned S3 URL each time a device receives the document. fleetyard has no S3 and no IAM
 * roles: it presigns the placeholder's URL itself, in SigV4 query form for service "s3"
 * (X-Amz-Algorithm, -Credential, -Date, -Expires = expiresInSec, -SignedHeaders=host,
 * -Signature, payload UNSIGNED-PAYLOAD), with the operator credential fleetyard-server stores at
 * start. An S3-compatible store that knows that credential (MinIO, Ceph RGW...) accepts the URL
 * until it expires. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/codec.h"
#include "core/json.h"
#include "jobs/jobs_int.h"

#define PRESIGN_PREFIX     "${aws:iot:s3-presigned-url:"
#define PRESIGN_PREFIX_V2  "${aws:iot:s3-presigned-url-v2:"
#define PRESIGN_URL_MAX    2048 /* bytes of one placeholder's URL */
#define PRESIGN_QUERY_MAX  32   /* query parameters of one URL */
#define PRESIGN_REGION_MAX 32
#define SETTINGS_KEY       "jobs.presign_key"

static const char SQL_GET_KEY[] = "SELECT value FROM settings WHERE key = '" SETTINGS_KEY "'";
static const char SQL_PUT_KEY[] =
    "INSERT INTO settings(key, value) VALUES ('" SETTINGS_KEY "', ?2) "
    "ON CONFLICT(key) DO UPDATE SET value = excluded.value";
static const char SQL_DOC_CFG[] = "SELECT document, config FROM jobs WHERE id = ?1";

static bool unreserved(unsigned char c)
{
    return isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~';
}

/* Appends s[0..n) percent-encoded; keep lists bytes that stay as they are. */
static fy_err encode(struct fy_buf *b, const char *s, size_t n, const char *keep)
{
    static const char hex[] = "0123456789ABCDEF";
    fy_err e = FY_ERR_OK;
    for (size_t i = 0; !e && i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[3] = {'%', hex[c >> 4], hex[c & 15]};
        e = unreserved(c) || strchr(keep, c) ? fy_buf_append(b, &s[i], 1)
                                             : fy_buf_append(b, esc, 3);
    }
    return e;
}

/* The region of an S3 host name (s3.<r>.amazonaws.com, <bucket>.s3.<r>..., s3-<r>...,
 * s3.amazonaws.com = us-east-1), else fallback. */
static void host_region(const char *host, const char *fallback, char out[PRESIGN_REGION_MAX + 1])
{
    const char *s3 = strstr(host, "s3");
    const char *end = strstr(host, ".amazonaws.com");
    snprintf(out, PRESIGN_REGION_MAX + 1, "%s", fallback);
    if (!s3 || !end || s3 > end || (s3 != host && s3[-1] != '.')) {
        return;
    }
    if (s3 + 2 == end) {
        snprintf(out, PRESIGN_REGION_MAX + 1, "us-east-1");
    } else if (s3[2] == '.' || s3[2] == '-') {
        const char *r = s3 + 3;
        size_t n = (size_t)(end - r);
        if (strncmp(r, "dualstack.", 10) == 0) {
            r += 10;
            n -= 10;
        }
        if (n > 0 && n <= PRESIGN_REGION_MAX && !memchr(r, '.', n)) {
            snprintf(out, PRESIGN_REGION_MAX + 1, "%.*s", (int)n, r);
        }
    }
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The canonical query: the URL's own parameters (as given) and the X-Amz-* ones, sorted. */
static fy_err canonical_query(const char *query,
                              const struct fy_presign_key *k,
                              const char *scope,
                              const char *amz_date,
                              int64_t expires,
                              struct fy_buf *out)
{
    char *items[PRESIGN_QUERY_MAX + 5];
    char *copy = fy_strdup(query ? query : ""), *save = NULL;
    struct fy_buf cred;
    size_t n = 0;
    fy_err e = copy ? FY_ERR_OK : FY_ERR_NOMEM;
    fy_buf_init(&cred, PRESIGN_URL_MAX);
    for (char *p = copy; !e && p && *p; p = save) {
        save = strchr(p, '&');
        if (save) {
            *save++ = '\0';
        }
        e = n < PRESIGN_QUERY_MAX ? FY_ERR_OK : FY_ERR_INVALID_REQUEST;
        if (!e && *p) {
            items[n++] = p;
        }
    }
    if (!e) {
        e = fy_buf_printf(&cred, "X-Amz-Credential=%s%%2F", k->access_key);
    }
    if (!e) {
        e = encode(&cred, scope, strlen(scope), "");
    }
    char alg[] = "X-Amz-Algorithm=AWS4-HMAC-SHA256", date[40], exp[40],
         hdrs[] = "X-Amz-SignedHeaders=host";
    snprintf(date, sizeof(date), "X-Amz-Date=%s", amz_date);
    snprintf(exp, sizeof(exp), "X-Amz-Expires=%lld", (long long)expires);
    if (!e) {
        items[n++] = alg;
        items[n++] = cred.data;
        items[n++] = date;
        items[n++] = exp;
        items[n++] = hdrs;
        qsort(items, n, sizeof(items[0]), cmp_str);
    }
    for (size_t i = 0; !e && i < n; i++) {
        e = fy_buf_printf(out, "%s%s", i ? "&" : "", items[i]);
    }
    fy_buf_free(&cred);
    fy_free(copy);
    return e;
}

/* Splits https://host[:port]/path[?query] into its parts (pointers into a copy in *buf). */
static bool
split_url(const char *url, char **buf, char **scheme, char **host, char **path, char **query)
{
    char *sep = strstr(url, "://");
    if (!sep || strlen(url) > PRESIGN_URL_MAX || !(*buf = fy_strdup(url))) {
        return false;
    }
    *scheme = *buf;
    (*buf)[sep - url] = '\0';
    *host = *buf + (sep - url) + 3;
    char *slash = strchr(*host, '/');
    *query = strchr(slash ? slash : *host, '?');
    if (*query) {
        *(*query)++ = '\0';
    }
    *path = slash ? slash + 1 : (char *)"";
    if (slash) {
        *slash = '\0';
    }
    return (strcmp(*scheme, "https") == 0 || strcmp(*scheme, "http") == 0) && **host &&
           !strpbrk(*host, " #@");
}

fy_err fy_jobs_presign_url(
    const char *url, const struct fy_presign_key *k, int64_t expires, int64_t now, char **out)
{
    char *buf = NULL, *scheme, *host, *path, *query, region[PRESIGN_REGION_MAX + 1];
    char amz_date[17], day[9], scope[64], hash[65], sig[65];
    struct fy_buf uri, cq, creq;
    time_t t = (time_t)now;
    struct tm tm;
    *out = NULL;
    if (!split_url(url, &buf, &scheme, &host, &path, &query)) {
        fy_free(buf);
        return FY_ERR_INVALID_REQUEST;
    }
    gmtime_r(&t, &tm);
    strftime(amz_date, sizeof(amz_date), "%Y%m%dT%H%M%SZ", &tm);
    strftime(day, sizeof(day), "%Y%m%d", &tm);
    host_region(host, k->region, region);
    snprintf(scope, sizeof(scope), "%s/%s/s3/aws4_request", day, region);
    fy_buf_init(&uri, PRESIGN_URL_MAX * 3);
    fy_buf_init(&cq, PRESIGN_URL_MAX * 3);
    fy_buf_init(&creq, PRESIGN_URL_MAX * 8);
    fy_err e = fy_buf_append(&uri, "/", 1);
    if (!e) {
        e = encode(&uri, path, strlen(path), "/%");
    }
    if (!e) {
        e = canonical_query(query, k, scope, amz_date, expires, &cq);
    }
    if (!e) {
        e = fy_buf_printf(&creq, "GET\n%s\n%s\nhost:%s\n\nhost\nUNSIGNED-PAYLOAD", uri.data,
                          cq.data, host);
    }
    if (!e) {
        fy_sha256_hex(creq.data, creq.len, hash);
        fy_buf_free(&creq);
        e = fy_buf_printf(&creq, "AWS4-HMAC-SHA256\n%s\n%s\n%s", amz_date, scope, hash);
    }
    if (!e) {
        fy_aws4_signature(k->secret_key, day, region, "s3", creq.data, sig);
        fy_buf_free(&creq);
        e = fy_buf_printf(&creq, "%s://%s%s?%s&X-Amz-Signature=%s", scheme, host, uri.data, cq.data,
                          sig);
    }
    if (!e) {
        *out = creq.data; /* the buffer's storage is fy_malloc'ed */
        creq.data = NULL;
    }
    fy_buf_free(&creq);
    fy_buf_free(&uri);
    fy_buf_free(&cq);
    fy_free(buf);
    return e;
}

/* "https://s3.amazonaws.com/" + bucket_key as a new string. */
static char *with_scheme(const char *bucket_key)
{
    static const char base[] = "https://s3.amazonaws.com/";
    size_t n = strlen(bucket_key);
    char *s = fy_malloc(sizeof(base) + n);
    if (s) {
        memcpy(s, base, sizeof(base) - 1);
        memcpy(s + sizeof(base) - 1, bucket_key, n + 1);
    }
    return s;
}

/* s with each placeholder replaced (a new string in *out, NULL when s has none). */
static fy_err presign_string(
    const char *s, const struct fy_presign_key *k, int64_t expires, int64_t now, char **out)
{
    struct fy_buf b;
    const char *p = s, *at;
    fy_err e = FY_ERR_OK;
    *out = NULL;
    fy_buf_init(&b, FY_JOBS_DOCUMENT_MAX * 4);
    while (!e && (at = strstr(p, "${aws:iot:s3-presigned-url")) != NULL) {
        size_t pre = strncmp(at, PRESIGN_PREFIX, strlen(PRESIGN_PREFIX)) == 0
                         ? strlen(PRESIGN_PREFIX)
                     : strncmp(at, PRESIGN_PREFIX_V2, strlen(PRESIGN_PREFIX_V2)) == 0
                         ? strlen(PRESIGN_PREFIX_V2)
                         : 0;
        const char *close = pre ? strchr(at + pre, '}') : NULL;
        char *url = close ? fy_strndup(at + pre, (size_t)(close - at - (ptrdiff_t)pre)) : NULL;
        char *full = NULL, *signed_url = NULL;
        e = fy_buf_append(&b, p, (size_t)(at - p));
        if (!e && url) { /* the old form "<bucket>/<key>" has no scheme */
            full = strstr(url, "://") ? fy_strdup(url) : with_scheme(url);
        }
        if (!e && full && fy_jobs_presign_url(full, k, expires, now, &signed_url) == FY_ERR_OK) {
            e = fy_buf_append(&b, signed_url, strlen(signed_url));
        } else if (!e) { /* not a URL fleetyard can sign: left as it is */
            e = fy_buf_append(&b, at, close ? (size_t)(close - at + 1) : strlen(at));
        }
        p = close ? close + 1 : at + strlen(at);
        fy_free(url);
        fy_free(full);
        fy_free(signed_url);
    }
    if (!e && p != s) {
        e = fy_buf_append(&b, p, strlen(p));
    }
    if (!e && p != s) {
        *out = b.data;
        b.data = NULL;
    }
    fy_buf_free(&b);
    return e;
}

/* Replaces placeholders in every string value of j (recursively). */
static fy_err presign_json(json_t *j, const struct fy_presign_key *k, int64_t expires, int64_t now)
{
    fy_err e = FY_ERR_OK;
    if (json_is_object(j)) {
        const char *key;
        json_t *v;
        json_object_foreach (j, key, v) {
            e = e ? e : presign_json(v, k, expires, now);
        }
    } else if (json_is_array(j)) {
        size_t i;
        json_t *v;
        json_array_foreach (j, i, v) {
            e = e ? e : presign_json(v, k, expires, now);
        }
    } else if (json_is_string(j)) {
        char *s = NULL;
        e = presign_string(json_string_value(j), k, expires, now, &s);
        if (!e && s && json_string_set(j, s) != 0) {
            e = FY_ERR_NOMEM;
        }
        fy_free(s);
    }
    return e;
}

fy_err fy_jobs_presign_doc(const char *doc,
                           const struct fy_presign_key *k,
                           int64_t expires,
                           int64_t now,
                           char **out,
                           struct fy_errmsg *em)
{
    json_t *j = fy_json_loads(doc, 0);
    fy_err e = j ? presign_json(j, k, expires, now) : FY_ERR_INVALID_REQUEST;
    *out = e ? NULL : fy_json_dump(j);
    json_decref(j);
    if (!e && !*out) {
        e = FY_ERR_NOMEM;
    }
    return e ? fy_fail(em, e, "Cannot presign the job document's URLs") : FY_ERR_OK;
}

fy_err fy_jobs_presign_store(struct fy_db *db,
                             const char *access_key,
                             const char *secret_key,
                             const char *region,
                             struct fy_errmsg *em)
{
    char value[256];
    if ((size_t)snprintf(value, sizeof(value), "%s\n%s\n%s", access_key, secret_key, region) >=
        sizeof(value)) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST, "Signing key too long");
    }
    return fy_jobs_run(db, SQL_PUT_KEY, 0, value, 0, em);
}

/* The stored key; *found false when fleetyard-server never stored one. */
static fy_err
load_key(struct fy_db *db, struct fy_presign_key *k, bool *found, struct fy_errmsg *em)
{
    sqlite3_stmt *st = fy_db_stmt(db, SQL_GET_KEY, em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    int rc = sqlite3_step(st);
    const char *v = rc == SQLITE_ROW ? fy_col_text(st, 0) : "";
    char *fields[3] = {k->access_key, k->secret_key, k->region};
    size_t sizes[3] = {sizeof(k->access_key), sizeof(k->secret_key), sizeof(k->region)};
    *found = rc == SQLITE_ROW;
    for (int i = 0; i < 3; i++) {
        size_t n = strcspn(v, "\n");
        *found = *found && n > 0 && n < sizes[i];
        snprintf(fields[i], sizes[i], "%.*s", (int)n, v);
        v += n + (v[n] == '\n');
    }
    fy_stmt_done(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? FY_ERR_OK : fy_db_err(db, rc, em);
}

/* The document with its placeholders presigned when the job has a presignedUrlConfig (*doc is
 * replaced); left alone otherwise. */
static fy_err presign_if_configured(
    struct fy_db *db, const char *config, double now, char **doc, struct fy_errmsg *em)
{
    struct fy_presign_key k;
    bool found = false;
    json_t *j = fy_json_loads(config ? config : "{}", 0);
    json_t *p = json_object_get(j, "presignedUrlConfig");
    json_t *x = json_object_get(p, "expiresInSec");
    int64_t expires = json_is_integer(x) ? json_integer_value(x) : FY_JOBS_PRESIGN_EXPIRES_MAX;
    fy_err e = p ? load_key(db, &k, &found, em) : FY_ERR_OK;
    char *signed_doc = NULL;
    if (!e && found) {
        e = fy_jobs_presign_doc(*doc, &k, expires, (int64_t)now, &signed_doc, em);
    }
    if (!e && signed_doc) {
        fy_free(*doc);
        *doc = signed_doc;
    }
    json_decref(j);
    return e;
}

fy_err fy_job_doc_of(struct fy_db *db, int64_t job, double now, char **out, struct fy_errmsg *em)
{
    sqlite3_stmt *st = fy_db_stmt(db, SQL_DOC_CFG, em);
    char *config = NULL;
    *out = NULL;
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    sqlite3_bind_int64(st, 1, job);
    int rc = sqlite3_step(st);
    fy_err e = rc == SQLITE_ROW || rc == SQLITE_DONE ? FY_ERR_OK : fy_db_err(db, rc, em);
    if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
        *out = fy_strdup(fy_col_text(st, 0));
        config = fy_strdup(fy_col_text(st, 1));
        e = *out && config ? FY_ERR_OK : fy_fail(em, FY_ERR_NOMEM, "Out of memory");
    }
    fy_stmt_done(st);
    if (!e && *out && strstr(*out, "${aws:iot:s3-presigned-url")) {
        e = presign_if_configured(db, config, now, out, em);
    }
    if (e) {
        FY_FREE(*out);
    }
    fy_free(config);
    return e;
}
