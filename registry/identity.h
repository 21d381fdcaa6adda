/* fleetyard registry: the identity behind a certificate connection, as AWS IoT policies see it.
 *
 * fy_identity_load() finds the thing associated with (certificate, client id) by AWS's rules
 * (AWS_IOT_BEHAVIOUR.md §3): 1. a thing named like the client id and attached to the
 * certificate; 2. else the certificate's EXCLUSIVE_THING; 3. else none. It loads that thing's
 * type and attributes and parses the certificate for its subject and issuer fields.
 * fy_identity_lookup() then answers policy variables and condition keys for fy_policy_eval:
 * iot:ClientId, iot:Connection.Thing.{ThingName, ThingTypeName, Attributes[k], IsAttached},
 * iot:Certificate.{Subject,Issuer}.<Field>[.N|.List], iot:Certificate.SerialNumber and
 * iot:Certificate.AvailableKeys. An identity belongs to one thread.
 */
#ifndef FY_REGISTRY_IDENTITY_H
#define FY_REGISTRY_IDENTITY_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "core/db.h"
#include "core/err.h"
#include "core/names.h"
#include "core/site.h"

struct fy_pki_cert;

struct fy_identity {
    char cert_id[65];
    char *cert_arn;  /* owned */
    char *client_id; /* owned, NULL when unknown */
    bool attached;   /* a thing is associated */
    char thing[FY_NAME_MAX + 1];
    char thing_type[FY_NAME_MAX + 1];
    json_t *attributes;       /* owned object */
    struct fy_pki_cert *cert; /* owned; NULL until fy_identity_load_cert, or unparsable */
};

/* Loads the identity of certificate cert_id for client_id (may be NULL), without parsing the
 * certificate (fy_identity_load_cert does that, for iot:Certificate.* variables). Unknown
 * certificate -> FY_ERR_NOT_FOUND. Release with fy_identity_clear in every case. */
FY_NODISCARD fy_err fy_identity_load(struct fy_db *db,
                                     const struct fy_site *site,
                                     const char *cert_id,
                                     const char *client_id,
                                     struct fy_identity *out,
                                     struct fy_errmsg *em);

/* Parses the identity's stored certificate for the iot:Certificate.* variables (a PEM that
 * does not parse leaves id->cert NULL: those variables are then absent). */
FY_NODISCARD fy_err fy_identity_load_cert(struct fy_db *db,
                                          struct fy_identity *id,
                                          struct fy_errmsg *em);

/* Releases what fy_identity_load allocated; idempotent. */
void fy_identity_clear(struct fy_identity *id);

/* fy_policy_lookup_fn over a struct fy_identity (ctx). */
size_t fy_identity_lookup(void *ctx, const char *name, const char **out, size_t max);

#endif
