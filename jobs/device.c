/* The device protocol: get, start-next, <jobId>/get, <jobId>/update. One implementation for the
 * MQTT topics and the HTTP iot-jobs-data routes. */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/json.h"
#include "jobs/jobs_int.h"

static const char SQL_ALL_PENDING[] = "SELECT " FY_EXEC_COLS " FROM job_executions x "
                                      "WHERE x.thing_name = ?1 AND " FY_JOBS_PENDING_WHERE
                                      " ORDER BY x.status = 'QUEUED', x.queued_at, x.id";

/* A parsed device request. */
struct dev_req {
    json_t *root; /* owned */
    const char *status;
    json_t *details;
    json_int_t expected_version, execution_number, step_timeout;
    int include_state, include_doc;
};

void fy_jobs_reply_clear(struct fy_jobs_reply *r)
{
    if (!r) {
        return;
    }
    fy_free(r->payload);
    fy_free(r->state);
    fy_free(r->client_token);
    fy_jobs_changed_clear(&r->changed);
    memset(r, 0, sizeof(*r));
}

static const char *mqtt_code(fy_err e)
{
    switch (e) {
    case FY_ERR_INVALID_REQUEST:
        return "InvalidRequest";
    case FY_ERR_NOT_FOUND:
        return "ResourceNotFound";
    case FY_ERR_INVALID_STATE_TRANSITION:
        return "InvalidStateTransition";
    case FY_ERR_VERSION_CONFLICT:
        return "VersionMismatch";
    case FY_ERR_TERMINAL_STATE:
        return "TerminalStateReached";
    case FY_ERR_THROTTLED:
        return "RequestThrottled";
    default:
        return "InternalError";
    }
}

char *fy_jobs_rejection(const struct fy_jobs_reply *r, fy_err e, const char *msg, double now)
{
    json_t *j =
        json_pack("{s:s, s:s, s:I, s:s*}", "code", r->code ? r->code : mqtt_code(e), "message",
                  msg ? msg : "", "timestamp", (json_int_t)now, "clientToken", r->client_token);
    bool failed = false;
    json_t *state = fy_jobs_opt_json(r->state, &failed);
    if (j && (failed || (state && json_object_set_new(j, "executionState", state) != 0))) {
        json_decref(j);
        j = NULL;
    } else if (!j) {
        json_decref(state);
    }
    char *s = j ? fy_json_dump(j) : NULL;
    json_decref(j);
    return s;
}

/* Parses the payload (empty = {}) and keeps its clientToken in out->client_token. */
static fy_err parse(const char *payload,
                    size_t len,
                    struct dev_req *q,
                    struct fy_jobs_reply *out,
                    struct fy_errmsg *em)
{
    memset(q, 0, sizeof(*q));
    q->expected_version = q->execution_number = -1;
    q->include_doc = -1;
    if (len > FY_JOBS_REQUEST_MAX) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST, "The request exceeds %d bytes",
                       FY_JOBS_REQUEST_MAX);
    }
    fy_err e = len ? fy_json_parse(payload, len, FY_JSON_MAX_DEPTH, &q->root, em) : FY_ERR_OK;
    if (!e && !q->root && !(q->root = json_object())) {
        return fy_fail(em, FY_ERR_NOMEM, "Out of memory");
    }
    if (e || !json_is_object(q->root)) {
        out->code = "InvalidJson";
        return e ? e : fy_fail(em, FY_ERR_INVALID_REQUEST, "The payload must be a JSON object");
    }
    const char *token = json_string_value(json_object_get(q->root, "clientToken"));
    if (token && strlen(token) <= FY_JOBS_TOKEN_MAX && !(out->client_token = fy_strdup(token))) {
        return fy_fail(em, FY_ERR_NOMEM, "Out of memory");
    }
    if (json_object_get(q->root, "clientToken") && !out->client_token) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST,
                       "clientToken must be a string of at most %d "
                       "bytes",
                       FY_JOBS_TOKEN_MAX);
    }
    return FY_ERR_OK;
}

/* Unpacks the members a request may carry (thingName and jobId are tolerated). */
static fy_err unpack(struct dev_req *q, struct fy_errmsg *em)
{
    json_error_t err;
    const char *ig = NULL;
    if (json_unpack_ex(q->root, &err, 0, "{s?s, s?s, s?o, s?I, s?I, s?I, s?b, s?b, s?s, s?s !}",
                       "clientToken", &ig, "status", &q->status, "statusDetails", &q->details,
                       "expectedVersion", &q->expected_version, "executionNumber",
                       &q->execution_number, "stepTimeoutInMinutes", &q->step_timeout,
                       "includeJobExecutionState", &q->include_state, "includeJobDocument",
                       &q->include_doc, "thingName", &ig, "jobId", &ig) != 0) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST, "Invalid request: %.200s", err.text);
    }
    if (q->step_timeout != 0 && q->step_timeout != -1 &&
        (q->step_timeout < 1 || q->step_timeout > FY_JOBS_TIMEOUT_MIN_MAX)) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST,
                       "stepTimeoutInMinutes must be -1 or between 1 and %d",
                       FY_JOBS_TIMEOUT_MIN_MAX);
    }
    return fy_jobs_details_check(q->details, em);
}

