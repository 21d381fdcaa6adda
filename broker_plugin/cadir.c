/* fleetyard broker plugin: registered CA certificates in the TLS listener's trust directory.
 *
 * The listener trusts the fleetyard CA (cafile) and every CA in `capath` (<data dir>/pki/cas),
 * an OpenSSL hash directory: files named <subject hash>.<n>. OpenSSL looks a CA up there when
 * a client certificate needs it, so a CA registered while the broker runs is trusted from its
 * first device, without a restart. The plugin writes the directory at start and whenever the
 * security epoch moves (a registration inserts a CA row; the schema's triggers bump the epoch).
 * INACTIVE CAs stay in the directory — chains still verify — and their devices are refused at
 * CONNECT by status (auth.c); a deleted CA's file is removed (OpenSSL may keep a copy it has
 * already loaded; the plugin refuses that CA's certificates anyway).
 */
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "broker_plugin/plugin_int.h"
#include "core/log.h"

#define CA_FILE_MAX   (FY_PLUGIN_PATH_MAX + 16)
#define SAME_HASH_MAX 16 /* CAs sharing one subject hash (.0 ... .15) */
#define CA_PEM_MAX    (64 * 1024)

static const char SQL_CAS[] = "SELECT pem FROM ca_certificates ORDER BY id";

/* The subject hash of a PEM certificate, or false when it does not parse. */
static bool subject_hash(const char *pem, unsigned long *out)
{
    BIO *bio = BIO_new_mem_buf(pem, -1);
    X509 *x = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
    if (x) {
        *out = X509_subject_name_hash(x);
    }
    X509_free(x);
    BIO_free(bio);
    return x != NULL;
}

/* True when path already holds exactly text. */
static bool same_content(const char *path, const char *text)
{
    static char buf[CA_PEM_MAX];
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, sizeof(buf), f) : 0;
    if (f) {
        fclose(f);
    }
    return f && n == strlen(text) && memcmp(buf, text, n) == 0;
}

/* Writes text to path through a temporary file and rename (a reader never sees half). */
static bool write_atomically(const char *path, const char *text)
{
    char tmp[CA_FILE_MAX + 8];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    bool ok = f && fputs(text, f) >= 0;
    if (f) {
        ok = fclose(f) == 0 && ok;
    }
    return ok && rename(tmp, path) == 0;
}

/* Names taken so far in this sync: <hash>.<n> for each hash seen. */
struct taken {
    unsigned long hash[FY_PLUGIN_CA_MAX];
    char name[FY_PLUGIN_CA_MAX][16];
    size_t n;
};

static const char *take_name(struct taken *t, unsigned long hash)
{
    unsigned k = 0;
    for (size_t i = 0; i < t->n; i++) {
        k += t->hash[i] == hash;
    }
    if (t->n == FY_PLUGIN_CA_MAX || k >= SAME_HASH_MAX) {
        return NULL;
    }
    t->hash[t->n] = hash;
    snprintf(t->name[t->n], sizeof(t->name[0]), "%08lx.%u", hash, k);
    return t->name[t->n++];
}

static bool is_taken(const struct taken *t, const char *name)
{
    for (size_t i = 0; i < t->n; i++) {
        if (strcmp(t->name[i], name) == 0) {
            return true;
        }
    }
    return false;
}

/* Removes the files of CAs that are no longer registered. */
static void remove_stale(const char *dir, const struct taken *t)
{
    DIR *d = opendir(dir);
    struct dirent *ent;
    while (d && (ent = readdir(d)) != NULL) {
        char path[CA_FILE_MAX + 300];
        if (ent->d_name[0] == '.' || is_taken(t, ent->d_name)) {
            continue;
        }
        snprintf(path, sizeof(path), "%s/%s", dir, ent->d_name);
        unlink(path);
    }
    if (d) {
        closedir(d);
    }
}

void fy_cadir_sync(struct fy_plugin *p)
{
    static struct taken t;
    struct fy_errmsg em = {""};
    if (!p->ca_dir[0]) {
        return;
    }
    sqlite3_stmt *st = fy_db_stmt(p->db, SQL_CAS, &em);
    if (!st) {
        fy_log(FY_LOG_ERROR, "cadir", "cannot read CA certificates: %s", em.msg);
        return;
    }
    t.n = 0;
    bool complete = true;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *pem = fy_col_text(st, 0);
        unsigned long hash;
        const char *name = subject_hash(pem, &hash) ? take_name(&t, hash) : NULL;
        char path[CA_FILE_MAX];
        if (!name || strlen(pem) >= CA_PEM_MAX) {
            complete = false;
            continue;
        }
        snprintf(path, sizeof(path), "%s/%s", p->ca_dir, name);
        if (!same_content(path, pem) && !write_atomically(path, pem)) {
            fy_log(FY_LOG_ERROR, "cadir", "cannot write %.300s", path);
        }
    }
    fy_stmt_done(st);
    if (complete) {
        remove_stale(p->ca_dir, &t);
    } else {
        fy_log(FY_LOG_WARN, "cadir", "some CA certificates could not be placed in %.300s",
               p->ca_dir);
    }
}
