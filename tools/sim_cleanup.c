/* fleetyard-sim: mode cleanup, the reverse of provision (sim_provision.c).
 *
 * For every device provisioning started in --state DIR (certs/<thing>.thing or .arn):
 * DetachPolicy (--policy), DetachThingPrincipal, UpdateCertificate INACTIVE, DeleteCertificate,
 * DeleteThing (only DeleteThing when it never got a certificate); then the device's files, and
 * devices.txt is rewritten without it. Already-gone resources (404) count
 * as done, so cleanup can be repeated. The policy, thing type and groups are left in place.
 */
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/json.h"
#include "tools/sim.h"
#include "tools/sim_api.h"
#include "tools/sim_state.h"

#define PATH_MAX_ 4096

static const int OK_GONE[] = {200, 404, 0};

static int call(struct sim_api *a, const struct sim_http_req *r)
{
    return sim_api_expect(a, r, OK_GONE, NULL);
}

static int detach(struct sim_api *a, const struct sim_opts *o, const char *enc, const char *arn)
{
    char path[600], pol[512];
    sim_pct_encode(o->policy, false, pol, sizeof(pol));
    snprintf(path, sizeof(path), "/target-policies/%s", pol);
    json_t *b = json_pack("{s:s}", "target", arn);
    char *body = b ? fy_json_dump(b) : NULL;
    json_decref(b);
    struct sim_http_req r = {.method = "POST", .path = path, .body = body};
    int rc = body ? call(a, &r) : -1;
    fy_free(body);
    snprintf(path, sizeof(path), "/things/%s/principals", enc);
    struct sim_http_req d = {
        .method = "DELETE", .path = path, .hdr_name = "x-amzn-principal", .hdr_value = arn};
    return rc == 0 ? call(a, &d) : -1;
}

static int delete_cert_and_thing(struct sim_api *a, const char *enc, const char *arn)
{
    char path[600];
    const char *id = strstr(arn, ":cert/");
    if (!id) {
        return -1;
    }
    snprintf(path, sizeof(path), "/certificates/%s", id + 6);
    struct sim_http_req r = {.method = "PUT", .path = path, .query = "newStatus=INACTIVE"};
    struct sim_http_req d = {.method = "DELETE", .path = path};
    if (call(a, &r) || call(a, &d)) {
        return -1;
    }
    snprintf(path, sizeof(path), "/things/%s", enc);
    struct sim_http_req t = {.method = "DELETE", .path = path};
    return call(a, &t);
}

static void remove_files(const char *dir, const char *name)
{
    static const char *const exts[] = {"crt", "key", "arn", "thing"};
    char path[PATH_MAX_];
    for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
        if (sim_state_path(dir, name, exts[i], path, sizeof(path)) == 0) {
            unlink(path);
        }
    }
}

static int cleanup_one(struct sim_api *a, const struct sim_opts *o, const char *name)
{
    char arn_path[PATH_MAX_], arn[1024], enc[3 * SIM_NAME_MAX], path[600];
    if (sim_state_path(o->state_dir, name, "arn", arn_path, sizeof(arn_path)) ||
        sim_pct_encode(name, false, enc, sizeof(enc))) {
        return -1;
    }
    if (sim_read_line(arn_path, arn, sizeof(arn)) != 0) { /* stopped before its certificate */
        snprintf(path, sizeof(path), "/things/%s", enc);
        struct sim_http_req t = {.method = "DELETE", .path = path};
        if (call(a, &t)) {
            return -1;
        }
    } else if (detach(a, o, enc, arn) || delete_cert_and_thing(a, enc, arn)) {
        return -1;
    }
    remove_files(o->state_dir, name);
    return 0;
}

/* Adds the names of certs/<name><ext> files to l (once each). */
static int list_ext(DIR *d, const char *ext, struct sim_names *l)
{
    size_t k = strlen(ext);
    rewinddir(d);
    for (struct dirent *e = readdir(d); e; e = readdir(d)) {
        size_t n = strlen(e->d_name);
        if (n > k && n - k < SIM_NAME_MAX && strcmp(e->d_name + n - k, ext) == 0) {
            e->d_name[n - k] = '\0';
            if (!sim_names_has(l, e->d_name) && sim_names_add(l, e->d_name)) {
                return -1;
            }
        }
    }
    return 0;
}

/* Names of the devices provisioning started (certs/<name>.thing, written before CreateThing)
 * or that have a certificate (certs/<name>.arn). */
static int list_devices(const char *dir, struct sim_names *l)
{
    char path[PATH_MAX_];
    memset(l, 0, sizeof(*l));
    if (sim_state_path(dir, "certs", NULL, path, sizeof(path))) {
        return -1;
    }
    DIR *d = opendir(path);
    if (!d) {
        return 0;
    }
    int rc = list_ext(d, ".thing", l) || list_ext(d, ".arn", l) ? -1 : 0;
    closedir(d);
    return rc;
}

int sim_mode_cleanup(const struct sim_opts *o)
{
    struct sim_api a;
    struct sim_names certs = {0}, left = {0};
    unsigned removed = 0, failed = 0;
    uint64_t t0 = sim_now(), last = 0;
    if (!o->state_dir) {
        fprintf(stderr, "fleetyard-sim: --state DIR is required\n");
        return 2;
    }
    if (sim_api_init(&a, o->endpoint, o->region) || list_devices(o->state_dir, &certs)) {
        return 2;
    }
    for (size_t i = 0; i < certs.n && !sim_stop_requested; i++) {
        if (cleanup_one(&a, o, certs.v[i]) == 0) {
            removed++;
        } else if (failed++, sim_names_add(&left, certs.v[i])) {
            break;
        }
        sim_progress(o, "removed", i + 1, certs.n, t0, &last, false);
    }
    sim_progress(o, "removed", removed, certs.n, t0, &last, true);
    int rc = sim_state_rewrite(o->state_dir, &left) == 0 && failed == 0 ? 0 : 1;
    if (o->json) {
        sim_report_json(json_pack("{s:s, s:I, s:I, s:f}", "mode", "cleanup", "removed",
                                  (json_int_t)removed, "failed", (json_int_t)failed, "seconds",
                                  (double)(sim_now() - t0) / 1e9));
    } else {
        printf("cleanup: %u devices removed, %u failed\n", removed, failed);
    }
    sim_api_close(&a);
    sim_names_free(&certs);
    sim_names_free(&left);
    return rc;
}
