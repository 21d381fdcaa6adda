/* Job templates: CreateJobTemplate, DescribeJobTemplate, ListJobTemplates, DeleteJobTemplate,
 * and completing a CreateJob request from a template. */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/json.h"
#include "jobs/jobs_int.h"
#include "registry/groups.h"

static const char SQL_INSERT[] =
    "INSERT INTO job_templates(template_id, description, document, document_source, config, "
    "created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
static const char SQL_GET[] = "SELECT template_id, description, document, document_source, "
                              "config, created_at FROM job_templates WHERE template_id = ?1";
static const char SQL_LIST[] = "SELECT template_id, description, created_at FROM job_templates "
                               "WHERE template_id > ?1 ORDER BY template_id LIMIT ?2";
static const char SQL_DELETE[] = "DELETE FROM job_templates WHERE template_id = ?2";
static const char SQL_EXISTS[] = "SELECT count(*) FROM job_templates WHERE template_id = ?2";
static const char SQL_JOB_SRC[] =
    "SELECT document, document_source, config FROM jobs WHERE job_id = ?1";

/* Template (or job, for jobArn) columns: document, document_source, config as new strings. */
struct tpl_src {
    char *document, *source, *config, *description;
    double created_at;
};

static void src_clear(struct tpl_src *s)
{
    fy_free(s->document);
    fy_free(s->source);
    fy_free(s->config);
    fy_free(s->description);
    memset(s, 0, sizeof(*s));
}

static char *col_dup(sqlite3_stmt *st, int col, bool *oom)
{
    if (sqlite3_column_type(st, col) == SQLITE_NULL) {
        return NULL;
    }
    char *s = fy_strdup(fy_col_text(st, col));
    *oom = *oom || !s;
    return s;
}

/* Loads the template (template = true) or the job named id into *s. */
static fy_err
load_src(struct fy_db *db, bool template, const char *id, struct tpl_src *s, struct fy_errmsg *em)
{
    sqlite3_stmt *st = fy_db_stmt(db, template ? SQL_GET : SQL_JOB_SRC, em);
    bool oom = false;
    memset(s, 0, sizeof(*s));
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    fy_bind_text(st, 1, id);
    int rc = sqlite3_step(st), c = template ? 2 : 0;
    if (rc == SQLITE_ROW) {
        s->document = col_dup(st, c, &oom);
        s->source = col_dup(st, c + 1, &oom);
        s->config = col_dup(st, c + 2, &oom);
        s->description = template ? col_dup(st, 1, &oom) : NULL;
        s->created_at = template ? sqlite3_column_double(st, 5) : 0;
    }
    fy_stmt_done(st);
    fy_err e = FY_ERR_OK;
    if (rc == SQLITE_DONE) {
        e = fy_fail(em, FY_ERR_NOT_FOUND, "%s %.64s not found", template ? "Job template" : "Job",
                    id);
    } else if (rc != SQLITE_ROW) {
        e = fy_db_err(db, rc, em);
    } else if (oom) {
        e = fy_fail(em, FY_ERR_NOMEM, "Out of memory");
    }
    if (e) {
        src_clear(s);
    }
    return e;
}

/* The id of an ARN arn:aws:iot:R:A:<type>/<id>; INVALID_REQUEST when it is not one. */
static fy_err
arn_id(const char *arn, const char *type, char out[FY_JOB_ID_MAX + 1], struct fy_errmsg *em)
{
    struct fy_arn a;
    if (fy_arn_parse(arn, &a, em) != FY_ERR_OK || strcmp(a.type, type) != 0 ||
        !fy_valid_job_id(a.resource)) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST, "Invalid %s ARN: %.256s", type, arn);
    }
    snprintf(out, FY_JOB_ID_MAX + 1, "%s", a.resource);
    return FY_ERR_OK;
}

static fy_err merge(json_t *j, const struct tpl_src *s, struct fy_errmsg *em)
{
    json_t *cfg = fy_json_loads(s->config ? s->config : "{}", 0);
    const char *k;
    json_t *v;
    bool ok = cfg != NULL;
    if (ok && !json_object_get(j, "document") && !json_object_get(j, "documentSource")) {
        if (s->document) {
            ok = json_object_set_new(j, "document", json_string(s->document)) == 0;
        } else if (s->source) {
            ok = json_object_set_new(j, "documentSource", json_string(s->source)) == 0;
        }
    }
    json_object_foreach (cfg, k, v) {
        if (ok && !json_object_get(j, k)) {
            ok = json_object_set(j, k, v) == 0;
        }
    }
    json_decref(cfg);
    return ok ? FY_ERR_OK : fy_fail(em, FY_ERR_NOMEM, "Out of memory");
}

