/* Key and certificate files: bounded reads and atomic writes. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "pki/pki_int.h"

static fy_err read_all(int fd, char *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            return FY_ERR_INTERNAL;
        }
        got += (size_t)r;
    }
    return FY_ERR_OK;
}

fy_err fy_pki_file_read(const char *path, char **data, size_t *len, struct fy_errmsg *em)
{
    struct stat st;
    *data = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return fy_fail(em, errno == ENOENT ? FY_ERR_NOT_FOUND : FY_ERR_INTERNAL,
                       "Cannot open %.200s: %s", path, strerror(errno));
    }
    fy_err rc = FY_ERR_INTERNAL;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > FY_PKI_PEM_MAX) {
        fy_errf(em, "%.200s is not a regular file of at most %d bytes", path, FY_PKI_PEM_MAX);
        goto out;
    }
    *len = (size_t)st.st_size;
    *data = fy_malloc(*len + 1);
    if (!*data) {
        rc = fy_fail(em, FY_ERR_NOMEM, "Out of memory reading %.200s", path);
        goto out;
    }
    rc = read_all(fd, *data, *len);
    if (rc) {
        fy_errf(em, "Cannot read %.200s", path);
        FY_FREE(*data);
        goto out;
    }
    (*data)[*len] = '\0';
out:
    close(fd);
    return rc;
}

static bool write_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, data, len);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            return false;
        }
        data += w;
        len -= (size_t)w;
    }
    return true;
}

/* fsync of the directory holding path, so that a rename survives a crash. */
static bool sync_parent(const char *path)
{
    char copy[PATH_MAX];
    if (snprintf(copy, sizeof(copy), "%s", path) >= (int)sizeof(copy)) {
        return false;
    }
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        return false;
    }
    bool good = fsync(fd) == 0;
    close(fd);
    return good;
}

fy_err fy_pki_file_write(
    const char *path, const char *data, size_t len, unsigned mode, struct fy_errmsg *em)
{
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof(tmp), "%s.tmp-XXXXXX", path) >= (int)sizeof(tmp)) {
        return fy_fail(em, FY_ERR_INTERNAL, "Path too long: %.200s", path);
    }
    int fd = mkstemp(tmp); /* created with mode 0600 */
    if (fd < 0) {
        return fy_fail(em, FY_ERR_INTERNAL, "Cannot create %.200s: %s", tmp, strerror(errno));
    }
    bool good = fchmod(fd, (mode_t)mode) == 0 && write_all(fd, data, len) && fsync(fd) == 0;
    good = close(fd) == 0 && good;
    if (good && rename(tmp, path) == 0) {
        if (!sync_parent(path)) {
            return fy_fail(em, FY_ERR_INTERNAL, "Cannot sync the directory of %.200s", path);
        }
        return FY_ERR_OK;
    }
    int saved = errno;
    unlink(tmp);
    return fy_fail(em, FY_ERR_INTERNAL, "Cannot write %.200s: %s", path, strerror(saved));
}

/* Prefixes em's message with path (loading errors must say which file). */
static void prefix_path(struct fy_errmsg *em, const char *path)
{
    if (em) {
        struct fy_errmsg copy = *em;
        fy_errf(em, "%.200s: %s", path, copy.msg);
    }
}

typedef fy_err (*pem_parse_fn)(const char *pem, size_t len, void *out, struct fy_errmsg *em);

/* Reads path and parses it with parse; the buffer is cleansed (it may hold a key). */
static fy_err load_pem(const char *path, pem_parse_fn parse, void *out, struct fy_errmsg *em)
{
    char *pem;
    size_t len;
    fy_err rc = fy_pki_file_read(path, &pem, &len, em);
    if (rc) {
        return rc;
    }
    rc = parse(pem, len, out, em);
    OPENSSL_cleanse(pem, len);
    fy_free(pem);
    if (rc) {
        prefix_path(em, path);
    }
    return rc;
}

static fy_err parse_cert(const char *pem, size_t len, void *out, struct fy_errmsg *em)
{
    return fy_pki_cert_parse(pem, len, out, em);
}

static fy_err parse_key(const char *pem, size_t len, void *out, struct fy_errmsg *em)
{
    return fy_pki_key_parse(pem, len, out, em);
}

fy_err fy_pki_cert_load(const char *path, struct fy_pki_cert **out, struct fy_errmsg *em)
{
    *out = NULL;
    return load_pem(path, parse_cert, out, em);
}

fy_err fy_pki_key_load(const char *path, EVP_PKEY **out, struct fy_errmsg *em)
{
    *out = NULL;
    return load_pem(path, parse_key, out, em);
}

fy_err fy_pki_key_save(const char *path, EVP_PKEY *key, struct fy_errmsg *em)
{
    char *pem;
    fy_err rc = fy_pki_key_pem_new(key, &pem, em);
    if (rc) {
        return rc;
    }
    size_t len = strlen(pem);
    rc = fy_pki_file_write(path, pem, len, 0600, em);
    OPENSSL_cleanse(pem, len);
    fy_free(pem);
    return rc;
}

fy_err fy_pki_path(char *out, size_t cap, const char *dir, const char *name, struct fy_errmsg *em)
{
    int n = snprintf(out, cap, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= cap) {
        return fy_fail(em, FY_ERR_INTERNAL, "Path too long: %.200s/%s", dir, name);
    }
    return FY_ERR_OK;
}

bool fy_pki_file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 || errno != ENOENT;
}
