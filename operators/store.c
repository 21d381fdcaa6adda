/* Operator key management: the statements behind `fleetyard-server keys`, one short
 * transaction each (the server may be running on the same database). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "core/alloc.h"
#include "core/fytime.h"
#include "core/names.h"
#include "operators/operators.h"
#include "policy/policy.h"

static const char SQL_COUNT[] = "SELECT count(*) FROM operator_keys";
static const char SQL_INSERT[] = "INSERT INTO operator_keys(access_key_id, secret, name, "
                                 "description, status, created) VALUES (?, ?, ?, ?, 'Active', ?)";
static const char SQL_KEYS[] =
    "SELECT access_key_id, name, description, status, created, rotated FROM operator_keys "
    "WHERE ?1 IS NULL OR access_key_id = ?1 ORDER BY name";
static const char SQL_POLICIES[] = "SELECT policy_name, document FROM operator_key_policies "
                                   "WHERE access_key_id = ? ORDER BY policy_name";
static const char SQL_STATUS[] = "UPDATE operator_keys SET status = ? WHERE access_key_id = ?";
static const char SQL_ROTATE[] =
    "UPDATE operator_keys SET secret = ?, rotated = ? WHERE access_key_id = ?";
static const char SQL_EXISTS[] = "SELECT 1 FROM operator_keys WHERE access_key_id = ?";
static const char SQL_NPOLICIES[] = "SELECT count(*) FROM operator_key_policies WHERE "
                                    "access_key_id = ? AND policy_name <> ?";
static const char SQL_PUT_POLICY[] =
    "INSERT INTO operator_key_policies(access_key_id, policy_name, document, attached) "
    "VALUES (?, ?, ?, ?) ON CONFLICT(access_key_id, policy_name) DO UPDATE SET "
    "document = excluded.document, attached = excluded.attached";
static const char SQL_DEL_POLICY[] =
    "DELETE FROM operator_key_policies WHERE access_key_id = ? AND policy_name = ?";
static const char SQL_DELETE[] = "DELETE FROM operator_keys WHERE access_key_id = ?";

#define KEY_ID_ALPHABET "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
#define SECRET_ALPHABET "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

/* Fills out[0..n) with random characters of alphabet (64 characters or a divisor of 256, so
 * the modulo keeps them uniform) and terminates it. */
static bool random_text(char *out, size_t n, const char *alphabet)
{
    unsigned char r[64];
    size_t alen = strlen(alphabet);
    if (n > sizeof(r) || RAND_bytes(r, (int)n) != 1) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        out[i] = alphabet[r[i] % alen];
    }
    out[n] = '\0';
    return true;
}

fy_err fy_operator_new_key(char *id, char *secret, struct fy_errmsg *em)
{
    memcpy(id, "AKIA", 4);
    if (!random_text(id + 4, FY_OPERATOR_KEY_ID_LEN - 4, KEY_ID_ALPHABET) ||
        !random_text(secret, FY_OPERATOR_SECRET_LEN, SECRET_ALPHABET)) {
        return fy_fail(em, FY_ERR_INTERNAL, "random number generator failed");
    }
    return FY_ERR_OK;
}

bool fy_operator_valid_name(const char *s)
{
    return s && strlen(s) <= FY_OPERATOR_NAME_MAX && fy_valid_policy_name(s);
}

/* ISO 8601 UTC text of epoch ms, as the aws CLI prints dates. */
static json_t *date_to_json(int64_t ms)
{
    char buf[32];
    struct tm tm;
    time_t t = (time_t)(ms / 1000);
    gmtime_r(&t, &tm);
    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
    return json_string(buf);
}

static fy_err no_key(const char *key_id, struct fy_errmsg *em)
{
    return fy_fail(em, FY_ERR_NOT_FOUND, "The access key %.64s does not exist",
                   key_id ? key_id : "");
}

/* Steps a statement that returns nothing; maps failures. */
static fy_err step_done(struct fy_db *db, sqlite3_stmt *st, struct fy_errmsg *em)
{
    int rc = sqlite3_step(st);
    fy_stmt_done(st);
    return rc == SQLITE_DONE ? FY_ERR_OK : fy_db_err(db, rc, em);
}

