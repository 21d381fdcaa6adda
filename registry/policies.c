#include "registry/policies.h"

#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/codec.h"
#include "core/fytime.h"
#include "registry/groups.h"

#define ROW_COLS                                                                                \
    "p.name, v.version, p.default_version, p.generation_id, p.creation_date, p.last_modified, " \
    "v.creation_date, v.document"
#define ROW_JOIN "policies p JOIN policy_versions v ON v.policy = p.id"
/* ARNs of a group and its ancestors, from a recursive CTE g(id); :r region, :a account. */
#define GROUP_ARNS                                                                                \
    "SELECT 'arn:aws:iot:' || :r || ':' || :a || ':thinggroup/' || tg.name FROM thing_groups tg " \
    "JOIN g ON tg.id = g.id WHERE tg.dynamic = 0"
#define ANCESTORS                                                                                \
    "UNION SELECT tg.parent FROM thing_groups tg JOIN g ON tg.id = g.id WHERE tg.parent IS NOT " \
    "NULL"

static const char SQL_POLICY[] = "SELECT id, next_version FROM policies WHERE name = ?";
static const char SQL_P_INSERT[] =
    "INSERT INTO policies(name, default_version, next_version, generation_id, creation_date, "
    "last_modified) VALUES (?, 1, 2, ?, ?, ?)";
static const char SQL_V_INSERT[] =
    "INSERT INTO policy_versions(policy, version, document, creation_date) VALUES (?, ?, ?, ?)";
static const char SQL_GET[] = "SELECT " ROW_COLS " FROM " ROW_JOIN " WHERE p.name = ?1 AND "
                              "v.version = CASE WHEN ?2 = 0 THEN p.default_version ELSE ?2 END";
static const char SQL_LIST_ASC[] =
    "SELECT " ROW_COLS " FROM " ROW_JOIN " AND v.version = p.default_version WHERE p.name > ? "
    "ORDER BY p.name LIMIT ?";
static const char SQL_LIST_DESC[] =
    "SELECT " ROW_COLS " FROM " ROW_JOIN " AND v.version = p.default_version WHERE p.name < ? "
    "ORDER BY p.name DESC LIMIT ?";
static const char SQL_ATTACH_COUNT[] = "SELECT count(*) FROM policy_attachments WHERE policy = ?";
static const char SQL_V_COUNT[] = "SELECT count(*) FROM policy_versions WHERE policy = ?";
static const char SQL_P_DELETE[] = "DELETE FROM policies WHERE id = ?";
static const char SQL_P_BUMP[] =
    "UPDATE policies SET next_version = next_version + 1, last_modified = ?2, generation_id = ?3, "
    "default_version = CASE WHEN ?4 THEN next_version ELSE default_version END WHERE id = ?1";
static const char SQL_V_LIST[] =
    "SELECT " ROW_COLS " FROM " ROW_JOIN " WHERE p.name = ? ORDER BY v.version DESC";
static const char SQL_SET_DEFAULT[] =
    "UPDATE policies SET default_version = ?2, last_modified = ?3, generation_id = ?4 "
    "WHERE id = ?1";
static const char SQL_V_EXISTS[] =
    "SELECT p.default_version FROM policy_versions v JOIN policies p ON p.id = v.policy "
    "WHERE v.policy = ? AND v.version = ?";
static const char SQL_V_DELETE[] = "DELETE FROM policy_versions WHERE policy = ? AND version = ?";
static const char SQL_ATTACH[] =
    "INSERT OR IGNORE INTO policy_attachments(policy, target, attached) VALUES (?, ?, ?)";
static const char SQL_TARGET_COUNT[] =
    "SELECT count(*), sum(policy = ?2) FROM policy_attachments WHERE target = ?1";
static const char SQL_DETACH[] = "DELETE FROM policy_attachments WHERE policy = ? AND target = ?";
static const char SQL_TARGETS[] = "SELECT target FROM policy_attachments WHERE policy = ? AND "
                                  "target > ? ORDER BY target LIMIT ?";
