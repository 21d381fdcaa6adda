/* fleetyard-server restore (see backup.h): check the archive, take the data directory's lock,
 * stage every file next to its target, then rename each into place. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/db.h"
#include "core/json.h"
#include "server/archive.h"
#include "server/backup.h"
#include "server/backup_int.h"
#include "server/datadir.h"

#define STAGE ".restore-tmp" /* suffix of staged files and of the staged pki directory */

/* The restore in progress. */
struct restore {
    const struct fy_backup_cmd *c;
    struct fy_archive *a;
    char **names; /* archive entries */
    size_t nnames;
    int schema_version; /* of the restored database */
    int64_t db_bytes;
    bool has_pki;
};

static void
path_in(const struct restore *r, const char *name, const char *suffix, char *buf, size_t n)
{
    snprintf(buf, n, "%s/%s%s", r->c->cfg.data_dir, name, suffix);
}

/* Removes a staged or replaced pki/ directory: its files and the subdirectories up to depth
 * below it (pki/cas, which the broker plugin rebuilds from the database). Missing is fine;
 * symbolic links are removed, never followed. */
static void remove_tree(const char *dir, int depth)
{
    char path[FY_PATH_MAX + 64 + 260];
    struct stat st;
    DIR *d = opendir(dir);
    if (!d) {
        return;
    }
    struct dirent *de;
    while ((de = readdir(d))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) {
            continue;
        }
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        if (depth > 0 && lstat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
            remove_tree(path, depth - 1);
        } else {
            unlink(path);
        }
    }
    closedir(d);
    rmdir(dir);
}

/* Removes whatever an interrupted restore may have staged. */
static void clear_stage(const struct restore *r)
{
    static const char *const files[] = {FY_BACKUP_DB, FY_BACKUP_CREDENTIALS, FY_BACKUP_CONF};
    char path[FY_PATH_MAX + 64];
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        path_in(r, files[i], STAGE, path, sizeof(path));
        unlink(path);
    }
    path_in(r, FY_BACKUP_PKI, STAGE, path, sizeof(path));
    remove_tree(path, 1);
    path_in(r, FY_BACKUP_PKI, ".old" STAGE, path, sizeof(path));
    remove_tree(path, 1);
}

/* Every entry must be one fleetyard writes: nothing lands outside the data directory. */
static fy_err check_names(struct restore *r, struct fy_errmsg *em)
{
    bool has_db = false;
    for (size_t i = 0; i < r->nnames; i++) {
        const char *n = r->names[i];
        bool pki = strncmp(n, FY_BACKUP_PKI "/", sizeof(FY_BACKUP_PKI)) == 0;
        if (pki && fy_backup_pki_name_ok(n + sizeof(FY_BACKUP_PKI))) {
            r->has_pki = true;
        } else if (strcmp(n, FY_BACKUP_DB) == 0) {
            has_db = true;
        } else if (strcmp(n, FY_BACKUP_CREDENTIALS) != 0 && strcmp(n, FY_BACKUP_CONF) != 0 &&
                   strcmp(n, FY_BACKUP_MANIFEST) != 0) {
            return fy_fail(em, FY_ERR_INVALID_REQUEST,
                           "the backup holds an unexpected entry %.100s", n);
        }
    }
    return has_db ? FY_ERR_OK : fy_fail(em, FY_ERR_INVALID_REQUEST, "the backup has no database");
}

