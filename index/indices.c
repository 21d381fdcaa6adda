/* The two indexes (AWS_Things, AWS_ThingGroups): GetIndexingConfiguration's answer with the
 * managed fields, DescribeIndex, and resolving an index name for a query. fleetyard queries the
 * live tables, so an enabled index is always ACTIVE. */
#include <string.h>

#include "core/json.h"
#include "index/index_int.h"

struct managed {
    const char *name, *type;
    int need; /* 0 registry, 1 shadow, 2 connectivity, 3 named shadows */
};

static const struct managed things_managed[] = {
    {"thingId", "String", 0},
    {"thingName", "String", 0},
    {"registry.version", "Number", 0},
    {"registry.thingTypeName", "String", 0},
    {"registry.thingGroupNames", "String", 0},
    {"shadow.version", "Number", 1},
    {"shadow.hasDelta", "Boolean", 1},
    {"connectivity.timestamp", "Number", 2},
    {"connectivity.version", "Number", 2},
    {"connectivity.connected", "Boolean", 2},
    {"connectivity.disconnectReason", "String", 2},
    {"shadow.name.*.version", "Number", 3},
    {"shadow.name.*.hasDelta", "Boolean", 3},
};

static const struct managed groups_managed[] = {
    {"description", "String", 0},  {"parentGroupNames", "String", 0},
    {"thingGroupId", "String", 0}, {"thingGroupName", "String", 0},
    {"version", "Number", 0},
};

/* Aliases a query may use for a managed field. */
static const struct {
    const char *alias, *name;
} aliases[] = {
    {"thingTypeName", "registry.thingTypeName"},
    {"thingGroupNames", "registry.thingGroupNames"},
};

static bool enabled(const struct fy_index_config *cfg, int need)
{
    switch (need) {
    case 1:
        return cfg->thing_mode == FY_MODE_REGISTRY_AND_SHADOW;
    case 2:
        return cfg->connectivity;
    case 3:
        return cfg->named_shadows;
    default:
        return cfg->thing_mode != FY_MODE_OFF;
    }
}

static json_t *managed_list(const struct managed *m, size_t n, const struct fy_index_config *cfg)
{
    json_t *j = json_array();
    for (size_t i = 0; j && i < n; i++) {
        if (cfg && !enabled(cfg, m[i].need)) {
            continue;
        }
        if (json_array_append_new(
                j, json_pack("{s:s, s:s}", "name", m[i].name, "type", m[i].type)) != 0) {
            json_decref(j);
            return NULL;
        }
    }
    return j;
}

json_t *fy_index_managed_things(const struct fy_index_config *cfg)
{
    return managed_list(things_managed, sizeof(things_managed) / sizeof(things_managed[0]), cfg);
}

json_t *fy_index_managed_groups(void)
{
    return managed_list(groups_managed, sizeof(groups_managed) / sizeof(groups_managed[0]), NULL);
}

static const char *managed_type(const struct managed *m, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(m[i].name, name) == 0) {
            return m[i].type;
        }
    }
    return NULL;
}

/* The declared type of a custom field, as one of the static names (never a pointer into
 * section, which the caller may release). */
static const char *custom_type(const json_t *section, const char *name)
{
    static const char *const types[] = {"Number", "String", "Boolean"};
    size_t i;
    json_t *f;
    json_array_foreach (json_object_get(section, "customFields"), i, f) {
        const char *n = json_string_value(json_object_get(f, "name"));
        const char *t = json_string_value(json_object_get(f, "type"));
        for (size_t k = 0; n && t && strcmp(n, name) == 0 && k < 3; k++) {
            if (strcmp(types[k], t) == 0) {
                return types[k];
            }
        }
    }
    return NULL;
}

const char *fy_index_field_type(const json_t *cfg_json, enum fy_index_kind kind, const char *name)
{
    bool th = kind == FY_INDEX_KIND_THINGS;
    for (size_t i = 0; th && i < sizeof(aliases) / sizeof(aliases[0]); i++) {
        if (strcmp(aliases[i].alias, name) == 0) {
            name = aliases[i].name;
        }
    }
    const char *t =
        th ? managed_type(things_managed, sizeof(things_managed) / sizeof(things_managed[0]), name)
           : managed_type(groups_managed, sizeof(groups_managed) / sizeof(groups_managed[0]), name);
    if (t) {
        return t;
    }
    return custom_type(json_object_get(cfg_json, th ? "thingIndexingConfiguration"
                                                    : "thingGroupIndexingConfiguration"),
                       name);
}