static const char SQL_CERT[] = "SELECT 1 FROM certificates WHERE cert_id = ?";
static const char SQL_GROUP[] = "SELECT dynamic FROM thing_groups WHERE name = ?";
static const char SQL_ATTACHED[] =
    "WITH RECURSIVE g(id) AS (SELECT id FROM thing_groups WHERE :rec AND name = :g " ANCESTORS
    ") SELECT DISTINCT " ROW_COLS " FROM " ROW_JOIN " AND v.version = p.default_version "
    "JOIN policy_attachments a ON a.policy = p.id WHERE (a.target = :t OR a.target IN "
    "(" GROUP_ARNS ")) AND p.name > :after ORDER BY p.name LIMIT :lim";
static const char SQL_EFFECTIVE[] =
    "WITH RECURSIVE g(id) AS (SELECT m.grp FROM thing_group_members m JOIN things t ON "
    "t.id = m.thing WHERE t.name = :thing " ANCESTORS ") SELECT DISTINCT " ROW_COLS
    " FROM " ROW_JOIN
    " AND v.version = p.default_version JOIN policy_attachments a ON a.policy = p.id "
    "WHERE a.target = :t OR a.target IN (" GROUP_ARNS ") ORDER BY p.name";

void fy_policy_row_clear(struct fy_policy_row *r)
{
    FY_FREE(r->document);
}

static fy_err read_row(sqlite3_stmt *st, struct fy_policy_row *r)
{
    memset(r, 0, sizeof(*r));
    snprintf(r->name, sizeof(r->name), "%s", fy_col_text(st, 0));
    r->version = sqlite3_column_int64(st, 1);
    r->default_version = sqlite3_column_int64(st, 2);
    snprintf(r->generation_id, sizeof(r->generation_id), "%s", fy_col_text(st, 3));
    r->creation_date = sqlite3_column_double(st, 4);
    r->last_modified = sqlite3_column_double(st, 5);
    r->version_date = sqlite3_column_double(st, 6);
    r->document = fy_strdup(fy_col_text(st, 7));
    return r->document ? FY_ERR_OK : FY_ERR_NOMEM;
}

/* Steps st, calling fn for at most limit rows (limit < 0: all); *more when one more exists. */
static fy_err each_row(struct fy_db *db,
                       sqlite3_stmt *st,
                       int64_t limit,
                       fy_policy_row_fn fn,
                       void *ctx,
                       bool *more,
                       struct fy_errmsg *em)
{
    struct fy_policy_row r;
    int64_t n = 0;
    int rc = SQLITE_DONE;
    fy_err e = FY_ERR_OK;
    if (more) {
        *more = false;
    }
    while (!e && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (limit >= 0 && n++ == limit) {
            *more = true;
            break;
        }
        e = read_row(st, &r);
        if (!e) {
            e = fn(ctx, &r);
        }
        fy_policy_row_clear(&r);
    }
    if (!e && rc != SQLITE_ROW && rc != SQLITE_DONE) {
        e = fy_db_err(db, rc, em);
    }
    fy_stmt_done(st);
    return e;
}

static fy_err
policy_id(struct fy_db *db, const char *name, int64_t *id, int64_t *next, struct fy_errmsg *em)
{
    sqlite3_stmt *st = fy_db_stmt(db, SQL_POLICY, em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    fy_bind_text(st, 1, name);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *id = sqlite3_column_int64(st, 0);
        if (next) {
            *next = sqlite3_column_int64(st, 1);
        }
    }
    fy_stmt_done(st);
    if (rc == SQLITE_DONE) {
        return fy_fail(em, FY_ERR_NOT_FOUND, "Policy not found: %.128s", name);
    }
    return rc == SQLITE_ROW ? FY_ERR_OK : fy_db_err(db, rc, em);
}

static int64_t count1(struct fy_db *db, const char *sql, int64_t id)
{
    sqlite3_stmt *st = fy_db_stmt(db, sql, NULL);
    if (!st) {
        return -1;
    }
    sqlite3_bind_int64(st, 1, id);
    int64_t n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    fy_stmt_done(st);
    return n;
}

static fy_err step(struct fy_db *db, sqlite3_stmt *st, struct fy_errmsg *em)
{
    int rc = sqlite3_step(st);
    fy_stmt_done(st);
    return rc == SQLITE_DONE ? FY_ERR_OK : fy_db_err(db, rc, em);
}

