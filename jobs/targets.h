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

/* Brings job's executions in line with its targets (inside the caller's transaction): with
 * add, every targeted thing without a live execution gets a QUEUED, unreleased one; pending
 * executions of deleted things, and for CONTINUOUS jobs of things no longer targeted, become
 * REMOVED (at most 1000 per call; things that saw them are recorded in changed). */
FY_NODISCARD fy_err fy_jobs_sync_targets(struct fy_db *db,
                                         int64_t job,
                                         const char *job_id,
                                         const char *selection,
                                         bool add,
                                         double now,
                                         struct fy_jobs_changed *changed,
                                         struct fy_errmsg *em);

#endif
