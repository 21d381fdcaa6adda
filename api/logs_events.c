/* CloudWatch Logs streams and events: CreateLogStream, DescribeLogStreams, PutLogEvents,
 * GetLogEvents, FilterLogEvents (dispatched by api/logs.c). Reads enforce retention first. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "api/routes.h"
#include "core/alloc.h"
#include "core/fytime.h"
#include "core/json.h"
#include "core/names.h"
#include "logs/logs.h"

#define EVENTS_LIMIT_MAX   10000  /* EventsLimit */
#define FILTER_SCAN_MAX    100000 /* rows FilterLogEvents reads per call before returning a token */
#define PUT_EVENTS_MAX     10000  /* PutLogEvents batch */
#define FILTER_STREAMS_MAX 100    /* FilterLogEvents logStreamNames (InputLogStreamNames) */

static fy_err stream_name(struct api_req *req, json_t *body, const char *key, const char **out)
{
    const char *s = json_string_value(json_object_get(body, key));
    if (!fy_logs_valid_stream_name(s)) {
        return fy_fail(&req->em, FY_ERR_INVALID_REQUEST,
                       "Value '%.128s' at '%s' failed to satisfy constraint: Member must match "
                       "pattern [^:*]* and have length 1 to %d",
                       s ? s : "null", key, FY_LOGS_STREAM_NAME_MAX);
    }
    *out = s;
    return FY_ERR_OK;
}

fy_err api_logs_create_stream(struct api_req *req)
{
    static const char *const allowed[] = {"logGroupName", "logStreamName", NULL};
    json_t *body;
    const char *grp = NULL, *name = NULL;
    fy_err e = api_logs_body(req, allowed, &body);
    e = e ? e : api_logs_group_name(req, body, "logGroupName", &grp);
    e = e ? e : stream_name(req, body, "logStreamName", &name);
    return e ? e : fy_logs_stream_create(req->db, grp, name, fy_now_ms(), &req->em);
}

fy_err
api_logs_reply_list(struct api_req *req, fy_err e, const char *key, json_t *items, const char *next)
{
    json_t *j = json_object();
    if (!e && !j) {
        e = fy_fail(&req->em, FY_ERR_NOMEM, "Out of memory");
    }
    if (!e && json_object_set(j, key, items) != 0) {
        e = fy_fail(&req->em, FY_ERR_NOMEM, "Out of memory");
    }
    e = e ? e : api_logs_token_out(req, j, "nextToken", next);
    json_decref(items);
    if (e) {
        json_decref(j);
        return e;
    }
    return api_reply(req, j);
}

fy_err api_logs_describe_streams(struct api_req *req)
{
    static const char *const allowed[] = {"logGroupName",
                                          "logGroupIdentifier",
                                          "logStreamNamePrefix",
                                          "orderBy",
                                          "descending",
                                          "nextToken",
                                          "limit",
                                          NULL};
    json_t *body, *items = json_array();
    const char *grp, *prefix = NULL;
    char *after = NULL, *next = NULL;
    int64_t limit;
    fy_err e = api_logs_body(req, allowed, &body);
    e = e ? e : api_logs_group_name(req, body, "logGroupName", &grp);
    if (!e && json_object_get(body, "logStreamNamePrefix")) {
        e = stream_name(req, body, "logStreamNamePrefix", &prefix);
    }
    e = e ? e : api_logs_limit(req, body, 50, 50, &limit);
    e = e ? e : api_logs_token_in(req, body, &after);
    e = e ? e : fy_logs_group_exists(req->db, grp, &req->em);
    e = e ? e : fy_logs_expire(req->db, fy_now_ms(), &req->em);
    e = e ? e : fy_logs_streams_list(req->db, grp, prefix, after, limit, items, &next, &req->em);
    e = api_logs_reply_list(req, e, "logStreams", items, next);
    fy_free(after);
    fy_free(next);
    return e;
}

static fy_err put_one(struct api_req *req, const char *grp, const char *stream, json_t *ev)
{
    json_int_t ts = 0;
    const char *msg = NULL;
    json_error_t err;
    if (json_unpack_ex(ev, &err, 0, "{s:I, s:s !}", "timestamp", &ts, "message", &msg) != 0) {
        return fy_fail(&req->em, FY_ERR_INVALID_REQUEST, "Invalid log event: %.200s", err.text);
    }
    if (ts < 0 || strlen(msg) > FY_LOGS_MESSAGE_MAX) {
        return fy_fail(&req->em, FY_ERR_INVALID_REQUEST,
                       "Log event timestamp must be >= 0 and message at most %d bytes",
                       FY_LOGS_MESSAGE_MAX);
    }
    return fy_logs_put(req->db, grp, stream, (int64_t)ts, fy_now_ms(), msg, &req->em);
}

static fy_err put_all(struct api_req *req, const char *grp, const char *stream, json_t *events)
{
    size_t i;
    json_t *ev;
    fy_err e = fy_db_begin(req->db, &req->em);
    json_array_foreach (e ? NULL : events, i, ev) {
        e = put_one(req, grp, stream, ev);
        if (e) {
            break;
        }
    }
    e = e ? e : fy_db_commit(req->db, &req->em);
    if (e) {
        fy_db_rollback(req->db);
    }
    return e;
}

