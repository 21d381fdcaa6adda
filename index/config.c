/* Indexing configuration: UpdateIndexingConfiguration / GetIndexingConfiguration, stored as the
 * normalized request JSON in settings["indexing.config"], and the parsed struct fy_index_config
 * the query compiler consults. */
#include <string.h>

#include "core/alloc.h"
#include "core/json.h"
#include "core/names.h"
#include "index/index_int.h"
#include "index/query.h"

static const char SQL_GET[] = "SELECT value FROM settings WHERE key = 'indexing.config'";
static const char SQL_PUT[] = "INSERT INTO settings(key, value) VALUES ('indexing.config', ?) "
                              "ON CONFLICT(key) DO UPDATE SET value = excluded.value";
static const char SQL_DYN_COUNT[] = "SELECT count(*) FROM thing_groups WHERE dynamic = 1";

static const char *const thing_modes[] = {"OFF", "REGISTRY", "REGISTRY_AND_SHADOW", NULL};
static const char *const conn_modes[] = {"OFF", "STATUS", NULL};
static const char *const dd_modes[] = {"OFF", "VIOLATIONS", NULL};
static const char *const on_off[] = {"OFF", "ON", NULL};
static const char *const field_types[] = {"Number", "String", "Boolean", NULL};

/* Index of s in list, -1 when absent (or s NULL). */
static int pick(const char *const *list, const char *s)
{
    for (int i = 0; s && list[i]; i++) {
        if (strcmp(list[i], s) == 0) {
            return i;
        }
    }
    return -1;
}

static fy_err bad(struct fy_errmsg *em, const char *what, const char *value)
{
    return fy_fail(em, FY_ERR_INVALID_REQUEST, "Invalid %s: %.128s", what, value ? value : "null");
}

/* Loads the stored JSON (a new reference; an empty object when never set). */
fy_err fy_index_config_json(struct fy_db *db, json_t **out, struct fy_errmsg *em)
{
    sqlite3_stmt *st = fy_db_stmt(db, SQL_GET, em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    int rc = sqlite3_step(st);
    /* a stored text that does not load is an allocation that failed (we only store what we
     * serialized), not a configuration never set: that would answer "indexing off" */
    *out = rc == SQLITE_ROW ? fy_json_loads(fy_col_text(st, 0), 0) : json_object();
    fy_stmt_done(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        json_decref(*out);
        return fy_db_err(db, rc, em);
    }
    return *out ? FY_ERR_OK : fy_fail(em, FY_ERR_NOMEM, "Out of memory");
}

static void parse_named(const json_t *j_things, struct fy_index_config *cfg)
{
    json_t *names = json_object_get(json_object_get(j_things, "filter"), "namedShadowNames");
    size_t i;
    json_t *v;
    json_array_foreach (names, i, v) {
        if (cfg->nnamed < FY_INDEX_NAMED_MAX && json_is_string(v)) {
            snprintf(cfg->named[cfg->nnamed++], sizeof(cfg->named[0]), "%s", json_string_value(v));
        }
    }
}

void fy_index_config_from_json(const json_t *j, struct fy_index_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    json_t *th = json_object_get(j, "thingIndexingConfiguration");
    json_t *gr = json_object_get(j, "thingGroupIndexingConfiguration");
    int mode = pick(thing_modes, json_string_value(json_object_get(th, "thingIndexingMode")));
    cfg->thing_mode = mode > 0 ? (enum fy_thing_mode)mode : FY_MODE_OFF;
    cfg->connectivity =
        pick(conn_modes, json_string_value(json_object_get(th, "thingConnectivityIndexingMode"))) ==
        1;
    cfg->named_shadows =
        pick(on_off, json_string_value(json_object_get(th, "namedShadowIndexingMode"))) == 1;
    parse_named(th, cfg);
    cfg->groups =
        pick(on_off, json_string_value(json_object_get(gr, "thingGroupIndexingMode"))) == 1;
}

fy_err fy_index_config_load(struct fy_db *db, struct fy_index_config *cfg, struct fy_errmsg *em)
{
    json_t *j = NULL;
    fy_err e = fy_index_config_json(db, &j, em);
    if (!e) {
        fy_index_config_from_json(j, cfg);
    }
    json_decref(j);
    return e;
}

/* A custom field name must be attributes.X, shadow.(desired|reported).X,
 * shadow.name.N.(desired|reported).X or deviceDefender.X, and fit the mode. */
static fy_err check_custom_name(const char *name,
                                const struct fy_index_config *cfg,
                                bool group_index,
                                struct fy_errmsg *em)
{
    struct fy_qfield f;
    if (!name) {
        return bad(em, "custom field name", NULL);
    }
    if (strncmp(name, "deviceDefender.", 15) == 0 && !group_index) {
        return FY_ERR_OK;
    }
    bool custom_kind =
        strncmp(name, "attributes.", 11) == 0 || (!group_index && strncmp(name, "shadow.", 7) == 0);
    fy_err e = fy_qfield_resolve(name, group_index ? FY_INDEX_KIND_GROUPS : FY_INDEX_KIND_THINGS,
                                 cfg, &f, em);
    bool value_field = !e && (f.kind == FY_QF_ATTRIBUTE || f.kind == FY_QF_TG_ATTRIBUTE ||
                              f.kind == FY_QF_SHADOW_VALUE);
    fy_qfield_clear(&f);
    if (e == FY_ERR_NOMEM) {
        return e;
    }
    if (!custom_kind || !value_field) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST,
                       "Invalid custom field %.128s: not a custom field name for the indexing mode",
                       name);
    }
    return FY_ERR_OK;
}

