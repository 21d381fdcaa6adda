#include "server/archive.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "core/alloc.h"
#include "core/db.h"

struct fy_archive {
    sqlite3 *h;
};

static const char SQL_SCHEMA[] =
    "CREATE TABLE sqlar(name TEXT PRIMARY KEY, mode INT, mtime INT, sz INT, data BLOB)";
static const char SQL_INSERT[] =
    "INSERT INTO sqlar(name, mode, mtime, sz, data) VALUES (?, ?, ?, ?, zeroblob(?))";
static const char SQL_FIND[] = "SELECT rowid, mode, sz, length(data) FROM sqlar WHERE name = ?";

static fy_err sql_fail(struct fy_archive *a, const char *what, struct fy_errmsg *em)
{
    return fy_fail(em, FY_ERR_INTERNAL, "archive: %s: %s", what, sqlite3_errmsg(a->h));
}

static fy_err
open_handle(const char *path, int flags, struct fy_archive **out, struct fy_errmsg *em)
{
    struct fy_archive *a = fy_calloc(1, sizeof(*a));
    if (!a) {
        return fy_fail(em, FY_ERR_NOMEM, "Out of memory");
    }
    if (sqlite3_open_v2(path, &a->h, flags, NULL) != SQLITE_OK) {
        fy_err e = fy_fail(em, FY_ERR_INVALID_REQUEST, "cannot open %.200s: %s", path,
                           a->h ? sqlite3_errmsg(a->h) : "out of memory");
        fy_archive_close(a);
        return e;
    }
    sqlite3_extended_result_codes(a->h, 1);
    *out = a;
    return FY_ERR_OK;
}

fy_err fy_archive_create(const char *path, struct fy_archive **out, struct fy_errmsg *em)
{
    struct stat st;
    if (lstat(path, &st) == 0) {
        return fy_fail(em, FY_ERR_ALREADY_EXISTS, "%.200s already exists", path);
    }
    fy_err e = open_handle(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, out, em);
    if (!e && sqlite3_exec((*out)->h, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        e = sql_fail(*out, "begin", em);
    }
    if (!e && sqlite3_exec((*out)->h, SQL_SCHEMA, NULL, NULL, NULL) != SQLITE_OK) {
        e = sql_fail(*out, "create table", em);
    }
    if (e && *out) {
        fy_archive_close(*out);
        *out = NULL;
    }
    return e;
}

fy_err fy_archive_open(const char *path, struct fy_archive **out, struct fy_errmsg *em)
{
    sqlite3_stmt *st = NULL;
    *out = NULL;
    fy_err e = open_handle(path, SQLITE_OPEN_READONLY, out, em);
    if (e) {
        return e;
    }
    /* A file that is not an SQLite database fails here (SQLite reads the header lazily). */
    if (sqlite3_prepare_v2((*out)->h, SQL_FIND, -1, &st, NULL) != SQLITE_OK) {
        e = fy_fail(em, FY_ERR_INVALID_REQUEST, "%.200s is not a fleetyard backup (%s)", path,
                    sqlite3_errmsg((*out)->h));
        fy_archive_close(*out);
        *out = NULL;
    }
    sqlite3_finalize(st);
    return e;
}

/* Prepares sql (which names the entry in its first parameter) and binds name. */
static fy_err prepare_named(struct fy_archive *a,
                            const char *sql,
                            const char *name,
                            sqlite3_stmt **st,
                            struct fy_errmsg *em)
{
    if (sqlite3_prepare_v2(a->h, sql, -1, st, NULL) != SQLITE_OK) {
        return sql_fail(a, "prepare", em);
    }
    sqlite3_bind_text(*st, 1, name, -1, SQLITE_STATIC);
    return FY_ERR_OK;
}

/* Inserts the row for name with a zero-filled blob of size bytes; *rowid gets its rowid. */
static fy_err insert_entry(struct fy_archive *a,
                           const char *name,
                           unsigned mode,
                           int64_t mtime,
                           int64_t size,
                           sqlite3_int64 *rowid,
                           struct fy_errmsg *em)
{
    sqlite3_stmt *st;
    fy_err e = prepare_named(a, SQL_INSERT, name, &st, em);
    if (e) {
        return e;
    }
    sqlite3_bind_int64(st, 2, mode);
    sqlite3_bind_int64(st, 3, mtime);
    sqlite3_bind_int64(st, 4, size);
    sqlite3_bind_int64(st, 5, size);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        return sql_fail(a, name, em);
    }
    *rowid = sqlite3_last_insert_rowid(a->h);
    return FY_ERR_OK;
}

