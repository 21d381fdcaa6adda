/* fy_iotlog_event: the one place an AWS IoT v2 log event is decided, rendered and recorded. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/codec.h"
#include "core/fytime.h"
#include "core/json.h"
#include "core/log.h"
#include "logs/logs.h"

struct fy_iotlog {
    struct fy_logging_levels *levels;
    int64_t loaded_ms; /* 0 = load on next use */
    bool group_ready;  /* AWSIotLogsV2 exists (re-checked with the levels) */
    /* the batch: lines (each ending in '\n') in text; per event its store row (message
     * pointers set at flush: text may move), offset in text and protocol (static strings) */
    struct fy_buf text;
    struct fy_logs_item *items;
    size_t *offs;
    const char **protocols;
    size_t n;
    uint64_t first_ns; /* monotonic time of the oldest pending event */
    /* per-event work saved: the formatted second of the last timestamp, and a generator for
     * trace ids (they correlate events, no secret: seeded once from the system's CSPRNG) */
    int64_t ts_sec;
    char ts_text[24];
    uint64_t rng[2];
};

static const char SQL_GROUP_ENSURE[] =
    "INSERT OR IGNORE INTO log_groups(name, created, retention_days) VALUES (?, ?, NULL)";

struct fy_iotlog *fy_iotlog_new(void)
{
    struct fy_iotlog *lg = fy_calloc(1, sizeof(struct fy_iotlog));
    if (lg) {
        fy_buf_init(&lg->text, FY_IOTLOG_BATCH_BYTES);
    }
    return lg;
}

void fy_iotlog_free(struct fy_iotlog *lg)
{
    if (lg) {
        fy_logging_levels_free(lg->levels);
        fy_buf_free(&lg->text);
        fy_free(lg->items);
        fy_free(lg->offs);
        fy_free(lg->protocols);
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

/* "2017-08-10 15:37:23.476" (UTC), AWS's v2 log timestamp, into buf (FY_IOTLOG_TS_LEN + 1);
 * the formatted second is kept in lg (may be NULL). */
#define FY_IOTLOG_TS_LEN 39 /* 23 used */
static void fmt_time(struct fy_iotlog *lg, int64_t ms, char *buf)
{
    char sec[24];
    int64_t s = ms / 1000;
    if (!lg || lg->ts_sec != s || !lg->ts_text[0]) {
        time_t t = (time_t)s;
        struct tm tm;
        gmtime_r(&t, &tm);
        if (strftime(sec, sizeof(sec), "%Y-%m-%d %H:%M:%S", &tm) == 0) {
            sec[0] = '\0';
        }
        if (lg) {
            memcpy(lg->ts_text, sec, sizeof(sec));
            lg->ts_sec = s;
        }
    } else {
        memcpy(sec, lg->ts_text, sizeof(sec));
    }
    snprintf(buf, FY_IOTLOG_TS_LEN + 1, "%.19s.%03d", sec, (int)(ms % 1000));
}

/* xorshift128+ */
static uint64_t next_random(uint64_t *r)
{
    uint64_t x = r[0], y = r[1];
    r[0] = y;
    x ^= x << 23;
    r[1] = x ^ y ^ (x >> 17) ^ (y >> 26);
    return r[1] + y;
}

/* A random (version 4) UUID for traceId: from lg's generator, or fy_uuid4 without one. */
static void trace_id(struct fy_iotlog *lg, char out[FY_UUID_LEN + 1])
{
    if (lg && !lg->rng[0] && !lg->rng[1] &&
        fy_random_bytes(lg->rng, sizeof(lg->rng)) != FY_ERR_OK) {
        lg->rng[0] = (uint64_t)fy_mono_ns() | 1; /* never both zero */
    }
    if (!lg) {
        if (fy_uuid4(out) != FY_ERR_OK) {
            out[0] = '\0';
        }
        return;
    }
    unsigned char b[16];
    uint64_t hi = next_random(lg->rng), lo = next_random(lg->rng);
    memcpy(b, &hi, 8);
    memcpy(b + 8, &lo, 8);
    fy_uuid_format(b, out);
}

/* One event being recorded (fy_iotlog_event's arguments). */
struct event {
    const struct fy_iotlog_event_info *info;
    const struct fy_iotlog_who *who;
    const struct fy_iotlog_field *f;
    size_t nf;
    int64_t now;
};

/* An event's members in order: the AWS v2 ones, who's (unless a field replaces one), then the
 * fields; NULL or empty values are left out. */
#define FY_IOTLOG_MEMBERS_MAX 32
struct members {
    struct fy_iotlog_field m[FY_IOTLOG_MEMBERS_MAX];
    size_t n;
    size_t room; /* bytes the object can take at most */
};

static void add(struct members *ms, const char *key, const char *value)
{
    if (value && *value && ms->n < FY_IOTLOG_MEMBERS_MAX) {
        ms->m[ms->n++] = (struct fy_iotlog_field){key, value};
        ms->room += FY_JSON_MEMBER_MAX(strlen(key), strlen(value)) + 1; /* and a comma */
    }
}

/* True when fields name key (a field replaces the subject's member of the same name). */
static bool has_field(const struct fy_iotlog_field *f, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(f[i].key, key) == 0) {
            return true;
        }
    }
    return false;
}

