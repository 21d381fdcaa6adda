/* SigV4: AWS test-suite vectors, botocore-produced vectors (double-encoded path), and every
 * verification outcome. */
#include <string.h>

#include "api/sigv4.h"
#include "core/alloc.h"
#include "tests/unit/tap.h"

#define SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define T0     1440938160 /* 20150830T123600Z */

struct hdrs {
    const char *names[8];
    const char *values[8];
};

static const char *lookup(void *ctx, const char *lname)
{
    struct hdrs *h = ctx;
    for (int i = 0; i < 8 && h->names[i]; i++) {
        if (strcmp(h->names[i], lname) == 0) {
            return h->values[i];
        }
    }
    return NULL;
}

static void check_sign(const char *method,
                       const char *path,
                       const char *query,
                       const char *body,
                       const char *service,
                       const char *want,
                       const char *what)
{
    struct hdrs h = {{"host", "x-amz-date"}, {"example.amazonaws.com", "20150830T123600Z"}};
    struct fy_sigv4_request r = {method, path, query, lookup, &h, body, strlen(body)};
    char sig[65] = "";
    fy_err e =
        fy_sigv4_sign(&r, SECRET, "host;x-amz-date", "20150830T123600Z", "us-east-1", service, sig);
    ok(e == FY_ERR_OK && strcmp(sig, want) == 0, "%s: %s", what, sig);
}

static fy_err
verify(const char *auth, const char *date, const char *body, int64_t now, const char *content_sha)
{
    struct hdrs h = {{"host", "x-amz-date", "authorization", "x-amz-content-sha256"},
                     {"example.amazonaws.com", date, auth, content_sha}};
    if (!auth) {
        h.names[2] = "x-none";
    }
    if (!content_sha) {
        h.names[3] = NULL;
    }
    struct fy_sigv4_request r = {"POST", "/things/t1", "", lookup, &h, body, strlen(body)};
    struct fy_sigv4_credentials creds[] = {{"AKIDOTHER", "other"}, {"AKIDEXAMPLE", SECRET}};
    struct fy_sigv4_result res;
    struct fy_errmsg em;
    return fy_sigv4_verify(&r, creds, 2, now, &res, &em);
}

#define AUTH_POST                                                                           \
    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/execute-api/aws4_request, " \
    "SignedHeaders=host;x-amz-date, "                                                       \
    "Signature=e1d4caa8a47c3ce045d154ff2dc3d0382cc22c3bab32b99aeda21ce13a349447"
#define BODY "{\"attributePayload\":{}}"

static void test_verify(void)
{
    ok(verify(AUTH_POST, "20150830T123600Z", BODY, T0, NULL) == FY_ERR_OK, "valid signature");
    ok(verify(AUTH_POST, "20150830T123600Z", BODY, T0 + 14 * 60, NULL) == FY_ERR_OK,
       "14 minutes of skew accepted");
    ok(verify(AUTH_POST, "20150830T123600Z", BODY, T0 + 16 * 60, NULL) == FY_ERR_INVALID_SIGNATURE,
       "16 minutes late rejected");
    ok(verify(AUTH_POST, "20150830T123600Z", BODY, T0 - 16 * 60, NULL) == FY_ERR_INVALID_SIGNATURE,
       "16 minutes early rejected");
    ok(verify(AUTH_POST, "20150830T123600Z", "{\"attributePayload\":{ }}", T0, NULL) ==
           FY_ERR_INVALID_SIGNATURE,
       "tampered body rejected");
    ok(verify(NULL, "20150830T123600Z", BODY, T0, NULL) == FY_ERR_MISSING_AUTH,
       "no Authorization -> MissingAuthenticationToken");
    ok(verify("AWS4-HMAC-SHA256 Credential=AKIDNOPE/20150830/us-east-1/iot/aws4_request, "
              "SignedHeaders=host;x-amz-date, Signature=00",
              "20150830T123600Z", BODY, T0, NULL) == FY_ERR_UNRECOGNIZED_CLIENT,
       "unknown key -> UnrecognizedClient");
    ok(verify("Basic abc", "20150830T123600Z", BODY, T0, NULL) == FY_ERR_INVALID_SIGNATURE,
       "other scheme rejected");
    ok(verify(AUTH_POST, "20150831T123600Z", BODY, T0, NULL) == FY_ERR_INVALID_SIGNATURE,
       "date not matching the scope rejected");
    ok(verify(AUTH_POST, "20150830T123600Z", BODY, T0, "UNSIGNED-PAYLOAD") ==
           FY_ERR_INVALID_SIGNATURE,
       "unsigned payload changes the canonical request");
    ok(verify(AUTH_POST, "20150830T123600Z", BODY, T0,
              "0000000000000000000000000000000000000000000000000000000000000000") ==
           FY_ERR_INVALID_SIGNATURE,
       "x-amz-content-sha256 not matching the body rejected");
}

