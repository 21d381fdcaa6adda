/* Unit tests for shadow/: merge rules, delta, metadata, limits (both sides), version conflict,
 * clientToken. Table-driven over fy_shadow_apply (pure, no I/O). */
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/json.h"
#include "shadow/shadow.h"
#include "tests/unit/tap.h"

#define TS 1700000000

/* A stored document from a state (metadata derived by applying it as an update). */
static char *doc_of(const char *state)
{
    struct fy_shadow_update u;
    struct fy_errmsg em;
    char req[4096];
    if (!state) {
        return NULL;
    }
    snprintf(req, sizeof(req), "{\"state\":%s}", state);
    if (fy_shadow_apply(NULL, 0, req, strlen(req), TS - 10, &u, &em) != FY_ERR_OK) {
        return NULL;
    }
    char *doc = u.doc;
    u.doc = NULL;
    fy_shadow_update_clear(&u);
    return doc;
}

static bool json_str_eq(const json_t *j, const char *want)
{
    json_t *w = json_loads(want, JSON_DECODE_ANY, NULL);
    bool eq = w && json_equal(j, w);
    json_decref(w);
    return eq;
}

/* Member `key` of serialized document s equals JSON text want ("absent" = no such member). */
static bool member_is(const char *s, const char *key, const char *want)
{
    json_t *j = s ? json_loads(s, 0, NULL) : NULL;
    json_t *v = json_object_get(j, key);
    bool r = strcmp(want, "absent") == 0 ? v == NULL : json_str_eq(v, want);
    json_decref(j);
    return r;
}

struct merge_row {
    const char *name;
    const char *before; /* state or NULL */
    const char *req;
    const char *after; /* resulting state */
    const char *delta; /* delta state or "absent" */
};

