/* Fuzzes the jobs device protocol and the job configuration parser. The first input byte picks
 * the operation (get, start-next, <jobId>/get, <jobId>/update), the job id ("$next", a real
 * job, an unknown one) and whether the namespaced topic (namespace "ns1") is used; the rest is the
 * request payload, also read as a CreateJob body by the configuration parser and the
 * documentParameters rules, and as a job document and a URL to the presigned-URL substitution. A
 * temp database holds a thing with two released jobs; every few inputs the engine runs. Checks,
 * besides memory safety: an accepted answer is a JSON object with a timestamp; a rejection is a
 * JSON object with a code; state changes keep versions increasing. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/db.h"
#include "core/json.h"
#include "core/log.h"
#include "jobs/jobs.h"
#include "registry/registry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_NOW 1.8e9

static struct fy_db *fz_db;
static const struct fy_site FZ_SITE = {"us-east-1", "123456789012"};

static void fz_job(const char *id)
{
    char arn[256];
    struct fy_errmsg em;
    json_t *j = json_pack("{s:[s], s:s}", "targets", "arn:aws:iot:us-east-1:123456789012:thing/t1",
                          "document", "{\"a\":1}");
    if (!j ||
        fy_job_create(fz_db, &FZ_SITE, id, j, FZ_NOW, arn, sizeof(arn), NULL, &em) != FY_ERR_OK) {
        abort();
    }
    json_decref(j);
}

static void fz_init(void)
{
    char path[] = "/tmp/fy-fuzz-jobs-XXXXXX";
    struct fy_errmsg em;
    struct fy_thing_spec spec = {"t1", NULL, NULL, NULL};
    struct fy_thing_created created;
    struct fy_jobs_changed c = {0, 0, NULL};
    int fd = mkstemp(path);
    close(fd);
    fy_json_init();
    fy_log_threshold = FY_LOG_ERROR;
    if (fy_db_open(path, &fz_db, &em) != FY_ERR_OK || fy_db_migrate(fz_db, &em) != FY_ERR_OK ||
        fy_thing_create(fz_db, &FZ_SITE, &spec, &created, &em) != FY_ERR_OK) {
        abort();
    }
    unlink(path); /* the open connection keeps it */
    fz_job("j1");
    fz_job("j2");
    if (fy_jobs_tick(fz_db, FZ_NOW, &c, &em) != FY_ERR_OK) {
        abort();
    }
    fy_jobs_changed_clear(&c);
}

/* text is JSON (an object with member, when member is given). */
static void fz_check_json(const char *text, const char *member)
{
    json_t *j = text ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;
    if (!j || (member && (!json_is_object(j) || !json_object_get(j, member)))) {
        abort();
    }
    json_decref(j);
}

static fy_err fz_device(int op,
                        const char *job,
                        const char *ns,
                        const char *p,
                        size_t n,
                        struct fy_jobs_reply *r,
                        struct fy_errmsg *em)
{
    switch (op) {
    case 0:
        return fy_jobs_get_pending(fz_db, "t1", p, n, FZ_NOW, r, em);
    case 1:
        return fy_jobs_start_next(fz_db, "t1", p, n, FZ_NOW, r, em);
    case 2:
        return fy_jobs_describe(fz_db, "t1", job, ns, p, n, FZ_NOW, r, em);
    default:
        return fy_jobs_update(fz_db, "t1", job, ns, p, n, FZ_NOW, r, em);
    }
}

static void fz_config(const char *p, size_t n)
{
    struct fy_job_config c;
    struct fy_errmsg em;
    json_t *j = json_loadb(p, n, 0, NULL);
    if (j && fy_job_config_parse(j, FZ_NOW, true, &c, &em) == FY_ERR_OK) {
        struct fy_rollout_counts rc = {100, 1, 1, 5, 3, 7};
        if (fy_rollout_quota(&c, &rc) < 0 || fy_rollout_quota(&c, &rc) > rc.unreleased ||
            fy_rollout_late_quota(&c, &rc) < 0 || fy_rollout_late_quota(&c, &rc) > 7) {
            abort();
        }
    }
    if (j) { /* documentParameters rules on any map */
        (void)fy_jobs_params_check(json_object_get(j, "documentParameters"), &em);
    }
    json_decref(j);
}

/* Presigned URL placeholders: the payload as a job document, and as one URL. */
static void fz_presign(const char *p, size_t n)
{
    static const struct fy_presign_key k = {"AKIDEXAMPLE", "secret", "us-east-1"};
    struct fy_errmsg em;
    char *text = fy_strndup(p, n), *out = NULL;
    if (!text) {
        return;
    }
    if (fy_jobs_presign_doc(text, &k, 60, (int64_t)FZ_NOW, &out, &em) == FY_ERR_OK) {
        fz_check_json(out, NULL);
    }
    fy_free(out);
    out = NULL;
    if (fy_jobs_presign_url(text, &k, 3600, (int64_t)FZ_NOW, &out) == FY_ERR_OK &&
        !strstr(out, "X-Amz-Signature=")) {
        abort();
    }
    fy_free(out);
    fy_free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const JOBS[] = {"$next", "j1", "j2", "nope"};
    static unsigned calls;
    struct fy_jobs_reply r;
    struct fy_errmsg em = {""};
    if (!fz_db) {
        fz_init();
    }
    if (size == 0) {
        return 0;
    }
    const char *p = (const char *)data + 1;
    size_t n = size - 1;
    fy_err e = fz_device(data[0] & 3, JOBS[(data[0] >> 2) & 3], (data[0] & 16) ? "ns1" : NULL, p, n,
                         &r, &em);
    if (e == FY_ERR_OK) {
        fz_check_json(r.payload, "timestamp");
    } else {
        char *rej = fy_jobs_rejection(&r, e, em.msg, FZ_NOW);
        fz_check_json(rej, "code");
        fy_free(rej);
    }
    fy_jobs_reply_clear(&r);
    fz_config(p, n);
    fz_presign(p, n);
    if (++calls % 64 == 0) {
        struct fy_jobs_changed c = {0, 0, NULL};
        if (fy_jobs_tick(fz_db, FZ_NOW + calls, &c, &em) != FY_ERR_OK) {
            abort();
        }
        fy_jobs_changed_clear(&c);
    }
    return 0;
}
