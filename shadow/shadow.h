/* fleetyard shadow: the Device Shadow document model (AWS_IOT_BEHAVIOUR.md §4).
 *
 * One code path for HTTP (api/shadows.c) and, later, MQTT (broker_plugin/). The pure part
 * (fy_shadow_apply, fy_shadow_get_doc) has no I/O: it takes the stored document and a request
 * payload and produces the new document plus every message AWS would send (the accepted reply,
 * the update/delta and update/documents payloads) as owned serialized strings, so the caller
 * may hand them to another thread. Nothing here publishes anything.
 *
 * Stored document: {"state":{"desired"?,"reported"?},"metadata":{"desired"?,"reported"?}}; the
 * version lives beside it. Timestamps are integral epoch seconds.
 *
 * Errors: FY_ERR_INVALID_REQUEST (400), FY_ERR_NOT_FOUND (404), FY_ERR_CONFLICT (409 "Version
 * conflict"), FY_ERR_PAYLOAD_TOO_LARGE (413), FY_ERR_UNSUPPORTED_ENCODING (415), FY_ERR_NOMEM;
 * em carries AWS's exact message text. Thread-safe (no globals); a json_t never leaves a call.
 */
#ifndef FY_SHADOW_SHADOW_H
#define FY_SHADOW_SHADOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/db.h"
#include "core/err.h"

/* desired+reported of the merged document, as the compact serialization of the state object
 * {"desired":..,"reported":..} (metadata excluded). */
#define FY_SHADOW_DOC_MAX 8192
/* Request payload cap: the document limit plus room for clientToken, version and whitespace. */
#define FY_SHADOW_REQUEST_MAX (FY_SHADOW_DOC_MAX + 1024)
/* Nesting inside a section: the section object plus 5 nested levels ({} counts 1). */
#define FY_SHADOW_DEPTH_MAX 6
/* clientToken length in bytes. */
#define FY_SHADOW_TOKEN_MAX 64

/* What one accepted update produces. Every string is owned (fy_free) and NUL-terminated. */
struct fy_shadow_update {
    char *doc;       /* new stored document */
    int64_t version; /* new version */
    char *reply;     /* update/accepted payload and HTTP POST body */
    char *delta;     /* update/delta payload, or NULL when no delta is to be sent */
    char *documents; /* update/documents payload */
};

/* Releases every string of u and zeroes it. Accepts NULL. */
void fy_shadow_update_clear(struct fy_shadow_update *u);

/* Applies the update request (len bytes of payload) to the stored document `doc` (NULL when
 * the shadow does not exist; `version` is then the last version before a delete, or 0). now is
 * epoch seconds. On success fills *out (caller clears it with fy_shadow_update_clear). Pure:
 * no I/O. Errors: 400/409/413/415 as described above, with AWS's message in em. */
FY_NODISCARD fy_err fy_shadow_apply(const char *doc,
                                    int64_t version,
                                    const char *payload,
                                    size_t len,
                                    int64_t now,
                                    struct fy_shadow_update *out,
                                    struct fy_errmsg *em);

/* Builds the get/accepted document ({state{desired,reported,delta?},metadata,version,
 * timestamp,clientToken?}) from a stored document into a new string in *out (fy_free).
 * client_token may be NULL. Errors: FY_ERR_INTERNAL for a corrupt doc, FY_ERR_NOMEM. */
FY_NODISCARD fy_err fy_shadow_get_doc(const char *doc,
                                      int64_t version,
                                      int64_t now,
                                      const char *client_token,
                                      char **out,
                                      struct fy_errmsg *em);

/* ---- storage (schema/0006_shadows.sql); db belongs to the calling thread ---- */

/* The get document of shadow `name` ("" or NULL = classic) of `thing` into *out (fy_free).
 * A missing or deleted shadow -> FY_ERR_NOT_FOUND "No shadow exists with name: '<x>'". */
FY_NODISCARD fy_err fy_shadow_get(
    struct fy_db *db, const char *thing, const char *name, char **out, struct fy_errmsg *em);

/* Applies an update in one write transaction (creating the shadow when needed; the thing need
 * not be registered) and fills *out as fy_shadow_apply does. */
FY_NODISCARD fy_err fy_shadow_update(struct fy_db *db,
                                     const char *thing,
                                     const char *name,
                                     const char *payload,
                                     size_t len,
                                     struct fy_shadow_update *out,
                                     struct fy_errmsg *em);

