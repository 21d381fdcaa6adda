/* Device shadow requests: the accepted or rejected answer of a get, update or delete, with
 * the request's clientToken echoed (AWS_IOT_BEHAVIOUR.md section 4). */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/fytime.h"
#include "core/json.h"
#include "shadow/shadow.h"

void fy_shadow_result_clear(struct fy_shadow_result *r)
{
    if (r) {
        fy_free(r->payload);
        fy_free(r->delta);
        fy_free(r->documents);
        memset(r, 0, sizeof(*r));
    }
}

/* The request's clientToken when the payload is a JSON object holding a valid one (new
 * reference), else NULL. */
static json_t *request_token(const char *payload, size_t len)
{
    json_t *j = NULL;
    struct fy_errmsg em;
    if (len == 0 || fy_json_parse(payload, len, FY_SHADOW_DEPTH_MAX + 2, &j, &em) != FY_ERR_OK) {
        return NULL;
    }
    json_t *tok = json_object_get(j, "clientToken");
    if (!json_is_string(tok) || json_string_length(tok) > FY_SHADOW_TOKEN_MAX) {
        tok = NULL;
    }
    json_incref(tok);
    json_decref(j);
    return tok;
}

char *fy_shadow_rejection(fy_err e, const char *msg, const char *payload, size_t len)
{
    json_t *tok = request_token(payload, len);
    json_t *j = json_pack("{s:i, s:s, s:I}", "code", fy_err_status(e), "message", msg, "timestamp",
                          (json_int_t)fy_now());
    if (j && tok) {
        json_object_set(j, "clientToken", tok);
    }
    char *out = j ? fy_json_dump(j) : NULL;
    json_decref(j);
    json_decref(tok);
    return out;
}

/* Adds the request's clientToken to the accepted document *doc (replaced in place). */
static fy_err echo_token(char **doc, const char *payload, size_t len, struct fy_errmsg *em)
{
    json_t *tok = request_token(payload, len);
    if (!tok) {
        return FY_ERR_OK;
    }
    json_t *j = NULL;
    fy_err e = fy_json_parse(*doc, strlen(*doc), FY_SHADOW_DEPTH_MAX + 4, &j, em);
    char *out = NULL;
    if (!e && json_object_set(j, "clientToken", tok) == 0) {
        out = fy_json_dump(j);
    }
    json_decref(j);
    json_decref(tok);
    if (!e && !out) {
        e = fy_fail(em, FY_ERR_NOMEM, "Internal service failure");
    }
    if (!e) {
        fy_free(*doc);
        *doc = out;
    }
    return e;
}

static fy_err run(struct fy_db *db,
                  const char *thing,
                  const char *name,
                  enum fy_shadow_op op,
                  const char *payload,
                  size_t len,
                  struct fy_shadow_result *out,
                  struct fy_errmsg *em)
{
    if (op == FY_SHADOW_OP_UPDATE) {
        struct fy_shadow_update u;
        fy_err e = fy_shadow_update(db, thing, name, payload, len, &u, em);
        if (!e) {
            out->payload = u.reply;
            out->delta = u.delta;
            out->documents = u.documents;
            u.reply = u.delta = u.documents = NULL;
        }
        fy_shadow_update_clear(&u);
        return e;
    }
    fy_err e = op == FY_SHADOW_OP_GET ? fy_shadow_get(db, thing, name, &out->payload, em)
                                      : fy_shadow_delete(db, thing, name, &out->payload, em);
    return e ? e : echo_token(&out->payload, payload, len, em);
}

fy_err fy_shadow_request(struct fy_db *db,
                         const char *thing,
                         const char *name,
                         enum fy_shadow_op op,
                         const char *payload,
                         size_t len,
                         struct fy_shadow_result *out)
{
    struct fy_errmsg em = {""};
    memset(out, 0, sizeof(*out));
    fy_err e = run(db, thing, name, op, payload, len, out, &em);
    if (!e) {
        out->accepted = true;
        return FY_ERR_OK;
    }
    fy_shadow_result_clear(out);
    if (fy_err_status(e) >= 500) {
        snprintf(em.msg, sizeof(em.msg), "Internal service failure");
    }
    out->payload = fy_shadow_rejection(e, em.msg, payload, len);
    return out->payload ? FY_ERR_OK : FY_ERR_NOMEM;
}

bool fy_shadow_topic(char *buf, size_t n, const char *thing, const char *name, const char *suffix)
{
    int len = name && *name
                  ? snprintf(buf, n, "$aws/things/%s/shadow/name/%s/%s", thing, name, suffix)
                  : snprintf(buf, n, "$aws/things/%s/shadow/%s", thing, suffix);
    return len > 0 && (size_t)len < n;
}
