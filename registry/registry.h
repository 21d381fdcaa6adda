/* fleetyard registry: the public interface of the thing registry.
 *
 * Every function runs on the caller's connection (one thread at a time), in at most one short
 * BEGIN IMMEDIATE transaction, and changes nothing when it fails. Errors carry AWS types
 * (INVALID_REQUEST, NOT_FOUND, ALREADY_EXISTS, VERSION_CONFLICT, ...) with a message in em.
 * Names and attributes are validated here as well as in api/, so every caller gets the same
 * rules (../shared/reference/AWS_IOT_BEHAVIOUR.md §1.4, §2).
 */
#ifndef FY_REGISTRY_REGISTRY_H
#define FY_REGISTRY_REGISTRY_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "core/codec.h"
#include "core/db.h"
#include "core/err.h"
#include "core/names.h"
#include "core/site.h"

/* ======================================================================================== */
/* Things and thing types (registry/things.c, registry/thing_types.c)                      */
/* ======================================================================================== */

#define FY_THING_ATTRS_MAX       3   /* attributes of a thing without a thing type */
#define FY_THING_ATTRS_MAX_TYPED 50  /* attributes of a thing with a thing type */
#define FY_TYPE_SEARCHABLE_MAX   3   /* searchableAttributes of a thing type */
#define FY_REG_ARN_MAX           256 /* "arn:aws:iot:" + region + account + "thing/" + name */

/* ---- attribute maps (shared by things and groups) ---- */

/* Checks an attribute map: a JSON object whose keys match [a-zA-Z0-9_.,@/:#-]{1,128} and whose
 * values are strings matching [a-zA-Z0-9_.,@/:#=\[\]-]{0,800}. Counts are not checked here.
 * INVALID_REQUEST naming the first bad entry. Pure. */
FY_NODISCARD fy_err fy_attrs_check(const json_t *j_attrs, struct fy_errmsg *em);

/* Applies an attributePayload to j_cur in place: without merge, j_cur becomes a copy of
 * j_given; with merge, each given key is set, and an empty-string value removes the key.
 * j_given must have passed fy_attrs_check. NOMEM on allocation failure (j_cur then undefined). */
FY_NODISCARD fy_err fy_attrs_apply(json_t *j_cur,
                                   const json_t *j_given,
                                   bool merge,
                                   struct fy_errmsg *em);

/* ---- things ---- */

/* CreateThing input; pointers are borrowed for the call. */
struct fy_thing_spec {
    const char *name;          /* thing name */
    const char *type_name;     /* NULL = no thing type */
    const json_t *attributes;  /* attribute map, NULL = none */
    const char *billing_group; /* NULL = none; billing groups are not modelled: stored as given */
};

/* CreateThing output (also filled on ALREADY_EXISTS, naming the existing thing). */
struct fy_thing_created {
    char thing_id[FY_UUID_LEN + 1];
    char arn[FY_REG_ARN_MAX];
};

/* A thing as stored (its attributes travel separately as a JSON object). */
struct fy_thing {
    int64_t version;
    char name[FY_NAME_MAX + 1];
    char thing_id[FY_UUID_LEN + 1];
    char type_name[FY_NAME_MAX + 1];     /* "" = no thing type */
    char billing_group[FY_NAME_MAX + 1]; /* "" = none */
};

/* UpdateThing input; pointers are borrowed for the call. */
struct fy_thing_update {
    const char *name;
    const char *type_name;           /* NULL = keep the type */
    bool remove_type;                /* removeThingType; exclusive with type_name */
    const json_t *attributes;        /* attributePayload.attributes, NULL = keep */
    bool merge;                      /* attributePayload.merge */
    const int64_t *expected_version; /* NULL = any version */
};

/* ListThings filter; NULL members do not filter. */
struct fy_thing_filter {
    const char *attr_name;  /* things having this attribute ... */
    const char *attr_value; /* ... with this value (NULL = any value; needs attr_name) */
    bool attr_prefix;       /* attr_value is a prefix (usePrefixAttributeValue) */
    const char *type_name;  /* things of this thing type */
};

/* Listing callback: one thing and its attribute map (both borrowed for the call). A non-OK
 * return stops the listing and is returned. */
typedef fy_err (*fy_thing_row_fn)(void *ctx, const struct fy_thing *t, const json_t *j_attrs);

/* Creates a thing with version 1, a new UUID thingId and ARN thing/NAME under site. At most
 * FY_THING_ATTRS_MAX attributes without a type, FY_THING_ATTRS_MAX_TYPED with one. Creating
 * an existing name with the same type, attributes and billing group is a success returning the
 * existing thing; with a different one -> ALREADY_EXISTS (out names the existing thing).
 * Unknown type -> NOT_FOUND; deprecated type, bad name/attributes -> INVALID_REQUEST. */
FY_NODISCARD fy_err fy_thing_create(struct fy_db *db,
                                    const struct fy_site *site,
                                    const struct fy_thing_spec *spec,
                                    struct fy_thing_created *out,
                                    struct fy_errmsg *em);

/* Reads thing name into *out and adds its attributes to j_attrs (a caller-owned object).
 * Missing -> NOT_FOUND. */
FY_NODISCARD fy_err fy_thing_describe(struct fy_db *db,
                                      const char *name,
                                      struct fy_thing *out,
                                      json_t *j_attrs,
                                      struct fy_errmsg *em);

