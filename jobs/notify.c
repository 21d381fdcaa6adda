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
/* The thing's pending executions of namespaced jobs, one line each: what a change to them is
 * detected by (the lines before and after differ). */
static const char SQL_NS_STATE[] =
    "SELECT group_concat(x.job_id || char(9) || j.namespace_id || char(9) || "
    "x.execution_number || ':' || x.status || ':' || x.version, char(10)) FROM job_executions x "
    "JOIN jobs j ON j.id = x.job WHERE x.thing_name = ?2 AND j.namespace_id IS NOT NULL AND "
    "j.status != 'DELETION_IN_PROGRESS' AND x.released = 1 AND "
    "x.status IN ('QUEUED','IN_PROGRESS')";

/* The thing's ordinary pending list, compactly: `notify` goes out only when it changed (a
 * namespaced execution's change leaves it as it is). */
static const char SQL_PLAIN_STATE[] =
    "SELECT group_concat(x.id || ':' || x.status, ',') FROM "
    "job_executions x WHERE x.thing_name = ?2 AND " FY_JOBS_PENDING_WHERE;

/* The thing's next pending execution in each namespace, "<namespaceId>\t<jobId>#<number>" per
 * line: notify-next-namespace-<namespaceId> goes out when a namespace's line changed. */
static const char SQL_NS_NEXT[] =
    "SELECT group_concat(ns || char(9) || k, char(10)) FROM (SELECT j.namespace_id AS ns, "
    "x.job_id || '#' || x.execution_number AS k, row_number() OVER (PARTITION BY j.namespace_id "
    "ORDER BY x.status = 'QUEUED', x.queued_at, x.id) AS rn FROM job_executions x JOIN jobs j ON "
    "j.id = x.job WHERE x.thing_name = ?2 AND j.namespace_id IS NOT NULL AND "
    "j.status != 'DELETION_IN_PROGRESS' AND x.released = 1 AND "
    "x.status IN ('QUEUED','IN_PROGRESS')) WHERE rn = 1";

#define NOTIFY_TOPIC_MAX (FY_NAME_MAX + FY_JOB_ID_MAX + FY_JOBS_NAMESPACE_MAX + 64)

