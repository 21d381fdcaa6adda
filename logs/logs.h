/* fleetyard logs: AWS IoT v2 logging levels, the CloudWatch-Logs-compatible log store, filter
 * patterns, and the one function every IoT event goes through (fy_iotlog_event).
 *
 * Levels live in SQLite (schema/0010_logs.sql): one options row (default level, disableAllLogs)
 * and one row per (targetType, targetName). An event of level L is recorded when L is at or
 * above the level resolved for the event's subject (see fy_logging_resolve). Recorded events go
 * to stdout as one JSON line each and into the log group AWSIotLogsV2.
 *
 * Threads: every function takes the caller's connection (one thread at a time). struct
 * fy_iotlog (a level cache) belongs to one thread: the broker plugin keeps one; the api passes
 * NULL (levels read per event).
 */
#ifndef FY_LOGS_LOGS_H
#define FY_LOGS_LOGS_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "core/db.h"
#include "core/err.h"
#include "core/site.h"

#define FY_LOGS_IOT_GROUP        "AWSIotLogsV2"
#define FY_AUDIT_GROUP           "fleetyard/audit" /* api/logs_audit.c */
#define FY_LOGGING_TARGETS_MAX   1000              /* AWS: log targets per account */
#define FY_LOGGING_NAME_MAX      128          /* target name length (thing group / client id) */
#define FY_LOGS_GROUP_NAME_MAX   512          /* LogGroupName */
#define FY_LOGS_STREAM_NAME_MAX  512          /* LogStreamName */
#define FY_LOGS_GROUPS_MAX       1000         /* log groups per server */
#define FY_LOGS_FILTER_MAX       1024         /* FilterPattern length */
#define FY_LOGS_FILTER_TERMS_MAX 32           /* terms in one filter pattern */
#define FY_LOGS_MESSAGE_MAX      (256 * 1024) /* one event's message */
#define FY_LOGS_CACHE_MS         1000         /* fy_iotlog re-reads levels at most this often */

/* Verbosity order: DISABLED < ERROR < WARN < INFO < DEBUG. */
enum fy_loglevel { FY_LL_DISABLED = 0, FY_LL_ERROR, FY_LL_WARN, FY_LL_INFO, FY_LL_DEBUG };

enum fy_logtarget {
    FY_LT_DEFAULT = 0,
    FY_LT_THING_GROUP,
    FY_LT_CLIENT_ID,
    FY_LT_SOURCE_IP,
    FY_LT_PRINCIPAL_ID,
    FY_LT__COUNT
};

/* Name <-> value; parse returns false on an unknown name. Pure. */
bool fy_loglevel_parse(const char *s, enum fy_loglevel *out);
const char *fy_loglevel_name(enum fy_loglevel l);
bool fy_logtarget_parse(const char *s, enum fy_logtarget *out);
const char *fy_logtarget_name(enum fy_logtarget t);

/* ---- v2 logging configuration (levels.c) ---- */

struct fy_logging_options {
    char role_arn[2048]; /* "" when none */
    enum fy_loglevel default_level;
    bool disable_all;
};

/* Reads the options; FY_ERR_NOT_CONFIGURED when SetV2LoggingOptions was never called. */
FY_NODISCARD fy_err fy_logging_options_get(struct fy_db *db,
                                           struct fy_logging_options *out,
                                           struct fy_errmsg *em);
FY_NODISCARD fy_err fy_logging_options_set(struct fy_db *db,
                                           const struct fy_logging_options *o,
                                           struct fy_errmsg *em);

/* Sets the level of one target (name "" only for DEFAULT, which sets the options' default).
 * FY_ERR_LIMIT_EXCEEDED past FY_LOGGING_TARGETS_MAX targets. */
FY_NODISCARD fy_err fy_logging_level_set(struct fy_db *db,
                                         enum fy_logtarget t,
                                         const char *name,
                                         enum fy_loglevel l,
                                         struct fy_errmsg *em);
/* Deletes a target's level; absent is not an error (as AWS). */
FY_NODISCARD fy_err fy_logging_level_delete(struct fy_db *db,
                                            enum fy_logtarget t,
                                            const char *name,
                                            struct fy_errmsg *em);
/* Appends {logTarget:{targetType,targetName}, logLevel} objects to j_items for targets of type
 * t (FY_LT__COUNT = all), ordered by (type, name), after the key `after` ("type\nname", NULL =
 * from the start), at most limit; *next = new key of the last item when more remain (fy_free). */
FY_NODISCARD fy_err fy_logging_levels_list(struct fy_db *db,
                                           enum fy_logtarget t,
                                           const char *after,
                                           int64_t limit,
                                           json_t *j_items,
                                           char **next,
                                           struct fy_errmsg *em);

