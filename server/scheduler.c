/* The scheduler thread: every FY_SCHEDULER_PERIOD_MS, dynamic group upkeep, the jobs engine
 * (notifications after its commits) and fleet metric evaluation. */
#include "server/scheduler.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/db.h"
#include "core/fytime.h"
#include "core/log.h"
#include "core/names.h"
#include "index/index.h"
#include "jobs/jobs.h"

#define NOTIFY_QOS 1

struct fy_scheduler {
    struct fy_db *db;
    api_publish_fn publish;
    void *publish_ctx;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool stop;
};

static void publish(struct fy_scheduler *s, const char *thing, const char *suffix, const char *p)
{
    char topic[FY_NAME_MAX + 64];
    if (!p || !s->publish) {
        return;
    }
    snprintf(topic, sizeof(topic), "$aws/things/%s/jobs/%s", thing, suffix);
    if (s->publish(s->publish_ctx, topic, p, strlen(p), NOTIFY_QOS, false) != FY_ERR_OK) {
        fy_log(FY_LOG_DEBUG, "scheduler", "could not publish %.300s", topic);
    }
}

static void notify_one(void *ctx, const char *thing, const char *notify, const char *next)
{
    publish(ctx, thing, "notify", notify);
    publish(ctx, thing, "notify-next", next);
}

/* One pass: dynamic group membership first (so continuous jobs see this pass's joiners), then
 * the jobs engine, then fleet metrics. Each hook logs its own failure and the others still run. */
static void pass(struct fy_scheduler *s)
{
    struct fy_jobs_changed c = {0, 0, NULL};
    struct fy_errmsg em = {""};
    double now = fy_now();
    if (fy_index_tick(s->db, NULL, &em) != FY_ERR_OK) {
        fy_log(FY_LOG_WARN, "scheduler", "dynamic groups pass: %s", em.msg);
    }
    if (fy_jobs_tick(s->db, now, &c, &em) != FY_ERR_OK) {
        fy_log(FY_LOG_WARN, "scheduler", "jobs pass: %s", em.msg);
    }
    fy_jobs_changed_each(s->db, &c, now, notify_one, s);
    fy_jobs_changed_clear(&c);
    if (fy_metric_tick(s->db, now, NULL, &em) != FY_ERR_OK) {
        fy_log(FY_LOG_WARN, "scheduler", "fleet metrics pass: %s", em.msg);
    }
}

/* Waits one period or until stopped; returns whether to go on. */
static bool wait_period(struct fy_scheduler *s)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += FY_SCHEDULER_PERIOD_MS * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&s->lock);
    int rc = 0;
    while (!s->stop && rc != ETIMEDOUT) {
        rc = pthread_cond_timedwait(&s->wake, &s->lock, &ts);
    }
    bool go_on = !s->stop;
    pthread_mutex_unlock(&s->lock);
    return go_on;
}

static void *run(void *arg)
{
    struct fy_scheduler *s = arg;
    do {
        pass(s);
    } while (wait_period(s));
    return NULL;
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
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->wake, NULL);
    fy_err e = fy_db_open(db_path, &s->db, em);
    if (!e && pthread_create(&s->thread, NULL, run, s) != 0) {
        e = fy_fail(em, FY_ERR_INTERNAL, "cannot start the scheduler thread");
    }
    if (e) {
        fy_db_close(s->db);
        pthread_mutex_destroy(&s->lock);
        pthread_cond_destroy(&s->wake);
        fy_free(s);
        return e;
    }
    *out = s;
    return FY_ERR_OK;
}

void fy_scheduler_stop(struct fy_scheduler *s)
{
    if (!s) {
        return;
    }
    pthread_mutex_lock(&s->lock);
    s->stop = true;
    pthread_cond_signal(&s->wake);
    pthread_mutex_unlock(&s->lock);
    pthread_join(s->thread, NULL);
    fy_db_close(s->db);
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->wake);
    fy_free(s);
}
