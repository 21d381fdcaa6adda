/* Shared by backup.c and restore.c. */
#ifndef FY_SERVER_BACKUP_INT_H
#define FY_SERVER_BACKUP_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "core/err.h"
#include "server/config.h"

#define FY_BACKUP_MANIFEST    "fleetyard-backup.json"
#define FY_BACKUP_DB          "fleetyard.db"
#define FY_BACKUP_CREDENTIALS "credentials"
#define FY_BACKUP_CONF        "fleetyard.conf"
#define FY_BACKUP_PKI         "pki"
#define FY_BACKUP_NAME_MAX    64 /* longest file name under pki/ */

/* A parsed `backup` or `restore` command line. */
struct fy_backup_cmd {
    struct fy_config cfg;
    const char *file;        /* --out FILE / --from FILE */
    const char *config_path; /* --config FILE, or NULL */
    int step_pages;          /* --step-pages N (backup): pages per backup step */
};

/* Checks the database at path: PRAGMA integrity_check must say ok; *version gets its
 * user_version. FY_ERR_INVALID_REQUEST (with SQLite's findings) otherwise. */
FY_NODISCARD fy_err fy_backup_verify_db(const char *path, int *version, struct fy_errmsg *em);

/* True for a file name allowed under pki/ ([A-Za-z0-9._-], not starting with '.'). */
bool fy_backup_pki_name_ok(const char *name);

/* Prints j (compact, one line) on stdout and releases it. */
void fy_backup_print(json_t *j);

/* Seconds on the monotonic clock. */
double fy_backup_now(void);

/* The restore subcommand. */
int fy_restore_run(const struct fy_backup_cmd *c);

#endif
