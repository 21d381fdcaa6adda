#include "server/datadir.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "operators/operators.h"

const char *fy_datadir_path(const struct fy_config *cfg, const char *name, char *buf, size_t n)
{
    snprintf(buf, n, "%s/%s", cfg->data_dir, name);
    return buf;
}

fy_err fy_datadir_prepare(const struct fy_config *cfg, struct fy_errmsg *em)
{
    if (mkdir(cfg->data_dir, 0700) != 0 && errno != EEXIST) {
        return fy_fail(em, FY_ERR_INTERNAL, "cannot create data directory %.200s: %s",
                       cfg->data_dir, strerror(errno));
    }
    return FY_ERR_OK;
}

fy_err fy_datadir_lock(const struct fy_config *cfg, int *fd, struct fy_errmsg *em)
{
    char path[FY_PATH_MAX + 32], pid[32] = "";
    fy_datadir_path(cfg, "fleetyard.lock", path, sizeof(path));
    *fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (*fd < 0) {
        return fy_fail(em, FY_ERR_INTERNAL, "cannot open %.200s: %s", path, strerror(errno));
    }
    if (flock(*fd, LOCK_EX | LOCK_NB) != 0) {
        ssize_t n = read(*fd, pid, sizeof(pid) - 1);
        pid[n > 0 ? n : 0] = '\0';
        pid[strcspn(pid, "\n")] = '\0';
        close(*fd);
        *fd = -1;
        return fy_fail(em, FY_ERR_CONFLICT,
                       "data directory %.200s is in use by another process (pid %s: a running "
                       "fleetyard-server or a restore)",
                       cfg->data_dir, pid[0] ? pid : "unknown");
    }
    int len = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
    /* The pid only helps a person reading the error above; the flock is what counts. */
    bool wrote = ftruncate(*fd, 0) == 0 && pwrite(*fd, pid, (size_t)len, 0) == len;
    (void)wrote;
    return FY_ERR_OK;
}

void fy_datadir_unlock(int fd)
{
    if (fd >= 0) {
        close(fd);
    }
}

/* Writes text to path atomically (temp file + rename) with the given mode. */
static fy_err write_atomic(const char *path, const char *text, mode_t mode, struct fy_errmsg *em)
{
    char tmp[FY_PATH_MAX + 16];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, mode);
    if (fd < 0) {
        return fy_fail(em, FY_ERR_INTERNAL, "cannot write %.200s: %s", tmp, strerror(errno));
    }
    size_t len = strlen(text);
    ssize_t w = write(fd, text, len);
    int ok = w == (ssize_t)len && fsync(fd) == 0;
    close(fd);
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return fy_fail(em, FY_ERR_INTERNAL, "cannot write %.200s", path);
    }
    return FY_ERR_OK;
}

fy_err
fy_datadir_write_file(const char *path, const char *text, unsigned mode, struct fy_errmsg *em)
{
    return write_atomic(path, text, (mode_t)mode, em);
}

static fy_err generate_credentials(const char *path, struct fy_credentials *c, struct fy_errmsg *em)
{
    char text[128];
    _Static_assert(FY_ACCESS_KEY_LEN == FY_OPERATOR_KEY_ID_LEN, "same key id form");
    _Static_assert(FY_SECRET_KEY_LEN == FY_OPERATOR_SECRET_LEN, "same secret form");
    fy_err e = fy_operator_new_key(c->access_key, c->secret_key, em);
    if (e) {
        return e;
    }
    snprintf(text, sizeof(text), "%s\n%s\n", c->access_key, c->secret_key);
    return write_atomic(path, text, 0600, em);
}

fy_err fy_datadir_credentials(const struct fy_config *cfg,
                              struct fy_credentials *out,
                              struct fy_errmsg *em)
{
    char path[FY_PATH_MAX + 32];
    fy_datadir_path(cfg, "credentials", path, sizeof(path));
    FILE *f = fopen(path, "r");
    if (!f) {
        return generate_credentials(path, out, em);
    }
    char ak[64] = "", sk[128] = "";
    int ok = fgets(ak, sizeof(ak), f) && fgets(sk, sizeof(sk), f);
    fclose(f);
    ak[strcspn(ak, "\r\n")] = '\0';
    sk[strcspn(sk, "\r\n")] = '\0';
    if (!ok || strlen(ak) != FY_ACCESS_KEY_LEN || strlen(sk) != FY_SECRET_KEY_LEN) {
        return fy_fail(em, FY_ERR_INTERNAL, "%.200s is malformed (two lines: key id, secret)",
                       path);
    }
    memcpy(out->access_key, ak, FY_ACCESS_KEY_LEN + 1);
    memcpy(out->secret_key, sk, FY_SECRET_KEY_LEN + 1);
    return FY_ERR_OK;
}

fy_err fy_datadir_write_env(const struct fy_config *cfg,
                            const struct fy_credentials *creds,
                            uint16_t http_port,
                            uint16_t mqtt_port,
                            struct fy_errmsg *em)
{
    char path[FY_PATH_MAX + 32], ca[PATH_MAX + 32], abs_dir[PATH_MAX];
    char text[4 * PATH_MAX + 1024];
    const char *dir = realpath(cfg->data_dir, abs_dir) ? abs_dir : cfg->data_dir;
    const char *host = strcmp(cfg->http_bind, "0.0.0.0") == 0 ? "127.0.0.1" : cfg->http_bind;
    snprintf(ca, sizeof(ca), "%s/pki/ca.crt", dir);
    snprintf(text, sizeof(text),
             "# written by fleetyard-server; source it: . %s/env.sh\n"
             "export FLEETYARD_ENDPOINT='http://%s:%u'\n"
             "export FLEETYARD_MQTT_HOST='%s'\n"
             "export FLEETYARD_MQTT_PORT='%u'\n"
             "export FLEETYARD_ROOT_CA='%s'\n"
             "export AWS_ACCESS_KEY_ID='%s'\n"
             "export AWS_SECRET_ACCESS_KEY='%s'\n"
             "export AWS_DEFAULT_REGION='%s'\n",
             dir, host, http_port, cfg->mqtt_host, mqtt_port, ca, creds->access_key,
             creds->secret_key, cfg->site.region);
    return write_atomic(fy_datadir_path(cfg, "env.sh", path, sizeof(path)), text, 0600, em);
}

uint16_t fy_pick_free_port(void)
{
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        return 0;
    }
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    uint16_t port = 0;
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0) {
        port = ntohs(a.sin_port);
    }
    close(fd);
    return port;
}
