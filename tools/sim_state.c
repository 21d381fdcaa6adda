/* fleetyard-sim: the state directory it owns.
 *
 *   <dir>/devices.txt            one thing name per line, appended when a device is fully
 *                                provisioned (thing, certificate, principal, policy, groups)
 *   <dir>/certs/<thing>.thing    written before the thing is created (for cleanup)
 *   <dir>/certs/<thing>.crt|.key the device's certificate and private key (0600)
 *   <dir>/certs/<thing>.arn      its certificate ARN, written last (the certificate exists)
 *
 * Provisioning skips devices listed in devices.txt and reuses a certificate whose .arn exists,
 * so running it again (also after an interruption) creates nothing twice.
 */
#include "tools/sim_state.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "core/alloc.h"
#include "core/names.h"

int sim_state_path(const char *dir, const char *name, const char *ext, char *out, size_t size)
{
    int n = ext ? snprintf(out, size, "%s/certs/%s.%s", dir, name, ext)
                : snprintf(out, size, "%s/%s", dir, name);
    return n > 0 && (size_t)n < size ? 0 : -1;
}

int sim_state_open(const char *dir)
{
    char certs[4096];
    if (sim_state_path(dir, "certs", NULL, certs, sizeof(certs))) {
        return -1;
    }
    if ((mkdir(dir, 0700) != 0 && errno != EEXIST) ||
        (mkdir(certs, 0700) != 0 && errno != EEXIST)) {
        fprintf(stderr, "fleetyard-sim: cannot create %s: %s\n", certs, strerror(errno));
        return -1;
    }
    return 0;
}

int sim_names_add(struct sim_names *l, const char *name)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 256;
        char(*v)[SIM_NAME_MAX] = fy_realloc(l->v, cap * sizeof(*v));
        if (!v) {
            return -1;
        }
        l->v = v;
        l->cap = cap;
    }
    memcpy(l->v[l->n++], name, strlen(name) + 1);
    return 0;
}

int sim_state_load(const char *dir, struct sim_names *l)
{
    char path[4096], line[512];
    memset(l, 0, sizeof(*l));
    if (sim_state_path(dir, "devices.txt", NULL, path, sizeof(path))) {
        return -1;
    }
    FILE *f = fopen(path, "r");
    if (!f) {
        return errno == ENOENT ? 0 : -1;
    }
    int rc = 0;
    while (rc == 0 && fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (fy_valid_thing_name(line)) {
            rc = sim_names_add(l, line);
        }
    }
    fclose(f);
    return rc;
}

bool sim_names_has(const struct sim_names *l, const char *name)
{
    for (size_t i = 0; i < l->n; i++) {
        if (strcmp(l->v[i], name) == 0) {
            return true;
        }
    }
    return false;
}

void sim_names_free(struct sim_names *l)
{
    FY_FREE(l->v);
    l->n = l->cap = 0;
}

int sim_state_mark_done(const char *dir, const char *name)
{
    char path[4096];
    if (sim_state_path(dir, "devices.txt", NULL, path, sizeof(path))) {
        return -1;
    }
    FILE *f = fopen(path, "a");
    if (!f) {
        return -1;
    }
    int rc = fprintf(f, "%s\n", name) > 0 ? 0 : -1;
    return fclose(f) == 0 ? rc : -1;
}

int sim_state_rewrite(const char *dir, const struct sim_names *keep)
{
    char path[4096], tmp[4200];
    if (sim_state_path(dir, "devices.txt", NULL, path, sizeof(path))) {
        return -1;
    }
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; i < keep->n && rc == 0; i++) {
        rc = fprintf(f, "%s\n", keep->v[i]) > 0 ? 0 : -1;
    }
    if (fclose(f) != 0 || rc != 0) {
        return -1;
    }
    return rename(tmp, path);
}

int sim_write_file(const char *path, const char *text, int mode)
{
    char tmp[4200];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        return -1;
    }
    chmod(tmp, (mode_t)mode);
    int rc = fputs(text, f) >= 0 ? 0 : -1;
    if (fclose(f) != 0 || rc != 0) {
        return -1;
    }
    return rename(tmp, path);
}

int sim_read_line(const char *path, char *out, size_t size)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        return -1;
    }
    int rc = fgets(out, (int)size, f) ? 0 : -1;
    fclose(f);
    out[strcspn(out, "\r\n")] = '\0';
    return rc;
}
