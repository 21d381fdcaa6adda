/* Jobs pure rules around the job document and namespaces: documentParameters and namespaceId
 * validation on both sides of each limit, SigV4 presigning of document URLs (AWS's published
 * query-string example as the known answer), placeholder substitution, and the detection of
 * namespaced execution changes. */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/json.h"
#include "jobs/jobs.h"
#include "tests/unit/tap.h"

static fy_err params(const char *text)
{
    struct fy_errmsg em;
    json_t *j = json_loads(text, 0, NULL);
    fy_err e = j ? fy_jobs_params_check(j, &em) : FY_ERR_INTERNAL;
    json_decref(j);
    return e;
}

/* A JSON object {"<key>": "<value>"} with key of kn 'k's and value of vn copies of unit. */
static fy_err params_sized(size_t kn, size_t vn, const char *unit)
{
    char key[200], *val = fy_calloc(vn * strlen(unit) + 1, 1);
    memset(key, 'k', kn);
    key[kn] = '\0';
    for (size_t i = 0; val && i < vn; i++) {
        memcpy(val + i * strlen(unit), unit, strlen(unit));
    }
    json_t *j = val ? json_pack("{s:s}", key, val) : NULL;
    struct fy_errmsg em;
    fy_err e = j ? fy_jobs_params_check(j, &em) : FY_ERR_INTERNAL;
    json_decref(j);
    fy_free(val);
    return e;
}

static void test_params(void)
{
    ok(params("{\"a\":\"1\",\"B_-9\":\"x y\"}") == FY_ERR_OK, "well-formed parameters");
    ok(params("{}") == FY_ERR_OK, "an empty map");
    ok(params_sized(FY_JOBS_PARAM_KEY_MAX, 1, "v") == FY_ERR_OK, "key of 128 characters");
    ok(params_sized(FY_JOBS_PARAM_KEY_MAX + 1, 1, "v") == FY_ERR_INVALID_REQUEST,
       "key of 129 characters refused");
    ok(params_sized(1, FY_JOBS_PARAM_VALUE_MAX, "v") == FY_ERR_OK, "value of 512 characters");
    ok(params_sized(1, FY_JOBS_PARAM_VALUE_MAX + 1, "v") == FY_ERR_INVALID_REQUEST,
       "value of 513 characters refused");
    ok(params_sized(1, FY_JOBS_PARAM_VALUE_MAX, "\xc3\xa9") == FY_ERR_OK,
       "512 two-byte characters (1024 bytes) fit: the limit counts characters");
    ok(params("{\"a\":\"\"}") == FY_ERR_INVALID_REQUEST, "empty value refused");
    ok(params("{\"a\":\"x\\ny\"}") == FY_ERR_INVALID_REQUEST &&
           params("{\"a\":\"x\\u0085\"}") == FY_ERR_INVALID_REQUEST &&
           params("{\"a\":\"x\\u007f\"}") == FY_ERR_INVALID_REQUEST,
       "control characters (C0, DEL, C1) refused");
    ok(params("{\"a.b\":\"1\"}") == FY_ERR_INVALID_REQUEST &&
           params("{\"a b\":\"1\"}") == FY_ERR_INVALID_REQUEST &&
           params("{\"\":\"1\"}") == FY_ERR_INVALID_REQUEST,
       "keys outside [a-zA-Z0-9_-]+ refused");
    ok(params("{\"a\":1}") == FY_ERR_INVALID_REQUEST && params("[]") == FY_ERR_INVALID_REQUEST,
       "values must be strings, the parameters a map");
}

static void test_namespace(void)
{
    char ns[FY_JOBS_NAMESPACE_MAX + 2];
    memset(ns, 'n', sizeof(ns) - 1);
    ns[sizeof(ns) - 1] = '\0';
    ok(!fy_jobs_valid_namespace(ns), "namespace of 65 characters refused");
    ns[FY_JOBS_NAMESPACE_MAX] = '\0';
    ok(fy_jobs_valid_namespace(ns), "namespace of 64 characters");
    ok(fy_jobs_valid_namespace("aws-gg-deployment") && fy_jobs_valid_namespace("a_1"),
       "namespaces of [a-zA-Z0-9_-]");
    ok(!fy_jobs_valid_namespace("") && !fy_jobs_valid_namespace("a/b") &&
           !fy_jobs_valid_namespace("a+") && !fy_jobs_valid_namespace("a#"),
       "empty, '/', and MQTT wildcards refused");
}