static const struct merge_row MERGE[] = {
    {"new shadow", NULL, "{\"state\":{\"desired\":{\"a\":1}}}", "{\"desired\":{\"a\":1}}",
     "{\"a\":1}"},
    {"scalar replaces", "{\"desired\":{\"a\":1}}", "{\"state\":{\"desired\":{\"a\":2}}}",
     "{\"desired\":{\"a\":2}}", "{\"a\":2}"},
    {"objects merge", "{\"desired\":{\"o\":{\"x\":1,\"y\":1}}}",
     "{\"state\":{\"desired\":{\"o\":{\"y\":2,\"z\":3}}}}",
     "{\"desired\":{\"o\":{\"x\":1,\"y\":2,\"z\":3}}}", "{\"o\":{\"x\":1,\"y\":2,\"z\":3}}"},
    {"array replaces", "{\"desired\":{\"l\":[1,2,3]}}", "{\"state\":{\"desired\":{\"l\":[4]}}}",
     "{\"desired\":{\"l\":[4]}}", "{\"l\":[4]}"},
    {"object replaces scalar", "{\"desired\":{\"a\":1}}",
     "{\"state\":{\"desired\":{\"a\":{\"b\":1}}}}", "{\"desired\":{\"a\":{\"b\":1}}}",
     "{\"a\":{\"b\":1}}"},
    {"scalar replaces object", "{\"desired\":{\"a\":{\"b\":1}}}",
     "{\"state\":{\"desired\":{\"a\":5}}}", "{\"desired\":{\"a\":5}}", "{\"a\":5}"},
    {"null deletes key", "{\"desired\":{\"a\":1,\"b\":2}}",
     "{\"state\":{\"desired\":{\"a\":null}}}", "{\"desired\":{\"b\":2}}", "{\"b\":2}"},
    {"null deletes nested key", "{\"desired\":{\"o\":{\"x\":1,\"y\":2}}}",
     "{\"state\":{\"desired\":{\"o\":{\"x\":null}}}}", "{\"desired\":{\"o\":{\"y\":2}}}",
     "{\"o\":{\"y\":2}}"},
    {"desired null deletes section", "{\"desired\":{\"a\":1},\"reported\":{\"a\":2}}",
     "{\"state\":{\"desired\":null}}", "{\"reported\":{\"a\":2}}", "absent"},
    {"state null clears", "{\"desired\":{\"a\":1},\"reported\":{\"a\":2}}", "{\"state\":null}",
     "{}", "absent"},
    {"empty state", "{\"desired\":{\"a\":1}}", "{\"state\":{}}", "{\"desired\":{\"a\":1}}",
     "absent"},
    {"other state keys ignored", NULL, "{\"state\":{\"reported\":{\"a\":1},\"other\":1}}",
     "{\"reported\":{\"a\":1}}", "absent"},
    {"reported equal: no delta", "{\"desired\":{\"a\":1}}", "{\"state\":{\"reported\":{\"a\":1}}}",
     "{\"desired\":{\"a\":1},\"reported\":{\"a\":1}}", "absent"},
    {"delta: only differing leaves",
     "{\"desired\":{\"o\":{\"x\":1,\"y\":2},\"k\":\"v\"},\"reported\":{\"o\":{\"x\":1,\"y\":1}}}",
     "{\"state\":{\"desired\":{\"k\":\"v\"}}}",
     "{\"desired\":{\"o\":{\"x\":1,\"y\":2},\"k\":\"v\"},\"reported\":{\"o\":{\"x\":1,\"y\":1}}}",
     "{\"o\":{\"y\":2},\"k\":\"v\"}"},
    {"delta: arrays compared whole", "{\"reported\":{\"l\":[1,2]}}",
     "{\"state\":{\"desired\":{\"l\":[1,3]}}}",
     "{\"desired\":{\"l\":[1,3]},\"reported\":{\"l\":[1,2]}}", "{\"l\":[1,3]}"},
    {"delta: reported-only keys never appear", "{\"reported\":{\"r\":1}}",
     "{\"state\":{\"desired\":{\"d\":1}}}", "{\"desired\":{\"d\":1},\"reported\":{\"r\":1}}",
     "{\"d\":1}"},
    {"delta: object vs scalar", "{\"reported\":{\"o\":1}}",
     "{\"state\":{\"desired\":{\"o\":{\"x\":1}}}}",
     "{\"desired\":{\"o\":{\"x\":1}},\"reported\":{\"o\":1}}", "{\"o\":{\"x\":1}}"},
    {"reported-only update sends no delta", "{\"desired\":{\"a\":1}}",
     "{\"state\":{\"reported\":{\"a\":2}}}", "{\"desired\":{\"a\":1},\"reported\":{\"a\":2}}",
     "absent"},
    {"empty section dropped", "{\"desired\":{\"a\":1}}", "{\"state\":{\"desired\":{\"a\":null}}}",
     "{}", "absent"},
};

static void test_merge(void)
{
    for (size_t i = 0; i < sizeof(MERGE) / sizeof(MERGE[0]); i++) {
        const struct merge_row *r = &MERGE[i];
        struct fy_shadow_update u;
        struct fy_errmsg em = {{0}};
        char *doc = doc_of(r->before);
        fy_err e = fy_shadow_apply(doc, r->before ? 1 : 0, r->req, strlen(r->req), TS, &u, &em);
        ok(e == FY_ERR_OK, "%s: accepted (%s)", r->name, em.msg);
        json_t *j = u.doc ? json_loads(u.doc, 0, NULL) : NULL;
        ok(json_str_eq(json_object_get(j, "state"), r->after), "%s: state %s", r->name,
           u.doc ? u.doc : "(null)");
        json_t *jd = u.delta ? json_loads(u.delta, 0, NULL) : NULL;
        if (strcmp(r->delta, "absent") == 0) {
            ok(u.delta == NULL, "%s: no delta message", r->name);
        } else {
            ok(json_str_eq(json_object_get(jd, "state"), r->delta), "%s: delta %s", r->name,
               u.delta ? u.delta : "(null)");
        }
        ok(u.version == (r->before ? 2 : 1), "%s: version", r->name);
        json_decref(jd);
        json_decref(j);
        fy_shadow_update_clear(&u);
        fy_free(doc);
    }
}

struct err_row {
    const char *name;
    const char *req;
    fy_err code;
    const char *msg;
};