static fy_err
insert_version(struct fy_db *db, int64_t id, int64_t version, const char *doc, struct fy_errmsg *em)
{
    sqlite3_stmt *st = fy_db_stmt(db, SQL_V_INSERT, em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, version);
    fy_bind_text(st, 3, doc);
    sqlite3_bind_double(st, 4, fy_now());
    return step(db, st, em);
}

static fy_err generation(char out[FY_UUID_LEN + 1], struct fy_errmsg *em)
{
    return fy_uuid4(out) ? fy_fail(em, FY_ERR_INTERNAL, "random number generator failed")
                         : FY_ERR_OK;
}

static fy_err
create_locked(struct fy_db *db, const char *name, const char *doc, struct fy_errmsg *em)
{
    char gen[FY_UUID_LEN + 1];
    double now = fy_now();
    fy_err e = generation(gen, em);
    sqlite3_stmt *st = e ? NULL : fy_db_stmt(db, SQL_P_INSERT, em);
    if (!st) {
        return e ? e : FY_ERR_INTERNAL;
    }
    fy_bind_text(st, 1, name);
    fy_bind_text(st, 2, gen);
    sqlite3_bind_double(st, 3, now);
    sqlite3_bind_double(st, 4, now);
    e = step(db, st, em);
    if (e == FY_ERR_ALREADY_EXISTS) {
        return fy_fail(em, e, "Policy cannot be created - name already exists (name=%.128s)", name);
    }
    return e ? e : insert_version(db, sqlite3_last_insert_rowid(fy_db_handle(db)), 1, doc, em);
}

static fy_err create_and_get(struct fy_db *db,
                             const char *name,
                             const char *doc,
                             const char *arn,
                             const json_t *tags,
                             struct fy_policy_row *out,
                             struct fy_errmsg *em)
{
    fy_err e = create_locked(db, name, doc, em);
    if (!e && tags && json_array_size(tags) > 0) {
        e = fy_tags_put_locked(db, arn, tags, FY_ERR_LIMIT_EXCEEDED, em);
    }
    return e ? e : fy_policy_get(db, name, 1, out, em);
}

fy_err fy_policy_create(struct fy_db *db,
                        const char *name,
                        const char *document,
                        const char *arn,
                        const json_t *tags,
                        struct fy_policy_row *out,
                        struct fy_errmsg *em)
{
    FY_DB_RETURN_IN_CHANGE_TX(db, em, create_and_get(db, name, document, arn, tags, out, em));
}

fy_err fy_policy_get(struct fy_db *db,
                     const char *name,
                     int64_t version,
                     struct fy_policy_row *out,
                     struct fy_errmsg *em)
{
    int64_t id;
    memset(out, 0, sizeof(*out));
    fy_err e = policy_id(db, name, &id, NULL, em);
    sqlite3_stmt *st = e ? NULL : fy_db_stmt(db, SQL_GET, em);
    if (!st) {
        return e ? e : FY_ERR_INTERNAL;
    }
    fy_bind_text(st, 1, name);
    sqlite3_bind_int64(st, 2, version);
    int rc = sqlite3_step(st);
    e = rc == SQLITE_ROW ? read_row(st, out)
        : rc == SQLITE_DONE
            ? fy_fail(em, FY_ERR_NOT_FOUND, "Policy version %lld of %.128s not found",
                      (long long)version, name)
            : fy_db_err(db, rc, em);
    fy_stmt_done(st);
    return e;
}

