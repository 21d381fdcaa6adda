/* fleetyard registry: thing groups (hierarchy and static membership) and resource tags.
 *
 * To be merged into registry/registry.h as its groups/tags section.
 *
 * Thing groups form trees: a root has depth 1 and a group at FY_GROUP_DEPTH_MAX cannot get a
 * child; a parent has at most FY_GROUP_CHILDREN_MAX direct children; the parent is fixed at
 * creation. A thing is in at most FY_GROUPS_PER_THING_MAX groups and in at most one static group
 * of a hierarchy. Dynamic groups (dynamic = 1, written by index/) are listed and described here
 * but their membership cannot be changed through these calls.
 *
 * Tags are key/value pairs on a taggable resource named by its ARN (thing groups and thing
 * types); rows go when the resource row is deleted (schema/0003_groups.sql).
 *
 * Every function runs on the caller's connection (one thread), in at most one short BEGIN
 * IMMEDIATE transaction; bad input changes nothing. Errors carry AWS types: INVALID_REQUEST,
 * NOT_FOUND, ALREADY_EXISTS, VERSION_CONFLICT, LIMIT_EXCEEDED, with a message in em.
 */
#ifndef FY_REGISTRY_GROUPS_H
#define FY_REGISTRY_GROUPS_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "core/codec.h"
#include "core/db.h"
#include "core/err.h"
#include "core/names.h"
#include "core/site.h"

#define FY_GROUP_DEPTH_MAX       7   /* levels in one hierarchy, the root being level 1 */
#define FY_GROUP_CHILDREN_MAX    100 /* direct children of one group */
#define FY_GROUPS_PER_THING_MAX  10  /* groups one thing belongs to (static and dynamic) */
#define FY_GROUP_ATTRS_MAX       50  /* attributes of one group */
#define FY_TAGS_PER_RESOURCE_MAX 50
#define FY_TAG_RESERVED_PREFIX   "aws:"

/* Row callback for listings: (ctx, name). A non-OK return stops the listing and is returned. */
typedef fy_err (*fy_group_row_fn)(void *ctx, const char *name);

/* Row callback for tag listings. */
typedef fy_err (*fy_tag_row_fn)(void *ctx, const char *key, const char *value);

/* thingGroupProperties as given in a request; pointers are borrowed for the call. */
struct fy_group_props {
    const char *description;  /* NULL = not given */
    const json_t *attributes; /* object of strings, NULL = not given */
    bool merge;               /* attributePayload.merge (UpdateThingGroup only) */
};

/* A thing group as stored. Filled by fy_group_describe(); release with fy_group_clear(). */
struct fy_group {
    int64_t version;
    double creation_date;
    int depth;
    bool dynamic;
    char name[FY_NAME_MAX + 1];
    char group_id[FY_UUID_LEN + 1];
    char *description;                                        /* owned, NULL when never set */
    json_t *attributes;                                       /* owned object (possibly empty) */
    char *index_name, *query_string, *query_version, *status; /* owned; dynamic groups only */
    int nancestors;                                           /* depth - 1 */
    char ancestors[FY_GROUP_DEPTH_MAX][FY_NAME_MAX + 1];      /* root first, parent last */
};

/* Releases what a struct fy_group owns and zeroes it. Accepts a zeroed struct. */
void fy_group_clear(struct fy_group *g);

/* Checks thingGroupProperties against the name/attribute/description limits (no I/O). */
FY_NODISCARD fy_err fy_group_props_check(const struct fy_group_props *p, struct fy_errmsg *em);

/* Creates group name under parent (NULL = a root) with props and tags (JSON TagList or NULL),
 * tagging it under arn. Writes the thingGroupId into id_out. An existing group with the same
 * parent, description and attributes is a success returning its id; otherwise ALREADY_EXISTS.
 * Missing parent -> NOT_FOUND; depth or children limit -> INVALID_REQUEST. */