/* Copies fd's contents into the blob of rowid, which has room for exactly size bytes. */
static fy_err copy_in(struct fy_archive *a,
                      sqlite3_int64 rowid,
                      int fd,
                      int64_t size,
                      const char *path,
                      struct fy_errmsg *em)
{
    sqlite3_blob *blob;
    if (sqlite3_blob_open(a->h, "main", "sqlar", "data", rowid, 1, &blob) != SQLITE_OK) {
        return sql_fail(a, "blob open", em);
    }
    char *buf = fy_malloc(FY_ARCHIVE_CHUNK);
    fy_err e = buf ? FY_ERR_OK : fy_fail(em, FY_ERR_NOMEM, "Out of memory");
    for (int64_t off = 0; !e && off < size;) {
        size_t want = size - off < FY_ARCHIVE_CHUNK ? (size_t)(size - off) : FY_ARCHIVE_CHUNK;
        ssize_t n = read(fd, buf, want);
        if (n <= 0) {
            e = fy_fail(em, FY_ERR_INTERNAL, "cannot read %.200s: %s", path,
                        n < 0 ? strerror(errno) : "file shrank while being archived");
        } else if (sqlite3_blob_write(blob, buf, (int)n, (int)off) != SQLITE_OK) {
            e = sql_fail(a, "blob write", em);
        } else {
            off += n;
        }
    }
    fy_free(buf);
    sqlite3_blob_close(blob);
    return e;
}

fy_err
fy_archive_add_file(struct fy_archive *a, const char *name, const char *path, struct fy_errmsg *em)
{
    struct stat st;
    sqlite3_int64 rowid;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        fy_err e = fy_fail(em, FY_ERR_INTERNAL, "cannot read %.200s: %s", path,
                           fd < 0 ? strerror(errno) : "not a regular file");
        if (fd >= 0) {
            close(fd);
        }
        return e;
    }
    if (st.st_size > INT32_MAX) { /* sqlite3_blob offsets are int */
        close(fd);
        return fy_fail(em, FY_ERR_LIMIT_EXCEEDED, "%.200s is larger than 2 GiB", path);
    }
    fy_err e = insert_entry(a, name, (unsigned)st.st_mode, (int64_t)st.st_mtime,
                            (int64_t)st.st_size, &rowid, em);
    if (!e) {
        e = copy_in(a, rowid, fd, (int64_t)st.st_size, path, em);
    }
    close(fd);
    return e;
}

fy_err fy_archive_add_text(
    struct fy_archive *a, const char *name, const char *text, unsigned perm, struct fy_errmsg *em)
{
    sqlite3_int64 rowid;
    sqlite3_blob *blob;
    int64_t len = (int64_t)strlen(text);
    fy_err e =
        insert_entry(a, name, S_IFREG | (perm & 07777), (int64_t)time(NULL), len, &rowid, em);
    if (e || len == 0) {
        return e;
    }
    if (sqlite3_blob_open(a->h, "main", "sqlar", "data", rowid, 1, &blob) != SQLITE_OK) {
        return sql_fail(a, "blob open", em);
    }
    if (sqlite3_blob_write(blob, text, (int)len, 0) != SQLITE_OK) {
        e = sql_fail(a, "blob write", em);
    }
    sqlite3_blob_close(blob);
    return e;
}

fy_err fy_archive_commit(struct fy_archive *a, struct fy_errmsg *em)
{
    return sqlite3_exec(a->h, "COMMIT", NULL, NULL, NULL) == SQLITE_OK ? FY_ERR_OK
                                                                       : sql_fail(a, "commit", em);
}

/* Looks name up: its rowid, mode and size. Entries stored compressed (sz != length(data), as
 * `sqlite3 -Ac` writes them) are refused: fleetyard writes them uncompressed. */
static fy_err find_entry(struct fy_archive *a,
                         const char *name,
                         sqlite3_int64 *rowid,
                         unsigned *mode,
                         int64_t *size,
                         struct fy_errmsg *em)
{
    sqlite3_stmt *st;
    fy_err e = prepare_named(a, SQL_FIND, name, &st, em);
    if (e) {
        return e;
    }
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *rowid = sqlite3_column_int64(st, 0);
        *mode = (unsigned)sqlite3_column_int64(st, 1);
        *size = sqlite3_column_int64(st, 3);
        if (sqlite3_column_int64(st, 2) != *size) {
            e = fy_fail(em, FY_ERR_INVALID_REQUEST, "backup entry %.100s is compressed", name);
        }
    } else if (rc == SQLITE_DONE) {
        e = fy_fail(em, FY_ERR_NOT_FOUND, "the backup has no %.100s", name);
    } else {
        e = fy_fail(em, FY_ERR_INVALID_REQUEST, "cannot read the backup: %s", sqlite3_errmsg(a->h));
    }
    sqlite3_finalize(st);
    return e;
}

