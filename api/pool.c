/* The SQLite connection pool: one connection per in-flight request, never shared; and the
 * writer, the one connection every group commit of the process runs on (fy_db_writer_set). */
#include "api/api_int.h"
#include "core/alloc.h"

fy_err api_pool_open(struct api_server *srv, int n, struct fy_errmsg *em)
{
    srv->dbs = fy_calloc((size_t)n, sizeof(*srv->dbs));
    srv->free_idx = fy_calloc((size_t)n, sizeof(*srv->free_idx));
    if (!srv->dbs || !srv->free_idx) {
        return fy_fail(em, FY_ERR_NOMEM, "Out of memory");
    }
    pthread_mutex_init(&srv->pool_lock, NULL);
    pthread_cond_init(&srv->pool_cond, NULL);
    for (int i = 0; i < n; i++) {
        fy_err e = fy_db_open(srv->db_path, &srv->dbs[i], em);
        if (e) {
            fy_db_close(srv->dbs[i]);
            srv->dbs[i] = NULL;
            return e;
        }
        fy_db_autocheckpoint_off(srv->dbs[i]); /* the server's checkpointer does it */
        srv->ndbs++;
        srv->free_idx[srv->nfree++] = i;
    }
    fy_err e = fy_db_open(srv->db_path, &srv->writer, em);
    if (e) {
        return e;
    }
    fy_db_autocheckpoint_off(srv->writer);
    fy_db_writer_set(srv->writer);
    return fy_db_checkpointer_start(srv->db_path, &srv->checkpointer, em);
}

void api_pool_close(struct api_server *srv)
{
    fy_db_checkpointer_stop(srv->checkpointer);
    srv->checkpointer = NULL;
    fy_db_writer_set(NULL);
    fy_db_close(srv->writer);
    srv->writer = NULL;
    for (int i = 0; i < srv->ndbs; i++) {
        fy_db_close(srv->dbs[i]);
    }
    if (srv->dbs) {
        pthread_mutex_destroy(&srv->pool_lock);
        pthread_cond_destroy(&srv->pool_cond);
    }
    FY_FREE(srv->dbs);
    FY_FREE(srv->free_idx);
    srv->ndbs = srv->nfree = 0;
}

struct fy_db *api_pool_get(struct api_server *srv, int *slot)
{
    pthread_mutex_lock(&srv->pool_lock);
    while (srv->nfree == 0) {
        pthread_cond_wait(&srv->pool_cond, &srv->pool_lock);
    }
    *slot = srv->free_idx[--srv->nfree];
    pthread_mutex_unlock(&srv->pool_lock);
    return srv->dbs[*slot];
}

void api_pool_put(struct api_server *srv, int slot)
{
    pthread_mutex_lock(&srv->pool_lock);
    srv->free_idx[srv->nfree++] = slot;
    pthread_cond_signal(&srv->pool_cond);
    pthread_mutex_unlock(&srv->pool_lock);
}
