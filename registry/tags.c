/* Resource tags: validation, TagResource, UntagResource, ListTagsForResource. */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "core/codec.h"
#include "core/names.h"
#include "registry/groups.h"
#include "registry/groups_int.h"

static const char SQL_GROUP_EXISTS[] = "SELECT 1 FROM thing_groups WHERE name = ?";
static const char SQL_TYPE_EXISTS[] = "SELECT 1 FROM thing_types WHERE name = ?";
static const char SQL_POLICY_EXISTS[] = "SELECT 1 FROM policies WHERE name = ?";
static const char SQL_CA_EXISTS[] = "SELECT 1 FROM ca_certificates WHERE cert_id = ?";
static const char SQL_JOB_EXISTS[] = "SELECT 1 FROM jobs WHERE job_id = ?1";
static const char SQL_TEMPLATE_EXISTS[] = "SELECT 1 FROM job_templates WHERE template_id = ?1";
static const char SQL_PUT[] = "INSERT INTO tags(arn, key, value) VALUES (?, ?, ?) "
                              "ON CONFLICT(arn, key) DO UPDATE SET value = excluded.value";
static const char SQL_COUNT[] = "SELECT count(*) FROM tags WHERE arn = ?";
static const char SQL_DELETE[] = "DELETE FROM tags WHERE arn = ? AND key = ?";
static const char SQL_LIST[] =
    "SELECT key, value FROM tags WHERE arn = ?1 AND key > ?2 ORDER BY key LIMIT ?3";

/* A CA certificate id: 64 hex digits (SHA-256 of the DER). */
static bool valid_cert_id(const char *s)
{
    size_t n = 0;
    while (isxdigit((unsigned char)s[n])) {
        n++;
    }
    return n == 2 * FY_SHA256_LEN && s[n] == '\0';
}

/* Resource types that take tags (AWS also tags rules, billing groups... which fleetyard does
 * not have yet), and how to tell that one exists. Things take no tags in AWS IoT. */
static const struct {
    const char *type;
    const char *exists_sql;
    bool (*valid)(const char *name);
} taggable[] = {
    {"thinggroup", SQL_GROUP_EXISTS, fy_valid_thing_name},
    {"thingtype", SQL_TYPE_EXISTS, fy_valid_thing_name},
    {"policy", SQL_POLICY_EXISTS, fy_valid_policy_name},
    {"cacert", SQL_CA_EXISTS, valid_cert_id},
    {"job", SQL_JOB_EXISTS, fy_valid_job_id},
    {"jobtemplate", SQL_TEMPLATE_EXISTS, fy_valid_job_id},
};

/* Characters (code points) of a UTF-8 string. */
static size_t utf8_len(const char *s)
{
    size_t n = 0;
    for (; *s; s++) {
        n += ((unsigned char)*s & 0xC0) != 0x80;
    }
    return n;
}

/* Key pattern ^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$: ASCII letters, digits, space and the symbols;
 * any non-ASCII character is taken as a letter, number or separator. */
static bool key_chars_ok(const char *k)
{
    for (const unsigned char *p = (const unsigned char *)k; *p; p++) {
        if (*p < 0x80 && !isalnum(*p) && !strchr(" _.:/=+-@", *p)) {
            return false;
        }
    }
    return true;
}

static fy_err check_key(const char *k, struct fy_errmsg *em)
{
    size_t n = utf8_len(k);
    if (n < 1 || n > FY_TAG_KEY_MAX || !key_chars_ok(k)) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST,
                       "Tag key '%.128s' must be 1 to %d letters, digits, spaces or _.:/=+-@", k,
                       FY_TAG_KEY_MAX);
    }
    if (strncasecmp(k, FY_TAG_RESERVED_PREFIX, strlen(FY_TAG_RESERVED_PREFIX)) == 0) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST,
                       "Tag keys starting with '" FY_TAG_RESERVED_PREFIX "' are reserved: %.128s",
                       k);
    }
    return FY_ERR_OK;
}