/* Who an event is about; any member may be NULL. */
struct fy_iotlog_who {
    const char *client_id;
    const char *principal_id;
    const char *source_ip;
    const char *thing_name; /* for THING_GROUP targets; the client id when NULL */
};

/* A snapshot of the configured levels (levels.c). */
struct fy_logging_levels;

/* Loads every level (owned; fy_logging_levels_free accepts NULL). */
FY_NODISCARD fy_err fy_logging_levels_load(struct fy_db *db,
                                           struct fy_logging_levels **out,
                                           struct fy_errmsg *em);
void fy_logging_levels_free(struct fy_logging_levels *l);

/* The most verbose level any event may be recorded at under l (FY_LL_DISABLED: none). */
enum fy_loglevel fy_logging_ceiling(const struct fy_logging_levels *l);

/* The level that applies to who: the first target that names it in the order CLIENT_ID,
 * PRINCIPAL_ID, SOURCE_IP, THING_GROUP (the deepest group of the thing, or its ancestors'),
 * then the default; DISABLED for everything when disableAllLogs. Reads thing groups from db
 * only when a THING_GROUP target exists. */
enum fy_loglevel fy_logging_resolve(const struct fy_logging_levels *l,
                                    struct fy_db *db,
                                    const struct fy_iotlog_who *who);

/* ---- IoT events (iotlog.c) ---- */

struct fy_iotlog; /* a level cache and event batch for one thread */

/* Events recorded through a cache are batched: kept in memory and written by fy_iotlog_flush
 * (stdout lines in one write, store rows in one transaction), which the owner calls at least
 * every FY_IOTLOG_FLUSH_MS; a batch that reaches FY_IOTLOG_BATCH_MAX events or
 * FY_IOTLOG_BATCH_BYTES is written at once. A batch the store refuses is dropped (logged). */
#define FY_IOTLOG_FLUSH_MS    250
#define FY_IOTLOG_BATCH_MAX   4096
#define FY_IOTLOG_BATCH_BYTES (2 * 1024 * 1024)

/* A new cache (levels read on first use). NULL on allocation failure. */
struct fy_iotlog *fy_iotlog_new(void);
/* Frees lg (writing nothing: flush first). NULL is a no-op. */
void fy_iotlog_free(struct fy_iotlog *lg);
/* Writes the batched events when FY_IOTLOG_FLUSH_MS passed since the oldest (or force). */
void fy_iotlog_flush(struct fy_iotlog *lg, struct fy_db *db, bool force);
/* Makes the next event re-read the levels (the security epoch moved). */
void fy_iotlog_invalidate(struct fy_iotlog *lg);

/* What happened: level, eventType ("Publish-In", an operation name), protocol ("MQTT",
 * "HTTP"; a static string), status ("Success" or "Failure"), in the account of site. */
struct fy_iotlog_event_info {
    const struct fy_site *site;
    enum fy_loglevel level;
    const char *event_type;
    const char *protocol;
    const char *status;
};

/* An event's own member (topicName, reason, ...); NULL or "" values are left out. */
struct fy_iotlog_field {
    const char *key;
    const char *value;
};

/* Room kept free in a batch's text before an event is added (larger events flush first). */
#define FY_IOTLOG_LINE_ROOM (64 * 1024)

/* The event writer: records an AWS IoT v2 log event when the level resolved for who allows
 * ev->level: one JSON line on stdout and one event in AWSIotLogsV2 (stream = protocol);
 * through lg, batched (see above), else at once. The line holds timestamp, logLevel, traceId,
 * accountId, status, eventType, protocol, who's members (clientId, principalId, sourceIp,
 * thingName) and the nfields fields (a field replaces who's member of the same name). lg may be
 * NULL (levels read from db each time). Nothing is built before the level check. Errors are
 * logged, never returned: logging never fails the operation. */
/* The most verbose level any event may be recorded at now (from lg's cached levels; DEBUG when
 * lg is NULL or they cannot be read): a caller skips gathering an event's details above it. */
enum fy_loglevel fy_iotlog_ceiling(struct fy_iotlog *lg, struct fy_db *db);

void fy_iotlog_event(struct fy_iotlog *lg,
                     struct fy_db *db,
                     const struct fy_iotlog_event_info *ev,
                     const struct fy_iotlog_who *who,
                     const struct fy_iotlog_field *fields,
                     size_t nfields);

/* ---- filter patterns (filter.c): plain terms, "quoted phrases", ?optional, -excluded ---- */

struct fy_logfilter;

/* Compiles pattern (NULL or "" matches everything) into *out (fy_logfilter_free).
 * FY_ERR_INVALID_REQUEST: too long, too many terms, unterminated quote, empty term, or a JSON /
 * space-delimited pattern ("{", "["), which this store does not support. Pure. */
FY_NODISCARD fy_err fy_logfilter_compile(const char *pattern,
                                         struct fy_logfilter **out,
                                         struct fy_errmsg *em);
