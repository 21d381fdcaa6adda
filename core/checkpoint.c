/* fleetyard core: the background WAL checkpointer (see db.h). */
#include "core/alloc.h"
#include "core/db.h"
#include "core/log.h"
#include "core/ticker.h"

struct fy_db_checkpointer {
    struct fy_db *db;
    struct fy_ticker *ticker;
};

/* One pass: backfill; truncate the log when it has grown too long. */
static void checkpoint_once(void *arg)
{
    struct fy_db *db = arg;
    int frames = 0, done = 0;
    sqlite3 *h = fy_db_handle(db);
    int rc = sqlite3_wal_checkpoint_v2(h, NULL, SQLITE_CHECKPOINT_PASSIVE, &frames, &done);
    if (rc == SQLITE_OK && frames >= FY_DB_WAL_REUSE_FRAMES) {
        int mode = frames >= FY_DB_WAL_RESTART_FRAMES ? SQLITE_CHECKPOINT_TRUNCATE
                                                      : SQLITE_CHECKPOINT_RESTART;
        rc = sqlite3_wal_checkpoint_v2(h, NULL, mode, &frames, &done);
    }
    if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
        fy_log(FY_LOG_WARN, "db", "checkpoint failed: %s", sqlite3_errmsg(h));
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
        e = fy_ticker_start(FY_DB_CKPT_INTERVAL_MS, false, checkpoint_once, c->db, &c->ticker, em);
    }
    if (e) {
        fy_db_close(c->db);
        fy_free(c);
        return e;
    }
    *out = c;
    return FY_ERR_OK;
}

void fy_db_checkpointer_stop(struct fy_db_checkpointer *c)
{
    if (!c) {
        return;
    }
    fy_ticker_stop(c->ticker);
    checkpoint_once(c->db);
    fy_db_close(c->db);
    fy_free(c);
}

void fy_db_autocheckpoint_off(struct fy_db *db)
{
    sqlite3_wal_autocheckpoint(fy_db_handle(db), 0);
}