static fy_err count_rows(struct fy_db *db,
                         const char *sql,
                         const char *a,
                         const char *b,
                         int64_t *n,
                         struct fy_errmsg *em)
{
    sqlite3_stmt *st = fy_db_stmt(db, sql, em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    if (a) {
        fy_bind_text(st, 1, a);
        fy_bind_text(st, 2, b);
    }
    int rc = sqlite3_step(st);
    *n = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    fy_stmt_done(st);
    return rc == SQLITE_ROW ? FY_ERR_OK : fy_db_err(db, rc, em);
}

static fy_err require_key(struct fy_db *db, const char *key_id, struct fy_errmsg *em)
{
    sqlite3_stmt *st = fy_db_stmt(db, SQL_EXISTS, em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    fy_bind_text(st, 1, key_id);
    int rc = sqlite3_step(st);
    fy_stmt_done(st);
    if (rc == SQLITE_ROW) {
        return FY_ERR_OK;
    }
    if (rc != SQLITE_DONE) {
        return fy_db_err(db, rc, em);
    }
    return no_key(key_id, em);
}

/* The policy's name and document are acceptable (the document compiles). */
static fy_err check_policy(const char *policy_name, const char *doc, struct fy_errmsg *em)
{
    struct fy_policy *p = NULL;
    if (!fy_valid_policy_name(policy_name)) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST,
                       "Invalid policy name '%.128s': 1-128 characters of [\\w+=,.@-]",
                       policy_name ? policy_name : "");
    }
    fy_err e = fy_policy_compile(doc, strlen(doc), &p, em);
    fy_policy_free(p);
    return e;
}

static fy_err put_policy_tx(struct fy_db *db,
                            const char *key_id,
                            const char *policy_name,
                            const char *doc,
                            struct fy_errmsg *em)
{
    int64_t n = 0;
    fy_err e = require_key(db, key_id, em);
    e = e ? e : count_rows(db, SQL_NPOLICIES, key_id, policy_name, &n, em);
    if (!e && n >= FY_OPERATOR_POLICIES_MAX) {
        e = fy_fail(em, FY_ERR_LIMIT_EXCEEDED, "A key has at most %d policies",
                    FY_OPERATOR_POLICIES_MAX);
    }
    sqlite3_stmt *st = e ? NULL : fy_db_stmt(db, SQL_PUT_POLICY, em);
    if (e || !st) {
        return e ? e : FY_ERR_INTERNAL;
    }
    fy_bind_text(st, 1, key_id);
    fy_bind_text(st, 2, policy_name);
    fy_bind_text(st, 3, doc);
    sqlite3_bind_int64(st, 4, fy_now_ms());
    return step_done(db, st, em);
}

fy_err fy_operator_put_policy(struct fy_db *db,
                              const char *key_id,
                              const char *policy_name,
                              const char *doc,
                              struct fy_errmsg *em)
{
    fy_err e = check_policy(policy_name, doc, em);
    if (e) {
        return e;
    }
    FY_DB_RETURN_IN_TX(db, em, put_policy_tx(db, key_id, policy_name, doc, em));
}

struct new_key {
    const char *name, *desc, *policy_name, *doc;
    char id[FY_OPERATOR_KEY_ID_LEN + 1];
    char secret[FY_OPERATOR_SECRET_LEN + 1];
    int64_t now;
};

static fy_err create_tx(struct fy_db *db, struct new_key *k, struct fy_errmsg *em)
{
    int64_t n = 0;
    fy_err e = count_rows(db, SQL_COUNT, NULL, NULL, &n, em);
    if (!e && n >= FY_OPERATOR_KEYS_MAX) {
        e = fy_fail(em, FY_ERR_LIMIT_EXCEEDED, "At most %d operator keys", FY_OPERATOR_KEYS_MAX);
    }
    sqlite3_stmt *st = e ? NULL : fy_db_stmt(db, SQL_INSERT, em);
    if (e || !st) {
        return e ? e : FY_ERR_INTERNAL;
    }
    fy_bind_text(st, 1, k->id);
    fy_bind_text(st, 2, k->secret);
    fy_bind_text(st, 3, k->name);
    fy_bind_text(st, 4, k->desc ? k->desc : "");
    sqlite3_bind_int64(st, 5, k->now);
    e = step_done(db, st, em);
    if (e == FY_ERR_ALREADY_EXISTS) {
        return fy_fail(em, e, "A key named %.64s already exists", k->name);
    }
    return e || !k->doc ? e : put_policy_tx(db, k->id, k->policy_name, k->doc, em);
}

static fy_err create_in_tx(struct fy_db *db, struct new_key *k, struct fy_errmsg *em)
{
    FY_DB_RETURN_IN_TX(db, em, create_tx(db, k, em));
}

