/* The operator key cache of the HTTP server: an immutable snapshot of every key and its compiled
 * policies, swapped when `fleetyard-server keys` changes the tables (operator_keys_version).
 * Only requests signed by an operator key come here; the administrator key never does. */
#include <string.h>

#include "api/api_int.h"
#include "core/alloc.h"
#include "core/fytime.h"
#include "core/log.h"
#include "operators/operators.h"

/* Loads a fresh set into ks->cur (under the lock, or before any thread runs). The replaced set
 * is freed now when no request holds it, else by its last api_keystore_release. */
static fy_err reload(struct api_keystore *ks, struct fy_errmsg *em)
{
    struct api_opset *o = fy_calloc(1, sizeof(*o));
    if (!o) {
        return fy_fail(em, FY_ERR_NOMEM, "Out of memory");
    }
    fy_err e = fy_operator_set_load(ks->db, &o->set, &ks->version, em);
    if (e) {
        fy_free(o);
        return e;
    }
    struct api_opset *old = ks->cur;
    ks->cur = o;
    if (old && old->refs == 0) {
        fy_operator_set_free(old->set);
        fy_free(old);
    }
    fy_log(FY_LOG_INFO, "keys", "%zu operator key(s) loaded (version %lld)",
           fy_operator_set_count(o->set), (long long)ks->version);
    return FY_ERR_OK;
}

fy_err api_keystore_open(struct api_keystore *ks, const char *db_path, struct fy_errmsg *em)
{
    memset(ks, 0, sizeof(*ks));
    pthread_mutex_init(&ks->lock, NULL);
    fy_err e = fy_db_open(db_path, &ks->db, em);
    if (e) {
        return e;
    }
    fy_db_autocheckpoint_off(ks->db); /* the server's checkpointer does it */
    ks->checked_ns = fy_mono_ns();
    return reload(ks, em);
}

void api_keystore_close(struct api_keystore *ks)
{
    if (ks->cur) {
        fy_operator_set_free(ks->cur->set);
        fy_free(ks->cur);
        ks->cur = NULL;
    }
    fy_db_close(ks->db);
    ks->db = NULL;
    pthread_mutex_destroy(&ks->lock);
}

/* Re-reads the version when API_KEYS_RECHECK_MS have passed (or when forced), and reloads when
 * it moved. A
 * failure keeps the current set (logged): keys still work as last loaded. */
static void refresh(struct api_keystore *ks, bool force)
{
    uint64_t now = fy_mono_ns();
    if (!force && now - ks->checked_ns < (uint64_t)API_KEYS_RECHECK_MS * 1000000u && ks->cur) {
        return;
    }
    ks->checked_ns = now;
    struct fy_errmsg em = {""};
    int64_t v = 0;
    fy_err e = fy_operators_version(ks->db, &v, &em);
    if (!e && (v != ks->version || !ks->cur)) {
        e = reload(ks, &em);
    }
    if (e) {
        fy_log(FY_LOG_ERROR, "keys", "cannot reload the operator keys: %s", em.msg);
    }
}

struct api_opset *api_keystore_acquire(struct api_keystore *ks, bool force)
{
    if (!ks->db) {
        return NULL;
    }
    pthread_mutex_lock(&ks->lock);
    refresh(ks, force);
    struct api_opset *o = ks->cur;
    if (o) {
        o->refs++;
    }
    pthread_mutex_unlock(&ks->lock);
    return o;
}

void api_keystore_release(struct api_keystore *ks, struct api_opset *o)
{
    if (!o) {
        return;
    }
    pthread_mutex_lock(&ks->lock);
    bool last = --o->refs == 0 && o != ks->cur;
    pthread_mutex_unlock(&ks->lock);
    if (last) {
        fy_operator_set_free(o->set);
        fy_free(o);
    }
}
