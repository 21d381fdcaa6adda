/* The log store's streams and events: append, list, read and filter. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "logs/logs_int.h"

static const char SQL_STREAM_ENSURE[] =
    "INSERT OR IGNORE INTO log_streams(grp, name, created) VALUES (?, ?, ?)";
static const char SQL_STREAM_ADD[] = "INSERT INTO log_streams(grp, name, created) VALUES (?, ?, ?)";
static const char SQL_EVENT_ADD[] =
    "INSERT INTO log_events(grp, stream, ts, ingest, message) VALUES (?, ?, ?, ?, ?)";
static const char SQL_EVENT_ADD_ONE[] =
    "INSERT INTO log_events(grp, stream, ingest, ts, message) VALUES (?1, ?2, ?3, ?4, ?5)";
static const char SQL_STREAM_PAGE[] =
    "SELECT s.name, s.created, min(e.ts), max(e.ts), max(e.ingest) FROM log_streams s"
    " LEFT JOIN log_events e ON e.grp = s.grp AND e.stream = s.name"
    " WHERE s.grp = ?1 AND s.name > ?2 AND substr(s.name, 1, length(?3)) = ?3"
    " GROUP BY s.name ORDER BY s.name LIMIT ?4";
#define EVENTS_WHERE                                                                            \
    " WHERE grp = ?1 AND (?2 IS NULL OR stream = ?2) AND (?3 IS NULL OR"                        \
    " substr(stream, 1, length(?3)) = ?3) AND ts >= ?4 AND (?5 = 0 OR ts < ?5) AND (?9 IS NULL" \
    " OR stream IN (SELECT value FROM json_each(?9)))"
static const char SQL_EVENTS_ASC[] =
    "SELECT id, stream, ts, ingest, message FROM log_events" EVENTS_WHERE
    " AND (?7 = 0 OR (ts, id) > (?6, ?7)) ORDER BY ts, id LIMIT ?8";
static const char SQL_EVENTS_DESC[] =
    "SELECT id, stream, ts, ingest, message FROM log_events" EVENTS_WHERE
    " AND (?7 = 0 OR (ts, id) < (?6, ?7)) ORDER BY ts DESC, id DESC LIMIT ?8";

static fy_err stream_row(struct fy_db *db,
                         const char *sql,
                         const char *grp,
                         const char *name,
                         int64_t now_ms,
                         struct fy_errmsg *em)
{
    sqlite3_stmt *st = fy_db_stmt(db, sql, em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    fy_bind_text(st, 1, grp);
    fy_bind_text(st, 2, name);
    sqlite3_bind_int64(st, 3, now_ms);
    int rc = sqlite3_step(st);
    fy_stmt_done(st);
    if (rc == SQLITE_CONSTRAINT) {
        return fy_fail(em, FY_ERR_ALREADY_EXISTS, "The specified log stream already exists");
    }
    return rc == SQLITE_DONE ? FY_ERR_OK : fy_db_err(db, rc, em);
}

static fy_err
stream_tx(struct fy_db *db, const char *grp, const char *name, int64_t now_ms, struct fy_errmsg *em)
{
    fy_err e = fy_logs_group_exists(db, grp, em);
    return e ? e : stream_row(db, SQL_STREAM_ADD, grp, name, now_ms, em);
}

fy_err fy_logs_stream_create(
    struct fy_db *db, const char *grp, const char *name, int64_t now_ms, struct fy_errmsg *em)
{
    FY_DB_RETURN_IN_CHANGE_TX(db, em, stream_tx(db, grp, name, now_ms, em));
}

fy_err fy_logs_put(struct fy_db *db,
                   const char *grp,
                   const char *stream,
                   int64_t ts,
                   int64_t now_ms,
                   const char *message,
                   struct fy_errmsg *em)
{
    fy_err e = stream_row(db, SQL_STREAM_ENSURE, grp, stream, now_ms, em);
    sqlite3_stmt *st = e ? NULL : fy_db_stmt(db, SQL_EVENT_ADD, em);
    if (e || !st) {
        return e ? e : FY_ERR_INTERNAL;
    }
    fy_bind_text(st, 1, grp);
    fy_bind_text(st, 2, stream);
    sqlite3_bind_int64(st, 3, ts);
    sqlite3_bind_int64(st, 4, now_ms);
    fy_bind_text(st, 5, message);
    int rc = sqlite3_step(st);
    fy_stmt_done(st);
    return rc == SQLITE_DONE ? FY_ERR_OK : fy_db_err(db, rc, em);
}

/* Runs st (rows events: grp, stream and ingestion time bound as ?1..?3, events from ?4). */
static int put_rows(sqlite3_stmt *st,
                    const char *grp,
                    const char *stream,
                    int64_t now_ms,
                    const struct fy_logs_item *items,
                    size_t rows)
{
    /* SQLITE_STATIC: every string outlives the step */
    sqlite3_bind_text(st, 1, grp, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, stream, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, now_ms);
    for (size_t k = 0; k < rows; k++) {
        sqlite3_bind_int64(st, 4 + 2 * (int)k, items[k].ts);
        sqlite3_bind_text(st, 5 + 2 * (int)k, items[k].message, (int)items[k].len, SQLITE_STATIC);
    }
    int rc = sqlite3_step(st);
    fy_stmt_done(st);
    return rc;
}

