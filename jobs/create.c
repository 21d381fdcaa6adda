/* CreateJob: validation, the job row, its targets and its first executions. */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/json.h"
#include "core/log.h"
#include "jobs/jobs_int.h"
#include "jobs/targets.h"
#include "registry/groups.h"

static const char SQL_INSERT[] =
    "INSERT INTO jobs(job_id, status, target_selection, targets, document, document_source, "
    "description, config, template_arn, created_at, last_updated_at, namespace_id) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10, ?11)";

#define FIRST_WAVE_CHUNK 100 /* executions released per transaction by CreateJob */

/* namespaceId and documentParameters keys: [a-zA-Z0-9_-]+ */
#define KEY_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-"

/* Configuration members kept (as given) in jobs.config. */
static const char *const CONFIG_KEYS[] = {
    "presignedUrlConfig",  "jobExecutionsRolloutConfig", "abortConfig",
    "timeoutConfig",       "jobExecutionsRetryConfig",   "schedulingConfig",
    "jobExecutionsConfig",
};

/* The validated request, with pointers into the (merged) body. */
struct create_req {
    const struct fy_site *site;
    const char *job_id;
    const json_t *targets;
    const char *document, *source, *description, *selection, *template_arn, *ns;
    const json_t *tags, *params;
    struct fy_jobs_changed *changed;
    json_t *config; /* owned */
    struct fy_job_config cfg;
    double now;
    int64_t rowid;
    char arn[FY_ARN_MAX + 1];
};

json_t *fy_jobs_config_subset(const json_t *j_body)
{
    json_t *c = json_object();
    for (size_t i = 0; c && i < sizeof(CONFIG_KEYS) / sizeof(CONFIG_KEYS[0]); i++) {
        json_t *v = json_object_get(j_body, CONFIG_KEYS[i]);
        if (v && !json_is_null(v) && json_object_set(c, CONFIG_KEYS[i], v) != 0) {
            json_decref(c);
            return NULL;
        }
    }
    return c;
}

fy_err
fy_jobs_check_document(const char *doc, const char *source, bool required, struct fy_errmsg *em)
{
    if (doc && source) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST,
                       "Only one of document and documentSource may be given");
    }
    if (required && !doc && !source) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST, "Either document or documentSource is required");
    }
    if (source && (strlen(source) == 0 || strlen(source) > FY_JOBS_DOCUMENT_SOURCE_MAX)) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST, "documentSource must be 1 to %d characters",
                       FY_JOBS_DOCUMENT_SOURCE_MAX);
    }
    if (!doc) {
        return FY_ERR_OK;
    }
    if (strlen(doc) > FY_JOBS_DOCUMENT_MAX) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST, "The job document exceeds %d bytes",
                       FY_JOBS_DOCUMENT_MAX);
    }
    json_t *j = fy_json_loads(doc, JSON_REJECT_DUPLICATES);
    bool ok = json_is_object(j) && fy_json_depth(j) <= FY_JSON_MAX_DEPTH;
    json_decref(j);
    return ok ? FY_ERR_OK
              : fy_fail(em, FY_ERR_INVALID_REQUEST, "The job document must be a JSON object");
}

fy_err fy_jobs_check_description(const char *d, struct fy_errmsg *em)
{
    if (d && !fy_valid_description(d)) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST,
                       "description must be at most %d characters without control characters",
                       FY_DESCRIPTION_MAX);
    }
    return FY_ERR_OK;
}

static fy_err unpack_body(const json_t *j, struct create_req *r, struct fy_errmsg *em)
{
    json_error_t err;
    json_t *ignored = NULL;
    if (json_unpack_ex((json_t *)j, &err, 0,
                       "{s:o, s?s, s?s, s?s, s?s, s?o, s?s, s?s, s?o, s?o, s?o, s?o, s?o, s?o, "
                       "s?o, s?o !}",
                       "targets", &r->targets, "document", &r->document, "documentSource",
                       &r->source, "description", &r->description, "targetSelection", &r->selection,
                       "tags", &r->tags, "namespaceId", &r->ns, "jobTemplateArn", &r->template_arn,
                       "presignedUrlConfig", &ignored, "jobExecutionsRolloutConfig", &ignored,
                       "abortConfig", &ignored, "timeoutConfig", &ignored,
                       "jobExecutionsRetryConfig", &ignored, "documentParameters", &r->params,
                       "schedulingConfig", &ignored, "jobExecutionsConfig", &ignored) != 0) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST, "Invalid request body: %.200s", err.text);
    }
    if (r->ns && !fy_jobs_valid_namespace(r->ns)) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST,
                       "namespaceId must be 1 to %d characters of [a-zA-Z0-9_-]",
                       FY_JOBS_NAMESPACE_MAX);
    }
    return FY_ERR_OK;
}

