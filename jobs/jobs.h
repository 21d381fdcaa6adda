/* fleetyard jobs: AWS IoT Jobs (AWS_IOT_BEHAVIOUR.md §5), one state machine for the HTTP
 * control plane (api/jobs*.c), the HTTP jobs data plane (api/jobs_data.c), the MQTT device
 * protocol (broker_plugin/) and the rollout engine (server/scheduler.c).
 *
 * Pure part (no I/O): execution statuses and transitions, request parsing, rollout rates,
 * abort and retry rules. Storage part (schema/0008_jobs.sql): every function runs on the
 * caller's connection (one thread at a time) in at most one short BEGIN IMMEDIATE transaction
 * and changes nothing when it fails. `now` is epoch seconds, passed in so tests can fake it.
 *
 * Notifications: every mutating function fills a struct fy_jobs_changed with the things whose
 * pending list (`notify`) or next execution (`notify-next`) changed; after the commit the caller
 * publishes them with fy_jobs_changed_publish() over its own transport.
 *
 * Errors: FY_ERR_INVALID_REQUEST, FY_ERR_NOT_FOUND, FY_ERR_ALREADY_EXISTS, FY_ERR_CONFLICT,
 * FY_ERR_VERSION_CONFLICT, FY_ERR_INVALID_STATE_TRANSITION, FY_ERR_TERMINAL_STATE,
 * FY_ERR_LIMIT_EXCEEDED, FY_ERR_NOMEM, FY_ERR_INTERNAL, with AWS's message in em.
 */
#ifndef FY_JOBS_JOBS_H
#define FY_JOBS_JOBS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/db.h"
#include "core/err.h"
#include "core/site.h"

#define FY_JOBS_DOCUMENT_MAX        32768 /* job document bytes */
#define FY_JOBS_DOCUMENT_SOURCE_MAX 1350
#define FY_JOBS_TARGETS_MAX         100 /* targets of one job */
#define FY_JOBS_DETAILS_MAX         10  /* statusDetails pairs */
#define FY_JOBS_DETAILS_VALUE_MAX   1024
#define FY_JOBS_TOKEN_MAX           64    /* clientToken bytes */
#define FY_JOBS_TIMEOUT_MIN_MAX     10080 /* in-progress and step timeouts, minutes */
#define FY_JOBS_RATE_MAX            1000  /* exponentialRate.baseRatePerMinute */
#define FY_JOBS_RETRIES_MAX         10
#define FY_JOBS_CONCURRENT_MAX      100000      /* jobExecutionsConfig.maxConcurrentExecutions */
#define FY_JOBS_DELETING_MAX        10          /* jobs in DELETION_IN_PROGRESS at once */
#define FY_JOBS_NOTIFY_MAX          10          /* executions listed in a notify message */
#define FY_JOBS_REQUEST_MAX         (64 * 1024) /* device request payload bytes */
#define FY_JOBS_PURGE_CHUNK         1000        /* executions deleted per engine pass */
#define FY_JOBS_RELEASE_CHUNK       1000        /* executions released per job per pass */
#define FY_JOBS_WINDOW              5000        /* things ids per materialization transaction */
#define FY_JOBS_NAMESPACE_MAX       64   /* namespaceId bytes (fleetyard cap; [a-zA-Z0-9_-]+) */
#define FY_JOBS_PARAM_KEY_MAX       128  /* documentParameters key bytes */
#define FY_JOBS_PARAM_VALUE_MAX     512  /* documentParameters value characters */
#define FY_JOBS_PRESIGN_EXPIRES_MIN 60   /* presignedUrlConfig.expiresInSec */
#define FY_JOBS_PRESIGN_EXPIRES_MAX 3600 /* and its default */
#define FY_JOBS_ROLE_ARN_MIN        20   /* presignedUrlConfig.roleArn length */
#define FY_JOBS_ROLE_ARN_MAX        2048
#define FY_JOBS_ABORT_INLINE_MAX    1000 /* executions up to which a device update checks abort */

/* ---- execution statuses and transitions (pure) ---- */

enum fy_exec_status {
    FY_EXEC_QUEUED = 0,
    FY_EXEC_IN_PROGRESS,
    FY_EXEC_SUCCEEDED,
    FY_EXEC_FAILED,
    FY_EXEC_TIMED_OUT,
    FY_EXEC_REJECTED,
    FY_EXEC_REMOVED,
    FY_EXEC_CANCELED,
    FY_EXEC__COUNT
};

