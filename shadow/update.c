/* Shadow update and get: request validation, the merged document and every reply AWS sends
 * for it (AWS_IOT_BEHAVIOUR.md §4). No I/O. */
#include <stdint.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/json.h"
#include "shadow/shadow.h"
#include "shadow/shadow_int.h"

static const char *const SECTIONS[] = {"desired", "reported"};

/* A parsed, validated update request (borrowed from j_req). */
struct shd_req {
    json_t *j_req;
    json_t *state; /* NULL when "state": null (clear both sections) */
    json_t *sec[2];
    bool sent[2];
    const char *token;
    bool has_version;
    json_int_t version;
};

void fy_shadow_update_clear(struct fy_shadow_update *u)
{
    if (!u) {
        return;
    }
    fy_free(u->doc);
    fy_free(u->reply);
    fy_free(u->delta);
    fy_free(u->documents);
    memset(u, 0, sizeof(*u));
}

static fy_err parse_payload(const char *payload, size_t len, json_t **out, struct fy_errmsg *em)
{
    json_error_t jerr;
    if (len > FY_SHADOW_REQUEST_MAX) {
        return fy_fail(em, FY_ERR_PAYLOAD_TOO_LARGE,
                       "The payload exceeds the maximum size allowed");
    }
    *out = fy_json_loadb(payload, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!*out && json_error_code(&jerr) == json_error_out_of_memory) {
        return fy_fail(em, FY_ERR_NOMEM, "Out of memory");
    }
    if (!*out && json_error_code(&jerr) == json_error_invalid_utf8) {
        return fy_fail(em, FY_ERR_UNSUPPORTED_ENCODING,
                       "Unsupported documented encoding; supported encoding is UTF-8");
    }
    if (!*out || !json_is_object(*out)) {
        json_decref(*out);
        *out = NULL;
        return fy_fail(em, FY_ERR_INVALID_REQUEST, "Invalid JSON");
    }
    return FY_ERR_OK;
}

static fy_err check_section(struct shd_req *r, int i, struct fy_errmsg *em)
{
    static const char *const MSG[] = {"Desired node must be an object",
                                      "Reported node must be an object"};
    json_t *v = json_object_get(r->state, SECTIONS[i]);
    r->sent[i] = v != NULL;
    r->sec[i] = v;
    if (!v || json_is_null(v)) {
        return FY_ERR_OK;
    }
    if (!json_is_object(v)) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST, "%s", MSG[i]);
    }
    if (shd_depth(v) > FY_SHADOW_DEPTH_MAX) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST,
                       "JSON contains too many levels of nesting; maximum is %d",
                       FY_SHADOW_DEPTH_MAX);
    }
    if (shd_has_null_in_array(v, false)) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST, "State contains an invalid node");
    }
    return FY_ERR_OK;
}

static fy_err check_request(struct shd_req *r, struct fy_errmsg *em)
{
    json_t *tok = json_object_get(r->j_req, "clientToken");
    json_t *ver = json_object_get(r->j_req, "version");
    if (tok && (!json_is_string(tok) || json_string_length(tok) > FY_SHADOW_TOKEN_MAX)) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST, "Invalid clientToken");
    }
    r->token = json_string_value(tok);
    if (ver && (!json_is_integer(ver) || json_integer_value(ver) < 0)) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST, "Invalid version");
    }
    r->has_version = ver != NULL;
    r->version = json_integer_value(ver);
    if (!json_object_get(r->j_req, "state")) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST, "Missing required node: state");
    }
    r->state = json_object_get(r->j_req, "state");
    if (json_is_null(r->state)) {
        r->state = NULL;
        r->sent[0] = r->sent[1] = true;
        return FY_ERR_OK;
    }
    if (!json_is_object(r->state)) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST, "State node must be an object");
    }
    fy_err e = check_section(r, 0, em);
    return e ? e : check_section(r, 1, em);
}

/* The stored document as a new object with state and metadata objects. */
static fy_err load_doc(const char *doc, json_t **out, struct fy_errmsg *em)
{
    json_t *j = doc ? fy_json_loads(doc, 0) : json_pack("{s:{}, s:{}}", "state", "metadata");
    if (!j || !json_is_object(json_object_get(j, "state")) ||
        !json_is_object(json_object_get(j, "metadata"))) {
        json_decref(j);
        return fy_fail(em, FY_ERR_INTERNAL, "Internal service failure");
    }
    *out = j;
    return FY_ERR_OK;
}