static fy_err check_value(const char *k, const char *v, struct fy_errmsg *em)
{
    bool ok = utf8_len(v) <= FY_TAG_VALUE_MAX;
    for (const unsigned char *p = (const unsigned char *)v; ok && *p; p++) {
        ok = *p >= 0x20 && *p != 0x7F;
    }
    return ok ? FY_ERR_OK
              : fy_fail(em, FY_ERR_INVALID_REQUEST,
                        "The value of tag '%.128s' must be at most %d printable characters", k,
                        FY_TAG_VALUE_MAX);
}

/* Unpacks one {"Key": k, "Value": v?} element. */
static fy_err unpack_tag(const json_t *j, const char **k, const char **v, struct fy_errmsg *em)
{
    json_error_t err;
    *v = "";
    if (json_unpack_ex((json_t *)j, &err, 0, "{s:s, s?s !}", "Key", k, "Value", v) != 0) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST,
                       "Each tag must be {\"Key\": string, \"Value\": string}: %.200s", err.text);
    }
    return FY_ERR_OK;
}

fy_err fy_tags_check(const json_t *j_tags, struct fy_errmsg *em)
{
    size_t i;
    json_t *item;
    const char *k, *v;
    if (!json_is_array(j_tags)) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST, "tags must be a list of {Key, Value}");
    }
    if (json_array_size(j_tags) > FY_TAGS_PER_RESOURCE_MAX) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST, "A resource can have at most %d tags",
                       FY_TAGS_PER_RESOURCE_MAX);
    }
    json_array_foreach ((json_t *)j_tags, i, item) {
        fy_err e = unpack_tag(item, &k, &v, em);
        if (!e) {
            e = check_key(k, em);
        }
        if (!e) {
            e = check_value(k, v, em);
        }
        if (e) {
            return e;
        }
    }
    return FY_ERR_OK;
}

/* Steps a statement bound with (arn, s) to completion. */
static fy_err exec_pair(struct fy_db *db,
                        const char *sql,
                        const char *arn,
                        const char *s,
                        const char *s2,
                        struct fy_errmsg *em)
{
    sqlite3_stmt *st = fy_db_stmt(db, sql, em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    fy_bind_text(st, 1, arn);
    fy_bind_text(st, 2, s);
    if (s2) {
        fy_bind_text(st, 3, s2);
    }
    int rc = sqlite3_step(st);
    fy_stmt_done(st);
    return rc == SQLITE_DONE ? FY_ERR_OK : fy_db_err(db, rc, em);
}

fy_err fy_tags_put_locked(struct fy_db *db,
                          const char *arn,
                          const json_t *j_tags,
                          fy_err over_limit,
                          struct fy_errmsg *em)
{
    size_t i;
    json_t *item;
    const char *k, *v;
    fy_err e = FY_ERR_OK;
    json_array_foreach ((json_t *)j_tags, i, item) {
        e = unpack_tag(item, &k, &v, em);
        if (!e) {
            e = exec_pair(db, SQL_PUT, arn, k, v, em);
        }
        if (e) {
            return e;
        }
    }
    sqlite3_stmt *st = fy_db_stmt(db, SQL_COUNT, em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    fy_bind_text(st, 1, arn);
    int rc = sqlite3_step(st);
    int64_t n = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    fy_stmt_done(st);
    if (rc != SQLITE_ROW) {
        return fy_db_err(db, rc, em);
    }
    if (n > FY_TAGS_PER_RESOURCE_MAX) {
        return fy_fail(em, over_limit, "A resource can have at most %d tags (this would make %lld)",
                       FY_TAGS_PER_RESOURCE_MAX, (long long)n);
    }
    return FY_ERR_OK;
}

/* Whether the named resource row exists. */
static fy_err resource_exists(
    struct fy_db *db, const char *sql, const char *name, const char *arn, struct fy_errmsg *em)
{
    sqlite3_stmt *st = fy_db_stmt(db, sql, em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    fy_bind_text(st, 1, name);
    int rc = sqlite3_step(st);
    fy_stmt_done(st);
    if (rc == SQLITE_DONE) {
        return fy_fail(em, FY_ERR_NOT_FOUND, "The resource %.256s does not exist", arn);
    }
    return rc == SQLITE_ROW ? FY_ERR_OK : fy_db_err(db, rc, em);
}

/* Checks that arn names an existing taggable resource of this site; canon receives the ARN the
 * tag rows are keyed by. */
static fy_err resolve(struct fy_db *db,
                      const struct fy_site *site,
                      const char *arn,
                      char canon[FY_ARN_MAX + 1],
                      struct fy_errmsg *em)
{
    struct fy_arn a;
    size_t t = 0;
    if (!arn || fy_arn_parse(arn, &a, em) != FY_ERR_OK || strcmp(a.partition, "aws") != 0 ||
        strcmp(a.service, "iot") != 0) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST, "Invalid resource ARN: %.256s", arn ? arn : "");
    }
    while (t < sizeof(taggable) / sizeof(taggable[0]) && strcmp(taggable[t].type, a.type) != 0) {
        t++;
    }
    if (t == sizeof(taggable) / sizeof(taggable[0])) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST,
                       "Resources of type %.64s cannot be tagged (taggable here: thinggroup, "
                       "thingtype, policy, cacert, job, jobtemplate)",
                       a.type);
    }
    if (!taggable[t].valid(a.resource)) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST, "Invalid resource ARN: %.256s", arn);
    }
    if (strcmp(a.region, site->region) != 0 || strcmp(a.account, site->account) != 0) {
        return fy_fail(em, FY_ERR_NOT_FOUND, "The resource %.256s does not exist", arn);
    }
    fy_arn_fmt(canon, FY_ARN_MAX + 1, site, a.type, a.resource);
    return resource_exists(db, taggable[t].exists_sql, a.resource, arn, em);
}

