/* Query fields: the whitelist of searchable field names and what the indexing configuration
 * makes searchable. Only these resolve; everything else is an InvalidQueryException. */
#include <ctype.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/names.h"
#include "index/query.h"

struct fixed_field {
    const char *name;
    enum fy_index_kind index;
    enum fy_qfield_kind kind;
};

static const struct fixed_field fixed[] = {
    {"thingName", FY_INDEX_KIND_THINGS, FY_QF_THING_NAME},
    {"thingId", FY_INDEX_KIND_THINGS, FY_QF_THING_ID},
    {"thingTypeName", FY_INDEX_KIND_THINGS, FY_QF_THING_TYPE},
    {"registry.thingTypeName", FY_INDEX_KIND_THINGS, FY_QF_THING_TYPE},
    {"thingGroupNames", FY_INDEX_KIND_THINGS, FY_QF_GROUP_NAMES},
    {"registry.thingGroupNames", FY_INDEX_KIND_THINGS, FY_QF_GROUP_NAMES},
    {"registry.version", FY_INDEX_KIND_THINGS, FY_QF_REG_VERSION},
    {"shadow.hasDelta", FY_INDEX_KIND_THINGS, FY_QF_SHADOW_HAS_DELTA},
    {"shadow.version", FY_INDEX_KIND_THINGS, FY_QF_SHADOW_VERSION},
    {"connectivity.connected", FY_INDEX_KIND_THINGS, FY_QF_CONN_CONNECTED},
    {"connectivity.timestamp", FY_INDEX_KIND_THINGS, FY_QF_CONN_TIMESTAMP},
    {"connectivity.disconnectReason", FY_INDEX_KIND_THINGS, FY_QF_CONN_REASON},
    {"connectivity.version", FY_INDEX_KIND_THINGS, FY_QF_CONN_VERSION},
    {"thingGroupName", FY_INDEX_KIND_GROUPS, FY_QF_TG_NAME},
    {"thingGroupId", FY_INDEX_KIND_GROUPS, FY_QF_TG_ID},
    {"description", FY_INDEX_KIND_GROUPS, FY_QF_TG_DESCRIPTION},
    {"parentGroupNames", FY_INDEX_KIND_GROUPS, FY_QF_TG_PARENTS},
    {"thingGroupNames", FY_INDEX_KIND_GROUPS, FY_QF_TG_NAME},
};

void fy_qfield_clear(struct fy_qfield *f)
{
    FY_FREE(f->key);
    FY_FREE(f->shadow);
    FY_FREE(f->path);
}

static fy_err bad_field(const char *name, struct fy_errmsg *em, const char *why)
{
    return fy_fail(em, FY_ERR_INVALID_QUERY, "Invalid query string: field %.128s %s", name, why);
}

/* A path component of a shadow field: letters, digits, '_', '-', '$', '@', ':'. */
static bool valid_component(const char *s, size_t n)
{
    if (n == 0) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!isalnum(c) && !strchr("_-$@:", c)) {
            return false;
        }
    }
    return true;
}

/* "$.state.<section>" + ".\"a\".\"b\"" for rest = "a.b" into a new string. */
static fy_err shadow_path(const char *section, const char *rest, char **out)
{
    struct fy_buf b;
    fy_buf_init(&b, 1024);
    fy_err e = fy_buf_printf(&b, "$.state.%s", section);
    int parts = 0;
    while (!e && *rest) {
        size_t n = strcspn(rest, ".");
        if (!valid_component(rest, n) || ++parts > FY_INDEX_PATH_MAX) {
            e = FY_ERR_INVALID_QUERY;
            break;
        }
        e = fy_buf_printf(&b, ".\"%.*s\"", (int)n, rest);
        rest += n;
        if (*rest == '.') {
            rest++;
            e = e ? e : (*rest ? FY_ERR_OK : FY_ERR_INVALID_QUERY);
        }
    }
    if (!e && parts == 0) {
        e = FY_ERR_INVALID_QUERY;
    }
    if (e) {
        fy_buf_free(&b);
        return e;
    }
    *out = b.data;
    return FY_ERR_OK;
}

static bool named_indexed(const struct fy_index_config *cfg, const char *name, size_t n)
{
    if (!cfg) {
        return true;
    }
    if (!cfg->named_shadows) {
        return false;
    }
    for (int i = 0; i < cfg->nnamed; i++) {
        if (strlen(cfg->named[i]) == n && memcmp(cfg->named[i], name, n) == 0) {
            return true;
        }
    }
    return false;
}

/* shadow.<rest> where rest is reported.X / desired.X / hasDelta / version /
 * name.<n>.(reported|desired).X / name.<n>.hasDelta. */
