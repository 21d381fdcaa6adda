/* fleetyard api: what a route handler sees.
 *
 * Only api/ knows HTTP. A handler is `fy_err fn(struct api_req *req)`: it reads validated input
 * through the helpers below, calls a domain module, and either sets a reply (api_reply*) and
 * returns FY_ERR_OK, or returns an error with req->em filled (the dispatcher renders the AWS
 * error: status and x-amzn-ErrorType from the core error table, {"message": em} as the body).
 * A handler that replies nothing sends 200 with an empty body (AWS's no-output operations).
 *
 * Routes are tables: each api/<domain>.c defines `const struct api_route api_routes_<domain>[]`
 * ending with a zero row, declared in api/routes.h and listed once in api/routes.c.
 *
 * Threads: a request runs on one MHD pool thread; req->db is a connection checked out for that
 * request alone. Nothing in struct api_req may be kept after the handler returns.
 */
#ifndef FY_API_API_H
#define FY_API_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/buf.h"
#include "core/db.h"
#include "core/err.h"
#include "core/site.h"

/* SigV4 credential-scope service families (AWS_IOT_BEHAVIOUR.md §1.1). */
enum fy_service { FY_SVC_IOT = 0, FY_SVC_DATA, FY_SVC_JOBS, FY_SVC_LOGS, FY_SVC__COUNT };

#define API_MAX_PARAMS       8
#define API_MAX_QUERY        32
#define API_BODY_MAX         (1024 * 1024) /* request body cap; larger -> 413 */
#define API_PAGE_MAX_DEFAULT 250           /* maxResults upper bound for most list calls */
#define API_TOKEN_MAX        1024          /* nextToken / marker length cap */

struct api_server;

struct api_kv {
    char *key;
    char *value;
};

struct api_req {
    const struct api_server *srv;
    const struct fy_site *site;
    struct fy_db *db;
    enum fy_service svc;
    const char *method;
    const char *op; /* operation name of the matched route, for logs */
    char request_id[40];
    char caller[64];  /* access key id of the signer ("anonymous" with auth off) */
    const char *user; /* name of the operator key that signed, NULL for the administrator */

    struct api_kv params[API_MAX_PARAMS]; /* decoded path labels */
    int nparams;
    struct api_kv query[API_MAX_QUERY]; /* decoded query pairs, in wire order */
    int nquery;
    struct fy_buf body;
    json_t *j_body; /* parsed lazily by api_body() */

    /* reply */
    json_t *j_out;
    char *raw_out;
    size_t raw_out_len;
    const char *content_type;
    struct fy_errmsg em;

    void *http; /* private to api/http.c */
};

typedef fy_err (*api_handler_fn)(struct api_req *req);

struct api_route {
    enum fy_service svc;
    const char *method;
    const char *pattern; /* "/things/{thingName}"; "{name+}" takes the rest of the path */
    api_handler_fn fn;
    const char *op; /* AWS operation name */
};

/* ---- the broker ---- */

/* Publishes len bytes on an MQTT topic to devices through the broker. FY_ERR_UNAVAILABLE
 * when there is no broker (--no-broker) or it cannot be reached now. */
FY_NODISCARD fy_err api_publish(
    struct api_req *req, const char *topic, const void *payload, size_t len, int qos, bool retain);

/* ---- input ---- */

/* Decoded path label captured by the route pattern (borrowed), or NULL. */
const char *api_param(const struct api_req *req, const char *name);

/* Decoded query value (borrowed), or NULL when absent. */
const char *api_query(const struct api_req *req, const char *name);

/* Request header (case-insensitive, borrowed), or NULL. */
const char *api_header(const struct api_req *req, const char *name);

/* The body as a JSON object (borrowed; owned by req). An empty body reads as {}. Malformed
 * JSON or a non-object -> FY_ERR_INVALID_REQUEST. */
FY_NODISCARD fy_err api_body(struct api_req *req, json_t **out);

/* Path label validated by fn; FY_ERR_INVALID_REQUEST with a message naming the label. */
FY_NODISCARD fy_err api_require_param(struct api_req *req,
                                      const char *name,
                                      bool (*valid)(const char *),
                                      const char **out);

/* Integer query parameter in [min, max]; def when absent. */
FY_NODISCARD fy_err api_query_int(
    struct api_req *req, const char *name, int64_t min, int64_t max, int64_t def, int64_t *out);

/* Boolean query parameter ("true"/"false"); def when absent. */
FY_NODISCARD fy_err api_query_bool(struct api_req *req, const char *name, bool def, bool *out);

/* Pagination input: decodes the opaque token in query parameter token_name ("nextToken" or
 * "marker") into a new string in *key_out (NULL for the first page; caller frees with fy_free)
 * and reads the page size from size_name ("maxResults"/"pageSize") in [1, max], def when absent.
 * A token this server did not issue -> FY_ERR_INVALID_REQUEST. */
FY_NODISCARD fy_err api_page_in(struct api_req *req,
                                const char *token_name,
                                const char *size_name,
                                int64_t def,
                                int64_t max,
                                char **key_out,
                                int64_t *limit);

/* Sets j_out[out_name] to an opaque token resuming after key (no-op when key is NULL). */
FY_NODISCARD fy_err api_page_out(struct api_req *req,
                                 json_t *j_out,
                                 const char *out_name,
                                 const char *key);

/* Seconds a thing type must have been deprecated before DeleteThingType (server config). */
int64_t api_thing_type_delete_wait(const struct api_req *req);

/* Server option --delete-shadows-with-thing (a fleetyard extension; AWS keeps the shadows). */
bool api_delete_shadows_with_thing(const struct api_req *req);

/* ---- output ---- */

/* Replies with j (takes the reference). Returns FY_ERR_NOMEM if j is NULL. */
FY_NODISCARD fy_err api_reply(struct api_req *req, json_t *j);

/* Replies with raw bytes (takes ownership of buf, allocated with fy_malloc). */
void api_reply_raw(struct api_req *req, char *buf, size_t len, const char *content_type);

#endif