static const struct err_row ERRORS[] = {
    {"not json", "{nope", FY_ERR_INVALID_REQUEST, "Invalid JSON"},
    {"not an object", "[1]", FY_ERR_INVALID_REQUEST, "Invalid JSON"},
    {"missing state", "{\"version\":1}", FY_ERR_INVALID_REQUEST, "Missing required node: state"},
    {"state scalar", "{\"state\":1}", FY_ERR_INVALID_REQUEST, "State node must be an object"},
    {"desired scalar", "{\"state\":{\"desired\":1}}", FY_ERR_INVALID_REQUEST,
     "Desired node must be an object"},
    {"reported array", "{\"state\":{\"reported\":[1]}}", FY_ERR_INVALID_REQUEST,
     "Reported node must be an object"},
    {"version string", "{\"state\":{},\"version\":\"1\"}", FY_ERR_INVALID_REQUEST,
     "Invalid version"},
    {"version negative", "{\"state\":{},\"version\":-1}", FY_ERR_INVALID_REQUEST,
     "Invalid version"},
    {"version conflict", "{\"state\":{},\"version\":7}", FY_ERR_CONFLICT, "Version conflict"},
    {"clientToken number", "{\"state\":{},\"clientToken\":5}", FY_ERR_INVALID_REQUEST,
     "Invalid clientToken"},
    {"array with null", "{\"state\":{\"desired\":{\"l\":[1,null]}}}", FY_ERR_INVALID_REQUEST,
     "State contains an invalid node"},
    {"nested array with null", "{\"state\":{\"reported\":{\"l\":[{\"a\":[null]}]}}}",
     FY_ERR_INVALID_REQUEST, "State contains an invalid node"},
    {"invalid utf-8", "{\"state\":{\"desired\":{\"a\":\"\xff\"}}}", FY_ERR_UNSUPPORTED_ENCODING,
     "Unsupported documented encoding; supported encoding is UTF-8"},
    {"duplicate keys", "{\"state\":{},\"state\":{}}", FY_ERR_INVALID_REQUEST, "Invalid JSON"},
};

static void test_errors(void)
{
    char *doc = doc_of("{\"desired\":{\"a\":1}}");
    for (size_t i = 0; i < sizeof(ERRORS) / sizeof(ERRORS[0]); i++) {
        const struct err_row *r = &ERRORS[i];
        struct fy_shadow_update u;
        struct fy_errmsg em = {{0}};
        fy_err e = fy_shadow_apply(doc, 3, r->req, strlen(r->req), TS, &u, &em);
        ok(e == r->code && strcmp(em.msg, r->msg) == 0, "%s: %s / %s", r->name, fy_err_name(e),
           em.msg);
        ok(u.doc == NULL && u.reply == NULL, "%s: nothing produced", r->name);
    }
    fy_free(doc);
}

/* {"state":{"<section>": <object nested `depth` levels deep>}} into buf. */
static void nested_req(char *buf, size_t cap, const char *section, int depth)
{
    size_t n = (size_t)snprintf(buf, cap, "{\"state\":{\"%s\":", section);
    for (int i = 0; i < depth - 1; i++) {
        n += (size_t)snprintf(buf + n, cap - n, "{\"a\":");
    }
    n += (size_t)snprintf(buf + n, cap - n, "{\"a\":1}");
    for (int i = 0; i < depth - 1; i++) {
        n += (size_t)snprintf(buf + n, cap - n, "}");
    }
    snprintf(buf + n, cap - n, "}}");
}

static fy_err apply_str(const char *doc, int64_t ver, const char *req, struct fy_errmsg *em)
{
    struct fy_shadow_update u;
    fy_err e = fy_shadow_apply(doc, ver, req, strlen(req), TS, &u, em);
    fy_shadow_update_clear(&u);
    return e;
}

