/* fleetyard core: the interval thread (see ticker.h). */
#include "core/ticker.h"

#include <pthread.h>
#include <stdbool.h>
#include <time.h>

#include "core/alloc.h"

struct fy_ticker {
    void (*fn)(void *ctx);
    void *ctx;
    long interval_ns;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool stop;
    bool kicked; /* fy_ticker_kick: run fn without waiting for the interval */
    bool first_now;
};

static void deadline_in(struct timespec *ts, long ns)
{
    clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_sec += ns / 1000000000L;
    ts->tv_nsec += ns % 1000000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

static void *run(void *arg)
{
    struct fy_ticker *t = arg;
    if (t->first_now) {
        t->fn(t->ctx);
    }
    pthread_mutex_lock(&t->lock);
    while (!t->stop) {
        if (!t->kicked) {
            struct timespec ts;
            deadline_in(&ts, t->interval_ns);
            pthread_cond_timedwait(&t->cond, &t->lock, &ts);
        }
        if (t->stop) {
            break;
        }
        t->kicked = false;
        pthread_mutex_unlock(&t->lock);
        t->fn(t->ctx);
        pthread_mutex_lock(&t->lock);
    }
    pthread_mutex_unlock(&t->lock);
    return NULL;
}

fy_err fy_ticker_start(int interval_ms,
                       bool first_now,
                       void (*fn)(void *ctx),
                       void *ctx,
                       struct fy_ticker **out,
                       struct fy_errmsg *em)
{
    struct fy_ticker *t = fy_calloc(1, sizeof(*t));
    *out = NULL;
    if (!t) {
        return fy_fail(em, FY_ERR_NOMEM, "Out of memory");
    }
    t->fn = fn;
    t->ctx = ctx;
    t->interval_ns = (long)interval_ms * 1000000L;
    t->first_now = first_now;
    pthread_mutex_init(&t->lock, NULL);
    pthread_cond_init(&t->cond, NULL);
    if (pthread_create(&t->thread, NULL, run, t) != 0) {
        pthread_mutex_destroy(&t->lock);
        pthread_cond_destroy(&t->cond);
        fy_free(t);
        return fy_fail(em, FY_ERR_INTERNAL, "cannot start a thread");
    }
    *out = t;
    return FY_ERR_OK;
}

void fy_ticker_kick(struct fy_ticker *t)
{
    pthread_mutex_lock(&t->lock);
    t->kicked = true;
    pthread_cond_signal(&t->cond);
    pthread_mutex_unlock(&t->lock);
}

void fy_ticker_stop(struct fy_ticker *t)
{
    if (!t) {
        return;
    }
    pthread_mutex_lock(&t->lock);
    t->stop = true;
    pthread_cond_signal(&t->cond);
    pthread_mutex_unlock(&t->lock);
    pthread_join(t->thread, NULL);
    pthread_mutex_destroy(&t->lock);
    pthread_cond_destroy(&t->cond);
    fy_free(t);
}