fy_err
fy_job_template_apply(struct fy_db *db, const json_t *j_body, json_t **out, struct fy_errmsg *em)
{
    const char *arn = json_string_value(json_object_get(j_body, "jobTemplateArn"));
    char id[FY_JOB_ID_MAX + 1];
    struct tpl_src s;
    *out = NULL;
    if (!arn) {
        *out = json_incref((json_t *)j_body);
        return FY_ERR_OK;
    }
    fy_err e = arn_id(arn, "jobtemplate", id, em);
    if (!e) {
        e = load_src(db, true, id, &s, em);
    }
    if (e) {
        return e;
    }
    *out = json_deep_copy(j_body);
    e = *out ? merge(*out, &s, em) : fy_fail(em, FY_ERR_NOMEM, "Out of memory");
    src_clear(&s);
    if (e) {
        json_decref(*out);
        *out = NULL;
    }
    return e;
}

struct tpl_req {
    const char *id, *description, *job_arn, *document, *source;
    const json_t *tags;
    char *config;
    double now;
    char arn[FY_ARN_MAX + 1];
};

static fy_err tpl_check(struct fy_db *db, const json_t *j, struct tpl_req *r, struct fy_errmsg *em)
{
    json_error_t err;
    json_t *ig = NULL;
    struct fy_job_config cfg;
    if (json_unpack_ex((json_t *)j, &err, 0, "{s:s, s?s, s?s, s?s, s?o, s?o, s?o, s?o, s?o, s?o !}",
                       "description", &r->description, "jobArn", &r->job_arn, "document",
                       &r->document, "documentSource", &r->source, "tags", &r->tags,
                       "presignedUrlConfig", &ig, "jobExecutionsRolloutConfig", &ig, "abortConfig",
                       &ig, "timeoutConfig", &ig, "jobExecutionsRetryConfig", &ig) != 0) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST, "Invalid request body: %.200s", err.text);
    }
    fy_err e = fy_jobs_check_description(r->description, em);
    if (!e && r->job_arn && (r->document || r->source)) {
        e = fy_fail(em, FY_ERR_INVALID_REQUEST, "Give jobArn or a document, not both");
    }
    if (!e && !r->job_arn) {
        e = fy_jobs_check_document(r->document, r->source, true, em);
    }
    if (!e && r->tags) {
        e = fy_tags_check(r->tags, em);
    }
    if (!e) {
        e = fy_job_config_parse(j, r->now, false, &cfg, em);
    }
    json_t *sub = e ? NULL : fy_jobs_config_subset(j);
    r->config = sub ? fy_json_dump(sub) : NULL;
    json_decref(sub);
    (void)db;
    return e || r->config ? e : fy_fail(em, FY_ERR_NOMEM, "Out of memory");
}

