/* The scheduler thread: every FY_SCHEDULER_PERIOD_MS, dynamic group upkeep, the jobs engine
 * (notifications after its commits) and fleet metric evaluation. */
#include "server/scheduler.h"

#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/db.h"
#include "core/fytime.h"
#include "core/log.h"
#include "core/names.h"
#include "core/ticker.h"
#include "index/index.h"
#include "jobs/jobs.h"

#define NOTIFY_QOS 1

struct fy_scheduler {
    struct fy_db *db;
    api_publish_fn publish;
    void *publish_ctx;
    struct fy_ticker *ticker;
};

/* fy_jobs_publish_fn over the internal link. */
static void publish(void *ctx, const char *topic, const char *text)
{
    struct fy_scheduler *s = ctx;
    if (s->publish &&
        s->publish(s->publish_ctx, topic, text, strlen(text), NOTIFY_QOS, false) != FY_ERR_OK) {
        fy_log(FY_LOG_DEBUG, "scheduler", "could not publish %.300s", topic);
    }
}

/* One pass: dynamic group membership first (so continuous jobs see this pass's joiners), then
 * the jobs engine, then fleet metrics. Each hook logs its own failure and the others still run. */
static void pass(void *arg)
{
    struct fy_scheduler *s = arg;
    struct fy_jobs_changed c = {0, 0, NULL};
    struct fy_errmsg em = {""};
    double now = fy_now();
    if (fy_index_tick(s->db, NULL, &em) != FY_ERR_OK) {
        fy_log(FY_LOG_WARN, "scheduler", "dynamic groups pass: %s", em.msg);
    }
    if (fy_jobs_tick(s->db, now, &c, &em) != FY_ERR_OK) {
        fy_log(FY_LOG_WARN, "scheduler", "jobs pass: %s", em.msg);
    }
    fy_jobs_changed_publish(s->db, &c, now, publish, s);
    fy_jobs_changed_clear(&c);
    if (fy_metric_tick(s->db, now, NULL, &em) != FY_ERR_OK) {
        fy_log(FY_LOG_WARN, "scheduler", "fleet metrics pass: %s", em.msg);
    }
}

fy_err fy_scheduler_start(const char *db_path,
                          api_publish_fn publish_fn,
                          void *publish_ctx,
                          struct fy_scheduler **out,
                          struct fy_errmsg *em)
{
    struct fy_scheduler *s = fy_calloc(1, sizeof(*s));
    *out = NULL;
    if (!s) {
        return fy_fail(em, FY_ERR_NOMEM, "Out of memory");
    }
    s->publish = publish_fn;
    s->publish_ctx = publish_ctx;
    fy_err e = fy_db_open(db_path, &s->db, em);
    if (!e) { /* a first pass at once: jobs due while the server was down go out now */
        e = fy_ticker_start(FY_SCHEDULER_PERIOD_MS, true, pass, s, &s->ticker, em);
    }
    if (e) {
        fy_db_close(s->db);
        fy_free(s);
        return e;
    }
    *out = s;
    return FY_ERR_OK;
}

void fy_scheduler_stop(struct fy_scheduler *s)
{
    if (s) {
        fy_ticker_stop(s->ticker);
        fy_db_close(s->db);
        fy_free(s);
    }
}