bool fy_jobs_valid_namespace(const char *ns)
{
    size_t n = strlen(ns);
    return n > 0 && n <= FY_JOBS_NAMESPACE_MAX && strspn(ns, KEY_CHARS) == n;
}

/* Characters (UTF-8 code points) of s; -1 when s holds a control character (\p{C} in AWS's
 * pattern: C0, DEL and C1 controls). */
static long param_chars(const char *s)
{
    long n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 0x20 || *p == 0x7f || (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)) {
            return -1;
        }
        n += (*p & 0xc0) != 0x80;
    }
    return n;
}

fy_err fy_jobs_params_check(const json_t *j, struct fy_errmsg *em)
{
    const char *key;
    json_t *v;
    if (!j) {
        return FY_ERR_OK;
    }
    if (!json_is_object(j)) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST, "documentParameters must be a map");
    }
    json_object_foreach ((json_t *)j, key, v) {
        size_t kn = strlen(key);
        if (kn == 0 || kn > FY_JOBS_PARAM_KEY_MAX || strspn(key, KEY_CHARS) != kn) {
            return fy_fail(em, FY_ERR_INVALID_REQUEST,
                           "1 validation error detected: documentParameters key '%.128s' must be "
                           "1 to %d characters of [a-zA-Z0-9_-]",
                           key, FY_JOBS_PARAM_KEY_MAX);
        }
        long vn = json_is_string(v) ? param_chars(json_string_value(v)) : -1;
        if (vn < 1 || vn > FY_JOBS_PARAM_VALUE_MAX) {
            return fy_fail(em, FY_ERR_INVALID_REQUEST,
                           "1 validation error detected: documentParameters value of '%.128s' must "
                           "be 1 to %d characters without control characters",
                           key, FY_JOBS_PARAM_VALUE_MAX);
        }
    }
    return FY_ERR_OK;
}

static fy_err check_request(const json_t *j, struct create_req *r, struct fy_errmsg *em)
{
    fy_err e = unpack_body(j, r, em);
    if (!e && (!json_is_array(r->targets) || json_array_size(r->targets) == 0 ||
               json_array_size(r->targets) > FY_JOBS_TARGETS_MAX)) {
        e = fy_fail(em, FY_ERR_INVALID_REQUEST, "targets must list 1 to %d ARNs",
                    FY_JOBS_TARGETS_MAX);
    }
    if (!e && !r->selection) {
        r->selection = "SNAPSHOT";
    }
    if (!e && strcmp(r->selection, "SNAPSHOT") != 0 && strcmp(r->selection, "CONTINUOUS") != 0) {
        e = fy_fail(em, FY_ERR_INVALID_REQUEST, "targetSelection must be SNAPSHOT or CONTINUOUS");
    }
    if (!e) {
        e = fy_jobs_check_document(r->document, r->source, true, em);
    }
    if (!e) {
        e = fy_jobs_check_description(r->description, em);
    }
    if (!e && r->tags) {
        e = fy_tags_check(r->tags, em);
    }
    if (!e) {
        e = fy_jobs_params_check(r->params, em);
    }
    if (!e && r->params) { /* AWS: only with AWS managed templates, which fleetyard has none of */
        e = fy_fail(em, FY_ERR_INVALID_REQUEST,
                    "documentParameters can only be used when creating jobs from AWS managed "
                    "templates");
    }
    if (!e) {
        e = fy_job_config_parse(j, r->now, true, &r->cfg, em);
    }
    if (!e && !(r->config = fy_jobs_config_subset(j))) {
        e = fy_fail(em, FY_ERR_NOMEM, "Out of memory");
    }
    return e;
}

static fy_err insert_job(struct fy_db *db, struct create_req *r, int64_t *id, struct fy_errmsg *em)
{
    char *targets = fy_json_dump(r->targets), *config = fy_json_dump(r->config);
    sqlite3_stmt *st = targets && config ? fy_db_stmt(db, SQL_INSERT, em) : NULL;
    fy_err e = FY_ERR_OK;
    if (!st) {
        e = targets && config ? FY_ERR_INTERNAL : fy_fail(em, FY_ERR_NOMEM, "Out of memory");
    } else {
        bool scheduled = r->cfg.start_time > r->now;
        fy_bind_text(st, 1, r->job_id);
        fy_bind_text(st, 2, scheduled ? "SCHEDULED" : "IN_PROGRESS");
        fy_bind_text(st, 3, r->selection);
        fy_bind_text(st, 4, targets);
        fy_bind_text(st, 5, r->document);
        fy_bind_text(st, 6, r->source);
        fy_bind_text(st, 7, r->description);
        fy_bind_text(st, 8, config);
        fy_bind_text(st, 9, r->template_arn);
        sqlite3_bind_double(st, 10, r->now);
        fy_bind_text(st, 11, r->ns);
        int rc = sqlite3_step(st);
        fy_stmt_done(st);
        e = rc == SQLITE_DONE ? FY_ERR_OK : fy_db_err(db, rc, em);
        *id = sqlite3_last_insert_rowid(fy_db_handle(db));
    }
    fy_free(targets);
    fy_free(config);
    if (e == FY_ERR_ALREADY_EXISTS) {
        e = fy_fail(em, FY_ERR_ALREADY_EXISTS, "Job %.64s already exists", r->job_id);
    }
    return e;
}