static fy_err
tpl_insert(struct fy_db *db, const struct tpl_req *r, const struct tpl_src *s, struct fy_errmsg *em)
{
    sqlite3_stmt *st = fy_db_stmt(db, SQL_INSERT, em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    fy_bind_text(st, 1, r->id);
    fy_bind_text(st, 2, r->description);
    fy_bind_text(st, 3, s ? s->document : r->document);
    fy_bind_text(st, 4, s ? s->source : r->source);
    fy_bind_text(st, 5, s && strcmp(r->config, "{}") == 0 ? s->config : r->config);
    sqlite3_bind_double(st, 6, r->now);
    int rc = sqlite3_step(st);
    fy_stmt_done(st);
    fy_err e = rc == SQLITE_DONE ? FY_ERR_OK : fy_db_err(db, rc, em);
    if (e == FY_ERR_ALREADY_EXISTS) {
        e = fy_fail(em, FY_ERR_CONFLICT, "Job template %.64s already exists", r->id);
    }
    return e;
}

static fy_err tpl_create_locked(struct fy_db *db, const struct tpl_req *r, struct fy_errmsg *em)
{
    struct tpl_src s;
    char job_id[FY_JOB_ID_MAX + 1];
    bool from_job = r->job_arn != NULL;
    fy_err e = from_job ? arn_id(r->job_arn, "job", job_id, em) : FY_ERR_OK;
    if (!e && from_job) {
        e = load_src(db, false, job_id, &s, em);
    }
    if (!e) {
        e = tpl_insert(db, r, from_job ? &s : NULL, em);
    }
    if (!e && r->tags) {
        e = fy_tags_put_locked(db, r->arn, r->tags, FY_ERR_LIMIT_EXCEEDED, em);
    }
    if (from_job && (!e || e != FY_ERR_NOT_FOUND)) {
        src_clear(&s);
    }
    return e;
}

static fy_err tpl_create_tx(struct fy_db *db, const struct tpl_req *r, struct fy_errmsg *em)
{
    FY_DB_RETURN_IN_CHANGE_TX(db, em, tpl_create_locked(db, r, em));
}

fy_err fy_job_template_create(struct fy_db *db,
                              const struct fy_site *site,
                              const char *template_id,
                              const json_t *j_body,
                              double now,
                              char *arn_out,
                              size_t arn_n,
                              struct fy_errmsg *em)
{
    struct tpl_req r;
    memset(&r, 0, sizeof(r));
    r.id = template_id;
    r.now = now;
    if (!template_id || !fy_valid_job_id(template_id)) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST, "Invalid job template id: %.64s",
                       template_id ? template_id : "");
    }
    fy_arn_fmt(r.arn, sizeof(r.arn), site, "jobtemplate", template_id);
    fy_err e = tpl_check(db, j_body, &r, em);
    if (!e) {
        e = tpl_create_tx(db, &r, em);
    }
    if (!e) {
        snprintf(arn_out, arn_n, "%s", r.arn);
    }
    fy_free(r.config);
    return e;
}

fy_err fy_job_template_describe(struct fy_db *db,
                                const struct fy_site *site,
                                const char *template_id,
                                json_t **out,
                                struct fy_errmsg *em)
{
    struct tpl_src s;
    char arn[FY_ARN_MAX + 1];
    fy_err e = load_src(db, true, template_id, &s, em);
    if (e) {
        return e;
    }
    fy_arn_fmt(arn, sizeof(arn), site, "jobtemplate", template_id);
    json_t *cfg = fy_json_loads(s.config ? s.config : "{}", 0);
    *out = cfg ? json_pack("{s:s, s:s, s:s*, s:s*, s:s*, s:f}", "jobTemplateArn", arn,
                           "jobTemplateId", template_id, "description", s.description, "document",
                           s.document, "documentSource", s.source, "createdAt", s.created_at)
               : NULL;
    if (*out && json_object_update(*out, cfg) != 0) {
        json_decref(*out);
        *out = NULL;
    }
    json_decref(cfg);
    src_clear(&s);
    return *out ? FY_ERR_OK : fy_fail(em, FY_ERR_NOMEM, "Out of memory");
}

static json_t *summary_to_json(const struct fy_site *site, sqlite3_stmt *st)
{
    char arn[FY_ARN_MAX + 1];
    fy_arn_fmt(arn, sizeof(arn), site, "jobtemplate", fy_col_text(st, 0));
    return json_pack("{s:s, s:s, s:s, s:f}", "jobTemplateArn", arn, "jobTemplateId",
                     fy_col_text(st, 0), "description", fy_col_text(st, 1), "createdAt",
                     sqlite3_column_double(st, 2));
}

fy_err fy_job_template_list(struct fy_db *db,
                            const struct fy_site *site,
                            const char *after,
                            int64_t limit,
                            json_t *j_items,
                            char **next,
                            struct fy_errmsg *em)
{
    sqlite3_stmt *st = fy_db_stmt(db, SQL_LIST, em);
    *next = NULL;
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    fy_bind_text(st, 1, after ? after : "");
    sqlite3_bind_int64(st, 2, limit + 1);
    return fy_jobs_page(db, st, limit, site, summary_to_json, "jobTemplateId", j_items, next, em);
}

static fy_err tpl_delete_locked(struct fy_db *db, const char *template_id, struct fy_errmsg *em)
{
    int64_t n = 0;
    fy_err e = fy_jobs_count(db, SQL_EXISTS, 0, template_id, &n, em);
    if (!e && n == 0) {
        return fy_fail(em, FY_ERR_NOT_FOUND, "Job template %.64s not found", template_id);
    }
    return e ? e : fy_jobs_run(db, SQL_DELETE, 0, template_id, 0, em);
}

fy_err fy_job_template_delete(struct fy_db *db, const char *template_id, struct fy_errmsg *em)
{
    FY_DB_RETURN_IN_CHANGE_TX(db, em, tpl_delete_locked(db, template_id, em));
}
