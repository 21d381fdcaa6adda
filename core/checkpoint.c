/* fleetyard core: the background WAL checkpointer (see db.h). */
#include <pthread.h>
#include <stdbool.h>
#include <time.h>

#include "core/alloc.h"
#include "core/db.h"
#include "core/log.h"

struct fy_db_checkpointer {
    struct fy_db *db;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool stop;
};

/* One pass: backfill; restart the log when it has grown too long. */
static void checkpoint_once(struct fy_db *db)
{
    int frames = 0, done = 0;
    sqlite3 *h = fy_db_handle(db);
    int rc = sqlite3_wal_checkpoint_v2(h, NULL, SQLITE_CHECKPOINT_PASSIVE, &frames, &done);
    if (rc == SQLITE_OK && frames >= FY_DB_WAL_RESTART_FRAMES) {
        rc = sqlite3_wal_checkpoint_v2(h, NULL, SQLITE_CHECKPOINT_TRUNCATE, &frames, &done);
    }
    if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
        fy_log(FY_LOG_WARN, "db", "checkpoint failed: %s", sqlite3_errmsg(h));
    }
}

static void *run(void *arg)
{
    struct fy_db_checkpointer *c = arg;
    pthread_mutex_lock(&c->lock);
    while (!c->stop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += FY_DB_CKPT_INTERVAL_MS * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&c->cond, &c->lock, &ts);
        pthread_mutex_unlock(&c->lock);
        checkpoint_once(c->db);
        pthread_mutex_lock(&c->lock);
    }
    pthread_mutex_unlock(&c->lock);
    return NULL;
}

fy_err
fy_db_checkpointer_start(const char *path, struct fy_db_checkpointer **out, struct fy_errmsg *em)
{
    struct fy_db_checkpointer *c = fy_calloc(1, sizeof(*c));
    *out = NULL;
    if (!c) {
        return fy_fail(em, FY_ERR_NOMEM, "Out of memory");
    }
    fy_err e = fy_db_open(path, &c->db, em);
    if (e) {
        fy_free(c);
        return e;
    }
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->cond, NULL);
    if (pthread_create(&c->thread, NULL, run, c) != 0) {
        fy_db_close(c->db);
        pthread_mutex_destroy(&c->lock);
        pthread_cond_destroy(&c->cond);
        fy_free(c);
        return fy_fail(em, FY_ERR_INTERNAL, "cannot start the checkpointer");
    }
    *out = c;
    return FY_ERR_OK;
}

void fy_db_checkpointer_stop(struct fy_db_checkpointer *c)
{
    if (!c) {
        return;
    }
    pthread_mutex_lock(&c->lock);
    c->stop = true;
    pthread_cond_signal(&c->cond);
    pthread_mutex_unlock(&c->lock);
    pthread_join(c->thread, NULL);
    checkpoint_once(c->db);
    fy_db_close(c->db);
    pthread_mutex_destroy(&c->lock);
    pthread_cond_destroy(&c->cond);
    fy_free(c);
}

void fy_db_autocheckpoint_off(struct fy_db *db)
{
    sqlite3_wal_autocheckpoint(fy_db_handle(db), 0);
}