static void test_depth(void)
{
    static const char *const SECTION[] = {"desired", "reported"};
    char req[512];
    struct fy_errmsg em;
    for (int s = 0; s < 2; s++) {
        nested_req(req, sizeof(req), SECTION[s], FY_SHADOW_DEPTH_MAX);
        ok(apply_str(NULL, 0, req, &em) == FY_ERR_OK, "%s depth %d accepted", SECTION[s],
           FY_SHADOW_DEPTH_MAX);
        nested_req(req, sizeof(req), SECTION[s], FY_SHADOW_DEPTH_MAX + 1);
        fy_err e = apply_str(NULL, 0, req, &em);
        ok(e == FY_ERR_INVALID_REQUEST &&
               strcmp(em.msg, "JSON contains too many levels of nesting; maximum is 6") == 0,
           "%s depth %d rejected: %s", SECTION[s], FY_SHADOW_DEPTH_MAX + 1, em.msg);
    }
}

/* {"state":{"desired":{"k":"xxx"}}} whose state object serializes to exactly `size` bytes. */
static char *sized_req(size_t size, const char *section)
{
    static const char PRE[] = "{\"state\":{\"";
    size_t fill = size - strlen("{\"\":{\"k\":\"\"}}") - strlen(section);
    char *buf = fy_malloc(size + 64);
    size_t n = (size_t)snprintf(buf, size + 64, "%s%s\":{\"k\":\"", PRE, section);
    memset(buf + n, 'x', fill);
    snprintf(buf + n + fill, size + 64 - n - fill, "\"}}}");
    return buf;
}

static void test_doc_size(void)
{
    struct fy_errmsg em;
    char *req = sized_req(FY_SHADOW_DOC_MAX, "desired");
    ok(apply_str(NULL, 0, req, &em) == FY_ERR_OK, "state of %d bytes accepted (%s)",
       FY_SHADOW_DOC_MAX, em.msg);
    fy_free(req);
    req = sized_req(FY_SHADOW_DOC_MAX + 1, "reported");
    fy_err e = apply_str(NULL, 0, req, &em);
    ok(e == FY_ERR_PAYLOAD_TOO_LARGE &&
           strcmp(em.msg, "The payload exceeds the maximum size allowed") == 0,
       "state of %d bytes rejected: %s", FY_SHADOW_DOC_MAX + 1, em.msg);
    fy_free(req);
    /* the merged document counts: 5000 stored + 4000 sent */
    char *half = sized_req(5000, "reported");
    char *doc = NULL;
    struct fy_shadow_update u;
    if (fy_shadow_apply(NULL, 0, half, strlen(half), TS, &u, &em) == FY_ERR_OK) {
        doc = u.doc;
        u.doc = NULL;
        fy_shadow_update_clear(&u);
    }
    req = sized_req(4000, "desired");
    ok(apply_str(doc, 1, req, &em) == FY_ERR_PAYLOAD_TOO_LARGE, "merged document too large");
    fy_free(req);
    fy_free(half);
    fy_free(doc);
}

static void test_request_size(void)
{
    struct fy_errmsg em;
    char *buf = fy_malloc(FY_SHADOW_REQUEST_MAX + 2);
    memset(buf, ' ', FY_SHADOW_REQUEST_MAX + 1);
    memcpy(buf, "{\"state\":{}}", 12);
    struct fy_shadow_update u;
    ok(fy_shadow_apply(NULL, 0, buf, FY_SHADOW_REQUEST_MAX, TS, &u, &em) == FY_ERR_OK,
       "request of %d bytes accepted", FY_SHADOW_REQUEST_MAX);
    fy_shadow_update_clear(&u);
    ok(fy_shadow_apply(NULL, 0, buf, FY_SHADOW_REQUEST_MAX + 1, TS, &u, &em) ==
           FY_ERR_PAYLOAD_TOO_LARGE,
       "request of %d bytes rejected", FY_SHADOW_REQUEST_MAX + 1);
    fy_free(buf);
}

