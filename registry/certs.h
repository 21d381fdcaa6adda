/* fleetyard registry: device certificates and registered CA certificates (storage and the AWS
 * rules around them). Parsing and signing live in pki/; this module stores what pki/ produced.
 * Functions run on the caller's connection, one short transaction each.
 */
#ifndef FY_REGISTRY_CERTS_H
#define FY_REGISTRY_CERTS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/db.h"
#include "core/err.h"
#include "core/site.h"

#define FY_CERT_ID_LEN 64

/* One stored certificate (device or CA). Strings are owned by the row (fy_cert_row_clear). */
struct fy_cert_row {
    char cert_id[FY_CERT_ID_LEN + 1];
    char status[24];
    char ca_cert_id[FY_CERT_ID_LEN + 1]; /* "" when none (device certs only) */
    char mode[16];
    char owned_by[16];
    char generation_id[40];
    char auto_registration[16]; /* CA only */
    int64_t customer_version;
    double not_before, not_after;
    double creation_date, last_modified;
    char *pem;
    char *registration_config; /* CA only, JSON text or NULL */
};

typedef fy_err (*fy_cert_row_fn)(void *ctx, const struct fy_cert_row *row);

/* Releases the strings of a row (the row itself is caller storage). */
void fy_cert_row_clear(struct fy_cert_row *row);

/* True for a 64-character hex certificate id. */
bool fy_cert_id_valid(const char *id);

/* Stores a new device certificate (row->cert_id, pem, status, ca_cert_id, validity). The same
 * certificate twice -> ALREADY_EXISTS. Fills creation/modification dates and generation id. */
FY_NODISCARD fy_err fy_cert_insert(struct fy_db *db, struct fy_cert_row *row, struct fy_errmsg *em);

/* Loads a device certificate; NOT_FOUND when absent. */
FY_NODISCARD fy_err fy_cert_get(struct fy_db *db,
                                const char *cert_id,
                                struct fy_cert_row *out,
                                struct fy_errmsg *em);

/* UpdateCertificate: AWS's transitions (PENDING_* cannot be set; a REVOKED certificate stays
 * revoked -> CERT_STATE). */
FY_NODISCARD fy_err fy_cert_set_status(struct fy_db *db,
                                       const char *cert_id,
                                       const char *new_status,
                                       struct fy_errmsg *em);

/* DeleteCertificate: ACTIVE -> CERT_STATE; attached to things, or to policies unless
 * force -> DELETE_CONFLICT (force detaches the policies). */
FY_NODISCARD fy_err fy_cert_delete(struct fy_db *db,
                                   const struct fy_site *site,
                                   const char *cert_id,
                                   bool force,
                                   struct fy_errmsg *em);

/* Lists device certificates in creation order (ascending or not) after the opaque key `after`
 * ("<creation_date>:<cert_id>", NULL = from the start), optionally only those of one CA.
 * At most limit rows; *next_key (fy_free) is set when rows remain. */
FY_NODISCARD fy_err fy_cert_list(struct fy_db *db,
                                 const char *ca_cert_id,
                                 bool ascending,
                                 const char *after,
                                 int64_t limit,
                                 fy_cert_row_fn fn,
                                 void *ctx,
                                 char **next_key,
                                 struct fy_errmsg *em);

/* Registered CA certificates: same contracts, table ca_certificates. */
FY_NODISCARD fy_err fy_ca_insert(struct fy_db *db, struct fy_cert_row *row, struct fy_errmsg *em);
FY_NODISCARD fy_err fy_ca_get(struct fy_db *db,
                              const char *cert_id,
                              struct fy_cert_row *out,
                              struct fy_errmsg *em);
/* UpdateCACertificate: status ACTIVE|INACTIVE (NULL keeps), auto registration ENABLE|DISABLE
 * (NULL keeps), registration config JSON (NULL keeps). */
FY_NODISCARD fy_err fy_ca_update(struct fy_db *db,
                                 const char *cert_id,
                                 const char *status,
                                 const char *auto_registration,
                                 const char *registration_config,
                                 struct fy_errmsg *em);
/* DeleteCACertificate: ACTIVE -> CERT_STATE; device certificates still registered under it ->
 * CERT_STATE (AWS answers CertificateStateException). */
FY_NODISCARD fy_err fy_ca_delete(struct fy_db *db, const char *cert_id, struct fy_errmsg *em);
FY_NODISCARD fy_err fy_ca_list(struct fy_db *db,
                               bool ascending,
                               const char *after,
                               int64_t limit,
                               fy_cert_row_fn fn,
                               void *ctx,
                               char **next_key,
                               struct fy_errmsg *em);

#endif