/* Applies one section (i) of the request to the document j. */
static fy_err apply_section(json_t *j, const struct shd_req *r, int i, int64_t ts)
{
    json_t *st = json_object_get(j, "state"), *md = json_object_get(j, "metadata");
    const char *name = SECTIONS[i];
    if (!r->sent[i]) {
        return FY_ERR_OK;
    }
    if (!r->sec[i] || json_is_null(r->sec[i])) {
        json_object_del(st, name);
        json_object_del(md, name);
        return FY_ERR_OK;
    }
    if (!json_object_get(st, name)) {
        if (json_object_set_new(st, name, json_object()) != 0 ||
            json_object_set_new(md, name, json_object()) != 0) {
            return FY_ERR_NOMEM;
        }
    }
    fy_err e = shd_merge(json_object_get(st, name), json_object_get(md, name), r->sec[i], ts);
    if (!e && json_object_size(json_object_get(st, name)) == 0) {
        json_object_del(st, name);
        json_object_del(md, name);
    }
    return e;
}

/* Sets j.clientToken when token is non-NULL. */
static int set_token(json_t *j, const char *token)
{
    return token ? json_object_set_new(j, "clientToken", json_string(token)) : 0;
}

/* json_dump_callback target: appends to a struct fy_buf. */
static int buf_put(const char *p, size_t n, void *b)
{
    return fy_buf_append(b, p, n) == FY_ERR_OK ? 0 : -1;
}

/* Appends v as compact JSON, as fy_json_dump writes it. */
static fy_err put_json(struct fy_buf *b, const json_t *v)
{
    return json_dump_callback(v, buf_put, b, JSON_COMPACT | JSON_ENCODE_ANY) == 0 ? FY_ERR_OK
                                                                                  : FY_ERR_NOMEM;
}

/* Appends key as a JSON string: as is when nothing in it needs escaping (the usual case), else
 * written by jansson. */
static fy_err put_key(struct fy_buf *b, const char *key)
{
    size_t n = strcspn(key, "\"\\\x01\x02\x03\x04\x05\x06\x07\x08\t\n\x0b\x0c\r\x0e\x0f\x10\x11"
                            "\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f");
    if (key[n] != '\0') {
        json_t *j = json_string(key);
        fy_err e = j ? put_json(b, j) : FY_ERR_NOMEM;
        json_decref(j);
        return e;
    }
    fy_err e = fy_buf_append(b, "\"", 1);
    e = e ? e : fy_buf_append(b, key, n);
    return e ? e : fy_buf_append(b, "\"", 1);
}

/* Appends the metadata of v (shd_meta_of's tree, written directly): {"timestamp":ts} for each
 * leaf, arrays included, objects mirrored key by key. */
static fy_err put_meta(struct fy_buf *b, json_t *v, int64_t ts)
{
    if (!json_is_object(v)) {
        return fy_buf_printf(b, "{\"timestamp\":%lld}", (long long)ts);
    }
    const char *key;
    json_t *c;
    bool first = true;
    fy_err e = fy_buf_append(b, "{", 1);
    json_object_foreach (v, key, c) {
        e = e || first ? e : fy_buf_append(b, ",", 1);
        first = false;
        e = e ? e : put_key(b, key);
        e = e ? e : fy_buf_append(b, ":", 1);
        e = e ? e : put_meta(b, c, ts);
    }
    return e ? e : fy_buf_append(b, "}", 1);
}

/* Appends {"desired":X,"reported":Y} with the sections sent: each section itself, or (meta)
 * its metadata. */
static fy_err put_sections(struct fy_buf *b, const struct shd_req *r, int64_t ts, bool meta)
{
    bool first = true;
    fy_err e = fy_buf_append(b, "{", 1);
    for (int i = 0; i < 2 && !e; i++) {
        if (!r->sent[i]) {
            continue;
        }
        json_t *v = r->sec[i] ? r->sec[i] : json_null();
        e = fy_buf_printf(b, "%s\"%s\":", first ? "" : ",", SECTIONS[i]);
        first = false;
        e = e ? e : meta ? put_meta(b, v, ts) : put_json(b, v);
    }
    return e ? e : fy_buf_append(b, "}", 1);
}