/* Opens the archive and checks its manifest and entry names. */
static fy_err open_backup(struct restore *r, struct fy_errmsg *em)
{
    char *text = NULL;
    fy_err e = fy_archive_open(r->c->file, &r->a, em);
    if (!e) {
        e = fy_archive_read_text(r->a, FY_BACKUP_MANIFEST, &text, em);
        if (e == FY_ERR_NOT_FOUND) {
            e = fy_fail(em, FY_ERR_INVALID_REQUEST, "%.200s is not a fleetyard backup", r->c->file);
        }
    }
    json_t *j = text ? fy_json_loads(text, 0) : NULL;
    json_int_t format = json_integer_value(json_object_get(j, "format"));
    if (!e && format != FY_BACKUP_FORMAT) {
        e = fy_fail(em, FY_ERR_INVALID_REQUEST,
                    "%.200s: unsupported backup format %lld (this binary reads %d)", r->c->file,
                    (long long)format, FY_BACKUP_FORMAT);
    }
    json_decref(j);
    fy_free(text);
    if (!e) {
        e = fy_archive_list(r->a, &r->names, &r->nnames, em);
    }
    return e ? e : check_names(r, em);
}

/* Extracts and checks the database: intact, and not newer than this binary. */
static fy_err stage_db(struct restore *r, struct fy_errmsg *em)
{
    char path[FY_PATH_MAX + 64];
    path_in(r, FY_BACKUP_DB, STAGE, path, sizeof(path));
    fy_err e = fy_archive_extract(r->a, FY_BACKUP_DB, path, &r->db_bytes, em);
    if (!e) {
        e = fy_backup_verify_db(path, &r->schema_version, em);
    }
    if (!e && r->schema_version > fy_db_schema_version()) {
        e = fy_fail(em, FY_ERR_INVALID_REQUEST,
                    "the backup's schema version %d is newer than this binary's (%d): restore it "
                    "with a newer fleetyard",
                    r->schema_version, fy_db_schema_version());
    }
    return e;
}

/* Extracts the other entries: files to <name>.restore-tmp, pki/ into pki.restore-tmp/. */
static fy_err stage_files(struct restore *r, struct fy_errmsg *em)
{
    char path[FY_PATH_MAX + 160], dir[FY_PATH_MAX + 64];
    path_in(r, FY_BACKUP_PKI, STAGE, dir, sizeof(dir));
    if (r->has_pki && mkdir(dir, 0700) != 0) {
        return fy_fail(em, FY_ERR_INTERNAL, "cannot create %.200s: %s", dir, strerror(errno));
    }
    fy_err e = FY_ERR_OK;
    for (size_t i = 0; !e && i < r->nnames; i++) {
        const char *n = r->names[i];
        if (strcmp(n, FY_BACKUP_DB) == 0 || strcmp(n, FY_BACKUP_MANIFEST) == 0) {
            continue;
        }
        if (strncmp(n, FY_BACKUP_PKI "/", sizeof(FY_BACKUP_PKI)) == 0) {
            snprintf(path, sizeof(path), "%s/%s", dir, n + sizeof(FY_BACKUP_PKI));
        } else {
            path_in(r, n, STAGE, path, sizeof(path));
        }
        e = fy_archive_extract(r->a, n, path, NULL, em);
    }
    return e;
}

static fy_err move(const char *from, const char *to, struct fy_errmsg *em)
{
    if (rename(from, to) != 0) {
        return fy_fail(em, FY_ERR_INTERNAL, "cannot rename %.200s to %.200s: %s", from, to,
                       strerror(errno));
    }
    return FY_ERR_OK;
}

/* Renames a staged file over its target when it was staged. */
static fy_err install_file(const struct restore *r, const char *name, struct fy_errmsg *em)
{
    char from[FY_PATH_MAX + 64], to[FY_PATH_MAX + 64];
    path_in(r, name, STAGE, from, sizeof(from));
    path_in(r, name, "", to, sizeof(to));
    return access(from, F_OK) == 0 ? move(from, to, em) : FY_ERR_OK;
}

/* The staged pki directory replaces the current one (kept aside until the swap is done). */
static fy_err install_pki(const struct restore *r, struct fy_errmsg *em)
{
    char staged[FY_PATH_MAX + 64], live[FY_PATH_MAX + 64], old[FY_PATH_MAX + 64];
    if (!r->has_pki) {
        return FY_ERR_OK;
    }
    path_in(r, FY_BACKUP_PKI, STAGE, staged, sizeof(staged));
    path_in(r, FY_BACKUP_PKI, "", live, sizeof(live));
    path_in(r, FY_BACKUP_PKI, ".old" STAGE, old, sizeof(old));
    fy_err e = access(live, F_OK) == 0 ? move(live, old, em) : FY_ERR_OK;
    if (!e) {
        e = move(staged, live, em);
    }
    remove_tree(old, 1);
    return e;
}