/* The event's JSON object, appended to b (each key once). Written by hand into room reserved
 * once, not through a json_t: this runs for every event on the broker thread, and a jansson
 * object costs a dozen allocations. */
static fy_err render(struct fy_iotlog *lg, struct fy_buf *b, const struct event *x)
{
    const struct fy_iotlog_event_info *ev = x->info;
    const struct fy_iotlog_who *who = x->who;
    const struct fy_iotlog_field *f = x->f;
    size_t nf = x->nf;
    char ts[FY_IOTLOG_TS_LEN + 1], trace[FY_UUID_LEN + 1];
    const struct fy_iotlog_field who_members[] = {{"clientId", who->client_id},
                                                  {"principalId", who->principal_id},
                                                  {"sourceIp", who->source_ip},
                                                  {"thingName", who->thing_name}};
    struct members ms = {.n = 0, .room = 2};
    fmt_time(lg, x->now, ts);
    trace_id(lg, trace);
    add(&ms, "timestamp", ts);
    add(&ms, "logLevel", fy_loglevel_name(ev->level));
    add(&ms, "traceId", trace);
    add(&ms, "accountId", ev->site->account);
    add(&ms, "status", ev->status);
    add(&ms, "eventType", ev->event_type);
    add(&ms, "protocol", ev->protocol);
    for (size_t i = 0; i < sizeof(who_members) / sizeof(who_members[0]); i++) {
        if (!has_field(f, nf, who_members[i].key)) {
            add(&ms, who_members[i].key, who_members[i].value);
        }
    }
    for (size_t i = 0; i < nf; i++) {
        add(&ms, f[i].key, f[i].value);
    }
    fy_err e = fy_buf_reserve(b, ms.room);
    if (e) {
        return e;
    }
    char *w = b->data + b->len;
    *w++ = '{';
    for (size_t i = 0; i < ms.n; i++) {
        if (i) {
            *w++ = ',';
        }
        w = fy_json_write_member(w, ms.m[i].key, ms.m[i].value);
    }
    *w++ = '}';
    *w = '\0';
    b->len = (size_t)(w - b->data);
    return FY_ERR_OK;
}

/* AWSIotLogsV2 exists (created on first use; lg remembers it until the levels are re-read). */
static fy_err
group_ensure(struct fy_iotlog *lg, struct fy_db *db, int64_t now, struct fy_errmsg *em)
{
    if (lg && lg->group_ready) {
        return FY_ERR_OK;
    }
    sqlite3_stmt *st = fy_db_stmt(db, SQL_GROUP_ENSURE, em);
    fy_bind_text(st, 1, FY_LOGS_IOT_GROUP);
    sqlite3_bind_int64(st, 2, now);
    fy_err e = st && sqlite3_step(st) == SQLITE_DONE ? FY_ERR_OK : FY_ERR_INTERNAL;
    fy_stmt_done(st);
    if (lg && !e) {
        lg->group_ready = true;
    }
    return e;
}

/* One event at once (no cache: the api's requests). */
static void record_now(struct fy_db *db, const char *protocol, const char *line, int64_t now)
{
    struct fy_errmsg em = {""};
    fprintf(stdout, "%s\n", line);
    fflush(stdout);
    fy_err e = group_ensure(NULL, db, now, &em);
    e = e ? e : fy_logs_put(db, FY_LOGS_IOT_GROUP, protocol, now, now, line, &em);
    if (e) {
        fy_log(FY_LOG_WARN, "iotlog", "cannot record a log event: %s", em.msg);
    }
}

