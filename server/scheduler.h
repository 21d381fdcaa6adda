/* fleetyard-server: the scheduler thread (ARCHITECTURE.md). Every FY_SCHEDULER_PERIOD_MS it
 * brings dynamic thing groups up to date (index/ fy_index_tick), evaluates due fleet metrics
 * (fy_metric_tick) and runs one pass of the jobs engine (jobs/jobs.h fy_jobs_tick: rollout,
 * timeouts, retries, abort, scheduling, continuous targeting, completion, purges) on its own
 * database connection and publishes the resulting jobs notify / notify-next messages through
 * publish (the internal link; may be NULL without a broker). All state is in the database, so a
 * restarted scheduler continues where the last one stopped. */
#ifndef FY_SERVER_SCHEDULER_H
#define FY_SERVER_SCHEDULER_H

#include "api/server.h"
#include "core/err.h"

#define FY_SCHEDULER_PERIOD_MS 200

struct fy_scheduler;

/* Opens a connection on db_path and starts the thread. *out is released by fy_scheduler_stop.
 * publish_ctx is passed to publish; both must outlive the scheduler. */
FY_NODISCARD fy_err fy_scheduler_start(const char *db_path,
                                       api_publish_fn publish,
                                       void *publish_ctx,
                                       struct fy_scheduler **out,
                                       struct fy_errmsg *em);

/* Stops the thread (waits for the pass under way), closes the connection. Accepts NULL. */
void fy_scheduler_stop(struct fy_scheduler *s);

#endif