static fy_err create_locked(struct fy_db *db, struct create_req *r, struct fy_errmsg *em)
{
    int64_t id = 0;
    size_t i;
    json_t *arn;
    fy_err e = insert_job(db, r, &id, em);
    json_array_foreach ((json_t *)r->targets, i, arn) {
        struct fy_job_target t;
        if (!e) {
            e = fy_jobs_check_target(db, r->site, json_string_value(arn), &t, em);
        }
        if (!e) {
            e = fy_jobs_add_target(db, id, &t, em);
        }
    }
    if (!e && r->tags) {
        e = fy_tags_put_locked(db, r->arn, r->tags, FY_ERR_LIMIT_EXCEEDED, em);
    }
    if (!e) {
        e = fy_jobs_materialize_begin(db, id, em);
    }
    r->rowid = id;
    return e;
}

/* The change: the request's audit record rides in it. The executions and the first wave come
 * in later transactions, but none of them can fail the request (the scheduler finishes them). */
static fy_err create_in_tx(struct fy_db *db, struct create_req *r, struct fy_errmsg *em)
{
    FY_DB_RETURN_IN_CHANGE_TX(db, em, create_locked(db, r, em));
}

struct first_wave {
    int64_t job;
    double now;
    int64_t wanted;
    struct fy_jobs_changed *changed;
};

static fy_err release_first_locked(struct fy_db *db, struct first_wave *w, struct fy_errmsg *em)
{
    size_t from = w->changed ? w->changed->n : 0; /* earlier chunks' things are final */
    fy_err e =
        fy_jobs_release_first(db, w->job, w->now, FIRST_WAVE_CHUNK, &w->wanted, w->changed, em);
    return e ? e : fy_jobs_touch_finish_from(db, w->changed, from, em);
}

static fy_err release_first_tx(struct fy_db *db, struct first_wave *w, struct fy_errmsg *em)
{
    FY_DB_RETURN_IN_TX(db, em, release_first_locked(db, w, em));
}

/* The first wave, once the executions exist, in transactions of at most FIRST_WAVE_CHUNK
 * releases (each a few milliseconds, so device traffic never waits long), up to
 * FY_JOBS_RELEASE_CHUNK in all; the engine releases the rest. */
static fy_err release_first(struct fy_db *db,
                            int64_t job,
                            double now,
                            struct fy_jobs_changed *changed,
                            struct fy_errmsg *em)
{
    struct first_wave w = {job, now, FIRST_WAVE_CHUNK, changed};
    fy_err e = FY_ERR_OK;
    for (int64_t done = 0; !e && w.wanted == FIRST_WAVE_CHUNK && done < FY_JOBS_RELEASE_CHUNK;
         done += w.wanted) {
        e = release_first_tx(db, &w, em);
    }
    return e;
}

fy_err fy_job_create(struct fy_db *db,
                     const struct fy_site *site,
                     const char *job_id,
                     const json_t *j_body,
                     double now,
                     char *arn_out,
                     size_t arn_n,
                     struct fy_jobs_changed *changed,
                     struct fy_errmsg *em)
{
    struct create_req r;
    json_t *j = NULL;
    memset(&r, 0, sizeof(r));
    r.site = site;
    r.job_id = job_id;
    r.now = now;
    if (!job_id || !fy_valid_job_id(job_id)) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST, "Invalid job id: %.64s", job_id ? job_id : "");
    }
    fy_err e = fy_job_template_apply(db, j_body, &j, em);
    if (!e) {
        e = check_request(j, &r, em);
    }
    fy_arn_fmt(r.arn, sizeof(r.arn), site, "job", job_id);
    if (!e) {
        e = create_in_tx(db, &r, em);
    }
    if (!e) {
        snprintf(arn_out, arn_n, "%s", r.arn);
        struct fy_errmsg later;
        if (fy_jobs_materialize(db, r.rowid, job_id, false, now, &later) != FY_ERR_OK) {
            fy_log(FY_LOG_WARN, "jobs", "job %s: the scheduler will finish its executions: %s",
                   job_id, later.msg); /* the job exists; its cursor is kept */
        } else if (release_first(db, r.rowid, now, changed, &later) != FY_ERR_OK) {
            fy_log(FY_LOG_WARN, "jobs", "job %s: the scheduler will release it: %s", job_id,
                   later.msg);
        }
    }
    json_decref(r.config);
    json_decref(j);
    return e;
}