/* The batch's rows, one fy_logs_put_many per run of events with the same protocol. */
static fy_err store_batch(struct fy_iotlog *lg, struct fy_db *db, struct fy_errmsg *em)
{
    int64_t now = fy_now_ms();
    fy_err e = group_ensure(lg, db, now, em);
    for (size_t i = 0; i < lg->n; i++) {
        lg->items[i].message = lg->text.data + lg->offs[i];
    }
    for (size_t i = 0, j; !e && i < lg->n; i = j) {
        for (j = i + 1; j < lg->n && lg->protocols[j] == lg->protocols[i]; j++) {
        }
        e = fy_logs_put_many(db, FY_LOGS_IOT_GROUP, lg->protocols[i], now, lg->items + i, j - i,
                             em);
    }
    return e;
}

void fy_iotlog_flush(struct fy_iotlog *lg, struct fy_db *db, bool force)
{
    if (!lg || lg->n == 0 ||
        (!force && fy_mono_ns() - lg->first_ns < (uint64_t)FY_IOTLOG_FLUSH_MS * 1000000u)) {
        return;
    }
    fwrite(lg->text.data, 1, lg->text.len, stdout);
    fflush(stdout);
    struct fy_errmsg em = {""};
    fy_err e = fy_db_begin(db, &em);
    e = e ? e : store_batch(lg, db, &em);
    e = e ? e : fy_db_commit(db, &em);
    if (e) {
        fy_db_rollback(db);
        lg->group_ready = false;
        fy_log(FY_LOG_WARN, "iotlog", "cannot record %zu log events: %s", lg->n, em.msg);
    }
    lg->n = 0;
    lg->text.len = 0;
}

/* The batch's arrays, allocated on first use; false when out of memory. */
static bool batch_ready(struct fy_iotlog *lg)
{
    if (!lg->items) {
        lg->items = fy_calloc(FY_IOTLOG_BATCH_MAX, sizeof(*lg->items));
        lg->offs = fy_calloc(FY_IOTLOG_BATCH_MAX, sizeof(*lg->offs));
        lg->protocols = fy_calloc(FY_IOTLOG_BATCH_MAX, sizeof(*lg->protocols));
        if (!lg->items || !lg->offs || !lg->protocols) {
            FY_FREE(lg->items);
            FY_FREE(lg->offs);
            FY_FREE(lg->protocols);
            return false;
        }
    }
    return true;
}

/* Renders the event at the end of the batch's text (writing the batch first when it is full);
 * false when it does not fit even in an empty batch, or out of memory. */
static bool record_batched(struct fy_iotlog *lg, struct fy_db *db, const struct event *x)
{
    if (!batch_ready(lg)) {
        return false;
    }
    if (lg->n == FY_IOTLOG_BATCH_MAX || lg->text.len > lg->text.max - FY_IOTLOG_LINE_ROOM) {
        fy_iotlog_flush(lg, db, true);
    }
    size_t off = lg->text.len;
    if (render(lg, &lg->text, x) || fy_buf_append(&lg->text, "\n", 1)) {
        lg->text.len = off;
        return false;
    }
    if (lg->n == 0) {
        lg->first_ns = fy_mono_ns();
    }
    lg->items[lg->n].ts = x->now;
    lg->items[lg->n].len = lg->text.len - off - 1;
    lg->offs[lg->n] = off;
    lg->protocols[lg->n] = x->info->protocol;
    lg->n++;
    return true;
}

enum fy_loglevel fy_iotlog_ceiling(struct fy_iotlog *lg, struct fy_db *db)
{
    const struct fy_logging_levels *l = lg ? levels_get(lg, db) : NULL;
    return l ? fy_logging_ceiling(l) : FY_LL_DEBUG;
}

void fy_iotlog_event(struct fy_iotlog *lg,
                     struct fy_db *db,
                     const struct fy_iotlog_event_info *ev,
                     const struct fy_iotlog_who *who,
                     const struct fy_iotlog_field *fields,
                     size_t nfields)
{
    if (ev->level == FY_LL_DISABLED || ev->level > resolve(lg, db, who)) {
        return;
    }
    struct event x = {ev, who, fields, nfields, fy_now_ms()};
    if (lg && record_batched(lg, db, &x)) {
        return;
    }
    struct fy_buf b;
    fy_buf_init(&b, FY_LOGS_MESSAGE_MAX);
    if (render(lg, &b, &x) == FY_ERR_OK) {
        record_now(db, ev->protocol, b.data, x.now);
    } else {
        fy_log(FY_LOG_WARN, "iotlog", "a %.64s event does not fit in a log event", ev->event_type);
    }
    fy_buf_free(&b);
}
