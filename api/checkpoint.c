/* WAL checkpoints off the request path: the pool's connections never checkpoint themselves
 * (wal_autocheckpoint=0); this thread runs a PASSIVE checkpoint (which never blocks writers)
 * whenever the WAL has grown by API_CKPT_PAGES, checking every API_CKPT_INTERVAL_MS. A request
 * that would otherwise have paid the checkpoint's fsync (milliseconds) no longer does. */
#include <time.h>

#include "api/api_int.h"
#include "core/log.h"

#define API_CKPT_INTERVAL_MS 100
#define API_CKPT_PAGES       1000

static void *checkpoint_main(void *arg)
{
    struct api_server *srv = arg;
    struct timespec tick = {0, API_CKPT_INTERVAL_MS * 1000000L};
    while (!srv->ckpt_stop) {
        int log_frames = 0, done = 0;
        int rc = sqlite3_wal_checkpoint_v2(fy_db_handle(srv->ckpt_db), NULL,
                                           SQLITE_CHECKPOINT_PASSIVE, &log_frames, &done);
        if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
            fy_log(FY_LOG_WARN, "db", "checkpoint failed: %d", rc);
        }
        if (log_frames - done < API_CKPT_PAGES) {
            nanosleep(&tick, NULL);
        }
    }
    return NULL;
}

fy_err api_checkpoint_start(struct api_server *srv, struct fy_errmsg *em)
{
    fy_err e = fy_db_open(srv->db_path, &srv->ckpt_db, em);
    if (e) {
        return e;
    }
    srv->ckpt_stop = 0;
    if (pthread_create(&srv->ckpt_thread, NULL, checkpoint_main, srv) != 0) {
        fy_db_close(srv->ckpt_db);
        srv->ckpt_db = NULL;
        return fy_fail(em, FY_ERR_INTERNAL, "cannot start the checkpoint thread");
    }
    srv->ckpt_running = true;
    return FY_ERR_OK;
}

void api_checkpoint_stop(struct api_server *srv)
{
    if (srv->ckpt_running) {
        srv->ckpt_stop = 1;
        pthread_join(srv->ckpt_thread, NULL);
        srv->ckpt_running = false;
    }
    fy_db_close(srv->ckpt_db);
    srv->ckpt_db = NULL;
}