fy_err fy_operator_create(struct fy_db *db,
                          const char *name,
                          const char *desc,
                          const char *policy_name,
                          const char *doc,
                          json_t **out,
                          struct fy_errmsg *em)
{
    struct new_key k = {name, desc, policy_name, doc, "", "", fy_now_ms()};
    *out = NULL;
    if (!fy_operator_valid_name(name)) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST,
                       "Invalid key name '%.128s': 1-%d characters of [\\w+=,.@-]",
                       name ? name : "", FY_OPERATOR_NAME_MAX);
    }
    if (desc && (strlen(desc) > FY_OPERATOR_DESCRIPTION_MAX || !fy_valid_description(desc))) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST,
                       "The description must be printable text of at most %d bytes",
                       FY_OPERATOR_DESCRIPTION_MAX);
    }
    fy_err e = doc ? check_policy(policy_name, doc, em) : FY_ERR_OK;
    e = e ? e : fy_operator_new_key(k.id, k.secret, em);
    e = e ? e : create_in_tx(db, &k, em);
    if (!e) {
        *out = json_pack("{s:{s:s, s:s, s:s, s:s, s:o, s:s}}", "AccessKey", "UserName", name,
                         "AccessKeyId", k.id, "SecretAccessKey", k.secret, "Status", "Active",
                         "CreateDate", date_to_json(k.now), "Description", desc ? desc : "");
        e = *out ? FY_ERR_OK : fy_fail(em, FY_ERR_NOMEM, "Out of memory");
    }
    memset(k.secret, 0, sizeof(k.secret));
    return e;
}

/* Appends the key's policy names (documents too when full) to j_key. */
static fy_err
add_policies(struct fy_db *db, const char *key_id, bool full, json_t *j_key, struct fy_errmsg *em)
{
    sqlite3_stmt *st = fy_db_stmt(db, SQL_POLICIES, em);
    json_t *j_list = json_array();
    if (!st || !j_list || json_object_set_new(j_key, full ? "Policies" : "PolicyNames", j_list)) {
        fy_stmt_done(st);
        return st ? fy_fail(em, FY_ERR_NOMEM, "Out of memory") : FY_ERR_INTERNAL;
    }
    fy_bind_text(st, 1, key_id);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *j = full ? json_pack("{s:s, s:s}", "PolicyName", fy_col_text(st, 0),
                                     "PolicyDocument", fy_col_text(st, 1))
                         : json_string(fy_col_text(st, 0));
        if (json_array_append_new(j_list, j) != 0) {
            fy_stmt_done(st);
            return fy_fail(em, FY_ERR_NOMEM, "Out of memory");
        }
    }
    fy_stmt_done(st);
    return rc == SQLITE_DONE ? FY_ERR_OK : fy_db_err(db, rc, em);
}

static json_t *key_row_to_json(sqlite3_stmt *st)
{
    json_t *j =
        json_pack("{s:s, s:s, s:s, s:s, s:o}", "AccessKeyId", fy_col_text(st, 0), "UserName",
                  fy_col_text(st, 1), "Description", fy_col_text(st, 2), "Status",
                  fy_col_text(st, 3), "CreateDate", date_to_json(sqlite3_column_int64(st, 4)));
    if (j && sqlite3_column_type(st, 5) != SQLITE_NULL &&
        json_object_set_new(j, "LastRotatedDate", date_to_json(sqlite3_column_int64(st, 5))) != 0) {
        json_decref(j); /* keys_tx answers Out of memory */
        j = NULL;
    }
    return j;
}

/* Keys (all when key_id is NULL) into j_keys, with their policies. */
static fy_err
keys_tx(struct fy_db *db, const char *key_id, bool full, json_t *j_keys, struct fy_errmsg *em)
{
    sqlite3_stmt *st = fy_db_stmt(db, SQL_KEYS, em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    fy_bind_text(st, 1, key_id);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (json_array_append_new(j_keys, key_row_to_json(st)) != 0) {
            fy_stmt_done(st);
            return fy_fail(em, FY_ERR_NOMEM, "Out of memory");
        }
    }
    fy_stmt_done(st);
    if (rc != SQLITE_DONE) {
        return fy_db_err(db, rc, em);
    }
    for (size_t i = 0; i < json_array_size(j_keys); i++) {
        json_t *j = json_array_get(j_keys, i);
        fy_err e =
            add_policies(db, json_string_value(json_object_get(j, "AccessKeyId")), full, j, em);
        if (e) {
            return e;
        }
    }
    return FY_ERR_OK;
}

static fy_err
read_keys(struct fy_db *db, const char *key_id, bool full, json_t *j_keys, struct fy_errmsg *em)
{
    FY_DB_RETURN_IN_TX(db, em, keys_tx(db, key_id, full, j_keys, em));
}

