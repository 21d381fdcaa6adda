/* Aggregation input: the values of one field over the things (or groups) a query matches, as
 * rows of (number or NULL, text or NULL). One row per value: a thing with an array shadow
 * value or several groups contributes several rows. */
#include <string.h>

#include "core/alloc.h"
#include "index/agg.h"

static const char THINGS_MATCH[] =
    " FROM (SELECT t.id AS id, t.name AS name, t.thing_id AS tid, t.type_id AS type_id, "
    "t.version AS version FROM things t WHERE ";
static const char GROUPS_MATCH[] =
    " FROM (SELECT tg.id AS id, tg.name AS name, tg.group_id AS tid, tg.description AS descr, "
    "tg.attributes AS attrs, tg.version AS version FROM thing_groups tg WHERE ";

static const char SHADOW_JOIN[] = ") m JOIN shadows s ON s.thing_name = m.name AND s.deleted = 0 "
                                  "AND s.doc IS NOT NULL AND s.name = ?";

/* How to read a field: select expressions and the join after the matching subquery; params
 * says which parameters the join takes, in order: k = attribute key, s = shadow name,
 * p = JSON path. */
struct field_sql {
    enum fy_qfield_kind kind;
    const char *num, *text, *join, *params;
};

static const struct field_sql fields[] = {
    {FY_QF_THING_NAME, "NULL", "m.name", ") m", ""},
    {FY_QF_THING_ID, "NULL", "m.tid", ") m", ""},
    {FY_QF_THING_TYPE, "NULL", "ty.name", ") m JOIN thing_types ty ON ty.id = m.type_id", ""},
    {FY_QF_GROUP_NAMES, "NULL", "gn.name",
     ") m JOIN thing_group_members gm ON gm.thing = m.id JOIN thing_groups gn ON gn.id = gm.grp "
     "AND gn.dynamic = 0",
     ""},
    {FY_QF_ATTRIBUTE, "fy_num(a.value)", "a.value",
     ") m JOIN thing_attributes a ON a.thing = m.id AND a.key = ?", "k"},
    {FY_QF_SHADOW_VALUE,
     "CASE WHEN j.type IN ('integer', 'real') THEN j.value WHEN j.type = 'true' THEN 1 "
     "WHEN j.type = 'false' THEN 0 END",
     "CASE j.type WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' ELSE CAST(j.value AS TEXT) "
     "END",
     ") m JOIN shadows s ON s.thing_name = m.name AND s.deleted = 0 AND s.doc IS NOT NULL AND "
     "s.name = ? JOIN json_each(s.doc, ?) j WHERE j.type NOT IN ('object', 'array', 'null') AND "
     "json_type(s.doc, ?) <> 'object'",
     "spp"},
    {FY_QF_SHADOW_HAS_DELTA, "fy_has_delta(s.doc)",
     "CASE fy_has_delta(s.doc) WHEN 1 THEN 'true' ELSE 'false' END", SHADOW_JOIN, "s"},
    {FY_QF_SHADOW_VERSION, "s.version", "CAST(s.version AS TEXT)", SHADOW_JOIN, "s"},
    {FY_QF_CONN_CONNECTED, "IFNULL(c.connected, 0)",
     "CASE IFNULL(c.connected, 0) WHEN 0 THEN 'false' ELSE 'true' END",
     ") m LEFT JOIN connectivity c ON c.client_id = m.name", ""},
    {FY_QF_CONN_TIMESTAMP, "c.timestamp", "CAST(c.timestamp AS TEXT)",
     ") m JOIN connectivity c ON c.client_id = m.name", ""},
    {FY_QF_CONN_REASON, "NULL", "c.disconnect_reason",
     ") m JOIN connectivity c ON c.client_id = m.name AND c.disconnect_reason IS NOT NULL", ""},
    {FY_QF_CONN_VERSION, "c.version_number", "CAST(c.version_number AS TEXT)",
     ") m JOIN connectivity c ON c.client_id = m.name", ""},
    {FY_QF_REG_VERSION, "m.version", "CAST(m.version AS TEXT)", ") m", ""},
    {FY_QF_TG_NAME, "NULL", "m.name", ") m", ""},
    {FY_QF_TG_ID, "NULL", "m.tid", ") m", ""},
    {FY_QF_TG_DESCRIPTION, "NULL", "m.descr", ") m WHERE m.descr IS NOT NULL", ""},
    {FY_QF_TG_ATTRIBUTE, "fy_num(ga.value)", "ga.value",
     ") m JOIN json_each(m.attrs) ga ON ga.key = ?", "k"},
};

static const struct field_sql *field_sql_of(enum fy_qfield_kind kind)
{
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        if (fields[i].kind == kind) {
            return &fields[i];
        }
    }
    return NULL;
}

static void
bind_field(sqlite3_stmt *st, int idx, const struct field_sql *fs, const struct fy_qfield *f)
{
    for (const char *p = fs->params; *p; p++, idx++) {
        const char *v = *p == 'k' ? f->key : *p == 's' ? f->shadow : f->path;
        sqlite3_bind_text(st, idx, v, -1, SQLITE_TRANSIENT);
    }
}

fy_err fy_agg_values(struct fy_db *db,
                     enum fy_index_kind kind,
                     const struct fy_index_sql *q,
                     const struct fy_qfield *f,
                     fy_agg_value_fn fn,
                     void *ctx,
                     struct fy_errmsg *em)
{
    const struct field_sql *fs = field_sql_of(f->kind);
    if (!fs) {
        return fy_fail(em, FY_ERR_INVALID_AGGREGATION, "The field cannot be aggregated");
    }
    char prefix[1024];
    snprintf(prefix, sizeof(prefix), "SELECT %s, %s%s", fs->num, fs->text,
             kind == FY_INDEX_KIND_THINGS ? THINGS_MATCH : GROUPS_MATCH);
    sqlite3_stmt *st = NULL;
    fy_err e = fy_index_prepare(db, prefix, q, fs->join, &st, em);
    if (e) {
        return e;
    }
    bind_field(st, (int)q->nparams + 1, fs, f);
    int rc;
    while (!e && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        bool has_num = sqlite3_column_type(st, 0) != SQLITE_NULL;
        const char *text = (const char *)sqlite3_column_text(st, 1);
        e = fn(ctx, has_num, sqlite3_column_double(st, 0), text);
    }
    if (!e && rc != SQLITE_DONE) {
        e = fy_db_err(db, rc, em);
    }
    sqlite3_finalize(st);
    return e == FY_ERR_NOMEM ? fy_fail(em, e, "Out of memory") : e;
}

fy_err fy_agg_count(struct fy_db *db,
                    enum fy_index_kind kind,
                    const struct fy_index_sql *q,
                    int64_t *count,
                    struct fy_errmsg *em)
{
    sqlite3_stmt *st = NULL;
    fy_err e = fy_index_prepare(db,
                                kind == FY_INDEX_KIND_THINGS
                                    ? "SELECT count(*) FROM things t WHERE "
                                    : "SELECT count(*) FROM thing_groups tg WHERE ",
                                q, "", &st, em);
    if (e) {
        return e;
    }
    int rc = sqlite3_step(st);
    *count = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    e = rc == SQLITE_ROW ? FY_ERR_OK : fy_db_err(db, rc, em);
    sqlite3_finalize(st);
    return e;
}