static void test_client_token(void)
{
    char tok[FY_SHADOW_TOKEN_MAX + 2], req[256], want[100];
    struct fy_errmsg em;
    struct fy_shadow_update u;
    memset(tok, 't', sizeof(tok));
    tok[FY_SHADOW_TOKEN_MAX] = '\0';
    snprintf(req, sizeof(req), "{\"state\":{\"desired\":{\"a\":1}},\"clientToken\":\"%s\"}", tok);
    snprintf(want, sizeof(want), "\"%s\"", tok);
    ok(fy_shadow_apply(NULL, 0, req, strlen(req), TS, &u, &em) == FY_ERR_OK,
       "clientToken of %d bytes accepted", FY_SHADOW_TOKEN_MAX);
    ok(member_is(u.reply, "clientToken", want), "clientToken echoed in accepted");
    ok(member_is(u.delta, "clientToken", want), "clientToken echoed in delta");
    ok(member_is(u.documents, "clientToken", want), "clientToken echoed in documents");
    fy_shadow_update_clear(&u);
    tok[FY_SHADOW_TOKEN_MAX] = 't';
    tok[FY_SHADOW_TOKEN_MAX + 1] = '\0';
    snprintf(req, sizeof(req), "{\"state\":{},\"clientToken\":\"%s\"}", tok);
    fy_err e = apply_str(NULL, 0, req, &em);
    ok(e == FY_ERR_INVALID_REQUEST && strcmp(em.msg, "Invalid clientToken") == 0,
       "clientToken of %d bytes rejected", FY_SHADOW_TOKEN_MAX + 1);
}

static void test_version(void)
{
    struct fy_errmsg em;
    struct fy_shadow_update u;
    char *doc = doc_of("{\"desired\":{\"a\":1}}");
    const char *req = "{\"state\":{\"desired\":{\"a\":2}},\"version\":4}";
    ok(fy_shadow_apply(doc, 4, req, strlen(req), TS, &u, &em) == FY_ERR_OK && u.version == 5,
       "matching version accepted, +1");
    ok(member_is(u.reply, "version", "5"), "accepted carries the new version");
    fy_shadow_update_clear(&u);
    ok(apply_str(doc, 5, req, &em) == FY_ERR_CONFLICT, "older version -> conflict");
    ok(apply_str(doc, 3, req, &em) == FY_ERR_CONFLICT, "newer version -> conflict");
    req = "{\"state\":{\"desired\":{\"a\":2}}}";
    ok(fy_shadow_apply(doc, 9, req, strlen(req), TS, &u, &em) == FY_ERR_OK && u.version == 10,
       "omitted version skips the check");
    fy_shadow_update_clear(&u);
    ok(fy_shadow_apply(NULL, 9, req, strlen(req), TS, &u, &em) == FY_ERR_OK && u.version == 10,
       "after a delete the counter continues");
    ok(member_is(u.documents, "previous", "absent"), "no previous for a new shadow");
    fy_shadow_update_clear(&u);
    fy_free(doc);
}