fy_err fy_operator_list(struct fy_db *db, json_t **out, struct fy_errmsg *em)
{
    json_t *j_keys = json_array();
    fy_err e = j_keys ? read_keys(db, NULL, false, j_keys, em)
                      : fy_fail(em, FY_ERR_NOMEM, "Out of memory");
    *out = e ? NULL : json_pack("{s:o}", "AccessKeys", j_keys);
    if (e) {
        json_decref(j_keys);
    }
    return e || *out ? e : fy_fail(em, FY_ERR_NOMEM, "Out of memory");
}

fy_err fy_operator_get(struct fy_db *db, const char *key_id, json_t **out, struct fy_errmsg *em)
{
    json_t *j_keys = json_array();
    fy_err e = j_keys ? read_keys(db, key_id, true, j_keys, em)
                      : fy_fail(em, FY_ERR_NOMEM, "Out of memory");
    if (!e && json_array_size(j_keys) == 0) {
        e = no_key(key_id, em);
    }
    *out = e ? NULL : json_pack("{s:O}", "AccessKey", json_array_get(j_keys, 0));
    json_decref(j_keys);
    return e || *out ? e : fy_fail(em, FY_ERR_NOMEM, "Out of memory");
}

/* Runs an UPDATE/DELETE bound to (a, b?, key_id); NOT_FOUND when it changed no row. */
static fy_err change_key(struct fy_db *db,
                         const char *sql,
                         const char *key_id,
                         const char *text,
                         int64_t num,
                         struct fy_errmsg *em)
{
    sqlite3_stmt *st = fy_db_stmt(db, sql, em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    int idx = 1;
    if (text) {
        fy_bind_text(st, idx++, text);
    }
    if (num) {
        sqlite3_bind_int64(st, idx++, num);
    }
    fy_bind_text(st, idx, key_id);
    fy_err e = step_done(db, st, em);
    return !e && sqlite3_changes(fy_db_handle(db)) == 0 ? no_key(key_id, em) : e;
}

static fy_err change_in_tx(struct fy_db *db,
                           const char *sql,
                           const char *key_id,
                           const char *text,
                           int64_t num,
                           struct fy_errmsg *em)
{
    FY_DB_RETURN_IN_TX(db, em, change_key(db, sql, key_id, text, num, em));
}

fy_err fy_operator_set_status(
    struct fy_db *db, const char *key_id, bool active, json_t **out, struct fy_errmsg *em)
{
    *out = NULL;
    fy_err e = change_in_tx(db, SQL_STATUS, key_id, active ? "Active" : "Inactive", 0, em);
    return e ? e : fy_operator_get(db, key_id, out, em);
}

fy_err fy_operator_rotate(struct fy_db *db, const char *key_id, json_t **out, struct fy_errmsg *em)
{
    char id[FY_OPERATOR_KEY_ID_LEN + 1], secret[FY_OPERATOR_SECRET_LEN + 1];
    int64_t now = fy_now_ms();
    *out = NULL;
    fy_err e = fy_operator_new_key(id, secret, em);
    e = e ? e : change_in_tx(db, SQL_ROTATE, key_id, secret, now, em);
    e = e ? e : fy_operator_get(db, key_id, out, em);
    if (!e) {
        json_t *j = json_object_get(*out, "AccessKey");
        json_object_del(j, "Policies");
        if (json_object_set_new(j, "SecretAccessKey", json_string(secret)) != 0) {
            json_decref(*out);
            *out = NULL;
            e = fy_fail(em, FY_ERR_NOMEM, "Out of memory");
        }
    }
    memset(secret, 0, sizeof(secret));
    return e;
}

static fy_err delete_policy_tx(struct fy_db *db,
                               const char *key_id,
                               const char *policy_name,
                               struct fy_errmsg *em)
{
    fy_err e = require_key(db, key_id, em);
    sqlite3_stmt *st = e ? NULL : fy_db_stmt(db, SQL_DEL_POLICY, em);
    if (e || !st) {
        return e ? e : FY_ERR_INTERNAL;
    }
    fy_bind_text(st, 1, key_id);
    fy_bind_text(st, 2, policy_name);
    e = step_done(db, st, em);
    if (!e && sqlite3_changes(fy_db_handle(db)) == 0) {
        e = fy_fail(em, FY_ERR_NOT_FOUND, "The key %.64s has no policy named %.128s", key_id,
                    policy_name ? policy_name : "");
    }
    return e;
}

fy_err fy_operator_delete(struct fy_db *db, const char *key_id, struct fy_errmsg *em)
{
    return change_in_tx(db, SQL_DELETE, key_id, NULL, 0, em);
}

fy_err fy_operator_delete_policy(struct fy_db *db,
                                 const char *key_id,
                                 const char *policy_name,
                                 struct fy_errmsg *em)
{
    FY_DB_RETURN_IN_TX(db, em, delete_policy_tx(db, key_id, policy_name, em));
}
