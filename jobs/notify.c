/* Which things must hear `notify` / `notify-next`, and those two payloads. */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/json.h"
#include "core/log.h"
#include "jobs/jobs_int.h"

static const char SQL_PENDING[] = "SELECT " FY_EXEC_COLS " FROM job_executions x "
                                  "WHERE x.thing_name = ?1 AND " FY_JOBS_PENDING_WHERE
                                  " ORDER BY x.status = 'QUEUED', x.queued_at, x.id LIMIT ?2";

void fy_jobs_changed_clear(struct fy_jobs_changed *c)
{
    if (!c) {
        return;
    }
    for (size_t i = 0; i < c->n; i++) {
        fy_free(c->items[i].thing);
        fy_free(c->items[i].next_before);
    }
    fy_free(c->items);
    memset(c, 0, sizeof(*c));
}

/* "<jobId>#<executionNumber>" of the thing's next execution into a new string (*out NULL when
 * none): a retry of the same job is a new next execution. */
static fy_err next_job(struct fy_db *db, const char *thing, char **out, struct fy_errmsg *em)
{
    struct fy_exec x;
    bool found = false;
    char key[FY_JOB_ID_MAX + 32];
    *out = NULL;
    fy_err e = fy_exec_load_next(db, thing, &x, &found, em);
    if (!e && found) {
        snprintf(key, sizeof(key), "%s#%lld", x.job_id, (long long)x.execution_number);
        *out = fy_strdup(key);
        e = *out ? FY_ERR_OK : fy_fail(em, FY_ERR_NOMEM, "Out of memory");
    }
    if (found) {
        fy_exec_clear(&x);
    }
    return e;
}

static struct fy_jobs_thing_change *find(struct fy_jobs_changed *c, const char *thing)
{
    for (size_t i = c->n; i > 0; i--) {
        if (strcmp(c->items[i - 1].thing, thing) == 0) {
            return &c->items[i - 1];
        }
    }
    return NULL;
}

static fy_err grow(struct fy_jobs_changed *c, struct fy_errmsg *em)
{
    if (c->n < c->cap) {
        return FY_ERR_OK;
    }
    size_t cap = c->cap ? 2 * c->cap : 8;
    void *p = fy_realloc(c->items, cap * sizeof(*c->items));
    if (!p) {
        return fy_fail(em, FY_ERR_NOMEM, "Out of memory");
    }
    c->items = p;
    c->cap = cap;
    return FY_ERR_OK;
}

fy_err fy_jobs_touch(struct fy_db *db,
                     struct fy_jobs_changed *c,
                     const char *thing,
                     bool pending,
                     struct fy_errmsg *em)
{
    struct fy_jobs_thing_change *t = c ? find(c, thing) : NULL;
    if (!c || t) {
        if (t) {
            t->notify = t->notify || pending;
        }
        return FY_ERR_OK;
    }
    fy_err e = grow(c, em);
    if (e) {
        return e;
    }
    t = &c->items[c->n];
    memset(t, 0, sizeof(*t));
    t->thing = fy_strdup(thing);
    if (!t->thing) {
        return fy_fail(em, FY_ERR_NOMEM, "Out of memory");
    }
    e = next_job(db, thing, &t->next_before, em);
    if (e) {
        FY_FREE(t->thing);
        return e;
    }
    t->notify = pending;
    c->n++;
    return FY_ERR_OK;
}

fy_err fy_jobs_touch_finish(struct fy_db *db, struct fy_jobs_changed *c, struct fy_errmsg *em)
{
    for (size_t i = 0; c && i < c->n; i++) {
        struct fy_jobs_thing_change *t = &c->items[i];
        char *after = NULL;
        fy_err e = next_job(db, t->thing, &after, em);
        if (e) {
            return e;
        }
        bool same = (!after && !t->next_before) ||
                    (after && t->next_before && strcmp(after, t->next_before) == 0);
        t->notify_next = t->notify_next || !same;
        fy_free(after);
    }
    return FY_ERR_OK;
}

