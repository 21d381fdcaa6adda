/* fleetyard-server: the event outbox publisher (see events.h). */
#include "server/events.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/db.h"
#include "core/json.h"
#include "core/log.h"
#include "core/names.h"
#include "core/ticker.h"
#include "registry/events.h"
#include "server/link.h"

struct fy_events {
    struct fy_db *db;
    struct fy_link *link;
    struct fy_site site;
    struct fy_ticker *ticker;
};

#define GROUP_CHAIN_MAX 16 /* above AWS's depth of 7: a cycle can never loop forever */

/* [{groupArn, groupId}] of group `name` and its ancestors, root first ([] for no parent). */
static json_t *ancestors(const struct fy_events *ev, const char *name)
{
    static const char SQL_GROUP[] = "SELECT g.group_id, p.name FROM thing_groups g "
                                    "LEFT JOIN thing_groups p ON p.id = g.parent WHERE g.name = ?1";
    struct fy_errmsg em;
    char arn[FY_ARN_MAX + 1], next[FY_NAME_MAX + 1];
    json_t *chain = json_array();
    for (int depth = 0; chain && name && depth < GROUP_CHAIN_MAX; depth++) {
        sqlite3_stmt *st = fy_db_stmt(ev->db, SQL_GROUP, &em);
        if (!st) {
            break;
        }
        fy_bind_text(st, 1, name);
        bool found = sqlite3_step(st) == SQLITE_ROW;
        if (found) {
            fy_arn_fmt(arn, sizeof(arn), &ev->site, "thinggroup", name);
            json_t *g = json_pack("{s:s, s:s}", "groupArn", arn, "groupId", fy_col_text(st, 0));
            if (json_array_insert_new(chain, 0, g) != 0) {
                json_decref(chain); /* out of memory: no chain rather than a gap in it */
                chain = NULL;
            }
            snprintf(next, sizeof(next), "%s", fy_col_text(st, 1));
        }
        bool more = found && sqlite3_column_type(st, 1) != SQLITE_NULL;
        fy_stmt_done(st);
        name = more ? next : NULL;
    }
    return chain;
}

/* The payload with what the row asks for added (see struct fy_event_msg); new string. */
static char *enriched(const struct fy_events *ev, const struct fy_event_msg *m)
{
    json_t *j = fy_json_loads(m->payload, 0);
    char arn[FY_ARN_MAX + 1];
    char *out = NULL;
    int rc = 0; /* non-zero once a member could not be added (out of memory) */
    if (!j) {
        return NULL;
    }
    const char *how = m->enrich ? m->enrich : "";
    if (m->enrich) {
        rc |= json_object_set_new(j, "accountId", json_string(ev->site.account));
    }
    if (m->thing_name && strcmp(how, "thing") != 0) {
        fy_arn_fmt(arn, sizeof(arn), &ev->site, "thing", m->thing_name);
        rc |= json_object_set_new(j, "thingArn", json_string(arn));
    }
    if (m->thing_name && strcmp(how, "thing") == 0) {
        rc |=
            json_object_set_new(j, "attributes", fy_events_thing_attributes(ev->db, m->thing_name));
    }
    if (strcmp(how, "group") == 0) {
        const char *parent = json_string_value(json_object_get(j, "parentGroupName"));
        rc |= json_object_set_new(j, "rootToParentThingGroups", ancestors(ev, parent));
    }
    if (strcmp(how, "membership") == 0) {
        const char *group = json_string_value(json_object_get(j, "groupName"));
        fy_arn_fmt(arn, sizeof(arn), &ev->site, "thinggroup", group ? group : "");
        rc |= json_object_set_new(j, "groupArn", json_string(arn));
        json_object_del(j, "groupName");
    }
    out = rc ? NULL : fy_json_dump(j);
    json_decref(j);
    return out;
}

static fy_err publish_one(void *ctx, const struct fy_event_msg *m)
{
    struct fy_events *ev = ctx;
    bool plain = !m->thing_name && !m->enrich;
    char *text = plain ? NULL : enriched(ev, m);
    const char *payload = plain ? m->payload : text;
    fy_err e = payload ? fy_link_publish(ev->link, m->topic, payload, strlen(payload),
                                         FY_EVENTS_QOS, false)
                       : FY_ERR_OK; /* an unreadable row is dropped, not retried forever */
    fy_free(text);
    return e;
}

/* One pass: publish while whole batches come out and the link is up. */
static void drain(void *arg)
{
    struct fy_events *ev = arg;
    size_t taken = FY_EVENTS_TAKE_MAX;
    struct fy_errmsg em = {""};
    while (taken == FY_EVENTS_TAKE_MAX && fy_link_connected(ev->link)) {
        if (fy_events_take(ev->db, publish_one, ev, &taken, &em) != FY_ERR_OK) {
            fy_log(FY_LOG_WARN, "events", "cannot publish events: %s", em.msg);
            break;
        }
    }
}

fy_err fy_events_start(const char *db_path,
                       const struct fy_site *site,
                       struct fy_link *link,
                       struct fy_events **out,
                       struct fy_errmsg *em)
{
    struct fy_events *ev = fy_calloc(1, sizeof(*ev));
    *out = NULL;
    if (!ev) {
        return fy_fail(em, FY_ERR_NOMEM, "out of memory");
    }
    fy_err e = fy_db_open(db_path, &ev->db, em);
    if (e) {
        fy_free(ev);
        return e;
    }
    ev->link = link;
    ev->site = *site;
    e = fy_ticker_start(FY_EVENTS_POLL_MS, false, drain, ev, &ev->ticker, em);
    if (e) {
        fy_db_close(ev->db);
        fy_free(ev);
        return e;
    }
    *out = ev;
    return FY_ERR_OK;
}

void fy_events_stop(struct fy_events *ev)
{
    if (ev) {
        fy_ticker_stop(ev->ticker);
        fy_db_close(ev->db);
        fy_free(ev);
    }
}