/* True when msg matches: every plain term occurs, no -term occurs, and when ?terms exist at
 * least one occurs (case-sensitive substring matches, as CloudWatch Logs). */
bool fy_logfilter_match(const struct fy_logfilter *f, const char *msg);
void fy_logfilter_free(struct fy_logfilter *f);

/* ---- the log store (store.c, events.c) ---- */

/* Name validation (model patterns). Pure. */
bool fy_logs_valid_group_name(const char *s);
bool fy_logs_valid_stream_name(const char *s);

FY_NODISCARD fy_err fy_logs_group_create(struct fy_db *db,
                                         const char *name,
                                         int64_t now_ms,
                                         struct fy_errmsg *em);
/* Deletes the group with its streams and events; FY_ERR_NOT_FOUND when absent. */
FY_NODISCARD fy_err fy_logs_group_delete(struct fy_db *db, const char *name, struct fy_errmsg *em);
/* days 0 = never expire (DeleteRetentionPolicy). Deletes the events now out of retention. */
FY_NODISCARD fy_err fy_logs_group_retention(
    struct fy_db *db, const char *name, int days, int64_t now_ms, struct fy_errmsg *em);
/* True for a CloudWatch Logs retention value (1, 3, 5, 7, 14, ..., 3653). Pure. */
bool fy_logs_valid_retention(int64_t days);
/* Appends LogGroup objects whose names start with prefix (NULL = all), after `after`. */
FY_NODISCARD fy_err fy_logs_groups_list(struct fy_db *db,
                                        const struct fy_site *site,
                                        const char *prefix,
                                        const char *after,
                                        int64_t limit,
                                        json_t *j_items,
                                        char **next,
                                        struct fy_errmsg *em);
/* Deletes events of every group that are older than its retention. */
FY_NODISCARD fy_err fy_logs_expire(struct fy_db *db, int64_t now_ms, struct fy_errmsg *em);
/* FY_ERR_NOT_FOUND unless the group exists. */
FY_NODISCARD fy_err fy_logs_group_exists(struct fy_db *db, const char *name, struct fy_errmsg *em);

FY_NODISCARD fy_err fy_logs_stream_create(
    struct fy_db *db, const char *grp, const char *name, int64_t now_ms, struct fy_errmsg *em);
/* Appends LogStream objects of grp whose names start with prefix, after `after`. */
FY_NODISCARD fy_err fy_logs_streams_list(struct fy_db *db,
                                         const char *grp,
                                         const char *prefix,
                                         const char *after,
                                         int64_t limit,
                                         json_t *j_items,
                                         char **next,
                                         struct fy_errmsg *em);
/* Appends one event (stream created when absent; group must exist). */
FY_NODISCARD fy_err fy_logs_put(struct fy_db *db,
                                const char *grp,
                                const char *stream,
                                int64_t ts,
                                int64_t now_ms,
                                const char *message,
                                struct fy_errmsg *em);

/* One event of a batch: message is len bytes (not necessarily NUL-terminated). */
struct fy_logs_item {
    int64_t ts;
    const char *message;
    size_t len;
};

/* Appends n events to one stream (created when absent; group must exist), all with ingestion
 * time now_ms; no transaction of its own (the caller's, for one commit per batch). */
FY_NODISCARD fy_err fy_logs_put_many(struct fy_db *db,
                                     const char *grp,
                                     const char *stream,
                                     int64_t now_ms,
                                     const struct fy_logs_item *items,
                                     size_t n,
                                     struct fy_errmsg *em);

/* A query over events: grp required; stream (GetLogEvents) or stream_prefix (NULL = any);
 * ts in [start, end) (end 0 = open); events ordered by (ts, id), read after the key
 * (after_ts, after_id) (or before it when descending; after_id 0 = from the start/end);
 * filter may be NULL. At most scan_max rows are read per call. */
struct fy_logs_query {
    const char *grp;
    const char *stream;
    const char *stream_prefix;
    char *streams; /* JSON array of stream names to keep (FilterLogEvents), or NULL */
    int64_t start, end;
    int64_t after_ts, after_id;
    int64_t limit;
    int64_t scan_max;
    bool descending;
    const struct fy_logfilter *filter;
    bool with_stream; /* add logStreamName and eventId (FilterLogEvents) */
};

/* Position of an event in (ts, id) order. */
struct fy_logs_pos {
    int64_t ts, id;
};

/* Appends matching events to j_items, always in ascending time order. first/last = positions
 * of the first and last events read (id 0 when none); *more = rows may remain past last. */
FY_NODISCARD fy_err fy_logs_events(struct fy_db *db,
                                   const struct fy_logs_query *q,
                                   json_t *j_items,
                                   struct fy_logs_pos *first,
                                   struct fy_logs_pos *last,
                                   bool *more,
                                   struct fy_errmsg *em);

#endif
