/* fleetyard registry: IoT policies, their versions, and their attachments to certificates and
 * thing groups. Documents are validated by the caller (policy/ engine) before they get here;
 * this module stores them and enforces AWS's version and attachment rules. Each call is one
 * short BEGIN IMMEDIATE transaction on the caller's connection.
 */
#ifndef FY_REGISTRY_POLICIES_H
#define FY_REGISTRY_POLICIES_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "core/db.h"
#include "core/err.h"
#include "core/names.h"
#include "core/site.h"

#define FY_POLICY_VERSIONS_MAX    5  /* versions one policy keeps */
#define FY_POLICIES_PER_CERT_MAX  10 /* policies attached to one certificate */
#define FY_POLICIES_PER_GROUP_MAX 2  /* policies attached to one thing group (DG 2022) */

/* A policy version as stored; document is owned (fy_policy_row_clear). */
struct fy_policy_row {
    char name[FY_POLICY_NAME_MAX + 1];
    int64_t version;         /* this row's version */
    int64_t default_version; /* the policy's default version */
    char generation_id[40];
    double creation_date, last_modified; /* of the policy */
    double version_date;                 /* of this version */
    char *document;
};

void fy_policy_row_clear(struct fy_policy_row *r);

/* Row callback: (ctx, name, version, is_default, version_date). */
typedef fy_err (*fy_policy_row_fn)(void *ctx, const struct fy_policy_row *r);

/* CreatePolicy: stores version 1 as default and tags (checked, NULL = none) on arn, the
 * policy's ARN, in one transaction. Existing name -> ALREADY_EXISTS; more tags than a
 * resource may have -> LIMIT_EXCEEDED (nothing created). */
FY_NODISCARD fy_err fy_policy_create(struct fy_db *db,
                                     const char *name,
                                     const char *document,
                                     const char *arn,
                                     const json_t *tags,
                                     struct fy_policy_row *out,
                                     struct fy_errmsg *em);

/* Loads version (0 = the default version). Missing policy or version -> NOT_FOUND. */
FY_NODISCARD fy_err fy_policy_get(struct fy_db *db,
                                  const char *name,
                                  int64_t version,
                                  struct fy_policy_row *out,
                                  struct fy_errmsg *em);

/* Lists policies by name (ascending or descending) after `after`; *more when rows remain.
 * Rows carry the default version's document. */
FY_NODISCARD fy_err fy_policy_list(struct fy_db *db,
                                   bool ascending,
                                   const char *after,
                                   int64_t limit,
                                   fy_policy_row_fn fn,
                                   void *ctx,
                                   bool *more,
                                   struct fy_errmsg *em);

/* DeletePolicy: attached -> DELETE_CONFLICT; non-default versions -> DELETE_CONFLICT; missing ->
 * NOT_FOUND. */
FY_NODISCARD fy_err fy_policy_delete(struct fy_db *db, const char *name, struct fy_errmsg *em);

/* CreatePolicyVersion: the 6th version -> VERSIONS_LIMIT. out gets the new version. */
FY_NODISCARD fy_err fy_policy_version_create(struct fy_db *db,
                                             const char *name,
                                             const char *document,
                                             bool set_default,
                                             struct fy_policy_row *out,
                                             struct fy_errmsg *em);

/* ListPolicyVersions, newest first. */
FY_NODISCARD fy_err fy_policy_version_list(
    struct fy_db *db, const char *name, fy_policy_row_fn fn, void *ctx, struct fy_errmsg *em);

/* SetDefaultPolicyVersion. Missing -> NOT_FOUND. */
FY_NODISCARD fy_err fy_policy_version_set_default(struct fy_db *db,
                                                  const char *name,
                                                  int64_t version,
                                                  struct fy_errmsg *em);

/* DeletePolicyVersion: the default version -> DELETE_CONFLICT. */
FY_NODISCARD fy_err fy_policy_version_delete(struct fy_db *db,
                                             const char *name,
                                             int64_t version,
                                             struct fy_errmsg *em);

/* AttachPolicy: target is a certificate ARN or a static thing-group ARN of this site.
 * Missing policy/target -> NOT_FOUND; other targets or a dynamic group -> INVALID_REQUEST;
 * per-target limits -> LIMIT_EXCEEDED. Attaching twice is a success. */
FY_NODISCARD fy_err fy_policy_attach(struct fy_db *db,
                                     const struct fy_site *site,
                                     const char *name,
                                     const char *target,
                                     struct fy_errmsg *em);

/* DetachPolicy: missing policy -> NOT_FOUND; not attached -> success. */
FY_NODISCARD fy_err fy_policy_detach(struct fy_db *db,
                                     const char *name,
                                     const char *target,
                                     struct fy_errmsg *em);

/* Targets (ARNs) of a policy in ARN order after `after`. */
typedef fy_err (*fy_policy_target_fn)(void *ctx, const char *target);
FY_NODISCARD fy_err fy_policy_targets(struct fy_db *db,
                                      const char *name,
                                      const char *after,
                                      int64_t limit,
                                      fy_policy_target_fn fn,
                                      void *ctx,
                                      bool *more,
                                      struct fy_errmsg *em);

/* Policies attached to target in name order after `after` (rows carry the default document).
 * recursive: for a thing group, also those of its ancestors. */
FY_NODISCARD fy_err fy_policy_attached(struct fy_db *db,
                                       const struct fy_site *site,
                                       const char *target,
                                       bool recursive,
                                       const char *after,
                                       int64_t limit,
                                       fy_policy_row_fn fn,
                                       void *ctx,
                                       bool *more,
                                       struct fy_errmsg *em);

/* The policies in force for a certificate and (optionally) a thing: the certificate's own, and
 * those of every static group of the thing and their ancestors; each policy once, default
 * version, name order. */
FY_NODISCARD fy_err fy_policy_effective(struct fy_db *db,
                                        const struct fy_site *site,
                                        const char *cert_arn,
                                        const char *thing_name,
                                        fy_policy_row_fn fn,
                                        void *ctx,
                                        struct fy_errmsg *em);

#endif