/* Who asks for a transition: a device (UpdateJobExecution, start-next) or the service
 * (timeouts, cancellation, removal). */
enum fy_exec_actor { FY_ACTOR_DEVICE, FY_ACTOR_SERVICE };

/* "QUEUED"... for a status; NULL when out of range. */
const char *fy_exec_status_name(enum fy_exec_status s);
/* Parses an AWS status name; returns 0 on success, -1 for anything else. */
int fy_exec_status_parse(const char *s, enum fy_exec_status *out);
/* Terminal = every status but QUEUED and IN_PROGRESS. */
bool fy_exec_terminal(enum fy_exec_status s);

/* Checks from -> to for actor. Devices may move QUEUED or IN_PROGRESS to IN_PROGRESS,
 * SUCCEEDED, FAILED or REJECTED; other targets are INVALID_REQUEST. The service may move
 * QUEUED to CANCELED or REMOVED, IN_PROGRESS to TIMED_OUT or REMOVED, and IN_PROGRESS to
 * CANCELED only with force. Anything out of a terminal status, or IN_PROGRESS -> CANCELED
 * without force, is INVALID_STATE_TRANSITION. */
FY_NODISCARD fy_err fy_exec_transition(enum fy_exec_status from,
                                       enum fy_exec_status to,
                                       enum fy_exec_actor actor,
                                       bool force,
                                       struct fy_errmsg *em);

/* Checks a statusDetails map: an object of at most FY_JOBS_DETAILS_MAX string values, keys
 * [a-zA-Z0-9:_-]{1,128}, values of 1..FY_JOBS_DETAILS_VALUE_MAX bytes without control
 * characters. NULL is fine. INVALID_REQUEST otherwise. */
FY_NODISCARD fy_err fy_jobs_details_check(const json_t *j, struct fy_errmsg *em);

/* ---- rollout, abort and retry rules (pure) ---- */

/* A job's configuration as the engine reads it (parsed by fy_job_config_parse). */
struct fy_job_config {
    int64_t max_per_minute;          /* 0 = no per-minute cap */
    int64_t base_rate;               /* exponentialRate.baseRatePerMinute, 0 = none */
    double factor;                   /* exponentialRate.incrementFactor */
    int64_t notified_step;           /* rateIncreaseCriteria.numberOfNotifiedThings, 0 = none */
    int64_t succeeded_step;          /* rateIncreaseCriteria.numberOfSucceededThings, 0 = none */
    int64_t max_concurrent;          /* jobExecutionsConfig.maxConcurrentExecutions, 0 = none */
    int64_t progress_timeout;        /* timeoutConfig.inProgressTimeoutInMinutes, 0 = none */
    int64_t retries[FY_EXEC__COUNT]; /* retries allowed after FAILED / TIMED_OUT */
    int nabort;
    struct fy_abort_rule {
        enum fy_exec_status type; /* FAILED, REJECTED, TIMED_OUT, or FY_EXEC__COUNT for ALL */
        double threshold;         /* percent */
        int64_t min_executed;
    } abort[8];
    double start_time, end_time; /* schedulingConfig, 0 = none */
    char end_behavior[16];       /* STOP_ROLLOUT | CANCEL | FORCE_CANCEL | "" */
};

/* Counts of one job's executions that the rollout rules read. */
struct fy_rollout_counts {
    int64_t unreleased;  /* QUEUED, not yet handed to devices */
    int64_t last_minute; /* released during the last 60 seconds */
    int64_t in_flight;   /* released and not terminal */
    int64_t notified;    /* released ever */
    int64_t succeeded;
    int64_t late_unreleased; /* QUEUED, unreleased, of things that joined a CONTINUOUS job later */
};

/* Validates the job configuration members of a CreateJob / UpdateJob / CreateJobTemplate body
 * (jobExecutionsRolloutConfig, abortConfig, timeoutConfig, jobExecutionsRetryConfig,
 * schedulingConfig, presignedUrlConfig, jobExecutionsConfig; others are ignored) and reads them
 * into *out. now is used to check schedulingConfig times. INVALID_REQUEST naming the member. */
FY_NODISCARD fy_err fy_job_config_parse(const json_t *j_cfg,
                                        double now,
                                        bool check_schedule,
                                        struct fy_job_config *out,
                                        struct fy_errmsg *em);