fy_err api_logs_put_events(struct api_req *req)
{
    static const char *const allowed[] = {"logGroupName", "logStreamName", "logEvents",
                                          "sequenceToken", NULL};
    json_t *body, *events;
    const char *grp = NULL, *stream = NULL;
    fy_err e = api_logs_body(req, allowed, &body);
    e = e ? e : api_logs_group_name(req, body, "logGroupName", &grp);
    e = e ? e : stream_name(req, body, "logStreamName", &stream);
    events = e ? NULL : json_object_get(body, "logEvents");
    if (!e && (!json_is_array(events) || json_array_size(events) < 1 ||
               json_array_size(events) > PUT_EVENTS_MAX)) {
        e = fy_fail(&req->em, FY_ERR_INVALID_REQUEST, "logEvents must hold 1 to %d events",
                    PUT_EVENTS_MAX);
    }
    e = e ? e : fy_logs_group_exists(req->db, grp, &req->em);
    e = e ? e : put_all(req, grp, stream, events);
    return e ? e : api_reply(req, json_pack("{s:s}", "nextSequenceToken", "0"));
}

/* Optional integer member in [0, max]. */
static fy_err opt_time(struct api_req *req, json_t *body, const char *key, int64_t *out)
{
    json_t *j = json_object_get(body, key);
    *out = 0;
    if (j && (!json_is_integer(j) || json_integer_value(j) < 0)) {
        return fy_fail(&req->em, FY_ERR_INVALID_REQUEST, "%s must be a non-negative integer", key);
    }
    *out = j ? (int64_t)json_integer_value(j) : 0;
    return FY_ERR_OK;
}

/* Parses a position key "d/ts/id" (d = f or b; from our own token) into dir and pos. */
static fy_err parse_pos(struct api_req *req, const char *key, char *dir, struct fy_logs_pos *pos)
{
    char buf[64];
    const char *slash2 = NULL;
    size_t n = strlen(key);
    if (n >= sizeof(buf) || n < 5 || (key[0] != 'f' && key[0] != 'b') || key[1] != '/' ||
        !(slash2 = strchr(key + 2, '/'))) {
        return fy_fail(&req->em, FY_ERR_INVALID_REQUEST, "The specified nextToken is invalid.");
    }
    memcpy(buf, key + 2, (size_t)(slash2 - key - 2));
    buf[slash2 - key - 2] = '\0';
    if (fy_parse_i64_full(buf, 0, INT64_MAX, &pos->ts) != 0 ||
        fy_parse_i64_full(slash2 + 1, 0, INT64_MAX, &pos->id) != 0) {
        return fy_fail(&req->em, FY_ERR_INVALID_REQUEST, "The specified nextToken is invalid.");
    }
    *dir = key[0];
    return FY_ERR_OK;
}

static char *pos_key(char dir, const struct fy_logs_pos *pos)
{
    char buf[64];
    snprintf(buf, sizeof(buf), "%c/%" PRId64 "/%" PRId64, dir, pos->ts, pos->id);
    return fy_strdup(buf);
}

/* The query members shared by GetLogEvents and FilterLogEvents. */
static fy_err read_range(struct api_req *req, json_t *body, struct fy_logs_query *q)
{
    fy_err e = api_logs_group_name(req, body, "logGroupName", &q->grp);
    e = e ? e : opt_time(req, body, "startTime", &q->start);
    e = e ? e : opt_time(req, body, "endTime", &q->end);
    e = e ? e : api_logs_limit(req, body, EVENTS_LIMIT_MAX, EVENTS_LIMIT_MAX, &q->limit);
    e = e ? e : fy_logs_group_exists(req->db, q->grp, &req->em);
    return e ? e : fy_logs_expire(req->db, fy_now_ms(), &req->em);
}

/* GetLogEvents' start: a token's position and direction, else the head (startFromHead) or the
 * newest page. */
static fy_err get_start(struct api_req *req, json_t *body, struct fy_logs_query *q)
{
    char *key = NULL, dir = 'f';
    struct fy_logs_pos pos = {0, 0};
    fy_err e = api_logs_token_in(req, body, &key);
    if (!e && key) {
        e = parse_pos(req, key, &dir, &pos);
        q->descending = dir == 'b';
    } else if (!e) {
        q->descending = !json_is_true(json_object_get(body, "startFromHead"));
    }
    fy_free(key);
    q->after_ts = pos.ts;
    q->after_id = pos.id;
    return e;
}

