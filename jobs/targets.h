/* fleetyard jobs internals: target resolution (jobs/targets.c). Extend here when a new kind of
 * target appears (for example billing groups). */
#ifndef FY_JOBS_TARGETS_H
#define FY_JOBS_TARGETS_H

#include "jobs/jobs_int.h"

/* A checked target: a thing or a thing group (static or dynamic) of this site. */
struct fy_job_target {
    bool group;
    char name[FY_NAME_MAX + 1];
};

/* Checks a target ARN (arn:aws:iot:<region>:<account>:thing/<name> or thinggroup/<name>):
 * malformed -> INVALID_REQUEST; another site's or a missing resource -> NOT_FOUND. */
FY_NODISCARD fy_err fy_jobs_check_target(struct fy_db *db,
                                         const struct fy_site *site,
                                         const char *arn,
                                         struct fy_job_target *out,
                                         struct fy_errmsg *em);

/* Stores a checked target of job (inside the caller's transaction). */
FY_NODISCARD fy_err fy_jobs_add_target(struct fy_db *db,
                                       int64_t job,
                                       const struct fy_job_target *t,
                                       struct fy_errmsg *em);

/* Marks pending executions of deleted things, and for CONTINUOUS jobs of things no longer
 * targeted, REMOVED (inside the caller's transaction; at most 1000 per call; things that saw
 * them are recorded in changed). */
FY_NODISCARD fy_err fy_jobs_sync_targets(struct fy_db *db,
                                         int64_t job,
                                         const char *selection,
                                         double now,
                                         struct fy_jobs_changed *changed,
                                         struct fy_errmsg *em);

/* Records (inside the caller's transaction) that job's executions are to be created. */
FY_NODISCARD fy_err fy_jobs_materialize_begin(struct fy_db *db, int64_t job, struct fy_errmsg *em);

/* Gives every targeted thing without a live execution a QUEUED, unreleased one, walking things
 * in windows of FY_JOBS_WINDOW ids, each window its own short transaction (so a job for 100,000
 * things never holds the write lock for long). Resumes a materialization begun earlier and
 * interrupted (crash), or with restart runs a full pass (continuous re-sync). Outside any
 * transaction. */
FY_NODISCARD fy_err fy_jobs_materialize(struct fy_db *db,
                                        int64_t job,
                                        const char *job_id,
                                        bool restart,
                                        double now,
                                        struct fy_errmsg *em);

#endif
