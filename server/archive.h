/* The backup file: an SQLite archive (https://sqlite.org/sqlar.html), one table
 * sqlar(name, mode, mtime, sz, data) with every entry stored uncompressed (sz = length(data)),
 * so `sqlite3 FILE -Atv` lists it and `sqlite3 FILE -Ax` extracts it without fleetyard.
 * File contents are streamed through incremental blob I/O: a multi-gigabyte database is never
 * held in memory. An archive is written inside one transaction; nothing is visible in the file
 * until fy_archive_commit. */
#ifndef FY_SERVER_ARCHIVE_H
#define FY_SERVER_ARCHIVE_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define FY_ARCHIVE_CHUNK     65536 /* bytes per blob read/write */
#define FY_ARCHIVE_MAX_TEXT  65536 /* largest entry fy_archive_read_text accepts */
#define FY_ARCHIVE_MAX_NAMES 256   /* entries fy_archive_list returns */

struct fy_archive;

/* Creates a new archive at path (which must not exist) and opens its write transaction. */
FY_NODISCARD fy_err fy_archive_create(const char *path,
                                      struct fy_archive **out,
                                      struct fy_errmsg *em);

/* Opens an existing archive read-only; FY_ERR_INVALID_REQUEST when path is not an SQLite
 * archive. */
FY_NODISCARD fy_err fy_archive_open(const char *path,
                                    struct fy_archive **out,
                                    struct fy_errmsg *em);

/* Adds the regular file at path as entry name (its mode and mtime are kept). */
FY_NODISCARD fy_err fy_archive_add_file(struct fy_archive *a,
                                        const char *name,
                                        const char *path,
                                        struct fy_errmsg *em);

/* Adds text as entry name with the given permission bits. */
FY_NODISCARD fy_err fy_archive_add_text(
    struct fy_archive *a, const char *name, const char *text, unsigned perm, struct fy_errmsg *em);

/* Commits what was added (the archive is complete only after this). */
FY_NODISCARD fy_err fy_archive_commit(struct fy_archive *a, struct fy_errmsg *em);

/* Writes entry name to a new file at path (O_EXCL, permission bits from the archive, fsync).
 * *size (optional) gets its length. FY_ERR_NOT_FOUND when the entry is missing. */
FY_NODISCARD fy_err fy_archive_extract(
    struct fy_archive *a, const char *name, const char *path, int64_t *size, struct fy_errmsg *em);

/* Entry name as a new NUL-terminated string in *out (fy_free); at most FY_ARCHIVE_MAX_TEXT. */
FY_NODISCARD fy_err fy_archive_read_text(struct fy_archive *a,
                                         const char *name,
                                         char **out,
                                         struct fy_errmsg *em);

/* The entry names (at most FY_ARCHIVE_MAX_NAMES) as new strings in names[0..*n); release them
 * with fy_archive_names_free. On failure *names is NULL and *n 0. */
FY_NODISCARD fy_err fy_archive_list(struct fy_archive *a,
                                    char ***names,
                                    size_t *n,
                                    struct fy_errmsg *em);
void fy_archive_names_free(char **names, size_t n);

/* Closes (rolling back an uncommitted archive). Accepts NULL. */
void fy_archive_close(struct fy_archive *a);

#endif