fy_err fy_policy_list(struct fy_db *db,
                      bool ascending,
                      const char *after,
                      int64_t limit,
                      fy_policy_row_fn fn,
                      void *ctx,
                      bool *more,
                      struct fy_errmsg *em)
{
    sqlite3_stmt *st = fy_db_stmt(db, ascending ? SQL_LIST_ASC : SQL_LIST_DESC, em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    fy_bind_text(st, 1, after ? after : (ascending ? "" : "\x7f"));
    sqlite3_bind_int64(st, 2, limit + 1);
    return each_row(db, st, limit, fn, ctx, more, em);
}

static fy_err delete_locked(struct fy_db *db, const char *name, struct fy_errmsg *em)
{
    int64_t id;
    fy_err e = policy_id(db, name, &id, NULL, em);
    if (e) {
        return e;
    }
    if (count1(db, SQL_ATTACH_COUNT, id) != 0) {
        return fy_fail(em, FY_ERR_DELETE_CONFLICT,
                       "The policy cannot be deleted as the policy is attached to one or more "
                       "principals (name=%.128s)",
                       name);
    }
    if (count1(db, SQL_V_COUNT, id) > 1) {
        return fy_fail(em, FY_ERR_DELETE_CONFLICT,
                       "Cannot delete the policy because it has one or more policy versions "
                       "attached to it (name=%.128s)",
                       name);
    }
    sqlite3_stmt *st = fy_db_stmt(db, SQL_P_DELETE, em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    sqlite3_bind_int64(st, 1, id);
    return step(db, st, em);
}

fy_err fy_policy_delete(struct fy_db *db, const char *name, struct fy_errmsg *em)
{
    FY_DB_RETURN_IN_CHANGE_TX(db, em, delete_locked(db, name, em));
}

static fy_err version_create_locked(struct fy_db *db,
                                    const char *name,
                                    const char *doc,
                                    bool set_default,
                                    struct fy_policy_row *out,
                                    struct fy_errmsg *em)
{
    int64_t id, next;
    char gen[FY_UUID_LEN + 1];
    fy_err e = policy_id(db, name, &id, &next, em);
    if (!e && count1(db, SQL_V_COUNT, id) >= FY_POLICY_VERSIONS_MAX) {
        e = fy_fail(em, FY_ERR_VERSIONS_LIMIT,
                    "The policy %.128s already has the maximum number of versions (%d)", name,
                    FY_POLICY_VERSIONS_MAX);
    }
    if (!e) {
        e = generation(gen, em);
    }
    if (!e) {
        e = insert_version(db, id, next, doc, em);
    }
    sqlite3_stmt *st = e ? NULL : fy_db_stmt(db, SQL_P_BUMP, em);
    if (!st) {
        return e ? e : FY_ERR_INTERNAL;
    }
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_double(st, 2, fy_now());
    fy_bind_text(st, 3, gen);
    sqlite3_bind_int(st, 4, set_default);
    e = step(db, st, em);
    return e ? e : fy_policy_get(db, name, next, out, em);
}

fy_err fy_policy_version_create(struct fy_db *db,
                                const char *name,
                                const char *document,
                                bool set_default,
                                struct fy_policy_row *out,
                                struct fy_errmsg *em)
{
    FY_DB_RETURN_IN_CHANGE_TX(db, em,
                              version_create_locked(db, name, document, set_default, out, em));
}

fy_err fy_policy_version_list(
    struct fy_db *db, const char *name, fy_policy_row_fn fn, void *ctx, struct fy_errmsg *em)
{
    int64_t id;
    fy_err e = policy_id(db, name, &id, NULL, em);
    sqlite3_stmt *st = e ? NULL : fy_db_stmt(db, SQL_V_LIST, em);
    if (!st) {
        return e ? e : FY_ERR_INTERNAL;
    }
    fy_bind_text(st, 1, name);
    return each_row(db, st, -1, fn, ctx, NULL, em);
}

/* Looks up a version; *is_default tells whether it is the policy's default. */
static fy_err version_exists(struct fy_db *db,
                             const char *name,
                             int64_t version,
                             int64_t *id,
                             bool *is_default,
                             struct fy_errmsg *em)
{
    fy_err e = policy_id(db, name, id, NULL, em);
    sqlite3_stmt *st = e ? NULL : fy_db_stmt(db, SQL_V_EXISTS, em);
    if (!st) {
        return e ? e : FY_ERR_INTERNAL;
    }
    sqlite3_bind_int64(st, 1, *id);
    sqlite3_bind_int64(st, 2, version);
    int rc = sqlite3_step(st);
    *is_default = rc == SQLITE_ROW && sqlite3_column_int64(st, 0) == version;
    fy_stmt_done(st);
    if (rc == SQLITE_DONE) {
        return fy_fail(em, FY_ERR_NOT_FOUND, "Policy version %lld of %.128s not found",
                       (long long)version, name);
    }
    return rc == SQLITE_ROW ? FY_ERR_OK : fy_db_err(db, rc, em);
}

static fy_err
set_default_locked(struct fy_db *db, const char *name, int64_t version, struct fy_errmsg *em)
{
    int64_t id;
    bool is_default;
    char gen[FY_UUID_LEN + 1];
    fy_err e = version_exists(db, name, version, &id, &is_default, em);
    if (!e) {
        e = generation(gen, em);
    }
    sqlite3_stmt *st = e ? NULL : fy_db_stmt(db, SQL_SET_DEFAULT, em);
    if (!st) {
        return e ? e : FY_ERR_INTERNAL;
    }
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, version);
    sqlite3_bind_double(st, 3, fy_now());
    fy_bind_text(st, 4, gen);
    return step(db, st, em);
}

fy_err fy_policy_version_set_default(struct fy_db *db,
                                     const char *name,
                                     int64_t version,
                                     struct fy_errmsg *em)
{
    FY_DB_RETURN_IN_CHANGE_TX(db, em, set_default_locked(db, name, version, em));
}

static fy_err
version_delete_locked(struct fy_db *db, const char *name, int64_t version, struct fy_errmsg *em)
{
    int64_t id;
    bool is_default;
    fy_err e = version_exists(db, name, version, &id, &is_default, em);
    if (!e && is_default) {
        e = fy_fail(em, FY_ERR_DELETE_CONFLICT,
                    "Cannot delete the default version of a policy (name=%.128s, version=%lld)",
                    name, (long long)version);
    }
    sqlite3_stmt *st = e ? NULL : fy_db_stmt(db, SQL_V_DELETE, em);
    if (!st) {
        return e ? e : FY_ERR_INTERNAL;
    }
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, version);
    return step(db, st, em);
}

