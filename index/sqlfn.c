/* SQL functions compiled queries call, registered per connection on first use:
 *   fy_num(x)        x as a REAL when it is a number or a numeric-looking string (the AWS rule
 *                    for registry attributes), else NULL;
 *   fy_has_delta(d)  1 when the stored shadow document d has a desired value its reported state
 *                    does not match (AWS shadow.hasDelta), else 0.
 * And fy_index_prepare(), which assembles and binds a statement around a compiled query. */
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/json.h"
#include "index/index_int.h"
#include "index/query.h"

#define PREPARE_MAX (80 * 1024)

static void fn_num(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    int t = sqlite3_value_type(argv[0]);
    if (t == SQLITE_INTEGER || t == SQLITE_FLOAT) {
        sqlite3_result_double(ctx, sqlite3_value_double(argv[0]));
        return;
    }
    const unsigned char *s = sqlite3_value_text(argv[0]);
    double v;
    if (t == SQLITE_TEXT && s && fy_qnumber((const char *)s, &v)) {
        sqlite3_result_double(ctx, v);
        return;
    }
    sqlite3_result_null(ctx);
}

/* True when some desired leaf differs from reported (objects compared member by member). */
static bool has_delta(const json_t *desired, const json_t *reported)
{
    const char *k;
    json_t *v;
    json_object_foreach ((json_t *)desired, k, v) {
        json_t *r = json_object_get(reported, k);
        if (json_is_object(v) && json_is_object(r)) {
            if (has_delta(v, r)) {
                return true;
            }
        } else if (!r || !json_equal(v, r)) {
            return true;
        }
    }
    return false;
}

json_t *fy_index_delta(const json_t *desired, const json_t *reported)
{
    const char *k;
    json_t *v;
    json_t *out = json_object();
    /* fy_json_with_member: NULL out, not a delta with members missing, when memory runs out */
    json_object_foreach ((json_t *)desired, k, v) {
        json_t *r = json_object_get(reported, k);
        if (!out) {
            break;
        }
        if (json_is_object(v) && json_is_object(r)) {
            json_t *sub = fy_index_delta(v, r);
            if (!sub || json_object_size(sub)) {
                out = fy_json_with_member(out, k, sub);
            } else {
                json_decref(sub);
            }
        } else if (!r || !json_equal(v, r)) {
            out = fy_json_with_member(out, k, json_incref(v));
        }
    }
    return out;
}

static void fn_has_delta(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    const char *doc = (const char *)sqlite3_value_text(argv[0]);
    json_t *j = doc ? fy_json_loads(doc, 0) : NULL;
    json_t *state = json_object_get(j, "state");
    json_t *desired = json_object_get(state, "desired");
    bool d = json_is_object(desired) && has_delta(desired, json_object_get(state, "reported"));
    json_decref(j);
    sqlite3_result_int(ctx, d ? 1 : 0);
}

fy_err fy_index_sql_functions(struct fy_db *db, struct fy_errmsg *em)
{
    sqlite3 *h = fy_db_handle(db);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(h, "SELECT fy_num(1), fy_has_delta(NULL)", -1, &st, NULL) == SQLITE_OK) {
        sqlite3_finalize(st);
        return FY_ERR_OK;
    }
    sqlite3_finalize(st);
    int flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS;
    int rc = sqlite3_create_function_v2(h, "fy_num", 1, flags, NULL, fn_num, NULL, NULL, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_create_function_v2(h, "fy_has_delta", 1, flags, NULL, fn_has_delta, NULL, NULL,
                                        NULL);
    }
    return rc == SQLITE_OK ? FY_ERR_OK : fy_db_err(db, rc, em);
}

fy_err fy_index_prepare(struct fy_db *db,
                        const char *prefix,
                        const struct fy_index_sql *q,
                        const char *suffix,
                        sqlite3_stmt **out,
                        struct fy_errmsg *em)
{
    struct fy_buf b;
    *out = NULL;
    fy_err e = fy_index_sql_functions(db, em);
    if (e) {
        return e;
    }
    fy_buf_init(&b, PREPARE_MAX);
    e = fy_buf_printf(&b, "%s(%s)%s", prefix, q->where, suffix);
    if (e) {
        fy_buf_free(&b);
        return fy_fail(em, e, "Query too large");
    }
    int rc = sqlite3_prepare_v2(fy_db_handle(db), b.data, (int)b.len, out, NULL);
    fy_buf_free(&b);
    if (rc != SQLITE_OK) {
        sqlite3_finalize(*out);
        *out = NULL;
        return fy_db_err(db, rc, em);
    }
    int first = 1;
    for (const char *p = prefix; *p; p++) {
        first += *p == '?';
    }
    fy_index_bind(*out, first, q);
    return FY_ERR_OK;
}
