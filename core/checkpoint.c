/* fleetyard core: the background WAL checkpointer (see db.h). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "core/alloc.h"
#include "core/db.h"
#include "core/fytime.h"
#include "core/log.h"
#include "core/ticker.h"

struct fy_db_checkpointer {
    struct fy_db *db;
    struct fy_ticker *ticker;
    uint64_t reuse_after_ns; /* no RESTART before (monotonic): the last one met a reader */
};

/* The process's running checkpointer, for its connections' WAL hooks (NULL: none, as in the
 * broker's process), and whether a kick is already on its way (cleared by each pass that may
 * restart the WAL, so a long WAL costs one kick per pass, not one per commit). */
static pthread_mutex_t running_lock = PTHREAD_MUTEX_INITIALIZER;
static struct fy_db_checkpointer *running;
static atomic_bool kick_sent;

static int wal_grew(void *arg, sqlite3 *h, const char *name, int frames)
{
    (void)arg;
    (void)h;
    (void)name;
    if (frames >= FY_DB_WAL_REUSE_FRAMES && !atomic_exchange(&kick_sent, true)) {
        pthread_mutex_lock(&running_lock);
        if (running) {
            fy_ticker_kick(running->ticker);
        }
        pthread_mutex_unlock(&running_lock);
    }
    return SQLITE_OK;
}

/* RESTART: waits a little for the write lock and for readers still using the WAL; when it
 * has to give up (a long reader), the next attempts wait a while. */
static int restart(struct fy_db_checkpointer *c, int *frames, int *done)
{
    fy_db_busy_limit(c->db, FY_DB_WAL_REUSE_WAIT_MS);
    int rc = sqlite3_wal_checkpoint_v2(fy_db_handle(c->db), NULL, SQLITE_CHECKPOINT_RESTART, frames,
                                       done);
    fy_db_busy_limit(c->db, 0);
    if (rc == SQLITE_BUSY) {
        c->reuse_after_ns = fy_mono_ns() + FY_DB_WAL_REUSE_BACKOFF_MS * 1000000ull;
    }
    return rc;
}

/* One pass: backfill; restart the log when it has grown long, truncate it when too long. */
static void checkpoint_once(void *arg)
{
    struct fy_db_checkpointer *c = arg;
    int frames = 0, done = 0;
    sqlite3 *h = fy_db_handle(c->db);
    int rc = sqlite3_wal_checkpoint_v2(h, NULL, SQLITE_CHECKPOINT_PASSIVE, &frames, &done);
    if (rc == SQLITE_OK && frames >= FY_DB_WAL_RESTART_FRAMES) {
        rc = sqlite3_wal_checkpoint_v2(h, NULL, SQLITE_CHECKPOINT_TRUNCATE, &frames, &done);
    } else if (rc == SQLITE_OK && frames >= FY_DB_WAL_REUSE_FRAMES &&
               fy_mono_ns() >= c->reuse_after_ns) {
        rc = restart(c, &frames, &done);
    }
    if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
        fy_log(FY_LOG_WARN, "db", "checkpoint failed: %s", sqlite3_errmsg(h));
    }
    if (fy_mono_ns() >= c->reuse_after_ns) {
        atomic_store(&kick_sent, false); /* backing off from a reader: no kicks meanwhile */
    }
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
    if (!e) {
        e = fy_ticker_start(FY_DB_CKPT_INTERVAL_MS, false, checkpoint_once, c, &c->ticker, em);
    }
    if (e) {
        fy_db_close(c->db);
        fy_free(c);
        return e;
    }
    pthread_mutex_lock(&running_lock);
    running = c;
    atomic_store(&kick_sent, false);
    pthread_mutex_unlock(&running_lock);
    *out = c;
    return FY_ERR_OK;
}

void fy_db_checkpointer_stop(struct fy_db_checkpointer *c)
{
    if (!c) {
        return;
    }
    pthread_mutex_lock(&running_lock);
    running = running == c ? NULL : running;
    pthread_mutex_unlock(&running_lock);
    fy_ticker_stop(c->ticker);
    checkpoint_once(c);
    fy_db_close(c->db);
    fy_free(c);
}

void fy_db_autocheckpoint_off(struct fy_db *db)
{
    sqlite3_wal_autocheckpoint(fy_db_handle(db), 0);
    sqlite3_wal_hook(fy_db_handle(db), wal_grew, NULL);
}