fy_err
fy_policy_version_delete(struct fy_db *db, const char *name, int64_t version, struct fy_errmsg *em)
{
    FY_DB_RETURN_IN_CHANGE_TX(db, em, version_delete_locked(db, name, version, em));
}

static int bind_named_text(sqlite3_stmt *st, const char *name, const char *v)
{
    int idx = sqlite3_bind_parameter_index(st, name);
    return idx ? fy_bind_text(st, idx, v) : SQLITE_OK;
}

/* Checks an attachment target; *group_limit tells which per-target limit applies. */
static fy_err check_target(struct fy_db *db,
                           const struct fy_site *site,
                           const char *target,
                           bool *is_group,
                           struct fy_errmsg *em)
{
    struct fy_arn a;
    if (fy_arn_parse(target, &a, NULL) != FY_ERR_OK ||
        (strcmp(a.type, "cert") != 0 && strcmp(a.type, "thinggroup") != 0)) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST,
                       "Invalid target %.200s: a certificate ARN or a thing group ARN is expected",
                       target);
    }
    *is_group = strcmp(a.type, "thinggroup") == 0;
    sqlite3_stmt *st = fy_db_stmt(db, *is_group ? SQL_GROUP : SQL_CERT, em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    fy_bind_text(st, 1, a.resource);
    int rc = sqlite3_step(st);
    bool dynamic = *is_group && rc == SQLITE_ROW && sqlite3_column_int(st, 0) != 0;
    fy_stmt_done(st);
    if (rc == SQLITE_DONE || strcmp(a.region, site->region) != 0 ||
        strcmp(a.account, site->account) != 0) {
        return fy_fail(em, FY_ERR_NOT_FOUND, "Target %.200s does not exist", target);
    }
    if (dynamic) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST,
                       "Policies cannot be attached to a dynamic thing group");
    }
    return rc == SQLITE_ROW ? FY_ERR_OK : fy_db_err(db, rc, em);
}