/* Puts everything in place. The old database's WAL and shared-memory files go first: a WAL
 * left next to the restored database would be replayed into it. */
static fy_err install(const struct restore *r, struct fy_errmsg *em)
{
    static const char *const stale[] = {"-wal", "-shm"};
    char path[FY_PATH_MAX + 64];
    fy_err e = install_pki(r, em);
    if (!e) {
        e = install_file(r, FY_BACKUP_CREDENTIALS, em);
    }
    if (!e) {
        e = install_file(r, FY_BACKUP_CONF, em);
    }
    for (size_t i = 0; !e && i < sizeof(stale) / sizeof(stale[0]); i++) {
        path_in(r, FY_BACKUP_DB, stale[i], path, sizeof(path));
        if (unlink(path) != 0 && errno != ENOENT) {
            e = fy_fail(em, FY_ERR_INTERNAL, "cannot remove %.200s: %s", path, strerror(errno));
        }
    }
    if (!e) {
        e = install_file(r, FY_BACKUP_DB, em);
    }
    path_in(r, "env.sh", "", path, sizeof(path));
    unlink(path); /* its ports are those of the old server; the next start writes it */
    return e;
}

static json_t *restore_summary(const struct restore *r, double seconds)
{
    char conf[FY_PATH_MAX + 64];
    json_t *j_files = json_array();
    for (size_t i = 0; j_files && i < r->nnames; i++) {
        if (strcmp(r->names[i], FY_BACKUP_MANIFEST) != 0 &&
            json_array_append_new(j_files, json_string(r->names[i])) != 0) {
            json_decref(j_files); /* the pack below then fails: no summary, not a short one */
            j_files = NULL;
        }
    }
    path_in(r, FY_BACKUP_CONF, "", conf, sizeof(conf));
    bool has_conf = access(conf, F_OK) == 0;
    return json_pack("{s:s, s:s, s:i, s:i, s:s, s:I, s:o, s:s?, s:f}", "restored", r->c->file,
                     "data_dir", r->c->cfg.data_dir, "schema_version", r->schema_version,
                     "binary_schema_version", fy_db_schema_version(), "integrity", "ok",
                     "database_bytes", (json_int_t)r->db_bytes, "files", j_files, "config",
                     has_conf ? conf : NULL, "seconds", seconds);
}

static fy_err run_restore(struct restore *r, int *lock_fd, struct fy_errmsg *em)
{
    fy_err e = open_backup(r, em);
    if (!e) {
        e = fy_datadir_prepare(&r->c->cfg, em);
    }
    if (!e) {
        e = fy_datadir_lock(&r->c->cfg, lock_fd, em);
    }
    if (e) {
        return e;
    }
    clear_stage(r);
    e = stage_db(r, em);
    if (!e) {
        e = stage_files(r, em);
    }
    if (!e) {
        e = install(r, em);
    }
    clear_stage(r);
    return e;
}

int fy_restore_run(const struct fy_backup_cmd *c)
{
    struct fy_errmsg em = {""};
    struct restore r = {.c = c, .schema_version = -1};
    int lock_fd = -1;
    double t0 = fy_backup_now();
    fy_err e = run_restore(&r, &lock_fd, &em);
    if (e) {
        fprintf(stderr, "fleetyard-server restore: %s\n", em.msg);
    } else {
        fy_backup_print(restore_summary(&r, fy_backup_now() - t0));
    }
    fy_datadir_unlock(lock_fd);
    fy_archive_names_free(r.names, r.nnames);
    fy_archive_close(r.a);
    return e ? 1 : 0;
}