FY_NODISCARD fy_err fy_group_create(struct fy_db *db,
                                    const char *name,
                                    const char *parent,
                                    const struct fy_group_props *props,
                                    const json_t *j_tags,
                                    const char *arn,
                                    char id_out[FY_UUID_LEN + 1],
                                    struct fy_errmsg *em);

/* Loads group name with its ancestors into *out (caller releases with fy_group_clear). */
FY_NODISCARD fy_err fy_group_describe(struct fy_db *db,
                                      const char *name,
                                      struct fy_group *out,
                                      struct fy_errmsg *em);

/* Updates description and attributes (merge: "" removes a key; otherwise the given map replaces
 * all). expected_version < 0 means none; a mismatch -> VERSION_CONFLICT. *new_version receives
 * the version after the update. */
FY_NODISCARD fy_err fy_group_update(struct fy_db *db,
                                    const char *name,
                                    const struct fy_group_props *props,
                                    int64_t expected_version,
                                    int64_t *new_version,
                                    struct fy_errmsg *em);

/* Deletes a group with its memberships and tags. A missing group is a success; child groups ->
 * INVALID_REQUEST; expected_version (< 0 = none) mismatch -> VERSION_CONFLICT. */
FY_NODISCARD fy_err fy_group_delete(struct fy_db *db,
                                    const char *name,
                                    int64_t expected_version,
                                    struct fy_errmsg *em);

/* Selection for fy_group_list. */
struct fy_group_filter {
    const char *parent; /* NULL = every group (recursive) or every root (not recursive) */
    const char *prefix; /* name prefix or NULL */
    bool recursive;     /* with parent: all descendants instead of direct children */
};

/* Lists group names in name order after `after` (NULL = from the start), at most limit rows;
 * *more is set when rows remain. Missing parent -> NOT_FOUND. */
FY_NODISCARD fy_err fy_group_list(struct fy_db *db,
                                  const struct fy_group_filter *f,
                                  const char *after,
                                  int64_t limit,
                                  fy_group_row_fn fn,
                                  void *ctx,
                                  bool *more,
                                  struct fy_errmsg *em);

/* Adds thing to group. Already a member -> success. Missing thing or group -> NOT_FOUND;
 * dynamic group, another group of the same hierarchy, or FY_GROUPS_PER_THING_MAX reached ->
 * INVALID_REQUEST (with override_dynamic the thing leaves its most recent dynamic group
 * instead). */
FY_NODISCARD fy_err fy_group_add_thing(struct fy_db *db,
                                       const char *group,
                                       const char *thing,
                                       bool override_dynamic,
                                       struct fy_errmsg *em);

/* Removes thing from group; not a member -> success; missing thing or group -> NOT_FOUND;
 * dynamic group -> INVALID_REQUEST. */
FY_NODISCARD fy_err fy_group_remove_thing(struct fy_db *db,
                                          const char *group,
                                          const char *thing,
                                          struct fy_errmsg *em);

/* Removes thing from each group of rm[0..nrm) and then adds it to each of add[0..nadd), all in
 * one transaction (any error leaves every membership unchanged). Same errors as above. */
FY_NODISCARD fy_err fy_group_update_for_thing(struct fy_db *db,
                                              const char *thing,
                                              const char *const *add,
                                              size_t nadd,
                                              const char *const *rm,
                                              size_t nrm,
                                              bool override_dynamic,
                                              struct fy_errmsg *em);

/* Lists the things of group (recursive: also those of every descendant), in name order, with
 * the paging contract of fy_group_list. Missing group -> NOT_FOUND. */
FY_NODISCARD fy_err fy_group_list_things(struct fy_db *db,
                                         const char *group,
                                         bool recursive,
                                         const char *after,
                                         int64_t limit,
                                         fy_group_row_fn fn,
                                         void *ctx,
                                         bool *more,
                                         struct fy_errmsg *em);

/* Lists the groups of thing in name order (same paging). Missing thing -> NOT_FOUND. */
FY_NODISCARD fy_err fy_group_list_for_thing(struct fy_db *db,
                                            const char *thing,
                                            const char *after,
                                            int64_t limit,
                                            fy_group_row_fn fn,
                                            void *ctx,
                                            bool *more,
                                            struct fy_errmsg *em);

