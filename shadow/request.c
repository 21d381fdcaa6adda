/* Device shadow requests: the accepted or rejected answer of a get, update or delete, with
 * the request's clientToken echoed (AWS_IOT_BEHAVIOUR.md section 4). */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/fytime.h"
#include "core/json.h"
#include "shadow/shadow.h"
#include "shadow/shadow_int.h"

void fy_shadow_result_clear(struct fy_shadow_result *r)
{
    if (r) {
        fy_free(r->payload);
        fy_free(r->delta);
        fy_free(r->documents);
        memset(r, 0, sizeof(*r));
    }
}

fy_err shd_request_token(const char *payload, size_t len, json_t **tok)
{
    json_t *j = NULL;
    struct fy_errmsg em;
    *tok = NULL;
    fy_err e = len ? fy_json_parse(payload, len, FY_SHADOW_DEPTH_MAX + 2, &j, &em) : FY_ERR_OK;
    if (e) {
        return e == FY_ERR_NOMEM ? e : FY_ERR_OK; /* not JSON: no token */
    }
    json_t *t = json_object_get(j, "clientToken");
    if (json_is_string(t) && json_string_length(t) <= FY_SHADOW_TOKEN_MAX) {
        *tok = json_incref(t);
    }
    json_decref(j);
    return FY_ERR_OK;
}

char *fy_shadow_rejection(fy_err e, const char *msg, const char *payload, size_t len)
{
    json_t *tok = NULL;
    if (shd_request_token(payload, len, &tok)) {
        return NULL;
    }
    json_t *j = json_pack("{s:i, s:s, s:I}", "code", fy_err_status(e), "message", msg, "timestamp",
                          (json_int_t)fy_now());
    if (tok) { /* taken; NULL j: an answer without the caller's token would not reach it */
        j = fy_json_with_member(j, "clientToken", tok);
    }
    char *out = j ? fy_json_dump(j) : NULL;
    json_decref(j);
    return out;
}

/* Turns the outcome e of the call c into its answer in *out. */
static fy_err
finish(struct shd_call *c, fy_err e, struct fy_errmsg *em, struct fy_shadow_result *out)
{
    memset(out, 0, sizeof(*out));
    if (!e && c->q.op == FY_SHADOW_OP_UPDATE) {
        out->payload = c->upd.reply;
        out->delta = c->upd.delta;
        out->documents = c->upd.documents;
        c->upd.reply = c->upd.delta = c->upd.documents = NULL;
    } else if (!e) { /* get and delete: built with the request's clientToken */
        out->payload = c->doc;
        c->doc = NULL;
        e = out->payload ? FY_ERR_OK : fy_fail(em, FY_ERR_NOMEM, "Internal service failure");
    }
    fy_shadow_update_clear(&c->upd);
    fy_free(c->doc);
    if (!e) {
        out->accepted = true;
        return FY_ERR_OK;
    }
    fy_shadow_result_clear(out);
    if (fy_err_status(e) >= 500) {
        snprintf(em->msg, sizeof(em->msg), "Internal service failure");
    }
    out->payload = fy_shadow_rejection(e, em->msg, c->q.payload, c->q.len);
    return out->payload ? FY_ERR_OK : FY_ERR_NOMEM;
}

/* A call's state while its batch runs. */
struct slot {
    struct shd_call c;
    struct fy_db_tx tx;
    struct fy_errmsg em;
};

/* Runs every slot: reads alone need no transaction; anything else shares one. */
static void run_slots(struct fy_db *db, struct slot *s, size_t n)
{
    bool reads_only = true;
    for (size_t i = 0; i < n; i++) {
        reads_only = reads_only && s[i].c.q.op == FY_SHADOW_OP_GET;
    }
    if (reads_only) {
        for (size_t i = 0; i < n; i++) {
            s[i].tx.result = shd_call_tx(db, &s[i].c, &s[i].em);
        }
        return;
    }
    for (size_t i = 0; i < n; i++) {
        /* atomic: a shadow call writes one row with one statement, last (shd_call_tx) */
        s[i].tx =
            (struct fy_db_tx){.fn = shd_call_tx, .arg = &s[i].c, .em = &s[i].em, .atomic = true};
        s[i].tx.next = i + 1 < n ? &s[i + 1].tx : NULL;
    }
    fy_db_run_txs(db, &s[0].tx);
}

fy_err fy_shadow_requests(struct fy_db *db, struct fy_shadow_call *calls, size_t n)
{
    struct slot one, *s = n == 1 ? &one : fy_calloc(n, sizeof(*s));
    fy_err rc = FY_ERR_OK;
    if (!s) {
        return FY_ERR_NOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        s[i] = (struct slot){.c = {.q = calls[i].req}};
        if (!s[i].c.q.payload) {
            s[i].c.q.payload = "";
        }
    }
    if (n > 0) {
        run_slots(db, s, n);
    }
    for (size_t i = 0; i < n; i++) {
        if (finish(&s[i].c, s[i].tx.result, &s[i].em, &calls[i].result) != FY_ERR_OK) {
            rc = FY_ERR_NOMEM;
        }
    }
    if (s != &one) {
        fy_free(s);
    }
    return rc;
}

fy_err fy_shadow_request(struct fy_db *db,
                         const char *thing,
                         const char *name,
                         enum fy_shadow_op op,
                         const char *payload,
                         size_t len,
                         struct fy_shadow_result *out)
{
    struct fy_shadow_call c = {{thing, name, op, payload, len, false}, {0}};
    fy_err e = fy_shadow_requests(db, &c, 1);
    *out = c.result;
    return e;
}

bool fy_shadow_topic(char *buf, size_t n, const char *thing, const char *name, const char *suffix)
{
    int len = name && *name
                  ? snprintf(buf, n, "$aws/things/%s/shadow/name/%s/%s", thing, name, suffix)
                  : snprintf(buf, n, "$aws/things/%s/shadow/%s", thing, suffix);
    return len > 0 && (size_t)len < n;
}