fy_err api_logs_get_events(struct api_req *req)
{
    static const char *const allowed[] = {
        "logGroupName", "logGroupIdentifier", "logStreamName", "startTime", "endTime", "nextToken",
        "limit",        "startFromHead",      "unmask",        NULL};
    json_t *body, *items = json_array();
    struct fy_logs_query q = {0};
    struct fy_logs_pos first, last;
    bool more;
    fy_err e = api_logs_body(req, allowed, &body);
    e = e ? e : read_range(req, body, &q);
    e = e ? e : stream_name(req, body, "logStreamName", &q.stream);
    e = e ? e : get_start(req, body, &q);
    q.scan_max = q.limit;
    e = e ? e : fy_logs_events(req->db, &q, items, &first, &last, &more, &req->em);
    if (e) {
        json_decref(items);
        return e;
    }
    /* ascending output: forward continues after the newest returned, backward before the oldest
     * (an empty page keeps the position it was asked for) */
    struct fy_logs_pos lo = q.descending ? last : first, hi = q.descending ? first : last;
    struct fy_logs_pos here = {q.after_ts, q.after_id};
    char *fwd = pos_key('f', hi.id ? &hi : &here), *back = pos_key('b', lo.id ? &lo : &here);
    json_t *j = json_pack("{s:o}", "events", items);
    e = j && fwd && back ? FY_ERR_OK : fy_fail(&req->em, FY_ERR_NOMEM, "Out of memory");
    e = e ? e : api_logs_token_out(req, j, "nextForwardToken", fwd);
    e = e ? e : api_logs_token_out(req, j, "nextBackwardToken", back);
    fy_free(fwd);
    fy_free(back);
    if (e) {
        json_decref(j);
        return e;
    }
    return api_reply(req, j);
}

/* logStreamNames: 1..FILTER_STREAMS_MAX valid names, not with logStreamNamePrefix; *out gets
 * them as a JSON array text (fy_free), NULL when absent. */
static fy_err stream_names(struct api_req *req, json_t *body, char **out)
{
    json_t *names = json_object_get(body, "logStreamNames");
    *out = NULL;
    if (!names) {
        return FY_ERR_OK;
    }
    if (json_object_get(body, "logStreamNamePrefix")) {
        return fy_fail(&req->em, FY_ERR_INVALID_REQUEST,
                       "logStreamNames and logStreamNamePrefix cannot both be specified");
    }
    if (!json_is_array(names) || json_array_size(names) < 1 ||
        json_array_size(names) > FILTER_STREAMS_MAX) {
        return fy_fail(&req->em, FY_ERR_INVALID_REQUEST,
                       "1 validation error detected: Value at 'logStreamNames' failed to satisfy "
                       "constraint: Member must have length between 1 and %d",
                       FILTER_STREAMS_MAX);
    }
    size_t i;
    json_t *v;
    json_array_foreach (names, i, v) {
        if (!fy_logs_valid_stream_name(json_string_value(v))) {
            return fy_fail(&req->em, FY_ERR_INVALID_REQUEST,
                           "Value at 'logStreamNames.%zu.member' failed to satisfy constraint: "
                           "Member must match pattern [^:*]* and have length 1 to %d",
                           i + 1, FY_LOGS_STREAM_NAME_MAX);
        }
    }
    *out = fy_json_dump(names);
    return *out ? FY_ERR_OK : fy_fail(&req->em, FY_ERR_NOMEM, "Out of memory");
}

static fy_err
filter_in(struct api_req *req, json_t *body, struct fy_logs_query *q, struct fy_logfilter **f)
{
    char *key = NULL, dir;
    struct fy_logs_pos pos = {0, 0};
    const char *pattern = json_string_value(json_object_get(body, "filterPattern"));
    fy_err e = read_range(req, body, q);
    if (!e && json_object_get(body, "logStreamNamePrefix")) {
        e = stream_name(req, body, "logStreamNamePrefix", &q->stream_prefix);
    }
    e = e ? e : stream_names(req, body, &q->streams);
    e = e ? e : api_logs_token_in(req, body, &key);
    if (!e && key) {
        e = parse_pos(req, key, &dir, &pos);
    }
    fy_free(key);
    q->after_ts = pos.ts;
    q->after_id = pos.id;
    e = e ? e : fy_logfilter_compile(pattern, f, &req->em);
    q->filter = *f;
    return e;
}

fy_err api_logs_filter_events(struct api_req *req)
{
    static const char *const allowed[] = {"logGroupName",   "logGroupIdentifier",
                                          "logStreamNames", "logStreamNamePrefix",
                                          "startTime",      "endTime",
                                          "filterPattern",  "nextToken",
                                          "limit",          "interleaved",
                                          "unmask",         NULL};
    json_t *body, *items = json_array();
    struct fy_logs_query q = {.with_stream = true, .scan_max = FILTER_SCAN_MAX};
    struct fy_logfilter *f = NULL;
    struct fy_logs_pos first, last;
    bool more = false;
    char *next = NULL;
    fy_err e = api_logs_body(req, allowed, &body);
    e = e ? e : filter_in(req, body, &q, &f);
    e = e ? e : fy_logs_events(req->db, &q, items, &first, &last, &more, &req->em);
    if (!e && more && last.id) {
        next = pos_key('f', &last);
    }
    fy_logfilter_free(f);
    fy_free(q.streams);
    e = api_logs_reply_list(req, e, "events", items, next);
    fy_free(next);
    return e;
}