/* Finishes an accepted reply: adds timestamp and clientToken to j and serializes it. */
static fy_err accept(json_t *j, double now, struct fy_jobs_reply *out, struct fy_errmsg *em)
{
    bool ok = j && json_object_set_new(j, "timestamp", json_integer((json_int_t)now)) == 0;
    if (ok && out->client_token) {
        ok = json_object_set_new(j, "clientToken", json_string(out->client_token)) == 0;
    }
    out->payload = ok ? fy_json_dump(j) : NULL;
    json_decref(j);
    return out->payload ? FY_ERR_OK : fy_fail(em, FY_ERR_NOMEM, "Out of memory");
}

static fy_err pending_lists(
    struct fy_db *db, const char *thing, json_t *in_progress, json_t *queued, struct fy_errmsg *em)
{
    sqlite3_stmt *st = fy_db_stmt(db, SQL_ALL_PENDING, em);
    int rc = SQLITE_DONE;
    fy_err e = st ? FY_ERR_OK : FY_ERR_INTERNAL;
    if (st) {
        fy_bind_text(st, 1, thing);
    }
    while (!e && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct fy_exec x;
        e = fy_exec_from_row(st, &x, em);
        json_t *list = x.status == FY_EXEC_IN_PROGRESS ? in_progress : queued;
        if (!e && json_array_append_new(list, fy_exec_summary_to_json(&x)) != 0) {
            e = fy_fail(em, FY_ERR_NOMEM, "Out of memory");
        }
        fy_exec_clear(&x);
    }
    fy_stmt_done(st);
    return e || rc == SQLITE_DONE ? e : fy_db_err(db, rc, em);
}

fy_err fy_jobs_get_pending(struct fy_db *db,
                           const char *thing,
                           const char *payload,
                           size_t len,
                           double now,
                           struct fy_jobs_reply *out,
                           struct fy_errmsg *em)
{
    struct dev_req q;
    memset(out, 0, sizeof(*out));
    fy_err e = parse(payload, len, &q, out, em);
    json_t *ip = json_array(), *qd = json_array();
    if (!e) {
        e = ip && qd ? pending_lists(db, thing, ip, qd, em)
                     : fy_fail(em, FY_ERR_NOMEM, "Out of memory");
    }
    if (!e) {
        e = accept(json_pack("{s:O, s:O}", "inProgressJobs", ip, "queuedJobs", qd), now, out, em);
    }
    json_decref(ip);
    json_decref(qd);
    json_decref(q.root);
    return e;
}

/* {execution: E} (or {} when x is NULL), document included when with_doc. */
static fy_err execution_reply(struct fy_db *db,
                              const struct fy_exec *x,
                              bool with_doc,
                              double now,
                              struct fy_jobs_reply *out,
                              struct fy_errmsg *em)
{
    char *doc = NULL;
    fy_err e = x && with_doc ? fy_job_doc_of(db, x->job, now, &doc, em) : FY_ERR_OK;
    json_t *j = e ? NULL : json_object();
    if (j && x && json_object_set_new(j, "execution", fy_exec_device_to_json(x, doc, with_doc))) {
        json_decref(j);
        j = NULL;
    }
    fy_free(doc);
    return e ? e : accept(j, now, out, em);
}

/* Moves x to status `to` on the device's behalf with the request's details and step timer. */
static fy_err device_apply(struct fy_db *db,
                           struct fy_exec *x,
                           enum fy_exec_status to,
                           const struct dev_req *q,
                           double now,
                           struct fy_errmsg *em)
{
    struct fy_job_config c;
    fy_err e = fy_job_load_config(db, x->job, &c, em);
    if (!e && q->details) {
        char *d = fy_json_dump(q->details);
        e = d ? FY_ERR_OK : fy_fail(em, FY_ERR_NOMEM, "Out of memory");
        fy_free(x->details);
        x->details = d;
    }
    if (e) {
        return e;
    }
    if (x->status == FY_EXEC_QUEUED && to == FY_EXEC_IN_PROGRESS) {
        x->started_at = now;
        x->progress_deadline = c.progress_timeout > 0 ? now + 60.0 * (double)c.progress_timeout : 0;
    }
    if (q->step_timeout > 0) {
        x->step_deadline = now + 60.0 * (double)q->step_timeout;
    } else if (q->step_timeout == -1) {
        x->step_deadline = 0;
    }
    x->status = to;
    x->version++;
    x->last_updated_at = now;
    if (fy_exec_terminal(to)) {
        x->step_deadline = x->progress_deadline = 0;
    }
    e = fy_exec_save(db, x, em);
    return !e && fy_exec_terminal(to) ? fy_exec_after_terminal(db, x, now, em) : e;
}