/* INSERT of FY_LOGS_ROWS_PER_STMT events: ?1 grp, ?2 stream, ?3 ingestion time, then ts and
 * message of row k as ?(4 + 2k), ?(5 + 2k). One statement step per group of rows keeps the
 * table's and both indexes' cursors open across them (about a third cheaper per row than a
 * step per row). Built once; static storage, as fy_db_stmt caches statements by address. */
#define FY_LOGS_ROWS_PER_STMT 32
static char sql_events_add_many[64 + FY_LOGS_ROWS_PER_STMT * 32];
static pthread_once_t sql_events_once = PTHREAD_ONCE_INIT;

static void sql_events_build(void)
{
    size_t n = (size_t)snprintf(sql_events_add_many, sizeof(sql_events_add_many), "%s",
                                "INSERT INTO log_events(grp, stream, ts, ingest, message) VALUES ");
    for (int k = 0; k < FY_LOGS_ROWS_PER_STMT && n < sizeof(sql_events_add_many); k++) {
        n += (size_t)snprintf(sql_events_add_many + n, sizeof(sql_events_add_many) - n,
                              "%s(?1, ?2, ?%d, ?3, ?%d)", k ? ", " : "", 4 + 2 * k, 5 + 2 * k);
    }
}

fy_err fy_logs_put_many(struct fy_db *db,
                        const char *grp,
                        const char *stream,
                        int64_t now_ms,
                        const struct fy_logs_item *items,
                        size_t n,
                        struct fy_errmsg *em)
{
    pthread_once(&sql_events_once, sql_events_build);
    fy_err e = stream_row(db, SQL_STREAM_ENSURE, grp, stream, now_ms, em);
    sqlite3_stmt *many = e ? NULL : fy_db_stmt(db, sql_events_add_many, em);
    sqlite3_stmt *one = many ? fy_db_stmt(db, SQL_EVENT_ADD_ONE, em) : NULL;
    if (e || !one) {
        return e ? e : FY_ERR_INTERNAL;
    }
    int rc = SQLITE_DONE;
    size_t i = 0;
    for (; rc == SQLITE_DONE && n - i >= FY_LOGS_ROWS_PER_STMT; i += FY_LOGS_ROWS_PER_STMT) {
        rc = put_rows(many, grp, stream, now_ms, items + i, FY_LOGS_ROWS_PER_STMT);
    }
    for (; rc == SQLITE_DONE && i < n; i++) {
        rc = put_rows(one, grp, stream, now_ms, items + i, 1);
    }
    return rc == SQLITE_DONE ? FY_ERR_OK : fy_db_err(db, rc, em);
}

/* Sets member key of j to the integer in column col (json_object_set_new's result). */
static int set_int(json_t *j, const char *key, sqlite3_stmt *st, int col)
{
    return json_object_set_new(j, key, json_integer(sqlite3_column_int64(st, col)));
}