static void test_metadata(void)
{
    struct fy_errmsg em;
    struct fy_shadow_update u;
    char *doc = doc_of("{\"desired\":{\"keep\":1,\"gone\":2,\"o\":{\"x\":1}}}");
    const char *req = "{\"state\":{\"desired\":{\"gone\":null,\"o\":{\"y\":[1,2]},\"n\":3}}}";
    ok(fy_shadow_apply(doc, 1, req, strlen(req), TS, &u, &em) == FY_ERR_OK, "metadata update");
    json_t *j = json_loads(u.doc, 0, NULL);
    json_t *md = json_object_get(json_object_get(j, "metadata"), "desired");
    ok(json_str_eq(md, "{\"keep\":{\"timestamp\":1699999990},\"o\":{\"x\":{\"timestamp\":"
                       "1699999990},\"y\":{\"timestamp\":1700000000}},\"n\":{\"timestamp\":"
                       "1700000000}}"),
       "metadata: untouched keep old time, new leaves now, deleted gone, one per array");
    json_decref(j);
    j = json_loads(u.reply, 0, NULL);
    ok(json_str_eq(json_object_get(j, "state"),
                   "{\"desired\":{\"gone\":null,\"o\":{\"y\":[1,2]},\"n\":3}}"),
       "accepted: only what was sent");
    ok(json_str_eq(json_object_get(j, "metadata"),
                   "{\"desired\":{\"gone\":{\"timestamp\":1700000000},\"o\":{\"y\":{\"timestamp\":"
                   "1700000000}},\"n\":{\"timestamp\":1700000000}}}"),
       "accepted: metadata of what was sent");
    ok(member_is(u.reply, "timestamp", "1700000000") && member_is(u.reply, "version", "2"),
       "accepted: version and timestamp");
    json_decref(j);
    j = json_loads(u.delta, 0, NULL);
    ok(json_str_eq(json_object_get(j, "metadata"),
                   "{\"keep\":{\"timestamp\":1699999990},\"o\":{\"x\":{\"timestamp\":1699999990},"
                   "\"y\":{\"timestamp\":1700000000}},\"n\":{\"timestamp\":1700000000}}"),
       "delta: metadata = desired metadata of delta keys");
    json_decref(j);
    j = json_loads(u.documents, 0, NULL);
    json_t *prev = json_object_get(j, "previous"), *cur = json_object_get(j, "current");
    ok(json_str_eq(json_object_get(prev, "version"), "1") &&
           json_str_eq(json_object_get(cur, "version"), "2"),
       "documents: previous and current versions");
    ok(json_str_eq(json_object_get(json_object_get(prev, "state"), "desired"),
                   "{\"keep\":1,\"gone\":2,\"o\":{\"x\":1}}"),
       "documents: previous state");
    ok(json_object_get(cur, "metadata") != NULL &&
           member_is(u.documents, "timestamp", "1700000000"),
       "documents: current metadata and timestamp");
    json_decref(j);
    fy_shadow_update_clear(&u);
    fy_free(doc);
}

static void test_get_doc(void)
{
    struct fy_errmsg em;
    char *out = NULL;
    char *doc = doc_of("{\"desired\":{\"a\":1,\"b\":2},\"reported\":{\"a\":1}}");
    ok(fy_shadow_get_doc(doc, 3, TS, "tok", &out, &em) == FY_ERR_OK, "get document");
    json_t *j = out ? json_loads(out, 0, NULL) : NULL;
    ok(json_str_eq(json_object_get(j, "state"),
                   "{\"desired\":{\"a\":1,\"b\":2},\"reported\":{\"a\":1},\"delta\":{\"b\":2}}"),
       "get: state with delta");
    ok(json_object_get(json_object_get(j, "metadata"), "reported") != NULL &&
           json_object_get(json_object_get(j, "metadata"), "delta") == NULL,
       "get: metadata has sections, no delta");
    ok(member_is(out, "version", "3") && member_is(out, "timestamp", "1700000000") &&
           member_is(out, "clientToken", "\"tok\""),
       "get: version, timestamp, clientToken");
    json_decref(j);
    fy_free(out);
    fy_free(doc);
    doc = doc_of("{\"desired\":{\"a\":1},\"reported\":{\"a\":1}}");
    ok(fy_shadow_get_doc(doc, 1, TS, NULL, &out, &em) == FY_ERR_OK, "get document in sync");
    j = out ? json_loads(out, 0, NULL) : NULL;
    ok(json_object_get(json_object_get(j, "state"), "delta") == NULL &&
           member_is(out, "clientToken", "absent"),
       "get: no delta when in sync, no clientToken unless asked");
    json_decref(j);
    fy_free(out);
    fy_free(doc);
}

/* ---- update/accepted, written directly: the same text as built with jansson ---- */

/* The metadata tree of v: {"timestamp": ts} per leaf (arrays are leaves). */
static json_t *ref_meta(json_t *v)
{
    if (!json_is_object(v)) {
        return json_pack("{s:I}", "timestamp", (json_int_t)TS);
    }
    json_t *out = json_object();
    const char *k;
    json_t *c;
    json_object_foreach (v, k, c) {
        json_object_set_new(out, k, ref_meta(c));
    }
    return out;
}

