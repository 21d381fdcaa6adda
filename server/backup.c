#include "server/backup.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "core/alloc.h"
#include "core/db.h"
#include "core/json.h"
#include "core/names.h"
#include "server/archive.h"
#include "server/backup_int.h"
#include "server/datadir.h"

/* What a backup run produced (for the manifest and the summary). */
struct backup_info {
    int schema_version;
    int pages;
    int steps;
    int64_t db_bytes;
    json_t *j_files; /* entry names, in archive order */
};

bool fy_backup_is_command(const char *arg)
{
    return strcmp(arg, "backup") == 0 || strcmp(arg, "restore") == 0;
}

double fy_backup_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void fy_backup_print(json_t *j)
{
    char *text = fy_json_dump(j);
    if (text) {
        printf("%s\n", text);
        fflush(stdout);
    }
    fy_free(text);
    json_decref(j);
}

bool fy_backup_pki_name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > FY_BACKUP_NAME_MAX || name[0] == '.') {
        return false;
    }
    return strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

static void nap(long us)
{
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

/* One integer from a single-row pragma; -1 on error. */
static int pragma_int(sqlite3 *h, const char *sql)
{
    sqlite3_stmt *st;
    int v = -1;
    if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW) {
            v = sqlite3_column_int(st, 0);
        }
        sqlite3_finalize(st);
    }
    return v;
}

/* Runs PRAGMA integrity_check; ok when its only row is "ok", else the first finding. */
static fy_err integrity(sqlite3 *h, const char *path, struct fy_errmsg *em)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(h, "PRAGMA integrity_check", -1, &st, NULL) != SQLITE_OK) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST, "%.200s is not a usable database: %s", path,
                       sqlite3_errmsg(h));
    }
    int rc = sqlite3_step(st);
    fy_err e = FY_ERR_OK;
    if (rc != SQLITE_ROW) {
        e = fy_fail(em, FY_ERR_INVALID_REQUEST, "%.200s is not a usable database: %s", path,
                    sqlite3_errmsg(h));
    } else if (strcmp(fy_col_text(st, 0), "ok") != 0) {
        e = fy_fail(em, FY_ERR_INVALID_REQUEST, "%.200s failed the integrity check: %.300s", path,
                    fy_col_text(st, 0));
    }
    sqlite3_finalize(st);
    return e;
}