static fy_err resolve_shadow(const char *full,
                             const char *rest,
                             const struct fy_index_config *cfg,
                             struct fy_qfield *f,
                             struct fy_errmsg *em)
{
    size_t nlen = 0;
    const char *sname = "";
    if (strncmp(rest, "name.", 5) == 0) {
        sname = rest + 5;
        nlen = strcspn(sname, ".");
        if (nlen == 0 || nlen > 64 || sname[nlen] != '.') {
            return bad_field(full, em, "is not a valid named shadow field");
        }
        if (!named_indexed(cfg, sname, nlen)) {
            return bad_field(full, em, "is not indexed: named shadow indexing is off for it");
        }
        rest = sname + nlen + 1;
    }
    f->shadow = fy_strndup(sname, nlen);
    if (!f->shadow) {
        return FY_ERR_NOMEM;
    }
    if (strcmp(rest, "hasDelta") == 0 || strcmp(rest, "version") == 0) {
        f->kind = rest[0] == 'h' ? FY_QF_SHADOW_HAS_DELTA : FY_QF_SHADOW_VERSION;
        return FY_ERR_OK;
    }
    const char *section = strncmp(rest, "reported.", 9) == 0  ? "reported"
                          : strncmp(rest, "desired.", 8) == 0 ? "desired"
                                                              : NULL;
    if (!section) {
        return bad_field(full, em, "is not a searchable shadow field");
    }
    f->kind = FY_QF_SHADOW_VALUE;
    fy_err e = shadow_path(section, rest + strlen(section) + 1, &f->path);
    return e == FY_ERR_INVALID_QUERY ? bad_field(full, em, "has an invalid path") : e;
}

static fy_err resolve_attr(const char *name,
                           const char *key,
                           enum fy_qfield_kind kind,
                           struct fy_qfield *f,
                           struct fy_errmsg *em)
{
    if (!fy_valid_attr_key(key)) {
        return bad_field(name, em, "has an invalid attribute name");
    }
    f->kind = kind;
    f->key = fy_strdup(key);
    return f->key ? FY_ERR_OK : FY_ERR_NOMEM;
}

/* Whether cfg indexes the field kind f (things index). */
static fy_err check_indexed(const char *name,
                            const struct fy_qfield *f,
                            const struct fy_index_config *cfg,
                            struct fy_errmsg *em)
{
    bool shadow = f->kind == FY_QF_SHADOW_VALUE || f->kind == FY_QF_SHADOW_HAS_DELTA ||
                  f->kind == FY_QF_SHADOW_VERSION;
    bool conn = f->kind == FY_QF_CONN_CONNECTED || f->kind == FY_QF_CONN_TIMESTAMP ||
                f->kind == FY_QF_CONN_REASON || f->kind == FY_QF_CONN_VERSION;
    if (!cfg) {
        return FY_ERR_OK;
    }
    if (shadow && f->shadow && f->shadow[0] == '\0' &&
        cfg->thing_mode != FY_MODE_REGISTRY_AND_SHADOW) {
        return bad_field(name, em, "is not indexed: thingIndexingMode is not REGISTRY_AND_SHADOW");
    }
    if (conn && !cfg->connectivity) {
        return bad_field(name, em, "is not indexed: thingConnectivityIndexingMode is not STATUS");
    }
    return FY_ERR_OK;
}

static fy_err resolve(const char *name,
                      enum fy_index_kind kind,
                      const struct fy_index_config *cfg,
                      struct fy_qfield *f,
                      struct fy_errmsg *em)
{
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
        if (fixed[i].index == kind && strcmp(fixed[i].name, name) == 0) {
            f->kind = fixed[i].kind;
            if (f->kind == FY_QF_SHADOW_HAS_DELTA || f->kind == FY_QF_SHADOW_VERSION) {
                f->shadow = fy_strdup("");
                return f->shadow ? FY_ERR_OK : FY_ERR_NOMEM;
            }
            return FY_ERR_OK;
        }
    }
    if (strncmp(name, "attributes.", 11) == 0) {
        return resolve_attr(name, name + 11,
                            kind == FY_INDEX_KIND_THINGS ? FY_QF_ATTRIBUTE : FY_QF_TG_ATTRIBUTE, f,
                            em);
    }
    if (kind == FY_INDEX_KIND_THINGS && strncmp(name, "shadow.", 7) == 0) {
        return resolve_shadow(name, name + 7, cfg, f, em);
    }
    return bad_field(name, em, "is not a searchable field");
}

fy_err fy_qfield_resolve(const char *name,
                         enum fy_index_kind kind,
                         const struct fy_index_config *cfg,
                         struct fy_qfield *out,
                         struct fy_errmsg *em)
{
    memset(out, 0, sizeof(*out));
    fy_err e = resolve(name, kind, cfg, out, em);
    if (!e && kind == FY_INDEX_KIND_THINGS) {
        e = check_indexed(name, out, cfg, em);
    }
    if (e) {
        fy_qfield_clear(out);
    }
    if (e == FY_ERR_NOMEM) {
        fy_errf(em, "Out of memory");
    }
    return e;
}