struct start_args {
    const char *thing;
    const struct dev_req *q;
    double now;
    struct fy_jobs_reply *out;
};

static fy_err start_locked(struct fy_db *db, const struct start_args *a, struct fy_errmsg *em)
{
    struct fy_exec x;
    bool found = false;
    fy_err e = fy_exec_load_next(db, a->thing, NULL, &x, &found, em);
    if (!e && found && x.status == FY_EXEC_QUEUED) {
        e = fy_jobs_touch(db, &a->out->changed, a->thing, false, em);
        if (!e) {
            e = device_apply(db, &x, FY_EXEC_IN_PROGRESS, a->q, a->now, em);
        }
        if (!e) {
            e = fy_jobs_touch_finish(db, &a->out->changed, em);
        }
    }
    if (!e) {
        e = execution_reply(db, found ? &x : NULL, true, a->now, a->out, em);
    }
    if (found) {
        fy_exec_clear(&x);
    }
    return e;
}

static fy_err start_tx(struct fy_db *db, const struct start_args *a, struct fy_errmsg *em)
{
    FY_DB_RETURN_IN_CHANGE_TX(db, em, start_locked(db, a, em));
}

fy_err fy_jobs_start_next(struct fy_db *db,
                          const char *thing,
                          const char *payload,
                          size_t len,
                          double now,
                          struct fy_jobs_reply *out,
                          struct fy_errmsg *em)
{
    struct dev_req q;
    struct start_args a = {thing, &q, now, out};
    memset(out, 0, sizeof(*out));
    fy_err e = parse(payload, len, &q, out, em);
    if (!e) {
        e = unpack(&q, em);
    }
    if (!e && (q.status || q.expected_version >= 0 || q.execution_number >= 0)) {
        e = fy_fail(em, FY_ERR_INVALID_REQUEST,
                    "start-next takes only statusDetails, stepTimeoutInMinutes and clientToken");
    }
    if (!e) {
        e = start_tx(db, &a, em);
    }
    json_decref(q.root);
    return e;
}

/* Loads the device-visible execution named job_id ("$next" = the next pending one), of a job
 * of namespace ns when ns is given (the namespaced topics). */
static fy_err load_visible(struct fy_db *db,
                           const char *thing,
                           const char *job_id,
                           const char *ns,
                           int64_t number,
                           struct fy_exec *x,
                           bool *found,
                           struct fy_errmsg *em)
{
    bool in = true;
    if (strcmp(job_id, "$next") == 0) {
        return fy_exec_load_next(db, thing, ns, x, found, em);
    }
    if (!fy_valid_job_id(job_id)) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST, "Invalid job id: %.64s", job_id);
    }
    fy_err e = fy_exec_load(db, thing, job_id, number, x, em);
    *found = e == FY_ERR_OK;
    if (!e && ns) {
        e = fy_exec_in_namespace(db, x->job, ns, &in, em);
    }
    if (!e && (!x->released || !in)) {
        fy_exec_clear(x);
        *found = false;
        e = fy_fail(em, FY_ERR_NOT_FOUND, "Job execution %.64s on thing %.128s not found", job_id,
                    thing);
    }
    if (e && *found) {
        fy_exec_clear(x);
        *found = false;
    }
    return e;
}

fy_err fy_jobs_describe(struct fy_db *db,
                        const char *thing,
                        const char *job_id,
                        const char *ns,
                        const char *payload,
                        size_t len,
                        double now,
                        struct fy_jobs_reply *out,
                        struct fy_errmsg *em)
{
    struct dev_req q;
    struct fy_exec x;
    bool found = false;
    memset(out, 0, sizeof(*out));
    fy_err e = parse(payload, len, &q, out, em);
    if (!e) {
        e = unpack(&q, em);
    }
    if (!e) {
        e = load_visible(db, thing, job_id, ns, q.execution_number, &x, &found, em);
    }
    if (!e) {
        e = execution_reply(db, found ? &x : NULL, q.include_doc != 0, now, out, em);
    }
    if (found) {
        fy_exec_clear(&x);
    }
    json_decref(q.root);
    return e;
}

/* Records the execution's state for an InvalidStateTransition / VersionMismatch rejection;
 * false when it could not be built (the call then fails as an internal error instead of being
 * rejected without the state). */