/* Appends ,"clientToken":T when the request has a clientToken T (as the request wrote it). */
static fy_err put_token(struct fy_buf *b, const struct shd_req *r)
{
    if (!r->token) {
        return FY_ERR_OK;
    }
    fy_err e = fy_buf_append(b, ",\"clientToken\":", 15);
    return e ? e : put_json(b, json_object_get(r->j_req, "clientToken"));
}

/* update/accepted: the sections sent, their metadata, version, timestamp, clientToken; written
 * directly (it was the update's costliest serialization: objects built only to be dumped). */
static char *accepted_to_str(const struct shd_req *r, int64_t version, int64_t ts)
{
    struct fy_buf b;
    fy_buf_init(&b, SIZE_MAX);
    fy_err e = fy_buf_append(&b, "{\"state\":", 9);
    e = e ? e : put_sections(&b, r, ts, false);
    e = e ? e : fy_buf_append(&b, ",\"metadata\":", 12);
    e = e ? e : put_sections(&b, r, ts, true);
    e = e ? e
          : fy_buf_printf(&b, ",\"version\":%lld,\"timestamp\":%lld", (long long)version,
                          (long long)ts);
    e = e ? e : put_token(&b, r);
    e = e ? e : fy_buf_append(&b, "}", 1);
    if (e) {
        fy_buf_free(&b);
        return NULL;
    }
    return b.data;
}

/* update/delta, or NULL in *out when there is nothing to send. */
static fy_err
delta_to_str(const json_t *doc, const struct shd_req *r, int64_t version, int64_t ts, char **out)
{
    json_t *st = json_object_get(doc, "state"), *md = json_object_get(doc, "metadata");
    *out = NULL;
    if (!r->sent[0]) {
        return FY_ERR_OK; /* AWS sends update/delta only for updates that set desired */
    }
    json_t *delta = shd_delta(json_object_get(st, "desired"), json_object_get(st, "reported"));
    if (!delta) {
        return FY_ERR_NOMEM;
    }
    if (json_object_size(delta) == 0) {
        json_decref(delta);
        return FY_ERR_OK;
    }
    json_t *meta = shd_delta_meta(delta, json_object_get(md, "desired"));
    json_t *j = meta ? json_pack("{s:O, s:O, s:I, s:I}", "state", delta, "metadata", meta,
                                 "version", (json_int_t)version, "timestamp", (json_int_t)ts)
                     : NULL;
    if (j && set_token(j, r->token) == 0) {
        *out = fy_json_dump(j);
    }
    json_decref(meta);
    json_decref(delta);
    json_decref(j);
    return *out ? FY_ERR_OK : FY_ERR_NOMEM;
}

/* Appends a stored document's text (an object, as serialized here) with "version" added:
 * {"state","metadata","version"} without parsing it again. */
static fy_err append_snapshot(struct fy_buf *b, const char *doc, int64_t version)
{
    size_t n = strlen(doc);
    while (n > 0 && doc[n - 1] != '}') {
        n--;
    }
    if (n < 2) {
        return FY_ERR_INTERNAL;
    }
    fy_err e = fy_buf_append(b, doc, n - 1);
    return e ? e : fy_buf_printf(b, ",\"version\":%lld}", (long long)version);
}

/* update/documents: previous (omitted when the shadow did not exist: prev NULL), current,
 * timestamp, clientToken; built from the two stored texts. */
static char *documents_to_str(const char *prev,
                              int64_t pver,
                              const char *cur,
                              const struct shd_req *r,
                              int64_t ver,
                              int64_t ts)
{
    struct fy_buf b;
    fy_buf_init(&b, SIZE_MAX);
    fy_err e = fy_buf_append(&b, "{", 1);
    if (!e && prev) {
        e = fy_buf_append(&b, "\"previous\":", 11);
        e = e ? e : append_snapshot(&b, prev, pver);
        e = e ? e : fy_buf_append(&b, ",", 1);
    }
    e = e ? e : fy_buf_append(&b, "\"current\":", 10);
    e = e ? e : append_snapshot(&b, cur, ver);
    e = e ? e : fy_buf_printf(&b, ",\"timestamp\":%lld", (long long)ts);
    e = e ? e : put_token(&b, r);
    e = e ? e : fy_buf_append(&b, "}", 1);
    if (e) {
        fy_buf_free(&b);
        return NULL;
    }
    return b.data;
}

/* The new stored document {"state":..,"metadata":..} of cur into out->doc; the state's compact
 * serialization is what the document size limit applies to. */
