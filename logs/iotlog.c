/* fy_iotlog_event: the one place an AWS IoT v2 log event is decided, rendered and recorded. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/codec.h"
#include "core/fytime.h"
#include "core/json.h"
#include "core/log.h"
#include "logs/logs.h"

struct fy_iotlog {
    struct fy_logging_levels *levels;
    int64_t loaded_ms; /* 0 = load on next use */
    bool group_ready;  /* AWSIotLogsV2 exists (re-checked with the levels) */
};

static const char SQL_GROUP_ENSURE[] =
    "INSERT OR IGNORE INTO log_groups(name, created, retention_days) VALUES (?, ?, NULL)";

struct fy_iotlog *fy_iotlog_new(void)
{
    return fy_calloc(1, sizeof(struct fy_iotlog));
}

void fy_iotlog_free(struct fy_iotlog *lg)
{
    if (lg) {
        fy_logging_levels_free(lg->levels);
        fy_free(lg);
    }
}

void fy_iotlog_invalidate(struct fy_iotlog *lg)
{
    if (lg) {
        lg->loaded_ms = 0;
    }
}

/* The cached levels, re-read when older than FY_LOGS_CACHE_MS; NULL when they cannot be read. */
static const struct fy_logging_levels *levels_get(struct fy_iotlog *lg, struct fy_db *db)
{
    int64_t now = fy_now_ms();
    if (lg->levels && lg->loaded_ms && now - lg->loaded_ms < FY_LOGS_CACHE_MS) {
        return lg->levels;
    }
    struct fy_logging_levels *l = NULL;
    struct fy_errmsg em = {""};
    if (fy_logging_levels_load(db, &l, &em) != FY_ERR_OK) {
        fy_log(FY_LOG_WARN, "iotlog", "cannot read logging levels: %s", em.msg);
        return lg->levels; /* the previous snapshot, if any */
    }
    fy_logging_levels_free(lg->levels);
    lg->levels = l;
    lg->loaded_ms = now;
    lg->group_ready = false;
    return l;
}

static enum fy_loglevel
resolve(struct fy_iotlog *lg, struct fy_db *db, const struct fy_iotlog_who *w)
{
    if (lg) {
        const struct fy_logging_levels *l = levels_get(lg, db);
        return l ? fy_logging_resolve(l, db, w) : FY_LL_DISABLED;
    }
    struct fy_logging_levels *l = NULL;
    struct fy_errmsg em = {""};
    if (fy_logging_levels_load(db, &l, &em) != FY_ERR_OK) {
        return FY_LL_DISABLED;
    }
    enum fy_loglevel v = fy_logging_resolve(l, db, w);
    fy_logging_levels_free(l);
    return v;
}

/* "2017-08-10 15:37:23.476" (UTC), AWS's v2 log timestamp. */
static void fmt_time(int64_t ms, char *buf, size_t n)
{
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&s, &tm);
    size_t k = strftime(buf, n, "%Y-%m-%d %H:%M:%S", &tm);
    snprintf(buf + k, n - k, ".%03d", (int)(ms % 1000));
}

static void set_str(json_t *j, const char *key, const char *v)
{
    if (v && *v) {
        json_object_set_new(j, key, json_string(v));
    }
}

static json_t *render(const struct fy_site *site,
                      enum fy_loglevel level,
                      const char *event_type,
                      const char *protocol,
                      const char *status,
                      const struct fy_iotlog_who *who,
                      int64_t now)
{
    char ts[40], trace[FY_UUID_LEN + 1] = "";
    fmt_time(now, ts, sizeof(ts));
    if (fy_uuid4(trace) != FY_ERR_OK) {
        trace[0] = '\0';
    }
    json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "timestamp", ts, "logLevel",
                          fy_loglevel_name(level), "traceId", trace, "accountId", site->account,
                          "status", status, "eventType", event_type, "protocol", protocol);
    if (j) {
        set_str(j, "clientId", who->client_id);
        set_str(j, "principalId", who->principal_id);
        set_str(j, "sourceIp", who->source_ip);
        set_str(j, "thingName", who->thing_name);
    }
    return j;
}

static void
record(struct fy_iotlog *lg, struct fy_db *db, const char *protocol, const char *line, int64_t now)
{
    struct fy_errmsg em = {""};
    fy_err e = FY_ERR_OK;
    if (!lg || !lg->group_ready) {
        sqlite3_stmt *st = fy_db_stmt(db, SQL_GROUP_ENSURE, &em);
        fy_bind_text(st, 1, FY_LOGS_IOT_GROUP);
        sqlite3_bind_int64(st, 2, now);
        e = st && sqlite3_step(st) == SQLITE_DONE ? FY_ERR_OK : FY_ERR_INTERNAL;
        fy_stmt_done(st);
        if (lg && !e) {
            lg->group_ready = true;
        }
    }
    e = e ? e : fy_logs_put(db, FY_LOGS_IOT_GROUP, protocol, now, now, line, &em);
    if (e) {
        fy_log(FY_LOG_WARN, "iotlog", "cannot record a log event: %s", em.msg);
    }
}

void fy_iotlog_event(struct fy_iotlog *lg,
                     struct fy_db *db,
                     const struct fy_site *site,
                     enum fy_loglevel level,
                     const char *event_type,
                     const char *protocol,
                     const char *status,
                     const struct fy_iotlog_who *who,
                     json_t *j_fields)
{
    if (level == FY_LL_DISABLED || level > resolve(lg, db, who)) {
        json_decref(j_fields);
        return;
    }
    int64_t now = fy_now_ms();
    json_t *j = render(site, level, event_type, protocol, status, who, now);
    if (j && j_fields) {
        json_object_update(j, j_fields);
    }
    json_decref(j_fields);
    char *line = j ? fy_json_dump(j) : NULL;
    json_decref(j);
    if (line) {
        fprintf(stdout, "%s\n", line);
        fflush(stdout);
        record(lg, db, protocol, line, now);
    }
    fy_free(line);
}