/* section with defaults and managedFields filled in (new reference; takes managed; NULL on
 * OOM). */
static json_t *with_managed(const json_t *section, const char *mode_key, json_t *managed)
{
    json_t *j = section ? json_deep_copy(section) : json_object();
    if (j && !json_object_get(j, mode_key)) {
        j = fy_json_with_member(j, mode_key, json_string("OFF"));
    }
    const char *mode = json_string_value(json_object_get(j, mode_key));
    if (j && mode && strcmp(mode, "OFF") != 0) {
        j = fy_json_with_member(j, "managedFields", json_incref(managed)); /* NULL managed: OOM */
    }
    json_decref(managed);
    return j;
}

fy_err fy_index_config_get(struct fy_db *db, json_t **out, struct fy_errmsg *em)
{
    json_t *cur = NULL;
    struct fy_index_config cfg;
    fy_err e = fy_index_config_json(db, &cur, em);
    if (e) {
        return e;
    }
    fy_index_config_from_json(cur, &cfg);
    json_t *th = with_managed(json_object_get(cur, "thingIndexingConfiguration"),
                              "thingIndexingMode", fy_index_managed_things(&cfg));
    if (th && !json_object_get(th, "thingConnectivityIndexingMode")) {
        th = fy_json_with_member(th, "thingConnectivityIndexingMode", json_string("OFF"));
    }
    json_t *gr = with_managed(json_object_get(cur, "thingGroupIndexingConfiguration"),
                              "thingGroupIndexingMode", fy_index_managed_groups());
    json_decref(cur);
    /* "o", not "o*": a section lost to a failed allocation fails the pack (which releases the
     * other) instead of leaving a partial *out behind an error */
    *out = json_pack("{s:o, s:o}", "thingIndexingConfiguration", th,
                     "thingGroupIndexingConfiguration", gr);
    return *out ? FY_ERR_OK : fy_fail(em, FY_ERR_NOMEM, "Out of memory");
}

fy_err fy_index_open(struct fy_db *db,
                     const char *index_name,
                     enum fy_index_kind *kind,
                     struct fy_index_config *cfg,
                     struct fy_errmsg *em)
{
    const char *name = index_name ? index_name : FY_INDEX_THINGS;
    fy_err e = fy_index_config_load(db, cfg, em);
    if (e) {
        return e;
    }
    bool things = strcmp(name, FY_INDEX_THINGS) == 0;
    bool groups = strcmp(name, FY_INDEX_GROUPS) == 0;
    if ((things && cfg->thing_mode != FY_MODE_OFF) || (groups && cfg->groups)) {
        *kind = things ? FY_INDEX_KIND_THINGS : FY_INDEX_KIND_GROUPS;
        return FY_ERR_OK;
    }
    return fy_fail(em, FY_ERR_NOT_FOUND, "Index %.128s does not exist", name);
}

/* DescribeIndex schema string for the things index. */
static const char *things_schema(const struct fy_index_config *cfg)
{
    bool shadow = cfg->thing_mode == FY_MODE_REGISTRY_AND_SHADOW;
    if (cfg->named_shadows) {
        return "MULTI_INDEXING_MODE";
    }
    if (cfg->connectivity) {
        return shadow ? "REGISTRY_AND_SHADOW_AND_CONNECTIVITY_STATUS" : "REGISTRY_AND_CONNECTIVITY";
    }
    return shadow ? "REGISTRY_AND_SHADOW" : "REGISTRY";
}

fy_err
fy_index_describe(struct fy_db *db, const char *index_name, json_t **out, struct fy_errmsg *em)
{
    enum fy_index_kind kind;
    struct fy_index_config cfg;
    fy_err e = fy_index_open(db, index_name, &kind, &cfg, em);
    if (e) {
        return e;
    }
    *out = json_pack("{s:s, s:s, s:s}", "indexName", index_name, "indexStatus", "ACTIVE", "schema",
                     kind == FY_INDEX_KIND_THINGS ? things_schema(&cfg) : "REGISTRY");
    return *out ? FY_ERR_OK : fy_fail(em, FY_ERR_NOMEM, "Out of memory");
}
