/* fleetyard-server backup / restore (README "Backups").
 *
 * `fleetyard-server backup --out FILE [--data-dir DIR | --config FILE]` writes one file, an SQLite
 * archive (server/archive.h) holding:
 *   fleetyard-backup.json  manifest: format, fleetyard version, schema version, files
 *   fleetyard.db           a consistent snapshot of the database
 *   credentials            the operator access key (if present)
 *   pki/...                the CA and broker certificates and keys
 *   fleetyard.conf         the --config file (when one is given)
 *
 * Consistency: the snapshot is taken online through the SQLite backup API on a connection that
 * first opens a read transaction and keeps it to the end. In WAL mode that pins one snapshot of
 * the database: writers (the server, the broker) go on committing to the WAL and are never
 * blocked, and the backup never restarts, so the copy is exactly the database as of one commit.
 * Pages are copied FY_BACKUP_STEP_PAGES at a time with FY_BACKUP_STEP_SLEEP_US pauses so the
 * copy does not monopolise the disk. The snapshot is checked (PRAGMA integrity_check, schema
 * version) before it is archived; the archive is written to FILE.tmp and renamed into place.
 *
 * `fleetyard-server restore --from FILE [--data-dir DIR | --config FILE]` refuses while a server
 * holds the data directory's lock (fleetyard.lock), refuses archives that are not fleetyard
 * backups, fail the integrity check or come from a newer schema than the binary; it stages
 * every file next to its target, then renames each into place (stale WAL files of the old
 * database are removed first). An older schema is fine: the server migrates it at start.
 * Both print a JSON summary on stdout and exit 0, or print the reason on stderr and exit 1
 * (2 for a bad command line). */
#ifndef FY_SERVER_BACKUP_H
#define FY_SERVER_BACKUP_H

#include <stdbool.h>

#define FY_BACKUP_FORMAT         1
#define FY_BACKUP_STEP_PAGES     256 /* pages per sqlite3_backup_step (1 MiB with 4 KiB pages) */
#define FY_BACKUP_STEP_PAGES_MAX 1000000 /* --step-pages bound */
#define FY_BACKUP_STEP_SLEEP_US  1000    /* pause between steps */
#define FY_BACKUP_BUSY_TRIES     5000    /* steps that may meet a locked database (~5 s) */

/* "backup" or "restore". */
bool fy_backup_is_command(const char *arg);

/* Runs the subcommand in argv[0] with its options argv[1..argc); returns the exit status. */
int fy_backup_command(int argc, char **argv);

#endif