struct tag_args {
    const struct fy_site *site;
    const char *arn;
    const json_t *j;
};

static fy_err tag_locked(struct fy_db *db, void *arg, struct fy_errmsg *em)
{
    struct tag_args *a = arg;
    char canon[FY_ARN_MAX + 1];
    fy_err e = resolve(db, a->site, a->arn, canon, em);
    return e ? e : fy_tags_put_locked(db, canon, a->j, FY_ERR_LIMIT_EXCEEDED, em);
}

fy_err fy_tag_resource(struct fy_db *db,
                       const struct fy_site *site,
                       const char *arn,
                       const json_t *j_tags,
                       struct fy_errmsg *em)
{
    fy_err e = fy_tags_check(j_tags, em);
    if (e) {
        return e;
    }
    struct tag_args a = {site, arn, j_tags};
    return fy_reg_in_tx(db, tag_locked, &a, em);
}

static fy_err untag_locked(struct fy_db *db, void *arg, struct fy_errmsg *em)
{
    struct tag_args *a = arg;
    char canon[FY_ARN_MAX + 1];
    size_t i;
    json_t *item;
    fy_err e = resolve(db, a->site, a->arn, canon, em);
    json_array_foreach ((json_t *)a->j, i, item) {
        if (!e) {
            e = exec_pair(db, SQL_DELETE, canon, json_string_value(item), NULL, em);
        }
    }
    return e;
}

fy_err fy_untag_resource(struct fy_db *db,
                         const struct fy_site *site,
                         const char *arn,
                         const json_t *j_keys,
                         struct fy_errmsg *em)
{
    size_t i;
    json_t *item;
    if (!json_is_array(j_keys)) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST, "tagKeys must be a list of strings");
    }
    json_array_foreach ((json_t *)j_keys, i, item) {
        if (!json_is_string(item)) {
            return fy_fail(em, FY_ERR_INVALID_REQUEST, "tagKeys must be a list of strings");
        }
        fy_err e = check_key(json_string_value(item), em);
        if (e) {
            return e;
        }
    }
    struct tag_args a = {site, arn, j_keys};
    return fy_reg_in_tx(db, untag_locked, &a, em);
}

fy_err fy_tags_list(struct fy_db *db,
                    const struct fy_site *site,
                    const char *arn,
                    const char *after,
                    int64_t limit,
                    fy_tag_row_fn fn,
                    void *ctx,
                    bool *more,
                    struct fy_errmsg *em)
{
    char canon[FY_ARN_MAX + 1];
    *more = false;
    fy_err e = resolve(db, site, arn, canon, em);
    if (e) {
        return e;
    }
    sqlite3_stmt *st = fy_db_stmt(db, SQL_LIST, em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    fy_bind_text(st, 1, canon);
    fy_bind_text(st, 2, after ? after : "");
    return fy_reg_listing(db, st, 3, limit, fn, ctx, more, em);
}