static fy_err attach_locked(struct fy_db *db,
                            const struct fy_site *site,
                            const char *name,
                            const char *target,
                            struct fy_errmsg *em)
{
    int64_t id;
    bool is_group;
    fy_err e = policy_id(db, name, &id, NULL, em);
    if (!e) {
        e = check_target(db, site, target, &is_group, em);
    }
    sqlite3_stmt *st = e ? NULL : fy_db_stmt(db, SQL_TARGET_COUNT, em);
    if (!st) {
        return e ? e : FY_ERR_INTERNAL;
    }
    fy_bind_text(st, 1, target);
    sqlite3_bind_int64(st, 2, id);
    int64_t n = -1, already = 0;
    if (sqlite3_step(st) == SQLITE_ROW) {
        n = sqlite3_column_int64(st, 0);
        already = sqlite3_column_int64(st, 1);
    }
    fy_stmt_done(st);
    int max = is_group ? FY_POLICIES_PER_GROUP_MAX : FY_POLICIES_PER_CERT_MAX;
    if (!already && n >= max) {
        return fy_fail(em, FY_ERR_LIMIT_EXCEEDED,
                       "%.200s already has the maximum number of attached policies (%d)", target,
                       max);
    }
    st = fy_db_stmt(db, SQL_ATTACH, em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    sqlite3_bind_int64(st, 1, id);
    fy_bind_text(st, 2, target);
    sqlite3_bind_double(st, 3, fy_now());
    return step(db, st, em);
}

fy_err fy_policy_attach(struct fy_db *db,
                        const struct fy_site *site,
                        const char *name,
                        const char *target,
                        struct fy_errmsg *em)
{
    FY_DB_RETURN_IN_CHANGE_TX(db, em, attach_locked(db, site, name, target, em));
}

fy_err
fy_policy_detach(struct fy_db *db, const char *name, const char *target, struct fy_errmsg *em)
{
    int64_t id = 0;
    fy_err e = policy_id(db, name, &id, NULL, em);
    sqlite3_stmt *st = e ? NULL : fy_db_stmt(db, SQL_DETACH, em);
    if (!st) {
        return e ? e : FY_ERR_INTERNAL;
    }
    sqlite3_bind_int64(st, 1, id);
    fy_bind_text(st, 2, target);
    return step(db, st, em);
}

fy_err fy_policy_targets(struct fy_db *db,
                         const char *name,
                         const char *after,
                         int64_t limit,
                         fy_policy_target_fn fn,
                         void *ctx,
                         bool *more,
                         struct fy_errmsg *em)
{
    int64_t id, n = 0;
    int rc = SQLITE_DONE;
    fy_err e = policy_id(db, name, &id, NULL, em);
    sqlite3_stmt *st = e ? NULL : fy_db_stmt(db, SQL_TARGETS, em);
    if (!st) {
        return e ? e : FY_ERR_INTERNAL;
    }
    sqlite3_bind_int64(st, 1, id);
    fy_bind_text(st, 2, after ? after : "");
    sqlite3_bind_int64(st, 3, limit + 1);
    *more = false;
    while (!e && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n++ == limit) {
            *more = true;
            break;
        }
        e = fn(ctx, fy_col_text(st, 0));
    }
    if (!e && rc != SQLITE_ROW && rc != SQLITE_DONE) {
        e = fy_db_err(db, rc, em);
    }
    fy_stmt_done(st);
    return e;
}

static void bind_site(sqlite3_stmt *st, const struct fy_site *site)
{
    bind_named_text(st, ":r", site->region);
    bind_named_text(st, ":a", site->account);
}

fy_err fy_policy_attached(struct fy_db *db,
                          const struct fy_site *site,
                          const char *target,
                          bool recursive,
                          const char *after,
                          int64_t limit,
                          fy_policy_row_fn fn,
                          void *ctx,
                          bool *more,
                          struct fy_errmsg *em)
{
    struct fy_arn a;
    bool group = fy_arn_parse(target, &a, NULL) == FY_ERR_OK && strcmp(a.type, "thinggroup") == 0;
    sqlite3_stmt *st = fy_db_stmt(db, SQL_ATTACHED, em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    bind_site(st, site);
    sqlite3_bind_int(st, sqlite3_bind_parameter_index(st, ":rec"), group && recursive);
    bind_named_text(st, ":g", group ? a.resource : "");
    bind_named_text(st, ":t", target);
    bind_named_text(st, ":after", after ? after : "");
    sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, ":lim"), limit + 1);
    return each_row(db, st, limit, fn, ctx, more, em);
}

fy_err fy_policy_effective(struct fy_db *db,
                           const struct fy_site *site,
                           const char *cert_arn,
                           const char *thing_name,
                           fy_policy_row_fn fn,
                           void *ctx,
                           struct fy_errmsg *em)
{
    sqlite3_stmt *st = fy_db_stmt(db, SQL_EFFECTIVE, em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    bind_site(st, site);
    bind_named_text(st, ":thing", thing_name ? thing_name : "");
    bind_named_text(st, ":t", cert_arn ? cert_arn : "");
    return each_row(db, st, -1, fn, ctx, NULL, em);
}