/* Current per-minute rate: the exponential rate (base * factor^k, k = how many times the
 * criterion count has been reached) capped by maximumPerMinute; 0 = unlimited. */
int64_t fy_rollout_rate(const struct fy_job_config *c, const struct fy_rollout_counts *n);

/* How many executions may be released now under the rate and concurrency limits (late
 * joiners excluded: unreleased counts only the initial targets). */
int64_t fy_rollout_quota(const struct fy_job_config *c, const struct fy_rollout_counts *n);

/* How many late joiners of a CONTINUOUS job may be released now: they skip the rollout rate
 * (AWS applies it to the initial targets only) but not the concurrency limit. */
int64_t fy_rollout_late_quota(const struct fy_job_config *c, const struct fy_rollout_counts *n);

/* Counts of one job's finished executions for the abort rules. */
struct fy_abort_counts {
    int64_t finished; /* SUCCEEDED + FAILED + REJECTED + TIMED_OUT */
    int64_t failed, rejected, timed_out;
};

/* Index of the first abort rule that fires, or -1. */
int fy_abort_check(const struct fy_job_config *c, const struct fy_abort_counts *n);

/* Whether an execution that ended in status after retry_attempt earlier retries gets another
 * attempt under jobExecutionsRetryConfig. */
bool fy_retry_allowed(const struct fy_job_config *c, enum fy_exec_status status, int64_t attempt);

/* Parses a schedulingConfig time "YYYY-MM-DDTHH:MM" (UTC) into epoch seconds; -1 if malformed. */
double fy_jobs_parse_time(const char *s);

/* ---- notification bookkeeping ---- */

/* Things whose device-visible job state changed in one call. */
struct fy_jobs_changed {
    size_t n, cap;
    struct fy_jobs_thing_change {
        char *thing;        /* owned */
        char *next_before;  /* owned "<jobId>#<executionNumber>" of the next execution before
                               the change, NULL = none */
        bool notify;        /* pending list changed: publish notify */
        bool notify_next;   /* next execution changed: publish notify-next */
        char *ns_before;    /* owned: its namespaced pending executions before the change */
        char *plain_before; /* owned: its ordinary pending list before the change */
        char *ns_changed;   /* owned: "<jobId>\t<namespaceId>\n" of namespaced jobs that changed */
        char *ns_next_before;  /* owned: its next execution in each namespace before */
        char *ns_next_changed; /* owned: "<namespaceId>\n" of namespaces whose next changed */
    } * items;
};

/* Releases everything c owns and zeroes it. Accepts NULL. */
void fy_jobs_changed_clear(struct fy_jobs_changed *c);

/* Builds, from the database, the `notify` payload {"timestamp":T,"jobs":{...}} and the
 * `notify-next` payload {"timestamp":T,"execution"?:E} of thing into owned strings (fy_free).
 * Either output pointer may be NULL when not wanted. */
FY_NODISCARD fy_err fy_jobs_notify_payloads(struct fy_db *db,
                                            const char *thing,
                                            double now,
                                            char **notify,
                                            char **notify_next,
                                            struct fy_errmsg *em);

/* Receives one notification: its topic and payload (both borrowed for the call). */
typedef void (*fy_jobs_publish_fn)(void *ctx, const char *topic, const char *payload);

/* The one builder of jobs notifications, for the plugin, the HTTP API and the scheduler (call
 * after the commit): for every thing of c, `notify` on $aws/things/<thing>/jobs/notify and
 * `notify-next` on .../notify-next as needed, and for each namespaced job whose execution on the
 * thing changed, {"timestamp", "execution"?} on
 * $aws/things/<thing>/jobs/<jobId>/notify-namespace-<namespaceId>/, and for each namespace
 * whose next execution changed, {"timestamp", "execution"?} on
 * $aws/things/<thing>/jobs/notify-next-namespace-<namespaceId>. Things whose payloads
 * cannot be built are logged and skipped. */
void fy_jobs_changed_publish(struct fy_db *db,
                             const struct fy_jobs_changed *c,
                             double now,
                             fy_jobs_publish_fn fn,
                             void *ctx);

/* Namespaced-state difference (pure, for tests): for each line that differs between the
 * newline-separated lists before and after, appends to *acc (fy_free) its key (its first
 * fields tab-separated fields) and "\n", once per key. Lines without that many tabs are
 * skipped. */