static fy_err check_custom(const json_t *fields,
                           const struct fy_index_config *cfg,
                           bool group_index,
                           struct fy_errmsg *em)
{
    size_t i;
    json_t *f;
    if (fields && !json_is_array(fields)) {
        return bad(em, "customFields", "not a list");
    }
    json_array_foreach ((json_t *)fields, i, f) {
        const char *name = json_string_value(json_object_get(f, "name"));
        const char *type = json_string_value(json_object_get(f, "type"));
        if (!json_is_object(f) || json_object_size(f) > 2 ||
            (type && pick(field_types, type) < 0)) {
            return bad(em, "custom field", name);
        }
        fy_err e = check_custom_name(name, cfg, group_index, em);
        if (e) {
            return e;
        }
    }
    return FY_ERR_OK;
}

static fy_err check_filter(const json_t *filter, struct fy_errmsg *em)
{
    json_t *names = json_object_get(filter, "namedShadowNames");
    size_t i;
    json_t *v;
    if (names && (!json_is_array(names) || json_array_size(names) > FY_INDEX_NAMED_MAX)) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST,
                       "filter.namedShadowNames must list at most %d shadow names",
                       FY_INDEX_NAMED_MAX);
    }
    json_array_foreach (names, i, v) {
        if (!json_is_string(v) || !fy_valid_shadow_name(json_string_value(v))) {
            return bad(em, "shadow name in filter.namedShadowNames", json_string_value(v));
        }
    }
    return FY_ERR_OK;
}

/* thingIndexingConfiguration: modes, filter and custom fields. */
static fy_err check_things(const json_t *j, struct fy_errmsg *em)
{
    const char *mode = NULL, *conn = NULL, *dd = NULL, *named = NULL;
    json_t *managed = NULL, *custom = NULL, *filter = NULL;
    json_error_t err;
    if (json_unpack_ex((json_t *)j, &err, 0, "{s?s, s?s, s?s, s?s, s?o, s?o, s?o !}",
                       "thingIndexingMode", &mode, "thingConnectivityIndexingMode", &conn,
                       "deviceDefenderIndexingMode", &dd, "namedShadowIndexingMode", &named,
                       "managedFields", &managed, "customFields", &custom, "filter",
                       &filter) != 0) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST, "Invalid thingIndexingConfiguration: %.200s",
                       err.text);
    }
    if (pick(thing_modes, mode) < 0 || (conn && pick(conn_modes, conn) < 0) ||
        (dd && pick(dd_modes, dd) < 0) || (named && pick(on_off, named) < 0)) {
        return bad(em, "indexing mode",
                   mode && pick(thing_modes, mode) >= 0 ? (conn ? conn : named) : mode);
    }
    struct fy_index_config cfg;
    json_t *wrap = json_pack("{s:O}", "thingIndexingConfiguration", j);
    fy_index_config_from_json(wrap, &cfg);
    json_decref(wrap);
    bool extras = cfg.connectivity || cfg.named_shadows || pick(dd_modes, dd) == 1;
    if (cfg.thing_mode == FY_MODE_OFF && (extras || json_array_size(custom))) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST,
                       "Connectivity, named shadow, Device Defender indexing and custom fields "
                       "need thingIndexingMode REGISTRY or REGISTRY_AND_SHADOW");
    }
    if (cfg.named_shadows && cfg.thing_mode != FY_MODE_REGISTRY_AND_SHADOW) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST,
                       "namedShadowIndexingMode ON needs thingIndexingMode REGISTRY_AND_SHADOW");
    }
    fy_err e = check_filter(filter, em);
    return e ? e : check_custom(custom, &cfg, false, em);
}