/* Updates type and/or attributes and adds 1 to the version. Missing thing or type -> NOT_FOUND;
 * version mismatch -> VERSION_CONFLICT; both type_name and remove_type, a deprecated new type,
 * bad attributes or too many attributes for the resulting type -> INVALID_REQUEST. */
FY_NODISCARD fy_err fy_thing_update(struct fy_db *db,
                                    const struct fy_thing_update *u,
                                    struct fy_errmsg *em);

/* Deletes a thing with its attributes and group memberships (shadows stay). A missing thing is
 * a success; version mismatch -> VERSION_CONFLICT; principals still attached ->
 * INVALID_REQUEST. expected_version NULL = any. */
FY_NODISCARD fy_err fy_thing_delete(struct fy_db *db,
                                    const char *name,
                                    const int64_t *expected_version,
                                    struct fy_errmsg *em);

/* Lists things in name order after `after` (NULL = from the start), at most limit, calling fn
 * per thing; *more is set when more things match. Exact attribute and type filters walk an
 * index in name order; key-only and prefix filters sort their matches when there are few and
 * walk things in name order when there are many. A thing type that does not exist matches
 * nothing. attr_value without attr_name -> INVALID_REQUEST. */
FY_NODISCARD fy_err fy_thing_list(struct fy_db *db,
                                  const struct fy_thing_filter *f,
                                  const char *after,
                                  int64_t limit,
                                  fy_thing_row_fn fn,
                                  void *ctx,
                                  bool *more,
                                  struct fy_errmsg *em);

/* Row id of thing name (for other registry modules). Missing -> NOT_FOUND with AWS's text. */
FY_NODISCARD fy_err fy_thing_rowid(struct fy_db *db,
                                   const char *name,
                                   int64_t *out,
                                   struct fy_errmsg *em);

/* ---- thing types ---- */

/* CreateThingType input; pointers are borrowed for the call. */
struct fy_thing_type_spec {
    const char *name;
    const char *description;  /* thingTypeDescription, NULL = none */
    const json_t *searchable; /* searchableAttributes: array of attribute names, NULL = none */
    const json_t *mqtt5;      /* mqtt5Configuration object, stored as given, NULL = none */
    const json_t *tags;       /* TagList [{"Key", "Value"}], NULL = none */
};

/* CreateThingType output (also filled on ALREADY_EXISTS). */
struct fy_thing_type_created {
    char type_id[FY_UUID_LEN + 1];
    char arn[FY_REG_ARN_MAX];
};

/* A thing type as stored. Release with fy_thing_type_clear(). */
struct fy_thing_type {
    char name[FY_NAME_MAX + 1];
    char type_id[FY_UUID_LEN + 1];
    bool deprecated;
    double deprecation_date; /* epoch seconds, 0 when not deprecated */
    double creation_date;
    json_t *properties; /* owned thingTypeProperties object */
};

/* Listing callback: one thing type (borrowed for the call); non-OK stops the listing. */
typedef fy_err (*fy_thing_type_row_fn)(void *ctx, const struct fy_thing_type *t);

/* Releases what *t owns (accepts a zeroed struct). */
void fy_thing_type_clear(struct fy_thing_type *t);

/* Creates a thing type (ARN thingtype/NAME under site) and tags it. At most
 * FY_TYPE_SEARCHABLE_MAX searchable attributes. The same name with the same properties is a
 * success returning the existing type (tags are then left as they are); different properties
 * -> ALREADY_EXISTS. Bad name, description, attributes, mqtt5Configuration or tags ->
 * INVALID_REQUEST. */
FY_NODISCARD fy_err fy_thing_type_create(struct fy_db *db,
                                         const struct fy_site *site,
                                         const struct fy_thing_type_spec *spec,
                                         struct fy_thing_type_created *out,
                                         struct fy_errmsg *em);

/* Reads thing type name into *out (caller clears). Missing -> NOT_FOUND. */
FY_NODISCARD fy_err fy_thing_type_describe(struct fy_db *db,
                                           const char *name,
                                           struct fy_thing_type *out,
                                           struct fy_errmsg *em);

/* Lists thing types in name order after `after`, at most limit; name_filter (NULL = all)
 * selects one name. *more is set when more rows match. */
FY_NODISCARD fy_err fy_thing_type_list(struct fy_db *db,
                                       const char *name_filter,
                                       const char *after,
                                       int64_t limit,
                                       fy_thing_type_row_fn fn,
                                       void *ctx,
                                       bool *more,
                                       struct fy_errmsg *em);

/* Deprecates (undo = false; the first deprecation date is kept) or undeprecates a thing type.
 * Missing -> NOT_FOUND. */
FY_NODISCARD fy_err fy_thing_type_deprecate(struct fy_db *db,
                                            const char *name,
                                            bool undo,
                                            struct fy_errmsg *em);

/* Deletes a thing type (and its tags). Missing -> NOT_FOUND; not deprecated, deprecated for less
 * than delete_wait_seconds, or still the type of a thing -> INVALID_REQUEST. */
FY_NODISCARD fy_err fy_thing_type_delete(struct fy_db *db,
                                         const char *name,
                                         int64_t delete_wait_seconds,
                                         struct fy_errmsg *em);

/* ======================================================================================== */
/* Thing groups and tags: see registry/groups.h until it moves here.                        */
/* ======================================================================================== */

#endif