FY_NODISCARD fy_err fy_jobs_ns_diff(
    const char *before, const char *after, int fields, char **acc, struct fy_errmsg *em);

/* ---- presigned URLs (presignedUrlConfig) ---- */

/* The key fleetyard signs document URLs with (the operator credential). */
struct fy_presign_key {
    char access_key[64];
    char secret_key[128];
    char region[33]; /* used when the URL's host names no region */
};

/* Presigns url (http(s)://host[:port]/path[?query]) in SigV4 query form for service s3, valid
 * expires seconds from now: a new string in *out (fy_free). INVALID_REQUEST for a URL it cannot
 * sign, NOMEM. Pure. */
FY_NODISCARD fy_err fy_jobs_presign_url(
    const char *url, const struct fy_presign_key *k, int64_t expires, int64_t now, char **out);

/* Replaces every ${aws:iot:s3-presigned-url:URL} and ${aws:iot:s3-presigned-url-v2:URL} in the
 * string values of the JSON document doc with URL presigned (a URL without a scheme is
 * "<bucket>/<key>" on https://s3.amazonaws.com/); placeholders it cannot sign stay. New
 * compact JSON text in *out (fy_free). Pure. */
FY_NODISCARD fy_err fy_jobs_presign_doc(const char *doc,
                                        const struct fy_presign_key *k,
                                        int64_t expires,
                                        int64_t now,
                                        char **out,
                                        struct fy_errmsg *em);

/* Stores the signing key (fleetyard-server at start, before devices are served). */
FY_NODISCARD fy_err fy_jobs_presign_store(struct fy_db *db,
                                          const char *access_key,
                                          const char *secret_key,
                                          const char *region,
                                          struct fy_errmsg *em);

/* ---- control plane ---- */

/* CreateJob. j_body is the request body (borrowed; targets, document/documentSource,
 * description, targetSelection, configs, tags, jobTemplateArn, namespaceId); the job's
 * executions are created QUEUED, and the first wave that the rollout and concurrency limits
 * allow is released before it returns (things recorded in changed; the engine releases the
 * rest). documentParameters is refused (AWS accepts it only with AWS managed templates, which
 * fleetyard does not have) after its keys and values pass AWS's checks. Writes the ARN into
 * arn_out. changed may be NULL. */
FY_NODISCARD fy_err fy_job_create(struct fy_db *db,
                                  const struct fy_site *site,
                                  const char *job_id,
                                  const json_t *j_body,
                                  double now,
                                  char *arn_out,
                                  size_t arn_n,
                                  struct fy_jobs_changed *changed,
                                  struct fy_errmsg *em);

/* documentParameters (pure): an object of string values, keys [a-zA-Z0-9_-]{1,128}, values of
 * 1..FY_JOBS_PARAM_VALUE_MAX characters without control characters. NULL is fine.
 * INVALID_REQUEST otherwise. */
FY_NODISCARD fy_err fy_jobs_params_check(const json_t *j, struct fy_errmsg *em);

/* namespaceId (pure): [a-zA-Z0-9_-]{1,FY_JOBS_NAMESPACE_MAX}. */
bool fy_jobs_valid_namespace(const char *ns);

/* DescribeJob: {"documentSource"?, "job": {...}} as a new reference in *out. */
FY_NODISCARD fy_err fy_job_describe(struct fy_db *db,
                                    const struct fy_site *site,
                                    const char *job_id,
                                    json_t **out,
                                    struct fy_errmsg *em);

/* GetJobDocument: the document (borrowed into a new string *out, fy_free). */
FY_NODISCARD fy_err fy_job_document(struct fy_db *db,
                                    const char *job_id,
                                    char **out,
                                    struct fy_errmsg *em);

/* Given a namespaceId (UpdateJob, DeleteJob, DeleteJobExecution), the job must be in that
 * namespace: NOT_FOUND otherwise; malformed -> INVALID_REQUEST; NULL ns is fine. */
FY_NODISCARD fy_err fy_job_check_namespace(struct fy_db *db,
                                           const char *job_id,
                                           const char *ns,
                                           struct fy_errmsg *em);