/* update/accepted for request req on a new shadow, built as a jansson tree and dumped. */
static char *ref_accepted(const char *req)
{
    static const char *const SEC[] = {"desired", "reported"};
    json_t *j = json_loads(req, 0, NULL), *st = json_object(), *md = json_object();
    json_t *state = json_object_get(j, "state");
    for (int i = 0; i < 2; i++) {
        json_t *v = json_is_null(state) ? json_null() : json_object_get(state, SEC[i]);
        if (v) {
            json_object_set(st, SEC[i], v);
            json_object_set_new(md, SEC[i], ref_meta(v));
        }
    }
    json_t *out = json_pack("{s:o, s:o, s:I, s:I}", "state", st, "metadata", md, "version",
                            (json_int_t)1, "timestamp", (json_int_t)TS);
    json_t *tok = json_object_get(j, "clientToken");
    if (tok) {
        json_object_set(out, "clientToken", tok);
    }
    char *text = json_dumps(out, JSON_COMPACT);
    json_decref(out);
    json_decref(j);
    return text;
}

static void test_accepted_text(void)
{
    static const char *const REQ[] = {
        "{\"state\":{\"reported\":{\"seq\":1}}}",
        "{\"state\":{\"desired\":{\"a\":1,\"o\":{\"x\":[1,2],\"y\":{\"z\":\"s\"}}},"
        "\"reported\":{\"b\":true}},\"clientToken\":\"tok-1\"}",
        "{\"state\":{\"desired\":null,\"reported\":{}}}",
        "{\"state\":null,\"clientToken\":\"t\\\"q\\\\b\\u0001\\u00e9\"}",
        "{\"state\":{}}",
        "{\"state\":{\"reported\":{\"k\\\"ey\":1,\"t\\tab\":{\"\\u0007\":2},\"\\u00fcml\":3,"
        "\"sl/ash\":4,\"e\":{}}}}",
        "{\"state\":{\"desired\":{\"deep\":{\"a\":{\"b\":{\"c\":{\"d\":1}}}}}},\"version\":0}",
    };
    for (size_t i = 0; i < sizeof(REQ) / sizeof(REQ[0]); i++) {
        struct fy_shadow_update u;
        struct fy_errmsg em;
        char *want = ref_accepted(REQ[i]);
        fy_err e = fy_shadow_apply(NULL, 0, REQ[i], strlen(REQ[i]), TS, &u, &em);
        ok(e == FY_ERR_OK && want && strcmp(u.reply, want) == 0, "accepted text %zu: %s", i,
           e ? em.msg : u.reply);
        if (!e) {
            fy_shadow_update_clear(&u);
        }
        free(want);
    }
}

/* A rejection answers with the caller's clientToken (the device SDKs match answers by it): under
 * an injected allocation failure it is NULL (not sent) or whole, never without the token. */
static void test_rejection_alloc_failures(void)
{
    static const char payload[] = "{\"state\":7,\"clientToken\":\"tok-1\"}";
    char *whole = fy_shadow_rejection(FY_ERR_INVALID_REQUEST, "bad", payload, strlen(payload));
    json_t *j = whole ? json_loads(whole, 0, NULL) : NULL;
    ok(j && json_integer_value(json_object_get(j, "code")) == 400 &&
           strcmp(json_string_value(json_object_get(j, "clientToken")), "tok-1") == 0,
       "rejection: code 400 and the caller's clientToken");
    json_decref(j);
    fy_free(whole);
    int nulls = 0, clean = 1;
    for (unsigned long n = 1; n <= 30; n++) {
        fy_alloc_fail_at(n);
        char *out = fy_shadow_rejection(FY_ERR_INVALID_REQUEST, "bad", payload, strlen(payload));
        fy_alloc_fail_at(0);
        j = out ? json_loads(out, 0, NULL) : NULL;
        nulls += out == NULL;
        clean = clean && (!out || (j && json_object_get(j, "clientToken")));
        json_decref(j);
        fy_free(out);
    }
    ok(clean && nulls > 2, "rejection: %d of 30 injected failures answered NULL, the others whole",
       nulls);
}

int main(void)
{
    fy_json_init();
    test_rejection_alloc_failures();
    test_merge();
    test_errors();
    test_depth();
    test_doc_size();
    test_request_size();
    test_client_token();
    test_version();
    test_metadata();
    test_get_doc();
    test_accepted_text();
    return done();
}