/* ---- dynamic groups (membership computed by index/) ---- */

#define FY_DYNAMIC_GROUPS_MAX 100 /* dynamic thing groups per account */

/* Computes the membership of dynamic group group_id inside the caller's transaction. */
typedef fy_err (*fy_group_fill_fn)(struct fy_db *db,
                                   int64_t group_id,
                                   void *ctx,
                                   struct fy_errmsg *em);

/* What makes a group dynamic (borrowed for the call). */
struct fy_group_query {
    const char *index_name, *query_string, *query_version;
    fy_group_fill_fn fill;
    void *ctx;
};

/* CreateDynamicThingGroup: creates root group name (dynamic, status ACTIVE) with props and
 * tags, then runs q->fill (which computes the membership or, as index/ does, starts building
 * it and sets the status), all in one transaction. An existing group of
 * that name -> ALREADY_EXISTS; FY_DYNAMIC_GROUPS_MAX reached -> LIMIT_EXCEEDED. */
FY_NODISCARD fy_err fy_group_create_dynamic(struct fy_db *db,
                                            const char *name,
                                            const struct fy_group_props *props,
                                            const json_t *j_tags,
                                            const char *arn,
                                            const struct fy_group_query *q,
                                            char id_out[FY_UUID_LEN + 1],
                                            struct fy_errmsg *em);

/* Replaces the query of dynamic group name and runs q->fill (as above), in one
 * transaction. Missing -> NOT_FOUND; a static group -> INVALID_REQUEST. */
FY_NODISCARD fy_err fy_group_set_query(struct fy_db *db,
                                       const char *name,
                                       const struct fy_group_query *q,
                                       struct fy_errmsg *em);

/* ---- tags ---- */

/* Checks a TagList ([{"Key": k, "Value": v}], Value optional): key 1-128 characters of
 * letters, digits, spaces and _.:/=+-@, value 0-256 characters, no "aws:" keys, at most
 * FY_TAGS_PER_RESOURCE_MAX entries. INVALID_REQUEST otherwise. No I/O. */
FY_NODISCARD fy_err fy_tags_check(const json_t *j_tags, struct fy_errmsg *em);

/* Upserts j_tags (already checked) on arn inside the caller's transaction; more than
 * FY_TAGS_PER_RESOURCE_MAX tags on the resource afterwards -> over_limit (the caller rolls
 * back). */
FY_NODISCARD fy_err fy_tags_put_locked(struct fy_db *db,
                                       const char *arn,
                                       const json_t *j_tags,
                                       fy_err over_limit,
                                       struct fy_errmsg *em);

/* TagResource: adds or overwrites tags on the resource named by arn. Malformed or untaggable
 * ARN -> INVALID_REQUEST; resource missing (or in another region/account) -> NOT_FOUND; more
 * than FY_TAGS_PER_RESOURCE_MAX tags -> LIMIT_EXCEEDED. */
FY_NODISCARD fy_err fy_tag_resource(struct fy_db *db,
                                    const struct fy_site *site,
                                    const char *arn,
                                    const json_t *j_tags,
                                    struct fy_errmsg *em);

/* UntagResource: removes the keys in j_keys (a JSON array of strings); absent keys are ignored,
 * "aws:" keys -> INVALID_REQUEST; ARN errors as fy_tag_resource. */
FY_NODISCARD fy_err fy_untag_resource(struct fy_db *db,
                                      const struct fy_site *site,
                                      const char *arn,
                                      const json_t *j_keys,
                                      struct fy_errmsg *em);

/* ListTagsForResource: tags in key order after `after`, at most limit; *more as in
 * fy_group_list; ARN errors as fy_tag_resource. */
FY_NODISCARD fy_err fy_tags_list(struct fy_db *db,
                                 const struct fy_site *site,
                                 const char *arn,
                                 const char *after,
                                 int64_t limit,
                                 fy_tag_row_fn fn,
                                 void *ctx,
                                 bool *more,
                                 struct fy_errmsg *em);

#endif
