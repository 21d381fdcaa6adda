/* fleetyard shadow: internals shared by the shadow/ files (document tree operations). */
#ifndef FY_SHADOW_SHADOW_INT_H
#define FY_SHADOW_SHADOW_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "core/db.h"
#include "core/err.h"
#include "shadow/shadow.h"

/* Merges src (a request section, already validated) into the state object dst and its
 * metadata object meta: objects merge recursively, scalars and arrays replace, null deletes.
 * Leaves touched get {"timestamp":ts}. Returns FY_ERR_NOMEM on allocation failure. */
fy_err shd_merge(json_t *dst, json_t *meta, json_t *src, int64_t ts);

/* New reference: metadata mirroring the tree v with {"timestamp":ts} at every leaf (null and
 * arrays are leaves). NULL on OOM. */
json_t *shd_meta_of(json_t *v, int64_t ts);

/* New reference: the delta of desired against reported (either may be NULL); an empty object
 * when nothing differs. NULL on OOM. */
json_t *shd_delta(json_t *desired, json_t *reported);

/* New reference: the desired metadata of the keys in delta. NULL on OOM. */
json_t *shd_delta_meta(json_t *delta, json_t *meta);

/* True when v (any depth) holds an array that contains null. */
bool shd_has_null_in_array(const json_t *v, bool in_array);

/* Nesting depth of v (scalars 0, {} 1). */
size_t shd_depth(const json_t *v);

/* One request against the store (store.c), run by shd_call_tx inside a write transaction, or
 * outside one for a lone get. */
struct shd_call {
    struct fy_shadow_req q;
    struct fy_shadow_update upd; /* update: every output (cleared on failure) */
    char *doc;                   /* get, delete: the accepted answer (with the clientToken) */
    int64_t version;             /* delete: the version deleted */
};

/* Performs c->op on the database (a fy_db_tx_fn). Its only write, one statement, comes last:
 * a failure leaves nothing behind (fy_db_tx.atomic). */
fy_err shd_call_tx(struct fy_db *db, void *arg, struct fy_errmsg *em);

/* fy_shadow_apply of the update q (its payload, len and no_documents: out->documents is
 * then not built, NULL). */
FY_NODISCARD fy_err shd_apply(const char *doc,
                              int64_t version,
                              const struct fy_shadow_req *q,
                              int64_t now,
                              struct fy_shadow_update *out,
                              struct fy_errmsg *em);

/* The delete/accepted payload {"version","timestamp"[,"clientToken"]} (fy_free), NULL on OOM.
 * token: a JSON string or NULL. */
char *shd_delete_reply(int64_t version, json_t *token);

/* *tok: the request's clientToken when the payload is a JSON object holding a valid one (a JSON
 * string, new reference), else NULL. FY_ERR_NOMEM (and *tok NULL) when reading it ran out of
 * memory: an answer without a token the request carried would not reach its caller. */
FY_NODISCARD fy_err shd_request_token(const char *payload, size_t len, json_t **tok);

#endif
