/* fleetyard registry: the broker's retained messages (see retained.h). */
#include "registry/retained.h"

#include <string.h>

#include "core/alloc.h"

static const char SQL_PUT[] =
    "INSERT INTO retained_messages(topic, payload, qos, last_modified) VALUES(?1, ?2, ?3, ?4) "
    "ON CONFLICT(topic) DO UPDATE SET payload = excluded.payload, qos = excluded.qos, "
    "last_modified = excluded.last_modified";
static const char SQL_DEL[] = "DELETE FROM retained_messages WHERE topic = ?1";
static const char SQL_GET[] =
    "SELECT payload, qos, last_modified FROM retained_messages WHERE topic = ?1";
static const char SQL_LIST[] = "SELECT topic, length(payload), qos, last_modified "
                               "FROM retained_messages WHERE topic > ?1 ORDER BY topic LIMIT ?2";

void fy_retained_clear(struct fy_retained *m)
{
    if (m) {
        fy_free(m->topic);
        fy_free(m->payload);
        memset(m, 0, sizeof(*m));
    }
}

fy_err fy_retained_put(struct fy_db *db,
                       const char *topic,
                       const void *payload,
                       size_t len,
                       int qos,
                       int64_t now_ms,
                       struct fy_errmsg *em)
{
    sqlite3_stmt *st = fy_db_stmt(db, len ? SQL_PUT : SQL_DEL, em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    fy_bind_text(st, 1, topic);
    if (len) {
        sqlite3_bind_blob(st, 2, payload, (int)len, SQLITE_STATIC);
        sqlite3_bind_int(st, 3, qos);
        sqlite3_bind_int64(st, 4, now_ms);
    }
    int rc = sqlite3_step(st);
    fy_stmt_done(st);
    return rc == SQLITE_DONE ? FY_ERR_OK : fy_db_err(db, rc, em);
}

/* Copies the current row (payload, qos, last_modified at columns 0-2) into *out. */
static fy_err read_message(sqlite3_stmt *st, const char *topic, struct fy_retained *out)
{
    size_t len = (size_t)sqlite3_column_bytes(st, 0);
    out->topic = fy_strdup(topic);
    out->payload = fy_malloc(len + 1);
    if (!out->topic || !out->payload) {
        fy_retained_clear(out);
        return FY_ERR_NOMEM;
    }
    if (len) {
        memcpy(out->payload, sqlite3_column_blob(st, 0), len);
    }
    out->payload[len] = 0;
    out->len = len;
    out->qos = sqlite3_column_int(st, 1);
    out->last_modified = sqlite3_column_int64(st, 2);
    return FY_ERR_OK;
}

fy_err
fy_retained_get(struct fy_db *db, const char *topic, struct fy_retained *out, struct fy_errmsg *em)
{
    memset(out, 0, sizeof(*out));
    sqlite3_stmt *st = fy_db_stmt(db, SQL_GET, em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    fy_bind_text(st, 1, topic);
    int rc = sqlite3_step(st);
    fy_err e = rc == SQLITE_ROW    ? read_message(st, topic, out)
               : rc == SQLITE_DONE ? fy_fail(em, FY_ERR_NOT_FOUND,
                                             "No retained message found for topic: %.300s", topic)
                                   : fy_db_err(db, rc, em);
    fy_stmt_done(st);
    return e;
}

fy_err fy_retained_list(struct fy_db *db,
                        const char *after,
                        int64_t limit,
                        json_t *j_out,
                        char **next,
                        struct fy_errmsg *em)
{
    sqlite3_stmt *st = fy_db_stmt(db, SQL_LIST, em);
    fy_err e = FY_ERR_OK;
    int64_t n = 0;
    int rc;
    *next = NULL;
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    fy_bind_text(st, 1, after ? after : "");
    sqlite3_bind_int64(st, 2, limit + 1);
    while (!e && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *topic = fy_col_text(st, 0);
        if (++n > limit) {
            break; /* more follow: *next keeps the page's last topic */
        }
        fy_free(*next);
        *next = fy_strdup(topic);
        json_t *j =
            json_pack("{s:s, s:I, s:i, s:I}", "topic", topic, "payloadSize",
                      (json_int_t)sqlite3_column_int64(st, 1), "qos", sqlite3_column_int(st, 2),
                      "lastModifiedTime", (json_int_t)sqlite3_column_int64(st, 3));
        e = j && *next && json_array_append_new(j_out, j) == 0 ? FY_ERR_OK : FY_ERR_NOMEM;
    }
    if (!e && n <= limit) { /* the last page: no token */
        fy_free(*next);
        *next = NULL;
    }
    fy_stmt_done(st);
    return e;
}