static fy_err check_groups(const json_t *j, struct fy_errmsg *em)
{
    const char *mode = NULL;
    json_t *managed = NULL, *custom = NULL;
    json_error_t err;
    if (json_unpack_ex((json_t *)j, &err, 0, "{s?s, s?o, s?o !}", "thingGroupIndexingMode", &mode,
                       "managedFields", &managed, "customFields", &custom) != 0) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST,
                       "Invalid thingGroupIndexingConfiguration: %.200s", err.text);
    }
    if (pick(on_off, mode) < 0) {
        return bad(em, "thingGroupIndexingMode", mode);
    }
    if (pick(on_off, mode) == 0 && json_array_size(custom)) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST, "Custom fields need thingGroupIndexingMode ON");
    }
    return check_custom(custom, NULL, true, em);
}

static fy_err dyn_groups_exist(struct fy_db *db, bool *exist, struct fy_errmsg *em)
{
    sqlite3_stmt *st = fy_db_stmt(db, SQL_DYN_COUNT, em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    int rc = sqlite3_step(st);
    *exist = rc == SQLITE_ROW && sqlite3_column_int64(st, 0) > 0;
    fy_stmt_done(st);
    return rc == SQLITE_ROW ? FY_ERR_OK : fy_db_err(db, rc, em);
}

/* Copy of src without its read-only managedFields. */
static json_t *strip_managed(const json_t *src)
{
    json_t *c = json_deep_copy(src);
    json_object_del(c, "managedFields");
    return c;
}

struct update_args {
    const json_t *things, *groups;
};

static fy_err update_locked(struct fy_db *db, void *arg, struct fy_errmsg *em)
{
    struct update_args *a = arg;
    json_t *cur = NULL;
    bool dyn = false;
    fy_err e = fy_index_config_json(db, &cur, em);
    if (!e && a->things) {
        struct fy_index_config cfg;
        json_t *wrap = json_pack("{s:O}", "thingIndexingConfiguration", a->things);
        fy_index_config_from_json(wrap, &cfg);
        json_decref(wrap);
        e = cfg.thing_mode == FY_MODE_OFF ? dyn_groups_exist(db, &dyn, em) : FY_ERR_OK;
        if (!e && dyn) {
            e = fy_fail(em, FY_ERR_INVALID_REQUEST,
                        "Thing indexing cannot be turned off while dynamic thing groups exist");
        }
        e = e ? e
              : (json_object_set_new(cur, "thingIndexingConfiguration", strip_managed(a->things)) ==
                         0
                     ? FY_ERR_OK
                     : FY_ERR_NOMEM);
    }
    if (!e && a->groups) {
        e = json_object_set_new(cur, "thingGroupIndexingConfiguration", strip_managed(a->groups)) ==
                    0
                ? FY_ERR_OK
                : FY_ERR_NOMEM;
    }
    char *text = e ? NULL : fy_json_dump(cur);
    json_decref(cur);
    if (!e && !text) {
        e = FY_ERR_NOMEM;
    }
    e = e ? e : fy_db_exec_text(db, SQL_PUT, text, em);
    fy_free(text);
    return e;
}

fy_err fy_index_config_update(struct fy_db *db,
                              const json_t *j_things,
                              const json_t *j_groups,
                              struct fy_errmsg *em)
{
    fy_err e = j_things ? check_things(j_things, em) : FY_ERR_OK;
    e = e ? e : (j_groups ? check_groups(j_groups, em) : FY_ERR_OK);
    if (e) {
        return e;
    }
    struct update_args a = {j_things, j_groups};
    return fy_db_run_tx(db, update_locked, &a, em);
}