/* ListJobs filters; NULL = any. */
struct fy_job_filter {
    const char *status;
    const char *target_selection;
    const char *group;    /* thingGroupName: jobs targeting this group */
    const char *group_id; /* thingGroupId: the same by the group's id */
    const char *ns;       /* namespaceId */
};

/* ListJobs: appends JobSummary objects to j_items (job id order) after `after`, at most limit;
 * *next gets the last id (fy_free) when more follow. */
FY_NODISCARD fy_err fy_job_list(struct fy_db *db,
                                const struct fy_site *site,
                                const struct fy_job_filter *f,
                                const char *after,
                                int64_t limit,
                                json_t *j_items,
                                char **next,
                                struct fy_errmsg *em);

/* UpdateJob: replaces description and each configuration member present in j_body. */
FY_NODISCARD fy_err fy_job_update(
    struct fy_db *db, const char *job_id, const json_t *j_body, double now, struct fy_errmsg *em);

/* CancelJob: QUEUED executions -> CANCELED, IN_PROGRESS ones too with force. COMPLETED or
 * deleting jobs -> INVALID_REQUEST... reason_code/comment may be NULL. */
FY_NODISCARD fy_err fy_job_cancel(struct fy_db *db,
                                  const char *job_id,
                                  bool force,
                                  const char *reason_code,
                                  const char *comment,
                                  double now,
                                  struct fy_jobs_changed *changed,
                                  struct fy_errmsg *em);

/* DeleteJob: the job goes to DELETION_IN_PROGRESS (its executions leave every pending list at
 * once) and the engine purges it; an IN_PROGRESS/SCHEDULED job needs force
 * (INVALID_STATE_TRANSITION otherwise); FY_JOBS_DELETING_MAX deletions in flight ->
 * LIMIT_EXCEEDED. */
FY_NODISCARD fy_err fy_job_delete(struct fy_db *db,
                                  const char *job_id,
                                  bool force,
                                  double now,
                                  struct fy_jobs_changed *changed,
                                  struct fy_errmsg *em);

/* DescribeJobExecution (control plane): {"execution": {...}}; execution_number < 0 = latest. */
FY_NODISCARD fy_err fy_exec_describe(struct fy_db *db,
                                     const struct fy_site *site,
                                     const char *thing,
                                     const char *job_id,
                                     int64_t execution_number,
                                     double now,
                                     json_t **out,
                                     struct fy_errmsg *em);

/* Executions listing: by job (thing == NULL) or by thing (job_id optional filter); status may
 * be NULL. Appends summaries to j_items; `after` / *next are opaque resume keys. */
struct fy_exec_filter {
    const char *job_id;
    const char *thing;
    const char *status;
    const char *ns; /* namespaceId: executions of jobs in that namespace */
};
FY_NODISCARD fy_err fy_exec_list(struct fy_db *db,
                                 const struct fy_site *site,
                                 const struct fy_exec_filter *f,
                                 const char *after,
                                 int64_t limit,
                                 json_t *j_items,
                                 char **next,
                                 struct fy_errmsg *em);

/* CancelJobExecution: latest execution of job on thing -> CANCELED (IN_PROGRESS needs force);
 * expected_version < 0 = none, mismatch -> VERSION_CONFLICT; j_details may be NULL. */
FY_NODISCARD fy_err fy_exec_cancel(struct fy_db *db,
                                   const char *thing,
                                   const char *job_id,
                                   bool force,
                                   int64_t expected_version,
                                   const json_t *j_details,
                                   double now,
                                   struct fy_jobs_changed *changed,
                                   struct fy_errmsg *em);

/* DeleteJobExecution: a terminal execution, or any with force. */
FY_NODISCARD fy_err fy_exec_delete(struct fy_db *db,
                                   const char *thing,
                                   const char *job_id,
                                   int64_t execution_number,
                                   bool force,
                                   struct fy_jobs_changed *changed,
                                   struct fy_errmsg *em);

/* ---- job templates ---- */

FY_NODISCARD fy_err fy_job_template_create(struct fy_db *db,
                                           const struct fy_site *site,
                                           const char *template_id,
                                           const json_t *j_body,
                                           double now,
                                           char *arn_out,
                                           size_t arn_n,
                                           struct fy_errmsg *em);
FY_NODISCARD fy_err fy_job_template_describe(struct fy_db *db,
                                             const struct fy_site *site,
                                             const char *template_id,
                                             json_t **out,
                                             struct fy_errmsg *em);