static const struct fy_presign_key KEY = {"AKIAIOSFODNN7EXAMPLE",
                                          "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "eu-west-3"};
#define T_2013_05_24 1369353600 /* 2013-05-24T00:00:00Z */

static void test_presign_url(void)
{
    char *u = NULL;
    /* The S3 documentation's query-string authentication example. */
    fy_err e = fy_jobs_presign_url("https://examplebucket.s3.amazonaws.com/test.txt", &KEY, 86400,
                                   T_2013_05_24, &u);
    ok(e == FY_ERR_OK && u &&
           strcmp(u, "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-"
                     "SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%"
                     "2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-"
                     "SignedHeaders=host&X-Amz-Signature="
                     "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404") == 0,
       "AWS's published presigned URL reproduced: %s", u ? u : "");
    fy_free(u);
    e = fy_jobs_presign_url("https://s3.us-west-2.amazonaws.com/b/k", &KEY, 60, T_2013_05_24, &u);
    ok(e == FY_ERR_OK && strstr(u, "%2Fus-west-2%2Fs3%2F") && strstr(u, "X-Amz-Expires=60&"),
       "region from the host; expiry as given: %s", u ? u : "");
    fy_free(u);
    e = fy_jobs_presign_url("http://minio.plant:9000/fw/a b.bin?versionId=3", &KEY, 3600,
                            T_2013_05_24, &u);
    ok(e == FY_ERR_OK &&
           strncmp(u, "http://minio.plant:9000/fw/a%20b.bin?X-Amz-Algorithm=", 53) == 0 &&
           strstr(u, "%2Feu-west-3%2Fs3%2F") && strstr(u, "&versionId=3&X-Amz-Signature="),
       "other hosts: the key's region, the URL's own query signed too: %s", u ? u : "");
    fy_free(u);
    u = NULL;
    ok(fy_jobs_presign_url("ftp://h/x", &KEY, 60, T_2013_05_24, &u) == FY_ERR_INVALID_REQUEST &&
           fy_jobs_presign_url("no-scheme/x", &KEY, 60, T_2013_05_24, &u) ==
               FY_ERR_INVALID_REQUEST &&
           !u,
       "URLs it cannot sign refused");
}

static void test_presign_doc(void)
{
    struct fy_errmsg em;
    char *out = NULL;
    const char *doc = "{\"a\":\"${aws:iot:s3-presigned-url:https://s3.amazonaws.com/b/k}\","
                      "\"l\":[\"get ${aws:iot:s3-presigned-url-v2:https://b.s3.eu-west-1."
                      "amazonaws.com/x} now\",3],\"old\":\"${aws:iot:s3-presigned-url:b2/k2}\","
                      "\"bad\":\"${aws:iot:s3-presigned-url:ftp://x}\",\"n\":{\"k\":\"plain\"}}";
    fy_err e = fy_jobs_presign_doc(doc, &KEY, 120, T_2013_05_24, &out, &em);
    json_t *j = e ? NULL : json_loads(out, 0, NULL);
    const char *a = json_string_value(json_object_get(j, "a"));
    const char *l = json_string_value(json_array_get(json_object_get(j, "l"), 0));
    const char *old = json_string_value(json_object_get(j, "old"));
    ok(a && strncmp(a, "https://s3.amazonaws.com/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&", 62) == 0 &&
           strstr(a, "X-Amz-Expires=120&"),
       "placeholder replaced by a presigned URL: %s", a ? a : "");
    ok(l && strncmp(l, "get https://b.s3.eu-west-1.amazonaws.com/x?", 43) == 0 &&
           strstr(l, " now") && strstr(l, "%2Feu-west-1%2F"),
       "the -v2 form, inside other text: %s", l ? l : "");
    ok(old && strncmp(old, "https://s3.amazonaws.com/b2/k2?X-Amz-", 37) == 0,
       "the old bucket/key form: %s", old ? old : "");
    ok(strcmp(json_string_value(json_object_get(j, "bad")),
              "${aws:iot:s3-presigned-url:ftp://x}") == 0 &&
           json_integer_value(json_array_get(json_object_get(j, "l"), 1)) == 3 &&
           strcmp(json_string_value(json_object_get(json_object_get(j, "n"), "k")), "plain") == 0,
       "what it cannot sign, and everything else, unchanged");
    json_decref(j);
    fy_free(out);
}

static void test_ns_diff(void)
{
    struct fy_errmsg em;
    char *acc = NULL;
    fy_err e = fy_jobs_ns_diff("j1\tns\t1:QUEUED:1\nj2\tns\t1:QUEUED:1",
                               "j1\tns\t1:IN_PROGRESS:2\nj2\tns\t1:QUEUED:1\nj3\tgg\t1:QUEUED:1", 2,
                               &acc, &em);
    ok(e == FY_ERR_OK && acc && strcmp(acc, "j1\tns\nj3\tgg\n") == 0,
       "changed and new namespaced executions, each job once");
    fy_free(acc);
    acc = NULL;
    e = fy_jobs_ns_diff("j1\tns\t1:QUEUED:1", "", 2, &acc, &em);
    ok(e == FY_ERR_OK && acc && strcmp(acc, "j1\tns\n") == 0, "an execution that left");
    fy_free(acc);
    acc = NULL;
    e = fy_jobs_ns_diff("j1\tns\t1:QUEUED:1", "j1\tns\t1:QUEUED:1", 2, &acc, &em);
    ok(e == FY_ERR_OK && acc == NULL, "no change, nothing to publish");
    e = fy_jobs_ns_diff("ns\tj1#1\ngg\tj7#1", "ns\tj2#1\ngg\tj7#1\nx\tj9#2", 1, &acc, &em);
    ok(e == FY_ERR_OK && acc && strcmp(acc, "ns\nx\n") == 0,
       "namespaces whose next execution changed (one key field)");
    fy_free(acc);
}

int main(void)
{
    fy_json_init();
    test_params();
    test_namespace();
    test_presign_url();
    test_presign_doc();
    test_ns_diff();
    return done();
}