static bool keep_state(const struct fy_exec *x, struct fy_jobs_reply *out)
{
    bool failed = false;
    json_t *det = fy_jobs_opt_json(x->details, &failed);
    json_t *j = failed ? NULL
                       : json_pack("{s:s, s:o*, s:I}", "status", fy_exec_status_name(x->status),
                                   "statusDetails", det, "versionNumber", (json_int_t)x->version);
    out->state = j ? fy_json_dump(j) : NULL;
    json_decref(j);
    return out->state != NULL;
}

struct update_args {
    const char *thing, *job_id, *ns;
    const struct dev_req *q;
    double now;
    struct fy_jobs_reply *out;
};

static fy_err update_reply(struct fy_db *db,
                           const struct update_args *a,
                           const struct fy_exec *x,
                           struct fy_errmsg *em)
{
    char *doc = NULL;
    json_t *j = json_object();
    fy_err e = a->q->include_doc == 1 ? fy_job_doc_of(db, x->job, a->now, &doc, em) : FY_ERR_OK;
    bool failed = false;
    json_t *det = fy_jobs_opt_json(x->details, &failed);
    bool ok = j != NULL && !failed;
    if (!e && ok && a->q->include_state) {
        ok = json_object_set_new(j, "executionState",
                                 json_pack("{s:s, s:o*, s:I}", "status",
                                           fy_exec_status_name(x->status), "statusDetails", det,
                                           "versionNumber", (json_int_t)x->version)) == 0;
        det = NULL;
    }
    if (!e && ok && doc) {
        ok = json_object_set_new(j, "jobDocument", fy_json_loads(doc, 0)) == 0;
    }
    json_decref(det);
    fy_free(doc);
    if (!e && !ok) {
        e = fy_fail(em, FY_ERR_NOMEM, "Out of memory");
    }
    if (e) {
        json_decref(j);
        return e;
    }
    return accept(j, a->now, a->out, em);
}

static fy_err update_locked(struct fy_db *db, const struct update_args *a, struct fy_errmsg *em)
{
    struct fy_exec x;
    bool found = false;
    enum fy_exec_status to;
    fy_err e = load_visible(db, a->thing, a->job_id, a->ns, a->q->execution_number, &x, &found, em);
    if (e) {
        return e;
    }
    fy_exec_status_parse(a->q->status, &to); /* checked by the caller */
    if (a->q->expected_version >= 0 && a->q->expected_version != x.version) {
        e = fy_fail(em, FY_ERR_VERSION_CONFLICT,
                    "The expected version %lld does not match the current version %lld",
                    (long long)a->q->expected_version, (long long)x.version);
    }
    if (!e) {
        e = fy_exec_transition(x.status, to, FY_ACTOR_DEVICE, false, em);
    }
    if ((e == FY_ERR_VERSION_CONFLICT || e == FY_ERR_INVALID_STATE_TRANSITION) &&
        !keep_state(&x, a->out)) {
        e = fy_fail(em, FY_ERR_NOMEM, "Out of memory");
    }
    if (!e) {
        e = fy_jobs_touch(db, &a->out->changed, a->thing, fy_exec_terminal(to), em);
    }
    if (!e) {
        e = device_apply(db, &x, to, a->q, a->now, em);
    }
    if (!e && fy_exec_terminal(to)) {
        e = fy_jobs_release_now(db, x.job, a->now, &a->out->changed, em);
    }
    if (!e) {
        e = fy_jobs_touch_finish(db, &a->out->changed, em);
    }
    if (!e) {
        e = update_reply(db, a, &x, em);
    }
    fy_exec_clear(&x);
    return e;
}

static fy_err update_tx(struct fy_db *db, const struct update_args *a, struct fy_errmsg *em)
{
    FY_DB_RETURN_IN_CHANGE_TX(db, em, update_locked(db, a, em));
}

fy_err fy_jobs_update(struct fy_db *db,
                      const char *thing,
                      const char *job_id,
                      const char *ns,
                      const char *payload,
                      size_t len,
                      double now,
                      struct fy_jobs_reply *out,
                      struct fy_errmsg *em)
{
    struct dev_req q;
    struct update_args a = {thing, job_id, ns, &q, now, out};
    enum fy_exec_status to;
    memset(out, 0, sizeof(*out));
    fy_err e = parse(payload, len, &q, out, em);
    if (!e) {
        e = unpack(&q, em);
    }
    if (!e && (!q.status || fy_exec_status_parse(q.status, &to) != 0)) {
        e = fy_fail(em, FY_ERR_INVALID_REQUEST, "status must be a job execution status");
    }
    if (!e && strcmp(job_id, "$next") == 0) {
        e = fy_fail(em, FY_ERR_INVALID_REQUEST, "$next cannot be updated");
    }
    if (!e) {
        e = update_tx(db, &a, em);
    }
    if (e) {
        fy_jobs_changed_clear(&out->changed);
        FY_FREE(out->payload);
    }
    json_decref(q.root);
    return e;
}