FY_NODISCARD fy_err fy_job_template_list(struct fy_db *db,
                                         const struct fy_site *site,
                                         const char *after,
                                         int64_t limit,
                                         json_t *j_items,
                                         char **next,
                                         struct fy_errmsg *em);
FY_NODISCARD fy_err fy_job_template_delete(struct fy_db *db,
                                           const char *template_id,
                                           struct fy_errmsg *em);

/* ---- device protocol (MQTT $aws/things/<thing>/jobs/... and HTTP iot-jobs-data) ---- */

/* One device request's answer. */
struct fy_jobs_reply {
    char *payload;      /* owned: the MQTT accepted payload, or NULL when rejected */
    const char *code;   /* rejected: AWS's MQTT code ("InvalidRequest", "VersionMismatch", ...) */
    char *state;        /* rejected with InvalidStateTransition/VersionMismatch: the
                           executionState object as JSON text (owned), else NULL */
    char *client_token; /* owned copy of the request's clientToken, NULL when none */
    struct fy_jobs_changed changed;
};

/* Releases everything r owns and zeroes it. Accepts NULL. */
void fy_jobs_reply_clear(struct fy_jobs_reply *r);

/* The MQTT rejected payload {code, message, clientToken?, timestamp, executionState?} for a
 * failed device call (r from that call, e/msg its error). Owned (fy_free); NULL on OOM. */
char *fy_jobs_rejection(const struct fy_jobs_reply *r, fy_err e, const char *msg, double now);

/* `get`: {inProgressJobs, queuedJobs, timestamp, clientToken?}. */
FY_NODISCARD fy_err fy_jobs_get_pending(struct fy_db *db,
                                        const char *thing,
                                        const char *payload,
                                        size_t len,
                                        double now,
                                        struct fy_jobs_reply *out,
                                        struct fy_errmsg *em);

/* `start-next`: {execution?, timestamp, clientToken?}. payload: statusDetails,
 * stepTimeoutInMinutes, clientToken. */
FY_NODISCARD fy_err fy_jobs_start_next(struct fy_db *db,
                                       const char *thing,
                                       const char *payload,
                                       size_t len,
                                       double now,
                                       struct fy_jobs_reply *out,
                                       struct fy_errmsg *em);

/* `<jobId>/get` (job_id may be "$next"): {execution, timestamp, clientToken?}; payload:
 * executionNumber, includeJobDocument (default true), clientToken. With ns (the namespaced
 * topics $aws/things/<thing>/jobs/<jobId|$next>/namespace-<ns>/get, which the Greengrass
 * nucleus uses) only executions of jobs of namespace ns are seen, "$next" being the next
 * pending one among them; ns NULL = the ordinary topics. */
FY_NODISCARD fy_err fy_jobs_describe(struct fy_db *db,
                                     const char *thing,
                                     const char *job_id,
                                     const char *ns,
                                     const char *payload,
                                     size_t len,
                                     double now,
                                     struct fy_jobs_reply *out,
                                     struct fy_errmsg *em);

/* `<jobId>/update`: {executionState?, jobDocument?, timestamp, clientToken?}; payload: status*,
 * statusDetails, expectedVersion, executionNumber, includeJobExecutionState,
 * includeJobDocument, stepTimeoutInMinutes, clientToken. A finished execution may start a
 * retry (jobExecutionsRetryConfig). ns: as for fy_jobs_describe. */
FY_NODISCARD fy_err fy_jobs_update(struct fy_db *db,
                                   const char *thing,
                                   const char *job_id,
                                   const char *ns,
                                   const char *payload,
                                   size_t len,
                                   double now,
                                   struct fy_jobs_reply *out,
                                   struct fy_errmsg *em);

/* ---- the engine (server/scheduler.c calls this every ~200 ms) ---- */

/* One pass: starts scheduled jobs, applies scheduling end, adds and removes executions of
 * CONTINUOUS jobs (and of deleted things), times out executions past their deadline, retries,
 * applies abort rules, releases queued executions within the rollout limits, completes
 * SNAPSHOT jobs, purges deleted jobs. Each job is handled in its own short transaction. */
FY_NODISCARD fy_err fy_jobs_tick(struct fy_db *db,
                                 double now,
                                 struct fy_jobs_changed *changed,
                                 struct fy_errmsg *em);

#endif
