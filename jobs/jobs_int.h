/* fleetyard jobs internals: row layouts and helpers shared by the files of jobs/. */
#ifndef FY_JOBS_JOBS_INT_H
#define FY_JOBS_JOBS_INT_H

#include "core/names.h"
#include "jobs/jobs.h"

/* Pending = released, QUEUED or IN_PROGRESS, of a job that is not being deleted and has no
 * namespace (namespaced jobs are customer-managed: not in the ordinary pending list). */
#define FY_JOBS_PENDING_WHERE                                                       \
    "x.released = 1 AND x.status IN ('QUEUED','IN_PROGRESS') AND "                  \
    "(SELECT status FROM jobs j WHERE j.id = x.job AND j.namespace_id IS NULL) != " \
    "'DELETION_IN_PROGRESS'"

/* Column list of an execution row, in struct fy_exec order (alias x). */
#define FY_EXEC_COLS                                                                  \
    "x.id, x.job, x.job_id, x.thing_name, x.execution_number, x.status, x.released, " \
    "x.status_details, x.queued_at, x.started_at, x.last_updated_at, x.version, "     \
    "x.retry_attempt, x.force_canceled, x.step_deadline, x.progress_deadline"

/* One job execution row. */
struct fy_exec {
    int64_t id, job;
    char job_id[FY_JOB_ID_MAX + 1];
    char thing[FY_NAME_MAX + 1];
    int64_t execution_number, version, retry_attempt;
    enum fy_exec_status status;
    bool released, force_canceled;
    char *details;                                 /* owned JSON object text, NULL when none */
    double queued_at, started_at, last_updated_at; /* started_at 0 = never */
    double step_deadline, progress_deadline;       /* 0 = none */
};

/* Fills x from a statement positioned on a row selected with FY_EXEC_COLS (from column 0). */
FY_NODISCARD fy_err fy_exec_from_row(sqlite3_stmt *st, struct fy_exec *x, struct fy_errmsg *em);
void fy_exec_clear(struct fy_exec *x);

/* Loads an execution: of job_id on thing, execution_number < 0 = the latest. NOT_FOUND when
 * none (also when the job is being deleted). */
FY_NODISCARD fy_err fy_exec_load(struct fy_db *db,
                                 const char *thing,
                                 const char *job_id,
                                 int64_t execution_number,
                                 struct fy_exec *x,
                                 struct fy_errmsg *em);

/* Loads execution row id; *found false when it is gone. */
FY_NODISCARD fy_err
fy_exec_load_id(struct fy_db *db, int64_t id, struct fy_exec *x, bool *found, struct fy_errmsg *em);

/* The thing's next pending execution (IN_PROGRESS first, then QUEUED, each by queue time) in
 * its ordinary list (ns NULL) or among the jobs of namespace ns; *found false when none. */
FY_NODISCARD fy_err fy_exec_load_next(struct fy_db *db,
                                      const char *thing,
                                      const char *ns,
                                      struct fy_exec *x,
                                      bool *found,
                                      struct fy_errmsg *em);

/* *in: whether job is in namespace ns (ns NULL: has no namespace). */
FY_NODISCARD fy_err
fy_exec_in_namespace(struct fy_db *db, int64_t job, const char *ns, bool *in, struct fy_errmsg *em);

/* Writes the mutable fields of x back (status, details, times, version, deadlines, flags). */
FY_NODISCARD fy_err fy_exec_save(struct fy_db *db, const struct fy_exec *x, struct fy_errmsg *em);

/* Service-side status change (cancel, remove, time out) at now; checks the transition. */
FY_NODISCARD fy_err fy_exec_service_set(struct fy_db *db,
                                        struct fy_exec *x,
                                        enum fy_exec_status to,
                                        bool force,
                                        double now,
                                        struct fy_errmsg *em);

/* Inserts retry attempt attempt+1 of x's job on x's thing (QUEUED, unreleased). */
FY_NODISCARD fy_err fy_exec_insert_retry(struct fy_db *db,
                                         const struct fy_exec *x,
                                         double now,
                                         struct fy_errmsg *em);

/* The job's stored config JSON parsed (without schedule checks). */
FY_NODISCARD fy_err fy_job_load_config(struct fy_db *db,
                                       int64_t job,
                                       struct fy_job_config *c,
                                       struct fy_errmsg *em);

/* After an execution of job reached a terminal status as the result of status: schedules a
 * retry when the job's retry config allows one. */
FY_NODISCARD fy_err fy_exec_after_terminal(struct fy_db *db,
                                           const struct fy_exec *x,
                                           double now,
                                           struct fy_errmsg *em);

/* ---- JSON renderers ---- */

/* An optional member's stored JSON text parsed: NULL when text is NULL (the member is absent),
 * else its value; when parsing fails (allocation failure, corrupt row) NULL with *failed set,
 * and the caller fails the reply instead of sending it without the member. */
json_t *fy_jobs_opt_json(const char *text, bool *failed);

/* Device-side execution E: {jobId, thingName, jobDocument?, status, statusDetails?, queuedAt,
 * startedAt?, lastUpdatedAt, versionNumber, executionNumber}. doc may be NULL. */
json_t *fy_exec_device_to_json(const struct fy_exec *x, const char *doc, bool with_doc);
/* Summary S: {jobId, queuedAt, startedAt?, lastUpdatedAt, versionNumber, executionNumber}. */
json_t *fy_exec_summary_to_json(const struct fy_exec *x);
/* Seconds before the execution times out, -1 when it has no deadline. */
int64_t fy_exec_seconds_left(const struct fy_exec *x, double now);
/* The document of job as devices receive it (owned string in *out, NULL when the job has
 * none): with a presignedUrlConfig, its presigned-URL placeholders are replaced by URLs signed
 * at now (jobs/presign.c). */
