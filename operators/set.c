/* The server's snapshot of operator keys: every key with its policies compiled, loaded in one
 * read transaction and then immutable (shared by the HTTP threads). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/log.h"
#include "operators/operators.h"
#include "policy/policy.h"

static const char SQL_VERSION[] = "SELECT version FROM operator_keys_version WHERE id = 1";
static const char SQL_ALL_KEYS[] =
    "SELECT access_key_id, secret, name, status FROM operator_keys ORDER BY access_key_id";
static const char SQL_ALL_POLICIES[] =
    "SELECT access_key_id, policy_name, document FROM operator_key_policies "
    "ORDER BY access_key_id, policy_name";

struct fy_operator_set {
    struct fy_operator *ops; /* sorted by key_id */
    size_t n;
};

fy_err fy_operators_version(struct fy_db *db, int64_t *out, struct fy_errmsg *em)
{
    sqlite3_stmt *st = fy_db_stmt(db, SQL_VERSION, em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    int rc = sqlite3_step(st);
    *out = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    fy_stmt_done(st);
    return rc == SQLITE_ROW ? FY_ERR_OK : fy_db_err(db, rc, em);
}

void fy_operator_set_free(struct fy_operator_set *s)
{
    if (!s) {
        return;
    }
    for (size_t i = 0; i < s->n; i++) {
        for (size_t p = 0; p < s->ops[i].npolicies; p++) {
            fy_policy_free((struct fy_policy *)s->ops[i].policies[p]);
        }
        fy_free(s->ops[i].policies);
        memset(s->ops[i].secret, 0, sizeof(s->ops[i].secret));
    }
    fy_free(s->ops);
    fy_free(s);
}

static fy_err load_keys(struct fy_db *db, struct fy_operator_set *s, struct fy_errmsg *em)
{
    sqlite3_stmt *st = fy_db_stmt(db, SQL_ALL_KEYS, em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    int rc;
    size_t cap = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (s->n == cap) {
            size_t ncap = cap ? cap * 2 : 8;
            struct fy_operator *ops = fy_realloc(s->ops, ncap * sizeof(*ops));
            if (!ops) {
                fy_stmt_done(st);
                return fy_fail(em, FY_ERR_NOMEM, "Out of memory");
            }
            s->ops = ops;
            cap = ncap;
        }
        struct fy_operator *o = &s->ops[s->n++];
        memset(o, 0, sizeof(*o));
        snprintf(o->key_id, sizeof(o->key_id), "%s", fy_col_text(st, 0));
        snprintf(o->secret, sizeof(o->secret), "%s", fy_col_text(st, 1));
        snprintf(o->name, sizeof(o->name), "%s", fy_col_text(st, 2));
        o->active = strcmp(fy_col_text(st, 3), "Active") == 0;
    }
    fy_stmt_done(st);
    return rc == SQLITE_DONE ? FY_ERR_OK : fy_db_err(db, rc, em);
}

/* Compiles one stored document onto its key (skipped, and logged, when it does not compile). */
static fy_err add_policy(struct fy_operator *o, sqlite3_stmt *st, struct fy_errmsg *em)
{
    struct fy_policy *p = NULL;
    struct fy_errmsg perr = {""};
    const char *doc = fy_col_text(st, 2);
    if (o->npolicies >= FY_OPERATOR_POLICIES_MAX) {
        return FY_ERR_OK;
    }
    fy_err e = fy_policy_compile(doc, strlen(doc), &p, &perr);
    if (e == FY_ERR_NOMEM) {
        return fy_fail(em, e, "Out of memory");
    }
    if (e) {
        fy_log(FY_LOG_ERROR, "operators", "key %s: policy %.128s is ignored: %s", o->key_id,
               fy_col_text(st, 1), perr.msg);
        return FY_ERR_OK;
    }
    if (!o->policies) {
        o->policies = fy_calloc(FY_OPERATOR_POLICIES_MAX, sizeof(*o->policies));
        if (!o->policies) {
            fy_policy_free(p);
            return fy_fail(em, FY_ERR_NOMEM, "Out of memory");
        }
    }
    o->policies[o->npolicies++] = p;
    return FY_ERR_OK;
}

static fy_err load_policies(struct fy_db *db, struct fy_operator_set *s, struct fy_errmsg *em)
{
    sqlite3_stmt *st = fy_db_stmt(db, SQL_ALL_POLICIES, em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    int rc;
    fy_err e = FY_ERR_OK;
    while (!e && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct fy_operator *o = (struct fy_operator *)fy_operator_set_find(s, fy_col_text(st, 0));
        e = o ? add_policy(o, st, em) : FY_ERR_OK;
    }
    fy_stmt_done(st);
    return e ? e : rc == SQLITE_DONE ? FY_ERR_OK : fy_db_err(db, rc, em);
}

static fy_err
load_tx(struct fy_db *db, struct fy_operator_set *s, int64_t *version, struct fy_errmsg *em)
{
    fy_err e = fy_operators_version(db, version, em);
    e = e ? e : load_keys(db, s, em);
    return e ? e : load_policies(db, s, em);
}

/* A read transaction: the version and the rows it counts come from one snapshot. */
static fy_err
load_in_tx(struct fy_db *db, struct fy_operator_set *s, int64_t *version, struct fy_errmsg *em)
{
    fy_err e = fy_db_exec(db, "BEGIN", em);
    e = e ? e : load_tx(db, s, version, em);
    fy_db_rollback(db);
    return e;
}

fy_err fy_operator_set_load(struct fy_db *db,
                            struct fy_operator_set **out,
                            int64_t *version,
                            struct fy_errmsg *em)
{
    struct fy_operator_set *s = fy_calloc(1, sizeof(*s));
    *out = NULL;
    if (!s) {
        return fy_fail(em, FY_ERR_NOMEM, "Out of memory");
    }
    fy_err e = load_in_tx(db, s, version, em);
    if (e) {
        fy_operator_set_free(s);
        return e;
    }
    *out = s;
    return FY_ERR_OK;
}

static int cmp_key(const void *key, const void *elem)
{
    return strcmp(key, ((const struct fy_operator *)elem)->key_id);
}

const struct fy_operator *fy_operator_set_find(const struct fy_operator_set *s, const char *key_id)
{
    if (!s || !s->n) {
        return NULL;
    }
    return bsearch(key_id, s->ops, s->n, sizeof(s->ops[0]), cmp_key);
}

size_t fy_operator_set_count(const struct fy_operator_set *s)
{
    return s ? s->n : 0;
}