/* fy_sigv4_secret_fn for the tests: ctx is the secret to hand out (NULL: key refused). */
static const char *secret_of(void *ctx, const char *akid)
{
    return strcmp(akid, "AKIDEXAMPLE") == 0 ? ctx : NULL;
}

static fy_err verify_with(const char *secret)
{
    struct hdrs h = {{"host", "x-amz-date", "authorization", NULL},
                     {"example.amazonaws.com", "20150830T123600Z", AUTH_POST, NULL}};
    struct fy_sigv4_request r = {"POST", "/things/t1", "", lookup, &h, BODY, strlen(BODY)};
    struct fy_sigv4_result res;
    struct fy_errmsg em;
    return fy_sigv4_verify_with(&r, secret_of, (void *)secret, T0, &res, &em);
}

static void test_verify_with(void)
{
    ok(verify_with(SECRET) == FY_ERR_OK, "callback: the key's secret verifies");
    ok(verify_with(NULL) == FY_ERR_UNRECOGNIZED_CLIENT,
       "callback: a refused (inactive) key -> UnrecognizedClient");
    ok(verify_with("rotated-away") == FY_ERR_INVALID_SIGNATURE,
       "callback: another secret (rotated) -> InvalidSignature");
}

static void test_canonical(void)
{
    char *u = fy_sigv4_canonical_uri("/things/a%3Ab");
    ok(u && strcmp(u, "/things/a%253Ab") == 0, "path encoded twice: %s", u ? u : "(null)");
    fy_free(u);
    u = fy_sigv4_canonical_uri("");
    ok(u && strcmp(u, "/") == 0, "empty path is /");
    fy_free(u);
    char *q = fy_sigv4_canonical_query("b=2&a=x%20y&a=1&c");
    ok(q && strcmp(q, "a=1&a=x%20y&b=2&c=") == 0, "query sorted and re-encoded: %s",
       q ? q : "(null)");
    fy_free(q);
    q = fy_sigv4_canonical_query("k=a%2Fb%3A~");
    ok(q && strcmp(q, "k=a%2Fb%3A~") == 0, "reserved characters stay encoded: %s",
       q ? q : "(null)");
    fy_free(q);
    q = fy_sigv4_canonical_query("k=%zz");
    ok(q == NULL, "bad escape in query rejected");
    char *d = fy_pct_decode("a%3Ab%2f", 8);
    ok(d && strcmp(d, "a:b/") == 0, "percent-decoding");
    fy_free(d);
    d = fy_pct_decode("a%3", 3);
    ok(d == NULL, "truncated escape rejected");
}

int main(void)
{
    check_sign("GET", "/", "", "", "service",
               "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
               "aws suite get-vanilla");
    check_sign("GET", "/", "Param2=value2&Param1=value1", "", "service",
               "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
               "aws suite get-vanilla-query-order-key-case");
    check_sign("GET", "/things/a%3Ab", "", "", "iot",
               "f140ec77bd12da4713a1d917741d3587068c67301e9fa58d92738c43a70f0375",
               "botocore: thing a:b signed double-encoded");
    check_sign("POST", "/things/t1", "", BODY, "execute-api",
               "e1d4caa8a47c3ce045d154ff2dc3d0382cc22c3bab32b99aeda21ce13a349447",
               "botocore: POST body hash");
    test_canonical();
    test_verify();
    test_verify_with();
    return done();
}