FY_NODISCARD fy_err
fy_job_doc_of(struct fy_db *db, int64_t job, double now, char **out, struct fy_errmsg *em);

/* ---- notification bookkeeping ---- */

/* Records that thing's job state is about to change (call before the change). pending: its
 * pending list changes. */
FY_NODISCARD fy_err fy_jobs_touch(struct fy_db *db,
                                  struct fy_jobs_changed *c,
                                  const char *thing,
                                  bool pending,
                                  struct fy_errmsg *em);

/* After the changes (same transaction): sets notify_next where the next job differs. */
FY_NODISCARD fy_err fy_jobs_touch_finish(struct fy_db *db,
                                         struct fy_jobs_changed *c,
                                         struct fy_errmsg *em);

/* fy_jobs_touch_finish for the things recorded from index from on (those touched in this
 * transaction, when c already holds earlier ones). */
FY_NODISCARD fy_err fy_jobs_touch_finish_from(struct fy_db *db,
                                              struct fy_jobs_changed *c,
                                              size_t from,
                                              struct fy_errmsg *em);

/* Runs one SQL statement (static text) with (?1 int, ?2 text, ?3 real) bound where given. */
FY_NODISCARD fy_err fy_jobs_run(
    struct fy_db *db, const char *sql, int64_t a, const char *b, double c, struct fy_errmsg *em);

/* Single integer result of a statement bound like fy_jobs_run (0 when no row). */
FY_NODISCARD fy_err fy_jobs_count(struct fy_db *db,
                                  const char *sql,
                                  int64_t a,
                                  const char *b,
                                  int64_t *out,
                                  struct fy_errmsg *em);

/* Cancels the job (row locked by caller's transaction): executions QUEUED -> CANCELED and,
 * with force, IN_PROGRESS ones too; status CANCELED. */
FY_NODISCARD fy_err fy_job_cancel_locked(struct fy_db *db,
                                         int64_t job,
                                         bool force,
                                         const char *reason_code,
                                         const char *comment,
                                         double now,
                                         struct fy_jobs_changed *changed,
                                         struct fy_errmsg *em);

/* ---- shared by create.c, admin.c and templates.c ---- */

/* A new object holding the configuration members of j_body (NULL on OOM). */
json_t *fy_jobs_config_subset(const json_t *j_body);

/* document (a JSON object of at most FY_JOBS_DOCUMENT_MAX bytes) xor documentSource; with
 * required one of them must be present. INVALID_REQUEST otherwise. */
FY_NODISCARD fy_err fy_jobs_check_document(const char *doc,
                                           const char *source,
                                           bool required,
                                           struct fy_errmsg *em);

/* description: at most FY_DESCRIPTION_MAX bytes, no control characters (NULL is fine). */
FY_NODISCARD fy_err fy_jobs_check_description(const char *d, struct fy_errmsg *em);

/* *out = a new reference: j_body itself, or, when it names a jobTemplateArn, a copy of it
 * completed with the template's document and configuration for members it does not give.
 * Unknown template -> NOT_FOUND; malformed ARN -> INVALID_REQUEST. */
FY_NODISCARD fy_err fy_job_template_apply(struct fy_db *db,
                                          const json_t *j_body,
                                          json_t **out,
                                          struct fy_errmsg *em);

/* Inside the caller's transaction: applies job's abort rules when it has at most
 * FY_JOBS_ABORT_INLINE_MAX executions (canceling it), else releases what its rollout limits
 * allow now (at most a few executions; the engine does the rest), recording the things in
 * changed, and completes a SNAPSHOT job whose last execution this was. Used when a device
 * finishes an execution, so the next queued thing hears at once, an abort threshold acts at the
 * update that crosses it, and DescribeJob is COMPLETED as soon as the last one ends. */
FY_NODISCARD fy_err fy_jobs_release_now(struct fy_db *db,
                                        int64_t job,
                                        double now,
                                        struct fy_jobs_changed *changed,
                                        struct fy_errmsg *em);

/* Part of the first wave of a new job (inside the caller's transaction): what the rollout and
 * concurrency limits allow now, at most max; *wanted gets how many it released (fewer than max:
 * the wave is complete). */
FY_NODISCARD fy_err fy_jobs_release_first(struct fy_db *db,
                                          int64_t job,
                                          double now,
                                          int64_t max,
                                          int64_t *wanted,
                                          struct fy_jobs_changed *changed,
                                          struct fy_errmsg *em);

/* A listing row (statement positioned on it) as a new JSON object, NULL on OOM. */
typedef json_t *(*fy_jobs_row_json_fn)(const struct fy_site *site, sqlite3_stmt *st);

/* Steps st (bound, its LIMIT set to limit + 1), appending fn's object for at most limit rows to
 * j_items; when another row exists *next gets (fy_free) the member key of the last object.
 * Always ends with fy_stmt_done(st). */
FY_NODISCARD fy_err fy_jobs_page(struct fy_db *db,
                                 sqlite3_stmt *st,
                                 int64_t limit,
                                 const struct fy_site *site,
                                 fy_jobs_row_json_fn fn,
                                 const char *key,
                                 json_t *j_items,
                                 char **next,
                                 struct fy_errmsg *em);

/* Cancels up to FY_JOBS_WINDOW of job's unreleased QUEUED executions (caller's transaction). */
FY_NODISCARD fy_err fy_jobs_cancel_unreleased(struct fy_db *db,
                                              int64_t job,
                                              double now,
                                              struct fy_errmsg *em);

/* Job row lookup: id and status (into status[32]); NOT_FOUND "Job <id> not found". */
FY_NODISCARD fy_err fy_job_find(
    struct fy_db *db, const char *job_id, int64_t *id, char status[32], struct fy_errmsg *em);

#endif