void fy_jobs_changed_clear(struct fy_jobs_changed *c)
{
    if (!c) {
        return;
    }
    for (size_t i = 0; i < c->n; i++) {
        fy_free(c->items[i].thing);
        fy_free(c->items[i].next_before);
        fy_free(c->items[i].ns_before);
        fy_free(c->items[i].plain_before);
        fy_free(c->items[i].ns_next_before);
        fy_free(c->items[i].ns_next_changed);
        fy_free(c->items[i].ns_changed);
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
    fy_err e = fy_exec_load_next(db, thing, NULL, &x, &found, em);
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

/* The text sql (SQL_NS_STATE or SQL_PLAIN_STATE) gives for thing, in a new string ("" when
 * none). */
static fy_err
state_of(struct fy_db *db, const char *sql, const char *thing, char **out, struct fy_errmsg *em)
{
    sqlite3_stmt *st = fy_db_stmt(db, sql, em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    fy_bind_text(st, 2, thing);
    int rc = sqlite3_step(st);
    *out = rc == SQLITE_ROW ? fy_strdup(fy_col_text(st, 0)) : NULL;
    fy_stmt_done(st);
    if (rc != SQLITE_ROW) {
        return fy_db_err(db, rc, em);
    }
    return *out ? FY_ERR_OK : fy_fail(em, FY_ERR_NOMEM, "Out of memory");
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
    if (!e) {
        e = state_of(db, SQL_NS_STATE, thing, &t->ns_before, em);
    }
    if (!e) {
        e = state_of(db, SQL_PLAIN_STATE, thing, &t->plain_before, em);
    }
    if (!e) {
        e = state_of(db, SQL_NS_NEXT, thing, &t->ns_next_before, em);
    }
    if (e) {
        FY_FREE(t->thing);
        FY_FREE(t->next_before);
        FY_FREE(t->ns_before);
        FY_FREE(t->plain_before);
        return e;
    }
    t->notify = pending;
    c->n++;
    return FY_ERR_OK;
}

fy_err fy_jobs_touch_finish(struct fy_db *db, struct fy_jobs_changed *c, struct fy_errmsg *em)
{
    return fy_jobs_touch_finish_from(db, c, 0, em);
}

fy_err fy_jobs_touch_finish_from(struct fy_db *db,
                                 struct fy_jobs_changed *c,
                                 size_t from,
                                 struct fy_errmsg *em)
{
    for (size_t i = from; c && i < c->n; i++) {
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
        e = state_of(db, SQL_NS_STATE, t->thing, &after, em);
        if (!e && strcmp(after, t->ns_before) != 0) {
            e = fy_jobs_ns_diff(t->ns_before, after, 2, &t->ns_changed, em);
        }
        FY_FREE(after);
        if (!e) {
            e = state_of(db, SQL_NS_NEXT, t->thing, &after, em);
        }
        if (!e && strcmp(after, t->ns_next_before) != 0) {
            e = fy_jobs_ns_diff(t->ns_next_before, after, 1, &t->ns_next_changed, em);
        }
        FY_FREE(after);
        if (!e && t->notify) {
            e = state_of(db, SQL_PLAIN_STATE, t->thing, &after, em);
            t->notify = e || strcmp(after, t->plain_before) != 0;
        }
        fy_free(after);
        if (e) {
            return e;
        }
    }
    return FY_ERR_OK;
}

/* Appends the first fields tab-separated fields of line (a state line) and "\n" to *acc unless
 * present. */
static fy_err add_key(char **acc, const char *line, size_t n, int fields, struct fy_errmsg *em)
{
    const char *end = line;
    for (int f = 0; end && f < fields; f++) {
        end = memchr(end + (f > 0), '\t', n - (size_t)(end + (f > 0) - line));
    }
    if (!end) {
        return FY_ERR_OK;
    }
    size_t key_n = (size_t)(end - line), old_n = *acc ? strlen(*acc) : 0;
    for (const char *p = *acc; p && *p; p = strchr(p, '\n') + 1) {
        if (strncmp(p, line, key_n) == 0 && p[key_n] == '\n') {
            return FY_ERR_OK;
        }
    }
    char *grown = fy_realloc(*acc, old_n + key_n + 2);
    if (!grown) {
        return fy_fail(em, FY_ERR_NOMEM, "Out of memory");
    }
    memcpy(grown + old_n, line, key_n);
    grown[old_n + key_n] = '\n';
    grown[old_n + key_n + 1] = '\0';
    *acc = grown;
    return FY_ERR_OK;
}

/* Whether the newline-separated list has the line [line, line + n). */
static bool has_line(const char *list, const char *line, size_t n)
{
    for (const char *p = list; *p;) {
        size_t len = strcspn(p, "\n");
        if (len == n && strncmp(p, line, n) == 0) {
            return true;
        }
        p += len + (p[len] == '\n');
    }
    return false;
}

fy_err
fy_jobs_ns_diff(const char *before, const char *after, int fields, char **acc, struct fy_errmsg *em)
{
    const char *lists[2][2] = {{before, after}, {after, before}};
    fy_err e = FY_ERR_OK;
    for (int k = 0; !e && k < 2; k++) {
        for (const char *p = lists[k][0]; !e && *p;) {
            size_t len = strcspn(p, "\n");
            if (len > 0 && !has_line(lists[k][1], p, len)) {
                e = add_key(acc, p, len, fields, em);
            }
            p += len + (p[len] == '\n');
        }
    }
    return e;
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

/* {"timestamp":T,"execution"?:E} of x (NULL: none) with its document as devices see it; clears
 * x. */
static fy_err
execution_payload(struct fy_db *db, struct fy_exec *x, double now, char **out, struct fy_errmsg *em)
{
    char *doc = NULL;
    json_t *j = json_pack("{s:I}", "timestamp", (json_int_t)now);
    fy_err e = x ? fy_job_doc_of(db, x->job, now, &doc, em) : FY_ERR_OK;
    if (!e && x && j &&
        json_object_set_new(j, "execution", fy_exec_device_to_json(x, doc, true)) != 0) {
        e = fy_fail(em, FY_ERR_NOMEM, "Out of memory");
    }
    fy_exec_clear(x);
    fy_free(doc);
    if (e) {
        json_decref(j);
        return e;
    }
    return dump_into(j, out, em);
}

static fy_err notify_next_payload(
    struct fy_db *db, const char *thing, double now, char **out, struct fy_errmsg *em)
{
    struct fy_exec x;
    bool found = false;
    fy_err e = fy_exec_load_next(db, thing, NULL, &x, &found, em);
    return e ? e : execution_payload(db, found ? &x : NULL, now, out, em);
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

/* Publishes one payload on $aws/things/<thing>/jobs/<suffix>. */
static void
put(fy_jobs_publish_fn fn, void *ctx, const char *thing, const char *suffix, const char *text)
{
    char topic[NOTIFY_TOPIC_MAX];
    if (text && (size_t)snprintf(topic, sizeof(topic), "$aws/things/%s/jobs/%s", thing, suffix) <
                    sizeof(topic)) {
        fn(ctx, topic, text);
    }
}

/* The payload for one line of a thing's ns_changed (next false: "<jobId>\t<namespaceId>", the
 * job's latest execution on $aws/things/<thing>/jobs/<jobId>/notify-namespace-<namespaceId>/)
 * or ns_next_changed (next true: "<namespaceId>", the namespace's next execution on
 * .../notify-next-namespace-<namespaceId>); *suffix gets the topic after ".../jobs/". */
static fy_err ns_line_payload(struct fy_db *db,
                              const char *thing,
                              const char *line,
                              size_t len,
                              bool next,
                              double now,
                              char *suffix,
                              size_t suffix_n,
                              char **text,
                              struct fy_errmsg *em)
{
    char job_id[FY_JOB_ID_MAX + 1] = "", ns[FY_JOBS_NAMESPACE_MAX + 1];
    struct fy_exec x;
    bool found = false;
    size_t id_n = next ? 0 : strcspn(line, "\t");
    if (!next && (id_n >= len || id_n >= sizeof(job_id))) {
        return fy_fail(em, FY_ERR_INTERNAL, "Corrupt namespace state");
    }
    snprintf(job_id, sizeof(job_id), "%.*s", (int)id_n, line);
    snprintf(ns, sizeof(ns), "%.*s", (int)(len - id_n - !next), line + id_n + !next);
    if (next) {
        snprintf(suffix, suffix_n, "notify-next-namespace-%s", ns);
    } else {
        snprintf(suffix, suffix_n, "%s/notify-namespace-%s/", job_id, ns);
    }
    fy_err e = next ? fy_exec_load_next(db, thing, ns, &x, &found, em) : FY_ERR_OK;
    if (!next) { /* a deleted job's execution is gone: no "execution" */
        struct fy_errmsg ignored;
        found = fy_exec_load(db, thing, job_id, -1, &x, &ignored) == FY_ERR_OK;
    }
    return e ? e : execution_payload(db, found ? &x : NULL, now, text, em);
}

/* Publishes the namespaced notifications of one line list (see ns_line_payload). */
static void publish_ns(struct fy_db *db,
                       const char *thing,
                       const char *list,
                       bool next,
                       double now,
                       fy_jobs_publish_fn fn,
                       void *ctx)
{
    for (const char *p = list; p && *p;) {
        char suffix[FY_JOB_ID_MAX + FY_JOBS_NAMESPACE_MAX + 32], *text = NULL;
        size_t len = strcspn(p, "\n");
        struct fy_errmsg em;
        if (ns_line_payload(db, thing, p, len, next, now, suffix, sizeof(suffix), &text, &em) ==
            FY_ERR_OK) {
            put(fn, ctx, thing, suffix, text);
        } else {
            fy_log(FY_LOG_WARN, "jobs", "notify %.128s: %s", thing, em.msg);
        }
        fy_free(text);
        p += len + (p[len] == '\n');
    }
}

void fy_jobs_changed_publish(
    struct fy_db *db, const struct fy_jobs_changed *c, double now, fy_jobs_publish_fn fn, void *ctx)
{
    for (size_t i = 0; c && i < c->n; i++) {
        const struct fy_jobs_thing_change *t = &c->items[i];
        char *notify = NULL, *next = NULL;
        struct fy_errmsg em;
        publish_ns(db, t->thing, t->ns_changed, false, now, fn, ctx);
        publish_ns(db, t->thing, t->ns_next_changed, true, now, fn, ctx);
        if (!t->notify && !t->notify_next) {
            continue;
        }
        if (fy_jobs_notify_payloads(db, t->thing, now, t->notify ? &notify : NULL,
                                    t->notify_next ? &next : NULL, &em) == FY_ERR_OK) {
            put(fn, ctx, t->thing, "notify", notify);
            put(fn, ctx, t->thing, "notify-next", next);
        } else {
            fy_log(FY_LOG_WARN, "jobs", "notify %.128s: %s", t->thing, em.msg);
        }
        fy_free(notify);
        fy_free(next);
    }
}