fy_err fy_backup_verify_db(const char *path, int *version, struct fy_errmsg *em)
{
    sqlite3 *h = NULL;
    fy_err e = FY_ERR_OK;
    if (sqlite3_open_v2(path, &h, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        e = fy_fail(em, FY_ERR_INVALID_REQUEST, "cannot open %.200s: %s", path,
                    h ? sqlite3_errmsg(h) : "out of memory");
    }
    if (!e) {
        e = integrity(h, path, em);
    }
    if (!e && (*version = pragma_int(h, "PRAGMA user_version")) < 0) {
        e = fy_fail(em, FY_ERR_INVALID_REQUEST, "cannot read the schema version of %.200s", path);
    }
    sqlite3_close_v2(h);
    return e;
}

/* Copies src (inside its open read transaction) into dst, a step at a time. */
static fy_err
copy_pages(sqlite3 *src, sqlite3 *dst, int step, struct backup_info *bi, struct fy_errmsg *em)
{
    sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
    if (!b) {
        return fy_fail(em, FY_ERR_INTERNAL, "backup: %s", sqlite3_errmsg(dst));
    }
    int rc, busy = 0;
    do {
        rc = sqlite3_backup_step(b, step);
        bi->steps++;
        busy += (rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED;
        if (rc != SQLITE_DONE) {
            nap(FY_BACKUP_STEP_SLEEP_US);
        }
    } while (rc == SQLITE_OK || (((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED) &&
                                 busy < FY_BACKUP_BUSY_TRIES));
    bi->pages = sqlite3_backup_pagecount(b);
    int frc = sqlite3_backup_finish(b);
    if (rc != SQLITE_DONE || frc != SQLITE_OK) {
        return fy_fail(em, FY_ERR_INTERNAL, "backup failed: %s",
                       sqlite3_errstr(rc != SQLITE_DONE ? rc : frc));
    }
    return FY_ERR_OK;
}

/* Snapshots the database at src_path into the new file dst_path (see backup.h). */
static fy_err snapshot(const char *src_path,
                       const char *dst_path,
                       int step,
                       struct backup_info *bi,
                       struct fy_errmsg *em)
{
    sqlite3 *src = NULL, *dst = NULL;
    fy_err e = FY_ERR_OK;
    if (sqlite3_open_v2(src_path, &src, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        e = fy_fail(em, FY_ERR_INTERNAL, "cannot open %.200s: %s", src_path,
                    src ? sqlite3_errmsg(src) : "out of memory");
    }
    if (!e) {
        sqlite3_busy_timeout(src, FY_DB_BUSY_TIMEOUT_MS);
        /* The read transaction that pins the snapshot, until the COMMIT below. */
        if (sqlite3_exec(src, "BEGIN; SELECT count(*) FROM sqlite_master", NULL, NULL, NULL) !=
            SQLITE_OK) {
            e = fy_fail(em, FY_ERR_INTERNAL, "cannot read %.200s: %s", src_path,
                        sqlite3_errmsg(src));
        }
    }
    if (!e) {
        bi->schema_version = pragma_int(src, "PRAGMA user_version");
        if (sqlite3_open_v2(dst_path, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
            SQLITE_OK) {
            e = fy_fail(em, FY_ERR_INTERNAL, "cannot create %.200s: %s", dst_path,
                        dst ? sqlite3_errmsg(dst) : "out of memory");
        }
    }
    if (!e) {
        e = copy_pages(src, dst, step, bi, em);
    }
    sqlite3_exec(src, "COMMIT", NULL, NULL, NULL);
    sqlite3_close_v2(dst);
    sqlite3_close_v2(src);
    return e;
}

/* Adds path as name and lists it in bi->j_files. */
static fy_err add_listed(struct fy_archive *a,
                         const char *name,
                         const char *path,
                         struct backup_info *bi,
                         struct fy_errmsg *em)
{
    fy_err e = fy_archive_add_file(a, name, path, em);
    if (!e && json_array_append_new(bi->j_files, json_string(name)) != 0) {
        e = fy_fail(em, FY_ERR_NOMEM, "Out of memory");
    }
    return e;
}

/* Adds path as name when it exists (a missing optional file is skipped). */
static fy_err add_if_present(struct fy_archive *a,
                             const char *name,
                             const char *path,
                             struct backup_info *bi,
                             struct fy_errmsg *em)
{
    return access(path, F_OK) != 0 ? FY_ERR_OK : add_listed(a, name, path, bi, em);
}

/* Adds the regular files of <data dir>/pki as pki/<name>. */
static fy_err
add_pki(struct fy_archive *a, const char *data_dir, struct backup_info *bi, struct fy_errmsg *em)
{
    char dir[FY_PATH_MAX + 16], path[FY_PATH_MAX + 16 + 260], name[sizeof(FY_BACKUP_PKI) + 260];
    snprintf(dir, sizeof(dir), "%s/" FY_BACKUP_PKI, data_dir);
    DIR *d = opendir(dir);
    if (!d) {
        return errno == ENOENT
                   ? FY_ERR_OK
                   : fy_fail(em, FY_ERR_INTERNAL, "cannot read %.200s: %s", dir, strerror(errno));
    }
    fy_err e = FY_ERR_OK;
    struct dirent *de;
    struct stat st;
    while (!e && (de = readdir(d))) {
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        if (!fy_backup_pki_name_ok(de->d_name) || stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
            continue;
        }
        snprintf(name, sizeof(name), FY_BACKUP_PKI "/%s", de->d_name);
        e = add_if_present(a, name, path, bi, em);
    }
    closedir(d);
    return e;
}

static json_t *manifest_to_json(const struct fy_backup_cmd *c, const struct backup_info *bi)
{
    char abs_dir[PATH_MAX], created[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(created, sizeof(created), "%Y-%m-%dT%H:%M:%SZ", &tm);
    const char *dir = realpath(c->cfg.data_dir, abs_dir) ? abs_dir : c->cfg.data_dir;
    return json_pack("{s:i, s:s, s:i, s:s, s:s, s:I, s:O}", "format", FY_BACKUP_FORMAT, "fleetyard",
                     FY_VERSION, "schema_version", bi->schema_version, "created", created,
                     "data_dir", dir, "database_bytes", (json_int_t)bi->db_bytes, "files",
                     bi->j_files);
}

/* Writes the archive at tmp: the snapshot at db_tmp, the other files, the manifest. */
static fy_err write_archive(const struct fy_backup_cmd *c,
                            const char *tmp,
                            const char *db_tmp,
                            struct backup_info *bi,
                            struct fy_errmsg *em)
{
    char path[FY_PATH_MAX + 32];
    struct fy_archive *a = NULL;
    fy_err e = fy_archive_create(tmp, &a, em);
    if (!e) {
        e = add_if_present(a, FY_BACKUP_DB, db_tmp, bi, em);
    }
    if (!e) {
        fy_datadir_path(&c->cfg, FY_BACKUP_CREDENTIALS, path, sizeof(path));
        e = add_if_present(a, FY_BACKUP_CREDENTIALS, path, bi, em);
    }
    if (!e) {
        e = add_pki(a, c->cfg.data_dir, bi, em);
    }
    if (!e && c->config_path) {
        e = add_listed(a, FY_BACKUP_CONF, c->config_path, bi, em);
    }
    json_t *j_manifest = e ? NULL : manifest_to_json(c, bi);
    char *text = j_manifest ? fy_json_dump(j_manifest) : NULL;
    if (!e && !text) {
        e = fy_fail(em, FY_ERR_NOMEM, "Out of memory");
    }
    if (!e) {
        e = fy_archive_add_text(a, FY_BACKUP_MANIFEST, text, 0600, em);
    }
    fy_free(text);
    json_decref(j_manifest);
    if (!e) {
        e = fy_archive_commit(a, em);
    }
    fy_archive_close(a);
    return e;
}

/* Checks the written archive: it opens as a backup and its database entry has the size of the
 * verified snapshot. */
static fy_err check_archive(const char *tmp, const struct backup_info *bi, struct fy_errmsg *em)
{
    struct fy_archive *a;
    char *text = NULL;
    fy_err e = fy_archive_open(tmp, &a, em);
    if (!e) {
        e = fy_archive_read_text(a, FY_BACKUP_MANIFEST, &text, em);
        fy_archive_close(a);
    }
    json_t *j = text ? fy_json_loads(text, 0) : NULL;
    json_int_t bytes = json_integer_value(json_object_get(j, "database_bytes"));
    if (!e && bytes != bi->db_bytes) {
        e = fy_fail(em, FY_ERR_INTERNAL, "the written backup does not read back");
    }
    json_decref(j);
    fy_free(text);
    return e;
}

static json_t *
backup_summary(const struct fy_backup_cmd *c, const struct backup_info *bi, double seconds)
{
    struct stat st;
    json_int_t size = stat(c->file, &st) == 0 ? (json_int_t)st.st_size : -1;
    return json_pack("{s:s, s:s, s:i, s:s, s:i, s:i, s:I, s:I, s:O, s:f}", "backup", c->file,
                     "data_dir", c->cfg.data_dir, "schema_version", bi->schema_version, "integrity",
                     "ok", "pages", bi->pages, "steps", bi->steps, "database_bytes",
                     (json_int_t)bi->db_bytes, "archive_bytes", size, "files", bi->j_files,
                     "seconds", seconds);
}

/* Snapshot, verify, archive to FILE.tmp, check, rename to FILE. */
static fy_err
run_backup(const struct fy_backup_cmd *c, struct backup_info *bi, struct fy_errmsg *em)
{
    char src[FY_PATH_MAX + 32], tmp[PATH_MAX], db_tmp[PATH_MAX];
    struct stat st;
    fy_datadir_path(&c->cfg, FY_BACKUP_DB, src, sizeof(src));
    if (stat(src, &st) != 0) {
        return fy_fail(em, FY_ERR_NOT_FOUND, "no fleetyard database at %.200s (check --data-dir)",
                       src);
    }
    snprintf(tmp, sizeof(tmp), "%s.tmp", c->file);
    snprintf(db_tmp, sizeof(db_tmp), "%s.db-tmp", c->file);
    unlink(tmp);
    unlink(db_tmp);
    fy_err e = snapshot(src, db_tmp, c->step_pages, bi, em);
    int version = -1;
    if (!e) {
        e = fy_backup_verify_db(db_tmp, &version, em);
    }
    if (!e && version != bi->schema_version) {
        e = fy_fail(em, FY_ERR_INTERNAL, "snapshot schema version %d, expected %d", version,
                    bi->schema_version);
    }
    if (!e && stat(db_tmp, &st) == 0) {
        bi->db_bytes = (int64_t)st.st_size;
    }
    if (!e) {
        e = write_archive(c, tmp, db_tmp, bi, em);
    }
    if (!e) {
        e = check_archive(tmp, bi, em);
    }
    if (!e && rename(tmp, c->file) != 0) {
        e = fy_fail(em, FY_ERR_INTERNAL, "cannot rename %.200s: %s", tmp, strerror(errno));
    }
    unlink(db_tmp);
    unlink(tmp);
    return e;
}

static int backup_main(const struct fy_backup_cmd *c)
{
    struct fy_errmsg em = {""};
    struct backup_info bi = {.schema_version = -1, .j_files = json_array()};
    double t0 = fy_backup_now();
    fy_err e = bi.j_files ? run_backup(c, &bi, &em) : fy_fail(&em, FY_ERR_NOMEM, "Out of memory");
    if (e) {
        fprintf(stderr, "fleetyard-server backup: %s\n", em.msg);
    } else {
        fy_backup_print(backup_summary(c, &bi, fy_backup_now() - t0));
    }
    json_decref(bi.j_files);
    return e ? 1 : 0;
}

static void usage(void)
{
    printf("usage: fleetyard-server backup --out FILE [--data-dir DIR] [--config FILE] "
           "[--step-pages N]\n"
           "       fleetyard-server restore --from FILE [--data-dir DIR] [--config FILE]\n\n"
           "backup copies a running or stopped instance (database snapshot, pki/, credentials,\n"
           "the --config file) into one SQLite archive; restore puts one back into a data\n"
           "directory no server is using. Both print a JSON summary. --step-pages: database pages\n"
           "copied per step, with a 1 ms pause between steps (default %d).\n",
           FY_BACKUP_STEP_PAGES);
}

/* Splits our own option (--out or --from) from the server options, which go through the
 * configuration parser (so --config and data-dir from a config file work as for the server). */
static int parse(int argc, char **argv, struct fy_backup_cmd *c, bool *done)
{
    struct fy_errmsg em = {""};
    const char *own = strcmp(argv[0], "backup") == 0 ? "--out" : "--from";
    const char *step = NULL;
    char **rest = fy_calloc((size_t)argc + 1, sizeof(char *));
    int n = 0;
    if (!rest) {
        return 1;
    }
    rest[n++] = argv[0];
    memset(c, 0, sizeof(*c));
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage();
            *done = true;
        } else if (strcmp(argv[i], own) == 0 && i + 1 < argc) {
            c->file = argv[++i];
        } else if (strcmp(own, "--out") == 0 && strcmp(argv[i], "--step-pages") == 0 &&
                   i + 1 < argc) {
            step = argv[++i];
        } else {
            if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
                c->config_path = argv[i + 1];
            }
            rest[n++] = argv[i];
        }
    }
    bool exit_now = false;
    fy_err e = *done ? FY_ERR_OK : fy_config_load(&c->cfg, n, rest, &exit_now, &em);
    fy_free(rest);
    int64_t pages = FY_BACKUP_STEP_PAGES;
    if (!e && step && fy_parse_i64_full(step, 1, FY_BACKUP_STEP_PAGES_MAX, &pages) != 0) {
        e = fy_fail(&em, FY_ERR_INVALID_REQUEST, "--step-pages: '%.32s' is not a number in 1..%d",
                    step, FY_BACKUP_STEP_PAGES_MAX);
    }
    c->step_pages = (int)pages;
    if (!e && !*done && !c->file) {
        e = fy_fail(&em, FY_ERR_INVALID_REQUEST, "%s FILE is required (see --help)", own);
    }
    if (e) {
        fprintf(stderr, "fleetyard-server %s: %s\n", argv[0], em.msg);
    }
    return e ? 2 : 0;
}

int fy_backup_command(int argc, char **argv)
{
    struct fy_backup_cmd c;
    bool done = false;
    int rc = parse(argc, argv, &c, &done);
    if (rc || done) {
        return rc;
    }
    return strcmp(argv[0], "backup") == 0 ? backup_main(&c) : fy_restore_run(&c);
}