/* Deletes the shadow, keeping its version counter; *out = {"version":N,"timestamp":T}
 * (fy_free). A missing shadow -> FY_ERR_NOT_FOUND. */
FY_NODISCARD fy_err fy_shadow_delete(
    struct fy_db *db, const char *thing, const char *name, char **out, struct fy_errmsg *em);

/* Deletes every shadow of thing (classic and named) with their version counters (a
 * re-created shadow starts at version 1). Used by the --delete-shadows-with-thing extension. */
FY_NODISCARD fy_err fy_shadow_purge(struct fy_db *db, const char *thing, struct fy_errmsg *em);

/* Names of the thing's live named shadows, in name order, after `after` (NULL = from the
 * start), at most limit of them, appended to the array j_names (borrowed, must be a JSON
 * array). *next gets a new string (fy_free) with the last name when more follow, else NULL. */
FY_NODISCARD fy_err fy_shadow_list_named(struct fy_db *db,
                                         const char *thing,
                                         const char *after,
                                         int64_t limit,
                                         json_t *j_names,
                                         char **next,
                                         struct fy_errmsg *em);

/* ---- device requests (the MQTT side; AWS_IOT_BEHAVIOUR.md section 4) ---- */

enum fy_shadow_op { FY_SHADOW_OP_GET, FY_SHADOW_OP_UPDATE, FY_SHADOW_OP_DELETE };

/* What one device request produces. Every string is owned (fy_free) or NULL. */
struct fy_shadow_result {
    bool accepted;   /* payload goes to .../accepted, else to .../rejected */
    char *payload;   /* accepted payload, or {"code","message","timestamp","clientToken"?} */
    char *delta;     /* accepted update whose delta is to be sent, else NULL */
    char *documents; /* accepted update: the update/documents payload, else NULL */
};

/* Releases every string of r and zeroes it. Accepts NULL. */
void fy_shadow_result_clear(struct fy_shadow_result *r);

/* Serves one device request on shadow `name` ("" or NULL = classic) of `thing`: get and delete
 * read only the clientToken of the payload (anything else, even invalid JSON, is ignored, as
 * AWS does); update is fy_shadow_update. The answer, accepted or rejected with AWS's code and
 * message and the request's clientToken echoed, is in *out. Returns FY_ERR_OK whenever *out
 * holds an answer; FY_ERR_NOMEM when not even the rejection could be built. */
FY_NODISCARD fy_err fy_shadow_request(struct fy_db *db,
                                      const char *thing,
                                      const char *name,
                                      enum fy_shadow_op op,
                                      const char *payload,
                                      size_t len,
                                      struct fy_shadow_result *out);

/* One device request (borrowed strings). */
struct fy_shadow_req {
    const char *thing;
    const char *name; /* NULL or "" = classic */
    enum fy_shadow_op op;
    const char *payload;
    size_t len;
    bool no_documents; /* update: its update/documents will not be published, do not build it */
};

/* One request of fy_shadow_requests, and its answer. */
struct fy_shadow_call {
    struct fy_shadow_req req;
    struct fy_shadow_result result; /* out: as fy_shadow_request fills it */
};

/* Serves n device requests in order, as n fy_shadow_request calls would, but with one write
 * transaction for all of them (each in its own savepoint: one request's failure changes
 * nothing of the others; when the commit fails every accepted answer becomes a 500 rejection).
 * Later requests see the effect of earlier ones. Returns FY_ERR_OK when every result holds an
 * answer; FY_ERR_NOMEM otherwise (results that hold one must still be cleared). */
FY_NODISCARD fy_err fy_shadow_requests(struct fy_db *db, struct fy_shadow_call *calls, size_t n);

/* "$aws/things/<thing>/shadow[/name/<name>]/<suffix>" into buf (size n); false when it does
 * not fit. name NULL or "" = classic. */
bool fy_shadow_topic(char *buf, size_t n, const char *thing, const char *name, const char *suffix);

/* The rejected payload {"code":<status>,"message":..,"timestamp":now,"clientToken"?} of error
 * e with message msg, echoing the clientToken of the request payload when it has a valid one.
 * Owned string (fy_free), NULL on OOM. */
char *fy_shadow_rejection(fy_err e, const char *msg, const char *payload, size_t len);

#endif
