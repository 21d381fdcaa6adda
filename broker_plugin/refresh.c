/* fleetyard broker plugin: live security changes.
 *
 * Every change that can alter what a connected client may do (certificate or CA status, policy
 * default version, attachments, thing principals, group membership, thing attributes) bumps
 * security_epoch in the database (schema/0007_broker.sql triggers), whichever process made it.
 * TICK polls the epoch every FY_PLUGIN_SECURITY_POLL_MS (the internal link's refresh hint
 * forces a poll); when it moved, every connection is re-checked as at CONNECT: its policies are
 * reloaded, and a client whose certificate is no longer ACTIVE (or whose CA is not) or whose
 * iot:Connect is no longer allowed is disconnected.
 */
#include <string.h>

#include <mosquitto.h>
#include <mosquitto_broker.h>

#include "broker_plugin/plugin_int.h"
#include "core/alloc.h"
#include "core/fytime.h"
#include "core/log.h"

static const char SQL_EPOCH[] = "SELECT epoch FROM security_epoch WHERE id = 1";

/* The current epoch, or -1 when it cannot be read (retried at the next poll). */
static int64_t read_epoch(struct fy_plugin *p)
{
    struct fy_errmsg em = {""};
    sqlite3_stmt *st = fy_db_stmt(p->db, SQL_EPOCH, &em);
    int64_t epoch = -1;
    if (st && sqlite3_step(st) == SQLITE_ROW) {
        epoch = sqlite3_column_int64(st, 0);
    }
    if (st) {
        fy_stmt_done(st);
    }
    return epoch;
}

/* Client ids to disconnect once the table walk is over (kicking retires entries). */
struct kick_list {
    char **ids;
    size_t n, cap;
};

static void kick_add(struct kick_list *k, const char *id)
{
    if (k->n == k->cap) {
        size_t cap = k->cap ? k->cap * 2 : 16;
        char **ids = fy_realloc(k->ids, cap * sizeof(*ids));
        if (!ids) {
            return; /* caught at the next epoch change */
        }
        k->ids = ids;
        k->cap = cap;
    }
    k->ids[k->n] = fy_strdup(id);
    k->n += k->ids[k->n] != NULL;
}

/* Re-checks every live connection; false when one could not be checked (database error). */
static bool recheck_all(struct fy_plugin *p, struct kick_list *kick)
{
    bool complete = true;
    for (size_t b = 0; b < FY_PLUGIN_CONN_BUCKETS; b++) {
        for (struct fy_conn *c = p->conns.buckets[b]; c; c = c->next) {
            struct fy_errmsg em = {""};
            if (c->retired || c->link || (c->offline && !c->authz)) {
                continue;
            }
            fy_err e = fy_auth_recheck(p, c, &em);
            if (e == FY_ERR_UNAUTHORIZED && c->offline) {
                /* a persistent session whose owner lost its rights queues nothing more */
                fy_log(FY_LOG_WARN, "auth", "offline session of %.128s loses its rights: %s",
                       c->client_id, em.msg);
                fy_authz_free(c->authz);
                c->authz = NULL;
            } else if (e == FY_ERR_UNAUTHORIZED) {
                fy_log(FY_LOG_WARN, "auth", "disconnecting client %.128s (certificate %s): %s",
                       c->client_id, c->cert_id, em.msg);
                c->disconnect_reason = FY_DISCONNECT_AUTH_ERROR;
                kick_add(kick, c->client_id);
            } else if (e) {
                fy_log(FY_LOG_ERROR, "auth", "cannot re-check client %.128s: %s", c->client_id,
                       em.msg);
                complete = false;
            }
        }
    }
    return complete;
}

void fy_security_refresh(struct fy_plugin *p, bool force)
{
    uint64_t now = fy_mono_ns();
    if (!force && now < p->next_poll_ns) {
        return;
    }
    p->next_poll_ns = now + (uint64_t)FY_PLUGIN_SECURITY_POLL_MS * 1000000u;
    int64_t epoch = read_epoch(p);
    if (epoch < 0 || epoch == p->security_epoch) {
        return;
    }
    fy_cadir_sync(p);
    struct kick_list kick = {NULL, 0, 0};
    if (recheck_all(p, &kick)) {
        p->security_epoch = epoch;
    }
    for (size_t i = 0; i < kick.n; i++) {
        mosquitto_kick_client_by_clientid(kick.ids[i], false);
        fy_free(kick.ids[i]);
    }
    fy_free(kick.ids);
}