static json_t *stream_to_json(sqlite3_stmt *st, const void *ctx)
{
    (void)ctx;
    json_t *j = json_pack("{s:s, s:I, s:i}", "logStreamName", fy_col_text(st, 0), "creationTime",
                          (json_int_t)sqlite3_column_int64(st, 1), "storedBytes", 0);
    if (j && sqlite3_column_type(st, 2) != SQLITE_NULL &&
        (set_int(j, "firstEventTimestamp", st, 2) != 0 ||
         set_int(j, "lastEventTimestamp", st, 3) != 0 ||
         set_int(j, "lastIngestionTime", st, 4) != 0)) {
        json_decref(j); /* fy_logs_page answers Out of memory */
        j = NULL;
    }
    return j;
}

fy_err fy_logs_streams_list(struct fy_db *db,
                            const char *grp,
                            const char *prefix,
                            const char *after,
                            int64_t limit,
                            json_t *j_items,
                            char **next,
                            struct fy_errmsg *em)
{
    sqlite3_stmt *st = fy_db_stmt(db, SQL_STREAM_PAGE, em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    fy_bind_text(st, 1, grp);
    fy_bind_text(st, 2, after ? after : "");
    fy_bind_text(st, 3, prefix ? prefix : "");
    sqlite3_bind_int64(st, 4, limit + 1);
    return fy_logs_page(db, st, limit, stream_to_json, NULL, j_items, next, em);
}

static json_t *event_to_json(sqlite3_stmt *st, bool with_stream)
{
    json_t *j = json_pack("{s:I, s:s, s:I}", "timestamp", (json_int_t)sqlite3_column_int64(st, 2),
                          "message", fy_col_text(st, 4), "ingestionTime",
                          (json_int_t)sqlite3_column_int64(st, 3));
    sqlite3_int64 id = sqlite3_column_int64(st, 0);
    if (j && with_stream &&
        (json_object_set_new(j, "logStreamName", json_string(fy_col_text(st, 1))) != 0 ||
         json_object_set_new(j, "eventId", json_sprintf("%lld", id)) != 0)) {
        json_decref(j); /* fy_logs_events answers Out of memory */
        j = NULL;
    }
    return j;
}

static void bind_query(sqlite3_stmt *st, const struct fy_logs_query *q)
{
    fy_bind_text(st, 1, q->grp);
    fy_bind_text(st, 2, q->stream);
    fy_bind_text(st, 3, q->stream_prefix);
    sqlite3_bind_int64(st, 4, q->start);
    sqlite3_bind_int64(st, 5, q->end);
    sqlite3_bind_int64(st, 6, q->after_ts);
    sqlite3_bind_int64(st, 7, q->after_id);
    sqlite3_bind_int64(st, 8, q->scan_max);
    fy_bind_text(st, 9, q->streams);
}

fy_err fy_logs_events(struct fy_db *db,
                      const struct fy_logs_query *q,
                      json_t *j_items,
                      struct fy_logs_pos *first,
                      struct fy_logs_pos *last,
                      bool *more,
                      struct fy_errmsg *em)
{
    sqlite3_stmt *st = fy_db_stmt(db, q->descending ? SQL_EVENTS_DESC : SQL_EVENTS_ASC, em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    bind_query(st, q);
    int rc = SQLITE_DONE;
    int64_t scanned = 0, matched = 0;
    memset(first, 0, sizeof(*first));
    memset(last, 0, sizeof(*last));
    while (matched < q->limit && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct fy_logs_pos pos = {sqlite3_column_int64(st, 2), sqlite3_column_int64(st, 0)};
        if (!first->id) {
            *first = pos;
        }
        *last = pos;
        scanned++;
        if (q->filter && !fy_logfilter_match(q->filter, fy_col_text(st, 4))) {
            continue;
        }
        matched++;
        json_t *j = event_to_json(st, q->with_stream);
        if ((q->descending ? json_array_insert_new(j_items, 0, j)
                           : json_array_append_new(j_items, j)) != 0) {
            fy_stmt_done(st);
            return fy_fail(em, FY_ERR_NOMEM, "Out of memory");
        }
    }
    *more = matched == q->limit || scanned == q->scan_max;
    fy_stmt_done(st);
    if (matched < q->limit && rc != SQLITE_DONE && rc != SQLITE_ROW) {
        return fy_db_err(db, rc, em);
    }
    return FY_ERR_OK;
}
