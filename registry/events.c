/* fleetyard registry: event configurations and the event outbox (see events.h). */
#include "registry/events.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fytime.h"

const char *const fy_event_types[] = {
    "THING",
    "THING_GROUP",
    "THING_TYPE",
    "THING_GROUP_MEMBERSHIP",
    "THING_GROUP_HIERARCHY",
    "THING_TYPE_ASSOCIATION",
    "JOB",
    "JOB_EXECUTION",
    "POLICY",
    "CERTIFICATE",
    "CA_CERTIFICATE",
};
const size_t fy_event_type_count = sizeof(fy_event_types) / sizeof(fy_event_types[0]);

#define KEY_PREFIX "events.enabled."

static const char SQL_GET[] = "SELECT value FROM settings WHERE key = ?1";
static const char SQL_PUT[] = "INSERT INTO settings(key, value) VALUES(?1, ?2) "
                              "ON CONFLICT(key) DO UPDATE SET value = excluded.value";
static const char SQL_TAKE[] =
    "SELECT id, topic, payload, thing_name, enrich FROM event_outbox ORDER BY id LIMIT ?1";
static const char SQL_DELETE_UPTO[] = "DELETE FROM event_outbox WHERE id <= ?1";

/* The settings value of key into buf ("" when absent). */
static fy_err setting(struct fy_db *db, const char *key, char *buf, size_t n, struct fy_errmsg *em)
{
    sqlite3_stmt *st = fy_db_stmt(db, SQL_GET, em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    fy_bind_text(st, 1, key);
    int rc = sqlite3_step(st);
    snprintf(buf, n, "%s", rc == SQLITE_ROW ? fy_col_text(st, 0) : "");
    fy_stmt_done(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? FY_ERR_OK : fy_db_err(db, rc, em);
}

static fy_err
put_setting(struct fy_db *db, const char *key, const char *value, struct fy_errmsg *em)
{
    sqlite3_stmt *st = fy_db_stmt(db, SQL_PUT, em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    fy_bind_text(st, 1, key);
    fy_bind_text(st, 2, value);
    int rc = sqlite3_step(st);
    fy_stmt_done(st);
    return rc == SQLITE_DONE ? FY_ERR_OK : fy_db_err(db, rc, em);
}

fy_err fy_events_config_get(
    struct fy_db *db, json_t **out, double *created, double *modified, struct fy_errmsg *em)
{
    char key[64], value[32];
    fy_err e = FY_ERR_OK;
    json_t *j = json_object();
    for (size_t i = 0; j && !e && i < fy_event_type_count; i++) {
        snprintf(key, sizeof(key), KEY_PREFIX "%s", fy_event_types[i]);
        e = setting(db, key, value, sizeof(value), em);
        if (!e && json_object_set_new(j, fy_event_types[i],
                                      json_pack("{s:b}", "Enabled", strcmp(value, "1") == 0))) {
            e = FY_ERR_NOMEM;
        }
    }
    if (!e) {
        e = setting(db, "events.created", value, sizeof(value), em);
        *created = atof(value);
    }
    if (!e) {
        e = setting(db, "events.modified", value, sizeof(value), em);
        *modified = atof(value);
    }
    if (e || !j) {
        json_decref(j);
        return e ? e : fy_fail(em, FY_ERR_NOMEM, "Out of memory");
    }
    *out = j;
    return FY_ERR_OK;
}

static bool known_type(const char *t)
{
    for (size_t i = 0; i < fy_event_type_count; i++) {
        if (strcmp(t, fy_event_types[i]) == 0) {
            return true;
        }
    }
    return false;
}

/* Every entry valid before anything is written. */
static fy_err check_config(const json_t *cfg, struct fy_errmsg *em)
{
    const char *type;
    json_t *v;
    if (!json_is_object(cfg)) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST, "eventConfigurations must be an object");
    }
    json_object_foreach ((json_t *)cfg, type, v) {
        json_t *en = json_object_get(v, "Enabled");
        if (!known_type(type)) {
            return fy_fail(em, FY_ERR_INVALID_REQUEST, "Unknown event type: %.64s", type);
        }
        if (!json_is_object(v) || (en && !json_is_boolean(en)) ||
            json_object_size(v) > (en ? 1 : 0)) {
            return fy_fail(em, FY_ERR_INVALID_REQUEST,
                           "The configuration of %.64s must be {\"Enabled\": true|false}", type);
        }
    }
    return FY_ERR_OK;
}

static fy_err update_tx(struct fy_db *db, void *arg, struct fy_errmsg *em)
{
    const json_t *cfg = arg;
    const char *type;
    json_t *v;
    char key[64], now[32], created[32];
    fy_err e = FY_ERR_OK;
    json_object_foreach ((json_t *)cfg, type, v) {
        json_t *en = json_object_get(v, "Enabled");
        snprintf(key, sizeof(key), KEY_PREFIX "%s", type);
        if (!e && en) {
            e = put_setting(db, key, json_is_true(en) ? "1" : "0", em);
        }
    }
    snprintf(now, sizeof(now), "%.3f", fy_now());
    if (!e) {
        e = setting(db, "events.created", created, sizeof(created), em);
    }
    if (!e && !created[0]) {
        e = put_setting(db, "events.created", now, em);
    }
    return e ? e : put_setting(db, "events.modified", now, em);
}

fy_err fy_events_config_update(struct fy_db *db, const json_t *cfg, struct fy_errmsg *em)
{
    fy_err e = check_config(cfg, em);
    return e ? e : fy_db_run_tx(db, update_tx, (void *)cfg, em);
}

static const char *nullable(sqlite3_stmt *st, int col)
{
    return sqlite3_column_type(st, col) == SQLITE_NULL ? NULL : fy_col_text(st, col);
}

/* The current attributes of thing as a JSON object (new reference; {} when none or gone; NULL
 * on OOM). */
json_t *fy_events_thing_attributes(struct fy_db *db, const char *thing)
{
    static const char SQL_ATTRS[] =
        "SELECT a.key, a.value FROM thing_attributes a JOIN things t ON t.id = a.thing "
        "WHERE t.name = ?1";
    struct fy_errmsg em;
    json_t *j = json_object();
    sqlite3_stmt *st = fy_db_stmt(db, SQL_ATTRS, &em);
    if (st) {
        fy_bind_text(st, 1, thing);
        while (j && sqlite3_step(st) == SQLITE_ROW) {
            if (json_object_set_new(j, fy_col_text(st, 0), json_string(fy_col_text(st, 1))) != 0) {
                json_decref(j); /* out of memory: NULL, not a partial set */
                j = NULL;
            }
        }
        fy_stmt_done(st);
    }
    return j;
}

struct take_arg {
    fy_err (*fn)(void *ctx, const struct fy_event_msg *m);
    void *ctx;
    size_t *taken;
};

static fy_err take_tx(struct fy_db *db, void *arg, struct fy_errmsg *em)
{
    struct take_arg *a = arg;
    sqlite3_stmt *st = fy_db_stmt(db, SQL_TAKE, em);
    int64_t last = -1;
    fy_err e = FY_ERR_OK;
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    sqlite3_bind_int(st, 1, FY_EVENTS_TAKE_MAX);
    while (!e && sqlite3_step(st) == SQLITE_ROW) {
        struct fy_event_msg m = {fy_col_text(st, 1), fy_col_text(st, 2), nullable(st, 3),
                                 nullable(st, 4)};
        e = a->fn(a->ctx, &m);
        if (!e) {
            last = sqlite3_column_int64(st, 0);
            (*a->taken)++;
        }
    }
    fy_stmt_done(st);
    if (last < 0) {
        return e;
    }
    sqlite3_stmt *del = fy_db_stmt(db, SQL_DELETE_UPTO, em);
    if (!del) {
        return FY_ERR_INTERNAL;
    }
    sqlite3_bind_int64(del, 1, last);
    int rc = sqlite3_step(del);
    fy_stmt_done(del);
    return rc == SQLITE_DONE ? FY_ERR_OK : fy_db_err(db, rc, em); /* what was sent is gone */
}

fy_err fy_events_take(struct fy_db *db,
                      fy_err (*fn)(void *ctx, const struct fy_event_msg *m),
                      void *ctx,
                      size_t *taken,
                      struct fy_errmsg *em)
{
    static const char SQL_ANY[] = "SELECT 1 FROM event_outbox LIMIT 1";
    struct take_arg a = {fn, ctx, taken};
    *taken = 0;
    sqlite3_stmt *st = fy_db_stmt(db, SQL_ANY, em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    int rc = sqlite3_step(st); /* no write lock while there is nothing to send */
    fy_stmt_done(st);
    if (rc == SQLITE_DONE) {
        return FY_ERR_OK;
    }
    return rc == SQLITE_ROW ? fy_db_run_tx(db, take_tx, &a, em) : fy_db_err(db, rc, em);
}