/* {"IN_PROGRESS":[S..],"QUEUED":[S..]} of at most FY_JOBS_NOTIFY_MAX executions ({} when none). */
static fy_err
pending_to_json(struct fy_db *db, const char *thing, json_t *j_jobs, struct fy_errmsg *em)
{
    sqlite3_stmt *st = fy_db_stmt(db, SQL_PENDING, em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    fy_bind_text(st, 1, thing);
    sqlite3_bind_int(st, 2, FY_JOBS_NOTIFY_MAX);
    fy_err e = FY_ERR_OK;
    int rc;
    while (!e && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct fy_exec x;
        e = fy_exec_from_row(st, &x, em);
        if (e) {
            break;
        }
        const char *key = fy_exec_status_name(x.status);
        json_t *list = json_object_get(j_jobs, key);
        if (!list && json_object_set_new(j_jobs, key, list = json_array()) != 0) {
            list = NULL;
        }
        if (!list || json_array_append_new(list, fy_exec_summary_to_json(&x)) != 0) {
            e = fy_fail(em, FY_ERR_NOMEM, "Out of memory");
        }
        fy_exec_clear(&x);
    }
    if (!e && rc != SQLITE_DONE) {
        e = fy_db_err(db, rc, em);
    }
    fy_stmt_done(st);
    return e;
}

static fy_err dump_into(json_t *j, char **out, struct fy_errmsg *em)
{
    *out = j ? fy_json_dump(j) : NULL;
    json_decref(j);
    return *out ? FY_ERR_OK : fy_fail(em, FY_ERR_NOMEM, "Out of memory");
}

static fy_err notify_next_payload(
    struct fy_db *db, const char *thing, double now, char **out, struct fy_errmsg *em)
{
    struct fy_exec x;
    bool found = false;
    char *doc = NULL;
    json_t *j = json_pack("{s:I}", "timestamp", (json_int_t)now);
    fy_err e = fy_exec_load_next(db, thing, &x, &found, em);
    if (!e && found) {
        e = fy_job_doc_of(db, x.job, &doc, em);
    }
    if (!e && found && j &&
        json_object_set_new(j, "execution", fy_exec_device_to_json(&x, doc, true)) != 0) {
        e = fy_fail(em, FY_ERR_NOMEM, "Out of memory");
    }
    if (found) {
        fy_exec_clear(&x);
    }
    fy_free(doc);
    if (e) {
        json_decref(j);
        return e;
    }
    return dump_into(j, out, em);
}

fy_err fy_jobs_notify_payloads(struct fy_db *db,
                               const char *thing,
                               double now,
                               char **notify,
                               char **notify_next,
                               struct fy_errmsg *em)
{
    fy_err e = FY_ERR_OK;
    if (notify) {
        json_t *j_jobs = json_object();
        json_t *j =
            j_jobs ? json_pack("{s:I, s:O}", "timestamp", (json_int_t)now, "jobs", j_jobs) : NULL;
        e = j ? pending_to_json(db, thing, j_jobs, em) : fy_fail(em, FY_ERR_NOMEM, "Out of memory");
        json_decref(j_jobs);
        if (e) {
            json_decref(j);
            return e;
        }
        e = dump_into(j, notify, em);
    }
    if (!e && notify_next) {
        e = notify_next_payload(db, thing, now, notify_next, em);
        if (e && notify) {
            FY_FREE(*notify);
        }
    }
    return e;
}

void fy_jobs_changed_each(
    struct fy_db *db, const struct fy_jobs_changed *c, double now, fy_jobs_notify_fn fn, void *ctx)
{
    for (size_t i = 0; c && i < c->n; i++) {
        const struct fy_jobs_thing_change *t = &c->items[i];
        char *notify = NULL, *next = NULL;
        struct fy_errmsg em;
        if (!t->notify && !t->notify_next) {
            continue;
        }
        if (fy_jobs_notify_payloads(db, t->thing, now, t->notify ? &notify : NULL,
                                    t->notify_next ? &next : NULL, &em) == FY_ERR_OK) {
            fn(ctx, t->thing, notify, next);
        } else {
            fy_log(FY_LOG_WARN, "jobs", "notify %.128s: %s", t->thing, em.msg);
        }
        fy_free(notify);
        fy_free(next);
    }
}