/* Copies size bytes of rowid's blob to fd. */
static fy_err
copy_out(struct fy_archive *a, sqlite3_int64 rowid, int fd, int64_t size, struct fy_errmsg *em)
{
    sqlite3_blob *blob;
    if (sqlite3_blob_open(a->h, "main", "sqlar", "data", rowid, 0, &blob) != SQLITE_OK) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST, "cannot read the backup: %s",
                       sqlite3_errmsg(a->h));
    }
    char *buf = fy_malloc(FY_ARCHIVE_CHUNK);
    fy_err e = buf ? FY_ERR_OK : fy_fail(em, FY_ERR_NOMEM, "Out of memory");
    for (int64_t off = 0; !e && off < size;) {
        int n = size - off < FY_ARCHIVE_CHUNK ? (int)(size - off) : FY_ARCHIVE_CHUNK;
        if (sqlite3_blob_read(blob, buf, n, (int)off) != SQLITE_OK) {
            e = fy_fail(em, FY_ERR_INVALID_REQUEST, "cannot read the backup: %s",
                        sqlite3_errmsg(a->h));
        } else if (write(fd, buf, (size_t)n) != n) {
            e = fy_fail(em, FY_ERR_INTERNAL, "write failed: %s", strerror(errno));
        } else {
            off += n;
        }
    }
    fy_free(buf);
    sqlite3_blob_close(blob);
    return e;
}

fy_err fy_archive_extract(
    struct fy_archive *a, const char *name, const char *path, int64_t *size, struct fy_errmsg *em)
{
    sqlite3_int64 rowid = 0;
    unsigned mode = 0;
    int64_t len = 0;
    fy_err e = find_entry(a, name, &rowid, &mode, &len, em);
    if (e) {
        return e;
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, (mode_t)(mode & 0600));
    if (fd < 0) {
        return fy_fail(em, FY_ERR_INTERNAL, "cannot create %.200s: %s", path, strerror(errno));
    }
    e = copy_out(a, rowid, fd, len, em);
    if (!e && fsync(fd) != 0) {
        e = fy_fail(em, FY_ERR_INTERNAL, "cannot sync %.200s: %s", path, strerror(errno));
    }
    close(fd);
    if (e) {
        unlink(path);
    } else if (size) {
        *size = len;
    }
    return e;
}

fy_err
fy_archive_read_text(struct fy_archive *a, const char *name, char **out, struct fy_errmsg *em)
{
    sqlite3_int64 rowid = 0;
    unsigned mode = 0;
    int64_t len = 0;
    sqlite3_blob *blob = NULL;
    fy_err e = find_entry(a, name, &rowid, &mode, &len, em);
    if (!e && len > FY_ARCHIVE_MAX_TEXT) {
        e = fy_fail(em, FY_ERR_INVALID_REQUEST, "backup entry %.100s is too large", name);
    }
    if (!e && !(*out = fy_malloc((size_t)len + 1))) {
        e = fy_fail(em, FY_ERR_NOMEM, "Out of memory");
    }
    if (e) {
        return e;
    }
    if (len > 0 &&
        (sqlite3_blob_open(a->h, "main", "sqlar", "data", rowid, 0, &blob) != SQLITE_OK ||
         sqlite3_blob_read(blob, *out, (int)len, 0) != SQLITE_OK)) {
        e = fy_fail(em, FY_ERR_INVALID_REQUEST, "cannot read the backup: %s", sqlite3_errmsg(a->h));
        FY_FREE(*out);
    } else {
        (*out)[len] = '\0';
    }
    sqlite3_blob_close(blob);
    return e;
}

void fy_archive_names_free(char **names, size_t n)
{
    for (size_t i = 0; names && i < n; i++) {
        fy_free(names[i]);
    }
    fy_free(names);
}

fy_err fy_archive_list(struct fy_archive *a, char ***names, size_t *n, struct fy_errmsg *em)
{
    sqlite3_stmt *st;
    *n = 0;
    *names = fy_calloc(FY_ARCHIVE_MAX_NAMES, sizeof(char *));
    if (!*names) {
        return fy_fail(em, FY_ERR_NOMEM, "Out of memory");
    }
    fy_err e = FY_ERR_OK;
    if (sqlite3_prepare_v2(a->h, "SELECT name FROM sqlar ORDER BY name", -1, &st, NULL) !=
        SQLITE_OK) {
        e = sql_fail(a, "list", em);
        fy_archive_names_free(*names, 0);
        *names = NULL;
        return e;
    }
    int rc;
    while (!e && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == FY_ARCHIVE_MAX_NAMES) {
            e = fy_fail(em, FY_ERR_INVALID_REQUEST, "the backup has too many entries");
        } else if (!((*names)[(*n)++] = fy_strdup(fy_col_text(st, 0)))) {
            e = fy_fail(em, FY_ERR_NOMEM, "Out of memory");
        }
    }
    if (!e && rc != SQLITE_DONE) {
        e = fy_fail(em, FY_ERR_INVALID_REQUEST, "cannot read the backup: %s", sqlite3_errmsg(a->h));
    }
    sqlite3_finalize(st);
    if (e) { /* nothing is returned on failure */
        fy_archive_names_free(*names, *n);
        *names = NULL;
        *n = 0;
    }
    return e;
}

void fy_archive_close(struct fy_archive *a)
{
    if (a) {
        sqlite3_close_v2(a->h);
        fy_free(a);
    }
}
