/* fleetyard operators: operator access keys and the IAM policies attached to them.
 *
 * Besides the bootstrap administrator credential (<data dir>/credentials, unrestricted), the
 * HTTP API accepts SigV4 signatures from operator keys stored in SQLite (schema 0015). Each key
 * has a name (its IAM user name in denial messages), a status (Active/Inactive, as IAM says)
 * and up to FY_OPERATOR_POLICIES_MAX named IAM policy documents that fy_policy_eval decides
 * requests with (default deny, explicit Deny wins).
 *
 * Management (store.c) runs from `fleetyard-server keys`, on the data dir's database while the
 * server may run: every change is one short transaction, and bumps operator_keys_version so the
 * server reloads its snapshot (set.c) within a second. JSON output shapes follow the aws CLI's
 * iam commands (AccessKeyId, UserName, Status, CreateDate, ...).
 *
 * Threads: a connection is used by one thread at a time; a loaded fy_operator_set is immutable
 * and may be read by any number of threads.
 */
#ifndef FY_OPERATORS_OPERATORS_H
#define FY_OPERATORS_OPERATORS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/db.h"
#include "core/err.h"

#define FY_OPERATOR_KEY_ID_LEN      20  /* "AKIA" + 16 base32 characters, as AWS */
#define FY_OPERATOR_SECRET_LEN      40  /* base64 alphabet, as AWS */
#define FY_OPERATOR_NAME_MAX        64  /* IAM user name: [\w+=,.@-]{1,64} */
#define FY_OPERATOR_DESCRIPTION_MAX 256 /* printable text */
#define FY_OPERATOR_POLICIES_MAX    10  /* IAM: managed policies per user */
#define FY_OPERATOR_KEYS_MAX        100 /* keys in one database */

struct fy_policy;

/* Fills id (FY_OPERATOR_KEY_ID_LEN + 1 bytes) and secret (FY_OPERATOR_SECRET_LEN + 1) with a
 * fresh random key pair. FY_ERR_INTERNAL when the random generator fails. Thread-safe. */
FY_NODISCARD fy_err fy_operator_new_key(char *id, char *secret, struct fy_errmsg *em);

/* Whether s is a valid key name ([\w+=,.@-]{1,64}). */
bool fy_operator_valid_name(const char *s);

/* ---- management (store.c): each call one transaction on db ---- */

/* Creates an Active key named name (unique) with description desc (may be NULL) and, when doc
 * is not NULL, the policy policy_name = doc attached. *out (new reference) gets
 * {"AccessKey": {UserName, AccessKeyId, SecretAccessKey, Status, CreateDate, Description}}.
 * Errors: INVALID_REQUEST (bad name, description or policy name), MALFORMED_POLICY,
 * ALREADY_EXISTS (name taken), LIMIT_EXCEEDED (FY_OPERATOR_KEYS_MAX keys), NOMEM, INTERNAL. */
FY_NODISCARD fy_err fy_operator_create(struct fy_db *db,
                                       const char *name,
                                       const char *desc,
                                       const char *policy_name,
                                       const char *doc,
                                       json_t **out,
                                       struct fy_errmsg *em);

/* {"AccessKeys": [{AccessKeyId, UserName, Description, Status, CreateDate, LastRotatedDate?,
 * PolicyNames}]} ordered by name; never secrets. */
FY_NODISCARD fy_err fy_operator_list(struct fy_db *db, json_t **out, struct fy_errmsg *em);

/* One key as in the list plus "Policies": [{PolicyName, PolicyDocument}]. NOT_FOUND. */
FY_NODISCARD fy_err fy_operator_get(struct fy_db *db,
                                    const char *key_id,
                                    json_t **out,
                                    struct fy_errmsg *em);

/* Sets the status (Active when active). NOT_FOUND. *out: the key as in fy_operator_get. */
FY_NODISCARD fy_err fy_operator_set_status(
    struct fy_db *db, const char *key_id, bool active, json_t **out, struct fy_errmsg *em);

/* Replaces the key's secret with a fresh one (the old one stops working at once); *out is
 * {"AccessKey": {... SecretAccessKey, LastRotatedDate}}. NOT_FOUND. */
FY_NODISCARD fy_err fy_operator_rotate(struct fy_db *db,
                                       const char *key_id,
                                       json_t **out,
                                       struct fy_errmsg *em);

/* Attaches doc as policy_name (replacing a policy of that name, as IAM PutUserPolicy does).
 * Errors: NOT_FOUND, INVALID_REQUEST (policy name), MALFORMED_POLICY, LIMIT_EXCEEDED (more
 * than FY_OPERATOR_POLICIES_MAX). */
FY_NODISCARD fy_err fy_operator_put_policy(struct fy_db *db,
                                           const char *key_id,
                                           const char *policy_name,
                                           const char *doc,
                                           struct fy_errmsg *em);

/* Detaches policy_name. NOT_FOUND when the key or the policy does not exist. */
FY_NODISCARD fy_err fy_operator_delete_policy(struct fy_db *db,
                                              const char *key_id,
                                              const char *policy_name,
                                              struct fy_errmsg *em);

/* Deletes the key and its policies. NOT_FOUND. */
FY_NODISCARD fy_err fy_operator_delete(struct fy_db *db, const char *key_id, struct fy_errmsg *em);

/* ---- the server's snapshot (set.c) ---- */

/* One key as the request path sees it (borrowed from its set). */
struct fy_operator {
    char key_id[FY_OPERATOR_KEY_ID_LEN + 1];
    char secret[FY_OPERATOR_SECRET_LEN + 1];
    char name[FY_OPERATOR_NAME_MAX + 1];
    bool active;
    const struct fy_policy **policies; /* compiled documents */
    size_t npolicies;
};

struct fy_operator_set;

/* The change counter of the operator tables (bumped by every change); cheap (one row). */
FY_NODISCARD fy_err fy_operators_version(struct fy_db *db, int64_t *out, struct fy_errmsg *em);

/* Loads every key with its compiled policies into a new immutable set (*out, owned;
 * fy_operator_set_free), and its version into *version, in one read transaction. A stored
 * document that no longer compiles is left out (logged): the key keeps the others. */
FY_NODISCARD fy_err fy_operator_set_load(struct fy_db *db,
                                         struct fy_operator_set **out,
                                         int64_t *version,
                                         struct fy_errmsg *em);

/* The key with this id, or NULL. */
const struct fy_operator *fy_operator_set_find(const struct fy_operator_set *s, const char *key_id);

/* Number of keys in the set. */
size_t fy_operator_set_count(const struct fy_operator_set *s);

/* Releases a set (NULL is a no-op). */
void fy_operator_set_free(struct fy_operator_set *s);

#endif