static fy_err doc_to_str(const json_t *cur, struct fy_shadow_update *out, struct fy_errmsg *em)
{
    char *st = fy_json_dump(json_object_get(cur, "state"));
    if (!st) {
        return FY_ERR_NOMEM;
    }
    if (strlen(st) > FY_SHADOW_DOC_MAX) {
        fy_free(st);
        return fy_fail(em, FY_ERR_PAYLOAD_TOO_LARGE,
                       "The payload exceeds the maximum size allowed");
    }
    char *md = fy_json_dump(json_object_get(cur, "metadata"));
    struct fy_buf b;
    fy_buf_init(&b, SIZE_MAX);
    fy_err e = md ? fy_buf_printf(&b, "{\"state\":%s,\"metadata\":%s}", st, md) : FY_ERR_NOMEM;
    out->doc = b.data;
    fy_free(st);
    fy_free(md);
    return e;
}

/* Builds every output string of an accepted update into out. */
static fy_err build_outputs(const char *prev,
                            int64_t pver,
                            const json_t *cur,
                            const struct shd_req *r,
                            int64_t ts,
                            bool documents,
                            struct fy_shadow_update *out,
                            struct fy_errmsg *em)
{
    fy_err e = doc_to_str(cur, out, em);
    if (e) {
        return e;
    }
    out->version = pver + 1;
    out->reply = accepted_to_str(r, out->version, ts);
    if (documents) {
        out->documents = documents_to_str(prev, pver, out->doc, r, out->version, ts);
    }
    if (!out->reply || (documents && !out->documents)) {
        return FY_ERR_NOMEM;
    }
    return delta_to_str(cur, r, out->version, ts, &out->delta);
}

fy_err fy_shadow_apply(const char *doc,
                       int64_t version,
                       const char *payload,
                       size_t len,
                       int64_t now,
                       struct fy_shadow_update *out,
                       struct fy_errmsg *em)
{
    struct fy_shadow_req q = {"", NULL, FY_SHADOW_OP_UPDATE, payload, len, false};
    return shd_apply(doc, version, &q, now, out, em);
}

fy_err shd_apply(const char *doc,
                 int64_t version,
                 const struct fy_shadow_req *q,
                 int64_t now,
                 struct fy_shadow_update *out,
                 struct fy_errmsg *em)
{
    struct shd_req r = {0};
    json_t *cur = NULL;
    memset(out, 0, sizeof(*out));
    fy_err e = parse_payload(q->payload, q->len, &r.j_req, em);
    if (!e) {
        e = check_request(&r, em);
    }
    if (!e && r.has_version && r.version != version) {
        e = fy_fail(em, FY_ERR_CONFLICT, "Version conflict");
    }
    if (!e) {
        e = load_doc(doc, &cur, em);
    }
    for (int i = 0; i < 2 && !e; i++) {
        e = apply_section(cur, &r, i, now);
    }
    if (!e) {
        e = build_outputs(doc, version, cur, &r, now, !q->no_documents, out, em);
    }
    if (e == FY_ERR_NOMEM) {
        fy_errf(em, "Internal service failure");
    }
    if (e) {
        fy_shadow_update_clear(out);
    }
    json_decref(cur);
    json_decref(r.j_req);
    return e;
}

fy_err fy_shadow_get_doc(const char *doc,
                         int64_t version,
                         int64_t now,
                         const char *client_token,
                         char **out,
                         struct fy_errmsg *em)
{
    json_t *j;
    *out = NULL;
    fy_err e = load_doc(doc, &j, em);
    if (e) {
        return e;
    }
    json_t *st = json_object_get(j, "state");
    json_t *delta = shd_delta(json_object_get(st, "desired"), json_object_get(st, "reported"));
    int rc = delta ? 0 : -1;
    if (rc == 0 && json_object_size(delta) > 0) {
        rc = json_object_set(st, "delta", delta);
    }
    json_decref(delta);
    if (rc == 0) {
        rc = json_object_set_new(j, "version", json_integer((json_int_t)version)) |
             json_object_set_new(j, "timestamp", json_integer((json_int_t)now)) |
             set_token(j, client_token);
    }
    *out = rc == 0 ? fy_json_dump(j) : NULL;
    json_decref(j);
    return *out ? FY_ERR_OK : fy_fail(em, FY_ERR_NOMEM, "Internal service failure");
}
